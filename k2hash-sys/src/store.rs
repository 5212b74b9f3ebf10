//! Backing storage of one k2hash: memory (memory mode) or a file.
//!
//! The data is mapped once, contiguously, with room to grow (`MAP_SHARED | MAP_NORESERVE`, four
//! times the size at attach, at least 1 MiB). When the data outgrows that room (by us or by
//! another process), the whole file is mapped again with room for four times its new size and
//! the new mapping becomes current; earlier mappings stay in place until the store is dropped,
//! so a reader still working through an old address is never cut off. A store thus takes
//! address space in proportion to its size: a process can keep thousands of stores open (a
//! fixed 1 TiB window per file ran out of the 128 TiB of user space at 127 files).
//! Memory mode keeps its data in a memfd, so it can be mapped again the same way.
//!
//! Every access is bounds-checked against the valid length, refreshed with `fstat` on a miss, so
//! a corrupt offset yields an error instead of SIGBUS. The valid length never exceeds the
//! current mapping (a larger mapping is published before the length). In partial-mapping mode
//! (`fullmap=false`) accesses to data pages go through `pread`/`pwrite` as in the original; the
//! index and element areas are always accessed through the mapping.
use crate::error::{corrupt, K2hError, Result};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::io::{AsRawFd, FromRawFd};
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// Largest store (1 PiB); growth beyond is refused.
const MAX_SIZE: u64 = 1 << 50;
/// Smallest mapping.
const MIN_MAP: u64 = 1 << 20;

pub struct Store {
    /// Start of the current mapping; `valid` bytes from it are always mapped.
    base: AtomicPtr<u8>,
    valid: AtomicU64,
    /// Size of the current mapping.
    cap: AtomicU64,
    /// Every mapping made (address, length), unmapped on drop.
    maps: parking_lot::Mutex<Vec<(usize, usize)>>,
    file: File,
    memory: bool,
    readonly: bool,
    fullmap: bool,
}

// SAFETY: the mappings are process-shared memory whose concurrent use is coordinated by the
// k2hash lock table; mappings are only added while the store lives and unmapped on drop.
unsafe impl Send for Store {}
// SAFETY: see above; all accesses go through bounds-checked methods.
unsafe impl Sync for Store {}

/// The little-endian word at `p` (the file's byte order). Other threads and processes may
/// write it meanwhile: an aligned word (every field of a sound store) is one relaxed atomic
/// load, a single instruction; a misaligned one (only at offsets a damaged store points to)
/// eight volatile byte loads, never merged with other reads by the compiler either way. (A
/// volatile load of `[u8; 8]` was compiled into eight byte loads and their shifts even when
/// aligned: a fifth of the instructions of a read.)
///
/// # Safety
/// `p..p + 8` must be mapped and readable.
#[inline(always)]
unsafe fn load_le64(p: *const u8) -> u64 {
    if (p as usize).is_multiple_of(8) {
        // SAFETY: aligned and mapped (the caller); an AtomicU64 has the layout of a u64.
        u64::from_le(unsafe { (*(p as *const AtomicU64)).load(Ordering::Relaxed) })
    } else {
        // SAFETY: mapped (the caller); no alignment needed for bytes.
        u64::from_le_bytes(unsafe { std::ptr::read_volatile(p as *const [u8; 8]) })
    }
}

/// Store `v` at `p` little-endian (see `load_le64`).
///
/// # Safety
/// `p..p + 8` must be mapped and writable.
#[inline(always)]
unsafe fn store_le64(p: *mut u8, v: u64) {
    if (p as usize).is_multiple_of(8) {
        // SAFETY: aligned, mapped and writable (the caller).
        unsafe { (*(p as *const AtomicU64)).store(v.to_le(), Ordering::Relaxed) }
    } else {
        // SAFETY: mapped and writable (the caller).
        unsafe { std::ptr::write_volatile(p as *mut [u8; 8], v.to_le_bytes()) }
    }
}

