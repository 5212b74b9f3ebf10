//! The control port: one ASCII command per TCP connection, answered with text (spec 7.5).
//! The response texts are the original's, typos included ("Control Endppoints",
//! "There no server on RING"), because chmpxlinetool and operators' scripts parse them.

use std::fmt::Write;

use crate::node::{Node, CHMPX_COMMIT, CHMPX_VERSION};
use crate::ring;
use crate::wire::*;

pub const RES_SUCCESS: &str = "SUCCEED\n";
pub const RES_SUCCESS_NOSERVER: &str = "SUCCEED: There no server on RING.\n";
pub const RES_SUCCESS_STATUS_NOTICE: &str = "SUCCEED: Send status notice to no server on RING.\n";
pub const RES_ERROR: &str = "ERROR: Something error is occured.\n";
pub const RES_SUCCESS_ALREADY_SRVOUT: &str = "SUCCEED: Already server has been SERVICEOUT.\n";
pub const RES_ERROR_COMMUNICATION: &str =
    "ERROR: Something error is occured in sending/receiving data on RING.\n";
pub const RES_ERROR_SOME_SERVERS: &str =
    "ERROR: Could not change status, because some servers could not be changed its status now.\n";
pub const RES_ERROR_OPERATING: &str =
    "ERROR: Could not change status, because server is operating now.\n";
pub const RES_ERROR_AUTO_MERGE: &str = "ERROR: Failed to start merging or complete merging.\n";
pub const RES_ERROR_COMMAND_ON_SERVER: &str =
    "ERROR: The command can not be executed on the slave node.\n";
pub const RES_ERROR_SERVICE_OUT_PARAM: &str = "ERROR: SERVICEOUT command must have parameter as server/ctlport.(ex: \"SERVICEOUT servername.fqdn:ctlport\")\n";
pub const RES_ERROR_MERGE_START: &str = "ERROR: Failed to start merging.\n";
pub const RES_ERROR_MERGE_ABORT: &str = "ERROR: Failed to stop merging.\n";
pub const RES_ERROR_MERGE_COMPLETE: &str = "ERROR: Failed to complete merging.\n";
pub const RES_ERROR_NOT_FOUND_SVR: &str = "ERROR: There is no such as server.\n";
pub const RES_ERROR_NOT_SERVERMODE: &str = "ERROR: Command must run on server mode.\n";
pub const RES_ERROR_STATUS_NOT_ALLOWED: &str =
    "ERROR: Could not change status, because status is not allowed.\n";
pub const RES_ERROR_TRACE_SET_PARAM: &str =
    "ERROR: TRACE command must have parameter as enable/disable.(ex: \"TRACE enable\")\n";
pub const RES_ERROR_TRACE_SET_ALREADY: &str = "ERROR: TRACE is already enabled/disabled.\n";
pub const RES_ERROR_TRACE_SET_FAILED: &str = "ERROR: Failed to set TRACE enable/disable.\n";
pub const RES_ERROR_TRACE_VIEW_NOTRACE: &str = "ERROR: Now trace count is 0.\n";
pub const RES_ERROR_TRACE_VIEW_PARAM: &str =
    "ERROR: TRACEVIEW command parameter is \"TRACEVIEW [DIR=IN/OUT/ALL] [DEV=SOCK/MQ/ALL] [COUNT]\"\n";
pub const RES_ERROR_TRACE_VIEW_NODATA: &str = "ERROR: There is no matched trace log now.\n";
pub const RES_ERROR_TRANSFER: &str =
    "ERROR: Failed to transfer command to other target server, something error occured on target server.\n";

/// Longest command read from a control connection.
pub const CTL_COMMAND_MAX_LENGTH: usize = 8192;

/// `chmpx_get_version()`.
pub fn version_string() -> String {
    format!("Version {CHMPX_VERSION} (commit: {CHMPX_COMMIT}) with rustls")
}

/// `CvtUpdateTimeToString`: `YYYY-MM-DD HHh MMm SSs <ms>ms <us>us` in local time.
pub fn update_time_text(t: i64) -> String {
    let (sec, usec) = ring::unpack_status_time(t);
    let mut tm: libc::tm = unsafe_zeroed_tm();
    let secs = sec as libc::time_t;
    // SAFETY: localtime_r writes into our tm; both pointers are valid for the call.
    unsafe { libc::localtime_r(&secs, &mut tm) };
    format!(
        "{:04}-{:02}-{:02} {:02}h {:02}m {:02}s {}ms {}us",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        usec / 1000,
        usec % 1000
    )
}

