//! chmpxstatus: print the status of the local chmpx process, or wait until its own status
//! matches a given one. Same command line, texts and exit codes as the original tool.
//!
//! The original maps chmpx's shared memory; ours asks the local chmpx for a status snapshot
//! over its local socket (`client::snapshot`). Values that live in the configuration are taken
//! from the configuration, as the original copies them into the shared memory at startup;
//! things our chmpx does not have (socket descriptors, chmpx-owned message queues,
//! communication statistics) print as the original's empty or invalid values.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::exit;
use std::time::{Duration, Instant};

use chmpx_core::client::{self, ClientError};
use chmpx_core::config::{ChmConfig, SelfIdentity};
use chmpx_core::ctl::{ssl_min_text, yes_no};
use chmpx_core::dbg;
use chmpx_core::node::Snapshot;
use chmpx_core::opts::Opts;
use chmpx_core::ring;
use chmpx_core::toolcommon::{self, atoi, err};
use chmpx_core::wire::*;

/// How often the wait mode asks for the status. The original looks once a second; asking
/// more often only makes the wait end sooner, the timeout keeps its meaning (seconds).
const WAIT_POLL: Duration = Duration::from_millis(100);

/// `sizeof` of the original's shared-memory structures (x86-64), for the size line.
const SIZEOF_CHMSHM: i64 = 34792;
const SIZEOF_CHMINFO: i64 = 34704;
const SIZEOF_CHMPXLIST: i64 = 26776;
const SIZEOF_PCHMPX: i64 = 8;
const SIZEOF_MQMSGHEADLIST: i64 = 32;
const SIZEOF_CLTPROCLIST: i64 = 24;
const SIZEOF_CHMLOGRAW: i64 = 48;
const SIZEOF_CHMSOCKLIST: i64 = 24;
const CHMINFO_VERSION: &str = "CHMINFO_VERSION 1.1";

fn help(prog: &str) {
    let text = format!(
        r#"
Usage: {prog} -conf <configuration file path> [-ctlport <port>] [-cuk <cuk>] [-self] [-d [silent|err|wan|msg|dump]] [-dfile <debug file path>]
Usage: {prog} -conf <configuration file path> [-ctlport <port>] [-cuk <cuk>] -wait -live [down|up] -ring [serviceout|servicein|slave] -(no)suspend [-timeout <second>] [-d [silent|err|wan|msg|dump]] [-dfile <debug file path>]
Usage: {prog} -h

Option
  -conf <file name>    configuration file( .ini / .json / .yaml ) path
  -json <json>         configuration JSON string

  -ctlport <port>      specify the self control port(*)
  -cuk <cuk>           specify the self CUK
  -self                print only self chmpx
  -wait                to wait until the state changes to the specified value
  -live <param>        Specify live status by waiting mode
                        up         - chmpx process up
                        down       - chmpx process down
  -ring <param>        specify ring status by waiting mode
                        servicein  - server chmpx joined ring
                        serviceout - server chmpx NOT joined ring
                        slave      - slave chmpx
  -suspend             specify suspend status by waiting mode
  -nosuspend           specify nosuspend status by waiting mode
  -d <param>           specify the debugging output mode:
                        silent     - no output
                        err        - output error level
                        wan        - output warning level
                        msg        - output debug(message) level
                        dump       - output communication debug level
  -dfile <path>        specify the file path which is put output
  -h(help)             display this usage.

(*) if ctlport option is specified, chmpx searches same ctlport in configuration
    file and ignores "CTLPORT" directive in "GLOBAL" section. and chmpx will
    start in the mode indicated by the server entry that has been detected.

"#
    );
    print!("{text}");
}

