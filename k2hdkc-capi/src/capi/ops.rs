//! One function per form of the C API (spec Appendix A), on a session; build.rs exports each
//! implemented form in its four session variants. Conventions (spec §1.0, §1.3): a primitive
//! request returns true whenever a well-formed answer arrived, even an error (the code tells);
//! the `_str` and `_direct` getters return false/NULL when there is no value; `_str` arguments
//! are sent with their NUL; `_np` reads without attribute checks, `_wp` with a pass phrase.
use libc::{c_char, c_uchar, c_void};

use k2hdkc_wire::*;

use crate::capi::ffi::{self, bytes, cstr_nul, malloc_copy, set_out, text};
use crate::capi::session::Session;

fn req(t: u64, body: Body) -> Message {
    Message {
        head: Head::request(t, 0),
        body,
    }
}

/// GET: Some(value) (empty when none) once an answer arrived.
fn get(s: &mut Session, key: &[u8], check_attr: bool, pass: Option<String>) -> Option<Vec<u8>> {
    if key.is_empty() {
        return None;
    }
    let mut encpass = pass.map(|p| p.into_bytes()).unwrap_or_default();
    if !encpass.is_empty() {
        encpass.push(0);
    }
    let body = Body::Get(GetReq {
        key: key.to_vec(),
        encpass,
        check_attr,
    });
    let answer = s.request(&req(DKC_COM_GET, body), key)?;
    Some(match answer.body {
        Body::Val(v) if res_is_success(answer.head.restype) => v.val,
        _ => Vec::new(),
    })
}

fn get_bin(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    check: bool,
    pass: Option<String>,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    let Some(key) = bytes(pkey, keylength) else {
        return false;
    };
    let Some(v) = get(s, key, check, pass) else {
        return false;
    };
    if v.is_empty() {
        set_out(ppval, std::ptr::null_mut());
        set_out(pvallength, 0);
    } else {
        set_out(ppval, malloc_copy(&v));
        set_out(pvallength, v.len());
    }
    true
}

fn get_direct_bin(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    check: bool,
    pass: Option<String>,
    pvallength: *mut usize,
) -> *mut c_uchar {
    let Some(key) = bytes(pkey, keylength) else {
        return std::ptr::null_mut();
    };
    match get(s, key, check, pass) {
        Some(v) if !v.is_empty() => {
            set_out(pvallength, v.len());
            malloc_copy(&v)
        }
        _ => std::ptr::null_mut(),
    }
}

fn get_str(
    s: &mut Session,
    pkey: *mut c_char,
    check: bool,
    pass: Option<String>,
    ppval: *mut *mut c_char,
) -> bool {
    let p = get_str_direct(s, pkey, check, pass);
    if p.is_null() {
        return false;
    }
    set_out(ppval, p);
    true
}

fn get_str_direct(
    s: &mut Session,
    pkey: *mut c_char,
    check: bool,
    pass: Option<String>,
) -> *mut c_char {
    let Some(key) = cstr_nul(pkey) else {
        return std::ptr::null_mut();
    };
    match get(s, key, check, pass) {
        Some(v) if !v.is_empty() => malloc_copy(&v) as *mut c_char,
        _ => std::ptr::null_mut(),
    }
}

/// SET: true once an answer arrived.
fn set(
    s: &mut Session,
    key: &[u8],
    val: &[u8],
    rmsubkeylist: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    if key.is_empty() {
        return false;
    }
    let mut pass = text(encpass).map(|p| p.into_bytes()).unwrap_or_default();
    if !pass.is_empty() {
        pass.push(0);
    }
    let ex = ffi::read_opt(expire as *const i64);
    let body = Body::Set(SetReq {
        key: key.to_vec(),
        val: val.to_vec(),
        encpass: pass,
        expire: ex.unwrap_or(0),
        enable_expire: ex.is_some(),
        rm_subkeylist: rmsubkeylist,
        ..SetReq::default()
    });
    s.request(&req(DKC_COM_SET, body), key).is_some()
}

fn simple(s: &mut Session, t: u64, body: Body, key: &[u8]) -> bool {
    !key.is_empty() && s.request(&req(t, body), key).is_some()
}

fn del(s: &mut Session, key: &[u8]) -> bool {
    simple(s, DKC_COM_DEL, Body::Del(DelReq { key: key.to_vec() }), key)
}