fn unsafe_zeroed_tm() -> libc::tm {
    // SAFETY: libc::tm is plain old data; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

fn pairs(list: &[HostPort]) -> String {
    ring::hostports_text(list.iter().map(|h| (h.name.as_str(), h.port)))
}

/// This chmpx's own record: a server's as the ring has it, a slave's own.
fn self_record(n: &Node) -> ChmpxSvr {
    if n.is_server {
        n.ring
            .get(n.chmpxid)
            .cloned()
            .unwrap_or_else(|| n.self_rec.clone())
    } else {
        n.self_rec.clone()
    }
}

/// `name = value` lines, the names `width` wide.
fn write_rows(o: &mut String, ind: &str, width: usize, rows: &[(&str, String)]) {
    for (name, value) in rows {
        let _ = writeln!(o, "{ind}{name:<width$}= {value}");
    }
}

/// The status of a record and when it changed (SELFSTATUS, ALLSTATUS).
fn status_rows(s: &ChmpxSvr) -> [(&'static str, String); 2] {
    [
        (
            "Server Status",
            format!("0x{:x}({})", s.status, ring::status_text(s.status)),
        ),
        (
            "Last Update",
            format!(
                "{}({})",
                update_time_text(s.last_status_time),
                s.last_status_time
            ),
        ),
    ]
}

/// The hash values of a record (SELFSTATUS, ALLSTATUS).
fn hash_rows(s: &ChmpxSvr) -> [(&'static str, String); 2] {
    [
        ("Enable Hash Value", format!("0x{:x}", s.base_hash)),
        ("Pending Hash Value", format!("0x{:x}", s.pending_hash)),
    ]
}

/// How a record is named and reached (SELFSTATUS, ALLSTATUS).
fn peer_rows(s: &ChmpxSvr) -> [(&'static str, String); 6] {
    [
        ("CUK", s.cuk.clone()),
        ("Custom ID Seed", s.custom_seed.clone()),
        ("Endpoints", pairs(&s.endpoints)),
        ("Control Endppoints", pairs(&s.ctlendpoints)),
        ("Forward Peers", pairs(&s.forward_peers)),
        ("Reverse Peers", pairs(&s.reverse_peers)),
    ]
}

/// The names of the SSL settings in SELFSTATUS and ALLSTATUS, and at start.
const SSL_NAMES: [&str; 7] = [
    "Verify Peer",
    "CA path type",
    "CA path",
    "Server Cert",
    "Server Private Key",
    "Slave Cert",
    "Slave Private Key",
];
const SSL_NAMES_AT_START: [&str; 7] = [
    "VERIFY PEER",
    "CA PATH TYPE",
    "CA PATH",
    "SERVER CERT",
    "SERVER PRIKEY",
    "SLAVE CERT",
    "SLAVE PRIKEY",
];

/// The SSL settings of a record in the original's words, or in capitals as chmpx prints
/// them at start.
fn ssl_rows(ssl: &ChmpxSsl, at_start: bool) -> [(&'static str, String); 7] {
    let (names, words) = if at_start {
        (SSL_NAMES_AT_START, ["YES", "NO", "FILE", "DIR"])
    } else {
        (SSL_NAMES, ["yes", "no", "file", "dir"])
    };
    let values = [
        words[if ssl.verify_peer { 0 } else { 1 }],
        words[if ssl.is_ca_file { 2 } else { 3 }],
        &ssl.capath,
        &ssl.server_cert,
        &ssl.server_prikey,
        &ssl.slave_cert,
        &ssl.slave_prikey,
    ];
    std::array::from_fn(|i| (names[i], values[i].to_string()))
}

/// SELFSTATUS.
pub fn self_status(n: &Node) -> String {
    let s = self_record(n);
    let mut o = String::new();
    let _ = writeln!(o, "Server Name               = {}", s.name);
    let _ = writeln!(o, "Internal ID               = 0x{:x}", s.chmpxid);
    let _ = writeln!(o, "RING Name                 = {}", n.cfg.group);
    let _ = writeln!(
        o,
        "Mode                      = {}",
        if n.is_server { "Server" } else { "Slave" }
    );
    let _ = writeln!(
        o,
        "Maximum MQ Count          = {}",
        n.cfg.max_server_mq_cnt + n.cfg.max_client_mq_cnt
    );
    let _ = writeln!(
        o,
        "Maximum Queue / Chmpx MQ  = {}",
        n.cfg.max_q_per_servermq
    );
    let _ = writeln!(
        o,
        "Maximum Queue / Client MQ = {}",
        n.cfg.max_q_per_clientmq
    );
    let _ = writeln!(o, "Status                    = {{");
    write_rows(&mut o, "    ", 22, &status_rows(&s));
    let _ = writeln!(o, "}}");
    let _ = writeln!(o, "Hash                      = {{");
    write_rows(&mut o, "    ", 22, &hash_rows(&s));
    let _ = writeln!(o, "}}");
    let _ = writeln!(o, "Connection                = {{");
    let _ = writeln!(o, "    Port(socket)          = {}(n/a)", s.port);
    let _ = writeln!(o, "    Control Port(socket)  = {}(n/a)", s.ctlport);
    write_rows(&mut o, "    ", 22, &peer_rows(&s));
    let _ = writeln!(o, "    SSL Connection        = {}", yes_no(s.ssl.is_ssl));
    if s.ssl.is_ssl {
        let _ = writeln!(o, "    SSL Parameters        = {{");
        write_rows(&mut o, "        ", 18, &ssl_rows(&s.ssl, false));
        // (sic: the original prints the slave key twice)
        let _ = writeln!(o, "        Slave Private Key = {}", s.ssl.slave_prikey);
        let _ = writeln!(o, "    }}");
    }
    let _ = writeln!(o, "}}");
    let _ = writeln!(o, "Connection Count          = {{");
    // (as the original: the servers it knows, itself included, connected or not)
    let _ = writeln!(o, "    To Servers            = {}", n.ring.servers.len());
    // (as the original: its slave list holds the servers that connected to it too)
    let from = n.slaves.len() + n.accepted_servers().len();
    let _ = writeln!(o, "    From Slaves           = {from}");
    let _ = writeln!(o, "    On Control port       = 1");
    let _ = writeln!(o, "}}");
    let st = n.stats;
    let _ = writeln!(o, "Stats                     = {{");
    // (the times each message took are not measured: 0, see docs/compat.md)
    for (label, c) in [
        ("To(From) Servers ", st.servers),
        ("To(From) Slaves  ", st.slaves),
    ] {
        let _ = writeln!(o, "    {label}     = {{");
        let _ = writeln!(o, "        send count        = {} count", c.sent);
        let _ = writeln!(o, "        receive count     = {} count", c.received);
        let _ = writeln!(o, "        total             = {} bytes", c.bytes);
        let _ = writeln!(o, "        minimum           = {} bytes", c.min_bytes);
        let _ = writeln!(o, "        maximum           = {} bytes", c.max_bytes);
        let _ = writeln!(o, "        total             = 0s 0ns");
        let _ = writeln!(o, "        minimum           = 0s 0ns");
        let _ = writeln!(o, "        maximum           = 0s 0ns");
        let _ = writeln!(o, "    }}");
    }
    let _ = writeln!(o, "}}");
    o
}

/// ALLSTATUS.
pub fn all_status(n: &Node) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "RING Name              = {}", n.cfg.group);
    for (i, s) in n.ring.servers.iter().enumerate() {
        let _ = writeln!(o, "No.{}", i + 1);
        let _ = writeln!(o, "  Server Name          = {}", s.name);
        let _ = writeln!(o, "    Port               = {}", s.port);
        let _ = writeln!(o, "    Control Port       = {}", s.ctlport);
        write_rows(&mut o, "    ", 19, &peer_rows(s));
        let _ = writeln!(o, "    Use SSL            = {}", yes_no(s.ssl.is_ssl));
        if s.ssl.is_ssl {
            write_rows(&mut o, "    ", 19, &ssl_rows(&s.ssl, false));
        }
        write_rows(&mut o, "    ", 19, &status_rows(s));
        write_rows(&mut o, "    ", 19, &hash_rows(s));
    }
    o
}

/// A value the original prints through `void*` (chmpxids, hashes, msgids, list heads):
/// `0` for zero, else `0x` and lower-case hex without padding.
fn ptr_text(v: u64) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("0x{v:x}")
    }
}

/// Our lists do not live in shared memory, so the "offset" fields of the DUMP have no real
/// value. They print `0` for an empty list (what the original prints then) and a small
/// non-zero stand-in otherwise, because readers (chmpxlinetool) test them against `0`.
fn list_head(count: usize) -> String {
    ptr_text(if count == 0 { 0 } else { 1 })
}

pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn true_false(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn seed_type_text(t: crate::config::ChmpxIdType) -> &'static str {
    use crate::config::ChmpxIdType;
    match t {
        ChmpxIdType::Name => "name",
        ChmpxIdType::Cuk => "cuk",
        ChmpxIdType::CtlEndpoints => "control endpoints",
        ChmpxIdType::Custom => "custom",
    }
}

/// `CHM_GET_STR_SSLTLS_VERSION`.
pub fn ssl_min_text(v: crate::config::SslMinVer) -> &'static str {
    use crate::config::SslMinVer;
    match v {
        SslMinVer::Default => "(default)",
        SslMinVer::SslV2 => "SSL v2",
        SslMinVer::SslV3 => "SSL v3",
        SslMinVer::TlsV1_0 => "TLS v1.0",
        SslMinVer::TlsV1_1 => "TLS v1.1",
        SslMinVer::TlsV1_2 => "TLS v1.2",
        SslMinVer::TlsV1_3 => "TLS v1.3",
    }
}

