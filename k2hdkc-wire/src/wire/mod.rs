//! The k2hdkc messages (spec §3.2), byte for byte as the original builds them: a packed fixed
//! structure (the 40-byte `DKCCOM_HEAD`, then the command's fields) followed by its variable
//! items packed back to back in field order; every item is an (offset, length) pair of u64
//! with the offset counted from the start of the message; an absent item has length 0 and
//! an offset past the items before it. Integers are little-endian (the original sends its
//! host order, x86-64), `bool` one byte, `struct timespec` two i64.
//!
//! Each structure is declared once with its size and the offset of every field
//! ([`message!`]); encoding and decoding are generated from that declaration, so a field's
//! offset is written in one place. Decoding is strict: the command type must be known, the
//! head's length must not exceed the bytes received (the original trusts it) nor be shorter
//! than the structure, and every item must lie inside the message. A hostile message is an
//! error, never a panic or an allocation of a claimed size.

mod consts;

/// The commit libk2hdkc and the k2hdkc server name in their banners (`k2hdkc_commit_hash`).
pub const COMMIT: &str = "rust";
/// The version of the original k2hdkc this one stands in for.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The k2hdkc version banner, laid out like the original's.
pub fn version_banner() -> String {
    format!(
        "\nK2hdkc Version {VERSION} (commit: {COMMIT})\n\n\
         Copyright(C) 2016 Yahoo Japan Corporation.\n\n\
         K2HDKC is k2hash based distributed KVS cluster.\n\
         K2HDKC uses K2HASH, CHMPX, FULLOCK libraries. K2HDKC supports\n\
         distributed KVS cluster server program and client libraries.\n\n"
    )
}
pub use consts::*;

#[cfg(test)]
mod tests;

/// Size of `DKCCOM_HEAD`.
pub const HEAD_SIZE: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("message shorter than its head ({0} bytes)")]
    Short(usize),
    #[error("unknown command type {0}")]
    UnknownType(u64),
    #[error("command type {0} has no request on the wire")]
    NoRequest(u64),
    #[error(
        "head length {head} does not match the {got} bytes received or the {need}-byte structure"
    )]
    Length { head: u64, got: usize, need: usize },
    #[error("item at {offset}+{length} lies outside the {total}-byte message")]
    Item {
        offset: u64,
        length: u64,
        total: usize,
    },
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// `DKCCOM_HEAD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    pub comtype: u64,
    /// `DKC_NORESTYPE` in requests, a composed result code in responses.
    pub restype: u64,
    pub comnumber: u64,
    pub dispcomnumber: u64,
    /// Total length of the message, head included.
    pub length: u64,
}

impl Head {
    /// The head of a request (`restype` = no response yet).
    pub fn request(comtype: u64, comnumber: u64) -> Head {
        Head {
            comtype,
            restype: DKC_NORESTYPE,
            comnumber,
            dispcomnumber: 0,
            length: 0,
        }
    }

    /// The head of the response to `req` with result `restype`.
    pub fn response(req: &Head, restype: u64, dispcomnumber: u64) -> Head {
        Head {
            comtype: req.comtype,
            restype,
            comnumber: req.comnumber,
            dispcomnumber,
            length: 0,
        }
    }

    pub fn is_response(&self) -> bool {
        self.restype != DKC_NORESTYPE
    }
}

/// `struct timespec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ts {
    pub sec: i64,
    pub nsec: i64,
}

fn rd8(b: &[u8], off: usize) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    a
}

/// Writing a structure: its fixed part and the items after it.
struct Out {
    fixed: Vec<u8>,
    items: Vec<u8>,
}

