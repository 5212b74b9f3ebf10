//! The console: start-up (options, the initial node list, the welcome text), the command
//! loop on standard input, command files (`-run`, `load`), loops, history, and every
//! command's work and texts.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::cmdline::{self, parse_host_parameter, HostParam, OptMap, EXEC_OPTIONS};
use super::color::Painter;
use super::nodes::{all_nodes_text, nodes_by_type_text, nodes_of_kind, NodeInfo, Registry};
use super::report::{self, Ctx, Details};
use super::{atos, trim, Verbosity};
use crate::config::{hosts, ChmConfig, ChmpxIdType, ConfSource, SelfIdentity};
use crate::dbg;
use crate::node::CHMPX_VERSION;
use crate::ring;
use crate::server::control_request;
use crate::wire::{CHM_INVALID_CHMPXID, CHM_INVALID_PORT};

mod control;
mod help;
mod start;
use help::help;
use start::{run, setup};

/// Set by SIGINT: stops loops, sleeps and the console.
static BREAK: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    BREAK.store(true, Ordering::SeqCst);
}

fn install_sigint() -> bool {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    // No SA_RESTART: a read of the console returns on Ctrl-C.
    let sa = SigAction::new(
        SigHandler::Handler(on_sigint),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe { sigaction(Signal::SIGINT, &sa) }.is_ok()
}

fn broken() -> bool {
    BREAK.load(Ordering::SeqCst)
}

/// Was Ctrl-C pressed? If so, ends the line and clears the flag.
fn take_break() -> bool {
    if !broken() {
        return false;
    }
    prn("");
    BREAK.store(false, Ordering::SeqCst);
    true
}

/// A target with no host and no control port.
fn no_host() -> HostParam {
    HostParam {
        port: CHM_INVALID_PORT,
        ..HostParam::default()
    }
}

/// Sleeps `secs` seconds unless Ctrl-C comes first.
fn sleep_secs(secs: i64) {
    let end = std::time::Instant::now() + Duration::from_secs(secs.max(0) as u64);
    while !broken() {
        let now = std::time::Instant::now();
        if now >= end {
            break;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

/// `PRN`: one line on standard output.
fn prn(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{s}");
    let _ = out.flush();
}

enum Input {
    Line(String),
    Eof,
    Interrupted,
}

/// How long one control port exchange may take.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(10);

/// Could the exchange not even start (so that trying another address is safe)?
fn connect_failed(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | NotFound | TimedOut | AddrNotAvailable | InvalidInput | Other
    ) || matches!(
        e.raw_os_error(),
        Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH)
    )
}

/// Sends `cmd` to the first address of `cands` that accepts a connection.
fn send_to(cands: &[(String, u16)], cmd: &str) -> Option<String> {
    for (h, p) in cands {
        match control_request(h, *p, cmd, CONTROL_TIMEOUT) {
            Ok(mut s) => {
                if let Some(z) = s.find('\0') {
                    s.truncate(z);
                }
                return Some(s);
            }
            Err(e) if connect_failed(&e) => continue,
            Err(_) => return None,
        }
    }
    None
}

/// `SetChmDbgMode` for the chmpx library part of the tool.
fn set_chm_dbg(l: dbg::Level) {
    dbg::set_level(l);
}

/// The console and everything it knows.
pub struct Tool {
    v: Verbosity,
    chmpx_dbg: bool,
    paint: Painter,
    lap: bool,
    reg: Registry,
    /// Nodes at start (configuration, local chmpx, or -host).
    initial: Vec<NodeInfo>,
    /// Nodes found through DUMP (grows with every update).
    targets: Vec<NodeInfo>,
    one_host: bool,
    init: HostParam,
    /// `-server` given with `-host`.
    init_server: bool,
    threads: i32,
    history: Vec<String>,
    history_max: usize,
    tty: bool,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            v: Verbosity::default(),
            chmpx_dbg: false,
            paint: Painter { enabled: true },
            lap: false,
            reg: Registry::default(),
            initial: Vec::new(),
            targets: Vec::new(),
            one_host: false,
            init_server: false,
            init: no_host(),
            threads: 0,
            history: Vec::new(),
            history_max: 1000,
            tty: false,
        }
    }
}

const RULE: &str = "-------------------------------------------------------";

const LINE_HELP: &str = r#"
Command: [command] [parameters...]

help(h)        print help
quit(q)/exit   quit
update(u)      update dynamic target chmpx nodes
nodes [nodyna | noupdate] [server | slave]
               print all/server/slave chmpx nodes. if noupdate parameter
               is specified, do not update before doing. if nodyna
               parameter is specified, only initially chmpx nodes.
status [self | all] [host(*1)]
               If the "self" parameter is specified, the status of the
               target node is returned. This is the same as the SELFSTATUS
               control command.
               If the "all" parameter is specified, the server node
               status that the target node knows is output. This is
               equivalent to the ALLSTATUS control command.
               The target node is specified as a parameter after self/all
               parameter. If omitted, this tool must be started with the
               "-host" option etc specified.
