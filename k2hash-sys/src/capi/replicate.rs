//! Direct element transfer (family L), used by k2hdkc to move data between servers.
use crate::capi::ffi::*;
use crate::capi::types::*;
use crate::replicate::{self, RawElement, ScanFilter};
use libc::{c_long, size_t, timespec};

/// Elements of the first slot from `starthash` on that pass the filters, as a malloc'd K2HBIN
/// array of RALLEDATA blobs (free with free_k2hbins); `*pnexthash` = slot to continue from.
#[no_mangle]
pub extern "C" fn k2h_get_elements_by_hash(
    handle: k2h_h,
    starthash: k2h_hash_t,
    startts: timespec,
    endts: timespec,
    target_hash: k2h_hash_t,
    target_max_hash: k2h_hash_t,
    old_hash: k2h_hash_t,
    old_max_hash: k2h_hash_t,
    target_hash_range: c_long,
    is_expire_check: bool,
    pnexthash: *mut k2h_hash_t,
    ppbindatas: *mut PK2HBIN,
    pdatacnt: *mut size_t,
) -> CBool {
    cbool(|| {
        let name = "k2h_get_elements_by_hash";
        guard(name, false, || {
            if pnexthash.is_null() || ppbindatas.is_null() || pdatacnt.is_null() {
                return fail(name, "output pointer is NULL", false);
            }
            set_out(pnexthash, 0);
            set_out(ppbindatas, std::ptr::null_mut());
            set_out(pdatacnt, 0);
            let Some(k) = crate::capi::ffi::handle(name, handle) else {
                return false;
            };
            let f = ScanFilter {
                start: (startts.tv_sec, startts.tv_nsec),
                end: (endts.tv_sec, endts.tv_nsec),
                target_hash,
                target_max_hash,
                old_hash,
                old_max_hash,
                range: target_hash_range,
                expire_check: is_expire_check,
            };
            let (found, next) = match replicate::elements_by_hash(&k, starthash, &f) {
                Ok(r) => r,
                Err(e) => return fail(name, e, false),
            };
            set_out(pnexthash, next);
            if found.is_empty() {
                return true;
            }
            // SAFETY: calloc of one K2HBIN per element; each is filled below with a malloc'd blob.
            let arr =
                unsafe { libc::calloc(found.len(), std::mem::size_of::<K2HBIN>()) as PK2HBIN };
            if arr.is_null() {
                return fail(name, "out of memory", false);
            }
            for (i, e) in found.iter().enumerate() {
                let b = e.encode();
                // SAFETY: i < found.len(), inside the calloc'd array.
                unsafe {
                    *arr.add(i) = K2HBIN {
                        byptr: malloc_copy(&b),
                        length: b.len(),
                    }
                };
            }
            set_out(ppbindatas, arr);
            set_out(pdatacnt, found.len());
            true
        })
    })
}

/// Store one element produced by k2h_get_elements_by_hash (hashes taken from the data) unless
/// the stored one is at least as new.
#[no_mangle]
pub extern "C" fn k2h_set_element_by_binary(
    handle: k2h_h,
    pbindatas: PK2HBIN,
    pts: *const timespec,
) -> CBool {
    cbool(|| {
        let name = "k2h_set_element_by_binary";
        guard(name, false, || {
            if pbindatas.is_null() || pts.is_null() {
                return fail(name, "argument is NULL", false);
            }
            // SAFETY: non-NULL pointers supplied by the caller.
            let (bin, ts) = unsafe { (&*pbindatas, &*pts) };
            let Some(data) = key(bin.byptr, bin.length) else {
                return fail(name, "element data is empty", false);
            };
            let Some(k) = crate::capi::ffi::handle(name, handle) else {
                return false;
            };
            let r = RawElement::decode(data)
                .and_then(|e| replicate::set_element(&k, &e, (ts.tv_sec, ts.tv_nsec)));
            match r {
                Ok(()) => true,
                Err(e) => fail(name, e, false),
            }
        })
    })
}