impl Out {
    fn u64(&mut self, off: usize, v: u64) {
        self.fixed[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }
    fn bool(&mut self, off: usize, v: bool) {
        self.fixed[off] = v as u8;
    }
    fn ts(&mut self, off: usize, v: Ts) {
        self.u64(off, v.sec as u64);
        self.u64(off + 8, v.nsec as u64);
    }
    fn bin(&mut self, off: usize, v: &[u8]) {
        let at = (self.fixed.len() + self.items.len()) as u64;
        self.u64(off, at);
        self.u64(off + 8, v.len() as u64);
        self.items.extend_from_slice(v);
    }
    fn raw(&mut self, off: usize, v: &[u8], size: usize) {
        let n = v.len().min(size);
        self.fixed[off..off + n].copy_from_slice(&v[..n]);
    }
}

/// Reading a structure from a message of `total` bytes (already checked to hold it).
struct In<'a> {
    b: &'a [u8],
}

impl In<'_> {
    fn u64(&self, off: usize) -> u64 {
        u64::from_le_bytes(rd8(self.b, off))
    }
    fn bool(&self, off: usize) -> bool {
        self.b[off] != 0
    }
    fn ts(&self, off: usize) -> Ts {
        Ts {
            sec: self.u64(off) as i64,
            nsec: self.u64(off + 8) as i64,
        }
    }
    fn bin(&self, off: usize) -> Result<Vec<u8>, WireError> {
        let (offset, length) = (self.u64(off), self.u64(off + 8));
        if length == 0 {
            return Ok(Vec::new());
        }
        let total = self.b.len();
        let end = offset.checked_add(length);
        match end {
            Some(end) if offset >= HEAD_SIZE as u64 && end <= total as u64 => {
                Ok(self.b[offset as usize..end as usize].to_vec())
            }
            _ => Err(WireError::Item {
                offset,
                length,
                total,
            }),
        }
    }
    fn raw(&self, off: usize, size: usize) -> Vec<u8> {
        self.b[off..off + size].to_vec()
    }
}

/// A message structure: its size and how its fields are written and read.
pub trait Layout: Sized {
    /// `sizeof` of the packed structure, head included.
    const SIZE: usize;
    #[doc(hidden)]
    fn put(&self, o: &mut OutRef<'_>);
    #[doc(hidden)]
    fn get(i: &InRef<'_>) -> Result<Self, WireError>;
}

#[doc(hidden)]
pub struct OutRef<'a>(&'a mut Out);
#[doc(hidden)]
pub struct InRef<'a>(In<'a>);

macro_rules! field_type {
    (bin) => { Vec<u8> };
    (u64) => { u64 };
    (i64) => { i64 };
    (bool) => { bool };
    (ts) => { Ts };
    (raw $n:expr) => { Vec<u8> };
}

macro_rules! put_field {
    (bin, $o:expr, $off:expr, $v:expr) => {
        $o.0.bin($off, $v)
    };
    (u64, $o:expr, $off:expr, $v:expr) => {
        $o.0.u64($off, *$v)
    };
    (i64, $o:expr, $off:expr, $v:expr) => {
        $o.0.u64($off, *$v as u64)
    };
    (bool, $o:expr, $off:expr, $v:expr) => {
        $o.0.bool($off, *$v)
    };
    (ts, $o:expr, $off:expr, $v:expr) => {
        $o.0.ts($off, *$v)
    };
    (raw $n:expr, $o:expr, $off:expr, $v:expr) => {
        $o.0.raw($off, $v, $n)
    };
}

macro_rules! get_field {
    (bin, $i:expr, $off:expr) => {
        $i.0.bin($off)?
    };
    (u64, $i:expr, $off:expr) => {
        $i.0.u64($off)
    };
    (i64, $i:expr, $off:expr) => {
        $i.0.u64($off) as i64
    };
    (bool, $i:expr, $off:expr) => {
        $i.0.bool($off)
    };
    (ts, $i:expr, $off:expr) => {
        $i.0.ts($off)
    };
    (raw $n:expr, $i:expr, $off:expr) => {
        $i.0.raw($off, $n)
    };
}

