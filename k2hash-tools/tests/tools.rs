//! End-to-end runs of the installed-style binaries: k2htouch, k2hedit, k2hreplace (with another
//! process attached), k2hcompress, k2himport, k2hbench, and their handling of bad input.
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self, exe: &str) -> Command {
        let mut c = Command::new(exe);
        c.env("K2H_LOCKDIR", self.dir.path())
            .env_remove("K2HDBGMODE")
            .current_dir(self.dir.path());
        c
    }

    fn run(&self, exe: &str, args: &[&str]) -> Output {
        self.run_in(exe, args, "")
    }

    fn run_in(&self, exe: &str, args: &[&str], input: &str) -> Output {
        let mut ch = self
            .cmd(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // the tool may exit before reading its input (bad arguments): a broken pipe is fine
        let _ = ch.stdin.take().unwrap().write_all(input.as_bytes());
        let o = ch.wait_with_output().unwrap();
        assert_ne!(o.status.code(), Some(101), "{exe} {args:?} panicked: {o:?}");
        o
    }
}

const TOUCH: &str = env!("CARGO_BIN_EXE_k2htouch");
const LINETOOL: &str = env!("CARGO_BIN_EXE_k2hlinetool");
const REPLACE: &str = env!("CARGO_BIN_EXE_k2hreplace");
const COMPRESS: &str = env!("CARGO_BIN_EXE_k2hcompress");
const IMPORT: &str = env!("CARGO_BIN_EXE_k2himport");
const BENCH: &str = env!("CARGO_BIN_EXE_k2hbench");

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "failed: {o:?}");
    o
}

/// Sorted `k2htouch FILE list` lines without internal (queue) keys.
fn listing(e: &Env, file: &str) -> Vec<String> {
    let o = ok(e.run(TOUCH, &[file, "list"]));
    let mut v: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn k2htouch_commands_and_outputs() {
    let e = Env::new();
    let f = "t.k2h";
    ok(e.run(TOUCH, &[f, "createmini"]));
    ok(e.run(TOUCH, &[f, "set", "key1", "v1"]));
    ok(e.run(TOUCH, &[f, "set", "key2", "v2"]));
    assert_eq!(stdout(&ok(e.run(TOUCH, &[f, "get", "key1"]))), "v1");
    assert_eq!(stdout(&ok(e.run(TOUCH, &[f, "get", "nokey"]))), "");
    ok(e.run(TOUCH, &[f, "addsubkey", "key1", "s1", "sv1"]));
    ok(e.run(TOUCH, &[f, "addsubkey", "key1", "s2", "sv2"]));
    assert_eq!(
        stdout(&ok(e.run(TOUCH, &[f, "getsubkey", "key1"]))),
        "s1\ns2\n"
    );
    ok(e.run(TOUCH, &[f, "push", "qp", "qv1"]));
    ok(e.run(TOUCH, &[f, "push", "qp", "qv2", "-lifo"]));
    // the popped data is printed as stored, NUL included
    assert_eq!(ok(e.run(TOUCH, &[f, "pop", "qp"])).stdout, b"qv2\0\n");
    ok(e.run(TOUCH, &[f, "clear", "qp"]));
    assert_eq!(ok(e.run(TOUCH, &[f, "pop", "qp"])).stdout, b"\n");
    ok(e.run(TOUCH, &[f, "kpush", "kq", "k1", "kv1"]));
    assert_eq!(ok(e.run(TOUCH, &[f, "kpop", "kq"])).stdout, b"k1\tkv1\0\n");
    assert_eq!(
        stdout(&ok(e.run(TOUCH, &[f, "mtime", "on"]))),
        "t.k2h Modifytime Mode:ON\n"
    );
    assert_eq!(stdout(&ok(e.run(TOUCH, &[f, "mtime"]))), "mtime = ON\n");
    assert_eq!(
        stdout(&ok(e.run(TOUCH, &[f, "expire", "100"]))),
        "t.k2h Expire Time: 100\n"
    );
    ok(e.run(TOUCH, &[f, "set", "key3", "v3"]));
    let attrs = stdout(&ok(e.run(TOUCH, &[f, "getattr", "key3"])));
    let names: Vec<&str> = attrs
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(names, vec!["expire", "mtime"], "{attrs}");
    assert!(attrs
        .lines()
        .all(|l| l.len() == "mtime: 2026-01-01 00:00:00 ".len()
            || l.len() == "expire: 2026-01-01 00:00:00 ".len()));
    let l = listing(&e, f);
    for want in [
        "key1\tv1",
        "key2\tv2",
        "key3\tv3",
        "s1\tsv1",
        "K2HTOUCH_ATTR_MTIME\tON",
    ] {
        assert!(l.contains(&want.to_string()), "{want} not in {l:?}");
    }
    let info = stdout(&ok(e.run(TOUCH, &[f, "info"])));
    assert!(info.contains("Modifytime: ON\n") && info.contains("ExpireTime: 100\n"));
    ok(e.run(TOUCH, &[f, "delete", "key1"]));
    let l = listing(&e, f);
    assert!(!l
        .iter()
        .any(|x| x.starts_with("key1\t") || x.starts_with("s1\t")));
    ok(e.run(TOUCH, &[f, "mtime", "off"]));
    ok(e.run(TOUCH, &[f, "expire", "off"]));
    // usage and errors
    let u = e.run(TOUCH, &[f, "bogus"]);
    assert_eq!(u.status.code(), Some(1));
    assert!(stdout(&u).contains("k2hash touch the k2file tool usage:"));
    assert_eq!(e.run(TOUCH, &["-h"]).status.code(), Some(1));
    std::fs::write(e.path("junk.k2h"), vec![0x5a; 70_000]).unwrap();
    let j = e.run(TOUCH, &["junk.k2h", "get", "a"]);
    assert_eq!(j.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&j.stderr).contains("Attach Failed"));
}

