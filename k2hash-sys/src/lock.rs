//! Process-shared reader/writer locks for one k2hash, recoverable from the death of any process.
//!
//! The original keys fullock locks on offsets of the k2hash file; we keep one table of locks per
//! k2hash instead: slot 0 guards the key index structure (`cur_mask`, migration), slot 1 the free
//! lists and the area table, slot 2 the queues (marker and entry chain), slot 3 the transaction
//! queue, and the remaining slots are stripes over the collision index (CKINDEX) offsets. For a
//! file the table lives in a side file in the lock directory, mapped `MAP_SHARED` by every
//! process that attaches the file; for memory mode it is anonymous shared memory.
//!
//! A process that dies (SIGKILL, at any instruction) must never wedge the others, so no lock
//! state belongs to nobody:
//! - Every attached process owns an entry of the table's process list (pid and start time, so a
//!   reused pid is not mistaken for the dead owner).
//! - A lock word holds the writer bit, a waiters bit and the writer's process entry, all set by
//!   the one compare-and-swap that takes the lock.
//! - Readers are counted per process: a reader increments its own process's counter for the
//!   lock (a line no other process writes) and then checks the writer bit; a writer sets the
//!   writer bit and then waits until the counters of every attached process are zero. Both
//!   sides use sequentially consistent operations, so one of them always sees the other.
//! - Waiting is bounded: waiters sleep on the lock word with a timeout and then check the
//!   owners. A dead writer's lock is cleared (a structure writer's version made even again); a
//!   dead process's entry is reclaimed with all its reader counts.
//!
//! The side file is created mode 0666 (processes of different users share one file, as with the
//! original's lock files) and removed by the last process that detaches; a process that cannot
//! open it refuses to attach rather than write without mutual exclusion.
use crate::error::{K2hError, Result};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

pub const STRUCT_LOCK: usize = 0;
pub const ALLOC_LOCK: usize = 1;
pub const QUEUE_LOCK: usize = 2;
pub const TRANS_QUEUE_LOCK: usize = 3;
const FIRST_STRIPE: usize = 4;
pub const STRIPES: usize = 4096;
const SLOTS: usize = FIRST_STRIPE + STRIPES;
/// Attached processes one table can hold at once.
pub const MAX_PROCS: usize = 1024;

// Layout of the table (all offsets 8-byte aligned; the mapping is page aligned).
// (offset 0 is unused)
/// The inode of the file now at the path (the replacement notice that k2hreplace relies on;
/// see `Db::replaced`).
const INO_WORD: usize = 8;
/// A counter bumped whenever an area is removed (compaction), so every process drops its
/// cached area table.
const EPOCH_WORD: usize = 16;
/// The version of the key-index structure: odd while a structure writer (slot 0 in write mode)
/// is at work, bumped again when it leaves. Readers that do not take the structure lock check
/// it before and after (seqlock).
const VERSION_WORD: usize = 24;
/// Nonzero while the trees need the repair that follows the death of a writer (a generation,
/// bumped at each such death; see `Db::repair`).
const REPAIR_WORD: usize = 32;
/// Bitmap of the process entries in use (writers scan only these counters).
const ACTIVE_WORDS: usize = 64;
/// Process entries: one u64 each (low 32 bits pid, high 32 bits start time), 16 bytes apart.
const PROCS: usize = ACTIVE_WORDS + MAX_PROCS / 8;
const PROC_BYTES: usize = 16;
/// Locks, 16 bytes each: the lock word (u32), then at 8 the write generation (u64), bumped by
/// every writer of the lock before it lets go (and when the lock of a dead writer is broken),
/// so a process that remembers a generation knows that nothing was written under the lock
/// since (the read cache, `rcache`). Both on one line: a writer touches no other.
const WORDS: usize = (PROCS + MAX_PROCS * PROC_BYTES + 63) & !63;
const LOCK_BYTES: usize = 16;
/// Reader counters: one page-aligned block of SLOTS u32 per process entry.
const COUNTERS: usize = (WORDS + SLOTS * LOCK_BYTES + 4095) & !4095;
const COUNTER_BLOCK: usize = (SLOTS * 4 + 4095) & !4095;
const TABLE_BYTES: usize = COUNTERS + MAX_PROCS * COUNTER_BLOCK;

