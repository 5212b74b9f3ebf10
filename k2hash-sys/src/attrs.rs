//! Built-in attributes: mtime, expire, history (uniqid/parentuniqid/hismark) and encryption.
//! Settings are per handle and start from the `K2HATTR_*` environment variables.
use crate::crypt::{self, EncType};
use crate::engine::now_coarse;
use crate::error::{invalid, Result};
use crate::lists::{del_attr, get_attr, set_attr, Attr};
use base64::Engine;
use sha2::Digest;

pub const ATTR_MTIME: &[u8] = b"mtime\0";
pub const ATTR_EXPIRE: &[u8] = b"expire\0";
pub const ATTR_UNIQID: &[u8] = b"uniqid\0";
pub const ATTR_PUNIQID: &[u8] = b"parentuniqid\0";
pub const ATTR_HISMARK: &[u8] = b"hismark\0";
pub const BUILTIN_VERSION: &str = "K2H ATTR BUILTIN";

#[derive(Clone, Debug)]
pub struct AttrConf {
    pub mtime: bool,
    pub history: bool,
    pub expire: Option<i64>,
    pub defenc: bool,
    /// Pass phrases; the first is the default one when `has_default` says so.
    pub passes: Vec<String>,
    /// Whether a default pass phrase is set (the first line of a pass file, or a pass added as
    /// the default): default encryption needs one, as in the original; passes added only for
    /// decryption do not count.
    pub has_default: bool,
    pub enc_type: EncType,
    pub iter: u32,
}

impl Default for AttrConf {
    fn default() -> Self {
        AttrConf {
            mtime: false,
            history: false,
            expire: None,
            defenc: false,
            passes: Vec::new(),
            has_default: false,
            enc_type: EncType::Pbkdf2,
            iter: crypt::DEFAULT_ITER,
        }
    }
}

fn env_flag(name: &str) -> Option<bool> {
    let v = std::env::var(name).ok()?;
    match v.to_ascii_uppercase().as_str() {
        "ON" | "YES" => Some(true),
        "OFF" | "NO" => Some(false),
        _ => None,
    }
}

/// Read a pass-phrase file: one per line, trimmed, empty lines and `#` comments skipped.
pub fn read_pass_file(path: &str) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)?;
    let v: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    if v.is_empty() {
        return invalid(format!("pass phrase file {path} has no pass phrase"));
    }
    Ok(v)
}

impl AttrConf {
    /// Settings from the environment (`K2HATTR_*`).
    pub fn from_env() -> Result<AttrConf> {
        let mut c = AttrConf::default();
        c.apply_env()?;
        Ok(c)
    }

    pub fn apply_env(&mut self) -> Result<()> {
        if let Some(b) = env_flag("K2HATTR_MTIME") {
            self.mtime = b;
        }
        if let Some(b) = env_flag("K2HATTR_HISTORY") {
            self.history = b;
        }
        if let Ok(v) = std::env::var("K2HATTR_EXPIRE_SEC") {
            let n = v.trim().parse::<i64>().unwrap_or(0);
            self.expire = if n > 0 { Some(n) } else { None };
        }
        if let Ok(t) = std::env::var("K2HATTR_ENC_TYPE") {
            match t.to_ascii_uppercase().as_str() {
                "AES256_PBKDF1" => {
                    self.enc_type = EncType::Pbkdf1;
                    self.iter = 1;
                }
                "AES256_PBKDF2" => self.enc_type = EncType::Pbkdf2,
                _ => {}
            }
        }
        if let Ok(v) = std::env::var("K2HATTR_ENC_ITER") {
            if let Ok(n) = v.trim().parse::<u32>() {
                if (1..=crypt::MAX_ITER).contains(&n) && self.enc_type == EncType::Pbkdf2 {
                    self.iter = n;
                }
            }
        }
        if let Ok(f) = std::env::var("K2HATTR_ENCFILE") {
            if !f.is_empty() {
                self.load_pass_file(&f)?;
            }
        }
        if let Some(b) = env_flag("K2HATTR_DEFENC") {
            self.defenc = b;
        }
        self.check_default_pass()
    }

    /// Replace the pass phrases with those of a pass file; its first one is the default.
    pub fn load_pass_file(&mut self, path: &str) -> Result<()> {
        self.passes = read_pass_file(path)?;
        self.has_default = true;
        Ok(())
    }

    /// Default encryption needs a default pass phrase (as in the original).
    pub fn check_default_pass(&self) -> Result<()> {
        if self.defenc && !self.has_default {
            return invalid("default encryption needs a default pass phrase");
        }
        Ok(())
    }

    pub fn add_pass(&mut self, pass: &str, default: bool) {
        self.passes.retain(|p| p != pass);
        if default {
            self.passes.insert(0, pass.to_string());
            self.has_default = true;
            self.defenc = true;
        } else {
            self.passes.push(pass.to_string());
        }
    }

