//! Get value (family F), get subkeys (G) and get attributes (H).
use crate::capi::ffi::*;
use crate::capi::types::*;
use crate::k2h::{K2h, Protect};
use libc::{c_char, c_int, c_void, size_t};

/// How a getter reads: attribute protection, pass phrase and an optional trial callback.
#[derive(Clone, Copy)]
struct Mode {
    protect: bool,
    pass: *const c_char,
    cb: k2h_get_trial_callback,
    ext: *mut c_void,
}

const PLAIN: Mode = Mode {
    protect: true,
    pass: std::ptr::null(),
    cb: None,
    ext: std::ptr::null_mut(),
};
const RAW: Mode = Mode {
    protect: false,
    pass: std::ptr::null(),
    cb: None,
    ext: std::ptr::null_mut(),
};

fn wp(pass: *const c_char) -> Mode {
    Mode { pass, ..PLAIN }
}
fn ext(protect: bool, pass: *const c_char, cb: k2h_get_trial_callback, e: *mut c_void) -> Mode {
    Mode {
        protect,
        pass,
        cb,
        ext: e,
    }
}

/// Read the value and return it malloc'd (pointer, length).
fn fetch(name: &str, h: k2h_h, key: &[u8], m: Mode) -> Option<(*mut u8, usize)> {
    // the index line of the read cache this thread used last starts to load now
    let ch = crate::rcache::prefetch_guess(key);
    let pass = opt_str(m.pass);
    let p = if m.protect {
        Protect::Yes(pass.as_deref())
    } else {
        Protect::No
    };
    if m.cb.is_none() {
        // read straight into the malloc'd result (from the read cache when it can)
        let mut out = MallocOut::default();
        return match with_handle(name, h, |k| k.get_out(key, ch, p, &mut out))? {
            Ok(Some(n)) => Some((out.take(), n)),
            Ok(None) => None,
            Err(e) => fail(name, e, None),
        };
    }
    let k = handle(name, h)?;
    let v = match k.get(key, p) {
        Ok(Some(v)) => v,
        Ok(None) => return None,
        Err(e) => return fail(name, e, None),
    };
    run_trial(name, &k, key, v, &m, pass.as_deref())
}

/// Hand the value to the trial callback and act on its answer.
fn run_trial(
    name: &str,
    k: &K2h,
    key: &[u8],
    v: Vec<u8>,
    m: &Mode,
    pass: Option<&str>,
) -> Option<(*mut u8, usize)> {
    // SAFETY: same ABI; the result is read as an int and matched, never as the enum.
    let cb = unsafe { std::mem::transmute::<k2h_get_trial_callback, Option<GetTrialRaw>>(m.cb) };
    let (cb, e, protect) = (cb?, m.ext, m.protect);
    let attrs = k.get_attrs(key).ok().flatten().unwrap_or_default();
    let ap = if attrs.is_empty() {
        std::ptr::null_mut()
    } else {
        malloc_attrpack(&attrs)
    };
    let mut nv: *mut u8 = std::ptr::null_mut();
    let mut nl: size_t = 0;
    // SAFETY: calling the caller's callback with valid buffers for the duration of the call.
    let r = unsafe {
        cb(
            key.as_ptr(),
            key.len(),
            v.as_ptr(),
            v.len(),
            &mut nv,
            &mut nl,
            ap,
            attrs.len() as c_int,
            e,
        )
    };
    free_attrpack(ap, attrs.len() as c_int);
    match r {
        1 if !nv.is_null() && nl > 0 => {
            // SAFETY: the callback returns a malloc'd buffer of `nl` bytes.
            let newv = unsafe { std::slice::from_raw_parts(nv, nl) };
            let pass = if protect { pass } else { None };
            if let Err(err) = k.set_value(key, newv, pass, None) {
                // SAFETY: the buffer is ours now and not handed back.
                unsafe { libc::free(nv as *mut c_void) };
                return fail(name, err, None);
            }
            Some((nv, nl))
        }
        // K2HGETCB_RES_ERROR, or anything not defined
        r if r != 0 && r != 1 => {
            if !nv.is_null() {
                // SAFETY: freeing the callback's malloc'd buffer.
                unsafe { libc::free(nv as *mut c_void) };
            }
            None
        }
        _ => {
            if !nv.is_null() {
                // SAFETY: freeing the callback's malloc'd buffer.
                unsafe { libc::free(nv as *mut c_void) };
            }
            Some((malloc_copy(&v), v.len()))
        }
    }
}

