//! The chmpx nodes the tool knows, and how it decides that two entries are the same chmpx.
//!
//! A node is named as its configuration or a DUMP answer names it (a host name or an address,
//! the control port, CUK, control endpoints, custom seed). Two entries are the same node when
//! their chmpxids meet: each entry stands for the chmpxid it came with and the chmpxids its
//! host's other names would give. Host names are looked up once and kept; names that share an
//! alias are merged into one list, as the original's `HostnameMap` does.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::{hosts, ChmpxIdType};
use crate::ring;
use crate::wire::CHM_INVALID_CHMPXID;

/// One alias of a host; `confirmed` when name resolution gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    pub name: String,
    pub confirmed: bool,
}

/// The names of `target` (not its addresses), `None` when it does not resolve. For the
/// loopback keywords these are this host's names. An address other than a loopback keyword
/// is not looked up: it is never among its own names, so it has no alias list anyway, and
/// reverse lookups can be slow.
pub fn lookup_host_names(target: &str) -> Option<Vec<String>> {
    if target.is_empty()
        || (!hosts::is_localhost_keyword(target) && target.parse::<IpAddr>().is_ok())
    {
        return None;
    }
    if !hosts::is_localhost_keyword(target) && hosts::resolve_addrs(target).is_empty() {
        return None;
    }
    let names: Vec<String> = hosts::host_names(target)
        .into_iter()
        .filter(|n| n.parse::<IpAddr>().is_err())
        .collect();
    (!names.is_empty()).then_some(names)
}

/// How long a name lookup is reused (the original's name cache keeps entries 60 s).
const LOOKUP_ALIVE: Duration = Duration::from_secs(60);

/// Host name aliases, looked up once.
pub struct HostnameMap {
    lists: Vec<Vec<HostInfo>>,
    map: HashMap<String, usize>,
    unknown: HashSet<String>,
    lookup: fn(&str) -> Option<Vec<String>>,
    cache: HashMap<String, (Instant, Option<Vec<String>>)>,
}

impl Default for HostnameMap {
    fn default() -> Self {
        Self::with_lookup(lookup_host_names)
    }
}

impl HostnameMap {
    pub fn with_lookup(lookup: fn(&str) -> Option<Vec<String>>) -> HostnameMap {
        HostnameMap {
            lists: Vec::new(),
            map: HashMap::new(),
            unknown: HashSet::new(),
            lookup,
            cache: HashMap::new(),
        }
    }

    /// A name lookup, reused for a while: resolvers can be slow.
    fn cached_lookup(&mut self, target: &str) -> Option<Vec<String>> {
        if let Some((at, r)) = self.cache.get(target) {
            if at.elapsed() < LOOKUP_ALIVE {
                return r.clone();
            }
        }
        let r = (self.lookup)(target);
        self.cache
            .insert(target.to_string(), (Instant::now(), r.clone()));
        r
    }

    fn add_unique(list: &mut Vec<HostInfo>, name: &str, confirmed: bool) {
        match list.iter_mut().find(|h| h.name == name) {
            Some(h) => h.confirmed |= confirmed,
            None => list.push(HostInfo {
                name: name.to_string(),
                confirmed,
            }),
        }
    }

    /// Files `names` as aliases of each other, merging the lists any of them is already in.
    fn make_map(&mut self, names: &[String], confirmed: bool) {
        let mut found: Vec<usize> = Vec::new();
        for n in names {
            if let Some(&i) = self.map.get(n) {
                if !found.contains(&i) {
                    found.push(i);
                }
            }
        }
        let idx = match found.len() {
            0 => {
                self.lists.push(Vec::new());
                self.lists.len() - 1
            }
            1 => found[0],
            _ => {
                let mut merged: Vec<HostInfo> = Vec::new();
                for &i in &found {
                    for h in std::mem::take(&mut self.lists[i]) {
                        Self::add_unique(&mut merged, &h.name, h.confirmed);
                    }
                }
                self.lists.push(merged);
                let new = self.lists.len() - 1;
                for i in self.map.values_mut() {
                    if found.contains(i) {
                        *i = new;
                    }
                }
                new
            }
        };
        for n in names {
            Self::add_unique(&mut self.lists[idx], n, confirmed);
            self.map.insert(n.clone(), idx);
        }
    }