/// Mapping size for data of `len` bytes: room to grow four times.
fn room_for(len: u64) -> u64 {
    len.saturating_mul(4)
        .clamp(MIN_MAP, MAX_SIZE)
        .next_power_of_two()
}

impl Store {
    fn new(file: File, len: u64, memory: bool, readonly: bool, fullmap: bool) -> Result<Store> {
        let st = Store {
            base: AtomicPtr::new(std::ptr::null_mut()),
            valid: AtomicU64::new(0),
            cap: AtomicU64::new(0),
            maps: parking_lot::const_mutex(Vec::new()),
            file,
            memory,
            readonly,
            fullmap,
        };
        st.ensure_mapped(len)?;
        st.valid.store(len, Ordering::Release);
        Ok(st)
    }

    /// Memory of `initial` valid bytes (zero filled), in a memfd.
    pub fn memory(initial: u64) -> Result<Store> {
        if initial > MAX_SIZE {
            return Err(K2hError::NoSpace("memory k2hash too large".into()));
        }
        // SAFETY: memfd_create with a constant name; the descriptor is owned by the File below.
        let fd = unsafe { libc::memfd_create(c"k2hash".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let f = unsafe { File::from_raw_fd(fd) };
        f.set_len(initial)?;
        Store::new(f, initial, true, false, true)
    }

    /// Map an open file (its current length is the valid length).
    pub fn file(file: File, readonly: bool, fullmap: bool) -> Result<Store> {
        let len = file.metadata()?.len();
        Store::new(file, len, false, readonly, fullmap)
    }

    /// Make sure the current mapping covers `len` bytes, mapping the file again if not.
    fn ensure_mapped(&self, len: u64) -> Result<()> {
        if len <= self.cap.load(Ordering::Acquire) {
            return Ok(());
        }
        if len > MAX_SIZE {
            return Err(K2hError::NoSpace(format!(
                "k2hash would exceed {MAX_SIZE} bytes"
            )));
        }
        let mut maps = self.maps.lock();
        if len <= self.cap.load(Ordering::Acquire) {
            return Ok(());
        }
        let size = room_for(len);
        let prot = if self.readonly {
            libc::PROT_READ
        } else {
            libc::PROT_READ | libc::PROT_WRITE
        };
        // SAFETY: a new shared mapping of our own descriptor with no address hint; checked
        // below. Bytes beyond the end of the file are never touched (valid <= file length).
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size as usize,
                prot,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                self.file.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error().into());
        }
        maps.push((p as usize, size as usize));
        self.base.store(p as *mut u8, Ordering::Release);
        self.cap.store(size, Ordering::Release);
        Ok(())
    }

    /// Address of `off` in the current mapping (the caller checked the bounds).
    #[inline(always)]
    fn at(&self, off: u64) -> *mut u8 {
        // SAFETY: off < valid <= the size of the current mapping (checked by the caller).
        unsafe { self.base.load(Ordering::Acquire).add(off as usize) }
    }

    pub fn is_readonly(&self) -> bool {
        self.readonly
    }
    /// Memory mode: the mapping only grows, no offset ever read stops being mapped.
    pub fn is_memory(&self) -> bool {
        self.memory
    }
    pub fn is_fullmap(&self) -> bool {
        self.fullmap
    }
    /// Address of the mapping (used only for printing, as the original dump shows addresses).
    pub fn base_addr(&self) -> usize {
        self.base.load(Ordering::Acquire) as usize
    }

    #[inline(always)]
    pub fn valid_len(&self) -> u64 {
        self.valid.load(Ordering::Acquire)
    }

    /// The valid length after re-reading the file size (another process may have grown it).
    pub fn refreshed_len(&self) -> u64 {
        self.refresh()
    }

    fn refresh(&self) -> u64 {
        if !self.memory {
            if let Ok(m) = self.file.metadata() {
                let l = m.len().min(MAX_SIZE);
                if l > self.valid_len() && self.ensure_mapped(l).is_ok() {
                    self.valid.fetch_max(l, Ordering::AcqRel);
                }
            }
        }
        self.valid_len()
    }

