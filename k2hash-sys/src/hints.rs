//! Where the element of a key was last seen, per process and per attached store.
//!
//! Finding a key in the store walks the key index, the collision index and a binary tree of
//! elements ordered by subhash: for scattered keys in a large store each tree level is a cache
//! miss (about 70 % of the time of a read of 100,000 keys goes to loading tree nodes). A hint
//! is the offset of the element a key was found in (or written to) by this process, so a later
//! read goes to the element directly: one line of this table, the element, then its key and
//! value pages, fetched together.
//!
//! A hint is never trusted, it is checked: the caller holds the stripe lock of the key's
//! collision index (as for the walk) and takes the element only if it lies on an element slot,
//! carries the key's full hash and holds exactly the key. That is enough because every element
//! that carries a hash `h` is changed only under the stripe lock of `h`'s collision index
//! (created, re-linked, freed: `free_element` clears the key and the hash before the element
//! can be handed out again), and a store holds one live element per key. So a hint is right or
//! it fails the check and the walk runs; nothing needs to invalidate hints, not even writers in
//! other processes, compaction or a replaced file (offsets that are no longer elements fail the
//! check; a check never reports corruption).
//!
//! Layout: a table of 64-bit words, one per hint, in sets of eight to a cache line (with one
//! hint per slot a third of the keys collide at the load the table runs at, and go on evicting
//! each other). A word holds the element offset / 8 in its low 40 bits (elements beyond 8 TiB
//! get no hint) and 24 bits of the key's mixed hash above as a tag (0 is empty). Reads only
//! read the table: a count of reads kept here was tried, and threads bumping counts on shared
//! lines cost more than the table saved. The set is
//! the low bits of the mixed hash and the tag holds the bits above the smallest set number, so
//! when the table doubles with the store (twice as many hints as element slots, `set_slots`),
//! every hint moves to its new set without looking at its element. One anonymous mapping is
//! reserved for the largest table and touched only as far as it is used.
use crate::rcache::Words;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Largest table: 2^22 hints (64 MiB reserved, touched as used).
const MAX_BITS: u32 = 22;
/// Smallest table (2^8 sets).
const MIN_BITS: u32 = 10;
/// Hints to a set (one 64-byte line of eight words, two words a hint).
const WAY_BITS: u32 = 2;
const WAYS: usize = 1 << WAY_BITS;
const SET_WORDS: usize = 8;
/// Bits of the mixed hash below the tag: those of the smallest set number.
const TAG_SHIFT: u32 = MIN_BITS - WAY_BITS;
const OFF_BITS: u32 = 40;
const OFF_MASK: u64 = (1 << OFF_BITS) - 1;
const TAG_AT: u32 = OFF_BITS;
const TAG_MASK: u64 = (1 << (64 - TAG_AT)) - 1;
/// From this size on the table is advised into huge pages.
const HUGE_BYTES: usize = 2 << 20;

pub struct Hints {
    words: OnceLock<Option<Words>>,
    /// Index bits in use (MIN_BITS..=MAX_BITS): sets are 2^(bits - WAY_BITS).
    bits: AtomicU32,
    /// Held while the table doubles.
    grow: parking_lot::Mutex<()>,
}

/// Whether hints are on (`K2H_LOCATION_HINTS=0` turns them off, to compare).
fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("K2H_LOCATION_HINTS").map_or(true, |v| v.trim() != "0"))
}

/// The key hash, mixed so that its low bits (the set) depend on all of it.
#[inline(always)]
fn mix(h: u64) -> u64 {
    let mut m = h ^ (h >> 33);
    m = m.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    m ^= m >> 33;
    m = m.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    m ^ (m >> 33)
}

#[inline(always)]
fn tag_of(m: u64) -> u64 {
    (m >> TAG_SHIFT) & TAG_MASK
}

impl Hints {
    /// Hints for one store, or None when they are turned off.
    pub fn new() -> Option<Hints> {
        enabled().then(|| Hints {
            words: OnceLock::new(),
            bits: AtomicU32::new(MIN_BITS),
            grow: parking_lot::Mutex::new(()),
        })
    }

