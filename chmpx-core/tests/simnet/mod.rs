//! The simulation harness of `sim.rs` (rings, failures, merges) and `sim_links.rs` (direct,
//! served and copy links).
//!
//! Deterministic simulation: several `Node` state machines wired by an in-memory network (no
//! sockets, no threads, no clocks). Outputs of one node become inputs of another in a fixed
//! order, so every run is the same; failures are injected by closing connections.
#![allow(dead_code)]

pub use chmpx_core::config::{build, raw, ChmConfig, SelfIdentity};
pub use chmpx_core::ipc::{MergeGet, Request, Response, IPC_VERSION};
pub use chmpx_core::node::{Input, Node, Output};
pub use chmpx_core::ring;
pub use chmpx_core::wire::*;
pub use std::collections::{BTreeMap, HashMap, VecDeque};
pub use std::net::IpAddr;

pub const SERVERS: [(u16, u16); 4] = [(9100, 9101), (9102, 9103), (9104, 9105), (9110, 9111)];

pub const SLAVE_CTL: u16 = 9106;

/// The client id of each server's merge channel in the simulation.
pub const MERGE_CLIENT: u64 = 99;

/// The owner of a connection end that is a client's direct link (not a node).
pub const LINK: usize = usize::MAX;

/// The node of a connection a server handed over to its client (`Output::HandOver`).
pub const SERVED: usize = usize::MAX - 1;

pub fn config(self_ctl: u16, replica: u32) -> ChmConfig {
    config_n(self_ctl, replica, 3)
}

pub fn config_n(self_ctl: u16, replica: u32, servers: usize) -> ChmConfig {
    config_merge(self_ctl, replica, servers, "DOMERGE=on\nAUTOMERGE=on\n")
}

pub fn config_merge(self_ctl: u16, replica: u32, servers: usize, merge: &str) -> ChmConfig {
    let mut s = format!(
        "[GLOBAL]\nFILEVERSION=1\nGROUP=SIM\nDELIVERMODE=hash\nREPLICA={replica}\nMAXMQCLIENT=16\n{merge}SELFCTLPORT={self_ctl}\n"
    );
    for (p, c) in SERVERS.iter().take(servers) {
        s += &format!("[SVRNODE]\nNAME=127.0.0.1\nPORT={p}\nCTLPORT={c}\n");
    }
    s += &format!("[SLVNODE]\nNAME=[.]*\nCTLPORT={SLAVE_CTL}\n");
    build::build(&raw::parse_ini(&s), &SelfIdentity::default()).expect("config")
}

/// One end of a simulated connection: which node holds it and the other end.
pub struct End {
    pub node: usize,
    pub peer: u64,
    pub reader: FrameReader,
}

/// What a client-on-server keeps (k2hdkc's k2hash in real life): key hash -> (value, time).
#[derive(Default, Clone)]
pub struct Store {
    pub data: BTreeMap<u64, (u64, i64)>,
    pub last: i64,
}

pub fn in_range(h: u64, start: u64, count: u64, range: u64) -> bool {
    if count == 0 || start == u64::MAX {
        return false;
    }
    let slot = h % count;
    (0..range.min(count)).any(|i| (start + i) % count == slot)
}

impl Store {
    /// `k2h_get_elements_by_hash` in short: everything of the target range, and of what was
    /// already in the old range only what changed since `startts`.
    pub fn get(&self, p: &MergeGet) -> Vec<Vec<u8>> {
        let range = p.target_hash_range as u64;
        self.data
            .iter()
            .filter(|(h, _)| in_range(**h, p.target_hash, p.target_max_hash, range))
            .filter(|(h, (_, ts))| {
                !in_range(**h, p.old_hash, p.old_max_hash, range) || *ts >= p.startts.sec
            })
            .map(|(h, (v, ts))| [h.to_le_bytes(), v.to_le_bytes(), ts.to_le_bytes()].concat())
            .collect()
    }

    pub fn set(&mut self, d: &[u8]) {
        let n = |i: usize| u64::from_le_bytes(d[i * 8..i * 8 + 8].try_into().unwrap());
        let (h, v, ts) = (n(0), n(1), n(2) as i64);
        let e = self.data.entry(h).or_insert((v, ts));
        if e.1 <= ts {
            *e = (v, ts);
        }
        self.last = self.last.max(ts);
    }
}