    #[inline(always)]
    fn check(&self, off: u64, len: u64) -> Result<()> {
        match off.checked_add(len) {
            Some(end) if end <= self.valid_len() => Ok(()),
            _ => self.check_slow(off, len),
        }
    }

    /// Beyond the known valid length: re-read the file size once (another process may have
    /// grown the file), else it is a corrupt offset.
    #[cold]
    #[inline(never)]
    fn check_slow(&self, off: u64, len: u64) -> Result<()> {
        let end = off
            .checked_add(len)
            .ok_or_else(|| K2hError::Corrupt(format!("offset overflow {off:#x}")))?;
        if end <= self.refresh() {
            Ok(())
        } else {
            corrupt(format!(
                "offset {off:#x}+{len} beyond the end of the data ({:#x})",
                self.valid_len()
            ))
        }
    }

    #[inline]
    fn check_write(&self, off: u64, len: u64) -> Result<()> {
        if self.readonly {
            return Err(K2hError::ReadOnly);
        }
        self.check(off, len)
    }

    #[inline(always)]
    pub fn u64(&self, off: u64) -> Result<u64> {
        self.check(off, 8)?;
        // SAFETY: bounds checked above: 8 bytes of our mapping.
        Ok(unsafe { load_le64(self.at(off)) })
    }

    #[inline(always)]
    pub fn set_u64(&self, off: u64, v: u64) -> Result<()> {
        self.check_write(off, 8)?;
        // SAFETY: bounds checked and the mapping is writable (not read-only).
        unsafe { store_le64(self.at(off), v) };
        Ok(())
    }

    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        self.check(off, buf.len() as u64)?;
        // SAFETY: bounds checked; source lies inside the mapping, destination is a Rust slice.
        unsafe { std::ptr::copy_nonoverlapping(self.at(off), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    pub fn write(&self, off: u64, data: &[u8]) -> Result<()> {
        self.check_write(off, data.len() as u64)?;
        // SAFETY: bounds checked and writable mapping.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.at(off), data.len()) };
        Ok(())
    }

    /// The mapped bytes as they are now, for a run of reads that each check their bounds
    /// against one length (`View`); None in partial mapping mode, where pages are not mapped.
    /// The store may grow meanwhile (the view then sees the part that was valid when taken);
    /// the caller keeps it from shrinking (a file shrinks only under every stripe lock).
    #[inline(always)]
    pub fn view(&self) -> Option<View<'_>> {
        if !self.fullmap {
            return None;
        }
        // the length first: a mapping taken after it covers it (growth maps before it moves
        // the length on, and no mapping is unmapped while the store lives)
        let len = self.valid_len();
        let base = self.base.load(Ordering::Acquire);
        Some(View {
            base,
            len,
            _store: std::marker::PhantomData,
        })
    }

    /// Ask for the line of `off` (a hint; nothing when it is not mapped).
    #[inline(always)]
    pub fn prefetch(&self, off: u64) {
        if off < self.valid_len() {
            crate::rcache::prefetch(self.at(off) as *const std::sync::atomic::AtomicU64);
        }
    }

    /// `prefetch` for a data page (nothing in partial mapping mode, where pages are read).
    #[inline(always)]
    pub fn pg_prefetch(&self, off: u64) {
        if self.fullmap {
            self.prefetch(off);
        }
    }

    // ---- data page access: pread/pwrite in partial mapping mode ----

    #[inline]
    fn page_io(&self) -> Option<&File> {
        if self.fullmap {
            None
        } else {
            Some(&self.file)
        }
    }

    #[inline(always)]
    pub fn pg_u64(&self, off: u64) -> Result<u64> {
        match self.page_io() {
            None => self.u64(off),
            Some(f) => {
                self.check(off, 8)?;
                let mut b = [0u8; 8];
                f.read_exact_at(&mut b, off)?;
                Ok(u64::from_le_bytes(b))
            }
        }
    }

    pub fn pg_set_u64(&self, off: u64, v: u64) -> Result<()> {
        match self.page_io() {
            None => self.set_u64(off, v),
            Some(f) => {
                self.check_write(off, 8)?;
                f.write_all_at(&v.to_le_bytes(), off)?;
                Ok(())
            }
        }
    }

    /// Append `len` bytes at `off` to `out` (no zero-filling first in mapped mode).
    #[inline]
    pub fn pg_extend(&self, off: u64, len: usize, out: &mut Vec<u8>) -> Result<()> {
        if self.page_io().is_none() {
            self.check(off, len as u64)?;
            // SAFETY: bounds checked; a shared read-only view of mapped bytes, copied at once.
            out.extend_from_slice(unsafe { std::slice::from_raw_parts(self.at(off), len) });
            return Ok(());
        }
        let at = out.len();
        out.resize(at + len, 0);
        self.pg_read(off, &mut out[at..])
    }

    pub fn pg_read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        match self.page_io() {
            None => self.read(off, buf),
            Some(f) => {
                self.check(off, buf.len() as u64)?;
                f.read_exact_at(buf, off)?;
                Ok(())
            }
        }
    }

