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

/// The version banner, laid out like the original's (tools and scripts compare it line by line;
/// the lock section names our built-in lock table where the original names fullock).
pub fn version_text() -> String {
    format!(
        "\nK2HASH library Version {ver} (commit: k2hrs) with RustCrypto\n\n\
         Copyright(C) 2013 Yahoo Japan Corporation.\n\n\
         K2HASH is key-valuew store base libraries. K2HASH is made for\n\
         the purpose of the construction of original KVS system and the\n\
         offer of the library. The characteristic is this KVS library\n\
         which Key can layer. And can support multi-processing and\n\
         multi-thread, and is provided safely as available KVS.\n\n\n\
         FULLOCK Version {ver} (commit: k2hrs, built-in lock table)\n\n\
         Copyright(C) 2015 Yahoo Japan Corporation.\n\n\
         FULLOCK is fast locking library on user level by Yahoo! JAPAN.\n\
         FULLOCK is following specifications.\n\n",
        ver = env!("CARGO_PKG_VERSION"),
    )
}

#[no_mangle]
pub extern "C" fn k2h_print_version(stream: *mut FILE) {
    guard("k2h_print_version", (), || {
        write_stream(stream, version_text());
    })
}

fn fill(dst: &mut [libc::c_char], s: &str) {
    for (d, b) in dst.iter_mut().zip(s.bytes()) {
        *d = b as libc::c_char;
    }
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
        // SAFETY: calloc of one packed K2HSTATE; every field is written below.
        unsafe {
            let p = libc::calloc(1, std::mem::size_of::<K2HSTATE>()) as PK2HSTATE;
            if p.is_null() {
                return p;
            }
            let mut st: K2HSTATE = std::mem::zeroed();
            fill(&mut st.version, "K2H V2");
            fill(&mut st.hash_version, &crate::hash::active_version());
            fill(&mut st.trans_version, "K2H TRANSFUNC BUILTIN");
            st.trans_pool_count = 0;
            st.max_mask = s.max_mask;
            st.min_mask = s.min_mask;
            st.cur_mask = s.cur_mask;
            st.collision_mask = s.collision_mask;
            st.max_element_count = s.max_element_count;
            st.total_size = s.total_size as usize;
            st.page_size = s.page_size as usize;
            st.file_size = s.file_size as usize;
            st.total_used_size = s.total_used_size as usize;
            st.total_map_size = s.total_map_size as usize;
            st.total_element_size = s.total_element_size as usize;
            st.total_page_size = s.total_page_size as usize;
            st.total_area_count = s.total_area_count as i64;
            st.total_element_count = s.total_element_count as i64;
            st.total_page_count = s.total_page_count as i64;
            st.assigned_area_count = s.assigned_area_count as i64;
            st.assigned_key_count = s.assigned_key_count as i64;
            st.assigned_ckey_count = s.assigned_ckey_count as i64;
            st.assigned_element_count = s.assigned_element_count as i64;
            st.assigned_page_count = s.assigned_page_count as i64;
            st.unassigned_element_count = s.unassigned_element_count as i64;
            st.unassigned_page_count = s.unassigned_page_count as i64;
            st.last_update = libc::timeval {
                tv_sec: s.last_update.0 as i64,
                tv_usec: s.last_update.1 as i64,
            };
            st.last_area_update = libc::timeval {
                tv_sec: s.last_area_update.0 as i64,
                tv_usec: s.last_area_update.1 as i64,
            };
            std::ptr::write_unaligned(p, st);
            p
        }
    })
}
