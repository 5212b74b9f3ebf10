//! Version texts and the exported `chmpx_commit_hash`.
use std::ffi::CString;
use std::sync::OnceLock;

use chmpx_core::ctl;
use chmpx_core::node::{CHMPX_COMMIT, CHMPX_VERSION};
use chmpx_core::wire::VersionInfo;
use libc::{c_char, FILE};

use crate::capi::ffi::{self, guard, BoolArg};

const COMMIT_LEN: usize = CHMPX_COMMIT.len() + 1;

const fn commit_bytes() -> [c_char; COMMIT_LEN] {
    let src = CHMPX_COMMIT.as_bytes();
    let mut out = [0 as c_char; COMMIT_LEN];
    let mut i = 0;
    while i < src.len() {
        out[i] = src[i] as c_char;
        i += 1;
    }
    out
}

/// The commit the library was built from (a NUL-terminated `char[]`, writable data like the
/// original's).
#[no_mangle]
#[link_section = ".data"]
pub static chmpx_commit_hash: [c_char; COMMIT_LEN] = commit_bytes();

fn static_text(cell: &'static OnceLock<CString>, make: impl FnOnce() -> String) -> *const c_char {
    cell.get_or_init(|| CString::new(make()).unwrap_or_default())
        .as_ptr()
}

/// Writes the version banner to `stream` (NULL: stdout).
#[no_mangle]
pub extern "C" fn chmpx_print_version(stream: *mut FILE) {
    guard("chmpx_print_version", false, || {
        ffi::write_stream(stream, &ctl::version_banner())
    });
}

/// `"Version 1.0.113 (commit: ...) with ..."` (a static string).
#[no_mangle]
pub extern "C" fn chmpx_get_version() -> *const c_char {
    static TEXT: OnceLock<CString> = OnceLock::new();
    guard("chmpx_get_version", std::ptr::null(), || {
        static_text(&TEXT, ctl::version_string)
    })
}

/// `"1.0.113"`, or the commit hash.
#[no_mangle]
pub extern "C" fn chmpx_get_raw_version(is_commit_hash: BoolArg) -> *const c_char {
    static TEXT: OnceLock<CString> = OnceLock::new();
    guard("chmpx_get_raw_version", std::ptr::null(), || {
        if is_commit_hash.get() {
            chmpx_commit_hash.as_ptr()
        } else {
            static_text(&TEXT, || CHMPX_VERSION.to_string())
        }
    })
}

/// The version packed 16 bits per dotted component: 1.0.113 -> 0x0000000100000071.
#[no_mangle]
pub extern "C" fn chmpx_get_bin_version() -> u64 {
    guard("chmpx_get_bin_version", 0, || {
        VersionInfo::bin_version_of(CHMPX_VERSION)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: *const c_char) -> String {
        String::from_utf8(ffi::cstr_bytes(p).unwrap().to_vec()).unwrap()
    }

    #[test]
    fn versions() {
        assert_eq!(chmpx_get_bin_version(), 0x0000_0001_0000_0071);
        assert_eq!(text(chmpx_get_raw_version(BoolArg(0))), "1.0.113");
        assert_eq!(text(chmpx_get_raw_version(BoolArg(1))), CHMPX_COMMIT);
        assert!(text(chmpx_get_version()).starts_with("Version 1.0.113 (commit: "));
    }
}
