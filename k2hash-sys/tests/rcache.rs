//! The read cache never shows a value older than the last write, whoever wrote it: another
//! handle, another thread, another process on the same file, through any write path.
//! Child processes are this test binary run again with a role in the environment.
mod common;
use k2hash::archive::{self, Record};
use k2hash::queue::Queue;
use k2hash::rcache::{key_hash, Found};
use k2hash::{Element, K2h, Layout, Protect};
use std::path::{Path, PathBuf};
use std::process::Command;

fn layout() -> Layout {
    Layout {
        mask_bits: 4,
        cmask_bits: 4,
        max_elements: 8,
        page_size: 128,
    }
}

fn open(path: &Path) -> K2h {
    K2h::open_file(path, false, false, true, layout()).unwrap()
}

/// What a getter without a pass phrase shows.
fn get(k: &K2h, key: &str) -> Option<Vec<u8>> {
    k.get(key.as_bytes(), Protect::Yes(None)).unwrap()
}

/// Whether the cache holds a current value of `key`.
fn cached(k: &K2h, key: &str) -> bool {
    let mut v = Vec::new();
    matches!(
        k.db()
            .cached_value(key.as_bytes(), key_hash(key.as_bytes()), &mut v),
        Found::Hit(_)
    )
}

/// The marker of the queue of prefix "Q" (see `queue`), read like any key.
fn marker(k: &K2h) -> Option<Vec<u8>> {
    k.get(b"QMARKER\0", Protect::Yes(None)).unwrap()
}

/// Every write path, applied to the keys `w0`..: what each key must read as afterwards.
fn write_everything(k: &K2h) -> Vec<(&'static str, Option<Vec<u8>>)> {
    k.set_value(b"w0", b"two", None, None).unwrap();
    k.remove(b"w1").unwrap();
    assert!(k.rename(b"w2", b"w2-renamed").unwrap());
    // encrypted: hidden from a getter without the pass phrase
    k.set_value(b"w3", b"secret", Some("pw"), None).unwrap();
    k.overwrite_value(b"w4", 0, b"XY").unwrap();
    // an attribute only: what is stored is the same, but now with attributes
    k.add_attr(b"w5", b"name", b"value").unwrap();
    // replay of a transaction record (archives and transaction logs)
    archive::apply(
        k,
        &Record::set_all(
            b"w6",
            &Element {
                value: b"replayed".to_vec(),
                ..Default::default()
            },
        ),
    )
    .unwrap();
    k.set_all(b"w7", b"all", &[b"sub".to_vec()], None, None)
        .unwrap();
    let q = Queue::new(Some(b"Q"), true);
    q.push(k, b"entry", &[], None, None).unwrap();
    vec![
        ("w0", Some(b"two".to_vec())),
        ("w1", None),
        ("w2", None),
        ("w2-renamed", Some(b"one".to_vec())),
        ("w3", None),
        ("w4", Some(b"XYe".to_vec())),
        ("w5", Some(b"one".to_vec())),
        ("w6", Some(b"replayed".to_vec())),
        ("w7", Some(b"all".to_vec())),
    ]
}

/// Set the keys `write_everything` changes, read them twice (the second read from the cache)
/// and make sure the cache holds them.
fn prime(k: &K2h) {
    for i in 0..8 {
        let key = format!("w{i}");
        k.set_value(key.as_bytes(), b"one", None, None).unwrap();
    }
    for i in 0..8 {
        let key = format!("w{i}");
        assert!(get(k, &key).is_some());
        assert!(get(k, &key).is_some());
        assert!(cached(k, &key), "{key} was not cached");
    }
    // the queue marker, which a push changes
    let q = Queue::new(Some(b"Q"), true);
    q.push(k, b"first", &[], None, None).unwrap();
    assert!(marker(k).is_some());
    assert!(marker(k).is_some());
}

fn check(k: &K2h, expect: &[(&str, Option<Vec<u8>>)], marker_before: &Option<Vec<u8>>) {
    for (key, want) in expect {
        assert_eq!(get(k, key), *want, "{key}");
    }
    let q = Queue::new(Some(b"Q"), true);
    assert_ne!(&marker(k), marker_before, "queue marker not seen changed");
    assert_eq!(q.count(k).unwrap(), 2);
}

#[test]
fn every_write_path_is_seen_in_process() {
    let k = K2h::open_mem(layout()).unwrap();
    prime(&k);
    let before = marker(&k);
    let expect = write_everything(&k);
    check(&k, &expect, &before);
}

/// The child's part, when this binary was started as a child. Returns false in the parent.
fn child() -> bool {
    let Ok(role) = std::env::var("K2HRS_RCACHE_ROLE") else {
        return false;
    };
    let path = PathBuf::from(std::env::var("K2HRS_RCACHE_FILE").unwrap());
    let k = open(&path);
    match role.as_str() {
        "everything" => {
            write_everything(&k);
        }
        "counter" => {
            for n in 1..=3000u32 {
                k.set_value(b"counter", format!("{n:08}").as_bytes(), None, None)
                    .unwrap();
            }
        }
        "churn" => churn(&k),
        r => panic!("unknown role {r}"),
    }
    true
}