    /// Size the table for a store of `slots` element slots: double it (moving its hints) until
    /// it has twice as many hints.
    pub fn set_slots(&self, slots: u64) {
        let want = (slots
            .saturating_mul(2)
            .max(1)
            .next_power_of_two()
            .trailing_zeros())
        .clamp(MIN_BITS, MAX_BITS);
        if want <= self.bits.load(Ordering::Relaxed) {
            return;
        }
        let Some(_g) = self.grow.try_lock() else {
            return; // another thread is at it
        };
        let old = self.bits.load(Ordering::Relaxed);
        if want <= old {
            return;
        }
        let Some(Some(w)) = self.words.get() else {
            self.bits.store(want, Ordering::Relaxed); // nothing to move yet
            return;
        };
        Self::advise(w, want);
        // Publish the new size first: lookups meanwhile may miss hints not moved yet, and a
        // hint stored meanwhile lands in its new set; both only cost a walk.
        self.bits.store(want, Ordering::Relaxed);
        let sets = 1usize << (old - WAY_BITS);
        let more = want - old;
        for set in 0..sets {
            let at = set * SET_WORDS;
            for j in (at..at + SET_WORDS).step_by(2) {
                let v = w.at(j).load(Ordering::Relaxed);
                if v == 0 {
                    continue;
                }
                let up = ((v >> TAG_AT) >> (old - MIN_BITS)) as usize & ((1 << more) - 1);
                if up != 0 {
                    let to = (set | (up << (old - WAY_BITS))) * SET_WORDS;
                    Self::place(w, to, v, w.at(j + 1).load(Ordering::Relaxed));
                    let _ = w
                        .at(j)
                        .compare_exchange(v, 0, Ordering::Relaxed, Ordering::Relaxed);
                }
            }
        }
    }

    /// A table of 2 MiB or more goes into huge pages where the system allows: every read looks
    /// at a random line of it, and with small pages most of those need a page walk.
    fn advise(w: &Words, bits: u32) {
        let used = SET_WORDS << (bits - WAY_BITS);
        if used * 8 >= HUGE_BYTES {
            w.advise_huge(used);
        }
    }

    /// The first word of the set of mixed hash `m`.
    #[inline(always)]
    fn set_of(&self, m: u64) -> usize {
        let bits = self.bits.load(Ordering::Relaxed);
        ((m as usize) & ((1 << (bits - WAY_BITS)) - 1)) * SET_WORDS
    }

    /// The element last seen for the key of full hash `h` (unchecked), and where its value's
    /// first page was then (to be fetched alongside; 0: none).
    #[inline]
    pub fn get(&self, h: u64) -> Option<(u64, u64)> {
        let w = self.words.get()?.as_ref()?;
        let m = mix(h);
        let (at, tag) = (self.set_of(m), tag_of(m));
        (at..at + SET_WORDS).step_by(2).find_map(|j| {
            let v = w.at(j).load(Ordering::Relaxed);
            (v != 0 && v >> TAG_AT == tag)
                .then(|| ((v & OFF_MASK) << 3, w.at(j + 1).load(Ordering::Relaxed)))
        })
    }

    /// Remember that the key of full hash `h` is in element `e`, its value starting at page
    /// `page`.
    #[inline]
    pub fn put(&self, h: u64, e: u64, page: u64) {
        if e & 7 != 0 || e >> 3 > OFF_MASK || e == 0 {
            return;
        }
        let Some(w) = self
            .words
            .get_or_init(|| {
                let w = Words::map(SET_WORDS << (MAX_BITS - WAY_BITS), true, false)?;
                Self::advise(&w, self.bits.load(Ordering::Relaxed));
                Some(w)
            })
            .as_ref()
        else {
            return;
        };
        let m = mix(h);
        Self::place(w, self.set_of(m), (tag_of(m) << TAG_AT) | (e >> 3), page);
    }