fn out_bin(
    name: &str,
    h: k2h_h,
    pkey: *const u8,
    keylen: size_t,
    ppval: *mut *mut u8,
    plen: *mut size_t,
    m: Mode,
) -> bool {
    guard(name, false, || {
        let Some(k) = key(pkey, keylen) else {
            return fail(name, "key is empty", false);
        };
        if ppval.is_null() || plen.is_null() {
            return fail(name, "output pointer is NULL", false);
        }
        set_out(ppval, std::ptr::null_mut());
        set_out(plen, 0);
        match fetch(name, h, k, m) {
            Some((p, l)) => {
                set_out(ppval, p);
                set_out(plen, l);
                true
            }
            None => false,
        }
    })
}

fn direct_bin(
    name: &str,
    h: k2h_h,
    pkey: *const u8,
    keylen: size_t,
    plen: *mut size_t,
    m: Mode,
) -> *mut u8 {
    let mut p = std::ptr::null_mut();
    if out_bin(name, h, pkey, keylen, &mut p, plen, m) {
        p
    } else {
        std::ptr::null_mut()
    }
}

fn out_str(name: &str, h: k2h_h, pkey: *const c_char, ppval: *mut *mut c_char, m: Mode) -> bool {
    guard(name, false, || {
        let Some(k) = str_key(pkey) else {
            return fail(name, "key is empty", false);
        };
        if ppval.is_null() {
            return fail(name, "output pointer is NULL", false);
        }
        set_out(ppval, std::ptr::null_mut());
        match fetch(name, h, k, m) {
            Some((p, _)) => {
                set_out(ppval, p as *mut c_char);
                true
            }
            None => false,
        }
    })
}

fn direct_str(name: &str, h: k2h_h, pkey: *const c_char, m: Mode) -> *mut c_char {
    let mut p = std::ptr::null_mut();
    if out_str(name, h, pkey, &mut p, m) {
        p
    } else {
        std::ptr::null_mut()
    }
}

