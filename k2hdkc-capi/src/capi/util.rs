//! Two helpers of the original's k2hdkcutil.h that its library exports with C linkage although
//! they take C++ references (a reference is a pointer in the ABI).
use libc::{c_char, c_long, c_void, timespec};

use crate::capi::ffi::{self, guard, CBool};

/// `limitts` = now (CLOCK_REALTIME_COARSE) + `timens` nanoseconds (the original's helper; its
/// C++ reference parameter is a pointer in the ABI).
#[no_mangle]
pub extern "C" fn make_current_timespec_with_mergin(timens: c_long, limitts: *mut timespec) {
    guard("make_current_timespec_with_mergin", (), || {
        let now = ffi::realtime_coarse();
        let ns = 1_000_000_000i64;
        let mut sec = now.tv_sec + timens / ns;
        let mut nsec = now.tv_nsec + timens % ns;
        if nsec / ns > 0 {
            sec += 1;
            nsec %= ns;
        }
        ffi::set_out(
            limitts,
            timespec {
                tv_sec: sec as libc::time_t,
                tv_nsec: nsec as c_long,
            },
        );
    })
}

/// `bool path_to_abspath(const char* path, std::string& abspath)`: the real path of an
/// existing file, written into the caller's `std::string` through libstdc++'s own
/// `assign` (found in the process at run time; a caller with a std::string has it loaded).
#[no_mangle]
pub extern "C" fn path_to_abspath(path: *const c_char, abspath: *mut c_void) -> CBool {
    guard("path_to_abspath", CBool::FALSE, || {
        let Some(p) = ffi::text(path) else {
            log::error!("Parameter is wrong.");
            return CBool::FALSE;
        };
        if abspath.is_null() {
            return CBool::FALSE;
        }
        let real = match std::fs::canonicalize(&p) {
            Ok(r) => r,
            Err(e) => {
                log::info!(
                    "Could not convert path({p}) to real path or there is no such file({e})."
                );
                return CBool::FALSE;
            }
        };
        let Ok(c) = std::ffi::CString::new(real.as_os_str().as_encoded_bytes()) else {
            return CBool::FALSE;
        };
        ffi::cxx_string_assign(abspath, &c).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespec_with_margin() {
        let mut ts = timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        make_current_timespec_with_mergin(1_500_000_000, &mut ts);
        let now = ffi::realtime_coarse();
        assert!(ts.tv_sec >= now.tv_sec);
        assert!(ts.tv_nsec < 1_000_000_000);
    }
}
