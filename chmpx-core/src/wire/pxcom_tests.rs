//! Unit tests of the PXCOM codec (a child module of `pxcom`, kept in its own file).

use super::*;
use crate::wire::chmpxsvr::tests::sample_svr;

fn hp(name: &str, port: i16) -> HostPort {
    HostPort {
        name: name.into(),
        port,
    }
}

pub(crate) fn sample_coninit() -> ConinitReq {
    ConinitReq {
        name: "slave.example.com".into(),
        chmpxid: 0x232d_c4da_ba0c_76d8,
        ctlport: 8031,
        cuk: "my-cuk".into(),
        custom_seed: "my-seed".into(),
        endpoints: std::array::from_fn(|i| hp(&format!("ep{i}.example"), 1000 + i as i16)),
        ctlendpoints: std::array::from_fn(|i| {
            hp(&format!("cep{i}.example"), (50000 + i as i32) as i16)
        }),
        forward_peers: std::array::from_fn(|i| hp(&format!("fw{i}.example"), 2000 + i as i16)),
        reverse_peers: std::array::from_fn(|i| hp(&format!("rv{i}.example"), 3000 + i as i16)),
    }
}

/// One message of every type, with non-trivial contents.
pub(crate) fn one_of_each() -> Vec<PxCom> {
    vec![
        PxCom::MergeStart,
        PxCom::MergeAbort,
        PxCom::MergeComplete,
        PxCom::ServerDown { chmpxid: 0x0102 },
        PxCom::ReqUpdateData {
            merge_param: MergeParam {
                chmpxid: 7,
                startts: Timespec { sec: 1, nsec: 2 },
                max_pending_hash: 3,
                pending_hash: 1,
                max_base_hash: 2,
                base_hash: 0,
                replica_count: 1,
                is_expire_check: true,
            },
            idmap: vec![(1, CHMPX_COM_REQ_UPDATE_DO), (2, CHMPX_COM_REQ_UPDATE_FAIL)],
        },
        PxCom::ResUpdateData {
            ts: Timespec { sec: 9, nsec: 8 },
            data: vec![1, 2, 3, 4, 5],
        },
        PxCom::ResultUpdateData {
            chmpxid: 5,
            result: CHMPX_COM_REQ_UPDATE_SUCCESS,
        },
        PxCom::MergeSuspend,
        PxCom::MergeNoSuspend,
        PxCom::MergeSuspendGet,
        PxCom::MergeSuspendRes { is_suspend: true },
        PxCom::VersionReq,
        PxCom::VersionRes(VersionInfo {
            com_version: 2,
            cur_version: 2,
            bin_version: 0x1_0000_0071,
            str_version: "1.0.113".into(),
            commit_hash: "unknown".into(),
        }),
        PxCom::N2StatusReq,
        PxCom::N2StatusRes {
            servers: vec![sample_svr(0), sample_svr(1)],
        },
        PxCom::N2ConinitReq(Box::new(sample_coninit())),
        PxCom::N2ConinitRes,
        PxCom::N2JoinRing {
            server: Box::new(sample_svr(2)),
        },
        PxCom::N2StatusUpdate { servers: vec![] },
        PxCom::N2StatusConfirm {
            servers: vec![sample_svr(3)],
        },
        PxCom::N2StatusChange {
            server: Box::new(sample_svr(4)),
        },
    ]
}

#[test]
fn every_type_round_trips_and_has_the_documented_size() {
    let all = one_of_each();
    assert_eq!(all.len(), 21);
    for (i, body) in all.into_iter().enumerate() {
        assert_eq!(body.pxcom_type(), 9 + i as u64);
        let msg = PxMsg {
            result: (i % 2) as u64,
            body,
        };
        let b = msg.encode();
        assert_eq!(b.len(), msg.encoded_len(), "{}", msg.body.name());
        assert_eq!(
            u64::from_be_bytes(b[16..24].try_into().unwrap()),
            b.len() as u64
        );
        assert_eq!(PxMsg::decode(&b).unwrap(), msg, "{}", msg.body.name());
    }
}

#[test]
fn struct_sizes_match_the_spec_table() {
    let expect: [(u64, usize); 29] = [
        (1, 24),
        (2, 40),
        (3, 34),
        (4, 24),
        (5, 6216),
        (6, 40),
        (7, 40),
        (8, 6216),
        (9, 24),
        (10, 24),
        (11, 24),
        (12, 32),
        (13, 105),
        (14, 56),
        (15, 40),
        (16, 24),
        (17, 24),
        (18, 24),
        (19, 25),
        (20, 24),
        (21, 112),
        (22, 24),
        (23, 40),
        (24, 21587),
        (25, 24),
        (26, 26744),
        (27, 40),
        (28, 40),
        (29, 26744),
    ];
    for (t, size) in expect {
        assert_eq!(pxcom_struct_size(t), Some(size), "type {t}");
    }
    assert_eq!(pxcom_struct_size(0), None);
    assert_eq!(pxcom_struct_size(30), None);
    // Encoded sizes with trailing arrays.
    let req = |n: usize| PxCom::ReqUpdateData {
        merge_param: MergeParam::default(),
        idmap: vec![(0, 0); n],
    };
    for n in [0, 1, 5] {
        assert_eq!(PxMsg::new(req(n)).encode().len(), 105 + 16 * n);
    }
    let res = PxCom::ResUpdateData {
        ts: Timespec::default(),
        data: vec![0; 77],
    };
    assert_eq!(PxMsg::new(res).encode().len(), 56 + 77);
    for n in [0, 2] {
        let body = PxCom::N2StatusRes {
            servers: vec![ChmpxSvr::default(); n],
        };
        assert_eq!(PxMsg::new(body).encode().len(), 40 + 26720 * n);
    }
    let coninit = PxCom::N2ConinitReq(Box::default());
    assert_eq!(PxMsg::new(coninit).encode().len(), 21587);
}

