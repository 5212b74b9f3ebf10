//! A k2hdkc client in Rust over a chmpx slave (until libk2hdkc exists): SET and GET keys.
//!
//!   dkc_client CONF set KEY VALUE     -> prints the result code
//!   dkc_client CONF get KEY           -> prints the code and the value
//!   dkc_client CONF ren OLD NEW       -> prints the result code
//!   dkc_client CONF qpush PREFIX VAL  -> FIFO push, prints the result code
//!   dkc_client CONF qpop PREFIX       -> FIFO pop, prints the code and the value
//!   dkc_client CONF bench N           -> N sets then N gets of 128-byte values, one at a
//!                                        time: prints sets/s and gets/s
//!   dkc_client CONF junk KEY          -> sends hostile messages routed like KEY (short,
//!                                        lying lengths, unknown type, items outside), prints
//!                                        how many got an answer
//!   dkc_client CONF fill N PREFIX     -> N sets of PREFIX<i> = v<i>, prints how many succeeded
//!   dkc_client CONF check N PREFIX    -> N gets, prints how many read back right
//!   dkc_client CONF links N PREFIX    -> `fill`, then how many of the client's direct links
//!                                        the servers' k2hdkc serve: "GOOD/N SERVED/LINKS"
//! Keys and values are sent with their NUL, as the `_str` C API does.

use chmpx_core::client::Client;
use chmpx_core::wire::COM_C2C_ROUTING;
use k2hdkc_core::wire::*;

fn call(c: &mut Client, msgid: u64, key: &[u8], body: Body, t: u64) -> Option<Message> {
    // each request has a number of its own, which the server echoes: an answer that comes
    // after its request was given up is skipped, not taken for the next request's
    static NUMBER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let number = NUMBER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let m = Message {
        head: Head::request(t, number),
        body,
    };
    let hash = k2hash::hash::hash(key);
    // a post, as libk2hdkc sends: no count to wait for, and it may go on a direct link
    c.post(msgid, &m.encode(), hash, COM_C2C_ROUTING).ok()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(3000);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let (_, b) = c.receive(Some(msgid), left.as_millis() as i32).ok()??;
        match Message::decode(&b) {
            Ok(a) if a.head.comnumber == number => return Some(a),
            _ if left.is_zero() => return None,
            _ => {}
        }
    }
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn set(c: &mut Client, msgid: u64, k: &str, v: &str) -> Option<u64> {
    let key = cstr(k);
    let body = Body::Set(SetReq {
        key: key.clone(),
        val: cstr(v),
        ..SetReq::default()
    });
    call(c, msgid, &key, body, DKC_COM_SET).map(|m| m.head.restype)
}

