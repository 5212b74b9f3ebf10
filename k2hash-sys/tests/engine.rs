//! Engine behaviour: byte layout, index growth and lazy migration, read-only attach,
//! concurrency between threads and between processes.
mod common;
use k2hash::{Db, K2h, Layout, Protect};
use std::sync::Arc;

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

/// The worked example of the format notes (§11): a default file, then one str set; exactly the
/// documented bytes change.
#[test]
fn worked_example_bytes() {
    let dir = common::tempdir();
    let path = dir.path().join("w.k2h");
    Db::create_file(&path, Layout::default()).unwrap();
    let before = std::fs::read(&path).unwrap();
    assert_eq!(before.len(), 6_156_288);
    assert_eq!(&before[0..8], b"K2H V2\0\0");
    assert_eq!(&before[8..22], b"FNV-1A BUILTIN");
    let areas: Vec<(u64, u64, u64)> = (0..4)
        .map(|i| {
            (
                u64_at(&before, 128 + 24 * i),
                u64_at(&before, 136 + 24 * i),
                u64_at(&before, 144 + 24 * i),
            )
        })
        .collect();
    assert_eq!(
        areas,
        vec![
            (2, 53248, 8192),
            (4, 61440, 65536),
            (8, 126976, 1835008),
            (16, 1961984, 4194304)
        ]
    );
    let kia: Vec<u64> = (0..9).map(|g| u64_at(&before, 49280 + 8 * g)).collect();
    assert_eq!(
        kia,
        vec![53248, 53280, 53312, 53376, 53504, 53760, 54272, 55296, 57344]
    );
    assert_eq!(u64_at(&before, 49280 + 8 * 9), 0);
    // KINDEX 166
    let ki = 53248 + 32 * 166;
    assert_eq!(
        [
            u64_at(&before, ki),
            u64_at(&before, ki + 8),
            u64_at(&before, ki + 16),
            u64_at(&before, ki + 24)
        ],
        [1, 0xFF0, 0xA60, 103936]
    );
    // element and page free lists
    assert_eq!(u64_at(&before, 126976 + 24), 126976 + 112);
    assert_eq!(u64_at(&before, 126976 + 112 + 16), 126976);
    assert_eq!(u64_at(&before, 1961984 + 8), 1961984 + 128);

    let k = K2h::open_file(&path, false, false, true, Layout::default()).unwrap();
    k.set_value(b"key1\0", b"val1\0", None, None).unwrap();
    drop(k);
    let after = std::fs::read(&path).unwrap();
    let changed: Vec<usize> = (0..after.len())
        .filter(|&i| before[i] != after[i])
        .collect();
    let expected: &[(usize, u64)] = &[
        (49536, 16383),
        (49544, 127088),
        (49552, 32766),
        (49560, 1962240),
        (104016, 1),
        (104024, 126976),
        (127000, 0),
        (127008, 0x7172B3F29643AA65),
        (127016, 0x5819C5D75CBDA787),
        (127024, 1961984),
        (127032, 1962112),
        (127056, 5),
        (127064, 5),
        (127104, 0),
        (1961992, 0),
        (1962000, 5),
        (1962112, 0),
        (1962120, 0),
        (1962128, 5),
        (1962240, 0),
    ];
    for &(off, v) in expected {
        assert_eq!(u64_at(&after, off), v, "field at {off}");
    }
    assert_eq!(&after[1962008..1962013], b"key1\0");
    assert_eq!(&after[1962136..1962141], b"val1\0");
    // nothing else changed except last_update (96..112)
    for i in changed {
        let ok = (96..112).contains(&i)
            || expected.iter().any(|&(o, _)| (o..o + 8).contains(&i))
            || (1962008..1962013).contains(&i)
            || (1962136..1962141).contains(&i);
        assert!(ok, "unexpected change at byte {i}");
    }
}

fn fill(k: &K2h, n: u32) {
    for i in 0..n {
        k.set_value(
            format!("key-{i}\0").as_bytes(),
            format!("value-{i}-{}", "v".repeat((i % 200) as usize)).as_bytes(),
            None,
            None,
        )
        .unwrap();
    }
}

fn check(k: &K2h, n: u32) {
    for i in 0..n {
        let v = k
            .get(format!("key-{i}\0").as_bytes(), Protect::No)
            .unwrap()
            .unwrap();
        assert_eq!(
            v,
            format!("value-{i}-{}", "v".repeat((i % 200) as usize)).into_bytes()
        );
    }
}

