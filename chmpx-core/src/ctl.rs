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
pub const RES_ERROR_TRACE_VIEW_NOTRACE: &str = "ERROR: Now trace count is 0.\n";
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

/// SELFSTATUS.
pub fn self_status(n: &Node) -> String {
    let s = n
        .ring
        .get(n.chmpxid)
        .cloned()
        .unwrap_or_else(|| n.self_rec.clone());
    let s = if n.is_server { s } else { n.self_rec.clone() };
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
    let _ = writeln!(
        o,
        "    Server Status         = 0x{:x}({})",
        s.status,
        ring::status_text(s.status)
    );
    let _ = writeln!(
        o,
        "    Last Update           = {}({})",
        update_time_text(s.last_status_time),
        s.last_status_time
    );
    let _ = writeln!(o, "}}");
    let _ = writeln!(o, "Hash                      = {{");
    let _ = writeln!(o, "    Enable Hash Value     = 0x{:x}", s.base_hash);
    let _ = writeln!(o, "    Pending Hash Value    = 0x{:x}", s.pending_hash);
    let _ = writeln!(o, "}}");
    let _ = writeln!(o, "Connection                = {{");
    let _ = writeln!(o, "    Port(socket)          = {}(n/a)", s.port);
    let _ = writeln!(o, "    Control Port(socket)  = {}(n/a)", s.ctlport);
    let _ = writeln!(o, "    CUK                   = {}", s.cuk);
    let _ = writeln!(o, "    Custom ID Seed        = {}", s.custom_seed);
    let _ = writeln!(o, "    Endpoints             = {}", pairs(&s.endpoints));
    let _ = writeln!(o, "    Control Endppoints    = {}", pairs(&s.ctlendpoints));
    let _ = writeln!(o, "    Forward Peers         = {}", pairs(&s.forward_peers));
    let _ = writeln!(o, "    Reverse Peers         = {}", pairs(&s.reverse_peers));
    let _ = writeln!(
        o,
        "    SSL Connection        = {}",
        if s.ssl.is_ssl { "yes" } else { "no" }
    );
    if s.ssl.is_ssl {
        let _ = writeln!(o, "    SSL Parameters        = {{");
        let _ = writeln!(
            o,
            "        Verify Peer       = {}",
            if s.ssl.verify_peer { "yes" } else { "no" }
        );
        let _ = writeln!(
            o,
            "        CA path type      = {}",
            if s.ssl.is_ca_file { "file" } else { "dir" }
        );
        let _ = writeln!(o, "        CA path           = {}", s.ssl.capath);
        let _ = writeln!(o, "        Server Cert       = {}", s.ssl.server_cert);
        let _ = writeln!(o, "        Server Private Key= {}", s.ssl.server_prikey);
        let _ = writeln!(o, "        Slave Cert        = {}", s.ssl.slave_cert);
        let _ = writeln!(o, "        Slave Private Key = {}", s.ssl.slave_prikey);
        let _ = writeln!(o, "        Slave Private Key = {}", s.ssl.slave_prikey);
        let _ = writeln!(o, "    }}");
    }
    let _ = writeln!(o, "}}");
    let _ = writeln!(o, "Connection Count          = {{");
    let _ = writeln!(o, "    To Servers            = {}", n.connected_servers());
    let _ = writeln!(o, "    From Slaves           = {}", n.slaves.len());
    let _ = writeln!(o, "    On Control port       = 1");
    let _ = writeln!(o, "}}");
    let st = n.stats;
    let _ = writeln!(o, "Stats                     = {{");
    for (label, sent, recv, bytes) in [
        (
            "To(From) Servers ",
            st.sent,
            st.received,
            st.sent_bytes + st.received_bytes,
        ),
        ("To(From) Slaves  ", 0, 0, 0),
    ] {
        let _ = writeln!(o, "    {label}     = {{");
        let _ = writeln!(o, "        send count        = {sent} count");
        let _ = writeln!(o, "        receive count     = {recv} count");
        let _ = writeln!(o, "        total             = {bytes} bytes");
        let _ = writeln!(o, "        minimum           = 0 bytes");
        let _ = writeln!(o, "        maximum           = 0 bytes");
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
        let _ = writeln!(o, "    CUK                = {}", s.cuk);
        let _ = writeln!(o, "    Custom ID Seed     = {}", s.custom_seed);
        let _ = writeln!(o, "    Endpoints          = {}", pairs(&s.endpoints));
        let _ = writeln!(o, "    Control Endppoints = {}", pairs(&s.ctlendpoints));
        let _ = writeln!(o, "    Forward Peers      = {}", pairs(&s.forward_peers));
        let _ = writeln!(o, "    Reverse Peers      = {}", pairs(&s.reverse_peers));
        let _ = writeln!(
            o,
            "    Use SSL            = {}",
            if s.ssl.is_ssl { "yes" } else { "no" }
        );
        if s.ssl.is_ssl {
            let _ = writeln!(
                o,
                "    Verify Peer        = {}",
                if s.ssl.verify_peer { "yes" } else { "no" }
            );
            let _ = writeln!(
                o,
                "    CA path type       = {}",
                if s.ssl.is_ca_file { "file" } else { "dir" }
            );
            let _ = writeln!(o, "    CA path            = {}", s.ssl.capath);
            let _ = writeln!(o, "    Server Cert        = {}", s.ssl.server_cert);
            let _ = writeln!(o, "    Server Private Key = {}", s.ssl.server_prikey);
            let _ = writeln!(o, "    Slave Cert         = {}", s.ssl.slave_cert);
            let _ = writeln!(o, "    Slave Private Key  = {}", s.ssl.slave_prikey);
        }
        let _ = writeln!(
            o,
            "    Server Status      = 0x{:x}({})",
            s.status,
            ring::status_text(s.status)
        );
        let _ = writeln!(
            o,
            "    Last Update        = {}({})",
            update_time_text(s.last_status_time),
            s.last_status_time
        );
        let _ = writeln!(o, "    Enable Hash Value  = 0x{:x}", s.base_hash);
        let _ = writeln!(o, "    Pending Hash Value = 0x{:x}", s.pending_hash);
    }
    o
}

