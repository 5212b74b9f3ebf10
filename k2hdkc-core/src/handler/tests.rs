use super::*;
use k2hash::Layout;

fn handler() -> Handler {
    let db = K2h::open_mem(Layout::default()).expect("memory k2hash");
    // the server forces mtime on (spec §3.6)
    db.set_common_attr(Some(true), None, None, None, None)
        .expect("mtime");
    Handler::new(db)
}

fn req(t: u64, body: Body) -> Message {
    Message {
        head: Head::request(t, 9),
        body,
    }
}

const NOW: Ts = Ts {
    sec: 1_800_000_000,
    nsec: 0,
};

fn code(o: &Outcome) -> u64 {
    o.reply.as_ref().expect("a reply").head.restype
}

fn set(h: &Handler, key: &[u8], val: &[u8]) -> Outcome {
    h.handle(
        &req(
            DKC_COM_SET,
            Body::Set(SetReq {
                key: key.to_vec(),
                val: val.to_vec(),
                ..SetReq::default()
            }),
        ),
        NOW,
    )
}

fn get(h: &Handler, key: &[u8]) -> (u64, Vec<u8>) {
    let o = h.handle(
        &req(
            DKC_COM_GET,
            Body::Get(GetReq {
                key: key.to_vec(),
                check_attr: true,
                ..GetReq::default()
            }),
        ),
        NOW,
    );
    let r = o.reply.unwrap();
    let v = match r.body {
        Body::Val(v) => v.val,
        other => panic!("{other:?}"),
    };
    (r.head.restype, v)
}

#[test]
fn set_get_del_and_their_copies() {
    let h = handler();
    assert_eq!(
        get(&h, b"k\0"),
        (0x1_0000, vec![]),
        "absent: success, no data"
    );
    let o = set(&h, b"k\0", b"v\0");
    assert_eq!(code(&o), 0);
    assert_eq!(
        o.reply.as_ref().unwrap().head.comnumber,
        9,
        "the request's number"
    );
    // the copy: the stored element with its mtime, hashed as k2hash hashes the key
    let (hash, m) = o.replicate.expect("a copy");
    assert_eq!(hash, k2hash::hash::hash(b"k\0"));
    let Body::ReplKey(r) = &m.body else { panic!() };
    assert_eq!(
        (r.key.as_slice(), r.val.as_slice(), r.ts),
        (&b"k\0"[..], &b"v\0"[..], NOW)
    );
    assert!(replicate::mtime(&lists::parse_attrs(&r.attrs)).is_some());
    assert_eq!(get(&h, b"k\0"), (0, b"v\0".to_vec()));
    // another server applies the copy
    let other = handler();
    assert_eq!(code(&other.handle(&m, NOW)), 0);
    assert_eq!(get(&other, b"k\0"), (0, b"v\0".to_vec()));
    // DEL answers and sends REPL_DEL
    let o = h.handle(
        &req(
            DKC_COM_DEL,
            Body::Del(DelReq {
                key: b"k\0".to_vec(),
            }),
        ),
        NOW,
    );
    assert_eq!(code(&o), 0);
    let (_, m) = o.replicate.unwrap();
    let later = Ts {
        sec: NOW.sec + 10,
        nsec: 0,
    };
    let Body::ReplDel(mut rd) = m.body.clone() else {
        panic!()
    };
    rd.ts = later;
    let o = other.handle(&req(DKC_COM_REPL_DEL, Body::ReplDel(rd)), later);
    assert_eq!(code(&o), 0);
    assert_eq!(get(&other, b"k\0").0, 0x1_0000);
}

#[test]
fn a_copy_older_than_the_stored_key_is_refused() {
    let h = handler();
    set(&h, b"k\0", b"new\0");
    let old = Ts { sec: 1, nsec: 0 };
    let del = ReplDelReq {
        hash: 0,
        subhash: 0,
        key: b"k\0".to_vec(),
        ts: old,
    };
    let o = h.handle(&req(DKC_COM_REPL_DEL, Body::ReplDel(del)), old);
    assert_eq!(code(&o), compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_REPL));
    assert_eq!(get(&h, b"k\0").1, b"new\0".to_vec());
}

