//! `PXCOM_*` payloads of `COM_PX2PX` frames (protocol version 2: types 9..=29).
//!
//! Every payload starts with the 24-byte `PXCOM_HEAD {u64 type; u64 result; u64 length}`, where
//! `length` is the size of the whole PXCOM structure including any trailing array. Three shapes
//! of trailing array exist; in each the `offset` field is the size of the fixed structure
//! (relative to the start of the PXCOM, head included) and the array fills the rest exactly:
//!
//! | type | fixed part | trailing array |
//! |---|---|---|
//! | `REQ_UPDATEDATA` | 105: merge param @24 (65 B), `long count` @89, `off_t plist_offset` @97 | `count` × `{u64 chmpxid; u64 req_status}` |
//! | `RES_UPDATEDATA` | 56: `timespec ts` @24, `size_t length` @40, `off_t pdata_offset` @48 | `length` raw bytes |
//! | `N2_STATUS_RES` / `_UPDATE` / `_CONFIRM` | 40: `long count` @24, `off_t pchmpxsvr_offset` @32 | `count` × [`ChmpxSvr`] (26 720 B) |
//!
//! Fixed-size bodies: `SERVER_DOWN` `{u64 chmpxid}` (32), `RESULT_UPDATEDATA`
//! `{u64 chmpxid; u64 result}` (40), `MERGE_SUSPEND_RES` `{bool}` (25), `VERSION_RES` (112),
//! `N2_CONINIT_REQ` (21 587), `N2_JOIN_RING` / `N2_STATUS_CHANGE` `{CHMPXSVR}` (26 744); all other
//! types are the bare head (24).
//!
//! The decoder is strict: the head's `length`, the offsets and the counts must describe the
//! buffer exactly. One exception reproduces an original bug: the original never sets
//! `head.length` of `RESULT_UPDATEDATA` (it sends whatever `malloc` left there), so that one
//! field is ignored on decode.

use super::bytes::{put_bool, put_fixed_str, put_i16, put_i64, put_u64, Reader};
use super::chmpxsvr::{ChmpxSvr, HostPort};
use super::compkt::Timespec;
use super::consts::*;
use super::WireError;

/// `PXCOMMON_MERGE_PARAM` (65 bytes): what a merge requester asks the others for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MergeParam {
    /// Requesting chmpx.
    pub chmpxid: u64,
    /// Only data updated since this time.
    pub startts: Timespec,
    /// Highest pending hash slot.
    pub max_pending_hash: u64,
    /// Requester's pending hash slot.
    pub pending_hash: u64,
    /// Highest base hash slot.
    pub max_base_hash: u64,
    /// Requester's base hash slot.
    pub base_hash: u64,
    /// Replica count (`long`).
    pub replica_count: i64,
    /// Whether expired data is skipped.
    pub is_expire_check: bool,
}

impl MergeParam {
    fn write(&self, out: &mut Vec<u8>) {
        put_u64(out, self.chmpxid);
        put_i64(out, self.startts.sec);
        put_i64(out, self.startts.nsec);
        put_u64(out, self.max_pending_hash);
        put_u64(out, self.pending_hash);
        put_u64(out, self.max_base_hash);
        put_u64(out, self.base_hash);
        put_i64(out, self.replica_count);
        put_bool(out, self.is_expire_check);
    }

    fn read(r: &mut Reader<'_>) -> Result<MergeParam, WireError> {
        Ok(MergeParam {
            chmpxid: r.u64()?,
            startts: Timespec {
                sec: r.i64()?,
                nsec: r.i64()?,
            },
            max_pending_hash: r.u64()?,
            pending_hash: r.u64()?,
            max_base_hash: r.u64()?,
            base_hash: r.u64()?,
            replica_count: r.i64()?,
            is_expire_check: r.bool()?,
        })
    }
}

/// Body of `VERSION_RES` (88 bytes after the head).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct VersionInfo {
    /// Highest protocol version the sender speaks (2).
    pub com_version: u64,
    /// Protocol version used on the sender's ring (2, or 1 when forced).
    pub cur_version: u64,
    /// Binary version, see [`VersionInfo::bin_version_of`].
    pub bin_version: u64,
    /// Version text, `char[32]`.
    pub str_version: String,
    /// Commit hash text, `char[32]`.
    pub commit_hash: String,
}

