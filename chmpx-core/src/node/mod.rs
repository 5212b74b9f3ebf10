//! The chmpx process as a state machine: it takes inputs (peer frames, local client requests,
//! connection events, time) and returns outputs (bytes for a connection, messages for a
//! client, connections to open or close). No sockets, clocks or threads live here; the event
//! loop in `server.rs` does the I/O, and tests drive this directly.
//!
//! Part 1 scope: the handshake (VERSION, N2_CONINIT), status exchange (N2_STATUS_REQ/RES,
//! N2_STATUS_CHANGE), C2C delivery of every type with replies routed back to the sender's msgid,
//! local clients with several msgids, SUSPEND while no client is attached, and a simplified
//! service-in: with AUTOMERGE a server enters the ring as soon as its first client attaches;
//! otherwise the SERVICEIN / MERGE / COMPMERGE control commands move it along. Status changes
//! are pushed to every connected server and slave. The ring-forwarded merge protocol
//! (N2_JOIN_RING, STATUS_CONFIRM, MERGE_START ..., data transfer) is part 2.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;

use crate::config::{hosts, ChmConfig, NodeConfig};
use crate::ipc::{Request, Response};
use crate::ring::{self, Ring};
use crate::wire::*;

mod clients;
mod links;
mod merge;
mod ringmsg;
mod snapshot;
pub use merge::range_start;
pub use snapshot::Snapshot;

pub type ConnId = u64;
pub type ClientId = u64;

/// Version text of this chmpx (the protocol-visible one is the original's release).
pub const CHMPX_VERSION: &str = "1.0.113";
/// Commit text sent in VERSION_RES.
pub const CHMPX_COMMIT: &str = "rust";
/// Most frames we queue for a peer that is not connected yet.
const MAX_PENDING_FRAMES: usize = 4096;

