//! Debug level and output: the chmpx.h functions (`chmpx_set_debug_level_*`, ...), the chmdbg.h
//! functions (`SetChmDbgMode`, ...) and the exported variables `chm_debug_mode` / `chm_dbg_fp`
//! that the chmdbg.h macros of C callers read.
//!
//! The level is kept in two places that always move together: `chm_debug_mode` (for C) and
//! `chmpx_core::dbg` (whose logger prints this library's own messages, `[CHMPX-ERR] ...`). A log
//! file is opened twice in append mode, as a `FILE*` in `chm_dbg_fp` for C and by
//! `chmpx_core::dbg` for our lines.
//!
//! `CHMDBGMODE` / `CHMDBGFILE` are read at the first call of any function of the library (the
//! original reads them at the first call of a debug function).
use std::ffi::CString;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::{Mutex, Once};

use chmpx_core::dbg::{self, Level};
use libc::{c_char, c_int, FILE};

use crate::capi::ffi::{self, guard, guard_bool, CBool};

/// Debug levels of chmdbg.h (each includes the bits of the ones below it).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum chm_dbg_mode {
    CHMDBG_SILENT = 0,
    CHMDBG_ERR = 1,
    CHMDBG_WARN = 3,
    CHMDBG_MSG = 7,
    CHMDBG_DUMP = 15,
}
pub type ChmDbgMode = chm_dbg_mode;

/// A `ChmDbgMode` as it crosses the C boundary: any int (an undefined value must not become an
/// invalid Rust enum). Shown as `ChmDbgMode` in the header.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DbgModeArg(pub c_int);

/// The current level, read by the chmdbg.h macros of C programs (`ChmDbgMode`, 4 bytes).
#[no_mangle]
pub static chm_debug_mode: AtomicU32 = AtomicU32::new(0);

/// The debug stream of C programs (`FILE*`); NULL means stderr.
#[no_mangle]
pub static chm_dbg_fp: AtomicPtr<FILE> = AtomicPtr::new(std::ptr::null_mut());

/// Serialises opening and closing of the debug file.
static FILE_LOCK: Mutex<()> = Mutex::new(());
static INIT: Once = Once::new();

fn level_of(v: c_int) -> Option<Level> {
    Some(match v {
        0 => Level::Silent,
        1 => Level::Err,
        3 => Level::Warn,
        7 => Level::Msg,
        15 => Level::Dump,
        _ => return None,
    })
}

/// Installs our logger and reads the environment, once.
pub fn init_once() {
    INIT.call_once(|| {
        dbg::init();
        let _ = load_env();
    });
}

fn mode() -> c_int {
    chm_debug_mode.load(Ordering::Relaxed) as c_int
}

/// Sets both level holders; returns the previous `chm_debug_mode`.
fn set_level(l: Level) -> c_int {
    dbg::set_level(l);
    chm_debug_mode.swap(l as u32, Ordering::Relaxed) as c_int
}

fn set_file(path: &str) -> bool {
    let Ok(c) = CString::new(path) else {
        return false;
    };
    let _g = FILE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if !close_file_locked() {
        return false;
    }
    let fp = ffi::fopen_append(&c);
    if fp.is_null() {
        log::error!("could not open debug file {path}");
        return false;
    }
    chm_dbg_fp.store(fp, Ordering::Release);
    dbg::set_file(path);
    true
}

fn close_file_locked() -> bool {
    dbg::unset_file();
    let old = chm_dbg_fp.swap(std::ptr::null_mut(), Ordering::AcqRel);
    ffi::fclose(old)
}

fn unset_file() -> bool {
    let _g = FILE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    close_file_locked()
}

/// `CHMDBGMODE` (SILENT, ERR, WAN, INFO, DUMP; any case) then `CHMDBGFILE`; false when a value
/// is not understood or the file cannot be opened (the file is not looked at after a bad mode).
fn load_env() -> bool {
    if let Some(v) = std::env::var_os("CHMDBGMODE") {
        match Level::parse_env(&v.to_string_lossy()) {
            Some(l) => {
                set_level(l);
            }
            None => return false,
        }
    }
    match std::env::var_os("CHMDBGFILE") {
        Some(f) => set_file(&f.to_string_lossy()),
        None => true,
    }
}

// ---------------------------------------------------------------- chmdbg.h

/// Sets the level and returns the previous one. An undefined value is refused (the level stays
/// and is returned); the original stored any value.
#[no_mangle]
pub extern "C" fn SetChmDbgMode(mode: DbgModeArg) -> DbgModeArg {
    guard(
        "SetChmDbgMode",
        DbgModeArg(self::mode()),
        || match level_of(mode.0) {
            Some(l) => DbgModeArg(set_level(l)),
            None => {
                log::error!("SetChmDbgMode: unknown debug mode {}", mode.0);
                DbgModeArg(self::mode())
            }
        },
    )
}

