//! Attaching to and detaching from the local chmpx, packet handles, liveness, and replies.
//!
//! Differences from the original, on purpose:
//! * handles are ids in a table: 0, `CHM_INVALID_CHMPXHANDLE`, destroyed or made-up values make
//!   every function return false / an invalid value instead of crashing;
//! * `chmpx_pkth_destroy` and the replies only accept packets this library handed out and that
//!   were not destroyed yet (the original freed or read any address);
//!
//! The merge callbacks of `chmpx_create_ex` are called by the handle's merge thread
//! (`capi::merge`) when its chmpx takes part in a merge.
use libc::{c_char, c_uchar, size_t};

use chmpx_core::client::Client;

use crate::capi::ffi::{self, guard, guard_bool, BoolArg, CBool};
use crate::capi::handle::{self, MergeCallbacks};
use crate::capi::kvp;
use crate::capi::packet;
use crate::capi::types::*;

/// All ones: what a failed create returns.
const INVALID_CHMPXHANDLE: chmpx_h = u64::MAX;

/// Attaches to the chmpx that the configuration (file path or JSON text) names, as a client of
/// a server chmpx (`is_on_server`) or of a slave chmpx. With `is_auto_rejoin`, receives attach
/// again after chmpx restarted. `CHM_INVALID_CHMPXHANDLE` on failure (empty configuration, bad
/// configuration, no chmpx running, chmpx of the other mode).
#[no_mangle]
pub extern "C" fn chmpx_create_ex(
    conffile: *const c_char,
    is_on_server: BoolArg,
    is_auto_rejoin: BoolArg,
    getfp: chm_merge_get_cb,
    setfp: chm_merge_set_cb,
    lastupdatefp: chm_merge_lastts_cb,
) -> chmpx_h {
    guard("chmpx_create_ex", INVALID_CHMPXHANDLE, || {
        let Some(conf) = ffi::opt_string(conffile) else {
            log::error!("chmpx_create_ex: the configuration is empty");
            return INVALID_CHMPXHANDLE;
        };
        let has_merge = getfp.is_some() || setfp.is_some() || lastupdatefp.is_some();
        match Client::attach_ex(&conf, is_on_server.get(), is_auto_rejoin.get(), has_merge) {
            Ok(c) => {
                // callbacks only matter to a client of a server chmpx
                let merge = if is_on_server.get() {
                    MergeCallbacks {
                        get: getfp,
                        set: setfp,
                        lastts: lastupdatefp,
                    }
                } else {
                    MergeCallbacks::default()
                };
                handle::insert(c, merge)
            }
            Err(e) => {
                log::error!("chmpx_create_ex: {e}");
                INVALID_CHMPXHANDLE
            }
        }
    })
}

/// `chmpx_create_ex` without merge callbacks.
#[no_mangle]
pub extern "C" fn chmpx_create(
    conffile: *const c_char,
    is_on_server: BoolArg,
    is_auto_rejoin: BoolArg,
) -> chmpx_h {
    chmpx_create_ex(conffile, is_on_server, is_auto_rejoin, None, None, None)
}

/// Detaches and forgets the handle; false for unknown handles.
#[no_mangle]
pub extern "C" fn chmpx_destroy(handle: chmpx_h) -> CBool {
    guard_bool("chmpx_destroy", || {
        let ok = handle::remove(handle);
        if !ok {
            log::error!("chmpx_destroy: invalid chmpx handle 0x{handle:016x}");
        }
        ok
    })
}

/// Frees a received packet; false for 0 and for values this library did not hand out.
#[no_mangle]
pub extern "C" fn chmpx_pkth_destroy(pckthandle: chmpx_pkt_h) -> CBool {
    guard_bool("chmpx_pkth_destroy", || ffi::packet_free(pckthandle))
}

/// False when the chmpx process went away (or the handle is invalid).
#[no_mangle]
pub extern "C" fn is_chmpx_proc_exists(handle: chmpx_h) -> CBool {
    guard_bool("is_chmpx_proc_exists", || {
        handle::get("is_chmpx_proc_exists", handle).is_some_and(|h| h.client().is_chmpx_alive())
    })
}

// ---------------------------------------------------------------- replies

fn reply(func: &str, handle: chmpx_h, pckthandle: chmpx_pkt_h, body: &[u8]) -> bool {
    let Some(h) = handle::get(func, handle) else {
        return false;
    };
    let Some(pkt) = packet::of_handle(pckthandle) else {
        log::error!("{func}: invalid packet handle 0x{pckthandle:016x}");
        return false;
    };
    if body.is_empty() {
        log::error!("{func}: the body is empty");
        return false;
    }
    let r = h.client().reply(&pkt, body);
    match r {
        Ok(()) => true,
        Err(e) => {
            log::error!("{func}: {e}");
            false
        }
    }
}

/// Answers a received packet: the reply goes back to the sender's chmpx and msgid.
#[no_mangle]
pub extern "C" fn chmpx_msg_reply(
    handle: chmpx_h,
    pckthandle: chmpx_pkt_h,
    pbody: *const c_uchar,
    blength: size_t,
) -> CBool {
    guard_bool("chmpx_msg_reply", || {
        let body = ffi::bytes(pbody, blength).unwrap_or(&[]);
        reply("chmpx_msg_reply", handle, pckthandle, body)
    })
}

/// Answers with a key/value pair.
#[no_mangle]
pub extern "C" fn chmpx_msg_reply_kvp(
    handle: chmpx_h,
    pckthandle: chmpx_pkt_h,
    pkvp: PCHMKVP,
) -> CBool {
    guard_bool("chmpx_msg_reply_kvp", || {
        let Some((k, v)) = kvp::kvp_arg("chmpx_msg_reply_kvp", pkvp) else {
            return false;
        };
        reply(
            "chmpx_msg_reply_kvp",
            handle,
            pckthandle,
            &kvp::serialize(k, v),
        )
    })
}

/// Answers with a key and a value.
#[no_mangle]
pub extern "C" fn chmpx_msg_reply_kv(
    handle: chmpx_h,
    pckthandle: chmpx_pkt_h,
    pkey: *mut c_uchar,
    keylen: size_t,
    pval: *mut c_uchar,
    vallen: size_t,
) -> CBool {
    guard_bool("chmpx_msg_reply_kv", || {
        let Some((k, v)) = kvp::kv_args("chmpx_msg_reply_kv", pkey, keylen, pval, vallen) else {
            return false;
        };
        reply(
            "chmpx_msg_reply_kv",
            handle,
            pckthandle,
            &kvp::serialize(k, v),
        )
    })
}
