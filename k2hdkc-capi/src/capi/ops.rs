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

// ---- direct access and node states (subkeys, attributes and set_all: `subkey_forms`;
// queues: `queue`)

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
mod queue;
mod subkey_forms;
pub use queue::*;
pub use subkey_forms::*;
