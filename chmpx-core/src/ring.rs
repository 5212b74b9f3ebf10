//! The server table every chmpx keeps, and the rules that turn a hash into target servers
//! (spec section 5). Pure data: no sockets, no clocks.
//!
//! * chmpxid: `((FNV64(seed) & 0xffffffff) << 32) | (FNV64'(seed) & 0xffffffff)` over
//!   `"<GROUP>:" + (name:ctlport-hex | cuk | ctlendpoints | custom seed)`; peers recompute it,
//!   so it is part of the protocol.
//! * Slots are not a consistent-hash ring: walking the servers in ring order, servers in the
//!   BASEHASH states get base slots 0, 1, 2, ...; a key's primary is `hash % count`, its replicas
//!   the next REPLICA slots.

use crate::config::{ChmConfig, ChmpxIdType, HostPort as CfgHostPort, NodeConfig};
use crate::wire::*;

/// Where a node is reached, in the order to try: each named entry of `eps` (an entry without a
/// port takes `port`), then `name:port`. For the data port (ENDPOINTS, PORT) and the control
/// port (CTLENDPOINTS, CTLPORT) alike; ports as the original's signed shorts.
pub fn reach_points(eps: &[HostPort], name: &str, port: i16) -> Vec<(String, i16)> {
    let mut v: Vec<(String, i16)> = eps
        .iter()
        .filter(|e| !e.name.is_empty())
        .map(|e| {
            let p = if e.port != CHM_INVALID_PORT && e.port != 0 {
                e.port
            } else {
                port
            };
            (e.name.clone(), p)
        })
        .collect();
    v.push((name.to_string(), port));
    v
}