impl VersionInfo {
    /// `chmpx_get_bin_version` packing: each dot-separated decimal component shifted in 16 bits
    /// at a time, e.g. `"1.0.113"` -> `0x0000_0001_0000_0071`. Non-numeric text counts as 0.
    pub fn bin_version_of(version: &str) -> u64 {
        version.split('.').fold(0u64, |acc, part| {
            let n = part
                .trim()
                .bytes()
                .take_while(u8::is_ascii_digit)
                .fold(0u64, |n, d| {
                    n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
                });
            acc.wrapping_mul(0x10000).wrapping_add(n)
        })
    }
}

/// Body of `N2_CONINIT_REQ` (21 563 bytes after the head): who is connecting.
///
/// Layout from the start of the PXCOM: `name[1025]` @24, `chmpxid` @1049, `short ctlport`
/// @1057, `cuk[2048]` @1059, `custom_seed[2048]` @3107, then four `CHMPXHP_RAWPAIR[4]` arrays
/// @5155 (endpoints), @9263 (ctlendpoints), @13371 (forward_peers), @17479 (reverse_peers).
///
/// Quirk of the original receiver: it converts the pair ports of the four arrays with
/// `be64toh` on a 16-bit value, so on little-endian hosts it sees every such port as 0 or -1
/// (see [`crate::wire::original_coninit_port`]); `ctlport` itself is converted correctly. We
/// encode those ports as proper BE16, which is what the original sender writes, and decode them
/// properly as BE16.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ConinitReq {
    /// The connecting node's own host name.
    pub name: String,
    /// The connecting node's chmpxid.
    pub chmpxid: u64,
    /// The connecting node's control port.
    pub ctlport: i16,
    /// CUK.
    pub cuk: String,
    /// Custom chmpxid seed.
    pub custom_seed: String,
    /// External data endpoints.
    pub endpoints: [HostPort; EXTERNAL_EP_MAX],
    /// External control endpoints.
    pub ctlendpoints: [HostPort; EXTERNAL_EP_MAX],
    /// Forward (NAT) gateway peers.
    pub forward_peers: [HostPort; FORWARD_PEER_MAX],
    /// Reverse (NAT) gateway peers.
    pub reverse_peers: [HostPort; REVERSE_PEER_MAX],
}

