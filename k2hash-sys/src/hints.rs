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
//! The table is indexed by `rcache::key_hash` of the key (a few multiplications a word), not by
//! the store's FNV-1a hash (a multiplication a byte, fixed by the file format): a read asks for
//! its hint's line first and computes the store's hashes while it loads.
//!
//! Layout: a table of 64-bit words in sets of one cache line. While the store is smaller than
//! 1 GiB (most stores) a hint is one word: a 10-bit tag (top bits of the mixed key hash), the
//! element offset / 8 and the value's first page / 8 in 27 bits each; eight hints to a line.
//! A larger store switches the table to two words a hint (a 24-bit tag and the element offset
//! / 8 in the first, the page in the second; four to a line) and starts it over. Halving the
//! hint is worth it: a read waits for its hint's line before anything else, and a table half
//! the size stays in the last-level cache twice as long between two reads of a line (with
//! 100,000 keys read in turn, 2 MiB of one-word hints instead of 4 MiB: reads 15-20 % faster
//! on this machine). The table has twice as many hints as the store has element slots (sets
//! rarely overflow then), doubles with the store (`set_slots`), and when it does, each hint
//! moves to its new set by the key its element holds now (elements and their keys' pages asked
//! for sixteen at a time; a hint whose element now holds a key of another set or tag is
//! dropped, and so is every hint of a store in partial mapping mode, where reading a key is a
//! system call). Reads only read the table: a count of reads kept here was
//! tried, and threads bumping counts on shared lines cost more than the table saved. One
//! anonymous mapping is reserved for the largest table and touched only as far as it is used.
use crate::rcache::Words;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::OnceLock;

/// Words reserved: 64 MiB.
const RESERVED_WORDS: usize = 1 << 23;
/// Smallest table: 2^10 hints.
const MIN_BITS: u32 = 10;
/// Words to a set (one 64-byte line).
const SET_WORDS: usize = 8;
/// One-word hints: offsets / 8 in 27 bits each, the tag above.
const NARROW_OFF_BITS: u32 = 27;
const NARROW_OFF_MASK: u64 = (1 << NARROW_OFF_BITS) - 1;
const NARROW_TAG_AT: u32 = 2 * NARROW_OFF_BITS;
/// Stores from this size on (any area ending beyond) use two-word hints.
pub const NARROW_LIMIT: u64 = (NARROW_OFF_MASK + 1) << 3;
/// Two-word hints: the element offset / 8 in 40 bits, the tag above; the page in the second.
const WIDE_OFF_BITS: u32 = 40;
const WIDE_OFF_MASK: u64 = (1 << WIDE_OFF_BITS) - 1;
/// From this size on the table is advised into huge pages.
const HUGE_BYTES: usize = 2 << 20;
/// Hints moved a batch while the table doubles (their elements and keys asked for together).
const MOVE_AHEAD: usize = 16;

/// What `set_slots` needs of the store to move hints: the `rcache::key_hash` of the key an
/// element holds now (None: drop its hint), and ways to ask ahead for the element's line and,
/// once that is in, for its key's page.
pub trait Elements {
    fn prefetch(&self, e: u64);
    fn prefetch_key(&self, e: u64);
    fn key_hash(&self, e: u64) -> Option<u64>;
}

pub struct Hints {
    words: OnceLock<Option<Words>>,
    /// log2 of the number of hints in use.
    bits: AtomicU32,
    /// Two words a hint (the store has grown beyond `NARROW_LIMIT`).
    wide: AtomicBool,
    /// Held while the table doubles or changes form.
    grow: parking_lot::Mutex<()>,
}

/// Whether hints are on (`K2H_LOCATION_HINTS=0` turns them off, to compare).
fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("K2H_LOCATION_HINTS").map_or(true, |v| v.trim() != "0"))
}

/// The key hash, mixed so that its low bits (the set) and its top bits (the tag) depend on all
/// of it.
#[inline(always)]
fn mix(h: u64) -> u64 {
    let mut m = h ^ (h >> 33);
    m = m.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    m ^= m >> 33;
    m = m.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    m ^ (m >> 33)
}