    /// Whether the bytes at `off` equal `data` (no copy in mapped mode).
    pub fn pg_eq(&self, off: u64, data: &[u8]) -> Result<bool> {
        match self.page_io() {
            None => {
                self.check(off, data.len() as u64)?;
                // SAFETY: bounds checked; a shared read-only view of mapped bytes that is only
                // compared (other processes may write them, as with every read of the mapping).
                let mapped = unsafe { std::slice::from_raw_parts(self.at(off), data.len()) };
                Ok(mapped == data)
            }
            Some(f) => {
                self.check(off, data.len() as u64)?;
                let mut buf = [0u8; 256];
                let mut done = 0;
                while done < data.len() {
                    let n = (data.len() - done).min(buf.len());
                    f.read_exact_at(&mut buf[..n], off + done as u64)?;
                    if buf[..n] != data[done..done + n] {
                        return Ok(false);
                    }
                    done += n;
                }
                Ok(true)
            }
        }
    }

    pub fn pg_write(&self, off: u64, data: &[u8]) -> Result<()> {
        match self.page_io() {
            None => self.write(off, data),
            Some(f) => {
                self.check_write(off, data.len() as u64)?;
                f.write_all_at(data, off)?;
                Ok(())
            }
        }
    }

    /// Make `[old end, new_len)` valid and zero filled.
    pub fn grow_to(&self, new_len: u64) -> Result<()> {
        if self.readonly {
            return Err(K2hError::ReadOnly);
        }
        self.ensure_mapped(new_len)?;
        // Memory never shrinks, so its file only ever grows; a file may have been grown by
        // another process already.
        if self.file.metadata()?.len() < new_len {
            self.file.set_len(new_len)?;
        }
        self.valid.fetch_max(new_len, Ordering::AcqRel);
        Ok(())
    }

    /// Zero `[off, off+len)` (used when an area reuses space beyond `unassign_area`).
    /// Shorten a file to `len` (compaction); memory keeps its pages and reads them as data again
    /// only after `grow_to` zeroes them.
    pub fn shrink_to(&self, len: u64) -> Result<()> {
        if self.readonly {
            return Err(K2hError::ReadOnly);
        }
        if !self.memory {
            self.file.set_len(len)?;
            self.valid.store(len, Ordering::Release);
        }
        Ok(())
    }

    pub fn zero(&self, off: u64, len: u64) -> Result<()> {
        const CH: usize = 1 << 16;
        let z = vec![0u8; CH.min(len as usize)];
        let mut o = off;
        let end = off + len;
        while o < end {
            let n = ((end - o) as usize).min(CH);
            self.pg_write(o, &z[..n])?;
            o += n as u64;
        }
        Ok(())
    }