check [noupdate] [all | host(*1)]
               check and print all nodes status/hash/socket connection
               count. if host and control port is specified, check only
               that host and print target node status/etc which are
               looked by other nodes. if noupdate parameter is
               specified, do not update before doing.
statusupdate [noupdate] [all | host(*1)]
               push status of all/one node(s) to other nodes.
               if host and control port is specified, push only that
               host. if noupdate parameter is specified, do not update
               before doing.
servicein [noupdate] [host(*1)]
               service in node to RING by SERVICEIN.
               if tool runs with host option, target node is specified
               host. if noupdate parameter is specified, do not update
               before doing.
serviceout [noupdate] [host(*1)] {[target host(*1)]}
               service out node to RING by SERVICEOUT.
               if tool runs with host option, target node is specified
               host. if noupdate parameter is specified, do not update
               before doing.
merge [noupdate] [start | abort | complete]
               control merging, start/stop/complete(finish) to RING by
               MERGE/ABORTMERGE/COMPMERGE.
suspend [noupdate]
               suspend auto merging to RING by SUSPENDMERGE
nosuspend [noupdate]
               not suspend auto merging to RING by NOSUSPENDMERGE
dump [noupdate] [host(*1)]
               print target node all information by DUMP.
               if tool runs with host option, target node is specified
               host. if tool runs with conf option, must specify host
               and control port in nodes list. if noupdate parameter
               is specified, do not update before doing.
version [nodyna | noupdate]
               print all chmpx nodes version. if noupdate parameter is
               specified, do not update before doing. if nodyna
               parameter is specified, only initially chmpx nodes.
loop [second] [loop limit count]
               loop command input specified with interval second
               enter a series of commands to be executed continuously
               after this command. to end the input, enter "." character
               on "CLT LOOP>" prompt. after the sequence commands are
               complete, they are executed immediately. when a series of
               command execution is completed, it waits for the specified
               number of seconds and then re-executes them. if loop limit
               count is omitted, it loops until it stops.
loopcmd [command...]
               command in loop command.
               this command is used to specify successive commands to be
               executed by the loop and can be used only in the command
               file. this can only be specified immediately after the
               loop command and the loopcmd command after the loop
               command.
dbglevel [slt | err | wan | msg | dmp]
               bumpup debugging level or specify level
dchmpx [on | off]
               toggle or enable/disable chmpx debug msg
history(his)
               display all history, you can use a command linein history
               by "!<number>".
save <file path>
               save command history to command file.
load <file path>
               load command from file and run those.
shell          exit shell(same as "!" command).
echo <string>  echo specified string(after echo command).
sleep <second> sleep specified(decimal) seconds.

(*1) How to specify the target host
"hostname(IP address)":"control port"[:"cuk"[:"custom_seed"[:"control endpoints..."]]]
"#;

