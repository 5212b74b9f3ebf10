//! Small big-endian read/write helpers shared by the codec (crate-private).
//!
//! The reader is bounds-checked on every access and returns [`WireError::Truncated`] instead of
//! panicking; the writer appends to a `Vec<u8>`.

use super::WireError;

/// Bounds-checked cursor over a byte slice.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Consume exactly `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let truncated = WireError::Truncated {
            need: self.pos.saturating_add(n),
            have: self.buf.len(),
        };
        let end = self.pos.checked_add(n).ok_or(truncated.clone())?;
        let s = self.buf.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let s = self.take(N)?;
        <[u8; N]>::try_from(s).map_err(|_| WireError::Truncated {
            need: N,
            have: s.len(),
        })
    }

    pub(crate) fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array::<8>()?))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, WireError> {
        Ok(i64::from_be_bytes(self.array::<8>()?))
    }

    pub(crate) fn i16(&mut self) -> Result<i16, WireError> {
        Ok(i16::from_be_bytes(self.array::<2>()?))
    }

    /// A C++ `bool` travels as one raw byte; anything but 0 reads as true.
    pub(crate) fn bool(&mut self) -> Result<bool, WireError> {
        Ok(self.array::<1>()?[0] != 0)
    }

    /// A `char[n]` field: text up to the first NUL (or the whole array when there is none),
    /// invalid UTF-8 replaced by U+FFFD.
    pub(crate) fn fixed_str(&mut self, n: usize) -> Result<String, WireError> {
        let raw = self.take(n)?;
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        Ok(String::from_utf8_lossy(raw.get(..end).unwrap_or(raw)).into_owned())
    }
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_i16(out: &mut Vec<u8>, v: i16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_bool(out: &mut Vec<u8>, v: bool) {
    out.push(u8::from(v));
}

/// Write `s` into a `char[n]` field: at most `n - 1` bytes (cut back to a UTF-8 character
/// boundary), then NUL padding up to `n`, so the field is always NUL-terminated like the
/// original's `strncpy(dst, src, n - 1)` after a `memset`.
pub(crate) fn put_fixed_str(out: &mut Vec<u8>, s: &str, n: usize) {
    let mut end = s.len().min(n.saturating_sub(1));
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    let bytes = s.as_bytes().get(..end).unwrap_or_default();
    out.extend_from_slice(bytes);
    out.resize(out.len() + (n - bytes.len()), 0);
}

/// The text `put_fixed_str` + `Reader::fixed_str` turns `s` into (truncated at `n - 1` bytes on
/// a character boundary and at the first NUL). Handy for comparing round trips.
#[cfg(test)]
pub(crate) fn normalize_fixed_str(s: &str, n: usize) -> String {
    let mut v = Vec::new();
    put_fixed_str(&mut v, s, n);
    Reader::new(&v).fixed_str(n).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_str_truncates_and_pads() {
        let mut v = Vec::new();
        put_fixed_str(&mut v, "abcdef", 4);
        assert_eq!(v, b"abc\0");
        v.clear();
        put_fixed_str(&mut v, "ab", 4);
        assert_eq!(v, b"ab\0\0");
        v.clear();
        // "aé" is 3 bytes and fits in n - 1 = 3; in "aaé" the cut would split "é", so it goes.
        put_fixed_str(&mut v, "aéz", 4);
        assert_eq!(v, "aé\0".as_bytes());
        v.clear();
        put_fixed_str(&mut v, "aaé", 4);
        assert_eq!(v, b"aa\0\0");
    }

    #[test]
    fn fixed_str_reads_up_to_nul_or_end() {
        assert_eq!(Reader::new(b"ab\0cd").fixed_str(5).unwrap(), "ab");
        assert_eq!(Reader::new(b"abcd").fixed_str(4).unwrap(), "abcd");
        assert_eq!(Reader::new(b"\xffa\0").fixed_str(3).unwrap(), "\u{fffd}a");
    }

    #[test]
    fn reader_never_reads_past_end() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u64(), Err(WireError::Truncated { need: 8, have: 3 }));
        assert_eq!(r.i16().unwrap(), 0x0102);
        assert!(r.i16().is_err());
        assert!(r.take(usize::MAX).is_err());
        assert_eq!(r.remaining(), 1);
        assert!(r.bool().unwrap());
    }
}
