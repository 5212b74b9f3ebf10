//! Queues (family O) and key queues (family P).
use crate::capi::ffi::*;
use crate::capi::types::*;
use crate::k2h::K2h;
use crate::lists::Attr;
use crate::queue::{Queue, Trial};
use libc::{c_char, c_int, c_void, size_t, time_t, FILE};
use std::sync::Arc;

pub struct QHandle {
    k: Arc<K2h>,
    q: Queue,
}

static Q: Registry<QHandle> = Registry::new(0x4B32_5100_0000_0001);
static KQ: Registry<QHandle> = Registry::new(0x4B32_4B00_0000_0001);

/// Prefix arguments: (NULL, 0) = default, a mismatch of pointer and length is invalid.
fn prefix<'a>(p: *const u8, len: size_t) -> Result<Option<&'a [u8]>, &'static str> {
    match (p.is_null(), len == 0) {
        (true, true) => Ok(None),
        (false, false) => Ok(key(p, len)),
        _ => Err("prefix pointer and length disagree"),
    }
}

/// String prefix: strlen bytes without the NUL; NULL or "" = default.
fn str_prefix<'a>(p: *const c_char) -> Option<&'a [u8]> {
    str_key(p).map(|k| &k[..k.len() - 1])
}

fn make(
    name: &str,
    reg: &Registry<QHandle>,
    h: k2h_h,
    fifo: bool,
    pref: Result<Option<&[u8]>, &'static str>,
) -> u64 {
    guard(name, 0, || {
        let pref = match pref {
            Ok(p) => p,
            Err(e) => return fail(name, e, 0),
        };
        let Some(k) = handle(name, h) else { return 0 };
        reg.insert(QHandle {
            k,
            q: Queue::new(pref, fifo),
        })
    })
}

fn with<R>(
    name: &str,
    reg: &Registry<QHandle>,
    qh: u64,
    default: R,
    f: impl FnOnce(&QHandle) -> crate::Result<R>,
) -> R
where
    R: Copy,
{
    guard(name, default, || {
        let Some(q) = reg.get(qh) else {
            return fail(name, format!("invalid queue handle {qh:#x}"), default);
        };
        match f(&q) {
            Ok(r) => r,
            Err(e) => fail(name, e, default),
        }
    })
}

/// `K2HATTRPCK[cnt]` to owned attributes.
fn attrpack(p: *const K2HATTRPCK, cnt: c_int) -> Vec<Attr> {
    let mut v = Vec::new();
    if p.is_null() || cnt <= 0 {
        return v;
    }
    for i in 0..cnt as usize {
        // SAFETY: the caller passes `cnt` packs.
        let a = unsafe { &*p.add(i) };
        if let Some(k) = key(a.pkey, a.keylength) {
            v.push((k.to_vec(), val(a.pval, a.vallength).to_vec()));
        }
    }
    v
}

/// Store an optional result into out pointers (NULL/0 when None).
fn put(pp: *mut *mut u8, plen: *mut size_t, data: Option<&[u8]>) {
    match data {
        Some(d) => out_bytes(pp, plen, d),
        None => {
            set_out(pp, std::ptr::null_mut());
            set_out(plen, 0);
        }
    }
}

fn trial_fn(
    fp: k2h_q_remove_trial_callback,
    ext: *mut c_void,
) -> impl FnMut(&[u8], &[Attr]) -> Trial {
    move |data, attrs| {
        // SAFETY: same ABI; the result is read as an int and matched, never as the enum.
        let raw = unsafe {
            std::mem::transmute::<k2h_q_remove_trial_callback, Option<QRemoveTrialRaw>>(fp)
        };
        let Some(cb) = raw else { return Trial::Remove };
        let ap = if attrs.is_empty() {
            std::ptr::null_mut()
        } else {
            malloc_attrpack(attrs)
        };
        // SAFETY: calling the caller's callback with buffers valid for the call.
        let r = unsafe { cb(data.as_ptr(), data.len(), ap, attrs.len() as c_int, ext) };
        crate::capi::get::k2h_free_attrpack(ap, attrs.len() as c_int);
        // As the original compares: ERROR stops, CON_RM/FIN_RM remove, any other value keeps.
        match r {
            -1 => Trial::Stop,
            0 | 2 => Trial::Remove,
            _ => Trial::Keep,
        }
    }
}

