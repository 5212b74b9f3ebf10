//! The two ways the tool reaches the cluster, as the original's two: the C API (`-capi`: the
//! exported `k2hdkc_pm_*` / `k2hdkc_full_*` functions with their C buffers) and the library's
//! Rust API over a session it holds (`k2hdkc::capi::ops::direct`, what the original's C++
//! command classes are). Both run the same requests; the commands are written once against
//! [`Dkc`]. Which C form a command picks (plain, `_wa`, `_wp`, `_np`) follows the original tool.
use std::ffi::CString;

use k2hdkc::capi::ffi::CBool;
use k2hdkc::capi::forms as f;
use k2hdkc::capi::ops::direct::{self as d, expire_ptr, Pass};
use k2hdkc::capi::session::{self as sess, Session};
use k2hdkc::capi::types::{K2HDKCKEYPCK, PDKC_NODESTATE, PK2HDKCATTRPCK, PK2HDKCKEYPCK};
use k2hdkc_wire::{DKC_NORESTYPE, NODESTATE_SIZE};
use libc::{c_char, c_int, c_uchar};

use crate::cmem;

/// What a library call gave: its result, the code of the answer, and the data.
pub struct Done<T> {
    pub ok: bool,
    pub code: u64,
    pub val: T,
}

/// The size of a CAS value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Width {
    W8,
    W16,
    W32,
    W64,
}

impl Width {
    pub fn bytes(self) -> usize {
        match self {
            Width::W8 => 1,
            Width::W16 => 2,
            Width::W32 => 4,
            Width::W64 => 8,
        }
    }

    /// `v` cut to this width, as native-endian bytes.
    pub fn encode(self, v: u64) -> Vec<u8> {
        match self {
            Width::W8 => (v as u8).to_ne_bytes().to_vec(),
            Width::W16 => (v as u16).to_ne_bytes().to_vec(),
            Width::W32 => (v as u32).to_ne_bytes().to_vec(),
            Width::W64 => v.to_ne_bytes().to_vec(),
        }
    }

    /// Native-endian bytes of this width as a number (0 when the size is wrong).
    pub fn decode(self, b: &[u8]) -> u64 {
        let mut a = [0u8; 8];
        if b.len() != self.bytes() {
            return 0;
        }
        match self {
            Width::W8 => u64::from(b[0]),
            Width::W16 => {
                a[..2].copy_from_slice(b);
                u64::from(u16::from_ne_bytes([a[0], a[1]]))
            }
            Width::W32 => {
                a[..4].copy_from_slice(b);
                u64::from(u32::from_ne_bytes([a[0], a[1], a[2], a[3]]))
            }
            Width::W64 => {
                a.copy_from_slice(b);
                u64::from_ne_bytes(a)
            }
        }
    }
}

/// The attributes of a write: whether the server checks the key's attributes, the pass
/// phrase, the expiration.
#[derive(Clone, Copy, Default)]
pub struct Wa<'a> {
    pub checkattr: bool,
    pub pass: Option<&'a str>,
    pub expire: Option<i64>,
}

impl Wa<'_> {
    /// Neither pass phrase nor expiration: the C API's plain form will do.
    fn plain(&self) -> bool {
        self.pass.is_none() && self.expire.is_none()
    }
}

