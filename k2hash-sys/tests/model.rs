//! Property tests: the engine against a model (HashMap) over random operation sequences,
//! including detaching and re-attaching the file between steps, in every storage mode.
mod common;
use k2hash::{K2h, Layout, Protect};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone)]
enum Op {
    Set(u16, Vec<u8>),
    Remove(u16),
    AddSub(u16, u16),
    Rename(u16, u16),
    Attr(u16, u8),
    Reopen,
}

fn key(k: u16) -> Vec<u8> {
    // short and long keys (spanning pages), some binary
    match k % 4 {
        0 => format!("k{k}\0").into_bytes(),
        1 => vec![0x80 | (k as u8), 0, (k >> 8) as u8, 0xff],
        2 => format!("long-key-{k}-{}", "x".repeat(150)).into_bytes(),
        _ => k.to_le_bytes().to_vec(),
    }
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u16..64;
    prop_oneof![
        6 => (k.clone(), prop::collection::vec(any::<u8>(), 0..400)).prop_map(|(k, v)| Op::Set(k, v)),
        2 => k.clone().prop_map(Op::Remove),
        1 => (k.clone(), k.clone()).prop_map(|(a, b)| Op::AddSub(a, b)),
        1 => (k.clone(), k.clone()).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => (k.clone(), any::<u8>()).prop_map(|(a, b)| Op::Attr(a, b)),
        1 => Just(Op::Reopen),
    ]
}

#[derive(Default, Clone, Debug)]
struct Model {
    value: Vec<u8>,
    subkeys: Vec<Vec<u8>>,
    attrs: BTreeMap<Vec<u8>, Vec<u8>>,
}

fn run(ops: Vec<Op>, mode: u8) {
    let dir = common::tempdir();
    let path = dir.path().join("m.k2h");
    // a tiny layout so that the key index grows and areas are appended
    let layout = Layout {
        mask_bits: 2,
        cmask_bits: 1,
        max_elements: 2,
        page_size: 128,
    };
    let open = || match mode {
        0 => K2h::open_mem(layout).unwrap(),
        1 => K2h::open_file(&path, false, false, true, layout).unwrap(),
        _ => K2h::open_file(&path, false, false, false, layout).unwrap(),
    };
    let mut k = open();
    let mut m: HashMap<Vec<u8>, Model> = HashMap::new();
    for op in ops {
        match op {
            Op::Set(a, v) => {
                k.set_value(&key(a), &v, None, None).unwrap();
                m.entry(key(a)).or_default().value = v;
            }
            Op::Remove(a) => {
                k.remove(&key(a)).unwrap();
                m.remove(&key(a));
            }
            Op::AddSub(a, b) => {
                if a == b {
                    continue;
                }
                k.add_subkey(&key(a), &key(b), b"sv", None, None).unwrap();
                m.insert(
                    key(b),
                    Model {
                        value: b"sv".to_vec(),
                        ..Default::default()
                    },
                );
                let p = m.entry(key(a)).or_default();
                if !p.subkeys.contains(&key(b)) {
                    p.subkeys.push(key(b));
                    p.subkeys.sort();
                }
            }
            Op::Rename(a, b) => {
                // renaming onto an existing key duplicates it (original quirk): only model the
                // well-defined case
                if a == b || m.contains_key(&key(b)) {
                    continue;
                }
                let r = k.rename(&key(a), &key(b)).unwrap();
                assert_eq!(r, m.contains_key(&key(a)));
                if let Some(e) = m.remove(&key(a)) {
                    m.insert(key(b), e);
                }
            }
            Op::Attr(a, n) => {
                let name = vec![b'a', n % 4];
                k.add_attr(&key(a), &name, &[n]).unwrap();
                m.entry(key(a)).or_default().attrs.insert(name, vec![n]);
            }
            Op::Reopen => {
                if mode != 0 {
                    drop(k);
                    k = open();
                }
            }
        }
    }
    // compare everything
    for (kk, e) in &m {
        let want = if e.value.is_empty() {
            None
        } else {
            Some(e.value.clone())
        };
        assert_eq!(
            k.get(kk, Protect::Yes(None)).unwrap(),
            want,
            "value of {kk:?}"
        );
        assert_eq!(
            k.get_subkeys(kk, true).unwrap().unwrap_or_default(),
            e.subkeys
        );
        let attrs: Vec<(Vec<u8>, Vec<u8>)> = e.attrs.clone().into_iter().collect();
        assert_eq!(k.get_attrs(kk).unwrap().unwrap_or_default(), attrs);
    }
    let mut keys = k.db().keys().unwrap();
    keys.sort();
    let mut want: Vec<Vec<u8>> = m.keys().cloned().collect();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(k.db().verify().unwrap(), m.len() as u64);
    // untouched keys stay missing
    for a in 64..70u16 {
        assert_eq!(k.get(&key(a), Protect::No).unwrap(), None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]
    #[test]
    fn memory_matches_model(ops in prop::collection::vec(op(), 1..300)) { run(ops, 0) }
    #[test]
    fn fullmap_file_matches_model(ops in prop::collection::vec(op(), 1..300)) { run(ops, 1) }
    #[test]
    fn partial_file_matches_model(ops in prop::collection::vec(op(), 1..300)) { run(ops, 2) }
}