    /// The aliases of `target` (looked up on first use); `None` when it does not resolve or
    /// is not among the names it resolves to (an address).
    pub fn get(&mut self, target: &str) -> Option<Vec<HostInfo>> {
        if target.is_empty() {
            return None;
        }
        if let Some(&i) = self.map.get(target) {
            return Some(self.lists[i].clone());
        }
        if self.unknown.contains(target) {
            return None;
        }
        match self.cached_lookup(target) {
            Some(names) => {
                self.make_map(&names, true);
                // An address is not among its own names: it has no alias list.
                match self.map.get(target) {
                    Some(&i) => Some(self.lists[i].clone()),
                    None => {
                        self.unknown.insert(target.to_string());
                        None
                    }
                }
            }
            None => {
                self.unknown.insert(target.to_string());
                None
            }
        }
    }

    /// Alias names of `target`, optionally only the confirmed ones.
    pub fn names(&mut self, target: &str, only_confirmed: bool) -> Option<Vec<String>> {
        self.get(target).map(|l| {
            l.into_iter()
                .filter(|h| !only_confirmed || h.confirmed)
                .map(|h| h.name)
                .collect()
        })
    }

    /// The first confirmed alias of `target`, else `target`.
    pub fn first_name(&mut self, target: &str) -> String {
        self.names(target, true)
            .and_then(|v| v.into_iter().next())
            .unwrap_or_else(|| target.to_string())
    }

    /// Looks `target` up again (new names join its list).
    pub fn update_confirm(&mut self, target: &str) -> bool {
        if target.is_empty() {
            return false;
        }
        match self.cached_lookup(target) {
            Some(names) => {
                self.unknown.remove(target);
                self.make_map(&names, true);
                true
            }
            None => false,
        }
    }

    /// `dump` level listing of the map.
    pub fn dump(&self) -> String {
        let mut keys: Vec<&String> = self.map.keys().collect();
        keys.sort();
        let mut o = String::from("DUMP : HostnameMap::listmaps {\n");
        for (n, k) in keys.iter().enumerate() {
            o += &format!("    [{n}] {k} = {{\n");
            for h in &self.lists[self.map[*k]] {
                o += &format!(
                    "               {} ({})\n",
                    h.name,
                    if h.confirmed {
                        "comfirmed"
                    } else {
                        "not confirmed"
                    }
                );
            }
            o += "    }\n";
        }
        o += "}\n";
        o
    }
}

/// One chmpx node as the tool knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub chmpxid: u64,
    pub hostname: String,
    pub ctrlport: i16,
    pub cuk: String,
    pub ctlendpoints: String,
    pub custom_seed: String,
    pub is_server: bool,
}

impl NodeInfo {
    /// The parameters of a target ("host:port:cuk:seed:eps").
    pub fn from_param(p: &super::cmdline::HostParam) -> (String, i16, String, String, String) {
        (
            p.host.clone(),
            p.port,
            p.cuk.clone(),
            p.ctlendpoints.clone(),
            p.custom_seed.clone(),
        )
    }
}

/// The group and chmpxid rule of the cluster, and the host aliases.
pub struct Registry {
    pub group: String,
    pub id_type: ChmpxIdType,
    pub hosts: HostnameMap,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            group: String::new(),
            id_type: ChmpxIdType::Name,
            hosts: HostnameMap::default(),
        }
    }
}

impl Registry {
    /// The chmpxid a node with these parameters has in this group.
    pub fn make_chmpxid(&self, host: &str, port: i16, cuk: &str, eps: &str, seed: &str) -> u64 {
        ring::id_seed(&self.group, self.id_type, host, port, cuk, eps, seed)
            .map(|s| ring::chmpxid_of_seed(&s))
            .unwrap_or(CHM_INVALID_CHMPXID)
    }

    /// A node from its parameters, its chmpxid computed (`None` chmpxid) or given.
    #[allow(clippy::too_many_arguments)]
    pub fn node(
        &self,
        chmpxid: Option<u64>,
        host: &str,
        port: i16,
        cuk: &str,
        eps: &str,
        seed: &str,
        is_server: bool,
    ) -> NodeInfo {
        if chmpxid.is_none() && host.is_empty() {
            return NodeInfo {
                chmpxid: CHM_INVALID_CHMPXID,
                hostname: String::new(),
                ctrlport: 0,
                cuk: String::new(),
                ctlendpoints: String::new(),
                custom_seed: String::new(),
                is_server: false,
            };
        }
        NodeInfo {
            chmpxid: chmpxid.unwrap_or_else(|| self.make_chmpxid(host, port, cuk, eps, seed)),
            hostname: host.to_string(),
            ctrlport: port,
            cuk: cuk.to_string(),
            ctlendpoints: eps.to_string(),
            custom_seed: seed.to_string(),
            is_server,
        }
    }

