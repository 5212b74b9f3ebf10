//! Iteration (family M). A find handle remembers its position; it holds no lock between calls,
//! so writing while iterating never deadlocks (the original keeps a slot read lock).
use crate::capi::ffi::*;
use crate::capi::types::*;
use crate::engine::{Element, Parts};
use crate::k2h::{K2h, Protect};
use crate::lists;
use libc::{c_char, c_int, size_t};
use parking_lot::Mutex;
use std::sync::Arc;

enum Pos {
    /// Physical scan: offset of the current element.
    All(u64),
    /// Subkey list and index of the current entry.
    Subkeys(Vec<Vec<u8>>, usize),
}

pub struct Finder {
    k: Arc<K2h>,
    pos: Pos,
    key: Vec<u8>,
}

static FIND: Registry<Mutex<Finder>> = Registry::new(0x4B32_4600_0000_0001);

impl Finder {
    /// Move to the next existing entry; false at the end.
    fn advance(&mut self) -> crate::Result<bool> {
        match &mut self.pos {
            Pos::All(off) => match self.k.db().next_element(*off, Parts::NONE)? {
                Some((e, key, _)) => {
                    *off = e;
                    self.key = key;
                    Ok(true)
                }
                None => Ok(false),
            },
            Pos::Subkeys(list, idx) => {
                while *idx + 1 < list.len() {
                    *idx += 1;
                    if self.k.db().exists(&list[*idx])? {
                        self.key = list[*idx].clone();
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    /// Raw parts of the current element.
    fn current(&self, parts: Parts) -> crate::Result<Option<Element>> {
        match &self.pos {
            Pos::All(off) => Ok(self.k.db().read_live(*off, parts)?.map(|(_, el)| el)),
            Pos::Subkeys(..) => self.k.db().get(&self.key, parts),
        }
    }
}

fn first(name: &str, k: Arc<K2h>, pos: Pos, key: Vec<u8>) -> k2h_find_h {
    let _ = name;
    FIND.insert(Mutex::new(Finder { k, pos, key }))
}

#[no_mangle]
pub extern "C" fn k2h_find_first(handle: k2h_h) -> k2h_find_h {
    guard("k2h_find_first", 0, || {
        let Some(k) = crate::capi::ffi::handle("k2h_find_first", handle) else {
            return 0;
        };
        match k.db().next_element(0, Parts::NONE) {
            Ok(Some((e, key, _))) => first("k2h_find_first", k, Pos::All(e), key),
            Ok(None) => 0,
            Err(e) => fail("k2h_find_first", e, 0),
        }
    })
}

fn first_subkey(name: &str, h: k2h_h, pkey: Option<&[u8]>) -> k2h_find_h {
    guard(name, 0, || {
        let Some(pk) = pkey else {
            return fail(name, "key is empty", 0);
        };
        let Some(k) = crate::capi::ffi::handle(name, h) else {
            return 0;
        };
        let list = match k.get_subkeys(pk, true) {
            Ok(Some(l)) => l,
            Ok(None) => return 0,
            Err(e) => return fail(name, e, 0),
        };
        // The original stops when the first listed key does not exist.
        match k.db().exists(&list[0]) {
            Ok(true) => {
                let key = list[0].clone();
                first(name, k, Pos::Subkeys(list, 0), key)
            }
            Ok(false) => 0,
            Err(e) => fail(name, e, 0),
        }
    })
}

#[no_mangle]
pub extern "C" fn k2h_find_first_subkey(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
) -> k2h_find_h {
    first_subkey("k2h_find_first_subkey", handle, key(pkey, keylength))
}

#[no_mangle]
pub extern "C" fn k2h_find_first_str_subkey(handle: k2h_h, pkey: *const c_char) -> k2h_find_h {
    first_subkey("k2h_find_first_str_subkey", handle, str_key(pkey))
}

/// Advance; at the end the iterator is freed and 0 returned.
#[no_mangle]
pub extern "C" fn k2h_find_next(findhandle: k2h_find_h) -> k2h_find_h {
    guard("k2h_find_next", 0, || {
        let Some(f) = FIND.get(findhandle) else {
            return 0;
        };
        let r = f.lock().advance();
        match r {
            Ok(true) => findhandle,
            Ok(false) => {
                FIND.remove(findhandle);
                0
            }
            Err(e) => {
                FIND.remove(findhandle);
                fail("k2h_find_next", e, 0)
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn k2h_find_free(findhandle: k2h_find_h) -> CBool {
    cbool(|| {
        FIND.remove(findhandle);
        true
    })
}

fn with_finder<R: Copy>(
    name: &str,
    fh: k2h_find_h,
    default: R,
    f: impl FnOnce(&Finder) -> crate::Result<R>,
) -> R {
    guard(name, default, || {
        let Some(fd) = FIND.get(fh) else {
            return fail(name, format!("invalid find handle {fh:#x}"), default);
        };
        let g = fd.lock();
        match f(&g) {
            Ok(r) => r,
            Err(e) => fail(name, e, default),
        }
    })
}

#[no_mangle]
pub extern "C" fn k2h_find_get_key(
    findhandle: k2h_find_h,
    ppkey: *mut *mut u8,
    pkeylength: *mut size_t,
) -> CBool {
    cbool(|| {
        if ppkey.is_null() || pkeylength.is_null() {
            return false;
        }
        with_finder("k2h_find_get_key", findhandle, false, |f| {
            out_bytes(ppkey, pkeylength, &f.key);
            Ok(true)
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_find_get_str_key(findhandle: k2h_find_h) -> *mut c_char {
    with_finder(
        "k2h_find_get_str_key",
        findhandle,
        std::ptr::null_mut(),
        |f| Ok(malloc_copy(&f.key) as *mut c_char),
    )
}

fn raw_value(f: &Finder) -> crate::Result<Option<Vec<u8>>> {
    if let Pos::Subkeys(..) = f.pos {
        return f.k.get(&f.key, Protect::No);
    }
    Ok(f.current(Parts {
        value: true,
        subkeys: false,
        attrs: false,
    })?
    .map(|e| e.value)
    .filter(|v| !v.is_empty()))
}

#[no_mangle]
pub extern "C" fn k2h_find_get_value(
    findhandle: k2h_find_h,
    ppval: *mut *mut u8,
    pvallength: *mut size_t,
) -> CBool {
    cbool(|| {
        if ppval.is_null() || pvallength.is_null() {
            return false;
        }
        set_out(ppval, std::ptr::null_mut());
        set_out(pvallength, 0);
        with_finder(
            "k2h_find_get_value",
            findhandle,
            false,
            |f| match raw_value(f)? {
                Some(v) => {
                    out_bytes(ppval, pvallength, &v);
                    Ok(true)
                }
                None => Ok(false),
            },
        )
    })
}

#[no_mangle]
pub extern "C" fn k2h_find_get_direct_value(findhandle: k2h_find_h) -> *mut c_char {
    with_finder(
        "k2h_find_get_direct_value",
        findhandle,
        std::ptr::null_mut(),
        |f| {
            Ok(raw_value(f)?
                .map(|v| malloc_copy(&v) as *mut c_char)
                .unwrap_or(std::ptr::null_mut()))
        },
    )
}

fn cur_subkeys(f: &Finder) -> crate::Result<Option<Vec<Vec<u8>>>> {
    let sk = f
        .current(Parts {
            value: false,
            subkeys: true,
            attrs: false,
        })?
        .map(|e| lists::parse_subkeys(&e.subkeys));
    Ok(sk.filter(|v| !v.is_empty()))
}

#[no_mangle]
pub extern "C" fn k2h_find_get_subkeys(
    findhandle: k2h_find_h,
    ppskeypck: *mut PK2HKEYPCK,
    pskeypckcnt: *mut c_int,
) -> CBool {
    cbool(|| {
        if ppskeypck.is_null() || pskeypckcnt.is_null() {
            return false;
        }
        set_out(ppskeypck, std::ptr::null_mut());
        set_out(pskeypckcnt, 0);
        with_finder(
            "k2h_find_get_subkeys",
            findhandle,
            false,
            |f| match cur_subkeys(f)? {
                Some(v) => {
                    set_out(ppskeypck, malloc_keypack(&v));
                    set_out(pskeypckcnt, v.len() as c_int);
                    Ok(true)
                }
                None => Ok(false),
            },
        )
    })
}

#[no_mangle]
pub extern "C" fn k2h_find_get_direct_subkeys(
    findhandle: k2h_find_h,
    pskeypckcnt: *mut c_int,
) -> PK2HKEYPCK {
    let mut p = std::ptr::null_mut();
    if k2h_find_get_subkeys(findhandle, &mut p, pskeypckcnt).get() {
        p
    } else {
        std::ptr::null_mut()
    }
}

#[no_mangle]
pub extern "C" fn k2h_find_get_str_subkeys(
    findhandle: k2h_find_h,
    ppskeyarray: *mut *mut *mut c_char,
) -> c_int {
    if ppskeyarray.is_null() {
        return -1;
    }
    set_out(ppskeyarray, std::ptr::null_mut());
    with_finder(
        "k2h_find_get_str_subkeys",
        findhandle,
        -1,
        |f| match cur_subkeys(f)? {
            Some(v) => {
                set_out(ppskeyarray, malloc_strarray(&v));
                Ok(v.len() as c_int)
            }
            None => Ok(-1),
        },
    )
}

#[no_mangle]
pub extern "C" fn k2h_find_get_str_direct_subkeys(findhandle: k2h_find_h) -> *mut *mut c_char {
    let mut p = std::ptr::null_mut();
    if k2h_find_get_str_subkeys(findhandle, &mut p) > 0 {
        p
    } else {
        std::ptr::null_mut()
    }
}