#[test]
fn k2hedit_writes_back_changed_lines() {
    let e = Env::new();
    let f = "e.k2h";
    ok(e.run(TOUCH, &[f, "set", "a", "1"]));
    ok(e.run(TOUCH, &[f, "set", "b", "2"]));
    let editor = e.path("ed.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/^b\t2$/b\tchanged/' \"$1\"\nprintf 'c\\t3\\n' >> \"$1\"\n",
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/k2hedit");
    let o = e
        .cmd("sh")
        .arg(&script)
        .arg(f)
        .env("EDITOR", format!("sh {}", editor.display()))
        .env("K2HTOUCH", TOUCH)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(listing(&e, f), vec!["a\t1", "b\tchanged", "c\t3"]);
    let none = e.cmd("sh").arg(&script).output().unwrap();
    assert_eq!(none.status.code(), Some(1));
}

#[test]
fn k2hreplace_swaps_under_an_attached_process() {
    let e = Env::new();
    let live = "live.k2h";
    ok(e.run(TOUCH, &[live, "set", "a", "old"]));
    ok(e.run(TOUCH, &["new.k2h", "set", "a", "new"]));
    // an interactive k2hlinetool keeps the old file attached meanwhile
    let mut sh = e
        .cmd(LINETOOL)
        .args(["-f", live])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = sh.stdin.take().unwrap();
    let mut out = BufReader::new(sh.stdout.take().unwrap());
    let mut ask = |cmd: &str, want: &str| -> String {
        writeln!(input, "{cmd}").unwrap();
        input.flush().unwrap();
        let mut l = String::new();
        loop {
            l.clear();
            assert!(out.read_line(&mut l).unwrap() > 0, "shell ended");
            if l.contains(want) {
                return l;
            }
        }
    };
    assert!(ask("p a", "\"a\" =>").contains("\"old\""));
    let r = ok(e.run(REPLACE, &["new.k2h", live]));
    assert!(stdout(&r).starts_with("Succeed to replace new.k2h to live.k2h"));
    assert!(
        ask("p a", "\"a\" =>").contains("\"new\""),
        "did not reattach"
    );
    ask("set b fromshell", "K2HTOOL>");
    ask("quit", "Quit & Detach.");
    sh.wait().unwrap();
    assert_eq!(stdout(&ok(e.run(TOUCH, &[live, "get", "b"]))), "fromshell");
    assert_eq!(
        stdout(&ok(e.run(TOUCH, &["live.k2h.BAK", "get", "a"]))),
        "old"
    );
    assert!(!e.path("new.k2h").exists());
    // bad command lines and missing files
    assert_eq!(e.run(REPLACE, &["only-one"]).status.code(), Some(255));
    assert_eq!(e.run(REPLACE, &["-x", "a", "b"]).status.code(), Some(255));
    let m = e.run(REPLACE, &["missing.k2h", live]);
    assert_eq!(m.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&m.stderr).contains("does not exist"));
}

