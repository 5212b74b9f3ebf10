//! Dump and state text match the original's output in the fixture transcripts
//! (`k2hlinetool -ro` with `info state` and `dump element`), addresses aside.
mod common;
use k2hash::{dump, K2h, Layout};

/// Replace pointer values (`0x7` followed by 11 hex digits) by a placeholder.
fn normalize(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"0x7")
            && b.len() >= i + 14
            && b[i + 3..i + 14].iter().all(u8::is_ascii_hexdigit)
        {
            out.extend_from_slice(b"ADDR");
            i += 14;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let s = text.find(start).unwrap();
    let e = text[s..].find(end).unwrap() + s;
    &text[s..e]
}

fn check(name: &str) {
    let dir = common::tempdir();
    let path = dir.path().join(format!("{name}.k2h"));
    std::fs::copy(common::fixtures().join(format!("{name}.k2h")), &path).unwrap();
    let k = K2h::open_file(&path, true, false, false, Layout::default()).unwrap();
    let transcript =
        std::fs::read_to_string(common::fixtures().join(format!("{name}.k2hlinetool-dump.txt")))
            .unwrap();

    let block = section(&transcript, "K2HTOOL> dump element", "K2HTOOL> quit");
    let want = &block[block.find("K2H(").unwrap()..];
    let ours = String::from_utf8(dump::dump(k.db(), dump::DUMP_ELEMENT).unwrap()).unwrap();
    let (w, o) = (normalize(want), normalize(&ours));
    if w != o {
        for (i, (a, b)) in w.lines().zip(o.lines()).enumerate() {
            assert_eq!(a, b, "{name}: dump line {}", i + 1);
        }
        assert_eq!(w.lines().count(), o.lines().count(), "{name}: dump length");
    }

    let want = section(
        &transcript,
        "Total File size",
        "-------------------------------------------------------\nK2HTOOL>",
    );
    let ours = dump::state_text(&dump::state(k.db()).unwrap());
    assert_eq!(want, ours, "{name}: state text");
}

#[test]
fn small_fixture_dump_matches_original() {
    check("upstream-small");
}

#[test]
fn custom_fixture_dump_matches_original() {
    check("upstream-custom");
}

#[test]
fn grown_index_prints_unassigned_entries_as_the_original() {
    let k = K2h::open_mem(Layout {
        mask_bits: 2,
        cmask_bits: 1,
        max_elements: 2,
        page_size: 128,
    })
    .unwrap();
    for i in 0..200 {
        k.set_value(format!("k{i}\0").as_bytes(), b"v", None, None)
            .unwrap();
    }
    let text = String::from_utf8(dump::dump(k.db(), dump::DUMP_KINDEX).unwrap()).unwrap();
    assert!(text.contains("      Assign                  = Not assigned\n"));
    assert!(text.contains("      Assign                  = Assigned\n"));
    assert!(text.contains("      CKey Index[2]           = 0x"));
}
