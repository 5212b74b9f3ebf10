//! A real cluster on 127.0.0.1: three chmpx servers and one slave, each on its own ports,
//! clients attached through the local protocol. Checks delivery by hash with the server the
//! rule names, REPLICA, broadcast, replicate-without-self, replies, and clean stops.

mod common;

use std::time::Duration;

use chmpx_core::client::Client;
use chmpx_core::ring;
use chmpx_core::wire::*;
use common::*;

#[test]
fn three_servers_one_slave() {
    let base = ports(10);
    let layout = Layout::servers(base, 3, 1);
    let mut cl = Cluster::new(&format!("T3S{base}"));
    // Server-side clients: one per server. Attaching clears SUSPEND; AUTOMERGE brings each
    // server into the ring, and every server and the slave learn the three are in service.
    let (mut svr_clients, _, slave_conf) = start_ring(&mut cl, &layout);

    let mut slave =
        Client::attach(slave_conf.to_str().unwrap(), false, false).expect("attach to slave");
    let msgid = slave.open().expect("open");
    let ids: Vec<u64> = svr_clients.iter().map(|c| c.chmpxid).collect();

    // The ring as the original computes it: slots in ring order.
    let mut ringv = ring::Ring::new(chmpx_core::config::ChmpxIdType::Name, 1, false);
    for (i, id) in ids.iter().enumerate() {
        let cfg = chmpx_core::config::ChmConfig {
            group: cl.group.clone(),
            ..Default::default()
        };
        let node = chmpx_core::config::NodeConfig {
            name: format!("n{i}"),
            ..Default::default()
        };
        let mut rec = ring::server_record(&cfg, &node, CHMPXSTS_SRVIN_UP_NORMAL);
        rec.chmpxid = *id;
        ringv.upsert(rec);
    }

    let recv_one = |clients: &mut Vec<Client>| -> Option<(usize, ComPkt, Vec<u8>)> {
        for _ in 0..200 {
            for (i, c) in clients.iter_mut().enumerate() {
                if let Some((pkt, body)) = c.receive(None, 0).unwrap() {
                    return Some((i, pkt, body));
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    };

    // Send by hash (routing): the server the rule names gets it and replies.
    for key in 0..12u64 {
        let body = format!("hello {key}");
        let n = slave
            .send(msgid, body.as_bytes(), key, COM_C2C_ROUTING)
            .unwrap();
        assert_eq!(n, 1);
        let (who, pkt, got) = recv_one(&mut svr_clients).expect("delivered");
        assert_eq!(got, body.as_bytes());
        let expect = ringv.receivers(0, key, COM_C2C_ROUTING).unwrap()[0];
        assert_eq!(
            ids[who], expect,
            "key {key} went to the server the hash rule names"
        );
        assert_eq!(pkt.head.dept_ids.msgid, msgid);
        assert_eq!(pkt.head.hash, key);
        svr_clients[who]
            .reply(&pkt, format!("re {key}").as_bytes())
            .unwrap();
        let (rpkt, rbody) = slave.receive(Some(msgid), 5000).unwrap().expect("reply");
        assert_eq!(rbody, format!("re {key}").as_bytes());
        assert_eq!(rpkt.head.dept_ids.chmpxid, ids[who]);
    }

    // Replicate (REPLICA=1): two servers get it.
    let n = slave.send(msgid, b"rep", 5, COM_C2C_RBROADCAST).unwrap();
    assert_eq!(n, 2);
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(recv_one(&mut svr_clients).expect("replica delivery").0);
    }
    got.sort_unstable();
    let mut want: Vec<usize> = ringv
        .receivers(0, 5, COM_C2C_RBROADCAST)
        .unwrap()
        .iter()
        .map(|id| ids.iter().position(|x| x == id).unwrap())
        .collect();
    want.sort_unstable();
    assert_eq!(got, want);

    // Broadcast reaches all three.
    assert_eq!(slave.send(msgid, b"all", 0, COM_C2C_BROADCAST).unwrap(), 3);
    let mut got: Vec<usize> = (0..3)
        .map(|_| recv_one(&mut svr_clients).expect("broadcast").0)
        .collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2]);

    // Server side: replicate skips self (chmpx_svr_replicate default).
    let hash = (0..64u64)
        .find(|h| {
            ringv
                .receivers(0, *h, COM_C2C_RBROADCAST)
                .unwrap()
                .contains(&ids[0])
        })
        .unwrap();
    let n = svr_clients[0]
        .send(
            CHM_INVALID_MSGID,
            b"from s0",
            hash,
            COM_C2C_RBROADCAST | COM_C2C_NOT_SELF,
        )
        .unwrap();
    assert_eq!(n, 1);
    let (who, pkt, _) = recv_one(&mut svr_clients).expect("replicate");
    assert_ne!(who, 0);
    assert_eq!(pkt.head.dept_ids.chmpxid, ids[0]);

    // Receive timeout: true with no packet.
    assert!(slave.receive(Some(msgid), 50).unwrap().is_none());

    // SELFSTATUS "Connection Count" as the original's: every server knows the three servers,
    // and its slave list holds the slave and the two other servers that connected to it
    for (_, ctlport) in &layout.servers {
        wait_for("the connection counts of a server", || {
            ctl(*ctlport, "SELFSTATUS").is_some_and(|s| {
                s.contains("    To Servers            = 3\n")
                    && s.contains("    From Slaves           = 3\n")
            })
        });
    }
    wait_for("the connection counts of the slave", || {
        ctl(layout.slave_ctl, "SELFSTATUS").is_some_and(|s| {
            s.contains("    To Servers            = 3\n")
                && s.contains("    From Slaves           = 0\n")
        })
    });

    // A server goes away: its replica takes over its keys.
    let gone = ringv.primary(7).unwrap();
    let gi = ids.iter().position(|x| *x == gone).unwrap();
    drop(svr_clients.remove(gi));
    let status = cl.stop(&format!("s{gi}"), libc::SIGHUP);
    assert!(status.success(), "SIGHUP stops chmpx cleanly");
    wait_for("slave sees the server down", || {
        ctl(layout.slave_ctl, "DUMP").is_some_and(|d| d.contains("[SERVICE IN][DOWN]"))
    });
    let n = slave.send(msgid, b"after", 7, COM_C2C_ROUTING).unwrap();
    assert_eq!(n, 1);
    let (_, pkt, _) = recv_one(&mut svr_clients).expect("delivered to the replica");
    assert_ne!(pkt.head.term_ids.chmpxid, gone);

    // SIGTERM stops chmpx too (the original ignores it).
    drop(slave);
    let st = cl.stop("slave", libc::SIGTERM);
    assert!(st.success());
}
