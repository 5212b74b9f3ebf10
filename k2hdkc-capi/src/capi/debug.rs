//! Debug level, debug file and the communication log of libk2hdkc: the k2hdkc.h functions
//! (`k2hdkc_set_debug_level_*`, `k2hdkc_*_comlog`, `k2hdkc_print_version`), the k2hdkcdbg.h
//! functions with C linkage (`SetK2hdkcDbgMode`, ...) and the variables `k2hdkc_debug_mode`,
//! `k2hdkc_dbg_fp` and `k2hdkc_commit_hash` that C callers (and the original's header macros)
//! read directly.
//!
//! The library's own lines (`[DKC-ERR] place(line) : text`) go through the `log` facade to
//! the same `FILE*` C code writes to, so both interleave in one stream. As in the original,
//! `DKCDBGMODE` / `DKCDBGFILE` are read when a debug function is first used, not at load.
//!
//! The communication log numbers requests: when it is on, each request carries a display
//! number and a command number taken from a process-wide counter that starts at a random
//! value in the high 32 bits, and a `[DKC-COM(disp - com)]` line is printed for every request
//! sent and answer received; when it is off both numbers are 0 on the wire.
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock};

use libc::{c_char, c_int, FILE};

use crate::capi::ffi::{self, guard, CBool};

/// `K2hdkcDbgMode` levels (each includes the bits of the ones below it).
const SILENT: u32 = 0;
const ERR: u32 = 1;
const WARN: u32 = 3;
const MSG: u32 = 7;
const DUMP: u32 = 15;

/// The current level (`K2hdkcDbgMode`, 4 bytes), read by C callers.
#[no_mangle]
pub static k2hdkc_debug_mode: AtomicU32 = AtomicU32::new(SILENT);

/// The debug stream (`FILE*`); NULL means stderr.
#[no_mangle]
pub static k2hdkc_dbg_fp: AtomicPtr<FILE> = AtomicPtr::new(std::ptr::null_mut());

const COMMIT: &str = k2hdkc_wire::COMMIT;
const COMMIT_LEN: usize = COMMIT.len() + 1;

const fn commit_bytes() -> [c_char; COMMIT_LEN] {
    let src = COMMIT.as_bytes();
    let mut out = [0 as c_char; COMMIT_LEN];
    let mut i = 0;
    while i < src.len() {
        out[i] = src[i] as c_char;
        i += 1;
    }
    out
}

/// The commit the library was built from (`char[]`, writable data like the original's).
#[no_mangle]
#[link_section = ".data"]
pub static k2hdkc_commit_hash: [c_char; COMMIT_LEN] = commit_bytes();

/// The path of the open debug file (for `GetK2hdkcDbgFile`), serialising open and close.
static FILE_PATH: Mutex<Option<CString>> = Mutex::new(None);
static INIT: Once = Once::new();

struct DkcLogger;

impl log::Log for DkcLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        let need = match m.level() {
            log::Level::Error => ERR,
            log::Level::Warn => WARN,
            log::Level::Info => MSG,
            _ => DUMP,
        };
        need & k2hdkc_debug_mode.load(Ordering::Relaxed) == need
    }

    fn log(&self, r: &log::Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let tag = match r.level() {
            log::Level::Error => "ERR",
            log::Level::Warn => "WAN",
            log::Level::Info => "MSG",
            _ => "DMP",
        };
        let place = r
            .module_path()
            .and_then(|m| m.rsplit("::").next())
            .unwrap_or("k2hdkc");
        emit(&format!(
            "[DKC-{tag}] {place}({}) : {}\n",
            r.line().unwrap_or(0),
            r.args()
        ));
    }

    fn flush(&self) {}
}

static LOGGER: DkcLogger = DkcLogger;

/// Writes one line to the debug stream.
fn emit(line: &str) {
    let _g = FILE_PATH.lock().unwrap_or_else(|e| e.into_inner());
    ffi::write_debug(k2hdkc_dbg_fp.load(Ordering::Acquire), line);
}

/// Installs the logger (always, so that levels set from C take effect at once) and, the first
/// time a debug function runs, reads the environment.
pub fn init_logger() {
    static L: Once = Once::new();
    L.call_once(|| {
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    });
}

fn init_once() {
    init_logger();
    INIT.call_once(|| {
        let _ = load_env();
    });
}

fn set_mode(m: u32) -> u32 {
    k2hdkc_debug_mode.swap(m, Ordering::Relaxed)
}

fn bump() -> u32 {
    let next = match k2hdkc_debug_mode.load(Ordering::Relaxed) {
        SILENT => ERR,
        ERR => WARN,
        WARN => MSG,
        MSG => DUMP,
        _ => SILENT,
    };
    set_mode(next)
}

fn set_file(path: &str) -> bool {
    let Ok(c) = CString::new(path) else {
        return false;
    };
    let mut g = FILE_PATH.lock().unwrap_or_else(|e| e.into_inner());
    if !close_locked(&mut g) {
        return false;
    }
    let fp = ffi::fopen_append(&c);
    if fp.is_null() {
        drop(g);
        log::error!("could not open debug file {path}");
        return false;
    }
    k2hdkc_dbg_fp.store(fp, Ordering::Release);
    *g = Some(c);
    true
}

