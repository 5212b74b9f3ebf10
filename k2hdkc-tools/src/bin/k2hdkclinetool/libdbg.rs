//! The library's debug level, debug file and communication log, set and read through the C
//! API (`k2hdkc_set_debug_level_*`, `k2hdkc_*_comlog`) with `-capi` and through the
//! k2hdkcdbg.h functions otherwise, as the original tool does.
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};

use k2hdkc::capi::debug as dbg;
use k2hdkc::capi::ffi::CBool;

static CAPI: AtomicBool = AtomicBool::new(false);

/// Use the C API's functions from now on (`-capi`).
pub fn use_capi(on: bool) {
    CAPI.store(on, Ordering::Relaxed);
}

fn capi() -> bool {
    CAPI.load(Ordering::Relaxed)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Level {
    Silent,
    Err,
    Wan,
    Msg,
    Dump,
}

impl Level {
    /// A level word of `-d` / `dbglevel` (case-insensitive).
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "silent" | "slt" => Level::Silent,
            "error" | "err" => Level::Err,
            "warning" | "wan" => Level::Wan,
            "info" | "msg" => Level::Msg,
            "dump" | "dmp" => Level::Dump,
            _ => return None,
        })
    }

    /// The name `dbglevel` prints.
    pub fn upper(self) -> &'static str {
        match self {
            Level::Silent => "SILENT",
            Level::Err => "ERROR",
            Level::Wan => "WARNING",
            Level::Msg => "INFO(MSG)",
            Level::Dump => "DUMP",
        }
    }

    /// The name the banner prints.
    pub fn full(self) -> &'static str {
        match self {
            Level::Silent => "silent",
            Level::Err => "error",
            Level::Wan => "warning",
            Level::Msg => "message",
            Level::Dump => "dump",
        }
    }

    /// The `K2hdkcDbgMode` value.
    fn mode(self) -> i32 {
        match self {
            Level::Silent => 0,
            Level::Err => 1,
            Level::Wan => 3,
            Level::Msg => 7,
            Level::Dump => 15,
        }
    }
}

/// The library's level.
pub fn level() -> Level {
    match dbg::GetK2hdkcDbgMode() {
        0 => Level::Silent,
        1 => Level::Err,
        3 => Level::Wan,
        7 => Level::Msg,
        _ => Level::Dump,
    }
}

pub fn set_level(l: Level) {
    if !capi() {
        dbg::SetK2hdkcDbgMode(l.mode());
        return;
    }
    match l {
        Level::Silent => dbg::k2hdkc_set_debug_level_silent(),
        Level::Err => dbg::k2hdkc_set_debug_level_error(),
        Level::Wan => dbg::k2hdkc_set_debug_level_warning(),
        Level::Msg => dbg::k2hdkc_set_debug_level_message(),
        Level::Dump => dbg::k2hdkc_set_debug_level_dump(),
    }
}

/// The next level (after dump: silent).
pub fn bump() {
    if capi() {
        dbg::k2hdkc_bump_debug_level();
    } else {
        dbg::BumpupK2hdkcDbgMode();
    }
}

pub fn comlog() -> bool {
    let on = if capi() {
        dbg::k2hdkc_is_enable_comlog()
    } else {
        dbg::IsK2hdkcComLog()
    };
    on == CBool::TRUE
}

pub fn set_comlog(on: bool) {
    match (capi(), on) {
        (true, true) => dbg::k2hdkc_enable_comlog(),
        (true, false) => dbg::k2hdkc_disable_comlog(),
        (false, true) => dbg::EnableK2hdkcComLog(),
        (false, false) => dbg::DsableK2hdkcComLog(),
    }
}

/// Debug messages go to `path` (`-dfile`); false when it cannot be opened.
pub fn set_file(path: &str) -> bool {
    let Ok(c) = CString::new(path) else {
        return false;
    };
    let ok = if capi() {
        dbg::k2hdkc_set_debug_file(c.as_ptr())
    } else {
        dbg::SetK2hdkcDbgFile(c.as_ptr())
    };
    ok == CBool::TRUE
}

/// The debug file set with `-dfile`, if any.
pub fn file(set: Option<&str>) -> String {
    set.map_or_else(|| "not set".to_string(), str::to_string)
}
