//! Shared pieces of the k2hash command-line tools: the original's option syntax, its text
//! renderings of binary data, terminal progress, and the one place that takes ownership of
//! buffers the C API allocated.
use std::collections::HashMap;
use std::io::{IsTerminal, Write};

pub mod shell;

/// One option of a tool: its spelling, the name it is stored under, and how many parameters
/// follow it.
pub struct OptType {
    pub option: &'static str,
    pub norm: &'static str,
    pub min: usize,
    pub max: usize,
}

pub const fn opt(option: &'static str, norm: &'static str, min: usize, max: usize) -> OptType {
    OptType {
        option,
        norm,
        min,
        max,
    }
}

pub type Options = HashMap<String, Vec<String>>;

/// Why an argument list was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum OptError {
    /// The list starts a comment (`#...`): nothing to do.
    Comment,
    /// A message for the user.
    Bad(String),
}

/// Parse `args` against `types` like the original tools: options match case-insensitively, each
/// takes between `min` and `max` following words, unknown words are errors.
pub fn parse_options(args: &[String], types: &[OptType]) -> Result<Options, OptError> {
    let mut opts = Options::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a.starts_with('#') {
            return Err(OptError::Comment);
        }
        let Some(t) = types.iter().find(|t| t.option.eq_ignore_ascii_case(a)) else {
            return Err(OptError::Bad(format!("Unknown option({a}).")));
        };
        if args.len() < i + 1 + t.min {
            return Err(OptError::Bad(format!(
                "Option({a}) needs {} parameter.",
                t.min
            )));
        }
        let params: Vec<String> = args[i + 1..].iter().take(t.max).cloned().collect();
        i += 1 + params.len();
        opts.insert(t.norm.to_string(), params);
    }
    Ok(opts)
}

/// C `atoi`: optional blanks and sign, then digits; anything else ends the number.
pub fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}

/// C `isprint` in the C locale.
pub fn isprint(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// Write one line (raw bytes, the original prints 0xFF for unprintable bytes) and flush.
pub fn out(line: &[u8]) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(line);
    let _ = o.write_all(b"\n");
    let _ = o.flush();
}

/// Write raw bytes to stdout as they are (no newline) and flush.
pub fn out_raw(b: &[u8]) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(b);
    let _ = o.flush();
}

/// `s` with a NUL appended: how the original's `char*` APIs store keys and values.
pub fn with_nul(s: impl AsRef<[u8]>) -> Vec<u8> {
    let mut v = s.as_ref().to_vec();
    v.push(0);
    v
}

/// Report `msg` as `[ERR] msg` on stderr and exit with `code`.
pub fn die(msg: &str, code: i32) -> ! {
    err(msg);
    std::process::exit(code);
}

/// `out` for text.
pub fn prn(line: &str) {
    out(line.as_bytes());
}

/// An error line on stderr, in the original's `[ERR] ...` form.
pub fn err(msg: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "[ERR] {msg}");
    let _ = e.flush();
}

/// Bytes up to the first NUL: how C prints a `char*` value.
pub fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// The original's printable rendering of a binary buffer: unprintable bytes become 0xFF, NULs
/// become blanks except a final one, which ends the string.
pub fn printable(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        if isprint(c) {
            v.push(c);
        } else if c != 0 {
            v.push(0xFF);
        } else if i + 1 < b.len() {
            v.push(b' ');
        } else {
            break;
        }
    }
    v
}

const DUMP_BYTES: usize = 16;

/// One line of a binary dump: up to 16 characters, padding, then the bytes in hex.
pub fn dump_line(value: &[u8]) -> Vec<u8> {
    let mut text = Vec::new();
    let mut hex = String::new();
    for (i, &b) in value.iter().take(DUMP_BYTES).enumerate() {
        text.push(if isprint(b) { b } else { 0xFF });
        hex.push_str(&format!("{b:02X} "));
        if i == 7 {
            hex.push(' ');
        }
    }
    text.resize(DUMP_BYTES.max(text.len()), b' ');
    text.extend_from_slice(b"    ");
    text.extend_from_slice(hex.as_bytes());
    text
}

