//! The `K2HDKC` section of a configuration (spec §4.2): the same INI / YAML / JSON file (or
//! JSON string) that configures chmpx carries the k2hdkc server's settings.
//!
//! INI: the first `[K2HDKC]` section (the next `[...]` line ends it); `#` starts a comment;
//! keys are case-insensitive; `PASSPHRASES` and `ATTRPLUGIN` may repeat. YAML/JSON: the
//! top-level key `K2HDKC` (any case) whose value maps keys to scalars (or, for the repeatable
//! ones, to lists). Unknown keys are warned about, as the original does; `INCLUDE` never works
//! in the original (it compares the wrong part of the line), so it is an unknown key here too.

use std::path::Path;

use chmpx_core::config::source::{ConfSource, ConfType};
use yaml_rust2::{Yaml, YamlLoader};

pub const ENV_CONFFILE: &str = "K2HDKCCONFFILE";
pub const ENV_JSONCONF: &str = "K2HDKCJSONCONF";

/// Where the database lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum K2hType {
    Memory,
    File,
    Temporary,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkcConfig {
    /// The configuration as given (file path or JSON text).
    pub source: String,
    /// Wait slice of server-side sub-requests (ms).
    pub rcv_timeout_ms: i64,
    /// The chmpx configuration this server joins (default: the same configuration).
    pub svrnode_ini: String,
    pub repl_cluster_ini: String,
    pub dtor_thread_cnt: i64,
    pub dtor_ctp: String,
    pub k2h_type: K2hType,
    pub k2h_file: Option<String>,
    pub fullmap: bool,
    pub init: bool,
    pub mask_bits: i32,
    pub cmask_bits: i32,
    pub max_elements: i32,
    pub page_size: usize,
    pub pass_phrases: Vec<String>,
    pub pass_file: Option<String>,
    pub history: bool,
    /// Default expire for every write (seconds; 0 = none).
    pub expire: i64,
    pub attr_plugins: Vec<String>,
    pub min_thread: i64,
    pub max_thread: i64,
    pub reduce_time: i64,
}

impl DkcConfig {
    fn defaults(source: &str) -> DkcConfig {
        DkcConfig {
            source: source.to_string(),
            rcv_timeout_ms: 1000,
            svrnode_ini: source.to_string(),
            repl_cluster_ini: String::new(),
            dtor_thread_cnt: 1,
            dtor_ctp: "libk2htpdtor.so.1".into(),
            k2h_type: K2hType::File,
            k2h_file: None,
            fullmap: true,
            init: true,
            mask_bits: 8,
            cmask_bits: 4,
            max_elements: 32,
            page_size: 128,
            pass_phrases: Vec::new(),
            pass_file: None,
            history: false,
            expire: 0,
            attr_plugins: Vec::new(),
            min_thread: 1,
            max_thread: 100,
            reduce_time: 600,
        }
    }

    /// Where the database lives in the end: without a file it is memory, whatever the type.
    pub fn storage(&self) -> K2hType {
        match (&self.k2h_file, self.k2h_type) {
            (None, _) | (_, K2hType::Memory) => K2hType::Memory,
            (Some(_), t) => t,
        }
    }
}

/// The configuration `config` (a file path or JSON text; empty: `K2HDKCCONFFILE`, then
/// `K2HDKCJSONCONF`).
pub fn load(config: &str) -> Result<DkcConfig, String> {
    let config = if config.is_empty() {
        [ENV_CONFFILE, ENV_JSONCONF]
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
            .ok_or_else(|| "not specify option for configuration".to_string())?
    } else {
        config.to_string()
    };
    let src = ConfSource::detect(&config, false).map_err(|e| e.to_string())?;
    let text = match src.kind {
        ConfType::JsonString => src.value.clone(),
        _ => read_file(&src.value)?,
    };
    let pairs = match src.kind {
        ConfType::IniFile => ini_pairs(&text),
        _ => yaml_pairs(&text)?,
    };
    let mut c = DkcConfig::defaults(&config);
    let mut type_set = false;
    for (k, v) in pairs {
        apply(&mut c, &k.to_ascii_uppercase(), &v, &mut type_set)?;
    }
    validate(&c)?;
    Ok(c)
}

fn read_file(path: &str) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{path}: {e}"))?;
    if meta.len() > 16 * 1024 * 1024 {
        return Err(format!("{path}: too large for a configuration"));
    }
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