fn get(c: &mut Client, msgid: u64, k: &str) -> Option<(u64, Vec<u8>)> {
    let key = cstr(k);
    let body = Body::Get(GetReq {
        key: key.clone(),
        check_attr: true,
        ..GetReq::default()
    });
    let m = call(c, msgid, &key, body, DKC_COM_GET)?;
    let v = match m.body {
        Body::Val(v) => v.val,
        _ => Vec::new(),
    };
    Some((m.head.restype, v))
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 4 {
        eprintln!(
            "usage: dkc_client CONF set KEY VALUE | get KEY | fill N PREFIX | check N PREFIX"
        );
        std::process::exit(2);
    }
    let mut c = Client::attach(&a[1], false, false).expect("attach to the chmpx slave");
    let msgid = c.open().expect("msgid");
    match a[2].as_str() {
        "set" => println!(
            "0x{:016x}",
            set(&mut c, msgid, &a[3], &a[4]).unwrap_or(u64::MAX)
        ),
        "ren" => {
            let old = cstr(&a[3]);
            let body = Body::Ren(RenReq {
                oldkey: old.clone(),
                newkey: cstr(&a[4]),
                encpass: Vec::new(),
                check_attr: true,
            });
            let code = call(&mut c, msgid, &old, body, DKC_COM_REN).map(|m| m.head.restype);
            println!("0x{:016x}", code.unwrap_or(u64::MAX));
        }
        "qpush" => {
            let prefix = a[3].as_bytes().to_vec();
            let body = Body::Qpush(QpushReq {
                is_fifo: true,
                prefix: prefix.clone(),
                val: cstr(&a[4]),
                check_attr: true,
                fifo: true,
                ..QpushReq::default()
            });
            let code = call(&mut c, msgid, &prefix, body, DKC_COM_QPUSH).map(|m| m.head.restype);
            println!("0x{:016x}", code.unwrap_or(u64::MAX));
        }
        "qpop" => {
            let prefix = a[3].as_bytes().to_vec();
            let body = Body::Qpop(QpopReq {
                prefix: prefix.clone(),
                encpass: Vec::new(),
                check_attr: true,
                fifo: true,
                keyqueue: false,
            });
            match call(&mut c, msgid, &prefix, body, DKC_COM_QPOP) {
                Some(m) => {
                    let v = match m.body {
                        Body::QpopAnswer(r) => r.val,
                        _ => Vec::new(),
                    };
                    println!(
                        "0x{:016x} {}",
                        m.head.restype,
                        String::from_utf8_lossy(&v).trim_end_matches('\0')
                    );
                }
                None => println!("no answer"),
            }
        }
        "bench" => {
            let n: u64 = a[3].parse().expect("count");
            let val = "v".repeat(127);
            let t = std::time::Instant::now();
            let mut ok = 0;
            for i in 0..n {
                ok += (set(&mut c, msgid, &format!("bench-{i}"), &val) == Some(0)) as u64;
            }
            let sets = n as f64 / t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            for i in 0..n {
                ok += get(&mut c, msgid, &format!("bench-{i}")).is_some_and(|(c, _)| c == 0) as u64;
            }
            let gets = n as f64 / t.elapsed().as_secs_f64();
            println!(
                "{sets:.0} sets/s {gets:.0} gets/s ({ok}/{} answered right)",
                2 * n
            );
        }
        "junk" => {
            let key = cstr(&a[3]);
            let hash = k2hash::hash::hash(&key);
            let good = Message {
                head: Head::request(DKC_COM_GET, 0),
                body: Body::Get(GetReq {
                    key: key.clone(),
                    check_attr: true,
                    ..GetReq::default()
                }),
            }
            .encode();
            let mut bad: Vec<Vec<u8>> = vec![good[..20].to_vec()];
            let mut v = good.clone();
            v[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
            bad.push(v);
            let mut v = good.clone();
            v[0..8].copy_from_slice(&99u64.to_le_bytes());
            bad.push(v);
            let mut v = good.clone();
            v[40..48].copy_from_slice(&(u64::MAX - 2).to_le_bytes());
            bad.push(v);
            let mut v = good;
            v[48..56].copy_from_slice(&(1u64 << 40).to_le_bytes());
            bad.push(v);
            let mut answered = 0;
            for b in &bad {
                if c.send(msgid, b, hash, COM_C2C_ROUTING).is_ok()
                    && matches!(c.receive(Some(msgid), 300), Ok(Some(_)))
                {
                    answered += 1;
                }
            }
            println!("{answered} answered");
        }
        "get" => match get(&mut c, msgid, &a[3]) {
            Some((code, v)) => println!(
                "0x{code:016x} {}",
                String::from_utf8_lossy(&v).trim_end_matches('\0')
            ),
            None => println!("no answer"),
        },
        "fill" | "check" | "links" => {
            let n: u64 = a[3].parse().expect("count");
            let p = &a[4];
            let mut good = 0;
            for i in 0..n {
                let (k, v) = (format!("{p}{i}"), format!("v{i}"));
                let ok = if a[2] != "check" {
                    set(&mut c, msgid, &k, &v) == Some(0)
                } else {
                    get(&mut c, msgid, &k).is_some_and(|(code, got)| code == 0 && got == cstr(&v))
                };
                good += ok as u64;
            }
            if a[2] == "links" {
                println!(
                    "{good}/{n} {}/{}",
                    c.served_direct_links(),
                    c.direct_links()
                );
            } else {
                println!("{good}/{n}");
            }
        }
        other => {
            eprintln!("unknown command {other}");
            std::process::exit(2);
        }
    }
}
