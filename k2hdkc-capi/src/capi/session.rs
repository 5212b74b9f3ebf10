//! Sessions (spec §2): a permanent handle (`k2hdkc_open_chmpx*`) keeps one attachment to the
//! chmpx slave and one msgid for many requests; a one-time call attaches, sends, receives and
//! detaches. Handles are ids in a table: 0, closed or made-up values are refused. The last
//! response code is kept per handle and process-wide (`k2hdkc_get_lastres_code`).
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chmpx_core::client::Client;
use chmpx_core::wire::{COM_C2C_NORMAL, COM_C2C_ROUTING};
use k2hdkc_wire::{dkccom_type_name, Message, DKC_NORESTYPE};
use libc::{c_char, c_short};

use crate::capi::debug;
use crate::capi::ffi::{self, guard, CBool};

/// How long a request waits for its answer (the original's `DEFAULT_RCV_TIMEOUT_MS`).
const RCV_TIMEOUT: Duration = Duration::from_millis(1000);

pub struct Session {
    client: Client,
    msgid: u64,
    /// Code of the last answer (DKC_NORESTYPE: none yet).
    pub rescode: u64,
}

static LAST: AtomicU64 = AtomicU64::new(DKC_NORESTYPE);
static NEXT: AtomicU64 = AtomicU64::new(0x4B32_0000_0000_0001);

fn table() -> &'static Mutex<HashMap<u64, Arc<Mutex<Session>>>> {
    static T: OnceLock<Mutex<HashMap<u64, Arc<Mutex<Session>>>>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Session {
    fn open(
        config: *const c_char,
        ctlport: c_short,
        cuk: *const c_char,
        rejoin: bool,
    ) -> Option<Session> {
        let conf = ffi::text(config)?;
        Session::connect(&conf, ctlport, ffi::text(cuk).as_deref(), rejoin)
    }

    /// Attaches to the chmpx slave of `config` (a file or a JSON string; `ctlport` > 0 picks
    /// the slave by control port, `cuk` by CUK) and opens a msgid: a session for Rust callers.
    pub fn connect(config: &str, ctlport: i16, cuk: Option<&str>, rejoin: bool) -> Option<Session> {
        let client = if ctlport > 0 {
            let (cfg, _) = chmpx_core::config::ChmConfig::load(
                config,
                &chmpx_core::config::SelfIdentity {
                    ctlport: Some(ctlport),
                    cuk: cuk.map(str::to_string),
                },
                false,
            )
            .ok()?;
            Client::attach_to(&cfg.group, ctlport, false, rejoin)
        } else {
            Client::attach(config, false, rejoin)
        };
        let mut client = match client {
            Ok(c) => c,
            Err(e) => {
                log::error!("could not attach to the chmpx slave: {e}");
                return None;
            }
        };
        let msgid = client.open().ok()?;
        Some(Session {
            client,
            msgid,
            rescode: DKC_NORESTYPE,
        })
    }

    /// Sends `msg` routed by `key` and waits for its answer (a stale answer of an earlier,
    /// timed-out request of another type is skipped). Records the answer's code.
    pub fn request(&mut self, msg: &Message, key: &[u8]) -> Option<Message> {
        self.exchange(msg, k2hash_hash::hash(key), COM_C2C_ROUTING)
    }

    /// Sends `msg` to the server that owns `hash` (NORMAL delivery, no replica) and waits.
    pub fn request_normal(&mut self, msg: &Message, hash: u64) -> Option<Message> {
        self.exchange(msg, hash, COM_C2C_NORMAL)
    }

    /// Records a code the library made up (the final result of a client composite).
    pub fn record(&mut self, code: u64) {
        self.rescode = code;
        LAST.store(code, Ordering::Relaxed);
    }

    /// (chmpxid, base hash) of every server the local chmpx knows, in ring order.
    pub fn servers(&self) -> Vec<(u64, u64)> {
        let (group, ctlport) = self.client.target();
        match chmpx_core::client::snapshot(group, ctlport) {
            Ok(snap) => snap
                .servers
                .iter()
                .map(|s| (s.chmpxid, s.base_hash))
                .collect(),
            Err(e) => {
                log::error!("could not read the server list of the chmpx slave: {e}");
                Vec::new()
            }
        }
    }

    fn exchange(&mut self, msg: &Message, hash: u64, c2ctype: u64) -> Option<Message> {
        let (disp, com, t) = (msg.head.dispcomnumber, msg.head.comnumber, msg.head.comtype);
        // posted: a request that reaches no server is reported by the receive below
        self.client
            .post(self.msgid, &msg.encode(), hash, c2ctype)
            .ok()?;
        debug::comlog(
            disp,
            com,
            &format!("Sent command: {}({t})", dkccom_type_name(t)),
        );
        let end = Instant::now() + RCV_TIMEOUT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                log::error!("no answer from the cluster in time");
                return None;
            }
            let ms = left.as_millis().max(1) as i32;
            let (_, body) = self.client.receive(Some(self.msgid), ms).ok()??;
            let Ok(answer) = Message::decode(&body) else {
                log::error!("dropped a malformed answer");
                continue;
            };
            if !answer.head.is_response() || answer.head.comtype != msg.head.comtype {
                continue;
            }
            debug::comlog(
                disp,
                com,
                &format!("Received response: {}({t})", dkccom_type_name(t)),
            );
            self.record(answer.head.restype);
            return Some(answer);
        }
    }

    /// Closes the msgid and detaches.
    pub fn close(mut self) {
        let _ = self.client.close(self.msgid);
    }
}

