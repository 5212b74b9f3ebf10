//! Moving elements between k2hash databases (k2hdkc merge and scaling): elements are read slot by
//! slot with their stored hashes, filtered by hash range, mtime and expiry, serialized as
//! RALLEDATA (80-byte head: hash, subhash, four lengths, four positions from the head, then key,
//! value, subkeys, attributes), and written on the other side with the same hashes, keeping the
//! newer version by mtime.
use crate::attrs::{is_expired, ATTR_MTIME};
use crate::engine::{Change, Element};
use crate::error::{corrupt, invalid, Result};
use crate::k2h::K2h;
use crate::lists::{get_attr, parse_attrs, Attr};

pub const HEAD: usize = 80;

/// One element with its stored hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawElement {
    pub hash: u64,
    pub subhash: u64,
    pub key: Vec<u8>,
    pub el: Element,
}

impl RawElement {
    pub fn encode(&self) -> Vec<u8> {
        let parts: [&[u8]; 4] = [&self.key, &self.el.value, &self.el.subkeys, &self.el.attrs];
        let mut out = Vec::with_capacity(HEAD + parts.iter().map(|p| p.len()).sum::<usize>());
        out.extend_from_slice(&self.hash.to_le_bytes());
        out.extend_from_slice(&self.subhash.to_le_bytes());
        for p in parts {
            out.extend_from_slice(&(p.len() as u64).to_le_bytes());
        }
        let mut pos = HEAD;
        for p in parts {
            out.extend_from_slice(&(pos as u64).to_le_bytes());
            pos += p.len();
        }
        for p in parts {
            out.extend_from_slice(p);
        }
        out
    }

    pub fn decode(b: &[u8]) -> Result<RawElement> {
        if b.len() < HEAD {
            return corrupt("element data shorter than its head");
        }
        let rd = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
        let mut parts = Vec::with_capacity(4);
        for i in 0..4 {
            let (len, pos) = (rd(16 + 8 * i) as usize, rd(48 + 8 * i) as usize);
            if len == 0 {
                parts.push(Vec::new());
                continue;
            }
            match pos.checked_add(len) {
                Some(end) if pos >= HEAD && end <= b.len() => parts.push(b[pos..end].to_vec()),
                _ => return corrupt("element data part beyond its buffer"),
            }
        }
        let mut it = parts.into_iter();
        let key = it.next().unwrap_or_default();
        let el = Element {
            value: it.next().unwrap_or_default(),
            subkeys: it.next().unwrap_or_default(),
            attrs: it.next().unwrap_or_default(),
        };
        Ok(RawElement {
            hash: rd(0),
            subhash: rd(8),
            key,
            el,
        })
    }
}

/// Circular range `[start, start + range)` modulo `max`.
fn in_range(h: u64, start: u64, max: u64, range: i64) -> bool {
    let end = start.wrapping_add(if range > 0 { range as u64 - 1 } else { 0 }) % max;
    let v = h % max;
    if start <= end {
        start <= v && v <= end
    } else {
        !(end < v && v < start)
    }
}

/// The mtime attribute of a list, as (seconds, nanoseconds).
pub fn mtime(attrs: &[Attr]) -> Option<(i64, i64)> {
    let m = get_attr(attrs, ATTR_MTIME)?;
    if m.len() < 16 {
        return None;
    }
    Some((
        i64::from_le_bytes(m[..8].try_into().ok()?),
        i64::from_le_bytes(m[8..16].try_into().ok()?),
    ))
}

/// Filters of a scan (the arguments of `k2h_get_elements_by_hash`).
#[derive(Clone, Copy, Debug)]
pub struct ScanFilter {
    pub start: (i64, i64),
    pub end: (i64, i64),
    pub target_hash: u64,
    pub target_max_hash: u64,
    /// `u64::MAX` = no old range (no start-time check).
    pub old_hash: u64,
    pub old_max_hash: u64,
    pub range: i64,
    pub expire_check: bool,
}

impl ScanFilter {
    fn keep(&self, e: &RawElement) -> bool {
        if !in_range(e.hash, self.target_hash, self.target_max_hash, self.range) {
            return false;
        }
        let a = parse_attrs(&e.el.attrs);
        if self.expire_check && is_expired(&a) {
            return false;
        }
        if let Some(m) = mtime(&a) {
            let check_start = self.old_hash != u64::MAX
                && self.old_max_hash != 0
                && in_range(e.hash, self.old_hash, self.old_max_hash, self.range);
            if check_start && m < self.start {
                return false;
            }
            if self.end < m {
                return false;
            }
        }
        true
    }
}

/// From slot `start` on, the elements of the first slot that has any passing the filter, and
/// the slot to continue from (0 when the scan is complete).
pub fn elements_by_hash(k: &K2h, start: u64, f: &ScanFilter) -> Result<(Vec<RawElement>, u64)> {
    if f.target_max_hash == 0 {
        return invalid("target max hash is 0");
    }
    let max = k.db().max_slot_hash()?;
    let mut h = start;
    while h <= max {
        let found: Vec<RawElement> = k
            .db()
            .slot_elements(h)?
            .into_iter()
            .map(|(hash, subhash, key, el)| RawElement {
                hash,
                subhash,
                key,
                el,
            })
            .filter(|e| f.keep(e))
            .collect();
        if !found.is_empty() {
            let next = if h < max { h + 1 } else { 0 };
            return Ok((found, next));
        }
        h += 1;
    }
    Ok((Vec::new(), 0))
}

/// Store a replicated element under its own hashes unless ours is at least as new (by mtime,
/// compared with `ts` and the incoming element's mtime). No history, no transaction record.
pub fn set_element(k: &K2h, e: &RawElement, ts: (i64, i64)) -> Result<()> {
    k.check_writable()?;
    if e.key.is_empty() {
        return invalid("element without key");
    }
    let incoming = mtime(&parse_attrs(&e.el.attrs));
    let empty = e.el.value.is_empty() && e.el.subkeys.is_empty() && e.el.attrs.is_empty();
    k.db().modify_hashed(&e.key, e.hash, e.subhash, |old| {
        if let Some(o) = old {
            let a = parse_attrs(&o.attrs);
            if !is_expired(&a) {
                if let Some(m) = mtime(&a) {
                    if ts <= m || incoming.map(|n| n <= m).unwrap_or(true) {
                        return Ok(Change::Keep);
                    }
                }
            }
        }
        Ok(if empty {
            if old.is_some() {
                Change::Delete
            } else {
                Change::Keep
            }
        } else {
            Change::Set(e.el.clone())
        })
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ranges_wrap_around() {
        assert!(in_range(5, 4, 10, 3));
        assert!(!in_range(7, 4, 10, 3));
        assert!(in_range(1, 9, 10, 3)); // 9, 0, 1
        assert!(!in_range(2, 9, 10, 3));
        assert!(in_range(4, 4, 10, 0));
    }
    #[test]
    fn encode_decode() {
        let e = RawElement {
            hash: 1,
            subhash: 2,
            key: b"k\0".to_vec(),
            el: Element {
                value: b"v".to_vec(),
                subkeys: vec![],
                attrs: vec![9; 3],
            },
        };
        let b = e.encode();
        assert_eq!(b.len(), 80 + 2 + 1 + 3);
        assert_eq!(u64::from_le_bytes(b[48..56].try_into().unwrap()), 80);
        assert_eq!(RawElement::decode(&b).unwrap(), e);
        assert!(RawElement::decode(&b[..81]).is_err());
    }
}
