//! The one place that turns raw C pointers into Rust values and Rust values into C-allocated
//! memory, plus the handle registries and the panic guard used by every exported function.
use crate::capi::types::*;
use crate::k2h::K2h;
use std::collections::HashMap;
use std::ffi::CStr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The result of every exported function that the header declares `bool`. It is returned as a
/// 32-bit 0 or 1, so the whole return register is clean: callers that read the result as an
/// int (the PyPI binding declares some of these functions with an int result) see exactly 0 or
/// 1, as with the original's build. A `bool` result would only define the low byte. The headers
/// show it as `bool` (cbindgen renames it), which reads the low byte of the same register.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CBool(u32);

impl From<bool> for CBool {
    #[inline(always)]
    fn from(b: bool) -> CBool {
        CBool(b as u32)
    }
}

impl From<CBool> for bool {
    #[inline(always)]
    fn from(b: CBool) -> bool {
        b.0 != 0
    }
}

impl CBool {
    #[inline(always)]
    pub fn get(self) -> bool {
        self.0 != 0
    }
}

/// Run the body of an exported bool function and hand its result over as a [`CBool`].
#[inline(always)]
pub fn cbool(f: impl FnOnce() -> bool) -> CBool {
    CBool::from(f())
}

impl std::ops::Not for CBool {
    type Output = bool;
    #[inline(always)]
    fn not(self) -> bool {
        self.0 == 0
    }
}

/// Run `f`, turning a panic into `default` (panics never cross the FFI boundary).
pub fn guard<R>(name: &str, default: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            crate::capi::debug::err(name, "internal error (panic caught)");
            default
        }
    }
}

/// Binary key: None for NULL or length 0.
pub fn key<'a>(p: *const u8, len: usize) -> Option<&'a [u8]> {
    if p.is_null() || len == 0 {
        None
    } else {
        // SAFETY: the caller passes a buffer of `len` readable bytes (C API contract).
        Some(unsafe { std::slice::from_raw_parts(p, len) })
    }
}

/// Binary value: NULL or length 0 read as empty.
pub fn val<'a>(p: *const u8, len: usize) -> &'a [u8] {
    key(p, len).unwrap_or(&[])
}

/// String key with its NUL (strlen+1); None for NULL or "".
pub fn str_key<'a>(p: *const libc::c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller passes a NUL-terminated string.
    let c = unsafe { CStr::from_ptr(p) };
    if c.is_empty() {
        None
    } else {
        Some(c.to_bytes_with_nul())
    }
}

/// String value with its NUL; NULL reads as empty.
pub fn str_val<'a>(p: *const libc::c_char) -> &'a [u8] {
    if p.is_null() {
        return &[];
    }
    // SAFETY: the caller passes a NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_bytes_with_nul()
}

/// Plain string (pass phrases, paths): None for NULL or "".
pub fn opt_str(p: *const libc::c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller passes a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

/// `const time_t* expire`: NULL = default, negative = invalid.
pub fn expire(p: *const libc::time_t) -> Result<Option<i64>, &'static str> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL pointer to a time_t supplied by the caller.
    let v = unsafe { *p };
    if v < 0 {
        Err("expire is negative")
    } else {
        Ok(Some(v))
    }
}

/// NULL-terminated `const char**` array of string keys (each with its NUL).
pub fn str_array(p: *const *const libc::c_char) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    if p.is_null() {
        return v;
    }
    for i in 0.. {
        // SAFETY: the array is NULL-terminated (C API contract).
        let s = unsafe { *p.add(i) };
        if s.is_null() {
            break;
        }
        if let Some(k) = str_key(s) {
            v.push(k.to_vec());
        }
    }
    v
}

/// `K2HKEYPCK[cnt]` to owned keys.
pub fn keypack(p: *const K2HKEYPCK, cnt: libc::c_int) -> Option<Vec<Vec<u8>>> {
    if cnt <= 0 {
        return Some(Vec::new());
    }
    if p.is_null() {
        return None;
    }
    let mut v = Vec::with_capacity(cnt as usize);
    for i in 0..cnt as usize {
        // SAFETY: the caller passes `cnt` packs.
        let kp = unsafe { &*p.add(i) };
        if let Some(k) = key(kp.pkey, kp.length) {
            v.push(k.to_vec());
        }
    }
    Some(v)
}