/// One CHMPX record (`chmpx_lap::Dump`). `socks` are the connections with that peer (ours to
/// a server in the server list, the peer's to us in the slave list), printed as the
/// original's socket list (our connection numbers stand in for descriptors): chmpxlinetool
/// counts them on both ends of every connection, also in rings mixed with the original.
fn dump_chmpx(o: &mut String, sp: &str, s: &ChmpxSvr, server: bool, socks: &[u64]) {
    let sock = if socks.is_empty() {
        "-1".to_string()
    } else {
        socks
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rows: [(&str, String); 26] = [
        ("chmpxid", ptr_text(s.chmpxid)),
        ("name", s.name.clone()),
        ("mode", (if server { "server" } else { "slave" }).into()),
        ("base_hash", ptr_text(s.base_hash)),
        ("pending_hash", ptr_text(s.pending_hash)),
        ("port", s.port.to_string()),
        ("ctlport", s.ctlport.to_string()),
        ("cuk", s.cuk.clone()),
        ("custom_seed", s.custom_seed.clone()),
        ("endpoints", pairs(&s.endpoints)),
        ("ctlendpoints", pairs(&s.ctlendpoints)),
        ("forward_peers", pairs(&s.forward_peers)),
        ("reverse_peers", pairs(&s.reverse_peers)),
        ("is_ssl", true_false(s.ssl.is_ssl).into()),
        ("verify_peer", true_false(s.ssl.verify_peer).into()),
        ("is_ca_file", true_false(s.ssl.is_ca_file).into()),
        ("capath", s.ssl.capath.clone()),
        ("server_cert", s.ssl.server_cert.clone()),
        ("server_prikey", s.ssl.server_prikey.clone()),
        ("slave_cert", s.ssl.slave_cert.clone()),
        ("slave_prikey", s.ssl.slave_prikey.clone()),
        ("sock", sock),
        ("ctlsock", "-1".into()),
        ("selfsock", "-1".into()),
        ("selfctlsock", "-1".into()),
        ("last_status_time", s.last_status_time.to_string()),
    ];
    for (k, v) in rows {
        let _ = writeln!(o, "{sp}{k:<16} = {v}");
    }
    let _ = writeln!(o, "{sp}status           = {}", ring::status_text(s.status));
}

/// A list the original keeps in shared memory (`chmpxlist_lap::Dump` and the like), when it
/// is not empty: `{`, each entry as `[n] = {` with its list links and what `entry` writes
/// (indented by the `&str` it is given), `}`. The links are stand-ins: entry k is "at"
/// k + 1, so the first has no prev, the last no next.
fn dump_list<T>(o: &mut String, sp: &str, items: &[T], entry: impl Fn(&mut String, &str, &T)) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(o, "{sp}{{");
    let n = items.len() as u64;
    let inner = format!("{sp}    ");
    for (i, item) in items.iter().enumerate() {
        let i = i as u64;
        let _ = writeln!(o, "{sp}  [{i}] = {{");
        let _ = writeln!(o, "{inner}prev = {}", ptr_text(i));
        let _ = writeln!(
            o,
            "{inner}next = {}",
            ptr_text(if i + 1 < n { i + 2 } else { 0 })
        );
        entry(o, &inner, item);
        let _ = writeln!(o, "{sp}  }}");
    }
    let _ = writeln!(o, "{sp}}}");
}

