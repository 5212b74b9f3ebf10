//! SCOM records: the format of transaction logs and archives (a plain concatenation of records,
//! no file header). Record = 104-byte head (command string, type, five lengths, five positions
//! relative to the record start) followed by key, value, subkeys, attributes and extra data.
use crate::engine::{Element, Parts};
use crate::error::{corrupt, K2hError, Result};
use crate::k2h::K2h;
use std::io::{Read, Write};

pub const HEAD: usize = 104;
/// Values above this are archived as an empty SET_ALL followed by OW_VAL chunks.
pub const LARGE_VALUE: usize = 10 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SetAll = 0,
    ReplaceVal = 1,
    ReplaceSkey = 2,
    DelKey = 3,
    OwVal = 4,
    ReplaceAttrs = 5,
    Rename = 6,
}

impl Kind {
    fn from_i64(v: i64) -> Option<Kind> {
        Some(match v {
            0 => Kind::SetAll,
            1 => Kind::ReplaceVal,
            2 => Kind::ReplaceSkey,
            3 => Kind::DelKey,
            4 => Kind::OwVal,
            5 => Kind::ReplaceAttrs,
            6 => Kind::Rename,
            _ => return None,
        })
    }

    fn command(self) -> &'static [u8] {
        match self {
            Kind::SetAll => b"\nK2H_SET_ALL",
            Kind::ReplaceVal => b"\nK2H_REP_VAL",
            Kind::ReplaceSkey => b"\nK2H_REP_SKEY",
            Kind::DelKey => b"\nK2H_DEL_KEY",
            Kind::OwVal => b"\nK2H_OW_VAL",
            Kind::ReplaceAttrs => b"\nK2H_REP_ATTRS",
            Kind::Rename => b"\nK2H_REN_KEY",
        }
    }
}

/// One record; which parts are used depends on the kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub kind: Kind,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub subkeys: Vec<u8>,
    pub attrs: Vec<u8>,
    pub exdata: Vec<u8>,
}

impl Record {
    pub fn new(kind: Kind, key: &[u8]) -> Record {
        Record {
            kind,
            key: key.to_vec(),
            value: Vec::new(),
            subkeys: Vec::new(),
            attrs: Vec::new(),
            exdata: Vec::new(),
        }
    }

    pub fn set_all(key: &[u8], el: &Element) -> Record {
        Record {
            value: el.value.clone(),
            subkeys: el.subkeys.clone(),
            attrs: el.attrs.clone(),
            ..Record::new(Kind::SetAll, key)
        }
    }

    /// Encode as the original does: used parts packed in order, unused positions left at 104.
    pub fn encode(&self) -> Vec<u8> {
        let parts: [&[u8]; 5] = [
            &self.key,
            &self.value,
            &self.subkeys,
            &self.attrs,
            &self.exdata,
        ];
        // A rename record places attrs right after the key even when empty.
        let used = |i: usize| !parts[i].is_empty() || (self.kind == Kind::Rename && i == 3);
        let total = HEAD + parts.iter().map(|p| p.len()).sum::<usize>();
        let mut out = vec![0u8; HEAD];
        let cmd = self.kind.command();
        out[..cmd.len()].copy_from_slice(cmd);
        out[16..24].copy_from_slice(&(self.kind as i64).to_le_bytes());
        let mut pos = HEAD;
        for (i, p) in parts.iter().enumerate() {
            out[24 + 8 * i..32 + 8 * i].copy_from_slice(&(p.len() as u64).to_le_bytes());
            let at = if used(i) { pos } else { HEAD };
            out[64 + 8 * i..72 + 8 * i].copy_from_slice(&(at as u64).to_le_bytes());
            pos += p.len();
        }
        out.reserve(total - HEAD);
        for p in parts {
            out.extend_from_slice(p);
        }
        out
    }