/// `<base>/<GROUP>[-<ctlport>].<ext>`: where the original keeps its shared memory and k2hash
/// files (base `/var/lib/antpickax` if it exists, else `/tmp`).
fn original_file_path(group: &str, ctlport: i16, ext: &str) -> String {
    let base = if std::path::Path::new("/var/lib/antpickax").is_dir() {
        "/var/lib/antpickax"
    } else {
        "/tmp"
    };
    if ctlport == CHM_INVALID_PORT {
        format!("{base}/{group}.{ext}")
    } else {
        format!("{base}/{group}-{ctlport}.{ext}")
    }
}

/// Size of the original's shared-memory file for this configuration.
fn original_shm_size(cfg: &ChmConfig) -> i64 {
    let per_attach = cfg.mqcnt_per_attach.max(1);
    SIZEOF_CHMSHM
        + SIZEOF_CHMPXLIST * cfg.max_chmpx_count
        + SIZEOF_PCHMPX * cfg.max_chmpx_count * 2
        + SIZEOF_MQMSGHEADLIST * (cfg.max_server_mq_cnt + cfg.max_client_mq_cnt)
        + SIZEOF_CLTPROCLIST * (1 + cfg.max_client_mq_cnt / per_attach + 1)
        + SIZEOF_CHMLOGRAW * cfg.max_histlog_count
        + SIZEOF_CHMSOCKLIST * cfg.max_chmpx_count * i64::from(cfg.max_sock_pool) * 2
}

fn pairs(list: &[HostPort]) -> String {
    ring::hostports_text(list.iter().map(|h| (h.name.as_str(), h.port)))
}

/// One chmpx entry. `ind` is the indent of the lines; `peers_ind` is the indent of the
/// cuk..reverse peers lines, which the original's `-self` output indents two more.
fn write_chmpx(o: &mut String, s: &ChmpxSvr, mode: &str, ind: &str, peers_ind: &str) {
    // The "=" is at column 46 in every layout.
    let line = |o: &mut String, ind: &str, name: &str, val: &str| {
        let width = 45usize.saturating_sub(ind.len());
        let _ = writeln!(o, "{ind}{name:<width$}= {val}");
    };
    line(o, ind, "chmpxid", &format!("0x{:016x}", s.chmpxid));
    line(o, ind, "hostname", &s.name);
    line(o, ind, "mode", mode);
    line(o, ind, "base hash", &format!("0x{:016x}", s.base_hash));
    line(
        o,
        ind,
        "pending hash",
        &format!("0x{:016x}", s.pending_hash),
    );
    line(o, ind, "port", &s.port.to_string());
    line(o, ind, "control port", &s.ctlport.to_string());
    line(o, peers_ind, "cuk", &s.cuk);
    line(o, peers_ind, "custom id seed", &s.custom_seed);
    line(o, peers_ind, "endpoints", &pairs(&s.endpoints));
    line(o, peers_ind, "control endpoints", &pairs(&s.ctlendpoints));
    line(o, peers_ind, "forward peers", &pairs(&s.forward_peers));
    line(o, peers_ind, "reverse peers", &pairs(&s.reverse_peers));
    line(o, ind, "ssl", yes_no(s.ssl.is_ssl));
    if s.ssl.is_ssl {
        line(o, ind, "verify client peer", yes_no(s.ssl.verify_peer));
        line(
            o,
            ind,
            "CA path is",
            if s.ssl.is_ca_file {
                "file"
            } else {
                "directory"
            },
        );
        line(o, ind, "CA path", &s.ssl.capath);
        line(o, ind, "server cert path", &s.ssl.server_cert);
        line(o, ind, "server private key path", &s.ssl.server_prikey);
        line(o, ind, "slave cert path", &s.ssl.slave_cert);
        line(o, ind, "slave private key path", &s.ssl.slave_prikey);
    }
    // No socket descriptors are shared by our chmpx: the original's values for none.
    line(o, ind, "sockets", "");
    line(o, ind, "listen socket", "-1");
    line(o, ind, "control socket", "-1");
    line(o, ind, "listen control socket", "-1");
    line(
        o,
        ind,
        "last status update time",
        &format!("{} (unix time)", s.last_status_time as u64),
    );
    line(o, ind, "status", &ring::status_text(s.status));
}

