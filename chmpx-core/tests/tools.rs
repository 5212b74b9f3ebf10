//! chmpxstatus and chmpxbench against a real server + slave on 127.0.0.1: the status layout
//! (all entries and `-self`, on the server and on the slave), the wait mode (met, and timing
//! out with exit code 1), round trips with turn-around from one and from several
//! processes/threads, and that every process the tools start is gone afterwards.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const STATUS: &str = env!("CARGO_BIN_EXE_chmpxstatus");
const BENCH: &str = env!("CARGO_BIN_EXE_chmpxbench");

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs a tool to its end (killed after `limit`), with the configuration variables cleared.
fn run_env(bin: &str, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Out {
    let dir = tempfile::tempdir().unwrap();
    let (o, e) = (dir.path().join("out"), dir.path().join("err"));
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("CHMCONFFILE")
        .env_remove("CHMJSONCONF")
        .env_remove("CHMDBGMODE")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&o).unwrap())
        .stderr(std::fs::File::create(&e).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("start tool");
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{bin} {args:?} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Out {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(&o).unwrap_or_default(),
        stderr: std::fs::read_to_string(&e).unwrap_or_default(),
        took: start.elapsed(),
    }
}

fn run(bin: &str, args: &[&str]) -> Out {
    run_env(bin, args, &[], Duration::from_secs(60))
}

/// chmpxstatus `-wait` for the configuration `conf`: `-live`, `-ring`, the suspend option
/// and `-timeout` when given.
fn status_wait(conf: &Path, live: &str, ring: &str, suspend: &str, timeout: Option<&str>) -> Out {
    let mut args = vec![
        "-conf",
        s(conf),
        "-wait",
        "-live",
        live,
        "-ring",
        ring,
        suspend,
    ];
    if let Some(t) = timeout {
        args.extend(["-timeout", t]);
    }
    run(STATUS, &args)
}

/// A background tool process, killed (by pid) and reaped when dropped.
struct Bg(Child);

