//! Dump / print / state (family Q).
use crate::capi::ffi::*;
use crate::capi::types::*;
use crate::dump;
use libc::FILE;

fn dump_to(name: &str, h: k2h_h, stream: *mut FILE, mode: u32) -> bool {
    guard(name, false, || {
        let Some(k) = handle(name, h) else {
            return false;
        };
        match dump::dump(k.db(), mode) {
            Ok(s) => write_stream(stream, &s),
            Err(e) => fail(name, e, false),
        }
    })
}

#[no_mangle]
pub extern "C" fn k2h_dump_head(handle: k2h_h, stream: *mut FILE) -> CBool {
    cbool(|| dump_to("k2h_dump_head", handle, stream, dump::DUMP_HEAD))
}
#[no_mangle]
pub extern "C" fn k2h_dump_keytable(handle: k2h_h, stream: *mut FILE) -> CBool {
    cbool(|| dump_to("k2h_dump_keytable", handle, stream, dump::DUMP_KINDEX))
}
#[no_mangle]
pub extern "C" fn k2h_dump_full_keytable(handle: k2h_h, stream: *mut FILE) -> CBool {
    cbool(|| dump_to("k2h_dump_full_keytable", handle, stream, dump::DUMP_CKINDEX))
}
#[no_mangle]
pub extern "C" fn k2h_dump_elementtable(handle: k2h_h, stream: *mut FILE) -> CBool {
    cbool(|| dump_to("k2h_dump_elementtable", handle, stream, dump::DUMP_ELEMENT))
}
#[no_mangle]
pub extern "C" fn k2h_dump_full(handle: k2h_h, stream: *mut FILE) -> CBool {
    cbool(|| dump_to("k2h_dump_full", handle, stream, dump::DUMP_PAGE))
}

#[no_mangle]
pub extern "C" fn k2h_print_state(handle: k2h_h, stream: *mut FILE) -> CBool {
    cbool(|| {
        let name = "k2h_print_state";
        guard(name, false, || {
            let Some(k) = crate::capi::ffi::handle(name, handle) else {
                return false;
            };
            match dump::state(k.db()) {
                Ok(s) => write_stream(stream, dump::state_text(&s)),
                Err(e) => fail(name, e, false),
            }
        })
    })
}

/// The version banner (shared with libk2hdkc's, which prints k2hash's after its own).
pub fn version_text() -> String {
    k2hash_hash::version_banner()
}

#[no_mangle]
pub extern "C" fn k2h_print_version(stream: *mut FILE) {
    guard("k2h_print_version", (), || {
        write_stream(stream, version_text());
    })
}

/// calloc'd state snapshot; the caller frees it.
#[no_mangle]
pub extern "C" fn k2h_get_state(handle: k2h_h) -> PK2HSTATE {
    let name = "k2h_get_state";
    guard(name, std::ptr::null_mut(), || {
        let Some(k) = crate::capi::ffi::handle(name, handle) else {
            return std::ptr::null_mut();
        };
        let s = match dump::state(k.db()) {
            Ok(s) => s,
            Err(e) => return fail(name, e, std::ptr::null_mut()),
        };
        let rec = dump::state_record(&s, &crate::hash::active_version());
        // SAFETY: calloc of one packed K2HSTATE (284 bytes, checked below), filled with the
        // record's bytes in the structure's layout.
        unsafe {
            debug_assert_eq!(std::mem::size_of::<K2HSTATE>(), rec.len());
            let p = libc::calloc(1, std::mem::size_of::<K2HSTATE>()) as PK2HSTATE;
            if p.is_null() {
                return p;
            }
            std::ptr::copy_nonoverlapping(rec.as_ptr(), p as *mut u8, rec.len());
            p
        }
    })
}
