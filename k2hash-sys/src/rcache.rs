//! A per-process cache of values read, for one attached k2hash (`Db`).
//!
//! Reading a key out of the store follows about ten dependent pointers (key index, collision
//! index, element tree, key page, value pages); a cached value is one index line and one record.
//! A record is tagged with what made the value current when it was read: the stripe lock that
//! guards its element, that lock's write generation (bumped by every writer of the stripe in any
//! process, before it lets go, see `lock`), and the structure version (bumped by key-index
//! growth, migration, compaction and repair). A record is served only while both are unchanged,
//! so nothing written since it was read, by this process or another one sharing the lock table,
//! is ever hidden by it.
//!
//! Only values whose element has no attributes are cached (no expiry, encryption, history or
//! mtime): what a getter shows of those depends on nothing but the bytes.
//!
//! Layout: records are appended to a ring of 64-bit words (`arena`); when the ring wraps, the
//! oldest records are overwritten. An index of 8-way sets (one cache line each) maps a key hash
//! to the positions of its records. Readers take no lock: every shared word is an atomic; a
//! reader checks after its copy that the writer has not reserved the record's words for a newer
//! one since (`reserved`, the end of the reserved part of the ring, only grows), in the manner
//! of a seqlock. Fills are serialised by a mutex, and skipped when it is busy.
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// Entries per index set (4 bytes each, one 64-byte line).
const WAYS: usize = 16;
/// Words of a record before its key: hash, lengths and slot, position, generation, structure
/// version.
const HEAD: usize = 5;
/// Index entries: a valid bit, then a tag (bits of the hash), the low bits of the lap and the
/// line of the ring the record starts at (records start on 64-byte lines).
const VALID: u32 = 1 << 31;
const TAG_BITS: u32 = 7;
/// Largest record (bytes); larger values are not cached.
const MAX_RECORD: usize = 64 * 1024;
/// Words of the ring claimed at a time by fills.
const CLAIM_WORDS: u64 = 8192;
/// Smallest ring (bytes).
pub const MIN_BYTES: usize = 256 * 1024;
/// Largest ring (bytes): line and lap numbers fit an index entry.
pub const MAX_BYTES: usize = 512 << 20;

/// What a value read from the store was current under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    /// The stripe lock slot of the element's collision index.
    pub slot: u64,
    /// Its write generation while the value was read.
    pub gen: u64,
    /// The structure version while the value was read (even).
    pub sv: u64,
}

/// Where a cached value is copied to.
pub trait ValueOut {
    /// Room for `len` bytes (null: give up).
    fn room(&mut self, len: usize) -> *mut u8;
    /// The bytes written into the room turned out stale: forget them.
    fn discard(&mut self);
    /// `len` bytes were written into the room.
    fn done(&mut self, len: usize);
}

impl ValueOut for Vec<u8> {
    fn room(&mut self, len: usize) -> *mut u8 {
        self.clear();
        self.reserve(len);
        self.as_mut_ptr()
    }
    fn discard(&mut self) {}
    fn done(&mut self, len: usize) {
        // SAFETY: `room(len)` reserved `len` bytes and `lookup` wrote all of them.
        unsafe { self.set_len(len) };
    }
}

/// Hash of a key for the cache (not the store's hash: cheaper, words at a time).
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (key.len() as u64).wrapping_mul(K) ^ 0x2545_F491_4F6C_DD1D;
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let r = chunks.remainder();
    if !r.is_empty() {
        h = (h ^ tail_word(r)).wrapping_mul(K).rotate_left(29);
    }
    h ^= h >> 32;
    h = h.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^ (h >> 32)
}

/// Up to 8 bytes as a little-endian word, zero-padded (loads of 4, 2 and 1 bytes: a copy into
/// a stack buffer read back as a word stalls the store forwarding).
#[inline(always)]
fn tail_word(r: &[u8]) -> u64 {
    let mut w = 0u64;
    let mut off = 0;
    if r.len() - off >= 4 {
        w = u32::from_le_bytes([r[0], r[1], r[2], r[3]]) as u64;
        off = 4;
    }
    if r.len() - off >= 2 {
        w |= (u16::from_le_bytes([r[off], r[off + 1]]) as u64) << (off * 8);
        off += 2;
    }
    if r.len() > off {
        w |= (r[off] as u64) << (off * 8);
    }
    w
}

