//! The file helpers of chmutil.h, with the original's results; NULL-safe where the original
//! crashed.
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use libc::{c_char, c_int, c_uchar, c_void, off_t, size_t, ssize_t};

use crate::capi::ffi::{self, guard, guard_bool, BoolArg, CBool};

/// Read size of `chm_read`.
const READ_CHUNK: usize = 4096;

/// A path argument; None for NULL or "" (bytes are kept as they are).
fn path_arg(p: *const c_char) -> Option<PathBuf> {
    ffi::cstr_bytes(p)
        .filter(|b| !b.is_empty())
        .map(|b| PathBuf::from(OsStr::from_bytes(b)))
}

fn text_arg(p: *const c_char) -> String {
    ffi::cstr_bytes(p)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------- chmutil.h: descriptors

/// pread until `count` bytes or the end of the file; the bytes read, -1 on error.
#[no_mangle]
pub extern "C" fn chm_pread(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t {
    guard("chm_pread", -1, || ffi::pread_full(fd, buf, count, offset))
}

/// pwrite until `count` bytes are written; the bytes written, -1 on error.
#[no_mangle]
pub extern "C" fn chm_pwrite(
    fd: c_int,
    buf: *const c_void,
    count: size_t,
    offset: off_t,
) -> ssize_t {
    guard("chm_pwrite", -1, || {
        ffi::pwrite_full(fd, buf, count, offset)
    })
}

/// Reads what `fd` has (until a short read or EAGAIN) into a malloc'ed buffer; `*psize` = its
/// size. NULL for fd -1, a NULL `psize` or a read error. (The original could report the
/// allocated size instead of the data size after EAGAIN.)
#[no_mangle]
pub extern "C" fn chm_read(fd: c_int, psize: *mut size_t) -> *mut c_uchar {
    guard("chm_read", std::ptr::null_mut(), || {
        if fd == -1 || psize.is_null() {
            log::error!("chm_read: fd or psize is wrong");
            return std::ptr::null_mut();
        }
        let mut data = Vec::new();
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            let n = ffi::read_fd(fd, &mut chunk);
            if n < 0 {
                match ffi::errno() {
                    libc::EAGAIN => break,
                    libc::EINTR => continue,
                    e => {
                        log::error!("chm_read: read of fd {fd} failed, errno {e}");
                        return std::ptr::null_mut();
                    }
                }
            }
            let n = n as usize;
            data.extend_from_slice(&chunk[..n]);
            if n < READ_CHUNK {
                break;
            }
        }
        let p = ffi::malloc_copy(&data);
        if !p.is_null() {
            ffi::set_out(psize, data.len());
        }
        p
    })
}

/// Sizes the file of `fd` to `length` bytes and writes zeros over all of it, `pagesize` bytes
/// at a time.
#[no_mangle]
pub extern "C" fn truncate_filling_zero(fd: c_int, length: size_t, pagesize: c_int) -> CBool {
    guard_bool("truncate_filling_zero", || {
        if fd == -1 || length == 0 || pagesize <= 0 {
            log::error!("truncate_filling_zero: parameters are wrong");
            return false;
        }
        if !ffi::ftruncate(fd, length) {
            log::error!("truncate_filling_zero: could not truncate fd {fd} to {length} bytes");
            return false;
        }
        let zeros = vec![0u8; (pagesize as usize).min(length)];
        let mut done = 0usize;
        while done < length {
            let n = zeros.len().min(length - done);
            if ffi::pwrite_full(fd, zeros.as_ptr() as *const c_void, n, done as off_t) < 0 {
                log::error!("truncate_filling_zero: could not write fd {fd}");
                return false;
            }
            done += n;
        }
        true
    })
}

// ---------------------------------------------------------------- chmutil.h: files

/// True when `stat` succeeds.
#[no_mangle]
pub extern "C" fn is_file_exist(file: *const c_char) -> CBool {
    guard_bool("is_file_exist", || {
        path_arg(file).is_some_and(|p| std::fs::metadata(p).is_ok())
    })
}

/// True for an existing regular file (links followed).
#[no_mangle]
pub extern "C" fn is_file_safe_exist(file: *const c_char) -> CBool {
    is_file_safe_exist_ex(file, BoolArg(1))
}

/// `is_file_safe_exist`; `is_msg` only decides whether failures are logged.
#[no_mangle]
pub extern "C" fn is_file_safe_exist_ex(file: *const c_char, is_msg: BoolArg) -> CBool {
    guard_bool("is_file_safe_exist_ex", || {
        let ok = path_arg(file).is_some_and(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()));
        if !ok && is_msg.get() {
            log::info!(
                "is_file_safe_exist: {} is not a regular file",
                text_arg(file)
            );
        }
        ok
    })
}

