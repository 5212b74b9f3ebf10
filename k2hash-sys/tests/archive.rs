//! Archives and transaction logs through the safe core: large values as OW_VAL chunks, replay.
mod common;
use k2hash::archive::{self, Kind, Record};
use k2hash::trans::TransOpt;
use k2hash::{K2h, Layout, Protect};

fn records(path: &std::path::Path) -> Vec<Record> {
    let data = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut off = 0;
    while let Some((r, len)) = Record::decode(&data[off..]).unwrap() {
        out.push(r);
        off += len;
    }
    out
}

#[test]
fn large_values_are_split_into_overwrite_records() {
    let dir = common::tempdir();
    let k = K2h::open_mem(Layout::default()).unwrap();
    let big: Vec<u8> = (0..(11 * 1024 * 1024 + 5))
        .map(|i| (i % 251) as u8)
        .collect();
    k.set_value(b"big\0", &big, None, None).unwrap();
    k.set_value(b"small\0", b"s\0", None, None).unwrap();
    let ar = dir.path().join("big.ar");
    archive::put_archive(&k, &ar, false).unwrap();
    let recs = records(&ar);
    let kinds: Vec<Kind> = recs.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        vec![Kind::SetAll, Kind::OwVal, Kind::OwVal, Kind::SetAll]
    );
    assert!(recs[0].value.is_empty());
    assert_eq!(recs[1].value.len(), archive::LARGE_VALUE);
    assert_eq!(recs[2].exdata, (archive::LARGE_VALUE as i64).to_le_bytes());
    let r = K2h::open_mem(Layout::default()).unwrap();
    archive::load_archive(&r, &ar, false).unwrap();
    assert_eq!(r.get(b"big\0", Protect::No).unwrap().unwrap(), big);
    assert_eq!(r.get(b"small\0", Protect::No).unwrap().unwrap(), b"s\0");
}

#[test]
fn transaction_log_replays_every_kind_of_change() {
    let dir = common::tempdir();
    let log = dir.path().join("t.log");
    let k = K2h::open_mem(Layout::default()).unwrap();
    k.trans
        .enable(TransOpt {
            path: Some(log.clone()),
            ..Default::default()
        })
        .unwrap();
    k.set_value(b"a\0", b"1\0", None, None).unwrap();
    k.add_subkey(b"a\0", b"b\0", b"2\0", None, None).unwrap();
    k.add_attr(b"a\0", b"n\0", b"v\0").unwrap();
    k.overwrite_value(b"b\0", 0, b"9").unwrap();
    k.rename(b"b\0", b"c\0").unwrap();
    k.set_value(b"d\0", b"4\0", None, None).unwrap();
    k.remove(b"d\0").unwrap();
    k.trans.disable();
    k.set_value(b"unlogged\0", b"x", None, None).unwrap();
    let kinds: Vec<Kind> = records(&log).iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        vec![
            Kind::SetAll,
            Kind::SetAll,
            Kind::ReplaceSkey,
            Kind::ReplaceAttrs,
            Kind::OwVal,
            Kind::Rename,
            Kind::SetAll,
            Kind::DelKey
        ]
    );
    let r = K2h::open_mem(Layout::default()).unwrap();
    archive::load_archive(&r, &log, false).unwrap();
    for key in [&b"a\0"[..], b"c\0"] {
        assert_eq!(
            r.db().get(key, k2hash::Parts::ALL).unwrap(),
            k.db().get(key, k2hash::Parts::ALL).unwrap()
        );
    }
    assert_eq!(r.get(b"c\0", Protect::No).unwrap().unwrap(), b"9\0");
    assert!(r.get(b"d\0", Protect::No).unwrap().is_none());
    assert!(r.get(b"unlogged\0", Protect::No).unwrap().is_none());
    // As the original: a last record whose head is whole but whose data is cut fails the load
    // (complete records stay applied); with errskip it is skipped and the load succeeds. A tail
    // shorter than a head (the last DEL_KEY is 106 bytes, 3 cut) is ignored either way.
    let data = std::fs::read(&log).unwrap();
    let cut = dir.path().join("cut.log");
    for (cut_by, plain_ok) in [(1, false), (3, true)] {
        std::fs::write(&cut, &data[..data.len() - cut_by]).unwrap();
        for errskip in [false, true] {
            let t = K2h::open_mem(Layout::default()).unwrap();
            let ok = archive::load_archive(&t, &cut, errskip).is_ok();
            assert_eq!(ok, plain_ok || errskip, "cut {cut_by} errskip {errskip}");
            assert_eq!(t.get(b"c\0", Protect::No).unwrap().unwrap(), b"9\0");
        }
    }
}

