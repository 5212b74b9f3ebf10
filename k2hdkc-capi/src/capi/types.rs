//! The C types of k2hdkc.h that the functions take (the packs are k2hash's).

/// `K2HKEYPCK` / `K2HDKCKEYPCK`: one key (malloc'd bytes and length).
#[repr(C)]
pub struct K2HDKCKEYPCK {
    pub pkey: *mut libc::c_uchar,
    pub length: usize,
}
pub type PK2HDKCKEYPCK = *mut K2HDKCKEYPCK;

/// `K2HATTRPCK` / `K2HDKCATTRPCK`: one attribute.
#[repr(C)]
pub struct K2HDKCATTRPCK {
    pub pkey: *mut libc::c_uchar,
    pub keylength: usize,
    pub pval: *mut libc::c_uchar,
    pub vallength: usize,
}
pub type PK2HDKCATTRPCK = *mut K2HDKCATTRPCK;

/// `DKC_NODESTATE` (1333 bytes, packed): only handed out as bytes.
pub type PDKC_NODESTATE = *mut u8;
