//! Criterion benches of the core operations, each next to a `std::collections::HashMap` doing
//! the same work in the same run (docs/performance.md reports the ratios).
//!
//! cargo bench -p k2hash-sys --bench core                 # 1K/100K/1M keys, 16 B/128 B/4 KiB
//! K2HBENCH_FULL=1 cargo bench -p k2hash-sys --bench core # also 1M keys of 4 KiB
//! cargo bench -p k2hash-sys --bench core -- 'mem/100000keys/128B'   # one group
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use k2hash::queue::Queue;
use k2hash::{K2h, Layout, Parts, Protect};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn key(i: usize) -> Vec<u8> {
    format!("key-{i:010}\0").into_bytes()
}

struct Fixture {
    k: K2h,
    keys: Vec<Vec<u8>>,
    hm: HashMap<Vec<u8>, Vec<u8>>,
    val: Vec<u8>,
    _dir: Option<tempfile::TempDir>,
}

fn fixture(file: bool, n: usize, vlen: usize) -> Fixture {
    let dir = file.then(|| tempfile::tempdir().unwrap());
    if let Some(d) = &dir {
        std::env::set_var("K2H_LOCKDIR", d.path());
    }
    let k = match &dir {
        None => K2h::open_mem(Layout::default()).unwrap(),
        Some(d) => K2h::open_file(
            &d.path().join("b.k2h"),
            false,
            false,
            true,
            Layout::default(),
        )
        .unwrap(),
    };
    let val = vec![b'v'; vlen];
    let keys: Vec<Vec<u8>> = (0..n).map(key).collect();
    let mut hm = HashMap::with_capacity(n);
    for kk in &keys {
        k.set_value(kk, &val, None, None).unwrap();
        hm.insert(kk.clone(), val.clone());
    }
    Fixture {
        k,
        keys,
        hm,
        val,
        _dir: dir,
    }
}

/// Index sequence that visits all keys in a scattered order.
struct Walk {
    i: usize,
    n: usize,
}

impl Walk {
    fn new(n: usize) -> Walk {
        Walk { i: 0, n }
    }
    #[inline]
    fn next(&mut self) -> usize {
        self.i = (self.i + 7919) % self.n;
        self.i
    }
}

/// Time `iters` removals in rounds of at most `n` distinct keys, putting them back untimed.
fn remove_rounds(
    iters: u64,
    n: usize,
    mut remove: impl FnMut(usize),
    mut restore: impl FnMut(usize),
) -> Duration {
    let (mut total, mut left) = (Duration::ZERO, iters);
    while left > 0 {
        let m = left.min(n as u64) as usize;
        let mut w = Walk::new(n);
        let picks: Vec<usize> = (0..m).map(|_| w.next()).collect();
        let t = Instant::now();
        for &i in &picks {
            remove(i);
        }
        total += t.elapsed();
        for &i in &picks {
            restore(i);
        }
        left -= m as u64;
    }
    total
}

