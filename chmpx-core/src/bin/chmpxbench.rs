//! chmpxbench: round-trip benchmark through chmpx, same command line and report as the
//! original tool.
//!
//! `-s` runs client-on-server receivers (replying with `-ta`), `-c` runs client-on-slave
//! senders. The parent starts `-proccnt` child processes (this program again, marked by an
//! environment variable), each running `-threadcnt` threads with one `Client` each. Every
//! thread attaches (and opens its msgid) first; when all are ready the parent says GO and
//! starts the clock, then waits for the children and prints the original's summary.
//!
//! Parent and child talk over the child's stdin (GO; end of file = the parent is gone, the
//! child exits) and stdout (lines with a control prefix; any other line, such as `-pr`
//! output, is passed through to the parent's stdout).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{exit, Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chmpx_core::client::Client;
use chmpx_core::config::ConfSource;
use chmpx_core::dbg;
use chmpx_core::opts::Opts;
use chmpx_core::toolcommon::{self, atoi, err};
use chmpx_core::wire::{ComPkt, CHM_INVALID_MSGID, COM_C2C_BROADCAST, COM_C2C_ROUTING};

const MINIMUM_DATA_LENGTH: usize = 64;
const FILL_CHARACTER: &str = "@";
/// Marks a child process (its value is the child's index).
const CHILD_ENV: &str = "CHMPXBENCH_CHILD_INDEX";
/// Prefix of the control lines a child writes to its stdout.
const CTL: &str = "\u{1}CHMPXBENCH ";
/// Receive timeout of one wait, as the original (1 s).
const RECEIVE_TIMEOUT_MS: i32 = 1000;

#[derive(Debug, Clone)]
struct BenchOpts {
    server: bool,
    /// The configuration as given (file path or JSON text), also shown in the report.
    config: String,
    loop_cnt: i64,
    proccnt: i64,
    threadcnt: i64,
    print: bool,
    turnaround: bool,
    datalen: usize,
    broadcast: bool,
}

fn fail(msg: &str) -> ! {
    err(msg);
    exit(1);
}

fn help(prog: &str) {
    println!();
    println!("Usage: {prog} [ -s | -c ] [options]");
    println!();
    println!("Option  [ -s | -c ]       process mode: server or client");
    println!("        -conf [file name] Configuration file( .ini / .json / .yaml ) path");
    println!("        -json [json]      Configuration JSON string\n");
    println!("        -l [loop count]   Loop count(default 1), 0 means no limit.");
    println!("        -proccnt          process count.");
    println!("        -threadcnt        thread count per one process.");
    println!(
        "        -ta               Turn around mode.(message is turned around on server to slave.)"
    );
    println!("        -b                Broadcast message(only client mode)");
    println!(
        "        -dl [bytes]       send message size.(minimum bytes is {MINIMUM_DATA_LENGTH})"
    );
    println!("        -pr               print sending/receiving message.");
    println!("        -mergedump        display merge request/data.");
    println!("        -d [debug level]  \"ERR\" / \"WAN\" / \"INF\" / \"DUMP\"");
    println!("        -h                display help");
    println!();
}

/// The original's `SetBenchOptions`, messages and order included.
fn bench_opts(opts: &Opts) -> BenchOpts {
    let config = match opts.get_any(&["conf", "f"]).or_else(|| opts.get("json")) {
        Some(c) => c,
        None => match ConfSource::detect("", true) {
            // CHMCONFFILE, then CHMJSONCONF.
            Ok(src) => src.value,
            Err(_) => fail("ERROR: There is no parameter \"-conf\"(\"-f\") or \"-json\"."),
        },
    };
    let loop_cnt = match opts.get("l") {
        Some(l) => {
            let v = atoi(&l);
            if v < 0 {
                fail("ERROR: \"-l\" option value is wrong, must set 0 - xxxx.");
            }
            v
        }
        None => 1,
    };
    let server = if opts.find("s") {
        true
    } else if opts.find("c") {
        false
    } else {
        fail("ERROR: There is no parameter \"-s\" or \"-c\".");
    };
    let mut proccnt = 1;
    let mut threadcnt = 1;
    if let Some(p) = opts.get("proccnt") {
        proccnt = atoi(&p);
        if proccnt < 1 {
            fail("ERROR: \"-proccnt\" option value is wrong, must set 1 - xxxx.");
        }
    }
    if let Some(t) = opts.get("threadcnt") {
        threadcnt = atoi(&t);
        if threadcnt < 1 {
            fail("ERROR: \"-threadcnt\" option value is wrong, must set 1 - xxxx.");
        }
    }
    let turnaround = opts.find("ta");
    let print = opts.find("pr");
    let datalen = match opts.get("dl") {
        Some(d) => {
            let v = atoi(&d);
            if v < MINIMUM_DATA_LENGTH as i64 {
                fail(&format!(
                    "ERROR: \"-dl\" option value is wrong, must set {MINIMUM_DATA_LENGTH} - xxxx."
                ));
            }
            v as usize
        }
        None => MINIMUM_DATA_LENGTH,
    };
    let broadcast = opts.find("b");
    if broadcast && server {
        fail("ERROR: Could not specify \"-b(broadcast)\" option with \"-s\" server mode.");
    }
    BenchOpts {
        server,
        config,
        loop_cnt,
        proccnt,
        threadcnt,
        print,
        turnaround,
        datalen,
        broadcast,
    }
}

