//! Direct access to one key's value at byte offsets (family N). A DA handle keeps separate read
//! and write offsets; writes are logged as OW_VAL records. Unlike the original it holds no lock
//! between calls, so using the key from elsewhere meanwhile cannot deadlock.
use crate::capi::ffi::*;
use crate::capi::types::*;
use crate::k2h::{K2h, Protect};
use libc::{c_char, c_int, off_t, size_t, ssize_t};
use parking_lot::Mutex;
use std::sync::Arc;

/// Default chunk size of the file copy functions.
pub const FILE_IO_BLOCK: usize = 409_600;

pub struct Da {
    k: Arc<K2h>,
    key: Vec<u8>,
    mode: K2HDAMODE,
    read_off: i64,
    write_off: i64,
    bufsize: usize,
}

/// The mode argument as received from C: any int (the header shows it as K2HDAMODE). Taking
/// the Rust enum directly would make an out-of-range value undefined behaviour.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct DaMode(pub c_int);

static DA: Registry<Mutex<Da>> = Registry::new(0x4B32_4441_0000_0001);

impl Da {
    fn can_read(&self) -> bool {
        self.mode != K2HDAMODE::K2H_DA_WRITE
    }
    fn can_write(&self) -> bool {
        self.mode != K2HDAMODE::K2H_DA_READ
    }
    fn value(&self) -> crate::Result<Vec<u8>> {
        Ok(self.k.get(&self.key, Protect::No)?.unwrap_or_default())
    }
    /// Up to `want` bytes from the read offset; the offset moves on, or becomes -1 (end) when
    /// fewer bytes than asked were left.
    fn read(&mut self, want: usize) -> crate::Result<Option<Vec<u8>>> {
        if !self.can_read() || want == 0 || self.read_off < 0 {
            return Ok(None);
        }
        let v = self.value()?;
        let off = self.read_off as usize;
        if off >= v.len() {
            self.read_off = -1;
            return Ok(None);
        }
        let n = want.min(v.len() - off);
        self.read_off = if n < want { -1 } else { (off + n) as i64 };
        Ok(Some(v[off..off + n].to_vec()))
    }
    fn write(&mut self, data: &[u8]) -> crate::Result<bool> {
        if !self.can_write() || data.is_empty() || self.write_off < 0 {
            return Ok(false);
        }
        self.k
            .overwrite_value(&self.key, self.write_off as usize, data)?;
        self.write_off += data.len() as i64;
        Ok(true)
    }
    fn set_offset(&mut self, off: off_t, is_read: bool) -> crate::Result<bool> {
        if off < 0 || (is_read && !self.can_read()) || (!is_read && !self.can_write()) {
            return Ok(false);
        }
        if is_read {
            self.read_off = off;
        } else {
            // a write offset beyond the end extends the value (zeros) as the original does
            if off as usize > self.value()?.len() {
                self.k.overwrite_value(&self.key, off as usize, &[])?;
            }
            self.write_off = off;
        }
        Ok(true)
    }
}

fn open(name: &str, h: k2h_h, key: Option<&[u8]>, mode: c_int) -> k2h_da_h {
    guard(name, 0, || {
        let Some(key) = key else {
            return fail(name, "key is empty", 0);
        };
        let mode = match mode {
            1 => K2HDAMODE::K2H_DA_READ,
            2 => K2HDAMODE::K2H_DA_WRITE,
            3 => K2HDAMODE::K2H_DA_RW,
            _ => return fail(name, format!("unknown mode {mode}"), 0),
        };
        let Some(k) = handle(name, h) else { return 0 };
        let r = (|| -> crate::Result<bool> {
            let exists = k.db().exists(key)?;
            if mode == K2HDAMODE::K2H_DA_READ {
                return Ok(exists);
            }
            k.check_writable()?;
            if !exists {
                // created as the original does: a set of an empty value (built-in attributes
                // applied, logged as SET_ALL)
                k.set_value(key, &[], None, None)?;
            }
            Ok(true)
        })();
        match r {
            Ok(true) => DA.insert(Mutex::new(Da {
                k,
                key: key.to_vec(),
                mode,
                read_off: 0,
                write_off: 0,
                bufsize: FILE_IO_BLOCK,
            })),
            Ok(false) => fail(name, "key does not exist", 0),
            Err(e) => fail(name, e, 0),
        }
    })
}