impl ConinitReq {
    /// What node `chmpxid` with record `rec` says of itself when it connects.
    pub fn of(chmpxid: u64, rec: &ChmpxSvr) -> ConinitReq {
        ConinitReq {
            name: rec.name.clone(),
            chmpxid,
            ctlport: rec.ctlport,
            cuk: rec.cuk.clone(),
            custom_seed: rec.custom_seed.clone(),
            endpoints: rec.endpoints.clone(),
            ctlendpoints: rec.ctlendpoints.clone(),
            forward_peers: rec.forward_peers.clone(),
            reverse_peers: rec.reverse_peers.clone(),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        put_fixed_str(out, &self.name, NI_MAXHOST);
        put_u64(out, self.chmpxid);
        put_i16(out, self.ctlport);
        put_fixed_str(out, &self.cuk, CUK_MAX);
        put_fixed_str(out, &self.custom_seed, CUSTOM_ID_SEED_MAX);
        HostPort::write_array(&self.endpoints, out);
        HostPort::write_array(&self.ctlendpoints, out);
        HostPort::write_array(&self.forward_peers, out);
        HostPort::write_array(&self.reverse_peers, out);
    }

    fn read(r: &mut Reader<'_>) -> Result<ConinitReq, WireError> {
        Ok(ConinitReq {
            name: r.fixed_str(NI_MAXHOST)?,
            chmpxid: r.u64()?,
            ctlport: r.i16()?,
            cuk: r.fixed_str(CUK_MAX)?,
            custom_seed: r.fixed_str(CUSTOM_ID_SEED_MAX)?,
            endpoints: HostPort::read_array(r)?,
            ctlendpoints: HostPort::read_array(r)?,
            forward_peers: HostPort::read_array(r)?,
            reverse_peers: HostPort::read_array(r)?,
        })
    }
}

/// One PXCOM message of protocol version 2 (the head's `result` travels in [`PxMsg`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PxCom {
    /// 9: start merging (around the ring).
    MergeStart,
    /// 10: abort merging (around the ring).
    MergeAbort,
    /// 11: complete merging (around the ring).
    MergeComplete,
    /// 12: a server is down (around the ring).
    ServerDown {
        /// The server that went down.
        chmpxid: u64,
    },
    /// 13: request merge data (around the ring).
    ReqUpdateData {
        /// What is requested.
        merge_param: MergeParam,
        /// `PXCOM_REQ_IDMAP` entries: `(chmpxid, req_status)`, status one of
        /// `CHMPX_COM_REQ_UPDATE_*`.
        idmap: Vec<(u64, u64)>,
    },
    /// 14: merge data blob (direct to the requester).
    ResUpdateData {
        /// Data is at least this recent.
        ts: Timespec,
        /// The k2hash element serialisation.
        data: Vec<u8>,
    },
    /// 15: result of applying merge data (direct).
    ResultUpdateData {
        /// The reporting chmpx.
        chmpxid: u64,
        /// `CHMPX_COM_REQ_UPDATE_*`.
        result: u64,
    },
    /// 16: suspend auto merge (around the ring).
    MergeSuspend,
    /// 17: resume auto merge (around the ring).
    MergeNoSuspend,
    /// 18: ask for the auto-merge suspend flag.
    MergeSuspendGet,
    /// 19: the auto-merge suspend flag.
    MergeSuspendRes {
        /// Auto merge is suspended on the ring.
        is_suspend: bool,
    },
    /// 20: ask for versions (first message on a fresh connection).
    VersionReq,
    /// 21: versions.
    VersionRes(VersionInfo),
    /// 22: ask for the status table.
    N2StatusReq,
    /// 23: the status table.
    N2StatusRes {
        /// Every known server.
        servers: Vec<ChmpxSvr>,
    },
    /// 24: connection init.
    N2ConinitReq(Box<ConinitReq>),
    /// 25: connection init answer (success or error in the head's result).
    N2ConinitRes,
    /// 26: a server joins (around the ring).
    N2JoinRing {
        /// The joining server.
        server: Box<ChmpxSvr>,
    },
    /// 27: push the status table (around the ring).
    N2StatusUpdate {
        /// Every known server.
        servers: Vec<ChmpxSvr>,
    },
    /// 28: compare status tables before a merge (around the ring).
    N2StatusConfirm {
        /// Every known server.
        servers: Vec<ChmpxSvr>,
    },
    /// 29: one server's status changed (around the ring, and to slaves).
    N2StatusChange {
        /// The changed server.
        server: Box<ChmpxSvr>,
    },
}

/// `PXCOM_HEAD.type` names, indexed by type number (`STRPXCOMTYPE`).
const PXCOM_NAMES: [&str; 30] = [
    "CHMPX_COM_UNKNOWN",
    "CHMPX_COM_STATUS_REQ",
    "CHMPX_COM_STATUS_RES",
    "CHMPX_COM_CONINIT_REQ",
    "CHMPX_COM_CONINIT_RES",
    "CHMPX_COM_JOIN_RING",
    "CHMPX_COM_STATUS_UPDATE",
    "CHMPX_COM_STATUS_CONFIRM",
    "CHMPX_COM_STATUS_CHANGE",
    "CHMPX_COM_MERGE_START",
    "CHMPX_COM_MERGE_ABORT",
    "CHMPX_COM_MERGE_COMPLETE",
    "CHMPX_COM_SERVER_DOWN",
    "CHMPX_COM_REQ_UPDATEDATA",
    "CHMPX_COM_RES_UPDATEDATA",
    "CHMPX_COM_RESULT_UPDATEDATA",
    "CHMPX_COM_MERGE_SUSPEND",
    "CHMPX_COM_MERGE_NOSUSPEND",
    "CHMPX_COM_MERGE_SUSPEND_GET",
    "CHMPX_COM_MERGE_SUSPEND_RES",
    "CHMPX_COM_VERSION_REQ",
    "CHMPX_COM_VERSION_RES",
    "CHMPX_COM_N2_STATUS_REQ",
    "CHMPX_COM_N2_STATUS_RES",
    "CHMPX_COM_N2_CONINIT_REQ",
    "CHMPX_COM_N2_CONINIT_RES",
    "CHMPX_COM_N2_JOIN_RING",
    "CHMPX_COM_N2_STATUS_UPDATE",
    "CHMPX_COM_N2_STATUS_CONFIRM",
    "CHMPX_COM_N2_STATUS_CHANGE",
];

