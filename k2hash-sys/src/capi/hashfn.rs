//! Hash functions (k2hashfunc.h) and binary helpers (k2hutil.h) exported with C linkage.
use crate::capi::ffi::{guard, key, malloc_copy};
use libc::{c_char, c_int, c_void, off_t, size_t, ssize_t};

/// Built-in primary hash (FNV-1a 64 over sign-extended bytes). A program may define its own.
#[no_mangle]
pub unsafe extern "C" fn k2h_hash(ptr: *const c_void, length: size_t) -> u64 {
    match key(ptr as *const u8, length) {
        Some(b) => crate::hash::builtin_hash(b),
        None => 0,
    }
}

/// Built-in second hash (the same over all bytes but the last).
#[no_mangle]
pub unsafe extern "C" fn k2h_second_hash(ptr: *const c_void, length: size_t) -> u64 {
    match key(ptr as *const u8, length) {
        Some(b) => crate::hash::builtin_second_hash(b),
        None => 0,
    }
}

/// Version string of the built-in hash functions.
#[no_mangle]
pub extern "C" fn k2h_hash_version() -> *const c_char {
    c"FNV-1A BUILTIN".as_ptr()
}

/// Repeat a partial I/O call until `count` bytes are done, end of file, or an error (-1);
/// EINTR is retried.
fn io_loop(count: size_t, mut step: impl FnMut(usize) -> ssize_t) -> ssize_t {
    let mut done = 0usize;
    while done < count {
        let r = step(done);
        if r < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return -1;
        }
        if r == 0 {
            break;
        }
        done += r as usize;
    }
    done as ssize_t
}

/// pread until `count` bytes or end of file; -1 on error.
#[no_mangle]
pub unsafe extern "C" fn k2h_pread(
    fd: c_int,
    buf: *mut c_void,
    count: size_t,
    offset: off_t,
) -> ssize_t {
    if buf.is_null() || fd < 0 || offset < 0 {
        return -1;
    }
    io_loop(count, |done| {
        // SAFETY: the caller's buffer has `count` bytes; we fill its unfilled tail.
        unsafe {
            libc::pread(
                fd,
                (buf as *mut u8).add(done) as *mut c_void,
                count - done,
                offset + done as off_t,
            )
        }
    })
}

/// pwrite until `count` bytes are written; -1 on error.
#[no_mangle]
pub unsafe extern "C" fn k2h_pwrite(
    fd: c_int,
    buf: *const c_void,
    count: size_t,
    offset: off_t,
) -> ssize_t {
    if buf.is_null() || fd < 0 || offset < 0 {
        return -1;
    }
    io_loop(count, |done| {
        // SAFETY: the caller's buffer has `count` readable bytes.
        unsafe {
            libc::pwrite(
                fd,
                (buf as *const u8).add(done) as *const c_void,
                count - done,
                offset + done as off_t,
            )
        }
    })
}

/// Compare two byte strings: memcmp over the common length, then shorter first.
#[no_mangle]
pub unsafe extern "C" fn k2hbincmp(
    bysrc: *const u8,
    srclen: size_t,
    bydest: *const u8,
    destlen: size_t,
) -> c_int {
    match (key(bysrc, srclen), key(bydest, destlen)) {
        (None, None) => 0,
        (None, Some(_)) => -1,
        (Some(_), None) => 1,
        (Some(a), Some(b)) => match a.cmp(b) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        },
    }
}

/// malloc'd copy (NULL for NULL or 0 length).
#[no_mangle]
pub unsafe extern "C" fn k2hbindup(bysrc: *const u8, length: size_t) -> *mut u8 {
    match key(bysrc, length) {
        Some(b) => malloc_copy(b),
        None => std::ptr::null_mut(),
    }
}

/// malloc'd concatenation; `length` receives the total (a C++ reference in the original).
#[no_mangle]
pub unsafe extern "C" fn k2hbinappend(
    bybase: *const u8,
    blength: size_t,
    byappend: *const u8,
    alength: size_t,
    length: *mut size_t,
) -> *mut u8 {
    guard("k2hbinappend", std::ptr::null_mut(), || {
        if length.is_null()
            || (bybase.is_null() != (blength == 0))
            || (byappend.is_null() != (alength == 0))
        {
            return std::ptr::null_mut();
        }
        let mut v = key(bybase, blength).unwrap_or(&[]).to_vec();
        v.extend_from_slice(key(byappend, alength).unwrap_or(&[]));
        if v.is_empty() {
            return std::ptr::null_mut();
        }
        // SAFETY: checked non-NULL above.
        unsafe { *length = v.len() };
        malloc_copy(&v)
    })
}

/// Append a C string including its NUL.
#[no_mangle]
pub unsafe extern "C" fn k2hbinappendstr(
    bybase: *const u8,
    blength: size_t,
    pappend: *const c_char,
    length: *mut size_t,
) -> *mut u8 {
    let s = crate::capi::ffi::str_val(pappend);
    // SAFETY: forwarding the caller's buffers.
    unsafe { k2hbinappend(bybase, blength, s.as_ptr(), s.len(), length) }
}
