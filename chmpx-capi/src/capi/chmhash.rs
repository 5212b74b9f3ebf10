//! chmpxid computation (chmhash.h).
use chmpx_core::config::ChmpxIdType;
use chmpx_core::ring;
use libc::{c_char, c_int, c_short};

use crate::capi::ffi::{self, guard};
use crate::capi::types::*;

/// A `CHMPXID_SEED_TYPE` argument as it arrives (any int); shown as `CHMPXID_SEED_TYPE`.
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct SeedTypeArg(pub c_int);

fn text_arg(p: *const c_char) -> String {
    ffi::cstr_bytes(p)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------- chmhash.h

fn seed(
    group: *const c_char,
    kind: SeedTypeArg,
    hostname: *const c_char,
    ctlport: c_short,
    cuk: *const c_char,
    ctleps: *const c_char,
    custom: *const c_char,
) -> Option<String> {
    let kind = match kind.0 {
        0 => ChmpxIdType::Name,
        1 => ChmpxIdType::Cuk,
        2 => ChmpxIdType::CtlEndpoints,
        3 => ChmpxIdType::Custom,
        k => {
            log::error!("chmpxid seed type {k} is wrong");
            return None;
        }
    };
    ring::id_seed(
        &text_arg(group),
        kind,
        &text_arg(hostname),
        ctlport,
        &text_arg(cuk),
        &text_arg(ctleps),
        &text_arg(custom),
    )
}

/// The chmpxid of a chmpx; 0 when the group or the host name (always required, as in the
/// original) or the part the seed type needs is empty.
#[no_mangle]
pub extern "C" fn MakeChmpxId(
    group: *const c_char,
    r#type: SeedTypeArg,
    hostname: *const c_char,
    ctlport: c_short,
    cuk: *const c_char,
    ctleps: *const c_char,
    custom: *const c_char,
) -> chmhash_t {
    guard("MakeChmpxId", 0, || {
        if ffi::opt_string(group).is_none() || ffi::opt_string(hostname).is_none() {
            log::error!("MakeChmpxId: group or hostname is empty");
            return 0;
        }
        seed(group, r#type, hostname, ctlport, cuk, ctleps, custom)
            .map_or(0, |s| ring::chmpxid_of_seed(&s))
    })
}

/// The first msgid of a chmpx (high half of its chmpxid hash); 0 on the same failures.
#[no_mangle]
pub extern "C" fn MakeBaseMsgId(
    group: *const c_char,
    r#type: SeedTypeArg,
    hostname: *const c_char,
    ctlport: c_short,
    cuk: *const c_char,
    ctleps: *const c_char,
    custom: *const c_char,
) -> chmhash_t {
    guard("MakeBaseMsgId", 0, || {
        seed(group, r#type, hostname, ctlport, cuk, ctleps, custom)
            .map_or(0, |s| ring::base_msgid_of_seed(&s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `MakeChmpxId` and `MakeBaseMsgId`.
    type SeedFn = extern "C" fn(
        *const c_char,
        SeedTypeArg,
        *const c_char,
        c_short,
        *const c_char,
        *const c_char,
        *const c_char,
    ) -> chmhash_t;

    #[test]
    fn chmpxid_known_value() {
        let of_vm = |f: SeedFn| {
            let none = std::ptr::null();
            f(
                c"EXPG".as_ptr(),
                SeedTypeArg(0),
                c"vm".as_ptr(),
                8021,
                none,
                none,
                none,
            )
        };
        assert_eq!(of_vm(MakeChmpxId), 0x232e14b7ba0c76d8);
        assert_eq!(of_vm(MakeBaseMsgId), 0x232e14b700000000);
        let none = std::ptr::null();
        assert_eq!(
            MakeChmpxId(none, SeedTypeArg(0), none, 0, none, none, none),
            0
        );
        assert_eq!(
            MakeChmpxId(
                c"G".as_ptr(),
                SeedTypeArg(9),
                c"h".as_ptr(),
                1,
                none,
                none,
                none
            ),
            0
        );
    }
}
