//! Reading the control port answers and what `status`, `check` and `update` make of them.
//!
//! DUMP and ALLSTATUS answers are read the way the original tool reads them: blanks are
//! removed, then each key is searched for in order (`chmpx_servers=`, `[n]={`, `chmpxid=`,
//! `name=`, ...), so both the original chmpx's and ours are understood.

use std::collections::BTreeMap;

use super::cmdline::HostParam;
use super::color::{Color, Painter};
use super::nodes::{NodeInfo, Registry};
use super::{atos, trim, Verbosity};
use crate::ctl::update_time_text;
use crate::toolcommon::atoll;
use crate::wire::{CHM_INVALID_CHMPXID, CHM_INVALID_PORT};

pub const CHK_NOERR: u32 = 0;
pub const CHK_WARN: u32 = 1;
pub const CHK_ERR: u32 = 3;

/// What the check found wrong in each part of a node's record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckPart {
    pub status: u32,
    pub status_ring: u32,
    pub status_live: u32,
    pub status_act: u32,
    pub status_opr: u32,
    pub status_sus: u32,
    pub hash: u32,
    pub pending: u32,
    pub tosockcnt: u32,
    pub fromsockcnt: u32,
    pub lastupdatetime: u32,
}

/// One node's record as some node's DUMP shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub is_down: bool,
    pub chmpxid: u64,
    pub hostname: String,
    pub ctrlport: i16,
    pub cuk: String,
    pub ctlendpoints: String,
    pub custom_seed: String,
    pub hash: String,
    pub pendinghash: String,
    /// Sockets "to this node" and "from this node".
    pub tosockcnt: i64,
    pub fromsockcnt: i64,
    pub lastupdatetime: i64,
    pub status: String,
    pub check: CheckPart,
}

impl Default for Unit {
    fn default() -> Self {
        Unit {
            is_down: false,
            chmpxid: CHM_INVALID_CHMPXID,
            hostname: String::new(),
            ctrlport: CHM_INVALID_PORT,
            cuk: String::new(),
            ctlendpoints: String::new(),
            custom_seed: String::new(),
            hash: String::new(),
            pendinghash: String::new(),
            tosockcnt: 0,
            fromsockcnt: 0,
            lastupdatetime: 0,
            status: String::new(),
            check: CheckPart::default(),
        }
    }
}

impl Unit {
    /// A record with nothing known: DOWN, no hash.
    pub fn cleared() -> Unit {
        Unit {
            hash: "0xffffffffffffffff".into(),
            pendinghash: "0xffffffffffffffff".into(),
            status: "[UNKNOWN][DOWN][n/a][Nothing][NoSuspend]".into(),
            ..Unit::default()
        }
    }
}

pub type Units = BTreeMap<String, Unit>;

/// One node's DUMP: itself, and the servers and slaves it knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail {
    pub me: Unit,
    pub servers: Units,
    pub slaves: Units,
}

pub type Details = BTreeMap<String, Detail>;

/// A node with what the others see of it, and the overall verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeCheck {
    pub noderesult: u32,
    pub all: Detail,
}

pub type NodeChecks = BTreeMap<String, NodeCheck>;

// ---- text helpers ------------------------------------------------------------------------

/// Removes spaces and tabs.
pub fn cut_space(s: &str) -> String {
    s.chars().filter(|c| *c != ' ' && *c != '\t').collect()
}

/// Drops one trailing line feed.
pub fn cut_empty_line(s: &str) -> &str {
    s.strip_suffix('\n').unwrap_or(s)
}

/// The text after the first `key`.
fn after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    s.find(key).map(|p| &s[p + key.len()..])
}

/// The line at the start of `s` and what follows it.
fn line(s: &str) -> Option<(&str, &str)> {
    s.find('\n').map(|p| (&s[..p], &s[p + 1..]))
}

/// Hex digits to a number the way the original does (stops at the first bad digit).
fn hex_number(s: &str) -> u64 {
    let mut r: u64 = 0;
    for c in s.bytes() {
        r = r.wrapping_mul(16);
        match (c as char).to_digit(16) {
            Some(d) => r = r.wrapping_add(d as u64),
            None => break,
        }
    }
    r
}

/// A `chmpxid=` value: `0x` and hex digits.
fn chmpxid_value(v: &str) -> Option<u64> {
    let v = trim(v);
    if v.len() <= 2 {
        return None;
    }
    Some(hex_number(trim(v.get(2..).unwrap_or(""))))
}

/// Reads `key` and the rest of its line: `Err(true)` when the key is missing, `Err(false)`
/// when its line has no end.
fn keyed<'a>(s: &'a str, key: &str) -> Result<(String, &'a str), bool> {
    let rest = after(s, key).ok_or(true)?;
    let (v, rest) = line(rest).ok_or(false)?;
    Ok((trim(v).to_string(), rest))
}

fn key_missing(v: &Verbosity, key: &str, missing: bool) {
    if missing {
        v.err(format!("Could not found \"{key}\" key in DUMP result."));
    } else {
        v.err(format!(
            "Could not found CR after \"{key}\" key in DUMP result."
        ));
    }
}

// ---- node lists from DUMP ----------------------------------------------------------------

