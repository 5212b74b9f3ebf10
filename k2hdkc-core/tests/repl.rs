//! REPLCLUSTERINI: the transaction plugin (c-tests/plugins/testtrans.c, built here) is loaded,
//! transactions are enabled on the server's database with the REPLCLUSTERINI text as their
//! parameter, and every write reaches the plugin, as with the original k2hdkc. ATTRPLUGIN:
//! the attribute plugin (c-tests/plugins/testattr.c) adds its attribute to every write.
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn replclusterini_loads_the_transaction_plugin() {
    let dir = std::env::temp_dir().join(format!("k2hdkc-repl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../c-tests/plugins/testtrans.c");
    let lib = dir.join("libtesttrans.so");
    let attrlib = dir.join("libtestattr.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let attrsrc = src.with_file_name("testattr.c");
    for (out, src) in [(&lib, src), (&attrlib, attrsrc)] {
        let built = Command::new(&cc)
            .args(["-shared", "-fPIC", "-o"])
            .arg(out)
            .arg(&src)
            .status()
            .expect("a C compiler");
        assert!(built.success());
    }
    let count = dir.join("count");
    std::env::set_var("K2HRS_TRANS_COUNT", &count);
    let conf = dir.join("server.ini");
    std::fs::write(
        &conf,
        format!(
            "[GLOBAL]\nFILEVERSION = 1\nGROUP = REPL\nDELIVERMODE = hash\n\
             [SVRNODE]\nNAME = 127.0.0.1\nPORT = 8020\nCTLPORT = 8021\n\
             [K2HDKC]\nK2HTYPE = mem\nREPLCLUSTERINI = {{\"cluster\":\"other\"}}\n\
             DTORTHREADCNT = 1\nDTORCTP = {}\nATTRPLUGIN = {}\n",
            lib.display(),
            attrlib.display()
        ),
    )
    .unwrap();
    let c = k2hdkc_core::config::load(conf.to_str().unwrap()).expect("config");
    assert_eq!(c.repl_cluster_ini, "{\"cluster\":\"other\"}");
    let db = k2hdkc_core::server::open_db(&c).expect("database with transactions");
    db.set_value(b"key\0", b"value\0", None, None).expect("set");
    // the plugin counts records and control calls (the enable called it once)
    let deadline = Instant::now() + Duration::from_secs(10);
    let (records, controls) = loop {
        let text = std::fs::read_to_string(&count).unwrap_or_default();
        let v: Vec<i64> = text
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if v.len() == 2 && v[0] > 0 {
            break (v[0], v[1]);
        }
        assert!(
            Instant::now() < deadline,
            "no record reached the plugin: {text:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(records >= 1 && controls >= 1, "{records} {controls}");
    let attrs = db.get_attrs(b"key\0").unwrap().unwrap_or_default();
    let names: Vec<Vec<u8>> = attrs.iter().map(|a| a.0.clone()).collect();
    assert!(names.iter().any(|n| n.starts_with(b"vlen")), "{names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