const WRITER: u32 = 1 << 31;
const WAITERS: u32 = 1 << 30;
const OWNER: u32 = WAITERS - 1;

thread_local! {
    /// Locks this thread holds (of any table): a repair, which takes every lock, is only run
    /// by a thread that holds none.
    static HELD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// How many k2hash locks the calling thread holds.
#[inline]
pub fn held() -> u32 {
    HELD.with(|h| h.get())
}

/// Waits sleep this long before they look at the owners again.
const WAIT_MS: i64 = 10;

pub struct LockTable {
    base: *mut u8,
    /// The side file (shared lock held while attached) and its path.
    file: Option<(File, PathBuf)>,
    /// Our process entry: pid << 32 | index (pid 0: none yet).
    me: AtomicU64,
}

// SAFETY: the table is shared memory used only through atomics.
unsafe impl Send for LockTable {}
// SAFETY: as above.
unsafe impl Sync for LockTable {}

fn lock_dir() -> PathBuf {
    if let Ok(d) = std::env::var("K2H_LOCKDIR") {
        if !d.is_empty() {
            return d.into();
        }
    }
    let ap = std::path::Path::new("/var/lib/antpickax");
    if ap.is_dir() {
        return ap.into();
    }
    std::env::temp_dir()
}

/// The side file of a k2hash file whose identity hash is `id`.
pub fn side_file(id: u64) -> PathBuf {
    // (the 3 is the layout of the table: 2 had no write generations, and a process of that
    // version would write without bumping them, so the two never share a table)
    lock_dir().join(format!(".k2hrs3_{id:x}.lck"))
}

fn map_table(fd: libc::c_int) -> Result<*mut u8> {
    // SAFETY: a shared mapping of TABLE_BYTES (anonymous when fd is -1), checked below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            TABLE_BYTES,
            libc::PROT_READ | libc::PROT_WRITE,
            if fd < 0 {
                libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE
            } else {
                libc::MAP_SHARED | libc::MAP_NORESERVE
            },
            fd,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error().into());
    }
    Ok(p as *mut u8)
}

fn flock(f: &File, op: libc::c_int) -> bool {
    // SAFETY: flock on a descriptor we own.
    unsafe { libc::flock(f.as_raw_fd(), op) == 0 }
}

/// Open (or create, mode 0666) the side file and hold a shared lock on it, making sure it is
/// still the file at `path` (the last process to detach removes it under an exclusive lock).
fn open_side_file(path: &std::path::Path) -> Result<File> {
    for _ in 0..1000 {
        // Open an existing file without O_CREAT first: in a sticky directory such as /tmp,
        // O_CREAT on another user's file is refused when fs.protected_regular is set.
        let f = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .mode(0o666)
                    .open(path)
                {
                    Ok(f) => {
                        // the umask narrowed the mode: processes of other users share the table
                        // SAFETY: fchmod on our own descriptor.
                        unsafe { libc::fchmod(f.as_raw_fd(), 0o666) };
                        f
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(side_error(path, e)),
                }
            }
            Err(e) => return Err(side_error(path, e)),
        };
        if !flock(&f, libc::LOCK_SH) {
            return Err(side_error(path, std::io::Error::last_os_error()));
        }
        // still the file at the path (not one removed by a last detach meanwhile)?
        let same = match (f.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        };
        if same {
            if f.metadata()?.len() < TABLE_BYTES as u64 {
                f.set_len(TABLE_BYTES as u64)?;
            }
            return Ok(f);
        }
    }
    Err(K2hError::Invalid(format!(
        "lock table {} keeps changing",
        path.display()
    )))
}

