//! SCOM records: the format of transaction logs and archives (a plain concatenation of records,
//! no file header). Record = 104-byte head (command string, type, five lengths, five positions
//! relative to the record start) followed by key, value, subkeys, attributes and extra data.
use crate::engine::Element;
use crate::error::{corrupt, K2hError, Result};

pub const HEAD: usize = 104;

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