/// `"host:port,host:port"` (port omitted when -1), the text the chmpxid seed uses.
pub fn hostports_text<'a, I: IntoIterator<Item = (&'a str, i16)>>(list: I) -> String {
    let mut out = String::new();
    for (host, port) in list {
        if host.is_empty() && port == CHM_INVALID_PORT {
            continue;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(host);
        if port != CHM_INVALID_PORT {
            out.push(':');
            out.push_str(&port.to_string());
        }
    }
    out
}

/// The seed string of a chmpxid (`MakeBaseSeed`), `None` when the needed part is empty.
pub fn id_seed(
    group: &str,
    kind: ChmpxIdType,
    hostname: &str,
    ctlport: i16,
    cuk: &str,
    ctleps: &str,
    custom: &str,
) -> Option<String> {
    if group.is_empty() {
        return None;
    }
    let name_form = |h: &str| (!h.is_empty()).then(|| format!("{h}:{:x}", ctlport as u16));
    let tail = match kind {
        ChmpxIdType::Name => name_form(hostname)?,
        ChmpxIdType::Cuk => (!cuk.is_empty()).then(|| cuk.to_string())?,
        ChmpxIdType::CtlEndpoints if !ctleps.is_empty() => ctleps.to_string(),
        ChmpxIdType::CtlEndpoints => name_form(hostname)?,
        ChmpxIdType::Custom => (!custom.is_empty()).then(|| custom.to_string())?,
    };
    Some(format!("{group}:{tail}"))
}

/// chmpxid from a seed (all-ones is replaced by ...fe).
pub fn chmpxid_of_seed(seed: &str) -> u64 {
    let (h1, h2) = (
        k2hash_hash::hash(seed.as_bytes()),
        k2hash_hash::second_hash(seed.as_bytes()),
    );
    let id = ((h1 & 0xffff_ffff) << 32) | (h2 & 0xffff_ffff);
    if id == CHM_INVALID_CHMPXID {
        CHM_INVALID_CHMPXID - 1
    } else {
        id
    }
}

/// The first msgid of a chmpx process: the high half of its chmpxid hash.
pub fn base_msgid_of_seed(seed: &str) -> u64 {
    (k2hash_hash::hash(seed.as_bytes()) & 0xffff_ffff) << 32
}

/// The chmpxid seed of a configured node.
pub fn node_seed(cfg: &ChmConfig, node: &NodeConfig) -> Option<String> {
    let eps = hostports_text(node.ctlendpoints.iter().map(|h| (h.host.as_str(), h.port)));
    id_seed(
        &cfg.group,
        cfg.chmpxid_type,
        &node.name,
        node.ctlport,
        &node.cuk,
        &eps,
        &node.custom_seed,
    )
}

/// chmpxid of a configured node.
pub fn node_chmpxid(cfg: &ChmConfig, node: &NodeConfig) -> u64 {
    node_seed(cfg, node)
        .map(|s| chmpxid_of_seed(&s))
        .unwrap_or(CHM_INVALID_CHMPXID)
}

/// Base msgid of a configured node.
pub fn node_base_msgid(cfg: &ChmConfig, node: &NodeConfig) -> u64 {
    node_seed(cfg, node)
        .map(|s| base_msgid_of_seed(&s))
        .unwrap_or(0)
}

fn wire_hp(list: &[CfgHostPort], n: usize) -> Vec<HostPort> {
    let mut v: Vec<HostPort> = list
        .iter()
        .take(n)
        .map(|h| HostPort {
            name: h.host.clone(),
            port: h.port,
        })
        .collect();
    v.resize(
        n,
        HostPort {
            name: String::new(),
            port: CHM_INVALID_PORT,
        },
    );
    v
}

/// The wire record of a configured server, with the given status.
pub fn server_record(cfg: &ChmConfig, node: &NodeConfig, status: u64) -> ChmpxSvr {
    let arr4 = |l: &[CfgHostPort]| -> [HostPort; 4] {
        let v = wire_hp(l, 4);
        [v[0].clone(), v[1].clone(), v[2].clone(), v[3].clone()]
    };
    ChmpxSvr {
        chmpxid: node_chmpxid(cfg, node),
        name: node.name.clone(),
        base_hash: CHM_INVALID_HASHVAL,
        pending_hash: CHM_INVALID_HASHVAL,
        port: node.port,
        ctlport: node.ctlport,
        ssl: ChmpxSsl {
            is_ssl: node.is_ssl,
            verify_peer: node.verify_peer,
            is_ca_file: node.is_ca_file,
            capath: node.capath.clone(),
            server_cert: node.server_cert.clone(),
            server_prikey: node.server_prikey.clone(),
            slave_cert: node.slave_cert.clone(),
            slave_prikey: node.slave_prikey.clone(),
        },
        last_status_time: 0,
        status,
        cuk: node.cuk.clone(),
        custom_seed: node.custom_seed.clone(),
        endpoints: arr4(&node.endpoints),
        ctlendpoints: arr4(&node.ctlendpoints),
        forward_peers: arr4(&node.forward_peers),
        reverse_peers: arr4(&node.reverse_peers),
    }
}

// ---- status word ---------------------------------------------------------------------------

fn without_suspend(s: u64) -> u64 {
    s & !CHMPXSTS_MASK_SUSPEND
}
pub fn is_down(s: u64) -> bool {
    s & CHMPXSTS_MASK_LIVE == CHMPXSTS_VAL_DOWN
}
pub fn is_suspend(s: u64) -> bool {
    s & CHMPXSTS_MASK_SUSPEND == CHMPXSTS_VAL_SUSPEND
}
pub fn is_noact(s: u64) -> bool {
    s & CHMPXSTS_MASK_ACTION == CHMPXSTS_VAL_NOACT
}
pub fn is_add(s: u64) -> bool {
    s & CHMPXSTS_MASK_ACTION == CHMPXSTS_VAL_ADD
}
pub fn is_delete(s: u64) -> bool {
    s & CHMPXSTS_MASK_ACTION == CHMPXSTS_VAL_DELETE
}
pub fn is_nothing(s: u64) -> bool {
    s & CHMPXSTS_MASK_OPERATE == CHMPXSTS_VAL_NOTHING
}
pub fn is_srvin(s: u64) -> bool {
    s & CHMPXSTS_MASK_RING == CHMPXSTS_VAL_SRVIN
}
/// Takes requests: SERVICE IN, UP, and normal (also while it merges because the layout
/// changes) or being deleted.
pub fn is_servicing(s: u64) -> bool {
    matches!(
        without_suspend(s),
        CHMPXSTS_SRVIN_UP_NORMAL
            | CHMPXSTS_SRVIN_UP_MERGING
            | CHMPXSTS_SRVIN_UP_MERGED
            | CHMPXSTS_SRVIN_UP_DELPENDING
            | CHMPXSTS_SRVIN_UP_DELETING
    )
}
/// Owns a base slot.
pub fn is_basehash(s: u64) -> bool {
    matches!(
        without_suspend(s),
        CHMPXSTS_SRVIN_UP_NORMAL
            | CHMPXSTS_SRVIN_UP_PENDING
            | CHMPXSTS_SRVIN_UP_MERGING
            | CHMPXSTS_SRVIN_UP_MERGED
            | CHMPXSTS_SRVIN_UP_DELPENDING
            | CHMPXSTS_SRVIN_UP_DELETING
            | CHMPXSTS_SRVIN_UP_DELETED
            | CHMPXSTS_SRVIN_DOWN_NORMAL
            | CHMPXSTS_SRVIN_DOWN_DELPENDING
            | CHMPXSTS_SRVIN_DOWN_DELETED
    )
}
/// Owns a pending slot (the layout after the running merge).
pub fn is_pendinghash(s: u64) -> bool {
    matches!(
        without_suspend(s),
        CHMPXSTS_SRVIN_UP_NORMAL
            | CHMPXSTS_SRVIN_UP_PENDING
            | CHMPXSTS_SRVIN_UP_MERGING
            | CHMPXSTS_SRVIN_UP_MERGED
            | CHMPXSTS_SRVIN_UP_ADDPENDING
            | CHMPXSTS_SRVIN_UP_ADDING
            | CHMPXSTS_SRVIN_UP_ADDED
            | CHMPXSTS_SRVIN_DOWN_NORMAL
    )
}

/// `STR_CHMPXSTS_FULL`: `SAFE -> [SERVICE IN][UP][n/a][Nothing][NoSuspend]`.
pub fn status_text(s: u64) -> String {
    let safe = if chmpxsts_is_safe(s) {
        "SAFE"
    } else {
        "NOT SAFE"
    };
    let live = if is_down(s) { "[DOWN]" } else { "[UP]" };
    let ring = match s & CHMPXSTS_MASK_RING {
        CHMPXSTS_VAL_SLAVE => "[SLAVE]",
        CHMPXSTS_VAL_SRVOUT => "[SERVICE OUT]",
        CHMPXSTS_VAL_SRVIN => "[SERVICE IN]",
        _ => "[Unknown RING]",
    };
    let action = match s & CHMPXSTS_MASK_ACTION {
        CHMPXSTS_VAL_NOACT => "[n/a]",
        CHMPXSTS_VAL_ADD => "[ADD]",
        CHMPXSTS_VAL_DELETE => "[DELETE]",
        _ => "[unknown ACTION]",
    };
    let op = match s & CHMPXSTS_MASK_OPERATE {
        CHMPXSTS_VAL_NOTHING => "[Nothing]",
        CHMPXSTS_VAL_PENDING => "[Pending]",
        CHMPXSTS_VAL_DOING => "[Doing]",
        _ => "[Done]",
    };
    let sus = if is_suspend(s) {
        "[Suspend]"
    } else {
        "[NoSuspend]"
    };
    format!("{safe} -> {ring}{live}{action}{op}{sus}")
}

/// `last_status_time` packing: `(tv_sec << 24) | tv_usec`.
pub fn pack_status_time(sec: i64, usec: i64) -> i64 {
    (sec << 24) | (usec & 0xff_ffff)
}

pub fn unpack_status_time(t: i64) -> (i64, i64) {
    (t >> 24, t & 0xff_ffff)
}

// ---- the table -----------------------------------------------------------------------------

/// Ring order of two server records (`compare_order`).
pub fn ring_order(a: &ChmpxSvr, b: &ChmpxSvr, kind: ChmpxIdType) -> std::cmp::Ordering {
    let custom = a.custom_seed.as_bytes().cmp(b.custom_seed.as_bytes());
    if kind == ChmpxIdType::Custom && custom.is_ne() {
        return custom;
    }
    a.name
        .as_bytes()
        .cmp(b.name.as_bytes())
        .then(a.ctlport.cmp(&b.ctlport))
        .then(a.cuk.as_bytes().cmp(b.cuk.as_bytes()))
        .then(if kind == ChmpxIdType::Custom {
            std::cmp::Ordering::Equal
        } else {
            custom
        })
}

/// Why no target could be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("there is no server up on the ring")]
    NoServer,
    #[error("the target servers for hash 0x{0:016x} are down or suspended")]
    TargetDown(u64),
}