/// Ask for the line of `w` (a hint: the value lines of a record load while its head is
/// compared).
#[inline(always)]
pub(crate) fn prefetch(w: *const AtomicU64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(w as *const i8, std::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = w;
}

/// The first index entry of the set of hash `h` (`smask`: sets - 1).
#[inline(always)]
fn set_of(h: u64, smask: u64) -> usize {
    (h & smask) as usize * WAYS
}

/// The largest power of two not above `n` (n > 0).
fn floor_pow2(n: usize) -> usize {
    1usize << (usize::BITS - 1 - n.leading_zeros())
}

#[inline]
fn words(bytes: usize) -> usize {
    bytes.div_ceil(8)
}

/// An anonymous private mapping of zeroed atomics (pages are only backed once touched).
pub(crate) struct Words {
    p: *mut AtomicU64,
    n: usize,
}

// SAFETY: the words are atomics, shared only through `&self`.
unsafe impl Send for Words {}
// SAFETY: as above.
unsafe impl Sync for Words {}

impl Words {
    fn new(n: usize) -> Option<Words> {
        Words::map(n, true, true)
    }

    /// `n` words; with `huge`, large mappings on 2 MiB boundaries, and with `advise` in huge
    /// pages where the system allows (a lookup then costs no page walk, and a fill of fresh
    /// memory few page faults; but the first touch backs 2 MiB). See `advise_huge`.
    pub(crate) fn map(n: usize, huge: bool, advise: bool) -> Option<Words> {
        const HUGE: usize = 2 << 20;
        let bytes = n * 8;
        let extra = if huge && bytes >= HUGE { HUGE } else { 0 };
        // SAFETY: a fresh anonymous mapping; checked below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes + extra,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        let mut start = p as usize;
        if extra > 0 {
            let aligned = (start + HUGE - 1) & !(HUGE - 1);
            // SAFETY: unmapping the unused head and tail of our own mapping, then advising on
            // the aligned rest (advice only; failure is harmless).
            unsafe {
                if aligned > start {
                    libc::munmap(p, aligned - start);
                }
                let tail = start + extra - aligned;
                if tail > 0 {
                    libc::munmap((aligned + bytes) as *mut libc::c_void, tail);
                }
                if advise {
                    libc::madvise(aligned as *mut libc::c_void, bytes, libc::MADV_HUGEPAGE);
                }
            }
            start = aligned;
        }
        Some(Words {
            p: start as *mut AtomicU64,
            n,
        })
    }

    /// Ask for huge pages for the first `n` words (from then on, as they are touched).
    pub(crate) fn advise_huge(&self, n: usize) {
        // SAFETY: advice on a range of our own mapping (clamped to it); failure is harmless.
        unsafe {
            libc::madvise(
                self.p as *mut libc::c_void,
                n.min(self.n) * 8,
                libc::MADV_HUGEPAGE,
            )
        };
    }

    /// Put the first `n` words into huge pages now, also where they were touched before as
    /// small pages (which advice alone leaves as they are until the kernel's background
    /// collapse gets to them, if ever). Linux 6.1 on; elsewhere nothing happens.
    pub(crate) fn collapse_huge(&self, n: usize) {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: advice on a range of our own mapping (clamped to it); failure is harmless
        // (the words keep their contents either way).
        unsafe {
            libc::madvise(
                self.p as *mut libc::c_void,
                n.min(self.n) * 8,
                libc::MADV_COLLAPSE,
            )
        };
    }

    /// The `i`th 4-byte half-word (below 2 `n`).
    #[inline(always)]
    fn at32(&self, i: usize) -> &AtomicU32 {
        debug_assert!(i < 2 * self.n);
        // SAFETY: callers index below 2 `n` (sets times ways); the mapping is page aligned and
        // zero-filled, a valid AtomicU32 array.
        unsafe { &*(self.p as *const AtomicU32).add(i) }
    }

    /// The address of word `i`, for a prefetch (may be past the end; never dereferenced).
    #[inline(always)]
    pub(crate) fn addr(&self, i: usize) -> *const AtomicU64 {
        self.p.wrapping_add(i)
    }

    #[inline(always)]
    pub(crate) fn at(&self, i: usize) -> &AtomicU64 {
        debug_assert!(i < self.n);
        // SAFETY: callers index below `n` (checked by them against the ring or index size);
        // the mapping is page aligned and zero-filled, a valid AtomicU64 array.
        unsafe { &*self.p.add(i) }
    }
}

impl Drop for Words {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping made in `new`.
        unsafe { libc::munmap(self.p as *mut libc::c_void, self.n * 8) };
    }
}

#[repr(align(64))]
struct Line(AtomicU64);

pub struct ReadCache {
    arena: Words,
    /// Arena words - 1 (a power of two minus one).
    mask: u64,
    /// Bits of a line number, of a lap number in index entries.
    line_bits: u32,
    lap_bits: u32,
    /// 4-byte entries, `WAYS` to a set.
    index: Words,
    /// Index sets - 1.
    smask: u64,
    /// Random, mixed into each record's position: a stale index entry that points into the
    /// middle of a newer record never takes the bytes there for a record's head.
    secret: u64,
    /// End (absolute word position) of the reserved part of the ring: a record at position p
    /// is intact while this is at most p + arena words.
    reserved: Line,
    /// The ring has come round once: from then on, a fill throws an older record out.
    lapped: std::sync::atomic::AtomicBool,
    /// Next free absolute word position, and the end of the words claimed (fills only; on a
    /// line of its own, away from what readers load).
    head: Padded<parking_lot::Mutex<(u64, u64)>>,
}

#[repr(align(64))]
struct Padded<T>(T);

/// What `lookup` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// A current value, of this length, now in the output.
    Hit(usize),
    /// Only a record written over since: the state of its stripe and structure now (0: the
    /// structure changed) and the age of the record in milliseconds.
    Stale(u64, u32),
    Miss,
    /// Not looked up: reads of this store by this thread seldom hit (see `Gate`); do not fill.
    Bypassed,
}

/// Per thread, for the store it used last: whether lookups are worth it. Once a store's ring
/// has come round, a working set larger than the ring (keys read in cycles, or at random
/// among many more than fit) makes nearly every read a miss that also throws a record out
/// and fills another, each costing more than it saves. When fewer than 1 in 8 of the last 512
/// lookups hit, only every 16th read looks up (and fills on a miss) until the hits come back.
struct Gate {
    id: Cell<usize>,
    lookups: Cell<u32>,
    hits: Cell<u32>,
    tick: Cell<u32>,
    bypass: Cell<bool>,
}

use std::cell::Cell;

thread_local! {
    static GATE: Gate = const {
        Gate {
            id: Cell::new(0),
            lookups: Cell::new(0),
            hits: Cell::new(0),
            tick: Cell::new(0),
            bypass: Cell::new(false),
        }
    };
}

impl Gate {
    /// Whether to look up in the cache `id` now.
    #[inline]
    fn admit(&self, id: usize) -> bool {
        if self.id.get() != id {
            self.id.set(id);
            self.lookups.set(0);
            self.hits.set(0);
            self.bypass.set(false);
            return true;
        }
        if !self.bypass.get() {
            return true;
        }
        let t = self.tick.get().wrapping_add(1);
        self.tick.set(t);
        t.is_multiple_of(16)
    }

    #[inline]
    fn record(&self, hit: bool) {
        let n = self.lookups.get() + 1;
        let h = self.hits.get() + hit as u32;
        if n >= 512 {
            self.bypass.set(h * 8 < n);
            self.lookups.set(0);
            self.hits.set(0);
        } else {
            self.lookups.set(n);
            self.hits.set(h);
        }
    }
}

/// A coarse clock in milliseconds (wraps; only differences are used).
fn now_ms() -> u32 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    (ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000) as u32
}

