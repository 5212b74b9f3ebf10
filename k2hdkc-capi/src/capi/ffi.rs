//! The one module with `unsafe` code: raw C pointers to Rust values and back, C allocations.
use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};

use libc::{c_char, c_uchar, c_void};

/// A C `bool` result with the whole return register clean (0 or 1), as the original's build.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CBool(u32);

impl CBool {
    pub const FALSE: CBool = CBool(0);
    pub const TRUE: CBool = CBool(1);
}

impl From<bool> for CBool {
    fn from(b: bool) -> CBool {
        CBool(b as u32)
    }
}

/// Runs `f`; a panic never crosses into C (an error line and `default` instead).
pub fn guard<R>(name: &str, default: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            log::error!("{name}: internal error");
            default
        }
    }
}

/// `len` bytes at `p` (empty for length 0; None for NULL with a length).
pub fn bytes<'a>(p: *const c_uchar, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        return Some(&[]);
    }
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller gives `len` readable bytes at the non-NULL `p`.
    Some(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A C string with its NUL (the `_str` convention: length = strlen + 1); None for NULL.
pub fn cstr_nul<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL pointer to a NUL-terminated string supplied by the caller.
    Some(unsafe { CStr::from_ptr(p) }.to_bytes_with_nul())
}

/// A C string without its NUL, as text (None for NULL or empty).
pub fn text(p: *const c_char) -> Option<String> {
    let b = cstr_nul(p)?;
    let b = &b[..b.len() - 1];
    (!b.is_empty()).then(|| String::from_utf8_lossy(b).into_owned())
}

/// A malloc'd copy of `data` with one extra NUL byte after it (so `_str` getters always hand
/// out a terminated string); NULL when out of memory.
pub fn malloc_copy(data: &[u8]) -> *mut c_uchar {
    // SAFETY: malloc of len + 1 bytes, then a copy of len bytes and a NUL into them.
    unsafe {
        let p = libc::malloc(data.len() + 1) as *mut c_uchar;
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len());
            *p.add(data.len()) = 0;
        }
        p
    }
}

/// Writes through an out pointer if it is non-NULL.
pub fn set_out<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: non-NULL out pointer supplied by the caller, valid for one T.
        unsafe { p.write_unaligned(v) };
    }
}

/// `*p` if `p` is not NULL.
pub fn read_opt<T: Copy>(p: *const T) -> Option<T> {
    // SAFETY: non-NULL pointer to a T supplied by the caller.
    (!p.is_null()).then(|| unsafe { p.read_unaligned() })
}

/// free() of a buffer of ours that never reached the caller.
pub fn free(p: *mut c_void) {
    // SAFETY: `p` came from our malloc and is referenced nowhere else.
    unsafe { libc::free(p) };
}

/// A calloc'd array of key packs (each key malloc'd), as `k2h_free_keypack` frees them; NULL
/// for none.
pub fn keypack(keys: &[Vec<u8>]) -> crate::capi::types::PK2HDKCKEYPCK {
    use crate::capi::types::K2HDKCKEYPCK;
    if keys.is_empty() {
        return std::ptr::null_mut();
    }
    // SAFETY: calloc of `len` packs, each filled with a malloc'd copy of its key.
    unsafe {
        let p = libc::calloc(keys.len(), std::mem::size_of::<K2HDKCKEYPCK>()) as *mut K2HDKCKEYPCK;
        if p.is_null() {
            return p;
        }
        for (i, k) in keys.iter().enumerate() {
            p.add(i).write(K2HDKCKEYPCK {
                pkey: malloc_copy(k),
                length: k.len(),
            });
        }
        p
    }
}

/// A calloc'd NULL-terminated array of malloc'd strings (`k2h_free_keyarray` frees it).
pub fn keyarray(keys: &[Vec<u8>]) -> *mut *mut c_char {
    // SAFETY: calloc of len + 1 pointers (the last stays NULL), each a malloc'd copy.
    unsafe {
        let p =
            libc::calloc(keys.len() + 1, std::mem::size_of::<*mut c_char>()) as *mut *mut c_char;
        if p.is_null() {
            return p;
        }
        for (i, k) in keys.iter().enumerate() {
            p.add(i).write(malloc_copy(k) as *mut c_char);
        }
        p
    }
}

/// A calloc'd array of attribute packs (`k2h_free_attrpack` frees it); NULL for none.
pub fn attrpack(attrs: &[(Vec<u8>, Vec<u8>)]) -> crate::capi::types::PK2HDKCATTRPCK {
    use crate::capi::types::K2HDKCATTRPCK;
    if attrs.is_empty() {
        return std::ptr::null_mut();
    }
    // SAFETY: calloc of `len` packs, each filled with malloc'd copies of name and value.
    unsafe {
        let p =
            libc::calloc(attrs.len(), std::mem::size_of::<K2HDKCATTRPCK>()) as *mut K2HDKCATTRPCK;
        if p.is_null() {
            return p;
        }
        for (i, (k, v)) in attrs.iter().enumerate() {
            p.add(i).write(K2HDKCATTRPCK {
                pkey: malloc_copy(k),
                keylength: k.len(),
                pval: malloc_copy(v),
                vallength: v.len(),
            });
        }
        p
    }
}