/// A list of CHMPX records with their connections: `same` and `chmpx{...}` in each entry.
fn dump_chmpx_list(o: &mut String, sp: &str, list: &[(ChmpxSvr, Vec<u64>)], server: bool) {
    dump_list(o, sp, list, |o, ind, (s, socks)| {
        let _ = writeln!(o, "{ind}same = 0");
        let _ = writeln!(o, "{ind}chmpx{{");
        dump_chmpx(o, &format!("{ind}  "), s, server, socks);
        let _ = writeln!(o, "{ind}}}");
    });
}

/// A hash slot array: the chmpxid of the server whose `hash` is each slot.
fn dump_slots(
    o: &mut String,
    sp: &str,
    count: u64,
    servers: &[ChmpxSvr],
    hash: fn(&ChmpxSvr) -> u64,
) {
    let _ = writeln!(o, "{sp}[{count}] {{");
    for slot in 0..count {
        let id = servers
            .iter()
            .find(|s| hash(s) == slot)
            .map(|s| s.chmpxid)
            .unwrap_or(CHM_INVALID_CHMPXID);
        let _ = writeln!(o, "{sp}  [{slot}] = 0x{id:x}");
    }
    let _ = writeln!(o, "{sp}}}");
}

/// `chmstat_lap::Dump`.
fn dump_stat(o: &mut String, sp: &str, c: &crate::node::Stat) {
    let _ = writeln!(o, "{sp}total_sent_count     = {}", c.sent);
    let _ = writeln!(o, "{sp}total_received_count = {}", c.received);
    let _ = writeln!(o, "{sp}total_body_bytes     = {}", c.bytes);
    let _ = writeln!(o, "{sp}min_body_bytes       = {}", c.min_bytes);
    let _ = writeln!(o, "{sp}max_body_bytes       = {}", c.max_bytes);
    let _ = writeln!(o, "{sp}total_elapsed_time   = 0s 0ns");
    let _ = writeln!(o, "{sp}min_elapsed_time     = 0s 0ns");
    let _ = writeln!(o, "{sp}max_elapsed_time     = 0s 0ns");
}

