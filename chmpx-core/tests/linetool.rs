//! chmpxlinetool against a real cluster on 127.0.0.1 (two servers, one slave): node
//! discovery through DUMP, `status`, `check`, `version`, `dump`, service in/out, merge and
//! suspend commands, the console on standard input, and the check of a stopped server.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

/// `key = value` of a SELFSTATUS answer.
fn self_value(ctlport: u16, key: &str) -> String {
    let s = ctl(ctlport, "SELFSTATUS").expect("SELFSTATUS");
    s.lines()
        .find(|l| l.trim_start().starts_with(key))
        .and_then(|l| l.split_once('='))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {key} in SELFSTATUS:\n{s}"))
}

/// Runs chmpxlinetool with `args`, `input` on standard input; returns stdout and stderr.
fn linetool(args: &[&str], input: &str) -> (String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chmpxlinetool"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chmpxlinetool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "chmpxlinetool exit: {:?}", out.status);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a command file with `-run`.
fn run_file(dir: &Path, conf: &Path, name: &str, commands: &str) -> String {
    let file: PathBuf = dir.join(name);
    std::fs::write(&file, commands).unwrap();
    let (out, err) = linetool(
        &[
            "-conf",
            conf.to_str().unwrap(),
            "-nocolor",
            "-run",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        err.is_empty(),
        "unexpected messages:\n{err}\noutput:\n{out}"
    );
    out
}

/// The block of `out` that starts with the line `head`.
fn block<'a>(out: &'a str, head: &str) -> &'a str {
    let start = out
        .find(head)
        .unwrap_or_else(|| panic!("no {head:?} in:\n{out}"));
    let rest = &out[start..];
    let end = rest.find("\n}\n").map(|e| e + 3).unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn linetool_against_a_cluster() {
    let base = ports(8);
    let layout = Layout::servers(base, 2, 1);
    let group = format!("LT{base}");
    let mut cl = Cluster::new(&group);
    let (clients, _, slave_conf) = start_ring(&mut cl, &layout);

    // How the cluster names and numbers its nodes.
    let (c0, c1, sc) = (layout.servers[0].1, layout.servers[1].1, layout.slave_ctl);
    let name = |port: u16| self_value(port, "Server Name");
    let id = |port: u16| self_value(port, "Internal ID");
    let (n0, n1, ns) = (name(c0), name(c1), name(sc));
    let dir = cl.dir.path().to_path_buf();

    // ---- discovery and status --------------------------------------------------------------
    let cmds = format!(
        "# status of the cluster\n\
         nodes\n\
         nodes noupdate server\n\
         status all {n0}:{c0}\n\
         status self {n1}:{c1}\n\
         check\n\
         check {ns}:{sc}\n\
         version\n\
         dump {ns}:{sc}\n\
         statusupdate\n\
         echo done\n\
         quit\n"
    );
    let out = run_file(&dir, &slave_conf, "status.cmd", &cmds);

    // Every command is echoed after the prompt; the comment line is not.
    for c in [
        "nodes",
        "check",
        "version",
        "statusupdate",
        "echo done",
        "quit",
    ] {
        assert!(out.contains(&format!("CLT> {c}\n")), "{c} echoed:\n{out}");
    }
    assert!(!out.contains("# status"));
    assert!(out.contains("\ndone\n") && out.ends_with("CLT> quit\nQuit.\n"));

    // nodes: both servers and the slave, found through DUMP, with their chmpxids.
    let nodes = block(&out, "CLT> nodes\n");
    assert!(
        nodes.contains(" Chmpx server nodes             : 2\n {\n"),
        "{nodes}"
    );
    assert!(
        out.contains(" Chmpx slave nodes              : 1\n {\n"),
        "{out}"
    );
    for (port, n) in [(c0, &n0), (c1, &n1), (sc, &ns)] {
        let entry = format!(
            "        Chmpxid                 : {}\n        Hostname                : {n}\n        Control Port            : {port}\n",
            format_args!("0x{:016x}", u64::from_str_radix(id(port).trim_start_matches("0x"), 16).unwrap())
        );
        assert!(out.contains(&entry), "node entry {entry}in:\n{out}");
    }
    // nodes noupdate server: the server entries only.
    let servers_only = &out[out.find("CLT> nodes noupdate server\n").unwrap()..];
    let servers_only = &servers_only[..servers_only.find("CLT> status").unwrap()];
    assert_eq!(servers_only.matches("    [").count(), 2, "{servers_only}");
    assert!(!servers_only.contains(&format!("Control Port            : {sc}\n")));

    // status all: the ring as the first server knows it.
    assert!(out.contains(&format!(" {group} = {{\n")), "{out}");
    assert_eq!(
        out.matches(
            "         Status(Bin)   = [SERVICE IN] [UP]    [n/a]    [Nothing][NoSuspend](0x21)\n"
        )
        .count(),
        2,
        "{out}"
    );
    for (p, c) in &layout.servers {
        assert!(out.contains(&format!("         Port/Ctlport  = {p}/{c}\n")));
    }
    // status self: SELFSTATUS, indented.
    assert!(out.contains(&format!(
        " {n1}:{c1} = {{\n     Server Name               = {n1}\n"
    )));
    assert!(out.contains(&format!("     Internal ID               = {}\n", id(c1))));

    // check: every node OK, as every other node sees it.
    // every connection is counted on both ends: a server has one from the other server and
    // one from the slave, and one of its own to the other server; the slave two of its own
    for (port, n, socks) in [(c0, &n0, "2/1"), (c1, &n1, "2/1"), (sc, &ns, "0/2")] {
        let b = block(&out, &format!("OK   {n}:{port}::: = {{\n"));
        assert!(
            b.contains(&format!("    sockcount(in/out) = {socks}\n")),
            "{b}"
        );
    }
    assert!(!out.contains("ERR  ") && !out.contains("WARN "), "{out}");
    assert!(out
        .contains("    status            = [SLAVE]      [UP]    [n/a]    [Nothing][NoSuspend]\n"));
    // check <slave>: the slave and how both servers see it.
    let one = block(&out, &format!("{ns}:{sc}::: = {{\n  basis = {{\n"));
    for (port, n) in [(c0, &n0), (c1, &n1)] {
        assert!(one.contains(&format!("  {n}:{port}::: = {{\n")), "{one}");
    }

    // version of every node.
    for (port, n) in [(c0, &n0), (c1, &n1), (sc, &ns)] {
        assert!(
            out.contains(&format!(
                "    {n}:{port}\t= Version 1.0.113 (commit: rust) with rustls\n"
            )),
            "{out}"
        );
    }

    // dump: the slave's DUMP in the original layout.
    let dump = &out[out.find(&format!("CLT> dump {ns}:{sc}\n")).unwrap()..];
    assert!(dump.contains("CHMINFO version      = CHMINFO_VERSION 1.1\n"));
    assert!(dump.contains(&format!("  group              = {group}\n")));
    assert!(dump.contains("    mode             = slave\n"));
    assert!(dump.contains("  chmpx_server_count = 2\n"));

    // statusupdate goes to the servers only.
    for (port, n) in [(c0, &n0), (c1, &n1)] {
        assert!(out.contains(&format!("Succeed to send UPDATESTATUS to {n}:{port}\n")));
    }
    assert!(!out.contains(&format!("UPDATESTATUS to {ns}:{sc}")));

    // ---- control commands ----------------------------------------------------------------
    let out = run_file(
        &dir,
        &slave_conf,
        "control.cmd",
        &format!(
            "servicein {n0}:{c0}\n\
             merge start\n\
             merge abort\n\
             merge complete\n\
             suspend\n\
             quit\n"
        ),
    );
    assert!(
        out.contains(&format!(
            "Failed to send SERVICEIN to {n0}:{c0}, error is ERROR: Could not change status, because status is not allowed.\n"
        )),
        "{out}"
    );
    for c in ["MERGE", "ABORTMERGE", "COMPMERGE", "SUSPENDMERGE"] {
        assert!(
            out.contains(&format!("Succeed to send {c} to ")),
            "{c}:\n{out}"
        );
    }
    // The server that took the command says so in its DUMP.
    let suspended = |yes: bool| {
        [c0, c1]
            .iter()
            .any(|c| ctl(*c, "DUMP").is_some_and(|d| d.contains("suspend automerge    = yes\n")))
            == yes
    };
    wait_for("merge suspended", || suspended(true));
    let out = run_file(&dir, &slave_conf, "nosus.cmd", "nosuspend\nquit\n");
    assert!(out.contains("Succeed to send NOSUSPENDMERGE to "), "{out}");
    wait_for("merge not suspended", || suspended(false));

    // serviceout / servicein of the second server.
    let out = run_file(
        &dir,
        &slave_conf,
        "out.cmd",
        &format!("serviceout {n1}:{c1}\nquit\n"),
    );
    assert!(
        out.contains(&format!("Succeed to send SERVICEOUT to {n1}:{c1}\n")),
        "{out}"
    );
    wait_for("second server out of service", || {
        ctl(c1, "SELFSTATUS").is_some_and(|s| s.contains("[SERVICE OUT][UP]"))
    });
    let out = run_file(
        &dir,
        &slave_conf,
        "in.cmd",
        &format!("servicein {n1}:{c1}\nquit\n"),
    );
    assert!(
        out.contains(&format!("Succeed to send SERVICEIN to {n1}:{c1}\n")),
        "{out}"
    );
    wait_for("second server back in service", || {
        ctl(c1, "SELFSTATUS").is_some_and(|s| s.contains(READY))
    });

    // ---- the console on standard input ---------------------------------------------------
    let (out, err) = linetool(
        &["-conf", slave_conf.to_str().unwrap(), "-nocolor"],
        "echo one\n!!\nhis\nbogus\nnodes nodyna\nquit\n",
    );
    assert!(out.starts_with(
        "-------------------------------------------------------\nCHMPX CONTROL TOOL\n"
    ));
    assert!(out.contains(&format!(
        "    Load Configuration          : {}\n",
        slave_conf.display()
    )));
    assert!(out.contains(" Chmpx nodes information at start\n"));
    // as the original: the prompt, and the line read echoed after it when it comes from a pipe
    assert!(
        out.contains("CLT> echo one\none\nCLT> !!\n echo one\none\nCLT> his\n"),
        "{out}"
    );
    assert!(
        out.contains(" 1  echo one\n 2  echo one\n 3  his\n"),
        "{out}"
    );
    assert!(err.contains("[CCT-ERR] Unknown option(bogus).\n"), "{err}");
    assert!(out.ends_with("CLT> quit\nQuit.\n"), "{out}");
    // Without -nocolor the check marks are coloured.
    let (out, _) = linetool(
        &["-conf", slave_conf.to_str().unwrap()],
        &format!("check {n0}:{c0}\nquit\n"),
    );
    assert!(out.contains("\x1b[38;5;2mSERVICE IN\x1b[0m"), "{out}");

    // ---- a stopped server ----------------------------------------------------------------
    drop(clients);
    cl.stop("s1", libc::SIGHUP);
    wait_for("slave sees the server down", || {
        ctl(sc, "DUMP").is_some_and(|d| d.contains("[SERVICE IN][DOWN]"))
    });
    let out = run_file(&dir, &slave_conf, "down.cmd", "check\nquit\n");
    let b = block(&out, &format!("{n1}:{c1}::: = {{\n"));
    assert!(b.contains("[SERVICE IN] [DOWN]  "), "{out}");

    // Option errors end with the usage.
    let out = Command::new(env!("CARGO_BIN_EXE_chmpxlinetool"))
        .arg("-bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Usage:\n"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Unknown option(-bogus)."));
}
