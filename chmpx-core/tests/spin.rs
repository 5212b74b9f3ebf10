//! Polling before sleeping (crate::spin), switched on for every process of a small cluster:
//! messages still arrive complete and in order through the polling paths of the event loop
//! and of the client, and an idle chmpx does not keep polling (its CPU time stays near zero;
//! how the window adapts is unit-tested in crate::spin).

mod common;

use std::time::Duration;

use chmpx_core::client::Client;
use chmpx_core::wire::*;
use common::*;

/// CPU time of a process so far (nanoseconds, /proc/PID/schedstat).
fn cpu_ns(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn polling_loops_deliver_and_go_idle() {
    // this test binary is its own process: the children (chmpx) inherit both variables, the
    // clients below read CHMPX_SPIN_US when they attach
    std::env::set_var("CHMPX_LOOP_SPIN_US", "200");
    std::env::set_var("CHMPX_SPIN_US", "200");
    let base = ports(4);
    let layout = Layout::servers(base, 1, 0);
    let mut cl = Cluster::new(&format!("SPIN{base}"));
    let (mut servers, _, slave_conf) = start_ring(&mut cl, &layout);
    let server = &mut servers[0];
    let mut slave = Client::attach(slave_conf.to_str().unwrap(), false, false).expect("attach");
    let msgid = slave.open().expect("open");

    for i in 0..2000u64 {
        let body = format!("ping {i}");
        assert_eq!(
            slave
                .send(msgid, body.as_bytes(), i, COM_C2C_ROUTING)
                .unwrap(),
            1
        );
        let (pkt, got) = server.receive(None, 5000).unwrap().expect("delivered");
        assert_eq!(got, body.as_bytes());
        server.reply(&pkt, format!("pong {i}").as_bytes()).unwrap();
        let (_, answer) = slave.receive(Some(msgid), 5000).unwrap().expect("answer");
        assert_eq!(answer, format!("pong {i}").as_bytes());
    }

    // idle: at most one window per wake-up (a 500 ms tick), no busy loop
    std::thread::sleep(Duration::from_millis(1500));
    let pids = [cl.pid("s0"), cl.pid("slave")];
    let before: Vec<u64> = pids.iter().map(|p| cpu_ns(*p)).collect();
    std::thread::sleep(Duration::from_secs(2));
    for (p, b) in pids.iter().zip(before) {
        let used = cpu_ns(*p).saturating_sub(b);
        assert!(
            used < 400_000_000,
            "chmpx {p} used {used} ns of CPU in 2 s while idle: it kept polling"
        );
    }
}