#[test]
fn cas_requests() {
    let h = handler();
    let key = b"cas\0".to_vec();
    let init = CasInitReq {
        key: key.clone(),
        val: 7u32.to_ne_bytes().to_vec(),
        ..CasInitReq::default()
    };
    assert_eq!(
        code(&h.handle(&req(DKC_COM_CAS_INIT, Body::CasInit(init)), NOW)),
        0
    );
    let cas_set = |old: u32, new: u32| CasSetReq {
        key: key.clone(),
        oldval: old.to_ne_bytes().to_vec(),
        newval: new.to_ne_bytes().to_vec(),
        check_attr: true,
        ..CasSetReq::default()
    };
    let o = h.handle(&req(DKC_COM_CAS_SET, Body::CasSet(cas_set(1, 2))), NOW);
    assert_eq!(code(&o), 0x8000_0000_0000_0017, "not the same value");
    assert!(o.replicate.is_none());
    let o = h.handle(&req(DKC_COM_CAS_SET, Body::CasSet(cas_set(7, 8))), NOW);
    assert_eq!(code(&o), 0);
    assert!(o.replicate.is_some());
    let incdec = |up: bool| CasIncDecReq {
        key: key.clone(),
        check_attr: true,
        increment: up,
        ..CasIncDecReq::default()
    };
    h.handle(&req(DKC_COM_CAS_INCDEC, Body::CasIncDec(incdec(true))), NOW);
    h.handle(&req(DKC_COM_CAS_INCDEC, Body::CasIncDec(incdec(true))), NOW);
    h.handle(
        &req(DKC_COM_CAS_INCDEC, Body::CasIncDec(incdec(false))),
        NOW,
    );
    let o = h.handle(
        &req(
            DKC_COM_CAS_GET,
            Body::CasGet(CasGetReq {
                key: key.clone(),
                check_attr: true,
                ..CasGetReq::default()
            }),
        ),
        NOW,
    );
    let Some(Message {
        body: Body::Val(v), ..
    }) = o.reply
    else {
        panic!()
    };
    assert_eq!(v.val, 9u32.to_ne_bytes().to_vec());
    // a value of 3 bytes is no integer; a missing key is an error for CAS
    set(&h, b"odd\0", b"ab\0");
    let o = h.handle(
        &req(
            DKC_COM_CAS_INCDEC,
            Body::CasIncDec(CasIncDecReq {
                key: b"odd\0".to_vec(),
                increment: true,
                ..CasIncDecReq::default()
            }),
        ),
        NOW,
    );
    assert_eq!(
        code(&o),
        compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_NOTSAMEDATATYPE)
    );
    let o = h.handle(
        &req(
            DKC_COM_CAS_INCDEC,
            Body::CasIncDec(CasIncDecReq {
                key: b"none\0".to_vec(),
                increment: true,
                ..CasIncDecReq::default()
            }),
        ),
        NOW,
    );
    assert_eq!(code(&o), compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_NODATA));
    assert_eq!(inc_dec(&[255], true), Some(vec![0]));
}