#[derive(Debug)]
pub enum Input {
    /// Time passes (the loop calls this about once a second and after busy periods).
    Tick { now: Timespec },
    /// A peer connected to our data port.
    Accepted { conn: ConnId, addr: IpAddr },
    /// Our connection to `chmpxid` is established.
    Connected { conn: ConnId, chmpxid: u64 },
    /// Our connection to `chmpxid` could not be made.
    ConnectFailed { chmpxid: u64 },
    /// A complete frame from a peer.
    Frame { conn: ConnId, frame: Frame },
    /// A peer connection is gone (closed, error, or malformed data).
    Closed { conn: ConnId },
    /// A local client's request.
    Client { client: ClientId, req: Request },
    /// A local client is gone.
    ClientGone { client: ClientId },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Output {
    Send {
        conn: ConnId,
        data: Vec<u8>,
    },
    Close {
        conn: ConnId,
    },
    /// Open a connection to `chmpxid` (try the addresses in order) and report back.
    Connect {
        chmpxid: u64,
        addrs: Vec<(String, u16)>,
    },
    ToClient {
        client: ClientId,
        resp: Response,
    },
    CloseClient {
        client: ClientId,
    },
    /// Give peer connection `conn` (a client's direct link) to local client `client`, which
    /// serves it from now on (`links::link_frame`); the node has forgotten it already.
    HandOver {
        conn: ConnId,
        client: ClientId,
        /// A link of another server's client for its copies (`links::copies_link`).
        copies: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnState {
    /// Accepted, nothing identified yet: only VERSION_REQ or N2_CONINIT_REQ are allowed.
    AcceptedFresh,
    /// We connected and sent VERSION_REQ.
    AwaitVersion,
    /// We sent N2_CONINIT_REQ.
    AwaitConinit,
    Ready,
}

#[derive(Debug)]
struct Conn {
    state: ConnState,
    outgoing: bool,
    peer: Option<u64>,
    addr: Option<IpAddr>,
    /// A slave asked for the server table on it (N2_STATUS_REQ): one of the slave's own
    /// connections, which may carry its status news (a client's link never asks).
    asks_status: bool,
}

#[derive(Debug, Default)]
struct Client {
    pid: u32,
    on_server: bool,
    msgids: Vec<u64>,
    /// Sends on links of its own and is told when the ring changes (`links`).
    links: bool,
    /// A client-on-server that serves links handed over to it (`links::link_frame`).
    serves_links: bool,
}

/// What the node knows about a slave connected to it.
#[derive(Debug, Clone)]
pub struct SlaveInfo {
    pub record: ChmpxSvr,
    pub conn: ConnId,
}

/// At least this many msgids for clients, whatever MAXMQCLIENT says.
const MIN_CLIENT_MSGIDS: i64 = 1024;

pub struct Node {
    pub cfg: ChmConfig,
    pub self_node: NodeConfig,
    pub chmpxid: u64,
    pub base_msgid: u64,
    pub is_server: bool,
    pub pid: u32,
    pub start_time: i64,
    /// Servers (self included when a server), ring order, slots assigned.
    pub ring: Ring,
    /// This process's own record (status, times); for a server also kept in `ring`.
    pub self_rec: ChmpxSvr,
    pub slaves: BTreeMap<u64, SlaveInfo>,
    pub auto_merge_suspend: bool,
    pub now: Timespec,
    conns: HashMap<ConnId, Conn>,
    /// Ready outgoing connection per server chmpxid.
    out_conn: HashMap<u64, ConnId>,
    /// Connections being made, with frames waiting for them.
    pending: HashMap<u64, VecDeque<Vec<u8>>>,
    /// When each server was last tried.
    last_try: HashMap<u64, i64>,
    clients: HashMap<ClientId, Client>,
    msgid_owner: HashMap<u64, ClientId>,
    /// Requests that came from a slave on one of its extra connections (a client's direct
    /// link, `crate::direct`): (slave chmpxid, msgid) -> that connection, so the answer goes
    /// back the way the request came.
    reply_conn: HashMap<(u64, u64), ConnId>,
    /// What the clients with links were last told of the ring (`links::ring_print`).
    ring_print: u64,
    /// How many clients have links (so the check after every input costs nothing without).
    linked_clients: usize,
    free_msgids: VecDeque<u64>,
    rr_next: usize,
    out: Vec<Output>,
    /// Counters for SELFSTATUS (sent, received).
    pub stats: Stats,
    /// The trace log (TRACEVIEW), oldest first, at most MAXHISTLOG records; kept while
    /// disabled, started again by TRACE enable, as the original's.
    trace: VecDeque<TraceEntry>,
    /// TRACE enable.
    trace_on: bool,
    /// Ring rounds we started and wait for (PXCOM type -> second sent).
    rounds: HashMap<u64, i64>,
    /// We joined the ring (or found nobody else up).
    pub on_ring: bool,
    /// The second of the last record each server sent about itself.
    said_of_itself: HashMap<u64, i64>,
    /// When our status last changed (packed time). Restamps (answers to N2_STATUS_REQ,
    /// pushes) move our record's time on but not this: a DOWN record about us newer than
    /// this means the ring took us for dead since, even if we restamped meanwhile (a peer
    /// that heard we were down probes us before its own DOWN record reaches us).
    changed_at: i64,
    merge: merge::MergeState,
}

/// Trace log types (`CHMLOG_TYPE_*`).
pub const CHMLOG_TYPE_ASSIGNED: u64 = 0x1;
pub const CHMLOG_TYPE_OUTPUT: u64 = 0x2;
pub const CHMLOG_TYPE_INPUT: u64 = 0x4;
pub const CHMLOG_TYPE_SOCKET: u64 = 0x8;
pub const CHMLOG_TYPE_MQ: u64 = 0x10;

pub use crate::ipc::TraceEntry;

fn trace_type_text(t: u64) -> &'static str {
    match t {
        0 => "[NotAssigned]",
        0xb => "[Output Socket]",
        0xd => "[Input Socket]",
        0x13 => "[Output MQ]",
        0x15 => "[Input MQ]",
        _ => "[Unsafe type]",
    }
}

pub use crate::ipc::Stat;

/// The C2C messages exchanged with servers and with slaves (SELFSTATUS "Stats", DUMP), as the
/// original counts them: by whether the peer is in the server table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub servers: Stat,
    pub slaves: Stat,
}

fn now_packed(t: Timespec) -> i64 {
    ring::pack_status_time(t.sec, t.nsec / 1000)
}

impl Node {
    /// A node for the configuration `cfg`; fails when this host has no entry it can use.
    pub fn new(cfg: ChmConfig, pid: u32, now: Timespec) -> Result<Node, String> {
        let is_server = cfg.is_server_mode;
        let self_node = if is_server {
            cfg.self_server().cloned().ok_or_else(|| {
                format!(
                    "this host with control port {} is not in the server list of group {}",
                    cfg.self_ctlport, cfg.group
                )
            })?
        } else {
            if cfg.self_ctlport == CHM_INVALID_PORT {
                return Err("a slave needs its control port (SELFCTLPORT or -ctlport)".into());
            }
            let local = hosts::local_names()
                .first()
                .cloned()
                .unwrap_or_else(|| "localhost".into());
            let tmpl = cfg.slaves.iter().find(|s| s.ctlport == cfg.self_ctlport);
            NodeConfig {
                name: local,
                port: CHM_INVALID_PORT,
                ctlport: cfg.self_ctlport,
                cuk: cfg.self_cuk.clone(),
                ctlendpoints: tmpl.map(|t| t.ctlendpoints.clone()).unwrap_or_default(),
                forward_peers: tmpl.map(|t| t.forward_peers.clone()).unwrap_or_default(),
                reverse_peers: tmpl.map(|t| t.reverse_peers.clone()).unwrap_or_default(),
                custom_seed: tmpl.map(|t| t.custom_seed.clone()).unwrap_or_default(),
                is_ca_file: tmpl.is_some_and(|t| t.is_ca_file),
                capath: tmpl.map(|t| t.capath.clone()).unwrap_or_default(),
                slave_cert: tmpl.map(|t| t.slave_cert.clone()).unwrap_or_default(),
                slave_prikey: tmpl.map(|t| t.slave_prikey.clone()).unwrap_or_default(),
                ..NodeConfig::default()
            }
        };
        let chmpxid = ring::node_chmpxid(&cfg, &self_node);
        if chmpxid == CHM_INVALID_CHMPXID {
            return Err("could not compute this node's chmpxid from the configuration".into());
        }
        let base_msgid = ring::node_base_msgid(&cfg, &self_node);
        let status = if is_server {
            CHMPXSTS_SRVOUT_UP_NORMAL | CHMPXSTS_VAL_SUSPEND
        } else {
            CHMPXSTS_SLAVE_UP_NORMAL
        };
        let mut self_rec = ring::server_record(&cfg, &self_node, status);
        // A starting server's own record is older than anything the ring remembers of it
        // (time 0), so the ring's memory wins: a server that was SERVICE IN comes back in.
        self_rec.last_status_time = if is_server { 0 } else { now_packed(now) };
        let mut ring = Ring::new(cfg.chmpxid_type, cfg.replica_count, cfg.is_random_mode);
        for s in &cfg.servers {
            let rec = if is_server && ring::node_chmpxid(&cfg, s) == chmpxid {
                self_rec.clone()
            } else {
                ring::server_record(&cfg, s, CHMPXSTS_SRVOUT_DOWN_NORMAL)
            };
            ring.upsert(rec);
        }
        let first = base_msgid + cfg.max_server_mq_cnt as u64;
        // Our msgids are names, not message queues: MAXMQCLIENT does not bound them (with the
        // original's small values, a process that leaks a few handles would lock every other
        // client out), it only stays what DUMP and chmpxstatus show.
        let free_msgids = (0..cfg.max_client_mq_cnt.max(MIN_CLIENT_MSGIDS) as u64)
            .map(|i| first + i)
            .collect();
        Ok(Node {
            cfg,
            self_node,
            chmpxid,
            base_msgid,
            is_server,
            pid,
            start_time: now.sec,
            ring,
            self_rec,
            slaves: BTreeMap::new(),
            auto_merge_suspend: false,
            now,
            conns: HashMap::new(),
            out_conn: HashMap::new(),
            pending: HashMap::new(),
            last_try: HashMap::new(),
            clients: HashMap::new(),
            msgid_owner: HashMap::new(),
            reply_conn: HashMap::new(),
            ring_print: 0,
            linked_clients: 0,
            free_msgids,
            rr_next: 0,
            out: Vec::new(),
            stats: Stats::default(),
            trace: VecDeque::new(),
            trace_on: false,
            rounds: HashMap::new(),
            on_ring: !is_server,
            said_of_itself: HashMap::new(),
            changed_at: i64::MIN,
            merge: merge::MergeState::default(),
        })
    }