fn close_locked(g: &mut Option<CString>) -> bool {
    *g = None;
    ffi::fclose(k2hdkc_dbg_fp.swap(std::ptr::null_mut(), Ordering::AcqRel))
}

fn unset_file() -> bool {
    close_locked(&mut FILE_PATH.lock().unwrap_or_else(|e| e.into_inner()))
}

/// `DKCDBGMODE` (SLT/SILENT, ERR/ERROR, WAN/WARNING, MSG/INFO, DMP/DUMP; any case), then
/// `DKCDBGFILE`; false for a word it does not know or a file it cannot open.
fn load_env() -> bool {
    if let Ok(v) = std::env::var("DKCDBGMODE") {
        let m = match v.to_ascii_uppercase().as_str() {
            "SLT" | "SILENT" => SILENT,
            "ERR" | "ERROR" => ERR,
            "WAN" | "WARNING" => WARN,
            "MSG" | "INFO" => MSG,
            "DMP" | "DUMP" => DUMP,
            _ => {
                log::info!("DKCDBGMODE ENV is not unknown string({v}).");
                return false;
            }
        };
        set_mode(m);
    }
    match std::env::var("DKCDBGFILE") {
        Ok(f) if !f.is_empty() => set_file(&f),
        _ => true,
    }
}

// ---------------------------------------------------------------- communication log

static COMLOG: AtomicBool = AtomicBool::new(false);

fn counter() -> &'static AtomicU64 {
    static C: OnceLock<AtomicU64> = OnceLock::new();
    C.get_or_init(|| {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
            .unwrap_or(0)
            ^ std::process::id() as u64;
        // a 31-bit random value in the high half, like random() << 32
        let r = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
        AtomicU64::new(r << 32)
    })
}

/// (display number, command number) of a new request: both 0 with the log off.
pub fn numbers() -> (u64, u64) {
    if !COMLOG.load(Ordering::Relaxed) {
        return (0, 0);
    }
    let c = counter();
    let disp = c.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    let com = c.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    (disp, com)
}

/// A `[DKC-COM(disp - com)] text` line when the log is on.
pub fn comlog(disp: u64, com: u64, text: &str) {
    if COMLOG.load(Ordering::Relaxed) {
        emit(&format!("[DKC-COM({disp:016x} - {com:016x})] {text}\n"));
    }
}

fn set_comlog(on: bool) {
    COMLOG.store(on, Ordering::Relaxed);
}

// ---------------------------------------------------------------- k2hdkcdbg.h (C linkage)

/// Sets the level and returns the previous one (any int is stored, as the original does).
#[no_mangle]
pub extern "C" fn SetK2hdkcDbgMode(mode: c_int) -> c_int {
    guard("SetK2hdkcDbgMode", 0, || {
        init_once();
        set_mode(mode as u32) as c_int
    })
}

/// SILENT -> ERR -> WARN -> MSG -> DUMP -> SILENT; returns the previous level.
#[no_mangle]
pub extern "C" fn BumpupK2hdkcDbgMode() -> c_int {
    guard("BumpupK2hdkcDbgMode", 0, || {
        init_once();
        bump() as c_int
    })
}

#[no_mangle]
pub extern "C" fn GetK2hdkcDbgMode() -> c_int {
    guard("GetK2hdkcDbgMode", 0, || {
        init_once();
        k2hdkc_debug_mode.load(Ordering::Relaxed) as c_int
    })
}

#[no_mangle]
pub extern "C" fn LoadK2hdkcDbgEnv() -> CBool {
    guard("LoadK2hdkcDbgEnv", CBool::FALSE, || {
        init_once();
        load_env().into()
    })
}