pub struct Sim {
    /// Per node, its client's store (only nodes with a merge channel use theirs).
    pub stores: Vec<Store>,
    /// This node dies when its client is asked for merge data (a failure during a merge).
    pub die_on_get: Option<usize>,
    /// How many times a client was asked for merge data.
    pub gets: usize,
    pub nodes: Vec<Node>,
    pub alive: Vec<bool>,
    pub ends: HashMap<u64, End>,
    pub next_conn: u64,
    pub queue: VecDeque<(usize, Input)>,
    /// What each (node, client) received.
    pub inbox: HashMap<(usize, u64), VecDeque<Response>>,
    /// Frames that reached a client's direct link (an end owned by `LINK`).
    pub link_inbox: Vec<Frame>,
    /// Connections handed over: (node, connection, client, for copies).
    pub handed: Vec<(usize, u64, u64, bool)>,
    /// Frames that reached a connection after it was handed over (an end owned by `SERVED`).
    pub served_inbox: Vec<Frame>,
    /// Inputs for which this says true are lost on the way (a lossy network).
    pub lose: Option<fn(&Input) -> bool>,
    /// This node's client takes requests for merge data and does not answer (yet).
    pub mute: Option<usize>,
    pub now: Timespec,
}

impl Sim {
    pub fn new(replica: u32) -> Sim {
        Sim::with_servers(replica, 3)
    }

    /// `servers` servers in the configuration (nodes 0..servers, all alive), then the slave.
    pub fn with_servers(replica: u32, servers: usize) -> Sim {
        let mut nodes = Vec::new();
        let t0 = Timespec {
            sec: 1_800_000_000,
            nsec: 0,
        };
        for (i, (_, c)) in SERVERS.iter().take(servers).enumerate() {
            nodes.push(
                Node::new(config_n(*c, replica, servers), 1000 + i as u32, t0)
                    .expect("server node"),
            );
        }
        nodes.push(Node::new(config_n(SLAVE_CTL, replica, servers), 2000, t0).expect("slave node"));
        let alive = vec![true; nodes.len()];
        Sim {
            stores: vec![Store::default(); nodes.len()],
            die_on_get: None,
            gets: 0,
            nodes,
            alive,
            ends: HashMap::new(),
            next_conn: 1,
            queue: VecDeque::new(),
            inbox: HashMap::new(),
            link_inbox: Vec::new(),
            handed: Vec::new(),
            served_inbox: Vec::new(),
            lose: None,
            mute: None,
            now: t0,
        }
    }

    /// A connection between end `a` (held by node `na`, or `LINK`) and end `b` (node `nb`).
    pub fn join_ends(&mut self, a: u64, na: usize, b: u64, nb: usize) {
        for (c, node, peer) in [(a, na, b), (b, nb, a)] {
            self.ends.insert(
                c,
                End {
                    node,
                    peer,
                    reader: FrameReader::new(),
                },
            );
        }
    }

    pub fn by_chmpxid(&self, id: u64) -> Option<usize> {
        self.nodes.iter().position(|n| n.chmpxid == id)
    }

