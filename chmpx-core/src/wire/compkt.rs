//! The 120-byte `COMPKT` frame header, whole frames, an incremental frame reader and the
//! helpers that build PX2PX / C2C frames and reply heads.
//!
//! `COMPKT` layout (packed, every field a big-endian 64-bit integer):
//!
//! | offset | field | notes |
//! |---|---|---|
//! | 0 | `head.version` | [`COM_VERSION_1`] for C2C, [`COM_VERSION_2`] for PX2PX |
//! | 8 | `head.type` | [`COM_C2C`] or [`COM_PX2PX`] on TCP |
//! | 16 | `head.c2ctype` | delivery mode + [`COM_C2C_NOT_SELF`]; 0 for PX2PX |
//! | 24 | `head.dept_ids` | `{chmpxid, msgid}` of the end-to-end origin |
//! | 40 | `head.term_ids` | `{chmpxid, msgid}` of the end-to-end destination |
//! | 56 | `head.peer_dept_msgid` | MQ-leg id; all ones on TCP |
//! | 64 | `head.peer_term_msgid` | MQ-leg id; all ones on TCP |
//! | 72 | `head.mq_serial_num` | 0 on TCP |
//! | 80 | `head.hash` | routing hash; all ones for PX2PX |
//! | 88 | `head.reqtime` | `{tv_sec, tv_nsec}` (signed) |
//! | 104 | `length` | total frame size, this header included |
//! | 112 | `offset` | start of the payload from the frame start; always 120 |

use super::bytes::Reader;
use super::consts::*;
use super::pxcom::PxMsg;
use super::WireError;

/// Default upper bound for one frame accepted by [`FrameReader`] (64 MiB). The original has no
/// limit at all; a 1 000-server `N2_STATUS_RES` is about 26 MB.
pub const DEFAULT_MAX_FRAME_LEN: u64 = 64 * 1024 * 1024;

/// `PCKID`: a chmpx process id and a message-queue id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PckId {
    /// chmpxid of the process.
    pub chmpxid: u64,
    /// msgid of the queue inside that process (all ones = none).
    pub msgid: u64,
}

impl PckId {
    /// Both fields all ones.
    pub const INVALID: PckId = PckId {
        chmpxid: CHM_INVALID_CHMPXID,
        msgid: CHM_INVALID_MSGID,
    };
}

/// `struct timespec` as it travels: two signed 64-bit big-endian integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Timespec {
    /// Seconds.
    pub sec: i64,
    /// Nanoseconds.
    pub nsec: i64,
}

/// `COMHEAD`: the first 104 bytes of a `COMPKT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ComHead {
    /// Protocol version (`comver_t`).
    pub version: u64,
    /// Frame type (`comtype_t`): [`COM_C2C`], [`COM_PX2PX`], ...
    pub com_type: u64,
    /// C2C delivery type, [`COM_C2C_IGNORE`] for PX2PX.
    pub c2ctype: u64,
    /// End-to-end origin.
    pub dept_ids: PckId,
    /// End-to-end destination.
    pub term_ids: PckId,
    /// Hop-local origin queue (MQ legs only).
    pub peer_dept_msgid: u64,
    /// Hop-local destination queue (MQ legs only).
    pub peer_term_msgid: u64,
    /// MQ serial number (MQ legs only).
    pub mq_serial_num: u64,
    /// Routing hash.
    pub hash: u64,
    /// Request time.
    pub reqtime: Timespec,
}

/// `COMPKT`: [`ComHead`] plus the frame `length` (total, header included) and payload `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ComPkt {
    /// The 104-byte head.
    pub head: ComHead,
    /// Total frame length in bytes, including these 120.
    pub length: u64,
    /// Payload offset from the start of the frame (the format only allows 120).
    pub offset: u64,
}

