//! The k2hash storage engine: byte-compatible with the original file format.
//!
//! Structure (all offsets are file offsets, see `format`): header → key index (KINDEX, grouped by
//! mask bit length) → collision index (CKINDEX, 2^c per KINDEX) → binary tree of ELEMENTs ordered
//! by the second hash, with `same` chains for equal second hashes → page chains holding key,
//! value, serialized subkeys and serialized attributes.
//!
//! Locking (see `lock`): the structure lock is taken shared by every operation and exclusively
//! for key-index growth and lazy migration; the CKINDEX stripe lock protects one tree and the
//! elements and pages hanging off it; the allocation lock protects the free lists and area table.
//! Order: structure → stripe(s) → allocation.
use crate::error::{corrupt, invalid, K2hError, Result};
use crate::format::*;
use crate::hash;
use crate::hints::{Elements, Hints};
use crate::lock::{LockTable, ALLOC_LOCK, STRUCT_LOCK};
use crate::rcache::{self, Found, Tag, ValueOut};
use crate::store::Store;
use std::collections::HashMap;
use std::fs::OpenOptions;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

mod alloc;
mod layout;
mod maintain;
mod read;
pub use read::ReadKey;

pub use layout::Layout;
use layout::{check_header, init_layout, write_element_list, write_page_list};

/// Parts of an element read by a lookup.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub value: Vec<u8>,
    pub subkeys: Vec<u8>,
    pub attrs: Vec<u8>,
}

/// Which parts to read.
#[derive(Clone, Copy)]
pub struct Parts {
    pub value: bool,
    pub subkeys: bool,
    pub attrs: bool,
}

/// The parts of an element: whether `parts` wants it, the element fields of its first page
/// and length, and the buffer of `el` it is read into.
fn part_fields(parts: Parts, el: &mut Element) -> [(bool, u64, u64, &mut Vec<u8>); 3] {
    [
        (parts.value, E_VALUE, E_VALLEN, &mut el.value),
        (parts.subkeys, E_SUBKEYS, E_SKEYLEN, &mut el.subkeys),
        (parts.attrs, E_ATTRS, E_ATTRLEN, &mut el.attrs),
    ]
}

impl Parts {
    pub const ALL: Parts = Parts {
        value: true,
        subkeys: true,
        attrs: true,
    };
    pub const VALUE: Parts = Parts {
        value: true,
        subkeys: false,
        attrs: true,
    };
    pub const SUBKEYS: Parts = Parts {
        value: false,
        subkeys: true,
        attrs: true,
    };
    pub const ATTRS: Parts = Parts {
        value: false,
        subkeys: false,
        attrs: true,
    };
    pub const NONE: Parts = Parts {
        value: false,
        subkeys: false,
        attrs: false,
    };
}

/// An element read by slot: (hash, subhash, key, all parts).
pub type SlotElement = (u64, u64, Vec<u8>, Element);

/// What `modify` does with the element.
pub enum Change {
    /// Leave everything as it is.
    Keep,
    /// Remove the element.
    Delete,
    /// Replace the whole element (the original's Set: remove, then insert a new element).
    Set(Element),
    /// Replace some parts in place (creating the key with an empty value when missing).
    Replace {
        value: Option<Vec<u8>>,
        subkeys: Option<Vec<u8>>,
        attrs: Option<Vec<u8>>,
    },
}

impl Change {
    /// Delete when there is an element, otherwise leave things alone.
    pub fn delete_existing(old: Option<&Element>) -> Change {
        if old.is_some() {
            Change::Delete
        } else {
            Change::Keep
        }
    }
}

/// Identity of an attached file, used to share one `Db` between handles of a process.
type FileId = (u64, u64, bool);

