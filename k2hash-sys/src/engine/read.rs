//! Reads of one key: the key prepared (`ReadKey`), its location hint asked for, the slot read
//! under its stripe (or, in memory mode, checked against the stripe's write generation), and
//! the fast path for a key found through its hint.
use super::*;
use crate::store::View;

/// A key about to be read (`Db::read_key`): checked and hashed once, its hint asked for.
pub struct ReadKey<'k> {
    pub(crate) key: &'k [u8],
    pub(crate) h: u64,
    pub(crate) s: u64,
    /// `rcache::key_hash` of the key: where its location hint is.
    pub(crate) ch: u64,
}

impl Db {
    /// A key about to be read (`get_into`): checked, the line of its location hint asked for
    /// (by `rcache::key_hash`, quick to compute), then hashed for the store (FNV-1a, a
    /// multiplication a byte) while that line loads, and while the caller looks in the read
    /// cache.
    #[inline]
    pub fn read_key<'k>(&self, key: &'k [u8]) -> Result<ReadKey<'k>> {
        self.read_key_hashed(key, rcache::key_hash(key))
    }

    /// `read_key` of a key whose `rcache::key_hash` is known (`ch`).
    #[inline]
    pub fn read_key_hashed<'k>(&self, key: &'k [u8], ch: u64) -> Result<ReadKey<'k>> {
        Self::check_key(key)?;
        if let Some(hs) = &self.hints {
            hs.prefetch(ch);
        }
        let (h, s) = hash::hashes(key);
        Ok(ReadKey { key, h, s, ch })
    }

    /// `get` into a caller's element (its buffers are cleared and reused): no allocation once
    /// they are large enough. False when the key does not exist.
    pub fn get_into(&self, k: &ReadKey, parts: Parts, el: &mut Element) -> Result<bool> {
        self.read_into(k, parts, el, None)
    }

    /// `get_into`, also telling under what the element was read (`tag`, set when found), for
    /// the read cache.
    pub fn get_into_tagged(
        &self,
        k: &ReadKey,
        parts: Parts,
        el: &mut Element,
        tag: &mut Option<Tag>,
    ) -> Result<bool> {
        self.read_into(k, parts, el, Some(tag))
    }

    fn read_into(
        &self,
        k: &ReadKey,
        parts: Parts,
        el: &mut Element,
        mut tag: Option<&mut Option<Tag>>,
    ) -> Result<bool> {
        let hint = self.hint_of(k);
        self.read_slot(k.h, |ck| {
            let found = match hint {
                Some((e, page)) if self.read_hinted(e, page, k, parts, el) => true,
                // no hint, or one that does not hold: the walk, from a checked CKINDEX
                _ if !self.is_ckindex(ck) => {
                    return corrupt(format!("{ck:#x} is not a collision index entry"))
                }
                _ => match self.find_read(ck, k)? {
                    Some(e) => {
                        self.read_parts_into(e, parts, el)?;
                        true
                    }
                    None => false,
                },
            };
            if let Some(tag) = tag.as_deref_mut() {
                // the stripe is held in read mode, or its generation is checked after (see
                // `read_slot`): no writer moves it meanwhile; the structure version is even and
                // stays so (checked after, or locked)
                *tag = found
                    .then(|| {
                        let slot = LockTable::stripe(ck);
                        Tag {
                            slot: slot as u64,
                            gen: self.locks.write_gen(slot),
                            sv: self.locks.struct_version(),
                        }
                    })
                    .filter(|t| t.sv & 1 == 0);
            }
            Ok(found)
        })
    }

    /// A read under the slot lock only: the structure lock is skipped and its version checked
    /// before and after instead (seqlock); when a structure writer was at work meanwhile, the
    /// read is done again under the structure lock. `f` may run more than once, and checks
    /// the CKINDEX it is given (`is_ckindex`) before it reads anything at it: a read through
    /// the key's hint does not need it, but its stripe.
    ///
    /// In memory mode the slot lock is not taken either: its write generation is checked
    /// before and after in the same way (`LockTable::peek`), which spares a read the two
    /// atomic read-modify-writes of a shared lock. A file is not read so: compaction shortens
    /// it, and a read of a page beyond its new end would fault; memory never shrinks. What a
    /// read without the lock finds (an error too) is kept only when no writer held the lock
    /// meanwhile: it is then what a read under the lock would have found. Else (a writer may
    /// have torn it) the read is done again under the lock.
    pub(super) fn read_slot<R>(&self, h: u64, mut f: impl FnMut(u64) -> Result<R>) -> Result<R> {
        let v1 = self.locks.struct_version();
        if v1 & 1 == 0 && self.locks.repair_pending().is_none() {
            let merge = !self.is_readonly();
            let r = (|| -> Result<Option<R>> {
                let Some(ki) = self.resolve(h, merge)? else {
                    return Ok(None);
                };
                let ck = self.ckindex_unchecked(ki, h)?;
                let slot = LockTable::stripe(ck);
                if self.st.is_memory() {
                    if let Some(gen) = self.locks.peek(slot) {
                        let r = f(ck);
                        if self.locks.unchanged(slot, gen) {
                            return r.map(Some);
                        }
                    }
                }
                let _s = self.locks.read(slot);
                f(ck).map(Some)
            })();
            std::sync::atomic::fence(Ordering::Acquire);
            if self.locks.struct_version() == v1 && self.locks.repair_pending().is_none() {
                match r {
                    Ok(Some(v)) => return Ok(v),
                    Ok(None) => {} // the slot needs its lazy migration first
                    Err(e) => return Err(e),
                }
            }
        }
        self.with_slot(h, false, f)
    }

    /// `find_in` for a read (the walk, when there is no hint or it did not hold): the element
    /// found is remembered as the key's hint. The stripe lock of `ck` is held (or checked).
    #[inline]
    fn find_read(&self, ck: u64, k: &ReadKey) -> Result<Option<u64>> {
        let found = self.find_in(ck, k.h, k.s, k.key)?;
        if let Some(e) = found {
            self.hint(k.ch, e);
        }
        Ok(found)
    }

    /// The hint of `k` (see `hints`), its element and pages asked for: read before the stripe
    /// lock is taken, so they load while it is.
    #[inline]
    fn hint_of(&self, k: &ReadKey) -> Option<(u64, u64)> {
        let (e, page) = self.hints.as_ref()?.get(k.ch)?;
        let st = &self.st;
        st.prefetch(e);
        st.prefetch(e + 64);
        st.prefetch(e + ELEMENT_SIZE - 1);
        if page != 0 {
            for p in [
                page,
                page + self.page_size,
                page.wrapping_sub(self.page_size),
            ] {
                st.pg_prefetch(p);
                st.pg_prefetch(p + 64);
            }
        }
        Some((e, page))
    }

    /// Read `parts` of the element of `k` into `el` when its hint `e` holds: the element lies
    /// on an element slot, carries the key's full hash and exactly the key (see `hints` for why
    /// that is enough). False when it does not, or when anything looks amiss (the walk then
    /// finds the element and reads it the general way, which reports what is wrong). `page`
    /// is where the value started when the hint was taken: `hint_of` asked for it with the
    /// element, and for the page after it (the rest of a longer value) and the page before it
    /// (most likely the key's, written just before the value), as pages are handed out in
    /// order.
    ///
    /// This is the read of nearly every key read again, so it is written for few
    /// instructions: the mapping's address and length are loaded once (`Store::view`), and
    /// every field and page is checked against that length only. The stripe of the key is
    /// held or checked (`read_slot`).
    fn read_hinted(&self, e: u64, page: u64, k: &ReadKey, parts: Parts, el: &mut Element) -> bool {
        let Some(v) = self.st.view() else {
            return false;
        };
        if self.check_elem(e).is_err() {
            return false;
        }
        let at = |f: u64| v.u64(e + f);
        let (Some(hash), Some(klen), Some(kp), Some(vp)) =
            (at(E_HASH), at(E_KEYLEN), at(E_KEY), at(E_VALUE))
        else {
            return false;
        };
        if hash != k.h || klen != k.key.len() as u64 {
            return false;
        }
        if vp != page {
            v.prefetch(vp);
            v.prefetch(vp + 64);
        }
        if !self.key_in_view(&v, kp, k.key) {
            return false;
        }
        for (want, ptr, lenf, out) in part_fields(parts, el) {
            out.clear();
            if want {
                let (Some(first), Some(len)) = (at(ptr), at(lenf)) else {
                    return false;
                };
                if self.chain_in_view(&v, first, len, out).is_none() {
                    return false;
                }
            }
        }
        true
    }

    /// Whether the key pages from `p` hold exactly `key` (`key_eq` on a view).
    #[inline]
    fn key_in_view(&self, v: &View, mut p: u64, key: &[u8]) -> bool {
        let mut rest = key;
        while p != 0 && !rest.is_empty() {
            if p >= v.mapped_len() {
                return false;
            }
            let Some(len) = v.u64(p + P_LENGTH) else {
                return false;
            };
            if len == 0 || len > self.payload || len as usize > rest.len() {
                return false;
            }
            let (this, more) = rest.split_at(len as usize);
            if v.eq(p + PAGEHEAD_SIZE, this) != Some(true) {
                return false;
            }
            rest = more;
            let Some(next) = v.u64(p + P_NEXT) else {
                return false;
            };
            p = next;
        }
        rest.is_empty()
    }

    /// Append the bytes of the page chain from `first` to `out` (`read_chain_into` on a view;
    /// `len` is the length the element gives, room made for it up front). None when a page
    /// is out of range, too long, or the chain loops.
    #[inline]
    fn chain_in_view(&self, v: &View, first: u64, len: u64, out: &mut Vec<u8>) -> Option<()> {
        if first == 0 {
            return Some(());
        }
        out.reserve(len.min(v.mapped_len()).min(1 << 24) as usize);
        // more pages than the mapping holds: the chain loops (a running sum of their sizes,
        // not a division of the length: this runs for every read)
        let (mut p, mut seen) = (first, 0u64);
        while p != 0 {
            seen += self.page_size;
            if seen > v.mapped_len() + self.page_size || p >= v.mapped_len() {
                return None;
            }
            let plen = v.u64(p + P_LENGTH)?;
            if plen > self.payload {
                return None;
            }
            v.extend(p + PAGEHEAD_SIZE, plen, out)?;
            p = v.u64(p + P_NEXT)?;
        }
        Some(())
    }

    /// Read parts of the element stored under `key`.
    pub fn get(&self, key: &[u8], parts: Parts) -> Result<Option<Element>> {
        let mut el = Element::default();
        Ok(self
            .get_into(&self.read_key(key)?, parts, &mut el)?
            .then_some(el))
    }
}
