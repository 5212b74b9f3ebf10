//! The k2hdkc server's command line answers as the original's (texts on standard output, exit
//! codes; the cause of a failure, ours only, on standard error).

use std::process::{Command, Stdio};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn k2hdkc(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_k2hdkc"))
        .args(args)
        .env_remove("K2HDKCCONFFILE")
        .env_remove("K2HDKCJSONCONF")
        .env_remove("DKCDBGMODE")
        .stdin(Stdio::null())
        .output()
        .expect("run k2hdkc");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

const USAGE_HEAD: &str = "[Usage]\nk2hdkc [-conf <file path> | -json <json string>] [-ctlport <port>] [-cuk <cuk>] [-comlog] [-no_giveup_rejoin] [-d [silent|err|wan|msg|dump]] [-dfile <file path>]\nk2hdkc [ -h | -v ]\n[option]\n";
const USAGE_TAIL: &str = "    \"GLOBAL\" section. and chmpx will start in the mode indicated by the\n    server entry that has been detected.\n";

#[test]
fn usage_and_option_errors_read_as_the_originals() {
    let out = k2hdkc(&["-h"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with(USAGE_HEAD), "{}", out.stdout);
    assert!(out.stdout.ends_with(USAGE_TAIL), "{}", out.stdout);
    assert!(out
        .stdout
        .contains("\n[environment]\n  K2HDKCCONFFILE       specify the configuration file(.ini .yaml .json) path\n"));
    assert_eq!(out.stdout.lines().count(), 29);

    for (args, first) in [
        (
            vec![],
            "ERROR: not specify option \"-conf\" or \"-json\", thus checking environments.",
        ),
        (
            vec!["-conf", "x.ini", "-d", "loud"],
            "ERROR: Unknown \"-d\" option parameter(LOUD) is specified.",
        ),
        (
            vec!["-conf", "x.ini", "-d"],
            "ERROR: \"-d\" option must be specified with parameter.",
        ),
    ] {
        let out = k2hdkc(&args);
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stdout.lines().next(), Some(first), "{args:?}");
        assert!(
            out.stdout[first.len() + 1..].starts_with(USAGE_HEAD),
            "{args:?}"
        );
    }
    for port in ["0", "-1", "abc", "65535"] {
        let out = k2hdkc(&["-conf", "x.ini", "-ctlport", port]);
        assert_eq!(out.code, 1, "{port}");
        assert_eq!(
            out.stdout, "ERROR: option \"-ctlport\" is specified with invalid value.\n",
            "{port}"
        );
    }
    let missing = format!("/nonexistent-{}/missing.ini", std::process::id());
    let missing = missing.as_str();
    let out = k2hdkc(&["-conf", missing]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout,
        format!("ERROR: Failed to load configuration : \"{missing}\"\n")
    );
    assert!(!out.stderr.is_empty(), "the cause on standard error");
}