#[test]
fn garbage_archive_with_errskip_succeeds_and_loses_nothing() {
    let dir = common::tempdir();
    let k = K2h::open_mem(Layout::default()).unwrap();
    k.set_value(b"kept\0", b"v\0", None, None).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for (n, size) in [4096usize, 100, 104, 1 << 20].into_iter().enumerate() {
        let garbage: Vec<u8> = (0..size)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let p = dir.path().join(format!("garbage{n}.ar"));
        std::fs::write(&p, &garbage).unwrap();
        assert!(archive::load_archive(&k, &p, true).is_ok(), "size {size}");
        // without errskip a garbage head fails; a file shorter than one head is empty
        assert_eq!(
            archive::load_archive(&k, &p, false).is_ok(),
            size < 104,
            "size {size}"
        );
        assert_eq!(k.get(b"kept\0", Protect::No).unwrap().unwrap(), b"v\0");
    }
}

#[test]
fn overwrites_log_del_key_then_set_all_as_the_original() {
    let dir = common::tempdir();
    let log = dir.path().join("ow.log");
    let k = K2h::open_mem(Layout::default()).unwrap();
    k.set_value(b"plain\0", b"1\0", None, None).unwrap();
    k.set_value(b"withattr\0", b"1\0", None, None).unwrap();
    k.add_attr(b"withattr\0", b"n\0", b"v\0").unwrap();
    k.add_subkey(b"parent\0", b"child\0", b"c\0", None, None)
        .unwrap();
    k.trans
        .enable(TransOpt {
            path: Some(log.clone()),
            ..Default::default()
        })
        .unwrap();
    k.set_value(b"plain\0", b"2\0", None, None).unwrap();
    k.set_value(b"withattr\0", b"2\0", None, None).unwrap();
    k.set_value(b"parent\0", b"p\0", None, None).unwrap();
    k.set_value(b"fresh\0", b"f\0", None, None).unwrap();
    k.trans.disable();
    let recs = records(&log);
    let seq: Vec<(Kind, Vec<u8>)> = recs.iter().map(|r| (r.kind, r.key.clone())).collect();
    let want = |kinds: &[(Kind, &[u8])]| -> Vec<(Kind, Vec<u8>)> {
        kinds.iter().map(|(k, n)| (*k, n.to_vec())).collect()
    };
    assert_eq!(
        seq,
        want(&[
            (Kind::DelKey, b"plain\0"),
            (Kind::SetAll, b"plain\0"),
            (Kind::DelKey, b"withattr\0"),
            (Kind::SetAll, b"withattr\0"),
            (Kind::DelKey, b"parent\0"),
            (Kind::SetAll, b"parent\0"),
            (Kind::SetAll, b"fresh\0"),
        ])
    );
    // the SET_ALL of an overwrite keeps subkeys and attributes
    assert_eq!(
        recs[3].attrs,
        k.db()
            .get(b"withattr\0", k2hash::Parts::ALL)
            .unwrap()
            .unwrap()
            .attrs
    );
    assert!(!recs[5].subkeys.is_empty());
    // replayed into a copy of the state before the log, the result is the same
    let r = K2h::open_mem(Layout::default()).unwrap();
    r.set_value(b"plain\0", b"1\0", None, None).unwrap();
    r.add_subkey(b"parent\0", b"child\0", b"c\0", None, None)
        .unwrap();
    archive::load_archive(&r, &log, false).unwrap();
    for key in [&b"plain\0"[..], b"withattr\0", b"parent\0", b"fresh\0"] {
        assert_eq!(
            r.db().get(key, k2hash::Parts::ALL).unwrap(),
            k.db().get(key, k2hash::Parts::ALL).unwrap()
        );
    }
}

#[test]
fn history_moves_are_logged_as_rename_with_attrs_and_replay_hidden() {
    let dir = common::tempdir();
    let log = dir.path().join("his.log");
    let k = K2h::open_mem(Layout::default()).unwrap();
    k.set_common_attr(None, None, None, Some(true), None)
        .unwrap();
    k.set_value(b"hk\0", b"v1\0", None, None).unwrap();
    k.trans
        .enable(TransOpt {
            path: Some(log.clone()),
            ..Default::default()
        })
        .unwrap();
    k.set_value(b"hk\0", b"v2\0", None, None).unwrap();
    k.trans.disable();
    let recs = records(&log);
    let kinds: Vec<Kind> = recs.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec![Kind::Rename, Kind::SetAll]);
    assert_eq!(recs[0].key, b"hk\0");
    assert!(recs[0].exdata.starts_with(b"hk\0\0"));
    let his = k2hash::lists::parse_attrs(&recs[0].attrs);
    assert!(k2hash::attrs::is_history(&his));
    // the history copy is hidden in the writer and after a replay
    let hkey = recs[0].exdata.clone();
    assert!(k.get(&hkey, Protect::Yes(None)).unwrap().is_none());
    let r = K2h::open_mem(Layout::default()).unwrap();
    r.set_value(b"hk\0", b"v1\0", None, None).unwrap();
    archive::load_archive(&r, &log, false).unwrap();
    assert!(r.get(&hkey, Protect::Yes(None)).unwrap().is_none());
    assert_eq!(r.get(&hkey, Protect::No).unwrap().unwrap(), b"v1\0");
    assert_eq!(
        r.get(b"hk\0", Protect::Yes(None)).unwrap().unwrap(),
        b"v2\0"
    );
}
