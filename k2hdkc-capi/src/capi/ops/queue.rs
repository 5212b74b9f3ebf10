//! The queue forms: `q_*` (values under a prefix) and `keyq_*` (key/value pairs), push, pop and
//! remove with their `_wa`, `_wp` and `_str` variants; pushes and pops are server-side
//! composites (one request each), removes are pops repeated.
use super::*;

/// A popped key or value handed out as a malloc'd C string, NULL when empty.
fn text_out(pp: *mut *mut c_char, v: &[u8]) {
    set_out(
        pp,
        if v.is_empty() {
            std::ptr::null_mut()
        } else {
            malloc_copy(v) as *mut c_char
        },
    );
}

pub(super) fn push(
    s: &mut Session,
    prefix: &[u8],
    key: &[u8],
    val: &[u8],
    fifo: bool,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    if prefix.is_empty() || val.is_empty() {
        return false;
    }
    let pass = pass_of(encpass);
    let ex = expire_of(expire);
    let body = Body::Qpush(QpushReq {
        is_fifo: fifo,
        prefix: prefix.to_vec(),
        key: key.to_vec(),
        val: val.to_vec(),
        attrs: Vec::new(),
        encpass: pass,
        expire: ex.unwrap_or(0),
        enable_expire: ex.is_some(),
        check_attr: checkattr,
        fifo,
    });
    simple(s, DKC_COM_QPUSH, body, prefix)
}

/// QPOP: Some((key, value)) once an answer arrived (empty value: nothing popped).
pub(super) fn pop(
    s: &mut Session,
    prefix: &[u8],
    fifo: bool,
    keyqueue: bool,
    encpass: *mut c_char,
) -> Option<(Vec<u8>, Vec<u8>)> {
    if prefix.is_empty() {
        return None;
    }
    let pass = pass_of(encpass);
    let body = Body::Qpop(QpopReq {
        prefix: prefix.to_vec(),
        encpass: pass,
        check_attr: true,
        fifo,
        keyqueue,
    });
    let a = s.request(&req(DKC_COM_QPOP, body), prefix)?;
    Some(match a.body {
        Body::QpopAnswer(r) if res_is_success(a.head.restype) => (r.key, r.val),
        _ => (Vec::new(), Vec::new()),
    })
}

pub(super) fn q_remove_of(
    s: &mut Session,
    prefix: &[u8],
    count: libc::c_int,
    fifo: bool,
    keyqueue: bool,
    encpass: *mut c_char,
) -> bool {
    if count <= 0 {
        return false;
    }
    for _ in 0..count {
        match pop(s, prefix, fifo, keyqueue, encpass) {
            Some((_, v)) if !v.is_empty() => {}
            _ => return false,
        }
    }
    true
}

