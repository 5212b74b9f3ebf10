//! The one module with `unsafe` code: it turns raw C pointers into Rust values and back,
//! allocates with the C allocator, keeps the set of live packet handles, and makes the libc
//! calls that take caller-supplied descriptors, streams or libraries. Every other module of the
//! crate is safe Rust and goes through these helpers.
use std::collections::HashSet;
use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, OnceLock};

use libc::{c_char, c_int, c_long, c_uchar, c_void, off_t, size_t, ssize_t, timespec, FILE};

use crate::capi::types::*;

// ---------------------------------------------------------------- bool in and out

/// The result of every exported function the header declares `bool`: a 32-bit 0 or 1, so the
/// whole return register is clean for callers (or bindings) that read it as an int. The header
/// shows it as `bool` (cbindgen renames it).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CBool(u32);

impl CBool {
    pub fn get(self) -> bool {
        self.0 != 0
    }
}

impl From<bool> for CBool {
    fn from(b: bool) -> CBool {
        CBool(u32::from(b))
    }
}

/// A `bool` argument as it arrives: one byte, any non-zero value is true (a caller that passes
/// 2 through a wrong prototype cannot make us read an invalid Rust `bool`). Shown as `bool`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct BoolArg(pub u8);

impl BoolArg {
    pub fn get(self) -> bool {
        self.0 != 0
    }
}

/// Runs the body of an exported function: initialises the debug output once, and turns a panic
/// into `default` (a panic never unwinds into C).
pub fn guard<R>(name: &str, default: R, f: impl FnOnce() -> R) -> R {
    crate::capi::debug::init_once();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            log::error!("{name}: internal error (panic caught)");
            default
        }
    }
}

/// [`guard`] for functions declared `bool`.
pub fn guard_bool(name: &str, f: impl FnOnce() -> bool) -> CBool {
    CBool::from(guard(name, false, f))
}

// ---------------------------------------------------------------- reading C values

/// `len` bytes at `p`; None for NULL or a zero length.
pub fn bytes<'a>(p: *const u8, len: size_t) -> Option<&'a [u8]> {
    if p.is_null() || len == 0 {
        return None;
    }
    // SAFETY: the C API contract: a non-NULL buffer comes with its length of readable bytes.
    Some(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A NUL-terminated string's bytes (without the NUL); None for NULL.
pub fn cstr_bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-NULL `const char*` argument is a NUL-terminated string (C API contract).
    Some(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// A string argument; None for NULL or "" (the original's CHMEMPTYSTR). Not UTF-8 bytes are
/// replaced (U+FFFD).
pub fn opt_string(p: *const c_char) -> Option<String> {
    cstr_bytes(p)
        .filter(|b| !b.is_empty())
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// A CHMBIN's bytes: empty for length 0; None when `byptr` is NULL with a length.
pub fn bin<'a>(b: &CHMBIN) -> Option<&'a [u8]> {
    if b.length == 0 {
        return Some(&[]);
    }
    bytes(b.byptr, b.length)
}

/// `*pbin` (None for NULL).
pub fn read_bin<'a>(p: *const CHMBIN) -> Option<&'a [u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL pointer to a CHMBIN supplied by the caller.
    let b = unsafe { *p };
    bin(&b)
}

/// The key and value of `*pkvp` (None for NULL or a part with a NULL buffer and a length).
pub fn read_kvp<'a>(p: *const CHMKVP) -> Option<(&'a [u8], &'a [u8])> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL pointer to a CHMKVP supplied by the caller.
    let kvp = unsafe { *p };
    Some((bin(&kvp.key)?, bin(&kvp.val)?))
}

/// Writes through an out pointer if it is non-NULL.
pub fn set_out<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: non-NULL out pointer supplied by the caller, valid for one T.
        unsafe { p.write_unaligned(v) };
    }
}

// ---------------------------------------------------------------- C allocations

/// A malloc'ed copy of `data` (at least one byte is allocated); NULL when out of memory.
pub fn malloc_copy(data: &[u8]) -> *mut u8 {
    // SAFETY: malloc of max(len, 1) bytes, then a copy of exactly len bytes into it.
    unsafe {
        let p = libc::malloc(data.len().max(1)) as *mut u8;
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len());
        }
        p
    }
}