/// True for an existing directory.
#[no_mangle]
pub extern "C" fn is_dir_exist(path: *const c_char) -> CBool {
    guard_bool("is_dir_exist", || {
        path_arg(path).is_some_and(|p| std::fs::metadata(p).is_ok_and(|m| m.is_dir()))
    })
}

/// `*length` = the file's size (`stat`). The original's second parameter is a C++ reference
/// (`size_t&`), which is this pointer in the ABI.
#[no_mangle]
pub extern "C" fn get_file_size(file: *const c_char, length: *mut size_t) -> CBool {
    guard_bool("get_file_size", || {
        if length.is_null() {
            return false;
        }
        match path_arg(file).map(std::fs::metadata) {
            Some(Ok(m)) => {
                ffi::set_out(length, m.len() as size_t);
                true
            }
            _ => false,
        }
    })
}

/// Renames `file` to `file.ext` (or `file.ext.0`, `file.ext.1`, ... when that exists).
#[no_mangle]
pub extern "C" fn move_file_to_backup(file: *const c_char, pext: *const c_char) -> CBool {
    guard_bool("move_file_to_backup", || {
        let (Some(old), Some(ext)) = (ffi::cstr_bytes(file), ffi::cstr_bytes(pext)) else {
            log::error!("move_file_to_backup: NULL parameter");
            return false;
        };
        if old.is_empty() || ext.is_empty() {
            log::error!("move_file_to_backup: empty parameter");
            return false;
        }
        let old = PathBuf::from(OsStr::from_bytes(old));
        if std::fs::metadata(&old).is_err() {
            log::error!("move_file_to_backup: {} does not exist", old.display());
            return false;
        }
        let mut base = old.clone().into_os_string().into_vec();
        base.push(b'.');
        base.extend_from_slice(ext);
        let mut new = PathBuf::from(OsString::from_vec(base.clone()));
        let mut n = 0u64;
        while std::fs::symlink_metadata(&new).is_ok() || std::fs::metadata(&new).is_ok() {
            let mut b = base.clone();
            b.extend_from_slice(format!(".{n}").as_bytes());
            new = PathBuf::from(OsString::from_vec(b));
            n += 1;
        }
        if let Err(e) = std::fs::hard_link(&old, &new) {
            log::error!(
                "move_file_to_backup: link {} -> {}: {e}",
                old.display(),
                new.display()
            );
            return false;
        }
        if let Err(e) = std::fs::remove_file(&old) {
            log::error!("move_file_to_backup: unlink {}: {e}", old.display());
            let _ = std::fs::remove_file(&new);
            return false;
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a");
        std::fs::write(&f, b"12345").unwrap();
        let cf = std::ffi::CString::new(f.as_os_str().as_bytes()).unwrap();
        let cd = std::ffi::CString::new(dir.path().as_os_str().as_bytes()).unwrap();
        assert!(is_file_exist(cf.as_ptr()).get());
        assert!(is_file_safe_exist(cf.as_ptr()).get());
        assert!(!is_file_safe_exist(cd.as_ptr()).get());
        assert!(is_dir_exist(cd.as_ptr()).get());
        assert!(!is_dir_exist(cf.as_ptr()).get());
        let mut n = 0usize;
        assert!(get_file_size(cf.as_ptr(), &mut n).get());
        assert_eq!(n, 5);
        assert!(!get_file_size(cf.as_ptr(), std::ptr::null_mut()).get());
        assert!(move_file_to_backup(cf.as_ptr(), c"bup".as_ptr()).get());
        assert!(dir.path().join("a.bup").exists());
        std::fs::write(&f, b"x").unwrap();
        assert!(move_file_to_backup(cf.as_ptr(), c"bup".as_ptr()).get());
        assert!(dir.path().join("a.bup.0").exists());
        assert!(
            !move_file_to_backup(cf.as_ptr(), c"bup".as_ptr()).get(),
            "gone now"
        );
        assert!(!is_file_exist(std::ptr::null()).get());
    }
}