    /// The length a record head at the start of `b` declares (head plus its five parts), as
    /// the original computes it to step to the next record; None without a whole head or when
    /// the sum does not fit a file offset.
    pub fn declared_len(b: &[u8]) -> Option<u64> {
        let head = b.get(..HEAD)?;
        (0..5).try_fold(HEAD as u64, |t, i| {
            let l = u64::from_le_bytes(head[24 + 8 * i..32 + 8 * i].try_into().ok()?);
            t.checked_add(l).filter(|&t| t <= i64::MAX as u64)
        })
    }

    /// Decode one record from the start of `b`; returns it and its length.
    /// `Ok(None)` at a clean end; an error for damage or a truncated tail.
    pub fn decode(b: &[u8]) -> Result<Option<(Record, usize)>> {
        if b.is_empty() {
            return Ok(None);
        }
        if b.len() < HEAD {
            return corrupt("truncated record head");
        }
        let rd = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
        let kind = Kind::from_i64(rd(16) as i64)
            .ok_or_else(|| K2hError::Corrupt(format!("unknown record type {}", rd(16) as i64)))?;
        let mut total = HEAD as u64;
        let mut parts: Vec<Vec<u8>> = Vec::with_capacity(5);
        for i in 0..5 {
            let (len, pos) = (rd(24 + 8 * i), rd(64 + 8 * i));
            total = total
                .checked_add(len)
                .ok_or_else(|| K2hError::Corrupt("record length overflow".into()))?;
            if len == 0 {
                parts.push(Vec::new());
                continue;
            }
            let end = pos.checked_add(len).filter(|&e| e <= b.len() as u64);
            match end {
                Some(e) if pos >= HEAD as u64 => parts.push(b[pos as usize..e as usize].to_vec()),
                _ => return corrupt("record part beyond its data"),
            }
        }
        if total > b.len() as u64 {
            return corrupt("truncated record");
        }
        let mut it = parts.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let r = Record {
            kind,
            key: next(),
            value: next(),
            subkeys: next(),
            attrs: next(),
            exdata: next(),
        };
        if r.key.is_empty() {
            return corrupt("record without key");
        }
        Ok(Some((r, total as usize)))
    }
}

