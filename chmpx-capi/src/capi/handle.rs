//! Client handles: opaque ids in a table, so a stale, foreign or already destroyed value is
//! refused (the original cast the value to a `ChmCntrl*` and crashed on a bad one). Each handle
//! holds one [`Client`] behind a mutex; a receive waits for the socket *outside* that mutex, so
//! other threads can send or reply on the same handle meanwhile.
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use chmpx_core::client::{Client, Packet};
use chmpx_core::wire::{COM_C2C_NORMAL, COM_C2C_ROUTING};

use crate::capi::ffi;
use crate::capi::merge::MergeThread;
use crate::capi::types::*;

/// The merge callbacks given to `chmpx_create_ex` (called by the handle's merge thread).
#[derive(Clone, Copy, Default)]
pub struct MergeCallbacks {
    pub get: chm_merge_get_cb,
    pub set: chm_merge_set_cb,
    pub lastts: chm_merge_lastts_cb,
}

impl MergeCallbacks {
    /// Whether any callback was given.
    pub fn any(&self) -> bool {
        self.get.is_some() || self.set.is_some() || self.lastts.is_some()
    }
}

pub struct Handle {
    id: chmpx_h,
    client: Mutex<Client>,
    pub on_server: bool,
    pub auto_rejoin: bool,
    pub merge: MergeCallbacks,
    merge_thread: Mutex<Option<MergeThread>>,
}

/// Longest wait on the socket before the client's queues are looked at again (another thread
/// may have read our delivery while it waited for an answer of its own).
const POLL_SLICE_MS: u64 = 20;
/// Pause between rejoin attempts when retrying without limit.
const REJOIN_PAUSE_MS: u64 = 100;

/// Handle values start here: never 0 and never all ones.
const FIRST_HANDLE: u64 = 0x4348_4D50_0000_0001;

fn table() -> &'static Mutex<HashMap<u64, Arc<Handle>>> {
    static T: OnceLock<Mutex<HashMap<u64, Arc<Handle>>>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(HashMap::new()))
}

fn locked() -> MutexGuard<'static, HashMap<u64, Arc<Handle>>> {
    table().lock().unwrap_or_else(|e| e.into_inner())
}

static NEXT: AtomicU64 = AtomicU64::new(FIRST_HANDLE);

/// Registers a new handle.
pub fn insert(client: Client, merge: MergeCallbacks) -> chmpx_h {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    let h = Handle {
        id,
        on_server: client.on_server,
        auto_rejoin: client.auto_rejoin,
        client: Mutex::new(client),
        merge,
        merge_thread: Mutex::new(None),
    };
    h.start_merge();
    locked().insert(id, Arc::new(h));
    id
}

/// The handle behind `id`, or an error line and None.
pub fn get(func: &str, id: chmpx_h) -> Option<Arc<Handle>> {
    let h = locked().get(&id).cloned();
    if h.is_none() {
        log::error!("{func}: invalid chmpx handle 0x{id:016x}");
    }
    h
}

/// The handle behind `id` when it is a client of a server chmpx (`on_server`), or of a slave
/// chmpx; else an error line and None.
pub fn get_kind(func: &str, id: chmpx_h, on_server: bool) -> Option<Arc<Handle>> {
    let h = get(func, id)?;
    if h.on_server != on_server {
        let kind = if h.on_server { "server" } else { "slave" };
        log::error!("{func}: the handle is a client of a {kind} chmpx");
        return None;
    }
    Some(h)
}

/// Forgets a handle (the client detaches when the last user lets go of it).
pub fn remove(id: chmpx_h) -> bool {
    let h = locked().remove(&id);
    if let Some(h) = &h {
        // the merge thread stops now, whoever still holds the handle
        h.merge_thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }
    h.is_some()
}

/// The chmpx process went away (and could not be rejoined).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone;

/// How a receive may rejoin a chmpx that went away.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Rejoin {
    /// Not at all (client-on-slave receive).
    Never,
    /// One attempt per call (only with auto-rejoin).
    Once,
    /// Until it works (only with auto-rejoin).
    NoGiveUp,
}

