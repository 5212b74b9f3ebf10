use super::*;
use proptest::prelude::*;

fn round(m: Message) -> Vec<u8> {
    let b = m.encode();
    assert_eq!(
        u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize,
        b.len(),
        "head length"
    );
    let back = Message::decode(&b).expect("decodes");
    assert_eq!(back.body, m.body);
    assert_eq!(back.head.comtype, m.head.comtype);
    b
}

#[test]
fn sizes_are_the_originals() {
    // verified with a sizeof probe of the original structures (spec §3.2)
    for (t, req, res) in [
        (DKC_COM_GET, Some(73), 56),
        (DKC_COM_GET_DIRECT, Some(72), 56),
        (DKC_COM_GET_SUBKEYS, Some(57), 56),
        (DKC_COM_GET_ATTRS, Some(56), 56),
        (DKC_COM_GET_ATTR, Some(72), 56),
        (DKC_COM_SET, Some(122), 40),
        (DKC_COM_SET_DIRECT, Some(80), 40),
        (DKC_COM_SET_SUBKEYS, Some(72), 40),
        (DKC_COM_SET_ALL, Some(104), 40),
        (DKC_COM_ADD_SUBKEYS, Some(73), 40),
        (DKC_COM_ADD_SUBKEY, None, 40),
        (DKC_COM_DEL, Some(56), 40),
        (DKC_COM_DEL_SUBKEYS, Some(73), 40),
        (DKC_COM_DEL_SUBKEY, None, 40),
        (DKC_COM_REN, Some(89), 40),
        (DKC_COM_QPUSH, Some(132), 40),
        (DKC_COM_QPOP, Some(75), 72),
        (DKC_COM_QDEL, None, 40),
        (DKC_COM_CAS_INIT, Some(97), 40),
        (DKC_COM_CAS_GET, Some(73), 56),
        (DKC_COM_CAS_SET, Some(114), 40),
        (DKC_COM_CAS_INCDEC, Some(83), 40),
        (DKC_COM_REPL_KEY, Some(136), 40),
        (DKC_COM_K2HSTATE, Some(56), 1373),
        (DKC_COM_STATE, None, 56),
        (DKC_COM_REPL_DEL, Some(88), 40),
    ] {
        assert_eq!(struct_size(t, false), req, "request {t}");
        assert_eq!(struct_size(t, true), Some(res), "response {t}");
    }
    assert_eq!(NODESTATE_SIZE, 1333);
}

#[test]
fn lengths_of_the_verified_dump() {
    // SET "dk\0" = "dv\0": 122 + 3 + 3; GET request 73 + 3; GET response 56 + 3
    let set = Message {
        head: Head::request(DKC_COM_SET, 0),
        body: Body::Set(SetReq {
            key: b"dk\0".to_vec(),
            val: b"dv\0".to_vec(),
            ..SetReq::default()
        }),
    };
    let b = round(set);
    assert_eq!(b.len(), 128);
    // items back to back after the structure, absent ones pointing past what precedes them
    let at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    assert_eq!((at(40), at(48)), (122, 3)); // key
    assert_eq!((at(56), at(64)), (125, 3)); // value
    assert_eq!((at(72), at(80)), (128, 0)); // attrs
    assert_eq!((at(88), at(96)), (128, 0)); // encpass
    assert_eq!(at(8), DKC_NORESTYPE);
    let get = Message {
        head: Head::request(DKC_COM_GET, 0),
        body: Body::Get(GetReq {
            key: b"dk\0".to_vec(),
            check_attr: true,
            ..GetReq::default()
        }),
    };
    assert_eq!(round(get.clone()).len(), 76);
    let res = Message {
        head: Head::response(&get.head, DKC_RES_SUCCESS, 0),
        body: Body::Val(ValRes {
            val: b"dv\0".to_vec(),
        }),
    };
    assert_eq!(round(res).len(), 59);
}

#[test]
fn error_responses_are_the_structure_with_empty_items() {
    let req = Head::request(DKC_COM_CAS_GET, 7);
    let m = empty_response(&req, compose_res(DKC_RES_SUCCESS, DKC_RES_SUBCODE_NODATA));
    let b = m.encode();
    assert_eq!(b.len(), 56);
    assert_eq!(u64::from_le_bytes(b[8..16].try_into().unwrap()), 0x1_0000);
    assert_eq!(u64::from_le_bytes(b[16..24].try_into().unwrap()), 7);
    assert_eq!(u64::from_le_bytes(b[40..48].try_into().unwrap()), 56);
    assert_eq!(u64::from_le_bytes(b[48..56].try_into().unwrap()), 0);
    assert_eq!(
        compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_NOTSAMEVAL),
        0x8000_0000_0000_0017
    );
    assert!(res_is_success(0x1_0000));
    assert!(!res_is_success(0x8000_0000_0000_0016));
    assert_eq!(dkccom_type_name(8), "DKC_COM_ADD_SUBKEY");
    assert_eq!(dkccom_type_name(99), "UNKNOWN_DKC_COM_TYPE");
}