/// The requests of the tool.
pub trait Dkc {
    fn get_value(&mut self, key: &[u8], noattr: bool, pass: Option<&str>) -> Done<Vec<u8>>;
    fn get_subkeys(&mut self, key: &[u8], noattr: bool) -> Done<Vec<Vec<u8>>>;
    fn get_direct(&mut self, key: &[u8], off: i64, len: usize) -> Done<Vec<u8>>;
    fn get_attrs(&mut self, key: &[u8]) -> Done<Vec<(Vec<u8>, Vec<u8>)>>;
    fn set_value(&mut self, key: &[u8], val: &[u8], rmsublist: bool, wa: Wa) -> Done<()>;
    fn set_direct(&mut self, key: &[u8], val: &[u8], off: i64) -> Done<()>;
    /// The subkey list of `key` replaced by `list`; None clears it.
    fn set_subkeys(&mut self, key: &[u8], list: Option<&[Vec<u8>]>) -> Done<()>;
    fn set_subkey(&mut self, parent: &[u8], sub: &[u8], val: &[u8], wa: Wa) -> Done<()>;
    fn remove(&mut self, key: &[u8], all: bool) -> Done<()>;
    fn rename(&mut self, old: &[u8], new: &[u8], parent: Option<&[u8]>, wa: Wa) -> Done<()>;
    /// A push; `key` for a key queue.
    fn q_push(
        &mut self,
        name: &[u8],
        key: Option<&[u8]>,
        val: &[u8],
        fifo: bool,
        wa: Wa,
    ) -> Done<()>;
    /// A pop: (key, value), empty when nothing was popped.
    fn q_pop(
        &mut self,
        name: &[u8],
        keyq: bool,
        fifo: bool,
        checkattr: bool,
        pass: Option<&str>,
    ) -> Done<(Vec<u8>, Vec<u8>)>;
    fn q_remove(
        &mut self,
        name: &[u8],
        keyq: bool,
        count: i32,
        fifo: bool,
        pass: Option<&str>,
    ) -> Done<()>;
    fn cas_init(&mut self, key: &[u8], w: Width, val: u64, wa: Wa) -> Done<()>;
    fn cas_get(&mut self, key: &[u8], w: Width, pass: Option<&str>) -> Done<u64>;
    fn cas_set(&mut self, key: &[u8], w: Width, old: u64, new: u64, wa: Wa) -> Done<()>;
    fn cas_incdec(&mut self, key: &[u8], up: bool, wa: Wa) -> Done<()>;
    /// The DKC_NODESTATE records of every server, back to back.
    fn get_state(&mut self) -> Done<Vec<u8>>;
    /// Closes the permanent session (true without one).
    fn close(&mut self, cleanup: bool) -> bool;
}

/// Where the chmpx slave is: what a session is opened with.
pub struct Target {
    pub conf: String,
    pub ctlport: i16,
    pub cuk: Option<String>,
    pub rejoin: bool,
    pub nogiveup: bool,
}

fn cstring(s: &str) -> CString {
    CString::new(s.split('\0').next().unwrap_or_default()).unwrap_or_default()
}

fn ptr(b: &[u8]) -> *mut c_uchar {
    b.as_ptr() as *mut c_uchar
}

// ------------------------------------------------------------------ the C API

/// The exported C functions: on the permanent handle, or one-time (`k2hdkc_full_*`).
pub struct CApi {
    /// The permanent handle (0: one-time sessions).
    pub handle: u64,
    conf: CString,
    cuk: Option<CString>,
    ctlport: i16,
    rejoin: bool,
    nogiveup: bool,
}

impl CApi {
    pub fn new(t: &Target, handle: u64) -> CApi {
        CApi {
            handle,
            conf: cstring(&t.conf),
            cuk: t.cuk.as_deref().map(cstring),
            ctlport: t.ctlport,
            rejoin: t.rejoin,
            nogiveup: t.nogiveup,
        }
    }

    fn cuk(&self) -> *const c_char {
        self.cuk.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
    }
}

/// Calls the `pm` form on the handle, or the `full` form one-time; (result, code).
macro_rules! call {
    ($s:ident, $pm:ident, $full:ident $(, $a:expr)* $(,)?) => {{
        if $s.handle != 0 {
            let ok = f::$pm($s.handle $(, $a)*) == CBool::TRUE;
            (ok, sess::k2hdkc_get_res_code($s.handle))
        } else {
            let ok = f::$full($s.conf.as_ptr(), $s.ctlport, $s.cuk(), $s.rejoin, $s.nogiveup $(, $a)*)
                == CBool::TRUE;
            (ok, sess::k2hdkc_get_lastres_code())
        }
    }};
}

fn done<T>((ok, code): (bool, u64), val: T) -> Done<T> {
    Done { ok, code, val }
}

impl Dkc for CApi {
    fn get_value(&mut self, key: &[u8], noattr: bool, pass: Option<&str>) -> Done<Vec<u8>> {
        let (mut p, mut n): (*mut c_uchar, usize) = (std::ptr::null_mut(), 0);
        let k = ptr(key);
        let r = if noattr {
            call!(
                self,
                k2hdkc_pm_get_value_np,
                k2hdkc_full_get_value_np,
                k,
                key.len(),
                &mut p,
                &mut n
            )
        } else if let Some(pass) = pass {
            let c = Pass::new(Some(pass));
            call!(
                self,
                k2hdkc_pm_get_value_wp,
                k2hdkc_full_get_value_wp,
                k,
                key.len(),
                c.ptr(),
                &mut p,
                &mut n
            )
        } else {
            call!(
                self,
                k2hdkc_pm_get_value,
                k2hdkc_full_get_value,
                k,
                key.len(),
                &mut p,
                &mut n
            )
        };
        done(r, cmem::take(p, n))
    }