    /// Put hint word `v` (and `page`) into the set at `at`: in place of the one with its tag,
    /// else in a free way, else in place of the way its tag picks. The two words are not
    /// written atomically: the page is only ever fetched, never trusted.
    #[inline]
    fn place(w: &Words, at: usize, v: u64, page: u64) {
        let tag = v >> TAG_AT;
        let mut free = None;
        for j in (at..at + SET_WORDS).step_by(2) {
            let old = w.at(j).load(Ordering::Relaxed);
            if old != 0 && old >> TAG_AT == tag {
                // only a changed hint dirties the line
                if old != v || w.at(j + 1).load(Ordering::Relaxed) != page {
                    w.at(j).store(v, Ordering::Relaxed);
                    w.at(j + 1).store(page, Ordering::Relaxed);
                }
                return;
            }
            if old == 0 && free.is_none() {
                free = Some(j);
            }
        }
        let j = free.unwrap_or(at + 2 * (tag as usize & (WAYS - 1)));
        w.at(j).store(v, Ordering::Relaxed);
        w.at(j + 1).store(page, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints() -> Hints {
        Hints {
            words: OnceLock::new(),
            bits: AtomicU32::new(MIN_BITS),
            grow: parking_lot::Mutex::new(()),
        }
    }

    fn el(hs: &Hints, h: u64) -> Option<u64> {
        hs.get(h).map(|x| x.0)
    }

    #[test]
    fn put_get_and_tags() {
        let hs = hints();
        assert_eq!(el(&hs, 42), None);
        hs.put(42, 0x1_0000, 0x9_0000);
        assert_eq!(hs.get(42), Some((0x1_0000, 0x9_0000)));
        assert_eq!(el(&hs, 42), Some(0x1_0000));
        hs.put(42, 0x1_0070, 0);
        assert_eq!(el(&hs, 42), Some(0x1_0070));
        // misaligned, null or too large offsets are not kept
        for bad in [0x1_0001, 0, 1 << 44] {
            hs.put(43, bad, 0);
            assert_eq!(el(&hs, 43), None);
        }
        // five keys of one set: four stay, the last one is found
        let set = hs.set_of(mix(42));
        let same: Vec<u64> = (0u64..)
            .filter(|&h| hs.set_of(mix(h)) == set)
            .take(5)
            .collect();
        for (i, &h) in same.iter().enumerate() {
            hs.put(h, 0x10_0000 + 0x70 * i as u64, 0);
        }
        let found = same.iter().filter(|&&h| el(&hs, h).is_some()).count();
        assert_eq!(found, 4);
        assert_eq!(el(&hs, same[4]), Some(0x10_0000 + 0x70 * 4));
    }

    #[test]
    fn growth_moves_every_hint() {
        let hs = hints();
        let keys: Vec<u64> = (1..=100u64)
            .map(|i| i.wrapping_mul(0x1234_5678_9ABC))
            .collect();
        for (i, &h) in keys.iter().enumerate() {
            hs.put(h, 0x8_0000 + 0x70 * i as u64, 0x100_0000 + i as u64);
        }
        // double once, then three times at once
        hs.set_slots(1 << 10);
        assert_eq!(hs.bits.load(Ordering::Relaxed), 11);
        hs.set_slots(1 << 13);
        assert_eq!(hs.bits.load(Ordering::Relaxed), 14);
        for (i, &h) in keys.iter().enumerate() {
            let want = (0x8_0000 + 0x70 * i as u64, 0x100_0000 + i as u64);
            assert_eq!(hs.get(h), Some(want), "key {i}");
        }
        hs.set_slots(1 << 40);
        assert_eq!(hs.bits.load(Ordering::Relaxed), MAX_BITS);
        for (i, &h) in keys.iter().enumerate() {
            let want = (0x8_0000 + 0x70 * i as u64, 0x100_0000 + i as u64);
            assert_eq!(hs.get(h), Some(want), "key {i}");
        }
    }
}
