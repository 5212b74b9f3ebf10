//! The forms over subkeys and attributes: subkey lists read, set, cleared, one subkey added or
//! removed (with its parent's list kept right), `set_all`, `remove_all` down the subkey tree,
//! and the attribute getters.
use super::*;

/// GET_SUBKEYS: Some(list) once an answer arrived (empty: none).
pub(super) fn subkeys(s: &mut Session, key: &[u8], check_attr: bool) -> Option<Vec<Vec<u8>>> {
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
pub(super) fn parse_list(b: &[u8]) -> Vec<Vec<u8>> {
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

pub(super) fn serialize_list(keys: &[Vec<u8>]) -> Vec<u8> {
    let mut v = (keys.len() as u64).to_le_bytes().to_vec();
    for k in keys {
        v.extend_from_slice(&(k.len() as u64).to_le_bytes());
        v.extend_from_slice(k);
    }
    v
}

/// A serialized attribute list (u64 count, then u64 name length, u64 value length, name,
/// value each).
pub(super) fn parse_attrs(b: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
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

pub(super) fn attrs(s: &mut Session, key: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
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

pub(super) fn set_subkeys_of(s: &mut Session, key: &[u8], mut list: Vec<Vec<u8>>) -> bool {
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

pub(super) fn set_all_of(s: &mut Session, key: &[u8], val: &[u8], list: &[Vec<u8>]) -> bool {
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
pub(super) fn remove_all_of(s: &mut Session, key: &[u8], depth: usize) -> bool {
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
pub(super) fn set_subkey_of(
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
pub(super) fn remove_subkey_of(
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
