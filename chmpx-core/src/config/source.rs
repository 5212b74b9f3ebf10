//! What a configuration string is: a file (INI, YAML or JSON by extension) or a JSON document,
//! with the environment fallbacks `CHMCONFFILE` and `CHMJSONCONF`.

use std::path::{Path, PathBuf};

use super::raw::{self, Raw};
use super::{ConfigError, Result};

pub const ENV_CONFFILE: &str = "CHMCONFFILE";
pub const ENV_JSONCONF: &str = "CHMJSONCONF";

/// Largest configuration file we read (a real one is a few KB).
const MAX_CONF_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfType {
    IniFile,
    YamlFile,
    JsonFile,
    JsonString,
}

/// A detected configuration: its type and the path or the JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfSource {
    pub kind: ConfType,
    /// File path, or the JSON text for [`ConfType::JsonString`].
    pub value: String,
}

/// The original's `right_check_json_string`: skipping blanks and backslashes, the first other
/// character is one of `{ [ : } ] ' "`.
pub fn looks_like_json(text: &str) -> bool {
    text.chars()
        .find(|c| !c.is_ascii_whitespace() && *c != '\\')
        .is_some_and(|c| matches!(c, '{' | '[' | ':' | '}' | ']' | '\'' | '"'))
}

/// True when `CHMCONFFILE` or `CHMJSONCONF` holds a non-empty value.
pub fn have_env_conf() -> bool {
    env_nonempty(ENV_CONFFILE).is_some() || env_nonempty(ENV_JSONCONF).is_some()
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl ConfSource {
    /// Decides what `config` is. An empty string, with `check_env`, falls back to
    /// `CHMCONFFILE`, then `CHMJSONCONF`.
    pub fn detect(config: &str, check_env: bool) -> Result<ConfSource> {
        let text = if config.is_empty() {
            let env = if check_env {
                env_nonempty(ENV_CONFFILE).or_else(|| env_nonempty(ENV_JSONCONF))
            } else {
                None
            };
            env.ok_or_else(|| {
                ConfigError(format!(
                    "no configuration given (use -conf or -json, or set {ENV_CONFFILE} or {ENV_JSONCONF})"
                ))
            })?
        } else {
            config.to_string()
        };
        if looks_like_json(&text) {
            return Ok(ConfSource {
                kind: ConfType::JsonString,
                value: text,
            });
        }
        let path = Path::new(&text);
        if !path.is_file() {
            return Err(ConfigError(format!(
                "configuration file {text} does not exist or is not a regular file"
            )));
        }
        let ext = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit_once('.'))
            .map(|(_, e)| e);
        let kind = match ext {
            None => {
                log::warn!("configuration file {text} has no extension, read as INI");
                ConfType::IniFile
            }
            Some(e) if e.eq_ignore_ascii_case("ini") => ConfType::IniFile,
            Some(e) if e.eq_ignore_ascii_case("json") => ConfType::JsonFile,
            Some(e) if e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml") => ConfType::YamlFile,
            Some(e) => {
                return Err(ConfigError(format!(
                    "configuration file {text} has an unknown extension .{e} (use .ini, .json, .yaml or .yml)"
                )))
            }
        };
        Ok(ConfSource { kind, value: text })
    }

    /// The watched file, if the configuration is a file.
    pub fn file(&self) -> Option<PathBuf> {
        (self.kind != ConfType::JsonString).then(|| PathBuf::from(&self.value))
    }

    /// Reads and parses the syntax (no interpretation yet).
    pub fn read_raw(&self) -> Result<Raw> {
        let text = match self.kind {
            ConfType::JsonString => self.value.clone(),
            _ => read_text(&self.value)?,
        };
        match self.kind {
            ConfType::IniFile => Ok(raw::parse_ini(&text)),
            _ => {
                raw::parse_yaml(&text).map_err(|e| ConfigError(format!("{}: {e}", self.describe())))
            }
        }
    }

    fn describe(&self) -> String {
        match self.kind {
            ConfType::JsonString => "JSON configuration string".into(),
            _ => format!("configuration file {}", self.value),
        }
    }
}

fn read_text(path: &str) -> Result<String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| ConfigError(format!("cannot read configuration file {path}: {e}")))?;
    if meta.len() > MAX_CONF_BYTES {
        return Err(ConfigError(format!(
            "configuration file {path} is too large ({} bytes)",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| ConfigError(format!("cannot read configuration file {path}: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|_| ConfigError(format!("configuration file {path} is not UTF-8 text")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_detection() {
        assert!(looks_like_json("  {\"a\":1}"));
        assert!(looks_like_json("\\ 'x'"));
        assert!(!looks_like_json("/etc/chmpx.ini"));
        assert!(!looks_like_json(""));
    }

    #[test]
    fn types_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        for (name, kind) in [
            ("a.ini", Some(ConfType::IniFile)),
            ("a.YAML", Some(ConfType::YamlFile)),
            ("a.yml", Some(ConfType::YamlFile)),
            ("a.json", Some(ConfType::JsonFile)),
            ("noext", Some(ConfType::IniFile)),
            ("a.txt", None),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, "").unwrap();
            let got = ConfSource::detect(p.to_str().unwrap(), false)
                .ok()
                .map(|s| s.kind);
            assert_eq!(got, kind, "{name}");
        }
        assert!(
            ConfSource::detect(dir.path().join("missing.ini").to_str().unwrap(), false).is_err()
        );
        assert!(ConfSource::detect("", false).is_err());
    }
}
