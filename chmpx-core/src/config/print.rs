//! The text `chmpxconftest` prints for a loaded configuration (the `cfg_test_*.result`
//! fixtures are this text with the NAME and DATE lines removed).

use std::fmt::Write;

use super::{ChmConfig, HostPort, NodeConfig};

fn list_with_ports(out: &mut String, label: &str, list: &[HostPort], ports: bool) {
    if list.is_empty() {
        let _ = writeln!(out, "\t\t{label}= n/a");
        return;
    }
    let _ = writeln!(out, "\t\t{label}= {{");
    for hp in list {
        if ports {
            let _ = writeln!(out, "\t\t\t{} ( {} )", hp.host, hp.port);
        } else {
            let _ = writeln!(out, "\t\t\t{}", hp.host);
        }
    }
    let _ = writeln!(out, "\t\t}}");
}

fn or_na(s: &str) -> &str {
    if s.is_empty() {
        "n/a"
    } else {
        s
    }
}

fn node(out: &mut String, kind: &str, index: usize, n: &NodeConfig, endpoints: bool) {
    let _ = writeln!(out, "\t{kind}[{index}]{{");
    let _ = writeln!(out, "\t\tNAME          = {}", n.name);
    let _ = writeln!(out, "\t\tPORT          = {}", n.port);
    let _ = writeln!(out, "\t\tCTLPORT       = {}", n.ctlport);
    if endpoints {
        list_with_ports(out, "ENDPOINTS     ", &n.endpoints, true);
    }
    list_with_ports(out, "CTLENDPOINTS  ", &n.ctlendpoints, true);
    list_with_ports(out, "FORWARD_PEERS ", &n.forward_peers, false);
    list_with_ports(out, "REVERSE_PEERS ", &n.reverse_peers, false);
    let _ = writeln!(out, "\t\tCUK           = {}", or_na(&n.cuk));
    let _ = writeln!(out, "\t\tCUSTOM_ID_SEED= {}", or_na(&n.custom_seed));
    let _ = writeln!(
        out,
        "\t\tSSL           = {}",
        if n.is_ssl { "yes" } else { "no" }
    );
    if n.is_ssl {
        let _ = writeln!(
            out,
            "\t\tVERIFY_PEER   = {}",
            if n.verify_peer { "yes" } else { "no" }
        );
        let _ = writeln!(
            out,
            "\t\tCA PATH TYPE  = {}",
            if n.is_ca_file { "file" } else { "dir" }
        );
        let _ = writeln!(out, "\t\tCA PATH       = {}", n.capath);
        let _ = writeln!(out, "\t\tSERVER CERT   = {}", n.server_cert);
        let _ = writeln!(out, "\t\tSERVER PRIKEY = {}", n.server_prikey);
        let _ = writeln!(out, "\t\tSLAVE CERT    = {}", n.slave_cert);
        let _ = writeln!(out, "\t\tSLAVE PRIKEY  = {}", n.slave_prikey);
    }
    let _ = writeln!(out, "\t}}");
}

/// `chmpxconftest`'s dump of a configuration.
pub fn conftest_text(c: &ChmConfig) -> String {
    let mut o = String::new();
    let onoff = |b: bool| if b { "on" } else { "off" };
    let _ = writeln!(o, "configuration{{");
    let _ = writeln!(o, "\tGROUP           = {}", c.group);
    let _ = writeln!(o, "\tREVISION        = {}", c.revision);
    let _ = writeln!(o, "\tDATE            = {}", c.date);
    let _ = writeln!(
        o,
        "\tMODE            = {}",
        if c.is_server_mode { "SERVER" } else { "SLAVE" }
    );
    let _ = writeln!(
        o,
        "\tDELIVER MODE    = {}",
        if c.is_random_mode { "RANDOM" } else { "HASH" }
    );
    let _ = writeln!(o, "\tSELF CTLPORT    = {}", c.self_ctlport);
    let _ = writeln!(o, "\tSELF CUK        = {}", or_na(&c.self_cuk));
    let _ = writeln!(o, "\tCHMPXID TYPE    = {}", c.chmpxid_type.as_str());
    let _ = writeln!(o, "\tMAXCHMPX        = {}", c.max_chmpx_count);
    let _ = writeln!(o, "\tREPLICA         = {}", c.replica_count);
    let _ = writeln!(o, "\tMAXMQSERVER     = {}", c.max_server_mq_cnt);
    let _ = writeln!(o, "\tMAXMQCLIENT     = {}", c.max_client_mq_cnt);
    let _ = writeln!(o, "\tMQPERATTACH     = {}", c.mqcnt_per_attach);
    let _ = writeln!(o, "\tMAXQPERSERVERMQ = {}", c.max_q_per_servermq);
    let _ = writeln!(o, "\tMAXQPERCLIENTMQ = {}", c.max_q_per_clientmq);
    let _ = writeln!(o, "\tMAXMQPERCLIENT  = {}", c.max_mq_per_client);
    let _ = writeln!(o, "\tMAXHISTLOG      = {}", c.max_histlog_count);
    let _ = writeln!(o, "\tRWTIMEOUT       = {}", c.timeout_wait_socket);
    let _ = writeln!(o, "\tRETRYCNT        = {}", c.retrycnt);
    let _ = writeln!(o, "\tCONTIMEOUT      = {}", c.timeout_wait_connect);
    let _ = writeln!(o, "\tMQRWTIMEOUT     = {}", c.timeout_wait_mq);
    let _ = writeln!(o, "\tMQRETRYCNT      = {}", c.mq_retrycnt);
    let _ = writeln!(o, "\tMQACK           = {}", onoff(c.mq_ack));
    let _ = writeln!(o, "\tDOMERGE         = {}", onoff(c.is_do_merge));
    let _ = writeln!(o, "\tAUTOMERGE       = {}", onoff(c.is_auto_merge));
    let _ = writeln!(o, "\tMERGETIMEOUT    = {}", c.timeout_merge);
    let _ = writeln!(o, "\tSOCKTHREADCNT   = {}", c.sock_thread_cnt);
    let _ = writeln!(o, "\tMQTHREADCNT     = {}", c.mq_thread_cnt);
    let _ = writeln!(o, "\tMAXSOCKPOOL     = {}", c.max_sock_pool);
    let _ = writeln!(o, "\tSOCKPOOLTIMEOUT = {}", c.sock_pool_timeout);
    let _ = writeln!(
        o,
        "\tK2HFULLMAP      = {}",
        if c.k2h_fullmap { "yes" } else { "no" }
    );
    let _ = writeln!(o, "\tK2HMASKBIT      = {}", c.k2h_mask_bitcnt);
    let _ = writeln!(o, "\tK2HCMASKBIT     = {}", c.k2h_cmask_bitcnt);
    let _ = writeln!(o, "\tK2HMAXELE       = {}", c.k2h_max_element);
    let _ = writeln!(o, "\tSSL_MIN_VER     = {}", c.ssl_min_ver.as_str());
    let _ = writeln!(o, "\tNSSDB_DIR       = {}", or_na(&c.nssdb_dir));
    for (i, n) in c.servers.iter().enumerate() {
        node(&mut o, "server", i + 1, n, true);
    }
    for (i, n) in c.slaves.iter().enumerate() {
        node(&mut o, "slave", i + 1, n, false);
    }
    let _ = writeln!(o, "}}");
    o
}