/// Declares a message structure: `Name = SIZE { field: kind @ offset, ... }` (fields in the
/// order the original packs the items).
macro_rules! message {
    ($(#[$m:meta])* $name:ident = $size:literal { $($field:ident : $kind:ident $($n:literal)? @ $off:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $(pub $field: field_type!($kind $($n)?),)*
        }
        impl Layout for $name {
            const SIZE: usize = $size;
            #[allow(unused_variables)]
            fn put(&self, o: &mut OutRef<'_>) {
                $(put_field!($kind $($n)?, o, $off, &self.$field);)*
            }
            #[allow(unused_variables)]
            fn get(i: &InRef<'_>) -> Result<Self, WireError> {
                Ok($name { $($field: get_field!($kind $($n)?, i, $off),)* })
            }
        }
    };
}

// ---- requests (spec §3.2; sizes and offsets verified against the original's structures)

message!(/// DKCCOM_GET
    GetReq = 73 { key: bin @ 40, encpass: bin @ 56, check_attr: bool @ 72 });
message!(/// DKCCOM_GET_DIRECT
    GetDirectReq = 72 { key: bin @ 40, val_length: u64 @ 56, val_pos: i64 @ 64 });
message!(/// DKCCOM_GET_SUBKEYS
    GetSubkeysReq = 57 { key: bin @ 40, check_attr: bool @ 56 });
message!(/// DKCCOM_GET_ATTRS
    GetAttrsReq = 56 { key: bin @ 40 });
message!(/// DKCCOM_GET_ATTR
    GetAttrReq = 72 { key: bin @ 40, attr: bin @ 56 });
message!(/// DKCCOM_SET
SetReq = 122 {
    key: bin @ 40, val: bin @ 56, attrs: bin @ 72, encpass: bin @ 88, expire: i64 @ 104,
    enable_expire: bool @ 112, rm_subkeylist: bool @ 113, queue_type: u64 @ 114
});
message!(/// DKCCOM_SET_DIRECT
    SetDirectReq = 80 { key: bin @ 40, val: bin @ 56, val_pos: i64 @ 72 });
message!(/// DKCCOM_SET_SUBKEYS
    SetSubkeysReq = 72 { key: bin @ 40, subkeys: bin @ 56 });
message!(/// DKCCOM_SET_ALL
    SetAllReq = 104 { key: bin @ 40, val: bin @ 56, subkeys: bin @ 72, attrs: bin @ 88 });
message!(/// DKCCOM_ADD_SUBKEYS
    AddSubkeysReq = 73 { key: bin @ 40, subkey: bin @ 56, check_attr: bool @ 72 });
message!(/// DKCCOM_DEL
    DelReq = 56 { key: bin @ 40 });
message!(/// DKCCOM_DEL_SUBKEYS
    DelSubkeysReq = 73 { key: bin @ 40, subkey: bin @ 56, check_attr: bool @ 72 });
message!(/// DKCCOM_REN
    RenReq = 89 { oldkey: bin @ 40, newkey: bin @ 56, encpass: bin @ 72, check_attr: bool @ 88 });
message!(/// DKCCOM_QPUSH (`is_fifo` @40 is never set by the original client: the server reads
/// `fifo` @131; we write both)
QpushReq = 132 {
    is_fifo: bool @ 40, prefix: bin @ 41, key: bin @ 57, val: bin @ 73, attrs: bin @ 89,
    encpass: bin @ 105, expire: i64 @ 121, enable_expire: bool @ 129, check_attr: bool @ 130,
    fifo: bool @ 131
});
message!(/// DKCCOM_QPOP (`check_attr` is never set by the original client)
    QpopReq = 75 { prefix: bin @ 40, encpass: bin @ 56, check_attr: bool @ 72, fifo: bool @ 73, keyqueue: bool @ 74 });
message!(/// DKCCOM_CAS_INIT
    CasInitReq = 97 { key: bin @ 40, val: bin @ 56, encpass: bin @ 72, expire: i64 @ 88, enable_expire: bool @ 96 });
message!(/// DKCCOM_CAS_GET
    CasGetReq = 73 { key: bin @ 40, encpass: bin @ 56, check_attr: bool @ 72 });
