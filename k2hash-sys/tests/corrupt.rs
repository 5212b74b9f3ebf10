//! Damaged files never crash, hang or panic: attach may fail, every operation may fail, and
//! nothing panics. Deterministic pseudo-random damage over the metadata and data.
mod common;
use k2hash::{K2h, Layout, Parts, Protect};

use common::Rng;

fn exercise(k: &K2h) {
    let mut pos = 0;
    let mut n = 0;
    while let Ok(Some((e, key, _))) = k.db().next_element(pos, Parts::NONE) {
        let _ = k.get(&key, Protect::No);
        let _ = k.get(&key, Protect::Yes(Some("secretpass")));
        let _ = k.get_subkeys(&key, true);
        let _ = k.get_attrs(&key);
        if n % 3 == 0 {
            let _ = k.set_value(&key, b"rewritten", None, None);
        }
        if n % 5 == 0 {
            let _ = k.remove(&key);
        }
        pos = e;
        n += 1;
        if n > 5000 {
            break;
        }
    }
    for i in 0..50 {
        let key = format!("new-{i}\0");
        let _ = k.set_value(key.as_bytes(), &vec![b'x'; i * 13], None, None);
        let _ = k.add_subkey(b"key1\0", key.as_bytes(), b"v", None, None);
        let _ = k.get(key.as_bytes(), Protect::No);
        let _ = k.rename(key.as_bytes(), b"renamed\0");
    }
    let _ = k.db().verify();
    let _ = k2hash::dump::dump(k.db(), k2hash::dump::DUMP_PAGE);
    let _ = k2hash::dump::state(k.db());
}

#[test]
fn random_damage() {
    let dir = common::tempdir();
    let src = std::fs::read(common::fixtures().join("upstream-small.k2h")).unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut opened = 0;
    for round in 0..300 {
        let mut data = src.clone();
        let hits = 1 + rng.below(64);
        for _ in 0..hits {
            // aim at the interesting parts: header, key indexes, elements, first pages
            let region: (usize, usize) = match rng.below(4) {
                0 => (0, 49_584),
                1 => (53_248, 126_976),
                2 => (126_976, 126_976 + 112 * 64),
                _ => (1_961_984, 1_961_984 + 128 * 64),
            };
            let at = region.0 + rng.below((region.1 - region.0) as u64) as usize;
            if rng.below(2) == 0 {
                data[at] = rng.next_u64() as u8;
            } else if at + 8 <= data.len() {
                let v = match rng.below(4) {
                    0 => rng.next_u64(),
                    1 => rng.below(data.len() as u64 + 4096),
                    2 => u64::MAX - rng.below(16),
                    _ => 0,
                };
                data[at..at + 8].copy_from_slice(&v.to_le_bytes());
            }
        }
        if round % 10 == 0 {
            let len = 49_585 + rng.below(data.len() as u64 - 49_585) as usize;
            data.truncate(len);
        }
        let path = dir.path().join(format!("d{round}.k2h"));
        std::fs::write(&path, &data).unwrap();
        if let Ok(k) = K2h::open_file(&path, false, false, round % 2 == 0, Layout::default()) {
            opened += 1;
            exercise(&k);
        }
        if let Ok(k) = K2h::open_file(&path, true, false, true, Layout::default()) {
            exercise(&k);
        }
        std::fs::remove_file(&path).unwrap();
    }
    assert!(opened > 50, "most damaged files still attach ({opened})");
}