/// free() of a buffer from [`malloc_copy`] that never reached the caller.
pub fn free(p: *mut u8) {
    // SAFETY: `p` came from our malloc and is not referenced anywhere else.
    unsafe { libc::free(p as *mut c_void) };
}

/// Addresses of the packets handed out and not destroyed yet.
fn live_packets() -> &'static Mutex<HashSet<usize>> {
    static LIVE: OnceLock<Mutex<HashSet<usize>>> = OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(HashSet::new()))
}

fn live() -> std::sync::MutexGuard<'static, HashSet<usize>> {
    live_packets().lock().unwrap_or_else(|e| e.into_inner())
}

/// A malloc'ed packet: the 120 head bytes, then `body` if given. Returns its handle (address).
pub fn packet_new(head: &[u8; COMPKT_BYTES], body: Option<&[u8]>) -> Option<chmpx_pkt_h> {
    let extra = body.map_or(0, <[u8]>::len);
    // SAFETY: malloc of 120 + extra bytes, both parts copied within that size.
    let p = unsafe {
        let p = libc::malloc(COMPKT_BYTES + extra) as *mut u8;
        if p.is_null() {
            return None;
        }
        std::ptr::copy_nonoverlapping(head.as_ptr(), p, COMPKT_BYTES);
        if let Some(b) = body {
            std::ptr::copy_nonoverlapping(b.as_ptr(), p.add(COMPKT_BYTES), b.len());
        }
        p
    };
    live().insert(p as usize);
    Some(p as usize as chmpx_pkt_h)
}

/// The 120 head bytes of a live packet; None for anything we did not hand out.
pub fn packet_head(h: chmpx_pkt_h) -> Option<[u8; COMPKT_BYTES]> {
    let set = live();
    if h == 0 || !set.contains(&(h as usize)) {
        return None;
    }
    let mut out = [0u8; COMPKT_BYTES];
    // SAFETY: `h` is a live packet of ours (at least 120 bytes); the set's lock keeps a
    // concurrent chmpx_pkth_destroy from freeing it during the copy.
    unsafe {
        std::ptr::copy_nonoverlapping(h as usize as *const u8, out.as_mut_ptr(), COMPKT_BYTES)
    };
    Some(out)
}

/// Frees a live packet; false for anything we did not hand out (or that was freed already).
pub fn packet_free(h: chmpx_pkt_h) -> bool {
    if h == 0 || !live().remove(&(h as usize)) {
        return false;
    }
    // SAFETY: the address came from our malloc and was just removed from the live set, so it
    // is freed exactly once.
    unsafe { libc::free(h as usize as *mut c_void) };
    true
}

/// Size of the packet head in memory.
pub const COMPKT_BYTES: usize = 120;
const _: () = assert!(std::mem::size_of::<COMPKT>() == COMPKT_BYTES);

// ---------------------------------------------------------------- file descriptors

/// Calls `op(done)` (one pread or pwrite of what is left after `done` bytes) until `count`
/// bytes are done; -1 on an error (EINTR is retried). A call that moves nothing ends a read
/// (end of file, `nothing_ends`) and fails a write (no progress instead of an endless loop).
fn io_full(count: size_t, nothing_ends: bool, mut op: impl FnMut(usize) -> ssize_t) -> ssize_t {
    let mut done = 0usize;
    while done < count {
        let r = op(done);
        if r < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return -1;
        }
        if r == 0 {
            if nothing_ends {
                break;
            }
            return -1;
        }
        done += r as usize;
    }
    done as ssize_t
}

