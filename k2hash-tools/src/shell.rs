//! The interactive shell the original line tools share (k2hlinetool, k2hdkclinetool): splitting
//! a command line into words, console input with history, `!`-recall, lap times, history files,
//! command files and the sub-shell.
use std::io::{BufRead, IsTerminal, Write};

use crate::{atoi, err, parse_options, prn, OptError, OptType};

/// The words of `line` (`linetool_words::split`: the originals' rules), or the error message
/// for an unmatched quote.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    linetool_words::split(line).map_err(|e| e.to_string())
}

/// A command line as a command and its parameters (per `table`, as the original tools parse
/// it); None for nothing to run: an empty line, a comment, or an error, which is reported.
pub fn parse_line(line: &str, table: &[OptType]) -> Option<(String, Vec<String>)> {
    if line.is_empty() {
        return None;
    }
    let words = match split(line) {
        Ok(w) => w,
        Err(m) => {
            err(&m);
            return None;
        }
    };
    let opts = match parse_options(&words, table) {
        Ok(o) => o,
        Err(OptError::Comment) => return None,
        Err(OptError::Bad(m)) => {
            err(&m);
            return None;
        }
    };
    if opts.len() > 1 {
        err("Too many option parameter.");
        return None;
    }
    opts.into_iter().next()
}

/// Console input: line editing and history on a terminal, plain lines otherwise.
pub struct Console {
    pub history: Vec<String>,
    pub max: usize,
    editor: Option<rustyline::DefaultEditor>,
    pub lap: bool,
}

impl Default for Console {
    fn default() -> Console {
        Console::new()
    }
}

impl Console {
    pub fn new() -> Console {
        let editor = if std::io::stdin().is_terminal() {
            rustyline::DefaultEditor::new().ok()
        } else {
            None
        };
        Console {
            history: Vec::new(),
            max: 1000,
            editor,
            lap: false,
        }
    }

    pub fn put_history(&mut self, line: &str) {
        if line.is_empty() {
            return;
        }
        self.history.push(line.to_string());
        while self.history.len() > self.max {
            self.history.remove(0);
        }
        if let Some(ed) = self.editor.as_mut() {
            let _ = ed.add_history_entry(line);
        }
    }

    /// Read one command line; None at end of input.
    pub fn read(&mut self, prompt: &str) -> Option<String> {
        if let Some(ed) = self.editor.as_mut() {
            return match ed.readline(prompt) {
                Ok(l) => {
                    self.put_history(&l);
                    Some(l)
                }
                Err(rustyline::error::ReadlineError::Interrupted) => Some(String::new()),
                Err(_) => None,
            };
        }
        print!("{prompt}");
        let _ = std::io::stdout().flush();
        let mut l = String::new();
        match std::io::stdin().lock().read_line(&mut l) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                let l = l.trim_end_matches(['\n', '\r']).to_string();
                prn("");
                self.put_history(&l);
                Some(l)
            }
        }
    }

    /// `history`: every remembered line, numbered from 1.
    pub fn print_history(&self) {
        for (i, h) in self.history.iter().enumerate() {
            prn(&format!(" {}  {}", i + 1, h));
        }
    }

    /// A line typed as `!...` (`rest` is what follows the `!`): `!` alone runs the sub-shell
    /// (None), `!!` and `!N` give the remembered line to run (printed, and put in place of the
    /// `!` line in the history); an unknown number is reported (None).
    pub fn recall(&mut self, rest: &str) -> Option<String> {
        if rest.is_empty() {
            self.history.pop();
            self.put_history("shell");
            run_shell();
            return None;
        }
        let pos: i64 = if rest == "!" { -1 } else { atoi(rest) };
        let n = self.history.len() as i64;
        let idx = if pos == -1 && n > 0 {
            n - 1
        } else if pos > 0 && pos < n {
            pos - 1
        } else {
            err(&format!("No history number({pos}) is existed."));
            return None;
        };
        let cmd = self.history[idx as usize].clone();
        self.history.pop();
        self.put_history(&cmd);
        prn(&format!(" {cmd}"));
        Some(cmd)
    }

    /// `save <file>`: the history without the commands that only work interactively.
    pub fn save(&self, path: &str) {
        let skip = ["his", "history", "shell", "sh", "!!", "save", "load"];
        let mut s = String::new();
        for h in &self.history {
            let lower = h.to_ascii_lowercase();
            if h.starts_with('!') || skip.iter().any(|x| lower.starts_with(x)) {
                continue;
            }
            s.push_str(h);
            s.push('\n');
        }
        if let Err(e) = std::fs::write(path, s) {
            err(&format!(
                "Could not open file({path}) for writing history. {e}"
            ));
        }
    }
}

/// Prints the lap time of a command when `-lap` was given (on drop).
pub struct Lap(Option<std::time::Instant>);

impl Lap {
    pub fn new(c: &Console) -> Lap {
        Lap(c.lap.then(std::time::Instant::now))
    }
}

impl Drop for Lap {
    fn drop(&mut self) {
        if let Some(s) = self.0 {
            let d = s.elapsed();
            let (sec, us) = (d.as_secs(), d.subsec_micros());
            prn("");
            prn(&format!(
                "Lap time: {}h {}m {}s {}ms {}us({}s {}us)\n",
                sec / 3600,
                (sec / 60) % 60,
                sec % 60,
                us / 1000,
                us % 1000,
                sec,
                us
            ));
        }
    }
}

/// `shell` / `!`: the user's `$SHELL` (or /bin/sh) until it exits.
pub fn run_shell() {
    let sh = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
    if let Err(e) = std::process::Command::new(&sh).status() {
        err(&format!(
            "Something error occurred by executing shell({sh}): {e}."
        ));
    }
}

/// Command lines of a file: NUL and CR dropped, blank and `#` lines skipped. A last line
/// without a newline is kept (as it is, unfiltered) only with `keep_last`: k2hdkclinetool runs
/// it, k2hlinetool does not.
pub fn command_lines(b: &[u8], keep_last: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = Vec::new();
    for &c in b {
        match c {
            b'\r' | 0 => {}
            b'\n' => {
                let t = cur.iter().find(|c: &&u8| !c.is_ascii_whitespace());
                if t.is_some() && t != Some(&b'#') {
                    lines.push(String::from_utf8_lossy(&cur).into_owned());
                }
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    if keep_last && !cur.is_empty() {
        lines.push(String::from_utf8_lossy(&cur).into_owned());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::{command_lines, split};

    #[test]
    fn words_quotes_escapes() {
        assert_eq!(split("set  a b").unwrap(), vec!["set", "a", "b"]);
        assert_eq!(split("set \"a b\" c").unwrap(), vec!["set", "a b", "c"]);
        assert_eq!(split("echo \"x\\\"y\"").unwrap(), vec!["echo", "x\"y"]);
        assert_eq!(split("echo a\\ b").unwrap(), vec!["echo", "a", "b"]);
        assert!(split("echo \"abc").is_err());
        assert!(split("echo \"ab\"c").is_err());
        assert!(split("   ").unwrap().is_empty());
    }

    #[test]
    fn command_file_lines() {
        let l = command_lines(b"# c\n\n  \nset a b\r\n  # x\nlast", false);
        assert_eq!(l, vec!["set a b".to_string()]);
        let l = command_lines(b"set a b\nlast", true);
        assert_eq!(l, vec!["set a b".to_string(), "last".to_string()]);
    }
}
