//! How a client process talks to the chmpx on its own host. Both ends are ours, so this is not
//! the original's shared memory + k2hash file + POSIX message queues: it is one Unix stream
//! socket per client handle, in the abstract namespace (`\0chmpx-rs/<GROUP>-<ctlport>`), so
//! nothing is left in the file system, /dev/shm or /dev/mqueue, and a client that dies simply
//! closes its socket (the kernel tells chmpx at once; nothing can wedge).
//!
//! Every message is `[u32 LE length of the rest][u8 kind][fields...]`, little-endian. A message
//! never exceeds [`MAX_MSG`]; both sides drop a peer that sends anything malformed.

use crate::wire::{ComPkt, Timespec, COMPKT_SIZE};

/// Protocol version exchanged in Hello.
pub const IPC_VERSION: u32 = 1;
/// Largest message (header, packet and body).
pub const MAX_MSG: usize = 64 * 1024 * 1024 + 4096;

/// The abstract socket name of the chmpx of `group` with control port `ctlport` (-1: none).
pub fn socket_name(group: &str, ctlport: i16) -> String {
    if ctlport == -1 {
        format!("chmpx-rs/{group}")
    } else {
        format!("chmpx-rs/{group}-{}", ctlport as u16)
    }
}

/// Client -> chmpx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// First message: who connects. `on_server` = client of a server chmpx.
    Hello {
        version: u32,
        pid: u32,
        on_server: bool,
        /// A merge channel ([`Request::MergeHello`]) follows: the server stays suspended
        /// until it is open, so no merge starts without the client's callbacks.
        merge: bool,
    },
    /// Take one more msgid (client-on-slave `chmpx_open`).
    Open,
    /// Give a msgid back.
    Close { msgid: u64 },
    /// Send a body; `msgid` is the sender's (all-ones on a server client: chmpx picks).
    Send {
        msgid: u64,
        c2ctype: u64,
        hash: u64,
        body: Vec<u8>,
    },
    /// Reply to a received packet (its head is swapped by chmpx).
    Reply { pkt: ComPkt, body: Vec<u8> },
    /// Send without waiting: chmpx answers only when nobody received it
    /// ([`Response::NotSent`]), so a request and its answer cost one wake-up of the client
    /// instead of two (libk2hdkc and the k2hdkc server use it; libchmpx's send needs the count).
    Post {
        msgid: u64,
        c2ctype: u64,
        hash: u64,
        body: Vec<u8>,
    },
    /// Ask for the state dump (text of the DUMP control command).
    Dump,
    /// Ask for a status snapshot (self record, servers, slaves).
    Status,
    /// First message of a client's merge channel: a second connection of a client-on-server
    /// with merge callbacks, on which chmpx asks and the client answers (see [`MergeGet`]).
    MergeHello { version: u32, pid: u32 },
    /// Answer to [`Response::MergeGetLastTs`]: the latest update time (`ok` false: unknown).
    MergeLastTs { ok: bool, ts: Timespec },
    /// One datum for `requester` (what the get callback returned), during [`Response::MergeGet`].
    MergeData {
        requester: u64,
        ts: Timespec,
        data: Vec<u8>,
    },
    /// End of the data for `requester` (`ok` false: the get callback failed).
    MergeResult { requester: u64, ok: bool },
    /// Answer to [`Response::MergeSetEnd`]: every datum before it was given to the set
    /// callback (`ok` false: at least one set failed).
    MergeSetDone { ok: bool },
    /// A client-on-slave will send requests on links of its own (`crate::direct`): chmpx
    /// answers with [`Response::Links`] and tells it of every change of the ring after
    /// ([`Response::RingChanged`]).
    Links,
    /// A client-on-server takes links handed over by chmpx and serves them itself
    /// (`crate::served`): chmpx answers nothing now, and sends [`Response::LinkHandover`] for
    /// each link a client asks to have served.
    ServeLinks,
    /// A frame read from a served link that the client hands back to chmpx to deliver the
    /// usual way (while its merge asks for the last update time, chmpx holds what comes).
    LinkFrame { data: Vec<u8> },
    /// Messages this client sent and received on links of its own (direct, served and copy
    /// links) since its last report, counted by chmpx as if they had passed it (SELFSTATUS,
    /// DUMP), to and from servers and slaves apart; while chmpx traces
    /// ([`Response::Tracing`]), the records chmpx would have kept of them (TRACEVIEW).
    LinkCounts {
        servers: Stat,
        slaves: Stat,
        trace: Vec<TraceEntry>,
    },
}

