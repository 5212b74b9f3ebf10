//! Whole-store work: the area table, compaction of the last area, walking every element
//! (iteration, verification, repair) and the merge callbacks' view by hash slot.
use super::*;

impl Db {
    // ------------------------------------------------------------------ iteration

    /// Offsets of the element areas in ascending file order.
    pub fn element_areas(&self) -> Result<Vec<(u64, u64)>> {
        let mut v = Vec::new();
        for (t, off, len) in self.areas()? {
            if t == AREA_ELEMENT {
                v.push((off, len));
            }
        }
        v.sort_unstable();
        Ok(v)
    }

    /// The area table up to the first unused slot: (type, offset, length).
    pub fn areas(&self) -> Result<Vec<(u64, u64, u64)>> {
        let mut v = Vec::new();
        for i in 0..MAX_AREA_COUNT {
            let a = H_AREAS + AREA_SIZE * i;
            let t = self.st.u64(a)?;
            if t == AREA_UNKNOWN {
                break;
            }
            v.push((t, self.st.u64(a + 8)?, self.st.u64(a + 16)?));
        }
        Ok(v)
    }

    /// Every slot of the area table, unused ones included: (type, offset, length).
    pub fn area_slots(&self) -> Result<Vec<(u64, u64, u64)>> {
        (0..MAX_AREA_COUNT)
            .map(|i| {
                let a = H_AREAS + AREA_SIZE * i;
                Ok((self.st.u64(a)?, self.st.u64(a + 8)?, self.st.u64(a + 16)?))
            })
            .collect()
    }

    /// Offsets of the live elements (key set), in file order.
    pub(super) fn live_elements(&self, areas: &[(u64, u64, u64)]) -> Result<Vec<u64>> {
        let mut v = Vec::new();
        for &(t, off, len) in areas {
            if t != AREA_ELEMENT {
                continue;
            }
            let mut e = off;
            while e + ELEMENT_SIZE <= off + len {
                if self.st.u64(e + E_KEY)? != 0 {
                    v.push(e);
                }
                e += ELEMENT_SIZE;
            }
        }
        v.sort_unstable();
        Ok(v)
    }

    /// Members of a free list (head field, next-link field), checked for cycles.
    pub(super) fn free_list(&self, head: u64, next: u64, page: bool) -> Result<Vec<u64>> {
        let mut v = Vec::new();
        let limit = self.st.valid_len() / ELEMENT_SIZE.min(self.page_size) + 2;
        let mut p = self.st.u64(head)?;
        while p != 0 {
            if v.len() as u64 > limit {
                return corrupt("free list has a cycle");
            }
            v.push(if page {
                self.check_page(p)?
            } else {
                self.check_elem(p)?
            });
            p = if page {
                self.st.pg_u64(p + next)?
            } else {
                self.st.u64(p + next)?
            };
        }
        Ok(v)
    }

    /// Rewrite a free list to exactly `items` (in order) and its counter.
    pub(super) fn set_free_list(&self, items: &[u64], page: bool) -> Result<()> {
        let (head, count, prev, next) = if page {
            (H_PFREE_PAGES, H_FREE_PAGE_COUNT, P_PREV, P_NEXT)
        } else {
            (H_PFREE_ELEMENTS, H_FREE_ELEMENT_COUNT, E_PARENT, E_SAME)
        };
        for (i, &x) in items.iter().enumerate() {
            let p = if i > 0 { items[i - 1] } else { 0 };
            let n = items.get(i + 1).copied().unwrap_or(0);
            if page {
                self.st.pg_set_u64(x + prev, p)?;
                self.st.pg_set_u64(x + next, n)?;
            } else {
                self.st.set_u64(x + prev, p)?;
                self.st.set_u64(x + next, n)?;
            }
        }
        self.st.set_u64(head, items.first().copied().unwrap_or(0))?;
        self.st.set_u64(count, items.len() as u64)
    }