    fn get_subkeys(&mut self, key: &[u8], noattr: bool) -> Done<Vec<Vec<u8>>> {
        let (mut p, mut n): (PK2HDKCKEYPCK, c_int) = (std::ptr::null_mut(), 0);
        let k = ptr(key);
        let r = if noattr {
            call!(
                self,
                k2hdkc_pm_get_subkeys_np,
                k2hdkc_full_get_subkeys_np,
                k,
                key.len(),
                &mut p,
                &mut n
            )
        } else {
            call!(
                self,
                k2hdkc_pm_get_subkeys,
                k2hdkc_full_get_subkeys,
                k,
                key.len(),
                &mut p,
                &mut n
            )
        };
        done(r, cmem::take_keypack(p, n))
    }

    fn get_direct(&mut self, key: &[u8], off: i64, len: usize) -> Done<Vec<u8>> {
        let (mut p, mut n): (*mut c_uchar, usize) = (std::ptr::null_mut(), 0);
        let k = ptr(key);
        let r = call!(
            self,
            k2hdkc_pm_da_get_value,
            k2hdkc_full_da_get_value,
            k,
            key.len(),
            off,
            len,
            &mut p,
            &mut n
        );
        done(r, cmem::take(p, n))
    }

    fn get_attrs(&mut self, key: &[u8]) -> Done<Vec<(Vec<u8>, Vec<u8>)>> {
        let (mut p, mut n): (PK2HDKCATTRPCK, c_int) = (std::ptr::null_mut(), 0);
        let k = ptr(key);
        let r = call!(
            self,
            k2hdkc_pm_get_attrs,
            k2hdkc_full_get_attrs,
            k,
            key.len(),
            &mut p,
            &mut n
        );
        done(r, cmem::take_attrpack(p, n))
    }

    fn set_value(&mut self, key: &[u8], val: &[u8], rmsublist: bool, wa: Wa) -> Done<()> {
        let (k, v) = (ptr(key), ptr(val));
        let r = if wa.plain() && !rmsublist {
            call!(
                self,
                k2hdkc_pm_set_value,
                k2hdkc_full_set_value,
                k,
                key.len(),
                v,
                val.len()
            )
        } else {
            let c = Pass::new(wa.pass);
            let mut e = wa.expire;
            call!(
                self,
                k2hdkc_pm_set_value_wa,
                k2hdkc_full_set_value_wa,
                k,
                key.len(),
                v,
                val.len(),
                rmsublist,
                c.ptr(),
                expire_ptr(&mut e)
            )
        };
        done(r, ())
    }

    fn set_direct(&mut self, key: &[u8], val: &[u8], off: i64) -> Done<()> {
        let (k, v) = (ptr(key), ptr(val));
        done(
            call!(
                self,
                k2hdkc_pm_da_set_value,
                k2hdkc_full_da_set_value,
                k,
                key.len(),
                v,
                val.len(),
                off
            ),
            (),
        )
    }

    fn set_subkeys(&mut self, key: &[u8], list: Option<&[Vec<u8>]>) -> Done<()> {
        let k = ptr(key);
        let Some(list) = list else {
            return done(
                call!(
                    self,
                    k2hdkc_pm_clear_subkeys,
                    k2hdkc_full_clear_subkeys,
                    k,
                    key.len()
                ),
                (),
            );
        };
        // The packs point into `list`, which outlives the call; the library only reads them.
        let mut packs: Vec<K2HDKCKEYPCK> = list
            .iter()
            .map(|s| K2HDKCKEYPCK {
                pkey: ptr(s),
                length: s.len(),
            })
            .collect();
        let p: PK2HDKCKEYPCK = if packs.is_empty() {
            std::ptr::null_mut()
        } else {
            packs.as_mut_ptr()
        };
        let n = packs.len() as c_int;
        done(
            call!(
                self,
                k2hdkc_pm_set_subkeys,
                k2hdkc_full_set_subkeys,
                k,
                key.len(),
                p,
                n
            ),
            (),
        )
    }