/// Counts of the C2C messages exchanged with one kind of peer (servers or slaves), as the
/// original's `CHMSTAT` keeps them: a message's bytes are its packet's (head and body).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub sent: u64,
    pub received: u64,
    pub bytes: u64,
    /// Smallest and largest packet (0: none yet).
    pub min_bytes: u64,
    pub max_bytes: u64,
}

impl Stat {
    /// One message of `bytes` sent (or received).
    pub fn add(&mut self, sent: bool, bytes: u64) {
        if sent {
            self.sent += 1;
        } else {
            self.received += 1;
        }
        self.bytes += bytes;
        self.note_size(bytes, bytes);
    }

    /// What another count saw, added to this one.
    pub fn merge(&mut self, o: &Stat) {
        self.sent = self.sent.saturating_add(o.sent);
        self.received = self.received.saturating_add(o.received);
        self.bytes = self.bytes.saturating_add(o.bytes);
        if !o.is_empty() {
            self.note_size(o.min_bytes, o.max_bytes);
        }
    }

    fn note_size(&mut self, min: u64, max: u64) {
        if self.min_bytes == 0 || min < self.min_bytes {
            self.min_bytes = min;
        }
        self.max_bytes = self.max_bytes.max(max);
    }

    fn is_empty(&self) -> bool {
        self.sent + self.received == 0
    }

    /// Its five words in the order they are encoded (here and in status snapshots).
    pub(crate) fn words(&self) -> [u64; 5] {
        [
            self.sent,
            self.received,
            self.bytes,
            self.min_bytes,
            self.max_bytes,
        ]
    }

    pub(crate) fn from_words(w: [u64; 5]) -> Stat {
        let [sent, received, bytes, min_bytes, max_bytes] = w;
        Stat {
            sent,
            received,
            bytes,
            min_bytes,
            max_bytes,
        }
    }
}

/// One record of chmpx's trace log (TRACE, TRACEVIEW): direction and device
/// (`CHMLOG_TYPE_*`), body length, start and finish times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceEntry {
    pub log_type: u64,
    pub length: u64,
    pub start: Timespec,
    pub finish: Timespec,
}

/// What a merge asks a client-on-server for (`CHM_MERGE_GETPARAM` less `starthash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MergeGet {
    pub startts: Timespec,
    pub endts: Timespec,
    pub target_hash: u64,
    pub target_max_hash: u64,
    pub old_hash: u64,
    pub old_max_hash: u64,
    pub target_hash_range: i64,
    pub is_expire_check: bool,
}