/// Reads the nodes of one server or slave list of a DUMP (`{ [n] = { ... chmpx{ ... } } }`)
/// into `nodes` (also those before an error).
fn parse_node_list<'a>(
    reg: &Registry,
    nodes: &mut Vec<NodeInfo>,
    input: &'a str,
    is_server: bool,
    v: &Verbosity,
    is_error: &mut bool,
) -> &'a str {
    *is_error = false;
    let Some(mut s) = after(input, "{\n") else {
        v.err("Could not found \"{\" key in DUMP result.");
        *is_error = true;
        return input;
    };
    while !s.starts_with("}\n") && s.contains("}\n") {
        let Some(rest) = s.strip_prefix('[') else {
            return s;
        };
        s = rest;
        let Some(rest) = after(s, "]={\n") else {
            v.err("Could not found \"[XX]={\" key in DUMP result.");
            *is_error = true;
            return s;
        };
        s = rest;
        let Some(rest) = after(s, "chmpx{\n") else {
            v.err("Could not found \"chmpx={\" key in DUMP result.");
            *is_error = true;
            return s;
        };
        s = rest;
        let (idtext, rest) = match keyed(s, "chmpxid=") {
            Ok(x) => x,
            Err(m) => {
                key_missing(v, "chmpxid=", m);
                *is_error = true;
                return s;
            }
        };
        s = rest;
        let Some(chmpxid) = chmpxid_value(&idtext) else {
            v.err("\"chmpxid=\" value does not start \"0x\" in DUMP result.");
            *is_error = true;
            return s;
        };
        let required = |s: &mut &'a str, key: &str| -> Option<String> {
            match keyed(s, key) {
                Ok((val, rest)) => {
                    *s = rest;
                    Some(val)
                }
                Err(m) => {
                    key_missing(v, key, m);
                    None
                }
            }
        };
        let Some(name) = required(&mut s, "name=") else {
            *is_error = true;
            return s;
        };
        let Some(port) = required(&mut s, "ctlport=") else {
            *is_error = true;
            return s;
        };
        let optional = |s: &mut &'a str, key: &str| -> Result<String, ()> {
            match keyed(s, key) {
                Ok((val, rest)) => {
                    *s = rest;
                    Ok(val)
                }
                Err(true) => {
                    v.msg(format!(
                        "Could not found \"{key}\" key in DUMP result, then skip this..."
                    ));
                    Ok(String::new())
                }
                Err(false) => {
                    key_missing(v, key, false);
                    Err(())
                }
            }
        };
        let (Ok(cuk), Ok(seed), Ok(eps)) = (
            optional(&mut s, "cuk="),
            optional(&mut s, "custom_seed="),
            optional(&mut s, "ctlendpoints="),
        ) else {
            *is_error = true;
            return s;
        };
        let Some(rest) = after(s, "}\n}\n") else {
            v.err("Could not found \"}}\" key in DUMP result.");
            *is_error = true;
            return s;
        };
        s = rest;
        nodes.push(reg.node(
            Some(chmpxid),
            &name,
            atos(&port),
            &cuk,
            &eps,
            &seed,
            is_server,
        ));
    }
    match s.strip_prefix("}\n") {
        Some(rest) => rest,
        None => {
            v.err("Could not found end of chmpx \"}\" key in DUMP result.");
            *is_error = true;
            s
        }
    }
}

/// The server and slave entries of a DUMP answer, in their order; `false` as second value
/// when the answer could not be read to the end.
fn nodes_in_dump(reg: &Registry, dump: &str, v: &Verbosity) -> (Vec<NodeInfo>, bool) {
    let mut found = Vec::new();
    let Some(rest) = after(dump, "chmpx_man{\n") else {
        v.err("Could not found \"chmpx_man\" key in DUMP result.");
        return (found, false);
    };
    let text = cut_space(rest);
    let mut s: &str = &text;
    for (key, server) in [("chmpx_servers=", true), ("chmpx_slaves=", false)] {
        let Some(rest) = after(s, key) else {
            v.wan(format!("Could not found \"{key}\" key in DUMP result."));
            continue;
        };
        let Some((_, rest)) = line(rest) else {
            v.err(format!(
                "Could not found CR after \"{key}\" key in DUMP result."
            ));
            return (found, false);
        };
        let mut err = false;
        s = parse_node_list(reg, &mut found, rest, server, v, &mut err);
        if err {
            v.err("Could not parse server chmpx.");
            return (found, false);
        }
    }
    (found, true)
}

/// Adds every server and slave a DUMP answer lists to `nodes`, one after the other.
pub fn add_nodes_from_dump(
    reg: &mut Registry,
    nodes: &mut Vec<NodeInfo>,
    dump: &str,
    v: &Verbosity,
) -> bool {
    let (found, ok) = nodes_in_dump(reg, dump, v);
    for n in &found {
        reg.add_info(nodes, n);
    }
    ok
}

/// Self, servers and slaves of a DUMP, for starting from the local chmpx (as the original
/// starts from its shared memory): group, chmpxid type name, and the nodes (sorted once).
pub fn nodes_of_local_dump(
    reg: &mut Registry,
    dump: &str,
    v: &Verbosity,
) -> Option<(String, String, Vec<NodeInfo>)> {
    let man = cut_space(after(dump, "chmpx_man{\n")?);
    let (group, _) = keyed(&man, "group=").ok()?;
    let head = cut_space(dump);
    let (id_type, _) = keyed(&head, "chmpxid_type=").ok()?;
    let self_part = after(&man, "chmpx_self=")?;
    let (_, self_part) = line(self_part)?;
    let (idtext, rest) = keyed(self_part, "chmpxid=").ok()?;
    let chmpxid = chmpxid_value(&idtext)?;
    let (name, rest) = keyed(rest, "name=").ok()?;
    let (mode, rest) = keyed(rest, "mode=").ok()?;
    let (port, rest) = keyed(rest, "ctlport=").ok()?;
    let (cuk, rest) = keyed(rest, "cuk=").ok()?;
    let (seed, rest) = keyed(rest, "custom_seed=").ok()?;
    let (eps, _) = keyed(rest, "ctlendpoints=").ok()?;
    let mut nodes = vec![reg.node(
        Some(chmpxid),
        &name,
        atos(&port),
        &cuk,
        &eps,
        &seed,
        mode == "server",
    )];
    let (found, ok) = nodes_in_dump(reg, dump, v);
    if !ok {
        return None;
    }
    nodes.extend(found);
    for n in &nodes {
        reg.hosts.update_confirm(&n.hostname);
    }
    reg.uniqsort(&mut nodes);
    Some((group, id_type, nodes))
}

// ---- status details from DUMP ------------------------------------------------------------