/// `chmpxman_lap::Dump`: the group, the hash slot arrays, self, servers, slaves, counters.
fn dump_chmpx_man(o: &mut String, n: &Node, me: &ChmpxSvr) {
    let sp = "  ";
    let servers = &n.ring.servers;
    let server_list: Vec<(ChmpxSvr, Vec<u64>)> = servers
        .iter()
        .map(|s| (s.clone(), n.socks_to(s.chmpxid)))
        .collect();
    let mut slaves: Vec<(ChmpxSvr, Vec<u64>)> = n
        .slaves
        .values()
        .map(|s| (s.record.clone(), n.socks_from(s.record.chmpxid)))
        .collect();
    for s in n.accepted_servers() {
        let mut rec = s.clone();
        rec.status = CHMPXSTS_SLAVE_UP_NORMAL;
        rec.base_hash = CHM_INVALID_HASHVAL;
        rec.pending_hash = CHM_INVALID_HASHVAL;
        rec.port = CHM_INVALID_PORT;
        slaves.push((rec, n.socks_from(s.chmpxid)));
    }
    let _ = writeln!(o, "{sp}group              = {}", n.cfg.group);
    let _ = writeln!(o, "{sp}cfg_revision       = {}", n.cfg.revision);
    let _ = writeln!(o, "{sp}cfg_date           = {}", n.cfg.date);
    let _ = writeln!(o, "{sp}replica_count      = {}", n.cfg.replica_count);
    let _ = writeln!(o, "{sp}chmpx_count        = {}", n.cfg.max_chmpx_count);
    let _ = writeln!(o, "{sp}chmpxid_map[4096]");
    // Base and pending slot arrays: the chmpxid owning each slot.
    let bcount = n.ring.base_count();
    let _ = writeln!(o, "{sp}chmpx_base_srvs    = {}", ptr_text(1));
    dump_slots(o, sp, bcount, servers, |s| s.base_hash);
    let _ = writeln!(o, "{sp}chmpx_pend_srvs    = {}", ptr_text(1));
    dump_slots(o, sp, servers.len() as u64, servers, |s| s.pending_hash);
    let _ = writeln!(o, "{sp}chmpx_self         = {}", ptr_text(1));
    let _ = writeln!(o, "{sp}{{");
    dump_chmpx(o, "    ", me, n.is_server, &[]);
    let _ = writeln!(o, "{sp}}}");
    let _ = writeln!(o, "{sp}chmpx_bhash_count  = {bcount}");
    let _ = writeln!(o, "{sp}chmpx_server_count = {}", servers.len());
    let _ = writeln!(o, "{sp}chmpx_servers      = {}", list_head(servers.len()));
    dump_chmpx_list(o, sp, &server_list, true);
    let _ = writeln!(o, "{sp}chmpx_slave_count  = {}", slaves.len());
    let _ = writeln!(o, "{sp}chmpx_slaves       = {}", list_head(slaves.len()));
    dump_chmpx_list(o, sp, &slaves, false);
    let free = (n.cfg.max_chmpx_count.max(0) as usize).saturating_sub(servers.len() + slaves.len());
    let _ = writeln!(o, "{sp}chmpx_free_count   = {free}");
    let _ = writeln!(o, "{sp}chmpx_frees        = {}", list_head(free));
    let _ = writeln!(o, "{sp}sock_free_count    = 0");
    let _ = writeln!(o, "{sp}sock_frees         = 0");
    let _ = writeln!(o, "{sp}is_operating       = {}", yes_no(n.ring.operating));
    let _ = writeln!(o, "{sp}last_chmpxid       = 0x{CHM_INVALID_CHMPXID:x}");
    let st = n.stats;
    let _ = writeln!(o, "{sp}server_stat{{");
    dump_stat(o, "    ", &st.servers);
    let _ = writeln!(o, "{sp}}}");
    let _ = writeln!(o, "{sp}slave_stat{{");
    dump_stat(o, "    ", &st.slaves);
    let _ = writeln!(o, "{sp}}}");
}

