//! Splitting a command line into words the way the original shell does: blanks separate words,
//! `"..."` quotes (with `\"` inside), a backslash outside quotes drops itself.

/// The words of `line`, or an error message for an unmatched quote.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let b = line.as_bytes();
    let mut args = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut making = false;
    let mut quoted = false;
    let mut i = 0;
    let space = |c: u8| c.is_ascii_whitespace() || c == 0x0b;
    while i < b.len() && b[i] != b'\n' {
        let c = b[i];
        if making {
            if quoted {
                if c == b'"' {
                    let next = b.get(i + 1).copied().unwrap_or(0);
                    if next != 0 && !space(next) {
                        return Err("Quart is not matching.".into());
                    }
                    making = false;
                    quoted = false;
                } else if c == b'\\' && b.get(i + 1) == Some(&b'"') {
                    i += 1;
                    cur.push(b'"');
                } else {
                    cur.push(c);
                }
            } else if !space(c) {
                if c != b'\\' {
                    cur.push(c);
                }
            } else {
                making = false;
            }
            if !making && !cur.is_empty() {
                args.push(String::from_utf8_lossy(&cur).into_owned());
                cur.clear();
            }
        } else if !space(c) {
            cur.clear();
            making = true;
            if c == b'"' {
                quoted = true;
            } else {
                quoted = false;
                let mut c = c;
                if c == b'\\' {
                    i += 1;
                    match b.get(i) {
                        None | Some(b'\n') => break,
                        Some(&n) => c = n,
                    }
                }
                cur.push(c);
            }
        }
        i += 1;
    }
    if making {
        if quoted {
            return Err("Quart is not matching.".into());
        }
        if !cur.is_empty() {
            args.push(String::from_utf8_lossy(&cur).into_owned());
        }
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::split;

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
}
