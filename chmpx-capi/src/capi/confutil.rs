//! The C functions of chmconfutil.h.
use libc::c_char;

use crate::capi::ffi::{self, guard_bool, CBool};

// ---------------------------------------------------------------- chmconfutil.h

/// True when the text is JSON rather than a file path: skipping white space and backslashes,
/// the first character is one of `{ [ : } ] ' "`.
#[no_mangle]
pub extern "C" fn right_check_json_string(target: *const c_char) -> CBool {
    guard_bool("right_check_json_string", || {
        ffi::cstr_bytes(target).is_some_and(|b| {
            b.iter()
                .find(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b'\\'))
                .is_some_and(|c| matches!(c, b'{' | b'[' | b':' | b'}' | b']' | b'\'' | b'"'))
        })
    })
}

/// True when `CHMCONFFILE` or `CHMJSONCONF` is set to something.
#[no_mangle]
pub extern "C" fn have_env_chm_conf() -> CBool {
    guard_bool("have_env_chm_conf", || {
        ["CHMCONFFILE", "CHMJSONCONF"]
            .iter()
            .any(|n| std::env::var_os(n).is_some_and(|v| !v.is_empty()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_check() {
        assert!(right_check_json_string(c" \\ {".as_ptr()).get());
        assert!(right_check_json_string(c"\x0b[".as_ptr()).get());
        assert!(!right_check_json_string(c"/etc/x.ini".as_ptr()).get());
        assert!(!right_check_json_string(std::ptr::null()).get());
        assert!(!right_check_json_string(c"".as_ptr()).get());
    }
}