/// pread until `count` bytes or end of file; -1 on error (EINTR is retried).
pub fn pread_full(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t {
    if count > 0 && buf.is_null() {
        return -1;
    }
    io_full(count, true, |done| {
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

/// pwrite until `count` bytes are written; -1 on error (EINTR is retried; a write that makes
/// no progress is an error instead of an endless loop).
pub fn pwrite_full(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t {
    if count > 0 && buf.is_null() {
        return -1;
    }
    io_full(count, false, |done| {
        // SAFETY: the caller's buffer has `count` readable bytes; we write its unwritten tail.
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

/// One read(2) into `buf`.
pub fn read_fd(fd: c_int, buf: &mut [u8]) -> ssize_t {
    // SAFETY: reading at most buf.len() bytes into our own buffer.
    unsafe { libc::read(fd, buf.as_mut_ptr() as *mut c_void, buf.len()) }
}

/// ftruncate(2).
pub fn ftruncate(fd: c_int, length: size_t) -> bool {
    let Ok(len) = off_t::try_from(length) else {
        return false;
    };
    // SAFETY: plain system call on a descriptor number.
    unsafe { libc::ftruncate(fd, len) == 0 }
}

/// Waits up to `ms` milliseconds for `fd` to become readable (or hung up).
pub fn wait_readable(fd: c_int, ms: c_int) {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut pfd, 1, ms) };
}

pub fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

// ---------------------------------------------------------------- C streams

extern "C" {
    static mut stdout: *mut FILE;
}

/// Writes `text` to a C stream (NULL = stdout) and flushes it.
pub fn write_stream(stream: *mut FILE, text: &str) -> bool {
    // SAFETY: writing a buffer of known length to a caller-supplied (or the process's) stream.
    unsafe {
        let fp = if stream.is_null() {
            *std::ptr::addr_of!(stdout)
        } else {
            stream
        };
        if fp.is_null() {
            return false;
        }
        let n = libc::fwrite(text.as_ptr() as *const c_void, 1, text.len(), fp);
        libc::fflush(fp);
        n == text.len()
    }
}

/// fopen(path, "a+"); NULL on failure.
pub fn fopen_append(path: &CStr) -> *mut FILE {
    // SAFETY: both arguments are valid NUL-terminated strings.
    unsafe { libc::fopen(path.as_ptr(), c"a+".as_ptr()) }
}

/// fclose of a stream we opened.
pub fn fclose(fp: *mut FILE) -> bool {
    if fp.is_null() {
        return true;
    }
    // SAFETY: `fp` was returned by our fopen and is closed once (the caller swapped it out).
    unsafe { libc::fclose(fp) == 0 }
}

// ---------------------------------------------------------------- shared libraries

/// A dlopen'ed library (the handle only goes back to dlclose).
pub struct Lib(usize);

/// dlopen(path, RTLD_LAZY).
pub fn dl_open(path: &CStr) -> Option<Lib> {
    // SAFETY: dlopen with a valid C string.
    let h = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_LAZY) };
    (!h.is_null()).then_some(Lib(h as usize))
}

/// dlsym in one library.
pub fn dl_sym(lib: &Lib, name: &CStr) -> *mut c_void {
    // SAFETY: dlsym on a live handle with a valid C string.
    unsafe { libc::dlsym(lib.0 as *mut c_void, name.as_ptr()) }
}

/// dlsym(RTLD_DEFAULT): a symbol anywhere in the process.
pub fn dl_default(name: &CStr) -> *mut c_void {
    // SAFETY: dlsym with a constant NUL-terminated name.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

pub fn dl_close(lib: Lib) {
    // SAFETY: closing a handle returned by dlopen, once (Lib is consumed).
    unsafe { libc::dlclose(lib.0 as *mut c_void) };
}

/// The k2hashfunc.h functions found in a hash library.
pub fn hash_funcs(
    hash: *mut c_void,
    second: *mut c_void,
    version: *mut c_void,
) -> Option<k2hash_hash::HashFuncs> {
    if hash.is_null() || second.is_null() || version.is_null() {
        return None;
    }
    // SAFETY: non-NULL symbols that k2hashfunc.h defines with exactly these prototypes.
    unsafe {
        Some(k2hash_hash::HashFuncs {
            hash: std::mem::transmute::<*mut c_void, k2hash_hash::HashFn>(hash),
            second: std::mem::transmute::<*mut c_void, k2hash_hash::HashFn>(second),
            version: std::mem::transmute::<*mut c_void, k2hash_hash::VersionFn>(version),
        })
    }
}

/// Calls libk2hash's `bool k2h_load_hash_library(const char*)` found at `f`.
pub fn call_load_library(f: *mut c_void, path: &CStr) -> bool {
    if f.is_null() {
        return false;
    }
    // SAFETY: `f` is the address of k2h_load_hash_library, whose prototype this is.
    unsafe {
        let f = std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*const c_char) -> bool>(f);
        f(path.as_ptr())
    }
}

/// Calls libk2hash's `bool k2h_unload_hash_library(void)` found at `f`.
pub fn call_unload_library(f: *mut c_void) -> bool {
    if f.is_null() {
        return false;
    }
    // SAFETY: `f` is the address of k2h_unload_hash_library, whose prototype this is.
    unsafe {
        let f = std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> bool>(f);
        f()
    }
}

// ---------------------------------------------------------------- merge callbacks

fn c_ts(t: chmpx_core::wire::Timespec) -> timespec {
    timespec {
        tv_sec: t.sec as libc::time_t,
        tv_nsec: t.nsec as libc::c_long,
    }
}

/// Calls the client's `chm_merge_lastts_cb`; None when it fails.
pub fn call_merge_lastts(
    f: unsafe extern "C" fn(chmpx_h, *mut timespec) -> bool,
    handle: chmpx_h,
) -> Option<chmpx_core::wire::Timespec> {
    let mut ts = timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: the callback was registered by the application for this purpose; it gets a
    // valid timespec to fill.
    let ok = unsafe { f(handle, &mut ts) };
    ok.then_some(chmpx_core::wire::Timespec {
        sec: ts.tv_sec,
        nsec: ts.tv_nsec,
    })
}

/// The `chm_merge_get_cb` type without its `Option`.
pub type MergeGetFn = unsafe extern "C" fn(
    chmpx_h,
    PCHM_MERGE_GETPARAM,
    *mut chmhash_t,
    *mut PCHMBIN,
    *mut size_t,
) -> bool;

/// Calls the client's `chm_merge_get_cb` once: the datums it returned (copied, then freed
/// with `free()` as the original does) and the next hash; None when it fails.
pub fn call_merge_get(
    f: MergeGetFn,
    handle: chmpx_h,
    p: &chmpx_core::ipc::MergeGet,
    start: u64,
) -> Option<(Vec<Vec<u8>>, u64)> {
    let mut param = chm_merge_getparam {
        starthash: start,
        startts: c_ts(p.startts),
        endts: c_ts(p.endts),
        target_hash: p.target_hash,
        target_max_hash: p.target_max_hash,
        old_hash: p.old_hash,
        old_max_hash: p.old_max_hash,
        target_hash_range: p.target_hash_range as c_long,
        is_expire_check: p.is_expire_check,
    };
    let mut next: chmhash_t = 0;
    let mut datas: PCHMBIN = std::ptr::null_mut();
    let mut count: size_t = 0;
    // SAFETY: every out pointer is valid for the call; the callback fills them.
    let ok = unsafe { f(handle, &mut param, &mut next, &mut datas, &mut count) };
    let mut out = Vec::new();
    if !datas.is_null() {
        for i in 0..count {
            // SAFETY: the callback returned an array of `count` CHMBIN allocated with malloc.
            let b = unsafe { &*datas.add(i) };
            if let Some(bytes) = bin(b) {
                out.push(bytes.to_vec());
            }
            free(b.byptr);
        }
        free(datas as *mut u8);
    }
    ok.then_some((out, next))
}

/// Calls the client's `chm_merge_set_cb` with one datum.
pub fn call_merge_set(
    f: unsafe extern "C" fn(chmpx_h, size_t, *const c_uchar, *const timespec) -> bool,
    handle: chmpx_h,
    data: &[u8],
    ts: chmpx_core::wire::Timespec,
) -> bool {
    let ts = c_ts(ts);
    // SAFETY: data and ts stay valid for the call.
    unsafe { f(handle, data.len(), data.as_ptr(), &ts) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_tracked() {
        let head = [7u8; COMPKT_BYTES];
        let h = packet_new(&head, Some(b"body")).unwrap();
        assert_eq!(packet_head(h).unwrap(), head);
        assert!(packet_free(h));
        assert!(!packet_free(h), "second free is refused");
        assert!(packet_head(h).is_none());
        assert!(!packet_free(0));
        assert!(!packet_free(0x1234));
    }

    #[test]
    fn readers_refuse_null() {
        assert!(bytes(std::ptr::null(), 3).is_none());
        assert!(bytes(b"x".as_ptr(), 0).is_none());
        assert!(opt_string(std::ptr::null()).is_none());
        assert!(opt_string(c"".as_ptr()).is_none());
        assert_eq!(opt_string(c"ab".as_ptr()).as_deref(), Some("ab"));
        assert!(read_kvp(std::ptr::null()).is_none());
        let bad = CHMKVP {
            key: CHMBIN {
                byptr: std::ptr::null_mut(),
                length: 4,
            },
            val: CHMBIN {
                byptr: std::ptr::null_mut(),
                length: 0,
            },
        };
        assert!(read_kvp(&bad).is_none());
    }
}
