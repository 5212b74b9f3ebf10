//! Set / add (family I), remove (J) and rename (K).
use crate::capi::ffi::*;
use crate::capi::types::*;
use crate::k2h::K2h;
use libc::{c_char, c_int, size_t, time_t};

/// Common frame of a write: key check, handle lookup, error logging.
fn write_op(
    name: &str,
    h: k2h_h,
    k: Option<&[u8]>,
    f: impl FnOnce(&K2h, &[u8]) -> crate::Result<()>,
) -> bool {
    guard(name, false, || {
        let Some(k) = k else {
            return fail(name, "key is empty", false);
        };
        match with_handle(name, h, |kh| f(kh, k)) {
            None => false,
            Some(Ok(())) => true,
            Some(Err(e)) => fail(name, e, false),
        }
    })
}

fn set_all_impl(
    name: &str,
    h: k2h_h,
    k: Option<&[u8]>,
    v: &[u8],
    sk: Option<Vec<Vec<u8>>>,
    pass: *const c_char,
    exp: *const time_t,
) -> bool {
    let Some(sk) = sk else {
        return fail(name, "subkey array is NULL with a positive count", false);
    };
    let Ok(exp) = expire(exp) else {
        return fail(name, "expire is negative", false);
    };
    let pass = opt_str(pass);
    write_op(name, h, k, |kh, k| {
        kh.set_all(k, v, &sk, pass.as_deref(), exp)
    })
}

fn set_value_impl(
    name: &str,
    h: k2h_h,
    k: Option<&[u8]>,
    v: &[u8],
    pass: *const c_char,
    exp: *const time_t,
) -> bool {
    let Ok(exp) = expire(exp) else {
        return fail(name, "expire is negative", false);
    };
    let pass = opt_str(pass);
    write_op(name, h, k, |kh, k| kh.set_value(k, v, pass.as_deref(), exp))
}

fn add_subkey_impl(
    name: &str,
    h: k2h_h,
    k: Option<&[u8]>,
    sk: Option<&[u8]>,
    v: &[u8],
    pass: *const c_char,
    exp: *const time_t,
) -> bool {
    let Some(sk) = sk else {
        return fail(name, "subkey is empty", false);
    };
    let Ok(exp) = expire(exp) else {
        return fail(name, "expire is negative", false);
    };
    let pass = opt_str(pass);
    write_op(name, h, k, |kh, k| {
        kh.add_subkey(k, sk, v, pass.as_deref(), exp)
    })
}

