//! k2hdkc's debug output: `[DKC-<ERR|WAN|MSG|DMP>] <place>(<line>) : <text>` on stderr or in
//! the file of `-dfile` / `DKCDBGFILE`, at the level of `-d` / `DKCDBGMODE` (the original's
//! `k2hdkcdbg.h` format and variables).

use std::io::Write;
use std::sync::Mutex;

struct DkcLogger {
    file: Mutex<Option<std::fs::File>>,
}

impl log::Log for DkcLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
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
            .unwrap_or("");
        let line = format!(
            "[DKC-{tag}] {place}({}) : {}\n",
            r.line().unwrap_or(0),
            r.args()
        );
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        match f.as_mut() {
            Some(f) => {
                let _ = f.write_all(line.as_bytes());
            }
            None => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }

    fn flush(&self) {}
}

/// A level word of `-d` / `DKCDBGMODE` (None: not one).
pub fn level_of(word: &str) -> Option<log::LevelFilter> {
    Some(match word.to_ascii_uppercase().as_str() {
        "SLT" | "SILENT" => log::LevelFilter::Off,
        "ERR" | "ERROR" => log::LevelFilter::Error,
        "WAN" | "WARNING" => log::LevelFilter::Warn,
        "MSG" | "MESSAGE" | "INFO" => log::LevelFilter::Info,
        "DUMP" => log::LevelFilter::Trace,
        _ => return None,
    })
}

/// Installs the logger: level and file from the environment, then the given overrides.
pub fn init(level: Option<log::LevelFilter>, file: Option<&str>) {
    let env_level = std::env::var("DKCDBGMODE").ok().and_then(|v| level_of(&v));
    let path = file
        .map(str::to_string)
        .or_else(|| std::env::var("DKCDBGFILE").ok().filter(|v| !v.is_empty()));
    let f = path.and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    });
    let logger = Box::leak(Box::new(DkcLogger {
        file: Mutex::new(f),
    }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level.or(env_level).unwrap_or(log::LevelFilter::Off));
    }
}