fn registry() -> &'static Mutex<HashMap<FileId, Weak<Db>>> {
    static R: std::sync::OnceLock<Mutex<HashMap<FileId, Weak<Db>>>> = std::sync::OnceLock::new();
    R.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Lock-free copy of the area table. Entries are only appended while `n` grows (so readers see
/// a consistent prefix); a compaction bumps the shared epoch and the next check rebuilds it.
struct AreaIndex {
    n: std::sync::atomic::AtomicUsize,
    epoch: AtomicU64,
    ent: Box<[AtomicU64]>,
    writer: parking_lot::Mutex<()>,
}

impl AreaIndex {
    fn new() -> AreaIndex {
        AreaIndex {
            n: std::sync::atomic::AtomicUsize::new(0),
            epoch: AtomicU64::new(u64::MAX),
            ent: (0..3 * MAX_AREA_COUNT as usize)
                .map(|_| AtomicU64::new(0))
                .collect(),
            writer: parking_lot::Mutex::new(()),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> (u64, u64, u64) {
        (
            self.ent[3 * i].load(Ordering::Relaxed),
            self.ent[3 * i + 1].load(Ordering::Relaxed),
            self.ent[3 * i + 2].load(Ordering::Relaxed),
        )
    }

    /// The area holding `off`: the last one starting at or before it, if it ends after it.
    /// The search halves the range without a branch on the entries (a conditional move): it
    /// runs for every element and link checked, and a mispredicted branch a halving cost more
    /// than the halving.
    #[inline]
    fn find(&self, off: u64) -> Option<(u64, u64, u64)> {
        let n = self.n.load(Ordering::Acquire).min(MAX_AREA_COUNT as usize);
        let ent = self.ent.get(..3 * n)?;
        let (mut base, mut len) = (0usize, n);
        while len > 1 {
            let half = len / 2;
            let mid = base + half;
            let start = ent
                .get(3 * mid)
                .map_or(u64::MAX, |a| a.load(Ordering::Relaxed));
            base = if start <= off { mid } else { base };
            len -= half;
        }
        let a = self.get(base);
        (n > 0 && a.0 <= off && off < a.1).then_some(a)
    }

    /// Replace the contents (writer lock held).
    fn store(&self, v: &[(u64, u64, u64)], epoch: u64) {
        let v = &v[..v.len().min(MAX_AREA_COUNT as usize)];
        let old = self.n.load(Ordering::Acquire);
        if v.len() < old {
            self.n.store(v.len(), Ordering::Release);
        }
        for (i, a) in v.iter().enumerate() {
            self.ent[3 * i].store(a.0, Ordering::Relaxed);
            self.ent[3 * i + 1].store(a.1, Ordering::Relaxed);
            self.ent[3 * i + 2].store(a.2, Ordering::Relaxed);
        }
        self.n.store(v.len(), Ordering::Release);
        self.epoch.store(epoch, Ordering::Release);
    }
}

/// The store's elements as the hint table sees them when it doubles: the key each holds.
struct HintElements<'a>(&'a Db);

impl Elements for HintElements<'_> {
    fn prefetch(&self, e: u64) {
        self.0.st.prefetch(e.saturating_add(E_KEY));
    }
    fn prefetch_key(&self, e: u64) {
        if let Ok(k) = self.0.st.u64(e.saturating_add(E_KEY)) {
            self.0.st.pg_prefetch(k);
        }
    }
    /// The key is read no further than the length its element gives, and only from pages that
    /// each add to it (a damaged chain can neither run long nor loop). In partial mapping mode
    /// keys are read with a system call each, and long keys take long to read: their hints are
    /// dropped instead (reads put them back).
    fn key_hash(&self, e: u64) -> Option<u64> {
        const LONGEST: u64 = 4096;
        let (db, st) = (self.0, &self.0.st);
        let len = st.u64(e.checked_add(E_KEYLEN)?).ok()?;
        if !st.is_fullmap() || len > LONGEST {
            return None;
        }
        let mut key = Vec::with_capacity(len as usize);
        let mut p = st.u64(e.checked_add(E_KEY)?).ok()?;
        while p != 0 && (key.len() as u64) < len {
            let n = st.pg_u64(p.checked_add(P_LENGTH)?).ok()?;
            if n == 0 || n > db.payload || key.len() as u64 + n > len {
                return None;
            }
            st.pg_extend(p.checked_add(PAGEHEAD_SIZE)?, n as usize, &mut key)
                .ok()?;
            p = st.pg_u64(p.checked_add(P_NEXT)?).ok()?;
        }
        (key.len() as u64 == len).then(|| rcache::key_hash(&key))
    }
}

pub struct Db {
    /// Inode of the attached file (0 in memory).
    ino: u64,
    pub(crate) st: Store,
    locks: LockTable,
    path: Option<PathBuf>,
    temp: bool,
    id: Option<FileId>,
    cbits: u32,
    cmask: u64,
    page_size: u64,
    payload: u64,
    /// Sorted (start, end, type) of the areas, refreshed when the area table grows.
    /// The area table as sorted (start, end, type), read without locks on every offset check.
    areas_idx: AreaIndex,
    /// Values read, tagged with the lock generations they were read under (`rcache`); None
    /// when caching is off or the lock table is private (writers elsewhere would not be seen).
    rcache: Option<rcache::Cache>,
    /// Where keys' elements were last seen (`hints`); None when turned off.
    hints: Option<Hints>,
}

/// Current time from CLOCK_REALTIME_COARSE as (sec, nsec).
pub fn now_coarse() -> (i64, i64) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    (ts.tv_sec, ts.tv_nsec)
}

impl Db {
    // ------------------------------------------------------------------ open / create

    /// Memory-only k2hash.
    pub fn memory(layout: Layout) -> Result<Arc<Db>> {
        layout.validate()?;
        let st = Store::memory(0)?;
        init_layout(&st, &layout)?;
        Ok(Arc::new(Db::from_store(
            st,
            LockTable::anonymous()?,
            None,
            false,
            None,
        )?))
    }

    /// Create (replacing any existing file) and initialise a k2hash file, then detach.
    pub fn create_file(path: &Path, layout: Layout) -> Result<()> {
        layout.validate()?;
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        let st = Store::file(f, false, true)?;
        init_layout(&st, &layout)?;
        st.sync();
        Ok(())
    }

