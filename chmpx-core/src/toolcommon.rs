//! What the command line tools (chmpxbench, chmpxstatus) share: the start of `main`, error
//! lines and C number parsing.

use std::io::Write;

use crate::dbg;
use crate::opts::Opts;

/// `[ERR] msg` on standard error, in one write so that lines of several processes do not mix.
pub fn err(msg: &str) {
    let _ = std::io::stderr().write_all(format!("[ERR] {msg}\n").as_bytes());
}

/// C `atoll`: optional blanks and sign, then digits; anything else ends the number (0 if
/// none). Overflow wraps.
pub fn atoll(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for b in rest.bytes().take_while(u8::is_ascii_digit) {
        v = v.wrapping_mul(10).wrapping_add(i64::from(b - b'0'));
    }
    if neg {
        v.wrapping_neg()
    } else {
        v
    }
}

/// C `atoi`: [`atoll`] cut to an `int`.
pub fn atoi(s: &str) -> i64 {
    atoll(s) as i32 as i64
}

/// A tool's start: the debug output set up, then its name (libtool's `lt-` prefix dropped,
/// `default` when there is none) and its arguments. With `-h` / `-help` it prints `help` and
/// exits with 0.
pub fn start(default: &str, help: fn(&str)) -> (String, Vec<String>, Opts) {
    dbg::init();
    let mut args = std::env::args();
    let prog = args.next().unwrap_or_default();
    let prog = std::path::Path::new(&prog)
        .file_name()
        .and_then(|s| s.to_str())
        .map(|s| s.strip_prefix("lt-").unwrap_or(s).to_string())
        .unwrap_or_else(|| default.into());
    let args: Vec<String> = args.collect();
    let opts = Opts::parse(args.iter().cloned());
    if opts.find_any(&["h", "help"]) {
        help(&prog);
        std::process::exit(0);
    }
    (prog, args, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_numbers() {
        assert_eq!(atoi("8021"), 8021);
        assert_eq!(atoi("  -3x"), -3);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi(""), 0);
        assert_eq!(atoi("+7"), 7);
        assert_eq!(atoi("4294967297"), 1);
        assert_eq!(atoll(" 123x"), 123);
        assert_eq!(atoll("-5"), -5);
        assert_eq!(atoll("4294967297"), 4294967297);
    }
}
