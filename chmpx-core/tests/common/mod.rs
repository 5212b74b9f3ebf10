//! Test harness: chmpx processes on 127.0.0.1 with ports of their own, configurations in a
//! temporary folder, everything stopped (by pid) when the harness is dropped, also on failure.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicU16, Ordering};

use chmpx_core::client::Client;

mod control;
pub use control::*;

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

impl Layout {
    /// `count` servers (data port `base + 2k`, control port `base + 2k + 1`) and the slave
    /// (control port `base + 2 * count`), hash mode.
    pub fn servers(base: u16, count: u16, replica: u32) -> Layout {
        Layout {
            servers: (0..count)
                .map(|k| (base + 2 * k, base + 2 * k + 1))
                .collect(),
            slave_ctl: base + 2 * count,
            replica,
            mode: "hash",
        }
    }
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

    pub fn start(&mut self, name: &str, conf: &Path) {
        let log = self.dir.path().join(format!("{name}.log"));
        let child = spawn_chmpx(Path::new(env!("CARGO_BIN_EXE_chmpx")), conf, &log);
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

/// One server (data port `base`, control `base + 1`) and one slave (control `base + 2`), started
/// with `extra` GLOBAL lines; returns the server's and the slave's configuration paths once
/// both control ports answer.
pub fn pair(cl: &mut Cluster, base: u16, extra: &str) -> (PathBuf, PathBuf) {
    let layout = Layout::servers(base, 1, 0);
    let sconf = cl.conf(&layout, base + 1, extra);
    let lconf = cl.conf(&layout, base + 2, extra);
    cl.start("server", &sconf);
    cl.start("slave", &lconf);
    wait_for("control ports", || {
        ctl(base + 1, "VERSION").is_some() && ctl(base + 2, "VERSION").is_some()
    });
    (sconf, lconf)
}

/// Starts every server of `layout` ("s0", "s1", ...) and its slave ("slave"), attaches a client
/// to each server (AUTOMERGE brings it into the ring) and waits until every server and the
/// slave see all servers in service. Returns the server clients, the server configurations and
/// the slave's.
pub fn start_ring(cl: &mut Cluster, layout: &Layout) -> (Vec<Client>, Vec<PathBuf>, PathBuf) {
    let mut confs = Vec::new();
    for (i, (_, c)) in layout.servers.iter().enumerate() {
        let conf = cl.conf(layout, *c, "");
        cl.start(&format!("s{i}"), &conf);
        confs.push(conf);
    }
    let slave_conf = cl.conf(layout, layout.slave_ctl, "");
    cl.start("slave", &slave_conf);
    for (_, c) in &layout.servers {
        wait_for("server control port", || ctl(*c, "VERSION").is_some());
    }
    wait_for("slave control port", || {
        ctl(layout.slave_ctl, "VERSION").is_some()
    });
    let clients: Vec<Client> = confs
        .iter()
        .map(|c| Client::attach(c.to_str().unwrap(), true, false).expect("attach to server"))
        .collect();
    let count = layout.servers.len();
    for (_, c) in &layout.servers {
        wait_for("server in service", || {
            ctl(*c, "SELFSTATUS").is_some_and(|s| s.contains(READY))
        });
    }
    for (_, c) in &layout.servers {
        wait_for("servers agree", || {
            ctl(*c, "ALLSTATUS").is_some_and(|d| d.matches(READY).count() == count)
        });
    }
    wait_for("slave sees every server in service", || {
        ctl(layout.slave_ctl, "DUMP").is_some_and(|d| d.matches(READY).count() == count)
    });
    // the slave may know a server in service from what the others pass on before its own
    // connection to it is up (it connects once a second, or when it sends): wait for that
    // too, on every server (its slave list holds the slave and the other servers)
    let from = format!("    From Slaves           = {count}\n");
    for (_, c) in &layout.servers {
        wait_for(
            "every server connected from the slave and the others",
            || ctl(*c, "SELFSTATUS").is_some_and(|s| s.contains(&from)),
        );
    }
    (clients, confs, slave_conf)
}