fn self_mode(snap: &Snapshot) -> &'static str {
    if snap.is_server {
        "server"
    } else {
        "slave"
    }
}

/// The `-self` output.
fn self_text(snap: &Snapshot) -> String {
    let mut o = String::new();
    write_chmpx(&mut o, &snap.self_rec, self_mode(snap), "  ", "    ");
    o
}

fn stat_block(o: &mut String, title: &str, c: &chmpx_core::node::Stat) {
    let _ = writeln!(o, "{title} = {{");
    // (the time each message took is not measured: 0, as the original's reads too)
    for (name, val) in [
        ("total send message count", c.sent.to_string()),
        ("total receive message count", c.received.to_string()),
        ("total body size", format!("{} (bytes)", c.bytes)),
        ("minimum body size", format!("{} (bytes)", c.min_bytes)),
        ("maximum body size", format!("{} (bytes)", c.max_bytes)),
        ("total elapsed time", "0ms 0us 0ns (0ns)".into()),
        ("minimum elapsed time", "0ms 0us 0ns (0ns)".into()),
        ("maximum elapsed time", "0ms 0us 0ns (0ns)".into()),
    ] {
        let _ = writeln!(o, "    {name:<41}= {val}");
    }
    let _ = writeln!(o, "}}");
}

/// The full output (no `-self`).
fn all_text(cfg: &ChmConfig, snap: &Snapshot) -> String {
    let mut o = String::new();
    let top = |o: &mut String, name: &str, val: &str| {
        let _ = writeln!(o, "{name:<45}= {val}");
    };
    let ctlport = cfg.self_ctlport;
    top(&mut o, "chmpx process id", &snap.pid.to_string());
    top(
        &mut o,
        "process start time",
        &format!("{} (unix time)", snap.start_time as u64),
    );
    top(
        &mut o,
        "chmpx shared memory file path",
        &original_file_path(&snap.group, ctlport, "chmpx"),
    );
    top(
        &mut o,
        "chmpx shared memory file size",
        &format!("{} (byte)", original_shm_size(cfg)),
    );
    top(&mut o, "chmpx info structure version", CHMINFO_VERSION);
    top(
        &mut o,
        "chmpx info structure size",
        &format!("{SIZEOF_CHMINFO} (byte)"),
    );
    top(
        &mut o,
        "k2hash file path",
        &original_file_path(&snap.group, ctlport, "k2h"),
    );
    top(&mut o, "k2hash full mapping", yes_no(cfg.k2h_fullmap));
    top(
        &mut o,
        "k2hash mask bit count",
        &cfg.k2h_mask_bitcnt.to_string(),
    );
    top(
        &mut o,
        "k2hash collision mask bit count",
        &cfg.k2h_cmask_bitcnt.to_string(),
    );
    top(
        &mut o,
        "k2hash maximum element count",
        &cfg.k2h_max_element.to_string(),
    );
    top(&mut o, "random mode", yes_no(cfg.is_random_mode));
    top(
        &mut o,
        "communication history count",
        &cfg.max_histlog_count.to_string(),
    );
    top(&mut o, "auto merge", yes_no(cfg.is_auto_merge));
    top(&mut o, "suspend auto merge", "no");
    top(
        &mut o,
        "merge processing(do merge)",
        yes_no(cfg.is_do_merge),
    );
    top(
        &mut o,
        "SSL/TLS minimum version",
        ssl_min_text(cfg.ssl_min_ver),
    );
    top(&mut o, "NSSDB directory path", &cfg.nssdb_dir);
    top(
        &mut o,
        "timeout for merge",
        &format!("{} (s)", cfg.timeout_merge),
    );
    top(
        &mut o,
        "thread count for socket",
        &cfg.sock_thread_cnt.to_string(),
    );
    top(
        &mut o,
        "thread count for MQ",
        &cfg.mq_thread_cnt.to_string(),
    );
    top(
        &mut o,
        "maximum socket count per chmpx(socket pool)",
        &cfg.max_sock_pool.to_string(),
    );
    top(
        &mut o,
        "timeout for socket pool",
        &format!("{} (s)", cfg.sock_pool_timeout),
    );
    top(&mut o, "retry count on socket", &cfg.retrycnt.to_string());
    top(
        &mut o,
        "timeout for send/receive on socket",
        &format!("{} (us)", cfg.timeout_wait_socket),
    );
    top(
        &mut o,
        "timeout for connect on socket",
        &format!("{} (us)", cfg.timeout_wait_connect),
    );
    // (sic: the original labels the MQ timeout like the socket one)
    top(
        &mut o,
        "timeout for send/receive on socket",
        &format!("{} (us)", cfg.timeout_wait_mq),
    );
    top(
        &mut o,
        "maximum MQ count",
        &(cfg.max_server_mq_cnt + cfg.max_client_mq_cnt).to_string(),
    );
    top(
        &mut o,
        "chmpx process MQ count",
        &cfg.max_server_mq_cnt.to_string(),
    );
    top(
        &mut o,
        "maximum queue per chmpx process MQ",
        &cfg.max_q_per_servermq.to_string(),
    );
    top(
        &mut o,
        "maximum queue per client process MQ",
        &cfg.max_q_per_clientmq.to_string(),
    );
    top(
        &mut o,
        "maximum MQ per client process",
        &cfg.max_mq_per_client.to_string(),
    );
    top(
        &mut o,
        "maximum MQ per attach",
        &cfg.mqcnt_per_attach.to_string(),
    );
    top(&mut o, "using MQ ACK", yes_no(cfg.mq_ack));
    top(&mut o, "retry count on MQ", &cfg.mq_retrycnt.to_string());
    top(&mut o, "base msgid", &format!("0x{:016x}", snap.base_msgid));
    o.push('\n');

    top(&mut o, "chmpx name", &snap.group);
    top(
        &mut o,
        "configuration file version",
        &cfg.revision.to_string(),
    );
    top(
        &mut o,
        "configuration file date",
        &format!("{} (unix time)", cfg.date as u64),
    );
    top(&mut o, "replication count", &cfg.replica_count.to_string());
    top(
        &mut o,
        "maximum chmpx count",
        &cfg.max_chmpx_count.to_string(),
    );
    let bhash = snap
        .servers
        .iter()
        .filter(|s| ring::is_basehash(s.status))
        .count();
    top(&mut o, "base hash count", &bhash.to_string());
    top(&mut o, "now operating", "no");
    top(
        &mut o,
        "last using random chmpxid",
        &format!("0x{:016x}", CHM_INVALID_CHMPXID),
    );

    let _ = writeln!(o, "self chmpx = {{");
    write_chmpx(&mut o, &snap.self_rec, self_mode(snap), "  ", "  ");
    let _ = writeln!(o, "}}");

    for (title, list, mode) in [
        ("server chmpxs", &snap.servers, "server"),
        ("slave chmpxs", &snap.slaves, "slave"),
    ] {
        let _ = writeln!(o, "{title} [ {} ] = {{", list.len());
        for (i, s) in list.iter().enumerate() {
            let _ = writeln!(o, "  [{i}] = {{");
            write_chmpx(&mut o, s, mode, "    ", "    ");
            let _ = writeln!(o, "  }}");
        }
        let _ = writeln!(o, "}}");
    }

    stat_block(&mut o, "server stat", &snap.stats.servers);
    stat_block(&mut o, "slave stat", &snap.stats.slaves);

    // The original's chmpx area: every server and slave entry plus the self entry of a slave.
    let used = snap.servers.len() + snap.slaves.len() + usize::from(!snap.is_server);
    let free_chmpx = (cfg.max_chmpx_count - used as i64).max(0);
    top(&mut o, "free chmpx area count", &free_chmpx.to_string());
    top(
        &mut o,
        "free sock area count",
        &(cfg.max_chmpx_count * i64::from(cfg.max_sock_pool) * 2).to_string(),
    );
    o.push('\n');

    // chmpx itself owns no message queue in our implementation.
    let _ = writeln!(o, "chmpx using MQ [ 0 ] = {{");
    let _ = writeln!(o, "}}");

    // The msgids handed to clients. The snapshot does not say which process owns which, so
    // the pid is known only when a single process is attached (else 0, CHM_INVALID_PID).
    let owner = match snap.client_pids.as_slice() {
        [one] => *one,
        _ => 0,
    };
    let _ = writeln!(o, "client process using MQ [ {} ] = {{", snap.msgids.len());
    for (i, m) in snap.msgids.iter().enumerate() {
        let _ = writeln!(o, "  [{i}] = {{");
        let _ = writeln!(o, "    {:<41}= 0x{m:016x}", "msgid");
        let _ = writeln!(o, "    {:<41}= [Assigned][Client][Activated]", "flag");
        let _ = writeln!(o, "    {:<41}= {owner}", "pid");
        let _ = writeln!(o, "  }}");
    }
    let _ = writeln!(o, "}}");
    let _ = writeln!(o, "assigned MQ [ 0 ] = {{");
    let _ = writeln!(o, "}}");
    let free_mq = (cfg.max_client_mq_cnt - snap.msgids.len() as i64).max(0);
    top(&mut o, "free MQ", &free_mq.to_string());
    top(
        &mut o,
        "last random msgid used by chmpx process",
        &format!("0x{:016x}", CHM_INVALID_MSGID),
    );
    top(
        &mut o,
        "last activated msgid",
        &format!(
            "0x{:016x}",
            snap.msgids.last().copied().unwrap_or(CHM_INVALID_MSGID)
        ),
    );
    top(
        &mut o,
        "last assigned msgid",
        &format!("0x{:016x}", CHM_INVALID_MSGID),
    );
    let _ = writeln!(o, "joining client process = {{");
    for (i, p) in snap.client_pids.iter().enumerate() {
        // A fixed run of blanks after the index, as the original's format.
        let _ = writeln!(o, "  [{i}] pid{:35}= {p}", "");
    }
    let _ = writeln!(o, "}}");
    o
}