/// One form of the table: how hints are laid out in words.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Form {
    Narrow,
    Wide,
}

impl Form {
    /// Words a hint.
    #[inline(always)]
    fn step(self) -> usize {
        match self {
            Form::Narrow => 1,
            Form::Wide => 2,
        }
    }
    #[inline(always)]
    fn tag_at(self) -> u32 {
        match self {
            Form::Narrow => NARROW_TAG_AT,
            Form::Wide => WIDE_OFF_BITS,
        }
    }
    /// The first word of a hint of mixed hash `m` for element `e` (and, narrow, page `page`).
    #[inline(always)]
    fn encode(self, m: u64, e: u64, page: u64) -> Option<u64> {
        if e == 0 || e & 7 != 0 {
            return None;
        }
        let tag = m >> self.tag_at() << self.tag_at();
        match self {
            Form::Narrow => {
                if e >> 3 > NARROW_OFF_MASK {
                    return None;
                }
                let p = if page & 7 == 0 && page >> 3 <= NARROW_OFF_MASK {
                    page >> 3
                } else {
                    0
                };
                Some(tag | (e >> 3) << NARROW_OFF_BITS | p)
            }
            Form::Wide => (e >> 3 <= WIDE_OFF_MASK).then_some(tag | e >> 3),
        }
    }
    /// The element of first word `v`, and the page (`second`: the word after it).
    #[inline(always)]
    fn decode(self, v: u64, second: impl FnOnce() -> u64) -> (u64, u64) {
        match self {
            Form::Narrow => (
                ((v >> NARROW_OFF_BITS) & NARROW_OFF_MASK) << 3,
                (v & NARROW_OFF_MASK) << 3,
            ),
            Form::Wide => ((v & WIDE_OFF_MASK) << 3, second()),
        }
    }
    /// Words of a table of 2^`bits` hints.
    #[inline(always)]
    fn words(self, bits: u32) -> usize {
        (1usize << bits) * self.step()
    }
    /// Largest table (log2 hints).
    fn max_bits(self) -> u32 {
        (RESERVED_WORDS / self.step()).trailing_zeros()
    }
}

impl Hints {
    /// Hints for one store, or None when they are turned off.
    pub fn new() -> Option<Hints> {
        enabled().then(Hints::blank)
    }

    fn blank() -> Hints {
        Hints {
            words: OnceLock::new(),
            bits: AtomicU32::new(MIN_BITS),
            wide: AtomicBool::new(false),
            grow: parking_lot::Mutex::new(()),
        }
    }

    /// log2 of the number of hints in use (tests).
    #[cfg(test)]
    pub(crate) fn bits(&self) -> u32 {
        self.bits.load(Ordering::Relaxed)
    }

    #[inline(always)]
    fn form(&self) -> Form {
        if self.wide.load(Ordering::Relaxed) {
            Form::Wide
        } else {
            Form::Narrow
        }
    }