#[test]
fn every_message_round_trips() {
    let ts = Ts { sec: 5, nsec: 6 };
    let reqs = vec![
        Body::GetDirect(GetDirectReq {
            key: b"k".to_vec(),
            val_length: 9,
            val_pos: 3,
        }),
        Body::GetSubkeys(GetSubkeysReq {
            key: b"k".to_vec(),
            check_attr: true,
        }),
        Body::GetAttrs(GetAttrsReq { key: b"k".to_vec() }),
        Body::GetAttr(GetAttrReq {
            key: b"k".to_vec(),
            attr: b"mtime".to_vec(),
        }),
        Body::Set(SetReq {
            key: b"k".to_vec(),
            val: b"v".to_vec(),
            attrs: vec![1, 2],
            encpass: b"p\0".to_vec(),
            expire: 30,
            enable_expire: true,
            rm_subkeylist: true,
            queue_type: DKC_QUEUE_TYPE_KEYQUEUE,
        }),
        Body::SetDirect(SetDirectReq {
            key: b"k".to_vec(),
            val: b"v".to_vec(),
            val_pos: 4,
        }),
        Body::SetSubkeys(SetSubkeysReq {
            key: b"k".to_vec(),
            subkeys: vec![0; 9],
        }),
        Body::SetAll(SetAllReq {
            key: b"k".to_vec(),
            val: b"v".to_vec(),
            subkeys: vec![1],
            attrs: vec![2],
        }),
        Body::AddSubkeys(AddSubkeysReq {
            key: b"k".to_vec(),
            subkey: b"s".to_vec(),
            check_attr: true,
        }),
        Body::Del(DelReq { key: b"k".to_vec() }),
        Body::DelSubkeys(DelSubkeysReq {
            key: b"k".to_vec(),
            subkey: b"s".to_vec(),
            check_attr: false,
        }),
        Body::Ren(RenReq {
            oldkey: b"a".to_vec(),
            newkey: b"b".to_vec(),
            encpass: vec![],
            check_attr: true,
        }),
        Body::Qpush(QpushReq {
            is_fifo: true,
            prefix: b"q".to_vec(),
            key: vec![],
            val: b"v".to_vec(),
            attrs: vec![],
            encpass: vec![],
            expire: 0,
            enable_expire: false,
            check_attr: true,
            fifo: true,
        }),
        Body::Qpop(QpopReq {
            prefix: b"q".to_vec(),
            encpass: vec![],
            check_attr: true,
            fifo: false,
            keyqueue: true,
        }),
        Body::CasInit(CasInitReq {
            key: b"c".to_vec(),
            val: 7u32.to_le_bytes().to_vec(),
            encpass: vec![],
            expire: 0,
            enable_expire: false,
        }),
        Body::CasGet(CasGetReq {
            key: b"c".to_vec(),
            encpass: vec![],
            check_attr: true,
        }),
        Body::CasSet(CasSetReq {
            key: b"c".to_vec(),
            oldval: vec![1],
            newval: vec![2],
            encpass: vec![],
            expire: 9,
            enable_expire: true,
            check_attr: true,
        }),
        Body::CasIncDec(CasIncDecReq {
            key: b"c".to_vec(),
            encpass: vec![],
            expire: 0,
            enable_expire: false,
            check_attr: true,
            increment: true,
        }),
        Body::ReplKey(ReplKeyReq {
            hash: 1,
            subhash: 2,
            key: b"k".to_vec(),
            val: b"v".to_vec(),
            subkeys: vec![],
            attrs: vec![3; 40],
            ts,
        }),
        Body::K2hState(K2hStateReq {
            chmpxid: 0x1234,
            base_hash: 2,
        }),
        Body::ReplDel(ReplDelReq {
            hash: 1,
            subhash: 2,
            key: b"k".to_vec(),
            ts,
        }),
    ];
    for body in reqs {
        let t = match &body {
            Body::GetDirect(_) => DKC_COM_GET_DIRECT,
            Body::GetSubkeys(_) => DKC_COM_GET_SUBKEYS,
            Body::GetAttrs(_) => DKC_COM_GET_ATTRS,
            Body::GetAttr(_) => DKC_COM_GET_ATTR,
            Body::Set(_) => DKC_COM_SET,
            Body::SetDirect(_) => DKC_COM_SET_DIRECT,
            Body::SetSubkeys(_) => DKC_COM_SET_SUBKEYS,
            Body::SetAll(_) => DKC_COM_SET_ALL,
            Body::AddSubkeys(_) => DKC_COM_ADD_SUBKEYS,
            Body::Del(_) => DKC_COM_DEL,
            Body::DelSubkeys(_) => DKC_COM_DEL_SUBKEYS,
            Body::Ren(_) => DKC_COM_REN,
            Body::Qpush(_) => DKC_COM_QPUSH,
            Body::Qpop(_) => DKC_COM_QPOP,
            Body::CasInit(_) => DKC_COM_CAS_INIT,
            Body::CasGet(_) => DKC_COM_CAS_GET,
            Body::CasSet(_) => DKC_COM_CAS_SET,
            Body::CasIncDec(_) => DKC_COM_CAS_INCDEC,
            Body::ReplKey(_) => DKC_COM_REPL_KEY,
            Body::K2hState(_) => DKC_COM_K2HSTATE,
            Body::ReplDel(_) => DKC_COM_REPL_DEL,
            _ => unreachable!(),
        };
        round(Message {
            head: Head::request(t, 3),
            body,
        });
    }
    let req = Head::request(DKC_COM_QPOP, 1);
    round(Message {
        head: Head::response(&req, 0, 0),
        body: Body::QpopAnswer(QpopRes {
            key: b"k".to_vec(),
            val: b"v".to_vec(),
        }),
    });
    let req = Head::request(DKC_COM_K2HSTATE, 1);
    round(Message {
        head: Head::response(&req, 0, 0),
        body: Body::K2hStateAnswer(K2hStateRes {
            nodestate: vec![7; NODESTATE_SIZE],
        }),
    });
    let req = Head::request(DKC_COM_STATE, 1);
    round(Message {
        head: Head::response(&req, 0, 0),
        body: Body::State(StateRes {
            states: vec![vec![1; NODESTATE_SIZE], vec![2; NODESTATE_SIZE]],
        }),
    });
    let req = Head::request(DKC_COM_SET, 1);
    round(Message {
        head: Head::response(&req, 0, 0),
        body: Body::Bare,
    });
}

