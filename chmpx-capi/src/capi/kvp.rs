//! Key/value pair messages: `[u64 BE key length][key][u64 BE value length][value]`, and the hash
//! a pair is routed by (the k2hash hash of the key, FNV-1a unless a hash library is loaded).
use std::ops::Range;

use libc::{c_uchar, size_t};

use crate::capi::ffi::{self, guard, guard_bool, CBool};
use crate::capi::types::*;

const LEN: usize = 8;

/// The serialised pair.
pub fn serialize(key: &[u8], val: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * LEN + key.len() + val.len());
    out.extend_from_slice(&(key.len() as u64).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&(val.len() as u64).to_be_bytes());
    out.extend_from_slice(val);
    out
}

/// Where the key and the value lie in `data`; None when a length runs past the end (the
/// original only checked for 16 bytes and read whatever followed).
pub fn parse(data: &[u8]) -> Option<(Range<usize>, Range<usize>)> {
    let len_at = |pos: usize| -> Option<usize> {
        let b = data.get(pos..pos.checked_add(LEN)?)?;
        let mut w = [0u8; LEN];
        w.copy_from_slice(b);
        usize::try_from(u64::from_be_bytes(w)).ok()
    };
    let klen = len_at(0)?;
    let kend = LEN.checked_add(klen)?;
    let vlen = len_at(kend)?;
    let vstart = kend + LEN;
    let vend = vstart.checked_add(vlen)?;
    (vend <= data.len()).then_some((LEN..kend, vstart..vend))
}

/// The routing hash of a key (0 for an empty key).
pub fn key_hash(key: &[u8]) -> chmhash_t {
    if key.is_empty() {
        0
    } else {
        k2hash_hash::hash(key)
    }
}

/// The message of a pair (None: its arguments were refused): the pair serialised, sent by
/// the hash of its key.
pub fn message<'a>(pair: Option<(&[u8], &[u8])>) -> Option<crate::capi::handle::Message<'a>> {
    let (k, v) = pair?;
    Some((serialize(k, v).into(), key_hash(k)))
}

/// A pair from separate key and value arguments (the `*_kv` functions): the key must be
/// non-empty; a NULL value is empty only with length 0.
pub fn kv_args<'a>(
    func: &str,
    pkey: *const u8,
    keylen: size_t,
    pval: *const u8,
    vallen: size_t,
) -> Option<(&'a [u8], &'a [u8])> {
    let Some(key) = ffi::bytes(pkey, keylen) else {
        log::error!("{func}: the key is empty");
        return None;
    };
    let val = match (ffi::bytes(pval, vallen), vallen) {
        (Some(v), _) => v,
        (None, 0) => &[],
        (None, _) => {
            log::error!("{func}: the value is NULL but its length is {vallen}");
            return None;
        }
    };
    Some((key, val))
}

/// A pair from a CHMKVP argument (the `*_kvp` functions).
pub fn kvp_arg<'a>(func: &str, pkvp: *const CHMKVP) -> Option<(&'a [u8], &'a [u8])> {
    let r = ffi::read_kvp(pkvp);
    if r.is_none() {
        log::error!("{func}: the CHMKVP is NULL or has a NULL buffer with a length");
    }
    r
}

// ---------------------------------------------------------------- chmpx.h

/// The serialised pair in a malloc'ed buffer (free it with free()); `*plength` its size.
#[no_mangle]
pub extern "C" fn cvt_kvp_bin(pkvp: PCHMKVP, plength: *mut size_t) -> *mut c_uchar {
    guard("cvt_kvp_bin", std::ptr::null_mut(), || {
        if plength.is_null() {
            log::error!("cvt_kvp_bin: plength is NULL");
            return std::ptr::null_mut();
        }
        let Some((key, val)) = kvp_arg("cvt_kvp_bin", pkvp) else {
            return std::ptr::null_mut();
        };
        let data = serialize(key, val);
        let p = ffi::malloc_copy(&data);
        if !p.is_null() {
            ffi::set_out(plength, data.len());
        }
        p
    })
}