impl ComHead {
    /// Head of a PX2PX frame as the original's `SET_PXCOMPKT` builds it: version 2, type
    /// [`COM_PX2PX`], c2ctype 0, the two chmpxids with all-ones msgids, all-ones peer msgids,
    /// serial 0, hash all ones. `reqtime` is the caller's (now, or zero / the incoming frame's
    /// time when a ring message is forwarded).
    pub fn px2px(dept_chmpxid: u64, term_chmpxid: u64, reqtime: Timespec) -> ComHead {
        ComHead {
            version: COM_VERSION_2,
            com_type: COM_PX2PX,
            c2ctype: COM_C2C_IGNORE,
            dept_ids: PckId {
                chmpxid: dept_chmpxid,
                msgid: CHM_INVALID_MSGID,
            },
            term_ids: PckId {
                chmpxid: term_chmpxid,
                msgid: CHM_INVALID_MSGID,
            },
            peer_dept_msgid: CHM_INVALID_MSGID,
            peer_term_msgid: CHM_INVALID_MSGID,
            mq_serial_num: MIN_MQ_SERIAL_NUMBER,
            hash: CHM_INVALID_HASHVAL,
            reqtime,
        }
    }

    /// Head of a C2C frame as a chmpx puts it on a socket: version 1 (client heads are built with
    /// `COM_VERSION_1` and chmpx forwards them unchanged), type [`COM_C2C`], peer msgids reset to
    /// all ones and serial 0 (chmpx clears those MQ-leg fields before sending). `term.msgid` is
    /// all ones unless this is a reply.
    pub fn c2c(c2ctype: u64, dept: PckId, term: PckId, hash: u64, reqtime: Timespec) -> ComHead {
        ComHead {
            version: COM_VERSION_1,
            com_type: COM_C2C,
            c2ctype,
            dept_ids: dept,
            term_ids: term,
            peer_dept_msgid: CHM_INVALID_MSGID,
            peer_term_msgid: CHM_INVALID_MSGID,
            mq_serial_num: MIN_MQ_SERIAL_NUMBER,
            hash,
            reqtime,
        }
    }
}

/// Head of the answer to `req`: departure and terminus swapped (`dept = req.term`,
/// `term = req.dept`, chmpxids and msgids alike), peer msgids all ones, serial 0, everything
/// else copied. For a C2C request the c2ctype becomes [`COM_C2C_NORMAL`] and the version 1,
/// like `chmpx_msg_reply`; for PX2PX this is what the original's responders do with
/// `SET_PXCOMPKT(term, dept)` (the msgids of PX2PX frames are all ones anyway). `reqtime` is
/// copied: set it to the current time if the reply should carry one.
pub fn reply_head(req: &ComPkt) -> ComHead {
    let mut h = req.head;
    h.dept_ids = req.head.term_ids;
    h.term_ids = req.head.dept_ids;
    h.peer_dept_msgid = CHM_INVALID_MSGID;
    h.peer_term_msgid = CHM_INVALID_MSGID;
    h.mq_serial_num = MIN_MQ_SERIAL_NUMBER;
    if h.com_type == COM_C2C {
        h.version = COM_VERSION_1;
        h.c2ctype = COM_C2C_NORMAL;
    } else if h.com_type == COM_PX2PX {
        h.c2ctype = COM_C2C_IGNORE;
        h.hash = CHM_INVALID_HASHVAL;
    }
    h
}

