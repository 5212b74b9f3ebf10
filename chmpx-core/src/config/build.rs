//! Interpreting [`Raw`] sections into a [`ChmConfig`]: defaults, caps, coercions, the SSL
//! consistency rules, host expansion and self identification. One code path serves INI, YAML
//! and JSON; where the original's two loaders differ, the difference is keyed on
//! [`Syntax`] and commented.

use std::path::Path;

use super::hosts::{self, parse_atoi, parse_hostport_list};
use super::raw::{Pairs, Raw, Section, Syntax};
use super::*;

/// GLOBAL values that only serve as defaults for node entries (`CHMCONF_CCV`).
#[derive(Default)]
struct NodeDefaults {
    port: Option<i16>,
    ctlport: Option<i16>,
    mode_given: bool,
    is_ssl: bool,
    verify_peer: bool,
    is_ca_file: bool,
    capath: String,
    server_cert: String,
    server_prikey: String,
    slave_cert: String,
    slave_prikey: String,
    // Facts gathered from the server list, used by the slave list and the final checks.
    self_found: bool,
    found_ssl: bool,
    found_verify_peer: bool,
}

fn err<T>(msg: String) -> Result<T> {
    Err(ConfigError(msg))
}

fn parse_bool(key: &str, v: &str, section: &str) -> Result<bool> {
    if v.eq_ignore_ascii_case("ON") || v.eq_ignore_ascii_case("YES") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("OFF") || v.eq_ignore_ascii_case("NO") {
        Ok(false)
    } else {
        err(format!(
            "{section}: {key} must be ON/YES or OFF/NO, not \"{v}\""
        ))
    }
}

/// A port as the original stores it: `(short)atoi(text)`. Text that is not a port number in
/// 1..=65535 is refused instead of silently wrapping.
fn parse_port(key: &str, v: &str, section: &str) -> Result<i16> {
    let n = v.trim().parse::<i64>().unwrap_or(-1);
    if !(1..=65535).contains(&n) {
        return err(format!(
            "{section}: {key} must be a port number (1-65535), not \"{v}\""
        ));
    }
    Ok(parse_atoi(v) as i16)
}

/// A count with an upper cap (warning when capped) and a lower bound (error below it).
fn parse_count(key: &str, v: &str, min: i64, max: Option<i64>) -> Result<i64> {
    let n = i64::from(parse_atoi(v));
    if n < min {
        return err(format!("GLOBAL: {key} must be at least {min}, not \"{v}\""));
    }
    match max {
        Some(max) if n > max => {
            log::warn!("\"{key}\" value({n}) is over upper limit({max}), so set upper limit.");
            Ok(max)
        }
        _ => Ok(n),
    }
}

fn is_null_path(v: &str) -> bool {
    v.is_empty() || v.eq_ignore_ascii_case("NULL")
}

/// A certificate or key path: must be a regular file (the OpenSSL flavour does not accept
/// certificate nicknames) shorter than 1024 bytes.
fn check_cert_path(key: &str, v: &str, section: &str) -> Result<String> {
    if v.len() >= CHM_MAX_PATH_LEN {
        return err(format!(
            "{section}: {key} is longer than {} bytes",
            CHM_MAX_PATH_LEN - 1
        ));
    }
    if !Path::new(v).is_file() {
        return err(format!("{section}: {key} \"{v}\" is not an existing file"));
    }
    Ok(v.to_string())
}

/// A CA path: a directory, or a CA bundle file. Returns (is_file, path).
fn check_capath(v: &str, section: &str) -> Result<(bool, String)> {
    if v.len() >= CHM_MAX_PATH_LEN {
        return err(format!(
            "{section}: CAPATH is longer than {} bytes",
            CHM_MAX_PATH_LEN - 1
        ));
    }
    let p = Path::new(v);
    if p.is_dir() {
        Ok((false, v.to_string()))
    } else if p.is_file() {
        Ok((true, v.to_string()))
    } else {
        err(format!(
            "{section}: CAPATH \"{v}\" is neither a directory nor a file"
        ))
    }
}