    /// One compaction step (k2hcompress -direct): empty the last area of the table when it is a
    /// page or element area and not the only one of its kind, by moving what lives in it to free
    /// slots elsewhere; then drop it from the table and shorten the file. `Ok(false)`: nothing
    /// was removed (another kind of area, or not enough free room outside it). Runs under the
    /// exclusive structure lock, so no operation of ours sees a half-moved element.
    pub fn compress_last_area(&self) -> Result<bool> {
        if self.is_readonly() {
            return Err(K2hError::ReadOnly);
        }
        let _s = self.locks.write(STRUCT_LOCK);
        let _a = self.locks.write(ALLOC_LOCK);
        // readers skip the structure lock (`read_slot`) but hold their stripe while they touch
        // elements and pages: holding every stripe keeps them out of what is moved and cut (in
        // memory mode they hold none, and drop what they read when they find a stripe's writer
        // bit or generation, or the structure version, moved; memory is never cut)
        let _all = self.locks.all_stripes_write();
        let areas = self.areas()?;
        let Some(&(kind, start, len)) = areas.last() else {
            return Ok(false);
        };
        let slot = areas.len() as u64 - 1;
        let others = &areas[..areas.len() - 1];
        if !(kind == AREA_PAGE || kind == AREA_ELEMENT) || !others.iter().any(|a| a.0 == kind) {
            return Ok(false);
        }
        let inside = |o: u64| o >= start && o < start + len;
        let live = self.live_elements(&areas)?;
        if kind == AREA_PAGE {
            let fields = [E_KEY, E_VALUE, E_SUBKEYS, E_ATTRS];
            let mut moves: Vec<(u64, u64, Vec<u64>)> = Vec::new();
            let mut need = 0usize;
            for &e in &live {
                for f in fields {
                    let chain = self.chain_pages(self.st.u64(e + f)?)?;
                    let n = chain.iter().filter(|&&p| inside(p)).count();
                    if n > 0 {
                        need += n;
                        moves.push((e, f, chain));
                    }
                }
            }
            let free = self.free_list(H_PFREE_PAGES, P_NEXT, true)?;
            let mut outside: Vec<u64> = free.iter().copied().filter(|&p| !inside(p)).collect();
            if outside.len() < need {
                return Ok(false);
            }
            let spare = outside.split_off(need);
            self.set_free_list(&spare, true)?;
            let mut buf = vec![0u8; self.page_size as usize];
            let mut fresh = outside.into_iter();
            for (e, f, mut cur) in moves {
                for i in 0..cur.len() {
                    if !inside(cur[i]) {
                        continue;
                    }
                    let q = fresh
                        .next()
                        .ok_or_else(|| K2hError::NoSpace("pages".into()))?;
                    self.st.pg_read(cur[i], &mut buf)?;
                    self.st.pg_write(q, &buf)?;
                    cur[i] = q;
                    let prev = if i > 0 { cur[i - 1] } else { 0 };
                    let next = cur.get(i + 1).copied().unwrap_or(0);
                    self.st.pg_set_u64(q + P_PREV, prev)?;
                    self.st.pg_set_u64(q + P_NEXT, next)?;
                    if prev != 0 {
                        self.st.pg_set_u64(prev + P_NEXT, q)?;
                    } else {
                        self.st.set_u64(e + f, q)?;
                    }
                    if next != 0 {
                        self.st.pg_set_u64(next + P_PREV, q)?;
                    }
                }
            }
        } else {
            let movers: Vec<u64> = live.iter().copied().filter(|&e| inside(e)).collect();
            let mut cks = Vec::with_capacity(movers.len());
            for &e in &movers {
                let h = self.st.u64(e + E_HASH)?;
                let ki = self.resolve(h, false)?.unwrap_or(0);
                let ck = if ki != 0 { self.ckindex(ki, h)? } else { 0 };
                if ck == 0 || self.locate(ck, e)?.is_none() {
                    return corrupt(format!("element {e:#x} is not reachable from its index"));
                }
                cks.push(ck);
            }
            let free = self.free_list(H_PFREE_ELEMENTS, E_SAME, false)?;
            let mut outside: Vec<u64> = free.iter().copied().filter(|&x| !inside(x)).collect();
            if outside.len() < movers.len() {
                return Ok(false);
            }
            let spare = outside.split_off(movers.len());
            self.set_free_list(&spare, false)?;
            let mut buf = vec![0u8; ELEMENT_SIZE as usize];
            for ((e, ck), n) in movers.into_iter().zip(cks).zip(outside) {
                let Some((link, _)) = self.locate(ck, e)? else {
                    return corrupt(format!("element {e:#x} lost while moving"));
                };
                self.st.read(e, &mut buf)?;
                self.st.write(n, &buf)?;
                self.st.set_u64(link, n)?;
                for f in [E_SMALL, E_BIG, E_SAME] {
                    let c = self.st.u64(n + f)?;
                    if c != 0 {
                        self.st.set_u64(c + E_PARENT, n)?;
                    }
                }
                self.st.set_u64(e + E_KEY, 0)?;
            }
        }
        let a = H_AREAS + AREA_SIZE * slot;
        for off in [a, a + 8, a + 16] {
            self.st.set_u64(off, 0)?;
        }
        self.st.set_u64(H_UNASSIGN_AREA, start)?;
        let (s, ns) = now_coarse();
        for off in [H_LAST_UPDATE, H_LAST_AREA_UPDATE] {
            self.st.set_u64(off, s as u64)?;
            self.st.set_u64(off + 8, (ns / 1000) as u64)?;
        }
        self.locks.bump_area_epoch();
        if !self.temp {
            self.st.shrink_to(start)?;
        }
        Ok(true)
    }