message!(/// DKCCOM_CAS_SET
CasSetReq = 114 {
    key: bin @ 40, oldval: bin @ 56, newval: bin @ 72, encpass: bin @ 88, expire: i64 @ 104,
    enable_expire: bool @ 112, check_attr: bool @ 113
});
message!(/// DKCCOM_CAS_INCDEC
CasIncDecReq = 83 {
    key: bin @ 40, encpass: bin @ 56, expire: i64 @ 72, enable_expire: bool @ 80,
    check_attr: bool @ 81, increment: bool @ 82
});
message!(/// DKCCOM_REPL_KEY (server to server)
ReplKeyReq = 136 {
    hash: u64 @ 40, subhash: u64 @ 48, key: bin @ 56, val: bin @ 72, subkeys: bin @ 88,
    attrs: bin @ 104, ts: ts @ 120
});
message!(/// DKCCOM_K2HSTATE
    K2hStateReq = 56 { chmpxid: u64 @ 40, base_hash: u64 @ 48 });
message!(/// DKCCOM_REPL_DEL (server to server)
    ReplDelReq = 88 { hash: u64 @ 40, subhash: u64 @ 48, key: bin @ 56, ts: ts @ 72 });

// ---- responses

message!(/// DKCRES_GET, DKCRES_GET_DIRECT, DKCRES_CAS_GET
    ValRes = 56 { val: bin @ 40 });
message!(/// DKCRES_GET_SUBKEYS
    SubkeysRes = 56 { subkeys: bin @ 40 });
message!(/// DKCRES_GET_ATTRS
    AttrsRes = 56 { attrs: bin @ 40 });
message!(/// DKCRES_GET_ATTR
    AttrValRes = 56 { attrval: bin @ 40 });
message!(/// DKCRES_QPOP
    QpopRes = 72 { key: bin @ 40, val: bin @ 56 });
message!(/// DKCRES_K2HSTATE: one DKC_NODESTATE (1333 bytes) inline
    K2hStateRes = 1373 { nodestate: raw 1333 @ 40 });
message!(/// Every response that is the bare head (SET, DEL, REPL_KEY, ...)
    BareRes = 40 {});

/// DKCRES_STATE (built by the client from K2HSTATE answers; never on the wire in the
/// original, decoded for completeness): `states_offset @40, states_count @48`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateRes {
    /// `states_count` DKC_NODESTATE records of [`NODESTATE_SIZE`] bytes.
    pub states: Vec<Vec<u8>>,
}

/// The body of a message, by command type and direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Get(GetReq),
    GetDirect(GetDirectReq),
    GetSubkeys(GetSubkeysReq),
    GetAttrs(GetAttrsReq),
    GetAttr(GetAttrReq),
    Set(SetReq),
    SetDirect(SetDirectReq),
    SetSubkeys(SetSubkeysReq),
    SetAll(SetAllReq),
    AddSubkeys(AddSubkeysReq),
    Del(DelReq),
    DelSubkeys(DelSubkeysReq),
    Ren(RenReq),
    Qpush(QpushReq),
    Qpop(QpopReq),
    CasInit(CasInitReq),
    CasGet(CasGetReq),
    CasSet(CasSetReq),
    CasIncDec(CasIncDecReq),
    ReplKey(ReplKeyReq),
    K2hState(K2hStateReq),
    ReplDel(ReplDelReq),
    /// Responses.
    Val(ValRes),
    Subkeys(SubkeysRes),
    Attrs(AttrsRes),
    AttrVal(AttrValRes),
    QpopAnswer(QpopRes),
    K2hStateAnswer(K2hStateRes),
    State(StateRes),
    Bare,
}

/// One message: head and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub head: Head,
    pub body: Body,
}

fn encode_layout<L: Layout>(head: &Head, l: &L) -> Vec<u8> {
    let mut out = Out {
        fixed: vec![0u8; L::SIZE],
        items: Vec::new(),
    };
    l.put(&mut OutRef(&mut out));
    finish(head, out)
}

