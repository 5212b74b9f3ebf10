//! Helpers shared by the integration tests.
#![allow(dead_code)]
use std::path::PathBuf;

/// A small xorshift generator: the tests need variety and a seed to print, not quality.
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// ../shared/fixtures beside the checkout.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/k2hash")
}

/// A directory for one test's files. The lock tables go to one private directory per test
/// process (so tests never touch /tmp/.k2hrs_* of other runs), removed when the process exits;
/// a per-test lock directory would be changed under tests running in parallel threads.
pub fn tempdir() -> tempfile::TempDir {
    static LOCKDIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    extern "C" fn cleanup() {
        if let Some(d) = LOCKDIR.get() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
    LOCKDIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap().keep();
        std::env::set_var("K2H_LOCKDIR", &d);
        // SAFETY: registers a plain function to run at process exit.
        unsafe { libc::atexit(cleanup) };
        d
    });
    tempfile::tempdir().unwrap()
}

/// Decode the escaped strings of the fixture listings ("abc\x00\"").
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'x' => {
                    out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap());
                    i += 4;
                }
                b'n' => {
                    out.push(b'\n');
                    i += 2;
                }
                b't' => {
                    out.push(b'\t');
                    i += 2;
                }
                b'r' => {
                    out.push(b'\r');
                    i += 2;
                }
                c => {
                    out.push(c);
                    i += 2;
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

#[derive(Default, Debug)]
pub struct Expected {
    pub key: Vec<u8>,
    pub hash: u64,
    pub subhash: u64,
    pub raw: Option<Vec<u8>>,
    pub get: Option<Vec<u8>>,
    pub wp: Option<Vec<u8>>,
    pub subkeys: Vec<Vec<u8>>,
    pub attrs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The quoted string after `len=N ` in a listing line.
fn quoted(line: &str) -> Vec<u8> {
    let start = line.find('"').unwrap();
    let end = line.rfind('"').unwrap();
    unescape(&line[start + 1..end])
}

/// Parse the "Full per-key dump" section of a fixture listing.
pub fn parse_listing(text: &str) -> Vec<Expected> {
    let mut v: Vec<Expected> = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("KEY len=") {
            let _ = rest;
            v.push(Expected {
                key: quoted(t),
                ..Default::default()
            });
            continue;
        }
        let Some(cur) = v.last_mut() else { continue };
        if let Some(r) = t.strip_prefix("hash=") {
            let mut it = r.split_whitespace();
            cur.hash =
                u64::from_str_radix(it.next().unwrap().trim_start_matches("0x"), 16).unwrap();
            cur.subhash =
                u64::from_str_radix(it.next().unwrap().trim_start_matches("subhash=0x"), 16)
                    .unwrap();
        } else if t.starts_with("value(np,raw)") {
            cur.raw = Some(quoted(t));
        } else if t.starts_with("value(get)") {
            cur.get = if t.contains("<not returned>") {
                None
            } else {
                Some(quoted(t))
            };
        } else if t.starts_with("value(wp:") {
            cur.wp = if t.contains("<not returned>") {
                None
            } else {
                Some(quoted(t))
            };
        } else if t.starts_with("subkey[") {
            cur.subkeys.push(quoted(t));
        } else if t.starts_with("attr[") {
            let eq = t.find("\" = len=").unwrap();
            let (a, b) = t.split_at(eq + 1);
            cur.attrs.push((quoted(a), quoted(b)));
        }
    }
    v
}

/// A small layout whose areas fill up quickly (compaction and replacement tests).
pub fn small_layout() -> k2hash::Layout {
    k2hash::Layout {
        mask_bits: 4,
        cmask_bits: 4,
        max_elements: 32,
        page_size: 128,
    }
}