/// Whether this thread's lookups in the value cache mostly hit lately (at least half of its
/// last 256): then a read looks up first and asks `seen_recently` only after a miss (whether
/// to cache what it reads), which spares the hits the two lines of the windows. Otherwise
/// `seen_recently` comes first and keys it has not seen are not looked up at all.
#[inline]
pub fn lookups_pay() -> bool {
    LOOKUPS.with(|l| l.get().2)
}

/// Count a lookup of this thread in the value cache (`lookups_pay`).
#[inline]
pub fn count_lookup(hit: bool) {
    LOOKUPS.with(|l| {
        let (n, hits, pay) = l.get();
        let (n, hits) = (n + 1, hits + hit as u16);
        l.set(if n >= 256 {
            (0, 0, hits * 2 >= n)
        } else {
            (n, hits, pay)
        });
    })
}

thread_local! {
    /// Lookups and hits in the current round of 256, and the verdict of the last round.
    static LOOKUPS: Cell<(u16, u16, bool)> = const { Cell::new((0, 0, false)) };
}

const SEEN_SETS: usize = 4096;
const SEEN_BLOCKS: usize = 4096;
const LONG_KEYS: u32 = 150_000;

/// The short window's set of cache hash `h`, and the long window's block.
#[inline(always)]
fn seen_slots(h: u64) -> (usize, usize) {
    (
        h as usize & (SEEN_SETS - 1),
        (h >> 12) as usize & (SEEN_BLOCKS - 1),
    )
}

/// A thread's windows (`seen_recently`).
struct Seen {
    sets: Vec<u128>,
    rng: u64,
    /// Per block: words 0-3 the keys read once, 4-7 those read twice.
    long: Vec<[u64; 8]>,
    noted: u32,
}

thread_local! {
    static SEEN: std::cell::RefCell<Seen> = const {
        std::cell::RefCell::new(Seen {
            sets: Vec::new(),
            rng: 0x9E37_79B9_7F4A_7C15,
            long: Vec::new(),
            noted: 0,
        })
    };
}

thread_local! {
    /// The index (address, set mask) of the cache this thread looked in last: `prefetch_guess`.
    static LAST_INDEX: Cell<(usize, u64)> = const { Cell::new((0, 0)) };
}

/// Ask for the index line a lookup of `key` will load in the cache this thread looked in last
/// (most threads read one store), before anything else of the read is done: the line loads
/// while the handle is looked up and the key hashed. Returns the key's cache hash. Only a
/// hint: an address of a cache since replaced is never dereferenced.
#[inline]
pub fn prefetch_guess(key: &[u8]) -> u64 {
    let h = key_hash(key);
    LAST_INDEX.with(|l| {
        let (p, m) = l.get();
        if p != 0 {
            prefetch(p.wrapping_add(set_of(h, m) * 4) as *const AtomicU64);
        }
    });
    h
}

/// Ask for the two lines `seen_recently(h)` will look at (they are per thread but, in passes
/// over many keys, rarely still cached).
#[inline]
pub fn prefetch_window(h: u64) {
    SEEN.with(|seen| {
        if let Ok(seen) = seen.try_borrow() {
            let (in_sets, in_long) = seen_slots(h);
            if let (Some(set), Some(block)) = (seen.sets.get(in_sets), seen.long.get(in_long)) {
                prefetch(set as *const u128 as *const AtomicU64);
                prefetch(block.as_ptr() as *const AtomicU64);
            }
        }
    })
}

/// Per thread: how the admission windows have been answering (`window_due`).
#[derive(Clone, Copy)]
struct Watch {
    /// Answers in the current round of 1,024, and the yes among them.
    n: u16,
    yes: u16,
    /// Rounds in a row with fewer than 1 in 64 yes.
    low: u8,
    /// Only one read in 8 asks.
    sampling: bool,
    /// Random state picking those reads (`xorshift`).
    rng: u64,
}

thread_local! {
    static WATCH: Cell<Watch> = const {
        Cell::new(Watch { n: 0, yes: 0, low: 0, sampling: false, rng: 0x2545_F491_4F6C_DD1D })
    };
}

/// Rounds of 1,024 answers with hardly a yes before reads ask the windows one time in 8: half
/// the span of the short window, so keys read again within it (passes over up to ~30,000 keys)
/// keep the windows asked on every read and are cached from their second read.
const LOW_ROUNDS: u8 = 16;

/// Whether this read is to ask `seen_recently` (and note its key). In passes over many more
/// keys than the windows remember, they answer no nearly always, and asking costs a read of
/// 100,000 keys about 45 ns (their two lines, 320 KiB a thread, are seldom in the first-level
/// caches, and take room there from the store's). So after `LOW_ROUNDS` rounds of 1,024
/// answers with fewer than 1 in 64 yes, only one read in 8, picked at random, asks, until a
/// round has them again. Reads, not the keys of one hash in 8: a key read again and again
/// among many read once is still noticed after a few more reads, and passes over many keys are
/// still cached, a few passes later (every read asks again from the 3rd or 4th pass over
/// 100,000 keys, nearly every key is cached from the 5th, against the 3rd when every read
/// asks). At
/// random, not every 8th: a key read every 4th or 8th time would never be the one asked.
#[inline]
pub fn window_due() -> bool {
    WATCH.with(|w| {
        let mut s = w.get();
        if !s.sampling {
            return true;
        }
        let r = xorshift(&mut s.rng);
        w.set(s);
        r >> 61 == 0
    })
}

/// The next number of a xorshift64 generator with state `r` (never 0).
#[inline(always)]
fn xorshift(r: &mut u64) -> u64 {
    *r ^= *r << 13;
    *r ^= *r >> 7;
    *r ^= *r << 17;
    *r
}