/// Write every stored element (physical order, raw values) to `path` as SET_ALL records.
pub fn put_archive(k: &K2h, path: &std::path::Path, errskip: bool) -> Result<()> {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    let mut w = std::io::BufWriter::new(f);
    let mut pos = 0;
    loop {
        let next = match k.db().next_element(pos, Parts::ALL) {
            Ok(n) => n,
            Err(e) if errskip => {
                log::warn!("archive: element after {pos:#x} skipped: {e}");
                break;
            }
            Err(e) => return Err(e),
        };
        let Some((e, key, el)) = next else { break };
        pos = e;
        if el.value.len() > LARGE_VALUE {
            let head = Element {
                value: Vec::new(),
                ..el.clone()
            };
            w.write_all(&Record::set_all(&key, &head).encode())?;
            for (i, chunk) in el.value.chunks(LARGE_VALUE).enumerate() {
                let mut r = Record::new(Kind::OwVal, &key);
                r.value = chunk.to_vec();
                r.exdata = ((i * LARGE_VALUE) as i64).to_le_bytes().to_vec();
                w.write_all(&r.encode())?;
            }
        } else {
            w.write_all(&Record::set_all(&key, &el).encode())?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Replay an archive or transaction log into `k`, as the original does: with `errskip` bad or
/// failing records are skipped (stepping by their declared length) and the load succeeds;
/// without it the first bad record fails the load (records before it stay applied). A tail
/// shorter than a record head is ignored in both cases.
pub fn load_archive(k: &K2h, path: &std::path::Path, errskip: bool) -> Result<()> {
    let mut data = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut data)?;
    let mut off = 0;
    while off < data.len() {
        if data.len() - off < HEAD {
            // As the original: a tail too short for a record head ends the load, successfully.
            log::warn!("archive: {} trailing bytes ignored", data.len() - off);
            break;
        }
        let (r, len) = match Record::decode(&data[off..]) {
            Ok(Some(x)) => x,
            Ok(None) => break,
            Err(e) if errskip => {
                // As the original: skip by the length the head declares; once that points past
                // the end of the file, the load is over (and succeeded).
                log::warn!("archive: damaged record at {off:#x} skipped: {e}");
                match Record::declared_len(&data[off..]) {
                    Some(n) if n <= (data.len() - off) as u64 => {
                        off += n as usize;
                        continue;
                    }
                    _ => break,
                }
            }
            Err(e) => return Err(e),
        };
        off += len;
        if let Err(e) = apply(k, &r) {
            if !errskip {
                return Err(e);
            }
            log::warn!("archive: record {:?} skipped: {e}", r.kind);
        }
    }
    Ok(())
}

/// Apply one record.
pub fn apply(k: &K2h, r: &Record) -> Result<()> {
    use crate::engine::Change;
    let replace = |value: Option<Vec<u8>>, subkeys: Option<Vec<u8>>, attrs: Option<Vec<u8>>| {
        k.modify(&r.key, |_| {
            Ok(Change::Replace {
                value: value.clone(),
                subkeys: subkeys.clone(),
                attrs: attrs.clone(),
            })
        })
        .map(|_| ())
    };
    match r.kind {
        Kind::SetAll => k
            .put(
                &r.key,
                Element {
                    value: r.value.clone(),
                    subkeys: r.subkeys.clone(),
                    attrs: r.attrs.clone(),
                },
            )
            .map(|_| ()),
        Kind::ReplaceVal => replace(Some(r.value.clone()), None, None),
        Kind::ReplaceSkey => replace(None, Some(r.subkeys.clone()), None),
        Kind::ReplaceAttrs => replace(None, None, Some(r.attrs.clone())),
        Kind::DelKey => k.delete(&r.key).map(|_| ()),
        Kind::OwVal => {
            let off = r
                .exdata
                .get(..8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default()))
                .unwrap_or(-1);
            if off < 0 {
                return corrupt("overwrite record without offset");
            }
            k.overwrite_value(&r.key, off as usize, &r.value)
        }
        Kind::Rename => {
            if r.exdata.is_empty() {
                return corrupt("rename record without new key");
            }
            let attrs = (!r.attrs.is_empty()).then(|| r.attrs.clone());
            match k.rename_with_attrs(&r.key, &r.exdata, attrs)? {
                true => Ok(()),
                false => Err(K2hError::NotFound),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn encode_matches_the_observed_layout() {
        // SET_ALL tk/tv: 104 + 3 + 3 = 110 bytes (the format notes, §7.1)
        let r = Record {
            value: b"tv\0".to_vec(),
            ..Record::new(Kind::SetAll, b"tk\0")
        };
        let b = r.encode();
        assert_eq!(b.len(), 110);
        assert_eq!(&b[..12], b"\nK2H_SET_ALL");
        assert_eq!(u64::from_le_bytes(b[64..72].try_into().unwrap()), 104);
        assert_eq!(u64::from_le_bytes(b[72..80].try_into().unwrap()), 107);
        assert_eq!(u64::from_le_bytes(b[80..88].try_into().unwrap()), 104);
        // DEL_KEY tk: 107 bytes; REN_KEY tsub->tsub2: 104 + 5 + 6 = 115, attrs_pos = 109
        assert_eq!(Record::new(Kind::DelKey, b"tk\0").encode().len(), 107);
        let ren = Record {
            exdata: b"tsub2\0".to_vec(),
            ..Record::new(Kind::Rename, b"tsub\0")
        };
        let rb = ren.encode();
        assert_eq!(rb.len(), 115);
        assert_eq!(u64::from_le_bytes(rb[88..96].try_into().unwrap()), 109);
        assert_eq!(u64::from_le_bytes(rb[96..104].try_into().unwrap()), 109);
        let (back, len) = Record::decode(&rb).unwrap().unwrap();
        assert_eq!((back, len), (ren, 115));
        assert!(Record::decode(&rb[..110]).is_err());
        assert!(Record::decode(&[]).unwrap().is_none());
    }
}