fn dump_chmpx(o: &mut String, indent: &str, s: &ChmpxSvr) {
    let _ = writeln!(o, "{indent}chmpxid              = 0x{:016x}", s.chmpxid);
    let _ = writeln!(o, "{indent}name                 = {}", s.name);
    let _ = writeln!(o, "{indent}base_hash            = 0x{:016x}", s.base_hash);
    let _ = writeln!(
        o,
        "{indent}pending_hash         = 0x{:016x}",
        s.pending_hash
    );
    let _ = writeln!(o, "{indent}port                 = {}", s.port);
    let _ = writeln!(o, "{indent}ctlport              = {}", s.ctlport);
    let _ = writeln!(o, "{indent}cuk                  = {}", s.cuk);
    let _ = writeln!(o, "{indent}custom_seed          = {}", s.custom_seed);
    let _ = writeln!(o, "{indent}endpoints            = {}", pairs(&s.endpoints));
    let _ = writeln!(
        o,
        "{indent}ctlendpoints         = {}",
        pairs(&s.ctlendpoints)
    );
    let _ = writeln!(
        o,
        "{indent}forward_peers        = {}",
        pairs(&s.forward_peers)
    );
    let _ = writeln!(
        o,
        "{indent}reverse_peers        = {}",
        pairs(&s.reverse_peers)
    );
    let _ = writeln!(
        o,
        "{indent}is_ssl               = {}",
        if s.ssl.is_ssl { "yes" } else { "no" }
    );
    let _ = writeln!(o, "{indent}last_status_time     = {}", s.last_status_time);
    let _ = writeln!(
        o,
        "{indent}status               = 0x{:x}({})",
        s.status,
        ring::status_text(s.status)
    );
}

