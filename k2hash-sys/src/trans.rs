//! Transaction logging: with a transaction enabled on a handle, every change it makes produces a
//! SCOM record (see `archive`) handed to the transaction function: a library loaded with
//! `k2h_load_transaction_library`, else a `k2h_trans` defined by the program itself, else the
//! built-in one, which appends the record to the handle's transaction file under an exclusive
//! `flock` (so processes sharing a log never interleave records).
use crate::record::Record;
use parking_lot::Mutex;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Key prefix of the transaction queue; keys under the active prefix are never logged.
pub const DEFAULT_PREFIX: &[u8] = b"\0K2HTRANS_PREFIX_";
pub const MAX_FILEPATH: usize = 1024;
pub const MAX_PREFIX: usize = 512;
pub const MAX_PARAM: usize = 32 * 1024;
pub const BUILTIN_VERSION: &str = "K2H TRANSFUNC BUILTIN";
const REOPEN_CHECK: Duration = Duration::from_secs(10);

/// Settings of an enabled transaction.
#[derive(Clone, Debug, Default)]
pub struct TransOpt {
    pub path: Option<PathBuf>,
    pub prefix: Vec<u8>,
    pub param: Vec<u8>,
    pub expire: Option<i64>,
}

struct Trans {
    opt: TransOpt,
    file: Option<File>,
    ino: u64,
    checked: Instant,
}

/// Worker threads draining the transaction queue of one handle (started and stopped by
/// `transpool`, which knows the handle and its queues; this module knows neither).
pub struct Pool {
    pub stop: Arc<AtomicBool>,
    pub threads: Vec<std::thread::JoinHandle<()>>,
    /// Push an encoded record onto the handle's transaction queue.
    pub push: Arc<QueuePush>,
}

/// Pushes a record onto a transaction queue.
pub type QueuePush = dyn Fn(&[u8]) -> crate::error::Result<()> + Send + Sync;

/// Process-wide number of transaction worker threads per handle (0 = write synchronously).
pub static POOL_SIZE: AtomicI32 = AtomicI32::new(0);
/// Handles whose workers are running (the pool size cannot change meanwhile).
pub static RUNNING_POOLS: AtomicUsize = AtomicUsize::new(0);
pub const MAX_POOL: i32 = 64;

/// Per-handle transaction state.
#[derive(Default)]
pub struct TransSlot {
    on: AtomicBool,
    state: Mutex<Option<Trans>>,
    /// Worker threads, when running (`transpool`).
    pub pool: Mutex<Option<Pool>>,
    /// Records go to the transaction queue (workers run).
    pub pooled: AtomicBool,
    /// The C handle value of the owning handle (passed to external transaction functions).
    pub handle_id: AtomicU64,
}

/// A record handed to a foreign transaction function: (handle, pointer to the record).
pub type Sink = dyn Fn(u64, &[u8]) -> bool + Send + Sync;

/// The external transaction function in effect, if any (set by the C layer).
pub static EXTERNAL: parking_lot::RwLock<Option<Box<Sink>>> = parking_lot::const_rwlock(None);

fn open_log(path: &std::path::Path) -> std::io::Result<(File, u64)> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    let ino = f.metadata()?.ino();
    Ok((f, ino))
}

impl TransSlot {
    pub fn active(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    /// Keys under the transaction queue prefix are not logged.
    pub fn exempt(&self, key: &[u8]) -> bool {
        self.state
            .lock()
            .as_ref()
            .map(|t| key.starts_with(&t.opt.prefix))
            .unwrap_or(false)
    }

    pub fn enable(&self, mut opt: TransOpt) -> crate::Result<()> {
        if opt.prefix.is_empty() {
            opt.prefix = DEFAULT_PREFIX.to_vec();
        }
        let (file, ino) = match &opt.path {
            Some(p) => {
                let (f, i) = open_log(p)?;
                (Some(f), i)
            }
            None => (None, 0),
        };
        *self.state.lock() = Some(Trans {
            opt,
            file,
            ino,
            checked: Instant::now(),
        });
        self.on.store(true, Ordering::Release);
        Ok(())
    }

    pub fn disable(&self) {
        self.on.store(false, Ordering::Release);
        *self.state.lock() = None;
    }

    pub fn options(&self) -> Option<TransOpt> {
        self.state.lock().as_ref().map(|t| t.opt.clone())
    }

    /// Descriptor of the open transaction file (-1 when none), reopened if it was replaced.
    pub fn fd(&self) -> i32 {
        let mut g = self.state.lock();
        match g.as_mut() {
            Some(t) => {
                Self::refresh(t, true);
                t.file.as_ref().map(|f| f.as_raw_fd()).unwrap_or(-1)
            }
            None => -1,
        }
    }

    fn refresh(t: &mut Trans, force: bool) {
        if !force && t.checked.elapsed() < REOPEN_CHECK {
            return;
        }
        t.checked = Instant::now();
        let Some(p) = t.opt.path.clone() else { return };
        let replaced = std::fs::metadata(&p)
            .map(|m| m.ino() != t.ino)
            .unwrap_or(true);
        if replaced {
            match open_log(&p) {
                Ok((f, i)) => {
                    t.file = Some(f);
                    t.ino = i;
                }
                Err(e) => log::error!("transaction file {}: {e}", p.display()),
            }
        }
    }

    /// The built-in sink: append `rec` at the end of the transaction file.
    pub fn append(&self, rec: &[u8]) -> bool {
        let mut g = self.state.lock();
        let Some(t) = g.as_mut() else { return false };
        Self::refresh(t, false);
        let Some(f) = t.file.as_mut() else {
            return false;
        };
        let fd = f.as_raw_fd();
        // SAFETY: flock on our own descriptor; released right after the write.
        unsafe { libc::flock(fd, libc::LOCK_EX) };
        let r = (|| -> std::io::Result<()> {
            use std::io::Seek;
            f.seek(std::io::SeekFrom::End(0))?;
            f.write_all(rec)
        })();
        // SAFETY: as above.
        unsafe { libc::flock(fd, libc::LOCK_UN) };
        if let Err(e) = &r {
            log::error!("transaction record not written: {e}");
        }
        r.is_ok()
    }

    /// Hand one record to the transaction function in effect, or to the transaction queue when
    /// worker threads run (`transpool`).
    pub fn emit(&self, rec: &Record) {
        let bytes = rec.encode();
        if self.pooled.load(Ordering::Acquire) {
            let push = self.pool.lock().as_ref().map(|p| p.push.clone());
            if let Some(push) = push {
                match push(&bytes) {
                    Ok(()) => return,
                    Err(e) => log::error!("transaction queue push failed ({e}); writing directly"),
                }
            }
        }
        if !self.dispatch(&bytes) {
            log::error!("transaction function refused a {:?} record", rec.kind);
        }
    }

    /// Call the transaction function in effect with an encoded record.
    pub fn dispatch(&self, bytes: &[u8]) -> bool {
        if let Some(ext) = EXTERNAL.read().as_ref() {
            return ext(self.handle_id.load(Ordering::Relaxed), bytes);
        }
        self.append(bytes)
    }
}
