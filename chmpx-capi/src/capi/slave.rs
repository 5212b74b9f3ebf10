//! The client of a slave chmpx (`chmpx_open`, `chmpx_msg_*`): messages are sent from a msgid
//! this client opened, and replies come back to that msgid.
use std::sync::Arc;

use chmpx_core::wire::{CHM_INVALID_MSGID, COM_C2C_BROADCAST, COM_C2C_RBROADCAST};
use libc::{c_int, c_long, c_uchar, size_t};

use crate::capi::ffi::{self, guard, guard_bool, BoolArg, CBool};
use crate::capi::handle::{self, body_message, routing, Handle, Message, Rejoin};
use crate::capi::kvp;
use crate::capi::types::*;

/// Wait before a rejoin attempt of `chmpx_open` with `no_giveup_rejoin` (the original's
/// event timeout).
const OPEN_REJOIN_WAIT_MS: i64 = 100;

/// The handle, when it is a client of a slave chmpx.
fn slave_handle(func: &str, handle: chmpx_h) -> Option<Arc<Handle>> {
    handle::get_kind(func, handle, false)
}

/// The handle, when it is a client of a slave chmpx and `msgid` can be one of its msgids.
fn msgid_handle(func: &str, handle: chmpx_h, msgid: msgid_t) -> Option<Arc<Handle>> {
    let h = slave_handle(func, handle)?;
    if msgid == CHM_INVALID_MSGID {
        log::error!("{func}: invalid msgid");
        return None;
    }
    Some(h)
}

/// The body of every exported send: the message `message` makes of the arguments (None:
/// they were refused), sent from `msgid` as `c2ctype`; `*preceivercnt` (may be NULL) = how
/// many chmpx processes it went to.
fn send<'a>(
    func: &str,
    handle: chmpx_h,
    msgid: msgid_t,
    message: impl FnOnce() -> Option<Message<'a>>,
    preceivercnt: *mut c_long,
    c2ctype: u64,
) -> CBool {
    guard_bool(func, || {
        let Some((body, hash)) = message() else {
            return false;
        };
        let Some(h) = msgid_handle(func, handle, msgid) else {
            return false;
        };
        match handle::send_body(func, &h, msgid, &body, hash, c2ctype) {
            Some(n) => {
                ffi::set_out(preceivercnt, n as c_long);
                true
            }
            None => false,
        }
    })
}

/// Takes a msgid to send from and receive replies on; `CHM_INVALID_MSGID` on failure. If chmpx
/// went away, a handle created with auto-rejoin attaches again (once, or until it works with
/// `no_giveup_rejoin`).
#[no_mangle]
pub extern "C" fn chmpx_open(handle: chmpx_h, no_giveup_rejoin: BoolArg) -> msgid_t {
    let func = "chmpx_open";
    guard(func, CHM_INVALID_MSGID, || {
        let Some(h) = slave_handle(func, handle) else {
            return CHM_INVALID_MSGID;
        };
        if h.client().is_dead() {
            let (policy, wait) = if no_giveup_rejoin.get() {
                (Rejoin::NoGiveUp, OPEN_REJOIN_WAIT_MS)
            } else {
                (Rejoin::Once, 0)
            };
            if !h.rejoin(policy, wait) {
                log::error!("{func}: chmpx is gone");
                return CHM_INVALID_MSGID;
            }
        }
        let r = h.client().open();
        match r {
            Ok(m) => m,
            Err(e) => {
                log::error!("{func}: {e}");
                CHM_INVALID_MSGID
            }
        }
    })
}

/// Gives a msgid back.
#[no_mangle]
pub extern "C" fn chmpx_close(handle: chmpx_h, msgid: msgid_t) -> CBool {
    let func = "chmpx_close";
    guard_bool(func, || {
        let Some(h) = msgid_handle(func, handle, msgid) else {
            return false;
        };
        let r = h.client().close(msgid);
        match r {
            Ok(ok) => ok,
            Err(e) => {
                log::error!("{func}: {e}");
                false
            }
        }
    })
}

