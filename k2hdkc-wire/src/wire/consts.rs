//! Command types, response codes and queue types of the k2hdkc protocol
//! (`k2hdkccomstructure.h` of the original; spec §1.4.1-1.4.2).

pub const DKC_COM_GET: u64 = 0;
pub const DKC_COM_GET_DIRECT: u64 = 1;
pub const DKC_COM_GET_SUBKEYS: u64 = 2;
pub const DKC_COM_GET_ATTRS: u64 = 3;
pub const DKC_COM_GET_ATTR: u64 = 4;
pub const DKC_COM_SET: u64 = 5;
pub const DKC_COM_SET_DIRECT: u64 = 6;
pub const DKC_COM_SET_SUBKEYS: u64 = 7;
pub const DKC_COM_SET_ALL: u64 = 8;
pub const DKC_COM_ADD_SUBKEYS: u64 = 9;
pub const DKC_COM_ADD_SUBKEY: u64 = 10;
pub const DKC_COM_DEL: u64 = 11;
pub const DKC_COM_DEL_SUBKEYS: u64 = 12;
pub const DKC_COM_DEL_SUBKEY: u64 = 13;
pub const DKC_COM_REN: u64 = 14;
pub const DKC_COM_QPUSH: u64 = 15;
pub const DKC_COM_QPOP: u64 = 16;
pub const DKC_COM_QDEL: u64 = 17;
pub const DKC_COM_CAS_INIT: u64 = 18;
pub const DKC_COM_CAS_GET: u64 = 19;
pub const DKC_COM_CAS_SET: u64 = 20;
pub const DKC_COM_CAS_INCDEC: u64 = 21;
pub const DKC_COM_REPL_KEY: u64 = 22;
pub const DKC_COM_K2HSTATE: u64 = 23;
pub const DKC_COM_STATE: u64 = 24;
pub const DKC_COM_REPL_DEL: u64 = 25;
pub const DKC_COM_MIN: u64 = DKC_COM_GET;
pub const DKC_COM_MAX: u64 = DKC_COM_REPL_DEL;
pub const DKC_COM_UNKNOWN: u64 = u64::MAX;

/// `STR_DKCCOM_TYPE` as the original prints it: its table has entries 8..10 out of order.
pub fn dkccom_type_name(t: u64) -> &'static str {
    const NAMES: [&str; 26] = [
        "DKC_COM_GET",
        "DKC_COM_GET_DIRECT",
        "DKC_COM_GET_SUBKEYS",
        "DKC_COM_GET_ATTRS",
        "DKC_COM_GET_ATTR",
        "DKC_COM_SET",
        "DKC_COM_SET_DIRECT",
        "DKC_COM_SET_SUBKEYS",
        "DKC_COM_ADD_SUBKEY",
        "DKC_COM_SET_ALL",
        "DKC_COM_ADD_SUBKEYS",
        "DKC_COM_DEL",
        "DKC_COM_DEL_SUBKEYS",
        "DKC_COM_DEL_SUBKEY",
        "DKC_COM_REN",
        "DKC_COM_QPUSH",
        "DKC_COM_QPOP",
        "DKC_COM_QDEL",
        "DKC_COM_CAS_INIT",
        "DKC_COM_CAS_GET",
        "DKC_COM_CAS_SET",
        "DKC_COM_CAS_INCDEC",
        "DKC_COM_REPL_KEY",
        "DKC_COM_K2HSTATE",
        "DKC_COM_STATE",
        "DKC_COM_REPL_DEL",
    ];
    NAMES
        .get(t as usize)
        .copied()
        .unwrap_or("UNKNOWN_DKC_COM_TYPE")
}

// ---- response codes: (result << 32) | subcode

pub const DKC_RES_MASK64_HIBIT: u64 = 0xFFFF_FFFF_0000_0000;
pub const DKC_RES_MASK64_LOWBIT: u64 = 0x0000_0000_FFFF_FFFF;
pub const DKC_RES_SUCCESS: u64 = 0x0;
pub const DKC_RES_ERROR: u64 = 0x8000_0000;
pub const DKC_RES_NORESTYPE: u64 = 0xFFFF_FFFF;