/// The original's name of a PXCOM type, `"NOT_DEFINED_TYPE"` when out of range.
pub fn pxcom_type_name(pxcom_type: u64) -> &'static str {
    usize::try_from(pxcom_type)
        .ok()
        .and_then(|i| PXCOM_NAMES.get(i))
        .copied()
        .unwrap_or("NOT_DEFINED_TYPE")
}

/// `sizeof` of the fixed PXCOM structure of a type, head included and trailing array excluded
/// (`SIZEOF_CHMPX_COM`; v1 types included). `None` for undefined types.
pub fn pxcom_struct_size(pxcom_type: u64) -> Option<usize> {
    const SVRV1_MSG: usize = PXCOM_HEAD_SIZE + CHMPXSVRV1_SIZE;
    const SVR_MSG: usize = PXCOM_HEAD_SIZE + CHMPXSVR_SIZE;
    Some(match pxcom_type {
        CHMPX_COM_STATUS_REQ | CHMPX_COM_CONINIT_RES => PXCOM_HEAD_SIZE,
        CHMPX_COM_STATUS_RES | CHMPX_COM_STATUS_UPDATE | CHMPX_COM_STATUS_CONFIRM => 40,
        CHMPX_COM_CONINIT_REQ => 34,
        CHMPX_COM_JOIN_RING | CHMPX_COM_STATUS_CHANGE => SVRV1_MSG,
        CHMPX_COM_MERGE_START
        | CHMPX_COM_MERGE_ABORT
        | CHMPX_COM_MERGE_COMPLETE
        | CHMPX_COM_MERGE_SUSPEND
        | CHMPX_COM_MERGE_NOSUSPEND
        | CHMPX_COM_MERGE_SUSPEND_GET
        | CHMPX_COM_VERSION_REQ
        | CHMPX_COM_N2_STATUS_REQ
        | CHMPX_COM_N2_CONINIT_RES => PXCOM_HEAD_SIZE,
        CHMPX_COM_SERVER_DOWN => 32,
        CHMPX_COM_REQ_UPDATEDATA => PXCOM_HEAD_SIZE + PXCOMMON_MERGE_PARAM_SIZE + 16,
        CHMPX_COM_RES_UPDATEDATA => 56,
        CHMPX_COM_RESULT_UPDATEDATA => 40,
        CHMPX_COM_MERGE_SUSPEND_RES => 25,
        CHMPX_COM_VERSION_RES => 40 + CHMPX_VERSION_MAX + COMMIT_HASH_MAX + 8,
        CHMPX_COM_N2_STATUS_RES | CHMPX_COM_N2_STATUS_UPDATE | CHMPX_COM_N2_STATUS_CONFIRM => 40,
        CHMPX_COM_N2_CONINIT_REQ => {
            PXCOM_HEAD_SIZE
                + NI_MAXHOST
                + 8
                + 2
                + CUK_MAX
                + CUSTOM_ID_SEED_MAX
                + 4 * EXTERNAL_EP_MAX * CHMPXHP_RAWPAIR_SIZE
        }
        CHMPX_COM_N2_JOIN_RING | CHMPX_COM_N2_STATUS_CHANGE => SVR_MSG,
        _ => return None,
    })
}