// ---- messages ------------------------------------------------------------------------------

/// `SetStringBytes`: pads with `@` or cuts so that the text plus its NUL is `total` bytes.
fn set_string_bytes(s: &mut String, total: usize) {
    if total == 0 {
        return;
    }
    let want = total - 1;
    if s.len() < want {
        s.push_str(&FILL_CHARACTER.repeat(want - s.len()));
    } else if s.len() > want {
        let mut cut = want;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// A body as the original reads it: a C string.
fn c_text(body: &[u8]) -> String {
    let end = body.iter().position(|b| *b == 0).unwrap_or(body.len());
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// `to_short`: the first 64 bytes.
fn short(s: &str) -> &str {
    let mut end = s.len().min(MINIMUM_DATA_LENGTH);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn with_nul(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
}

// ---- child process -------------------------------------------------------------------------

/// Released when the parent says GO.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_all();
    }
    fn wait(&self) {
        let mut g = self.open.lock().unwrap_or_else(|e| e.into_inner());
        while !*g {
            g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }
}

fn ctl_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{CTL}{line}");
    let _ = out.flush();
}

/// Reattaches after chmpx went away, trying for up to `RECEIVE_TIMEOUT_MS`.
fn rejoin(client: &mut Client) -> bool {
    let end = Instant::now() + Duration::from_millis(RECEIVE_TIMEOUT_MS as u64);
    loop {
        if client.rejoin().is_ok() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        // Only after chmpx died: not on the measured path.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Rejoin + `Open` for a client-on-slave (`Open(true)`).
fn rejoin_open(client: &mut Client) -> u64 {
    if rejoin(client) {
        client.open().unwrap_or(CHM_INVALID_MSGID)
    } else {
        CHM_INVALID_MSGID
    }
}

/// `RunServerModeThread`'s loop; returns the error count.
fn server_loop(o: &BenchOpts, client: &mut Client, strbase: &str) -> i64 {
    let mut errors = 0i64;
    let mut cnt = 0i64;
    let remaining = |cnt: i64| if o.loop_cnt == 0 { 0 } else { o.loop_cnt - cnt };
    while o.loop_cnt == 0 || cnt < o.loop_cnt {
        let got: Option<(ComPkt, Vec<u8>)> = match client.receive(None, RECEIVE_TIMEOUT_MS) {
            Ok(g) => g,
            Err(e) => {
                // chmpx went away: rejoin (auto rejoin) and go on waiting, or give up.
                if !client.is_chmpx_alive() && rejoin(client) {
                    continue;
                }
                log::error!("Something error occured at waiting message: {e}");
                return errors + remaining(cnt);
            }
        };
        match got {
            None => {
                log::info!("Receiving message is timeouted(1s).");
                errors += 1;
            }
            Some((pkt, body)) => {
                let mut text = c_text(&body);
                if o.print {
                    println!("Receive : {}", short(&text));
                }
                if o.turnaround {
                    text.push(':');
                    text.push_str(strbase);
                    text.push_str(&format!("{cnt:x}"));
                    set_string_bytes(&mut text, o.datalen);
                    if client.reply(&pkt, &with_nul(&text)).is_err() {
                        if client.is_chmpx_alive() {
                            log::error!("Something error occured at replying message.");
                            return errors + remaining(cnt);
                        }
                        errors += 1;
                    }
                }
            }
        }
        cnt += 1;
    }
    errors
}

/// `RunSlaveModeThread`'s loop; returns the error count.
fn slave_loop(o: &BenchOpts, client: &mut Client, mut msgid: u64, strbase: &str) -> i64 {
    let mut errors = 0i64;
    let c2ctype = if o.broadcast {
        COM_C2C_BROADCAST
    } else {
        COM_C2C_ROUTING
    };
    let mut cnt = 0i64;
    while o.loop_cnt == 0 || cnt < o.loop_cnt {
        let this = cnt;
        cnt += 1;
        let mut text = format!("{strbase}{this:x}");
        set_string_bytes(&mut text, o.datalen);
        let receivers = match client.send(msgid, &with_nul(&text), this as u64, c2ctype) {
            Ok(n) if n >= 0 => n,
            _ => {
                if client.is_chmpx_alive() {
                    if o.print {
                        println!("Send : {} -> Failed", short(&text));
                    }
                    log::error!("Something error occured at sending message.");
                } else {
                    if o.print {
                        println!("Send : {} -> Failed(chmpx process down)", short(&text));
                    }
                    msgid = rejoin_open(client);
                }
                errors += 1;
                continue;
            }
        };
        if o.print {
            println!(
                "Send : {} -> Succeed(receiver count:{receivers})",
                short(&text)
            );
        }
        if !o.turnaround {
            continue;
        }
        for _ in 0..receivers.max(1) {
            match client.receive(Some(msgid), RECEIVE_TIMEOUT_MS) {
                Ok(Some((_, body))) => {
                    if o.print {
                        println!("Receive reply : -> 1 Succeed({})", short(&c_text(&body)));
                    }
                }
                Ok(None) => {
                    if o.print {
                        println!("Receive reply : -> 1 Failed(timeouted - 1s)");
                    }
                    log::info!("Receiving message is timeouted(1s).");
                    errors += 1;
                }
                Err(_) => {
                    if client.is_chmpx_alive() {
                        if o.print {
                            println!("Receive reply : -> 1 Failed");
                        }
                        log::error!("Something error occured at waiting reply message.");
                    } else {
                        if o.print {
                            println!("Receive reply : -> 1 Failed(chmpx process down)");
                        }
                        msgid = rejoin_open(client);
                    }
                    errors += 1;
                    break;
                }
            }
        }
    }
    errors
}

/// One benchmark thread: attach (and open), report ready, wait for GO, run, report.
fn bench_thread(idx: i64, o: &BenchOpts, gate: &Gate) {
    let tid = nix::unistd::gettid().as_raw();
    let strbase = format!("{tid:x}-");
    let attached = match Client::attach(&o.config, o.server, true) {
        Err(e) => Err(format!(
            "Could not initialize internal object/data/etc. ({e})"
        )),
        Ok(c) if o.server => Ok((c, CHM_INVALID_MSGID)),
        Ok(mut c) => match c.open() {
            Ok(m) => Ok((c, m)),
            Err(e) => Err(format!("Could not open message queue id. ({e})")),
        },
    };
    let (mut client, msgid) = match attached {
        Ok(x) => x,
        Err(msg) => {
            err(&msg);
            ctl_line(&format!("R {idx} 0"));
            ctl_line(&format!("T {idx} 0 {}", o.loop_cnt));
            return;
        }
    };
    ctl_line(&format!("R {idx} 1"));
    gate.wait();
    let start = Instant::now();
    let errors = if o.server {
        server_loop(o, &mut client, &strbase)
    } else {
        slave_loop(o, &mut client, msgid, &strbase)
    };
    let ns = start.elapsed().as_nanos();
    ctl_line(&format!("T {idx} {ns} {errors}"));
}

fn run_child(o: BenchOpts) -> ! {
    let gate = Arc::new(Gate::default());
    {
        // GO on stdin opens the gate; end of file means the parent is gone: stop at once.
        let gate = gate.clone();
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut line = String::new();
            loop {
                line.clear();
                match stdin.read_line(&mut line) {
                    Ok(0) | Err(_) => exit(1),
                    Ok(_) if line.trim() == "GO" => gate.open(),
                    Ok(_) => {}
                }
            }
        });
    }
    let o = Arc::new(o);
    let threads: Vec<_> = (0..o.threadcnt)
        .map(|i| {
            let (o, gate) = (o.clone(), gate.clone());
            std::thread::spawn(move || bench_thread(i, &o, &gate))
        })
        .collect();
    for t in threads {
        if t.join().is_err() {
            err("Failed to wait thread exit.");
        }
    }
    let _ = std::io::stdout().flush();
    exit(0);
}

// ---- parent process ------------------------------------------------------------------------

enum Event {
    Ready {
        proc: usize,
    },
    Result {
        proc: usize,
        thread: i64,
        ns: u128,
        errors: i64,
    },
    Ended {
        proc: usize,
    },
}

/// Reads one child's stdout: control lines become events, other lines go to our stdout.
fn relay(proc: usize, out: impl Read, tx: mpsc::Sender<Event>) {
    let mut r = BufReader::new(out);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&buf);
        if let Some(c) = line.trim_end_matches('\n').strip_prefix(CTL) {
            let f: Vec<&str> = c.split(' ').collect();
            let ev = match f.as_slice() {
                ["R", t, _] => t.parse::<i64>().ok().map(|_| Event::Ready { proc }),
                ["T", t, ns, e] => match (t.parse(), ns.parse(), e.parse()) {
                    (Ok(thread), Ok(ns), Ok(errors)) => Some(Event::Result {
                        proc,
                        thread,
                        ns,
                        errors,
                    }),
                    _ => None,
                },
                _ => None,
            };
            if let Some(ev) = ev {
                let _ = tx.send(ev);
            }
        } else {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(&buf);
            let _ = o.flush();
        }
    }
    let _ = tx.send(Event::Ended { proc });
}

