//! Deterministic simulation: several `Node` state machines wired by an in-memory network (no
//! sockets, no threads, no clocks). Outputs of one node become inputs of another in a fixed
//! order, so every run is the same; failures are injected by closing connections.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;

use chmpx_core::config::{build, raw, ChmConfig, SelfIdentity};
use chmpx_core::ipc::{MergeGet, Request, Response, IPC_VERSION};
use chmpx_core::node::{Input, Node, Output};
use chmpx_core::ring;
use chmpx_core::wire::*;

const SERVERS: [(u16, u16); 4] = [(9100, 9101), (9102, 9103), (9104, 9105), (9110, 9111)];
const SLAVE_CTL: u16 = 9106;
/// The client id of each server's merge channel in the simulation.
const MERGE_CLIENT: u64 = 99;
/// The owner of a connection end that is a client's direct link (not a node).
const LINK: usize = usize::MAX;
/// The node of a connection a server handed over to its client (`Output::HandOver`).
const SERVED: usize = usize::MAX - 1;

fn config(self_ctl: u16, replica: u32) -> ChmConfig {
    config_n(self_ctl, replica, 3)
}

fn config_n(self_ctl: u16, replica: u32, servers: usize) -> ChmConfig {
    config_merge(self_ctl, replica, servers, "DOMERGE=on\nAUTOMERGE=on\n")
}