/// DATE: an RFC 2822 date read with `strptime("%a, %d %b %Y %T %z")` and `mktime`, like the
/// original (so the zone offset is ignored and local time applies). 0 when unparsable.
fn rfc_date(v: &str) -> i64 {
    let Ok(c) = std::ffi::CString::new(v) else {
        return 0;
    };
    // SAFETY: a zeroed tm is a valid output buffer; both strings are NUL-terminated.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        let fmt = c"%a, %d %b %Y %T %z";
        if libc::strptime(c.as_ptr(), fmt.as_ptr(), &mut tm).is_null() {
            return 0;
        }
        // The original leaves tm_isdst uninitialised; in practice mktime then sees a
        // positive value and takes the time as DST (one hour earlier). Do the same.
        tm.tm_isdst = 1;
        libc::mktime(&mut tm) as i64
    }
}

struct Builder<'a> {
    cfg: ChmConfig,
    d: NodeDefaults,
    who: &'a SelfIdentity,
    syntax: Syntax,
    saw_global: bool,
    saw_servers: bool,
    saw_slaves: bool,
}

/// Interprets `raw` for the process described by `who`.
pub fn build(raw: &Raw, who: &SelfIdentity) -> Result<ChmConfig> {
    let mut b = Builder {
        cfg: ChmConfig::default(),
        d: NodeDefaults::default(),
        who,
        syntax: raw.syntax,
        saw_global: false,
        saw_servers: false,
        saw_slaves: false,
    };
    for section in &raw.sections {
        match section {
            Section::Global(pairs) => b.global(pairs)?,
            Section::Servers(nodes) => b.servers(nodes)?,
            Section::Slaves(nodes) => b.slaves(nodes)?,
        }
    }
    b.finish()
}