    /// Size the table for a store of `slots` element slots whose areas end at `end`: twice as
    /// many hints as slots, each hint moved to its set in the doubled table by the key its
    /// element holds (read through `els`); two-word hints from `NARROW_LIMIT` on.
    pub fn set_slots(&self, slots: u64, end: u64, els: &impl Elements) {
        let form = if end > NARROW_LIMIT || self.wide.load(Ordering::Relaxed) {
            Form::Wide
        } else {
            Form::Narrow
        };
        let want = (slots
            .saturating_mul(2)
            .max(1)
            .next_power_of_two()
            .trailing_zeros())
        .clamp(MIN_BITS, form.max_bits());
        if want <= self.bits.load(Ordering::Relaxed) && form == self.form() {
            return;
        }
        let Some(_g) = self.grow.try_lock() else {
            return; // another thread is at it
        };
        let (old, old_form) = (self.bits.load(Ordering::Relaxed), self.form());
        let Some(Some(w)) = self.words.get() else {
            // nothing stored yet
            self.wide.store(form == Form::Wide, Ordering::Relaxed);
            self.bits.store(want.max(old), Ordering::Relaxed);
            return;
        };
        if form != old_form {
            // Start over in the other form (rare: once, when a store passes 1 GiB). Lookups
            // meanwhile may decode a word of the other form: its element fails the check.
            self.bits.store(want, Ordering::Relaxed);
            self.wide.store(true, Ordering::Relaxed);
            for j in 0..old_form.words(old) {
                w.at(j).store(0, Ordering::Relaxed);
            }
            Self::advise(w, want, form);
            return;
        }
        if want <= old {
            return;
        }
        Self::advise(w, want, form);
        // Publish the new size first: lookups meanwhile may miss hints not moved yet, and a
        // hint stored meanwhile lands in its new set; both only cost a walk.
        self.bits.store(want, Ordering::Relaxed);
        let step = form.step();
        let mut batch = [(0usize, 0u64, 0u64); MOVE_AHEAD];
        let mut j = 0;
        let end_j = form.words(old);
        while j < end_j {
            // a batch of hints: their elements asked for together, then their keys' pages,
            // then each moved (two memory waits a batch instead of two a hint)
            let mut n = 0;
            while n < MOVE_AHEAD && j < end_j {
                let v = w.at(j).load(Ordering::Relaxed);
                if v != 0 {
                    let e = form.decode(v, || 0).0;
                    els.prefetch(e);
                    batch[n] = (j, v, e);
                    n += 1;
                }
                j += step;
            }
            for &(_, _, e) in &batch[..n] {
                els.prefetch_key(e);
            }
            for &(at, v, e) in &batch[..n] {
                let m = els.key_hash(e).map(mix);
                let keep = m.filter(|&m| m >> form.tag_at() == v >> form.tag_at());
                let to = keep.map(|m| self.set_of(m, form));
                if to == Some(at - at % SET_WORDS) {
                    continue; // its set is where it is
                }
                let page = if step == 2 {
                    w.at(at + 1).load(Ordering::Relaxed)
                } else {
                    0
                };
                if w.at(at)
                    .compare_exchange(v, 0, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    if let Some(to) = to {
                        Self::place(w, form, to, v, page);
                    }
                }
            }
        }
    }

    /// A table of 2 MiB or more goes into huge pages where the system allows: every read looks
    /// at a random line of it, and with small pages most of those need a page walk. Advice
    /// alone leaves the part touched while the table was smaller in small pages, so the used
    /// part is collapsed too (reads of 100,000 keys: 232-279 ns against 290-328 without).
    fn advise(w: &Words, bits: u32, form: Form) {
        let used = form.words(bits);
        if used * 8 >= HUGE_BYTES {
            w.advise_huge(used);
            // what the smaller table touched is in small pages: those too
            w.collapse_huge(used);
        }
    }

    /// The first word of the set of mixed hash `m`. Never beyond the reservation, also when
    /// `form` and the size are read across a change of form (a narrow table of 2^23 hints
    /// turning wide would otherwise look twice as large for a moment).
    #[inline(always)]
    fn set_of(&self, m: u64, form: Form) -> usize {
        let bits = self.bits.load(Ordering::Relaxed).min(form.max_bits());
        let sets = form.words(bits) / SET_WORDS;
        (m as usize & (sets - 1)) * SET_WORDS
    }

    /// Ask for the line `get(ch)` will read.
    #[inline]
    pub fn prefetch(&self, ch: u64) {
        if let Some(Some(w)) = self.words.get() {
            crate::rcache::prefetch(w.addr(self.set_of(mix(ch), self.form())));
        }
    }

    /// The element last seen for the key of key hash `ch` (`rcache::key_hash`; unchecked), and
    /// where its value's first page was then (to be fetched alongside; 0: none).
    #[inline]
    pub fn get(&self, ch: u64) -> Option<(u64, u64)> {
        let w = self.words.get()?.as_ref()?;
        let form = self.form();
        let m = mix(ch);
        let at = self.set_of(m, form);
        let tag = m >> form.tag_at();
        (at..at + SET_WORDS).step_by(form.step()).find_map(|j| {
            let v = w.at(j).load(Ordering::Relaxed);
            (v != 0 && v >> form.tag_at() == tag)
                .then(|| form.decode(v, || w.at(j + 1).load(Ordering::Relaxed)))
        })
    }

