//! Small probe for interoperability runs: `chmpx_echo server <conf>` answers every message
//! with "re:" + body; `chmpx_echo slave <conf> <count>` sends <count> messages by hash and
//! waits for each answer, printing what came back from which chmpxid (`[dl]`: body length).
use chmpx_core::client::Client;
use chmpx_core::wire::{CHM_INVALID_MSGID, COM_C2C_ROUTING};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: chmpx_echo server|slave <conf> [count [dl]]");
        std::process::exit(2);
    }
    match args[1].as_str() {
        "server" => {
            let mut c = Client::attach(&args[2], true, true).expect("attach");
            println!("attached to 0x{:016x}", c.chmpxid);
            loop {
                match c.receive(None, 1000) {
                    Ok(Some((pkt, body))) => {
                        let mut r = b"re:".to_vec();
                        r.extend_from_slice(&body);
                        c.reply(&pkt, &r).expect("reply");
                    }
                    Ok(None) => {}
                    Err(e) => {
                        eprintln!("receive: {e}");
                        std::process::exit(1);
                    }
                }
            }
        }
        _ => {
            let n: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
            let dl: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(0);
            let mut c = Client::attach(&args[2], false, false).expect("attach");
            let msgid = c.open().expect("open");
            let t = std::time::Instant::now();
            let mut ok = 0;
            for i in 0..n {
                let mut body = format!("msg{i}");
                while body.len() < dl {
                    body.push('@');
                }
                let cnt = c
                    .send(msgid, body.as_bytes(), i, COM_C2C_ROUTING)
                    .expect("send");
                if cnt < 1 {
                    eprintln!("send {i}: no receiver ({cnt})");
                    continue;
                }
                match c.receive(Some(msgid), 3000).expect("receive") {
                    Some((pkt, b)) => {
                        if n <= 10 {
                            println!(
                                "{i}: {} from 0x{:016x}",
                                String::from_utf8_lossy(&b),
                                pkt.head.dept_ids.chmpxid
                            );
                        }
                        ok += 1;
                    }
                    None => eprintln!("{i}: no reply"),
                }
            }
            let _ = CHM_INVALID_MSGID;
            println!(
                "{ok}/{n} round trips in {:?} ({:.0}/s)",
                t.elapsed(),
                ok as f64 / t.elapsed().as_secs_f64()
            );
        }
    }
}
