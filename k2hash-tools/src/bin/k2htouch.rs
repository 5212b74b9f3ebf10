//! k2htouch: one-shot editor of a k2hash file (`k2htouch FILE COMMAND ...`), with the original's
//! commands, outputs and exit codes. Modes (dtor, mtime, history, expire) live in special keys
//! of the file and apply to every later k2htouch run on it.
use k2hash::dump;
use k2hash::engine::Layout;
use k2hash::queue::{Queue, Trial};
use k2hash::{K2h, Protect};
use k2htools::{atoi, cstr, printable};
use std::process::exit;
use std::sync::Arc;

const VERSION: &str = "1.5.2.20160613";
const DTOR_KEY: &str = "K2HTOUCH_DTORMODE";
const DTOR_CONF: &str = "K2HTOUCH_DTORCONF";
const MTIME_KEY: &str = "K2HTOUCH_ATTR_MTIME";
const EXPIRE_KEY: &str = "K2HTOUCH_ATTR_EXPIRE";
const HISTORY_KEY: &str = "K2HTOUCH_ATTR_HISTORY";
const DTOR_LIB: &str = "libk2htpdtor.so.1";
/// Entries removed by `clear`/`kclear` (as many as the original removes).
const CLEAR_COUNT: usize = 0xffff;

fn usage() -> ! {
    let l = [
        "-----------------------------------",
        "k2hash touch the k2file tool usage:",
        VERSION,
        "-----------------------------------",
        "k2htouch k2file create",
        "k2htouch k2file createmini",
        "",
        "k2htouch k2file set \u{2018}key\u{2019} \u{2018}value\u{2019}",
        "k2htouch k2file get \u{2018}key\u{2019}",
        "k2htouch k2file delete \u{2018}key\u{2019}",
        "",
        "k2htouch k2file addsubkey \u{2018}key\u{2019} 'subkey' \u{2018}value\u{2019}",
        "k2htouch k2file getsubkey \u{2018}key\u{2019}",
        "",
        "k2htouch k2file push \u{2018}queprefix\u{2019} 'value' [ -lifo or -fifo(default) ]",
        "k2htouch k2file pop \u{2018}queprefix\u{2019}",
        "k2htouch k2file clear \u{2018}queprefix\u{2019}",
        "",
        "k2htouch k2file kpush \u{2018}queprefix\u{2019} 'key' 'value' [ -lifo or -fifo(default)] ",
        "k2htouch k2file kpop \u{2018}queprefix\u{2019} ",
        "k2htouch k2file kclear \u{2018}queprefix\u{2019}",
        "",
        "k2htouch k2file getattr \u{2018}key\u{2019}",
        "k2htouch k2file list",
        "k2htouch k2file info",
        "",
        "k2htouch k2file dtor    [on -conf dtorconffile | off]",
        "k2htouch k2file expire  [on expiretime(sec)    | off]",
        "k2htouch k2file mtime   [on | off]",
        "k2htouch k2file history [on | off]",
        "",
        "k2htouch -h",
    ];
    for s in l {
        println!("{s}");
    }
    exit(1);
}

use k2htools::{out_raw, with_nul};

struct Touch {
    file: String,
    args: Vec<String>,
    h: std::cell::Cell<u64>,
}

impl Touch {
    fn has(&self, opt: &str) -> bool {
        self.args[1..].iter().any(|a| a.eq_ignore_ascii_case(opt))
    }

    /// The word after `opt` (not the last word itself).
    fn after(&self, opt: &str) -> Option<String> {
        let a = &self.args;
        (1..a.len().saturating_sub(1))
            .find(|&i| a[i].eq_ignore_ascii_case(opt))
            .map(|i| a[i + 1].clone())
    }

    /// Attach (creating the file when missing) through the C API, so a loaded transaction
    /// plugin sees a real handle.
    fn attach_layout(&self, l: Layout) -> Arc<K2h> {
        let p = std::ffi::CString::new(self.file.as_str()).unwrap_or_default();
        let h = k2hash::capi::open::k2h_open(
            p.as_ptr(),
            false,
            false,
            true,
            l.mask_bits,
            l.cmask_bits,
            l.max_elements,
            l.page_size,
        );
        match k2hash::capi::ffi::handle("k2htouch", h) {
            Some(k) if h != 0 => {
                self.h.set(h);
                k
            }
            _ => {
                eprintln!("Attach Failed. k2file is maybe readonly or have not permission.");
                exit(1);
            }
        }
    }