impl PxCom {
    /// The `PXCOM_HEAD.type` number of this message.
    pub fn pxcom_type(&self) -> u64 {
        match self {
            PxCom::MergeStart => CHMPX_COM_MERGE_START,
            PxCom::MergeAbort => CHMPX_COM_MERGE_ABORT,
            PxCom::MergeComplete => CHMPX_COM_MERGE_COMPLETE,
            PxCom::ServerDown { .. } => CHMPX_COM_SERVER_DOWN,
            PxCom::ReqUpdateData { .. } => CHMPX_COM_REQ_UPDATEDATA,
            PxCom::ResUpdateData { .. } => CHMPX_COM_RES_UPDATEDATA,
            PxCom::ResultUpdateData { .. } => CHMPX_COM_RESULT_UPDATEDATA,
            PxCom::MergeSuspend => CHMPX_COM_MERGE_SUSPEND,
            PxCom::MergeNoSuspend => CHMPX_COM_MERGE_NOSUSPEND,
            PxCom::MergeSuspendGet => CHMPX_COM_MERGE_SUSPEND_GET,
            PxCom::MergeSuspendRes { .. } => CHMPX_COM_MERGE_SUSPEND_RES,
            PxCom::VersionReq => CHMPX_COM_VERSION_REQ,
            PxCom::VersionRes(_) => CHMPX_COM_VERSION_RES,
            PxCom::N2StatusReq => CHMPX_COM_N2_STATUS_REQ,
            PxCom::N2StatusRes { .. } => CHMPX_COM_N2_STATUS_RES,
            PxCom::N2ConinitReq(_) => CHMPX_COM_N2_CONINIT_REQ,
            PxCom::N2ConinitRes => CHMPX_COM_N2_CONINIT_RES,
            PxCom::N2JoinRing { .. } => CHMPX_COM_N2_JOIN_RING,
            PxCom::N2StatusUpdate { .. } => CHMPX_COM_N2_STATUS_UPDATE,
            PxCom::N2StatusConfirm { .. } => CHMPX_COM_N2_STATUS_CONFIRM,
            PxCom::N2StatusChange { .. } => CHMPX_COM_N2_STATUS_CHANGE,
        }
    }

    /// The original's name of this message type.
    pub fn name(&self) -> &'static str {
        pxcom_type_name(self.pxcom_type())
    }

    /// Size of the encoded PXCOM (head, fixed part and trailing array).
    pub fn encoded_len(&self) -> usize {
        let fixed = pxcom_struct_size(self.pxcom_type()).unwrap_or(PXCOM_HEAD_SIZE);
        fixed
            + match self {
                PxCom::ReqUpdateData { idmap, .. } => idmap.len() * PXCOM_REQ_IDMAP_SIZE,
                PxCom::ResUpdateData { data, .. } => data.len(),
                PxCom::N2StatusRes { servers }
                | PxCom::N2StatusUpdate { servers }
                | PxCom::N2StatusConfirm { servers } => servers.len() * CHMPXSVR_SIZE,
                _ => 0,
            }
    }

    /// Append everything after the 24-byte head.
    fn write_body(&self, out: &mut Vec<u8>) {
        match self {
            PxCom::MergeStart
            | PxCom::MergeAbort
            | PxCom::MergeComplete
            | PxCom::MergeSuspend
            | PxCom::MergeNoSuspend
            | PxCom::MergeSuspendGet
            | PxCom::VersionReq
            | PxCom::N2StatusReq
            | PxCom::N2ConinitRes => {}
            PxCom::ServerDown { chmpxid } => put_u64(out, *chmpxid),
            PxCom::ReqUpdateData { merge_param, idmap } => {
                merge_param.write(out);
                put_i64(out, idmap.len() as i64);
                put_u64(
                    out,
                    (PXCOM_HEAD_SIZE + PXCOMMON_MERGE_PARAM_SIZE + 16) as u64,
                );
                for (chmpxid, status) in idmap {
                    put_u64(out, *chmpxid);
                    put_u64(out, *status);
                }
            }
            PxCom::ResUpdateData { ts, data } => {
                put_i64(out, ts.sec);
                put_i64(out, ts.nsec);
                put_u64(out, data.len() as u64);
                put_u64(out, 56);
                out.extend_from_slice(data);
            }
            PxCom::ResultUpdateData { chmpxid, result } => {
                put_u64(out, *chmpxid);
                put_u64(out, *result);
            }
            PxCom::MergeSuspendRes { is_suspend } => put_bool(out, *is_suspend),
            PxCom::VersionRes(v) => {
                put_u64(out, v.com_version);
                put_u64(out, v.cur_version);
                put_u64(out, v.bin_version);
                put_fixed_str(out, &v.str_version, CHMPX_VERSION_MAX);
                put_fixed_str(out, &v.commit_hash, COMMIT_HASH_MAX);
            }
            PxCom::N2StatusRes { servers }
            | PxCom::N2StatusUpdate { servers }
            | PxCom::N2StatusConfirm { servers } => {
                put_i64(out, servers.len() as i64);
                put_u64(out, 40);
                for s in servers {
                    s.encode_into(out);
                }
            }
            PxCom::N2ConinitReq(req) => req.write(out),
            PxCom::N2JoinRing { server } | PxCom::N2StatusChange { server } => {
                server.encode_into(out)
            }
        }
    }
}

