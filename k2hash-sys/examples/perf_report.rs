//! Timing report for docs/performance.md: core operations of the k2hash engine next to a
//! `std::collections::HashMap` doing the same work in the same run (the ratio survives noisy
//! machines). Each figure is the best of several rounds.
//!
//! cargo run --release -p k2hash-sys --example perf_report -- [quick|full] [file DIR]
use k2hash::{K2h, Layout, Protect};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn key(i: usize) -> Vec<u8> {
    format!("key-{i:010}\0").into_bytes()
}

/// Best ns/op of `rounds` runs of `f` (which does `n` operations).
fn best(rounds: usize, n: usize, mut f: impl FnMut()) -> f64 {
    let mut b = Duration::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        f();
        b = b.min(t.elapsed());
    }
    b.as_nanos() as f64 / n as f64
}

struct Row {
    name: String,
    ours: f64,
    base: f64,
}

fn open(dir: Option<&str>, tag: &str) -> K2h {
    match dir {
        None => K2h::open_mem(Layout::default()).unwrap(),
        Some(d) => {
            let p = std::path::Path::new(d).join(format!("perf-{tag}.k2h"));
            let _ = std::fs::remove_file(&p);
            K2h::open_file(&p, false, true, true, Layout::default()).unwrap()
        }
    }
}

fn run(keys: usize, vlen: usize, dir: Option<&str>, rounds: usize) -> Vec<Row> {
    let val = vec![b'v'; vlen];
    let ks: Vec<Vec<u8>> = (0..keys).map(key).collect();
    // a fixed pseudo-random visiting order
    let mut order: Vec<usize> = (0..keys).collect();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..keys).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let mut rows = Vec::new();
    let tag = format!("{keys}-{vlen}");
    let mut row = |name: &str, ours: f64, base: f64| {
        rows.push(Row {
            name: format!("{name} ({keys} keys, {vlen} B)"),
            ours,
            base,
        })
    };
    // insert
    let mut k = None;
    let ins = best(1, keys, || {
        let kk = open(dir, &tag);
        for i in &order {
            kk.set_value(&ks[*i], &val, None, None).unwrap();
        }
        k = Some(kk);
    });
    let mut hm: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let hins = best(1, keys, || {
        hm = HashMap::new();
        for i in &order {
            hm.insert(ks[*i].clone(), val.clone());
        }
    });
    row("set (insert)", ins, hins);
    let k = k.unwrap();
    let get = best(rounds, keys, || {
        for i in &order {
            black_box(k.get(&ks[*i], Protect::Yes(None)).unwrap().unwrap());
        }
    });
    let hget = best(rounds, keys, || {
        for i in &order {
            black_box(hm.get(&ks[*i]).unwrap().clone());
        }
    });
    row("get", get, hget);
    let miss: Vec<Vec<u8>> = (0..keys).map(|i| key(i + keys)).collect();
    let gm = best(rounds, keys, || {
        for m in &miss {
            black_box(k.get(m, Protect::Yes(None)).unwrap());
        }
    });
    let hgm = best(rounds, keys, || {
        for m in &miss {
            black_box(hm.get(m));
        }
    });
    row("get miss", gm, hgm);
    let ow = best(rounds, keys, || {
        for i in &order {
            k.set_value(&ks[*i], &val, None, None).unwrap();
        }
    });
    let how = best(rounds, keys, || {
        for i in &order {
            hm.insert(ks[*i].clone(), val.clone());
        }
    });
    row("overwrite", ow, how);
    let it = best(rounds, keys, || {
        let mut n = 0;
        let mut pos = 0;
        let parts = k2hash::Parts::VALUE;
        while let Some((e, kk, v)) = k.db().next_element(pos, parts).unwrap() {
            black_box((kk, v));
            pos = e;
            n += 1;
        }
        assert_eq!(n, keys);
    });
    let hit = best(rounds, keys, || {
        for (a, b) in &hm {
            black_box((a.clone(), b.clone()));
        }
    });
    row("iterate", it, hit);
    let rm = best(1, keys, || {
        for i in &order {
            k.remove(&ks[*i]).unwrap();
        }
    });
    let hrm = best(1, keys, || {
        for i in &order {
            hm.remove(&ks[*i]);
        }
    });
    row("remove", rm, hrm);
    rows
}

/// Two threads reading (or overwriting) disjoint halves of the keys.
fn threads(keys: usize, vlen: usize, write: bool, rounds: usize) -> (f64, f64) {
    let val = vec![b'v'; vlen];
    let ks: Vec<Vec<u8>> = (0..keys).map(key).collect();
    let k = K2h::open_mem(Layout::default()).unwrap();
    for kk in &ks {
        k.set_value(kk, &val, None, None).unwrap();
    }
    let work = |part: &[Vec<u8>]| {
        for kk in part {
            if write {
                k.set_value(kk, &val, None, None).unwrap();
            } else {
                black_box(k.get(kk, Protect::Yes(None)).unwrap().unwrap());
            }
        }
    };
    let one = best(rounds, keys, || work(&ks));
    let two = best(rounds, keys, || {
        std::thread::scope(|s| {
            let (a, b) = ks.split_at(keys / 2);
            s.spawn(|| work(a));
            s.spawn(|| work(b));
        })
    });
    (one, two)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "full");
    let dir = args
        .iter()
        .position(|a| a == "file")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let rounds = 3;
    let sizes: &[(usize, usize)] = if full {
        &[
            (1_000, 16),
            (1_000, 128),
            (1_000, 4096),
            (100_000, 16),
            (100_000, 128),
            (100_000, 4096),
            (1_000_000, 16),
            (1_000_000, 128),
        ]
    } else {
        &[(1_000, 128), (100_000, 128), (1_000_000, 128)]
    };
    println!("| operation | ours ns/op | HashMap ns/op | ours / HashMap | ours ops/s |");
    println!("|---|---:|---:|---:|---:|");
    for &(n, v) in sizes {
        for r in run(n, v, dir.as_deref(), rounds) {
            println!(
                "| {} | {:.0} | {:.0} | {:.1}x | {:.0} |",
                r.name,
                r.ours,
                r.base,
                r.ours / r.base,
                1e9 / r.ours
            );
        }
    }
    for write in [false, true] {
        let (one, two) = threads(100_000, 128, write, rounds);
        println!(
            "| {} 100000 keys, 2 threads vs 1 | {:.0} | {:.0} (1 thread) | scaling {:.2}x | {:.0} |",
            if write { "overwrite" } else { "get" },
            two,
            one,
            one / two,
            1e9 / two
        );
    }
}