fn config_merge(self_ctl: u16, replica: u32, servers: usize, merge: &str) -> ChmConfig {
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
struct End {
    node: usize,
    peer: u64,
    reader: FrameReader,
}

/// What a client-on-server keeps (k2hdkc's k2hash in real life): key hash -> (value, time).
#[derive(Default, Clone)]
struct Store {
    data: BTreeMap<u64, (u64, i64)>,
    last: i64,
}

fn in_range(h: u64, start: u64, count: u64, range: u64) -> bool {
    if count == 0 || start == u64::MAX {
        return false;
    }
    let slot = h % count;
    (0..range.min(count)).any(|i| (start + i) % count == slot)
}

impl Store {
    /// `k2h_get_elements_by_hash` in short: everything of the target range, and of what was
    /// already in the old range only what changed since `startts`.
    fn get(&self, p: &MergeGet) -> Vec<Vec<u8>> {
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

    fn set(&mut self, d: &[u8]) {
        let n = |i: usize| u64::from_le_bytes(d[i * 8..i * 8 + 8].try_into().unwrap());
        let (h, v, ts) = (n(0), n(1), n(2) as i64);
        let e = self.data.entry(h).or_insert((v, ts));
        if e.1 <= ts {
            *e = (v, ts);
        }
        self.last = self.last.max(ts);
    }
}

struct Sim {
    /// Per node, its client's store (only nodes with a merge channel use theirs).
    stores: Vec<Store>,
    /// This node dies when its client is asked for merge data (a failure during a merge).
    die_on_get: Option<usize>,
    /// How many times a client was asked for merge data.
    gets: usize,
    nodes: Vec<Node>,
    alive: Vec<bool>,
    ends: HashMap<u64, End>,
    next_conn: u64,
    queue: VecDeque<(usize, Input)>,
    /// What each (node, client) received.
    inbox: HashMap<(usize, u64), VecDeque<Response>>,
    /// Frames that reached a client's direct link (an end owned by `LINK`).
    link_inbox: Vec<Frame>,
    /// Connections handed over: (node, connection, client, for copies).
    handed: Vec<(usize, u64, u64, bool)>,
    /// Frames that reached a connection after it was handed over (an end owned by `SERVED`).
    served_inbox: Vec<Frame>,
    /// Inputs for which this says true are lost on the way (a lossy network).
    lose: Option<fn(&Input) -> bool>,
    /// This node's client takes requests for merge data and does not answer (yet).
    mute: Option<usize>,
    now: Timespec,
}

impl Sim {
    fn new(replica: u32) -> Sim {
        Sim::with_servers(replica, 3)
    }

    /// `servers` servers in the configuration (nodes 0..servers, all alive), then the slave.
    fn with_servers(replica: u32, servers: usize) -> Sim {
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
    fn join_ends(&mut self, a: u64, na: usize, b: u64, nb: usize) {
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

    fn by_chmpxid(&self, id: u64) -> Option<usize> {
        self.nodes.iter().position(|n| n.chmpxid == id)
    }

    fn apply(&mut self, from: usize, outs: Vec<Output>) {
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
    fn merge_client(&mut self, n: usize, resp: Response) {
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

    fn close(&mut self, conn: u64) {
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
    fn settle(&mut self) {
        self.settle_watching(|_| {});
    }

    /// `settle`, calling `watch` after every input handled.
    fn settle_watching(&mut self, mut watch: impl FnMut(&Sim)) {
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
    fn send(&mut self, from: usize, to: usize, data: Vec<u8>) {
        let conn = *self
            .ends
            .iter()
            .find(|(_, e)| e.node == from && self.ends.get(&e.peer).is_some_and(|p| p.node == to))
            .unwrap_or_else(|| panic!("a connection from node {from} to node {to}"))
            .0;
        self.apply(from, vec![Output::Send { conn, data }]);
    }

    /// Time passes by `secs` (ticks on every live node), then everything settles.
    fn tick(&mut self, secs: i64) {
        self.now.sec += secs;
        for n in 0..self.nodes.len() {
            if self.alive[n] {
                self.queue.push_back((n, Input::Tick { now: self.now }));
            }
        }
        self.settle();
    }

    fn start(&mut self) {
        for n in 0..self.nodes.len() {
            if !self.alive[n] {
                continue;
            }
            let outs = self.nodes[n].start();
            self.apply(n, outs);
        }
        self.settle();
    }

    fn client(&mut self, node: usize, client: u64, req: Request) -> Response {
        self.queue.push_back((node, Input::Client { client, req }));
        self.settle();
        self.inbox
            .get_mut(&(node, client))
            .and_then(|q| q.pop_back())
            .expect("an answer")
    }

    fn take(&mut self, node: usize, client: u64) -> Vec<Response> {
        self.inbox
            .remove(&(node, client))
            .map(Vec::from)
            .unwrap_or_default()
    }

    /// The node dies: every connection it had closes, it gets no more input.
    fn kill(&mut self, node: usize) {
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
    fn in_service(replica: u32) -> Sim {
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
    fn all_in_service(&mut self) {
        for _ in 0..3 {
            self.tick(1);
        }
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
    fn set_own_status(&mut self, n: usize, status: u64) {
        self.nodes[n].set_self_status(status);
        let outs = self.nodes[n].take_outputs();
        self.apply(n, outs);
    }

    /// The client (1) of server `n` answers `pkt` with `body`; everything settles.
    fn reply(&mut self, n: usize, pkt: ComPkt, body: &[u8]) {
        let req = Request::Reply {
            pkt,
            body: body.to_vec(),
        };
        self.queue.push_back((n, Input::Client { client: 1, req }));
        self.settle();
    }

    /// Three servers (REPLICA 1) and the slave, each server with a client that has the merge
    /// callbacks, all in service.
    fn with_merge_clients() -> Sim {
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
    fn tell_dead(&mut self, from: usize, about: usize) {
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
    fn recovers(&mut self) {
        for _ in 0..10 {
            self.tick(1);
        }
        self.all_in_service();
    }

    fn statuses(&self, node: usize) -> Vec<u64> {
        self.nodes[node]
            .ring
            .servers
            .iter()
            .map(|s| s.status)
            .collect()
    }
}

fn hello(on_server: bool) -> Request {
    Request::Hello {
        version: IPC_VERSION,
        pid: 42,
        on_server,
        merge: false,
    }
}

#[test]
fn ring_converges_routes_and_survives_a_failure() {
    let mut sim = Sim::new(1);
    sim.start();
    sim.tick(1);
    // Every server is SERVICE OUT and suspended until its client attaches.
    assert!(sim
        .statuses(3)
        .iter()
        .all(|s| *s & CHMPXSTS_MASK_RING != CHMPXSTS_VAL_SRVIN));
    for n in 0..3 {
        match sim.client(n, 1, hello(true)) {
            Response::Welcome { is_server, .. } => assert!(is_server),
            other => panic!("{other:?}"),
        }
    }
    sim.all_in_service();
    // A client on the slave: one msgid, sends by hash; the server of slot hash % 3 gets it.
    assert!(matches!(
        sim.client(3, 7, hello(false)),
        Response::Welcome { .. }
    ));
    let Response::Opened { msgid } = sim.client(3, 7, Request::Open) else {
        panic!()
    };
    let ids: Vec<u64> = sim.nodes[3]
        .ring
        .servers
        .iter()
        .map(|s| s.chmpxid)
        .collect();
    for hash in 0..9u64 {
        let r = sim.client(
            3,
            7,
            Request::Send {
                msgid,
                c2ctype: COM_C2C_ROUTING,
                hash,
                body: vec![hash as u8],
            },
        );
        assert_eq!(r, Response::Sent { receivers: 1 });
        let owner = sim.by_chmpxid(ids[(hash % 3) as usize]).unwrap();
        let got = sim.take(owner, 1);
        let Some(Response::Deliver { pkt, body, .. }) = got.last() else {
            panic!("hash {hash}: nothing at {owner}")
        };
        assert_eq!(body, &vec![hash as u8]);
        // The reply comes back to the slave's msgid.
        let pkt = *pkt;
        sim.queue.push_back((
            owner,
            Input::Client {
                client: 1,
                req: Request::Reply {
                    pkt,
                    body: b"ok".to_vec(),
                },
            },
        ));
        sim.settle();
        let back = sim.take(3, 7);
        assert!(
            matches!(back.last(), Some(Response::Deliver { msgid: m, body, .. }) if *m == msgid && body == b"ok")
        );
    }
    // REPLICA = 1: replicate reaches two servers.
    let r = sim.client(
        3,
        7,
        Request::Send {
            msgid,
            c2ctype: COM_C2C_RBROADCAST,
            hash: 4,
            body: b"r".to_vec(),
        },
    );
    assert_eq!(r, Response::Sent { receivers: 2 });
    // A post is delivered like a send, with no answer to the sender; one that reaches nobody
    // (a msgid the client does not own) is answered NotSent.
    for n in 0..4 {
        sim.take(n, 1);
    }
    sim.take(3, 7);
    for (m, body) in [
        (msgid, b"posted".to_vec()),
        (msgid ^ 0x5555, b"lost".to_vec()),
    ] {
        sim.queue.push_back((
            3,
            Input::Client {
                client: 7,
                req: Request::Post {
                    msgid: m,
                    c2ctype: COM_C2C_ROUTING,
                    hash: 5,
                    body,
                },
            },
        ));
        sim.settle();
    }
    let owner = sim.by_chmpxid(ids[5 % 3]).unwrap();
    let got = sim.take(owner, 1);
    assert!(
        matches!(got.last(), Some(Response::Deliver { body, .. }) if body == b"posted"),
        "{got:?}"
    );
    assert_eq!(
        sim.take(3, 7),
        vec![Response::NotSent {
            msgid: msgid ^ 0x5555
        }]
    );

    // The primary of hash 4 dies: the others and the slave see it DOWN (it keeps its slot) and
    // its keys go to the replica.
    let victim = sim
        .by_chmpxid(ring::Ring::clone(&sim.nodes[3].ring).primary(4).unwrap())
        .unwrap();
    for n in 0..3 {
        sim.take(n, 1);
    }
    sim.kill(victim);
    sim.tick(1);
    for n in (0..4).filter(|n| *n != victim) {
        let down = sim.nodes[n]
            .ring
            .get(sim.nodes[victim].chmpxid)
            .unwrap()
            .status;
        assert_eq!(down, CHMPXSTS_SRVIN_DOWN_NORMAL, "view of node {n}");
    }
    let r = sim.client(
        3,
        7,
        Request::Send {
            msgid,
            c2ctype: COM_C2C_ROUTING,
            hash: 4,
            body: b"again".to_vec(),
        },
    );
    assert_eq!(r, Response::Sent { receivers: 1 });
    let replica = (0..3)
        .filter(|n| *n != victim)
        .find(|n| !sim.take(*n, 1).is_empty());
    assert!(
        replica.is_some(),
        "a replica took the key of the dead primary"
    );

    // Deterministic: the same run again gives the same chmpxids, slots and statuses.
    let mut again = Sim::new(1);
    again.start();
    assert_eq!(
        again.nodes[3]
            .ring
            .servers
            .iter()
            .map(|s| s.chmpxid)
            .collect::<Vec<_>>(),
        sim.nodes[3]
            .ring
            .servers
            .iter()
            .map(|s| s.chmpxid)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_server_comes_back_and_restores_service_in() {
    let mut sim = Sim::in_service(0);
    // Server 2 dies and a fresh process takes its place (same configuration).
    sim.kill(2);
    sim.tick(1);
    let t = sim.now;
    sim.nodes[2] = Node::new(config(SERVERS[2].1, 0), 3000, t).unwrap();
    sim.alive[2] = true;
    let outs = sim.nodes[2].start();
    sim.apply(2, outs);
    sim.settle();
    sim.tick(2);
    // The ring remembered it as SERVICE IN: it comes back in (still suspended without a client).
    let me = sim.nodes[2].chmpxid;
    let st = sim.nodes[2].ring.get(me).unwrap().status;
    assert_eq!(st & !CHMPXSTS_MASK_SUSPEND, CHMPXSTS_SRVIN_UP_NORMAL);
    sim.client(2, 1, hello(true));
    sim.all_in_service();
}

impl Sim {
    /// A fresh process for server `n` (same configuration; its client's store survives, as a
    /// k2hash file does), with a client-on-server and its merge channel.
    fn restart(&mut self, n: usize, servers: usize, replica: u32) {
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

    fn attach_clients(&mut self, n: usize) {
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
    fn write(&mut self, slave: usize, key: u64, value: u64) {
        let targets = self.nodes[slave].ring.targets(key);
        assert!(!targets.is_empty(), "no server for key {key}");
        for id in targets {
            let n = self.by_chmpxid(id).unwrap();
            self.stores[n].data.insert(key, (value, self.now.sec));
            self.stores[n].last = self.now.sec;
        }
    }

    /// Every key with its latest value is on every server the hash rule names.
    fn check_placement(&self, slave: usize, keys: &BTreeMap<u64, u64>) {
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

    fn all_views(&self, n: usize) -> Vec<Vec<u64>> {
        (0..n)
            .filter(|i| self.alive[*i])
            .map(|i| self.statuses(i))
            .collect()
    }
}

#[test]
fn merges_move_data_when_servers_join_return_and_leave() {
    const N: usize = 4;
    let slave = N;
    let mut sim = Sim::with_servers(1, N);
    sim.alive[3] = false; // the fourth server is added later
    sim.start();
    for n in 0..3 {
        sim.attach_clients(n);
    }
    for _ in 0..4 {
        sim.tick(1);
    }
    let normal3 = |v: &Vec<u64>| v.iter().filter(|s| **s == CHMPXSTS_SRVIN_UP_NORMAL).count();
    assert_eq!(
        normal3(&sim.statuses(slave)),
        3,
        "{:x?}",
        sim.statuses(slave)
    );
    let mut keys = BTreeMap::new();
    for k in 0..600u64 {
        let key = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        sim.write(slave, key, k);
        keys.insert(key, k);
    }
    sim.check_placement(slave, &keys);

    // scale out: the fourth server starts, gets a client, and the automatic merge moves data
    sim.restart(3, N, 1);
    for _ in 0..6 {
        sim.tick(1);
    }
    for v in sim.all_views(N + 1) {
        assert_eq!(v, vec![CHMPXSTS_SRVIN_UP_NORMAL; 4], "{v:x?}");
    }
    sim.check_placement(slave, &keys);

    // a server dies; writes go on (to the replicas); it comes back and gets what it missed
    sim.kill(1);
    sim.tick(1);
    for (i, (k, v)) in keys.iter_mut().enumerate() {
        if i % 3 == 0 {
            *v += 1000;
            let (k, v) = (*k, *v);
            sim.tick(0);
            sim.write(slave, k, v);
        }
    }
    sim.tick(1);
    sim.restart(1, N, 1);
    for _ in 0..6 {
        sim.tick(1);
    }
    for v in sim.all_views(N + 1) {
        assert_eq!(v, vec![CHMPXSTS_SRVIN_UP_NORMAL; 4], "{v:x?}");
    }
    sim.check_placement(slave, &keys);

    // scale in: server 2 leaves by SERVICEOUT; after the merge it is SERVICE OUT and the
    // other three hold every key
    let out = chmpx_core::ctl::command(&mut sim.nodes[2], "SERVICEOUT 127.0.0.1:9105");
    let outs = sim.nodes[2].take_outputs();
    sim.apply(2, outs);
    sim.settle();
    assert_eq!(out.unwrap(), "SUCCEED\n");
    for _ in 0..6 {
        sim.tick(1);
    }
    let me2 = sim.nodes[2].chmpxid;
    for n in [0, 1, 3, slave] {
        let st = sim.nodes[n].ring.get(me2).unwrap().status;
        assert_eq!(st, CHMPXSTS_SRVOUT_UP_NORMAL, "view of node {n}");
        assert_eq!(normal3(&sim.statuses(n)), 3, "view of node {n}");
    }
    sim.check_placement(slave, &keys);
}

#[test]
fn a_merge_interrupted_by_a_failure_aborts_and_succeeds_when_retried() {
    const N: usize = 4;
    let slave = N;
    let mut sim = Sim::with_servers(1, N);
    sim.alive[3] = false;
    sim.start();
    for n in 0..3 {
        sim.attach_clients(n);
    }
    for _ in 0..4 {
        sim.tick(1);
    }
    let mut keys = BTreeMap::new();
    for k in 0..400u64 {
        let key = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555;
        sim.write(slave, key, k);
        keys.insert(key, k);
    }
    // the fourth server joins; server 1 dies while it sends its data
    sim.die_on_get = Some(1);
    sim.restart(3, N, 1);
    for _ in 0..8 {
        sim.tick(1);
    }
    assert!(!sim.alive[1], "server 1 died during the merge");
    // the merge was aborted and done again without server 1 (its slots stay; it is DOWN)
    let id1 = sim.nodes[1].chmpxid;
    for n in [0, 2, 3, slave] {
        let ring = &sim.nodes[n].ring;
        assert!(!ring.operating, "view of node {n}: the merge is over");
        for s in &ring.servers {
            let want = if s.chmpxid == id1 {
                CHMPXSTS_SRVIN_DOWN_NORMAL
            } else {
                CHMPXSTS_SRVIN_UP_NORMAL
            };
            assert_eq!(s.status, want, "view of node {n}");
        }
    }
    // server 1 comes back and gets what it missed; every key is where it belongs
    sim.restart(1, N, 1);
    for _ in 0..6 {
        sim.tick(1);
    }
    for v in sim.all_views(N + 1) {
        assert_eq!(v, vec![CHMPXSTS_SRVIN_UP_NORMAL; 4], "{v:x?}");
    }
    sim.check_placement(slave, &keys);
}

#[test]
fn without_domerge_merges_only_move_statuses_and_are_driven_by_hand() {
    // DOMERGE off (which turns AUTOMERGE off in hash mode): SERVICEIN, MERGE and COMPMERGE by
    // control commands; nobody's client is asked for data
    let mut sim = Sim::new(1);
    let t0 = sim.now;
    for (i, (_, c)) in SERVERS.iter().take(3).enumerate() {
        sim.nodes[i] =
            Node::new(config_merge(*c, 1, 3, "DOMERGE=off\n"), 1000 + i as u32, t0).unwrap();
    }
    sim.start();
    for n in 0..3 {
        sim.attach_clients(n);
    }
    for _ in 0..3 {
        sim.tick(1);
    }
    assert!(sim
        .statuses(0)
        .iter()
        .all(|s| *s == CHMPXSTS_SRVOUT_UP_NORMAL));
    let command = |sim: &mut Sim, n: usize, cmd: &str| {
        let out = chmpx_core::ctl::command(&mut sim.nodes[n], cmd).unwrap();
        let outs = sim.nodes[n].take_outputs();
        sim.apply(n, outs);
        sim.settle();
        out
    };
    for n in 0..3 {
        assert_eq!(command(&mut sim, n, "SERVICEIN"), "SUCCEED\n");
    }
    assert_eq!(command(&mut sim, 0, "MERGE"), "SUCCEED\n");
    sim.tick(1);
    assert!(sim
        .statuses(1)
        .iter()
        .all(|s| *s == CHMPXSTS_SRVIN_UP_ADDED));
    assert_eq!(command(&mut sim, 2, "COMPMERGE"), "SUCCEED\n");
    sim.tick(1);
    for n in 0..4 {
        assert_eq!(
            sim.statuses(n),
            vec![CHMPXSTS_SRVIN_UP_NORMAL; 3],
            "view of node {n}"
        );
    }
    assert_eq!(sim.gets, 0, "no client was asked for data");
    assert_eq!(command(&mut sim, 1, "ABORTMERGE"), "SUCCEED\n");
}

/// A server back from a partition still holds the DOWN records it wrote about the others
/// while it was cut off, newer than their own last words. A server that takes such a record
/// about a server it is connected to asks that server, which answers with a fresh record of
/// itself: the live server is UP again in every view (before, it stayed DOWN there for good and
/// its ring messages were dropped: c-tests/chmpx/partition.sh failed most runs).
#[test]
fn an_old_down_record_about_a_linked_server_is_corrected() {
    let mut sim = Sim::in_service(1);
    let (id0, id1, id2) = (
        sim.nodes[0].chmpxid,
        sim.nodes[1].chmpxid,
        sim.nodes[2].chmpxid,
    );
    // server 2 tells server 1, as the originator of a status round, that server 0 is down
    let mut rec = sim.nodes[2].ring.get(id0).unwrap().clone();
    rec.status = CHMPXSTS_SRVIN_DOWN_NORMAL;
    rec.last_status_time = ring::pack_status_time(sim.now.sec, 500_000);
    let data = Frame::px2px(
        id2,
        id1,
        sim.now,
        &PxMsg::new(PxCom::N2StatusUpdate { servers: vec![rec] }),
    )
    .encode();
    sim.send(2, 1, data);
    sim.settle();
    sim.all_in_service();
}

/// A server cut off from the others, taken for dead by them, then reachable again: a peer that
/// heard it was down probes it (N2_STATUS_REQ) before the DOWN record reaches it. Answering the
/// probe restamps its record; the DOWN record is still newer than its last status change, so
/// it learns it was taken for dead and merges what it missed (it did not when the record was
/// compared with the restamp: `c-tests/chmpx/partition.sh` lost writes once).
#[test]
fn a_server_probed_before_its_death_notice_arrives_still_merges() {
    let mut sim = Sim::in_service(1);
    let (id0, id1, id2) = (
        sim.nodes[0].chmpxid,
        sim.nodes[1].chmpxid,
        sim.nodes[2].chmpxid,
    );
    sim.tick(5);
    // what server 0 recorded two seconds ago, while server 2 was cut off
    let mut rec = sim.nodes[0].ring.get(id2).unwrap().clone();
    rec.status = CHMPXSTS_SRVIN_DOWN_NORMAL;
    rec.last_status_time = ring::pack_status_time(sim.now.sec - 2, 0);
    // first the probe of server 1, then the record from server 0
    let probe = Frame::px2px(id1, id2, sim.now, &PxMsg::new(PxCom::N2StatusReq)).encode();
    sim.send(1, 2, probe);
    sim.settle();
    let before = sim.nodes[2].self_rec.status;
    assert_eq!(before, CHMPXSTS_SRVIN_UP_NORMAL);
    let update = PxMsg::new(PxCom::N2StatusUpdate { servers: vec![rec] });
    let data = Frame::px2px(id0, id2, sim.now, &update).encode();
    sim.send(0, 2, data);
    let mut seen = Vec::new();
    sim.settle_watching(|sim| seen.push(sim.nodes[2].self_rec.status));
    assert!(
        seen.iter().any(|&s| s != CHMPXSTS_SRVIN_UP_NORMAL),
        "server 2 never left UP NORMAL: it did not learn it had been taken for dead"
    );
    sim.all_in_service();
}

/// A server whose view of another holds an older status than that server has (a status
/// change of it was lost while connections came and went after a partition): every
/// N2_STATUS_CONFIRM round that view takes part in fails, so the merge that server wants to
/// run cannot start. Where a confirm table differs, the server it differs about is asked for
/// its own record (and tells it again when the table is wrong about itself), so the views
/// agree and the merge goes on (before, the ring stayed in merge states for good:
/// c-tests/chmpx/partition.sh timed out waiting for three servers in service).
#[test]
fn a_stale_record_in_one_view_is_corrected_by_the_server_it_describes() {
    let mut sim = Sim::in_service(1);
    let id1 = sim.nodes[1].chmpxid;
    let old = sim.nodes[2].ring.get(id1).unwrap().clone();
    // server 1 learns it was taken for dead and will merge; server 2 misses the news
    sim.set_own_status(1, CHMPXSTS_SRVIN_UP_PENDING);
    sim.queue.retain(|(n, _)| *n != 2);
    *sim.nodes[2].ring.get_mut(id1).unwrap() = old;
    sim.recovers();
}

/// A server whose status says it merges while no request of its own is out (the request was
/// dropped on the way, the status stayed): the automatic merge of every server waits while any
/// server is DOING, so before, the ring stayed in merge states for good
/// (c-tests/chmpx/partition.sh). The server notices within a few ticks, aborts, and the merge
/// runs again to its end.
#[test]
fn a_server_merging_without_a_request_gives_the_merge_up() {
    let mut sim = Sim::in_service(1);
    sim.set_own_status(2, CHMPXSTS_SRVIN_UP_MERGING);
    sim.settle();
    sim.recovers();
}

/// A direct link as `crate::direct` opens it: client 7 of the slave (node 3) with a msgid and
/// the slave's table, a hash server 0 answers for, and a connection introduced to server 0 as
/// the slave (our end `a`, in `LINK`). Every inbox is emptied after.
struct LinkSetup {
    sim: Sim,
    a: u64,
    slave: u64,
    msgid: u64,
    hash: u64,
    id0: u64,
}

/// The bytes of a request from the slave's `msgid` to server `to` for `hash`, as a link sends.
fn request(slave: u64, msgid: u64, to: u64, hash: u64, now: Timespec, body: &[u8]) -> Vec<u8> {
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

fn open_link() -> LinkSetup {
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

/// Direct links (chmpx-core/src/direct.rs, node/links.rs): a client of the slave gets the
/// slave's identity and server table, opens a connection of its own to a server introduced as
/// the slave, and sends its request there. The server answers on that connection (nothing goes
/// through the slave), the slave's own connection keeps its status news (a server that dies
/// reaches the slave's view, and the client hears that the table changed), and the link
/// closing does not take the slave off the server.
#[test]
fn a_request_on_a_direct_link_is_answered_on_that_link() {
    let LinkSetup {
        mut sim,
        a,
        slave,
        msgid,
        hash,
        id0,
    } = open_link();
    let data = request(slave, msgid, id0, hash, sim.now, b"direct");
    sim.apply(0, vec![Output::Send { conn: a, data }]);
    sim.settle();
    let got = sim.take(0, 1);
    let Some(Response::Deliver { pkt, body, .. }) = got.last() else {
        panic!("the request did not reach server 0's client")
    };
    assert_eq!(body, b"direct");
    let pkt = *pkt;
    sim.reply(0, pkt, b"answer");
    let answer = sim.link_inbox.pop().expect("the answer on the link");
    assert_eq!(answer.payload, b"answer");
    assert_eq!(
        answer.pkt.head.term_ids,
        PckId {
            chmpxid: slave,
            msgid
        }
    );
    assert!(
        sim.take(3, 7).is_empty(),
        "the answer went through the slave"
    );
    // the same msgid through the slave again: the answer takes the slave's way
    let r = sim.client(
        3,
        7,
        Request::Send {
            msgid,
            c2ctype: COM_C2C_ROUTING,
            hash,
            body: b"via slave".to_vec(),
        },
    );
    assert_eq!(r, Response::Sent { receivers: 1 });
    let got = sim.take(0, 1);
    let Some(Response::Deliver { pkt, .. }) = got.last() else {
        panic!()
    };
    let pkt = *pkt;
    sim.reply(0, pkt, b"back");
    assert!(sim.link_inbox.is_empty());
    assert!(
        matches!(sim.take(3, 7).last(), Some(Response::Deliver { body, .. }) if body == b"back")
    );
    // the link closes: the slave stays known to server 0 and its news still reach it
    sim.close(a);
    sim.settle();
    assert!(sim.nodes[0].slaves.contains_key(&slave));
    let id2 = sim.nodes[2].chmpxid;
    sim.kill(2);
    sim.tick(1);
    let seen = sim.nodes[3].ring.status(id2).unwrap();
    assert!(
        ring::is_down(seen),
        "the slave's view of the dead server: {seen:#x}"
    );
    assert!(
        sim.take(3, 7).contains(&Response::RingChanged),
        "the client with links was not told that the table changed"
    );
}

/// A server whose view missed a status change starts a merge step, and the ring rounds (its
/// N2_STATUS_CONFIRM, the others' N2_STATUS_CHANGE) are lost on the way (as while connections
/// come and go after a partition), so neither a receiver notices the difference nor does the
/// news come again: when its round times out, the server asks every other
/// server for its own record directly, and its view is right again (before, it kept the old
/// record and every later step waited: c-tests/chmpx/partition.sh timed out).
#[test]
fn a_server_whose_confirm_round_is_lost_asks_every_server_for_its_record() {
    let mut sim = Sim::in_service(1);
    let id0 = sim.nodes[0].chmpxid;
    let old = sim.nodes[2].ring.get(id0).unwrap().clone();
    sim.set_own_status(0, CHMPXSTS_SRVIN_UP_PENDING | CHMPXSTS_VAL_SUSPEND);
    sim.queue.retain(|(n, _)| *n != 2);
    *sim.nodes[2].ring.get_mut(id0).unwrap() = old;
    // every ring round is lost: the confirm rounds and the status news that go around
    fn round(input: &Input) -> bool {
        matches!(input, Input::Frame { frame, .. }
            if frame.px_msg().is_ok_and(|m| matches!(m.body,
                PxCom::N2StatusConfirm { .. } | PxCom::N2StatusChange { .. })))
    }
    sim.lose = Some(round);
    let _ = sim.nodes[2].merge_request();
    let outs = sim.nodes[2].take_outputs();
    sim.apply(2, outs);
    for _ in 0..12 {
        sim.tick(1);
    }
    assert_eq!(
        sim.nodes[2].ring.status(id0),
        Some(sim.nodes[0].self_rec.status),
        "server 2 still has the old record of server 0"
    );
}

/// A server merging what it missed (taken for dead) whose senders' results are lost on the
/// way (a connection that died after the data left): its merge makes no progress, is given up
/// after `MERGE_STALL_SEC` (15 s) and asked again, and then ends (before, only the merge being
/// aborted for another reason ended the wait: a healed partition took 32 s once).
#[test]
fn a_merge_whose_results_are_lost_is_given_up_and_runs_again() {
    let mut sim = Sim::with_merge_clients();
    fn result(input: &Input) -> bool {
        matches!(input, Input::Frame { frame, .. }
            if frame.px_msg().is_ok_and(|m| matches!(m.body, PxCom::ResultUpdateData { .. })))
    }
    sim.lose = Some(result);
    // server 2 learns it was taken for dead: it waits for its merge and starts it
    sim.tell_dead(0, 2);
    for _ in 0..5 {
        sim.tick(1);
    }
    let doing = |sim: &Sim| sim.nodes[2].self_rec.status & CHMPXSTS_MASK_OPERATE;
    assert_eq!(doing(&sim), CHMPXSTS_VAL_DOING, "server 2 is not merging");
    // the results come through again; within the stall limit and one more merge it ends
    sim.lose = None;
    for _ in 0..20 {
        sim.tick(1);
    }
    sim.all_in_service();
}

/// A server that stops its merge part while it is sending another server the data that
/// server asked for tells it at once (RESULT_UPDATEDATA with the failure), so the other
/// server's merge ends and starts again instead of waiting for a result that never comes: the
/// ring's MERGE_ABORT may not reach it (seen after partitions: lost, or it skipped a server
/// that was down in the aborting server's view).
#[test]
fn a_server_that_stops_sending_merge_data_tells_the_requester() {
    let mut sim = Sim::with_merge_clients();
    sim.mute = Some(0);
    // server 2 learns it was taken for dead and merges; server 0's client takes the request
    let id2 = sim.nodes[2].chmpxid;
    sim.tell_dead(0, 2);
    for _ in 0..3 {
        sim.tick(1);
    }
    assert!(sim.gets > 0, "nobody was asked for merge data");
    // server 0 gives its part up (a connection of its closed, ABORTMERGE, ...)
    let _ = sim.nodes[0].merge_abort_request();
    let outs = sim.nodes[0].take_outputs();
    let told = outs.iter().any(|o| match o {
        Output::Send { data, .. } => Frame::decode(data).is_ok_and(|f| {
            f.pkt.head.term_ids.chmpxid == id2
                && f.px_msg().is_ok_and(|m| {
                    matches!(m.body, PxCom::ResultUpdateData { result, .. }
                        if result == CHMPX_COM_REQ_UPDATE_FAIL)
                })
        }),
        _ => false,
    });
    assert!(told, "server 2 was not told that server 0 stopped sending");
}

/// Served links (chmpx-core/src/served.rs, node/links.rs): a link asks to be served by the
/// server's own client. With no client serving links, chmpx keeps it and says so; once a
/// client of the server serves links (CAPS then says SERVELINK), the link is handed to it and
/// chmpx says nothing more on it (the client answers). A frame the client hands back (its
/// links paused while a merge asks for the last update time) is delivered the usual way and
/// answered the slave's way. A slave's client may not serve links; junk handed back is dropped.
#[test]
fn a_link_asks_to_be_served_and_is_handed_to_the_client_that_serves_links() {
    let LinkSetup {
        mut sim,
        a,
        slave,
        msgid,
        hash,
        id0,
    } = open_link();
    let caps = |sim: &mut Sim| chmpx_core::ctl::command(&mut sim.nodes[0], "CAPS").unwrap();
    assert_eq!(caps(&mut sim), "CAPS DIRECTLINK\n");
    let ask = Frame::link(slave, id0, sim.now, LINK_ASK).encode();
    sim.apply(
        0,
        vec![Output::Send {
            conn: a,
            data: ask.clone(),
        }],
    );
    sim.settle();
    let kept = sim.link_inbox.pop().expect("an answer to the link request");
    assert_eq!(kept.link_what(), Some(LINK_KEPT));
    assert!(sim.handed.is_empty());
    // client 1 of server 0 serves links
    sim.queue.push_back((
        0,
        Input::Client {
            client: 1,
            req: Request::ServeLinks,
        },
    ));
    sim.settle();
    assert!(sim.take(0, 1).is_empty(), "ServeLinks is not answered");
    assert_eq!(caps(&mut sim), "CAPS DIRECTLINK\nCAPS SERVELINK\n");
    sim.apply(0, vec![Output::Send { conn: a, data: ask }]);
    sim.settle();
    assert_eq!(sim.handed.len(), 1);
    let (node, conn, client, copies) = sim.handed[0];
    assert_eq!((node, client, copies), (0, 1, false));
    assert!(
        sim.link_inbox.is_empty(),
        "chmpx answered on a link it gave away"
    );
    // the slave's own connection is not a link: asking on it hands nothing over
    let main = sim.nodes[0].slaves[&slave].conn;
    assert_ne!(main, conn);
    let slave_end = sim.ends[&main].peer;
    let ask = Frame::link(slave, id0, sim.now, LINK_ASK).encode();
    sim.apply(
        3,
        vec![Output::Send {
            conn: slave_end,
            data: ask,
        }],
    );
    sim.settle();
    assert_eq!(sim.handed.len(), 1);
    assert_eq!(sim.nodes[0].slaves[&slave].conn, main);
    // a request handed back by the serving client: delivered, answered the slave's way
    let data = request(slave, msgid, id0, hash, sim.now, b"handed back");
    sim.queue.push_back((
        0,
        Input::Client {
            client: 1,
            req: Request::LinkFrame { data },
        },
    ));
    sim.settle();
    let got = sim.take(0, 1);
    let Some(Response::Deliver { pkt, body, .. }) = got.last() else {
        panic!("the handed-back request was not delivered")
    };
    assert_eq!(body, b"handed back");
    let pkt = *pkt;
    sim.reply(0, pkt, b"answer");
    assert!(
        matches!(sim.take(3, 7).last(), Some(Response::Deliver { body, .. }) if body == b"answer")
    );
    assert!(sim.served_inbox.is_empty() && sim.link_inbox.is_empty());
    // a slave's client may not serve links; junk handed back is dropped
    assert!(matches!(
        sim.client(3, 7, Request::ServeLinks),
        Response::Refused { .. }
    ));
    for junk in [
        vec![],
        vec![1, 2, 3],
        Frame::link(slave, id0, sim.now, LINK_ASK).encode(),
    ] {
        sim.queue.push_back((
            0,
            Input::Client {
                client: 1,
                req: Request::LinkFrame { data: junk },
            },
        ));
        sim.settle();
        assert!(sim.take(0, 1).is_empty());
    }
    // the handed-over connection is not the server's any more: the slave stays
    sim.queue.push_back((0, Input::Closed { conn }));
    sim.settle();
    assert!(sim.nodes[0].slaves.contains_key(&slave));
}

/// Copies on links of their own (chmpx-core/src/copies.rs): a server's k2hdkc opens a
/// connection to another server and asks, as its first frame, to give its copies to that
/// server's client. Handed over when a client there serves links and the connection comes
/// from the host of the server it names; refused (LINK_KEPT, closed) when nobody serves links,
/// when it names a server the ring does not know, or ourselves.
#[test]
fn a_copies_link_from_another_server_is_handed_to_the_client_that_serves_links() {
    let mut sim = Sim::in_service(1);
    let (id0, id1) = (sim.nodes[0].chmpxid, sim.nodes[1].chmpxid);
    let local: IpAddr = "127.0.0.1".parse().unwrap();
    let mut conn = 5000;
    let mut ask_from = |sim: &mut Sim, from: u64, addr: IpAddr| {
        conn += 2;
        let (a, b) = (conn, conn + 1);
        sim.join_ends(a, LINK, b, 0);
        sim.queue.push_back((0, Input::Accepted { conn: b, addr }));
        sim.settle();
        let data = Frame::link(from, id0, sim.now, LINK_ASK_COPIES).encode();
        sim.apply(0, vec![Output::Send { conn: a, data }]);
        sim.settle();
        b
    };
    let mut ask = |sim: &mut Sim, from: u64| ask_from(sim, from, local);
    // nobody serves links on server 0 yet
    ask(&mut sim, id1);
    let kept = sim.link_inbox.pop().expect("an answer");
    assert_eq!(kept.link_what(), Some(LINK_KEPT));
    assert!(sim.handed.is_empty());
    sim.queue.push_back((
        0,
        Input::Client {
            client: 1,
            req: Request::ServeLinks,
        },
    ));
    sim.settle();
    // from server 1: handed over, nothing said by chmpx
    let b = ask(&mut sim, id1);
    assert_eq!(sim.handed, vec![(0, b, 1, true)]);
    assert!(sim.link_inbox.is_empty());
    // naming a server nobody knows, or server 0 itself: refused
    for from in [0x1234_5678, id0] {
        ask(&mut sim, from);
        let kept = sim.link_inbox.pop().expect("a refusal");
        assert_eq!(kept.link_what(), Some(LINK_KEPT));
        assert_eq!(sim.handed.len(), 1);
    }
    // from another host than server 1's
    ask_from(&mut sim, id1, "203.0.113.5".parse().unwrap());
    let kept = sim.link_inbox.pop().expect("a refusal");
    assert_eq!(kept.link_what(), Some(LINK_KEPT));
    assert_eq!(sim.handed.len(), 1);
    // the server table for copies is handed to a client of a server too
    assert!(matches!(
        sim.client(0, 1, Request::Links),
        Response::Links { .. }
    ));
}

/// Messages a client sent and received on links of its own are counted by its chmpx as if they
/// had passed it: SELFSTATUS and DUMP show them, added to what chmpx counted itself.
#[test]
fn counts_of_messages_on_links_reach_selfstatus() {
    let mut sim = Sim::in_service(1);
    assert!(matches!(
        sim.client(3, 7, hello(false)),
        Response::Welcome { .. }
    ));
    let before = sim.nodes[3].stats;
    let req = Request::LinkCounts {
        sent: 400,
        received: 399,
        sent_bytes: 4000,
        received_bytes: 3990,
    };
    sim.queue.push_back((3, Input::Client { client: 7, req }));
    sim.settle();
    assert!(sim.take(3, 7).is_empty(), "no answer to a report");
    let st = sim.nodes[3].stats;
    assert_eq!(st.sent, before.sent + 400);
    assert_eq!(st.received, before.received + 399);
    assert_eq!(
        st.sent_bytes + st.received_bytes,
        before.sent_bytes + before.received_bytes + 7990
    );
    let text = chmpx_core::ctl::self_status(&sim.nodes[3]);
    assert!(
        text.contains(&format!("send count        = {} count", st.sent)),
        "{text}"
    );
    assert!(
        text.contains(&format!("receive count     = {} count", st.received)),
        "{text}"
    );
    let dump = chmpx_core::ctl::dump_text(&sim.nodes[3]);
    assert!(
        dump.contains(&format!("total_sent_count     = {}", st.sent)),
        "{dump}"
    );
}