/// A file whose last area is a page area holding little live data.
fn sparse_file(e: &Env, name: &str) {
    let cmds = e.path("fill.cmd");
    let mut s = format!("fill key {} 300\n", "v".repeat(1000));
    for i in 0..290 {
        s.push_str(&format!("rm key-{i}\n"));
    }
    s.push_str("exit\n");
    std::fs::write(&cmds, s).unwrap();
    ok(e.run(
        LINETOOL,
        &[
            "-f",
            name,
            "-mask",
            "4",
            "-cmask",
            "4",
            "-elementcnt",
            "32",
            "-run",
            cmds.to_str().unwrap(),
        ],
    ));
}

#[test]
fn k2hcompress_modes() {
    let e = Env::new();
    sparse_file(&e, "c.k2h");
    let before = listing(&e, "c.k2h");
    assert_eq!(before.len(), 10);
    let size0 = std::fs::metadata(e.path("c.k2h")).unwrap().len();
    let p = stdout(&ok(e.run(COMPRESS, &["-print", "c.k2h"])));
    assert!(p.starts_with("K2HASH AREA [2048] = {\n    No.1\ttype = KEYINDEX AREA(2),"));
    assert_eq!(p.lines().filter(|l| l.contains("PAGE AREA(16)")).count(), 2);
    assert!(
        p.ends_with("No.2048\ttype = UNASSIGNMENT AREA(0),\tfile offset=0,\tarea length=0\n}\n")
    );
    // a "N" answer changes nothing
    let n = ok(e.run_in(COMPRESS, &["-direct", "c.k2h"], "N\n"));
    assert!(stdout(&n).contains("Bye..."));
    let d = ok(e.run_in(COMPRESS, &["-direct", "c.k2h"], "Y\n"));
    assert!(
        stdout(&d).contains("Compress c.k2h file succeed."),
        "{}",
        stdout(&d)
    );
    let size1 = std::fs::metadata(e.path("c.k2h")).unwrap().len();
    assert!(size1 < size0, "{size1} >= {size0}");
    assert_eq!(listing(&e, "c.k2h"), before);
    let again = ok(e.run_in(COMPRESS, &["-direct", "c.k2h"], "Y\n"));
    assert!(stdout(&again).contains("finished but no compress"));

    sparse_file(&e, "r.k2h");
    let before = listing(&e, "r.k2h");
    let size0 = std::fs::metadata(e.path("r.k2h")).unwrap().len();
    let r = ok(e.run_in(COMPRESS, &["-replace", "r.k2h"], "Y\n"));
    assert!(stdout(&r).contains("Succeed to replace and compress k2hash file."));
    let size1 = std::fs::metadata(e.path("r.k2h")).unwrap().len();
    assert!(size1 < size0, "{size1} >= {size0}");
    assert_eq!(listing(&e, "r.k2h"), before);
    assert!(e.path("r.k2h.BAK").exists());
    // errors
    assert_eq!(e.run(COMPRESS, &["c.k2h"]).status.code(), Some(255));
    assert_eq!(
        e.run(COMPRESS, &["-direct", "-print", "c.k2h"])
            .status
            .code(),
        Some(255)
    );
    assert_eq!(
        e.run(COMPRESS, &["-print", "nofile.k2h"]).status.code(),
        Some(255)
    );
    std::fs::write(e.path("junk.k2h"), b"not a k2hash file").unwrap();
    assert_eq!(
        e.run(COMPRESS, &["-print", "junk.k2h"]).status.code(),
        Some(255)
    );
    assert!(e.run(COMPRESS, &["-h"]).status.success());
}

