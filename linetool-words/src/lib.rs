//! How the original line tools (k2hlinetool, chmpxlinetool, k2hdkclinetool) split a console
//! line into words, shared by ours: blanks separate words, `"..."` quotes one (with `\"`
//! inside), a backslash outside quotes drops itself and keeps the next character, and a line
//! feed or a NUL ends the line (the originals work on C strings).

/// A quote that is not closed, or closed with something other than a blank after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmatched;

impl std::fmt::Display for Unmatched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the originals' words, typo included: scripts and transcripts compare them
        f.write_str("Quart is not matching.")
    }
}

impl std::error::Error for Unmatched {}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The words of `line`.
pub fn split(line: &str) -> Result<Vec<String>, Unmatched> {
    let b = line.as_bytes();
    let at = |i: usize| -> u8 { b.get(i).copied().unwrap_or(0) };
    let mut args: Vec<String> = Vec::new();
    let mut word: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut i = 0;
    while i < b.len() && b[i] != 0 && b[i] != b'\n' {
        let c = b[i];
        if in_word {
            if quoted {
                if c == b'"' {
                    let next = at(i + 1);
                    if !is_space(next) && next != 0 {
                        return Err(Unmatched);
                    }
                    in_word = false;
                    quoted = false;
                } else if c == b'\\' && at(i + 1) == b'"' {
                    i += 1;
                    word.push(b'"');
                } else {
                    word.push(c);
                }
            } else if !is_space(c) {
                if c != b'\\' {
                    word.push(c);
                }
            } else {
                in_word = false;
            }
            if !in_word && !word.is_empty() {
                args.push(String::from_utf8_lossy(&word).into_owned());
                word.clear();
            }
        } else if !is_space(c) {
            word.clear();
            in_word = true;
            if c == b'"' {
                quoted = true;
            } else {
                quoted = false;
                let mut c = c;
                if c == b'\\' {
                    i += 1;
                    c = at(i);
                    if c == 0 || c == b'\n' {
                        break;
                    }
                }
                word.push(c);
            }
        }
        i += 1;
    }
    if in_word {
        if quoted {
            return Err(Unmatched);
        }
        if !word.is_empty() {
            args.push(String::from_utf8_lossy(&word).into_owned());
        }
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        split(s).unwrap()
    }

    #[test]
    fn blanks_quotes_and_escapes() {
        assert_eq!(words("  set  key\tvalue \r\n"), ["set", "key", "value"]);
        assert_eq!(
            words(r#"set "a key" "say \"hi\"""#),
            ["set", "a key", r#"say "hi""#]
        );
        // inside a word a backslash only drops itself; at a word's start it keeps what follows
        assert_eq!(words(r"a\ b c\\d"), ["a", "b", "cd"]);
        assert_eq!(words(r#"\"x\ y"#), [r#""x"#, "y"]);
        assert_eq!(words("one\ntwo"), ["one"]);
        assert_eq!(words("one\0two"), ["one"]);
        assert_eq!(words(r"end\"), ["end"]);
        assert!(words("").is_empty());
        assert_eq!(split(r#"say "unclosed"#), Err(Unmatched));
        assert_eq!(split(r#""a"b"#), Err(Unmatched));
        assert_eq!(Unmatched.to_string(), "Quart is not matching.");
    }
}