/// Keys of the location-hint test, and what `churn` leaves under each.
const CHURN_KEYS: usize = 3000;
fn churned(i: usize) -> Option<Vec<u8>> {
    match i % 4 {
        0 => Some(format!("v{i}").into_bytes()), // untouched
        1 => None,                               // removed
        2 => Some(format!("new-{i}-longer").into_bytes()), // removed, written again
        _ => None,                               // renamed away
    }
}

/// Free elements and hand them out again, for other keys and for the same keys: a hint held
/// by another process then points at an element that is free, or holds another key, or holds
/// the same key again.
fn churn(k: &K2h) {
    for i in (1..CHURN_KEYS).step_by(4) {
        k.remove(format!("h{i}").as_bytes()).unwrap();
    }
    for i in (2..CHURN_KEYS).step_by(4) {
        k.remove(format!("h{i}").as_bytes()).unwrap();
    }
    for i in (2..CHURN_KEYS).step_by(4) {
        let v = churned(i).unwrap();
        k.set_value(format!("h{i}").as_bytes(), &v, None, None)
            .unwrap();
    }
    for i in (3..CHURN_KEYS).step_by(4) {
        assert!(k
            .rename(format!("h{i}").as_bytes(), format!("moved{i}").as_bytes())
            .unwrap());
    }
}

fn run_child(role: &str, path: &Path, test: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture"])
        .env("K2HRS_RCACHE_ROLE", role)
        .env("K2HRS_RCACHE_FILE", path)
        .env("K2H_LOCKDIR", std::env::var_os("K2H_LOCKDIR").unwrap())
        .spawn()
        .unwrap()
}

#[test]
fn every_write_path_of_another_process_is_seen() {
    if child() {
        return;
    }
    let d = common::tempdir();
    let path = d.path().join("x.k2h");
    let k = open(&path);
    prime(&k);
    let before = marker(&k);
    let st = run_child(
        "everything",
        &path,
        "every_write_path_of_another_process_is_seen",
    )
    .wait()
    .unwrap();
    assert!(st.success());
    let expect = write_everything_expectation();
    check(&k, &expect, &before);
}

fn write_everything_expectation() -> Vec<(&'static str, Option<Vec<u8>>)> {
    // the same writes on a scratch store give the expected results
    let m = K2h::open_mem(layout()).unwrap();
    prime(&m);
    write_everything(&m)
}

#[test]
fn reads_never_go_back_while_another_process_writes() {
    if child() {
        return;
    }
    let d = common::tempdir();
    let path = d.path().join("c.k2h");
    let k = open(&path);
    k.set_value(b"counter", b"00000000", None, None).unwrap();
    let mut c = run_child(
        "counter",
        &path,
        "reads_never_go_back_while_another_process_writes",
    );
    let mut last = 0u32;
    let mut reads = 0u64;
    loop {
        let done = c.try_wait().unwrap();
        let v = get(&k, "counter").unwrap();
        let n: u32 = std::str::from_utf8(&v).unwrap().parse().unwrap();
        assert!(n >= last, "read {n} after {last}");
        last = n;
        reads += 1;
        if let Some(st) = done {
            assert!(st.success());
            break;
        }
    }
    // the child is gone: the next read shows its last write
    assert_eq!(get(&k, "counter").unwrap(), b"00003000");
    assert!(reads > 0);
}

#[test]
fn reads_never_go_back_while_another_thread_writes() {
    let k = std::sync::Arc::new(K2h::open_mem(layout()).unwrap());
    for i in 0..64 {
        k.set_value(format!("t{i}").as_bytes(), b"00000000", None, None)
            .unwrap();
    }
    let w = {
        let k = k.clone();
        std::thread::spawn(move || {
            for n in 1..=20_000u32 {
                let key = format!("t{}", n % 64);
                k.set_value(key.as_bytes(), format!("{n:08}").as_bytes(), None, None)
                    .unwrap();
            }
        })
    };
    let mut last = [0u32; 64];
    while !w.is_finished() {
        for (i, l) in last.iter_mut().enumerate() {
            let v = get(&k, &format!("t{i}")).unwrap();
            let n: u32 = std::str::from_utf8(&v).unwrap().parse().unwrap();
            assert!(n >= *l, "t{i}: read {n} after {l}");
            *l = n;
        }
    }
    w.join().unwrap();
    for (i, l) in last.iter().enumerate() {
        let v = get(&k, &format!("t{i}")).unwrap();
        let n: u32 = std::str::from_utf8(&v).unwrap().parse().unwrap();
        assert!(n >= *l);
        assert_eq!(n % 64, i as u32 % 64);
        assert!(n > 20_000 - 64);
    }
}