    /// The current time (the event loop sets it before each input).
    pub fn set_now(&mut self, now: Timespec) {
        self.now = now;
    }

    /// Handles one input; the outputs are returned (and the internal list emptied).
    pub fn handle(&mut self, input: Input) -> Vec<Output> {
        match input {
            Input::Tick { now } => self.tick(now),
            Input::Accepted { conn, addr } => {
                self.conns.insert(
                    conn,
                    Conn {
                        state: ConnState::AcceptedFresh,
                        outgoing: false,
                        peer: None,
                        addr: Some(addr),
                        asks_status: false,
                    },
                );
            }
            Input::Connected { conn, chmpxid } => self.connected(conn, chmpxid),
            Input::ConnectFailed { chmpxid } => {
                let queued = self.pending.remove(&chmpxid).unwrap_or_default();
                self.peer_lost(chmpxid, queued);
            }
            Input::Frame { conn, frame } => self.frame(conn, frame),
            Input::Closed { conn } => self.closed(conn),
            Input::Client { client, req } => self.client(client, req),
            Input::ClientGone { client } => self.client_gone(client),
        }
        self.links_notify();
        std::mem::take(&mut self.out)
    }

    /// Outputs produced outside `handle` (control commands).
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    /// Connections to open at startup (a slave: every server; a server: every other server).
    pub fn start(&mut self) -> Vec<Output> {
        self.tick(self.now);
        std::mem::take(&mut self.out)
    }

    // ---- time ------------------------------------------------------------------------------

    fn tick(&mut self, now: Timespec) {
        self.now = now;
        let alone = self.is_server
            && !self.on_ring
            && self.pending.is_empty()
            && self.out_conn.is_empty()
            && self.next_on_ring(self.chmpxid, &[]).is_none()
            && (self.ring.servers.len() <= 1 || self.last_try.values().any(|t| *t < now.sec));
        if alone {
            log::info!("There is no server UP on RING.");
            self.on_ring = true;
        }
        self.ring_timeouts();
        self.merge_tick();
        self.auto_merge();
        let targets: Vec<(u64, Vec<(String, u16)>)> = self
            .ring
            .servers
            .iter()
            .filter(|s| s.chmpxid != self.chmpxid)
            .filter(|s| {
                !self.out_conn.contains_key(&s.chmpxid) && !self.pending.contains_key(&s.chmpxid)
            })
            .map(|s| (s.chmpxid, Self::addrs_of(s)))
            .collect();
        for (id, addrs) in targets {
            let last = self.last_try.get(&id).copied().unwrap_or(i64::MIN);
            if now.sec.saturating_sub(last) < 1 {
                continue;
            }
            self.last_try.insert(id, now.sec);
            self.pending.insert(id, VecDeque::new());
            self.out.push(Output::Connect { chmpxid: id, addrs });
        }
    }

    fn addrs_of(s: &ChmpxSvr) -> Vec<(String, u16)> {
        let mut v: Vec<(String, u16)> = ring::reach_points(&s.endpoints, &s.name, s.port)
            .into_iter()
            .map(|(h, p)| (h, p as u16))
            .collect();
        // A server on this host is reachable on loopback even when its name does not resolve.
        if hosts::is_local(std::slice::from_ref(&s.name)) {
            v.push(("127.0.0.1".into(), s.port as u16));
        }
        v
    }

    // ---- connections -----------------------------------------------------------------------

    fn px(&self, term: u64, body: PxCom) -> Vec<u8> {
        Frame::px2px(self.chmpxid, term, self.now, &PxMsg::new(body)).encode()
    }

    fn connected(&mut self, conn: ConnId, chmpxid: u64) {
        self.conns.insert(
            conn,
            Conn {
                state: ConnState::AwaitVersion,
                outgoing: true,
                peer: Some(chmpxid),
                addr: None,
                asks_status: false,
            },
        );
        let data = self.px(chmpxid, PxCom::VersionReq);
        self.out.push(Output::Send { conn, data });
    }

    fn coninit_req(&self) -> ConinitReq {
        ConinitReq::of(self.chmpxid, &self.self_rec)
    }