    pub fn apply(&mut self, from: usize, outs: Vec<Output>) {
        for o in outs {
            match o {
                Output::Connect { chmpxid, .. } => {
                    match self.by_chmpxid(chmpxid).filter(|t| self.alive[*t]) {
                        Some(target) => {
                            let (a, b) = (self.next_conn, self.next_conn + 1);
                            self.next_conn += 2;
                            self.ends.insert(
                                a,
                                End {
                                    node: from,
                                    peer: b,
                                    reader: FrameReader::new(),
                                },
                            );
                            self.ends.insert(
                                b,
                                End {
                                    node: target,
                                    peer: a,
                                    reader: FrameReader::new(),
                                },
                            );
                            let addr: IpAddr = "127.0.0.1".parse().unwrap();
                            self.queue
                                .push_back((target, Input::Accepted { conn: b, addr }));
                            self.queue
                                .push_back((from, Input::Connected { conn: a, chmpxid }));
                        }
                        None => self
                            .queue
                            .push_back((from, Input::ConnectFailed { chmpxid })),
                    }
                }
                Output::Send { conn, data } => {
                    let Some(peer) = self.ends.get(&conn).map(|e| e.peer) else {
                        continue;
                    };
                    let Some(end) = self.ends.get_mut(&peer) else {
                        continue;
                    };
                    end.reader.feed(&data);
                    let node = end.node;
                    while let Ok(Some(frame)) = end.reader.next_frame() {
                        if node == LINK {
                            self.link_inbox.push(frame);
                        } else if node == SERVED {
                            self.served_inbox.push(frame);
                        } else {
                            self.queue
                                .push_back((node, Input::Frame { conn: peer, frame }));
                        }
                    }
                }
                Output::Close { conn } => self.close(conn),
                Output::ToClient {
                    client: MERGE_CLIENT,
                    resp,
                } => self.merge_client(from, resp),
                Output::ToClient { client, resp } => {
                    self.inbox
                        .entry((from, client))
                        .or_default()
                        .push_back(resp);
                }
                Output::CloseClient { .. } => {}
                Output::HandOver {
                    conn,
                    client,
                    copies,
                } => {
                    self.handed.push((from, conn, client, copies));
                    if let Some(e) = self.ends.get_mut(&conn) {
                        e.node = SERVED;
                    }
                }
            }
        }
    }

    /// The merge channel of node `n`'s client: answer at once (as libchmpx's merge thread).
    pub fn merge_client(&mut self, n: usize, resp: Response) {
        let mut answer = |req| {
            self.queue.push_back((
                n,
                Input::Client {
                    client: MERGE_CLIENT,
                    req,
                },
            ))
        };
        match resp {
            Response::Done { .. } => {}
            Response::MergeGetLastTs => answer(Request::MergeLastTs {
                ok: true,
                ts: Timespec {
                    sec: self.stores[n].last,
                    nsec: 0,
                },
            }),
            Response::MergeGet { requester, param } => {
                self.gets += 1;
                if self.mute == Some(n) {
                    return;
                }
                if self.die_on_get == Some(n) {
                    self.die_on_get = None;
                    self.kill(n);
                    return;
                }
                for data in self.stores[n].get(&param) {
                    answer(Request::MergeData {
                        requester,
                        ts: param.endts,
                        data,
                    });
                }
                answer(Request::MergeResult {
                    requester,
                    ok: true,
                });
            }
            Response::MergeSet { data, .. } => self.stores[n].set(&data),
            Response::MergeSetEnd => answer(Request::MergeSetDone { ok: true }),
            Response::MergeAbort => {}
            other => panic!("unexpected on the merge channel: {other:?}"),
        }
    }

    pub fn close(&mut self, conn: u64) {
        let Some(end) = self.ends.remove(&conn) else {
            return;
        };
        if let Some(peer) = self.ends.remove(&end.peer) {
            if peer.node != LINK {
                self.queue
                    .push_back((peer.node, Input::Closed { conn: end.peer }));
            }
        }
        if end.node != LINK {
            self.queue.push_back((end.node, Input::Closed { conn }));
        }
    }

    /// Runs until nothing is left to deliver.
    pub fn settle(&mut self) {
        self.settle_watching(|_| {});
    }

    /// `settle`, calling `watch` after every input handled.
    pub fn settle_watching(&mut self, mut watch: impl FnMut(&Sim)) {
        let mut steps = 0;
        while let Some((n, input)) = self.queue.pop_front() {
            steps += 1;
            assert!(steps < 100_000, "the simulation does not settle");
            if !self.alive[n] || self.lose.is_some_and(|lose| lose(&input)) {
                continue;
            }
            self.nodes[n].set_now(self.now);
            let outs = self.nodes[n].handle(input);
            self.apply(n, outs);
            watch(self);
        }
    }

    /// Node `from` sends `data` on its connection to node `to` (queued; `settle` delivers it).
    pub fn send(&mut self, from: usize, to: usize, data: Vec<u8>) {
        let conn = *self
            .ends
            .iter()
            .find(|(_, e)| e.node == from && self.ends.get(&e.peer).is_some_and(|p| p.node == to))
            .unwrap_or_else(|| panic!("a connection from node {from} to node {to}"))
            .0;
        self.apply(from, vec![Output::Send { conn, data }]);
    }