    fn set_subkey(&mut self, parent: &[u8], sub: &[u8], val: &[u8], wa: Wa) -> Done<()> {
        let (pk, sk, v) = (ptr(parent), ptr(sub), ptr(val));
        // (sic) the original picks the plain form only with a pass phrase and no expiration,
        // which then drops the pass phrase
        let r = if wa.expire.is_none() && wa.pass.is_some() {
            call!(
                self,
                k2hdkc_pm_set_subkey,
                k2hdkc_full_set_subkey,
                pk,
                parent.len(),
                sk,
                sub.len(),
                v,
                val.len()
            )
        } else {
            let c = Pass::new(wa.pass);
            let mut e = wa.expire;
            call!(
                self,
                k2hdkc_pm_set_subkey_wa,
                k2hdkc_full_set_subkey_wa,
                pk,
                parent.len(),
                sk,
                sub.len(),
                v,
                val.len(),
                wa.checkattr,
                c.ptr(),
                expire_ptr(&mut e)
            )
        };
        done(r, ())
    }

    fn remove(&mut self, key: &[u8], all: bool) -> Done<()> {
        let k = ptr(key);
        let r = if all {
            call!(
                self,
                k2hdkc_pm_remove_all,
                k2hdkc_full_remove_all,
                k,
                key.len()
            )
        } else {
            call!(self, k2hdkc_pm_remove, k2hdkc_full_remove, k, key.len())
        };
        done(r, ())
    }

    fn rename(&mut self, old: &[u8], new: &[u8], parent: Option<&[u8]>, wa: Wa) -> Done<()> {
        let (o, n) = (ptr(old), ptr(new));
        let c = Pass::new(wa.pass);
        let mut e = wa.expire;
        let r = match (parent, wa.plain()) {
            (None, true) => call!(
                self,
                k2hdkc_pm_rename,
                k2hdkc_full_rename,
                o,
                old.len(),
                n,
                new.len()
            ),
            (None, false) => call!(
                self,
                k2hdkc_pm_rename_wa,
                k2hdkc_full_rename_wa,
                o,
                old.len(),
                n,
                new.len(),
                wa.checkattr,
                c.ptr(),
                expire_ptr(&mut e)
            ),
            (Some(pk), true) => call!(
                self,
                k2hdkc_pm_rename_with_parent,
                k2hdkc_full_rename_with_parent,
                o,
                old.len(),
                n,
                new.len(),
                ptr(pk),
                pk.len()
            ),
            (Some(pk), false) => call!(
                self,
                k2hdkc_pm_rename_with_parent_wa,
                k2hdkc_full_rename_with_parent_wa,
                o,
                old.len(),
                n,
                new.len(),
                ptr(pk),
                pk.len(),
                wa.checkattr,
                c.ptr(),
                expire_ptr(&mut e)
            ),
        };
        done(r, ())
    }

    fn q_push(
        &mut self,
        name: &[u8],
        key: Option<&[u8]>,
        val: &[u8],
        fifo: bool,
        wa: Wa,
    ) -> Done<()> {
        let (q, v) = (ptr(name), ptr(val));
        let c = Pass::new(wa.pass);
        let mut e = wa.expire;
        let r = match (key, wa.plain()) {
            (None, true) => call!(
                self,
                k2hdkc_pm_q_push,
                k2hdkc_full_q_push,
                q,
                name.len(),
                v,
                val.len(),
                fifo
            ),
            (None, false) => call!(
                self,
                k2hdkc_pm_q_push_wa,
                k2hdkc_full_q_push_wa,
                q,
                name.len(),
                v,
                val.len(),
                fifo,
                wa.checkattr,
                c.ptr(),
                expire_ptr(&mut e)
            ),
            (Some(key), true) => call!(
                self,
                k2hdkc_pm_keyq_push,
                k2hdkc_full_keyq_push,
                q,
                name.len(),
                ptr(key),
                key.len(),
                v,
                val.len(),
                fifo
            ),
            (Some(key), false) => call!(
                self,
                k2hdkc_pm_keyq_push_wa,
                k2hdkc_full_keyq_push_wa,
                q,
                name.len(),
                ptr(key),
                key.len(),
                v,
                val.len(),
                fifo,
                wa.checkattr,
                c.ptr(),
                expire_ptr(&mut e)
            ),
        };
        done(r, ())
    }

