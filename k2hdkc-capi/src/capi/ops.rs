//! One function per form of the C API (spec Appendix A), on a session; build.rs exports each
//! implemented form in its four session variants. Conventions (spec §1.0, §1.3): a primitive
//! request returns true whenever a well-formed answer arrived, even an error (the code tells);
//! the `_str` and `_direct` getters return false/NULL when there is no value; `_str` arguments
//! are sent with their NUL; `_np` reads without attribute checks, `_wp` with a pass phrase.
use libc::{c_char, c_uchar, c_void};

use k2hdkc_wire::*;

use crate::capi::ffi::{self, bytes, cstr_nul, malloc_copy, set_out, text};
use crate::capi::session::Session;
use crate::capi::types::{PDKC_NODESTATE, PK2HDKCATTRPCK, PK2HDKCKEYPCK};

/// A request with the communication-log numbers (0 and 0 when the log is off).
fn req(t: u64, body: Body) -> Message {
    let (disp, com) = crate::capi::debug::numbers();
    let mut head = Head::request(t, com);
    head.dispcomnumber = disp;
    Message { head, body }
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
    let pass = pass_of(encpass);
    let ex = expire_of(expire);
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

/// REN (a server composite); with a parent, after a successful rename the old name leaves the
/// parent's subkey list and the new one joins it (false when either step reports an error).
/// The `_wa` forms' expire is not sent, as in the original. The code left in the handle is
/// the rename's.
fn ren(
    s: &mut Session,
    old: &[u8],
    new: &[u8],
    parent: &[u8],
    checkattr: bool,
    encpass: *mut c_char,
) -> bool {
    if old.is_empty() || new.is_empty() {
        return false;
    }
    let body = Body::Ren(RenReq {
        oldkey: old.to_vec(),
        newkey: new.to_vec(),
        encpass: pass_of(encpass),
        check_attr: checkattr,
    });
    if !simple(s, DKC_COM_REN, body, old) {
        return false;
    }
    if parent.is_empty() {
        return true;
    }
    let code = s.rescode;
    if !res_is_success(code) {
        return false;
    }
    let del = Body::DelSubkeys(DelSubkeysReq {
        key: parent.to_vec(),
        subkey: old.to_vec(),
        check_attr: checkattr,
    });
    if !simple(s, DKC_COM_DEL_SUBKEYS, del, parent) || !res_is_success(s.rescode) {
        return false;
    }
    let add = Body::AddSubkeys(AddSubkeysReq {
        key: parent.to_vec(),
        subkey: new.to_vec(),
        check_attr: checkattr,
    });
    if !simple(s, DKC_COM_ADD_SUBKEYS, add, parent) || !res_is_success(s.rescode) {
        return false;
    }
    s.record(code);
    true
}

/// The pass phrase as sent: its bytes and NUL (empty: none).
fn pass_of(encpass: *mut c_char) -> Vec<u8> {
    let mut pass = text(encpass).map(|p| p.into_bytes()).unwrap_or_default();
    if !pass.is_empty() {
        pass.push(0);
    }
    pass
}

fn expire_of(expire: *mut i64) -> Option<i64> {
    ffi::read_opt(expire as *const i64)
}

fn cas_init(
    s: &mut Session,
    key: &[u8],
    val: &[u8],
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    let ex = expire_of(expire);
    let body = Body::CasInit(CasInitReq {
        key: key.to_vec(),
        val: val.to_vec(),
        encpass: pass_of(encpass),
        expire: ex.unwrap_or(0),
        enable_expire: ex.is_some(),
    });
    simple(s, DKC_COM_CAS_INIT, body, key)
}

/// CAS_GET: the stored bytes if there are exactly `n` of them.
fn cas_get(s: &mut Session, key: &[u8], n: usize, encpass: *mut c_char) -> Option<Vec<u8>> {
    if key.is_empty() {
        return None;
    }
    let body = Body::CasGet(CasGetReq {
        key: key.to_vec(),
        encpass: pass_of(encpass),
        check_attr: true,
    });
    let a = s.request(&req(DKC_COM_CAS_GET, body), key)?;
    match a.body {
        Body::Val(v) if res_is_success(a.head.restype) && v.val.len() == n => Some(v.val),
        _ => None,
    }
}

fn cas_set(
    s: &mut Session,
    key: &[u8],
    old: &[u8],
    new: &[u8],
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    let ex = expire_of(expire);
    let body = Body::CasSet(CasSetReq {
        key: key.to_vec(),
        oldval: old.to_vec(),
        newval: new.to_vec(),
        encpass: pass_of(encpass),
        expire: ex.unwrap_or(0),
        enable_expire: ex.is_some(),
        check_attr: true,
    });
    simple(s, DKC_COM_CAS_SET, body, key)
}

fn cas_incdec(
    s: &mut Session,
    key: &[u8],
    up: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    let ex = expire_of(expire);
    let body = Body::CasIncDec(CasIncDecReq {
        key: key.to_vec(),
        encpass: pass_of(encpass),
        expire: ex.unwrap_or(0),
        enable_expire: ex.is_some(),
        check_attr: true,
        increment: up,
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
    rename_with_parent_wa(
        s,
        poldkey,
        oldkeylength,
        pnewkey,
        newkeylength,
        std::ptr::null_mut(),
        0,
        true,
        NUL,
        NUL_T,
    )
}

pub fn rename_str(s: &mut Session, poldkey: *mut c_char, pnewkey: *mut c_char) -> bool {
    rename_with_parent_str_wa(s, poldkey, pnewkey, NUL, true, NUL, NUL_T)
}

pub fn rename_wa(
    s: &mut Session,
    poldkey: *mut c_uchar,
    oldkeylength: usize,
    pnewkey: *mut c_uchar,
    newkeylength: usize,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    rename_with_parent_wa(
        s,
        poldkey,
        oldkeylength,
        pnewkey,
        newkeylength,
        std::ptr::null_mut(),
        0,
        checkattr,
        encpass,
        expire,
    )
}

pub fn rename_str_wa(
    s: &mut Session,
    poldkey: *mut c_char,
    pnewkey: *mut c_char,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    rename_with_parent_str_wa(s, poldkey, pnewkey, NUL, checkattr, encpass, expire)
}

pub fn rename_with_parent(
    s: &mut Session,
    poldkey: *mut c_uchar,
    oldkeylength: usize,
    pnewkey: *mut c_uchar,
    newkeylength: usize,
    pparentkey: *mut c_uchar,
    parentkeylength: usize,
) -> bool {
    rename_with_parent_wa(
        s,
        poldkey,
        oldkeylength,
        pnewkey,
        newkeylength,
        pparentkey,
        parentkeylength,
        true,
        NUL,
        NUL_T,
    )
}

pub fn rename_with_parent_str(
    s: &mut Session,
    poldkey: *mut c_char,
    pnewkey: *mut c_char,
    pparentkey: *mut c_char,
) -> bool {
    rename_with_parent_str_wa(s, poldkey, pnewkey, pparentkey, true, NUL, NUL_T)
}

pub fn rename_with_parent_wa(
    s: &mut Session,
    poldkey: *mut c_uchar,
    oldkeylength: usize,
    pnewkey: *mut c_uchar,
    newkeylength: usize,
    pparentkey: *mut c_uchar,
    parentkeylength: usize,
    checkattr: bool,
    encpass: *mut c_char,
    _expire: *mut i64,
) -> bool {
    let parent = bytes(pparentkey, parentkeylength).unwrap_or(&[]);
    ren(
        s,
        kb(poldkey, oldkeylength),
        kb(pnewkey, newkeylength),
        parent,
        checkattr,
        encpass,
    )
}

pub fn rename_with_parent_str_wa(
    s: &mut Session,
    poldkey: *mut c_char,
    pnewkey: *mut c_char,
    pparentkey: *mut c_char,
    checkattr: bool,
    encpass: *mut c_char,
    _expire: *mut i64,
) -> bool {
    ren(
        s,
        ks(poldkey),
        ks(pnewkey),
        ks(pparentkey),
        checkattr,
        encpass,
    )
}

/// The twelve forms of one CAS width (`init`, `get`, `set`, each binary and `_str`, each plain
/// and `_wa`). build.rs finds a form named here by its `= name,`.
macro_rules! cas_width {
    ($t:ty, $n:literal: init = $init:ident, str_init = $sinit:ident, init_wa = $initwa:ident,
     str_init_wa = $sinitwa:ident, get = $get:ident, str_get = $sget:ident, get_wa = $getwa:ident,
     str_get_wa = $sgetwa:ident, set = $set:ident, str_set = $sset:ident, set_wa = $setwa:ident,
     str_set_wa = $ssetwa:ident,) => {
        pub fn $init(s: &mut Session, pkey: *mut c_uchar, keylength: usize, val: $t) -> bool {
            $initwa(s, pkey, keylength, val, NUL, NUL_T)
        }
        pub fn $sinit(s: &mut Session, pkey: *mut c_char, val: $t) -> bool {
            $sinitwa(s, pkey, val, NUL, NUL_T)
        }
        pub fn $initwa(
            s: &mut Session,
            pkey: *mut c_uchar,
            keylength: usize,
            val: $t,
            encpass: *mut c_char,
            expire: *mut i64,
        ) -> bool {
            cas_init(s, kb(pkey, keylength), &val.to_ne_bytes(), encpass, expire)
        }
        pub fn $sinitwa(
            s: &mut Session,
            pkey: *mut c_char,
            val: $t,
            encpass: *mut c_char,
            expire: *mut i64,
        ) -> bool {
            cas_init(s, ks(pkey), &val.to_ne_bytes(), encpass, expire)
        }
        pub fn $get(s: &mut Session, pkey: *mut c_uchar, keylength: usize, pval: *mut $t) -> bool {
            $getwa(s, pkey, keylength, NUL, pval)
        }
        pub fn $sget(s: &mut Session, pkey: *mut c_char, pval: *mut $t) -> bool {
            $sgetwa(s, pkey, NUL, pval)
        }
        pub fn $getwa(
            s: &mut Session,
            pkey: *mut c_uchar,
            keylength: usize,
            encpass: *mut c_char,
            pval: *mut $t,
        ) -> bool {
            cas_out(
                cas_get(s, kb(pkey, keylength), $n, encpass),
                pval,
                <$t>::from_ne_bytes,
            )
        }
        pub fn $sgetwa(
            s: &mut Session,
            pkey: *mut c_char,
            encpass: *mut c_char,
            pval: *mut $t,
        ) -> bool {
            cas_out(cas_get(s, ks(pkey), $n, encpass), pval, <$t>::from_ne_bytes)
        }
        pub fn $set(
            s: &mut Session,
            pkey: *mut c_uchar,
            keylength: usize,
            oldval: $t,
            newval: $t,
        ) -> bool {
            $setwa(s, pkey, keylength, oldval, newval, NUL, NUL_T)
        }
        pub fn $sset(s: &mut Session, pkey: *mut c_char, oldval: $t, newval: $t) -> bool {
            $ssetwa(s, pkey, oldval, newval, NUL, NUL_T)
        }
        pub fn $setwa(
            s: &mut Session,
            pkey: *mut c_uchar,
            keylength: usize,
            oldval: $t,
            newval: $t,
            encpass: *mut c_char,
            expire: *mut i64,
        ) -> bool {
            let (o, n) = (oldval.to_ne_bytes(), newval.to_ne_bytes());
            cas_set(s, kb(pkey, keylength), &o, &n, encpass, expire)
        }
        pub fn $ssetwa(
            s: &mut Session,
            pkey: *mut c_char,
            oldval: $t,
            newval: $t,
            encpass: *mut c_char,
            expire: *mut i64,
        ) -> bool {
            let (o, n) = (oldval.to_ne_bytes(), newval.to_ne_bytes());
            cas_set(s, ks(pkey), &o, &n, encpass, expire)
        }
    };
}

const NUL: *mut c_char = std::ptr::null_mut();
const NUL_T: *mut i64 = std::ptr::null_mut();

/// Stores a CAS value read as exactly N bytes; false when there was none.
fn cas_out<T, const N: usize>(v: Option<Vec<u8>>, pval: *mut T, conv: fn([u8; N]) -> T) -> bool {
    match v.and_then(|v| <[u8; N]>::try_from(v).ok()) {
        Some(b) => {
            set_out(pval, conv(b));
            true
        }
        None => false,
    }
}

cas_width!(u64, 8: init = cas64_init, str_init = cas64_str_init, init_wa = cas64_init_wa,
    str_init_wa = cas64_str_init_wa, get = cas64_get, str_get = cas64_str_get,
    get_wa = cas64_get_wa, str_get_wa = cas64_str_get_wa, set = cas64_set,
    str_set = cas64_str_set, set_wa = cas64_set_wa, str_set_wa = cas64_str_set_wa,);
cas_width!(u32, 4: init = cas32_init, str_init = cas32_str_init, init_wa = cas32_init_wa,
    str_init_wa = cas32_str_init_wa, get = cas32_get, str_get = cas32_str_get,
    get_wa = cas32_get_wa, str_get_wa = cas32_str_get_wa, set = cas32_set,
    str_set = cas32_str_set, set_wa = cas32_set_wa, str_set_wa = cas32_str_set_wa,);
cas_width!(u16, 2: init = cas16_init, str_init = cas16_str_init, init_wa = cas16_init_wa,
    str_init_wa = cas16_str_init_wa, get = cas16_get, str_get = cas16_str_get,
    get_wa = cas16_get_wa, str_get_wa = cas16_str_get_wa, set = cas16_set,
    str_set = cas16_str_set, set_wa = cas16_set_wa, str_set_wa = cas16_str_set_wa,);
cas_width!(u8, 1: init = cas8_init, str_init = cas8_str_init, init_wa = cas8_init_wa,
    str_init_wa = cas8_str_init_wa, get = cas8_get, str_get = cas8_str_get,
    get_wa = cas8_get_wa, str_get_wa = cas8_str_get_wa, set = cas8_set,
    str_set = cas8_str_set, set_wa = cas8_set_wa, str_set_wa = cas8_str_set_wa,);

pub fn cas_increment(s: &mut Session, pkey: *mut c_uchar, keylength: usize) -> bool {
    cas_incdec(s, kb(pkey, keylength), true, NUL, NUL_T)
}

pub fn cas_str_increment(s: &mut Session, pkey: *mut c_char) -> bool {
    cas_incdec(s, ks(pkey), true, NUL, NUL_T)
}

pub fn cas_decrement(s: &mut Session, pkey: *mut c_uchar, keylength: usize) -> bool {
    cas_incdec(s, kb(pkey, keylength), false, NUL, NUL_T)
}

pub fn cas_str_decrement(s: &mut Session, pkey: *mut c_char) -> bool {
    cas_incdec(s, ks(pkey), false, NUL, NUL_T)
}

pub fn cas_increment_wa(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    cas_incdec(s, kb(pkey, keylength), true, encpass, expire)
}

pub fn cas_str_increment_wa(
    s: &mut Session,
    pkey: *mut c_char,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    cas_incdec(s, ks(pkey), true, encpass, expire)
}

pub fn cas_decrement_wa(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    cas_incdec(s, kb(pkey, keylength), false, encpass, expire)
}

pub fn cas_str_decrement_wa(
    s: &mut Session,
    pkey: *mut c_char,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    cas_incdec(s, ks(pkey), false, encpass, expire)
}

// ---- subkeys, attributes, set_all, composites, queues, direct access

/// GET_SUBKEYS: Some(list) once an answer arrived (empty: none).
fn subkeys(s: &mut Session, key: &[u8], check_attr: bool) -> Option<Vec<Vec<u8>>> {
    if key.is_empty() {
        return None;
    }
    let body = Body::GetSubkeys(GetSubkeysReq {
        key: key.to_vec(),
        check_attr,
    });
    let a = s.request(&req(DKC_COM_GET_SUBKEYS, body), key)?;
    Some(match a.body {
        Body::Subkeys(l) if res_is_success(a.head.restype) => parse_list(&l.subkeys),
        _ => Vec::new(),
    })
}

/// A serialized subkey list (u64 count, then u64 length + bytes each); empty entries skipped.
fn parse_list(b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let rd = |o: usize| {
        b.get(o..o + 8)
            .map(|x| u64::from_le_bytes(x.try_into().unwrap_or([0; 8])))
    };
    let Some(n) = rd(0) else { return out };
    let mut at = 8usize;
    for _ in 0..n.min(b.len() as u64) {
        let Some(len) = rd(at) else { break };
        at += 8;
        let Some(end) = at.checked_add(len as usize).filter(|e| *e <= b.len()) else {
            break;
        };
        if len > 0 {
            out.push(b[at..end].to_vec());
        }
        at = end;
    }
    out
}

fn serialize_list(keys: &[Vec<u8>]) -> Vec<u8> {
    let mut v = (keys.len() as u64).to_le_bytes().to_vec();
    for k in keys {
        v.extend_from_slice(&(k.len() as u64).to_le_bytes());
        v.extend_from_slice(k);
    }
    v
}

/// A serialized attribute list (u64 count, then u64 name length, u64 value length, name,
/// value each).
fn parse_attrs(b: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let rd = |o: usize| {
        b.get(o..o + 8)
            .map(|x| u64::from_le_bytes(x.try_into().unwrap_or([0; 8])) as usize)
    };
    let Some(n) = rd(0) else { return out };
    let mut at = 8usize;
    for _ in 0..n.min(b.len()) {
        let (Some(kl), Some(vl)) = (rd(at), rd(at + 8)) else {
            break;
        };
        at += 16;
        let Some(ke) = at.checked_add(kl).filter(|e| *e <= b.len()) else {
            break;
        };
        let Some(ve) = ke.checked_add(vl).filter(|e| *e <= b.len()) else {
            break;
        };
        out.push((b[at..ke].to_vec(), b[ke..ve].to_vec()));
        at = ve;
    }
    out
}

fn attrs(s: &mut Session, key: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if key.is_empty() {
        return None;
    }
    let body = Body::GetAttrs(GetAttrsReq { key: key.to_vec() });
    let a = s.request(&req(DKC_COM_GET_ATTRS, body), key)?;
    Some(match a.body {
        Body::Attrs(l) if res_is_success(a.head.restype) => parse_attrs(&l.attrs),
        _ => Vec::new(),
    })
}

fn set_subkeys_of(s: &mut Session, key: &[u8], mut list: Vec<Vec<u8>>) -> bool {
    list.sort();
    list.dedup();
    let body = Body::SetSubkeys(SetSubkeysReq {
        key: key.to_vec(),
        subkeys: if list.is_empty() {
            Vec::new()
        } else {
            serialize_list(&list)
        },
    });
    simple(s, DKC_COM_SET_SUBKEYS, body, key)
}

fn set_all_of(s: &mut Session, key: &[u8], val: &[u8], list: &[Vec<u8>]) -> bool {
    let body = Body::SetAll(SetAllReq {
        key: key.to_vec(),
        val: val.to_vec(),
        subkeys: if list.is_empty() {
            Vec::new()
        } else {
            serialize_list(list)
        },
        attrs: Vec::new(),
    });
    simple(s, DKC_COM_SET_ALL, body, key)
}

/// remove_all: the key's subkey list, the key, then every subkey the same way.
fn remove_all_of(s: &mut Session, key: &[u8], depth: usize) -> bool {
    if key.is_empty() || depth > 64 {
        return false;
    }
    let list = subkeys(s, key, false).unwrap_or_default();
    if !del(s, key) {
        return false;
    }
    for k in list {
        remove_all_of(s, &k, depth + 1);
    }
    true
}

/// set_subkey: SET of the subkey, then ADD_SUBKEYS into the parent; false on either error.
fn set_subkey_of(
    s: &mut Session,
    parent: &[u8],
    sub: &[u8],
    val: &[u8],
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    if parent.is_empty() || sub.is_empty() || !set(s, sub, val, false, encpass, expire) {
        return false;
    }
    if !res_is_success(s.rescode) {
        return false;
    }
    let body = Body::AddSubkeys(AddSubkeysReq {
        key: parent.to_vec(),
        subkey: sub.to_vec(),
        check_attr: checkattr,
    });
    simple(s, DKC_COM_ADD_SUBKEYS, body, parent) && res_is_success(s.rescode)
}

/// remove_subkey: DEL of the subkey (recursive with `nest`), then DEL_SUBKEYS in the parent.
fn remove_subkey_of(
    s: &mut Session,
    parent: &[u8],
    sub: &[u8],
    nest: bool,
    check_attr: bool,
) -> bool {
    if parent.is_empty() || sub.is_empty() {
        return false;
    }
    if nest {
        remove_all_of(s, sub, 0);
    } else {
        del(s, sub);
    }
    let body = Body::DelSubkeys(DelSubkeysReq {
        key: parent.to_vec(),
        subkey: sub.to_vec(),
        check_attr,
    });
    simple(s, DKC_COM_DEL_SUBKEYS, body, parent) && res_is_success(s.rescode)
}

fn push(
    s: &mut Session,
    prefix: &[u8],
    key: &[u8],
    val: &[u8],
    fifo: bool,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    if prefix.is_empty() || val.is_empty() {
        return false;
    }
    let pass = pass_of(encpass);
    let ex = expire_of(expire);
    let body = Body::Qpush(QpushReq {
        is_fifo: fifo,
        prefix: prefix.to_vec(),
        key: key.to_vec(),
        val: val.to_vec(),
        attrs: Vec::new(),
        encpass: pass,
        expire: ex.unwrap_or(0),
        enable_expire: ex.is_some(),
        check_attr: checkattr,
        fifo,
    });
    simple(s, DKC_COM_QPUSH, body, prefix)
}

/// QPOP: Some((key, value)) once an answer arrived (empty value: nothing popped).
fn pop(
    s: &mut Session,
    prefix: &[u8],
    fifo: bool,
    keyqueue: bool,
    encpass: *mut c_char,
) -> Option<(Vec<u8>, Vec<u8>)> {
    if prefix.is_empty() {
        return None;
    }
    let pass = pass_of(encpass);
    let body = Body::Qpop(QpopReq {
        prefix: prefix.to_vec(),
        encpass: pass,
        check_attr: true,
        fifo,
        keyqueue,
    });
    let a = s.request(&req(DKC_COM_QPOP, body), prefix)?;
    Some(match a.body {
        Body::QpopAnswer(r) if res_is_success(a.head.restype) => (r.key, r.val),
        _ => (Vec::new(), Vec::new()),
    })
}

fn q_remove_of(
    s: &mut Session,
    prefix: &[u8],
    count: libc::c_int,
    fifo: bool,
    keyqueue: bool,
    encpass: *mut c_char,
) -> bool {
    if count <= 0 {
        return false;
    }
    for _ in 0..count {
        match pop(s, prefix, fifo, keyqueue, encpass) {
            Some((_, v)) if !v.is_empty() => {}
            _ => return false,
        }
    }
    true
}

fn da_get(s: &mut Session, key: &[u8], pos: i64, len: usize) -> Option<Vec<u8>> {
    if key.is_empty() || pos < 0 || len == 0 {
        return None;
    }
    let body = Body::GetDirect(GetDirectReq {
        key: key.to_vec(),
        val_length: len as u64,
        val_pos: pos,
    });
    let a = s.request(&req(DKC_COM_GET_DIRECT, body), key)?;
    Some(match a.body {
        Body::Val(v) if res_is_success(a.head.restype) => v.val,
        _ => Vec::new(),
    })
}

fn da_set(s: &mut Session, key: &[u8], val: &[u8], pos: i64) -> bool {
    if pos < 0 {
        return false;
    }
    let body = Body::SetDirect(SetDirectReq {
        key: key.to_vec(),
        val: val.to_vec(),
        val_pos: pos,
    });
    simple(s, DKC_COM_SET_DIRECT, body, key)
}

fn out_bin(v: Vec<u8>, ppval: *mut *mut c_uchar, plen: *mut usize) {
    if v.is_empty() {
        set_out(ppval, std::ptr::null_mut());
        set_out(plen, 0);
    } else {
        set_out(ppval, malloc_copy(&v));
        set_out(plen, v.len());
    }
}

/// get_subkeys / _np: the list as key packs (none: NULL and 0), false without an answer.
fn subkeys_pack(
    s: &mut Session,
    key: &[u8],
    check: bool,
    ppskeypck: *mut PK2HDKCKEYPCK,
    pskeypckcnt: *mut libc::c_int,
) -> bool {
    let Some(l) = subkeys(s, key, check) else {
        return false;
    };
    set_out(ppskeypck, ffi::keypack(&l));
    set_out(pskeypckcnt, l.len() as libc::c_int);
    true
}

/// get_direct_subkeys / _np: the packs, NULL when there are none.
fn subkeys_direct_pack(
    s: &mut Session,
    key: &[u8],
    check: bool,
    pskeypckcnt: *mut libc::c_int,
) -> PK2HDKCKEYPCK {
    match subkeys(s, key, check) {
        Some(l) if !l.is_empty() => {
            set_out(pskeypckcnt, l.len() as libc::c_int);
            ffi::keypack(&l)
        }
        _ => std::ptr::null_mut(),
    }
}

/// get_str_subkeys / _np: the count and a NULL-terminated array; the original returns 1 (its
/// converter's true) with no array when there are none, -1 without an answer.
fn subkeys_array(
    s: &mut Session,
    key: &[u8],
    check: bool,
    ppskeyarray: *mut *mut *mut c_char,
) -> libc::c_int {
    match subkeys(s, key, check) {
        Some(l) if l.is_empty() => {
            set_out(ppskeyarray, std::ptr::null_mut());
            1
        }
        Some(l) => {
            set_out(ppskeyarray, ffi::keyarray(&l));
            l.len() as libc::c_int
        }
        None => -1,
    }
}

/// get_str_direct_subkeys / _np: the array, NULL when there are none.
fn subkeys_direct_array(s: &mut Session, key: &[u8], check: bool) -> *mut *mut c_char {
    match subkeys(s, key, check) {
        Some(l) if !l.is_empty() => ffi::keyarray(&l),
        _ => std::ptr::null_mut(),
    }
}

pub fn get_subkeys(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    ppskeypck: *mut PK2HDKCKEYPCK,
    pskeypckcnt: *mut libc::c_int,
) -> bool {
    subkeys_pack(s, kb(pkey, keylength), true, ppskeypck, pskeypckcnt)
}

pub fn get_direct_subkeys(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pskeypckcnt: *mut libc::c_int,
) -> PK2HDKCKEYPCK {
    subkeys_direct_pack(s, kb(pkey, keylength), true, pskeypckcnt)
}

pub fn get_str_subkeys(
    s: &mut Session,
    pkey: *mut c_char,
    ppskeyarray: *mut *mut *mut c_char,
) -> libc::c_int {
    subkeys_array(s, ks(pkey), true, ppskeyarray)
}

pub fn get_str_direct_subkeys(s: &mut Session, pkey: *mut c_char) -> *mut *mut c_char {
    subkeys_direct_array(s, ks(pkey), true)
}

pub fn get_subkeys_np(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    ppskeypck: *mut PK2HDKCKEYPCK,
    pskeypckcnt: *mut libc::c_int,
) -> bool {
    subkeys_pack(s, kb(pkey, keylength), false, ppskeypck, pskeypckcnt)
}

pub fn get_direct_subkeys_np(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pskeypckcnt: *mut libc::c_int,
) -> PK2HDKCKEYPCK {
    subkeys_direct_pack(s, kb(pkey, keylength), false, pskeypckcnt)
}

pub fn get_str_subkeys_np(
    s: &mut Session,
    pkey: *mut c_char,
    ppskeyarray: *mut *mut *mut c_char,
) -> libc::c_int {
    subkeys_array(s, ks(pkey), false, ppskeyarray)
}

pub fn get_str_direct_subkeys_np(s: &mut Session, pkey: *mut c_char) -> *mut *mut c_char {
    subkeys_direct_array(s, ks(pkey), false)
}

pub fn get_attrs(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    ppattrspck: *mut PK2HDKCATTRPCK,
    pattrspckcnt: *mut libc::c_int,
) -> bool {
    let Some(l) = attrs(s, kb(pkey, keylength)) else {
        return false;
    };
    set_out(ppattrspck, ffi::attrpack(&l));
    set_out(pattrspckcnt, l.len() as libc::c_int);
    true
}

pub fn get_direct_attrs(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pattrspckcnt: *mut libc::c_int,
) -> PK2HDKCATTRPCK {
    match attrs(s, kb(pkey, keylength)) {
        Some(l) if !l.is_empty() => {
            set_out(pattrspckcnt, l.len() as libc::c_int);
            ffi::attrpack(&l)
        }
        _ => std::ptr::null_mut(),
    }
}

pub fn get_str_direct_attrs(
    s: &mut Session,
    pkey: *mut c_char,
    pattrspckcnt: *mut libc::c_int,
) -> PK2HDKCATTRPCK {
    match attrs(s, ks(pkey)) {
        Some(l) if !l.is_empty() => {
            set_out(pattrspckcnt, l.len() as libc::c_int);
            ffi::attrpack(&l)
        }
        _ => std::ptr::null_mut(),
    }
}

pub fn set_subkeys(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pskeypck: PK2HDKCKEYPCK,
    skeypckcnt: libc::c_int,
) -> bool {
    let Some(l) = ffi::read_keypack(pskeypck, skeypckcnt) else {
        return false;
    };
    set_subkeys_of(s, kb(pkey, keylength), l)
}

pub fn set_str_subkeys(s: &mut Session, pkey: *mut c_char, pskeyarray: *mut *mut c_char) -> bool {
    set_subkeys_of(s, ks(pkey), ffi::read_keyarray(pskeyarray))
}

pub fn clear_subkeys(s: &mut Session, pkey: *mut c_uchar, keylength: usize) -> bool {
    set_subkeys_of(s, kb(pkey, keylength), Vec::new())
}

pub fn clear_str_subkeys(s: &mut Session, pkey: *mut c_char) -> bool {
    set_subkeys_of(s, ks(pkey), Vec::new())
}

pub fn set_all(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    pskeypck: PK2HDKCKEYPCK,
    skeypckcnt: libc::c_int,
) -> bool {
    let (Some(v), Some(l)) = (
        bytes(pval, vallength),
        ffi::read_keypack(pskeypck, skeypckcnt),
    ) else {
        return false;
    };
    set_all_of(s, kb(pkey, keylength), v, &l)
}

pub fn set_str_all(
    s: &mut Session,
    pkey: *mut c_char,
    pval: *mut c_char,
    pskeyarray: *mut *mut c_char,
) -> bool {
    set_all_of(s, ks(pkey), ks(pval), &ffi::read_keyarray(pskeyarray))
}

pub fn remove_all(s: &mut Session, pkey: *mut c_uchar, keylength: usize) -> bool {
    remove_all_of(s, kb(pkey, keylength), 0)
}

pub fn remove_str_all(s: &mut Session, pkey: *mut c_char) -> bool {
    remove_all_of(s, ks(pkey), 0)
}

pub fn set_subkey(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    psubkey: *mut c_uchar,
    subkeylength: usize,
    pskeyval: *mut c_uchar,
    skeyvallength: usize,
) -> bool {
    let Some(v) = bytes(pskeyval, skeyvallength) else {
        return false;
    };
    set_subkey_of(
        s,
        kb(pkey, keylength),
        kb(psubkey, subkeylength),
        v,
        true,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn set_str_subkey(
    s: &mut Session,
    pkey: *mut c_char,
    psubkey: *mut c_char,
    pskeyval: *mut c_char,
) -> bool {
    set_subkey_of(
        s,
        ks(pkey),
        ks(psubkey),
        ks(pskeyval),
        true,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn set_subkey_wa(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    psubkey: *mut c_uchar,
    subkeylength: usize,
    pskeyval: *mut c_uchar,
    skeyvallength: usize,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    let Some(v) = bytes(pskeyval, skeyvallength) else {
        return false;
    };
    set_subkey_of(
        s,
        kb(pkey, keylength),
        kb(psubkey, subkeylength),
        v,
        checkattr,
        encpass,
        expire,
    )
}

pub fn set_str_subkey_wa(
    s: &mut Session,
    pkey: *mut c_char,
    psubkey: *mut c_char,
    pskeyval: *mut c_char,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    set_subkey_of(
        s,
        ks(pkey),
        ks(psubkey),
        ks(pskeyval),
        checkattr,
        encpass,
        expire,
    )
}

pub fn remove_subkey(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    psubkey: *mut c_uchar,
    subkeylength: usize,
    is_nest: bool,
) -> bool {
    remove_subkey_of(
        s,
        kb(pkey, keylength),
        kb(psubkey, subkeylength),
        is_nest,
        true,
    )
}

pub fn remove_str_subkey(
    s: &mut Session,
    pkey: *mut c_char,
    psubkey: *mut c_char,
    is_nest: bool,
) -> bool {
    remove_subkey_of(s, ks(pkey), ks(psubkey), is_nest, true)
}

pub fn remove_subkey_np(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    psubkey: *mut c_uchar,
    subkeylength: usize,
    is_nest: bool,
) -> bool {
    remove_subkey_of(
        s,
        kb(pkey, keylength),
        kb(psubkey, subkeylength),
        is_nest,
        false,
    )
}

pub fn remove_str_subkey_np(
    s: &mut Session,
    pkey: *mut c_char,
    psubkey: *mut c_char,
    is_nest: bool,
) -> bool {
    remove_subkey_of(s, ks(pkey), ks(psubkey), is_nest, false)
}

pub fn q_push(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    is_fifo: bool,
) -> bool {
    push(
        s,
        kb(pprefix, prefixlength),
        &[],
        kb(pval, vallength),
        is_fifo,
        true,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn q_str_push(s: &mut Session, pprefix: *mut c_char, pval: *mut c_char, is_fifo: bool) -> bool {
    push(
        s,
        ks(pprefix),
        &[],
        ks(pval),
        is_fifo,
        true,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn q_push_wa(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    is_fifo: bool,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    push(
        s,
        kb(pprefix, prefixlength),
        &[],
        kb(pval, vallength),
        is_fifo,
        checkattr,
        encpass,
        expire,
    )
}

pub fn q_str_push_wa(
    s: &mut Session,
    pprefix: *mut c_char,
    pval: *mut c_char,
    is_fifo: bool,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    push(
        s,
        ks(pprefix),
        &[],
        ks(pval),
        is_fifo,
        checkattr,
        encpass,
        expire,
    )
}

pub fn keyq_push(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    pkey: *mut c_uchar,
    keylength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    is_fifo: bool,
) -> bool {
    push(
        s,
        kb(pprefix, prefixlength),
        kb(pkey, keylength),
        kb(pval, vallength),
        is_fifo,
        true,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn keyq_str_push(
    s: &mut Session,
    pprefix: *mut c_char,
    pkey: *mut c_char,
    pval: *mut c_char,
    is_fifo: bool,
) -> bool {
    push(
        s,
        ks(pprefix),
        ks(pkey),
        ks(pval),
        is_fifo,
        true,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn keyq_push_wa(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    pkey: *mut c_uchar,
    keylength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    is_fifo: bool,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    push(
        s,
        kb(pprefix, prefixlength),
        kb(pkey, keylength),
        kb(pval, vallength),
        is_fifo,
        checkattr,
        encpass,
        expire,
    )
}

pub fn keyq_str_push_wa(
    s: &mut Session,
    pprefix: *mut c_char,
    pkey: *mut c_char,
    pval: *mut c_char,
    is_fifo: bool,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    push(
        s,
        ks(pprefix),
        ks(pkey),
        ks(pval),
        is_fifo,
        checkattr,
        encpass,
        expire,
    )
}

pub fn q_pop(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    is_fifo: bool,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    let Some((_, v)) = pop(
        s,
        kb(pprefix, prefixlength),
        is_fifo,
        false,
        std::ptr::null_mut(),
    ) else {
        return false;
    };
    out_bin(v, ppval, pvallength);
    true
}

pub fn q_str_pop(
    s: &mut Session,
    pprefix: *mut c_char,
    is_fifo: bool,
    ppval: *mut *mut c_char,
) -> bool {
    let Some((_, v)) = pop(s, ks(pprefix), is_fifo, false, std::ptr::null_mut()) else {
        return false;
    };
    set_out(
        ppval,
        if v.is_empty() {
            std::ptr::null_mut()
        } else {
            malloc_copy(&v) as *mut c_char
        },
    );
    true
}

pub fn keyq_pop(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    is_fifo: bool,
    ppkey: *mut *mut c_uchar,
    pkeylength: *mut usize,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    let Some((k, v)) = pop(
        s,
        kb(pprefix, prefixlength),
        is_fifo,
        true,
        std::ptr::null_mut(),
    ) else {
        return false;
    };
    out_bin(k, ppkey, pkeylength);
    out_bin(v, ppval, pvallength);
    true
}

pub fn keyq_str_pop(
    s: &mut Session,
    pprefix: *mut c_char,
    is_fifo: bool,
    ppkey: *mut *mut c_char,
    ppval: *mut *mut c_char,
) -> bool {
    let Some((k, v)) = pop(s, ks(pprefix), is_fifo, true, std::ptr::null_mut()) else {
        return false;
    };
    set_out(
        ppkey,
        if k.is_empty() {
            std::ptr::null_mut()
        } else {
            malloc_copy(&k) as *mut c_char
        },
    );
    set_out(
        ppval,
        if v.is_empty() {
            std::ptr::null_mut()
        } else {
            malloc_copy(&v) as *mut c_char
        },
    );
    true
}

pub fn q_remove(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    count: libc::c_int,
    is_fifo: bool,
) -> bool {
    q_remove_of(
        s,
        kb(pprefix, prefixlength),
        count,
        is_fifo,
        false,
        std::ptr::null_mut(),
    )
}

pub fn q_str_remove(
    s: &mut Session,
    pprefix: *mut c_char,
    count: libc::c_int,
    is_fifo: bool,
) -> bool {
    q_remove_of(s, ks(pprefix), count, is_fifo, false, std::ptr::null_mut())
}

pub fn keyq_remove(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    count: libc::c_int,
    is_fifo: bool,
) -> bool {
    q_remove_of(
        s,
        kb(pprefix, prefixlength),
        count,
        is_fifo,
        true,
        std::ptr::null_mut(),
    )
}

pub fn keyq_str_remove(
    s: &mut Session,
    pprefix: *mut c_char,
    count: libc::c_int,
    is_fifo: bool,
) -> bool {
    q_remove_of(s, ks(pprefix), count, is_fifo, true, std::ptr::null_mut())
}

pub fn q_pop_wp(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    is_fifo: bool,
    encpass: *mut c_char,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    let Some((_, v)) = pop(s, kb(pprefix, prefixlength), is_fifo, false, encpass) else {
        return false;
    };
    out_bin(v, ppval, pvallength);
    true
}

pub fn q_str_pop_wp(
    s: &mut Session,
    pprefix: *mut c_char,
    is_fifo: bool,
    encpass: *mut c_char,
    ppval: *mut *mut c_char,
) -> bool {
    let Some((_, v)) = pop(s, ks(pprefix), is_fifo, false, encpass) else {
        return false;
    };
    set_out(
        ppval,
        if v.is_empty() {
            std::ptr::null_mut()
        } else {
            malloc_copy(&v) as *mut c_char
        },
    );
    true
}

pub fn keyq_pop_wp(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    is_fifo: bool,
    encpass: *mut c_char,
    ppkey: *mut *mut c_uchar,
    pkeylength: *mut usize,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    let Some((k, v)) = pop(s, kb(pprefix, prefixlength), is_fifo, true, encpass) else {
        return false;
    };
    out_bin(k, ppkey, pkeylength);
    out_bin(v, ppval, pvallength);
    true
}

pub fn keyq_str_pop_wp(
    s: &mut Session,
    pprefix: *mut c_char,
    is_fifo: bool,
    encpass: *mut c_char,
    ppkey: *mut *mut c_char,
    ppval: *mut *mut c_char,
) -> bool {
    let Some((k, v)) = pop(s, ks(pprefix), is_fifo, true, encpass) else {
        return false;
    };
    set_out(
        ppkey,
        if k.is_empty() {
            std::ptr::null_mut()
        } else {
            malloc_copy(&k) as *mut c_char
        },
    );
    set_out(
        ppval,
        if v.is_empty() {
            std::ptr::null_mut()
        } else {
            malloc_copy(&v) as *mut c_char
        },
    );
    true
}

pub fn q_remove_wp(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    count: libc::c_int,
    is_fifo: bool,
    encpass: *mut c_char,
) -> bool {
    q_remove_of(s, kb(pprefix, prefixlength), count, is_fifo, false, encpass)
}

pub fn q_str_remove_wp(
    s: &mut Session,
    pprefix: *mut c_char,
    count: libc::c_int,
    is_fifo: bool,
    encpass: *mut c_char,
) -> bool {
    q_remove_of(s, ks(pprefix), count, is_fifo, false, encpass)
}

pub fn keyq_remove_wp(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    count: libc::c_int,
    is_fifo: bool,
    encpass: *mut c_char,
) -> bool {
    q_remove_of(s, kb(pprefix, prefixlength), count, is_fifo, true, encpass)
}

pub fn keyq_str_remove_wp(
    s: &mut Session,
    pprefix: *mut c_char,
    count: libc::c_int,
    is_fifo: bool,
    encpass: *mut c_char,
) -> bool {
    q_remove_of(s, ks(pprefix), count, is_fifo, true, encpass)
}

pub fn da_get_value(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    getpos: i64,
    val_length: usize,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    let Some(v) = da_get(s, kb(pkey, keylength), getpos, val_length) else {
        return false;
    };
    out_bin(v, ppval, pvallength);
    true
}

pub fn da_get_direct_value(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    getpos: i64,
    val_length: usize,
    pvallength: *mut usize,
) -> *mut c_uchar {
    match da_get(s, kb(pkey, keylength), getpos, val_length) {
        Some(v) if !v.is_empty() => {
            set_out(pvallength, v.len());
            malloc_copy(&v)
        }
        _ => std::ptr::null_mut(),
    }
}

pub fn da_get_str_value(
    s: &mut Session,
    pkey: *mut c_char,
    getpos: i64,
    val_length: usize,
    ppval: *mut *mut c_char,
) -> bool {
    match da_get(s, ks(pkey), getpos, val_length) {
        Some(v) if !v.is_empty() => {
            set_out(ppval, malloc_copy(&v) as *mut c_char);
            true
        }
        _ => false,
    }
}

pub fn da_get_str_direct_value(
    s: &mut Session,
    pkey: *mut c_char,
    getpos: i64,
    val_length: usize,
) -> *mut c_char {
    match da_get(s, ks(pkey), getpos, val_length) {
        Some(v) if !v.is_empty() => malloc_copy(&v) as *mut c_char,
        _ => std::ptr::null_mut(),
    }
}

pub fn da_set_value(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    setpos: i64,
) -> bool {
    let Some(v) = bytes(pval, vallength) else {
        return false;
    };
    da_set(s, kb(pkey, keylength), v, setpos)
}

pub fn da_set_str_value(
    s: &mut Session,
    pkey: *mut c_char,
    pval: *mut c_char,
    setpos: i64,
) -> bool {
    da_set(s, ks(pkey), ks(pval), setpos)
}

/// set_all_wa: SET (dropping the subkey list) then SET_SUBKEYS, not one SET_ALL. The original's
/// binary form passes the value length where the flag goes and the flag where the length goes,
/// so only the first byte of the value is stored and the list is dropped only for a non-empty
/// value (spec §1.3, "set_all_wa — upstream bug"); kept, as callers may depend on it.
pub fn set_all_wa(
    s: &mut Session,
    pkey: *mut c_uchar,
    keylength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    pskeypck: PK2HDKCKEYPCK,
    skeypckcnt: libc::c_int,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    let key = kb(pkey, keylength);
    let Some(v) = bytes(pval, 1) else {
        return false;
    };
    set(s, key, v, vallength != 0, encpass, expire)
        && set_subkeys(s, pkey, keylength, pskeypck, skeypckcnt)
}

pub fn set_str_all_wa(
    s: &mut Session,
    pkey: *mut c_char,
    pval: *mut c_char,
    pskeyarray: *mut *mut c_char,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    set(s, ks(pkey), ks(pval), true, encpass, expire) && set_str_subkeys(s, pkey, pskeyarray)
}

/// STATE (a client composite): K2HSTATE to every server with a base hash, routed to it by
/// that hash; the DKC_NODESTATE records of those that answered, in ring order. None when none
/// answered (the code is then SUCCESS|NODATA, or ERROR|NOSERVERNODE without servers).
fn states(s: &mut Session) -> Option<Vec<u8>> {
    let servers = s.servers();
    if servers.is_empty() {
        s.record(compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_NOSERVERNODE));
        return None;
    }
    let mut out = Vec::new();
    for (chmpxid, base_hash) in servers {
        if base_hash == u64::MAX {
            continue;
        }
        let body = Body::K2hState(K2hStateReq { chmpxid, base_hash });
        let Some(a) = s.request_normal(&req(DKC_COM_K2HSTATE, body), base_hash) else {
            continue;
        };
        if let Body::K2hStateAnswer(r) = a.body {
            if res_is_success(a.head.restype) {
                out.extend_from_slice(&r.nodestate);
            }
        }
    }
    if out.is_empty() {
        s.record(compose_res(DKC_RES_SUCCESS, DKC_RES_SUBCODE_NODATA));
        return None;
    }
    s.record(compose_res(DKC_RES_SUCCESS, DKC_RES_SUBCODE_NOTHING));
    Some(out)
}

pub fn get_state(s: &mut Session, ppstates: *mut PDKC_NODESTATE, pstatecount: *mut usize) -> bool {
    match states(s) {
        Some(v) => {
            set_out(pstatecount, v.len() / NODESTATE_SIZE);
            set_out(ppstates, malloc_copy(&v));
            true
        }
        None => {
            set_out(ppstates, std::ptr::null_mut());
            set_out(pstatecount, 0);
            false
        }
    }
}

pub fn get_direct_state(s: &mut Session, pstatecount: *mut usize) -> PDKC_NODESTATE {
    let mut p = std::ptr::null_mut();
    get_state(s, &mut p, pstatecount);
    p
}

/// The same operations for Rust callers (safe types, no C buffers).
pub mod direct;
