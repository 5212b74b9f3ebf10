//! Create / open / close (family C).
use crate::capi::ffi::{cbool, fail, guard, path, CBool, K2H};
use crate::capi::types::*;
use crate::engine::{Db, Layout};
use crate::k2h::K2h;
use libc::{c_char, c_int, c_long, size_t};

fn layout(mask: c_int, cmask: c_int, maxel: c_int, pagesize: size_t) -> Layout {
    Layout {
        mask_bits: mask,
        cmask_bits: cmask,
        max_elements: maxel,
        page_size: pagesize,
    }
}

/// Create an initialised k2hash file (an existing file is replaced) and detach.
#[no_mangle]
pub extern "C" fn k2h_create(
    filepath: *const c_char,
    maskbitcnt: c_int,
    cmaskbitcnt: c_int,
    maxelementcnt: c_int,
    pagesize: size_t,
) -> CBool {
    cbool(|| {
        guard("k2h_create", false, || {
            let Some(p) = path(filepath) else {
                return fail("k2h_create", "file path is empty", false);
            };
            match Db::create_file(&p, layout(maskbitcnt, cmaskbitcnt, maxelementcnt, pagesize)) {
                Ok(()) => true,
                Err(e) => fail("k2h_create", e, false),
            }
        })
    })
}

/// Attach a file (or memory when the path is NULL or empty).
#[no_mangle]
pub extern "C" fn k2h_open(
    filepath: *const c_char,
    readonly: bool,
    removefile: bool,
    fullmap: bool,
    maskbitcnt: c_int,
    cmaskbitcnt: c_int,
    maxelementcnt: c_int,
    pagesize: size_t,
) -> k2h_h {
    guard("k2h_open", K2H_INVALID_HANDLE, || {
        let l = layout(maskbitcnt, cmaskbitcnt, maxelementcnt, pagesize);
        let r = match path(filepath) {
            None => K2h::open_mem(l),
            Some(p) => K2h::open_file(&p, readonly, removefile, fullmap, l),
        };
        match r {
            Ok(k) => crate::capi::ffi::register(k).0,
            Err(e) => fail("k2h_open", e, K2H_INVALID_HANDLE),
        }
    })
}

#[no_mangle]
pub extern "C" fn k2h_open_rw(
    filepath: *const c_char,
    fullmap: bool,
    maskbitcnt: c_int,
    cmaskbitcnt: c_int,
    maxelementcnt: c_int,
    pagesize: size_t,
) -> k2h_h {
    k2h_open(
        filepath,
        false,
        false,
        fullmap,
        maskbitcnt,
        cmaskbitcnt,
        maxelementcnt,
        pagesize,
    )
}

#[no_mangle]
pub extern "C" fn k2h_open_ro(
    filepath: *const c_char,
    fullmap: bool,
    maskbitcnt: c_int,
    cmaskbitcnt: c_int,
    maxelementcnt: c_int,
    pagesize: size_t,
) -> k2h_h {
    k2h_open(
        filepath,
        true,
        false,
        fullmap,
        maskbitcnt,
        cmaskbitcnt,
        maxelementcnt,
        pagesize,
    )
}

#[no_mangle]
pub extern "C" fn k2h_open_tempfile(
    filepath: *const c_char,
    fullmap: bool,
    maskbitcnt: c_int,
    cmaskbitcnt: c_int,
    maxelementcnt: c_int,
    pagesize: size_t,
) -> k2h_h {
    k2h_open(
        filepath,
        false,
        true,
        fullmap,
        maskbitcnt,
        cmaskbitcnt,
        maxelementcnt,
        pagesize,
    )
}

#[no_mangle]
pub extern "C" fn k2h_open_mem(
    maskbitcnt: c_int,
    cmaskbitcnt: c_int,
    maxelementcnt: c_int,
    pagesize: size_t,
) -> k2h_h {
    k2h_open(
        std::ptr::null(),
        false,
        false,
        true,
        maskbitcnt,
        cmaskbitcnt,
        maxelementcnt,
        pagesize,
    )
}

#[no_mangle]
pub extern "C" fn k2h_close(handle: k2h_h) -> CBool {
    k2h_close_wait(handle, 0)
}

/// Close a handle; `waitms` < -1 is invalid.
#[no_mangle]
pub extern "C" fn k2h_close_wait(handle: k2h_h, waitms: c_long) -> CBool {
    cbool(|| {
        guard("k2h_close_wait", false, || {
            if waitms < -1 {
                return fail("k2h_close_wait", "wait time must be -1 or more", false);
            }
            match K2H.remove(handle) {
                Some(k) => {
                    // drain (as asked) and stop the transaction workers, then stop logging
                    crate::transpool::stop_pool(&k, waitms);
                    k.trans.disable();
                    true
                }
                None => fail(
                    "k2h_close_wait",
                    format!("invalid k2hash handle {handle:#x}"),
                    false,
                ),
            }
        })
    })
}