/// A PXCOM message with the `result` field of its head (`CHMPX_COM_RES_SUCCESS` or `_ERROR`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PxMsg {
    /// `PXCOM_HEAD.result`.
    pub result: u64,
    /// Type and body.
    pub body: PxCom,
}

/// `buf` must be exactly the fixed structure.
fn expect_exact(buf: &[u8], size: usize) -> Result<(), WireError> {
    if buf.len() != size {
        return Err(WireError::LengthMismatch {
            what: "PXCOM structure",
            declared: size as u64,
            actual: buf.len() as u64,
        });
    }
    Ok(())
}

/// Read a `{long count; off_t offset}` pair and check that `count` elements of `elem` bytes
/// starting at `fixed` fill the rest of a `total`-byte buffer exactly.
fn read_array_header(
    r: &mut Reader<'_>,
    what: &'static str,
    fixed: usize,
    elem: usize,
    total: usize,
) -> Result<usize, WireError> {
    let count = r.i64()?;
    let offset = r.u64()?;
    if offset != fixed as u64 {
        return Err(WireError::BadArrayOffset {
            what,
            declared: offset,
            expected: fixed as u64,
        });
    }
    let available = total.saturating_sub(fixed);
    let fits = u64::try_from(count)
        .ok()
        .and_then(|c| c.checked_mul(elem as u64))
        .is_some_and(|bytes| bytes == available as u64);
    if !fits {
        return Err(WireError::BadCount {
            what,
            count,
            available: available as u64,
        });
    }
    Ok(available / elem)
}

fn read_servers(
    r: &mut Reader<'_>,
    what: &'static str,
    total: usize,
) -> Result<Vec<ChmpxSvr>, WireError> {
    let n = read_array_header(r, what, 40, CHMPXSVR_SIZE, total)?;
    let mut servers = Vec::with_capacity(n);
    for _ in 0..n {
        servers.push(ChmpxSvr::read(r)?);
    }
    Ok(servers)
}

impl PxMsg {
    /// A message with result [`CHMPX_COM_RES_SUCCESS`].
    pub fn new(body: PxCom) -> PxMsg {
        PxMsg {
            result: CHMPX_COM_RES_SUCCESS,
            body,
        }
    }