/// Sends from `msgid` to the server(s) `hash` names; `*preceivercnt` (may be NULL) = how many
/// chmpx processes it went to, i.e. how many replies to expect.
#[no_mangle]
pub extern "C" fn chmpx_msg_send(
    handle: chmpx_h,
    msgid: msgid_t,
    pbody: *const c_uchar,
    blength: size_t,
    hash: chmhash_t,
    preceivercnt: *mut c_long,
    is_routing: BoolArg,
) -> CBool {
    send(
        "chmpx_msg_send",
        handle,
        msgid,
        || body_message(pbody, blength, hash),
        preceivercnt,
        routing(is_routing.get()),
    )
}

/// Sends a key/value pair by the hash of its key.
#[no_mangle]
pub extern "C" fn chmpx_msg_send_kvp(
    handle: chmpx_h,
    msgid: msgid_t,
    pkvp: PCHMKVP,
    preceivercnt: *mut c_long,
    is_routing: BoolArg,
) -> CBool {
    let func = "chmpx_msg_send_kvp";
    send(
        func,
        handle,
        msgid,
        || kvp::message(kvp::kvp_arg(func, pkvp)),
        preceivercnt,
        routing(is_routing.get()),
    )
}

/// Sends a key and a value by the hash of the key.
#[no_mangle]
pub extern "C" fn chmpx_msg_send_kv(
    handle: chmpx_h,
    msgid: msgid_t,
    pkey: *mut c_uchar,
    keylen: size_t,
    pval: *mut c_uchar,
    vallen: size_t,
    preceivercnt: *mut c_long,
    is_routing: BoolArg,
) -> CBool {
    let func = "chmpx_msg_send_kv";
    send(
        func,
        handle,
        msgid,
        || kvp::message(kvp::kv_args(func, pkey, keylen, pval, vallen)),
        preceivercnt,
        routing(is_routing.get()),
    )
}

/// Sends to every server.
#[no_mangle]
pub extern "C" fn chmpx_msg_broadcast(
    handle: chmpx_h,
    msgid: msgid_t,
    pbody: *const c_uchar,
    blength: size_t,
    hash: chmhash_t,
    preceivercnt: *mut c_long,
) -> CBool {
    send(
        "chmpx_msg_broadcast",
        handle,
        msgid,
        || body_message(pbody, blength, hash),
        preceivercnt,
        COM_C2C_BROADCAST,
    )
}

/// Sends to the server `hash` names and its replicas.
#[no_mangle]
pub extern "C" fn chmpx_msg_replicate(
    handle: chmpx_h,
    msgid: msgid_t,
    pbody: *const c_uchar,
    blength: size_t,
    hash: chmhash_t,
    preceivercnt: *mut c_long,
) -> CBool {
    send(
        "chmpx_msg_replicate",
        handle,
        msgid,
        || body_message(pbody, blength, hash),
        preceivercnt,
        COM_C2C_RBROADCAST,
    )
}

/// Waits up to `timeout_ms` (0 or negative: only look) for a packet to `msgid`. True with
/// `*ppckthandle` 0 on timeout; false when chmpx went away (no rejoin here, as the original).
/// Body and packet as `chmpx_svr_receive`.
#[no_mangle]
pub extern "C" fn chmpx_msg_receive(
    handle: chmpx_h,
    msgid: msgid_t,
    ppckthandle: *mut chmpx_pkt_h,
    ppbody: *mut *mut c_uchar,
    plength: *mut size_t,
    timeout_ms: c_int,
) -> CBool {
    let func = "chmpx_msg_receive";
    guard_bool(func, || {
        let Some(h) = slave_handle(func, handle) else {
            return false;
        };
        if msgid == CHM_INVALID_MSGID || !h.client().opened().contains(&msgid) {
            log::error!("{func}: msgid 0x{msgid:016x} is not open on this handle");
            return false;
        }
        // the original makes one try for 0 and negative timeouts
        let timeout = timeout_ms.max(0);
        handle::receive_out(
            func,
            &h,
            Some(msgid),
            ppckthandle,
            ppbody,
            plength,
            timeout,
            Rejoin::Never,
        )
    })
}