    fn closed(&mut self, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        let Some(peer) = c.peer else { return };
        if c.outgoing {
            if self.out_conn.get(&peer) == Some(&conn) {
                self.out_conn.remove(&peer);
            }
            let queued = self.pending.remove(&peer).unwrap_or_default();
            self.peer_lost(peer, queued);
        } else {
            if !self.reply_conn.is_empty() {
                self.reply_conn.retain(|_, c| *c != conn);
            }
            if self.slaves.get(&peer).is_some_and(|s| s.conn == conn) {
                // another connection of the slave's own (a pool socket) takes over; the
                // slave is gone with its last one (a client's link does not carry its news)
                let other = self
                    .conns
                    .iter()
                    .filter(|(_, c)| !c.outgoing && c.peer == Some(peer))
                    .filter(|(_, c)| c.state == ConnState::Ready && c.asks_status)
                    .map(|(id, _)| *id)
                    .min();
                match (other, self.slaves.get_mut(&peer)) {
                    (Some(other), Some(s)) => s.conn = other,
                    _ => {
                        self.slaves.remove(&peer);
                    }
                }
            }
        }
    }

    /// A server we cannot reach is DOWN in our view (it keeps its slot: replicas serve).
    /// A server we talk to is gone (connection closed or refused): mark it down, tell the
    /// ring, abort a running merge, and pass on the ring messages that were waiting for it.
    fn peer_lost(&mut self, chmpxid: u64, queued: VecDeque<Vec<u8>>) {
        let was_operating = self.ring.operating;
        if self.mark_down(chmpxid) {
            log::warn!("server 0x{chmpxid:016x} is down");
            if self.is_server {
                self.announce_down(chmpxid);
                if was_operating {
                    self.merge_abort_request();
                }
            }
        }
        if self.is_server {
            self.reroute_ring(chmpxid, queued);
        }
    }

    /// Marks a server DOWN in our table (`CHANGE_CHMPXSTS_TO_DOWN`); false if it was already.
    fn mark_down(&mut self, chmpxid: u64) -> bool {
        let Some(status) = self.ring.status(chmpxid) else {
            return false;
        };
        if ring::is_down(status) || chmpxid == self.chmpxid {
            return false;
        }
        let down = match status & !CHMPXSTS_MASK_SUSPEND {
            s if ring::is_srvin(s) && ring::is_delete(s) => CHMPXSTS_SRVIN_DOWN_DELPENDING,
            s if ring::is_srvin(s) && !ring::is_add(s) => CHMPXSTS_SRVIN_DOWN_NORMAL,
            _ => CHMPXSTS_SRVOUT_DOWN_NORMAL,
        };
        let t = now_packed(self.now);
        self.ring.set_status(chmpxid, down, t);
        self.recompute_operating();
        true
    }

    fn send_to(&mut self, chmpxid: u64, data: Vec<u8>) -> bool {
        if let Some(&conn) = self.out_conn.get(&chmpxid) {
            self.out.push(Output::Send { conn, data });
            return true;
        }
        if let Some(s) = self.slaves.get(&chmpxid) {
            self.out.push(Output::Send { conn: s.conn, data });
            return true;
        }
        // A server we are still connecting to: queue (bounded).
        if let Some(q) = self.pending.get_mut(&chmpxid) {
            if q.len() < MAX_PENDING_FRAMES {
                q.push_back(data);
                return true;
            }
            return false;
        }
        if let Some(s) = self.ring.get(chmpxid).cloned() {
            self.pending.insert(chmpxid, VecDeque::from([data]));
            self.last_try.insert(chmpxid, self.now.sec);
            self.out.push(Output::Connect {
                chmpxid,
                addrs: Self::addrs_of(&s),
            });
            return true;
        }
        false
    }