#[test]
fn index_growth_and_migration() {
    let dir = common::tempdir();
    let path = dir.path().join("g.k2h");
    let layout = Layout {
        mask_bits: 2,
        cmask_bits: 1,
        max_elements: 2,
        page_size: 128,
    };
    let k = K2h::open_file(&path, false, false, true, layout).unwrap();
    fill(&k, 3000);
    let cur = k.db().header_u64(k2hash::format::H_CUR_MASK).unwrap();
    assert!(cur > 0xFF, "key index grew: {cur:#x}");
    assert!(k.db().areas().unwrap().len() > 18);
    check(&k, 3000);
    assert_eq!(k.db().verify().unwrap(), 3000);
    drop(k);
    // the file size equals the logical end
    let len = std::fs::metadata(&path).unwrap().len();
    let k = K2h::open_file(&path, true, false, true, layout).unwrap();
    assert_eq!(
        k.db().header_u64(k2hash::format::H_UNASSIGN_AREA).unwrap(),
        len
    );
    drop(k);
    // growth leaves pending migrations; a read-only attach reads everything and writes nothing
    let k = K2h::open_file(&path, false, false, false, layout).unwrap();
    fill(&k, 3100);
    drop(k);
    let before = std::fs::read(&path).unwrap();
    let ro = K2h::open_file(&path, true, false, true, layout).unwrap();
    check(&ro, 3100);
    drop(ro);
    assert!(
        std::fs::read(&path).unwrap() == before,
        "read-only attach modified the file"
    );
    // read-write reads migrate lazily and keep everything reachable
    let k = K2h::open_file(&path, false, false, true, layout).unwrap();
    check(&k, 3100);
    assert_eq!(k.db().verify().unwrap(), 3100);
    for i in (0..3100).step_by(3) {
        k.remove(format!("key-{i}\0").as_bytes()).unwrap();
    }
    assert_eq!(k.db().verify().unwrap(), 3100 - 1034);
}

#[test]
fn removed_space_is_reused() {
    let k = K2h::open_mem(Layout::default()).unwrap();
    fill(&k, 2000);
    let size = k.db().header_u64(k2hash::format::H_UNASSIGN_AREA).unwrap();
    for _ in 0..5 {
        for i in 0..2000 {
            k.remove(format!("key-{i}\0").as_bytes()).unwrap();
        }
        fill(&k, 2000);
    }
    assert_eq!(
        k.db().header_u64(k2hash::format::H_UNASSIGN_AREA).unwrap(),
        size
    );
    check(&k, 2000);
}

#[test]
fn threads_share_one_handle() {
    let k = Arc::new(
        K2h::open_mem(Layout {
            mask_bits: 3,
            cmask_bits: 2,
            max_elements: 4,
            page_size: 128,
        })
        .unwrap(),
    );
    let ts: Vec<_> = (0..4)
        .map(|t| {
            let k = k.clone();
            std::thread::spawn(move || {
                for i in 0..3000u32 {
                    let key = format!("t{t}-{i}\0");
                    k.set_value(key.as_bytes(), key.as_bytes(), None, None)
                        .unwrap();
                    if i % 3 == 0 {
                        k.remove(format!("t{t}-{}\0", i / 2).as_bytes()).unwrap();
                    }
                    let _ = k
                        .get(format!("t{}-{i}\0", (t + 1) % 4).as_bytes(), Protect::No)
                        .unwrap();
                }
            })
        })
        .collect();
    for t in ts {
        t.join().unwrap();
    }
    let live = k.db().verify().unwrap();
    let mut want = 0;
    for t in 0..4 {
        for i in 0..3000u32 {
            let key = format!("t{t}-{i}\0");
            if let Some(v) = k.get(key.as_bytes(), Protect::No).unwrap() {
                want += 1;
                assert_eq!(v, key.as_bytes());
            }
        }
        // the last key of each thread was written after every removal that could hit it
        assert!(k
            .get(format!("t{t}-2999\0").as_bytes(), Protect::No)
            .unwrap()
            .is_some());
    }
    assert_eq!(live, want);
}

/// Child mode for `processes_share_a_file`: write this process's keys and exit.
fn child_writer() -> bool {
    let (Ok(path), Ok(id)) = (
        std::env::var("K2HRS_CHILD_FILE"),
        std::env::var("K2HRS_CHILD_ID"),
    ) else {
        return false;
    };
    let k = K2h::open_file(
        std::path::Path::new(&path),
        false,
        false,
        id.ends_with('1'),
        Layout::default(),
    )
    .unwrap();
    for i in 0..2000 {
        let key = format!("p{id}-{i}\0");
        k.set_value(
            key.as_bytes(),
            format!("{}{}", key, "z".repeat(i % 300)).as_bytes(),
            None,
            None,
        )
        .unwrap();
        if i % 10 == 0 {
            k.remove(format!("p{id}-{}\0", i / 2).as_bytes()).unwrap();
        }
    }
    true
}

#[test]
fn processes_share_a_file() {
    if child_writer() {
        return;
    }
    let dir = common::tempdir();
    let path = dir.path().join("p.k2h");
    let layout = Layout {
        mask_bits: 2,
        cmask_bits: 2,
        max_elements: 4,
        page_size: 128,
    };
    // no file yet: the four children race to create it
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|id| {
            std::process::Command::new(&exe)
                .args(["--exact", "processes_share_a_file", "--nocapture"])
                .env("K2HRS_CHILD_FILE", &path)
                .env("K2HRS_CHILD_ID", id.to_string())
                .env("K2H_LOCKDIR", dir.path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let k = K2h::open_file(&path, false, false, true, layout).unwrap();
    let mut n = 0;
    for id in 0..4 {
        for i in 0..2000usize {
            let key = format!("p{id}-{i}\0");
            let removed = (0..2000).any(|j: usize| j.is_multiple_of(10) && j / 2 == i);
            let v = k.get(key.as_bytes(), Protect::No).unwrap();
            if removed {
                assert!(v.is_none(), "{key} should be removed");
            } else {
                assert_eq!(
                    v,
                    Some(format!("{}{}", key, "z".repeat(i % 300)).into_bytes()),
                    "{key}"
                );
                n += 1;
            }
        }
    }
    assert_eq!(k.db().verify().unwrap(), n);
}