fn side_error(path: &std::path::Path, e: std::io::Error) -> K2hError {
    log::error!(
        "cannot use the lock table {}: {e}; refusing to attach without locks shared with \
         the other processes (check the permissions of the file and of its directory, or set \
         K2H_LOCKDIR)",
        path.display()
    );
    K2hError::Io(std::io::Error::new(
        e.kind(),
        format!("lock table {}: {e}", path.display()),
    ))
}

impl LockTable {
    fn with_base(base: *mut u8, file: Option<(File, PathBuf)>) -> LockTable {
        LockTable {
            base,
            file,
            me: AtomicU64::new(0),
        }
    }

    pub fn anonymous() -> Result<LockTable> {
        Ok(Self::with_base(map_table(-1)?, None))
    }

    /// The table shared by every process attaching the file whose identity hash is `id`.
    pub fn for_file(id: u64) -> Result<LockTable> {
        let path = side_file(id);
        let f = open_side_file(&path)?;
        let base = map_table(f.as_raw_fd())?;
        let t = Self::with_base(base, Some((f, path)));
        t.me_slow()?;
        Ok(t)
    }

    #[inline(always)]
    fn word64(&self, off: usize) -> &AtomicU64 {
        debug_assert!(off + 8 <= TABLE_BYTES && off.is_multiple_of(8));
        // SAFETY: the callers pass offsets inside the mapping, 8-byte aligned in the
        // page-aligned mapping.
        unsafe { &*(self.base.add(off) as *const AtomicU64) }
    }

    #[inline(always)]
    fn word32(&self, off: usize) -> &AtomicU32 {
        debug_assert!(off + 4 <= TABLE_BYTES && off.is_multiple_of(4));
        // SAFETY: as for word64, 4-byte aligned.
        unsafe { &*(self.base.add(off) as *const AtomicU32) }
    }

    #[inline(always)]
    fn lock_word(&self, slot: usize) -> &AtomicU32 {
        self.word32(WORDS + (slot % SLOTS) * LOCK_BYTES)
    }

    #[inline(always)]
    fn gen_word(&self, slot: usize) -> &AtomicU64 {
        self.word64(WORDS + (slot % SLOTS) * LOCK_BYTES + 8)
    }

    /// The write generation of lock `slot`: it changes whenever a writer held the lock (read
    /// it while holding the lock in read mode to tag what was read under it).
    #[inline(always)]
    pub fn write_gen(&self, slot: usize) -> u64 {
        self.gen_word(slot).load(Ordering::Acquire)
    }

    /// A writer of `slot` is done (or died): move the write generation on.
    #[inline(always)]
    fn bump_gen(&self, slot: usize) {
        self.gen_word(slot).fetch_add(1, Ordering::AcqRel);
    }

    #[inline(always)]
    fn counter(&self, proc_ix: usize, slot: usize) -> &AtomicU32 {
        self.word32(COUNTERS + proc_ix * COUNTER_BLOCK + (slot % SLOTS) * 4)
    }

    /// The entry word of process entry `ix`: pid in the low 32 bits, start time in the high
    /// 32 bits (0: free).
    fn proc_word(&self, ix: usize) -> &AtomicU64 {
        self.word64(PROCS + ix * PROC_BYTES)
    }

    fn active(&self, ix: usize) -> (&AtomicU64, u64) {
        (self.word64(ACTIVE_WORDS + (ix / 64) * 8), 1u64 << (ix % 64))
    }

    // ---------------------------------------------------------------- process entries