/// A labelled multi-line binary dump (`" LABEL = text    hex"`); None for no data.
pub fn binary_dump(label: &[u8], value: &[u8]) -> Option<Vec<u8>> {
    let mut pref = Vec::new();
    if label.is_empty() {
        pref.extend_from_slice(b"VALUE = ");
    } else {
        pref.push(b' ');
        pref.extend_from_slice(label);
        pref.extend_from_slice(b" = ");
    }
    dump_lines(&pref, value)
}

/// `value` as dump lines of 16 bytes, the first after `pref`, the others indented as far;
/// None for no data.
pub fn dump_lines(pref: &[u8], value: &[u8]) -> Option<Vec<u8>> {
    if value.is_empty() {
        return None;
    }
    let mut o = Vec::new();
    for (n, chunk) in value.chunks(DUMP_BYTES).enumerate() {
        if n == 0 {
            o.extend_from_slice(pref);
        } else {
            o.push(b'\n');
            o.extend(std::iter::repeat_n(b' ', pref.len()));
        }
        o.extend_from_slice(&dump_line(chunk));
    }
    Some(o)
}

/// The program name as the original tools print it (basename, libtool's `lt-` dropped).
pub fn program_name(default: &str) -> String {
    let a = std::env::args().next().unwrap_or_else(|| default.into());
    let b = a.rsplit('/').next().unwrap_or(&a).to_string();
    b.strip_prefix("lt-").map(str::to_string).unwrap_or(b)
}

/// The program name and the options of the command line, parsed against `types`; on a wrong
/// option its message, the usage (`help`) and exit status 1.
pub fn args_or_help(default: &str, types: &[OptType], help: fn(&str)) -> (String, Options) {
    let prog = program_name(default);
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match parse_options(&argv, types) {
        Ok(o) => (prog, o),
        Err(e) => {
            if let OptError::Bad(m) = e {
                err(&m);
            }
            help(&prog);
            std::process::exit(1);
        }
    }
}

/// Print `prompt` and read one answer line from stdin (newline removed); None at end of input.
pub fn ask_line(prompt: &str) -> Option<String> {
    use std::io::BufRead;
    print!("{prompt}");
    let _ = std::io::stdout().flush();
    let mut l = String::new();
    match std::io::stdin().lock().read_line(&mut l) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(l.trim_end_matches('\n').to_string()),
    }
}

/// Every live element in file order: (key, value) — the scan `list` commands print.
pub fn key_values(k: &k2hash::K2h) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    let parts = k2hash::Parts {
        value: true,
        subkeys: false,
        attrs: false,
    };
    let mut pos = 0;
    std::iter::from_fn(move || {
        let (e, key, el) = k.db().next_element(pos, parts).ok()??;
        pos = e;
        Some((key, el.value))
    })
}

/// Progress of a long operation, shown on stderr only when it is a terminal.
pub struct Progress {
    label: String,
    total: u64,
    last: std::time::Instant,
    tty: bool,
}

