//! Hostile input on the data, control and local ports of a running chmpx: random bytes,
//! truncated frames, lengths that lie, frames out of order, peers that connect and stall.
//! chmpx must survive all of it and keep serving its clients.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use chmpx_core::client::Client;
use chmpx_core::wire::*;
use common::*;
use proptest::prelude::*;

fn send_raw(port: u16, data: &[u8]) {
    if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
        let _ = s.write_all(data);
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
    }
}

fn frame_header(length: u64, offset: u64, com_type: u64) -> Vec<u8> {
    let head = ComHead::px2px(1, 2, Timespec::default());
    let mut pkt = ComPkt {
        head,
        length,
        offset,
    };
    pkt.head.com_type = com_type;
    pkt.encode().to_vec()
}

#[test]
fn chmpx_survives_hostile_peers() {
    let base = ports(10);
    let mut cl = Cluster::new(&format!("HOS{base}"));
    let (sconf, lconf) = pair(&mut cl, base, "");
    let mut server_client = Client::attach(sconf.to_str().unwrap(), true, false).unwrap();
    wait_for("in service", || {
        ctl(base + 1, "SELFSTATUS")
            .is_some_and(|s| s.contains("[SERVICE IN][UP][n/a][Nothing][NoSuspend]"))
    });
    wait_for("slave sees the server", || {
        ctl(base + 2, "DUMP")
            .is_some_and(|s| s.contains("[SERVICE IN][UP][n/a][Nothing][NoSuspend]"))
    });
    let mut slave_client = Client::attach(lconf.to_str().unwrap(), false, false).unwrap();
    let msgid = slave_client.open().unwrap();

    let round_trip = |slave: &mut Client, server: &mut Client, tag: &str| {
        assert_eq!(
            slave
                .send(msgid, tag.as_bytes(), 3, COM_C2C_ROUTING)
                .unwrap(),
            1,
            "{tag}"
        );
        let (pkt, body) = server.receive(None, 5000).unwrap().expect(tag);
        assert_eq!(body, tag.as_bytes());
        server.reply(&pkt, b"ok").unwrap();
        let (_, r) = slave.receive(Some(msgid), 5000).unwrap().expect(tag);
        assert_eq!(r, b"ok");
    };
    round_trip(&mut slave_client, &mut server_client, "before");

    // Stallers: connected and silent, on the data and control ports, kept open throughout.
    let _stall_data = TcpStream::connect(("127.0.0.1", base)).unwrap();
    let _stall_ctl = TcpStream::connect(("127.0.0.1", base + 1)).unwrap();
    let mut half = TcpStream::connect(("127.0.0.1", base)).unwrap();
    half.write_all(&frame_header(1000, 120, COM_PX2PX)[..60])
        .unwrap();

    // Lying and malformed frames on the data port.
    send_raw(base, &frame_header(u64::MAX, 120, COM_PX2PX));
    send_raw(base, &frame_header(50, 120, COM_PX2PX));
    send_raw(base, &frame_header(200, 7, COM_PX2PX));
    send_raw(
        base,
        &[
            frame_header(64 * 1024 * 1024 - 1, 120, COM_PX2PX),
            vec![0; 1000],
        ]
        .concat(),
    );
    send_raw(
        base,
        &[frame_header(144, 120, COM_PX2PX), vec![0xff; 24]].concat(),
    );
    // A C2C frame before any handshake, and a PX2PX message of every type with garbage.
    send_raw(
        base,
        &[frame_header(130, 120, COM_C2C), vec![1; 10]].concat(),
    );
    for t in 0..32u64 {
        let mut body = vec![0u8; 24];
        body[..8].copy_from_slice(&t.to_be_bytes());
        body[16..24].copy_from_slice(&24u64.to_be_bytes());
        send_raw(base, &[frame_header(144, 120, COM_PX2PX), body].concat());
    }
    // Control port: garbage, an over-long command, binary.
    send_raw(base + 1, &vec![b'A'; 100_000]);
    send_raw(base + 1, &[0xff, 0x00, 0x10, b'\n']);
    assert!(ctl(base + 1, "VERSION").is_some_and(|v| v.starts_with("Version ")));

    // The local socket: garbage from a "client".
    {
        use std::os::linux::net::SocketAddrExt;
        let name = chmpx_core::ipc::socket_name(&cl.group, (base + 1) as i16);
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        for junk in [
            vec![0xffu8; 16],
            vec![5, 0, 0, 0, 99, 1, 2, 3, 4],
            0u32.to_le_bytes().to_vec(),
        ] {
            let mut s = std::os::unix::net::UnixStream::connect_addr(&addr).unwrap();
            let _ = s.write_all(&junk);
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let mut b = [0u8; 64];
            let _ = s.read(&mut b);
        }
    }

    round_trip(&mut slave_client, &mut server_client, "after");
    assert!(ctl(base + 1, "SELFSTATUS").is_some_and(|s| s.contains("[SERVICE IN][UP]")));

    // Random bytes (property test): chmpx still answers afterwards.
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    });
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..600), |data| {
            send_raw(base, &data);
            let mut framed = frame_header(120 + data.len() as u64, 120, COM_PX2PX);
            framed.extend_from_slice(&data);
            send_raw(base, &framed);
            Ok(())
        })
        .unwrap();
    round_trip(&mut slave_client, &mut server_client, "after random");
    drop(half);
}
