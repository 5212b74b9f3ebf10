//! The transaction function interface of k2htransfunc.h: the built-in `k2h_trans`,
//! `k2h_trans_version` and `k2h_trans_cntl`, which a program may replace by defining its own
//! or by loading a library with `k2h_load_transaction_library`.
use crate::capi::ffi::{cbool, guard, CBool, K2H};
use crate::capi::types::k2h_h;
use libc::{c_char, size_t};

/// MAX_TRANSACTION_FILEPATH
pub const MAX_TRANSACTION_FILEPATH: usize = 1024;
/// MAX_TRANSACTION_PREFIX
pub const MAX_TRANSACTION_PREFIX: usize = 512;
/// MAX_TRANSACTION_PARAM
pub const MAX_TRANSACTION_PARAM: usize = 32 * 1024;

/// Options handed to `k2h_trans_cntl` on every enable and disable (34328 bytes).
#[repr(C)]
pub struct transaction_option {
    pub szFilePath: [c_char; MAX_TRANSACTION_FILEPATH],
    pub isEnable: bool,
    pub byTransPrefix: [u8; MAX_TRANSACTION_PREFIX],
    pub PrefixLength: size_t,
    pub byTransParam: [u8; MAX_TRANSACTION_PARAM],
    pub ParamLength: size_t,
}
pub type TRANSOPT = transaction_option;
pub type PTRANSOPT = *mut TRANSOPT;

/// Head of a transaction or archive record (packed, 104 bytes); the parts follow it.
#[repr(C, packed)]
pub struct serialize_command {
    pub szCommand: [c_char; 16],
    pub r#type: libc::c_long,
    pub key_length: size_t,
    pub val_length: size_t,
    pub skey_length: size_t,
    pub attr_length: size_t,
    pub exdata_length: size_t,
    pub key_pos: libc::off_t,
    pub val_pos: libc::off_t,
    pub skey_pos: libc::off_t,
    pub attrs_pos: libc::off_t,
    pub exdata_pos: libc::off_t,
}
pub type SCOM = serialize_command;
pub type BCOM = serialize_command;
pub type PBCOM = *mut BCOM;

pub type Tfp_k2h_trans = Option<unsafe extern "C" fn(handle: k2h_h, pBinCom: PBCOM) -> bool>;
pub type Tfp_k2h_trans_version = Option<unsafe extern "C" fn() -> *const c_char>;
pub type Tfp_k2h_trans_cntl = Option<unsafe extern "C" fn(handle: k2h_h, pOpt: PTRANSOPT) -> bool>;

/// Built-in transaction function: append the record to the handle's transaction file.
#[no_mangle]
pub unsafe extern "C" fn k2h_trans(handle: k2h_h, pBinCom: PBCOM) -> CBool {
    cbool(|| {
        guard("k2h_trans", false, || {
            if pBinCom.is_null() {
                return false;
            }
            // SAFETY: the caller passes a complete record: its head and the parts it announces.
            let head =
                unsafe { std::slice::from_raw_parts(pBinCom as *const u8, crate::archive::HEAD) };
            let mut total = crate::archive::HEAD as u64;
            for i in 0..5 {
                let l =
                    u64::from_le_bytes(head[24 + 8 * i..32 + 8 * i].try_into().unwrap_or_default());
                total = match total.checked_add(l) {
                    Some(t) if t < (1 << 40) => t,
                    _ => return false,
                };
            }
            // SAFETY: as above, `total` bytes belong to the record.
            let rec = unsafe { std::slice::from_raw_parts(pBinCom as *const u8, total as usize) };
            match K2H.get(handle) {
                Some(k) => k.trans.append(rec),
                None => false,
            }
        })
    })
}

/// Version string of the built-in transaction functions.
#[no_mangle]
pub extern "C" fn k2h_trans_version() -> *const c_char {
    c"K2H TRANSFUNC BUILTIN".as_ptr()
}

/// Built-in control hook: enabling needs a file path.
#[no_mangle]
pub unsafe extern "C" fn k2h_trans_cntl(handle: k2h_h, pOpt: PTRANSOPT) -> CBool {
    cbool(|| {
        let _ = handle;
        if pOpt.is_null() {
            return false;
        }
        // SAFETY: non-NULL pointer to a TRANSOPT supplied by the caller.
        let o = unsafe { &*pOpt };
        !(o.isEnable && o.szFilePath[0] == 0)
    })
}
