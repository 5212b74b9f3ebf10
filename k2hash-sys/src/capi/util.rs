//! Utility frees (family R).
use crate::capi::types::*;
use libc::{c_void, size_t};

/// Free one malloc'd K2HBIN and its buffer.
#[no_mangle]
pub extern "C" fn free_k2hbin(pk2hbin: PK2HBIN) {
    if pk2hbin.is_null() {
        return;
    }
    // SAFETY: a single malloc'd K2HBIN whose buffer was malloc'd.
    unsafe {
        libc::free((*pk2hbin).byptr as *mut c_void);
        libc::free(pk2hbin as *mut c_void);
    }
}

/// Free an array of `count` K2HBIN and their buffers.
#[no_mangle]
pub extern "C" fn free_k2hbins(pk2hbin: PK2HBIN, count: size_t) {
    if pk2hbin.is_null() {
        return;
    }
    // SAFETY: a malloc'd array of `count` K2HBIN whose buffers were malloc'd.
    unsafe {
        for i in 0..count {
            libc::free((*pk2hbin.add(i)).byptr as *mut c_void);
        }
        libc::free(pk2hbin as *mut c_void);
    }
}