/// chmpx -> client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Answer to Hello: the chmpx's identity and the client's first msgid.
    Welcome {
        chmpxid: u64,
        msgid: u64,
        is_server: bool,
        pid: u32,
        group: String,
    },
    /// Answer to Open (all-ones = none left).
    Opened { msgid: u64 },
    /// Answer to Send: receivers reached (-1 = error).
    Sent { receivers: i64 },
    /// Answer to Close, Reply.
    Done { ok: bool },
    /// A packet for one of the client's msgids.
    Deliver {
        msgid: u64,
        pkt: ComPkt,
        body: Vec<u8>,
    },
    /// Answer to Dump.
    DumpText { text: String },
    /// Answer to Status: encoded snapshot (see [`crate::node::Snapshot`]).
    StatusData { data: Vec<u8> },
    /// The request was refused; the text says why.
    Refused { reason: String },
    /// Merge channel: ask for the latest update time of the client's data.
    MergeGetLastTs,
    /// Merge channel: send the data `param` describes to `requester` (MergeData ...
    /// MergeResult).
    MergeGet { requester: u64, param: MergeGet },
    /// Merge channel: store one datum received from another server.
    MergeSet { ts: Timespec, data: Vec<u8> },
    /// Merge channel: every datum of this merge was sent; answer with MergeSetDone.
    MergeSetEnd,
    /// Merge channel: the merge was aborted (stop sending data).
    MergeAbort,
    /// A [`Request::Post`] from `msgid` reached nobody.
    NotSent { msgid: u64 },
    /// Answer to [`Request::Links`]: how this slave routes (CHMPXIDTYPE, REPLICA, random
    /// delivery) and its snapshot (identity and the server table).
    Links {
        id_type: u8,
        replica: i64,
        random: bool,
        snapshot: Vec<u8>,
    },
    /// The server table changed (for clients that asked for [`Request::Links`]).
    RingChanged,
    /// chmpx started (true) or stopped keeping its trace log: clients with links of their own
    /// send the records of what passes on them with their counts ([`Request::LinkCounts`]).
    Tracing { on: bool },
    /// A link for the client to serve (after [`Request::ServeLinks`]): its socket comes with
    /// this message (SCM_RIGHTS, no later than its last byte); `inbuf` is what chmpx read
    /// from it and did not handle yet, `outbuf` what it had not written to it yet.
    /// `copies`: a link another server's client sends its copies on (`crate::copies`):
    /// nothing on it is answered on it.
    LinkHandover {
        inbuf: Vec<u8>,
        outbuf: Vec<u8>,
        copies: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpcError {
    #[error("truncated local message")]
    Truncated,
    #[error("unknown local message kind {0}")]
    Kind(u8),
    #[error("local message too long ({0} bytes)")]
    TooLong(usize),
    #[error("bad text in local message")]
    Text,
    #[error("bad packet in local message")]
    Packet,
}

struct W(Vec<u8>);
impl W {
    fn new(kind: u8) -> W {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&[0, 0, 0, 0, kind]);
        W(v)
    }
    fn u32(mut self, v: u32) -> W {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(mut self, v: u64) -> W {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn i64(self, v: i64) -> W {
        self.u64(v as u64)
    }
    fn bool(mut self, v: bool) -> W {
        self.0.push(v as u8);
        self
    }
    fn bytes(mut self, b: &[u8]) -> W {
        self.0.extend_from_slice(&(b.len() as u64).to_le_bytes());
        self.0.extend_from_slice(b);
        self
    }
    fn stat(self, st: &Stat) -> W {
        st.words().into_iter().fold(self, W::u64)
    }
    fn ts(self, t: &Timespec) -> W {
        self.i64(t.sec).i64(t.nsec)
    }
    fn merge_get(self, p: &MergeGet) -> W {
        self.ts(&p.startts)
            .ts(&p.endts)
            .u64(p.target_hash)
            .u64(p.target_max_hash)
            .u64(p.old_hash)
            .u64(p.old_max_hash)
            .i64(p.target_hash_range)
            .bool(p.is_expire_check)
    }
    fn pkt(mut self, p: &ComPkt) -> W {
        self.0.extend_from_slice(&p.encode());
        self
    }
    fn done(mut self) -> Vec<u8> {
        let n = (self.0.len() - 4) as u32;
        self.0[..4].copy_from_slice(&n.to_le_bytes());
        self.0
    }
}

struct R<'a>(&'a [u8]);
impl<'a> R<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], IpcError> {
        if self.0.len() < n {
            return Err(IpcError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, IpcError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| IpcError::Truncated)?,
        ))
    }
    fn u64(&mut self) -> Result<u64, IpcError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| IpcError::Truncated)?,
        ))
    }
    fn bool(&mut self) -> Result<bool, IpcError> {
        Ok(self.take(1)?[0] != 0)
    }
    fn bytes(&mut self) -> Result<Vec<u8>, IpcError> {
        let n = self.u64()? as usize;
        if n > MAX_MSG {
            return Err(IpcError::TooLong(n));
        }
        Ok(self.take(n)?.to_vec())
    }
    fn text(&mut self) -> Result<String, IpcError> {
        String::from_utf8(self.bytes()?).map_err(|_| IpcError::Text)
    }
    fn stat(&mut self) -> Result<Stat, IpcError> {
        let mut w = [0u64; 5];
        for x in &mut w {
            *x = self.u64()?;
        }
        Ok(Stat::from_words(w))
    }
    fn ts(&mut self) -> Result<Timespec, IpcError> {
        Ok(Timespec {
            sec: self.u64()? as i64,
            nsec: self.u64()? as i64,
        })
    }
    fn merge_get(&mut self) -> Result<MergeGet, IpcError> {
        Ok(MergeGet {
            startts: self.ts()?,
            endts: self.ts()?,
            target_hash: self.u64()?,
            target_max_hash: self.u64()?,
            old_hash: self.u64()?,
            old_max_hash: self.u64()?,
            target_hash_range: self.u64()? as i64,
            is_expire_check: self.bool()?,
        })
    }
    fn pkt(&mut self) -> Result<ComPkt, IpcError> {
        ComPkt::decode(self.take(COMPKT_SIZE)?).map_err(|_| IpcError::Packet)
    }
}

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Request::Hello {
                version,
                pid,
                on_server,
                merge,
            } => W::new(1)
                .u32(*version)
                .u32(*pid)
                .bool(*on_server)
                .bool(*merge),
            Request::Open => W::new(2),
            Request::Close { msgid } => W::new(3).u64(*msgid),
            Request::Send {
                msgid,
                c2ctype,
                hash,
                body,
            } => W::new(4).u64(*msgid).u64(*c2ctype).u64(*hash).bytes(body),
            Request::Reply { pkt, body } => W::new(5).pkt(pkt).bytes(body),
            Request::Dump => W::new(6),
            Request::Status => W::new(7),
            Request::MergeHello { version, pid } => W::new(8).u32(*version).u32(*pid),
            Request::MergeLastTs { ok, ts } => W::new(9).bool(*ok).ts(ts),
            Request::MergeData {
                requester,
                ts,
                data,
            } => W::new(10).u64(*requester).ts(ts).bytes(data),
            Request::MergeResult { requester, ok } => W::new(11).u64(*requester).bool(*ok),
            Request::MergeSetDone { ok } => W::new(12).bool(*ok),
            Request::Post {
                msgid,
                c2ctype,
                hash,
                body,
            } => W::new(13).u64(*msgid).u64(*c2ctype).u64(*hash).bytes(body),
            Request::Links => W::new(14),
            Request::ServeLinks => W::new(15),
            Request::LinkFrame { data } => W::new(16).bytes(data),
            Request::LinkCounts {
                servers,
                slaves,
                trace,
            } => trace.iter().fold(
                W::new(17)
                    .stat(servers)
                    .stat(slaves)
                    .u32(trace.len() as u32),
                |w, e| w.u64(e.log_type).u64(e.length).ts(&e.start).ts(&e.finish),
            ),
        }
        .done()
    }

    /// Decodes one message body (after the length prefix).
    pub fn decode(buf: &[u8]) -> Result<Request, IpcError> {
        let mut r = R(buf);
        let kind = r.take(1)?[0];
        Ok(match kind {
            1 => Request::Hello {
                version: r.u32()?,
                pid: r.u32()?,
                on_server: r.bool()?,
                merge: r.bool()?,
            },
            2 => Request::Open,
            3 => Request::Close { msgid: r.u64()? },
            4 => Request::Send {
                msgid: r.u64()?,
                c2ctype: r.u64()?,
                hash: r.u64()?,
                body: r.bytes()?,
            },
            5 => Request::Reply {
                pkt: r.pkt()?,
                body: r.bytes()?,
            },
            6 => Request::Dump,
            7 => Request::Status,
            8 => Request::MergeHello {
                version: r.u32()?,
                pid: r.u32()?,
            },
            9 => Request::MergeLastTs {
                ok: r.bool()?,
                ts: r.ts()?,
            },
            10 => Request::MergeData {
                requester: r.u64()?,
                ts: r.ts()?,
                data: r.bytes()?,
            },
            11 => Request::MergeResult {
                requester: r.u64()?,
                ok: r.bool()?,
            },
            12 => Request::MergeSetDone { ok: r.bool()? },
            13 => Request::Post {
                msgid: r.u64()?,
                c2ctype: r.u64()?,
                hash: r.u64()?,
                body: r.bytes()?,
            },
            14 => Request::Links,
            15 => Request::ServeLinks,
            16 => Request::LinkFrame { data: r.bytes()? },
            17 => Request::LinkCounts {
                servers: r.stat()?,
                slaves: r.stat()?,
                trace: {
                    let n = r.u32()? as usize;
                    // (each record takes 48 bytes: a count larger than the rest is a lie)
                    let mut v = Vec::with_capacity(n.min(r.0.len() / 48));
                    for _ in 0..n {
                        v.push(TraceEntry {
                            log_type: r.u64()?,
                            length: r.u64()?,
                            start: r.ts()?,
                            finish: r.ts()?,
                        });
                    }
                    v
                },
            },
            k => return Err(IpcError::Kind(k)),
        })
    }
}