// ---------------------------------------------------------------- C allocations

/// malloc'd copy of `data` with one extra NUL byte after it (never NULL unless out of memory).
pub fn malloc_copy(data: &[u8]) -> *mut u8 {
    // SAFETY: malloc of len+1 bytes, then a copy of exactly len bytes and the NUL.
    unsafe {
        let p = libc::malloc(data.len() + 1) as *mut u8;
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len());
            *p.add(data.len()) = 0;
        }
        p
    }
}

/// A value written straight into a `malloc`'d buffer (with a NUL after it, as `malloc_copy`);
/// freed when dropped unless taken.
#[derive(Default)]
pub struct MallocOut(Option<std::ptr::NonNull<u8>>);

impl MallocOut {
    /// The buffer (null when none), now the caller's to free.
    pub fn take(&mut self) -> *mut u8 {
        self.0.take().map_or(std::ptr::null_mut(), |p| p.as_ptr())
    }
}

impl crate::rcache::ValueOut for MallocOut {
    fn room(&mut self, len: usize) -> *mut u8 {
        self.discard();
        // SAFETY: malloc of len+1 bytes; the NUL goes after the `len` bytes the caller writes.
        unsafe {
            let p = libc::malloc(len + 1) as *mut u8;
            if !p.is_null() {
                *p.add(len) = 0;
            }
            self.0 = std::ptr::NonNull::new(p);
            p
        }
    }
    fn discard(&mut self) {
        if let Some(p) = self.0.take() {
            // SAFETY: freeing the buffer `room` allocated, never handed out.
            unsafe { libc::free(p.as_ptr() as *mut libc::c_void) };
        }
    }
    fn done(&mut self, _len: usize) {}
}

impl Drop for MallocOut {
    fn drop(&mut self) {
        crate::rcache::ValueOut::discard(self);
    }
}

/// calloc'd K2HKEYPCK array.
pub fn malloc_keypack(keys: &[Vec<u8>]) -> *mut K2HKEYPCK {
    // SAFETY: calloc of `n` packs; every element is written before return.
    unsafe {
        let arr =
            libc::calloc(keys.len().max(1), std::mem::size_of::<K2HKEYPCK>()) as *mut K2HKEYPCK;
        if arr.is_null() {
            return arr;
        }
        for (i, k) in keys.iter().enumerate() {
            *arr.add(i) = K2HKEYPCK {
                pkey: malloc_copy(k),
                length: k.len(),
            };
        }
        arr
    }
}

/// calloc'd NULL-terminated `char*` array.
pub fn malloc_strarray(keys: &[Vec<u8>]) -> *mut *mut libc::c_char {
    // SAFETY: calloc of n+1 pointers (the last stays NULL).
    unsafe {
        let arr = libc::calloc(keys.len() + 1, std::mem::size_of::<*mut libc::c_char>())
            as *mut *mut libc::c_char;
        if arr.is_null() {
            return arr;
        }
        for (i, k) in keys.iter().enumerate() {
            *arr.add(i) = malloc_copy(k) as *mut libc::c_char;
        }
        arr
    }
}

/// calloc'd K2HATTRPCK array.
pub fn malloc_attrpack(attrs: &[(Vec<u8>, Vec<u8>)]) -> *mut K2HATTRPCK {
    // SAFETY: calloc of `n` packs; every element is written before return.
    unsafe {
        let arr =
            libc::calloc(attrs.len().max(1), std::mem::size_of::<K2HATTRPCK>()) as *mut K2HATTRPCK;
        if arr.is_null() {
            return arr;
        }
        for (i, (k, v)) in attrs.iter().enumerate() {
            *arr.add(i) = K2HATTRPCK {
                pkey: malloc_copy(k),
                keylength: k.len(),
                pval: if v.is_empty() {
                    std::ptr::null_mut()
                } else {
                    malloc_copy(v)
                },
                vallength: v.len(),
            };
        }
        arr
    }
}

/// Store `data` into `*pp` / `*plen` (malloc'd).
pub fn out_bytes(pp: *mut *mut u8, plen: *mut usize, data: &[u8]) {
    // SAFETY: both pointers were checked non-NULL by the caller.
    unsafe {
        *pp = malloc_copy(data);
        if !plen.is_null() {
            *plen = data.len();
        }
    }
}

