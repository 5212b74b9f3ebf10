//! Command lines of the chmpx tools, parsed the original's way: an argument starting with `-`
//! is an option (matched case-insensitively), the following arguments up to the next option are
//! its parameters; a later repeat of an option replaces the earlier one.

use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct Opts {
    map: HashMap<String, Vec<String>>,
}

impl Opts {
    /// Parses the arguments after the program name.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Opts {
        let mut map = HashMap::new();
        let mut current: Option<(String, Vec<String>)> = None;
        for arg in args {
            if let Some(opt) = arg.strip_prefix('-') {
                if let Some((k, v)) = current.take() {
                    map.insert(k, v);
                }
                current = Some((opt.to_ascii_uppercase(), Vec::new()));
            } else {
                let words = arg
                    .split(['\r', '\n'])
                    .filter(|w| !w.is_empty())
                    .map(str::to_string);
                match current.as_mut() {
                    Some((_, v)) => v.extend(words),
                    None => current = Some((String::new(), words.collect())),
                }
            }
        }
        if let Some((k, v)) = current {
            map.insert(k, v);
        }
        Opts { map }
    }

    pub fn find(&self, opt: &str) -> bool {
        self.map.contains_key(&opt.to_ascii_uppercase())
    }

    /// The first parameter of `opt` ("" when it has none); `None` when `opt` is absent.
    pub fn get(&self, opt: &str) -> Option<String> {
        self.map
            .get(&opt.to_ascii_uppercase())
            .map(|v| v.first().cloned().unwrap_or_default())
    }

    /// The first of several spellings that is present.
    pub fn get_any(&self, opts: &[&str]) -> Option<String> {
        opts.iter().find_map(|o| self.get(o))
    }

    pub fn find_any(&self, opts: &[&str]) -> bool {
        opts.iter().any(|o| self.find(o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_chmopts() {
        let o =
            Opts::parse(["-Conf", "a.ini", "-no_check_update", "-d", "ERR", "x"].map(String::from));
        assert_eq!(o.get("conf").as_deref(), Some("a.ini"));
        assert!(o.find("NO_CHECK_UPDATE"));
        assert_eq!(o.get("no_check_update").as_deref(), Some(""));
        assert_eq!(o.get("d").as_deref(), Some("ERR"));
        assert!(o.get("json").is_none());
    }
}
