//! Transactions, archives and the transaction thread pool (family D), and the hash and
//! transaction plugin libraries (family B).
use crate::capi::ffi::*;
use crate::capi::transfunc::{transaction_option, PBCOM, PTRANSOPT};
use crate::capi::types::*;
use crate::hash::{HashFn, HashFuncs, VersionFn};
use crate::trans::{self, TransOpt, POOL_SIZE, RUNNING_POOLS};
use libc::{c_char, c_int, c_void, size_t, time_t};
use parking_lot::Mutex;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

type TransFn = unsafe extern "C" fn(k2h_h, PBCOM) -> bool;
type CntlFn = unsafe extern "C" fn(k2h_h, PTRANSOPT) -> bool;

#[derive(Clone, Copy)]
struct TransFns {
    trans: TransFn,
    cntl: CntlFn,
}

/// A dlopen'ed library (the handle is only passed back to dlclose).
pub(crate) struct Lib(pub(crate) usize);

static HASH_DL: Mutex<Option<Lib>> = parking_lot::const_mutex(None);
static TRANS_DL: Mutex<Option<(Lib, TransFns)>> = parking_lot::const_mutex(None);

/// dlopen `path` and look up `names`; None (and nothing kept open) on any failure.
pub(crate) fn dl_load(
    name: &str,
    path: *const c_char,
    names: &[&std::ffi::CStr],
) -> Option<(Lib, Vec<*mut c_void>)> {
    let Some(p) = opt_str(path) else {
        return fail(name, "library path is empty", None);
    };
    let Ok(cp) = std::ffi::CString::new(p.clone()) else {
        return None;
    };
    // SAFETY: dlopen/dlsym with valid C strings; the handle is closed again on failure.
    unsafe {
        let h = libc::dlopen(cp.as_ptr(), libc::RTLD_LAZY);
        if h.is_null() {
            return fail(name, format!("cannot load {p}"), None);
        }
        let mut syms = Vec::new();
        for n in names {
            let s = libc::dlsym(h, n.as_ptr());
            if s.is_null() {
                libc::dlclose(h);
                return fail(name, format!("{p} has no {}", n.to_string_lossy()), None);
            }
            syms.push(s);
        }
        Some((Lib(h as usize), syms))
    }
}

pub(crate) fn dl_close(l: Lib) {
    // SAFETY: closing a handle returned by dlopen, once.
    unsafe { libc::dlclose(l.0 as *mut c_void) };
}

/// Transaction functions defined by the program itself, if any.
fn interposed() -> Option<TransFns> {
    static CELL: OnceLock<Option<TransFns>> = OnceLock::new();
    *CELL.get_or_init(|| {
        // SAFETY: dlsym lookups by constant names; our own definitions are told apart by the
        // object that contains them.
        unsafe {
            let t = libc::dlsym(libc::RTLD_DEFAULT, c"k2h_trans".as_ptr());
            let c = libc::dlsym(libc::RTLD_DEFAULT, c"k2h_trans_cntl".as_ptr());
            if t.is_null()
                || c.is_null()
                || crate::hash::same_object(t, interposed as *const () as *mut c_void)
            {
                return None;
            }
            Some(TransFns {
                trans: std::mem::transmute::<*mut c_void, TransFn>(t),
                cntl: std::mem::transmute::<*mut c_void, CntlFn>(c),
            })
        }
    })
}

fn active() -> Option<TransFns> {
    TRANS_DL
        .lock()
        .as_ref()
        .map(|(_, f)| *f)
        .or_else(interposed)
}

/// Route records to the external transaction function in effect (or the built-in sink).
fn refresh_sink() {
    *trans::EXTERNAL.write() = active().map(|f| {
        Box::new(move |h: u64, rec: &[u8]| {
            // SAFETY: the record buffer outlives the call; the function only reads it.
            unsafe { (f.trans)(h, rec.as_ptr() as PBCOM) }
        }) as Box<trans::Sink>
    });
}

// ---------------------------------------------------------------- family B

