//! Deterministic simulation of rings: convergence, failures, merges (harness: `simnet`).
mod simnet;
use simnet::*;

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
    // that replica copies a write of hash 4 to the others that hold it (NOT_SELF): there is
    // none left, which is a success with no receiver, as the original's (a warning, no error)
    let replica = replica.unwrap();
    sim.client(replica, 1, Request::Open);
    let r = sim.client(
        replica,
        1,
        Request::Send {
            msgid: CHM_INVALID_MSGID,
            c2ctype: COM_C2C_RBROADCAST | COM_C2C_NOT_SELF,
            hash: 4,
            body: b"copy".to_vec(),
        },
    );
    assert_eq!(r, Response::Sent { receivers: 0 });

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
    for n in 0..3 {
        assert_eq!(sim.command(n, "SERVICEIN"), "SUCCEED\n");
    }
    assert_eq!(sim.command(0, "MERGE"), "SUCCEED\n");
    sim.tick(1);
    assert!(sim
        .statuses(1)
        .iter()
        .all(|s| *s == CHMPXSTS_SRVIN_UP_ADDED));
    assert_eq!(sim.command(2, "COMPMERGE"), "SUCCEED\n");
    sim.tick(1);
    sim.assert_all_normal();
    assert_eq!(sim.gets, 0, "no client was asked for data");
    assert_eq!(sim.command(1, "ABORTMERGE"), "SUCCEED\n");
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

/// A slave hears of a server's change from every server it is connected to, as the
/// original's (each server passes the N2_STATUS_CHANGE that comes around the ring on to its
/// slaves): here what server 1 tells the slave itself is lost, and the slave's view follows all
/// the same. Before, only the server that changed told the slaves, and a slave that missed
/// that one message (not connected to it yet when it changed) kept a stale record: the k2hdkc
/// fault test once found a returned server "down or suspended" in the slave's view for good.
#[test]
fn a_slave_hears_a_servers_change_from_the_other_servers() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static FROM: AtomicU64 = AtomicU64::new(0);
    static TO: AtomicU64 = AtomicU64::new(0);
    let mut sim = Sim::in_service(1);
    FROM.store(sim.nodes[1].chmpxid, Ordering::Relaxed);
    TO.store(sim.nodes[3].chmpxid, Ordering::Relaxed);
    fn from_1_to_slave(input: &Input) -> bool {
        matches!(input, Input::Frame { frame, .. }
            if frame.pkt.head.dept_ids.chmpxid == FROM.load(Ordering::Relaxed)
                && frame.pkt.head.term_ids.chmpxid == TO.load(Ordering::Relaxed))
    }
    sim.lose = Some(from_1_to_slave);
    let id1 = sim.nodes[1].chmpxid;
    let suspended = CHMPXSTS_SRVIN_UP_NORMAL | CHMPXSTS_VAL_SUSPEND;
    sim.set_own_status(1, suspended);
    sim.settle();
    assert_eq!(sim.nodes[0].ring.status(id1), Some(suspended));
    assert_eq!(
        sim.nodes[3].ring.status(id1),
        Some(suspended),
        "the slave's view of server 1"
    );
    sim.lose = None;
    sim.set_own_status(1, CHMPXSTS_SRVIN_UP_NORMAL);
    sim.settle();
    sim.assert_all_normal();
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

/// A slave answers the merge commands as the original's does (it is on no ring: "SUCCEED:
/// There no server on RING."), refuses SUSPENDMERGE, NOSUSPENDMERGE, UPDATESTATUS and
/// SERVICEIN, and passes SERVICEOUT of a server that is up on to that server; a server that is
/// down it cannot take out (checked against the original 1.0.113).
#[test]
fn a_slave_answers_control_commands_as_the_originals() {
    let mut sim = Sim::in_service(1);
    for cmd in ["MERGE", "COMPMERGE", "ABORTMERGE"] {
        assert_eq!(
            sim.command(3, cmd),
            "SUCCEED: There no server on RING.\n",
            "{cmd}"
        );
    }
    for cmd in [
        "SUSPENDMERGE",
        "NOSUSPENDMERGE",
        "UPDATESTATUS",
        "SERVICEIN",
    ] {
        assert_eq!(
            sim.command(3, cmd),
            "ERROR: The command can not be executed on the slave node.\n",
            "{cmd}"
        );
    }
    let remote = chmpx_core::ctl::command(&mut sim.nodes[3], "SERVICEOUT 127.0.0.1:9105")
        .expect_err("passed on");
    assert_eq!(
        (remote.port, remote.command.as_str()),
        (9105, "SERVICEOUT 127.0.0.1:9105")
    );
    sim.kill(2);
    for _ in 0..5 {
        sim.tick(1);
    }
    assert_eq!(
        sim.command(3, "SERVICEOUT 127.0.0.1:9105"),
        "ERROR: The command can not be executed on the slave node.\n"
    );
}