#[test]
fn compaction_and_replacement_keep_reads_right() {
    let d = common::tempdir();
    let path = d.path().join("r.k2h");
    let k = open(&path);
    for i in 0..300 {
        k.set_value(
            format!("k{i}").as_bytes(),
            format!("v{i}").as_bytes(),
            None,
            None,
        )
        .unwrap();
    }
    // a key is cached from its second read on (the first one notes it, `seen_recently`)
    for _ in 0..2 {
        for i in 0..300 {
            assert!(get(&k, &format!("k{i}")).is_some());
        }
    }
    assert!(cached(&k, "k0"));
    for i in 100..300 {
        k.remove(format!("k{i}").as_bytes()).unwrap();
    }
    while k.db().compress_last_area().unwrap() {}
    for i in 0..300 {
        let want = (i < 100).then(|| format!("v{i}").into_bytes());
        assert_eq!(get(&k, &format!("k{i}")), want, "k{i}");
    }
    // (a key written over since it was cached is cached again on its second read)
    assert!(get(&k, "k0").is_some());
    assert!(cached(&k, "k0"));
    // k2hreplace: a new file moved in at the path is what the next read shows
    let src = d.path().join("new.k2h");
    {
        let n = open(&src);
        n.set_value(b"k0", b"replaced", None, None).unwrap();
    }
    assert!(cached(&k, "k0"));
    std::fs::rename(&src, &path).unwrap();
    drop(K2h::open_file(&path, true, false, false, layout()).unwrap());
    assert_eq!(get(&k, "k0").unwrap(), b"replaced");
    assert_eq!(get(&k, "k1"), None);
}

#[test]
fn values_with_attributes_are_not_cached() {
    let k = K2h::open_mem(layout()).unwrap();
    k.set_value(b"plain", b"v", None, None).unwrap();
    k.set_value(b"expiring", b"v", None, Some(3600)).unwrap();
    k.set_value(b"secret", b"v", Some("pw"), None).unwrap();
    for _ in 0..2 {
        for key in ["plain", "expiring", "secret"] {
            let _ = get(&k, key);
            let _ = k.get(key.as_bytes(), Protect::Yes(Some("pw"))).unwrap();
        }
    }
    assert!(cached(&k, "plain"));
    assert!(!cached(&k, "expiring"));
    assert!(!cached(&k, "secret"));
    assert_eq!(get(&k, "secret"), None);
    assert_eq!(
        k.get(b"secret", Protect::Yes(Some("pw")))
            .unwrap()
            .as_deref(),
        Some(&b"v"[..])
    );
}

#[test]
fn keys_written_between_reads_are_cached_again_once_reads_repeat() {
    let k = K2h::open_mem(layout()).unwrap();
    k.set_value(b"k", b"1", None, None).unwrap();
    assert_eq!(get(&k, "k").unwrap(), b"1");
    assert!(!cached(&k, "k"), "a key read once is not cached");
    assert_eq!(get(&k, "k").unwrap(), b"1");
    assert!(cached(&k, "k"));
    for n in 2..10 {
        // written between reads: read from the store (and cached again only when the
        // cached record was not just made)
        k.set_value(b"k", n.to_string().as_bytes(), None, None)
            .unwrap();
        assert_eq!(get(&k, "k").unwrap(), n.to_string().as_bytes());
    }
    // read again with no write in between: cached again
    assert_eq!(get(&k, "k").unwrap(), b"9");
    assert_eq!(get(&k, "k").unwrap(), b"9");
    assert!(cached(&k, "k"));
}

#[test]
fn location_hints_follow_elements_freed_and_reused_by_another_process() {
    if child() {
        return;
    }
    let d = common::tempdir();
    let path = d.path().join("h.k2h");
    let k = open(&path);
    for i in 0..CHURN_KEYS {
        k.set_value(
            format!("h{i}").as_bytes(),
            format!("v{i}").as_bytes(),
            None,
            None,
        )
        .unwrap();
    }
    // read every key (hints of this process), twice (the second read caches some)
    for _ in 0..2 {
        for i in 0..CHURN_KEYS {
            assert_eq!(
                get(&k, &format!("h{i}")),
                Some(format!("v{i}").into_bytes())
            );
        }
    }
    let test = "location_hints_follow_elements_freed_and_reused_by_another_process";
    assert!(run_child("churn", &path, test).wait().unwrap().success());
    for _ in 0..2 {
        for i in 0..CHURN_KEYS {
            assert_eq!(get(&k, &format!("h{i}")), churned(i), "h{i}");
        }
        for i in (3..CHURN_KEYS).step_by(4) {
            let want = format!("v{i}").into_bytes();
            assert_eq!(get(&k, &format!("moved{i}")), Some(want), "moved{i}");
        }
    }
    // the same after the file shrank (elements moved to other offsets)
    while k.db().compress_last_area().unwrap() {}
    for i in 0..CHURN_KEYS {
        assert_eq!(
            get(&k, &format!("h{i}")),
            churned(i),
            "h{i} after compaction"
        );
    }
    // and in this process's own churn (its hints are replaced as it goes)
    let m = K2h::open_mem(layout()).unwrap();
    for i in 0..CHURN_KEYS {
        m.set_value(
            format!("h{i}").as_bytes(),
            format!("v{i}").as_bytes(),
            None,
            None,
        )
        .unwrap();
        assert!(get(&m, &format!("h{i}")).is_some());
    }
    churn(&m);
    for i in 0..CHURN_KEYS {
        assert_eq!(get(&m, &format!("h{i}")), churned(i), "h{i} in memory");
    }
}