/// DUMP: the whole state of this chmpx in the layout of the original's `ChmIMData::Dump`
/// (chminfo, chmpx_man, self, servers and slaves with every CHMPX field), which operators and
/// chmpxlinetool read. What this chmpx does not have (the shared-memory file, its offsets,
/// the chmpx MQs, socket numbers, the trace log) prints as the original prints it empty.
pub fn dump_text(n: &Node) -> String {
    let me = self_record(n);
    let c = &n.cfg;
    let rule = "==========================================================================";
    let mut o = String::new();
    let _ = writeln!(o, "{rule}");
    let _ = writeln!(o, "Shared memory file path   = ");
    let _ = writeln!(o, "Shared memory file size   = 0");
    let _ = writeln!(o, "Shared memory file fd     = -1");
    let _ = writeln!(o, "Shared memory file Object = 0");
    let _ = writeln!(o, "Configuration object      = 0");
    let _ = writeln!(o, "K2HASH Object             = ");
    let _ = writeln!(o, "{rule}");
    let _ = writeln!(o, "Shared memory file Object");
    let _ = writeln!(
        o,
        "--------------------------------------------------------------------------"
    );
    let msgids = n.activated_msgids();
    let pids = n.client_pids();
    // The owner of each msgid is not exposed by the node; with a single client it is known.
    let owner: i64 = if pids.len() == 1 { pids[0] as i64 } else { -1 };
    let free_msgs = (c.max_client_mq_cnt.max(0) as usize).saturating_sub(msgids.len());
    let head: [(&str, String); 30] = [
        ("CHMINFO version", "CHMINFO_VERSION 1.1".into()),
        ("CHMINFO size", "34704".into()),
        ("pid", n.pid.to_string()),
        ("start_time", n.start_time.to_string()),
        ("chmpxid_type", seed_type_text(c.chmpxid_type).into()),
        ("is_random_deliver", true_false(c.is_random_mode).into()),
        ("automerge in conf", yes_no(c.is_auto_merge).into()),
        ("suspend automerge", yes_no(n.auto_merge_suspend).into()),
        ("domerge in conf", yes_no(c.is_do_merge).into()),
        ("SSL/TLS min version", ssl_min_text(c.ssl_min_ver).into()),
        ("NSSDB dir path", c.nssdb_dir.clone()),
        ("socket thread count", c.sock_thread_cnt.to_string()),
        ("MQ thread count", c.mq_thread_cnt.to_string()),
        (
            "max_mqueue",
            (c.max_server_mq_cnt + c.max_client_mq_cnt).to_string(),
        ),
        ("chmpx_mqueue", c.max_server_mq_cnt.to_string()),
        ("max_q_per_chmpxmq", c.max_q_per_servermq.to_string()),
        ("max_q_per_cltmq", c.max_q_per_clientmq.to_string()),
        ("max_mq_per_client", c.max_mq_per_client.to_string()),
        ("mq_per_attach", c.mqcnt_per_attach.to_string()),
        ("mq_ack", true_false(c.mq_ack).into()),
        ("Max socket pool", c.max_sock_pool.to_string()),
        ("sock pool timeout", c.sock_pool_timeout.to_string()),
        ("sock retry count", c.retrycnt.to_string()),
        ("sock timeout", c.timeout_wait_socket.to_string()),
        ("connect timeout", c.timeout_wait_connect.to_string()),
        ("MQ retry count", c.mq_retrycnt.to_string()),
        ("MQ timeout", c.timeout_wait_mq.to_string()),
        ("merge timeout", c.timeout_merge.to_string()),
        ("base_msgid", n.base_msgid.to_string()),
        // This chmpx has no MQs of its own.
        ("chmpx_msg_count", "0".into()),
    ];
    for (k, v) in head {
        let _ = writeln!(o, "{k:<20} = {v}");
    }
    let _ = writeln!(o, "chmpx_msgs           = 0");
    let _ = writeln!(o, "activated_msg_count  = {}", msgids.len());
    let _ = writeln!(o, "activated_msgs       = {}", list_head(msgids.len()));
    dump_list(&mut o, "", &msgids, |o, ind, m| {
        let _ = writeln!(o, "{ind}msghead{{");
        let _ = writeln!(o, "{ind}  msgid  = {}", ptr_text(*m));
        let _ = writeln!(o, "{ind}  pid    = {owner}");
        let _ = writeln!(o, "{ind}  flag   = 0xb - [Client][Assigned][Activated]");
        let _ = writeln!(o, "{ind}}}");
    });
    let _ = writeln!(o, "assigned_msg_count   = 0");
    let _ = writeln!(o, "assigned_msgs        = 0");
    let _ = writeln!(o, "free_msg_count       = {free_msgs}");
    let _ = writeln!(o, "free_msgs            = {}", list_head(free_msgs));
    let last_act = msgids.last().copied().unwrap_or(CHM_INVALID_MSGID);
    let _ = writeln!(o, "last_msgid_chmpx     = 0x{CHM_INVALID_MSGID:x}");
    let _ = writeln!(o, "last_msgid_activated = 0x{last_act:x}");
    let _ = writeln!(o, "last_msgid_assigned  = 0x{CHM_INVALID_MSGID:x}");
    let _ = writeln!(o, "chmpx_man{{");
    dump_chmpx_man(&mut o, n, &me);
    let _ = writeln!(o, "}}");
    let _ = writeln!(o, "rel_chmpxmsgarea     = 0");
    let _ = writeln!(o, "client_pids          = {}", list_head(pids.len()));
    dump_list(&mut o, "", &pids, |o, ind, p| {
        let _ = writeln!(o, "{ind}pid  = {p}");
    });
    let _ = writeln!(o, "free_pids            = 0");
    let _ = writeln!(o, "k2hash full map      = {}", yes_no(c.k2h_fullmap));
    let _ = writeln!(o, "init k2h mask bit    = {}", c.k2h_mask_bitcnt);
    let _ = writeln!(o, "init k2h cmask bit   = {}", c.k2h_cmask_bitcnt);
    let _ = writeln!(o, "k2hash max element   = {}", c.k2h_max_element);
    let _ = writeln!(o, "history log count    = {}", c.max_histlog_count);
    let _ = writeln!(o, "{rule}");
    o
}