/// The server list as one chmpx sees it, kept in ring order with slots assigned.
#[derive(Debug, Clone, Default)]
pub struct Ring {
    pub servers: Vec<ChmpxSvr>,
    pub id_type: ChmpxIdType,
    pub replica: i64,
    pub random: bool,
    /// A merge is running (the pending layout counts too).
    pub operating: bool,
    last_chmpxid: u64,
}

impl Ring {
    pub fn new(id_type: ChmpxIdType, replica: i64, random: bool) -> Ring {
        Ring {
            id_type,
            replica,
            random,
            last_chmpxid: CHM_INVALID_CHMPXID,
            ..Ring::default()
        }
    }

    pub fn get(&self, chmpxid: u64) -> Option<&ChmpxSvr> {
        self.servers.iter().find(|s| s.chmpxid == chmpxid)
    }

    pub fn get_mut(&mut self, chmpxid: u64) -> Option<&mut ChmpxSvr> {
        self.servers.iter_mut().find(|s| s.chmpxid == chmpxid)
    }

    pub fn status(&self, chmpxid: u64) -> Option<u64> {
        self.get(chmpxid).map(|s| s.status)
    }

    /// Adds or replaces a record (kept in ring order) and recomputes the slots.
    pub fn upsert(&mut self, rec: ChmpxSvr) {
        match self.servers.iter_mut().find(|s| s.chmpxid == rec.chmpxid) {
            Some(s) => *s = rec,
            None => self.servers.push(rec),
        }
        let kind = self.id_type;
        self.servers.sort_by(|a, b| ring_order(a, b, kind));
        self.update_hash();
    }