/// The key of a node in the check tables: `host:port:cuk:seed:endpoints`, named as the
/// known node lists name it.
pub fn map_key(
    reg: &mut Registry,
    targets: &[NodeInfo],
    initial: &[NodeInfo],
    hp: &HostParam,
) -> String {
    let (host, port, cuk, eps, seed) = (
        hp.host.as_str(),
        hp.port,
        hp.cuk.as_str(),
        hp.ctlendpoints.as_str(),
        hp.custom_seed.as_str(),
    );
    let found = reg
        .find(targets, host, port, cuk, eps, seed)
        .or_else(|| reg.find(initial, host, port, cuk, eps, seed));
    match found {
        Some(n) => format!(
            "{}:{}:{}:{}:{}",
            n.hostname, n.ctrlport, n.cuk, n.custom_seed, n.ctlendpoints
        ),
        None => format!("{host}:{port}:{cuk}:{seed}:{eps}"),
    }
}

/// Connections a `sock=` value lists (every value but -1).
fn sock_count(v: &str) -> i64 {
    trim(v)
        .split(',')
        .map(trim)
        .filter(|s| !s.is_empty() && *s != "-1")
        .count() as i64
}

/// The lists of a status check: the known nodes and the printing flags.
pub struct Ctx<'a> {
    pub reg: &'a mut Registry,
    pub targets: &'a [NodeInfo],
    pub initial: &'a [NodeInfo],
    pub v: Verbosity,
}

impl Ctx<'_> {
    fn key(&mut self, u: &Unit) -> String {
        let hp = HostParam {
            host: u.hostname.clone(),
            port: u.ctrlport,
            cuk: u.cuk.clone(),
            ctlendpoints: u.ctlendpoints.clone(),
            custom_seed: u.custom_seed.clone(),
        };
        map_key(self.reg, self.targets, self.initial, &hp)
    }
}

/// Outcome of reading one CHMPX record of a DUMP.
enum UnitRead {
    Error,
    /// The record of the node whose DUMP this is (skipped in its own lists).
    Excepted,
    Read(Box<Unit>),
}

/// Reads one record (`chmpx{` inside a list, `{` for self).
fn parse_unit<'a>(
    ctx: &mut Ctx,
    except: u64,
    in_array: bool,
    sock_from: bool,
    input: &'a str,
) -> (UnitRead, &'a str) {
    let v = ctx.v;
    let start = if in_array { "chmpx{\n" } else { "{\n" };
    let Some(mut s) = after(input, start) else {
        v.err("Could not found \"chmpx{\" or \"{\" key in DUMP result.");
        return (UnitRead::Error, input);
    };
    let take = |s: &mut &'a str, key: &str, optional: bool| -> Result<String, ()> {
        match keyed(s, key) {
            Ok((val, rest)) => {
                *s = rest;
                Ok(val)
            }
            Err(true) if optional => {
                v.msg(format!(
                    "Could not found \"{key}\" key in DUMP result, then skip this..."
                ));
                Ok(String::new())
            }
            Err(m) => {
                key_missing(&v, key, m);
                Err(())
            }
        }
    };
    let Ok(idtext) = take(&mut s, "chmpxid=", false) else {
        return (UnitRead::Error, s);
    };
    let Some(chmpxid) = chmpxid_value(&idtext) else {
        v.err("\"chmpxid=\" value does not start \"0x\" in DUMP result.");
        return (UnitRead::Error, s);
    };
    let mut vals: Vec<String> = Vec::new();
    for (key, optional) in [
        ("name=", false),
        ("base_hash=", false),
        ("pending_hash=", false),
        ("ctlport=", false),
        ("cuk=", true),
        ("custom_seed=", true),
        ("ctlendpoints=", true),
        ("sock=", false),
        ("last_status_time=", false),
        ("status=", false),
    ] {
        match take(&mut s, key, optional) {
            Ok(val) => vals.push(val),
            Err(()) => return (UnitRead::Error, s),
        }
    }
    // "status=" was read as a whole line; keep what follows "->".
    let status_line = vals.pop().unwrap_or_default();
    let Some(status) = after(&status_line, "->") else {
        v.err("Could not found \"status=SAFE->\" key in DUMP result.");
        return (UnitRead::Error, s);
    };
    let status = trim(status).to_string();
    let end = if in_array { "}\n}\n" } else { "}\n" };
    let Some(rest) = after(s, end) else {
        v.err("Could not found \"}}\" or \"}\" key in DUMP result.");
        return (UnitRead::Error, s);
    };
    s = rest;
    if except != CHM_INVALID_CHMPXID && chmpxid == except {
        return (UnitRead::Excepted, s);
    }
    let socks = sock_count(&vals[7]);
    let (tosock, fromsock) = if sock_from { (0, socks) } else { (socks, 0) };
    let unit = Unit {
        is_down: false,
        chmpxid,
        hostname: ctx.reg.hosts.first_name(&vals[0]),
        ctrlport: atos(&vals[3]),
        cuk: vals[4].clone(),
        ctlendpoints: vals[6].clone(),
        custom_seed: vals[5].clone(),
        hash: vals[1].clone(),
        pendinghash: vals[2].clone(),
        tosockcnt: tosock,
        fromsockcnt: fromsock,
        lastupdatetime: atoll(&vals[8]),
        status,
        check: CheckPart::default(),
    };
    (UnitRead::Read(Box::new(unit)), s)
}

/// Reads a list of records into `units` (keyed by node), skipping the DUMP's own node.
fn parse_units<'a>(
    ctx: &mut Ctx,
    units: &mut Units,
    except: u64,
    sock_from: bool,
    input: &'a str,
) -> &'a str {
    let v = ctx.v;
    let Some(mut s) = after(input, "{\n") else {
        v.err("Could not found \"{\" key in DUMP result.");
        return input;
    };
    while !s.starts_with("}\n") && s.contains("}\n") {
        let Some(rest) = s.strip_prefix('[') else {
            return s;
        };
        let Some(rest) = after(rest, "]={\n") else {
            v.err("Could not found \"[XX]={\" key in DUMP result.");
            return rest;
        };
        let (read, rest) = parse_unit(ctx, except, true, sock_from, rest);
        s = rest;
        if let UnitRead::Read(u) = read {
            let key = ctx.key(&u);
            units.insert(key, *u);
        }
    }
    match s.strip_prefix("}\n") {
        Some(rest) => rest,
        None => {
            v.err("Could not found end of chmpx \"}\" key in DUMP result.");
            s
        }
    }
}