/// A command file line (`ReadLine`): CR and NUL dropped, blank and `#` lines skipped.
fn command_file_lines(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let keep = |cur: &[u8]| -> bool {
        match cur
            .iter()
            .find(|b| !(**b as char).is_ascii_whitespace() && **b != 0x0b)
        {
            Some(b) => *b != b'#',
            None => false,
        }
    };
    for &b in data {
        match b {
            b'\r' | 0 => {}
            b'\n' => {
                if keep(&cur) {
                    out.push(String::from_utf8_lossy(&cur).into_owned());
                }
                cur.clear();
            }
            _ => cur.push(b),
        }
    }
    // The last line without a line feed is taken as it is.
    if !cur.is_empty() {
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
    out
}

/// `loop <sec> [count]` in a command list: (seconds, count).
fn loop_command(line: &str, v: &Verbosity) -> Option<(i64, i64)> {
    if !cmdline::first_word(line).eq_ignore_ascii_case("loop") {
        return None;
    }
    let opts = cmdline::parse_line(line, v)?;
    let params = opts.get("loop")?;
    let sec = hosts::parse_atoi(params.first()?) as i64;
    let limit = params
        .get(1)
        .map(|p| hosts::parse_atoi(p) as i64)
        .unwrap_or(0);
    Some((sec, limit))
}

/// `loopcmd <command>` in a command list: the command.
fn loopcmd_command(line: &str) -> Option<String> {
    let w = cmdline::first_word(line);
    if !w.eq_ignore_ascii_case("loopcmd") {
        return None;
    }
    Some(trim(&line[w.len()..]).to_string())
}

impl Tool {
    // ---- talking to nodes --------------------------------------------------------------

    /// Where to reach a control port: its control endpoints, the host, the host's aliases.
    fn candidates(&mut self, host: &str, port: i16, eps: &str) -> Vec<(String, u16)> {
        let mut out: Vec<(String, u16)> = Vec::new();
        let mut push = |h: &str, p: i16| {
            if !h.is_empty() && p != CHM_INVALID_PORT {
                let e = (h.to_string(), p as u16);
                if !out.contains(&e) {
                    out.push(e);
                }
            }
        };
        for ep in eps.split(',').filter(|e| !trim(e).is_empty()) {
            if let Some(hp) = hosts::parse_hostport(ep, CHM_INVALID_PORT) {
                push(&hp.host, hp.port);
            }
        }
        push(host, port);
        for n in self.reg.hosts.names(host, false).unwrap_or_default() {
            push(&n, port);
        }
        out
    }

    /// One control command to one node (`SendCommandToControlPort`).
    fn send(&mut self, host: &str, port: i16, eps: &str, cmd: &str) -> Option<String> {
        if host.is_empty() || port == CHM_INVALID_PORT {
            self.v.err("Parameters are wrong.");
            return None;
        }
        let c = self.candidates(host, port, eps);
        let r = send_to(&c, cmd);
        match &r {
            Some(_) => self.v.msg(format!("Connected to {host}:{port}.")),
            None => self.v.msg(format!("Could not connect to {host}:{port}.")),
        }
        r
    }

    /// DUMP of each node (in `-threadcnt` threads); `None` for an empty list.
    fn dump_nodes(&mut self, nodes: &[NodeInfo]) -> Option<Vec<Option<String>>> {
        if nodes.is_empty() {
            self.v.err("Parameter is wrong.");
            return None;
        }
        let cands: Vec<Vec<(String, u16)>> = nodes
            .iter()
            .map(|n| self.candidates(&n.hostname, n.ctrlport, &n.ctlendpoints))
            .collect();
        let threads = self.threads.max(0) as usize;
        if threads == 0 {
            return Some(cands.iter().map(|c| send_to(c, "DUMP")).collect());
        }
        let mut results: Vec<Option<String>> = vec![None; nodes.len()];
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads.min(nodes.len()))
                .map(|t| {
                    let cands = &cands;
                    scope.spawn(move || {
                        (t..cands.len())
                            .step_by(threads)
                            .map(|i| (i, send_to(&cands[i], "DUMP")))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                if let Ok(list) = h.join() {
                    for (i, r) in list {
                        results[i] = r;
                    }
                }
            }
        });
        Some(results)
    }

    /// Rebuilds the dynamic node list from the DUMP of every initial node.
    fn update_targets(&mut self) -> bool {
        let initial = self.initial.clone();
        let Some(results) = self.dump_nodes(&initial) else {
            prn("ERROR: Internal error occurred.");
            return false;
        };
        for (n, r) in initial.iter().zip(results) {
            let Some(dump) = r else {
                self.v.msg(format!(
                    "Could not get DUMP data from {}:{}",
                    n.hostname, n.ctrlport
                ));
                continue;
            };
            if !report::add_nodes_from_dump(&mut self.reg, &mut self.targets, &dump, &self.v) {
                self.v.err(format!(
                    "Parse DUMP result from {}:{}",
                    n.hostname, n.ctrlport
                ));
            }
        }
        true
    }

    fn update_or_warn(&mut self) {
        if !self.update_targets() {
            self.v
                .err("Failed to update dynamic chmpx node list, but continue...");
        }
    }

    fn find_in(&mut self, dynamic: bool, hp: &HostParam) -> Option<NodeInfo> {
        let list = if dynamic {
            &self.targets
        } else {
            &self.initial
        };
        self.reg.find(
            list,
            &hp.host,
            hp.port,
            &hp.cuk,
            &hp.ctlendpoints,
            &hp.custom_seed,
        )
    }

    fn initial_target(&self) -> HostParam {
        if self.one_host {
            self.init.clone()
        } else {
            no_host()
        }
    }

    fn param_of(n: &NodeInfo) -> HostParam {
        HostParam {
            host: n.hostname.clone(),
            port: n.ctrlport,
            cuk: n.cuk.clone(),
            ctlendpoints: n.ctlendpoints.clone(),
            custom_seed: n.custom_seed.clone(),
        }
    }

    /// `[noupdate] [host]`: the dynamic node `host` names (default: the one given at start),
    /// after updating the dynamic nodes unless `noupdate`; `None` after saying so.
    fn dynamic_target(&mut self, params: &[String]) -> Option<NodeInfo> {
        let mut update = true;
        let mut tg = self.initial_target();
        tg.cuk.clear();
        tg.ctlendpoints.clear();
        tg.custom_seed.clear();
        for p in params {
            if p.eq_ignore_ascii_case("noupdate") {
                update = false;
            } else {
                tg = parse_host_parameter(p);
            }
        }
        if update {
            self.update_or_warn();
        }
        let found = self.find_in(true, &tg);
        if found.is_none() {
            prn(&format!(
                "Not found {}(:{}) in dynamic host list which is included from configuration file.",
                tg.host, tg.port
            ));
        }
        found
    }

    /// `[noupdate] [all | host]`: whether all nodes are meant, else the host; the dynamic
    /// nodes are updated first unless `noupdate`.
    fn all_or_target(&mut self, params: &[String]) -> (bool, HostParam) {
        let (mut update, mut all) = (true, true);
        let mut tg = no_host();
        for p in params {
            if p.eq_ignore_ascii_case("noupdate") {
                update = false;
            } else if p.eq_ignore_ascii_case("all") {
                all = true;
            } else {
                all = false;
                tg = parse_host_parameter(p);
            }
        }
        if update {
            self.update_or_warn();
        }
        (all, tg)
    }

    /// The dynamic node list (updated first unless `noupdate`), or the initial one
    /// (`nodyna`); `None` after saying why when both are given.
    fn node_list(&mut self, dyna: bool, update: bool) -> Option<Vec<NodeInfo>> {
        if !dyna && !update {
            self.v
                .err("could not specify both \"nodyna\" and \"noupdate\" parameters.");
            return None;
        }
        if dyna && update {
            self.update_or_warn();
        }
        Some(if dyna {
            self.targets.clone()
        } else {
            self.initial.clone()
        })
    }

    /// Sends `cmd` to one dynamic node after the other until one that is not a slave
    /// (`on_slave` tells it from the answer) succeeds.
    fn send_until_succeed(&mut self, cmd: &str, on_slave: impl Fn(&str) -> bool) {
        for n in self.targets.clone() {
            match self.send(&n.hostname, n.ctrlport, &n.ctlendpoints, cmd) {
                None => self.v.err(format!(
                    "Failed to send {cmd} command to {}:{}, but retry to send another node.",
                    n.hostname, n.ctrlport
                )),
                Some(r) if on_slave(&r) => {
                    self.v.msg(format!("Failed to send {cmd} to {}:{}, because this node is slave. thus retry to send another node.", n.hostname, n.ctrlport));
                }
                Some(r) if r.contains("SUCCEED") => {
                    prn(&format!(
                        "Succeed to send {cmd} to {}:{}",
                        n.hostname, n.ctrlport
                    ));
                    return;
                }
                Some(r) => self.v.wan(format!(
                    "Failed to send {cmd} to {}:{} by {r}, but retry to send another node.",
                    n.hostname, n.ctrlport
                )),
            }
        }
        prn(&format!(
            "Failed to send {cmd} to all node, but no node is succeed."
        ));
    }

    /// The answer of `tg` to a status command; `None` after saying it did not come.
    fn status_answer(&mut self, tg: &HostParam, cmd: &str) -> Option<String> {
        let r = self.send(&tg.host, tg.port, &tg.ctlendpoints, cmd);
        if r.is_none() {
            self.v.err(format!(
                "Could not get {cmd} command result from {}:{}",
                tg.host, tg.port
            ));
        }
        r
    }

    // ---- commands ----------------------------------------------------------------------

    fn cmd_update(&mut self) {
        if !self.update_targets() {
            self.v.err("Failed to update dynamic chmpx node list.");
            return;
        }
        print!("{}", all_nodes_text(&self.targets));
    }

    fn cmd_nodes(&mut self, params: &[String]) {
        let (mut dyna, mut update, mut server, mut slave) = (true, true, false, false);
        for p in params {
            match p.to_ascii_lowercase().as_str() {
                "nodyna" => dyna = false,
                "noupdate" => update = false,
                "server" => server = true,
                "slave" => slave = true,
                _ => {
                    self.v
                        .err(format!("Unknown parameter({p}) for nodes command."));
                    return;
                }
            }
        }
        let Some(list) = self.node_list(dyna, update) else {
            return;
        };
        if server == slave {
            print!("{}", all_nodes_text(&list));
        } else {
            print!("{}", nodes_by_type_text(&list, server));
        }
    }

    fn cmd_status(&mut self, params: &[String]) {
        let (mut all, mut me, mut given) = (false, false, false);
        let mut tg = self.initial_target();
        for p in params {
            if p.eq_ignore_ascii_case("all") {
                all = true;
            } else if p.eq_ignore_ascii_case("self") {
                me = true;
            } else {
                let hp = parse_host_parameter(p);
                let text = format!("Not found {p} in initial host list which is included from configuration file, try to check dynamic hostlist.");
                let node = match self.find_in(false, &hp) {
                    Some(n) => n,
                    None => {
                        self.v.wan(&text);
                        match self.find_in(true, &hp) {
                            Some(n) => n,
                            None => {
                                self.v.err(&text);
                                return;
                            }
                        }
                    }
                };
                tg = Self::param_of(&node);
                given = true;
            }
        }
        if all && me {
            self.v
                .err("both \"all\" and \"self\" parameters are specified.");
            return;
        }
        if me {
            if !self.one_host && !given {
                self.v.err("In order to use the \"self\" parameter, need to specify \"-host\" etc at startup, or specify host information after this parameter.");
                return;
            }
            let Some(r) = self.status_answer(&tg, "SELFSTATUS") else {
                return;
            };
            let r = report::cut_empty_line(&r).replace('\n', "\n     ");
            prn(&format!(" {}:{} = {{", tg.host, tg.port));
            prn(&format!("     {r}"));
            prn(" }");
        } else {
            if !self.one_host && !given {
                self.v.err("In order to use the \"all\" parameter(or not specified any parameter: default \"all\"), need to specify \"-host\" etc at startup, or specify host information after this parameter.");
                return;
            }
            let Some(r) = self.status_answer(&tg, "ALLSTATUS") else {
                return;
            };
            match report::allstatus_text(&self.paint, &r, &self.v) {
                Some(t) => prn(&t),
                None => self.v.err(format!(
                    "Something error occurred in parsing ALLSTATUS command result for {}:{}",
                    tg.host, tg.port
                )),
            }
        }
    }

    /// DUMP of every dynamic node, read into status details.
    fn all_details(&mut self) -> Details {
        let mut all = Details::new();
        let targets = self.targets.clone();
        let Some(results) = self.dump_nodes(&targets) else {
            prn("ERROR: Internal error occurred.");
            return all;
        };
        let v = self.v;
        for (n, r) in targets.iter().zip(results) {
            let detail = match r {
                None => {
                    v.msg(format!(
                        "Could not get DUMP data from {}:{}",
                        n.hostname, n.ctrlport
                    ));
                    let mut d = report::Detail::default();
                    d.me.is_down = true;
                    d
                }
                Some(dump) => {
                    let mut ctx = Ctx {
                        reg: &mut self.reg,
                        targets: &self.targets,
                        initial: &self.initial,
                        v,
                    };
                    match report::status_detail(&mut ctx, n.chmpxid, &dump) {
                        Some(d) => d,
                        None => {
                            v.err(format!(
                                "Parse DUMP result from {}:{}",
                                n.hostname, n.ctrlport
                            ));
                            continue;
                        }
                    }
                }
            };
            let key = self.key_of(&Self::param_of(n));
            all.insert(key, detail);
        }
        all
    }

    fn key_of(&mut self, hp: &HostParam) -> String {
        report::map_key(&mut self.reg, &self.targets, &self.initial, hp)
    }

    fn cmd_check(&mut self, params: &[String]) {
        let (all, mut tg) = self.all_or_target(params);
        if !all {
            match self.find_in(true, &tg) {
                Some(n) => tg = Self::param_of(&n),
                None => {
                    prn(&format!("Not found {}(:{}(:{})) in dynamic host list which is included from configuration file.", tg.host, tg.port, tg.cuk));
                    return;
                }
            }
        }
        let details = self.all_details();
        if details.is_empty() {
            self.v.msg("There is no status detail result of nodes.");
        } else if self.v.dmp {
            print!("{}", report::dump_details_text(&details));
        }
        let only = (!tg.host.is_empty()).then(|| self.key_of(&tg));
        let results = report::check_nodes(&details, only.as_deref());
        if results.is_empty() {
            self.v
                .msg("There is no node status result with checking status.");
        } else if self.v.dmp {
            print!("{}", report::dump_checks_text(&results));
        }
        let out = if all {
            report::all_checks_text(&self.paint, &results)
        } else {
            report::one_check_text(&self.paint, &results)
        };
        prn(&out);
    }

    fn cmd_history(&self) {
        for (i, h) in self.history.iter().enumerate() {
            prn(&format!(" {}  {h}", i + 1));
        }
    }

    fn cmd_save(&self, path: &str) {
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(path);
        let mut f = match f {
            Ok(f) => f,
            Err(e) => {
                self.v.err(format!(
                    "Could not open file({path}) for writing history. errno({})",
                    e.raw_os_error().unwrap_or(0)
                ));
                return;
            }
        };
        let skip = |h: &str| {
            let l = h.to_ascii_lowercase();
            ["his", "history", "shell", "sh", "!!", "save", "load"]
                .iter()
                .any(|p| l.starts_with(p))
                || h.starts_with('!')
        };
        for h in self.history.iter().filter(|h| !skip(h)) {
            if let Err(e) = f.write_all(format!("{h}\n").as_bytes()) {
                self.v.err(format!(
                    "Failed writing history to file({path}). errno({})",
                    e.raw_os_error().unwrap_or(0)
                ));
                return;
            }
        }
    }

    /// Runs a command file (`load`, `-run`); false on a fatal error.
    fn cmd_load(&mut self, path: &str, exit: &mut bool) -> bool {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                self.v.err(format!(
                    "Could not open file({path}) for reading commands. errno({})",
                    e.raw_os_error().unwrap_or(0)
                ));
                return true;
            }
        };
        let mut list = Vec::new();
        for l in command_file_lines(&data) {
            if !cmdline::is_allowed_sub_command(&l, true) {
                prn(&format!(
                    "ERROR: {l} command is not allowed in command file, then skip this command."
                ));
                continue;
            }
            list.push(l);
        }
        let r = self.consecutive(&list, "CLT> ", 0, 1, true, exit);
        take_break();
        r
    }

    /// Runs `list` (echoing each with `prompt`), again every `sec` seconds, `limit` times
    /// (0: until Ctrl-C). `loop` + `loopcmd` lines nest one level when `nest`.
    fn consecutive(
        &mut self,
        list: &[String],
        prompt: &str,
        sec: i64,
        limit: i64,
        nest: bool,
        exit: &mut bool,
    ) -> bool {
        *exit = false;
        let mut limit = limit;
        let mut i = 0;
        while !broken() && i < list.len() {
            if list[i].is_empty() {
                i += 1;
            } else {
                prn(&format!("{prompt}{}", list[i]));
                let sub = if nest {
                    loop_command(&list[i], &self.v)
                } else {
                    None
                };
                if let Some((s, l)) = sub {
                    let mut cmds = Vec::new();
                    i += 1;
                    while i < list.len() {
                        match loopcmd_command(&list[i]) {
                            Some(c) => cmds.push(c),
                            None => break,
                        }
                        i += 1;
                    }
                    if !self.consecutive(&cmds, prompt, s, l, false, exit) {
                        return false;
                    }
                } else {
                    let line = list[i].clone();
                    if !self.handle_string(&line, exit) {
                        self.v.err(format!(
                            "Something error occurred at command - \"{line}\", so stop running."
                        ));
                        break;
                    } else if *exit {
                        break;
                    }
                    i += 1;
                }
            }
            if i >= list.len() {
                if limit > 0 {
                    limit -= 1;
                    if limit <= 0 {
                        break;
                    }
                }
                sleep_secs(sec);
                i = 0;
            }
        }
        true
    }

    fn cmd_loop(&mut self, params: &[String], exit: &mut bool) -> bool {
        *exit = false;
        let sec = hosts::parse_atoi(&params[0]) as i64;
        let limit = params
            .get(1)
            .map(|p| hosts::parse_atoi(p) as i64)
            .unwrap_or(0);
        let prompt = format!(
            "CLT LOOP({sec}s,{}) COMMAND INPUT> ",
            if limit <= 0 {
                "nolimit".to_string()
            } else {
                format!("{limit}count")
            }
        );
        prn("Please specify the command to loop and enter \".\" to finish command input.");
        prn("When commands input is finished, start to run commands.");
        let mut list = Vec::new();
        while let Input::Line(line) = self.read_line(&prompt) {
            let line = trim(&line).to_string();
            if line == "." {
                break;
            }
            if !cmdline::is_allowed_sub_command(&line, false) {
                prn(&format!(
                    "ERROR: {line} command is not allowed in LOOP command."
                ));
                continue;
            }
            self.put_history(&format!("loopcmd {line}"));
            list.push(line);
        }
        if take_break() {
            // Ctrl-C while entering the commands: nothing runs.
            return true;
        }
        if list.is_empty() {
            return true;
        }
        let r = self.consecutive(&list, "CLT LOOP> ", sec, limit, false, exit);
        take_break();
        r
    }

    fn cmd_shell(&self) {
        let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
        if std::process::Command::new(&shell).status().is_err() {
            self.v.err(format!(
                "Something error occurred by executing shell({shell})."
            ));
        }
    }

    fn cmd_sleep(&self, params: &[String]) {
        if params.len() != 1 {
            if params.len() > 1 {
                self.v.err(format!("unknown parameter {}.", params[1]));
            } else {
                self.v.err("sleep command needs parameter.");
            }
            return;
        }
        sleep_secs(hosts::parse_atoi(&params[0]) as u32 as i64);
    }

    /// Runs one command line (`CommandStringHandle`); false on a fatal error.
    fn handle_string(&mut self, line: &str, exit: &mut bool) -> bool {
        *exit = false;
        if line.is_empty() {
            return true;
        }
        let Some(opts) = cmdline::parse_line(line, &self.v) else {
            return true;
        };
        let Some((cmd, params)) = opts.into_iter().next() else {
            return true;
        };
        match cmd.as_str() {
            "help" => prn(LINE_HELP),
            "quit" => {
                prn("Quit.");
                *exit = true;
            }
            "update" => self.cmd_update(),
            "nodes" => self.cmd_nodes(&params),
            "status" => self.cmd_status(&params),
            "check" => self.cmd_check(&params),
            "statusupdate" => self.cmd_statusupdate(&params),
            "servicein" => self.cmd_servicein(&params),
            "serviceout" => self.cmd_serviceout(&params),
            "merge" => self.cmd_merge(&params),
            "suspend" => self.cmd_suspend(&params, true),
            "nosuspend" => self.cmd_suspend(&params, false),
            "dump" => self.cmd_dump(&params),
            "version" => self.cmd_version(&params),
            "dbglevel" => self.cmd_dbglevel(&params),
            "dchmpx" => self.cmd_dchmpx(&params),
            "history" => self.cmd_history(),
            "loop" => return self.cmd_loop(&params, exit),
            "loopcmd" => prn("ERROR: \"loopcmd\" must be specified in command file. This command could not be specified in command line."),
            "save" => self.cmd_save(&params[0]),
            "load" => return self.cmd_load(&params[0], exit),
            "shell" => self.cmd_shell(),
            "echo" => {
                let s = params.join(" ");
                if !s.is_empty() {
                    prn(&s);
                }
            }
            "sleep" => self.cmd_sleep(&params),
            _ => self.v.err("Unknown command. see \"help\"."),
        }
        true
    }

    // ---- console -----------------------------------------------------------------------

    fn put_history(&mut self, line: &str) {
        if line.is_empty() {
            return;
        }
        self.history.push(line.to_string());
        if self.history.len() > self.history_max {
            self.history.remove(0);
        }
    }

    /// One line of standard input (the prompt shown on a terminal). Control characters are
    /// dropped, as the original's line editor ignores them.
    fn read_line(&mut self, prompt: &str) -> Input {
        // the prompt always, as the original; from a pipe or file the line read is echoed
        // after it too (the original echoes what it reads itself), so a transcript reads the
        // same
        {
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{prompt}");
            let _ = out.flush();
        }
        let mut buf: Vec<u8> = Vec::new();
        loop {
            if broken() {
                return Input::Interrupted;
            }
            let mut b = [0u8; 1];
            match nix::unistd::read(0, &mut b) {
                Ok(0) => {
                    if buf.is_empty() {
                        return Input::Eof;
                    }
                    break;
                }
                Ok(_) if b[0] == b'\n' => break,
                Ok(_) => {
                    if !b[0].is_ascii_control() {
                        buf.push(b[0]);
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return Input::Eof,
            }
        }
        let line = String::from_utf8_lossy(&buf).into_owned();
        if !self.tty {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        self.put_history(&line);
        Input::Line(line)
    }

    /// Runs an earlier command again (`!!`, `!<n>`).
    fn exec_history(&mut self, pos: i64, exit: &mut bool) -> bool {
        let n = self.history.len() as i64;
        // The last entry is this "!..." line itself.
        let idx = if pos == -1 && n >= 2 {
            n - 2
        } else if pos > 0 && pos < n {
            pos - 1
        } else {
            self.v.err(format!("No history number({pos}) is existed."));
            return true;
        };
        let cmd = self.history[idx as usize].clone();
        self.history.pop();
        self.put_history(&cmd);
        prn(&format!(" {cmd}"));
        self.handle_string(&cmd, exit)
    }

    /// Reads and runs one console line; false to leave.
    fn command_handle(&mut self) -> bool {
        let line = match self.read_line("CLT> ") {
            Input::Line(l) => l,
            Input::Eof | Input::Interrupted => return false,
        };
        let mut exit = false;
        if let Some(rest) = line.strip_prefix('!') {
            if rest.is_empty() {
                self.history.pop();
                self.put_history("shell");
                self.cmd_shell();
            } else {
                let pos = if rest == "!" {
                    -1
                } else {
                    hosts::parse_atoi(rest) as i64
                };
                if !self.exec_history(pos, &mut exit) || exit {
                    return false;
                }
            }
        } else if !self.handle_string(&line, &mut exit) || exit {
            return false;
        }
        true
    }

    // ---- start -------------------------------------------------------------------------

    /// The nodes of a configuration, or of the local chmpx when it answers DUMP (as the
    /// original starts from the local shared memory).
    fn load_initial_nodes(&mut self, config: &str, port: i16, cuk: &str) -> bool {
        if config.is_empty() {
            self.v.err("configuration file or string is empty.");
            return false;
        }
        let Ok(source) = ConfSource::detect(config, false) else {
            self.v.err("configuration file or string is something wrong, you can check it by \"chmpxconftest\" tool.");
            return false;
        };
        let who = SelfIdentity {
            ctlport: (port != CHM_INVALID_PORT).then_some(port),
            cuk: (!cuk.is_empty()).then(|| cuk.to_string()),
        };
        let cfg = match ChmConfig::load_source(&source, &who) {
            Ok(c) => c,
            Err(e) => {
                log::error!(
                    "Failed to make configuration object from configuration({config}): {e}"
                );
                prn("You can see detail about error, execute this program with \"-d\"(\"-g\") option.");
                return false;
            }
        };
        self.initial.clear();
        if cfg.self_ctlport != CHM_INVALID_PORT {
            let local = [("127.0.0.1".to_string(), cfg.self_ctlport as u16)];
            if let Some(dump) = send_to(&local, "DUMP") {
                let v = self.v;
                if let Some((group, id_type, nodes)) =
                    report::nodes_of_local_dump(&mut self.reg, &dump, &v)
                {
                    if group == cfg.group {
                        self.v.msg("Got the local chmpx's information from its control port, then loading all chmpx information from it.");
                        self.reg.group = group;
                        self.reg.id_type = match id_type.as_str() {
                            "cuk" => ChmpxIdType::Cuk,
                            "controlendpoints" => ChmpxIdType::CtlEndpoints,
                            "custom" => ChmpxIdType::Custom,
                            _ => ChmpxIdType::Name,
                        };
                        self.initial = nodes;
                        return true;
                    }
                }
            }
        }
        self.v.msg("Could not attach local chmpx shared memory, then loading all chmpx information from configuration.");
        self.reg.group = cfg.group.clone();
        self.reg.id_type = cfg.chmpxid_type;
        let mut list = Vec::new();
        for (nodes, server) in [(&cfg.servers, true), (&cfg.slaves, false)] {
            for n in nodes {
                self.reg.hosts.update_confirm(&n.name);
                let eps =
                    ring::hostports_text(n.ctlendpoints.iter().map(|h| (h.host.as_str(), h.port)));
                let node = self.reg.node(
                    None,
                    &n.name,
                    n.ctlport,
                    &n.cuk,
                    &eps,
                    &n.custom_seed,
                    server,
                );
                list.push(node);
            }
        }
        self.reg.uniqsort(&mut list);
        self.initial = list;
        true
    }

    fn welcome(&self, config: &str, from_env: bool) {
        let level = |v: &Verbosity| {
            if v.msg {
                "Message(Information)"
            } else if v.wan {
                "Warning"
            } else if v.err {
                "Error"
            } else {
                "Silent"
            }
        };
        prn(RULE);
        prn("CHMPX CONTROL TOOL");
        prn(RULE);
        prn(&format!(
            " CHMPX library version          : {CHMPX_VERSION}"
        ));
        prn(&format!(
            " Debug level                    : {}",
            level(&self.v)
        ));
        prn(&format!(
            " Chmpx library debug level      : {}",
            if self.chmpx_dbg {
                level(&self.v)
            } else {
                "Silent"
            }
        ));
        prn(&format!(
            " Print command lap time         : {}",
            if self.lap { "yes" } else { "no" }
        ));
        prn(&format!(
            " Command line history count     : {}",
            self.history_max
        ));
        let kind = if !config.is_empty() {
            if from_env {
                "configuration file/json from environment"
            } else {
                "configuration file/json"
            }
        } else if !self.init.host.is_empty() {
            "hostname"
        } else {
            "no"
        };
        prn(&format!(" Chmpx nodes specified type     : {kind}"));
        let i = &self.init;
        if !config.is_empty() {
            prn(&format!("    Load Configuration          : {config}"));
            if i.port != CHM_INVALID_PORT {
                prn(&format!("    Specified Control port      : {}", i.port));
            }
            if !i.cuk.is_empty() {
                prn(&format!("    Specified CUK               : {}", i.cuk));
            }
            if !i.ctlendpoints.is_empty() {
                prn(&format!(
                    "    Specified Control Endpoints : {}",
                    i.ctlendpoints
                ));
            }
            if !i.custom_seed.is_empty() {
                prn(&format!(
                    "    Specified Custom ID Seed    : {}",
                    i.custom_seed
                ));
            }
        } else if !i.host.is_empty() {
            prn(&format!("    Hostname is not specified   : ({})", i.host));
            prn(&format!(
                "    Specified Control port      : {}",
                if i.port == CHM_INVALID_PORT {
                    0
                } else {
                    i.port
                }
            ));
            prn(&format!("    Specified CUK               : {}", i.cuk));
            prn(&format!(
                "    Specified Control Endpoints : {}",
                i.ctlendpoints
            ));
            // The original prints the control endpoints here.
            prn(&format!(
                "    Specified Custom ID Seed    : {}",
                if i.custom_seed.is_empty() {
                    ""
                } else {
                    i.ctlendpoints.as_str()
                }
            ));
            prn(&format!(
                "    Specified Chmpx mode        : {}",
                if self.init_server {
                    "Server node"
                } else {
                    "Slave node"
                }
            ));
        }
        prn(RULE);
        prn(" Chmpx nodes information at start");
        prn(RULE);
        print!("{}", all_nodes_text(&self.initial));
        prn(RULE);
    }
}

/// chmpxlinetool's `main`; returns the exit code.
pub fn main(argv: Vec<String>) -> i32 {
    let prg = argv
        .first()
        .map(|a| {
            std::path::Path::new(a)
                .file_name()
                .and_then(|s| s.to_str())
                .unwrap_or("chmpxlinetool")
                .to_string()
        })
        .unwrap_or_else(|| "chmpxlinetool".into());
    let prg = prg.strip_prefix("lt-").unwrap_or(&prg).to_string();
    let mut t = Tool::default();
    let args: Vec<String> = argv.into_iter().skip(1).collect();
    let Some(opts) = cmdline::parse_words(&args, EXEC_OPTIONS, &t.v) else {
        help(&prg);
        return 1;
    };
    match setup(&mut t, &prg, &opts) {
        Ok(st) => run(&mut t, st),
        Err(code) => code,
    }
}
