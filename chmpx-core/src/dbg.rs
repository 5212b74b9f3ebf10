//! chmpx's debug output: levels SILENT / ERR / WARN / MSG / DUMP, lines written as
//! `[CHMPX-ERR] place(line) : message` to stderr or to an append-mode file, the environment
//! variables `CHMDBGMODE` / `CHMDBGFILE`, and SIGUSR1 bumping the level.
//!
//! Our code logs through the `log` facade; [`init`] installs the logger that maps `log` levels
//! onto chmpx's (error -> ERR, warn -> WARN, info -> MSG, debug/trace -> DUMP).

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, Once};

/// Debug levels (values of the original's `CHMDBGMODE` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Level {
    Silent = 0,
    Err = 1,
    Warn = 3,
    Msg = 7,
    Dump = 15,
}

impl Level {
    fn from_u32(v: u32) -> Level {
        match v {
            1 => Level::Err,
            3 => Level::Warn,
            7 => Level::Msg,
            15 => Level::Dump,
            _ => Level::Silent,
        }
    }
    /// SILENT -> ERR -> WARN -> MSG -> DUMP -> SILENT.
    pub fn next(self) -> Level {
        match self {
            Level::Silent => Level::Err,
            Level::Err => Level::Warn,
            Level::Warn => Level::Msg,
            Level::Msg => Level::Dump,
            Level::Dump => Level::Silent,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Level::Silent => "SILENT",
            Level::Err => "ERR",
            Level::Warn => "WAN",
            Level::Msg => "MSG",
            Level::Dump => "DUMP",
        }
    }
    /// The `-d` option words: SLT/SILENT, ERR/ERROR, WAN/WARNING, MSG/MESSAGE/INFO/INF, DUMP/DMP.
    pub fn parse_option(s: &str) -> Option<Level> {
        Some(match s.to_ascii_uppercase().as_str() {
            "SLT" | "SILENT" => Level::Silent,
            "ERR" | "ERROR" => Level::Err,
            "WAN" | "WARN" | "WARNING" => Level::Warn,
            "MSG" | "MESSAGE" | "INFO" | "INF" => Level::Msg,
            "DUMP" | "DMP" => Level::Dump,
            _ => return None,
        })
    }
    /// The `CHMDBGMODE` words: SILENT, ERR, WAN, INFO, DUMP.
    pub fn parse_env(s: &str) -> Option<Level> {
        Some(match s.to_ascii_uppercase().as_str() {
            "SILENT" => Level::Silent,
            "ERR" => Level::Err,
            "WAN" => Level::Warn,
            "INFO" => Level::Msg,
            "DUMP" => Level::Dump,
            _ => return None,
        })
    }
}

static LEVEL: AtomicU32 = AtomicU32::new(0);
static OUT: Mutex<Option<File>> = Mutex::new(None);
static INIT: Once = Once::new();

pub fn level() -> Level {
    Level::from_u32(LEVEL.load(Ordering::Relaxed))
}

/// Sets the level, returns the previous one.
pub fn set_level(l: Level) -> Level {
    Level::from_u32(LEVEL.swap(l as u32, Ordering::Relaxed))
}

/// Moves to the next level, returns the new one.
pub fn bump_level() -> Level {
    let next = level().next();
    set_level(next);
    next
}

/// Sends output to `path` (append); an empty path goes back to stderr.
pub fn set_file(path: &str) -> bool {
    if path.is_empty() {
        return unset_file();
    }
    match std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
    {
        Ok(f) => {
            *OUT.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
            true
        }
        Err(_) => false,
    }
}

pub fn unset_file() -> bool {
    *OUT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    true
}

/// Reads `CHMDBGMODE` and `CHMDBGFILE`; false when a value is not understood.
pub fn load_env() -> bool {
    let mut ok = true;
    if let Ok(v) = std::env::var("CHMDBGMODE") {
        match Level::parse_env(&v) {
            Some(l) => {
                set_level(l);
            }
            None => ok = false,
        }
    }
    if let Ok(f) = std::env::var("CHMDBGFILE") {
        if !f.is_empty() && !set_file(&f) {
            ok = false;
        }
    }
    ok
}

/// Writes one line at `tag` (ERR, WAN, MSG, DMP) if the level lets it through.
pub fn emit(tag: &str, place: &str, line: u32, msg: &str) {
    let text = format!("[CHMPX-{tag}] {place}({line}) : {msg}\n");
    let mut out = OUT.lock().unwrap_or_else(|e| e.into_inner());
    match out.as_mut() {
        Some(f) => {
            let _ = f.write_all(text.as_bytes());
        }
        None => {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
}

struct ChmLogger;

impl log::Log for ChmLogger {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        let need = match meta.level() {
            log::Level::Error => Level::Err,
            log::Level::Warn => Level::Warn,
            log::Level::Info => Level::Msg,
            log::Level::Debug | log::Level::Trace => Level::Dump,
        } as u32;
        LEVEL.load(Ordering::Relaxed) & need == need
    }
    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let tag = match record.level() {
            log::Level::Error => "ERR",
            log::Level::Warn => "WAN",
            log::Level::Info => "MSG",
            _ => "DMP",
        };
        let place = record
            .module_path()
            .unwrap_or("chmpx")
            .rsplit("::")
            .next()
            .unwrap_or("chmpx");
        emit(
            tag,
            place,
            record.line().unwrap_or(0),
            &record.args().to_string(),
        );
    }
    fn flush(&self) {}
}

static LOGGER: ChmLogger = ChmLogger;

/// Installs the logger (once) and reads the environment. Safe to call many times.
pub fn init() {
    INIT.call_once(|| {
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
        load_env();
    });
}
