//! Text dumps and state summary in the original's layout (the `K2H(...) = {` dump of
//! `k2h_dump_*` and the state block of `k2h_print_state`). Addresses are printed as the
//! original does (`%p`): our mapping address plus the offset.
use crate::engine::Db;
use crate::error::Result;
use crate::format::*;
use std::io::Write;

pub const DUMP_HEAD: u32 = 0;
pub const DUMP_KINDEX: u32 = 1;
pub const DUMP_CKINDEX: u32 = 3;
pub const DUMP_ELEMENT: u32 = 7;
pub const DUMP_PAGE: u32 = 15;

/// `%p` formatting: "(nil)" for zero.
pub fn ptr(v: u64) -> String {
    if v == 0 {
        "(nil)".into()
    } else {
        format!("{v:#x}")
    }
}

fn ctime(sec: i64) -> String {
    let t: libc::time_t = sec;
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: ctime_r writes at most 26 bytes into our 64-byte buffer.
    let p = unsafe { libc::ctime_r(&t, buf.as_mut_ptr()) };
    if p.is_null() {
        return String::new();
    }
    // SAFETY: ctime_r returned a NUL-terminated string in buf.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .trim_end()
        .to_string()
}

fn cstr_at(db: &Db, off: u64, len: usize) -> Result<String> {
    let mut b = vec![0u8; len];
    db.store().read(off, &mut b)?;
    let n = b.iter().position(|&c| c == 0).unwrap_or(len);
    Ok(String::from_utf8_lossy(&b[..n]).into_owned())
}