/// Compares the LIVE, RING and SUSPEND parts of two status words.
fn status_matches(status: u64, target: u64) -> bool {
    let mask = CHMPXSTS_MASK_LIVE | CHMPXSTS_MASK_RING | CHMPXSTS_MASK_SUSPEND;
    status & mask == target & mask
}

/// The wait mode: polls the self status until it matches `target` or `timeout` seconds pass
/// (0: no limit; negative: fails at once, as the original does).
fn status_wait(group: &str, ctlport: i16, first: Snapshot, target: u64, timeout: i64) -> bool {
    let target_text = ring::status_text(target);
    let start = Instant::now();
    let deadline =
        (timeout != 0).then(|| start + Duration::from_secs(u64::try_from(timeout).unwrap_or(0)));
    let mut current = Some(Ok(first));
    let mut cnt = 0u64;
    let mut last_err: Option<Instant> = None;
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let got = current
            .take()
            .unwrap_or_else(|| client::snapshot(group, ctlport));
        match got {
            Ok(snap) => {
                let st = snap.self_rec.status;
                if status_matches(st, target) {
                    log::info!(
                        "[{cnt}] BREAK WAITING -> Status({}) is as same as {target_text}",
                        ring::status_text(st)
                    );
                    println!("SUCCEED");
                    return true;
                }
                log::info!(
                    "[{cnt}] WAIT -> Status({}) is not as same as {target_text}",
                    ring::status_text(st)
                );
            }
            Err(e) => {
                // At most once a second, as often as the original checks.
                let quiet = last_err.is_some_and(|t| t.elapsed() < Duration::from_secs(1));
                if !quiet {
                    err("Something error occurred in getting information.");
                    last_err = Some(Instant::now());
                }
                log::info!("[{cnt}] WAIT -> Could not set status info ({e})");
            }
        }
        cnt += 1;
        let sleep = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(WAIT_POLL),
            None => WAIT_POLL,
        };
        std::thread::sleep(sleep);
    }
    log::info!("[{cnt}] TIMEOUT -> Status was not {target_text}");
    println!("FAILED");
    false
}