    /// Time passes by `secs` (ticks on every live node), then everything settles.
    pub fn tick(&mut self, secs: i64) {
        self.now.sec += secs;
        for n in 0..self.nodes.len() {
            if self.alive[n] {
                self.queue.push_back((n, Input::Tick { now: self.now }));
            }
        }
        self.settle();
    }

    pub fn start(&mut self) {
        for n in 0..self.nodes.len() {
            if !self.alive[n] {
                continue;
            }
            let outs = self.nodes[n].start();
            self.apply(n, outs);
        }
        self.settle();
    }

    pub fn client(&mut self, node: usize, client: u64, req: Request) -> Response {
        self.queue.push_back((node, Input::Client { client, req }));
        self.settle();
        self.inbox
            .get_mut(&(node, client))
            .and_then(|q| q.pop_back())
            .expect("an answer")
    }

    /// Client `client` of the slave (node 3) says hello and opens a msgid.
    pub fn slave_client(&mut self, client: u64) -> u64 {
        assert!(matches!(
            self.client(3, client, hello(false)),
            Response::Welcome { .. }
        ));
        match self.client(3, client, Request::Open) {
            Response::Opened { msgid } => msgid,
            other => panic!("{other:?}"),
        }
    }

    /// Client `client` of the slave sends `len` bytes from `msgid` by hash 5 (routing): the
    /// number of receivers.
    pub fn slave_send(&mut self, client: u64, msgid: u64, len: usize) -> i64 {
        let send = Request::Send {
            msgid,
            c2ctype: COM_C2C_ROUTING,
            hash: 5,
            body: vec![1; len],
        };
        match self.client(3, client, send) {
            Response::Sent { receivers } => receivers,
            other => panic!("{other:?}"),
        }
    }

    /// A control command on `node` (one that stays on that node), its outputs applied.
    pub fn command(&mut self, node: usize, text: &str) -> String {
        let out = chmpx_core::ctl::command(&mut self.nodes[node], text).expect("a local command");
        let outs = self.nodes[node].take_outputs();
        self.apply(node, outs);
        self.settle();
        out
    }

    /// Client `client` of `node` serves links from now on (`Request::ServeLinks`).
    pub fn serve_links(&mut self, node: usize, client: u64) {
        let req = Request::ServeLinks;
        self.queue.push_back((node, Input::Client { client, req }));
        self.settle();
    }

    /// The last answer on a link says chmpx keeps it, and nothing was handed over.
    pub fn assert_kept(&mut self) {
        let kept = self
            .link_inbox
            .pop()
            .expect("an answer to the link request");
        assert_eq!(kept.link_what(), Some(LINK_KEPT));
        assert!(self.handed.is_empty());
    }

    pub fn take(&mut self, node: usize, client: u64) -> Vec<Response> {
        self.inbox
            .remove(&(node, client))
            .map(Vec::from)
            .unwrap_or_default()
    }

    /// The node dies: every connection it had closes, it gets no more input.
    pub fn kill(&mut self, node: usize) {
        self.alive[node] = false;
        let conns: Vec<u64> = self
            .ends
            .iter()
            .filter(|(_, e)| e.node == node)
            .map(|(c, _)| *c)
            .collect();
        for c in conns {
            self.close(c);
        }
        self.settle();
    }

    /// Three servers (REPLICA `replica`) and the slave, started, a client on every server,
    /// every server in service in every view.
    pub fn in_service(replica: u32) -> Sim {
        let mut sim = Sim::new(replica);
        sim.start();
        for n in 0..3 {
            sim.client(n, 1, hello(true));
        }
        sim.all_in_service();
        sim
    }

    /// Three seconds pass; then every view (servers and slave) has the three servers in
    /// service.
    pub fn all_in_service(&mut self) {
        for _ in 0..3 {
            self.tick(1);
        }
        self.assert_all_normal();
    }