impl Watch {
    /// Count an answer of the windows; true when this made reads start sampling.
    fn count(&mut self, yes: bool) -> bool {
        self.n += 1;
        self.yes += yes as u16;
        if self.n < 1024 {
            return false;
        }
        let low = self.yes * 64 < self.n;
        self.low = if low { self.low.saturating_add(1) } else { 0 };
        let entered = !self.sampling && self.low >= LOW_ROUNDS;
        self.sampling = self.low >= LOW_ROUNDS;
        (self.n, self.yes) = (0, 0);
        entered
    }
}

/// An answer of the windows counted (`Watch::count`); when reads start sampling, the short
/// window is emptied.
fn count_answer(w: &Cell<Watch>, yes: bool) {
    let mut s = w.get();
    let entered = s.count(yes);
    w.set(s);
    if entered {
        // what is in the short window now would stay there while it is not written
        SEEN.with(|seen| {
            if let Ok(mut seen) = seen.try_borrow_mut() {
                seen.sets.fill(0);
            }
        });
    }
}

/// Whether the key of cache hash `h` is worth looking up in the value cache (and caching):
/// this thread read it a short while ago (among about the last 30,000 keys it read without the
/// cache), or twice already over a longer while (about the last 150,000). If not, the read is
/// noted now. A record costs more to fill (the copy, and fresh memory while the ring is new)
/// than a read of the store through a location hint (`hints`), and saves about half of one on
/// each later read, so only keys read again soon, or read again and again, pay for theirs; and
/// a lookup of a key not cached costs a cache miss of its own. Keys read once, or twice in
/// passes over many keys, are left to the store.
///
/// The short window: 4,096 sets of eight 16-bit fingerprints (16 bytes each), per thread; a key
/// not found takes a free way, else one picked at random (keys sharing a slot, or more keys
/// than ways in a set, would push each other out on every pass over them, and never be cached,
/// if the way were fixed or the oldest). The long one: 4,096 blocks of one cache line, each
/// with 256 bits for keys read once and 256 for keys read twice (a key: one block, two bits in
/// each half; one line to look at), cleared after 150,000 keys.
///
/// While only one read in 8 asks (`window_due`), the short window is left out (and was
/// emptied): the keys noted by one read in eight would stay in it eight times as long, and a
/// key read a second time in a pass over 100,000 keys would count as read again soon.
pub fn seen_recently(h: u64) -> bool {
    WATCH.with(|w| {
        let yes = seen_in_windows(h, !w.get().sampling);
        count_answer(w, yes);
        yes
    })
}

#[inline(always)]
fn seen_in_windows(h: u64, short: bool) -> bool {
    SEEN.with(|seen| {
        let Ok(mut seen) = seen.try_borrow_mut() else {
            return true;
        };
        let seen = &mut *seen;
        if seen.sets.is_empty() {
            seen.sets.resize(SEEN_SETS, 0);
            seen.long.resize(SEEN_BLOCKS, [0; 8]);
        }
        let (in_sets, in_long) = seen_slots(h);
        if short && seen_short(seen, in_sets, h) {
            return true;
        }
        // the long window
        let Some(block) = seen.long.get_mut(in_long) else {
            return true;
        };
        let (a, b) = ((h >> 24) as usize & 255, (h >> 32) as usize & 255);
        let has = |blk: &[u64; 8], half: usize| {
            (blk[half + a / 64] >> (a % 64)) & (blk[half + b / 64] >> (b % 64)) & 1
        };
        if has(block, 4) == 1 {
            return true;
        }
        let once = has(block, 0) as usize;
        let half = 4 * once;
        seen.noted += (once ^ 1) as u32;
        block[half + a / 64] |= 1 << (a % 64);
        block[half + b / 64] |= 1 << (b % 64);
        if seen.noted > LONG_KEYS {
            seen.noted = 0;
            seen.long.fill([0; 8]);
        }
        false
    })
}

/// Whether the short window holds the fingerprint of `h` (in set `in_sets`); if not, it is put
/// in.
#[inline(always)]
fn seen_short(seen: &mut Seen, in_sets: usize, h: u64) -> bool {
    let fp = ((h >> 48) | 1) as u128;
    let Some(set) = seen.sets.get_mut(in_sets) else {
        return true;
    };
    // the ways equal to `fp`, and the free ones, eight lanes at a time
    const LOW: u128 = 0x0001_0001_0001_0001_0001_0001_0001_0001;
    const HIGH: u128 = LOW << 15;
    let zero_lanes = |x: u128| x.wrapping_sub(LOW) & !x & HIGH;
    if zero_lanes(*set ^ fp.wrapping_mul(LOW)) != 0 {
        return true;
    }
    // Below, no branch depends on the window's lines but the answer: they are often not
    // in the caches yet, and a mispredicted branch on one would throw away the read that
    // runs on meanwhile.
    let free = zero_lanes(*set);
    let r = xorshift(&mut seen.rng);
    let shift = [
        16 * (r >> 61) as u32,
        free.trailing_zeros().wrapping_sub(15),
    ][(free != 0) as usize];
    *set = (*set & !(0xFFFF << (shift & 127))) | (fp << (shift & 127));
    false
}

/// After `Found::Stale(state, age)`: whether to cache the value read now. After a change of
/// the structure, or when the record is older than a few milliseconds, yes. A key written
/// since it was cached only just now is cached again when it is read twice with no write in
/// between (as this thread sees it): keys written between their reads do not refill the cache
/// on every read.
pub fn admit_stale(h: u64, state: u64, age_ms: u32) -> bool {
    if state == 0 || age_ms > 4 {
        return true;
    }
    const N: usize = 64;
    thread_local! {
        static MEMO: [Cell<(u64, u64)>; N] = const { [const { Cell::new((0, 0)) }; N] };
    }
    MEMO.with(|m| {
        let c = &m[(h as usize) % N];
        if c.get() == (h, state) {
            c.set((0, 0));
            true
        } else {
            c.set((h, state));
            false
        }
    })
}

/// What `insert` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Filled {
    Done,
    /// Done, and the ring came round to its start: the oldest records are going.
    Wrapped,
    Skipped,
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        return key_hash(&(t ^ (&b as *const _ as u64)).to_le_bytes());
    }
    u64::from_le_bytes(b)
}

