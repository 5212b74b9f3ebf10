//! The operations of the C API for Rust callers: plain Rust types in and out, no C buffers or
//! out pointers, on a [`Session`] the caller holds (what the original's C++ command classes are
//! to its C API). Each returns what the request gave; the answer's code is in `s.rescode`.
//! Every function runs the same code as its C form (the private helpers of `ops`).
use std::ffi::CString;

use libc::c_char;

use super::*;

/// A pass phrase as C functions take it (NULL for none; a phrase with a NUL byte is cut
/// there), kept alive by the value.
pub struct Pass(Option<CString>);

impl Pass {
    pub fn new(p: Option<&str>) -> Pass {
        Pass(p.map(|p| {
            let cut = p.split('\0').next().unwrap_or_default();
            CString::new(cut).unwrap_or_default()
        }))
    }

    pub fn ptr(&self) -> *mut c_char {
        self.0
            .as_ref()
            .map_or(std::ptr::null_mut(), |c| c.as_ptr() as *mut c_char)
    }
}

/// An expiration as C functions take it (NULL for none).
pub fn expire_ptr(e: &mut Option<i64>) -> *mut i64 {
    e.as_mut().map_or(std::ptr::null_mut(), |e| e as *mut i64)
}

/// GET: Some(value) once an answer arrived (empty: no value).
pub fn get_value(
    s: &mut Session,
    key: &[u8],
    check_attr: bool,
    pass: Option<&str>,
) -> Option<Vec<u8>> {
    get(s, key, check_attr, pass.map(str::to_string))
}

/// GET_DIRECT: Some(bytes) once an answer arrived (empty: nothing there).
pub fn get_direct(s: &mut Session, key: &[u8], pos: i64, len: usize) -> Option<Vec<u8>> {
    da_get(s, key, pos, len)
}

/// GET_SUBKEYS: Some(list) once an answer arrived.
pub fn get_subkeys(s: &mut Session, key: &[u8], check_attr: bool) -> Option<Vec<Vec<u8>>> {
    subkeys(s, key, check_attr)
}

/// GET_ATTRS: Some((name, value) list) once an answer arrived.
pub fn get_attrs(s: &mut Session, key: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    attrs(s, key)
}

/// SET (with its attributes): true once an answer arrived.
pub fn set_value(
    s: &mut Session,
    key: &[u8],
    val: &[u8],
    rmsubkeylist: bool,
    pass: Option<&str>,
    mut expire: Option<i64>,
) -> bool {
    let p = Pass::new(pass);
    set(s, key, val, rmsubkeylist, p.ptr(), expire_ptr(&mut expire))
}

/// SET_DIRECT: true once an answer arrived.
pub fn set_direct(s: &mut Session, key: &[u8], val: &[u8], pos: i64) -> bool {
    !key.is_empty() && da_set(s, key, val, pos)
}

/// SET_SUBKEYS with `list` (empty: the list is cleared).
pub fn set_subkeys(s: &mut Session, key: &[u8], list: Vec<Vec<u8>>) -> bool {
    !key.is_empty() && set_subkeys_of(s, key, list)
}

/// set_subkey: the subkey's value, then its name into the parent.
pub fn set_subkey(
    s: &mut Session,
    parent: &[u8],
    sub: &[u8],
    val: &[u8],
    checkattr: bool,
    pass: Option<&str>,
    mut expire: Option<i64>,
) -> bool {
    let p = Pass::new(pass);
    set_subkey_of(
        s,
        parent,
        sub,
        val,
        checkattr,
        p.ptr(),
        expire_ptr(&mut expire),
    )
}

/// DEL of `key`, and with `all` of its subkeys (recursively).
pub fn remove(s: &mut Session, key: &[u8], all: bool) -> bool {
    if all {
        remove_all_of(s, key, 0)
    } else {
        !key.is_empty() && del(s, key)
    }
}

/// REN of `old` to `new`; with a parent, the parent's subkey list follows (the expiration
/// is not sent, as in the original).
pub fn rename(
    s: &mut Session,
    old: &[u8],
    new: &[u8],
    parent: Option<&[u8]>,
    checkattr: bool,
    pass: Option<&str>,
) -> bool {
    let p = Pass::new(pass);
    ren(s, old, new, parent.unwrap_or_default(), checkattr, p.ptr())
}

/// QPUSH of `val` (with `key` for a key queue; empty for a plain one).
#[allow(clippy::too_many_arguments)]
pub fn q_push(
    s: &mut Session,
    prefix: &[u8],
    key: &[u8],
    val: &[u8],
    fifo: bool,
    checkattr: bool,
    pass: Option<&str>,
    mut expire: Option<i64>,
) -> bool {
    let p = Pass::new(pass);
    push(
        s,
        prefix,
        key,
        val,
        fifo,
        checkattr,
        p.ptr(),
        expire_ptr(&mut expire),
    )
}

/// QPOP: Some((key, value)) once an answer arrived (empty value: nothing popped).
pub fn q_pop(
    s: &mut Session,
    prefix: &[u8],
    fifo: bool,
    keyqueue: bool,
    pass: Option<&str>,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let p = Pass::new(pass);
    pop(s, prefix, fifo, keyqueue, p.ptr())
}

/// Removes `count` entries of a queue.
pub fn q_remove(
    s: &mut Session,
    prefix: &[u8],
    count: i32,
    fifo: bool,
    keyqueue: bool,
    pass: Option<&str>,
) -> bool {
    let p = Pass::new(pass);
    q_remove_of(s, prefix, count, fifo, keyqueue, p.ptr())
}

/// CAS_INIT with the native-endian bytes of the value (1, 2, 4 or 8 of them).
pub fn cas_init_bytes(
    s: &mut Session,
    key: &[u8],
    val: &[u8],
    pass: Option<&str>,
    mut expire: Option<i64>,
) -> bool {
    let p = Pass::new(pass);
    !key.is_empty() && cas_init(s, key, val, p.ptr(), expire_ptr(&mut expire))
}

/// CAS_GET: the `width` stored bytes (native-endian) if the value has that size.
pub fn cas_get_bytes(
    s: &mut Session,
    key: &[u8],
    width: usize,
    pass: Option<&str>,
) -> Option<Vec<u8>> {
    let p = Pass::new(pass);
    cas_get(s, key, width, p.ptr())
}

/// CAS_SET from `old` to `new` (native-endian bytes of one width).
pub fn cas_set_bytes(
    s: &mut Session,
    key: &[u8],
    old: &[u8],
    new: &[u8],
    pass: Option<&str>,
    mut expire: Option<i64>,
) -> bool {
    let p = Pass::new(pass);
    !key.is_empty() && cas_set(s, key, old, new, p.ptr(), expire_ptr(&mut expire))
}

/// CAS_INCDEC.
pub fn cas_increment(
    s: &mut Session,
    key: &[u8],
    up: bool,
    pass: Option<&str>,
    mut expire: Option<i64>,
) -> bool {
    let p = Pass::new(pass);
    !key.is_empty() && cas_incdec(s, key, up, p.ptr(), expire_ptr(&mut expire))
}

/// STATE: the DKC_NODESTATE records of every server that answered, back to back.
pub fn get_state(s: &mut Session) -> Option<Vec<u8>> {
    states(s)
}