pub fn dump(db: &Db, mode: u32) -> Result<Vec<u8>> {
    let _g = db.struct_guard();
    let st = db.store();
    let base = st.base_addr() as u64;
    let h = |o| db.header_u64(o);
    let mut s: Vec<u8> = Vec::new();
    let _ = writeln!(s, "K2H({})     = {{", ptr(base));
    let _ = writeln!(
        s,
        "  Version                 = {}",
        cstr_at(db, H_VERSION, VERSION_LEN)?
    );
    let _ = writeln!(
        s,
        "  Hash func Version       = {}",
        cstr_at(db, H_HASH_VERSION, HASH_VERSION_LEN)?
    );
    let _ = writeln!(s, "  Total Size              = {}", h(H_TOTAL_SIZE)?);
    let _ = writeln!(s, "  Page Size               = {}", h(H_PAGE_SIZE)?);
    for (name, off) in [
        ("Maximum Mask", H_MAX_MASK),
        ("Minimum Mask", H_MIN_MASK),
        ("Current Mask", H_CUR_MASK),
        ("Collision Mask", H_COLLISION_MASK),
    ] {
        let v = h(off)?;
        let _ = writeln!(s, "  {name:<24}= {}({v:x})", ptr(v));
    }
    let v = h(H_MAX_ELEMENT_COUNT)?;
    let _ = writeln!(s, "  Max element cnt         = {}({v})", ptr(v));
    for (name, off) in [
        ("Last update", H_LAST_UPDATE),
        ("Last area update", H_LAST_AREA_UPDATE),
    ] {
        let sec = h(off)? as i64;
        let _ = writeln!(s, "  {name} {{");
        let _ = writeln!(s, "    Date                    = {}", ctime(sec));
        let _ = writeln!(s, "    sec                     = {sec}");
        let _ = writeln!(s, "    usec                    = {}", h(off + 8)?);
        let _ = writeln!(s, "  }}");
    }
    if mode & DUMP_KINDEX == 0 {
        return Ok(s);
    }
    let _ = writeln!(s, "  K2H Areas Array {{");
    for (i, (t, off, len)) in db.areas()?.into_iter().enumerate() {
        let _ = writeln!(s, "    [{i}] = {{");
        let _ = writeln!(s, "      type                    = {}", area_type_name(t));
        let _ = writeln!(s, "      offset                  = {}({off})", ptr(off));
        let _ = writeln!(s, "      length                  = {}({len})", ptr(len));
        let _ = writeln!(s, "    }}");
    }
    let _ = writeln!(s, "  }}");
    let ua = h(H_UNASSIGN_AREA)?;
    let _ = writeln!(s, "  Unassigned area         {}({ua})", ptr(ua));
    let _ = writeln!(
        s,
        "  Extra pointer           {}({})",
        ptr(h(H_PEXTRA)?),
        h(H_PEXTRA)?
    );
    // free lists
    let fe = h(H_FREE_ELEMENT_COUNT)?;
    let _ = writeln!(s, "  Free Element Area = [{fe}] {{");
    let mut free = Vec::new();
    let mut e = h(H_PFREE_ELEMENTS)?;
    let limit = st.valid_len() / ELEMENT_SIZE + 1;
    while e != 0 && (free.len() as u64) < limit {
        free.push(base.wrapping_add(e));
        e = st.u64(e.wrapping_add(E_SAME))?;
    }
    addr_lines(&mut s, 28, &free);
    let _ = writeln!(s, "  }} = [{}]", free.len());
    let fp = h(H_FREE_PAGE_COUNT)?;
    let _ = writeln!(s, "  Free Pages Area = [{fp}] {{");
    let mut free = Vec::new();
    if db.is_fullmap() {
        let mut p = h(H_PFREE_PAGES)?;
        let limit = st.valid_len() / db.page_size() + 1;
        while p != 0 && (free.len() as u64) < limit {
            free.push(base + p);
            p = st.pg_u64(p.wrapping_add(P_NEXT))?;
        }
        addr_lines(&mut s, 28, &free);
    }
    let _ = writeln!(s, "  }} = [{}]", free.len());
    // key index
    let cur = h(H_CUR_MASK)?;
    let cmask = h(H_COLLISION_MASK)?;
    let _ = writeln!(s, "  Key Index = [{MAX_KINDEX_AREA_COUNT}] {{");
    for g in 0..MAX_KINDEX_AREA_COUNT {
        let ka = h(H_KEY_INDEX_AREA + 8 * g)?;
        if ka == 0 || g > mask_bits(cur) as u64 {
            let _ = writeln!(s, "    Key Index Pointer[{g}] = Not Allocated");
            continue;
        }
        let cnt = if g <= 1 { 1 } else { 1u64 << (g - 1) };
        for j in 0..cnt {
            let ki = ka + KINDEX_SIZE * j;
            let assign = st.u64(ki.wrapping_add(KI_ASSIGN))?;
            let _ = writeln!(s, "    Key Index Pointer[{g}][{j}] = {{");
            let _ = writeln!(
                s,
                "      Assign                  = {}",
                if assign == KINDEX_ASSIGNED {
                    "Assigned"
                } else {
                    "Not assigned"
                }
            );
            let sm = st.u64(ki.wrapping_add(KI_SHIFTED_MASK))?;
            let mh = st.u64(ki.wrapping_add(KI_MASKED_HASH))?;
            let _ = writeln!(s, "      Shifted Mask            = {}({sm:#x})", ptr(sm));
            let _ = writeln!(s, "      Masked Hash             = {}({mh:#x})", ptr(mh));
            let cl = st.u64(ki.wrapping_add(KI_CKEY_LIST))?;
            if mode & DUMP_CKINDEX != DUMP_CKINDEX {
                let name = format!("CKey Index[{}]", cmask + 1);
                let _ = writeln!(s, "      {name:<24}= {}({})", ptr(base + cl), base + cl);
            } else {
                let _ = writeln!(s, "      CKey Index = [{}] {{", cmask + 1);
                for c in 0..=cmask {
                    let ck = cl + CKINDEX_SIZE * c;
                    let count = st.u64(ck.wrapping_add(CK_COUNT))?;
                    let _ = writeln!(s, "        [{c}] = {{");
                    let _ = writeln!(
                        s,
                        "          element count           = {}({count})",
                        ptr(count)
                    );
                    let _ = writeln!(s, "          element_list {{");
                    let shown = dump_tree(db, st.u64(ck.wrapping_add(CK_LIST))?, mode, &mut s)?;
                    let _ = writeln!(s, "          }} = [{shown}]");
                    let _ = writeln!(s, "        }}");
                }
                let _ = writeln!(s, "      }} = [{}]", cmask + 1);
            }
            let _ = writeln!(s, "    }}");
        }
    }
    let _ = writeln!(s, "  }}");
    Ok(s)
}