/// SILENT -> ERR -> WARN -> MSG -> DUMP -> SILENT; returns the previous level.
#[no_mangle]
pub extern "C" fn BumpupChmDbgMode() -> DbgModeArg {
    guard("BumpupChmDbgMode", DbgModeArg(mode()), || {
        // an undefined value (written by a C program) counts as DUMP, as in the original
        let next = level_of(mode()).unwrap_or(Level::Dump).next();
        DbgModeArg(set_level(next))
    })
}

#[no_mangle]
pub extern "C" fn GetChmDbgMode() -> DbgModeArg {
    guard("GetChmDbgMode", DbgModeArg(mode()), || DbgModeArg(mode()))
}

/// Re-reads `CHMDBGMODE` and `CHMDBGFILE`.
#[no_mangle]
pub extern "C" fn LoadChmDbgEnv() -> CBool {
    guard_bool("LoadChmDbgEnv", load_env)
}

/// Appends debug output to `filepath` (NULL or "" fails).
#[no_mangle]
pub extern "C" fn SetChmDbgFile(filepath: *const c_char) -> CBool {
    guard_bool("SetChmDbgFile", || match ffi::opt_string(filepath) {
        Some(p) => set_file(&p),
        None => {
            log::error!("SetChmDbgFile: the path is empty");
            false
        }
    })
}

/// Debug output back to stderr.
#[no_mangle]
pub extern "C" fn UnsetChmDbgFile() -> CBool {
    guard_bool("UnsetChmDbgFile", unset_file)
}

// ---------------------------------------------------------------- chmpx.h

#[no_mangle]
pub extern "C" fn chmpx_bump_debug_level() {
    BumpupChmDbgMode();
}

#[no_mangle]
pub extern "C" fn chmpx_set_debug_level_silent() {
    guard("chmpx_set_debug_level_silent", 0, || {
        set_level(Level::Silent)
    });
}

#[no_mangle]
pub extern "C" fn chmpx_set_debug_level_error() {
    guard("chmpx_set_debug_level_error", 0, || set_level(Level::Err));
}

#[no_mangle]
pub extern "C" fn chmpx_set_debug_level_warning() {
    guard("chmpx_set_debug_level_warning", 0, || {
        set_level(Level::Warn)
    });
}

#[no_mangle]
pub extern "C" fn chmpx_set_debug_level_message() {
    guard("chmpx_set_debug_level_message", 0, || set_level(Level::Msg));
}

#[no_mangle]
pub extern "C" fn chmpx_set_debug_level_dump() {
    guard("chmpx_set_debug_level_dump", 0, || set_level(Level::Dump));
}

/// Appends debug output to `filepath`; NULL or "" goes back to stderr.
#[no_mangle]
pub extern "C" fn chmpx_set_debug_file(filepath: *const c_char) -> CBool {
    guard_bool("chmpx_set_debug_file", || match ffi::opt_string(filepath) {
        Some(p) => set_file(&p),
        None => unset_file(),
    })
}

#[no_mangle]
pub extern "C" fn chmpx_unset_debug_file() -> CBool {
    UnsetChmDbgFile()
}

#[no_mangle]
pub extern "C" fn chmpx_load_debug_env() -> CBool {
    LoadChmDbgEnv()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_cycle_and_unknown_is_refused() {
        let _ = SetChmDbgMode(DbgModeArg(0));
        assert_eq!(BumpupChmDbgMode(), DbgModeArg(0));
        assert_eq!(GetChmDbgMode(), DbgModeArg(1));
        assert_eq!(
            SetChmDbgMode(DbgModeArg(2)),
            DbgModeArg(1),
            "undefined value refused"
        );
        assert_eq!(SetChmDbgMode(DbgModeArg(15)), DbgModeArg(1));
        assert_eq!(BumpupChmDbgMode(), DbgModeArg(15));
        assert_eq!(GetChmDbgMode(), DbgModeArg(0));
        assert_eq!(dbg::level(), Level::Silent);
    }

    #[test]
    fn debug_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dbg.log");
        let c = CString::new(p.to_str().unwrap()).unwrap();
        assert!(SetChmDbgFile(c.as_ptr()).get());
        assert!(!chm_dbg_fp.load(Ordering::Acquire).is_null());
        assert!(p.exists());
        assert!(!SetChmDbgFile(std::ptr::null()).get());
        assert!(chmpx_set_debug_file(std::ptr::null()).get());
        assert!(chm_dbg_fp.load(Ordering::Acquire).is_null());
    }
}