#[no_mangle]
pub extern "C" fn k2h_set_all(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pval: *const u8,
    vallength: size_t,
    pskeypck: PK2HKEYPCK,
    skeypckcnt: c_int,
) -> CBool {
    cbool(|| {
        set_all_impl(
            "k2h_set_all",
            handle,
            key(pkey, keylength),
            val(pval, vallength),
            keypack(pskeypck, skeypckcnt),
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_set_str_all(
    handle: k2h_h,
    pkey: *const c_char,
    pval: *const c_char,
    pskeyarray: *mut *const c_char,
) -> CBool {
    cbool(|| {
        set_all_impl(
            "k2h_set_str_all",
            handle,
            str_key(pkey),
            str_val(pval),
            Some(str_array(pskeyarray)),
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_set_value(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pval: *const u8,
    vallength: size_t,
) -> CBool {
    cbool(|| {
        set_value_impl(
            "k2h_set_value",
            handle,
            key(pkey, keylength),
            val(pval, vallength),
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_set_str_value(
    handle: k2h_h,
    pkey: *const c_char,
    pval: *const c_char,
) -> CBool {
    cbool(|| {
        set_value_impl(
            "k2h_set_str_value",
            handle,
            str_key(pkey),
            str_val(pval),
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_set_all_wa(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pval: *const u8,
    vallength: size_t,
    pskeypck: PK2HKEYPCK,
    skeypckcnt: c_int,
    pass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        set_all_impl(
            "k2h_set_all_wa",
            handle,
            key(pkey, keylength),
            val(pval, vallength),
            keypack(pskeypck, skeypckcnt),
            pass,
            expire,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_set_str_all_wa(
    handle: k2h_h,
    pkey: *const c_char,
    pval: *const c_char,
    pskeyarray: *mut *const c_char,
    pass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        set_all_impl(
            "k2h_set_str_all_wa",
            handle,
            str_key(pkey),
            str_val(pval),
            Some(str_array(pskeyarray)),
            pass,
            expire,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_set_value_wa(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pval: *const u8,
    vallength: size_t,
    pass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        set_value_impl(
            "k2h_set_value_wa",
            handle,
            key(pkey, keylength),
            val(pval, vallength),
            pass,
            expire,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_set_str_value_wa(
    handle: k2h_h,
    pkey: *const c_char,
    pval: *const c_char,
    pass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        set_value_impl(
            "k2h_set_str_value_wa",
            handle,
            str_key(pkey),
            str_val(pval),
            pass,
            expire,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_set_subkeys(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pskeypck: PK2HKEYPCK,
    skeypckcnt: c_int,
) -> CBool {
    cbool(|| {
        let Some(sk) = keypack(pskeypck, skeypckcnt) else {
            return fail("k2h_set_subkeys", "subkey array is NULL", false);
        };
        write_op("k2h_set_subkeys", handle, key(pkey, keylength), |kh, k| {
            kh.set_subkeys(k, &sk)
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_set_str_subkeys(
    handle: k2h_h,
    pkey: *const c_char,
    pskeyarray: *mut *const c_char,
) -> CBool {
    cbool(|| {
        let sk = str_array(pskeyarray);
        write_op("k2h_set_str_subkeys", handle, str_key(pkey), |kh, k| {
            kh.set_subkeys(k, &sk)
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_add_subkey(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    psubkey: *const u8,
    skeylength: size_t,
    pval: *const u8,
    vallength: size_t,
) -> CBool {
    cbool(|| {
        add_subkey_impl(
            "k2h_add_subkey",
            handle,
            key(pkey, keylength),
            key(psubkey, skeylength),
            val(pval, vallength),
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_add_str_subkey(
    handle: k2h_h,
    pkey: *const c_char,
    psubkey: *const c_char,
    pval: *const c_char,
) -> CBool {
    cbool(|| {
        add_subkey_impl(
            "k2h_add_str_subkey",
            handle,
            str_key(pkey),
            str_key(psubkey),
            str_val(pval),
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_add_subkey_wa(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    psubkey: *const u8,
    skeylength: size_t,
    pval: *const u8,
    vallength: size_t,
    pass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        add_subkey_impl(
            "k2h_add_subkey_wa",
            handle,
            key(pkey, keylength),
            key(psubkey, skeylength),
            val(pval, vallength),
            pass,
            expire,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_add_str_subkey_wa(
    handle: k2h_h,
    pkey: *const c_char,
    psubkey: *const c_char,
    pval: *const c_char,
    pass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        add_subkey_impl(
            "k2h_add_str_subkey_wa",
            handle,
            str_key(pkey),
            str_key(psubkey),
            str_val(pval),
            pass,
            expire,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_add_attr(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pattrkey: *const u8,
    attrkeylength: size_t,
    pattrval: *const u8,
    attrvallength: size_t,
) -> CBool {
    cbool(|| {
        let Some(ak) = key(pattrkey, attrkeylength) else {
            return fail("k2h_add_attr", "attribute name is empty", false);
        };
        let av = val(pattrval, attrvallength);
        write_op("k2h_add_attr", handle, key(pkey, keylength), |kh, k| {
            kh.add_attr(k, ak, av)
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_add_str_attr(
    handle: k2h_h,
    pkey: *const c_char,
    pattrkey: *const c_char,
    pattrval: *const c_char,
) -> CBool {
    cbool(|| {
        let Some(ak) = str_key(pattrkey) else {
            return fail("k2h_add_str_attr", "attribute name is empty", false);
        };
        let av = str_val(pattrval);
        write_op("k2h_add_str_attr", handle, str_key(pkey), |kh, k| {
            kh.add_attr(k, ak, av)
        })
    })
}

// ---------------------------------------------------------------- remove (J)

#[no_mangle]
pub extern "C" fn k2h_remove_all(handle: k2h_h, pkey: *const u8, keylength: size_t) -> CBool {
    cbool(|| {
        write_op("k2h_remove_all", handle, key(pkey, keylength), |kh, k| {
            kh.remove_all(k)
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_remove_str_all(handle: k2h_h, pkey: *const c_char) -> CBool {
    cbool(|| {
        write_op("k2h_remove_str_all", handle, str_key(pkey), |kh, k| {
            kh.remove_all(k)
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_remove(handle: k2h_h, pkey: *const u8, keylength: size_t) -> CBool {
    cbool(|| {
        write_op("k2h_remove", handle, key(pkey, keylength), |kh, k| {
            kh.remove(k).map(|_| ())
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_remove_str(handle: k2h_h, pkey: *const c_char) -> CBool {
    cbool(|| {
        write_op("k2h_remove_str", handle, str_key(pkey), |kh, k| {
            kh.remove(k).map(|_| ())
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_remove_subkey(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    psubkey: *const u8,
    skeylength: size_t,
) -> CBool {
    cbool(|| {
        let Some(sk) = key(psubkey, skeylength) else {
            return fail("k2h_remove_subkey", "subkey is empty", false);
        };
        write_op(
            "k2h_remove_subkey",
            handle,
            key(pkey, keylength),
            |kh, k| kh.remove_subkey(k, sk),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_remove_str_subkey(
    handle: k2h_h,
    pkey: *const c_char,
    psubkey: *const c_char,
) -> CBool {
    cbool(|| {
        let Some(sk) = str_key(psubkey) else {
            return fail("k2h_remove_str_subkey", "subkey is empty", false);
        };
        write_op("k2h_remove_str_subkey", handle, str_key(pkey), |kh, k| {
            kh.remove_subkey(k, sk)
        })
    })
}

// ---------------------------------------------------------------- rename (K)

fn rename_impl(name: &str, h: k2h_h, old: Option<&[u8]>, new: Option<&[u8]>) -> bool {
    let Some(new) = new else {
        return fail(name, "new key is empty", false);
    };
    write_op(name, h, old, |kh, k| match kh.rename(k, new)? {
        true => Ok(()),
        false => Err(crate::K2hError::NotFound),
    })
}
#[no_mangle]
pub extern "C" fn k2h_rename(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    pnewkey: *const u8,
    newkeylength: size_t,
) -> CBool {
    cbool(|| {
        rename_impl(
            "k2h_rename",
            handle,
            key(pkey, keylength),
            key(pnewkey, newkeylength),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_rename_str(
    handle: k2h_h,
    pkey: *const c_char,
    pnewkey: *const c_char,
) -> CBool {
    cbool(|| rename_impl("k2h_rename_str", handle, str_key(pkey), str_key(pnewkey)))
}