impl ReadCache {
    /// A cache of `bytes` (rounded down to a power of two, between `MIN_BYTES` and
    /// `MAX_BYTES`).
    pub fn new(bytes: usize) -> Option<ReadCache> {
        let bytes = floor_pow2(bytes.clamp(MIN_BYTES, MAX_BYTES));
        let aw = bytes / 8;
        let line_bits = (aw / 8).trailing_zeros();
        let lap_bits = (31 - TAG_BITS - line_bits).min(8);
        // one index entry per 128 bytes of ring: with 16 to a set, sets seldom fill up (a full
        // set evicts keys the ring still holds), and the index, 1/32 of the ring, mostly stays
        // in the processor's caches
        let sets = (bytes / 128 / WAYS).max(64);
        Some(ReadCache {
            arena: Words::new(aw)?,
            mask: aw as u64 - 1,
            line_bits,
            lap_bits,
            index: Words::new(sets * WAYS / 2)?,
            smask: sets as u64 - 1,
            secret: random_u64(),
            reserved: Line(AtomicU64::new(0)),
            lapped: std::sync::atomic::AtomicBool::new(false),
            head: Padded(parking_lot::Mutex::new((0, 0))),
        })
    }

    /// Size of the ring in bytes.
    pub fn bytes(&self) -> usize {
        (self.mask as usize + 1) * 8
    }

    #[inline(always)]
    fn set(&self, h: u64) -> usize {
        set_of(h, self.smask)
    }

    #[inline(always)]
    fn tag_of(h: u64) -> u32 {
        (h >> (64 - TAG_BITS)) as u32
    }

    /// The index entry of the record at absolute position `pos` for hash `h`.
    #[inline(always)]
    fn entry(&self, pos: u64, h: u64) -> u32 {
        let line = ((pos & self.mask) / 8) as u32;
        let lap = ((pos / (self.mask + 1)) & ((1 << self.lap_bits) - 1)) as u32;
        VALID | Self::tag_of(h) << (self.line_bits + self.lap_bits) | lap << self.line_bits | line
    }

    /// The ring index an entry points at.
    #[inline(always)]
    fn entry_index(&self, e: u32) -> usize {
        (e & ((1 << self.line_bits) - 1)) as usize * 8
    }

    /// Whether entry `e` is in use with the tag of `h`.
    #[inline(always)]
    fn entry_tagged(&self, e: u32, h: u64) -> bool {
        e & VALID != 0
            && (e >> (self.line_bits + self.lap_bits)) & ((1 << TAG_BITS) - 1) == Self::tag_of(h)
    }

    /// The newest absolute position not after `head` that entry `e` can name (its lap known
    /// modulo 2^lap_bits): only for choosing what to evict.
    fn entry_pos(&self, e: u32, head: u64) -> u64 {
        let aw = self.mask + 1;
        let laps = 1u64 << self.lap_bits;
        let lap = ((e >> self.line_bits) & (laps as u32 - 1)) as u64;
        let cur = head / aw;
        let back = (cur.wrapping_sub(lap)) & (laps - 1);
        let pos = (cur - back.min(cur)) * aw + self.entry_index(e) as u64;
        if pos > head && pos >= laps * aw {
            pos - laps * aw
        } else {
            pos
        }
    }

    /// Whether the record at absolute position `pos` was still intact when the loads before
    /// this call were made.
    #[inline(always)]
    fn intact(&self, pos: u64) -> bool {
        fence(Ordering::Acquire);
        self.reserved.0.load(Ordering::Relaxed) <= pos + self.mask + 1
    }

    /// The record at ring index `i` holds `key` (hash `h`): (absolute position, value length,
    /// tag). To be confirmed by `intact` after the reads that depend on it.
    #[inline(always)]
    fn matches(&self, i: usize, key: &[u8], h: u64) -> Option<(u64, usize, Tag, u32)> {
        let a = &self.arena;
        let w0 = a.at(i).load(Ordering::Relaxed);
        if w0 as u32 != h as u32 {
            return None;
        }
        let lens = a.at(i + 1).load(Ordering::Relaxed);
        if (lens & 0xff_ffff) as usize != key.len() {
            return None;
        }
        let vlen = ((lens >> 24) & 0xff_ffff) as usize;
        // the lengths may be torn garbage (checked for intactness later): keep inside the ring
        if HEAD + words(key.len()) + words(vlen) > MAX_RECORD / 8
            || i + HEAD + words(key.len()) + words(vlen) > self.mask as usize + 1
        {
            return None;
        }
        let pos = a.at(i + 2).load(Ordering::Relaxed) ^ self.secret;
        if pos & self.mask != i as u64 {
            return None;
        }
        let mut k = i + HEAD;
        let mut chunks = key.chunks_exact(8);
        for c in &mut chunks {
            if a.at(k).load(Ordering::Relaxed) != u64::from_le_bytes(c.try_into().ok()?) {
                return None;
            }
            k += 1;
        }
        let r = chunks.remainder();
        if !r.is_empty() && a.at(k).load(Ordering::Relaxed) != tail_word(r) {
            return None;
        }
        let tag = Tag {
            slot: lens >> 48,
            gen: a.at(i + 3).load(Ordering::Relaxed),
            sv: a.at(i + 4).load(Ordering::Relaxed),
        };
        Some((pos, vlen, tag, (w0 >> 32) as u32))
    }