    /// Our process entry, claimed on first use and again in a forked child.
    #[inline(always)]
    fn me(&self) -> usize {
        let m = self.me.load(Ordering::Relaxed);
        if m >> 32 == my_pid() as u64 {
            return (m & 0xffff_ffff) as usize;
        }
        loop {
            match self.me_slow() {
                Ok(ix) => return ix,
                Err(e) => {
                    log::error!("{e}; waiting for an entry to become free");
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            }
        }
    }

    #[cold]
    fn me_slow(&self) -> Result<usize> {
        let pid = my_pid();
        let m = self.me.load(Ordering::Relaxed);
        if m >> 32 == pid as u64 {
            return Ok((m & 0xffff_ffff) as usize);
        }
        let mine = my_entry();
        for pass in 0..2 {
            for ix in 0..MAX_PROCS {
                let p = self.proc_word(ix);
                let cur = p.load(Ordering::Acquire);
                if cur == 0 {
                    if p.compare_exchange(0, mine, Ordering::AcqRel, Ordering::Acquire)
                        .is_err()
                    {
                        continue;
                    }
                } else if pass == 1 && !entry_alive(cur) {
                    // a dead process's entry: take it over (its locks go with it)
                    if p.compare_exchange(cur, mine, Ordering::AcqRel, Ordering::Acquire)
                        .is_err()
                    {
                        continue;
                    }
                    self.release_entry(ix);
                } else {
                    continue;
                }
                let (w, bit) = self.active(ix);
                w.fetch_or(bit, Ordering::SeqCst);
                self.me
                    .store(((pid as u64) << 32) | ix as u64, Ordering::Relaxed);
                return Ok(ix);
            }
        }
        Err(K2hError::NoSpace(format!(
            "more than {MAX_PROCS} processes attached to one k2hash"
        )))
    }

    /// Drop everything a dead process's entry `ix` held: its reader counts and the write locks
    /// that name it (before the entry can be used again, so no lock names a live stranger).
    fn release_entry(&self, ix: usize) {
        for slot in 0..SLOTS {
            self.counter(ix, slot).store(0, Ordering::SeqCst);
            let w = self.lock_word(slot);
            let s = w.load(Ordering::SeqCst);
            if s & WRITER != 0
                && (s & OWNER) as usize == ix
                && w.compare_exchange(s, 0, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
            {
                self.bump_gen(slot);
                self.needs_repair(slot);
                if slot == STRUCT_LOCK && self.struct_version() & 1 == 1 {
                    self.bump_version(false);
                }
                futex_wake(w);
            }
        }
    }

    /// Free entry `ix` of a dead process (entry word `dead`): its reader counts and write locks
    /// are dropped. The entry carries our own word while we clear it, so that if we die here
    /// too, the next one takes over.
    fn reclaim(&self, ix: usize, dead: u64) {
        let p = self.proc_word(ix);
        if p.compare_exchange(dead, my_entry(), Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        log::warn!(
            "k2hash locks: process {} died while attached; its locks are released",
            dead as u32
        );
        self.release_entry(ix);
        self.free_entry(ix);
    }

    /// Give back entry `ix`, which carries our word (ours, or one we reclaimed).
    fn free_entry(&self, ix: usize) {
        let (w, bit) = self.active(ix);
        w.fetch_and(!bit, Ordering::SeqCst);
        let _ =
            self.proc_word(ix)
                .compare_exchange(my_entry(), 0, Ordering::AcqRel, Ordering::Acquire);
    }

    // ---------------------------------------------------------------- shared words

    /// The structure version (odd: a structure writer is at work or died at work).
    #[inline]
    pub fn struct_version(&self) -> u64 {
        self.word64(VERSION_WORD).load(Ordering::Acquire)
    }

    /// Make the structure version odd (entering) or even (leaving), whatever it was.
    fn bump_version(&self, entering: bool) {
        let w = self.word64(VERSION_WORD);
        let v = w.load(Ordering::Relaxed);
        let odd = v & 1 == 1;
        let next = if odd == entering { v + 2 } else { v + 1 };
        w.store(next, Ordering::Release);
        std::sync::atomic::fence(Ordering::SeqCst);
    }

    /// The pending repair generation, if a writer of the structure, the allocator or a stripe
    /// died in the middle of a change.
    #[inline]
    pub fn repair_pending(&self) -> Option<u64> {
        match self.word64(REPAIR_WORD).load(Ordering::Acquire) {
            0 => None,
            g => Some(g),
        }
    }

    /// The repair of generation `gen` is done (another death meanwhile keeps it pending).
    pub fn repair_done(&self, gen: u64) {
        let _ =
            self.word64(REPAIR_WORD)
                .compare_exchange(gen, 0, Ordering::AcqRel, Ordering::Acquire);
    }

    /// A dead writer's lock of `slot` was released: changes under it may be half done.
    fn needs_repair(&self, slot: usize) {
        if slot == STRUCT_LOCK || slot == ALLOC_LOCK || slot >= FIRST_STRIPE {
            let w = self.word64(REPAIR_WORD);
            let g = w.load(Ordering::Acquire);
            let _ = w.compare_exchange(
                g,
                g.wrapping_add(1).max(1),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    /// Counter of area removals (see `bump_area_epoch`).
    #[inline]
    pub fn area_epoch(&self) -> u64 {
        self.word64(EPOCH_WORD).load(Ordering::Acquire)
    }

    /// Tell every process that an area was removed.
    pub fn bump_area_epoch(&self) {
        self.word64(EPOCH_WORD).fetch_add(1, Ordering::AcqRel);
    }

    /// Publish the inode of the file just attached at this table's path.
    pub fn set_current_ino(&self, ino: u64) {
        self.word64(INO_WORD).store(ino, Ordering::Release);
    }

    /// The inode last published for this path (0: none yet).
    #[inline]
    pub fn current_ino(&self) -> u64 {
        self.word64(INO_WORD).load(Ordering::Acquire)
    }

    /// Every stripe in write mode (compaction: shuts out readers that skip the structure lock).
    pub fn all_stripes_write(&self) -> Vec<Guard<'_>> {
        (FIRST_STRIPE..SLOTS).map(|s| self.write(s)).collect()
    }

    /// Stripe lock slot for a CKINDEX offset.
    #[inline]
    pub fn stripe(ckindex_off: u64) -> usize {
        FIRST_STRIPE + ((ckindex_off / 16) as usize % STRIPES)
    }

    // ---------------------------------------------------------------- locking

    pub fn read(&self, slot: usize) -> Guard<'_> {
        let me = self.me();
        let w = self.lock_word(slot);
        let c = self.counter(me, slot);
        let mut spins = 0u32;
        loop {
            c.fetch_add(1, Ordering::SeqCst);
            let s = w.load(Ordering::SeqCst);
            if s & WRITER == 0 {
                HELD.with(|h| h.set(h.get() + 1));
                return Guard {
                    t: self,
                    slot,
                    write: false,
                    me,
                };
            }
            // a writer holds or waits for the lock: step back until it is done
            self.reader_leave(w, c);
            while w.load(Ordering::SeqCst) & WRITER != 0 {
                self.wait_writer(w, slot, &mut spins);
            }
        }
    }

    /// The start of a read under `slot` that takes no lock (a seqlock read, for stores whose
    /// memory never shrinks): the lock's write generation, or None while a writer holds it.
    /// Every change under a lock is made while its writer bit is set and moves its generation
    /// before the bit is cleared, so a read that `unchanged` confirms afterwards saw no change
    /// made under the lock, as if it had held it.
    #[inline]
    pub fn peek(&self, slot: usize) -> Option<u64> {
        if self.lock_word(slot).load(Ordering::Acquire) & WRITER != 0 {
            return None;
        }
        Some(self.gen_word(slot).load(Ordering::Acquire))
    }

    /// Whether no writer held `slot` since `peek` gave `gen` (nor holds it now).
    #[inline]
    pub fn unchanged(&self, slot: usize, gen: u64) -> bool {
        std::sync::atomic::fence(Ordering::Acquire);
        self.lock_word(slot).load(Ordering::Acquire) & WRITER == 0
            && self.gen_word(slot).load(Ordering::Acquire) == gen
    }

    pub fn write(&self, slot: usize) -> Guard<'_> {
        let me = self.me();
        let w = self.lock_word(slot);
        let mut spins = 0u32;
        loop {
            let s = w.load(Ordering::SeqCst);
            if s & WRITER == 0 {
                if w.compare_exchange_weak(
                    s,
                    (s & WAITERS) | WRITER | me as u32,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                )
                .is_ok()
                {
                    break;
                }
                continue;
            }
            self.wait_writer(w, slot, &mut spins);
        }
        self.wait_readers(w, slot);
        // readers that take no lock (`peek`) must see the writer bit before any change made
        // under it
        std::sync::atomic::fence(Ordering::Release);
        if slot == STRUCT_LOCK {
            self.bump_version(true);
        }
        HELD.with(|h| h.set(h.get() + 1));
        Guard {
            t: self,
            slot,
            write: true,
            me,
        }
    }

    fn reader_leave(&self, w: &AtomicU32, c: &AtomicU32) {
        c.fetch_sub(1, Ordering::SeqCst);
        let s = w.load(Ordering::SeqCst);
        if s & WAITERS != 0 && s & WRITER != 0 {
            // a writer may be waiting for the readers: wake it (clearing the bit changes the
            // word, so a writer about to sleep on the old value does not miss this)
            if w.compare_exchange(s, s & !WAITERS, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            {
                futex_wake(w);
            }
        }
    }

    fn unlock(&self, slot: usize, write: bool, me: usize) {
        HELD.with(|h| h.set(h.get().saturating_sub(1)));
        let w = self.lock_word(slot);
        if write {
            if slot == STRUCT_LOCK {
                self.bump_version(false);
            }
            // we hold the lock: no one else moves its generation
            let g = self.gen_word(slot);
            g.store(g.load(Ordering::Relaxed).wrapping_add(1), Ordering::Release);
            let old = w.swap(0, Ordering::SeqCst);
            if old & WAITERS != 0 {
                futex_wake(w);
            }
        } else {
            self.reader_leave(w, self.counter(me, slot));
        }
    }

    /// Wait while a writer holds `w` (state `s` seen); break the lock of a dead writer.
    fn wait_writer(&self, w: &AtomicU32, slot: usize, spins: &mut u32) {
        if backoff(spins) {
            return;
        }
        let s = w.load(Ordering::SeqCst);
        if s & WRITER == 0 {
            return;
        }
        if s & WAITERS == 0
            && w.compare_exchange(s, s | WAITERS, Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if futex_wait(w, s | WAITERS, WAIT_MS) {
            self.break_dead_writer(w, slot);
        }
    }

    fn break_dead_writer(&self, w: &AtomicU32, slot: usize) {
        let s = w.load(Ordering::SeqCst);
        if s & WRITER == 0 {
            return;
        }
        let ix = (s & OWNER) as usize;
        let owner = if ix < MAX_PROCS {
            self.proc_word(ix).load(Ordering::Acquire)
        } else {
            0 // not an entry at all: a damaged word, released like a dead owner's
        };
        if entry_alive(owner) {
            return;
        }
        let pid = owner as u32;
        if w.compare_exchange(s, 0, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
        {
            log::warn!("k2hash locks: lock {slot} of dead process {pid} released");
            self.bump_gen(slot);
            self.needs_repair(slot);
            if slot == STRUCT_LOCK && self.struct_version() & 1 == 1 {
                self.bump_version(false);
            }
            futex_wake(w);
        }
        if ix < MAX_PROCS && owner != 0 {
            self.reclaim(ix, owner);
        }
    }

    /// With the writer bit set: wait until no process counts a reader of `slot`.
    fn wait_readers(&self, w: &AtomicU32, slot: usize) {
        let mut spins = 0u32;
        loop {
            let Some((ix, owner)) = self.busy_reader(slot) else {
                return;
            };
            if backoff(&mut spins) {
                continue;
            }
            let s = w.fetch_or(WAITERS, Ordering::SeqCst) | WAITERS;
            if self.busy_reader(slot).is_none() {
                return;
            }
            if futex_wait(w, s, WAIT_MS) && !entry_alive(owner) {
                self.reclaim(ix, owner);
            }
        }
    }

    /// A process entry with readers of `slot` (and its entry word), if any.
    #[inline]
    fn busy_reader(&self, slot: usize) -> Option<(usize, u64)> {
        for wi in 0..MAX_PROCS / 64 {
            let mut bits = self.word64(ACTIVE_WORDS + wi * 8).load(Ordering::SeqCst);
            while bits != 0 {
                let ix = wi * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if self.counter(ix, slot).load(Ordering::SeqCst) != 0 {
                    return Some((ix, self.proc_word(ix).load(Ordering::Acquire)));
                }
            }
        }
        None
    }

    /// Leave the process list (when nothing of ours is locked) and remove the side file when no
    /// other process has it attached.
    fn detach(&mut self) {
        let m = *self.me.get_mut();
        if m != 0 && m >> 32 == my_pid() as u64 {
            let ix = (m & 0xffff_ffff) as usize;
            if (0..SLOTS).all(|s| self.counter(ix, s).load(Ordering::SeqCst) == 0) {
                self.free_entry(ix);
            }
        }
        if let Some((f, path)) = &self.file {
            // the last one out (no other shared lock) removes the file, still under its lock,
            // so an opener that raced with us sees the path change and opens afresh
            if flock(f, libc::LOCK_EX | libc::LOCK_NB) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// What a side file says (for diagnostics): the locks held or waited for, with their words,
/// and the process entries in use.
pub fn describe_side_file(path: &std::path::Path) -> String {
    let b = match std::fs::read(path) {
        Ok(b) if b.len() >= COUNTERS => b,
        Ok(_) => return format!("{}: too short for a lock table", path.display()),
        Err(e) => return format!("{}: {e}", path.display()),
    };
    let at32 = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let mut out = format!("{}:", path.display());
    for slot in 0..SLOTS {
        let w = at32(WORDS + slot * LOCK_BYTES);
        if w != 0 {
            out.push_str(&format!(" lock {slot}={w:#x}"));
        }
    }
    for ix in 0..MAX_PROCS {
        let pid = at32(PROCS + ix * PROC_BYTES);
        if pid != 0 {
            out.push_str(&format!(" entry {ix}=pid {pid}"));
        }
    }
    out
}

/// Spin, then yield; true while the caller should just look again.
#[inline]
fn backoff(spins: &mut u32) -> bool {
    if *spins < 64 {
        *spins += 1;
        std::hint::spin_loop();
        return true;
    }
    if *spins < 80 {
        *spins += 1;
        std::thread::yield_now();
        return true;
    }
    false
}

/// This process's id, cached (getpid is a system call). A child forked from us clears the
/// cache through an atfork handler, and so claims its own process entries.
fn my_pid() -> u32 {
    static PID: AtomicU32 = AtomicU32::new(0);
    static ATFORK: std::sync::Once = std::sync::Once::new();
    extern "C" fn forked_child() {
        PID.store(0, Ordering::Relaxed);
    }
    let p = PID.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    ATFORK.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic.
        unsafe { libc::pthread_atfork(None, None, Some(forked_child)) };
    });
    let p = std::process::id();
    PID.store(p, Ordering::Relaxed);
    p
}

fn pid_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks for the existence of the process.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// State and start time of a process (/proc/PID/stat fields 3 and 22; the start time, in clock
/// ticks after boot, names one process with its pid even once the pid is reused). None when
/// it cannot be read.
fn proc_stat(pid: u32) -> Option<(char, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut rest = s[s.rfind(')')? + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    // field 3 was the state; the start time is field 22, 19 further on
    let start = rest.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// Our process's entry word: pid and the low 32 bits of its start time (cached per pid).
fn my_entry() -> u64 {
    static ENTRY: AtomicU64 = AtomicU64::new(0);
    let pid = my_pid();
    let e = ENTRY.load(Ordering::Relaxed);
    if e != 0 && e as u32 == pid {
        return e;
    }
    let start = proc_stat(pid).map(|(_, s)| s as u32).unwrap_or(0);
    let e = ((start as u64) << 32) | pid as u64;
    ENTRY.store(e, Ordering::Relaxed);
    e
}

/// Whether the process an entry word names is alive: its pid exists, is no zombie, and has the
/// start time recorded (a reused pid names another process).
fn entry_alive(entry: u64) -> bool {
    let pid = entry as u32;
    let start = (entry >> 32) as u32;
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    if pid == my_pid() {
        return entry == my_entry();
    }
    if !pid_alive(pid) {
        return false;
    }
    match proc_stat(pid) {
        // a zombie is dead already (its parent has not reaped it yet)
        Some((state, _)) if state == 'Z' || state == 'X' => false,
        Some((_, s)) => start == 0 || s as u32 == start,
        // no /proc to look at: the pid exists, trust it
        None => true,
    }
}

/// Sleep on `w` while it holds `expected`, at most `ms`; true when the time ran out.
fn futex_wait(w: &AtomicU32, expected: u32, ms: i64) -> bool {
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: ms * 1_000_000,
    };
    // SAFETY: futex on a valid 4-byte aligned shared word with a relative timeout.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            w.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
        )
    };
    r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT)
}

fn futex_wake(w: &AtomicU32) {
    // SAFETY: waking waiters of a valid shared futex word.
    unsafe { libc::syscall(libc::SYS_futex, w.as_ptr(), libc::FUTEX_WAKE, i32::MAX) };
}

/// Releases its lock when dropped.
pub struct Guard<'a> {
    t: &'a LockTable,
    slot: usize,
    write: bool,
    me: usize,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.t.unlock(self.slot, self.write, self.me);
    }
}

impl Drop for LockTable {
    fn drop(&mut self) {
        self.detach();
        // SAFETY: unmapping the table mapped in the constructor.
        unsafe { libc::munmap(self.base as *mut libc::c_void, TABLE_BYTES) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_fits() {
        const { assert!(WORDS + SLOTS * LOCK_BYTES <= COUNTERS) };
        const { assert!(MAX_PROCS <= OWNER as usize + 1) };
        assert_eq!(COUNTERS % 4096, 0);
        assert!(proc_stat(std::process::id()).is_some());
        assert!(entry_alive(my_entry()));
        assert!(!entry_alive(0x7fff_fff0));
    }

    #[test]
    fn readers_share_writers_exclude() {
        let t = LockTable::anonymous().unwrap();
        let r1 = t.read(5);
        let r2 = t.read(5);
        assert_eq!(t.counter(t.me(), 5).load(Ordering::SeqCst), 2);
        drop((r1, r2));
        let w = t.write(5);
        assert_ne!(t.lock_word(5).load(Ordering::SeqCst) & WRITER, 0);
        drop(w);
        assert_eq!(t.lock_word(5).load(Ordering::SeqCst), 0);
    }

    #[test]
    fn dead_writer_and_dead_reader_are_recovered() {
        let t = LockTable::anonymous().unwrap();
        let me = t.me();
        // a "process" entry whose pid does not exist holds the write lock of slot 7 and a
        // reader count on slot 8
        let dead = (me + 1) % MAX_PROCS;
        let ghost = 0x7fff_fff0;
        t.proc_word(dead).store(ghost, Ordering::SeqCst);
        let (aw, bit) = t.active(dead);
        aw.fetch_or(bit, Ordering::SeqCst);
        t.lock_word(7).store(WRITER | dead as u32, Ordering::SeqCst);
        t.counter(dead, 8).store(3, Ordering::SeqCst);
        drop(t.read(7));
        drop(t.write(8));
        assert_eq!(t.proc_word(dead).load(Ordering::SeqCst), 0);
        assert_eq!(t.counter(dead, 8).load(Ordering::SeqCst), 0);
    }
}