    /// The first live element after offset `after` (0 = from the start), with its key and parts.
    pub fn next_element(
        &self,
        after: u64,
        parts: Parts,
    ) -> Result<Option<(u64, Vec<u8>, Element)>> {
        for (off, len) in self.element_areas()? {
            if off + len <= after {
                continue;
            }
            let mut e = if after < off {
                off
            } else {
                off + (after - off) / ELEMENT_SIZE * ELEMENT_SIZE + ELEMENT_SIZE
            };
            while e + ELEMENT_SIZE <= off + len {
                if self.st.u64(e + E_KEY)? != 0 {
                    if let Some(r) = self.read_live(e, parts)? {
                        return Ok(Some((e, r.0, r.1)));
                    }
                }
                e += ELEMENT_SIZE;
            }
        }
        Ok(None)
    }

    /// Read key and parts of the element at `e` under its lock, if it is still live.
    pub fn read_live(&self, e: u64, parts: Parts) -> Result<Option<(Vec<u8>, Element)>> {
        let h = self.st.u64(e + E_HASH)?;
        let _g = self.locks.read(STRUCT_LOCK);
        let ki = self.resolve(h, false)?.unwrap_or(0);
        let ck = if ki != 0 { self.ckindex(ki, h)? } else { 0 };
        let _s = self.locks.read(LockTable::stripe(ck));
        if self.st.u64(e + E_KEY)? == 0 || self.st.u64(e + E_HASH)? != h {
            return Ok(None);
        }
        let key = self.read_chain(self.st.u64(e + E_KEY)?, self.st.u64(e + E_KEYLEN)?)?;
        Ok(Some((key, self.read_parts(e, parts)?)))
    }