    /// Remember that the key of key hash `ch` is in element `e`, its value starting at page
    /// `page`.
    #[inline]
    pub fn put(&self, ch: u64, e: u64, page: u64) {
        let form = self.form();
        let m = mix(ch);
        let Some(v) = form.encode(m, e, page) else {
            return;
        };
        let Some(w) = self
            .words
            .get_or_init(|| {
                let w = Words::map(RESERVED_WORDS, true, false)?;
                Self::advise(&w, self.bits.load(Ordering::Relaxed), form);
                Some(w)
            })
            .as_ref()
        else {
            return;
        };
        Self::place(w, form, self.set_of(m, form), v, page);
    }

    /// Put hint word `v` (wide: and `page`) into the set at `at`: in place of the one with its
    /// tag, else in a free way, else in place of the way its tag picks. The two words of a wide
    /// hint are not written atomically: the page is only ever fetched, never trusted.
    #[inline]
    fn place(w: &Words, form: Form, at: usize, v: u64, page: u64) {
        let (tag_at, step) = (form.tag_at(), form.step());
        let mut free = None;
        for j in (at..at + SET_WORDS).step_by(step) {
            let old = w.at(j).load(Ordering::Relaxed);
            if old != 0 && old >> tag_at == v >> tag_at {
                // only a changed hint dirties the line
                if old != v {
                    w.at(j).store(v, Ordering::Relaxed);
                }
                if step == 2 && w.at(j + 1).load(Ordering::Relaxed) != page {
                    w.at(j + 1).store(page, Ordering::Relaxed);
                }
                return;
            }
            if old == 0 && free.is_none() {
                free = Some(j);
            }
        }
        let ways = SET_WORDS / step;
        let j = free.unwrap_or(at + step * ((v >> tag_at) as usize & (ways - 1)));
        w.at(j).store(v, Ordering::Relaxed);
        if step == 2 {
            w.at(j + 1).store(page, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Elements for the tests: offset -> the key hash of the key it holds.
    struct Els(HashMap<u64, u64>);

    impl Elements for Els {
        fn prefetch(&self, _e: u64) {}
        fn prefetch_key(&self, _e: u64) {}
        fn key_hash(&self, e: u64) -> Option<u64> {
            self.0.get(&e).copied()
        }
    }

    fn el(hs: &Hints, h: u64) -> Option<u64> {
        hs.get(h).map(|x| x.0)
    }

    fn put_get_and_tags(hs: Hints) {
        assert_eq!(el(&hs, 42), None);
        hs.put(42, 0x1_0000, 0x9_0000);
        assert_eq!(hs.get(42), Some((0x1_0000, 0x9_0000)));
        hs.put(42, 0x1_0070, 0);
        assert_eq!(hs.get(42), Some((0x1_0070, 0)));
        // misaligned, null or too large offsets are not kept
        for bad in [0x1_0001, 0, 1 << 44] {
            hs.put(43, bad, 0);
            assert_eq!(el(&hs, 43), None);
        }
        // one key more than a set holds: the others stay but one, the last one is found
        let form = hs.form();
        let ways = SET_WORDS / form.step();
        let set = hs.set_of(mix(42), form);
        let same: Vec<u64> = (0u64..)
            .filter(|&h| hs.set_of(mix(h), form) == set)
            .take(ways + 1)
            .collect();
        for (i, &h) in same.iter().enumerate() {
            hs.put(h, 0x10_0000 + 0x70 * i as u64, 0);
        }
        let found = same.iter().filter(|&&h| el(&hs, h).is_some()).count();
        assert_eq!(found, ways);
        assert_eq!(el(&hs, same[ways]), Some(0x10_0000 + 0x70 * ways as u64));
    }

    #[test]
    fn narrow_put_get_and_tags() {
        let hs = Hints::blank();
        put_get_and_tags(hs);
        // a page beyond the narrow range is not kept, the element is
        let hs = Hints::blank();
        hs.put(7, 0x2_0000, NARROW_LIMIT);
        assert_eq!(hs.get(7), Some((0x2_0000, 0)));
        hs.put(8, NARROW_LIMIT, 0x100);
        assert_eq!(hs.get(8), None);
    }

    #[test]
    fn wide_put_get_and_tags() {
        let hs = Hints::blank();
        hs.set_slots(1, NARROW_LIMIT + 1, &Els(HashMap::new()));
        assert_eq!(hs.form(), Form::Wide);
        put_get_and_tags(hs);
        let hs = Hints::blank();
        hs.set_slots(1, NARROW_LIMIT + 1, &Els(HashMap::new()));
        hs.put(9, NARROW_LIMIT + 0x70, NARROW_LIMIT * 3);
        assert_eq!(hs.get(9), Some((NARROW_LIMIT + 0x70, NARROW_LIMIT * 3)));
    }

    /// 100 keys in elements that carry their hashes; key 0's element now carries another hash.
    fn growth(hs: &Hints) {
        let keys: Vec<u64> = (1..=100u64)
            .map(|i| i.wrapping_mul(0x1234_5678_9ABC))
            .collect();
        let at = |i: usize| (0x8_0000 + 0x70 * i as u64, 0x100_0000 + 8 * i as u64);
        let mut els = HashMap::new();
        for (i, &h) in keys.iter().enumerate() {
            hs.put(h, at(i).0, at(i).1);
            els.insert(at(i).0, h);
        }
        els.insert(at(0).0, 5);
        let els = Els(els);
        let end = if hs.form() == Form::Wide {
            NARROW_LIMIT * 2
        } else {
            1 << 20
        };
        // double once, then three times at once, then to the largest table
        hs.set_slots(1 << 10, end, &els);
        assert_eq!(hs.bits.load(Ordering::Relaxed), 11);
        hs.set_slots(1 << 13, end, &els);
        assert_eq!(hs.bits.load(Ordering::Relaxed), 14);
        hs.set_slots(1 << 40, end, &els);
        assert_eq!(hs.bits.load(Ordering::Relaxed), hs.form().max_bits());
        assert_eq!(
            hs.get(keys[0]),
            None,
            "a hint whose element changed key is dropped"
        );
        for (i, &h) in keys.iter().enumerate().skip(1) {
            assert_eq!(hs.get(h), Some(at(i)), "key {i}");
        }
    }

    #[test]
    fn growth_moves_every_narrow_hint() {
        growth(&Hints::blank());
    }

    #[test]
    fn growth_moves_every_wide_hint() {
        let hs = Hints::blank();
        hs.set_slots(1, NARROW_LIMIT * 2, &Els(HashMap::new()));
        growth(&hs);
    }

    #[test]
    fn sets_stay_in_the_reservation_whatever_form_and_size_are_read() {
        let hs = Hints::blank();
        for bits in [MIN_BITS, 20, Form::Wide.max_bits(), Form::Narrow.max_bits()] {
            hs.bits.store(bits, Ordering::Relaxed);
            for form in [Form::Narrow, Form::Wide] {
                for m in [0, u64::MAX, 0x5555_5555_5555_5555] {
                    assert!(hs.set_of(m, form) + SET_WORDS <= RESERVED_WORDS);
                }
            }
        }
    }

    #[test]
    fn a_store_passing_the_narrow_limit_starts_over_wide() {
        let hs = Hints::blank();
        hs.put(1, 0x1000, 0x2000);
        assert_eq!(hs.get(1), Some((0x1000, 0x2000)));
        hs.set_slots(1, NARROW_LIMIT + 1, &Els(HashMap::new()));
        assert_eq!(hs.form(), Form::Wide);
        assert_eq!(hs.get(1), None);
        hs.put(1, 0x1000, 0x2000);
        assert_eq!(hs.get(1), Some((0x1000, 0x2000)));
        // and stays wide
        hs.set_slots(1 << 12, 1 << 20, &Els(HashMap::from([(0x1000, 1)])));
        assert_eq!(hs.form(), Form::Wide);
        assert_eq!(hs.get(1), Some((0x1000, 0x2000)));
    }
}