    /// Attach with the default tool layout, then apply the modes stored in the file.
    fn attach(&self) -> Arc<K2h> {
        let k = self.attach_layout(Layout {
            mask_bits: 10,
            cmask_bits: 8,
            max_elements: 512,
            page_size: 128,
        });
        let on = |key: &str| get_str(&k, key).as_deref() == Some("ON");
        let expire = atoi(&get_str(&k, EXPIRE_KEY).unwrap_or_default());
        let r = k.set_common_attr(
            Some(on(MTIME_KEY)),
            None,
            None,
            Some(on(HISTORY_KEY)),
            (expire != 0).then_some(expire),
        );
        if r.is_err() {
            eprintln!("Load and Set attr Failed.");
            exit(1);
        }
        if !self.args[2].eq_ignore_ascii_case("dtor") && on(DTOR_KEY) {
            self.start_dtor(&k);
        }
        k
    }

    /// Load the k2htpdtor transaction plugin and enable transactions with the stored config.
    fn start_dtor(&self, k: &K2h) {
        let lib = std::ffi::CString::new(DTOR_LIB).unwrap_or_default();
        if !k2hash::capi::trans::k2h_load_transaction_library(lib.as_ptr()) {
            eprintln!("Failed to load transaction shared library.");
            exit(1);
        }
        let conf = with_nul(get_str(k, DTOR_CONF).unwrap_or_default());
        let ok = k2hash::capi::trans::k2h_enable_transaction_param_we(
            self.h.get(),
            std::ptr::null(),
            std::ptr::null(),
            0,
            conf.as_ptr(),
            conf.len(),
            std::ptr::null(),
        );
        if !ok {
            eprintln!("DTOR Start Failed. Please check your dtorinifile or chmpx process.");
        }
    }
}

/// A string value (NUL-terminated key), as the original's `Get(const char*)`.
fn get_str(k: &K2h, key: &str) -> Option<String> {
    k.get(&with_nul(key), Protect::Yes(None))
        .ok()
        .flatten()
        .map(|v| String::from_utf8_lossy(cstr(&v)).into_owned())
}