fn attach_failed(reason: &str) -> ! {
    err("Could not initialize(attach) chmpx shared memory.");
    err(reason);
    println!("You can see detail about error, execute with \"-d\"(\"-g\") option.");
    exit(1);
}

/// Reads the `-wait` options into a target status word; `Err` holds the message.
fn wait_target(opts: &Opts) -> Result<u64, String> {
    if !opts.find("live") || !opts.find("ring") || !opts.find_any(&["nosuspend", "suspend"]) {
        return Err(
            "wait mode(-wait) needs -live, -ring and -nosuspend(or -suspend) option.".into(),
        );
    }
    let mut target = CHMPXSTS_VAL_NOACT | CHMPXSTS_VAL_NOTHING;
    let live = opts.get("live").unwrap_or_default();
    if live.eq_ignore_ascii_case("UP") {
        target |= CHMPXSTS_VAL_UP;
    } else if live.eq_ignore_ascii_case("DOWN") {
        target |= CHMPXSTS_VAL_DOWN;
    } else {
        return Err(format!(
            "wrong parameter({live}) is specified for \"-live\" option."
        ));
    }
    let ring = opts.get("ring").unwrap_or_default();
    if ring.eq_ignore_ascii_case("SERVICEIN") {
        target |= CHMPXSTS_VAL_SRVIN;
    } else if ring.eq_ignore_ascii_case("SERVICEOUT") {
        target |= CHMPXSTS_VAL_SRVOUT;
    } else if ring.eq_ignore_ascii_case("SLAVE") {
        target |= CHMPXSTS_VAL_SLAVE;
    } else {
        return Err(format!(
            "wrong parameter({ring}) is specified for \"-ring\" option."
        ));
    }
    if opts.find("nosuspend") {
        target |= CHMPXSTS_VAL_NOSUP;
    } else {
        target |= CHMPXSTS_VAL_SUSPEND;
    }
    Ok(target)
}

