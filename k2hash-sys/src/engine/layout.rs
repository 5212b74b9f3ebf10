//! Creating and checking the on-disk layout: the parameters of a new store, the first bytes
//! of a new file or memory (header, area table, key and collision indexes, free lists), and
//! the header check when a store is attached.
use super::now_coarse;
use crate::error::{corrupt, invalid, Result};
use crate::format::*;
use crate::hash;
use crate::store::Store;

/// Layout parameters used when new storage is initialised.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub mask_bits: i32,
    pub cmask_bits: i32,
    pub max_elements: i32,
    pub page_size: usize,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            mask_bits: DEFAULT_MASK_BITCOUNT,
            cmask_bits: DEFAULT_COLLISION_MASK_BITCOUNT,
            max_elements: DEFAULT_MAX_ELEMENT_CNT,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl Layout {
    pub fn validate(&self) -> Result<()> {
        if !(MIN_MASK_BITCOUNT..=MAX_MASK_BITCOUNT).contains(&self.mask_bits) {
            return invalid(format!("mask bit count {} is not in 2..28", self.mask_bits));
        }
        if self.cmask_bits < 0 || self.cmask_bits > 28 {
            return invalid(format!(
                "collision mask bit count {} is out of range",
                self.cmask_bits
            ));
        }
        if self.max_elements <= 0 {
            return invalid("max element count must be positive");
        }
        if self.page_size as u64 > MAX_PAGE_SIZE {
            return invalid(format!(
                "page size {} is larger than {MAX_PAGE_SIZE}",
                self.page_size
            ));
        }
        if self.mask_bits + self.cmask_bits > 40 {
            return invalid("mask and collision mask bit counts are too large together");
        }
        Ok(())
    }
}

pub(super) fn check_header(st: &Store) -> Result<()> {
    if st.refreshed_len() <= HEADER_SIZE {
        return corrupt("file is smaller than the k2hash header");
    }
    let mut v = [0u8; VERSION_LEN];
    st.read(H_VERSION, &mut v)?;
    if cstr_bytes(&v) != VERSION_STR {
        return corrupt(format!(
            "unknown k2hash version {:?}",
            String::from_utf8_lossy(cstr_bytes(&v))
        ));
    }
    let mut hv = [0u8; HASH_VERSION_LEN];
    st.read(H_HASH_VERSION, &mut hv)?;
    let want = hash::header_version();
    if cstr_bytes(&hv) != want.as_bytes() {
        return corrupt(format!(
            "hash function {:?} of the file differs from {want:?}",
            String::from_utf8_lossy(cstr_bytes(&hv))
        ));
    }
    let page = st.u64(H_PAGE_SIZE)?;
    if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&page) {
        return corrupt(format!("page size {page} is invalid"));
    }
    let cmask = st.u64(H_COLLISION_MASK)?;
    let cur = st.u64(H_CUR_MASK)?;
    let maxel = st.u64(H_MAX_ELEMENT_COUNT)?;
    if maxel == 0 || maxel > i32::MAX as u64 {
        return corrupt(format!("max element count {maxel} is invalid"));
    }
    for (name, m) in [("collision", cmask), ("current", cur)] {
        if m & m.wrapping_add(1) != 0 || m > MAX_MASK {
            return corrupt(format!("{name} mask {m:#x} is invalid"));
        }
    }
    let len = st.refreshed_len();
    let (mut ki_total, mut cki_total) = (0u64, 0u64);
    for i in 0..MAX_AREA_COUNT {
        let a = H_AREAS + AREA_SIZE * i;
        let t = st.u64(a)?;
        if t == AREA_UNKNOWN {
            break;
        }
        let (off, l) = (st.u64(a + 8)?, st.u64(a + 16)?);
        if ![AREA_KINDEX, AREA_CKINDEX, AREA_ELEMENT, AREA_PAGE].contains(&t)
            || off < HEADER_SIZE
            || off.checked_add(l).map(|e| e > len).unwrap_or(true)
        {
            return corrupt(format!(
                "area {i} ({t}, {off:#x}, {l}) is invalid or beyond the end of the file"
            ));
        }
        match t {
            AREA_KINDEX => ki_total += l,
            AREA_CKINDEX => cki_total += l,
            _ => {}
        }
    }
    // Every file (initial layout plus each key-index growth) has at least these; more when a
    // growth was cut off (a process killed after adding the new areas but before raising the
    // mask): those areas are unused, as with the original, and the next growth adds its own.
    let keys = cur.wrapping_add(1);
    if ki_total < KINDEX_SIZE.saturating_mul(keys)
        || cki_total
            < CKINDEX_SIZE
                .saturating_mul(keys)
                .saturating_mul(cmask.wrapping_add(1))
    {
        return corrupt(format!(
            "index areas ({ki_total}, {cki_total} bytes) do not match the masks {cur:#x}/{cmask:#x}"
        ));
    }
    for g in 0..=mask_bits(cur) as u64 {
        let k = st.u64(H_KEY_INDEX_AREA + 8 * g)?;
        if k == 0 || k >= len {
            return corrupt(format!("key index group {g} is invalid"));
        }
    }
    Ok(())
}

pub(super) fn cstr_bytes(b: &[u8]) -> &[u8] {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..n]
}