/// The key/value lines of the first `[K2HDKC]` section.
fn ini_pairs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    let mut seen = false;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            if inside {
                break;
            }
            inside = !seen && line == "[K2HDKC]";
            seen |= inside;
            continue;
        }
        if !inside {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) => out.push((k.trim().to_string(), v.trim().to_string())),
            None => log::warn!("K2HDKC section: line without a value: {line}"),
        }
    }
    out
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(if *b { "yes" } else { "no" }.into()),
        _ => None,
    }
}

/// The pairs of the top-level `K2HDKC` mapping of a YAML or JSON document.
fn yaml_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("YAML/JSON: {e}"))?;
    let mut out = Vec::new();
    let Some(Yaml::Hash(top)) = docs.first() else {
        return Ok(out);
    };
    let section = top
        .iter()
        .find(|(k, _)| k.as_str().is_some_and(|s| s.eq_ignore_ascii_case("K2HDKC")));
    let Some((_, Yaml::Hash(map))) = section else {
        return Ok(out);
    };
    for (k, v) in map {
        let Some(key) = scalar(k) else { continue };
        match v {
            Yaml::Array(items) => {
                for i in items {
                    if let Some(s) = scalar(i) {
                        out.push((key.clone(), s));
                    }
                }
            }
            other => match scalar(other) {
                Some(s) => out.push((key, s)),
                None => log::warn!("K2HDKC: {key} is not a scalar, ignored"),
            },
        }
    }
    Ok(out)
}

fn yes_no(key: &str, v: &str) -> Result<bool, String> {
    match v.to_ascii_uppercase().as_str() {
        "Y" | "YES" | "ON" | "TRUE" => Ok(true),
        "N" | "NO" | "OFF" | "FALSE" => Ok(false),
        _ => Err(format!("{key} value({v}) is wrong")),
    }
}

fn number(key: &str, v: &str) -> Result<i64, String> {
    v.parse::<i64>()
        .map_err(|_| format!("{key} value({v}) is not a number"))
}

fn existing(key: &str, v: &str) -> Result<String, String> {
    if Path::new(v).is_file() {
        Ok(v.to_string())
    } else {
        Err(format!("{key} file({v}) does not exist"))
    }
}

fn apply(c: &mut DkcConfig, key: &str, v: &str, type_set: &mut bool) -> Result<(), String> {
    match key {
        "RCVTIMEOUT" => {
            let n = number(key, v)?;
            if n <= 0 {
                return Err(format!("{key} value({v}) must be positive"));
            }
            c.rcv_timeout_ms = n;
        }
        "SVRNODEINI" => {
            c.svrnode_ini = if chmpx_core::config::source::looks_like_json(v) {
                v.to_string()
            } else {
                let p = existing(key, v)?;
                std::fs::canonicalize(&p)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or(p)
            }
        }
        "REPLCLUSTERINI" => c.repl_cluster_ini = v.to_string(),
        "DTORTHREADCNT" => {
            let n = number(key, v)?;
            if !(0..=64).contains(&n) {
                return Err(format!("{key} value({v}) must be 0 to 64"));
            }
            c.dtor_thread_cnt = n;
        }
        "DTORCTP" => c.dtor_ctp = existing(key, v)?,
        "K2HTYPE" => {
            if *type_set {
                return Err("K2HTYPE is specified more than once".into());
            }
            *type_set = true;
            c.k2h_type = match v.to_ascii_uppercase().as_str() {
                "M" | "MEM" | "MEMORY" => {
                    c.k2h_file = None;
                    K2hType::Memory
                }
                "F" | "FILE" => K2hType::File,
                "T" | "TEMP" | "TEMPORARY" => K2hType::Temporary,
                _ => return Err(format!("{key} value({v}) is wrong")),
            };
        }
        "K2HFILE" => {
            if c.k2h_type != K2hType::Memory {
                c.k2h_file = Some(v.to_string());
            }
        }
        "K2HFULLMAP" => c.fullmap = yes_no(key, v)?,
        "K2HINIT" => c.init = yes_no(key, v)?,
        "K2HMASKBIT" => {
            let n = number(key, v)?;
            if !(2..=28).contains(&n) {
                return Err(format!("{key} value({v}) must be 2 to 28"));
            }
            c.mask_bits = n as i32;
        }
        "K2HCMASKBIT" | "K2HMAXELE" => {
            let n = number(key, v)?;
            if n <= 0 || n > i32::MAX as i64 {
                return Err(format!("{key} value({v}) must be positive"));
            }
            if key == "K2HCMASKBIT" {
                c.cmask_bits = n as i32;
            } else {
                c.max_elements = n as i32;
            }
        }
        "K2HPAGESIZE" => {
            let n = number(key, v)?;
            if n <= 0 {
                return Err(format!("{key} value({v}) must be positive"));
            }
            c.page_size = n as usize;
        }
        "PASSPHRASES" => {
            if c.pass_file.is_some() {
                return Err("PASSPHRASES and PASSFILE exclude each other".into());
            }
            if v.is_empty() {
                return Err("PASSPHRASES is empty".into());
            }
            c.pass_phrases.push(v.to_string());
        }
        "PASSFILE" => {
            if !c.pass_phrases.is_empty() {
                return Err("PASSPHRASES and PASSFILE exclude each other".into());
            }
            c.pass_file = Some(existing(key, v)?);
        }
        "HISTORY" => c.history = yes_no(key, v)?,
        "EXPIRE" => {
            let n = number(key, v)?;
            if n < 0 {
                return Err(format!("{key} value({v}) must not be negative"));
            }
            c.expire = n;
        }
        "ATTRPLUGIN" => c.attr_plugins.push(existing(key, v)?),
        "MINTHREAD" => {
            let n = number(key, v)?;
            if n < 1 {
                return Err(format!("{key} value({v}) must be 1 or more"));
            }
            c.min_thread = n;
        }
        "MAXTHREAD" => {
            let n = number(key, v)?;
            if n < c.min_thread {
                return Err(format!("{key} value({v}) is less than MINTHREAD"));
            }
            c.max_thread = n;
        }
        "REDUCETIME" => {
            let n = number(key, v)?;
            if n <= 0 {
                return Err(format!("{key} value({v}) must be positive"));
            }
            c.reduce_time = n;
        }
        other => log::warn!("K2HDKC section: unknown key {other}, ignored"),
    }
    Ok(())
}