/// Writes the head (with the total length) and joins the fixed part and the items.
fn finish(head: &Head, mut out: Out) -> Vec<u8> {
    let length = (out.fixed.len() + out.items.len()) as u64;
    out.u64(0, head.comtype);
    out.u64(8, head.restype);
    out.u64(16, head.comnumber);
    out.u64(24, head.dispcomnumber);
    out.u64(32, length);
    let mut v = out.fixed;
    v.extend_from_slice(&out.items);
    v
}

fn decode_layout<L: Layout>(b: &[u8]) -> Result<L, WireError> {
    if b.len() < L::SIZE {
        return Err(WireError::Length {
            head: b.len() as u64,
            got: b.len(),
            need: L::SIZE,
        });
    }
    L::get(&InRef(In { b }))
}

impl Message {
    /// The bytes of this message (the head's `length` is computed).
    pub fn encode(&self) -> Vec<u8> {
        let h = &self.head;
        match &self.body {
            Body::Get(m) => encode_layout(h, m),
            Body::GetDirect(m) => encode_layout(h, m),
            Body::GetSubkeys(m) => encode_layout(h, m),
            Body::GetAttrs(m) => encode_layout(h, m),
            Body::GetAttr(m) => encode_layout(h, m),
            Body::Set(m) => encode_layout(h, m),
            Body::SetDirect(m) => encode_layout(h, m),
            Body::SetSubkeys(m) => encode_layout(h, m),
            Body::SetAll(m) => encode_layout(h, m),
            Body::AddSubkeys(m) => encode_layout(h, m),
            Body::Del(m) => encode_layout(h, m),
            Body::DelSubkeys(m) => encode_layout(h, m),
            Body::Ren(m) => encode_layout(h, m),
            Body::Qpush(m) => encode_layout(h, m),
            Body::Qpop(m) => encode_layout(h, m),
            Body::CasInit(m) => encode_layout(h, m),
            Body::CasGet(m) => encode_layout(h, m),
            Body::CasSet(m) => encode_layout(h, m),
            Body::CasIncDec(m) => encode_layout(h, m),
            Body::ReplKey(m) => encode_layout(h, m),
            Body::K2hState(m) => encode_layout(h, m),
            Body::ReplDel(m) => encode_layout(h, m),
            Body::Val(m) => encode_layout(h, m),
            Body::Subkeys(m) => encode_layout(h, m),
            Body::Attrs(m) => encode_layout(h, m),
            Body::AttrVal(m) => encode_layout(h, m),
            Body::QpopAnswer(m) => encode_layout(h, m),
            Body::K2hStateAnswer(m) => encode_layout(h, m),
            Body::State(st) => {
                let mut out = Out {
                    fixed: vec![0u8; 56],
                    items: Vec::new(),
                };
                // `states_offset @40, states_count @48` (a count of records, not a length)
                out.u64(40, 56);
                out.u64(48, st.states.len() as u64);
                for r in &st.states {
                    out.items.extend_from_slice(&fixed_record(r));
                }
                finish(h, out)
            }
            Body::Bare => encode_layout(h, &BareRes::default()),
        }
    }

    /// Reads one message; `buf` is everything received for it.
    pub fn decode(buf: &[u8]) -> Result<Message, WireError> {
        if buf.len() < HEAD_SIZE {
            return Err(WireError::Short(buf.len()));
        }
        let i = In { b: buf };
        let head = Head {
            comtype: i.u64(0),
            restype: i.u64(8),
            comnumber: i.u64(16),
            dispcomnumber: i.u64(24),
            length: i.u64(32),
        };
        if head.comtype > DKC_COM_MAX {
            return Err(WireError::UnknownType(head.comtype));
        }
        let need = struct_size(head.comtype, head.is_response())
            .ok_or(WireError::NoRequest(head.comtype))?;
        if head.length > buf.len() as u64 || head.length < need as u64 {
            return Err(WireError::Length {
                head: head.length,
                got: buf.len(),
                need,
            });
        }
        let b = &buf[..head.length as usize];
        let body = if head.is_response() {
            decode_response(head.comtype, b)?
        } else {
            decode_request(head.comtype, b)?
        };
        Ok(Message { head, body })
    }
}