fn main() {
    let (_, _, opts) = toolcommon::start("chmpxstatus", help);

    // Debug output: as the original, silent unless -d says otherwise.
    if let Some(file) = opts.get_any(&["dfile", "gfile"]) {
        if !dbg::set_file(&file) {
            err(&format!(
                "Could not set debugging log file({file}), but continue..."
            ));
        }
    }
    dbg::set_level(dbg::Level::Silent);
    if let Some(mode) = opts.get_any(&["d", "g"]) {
        // The original's help offers "silent" but its parser refuses it; we take it.
        let level = match mode.to_ascii_uppercase().as_str() {
            "SILENT" | "SLT" => Some(dbg::Level::Silent),
            "ERR" | "ERROR" => Some(dbg::Level::Err),
            "WAN" | "WARNING" => Some(dbg::Level::Warn),
            "INF" | "INFO" | "MSG" => Some(dbg::Level::Msg),
            "DUMP" => Some(dbg::Level::Dump),
            _ => None,
        };
        match level {
            Some(l) => {
                dbg::set_level(l);
            }
            None => {
                err(&format!("Wrong parameter value \"-d\"(\"-g\") {mode}."));
                exit(1);
            }
        }
    }

    let config = opts.get_any(&["conf", "f", "json"]).unwrap_or_default();
    let ctlport = opts
        .get_any(&["ctlport", "cntlport", "cntrlport"])
        .map(|p| atoi(&p) as i16);
    let cuk = opts.get("cuk").filter(|c| !c.is_empty());

    // "Attach": the configuration names the group and the self control port.
    let who = SelfIdentity { ctlport, cuk };
    let cfg = match ChmConfig::load(&config, &who, true) {
        Ok((cfg, _)) => cfg,
        Err(e) => attach_failed(&format!("configuration: {e}")),
    };
    let snap = match client::snapshot(&cfg.group, cfg.self_ctlport) {
        Ok(s) => s,
        Err(e @ ClientError::NotRunning { .. }) => attach_failed(&e.to_string()),
        Err(e) => attach_failed(&format!("could not get the status of chmpx: {e}")),
    };

    let ok = if opts.find("wait") {
        let target = match wait_target(&opts) {
            Ok(t) => t,
            Err(m) => {
                err(&m);
                exit(1);
            }
        };
        let timeout = if opts.find("timeout") {
            match opts.get("timeout") {
                Some(t) => atoi(&t),
                None => {
                    err("\"-timeout\" option specified for \"-wait\", but argument(second) is not specified.");
                    exit(1);
                }
            }
        } else {
            0
        };
        status_wait(&cfg.group, cfg.self_ctlport, snap, target, timeout)
    } else {
        let text = if opts.find("self") {
            self_text(&snap)
        } else {
            all_text(&cfg, &snap)
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        true
    };
    exit(if ok { 0 } else { 1 });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shm_size_is_the_originals() {
        // Verified sizes: MAXCHMPX 8 / MAXMQSERVER 2 / MAXMQCLIENT 4 / MQPERATTACH 1 /
        // MAXHISTLOG 8192 / MAXSOCKPOOL 1 -> 643064; the original test_server.ini -> 622376.
        let mut c = ChmConfig {
            max_chmpx_count: 8,
            max_server_mq_cnt: 2,
            max_client_mq_cnt: 4,
            mqcnt_per_attach: 1,
            max_histlog_count: 8192,
            max_sock_pool: 1,
            ..ChmConfig::default()
        };
        assert_eq!(original_shm_size(&c), 643064);
        c.max_chmpx_count = 4;
        c.max_client_mq_cnt = 2;
        c.max_histlog_count = 10000;
        assert_eq!(original_shm_size(&c), 622376);
    }

    #[test]
    fn wait_matches_live_ring_suspend_only() {
        let target = CHMPXSTS_VAL_UP | CHMPXSTS_VAL_SRVIN | CHMPXSTS_VAL_NOSUP;
        assert!(status_matches(CHMPXSTS_SRVIN_UP_NORMAL, target));
        assert!(status_matches(CHMPXSTS_SRVIN_UP_MERGING, target));
        assert!(!status_matches(
            CHMPXSTS_SRVIN_UP_NORMAL | CHMPXSTS_VAL_SUSPEND,
            target
        ));
        assert!(!status_matches(CHMPXSTS_SRVOUT_UP_NORMAL, target));
    }

    #[test]
    fn entry_layout() {
        let rec = ChmpxSvr {
            chmpxid: 0x232e14b7ba0c76d8,
            name: "host".into(),
            port: -1,
            ctlport: 8022,
            status: CHMPXSTS_SRVOUT_UP_NORMAL | CHMPXSTS_VAL_SUSPEND,
            ..ChmpxSvr::default()
        };
        let mut o = String::new();
        write_chmpx(&mut o, &rec, "server", "  ", "    ");
        assert!(
            o.starts_with("  chmpxid                                    = 0x232e14b7ba0c76d8\n")
        );
        assert!(o.contains("\n    cuk                                      = \n"));
        assert!(o.contains(
            "\n  status                                     = SAFE -> [SERVICE OUT][UP][n/a][Nothing][Suspend]\n"
        ));
        let mut o = String::new();
        write_chmpx(&mut o, &rec, "slave", "    ", "    ");
        assert!(
            o.starts_with("    chmpxid                                  = 0x232e14b7ba0c76d8\n")
        );
    }
}