impl Response {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Response::Welcome {
                chmpxid,
                msgid,
                is_server,
                pid,
                group,
            } => W::new(1)
                .u64(*chmpxid)
                .u64(*msgid)
                .bool(*is_server)
                .u32(*pid)
                .bytes(group.as_bytes()),
            Response::Opened { msgid } => W::new(2).u64(*msgid),
            Response::Sent { receivers } => W::new(3).i64(*receivers),
            Response::Done { ok } => W::new(4).bool(*ok),
            Response::Deliver { msgid, pkt, body } => W::new(5).u64(*msgid).pkt(pkt).bytes(body),
            Response::DumpText { text } => W::new(6).bytes(text.as_bytes()),
            Response::StatusData { data } => W::new(7).bytes(data),
            Response::Refused { reason } => W::new(8).bytes(reason.as_bytes()),
            Response::MergeGetLastTs => W::new(9),
            Response::MergeGet { requester, param } => W::new(10).u64(*requester).merge_get(param),
            Response::MergeSet { ts, data } => W::new(11).ts(ts).bytes(data),
            Response::MergeSetEnd => W::new(12),
            Response::MergeAbort => W::new(13),
            Response::NotSent { msgid } => W::new(14).u64(*msgid),
            Response::Links {
                id_type,
                replica,
                random,
                snapshot,
            } => W::new(15)
                .u32(*id_type as u32)
                .i64(*replica)
                .bool(*random)
                .bytes(snapshot),
            Response::RingChanged => W::new(16),
            Response::Tracing { on } => W::new(18).bool(*on),
            Response::LinkHandover {
                inbuf,
                outbuf,
                copies,
            } => W::new(17).bytes(inbuf).bytes(outbuf).bool(*copies),
        }
        .done()
    }

    pub fn decode(buf: &[u8]) -> Result<Response, IpcError> {
        let mut r = R(buf);
        let kind = r.take(1)?[0];
        Ok(match kind {
            1 => Response::Welcome {
                chmpxid: r.u64()?,
                msgid: r.u64()?,
                is_server: r.bool()?,
                pid: r.u32()?,
                group: r.text()?,
            },
            2 => Response::Opened { msgid: r.u64()? },
            3 => Response::Sent {
                receivers: r.u64()? as i64,
            },
            4 => Response::Done { ok: r.bool()? },
            5 => Response::Deliver {
                msgid: r.u64()?,
                pkt: r.pkt()?,
                body: r.bytes()?,
            },
            6 => Response::DumpText { text: r.text()? },
            7 => Response::StatusData { data: r.bytes()? },
            8 => Response::Refused { reason: r.text()? },
            9 => Response::MergeGetLastTs,
            10 => Response::MergeGet {
                requester: r.u64()?,
                param: r.merge_get()?,
            },
            11 => Response::MergeSet {
                ts: r.ts()?,
                data: r.bytes()?,
            },
            12 => Response::MergeSetEnd,
            13 => Response::MergeAbort,
            14 => Response::NotSent { msgid: r.u64()? },
            15 => Response::Links {
                id_type: r.u32()? as u8,
                replica: r.u64()? as i64,
                random: r.bool()?,
                snapshot: r.bytes()?,
            },
            16 => Response::RingChanged,
            18 => Response::Tracing { on: r.bool()? },
            17 => Response::LinkHandover {
                inbuf: r.bytes()?,
                outbuf: r.bytes()?,
                copies: r.bool()?,
            },
            k => return Err(IpcError::Kind(k)),
        })
    }
}

