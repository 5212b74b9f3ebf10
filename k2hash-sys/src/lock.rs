//! Process-shared reader/writer locks for one k2hash.
//!
//! The original keys fullock locks on offsets of the k2hash file; we keep one table of lock words
//! per k2hash instead: slot 0 guards the key index structure (`cur_mask`, migration), slot 1 the
//! free lists and the area table, slot 2 the queues (marker and entry chain), slot 3 the transaction queue, and the remaining
//! slots are stripes over the collision index
//! (CKINDEX) offsets. For a file the table lives in a small side file mapped `MAP_SHARED`, so
//! threads and processes of ours share it; for memory mode it is anonymous shared memory.
//!
//! Lock word: bit 31 = writer, bit 30 = waiters, bits 0..29 = readers. Waiters sleep on a futex
//! with a timeout; a writer records its pid next to the word so that a waiter can break the lock
//! of a writer process that died.
use crate::error::Result;
use std::fs::{File, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicU32, Ordering};

pub const STRUCT_LOCK: usize = 0;
pub const ALLOC_LOCK: usize = 1;
pub const QUEUE_LOCK: usize = 2;
pub const TRANS_QUEUE_LOCK: usize = 3;
const FIRST_STRIPE: usize = 4;
pub const STRIPES: usize = 4096;
const SLOTS: usize = FIRST_STRIPE + STRIPES;
/// After the lock words: the inode of the file now at the path (the replacement notice that
/// k2hreplace relies on; see `Db::replaced`).
const INO_WORD: usize = SLOTS * 8;
/// Then a counter bumped whenever an area is removed (compaction), so every process drops its
/// cached area table.
const EPOCH_WORD: usize = SLOTS * 8 + 8;
/// Then the version of the key-index structure: odd while a structure writer (slot 0 in
/// write mode) is at work, bumped again when it leaves. Readers that do not take the structure
/// lock check it before and after (seqlock).
const VERSION_WORD: usize = SLOTS * 8 + 16;
const TABLE_BYTES: usize = SLOTS * 8 + 24;

const WRITER: u32 = 1 << 31;
const WAITERS: u32 = 1 << 30;
const READERS: u32 = WAITERS - 1;

pub struct LockTable {
    base: *mut u8,
    _file: Option<File>,
}

// SAFETY: the table is shared memory used only through atomics.
unsafe impl Send for LockTable {}
// SAFETY: as above.
unsafe impl Sync for LockTable {}