#[no_mangle]
pub extern "C" fn k2h_get_value(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    ppval: *mut *mut u8,
    pvallength: *mut size_t,
) -> CBool {
    cbool(|| {
        out_bin(
            "k2h_get_value",
            handle,
            pkey,
            keylength,
            ppval,
            pvallength,
            PLAIN,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_direct_value(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pvallength: *mut size_t,
) -> *mut u8 {
    direct_bin(
        "k2h_get_direct_value",
        handle,
        pkey,
        keylength,
        pvallength,
        PLAIN,
    )
}
#[no_mangle]
pub extern "C" fn k2h_get_str_value(
    handle: k2h_h,
    pkey: *const c_char,
    ppval: *mut *mut c_char,
) -> CBool {
    cbool(|| out_str("k2h_get_str_value", handle, pkey, ppval, PLAIN))
}
#[no_mangle]
pub extern "C" fn k2h_get_str_direct_value(handle: k2h_h, pkey: *const c_char) -> *mut c_char {
    direct_str("k2h_get_str_direct_value", handle, pkey, PLAIN)
}
#[no_mangle]
pub extern "C" fn k2h_get_value_wp(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    ppval: *mut *mut u8,
    pvallength: *mut size_t,
    pass: *const c_char,
) -> CBool {
    cbool(|| {
        out_bin(
            "k2h_get_value_wp",
            handle,
            pkey,
            keylength,
            ppval,
            pvallength,
            wp(pass),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_direct_value_wp(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pvallength: *mut size_t,
    pass: *const c_char,
) -> *mut u8 {
    direct_bin(
        "k2h_get_direct_value_wp",
        handle,
        pkey,
        keylength,
        pvallength,
        wp(pass),
    )
}
#[no_mangle]
pub extern "C" fn k2h_get_str_value_wp(
    handle: k2h_h,
    pkey: *const c_char,
    ppval: *mut *mut c_char,
    pass: *const c_char,
) -> CBool {
    cbool(|| out_str("k2h_get_str_value_wp", handle, pkey, ppval, wp(pass)))
}
#[no_mangle]
pub extern "C" fn k2h_get_str_direct_value_wp(
    handle: k2h_h,
    pkey: *const c_char,
    pass: *const c_char,
) -> *mut c_char {
    direct_str("k2h_get_str_direct_value_wp", handle, pkey, wp(pass))
}
#[no_mangle]
pub extern "C" fn k2h_get_value_np(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    ppval: *mut *mut u8,
    pvallength: *mut size_t,
) -> CBool {
    cbool(|| {
        out_bin(
            "k2h_get_value_np",
            handle,
            pkey,
            keylength,
            ppval,
            pvallength,
            RAW,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_direct_value_np(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pvallength: *mut size_t,
) -> *mut u8 {
    direct_bin(
        "k2h_get_direct_value_np",
        handle,
        pkey,
        keylength,
        pvallength,
        RAW,
    )
}
#[no_mangle]
pub extern "C" fn k2h_get_str_value_np(
    handle: k2h_h,
    pkey: *const c_char,
    ppval: *mut *mut c_char,
) -> CBool {
    cbool(|| out_str("k2h_get_str_value_np", handle, pkey, ppval, RAW))
}
#[no_mangle]
pub extern "C" fn k2h_get_str_direct_value_np(handle: k2h_h, pkey: *const c_char) -> *mut c_char {
    direct_str("k2h_get_str_direct_value_np", handle, pkey, RAW)
}
#[no_mangle]
pub extern "C" fn k2h_get_value_ext(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    ppval: *mut *mut u8,
    pvallength: *mut size_t,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
) -> CBool {
    cbool(|| {
        out_bin(
            "k2h_get_value_ext",
            handle,
            pkey,
            keylength,
            ppval,
            pvallength,
            ext(true, std::ptr::null(), fp, pExtData),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_direct_value_ext(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pvallength: *mut size_t,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
) -> *mut u8 {
    direct_bin(
        "k2h_get_direct_value_ext",
        handle,
        pkey,
        keylength,
        pvallength,
        ext(true, std::ptr::null(), fp, pExtData),
    )
}
#[no_mangle]
pub extern "C" fn k2h_get_str_value_ext(
    handle: k2h_h,
    pkey: *const c_char,
    ppval: *mut *mut c_char,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
) -> CBool {
    cbool(|| {
        out_str(
            "k2h_get_str_value_ext",
            handle,
            pkey,
            ppval,
            ext(true, std::ptr::null(), fp, pExtData),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_str_direct_value_ext(
    handle: k2h_h,
    pkey: *const c_char,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
) -> *mut c_char {
    direct_str(
        "k2h_get_str_direct_value_ext",
        handle,
        pkey,
        ext(true, std::ptr::null(), fp, pExtData),
    )
}
#[no_mangle]
pub extern "C" fn k2h_get_value_wp_ext(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    ppval: *mut *mut u8,
    pvallength: *mut size_t,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
    pass: *const c_char,
) -> CBool {
    cbool(|| {
        out_bin(
            "k2h_get_value_wp_ext",
            handle,
            pkey,
            keylength,
            ppval,
            pvallength,
            ext(true, pass, fp, pExtData),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_direct_value_wp_ext(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pvallength: *mut size_t,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
    pass: *const c_char,
) -> *mut u8 {
    direct_bin(
        "k2h_get_direct_value_wp_ext",
        handle,
        pkey,
        keylength,
        pvallength,
        ext(true, pass, fp, pExtData),
    )
}
#[no_mangle]
pub extern "C" fn k2h_get_str_value_wp_ext(
    handle: k2h_h,
    pkey: *const c_char,
    ppval: *mut *mut c_char,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
    pass: *const c_char,
) -> CBool {
    cbool(|| {
        out_str(
            "k2h_get_str_value_wp_ext",
            handle,
            pkey,
            ppval,
            ext(true, pass, fp, pExtData),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_str_direct_value_wp_ext(
    handle: k2h_h,
    pkey: *const c_char,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
    pass: *const c_char,
) -> *mut c_char {
    direct_str(
        "k2h_get_str_direct_value_wp_ext",
        handle,
        pkey,
        ext(true, pass, fp, pExtData),
    )
}
#[no_mangle]
pub extern "C" fn k2h_get_value_np_ext(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    ppval: *mut *mut u8,
    pvallength: *mut size_t,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
) -> CBool {
    cbool(|| {
        out_bin(
            "k2h_get_value_np_ext",
            handle,
            pkey,
            keylength,
            ppval,
            pvallength,
            ext(false, std::ptr::null(), fp, pExtData),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_direct_value_np_ext(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pvallength: *mut size_t,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
) -> *mut u8 {
    direct_bin(
        "k2h_get_direct_value_np_ext",
        handle,
        pkey,
        keylength,
        pvallength,
        ext(false, std::ptr::null(), fp, pExtData),
    )
}
#[no_mangle]
pub extern "C" fn k2h_get_str_value_np_ext(
    handle: k2h_h,
    pkey: *const c_char,
    ppval: *mut *mut c_char,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
) -> CBool {
    cbool(|| {
        out_str(
            "k2h_get_str_value_np_ext",
            handle,
            pkey,
            ppval,
            ext(false, std::ptr::null(), fp, pExtData),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_str_direct_value_np_ext(
    handle: k2h_h,
    pkey: *const c_char,
    fp: k2h_get_trial_callback,
    pExtData: *mut c_void,
) -> *mut c_char {
    direct_str(
        "k2h_get_str_direct_value_np_ext",
        handle,
        pkey,
        ext(false, std::ptr::null(), fp, pExtData),
    )
}

// ---------------------------------------------------------------- subkeys (G)

fn subkeys(name: &str, h: k2h_h, k: &[u8], protect: bool) -> Option<Vec<Vec<u8>>> {
    let kh = handle(name, h)?;
    match kh.get_subkeys(k, protect) {
        Ok(v) => v,
        Err(e) => fail(name, e, None),
    }
}

fn subkeys_pack(
    name: &str,
    h: k2h_h,
    pkey: *const u8,
    keylen: size_t,
    pp: *mut PK2HKEYPCK,
    pcnt: *mut c_int,
    protect: bool,
) -> bool {
    guard(name, false, || {
        let Some(k) = key(pkey, keylen) else {
            return fail(name, "key is empty", false);
        };
        if pp.is_null() || pcnt.is_null() {
            return fail(name, "output pointer is NULL", false);
        }
        set_out(pp, std::ptr::null_mut());
        set_out(pcnt, 0);
        match subkeys(name, h, k, protect) {
            Some(v) => {
                set_out(pp, malloc_keypack(&v));
                set_out(pcnt, v.len() as c_int);
                true
            }
            None => false,
        }
    })
}

fn subkeys_direct(
    name: &str,
    h: k2h_h,
    pkey: *const u8,
    keylen: size_t,
    pcnt: *mut c_int,
    protect: bool,
) -> PK2HKEYPCK {
    let mut p = std::ptr::null_mut();
    if subkeys_pack(name, h, pkey, keylen, &mut p, pcnt, protect) {
        p
    } else {
        std::ptr::null_mut()
    }
}

fn subkeys_str(
    name: &str,
    h: k2h_h,
    pkey: *const c_char,
    pp: *mut *mut *mut c_char,
    protect: bool,
) -> c_int {
    guard(name, -1, || {
        let Some(k) = str_key(pkey) else {
            return fail(name, "key is empty", -1);
        };
        if pp.is_null() {
            return fail(name, "output pointer is NULL", -1);
        }
        set_out(pp, std::ptr::null_mut());
        match subkeys(name, h, k, protect) {
            Some(v) => {
                set_out(pp, malloc_strarray(&v));
                v.len() as c_int
            }
            None => -1,
        }
    })
}

fn subkeys_str_direct(
    name: &str,
    h: k2h_h,
    pkey: *const c_char,
    protect: bool,
) -> *mut *mut c_char {
    let mut p = std::ptr::null_mut();
    if subkeys_str(name, h, pkey, &mut p, protect) > 0 {
        p
    } else {
        std::ptr::null_mut()
    }
}

#[no_mangle]
pub extern "C" fn k2h_get_subkeys(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    ppskeypck: *mut PK2HKEYPCK,
    pskeypckcnt: *mut c_int,
) -> CBool {
    cbool(|| {
        subkeys_pack(
            "k2h_get_subkeys",
            handle,
            pkey,
            keylength,
            ppskeypck,
            pskeypckcnt,
            true,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_direct_subkeys(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pskeypckcnt: *mut c_int,
) -> PK2HKEYPCK {
    subkeys_direct(
        "k2h_get_direct_subkeys",
        handle,
        pkey,
        keylength,
        pskeypckcnt,
        true,
    )
}
#[no_mangle]
pub extern "C" fn k2h_get_str_subkeys(
    handle: k2h_h,
    pkey: *const c_char,
    ppskeyarray: *mut *mut *mut c_char,
) -> c_int {
    subkeys_str("k2h_get_str_subkeys", handle, pkey, ppskeyarray, true)
}
#[no_mangle]
pub extern "C" fn k2h_get_str_direct_subkeys(
    handle: k2h_h,
    pkey: *const c_char,
) -> *mut *mut c_char {
    subkeys_str_direct("k2h_get_str_direct_subkeys", handle, pkey, true)
}
#[no_mangle]
pub extern "C" fn k2h_get_subkeys_np(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    ppskeypck: *mut PK2HKEYPCK,
    pskeypckcnt: *mut c_int,
) -> CBool {
    cbool(|| {
        subkeys_pack(
            "k2h_get_subkeys_np",
            handle,
            pkey,
            keylength,
            ppskeypck,
            pskeypckcnt,
            false,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_direct_subkeys_np(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pskeypckcnt: *mut c_int,
) -> PK2HKEYPCK {
    subkeys_direct(
        "k2h_get_direct_subkeys_np",
        handle,
        pkey,
        keylength,
        pskeypckcnt,
        false,
    )
}
#[no_mangle]
pub extern "C" fn k2h_get_str_subkeys_np(
    handle: k2h_h,
    pkey: *const c_char,
    ppskeyarray: *mut *mut *mut c_char,
) -> c_int {
    subkeys_str("k2h_get_str_subkeys_np", handle, pkey, ppskeyarray, false)
}
#[no_mangle]
pub extern "C" fn k2h_get_str_direct_subkeys_np(
    handle: k2h_h,
    pkey: *const c_char,
) -> *mut *mut c_char {
    subkeys_str_direct("k2h_get_str_direct_subkeys_np", handle, pkey, false)
}

/// Free a K2HKEYPCK array and its keys.
#[no_mangle]
pub extern "C" fn k2h_free_keypack(pkeys: PK2HKEYPCK, keycnt: c_int) -> CBool {
    cbool(|| {
        if pkeys.is_null() || keycnt <= 0 {
            return true;
        }
        // SAFETY: the array and keys were malloc'd by us (or the caller) with this shape.
        unsafe {
            for i in 0..keycnt as usize {
                libc::free((*pkeys.add(i)).pkey as *mut c_void);
            }
            libc::free(pkeys as *mut c_void);
        }
        true
    })
}

/// Free a NULL-terminated string array and its strings.
#[no_mangle]
pub extern "C" fn k2h_free_keyarray(pkeys: *mut *mut c_char) -> CBool {
    cbool(|| {
        if pkeys.is_null() {
            return true;
        }
        // SAFETY: NULL-terminated array of malloc'd strings.
        unsafe {
            let mut i = 0;
            while !(*pkeys.add(i)).is_null() {
                libc::free(*pkeys.add(i) as *mut c_void);
                i += 1;
            }
            libc::free(pkeys as *mut c_void);
        }
        true
    })
}

// ---------------------------------------------------------------- attributes (H)

fn attrs_pack(
    name: &str,
    h: k2h_h,
    k: Option<&[u8]>,
    pp: *mut PK2HATTRPCK,
    pcnt: *mut c_int,
) -> bool {
    guard(name, false, || {
        let Some(k) = k else {
            return fail(name, "key is empty", false);
        };
        if pp.is_null() || pcnt.is_null() {
            return fail(name, "output pointer is NULL", false);
        }
        set_out(pp, std::ptr::null_mut());
        set_out(pcnt, 0);
        let Some(kh) = handle(name, h) else {
            return false;
        };
        match kh.get_attrs(k) {
            Ok(Some(v)) => {
                set_out(pp, malloc_attrpack(&v));
                set_out(pcnt, v.len() as c_int);
                true
            }
            Ok(None) => false,
            Err(e) => fail(name, e, false),
        }
    })
}

#[no_mangle]
pub extern "C" fn k2h_get_attrs(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    ppattrspck: *mut PK2HATTRPCK,
    pattrspckcnt: *mut c_int,
) -> CBool {
    cbool(|| {
        attrs_pack(
            "k2h_get_attrs",
            handle,
            key(pkey, keylength),
            ppattrspck,
            pattrspckcnt,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_get_direct_attrs(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pattrspckcnt: *mut c_int,
) -> PK2HATTRPCK {
    let mut p = std::ptr::null_mut();
    if attrs_pack(
        "k2h_get_direct_attrs",
        handle,
        key(pkey, keylength),
        &mut p,
        pattrspckcnt,
    ) {
        p
    } else {
        std::ptr::null_mut()
    }
}
#[no_mangle]
pub extern "C" fn k2h_get_str_direct_attrs(
    handle: k2h_h,
    pkey: *const c_char,
    pattrspckcnt: *mut c_int,
) -> PK2HATTRPCK {
    if pkey.is_null() {
        return std::ptr::null_mut();
    }
    let mut p = std::ptr::null_mut();
    if attrs_pack(
        "k2h_get_str_direct_attrs",
        handle,
        str_key(pkey),
        &mut p,
        pattrspckcnt,
    ) {
        p
    } else {
        std::ptr::null_mut()
    }
}

/// Free a K2HATTRPCK array and its names and values.
#[no_mangle]
pub extern "C" fn k2h_free_attrpack(pattrs: PK2HATTRPCK, attrcnt: c_int) -> CBool {
    cbool(|| {
        free_attrpack(pattrs, attrcnt);
        true
    })
}

fn free_attrpack(p: PK2HATTRPCK, cnt: c_int) {
    if p.is_null() || cnt <= 0 {
        return;
    }
    // SAFETY: array of `cnt` packs whose buffers were malloc'd.
    unsafe {
        for i in 0..cnt as usize {
            libc::free((*p.add(i)).pkey as *mut c_void);
            libc::free((*p.add(i)).pval as *mut c_void);
        }
        libc::free(p as *mut c_void);
    }
}