    /// All live keys in physical order.
    pub fn keys(&self) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        let mut pos = 0;
        while let Some((e, k, _)) = self.next_element(pos, Parts::NONE)? {
            out.push(k);
            pos = e;
        }
        Ok(out)
    }

    /// Check the free lists and trees (used by tests): returns the number of live elements.
    pub fn verify(&self) -> Result<u64> {
        let _g = self.locks.write(STRUCT_LOCK);
        let mut live = 0;
        for e in self.element_slots()? {
            if self.st.u64(e + E_KEY)? != 0 {
                live += 1;
                self.element_key(e)?;
                let h = self.st.u64(e + E_HASH)?;
                let ki = self.resolve(h, false)?.unwrap_or(0);
                let ck = self.ckindex(ki, h)?;
                if self.locate(ck, e)?.is_none() {
                    return corrupt(format!("live element {e:#x} is not reachable"));
                }
            }
        }
        Ok(live)
    }

    /// Every element slot of every element area, in file order (live or free).
    pub(super) fn element_slots(&self) -> Result<impl Iterator<Item = u64>> {
        Ok(self
            .element_areas()?
            .into_iter()
            .flat_map(|(off, len)| (0..len / ELEMENT_SIZE).map(move |i| off + i * ELEMENT_SIZE)))
    }

    /// The key of a live element, checked against its recorded length.
    pub(super) fn element_key(&self, e: u64) -> Result<Vec<u8>> {
        let key = self.read_chain(self.st.u64(e + E_KEY)?, 0)?;
        if key.len() as u64 != self.st.u64(e + E_KEYLEN)? {
            return corrupt("key length mismatch");
        }
        Ok(key)
    }

    /// Rebuild every collision tree from the live elements. Run when a process died holding a
    /// write lock of the structure, the allocator or a stripe (the lock table says so): its
    /// tree change may have been cut off half way, leaving keys unreachable. Every element
    /// with a key is hung again where the key index says; of two elements with one key (a
    /// replacement cut off), one is kept. What the dead process was changing ends up either
    /// done or not done; nothing another process wrote is lost. Returns the elements hung.
    pub fn repair(&self) -> Result<u64> {
        if self.is_readonly() {
            return Ok(0);
        }
        let _g = self.locks.write(STRUCT_LOCK);
        let Some(gen) = self.locks.repair_pending() else {
            return Ok(0);
        };
        let _a = self.locks.write(ALLOC_LOCK);
        let _all = self.locks.all_stripes_write();
        for (t, off, len) in self.areas()? {
            if t == AREA_CKINDEX {
                let mut ck = off;
                while ck + CKINDEX_SIZE <= off + len {
                    self.st.set_u64(ck + CK_COUNT, 0)?;
                    self.st.set_u64(ck + CK_LIST, 0)?;
                    ck += CKINDEX_SIZE;
                }
            }
        }
        let mut hung = 0;
        for el in self.element_slots()? {
            if self.st.u64(el + E_KEY)? == 0 {
                continue;
            }
            let (h, sub) = (self.st.u64(el + E_HASH)?, self.st.u64(el + E_SUBHASH)?);
            let Ok(key) = self.element_key(el) else {
                log::warn!("repair: element {el:#x} has a damaged key; dropped");
                self.st.set_u64(el + E_KEY, 0)?;
                continue;
            };
            let ki = self.resolve(h, false)?.unwrap_or(0);
            let ck = self.ckindex(ki, h)?;
            if self.find_in(ck, h, sub, &key)?.is_some() {
                log::warn!("repair: second element {el:#x} for one key; dropped");
                self.st.set_u64(el + E_KEY, 0)?;
                continue;
            }
            self.insert(ck, el)?;
            hung += 1;
        }
        self.locks.repair_done(gen);
        log::warn!("k2hash repaired after a process died in a change: {hung} elements");
        Ok(hung)
    }

    /// Exclusive queue lock (outermost: taken before any other lock of this k2hash).
    pub fn queue_guard(&self, trans: bool) -> crate::lock::Guard<'_> {
        self.locks.write(if trans {
            crate::lock::TRANS_QUEUE_LOCK
        } else {
            crate::lock::QUEUE_LOCK
        })
    }

    /// Highest hash value that selects a distinct collision index now:
    /// `(cur_mask << collision bits) | collision_mask`.
    pub fn max_slot_hash(&self) -> Result<u64> {
        Ok((self.st.u64(H_CUR_MASK)? << self.cbits) | self.cmask)
    }

    /// Elements of the collision index that `h` selects (no migration), in the original's order:
    /// each node, then its same chain, then the small and the big subtree. Returns
    /// (hash, subhash, key, all parts) of each.
    pub fn slot_elements(&self, h: u64) -> Result<Vec<SlotElement>> {
        let _g = self.locks.read(STRUCT_LOCK);
        let Some(ki) = self.resolve(h, false)? else {
            return Ok(Vec::new());
        };
        let ck = self.ckindex(ki, h)?;
        let _s = self.locks.read(LockTable::stripe(ck));
        let mut out = Vec::new();
        let mut stack = vec![self.root(ck)?];
        let limit = self.loop_limit() as usize;
        while let Some(e) = stack.pop() {
            if e == 0 {
                continue;
            }
            if out.len() > limit {
                return corrupt("element tree has a cycle");
            }
            let key = self.read_chain(self.st.u64(e + E_KEY)?, self.st.u64(e + E_KEYLEN)?)?;
            out.push((
                self.st.u64(e + E_HASH)?,
                self.st.u64(e + E_SUBHASH)?,
                key,
                self.read_parts(e, Parts::ALL)?,
            ));
            for f in [E_BIG, E_SMALL, E_SAME] {
                stack.push(self.link(e, f)?);
            }
        }
        Ok(out)
    }

    /// Lock the structure for a consistent dump.
    pub fn struct_guard(&self) -> crate::lock::Guard<'_> {
        self.locks.read(STRUCT_LOCK)
    }
}