/// One node's DUMP as a [`Detail`]; `chmpxid` is the node's own id (checked).
pub fn status_detail(ctx: &mut Ctx, chmpxid: u64, dump: &str) -> Option<Detail> {
    let v = ctx.v;
    let Some(rest) = after(dump, "chmpx_man{\n") else {
        v.err("Could not found \"chmpx_man\" key in DUMP result.");
        return None;
    };
    let text = cut_space(rest);
    let Some(rest) = after(&text, "chmpx_self=") else {
        v.err("Could not found \"chmpx_self=\" key in DUMP result.");
        return None;
    };
    let Some((_, mut s)) = line(rest) else {
        v.err("Could not found CR after \"chmpx_self=\" key in DUMP result.");
        return None;
    };
    let mut d = Detail::default();
    let (read, rest) = parse_unit(ctx, CHM_INVALID_CHMPXID, false, true, s);
    s = rest;
    let UnitRead::Read(me) = read else {
        v.err(format!(
            "Could not parse self chmpx by chmpxid(0x{chmpxid:016x})"
        ));
        return None;
    };
    if me.chmpxid != chmpxid {
        v.err(format!(
            "Parsed self chmpx expected chmpxid(0x{chmpxid:016x}), but it has chmpxid(0x{:016x}).",
            me.chmpxid
        ));
        return None;
    }
    d.me = *me;
    let except = d.me.chmpxid;
    for (key, server) in [("chmpx_servers=", true), ("chmpx_slaves=", false)] {
        let Some(rest) = after(s, key) else {
            v.wan(format!("Could not found \"{key}\" key in DUMP result."));
            continue;
        };
        let Some((count, rest)) = line(rest) else {
            v.err(format!(
                "Could not found CR after \"{key}\" key in DUMP result."
            ));
            return None;
        };
        s = rest;
        if trim(count) != "0" {
            let units = if server {
                &mut d.servers
            } else {
                &mut d.slaves
            };
            s = parse_units(ctx, units, except, server, s);
        }
    }
    d.me.tosockcnt = d.slaves.values().map(|u| u.tosockcnt).sum();
    d.me.fromsockcnt = d.servers.values().map(|u| u.fromsockcnt).sum();
    Some(d)
}

// ---- the cross check ---------------------------------------------------------------------

/// The next `[part]` of a status text.
fn status_part(s: &mut String) -> String {
    let Some(p) = s.find('[') else {
        s.clear();
        return String::new();
    };
    let rest = s[p + 1..].to_string();
    match rest.find(']') {
        None => {
            s.clear();
            rest
        }
        Some(q) => {
            let part = trim(&rest[..q]).to_string();
            *s = rest[q + 1..].to_string();
            part
        }
    }
}

/// Compares two status texts part by part: (total, ring, live, action, operation, suspend).
fn status_check(a: &str, b: &str) -> (u32, [u32; 5]) {
    let (mut a, mut b) = (a.to_string(), b.to_string());
    let mut total = CHK_NOERR;
    let mut parts = [CHK_NOERR; 5];
    for p in &mut parts {
        if status_part(&mut a) != status_part(&mut b) {
            total |= CHK_ERR;
            *p = CHK_ERR;
        }
    }
    (total, parts)
}

/// What node `b_detail` (the DUMP of node B) says about node `a_key`, from B's point of view
/// (its sockets to and from A), or `None` when B does not list A.
fn view_of(b_detail: &Detail, a_key: &str) -> Option<Unit> {
    let mut out: Option<Unit> = None;
    if let Some(u) = b_detail.servers.get(a_key) {
        let mut u = u.clone();
        u.tosockcnt = u.fromsockcnt;
        u.fromsockcnt = 0;
        out = Some(u);
    }
    if let Some(u) = b_detail.slaves.get(a_key) {
        match out.as_mut() {
            None => {
                let mut u = u.clone();
                u.fromsockcnt = u.tosockcnt;
                u.tosockcnt = 0;
                out = Some(u);
            }
            Some(o) => o.fromsockcnt = u.tosockcnt,
        }
    }
    out
}

/// For every node (or the one `key` names): how each other node sees it, and whether those
/// views agree with its own (status, hash, pending hash, socket counts).
pub fn check_nodes(all: &Details, only: Option<&str>) -> NodeChecks {
    let mut results = NodeChecks::new();
    for (a_key, a) in all {
        if only.is_some_and(|k| k != a_key) {
            continue;
        }
        let mut r = NodeCheck {
            noderesult: CHK_NOERR,
            all: Detail {
                me: a.me.clone(),
                ..Detail::default()
            },
        };
        if a.me.is_down {
            // A down node: what the others that list it say.
            for (b_key, b) in all {
                let in_servers = b.servers.contains_key(a_key.as_str());
                if let Some(u) = view_of(b, a_key) {
                    if in_servers {
                        r.all.servers.insert(b_key.clone(), u);
                    } else {
                        r.all.slaves.insert(b_key.clone(), u);
                    }
                }
            }
        } else {
            for (is_server, list) in [(true, &a.servers), (false, &a.slaves)] {
                for (b_key, b_unit) in list {
                    if !is_server && r.all.servers.contains_key(b_key) {
                        continue;
                    }
                    let child = match all.get(b_key) {
                        Some(b) if b.me.is_down => continue,
                        Some(b) => {
                            let mut u = view_of(b, a_key).unwrap_or_else(Unit::cleared);
                            u.chmpxid = b.me.chmpxid;
                            u.hostname = b.me.hostname.clone();
                            u.ctrlport = b.me.ctrlport;
                            u.cuk = b.me.cuk.clone();
                            u.ctlendpoints = b.me.ctlendpoints.clone();
                            u.custom_seed = b.me.custom_seed.clone();
                            u
                        }
                        None => Unit {
                            chmpxid: b_unit.chmpxid,
                            hostname: b_unit.hostname.clone(),
                            ctrlport: b_unit.ctrlport,
                            cuk: b_unit.cuk.clone(),
                            ctlendpoints: b_unit.ctlendpoints.clone(),
                            custom_seed: b_unit.custom_seed.clone(),
                            ..Unit::cleared()
                        },
                    };
                    if is_server {
                        r.all.servers.insert(b_key.clone(), child);
                    } else {
                        r.all.slaves.insert(b_key.clone(), child);
                    }
                }
            }
        }
        results.insert(a_key.clone(), r);
    }

    for r in results.values_mut() {
        let (to, from) = r
            .all
            .servers
            .values()
            .chain(r.all.slaves.values())
            .fold((0, 0), |(t, f), u| (t + u.tosockcnt, f + u.fromsockcnt));
        let me = &mut r.all.me;
        if me.tosockcnt != to {
            r.noderesult = CHK_ERR;
            me.check.tosockcnt = CHK_ERR;
        }
        if me.fromsockcnt != from {
            r.noderesult = CHK_ERR;
            me.check.fromsockcnt = CHK_ERR;
        }
        if me.is_down {
            // Judge a down node by what one of the others says of it.
            if let Some(u) = r
                .all
                .servers
                .values()
                .next()
                .or_else(|| r.all.slaves.values().next())
            {
                me.hash = u.hash.clone();
                me.pendinghash = u.pendinghash.clone();
                me.status = u.status.clone();
            }
        }
        let me_c = me.clone();
        let mut node = r.noderesult;
        let mut mine = me_c.check;
        for u in r.all.servers.values_mut().chain(r.all.slaves.values_mut()) {
            let (total, [ring, live, act, opr, sus]) = status_check(&u.status, &me_c.status);
            node |= total;
            mine.status |= total;
            mine.status_ring |= ring;
            mine.status_live |= live;
            mine.status_act |= act;
            mine.status_opr |= opr;
            mine.status_sus |= sus;
            u.check.status = total;
            u.check.status_ring = ring;
            u.check.status_live = live;
            u.check.status_act = act;
            u.check.status_opr = opr;
            u.check.status_sus = sus;
            if u.hash != me_c.hash {
                node |= CHK_ERR;
                mine.hash |= CHK_ERR;
                u.check.hash = CHK_ERR;
            }
            if u.pendinghash != me_c.pendinghash {
                node |= CHK_WARN;
                mine.pending |= CHK_WARN;
                u.check.pending = CHK_WARN;
            }
            u.check.tosockcnt = mine.tosockcnt;
            u.check.fromsockcnt = mine.fromsockcnt;
        }
        r.noderesult = node;
        r.all.me.check = mine;
    }
    results
}