impl ComPkt {
    /// Encode to the 120 wire bytes, exactly as given (no field is fixed up).
    pub fn encode(&self) -> [u8; COMPKT_SIZE] {
        let h = &self.head;
        let words: [u64; COMPKT_SIZE / 8] = [
            h.version,
            h.com_type,
            h.c2ctype,
            h.dept_ids.chmpxid,
            h.dept_ids.msgid,
            h.term_ids.chmpxid,
            h.term_ids.msgid,
            h.peer_dept_msgid,
            h.peer_term_msgid,
            h.mq_serial_num,
            h.hash,
            h.reqtime.sec as u64,
            h.reqtime.nsec as u64,
            self.length,
            self.offset,
        ];
        let mut out = [0u8; COMPKT_SIZE];
        for (chunk, w) in out.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    /// Decode the first 120 bytes of `buf` (which may be a whole frame). Only the buffer size is
    /// checked here; use [`ComPkt::check_framing`] (or [`Frame::decode`] / [`FrameReader`]) to
    /// validate `length` and `offset`.
    pub fn decode(buf: &[u8]) -> Result<ComPkt, WireError> {
        let mut r = Reader::new(buf);
        if r.remaining() < COMPKT_SIZE {
            return Err(WireError::Truncated {
                need: COMPKT_SIZE,
                have: buf.len(),
            });
        }
        let version = r.u64()?;
        let com_type = r.u64()?;
        let c2ctype = r.u64()?;
        let dept_ids = PckId {
            chmpxid: r.u64()?,
            msgid: r.u64()?,
        };
        let term_ids = PckId {
            chmpxid: r.u64()?,
            msgid: r.u64()?,
        };
        let head = ComHead {
            version,
            com_type,
            c2ctype,
            dept_ids,
            term_ids,
            peer_dept_msgid: r.u64()?,
            peer_term_msgid: r.u64()?,
            mq_serial_num: r.u64()?,
            hash: r.u64()?,
            reqtime: Timespec {
                sec: r.i64()?,
                nsec: r.i64()?,
            },
        };
        Ok(ComPkt {
            head,
            length: r.u64()?,
            offset: r.u64()?,
        })
    }

    /// Check the framing fields: `120 <= length <= max_frame_len` and `offset == 120`.
    /// (The original only rejects `length < 120`; it trusts `offset` blindly.)
    pub fn check_framing(&self, max_frame_len: u64) -> Result<(), WireError> {
        if self.length < COMPKT_SIZE as u64 {
            return Err(WireError::FrameTooShort(self.length));
        }
        if self.length > max_frame_len {
            return Err(WireError::FrameTooLong {
                length: self.length,
                max: max_frame_len,
            });
        }
        if self.offset != COMPKT_SIZE as u64 {
            return Err(WireError::BadOffset(self.offset));
        }
        Ok(())
    }
}

/// One complete frame: header plus payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// The header. [`Frame::encode`] recomputes `length` and `offset` from the payload.
    pub pkt: ComPkt,
    /// Bytes after the header: a PXCOM structure for PX2PX, the user body for C2C.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A frame with `length`/`offset` filled in for `payload`.
    pub fn new(head: ComHead, payload: Vec<u8>) -> Frame {
        Frame {
            pkt: ComPkt {
                head,
                length: (COMPKT_SIZE + payload.len()) as u64,
                offset: COMPKT_SIZE as u64,
            },
            payload,
        }
    }

    /// A PX2PX frame carrying `msg` (see [`ComHead::px2px`]).
    pub fn px2px(dept_chmpxid: u64, term_chmpxid: u64, reqtime: Timespec, msg: &PxMsg) -> Frame {
        Frame::new(
            ComHead::px2px(dept_chmpxid, term_chmpxid, reqtime),
            msg.encode(),
        )
    }

    /// A C2C frame carrying a user body (see [`ComHead::c2c`]).
    pub fn c2c(
        c2ctype: u64,
        dept: PckId,
        term: PckId,
        hash: u64,
        reqtime: Timespec,
        body: Vec<u8>,
    ) -> Frame {
        Frame::new(ComHead::c2c(c2ctype, dept, term, hash, reqtime), body)
    }

    /// Wire bytes. `length` is written as `120 + payload.len()` and `offset` as 120 whatever
    /// `pkt` says, so the output is always a well-formed frame.
    pub fn encode(&self) -> Vec<u8> {
        Frame::encode_parts(self.pkt.head, &self.payload)
    }

    /// The bytes of a frame made of `head` and `payload` (length and offset filled in),
    /// without building a [`Frame`] first.
    pub fn encode_parts(head: ComHead, payload: &[u8]) -> Vec<u8> {
        let pkt = ComPkt {
            head,
            length: (COMPKT_SIZE + payload.len()) as u64,
            offset: COMPKT_SIZE as u64,
        };
        let mut out = Vec::with_capacity(COMPKT_SIZE + payload.len());
        out.extend_from_slice(&pkt.encode());
        out.extend_from_slice(payload);
        out
    }