#[test]
fn k2himport_tsv_and_mdbm() {
    let e = Env::new();
    std::fs::write(e.path("in.tsv"), "k1\tv1\nk2\tv two\n").unwrap();
    let o = ok(e.run(IMPORT, &["in.tsv", "out.k2h"]));
    assert_eq!(stdout(&o), "2 items import success(tsv)\n");
    assert_eq!(listing(&e, "out.k2h"), vec!["k1\tv1", "k2\tv two"]);
    std::fs::write(
        e.path("in.mdbm"),
        "format=print\ntype=hash\nmdbm_pagesize=4096\nmdbm_pagecount=1\nHEADER=END\nm1\nmv1\nm2\nmv2\n",
    )
    .unwrap();
    let o = ok(e.run(IMPORT, &["in.mdbm", "out.k2h", "-mdbm"]));
    assert_eq!(stdout(&o), "2 items import success(mdbm)\n");
    assert_eq!(stdout(&ok(e.run(TOUCH, &["out.k2h", "get", "m2"]))), "mv2");
    let bad = e.run(IMPORT, &["in.tsv", "out.k2h", "-mdbm"]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(stdout(&bad), "error: not a mdbm file.\n");
    let missing = e.run(IMPORT, &["nothere", "out.k2h"]);
    assert_eq!(stdout(&missing), "error: can't open inputfile\n");
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(e.run(IMPORT, &["-h"]).status.code(), Some(1));
}

#[test]
fn k2hbench_runs_and_reports() {
    let e = Env::new();
    let field = |out: &str, name: &str| -> String {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing in {out}"))[name.len()..]
            .trim()
            .to_string()
    };
    let m = stdout(&ok(e.run(BENCH, &["-m", "-loop", "2000", "-dcount", "100"])));
    assert!(m.starts_with(
        "===========================================================\nK2Hash bench mark\n"
    ));
    assert_eq!(field(&m, "K2Hash type"), "Memory(no file)");
    assert_eq!(field(&m, "Total access count"), "4000");
    assert_eq!(field(&m, "Total error count"), "0");
    let f = stdout(&ok(e.run(
        BENCH,
        &[
            "-f", "b.k2h", "-proc", "2", "-thread", "2", "-loop", "500", "-dcount", "50", "-type",
            "ro",
        ],
    )));
    assert_eq!(field(&f, "Total process(thread) count"), "4");
    assert_eq!(field(&f, "Total access count"), "2000");
    assert_eq!(field(&f, "Access type for test"), "Read only");
    assert_eq!(field(&f, "Total error count"), "0");
    assert!(!e.path("b.k2h").exists(), "bench file left behind");
    let u = stdout(&ok(e.run(
        BENCH,
        &["-t", "t.k2h", "-type", "wo", "-dcount", "0", "-loop", "300"],
    )));
    assert!(u.starts_with("[INFO] Specified \"-type\" option is \"wo\" or \"rw\""));
    assert_eq!(
        field(&u, "Key length"),
        "38 byte(\"KEY-000000000000000-000000000000000\")"
    );
    assert_eq!(field(&u, "Total error count"), "0");
    // errors: no storage, bad numbers, processes without a permanent file
    assert_eq!(e.run(BENCH, &["-loop", "3"]).status.code(), Some(1));
    assert_eq!(e.run(BENCH, &["-m", "-loop", "x"]).status.code(), Some(1));
    assert_eq!(e.run(BENCH, &["-m", "-proc", "2"]).status.code(), Some(1));
    assert!(stdout(&ok(e.run(BENCH, &["-h"]))).contains("Bench mark options:"));
}

#[test]
fn k2hlinetool_bad_arguments_and_files() {
    let e = Env::new();
    let o = e.run(LINETOOL, &["-x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Unknown option(-x)."));
    assert_eq!(e.run(LINETOOL, &[]).status.code(), Some(1));
    assert_eq!(e.run(LINETOOL, &["-m", "-ro"]).status.code(), Some(1));
    assert_eq!(
        e.run(LINETOOL, &["-m", "-run", "nothere"]).status.code(),
        Some(1)
    );
    std::fs::write(e.path("junk.k2h"), vec![7u8; 60_000]).unwrap();
    let j = e.run_in(LINETOOL, &["-f", "junk.k2h"], "quit\n");
    assert_eq!(j.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&j.stderr).contains("Failed to attach file."));
    // interactive use on a pipe: history and errors keep the shell going
    let s = ok(e.run_in(
        LINETOOL,
        &["-m"],
        "set k v\nbogus\np k\nhistory\n!3\n!99\nquit\n",
    ));
    let out = stdout(&s);
    assert!(out.contains("  +\"k\" => \"v\""));
    assert!(
        out.contains(" 1  set k v\n 2  bogus\n 3  p k\n 4  history\n"),
        "{out}"
    );
    assert_eq!(out.matches("  +\"k\" => \"v\"").count(), 2);
    assert!(out.ends_with("Quit & Detach.\n"));
}