/// DUMP: the whole state of this chmpx.
pub fn dump_text(n: &Node) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "chminfo{{");
    let _ = writeln!(o, "  pid                    = {}", n.pid);
    let _ = writeln!(o, "  start_time             = {}", n.start_time);
    let _ = writeln!(o, "  chmpx_man{{");
    let _ = writeln!(o, "    group                = {}", n.cfg.group);
    let _ = writeln!(o, "    cfg_revision         = {}", n.cfg.revision);
    let _ = writeln!(o, "    cfg_date             = {}", n.cfg.date);
    let _ = writeln!(o, "    replica_count        = {}", n.cfg.replica_count);
    let _ = writeln!(o, "    chmpx_count          = {}", n.cfg.max_chmpx_count);
    let _ = writeln!(o, "    chmpx_bhash_count    = {}", n.ring.base_count());
    let _ = writeln!(o, "    chmpx_self{{");
    let me = if n.is_server {
        n.ring
            .get(n.chmpxid)
            .cloned()
            .unwrap_or_else(|| n.self_rec.clone())
    } else {
        n.self_rec.clone()
    };
    dump_chmpx(&mut o, "      ", &me);
    let _ = writeln!(o, "    }}");
    let _ = writeln!(o, "    chmpx_server_count   = {}", n.ring.servers.len());
    let _ = writeln!(o, "    chmpx_servers{{");
    for (i, s) in n.ring.servers.iter().enumerate() {
        let _ = writeln!(o, "      [{i}]{{");
        dump_chmpx(&mut o, "        ", s);
        let _ = writeln!(o, "      }}");
    }
    let _ = writeln!(o, "    }}");
    let _ = writeln!(o, "    chmpx_slave_count    = {}", n.slaves.len());
    let _ = writeln!(o, "    chmpx_slaves{{");
    for (i, s) in n.slaves.values().enumerate() {
        let _ = writeln!(o, "      [{i}]{{");
        dump_chmpx(&mut o, "        ", &s.record);
        let _ = writeln!(o, "      }}");
    }
    let _ = writeln!(o, "    }}");
    let _ = writeln!(
        o,
        "    is_auto_merge_suspend= {}",
        if n.auto_merge_suspend { "yes" } else { "no" }
    );
    let _ = writeln!(o, "  }}");
    let _ = writeln!(o, "  base_msgid             = 0x{:016x}", n.base_msgid);
    let _ = writeln!(o, "  client_pids            = {:?}", n.client_pids());
    let _ = writeln!(
        o,
        "  activated_msgids       = {}",
        n.activated_msgids()
            .iter()
            .map(|m| format!("0x{m:016x}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let _ = writeln!(o, "}}");
    o
}