/// Elements of one collision index: their addresses (CKINDEX mode), their fields (ELEMENT mode)
/// or their fields and data (full mode).
/// (Addresses read from the file may be damaged: sums with them wrap, and the bounds-checked
/// reads then refuse them, in debug builds as in release ones.)
fn dump_tree(db: &Db, root: u64, mode: u32, s: &mut Vec<u8>) -> Result<u64> {
    let st = db.store();
    let base = st.base_addr() as u64;
    let mut order = Vec::new();
    let mut stack = vec![root];
    let limit = st.valid_len() / ELEMENT_SIZE + 1;
    while let Some(e) = stack.pop() {
        if e == 0 || order.len() as u64 > limit {
            continue;
        }
        order.push(e);
        for f in [E_BIG, E_SMALL, E_SAME] {
            stack.push(st.u64(e.wrapping_add(f))?);
        }
    }
    if mode & DUMP_ELEMENT != DUMP_ELEMENT {
        let addrs: Vec<u64> = order.iter().map(|e| base.wrapping_add(*e)).collect();
        addr_lines(s, 36, &addrs);
        return Ok(order.len() as u64);
    }
    let full = mode & DUMP_PAGE == DUMP_PAGE;
    for (n, &e) in order.iter().enumerate() {
        let _ = writeln!(s, "            [{n}] = {{");
        for (name, f) in [("hash", E_HASH), ("subhash", E_SUBHASH)] {
            let v = st.u64(e.wrapping_add(f))?;
            let _ = writeln!(s, "              {name:<24}= {}({v:#x})", ptr(v));
        }
        for (name, f, l) in [
            ("key", E_KEY, E_KEYLEN),
            ("value", E_VALUE, E_VALLEN),
            ("subkeys", E_SUBKEYS, E_SKEYLEN),
            ("attrs", E_ATTRS, E_ATTRLEN),
        ] {
            let v = st.u64(e.wrapping_add(f))?;
            if v == 0 {
                continue;
            }
            if full {
                let _ = writeln!(s, "              {name} = {{");
                hex_block(s, &db.chain_bytes(v, st.u64(e.wrapping_add(l))?)?);
                let _ = writeln!(s, "              }}");
            } else if db.is_fullmap() {
                let _ = writeln!(
                    s,
                    "              {name:<24}= {}({})",
                    ptr(base + v),
                    base + v
                );
            } else {
                let label = format!("{name}(offset)");
                let _ = writeln!(s, "              {label:<24}= {}({v})", ptr(v));
            }
        }
        let _ = writeln!(s, "            }}");
    }
    Ok(order.len() as u64)
}

/// Addresses, five a line, after `indent` spaces.
fn addr_lines(s: &mut Vec<u8>, indent: usize, addrs: &[u64]) {
    for chunk in addrs.chunks(5) {
        let _ = write!(s, "{:indent$}", "");
        for a in chunk {
            let _ = write!(s, "{} ", ptr(*a));
        }
        let _ = writeln!(s);
    }
}

/// Data as the original prints it: 8 bytes a line in hex, then the printable characters
/// (NUL as a space, other unprintable bytes as 0xFF).
fn hex_block(s: &mut Vec<u8>, data: &[u8]) {
    for chunk in data.chunks(8) {
        let mut hex = String::new();
        for (i, b) in chunk.iter().enumerate() {
            let _ = std::fmt::Write::write_fmt(&mut hex, format_args!("{b:02X} "));
            if i == 3 && chunk.len() > 4 {
                hex.push(' ');
            }
        }
        let _ = write!(s, "{:40}{hex:<29}- ", "");
        for i in 0..8 {
            if i == 4 {
                s.push(b' ');
            }
            s.push(match chunk.get(i) {
                None | Some(0) => b' ',
                Some(&c) if (0x20..0x7f).contains(&c) => c,
                Some(_) => 0xff,
            });
        }
        s.push(b'\n');
    }
}

