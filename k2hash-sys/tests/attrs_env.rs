//! K2HATTR_* environment variables and pass files (one test: the environment is process-wide).
mod common;
use k2hash::lists::{get_attr, parse_attrs};
use k2hash::{K2h, Layout, Protect};

fn attr_names(k: &K2h, key: &[u8]) -> Vec<Vec<u8>> {
    k.get_attrs(key)
        .unwrap()
        .unwrap_or_default()
        .into_iter()
        .map(|a| a.0)
        .collect()
}

#[test]
fn environment_settings() {
    let dir = common::tempdir();
    let passfile = dir.path().join("pass.txt");
    std::fs::write(&passfile, "# comment\n\n  firstpass  \nsecond\n").unwrap();

    // mtime + default expire from the environment
    std::env::set_var("K2HATTR_MTIME", "on");
    std::env::set_var("K2HATTR_EXPIRE_SEC", "100");
    let k = K2h::open_mem(Layout::default()).unwrap();
    k.set_value(b"a\0", b"1\0", None, None).unwrap();
    assert_eq!(
        attr_names(&k, b"a\0"),
        vec![b"expire\0".to_vec(), b"mtime\0".to_vec()]
    );
    let a = k.get_attrs(b"a\0").unwrap().unwrap();
    let exp = get_attr(&a, b"expire\0").unwrap();
    let mt = get_attr(&a, b"mtime\0").unwrap();
    let e = i64::from_le_bytes(exp[..8].try_into().unwrap());
    let m = i64::from_le_bytes(mt[..8].try_into().unwrap());
    assert_eq!(e - m, 100);
    // k2h_set_common_attr re-applies the environment, then the arguments
    k.set_common_attr(Some(false), None, None, None, None)
        .unwrap();
    k.set_value(b"a\0", b"2\0", None, None).unwrap();
    assert_eq!(attr_names(&k, b"a\0"), vec![b"expire\0".to_vec()]);
    assert!(k.set_common_attr(None, None, None, None, Some(0)).is_err());
    std::env::remove_var("K2HATTR_MTIME");
    std::env::remove_var("K2HATTR_EXPIRE_SEC");

    // default encryption with a pass file: first pass is the default
    std::env::set_var("K2HATTR_ENCFILE", &passfile);
    std::env::set_var("K2HATTR_DEFENC", "yes");
    let k = K2h::open_mem(Layout::default()).unwrap();
    k.set_value(b"s\0", b"secret\0", None, None).unwrap();
    assert_eq!(
        k.get(b"s\0", Protect::Yes(None)).unwrap().unwrap(),
        b"secret\0"
    );
    assert_eq!(
        k.get(b"s\0", Protect::Yes(Some("firstpass")))
            .unwrap()
            .unwrap(),
        b"secret\0"
    );
    assert!(k
        .get(b"s\0", Protect::Yes(Some("second")))
        .unwrap()
        .is_none());
    let raw = k.get(b"s\0", Protect::No).unwrap().unwrap();
    assert_eq!(&raw[..8], b"Salted__");
    assert_eq!(&raw[32..36], &1000u32.to_le_bytes());
    // a key written with the second pass is read through the pass list
    k.set_value(b"t\0", b"other\0", Some("second"), None)
        .unwrap();
    assert_eq!(
        k.get(b"t\0", Protect::Yes(None)).unwrap().unwrap(),
        b"other\0"
    );
    std::env::remove_var("K2HATTR_DEFENC");
    std::env::remove_var("K2HATTR_ENCFILE");

    // default encryption without a pass is refused
    let k = K2h::open_mem(Layout::default()).unwrap();
    assert!(k
        .set_common_attr(None, Some(true), None, None, None)
        .is_err());
    assert!(k
        .set_common_attr(
            None,
            Some(true),
            Some(passfile.to_str().unwrap()),
            None,
            None
        )
        .is_ok());

    // legacy PBKDF1 format and the iteration count
    std::env::set_var("K2HATTR_ENC_TYPE", "AES256_PBKDF1");
    let k = K2h::open_mem(Layout::default()).unwrap();
    k.set_value(b"old\0", b"legacy\0", Some("pw"), None)
        .unwrap();
    let a = k.get_attrs(b"old\0").unwrap().unwrap();
    assert_eq!(
        get_attr(&a, b"aes256md5\0").unwrap(),
        b"j+TBFFEoHAlKZXjm3b9e7Q==\0"
    );
    let raw = k.get(b"old\0", Protect::No).unwrap().unwrap();
    assert_eq!(raw.len(), 16 + 16);
    assert_eq!(
        k.get(b"old\0", Protect::Yes(Some("pw"))).unwrap().unwrap(),
        b"legacy\0"
    );
    std::env::set_var("K2HATTR_ENC_TYPE", "AES256_PBKDF2");
    std::env::set_var("K2HATTR_ENC_ITER", "2000");
    let k2 = K2h::open_mem(Layout::default()).unwrap();
    k2.set_value(b"n\0", b"new\0", Some("pw"), None).unwrap();
    let raw = k2.get(b"n\0", Protect::No).unwrap().unwrap();
    assert_eq!(&raw[32..36], &2000u32.to_le_bytes());
    // a PBKDF1 value stays readable whatever the configured scheme
    k2.db()
        .set(
            b"old\0",
            k.db().get(b"old\0", k2hash::Parts::ALL).unwrap().unwrap(),
        )
        .unwrap();
    assert_eq!(
        k2.get(b"old\0", Protect::Yes(Some("pw"))).unwrap().unwrap(),
        b"legacy\0"
    );
    std::env::remove_var("K2HATTR_ENC_TYPE");
    std::env::remove_var("K2HATTR_ENC_ITER");

    // history from the environment: removal keeps the old version under a history key
    std::env::set_var("K2HATTR_HISTORY", "on");
    let k = K2h::open_mem(Layout::default()).unwrap();
    k.set_value(b"h\0", b"v1\0", None, None).unwrap();
    let first_uid = get_attr(&k.get_attrs(b"h\0").unwrap().unwrap(), b"uniqid\0")
        .unwrap()
        .to_vec();
    assert_eq!(first_uid.len(), 45);
    k.set_value(b"h\0", b"v2\0", None, None).unwrap();
    let a = k.get_attrs(b"h\0").unwrap().unwrap();
    assert_eq!(
        get_attr(&a, b"parentuniqid\0").unwrap(),
        first_uid.as_slice()
    );
    assert_ne!(get_attr(&a, b"uniqid\0").unwrap(), first_uid.as_slice());
    let mut hkey = b"h\0\0".to_vec();
    hkey.extend_from_slice(&first_uid);
    let hist = k.db().get(&hkey, k2hash::Parts::ALL).unwrap().unwrap();
    assert_eq!(hist.value, b"v1\0");
    assert_eq!(
        get_attr(&parse_attrs(&hist.attrs), b"hismark\0").unwrap(),
        &[1]
    );
    assert!(k.get(&hkey, Protect::Yes(None)).unwrap().is_none());
    k.remove(b"h\0").unwrap();
    assert!(k.get(b"h\0", Protect::No).unwrap().is_none());
    assert_eq!(k.db().keys().unwrap().len(), 2);
    std::env::remove_var("K2HATTR_HISTORY");
}