/// Appends debug output to `filepath` (NULL or "" fails).
#[no_mangle]
pub extern "C" fn SetK2hdkcDbgFile(filepath: *const c_char) -> CBool {
    guard("SetK2hdkcDbgFile", CBool::FALSE, || {
        init_once();
        match ffi::text(filepath) {
            Some(p) => set_file(&p).into(),
            None => {
                log::error!("Parameter is wrong.");
                CBool::FALSE
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn UnsetK2hdkcDbgFile() -> CBool {
    guard("UnsetK2hdkcDbgFile", CBool::FALSE, || {
        init_once();
        unset_file().into()
    })
}

/// The open debug file's path (NULL when output goes to stderr); valid until it changes.
#[no_mangle]
pub extern "C" fn GetK2hdkcDbgFile() -> *const c_char {
    guard("GetK2hdkcDbgFile", std::ptr::null(), || {
        init_once();
        let g = FILE_PATH.lock().unwrap_or_else(|e| e.into_inner());
        g.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
    })
}

#[no_mangle]
pub extern "C" fn SetK2hdkcComLog(enable: bool) {
    guard("SetK2hdkcComLog", (), || set_comlog(enable))
}

#[no_mangle]
pub extern "C" fn EnableK2hdkcComLog() {
    set_comlog(true)
}

/// (sic: the original's spelling)
#[no_mangle]
pub extern "C" fn DsableK2hdkcComLog() {
    set_comlog(false)
}

#[no_mangle]
pub extern "C" fn IsK2hdkcComLog() -> CBool {
    COMLOG.load(Ordering::Relaxed).into()
}

/// The name of a command type (`"UNKNOWN_DKC_COM_TYPE"` when out of range); entries 8-10 are
/// in the original's (rotated) order.
#[no_mangle]
pub extern "C" fn STR_DKCCOM_TYPE(comtype: u64) -> *const c_char {
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    guard("STR_DKCCOM_TYPE", std::ptr::null(), || {
        let names = NAMES.get_or_init(|| {
            (0..=k2hdkc_wire::DKC_COM_MAX + 1)
                .map(|t| CString::new(k2hdkc_wire::dkccom_type_name(t)).unwrap_or_default())
                .collect()
        });
        let i = comtype.min(k2hdkc_wire::DKC_COM_MAX + 1) as usize;
        names[i].as_ptr()
    })
}

// ---------------------------------------------------------------- k2hdkc.h

#[no_mangle]
pub extern "C" fn k2hdkc_bump_debug_level() {
    BumpupK2hdkcDbgMode();
}

#[no_mangle]
pub extern "C" fn k2hdkc_set_debug_level_silent() {
    SetK2hdkcDbgMode(SILENT as c_int);
}

#[no_mangle]
pub extern "C" fn k2hdkc_set_debug_level_error() {
    SetK2hdkcDbgMode(ERR as c_int);
}

#[no_mangle]
pub extern "C" fn k2hdkc_set_debug_level_warning() {
    SetK2hdkcDbgMode(WARN as c_int);
}

#[no_mangle]
pub extern "C" fn k2hdkc_set_debug_level_message() {
    SetK2hdkcDbgMode(MSG as c_int);
}

#[no_mangle]
pub extern "C" fn k2hdkc_set_debug_level_dump() {
    SetK2hdkcDbgMode(DUMP as c_int);
}

/// Appends debug output to `filepath`; NULL or "" goes back to stderr.
#[no_mangle]
pub extern "C" fn k2hdkc_set_debug_file(filepath: *const c_char) -> CBool {
    if ffi::text(filepath).is_none() {
        UnsetK2hdkcDbgFile()
    } else {
        SetK2hdkcDbgFile(filepath)
    }
}

#[no_mangle]
pub extern "C" fn k2hdkc_unset_debug_file() -> CBool {
    UnsetK2hdkcDbgFile()
}

#[no_mangle]
pub extern "C" fn k2hdkc_load_debug_env() -> CBool {
    LoadK2hdkcDbgEnv()
}

#[no_mangle]
pub extern "C" fn k2hdkc_is_enable_comlog() -> CBool {
    IsK2hdkcComLog()
}

#[no_mangle]
pub extern "C" fn k2hdkc_enable_comlog() {
    set_comlog(true)
}

#[no_mangle]
pub extern "C" fn k2hdkc_disable_comlog() {
    set_comlog(false)
}

#[no_mangle]
pub extern "C" fn k2hdkc_toggle_comlog() {
    COMLOG.fetch_xor(true, Ordering::Relaxed);
}

/// The k2hdkc banner, then k2hash's and chmpx's, to `stream` (NULL: stdout).
#[no_mangle]
pub extern "C" fn k2hdkc_print_version(stream: *mut FILE) {
    guard("k2hdkc_print_version", (), || {
        let text = format!(
            "{}{}{}",
            k2hdkc_wire::version_banner(),
            k2hash_hash::version_banner(),
            chmpx_core::ctl::version_banner()
        );
        ffi::write_stream(stream, &text);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_cycle_and_comlog_numbers() {
        k2hdkc_set_debug_level_silent();
        assert_eq!(BumpupK2hdkcDbgMode(), 0);
        assert_eq!(GetK2hdkcDbgMode(), 1);
        k2hdkc_set_debug_level_dump();
        assert_eq!(BumpupK2hdkcDbgMode(), 15);
        assert_eq!(GetK2hdkcDbgMode(), 0);
        assert_eq!(numbers(), (0, 0));
        k2hdkc_toggle_comlog();
        assert!(k2hdkc_is_enable_comlog() == CBool::TRUE);
        let (d, c) = numbers();
        assert_eq!(c, d + 1);
        assert_ne!(d, 0);
        k2hdkc_disable_comlog();
        assert_eq!(numbers(), (0, 0));
    }

    #[test]
    fn command_names_keep_the_rotation() {
        let name = |t| {
            // SAFETY: STR_DKCCOM_TYPE returns a static NUL-terminated string.
            unsafe { std::ffi::CStr::from_ptr(STR_DKCCOM_TYPE(t)) }
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(name(0), "DKC_COM_GET");
        assert_eq!(name(8), "DKC_COM_ADD_SUBKEY");
        assert_eq!(name(10), "DKC_COM_ADD_SUBKEYS");
        assert_eq!(name(99), "UNKNOWN_DKC_COM_TYPE");
    }
}
