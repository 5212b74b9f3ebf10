//! The chmpx process itself: a client rejoins a restarted chmpx, a crashed client does not
//! wedge it, the configuration file is watched, CHMDBGMODE/CHMDBGFILE work, a taken port is a
//! clear error, and nothing is left in the file system after a clean stop.

mod common;

use std::time::Duration;

use chmpx_core::client::{Client, ClientError};
use chmpx_core::wire::COM_C2C_ROUTING;
use common::*;

#[test]
fn rejoin_reload_and_clean_exit() {
    let base = ports(10);
    let mut cl = Cluster::new(&format!("PRC{base}"));
    let (sconf, lconf) = pair(&mut cl, base, "");

    // A second chmpx on the same ports: a clear error, non-zero exit.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chmpx"))
        .arg("-conf")
        .arg(&sconf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already in use") || err.contains("another chmpx"),
        "{err}"
    );

    // A client that dies without a word (its socket just closes) does not wedge chmpx.
    {
        let _c = Client::attach(sconf.to_str().unwrap(), true, false).unwrap();
    }
    let mut srv = Client::attach(sconf.to_str().unwrap(), true, true).unwrap();
    wait_for("server in service", || {
        ctl(base + 1, "SELFSTATUS")
            .is_some_and(|s| s.contains("[SERVICE IN][UP][n/a][Nothing][NoSuspend]"))
    });
    wait_for("slave sees it", || {
        ctl(base + 2, "DUMP").is_some_and(|s| s.contains("[SERVICE IN][UP]"))
    });
    let mut sl = Client::attach(lconf.to_str().unwrap(), false, true).unwrap();
    let m = sl.open().unwrap();
    assert_eq!(sl.send(m, b"one", 1, COM_C2C_ROUTING).unwrap(), 1);
    assert!(srv.receive(None, 5000).unwrap().is_some());

    // The slave chmpx restarts: the client sees it gone, rejoins, and works again.
    let st = cl.stop("slave", libc::SIGINT);
    assert!(st.success());
    assert!(!sl.is_chmpx_alive());
    assert!(matches!(sl.receive(Some(m), 100), Err(ClientError::Gone)));
    cl.start("slave", &lconf);
    wait_for("slave back", || ctl(base + 2, "VERSION").is_some());
    wait_for("client rejoined", || sl.rejoin().is_ok());
    wait_for("slave sees the server again", || {
        ctl(base + 2, "DUMP").is_some_and(|s| s.contains("[SERVICE IN][UP]"))
    });
    let m = sl.open().unwrap();
    assert_eq!(sl.send(m, b"two", 1, COM_C2C_ROUTING).unwrap(), 1);
    assert_eq!(
        srv.receive(None, 5000).unwrap().expect("after rejoin").1,
        b"two"
    );

    // The trace log: TRACE enable, a message, TRACEVIEW on the server shows it come in from
    // the socket and go out to the client (on the socket, the original traces the packet's
    // length, its 120-byte head included; towards the client, the body's). As the original's
    // (checked against 1.0.113): TRACEVIEW's "all" is the log's size (MAXHISTLOG, 8192 by
    // default), not the records in it, so an empty log has "no matched trace log"; a count
    // takes the oldest records first; the log stays after TRACE disable and starts again with
    // TRACE enable.
    assert_eq!(
        ctl(base + 1, "TRACEVIEW").unwrap(),
        "ERROR: There is no matched trace log now.\n"
    );
    assert_eq!(ctl(base + 1, "TRACE enable").unwrap(), "SUCCEED\n");
    assert_eq!(
        ctl(base + 1, "TRACE on").unwrap(),
        "ERROR: TRACE is already enabled/disabled.\n"
    );
    assert_eq!(sl.send(m, b"traced", 1, COM_C2C_ROUTING).unwrap(), 1);
    assert!(srv.receive(None, 5000).unwrap().is_some());
    let view = ctl(base + 1, "TRACEVIEW").unwrap();
    assert!(
        view.contains("[Input Socket]\t126 byte\tSTART(") && view.contains("[Output MQ]\t6 byte"),
        "{view}"
    );
    assert!(ctl(base + 1, "TRACEVIEW DIR=OUT DEV=MQ 1")
        .unwrap()
        .starts_with("[Output MQ]"));
    assert!(ctl(base + 1, "TRACEVIEW DIR=SIDEWAYS")
        .unwrap()
        .starts_with("ERROR: TRACEVIEW command parameter"));
    assert!(ctl(base + 1, "TRACEVIEW 1")
        .unwrap()
        .starts_with("[Input Socket]\t126 byte"));
    assert_eq!(ctl(base + 1, "TRACEVIEW 8192").unwrap(), view);
    assert_eq!(ctl(base + 1, "TRACEVIEW -3").unwrap(), view);
    assert!(ctl(base + 1, "TRACEVIEW 8193")
        .unwrap()
        .starts_with("ERROR: TRACEVIEW command parameter"));
    assert_eq!(ctl(base + 1, "TRACE off").unwrap(), "SUCCEED\n");
    assert_eq!(
        ctl(base + 1, "TRACEVIEW").unwrap(),
        view,
        "kept while disabled"
    );
    assert_eq!(ctl(base + 1, "TRACE on").unwrap(), "SUCCEED\n");
    assert_eq!(
        ctl(base + 1, "TRACEVIEW").unwrap(),
        "ERROR: There is no matched trace log now.\n",
        "started again"
    );
    assert_eq!(ctl(base + 1, "TRACE off").unwrap(), "SUCCEED\n");

    // The configuration file is watched: a server added to it appears in the table.
    let extra = format!(
        "[SVRNODE]\nNAME = 127.0.0.1\nPORT = {}\nCTLPORT = {}\n",
        base + 7,
        base + 8
    );
    let mut text = std::fs::read_to_string(&sconf).unwrap();
    let at = text.find("[SLVNODE]").unwrap();
    text.insert_str(at, &extra);
    std::fs::write(&sconf, text).unwrap();
    wait_for("reloaded", || {
        ctl(base + 1, "ALLSTATUS")
            .is_some_and(|s| s.contains(&format!("Control Port       = {}", base + 8)))
    });

    // CHMDBGMODE / CHMDBGFILE.
    let dbgfile = cl.dir.path().join("dbg.log");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chmpx"))
        .arg("-conf")
        .arg(&sconf)
        .env("CHMDBGMODE", "ERR")
        .env("CHMDBGFILE", &dbgfile)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log = std::fs::read_to_string(&dbgfile).unwrap_or_default();
    assert!(
        log.contains("[CHMPX-ERR]") || String::from_utf8_lossy(&out.stderr).contains("[CHMPX-ERR]")
    );

    // Clean stops leave nothing behind (the local socket is abstract; no shm, no MQs).
    drop(sl);
    drop(srv);
    assert!(cl.stop("slave", libc::SIGHUP).success());
    assert!(cl.stop("server", libc::SIGTERM).success());
    let name = chmpx_core::ipc::socket_name(&cl.group, (base + 1) as i16);
    std::thread::sleep(Duration::from_millis(50));
    let unix = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    assert!(
        !unix.contains(&format!("@{name}")),
        "the local socket is gone"
    );
}

