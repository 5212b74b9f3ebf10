//! The merge callbacks of `chmpx_create_ex`: a client-on-server that registered any of them
//! gets a merge channel to its chmpx and one thread serving it, which calls the callbacks with
//! the handle, as the original's merge thread does (spec §6.3). The thread ends when the
//! handle is destroyed or chmpx goes away.
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

use chmpx_core::ipc::MergeGet;
use chmpx_core::merge_client::{MergeChannel, MergeHandler};
use chmpx_core::wire::Timespec;

use crate::capi::ffi;
use crate::capi::handle::MergeCallbacks;
use crate::capi::types::chmpx_h;

struct Callbacks {
    handle: chmpx_h,
    cb: MergeCallbacks,
}

impl MergeHandler for Callbacks {
    fn last_update(&mut self) -> Option<Timespec> {
        ffi::call_merge_lastts(self.cb.lastts?, self.handle)
    }

    fn get(&mut self, param: &MergeGet, start: u64) -> Option<(Vec<Vec<u8>>, u64)> {
        match self.cb.get {
            Some(f) => ffi::call_merge_get(f, self.handle, param, start),
            // nothing to give
            None => Some((Vec::new(), 0)),
        }
    }

    fn set(&mut self, data: &[u8], ts: Timespec) -> bool {
        match self.cb.set {
            Some(f) => ffi::call_merge_set(f, self.handle, data, ts),
            None => true,
        }
    }
}

/// The running merge thread of a handle (dropping it stops the thread).
pub struct MergeThread {
    stopper: Mutex<Option<UnixStream>>,
}

impl MergeThread {
    /// Opens the merge channel of `handle` to the chmpx of `group`/`ctlport` and starts its
    /// thread; None (and an error line) when the channel cannot be opened.
    pub fn start(handle: chmpx_h, group: &str, ctlport: i16, cb: MergeCallbacks) -> Option<Self> {
        let mut ch = match MergeChannel::open(group, ctlport) {
            Ok(c) => c,
            Err(e) => {
                log::error!("chmpx_create_ex: could not open the merge channel: {e}");
                return None;
            }
        };
        let stopper = ch.stopper();
        let spawned = std::thread::Builder::new()
            .name("chmpx-merge".into())
            .spawn(move || {
                let mut h = Callbacks { handle, cb };
                let _ = ch.serve(&mut h);
            });
        if let Err(e) = spawned {
            log::error!("chmpx_create_ex: could not start the merge thread: {e}");
            return None;
        }
        Some(MergeThread {
            stopper: Mutex::new(stopper),
        })
    }
}

impl Drop for MergeThread {
    fn drop(&mut self) {
        let s = self
            .stopper
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(s) = s {
            MergeChannel::stop(&s);
        }
    }
}