    /// Every view (servers and slave) has the three servers in service.
    pub fn assert_all_normal(&self) {
        for n in 0..4 {
            assert_eq!(
                self.statuses(n),
                vec![CHMPXSTS_SRVIN_UP_NORMAL; 3],
                "view of node {n}"
            );
        }
    }

    /// Node `n` sets its own status (as its merge logic would) and tells it; nothing is
    /// delivered yet.
    pub fn set_own_status(&mut self, n: usize, status: u64) {
        self.nodes[n].set_self_status(status);
        let outs = self.nodes[n].take_outputs();
        self.apply(n, outs);
    }

    /// The client (1) of server `n` answers `pkt` with `body`; everything settles.
    pub fn reply(&mut self, n: usize, pkt: ComPkt, body: &[u8]) {
        let req = Request::Reply {
            pkt,
            body: body.to_vec(),
        };
        self.queue.push_back((n, Input::Client { client: 1, req }));
        self.settle();
    }

    /// Three servers (REPLICA 1) and the slave, each server with a client that has the merge
    /// callbacks, all in service.
    pub fn with_merge_clients() -> Sim {
        let mut sim = Sim::new(1);
        sim.start();
        for n in 0..3 {
            sim.attach_clients(n);
        }
        for _ in 0..4 {
            sim.tick(1);
        }
        sim
    }

    /// Server `from` tells server `about` that it was taken for dead (a DOWN record of it,
    /// newer than its own).
    pub fn tell_dead(&mut self, from: usize, about: usize) {
        let (idf, ida) = (self.nodes[from].chmpxid, self.nodes[about].chmpxid);
        let mut rec = self.nodes[from].ring.get(ida).unwrap().clone();
        rec.status = CHMPXSTS_SRVIN_DOWN_NORMAL;
        rec.last_status_time = ring::pack_status_time(self.now.sec + 1, 0);
        let update = PxMsg::new(PxCom::N2StatusUpdate { servers: vec![rec] });
        self.send(
            from,
            about,
            Frame::px2px(idf, ida, self.now, &update).encode(),
        );
        self.settle();
    }

    /// Ten seconds pass; then the ring is back in service in every view.
    pub fn recovers(&mut self) {
        for _ in 0..10 {
            self.tick(1);
        }
        self.all_in_service();
    }

    pub fn statuses(&self, node: usize) -> Vec<u64> {
        self.nodes[node]
            .ring
            .servers
            .iter()
            .map(|s| s.status)
            .collect()
    }
}

pub fn hello(on_server: bool) -> Request {
    Request::Hello {
        version: IPC_VERSION,
        pid: 42,
        on_server,
        merge: false,
    }
}

impl Sim {
    /// A fresh process for server `n` (same configuration; its client's store survives, as a
    /// k2hash file does), with a client-on-server and its merge channel.
    pub fn restart(&mut self, n: usize, servers: usize, replica: u32) {
        let t = self.now;
        let ctl = SERVERS[n].1;
        self.nodes[n] = Node::new(config_n(ctl, replica, servers), 3000 + n as u32, t).unwrap();
        self.alive[n] = true;
        let outs = self.nodes[n].start();
        self.apply(n, outs);
        self.settle();
        self.tick(2);
        self.attach_clients(n);
    }

    pub fn attach_clients(&mut self, n: usize) {
        self.client(
            n,
            1,
            Request::Hello {
                version: IPC_VERSION,
                pid: 42,
                on_server: true,
                merge: true,
            },
        );
        self.queue.push_back((
            n,
            Input::Client {
                client: MERGE_CLIENT,
                req: Request::MergeHello {
                    version: IPC_VERSION,
                    pid: 42,
                },
            },
        ));
        self.settle();
    }

    /// A write as k2hdkc does it: to every server the hash rule names now.
    pub fn write(&mut self, slave: usize, key: u64, value: u64) {
        let targets = self.nodes[slave].ring.targets(key);
        assert!(!targets.is_empty(), "no server for key {key}");
        for id in targets {
            let n = self.by_chmpxid(id).unwrap();
            self.stores[n].data.insert(key, (value, self.now.sec));
            self.stores[n].last = self.now.sec;
        }
    }

