//! The C types of chmpx.h: handles, the id typedefs, CHMBIN / CHMKVP, the merge parameter and
//! callback types, the packet structures a received packet handle points to, and the constants
//! C callers use with them. Layouts are those of the original on x86-64 (checked by the C tests).
use libc::{c_int, c_long, c_uchar, off_t, size_t, timespec};

// ---------------------------------------------------------------- handles and ids

/// A client handle (an opaque id; the original's was a `ChmCntrl*`).
pub type chmpx_h = u64;
/// A received packet: the address of a malloc'ed host-order `COMPKT`.
pub type chmpx_pkt_h = u64;

pub type chmpxid_t = u64;
pub type msgid_t = u64;
pub type serial_t = u64;
pub type msgflag_t = c_uchar;
/// Declared by k2hash.h (not written into chmpx.h).
pub type k2h_hash_t = u64;
pub type chmhash_t = k2h_hash_t;
pub type chmpxsts_t = u64;
pub type chmpxpos_t = u64;
pub type logtype_t = u64;
pub type comver_t = u64;
pub type comtype_t = u64;
pub type c2ctype_t = u64;

/// A receive timeout meaning "only look, do not wait".
pub const RCV_NO_WAIT: c_int = 0;

/// Longest version / commit text in the original's structures.
pub const CHMPX_VERSION_MAX: c_int = 32;
pub const COMMIT_HASH_MAX: c_int = 32;

// ---------------------------------------------------------------- packets (chmcomstructure.h)

/// Unknown packet type.
pub const COM_UNKNOWN: c_int = 0;
/// Client process to client process: every packet a receive returns.
pub const COM_C2C: c_int = 1;
/// chmpx to chmpx.
pub const COM_PX2PX: c_int = 2;

pub const COM_VERSION_1: c_long = 1;
pub const COM_VERSION_2: c_long = 2;

/// Delivery modes of a C2C packet (`head.c2ctype`).
pub const COM_C2C_IGNORE: c_int = 0x0;
pub const COM_C2C_NORMAL: c_int = 0x1;
pub const COM_C2C_ROUTING: c_int = 0x2;
pub const COM_C2C_BROADCAST: c_int = 0x3;
pub const COM_C2C_RBROADCAST: c_int = 0x4;
pub const COM_C2C_MODE_MASK: c_int = 0x7;
/// Flag: not to the sender's own chmpx.
pub const COM_C2C_NOT_SELF: c_int = 0x10;

/// A chmpx process and a message id inside it.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct packed_ids {
    pub chmpxid: chmpxid_t,
    pub msgid: msgid_t,
}
pub type PCKID = packed_ids;
pub type PPCKID = *mut PCKID;

/// The head of a packet (104 bytes, packed, host byte order in a packet handle).
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct com_head {
    pub version: comver_t,
    pub r#type: comtype_t,
    pub c2ctype: c2ctype_t,
    /// Sender (chmpxid and msgid).
    pub dept_ids: PCKID,
    /// Destination.
    pub term_ids: PCKID,
    pub peer_dept_msgid: msgid_t,
    pub peer_term_msgid: msgid_t,
    pub mq_serial_num: serial_t,
    pub hash: chmhash_t,
    pub reqtime: timespec,
}
pub type COMHEAD = com_head;
pub type PCOMHEAD = *mut COMHEAD;

/// A packet (120 bytes, packed). `length` is the whole size (head and body when the body was
/// received into the packet), `offset` where the body starts (120).
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct com_packet {
    pub head: COMHEAD,
    pub length: size_t,
    pub offset: off_t,
}
pub type COMPKT = com_packet;
pub type PCOMPKT = *mut COMPKT;

// ---------------------------------------------------------------- chmstructure.h enums

/// How chmpxids are made (`MakeChmpxId`).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum chmpxid_seed_type {
    CHMPXID_SEED_NAME = 0,
    CHMPXID_SEED_CUK = 1,
    CHMPXID_SEED_CTLENDPOINTS = 2,
    CHMPXID_SEED_CUSTOM = 3,
}
pub type CHMPXID_SEED_TYPE = chmpxid_seed_type;

/// The mode of a chmpx process.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum chmpx_mode {
    CHMPX_UNKNOWN = 0,
    CHMPX_SERVER = 1,
    CHMPX_SLAVE = 2,
}
pub type CHMPXMODE = chmpx_mode;

// ---------------------------------------------------------------- binary data and KVP

/// k2hash's binary buffer (declared by k2hash.h; not written into chmpx.h).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct k2hash_binary_data {
    pub byptr: *mut c_uchar,
    pub length: size_t,
}
pub type K2HBIN = k2hash_binary_data;
pub type PK2HBIN = *mut K2HBIN;

pub type CHMBIN = K2HBIN;
pub type PCHMBIN = PK2HBIN;

/// A key and a value (32 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chmpx_kv_pair {
    pub key: CHMBIN,
    pub val: CHMBIN,
}
pub type CHMKVP = chmpx_kv_pair;
pub type PCHMKVP = *mut CHMKVP;

// ---------------------------------------------------------------- merge

/// What a merge asks a client-on-server for (88 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct chm_merge_getparam {
    pub starthash: chmhash_t,
    /// Start of the update-time range.
    pub startts: timespec,
    /// End of the update-time range.
    pub endts: timespec,
    pub target_hash: chmhash_t,
    pub target_max_hash: chmhash_t,
    pub old_hash: chmhash_t,
    pub old_max_hash: chmhash_t,
    pub target_hash_range: c_long,
    pub is_expire_check: bool,
}
pub type CHM_MERGE_GETPARAM = chm_merge_getparam;
pub type PCHM_MERGE_GETPARAM = *mut CHM_MERGE_GETPARAM;

/// Latest update time of the client's data (start of a merge).
pub type chm_merge_lastts_cb =
    Option<unsafe extern "C" fn(handle: chmpx_h, pts: *mut timespec) -> bool>;
/// The data of the requested hash range.
pub type chm_merge_get_cb = Option<
    unsafe extern "C" fn(
        handle: chmpx_h,
        pparam: PCHM_MERGE_GETPARAM,
        pnexthash: *mut chmhash_t,
        ppdatas: *mut PCHMBIN,
        pdatacnt: *mut size_t,
    ) -> bool,
>;
/// One merged datum to store.
pub type chm_merge_set_cb = Option<
    unsafe extern "C" fn(
        handle: chmpx_h,
        length: size_t,
        pdata: *const c_uchar,
        pts: *const timespec,
    ) -> bool,
>;