    /// Copy the cached value of `key` (cache hash `h`) into `out` when a record of it exists
    /// and `current` says its tag is still current (else it gives the state that made it
    /// stale).
    #[inline]
    pub fn lookup(
        &self,
        key: &[u8],
        h: u64,
        current: impl Fn(&Tag) -> Result<(), u64>,
        out: &mut impl ValueOut,
    ) -> Found {
        let mut stale = None;
        let set = self.set(h);
        let here = (self.index.p as usize, self.smask);
        LAST_INDEX.with(|l| {
            if l.get() != here {
                l.set(here)
            }
        });
        for w in 0..WAYS {
            let e = self.index.at32(set + w).load(Ordering::Acquire);
            if !self.entry_tagged(e, h) {
                continue;
            }
            let i = self.entry_index(e);
            prefetch(self.arena.addr(i + 8));
            prefetch(self.arena.addr(i + 16));
            let Some((pos, vlen, tag, filled)) = self.matches(i, key, h) else {
                continue;
            };
            if !self.intact(pos) {
                continue;
            }
            if let Err(state) = current(&tag) {
                stale = Some((state, now_ms().wrapping_sub(filled)));
                continue;
            }
            let dst = out.room(vlen);
            if dst.is_null() {
                return Found::Miss;
            }
            let v0 = i + HEAD + words(key.len());
            let a = &self.arena;
            let full = vlen / 8;
            for j in 0..full {
                let w = a.at(v0 + j).load(Ordering::Relaxed);
                // SAFETY: `room` gave at least `vlen` writable bytes; j*8+8 <= vlen.
                unsafe {
                    std::ptr::write_unaligned(dst.add(j * 8) as *mut [u8; 8], w.to_le_bytes())
                };
            }
            let rest = vlen - full * 8;
            if rest > 0 {
                let w = a.at(v0 + full).load(Ordering::Relaxed).to_le_bytes();
                // SAFETY: as above, the last `rest` bytes of the room.
                unsafe { std::ptr::copy_nonoverlapping(w.as_ptr(), dst.add(full * 8), rest) };
            }
            if !self.intact(pos) {
                out.discard();
                return Found::Miss;
            }
            out.done(vlen);
            return Found::Hit(vlen);
        }
        stale.map_or(Found::Miss, |(state, age)| Found::Stale(state, age))
    }

    /// Cache `value` for `key` (cache hash `h`) as read under `tag`. Skipped when another
    /// thread is filling, or the record is too large.
    pub fn insert(&self, key: &[u8], h: u64, tag: Tag, value: &[u8]) -> Filled {
        // records start on a cache line: a key of up to 24 bytes is in the record's first line
        let rec = (HEAD + words(key.len()) + words(value.len())).next_multiple_of(8);
        let aw = self.mask + 1;
        if rec * 8 > MAX_RECORD || rec as u64 > aw / 16 || tag.slot > 0xffff {
            return Filled::Skipped;
        }
        let Some(mut head) = self.head.0.try_lock() else {
            return Filled::Skipped;
        };
        let (mut p, claimed) = *head;
        let mut wrapped = false;
        if (p & self.mask) + rec as u64 > aw {
            p = (p | self.mask) + 1;
        }
        let end = p + rec as u64;
        if end / aw != head.0 / aw || end.is_multiple_of(aw) {
            wrapped = true;
            if !self.lapped.load(Ordering::Relaxed) {
                self.lapped.store(true, Ordering::Relaxed);
            }
        }
        // claim the words before overwriting them: readers of older records there see it.
        // Claimed a chunk at a time, so that readers (which all read the claim) seldom see the
        // line change.
        let mut claimed = claimed;
        if end > claimed {
            claimed = end + (aw / 16).min(CLAIM_WORDS);
            self.reserved.0.store(claimed, Ordering::Relaxed);
            fence(Ordering::Release);
        }
        let a = &self.arena;
        let i = (p & self.mask) as usize;
        // the low half of the hash, and when the record was made
        a.at(i)
            .store(h & 0xffff_ffff | (now_ms() as u64) << 32, Ordering::Relaxed);
        // (lengths below MAX_RECORD, slots below 2^16: see the checks above and `lock`)
        a.at(i + 1).store(
            key.len() as u64 | (value.len() as u64) << 24 | (tag.slot & 0xffff) << 48,
            Ordering::Relaxed,
        );
        a.at(i + 2).store(p ^ self.secret, Ordering::Relaxed);
        a.at(i + 3).store(tag.gen, Ordering::Relaxed);
        a.at(i + 4).store(tag.sv, Ordering::Relaxed);
        let mut k = i + HEAD;
        for part in [key, value] {
            let mut chunks = part.chunks_exact(8);
            for c in &mut chunks {
                a.at(k).store(
                    u64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
                    Ordering::Relaxed,
                );
                k += 1;
            }
            let r = chunks.remainder();
            if !r.is_empty() {
                a.at(k).store(tail_word(r), Ordering::Relaxed);
                k += 1;
            }
        }
        *head = (end, claimed);
        // publish in the key's set: over an older record of the same key, else a free or
        // overwritten entry, else the oldest
        let set = self.set(h);
        let mut victim = 0;
        let mut oldest = u64::MAX;
        for w in 0..WAYS {
            let e = self.index.at32(set + w).load(Ordering::Relaxed);
            if e & VALID == 0 {
                victim = w;
                break;
            }
            if self.entry_tagged(e, h) {
                if let Some((old, _, _, _)) = self.matches(self.entry_index(e), key, h) {
                    if old + aw >= claimed {
                        victim = w;
                        break;
                    }
                }
            }
            let pos = self.entry_pos(e, p);
            if pos + aw < claimed {
                victim = w;
                break; // overwritten
            }
            if pos < oldest {
                oldest = pos;
                victim = w;
            }
        }
        self.index
            .at32(set + victim)
            .store(self.entry(p, h), Ordering::Release);
        if wrapped {
            Filled::Wrapped
        } else {
            Filled::Done
        }
    }
}

/// A `Db`'s cache: created on the first fill, sized after the store (at most the process-wide
/// limit, `K2H_READ_CACHE_MB`, 32 MiB by default, 0 turns caching off), replaced by a larger
/// one when its ring wraps while the store is larger than it.
pub struct Cache {
    cur: arc_swap::ArcSwapOption<ReadCache>,
    grow: parking_lot::Mutex<()>,
}

/// The largest ring a store gets (bytes; 0: no caching).
pub fn limit() -> usize {
    static L: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *L.get_or_init(|| {
        match std::env::var("K2H_READ_CACHE_MB")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            Some(mb) => (mb.min(1 << 20) << 20).min(MAX_BYTES),
            None => 32 << 20,
        }
    })
}