    fn q_pop(
        &mut self,
        name: &[u8],
        keyq: bool,
        fifo: bool,
        _checkattr: bool,
        pass: Option<&str>,
    ) -> Done<(Vec<u8>, Vec<u8>)> {
        // (the C API always checks attributes)
        let q = ptr(name);
        let (mut pk, mut kn): (*mut c_uchar, usize) = (std::ptr::null_mut(), 0);
        let (mut pv, mut vn): (*mut c_uchar, usize) = (std::ptr::null_mut(), 0);
        let c = Pass::new(pass);
        let r = match (keyq, pass.is_some()) {
            (false, false) => call!(
                self,
                k2hdkc_pm_q_pop,
                k2hdkc_full_q_pop,
                q,
                name.len(),
                fifo,
                &mut pv,
                &mut vn
            ),
            (false, true) => call!(
                self,
                k2hdkc_pm_q_pop_wp,
                k2hdkc_full_q_pop_wp,
                q,
                name.len(),
                fifo,
                c.ptr(),
                &mut pv,
                &mut vn
            ),
            (true, false) => call!(
                self,
                k2hdkc_pm_keyq_pop,
                k2hdkc_full_keyq_pop,
                q,
                name.len(),
                fifo,
                &mut pk,
                &mut kn,
                &mut pv,
                &mut vn
            ),
            (true, true) => call!(
                self,
                k2hdkc_pm_keyq_pop_wp,
                k2hdkc_full_keyq_pop_wp,
                q,
                name.len(),
                fifo,
                c.ptr(),
                &mut pk,
                &mut kn,
                &mut pv,
                &mut vn
            ),
        };
        done(r, (cmem::take(pk, kn), cmem::take(pv, vn)))
    }

    fn q_remove(
        &mut self,
        name: &[u8],
        keyq: bool,
        count: i32,
        fifo: bool,
        pass: Option<&str>,
    ) -> Done<()> {
        let q = ptr(name);
        let c = Pass::new(pass);
        let r = match (keyq, pass.is_some()) {
            (false, false) => call!(
                self,
                k2hdkc_pm_q_remove,
                k2hdkc_full_q_remove,
                q,
                name.len(),
                count,
                fifo
            ),
            (false, true) => call!(
                self,
                k2hdkc_pm_q_remove_wp,
                k2hdkc_full_q_remove_wp,
                q,
                name.len(),
                count,
                fifo,
                c.ptr()
            ),
            (true, false) => call!(
                self,
                k2hdkc_pm_keyq_remove,
                k2hdkc_full_keyq_remove,
                q,
                name.len(),
                count,
                fifo
            ),
            (true, true) => call!(
                self,
                k2hdkc_pm_keyq_remove_wp,
                k2hdkc_full_keyq_remove_wp,
                q,
                name.len(),
                count,
                fifo,
                c.ptr()
            ),
        };
        done(r, ())
    }

    fn cas_init(&mut self, key: &[u8], w: Width, val: u64, wa: Wa) -> Done<()> {
        let k = ptr(key);
        let c = Pass::new(wa.pass);
        let mut e = wa.expire;
        let (ep, pp) = (expire_ptr(&mut e), c.ptr());
        let r = match (w, wa.plain()) {
            (Width::W8, true) => call!(
                self,
                k2hdkc_pm_cas8_init,
                k2hdkc_full_cas8_init,
                k,
                key.len(),
                val as u8
            ),
            (Width::W16, true) => call!(
                self,
                k2hdkc_pm_cas16_init,
                k2hdkc_full_cas16_init,
                k,
                key.len(),
                val as u16
            ),
            (Width::W32, true) => call!(
                self,
                k2hdkc_pm_cas32_init,
                k2hdkc_full_cas32_init,
                k,
                key.len(),
                val as u32
            ),
            (Width::W64, true) => call!(
                self,
                k2hdkc_pm_cas64_init,
                k2hdkc_full_cas64_init,
                k,
                key.len(),
                val
            ),
            (Width::W8, false) => call!(
                self,
                k2hdkc_pm_cas8_init_wa,
                k2hdkc_full_cas8_init_wa,
                k,
                key.len(),
                val as u8,
                pp,
                ep
            ),
            (Width::W16, false) => call!(
                self,
                k2hdkc_pm_cas16_init_wa,
                k2hdkc_full_cas16_init_wa,
                k,
                key.len(),
                val as u16,
                pp,
                ep
            ),
            (Width::W32, false) => call!(
                self,
                k2hdkc_pm_cas32_init_wa,
                k2hdkc_full_cas32_init_wa,
                k,
                key.len(),
                val as u32,
                pp,
                ep
            ),
            (Width::W64, false) => call!(
                self,
                k2hdkc_pm_cas64_init_wa,
                k2hdkc_full_cas64_init_wa,
                k,
                key.len(),
                val,
                pp,
                ep
            ),
        };
        done(r, ())
    }

