//! Handles reattach after a file is replaced at their path (what k2hreplace relies on). Alone in
//! its test binary: the lock directory is a process-wide setting the other tests change.
mod common;
use k2hash::{K2h, Protect};
use std::path::Path;

#[test]
fn handles_follow_a_replaced_file() {
    let d = common::tempdir();
    let dst = d.path().join("live.k2h");
    let src = d.path().join("new.k2h");
    let live = K2h::open_file(&dst, false, false, true, common::small_layout()).unwrap();
    live.set_value(b"a\0", b"old\0", None, None).unwrap();
    {
        let n = K2h::open_file(&src, false, false, true, common::small_layout()).unwrap();
        n.set_value(b"a\0", b"new\0", None, None).unwrap();
    }
    // what k2hreplace does: swap the links, then attach the new file once
    let bak = d.path().join("live.k2h.BAK");
    std::fs::hard_link(&dst, &bak).unwrap();
    std::fs::remove_file(&dst).unwrap();
    std::fs::hard_link(&src, &dst).unwrap();
    std::fs::remove_file(&src).unwrap();
    drop(K2h::open_file(Path::new(&dst), true, false, false, common::small_layout()).unwrap());
    assert_eq!(
        live.get(b"a\0", Protect::No).unwrap().as_deref(),
        Some(&b"new\0"[..])
    );
    live.set_value(b"b\0", b"x\0", None, None).unwrap();
    let check = K2h::open_file(&dst, true, false, false, common::small_layout()).unwrap();
    assert_eq!(
        check.get(b"b\0", Protect::No).unwrap().as_deref(),
        Some(&b"x\0"[..])
    );
    let old = K2h::open_file(&bak, true, false, false, common::small_layout()).unwrap();
    assert_eq!(
        old.get(b"a\0", Protect::No).unwrap().as_deref(),
        Some(&b"old\0"[..])
    );
}