/// The keys of a caller's key pack array (`cnt` entries); None for NULL with a count.
pub fn read_keypack(
    p: crate::capi::types::PK2HDKCKEYPCK,
    cnt: libc::c_int,
) -> Option<Vec<Vec<u8>>> {
    if cnt <= 0 {
        return Some(Vec::new());
    }
    if p.is_null() {
        return None;
    }
    let mut v = Vec::with_capacity(cnt as usize);
    for i in 0..cnt as usize {
        // SAFETY: the caller gives `cnt` packs at `p`, each with `length` bytes at `pkey`.
        let k = unsafe { &*p.add(i) };
        v.push(bytes(k.pkey, k.length)?.to_vec());
    }
    Some(v)
}

/// The strings (with their NULs) of a caller's NULL-terminated array.
pub fn read_keyarray(p: *mut *mut c_char) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    if p.is_null() {
        return v;
    }
    for i in 0.. {
        // SAFETY: the caller's array is NULL-terminated; each entry a C string.
        let s = unsafe { *p.add(i) };
        if s.is_null() {
            break;
        }
        if let Some(b) = cstr_nul(s) {
            v.push(b.to_vec());
        }
    }
    v
}

// ---------------------------------------------------------------- C streams and clocks

extern "C" {
    static mut stdout: *mut libc::FILE;
    static mut stderr: *mut libc::FILE;
}

fn write_flush(fp: *mut libc::FILE, text: &str) -> bool {
    if fp.is_null() {
        return false;
    }
    // SAFETY: a buffer of known length written to an open C stream.
    unsafe {
        let n = libc::fwrite(text.as_ptr() as *const c_void, 1, text.len(), fp);
        libc::fflush(fp);
        n == text.len()
    }
}

/// Writes `text` to a caller's C stream (NULL = stdout) and flushes it.
pub fn write_stream(stream: *mut libc::FILE, text: &str) -> bool {
    // SAFETY: reading the process's stdout pointer.
    let fp = if stream.is_null() {
        unsafe { *std::ptr::addr_of!(stdout) }
    } else {
        stream
    };
    write_flush(fp, text)
}

/// Writes a debug line to `fp` (NULL = stderr).
pub fn write_debug(fp: *mut libc::FILE, text: &str) -> bool {
    // SAFETY: reading the process's stderr pointer.
    let fp = if fp.is_null() {
        unsafe { *std::ptr::addr_of!(stderr) }
    } else {
        fp
    };
    write_flush(fp, text)
}

/// fopen(path, "a+").
pub fn fopen_append(path: &std::ffi::CStr) -> *mut libc::FILE {
    // SAFETY: both arguments are valid NUL-terminated strings.
    unsafe { libc::fopen(path.as_ptr(), c"a+".as_ptr()) }
}

/// fclose of a stream we opened (NULL: nothing to do).
pub fn fclose(fp: *mut libc::FILE) -> bool {
    if fp.is_null() {
        return true;
    }
    // SAFETY: `fp` came from our fopen and is closed once (the caller swapped it out).
    unsafe { libc::fclose(fp) == 0 }
}

/// clock_gettime(CLOCK_REALTIME_COARSE).
pub fn realtime_coarse() -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } != 0 {
        ts.tv_sec = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as libc::time_t)
            .unwrap_or(0);
    }
    ts
}

/// `std::string::assign(const char*)` of the libstdc++ in this process (C++11 ABI), called on
/// the caller's string `s`; false when no libstdc++ is loaded.
pub fn cxx_string_assign(s: *mut c_void, text: &std::ffi::CStr) -> bool {
    const ASSIGN: &std::ffi::CStr =
        c"_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE6assignEPKc";
    // SAFETY: dlsym on the default scope with a valid C string.
    let f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, ASSIGN.as_ptr()) };
    if f.is_null() {
        log::error!("no libstdc++ std::string in this process");
        return false;
    }
    // SAFETY: `f` is libstdc++'s `basic_string& basic_string::assign(const char*)`, whose ABI is
    // (this, const char*) -> this; `s` is the caller's std::string (a C++ reference).
    unsafe {
        let f = std::mem::transmute::<
            *mut c_void,
            unsafe extern "C" fn(*mut c_void, *const c_char) -> *mut c_void,
        >(f);
        f(s, text.as_ptr());
    }
    true
}
