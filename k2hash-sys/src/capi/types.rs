//! Types of k2hash.h (exact layouts of the original).
use libc::{c_char, c_int, c_long, size_t, timeval};

pub type k2h_h = u64;
pub type k2h_hash_t = u64;
pub type k2h_arrpos_t = u64;
pub type k2h_find_h = u64;
pub type k2h_da_h = u64;
pub type k2h_q_h = u64;
pub type k2h_keyq_h = u64;

/// K2H_INVALID_HANDLE
pub const K2H_INVALID_HANDLE: u64 = 0;
/// K2H_VERSION_LENGTH
pub const K2H_VERSION_LENGTH: usize = 8;
/// K2H_HASH_FUNC_VER_LENGTH
pub const K2H_HASH_FUNC_VER_LENGTH: usize = 32;

/// A key (or subkey) and its length.
#[repr(C)]
pub struct k2h_key_pack {
    pub pkey: *mut u8,
    pub length: size_t,
}
pub type K2HKEYPCK = k2h_key_pack;
pub type PK2HKEYPCK = *mut K2HKEYPCK;

/// An attribute name and value.
#[repr(C)]
pub struct k2h_attr_pack {
    pub pkey: *mut u8,
    pub keylength: size_t,
    pub pval: *mut u8,
    pub vallength: size_t,
}
pub type K2HATTRPCK = k2h_attr_pack;
pub type PK2HATTRPCK = *mut K2HATTRPCK;

/// A binary blob.
#[repr(C)]
pub struct k2hash_binary_data {
    pub byptr: *mut u8,
    pub length: size_t,
}
pub type K2HBIN = k2hash_binary_data;
pub type PK2HBIN = *mut K2HBIN;

/// State snapshot (packed, 284 bytes).
#[repr(C, packed)]
pub struct k2h_state {
    pub version: [c_char; K2H_VERSION_LENGTH],
    pub hash_version: [c_char; K2H_HASH_FUNC_VER_LENGTH],
    pub trans_version: [c_char; K2H_HASH_FUNC_VER_LENGTH],
    pub trans_pool_count: c_int,
    pub max_mask: k2h_hash_t,
    pub min_mask: k2h_hash_t,
    pub cur_mask: k2h_hash_t,
    pub collision_mask: k2h_hash_t,
    pub max_element_count: libc::c_ulong,
    pub total_size: size_t,
    pub page_size: size_t,
    pub file_size: size_t,
    pub total_used_size: size_t,
    pub total_map_size: size_t,
    pub total_element_size: size_t,
    pub total_page_size: size_t,
    pub total_area_count: c_long,
    pub total_element_count: c_long,
    pub total_page_count: c_long,
    pub assigned_area_count: c_long,
    pub assigned_key_count: c_long,
    pub assigned_ckey_count: c_long,
    pub assigned_element_count: c_long,
    pub assigned_page_count: c_long,
    pub unassigned_element_count: c_long,
    pub unassigned_page_count: c_long,
    pub last_update: timeval,
    pub last_area_update: timeval,
}
pub type K2HSTATE = k2h_state;
pub type PK2HSTATE = *mut K2HSTATE;

/// Direct access modes.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum _k2h_da_mode {
    K2H_DA_READ = 1,
    K2H_DA_WRITE = 2,
    K2H_DA_RW = 3,
}
pub type K2HDAMODE = _k2h_da_mode;

/// Result of a get-trial callback.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum k2h_get_trial_cb_result {
    K2HGETCB_RES_ERROR = -1,
    K2HGETCB_RES_NOTHING = 0,
    K2HGETCB_RES_OVERWRITE = 1,
}
pub type K2HGETCBRES = k2h_get_trial_cb_result;

/// Result of a queue remove-trial callback.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum k2h_q_remove_trial_cb_result {
    K2HQRMCB_RES_ERROR = -1,
    K2HQRMCB_RES_CON_RM = 0,
    K2HQRMCB_RES_CON_NOTRM = 1,
    K2HQRMCB_RES_FIN_RM = 2,
    K2HQRMCB_RES_FIN_NOTRM = 3,
}
pub type K2HQRMCBRES = k2h_q_remove_trial_cb_result;

pub type k2h_get_trial_callback = Option<
    unsafe extern "C" fn(
        byKey: *const u8,
        keylen: size_t,
        byValue: *const u8,
        vallen: size_t,
        ppNewValue: *mut *mut u8,
        pnewvallen: *mut size_t,
        pattrs: PK2HATTRPCK,
        attrscnt: c_int,
        pExtData: *mut libc::c_void,
    ) -> K2HGETCBRES,
>;

pub type k2h_q_remove_trial_callback = Option<
    unsafe extern "C" fn(
        bydata: *const u8,
        datalen: size_t,
        pattrs: PK2HATTRPCK,
        attrscnt: c_int,
        pExtData: *mut libc::c_void,
    ) -> K2HQRMCBRES,
>;

/// The get-trial callback seen as returning a plain int (same ABI as the enum), so that an
/// undefined value returned by C code is not undefined behaviour in Rust.
pub type GetTrialRaw = unsafe extern "C" fn(
    *const u8,
    size_t,
    *const u8,
    size_t,
    *mut *mut u8,
    *mut size_t,
    PK2HATTRPCK,
    c_int,
    *mut libc::c_void,
) -> c_int;

/// The queue remove-trial callback seen as returning a plain int.
pub type QRemoveTrialRaw =
    unsafe extern "C" fn(*const u8, size_t, PK2HATTRPCK, c_int, *mut libc::c_void) -> c_int;
