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
    // a truncated log applies its complete records and then fails
    let data = std::fs::read(&log).unwrap();
    let cut = dir.path().join("cut.log");
    std::fs::write(&cut, &data[..data.len() - 3]).unwrap();
    let t = K2h::open_mem(Layout::default()).unwrap();
    assert!(archive::load_archive(&t, &cut, true).is_err());
    assert_eq!(t.get(b"c\0", Protect::No).unwrap().unwrap(), b"9\0");
}
