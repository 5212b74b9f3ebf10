//! Wire codec for the TCP frames exchanged between chmpx processes.
//!
//! Everything here is pure data conversion: no sockets, no clocks, no global state.
//!
//! # Frame layout
//!
//! Every message on a chmpx data connection is one *frame*:
//!
//! ```text
//! +--------------------------+-------------------------------------------+
//! | COMPKT (120 bytes, BE)   | payload (COMPKT.length - 120 bytes)       |
//! +--------------------------+-------------------------------------------+
//! ```
//!
//! * [`ComPkt`] is the fixed 120-byte packed header; every integer in it is big-endian.
//!   `length` is the **total** frame size (header included) and `offset` is always 120.
//!   There is no magic number and no checksum, so a stream cannot be resynchronised after a
//!   bad header: [`FrameReader`] stops for good at the first error.
//! * For `COM_C2C` (type 1) the payload is the user's message body, passed through untouched.
//! * For `COM_PX2PX` (type 2) the payload is one `PXCOM_*` structure, see [`PxMsg`]: a 24-byte
//!   head `{type, result, length}` followed by a packed, big-endian body and, for a few types,
//!   a trailing array whose position is given by an explicit offset field.
//!
//! Packed structures follow the original C layout byte for byte: 64-bit integers big-endian,
//! `short`s big-endian 16-bit, `bool`s one raw byte, `char[N]` arrays raw and NUL-padded,
//! `struct timespec` two big-endian 64-bit integers. The fixed server record is [`ChmpxSvr`]
//! (26 720 bytes).
//!
//! # Hostile input
//!
//! Decoders never panic and never allocate more than the bytes they were handed: declared
//! lengths, counts and offsets are checked against the buffer before anything is reserved, and
//! [`FrameReader`] refuses frames above a configurable maximum ([`DEFAULT_MAX_FRAME_LEN`]).

mod bytes;
mod chmpxsvr;
mod compkt;
mod consts;
mod pxcom;

#[cfg(test)]
mod tests;

pub use chmpxsvr::{original_coninit_port, ChmpxSsl, ChmpxSvr, HostPort};
pub use compkt::{
    reply_head, ComHead, ComPkt, Frame, FrameReader, PckId, Timespec, DEFAULT_MAX_FRAME_LEN,
};
pub use consts::*;
pub use pxcom::{
    pxcom_struct_size, pxcom_type_name, ConinitReq, MergeParam, PxCom, PxMsg, VersionInfo,
};

/// Everything that can go wrong while decoding (encoding cannot fail).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The buffer ends before the structure being read.
    #[error("truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes the structure needs.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// `COMPKT.length` is smaller than the 120-byte header itself.
    #[error("COMPKT length {0} is shorter than the 120-byte COMPKT")]
    FrameTooShort(u64),
    /// `COMPKT.length` is above the configured maximum; nothing was allocated for it.
    #[error("COMPKT length {length} exceeds the maximum frame size {max}")]
    FrameTooLong {
        /// Declared total length.
        length: u64,
        /// Configured maximum.
        max: u64,
    },
    /// `COMPKT.offset` is not 120.
    #[error("COMPKT offset {0} is not 120")]
    BadOffset(u64),
    /// A declared length disagrees with the size of the buffer it describes.
    #[error("{what}: declared {declared} bytes, buffer has {actual}")]
    LengthMismatch {
        /// Which length field.
        what: &'static str,
        /// Value found in the data.
        declared: u64,
        /// Size actually present.
        actual: u64,
    },
    /// A trailing-array offset field is not the size of its structure.
    #[error("{what}: offset {declared}, expected {expected}")]
    BadArrayOffset {
        /// Which offset field.
        what: &'static str,
        /// Value found in the data.
        declared: u64,
        /// The only value the format allows.
        expected: u64,
    },
    /// A trailing-array element count is negative, overflows, or does not fill the buffer.
    #[error("{what}: count {count} does not match the {available} bytes that follow")]
    BadCount {
        /// Which count field.
        what: &'static str,
        /// Count found in the data (as the signed `long` of the original).
        count: i64,
        /// Bytes available for the array.
        available: u64,
    },
    /// The COMPKT type is not the one this operation needs (e.g. PXCOM decode of a C2C frame).
    #[error("COMPKT type {0} is not COM_PX2PX")]
    NotPx2Px(u64),
    /// A PXCOM type number that no chmpx version defines.
    #[error("unknown PXCOM type {0}")]
    UnknownType(u64),
    /// A PXCOM type of protocol version 1 (types 1..=8), which this codec does not handle.
    #[error("PXCOM type {0} ({name}) belongs to protocol version 1 and is not supported", name = pxcom_type_name(*.0))]
    Unsupported(u64),
}
