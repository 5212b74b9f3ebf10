//! Attribute configuration per handle (family E).
use crate::capi::ffi::*;
use crate::capi::types::*;
use crate::crypt::EncType;
use libc::{c_char, time_t, FILE};

fn opt_bool(p: *const bool) -> Option<bool> {
    // SAFETY: non-NULL pointers to bool supplied by the caller.
    (!p.is_null()).then(|| unsafe { *p })
}

/// Set mtime / default encryption / pass file / history / default expire for a handle.
#[no_mangle]
pub extern "C" fn k2h_set_common_attr(
    handle: k2h_h,
    is_mtime: *const bool,
    is_defenc: *const bool,
    passfile: *const c_char,
    is_history: *const bool,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        let name = "k2h_set_common_attr";
        guard(name, false, || {
            let Some(k) = crate::capi::ffi::handle(name, handle) else {
                return false;
            };
            // SAFETY: non-NULL pointer to time_t supplied by the caller.
            let exp = (!expire.is_null()).then(|| unsafe { *expire });
            let pf = opt_str(passfile);
            match k.set_common_attr(
                opt_bool(is_mtime),
                opt_bool(is_defenc),
                pf.as_deref(),
                opt_bool(is_history),
                exp,
            ) {
                Ok(()) => true,
                Err(e) => fail(name, e, false),
            }
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_clean_common_attr(handle: k2h_h) -> CBool {
    cbool(|| {
        guard(
            "k2h_clean_common_attr",
            false,
            || match crate::capi::ffi::handle("k2h_clean_common_attr", handle) {
                Some(k) => {
                    k.clean_common_attr();
                    true
                }
                None => false,
            },
        )
    })
}

#[no_mangle]
pub extern "C" fn k2h_add_attr_crypt_pass(
    handle: k2h_h,
    pass: *const c_char,
    is_default_encrypt: bool,
) -> CBool {
    cbool(|| {
        let name = "k2h_add_attr_crypt_pass";
        guard(name, false, || {
            let Some(p) = opt_str(pass) else {
                return fail(name, "pass phrase is empty", false);
            };
            let Some(k) = crate::capi::ffi::handle(name, handle) else {
                return false;
            };
            match k.add_crypt_pass(&p, is_default_encrypt) {
                Ok(()) => true,
                Err(e) => fail(name, e, false),
            }
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_print_attr_version(handle: k2h_h, stream: *mut FILE) -> CBool {
    cbool(|| {
        guard("k2h_print_attr_version", false, || {
            let Some(k) = crate::capi::ffi::handle("k2h_print_attr_version", handle) else {
                return false;
            };
            let mut text = String::from("K2HASH attribute libraries:");
            for h in k.hooks.lock().iter() {
                text.push_str(&format!("\n  {}", h.version));
            }
            text.push_str(&format!("\n  {}", crate::attrs::BUILTIN_VERSION));
            write_stream(stream, text)
        })
    })
}

#[no_mangle]
pub extern "C" fn k2h_print_attr_information(handle: k2h_h, stream: *mut FILE) -> CBool {
    cbool(|| {
        guard("k2h_print_attr_information", false, || {
            let Some(k) = crate::capi::ffi::handle("k2h_print_attr_information", handle) else {
                return false;
            };
            write_stream(stream, attr_information_text(&k))
        })
    })
}

/// The attribute settings of a handle as `k2h_print_attr_information` prints them.
pub fn attr_information_text(k: &crate::K2h) -> String {
    {
        let c = k.conf();
        let yn = |b: bool| if b { "yes" } else { "no" };
        let mut s = String::new();
        s.push_str("K2HASH attribute libraries:\n");
        s.push_str(&format!(
            "  Attribute library Version:   {}\n",
            crate::attrs::BUILTIN_VERSION
        ));
        s.push_str(&format!("    Attribute mtime:           {}\n", yn(c.mtime)));
        s.push_str(&format!(
            "    Attribute history:         {}\n",
            yn(c.history)
        ));
        match c.expire {
            Some(e) => s.push_str(&format!("    Attribute expire:          {e} (s)\n")),
            None => s.push_str("    Attribute expire:          no expire\n"),
        }
        s.push_str(&format!(
            "    Attribute default encrypt: {}\n",
            yn(c.defenc)
        ));
        s.push_str(&format!(
            "    Attribute encrypt type:    {}\n",
            if c.enc_type == EncType::Pbkdf1 {
                "AES256_PBKDF1"
            } else {
                "AES256_PBKDF2"
            }
        ));
        for (i, p) in c.passes.iter().enumerate() {
            s.push_str(&format!(
                "    Attribute encrypt pass[{i}]: {p} ({}){}\n",
                crate::crypt::pass_digest(p),
                if i == 0 && c.has_default {
                    " default"
                } else {
                    ""
                }
            ));
        }
        s
    }
}

type InitFn = unsafe extern "C" fn() -> bool;
type StrFn = unsafe extern "C" fn() -> *const c_char;
type UpdateFn = unsafe extern "C" fn(
    *mut libc::size_t,
    *const u8,
    libc::size_t,
    *const u8,
    libc::size_t,
) -> *mut u8;

/// Closes the plugin library when the last hook using it goes away.
struct PluginLib(crate::capi::trans::Lib);
impl Drop for PluginLib {
    fn drop(&mut self) {
        crate::capi::trans::dl_close(crate::capi::trans::Lib(self.0 .0));
    }
}

fn cstring(f: StrFn) -> Option<Vec<u8>> {
    // SAFETY: the plugin returns a NUL-terminated string or NULL.
    unsafe {
        let p = f();
        (!p.is_null()).then(|| std::ffi::CStr::from_ptr(p).to_bytes().to_vec())
    }
}

/// Load an attribute plugin for this handle: `k2hattr_update` then runs on every write.
#[no_mangle]
pub extern "C" fn k2h_add_attr_plugin_library(handle: k2h_h, libpath: *const c_char) -> CBool {
    cbool(|| {
        let name = "k2h_add_attr_plugin_library";
        guard(name, false, || {
            let Some(k) = crate::capi::ffi::handle(name, handle) else {
                return false;
            };
            let syms = [
                c"k2hattr_initialize",
                c"k2hattr_get_version",
                c"k2hattr_get_key_name",
                c"k2hattr_update",
            ];
            let Some((lib, s)) = crate::capi::trans::dl_load(name, libpath, &syms) else {
                return false;
            };
            let lib = std::sync::Arc::new(PluginLib(lib));
            // SAFETY: the symbols have the prototypes of k2hattrfunc.h.
            let (init, version, keyname, update) = unsafe {
                (
                    std::mem::transmute::<*mut libc::c_void, InitFn>(s[0]),
                    std::mem::transmute::<*mut libc::c_void, StrFn>(s[1]),
                    std::mem::transmute::<*mut libc::c_void, StrFn>(s[2]),
                    std::mem::transmute::<*mut libc::c_void, UpdateFn>(s[3]),
                )
            };
            // SAFETY: calling the plugin's initializer, which takes no arguments.
            if !unsafe { init() } {
                return fail(name, "the plugin's k2hattr_initialize failed", false);
            }
            let Some(mut attr) = cstring(keyname) else {
                return fail(name, "the plugin has no attribute name", false);
            };
            attr.push(0);
            let ver = cstring(version)
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .unwrap_or_default();
            let hold = lib.clone();
            let hook = crate::k2h::AttrHook {
                name: attr,
                version: ver,
                update: Box::new(move |key: &[u8], value: &[u8]| {
                    let _keep = &hold;
                    let mut n: libc::size_t = 0;
                    // SAFETY: buffers valid for the call; the result is malloc'd by the plugin.
                    let p = unsafe {
                        update(&mut n, key.as_ptr(), key.len(), value.as_ptr(), value.len())
                    };
                    if p.is_null() {
                        return None;
                    }
                    // SAFETY: the plugin returned `n` bytes at `p`, which we copy and free.
                    let v = unsafe { std::slice::from_raw_parts(p, n).to_vec() };
                    // SAFETY: freeing the plugin's malloc'd buffer once.
                    unsafe { libc::free(p as *mut libc::c_void) };
                    Some(v)
                }),
            };
            k.hooks.lock().push(std::sync::Arc::new(hook));
            true
        })
    })
}