#[test]
fn subkeys_attrs_and_direct_access() {
    let h = handler();
    set(&h, b"p\0", b"parent\0");
    let add = |s: &[u8]| AddSubkeysReq {
        key: b"p\0".to_vec(),
        subkey: s.to_vec(),
        check_attr: true,
    };
    h.handle(
        &req(DKC_COM_ADD_SUBKEYS, Body::AddSubkeys(add(b"c1\0"))),
        NOW,
    );
    h.handle(
        &req(DKC_COM_ADD_SUBKEYS, Body::AddSubkeys(add(b"c2\0"))),
        NOW,
    );
    let o = h.handle(
        &req(
            DKC_COM_GET_SUBKEYS,
            Body::GetSubkeys(GetSubkeysReq {
                key: b"p\0".to_vec(),
                check_attr: true,
            }),
        ),
        NOW,
    );
    let Some(Message {
        body: Body::Subkeys(s),
        ..
    }) = o.reply
    else {
        panic!()
    };
    assert_eq!(
        lists::parse_subkeys(&s.subkeys),
        vec![b"c1\0".to_vec(), b"c2\0".to_vec()]
    );
    let del = |s: &[u8]| DelSubkeysReq {
        key: b"p\0".to_vec(),
        subkey: s.to_vec(),
        check_attr: true,
    };
    let o = h.handle(
        &req(DKC_COM_DEL_SUBKEYS, Body::DelSubkeys(del(b"zz\0"))),
        NOW,
    );
    assert_eq!(
        code(&o),
        compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_DELSKEYLIST)
    );
    let o = h.handle(
        &req(DKC_COM_DEL_SUBKEYS, Body::DelSubkeys(del(b"c1\0"))),
        NOW,
    );
    assert_eq!(code(&o), 0);
    // attributes: mtime is there; a missing one gets no answer at all (the original's quirk)
    let o = h.handle(
        &req(
            DKC_COM_GET_ATTRS,
            Body::GetAttrs(GetAttrsReq {
                key: b"p\0".to_vec(),
            }),
        ),
        NOW,
    );
    assert_eq!(code(&o), 0);
    let attr = |name: &[u8]| GetAttrReq {
        key: b"p\0".to_vec(),
        attr: name.to_vec(),
    };
    let o = h.handle(&req(DKC_COM_GET_ATTR, Body::GetAttr(attr(b"mtime\0"))), NOW);
    assert_eq!(code(&o), 0);
    let o = h.handle(
        &req(DKC_COM_GET_ATTR, Body::GetAttr(attr(b"nothing\0"))),
        NOW,
    );
    assert!(o.reply.is_none());
    // direct access: write at an offset, read a window; bad windows are errors
    let o = h.handle(
        &req(
            DKC_COM_SET_DIRECT,
            Body::SetDirect(SetDirectReq {
                key: b"p\0".to_vec(),
                val: b"XY".to_vec(),
                val_pos: 1,
            }),
        ),
        NOW,
    );
    assert_eq!(code(&o), 0);
    let window = |pos: i64, len: u64| GetDirectReq {
        key: b"p\0".to_vec(),
        val_length: len,
        val_pos: pos,
    };
    let o = h.handle(&req(DKC_COM_GET_DIRECT, Body::GetDirect(window(0, 4))), NOW);
    let Some(Message {
        body: Body::Val(v), ..
    }) = o.reply
    else {
        panic!()
    };
    assert_eq!(v.val, b"pXYe".to_vec());
    let o = h.handle(
        &req(DKC_COM_GET_DIRECT, Body::GetDirect(window(-1, 4))),
        NOW,
    );
    assert_eq!(code(&o), compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_INVAL));
    let o = h.handle(
        &req(DKC_COM_GET_DIRECT, Body::GetDirect(window(100, 4))),
        NOW,
    );
    assert_eq!(code(&o), 0x1_0000);
    // SET with rm_subkeylist empties the list
    let o = h.handle(
        &req(
            DKC_COM_SET,
            Body::Set(SetReq {
                key: b"p\0".to_vec(),
                val: b"again\0".to_vec(),
                rm_subkeylist: true,
                ..SetReq::default()
            }),
        ),
        NOW,
    );
    assert_eq!(code(&o), 0);
    assert_eq!(h.db().get_subkeys(b"p\0", false).unwrap(), None);
}

#[test]
fn k2hstate_of_this_server() {
    let h = handler();
    set(&h, b"k\0", b"v\0");
    let m = req(
        DKC_COM_K2HSTATE,
        Body::K2hState(K2hStateReq {
            chmpxid: 0x1234,
            base_hash: 1,
        }),
    );
    let o = h.k2hstate(&m, Some((0x1234, "node", 1, 2)));
    let Some(Message {
        body: Body::K2hStateAnswer(r),
        ..
    }) = &o.reply
    else {
        panic!()
    };
    assert_eq!(r.nodestate.len(), NODESTATE_SIZE);
    assert_eq!(&r.nodestate[..8], &0x1234u64.to_le_bytes());
    assert_eq!(&r.nodestate[8..12], b"node");
    assert_eq!(&r.nodestate[1033..1041], &1u64.to_le_bytes());
    assert_eq!(&r.nodestate[1049..1055], b"K2H V2");
    // encoded, it is the original's 1,373-byte answer
    assert_eq!(o.reply.as_ref().unwrap().encode().len(), 1373);
    let o = h.k2hstate(&m, Some((0x9999, "other", 1, 2)));
    assert_eq!(
        code(&o),
        compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_NOTSAMECHMPXID)
    );
    let o = h.k2hstate(&m, None);
    assert_eq!(
        code(&o),
        compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_GETSLEFSVRCHMPX)
    );
}