pub fn q_push(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    is_fifo: bool,
) -> bool {
    push(
        s,
        kb(pprefix, prefixlength),
        &[],
        kb(pval, vallength),
        is_fifo,
        true,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn q_str_push(s: &mut Session, pprefix: *mut c_char, pval: *mut c_char, is_fifo: bool) -> bool {
    push(
        s,
        ks(pprefix),
        &[],
        ks(pval),
        is_fifo,
        true,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn q_push_wa(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    is_fifo: bool,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    push(
        s,
        kb(pprefix, prefixlength),
        &[],
        kb(pval, vallength),
        is_fifo,
        checkattr,
        encpass,
        expire,
    )
}

pub fn q_str_push_wa(
    s: &mut Session,
    pprefix: *mut c_char,
    pval: *mut c_char,
    is_fifo: bool,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    push(
        s,
        ks(pprefix),
        &[],
        ks(pval),
        is_fifo,
        checkattr,
        encpass,
        expire,
    )
}

pub fn keyq_push(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    pkey: *mut c_uchar,
    keylength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    is_fifo: bool,
) -> bool {
    push(
        s,
        kb(pprefix, prefixlength),
        kb(pkey, keylength),
        kb(pval, vallength),
        is_fifo,
        true,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn keyq_str_push(
    s: &mut Session,
    pprefix: *mut c_char,
    pkey: *mut c_char,
    pval: *mut c_char,
    is_fifo: bool,
) -> bool {
    push(
        s,
        ks(pprefix),
        ks(pkey),
        ks(pval),
        is_fifo,
        true,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
}

pub fn keyq_push_wa(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    pkey: *mut c_uchar,
    keylength: usize,
    pval: *mut c_uchar,
    vallength: usize,
    is_fifo: bool,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    push(
        s,
        kb(pprefix, prefixlength),
        kb(pkey, keylength),
        kb(pval, vallength),
        is_fifo,
        checkattr,
        encpass,
        expire,
    )
}

pub fn keyq_str_push_wa(
    s: &mut Session,
    pprefix: *mut c_char,
    pkey: *mut c_char,
    pval: *mut c_char,
    is_fifo: bool,
    checkattr: bool,
    encpass: *mut c_char,
    expire: *mut i64,
) -> bool {
    push(
        s,
        ks(pprefix),
        ks(pkey),
        ks(pval),
        is_fifo,
        checkattr,
        encpass,
        expire,
    )
}

pub fn q_pop(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    is_fifo: bool,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    let Some((_, v)) = pop(
        s,
        kb(pprefix, prefixlength),
        is_fifo,
        false,
        std::ptr::null_mut(),
    ) else {
        return false;
    };
    out_bin(v, ppval, pvallength);
    true
}

pub fn q_str_pop(
    s: &mut Session,
    pprefix: *mut c_char,
    is_fifo: bool,
    ppval: *mut *mut c_char,
) -> bool {
    let Some((_, v)) = pop(s, ks(pprefix), is_fifo, false, std::ptr::null_mut()) else {
        return false;
    };
    text_out(ppval, &v);
    true
}

pub fn keyq_pop(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    is_fifo: bool,
    ppkey: *mut *mut c_uchar,
    pkeylength: *mut usize,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    let Some((k, v)) = pop(
        s,
        kb(pprefix, prefixlength),
        is_fifo,
        true,
        std::ptr::null_mut(),
    ) else {
        return false;
    };
    out_bin(k, ppkey, pkeylength);
    out_bin(v, ppval, pvallength);
    true
}

pub fn keyq_str_pop(
    s: &mut Session,
    pprefix: *mut c_char,
    is_fifo: bool,
    ppkey: *mut *mut c_char,
    ppval: *mut *mut c_char,
) -> bool {
    let Some((k, v)) = pop(s, ks(pprefix), is_fifo, true, std::ptr::null_mut()) else {
        return false;
    };
    text_out(ppkey, &k);
    text_out(ppval, &v);
    true
}

pub fn q_remove(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    count: libc::c_int,
    is_fifo: bool,
) -> bool {
    q_remove_of(
        s,
        kb(pprefix, prefixlength),
        count,
        is_fifo,
        false,
        std::ptr::null_mut(),
    )
}

pub fn q_str_remove(
    s: &mut Session,
    pprefix: *mut c_char,
    count: libc::c_int,
    is_fifo: bool,
) -> bool {
    q_remove_of(s, ks(pprefix), count, is_fifo, false, std::ptr::null_mut())
}

pub fn keyq_remove(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    count: libc::c_int,
    is_fifo: bool,
) -> bool {
    q_remove_of(
        s,
        kb(pprefix, prefixlength),
        count,
        is_fifo,
        true,
        std::ptr::null_mut(),
    )
}

pub fn keyq_str_remove(
    s: &mut Session,
    pprefix: *mut c_char,
    count: libc::c_int,
    is_fifo: bool,
) -> bool {
    q_remove_of(s, ks(pprefix), count, is_fifo, true, std::ptr::null_mut())
}

pub fn q_pop_wp(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    is_fifo: bool,
    encpass: *mut c_char,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    let Some((_, v)) = pop(s, kb(pprefix, prefixlength), is_fifo, false, encpass) else {
        return false;
    };
    out_bin(v, ppval, pvallength);
    true
}

pub fn q_str_pop_wp(
    s: &mut Session,
    pprefix: *mut c_char,
    is_fifo: bool,
    encpass: *mut c_char,
    ppval: *mut *mut c_char,
) -> bool {
    let Some((_, v)) = pop(s, ks(pprefix), is_fifo, false, encpass) else {
        return false;
    };
    text_out(ppval, &v);
    true
}

pub fn keyq_pop_wp(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    is_fifo: bool,
    encpass: *mut c_char,
    ppkey: *mut *mut c_uchar,
    pkeylength: *mut usize,
    ppval: *mut *mut c_uchar,
    pvallength: *mut usize,
) -> bool {
    let Some((k, v)) = pop(s, kb(pprefix, prefixlength), is_fifo, true, encpass) else {
        return false;
    };
    out_bin(k, ppkey, pkeylength);
    out_bin(v, ppval, pvallength);
    true
}

pub fn keyq_str_pop_wp(
    s: &mut Session,
    pprefix: *mut c_char,
    is_fifo: bool,
    encpass: *mut c_char,
    ppkey: *mut *mut c_char,
    ppval: *mut *mut c_char,
) -> bool {
    let Some((k, v)) = pop(s, ks(pprefix), is_fifo, true, encpass) else {
        return false;
    };
    text_out(ppkey, &k);
    text_out(ppval, &v);
    true
}

pub fn q_remove_wp(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    count: libc::c_int,
    is_fifo: bool,
    encpass: *mut c_char,
) -> bool {
    q_remove_of(s, kb(pprefix, prefixlength), count, is_fifo, false, encpass)
}

pub fn q_str_remove_wp(
    s: &mut Session,
    pprefix: *mut c_char,
    count: libc::c_int,
    is_fifo: bool,
    encpass: *mut c_char,
) -> bool {
    q_remove_of(s, ks(pprefix), count, is_fifo, false, encpass)
}

pub fn keyq_remove_wp(
    s: &mut Session,
    pprefix: *mut c_uchar,
    prefixlength: usize,
    count: libc::c_int,
    is_fifo: bool,
    encpass: *mut c_char,
) -> bool {
    q_remove_of(s, kb(pprefix, prefixlength), count, is_fifo, true, encpass)
}

pub fn keyq_str_remove_wp(
    s: &mut Session,
    pprefix: *mut c_char,
    count: libc::c_int,
    is_fifo: bool,
    encpass: *mut c_char,
) -> bool {
    q_remove_of(s, ks(pprefix), count, is_fifo, true, encpass)
}