// ---- texts -------------------------------------------------------------------------------

fn result_name(t: u32) -> &'static str {
    match t {
        CHK_NOERR => "No error",
        CHK_WARN => "Warning",
        CHK_ERR => "Error",
        _ => "Unknown",
    }
}

fn dump_check_part(o: &mut String, c: &CheckPart, prefix: &str, ind: &str) {
    *o += &format!("{ind}{prefix} = {{\n");
    for (k, val) in [
        ("result_status        ", c.status),
        ("result_status_ring   ", c.status_ring),
        ("result_status_live   ", c.status_live),
        ("result_status_act    ", c.status_act),
        ("result_status_opr    ", c.status_opr),
        ("result_status_sus    ", c.status_sus),
        ("result_hash          ", c.hash),
        ("result_pending       ", c.pending),
        ("result_tosockcnt     ", c.tosockcnt),
        ("result_fromsockcnt   ", c.fromsockcnt),
        ("result_lastupdatetime", c.lastupdatetime),
    ] {
        *o += &format!("{ind}  {k} = {}\n", result_name(val));
    }
    *o += &format!("{ind}}}\n");
}

fn dump_unit(o: &mut String, u: &Unit, prefix: &str, ind: &str, with_result: bool) {
    *o += &format!("{ind}{prefix} = {{\n");
    *o += &format!(
        "{ind}  node is        = {}\n",
        if u.is_down { "down" } else { "up" }
    );
    *o += &format!("{ind}  chmpxid        = 0x{:016x}\n", u.chmpxid);
    *o += &format!("{ind}  hostname       = {}\n", u.hostname);
    *o += &format!("{ind}  ctlport        = {}\n", u.ctrlport);
    *o += &format!("{ind}  cuk            = {}\n", u.cuk);
    *o += &format!("{ind}  ctlendpoints   = {}\n", u.ctlendpoints);
    *o += &format!("{ind}  custom_seed    = {}\n", u.custom_seed);
    *o += &format!("{ind}  hash           = {}\n", u.hash);
    *o += &format!("{ind}  pendinghash    = {}\n", u.pendinghash);
    *o += &format!("{ind}  tosockcnt      = {}\n", u.tosockcnt);
    *o += &format!("{ind}  fromsockcnt    = {}\n", u.fromsockcnt);
    *o += &format!("{ind}  lastupdatetime = {}\n", u.lastupdatetime);
    *o += &format!("{ind}  status         = {}\n", u.status);
    if with_result {
        dump_check_part(o, &u.check, "checkresult", &format!("{ind}  "));
    }
    *o += &format!("{ind}}}\n");
}

fn dump_units(o: &mut String, units: &Units, prefix: &str, ind: &str, with_result: bool) {
    *o += &format!("{ind}{prefix} = {{\n");
    let ind2 = format!("{ind}  ");
    for (k, u) in units {
        dump_unit(o, u, k, &ind2, with_result);
    }
    *o += &format!("{ind}}}\n");
}

fn dump_detail(o: &mut String, d: &Detail, prefix: &str, ind: &str, with_result: bool) {
    *o += &format!("{ind}{prefix} = {{\n");
    let ind2 = format!("{ind}  ");
    dump_unit(o, &d.me, "self", &ind2, with_result);
    dump_units(o, &d.servers, "servers", &ind2, with_result);
    dump_units(o, &d.slaves, "slaves", &ind2, with_result);
    *o += &format!("{ind}}}\n");
}

/// The `dump` level listing of every node's DUMP as read.
pub fn dump_details_text(all: &Details) -> String {
    let mut o = String::from("DUMP = {\n");
    for (k, d) in all {
        dump_detail(&mut o, d, k, "  ", false);
    }
    o += "}\n";
    o
}

/// The `dump` level listing of the check results.
pub fn dump_checks_text(results: &NodeChecks) -> String {
    let mut o = String::from("DUMP = {\n");
    for (k, r) in results {
        o += &format!("  {k} = {{\n");
        o += &format!("    noderesult = {}\n", result_name(r.noderesult));
        dump_detail(&mut o, &r.all, "all", "    ", true);
        o += "  }\n";
    }
    o += "}\n";
    o
}