/// Splits a byte stream into message bodies (without their length prefix).
#[derive(Default)]
pub struct MsgReader {
    buf: Vec<u8>,
    start: usize,
}

impl MsgReader {
    pub fn feed(&mut self, data: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Whether a complete message is buffered.
    pub fn next_msg_ready(&self) -> Result<bool, IpcError> {
        let avail = &self.buf[self.start..];
        if avail.len() < 4 {
            return Ok(false);
        }
        let n = u32::from_le_bytes([avail[0], avail[1], avail[2], avail[3]]) as usize;
        Ok(avail.len() >= 4 + n)
    }

    /// The next complete message body, if any.
    pub fn next_msg(&mut self) -> Result<Option<Vec<u8>>, IpcError> {
        let avail = &self.buf[self.start..];
        if avail.len() < 4 {
            return Ok(None);
        }
        let n = u32::from_le_bytes([avail[0], avail[1], avail[2], avail[3]]) as usize;
        if n > MAX_MSG || n == 0 {
            return Err(IpcError::TooLong(n));
        }
        if avail.len() < 4 + n {
            return Ok(None);
        }
        let body = avail[4..4 + n].to_vec();
        self.start += 4 + n;
        if self.start > 1 << 20 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        Ok(Some(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ComHead, PckId};
    use proptest::prelude::*;

    fn round_req(r: Request) {
        let bytes = r.encode();
        let mut rd = MsgReader::default();
        rd.feed(&bytes);
        let body = rd.next_msg().unwrap().unwrap();
        assert_eq!(Request::decode(&body).unwrap(), r);
    }

    /// A report that claims more trace records than it carries is refused, without taking
    /// memory for the claim.
    /// Counts add up; the smallest and largest packets are those of any count that saw one.
    #[test]
    fn counts_add_up_with_their_smallest_and_largest_packets() {
        let mut a = Stat::default();
        a.add(true, 200);
        a.add(false, 130);
        assert_eq!(
            a,
            Stat {
                sent: 1,
                received: 1,
                bytes: 330,
                min_bytes: 130,
                max_bytes: 200
            }
        );
        a.merge(&Stat::default());
        assert_eq!(
            (a.min_bytes, a.max_bytes),
            (130, 200),
            "an empty count changes nothing"
        );
        let mut b = Stat::default();
        b.add(true, 125);
        b.add(true, 900);
        a.merge(&b);
        assert_eq!((a.sent, a.received, a.bytes), (3, 1, 1355));
        assert_eq!((a.min_bytes, a.max_bytes), (125, 900));
    }

    #[test]
    fn a_report_with_a_false_count_of_trace_records_is_refused() {
        let mut body = Request::LinkCounts {
            servers: Stat::default(),
            slaves: Stat::default(),
            trace: vec![],
        }
        .encode();
        let n = body.len();
        body[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Request::decode(&body[4..]), Err(IpcError::Truncated));
    }

    #[test]
    fn round_trips() {
        round_req(Request::Hello {
            version: 1,
            pid: 42,
            on_server: true,
            merge: true,
        });
        round_req(Request::Open);
        round_req(Request::Links);
        round_req(Request::ServeLinks);
        round_req(Request::LinkFrame {
            data: vec![1, 2, 3],
        });
        let stat = |n: u64| Stat {
            sent: n,
            received: u64::MAX,
            bytes: 3,
            min_bytes: 4,
            max_bytes: 5,
        };
        round_req(Request::LinkCounts {
            servers: stat(1),
            slaves: stat(2),
            trace: vec![],
        });
        round_req(Request::LinkCounts {
            servers: Stat::default(),
            slaves: stat(0),
            trace: vec![
                TraceEntry {
                    log_type: 0xb,
                    length: 10,
                    start: Timespec { sec: 1, nsec: 2 },
                    finish: Timespec { sec: 3, nsec: 4 },
                },
                TraceEntry {
                    log_type: 0x15,
                    length: u64::MAX,
                    start: Timespec::default(),
                    finish: Timespec {
                        sec: -1,
                        nsec: 999_999_999,
                    },
                },
            ],
        });
        let ts = Timespec { sec: 5, nsec: 6 };
        round_req(Request::MergeHello { version: 1, pid: 9 });
        round_req(Request::MergeLastTs { ok: true, ts });
        round_req(Request::MergeData {
            requester: 3,
            ts,
            data: vec![7; 33],
        });
        round_req(Request::MergeResult {
            requester: 3,
            ok: false,
        });
        round_req(Request::MergeSetDone { ok: true });
        round_req(Request::Close { msgid: 7 });
        round_req(Request::Send {
            msgid: 1,
            c2ctype: 2,
            hash: 3,
            body: b"abc".to_vec(),
        });
        round_req(Request::Post {
            msgid: 4,
            c2ctype: 5,
            hash: 6,
            body: b"def".to_vec(),
        });
        let head = ComHead::c2c(
            1,
            PckId {
                chmpxid: 1,
                msgid: 2,
            },
            PckId::INVALID,
            9,
            Timespec::default(),
        );
        let pkt = crate::wire::Frame::new(head, b"x".to_vec()).encode();
        let pkt = ComPkt::decode(&pkt).unwrap();
        round_req(Request::Reply {
            pkt,
            body: vec![1; 1000],
        });
        for resp in [
            Response::Welcome {
                chmpxid: 1,
                msgid: 2,
                is_server: true,
                pid: 3,
                group: "G".into(),
            },
            Response::Sent { receivers: -1 },
            Response::NotSent { msgid: 9 },
            Response::RingChanged,
            Response::Tracing { on: true },
            Response::Tracing { on: false },
            Response::LinkHandover {
                inbuf: vec![4, 5],
                outbuf: vec![],
                copies: true,
            },
            Response::Links {
                id_type: 2,
                replica: 1,
                random: false,
                snapshot: vec![3; 50],
            },
            Response::Deliver {
                msgid: 5,
                pkt,
                body: vec![],
            },
            Response::Refused {
                reason: "no".into(),
            },
            Response::MergeGetLastTs,
            Response::MergeGet {
                requester: 4,
                param: MergeGet {
                    startts: Timespec { sec: 1, nsec: 2 },
                    endts: Timespec { sec: 3, nsec: 4 },
                    target_hash: 1,
                    target_max_hash: 3,
                    old_hash: u64::MAX,
                    old_max_hash: 2,
                    target_hash_range: 2,
                    is_expire_check: true,
                },
            },
            Response::MergeSet {
                ts: Timespec { sec: 1, nsec: 2 },
                data: vec![1, 2, 3],
            },
            Response::MergeSetEnd,
            Response::MergeAbort,
        ] {
            let b = resp.encode();
            assert_eq!(Response::decode(&b[4..]).unwrap(), resp);
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Request::decode(&data);
            let _ = Response::decode(&data);
            let mut rd = MsgReader::default();
            rd.feed(&data);
            while let Ok(Some(m)) = rd.next_msg() { let _ = Request::decode(&m); }
        }
    }
}