impl Cache {
    /// A cache for a store, or None when caching is off.
    pub fn new() -> Option<Cache> {
        (limit() > 0).then(|| Cache {
            cur: arc_swap::ArcSwapOption::const_empty(),
            grow: parking_lot::Mutex::new(()),
        })
    }

    #[inline]
    pub fn lookup(
        &self,
        key: &[u8],
        h: u64,
        current: impl Fn(&Tag) -> Result<(), u64>,
        out: &mut impl ValueOut,
    ) -> Found {
        let g = self.cur.load();
        let Some(c) = g.as_ref() else {
            return Found::Miss;
        };
        if !c.lapped.load(Ordering::Relaxed) {
            return c.lookup(key, h, current, out);
        }
        let id = &**c as *const ReadCache as usize;
        GATE.with(|gate| {
            if !gate.admit(id) {
                return Found::Bypassed;
            }
            let f = c.lookup(key, h, current, out);
            gate.record(matches!(f, Found::Hit(_)));
            f
        })
    }

    /// Cache a value read under `tag`; `store_len` is the size of the store now.
    pub fn insert(&self, key: &[u8], h: u64, tag: Tag, value: &[u8], store_len: u64) {
        let want = floor_pow2(
            (store_len as usize)
                .checked_next_power_of_two()
                .unwrap_or(usize::MAX)
                .min(limit())
                .max(MIN_BYTES),
        );
        let mut g = self.cur.load();
        if g.is_none() {
            drop(g);
            self.replace(None, want);
            g = self.cur.load();
        }
        let Some(c) = &*g else {
            return;
        };
        if c.insert(key, h, tag, value) == Filled::Wrapped && c.bytes() < want {
            let old = c.bytes();
            drop(g);
            self.replace(Some(old), want);
        }
    }