/// `%Y-%m-%d %H:%M:%S ` of a stored timespec, in local time.
fn local_date(v: &[u8]) -> String {
    let Some(sec) = v.get(..8).and_then(|b| b.try_into().ok()) else {
        return String::new();
    };
    let t = i64::from_le_bytes(sec) as libc::time_t;
    let mut tm: libc::tm = unsafe_zeroed_tm();
    // SAFETY: localtime_r writes only into `tm`, which lives on this stack frame.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return String::new();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} ",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

fn unsafe_zeroed_tm() -> libc::tm {
    // SAFETY: libc::tm is plain old data; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() <= 2 || args[1..].iter().any(|a| a.eq_ignore_ascii_case("-h")) {
        usage();
    }
    let t = Touch {
        file: args[1].clone(),
        args: args.clone(),
        h: std::cell::Cell::new(0),
    };
    let com = args[2].to_ascii_lowercase();
    let n = args.len();
    let ok = match (com.as_str(), n) {
        ("create", 3) => {
            t.attach();
            true
        }
        ("createmini", 3) => {
            t.attach_layout(Layout {
                mask_bits: 2,
                cmask_bits: 4,
                max_elements: 2,
                page_size: 128,
            });
            true
        }
        ("set", 5) => {
            let k = t.attach();
            k.set_value(&with_nul(&args[3]), &with_nul(&args[4]), None, None)
                .is_ok()
        }
        ("get", 4) => {
            let k = t.attach();
            if let Some(v) = get_str(&k, &args[3]) {
                out_raw(v.as_bytes());
            }
            true
        }
        ("getattr", 4) => {
            let k = t.attach();
            for (n, v) in k
                .get_attrs(&with_nul(&args[3]))
                .ok()
                .flatten()
                .unwrap_or_default()
            {
                let name = printable(&n);
                let mut line = name.clone();
                line.extend_from_slice(b": ");
                if name == b"mtime" || name == b"expire" {
                    line.extend_from_slice(local_date(&v).as_bytes());
                } else {
                    line.extend_from_slice(&printable(&v));
                }
                line.push(b'\n');
                out_raw(&line);
            }
            true
        }
        ("delete", 4) => {
            let k = t.attach();
            k.remove_all(&with_nul(&args[3])).is_ok()
        }
        ("list", 3) => {
            let k = t.attach();
            for (key, value) in k2htools::key_values(&k) {
                if !key.is_empty() && !value.is_empty() {
                    let l = [cstr(&key), b"\t", cstr(&value), b"\n"].concat();
                    out_raw(&l);
                }
            }
            true
        }
        ("addsubkey", 6) => {
            let k = t.attach();
            k.add_subkey(
                &with_nul(&args[3]),
                &with_nul(&args[4]),
                &with_nul(&args[5]),
                None,
                None,
            )
            .is_ok()
        }
        ("getsubkey", 4) => {
            let k = t.attach();
            for s in k
                .get_subkeys(&with_nul(&args[3]), true)
                .ok()
                .flatten()
                .unwrap_or_default()
            {
                out_raw(&[cstr(&s), b"\n"].concat());
            }
            true
        }
        ("info", 3) => {
            let k = t.attach();
            if let Ok(s) = dump::state(k.db()) {
                out_raw(dump::state_text(&s).as_bytes());
            }
            for (label, key) in [
                ("DTOR      : ", DTOR_KEY),
                ("Modifytime: ", MTIME_KEY),
                ("History   : ", HISTORY_KEY),
                ("ExpireTime: ", EXPIRE_KEY),
            ] {
                println!("{label}{}", get_str(&k, key).unwrap_or_default());
            }
            true
        }
        ("push", n) if n >= 5 => {
            let k = t.attach();
            let q = Queue::new(Some(args[3].as_bytes()), !t.has("-lifo"));
            q.push(&k, &with_nul(&args[4]), &[], None, None).is_ok()
        }
        ("pop", 4) => {
            let k = t.attach();
            let q = Queue::new(Some(args[3].as_bytes()), true);
            match q.pop(&k, None) {
                Ok(v) => {
                    // The original prints the popped bytes as they are (NUL included).
                    let mut l = v.flatten().unwrap_or_default();
                    l.push(b'\n');
                    out_raw(&l);
                    true
                }
                Err(_) => {
                    println!("pop false");
                    false
                }
            }
        }
        ("clear", 4) | ("kclear", 4) => {
            let k = t.attach();
            let q = Queue::new(Some(args[3].as_bytes()), true);
            q.remove(&k, CLEAR_COUNT, None, |_, _| Trial::Remove)
                .is_ok()
        }
        ("kpush", n) if n >= 6 => {
            let k = t.attach();
            let q = Queue::new(Some(args[3].as_bytes()), !t.has("-lifo"));
            // As the original: the key name without its NUL, the value with it.
            let r = q.push_keyval(&k, args[4].as_bytes(), &with_nul(&args[5]), None, None);
            if r.is_err() {
                println!("pop false");
            }
            r.is_ok()
        }
        ("kpop", 4) => {
            let k = t.attach();
            let q = Queue::new(Some(args[3].as_bytes()), true);
            let (key, val) = match q.pop_keyval(&k, None) {
                Ok(Some((key, v))) if !key.is_empty() => (key, v.unwrap_or_default()),
                _ => (Vec::new(), Vec::new()),
            };
            out_raw(&[key.as_slice(), b"\t", &val, b"\n"].concat());
            true
        }
        ("dtor", _) => {
            let value = if t.has("on") {
                "ON"
            } else if t.has("off") {
                "OFF"
            } else {
                ""
            };
            mode(
                &t,
                DTOR_KEY,
                value,
                "DTORMode = ",
                " DTORMode Switch ",
                t.after("-conf"),
            )
        }
        ("mtime", _) => mode(
            &t,
            MTIME_KEY,
            on_off(&t),
            "mtime = ",
            " Modifytime Mode:",
            None,
        ),
        ("history", _) => mode(
            &t,
            HISTORY_KEY,
            on_off(&t),
            "history = ",
            " History Mode: ",
            None,
        ),
        ("expire", _) => {
            let mut v = args.get(3).cloned().unwrap_or_default();
            if v.eq_ignore_ascii_case("on") {
                v = args.get(4).cloned().unwrap_or_default();
            }
            if t.has("off") {
                v = "0".into();
            }
            mode(&t, EXPIRE_KEY, &v, "expiretime = ", " Expire Time: ", None)
        }
        _ => usage(),
    };
    if !ok {
        eprintln!("k2htouch command failed. Please try debugmode 'export K2HDBGMODE=ERR'");
        exit(1);
    }
}

fn on_off(t: &Touch) -> &'static str {
    if t.has("on") {
        "ON"
    } else if t.has("off") {
        "OFF"
    } else {
        ""
    }
}

/// Show (no value) or store a mode key; `conf` also stores the dtor config path.
fn mode(t: &Touch, key: &str, value: &str, show: &str, switch: &str, conf: Option<String>) -> bool {
    let k = t.attach();
    k.trans.disable();
    k.clean_common_attr();
    if value.is_empty() {
        if let Some(v) = get_str(&k, key) {
            println!("{show}{v}");
        }
        if key == DTOR_KEY {
            if let Some(c) = get_str(&k, DTOR_CONF) {
                println!("DTORConf = {c}");
            }
        }
        return true;
    }
    println!("{}{switch}{value}", t.file);
    let mut ok = k
        .set_value(&with_nul(key), &with_nul(value), None, None)
        .is_ok();
    if let Some(c) = conf.filter(|c| !c.is_empty()) {
        ok &= k
            .set_value(&with_nul(DTOR_CONF), &with_nul(&c), None, None)
            .is_ok();
    }
    ok
}

#[cfg(test)]
mod tests {
    #[test]
    fn date_of_zero_is_epoch_day() {
        let d = super::local_date(&[0u8; 16]);
        assert!(d.starts_with("19"), "{d}");
        assert!(d.ends_with(' '));
        assert_eq!(super::local_date(&[1, 2]), "");
    }
}
