//! Output as the original tool writes it: results on stdout, `[ERR]` / `[WAN]` / `[MSG]`
//! lines on stderr (the last two only at the levels `-d` or `dbglevel` asked for).
use std::sync::atomic::{AtomicBool, Ordering};

pub use k2htools::{err, out, prn};

static PRINT_MSG: AtomicBool = AtomicBool::new(false);
static PRINT_WAN: AtomicBool = AtomicBool::new(false);

/// Which of the tool's own messages are printed (set once from `-d`).
pub fn set_levels(msg: bool, wan: bool) {
    PRINT_MSG.store(msg, Ordering::Relaxed);
    PRINT_WAN.store(wan, Ordering::Relaxed);
}

fn note(prefix: &str, msg: &str) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{prefix} {msg}");
}

pub fn wan(msg: &str) {
    if PRINT_WAN.load(Ordering::Relaxed) {
        note("[WAN]", msg);
    }
}

pub fn msg(msg: &str) {
    if PRINT_MSG.load(Ordering::Relaxed) {
        note("[MSG]", msg);
    }
}

/// `STR_DKCRES_RESULT_TYPE`: the name of the result half of a response code.
pub fn result_name(code: u64) -> &'static str {
    match code >> 32 {
        0 => "DKC_RES_SUCCESS",
        0x8000_0000 => "DKC_RES_ERROR",
        0xFFFF_FFFF => "DKC_RES_NORESTYPE",
        _ => "UNKNOWN_DKC_RES_TYPE",
    }
}

const SUBCODES: [&str; 29] = [
    "NOTHING",
    "INTERNAL",
    "NOMEM",
    "INVAL",
    "DIRECTOPEN",
    "LOCK",
    "SETVAL",
    "GETVAL",
    "SETSKEY",
    "SETSKEYLIST",
    "GETSKEYLIST",
    "ADDSKEYLIST",
    "SETALL",
    "DELKEY",
    "DELSKEYLIST",
    "REPL",
    "GETMARKER",
    "SETMARKER",
    "GETNEWQKEY",
    "GETQUEUE",
    "PUSHQUEUE",
    "POPQUEUE",
    "GETPOPQUEUENAME",
    "NOTSAMEVAL",
    "NOTSAMEDATATYPE",
    "GETSLEFSVRCHMPX",
    "NOTSAMECHMPXID",
    "GETK2HSTATE",
    "NOSERVERNODE",
];

/// `STR_DKCRES_SUBCODE_TYPE`: the name of the sub code half of a response code.
pub fn subcode_name(code: u64) -> String {
    let sub = code & 0xFFFF_FFFF;
    match sub {
        0x10000 => "DKC_RES_SUBCODE_NODATA".into(),
        0xFFFF_FFFF => "DKC_RES_SUBCODE_NORESTYPE".into(),
        n if (n as usize) < SUBCODES.len() => format!("DKC_RES_SUBCODE_{}", SUBCODES[n as usize]),
        _ => "UNKNOWN_DKC_RES_SUBCODE_TYPE".into(),
    }
}

/// The tool's report of a call: `[ERR] RESULT CODE(...)` when it failed (false), a `[MSG]`
/// line when it succeeded with a sub code; `quiet` leaves the latter out.
pub fn checked(ok: bool, code: u64, quiet: bool) -> bool {
    let text = || {
        format!(
            "RESULT CODE({} - {})",
            result_name(code),
            subcode_name(code)
        )
    };
    if !ok {
        err(&text());
        return false;
    }
    if code & 0xFFFF_FFFF != 0 && !quiet {
        msg(&text());
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_like_the_original_macros() {
        assert_eq!(result_name(0), "DKC_RES_SUCCESS");
        assert_eq!(result_name(0x8000_0000_0001_0000), "DKC_RES_ERROR");
        assert_eq!(result_name(u64::MAX), "DKC_RES_NORESTYPE");
        assert_eq!(result_name(0x1234_0000_0000), "UNKNOWN_DKC_RES_TYPE");
        assert_eq!(
            subcode_name(0x8000_0000_0001_0000),
            "DKC_RES_SUBCODE_NODATA"
        );
        assert_eq!(subcode_name(0x17), "DKC_RES_SUBCODE_NOTSAMEVAL");
        assert_eq!(subcode_name(0x1c), "DKC_RES_SUBCODE_NOSERVERNODE");
        assert_eq!(subcode_name(0x1d), "UNKNOWN_DKC_RES_SUBCODE_TYPE");
        assert_eq!(subcode_name(u64::MAX), "DKC_RES_SUBCODE_NORESTYPE");
    }
}