/// Commands only a server runs (a slave answers [`RES_ERROR_COMMAND_ON_SERVER`]). As the
/// original, a slave answers MERGE, COMPMERGE and ABORTMERGE with [`RES_SUCCESS_NOSERVER`] (it
/// is on no ring) and passes SERVICEOUT of a server that is up on to it.
const SERVER_ONLY_COMMANDS: [&str; 3] = ["SUSPENDMERGE", "NOSUSPENDMERGE", "UPDATESTATUS"];

/// The answer to a command that succeeds or fails with a message.
fn result_text(r: Result<(), &'static str>) -> String {
    match r {
        Ok(()) => RES_SUCCESS.into(),
        Err(e) => e.into(),
    }
}

/// The answer to a command whose success text depends on the ring (or its error text).
fn text_of(r: Result<String, String>) -> String {
    match r {
        Ok(t) | Err(t) => t,
    }
}

/// The CAPS answer of a server that sends the answer to a request from a slave back on the
/// connection the request came on (so a client of the slave may send on a link of its own).
pub const CAPS_DIRECT_LINK: &str = "CAPS DIRECTLINK";
/// A second CAPS line of a server whose own client (the k2hdkc server) takes links over and
/// answers on them itself (`crate::served`): a client may ask for that on its link.
pub const CAPS_SERVE_LINK: &str = "CAPS SERVELINK";

/// Runs one control command and returns the response text. Commands that would have to reach
/// another node (SERVICEOUT of a remote server) return `Err(remote)` with what to send where.
pub fn command(n: &mut Node, text: &str) -> Result<String, Remote> {
    let text = text.trim_end_matches('\0');
    let mut words = text.split_whitespace();
    let Some(cmd) = words.next() else {
        return Ok(String::new());
    };
    let up = cmd.to_ascii_uppercase();
    if !n.is_server && SERVER_ONLY_COMMANDS.contains(&up.as_str()) {
        return Ok(RES_ERROR_COMMAND_ON_SERVER.into());
    }
    Ok(match up.as_str() {
        "VERSION" => format!("{}\n", version_string()),
        // ours only (the original answers "Unknown command(CAPS)"): what a client may do
        // beyond the original's protocol; `crate::direct` asks it before it links
        "CAPS" => {
            if n.serves_links() {
                format!("{CAPS_DIRECT_LINK}\n{CAPS_SERVE_LINK}\n")
            } else if n.is_server {
                format!("{CAPS_DIRECT_LINK}\n")
            } else {
                "\n".into()
            }
        }
        "DUMP" => dump_text(n),
        "SELFSTATUS" => self_status(n),
        "ALLSTATUS" => all_status(n),
        "SERVICEIN" => text_of(n.service_in()),
        "SERVICEOUT" => {
            let Some(arg) = words.next() else {
                return Ok(RES_ERROR_SERVICE_OUT_PARAM.into());
            };
            let parts: Vec<&str> = arg.split(':').collect();
            if parts.len() < 2 {
                return Ok(RES_ERROR_SERVICE_OUT_PARAM.into());
            }
            // (ours also takes another name of the server, e.g. the one in the configuration
            // where the ring shows it under this host's name; the original only the name the
            // ring shows)
            let (host, port) = (parts[0], crate::config::hosts::parse_atoi(parts[1]) as i16);
            let target = n
                .ring
                .servers
                .iter()
                .find(|s| {
                    s.ctlport == port
                        && (s.name.eq_ignore_ascii_case(host)
                            || crate::config::hosts::host_names(host)
                                .iter()
                                .any(|h| h.eq_ignore_ascii_case(&s.name)))
                })
                .cloned();
            let Some(target) = target else {
                return Ok(RES_ERROR_NOT_FOUND_SVR.into());
            };
            if !n.is_server && ring::is_down(target.status) {
                // (a slave cannot take a server that is down out on its behalf)
                return Ok(RES_ERROR_COMMAND_ON_SERVER.into());
            }
            if target.chmpxid == n.chmpxid {
                text_of(n.service_out())
            } else if !ring::is_down(target.status) {
                return Err(Remote {
                    host: target.name.clone(),
                    port: target.ctlport as u16,
                    command: text.to_string(),
                });
            } else {
                text_of(n.service_out_down(target.chmpxid))
            }
        }
        "MERGE" | "COMPMERGE" | "ABORTMERGE" if !n.is_server => RES_SUCCESS_NOSERVER.into(),
        "MERGE" => text_of(n.merge_request()),
        "COMPMERGE" => text_of(n.merge_complete_request()),
        "ABORTMERGE" => n.merge_abort_request().into(),
        "SUSPENDMERGE" | "NOSUSPENDMERGE" => {
            n.set_merge_suspend(up == "SUSPENDMERGE");
            RES_SUCCESS.into()
        }
        "UPDATESTATUS" => {
            if n.push_status() == 0 {
                RES_SUCCESS_STATUS_NOTICE.into()
            } else {
                RES_SUCCESS.into()
            }
        }
        "TRACE" => match words.next().map(|w| w.to_ascii_uppercase()).as_deref() {
            Some("ENABLE" | "YES" | "ON") => result_text(n.trace_set(true)),
            Some("DISABLE" | "NO" | "OFF") => result_text(n.trace_set(false)),
            _ => RES_ERROR_TRACE_SET_PARAM.into(),
        },
        "TRACEVIEW" => trace_view(n, words),
        _ => format!("Unknown command({cmd})\n"),
    })
}