/// A status word: the word, the text shown, its colour and the blanks that align the next
/// column (an empty text shows nothing).
type StatusWord = (&'static str, &'static str, Color, &'static str);

/// The words of one part of a status text, then the blanks after UNKNOWN (any other word).
type StatusPart = (&'static [StatusWord], &'static str);

const RING_PART: StatusPart = (
    &[
        ("SLAVE", "SLAVE", Color::Green, "      "),
        ("SERVICEOUT", "SERVICE OUT", Color::Red, ""),
        ("SERVICEIN", "SERVICE IN", Color::Green, " "),
    ],
    "    ",
);
const LIVE_PART: StatusPart = (
    &[
        ("UP", "UP", Color::Green, "    "),
        ("DOWN", "DOWN", Color::Red, "  "),
    ],
    "",
);
const NA: StatusWord = ("n/a", "n/a", Color::Green, "    ");
const ADD: StatusWord = ("ADD", "ADD", Color::Yellow, "    ");
/// The action part; `check` aligns DELETE one blank further than `status all`.
const ACT_PART: StatusPart = (&[NA, ADD, ("DELETE", "DELETE", Color::Yellow, " ")], "");
const ACT_PART_CHECK: StatusPart = (&[NA, ADD, ("DELETE", "DELETE", Color::Yellow, "  ")], "");
const OPR_PART: StatusPart = (
    &[
        ("Nothing", "Nothing", Color::Green, ""),
        ("Pending", "Pending", Color::Magenta, ""),
        ("Doing", "Doing", Color::Yellow, "  "),
        ("Done", "Done", Color::Blue, "   "),
    ],
    "",
);
const SUSPEND: StatusWord = ("Suspend", "Suspend", Color::Red, "");
const NOSUSPEND: StatusWord = ("NoSuspend", "NoSuspend", Color::Green, "");
/// The suspend part; `status all` shows nothing for "Doing" there.
const SUS_PART: StatusPart = (&[SUSPEND, NOSUSPEND, ("Doing", "", Color::Green, "")], "");
const SUS_PART_CHECK: StatusPart = (&[SUSPEND, NOSUSPEND], "");

/// A status text part by part (ring, live, action, operation, suspend), each word shown
/// by `show(part index, text, colour, known)` in brackets.
fn status_columns(
    status: &str,
    parts: [StatusPart; 5],
    show: impl Fn(usize, &str, Color, bool) -> String,
) -> String {
    let mut s = status.to_string();
    let mut o = String::new();
    for (i, (words, unknown_pad)) in parts.iter().enumerate() {
        let part = status_part(&mut s);
        match words.iter().find(|w| w.0 == part) {
            Some((_, "", _, _)) => {}
            Some((_, text, c, pad)) => o += &format!("[{}]{pad}", show(i, text, *c, true)),
            None => o += &format!("[{}]{unknown_pad}", show(i, "UNKNOWN", Color::Red, false)),
        }
    }
    o
}

/// A status text as `status all` shows it (no check marks).
fn status_words(p: &Painter, status: &str) -> String {
    let parts = [RING_PART, LIVE_PART, ACT_PART, OPR_PART, SUS_PART];
    status_columns(status, parts, |_, text, c, known| {
        if known {
            p.fg(text, c)
        } else {
            p.bg(text, c)
        }
    })
}

/// An ALLSTATUS answer as `status all` prints it; `None` (after saying why) when it cannot
/// be read.
pub fn allstatus_text(p: &Painter, answer: &str, v: &Verbosity) -> Option<String> {
    let text = cut_space(answer);
    let mut s: &str = cut_empty_line(&text);
    let missing = |what: &str| {
        v.err(format!(
            "Could not found \"{what}\" key in ALLSTATUS result."
        ));
    };
    let no_cr = |what: &str| {
        v.err(format!(
            "Could not found CR after \"{what}=\" key in ALLSTATUS result."
        ));
    };
    let Some(rest) = after(s, "RINGName=") else {
        missing("RING Name");
        return None;
    };
    let Some((ring, rest)) = line(rest) else {
        no_cr("RING Name");
        return None;
    };
    s = rest;
    let mut o = format!(" {} = {{\n", trim(ring));
    // Each server: "No.n", then its keys in order.
    while s.contains("No.") {
        let Some(rest) = s.get(3..) else { break };
        let Some((_, rest)) = line(rest) else {
            v.err("Could not found CR after \"No.XX\" key in ALLSTATUS result.");
            return None;
        };
        s = rest;
        let get = |s: &mut &str, key: &str, what: &str, optional: bool| -> Result<String, ()> {
            match after(s, key) {
                None if optional => {
                    v.msg(format!(
                        "Could not found \"{what}\" key in ALLSTATUS result."
                    ));
                    Ok(String::new())
                }
                None => {
                    missing(what);
                    Err(())
                }
                Some(rest) => match line(rest) {
                    Some((val, rest)) => {
                        *s = rest;
                        Ok(trim(val).to_string())
                    }
                    None => {
                        no_cr(what);
                        Err(())
                    }
                },
            }
        };
        let name = get(&mut s, "ServerName=", "Server Name", false).ok()?;
        let port = get(&mut s, "Port=", "Port", false).ok()?;
        let ctlport = get(&mut s, "ControlPort=", "Control Port", false).ok()?;
        let cuk = get(&mut s, "CUK=", "CUK", true).ok()?;
        let seed = get(&mut s, "CustomIDSeed=", "Custom ID Seed", true).ok()?;
        let eps = get(&mut s, "ControlEndppoints=", "Control Endppoints", true).ok()?;
        let ssl = get(&mut s, "UseSSL=", "Use SSL", false).ok()?;
        let (is_ssl, mut ssl_text) = match ssl.as_str() {
            "yes" => (true, "(SSL".to_string()),
            "no" => (false, String::new()),
            _ => (false, format!("({}", p.fg("unknown SSL", Color::Red))),
        };
        let mut verify = String::new();
        if is_ssl && s.starts_with("VerifyPeer=") {
            let (val, rest) = match line(&s["VerifyPeer=".len()..]) {
                Some(x) => x,
                None => {
                    no_cr("Verify Peer");
                    return None;
                }
            };
            s = rest;
            verify = match trim(val) {
                "yes" => ":Client Verify".to_string(),
                "no" => String::new(),
                _ => format!(":{}", p.fg("unknown client verify", Color::Red)),
            };
        }
        if !ssl_text.is_empty() {
            ssl_text += &verify;
            ssl_text += ")";
        }
        let status_all = get(&mut s, "ServerStatus=", "Server Status", false).ok()?;
        let Some(bpos) = status_all.find('(') else {
            v.err("Could not found \"0xXXXX(\" key in ALLSTATUS result.");
            return None;
        };
        let status_bin = trim(&status_all[..bpos]).to_string();
        let Some(rest) = after(&status_all[bpos + 1..], "->") else {
            v.err("Could not found \"SAFE->\" key in ALLSTATUS result.");
            return None;
        };
        let Some(epos) = rest.find(')') else {
            v.err("Could not found CR after \"...[STATUS...])\" key in ALLSTATUS result.");
            return None;
        };
        let status_text = trim(&rest[..epos]).to_string();
        let mut last = get(&mut s, "LastUpdate=", "Last Update", false).ok()?;
        if let Some(q) = last.find('(') {
            last = last[q + 1..].to_string();
            if let Some(e) = last.find(')') {
                last.truncate(e);
            }
        }
        let t = atoll(&last);
        let last = format!("{}({t})", update_time_text(t));
        let hash = get(&mut s, "EnableHashValue=", "Enable Hash Value", false).ok()?;
        let Some(rest) = after(s, "PendingHashValue=") else {
            missing("Pending Hash Value");
            return None;
        };
        let pending = match line(rest) {
            Some((val, rest)) => {
                s = rest;
                trim(val).to_string()
            }
            None => {
                s = "";
                trim(rest).to_string()
            }
        };
        o += &format!("     {} = {{\n", p.bold(&name));
        o += &format!(
            "         Status(Bin)   = {}({status_bin})\n",
            status_words(p, &status_text)
        );
        o += &format!("         Hash(Pending) = {hash}({pending})\n");
        o += &format!("         Port/Ctlport  = {port}{ssl_text}/{ctlport}\n");
        if !eps.is_empty() {
            o += &format!("         Ctl Endpoints = {eps}\n");
        }
        if !cuk.is_empty() {
            o += &format!("         CUK           = {cuk}\n");
        }
        if !seed.is_empty() {
            o += &format!("         Custom ID Seed= {seed}\n");
        }
        o += &format!("         Last Update   = {last}\n");
        o += "     }\n";
    }
    o += " }\n";
    Some(o)
}

/// One status part with its check mark: plain colour when it agrees, a highlighted
/// background when it does not.
fn marked(p: &Painter, word: &str, c: Color, check: u32) -> String {
    if check == CHK_NOERR {
        p.fg(word, c)
    } else {
        p.alert(word, c)
    }
}

/// The status of a node in `check` (the suspend part follows the operation part's mark).
fn node_status_text(p: &Painter, status: &str, c: &CheckPart) -> String {
    let parts = [
        RING_PART,
        LIVE_PART,
        ACT_PART_CHECK,
        OPR_PART,
        SUS_PART_CHECK,
    ];
    let checks = [
        c.status_ring,
        c.status_live,
        c.status_act,
        c.status_opr,
        c.status_opr,
    ];
    status_columns(status, parts, |i, text, color, _| {
        marked(p, text, color, checks[i])
    })
}

fn level_text(p: &Painter, text: &str, check: u32) -> String {
    match check {
        CHK_NOERR => text.to_string(),
        CHK_WARN => p.alert(text, Color::Yellow),
        _ => p.alert(text, Color::Red),
    }
}

fn node_lines(p: &Painter, u: &Unit) -> String {
    let c = &u.check;
    let mut o = format!(
        "    status            = {}\n",
        node_status_text(p, &u.status, c)
    );
    o += &format!(
        "    hash(pending)     = {}({})\n",
        level_text(p, &u.hash, c.hash),
        level_text(p, &u.pendinghash, c.pending)
    );
    o += &format!(
        "    sockcount(in/out) = {}/{}\n",
        level_text(p, &u.tosockcnt.to_string(), c.tosockcnt),
        level_text(p, &u.fromsockcnt.to_string(), c.fromsockcnt)
    );
    let t = u.lastupdatetime;
    o += &format!(
        "    lastupdatetime    = {}({})\n",
        level_text(p, &update_time_text(t), c.lastupdatetime),
        level_text(p, &t.to_string(), c.lastupdatetime)
    );
    o
}

/// `check` of every node: one block each, headed OK / WARN / ERR.
pub fn all_checks_text(p: &Painter, results: &NodeChecks) -> String {
    let mut o = String::new();
    for (k, r) in results {
        o += &match r.noderesult {
            CHK_NOERR => format!("{}   ", p.bg("OK", Color::Green)),
            CHK_WARN => format!("{} ", p.alert("WARN", Color::Yellow)),
            _ => format!("{}  ", p.alert("ERR", Color::Red)),
        };
        o += &format!("{} = {{\n", p.bold(k));
        o += &node_lines(p, &r.all.me);
        o += "}\n";
    }
    o
}

/// `check <host>`: the node as it sees itself, then as each other node sees it.
pub fn one_check_text(p: &Painter, results: &NodeChecks) -> String {
    let Some((k, r)) = results.iter().next() else {
        return String::new();
    };
    let mut o = format!("{} = {{\n", p.bold(k));
    o += "  basis = {\n";
    o += &node_lines(p, &r.all.me);
    o += "  }\n";
    for (uk, u) in r.all.servers.iter().chain(r.all.slaves.iter()) {
        o += &format!("  {} = {{\n", p.bold(uk));
        o += &node_lines(p, u);
        o += "  }\n";
    }
    o += "}\n";
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(hex_number("3eaa41b203162ae0"), 0x3eaa41b203162ae0);
        assert_eq!(chmpxid_value("0xff"), Some(0xff));
        assert_eq!(chmpxid_value("0"), None);
        assert_eq!(atoll(" 123x"), 123);
        assert_eq!(atoll("-5"), -5);
        assert_eq!(sock_count("-1"), 0);
        assert_eq!(sock_count("12, 13"), 2);
        assert_eq!(sock_count(""), 0);
    }

    /// The DUMP of an original chmpx server (two servers, the other server and a slave
    /// connected to it).
    const ORIGINAL_DUMP: &str = include_str!("testdata/original_dump.txt");

    fn registry() -> Registry {
        fn no_lookup(_: &str) -> Option<Vec<String>> {
            None
        }
        Registry {
            group: "LTORIG".into(),
            id_type: crate::config::ChmpxIdType::Name,
            hosts: super::super::nodes::HostnameMap::with_lookup(no_lookup),
        }
    }

    #[test]
    fn original_dump_nodes() {
        let mut reg = registry();
        let mut nodes = Vec::new();
        assert!(add_nodes_from_dump(
            &mut reg,
            &mut nodes,
            ORIGINAL_DUMP,
            &Verbosity::SILENT
        ));
        let got: Vec<(u64, i16, bool)> = nodes
            .iter()
            .map(|n| (n.chmpxid, n.ctrlport, n.is_server))
            .collect();
        // The other server is listed as a server and as a slave: it stays a server (the
        // original tool kept the entry it read last, the slave one).
        assert_eq!(
            got,
            [
                (0x3eaa41b203162ae0, 8511, true),
                (0x3ebf609c031636c5, 8513, true),
                (0x3ebf6402031636c5, 8515, false),
            ]
        );
        let (group, kind, local) =
            nodes_of_local_dump(&mut reg, ORIGINAL_DUMP, &Verbosity::SILENT).unwrap();
        assert_eq!((group.as_str(), kind.as_str()), ("LTORIG", "name"));
        assert_eq!(local.len(), 3);
        assert!(local[0].is_server && local[0].hostname == "127.0.1.1");
    }

    #[test]
    fn original_dump_details() {
        let mut reg = registry();
        let v = Verbosity::SILENT;
        let mut ctx = Ctx {
            reg: &mut reg,
            targets: &[],
            initial: &[],
            v,
        };
        assert!(status_detail(&mut ctx, 0x1234, ORIGINAL_DUMP).is_none());
        let d = status_detail(&mut ctx, 0x3eaa41b203162ae0, ORIGINAL_DUMP).unwrap();
        assert_eq!(d.me.status, "[SERVICEIN][UP][n/a][Nothing][NoSuspend]");
        assert_eq!((d.me.hash.as_str(), d.me.pendinghash.as_str()), ("0", "0"));
        assert_eq!(d.me.lastupdatetime, 30131507096601201);
        // Self is not repeated among the servers.
        assert_eq!(d.servers.len(), 1);
        let s = &d.servers["127.0.1.1:8513:::"];
        assert_eq!((s.hash.as_str(), s.fromsockcnt, s.tosockcnt), ("0x1", 1, 0));
        assert_eq!(d.slaves.len(), 2);
        assert_eq!(d.slaves["127.0.1.1:8515:::"].tosockcnt, 1);
        assert_eq!((d.me.tosockcnt, d.me.fromsockcnt), (2, 1));

        // A check of this node alone: the nodes it lists are not in the table (not
        // reachable), so they count as cleared views and disagree.
        let mut all = Details::new();
        all.insert("127.0.1.1:8511:::".into(), d);
        let r = check_nodes(&all, None);
        let me = &r["127.0.1.1:8511:::"];
        assert_eq!(me.noderesult, CHK_ERR);
        assert_eq!(me.all.servers.len(), 1);
        assert_eq!(me.all.slaves.len(), 1);
        let text = all_checks_text(&Painter { enabled: false }, &r);
        assert!(text.starts_with("ERR  127.0.1.1:8511::: = {\n    status            = [SERVICE IN] [UP]    [n/a]    [Nothing][NoSuspend]\n"));
    }

    #[test]
    fn allstatus() {
        let answer = "RING Name              = G\nNo.1\n  Server Name          = h1\n    Port               = 8020\n    Control Port       = 8021\n    CUK                = \n    Custom ID Seed     = \n    Endpoints          = \n    Control Endppoints = \n    Forward Peers      = \n    Reverse Peers      = \n    Use SSL            = yes\n    Verify Peer        = yes\n    Server Status      = 0x21(SAFE -> [SERVICE IN][UP][n/a][Nothing][NoSuspend])\n    Last Update        = x(0)\n    Enable Hash Value  = 0x0\n    Pending Hash Value = 0x0\n";
        let t = allstatus_text(&Painter { enabled: false }, answer, &Verbosity::SILENT).unwrap();
        assert!(t.starts_with(" G = {\n     h1 = {\n         Status(Bin)   = [SERVICE IN] [UP]    [n/a]    [Nothing][NoSuspend](0x21)\n         Hash(Pending) = 0x0(0x0)\n         Port/Ctlport  = 8020(SSL:Client Verify)/8021\n"), "{t}");
        assert!(t.ends_with("(0)\n     }\n }\n"));
        assert!(
            allstatus_text(&Painter { enabled: false }, "nothing", &Verbosity::SILENT).is_none()
        );
    }

    #[test]
    fn status_parts() {
        let (t, parts) = status_check(
            "[SERVICEIN][UP][n/a][Nothing][NoSuspend]",
            "[SERVICEIN][DOWN][n/a][Nothing][NoSuspend]",
        );
        assert_eq!(t, CHK_ERR);
        assert_eq!(parts, [0, CHK_ERR, 0, 0, 0]);
        let p = Painter { enabled: false };
        assert_eq!(
            status_words(&p, "[SERVICEIN][UP][n/a][Nothing][NoSuspend]"),
            "[SERVICE IN] [UP]    [n/a]    [Nothing][NoSuspend]"
        );
        assert_eq!(
            status_words(&p, "[SLAVE][UP][n/a][Nothing][NoSuspend]"),
            "[SLAVE]      [UP]    [n/a]    [Nothing][NoSuspend]"
        );
    }
}
