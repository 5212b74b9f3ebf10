//! Files written by the original library open and read right.
mod common;
use common::*;
use k2hash::{K2h, Layout, Protect};

fn check(name: &str, pass: Option<&str>, fullmap: bool) {
    let dir = tempdir();
    let src = fixtures().join(format!("{name}.k2h"));
    let path = dir.path().join(format!("{name}.k2h"));
    std::fs::copy(&src, &path).unwrap();
    let listing = std::fs::read_to_string(fixtures().join(format!("{name}.txt"))).unwrap();
    let exp = parse_listing(&listing);
    assert!(exp.len() >= 13, "listing parsed: {}", exp.len());

    let k = K2h::open_file(&path, false, false, fullmap, Layout::default()).unwrap();
    // iteration order and key set
    let keys = k.db().keys().unwrap();
    let want: Vec<Vec<u8>> = exp.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys, want);
    for e in &exp {
        assert_eq!(k2hash::hash::builtin_hash(&e.key), e.hash);
        assert_eq!(k2hash::hash::builtin_second_hash(&e.key), e.subhash);
        assert_eq!(
            k.get(&e.key, Protect::No).unwrap(),
            e.raw,
            "raw {:?}",
            e.key
        );
        assert_eq!(
            k.get(&e.key, Protect::Yes(None)).unwrap(),
            e.get,
            "get {:?}",
            e.key
        );
        if let Some(p) = pass {
            assert_eq!(
                k.get(&e.key, Protect::Yes(Some(p))).unwrap(),
                e.wp,
                "wp {:?}",
                e.key
            );
        }
        assert_eq!(
            k.get_subkeys(&e.key, false).unwrap().unwrap_or_default(),
            e.subkeys
        );
        assert_eq!(k.get_attrs(&e.key).unwrap().unwrap_or_default(), e.attrs);
    }
    assert_eq!(k.db().verify().unwrap(), exp.len() as u64);
    drop(k);

    // read-only attach reads the same
    let ro = K2h::open_file(&path, true, false, fullmap, Layout::default()).unwrap();
    for e in &exp {
        assert_eq!(ro.get(&e.key, Protect::No).unwrap(), e.raw);
    }
    assert!(ro.set_value(b"x", b"y", None, None).is_err());
}

#[test]
fn upstream_small_fullmap() {
    check("upstream-small", Some("secretpass"), true);
}

#[test]
fn upstream_small_partial() {
    check("upstream-small", Some("secretpass"), false);
}

#[test]
fn upstream_custom() {
    check("upstream-custom", None, true);
}

#[test]
fn upstream_removed_key_absent_and_writable() {
    let dir = tempdir();
    let path = dir.path().join("s.k2h");
    std::fs::copy(fixtures().join("upstream-small.k2h"), &path).unwrap();
    let k = K2h::open_file(&path, false, false, true, Layout::default()).unwrap();
    assert_eq!(k.get(b"removed\0", Protect::No).unwrap(), None);
    // write into an original file, reopen, everything still there
    for i in 0..500u32 {
        k.set_value(
            format!("new{i}\0").as_bytes(),
            &vec![b'v'; (i % 300) as usize + 1],
            None,
            None,
        )
        .unwrap();
    }
    drop(k);
    let k = K2h::open_file(&path, false, false, false, Layout::default()).unwrap();
    for i in 0..500u32 {
        assert_eq!(
            k.get(format!("new{i}\0").as_bytes(), Protect::No)
                .unwrap()
                .unwrap()
                .len(),
            (i % 300) as usize + 1
        );
    }
    assert_eq!(k.get(b"key1\0", Protect::No).unwrap().unwrap(), b"value1\0");
    assert_eq!(k.db().verify().unwrap(), 513);
}