fn remove_ext(
    name: &str,
    reg: &Registry<QHandle>,
    qh: u64,
    count: c_int,
    fp: k2h_q_remove_trial_callback,
    ext: *mut c_void,
    pass: *const c_char,
) -> c_int {
    let pass = opt_str(pass);
    // count is treated as unsigned, as in the original
    let n = count as u32 as usize;
    guard(name, -1, || {
        let Some(q) = reg.get(qh) else {
            return fail(name, format!("invalid queue handle {qh:#x}"), 0);
        };
        match q.q.remove(&q.k, n, pass.as_deref(), trial_fn(fp, ext)) {
            Ok(r) => r as c_int,
            Err(e) => fail(name, e, -1),
        }
    })
}

fn dump(name: &str, reg: &Registry<QHandle>, qh: u64, stream: *mut FILE) -> bool {
    with(name, reg, qh, false, |q| {
        Ok(write_stream(stream, q.q.dump(&q.k)?))
    })
}

// ---------------------------------------------------------------- family O

#[no_mangle]
pub extern "C" fn k2h_q_handle(handle: k2h_h, is_fifo: bool) -> k2h_q_h {
    make("k2h_q_handle", &Q, handle, is_fifo, Ok(None))
}
#[no_mangle]
pub extern "C" fn k2h_q_handle_prefix(
    handle: k2h_h,
    is_fifo: bool,
    pref: *const u8,
    preflen: size_t,
) -> k2h_q_h {
    make(
        "k2h_q_handle_prefix",
        &Q,
        handle,
        is_fifo,
        prefix(pref, preflen),
    )
}
#[no_mangle]
pub extern "C" fn k2h_q_handle_str_prefix(
    handle: k2h_h,
    is_fifo: bool,
    pref: *const c_char,
) -> k2h_q_h {
    make(
        "k2h_q_handle_str_prefix",
        &Q,
        handle,
        is_fifo,
        Ok(str_prefix(pref)),
    )
}
#[no_mangle]
pub extern "C" fn k2h_q_free(qhandle: k2h_q_h) -> CBool {
    cbool(|| Q.remove(qhandle).is_some())
}
#[no_mangle]
pub extern "C" fn k2h_q_empty(qhandle: k2h_q_h) -> CBool {
    cbool(|| with("k2h_q_empty", &Q, qhandle, false, |q| q.q.is_empty(&q.k)))
}
#[no_mangle]
pub extern "C" fn k2h_q_count(qhandle: k2h_q_h) -> c_int {
    with("k2h_q_count", &Q, qhandle, 0, |q| {
        Ok(q.q.count(&q.k)?.min(c_int::MAX as usize) as c_int)
    })
}

fn q_read(
    name: &str,
    qh: u64,
    pp: *mut *mut u8,
    plen: *mut size_t,
    pos: c_int,
    pass: *const c_char,
) -> bool {
    if pp.is_null() || plen.is_null() {
        return false;
    }
    put(pp, plen, None);
    let pass = opt_str(pass);
    with(name, &Q, qh, false, |q| {
        let v = q.q.read(&q.k, pos, pass.as_deref())?;
        put(pp, plen, v.as_deref());
        Ok(v.is_some())
    })
}