    /// Sets a server's status (and its time); recomputes slots. False if unknown.
    pub fn set_status(&mut self, chmpxid: u64, status: u64, time: i64) -> bool {
        let Some(s) = self.get_mut(chmpxid) else {
            return false;
        };
        s.status = status;
        s.last_status_time = time;
        self.update_hash();
        true
    }

    /// Recomputes base and pending slots in ring order (`UpdateHash`).
    pub fn update_hash(&mut self) {
        let (mut base, mut pending) = (0u64, 0u64);
        for s in &mut self.servers {
            s.base_hash = if is_basehash(s.status) {
                base += 1;
                base - 1
            } else {
                CHM_INVALID_HASHVAL
            };
            s.pending_hash = if is_pendinghash(s.status) {
                pending += 1;
                pending - 1
            } else {
                CHM_INVALID_HASHVAL
            };
        }
    }

    pub fn base_count(&self) -> u64 {
        self.servers
            .iter()
            .filter(|s| s.base_hash != CHM_INVALID_HASHVAL)
            .count() as u64
    }

    pub fn pending_count(&self) -> u64 {
        self.servers
            .iter()
            .filter(|s| s.pending_hash != CHM_INVALID_HASHVAL)
            .count() as u64
    }

    fn by_base_slot(&self, slot: u64) -> Option<&ChmpxSvr> {
        self.servers.iter().find(|s| s.base_hash == slot)
    }