    fn cas_get(&mut self, key: &[u8], w: Width, pass: Option<&str>) -> Done<u64> {
        let k = ptr(key);
        let c = Pass::new(pass);
        let pp = c.ptr();
        let (mut v8, mut v16, mut v32, mut v64) = (0u8, 0u16, 0u32, 0u64);
        let r = match (w, pass.is_none()) {
            (Width::W8, true) => call!(
                self,
                k2hdkc_pm_cas8_get,
                k2hdkc_full_cas8_get,
                k,
                key.len(),
                &mut v8
            ),
            (Width::W16, true) => call!(
                self,
                k2hdkc_pm_cas16_get,
                k2hdkc_full_cas16_get,
                k,
                key.len(),
                &mut v16
            ),
            (Width::W32, true) => call!(
                self,
                k2hdkc_pm_cas32_get,
                k2hdkc_full_cas32_get,
                k,
                key.len(),
                &mut v32
            ),
            (Width::W64, true) => call!(
                self,
                k2hdkc_pm_cas64_get,
                k2hdkc_full_cas64_get,
                k,
                key.len(),
                &mut v64
            ),
            (Width::W8, false) => call!(
                self,
                k2hdkc_pm_cas8_get_wa,
                k2hdkc_full_cas8_get_wa,
                k,
                key.len(),
                pp,
                &mut v8
            ),
            (Width::W16, false) => call!(
                self,
                k2hdkc_pm_cas16_get_wa,
                k2hdkc_full_cas16_get_wa,
                k,
                key.len(),
                pp,
                &mut v16
            ),
            (Width::W32, false) => call!(
                self,
                k2hdkc_pm_cas32_get_wa,
                k2hdkc_full_cas32_get_wa,
                k,
                key.len(),
                pp,
                &mut v32
            ),
            (Width::W64, false) => call!(
                self,
                k2hdkc_pm_cas64_get_wa,
                k2hdkc_full_cas64_get_wa,
                k,
                key.len(),
                pp,
                &mut v64
            ),
        };
        let v = match w {
            Width::W8 => u64::from(v8),
            Width::W16 => u64::from(v16),
            Width::W32 => u64::from(v32),
            Width::W64 => v64,
        };
        done(r, v)
    }

    fn cas_set(&mut self, key: &[u8], w: Width, old: u64, new: u64, wa: Wa) -> Done<()> {
        let k = ptr(key);
        let c = Pass::new(wa.pass);
        let mut e = wa.expire;
        let (ep, pp) = (expire_ptr(&mut e), c.ptr());
        let r = match (w, wa.plain()) {
            (Width::W8, true) => call!(
                self,
                k2hdkc_pm_cas8_set,
                k2hdkc_full_cas8_set,
                k,
                key.len(),
                old as u8,
                new as u8
            ),
            (Width::W16, true) => call!(
                self,
                k2hdkc_pm_cas16_set,
                k2hdkc_full_cas16_set,
                k,
                key.len(),
                old as u16,
                new as u16
            ),
            (Width::W32, true) => call!(
                self,
                k2hdkc_pm_cas32_set,
                k2hdkc_full_cas32_set,
                k,
                key.len(),
                old as u32,
                new as u32
            ),
            (Width::W64, true) => call!(
                self,
                k2hdkc_pm_cas64_set,
                k2hdkc_full_cas64_set,
                k,
                key.len(),
                old,
                new
            ),
            (Width::W8, false) => call!(
                self,
                k2hdkc_pm_cas8_set_wa,
                k2hdkc_full_cas8_set_wa,
                k,
                key.len(),
                old as u8,
                new as u8,
                pp,
                ep
            ),
            (Width::W16, false) => call!(
                self,
                k2hdkc_pm_cas16_set_wa,
                k2hdkc_full_cas16_set_wa,
                k,
                key.len(),
                old as u16,
                new as u16,
                pp,
                ep
            ),
            (Width::W32, false) => call!(
                self,
                k2hdkc_pm_cas32_set_wa,
                k2hdkc_full_cas32_set_wa,
                k,
                key.len(),
                old as u32,
                new as u32,
                pp,
                ep
            ),
            (Width::W64, false) => call!(
                self,
                k2hdkc_pm_cas64_set_wa,
                k2hdkc_full_cas64_set_wa,
                k,
                key.len(),
                old,
                new,
                pp,
                ep
            ),
        };
        done(r, ())
    }

