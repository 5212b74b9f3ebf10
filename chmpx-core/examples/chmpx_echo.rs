//! Small probe for interoperability runs: `chmpx_echo server <conf>` answers every message
//! with "re:" + body; `chmpx_echo slave <conf> <count>` sends <count> messages by hash and
//! waits for each answer, printing what came back from which chmpxid (`[dl [threads]]`: body
//! length, clients in parallel).
use chmpx_core::client::Client;
use chmpx_core::wire::COM_C2C_ROUTING;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: chmpx_echo server|slave <conf> [count [dl [threads]]]");
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
            let threads: u64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
            let t = std::time::Instant::now();
            let handles: Vec<_> = (0..threads)
                .map(|th| {
                    let conf = args[2].clone();
                    std::thread::spawn(move || slave(&conf, n, dl, th, threads == 1 && n <= 10))
                })
                .collect();
            let ok: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
            let total = n * threads;
            println!(
                "{ok}/{total} round trips in {:?} ({:.0}/s, {threads} client(s))",
                t.elapsed(),
                ok as f64 / t.elapsed().as_secs_f64()
            );
        }
    }
}

/// One client on the slave: `n` messages by hash, each answer awaited.
fn slave(conf: &str, n: u64, dl: usize, th: u64, verbose: bool) -> u64 {
    let mut c = Client::attach(conf, false, false).expect("attach");
    let msgid = c.open().expect("open");
    let mut ok = 0;
    for i in 0..n {
        let mut body = format!("msg{th}-{i}");
        while body.len() < dl {
            body.push('@');
        }
        let cnt = c
            .send(msgid, body.as_bytes(), i + th * 7919, COM_C2C_ROUTING)
            .expect("send");
        if cnt < 1 {
            eprintln!("send {i}: no receiver ({cnt})");
            continue;
        }
        match c.receive(Some(msgid), 3000).expect("receive") {
            Some((pkt, b)) => {
                if verbose {
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
    ok
}