/// Write `count` records of `size` bytes from `start` as a free list, `chunk` records at a
/// time through `write`: each record's back link (at `back`) names the record before it (0 for
/// the first), its forward link (at `fwd`) the one after it (`tail` for the last); the rest of
/// each record is zero.
fn write_list(
    start: u64,
    count: u64,
    size: u64,
    (back, fwd): (u64, u64),
    tail: u64,
    chunk: u64,
    write: impl Fn(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut i = 0;
    while i < count {
        let n = chunk.min(count - i);
        let mut buf = vec![0u8; (n * size) as usize];
        for j in 0..n {
            let idx = i + j;
            let me = start + idx * size;
            let prev = if idx == 0 { 0 } else { me - size };
            let next = if idx + 1 == count { tail } else { me + size };
            let o = j * size;
            for (at, link) in [(back, prev), (fwd, next)] {
                let at = (o + at) as usize;
                buf[at..at + 8].copy_from_slice(&link.to_le_bytes());
            }
        }
        write(start + i * size, &buf)?;
        i += n;
    }
    Ok(())
}

/// The free list of a new element area (linked by parent and same).
pub(super) fn write_element_list(st: &Store, start: u64, count: u64, tail: u64) -> Result<()> {
    let links = (E_PARENT, E_SAME);
    write_list(start, count, ELEMENT_SIZE, links, tail, 4096, |o, b| {
        st.write(o, b)
    })
}

/// The free list of a new page area (linked by prev and next), 4 MiB at a time.
pub(super) fn write_page_list(
    st: &Store,
    start: u64,
    count: u64,
    psize: u64,
    tail: u64,
) -> Result<()> {
    let chunk = ((4 << 20) / psize).max(1);
    write_list(
        start,
        count,
        psize,
        (P_PREV, P_NEXT),
        tail,
        chunk,
        |o, b| st.pg_write(o, b),
    )
}

/// Lay out a new k2hash in `st` exactly as the original's initialisation does.
pub(super) fn init_layout(st: &Store, l: &Layout) -> Result<()> {
    let n = l.mask_bits as u32;
    let c = l.cmask_bits as u32;
    let psize = (l.page_size as u64).max(MIN_PAGE_SIZE);
    let keys = 1u64 << n;
    let ckeys = keys << c;
    let ki_off = align_up(HEADER_SIZE);
    let ki_len = KINDEX_SIZE * keys;
    let cki_off = align_up(ki_off + ki_len);
    let cki_len = CKINDEX_SIZE * ckeys;
    let el_off = align_up(cki_off + cki_len);
    let el_cnt = ckeys * ELEMENT_CNT_RATIO;
    let el_len = ELEMENT_SIZE * el_cnt;
    let pg_off = align_up(el_off + el_len);
    let pg_cnt = el_cnt * PAGE_CNT_RATIO;
    let pg_len = psize * pg_cnt;
    let total = pg_off + pg_len;
    st.grow_to(total)?;

    let mut head = vec![0u8; HEADER_SIZE as usize];
    let put = |h: &mut Vec<u8>, off: u64, v: u64| {
        h[off as usize..off as usize + 8].copy_from_slice(&v.to_le_bytes())
    };
    head[..VERSION_STR.len()].copy_from_slice(VERSION_STR);
    let hv = hash::header_version();
    let hvb = hv.as_bytes();
    let n_hv = hvb.len().min(HASH_VERSION_LEN - 1);
    head[8..8 + n_hv].copy_from_slice(&hvb[..n_hv]);
    put(&mut head, H_TOTAL_SIZE, total);
    put(&mut head, H_PAGE_SIZE, psize);
    put(&mut head, H_MAX_MASK, MAX_MASK);
    put(&mut head, H_MIN_MASK, MIN_MASK);
    put(&mut head, H_CUR_MASK, make_mask(n));
    put(&mut head, H_COLLISION_MASK, make_mask(c));
    put(&mut head, H_MAX_ELEMENT_COUNT, l.max_elements as u64);
    let (s, ns) = now_coarse();
    put(&mut head, H_LAST_AREA_UPDATE, s as u64);
    put(&mut head, H_LAST_AREA_UPDATE + 8, (ns / 1000) as u64);
    for (i, (t, o, len)) in [
        (AREA_KINDEX, ki_off, ki_len),
        (AREA_CKINDEX, cki_off, cki_len),
        (AREA_ELEMENT, el_off, el_len),
        (AREA_PAGE, pg_off, pg_len),
    ]
    .into_iter()
    .enumerate()
    {
        let a = H_AREAS + AREA_SIZE * i as u64;
        put(&mut head, a, t);
        put(&mut head, a + 8, o);
        put(&mut head, a + 16, len);
    }
    for g in 0..=n as u64 {
        let idx = if g == 0 { 0 } else { 1u64 << (g - 1) };
        put(
            &mut head,
            H_KEY_INDEX_AREA + 8 * g,
            ki_off + KINDEX_SIZE * idx,
        );
    }
    put(&mut head, H_FREE_ELEMENT_COUNT, el_cnt);
    put(&mut head, H_PFREE_ELEMENTS, el_off);
    put(&mut head, H_FREE_PAGE_COUNT, pg_cnt);
    put(&mut head, H_PFREE_PAGES, pg_off);
    put(&mut head, H_UNASSIGN_AREA, total);

    // key index
    let mask = make_mask(n);
    let shifted = mask << c;
    let mut ki = vec![0u8; ki_len as usize];
    for i in 0..keys {
        let o = (i * KINDEX_SIZE) as usize;
        ki[o..o + 8].copy_from_slice(&KINDEX_ASSIGNED.to_le_bytes());
        ki[o + 8..o + 16].copy_from_slice(&shifted.to_le_bytes());
        ki[o + 16..o + 24].copy_from_slice(&((i << c) & shifted).to_le_bytes());
        let ck = cki_off + CKINDEX_SIZE * (1u64 << c) * i;
        ki[o + 24..o + 32].copy_from_slice(&ck.to_le_bytes());
    }
    st.write(ki_off, &ki)?;
    write_element_list(st, el_off, el_cnt, 0)?;
    write_page_list(st, pg_off, pg_cnt, psize, 0)?;
    // the header last, so a half-written file never looks valid
    st.write(0, &head)?;
    Ok(())
}