/// Reads a serialised pair in place: the key and value point into `bydata` (NULL for a zero
/// length). False when it is shorter than 16 bytes or a length runs past its end.
#[no_mangle]
pub extern "C" fn cvt_bin_kvp(pkvp: PCHMKVP, bydata: *mut c_uchar, length: size_t) -> CBool {
    guard_bool("cvt_bin_kvp", || {
        if pkvp.is_null() || length < 2 * LEN {
            log::error!("cvt_bin_kvp: NULL pair or less than 16 bytes");
            return false;
        }
        let Some(data) = ffi::bytes(bydata, length) else {
            log::error!("cvt_bin_kvp: the data is NULL");
            return false;
        };
        let Some((k, v)) = parse(data) else {
            log::error!("cvt_bin_kvp: the lengths do not fit in {length} bytes");
            return false;
        };
        let part = |r: Range<usize>| CHMBIN {
            byptr: if r.is_empty() {
                std::ptr::null_mut()
            } else {
                bydata.wrapping_add(r.start)
            },
            length: r.len(),
        };
        ffi::set_out(
            pkvp,
            CHMKVP {
                key: part(k),
                val: part(v),
            },
        );
        true
    })
}

/// The hash of a CHMBIN's bytes; 0 for NULL.
#[no_mangle]
pub extern "C" fn make_chmbin_hash(pchmbin: PCHMBIN) -> chmhash_t {
    guard("make_chmbin_hash", 0, || match ffi::read_bin(pchmbin) {
        Some(b) => key_hash(b),
        None => {
            log::error!("make_chmbin_hash: NULL");
            0
        }
    })
}

/// The hash of a pair's key; 0 for NULL or an empty key.
#[no_mangle]
pub extern "C" fn make_kvp_hash(pkvp: PCHMKVP) -> chmhash_t {
    guard("make_kvp_hash", 0, || match ffi::read_kvp(pkvp) {
        Some((k, _)) if !k.is_empty() => key_hash(k),
        _ => {
            log::error!("make_kvp_hash: NULL or empty key");
            0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bounds() {
        let s = serialize(b"key", b"value");
        assert_eq!(s.len(), 16 + 8);
        assert_eq!(&s[..8], &3u64.to_be_bytes());
        let (k, v) = parse(&s).unwrap();
        assert_eq!(&s[k], b"key");
        assert_eq!(&s[v], b"value");
        assert!(parse(&s[..s.len() - 1]).is_none());
        let mut bad = s.clone();
        bad[..8].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(parse(&bad).is_none());
        let empty = serialize(b"", b"");
        let (k, v) = parse(&empty).unwrap();
        assert!(k.is_empty() && v.is_empty());
    }

    #[test]
    fn c_functions() {
        let mut key = *b"key1\0";
        let mut val = *b"v";
        let kvp = CHMKVP {
            key: CHMBIN {
                byptr: key.as_mut_ptr(),
                length: key.len(),
            },
            val: CHMBIN {
                byptr: val.as_mut_ptr(),
                length: 1,
            },
        };
        let mut kvp_in = kvp;
        assert_eq!(make_kvp_hash(&mut kvp_in), 0x7172B3F29643AA65);
        let mut n = 0usize;
        let p = cvt_kvp_bin(&mut kvp_in, &mut n);
        assert!(!p.is_null());
        assert_eq!(n, 16 + 5 + 1);
        let mut out = CHMKVP {
            key: CHMBIN {
                byptr: std::ptr::null_mut(),
                length: 0,
            },
            val: CHMBIN {
                byptr: std::ptr::null_mut(),
                length: 0,
            },
        };
        assert!(cvt_bin_kvp(&mut out, p, n).get());
        assert_eq!(out.key.length, 5);
        assert_eq!(out.key.byptr, p.wrapping_add(8));
        assert!(!cvt_bin_kvp(&mut out, p, n - 1).get());
        assert!(!cvt_bin_kvp(&mut out, p, 15).get());
        assert!(!cvt_bin_kvp(std::ptr::null_mut(), p, n).get());
        ffi::free(p);
        assert_eq!(make_chmbin_hash(std::ptr::null_mut()), 0);
        assert!(cvt_kvp_bin(std::ptr::null_mut(), &mut n).is_null());
    }
}