/// A NODESTATE record padded or cut to its fixed size.
fn fixed_record(r: &[u8]) -> Vec<u8> {
    let mut v = r.to_vec();
    v.resize(NODESTATE_SIZE, 0);
    v
}

/// `sizeof` of the structure of `comtype` in one direction (None: not on the wire).
pub fn struct_size(comtype: u64, response: bool) -> Option<usize> {
    Some(if response {
        match comtype {
            DKC_COM_GET | DKC_COM_GET_DIRECT | DKC_COM_CAS_GET => ValRes::SIZE,
            DKC_COM_GET_SUBKEYS => SubkeysRes::SIZE,
            DKC_COM_GET_ATTRS => AttrsRes::SIZE,
            DKC_COM_GET_ATTR => AttrValRes::SIZE,
            DKC_COM_QPOP => QpopRes::SIZE,
            DKC_COM_K2HSTATE => K2hStateRes::SIZE,
            DKC_COM_STATE => 56,
            t if t <= DKC_COM_MAX => HEAD_SIZE,
            _ => return None,
        }
    } else {
        match comtype {
            DKC_COM_GET => GetReq::SIZE,
            DKC_COM_GET_DIRECT => GetDirectReq::SIZE,
            DKC_COM_GET_SUBKEYS => GetSubkeysReq::SIZE,
            DKC_COM_GET_ATTRS => GetAttrsReq::SIZE,
            DKC_COM_GET_ATTR => GetAttrReq::SIZE,
            DKC_COM_SET => SetReq::SIZE,
            DKC_COM_SET_DIRECT => SetDirectReq::SIZE,
            DKC_COM_SET_SUBKEYS => SetSubkeysReq::SIZE,
            DKC_COM_SET_ALL => SetAllReq::SIZE,
            DKC_COM_ADD_SUBKEYS => AddSubkeysReq::SIZE,
            DKC_COM_DEL => DelReq::SIZE,
            DKC_COM_DEL_SUBKEYS => DelSubkeysReq::SIZE,
            DKC_COM_REN => RenReq::SIZE,
            DKC_COM_QPUSH => QpushReq::SIZE,
            DKC_COM_QPOP => QpopReq::SIZE,
            DKC_COM_CAS_INIT => CasInitReq::SIZE,
            DKC_COM_CAS_GET => CasGetReq::SIZE,
            DKC_COM_CAS_SET => CasSetReq::SIZE,
            DKC_COM_CAS_INCDEC => CasIncDecReq::SIZE,
            DKC_COM_REPL_KEY => ReplKeyReq::SIZE,
            DKC_COM_K2HSTATE => K2hStateReq::SIZE,
            DKC_COM_REPL_DEL => ReplDelReq::SIZE,
            // client-side composites: ADD_SUBKEY, DEL_SUBKEY, QDEL, STATE
            _ => return None,
        }
    })
}