impl Handle {
    pub fn client(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts (or restarts, after a rejoin) the merge thread of a client-on-server that has
    /// merge callbacks.
    fn start_merge(&self) {
        if !self.on_server || !self.merge.any() {
            return;
        }
        let (group, ctlport) = {
            let c = self.client();
            let (g, p) = c.target();
            (g.to_string(), p)
        };
        let t = MergeThread::start(self.id, &group, ctlport, self.merge);
        *self.merge_thread.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// Re-attaches after the chmpx went away. `pause_ms` is waited before each attempt (the
    /// original waits the receive timeout); without limit the pause is at least 100 ms.
    pub fn rejoin(&self, policy: Rejoin, pause_ms: i64) -> bool {
        if !self.auto_rejoin || policy == Rejoin::Never {
            return false;
        }
        loop {
            let pause = match policy {
                Rejoin::NoGiveUp => pause_ms.max(REJOIN_PAUSE_MS as i64),
                _ => pause_ms.max(0),
            };
            if pause > 0 {
                std::thread::sleep(Duration::from_millis(pause as u64));
            }
            let mut c = self.client();
            if !c.is_dead() {
                return true; // another thread did it
            }
            match c.rejoin() {
                Ok(()) => {
                    log::info!("rejoined chmpx (chmpxid 0x{:016x})", c.chmpxid);
                    drop(c);
                    self.start_merge();
                    return true;
                }
                Err(e) => log::warn!("could not rejoin chmpx: {e}"),
            }
            if policy != Rejoin::NoGiveUp {
                return false;
            }
        }
    }

    /// Waits for a packet for `msgid` (None: any) up to `timeout_ms` (0: just look, negative:
    /// forever). Ok(None) on timeout, Err(Gone) when chmpx is gone and could not be rejoined.
    pub fn receive(
        &self,
        msgid: Option<u64>,
        timeout_ms: i32,
        rejoin: Rejoin,
    ) -> Result<Option<Packet>, Gone> {
        let deadline = (timeout_ms > 0)
            .then(|| Instant::now() + Duration::from_millis(u64::from(timeout_ms.unsigned_abs())));
        loop {
            let (r, fd) = {
                let mut c = self.client();
                if c.is_dead() {
                    (Err(Gone), -1)
                } else {
                    (c.receive(msgid, 0).map_err(|_| Gone), c.raw_fd())
                }
            };
            match r {
                Ok(Some(p)) => return Ok(Some(p)),
                Ok(None) => {}
                Err(Gone) => {
                    log::warn!("chmpx is gone");
                    if self.rejoin(rejoin, i64::from(timeout_ms)) {
                        continue;
                    }
                    return Err(Gone);
                }
            }
            let slice = match deadline {
                _ if timeout_ms == 0 => return Ok(None),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    left.as_millis().min(u128::from(POLL_SLICE_MS)) as i32
                }
                None => POLL_SLICE_MS as i32,
            };
            ffi::wait_readable(fd, slice.max(1));
        }
    }
}

/// The C2C type of a send by hash: to the server the hash names, or routed to its replicas
/// too.
pub fn routing(is_routing: bool) -> u64 {
    if is_routing {
        COM_C2C_ROUTING
    } else {
        COM_C2C_NORMAL
    }
}

/// A message to send: its body and the hash it goes by.
pub type Message<'a> = (Cow<'a, [u8]>, chmhash_t);

/// A body argument (NULL or length 0 is empty, which [`send_body`] refuses) and its hash.
pub fn body_message<'a>(
    pbody: *const u8,
    blength: libc::size_t,
    hash: chmhash_t,
) -> Option<Message<'a>> {
    Some((
        Cow::Borrowed(ffi::bytes(pbody, blength).unwrap_or(&[])),
        hash,
    ))
}

/// Sends `body` through `h` (see `Client::send`); the number of receiving chmpx processes, or
/// None (with an error line) when chmpx refused it or is gone.
pub fn send_body(
    func: &str,
    h: &Handle,
    msgid: u64,
    body: &[u8],
    hash: u64,
    c2ctype: u64,
) -> Option<i64> {
    if body.is_empty() {
        log::error!("{func}: the body is empty");
        return None;
    }
    match h.client().send(msgid, body, hash, c2ctype) {
        Ok(n) if n >= 0 => Some(n),
        Ok(_) => {
            log::error!("{func}: chmpx could not send (no receiver for hash 0x{hash:016x}?)");
            None
        }
        Err(e) => {
            log::error!("{func}: {e}");
            None
        }
    }
}

/// The receive of both sides: checks the out pointers, waits, and hands a packet out.
#[allow(clippy::too_many_arguments)]
pub fn receive_out(
    func: &str,
    h: &Handle,
    msgid: Option<u64>,
    ppckthandle: *mut chmpx_pkt_h,
    ppbody: *mut *mut u8,
    plength: *mut libc::size_t,
    timeout_ms: i32,
    rejoin: Rejoin,
) -> bool {
    if ppckthandle.is_null() || ppbody.is_null() != plength.is_null() {
        log::error!("{func}: the packet pointer is NULL, or only one of body and length is");
        return false;
    }
    ffi::set_out(ppckthandle, 0);
    ffi::set_out(ppbody, std::ptr::null_mut());
    ffi::set_out(plength, 0);
    match h.receive(msgid, timeout_ms, rejoin) {
        Ok(None) => true,
        Ok(Some(p)) => match crate::capi::packet::hand_out(p, !ppbody.is_null()) {
            Some((ph, body, len)) => {
                if let Some(b) = body {
                    ffi::set_out(ppbody, b);
                    ffi::set_out(plength, len);
                }
                ffi::set_out(ppckthandle, ph);
                true
            }
            None => {
                log::error!("{func}: out of memory");
                false
            }
        },
        Err(Gone) => false,
    }
}