    fn frame(&mut self, conn: ConnId, frame: Frame) {
        let Some(state) = self.conns.get(&conn).map(|c| c.state) else {
            return;
        };
        let pkt = frame.pkt;
        if let Some(what) = frame.link_what() {
            return self.link_frame(conn, what, &pkt);
        }
        if pkt.head.com_type == COM_C2C {
            if state != ConnState::Ready {
                log::error!("C2C frame before the connection was initialised, closing it");
                return self.drop_conn(conn);
            }
            self.note_reply_conn(conn, &frame.pkt);
            return self.c2c_in(frame);
        }
        if pkt.head.com_type != COM_PX2PX {
            log::error!(
                "frame of unknown type {} on a peer connection, closing it",
                pkt.head.com_type
            );
            return self.drop_conn(conn);
        }
        let msg = match frame.px_msg() {
            Ok(m) => m,
            Err(e) => {
                log::error!("malformed PX2PX frame ({e}), closing the connection");
                return self.drop_conn(conn);
            }
        };
        if state == ConnState::Ready {
            return self.px_ready(conn, &pkt, msg);
        }
        match (state, msg.body) {
            (ConnState::AcceptedFresh, PxCom::VersionReq) => {
                let info = VersionInfo {
                    com_version: COM_VERSION_2,
                    cur_version: COM_VERSION_2,
                    bin_version: VersionInfo::bin_version_of(CHMPX_VERSION),
                    str_version: CHMPX_VERSION.into(),
                    commit_hash: CHMPX_COMMIT.into(),
                };
                let mut head = reply_head(&pkt);
                head.reqtime = self.now;
                let data = Frame::new(head, PxMsg::new(PxCom::VersionRes(info)).encode()).encode();
                self.out.push(Output::Send { conn, data });
            }
            (ConnState::AcceptedFresh, PxCom::N2ConinitReq(req)) => {
                self.coninit_in(conn, &pkt, &req)
            }
            (ConnState::AcceptedFresh, other) => {
                log::error!(
                    "{} before N2_CONINIT_REQ on an accepted connection, closing it",
                    other.name()
                );
                self.drop_conn(conn);
            }
            (ConnState::AwaitVersion, PxCom::VersionRes(_)) => {
                let peer = self
                    .conns
                    .get(&conn)
                    .and_then(|c| c.peer)
                    .unwrap_or(CHM_INVALID_CHMPXID);
                let data = self.px(peer, PxCom::N2ConinitReq(Box::new(self.coninit_req())));
                self.out.push(Output::Send { conn, data });
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.state = ConnState::AwaitConinit;
                }
            }
            (ConnState::AwaitConinit, PxCom::N2ConinitRes) => {
                let Some(peer) = self.conns.get(&conn).and_then(|c| c.peer) else {
                    return;
                };
                if msg.result != CHMPX_COM_RES_SUCCESS {
                    log::error!("server 0x{peer:016x} refused our connection");
                    self.pending.remove(&peer);
                    return self.drop_conn(conn);
                }
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.state = ConnState::Ready;
                }
                self.out_conn.insert(peer, conn);
                let req = self.px(peer, PxCom::N2StatusReq);
                self.out.push(Output::Send { conn, data: req });
                if self.is_server {
                    // Tell the peer our own status at once.
                    let change = self.px(
                        peer,
                        PxCom::N2StatusChange {
                            server: Box::new(self.self_rec.clone()),
                        },
                    );
                    self.out.push(Output::Send { conn, data: change });
                }
                for data in self.pending.remove(&peer).unwrap_or_default() {
                    self.out.push(Output::Send { conn, data });
                }
            }
            (ConnState::AwaitVersion | ConnState::AwaitConinit, other) => {
                log::error!(
                    "unexpected {} during the handshake, closing the connection",
                    other.name()
                );
                self.drop_conn(conn);
            }
            (ConnState::Ready, _) => {}
        }
    }

    fn drop_conn(&mut self, conn: ConnId) {
        self.out.push(Output::Close { conn });
        self.closed(conn);
    }

    /// N2_CONINIT_REQ on an accepted connection: a server of our ring or an allowed slave.
    fn coninit_in(&mut self, conn: ConnId, pkt: &ComPkt, req: &ConinitReq) {
        let ok = if pkt.head.term_ids.chmpxid != self.chmpxid {
            log::error!(
                "N2_CONINIT_REQ for chmpxid 0x{:016x}, we are 0x{:016x}",
                pkt.head.term_ids.chmpxid,
                self.chmpxid
            );
            None
        } else {
            self.identify_peer(conn, req)
        };
        let mut head = reply_head(pkt);
        head.reqtime = self.now;
        let result = if ok.is_some() {
            CHMPX_COM_RES_SUCCESS
        } else {
            CHMPX_COM_RES_ERROR
        };
        let data = Frame::new(
            head,
            PxMsg {
                result,
                body: PxCom::N2ConinitRes,
            }
            .encode(),
        )
        .encode();
        self.out.push(Output::Send { conn, data });
        match ok {
            None => {
                self.out.push(Output::Close { conn });
                self.conns.remove(&conn);
            }
            Some(is_server_peer) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.state = ConnState::Ready;
                    c.peer = Some(req.chmpxid);
                }
                if !is_server_peer {
                    let mut rec = ChmpxSvr {
                        chmpxid: req.chmpxid,
                        name: req.name.clone(),
                        base_hash: CHM_INVALID_HASHVAL,
                        pending_hash: CHM_INVALID_HASHVAL,
                        port: CHM_INVALID_PORT,
                        ctlport: req.ctlport,
                        ssl: ChmpxSsl::default(),
                        last_status_time: now_packed(self.now),
                        status: CHMPXSTS_SLAVE_UP_NORMAL,
                        cuk: req.cuk.clone(),
                        custom_seed: req.custom_seed.clone(),
                        endpoints: req.endpoints.clone(),
                        ctlendpoints: req.ctlendpoints.clone(),
                        forward_peers: req.forward_peers.clone(),
                        reverse_peers: req.reverse_peers.clone(),
                    };
                    rec.ssl.is_ssl = false;
                    // a further connection of a slave we know (a pool socket of an original
                    // slave, a client's direct link): the first one keeps carrying the
                    // slave's status news, the new one the answers to what comes on it
                    let known = self.slaves.get(&req.chmpxid).is_some_and(|s| {
                        self.conns
                            .get(&s.conn)
                            .is_some_and(|c| c.state == ConnState::Ready)
                    });
                    if !known {
                        self.slaves
                            .insert(req.chmpxid, SlaveInfo { record: rec, conn });
                    }
                }
            }
        }
    }

    /// Checks a connecting peer against the configuration: Some(true) for a server of the
    /// ring, Some(false) for an allowed slave, None when refused. The chmpxid it claims must be
    /// the one its name, control port, CUK and seeds give.
    /// Whether a connection from `addr` (None: not known) can come from `server`'s host.
    pub(super) fn comes_from(addr: Option<IpAddr>, server: &ChmpxSvr) -> bool {
        addr.is_none_or(|a| {
            let names = vec![server.name.clone()];
            (a.is_loopback() && hosts::is_local(&names))
                || hosts::resolve_addrs(&server.name).contains(&a)
                || (hosts::is_local(&names) && hosts::is_local(&[a.to_string()]))
        })
    }

    fn identify_peer(&self, conn: ConnId, req: &ConinitReq) -> Option<bool> {
        let addr = self.conns.get(&conn).and_then(|c| c.addr);
        let eps = ring::hostports_text(req.ctlendpoints.iter().map(|h| (h.name.as_str(), h.port)));
        let claimed = ring::id_seed(
            &self.cfg.group,
            self.cfg.chmpxid_type,
            &req.name,
            req.ctlport,
            &req.cuk,
            &eps,
            &req.custom_seed,
        )
        .map(|s| ring::chmpxid_of_seed(&s));
        if claimed != Some(req.chmpxid) {
            log::error!(
                "peer {} claims chmpxid 0x{:016x}, its name and ports give another",
                req.name,
                req.chmpxid
            );
            return None;
        }
        if let Some(server) = self.ring.get(req.chmpxid) {
            // Claiming to be a server: the connection must come from that server's host.
            if !Self::comes_from(addr, server) {
                log::error!(
                    "a peer at {addr:?} claims to be server {} (0x{:016x}); refused",
                    server.name,
                    req.chmpxid
                );
                return None;
            }
            return Some(true);
        }
        // A slave: its name (or its address) must match a SLVNODE regex, with its ctlport.
        let mut names = vec![req.name.clone()];
        if let Some(a) = addr {
            names.push(a.to_string());
            if a.is_loopback() || hosts::is_local(&[a.to_string()]) {
                names.extend(hosts::local_names().iter().cloned());
                names.push("localhost".into());
            }
        }
        let allowed = self.cfg.slaves.iter().any(|s| {
            s.ctlport == req.ctlport
                && regex::Regex::new(&s.name)
                    .map(|re| names.iter().any(|n| re.is_match(n)))
                    .unwrap_or(false)
                && (s.cuk.is_empty()
                    || regex::Regex::new(&s.cuk)
                        .map(|re| re.is_match(&req.cuk))
                        .unwrap_or(false))
        });
        if !allowed {
            log::error!(
                "peer {} (ctlport {}) is not allowed by any SLVNODE entry",
                req.name,
                req.ctlport
            );
            return None;
        }
        Some(false)
    }

    fn px_ready(&mut self, conn: ConnId, pkt: &ComPkt, msg: PxMsg) {
        if ringmsg::is_ring_message(&msg.body) {
            if !self.is_server {
                // a slave only takes the news
                match msg.body {
                    PxCom::N2StatusChange { server } | PxCom::N2JoinRing { server } => {
                        self.learn(*server, pkt.head.dept_ids.chmpxid)
                    }
                    PxCom::ServerDown { chmpxid } => {
                        self.mark_down(chmpxid);
                    }
                    _ => {}
                }
                return;
            }
            return self.ring_in(pkt, msg);
        }
        let body = msg.body;
        match body {
            PxCom::N2StatusReq => {
                if self.is_server {
                    self.stamp_self();
                }
                self.slave_asks_status(conn, pkt.head.dept_ids.chmpxid);
                let servers = self.ring.servers.clone();
                let mut head = reply_head(pkt);
                head.reqtime = self.now;
                let data =
                    Frame::new(head, PxMsg::new(PxCom::N2StatusRes { servers }).encode()).encode();
                self.out.push(Output::Send { conn, data });
            }
            PxCom::N2StatusRes { servers } => {
                for s in servers {
                    self.learn(s, pkt.head.dept_ids.chmpxid);
                }
                if self.is_server && !self.on_ring {
                    let peer = pkt.head.dept_ids.chmpxid;
                    let data = self.px(peer, PxCom::MergeSuspendGet);
                    self.out.push(Output::Send { conn, data });
                    self.join_ring();
                }
            }
            PxCom::ResUpdateData { .. } | PxCom::ResultUpdateData { .. } => {
                self.merge_direct(pkt.head.dept_ids.chmpxid, body)
            }
            PxCom::MergeSuspendGet => {
                let mut head = reply_head(pkt);
                head.reqtime = self.now;
                let res = PxCom::MergeSuspendRes {
                    is_suspend: self.auto_merge_suspend,
                };
                let data = Frame::new(head, PxMsg::new(res).encode()).encode();
                self.out.push(Output::Send { conn, data });
            }
            PxCom::MergeSuspendRes { is_suspend } => self.auto_merge_suspend = is_suspend,
            other => log::warn!(
                "{} is not handled by this chmpx yet (ring protocol, part 2)",
                other.name()
            ),
        }
    }

    /// A server record from peer `from`. Our own record is ours; a server's word about itself
    /// always wins; a third party's record only when it is not older than ours. A record that
    /// says we were SERVICE IN restores that state.
    fn learn(&mut self, rec: ChmpxSvr, from: u64) {
        // Only servers speak about servers (a slave never sends status records).
        if self.ring.get(from).is_none() {
            log::warn!("ignoring a status record from 0x{from:016x}, which is not a server");
            return;
        }
        if rec.chmpxid == self.chmpxid {
            // we are the authority on ourselves, but after a restart the ring remembers that
            // we were SERVICE IN: that status comes back (up now, still suspended)
            if self.is_server
                && !self.on_ring
                && ring::is_srvin(rec.status)
                && !ring::is_srvin(self.self_rec.status)
            {
                let keep = self.self_rec.status & CHMPXSTS_MASK_SUSPEND;
                self.set_self_status(merge::restored_status(rec.status) | keep);
            } else if self.is_server && self.on_ring && ring::is_down(rec.status) {
                let (theirs, ours) = (
                    ring::unpack_status_time(rec.last_status_time).0,
                    ring::unpack_status_time(self.changed_at.max(0)).0,
                );
                if theirs >= ours {
                    self.taken_for_dead();
                }
            }
            return;
        }
        if self.ring.get(rec.chmpxid).is_none() && !self.cfg_has_server(&rec) {
            log::warn!(
                "ignoring status of unknown server {} (0x{:016x})",
                rec.name,
                rec.chmpxid
            );
            return;
        }
        let ours = self
            .ring
            .get(rec.chmpxid)
            .map(|s| s.last_status_time)
            .unwrap_or(i64::MIN);
        // seconds only, and a tie goes to the incoming record (`CompareStatusUpdateTime`);
        // except that within one second what a server said of itself is not overruled by
        // what another said of it (a restart within the second of its death notice)
        let sec = ring::unpack_status_time(rec.last_status_time).0;
        let newer = sec >= ring::unpack_status_time(ours).0;
        let own_word = self.said_of_itself.get(&rec.chmpxid) == Some(&sec);
        if newer && (rec.chmpxid == from || !own_word) {
            if rec.chmpxid == from {
                self.said_of_itself.insert(rec.chmpxid, sec);
            }
            let hearsay_down = rec.chmpxid != from && ring::is_down(rec.status);
            let subject = rec.chmpxid;
            self.ring.upsert(rec);
            if hearsay_down {
                self.probe_if_linked(subject);
            }
            self.recompute_operating();
            self.auto_merge();
        }
    }

    /// A third party says server `chmpxid` is down: when our own connection to it is open
    /// and past its handshake, ask it for its status. A live server stamps its record afresh
    /// to answer (see N2_STATUS_REQ), and its own newer word puts it back UP here; a dead one
    /// does not answer and our link finds out. Without this, an old DOWN record (a server back
    /// from a partition still holds those about the others) kept a live server DOWN here for
    /// good, with its ring messages dropped as coming from a server that is not up.
    fn probe_if_linked(&mut self, chmpxid: u64) {
        if self.ask_record(chmpxid) {
            log::info!("told that 0x{chmpxid:016x} is down while our link to it is up: asked it");
        }
    }

    /// Asks server `chmpxid` for its own record (N2_STATUS_REQ; its answer is a fresh record
    /// of itself, which every view takes) when our link to it is ready; false when it is not.
    pub(super) fn ask_record(&mut self, chmpxid: u64) -> bool {
        let Some(&conn) = self.out_conn.get(&chmpxid) else {
            return false;
        };
        if !self
            .conns
            .get(&conn)
            .is_some_and(|c| c.state == ConnState::Ready)
        {
            return false;
        }
        let data = self.px(chmpxid, PxCom::N2StatusReq);
        self.out.push(Output::Send { conn, data });
        true
    }

    fn cfg_has_server(&self, rec: &ChmpxSvr) -> bool {
        self.cfg
            .servers
            .iter()
            .any(|s| ring::node_chmpxid(&self.cfg, s) == rec.chmpxid)
    }

    /// Changes our own status and tells every connected server and slave.
    pub fn set_self_status(&mut self, status: u64) {
        if self.self_rec.status == status {
            return;
        }
        self.self_rec.status = status;
        // Strictly increasing, so a peer never mistakes an older record of ours for this one.
        self.self_rec.last_status_time =
            now_packed(self.now).max(self.self_rec.last_status_time + 1);
        self.changed_at = self.self_rec.last_status_time;
        if self.is_server {
            let t = self.self_rec.last_status_time;
            self.ring.set_status(self.chmpxid, status, t);
            if let Some(r) = self.ring.get(self.chmpxid) {
                self.self_rec.base_hash = r.base_hash;
                self.self_rec.pending_hash = r.pending_hash;
            }
            self.push_status();
        }
    }

    /// A C2C message with a body of `len` bytes went to `peer`: counted and traced as the
    /// original does, by the packet's length (head and body).
    fn c2c_sent(&mut self, peer: u64, len: usize) {
        let len = COMPKT_SIZE + len;
        self.trace(CHMLOG_TYPE_OUTPUT | CHMLOG_TYPE_SOCKET, len);
        self.stat_of(peer).add(true, len as u64);
    }

    /// The counts of messages exchanged with `peer`: a server's (in the server table) or a
    /// slave's.
    fn stat_of(&mut self, peer: u64) -> &mut Stat {
        if self.ring.get(peer).is_some() {
            &mut self.stats.servers
        } else {
            &mut self.stats.slaves
        }
    }

    /// A C2C frame from a peer.
    fn c2c_in(&mut self, frame: Frame) {
        let len = COMPKT_SIZE + frame.payload.len();
        self.trace(CHMLOG_TYPE_INPUT | CHMLOG_TYPE_SOCKET, len);
        self.stat_of(frame.pkt.head.dept_ids.chmpxid)
            .add(false, len as u64);
        let term = frame.pkt.head.term_ids.chmpxid;
        if term != self.chmpxid {
            // Not for us: pass it on if we know the way (a reply through a server).
            let data = frame.encode();
            if !self.send_to(term, data) {
                log::warn!("dropping a C2C frame for unknown chmpxid 0x{term:016x}");
            }
            return;
        }
        if !self.deliver_local(frame) {
            log::warn!("no local client can take a C2C message, dropped");
        }
    }

    /// Hands a frame addressed to this chmpx to the client that owns its terminal msgid, or
    /// (no msgid: a request) to the next client of this server in turn.
    fn deliver_local(&mut self, frame: Frame) -> bool {
        match self.hold_while_asking_lastts(frame) {
            Some(frame) => self.deliver_now(frame),
            None => true,
        }
    }

    fn deliver_now(&mut self, mut frame: Frame) -> bool {
        let msgid = frame.pkt.head.term_ids.msgid;
        let target = if msgid != CHM_INVALID_MSGID {
            self.msgid_owner.get(&msgid).map(|c| (*c, msgid))
        } else {
            let mut ids: Vec<(ClientId, u64)> = self
                .clients
                .iter()
                .filter(|(_, c)| c.on_server)
                .filter_map(|(id, c)| c.msgids.first().map(|m| (*id, *m)))
                .collect();
            ids.sort_by_key(|(_, m)| *m);
            if ids.is_empty() {
                None
            } else {
                self.rr_next = (self.rr_next + 1) % ids.len();
                Some(ids[self.rr_next])
            }
        };
        let Some((client, msgid)) = target else {
            return false;
        };
        frame.pkt.head.term_ids.msgid = msgid;
        frame.pkt.length = (COMPKT_SIZE + frame.payload.len()) as u64;
        frame.pkt.offset = COMPKT_SIZE as u64;
        self.trace(CHMLOG_TYPE_OUTPUT | CHMLOG_TYPE_MQ, frame.payload.len());
        self.out.push(Output::ToClient {
            client,
            resp: Response::Deliver {
                msgid,
                pkt: frame.pkt,
                body: frame.payload,
            },
        });
        true
    }

    // ---- trace log ---------------------------------------------------------------------------

    fn trace(&mut self, log_type: u64, length: usize) {
        let now = self.now;
        self.trace_push(TraceEntry {
            log_type,
            length: length as u64,
            start: now,
            finish: now,
        });
    }

    /// The size of the trace log (MAXHISTLOG).
    fn trace_max(&self) -> usize {
        self.cfg.max_histlog_count.max(0) as usize
    }

    /// A record at the end of the log (dropping the oldest when it is full).
    fn trace_push(&mut self, mut e: TraceEntry) {
        if !self.trace_on {
            return;
        }
        e.log_type |= CHMLOG_TYPE_ASSIGNED;
        // (a loop: MAXHISTLOG may have shrunk with a reloaded configuration)
        while !self.trace.is_empty() && self.trace.len() >= self.trace_max() {
            self.trace.pop_front();
        }
        self.trace.push_back(e);
    }

    /// TRACE enable/disable; Err(text) when it already is, or when the log has no room
    /// (MAXHISTLOG 0). Enabling starts the log again; disabling keeps what it holds.
    pub fn trace_set(&mut self, enable: bool) -> Result<(), &'static str> {
        if enable == self.trace_on {
            return Err(crate::ctl::RES_ERROR_TRACE_SET_ALREADY);
        }
        if enable {
            if self.trace_max() == 0 {
                return Err(crate::ctl::RES_ERROR_TRACE_SET_FAILED);
            }
            self.trace.clear();
        }
        self.trace_on = enable;
        // clients with links of their own keep the records of what passes on them from now
        let linked: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| c.links || c.serves_links)
            .map(|(id, _)| *id)
            .collect();
        for client in linked {
            self.reply(client, Response::Tracing { on: enable });
        }
        Ok(())
    }

    /// Records a client kept of messages on its links (`Request::LinkCounts`), merged with
    /// chmpx's own in time order (they come up to a report interval late); the newest
    /// MAXHISTLOG stay. One pass over both, whatever a client sends.
    fn trace_links(&mut self, mut entries: Vec<TraceEntry>) {
        if !self.trace_on || entries.is_empty() {
            return;
        }
        let max = self.trace_max().max(1);
        let key = |x: &TraceEntry| (x.start.sec, x.start.nsec);
        entries.sort_by_key(key);
        if entries.len() > max {
            entries.drain(..entries.len() - max);
        }
        let old = std::mem::take(&mut self.trace);
        let mut merged = VecDeque::with_capacity((old.len() + entries.len()).min(max));
        let (mut a, mut b) = (old.into_iter().peekable(), entries.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if key(y) < key(x) => b.next(),
                (Some(_), _) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            if let Some(mut e) = next {
                e.log_type |= CHMLOG_TYPE_ASSIGNED;
                if merged.len() == max {
                    merged.pop_front();
                }
                merged.push_back(e);
            }
        }
        self.trace = merged;
    }

    /// The count TRACEVIEW takes as "all", as the original: the size of the log (MAXHISTLOG),
    /// not the records in it.
    pub fn trace_count(&self) -> usize {
        self.trace_max()
    }

    /// TRACEVIEW: the first `count` records (oldest first) matching the direction and device
    /// masks, as the original.
    pub fn trace_view(&self, dirmask: u64, devmask: u64, count: usize) -> String {
        let mut out = String::new();
        let matching = self
            .trace
            .iter()
            .filter(|e| e.log_type & dirmask != 0 && e.log_type & devmask != 0);
        for e in matching.take(count) {
            out.push_str(&format!(
                "{}\t{} byte\tSTART({}s {}ns) - FINISH({}s {}ns)\n",
                trace_type_text(e.log_type),
                e.length,
                e.start.sec,
                e.start.nsec,
                e.finish.sec,
                e.finish.nsec
            ));
        }
        out
    }

    // ---- views for the control port and tools -----------------------------------------------

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    pub fn client_pids(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.clients.values().map(|c| c.pid).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    pub fn activated_msgids(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.msgid_owner.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Our connections to server `chmpxid` (for DUMP's `sock`).
    pub fn socks_to(&self, chmpxid: u64) -> Vec<ConnId> {
        self.out_conn.get(&chmpxid).copied().into_iter().collect()
    }

    /// Connections `chmpxid` opened to us and that are identified.
    pub fn socks_from(&self, chmpxid: u64) -> Vec<ConnId> {
        let mut v: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| !c.outgoing && c.state == ConnState::Ready && c.peer == Some(chmpxid))
            .map(|(id, _)| *id)
            .collect();
        v.sort_unstable();
        v
    }

    /// Servers that have a connection open to us: the original files them among its slaves
    /// (every accepted peer is a "slave" there), so DUMP lists them there too.
    pub fn accepted_servers(&self) -> Vec<&ChmpxSvr> {
        self.ring
            .servers
            .iter()
            .filter(|s| s.chmpxid != self.chmpxid && !self.socks_from(s.chmpxid).is_empty())
            .collect()
    }
}