fn validate(c: &DkcConfig) -> Result<(), String> {
    if c.storage() == K2hType::Memory && (!c.fullmap || !c.init) {
        return Err("memory mode needs K2HFULLMAP on and K2HINIT yes".into());
    }
    if c.max_thread > 100 {
        return Err(format!("MAXTHREAD({}) must be 100 or less", c.max_thread));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        format!(
            "{}/../../shared/fixtures/k2hdkc/conf/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    #[test]
    fn the_original_test_configurations() {
        for f in ["test_server.ini", "test_server.yaml", "test_server.json"] {
            let path = fixture(f);
            if !Path::new(&path).exists() {
                eprintln!("{path} missing: skipped");
                continue;
            }
            let c = load(&path).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!(c.storage(), K2hType::Memory, "{f}");
            assert_eq!(
                (c.mask_bits, c.cmask_bits, c.max_elements, c.page_size),
                (8, 4, 16, 128),
                "{f}"
            );
            assert_eq!(c.max_thread, 20, "{f}");
            assert_eq!(
                c.svrnode_ini, path,
                "{f}: the same configuration by default"
            );
        }
    }

    #[test]
    fn ini_rules() {
        let dir = std::env::temp_dir().join(format!("dkcconf{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.ini");
        std::fs::write(
            &p,
            "[GLOBAL]\nK2HTYPE=file\n[K2HDKC]\nk2htype = file # comment\nK2HFILE=/tmp/x.k2h\nPASSPHRASES=a\nPASSPHRASES=b\nBOGUS=1\n[K2HDKC]\nK2HMASKBIT=4\n",
        )
        .unwrap();
        let c = load(p.to_str().unwrap()).unwrap();
        assert_eq!(c.storage(), K2hType::File);
        assert_eq!(c.k2h_file.as_deref(), Some("/tmp/x.k2h"));
        assert_eq!(c.pass_phrases, vec!["a", "b"]);
        assert_eq!(c.mask_bits, 8, "only the first K2HDKC section counts");
        std::fs::write(&p, "[K2HDKC]\nK2HMASKBIT=40\n").unwrap();
        assert!(load(p.to_str().unwrap()).is_err());
        std::fs::write(&p, "[K2HDKC]\nK2HTYPE=mem\nK2HFULLMAP=off\n").unwrap();
        assert!(load(p.to_str().unwrap()).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
        let j = r#"{"K2HDKC": {"K2HTYPE": "M", "MAXTHREAD": 4, "PASSPHRASES": ["x", "y"]}}"#;
        let c = load(j).unwrap();
        assert_eq!((c.storage(), c.max_thread), (K2hType::Memory, 4));
        assert_eq!(c.pass_phrases, vec!["x", "y"]);
        assert_eq!(c.svrnode_ini, j);
    }
}