    pub fn sync(&self) {
        if self.memory || self.readonly {
            return;
        }
        // SAFETY: msync over the valid part of the current mapping.
        unsafe {
            libc::msync(
                self.base.load(Ordering::Acquire) as *mut libc::c_void,
                self.valid_len() as usize,
                libc::MS_ASYNC,
            )
        };
    }
}

/// Bounds-checked reads of a store's mapping with its address and length loaded once
/// (`Store::view`): what a read of one element and its pages does a few dozen times. Every
/// read answers None when it would leave the mapped length.
pub struct View<'a> {
    base: *const u8,
    len: u64,
    _store: std::marker::PhantomData<&'a Store>,
}

impl View<'_> {
    /// The length the view was taken at.
    #[inline(always)]
    pub fn mapped_len(&self) -> u64 {
        self.len
    }

    #[inline(always)]
    fn range(&self, off: u64, n: u64) -> Option<*const u8> {
        match off.checked_add(n) {
            // SAFETY: off + n <= len, the valid length when the view was taken, all mapped.
            Some(end) if end <= self.len => Some(unsafe { self.base.add(off as usize) }),
            _ => None,
        }
    }

    #[inline(always)]
    pub fn u64(&self, off: u64) -> Option<u64> {
        let p = self.range(off, 8)?;
        // SAFETY: 8 bytes in the mapping (`range`).
        Some(unsafe { load_le64(p) })
    }

    /// Whether the bytes at `off` equal `data`.
    #[inline(always)]
    pub fn eq(&self, off: u64, data: &[u8]) -> Option<bool> {
        let p = self.range(off, data.len() as u64)?;
        // SAFETY: `data.len()` mapped bytes (`range`), only compared at once.
        Some(unsafe { std::slice::from_raw_parts(p, data.len()) } == data)
    }

    /// Append the `n` bytes at `off` to `out`.
    #[inline(always)]
    pub fn extend(&self, off: u64, n: u64, out: &mut Vec<u8>) -> Option<()> {
        let p = self.range(off, n)?;
        // SAFETY: `n` mapped bytes (`range`), copied at once.
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(p, n as usize) });
        Some(())
    }

    /// Ask for the line of `off` (nothing when it is not mapped).
    #[inline(always)]
    pub fn prefetch(&self, off: u64) {
        if let Some(p) = self.range(off, 1) {
            crate::rcache::prefetch(p as *const std::sync::atomic::AtomicU64);
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        for &(p, len) in self.maps.get_mut().iter() {
            // SAFETY: unmapping exactly the regions mapped by ensure_mapped, once each.
            unsafe { libc::munmap(p as *mut libc::c_void, len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words read and written at aligned and misaligned offsets are the file's little-endian
    /// bytes either way, through the store and through a view; a view refuses what lies past
    /// the length it was taken at, also offsets near the top of the address space.
    #[test]
    fn words_at_any_offset_and_view_bounds() {
        let st = Store::memory(4096).unwrap();
        for off in [0u64, 8, 13, 4088] {
            let v = 0x0102_0304_0506_0708u64.wrapping_mul(off + 1);
            st.set_u64(off, v).unwrap();
            assert_eq!(st.u64(off).unwrap(), v);
            let mut b = [0u8; 8];
            st.read(off, &mut b).unwrap();
            assert_eq!(b, v.to_le_bytes(), "offset {off}");
            let view = st.view().unwrap();
            assert_eq!(view.u64(off), Some(v));
        }
        let view = st.view().unwrap();
        assert_eq!(view.mapped_len(), 4096);
        assert_eq!(view.u64(4089), None);
        assert_eq!(view.u64(u64::MAX - 3), None);
        assert_eq!(view.eq(4090, b"abcdefgh"), None);
        let mut out = Vec::new();
        assert_eq!(view.extend(4000, 97, &mut out), None);
        assert_eq!(view.extend(4000, 96, &mut out), Some(()));
        assert_eq!(out.len(), 96);
        assert!(st.u64(4089).is_err());
    }
}