    fn by_pending_slot(&self, slot: u64) -> Option<&ChmpxSvr> {
        self.servers.iter().find(|s| s.pending_hash == slot)
    }

    /// The primary server of `hash` (`GetServerChmpxIdByHash`).
    pub fn primary(&self, hash: u64) -> Option<u64> {
        let n = self.base_count();
        (n > 0)
            .then(|| self.by_base_slot(hash % n).map(|s| s.chmpxid))
            .flatten()
    }

    /// Primary and replicas of `hash`, DOWN and SUSPEND skipped, plus the pending layout while
    /// a merge runs (`GetServerChmpxIdAndBaseHashByHashs`).
    pub fn targets(&self, hash: u64) -> Vec<u64> {
        let mut out: Vec<u64> = Vec::new();
        let mut walk = |count: u64, pending: bool| {
            if count == 0 {
                return;
            }
            let start = hash % count;
            for i in 0..=self.replica.max(0) as u64 {
                let slot = (start + i) % count;
                let s = if pending {
                    self.by_pending_slot(slot)
                } else {
                    self.by_base_slot(slot)
                };
                let Some(s) = s else { continue };
                if is_down(s.status) || is_suspend(s.status) {
                    continue;
                }
                if !out.contains(&s.chmpxid) {
                    out.push(s.chmpxid);
                }
            }
        };
        walk(self.base_count(), false);
        if self.operating {
            walk(self.pending_count(), true);
        }
        out
    }

    /// Every UP, non-suspended server with a base or pending slot.
    pub fn all_up(&self) -> Vec<u64> {
        self.servers
            .iter()
            .filter(|s| !is_down(s.status) && !is_suspend(s.status))
            .filter(|s| is_basehash(s.status) || is_pendinghash(s.status))
            .map(|s| s.chmpxid)
            .collect()
    }

    /// Round-robin over UP, servicing, non-suspended servers (random delivery).
    pub fn next_random(&mut self) -> Option<u64> {
        let ok =
            |s: &ChmpxSvr| !is_down(s.status) && !is_suspend(s.status) && is_servicing(s.status);
        let n = self.servers.len();
        if n == 0 {
            return None;
        }
        let start = self
            .servers
            .iter()
            .position(|s| s.chmpxid == self.last_chmpxid)
            .map(|p| p + 1)
            .unwrap_or(0);
        let pick = (0..n)
            .map(|i| &self.servers[(start + i) % n])
            .find(|s| ok(s))?
            .chmpxid;
        self.last_chmpxid = pick;
        Some(pick)
    }

