//! Running chmpx in a test: starting it, control-port commands and waiting for a condition.
//! Shared with the tests of chmpx-capi (included there by path), so it needs nothing but std.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server's own status once it is in the ring.
pub const READY: &str = "[SERVICE IN][UP][n/a][Nothing][NoSuspend]";

/// Starts chmpx `bin` with the configuration `conf` (error level), its messages into `log`.
pub fn spawn_chmpx(bin: &Path, conf: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(bin)
        .arg("-conf")
        .arg(conf)
        .arg("-d")
        .arg("err")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start chmpx")
}

/// One control-port command.
pub fn ctl(port: u16, cmd: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    // one write: chmpx answers what the first read brings (as the original), and a NUL that
    // came in a second segment after the answer and the close would reset the connection
    let mut data = cmd.as_bytes().to_vec();
    data.push(0);
    s.write_all(&data).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// Waits (up to `limit`) until `f` holds.
pub fn wait_within<F: FnMut() -> bool>(limit: Duration, what: &str, mut f: F) {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// Waits (up to 20 s) until `f` holds.
pub fn wait_for<F: FnMut() -> bool>(what: &str, f: F) {
    wait_within(Duration::from_secs(20), what, f)
}