    /// Put a new ring of `want` bytes in place of the one of `old` bytes (None: of none).
    #[cold]
    fn replace(&self, old: Option<usize>, want: usize) {
        let Some(_g) = self.grow.try_lock() else {
            return;
        };
        if self.cur.load().as_ref().map(|c| c.bytes()) != old {
            return; // someone else did
        }
        if let Some(c) = ReadCache::new(want) {
            self.cur.store(Some(std::sync::Arc::new(c)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(c: &ReadCache, key: &[u8], ok: impl Fn(&Tag) -> bool) -> Option<Vec<u8>> {
        let mut v = Vec::new();
        let ok = |t: &Tag| if ok(t) { Ok(()) } else { Err(t.gen) };
        match c.lookup(key, key_hash(key), ok, &mut v) {
            Found::Hit(_) => Some(v),
            _ => None,
        }
    }

    /// The early prefetch names the cache looked in last, and stays harmless once that cache
    /// is gone (its address is only prefetched, never loaded).
    #[test]
    fn the_early_prefetch_follows_the_last_cache_and_outlives_it() {
        let key = b"early-key";
        let c = ReadCache::new(MIN_BYTES).unwrap();
        let tag = Tag {
            slot: 1,
            gen: 2,
            sv: 0,
        };
        c.insert(key, key_hash(key), tag, b"value");
        assert_eq!(get(&c, key, |_| true).as_deref(), Some(&b"value"[..]));
        let here = (c.index.p as usize, c.smask);
        assert_eq!(LAST_INDEX.with(|l| l.get()), here);
        drop(c);
        assert_eq!(prefetch_guess(key), key_hash(key));
    }

    #[test]
    fn lookups_pay_after_a_round_of_hits() {
        assert!(!lookups_pay());
        for i in 0..256 {
            count_lookup(i % 3 != 0);
        }
        assert!(lookups_pay(), "two hits in three");
        for i in 0..255 {
            count_lookup(i % 3 == 0);
            assert!(lookups_pay(), "the verdict holds for a round");
        }
        count_lookup(false);
        assert!(!lookups_pay(), "one hit in three");
    }

    /// One pass of reads over the keys of cache hashes `hs` as `K2h::look_up` makes them:
    /// (reads that asked the windows, yes answers).
    fn window_pass(hs: &[u64]) -> (u32, u32) {
        let (mut asked, mut yes) = (0u32, 0u32);
        for &h in hs {
            if window_due() {
                asked += 1;
                yes += seen_recently(h) as u32;
            }
        }
        (asked, yes)
    }

    /// Passes over 100,000 keys: after the first 16,384 reads find the windows answering no,
    /// only one read in 8 asks them, without the short window (so the second pass neither
    /// asks much nor counts keys as read again soon); keys asked about in three passes answer
    /// yes, so from the third or fourth pass on every read asks again, and from the fifth
    /// nearly all keys get cached.
    #[test]
    fn few_reads_ask_the_windows_in_passes_over_many_keys() {
        let hs: Vec<u64> = (0..100_000u64)
            .map(|i| key_hash(&i.to_le_bytes()))
            .collect();
        let passes: Vec<(u32, u32)> = (0..5).map(|_| window_pass(&hs)).collect();
        assert!(passes[0].0 < 30_000 && passes[0].1 < 10, "{passes:?}");
        assert!(passes[1].0 < 15_000 && passes[1].1 < 100, "{passes:?}");
        assert_eq!(passes[4].0, 100_000, "{passes:?}");
        assert!(passes[4].1 > 80_000, "{passes:?}");
    }

    /// Passes over 10,000 keys (fewer than the short window holds) keep every read asking the
    /// windows: the keys are cached from their second read.
    #[test]
    fn passes_over_fewer_keys_than_the_short_window_holds_are_cached_at_once() {
        let hs: Vec<u64> = (0..10_000u64)
            .map(|i| key_hash(&(i << 20).to_le_bytes()))
            .collect();
        for pass in 0..3 {
            let (asked, yes) = window_pass(&hs);
            assert_eq!(asked, 10_000);
            if pass > 0 {
                assert!(yes > 9_900, "pass {pass}: {yes}");
            }
        }
    }

    /// A key read again and again among many read once is still noticed while only every 8th
    /// read asks the windows.
    #[test]
    fn a_hot_key_among_cold_ones_is_noticed_while_sampling() {
        let cold = |i: u64| key_hash(&(i + 1_000_000).to_le_bytes());
        for i in 0..20_000 {
            if window_due() {
                seen_recently(cold(i));
            }
        }
        assert!(
            WATCH.with(|w| w.get().sampling),
            "sampling after 20,000 keys read once"
        );
        let hot = key_hash(b"hot");
        let mut noticed = None;
        for i in 0..4_000u64 {
            let h = if i % 4 == 0 { hot } else { cold(10_000 + i) };
            if window_due() && seen_recently(h) && h == hot {
                noticed = Some(i);
                break;
            }
        }
        assert!(noticed.is_some_and(|i| i < 400), "{noticed:?}");
    }

    #[test]
    fn keys_seen_recently() {
        // eight keys of one set (same low 12 bits): each is new once, then seen
        let mid = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & 0x0000_FFFF_FFFF_F000;
        let keys: Vec<u64> = (1..=8u64).map(|i| (i << 49) | mid(i) | 0x0ABC).collect();
        for &k in &keys {
            assert!(!seen_recently(k));
        }
        for _ in 0..3 {
            for &k in &keys {
                assert!(seen_recently(k));
            }
        }
        // a ninth pushes one of them out, at random
        assert!(!seen_recently((9 << 49) | mid(9) | 0x0ABC));
        assert_eq!(keys.iter().filter(|&&k| seen_recently(k)).count(), 7);
        // a working set far larger than the window is hardly ever seen again
        let many: Vec<u64> = (0..200_000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        for &k in &many {
            seen_recently(k);
        }
        let again = many.iter().filter(|&&k| seen_recently(k)).count();
        assert!(again < 20_000, "{again} of 200,000 seen again");
        // ... but a key read a third time within the long window is (a thread of its own: the
        // window of this one was just cleared in the middle of the passes above)
        let third = std::thread::spawn(|| {
            let keys: Vec<u64> = (0..100_000u64)
                .map(|i| i.wrapping_mul(0xD6E8_FEB8_6659_FD93))
                .collect();
            (0..3)
                .map(|_| keys.iter().filter(|&&k| seen_recently(k)).count())
                .collect::<Vec<_>>()
        })
        .join()
        .unwrap();
        assert!(third[1] < 10_000, "{third:?}: seen on a second pass");
        assert!(third[2] > 90_000, "{third:?}: not seen on a third pass");
    }

    #[test]
    fn hit_miss_stale_and_wrap() {
        let c = ReadCache::new(MIN_BYTES).unwrap();
        let t = Tag {
            slot: 7,
            gen: 3,
            sv: 2,
        };
        let cur = |x: &Tag| *x == t;
        assert_eq!(get(&c, b"a", cur), None);
        for n in [1usize, 7, 8, 9, 16, 100] {
            let key = vec![b'k'; n];
            let val: Vec<u8> = (0..n * 3).map(|i| i as u8).collect();
            assert_ne!(c.insert(&key, key_hash(&key), t, &val), Filled::Skipped);
            assert_eq!(get(&c, &key, cur).as_deref(), Some(&val[..]));
            // another tag is not current
            assert_eq!(get(&c, &key, |x| x.gen == 4), None);
            // a key that differs in its last byte
            let mut other = key.clone();
            *other.last_mut().unwrap() ^= 1;
            assert_eq!(get(&c, &other, cur), None);
        }
        // a newer record of the same key wins
        let t2 = Tag { gen: 4, ..t };
        c.insert(b"kk", key_hash(b"kk"), t2, b"new");
        assert_eq!(get(&c, b"kk", |x| *x == t2).as_deref(), Some(&b"new"[..]));
        // fill past the ring many times: every lookup is right or a miss
        let mut wrapped = 0;
        for i in 0..200_000u32 {
            let key = format!("key-{i}");
            let val = format!("value-{i}-").repeat(1 + (i % 5) as usize);
            if c.insert(key.as_bytes(), key_hash(key.as_bytes()), t, val.as_bytes())
                == Filled::Wrapped
            {
                wrapped += 1;
            }
            if i % 7 == 0 {
                let j = i / 2;
                let key = format!("key-{j}");
                if let Some(v) = get(&c, key.as_bytes(), cur) {
                    assert_eq!(
                        v,
                        format!("value-{j}-")
                            .repeat(1 + (j % 5) as usize)
                            .as_bytes()
                    );
                }
            }
        }
        assert!(wrapped > 5);
        let key = b"key-199999";
        assert!(get(&c, key, cur).is_some());
    }

    #[test]
    fn readers_race_writers() {
        let c = std::sync::Arc::new(ReadCache::new(MIN_BYTES).unwrap());
        let t = Tag {
            slot: 1,
            gen: 1,
            sv: 0,
        };
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let r = {
            let (c, stop) = (c.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut hits = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for i in 0..64u32 {
                        let key = format!("k{i}");
                        if let Some(v) = get(&c, key.as_bytes(), |x| *x == t) {
                            // every value of key i is i repeated
                            assert!(v.iter().all(|&b| b == i as u8), "torn value for {key}");
                            hits += 1;
                        }
                    }
                }
                hits
            })
        };
        for round in 0..3000usize {
            for i in 0..64u32 {
                let key = format!("k{i}");
                let v = vec![i as u8; 8 + (round + i as usize) % 300];
                c.insert(key.as_bytes(), key_hash(key.as_bytes()), t, &v);
            }
        }
        stop.store(true, Ordering::Relaxed);
        r.join().unwrap();
    }

    #[test]
    fn big_values_are_skipped() {
        let c = ReadCache::new(MIN_BYTES).unwrap();
        let t = Tag {
            slot: 0,
            gen: 0,
            sv: 0,
        };
        assert_eq!(
            c.insert(b"k", key_hash(b"k"), t, &vec![0; MAX_RECORD]),
            Filled::Skipped
        );
        let mut v = Vec::new();
        assert_eq!(
            c.lookup(b"k", key_hash(b"k"), |_| Ok(()), &mut v),
            Found::Miss
        );
    }
}
