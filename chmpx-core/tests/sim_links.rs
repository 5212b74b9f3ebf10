//! Deterministic simulation of the links of ours: direct links, served links, copy links and
//! the counts of their messages (harness: `simnet`).
mod simnet;
use chmpx_core::ipc::{Stat, TraceEntry};
use simnet::*;

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
    sim.assert_kept();
    // client 1 of server 0 serves links
    sim.serve_links(0, 1);
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
    sim.assert_kept();
    sim.serve_links(0, 1);
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
    let servers = Stat {
        sent: 400,
        received: 399,
        bytes: 7990,
        min_bytes: 125,
        max_bytes: 9000,
    };
    let slaves = Stat {
        sent: 5,
        received: 6,
        bytes: 1100,
        min_bytes: 121,
        max_bytes: 130,
    };
    let req = Request::LinkCounts {
        servers,
        slaves,
        trace: vec![],
    };
    sim.queue.push_back((3, Input::Client { client: 7, req }));
    sim.settle();
    assert!(sim.take(3, 7).is_empty(), "no answer to a report");
    let st = sim.nodes[3].stats;
    assert_eq!(st.servers.sent, before.servers.sent + 400);
    assert_eq!(st.servers.received, before.servers.received + 399);
    assert_eq!(st.servers.bytes, before.servers.bytes + 7990);
    assert_eq!(st.servers.max_bytes, 9000);
    assert_eq!(st.slaves.sent, before.slaves.sent + 5);
    let text = chmpx_core::ctl::self_status(&sim.nodes[3]);
    let block = |label: &str| {
        let at = text.find(label).expect(label);
        text[at..].lines().take(7).collect::<Vec<_>>().join("\n")
    };
    let srv = block("To(From) Servers");
    assert!(
        srv.contains(&format!("send count        = {} count", st.servers.sent))
            && srv.contains(&format!(
                "receive count     = {} count",
                st.servers.received
            ))
            && srv.contains(&format!("total             = {} bytes", st.servers.bytes))
            && srv.contains(&format!(
                "minimum           = {} bytes",
                st.servers.min_bytes
            ))
            && srv.contains("maximum           = 9000 bytes"),
        "{text}"
    );
    let slv = block("To(From) Slaves");
    assert!(
        slv.contains(&format!("send count        = {} count", st.slaves.sent))
            && slv.contains("total             = 1100 bytes")
            && slv.contains("minimum           = 121 bytes")
            && slv.contains("maximum           = 130 bytes"),
        "{text}"
    );
    let dump = chmpx_core::ctl::dump_text(&sim.nodes[3]);
    assert!(
        dump.contains(&format!("total_sent_count     = {}", st.servers.sent))
            && dump.contains(&format!("total_sent_count     = {}", st.slaves.sent))
            && dump.contains("max_body_bytes       = 130"),
        "{dump}"
    );
}

/// While chmpx keeps its trace log, the clients with links of their own hear of it and send
/// the records chmpx would have made of what passed on their links with their counts: TRACEVIEW
/// shows them among chmpx's own records, in time order. A client that takes up links while the
/// log is kept hears at once; one without links hears nothing; TRACE DISABLE tells them too.
#[test]
fn records_of_messages_on_links_reach_traceview() {
    let mut sim = Sim::in_service(1);
    for client in [7, 8, 9] {
        assert!(matches!(
            sim.client(3, client, hello(false)),
            Response::Welcome { .. }
        ));
    }
    assert!(matches!(
        sim.client(3, 7, Request::Links),
        Response::Links { .. }
    ));
    assert_eq!(sim.command(3, "TRACE ENABLE"), "SUCCEED\n");
    assert_eq!(sim.take(3, 7), vec![Response::Tracing { on: true }]);
    assert!(sim.take(3, 9).is_empty(), "no links, no news");
    // a client that takes up links now hears after its answer
    sim.queue.push_back((
        3,
        Input::Client {
            client: 8,
            req: Request::Links,
        },
    ));
    sim.settle();
    let got = sim.take(3, 8);
    assert!(matches!(got[0], Response::Links { .. }));
    assert_eq!(got[1..], [Response::Tracing { on: true }]);
    // chmpx's own records of a message through it (client 9): at the simulation's time
    let msgid = match sim.client(3, 9, Request::Open) {
        Response::Opened { msgid } => msgid,
        other => panic!("{other:?}"),
    };
    let before = sim.nodes[3].stats;
    assert_eq!(sim.slave_send(9, msgid, 33), 1);
    // counted as the original counts it: the packet, its head included, to a server
    let st = sim.nodes[3].stats;
    assert_eq!(st.servers.bytes, before.servers.bytes + 120 + 33);
    assert_eq!(st.slaves, before.slaves);
    // client 7 reports a message sent on its link a second before, and its answer
    let at = |sec| Timespec { sec, nsec: 0 };
    let rec = |log_type, length, t| TraceEntry {
        log_type,
        length,
        start: t,
        finish: t,
    };
    let t = sim.now.sec;
    let req = Request::LinkCounts {
        servers: Stat::default(),
        slaves: Stat::default(),
        trace: vec![
            rec(0x14, 10, at(t - 1)),
            rec(0xa, 10, at(t - 1)),
            rec(0xc, 20, at(t - 1)),
            rec(0x12, 20, at(t - 1)),
        ],
    };
    sim.queue.push_back((3, Input::Client { client: 7, req }));
    sim.settle();
    let view = sim.command(3, "TRACEVIEW");
    let kinds: Vec<&str> = view
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "[Input MQ]",
            "[Output Socket]",
            "[Input Socket]",
            "[Output MQ]",
            "[Input MQ]",
            "[Output Socket]"
        ],
        "{view}"
    );
    // on a socket, the length of the packet (head and body); to and from the client, the body
    let lengths: Vec<&str> = view
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap())
        .collect();
    assert_eq!(
        lengths,
        ["10 byte", "10 byte", "20 byte", "20 byte", "33 byte", "153 byte"],
        "{view}"
    );
    assert_eq!(sim.command(3, "TRACE DISABLE"), "SUCCEED\n");
    assert_eq!(sim.take(3, 7), vec![Response::Tracing { on: false }]);
    assert_eq!(sim.take(3, 8), vec![Response::Tracing { on: false }]);
    assert!(sim.take(3, 9).is_empty());
    // on a server: the client that serves links (the k2hdkc server) hears when it takes them up
    assert!(matches!(
        sim.client(0, 5, hello(true)),
        Response::Welcome { .. }
    ));
    assert_eq!(sim.command(0, "TRACE ENABLE"), "SUCCEED\n");
    sim.serve_links(0, 5);
    assert_eq!(sim.take(0, 5), vec![Response::Tracing { on: true }]);
}