fn decode_request(t: u64, b: &[u8]) -> Result<Body, WireError> {
    Ok(match t {
        DKC_COM_GET => Body::Get(decode_layout(b)?),
        DKC_COM_GET_DIRECT => Body::GetDirect(decode_layout(b)?),
        DKC_COM_GET_SUBKEYS => Body::GetSubkeys(decode_layout(b)?),
        DKC_COM_GET_ATTRS => Body::GetAttrs(decode_layout(b)?),
        DKC_COM_GET_ATTR => Body::GetAttr(decode_layout(b)?),
        DKC_COM_SET => Body::Set(decode_layout(b)?),
        DKC_COM_SET_DIRECT => Body::SetDirect(decode_layout(b)?),
        DKC_COM_SET_SUBKEYS => Body::SetSubkeys(decode_layout(b)?),
        DKC_COM_SET_ALL => Body::SetAll(decode_layout(b)?),
        DKC_COM_ADD_SUBKEYS => Body::AddSubkeys(decode_layout(b)?),
        DKC_COM_DEL => Body::Del(decode_layout(b)?),
        DKC_COM_DEL_SUBKEYS => Body::DelSubkeys(decode_layout(b)?),
        DKC_COM_REN => Body::Ren(decode_layout(b)?),
        DKC_COM_QPUSH => Body::Qpush(decode_layout(b)?),
        DKC_COM_QPOP => Body::Qpop(decode_layout(b)?),
        DKC_COM_CAS_INIT => Body::CasInit(decode_layout(b)?),
        DKC_COM_CAS_GET => Body::CasGet(decode_layout(b)?),
        DKC_COM_CAS_SET => Body::CasSet(decode_layout(b)?),
        DKC_COM_CAS_INCDEC => Body::CasIncDec(decode_layout(b)?),
        DKC_COM_REPL_KEY => Body::ReplKey(decode_layout(b)?),
        DKC_COM_K2HSTATE => Body::K2hState(decode_layout(b)?),
        DKC_COM_REPL_DEL => Body::ReplDel(decode_layout(b)?),
        other => return Err(WireError::NoRequest(other)),
    })
}

fn decode_response(t: u64, b: &[u8]) -> Result<Body, WireError> {
    Ok(match t {
        DKC_COM_GET | DKC_COM_GET_DIRECT | DKC_COM_CAS_GET => Body::Val(decode_layout(b)?),
        DKC_COM_GET_SUBKEYS => Body::Subkeys(decode_layout(b)?),
        DKC_COM_GET_ATTRS => Body::Attrs(decode_layout(b)?),
        DKC_COM_GET_ATTR => Body::AttrVal(decode_layout(b)?),
        DKC_COM_QPOP => Body::QpopAnswer(decode_layout(b)?),
        DKC_COM_K2HSTATE => Body::K2hStateAnswer(decode_layout(b)?),
        DKC_COM_STATE => {
            let i = In { b };
            let (offset, count) = (i.u64(40), i.u64(48));
            let length = count.checked_mul(NODESTATE_SIZE as u64);
            let end = length.and_then(|l| offset.checked_add(l));
            let (Some(length), Some(end)) = (length, end) else {
                return Err(WireError::Malformed("DKCRES_STATE count"));
            };
            if count > 0 && (offset < 56 || end > b.len() as u64) {
                return Err(WireError::Item {
                    offset,
                    length,
                    total: b.len(),
                });
            }
            let all = if count == 0 {
                &b[..0]
            } else {
                &b[offset as usize..end as usize]
            };
            Body::State(StateRes {
                states: all.chunks(NODESTATE_SIZE).map(|c| c.to_vec()).collect(),
            })
        }
        _ => Body::Bare,
    })
}

/// The response of `req` with result `restype` and no data (`MakeResponseOnlyHeadData`: the
/// type's structure with every item empty).
pub fn empty_response(req: &Head, restype: u64) -> Message {
    let head = Head::response(req, restype, 0);
    let body = match req.comtype {
        DKC_COM_GET | DKC_COM_GET_DIRECT | DKC_COM_CAS_GET => Body::Val(ValRes::default()),
        DKC_COM_GET_SUBKEYS => Body::Subkeys(SubkeysRes::default()),
        DKC_COM_GET_ATTRS => Body::Attrs(AttrsRes::default()),
        DKC_COM_GET_ATTR => Body::AttrVal(AttrValRes::default()),
        DKC_COM_QPOP => Body::QpopAnswer(QpopRes::default()),
        DKC_COM_K2HSTATE => Body::K2hStateAnswer(K2hStateRes {
            nodestate: vec![0; NODESTATE_SIZE],
        }),
        DKC_COM_STATE => Body::State(StateRes::default()),
        _ => Body::Bare,
    };
    Message { head, body }
}
