//! Debug message level and output (family A of k2hash.h and the k2hdbg.h symbols).
//! Process-global, as in the original: `debug_mode` and `k2h_dbg_fp` are exported data read by
//! the k2hdbg.h macros. K2HDBGMODE/K2HDBGFILE are read on the first call of a debug function.
use crate::capi::ffi::{cbool, guard, CBool};
use libc::{c_char, FILE};
use std::sync::Once;

/// Debug levels of k2hdbg.h.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum k2h_dbg_mode {
    K2HDBG_SILENT = 0,
    K2HDBG_ERR = 1,
    K2HDBG_WARN = 3,
    K2HDBG_MSG = 7,
}
pub type K2hDbgMode = k2h_dbg_mode;

/// Current debug level (read by the k2hdbg.h macros).
#[no_mangle]
pub static mut debug_mode: K2hDbgMode = k2h_dbg_mode::K2HDBG_SILENT;

/// Debug output stream; NULL means stderr.
#[no_mangle]
pub static mut k2h_dbg_fp: *mut FILE = std::ptr::null_mut();

/// Commit hash shown by k2h_print_version.
#[no_mangle]
pub static k2h_commit_hash: [c_char; 8] = [
    b'k' as c_char,
    b'2' as c_char,
    b'h' as c_char,
    b'r' as c_char,
    b's' as c_char,
    0,
    0,
    0,
];

static ENV_ONCE: Once = Once::new();
static FILE_LOCK: parking_lot::Mutex<()> = parking_lot::const_mutex(());

fn level() -> K2hDbgMode {
    // SAFETY: aligned read of a 4-byte static; concurrent writes are whole-word.
    unsafe { std::ptr::read_volatile(std::ptr::addr_of!(debug_mode)) }
}

fn set_level(m: K2hDbgMode) -> K2hDbgMode {
    let old = level();
    // SAFETY: aligned write of a 4-byte static (also done from the SIGUSR1 handler).
    unsafe { std::ptr::write_volatile(std::ptr::addr_of_mut!(debug_mode), m) };
    old
}

fn next_level(m: K2hDbgMode) -> K2hDbgMode {
    use k2h_dbg_mode::*;
    match m {
        K2HDBG_SILENT => K2HDBG_ERR,
        K2HDBG_ERR => K2HDBG_WARN,
        K2HDBG_WARN => K2HDBG_MSG,
        K2HDBG_MSG => K2HDBG_SILENT,
    }
}

fn init_env() {
    ENV_ONCE.call_once(|| {
        let _ = load_env();
    });
}

fn load_env() -> bool {
    let mut ok = true;
    if let Ok(v) = std::env::var("K2HDBGMODE") {
        use k2h_dbg_mode::*;
        match v.to_ascii_uppercase().as_str() {
            "SILENT" => {
                set_level(K2HDBG_SILENT);
            }
            "ERR" => {
                set_level(K2HDBG_ERR);
            }
            "WAN" => {
                set_level(K2HDBG_WARN);
            }
            "INFO" => {
                set_level(K2HDBG_MSG);
            }
            _ => ok = false,
        }
    }
    if let Ok(f) = std::env::var("K2HDBGFILE") {
        if !f.is_empty() && !open_file(&f) {
            ok = false;
        }
    }
    ok
}

fn open_file(path: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(path) else {
        return false;
    };
    let _g = FILE_LOCK.lock();
    // SAFETY: fopen with valid C strings; the previous stream (ours) is closed first.
    unsafe {
        let fp = libc::fopen(c.as_ptr(), c"a+".as_ptr());
        if fp.is_null() {
            return false;
        }
        let old = k2h_dbg_fp;
        k2h_dbg_fp = fp;
        if !old.is_null() {
            libc::fclose(old);
        }
    }
    true
}

fn close_file() -> bool {
    let _g = FILE_LOCK.lock();
    // SAFETY: closing the stream we opened and resetting the pointer.
    unsafe {
        let old = k2h_dbg_fp;
        k2h_dbg_fp = std::ptr::null_mut();
        if !old.is_null() {
            return libc::fclose(old) == 0;
        }
    }
    true
}

fn emit(tag: &str, func: &str, msg: &str) {
    let line = format!("[{tag}] {func}(0) : {msg}\n");
    let _g = FILE_LOCK.lock();
    // SAFETY: reading the stream pointer under our lock and writing a NUL-free C string to it.
    unsafe {
        let fp = k2h_dbg_fp;
        if fp.is_null() {
            use std::io::Write;
            let _ = std::io::stderr().write_all(line.as_bytes());
        } else if let Ok(c) = std::ffi::CString::new(line) {
            libc::fputs(c.as_ptr(), fp);
            libc::fflush(fp);
        }
    }
}

