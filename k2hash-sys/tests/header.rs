//! The checked-in headers are exactly what cbindgen generates from the sources.
#[test]
fn headers_are_current() {
    let inc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/k2hash");
    for (name, generated) in [
        (
            "k2hash.h",
            include_str!(concat!(env!("OUT_DIR"), "/k2hash.h")),
        ),
        (
            "k2hdbg.h",
            include_str!(concat!(env!("OUT_DIR"), "/k2hdbg.h")),
        ),
        (
            "k2hashfunc.h",
            include_str!(concat!(env!("OUT_DIR"), "/k2hashfunc.h")),
        ),
    ] {
        let checked_in = std::fs::read_to_string(inc.join(name)).unwrap_or_default();
        assert!(
            checked_in == generated,
            "include/k2hash/{name} is stale: run `make headers`"
        );
    }
}