/// A command to pass on to another node's control port (its answer is ours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub host: String,
    pub port: u16,
    pub command: String,
}

/// The banner of `chmpx -v` and `chmpx_print_version`.
pub fn version_banner() -> String {
    format!(
        "\nCHMPX Version {CHMPX_VERSION} (commit: {CHMPX_COMMIT}) with rustls\n\n\
         Copyright(C) 2014 Yahoo Japan Corporation.\n\n\
         CHMPX is inprocess data exchange by MQ with consistent hashing.\n\
         CHMPX is made for the purpose of the construction of original\n\
         messaging system and the offer of the client library. CHMPX\n\
         transfers messages between the client and the server/slave. CHMPX\n\
         based servers are dispersed by consistent hashing and are\n\
         automatically laid out. As a result, it provides a high performance,\n\
         a high scalability.\n\n"
    )
}

/// What chmpx prints about itself once it is up (`DumpSelfChmpxSvr`).
pub fn startup_text(n: &Node) -> String {
    let s = self_record(n);
    let mut o = String::new();
    let _ = writeln!(o, "CHMPX HOSTNAME            = {}", s.name);
    let _ = writeln!(
        o,
        "MODE                      = {}",
        if n.is_server { "SERVER" } else { "SLAVE" }
    );
    let _ = writeln!(o, "PORT                      = {}", s.port);
    let _ = writeln!(o, "CONTROL PORT              = {}", s.ctlport);
    let _ = writeln!(
        o,
        "SSL                       = {}",
        if s.ssl.is_ssl { "YES" } else { "NO" }
    );
    if s.ssl.is_ssl {
        write_rows(&mut o, "", 26, &ssl_rows(&s.ssl, true));
    }
    let _ = writeln!(o, "BASE HASH                 = {:x}", s.base_hash);
    let _ = writeln!(
        o,
        "STATUS                    = {}",
        ring::status_text(s.status)
    );
    o
}

/// TRACEVIEW [DIR=IN|OUT|ALL] [DEV=SOCK|MQ|ALL] [COUNT].
fn trace_view<'a>(n: &Node, words: impl Iterator<Item = &'a str>) -> String {
    use crate::node::{CHMLOG_TYPE_INPUT, CHMLOG_TYPE_MQ, CHMLOG_TYPE_OUTPUT, CHMLOG_TYPE_SOCKET};
    let total = n.trace_count();
    if total == 0 {
        return RES_ERROR_TRACE_VIEW_NOTRACE.into();
    }
    let (mut dir, mut dev, mut count) = (0u64, 0u64, total);
    for w in words {
        if let Some(v) = w.strip_prefix("DIR=") {
            dir |= match v.to_ascii_uppercase().as_str() {
                "IN" => CHMLOG_TYPE_INPUT,
                "OUT" => CHMLOG_TYPE_OUTPUT,
                "ALL" => CHMLOG_TYPE_INPUT | CHMLOG_TYPE_OUTPUT,
                _ => return RES_ERROR_TRACE_VIEW_PARAM.into(),
            };
        } else if let Some(v) = w.strip_prefix("DEV=") {
            dev |= match v.to_ascii_uppercase().as_str() {
                "SOCK" => CHMLOG_TYPE_SOCKET,
                "MQ" => CHMLOG_TYPE_MQ,
                "ALL" => CHMLOG_TYPE_SOCKET | CHMLOG_TYPE_MQ,
                _ => return RES_ERROR_TRACE_VIEW_PARAM.into(),
            };
        } else {
            // (as the original: 0 or more than the log holds is an error, a negative count
            // means all)
            let c = crate::config::hosts::parse_atoi(w);
            if c == 0 || i64::from(c) > total as i64 {
                return RES_ERROR_TRACE_VIEW_PARAM.into();
            }
            count = if c < 0 { total } else { c as usize };
        }
    }
    if dir == 0 {
        dir = CHMLOG_TYPE_INPUT | CHMLOG_TYPE_OUTPUT;
    }
    if dev == 0 {
        dev = CHMLOG_TYPE_SOCKET | CHMLOG_TYPE_MQ;
    }
    let text = n.trace_view(dir, dev, count);
    if text.is_empty() {
        RES_ERROR_TRACE_VIEW_NODATA.into()
    } else {
        text
    }
}