/// As the original counts them: what a slave sends goes to servers (its "To(From) Servers"),
/// what a server receives from a slave is counted among slaves.
#[test]
fn messages_are_counted_apart_for_servers_and_slaves() {
    let mut sim = Sim::in_service(1);
    let msgid = sim.slave_client(9);
    let before: Vec<_> = sim.nodes.iter().map(|n| n.stats).collect();
    assert_eq!(sim.slave_send(9, msgid, 10), 1);
    let after: Vec<_> = sim.nodes.iter().map(|n| n.stats).collect();
    assert_eq!(after[3].servers.sent, before[3].servers.sent + 1);
    assert_eq!(after[3].slaves, before[3].slaves);
    let from_slaves: u64 = (0..3)
        .map(|n| after[n].slaves.received - before[n].slaves.received)
        .sum();
    assert_eq!(from_slaves, 1, "one server took it from the slave");
    for n in 0..3 {
        assert_eq!(after[n].servers.received, before[n].servers.received);
        if after[n].slaves.received > before[n].slaves.received {
            assert_eq!(after[n].slaves.max_bytes, 130);
        }
    }
}

/// A node whose trace log has no room (MAXHISTLOG = 0) cannot trace, as the original: TRACE
/// enable fails and TRACEVIEW says the count is 0; a log of two keeps the two newest records.
#[test]
fn a_trace_log_of_no_room_cannot_be_enabled() {
    let mut sim = Sim::in_service(1);
    sim.nodes[3].cfg.max_histlog_count = 0;
    assert_eq!(
        sim.command(3, "TRACE ENABLE"),
        "ERROR: Failed to set TRACE enable/disable.\n"
    );
    assert_eq!(
        sim.command(3, "TRACEVIEW"),
        "ERROR: Now trace count is 0.\n"
    );
    sim.nodes[3].cfg.max_histlog_count = 2;
    assert_eq!(sim.command(3, "TRACE ENABLE"), "SUCCEED\n");
    let msgid = sim.slave_client(9);
    for len in [10, 20] {
        assert_eq!(sim.slave_send(9, msgid, len), 1);
    }
    let view = sim.command(3, "TRACEVIEW");
    let kinds: Vec<&str> = view
        .lines()
        .map(|l| l.split(" byte").next().unwrap())
        .collect();
    assert_eq!(kinds, ["[Input MQ]\t20", "[Output Socket]\t140"], "{view}");
    assert!(sim
        .command(3, "TRACEVIEW 3")
        .starts_with("ERROR: TRACEVIEW command parameter"));
}

/// A report of more records than the log holds, out of order: the newest stay, in time order
/// with chmpx's own (the log is merged in one pass, however much a client sends).
#[test]
fn a_report_of_many_records_keeps_the_newest_in_order() {
    let mut sim = Sim::in_service(1);
    sim.nodes[3].cfg.max_histlog_count = 3;
    assert_eq!(sim.command(3, "TRACE ENABLE"), "SUCCEED\n");
    let msgid = sim.slave_client(9);
    assert_eq!(sim.slave_send(9, msgid, 10), 1); // two records at the simulation's time
    let t = sim.now.sec;
    let rec = |sec, length| TraceEntry {
        log_type: 0x14,
        length,
        start: Timespec { sec, nsec: 0 },
        finish: Timespec { sec, nsec: 0 },
    };
    let mut trace: Vec<TraceEntry> = (0..50_000).map(|i| rec(t - 100 + i % 50, 1)).collect();
    trace.push(rec(t + 1, 2));
    trace.push(rec(t - 1, 3));
    let req = Request::LinkCounts {
        servers: Stat::default(),
        slaves: Stat::default(),
        trace,
    };
    sim.queue.push_back((3, Input::Client { client: 9, req }));
    sim.settle();
    let view = sim.command(3, "TRACEVIEW");
    let lengths: Vec<&str> = view
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap())
        .collect();
    // the record a second before, chmpx's two (Output Socket 130 after Input MQ 10), the one
    // a second after: the newest three of them
    assert_eq!(lengths, ["10 byte", "130 byte", "2 byte"], "{view}");
}