    /// The chmpx processes a C2C message of `c2ctype` for `hash` goes to
    /// (`GetReceiverChmpxids`), computed by the sending side.
    pub fn receivers(
        &mut self,
        self_id: u64,
        hash: u64,
        c2ctype: u64,
    ) -> Result<Vec<u64>, RouteError> {
        if self.servers.is_empty() {
            return Err(RouteError::NoServer);
        }
        let not_self = c2ctype & COM_C2C_NOT_SELF != 0;
        // One receiver: a server that holds its data: not one waiting for its merge (PENDING)
        // or being added; one that merges only because the layout changes (ours: MERGING,
        // MERGED) still serves, or every request would fail while a merge runs (the original
        // took only NOTHING, its normal servers never merge)
        let accept_one = |s: u64| {
            (is_noact(s) && s & CHMPXSTS_MASK_OPERATE != CHMPXSTS_VAL_PENDING) || is_delete(s)
        };
        // Copies (replicate, broadcast) skip a server that waits for its merge (PENDING: its
        // client's last update time must stay the time before it went away), not one that is
        // merging or merged: its request is out, and a write it missed now would be lost (the
        // original skipped every NOACT or ADD server that was not NOTHING, and lost the writes
        // made between a server's data transfer and the end of its merge).
        let reject_many = |s: u64| s & CHMPXSTS_MASK_OPERATE == CHMPXSTS_VAL_PENDING;
        match c2ctype & COM_C2C_MODE_MASK {
            COM_C2C_ROUTING => {
                if self.random {
                    return self
                        .next_random()
                        .map(|id| vec![id])
                        .ok_or(RouteError::NoServer);
                }
                let t = self.targets(hash);
                if t.is_empty() {
                    return Err(RouteError::TargetDown(hash));
                }
                t.into_iter()
                    .filter(|id| !(not_self && *id == self_id))
                    .find(|id| self.status(*id).is_some_and(accept_one))
                    .map(|id| vec![id])
                    .ok_or(RouteError::TargetDown(hash))
            }
            COM_C2C_BROADCAST | COM_C2C_RBROADCAST => {
                let list = if c2ctype & COM_C2C_MODE_MASK == COM_C2C_BROADCAST {
                    self.all_up()
                } else {
                    self.targets(hash)
                };
                if list.is_empty() {
                    return Err(RouteError::TargetDown(hash));
                }
                Ok(list
                    .into_iter()
                    .filter(|id| !(not_self && *id == self_id))
                    .filter(|id| !self.status(*id).is_some_and(reject_many))
                    .collect())
            }
            _ => {
                // NORMAL (and IGNORE, handled as NORMAL)
                if self.random {
                    return self
                        .next_random()
                        .map(|id| vec![id])
                        .ok_or(RouteError::NoServer);
                }
                let primary = self.primary(hash).filter(|id| {
                    self.status(*id)
                        .is_some_and(|s| is_servicing(s) && !is_suspend(s))
                });
                if let Some(id) = primary {
                    return Ok(vec![id]);
                }
                if self.replica > 0 {
                    let found = self
                        .targets(hash)
                        .into_iter()
                        .filter(|id| !(not_self && *id == self_id))
                        .find(|id| self.status(*id).is_some_and(accept_one));
                    if let Some(id) = found {
                        return Ok(vec![id]);
                    }
                }
                Err(RouteError::TargetDown(hash))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chmpxid_matches_the_original() {
        // Verified against the original: group EXPG, host vm, ctlport 8021/8023/8031.
        let seed = id_seed("EXPG", ChmpxIdType::Name, "vm", 8021, "", "", "").unwrap();
        assert_eq!(seed, "EXPG:vm:1f55");
        assert_eq!(chmpxid_of_seed(&seed), 0x232e14b7ba0c76d8);
        assert_eq!(base_msgid_of_seed(&seed), 0x232e14b700000000);
        let s2 = id_seed("EXPG", ChmpxIdType::Name, "vm", 8023, "", "", "").unwrap();
        assert_eq!(chmpxid_of_seed(&s2), 0x232e181dba0c76d8);
        let s3 = id_seed("EXPG", ChmpxIdType::Name, "vm", 8031, "", "", "").unwrap();
        assert_eq!(chmpxid_of_seed(&s3), 0x232dc4daba0c76d8);
        assert!(id_seed("", ChmpxIdType::Name, "vm", 1, "", "", "").is_none());
        assert!(id_seed("G", ChmpxIdType::Cuk, "vm", 1, "", "", "").is_none());
        assert_eq!(
            id_seed("G", ChmpxIdType::CtlEndpoints, "vm", 16, "", "", "").unwrap(),
            "G:vm:10"
        );
        assert_eq!(hostports_text([("a", 1), ("", -1), ("b", -1)]), "a:1,b");
    }

    #[test]
    fn status_texts() {
        assert_eq!(
            status_text(0x10011),
            "SAFE -> [SERVICE OUT][UP][n/a][Nothing][Suspend]"
        );
        assert_eq!(
            status_text(CHMPXSTS_SRVIN_UP_NORMAL),
            "SAFE -> [SERVICE IN][UP][n/a][Nothing][NoSuspend]"
        );
        assert_eq!(pack_status_time(1, 2), (1 << 24) | 2);
        assert_eq!(unpack_status_time(30129394945726103), (1795851883, 628375));
    }

    fn svr(id: u64, name: &str, status: u64) -> ChmpxSvr {
        let cfg = ChmConfig {
            group: "G".into(),
            ..ChmConfig::default()
        };
        let node = NodeConfig {
            name: name.into(),
            port: 1,
            ctlport: 2,
            ..NodeConfig::default()
        };
        ChmpxSvr {
            chmpxid: id,
            ..server_record(&cfg, &node, status)
        }
    }

    fn ring(replica: i64) -> Ring {
        let mut r = Ring::new(ChmpxIdType::Name, replica, false);
        for (id, name) in [(30, "c"), (10, "a"), (20, "b")] {
            r.upsert(svr(id, name, CHMPXSTS_SRVIN_UP_NORMAL));
        }
        r
    }

    #[test]
    fn slots_follow_ring_order() {
        let r = ring(0);
        assert_eq!(
            r.servers
                .iter()
                .map(|s| (s.chmpxid, s.base_hash))
                .collect::<Vec<_>>(),
            [(10, 0), (20, 1), (30, 2)]
        );
        assert_eq!(r.primary(4), Some(20));
        assert_eq!(r.primary(5), Some(30));
    }

    #[test]
    fn routing_rules() {
        let mut r = ring(1);
        assert_eq!(r.receivers(0, 4, COM_C2C_NORMAL).unwrap(), [20]);
        assert_eq!(r.receivers(0, 4, COM_C2C_ROUTING).unwrap(), [20]);
        assert_eq!(r.receivers(0, 4, COM_C2C_RBROADCAST).unwrap(), [20, 30]);
        assert_eq!(
            r.receivers(20, 4, COM_C2C_RBROADCAST | COM_C2C_NOT_SELF)
                .unwrap(),
            [30]
        );
        assert_eq!(r.receivers(0, 4, COM_C2C_BROADCAST).unwrap(), [10, 20, 30]);
        assert_eq!(
            r.receivers(10, 4, COM_C2C_BROADCAST | COM_C2C_NOT_SELF)
                .unwrap(),
            [20, 30]
        );
        // The primary goes down: it keeps its slot, the replica takes over.
        r.set_status(20, CHMPXSTS_SRVIN_DOWN_NORMAL, 0);
        assert_eq!(r.receivers(0, 4, COM_C2C_NORMAL).unwrap(), [30]);
        assert_eq!(r.receivers(0, 4, COM_C2C_ROUTING).unwrap(), [30]);
        // Without replicas the key has nowhere to go.
        let mut r0 = ring(0);
        r0.set_status(20, CHMPXSTS_SRVIN_DOWN_NORMAL, 0);
        assert_eq!(
            r0.receivers(0, 4, COM_C2C_NORMAL),
            Err(RouteError::TargetDown(4))
        );
        assert_eq!(
            Ring::new(ChmpxIdType::Name, 0, false).receivers(0, 1, 1),
            Err(RouteError::NoServer)
        );
    }

    #[test]
    fn random_is_round_robin_over_servicing() {
        let mut r = ring(0);
        r.random = true;
        r.set_status(20, CHMPXSTS_SRVIN_UP_NORMAL | CHMPXSTS_VAL_SUSPEND, 0);
        let picks: Vec<u64> = (0..4)
            .map(|_| r.receivers(0, 0, COM_C2C_NORMAL).unwrap()[0])
            .collect();
        assert_eq!(picks, [10, 30, 10, 30]);
    }
}
