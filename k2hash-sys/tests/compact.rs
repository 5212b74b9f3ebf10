//! In-place compaction (k2hcompress -direct).
mod common;
use k2hash::format::{AREA_ELEMENT, AREA_PAGE};
use k2hash::{K2h, Protect};

fn z(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn last_kind(k: &K2h) -> u64 {
    k.db().areas().unwrap().last().unwrap().0
}

/// Fill until the last area is of `kind`, remove most keys, compact, check data and size.
fn compacts(kind: u64, value: &[u8]) {
    let d = common::tempdir();
    let p = d.path().join("c.k2h");
    let k = K2h::open_file(&p, false, false, false, common::small_layout()).unwrap();
    let mut n = 0;
    while !(last_kind(&k) == kind && k.db().areas().unwrap().len() > 4) {
        k.set_value(&z(&format!("k{n}")), value, None, None)
            .unwrap();
        n += 1;
        assert!(n < 100_000, "the last area never became {kind}");
    }
    let keep: Vec<usize> = (0..n).filter(|i| i % 50 == 0).collect();
    for i in 0..n {
        if i % 50 != 0 {
            k.remove(&z(&format!("k{i}"))).unwrap();
        }
    }
    let before = std::fs::metadata(&p).unwrap().len();
    let areas = k.db().areas().unwrap().len();
    assert!(k.db().compress_last_area().unwrap());
    assert_eq!(k.db().areas().unwrap().len(), areas - 1);
    let after = std::fs::metadata(&p).unwrap().len();
    assert!(after < before, "{after} >= {before}");
    k.db().verify().unwrap();
    for &i in &keep {
        let key = z(&format!("k{i}"));
        assert!(k.db().exists(&key).unwrap(), "k{i}");
        let v = k.get(&key, Protect::No).unwrap().unwrap_or_default();
        assert_eq!(v, value, "k{i}");
    }
    assert_eq!(k.db().keys().unwrap().len(), keep.len());
    // the compacted file keeps working: writes that need room again grow it
    for i in 0..n {
        k.set_value(&z(&format!("n{i}")), value, None, None)
            .unwrap();
    }
    k.db().verify().unwrap();
    drop(k);
    let r = K2h::open_file(&p, true, false, false, common::small_layout()).unwrap();
    assert_eq!(r.db().keys().unwrap().len(), keep.len() + n);
}

#[test]
fn compacts_trailing_page_area() {
    compacts(AREA_PAGE, &[b'v'; 1000]);
}

#[test]
fn compacts_trailing_element_area() {
    compacts(AREA_ELEMENT, b"");
}

#[test]
fn nothing_to_compact_is_not_an_error() {
    let d = common::tempdir();
    let p = d.path().join("c.k2h");
    let k = K2h::open_file(&p, false, false, false, common::small_layout()).unwrap();
    k.set_value(b"a\0", b"1\0", None, None).unwrap();
    assert!(!k.db().compress_last_area().unwrap());
    assert_eq!(
        k.get(b"a\0", Protect::No).unwrap().as_deref(),
        Some(&b"1\0"[..])
    );
    let ro = K2h::open_file(&p, true, false, false, common::small_layout()).unwrap();
    drop(k);
    assert!(ro.db().compress_last_area().is_err());
}