    /// Attach a file, creating it with `layout` when missing (unless read-only).
    pub fn open_file(
        path: &Path,
        readonly: bool,
        temp: bool,
        fullmap: bool,
        layout: Layout,
    ) -> Result<Arc<Db>> {
        let exists = path.exists();
        if !exists && readonly {
            return Err(K2hError::Invalid(format!(
                "{} does not exist",
                path.display()
            )));
        }
        let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
        if exists {
            let md = std::fs::metadata(path)?;
            let id = (md.dev(), md.ino(), readonly);
            if let Some(db) = reg.get(&id).and_then(|w| w.upgrade()) {
                return Ok(db);
            }
        }
        let f = if readonly {
            OpenOptions::new().read(true).open(path)?
        } else {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?
        };
        let md = f.metadata()?;
        // A file whose creator was killed after sizing it but before writing its header is
        // blank (no version, no areas): it is initialised like a new one (under the structure
        // lock below, so a creator still at work is waited for).
        let blank = || -> bool {
            use std::os::unix::fs::FileExt;
            let mut v = [0u8; 8];
            let mut u = [0u8; 8];
            f.read_exact_at(&mut v, 0).is_ok()
                && f.read_exact_at(&mut u, H_UNASSIGN_AREA).is_ok()
                && v == [0u8; 8]
                && u == [0u8; 8]
        };
        let fresh = md.len() == 0 || (!readonly && blank());
        if fresh {
            layout.validate()?;
        } else if md.len() <= HEADER_SIZE {
            return corrupt(format!(
                "{} is too small to be a k2hash file",
                path.display()
            ));
        }
        let id = (md.dev(), md.ino(), readonly);
        let st = Store::file(f, readonly, fullmap)?;
        let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut shared = true;
        let locks =
            match LockTable::for_file(hash::builtin_hash(canon.as_os_str().as_encoded_bytes())) {
                Ok(t) => t,
                // Writing without locks shared with the other processes is never done; a read-only
                // attach goes on with private locks (it changes nothing; a read that races with a
                // writer elsewhere may fail, never crash), and says so.
                Err(e) if readonly => {
                    log::warn!(
                        "{}: {e}; attached read-only without the shared lock table",
                        path.display()
                    );
                    shared = false;
                    LockTable::anonymous()?
                }
                Err(e) => return Err(e),
            };
        if fresh {
            let _g = locks.write(STRUCT_LOCK);
            if st.refreshed_len() == 0 || st.u64(H_UNASSIGN_AREA).unwrap_or(0) == 0 {
                init_layout(&st, &layout)?;
            }
        }
        locks.set_current_ino(md.ino());
        let mut db = Db::from_store(st, locks, Some(canon), temp, Some(id))?;
        if !shared {
            db.rcache = None;
        }
        let db = Arc::new(db);
        reg.insert(id, Arc::downgrade(&db));
        Ok(db)
    }

    /// True when another file has since been attached at this file's path (k2hreplace moved
    /// a new file in): handles should reattach by path.
    #[inline]
    pub fn replaced(&self) -> bool {
        if self.ino == 0 || self.temp {
            return false;
        }
        let cur = self.locks.current_ino();
        cur != 0 && cur != self.ino
    }