    /// Decode exactly one frame occupying all of `buf`.
    pub fn decode(buf: &[u8]) -> Result<Frame, WireError> {
        let pkt = ComPkt::decode(buf)?;
        pkt.check_framing(u64::MAX)?;
        if pkt.length != buf.len() as u64 {
            return Err(WireError::LengthMismatch {
                what: "COMPKT length",
                declared: pkt.length,
                actual: buf.len() as u64,
            });
        }
        Ok(Frame {
            pkt,
            payload: buf.get(COMPKT_SIZE..).unwrap_or_default().to_vec(),
        })
    }

    /// A [`COM_LINK`] frame (ours only) from `dept` to `term` saying `what` ([`LINK_ASK`],
    /// [`LINK_SERVED`], [`LINK_KEPT`]): a PX2PX head with that type and one byte of payload.
    pub fn link(dept_chmpxid: u64, term_chmpxid: u64, reqtime: Timespec, what: u8) -> Frame {
        let mut head = ComHead::px2px(dept_chmpxid, term_chmpxid, reqtime);
        head.com_type = COM_LINK;
        Frame::new(head, vec![what])
    }

    /// What a [`COM_LINK`] frame says (None for any other frame or a malformed one).
    pub fn link_what(&self) -> Option<u8> {
        match (self.pkt.head.com_type, self.payload.as_slice()) {
            (COM_LINK, [what]) => Some(*what),
            _ => None,
        }
    }

    /// Decode the payload of a PX2PX frame.
    pub fn px_msg(&self) -> Result<PxMsg, WireError> {
        if self.pkt.head.com_type != COM_PX2PX {
            return Err(WireError::NotPx2Px(self.pkt.head.com_type));
        }
        PxMsg::decode(&self.payload)
    }
}

/// Incremental frame decoder for a byte stream: [`feed`](FrameReader::feed) whatever the socket
/// returned, then pop complete frames with [`next_frame`](FrameReader::next_frame).
///
/// A header with `length < 120`, `offset != 120` or `length` above the maximum is an error as
/// soon as its 120 bytes are in; memory only ever holds bytes actually fed, never a declared
/// length. After an error the stream is unusable (no resynchronisation is possible) and every
/// later call returns the same error.
#[derive(Debug, Clone)]
pub struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    max_frame_len: u64,
    failed: Option<WireError>,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

impl FrameReader {
    /// A reader with the [`DEFAULT_MAX_FRAME_LEN`] limit.
    pub fn new() -> FrameReader {
        FrameReader::with_max_frame_len(DEFAULT_MAX_FRAME_LEN)
    }

    /// A reader refusing frames whose total length exceeds `max_frame_len`.
    pub fn with_max_frame_len(max_frame_len: u64) -> FrameReader {
        FrameReader {
            buf: Vec::new(),
            start: 0,
            max_frame_len,
            failed: None,
        }
    }

    /// The configured limit.
    pub fn max_frame_len(&self) -> u64 {
        self.max_frame_len
    }