/// Error line (printed when the level includes ERR).
pub fn err(func: &str, msg: &str) {
    log::debug!("{func}: {msg}");
    if (level() as i32) & 1 == 1 {
        emit("ERR", func, msg);
    }
}

/// Warning line.
pub fn warn(func: &str, msg: &str) {
    if (level() as i32) & 3 == 3 {
        emit("WAN", func, msg);
    }
}

extern "C" fn on_sigusr1(_: libc::c_int) {
    set_level(next_level(level()));
}

// ---------------------------------------------------------------- k2hdbg.h functions

/// A K2hDbgMode argument as received (any int; shown as K2hDbgMode in the header).
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct DbgModeArg(pub libc::c_int);

/// Set the level, returning the previous one (an undefined value leaves the level alone).
#[no_mangle]
pub extern "C" fn SetK2hDbgMode(mode: DbgModeArg) -> K2hDbgMode {
    use k2h_dbg_mode::*;
    let m = match mode.0 {
        0 => K2HDBG_SILENT,
        1 => K2HDBG_ERR,
        3 => K2HDBG_WARN,
        7 => K2HDBG_MSG,
        _ => {
            err("SetK2hDbgMode", &format!("unknown debug mode {}", mode.0));
            return level();
        }
    };
    set_level(m)
}

/// Cycle the level, returning the previous one.
#[no_mangle]
pub extern "C" fn BumpupK2hDbgMode() -> K2hDbgMode {
    guard("BumpupK2hDbgMode", level(), || {
        set_level(next_level(level()))
    })
}

/// The current level.
#[no_mangle]
pub extern "C" fn GetK2hDbgMode() -> K2hDbgMode {
    level()
}

/// Re-read K2HDBGMODE and K2HDBGFILE.
#[no_mangle]
pub extern "C" fn LoadK2hDbgEnv() -> CBool {
    cbool(|| guard("LoadK2hDbgEnv", false, load_env))
}

/// Send debug output to a file (NULL or "" fails).
#[no_mangle]
pub extern "C" fn SetK2hDbgFile(filepath: *const c_char) -> CBool {
    cbool(|| {
        guard("SetK2hDbgFile", false, || {
            match crate::capi::ffi::opt_str(filepath) {
                Some(p) => open_file(&p),
                None => false,
            }
        })
    })
}

/// Send debug output back to stderr.
#[no_mangle]
pub extern "C" fn UnsetK2hDbgFile() -> CBool {
    cbool(|| guard("UnsetK2hDbgFile", false, close_file))
}

/// Install a SIGUSR1 handler that bumps the level.
#[no_mangle]
pub extern "C" fn SetSignalUser1() -> CBool {
    cbool(|| {
        guard("SetSignalUser1", false, || {
            // SAFETY: installing an async-signal-safe handler (it only stores an integer).
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_sigusr1 as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut sa.sa_mask);
                sa.sa_flags = libc::SA_RESTART;
                libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()) == 0
            }
        })
    })
}

// ---------------------------------------------------------------- k2hash.h family A

#[no_mangle]
pub extern "C" fn k2h_bump_debug_level() {
    init_env();
    BumpupK2hDbgMode();
}

#[no_mangle]
pub extern "C" fn k2h_set_debug_level_silent() {
    init_env();
    set_level(k2h_dbg_mode::K2HDBG_SILENT);
}

#[no_mangle]
pub extern "C" fn k2h_set_debug_level_error() {
    init_env();
    set_level(k2h_dbg_mode::K2HDBG_ERR);
}

#[no_mangle]
pub extern "C" fn k2h_set_debug_level_warning() {
    init_env();
    set_level(k2h_dbg_mode::K2HDBG_WARN);
}

#[no_mangle]
pub extern "C" fn k2h_set_debug_level_message() {
    init_env();
    set_level(k2h_dbg_mode::K2HDBG_MSG);
}

#[no_mangle]
pub extern "C" fn k2h_set_debug_file(filepath: *const c_char) -> CBool {
    cbool(|| {
        init_env();
        match crate::capi::ffi::opt_str(filepath) {
            None => k2h_unset_debug_file().get(),
            Some(_) => SetK2hDbgFile(filepath).get(),
        }
    })
}

#[no_mangle]
pub extern "C" fn k2h_unset_debug_file() -> CBool {
    init_env();
    UnsetK2hDbgFile()
}

#[no_mangle]
pub extern "C" fn k2h_load_debug_env() -> CBool {
    init_env();
    LoadK2hDbgEnv()
}

#[no_mangle]
pub extern "C" fn k2h_set_bumpup_debug_signal_user1() -> CBool {
    init_env();
    SetSignalUser1()
}
