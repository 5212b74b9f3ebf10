//! Byte layout of the k2hash file format (see ../shared/spec/k2hash-format.md).
//! Every "pointer" stored in a file is a little-endian u64 byte offset from the start of the file.

/// Size of the packed `K2H` header structure.
pub const HEADER_SIZE: u64 = 49_584;
/// Area alignment (system page size, at least 4096).
pub const AREA_ALIGN: u64 = 4096;
pub const VERSION_STR: &[u8] = b"K2H V2";
pub const VERSION_LEN: usize = 8;
pub const HASH_VERSION_LEN: usize = 32;

// Header field offsets.
pub const H_VERSION: u64 = 0;
pub const H_HASH_VERSION: u64 = 8;
pub const H_TOTAL_SIZE: u64 = 40;
pub const H_PAGE_SIZE: u64 = 48;
pub const H_MAX_MASK: u64 = 56;
pub const H_MIN_MASK: u64 = 64;
pub const H_CUR_MASK: u64 = 72;
pub const H_COLLISION_MASK: u64 = 80;
pub const H_MAX_ELEMENT_COUNT: u64 = 88;
pub const H_LAST_UPDATE: u64 = 96;
pub const H_LAST_AREA_UPDATE: u64 = 112;
pub const H_AREAS: u64 = 128;
pub const H_KEY_INDEX_AREA: u64 = 49_280;
pub const H_FREE_ELEMENT_COUNT: u64 = 49_536;
pub const H_PFREE_ELEMENTS: u64 = 49_544;
pub const H_FREE_PAGE_COUNT: u64 = 49_552;
pub const H_PFREE_PAGES: u64 = 49_560;
pub const H_UNASSIGN_AREA: u64 = 49_568;
pub const H_PEXTRA: u64 = 49_576;

pub const MAX_AREA_COUNT: u64 = 2048;
pub const AREA_SIZE: u64 = 24;
pub const MAX_KINDEX_AREA_COUNT: u64 = 32;

pub const AREA_UNKNOWN: u64 = 0;
pub const AREA_KINDEX: u64 = 2;
pub const AREA_CKINDEX: u64 = 4;
pub const AREA_ELEMENT: u64 = 8;
pub const AREA_PAGE: u64 = 16;

pub const KINDEX_SIZE: u64 = 32;
pub const KI_ASSIGN: u64 = 0;
pub const KI_SHIFTED_MASK: u64 = 8;
pub const KI_MASKED_HASH: u64 = 16;
pub const KI_CKEY_LIST: u64 = 24;
pub const KINDEX_ASSIGNED: u64 = 1;

pub const CKINDEX_SIZE: u64 = 16;
pub const CK_COUNT: u64 = 0;
pub const CK_LIST: u64 = 8;

pub const ELEMENT_SIZE: u64 = 112;
pub const E_SMALL: u64 = 0;
pub const E_BIG: u64 = 8;
pub const E_PARENT: u64 = 16;
pub const E_SAME: u64 = 24;
pub const E_HASH: u64 = 32;
pub const E_SUBHASH: u64 = 40;
pub const E_KEY: u64 = 48;
pub const E_VALUE: u64 = 56;
pub const E_SUBKEYS: u64 = 64;
pub const E_ATTRS: u64 = 72;
pub const E_KEYLEN: u64 = 80;
pub const E_VALLEN: u64 = 88;
pub const E_SKEYLEN: u64 = 96;
pub const E_ATTRLEN: u64 = 104;

pub const PAGEHEAD_SIZE: u64 = 24;
pub const P_PREV: u64 = 0;
pub const P_NEXT: u64 = 8;
pub const P_LENGTH: u64 = 16;

pub const MAX_MASK: u64 = 0x0FFF_FFFF;
pub const MIN_MASK: u64 = 0x3;
pub const MIN_MASK_BITCOUNT: i32 = 2;
pub const MAX_MASK_BITCOUNT: i32 = 28;
pub const MIN_PAGE_SIZE: u64 = 128;
/// Largest page size we attach (the original has no limit; larger values only appear in
/// damaged headers).
pub const MAX_PAGE_SIZE: u64 = 16 << 20;
pub const ELEMENT_CNT_RATIO: u64 = 4;
pub const PAGE_CNT_RATIO: u64 = 2;
pub const MAX_EXPAND_COUNT: u64 = 1_048_576;

pub const DEFAULT_MASK_BITCOUNT: i32 = 8;
pub const DEFAULT_COLLISION_MASK_BITCOUNT: i32 = 4;
pub const DEFAULT_MAX_ELEMENT_CNT: i32 = 32;
pub const DEFAULT_PAGE_SIZE: usize = 128;

/// Round `v` up to the area alignment.
pub fn align_up(v: u64) -> u64 {
    v.div_ceil(AREA_ALIGN) * AREA_ALIGN
}

/// Mask with the low `bits` bits set.
pub fn make_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Number of set bits of a mask of the form 2^n - 1.
pub fn mask_bits(mask: u64) -> u32 {
    mask.count_ones()
}

/// Human name of an area type as the original dump prints it.
pub fn area_type_name(t: u64) -> &'static str {
    match t {
        AREA_KINDEX => "Key Index",
        AREA_CKINDEX => "Collision Key Index",
        AREA_ELEMENT => "Element",
        AREA_PAGE => "Pages",
        1 => "K2H",
        _ => "Unknown",
    }
}