    /// Append received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Takes the bytes fed but not yet returned as frames (a connection handed to another
    /// reader); the reader is empty after.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self.buf.split_off(self.start.min(self.buf.len()));
        self.buf.clear();
        self.start = 0;
        rest
    }

    /// Bytes fed but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// How many more bytes the next frame needs (0 when a frame, or an error, is ready to be
    /// returned by [`next_frame`](FrameReader::next_frame)).
    /// Useful to size the next read; it is never more than the configured maximum.
    pub fn bytes_needed(&self) -> usize {
        if self.failed.is_some() {
            return 0;
        }
        let avail = self.buffered();
        if avail < COMPKT_SIZE {
            return COMPKT_SIZE - avail;
        }
        match self.pending() {
            Ok((_, total)) => total.saturating_sub(avail),
            Err(_) => 0,
        }
    }

    /// The error that stopped this reader, if any.
    pub fn error(&self) -> Option<&WireError> {
        self.failed.as_ref()
    }

    /// Header and total length of the frame at the front (its 120 bytes must be buffered),
    /// validated against the framing rules and the maximum.
    fn pending(&self) -> Result<(ComPkt, usize), WireError> {
        let pkt = ComPkt::decode(self.buf.get(self.start..).unwrap_or_default())?;
        pkt.check_framing(self.max_frame_len)?;
        let total = usize::try_from(pkt.length).map_err(|_| WireError::FrameTooLong {
            length: pkt.length,
            max: self.max_frame_len,
        })?;
        Ok((pkt, total))
    }

    /// Pop the next complete frame: `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, WireError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.buffered() < COMPKT_SIZE {
            return Ok(None);
        }
        let (pkt, total) = match self.pending() {
            Ok(p) => p,
            Err(e) => {
                self.failed = Some(e.clone());
                return Err(e);
            }
        };
        if self.buffered() < total {
            return Ok(None);
        }
        let end = self.start + total;
        let payload = self
            .buf
            .get(self.start + COMPKT_SIZE..end)
            .unwrap_or_default()
            .to_vec();
        self.start = end;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(Frame { pkt, payload }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_head() -> ComHead {
        ComHead {
            version: 1,
            com_type: COM_C2C,
            c2ctype: COM_C2C_ROUTING | COM_C2C_NOT_SELF,
            dept_ids: PckId {
                chmpxid: 0x1111,
                msgid: 0x2222,
            },
            term_ids: PckId {
                chmpxid: 0x3333,
                msgid: 0x4444,
            },
            peer_dept_msgid: 0x5555,
            peer_term_msgid: 0x6666,
            mq_serial_num: 0x7777,
            hash: 0x8888,
            reqtime: Timespec { sec: -2, nsec: 3 },
        }
    }

    fn be(buf: &[u8], off: usize) -> u64 {
        u64::from_be_bytes(buf[off..off + 8].try_into().unwrap())
    }

    #[test]
    fn compkt_field_offsets() {
        let pkt = ComPkt {
            head: sample_head(),
            length: 0x99,
            offset: 120,
        };
        let b = pkt.encode();
        let expect: [(usize, u64); 15] = [
            (0, 1),
            (8, COM_C2C),
            (16, 0x12),
            (24, 0x1111),
            (32, 0x2222),
            (40, 0x3333),
            (48, 0x4444),
            (56, 0x5555),
            (64, 0x6666),
            (72, 0x7777),
            (80, 0x8888),
            (88, (-2i64) as u64),
            (96, 3),
            (104, 0x99),
            (112, 120),
        ];
        for (off, v) in expect {
            assert_eq!(be(&b, off), v, "offset {off}");
        }
        assert_eq!(ComPkt::decode(&b).unwrap(), pkt);
        assert!(ComPkt::decode(&b[..119]).is_err());
    }

    #[test]
    fn framing_checks() {
        let mut pkt = ComPkt {
            head: sample_head(),
            length: 119,
            offset: 120,
        };
        assert_eq!(pkt.check_framing(1000), Err(WireError::FrameTooShort(119)));
        pkt.length = 1001;
        assert!(matches!(
            pkt.check_framing(1000),
            Err(WireError::FrameTooLong { length: 1001, .. })
        ));
        pkt.length = 120;
        pkt.offset = 0;
        assert_eq!(pkt.check_framing(1000), Err(WireError::BadOffset(0)));
    }

    #[test]
    fn frame_round_trip_and_exact_length() {
        let f = Frame::new(sample_head(), b"hello".to_vec());
        let bytes = f.encode();
        assert_eq!(bytes.len(), 125);
        assert_eq!(be(&bytes, 104), 125);
        assert_eq!(Frame::decode(&bytes).unwrap(), f);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            Frame::decode(&longer),
            Err(WireError::LengthMismatch { .. })
        ));
        assert!(Frame::decode(&bytes[..124]).is_err());
    }

    #[test]
    fn encode_fixes_inconsistent_length() {
        let mut f = Frame::new(sample_head(), vec![1, 2, 3]);
        f.pkt.length = 7;
        f.pkt.offset = 9;
        let b = f.encode();
        assert_eq!(be(&b, 104), 123);
        assert_eq!(be(&b, 112), 120);
    }

    #[test]
    fn reader_byte_by_byte_and_batched() {
        let frames: Vec<Frame> = (0..5)
            .map(|i| Frame::new(sample_head(), vec![i as u8; i * 7]))
            .collect();
        let stream: Vec<u8> = frames.iter().flat_map(|f| f.encode()).collect();

        let mut r = FrameReader::new();
        let mut got = Vec::new();
        for &b in &stream {
            r.feed(&[b]);
            while let Some(f) = r.next_frame().unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got, frames);
        assert_eq!(r.buffered(), 0);

        let mut r = FrameReader::new();
        r.feed(&stream);
        let mut got = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            got.push(f);
        }
        assert_eq!(got, frames);
    }

    #[test]
    fn reader_bytes_needed() {
        let f = Frame::new(sample_head(), vec![0; 30]);
        let b = f.encode();
        let mut r = FrameReader::new();
        assert_eq!(r.bytes_needed(), 120);
        r.feed(&b[..100]);
        assert_eq!(r.bytes_needed(), 20);
        r.feed(&b[100..130]);
        assert_eq!(r.bytes_needed(), 20);
        assert_eq!(r.next_frame().unwrap(), None);
        r.feed(&b[130..]);
        assert_eq!(r.bytes_needed(), 0);
        assert_eq!(r.next_frame().unwrap(), Some(f));
    }

    #[test]
    fn reader_rejects_lying_length_without_allocating() {
        let mut pkt = ComPkt {
            head: sample_head(),
            length: u64::MAX,
            offset: 120,
        };
        let mut r = FrameReader::new();
        r.feed(&pkt.encode());
        let e = r.next_frame().unwrap_err();
        assert!(matches!(
            e,
            WireError::FrameTooLong {
                length: u64::MAX,
                ..
            }
        ));
        assert!(r.buffered() <= 120);
        // Poisoned: the same error again, even after more input.
        r.feed(&[0; 10]);
        assert_eq!(r.next_frame().unwrap_err(), e);
        assert_eq!(r.error(), Some(&e));

        pkt.length = 100;
        let mut r = FrameReader::new();
        r.feed(&pkt.encode());
        assert_eq!(r.next_frame(), Err(WireError::FrameTooShort(100)));

        pkt.length = 130;
        pkt.offset = 24;
        let mut r = FrameReader::new();
        r.feed(&pkt.encode());
        assert_eq!(r.next_frame(), Err(WireError::BadOffset(24)));

        pkt.offset = 120;
        pkt.length = 1_000;
        let mut r = FrameReader::with_max_frame_len(999);
        r.feed(&pkt.encode());
        assert!(matches!(
            r.next_frame(),
            Err(WireError::FrameTooLong { .. })
        ));
    }

    #[test]
    fn reply_head_swaps_ids() {
        let req = Frame::c2c(
            COM_C2C_ROUTING | COM_C2C_NOT_SELF,
            PckId {
                chmpxid: 1,
                msgid: 2,
            },
            PckId {
                chmpxid: 3,
                msgid: CHM_INVALID_MSGID,
            },
            0xabc,
            Timespec { sec: 5, nsec: 6 },
            b"x".to_vec(),
        );
        assert_eq!(req.pkt.head.version, COM_VERSION_1);
        assert_eq!(req.pkt.head.com_type, COM_C2C);
        let h = reply_head(&req.pkt);
        assert_eq!(
            h.dept_ids,
            PckId {
                chmpxid: 3,
                msgid: CHM_INVALID_MSGID
            }
        );
        assert_eq!(
            h.term_ids,
            PckId {
                chmpxid: 1,
                msgid: 2
            }
        );
        assert_eq!(h.c2ctype, COM_C2C_NORMAL);
        assert_eq!(h.hash, 0xabc);
        assert_eq!(h.version, COM_VERSION_1);

        let px = ComPkt {
            head: ComHead::px2px(10, 20, Timespec::default()),
            length: 144,
            offset: 120,
        };
        let h = reply_head(&px);
        assert_eq!(h, ComHead::px2px(20, 10, Timespec::default()));
    }
}
