//! The buffers the C API hands out (malloc'd, the caller frees them) become Rust values here;
//! the one module of the tool with `unsafe` code.
use k2hdkc::capi::types::{PK2HDKCATTRPCK, PK2HDKCKEYPCK};
use libc::c_int;

/// The `n` bytes at `p`, freed (empty for NULL).
pub fn take(p: *mut u8, n: usize) -> Vec<u8> {
    // SAFETY: `p` is NULL or a buffer of at least `n` bytes the C API malloc'd for us and
    // nothing else references; it is read and freed once.
    unsafe { k2htools::cbuf::take(p, n) }.unwrap_or_default()
}

/// The keys of a key pack array of `n` entries, each key and the array freed.
pub fn take_keypack(p: PK2HDKCKEYPCK, n: c_int) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    if p.is_null() {
        return v;
    }
    for i in 0..n.max(0) as usize {
        // SAFETY: the C API calloc'd `n` packs at `p`, each with a malloc'd key of `length`
        // bytes (or NULL) that only we own.
        let k = unsafe { p.add(i).read() };
        v.push(take(k.pkey, k.length));
    }
    // SAFETY: the array was calloc'd by the C API and its keys were taken above.
    unsafe { libc::free(p.cast()) };
    v
}

/// The (name, value) pairs of an attribute pack array of `n` entries, all freed.
pub fn take_attrpack(p: PK2HDKCATTRPCK, n: c_int) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut v = Vec::new();
    if p.is_null() {
        return v;
    }
    for i in 0..n.max(0) as usize {
        // SAFETY: as in take_keypack, with a malloc'd name and value per pack.
        let a = unsafe { p.add(i).read() };
        v.push((take(a.pkey, a.keylength), take(a.pval, a.vallength)));
    }
    // SAFETY: the array was calloc'd by the C API and its contents were taken above.
    unsafe { libc::free(p.cast()) };
    v
}