impl Progress {
    pub fn new(label: &str, total: u64) -> Progress {
        Progress {
            label: label.to_string(),
            total,
            last: std::time::Instant::now(),
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// Report `done` units (at most a few times a second).
    pub fn tick(&mut self, done: u64) {
        if !self.tty || self.last.elapsed().as_millis() < 200 {
            return;
        }
        self.last = std::time::Instant::now();
        let mut e = std::io::stderr().lock();
        if self.total > 0 {
            let _ = write!(
                e,
                "\r{}: {}/{} ({}%)",
                self.label,
                done,
                self.total,
                done * 100 / self.total
            );
        } else {
            let _ = write!(e, "\r{}: {}", self.label, done);
        }
        let _ = e.flush();
    }

    /// Clear the progress line.
    pub fn finish(&self) {
        if self.tty {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

/// Move `src` in at `dst` (k2hreplace): the old `dst` is kept as `dst.BAK[N]` (older backups
/// removed first when `remove_old`), then the new file is attached once, which publishes its
/// inode so processes attached to the old file reattach. Returns an error message.
pub fn replace_file(src: &str, dst: &str, remove_old: bool) -> Result<(), String> {
    let is_file =
        |p: &str| !p.is_empty() && std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(false);
    if !is_file(src) {
        return Err(format!("File {src} does not exist."));
    }
    if !is_file(dst) {
        return Err(format!("File {dst} does not exist."));
    }
    let name = |n: u32| {
        if n == 0 {
            format!("{dst}.BAK")
        } else {
            format!("{dst}.BAK{n}")
        }
    };
    if remove_old {
        for n in 0.. {
            let b = name(n);
            if !is_file(&b) {
                break;
            }
            if let Err(e) = std::fs::remove_file(&b) {
                err(&format!("Could not unlink file {b}. {e}"));
                break;
            }
        }
    }
    let bup = (0..).map(name).find(|b| !is_file(b)).unwrap_or_default();
    std::fs::hard_link(dst, &bup)
        .map_err(|e| format!("Could not link file {dst} to {bup}. {e}"))?;
    std::fs::remove_file(dst).map_err(|e| format!("Could not unlink file {dst}. {e}"))?;
    std::fs::hard_link(src, dst).map_err(|e| format!("Could not link file {src} to {dst}. {e}"))?;
    std::fs::remove_file(src).map_err(|e| format!("Could not unlink file {src}. {e}"))?;
    k2hash::K2h::open_file(
        std::path::Path::new(dst),
        true,
        false,
        false,
        k2hash::Layout::default(),
    )
    .map_err(|e| format!("Could not attach replaced file {dst}: {e}"))?;
    Ok(())
}

/// Buffers handed out by the C API (malloc'd) become Rust values here and are freed.
pub mod cbuf {
    /// Copy `len` bytes at `p` and free `p` with the C allocator; NULL gives None.
    ///
    /// # Safety
    /// `p` is NULL or a malloc'd buffer of at least `len` bytes that nothing else owns.
    pub unsafe fn take(p: *mut u8, len: usize) -> Option<Vec<u8>> {
        if p.is_null() {
            return None;
        }
        // SAFETY: guaranteed by the caller; the buffer is read once and freed once here.
        unsafe {
            let v = std::slice::from_raw_parts(p, len).to_vec();
            libc::free(p.cast());
            Some(v)
        }
    }

    /// A NUL-terminated string the library owns (not freed); empty for NULL.
    ///
    /// # Safety
    /// `p` is NULL or points at a NUL-terminated string that stays valid meanwhile.
    pub unsafe fn cstring(p: *const libc::c_char) -> String {
        if p.is_null() {
            return String::new();
        }
        // SAFETY: guaranteed by the caller.
        unsafe { std::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_matches_original_layout() {
        let d = binary_dump(b"READ QUEUE", b"quevalue1\0").unwrap();
        let mut want = b" READ QUEUE = quevalue1\xff      ".to_vec();
        want.extend_from_slice(b"    71 75 65 76 61 6C 75 65  31 00 ");
        assert_eq!(d, want);
        assert_eq!(binary_dump(b"", b""), None);
        let long = binary_dump(b"", &[b'a'; 17]).unwrap();
        assert!(long.starts_with(b"VALUE = aaaaaaaaaaaaaaaa    61 "));
        assert!(long.ends_with(b"\n        a                   61 "));
    }

    #[test]
    fn printable_and_atoi() {
        assert_eq!(printable(b"a\0b\x01\0"), b"a b\xff".to_vec());
        assert_eq!(atoi(" 12x"), 12);
        assert_eq!(atoi("-3"), -3);
        assert_eq!(atoi("x"), 0);
    }

    #[test]
    fn options_like_original() {
        const T: &[OptType] = &[opt("-f", "-f", 1, 1), opt("-g", "-g", 0, 1)];
        let a: Vec<String> = ["-F", "x", "-g"].iter().map(|s| s.to_string()).collect();
        let o = parse_options(&a, T).unwrap();
        assert_eq!(o["-f"], vec!["x".to_string()]);
        assert!(o["-g"].is_empty());
        let bad: Vec<String> = vec!["-f".into()];
        assert!(matches!(parse_options(&bad, T), Err(OptError::Bad(_))));
        let c: Vec<String> = vec!["#x".into()];
        assert_eq!(parse_options(&c, T), Err(OptError::Comment));
    }
}