/// Runs `f` on a session of its own (attach, open a msgid, close, detach).
pub fn one_time<R>(
    config: *const c_char,
    ctlport: c_short,
    cuk: *const c_char,
    is_auto_rejoin: bool,
    _no_giveup_rejoin: bool,
    f: impl FnOnce(&mut Session) -> R,
) -> Option<R> {
    let mut s = Session::open(config, ctlport, cuk, is_auto_rejoin)?;
    let r = f(&mut s);
    s.close();
    Some(r)
}

/// Runs `f` on the permanent session `handle` (None: no such handle).
pub fn permanent<R>(handle: u64, f: impl FnOnce(&mut Session) -> R) -> Option<R> {
    let s = table()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&handle)
        .cloned();
    let Some(s) = s else {
        log::error!("invalid k2hdkc handle 0x{handle:016x}");
        return None;
    };
    let mut g = s.lock().unwrap_or_else(|e| e.into_inner());
    Some(f(&mut g))
}

fn open_handle(config: *const c_char, ctlport: c_short, cuk: *const c_char, rejoin: bool) -> u64 {
    let Some(s) = Session::open(config, ctlport, cuk, rejoin) else {
        return 0;
    };
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    table()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, Arc::new(Mutex::new(s)));
    id
}

#[no_mangle]
pub extern "C" fn k2hdkc_open_chmpx(config: *const c_char) -> u64 {
    guard("k2hdkc_open_chmpx", 0, || {
        open_handle(config, -1, std::ptr::null(), false)
    })
}

#[no_mangle]
pub extern "C" fn k2hdkc_open_chmpx_ex(
    config: *const c_char,
    ctlport: c_short,
    is_auto_rejoin: bool,
    _no_giveup_rejoin: bool,
    _is_clean_bup: bool,
) -> u64 {
    guard("k2hdkc_open_chmpx_ex", 0, || {
        open_handle(config, ctlport, std::ptr::null(), is_auto_rejoin)
    })
}

#[no_mangle]
pub extern "C" fn k2hdkc_open_chmpx_full(
    config: *const c_char,
    ctlport: c_short,
    cuk: *const c_char,
    is_auto_rejoin: bool,
    _no_giveup_rejoin: bool,
    _is_clean_bup: bool,
) -> u64 {
    guard("k2hdkc_open_chmpx_full", 0, || {
        open_handle(config, ctlport, cuk, is_auto_rejoin)
    })
}

#[no_mangle]
pub extern "C" fn k2hdkc_close_chmpx_ex(handle: u64, _is_clean_bup: bool) -> CBool {
    guard("k2hdkc_close_chmpx_ex", CBool::FALSE, || {
        let s = table()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&handle);
        match s.and_then(|s| Arc::try_unwrap(s).ok()) {
            Some(s) => {
                s.into_inner().unwrap_or_else(|e| e.into_inner()).close();
                CBool::TRUE
            }
            None => CBool::from(false),
        }
    })
}

#[no_mangle]
pub extern "C" fn k2hdkc_close_chmpx(handle: u64) -> CBool {
    k2hdkc_close_chmpx_ex(handle, true)
}

#[no_mangle]
pub extern "C" fn k2hdkc_get_lastres_code() -> u64 {
    LAST.load(Ordering::Relaxed)
}

#[no_mangle]
pub extern "C" fn k2hdkc_get_lastres_subcode() -> u64 {
    k2hdkc_wire::res_subcode(LAST.load(Ordering::Relaxed))
}

#[no_mangle]
pub extern "C" fn k2hdkc_is_lastres_success() -> CBool {
    k2hdkc_wire::res_is_success(LAST.load(Ordering::Relaxed)).into()
}

fn handle_code(handle: u64) -> u64 {
    permanent(handle, |s| s.rescode).unwrap_or(DKC_NORESTYPE)
}

#[no_mangle]
pub extern "C" fn k2hdkc_get_res_code(handle: u64) -> u64 {
    guard("k2hdkc_get_res_code", DKC_NORESTYPE, || handle_code(handle))
}

#[no_mangle]
pub extern "C" fn k2hdkc_get_res_subcode(handle: u64) -> u64 {
    guard("k2hdkc_get_res_subcode", DKC_NORESTYPE, || {
        let c = handle_code(handle);
        if c == DKC_NORESTYPE {
            c
        } else {
            k2hdkc_wire::res_subcode(c)
        }
    })
}

#[no_mangle]
pub extern "C" fn k2hdkc_is_res_success(handle: u64) -> CBool {
    guard("k2hdkc_is_res_success", CBool::FALSE, || {
        let c = handle_code(handle);
        (c != DKC_NORESTYPE && k2hdkc_wire::res_is_success(c)).into()
    })
}