pub const DKC_RES_SUBCODE_NOTHING: u64 = 0x0;
pub const DKC_RES_SUBCODE_INTERNAL: u64 = 0x1;
pub const DKC_RES_SUBCODE_NOMEM: u64 = 0x2;
pub const DKC_RES_SUBCODE_INVAL: u64 = 0x3;
pub const DKC_RES_SUBCODE_DIRECTOPEN: u64 = 0x4;
pub const DKC_RES_SUBCODE_LOCK: u64 = 0x5;
pub const DKC_RES_SUBCODE_SETVAL: u64 = 0x6;
pub const DKC_RES_SUBCODE_GETVAL: u64 = 0x7;
pub const DKC_RES_SUBCODE_SETSKEY: u64 = 0x8;
pub const DKC_RES_SUBCODE_SETSKEYLIST: u64 = 0x9;
pub const DKC_RES_SUBCODE_GETSKEYLIST: u64 = 0xa;
pub const DKC_RES_SUBCODE_ADDSKEYLIST: u64 = 0xb;
pub const DKC_RES_SUBCODE_SETALL: u64 = 0xc;
pub const DKC_RES_SUBCODE_DELKEY: u64 = 0xd;
pub const DKC_RES_SUBCODE_DELSKEYLIST: u64 = 0xe;
pub const DKC_RES_SUBCODE_REPL: u64 = 0xf;
pub const DKC_RES_SUBCODE_GETMARKER: u64 = 0x10;
pub const DKC_RES_SUBCODE_SETMARKER: u64 = 0x11;
pub const DKC_RES_SUBCODE_GETNEWQKEY: u64 = 0x12;
pub const DKC_RES_SUBCODE_GETQUEUE: u64 = 0x13;
pub const DKC_RES_SUBCODE_PUSHQUEUE: u64 = 0x14;
pub const DKC_RES_SUBCODE_POPQUEUE: u64 = 0x15;
pub const DKC_RES_SUBCODE_GETPOPQUEUENAME: u64 = 0x16;
pub const DKC_RES_SUBCODE_NOTSAMEVAL: u64 = 0x17;
pub const DKC_RES_SUBCODE_NOTSAMEDATATYPE: u64 = 0x18;
pub const DKC_RES_SUBCODE_GETSLEFSVRCHMPX: u64 = 0x19;
pub const DKC_RES_SUBCODE_NOTSAMECHMPXID: u64 = 0x1a;
pub const DKC_RES_SUBCODE_GETK2HSTATE: u64 = 0x1b;
pub const DKC_RES_SUBCODE_NOSERVERNODE: u64 = 0x1c;
pub const DKC_RES_SUBCODE_NODATA: u64 = 0x10000;
pub const DKC_RES_SUBCODE_NORESTYPE: u64 = 0xFFFF_FFFF;

/// "No response yet" / the restype of every request.
pub const DKC_NORESTYPE: u64 = u64::MAX;
pub const DKC_INITRESTYPE: u64 = 0;

/// `COMPOSE_DKC_RES(result, subcode)`.
pub const fn compose_res(result: u64, subcode: u64) -> u64 {
    ((result << 32) & DKC_RES_MASK64_HIBIT) | (subcode & DKC_RES_MASK64_LOWBIT)
}

/// `GET_DKC_RES_RESULT`: the high half.
pub const fn res_result(r: u64) -> u64 {
    (r & DKC_RES_MASK64_HIBIT) >> 32
}

/// `GET_DKC_RES_SUBCODE`: the low half.
pub const fn res_subcode(r: u64) -> u64 {
    r & DKC_RES_MASK64_LOWBIT
}

/// Success (also "success, no data").
pub const fn res_is_success(r: u64) -> bool {
    res_result(r) == DKC_RES_SUCCESS
}

// ---- queue types inside DKC_COM_SET

pub const DKC_QUEUE_TYPE_NOTQUEUE: u64 = 0;
pub const DKC_QUEUE_TYPE_QUEUE: u64 = 1;
pub const DKC_QUEUE_TYPE_KEYQUEUE: u64 = 2;
pub const DKC_QUEUE_TYPE_MAX: u64 = DKC_QUEUE_TYPE_KEYQUEUE;

/// `K2HSTATE` of k2hash (packed): what a DKC_NODESTATE carries after the chmpx part.
pub const K2HSTATE_SIZE: usize = 284;
/// `NI_MAXHOST`.
pub const NODESTATE_NAME_SIZE: usize = 1025;
/// `DKC_NODESTATE` (packed): chmpxid, name, base_hash, pending_hash, K2HSTATE.
pub const NODESTATE_SIZE: usize = 8 + NODESTATE_NAME_SIZE + 8 + 8 + K2HSTATE_SIZE;
