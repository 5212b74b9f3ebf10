//! Readers never miss a key or see a wrong value while writers grow the key index (reads skip
//! the structure lock and rely on its version: a growth in between makes them read again).
mod common;
use k2hash::{K2h, Layout, Protect};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

fn key(i: usize) -> Vec<u8> {
    format!("grow-{i:08}\0").into_bytes()
}

fn value(i: usize) -> Vec<u8> {
    format!("value-{i}-{}\0", "x".repeat(i % 300)).into_bytes()
}

#[test]
fn reads_during_index_growth() {
    let _d = common::tempdir();
    for file in [false, true] {
        let d = common::tempdir();
        let small = Layout {
            mask_bits: 2,
            cmask_bits: 2,
            max_elements: 2,
            page_size: 128,
        };
        let k = if file {
            K2h::open_file(&d.path().join("g.k2h"), false, false, true, small).unwrap()
        } else {
            K2h::open_mem(small).unwrap()
        };
        let written = AtomicUsize::new(0);
        let done = AtomicBool::new(false);
        let checked = AtomicUsize::new(0);
        let total = 20_000;
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..total {
                    k.set_value(&key(i), &value(i), None, None).unwrap();
                    written.store(i + 1, Ordering::Release);
                }
                done.store(true, Ordering::Release);
            });
            for t in 0..2usize {
                let (k, written, done, checked) = (&k, &written, &done, &checked);
                s.spawn(move || {
                    let mut x = 0x9E37_79B9u64 + t as u64;
                    while !done.load(Ordering::Acquire) {
                        let n = written.load(Ordering::Acquire);
                        if n == 0 {
                            continue;
                        }
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let i = (x % n as u64) as usize;
                        let got = k.get(&key(i), Protect::Yes(None)).unwrap();
                        assert_eq!(got, Some(value(i)), "key {i} of {n} (file {file})");
                        checked.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert!(checked.load(Ordering::Relaxed) > 1000);
        assert_eq!(k.db().verify().unwrap(), total as u64);
        // the key index grew many times meanwhile
        assert!(k.db().header_u64(k2hash::format::H_CUR_MASK).unwrap() > 0xff);
    }
}

/// A value that tells whether it was read whole: round `r` of key `i`, its length moving with
/// the round (one to six pages of 128 bytes, so values are rewritten in place, and moved to new
/// pages whose old ones are freed and handed out again to other keys).
fn round_value(i: usize, r: usize) -> Vec<u8> {
    let head = format!("{i}:{r}:");
    let len = 60 + (r * 97 + i * 31) % 700;
    let mut v = head.clone().into_bytes();
    let fill = b'a' + ((i + r) % 26) as u8;
    v.resize(len, fill);
    v
}

fn whole(i: usize, v: &[u8]) -> bool {
    let text = String::from_utf8_lossy(v);
    let mut f = text.splitn(3, ':');
    match (f.next(), f.next()) {
        (Some(a), Some(r)) => a == i.to_string() && r.parse().is_ok_and(|r| round_value(i, r) == v),
        _ => false,
    }
}

/// Reads of a memory store take no stripe lock (its generation is checked before and after):
/// while writers rewrite, move and delete the values of the same few keys, a read returns a
/// value some writer wrote whole, or nothing for a deleted key, never a mix.
#[test]
fn reads_without_the_stripe_lock_see_whole_values() {
    let small = Layout {
        mask_bits: 4,
        cmask_bits: 2,
        max_elements: 4,
        page_size: 128,
    };
    let k = K2h::open_mem(small).unwrap();
    let keys = 24;
    for i in 0..keys {
        k.set_value(&key(i), &round_value(i, 0), None, None)
            .unwrap();
    }
    let done = AtomicBool::new(false);
    let (read, missing) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|s| {
        for w in 0..2usize {
            let (k, done) = (&k, &done);
            s.spawn(move || {
                for r in 1..30_000 {
                    let i = (r * 7 + w * 5) % keys;
                    if r % 11 == 0 {
                        k.remove(&key(i)).unwrap();
                    }
                    k.set_value(&key(i), &round_value(i, r), None, None)
                        .unwrap();
                }
                done.store(true, Ordering::Release);
            });
        }
        for t in 0..2usize {
            let (k, done, read, missing) = (&k, &done, &read, &missing);
            s.spawn(move || {
                let mut i = t;
                while !done.load(Ordering::Acquire) {
                    i = (i + 5) % keys;
                    match k.db().get(&key(i), k2hash::Parts::VALUE).unwrap() {
                        Some(el) => assert!(
                            whole(i, &el.value),
                            "key {i}: torn value {:?}",
                            String::from_utf8_lossy(&el.value)
                        ),
                        None => {
                            missing.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    read.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert!(read.load(Ordering::Relaxed) > 1000);
    assert_eq!(k.db().verify().unwrap(), keys as u64);
}
