//! The client of a server chmpx (`chmpx_svr_*`): sends by hash, broadcasts, replicates, and
//! receives what other clients sent to this server.
use std::sync::Arc;

use chmpx_core::wire::{
    CHM_INVALID_MSGID, COM_C2C_BROADCAST, COM_C2C_NOT_SELF, COM_C2C_RBROADCAST,
};
use libc::{c_int, c_uchar, size_t};

use crate::capi::ffi::{guard_bool, BoolArg, CBool};
use crate::capi::handle::{self, body_message, routing, Handle, Message, Rejoin};
use crate::capi::kvp;
use crate::capi::types::*;

/// The handle, when it is a client of a server chmpx.
fn server_handle(func: &str, handle: chmpx_h) -> Option<Arc<Handle>> {
    handle::get_kind(func, handle, true)
}

/// The body of every exported send: the message `message` makes of the arguments (None:
/// they were refused), sent with `mode`, optionally not to this server itself.
fn send<'a>(
    func: &str,
    handle: chmpx_h,
    message: impl FnOnce() -> Option<Message<'a>>,
    mode: u64,
    without_self: bool,
) -> CBool {
    guard_bool(func, || {
        let Some((body, hash)) = message() else {
            return false;
        };
        let Some(h) = server_handle(func, handle) else {
            return false;
        };
        let c2ctype = if without_self {
            mode | COM_C2C_NOT_SELF
        } else {
            mode
        };
        handle::send_body(func, &h, CHM_INVALID_MSGID, &body, hash, c2ctype).is_some()
    })
}

/// Sends to the server(s) `hash` names: one (`is_routing` false) or it and its replicas.
#[no_mangle]
pub extern "C" fn chmpx_svr_send(
    handle: chmpx_h,
    pbody: *const c_uchar,
    blength: size_t,
    hash: chmhash_t,
    is_routing: BoolArg,
) -> CBool {
    send(
        "chmpx_svr_send",
        handle,
        || body_message(pbody, blength, hash),
        routing(is_routing.get()),
        false,
    )
}

/// Sends a key/value pair by the hash of its key.
#[no_mangle]
pub extern "C" fn chmpx_svr_send_kvp(handle: chmpx_h, pkvp: PCHMKVP, is_routing: BoolArg) -> CBool {
    chmpx_svr_send_kvp_ex(handle, pkvp, is_routing, BoolArg(0))
}

/// `chmpx_svr_send_kvp`, optionally not to this server itself.
#[no_mangle]
pub extern "C" fn chmpx_svr_send_kvp_ex(
    handle: chmpx_h,
    pkvp: PCHMKVP,
    is_routing: BoolArg,
    without_self: BoolArg,
) -> CBool {
    let func = "chmpx_svr_send_kvp_ex";
    send(
        func,
        handle,
        || kvp::message(kvp::kvp_arg(func, pkvp)),
        routing(is_routing.get()),
        without_self.get(),
    )
}

/// Sends a key and a value by the hash of the key.
#[no_mangle]
pub extern "C" fn chmpx_svr_send_kv(
    handle: chmpx_h,
    pkey: *mut c_uchar,
    keylen: size_t,
    pval: *mut c_uchar,
    vallen: size_t,
    is_routing: BoolArg,
) -> CBool {
    chmpx_svr_send_kv_ex(handle, pkey, keylen, pval, vallen, is_routing, BoolArg(0))
}

/// `chmpx_svr_send_kv`, optionally not to this server itself.
#[no_mangle]
pub extern "C" fn chmpx_svr_send_kv_ex(
    handle: chmpx_h,
    pkey: *mut c_uchar,
    keylen: size_t,
    pval: *mut c_uchar,
    vallen: size_t,
    is_routing: BoolArg,
    without_self: BoolArg,
) -> CBool {
    let func = "chmpx_svr_send_kv_ex";
    send(
        func,
        handle,
        || kvp::message(kvp::kv_args(func, pkey, keylen, pval, vallen)),
        routing(is_routing.get()),
        without_self.get(),
    )
}

/// Sends to every server (this one included).
#[no_mangle]
pub extern "C" fn chmpx_svr_broadcast(
    handle: chmpx_h,
    pbody: *const c_uchar,
    blength: size_t,
    hash: chmhash_t,
) -> CBool {
    chmpx_svr_broadcast_ex(handle, pbody, blength, hash, BoolArg(0))
}

/// Sends to every server, optionally not to this one.
#[no_mangle]
pub extern "C" fn chmpx_svr_broadcast_ex(
    handle: chmpx_h,
    pbody: *const c_uchar,
    blength: size_t,
    hash: chmhash_t,
    without_self: BoolArg,
) -> CBool {
    send(
        "chmpx_svr_broadcast_ex",
        handle,
        || body_message(pbody, blength, hash),
        COM_C2C_BROADCAST,
        without_self.get(),
    )
}

/// Sends to the server `hash` names and its replicas, not to this server itself.
#[no_mangle]
pub extern "C" fn chmpx_svr_replicate(
    handle: chmpx_h,
    pbody: *const c_uchar,
    blength: size_t,
    hash: chmhash_t,
) -> CBool {
    chmpx_svr_replicate_ex(handle, pbody, blength, hash, BoolArg(1))
}

/// Sends to the server `hash` names and its replicas, optionally not to this one.
#[no_mangle]
pub extern "C" fn chmpx_svr_replicate_ex(
    handle: chmpx_h,
    pbody: *const c_uchar,
    blength: size_t,
    hash: chmhash_t,
    without_self: BoolArg,
) -> CBool {
    send(
        "chmpx_svr_replicate_ex",
        handle,
        || body_message(pbody, blength, hash),
        COM_C2C_RBROADCAST,
        without_self.get(),
    )
}

/// Waits up to `timeout_ms` (0: only look, negative: forever) for a packet to any msgid of this
/// client. True with `*ppckthandle` 0 on timeout. With `ppbody`/`plength` (both or neither) the
/// body comes in its own malloc'ed buffer, otherwise right after the packet head. If chmpx went
/// away, a handle created with auto-rejoin attaches again: once per call, or until it works with
/// `no_giveup_rejoin`.
#[no_mangle]
pub extern "C" fn chmpx_svr_receive(
    handle: chmpx_h,
    ppckthandle: *mut chmpx_pkt_h,
    ppbody: *mut *mut c_uchar,
    plength: *mut size_t,
    timeout_ms: c_int,
    no_giveup_rejoin: BoolArg,
) -> CBool {
    let func = "chmpx_svr_receive";
    guard_bool(func, || {
        let Some(h) = server_handle(func, handle) else {
            return false;
        };
        let rejoin = if no_giveup_rejoin.get() {
            Rejoin::NoGiveUp
        } else {
            Rejoin::Once
        };
        handle::receive_out(
            func,
            &h,
            None,
            ppckthandle,
            ppbody,
            plength,
            timeout_ms,
            rejoin,
        )
    })
}