#[test]
fn hostile_messages_are_errors() {
    let good = Message {
        head: Head::request(DKC_COM_DEL, 0),
        body: Body::Del(DelReq {
            key: b"key".to_vec(),
        }),
    }
    .encode();
    // unknown type
    let mut b = good.clone();
    b[0] = 26;
    assert_eq!(Message::decode(&b), Err(WireError::UnknownType(26)));
    // a head length beyond what arrived (the original trusted it)
    let mut b = good.clone();
    b[32..40].copy_from_slice(&1000u64.to_le_bytes());
    assert!(matches!(Message::decode(&b), Err(WireError::Length { .. })));
    // shorter than the structure
    let mut b = good.clone();
    b[32..40].copy_from_slice(&41u64.to_le_bytes());
    assert!(matches!(Message::decode(&b), Err(WireError::Length { .. })));
    // an item that lies outside, or overflows
    let mut b = good.clone();
    b[48..56].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(Message::decode(&b), Err(WireError::Item { .. })));
    let mut b = good.clone();
    b[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(Message::decode(&b), Err(WireError::Item { .. })));
    // an item pointing into the head
    let mut b = good.clone();
    b[40..48].copy_from_slice(&0u64.to_le_bytes());
    assert!(matches!(Message::decode(&b), Err(WireError::Item { .. })));
    // a client composite has no request on the wire
    let mut b = good;
    b[0] = DKC_COM_QDEL as u8;
    assert_eq!(Message::decode(&b), Err(WireError::NoRequest(DKC_COM_QDEL)));
    assert_eq!(Message::decode(&[0; 10]), Err(WireError::Short(10)));
}

proptest! {
    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400), t in 0u64..30, res in any::<bool>()) {
        let mut b = data;
        if b.len() >= 40 {
            b[0..8].copy_from_slice(&t.to_le_bytes());
            if !res {
                b[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
            }
            let n = b.len() as u64;
            b[32..40].copy_from_slice(&n.to_le_bytes());
        }
        let _ = Message::decode(&b);
    }
}
