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