    fn cas_incdec(&mut self, key: &[u8], up: bool, wa: Wa) -> Done<()> {
        let k = ptr(key);
        let c = Pass::new(wa.pass);
        let mut e = wa.expire;
        let (ep, pp) = (expire_ptr(&mut e), c.ptr());
        let r = match (up, wa.plain()) {
            (true, true) => call!(
                self,
                k2hdkc_pm_cas_increment,
                k2hdkc_full_cas_increment,
                k,
                key.len()
            ),
            (false, true) => call!(
                self,
                k2hdkc_pm_cas_decrement,
                k2hdkc_full_cas_decrement,
                k,
                key.len()
            ),
            (true, false) => call!(
                self,
                k2hdkc_pm_cas_increment_wa,
                k2hdkc_full_cas_increment_wa,
                k,
                key.len(),
                pp,
                ep
            ),
            (false, false) => call!(
                self,
                k2hdkc_pm_cas_decrement_wa,
                k2hdkc_full_cas_decrement_wa,
                k,
                key.len(),
                pp,
                ep
            ),
        };
        done(r, ())
    }

    fn get_state(&mut self) -> Done<Vec<u8>> {
        let (mut p, mut n): (PDKC_NODESTATE, usize) = (std::ptr::null_mut(), 0);
        let r = call!(
            self,
            k2hdkc_pm_get_state,
            k2hdkc_full_get_state,
            &mut p,
            &mut n
        );
        done(r, cmem::take(p, n * NODESTATE_SIZE))
    }

    fn close(&mut self, cleanup: bool) -> bool {
        let h = std::mem::take(&mut self.handle);
        h == 0 || sess::k2hdkc_close_chmpx_ex(h, cleanup) == CBool::TRUE
    }
}

// ------------------------------------------------------------------ the Rust API

/// The library's Rust API on a session: the permanent one, or one opened for each request.
pub struct Direct {
    pub perm: Option<Session>,
    t: Target,
}

impl Direct {
    pub fn new(t: Target, perm: Option<Session>) -> Direct {
        Direct { perm, t }
    }

    /// Runs `op` on a session; (what it gave, the session's last code). None: no session.
    fn run<T>(&mut self, op: impl FnOnce(&mut Session) -> T) -> (Option<T>, u64) {
        if let Some(s) = self.perm.as_mut() {
            let r = op(s);
            return (Some(r), s.rescode);
        }
        let t = &self.t;
        let Some(mut s) = Session::connect(&t.conf, t.ctlport, t.cuk.as_deref(), t.rejoin) else {
            return (None, DKC_NORESTYPE);
        };
        let r = op(&mut s);
        let code = s.rescode;
        s.close();
        (Some(r), code)
    }

    fn flag(&mut self, op: impl FnOnce(&mut Session) -> bool) -> Done<()> {
        let (r, code) = self.run(op);
        done((r == Some(true), code), ())
    }

    fn data<T: Default>(&mut self, op: impl FnOnce(&mut Session) -> Option<T>) -> Done<T> {
        let (r, code) = self.run(op);
        match r.flatten() {
            Some(v) => done((true, code), v),
            None => done((false, code), T::default()),
        }
    }
}

impl Dkc for Direct {
    fn get_value(&mut self, key: &[u8], noattr: bool, pass: Option<&str>) -> Done<Vec<u8>> {
        self.data(|s| d::get_value(s, key, !noattr, pass))
    }

    fn get_subkeys(&mut self, key: &[u8], noattr: bool) -> Done<Vec<Vec<u8>>> {
        self.data(|s| d::get_subkeys(s, key, !noattr))
    }

    fn get_direct(&mut self, key: &[u8], off: i64, len: usize) -> Done<Vec<u8>> {
        self.data(|s| d::get_direct(s, key, off, len))
    }