fn with<R: Copy>(
    name: &str,
    dh: k2h_da_h,
    default: R,
    f: impl FnOnce(&mut Da) -> crate::Result<R>,
) -> R {
    guard(name, default, || {
        let Some(d) = DA.get(dh) else {
            return fail(
                name,
                format!("invalid direct access handle {dh:#x}"),
                default,
            );
        };
        let mut g = d.lock();
        match f(&mut g) {
            Ok(r) => r,
            Err(e) => fail(name, e, default),
        }
    })
}

const R: c_int = 1;
const W: c_int = 2;
const RW: c_int = 3;

#[no_mangle]
pub extern "C" fn k2h_da_handle(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
    mode: DaMode,
) -> k2h_da_h {
    open("k2h_da_handle", handle, key(pkey, keylength), mode.0)
}
#[no_mangle]
pub extern "C" fn k2h_da_handle_read(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
) -> k2h_da_h {
    open("k2h_da_handle_read", handle, key(pkey, keylength), R)
}
#[no_mangle]
pub extern "C" fn k2h_da_handle_write(
    handle: k2h_h,
    pkey: *const u8,
    keylength: size_t,
) -> k2h_da_h {
    open("k2h_da_handle_write", handle, key(pkey, keylength), W)
}
#[no_mangle]
pub extern "C" fn k2h_da_handle_rw(handle: k2h_h, pkey: *const u8, keylength: size_t) -> k2h_da_h {
    open("k2h_da_handle_rw", handle, key(pkey, keylength), RW)
}
#[no_mangle]
pub extern "C" fn k2h_da_str_handle(handle: k2h_h, pkey: *const c_char, mode: DaMode) -> k2h_da_h {
    open("k2h_da_str_handle", handle, str_key(pkey), mode.0)
}
#[no_mangle]
pub extern "C" fn k2h_da_str_handle_read(handle: k2h_h, pkey: *const c_char) -> k2h_da_h {
    open("k2h_da_str_handle_read", handle, str_key(pkey), R)
}
#[no_mangle]
pub extern "C" fn k2h_da_str_handle_write(handle: k2h_h, pkey: *const c_char) -> k2h_da_h {
    open("k2h_da_str_handle_write", handle, str_key(pkey), W)
}
#[no_mangle]
pub extern "C" fn k2h_da_str_handle_rw(handle: k2h_h, pkey: *const c_char) -> k2h_da_h {
    open("k2h_da_str_handle_rw", handle, str_key(pkey), RW)
}
#[no_mangle]
pub extern "C" fn k2h_da_free(dahandle: k2h_da_h) -> CBool {
    cbool(|| DA.remove(dahandle).is_some())
}
#[no_mangle]
pub extern "C" fn k2h_da_get_length(dahandle: k2h_da_h) -> ssize_t {
    with("k2h_da_get_length", dahandle, -1, |d| {
        Ok(d.value()?.len() as ssize_t)
    })
}
#[no_mangle]
pub extern "C" fn k2h_da_get_buf_size(dahandle: k2h_da_h) -> ssize_t {
    with("k2h_da_get_buf_size", dahandle, -1, |d| {
        Ok(d.bufsize as ssize_t)
    })
}
#[no_mangle]
pub extern "C" fn k2h_da_set_buf_size(dahandle: k2h_da_h, bufsize: size_t) -> CBool {
    cbool(|| {
        with("k2h_da_set_buf_size", dahandle, false, |d| {
            d.bufsize = bufsize.max(1);
            Ok(true)
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_da_get_offset(dahandle: k2h_da_h, is_read: bool) -> off_t {
    with("k2h_da_get_offset", dahandle, -1, |d| {
        Ok(if is_read { d.read_off } else { d.write_off })
    })
}
#[no_mangle]
pub extern "C" fn k2h_da_get_read_offset(dahandle: k2h_da_h) -> off_t {
    k2h_da_get_offset(dahandle, true)
}
#[no_mangle]
pub extern "C" fn k2h_da_get_write_offset(dahandle: k2h_da_h) -> off_t {
    k2h_da_get_offset(dahandle, false)
}
#[no_mangle]
pub extern "C" fn k2h_da_set_offset(dahandle: k2h_da_h, offset: off_t, is_read: bool) -> CBool {
    cbool(|| {
        with("k2h_da_set_offset", dahandle, false, |d| {
            d.set_offset(offset, is_read)
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_da_set_read_offset(dahandle: k2h_da_h, offset: off_t) -> CBool {
    k2h_da_set_offset(dahandle, offset, true)
}
#[no_mangle]
pub extern "C" fn k2h_da_set_write_offset(dahandle: k2h_da_h, offset: off_t) -> CBool {
    k2h_da_set_offset(dahandle, offset, false)
}

/// IN *plen = bytes wanted, OUT = bytes read; *pp malloc'd.
fn get_value(
    name: &str,
    dh: k2h_da_h,
    pp: *mut *mut u8,
    plen: *mut size_t,
    offset: Option<off_t>,
) -> bool {
    if pp.is_null() || plen.is_null() {
        return false;
    }
    // SAFETY: non-NULL in/out length supplied by the caller.
    let want = unsafe { *plen };
    set_out(pp, std::ptr::null_mut());
    set_out(plen, 0);
    with(name, dh, false, |d| {
        if let Some(o) = offset {
            if !d.set_offset(o, true)? {
                return Ok(false);
            }
        }
        Ok(match d.read(want)? {
            Some(v) => {
                out_bytes(pp, plen, &v);
                true
            }
            None => false,
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_da_get_value(
    dahandle: k2h_da_h,
    ppval: *mut *mut u8,
    pvallength: *mut size_t,
) -> CBool {
    cbool(|| get_value("k2h_da_get_value", dahandle, ppval, pvallength, None))
}
#[no_mangle]
pub extern "C" fn k2h_da_get_value_offset(
    dahandle: k2h_da_h,
    ppval: *mut *mut u8,
    pvallength: *mut size_t,
    offset: off_t,
) -> CBool {
    cbool(|| {
        get_value(
            "k2h_da_get_value_offset",
            dahandle,
            ppval,
            pvallength,
            Some(offset),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_da_read(dahandle: k2h_da_h, pvallength: *mut size_t) -> *mut u8 {
    let mut p = std::ptr::null_mut();
    if get_value("k2h_da_read", dahandle, &mut p, pvallength, None) {
        p
    } else {
        std::ptr::null_mut()
    }
}
#[no_mangle]
pub extern "C" fn k2h_da_read_offset(
    dahandle: k2h_da_h,
    pvallength: *mut size_t,
    offset: off_t,
) -> *mut u8 {
    let mut p = std::ptr::null_mut();
    if get_value(
        "k2h_da_read_offset",
        dahandle,
        &mut p,
        pvallength,
        Some(offset),
    ) {
        p
    } else {
        std::ptr::null_mut()
    }
}
/// The rest of the value from the read offset, as a malloc'd string.
#[no_mangle]
pub extern "C" fn k2h_da_read_str(dahandle: k2h_da_h) -> *mut c_char {
    let Some(len) = with("k2h_da_read_str", dahandle, None, |d| {
        Ok(Some(d.value()?.len()))
    }) else {
        return std::ptr::null_mut();
    };
    let mut l = len;
    k2h_da_read(dahandle, &mut l) as *mut c_char
}

/// Check the descriptor and the in/out length; returns the length asked for (OUT reset to 0).
fn take_len(fd: c_int, plen: *mut size_t) -> Option<size_t> {
    if fd < 0 || plen.is_null() {
        return None;
    }
    // SAFETY: non-NULL in/out length supplied by the caller.
    let want = unsafe { *plen };
    set_out(plen, 0);
    Some(want)
}

/// Current position of a descriptor.
fn fd_pos(fd: c_int) -> Option<off_t> {
    // SAFETY: lseek without moving (SEEK_CUR 0) on the caller's descriptor.
    let p = unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) };
    (p >= 0).then_some(p)
}

#[no_mangle]
pub extern "C" fn k2h_da_get_value_to_file(
    dahandle: k2h_da_h,
    fd: c_int,
    pvallength: *mut size_t,
) -> CBool {
    cbool(|| {
        let Some(want) = take_len(fd, pvallength) else {
            return false;
        };
        if want == 0 {
            return false;
        }
        let Some(pos) = fd_pos(fd) else { return false };
        with("k2h_da_get_value_to_file", dahandle, false, |d| {
            let Some(v) = d.read(want)? else {
                return Ok(false);
            };
            // SAFETY: writing our buffer to the caller's descriptor at its current position.
            let n = unsafe {
                crate::capi::hashfn::k2h_pwrite(fd, v.as_ptr() as *const libc::c_void, v.len(), pos)
            };
            if n < 0 {
                return Ok(false);
            }
            set_out(pvallength, n as size_t);
            Ok(true)
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_da_set_value(
    dahandle: k2h_da_h,
    pval: *const u8,
    vallength: size_t,
) -> CBool {
    cbool(|| {
        let Some(v) = key(pval, vallength) else {
            return false;
        };
        with("k2h_da_set_value", dahandle, false, |d| d.write(v))
    })
}
#[no_mangle]
pub extern "C" fn k2h_da_set_value_offset(
    dahandle: k2h_da_h,
    pval: *const u8,
    vallength: size_t,
    offset: off_t,
) -> CBool {
    cbool(|| {
        let Some(v) = key(pval, vallength) else {
            return false;
        };
        with("k2h_da_set_value_offset", dahandle, false, |d| {
            Ok(d.set_offset(offset, false)? && d.write(v)?)
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_da_set_value_str(dahandle: k2h_da_h, pval: *const c_char) -> CBool {
    cbool(|| {
        if pval.is_null() {
            return false;
        }
        let v = str_val(pval);
        with("k2h_da_set_value_str", dahandle, false, |d| d.write(v))
    })
}
#[no_mangle]
pub extern "C" fn k2h_da_set_value_from_file(
    dahandle: k2h_da_h,
    fd: c_int,
    pvallength: *mut size_t,
) -> CBool {
    cbool(|| {
        let Some(want) = take_len(fd, pvallength) else {
            return false;
        };
        let Some(pos) = fd_pos(fd) else { return false };
        with("k2h_da_set_value_from_file", dahandle, false, |d| {
            let mut done = 0usize;
            let mut buf = vec![0u8; d.bufsize.min(want.max(1))];
            while done < want {
                let n = buf.len().min(want - done);
                // SAFETY: reading into our buffer from the caller's descriptor.
                let r = unsafe {
                    crate::capi::hashfn::k2h_pread(
                        fd,
                        buf.as_mut_ptr() as *mut libc::c_void,
                        n,
                        pos + done as off_t,
                    )
                };
                if r <= 0 {
                    break;
                }
                if !d.write(&buf[..r as usize])? {
                    return Ok(false);
                }
                done += r as usize;
            }
            set_out(pvallength, done);
            Ok(done > 0)
        })
    })
}