/// Write through an out pointer if it is non-NULL.
pub fn set_out<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: non-NULL out pointer supplied by the caller.
        unsafe { *p = v };
    }
}

/// Read a NUL-terminated C string (for FILE paths etc.).
pub fn path(p: *const libc::c_char) -> Option<std::path::PathBuf> {
    opt_str(p).map(std::path::PathBuf::from)
}

// ---------------------------------------------------------------- handle registries

/// Handle ids are sequential numbers: hashing them needs no more than a multiply.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IdMap<T> = HashMap<u64, Arc<T>, std::hash::BuildHasherDefault<IdHasher>>;

/// Opaque handles: ids looked up in a table, so a stale or foreign value is rejected. Lookups
/// are lock-free (the table is replaced copy-on-write when handles come and go).
pub struct Registry<T> {
    map: arc_swap::ArcSwapOption<IdMap<T>>,
    w: parking_lot::Mutex<()>,
    next: AtomicU64,
}

impl<T> Registry<T> {
    pub const fn new(base: u64) -> Self {
        Registry {
            map: arc_swap::ArcSwapOption::const_empty(),
            w: parking_lot::const_mutex(()),
            next: AtomicU64::new(base),
        }
    }
    fn update(&self, f: impl FnOnce(&mut IdMap<T>) -> Option<Arc<T>>) -> Option<Arc<T>> {
        let _w = self.w.lock();
        let mut m: IdMap<T> = self
            .map
            .load()
            .as_ref()
            .map(|m| (**m).clone())
            .unwrap_or_default();
        let r = f(&mut m);
        self.map.store(Some(Arc::new(m)));
        r
    }
    pub fn insert(&self, v: T) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let v = Arc::new(v);
        self.update(|m| m.insert(id, v));
        id
    }
    #[inline]
    pub fn get(&self, id: u64) -> Option<Arc<T>> {
        self.with(id, Arc::clone)
    }
    pub fn remove(&self, id: u64) -> Option<Arc<T>> {
        self.update(|m| m.remove(&id))
    }
    /// Run `f` on the object of `id` without taking a reference count (hot paths).
    #[inline]
    pub fn with<R>(&self, id: u64, f: impl FnOnce(&Arc<T>) -> R) -> Option<R> {
        let g = self.map.load();
        g.as_ref()?.get(&id).map(f)
    }
}

pub static K2H: Registry<K2h> = Registry::new(0x4B32_4800_0000_0001);

/// Registers a database opened from Rust as a libk2hash handle (for code that hands it to
/// C functions or plugins): the handle and the shared database.
pub fn register(k: K2h) -> (k2h_h, Arc<K2h>) {
    let id = K2H.insert(k);
    let k = K2H.get(id).expect("just inserted");
    k.trans
        .handle_id
        .store(id, std::sync::atomic::Ordering::Relaxed);
    (id, k)
}

/// The k2hash handle, or an error line and None.
pub fn handle(name: &str, h: k2h_h) -> Option<Arc<K2h>> {
    with_handle(name, h, Arc::clone)
}

/// `handle` for hot paths: runs `f` on the handle's object without taking a reference count
/// (None and an error line when the handle is invalid).
#[inline]
pub fn with_handle<R>(name: &str, h: k2h_h, f: impl FnOnce(&Arc<K2h>) -> R) -> Option<R> {
    let r = K2H.with(h, f);
    if r.is_none() {
        crate::capi::debug::err(name, &format!("invalid k2hash handle {h:#x}"));
    }
    r
}

/// Log a core error at ERR level and return `default`.
pub fn fail<R>(name: &str, e: impl std::fmt::Display, default: R) -> R {
    crate::capi::debug::err(name, &e.to_string());
    default
}

extern "C" {
    static mut stdout: *mut libc::FILE;
}

/// Write text to a C stream (NULL = stdout) and flush it.
pub fn write_stream(stream: *mut libc::FILE, text: impl AsRef<[u8]>) -> bool {
    let text = text.as_ref();
    // SAFETY: writing a buffer of known length to a caller-supplied (or the process) stream.
    unsafe {
        let fp = if stream.is_null() { stdout } else { stream };
        if fp.is_null() {
            return false;
        }
        let n = libc::fwrite(text.as_ptr() as *const libc::c_void, 1, text.len(), fp);
        libc::fflush(fp);
        n == text.len()
    }
}
