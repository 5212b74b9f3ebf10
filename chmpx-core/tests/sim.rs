//! Deterministic simulation: several `Node` state machines wired by an in-memory network (no
//! sockets, no threads, no clocks). Outputs of one node become inputs of another in a fixed
//! order, so every run is the same; failures are injected by closing connections.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use chmpx_core::config::{build, raw, ChmConfig, SelfIdentity};
use chmpx_core::ipc::{Request, Response, IPC_VERSION};
use chmpx_core::node::{Input, Node, Output};
use chmpx_core::ring;
use chmpx_core::wire::*;

const SERVERS: [(u16, u16); 3] = [(9100, 9101), (9102, 9103), (9104, 9105)];
const SLAVE_CTL: u16 = 9106;

fn config(self_ctl: u16, replica: u32) -> ChmConfig {
    let mut s = format!(
        "[GLOBAL]\nFILEVERSION=1\nGROUP=SIM\nDELIVERMODE=hash\nREPLICA={replica}\nMAXMQCLIENT=16\nDOMERGE=on\nAUTOMERGE=on\nSELFCTLPORT={self_ctl}\n"
    );
    for (p, c) in SERVERS {
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

struct Sim {
    nodes: Vec<Node>,
    alive: Vec<bool>,
    ends: HashMap<u64, End>,
    next_conn: u64,
    queue: VecDeque<(usize, Input)>,
    /// What each (node, client) received.
    inbox: HashMap<(usize, u64), VecDeque<Response>>,
    now: Timespec,
}

impl Sim {
    fn new(replica: u32) -> Sim {
        let mut nodes = Vec::new();
        let t0 = Timespec {
            sec: 1_800_000_000,
            nsec: 0,
        };
        for (i, (_, c)) in SERVERS.iter().enumerate() {
            nodes.push(Node::new(config(*c, replica), 1000 + i as u32, t0).expect("server node"));
        }
        nodes.push(Node::new(config(SLAVE_CTL, replica), 2000, t0).expect("slave node"));
        let alive = vec![true; nodes.len()];
        Sim {
            nodes,
            alive,
            ends: HashMap::new(),
            next_conn: 1,
            queue: VecDeque::new(),
            inbox: HashMap::new(),
            now: t0,
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
                        self.queue
                            .push_back((node, Input::Frame { conn: peer, frame }));
                    }
                }
                Output::Close { conn } => self.close(conn),
                Output::ToClient { client, resp } => {
                    self.inbox
                        .entry((from, client))
                        .or_default()
                        .push_back(resp);
                }
                Output::CloseClient { .. } => {}
            }
        }
    }

    fn close(&mut self, conn: u64) {
        let Some(end) = self.ends.remove(&conn) else {
            return;
        };
        if let Some(peer) = self.ends.remove(&end.peer) {
            self.queue
                .push_back((peer.node, Input::Closed { conn: end.peer }));
        }
        self.queue.push_back((end.node, Input::Closed { conn }));
    }

    /// Runs until nothing is left to deliver.
    fn settle(&mut self) {
        let mut steps = 0;
        while let Some((n, input)) = self.queue.pop_front() {
            steps += 1;
            assert!(steps < 100_000, "the simulation does not settle");
            if !self.alive[n] {
                continue;
            }
            self.nodes[n].set_now(self.now);
            let outs = self.nodes[n].handle(input);
            self.apply(n, outs);
        }
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
    sim.tick(1);
    for n in 0..4 {
        assert_eq!(
            sim.statuses(n),
            vec![CHMPXSTS_SRVIN_UP_NORMAL; 3],
            "view of node {n}"
        );
    }
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
    let mut sim = Sim::new(0);
    sim.start();
    for n in 0..3 {
        sim.client(n, 1, hello(true));
    }
    sim.tick(1);
    assert_eq!(sim.statuses(0), vec![CHMPXSTS_SRVIN_UP_NORMAL; 3]);
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
    sim.tick(1);
    for n in 0..3 {
        assert_eq!(
            sim.statuses(n),
            vec![CHMPXSTS_SRVIN_UP_NORMAL; 3],
            "view of node {n}"
        );
    }
}
