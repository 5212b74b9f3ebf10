//! Pages and elements: reading, writing and freeing page chains, taking elements and pages off
//! their free lists, and growing the areas they come from.
use super::*;

impl Db {
    /// Bytes of the page chain starting at `first` (for dumps).
    pub fn chain_bytes(&self, first: u64, hint: u64) -> Result<Vec<u8>> {
        self.read_chain(first, hint)
    }

    pub(super) fn read_chain(&self, first: u64, hint: u64) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(hint.min(self.st.valid_len()).min(1 << 24) as usize);
        self.read_chain_into(first, &mut out)?;
        Ok(out)
    }

    /// Append the bytes of a page chain to `out`.
    pub(super) fn read_chain_into(&self, first: u64, out: &mut Vec<u8>) -> Result<()> {
        let mut p = first;
        let limit = self.st.valid_len() / self.page_size + 1;
        let mut n = 0u64;
        while p != 0 {
            n += 1;
            if n > limit {
                return corrupt("page chain has a cycle");
            }
            // a damaged link may point anywhere, up to the top of the address space
            if p > u64::MAX - PAGEHEAD_SIZE {
                return corrupt(format!("page link {p:#x} out of range"));
            }
            let len = self.st.pg_u64(p + P_LENGTH)?;
            if len > self.payload {
                return corrupt(format!("page {p:#x} has length {len}"));
            }
            self.st.pg_extend(p + PAGEHEAD_SIZE, len as usize, out)?;
            p = self.st.pg_u64(p + P_NEXT)?;
        }
        Ok(())
    }

    /// Take pages for `len` bytes off the free list and fill them with `data`.
    pub(super) fn alloc_chain(&self, data: &[u8]) -> Result<u64> {
        if data.is_empty() {
            return Ok(0);
        }
        let need = (data.len() as u64).div_ceil(self.payload);
        let pages = {
            let _a = self.locks.write(ALLOC_LOCK);
            self.reserve_pages(data.len() as u64, need)?
        };
        for (i, &p) in pages.iter().enumerate() {
            let from = i * self.payload as usize;
            let chunk = &data[from..(from + self.payload as usize).min(data.len())];
            self.st.pg_set_u64(p + P_LENGTH, chunk.len() as u64)?;
            self.st.pg_write(p + PAGEHEAD_SIZE, chunk)?;
        }
        Ok(pages[0])
    }

    pub(super) fn reserve_pages(&self, len: u64, need: u64) -> Result<Vec<u64>> {
        let mut tries = 0;
        loop {
            tries += 1;
            if tries > 64 {
                return Err(K2hError::NoSpace("cannot reserve pages".into()));
            }
            let count = self.st.u64(H_FREE_PAGE_COUNT)?;
            if self.payload.saturating_mul(count) < len || self.st.u64(H_PFREE_PAGES)? == 0 {
                self.expand_pages()?;
                continue;
            }
            let mut pages = Vec::with_capacity(need as usize);
            let mut p = self.st.u64(H_PFREE_PAGES)?;
            let walk = (|| -> Result<u64> {
                while p != 0 && (pages.len() as u64) < need {
                    pages.push(self.check_page(p)?);
                    p = self.st.pg_u64(p + P_NEXT)?;
                }
                if p != 0 {
                    self.check_page(p)?;
                }
                Ok(p)
            })();
            let p = match walk {
                Ok(p) => p,
                Err(e) => {
                    // A damaged free list: abandon it (its pages leak) and start a fresh one.
                    log::warn!("k2hash free page list is damaged ({e}); starting a new one");
                    self.st.set_u64(H_PFREE_PAGES, 0)?;
                    self.st.set_u64(H_FREE_PAGE_COUNT, 0)?;
                    continue;
                }
            };
            if (pages.len() as u64) < need {
                // The counter over-counted: grow and try again.
                self.expand_pages()?;
                continue;
            }
            let last = pages[pages.len() - 1];
            if p != 0 {
                self.st.pg_set_u64(p + P_PREV, 0)?;
                self.st.set_u64(H_PFREE_PAGES, p)?;
                self.st
                    .set_u64(H_FREE_PAGE_COUNT, count.saturating_sub(need))?;
                self.st.pg_set_u64(last + P_NEXT, 0)?;
            } else {
                self.st.set_u64(H_PFREE_PAGES, 0)?;
                self.st.set_u64(H_FREE_PAGE_COUNT, 0)?;
            }
            return Ok(pages);
        }
    }

    /// Return a page chain to the free list. A damaged chain is left alone (its pages leak).
    pub(super) fn free_chain(&self, first: u64) -> Result<()> {
        if first == 0 {
            return Ok(());
        }
        let pages = self.chain_pages(first)?;
        let _a = self.locks.write(ALLOC_LOCK);
        for &p in &pages {
            self.st.pg_set_u64(p + P_LENGTH, 0)?;
        }
        let last = pages[pages.len() - 1];
        let head = match self.st.u64(H_PFREE_PAGES)? {
            0 => 0,
            h => self.check_page(h).unwrap_or(0),
        };
        self.st.pg_set_u64(last + P_NEXT, head)?;
        if head != 0 {
            self.st.pg_set_u64(head + P_PREV, last)?;
        }
        self.st.set_u64(H_PFREE_PAGES, first)?;
        let c = self.st.u64(H_FREE_PAGE_COUNT)?;
        self.st.set_u64(H_FREE_PAGE_COUNT, c + pages.len() as u64)
    }

    /// The pages of the chain starting at `first`, each checked, cycles refused.
    pub(super) fn chain_pages(&self, first: u64) -> Result<Vec<u64>> {
        let limit = self.st.valid_len() / self.page_size + 1;
        let mut pages = Vec::new();
        let mut p = first;
        while p != 0 {
            if pages.len() as u64 >= limit {
                return corrupt("page chain has a cycle");
            }
            pages.push(self.check_page(p)?);
            p = self.st.pg_u64(p + P_NEXT)?;
        }
        Ok(pages)
    }

    pub(super) fn expand_count(&self, ratio: u64) -> Result<u64> {
        let b = mask_bits(self.st.u64(H_CUR_MASK)?) as u64;
        Ok(((1u64 << b) * (self.cmask + 1) * ratio).min(MAX_EXPAND_COUNT))
    }

    /// Append a page area (allocation lock held).
    pub(super) fn expand_pages(&self) -> Result<()> {
        let count = self.expand_count(ELEMENT_CNT_RATIO * PAGE_CNT_RATIO)?;
        let start = self.add_area(AREA_PAGE, self.page_size * count)?;
        let head = self.st.u64(H_PFREE_PAGES)?;
        write_page_list(&self.st, start, count, self.page_size, head)?;
        if head != 0 {
            self.st
                .pg_set_u64(head + P_PREV, start + (count - 1) * self.page_size)?;
        }
        self.st.set_u64(H_PFREE_PAGES, start)?;
        let c = self.st.u64(H_FREE_PAGE_COUNT)?;
        self.st.set_u64(H_FREE_PAGE_COUNT, c + count)
    }

    /// Append an element area (allocation lock held).
    pub(super) fn expand_elements(&self) -> Result<()> {
        let count = self.expand_count(ELEMENT_CNT_RATIO)?;
        let start = self.add_area(AREA_ELEMENT, ELEMENT_SIZE * count)?;
        let head = self.st.u64(H_PFREE_ELEMENTS)?;
        write_element_list(&self.st, start, count, head)?;
        if head != 0 {
            self.st
                .set_u64(head + E_PARENT, start + (count - 1) * ELEMENT_SIZE)?;
        }
        self.st.set_u64(H_PFREE_ELEMENTS, start)?;
        let c = self.st.u64(H_FREE_ELEMENT_COUNT)?;
        self.st.set_u64(H_FREE_ELEMENT_COUNT, c + count)
    }

    /// Append an area of `len` bytes (allocation lock held); returns its offset.
    pub(super) fn add_area(&self, kind: u64, len: u64) -> Result<u64> {
        let unassign = self.st.u64(H_UNASSIGN_AREA)?;
        let start = align_up(unassign);
        let slot = (0..MAX_AREA_COUNT)
            .find(|i| {
                self.st
                    .u64(H_AREAS + AREA_SIZE * i)
                    .map(|t| t == AREA_UNKNOWN)
                    .unwrap_or(false)
            })
            .ok_or_else(|| K2hError::NoSpace("all 2048 areas are used".into()))?;
        let old_len = self.st.valid_len();
        self.st.grow_to(start + len)?;
        if old_len > unassign {
            // space left over beyond the logical end (e.g. after compaction) must read as zeros
            self.st
                .zero(unassign, old_len.min(start + len) - unassign)?;
        }
        // Written in an order that a process killed at any point leaves a usable file: the
        // space is claimed (unassign_area) before the entry is committed by its type, so an
        // entry never overlaps a later area; at worst the space stays unused.
        let a = H_AREAS + AREA_SIZE * slot;
        self.st.set_u64(a + 8, start)?;
        self.st.set_u64(a + 16, len)?;
        self.st.set_u64(H_UNASSIGN_AREA, start + len)?;
        self.st.set_u64(a, kind)?;
        let (s, ns) = now_coarse();
        for off in [H_LAST_UPDATE, H_LAST_AREA_UPDATE] {
            self.st.set_u64(off, s as u64)?;
            self.st.set_u64(off + 8, (ns / 1000) as u64)?;
        }
        Ok(start)
    }

    pub(super) fn reserve_element(&self) -> Result<u64> {
        let _a = self.locks.write(ALLOC_LOCK);
        for _ in 0..2 {
            if self.st.u64(H_PFREE_ELEMENTS)? == 0 {
                self.expand_elements()?;
            }
            let head = self.st.u64(H_PFREE_ELEMENTS)?;
            let (e, next) = match self
                .check_elem(head)
                .and_then(|e| Ok((e, self.link(e, E_SAME)?)))
            {
                Ok(v) => v,
                Err(err) => {
                    log::warn!("k2hash free element list is damaged ({err}); starting a new one");
                    self.st.set_u64(H_PFREE_ELEMENTS, 0)?;
                    self.st.set_u64(H_FREE_ELEMENT_COUNT, 0)?;
                    continue;
                }
            };
            if next != 0 {
                self.st.set_u64(next + E_PARENT, 0)?;
            }
            self.st.set_u64(H_PFREE_ELEMENTS, next)?;
            for f in [E_PARENT, E_SAME, E_SMALL, E_BIG] {
                self.st.set_u64(e + f, 0)?;
            }
            let c = self.st.u64(H_FREE_ELEMENT_COUNT)?;
            self.st.set_u64(H_FREE_ELEMENT_COUNT, c.saturating_sub(1))?;
            return Ok(e);
        }
        Err(K2hError::NoSpace("cannot reserve an element".into()))
    }

    /// Free an element that is already off its tree, with whatever page chains it still owns.
    pub(super) fn free_element(&self, e: u64) -> Result<()> {
        self.check_elem(e)?;
        // The element is marked dead (no key) before its pages go back to the free list: a
        // process killed in between leaves unused pages, never a live element whose pages are
        // handed out again (see `repair`).
        let chains = [E_ATTRS, E_SUBKEYS, E_VALUE, E_KEY].map(|f| self.st.u64(e + f));
        self.st.set_u64(e + E_KEY, 0)?;
        for p in chains {
            if let Err(err) = p.and_then(|p| self.free_chain(p)) {
                log::warn!("page chain of element {e:#x} not freed: {err}");
            }
        }
        let _a = self.locks.write(ALLOC_LOCK);
        let head = match self.st.u64(H_PFREE_ELEMENTS)? {
            0 => 0,
            h => self.check_elem(h).unwrap_or(0),
        };
        if head != 0 {
            self.st.set_u64(head + E_PARENT, e)?;
        }
        for f in [E_SMALL, E_BIG, E_PARENT] {
            self.st.set_u64(e + f, 0)?;
        }
        self.st.set_u64(e + E_SAME, head)?;
        for f in [E_HASH, E_SUBHASH, E_KEY, E_VALUE, E_SUBKEYS] {
            self.st.set_u64(e + f, 0)?;
        }
        self.st.set_u64(H_PFREE_ELEMENTS, e)?;
        let c = self.st.u64(H_FREE_ELEMENT_COUNT)?;
        self.st.set_u64(H_FREE_ELEMENT_COUNT, c + 1)
    }

    pub(super) fn new_element(&self, h: u64, s: u64, key: &[u8], el: &Element) -> Result<u64> {
        let e = self.reserve_element()?;
        let fill = || -> Result<()> {
            let k = self.alloc_chain(key)?;
            self.st.set_u64(e + E_KEY, k)?;
            let v = self.alloc_chain(&el.value)?;
            self.st.set_u64(e + E_VALUE, v)?;
            let sk = self.alloc_chain(&el.subkeys)?;
            self.st.set_u64(e + E_SUBKEYS, sk)?;
            let a = self.alloc_chain(&el.attrs)?;
            self.st.set_u64(e + E_ATTRS, a)?;
            self.st.set_u64(e + E_HASH, h)?;
            self.st.set_u64(e + E_SUBHASH, s)?;
            self.st.set_u64(e + E_KEYLEN, key.len() as u64)?;
            self.st.set_u64(e + E_VALLEN, el.value.len() as u64)?;
            self.st.set_u64(e + E_SKEYLEN, el.subkeys.len() as u64)?;
            self.st.set_u64(e + E_ATTRLEN, el.attrs.len() as u64)
        };
        if let Err(err) = fill() {
            // give back what was taken so nothing leaks
            let _ = self.free_element(e);
            return Err(err);
        }
        Ok(e)
    }

    pub(super) fn read_parts(&self, e: u64, parts: Parts) -> Result<Element> {
        let mut el = Element::default();
        self.read_parts_into(e, parts, &mut el)?;
        Ok(el)
    }

    /// Read `parts` of element `e` into `el`, replacing its contents (its buffers are reused).
    pub(super) fn read_parts_into(&self, e: u64, parts: Parts, el: &mut Element) -> Result<()> {
        for (want, ptr, lenf, out) in part_fields(parts, el) {
            out.clear();
            if want {
                let hint = self.st.u64(e + lenf)?;
                out.reserve(hint.min(self.st.valid_len()).min(1 << 24) as usize);
                self.read_chain_into(self.st.u64(e + ptr)?, out)?;
            }
        }
        Ok(())
    }

    /// Replace one part of a live element in place: new pages first, then free the old ones.
    pub(super) fn replace_part(&self, e: u64, ptr: u64, lenf: u64, data: &[u8]) -> Result<()> {
        if self.rewrite_in_place(e, ptr, lenf, data)? {
            return Ok(());
        }
        let newp = self.alloc_chain(data)?;
        let old = self.st.u64(e + ptr)?;
        self.st.set_u64(e + ptr, newp)?;
        self.st.set_u64(e + lenf, data.len() as u64)?;
        self.free_chain(old)
    }

    /// Write `data` over the existing chain of a part when it needs exactly as many pages;
    /// false (nothing written) otherwise.
    pub(super) fn rewrite_in_place(
        &self,
        e: u64,
        ptr: u64,
        lenf: u64,
        data: &[u8],
    ) -> Result<bool> {
        let first = self.st.u64(e + ptr)?;
        if first == 0 || data.is_empty() {
            return Ok(false);
        }
        let need = (data.len() as u64).div_ceil(self.payload) as usize;
        let mut pages = [0u64; 8];
        if need > pages.len() {
            return Ok(false);
        }
        let mut p = first;
        let mut n = 0;
        while p != 0 {
            if n == need {
                return Ok(false);
            }
            pages[n] = self.check_page(p)?;
            n += 1;
            p = self.st.pg_u64(p + P_NEXT)?;
        }
        if n != need {
            return Ok(false);
        }
        for (i, chunk) in data.chunks(self.payload as usize).enumerate() {
            self.st
                .pg_set_u64(pages[i] + P_LENGTH, chunk.len() as u64)?;
            self.st.pg_write(pages[i] + PAGEHEAD_SIZE, chunk)?;
        }
        self.st.set_u64(e + lenf, data.len() as u64)?;
        Ok(true)
    }
}