    fn marker(&self) -> &'static [u8] {
        match self.enc_type {
            EncType::Pbkdf1 => crypt::ATTR_PBKDF1,
            EncType::Pbkdf2 => crypt::ATTR_PBKDF2,
        }
    }

    /// Refresh the built-in attributes for a write of `value` and return the value to store
    /// (the ciphertext when encrypting).
    pub fn update(
        &self,
        attrs: &mut Vec<Attr>,
        value: Vec<u8>,
        pass: Option<&str>,
        expire: Option<i64>,
        kind: AttrKind,
    ) -> Result<Vec<u8>> {
        let (s, ns) = now_coarse();
        if kind == AttrKind::All {
            return Ok(value);
        }
        if self.mtime && kind != AttrKind::TransQueue {
            set_attr(attrs, ATTR_MTIME, &timespec(s, ns));
        } else {
            del_attr(attrs, ATTR_MTIME);
        }
        let exp = match kind {
            AttrKind::Normal => expire.or(self.expire),
            _ => expire,
        };
        match exp {
            Some(n) => set_attr(attrs, ATTR_EXPIRE, &timespec(s.saturating_add(n), ns)),
            None if kind == AttrKind::Normal => del_attr(attrs, ATTR_EXPIRE),
            None => {}
        }
        let mut out = value;
        let pass = pass
            .filter(|p| !p.is_empty())
            .map(String::from)
            .or_else(|| {
                if self.defenc && self.has_default && kind != AttrKind::TransQueue {
                    self.passes.first().cloned()
                } else {
                    None
                }
            });
        let mut encrypted = false;
        match pass {
            Some(p) if !out.is_empty() && kind != AttrKind::TransQueue => {
                out = crypt::encrypt(self.enc_type, &p, self.iter, &out)?;
                let mut d = crypt::pass_digest(&p).into_bytes();
                d.push(0);
                set_attr(attrs, self.marker(), &d);
                encrypted = true;
            }
            _ => del_attr(attrs, self.marker()),
        }
        if self.history
            && kind == AttrKind::Normal
            && (encrypted || get_attr(attrs, ATTR_UNIQID).is_none())
        {
            set_attr(attrs, ATTR_UNIQID, &new_uniqid());
        }
        Ok(out)
    }

    /// Decrypt a stored value when it carries an encryption marker.
    pub fn decrypt(&self, attrs: &[Attr], value: Vec<u8>, pass: Option<&str>) -> Option<Vec<u8>> {
        for (marker, kind) in [
            (crypt::ATTR_PBKDF2, EncType::Pbkdf2),
            (crypt::ATTR_PBKDF1, EncType::Pbkdf1),
        ] {
            let Some(d) = get_attr(attrs, marker) else {
                continue;
            };
            let d = d.strip_suffix(b"\0").unwrap_or(d);
            let p = match pass.filter(|p| !p.is_empty()) {
                Some(p) => (crypt::pass_digest(p).as_bytes() == d).then(|| p.to_string()),
                None => self
                    .passes
                    .iter()
                    .find(|p| crypt::pass_digest(p).as_bytes() == d)
                    .cloned(),
            }?;
            return crypt::decrypt(kind, &p, &value).ok();
        }
        Some(value)
    }
}

/// Which built-ins a write gets (the original's ATTRINITTYPE).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AttrKind {
    Normal,
    Queue,
    TransQueue,
    All,
}

pub fn timespec(s: i64, ns: i64) -> Vec<u8> {
    let mut v = Vec::with_capacity(16);
    v.extend_from_slice(&s.to_le_bytes());
    v.extend_from_slice(&ns.to_le_bytes());
    v
}

/// True when the attributes say the key expired.
pub fn is_expired(attrs: &[Attr]) -> bool {
    let Some(e) = get_attr(attrs, ATTR_EXPIRE) else {
        return false;
    };
    if e.len() < 16 {
        return false;
    }
    let s = i64::from_le_bytes(e[..8].try_into().unwrap_or_default());
    let ns = i64::from_le_bytes(e[8..16].try_into().unwrap_or_default());
    let (now, nowns) = now_coarse();
    (s, ns) < (now, nowns)
}

pub fn is_history(attrs: &[Attr]) -> bool {
    get_attr(attrs, ATTR_HISMARK).is_some()
}

/// A fresh unique id: base64(SHA-256(time, thread, random, host)) plus NUL (45 bytes).
pub fn new_uniqid() -> Vec<u8> {
    let (s, ns) = now_coarse();
    let mut h = sha2::Sha256::new();
    h.update(ns.to_le_bytes());
    h.update(s.to_le_bytes());
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u64;
    h.update(tid.to_le_bytes());
    let mut r = [0u8; 8];
    let _ = getrandom::getrandom(&mut r);
    h.update(r);
    let mut host = [0u8; 256];
    // SAFETY: gethostname writes at most len bytes into our buffer.
    unsafe { libc::gethostname(host.as_mut_ptr() as *mut libc::c_char, host.len()) };
    h.update(&host[..host.iter().position(|&c| c == 0).unwrap_or(0)]);
    let mut v = base64::engine::general_purpose::STANDARD
        .encode(h.finalize())
        .into_bytes();
    v.push(0);
    v
}