/// The message counts and the trace log read as the original's: three 64-byte requests from a
/// slave's client, each answered by the server's client with 64 bytes, TRACE on both nodes;
/// SELFSTATUS "Connection Count" and "Stats", DUMP's `server_stat`/`slave_stat` and TRACEVIEW (time stamps aside) are
/// the texts the original 1.0.113 printed for the same exchange (its test configurations and
/// `chmpxbench -l 3 -dl 64`, in a loopback namespace): 184-byte packets counted and traced on
/// sockets, 64-byte bodies towards the clients, the server counting its slave's messages among
/// slaves; "To Servers" the servers known (itself included), not the connections.
#[test]
fn counts_and_trace_read_as_the_originals() {
    let base = ports(10);
    let mut cl = Cluster::new(&format!("STA{base}"));
    let (sconf, lconf) = pair(&mut cl, base, "");
    let mut srv = Client::attach(sconf.to_str().unwrap(), true, true).unwrap();
    wait_for("slave sees the server", || {
        ctl(base + 2, "DUMP").is_some_and(|s| s.contains("[SERVICE IN][UP]"))
    });
    let mut sl = Client::attach(lconf.to_str().unwrap(), false, true).unwrap();
    let m = sl.open().unwrap();
    for port in [base + 1, base + 2] {
        assert_eq!(ctl(port, "TRACE ENABLE").unwrap(), "SUCCEED\n");
    }
    for i in 0..3u8 {
        assert_eq!(sl.send(m, &[i; 64], 1, COM_C2C_ROUTING).unwrap(), 1);
        let (pkt, body) = srv.receive(None, 5000).unwrap().expect("the request");
        assert_eq!(body, [i; 64]);
        srv.reply(&pkt, &[i; 64]).unwrap();
        let (_, answer) = sl.receive(Some(m), 5000).unwrap().expect("the answer");
        assert_eq!(answer.len(), 64);
    }
    let view = |port: u16, name: &str| {
        let status = ctl(port, "SELFSTATUS").unwrap();
        let stats = &status[status
            .find("Connection Count ")
            .expect("a connection count")..];
        let trace: String = ctl(port, "TRACEVIEW")
            .unwrap()
            .lines()
            .map(|l| format!("{}\n", l.split("\tSTART(").next().unwrap()))
            .collect();
        let dump = ctl(port, "DUMP").unwrap();
        let at = dump.find("  server_stat{").expect("server_stat");
        let stat: String = dump[at..]
            .lines()
            .take(20)
            .map(|l| format!("{l}\n"))
            .collect();
        format!(
            "==== {name} SELFSTATUS\n{stats}==== {name} TRACEVIEW\n{trace}==== {name} DUMP stat\n{stat}"
        )
    };
    let ours = view(base + 1, "server") + &view(base + 2, "slave");
    let original = include_str!("testdata/original_stats_3x64.txt");
    assert_eq!(ours, original);
}
