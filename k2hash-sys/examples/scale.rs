//! Memory and scale checks for docs/performance.md.
//!
//! cargo run --release -p k2hash-sys --example scale -- memory [KEYS]
//!     KEYS (default 1,000,000) keys of 128 B in memory mode: resident memory of the process
//!     against the size of a file holding the same data (our files are laid out and grown as
//!     the original's, so this is the size the original produces; bench/capi_bench.c with
//!     KEEP=1 writes the same keys through either library to compare).
//! cargo run --release -p k2hash-sys --example scale -- file DIR [KEYS]
//!     KEYS (default 10,000,000) keys of 128 B into a fully mapped file in DIR: insert rate per
//!     million, random-get rate at 1 M and at the end, errors, file size. The file is removed.
use k2hash::{K2h, Layout, Protect};
use std::time::Instant;

fn key(i: u64, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(format!("KEY-{i:016X}\0").as_bytes());
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn fill(k: &K2h, n: u64, report: bool) -> u64 {
    let val = vec![b'v'; 128];
    let mut kb = Vec::with_capacity(32);
    let mut errors = 0;
    let mut t = Instant::now();
    for i in 0..n {
        key(i, &mut kb);
        if k.set_value(&kb, &val, None, None).is_err() {
            errors += 1;
        }
        if report && (i + 1) % 1_000_000 == 0 {
            let el = t.elapsed();
            println!(
                "inserted {:>9}: {:>9.0} sets/s over the last million",
                i + 1,
                1e6 / el.as_secs_f64()
            );
            t = Instant::now();
        }
    }
    errors
}

/// Random gets over the first `n` keys: (ops/s, misses).
fn gets(k: &K2h, n: u64, count: u64) -> (f64, u64) {
    let mut kb = Vec::with_capacity(32);
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut miss = 0;
    let t = Instant::now();
    for _ in 0..count {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        key(x % n, &mut kb);
        match k.get(&kb, Protect::Yes(None)) {
            Ok(Some(v)) if v.len() == 128 => {}
            _ => miss += 1,
        }
    }
    (count as f64 / t.elapsed().as_secs_f64(), miss)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    match a.get(1).map(String::as_str) {
        Some("memory") => {
            let n: u64 = a.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
            let before = rss_kib();
            let k = K2h::open_mem(Layout::default()).unwrap();
            let errors = fill(&k, n, false);
            let rss = rss_kib().saturating_sub(before) * 1024;
            let dir = tempfile::tempdir().unwrap();
            std::env::set_var("K2H_LOCKDIR", dir.path());
            let p = dir.path().join("same-data.k2h");
            let f = K2h::open_file(&p, false, false, true, Layout::default()).unwrap();
            fill(&f, n, false);
            drop(f);
            let size = std::fs::metadata(&p).unwrap().len();
            println!("keys {n} x 128 B, errors {errors}");
            println!("resident memory added (memory mode): {rss} bytes");
            println!("file size for the same data:         {size} bytes");
            println!(
                "ratio resident / file size:          {:.3}",
                rss as f64 / size as f64
            );
        }
        Some("file") => {
            let dir = a.get(2).expect("file DIR [KEYS]");
            let n: u64 = a.get(3).and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
            let locks = tempfile::tempdir().unwrap();
            std::env::set_var("K2H_LOCKDIR", locks.path());
            let p = std::path::Path::new(dir).join("k2hash-scale.k2h");
            let _ = std::fs::remove_file(&p);
            let k = K2h::open_file(&p, false, false, true, Layout::default()).unwrap();
            let t = Instant::now();
            let first = fill(&k, n.min(1_000_000), true);
            let (g1, m1) = gets(&k, n.min(1_000_000), 1_000_000);
            println!(
                "random gets at {:>9} keys: {g1:>9.0} gets/s, misses {m1}",
                n.min(1_000_000)
            );
            let mut errors = first;
            if n > 1_000_000 {
                let val = vec![b'v'; 128];
                let mut kb = Vec::new();
                let mut tt = Instant::now();
                for i in 1_000_000..n {
                    key(i, &mut kb);
                    if k.set_value(&kb, &val, None, None).is_err() {
                        errors += 1;
                    }
                    if (i + 1) % 1_000_000 == 0 {
                        println!(
                            "inserted {:>9}: {:>9.0} sets/s over the last million",
                            i + 1,
                            1e6 / tt.elapsed().as_secs_f64()
                        );
                        tt = Instant::now();
                    }
                }
                let (g2, m2) = gets(&k, n, 1_000_000);
                println!("random gets at {n:>9} keys: {g2:>9.0} gets/s, misses {m2}");
            }
            let v = k.db().verify().unwrap();
            println!(
                "keys {n}, set errors {errors}, live elements {v}, file size {} bytes, total {:.1} s",
                std::fs::metadata(&p).unwrap().len(),
                t.elapsed().as_secs_f64()
            );
            drop(k);
            let _ = std::fs::remove_file(&p);
        }
        _ => eprintln!("usage: scale memory [KEYS] | scale file DIR [KEYS]"),
    }
}
