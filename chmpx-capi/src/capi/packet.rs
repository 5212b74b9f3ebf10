//! Packet handles: a received packet is a malloc'ed `COMPKT` in host byte order (as the
//! original's in-memory packets), so C callers read `head.dept_ids`, `head.hash`, ... directly.
//! The wire codec is big-endian; this converts between the two (every field is 64 bits).
use chmpx_core::client::Packet;
use chmpx_core::wire::{ComPkt, COMPKT_SIZE};

use crate::capi::ffi::{self, COMPKT_BYTES};
use crate::capi::types::chmpx_pkt_h;

const _: () = assert!(COMPKT_SIZE == COMPKT_BYTES);

/// The 120 bytes of `pkt` in host byte order.
pub fn to_host(pkt: &ComPkt) -> [u8; COMPKT_BYTES] {
    let be = pkt.encode();
    let mut out = [0u8; COMPKT_BYTES];
    for (o, c) in out.chunks_exact_mut(8).zip(be.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        o.copy_from_slice(&u64::from_be_bytes(w).to_ne_bytes());
    }
    out
}

/// A packet from its 120 host-order bytes.
pub fn from_host(raw: &[u8; COMPKT_BYTES]) -> ComPkt {
    let mut be = [0u8; COMPKT_BYTES];
    for (o, c) in be.chunks_exact_mut(8).zip(raw.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        o.copy_from_slice(&u64::from_ne_bytes(w).to_be_bytes());
    }
    // 120 bytes always decode.
    ComPkt::decode(&be).unwrap_or_default()
}

/// Hands a received packet to C: the packet handle, and the body either as its own malloc'ed
/// buffer (`with_body_apart`) or right after the head in the packet. `length` is set to the
/// total (head + body) and `offset` to 120 either way. None when out of memory.
pub fn hand_out(p: Packet, with_body_apart: bool) -> Option<(chmpx_pkt_h, Option<*mut u8>, usize)> {
    let (mut pkt, body) = p;
    pkt.length = (COMPKT_BYTES + body.len()) as u64;
    pkt.offset = COMPKT_BYTES as u64;
    let head = to_host(&pkt);
    if with_body_apart {
        let b = ffi::malloc_copy(&body);
        if b.is_null() {
            return None;
        }
        match ffi::packet_new(&head, None) {
            Some(h) => Some((h, Some(b), body.len())),
            None => {
                // give the body back (nobody saw it)
                ffi::free(b);
                None
            }
        }
    } else {
        ffi::packet_new(&head, Some(&body)).map(|h| (h, None, body.len()))
    }
}

/// The packet behind a handle we gave out (None for 0, freed or foreign values).
pub fn of_handle(h: chmpx_pkt_h) -> Option<ComPkt> {
    ffi::packet_head(h).map(|raw| from_host(&raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chmpx_core::wire::{ComHead, PckId, Timespec};

    #[test]
    fn host_order_round_trip() {
        let head = ComHead::c2c(
            2,
            PckId {
                chmpxid: 0x1122_3344_5566_7788,
                msgid: 9,
            },
            PckId::INVALID,
            0xabcdef,
            Timespec { sec: 5, nsec: 6 },
        );
        let pkt = ComPkt {
            head,
            length: 130,
            offset: 120,
        };
        let raw = to_host(&pkt);
        // host order: the dept chmpxid at byte 24 reads back natively
        let mut w = [0u8; 8];
        w.copy_from_slice(&raw[24..32]);
        assert_eq!(u64::from_ne_bytes(w), 0x1122_3344_5566_7788);
        assert_eq!(from_host(&raw), pkt);
    }

    #[test]
    fn hand_out_both_ways() {
        let pkt = ComPkt::default();
        let (h, b, n) = hand_out((pkt, b"abc".to_vec()), false).unwrap();
        assert!(b.is_none());
        assert_eq!(n, 3);
        let got = of_handle(h).unwrap();
        assert_eq!(got.length, 123);
        assert_eq!(got.offset, 120);
        assert!(ffi::packet_free(h));
        let (h, b, _) = hand_out((pkt, b"abc".to_vec()), true).unwrap();
        ffi::free(b.unwrap());
        assert!(ffi::packet_free(h));
        assert!(of_handle(h).is_none());
    }
}