fn ren(s: &mut Session, old: &[u8], new: &[u8]) -> bool {
    if new.is_empty() {
        return false;
    }
    let body = Body::Ren(RenReq {
        oldkey: old.to_vec(),
        newkey: new.to_vec(),
        encpass: Vec::new(),
        check_attr: true,
    });
    simple(s, DKC_COM_REN, body, old)
}

fn cas_init(s: &mut Session, key: &[u8], val: &[u8]) -> bool {
    let body = Body::CasInit(CasInitReq {
        key: key.to_vec(),
        val: val.to_vec(),
        ..CasInitReq::default()
    });
    simple(s, DKC_COM_CAS_INIT, body, key)
}

/// CAS_GET: the stored bytes if there are exactly `n` of them.
fn cas_get(s: &mut Session, key: &[u8], n: usize) -> Option<Vec<u8>> {
    if key.is_empty() {
        return None;
    }
    let body = Body::CasGet(CasGetReq {
        key: key.to_vec(),
        encpass: Vec::new(),
        check_attr: true,
    });
    let a = s.request(&req(DKC_COM_CAS_GET, body), key)?;
    match a.body {
        Body::Val(v) if res_is_success(a.head.restype) && v.val.len() == n => Some(v.val),
        _ => None,
    }
}

fn cas_set(s: &mut Session, key: &[u8], old: &[u8], new: &[u8]) -> bool {
    let body = Body::CasSet(CasSetReq {
        key: key.to_vec(),
        oldval: old.to_vec(),
        newval: new.to_vec(),
        check_attr: true,
        ..CasSetReq::default()
    });
    simple(s, DKC_COM_CAS_SET, body, key)
}

fn cas_incdec(s: &mut Session, key: &[u8], up: bool) -> bool {
    let body = Body::CasIncDec(CasIncDecReq {
        key: key.to_vec(),
        check_attr: true,
        increment: up,
        ..CasIncDecReq::default()
    });
    simple(s, DKC_COM_CAS_INCDEC, body, key)
}

fn kb<'a>(pkey: *mut c_uchar, len: usize) -> &'a [u8] {
    bytes(pkey, len).unwrap_or(&[])
}

fn ks<'a>(pkey: *mut c_char) -> &'a [u8] {
    cstr_nul(pkey).unwrap_or(&[])
}

#[allow(dead_code)]
fn unused(_: *mut c_void) {}

// ---- the forms
pub fn get_value(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    get_bin(s, pkey, keylength, true, None, ppval, pvallength)
}

pub fn get_direct_value(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pvallength: *mut usize,
) -> *mut c_uchar {
    get_direct_bin(s, pkey, keylength, true, None, pvallength)
}

pub fn get_str_value(s: &mut Session, pkey: *mut c_char, ppval: *mut *mut c_char) -> bool {
    get_str(s, pkey, true, None, ppval)
}

pub fn get_str_direct_value(s: &mut Session, pkey: *mut c_char) -> *mut c_char {
    get_str_direct(s, pkey, true, None)
}

pub fn get_value_wp(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    encpass: *mut c_char,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    get_bin(s, pkey, keylength, true, text(encpass), ppval, pvallength)
}

pub fn get_direct_value_wp(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    encpass: *mut c_char,
    pvallength: *mut usize,
) -> *mut c_uchar {
    get_direct_bin(s, pkey, keylength, true, text(encpass), pvallength)
}

pub fn get_str_value_wp(
    s: &mut Session,
    pkey: *mut c_char,
    encpass: *mut c_char,
    ppval: *mut *mut c_char,
) -> bool {
    get_str(s, pkey, true, text(encpass), ppval)
}

pub fn get_str_direct_value_wp(
    s: &mut Session,
    pkey: *mut c_char,
    encpass: *mut c_char,
) -> *mut c_char {
    get_str_direct(s, pkey, true, text(encpass))
}

pub fn get_value_np(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    get_bin(s, pkey, keylength, false, None, ppval, pvallength)
}

pub fn get_direct_value_np(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pvallength: *mut usize,
) -> *mut c_uchar {
    get_direct_bin(s, pkey, keylength, false, None, pvallength)
}

pub fn get_str_value_np(s: &mut Session, pkey: *mut c_char, ppval: *mut *mut c_char) -> bool {
    get_str(s, pkey, false, None, ppval)
}