impl Builder<'_> {
    fn global(&mut self, pairs: &Pairs) -> Result<()> {
        // Each GLOBAL section starts from the defaults (a repeated YAML GLOBAL is read again).
        let servers = std::mem::take(&mut self.cfg.servers);
        let slaves = std::mem::take(&mut self.cfg.slaves);
        self.cfg = ChmConfig {
            servers,
            slaves,
            ..ChmConfig::default()
        };
        let (self_found, found_ssl, found_verify_peer) = (
            self.d.self_found,
            self.d.found_ssl,
            self.d.found_verify_peer,
        );
        self.d = NodeDefaults {
            self_found,
            found_ssl,
            found_verify_peer,
            ..NodeDefaults::default()
        };
        self.cfg.self_ctlport = self.who.ctlport.unwrap_or(INVALID_PORT);
        self.cfg.self_cuk = self.who.cuk.clone().unwrap_or_default();
        self.saw_global = true;
        let mut saw_delivermode = false;

        for (key, v) in pairs {
            let v = v.as_str();
            let c = &mut self.cfg;
            let d = &mut self.d;
            match key.as_str() {
                "GROUP" => {
                    if v.is_empty() || v.len() >= 256 {
                        return err(format!("GLOBAL: GROUP must be 1 to 255 bytes, not \"{v}\""));
                    }
                    c.group = v.to_string()
                }
                "FILEVERSION" => c.revision = i64::from(parse_atoi(v)),
                "MODE" => {
                    c.is_server_mode = if v.eq_ignore_ascii_case("server") {
                        true
                    } else if v.eq_ignore_ascii_case("slave") {
                        false
                    } else {
                        return err(format!("GLOBAL: MODE must be SERVER or SLAVE, not \"{v}\""));
                    };
                    d.mode_given = true
                }
                "CHMPXIDTYPE" => {
                    c.chmpxid_type = ChmpxIdType::parse(v).ok_or_else(|| {
                        ConfigError(format!("GLOBAL: CHMPXIDTYPE must be NAME, CUK, CTLENDPOINTS, CTLEPS or CUSTOM, not \"{v}\""))
                    })?
                }
                "DELIVERMODE" => {
                    c.is_random_mode = if v.eq_ignore_ascii_case("random") {
                        true
                    } else if v.eq_ignore_ascii_case("hash") {
                        false
                    } else {
                        return err(format!("GLOBAL: DELIVERMODE must be hash or random, not \"{v}\""));
                    };
                    saw_delivermode = true
                }
                "MAXCHMPX" => c.max_chmpx_count = parse_count(key, v, 1, Some(MAX_CHMPX_COUNT))?,
                "REPLICA" => {
                    let n = parse_count(key, v, 0, None)?;
                    c.replica_count = if c.is_random_mode && n != DEFAULT_REPLICA_COUNT {
                        log::warn!("\"REPLICA\" value({n}) is not set, because random mode does not do replication.");
                        DEFAULT_REPLICA_COUNT
                    } else if !c.is_random_mode && n > c.max_chmpx_count {
                        log::warn!("\"REPLICA\" value({n}) is over maximum chmpx count, so set value to maximum chmpx count.");
                        c.max_chmpx_count
                    } else {
                        n
                    }
                }
                "MAXMQSERVER" => c.max_server_mq_cnt = parse_count(key, v, 1, Some(MAX_SERVER_MQ_CNT))?,
                "MAXMQCLIENT" => c.max_client_mq_cnt = parse_count(key, v, 1, Some(MAX_CLIENT_MQ_CNT))?,
                "MQPERATTACH" => c.mqcnt_per_attach = parse_count(key, v, 1, Some(MAX_MQ_PER_ATTACH))?,
                "MAXQPERSERVERMQ" => c.max_q_per_servermq = parse_count(key, v, 1, Some(MAX_QUEUE_PER_SERVERMQ))?,
                "MAXQPERCLIENTMQ" => c.max_q_per_clientmq = parse_count(key, v, 1, Some(MAX_QUEUE_PER_CLIENTMQ))?,
                "MAXMQPERCLIENT" => c.max_mq_per_client = parse_count(key, v, 1, Some(MAX_MQ_PER_CLIENT))?,
                "MAXHISTLOG" => c.max_histlog_count = parse_count(key, v, 0, Some(MAX_HISTLOG_COUNT))?,
                "DATE" => c.date = rfc_date(v),
                "PORT" => d.port = Some(parse_port(key, v, "GLOBAL")?),
                "CTLPORT" => d.ctlport = Some(parse_port(key, v, "GLOBAL")?),
                "SELFCTLPORT" => {
                    if self.who.ctlport.is_none() {
                        c.self_ctlport = parse_port(key, v, "GLOBAL")?
                    }
                }
                "SELFCUK" => {
                    if self.who.cuk.as_deref().unwrap_or("").is_empty() {
                        c.self_cuk = v.to_string()
                    }
                }
                "RETRYCNT" => c.retrycnt = parse_atoi(v),
                "MQRETRYCNT" => c.mq_retrycnt = parse_atoi(v),
                "MQACK" => c.mq_ack = parse_bool(key, v, "GLOBAL")?,
                // Negative timeouts fall back to the default (0 = "use the built-in wait").
                "RWTIMEOUT" => c.timeout_wait_socket = parse_atoi(v).max(0),
                "CONTIMEOUT" => c.timeout_wait_connect = parse_atoi(v).max(0),
                "MQRWTIMEOUT" => c.timeout_wait_mq = parse_atoi(v).max(0),
                "AUTOMERGE" => c.is_auto_merge = parse_bool(key, v, "GLOBAL")?,
                "DOMERGE" => c.is_do_merge = parse_bool(key, v, "GLOBAL")?,
                "MERGETIMEOUT" => c.timeout_merge = i64::from(parse_atoi(v).max(0)),
                "SOCKTHREADCNT" => c.sock_thread_cnt = parse_count(key, v, 0, None)? as i32,
                "MQTHREADCNT" => c.mq_thread_cnt = parse_count(key, v, 0, None)? as i32,
                "MAXSOCKPOOL" => c.max_sock_pool = parse_count(key, v, 1, None)? as i32,
                "SOCKPOOLTIMEOUT" => c.sock_pool_timeout = parse_count(key, v, 0, None)?,
                "SSL" => d.is_ssl = parse_bool(key, v, "GLOBAL")?,
                "SSL_VERIFY_PEER" => {
                    d.verify_peer = parse_bool(key, v, "GLOBAL")?;
                    if d.verify_peer && !d.is_ssl {
                        return err("GLOBAL: SSL_VERIFY_PEER is ON but SSL is OFF".into());
                    }
                }
                "CAPATH" => {
                    if !is_null_path(v) {
                        (d.is_ca_file, d.capath) = check_capath(v, "GLOBAL")?;
                    }
                }
                "SERVER_CERT" | "SERVER_PRIKEY" => {
                    if !is_null_path(v) {
                        if !d.is_ssl {
                            return err(format!("GLOBAL: {key} is set but SSL is OFF"));
                        }
                        let p = check_cert_path(key, v, "GLOBAL")?;
                        if key == "SERVER_CERT" {
                            d.server_cert = p
                        } else {
                            d.server_prikey = p
                        }
                    }
                }
                "SLAVE_CERT" | "SLAVE_PRIKEY" => {
                    if !is_null_path(v) {
                        let p = check_cert_path(key, v, "GLOBAL")?;
                        if key == "SLAVE_CERT" {
                            d.slave_cert = p
                        } else {
                            d.slave_prikey = p
                        }
                    }
                }
                "SSL_MIN_VER" => {
                    if !v.eq_ignore_ascii_case("NULL") {
                        let ver = SslMinVer::parse(v).ok_or_else(|| {
                            ConfigError(format!("GLOBAL: SSL_MIN_VER must be DEFAULT, SSLV2, SSLV3 or TLSV1.0-TLSV1.3, not \"{v}\""))
                        })?;
                        if ver != SslMinVer::Default && !d.is_ssl {
                            return err("GLOBAL: SSL_MIN_VER is set but SSL is OFF".into());
                        }
                        c.ssl_min_ver = ver
                    }
                }
                "NSSDB_DIR" => {
                    if !v.eq_ignore_ascii_case("NULL") {
                        if v.len() >= CHM_MAX_PATH_LEN || !Path::new(v).is_dir() {
                            return err(format!("GLOBAL: NSSDB_DIR \"{v}\" is not a directory"));
                        }
                        if !d.is_ssl {
                            return err("GLOBAL: NSSDB_DIR is set but SSL is OFF".into());
                        }
                        c.nssdb_dir = v.to_string()
                    }
                }
                "K2HFULLMAP" => c.k2h_fullmap = parse_bool(key, v, "GLOBAL")?,
                "K2HMASKBIT" => c.k2h_mask_bitcnt = parse_atoi(v),
                "K2HCMASKBIT" => c.k2h_cmask_bitcnt = parse_atoi(v),
                "K2HMAXELE" => c.k2h_max_element = parse_atoi(v),
                other => log::warn!("GLOBAL: unknown key {other} ignored"),
            }
        }
        let c = &self.cfg;
        if c.group.is_empty() {
            return err("GLOBAL: GROUP is missing".into());
        }
        if !pairs.iter().any(|(k, _)| k == "FILEVERSION") {
            return err("GLOBAL: FILEVERSION is missing".into());
        }
        // The INI loader insists on DELIVERMODE; YAML and JSON default to hash.
        if self.syntax == Syntax::Ini && !saw_delivermode {
            return err("GLOBAL: DELIVERMODE is missing".into());
        }
        if c.chmpxid_type == ChmpxIdType::Cuk
            && c.self_cuk.is_empty()
            && self.syntax == Syntax::Yaml
        {
            return err(
                "GLOBAL: CHMPXIDTYPE is CUK but no self CUK (SELFCUK or -cuk) is given".into(),
            );
        }
        Ok(())
    }

    /// The node key `key`, if present.
    fn get<'p>(pairs: &'p Pairs, key: &str) -> Option<&'p str> {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn servers(&mut self, nodes: &[Pairs]) -> Result<()> {
        if !self.saw_global {
            return err("SVRNODE comes before GLOBAL".into());
        }
        self.saw_servers = true;
        self.cfg.servers.clear();
        self.d.self_found = false;
        self.d.found_ssl = false;
        self.d.found_verify_peer = false;
        for pairs in nodes {
            self.server(pairs)?;
        }
        // Re-check CAPATH and the client certificates against the whole list.
        for n in &self.cfg.servers {
            let sec = format!("SVRNODE {}", n.name);
            if !self.d.found_ssl {
                if !n.capath.is_empty() {
                    return err(format!("{sec}: CAPATH is set but no server uses SSL"));
                }
                if !n.slave_cert.is_empty() || !n.slave_prikey.is_empty() {
                    return err(format!(
                        "{sec}: SLAVE_CERT/SLAVE_PRIKEY are set but no server uses SSL"
                    ));
                }
            } else if self.d.found_verify_peer {
                if n.slave_cert.is_empty() || n.slave_prikey.is_empty() {
                    return err(format!(
                        "{sec}: a server verifies its peers, so every server needs SLAVE_CERT and SLAVE_PRIKEY"
                    ));
                }
            } else if !n.slave_cert.is_empty() || !n.slave_prikey.is_empty() {
                return err(format!(
                    "{sec}: SLAVE_CERT/SLAVE_PRIKEY are set but no server verifies peers"
                ));
            }
        }
        // The original removes adjacent duplicates (same name, ctlport and cuk), then sorts.
        self.cfg.servers.dedup_by(|a, b| a.same_node(b));
        self.cfg
            .servers
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Ok(())
    }

    fn server(&mut self, pairs: &Pairs) -> Result<()> {
        let name = Self::get(pairs, "NAME").unwrap_or("");
        if name.is_empty() {
            return err("SVRNODE: an entry has no NAME".into());
        }
        let sec = format!("SVRNODE {name}");
        let mut n = NodeConfig {
            name: name.to_string(),
            ..NodeConfig::default()
        };
        n.port = match Self::get(pairs, "PORT") {
            Some(v) => parse_port("PORT", v, &sec)?,
            None => self
                .d
                .port
                .ok_or_else(|| ConfigError(format!("{sec}: no PORT here nor in GLOBAL")))?,
        };
        self.ctlport_and_cuk(pairs, &mut n, &sec)?;
        if let Some(v) = Self::get(pairs, "ENDPOINTS") {
            n.endpoints = parse_hostport_list(v, n.port);
        }
        if n.endpoints.len() > 4 {
            return err(format!("{sec}: at most 4 ENDPOINTS"));
        }
        self.endpoints_peers_seed(pairs, &mut n, &sec, true)?;
        self.node_ssl(pairs, &mut n, &sec)?;

        let expanded = hosts::expand_simple_pattern(name)
            .map_err(|e| ConfigError(format!("{sec}: NAME {e}")))?;
        for host in expanded {
            let names = hosts::host_names(&host);
            let mut one = n.clone();
            // The INI loader keeps the name as written (a loopback word becomes this host's
            // first name); the YAML loader takes the first name the resolver gives.
            one.name = if self.syntax == Syntax::Ini && !hosts::is_localhost_keyword(&host) {
                host.clone()
            } else {
                names.first().cloned().unwrap_or(host)
            };
            if one.name.len() >= 1025 {
                return err(format!("{sec}: host name longer than 1024 bytes"));
            }
            // Self: our control port, (INI only) our CUK, and one of our host names. The
            // YAML loader of the original does not compare the CUK.
            let cuk_ok = self.syntax == Syntax::Yaml || one.cuk == self.cfg.self_cuk;
            if !self.d.self_found
                && one.ctlport == self.cfg.self_ctlport
                && cuk_ok
                && hosts::is_local(&names)
            {
                log::info!("found self host name({}) in server node list", one.name);
                self.d.self_found = true;
            }
            self.cfg.servers.push(one);
        }
        Ok(())
    }

    /// CTLPORT (else GLOBAL's) and CUK (required with CHMPXIDTYPE = CUK) of a node entry.
    fn ctlport_and_cuk(&self, pairs: &Pairs, n: &mut NodeConfig, sec: &str) -> Result<()> {
        n.ctlport = match Self::get(pairs, "CTLPORT") {
            Some(v) => parse_port("CTLPORT", v, sec)?,
            None => self
                .d
                .ctlport
                .ok_or_else(|| ConfigError(format!("{sec}: no CTLPORT here nor in GLOBAL")))?,
        };
        match Self::get(pairs, "CUK") {
            Some(v) => n.cuk = v.to_string(),
            None if self.cfg.chmpxid_type == ChmpxIdType::Cuk => {
                return err(format!("{sec}: CHMPXIDTYPE is CUK but CUK is missing"))
            }
            None => {}
        }
        Ok(())
    }

    /// CTLENDPOINTS (required with CHMPXIDTYPE = CTLENDPOINTS), FORWARD_PEERS, REVERSE_PEERS
    /// (at most 4 each) and CUSTOM_ID_SEED of a node entry. A missing seed with CHMPXIDTYPE =
    /// CUSTOM is an error for a server, a warning (empty seed) for a slave, as the original.
    fn endpoints_peers_seed(
        &self,
        pairs: &Pairs,
        n: &mut NodeConfig,
        sec: &str,
        server: bool,
    ) -> Result<()> {
        let id_type = self.cfg.chmpxid_type;
        match Self::get(pairs, "CTLENDPOINTS") {
            Some(v) => n.ctlendpoints = parse_hostport_list(v, n.ctlport),
            None if id_type == ChmpxIdType::CtlEndpoints => {
                return err(format!(
                    "{sec}: CHMPXIDTYPE is CTLENDPOINTS but CTLENDPOINTS is missing"
                ))
            }
            None => {}
        }
        if let Some(v) = Self::get(pairs, "FORWARD_PEERS") {
            n.forward_peers = parse_hostport_list(v, INVALID_PORT);
        }
        if let Some(v) = Self::get(pairs, "REVERSE_PEERS") {
            n.reverse_peers = parse_hostport_list(v, INVALID_PORT);
        }
        if n.ctlendpoints.len() > 4 || n.forward_peers.len() > 4 || n.reverse_peers.len() > 4 {
            return err(format!(
                "{sec}: at most 4 CTLENDPOINTS, 4 FORWARD_PEERS and 4 REVERSE_PEERS"
            ));
        }
        match Self::get(pairs, "CUSTOM_ID_SEED") {
            Some(v) => n.custom_seed = v.to_string(),
            None if id_type == ChmpxIdType::Custom && server => {
                return err(format!(
                    "{sec}: CHMPXIDTYPE is CUSTOM but CUSTOM_ID_SEED is missing"
                ))
            }
            None if id_type == ChmpxIdType::Custom => {
                log::warn!("{sec}: CHMPXIDTYPE is CUSTOM but CUSTOM_ID_SEED is missing, an empty seed is used")
            }
            None => {}
        }
        if n.cuk.len() >= 2048 || n.custom_seed.len() >= 2048 {
            return err(format!(
                "{sec}: CUK and CUSTOM_ID_SEED must be shorter than 2048 bytes"
            ));
        }
        Ok(())
    }

    /// A node's CAPATH: its own (NULL or empty: none), else GLOBAL's. Returns (is_file, path).
    fn capath(pairs: &Pairs, d: &NodeDefaults, sec: &str) -> Result<(bool, String)> {
        match Self::get(pairs, "CAPATH") {
            Some(v) if is_null_path(v) => Ok((false, String::new())),
            Some(v) => check_capath(v, sec),
            None => Ok((d.is_ca_file, d.capath.clone())),
        }
    }

    /// A node's certificate or key path `key`: its own (NULL or empty: none), else `default`.
    fn cert_path(pairs: &Pairs, key: &str, default: &str, sec: &str) -> Result<String> {
        match Self::get(pairs, key) {
            Some(v) if is_null_path(v) => Ok(String::new()),
            Some(v) => check_cert_path(key, v, sec),
            None => Ok(default.to_string()),
        }
    }

    /// The SSL keys of a server entry, with the GLOBAL values as defaults.
    fn node_ssl(&mut self, pairs: &Pairs, n: &mut NodeConfig, sec: &str) -> Result<()> {
        let d = &mut self.d;
        n.is_ssl = match Self::get(pairs, "SSL") {
            Some(v) => parse_bool("SSL", v, sec)?,
            None => d.is_ssl,
        };
        n.verify_peer = match Self::get(pairs, "SSL_VERIFY_PEER") {
            Some(v) => parse_bool("SSL_VERIFY_PEER", v, sec)?,
            None => d.verify_peer,
        };
        if n.verify_peer && !n.is_ssl {
            return err(format!("{sec}: SSL_VERIFY_PEER is ON but SSL is OFF"));
        }
        d.found_ssl |= n.is_ssl;
        d.found_verify_peer |= n.verify_peer;
        (n.is_ca_file, n.capath) = Self::capath(pairs, d, sec)?;
        n.server_cert = Self::cert_path(pairs, "SERVER_CERT", &d.server_cert, sec)?;
        n.server_prikey = Self::cert_path(pairs, "SERVER_PRIKEY", &d.server_prikey, sec)?;
        n.slave_cert = Self::cert_path(pairs, "SLAVE_CERT", &d.slave_cert, sec)?;
        n.slave_prikey = Self::cert_path(pairs, "SLAVE_PRIKEY", &d.slave_prikey, sec)?;
        if n.is_ssl == n.server_cert.is_empty() || n.is_ssl == n.server_prikey.is_empty() {
            return err(format!(
                "{sec}: SERVER_CERT and SERVER_PRIKEY must be set exactly when SSL is ON (SSL is {})",
                if n.is_ssl { "ON" } else { "OFF" }
            ));
        }
        if n.slave_cert.is_empty() != n.slave_prikey.is_empty() {
            return err(format!("{sec}: SLAVE_CERT and SLAVE_PRIKEY go together"));
        }
        Ok(())
    }

    fn slaves(&mut self, nodes: &[Pairs]) -> Result<()> {
        if !self.saw_global {
            return err("SLVNODE comes before GLOBAL".into());
        }
        self.saw_slaves = true;
        self.cfg.slaves.clear();
        for pairs in nodes {
            let name = Self::get(pairs, "NAME").unwrap_or("");
            if name.is_empty() {
                return err("SLVNODE: an entry has no NAME".into());
            }
            let sec = format!("SLVNODE {name}");
            if let Err(e) = regex::Regex::new(name) {
                return err(format!(
                    "{sec}: NAME is not a valid regular expression: {e}"
                ));
            }
            let mut n = NodeConfig {
                name: name.to_string(),
                port: INVALID_PORT,
                ..NodeConfig::default()
            };
            self.ctlport_and_cuk(pairs, &mut n, &sec)?;
            self.endpoints_peers_seed(pairs, &mut n, &sec, false)?;
            n.verify_peer = self.d.found_verify_peer;
            (n.is_ca_file, n.capath) = Self::capath(pairs, &self.d, &sec)?;
            if !self.d.found_ssl && !n.capath.is_empty() {
                return err(format!("{sec}: CAPATH is set but no server uses SSL"));
            }
            n.slave_cert = Self::cert_path(pairs, "SLAVE_CERT", &self.d.slave_cert, &sec)?;
            n.slave_prikey = Self::cert_path(pairs, "SLAVE_PRIKEY", &self.d.slave_prikey, &sec)?;
            if n.slave_cert.is_empty() != n.slave_prikey.is_empty() {
                return err(format!("{sec}: SLAVE_CERT and SLAVE_PRIKEY go together"));
            }
            if self.d.found_verify_peer == n.slave_cert.is_empty() {
                return err(format!(
                    "{sec}: SLAVE_CERT/SLAVE_PRIKEY must be set exactly when a server verifies its peers"
                ));
            }
            self.cfg.slaves.push(n);
        }
        self.cfg.slaves.dedup_by(|a, b| a.same_node(b));
        self.cfg
            .slaves
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Ok(())
    }

    fn finish(mut self) -> Result<ChmConfig> {
        if !self.saw_global {
            return err("the configuration has no GLOBAL section".into());
        }
        // The INI loader insists on both node sections.
        if self.syntax == Syntax::Ini && !self.saw_servers {
            return err("the configuration has no SVRNODE section".into());
        }
        if self.syntax == Syntax::Ini && !self.saw_slaves {
            return err("the configuration has no SLVNODE section".into());
        }
        let c = &mut self.cfg;
        if self.d.self_found {
            if !self.d.mode_given {
                log::warn!("no MODE in GLOBAL, but the self control port({}) is in the server list: server mode", c.self_ctlport);
                c.is_server_mode = true;
            } else if !c.is_server_mode {
                return err(format!(
                    "MODE is SLAVE, but this host with control port {} is in the server list",
                    c.self_ctlport
                ));
            }
        } else if !self.d.mode_given {
            c.is_server_mode = false;
        } else if c.is_server_mode {
            return err(format!(
                "MODE is SERVER, but this host with control port {} is not in the server list \
                 (a server needs SELFCTLPORT or -ctlport matching its SVRNODE entry)",
                c.self_ctlport
            ));
        }
        if c.is_random_mode {
            if !c.is_auto_merge {
                log::warn!("DELIVERMODE=random and AUTOMERGE=OFF can not be specified at the same time, so SET AUTOMERGE=ON.");
                c.is_auto_merge = true;
            }
            if c.is_do_merge {
                log::warn!("DELIVERMODE=random and DOMERGE=ON can not be specified at the same time, so SET DOMERGE=OFF.");
                c.is_do_merge = false;
            }
        } else if !c.is_do_merge && c.is_auto_merge {
            log::warn!("DOMERGE=OFF and AUTOMERGE=ON on DELIVERMODE=hash can not be specified at the same time, so SET AUTOMERGE=OFF.");
            c.is_auto_merge = false;
        }
        Ok(self.cfg)
    }
}