    fn get_attrs(&mut self, key: &[u8]) -> Done<Vec<(Vec<u8>, Vec<u8>)>> {
        self.data(|s| d::get_attrs(s, key))
    }

    fn set_value(&mut self, key: &[u8], val: &[u8], rmsublist: bool, wa: Wa) -> Done<()> {
        self.flag(|s| d::set_value(s, key, val, rmsublist, wa.pass, wa.expire))
    }

    fn set_direct(&mut self, key: &[u8], val: &[u8], off: i64) -> Done<()> {
        self.flag(|s| d::set_direct(s, key, val, off))
    }

    fn set_subkeys(&mut self, key: &[u8], list: Option<&[Vec<u8>]>) -> Done<()> {
        let list = list.map(<[Vec<u8>]>::to_vec).unwrap_or_default();
        self.flag(|s| d::set_subkeys(s, key, list))
    }

    fn set_subkey(&mut self, parent: &[u8], sub: &[u8], val: &[u8], wa: Wa) -> Done<()> {
        self.flag(|s| d::set_subkey(s, parent, sub, val, wa.checkattr, wa.pass, wa.expire))
    }

    fn remove(&mut self, key: &[u8], all: bool) -> Done<()> {
        self.flag(|s| d::remove(s, key, all))
    }

    fn rename(&mut self, old: &[u8], new: &[u8], parent: Option<&[u8]>, wa: Wa) -> Done<()> {
        self.flag(|s| d::rename(s, old, new, parent, wa.checkattr, wa.pass))
    }

    fn q_push(
        &mut self,
        name: &[u8],
        key: Option<&[u8]>,
        val: &[u8],
        fifo: bool,
        wa: Wa,
    ) -> Done<()> {
        self.flag(|s| {
            d::q_push(
                s,
                name,
                key.unwrap_or_default(),
                val,
                fifo,
                wa.checkattr,
                wa.pass,
                wa.expire,
            )
        })
    }

    fn q_pop(
        &mut self,
        name: &[u8],
        keyq: bool,
        fifo: bool,
        _checkattr: bool,
        pass: Option<&str>,
    ) -> Done<(Vec<u8>, Vec<u8>)> {
        self.data(|s| d::q_pop(s, name, fifo, keyq, pass))
    }

    fn q_remove(
        &mut self,
        name: &[u8],
        keyq: bool,
        count: i32,
        fifo: bool,
        pass: Option<&str>,
    ) -> Done<()> {
        self.flag(|s| d::q_remove(s, name, count, fifo, keyq, pass))
    }

    fn cas_init(&mut self, key: &[u8], w: Width, val: u64, wa: Wa) -> Done<()> {
        self.flag(|s| d::cas_init_bytes(s, key, &w.encode(val), wa.pass, wa.expire))
    }

    fn cas_get(&mut self, key: &[u8], w: Width, pass: Option<&str>) -> Done<u64> {
        let r = self.data(|s| d::cas_get_bytes(s, key, w.bytes(), pass));
        done((r.ok, r.code), w.decode(&r.val))
    }

    fn cas_set(&mut self, key: &[u8], w: Width, old: u64, new: u64, wa: Wa) -> Done<()> {
        self.flag(|s| d::cas_set_bytes(s, key, &w.encode(old), &w.encode(new), wa.pass, wa.expire))
    }

    fn cas_incdec(&mut self, key: &[u8], up: bool, wa: Wa) -> Done<()> {
        self.flag(|s| d::cas_increment(s, key, up, wa.pass, wa.expire))
    }

    fn get_state(&mut self) -> Done<Vec<u8>> {
        self.data(d::get_state)
    }

    fn close(&mut self, _cleanup: bool) -> bool {
        if let Some(s) = self.perm.take() {
            s.close();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Width;

    #[test]
    fn cas_widths_round_trip_and_cut() {
        for w in [Width::W8, Width::W16, Width::W32, Width::W64] {
            let b = w.encode(0x0102_0304_0506_0708);
            assert_eq!(b.len(), w.bytes());
            assert_eq!(w.decode(&w.encode(15)), 15);
        }
        assert_eq!(Width::W8.decode(&Width::W8.encode(0x1ff)), 0xff);
        assert_eq!(Width::W16.decode(&[1]), 0);
        assert_eq!(Width::W64.decode(&Width::W64.encode(u64::MAX)), u64::MAX);
    }
}