    /// Every key with its latest value is on every server the hash rule names.
    pub fn check_placement(&self, slave: usize, keys: &BTreeMap<u64, u64>) {
        let ring = &self.nodes[slave].ring;
        assert!(!ring.operating, "the merge is over");
        for (k, v) in keys {
            let targets = ring.targets(*k);
            assert_eq!(targets.len(), 2, "key {k}: primary and one replica");
            for id in targets {
                let n = self.by_chmpxid(id).unwrap();
                assert_eq!(
                    self.stores[n].data.get(k).map(|e| e.0),
                    Some(*v),
                    "key {k} on node {n}"
                );
            }
        }
    }

    pub fn all_views(&self, n: usize) -> Vec<Vec<u64>> {
        (0..n)
            .filter(|i| self.alive[*i])
            .map(|i| self.statuses(i))
            .collect()
    }
}

/// A direct link as `crate::direct` opens it: client 7 of the slave (node 3) with a msgid and
/// the slave's table, a hash server 0 answers for, and a connection introduced to server 0 as
/// the slave (our end `a`, in `LINK`). Every inbox is emptied after.
pub struct LinkSetup {
    pub sim: Sim,
    pub a: u64,
    pub slave: u64,
    pub msgid: u64,
    pub hash: u64,
    pub id0: u64,
}

/// The bytes of a request from the slave's `msgid` to server `to` for `hash`, as a link sends.
pub fn request(slave: u64, msgid: u64, to: u64, hash: u64, now: Timespec, body: &[u8]) -> Vec<u8> {
    let dept = PckId {
        chmpxid: slave,
        msgid,
    };
    let term = PckId {
        chmpxid: to,
        msgid: CHM_INVALID_MSGID,
    };
    Frame::encode_parts(ComHead::c2c(COM_C2C_ROUTING, dept, term, hash, now), body)
}

pub fn open_link() -> LinkSetup {
    let mut sim = Sim::in_service(1);
    assert!(matches!(
        sim.client(3, 7, hello(false)),
        Response::Welcome { .. }
    ));
    let Response::Opened { msgid } = sim.client(3, 7, Request::Open) else {
        panic!()
    };
    let Response::Links {
        replica, snapshot, ..
    } = sim.client(3, 7, Request::Links)
    else {
        panic!("no link information")
    };
    assert_eq!(replica, 1);
    let snap = chmpx_core::node::Snapshot::decode(&snapshot).unwrap();
    let slave = sim.nodes[3].chmpxid;
    assert_eq!(snap.chmpxid, slave);
    assert_eq!(snap.servers.len(), 3);
    // a hash server 0 answers for, as the slave would route it
    let id0 = sim.nodes[0].chmpxid;
    let hash = (0..64u64)
        .find(|h| {
            sim.nodes[3]
                .ring
                .receivers(slave, *h, COM_C2C_ROUTING)
                .is_ok_and(|r| r == vec![id0])
        })
        .unwrap();
    // the link: our end (LINK) and server 0's, introduced with the slave's N2_CONINIT_REQ
    let (a, b) = (1000, 1001);
    sim.join_ends(a, LINK, b, 0);
    let addr: IpAddr = "127.0.0.1".parse().unwrap();
    sim.queue.push_back((0, Input::Accepted { conn: b, addr }));
    let coninit = ConinitReq::of(slave, &snap.self_rec);
    let hello_frame = Frame::px2px(
        slave,
        id0,
        sim.now,
        &PxMsg::new(PxCom::N2ConinitReq(Box::new(coninit))),
    );
    let data = hello_frame.encode();
    sim.apply(0, vec![Output::Send { conn: a, data }]);
    sim.settle();
    let res = sim.link_inbox.pop().expect("an answer to N2_CONINIT_REQ");
    let msg = res.px_msg().unwrap();
    assert!(matches!(msg.body, PxCom::N2ConinitRes));
    assert_eq!(msg.result, CHMPX_COM_RES_SUCCESS);
    // the request, on the link
    for n in 0..4 {
        sim.take(n, 1);
    }
    sim.take(3, 7);
    LinkSetup {
        sim,
        a,
        slave,
        msgid,
        hash,
        id0,
    }
}