#[no_mangle]
pub extern "C" fn k2h_load_hash_library(libpath: *const c_char) -> CBool {
    cbool(|| {
        let name = "k2h_load_hash_library";
        guard(name, false, || {
            if opt_str(libpath).is_none() {
                return fail(name, "library path is empty", false);
            }
            k2h_unload_hash_library();
            let Some((lib, s)) = dl_load(
                name,
                libpath,
                &[c"k2h_hash", c"k2h_second_hash", c"k2h_hash_version"],
            ) else {
                return false;
            };
            // SAFETY: the symbols have the documented prototypes of k2hashfunc.h.
            let f = unsafe {
                HashFuncs {
                    hash: std::mem::transmute::<*mut c_void, HashFn>(s[0]),
                    second: std::mem::transmute::<*mut c_void, HashFn>(s[1]),
                    version: std::mem::transmute::<*mut c_void, VersionFn>(s[2]),
                }
            };
            crate::hash::set_loaded(Some(f));
            *HASH_DL.lock() = Some(lib);
            true
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_unload_hash_library() -> CBool {
    cbool(|| {
        guard("k2h_unload_hash_library", true, || {
            crate::hash::set_loaded(None);
            if let Some(l) = HASH_DL.lock().take() {
                dl_close(l);
            }
            true
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_load_transaction_library(libpath: *const c_char) -> CBool {
    cbool(|| {
        let name = "k2h_load_transaction_library";
        guard(name, false, || {
            if opt_str(libpath).is_none() {
                return fail(name, "library path is empty", false);
            }
            k2h_unload_transaction_library();
            let Some((lib, s)) = dl_load(
                name,
                libpath,
                &[c"k2h_trans", c"k2h_trans_version", c"k2h_trans_cntl"],
            ) else {
                return false;
            };
            // SAFETY: the symbols have the documented prototypes of k2htransfunc.h.
            let f = unsafe {
                TransFns {
                    trans: std::mem::transmute::<*mut c_void, TransFn>(s[0]),
                    cntl: std::mem::transmute::<*mut c_void, CntlFn>(s[2]),
                }
            };
            *TRANS_DL.lock() = Some((lib, f));
            refresh_sink();
            true
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_unload_transaction_library() -> CBool {
    cbool(|| {
        guard("k2h_unload_transaction_library", true, || {
            let old = TRANS_DL.lock().take();
            refresh_sink();
            if let Some((l, _)) = old {
                dl_close(l);
            }
            true
        })
    })
}

// ---------------------------------------------------------------- family D

fn copy_into(dst: &mut [u8], src: &[u8]) -> usize {
    let n = src.len().min(dst.len());
    dst[..n].copy_from_slice(&src[..n]);
    n
}

/// Ask the control hook in effect (external or built-in) to accept this change.
fn control(h: k2h_h, enable: bool, o: &TransOpt) -> bool {
    let mut t: Box<transaction_option> = Box::new(transaction_option {
        szFilePath: [0; trans::MAX_FILEPATH],
        isEnable: enable,
        byTransPrefix: [0; trans::MAX_PREFIX],
        PrefixLength: 0,
        byTransParam: [0; trans::MAX_PARAM],
        ParamLength: 0,
    });
    if let Some(p) = &o.path {
        let b = p.as_os_str().as_encoded_bytes();
        let n = b.len().min(trans::MAX_FILEPATH - 1);
        for (d, s) in t.szFilePath.iter_mut().zip(&b[..n]) {
            *d = *s as c_char;
        }
    }
    t.PrefixLength = copy_into(&mut t.byTransPrefix, &o.prefix);
    t.ParamLength = copy_into(&mut t.byTransParam, &o.param);
    match active() {
        // SAFETY: a complete TRANSOPT that lives for the call.
        Some(f) => unsafe { (f.cntl)(h, &mut *t) },
        // SAFETY: as above, our own implementation.
        None => unsafe { crate::capi::transfunc::k2h_trans_cntl(h, &mut *t) }.get(),
    }
}

#[no_mangle]
pub extern "C" fn k2h_transaction_param_we(
    handle: k2h_h,
    enable: bool,
    transfile: *const c_char,
    pprefix: *const u8,
    prefixlen: size_t,
    pparam: *const u8,
    paramlen: size_t,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        let name = "k2h_transaction_param_we";
        guard(name, false, || {
            let Some(k) = crate::capi::ffi::handle(name, handle) else {
                return false;
            };
            refresh_sink();
            if !enable {
                let o = k.trans.options().unwrap_or_default();
                control(handle, false, &o);
                crate::transpool::stop_pool(&k, 10_000);
                k.trans.disable();
                return true;
            }
            let path = opt_str(transfile);
            if path
                .as_ref()
                .map(|p| p.len() >= trans::MAX_FILEPATH)
                .unwrap_or(false)
            {
                return fail(name, "transaction file path is too long", false);
            }
            // SAFETY: non-NULL pointer to a time_t supplied by the caller.
            let exp = (!expire.is_null())
                .then(|| unsafe { *expire })
                .filter(|&e| e > 0);
            let pre = key(pprefix, prefixlen).unwrap_or(&[]);
            let par = key(pparam, paramlen).unwrap_or(&[]);
            let o = TransOpt {
                path: path.map(Into::into),
                prefix: pre[..pre.len().min(trans::MAX_PREFIX)].to_vec(),
                param: par[..par.len().min(trans::MAX_PARAM)].to_vec(),
                expire: exp,
            };
            if !control(handle, true, &o) {
                return fail(name, "the transaction control function refused", false);
            }
            crate::transpool::stop_pool(&k, 0);
            if let Err(e) = k.trans.enable(o) {
                return fail(name, e, false);
            }
            crate::transpool::start_pool(&k);
            true
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_transaction(handle: k2h_h, enable: bool, transfile: *const c_char) -> CBool {
    k2h_transaction_param_we(
        handle,
        enable,
        transfile,
        std::ptr::null(),
        0,
        std::ptr::null(),
        0,
        std::ptr::null(),
    )
}
#[no_mangle]
pub extern "C" fn k2h_transaction_prefix(
    handle: k2h_h,
    enable: bool,
    transfile: *const c_char,
    pprefix: *const u8,
    prefixlen: size_t,
) -> CBool {
    k2h_transaction_param_we(
        handle,
        enable,
        transfile,
        pprefix,
        prefixlen,
        std::ptr::null(),
        0,
        std::ptr::null(),
    )
}
#[no_mangle]
pub extern "C" fn k2h_transaction_param(
    handle: k2h_h,
    enable: bool,
    transfile: *const c_char,
    pprefix: *const u8,
    prefixlen: size_t,
    pparam: *const u8,
    paramlen: size_t,
) -> CBool {
    k2h_transaction_param_we(
        handle,
        enable,
        transfile,
        pprefix,
        prefixlen,
        pparam,
        paramlen,
        std::ptr::null(),
    )
}
#[no_mangle]
pub extern "C" fn k2h_enable_transaction(handle: k2h_h, transfile: *const c_char) -> CBool {
    k2h_transaction_param_we(
        handle,
        true,
        transfile,
        std::ptr::null(),
        0,
        std::ptr::null(),
        0,
        std::ptr::null(),
    )
}
#[no_mangle]
pub extern "C" fn k2h_enable_transaction_prefix(
    handle: k2h_h,
    transfile: *const c_char,
    pprefix: *const u8,
    prefixlen: size_t,
) -> CBool {
    k2h_transaction_param_we(
        handle,
        true,
        transfile,
        pprefix,
        prefixlen,
        std::ptr::null(),
        0,
        std::ptr::null(),
    )
}
#[no_mangle]
pub extern "C" fn k2h_enable_transaction_param(
    handle: k2h_h,
    transfile: *const c_char,
    pprefix: *const u8,
    prefixlen: size_t,
    pparam: *const u8,
    paramlen: size_t,
) -> CBool {
    k2h_transaction_param_we(
        handle,
        true,
        transfile,
        pprefix,
        prefixlen,
        pparam,
        paramlen,
        std::ptr::null(),
    )
}
#[no_mangle]
pub extern "C" fn k2h_enable_transaction_param_we(
    handle: k2h_h,
    transfile: *const c_char,
    pprefix: *const u8,
    prefixlen: size_t,
    pparam: *const u8,
    paramlen: size_t,
    expire: *const time_t,
) -> CBool {
    k2h_transaction_param_we(
        handle, true, transfile, pprefix, prefixlen, pparam, paramlen, expire,
    )
}
#[no_mangle]
pub extern "C" fn k2h_disable_transaction(handle: k2h_h) -> CBool {
    k2h_transaction_param_we(
        handle,
        false,
        std::ptr::null(),
        std::ptr::null(),
        0,
        std::ptr::null(),
        0,
        std::ptr::null(),
    )
}

#[no_mangle]
pub extern "C" fn k2h_get_transaction_archive_fd(handle: k2h_h) -> c_int {
    guard(
        "k2h_get_transaction_archive_fd",
        -1,
        || match crate::capi::ffi::handle("k2h_get_transaction_archive_fd", handle) {
            Some(k) => k.trans.fd(),
            None => -1,
        },
    )
}

fn archive_op(
    name: &str,
    h: k2h_h,
    path: *const c_char,
    f: impl FnOnce(&crate::K2h, &std::path::Path) -> crate::Result<()>,
) -> bool {
    guard(name, false, || {
        let Some(p) = crate::capi::ffi::path(path) else {
            return fail(name, "archive path is empty", false);
        };
        let Some(k) = crate::capi::ffi::handle(name, h) else {
            return false;
        };
        match f(&k, &p) {
            Ok(()) => true,
            Err(e) => fail(name, e, false),
        }
    })
}

#[no_mangle]
pub extern "C" fn k2h_load_archive(handle: k2h_h, filepath: *const c_char, errskip: bool) -> CBool {
    cbool(|| {
        archive_op("k2h_load_archive", handle, filepath, |k, p| {
            crate::archive::load_archive(k, p, errskip)
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_put_archive(handle: k2h_h, filepath: *const c_char, errskip: bool) -> CBool {
    cbool(|| {
        archive_op("k2h_put_archive", handle, filepath, |k, p| {
            crate::archive::put_archive(k, p, errskip)
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_get_transaction_thread_pool() -> c_int {
    POOL_SIZE.load(Ordering::Acquire)
}

#[no_mangle]
pub extern "C" fn k2h_set_transaction_thread_pool(count: c_int) -> CBool {
    cbool(|| {
        if !(0..=trans::MAX_POOL).contains(&count) {
            return fail(
                "k2h_set_transaction_thread_pool",
                "pool size must be 0..64",
                false,
            );
        }
        if RUNNING_POOLS.load(Ordering::Acquire) > 0 {
            return fail(
                "k2h_set_transaction_thread_pool",
                "transaction threads are running",
                false,
            );
        }
        POOL_SIZE.store(count, Ordering::Release);
        true
    })
}

#[no_mangle]
pub extern "C" fn k2h_unset_transaction_thread_pool() -> CBool {
    k2h_set_transaction_thread_pool(0)
}
