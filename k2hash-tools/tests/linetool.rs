//! Acceptance: the original k2hlinetool transcript (../shared/fixtures/k2hash/linetool) replayed
//! with our tool, run and filtered exactly as the original test script does, compared in full
//! (the original script's grep stops at the first unprintable byte; this compares every line).
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const FILE: &str = "/tmp/k2hash_test_linetool.k2h";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/k2hash/linetool")
}

fn run(lockdir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_k2hlinetool"))
        .args(args)
        .env("K2H_LOCKDIR", lockdir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("run k2hlinetool");
    assert!(out.status.success(), "k2hlinetool {args:?} failed");
    out.stdout
}

fn filtered(b: &[u8]) -> Vec<Vec<u8>> {
    b.split(|&c| c == b'\n')
        .filter(|l| {
            let s = String::from_utf8_lossy(l);
            let numbered = {
                let t = s.as_bytes();
                !t.is_empty()
                    && t[0].is_ascii_lowercase()
                    && s.split_once(' ').is_some_and(|(a, b)| {
                        a[1..].bytes().all(|c| c.is_ascii_digit())
                            && b.bytes().all(|c| c.is_ascii_digit())
                    })
            };
            !numbered && !s.contains("K2HASH library Version") && !s.contains("FULLOCK Version")
        })
        .map(|l| l.to_vec())
        .collect()
}

#[test]
fn original_transcript_passes() {
    let dir = fixtures();
    let cmd = dir.join("test_linetool.cmd");
    let dcmd = dir.join("test_linetool_dsave.cmd");
    let (cmd, dcmd) = (cmd.to_str().unwrap(), dcmd.to_str().unwrap());
    let common = [
        "-mask",
        "4",
        "-cmask",
        "2",
        "-elementcnt",
        "32",
        "-pagesize",
        "128",
        "-fullmap",
    ];
    let with = |head: &[&'static str], tail: &[&str]| -> Vec<String> {
        head.iter()
            .chain(common.iter())
            .chain(tail.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let locks = tempfile::tempdir().unwrap();
    let run = |a: &[&str]| run(locks.path(), a);
    let _ = std::fs::remove_file(FILE);
    let mut log = Vec::new();
    log.extend(run(&["-f", FILE, "-init"]));
    log.extend(run(&["-libversion"]));
    let runs: Vec<Vec<String>> = vec![
        with(&["-m"], &["-run", cmd]),
        with(&["-m"], &["-capi", "-run", cmd]),
        with(&["-t", FILE], &["-run", cmd]),
        with(&["-f", FILE], &["-run", cmd]),
    ];
    for (i, r) in runs.iter().enumerate() {
        if i >= 2 {
            let _ = std::fs::remove_file(FILE);
        }
        let a: Vec<&str> = r.iter().map(String::as_str).collect();
        log.extend(run(&a));
    }
    log.extend(run(&[
        "-m",
        "-mask",
        "2",
        "-cmask",
        "2",
        "-elementcnt",
        "2",
        "-fullmap",
        "-run",
        dcmd,
    ]));
    let _ = std::fs::remove_file(FILE);
    let _ = std::fs::remove_file("/tmp/test_linetool_dsave_binary.data");
    let master = std::fs::read(dir.join("test_linetool.log")).unwrap();
    let (ours, want) = (filtered(&log), filtered(&master));
    for (i, (a, b)) in ours.iter().zip(want.iter()).enumerate() {
        assert_eq!(
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b),
            "transcript line {} differs",
            i + 1
        );
    }
    assert_eq!(ours.len(), want.len(), "transcript length differs");
}