#[no_mangle]
pub extern "C" fn k2h_q_read(
    qhandle: k2h_q_h,
    ppdata: *mut *mut u8,
    pdatalen: *mut size_t,
    pos: c_int,
) -> CBool {
    cbool(|| {
        q_read(
            "k2h_q_read",
            qhandle,
            ppdata,
            pdatalen,
            pos,
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_str_read(qhandle: k2h_q_h, ppdata: *mut *mut c_char, pos: c_int) -> CBool {
    cbool(|| {
        let mut l = 0;
        q_read(
            "k2h_q_str_read",
            qhandle,
            ppdata as *mut *mut u8,
            &mut l,
            pos,
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_read_wp(
    qhandle: k2h_q_h,
    ppdata: *mut *mut u8,
    pdatalen: *mut size_t,
    pos: c_int,
    encpass: *const c_char,
) -> CBool {
    cbool(|| q_read("k2h_q_read_wp", qhandle, ppdata, pdatalen, pos, encpass))
}
#[no_mangle]
pub extern "C" fn k2h_q_str_read_wp(
    qhandle: k2h_q_h,
    ppdata: *mut *mut c_char,
    pos: c_int,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        let mut l = 0;
        q_read(
            "k2h_q_str_read_wp",
            qhandle,
            ppdata as *mut *mut u8,
            &mut l,
            pos,
            encpass,
        )
    })
}

fn q_push(
    name: &str,
    qh: u64,
    data: &[u8],
    attrs: Vec<Attr>,
    pass: *const c_char,
    exp: *const time_t,
) -> bool {
    let Ok(exp) = expire(exp) else {
        return fail(name, "expire is negative", false);
    };
    let pass = opt_str(pass);
    with(name, &Q, qh, false, |q| {
        q.q.push(&q.k, data, &attrs, pass.as_deref(), exp)
            .map(|_| true)
    })
}

#[no_mangle]
pub extern "C" fn k2h_q_push(qhandle: k2h_q_h, bydata: *const u8, datalen: size_t) -> CBool {
    cbool(|| {
        q_push(
            "k2h_q_push",
            qhandle,
            val(bydata, datalen),
            Vec::new(),
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_str_push(qhandle: k2h_q_h, pdata: *const c_char) -> CBool {
    cbool(|| {
        q_push(
            "k2h_q_str_push",
            qhandle,
            str_val(pdata),
            Vec::new(),
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_push_wa(
    qhandle: k2h_q_h,
    bydata: *const u8,
    datalen: size_t,
    pattrspck: PK2HATTRPCK,
    attrspckcnt: c_int,
    encpass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        q_push(
            "k2h_q_push_wa",
            qhandle,
            val(bydata, datalen),
            attrpack(pattrspck, attrspckcnt),
            encpass,
            expire,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_str_push_wa(
    qhandle: k2h_q_h,
    pdata: *const c_char,
    pattrspck: PK2HATTRPCK,
    attrspckcnt: c_int,
    encpass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        q_push(
            "k2h_q_str_push_wa",
            qhandle,
            str_val(pdata),
            attrpack(pattrspck, attrspckcnt),
            encpass,
            expire,
        )
    })
}

fn q_pop(
    name: &str,
    qh: u64,
    pp: *mut *mut u8,
    plen: *mut size_t,
    pattrs: *mut PK2HATTRPCK,
    pcnt: *mut c_int,
    pass: *const c_char,
) -> bool {
    if pp.is_null() || plen.is_null() {
        return false;
    }
    put(pp, plen, None);
    // The original never hands attributes back here.
    set_out(pattrs, std::ptr::null_mut());
    set_out(pcnt, 0);
    let pass = opt_str(pass);
    with(name, &Q, qh, false, |q| {
        if let Some(Some(v)) = q.q.pop(&q.k, pass.as_deref())? {
            put(pp, plen, Some(&v));
        }
        Ok(true)
    })
}

#[no_mangle]
pub extern "C" fn k2h_q_pop(
    qhandle: k2h_q_h,
    ppdata: *mut *mut u8,
    pdatalen: *mut size_t,
) -> CBool {
    cbool(|| {
        q_pop(
            "k2h_q_pop",
            qhandle,
            ppdata,
            pdatalen,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_str_pop(qhandle: k2h_q_h, ppdata: *mut *mut c_char) -> CBool {
    cbool(|| {
        let mut l = 0;
        q_pop(
            "k2h_q_str_pop",
            qhandle,
            ppdata as *mut *mut u8,
            &mut l,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_pop_wa(
    qhandle: k2h_q_h,
    ppdata: *mut *mut u8,
    pdatalen: *mut size_t,
    ppattrspck: *mut PK2HATTRPCK,
    pattrspckcnt: *mut c_int,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        q_pop(
            "k2h_q_pop_wa",
            qhandle,
            ppdata,
            pdatalen,
            ppattrspck,
            pattrspckcnt,
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_str_pop_wa(
    qhandle: k2h_q_h,
    ppdata: *mut *mut c_char,
    ppattrspck: *mut PK2HATTRPCK,
    pattrspckcnt: *mut c_int,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        let mut l = 0;
        q_pop(
            "k2h_q_str_pop_wa",
            qhandle,
            ppdata as *mut *mut u8,
            &mut l,
            ppattrspck,
            pattrspckcnt,
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_pop_wp(
    qhandle: k2h_q_h,
    ppdata: *mut *mut u8,
    pdatalen: *mut size_t,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        q_pop(
            "k2h_q_pop_wp",
            qhandle,
            ppdata,
            pdatalen,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_str_pop_wp(
    qhandle: k2h_q_h,
    ppdata: *mut *mut c_char,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        let mut l = 0;
        q_pop(
            "k2h_q_str_pop_wp",
            qhandle,
            ppdata as *mut *mut u8,
            &mut l,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_remove(qhandle: k2h_q_h, count: c_int) -> CBool {
    k2h_q_remove_wp(qhandle, count, std::ptr::null())
}
#[no_mangle]
pub extern "C" fn k2h_q_remove_ext(
    qhandle: k2h_q_h,
    count: c_int,
    fp: k2h_q_remove_trial_callback,
    pextdata: *mut c_void,
) -> c_int {
    remove_ext(
        "k2h_q_remove_ext",
        &Q,
        qhandle,
        count,
        fp,
        pextdata,
        std::ptr::null(),
    )
}
#[no_mangle]
pub extern "C" fn k2h_q_remove_wp(qhandle: k2h_q_h, count: c_int, encpass: *const c_char) -> CBool {
    cbool(|| {
        Q.get(qhandle).is_some()
            && remove_ext(
                "k2h_q_remove_wp",
                &Q,
                qhandle,
                count,
                None,
                std::ptr::null_mut(),
                encpass,
            ) >= 0
    })
}
#[no_mangle]
pub extern "C" fn k2h_q_remove_wp_ext(
    qhandle: k2h_q_h,
    count: c_int,
    fp: k2h_q_remove_trial_callback,
    pextdata: *mut c_void,
    encpass: *const c_char,
) -> c_int {
    remove_ext(
        "k2h_q_remove_wp_ext",
        &Q,
        qhandle,
        count,
        fp,
        pextdata,
        encpass,
    )
}
#[no_mangle]
pub extern "C" fn k2h_q_dump(qhandle: k2h_q_h, stream: *mut FILE) -> CBool {
    cbool(|| dump("k2h_q_dump", &Q, qhandle, stream))
}

// ---------------------------------------------------------------- family P

#[no_mangle]
pub extern "C" fn k2h_keyq_handle(handle: k2h_h, is_fifo: bool) -> k2h_keyq_h {
    make("k2h_keyq_handle", &KQ, handle, is_fifo, Ok(None))
}
#[no_mangle]
pub extern "C" fn k2h_keyq_handle_prefix(
    handle: k2h_h,
    is_fifo: bool,
    pref: *const u8,
    preflen: size_t,
) -> k2h_keyq_h {
    make(
        "k2h_keyq_handle_prefix",
        &KQ,
        handle,
        is_fifo,
        prefix(pref, preflen),
    )
}
#[no_mangle]
pub extern "C" fn k2h_keyq_handle_str_prefix(
    handle: k2h_h,
    is_fifo: bool,
    pref: *const c_char,
) -> k2h_keyq_h {
    make(
        "k2h_keyq_handle_str_prefix",
        &KQ,
        handle,
        is_fifo,
        Ok(str_prefix(pref)),
    )
}
#[no_mangle]
pub extern "C" fn k2h_keyq_free(keyqhandle: k2h_keyq_h) -> CBool {
    cbool(|| KQ.remove(keyqhandle).is_some())
}
#[no_mangle]
pub extern "C" fn k2h_keyq_empty(keyqhandle: k2h_keyq_h) -> CBool {
    cbool(|| {
        with("k2h_keyq_empty", &KQ, keyqhandle, false, |q| {
            q.q.is_empty(&q.k)
        })
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_count(keyqhandle: k2h_keyq_h) -> c_int {
    with("k2h_keyq_count", &KQ, keyqhandle, 0, |q| {
        Ok(q.q.count(&q.k)?.min(c_int::MAX as usize) as c_int)
    })
}

/// Read (pos) the key name and its value into optional out pointers.
/// Where a key name goes (both NULL when not wanted).
type KeyOut = (*mut *mut u8, *mut size_t);

fn kq_read(
    name: &str,
    qh: u64,
    kout: KeyOut,
    pv: *mut *mut u8,
    pvl: *mut size_t,
    pos: c_int,
    pass: *const c_char,
) -> bool {
    if pv.is_null() || pvl.is_null() {
        return false;
    }
    let (pk, pkl) = kout;
    put(pk, pkl, None);
    put(pv, pvl, None);
    let pass = opt_str(pass);
    with(name, &KQ, qh, false, |q| {
        match q.q.read_keyval(&q.k, pos, pass.as_deref())? {
            Some((k, v)) => {
                if !pk.is_null() {
                    put(pk, pkl, Some(&k));
                }
                put(pv, pvl, Some(&v));
                Ok(true)
            }
            None => Ok(false),
        }
    })
}

#[no_mangle]
pub extern "C" fn k2h_keyq_read(
    keyqhandle: k2h_keyq_h,
    ppdata: *mut *mut u8,
    pdatalen: *mut size_t,
    pos: c_int,
) -> CBool {
    cbool(|| {
        kq_read(
            "k2h_keyq_read",
            keyqhandle,
            (std::ptr::null_mut(), std::ptr::null_mut()),
            ppdata,
            pdatalen,
            pos,
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_read_keyval(
    keyqhandle: k2h_keyq_h,
    ppkey: *mut *mut u8,
    pkeylen: *mut size_t,
    ppval: *mut *mut u8,
    pvallen: *mut size_t,
    pos: c_int,
) -> CBool {
    cbool(|| {
        if ppkey.is_null() || pkeylen.is_null() {
            return false;
        }
        kq_read(
            "k2h_keyq_read_keyval",
            keyqhandle,
            (ppkey, pkeylen),
            ppval,
            pvallen,
            pos,
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_read(
    keyqhandle: k2h_keyq_h,
    ppdata: *mut *mut c_char,
    pos: c_int,
) -> CBool {
    cbool(|| {
        let mut l = 0;
        kq_read(
            "k2h_keyq_str_read",
            keyqhandle,
            (std::ptr::null_mut(), std::ptr::null_mut()),
            ppdata as *mut *mut u8,
            &mut l,
            pos,
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_read_keyval(
    keyqhandle: k2h_keyq_h,
    ppkey: *mut *mut c_char,
    ppval: *mut *mut c_char,
    pos: c_int,
) -> CBool {
    k2h_keyq_str_read_keyval_wp(keyqhandle, ppkey, ppval, pos, std::ptr::null())
}
#[no_mangle]
pub extern "C" fn k2h_keyq_read_wp(
    keyqhandle: k2h_keyq_h,
    ppdata: *mut *mut u8,
    pdatalen: *mut size_t,
    pos: c_int,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        kq_read(
            "k2h_keyq_read_wp",
            keyqhandle,
            (std::ptr::null_mut(), std::ptr::null_mut()),
            ppdata,
            pdatalen,
            pos,
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_read_keyval_wp(
    keyqhandle: k2h_keyq_h,
    ppkey: *mut *mut u8,
    pkeylen: *mut size_t,
    ppval: *mut *mut u8,
    pvallen: *mut size_t,
    pos: c_int,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        if ppkey.is_null() || pkeylen.is_null() {
            return false;
        }
        kq_read(
            "k2h_keyq_read_keyval_wp",
            keyqhandle,
            (ppkey, pkeylen),
            ppval,
            pvallen,
            pos,
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_read_wp(
    keyqhandle: k2h_keyq_h,
    ppdata: *mut *mut c_char,
    pos: c_int,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        let mut l = 0;
        kq_read(
            "k2h_keyq_str_read_wp",
            keyqhandle,
            (std::ptr::null_mut(), std::ptr::null_mut()),
            ppdata as *mut *mut u8,
            &mut l,
            pos,
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_read_keyval_wp(
    keyqhandle: k2h_keyq_h,
    ppkey: *mut *mut c_char,
    ppval: *mut *mut c_char,
    pos: c_int,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        if ppkey.is_null() {
            return false;
        }
        let (mut kl, mut vl) = (0, 0);
        kq_read(
            "k2h_keyq_str_read_keyval_wp",
            keyqhandle,
            (ppkey as *mut *mut u8, &mut kl),
            ppval as *mut *mut u8,
            &mut vl,
            pos,
            encpass,
        )
    })
}

fn kq_push(
    name: &str,
    qh: u64,
    k: Option<&[u8]>,
    v: &[u8],
    pass: *const c_char,
    exp: *const time_t,
) -> bool {
    let Some(k) = k else {
        return fail(name, "key is empty", false);
    };
    let Ok(exp) = expire(exp) else {
        return fail(name, "expire is negative", false);
    };
    let pass = opt_str(pass);
    with(name, &KQ, qh, false, |q| {
        q.q.push_keyval(&q.k, k, v, pass.as_deref(), exp)
            .map(|_| true)
    })
}

#[no_mangle]
pub extern "C" fn k2h_keyq_push(keyqhandle: k2h_keyq_h, bykey: *const u8, keylen: size_t) -> CBool {
    cbool(|| {
        kq_push(
            "k2h_keyq_push",
            keyqhandle,
            key(bykey, keylen),
            &[],
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_push_keyval(
    keyqhandle: k2h_keyq_h,
    bykey: *const u8,
    keylen: size_t,
    byval: *const u8,
    vallen: size_t,
) -> CBool {
    cbool(|| {
        kq_push(
            "k2h_keyq_push_keyval",
            keyqhandle,
            key(bykey, keylen),
            val(byval, vallen),
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_push(keyqhandle: k2h_keyq_h, pkey: *const c_char) -> CBool {
    cbool(|| {
        kq_push(
            "k2h_keyq_str_push",
            keyqhandle,
            str_key(pkey),
            &[],
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_push_keyval(
    keyqhandle: k2h_keyq_h,
    pkey: *const c_char,
    pval: *const c_char,
) -> CBool {
    cbool(|| {
        kq_push(
            "k2h_keyq_str_push_keyval",
            keyqhandle,
            str_key(pkey),
            str_val(pval),
            std::ptr::null(),
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_push_wa(
    keyqhandle: k2h_keyq_h,
    bykey: *const u8,
    keylen: size_t,
    encpass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        kq_push(
            "k2h_keyq_push_wa",
            keyqhandle,
            key(bykey, keylen),
            &[],
            encpass,
            expire,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_push_keyval_wa(
    keyqhandle: k2h_keyq_h,
    bykey: *const u8,
    keylen: size_t,
    byval: *const u8,
    vallen: size_t,
    encpass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        kq_push(
            "k2h_keyq_push_keyval_wa",
            keyqhandle,
            key(bykey, keylen),
            val(byval, vallen),
            encpass,
            expire,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_push_wa(
    keyqhandle: k2h_keyq_h,
    pkey: *const c_char,
    encpass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        kq_push(
            "k2h_keyq_str_push_wa",
            keyqhandle,
            str_key(pkey),
            &[],
            encpass,
            expire,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_push_keyval_wa(
    keyqhandle: k2h_keyq_h,
    pkey: *const c_char,
    pval: *const c_char,
    encpass: *const c_char,
    expire: *const time_t,
) -> CBool {
    cbool(|| {
        kq_push(
            "k2h_keyq_str_push_keyval_wa",
            keyqhandle,
            str_key(pkey),
            str_val(pval),
            encpass,
            expire,
        )
    })
}

/// Pop: key name and value into optional out pointers; false when empty or unreadable.
fn kq_pop(
    name: &str,
    qh: u64,
    kout: KeyOut,
    pv: *mut *mut u8,
    pvl: *mut size_t,
    pass: *const c_char,
) -> bool {
    if pv.is_null() || pvl.is_null() {
        return false;
    }
    let (pk, pkl) = kout;
    put(pk, pkl, None);
    put(pv, pvl, None);
    let pass = opt_str(pass);
    with(name, &KQ, qh, false, |q| {
        match q.q.pop_keyval(&q.k, pass.as_deref())? {
            Some((k, Some(v))) => {
                if !pk.is_null() {
                    put(pk, pkl, Some(&k));
                }
                put(pv, pvl, Some(&v));
                Ok(true)
            }
            _ => Ok(false),
        }
    })
}

#[no_mangle]
pub extern "C" fn k2h_keyq_pop(
    keyqhandle: k2h_keyq_h,
    ppval: *mut *mut u8,
    pvallen: *mut size_t,
) -> CBool {
    cbool(|| {
        kq_pop(
            "k2h_keyq_pop",
            keyqhandle,
            (std::ptr::null_mut(), std::ptr::null_mut()),
            ppval,
            pvallen,
            std::ptr::null(),
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_pop_keyval(
    keyqhandle: k2h_keyq_h,
    ppkey: *mut *mut u8,
    pkeylen: *mut size_t,
    ppval: *mut *mut u8,
    pvallen: *mut size_t,
) -> CBool {
    k2h_keyq_pop_keyval_wp(keyqhandle, ppkey, pkeylen, ppval, pvallen, std::ptr::null())
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_pop(keyqhandle: k2h_keyq_h, ppval: *mut *mut c_char) -> CBool {
    k2h_keyq_str_pop_wp(keyqhandle, ppval, std::ptr::null())
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_pop_keyval(
    keyqhandle: k2h_keyq_h,
    ppkey: *mut *mut c_char,
    ppval: *mut *mut c_char,
) -> CBool {
    k2h_keyq_str_pop_keyval_wp(keyqhandle, ppkey, ppval, std::ptr::null())
}
#[no_mangle]
pub extern "C" fn k2h_keyq_pop_wp(
    keyqhandle: k2h_keyq_h,
    ppval: *mut *mut u8,
    pvallen: *mut size_t,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        kq_pop(
            "k2h_keyq_pop_wp",
            keyqhandle,
            (std::ptr::null_mut(), std::ptr::null_mut()),
            ppval,
            pvallen,
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_pop_keyval_wp(
    keyqhandle: k2h_keyq_h,
    ppkey: *mut *mut u8,
    pkeylen: *mut size_t,
    ppval: *mut *mut u8,
    pvallen: *mut size_t,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        if ppkey.is_null() || pkeylen.is_null() {
            return false;
        }
        kq_pop(
            "k2h_keyq_pop_keyval_wp",
            keyqhandle,
            (ppkey, pkeylen),
            ppval,
            pvallen,
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_pop_wp(
    keyqhandle: k2h_keyq_h,
    ppval: *mut *mut c_char,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        let mut l = 0;
        kq_pop(
            "k2h_keyq_str_pop_wp",
            keyqhandle,
            (std::ptr::null_mut(), std::ptr::null_mut()),
            ppval as *mut *mut u8,
            &mut l,
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_str_pop_keyval_wp(
    keyqhandle: k2h_keyq_h,
    ppkey: *mut *mut c_char,
    ppval: *mut *mut c_char,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        if ppkey.is_null() {
            return false;
        }
        let (mut kl, mut vl) = (0, 0);
        kq_pop(
            "k2h_keyq_str_pop_keyval_wp",
            keyqhandle,
            (ppkey as *mut *mut u8, &mut kl),
            ppval as *mut *mut u8,
            &mut vl,
            encpass,
        )
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_remove(keyqhandle: k2h_keyq_h, count: c_int) -> CBool {
    k2h_keyq_remove_wp(keyqhandle, count, std::ptr::null())
}
#[no_mangle]
pub extern "C" fn k2h_keyq_remove_ext(
    keyqhandle: k2h_keyq_h,
    count: c_int,
    fp: k2h_q_remove_trial_callback,
    pextdata: *mut c_void,
) -> c_int {
    remove_ext(
        "k2h_keyq_remove_ext",
        &KQ,
        keyqhandle,
        count,
        fp,
        pextdata,
        std::ptr::null(),
    )
}
#[no_mangle]
pub extern "C" fn k2h_keyq_remove_wp(
    keyqhandle: k2h_keyq_h,
    count: c_int,
    encpass: *const c_char,
) -> CBool {
    cbool(|| {
        KQ.get(keyqhandle).is_some()
            && remove_ext(
                "k2h_keyq_remove_wp",
                &KQ,
                keyqhandle,
                count,
                None,
                std::ptr::null_mut(),
                encpass,
            ) >= 0
    })
}
#[no_mangle]
pub extern "C" fn k2h_keyq_remove_wp_ext(
    keyqhandle: k2h_keyq_h,
    count: c_int,
    fp: k2h_q_remove_trial_callback,
    pextdata: *mut c_void,
    encpass: *const c_char,
) -> c_int {
    remove_ext(
        "k2h_keyq_remove_wp_ext",
        &KQ,
        keyqhandle,
        count,
        fp,
        pextdata,
        encpass,
    )
}
#[no_mangle]
pub extern "C" fn k2h_keyq_dump(keyqhandle: k2h_keyq_h, stream: *mut FILE) -> CBool {
    cbool(|| dump("k2h_keyq_dump", &KQ, keyqhandle, stream))
}
