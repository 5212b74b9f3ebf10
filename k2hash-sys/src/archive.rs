//! Archives (`k2h_put_archive` / `k2h_load_archive`): every element written as SET_ALL
//! records (`record`), and records applied back to a store; transaction logs replay through
//! `apply` too.
use crate::engine::{Element, Parts};
use crate::error::{corrupt, K2hError, Result};
use crate::k2h::K2h;
pub use crate::record::{Kind, Record, HEAD};
use std::io::{Read, Write};

/// Values above this are archived as an empty SET_ALL followed by OW_VAL chunks.
pub const LARGE_VALUE: usize = 10 * 1024 * 1024;

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
