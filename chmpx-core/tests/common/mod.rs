//! Test harness: chmpx processes on 127.0.0.1 with ports of their own, configurations in a
//! temporary folder, everything stopped (by pid) when the harness is dropped, also on failure.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// A port range per test process: 20000 + (pid % 120) * 100, then sequential.
pub fn ports(n: u16) -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20000 + (std::process::id() % 120) as u16 * 100;
    base + NEXT.fetch_add(n, Ordering::SeqCst)
}

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub group: String,
    procs: Vec<(String, Child)>,
}

pub struct Layout {
    pub servers: Vec<(u16, u16)>,
    pub slave_ctl: u16,
    pub replica: u32,
    pub mode: &'static str,
}

impl Cluster {
    pub fn new(group: &str) -> Cluster {
        Cluster {
            dir: tempfile::tempdir().unwrap(),
            group: group.into(),
            procs: Vec::new(),
        }
    }

    /// Writes the INI configuration of `layout` with SELFCTLPORT `self_ctl`.
    pub fn conf(&self, layout: &Layout, self_ctl: u16, extra: &str) -> PathBuf {
        let mut s = format!(
            "[GLOBAL]\nFILEVERSION = 1\nGROUP = {}\nDELIVERMODE = {}\nMAXCHMPX = 16\nREPLICA = {}\n\
             MAXMQSERVER = 2\nMAXMQCLIENT = 32\nMQPERATTACH = 1\nMAXMQPERCLIENT = 8\n\
             SELFCTLPORT = {self_ctl}\nDOMERGE = on\nAUTOMERGE = on\nSSL = no\n{extra}\n",
            self.group, layout.mode, layout.replica
        );
        for (p, c) in &layout.servers {
            s += &format!("[SVRNODE]\nNAME = 127.0.0.1\nPORT = {p}\nCTLPORT = {c}\n");
        }
        s += &format!("[SLVNODE]\nNAME = [.]*\nCTLPORT = {}\n", layout.slave_ctl);
        let path = self.dir.path().join(format!("chmpx-{self_ctl}.ini"));
        std::fs::write(&path, s).unwrap();
        path
    }

    pub fn start(&mut self, name: &str, conf: &PathBuf) {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_chmpx"))
            .arg("-conf")
            .arg(conf)
            .arg("-d")
            .arg("err")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start chmpx");
        self.procs.push((name.into(), child));
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }

    pub fn pid(&self, name: &str) -> u32 {
        self.procs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.id())
            .unwrap()
    }

    /// Stops one process with `signal` and waits for it.
    pub fn stop(&mut self, name: &str, signal: i32) -> std::process::ExitStatus {
        let i = self.procs.iter().position(|(n, _)| n == name).unwrap();
        let (_, mut child) = self.procs.remove(i);
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, signal) };
        child.wait().unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for (name, _) in &self.procs {
                eprintln!("---- log of {name} ----\n{}", self.log(name));
            }
        }
        for (_, c) in &mut self.procs {
            // SAFETY: our own children.
            unsafe { libc::kill(c.id() as i32, libc::SIGKILL) };
            let _ = c.wait();
        }
    }
}

/// One control-port command.
pub fn ctl(port: u16, cmd: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(cmd.as_bytes()).ok()?;
    s.write_all(&[0]).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// Waits (up to 20 s) until `f` holds.
pub fn wait_for<F: FnMut() -> bool>(what: &str, mut f: F) {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// One server (data port `base`, control `base + 1`) and one slave (control `base + 2`), started
/// with `extra` GLOBAL lines; returns the server's and the slave's configuration paths once
/// both control ports answer.
pub fn pair(cl: &mut Cluster, base: u16, extra: &str) -> (PathBuf, PathBuf) {
    let layout = Layout {
        servers: vec![(base, base + 1)],
        slave_ctl: base + 2,
        replica: 0,
        mode: "hash",
    };
    let sconf = cl.conf(&layout, base + 1, extra);
    let lconf = cl.conf(&layout, base + 2, extra);
    cl.start("server", &sconf);
    cl.start("slave", &lconf);
    wait_for("control ports", || {
        ctl(base + 1, "VERSION").is_some() && ctl(base + 2, "VERSION").is_some()
    });
    (sconf, lconf)
}