fn lock_dir() -> std::path::PathBuf {
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

impl LockTable {
    pub fn anonymous() -> Result<LockTable> {
        // SAFETY: anonymous shared mapping, checked below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                TABLE_BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error().into());
        }
        Ok(LockTable {
            base: p as *mut u8,
            _file: None,
        })
    }

    /// The table shared by every process attaching the file whose identity hash is `id`.
    pub fn for_file(id: u64) -> Result<LockTable> {
        let path = lock_dir().join(format!(".k2hrs_{id:x}.lck"));
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path);
        let f = match f {
            Ok(f) => f,
            Err(e) => {
                log::warn!(
                    "cannot open lock table {}: {e}; using process-local locks",
                    path.display()
                );
                return Self::anonymous();
            }
        };
        // SAFETY: flock on our own descriptor, serialising the first sizing of the file.
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
        if f.metadata()?.len() < TABLE_BYTES as u64 {
            f.set_len(TABLE_BYTES as u64)?;
        }
        // SAFETY: as above.
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
        // SAFETY: shared mapping of the sized side file, checked below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                TABLE_BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                f.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error().into());
        }
        Ok(LockTable {
            base: p as *mut u8,
            _file: Some(f),
        })
    }

    #[inline]
    fn word(&self, slot: usize) -> (&AtomicU32, &AtomicU32) {
        let slot = slot % SLOTS;
        // SAFETY: slot < SLOTS so both words lie inside the 8*SLOTS byte mapping; they are
        // 4-byte aligned because the mapping is page aligned.
        unsafe {
            let p = self.base.add(slot * 8) as *const AtomicU32;
            (&*p, &*p.add(1))
        }
    }

    /// One of the 64-bit words after the lock words (`INO_WORD`, `EPOCH_WORD`, `VERSION_WORD`).
    fn tail_word(&self, off: usize) -> &std::sync::atomic::AtomicU64 {
        debug_assert!(off >= INO_WORD && off + 8 <= TABLE_BYTES && off.is_multiple_of(8));
        // SAFETY: the callers pass one of the constants above, all inside the TABLE_BYTES
        // mapping and 8-byte aligned in the page-aligned mapping.
        unsafe { &*(self.base.add(off) as *const std::sync::atomic::AtomicU64) }
    }

    /// The structure version (odd: a structure writer is at work or died at work).
    #[inline]
    pub fn struct_version(&self) -> u64 {
        self.tail_word(VERSION_WORD).load(Ordering::Acquire)
    }

    /// Make the structure version odd (entering) or even (leaving), whatever it was.
    fn bump_version(&self, entering: bool) {
        let w = self.tail_word(VERSION_WORD);
        let v = w.load(Ordering::Relaxed);
        let odd = v & 1 == 1;
        let next = if odd == entering { v + 2 } else { v + 1 };
        w.store(next, Ordering::Release);
        std::sync::atomic::fence(Ordering::SeqCst);
    }

    /// Counter of area removals (see `bump_area_epoch`).
    #[inline]
    pub fn area_epoch(&self) -> u64 {
        self.tail_word(EPOCH_WORD).load(Ordering::Acquire)
    }

    /// Tell every process that an area was removed.
    pub fn bump_area_epoch(&self) {
        self.tail_word(EPOCH_WORD).fetch_add(1, Ordering::AcqRel);
    }

    /// Publish the inode of the file just attached at this table's path.
    pub fn set_current_ino(&self, ino: u64) {
        self.tail_word(INO_WORD).store(ino, Ordering::Release);
    }

    /// The inode last published for this path (0: none yet).
    #[inline]
    pub fn current_ino(&self) -> u64 {
        self.tail_word(INO_WORD).load(Ordering::Acquire)
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

    pub fn read(&self, slot: usize) -> Guard<'_> {
        let (w, owner) = self.word(slot);
        let mut spins = 0u32;
        loop {
            let s = w.load(Ordering::Relaxed);
            if s & WRITER == 0 && (s & READERS) < READERS {
                if w.compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return Guard {
                        t: self,
                        slot,
                        write: false,
                    };
                }
                continue;
            }
            wait(w, owner, s, &mut spins);
        }
    }

    pub fn write(&self, slot: usize) -> Guard<'_> {
        let (w, owner) = self.word(slot);
        let mut spins = 0u32;
        loop {
            let s = w.load(Ordering::Relaxed);
            if s & (WRITER | READERS) == 0 {
                if w.compare_exchange_weak(s, s | WRITER, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    owner.store(my_pid(), Ordering::Relaxed);
                    if slot == STRUCT_LOCK {
                        self.bump_version(true);
                    }
                    return Guard {
                        t: self,
                        slot,
                        write: true,
                    };
                }
                continue;
            }
            wait(w, owner, s, &mut spins);
        }
    }

    fn unlock(&self, slot: usize, write: bool) {
        let (w, owner) = self.word(slot);
        let old = if write {
            if slot == STRUCT_LOCK {
                self.bump_version(false);
            }
            owner.store(0, Ordering::Relaxed);
            w.fetch_and(!(WRITER | WAITERS), Ordering::Release)
        } else {
            let old = w.fetch_sub(1, Ordering::Release);
            if old & READERS != 1 || old & WAITERS == 0 {
                return;
            }
            // Last reader with waiters: clear the waiter bit if nothing changed meanwhile.
            if w.compare_exchange(WAITERS, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
            {
                return;
            }
            old
        };
        if old & WAITERS != 0 {
            futex_wake(w);
        }
    }
}

fn wait(w: &AtomicU32, owner: &AtomicU32, s: u32, spins: &mut u32) {
    if *spins < 64 {
        *spins += 1;
        std::hint::spin_loop();
        return;
    }
    if *spins < 80 {
        *spins += 1;
        std::thread::yield_now();
        return;
    }
    if s & WAITERS == 0
        && w.compare_exchange(s, s | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let timed_out = futex_wait(w, s | WAITERS, 20);
    if timed_out && s & WRITER != 0 {
        // Break the lock of a writer process that no longer exists.
        let pid = owner.load(Ordering::Relaxed);
        if pid != 0 && pid != my_pid() && !pid_alive(pid) {
            log::warn!("breaking k2hash lock held by dead process {pid}");
            if w.compare_exchange(
                w.load(Ordering::Relaxed),
                0,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
            {
                owner.store(0, Ordering::Relaxed);
                futex_wake(w);
            }
        }
    }
}

/// This process's id, cached (getpid is a system call; lock owners are recorded on every write
/// lock). A child forked from us clears the cache through an atfork handler.
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
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.t.unlock(self.slot, self.write);
    }
}

impl Drop for LockTable {
    fn drop(&mut self) {
        // SAFETY: unmapping the table mapped in the constructor.
        unsafe { libc::munmap(self.base as *mut libc::c_void, TABLE_BYTES) };
    }
}