pub fn get_str_direct_value_np(s: &mut Session, pkey: *mut c_char) -> *mut c_char {
    get_str_direct(s, pkey, false, None)
}

pub fn set_value(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pval: *mut c_uchar,
    vallength: usize,
) -> bool {
    let Some(v) = bytes(pval, vallength) else {
        return false;
    };
    set(
        s,
        kb(pkey, keylength),
        v,
        false,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn set_str_value(s: &mut Session, pkey: *mut c_char, pval: *mut c_char) -> bool {
    set(
        s,
        ks(pkey),
        ks(pval),
        false,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn set_value_wa(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    rmsubkeylist: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    let Some(v) = bytes(pval, vallength) else {
        return false;
    };
    set(s, kb(pkey, keylength), v, rmsubkeylist, encpass, expire)
}

pub fn set_str_value_wa(
    s: &mut Session,
    pkey: *mut c_char,
    pval: *mut c_char,
    rmsubkeylist: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    set(s, ks(pkey), ks(pval), rmsubkeylist, encpass, expire)
}

pub fn remove(s: &mut Session, pkey: *mut c_uchar, keylength: usize) -> bool {
    del(s, kb(pkey, keylength))
}

pub fn remove_str(s: &mut Session, pkey: *mut c_char) -> bool {
    del(s, ks(pkey))
}

pub fn rename(
    s: &mut Session,
    poldkey: *mut c_uchar,
    oldkeylength: usize,
    pnewkey: *mut c_uchar,
    newkeylength: usize,
) -> bool {
    ren(s, kb(poldkey, oldkeylength), kb(pnewkey, newkeylength))
}

pub fn rename_str(s: &mut Session, poldkey: *mut c_char, pnewkey: *mut c_char) -> bool {
    ren(s, ks(poldkey), ks(pnewkey))
}

pub fn cas64_init(s: &mut Session, pkey: *mut c_uchar, keylength: usize, val: u64) -> bool {
    cas_init(s, kb(pkey, keylength), &val.to_ne_bytes())
}

pub fn cas64_str_init(s: &mut Session, pkey: *mut c_char, val: u64) -> bool {
    cas_init(s, ks(pkey), &val.to_ne_bytes())
}

pub fn cas64_get(s: &mut Session, pkey: *mut c_uchar, keylength: usize, pval: *mut u64) -> bool {
    match cas_get(s, kb(pkey, keylength), 8) {
        Some(v) => {
            set_out(pval, u64::from_ne_bytes(v.try_into().unwrap_or([0; 8])));
            true
        }
        None => false,
    }
}

pub fn cas64_str_get(s: &mut Session, pkey: *mut c_char, pval: *mut u64) -> bool {
    match cas_get(s, ks(pkey), 8) {
        Some(v) => {
            set_out(pval, u64::from_ne_bytes(v.try_into().unwrap_or([0; 8])));
            true
        }
        None => false,
    }
}

pub fn cas64_set(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    oldval: u64,
    newval: u64,
) -> bool {
    cas_set(
        s,
        kb(pkey, keylength),
        &oldval.to_ne_bytes(),
        &newval.to_ne_bytes(),
    )
}

pub fn cas64_str_set(s: &mut Session, pkey: *mut c_char, oldval: u64, newval: u64) -> bool {
    cas_set(s, ks(pkey), &oldval.to_ne_bytes(), &newval.to_ne_bytes())
}

pub fn cas32_init(s: &mut Session, pkey: *mut c_uchar, keylength: usize, val: u32) -> bool {
    cas_init(s, kb(pkey, keylength), &val.to_ne_bytes())
}

pub fn cas32_str_init(s: &mut Session, pkey: *mut c_char, val: u32) -> bool {
    cas_init(s, ks(pkey), &val.to_ne_bytes())
}

pub fn cas32_get(s: &mut Session, pkey: *mut c_uchar, keylength: usize, pval: *mut u32) -> bool {
    match cas_get(s, kb(pkey, keylength), 4) {
        Some(v) => {
            set_out(pval, u32::from_ne_bytes(v.try_into().unwrap_or([0; 4])));
            true
        }
        None => false,
    }
}

pub fn cas32_str_get(s: &mut Session, pkey: *mut c_char, pval: *mut u32) -> bool {
    match cas_get(s, ks(pkey), 4) {
        Some(v) => {
            set_out(pval, u32::from_ne_bytes(v.try_into().unwrap_or([0; 4])));
            true
        }
        None => false,
    }
}

pub fn cas32_set(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    oldval: u32,
    newval: u32,
) -> bool {
    cas_set(
        s,
        kb(pkey, keylength),
        &oldval.to_ne_bytes(),
        &newval.to_ne_bytes(),
    )
}

pub fn cas32_str_set(s: &mut Session, pkey: *mut c_char, oldval: u32, newval: u32) -> bool {
    cas_set(s, ks(pkey), &oldval.to_ne_bytes(), &newval.to_ne_bytes())
}

pub fn cas16_init(s: &mut Session, pkey: *mut c_uchar, keylength: usize, val: u16) -> bool {
    cas_init(s, kb(pkey, keylength), &val.to_ne_bytes())
}

pub fn cas16_str_init(s: &mut Session, pkey: *mut c_char, val: u16) -> bool {
    cas_init(s, ks(pkey), &val.to_ne_bytes())
}

pub fn cas16_get(s: &mut Session, pkey: *mut c_uchar, keylength: usize, pval: *mut u16) -> bool {
    match cas_get(s, kb(pkey, keylength), 2) {
        Some(v) => {
            set_out(pval, u16::from_ne_bytes(v.try_into().unwrap_or([0; 2])));
            true
        }
        None => false,
    }
}

pub fn cas16_str_get(s: &mut Session, pkey: *mut c_char, pval: *mut u16) -> bool {
    match cas_get(s, ks(pkey), 2) {
        Some(v) => {
            set_out(pval, u16::from_ne_bytes(v.try_into().unwrap_or([0; 2])));
            true
        }
        None => false,
    }
}

pub fn cas16_set(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    oldval: u16,
    newval: u16,
) -> bool {
    cas_set(
        s,
        kb(pkey, keylength),
        &oldval.to_ne_bytes(),
        &newval.to_ne_bytes(),
    )
}

pub fn cas16_str_set(s: &mut Session, pkey: *mut c_char, oldval: u16, newval: u16) -> bool {
    cas_set(s, ks(pkey), &oldval.to_ne_bytes(), &newval.to_ne_bytes())
}

pub fn cas8_init(s: &mut Session, pkey: *mut c_uchar, keylength: usize, val: u8) -> bool {
    cas_init(s, kb(pkey, keylength), &val.to_ne_bytes())
}

pub fn cas8_str_init(s: &mut Session, pkey: *mut c_char, val: u8) -> bool {
    cas_init(s, ks(pkey), &val.to_ne_bytes())
}

pub fn cas8_get(s: &mut Session, pkey: *mut c_uchar, keylength: usize, pval: *mut u8) -> bool {
    match cas_get(s, kb(pkey, keylength), 1) {
        Some(v) => {
            set_out(pval, u8::from_ne_bytes(v.try_into().unwrap_or([0; 1])));
            true
        }
        None => false,
    }
}

pub fn cas8_str_get(s: &mut Session, pkey: *mut c_char, pval: *mut u8) -> bool {
    match cas_get(s, ks(pkey), 1) {
        Some(v) => {
            set_out(pval, u8::from_ne_bytes(v.try_into().unwrap_or([0; 1])));
            true
        }
        None => false,
    }
}

pub fn cas8_set(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    oldval: u8,
    newval: u8,
) -> bool {
    cas_set(
        s,
        kb(pkey, keylength),
        &oldval.to_ne_bytes(),
        &newval.to_ne_bytes(),
    )
}

pub fn cas8_str_set(s: &mut Session, pkey: *mut c_char, oldval: u8, newval: u8) -> bool {
    cas_set(s, ks(pkey), &oldval.to_ne_bytes(), &newval.to_ne_bytes())
}

pub fn cas_increment(s: &mut Session, pkey: *mut c_uchar, keylength: usize) -> bool {
    cas_incdec(s, kb(pkey, keylength), true)
}

pub fn cas_str_increment(s: &mut Session, pkey: *mut c_char) -> bool {
    cas_incdec(s, ks(pkey), true)
}

pub fn cas_decrement(s: &mut Session, pkey: *mut c_uchar, keylength: usize) -> bool {
    cas_incdec(s, kb(pkey, keylength), false)
}

pub fn cas_str_decrement(s: &mut Session, pkey: *mut c_char) -> bool {
    cas_incdec(s, ks(pkey), false)
}