    /// The chmpxid of `n` and the ones its host's aliases give.
    fn chmpxids(&mut self, n: &NodeInfo) -> Vec<u64> {
        let mut ids = Vec::new();
        if n.chmpxid != CHM_INVALID_CHMPXID {
            ids.push(n.chmpxid);
        }
        for name in self.hosts.names(&n.hostname, false).unwrap_or_default() {
            let id = self.make_chmpxid(&name, n.ctrlport, &n.cuk, &n.ctlendpoints, &n.custom_seed);
            if id != CHM_INVALID_CHMPXID && !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// 0 when `a` and `b` are the same node; otherwise positive when `a` sorts first
    /// (smaller chmpxid first, then host name, control port, CUK, endpoints, seed).
    pub fn compare(&mut self, a: &NodeInfo, b: &NodeInfo) -> i32 {
        let (la, lb) = (self.chmpxids(a), self.chmpxids(b));
        if la.iter().any(|x| lb.contains(x)) {
            return 0;
        }
        let (va, vb) = (
            a.chmpxid != CHM_INVALID_CHMPXID,
            b.chmpxid != CHM_INVALID_CHMPXID,
        );
        if va && vb {
            return if a.chmpxid < b.chmpxid { 1 } else { -1 };
        } else if va {
            return 1;
        } else if vb {
            return -1;
        }
        let sign = |o: std::cmp::Ordering| o as i32;
        let r = sign(a.hostname.as_bytes().cmp(b.hostname.as_bytes()));
        if r != 0 {
            return r;
        }
        if a.ctrlport != b.ctrlport {
            return if a.ctrlport < b.ctrlport { 1 } else { -1 };
        }
        let r = sign(a.cuk.as_bytes().cmp(b.cuk.as_bytes()));
        if r != 0 {
            return r;
        }
        let r = sign(a.ctlendpoints.as_bytes().cmp(b.ctlendpoints.as_bytes()));
        if r != 0 {
            return r;
        }
        sign(a.custom_seed.as_bytes().cmp(b.custom_seed.as_bytes()))
    }

    /// Is the node's host name one that resolution confirmed?
    pub fn is_confirmed(&mut self, n: &NodeInfo) -> bool {
        self.hosts
            .names(&n.hostname, true)
            .is_some_and(|v| v.contains(&n.hostname))
    }

    /// Replaces an unconfirmed host name by its first confirmed alias.
    pub fn update_confirmed(&mut self, n: &mut NodeInfo) -> bool {
        if self.is_confirmed(n) {
            return true;
        }
        match self
            .hosts
            .names(&n.hostname, true)
            .and_then(|v| v.into_iter().next())
        {
            Some(first) => {
                n.hostname = first;
                true
            }
            None => false,
        }
    }

    /// `comp(a, b)` of the original's sort: `a` may go first (also when they are the same).
    fn goes_first(&mut self, a: &NodeInfo, b: &NodeInfo) -> bool {
        self.compare(a, b) >= 0
    }

    /// Merges `x` into `this` the way `std::list::merge` does: an element of `x` goes before
    /// the first element of `this` it may go first of.
    fn merge_into(&mut self, this: &mut Vec<NodeInfo>, x: Vec<NodeInfo>) {
        let mut out = Vec::with_capacity(this.len() + x.len());
        let mut a = std::mem::take(this).into_iter().peekable();
        let mut b = x.into_iter().peekable();
        loop {
            let take_b = match (a.peek(), b.peek()) {
                (Some(ea), Some(eb)) => {
                    let (ea, eb) = (ea.clone(), eb.clone());
                    self.goes_first(&eb, &ea)
                }
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (None, None) => break,
            };
            let next = if take_b { b.next() } else { a.next() };
            out.extend(next);
        }
        *this = out;
    }

    /// Sorts `nodes` with the merge sort of `std::list::sort` (libstdc++), step for step:
    /// the "same node" relation is no strict order, so which of two entries for one node ends
    /// up first (and survives [`Registry::uniqsort`]) depends on the algorithm, and this is
    /// the original's (a node added again replaces the earlier entry).
    fn list_sort(&mut self, nodes: &mut Vec<NodeInfo>) {
        if nodes.len() <= 1 {
            return;
        }
        let mut tmp: Vec<Vec<NodeInfo>> = Vec::new();
        for e in std::mem::take(nodes) {
            let mut carry = vec![e];
            let mut i = 0;
            while i < tmp.len() && !tmp[i].is_empty() {
                let mut merged = std::mem::take(&mut tmp[i]);
                self.merge_into(&mut merged, carry);
                carry = merged;
                i += 1;
            }
            if i == tmp.len() {
                tmp.push(carry);
            } else {
                tmp[i] = carry;
            }
        }
        for i in 1..tmp.len() {
            let prev = std::mem::take(&mut tmp[i - 1]);
            let mut cur = std::mem::take(&mut tmp[i]);
            self.merge_into(&mut cur, prev);
            tmp[i] = cur;
        }
        *nodes = tmp.pop().unwrap_or_default();
    }

    /// Sorts (smaller chmpxid first) and drops duplicates, keeping the entry whose host name
    /// is confirmed, else the first.
    pub fn uniqsort(&mut self, nodes: &mut Vec<NodeInfo>) {
        self.list_sort(nodes);
        let mut i = 0;
        while i + 1 < nodes.len() {
            let (a, b) = (nodes[i].clone(), nodes[i + 1].clone());
            if self.compare(&a, &b) != 0 {
                i += 1;
                continue;
            }
            // Every server is also in the slave list of the servers it connected to (DUMP of
            // the original and ours): the entry that stays is a server if either was. (The
            // original tool kept whichever it had read last, so a ring's servers were
            // counted as slaves depending on the order of the answers.)
            let server = a.is_server || b.is_server;
            nodes[i].is_server = server;
            nodes[i + 1].is_server = server;
            if self.is_confirmed(&a) {
                nodes.remove(i + 1);
            } else if self.is_confirmed(&b) {
                nodes.remove(i);
            } else {
                self.update_confirmed(&mut nodes[i]);
                self.update_confirmed(&mut nodes[i + 1]);
                let (a, b) = (nodes[i].clone(), nodes[i + 1].clone());
                if !self.is_confirmed(&a) && self.is_confirmed(&b) {
                    nodes.remove(i);
                } else {
                    nodes.remove(i + 1);
                }
            }
        }
    }

    /// Adds a node (chmpxid computed when invalid) and keeps the list sorted and unique.
    #[allow(clippy::too_many_arguments)]
    pub fn add_node(
        &mut self,
        nodes: &mut Vec<NodeInfo>,
        chmpxid: u64,
        host: &str,
        port: i16,
        cuk: &str,
        eps: &str,
        seed: &str,
        is_server: bool,
    ) {
        self.hosts.update_confirm(host);
        let id = (chmpxid != CHM_INVALID_CHMPXID).then_some(chmpxid);
        let n = self.node(id, host, port, cuk, eps, seed, is_server);
        nodes.push(n);
        self.uniqsort(nodes);
    }

    /// [`Registry::add_node`] of a node already known.
    pub fn add_info(&mut self, nodes: &mut Vec<NodeInfo>, n: &NodeInfo) {
        self.add_node(
            nodes,
            n.chmpxid,
            &n.hostname,
            n.ctrlport,
            &n.cuk,
            &n.ctlendpoints,
            &n.custom_seed,
            n.is_server,
        );
    }

    /// The entry of `nodes` for the node these parameters name.
    pub fn find(
        &mut self,
        nodes: &[NodeInfo],
        host: &str,
        port: i16,
        cuk: &str,
        eps: &str,
        seed: &str,
    ) -> Option<NodeInfo> {
        let probe = self.node(None, host, port, cuk, eps, seed, true);
        for n in nodes {
            if self.compare(n, &probe) == 0 {
                return Some(n.clone());
            }
        }
        None
    }
}

/// Server (or slave) entries of `nodes`, sorted and unique.
pub fn nodes_of_kind(reg: &mut Registry, nodes: &[NodeInfo], server: bool) -> Vec<NodeInfo> {
    let mut out = Vec::new();
    for n in nodes.iter().filter(|n| n.is_server == server) {
        reg.add_info(&mut out, n);
    }
    out
}

/// The `nodes` listing of one kind.
pub fn nodes_by_type_text(nodes: &[NodeInfo], server: bool) -> String {
    let mut o = String::new();
    for (i, n) in nodes.iter().filter(|n| n.is_server == server).enumerate() {
        o += &format!("    [{i}] = {{\n");
        o += &format!("        Chmpxid                 : 0x{:016x}\n", n.chmpxid);
        o += &format!("        Hostname                : {}\n", n.hostname);
        o += &format!("        Control Port            : {}\n", n.ctrlport);
        o += &format!("        CUK                     : {}\n", n.cuk);
        o += &format!("        Control Endpoints       : {}\n", n.ctlendpoints);
        o += &format!("        Custom ID Seed          : {}\n", n.custom_seed);
        o += "    }\n";
    }
    o
}

/// The `nodes` listing of servers and slaves.
pub fn all_nodes_text(nodes: &[NodeInfo]) -> String {
    let svr = nodes.iter().filter(|n| n.is_server).count();
    let slv = nodes.len() - svr;
    let mut o = format!(" Chmpx server nodes             : {svr}\n");
    if svr > 0 {
        o += " {\n";
        o += &nodes_by_type_text(nodes, true);
        o += " }\n";
    }
    o += &format!(" Chmpx slave nodes              : {slv}\n");
    if slv > 0 {
        o += " {\n";
        o += &nodes_by_type_text(nodes, false);
        o += " }\n";
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_lookup(t: &str) -> Option<Vec<String>> {
        match t {
            "alpha" | "alpha.dom" | "10.0.0.1" => Some(vec!["alpha.dom".into(), "alpha".into()]),
            "beta" => Some(vec!["beta".into()]),
            _ => None,
        }
    }

    fn reg() -> Registry {
        Registry {
            group: "G".into(),
            id_type: ChmpxIdType::Name,
            hosts: HostnameMap::with_lookup(fake_lookup),
        }
    }

    #[test]
    fn aliases() {
        let mut r = reg();
        assert_eq!(r.hosts.first_name("10.0.0.1"), "10.0.0.1");
        assert_eq!(r.hosts.first_name("alpha"), "alpha.dom");
        assert_eq!(r.hosts.first_name("nowhere"), "nowhere");
        assert!(r
            .hosts
            .names("alpha", true)
            .unwrap()
            .contains(&"alpha".to_string()));
        assert!(r.hosts.get("nowhere").is_none());
    }

    #[test]
    fn same_node_by_alias() {
        let mut r = reg();
        let a = r.node(None, "alpha", 8021, "", "", "", true);
        let b = r.node(None, "alpha.dom", 8021, "", "", "", true);
        let c = r.node(None, "alpha", 8023, "", "", "", true);
        assert_ne!(a.chmpxid, b.chmpxid);
        assert_eq!(r.compare(&a, &b), 0);
        assert_ne!(r.compare(&a, &c), 0);
        let mut list = Vec::new();
        for (host, port, server) in [
            ("alpha", 8021, true),
            ("beta", 8021, false),
            ("alpha.dom", 8021, false),
            ("alpha", 8023, true),
        ] {
            r.add_node(
                &mut list,
                CHM_INVALID_CHMPXID,
                host,
                port,
                "",
                "",
                "",
                server,
            );
        }
        assert_eq!(list.len(), 3);
        // A node listed as a server and as a slave stays a server.
        let mut many = vec![
            r.node(Some(1), "x", 1, "", "", "", true),
            r.node(Some(2), "x", 2, "", "", "", true),
            r.node(Some(2), "x", 2, "", "", "", false),
            r.node(Some(3), "x", 3, "", "", "", false),
        ];
        r.uniqsort(&mut many);
        let kinds: Vec<(u64, bool)> = many.iter().map(|n| (n.chmpxid, n.is_server)).collect();
        assert_eq!(kinds, [(1, true), (2, true), (3, false)]);
        assert!(r.find(&list, "alpha.dom", 8023, "", "", "").is_some());
        assert!(r.find(&list, "beta", 8023, "", "", "").is_none());
        let text = all_nodes_text(&list);
        assert!(text.contains(" Chmpx server nodes             : 2\n"));
        assert!(text.contains(" Chmpx slave nodes              : 1\n"));
    }
}