#[test]
fn names() {
    assert_eq!(pxcom_type_name(21), "CHMPX_COM_VERSION_RES");
    assert_eq!(pxcom_type_name(0), "CHMPX_COM_UNKNOWN");
    assert_eq!(pxcom_type_name(30), "NOT_DEFINED_TYPE");
    assert_eq!(pxcom_type_name(u64::MAX), "NOT_DEFINED_TYPE");
    assert_eq!(
        PxCom::N2StatusChange {
            server: Box::default()
        }
        .name(),
        "CHMPX_COM_N2_STATUS_CHANGE"
    );
}

#[test]
fn bin_version() {
    assert_eq!(
        VersionInfo::bin_version_of("1.0.113"),
        0x0000_0001_0000_0071
    );
    assert_eq!(VersionInfo::bin_version_of("1.0.71"), 0x0000_0001_0000_0047);
    assert_eq!(VersionInfo::bin_version_of(""), 0);
}

fn set_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_be_bytes());
}

#[test]
fn rejects_inconsistent_lengths_counts_and_offsets() {
    let base = PxMsg::new(PxCom::ReqUpdateData {
        merge_param: MergeParam::default(),
        idmap: vec![(1, 1), (2, 2)],
    })
    .encode();

    let mut b = base.clone();
    set_u64(&mut b, 16, 999); // head.length
    assert!(matches!(
        PxMsg::decode(&b),
        Err(WireError::LengthMismatch { .. })
    ));

    let mut b = base.clone();
    set_u64(&mut b, 89, 3); // count too large for the buffer
    assert!(matches!(
        PxMsg::decode(&b),
        Err(WireError::BadCount { count: 3, .. })
    ));

    let mut b = base.clone();
    set_u64(&mut b, 89, u64::MAX); // count = -1
    assert!(matches!(
        PxMsg::decode(&b),
        Err(WireError::BadCount { count: -1, .. })
    ));

    let mut b = base.clone();
    set_u64(&mut b, 89, 0x1000_0000_0000_0001); // count * 16 overflows
    assert!(matches!(PxMsg::decode(&b), Err(WireError::BadCount { .. })));

    let mut b = base.clone();
    set_u64(&mut b, 97, 104); // plist_offset
    assert!(matches!(
        PxMsg::decode(&b),
        Err(WireError::BadArrayOffset { .. })
    ));

    // Truncated payload with a head.length that agrees.
    let mut b = base[..100].to_vec();
    set_u64(&mut b, 16, 100);
    assert!(matches!(
        PxMsg::decode(&b),
        Err(WireError::Truncated { .. })
    ));

    // RES_UPDATEDATA data length disagreeing with the buffer.
    let mut b = PxMsg::new(PxCom::ResUpdateData {
        ts: Timespec::default(),
        data: vec![7; 10],
    })
    .encode();
    set_u64(&mut b, 40, 11);
    assert!(matches!(
        PxMsg::decode(&b),
        Err(WireError::LengthMismatch { .. })
    ));
    set_u64(&mut b, 40, 10);
    set_u64(&mut b, 48, 0);
    assert!(matches!(
        PxMsg::decode(&b),
        Err(WireError::BadArrayOffset { .. })
    ));

    // Fixed-size types must be exactly their size.
    let mut b = PxMsg::new(PxCom::ServerDown { chmpxid: 1 }).encode();
    b.push(0);
    set_u64(&mut b, 16, 33);
    assert!(matches!(
        PxMsg::decode(&b),
        Err(WireError::LengthMismatch { .. })
    ));

    // Status arrays.
    let mut b = PxMsg::new(PxCom::N2StatusRes {
        servers: vec![ChmpxSvr::default()],
    })
    .encode();
    set_u64(&mut b, 24, 2);
    assert!(matches!(PxMsg::decode(&b), Err(WireError::BadCount { .. })));
    set_u64(&mut b, 24, 1);
    set_u64(&mut b, 32, 24);
    assert!(matches!(
        PxMsg::decode(&b),
        Err(WireError::BadArrayOffset { .. })
    ));
}

#[test]
fn result_updatedata_ignores_head_length() {
    let msg = PxMsg::new(PxCom::ResultUpdateData {
        chmpxid: 9,
        result: CHMPX_COM_REQ_UPDATE_SUCCESS,
    });
    let mut b = msg.encode();
    set_u64(&mut b, 16, 0xdead_beef_dead_beef); // what an original sender may leave there
    assert_eq!(PxMsg::decode(&b).unwrap(), msg);
    // ...but the structure itself must still be exactly 40 bytes.
    b.push(0);
    assert!(PxMsg::decode(&b).is_err());
}

#[test]
fn v1_and_unknown_types() {
    for t in 1..=8u64 {
        let mut b = vec![0u8; 24];
        set_u64(&mut b, 0, t);
        set_u64(&mut b, 16, 24);
        assert_eq!(PxMsg::decode(&b), Err(WireError::Unsupported(t)));
    }
    for t in [0u64, 30, u64::MAX] {
        let mut b = vec![0u8; 24];
        set_u64(&mut b, 0, t);
        set_u64(&mut b, 16, 24);
        assert_eq!(PxMsg::decode(&b), Err(WireError::UnknownType(t)));
    }
    assert!(matches!(
        PxMsg::decode(&[0; 23]),
        Err(WireError::Truncated { .. })
    ));
}
