//! The built-in hash functions (FNV-1a 64 over sign-extended bytes, as the original computes it
//! on x86-64) and the resolution of the active functions: a program may define its own
//! `k2h_hash`/`k2h_second_hash`/`k2h_hash_version` (looked up with `dlsym(RTLD_DEFAULT)`).
use std::ffi::CStr;
use std::sync::OnceLock;

pub const BUILTIN_VERSION: &str = "FNV-1A BUILTIN";
const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;

#[inline]
pub fn fnv1a_signed(data: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in data {
        h ^= b as i8 as i64 as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

#[inline]
pub fn builtin_hash(data: &[u8]) -> u64 {
    if data.is_empty() {
        0
    } else {
        fnv1a_signed(data)
    }
}

#[inline]
pub fn builtin_second_hash(data: &[u8]) -> u64 {
    match data.len() {
        0 => 0,
        1 => fnv1a_signed(data),
        n => fnv1a_signed(&data[..n - 1]),
    }
}

pub type HashFn = unsafe extern "C" fn(*const libc::c_void, libc::size_t) -> u64;
pub type VersionFn = unsafe extern "C" fn() -> *const libc::c_char;

#[derive(Clone, Copy)]
pub struct HashFuncs {
    pub hash: HashFn,
    pub second: HashFn,
    pub version: VersionFn,
}

/// Functions of a library loaded with `k2h_load_hash_library` (they win over everything else).
pub static LOADED: parking_lot::RwLock<Option<HashFuncs>> = parking_lot::const_rwlock(None);
static HAS_LOADED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Install or clear the loaded hash functions.
pub fn set_loaded(f: Option<HashFuncs>) {
    let mut g = LOADED.write();
    HAS_LOADED.store(f.is_some(), std::sync::atomic::Ordering::Release);
    *g = f;
}

fn loaded() -> Option<HashFuncs> {
    if HAS_LOADED.load(std::sync::atomic::Ordering::Acquire) {
        *LOADED.read()
    } else {
        None
    }
}

/// Functions defined by the program itself (interposition), if any.
fn interposed() -> Option<HashFuncs> {
    static CELL: OnceLock<Option<HashFuncs>> = OnceLock::new();
    *CELL.get_or_init(|| {
        // SAFETY: dlsym with constant NUL-terminated names; the results are compared to our own
        // exported functions so that only foreign definitions are used.
        unsafe {
            let h = libc::dlsym(libc::RTLD_DEFAULT, c"k2h_hash".as_ptr());
            let s = libc::dlsym(libc::RTLD_DEFAULT, c"k2h_second_hash".as_ptr());
            let v = libc::dlsym(libc::RTLD_DEFAULT, c"k2h_hash_version".as_ptr());
            // The address of an exported function is canonical (it resolves to the interposer),
            // so tell our own definition apart by the object that contains it.
            if h.is_null()
                || s.is_null()
                || v.is_null()
                || same_object(h, interposed as *const () as *mut libc::c_void)
            {
                None
            } else {
                Some(HashFuncs {
                    hash: std::mem::transmute::<*mut libc::c_void, HashFn>(h),
                    second: std::mem::transmute::<*mut libc::c_void, HashFn>(s),
                    version: std::mem::transmute::<*mut libc::c_void, VersionFn>(v),
                })
            }
        }
    })
}

/// True when both addresses lie in the same loaded object.
// The addresses are only looked up in the loader's tables (dladdr), never dereferenced.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub fn same_object(a: *mut libc::c_void, b: *mut libc::c_void) -> bool {
    // SAFETY: dladdr only inspects the loader's tables; the info structs are plain data.
    unsafe {
        let mut ia: libc::Dl_info = std::mem::zeroed();
        let mut ib: libc::Dl_info = std::mem::zeroed();
        libc::dladdr(a, &mut ia) != 0
            && libc::dladdr(b, &mut ib) != 0
            && ia.dli_fbase == ib.dli_fbase
    }
}

fn call(f: HashFn, data: &[u8]) -> u64 {
    // SAFETY: calling a C hash function with a valid buffer and its length.
    unsafe { f(data.as_ptr() as *const libc::c_void, data.len()) }
}

fn version_of(f: VersionFn) -> String {
    // SAFETY: the function returns a NUL-terminated static string (or NULL).
    unsafe {
        let p = f();
        if p.is_null() {
            String::new()
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

pub fn hash(data: &[u8]) -> u64 {
    if let Some(f) = loaded() {
        return call(f.hash, data);
    }
    match interposed() {
        Some(f) => call(f.hash, data),
        None => builtin_hash(data),
    }
}

pub fn second_hash(data: &[u8]) -> u64 {
    if let Some(f) = loaded() {
        return call(f.second, data);
    }
    match interposed() {
        Some(f) => call(f.second, data),
        None => builtin_second_hash(data),
    }
}

/// Both hashes of a key; one pass over the key with the built-in functions (the second hash is
/// FNV-1a of all bytes but the last, a prefix of the first).
#[inline]
pub fn hashes(data: &[u8]) -> (u64, u64) {
    if HAS_LOADED.load(std::sync::atomic::Ordering::Acquire) || interposed().is_some() {
        return (hash(data), second_hash(data));
    }
    match data.len() {
        0 => (0, 0),
        n => {
            let s = fnv1a_signed(&data[..n - 1]);
            let h = (s ^ data[n - 1] as i8 as i64 as u64).wrapping_mul(FNV_PRIME);
            (h, if n == 1 { h } else { s })
        }
    }
}

/// Version string stored in file headers: that of the global symbol (built-in or interposed),
/// as the original does (a dlopen'ed library does not change it).
pub fn header_version() -> String {
    match interposed() {
        Some(f) => version_of(f.version),
        None => BUILTIN_VERSION.to_string(),
    }
}

/// Version of the hash functions in use (reported by k2h_get_state).
pub fn active_version() -> String {
    if let Some(f) = loaded() {
        return version_of(f.version);
    }
    header_version()
}

/// The version banner, laid out like the original's (tools and scripts compare it line by line;
/// the lock section names our built-in lock table where the original names fullock).
pub fn version_banner() -> String {
    format!(
        "\nK2HASH library Version {ver} (commit: k2hrs) with RustCrypto\n\n\
         Copyright(C) 2013 Yahoo Japan Corporation.\n\n\
         K2HASH is key-valuew store base libraries. K2HASH is made for\n\
         the purpose of the construction of original KVS system and the\n\
         offer of the library. The characteristic is this KVS library\n\
         which Key can layer. And can support multi-processing and\n\
         multi-thread, and is provided safely as available KVS.\n\n\n\
         FULLOCK Version {ver} (commit: k2hrs, built-in lock table)\n\n\
         Copyright(C) 2015 Yahoo Japan Corporation.\n\n\
         FULLOCK is fast locking library on user level by Yahoo! JAPAN.\n\
         FULLOCK is following specifications.\n\n",
        ver = env!("CARGO_PKG_VERSION"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn known_values() {
        assert_eq!(builtin_hash(b"key1\0"), 0x7172B3F29643AA65);
        assert_eq!(builtin_second_hash(b"key1\0"), 0x5819C5D75CBDA787);
        assert_eq!(builtin_hash(&[0x80, 0xff, 0x41]), 0xad095f1974fb9993);
        assert_eq!(builtin_hash(b"a\0"), 0x089be207b544f1e4);
        assert_eq!(builtin_hash(&[0x80, 0xff]), 0x08ea0b07b58758e0);
        assert_eq!(builtin_second_hash(b"a\0"), 0xaf63dc4c8601ec8c);
        assert_eq!(builtin_hash(b""), 0);
    }
}
