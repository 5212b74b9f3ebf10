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
) -> bool {
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
}

#[no_mangle]
pub extern "C" fn k2h_clean_common_attr(handle: k2h_h) -> bool {
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
}

#[no_mangle]
pub extern "C" fn k2h_add_attr_crypt_pass(
    handle: k2h_h,
    pass: *const c_char,
    is_default_encrypt: bool,
) -> bool {
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
}

#[no_mangle]
pub extern "C" fn k2h_print_attr_version(handle: k2h_h, stream: *mut FILE) -> bool {
    guard("k2h_print_attr_version", false, || {
        if crate::capi::ffi::handle("k2h_print_attr_version", handle).is_none() {
            return false;
        }
        write_stream(
            stream,
            format!(
                "K2HASH attribute libraries:\n  {}",
                crate::attrs::BUILTIN_VERSION
            ),
        )
    })
}

#[no_mangle]
pub extern "C" fn k2h_print_attr_information(handle: k2h_h, stream: *mut FILE) -> bool {
    guard("k2h_print_attr_information", false, || {
        let Some(k) = crate::capi::ffi::handle("k2h_print_attr_information", handle) else {
            return false;
        };
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
                if i == 0 { " default" } else { "" }
            ));
        }
        write_stream(stream, &s)
    })
}