    /// Size of [`PxMsg::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        self.body.encoded_len()
    }

    /// The wire bytes: head (`type`, `result`, `length` = total size) and body, big-endian.
    pub fn encode(&self) -> Vec<u8> {
        let len = self.encoded_len();
        let mut out = Vec::with_capacity(len);
        put_u64(&mut out, self.body.pxcom_type());
        put_u64(&mut out, self.result);
        put_u64(&mut out, len as u64);
        self.body.write_body(&mut out);
        out
    }

    /// Decode a PXCOM occupying exactly all of `buf` (a PX2PX frame's payload).
    pub fn decode(buf: &[u8]) -> Result<PxMsg, WireError> {
        let total = buf.len();
        let mut r = Reader::new(buf);
        if total < PXCOM_HEAD_SIZE {
            return Err(WireError::Truncated {
                need: PXCOM_HEAD_SIZE,
                have: total,
            });
        }
        let ty = r.u64()?;
        let result = r.u64()?;
        let length = r.u64()?;
        if (CHMPX_COM_STATUS_REQ..=CHMPX_COM_STATUS_CHANGE).contains(&ty) {
            return Err(WireError::Unsupported(ty));
        }
        let fixed = pxcom_struct_size(ty).ok_or(WireError::UnknownType(ty))?;
        // The original leaves RESULT_UPDATEDATA's head.length uninitialised: ignore it there.
        if ty != CHMPX_COM_RESULT_UPDATEDATA && length != total as u64 {
            return Err(WireError::LengthMismatch {
                what: "PXCOM head.length",
                declared: length,
                actual: total as u64,
            });
        }
        if total < fixed {
            return Err(WireError::Truncated {
                need: fixed,
                have: total,
            });
        }
        let body = match ty {
            CHMPX_COM_REQ_UPDATEDATA => {
                let merge_param = MergeParam::read(&mut r)?;
                let n = read_array_header(
                    &mut r,
                    "REQ_UPDATEDATA count/plist_offset",
                    fixed,
                    PXCOM_REQ_IDMAP_SIZE,
                    total,
                )?;
                let mut idmap = Vec::with_capacity(n);
                for _ in 0..n {
                    idmap.push((r.u64()?, r.u64()?));
                }
                PxCom::ReqUpdateData { merge_param, idmap }
            }
            CHMPX_COM_RES_UPDATEDATA => {
                let ts = Timespec {
                    sec: r.i64()?,
                    nsec: r.i64()?,
                };
                let dlen = r.u64()?;
                let offset = r.u64()?;
                if offset != fixed as u64 {
                    return Err(WireError::BadArrayOffset {
                        what: "RES_UPDATEDATA pdata_offset",
                        declared: offset,
                        expected: fixed as u64,
                    });
                }
                if dlen != (total - fixed) as u64 {
                    return Err(WireError::LengthMismatch {
                        what: "RES_UPDATEDATA length",
                        declared: dlen,
                        actual: (total - fixed) as u64,
                    });
                }
                let data = r.take(total - fixed)?.to_vec();
                PxCom::ResUpdateData { ts, data }
            }
            CHMPX_COM_N2_STATUS_RES => PxCom::N2StatusRes {
                servers: read_servers(&mut r, "N2_STATUS_RES count/offset", total)?,
            },
            CHMPX_COM_N2_STATUS_UPDATE => PxCom::N2StatusUpdate {
                servers: read_servers(&mut r, "N2_STATUS_UPDATE count/offset", total)?,
            },
            CHMPX_COM_N2_STATUS_CONFIRM => PxCom::N2StatusConfirm {
                servers: read_servers(&mut r, "N2_STATUS_CONFIRM count/offset", total)?,
            },
            _ => {
                expect_exact(buf, fixed)?;
                match ty {
                    CHMPX_COM_MERGE_START => PxCom::MergeStart,
                    CHMPX_COM_MERGE_ABORT => PxCom::MergeAbort,
                    CHMPX_COM_MERGE_COMPLETE => PxCom::MergeComplete,
                    CHMPX_COM_SERVER_DOWN => PxCom::ServerDown { chmpxid: r.u64()? },
                    CHMPX_COM_RESULT_UPDATEDATA => PxCom::ResultUpdateData {
                        chmpxid: r.u64()?,
                        result: r.u64()?,
                    },
                    CHMPX_COM_MERGE_SUSPEND => PxCom::MergeSuspend,
                    CHMPX_COM_MERGE_NOSUSPEND => PxCom::MergeNoSuspend,
                    CHMPX_COM_MERGE_SUSPEND_GET => PxCom::MergeSuspendGet,
                    CHMPX_COM_MERGE_SUSPEND_RES => PxCom::MergeSuspendRes {
                        is_suspend: r.bool()?,
                    },
                    CHMPX_COM_VERSION_REQ => PxCom::VersionReq,
                    CHMPX_COM_VERSION_RES => PxCom::VersionRes(VersionInfo {
                        com_version: r.u64()?,
                        cur_version: r.u64()?,
                        bin_version: r.u64()?,
                        str_version: r.fixed_str(CHMPX_VERSION_MAX)?,
                        commit_hash: r.fixed_str(COMMIT_HASH_MAX)?,
                    }),
                    CHMPX_COM_N2_STATUS_REQ => PxCom::N2StatusReq,
                    CHMPX_COM_N2_CONINIT_REQ => {
                        PxCom::N2ConinitReq(Box::new(ConinitReq::read(&mut r)?))
                    }
                    CHMPX_COM_N2_CONINIT_RES => PxCom::N2ConinitRes,
                    CHMPX_COM_N2_JOIN_RING => PxCom::N2JoinRing {
                        server: Box::new(ChmpxSvr::read(&mut r)?),
                    },
                    CHMPX_COM_N2_STATUS_CHANGE => PxCom::N2StatusChange {
                        server: Box::new(ChmpxSvr::read(&mut r)?),
                    },
                    other => return Err(WireError::UnknownType(other)),
                }
            }
        };
        if r.remaining() != 0 {
            // Unreachable by construction (every branch consumes exactly `total` bytes); kept
            // as an error rather than an assertion so no input can panic.
            return Err(WireError::LengthMismatch {
                what: "PXCOM structure",
                declared: (total - r.remaining()) as u64,
                actual: total as u64,
            });
        }
        Ok(PxMsg { result, body })
    }
}

#[cfg(test)]
#[path = "pxcom_tests.rs"]
pub(crate) mod tests;