/// Figures of `k2h_get_state` / `k2h_print_state`.
#[derive(Debug, Default, Clone)]
pub struct State {
    pub max_mask: u64,
    pub min_mask: u64,
    pub cur_mask: u64,
    pub collision_mask: u64,
    pub max_element_count: u64,
    pub total_size: u64,
    pub page_size: u64,
    pub file_size: u64,
    pub total_used_size: u64,
    pub total_map_size: u64,
    pub total_element_size: u64,
    pub total_page_size: u64,
    pub total_area_count: u64,
    pub total_element_count: u64,
    pub total_page_count: u64,
    pub assigned_area_count: u64,
    pub assigned_key_count: u64,
    pub assigned_ckey_count: u64,
    pub assigned_element_count: u64,
    pub assigned_page_count: u64,
    pub unassigned_element_count: u64,
    pub unassigned_page_count: u64,
    pub last_update: (u64, u64),
    pub last_area_update: (u64, u64),
    pub kindex_size: u64,
    pub ckindex_size: u64,
}

/// Size of the packed `K2HSTATE` structure of the C API.
pub const STATE_RECORD_SIZE: usize = 284;

/// The packed `K2HSTATE` of the C API (`k2h_get_state`), as bytes in host order: version
/// strings (8, 32, 32 bytes, NUL-padded), the transaction pool count, the figures of `s`,
/// and the two update times as `timeval`. k2hdkc sends this record inside its node states.
pub fn state_record(s: &State, hash_version: &str) -> [u8; STATE_RECORD_SIZE] {
    let mut b = [0u8; STATE_RECORD_SIZE];
    let mut at = 0usize;
    let text = |b: &mut [u8; STATE_RECORD_SIZE], at: &mut usize, t: &str, n: usize| {
        let t = t.as_bytes();
        let m = t.len().min(n);
        b[*at..*at + m].copy_from_slice(&t[..m]);
        *at += n;
    };
    text(&mut b, &mut at, "K2H V2", 8);
    text(&mut b, &mut at, hash_version, 32);
    text(&mut b, &mut at, "K2H TRANSFUNC BUILTIN", 32);
    // trans_pool_count (int) stays 0
    at += 4;
    for v in [
        s.max_mask,
        s.min_mask,
        s.cur_mask,
        s.collision_mask,
        s.max_element_count,
        s.total_size,
        s.page_size,
        s.file_size,
        s.total_used_size,
        s.total_map_size,
        s.total_element_size,
        s.total_page_size,
        s.total_area_count,
        s.total_element_count,
        s.total_page_count,
        s.assigned_area_count,
        s.assigned_key_count,
        s.assigned_ckey_count,
        s.assigned_element_count,
        s.assigned_page_count,
        s.unassigned_element_count,
        s.unassigned_page_count,
        s.last_update.0,
        s.last_update.1,
        s.last_area_update.0,
        s.last_area_update.1,
    ] {
        b[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        at += 8;
    }
    debug_assert_eq!(at, STATE_RECORD_SIZE);
    b
}

pub fn state(db: &Db) -> Result<State> {
    let _g = db.struct_guard();
    let h = |o| db.header_u64(o);
    let mut s = State {
        max_mask: h(H_MAX_MASK)?,
        min_mask: h(H_MIN_MASK)?,
        cur_mask: h(H_CUR_MASK)?,
        collision_mask: h(H_COLLISION_MASK)?,
        max_element_count: h(H_MAX_ELEMENT_COUNT)?,
        total_size: h(H_TOTAL_SIZE)?,
        page_size: h(H_PAGE_SIZE)?,
        file_size: h(H_UNASSIGN_AREA)?,
        total_area_count: MAX_AREA_COUNT,
        last_update: (h(H_LAST_UPDATE)?, h(H_LAST_UPDATE + 8)?),
        last_area_update: (h(H_LAST_AREA_UPDATE)?, h(H_LAST_AREA_UPDATE + 8)?),
        ..Default::default()
    };
    for (t, _, len) in db.areas()? {
        s.assigned_area_count += 1;
        s.total_used_size += len;
        if t != AREA_PAGE || db.is_fullmap() {
            s.total_map_size += len;
        }
        match t {
            AREA_ELEMENT => s.total_element_size += len,
            AREA_PAGE => s.total_page_size += len,
            AREA_KINDEX => s.kindex_size += len,
            AREA_CKINDEX => s.ckindex_size += len,
            _ => {}
        }
    }
    s.total_element_count = s.total_element_size / ELEMENT_SIZE;
    s.total_page_count = s.total_page_size / s.page_size.max(1);
    s.assigned_key_count = s.cur_mask + 1;
    s.assigned_ckey_count = (s.cur_mask + 1) * (s.collision_mask + 1);
    s.unassigned_element_count = h(H_FREE_ELEMENT_COUNT)?;
    s.unassigned_page_count = h(H_FREE_PAGE_COUNT)?;
    s.assigned_element_count = s
        .total_element_count
        .saturating_sub(s.unassigned_element_count);
    s.assigned_page_count = s.total_page_count.saturating_sub(s.unassigned_page_count);
    Ok(s)
}

/// The state block as the original tool prints it.
pub fn state_text(s: &State) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let ps = s.page_size.max(1);
    let payload = ps.saturating_sub(PAGEHEAD_SIZE);
    let _ = writeln!(o, "Total File size         = {} byte", s.file_size);
    let _ = writeln!(o, "Used size               = {} byte", s.total_used_size);
    let _ = writeln!(o, "Total mmap size         = {} byte", s.total_map_size);
    let _ = writeln!(
        o,
        "Assigned areas          = {} ( total {} )",
        s.assigned_area_count, s.total_area_count
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "Total Key index         = {} ( {} byte )",
        s.assigned_key_count, s.kindex_size
    );
    let _ = writeln!(
        o,
        "Total CKey index        = {} ( {} byte )",
        s.assigned_ckey_count, s.ckindex_size
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "Total Element           = {} ( {} byte )",
        s.total_element_count, s.total_element_size
    );
    let _ = writeln!(
        o,
        "  Assigned Element        = {} ( {} byte )",
        s.assigned_element_count,
        s.assigned_element_count * ELEMENT_SIZE
    );
    let _ = writeln!(
        o,
        "  Free Element            = {} ( {} byte )",
        s.unassigned_element_count,
        s.unassigned_element_count * ELEMENT_SIZE
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "Total Page              = {} ( {} byte )",
        s.total_page_count, s.total_page_size
    );
    let _ = writeln!(
        o,
        "  Assigned Page           = {} ( {} byte )",
        s.assigned_page_count,
        s.assigned_page_count * ps
    );
    let _ = writeln!(
        o,
        "  Free Page               = {} ( {} byte )",
        s.unassigned_page_count,
        s.unassigned_page_count * ps
    );
    let _ = writeln!(
        o,
        "  Data ratio per Page     = {} % ( {} byte / {} byte)",
        payload * 100 / ps,
        payload,
        ps
    );
    let _ = writeln!(o);
    let sys =
        s.kindex_size + s.ckindex_size + s.total_element_size + s.total_page_count * PAGEHEAD_SIZE;
    let real = s.total_page_count * payload;
    let _ = writeln!(o, "Total Key count         = {}", s.total_element_count);
    let _ = writeln!(o, "System usage            = {sys} byte");
    let _ = writeln!(o, "Total real data size    = {real} byte");
    let _ = writeln!(
        o,
        "real data ratio         = {} %",
        real * 100 / s.total_used_size.max(1)
    );
    o
}

/// The area table as k2hcompress -print shows it: every slot, with the original's type names.
pub fn area_info_text(db: &Db) -> Result<String> {
    let slots = db.area_slots()?;
    let mut s = format!("K2HASH AREA [{}] = {{\n", slots.len());
    for (i, (t, off, len)) in slots.iter().enumerate() {
        let name = if *t == 0 {
            "UNASSIGNMENT".to_string()
        } else {
            [
                (1u64, "HEAD"),
                (2, "KEYINDEX"),
                (4, "CKEYINDEX"),
                (8, "ELEMENT"),
                (16, "PAGE"),
            ]
            .iter()
            .filter(|(b, _)| t & b == *b)
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(",")
        };
        s.push_str(&format!(
            "    No.{}\ttype = {} AREA({}),\tfile offset={},\tarea length={}\n",
            i + 1,
            name,
            *t as i64,
            *off as i64,
            len
        ));
    }
    s.push_str("}\n");
    Ok(s)
}
