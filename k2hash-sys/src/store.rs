//! Backing storage of one k2hash: an anonymous region (memory mode) or a file.
//!
//! The whole file is mapped once into a large reserved window (`MAP_SHARED | MAP_NORESERVE`), so
//! growth (by us or by another process) never moves the mapping: only the valid length changes.
//! Every access is bounds-checked against the valid length, refreshed with `fstat` on a miss, so a
//! corrupt offset yields an error instead of SIGBUS. In partial-mapping mode (`fullmap=false`)
//! accesses to data pages go through `pread`/`pwrite` as in the original; the index and element
//! areas are always accessed through the mapping.
use crate::error::{corrupt, K2hError, Result};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};

const FILE_RESERVE: usize = 1 << 40; // 1 TiB of address space per attached file
const MEM_RESERVE: usize = 1 << 36; // 64 GiB of address space per memory k2hash

pub struct Store {
    base: *mut u8,
    reserve: usize,
    valid: AtomicU64,
    file: Option<File>,
    readonly: bool,
    fullmap: bool,
}

// SAFETY: the mapping is process-shared memory whose concurrent use is coordinated by the
// k2hash lock table; the raw pointer itself is never reassigned after construction.
unsafe impl Send for Store {}
// SAFETY: see above; all accesses go through bounds-checked methods.
unsafe impl Sync for Store {}

impl Store {
    /// Anonymous shared memory of `initial` valid bytes (zero filled).
    pub fn memory(initial: u64) -> Result<Store> {
        if initial as usize > MEM_RESERVE {
            return Err(K2hError::NoSpace("memory k2hash too large".into()));
        }
        // SAFETY: anonymous mapping with no address hint; the result is checked below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                MEM_RESERVE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error().into());
        }
        Ok(Store {
            base: p as *mut u8,
            reserve: MEM_RESERVE,
            valid: AtomicU64::new(initial),
            file: None,
            readonly: false,
            fullmap: true,
        })
    }

    /// Map an open file (its current length is the valid length).
    pub fn file(file: File, readonly: bool, fullmap: bool) -> Result<Store> {
        let len = file.metadata()?.len();
        let reserve = FILE_RESERVE.max((len as usize).saturating_mul(4));
        let prot = if readonly {
            libc::PROT_READ
        } else {
            libc::PROT_READ | libc::PROT_WRITE
        };
        // SAFETY: shared mapping of a file we own the descriptor of; checked below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                reserve,
                prot,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                file.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error().into());
        }
        Ok(Store {
            base: p as *mut u8,
            reserve,
            valid: AtomicU64::new(len),
            file: Some(file),
            readonly,
            fullmap,
        })
    }

    pub fn is_readonly(&self) -> bool {
        self.readonly
    }
    pub fn is_fullmap(&self) -> bool {
        self.fullmap
    }
    /// Address of the mapping (used only for printing, as the original dump shows addresses).
    pub fn base_addr(&self) -> usize {
        self.base as usize
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
        if let Some(f) = &self.file {
            if let Ok(m) = f.metadata() {
                let l = m.len().min(self.reserve as u64);
                self.valid.fetch_max(l, Ordering::AcqRel);
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
        // SAFETY: bounds checked above; unaligned read of plain bytes in our mapping.
        Ok(u64::from_le_bytes(unsafe {
            std::ptr::read_volatile(self.base.add(off as usize) as *const [u8; 8])
        }))
    }

    #[inline(always)]
    pub fn set_u64(&self, off: u64, v: u64) -> Result<()> {
        self.check_write(off, 8)?;
        // SAFETY: bounds checked and the mapping is writable (not read-only).
        unsafe {
            std::ptr::write_volatile(self.base.add(off as usize) as *mut [u8; 8], v.to_le_bytes())
        };
        Ok(())
    }

    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        self.check(off, buf.len() as u64)?;
        // SAFETY: bounds checked; source lies inside the mapping, destination is a Rust slice.
        unsafe {
            std::ptr::copy_nonoverlapping(self.base.add(off as usize), buf.as_mut_ptr(), buf.len())
        };
        Ok(())
    }

    pub fn write(&self, off: u64, data: &[u8]) -> Result<()> {
        self.check_write(off, data.len() as u64)?;
        // SAFETY: bounds checked and writable mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.base.add(off as usize), data.len())
        };
        Ok(())
    }

    // ---- data page access: pread/pwrite in partial mapping mode ----

    #[inline]
    fn page_io(&self) -> Option<&File> {
        if self.fullmap {
            None
        } else {
            self.file.as_ref()
        }
    }

    #[inline]
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
                let mapped =
                    unsafe { std::slice::from_raw_parts(self.base.add(off as usize), data.len()) };
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
        if new_len as usize > self.reserve {
            return Err(K2hError::NoSpace(format!(
                "k2hash would exceed {} bytes",
                self.reserve
            )));
        }
        match &self.file {
            None => {
                // Anonymous memory is zero until touched; areas never shrink in memory mode.
                self.valid.fetch_max(new_len, Ordering::AcqRel);
            }
            Some(f) => {
                let cur = f.metadata()?.len();
                if cur < new_len {
                    f.set_len(new_len)?;
                }
                self.valid.fetch_max(new_len, Ordering::AcqRel);
            }
        }
        Ok(())
    }

    /// Zero `[off, off+len)` (used when an area reuses space beyond `unassign_area`).
    /// Shorten a file to `len` (compaction); memory keeps its pages and reads them as data again
    /// only after `grow_to` zeroes them.
    pub fn shrink_to(&self, len: u64) -> Result<()> {
        if self.readonly {
            return Err(K2hError::ReadOnly);
        }
        if let Some(f) = &self.file {
            f.set_len(len)?;
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
        if self.file.is_some() && !self.readonly {
            // SAFETY: msync over the valid part of our own mapping.
            unsafe {
                libc::msync(
                    self.base as *mut libc::c_void,
                    self.valid_len() as usize,
                    libc::MS_ASYNC,
                )
            };
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the region mapped in the constructor.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.reserve) };
    }
}