/// Runs one control command and returns the response text. Commands that would have to reach
/// another node (SERVICEOUT of a remote server) return `Err(remote)` with what to send where.
pub fn command(n: &mut Node, text: &str) -> Result<String, Remote> {
    let text = text.trim_end_matches('\0');
    let mut words = text.split_whitespace();
    let Some(cmd) = words.next() else {
        return Ok(String::new());
    };
    let up = cmd.to_ascii_uppercase();
    let srv_only = |n: &Node| (!n.is_server).then(|| RES_ERROR_COMMAND_ON_SERVER.to_string());
    Ok(match up.as_str() {
        "VERSION" => format!("{}\n", version_string()),
        "DUMP" => dump_text(n),
        "SELFSTATUS" => self_status(n),
        "ALLSTATUS" => all_status(n),
        "SERVICEIN" => match n.service_in() {
            Ok(()) => RES_SUCCESS.into(),
            Err(e) => e.into(),
        },
        "SERVICEOUT" => {
            if let Some(e) = srv_only(n) {
                return Ok(e);
            }
            let Some(arg) = words.next() else {
                return Ok(RES_ERROR_SERVICE_OUT_PARAM.into());
            };
            let parts: Vec<&str> = arg.split(':').collect();
            if parts.len() < 2 {
                return Ok(RES_ERROR_SERVICE_OUT_PARAM.into());
            }
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
            if target.chmpxid == n.chmpxid {
                match n.service_out() {
                    Ok(()) => RES_SUCCESS.into(),
                    Err(e) => e.into(),
                }
            } else if !ring::is_down(target.status) {
                return Err(Remote {
                    host: target.name.clone(),
                    port: target.ctlport as u16,
                    command: text.to_string(),
                });
            } else {
                RES_ERROR_STATUS_NOT_ALLOWED.into()
            }
        }
        "MERGE" => {
            if let Some(e) = srv_only(n) {
                return Ok(e);
            }
            if n.merge_start()
                || !n
                    .ring
                    .servers
                    .iter()
                    .any(|s| s.status & CHMPXSTS_MASK_OPERATE == CHMPXSTS_VAL_PENDING)
            {
                RES_SUCCESS.into()
            } else {
                RES_ERROR_MERGE_START.into()
            }
        }
        "COMPMERGE" => {
            if let Some(e) = srv_only(n) {
                return Ok(e);
            }
            n.merge_complete();
            RES_SUCCESS.into()
        }
        "ABORTMERGE" => {
            if let Some(e) = srv_only(n) {
                return Ok(e);
            }
            n.merge_abort();
            RES_SUCCESS.into()
        }
        "SUSPENDMERGE" | "NOSUSPENDMERGE" => {
            if let Some(e) = srv_only(n) {
                return Ok(e);
            }
            n.auto_merge_suspend = up == "SUSPENDMERGE";
            RES_SUCCESS.into()
        }
        "UPDATESTATUS" => {
            if let Some(e) = srv_only(n) {
                return Ok(e);
            }
            if n.push_status() == 0 {
                RES_SUCCESS_STATUS_NOTICE.into()
            } else {
                RES_SUCCESS.into()
            }
        }
        "TRACE" => match words.next().map(|w| w.to_ascii_uppercase()) {
            Some(w) if ["ENABLE", "YES", "ON", "DISABLE", "NO", "OFF"].contains(&w.as_str()) => {
                // The trace log is not kept by this chmpx; it is always "disabled".
                if ["DISABLE", "NO", "OFF"].contains(&w.as_str()) {
                    RES_ERROR_TRACE_SET_ALREADY.into()
                } else {
                    RES_ERROR.into()
                }
            }
            _ => RES_ERROR_TRACE_SET_PARAM.into(),
        },
        "TRACEVIEW" => RES_ERROR_TRACE_VIEW_NOTRACE.into(),
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
    let s = if n.is_server {
        n.ring
            .get(n.chmpxid)
            .cloned()
            .unwrap_or_else(|| n.self_rec.clone())
    } else {
        n.self_rec.clone()
    };
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
        let _ = writeln!(
            o,
            "VERIFY PEER               = {}",
            if s.ssl.verify_peer { "YES" } else { "NO" }
        );
        let _ = writeln!(
            o,
            "CA PATH TYPE              = {}",
            if s.ssl.is_ca_file { "FILE" } else { "DIR" }
        );
        let _ = writeln!(o, "CA PATH                   = {}", s.ssl.capath);
        let _ = writeln!(o, "SERVER CERT               = {}", s.ssl.server_cert);
        let _ = writeln!(o, "SERVER PRIKEY             = {}", s.ssl.server_prikey);
        let _ = writeln!(o, "SLAVE CERT                = {}", s.ssl.slave_cert);
        let _ = writeln!(o, "SLAVE PRIKEY              = {}", s.ssl.slave_prikey);
    }
    let _ = writeln!(o, "BASE HASH                 = {:x}", s.base_hash);
    let _ = writeln!(
        o,
        "STATUS                    = {}",
        ring::status_text(s.status)
    );
    o
}