impl Bg {
    fn start(bin: &str, args: &[&str], log: &Path) -> Bg {
        Bg(Command::new(bin)
            .args(args)
            .env_remove("CHMCONFFILE")
            .env_remove("CHMJSONCONF")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tool"))
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// `name = value` as chmpxstatus prints it: the "=" in column 46.
fn field(indent: &str, name: &str, value: &str) -> String {
    format!("{indent}{name:<w$}= {value}\n", w = 45 - indent.len())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A process is gone (or only a zombie waiting for its reaper).
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(st) => st
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

const IN_SERVICE: &str = "SAFE -> [SERVICE IN][UP][n/a][Nothing][NoSuspend]";

#[test]
fn status_wait_and_bench_on_a_ring() {
    let base = ports(4);
    let mut cl = Cluster::new(&format!("TOOLS{base}"));
    let group = cl.group.clone();
    let (svr, slv) = pair(&mut cl, base, "");
    for port in [base + 1, base + 2] {
        wait_for("local socket", || {
            chmpx_core::client::snapshot(&group, port as i16).is_ok()
        });
    }
    let (svr_pid, slv_pid) = (cl.pid("server"), cl.pid("slave"));

    // No client yet: the server is out of service and suspended.
    let out = run(STATUS, &["-conf", s(&svr), "-self"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&field(
            "  ",
            "status",
            "SAFE -> [SERVICE OUT][UP][n/a][Nothing][Suspend]"
        )),
        "{}",
        out.stdout
    );

    // A wait that cannot be met ends with FAILED and exit code 1 after the timeout.
    let out = status_wait(&svr, "up", "servicein", "-nosuspend", Some("1"));
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "FAILED\n");
    assert!(out.took >= Duration::from_millis(900), "{:?}", out.took);
    assert!(out.took < Duration::from_secs(10), "{:?}", out.took);
    // Wrong wait options: the original's messages.
    let out = run(STATUS, &["-conf", s(&svr), "-wait", "-live", "up"]);
    assert_eq!(out.code, 1);
    assert!(out
        .stderr
        .contains("[ERR] wait mode(-wait) needs -live, -ring and -nosuspend(or -suspend) option."));
    let out = status_wait(&svr, "xx", "slave", "-suspend", None);
    assert_eq!(out.code, 1);
    assert!(out
        .stderr
        .contains("[ERR] wrong parameter(xx) is specified for \"-live\" option."));

    // The benchmark receiver attaches to the server (AUTOMERGE brings it into service); the
    // wait mode returns as soon as it is.
    let bench_log = cl.dir.path().join("bench-server.out");
    let bench_server = Bg::start(
        BENCH,
        &["-s", "-conf", s(&svr), "-l", "0", "-ta", "-dl", "128"],
        &bench_log,
    );
    let out = status_wait(&svr, "up", "servicein", "-nosuspend", Some("20"));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "SUCCEED\n");
    // The slave is a slave, up, not suspended.
    let out = status_wait(&slv, "up", "slave", "-nosuspend", Some("5"));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // The slave learns that the server is in service.
    wait_for("slave sees the server in service", || {
        run(STATUS, &["-conf", s(&slv)])
            .stdout
            .contains(&field("    ", "status", IN_SERVICE))
    });

    // Full output of the server.
    let out = run(STATUS, &["-conf", s(&svr)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let t = &out.stdout;
    assert!(
        t.starts_with(&field("", "chmpx process id", &svr_pid.to_string())),
        "{t}"
    );
    let shm_base = if Path::new("/var/lib/antpickax").is_dir() {
        "/var/lib/antpickax"
    } else {
        "/tmp"
    };
    for line in [
        field(
            "",
            "chmpx shared memory file path",
            &format!("{shm_base}/{group}-{}.chmpx", base + 1),
        ),
        field(
            "",
            "k2hash file path",
            &format!("{shm_base}/{group}-{}.k2h", base + 1),
        ),
        field("", "chmpx info structure version", "CHMINFO_VERSION 1.1"),
        field("", "chmpx name", &group),
        field("", "maximum chmpx count", "16"),
        field("", "base hash count", "1"),
        field("", "auto merge", "yes"),
        "self chmpx = {\n".to_string(),
        field("  ", "mode", "server"),
        field("  ", "port", &base.to_string()),
        field("  ", "control port", &(base + 1).to_string()),
        field("  ", "base hash", "0x0000000000000000"),
        field("  ", "status", IN_SERVICE),
        "server chmpxs [ 1 ] = {\n".to_string(),
        "slave chmpxs [ 1 ] = {\n".to_string(),
        field("    ", "mode", "slave"),
        field("    ", "control port", &(base + 2).to_string()),
        field(
            "    ",
            "status",
            "SAFE -> [SLAVE][UP][n/a][Nothing][NoSuspend]",
        ),
        "server stat = {\n".to_string(),
        "client process using MQ [ 1 ] = {\n".to_string(),
        "joining client process = {\n".to_string(),
    ] {
        assert!(t.contains(&line), "missing {line:?} in\n{t}");
    }
    // The chmpxid is the one chmpx reports on its control port.
    let selfstatus = ctl(base + 1, "SELFSTATUS").unwrap();
    let id = selfstatus
        .lines()
        .find_map(|l| l.strip_prefix("Internal ID"))
        .and_then(|l| l.split("0x").nth(1))
        .map(|h| u64::from_str_radix(h.trim(), 16).unwrap())
        .expect("Internal ID");
    assert!(t.contains(&field("  ", "chmpxid", &format!("0x{id:016x}"))));
    let name = selfstatus
        .lines()
        .find_map(|l| l.strip_prefix("Server Name"))
        .and_then(|l| l.split_once("= "))
        .map(|(_, n)| n.trim().to_string())
        .expect("Server Name");
    assert!(t.contains(&field("  ", "hostname", &name)), "{t}");
    assert!(t.contains(&field("    ", "chmpxid", &format!("0x{id:016x}"))));

    // -self of the server: the self entry alone, peers lines indented two more.
    let out = run(STATUS, &["-conf", s(&svr), "-self"]);
    assert_eq!(out.code, 0);
    let t = &out.stdout;
    assert!(t.starts_with(&field("  ", "chmpxid", &format!("0x{id:016x}"))));
    assert!(t.contains(&field("    ", "cuk", "")));
    assert!(t.ends_with(&field("  ", "status", IN_SERVICE)), "{t}");
    assert!(!t.contains("server chmpxs"));

    // The slave, all and self (configuration from CHMCONFFILE, as the original allows).
    let out = run_env(
        STATUS,
        &[],
        &[("CHMCONFFILE", s(&slv))],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let t = &out.stdout;
    assert!(t.starts_with(&field("", "chmpx process id", &slv_pid.to_string())));
    assert!(t.contains(&field("  ", "mode", "slave")));
    assert!(t.contains(&field("  ", "port", "-1")));
    assert!(t.contains(&field(
        "  ",
        "status",
        "SAFE -> [SLAVE][UP][n/a][Nothing][NoSuspend]"
    )));
    assert!(t.contains("server chmpxs [ 1 ] = {\n  [0] = {\n"));
    assert!(t.contains(&field("    ", "status", IN_SERVICE)));
    assert!(t.contains("slave chmpxs [ 0 ] = {\n}\n"));
    let out = run(STATUS, &["-conf", s(&slv), "-self"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains(&field("  ", "mode", "slave")));
    assert!(out.stdout.ends_with(&field(
        "  ",
        "status",
        "SAFE -> [SLAVE][UP][n/a][Nothing][NoSuspend]"
    )));

    // Round trips: one sender, 200 messages of 128 bytes, each answered.
    let out = run(
        BENCH,
        &["-c", "-conf", s(&slv), "-l", "200", "-ta", "-dl", "128"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let t = &out.stdout;
    for line in [
        "CHMPX bench mark\n",
        "CHMPX mode                    Slave mode\n",
        &format!("CHMPX configuration           {}\n", s(&slv)),
        "Total loop count              200\n",
        "  Process count               1\n",
        "  Thread count                1\n",
        "  Loop count                  200\n",
        "Data length                   128\n",
        "Turn Around mode              yes\n",
        "Broadcast mode                no\n",
        "Total error count             0\n",
        "Average time(real)            ",
    ] {
        assert!(t.contains(line), "missing {line:?} in\n{t}");
    }
    // Two processes of two threads, 50 each.
    let out = run(
        BENCH,
        &[
            "-c",
            "-conf",
            s(&slv),
            "-l",
            "50",
            "-proccnt",
            "2",
            "-threadcnt",
            "2",
            "-ta",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("Total loop count              200\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Total error count             0\n"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    // -pr prints every message and every reply (the reply of a turn-around starts with the
    // message: the receiver's addition is cut to the data length).
    let out = run(BENCH, &["-c", "-conf", s(&slv), "-l", "3", "-ta", "-pr"]);
    assert_eq!(out.code, 0);
    let sends: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("Send : "))
        .collect();
    assert_eq!(sends.len(), 3, "{}", out.stdout);
    assert!(sends
        .iter()
        .all(|l| l.ends_with("@ -> Succeed(receiver count:1)")));
    assert_eq!(
        out.stdout.matches("Receive reply : -> 1 Succeed(").count(),
        3
    );

    // Stopping the receiver: its child process goes too, chmpx sees no client and the server
    // is suspended again.
    let clients = chmpx_core::client::snapshot(&group, (base + 1) as i16)
        .unwrap()
        .client_pids;
    assert_eq!(clients.len(), 1, "one receiver process attached");
    drop(bench_server);
    wait_for("the receiver's child exits", || process_gone(clients[0]));
    wait_for("chmpx sees no client", || {
        chmpx_core::client::snapshot(&group, (base + 1) as i16)
            .is_ok_and(|s| s.client_pids.is_empty())
    });
    let out = status_wait(&svr, "up", "servicein", "-suspend", Some("20"));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // Without a receiver the sender counts errors and still reports.
    let out = run(BENCH, &["-c", "-conf", s(&slv), "-l", "2"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("Total loop count              2\n"));
    // chmpx stopped: chmpxstatus says so.
    cl.stop("slave", libc::SIGTERM);
    let out = run(STATUS, &["-conf", s(&slv)]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not running"), "{}", out.stderr);
    assert!(process_gone(slv_pid));
}

#[test]
fn status_without_chmpx_fails_clearly() {
    let base = ports(4);
    let layout = Layout::servers(base, 1, 0);
    let cl = Cluster::new(&format!("NOTRUN{base}"));
    let slv = cl.conf(&layout, base + 2, "");
    let out = run(STATUS, &["-conf", s(&slv)]);
    assert_eq!(out.code, 1);
    assert!(out
        .stderr
        .contains("[ERR] Could not initialize(attach) chmpx shared memory."));
    assert!(out.stderr.contains(&format!(
        "chmpx of group NOTRUN{base} (control port {}) is not running on this host",
        base + 2
    )));
    assert!(out
        .stdout
        .contains("You can see detail about error, execute with \"-d\"(\"-g\") option."));
    // The wait mode needs a running chmpx to start with, as the original.
    let out = status_wait(&slv, "up", "slave", "-nosuspend", None);
    assert_eq!(out.code, 1);
    // -ctlport picks another entry (none running either).
    let out = run(
        STATUS,
        &["-conf", s(&slv), "-ctlport", &(base + 3).to_string()],
    );
    assert_eq!(out.code, 1);
    assert!(out
        .stderr
        .contains(&format!("(control port {}) is not running", base + 3)));
    // No configuration at all.
    let out = run(STATUS, &[]);
    assert_eq!(out.code, 1);
    // A bench whose threads cannot attach reports every loop as an error, and ends.
    let out = run(
        BENCH,
        &["-c", "-conf", s(&slv), "-l", "5", "-threadcnt", "2"],
    );
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("Total error count             10\n"),
        "{}",
        out.stdout
    );
    assert!(out
        .stderr
        .contains("[ERR] Could not initialize internal object/data/etc."));
}

/// chmpx that cannot start prints the original's two lines on standard output and exits 1;
/// what went wrong goes to standard error (ours: the original says to run it again with -d).
#[test]
fn chmpx_that_cannot_start_says_so_like_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ini");
    std::fs::write(&bad, "[GLOBAL]\nGROUP = X\n").unwrap();
    let missing = dir.path().join("missing.ini");
    for (conf, cause) in [
        (&bad, "FILEVERSION is missing"),
        (&missing, "does not exist"),
    ] {
        let out = run(env!("CARGO_BIN_EXE_chmpx"), &["-conf", s(conf)]);
        assert_eq!(out.code, 1);
        assert_eq!(
            out.stdout,
            "ERROR: Could not initialize process.\n\
             You can see detail about error, execute with \"-d\" option.\n"
        );
        assert!(out.stderr.contains(cause), "{}", out.stderr);
    }
}

#[test]
fn help_and_option_errors_like_the_original() {
    let out = run(STATUS, &["-h"]);
    assert_eq!(out.code, 0);
    let t = &out.stdout;
    assert!(t.starts_with("\nUsage: chmpxstatus -conf <configuration file path> [-ctlport <port>] [-cuk <cuk>] [-self] [-d [silent|err|wan|msg|dump]] [-dfile <debug file path>]\n"));
    assert!(t.contains("  -json <json>         configuration JSON string\n\n  -ctlport <port>"));
    assert!(t.contains("  -nosuspend           specify nosuspend status by waiting mode\n"));
    assert!(
        t.ends_with("start in the mode indicated by the server entry that has been detected.\n\n")
    );

    let out = run(BENCH, &["-h"]);
    assert_eq!(out.code, 0);
    assert!(out
        .stdout
        .starts_with("\nUsage: chmpxbench [ -s | -c ] [options]\n\nOption  [ -s | -c ]       process mode: server or client\n"));
    assert!(out
        .stdout
        .contains("        -dl [bytes]       send message size.(minimum bytes is 64)\n"));

    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("x.ini");
    std::fs::write(&conf, "[GLOBAL]\n").unwrap();
    let conf = s(&conf);
    for (args, msg) in [
        (
            vec!["-conf", conf],
            "[ERR] ERROR: There is no parameter \"-s\" or \"-c\".",
        ),
        (
            vec!["-c"],
            "[ERR] ERROR: There is no parameter \"-conf\"(\"-f\") or \"-json\".",
        ),
        (
            vec!["-c", "-conf", conf, "-proccnt", "0"],
            "[ERR] ERROR: \"-proccnt\" option value is wrong, must set 1 - xxxx.",
        ),
        (
            vec!["-c", "-conf", conf, "-threadcnt", "0"],
            "[ERR] ERROR: \"-threadcnt\" option value is wrong, must set 1 - xxxx.",
        ),
        (
            vec!["-c", "-conf", conf, "-dl", "63"],
            "[ERR] ERROR: \"-dl\" option value is wrong, must set 64 - xxxx.",
        ),
        (
            vec!["-s", "-conf", conf, "-b"],
            "[ERR] ERROR: Could not specify \"-b(broadcast)\" option with \"-s\" server mode.",
        ),
        (
            vec!["-c", "-conf", conf, "-d", "xyz"],
            "[ERR] ERROR: Wrong parameter value \"-d\"(\"-g\") xyz.",
        ),
    ] {
        let out = run(BENCH, &args);
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stderr.trim_end(), msg, "{args:?}");
    }
    let out = run(STATUS, &["-conf", conf, "-d", "xyz"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr.trim_end(),
        "[ERR] Wrong parameter value \"-d\"(\"-g\") xyz."
    );
}
