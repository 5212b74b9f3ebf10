//! A hash library (`k2h_hash`, `k2h_second_hash`, `k2h_hash_version`) replacing FNV-1a for key
//! hashes and chmpxids. The original passed these calls to libk2hash; we load the library
//! ourselves and, when libk2hash is in the process too, pass the call on so both libraries hash
//! alike.
use std::ffi::CString;
use std::sync::Mutex;

use libc::{c_char, c_void};

use crate::capi::ffi::{self, guard_bool, CBool, Lib};

static LOADED: Mutex<Option<Lib>> = Mutex::new(None);

fn loaded() -> std::sync::MutexGuard<'static, Option<Lib>> {
    LOADED.lock().unwrap_or_else(|e| e.into_inner())
}

/// libk2hash's function `name`, when libk2hash (not this library) is loaded in the process.
fn libk2hash_fn(name: &std::ffi::CStr) -> *mut c_void {
    let f = ffi::dl_default(name);
    if f.is_null()
        || k2hash_hash::same_object(f, chmpx_load_hash_library as *const () as *mut c_void)
    {
        return std::ptr::null_mut();
    }
    f
}

fn unload_own() {
    k2hash_hash::set_loaded(None);
    if let Some(l) = loaded().take() {
        ffi::dl_close(l);
    }
}

fn load_own(path: &CString) -> bool {
    unload_own();
    let shown = path.to_string_lossy();
    let Some(lib) = ffi::dl_open(path) else {
        log::error!("chmpx_load_hash_library: cannot load {shown}");
        return false;
    };
    let funcs = ffi::hash_funcs(
        ffi::dl_sym(&lib, c"k2h_hash"),
        ffi::dl_sym(&lib, c"k2h_second_hash"),
        ffi::dl_sym(&lib, c"k2h_hash_version"),
    );
    match funcs {
        Some(f) => {
            k2hash_hash::set_loaded(Some(f));
            *loaded() = Some(lib);
            true
        }
        None => {
            log::error!("chmpx_load_hash_library: {shown} lacks k2h_hash, k2h_second_hash or k2h_hash_version");
            ffi::dl_close(lib);
            false
        }
    }
}

/// Loads a hash library; false for NULL/"" or a library without the three functions.
#[no_mangle]
pub extern "C" fn chmpx_load_hash_library(libpath: *const c_char) -> CBool {
    guard_bool("chmpx_load_hash_library", || {
        let Some(path) = ffi::cstr_bytes(libpath)
            .filter(|b| !b.is_empty())
            .and_then(|b| CString::new(b).ok())
        else {
            log::error!("chmpx_load_hash_library: the library path is empty");
            return false;
        };
        if !load_own(&path) {
            return false;
        }
        let k2h = libk2hash_fn(c"k2h_load_hash_library");
        if !k2h.is_null() && !ffi::call_load_library(k2h, &path) {
            log::error!("chmpx_load_hash_library: libk2hash could not load it");
            unload_own();
            return false;
        }
        true
    })
}

/// Back to the built-in FNV-1a (in libk2hash too, when it is loaded).
#[no_mangle]
pub extern "C" fn chmpx_unload_hash_library() -> CBool {
    guard_bool("chmpx_unload_hash_library", || {
        unload_own();
        let k2h = libk2hash_fn(c"k2h_unload_hash_library");
        if !k2h.is_null() {
            ffi::call_unload_library(k2h);
        }
        true
    })
}