    /// The canonical path of the attached file.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn from_store(
        st: Store,
        locks: LockTable,
        path: Option<PathBuf>,
        temp: bool,
        id: Option<FileId>,
    ) -> Result<Db> {
        {
            // consistent with growth in other processes: area table and masks change only under
            // these two locks
            let _g = locks.read(STRUCT_LOCK);
            let _a = locks.write(ALLOC_LOCK);
            check_header(&st)?;
        }
        let cmask = st.u64(H_COLLISION_MASK)?;
        let page_size = st.u64(H_PAGE_SIZE)?;
        Ok(Db {
            ino: id.map_or(0, |i| i.1),
            st,
            locks,
            path,
            temp,
            id,
            cbits: mask_bits(cmask),
            cmask,
            page_size,
            payload: page_size - PAGEHEAD_SIZE,
            areas_idx: AreaIndex::new(),
            rcache: rcache::Cache::new(),
            hints: Hints::new(),
        })
    }

    pub fn is_readonly(&self) -> bool {
        self.st.is_readonly()
    }
    pub fn is_fullmap(&self) -> bool {
        self.st.is_fullmap()
    }
    pub fn page_size(&self) -> u64 {
        self.page_size
    }
    pub fn header_u64(&self, off: u64) -> Result<u64> {
        self.st.u64(off)
    }
    pub fn store(&self) -> &Store {
        &self.st
    }

    // ------------------------------------------------------------------ offset validation

    /// The area of `off` with its type, from the cached area table.
    fn area_of(&self, off: u64) -> Option<(u64, u64, u64)> {
        let epoch = self.locks.area_epoch();
        if self.areas_idx.epoch.load(Ordering::Acquire) == epoch {
            if let Some(a) = self.areas_idx.find(off) {
                return Some(a);
            }
        }
        // A miss: another process may have appended (or removed) an area since.
        self.refresh_areas(epoch);
        self.areas_idx.find(off)
    }

    #[cold]
    fn refresh_areas(&self, epoch: u64) {
        let _w = self.areas_idx.writer.lock();
        let mut v: Vec<(u64, u64, u64)> = match self.areas() {
            Ok(a) => a
                .into_iter()
                .map(|(t, o, l)| (o, o.saturating_add(l), t))
                .collect(),
            Err(_) => return,
        };
        v.sort_unstable();
        let slots: u64 = v
            .iter()
            .filter(|a| a.2 == AREA_ELEMENT)
            .map(|a| (a.1 - a.0) / ELEMENT_SIZE)
            .sum();
        let end = v.iter().map(|a| a.1).max().unwrap_or(0);
        self.areas_idx.store(&v, epoch);
        drop(_w);
        if let Some(hs) = &self.hints {
            hs.set_slots(slots, end, &HintElements(self));
        }
    }

    /// `e` must be an element slot: inside an element area, on a 112-byte boundary.
    fn check_elem(&self, e: u64) -> Result<u64> {
        match self.area_of(e) {
            Some((start, _, AREA_ELEMENT)) if (e - start).is_multiple_of(ELEMENT_SIZE) => Ok(e),
            _ => corrupt(format!("{e:#x} is not an element")),
        }
    }

    /// `p` must be a page: inside a page area, on a page boundary.
    fn check_page(&self, p: u64) -> Result<u64> {
        match self.area_of(p) {
            Some((start, _, AREA_PAGE)) if (p - start).is_multiple_of(self.page_size) => Ok(p),
            _ => corrupt(format!("{p:#x} is not a page")),
        }
    }

    /// Read an element link and check it (0 stays 0).
    fn link(&self, e: u64, field: u64) -> Result<u64> {
        match self.st.u64(e + field)? {
            0 => Ok(0),
            v => self.check_elem(v),
        }
    }

    /// Root element of a collision index (checked).
    fn root(&self, ck: u64) -> Result<u64> {
        match self.st.u64(ck + CK_LIST)? {
            0 => Ok(0),
            v => self.check_elem(v),
        }
    }

    // ------------------------------------------------------------------ key index

    fn kindex_at(&self, h: u64, mask: u64) -> Result<u64> {
        let m = (h >> self.cbits) & mask;
        let g = 64 - m.leading_zeros() as u64;
        let j = if g > 1 {
            m & ((1u64 << (g - 1)) - 1)
        } else {
            0
        };
        if g >= MAX_KINDEX_AREA_COUNT {
            return corrupt("key index group out of range");
        }
        let base = self.st.u64(H_KEY_INDEX_AREA + 8 * g)?;
        if base == 0 {
            return corrupt(format!("key index group {g} is missing"));
        }
        Ok(base + KINDEX_SIZE * j)
    }

    /// First assigned KINDEX for `h` walking down from the current mask; `None` when the top one
    /// is unassigned and `merge` asks for the lazy migration to run first.
    fn resolve(&self, h: u64, merge: bool) -> Result<Option<u64>> {
        let mut m = self.st.u64(H_CUR_MASK)?;
        let mut last = None;
        while m > 0 {
            let ki = self.kindex_at(h, m)?;
            if self.st.u64(ki + KI_ASSIGN)? == KINDEX_ASSIGNED {
                return Ok(Some(ki));
            }
            if merge {
                return Ok(None);
            }
            last = Some(ki);
            m >>= 1;
        }
        match last {
            Some(k) => Ok(Some(k)),
            None => corrupt("no key index"),
        }
    }

    fn ckindex(&self, ki: u64, h: u64) -> Result<u64> {
        let ck = self.ckindex_unchecked(ki, h)?;
        if !self.is_ckindex(ck) {
            let base = self.st.u64(ki + KI_CKEY_LIST)?;
            return corrupt(format!(
                "key index {ki:#x} points at {base:#x}, not a collision index"
            ));
        }
        Ok(ck)
    }

    /// The CKINDEX of `h` under KINDEX `ki`, not checked: enough to pick its stripe lock (a
    /// writer computes the same offset from the same key index); checked (`is_ckindex`)
    /// before anything is read at it.
    #[inline]
    pub(super) fn ckindex_unchecked(&self, ki: u64, h: u64) -> Result<u64> {
        let base = self.st.u64(ki + KI_CKEY_LIST)?;
        Ok(base.wrapping_add(CKINDEX_SIZE * (h & self.cmask)))
    }

    /// Whether `ck` is an entry of a collision index area.
    pub(super) fn is_ckindex(&self, ck: u64) -> bool {
        matches!(self.area_of(ck),
            Some((start, _, AREA_CKINDEX)) if (ck - start).is_multiple_of(CKINDEX_SIZE))
    }

    /// Run the lazy migration for `h` (exclusive structure lock).
    fn merge(&self, h: u64) -> Result<()> {
        let _g = self.locks.write(STRUCT_LOCK);
        if self.resolve(h, true)?.is_some() {
            return Ok(());
        }
        let cur = self.st.u64(H_CUR_MASK)?;
        self.arrange(h, cur)
    }

    fn arrange(&self, h: u64, mask: u64) -> Result<()> {
        let cur = self.st.u64(H_CUR_MASK)?;
        if mask < 3 || mask > cur {
            return Ok(());
        }
        self.arrange(h, mask >> 1)?;
        let upper = self.kindex_at(h, mask)?;
        let lower = self.kindex_at(h, mask >> 1)?;
        if upper == lower || self.st.u64(upper + KI_ASSIGN)? == KINDEX_ASSIGNED {
            return Ok(());
        }
        let target = (h >> self.cbits) & mask;
        let lbase = self.st.u64(lower + KI_CKEY_LIST)?;
        let ubase = self.st.u64(upper + KI_CKEY_LIST)?;
        for slot in 0..=self.cmask {
            let src = lbase + CKINDEX_SIZE * slot;
            let dst = ubase + CKINDEX_SIZE * slot;
            let root = self.st.u64(src + CK_LIST)?;
            if root == 0 {
                continue;
            }
            for e in self.post_order(root)? {
                if (self.st.u64(e + E_HASH)? >> self.cbits) & mask == target {
                    self.take_off(src, e)?;
                    self.insert(dst, e)?;
                }
            }
        }
        self.st.set_u64(upper + KI_ASSIGN, KINDEX_ASSIGNED)
    }

    /// Elements of a tree in the original's migration order: same, small, big, then self.
    fn post_order(&self, root: u64) -> Result<Vec<u64>> {
        let limit = self.st.valid_len() / ELEMENT_SIZE + 1;
        let mut out = Vec::new();
        let mut stack = vec![(root, false)];
        while let Some((e, expanded)) = stack.pop() {
            if expanded {
                out.push(e);
                continue;
            }
            if out.len() as u64 + stack.len() as u64 > limit {
                return corrupt("element tree has a cycle");
            }
            stack.push((e, true));
            for f in [E_BIG, E_SMALL, E_SAME] {
                let c = self.link(e, f)?;
                if c != 0 && c != e {
                    stack.push((c, false));
                }
            }
        }
        Ok(out)
    }

    /// Grow the key index by one bit (exclusive structure lock held by the caller).
    fn expand_kindex(&self) -> Result<()> {
        let cur = self.st.u64(H_CUR_MASK)?;
        if cur >= MAX_MASK {
            return Ok(());
        }
        let b = mask_bits(cur) as u64;
        let n = 1u64 << b;
        let _a = self.locks.write(ALLOC_LOCK);
        let cki = self.add_area(AREA_CKINDEX, CKINDEX_SIZE * n * (self.cmask + 1))?;
        let ki = self.add_area(AREA_KINDEX, KINDEX_SIZE * n)?;
        let newmask = (cur << 1) | 1;
        let shifted = newmask << self.cbits;
        let mut buf = vec![0u8; (KINDEX_SIZE * n) as usize];
        for j in 0..n {
            let o = (j * KINDEX_SIZE) as usize;
            buf[o + 8..o + 16].copy_from_slice(&shifted.to_le_bytes());
            buf[o + 16..o + 24].copy_from_slice(&(((n + j) << self.cbits) & shifted).to_le_bytes());
            let ck = cki + j * CKINDEX_SIZE * (self.cmask + 1);
            buf[o + 24..o + 32].copy_from_slice(&ck.to_le_bytes());
        }
        self.st.write(ki, &buf)?;
        self.st.set_u64(H_KEY_INDEX_AREA + 8 * (b + 1), ki)?;
        self.st.set_u64(H_CUR_MASK, newmask)?;
        Ok(())
    }

    fn maybe_expand(&self, ck: u64) -> Result<()> {
        let max = self.st.u64(H_MAX_ELEMENT_COUNT)?;
        if self.st.u64(ck + CK_COUNT)? <= max || self.st.u64(H_CUR_MASK)? >= MAX_MASK {
            return Ok(());
        }
        let _g = self.locks.write(STRUCT_LOCK);
        // Trust the counter only after recounting the tree (a damaged counter would otherwise
        // grow the key index on every insert).
        let root = self.root(ck)?;
        let elems = if root == 0 {
            Vec::new()
        } else {
            self.post_order(root)?
        };
        let actual = elems.len() as u64;
        if actual != self.st.u64(ck + CK_COUNT)? {
            log::warn!("collision index {ck:#x}: element count repaired to {actual}");
            self.st.set_u64(ck + CK_COUNT, actual)?;
        }
        // Growing only helps when the hash bits above the current mask tell the elements apart;
        // equal hashes (duplicates from rename, or hostile keys) would grow the index forever.
        let shift = self.cbits + mask_bits(self.st.u64(H_CUR_MASK)?);
        let mut high = elems.iter().map(|&e| {
            self.st
                .u64(e + E_HASH)
                .map(|h| h.checked_shr(shift).unwrap_or(0))
        });
        let first = high.next().transpose()?;
        let mut splits = false;
        for h in high {
            if Some(h?) != first {
                splits = true;
                break;
            }
        }
        if actual > max && splits {
            self.expand_kindex()?;
        }
        Ok(())
    }

    // ------------------------------------------------------------------ locking helpers

    /// Run `f` with the CKINDEX of `h` locked (shared or exclusive).
    fn with_slot<R>(&self, h: u64, write: bool, f: impl FnOnce(u64) -> Result<R>) -> Result<R> {
        let merge = !self.is_readonly();
        loop {
            let g = self.locks.read(STRUCT_LOCK);
            let ki = match self.resolve(h, merge)? {
                Some(k) => k,
                None => {
                    drop(g);
                    self.merge(h)?;
                    continue;
                }
            };
            let ck = self.ckindex(ki, h)?;
            let slot = LockTable::stripe(ck);
            let s = if write {
                self.locks.write(slot)
            } else {
                self.locks.read(slot)
            };
            if self.repair_due(2) {
                drop((s, g));
                self.repair()?;
                continue;
            }
            return f(ck);
        }
    }

    /// Whether the caller, holding just the `mine` locks of the operation it is starting,
    /// should drop them and run the repair that follows a writer's death first. Only a thread
    /// that holds no other lock can take them all; one inside a larger change leaves the
    /// repair to the next operation.
    #[inline]
    fn repair_due(&self, mine: u32) -> bool {
        self.locks.repair_pending().is_some() && !self.is_readonly() && crate::lock::held() == mine
    }

    fn with_two_slots<R>(
        &self,
        h1: u64,
        h2: u64,
        f: impl FnOnce(u64, u64) -> Result<R>,
    ) -> Result<R> {
        loop {
            let g = self.locks.read(STRUCT_LOCK);
            let (k1, k2) = match (self.resolve(h1, true)?, self.resolve(h2, true)?) {
                (Some(a), Some(b)) => (a, b),
                (a, _) => {
                    drop(g);
                    self.merge(if a.is_none() { h1 } else { h2 })?;
                    continue;
                }
            };
            let c1 = self.ckindex(k1, h1)?;
            let c2 = self.ckindex(k2, h2)?;
            let (s1, s2) = (LockTable::stripe(c1), LockTable::stripe(c2));
            let a = self.locks.write(s1.min(s2));
            let b = if s1 != s2 {
                Some(self.locks.write(s1.max(s2)))
            } else {
                None
            };
            if self.repair_due(2 + b.is_some() as u32) {
                drop((b, a, g));
                self.repair()?;
                continue;
            }
            return f(c1, c2);
        }
    }

    // ------------------------------------------------------------------ element tree

    fn loop_limit(&self) -> u64 {
        self.st.valid_len() / ELEMENT_SIZE + 2
    }

    fn find_in(&self, ck: u64, h: u64, s: u64, key: &[u8]) -> Result<Option<u64>> {
        let mut e = self.root(ck)?;
        let limit = self.loop_limit();
        let mut n = 0u64;
        while e != 0 {
            n += 1;
            if n > limit {
                return corrupt("element tree has a cycle");
            }
            let es = self.st.u64(e + E_SUBHASH)?;
            if es == s {
                break;
            }
            e = self.link(e, if s < es { E_SMALL } else { E_BIG })?;
        }
        while e != 0 {
            n += 1;
            if n > limit {
                return corrupt("element chain has a cycle");
            }
            if self.st.u64(e + E_HASH)? == h && self.key_eq(e, key)? {
                return Ok(Some(e));
            }
            e = self.link(e, E_SAME)?;
        }
        Ok(None)
    }

    /// Remember where the key of key hash `ch` (`rcache::key_hash`) now is: element `e` (just
    /// read or written).
    #[inline]
    fn hint(&self, ch: u64, e: u64) {
        if let Some(hs) = &self.hints {
            hs.put(ch, e, self.st.u64(e + E_VALUE).unwrap_or(0));
        }
    }

    fn key_eq(&self, e: u64, key: &[u8]) -> Result<bool> {
        if self.st.u64(e + E_KEYLEN)? != key.len() as u64 {
            return Ok(false);
        }
        let mut p = self.st.u64(e + E_KEY)?;
        let mut rest = key;
        while p != 0 && !rest.is_empty() {
            let len = self.st.pg_u64(p + P_LENGTH)?;
            if len > self.payload || len as usize > rest.len() {
                return Ok(false);
            }
            if !self.st.pg_eq(p + PAGEHEAD_SIZE, &rest[..len as usize])? {
                return Ok(false);
            }
            rest = &rest[len as usize..];
            p = self.st.pg_u64(p + P_NEXT)?;
        }
        Ok(rest.is_empty())
    }

    /// Insert an element into the tree of `ck` and count it.
    fn insert(&self, ck: u64, e: u64) -> Result<()> {
        for f in [E_SMALL, E_BIG, E_SAME, E_PARENT] {
            self.st.set_u64(e + f, 0)?;
        }
        let s = self.st.u64(self.check_elem(e)? + E_SUBHASH)?;
        let root = self.root(ck)?;
        if root == 0 {
            self.st.set_u64(ck + CK_LIST, e)?;
        } else {
            self.hang(root, e, s)?;
        }
        let c = self.st.u64(ck + CK_COUNT)?;
        self.st.set_u64(ck + CK_COUNT, c + 1)
    }

    /// Hang the subtree rooted at `e` (subhash `s`) below `root`.
    fn hang(&self, root: u64, e: u64, s: u64) -> Result<()> {
        let mut cur = root;
        let limit = self.loop_limit();
        for _ in 0..limit {
            let cs = self.st.u64(cur + E_SUBHASH)?;
            let field = if cs == s {
                // append at the end of the same chain
                let mut t = cur;
                let mut n = 0;
                loop {
                    let nx = self.link(t, E_SAME)?;
                    if nx == 0 {
                        break;
                    }
                    n += 1;
                    if n > limit {
                        return corrupt("element chain has a cycle");
                    }
                    t = nx;
                }
                self.st.set_u64(t + E_SAME, e)?;
                return self.st.set_u64(e + E_PARENT, t);
            } else if s < cs {
                E_SMALL
            } else {
                E_BIG
            };
            let next = self.link(cur, field)?;
            if next == 0 {
                self.st.set_u64(cur + field, e)?;
                return self.st.set_u64(e + E_PARENT, cur);
            }
            cur = next;
        }
        corrupt("element tree has a cycle")
    }

    /// Find the link that points at `e`: (address of the link, owner element or 0 for the root).
    fn locate(&self, ck: u64, e: u64) -> Result<Option<(u64, u64)>> {
        let s = self.st.u64(e + E_SUBHASH)?;
        let mut link = ck + CK_LIST;
        let mut owner = 0u64;
        let limit = self.loop_limit();
        for _ in 0..limit {
            let cur = match self.st.u64(link)? {
                0 => return Ok(None),
                v => self.check_elem(v)?,
            };
            if cur == e {
                return Ok(Some((link, owner)));
            }
            let cs = self.st.u64(cur + E_SUBHASH)?;
            if cs == s {
                let mut t = cur;
                for _ in 0..limit {
                    let nx = self.link(t, E_SAME)?;
                    if nx == 0 {
                        return Ok(None);
                    }
                    if nx == e {
                        return Ok(Some((t + E_SAME, t)));
                    }
                    t = nx;
                }
                return corrupt("element chain has a cycle");
            }
            owner = cur;
            link = cur + if s < cs { E_SMALL } else { E_BIG };
        }
        corrupt("element tree has a cycle")
    }

    /// Unlink `e` from the tree of `ck` and uncount it.
    fn take_off(&self, ck: u64, e: u64) -> Result<()> {
        let Some((link, owner)) = self.locate(ck, e)? else {
            return corrupt("element is not in its collision index");
        };
        let small = self.link(e, E_SMALL)?;
        let big = self.link(e, E_BIG)?;
        let same = self.link(e, E_SAME)?;
        if same != 0 {
            self.st.set_u64(link, same)?;
            self.st.set_u64(same + E_PARENT, owner)?;
            self.st.set_u64(same + E_SMALL, small)?;
            self.st.set_u64(same + E_BIG, big)?;
            for c in [small, big] {
                if c != 0 {
                    self.st.set_u64(c + E_PARENT, same)?;
                }
            }
        } else if small != 0 && big != 0 {
            self.st.set_u64(link, big)?;
            self.st.set_u64(big + E_PARENT, owner)?;
            let root = self.root(ck)?;
            let ss = self.st.u64(small + E_SUBHASH)?;
            self.hang(root, small, ss)?;
        } else if small != 0 || big != 0 {
            let c = small | big;
            self.st.set_u64(link, c)?;
            self.st.set_u64(c + E_PARENT, owner)?;
        } else {
            self.st.set_u64(link, 0)?;
        }
        for f in [E_SMALL, E_BIG, E_PARENT, E_SAME] {
            self.st.set_u64(e + f, 0)?;
        }
        let c = self.st.u64(ck + CK_COUNT)?;
        let c = if self.st.u64(ck + CK_LIST)? == 0 {
            0
        } else {
            c.saturating_sub(1)
        };
        self.st.set_u64(ck + CK_COUNT, c)
    }

    fn touch(&self) -> Result<()> {
        let (s, ns) = now_coarse();
        self.st.set_u64(H_LAST_UPDATE, s as u64)?;
        self.st.set_u64(H_LAST_UPDATE + 8, (ns / 1000) as u64)
    }

    // ------------------------------------------------------------------ public operations

    fn check_key(key: &[u8]) -> Result<()> {
        if key.is_empty() {
            return invalid("empty key");
        }
        Ok(())
    }

    /// Whether values read may be cached (`cache_value`, `cached_value`).
    #[inline]
    pub fn caches(&self) -> bool {
        self.rcache.is_some()
    }

    /// The cached value of `key` (cache hash `ch`, `rcache::key_hash`) written into `out`, if
    /// a record of it exists and nothing was written under its stripe or to the structure since
    /// it was read.
    #[inline]
    pub fn cached_value(&self, key: &[u8], ch: u64, out: &mut impl ValueOut) -> Found {
        let Some(c) = &self.rcache else {
            return Found::Miss;
        };
        c.lookup(
            key,
            ch,
            |t| {
                let sv = self.locks.struct_version();
                let gen = self.locks.write_gen(t.slot as usize);
                if sv != t.sv {
                    Err(0) // the structure changed: nothing about this key in particular
                } else if gen != t.gen {
                    Err((gen.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ sv ^ t.slot << 48).max(1))
                } else {
                    Ok(())
                }
            },
            out,
        )
    }

    /// Remember `value`, the value of an element without attributes read under `tag`.
    pub fn cache_value(&self, key: &[u8], ch: u64, tag: Tag, value: &[u8]) {
        if let Some(c) = &self.rcache {
            c.insert(key, ch, tag, value, self.st.valid_len());
        }
    }

    pub fn exists(&self, key: &[u8]) -> Result<bool> {
        Ok(self.get(key, Parts::NONE)?.is_some())
    }

    /// Look at the current element (all parts) and apply the change `f` decides on, atomically
    /// under the element's lock. Returns the previous element.
    pub fn modify(
        &self,
        key: &[u8],
        f: impl FnOnce(Option<&Element>) -> Result<Change>,
    ) -> Result<Option<Element>> {
        let (h, s) = hash::hashes(key);
        self.modify_hashed(key, h, s, f)
    }

    /// `modify` with the hashes given instead of computed (replication keeps the sender's).
    pub fn modify_hashed(
        &self,
        key: &[u8],
        h: u64,
        s: u64,
        f: impl FnOnce(Option<&Element>) -> Result<Change>,
    ) -> Result<Option<Element>> {
        self.modify_inner(key, h, s, Parts::ALL, f)
    }

    /// `modify` reading only `parts` of the existing element for `f` (the others are empty in
    /// what `f` sees); for changes that keep the other parts (`Change::Replace`).
    pub fn modify_parts(
        &self,
        key: &[u8],
        parts: Parts,
        f: impl FnOnce(Option<&Element>) -> Result<Change>,
    ) -> Result<Option<Element>> {
        let (h, s) = hash::hashes(key);
        self.modify_inner(key, h, s, parts, f)
    }

    fn modify_inner(
        &self,
        key: &[u8],
        h: u64,
        s: u64,
        parts: Parts,
        f: impl FnOnce(Option<&Element>) -> Result<Change>,
    ) -> Result<Option<Element>> {
        Self::check_key(key)?;
        if self.is_readonly() {
            return Err(K2hError::ReadOnly);
        }
        // where the new element's hint goes, computed now: it runs beside the store's hashes
        // and the lock instead of after the insert
        let ch = rcache::key_hash(key);
        let mut grew = None;
        let old = self.with_slot(h, true, |ck| {
            let e = self.find_in(ck, h, s, key)?;
            let old = match e {
                Some(e) => Some(self.read_parts(e, parts)?),
                None => None,
            };
            match f(old.as_ref())? {
                Change::Keep => return Ok(old),
                Change::Delete => {
                    if let Some(e) = e {
                        self.take_off(ck, e)?;
                        self.free_element(e)?;
                    }
                }
                Change::Set(el) => {
                    if let Some(e) = e {
                        self.take_off(ck, e)?;
                        self.free_element(e)?;
                    }
                    let ne = self.new_element(h, s, key, &el)?;
                    self.insert(ck, ne)?;
                    self.hint(ch, ne);
                    grew = Some(ck);
                }
                Change::Replace {
                    value,
                    subkeys,
                    attrs,
                } => match e {
                    Some(e) => {
                        if let Some(v) = value {
                            self.replace_part(e, E_VALUE, E_VALLEN, &v)?;
                        }
                        if let Some(sk) = subkeys {
                            self.replace_part(e, E_SUBKEYS, E_SKEYLEN, &sk)?;
                        }
                        if let Some(a) = attrs {
                            self.replace_part(e, E_ATTRS, E_ATTRLEN, &a)?;
                        }
                    }
                    None => {
                        let el = Element {
                            value: value.unwrap_or_default(),
                            subkeys: subkeys.unwrap_or_default(),
                            attrs: attrs.unwrap_or_default(),
                        };
                        let ne = self.new_element(h, s, key, &el)?;
                        self.insert(ck, ne)?;
                        self.hint(ch, ne);
                        grew = Some(ck);
                    }
                },
            }
            self.touch()?;
            Ok(old)
        })?;
        if let Some(ck) = grew {
            self.maybe_expand(ck)?;
        }
        Ok(old)
    }

    /// Store a whole element (value, serialized subkeys and attributes) under `key`.
    pub fn set(&self, key: &[u8], el: Element) -> Result<Option<Element>> {
        self.modify(key, |_| Ok(Change::Set(el)))
    }

    /// Move the element of `old` to the name `new` (value, subkeys and attributes move along).
    /// Like the original, an existing `new` is not replaced: a second element is inserted.
    pub fn rename(&self, old: &[u8], new: &[u8]) -> Result<bool> {
        Self::check_key(old)?;
        Self::check_key(new)?;
        if self.is_readonly() {
            return Err(K2hError::ReadOnly);
        }
        let (oh, os) = hash::hashes(old);
        let (nh, ns) = hash::hashes(new);
        let mut grew = None;
        let found = self.with_two_slots(oh, nh, |ock, nck| {
            let Some(e) = self.find_in(ock, oh, os, old)? else {
                return Ok(false);
            };
            let ne = self.new_element(nh, ns, new, &Element::default())?;
            for (p, l) in [
                (E_VALUE, E_VALLEN),
                (E_SUBKEYS, E_SKEYLEN),
                (E_ATTRS, E_ATTRLEN),
            ] {
                self.st.set_u64(ne + p, self.st.u64(e + p)?)?;
                self.st.set_u64(ne + l, self.st.u64(e + l)?)?;
                self.st.set_u64(e + p, 0)?;
            }
            self.take_off(ock, e)?;
            self.free_element(e)?;
            self.insert(nck, ne)?;
            grew = Some(nck);
            self.touch()?;
            Ok(true)
        })?;
        if let Some(ck) = grew {
            self.maybe_expand(ck)?;
        }
        Ok(found)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
            if reg.get(&id).map(|w| w.strong_count() == 0).unwrap_or(false) {
                reg.remove(&id);
            }
        }
        self.st.sync();
        if self.temp {
            if let Some(p) = &self.path {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The element of `key`, found by a walk of its tree.
    fn walk(db: &Db, key: &[u8]) -> u64 {
        let (h, s) = hash::hashes(key);
        db.read_slot(h, |ck| {
            assert!(db.is_ckindex(ck));
            db.find_in(ck, h, s, key)
        })
        .expect("walk")
        .expect("stored")
    }

    /// A damaged element (its key chain loops, its key length is a lie) among the hinted ones
    /// when the table doubles: the move reads no more than the key length allows and goes on.
    #[test]
    fn growth_gets_past_an_element_whose_key_chain_loops() {
        let db = Db::memory(Layout::default()).expect("memory store");
        let Some(hs) = &db.hints else {
            return;
        };
        let el = || Element {
            value: vec![b'v'; 100],
            ..Default::default()
        };
        db.set(b"damaged", el()).expect("set");
        let e = walk(&db, b"damaged");
        let kp = db.st.u64(e + E_KEY).expect("key page");
        db.st.set_u64(kp + P_NEXT, kp).expect("loop");
        db.st.set_u64(e + E_KEYLEN, 4000).expect("length");
        let start = hs.bits();
        for i in 0..20_000u32 {
            db.set(format!("key-{i}").as_bytes(), el()).expect("set");
        }
        db.refresh_areas(db.locks.area_epoch());
        assert!(hs.bits() > start);
        let v = db
            .get(b"key-19999", Parts::ALL)
            .expect("read")
            .expect("stored");
        assert_eq!(v.value, vec![b'v'; 100]);
    }

    /// Enough keys for the hint table to double several times, each time moving its hints by
    /// the keys their elements hold: afterwards nearly every key still has its hint (a few may
    /// have been pushed out of a full set, or be shadowed by another key's hint with the same
    /// tag), and every hint found names either the element a walk finds, with its value's first
    /// page, or an element of another key.
    #[test]
    fn hints_follow_the_table_as_it_doubles() {
        let db = Db::memory(Layout::default()).expect("memory store");
        let Some(hs) = &db.hints else {
            return; // K2H_LOCATION_HINTS=0
        };
        let n = 20_000u32;
        let start = hs.bits();
        for i in 0..n {
            let el = Element {
                value: vec![b'v'; 100],
                ..Default::default()
            };
            db.set(format!("key-{i}").as_bytes(), el).expect("set");
        }
        // another process may grow a store too: the table follows when the areas are read again
        db.refresh_areas(db.locks.area_epoch());
        assert!(hs.bits() >= start + 4, "{start} -> {}", hs.bits());
        let mut held = 0;
        for i in 0..n {
            let key = format!("key-{i}");
            let (h, _) = hash::hashes(key.as_bytes());
            let e = walk(&db, key.as_bytes());
            match hs.get(rcache::key_hash(key.as_bytes())) {
                Some(hint) if hint.0 == e => {
                    assert_eq!(hint.1, db.st.u64(e + E_VALUE).expect("element"), "key {i}");
                    held += 1;
                }
                // another key of the set with the same 10-bit tag: the check turns it down
                Some(hint) => assert_ne!(db.st.u64(hint.0 + E_HASH).ok(), Some(h), "key {i}"),
                None => {}
            }
        }
        assert!(held * 100 >= n * 97, "{held} of {n} keys have their hint");
    }
}