fn group(c: &mut Criterion, file: bool, n: usize, vlen: usize) {
    let f = fixture(file, n, vlen);
    let name = format!("{}/{n}keys/{vlen}B", if file { "file" } else { "mem" });
    let mut g = c.benchmark_group(&name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(800))
        .throughput(Throughput::Elements(1));
    let (k, keys, val) = (&f.k, &f.keys, &f.val);

    let mut w = Walk::new(n);
    g.bench_function("get", |b| {
        b.iter(|| black_box(k.get(&keys[w.next()], Protect::Yes(None)).unwrap()))
    });
    let mut w = Walk::new(n);
    g.bench_function("get/HashMap", |b| {
        b.iter(|| black_box(f.hm.get(&keys[w.next()]).cloned()))
    });
    let miss: Vec<Vec<u8>> = (0..1000).map(|i| key(n + i)).collect();
    let mut w = Walk::new(miss.len());
    g.bench_function("get_miss", |b| {
        b.iter(|| black_box(k.get(&miss[w.next()], Protect::Yes(None)).unwrap()))
    });
    let mut w = Walk::new(miss.len());
    g.bench_function("get_miss/HashMap", |b| {
        b.iter(|| black_box(f.hm.get(&miss[w.next()]).cloned()))
    });
    let mut w = Walk::new(n);
    g.bench_function("overwrite", |b| {
        b.iter(|| k.set_value(&keys[w.next()], val, None, None).unwrap())
    });
    let mut hm = f.hm.clone();
    let mut w = Walk::new(n);
    g.bench_function("overwrite/HashMap", |b| {
        b.iter(|| hm.insert(keys[w.next()].clone(), val.clone()))
    });
    let mut fresh = n;
    g.bench_function("set_new", |b| {
        b.iter(|| {
            fresh += 1;
            k.set_value(&key(fresh), val, None, None).unwrap()
        })
    });
    let mut fresh_h = n;
    g.bench_function("set_new/HashMap", |b| {
        b.iter(|| {
            fresh_h += 1;
            hm.insert(key(fresh_h), val.clone())
        })
    });
    g.bench_function("remove", |b| {
        b.iter_custom(|iters| {
            remove_rounds(
                iters,
                n,
                |i| {
                    k.remove(&keys[i]).unwrap();
                },
                |i| k.set_value(&keys[i], val, None, None).unwrap(),
            )
        })
    });
    g.bench_function("remove/HashMap", |b| {
        b.iter_custom(|iters| {
            let hm = std::cell::RefCell::new(&mut hm);
            remove_rounds(
                iters,
                n,
                |i| {
                    hm.borrow_mut().remove(&keys[i]);
                },
                |i| {
                    hm.borrow_mut().insert(keys[i].clone(), val.clone());
                },
            )
        })
    });
    let mut pos = 0u64;
    g.bench_function("iterate", |b| {
        b.iter(|| match k.db().next_element(pos, Parts::VALUE).unwrap() {
            Some((e, kk, v)) => {
                pos = e;
                black_box((kk, v));
            }
            None => pos = 0,
        })
    });
    let mut it = f.hm.iter().cycle();
    g.bench_function("iterate/HashMap", |b| {
        b.iter(|| black_box(it.next().map(|(a, v)| (a.clone(), v.clone()))))
    });
    let mut sub = 0usize;
    g.bench_function("subkeys (add + list)", |b| {
        b.iter(|| {
            sub += 1;
            let parent = &keys[sub % n];
            k.add_subkey(parent, &key(n + 10_000_000 + sub % 8), val, None, None)
                .unwrap();
            black_box(k.get_subkeys(parent, false).unwrap())
        })
    });
    let q = Queue::new(Some(b"benchq"), true);
    g.bench_function("queue (push + pop)", |b| {
        b.iter(|| {
            q.push(k, val, &[], None, None).unwrap();
            black_box(q.pop(k, None).unwrap())
        })
    });
    if vlen == 128 && n >= 100_000 {
        for (label, write) in [("get 2 threads", false), ("overwrite 2 threads", true)] {
            g.bench_function(label, |b| {
                b.iter_custom(|iters| {
                    let half = (iters / 2).max(1) as usize;
                    let t = Instant::now();
                    std::thread::scope(|s| {
                        for th in 0..2 {
                            s.spawn(move || {
                                let mut w = Walk::new(n);
                                w.i = th * n / 2;
                                for _ in 0..half {
                                    let kk = &keys[w.next()];
                                    if write {
                                        k.set_value(kk, val, None, None).unwrap();
                                    } else {
                                        black_box(k.get(kk, Protect::Yes(None)).unwrap());
                                    }
                                }
                            });
                        }
                    });
                    t.elapsed()
                })
            });
        }
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    let full = std::env::var_os("K2HBENCH_FULL").is_some();
    for file in [false, true] {
        for n in [1_000, 100_000, 1_000_000] {
            for vlen in [16, 128, 4096] {
                if n == 1_000_000 && vlen == 4096 && !full {
                    continue;
                }
                group(c, file, n, vlen);
            }
        }
    }
}

criterion_group!(core, benches);
criterion_main!(core);