/// What the children reported.
#[derive(Default)]
struct Tally {
    results: HashMap<(usize, i64), (u128, i64)>,
    ready: HashMap<usize, i64>,
    ended: Vec<usize>,
}

impl Tally {
    fn add(&mut self, ev: Event) {
        match ev {
            Event::Ready { proc } => *self.ready.entry(proc).or_default() += 1,
            Event::Result {
                proc,
                thread,
                ns,
                errors,
            } => {
                self.results.insert((proc, thread), (ns, errors));
            }
            Event::Ended { proc } => self.ended.push(proc),
        }
    }
    /// Every thread of process `proc` is ready, or the process has ended.
    fn settled(&self, proc: usize, threads: i64) -> bool {
        self.ended.contains(&proc) || self.ready.get(&proc).copied() == Some(threads)
    }
}

fn time_text(fns: i64, sec: i64) -> String {
    format!(
        "{:03}s {:03}ms {:03}us {:03}ns ({}ns)",
        sec,
        (fns / 1_000_000) % 1000,
        (fns / 1000) % 1000,
        fns % 1000,
        fns
    )
}

fn print_result(o: &BenchOpts, results: &[(u128, i64)], real: Duration) {
    let totalerr: i64 = results.iter().map(|r| r.1).sum();
    let addtotalfns: i64 = results.iter().map(|r| r.0 as i64).sum();
    let divisor = o.proccnt * o.threadcnt * if o.loop_cnt == 0 { 1 } else { o.loop_cnt };
    let addavrgfns = addtotalfns / divisor;
    let realtotalfns = real.as_nanos() as i64;
    let realavrgfns = realtotalfns / divisor;

    let mut s = String::new();
    let mut p = |l: &str| {
        s.push_str(l);
        s.push('\n');
    };
    p("===========================================================");
    p("CHMPX bench mark");
    p("-----------------------------------------------------------");
    p(&format!(
        "CHMPX mode                    {}",
        if o.server {
            "Server mode"
        } else {
            "Slave mode"
        }
    ));
    p(&format!("CHMPX configuration           {}", o.config));
    p("-----------------------------------------------------------");
    p(&format!(
        "Total loop count              {}",
        if o.loop_cnt == 0 {
            0
        } else {
            o.proccnt * o.threadcnt * o.loop_cnt
        }
    ));
    p(&format!("  Process count               {}", o.proccnt));
    p(&format!("  Thread count                {}", o.threadcnt));
    p(&format!("  Loop count                  {}", o.loop_cnt));
    p(&format!("Data length                   {}", o.datalen));
    p(&format!(
        "Turn Around mode              {}",
        if o.turnaround { "yes" } else { "no" }
    ));
    p(&format!(
        "Broadcast mode                {}",
        if o.broadcast { "yes" } else { "no" }
    ));
    if o.loop_cnt == 0 {
        p("");
        p("* If loop count is 0, it means no limited loop. So average times is calculated by 1 loop.");
        p("  Then average times can not be the correct value. So not display those.");
    }
    p("-----------------------------------------------------------");
    p(&format!("Total error count             {totalerr}"));
    p(&format!(
        "Total time(addition thread)   {}",
        time_text(addtotalfns, addtotalfns / 1_000_000_000)
    ));
    if o.loop_cnt != 0 {
        p(&format!(
            "Average time(addition thread) {}",
            time_text(addavrgfns, addavrgfns / 1_000_000_000)
        ));
    }
    p(&format!(
        "Total time(real)              {}",
        time_text(realtotalfns, real.as_secs() as i64)
    ));
    if o.loop_cnt != 0 {
        p(&format!(
            "Average time(real)            {}",
            time_text(realavrgfns, realavrgfns / 1_000_000_000)
        ));
    }
    p("-----------------------------------------------------------");
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

fn run_parent(o: BenchOpts, args: &[String]) -> ! {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => fail(&format!(
            "Could not find this program to start children: {e}"
        )),
    };
    let (tx, rx) = mpsc::channel::<Event>();
    let mut children: Vec<Child> = Vec::new();
    let mut stdins: Vec<ChildStdin> = Vec::new();
    let mut relays = Vec::new();
    for p in 0..o.proccnt as usize {
        let spawned = Command::new(&exe)
            .args(args)
            .env(CHILD_ENV, p.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        match spawned {
            Ok(mut c) => {
                let (Some(out), Some(inp)) = (c.stdout.take(), c.stdin.take()) else {
                    err("Could not fork child process, no pipe");
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                };
                let tx = tx.clone();
                relays.push(std::thread::spawn(move || relay(p, out, tx)));
                stdins.push(inp);
                children.push(c);
            }
            Err(e) => {
                err(&format!(
                    "Could not fork child process, errno = {}",
                    e.raw_os_error().unwrap_or(0)
                ));
                break;
            }
        }
    }
    drop(tx);

    let threads = o.threadcnt;
    let mut tally = Tally::default();
    // Wait until every thread has attached (or its process has ended).
    while !(0..children.len()).all(|p| tally.settled(p, threads)) {
        match rx.recv() {
            Ok(ev) => tally.add(ev),
            Err(_) => break,
        }
    }

    let start = Instant::now();
    for s in &mut stdins {
        let _ = s.write_all(b"GO\n");
        let _ = s.flush();
    }
    for c in &mut children {
        let _ = c.wait();
    }
    let real = start.elapsed();
    drop(stdins);
    for r in relays {
        let _ = r.join();
    }
    while let Ok(ev) = rx.try_recv() {
        tally.add(ev);
    }
    let results = tally.results;

    // A thread that never reported (its process died) counts all its loops as errors.
    let mut list = Vec::new();
    for p in 0..o.proccnt as usize {
        for t in 0..threads {
            list.push(results.get(&(p, t)).copied().unwrap_or((0, o.loop_cnt)));
        }
    }
    print_result(&o, &list, real);
    exit(0);
}

fn main() {
    let (_, args, opts) = toolcommon::start("chmpxbench", help);
    dbg::set_level(dbg::Level::Silent);
    if let Some(mode) = opts.get_any(&["g", "d"]) {
        let level = match mode.to_ascii_uppercase().as_str() {
            "ERR" => dbg::Level::Err,
            "WAN" => dbg::Level::Warn,
            "INF" | "MSG" => dbg::Level::Msg,
            "DUMP" => dbg::Level::Dump,
            _ => fail(&format!(
                "ERROR: Wrong parameter value \"-d\"(\"-g\") {mode}."
            )),
        };
        dbg::set_level(level);
    }
    // -mergedump: the merge callbacks print what they are given. Our chmpx does not run the
    // merge data transfer through clients, so there is nothing to print; the option is taken.
    let _ = opts.find("mergedump");

    let o = bench_opts(&opts);
    if std::env::var_os(CHILD_ENV).is_some() {
        run_child(o);
    }
    run_parent(o, &args);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_bytes() {
        let mut s = "40-0".to_string();
        set_string_bytes(&mut s, 64);
        assert_eq!(s.len(), 63);
        assert!(s.starts_with("40-0@@@"));
        let mut t = "x".repeat(100);
        set_string_bytes(&mut t, 64);
        assert_eq!(t.len(), 63);
        assert_eq!(short(&"y".repeat(100)).len(), 64);
        assert_eq!(c_text(b"abc\0def"), "abc");
    }

    #[test]
    fn times_like_the_original() {
        assert_eq!(
            time_text(4177212682, 4),
            "004s 177ms 212us 682ns (4177212682ns)"
        );
        assert_eq!(time_text(52988, 0), "000s 000ms 052us 988ns (52988ns)");
    }
}
