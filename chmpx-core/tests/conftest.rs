//! chmpxconftest against the original's test configurations: every form (INI, YAML, JSON file,
//! JSON string, the CHMCONFFILE / CHMJSONCONF variables) prints exactly the fixture `.result`
//! (with NAME and DATE lines removed, as the original's test script does). Malformed
//! configurations give a message and a non-zero exit, never a crash.

use std::path::PathBuf;
use std::process::{Command, Output};

use proptest::prelude::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/chmpx/conf")
}

fn conftest(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chmpxconftest"));
    cmd.args(args)
        .env_remove("CHMCONFFILE")
        .env_remove("CHMJSONCONF")
        .env_remove("CHMDBGMODE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run chmpxconftest")
}

/// The original test script's filter: drop lines containing NAME or DATE.
fn filtered(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| !l.contains("NAME") && !l.contains("DATE"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn expected(kind: &str) -> String {
    std::fs::read_to_string(fixtures().join(format!("cfg_test_{kind}.result"))).unwrap()
}

fn json_param(kind: &str) -> String {
    let data = std::fs::read_to_string(fixtures().join("cfg_test_json_string.data")).unwrap();
    let prefix = if kind == "server" {
        "SERVER="
    } else {
        "SLAVE="
    };
    data.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap()
        .to_string()
}

#[test]
fn every_form_prints_the_fixture() {
    for kind in ["server", "slave"] {
        let want = expected(kind);
        for ext in ["ini", "yaml", "json"] {
            let path = fixtures().join(format!("cfg_test_{kind}.{ext}"));
            let out = conftest(&["-conf", path.to_str().unwrap(), "-no_check_update"], &[]);
            assert!(
                out.status.success(),
                "{kind}.{ext}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(filtered(&out), want, "{kind}.{ext}");
            // -f is the short spelling of -conf; options are case-insensitive.
            let out = conftest(&["-F", path.to_str().unwrap(), "-No_Check_Update"], &[]);
            assert_eq!(filtered(&out), want, "{kind}.{ext} with -F");
        }
        let json = json_param(kind);
        let out = conftest(&["-json", &json, "-no_check_update"], &[]);
        assert_eq!(filtered(&out), want, "{kind} -json");
        let out = conftest(&["-no_check_update"], &[("CHMJSONCONF", &json)]);
        assert_eq!(filtered(&out), want, "{kind} CHMJSONCONF");
        let ini = fixtures().join(format!("cfg_test_{kind}.ini"));
        let out = conftest(
            &["-no_check_update"],
            &[("CHMCONFFILE", ini.to_str().unwrap())],
        );
        assert_eq!(filtered(&out), want, "{kind} CHMCONFFILE");
    }
}

#[test]
fn unfiltered_lines_match_the_original() {
    // DATE is read like the original (local time, one hour back); CHMPXID TYPE and the slave
    // NAME are plain values.
    let path = fixtures().join("cfg_test_server.ini");
    let out = conftest(
        &["-conf", path.to_str().unwrap(), "-no_check_update"],
        &[("TZ", "UTC")],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\tDATE            = 1575536400\n"), "{text}");
    assert!(text.contains("\tCHMPXID TYPE    = NAME\n"));
    assert!(text.contains("\t\tNAME          = [.]*\n"));
}

#[test]
fn help_and_defaults() {
    let out = conftest(&["-h"], &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("-no_check_update"));
    let out = conftest(&["-print_default"], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("CHMPXLIST            26776 bytes"));
}

fn write_conf(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

const GOOD_INI: &str = "[GLOBAL]\nFILEVERSION=1\nGROUP=G\nMODE=SLAVE\nDELIVERMODE=hash\nPORT=8020\nCTLPORT=8021\n[SVRNODE]\nNAME=localhost\n[SLVNODE]\nNAME=[.]*\nCTLPORT=8022\n";

#[test]
fn malformed_configs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        ("nogroup.ini", "[GLOBAL]\nFILEVERSION=1\nDELIVERMODE=hash\n[SVRNODE]\nNAME=a\nPORT=1\nCTLPORT=2\n[SLVNODE]\nNAME=x\nCTLPORT=3\n"),
        ("nodeliver.ini", "[GLOBAL]\nFILEVERSION=1\nGROUP=G\n[SVRNODE]\nNAME=a\nPORT=1\nCTLPORT=2\n[SLVNODE]\nNAME=x\nCTLPORT=3\n"),
        ("noslave.ini", "[GLOBAL]\nFILEVERSION=1\nGROUP=G\nDELIVERMODE=hash\n[SVRNODE]\nNAME=a\nPORT=1\nCTLPORT=2\n"),
        ("badmode.ini", &GOOD_INI.replace("MODE=SLAVE", "MODE=both")),
        ("badbool.ini", &GOOD_INI.replace("MODE=SLAVE", "MODE=SLAVE\nMQACK=maybe")),
        ("badport.ini", &GOOD_INI.replace("PORT=8020", "PORT=99999")),
        ("badpattern.ini", &GOOD_INI.replace("NAME=localhost", "NAME=srv[3-1]")),
        ("badregex.ini", &GOOD_INI.replace("NAME=[.]*", "NAME=(unclosed")),
        ("server.ini", &GOOD_INI.replace("MODE=SLAVE", "MODE=SERVER")),
        ("nocert.ini", &GOOD_INI.replace("MODE=SLAVE", "MODE=SLAVE\nSSL=on\nSERVER_CERT=/nonexistent/cert.pem")),
        ("verifyoff.ini", &GOOD_INI.replace("MODE=SLAVE", "MODE=SLAVE\nSSL_VERIFY_PEER=on")),
        ("list.yaml", "GLOBAL: [1, 2]\n"),
        ("scalar.yaml", "just text\n"),
        ("alias.yaml", "GLOBAL: &g {GROUP: G}\nX: *g\n"),
        ("trunc.json", "{\"GLOBAL\": {\"GROUP\": \"G\", \"FILEVERSION\""),
        ("wrongtype.json", "{\"GLOBAL\": {\"GROUP\": {\"a\": 1}}}"),
        ("huge.yaml", "GLOBAL: {GROUP: G, FILEVERSION: 1, PORT: 8020, CTLPORT: 99999999999999999999}\n"),
        ("unknown.txt", GOOD_INI),
        ("empty.ini", ""),
        ("binary.ini", "\u{0}\u{1}[GLOBAL\n===\n"),
    ];
    for (name, text) in cases {
        let path = write_conf(&dir, name, text);
        let out = conftest(&["-conf", &path, "-no_check_update"], &[]);
        assert!(
            !out.status.success(),
            "{name} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(out.status.code().is_some(), "{name}: killed by a signal");
        assert!(!out.stderr.is_empty(), "{name}: no message");
    }
    let out = conftest(
        &[
            "-conf",
            dir.path().join("missing.ini").to_str().unwrap(),
            "-no_check_update",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = conftest(&["-no_check_update"], &[]);
    assert_eq!(out.status.code(), Some(1), "no configuration at all");

    // The same minimal configuration loads (sanity check of the cases above).
    let path = write_conf(&dir, "good.ini", GOOD_INI);
    let out = conftest(&["-conf", &path, "-no_check_update"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\tMODE            = SLAVE\n") && text.contains("\t\tPORT          = 8020\n")
    );
}

#[test]
fn ini_quirks() {
    let dir = tempfile::tempdir().unwrap();
    // INCLUDE never takes effect; keys are case-sensitive (lowercase `replica` is ignored);
    // trailing comments, quotes; REPLICA is capped to MAXCHMPX; hash + DOMERGE off forces
    // AUTOMERGE off; node sections sorted; simple patterns expanded.
    let text = GOOD_INI.replace(
        "MODE=SLAVE",
        "MODE=SLAVE\nINCLUDE = /nonexistent.ini\nreplica = 5\nMAXCHMPX = 3\nREPLICA = 9 # capped\nAUTOMERGE=on\nSELFCUK = \"a b\"",
    )
    .replace("NAME=localhost", "NAME=node[2,1].invalid");
    let path = write_conf(&dir, "q.ini", &text);
    let out = conftest(&["-conf", &path, "-no_check_update"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("\tREPLICA         = 3\n"), "{t}");
    assert!(t.contains("\tAUTOMERGE       = off\n"));
    assert!(t.contains("\tSELF CUK        = a b\n"));
    let n1 = t.find("NAME          = node1.invalid").unwrap();
    let n2 = t.find("NAME          = node2.invalid").unwrap();
    assert!(n1 < n2, "servers sorted by name");
}

#[test]
fn yaml_keys_are_case_insensitive_and_delivermode_defaults_to_hash() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "global:\n  group: G\n  fileversion: 2\n  mode: slave\n  port: 8020\n  ctlport: 8021\n  maxchmpx: 99999\nsvrnode:\n  - name: localhost\nslvnode:\n  - name: '[.]*'\n    ctlport: 8022\nK2HDKC:\n  whatever: [1, 2]\n";
    let path = write_conf(&dir, "c.yml", yaml);
    let out = conftest(&["-conf", &path, "-no_check_update"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(t.contains("\tDELIVER MODE    = HASH\n"));
    assert!(t.contains("\tMAXCHMPX        = 32768\n"), "capped: {t}");
}

#[test]
fn server_mode_found_by_ctlport_on_localhost_without_dns() {
    let dir = tempfile::tempdir().unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let text = GOOD_INI
            .replace("MODE=SLAVE\n", "SELFCTLPORT=8021\n")
            .replace("NAME=localhost", &format!("NAME={host}"));
        let path = write_conf(&dir, "auto.ini", &text);
        let out = conftest(&["-conf", &path, "-no_check_update"], &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("\tMODE            = SERVER\n"),
            "{host}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random edits of the fixture configurations (truncation, byte flips, inserted lines)
    /// never crash the loader: the process exits 0 or 1 with no signal.
    #[test]
    fn mutated_fixtures_never_crash(which in 0usize..6, cut in 0.0f64..1.0, flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..4), extra in "[A-Z_]{1,12} ?= ?[-0-9a-z\\[\\]{}:,'\"]{0,12}") {
        let names = ["cfg_test_server.ini", "cfg_test_server.yaml", "cfg_test_server.json", "cfg_test_slave.ini", "cfg_test_slave.yaml", "cfg_test_slave.json"];
        let mut bytes = std::fs::read(fixtures().join(names[which])).unwrap();
        let keep = ((bytes.len() as f64) * cut) as usize;
        bytes.truncate(keep.max(1));
        for (pos, b) in flips {
            let i = ((bytes.len() as f64) * pos) as usize % bytes.len();
            bytes[i] = b;
        }
        bytes.extend_from_slice(format!("\n{extra}\n").as_bytes());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(names[which]);
        std::fs::write(&p, &bytes).unwrap();
        let out = conftest(&["-conf", p.to_str().unwrap(), "-no_check_update"], &[]);
        prop_assert!(matches!(out.status.code(), Some(0) | Some(1)), "status {:?}", out.status);
    }
}
