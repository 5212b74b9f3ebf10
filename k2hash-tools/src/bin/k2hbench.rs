//! k2hbench: the original's multi-process / multi-thread benchmark (same options, same report),
//! so one command line can be run against both implementations.
use k2hash::{K2h, Layout, Protect};
use k2htools::{err, Progress};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{exit, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const RO: u8 = 1;
const WO: u8 = 2;
const RW: u8 = RO | WO;
const CHILD_FLAG: &str = "--k2hbench-child";

#[derive(Clone, Debug)]
struct Opts {
    file: String,
    temp: bool,
    readonly: bool,
    fullmap: bool,
    layout: Layout,
    kind: u8,
    procs: usize,
    threads: usize,
    loops: usize,
    dcount: usize,
    dlength: usize,
    nodata: bool,
}

fn prog() -> String {
    k2htools::program_name("k2hbench")
}

fn help() {
    let l = [
        String::new(),
        format!("Usage: {} [ -f filename | -t filename | -m | -h ] [options]", prog()),
        String::new(),
        "K2Hash type: choice one of them".into(),
        "       -h                   help display".into(),
        "       -f <filename>        mode by filename for permanent hash file(always create new file)".into(),
        "       -t <filename>        mode by filename for temporary hash file".into(),
        "       -m                   mode for only memory".into(),
        String::new(),
        "Bench mark options:".into(),
        "       -type [ro|wo|rw]     bench type as READ ONLY/WRITE ONLY/READ WRITE(default rw).".into(),
        "       -proc [count]        process count(default 1).".into(),
        "       -thread [count]      thread count(default 1).".into(),
        "       -loop [loop count]   Loop count(default 1) for each thread, set over 0.".into(),
        "       -dcount [count]      data count(default 1). -type is wo/rw and this value is 0 means all uniq key".into(),
        "       -dlength [byte]      data length(default 128 byte).".into(),
        "       -start_nodata        not initialize data before starting.".into(),
        String::new(),
        "K2Hash create options:".into(),
        "       -ro                  read only mode(only permanent k2hash file)".into(),
        "       -nofullmap           not full mapping".into(),
        "       -mask <bit count>    bit mask count for hash when creating a file/memory".into(),
        "       -cmask <bit count>   collision bit mask count when creating a file/memory".into(),
        "       -elementcnt <count>  element count for each hash table when creating a file/memory".into(),
        "       -pagesize <number>   pagesize for each data when creating a file/memory".into(),
        String::new(),
        "debug option:".into(),
        "       -g <debug level>     debugging mode: ERR(default) / WAN / INFO(*1)".into(),
        String::new(),
        "(*1)You can set debug level by another way which is setting environment as \"K2HDBGMODE\".".into(),
        "    \"K2HDBGMODE\" environment is took as \"SILENT\", \"ERR\", \"WAN\" or \"INFO\" value.".into(),
        "    When this process gets SIGUSR1 signal, the debug level is bumpup.".into(),
        "    The debug level is changed as \"SILENT\"->\"ERR\"->\"WAN\"->\"INFO\"->...".into(),
        String::new(),
    ];
    for s in l {
        println!("{s}");
    }
}

fn bad(msg: &str) -> ! {
    k2htools::die(msg, 1)
}

/// `-opt [value]` pairs: a word not starting with `-` after an option is its value.
fn option_map(args: &[String]) -> HashMap<String, String> {
    let mut m = HashMap::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a.is_empty() {
            i += 1;
            continue;
        }
        if !a.starts_with('-') {
            err(&format!("{a} option is not started with \"-\"."));
            i += 1;
            continue;
        }
        let mut v = String::new();
        if let Some(n) = args.get(i + 1) {
            if !n.is_empty() && !n.starts_with('-') {
                v = n.clone();
                i += 1;
            }
        }
        m.insert(a.clone(), v);
        i += 1;
    }
    m
}

fn number(m: &HashMap<String, String>, o: &str, default: i64) -> i64 {
    match m.get(o) {
        None => default,
        Some(v) if v.is_empty() => bad(&format!("\"{o}\" option needs parameter.")),
        Some(v) => v
            .parse::<i64>()
            .unwrap_or_else(|_| bad(&format!("\"{o}\" option parameter({v}) is not number."))),
    }
}

/// Options as the original parses them; None for `-h`.
fn parse(args: &[String]) -> Option<Opts> {
    let m = option_map(args);
    if m.contains_key("-h") {
        return None;
    }
    if let Some(g) = m.get("-g") {
        match g.to_ascii_uppercase().as_str() {
            "SILENT" => k2hash::capi::debug::k2h_set_debug_level_silent(),
            "ERR" => k2hash::capi::debug::k2h_set_debug_level_error(),
            "WAN" | "WARN" => k2hash::capi::debug::k2h_set_debug_level_warning(),
            "MSG" | "INFO" | "INF" => k2hash::capi::debug::k2h_set_debug_level_message(),
            _ => bad(&format!("\"-g\" option has unknown parameter({g}).")),
        }
    }
    let (mut file, mut temp, mut set) = (String::new(), false, false);
    for (o, t) in [("-f", false), ("-t", true)] {
        if let Some(v) = m.get(o) {
            if set {
                bad("\"-f\", \"-t\" and \"-m\" can not be specified together.");
            }
            if v.is_empty() {
                bad(&format!("\"{o}\" option needs file path parameter."));
            }
            file = v.clone();
            temp = t;
            set = true;
        }
    }
    if m.contains_key("-m") {
        if set {
            bad("\"-f\", \"-t\" and \"-m\" can not be specified together.");
        }
        set = true;
    }
    if !set {
        bad("Must specify \"-f\" or \"-t\", \"-m\" option.");
    }
    let permanent = !file.is_empty() && !temp;
    let readonly = m.contains_key("-ro");
    if readonly && !permanent {
        bad("\"-ro\" option can be specified only with \"-f\".");
    }
    let nofull = m.contains_key("-nofullmap");
    if nofull && !permanent {
        bad("\"-nofullmap\" option can be specified only with \"-f\".");
    }
    let kind = match m.get("-type").map(String::as_str) {
        None => RW,
        Some("ro") => RO,
        Some("wo") => WO,
        Some("rw") => RW,
        Some(v) => bad(&format!("\"-type\" option has unknown parameter({v}).")),
    };
    let procs = number(&m, "-proc", 1);
    if !permanent && procs > 1 {
        bad("\"-proc\" over 1 needs a permanent file(\"-f\").");
    }
    let dcount = number(&m, "-dcount", 1);
    if dcount == 0 && kind & WO == 0 {
        bad("\"-dcount 0\" (all uniq keys) needs \"-type wo\" or \"-type rw\".");
    }
    let dlength = number(&m, "-dlength", 128);
    if dlength <= 0 {
        bad("\"-dlength\" option must be over 0.");
    }
    let mut nodata = m.contains_key("-start_nodata");
    if nodata && kind == RO {
        bad("\"-start_nodata\" can not be specified with \"-type ro\".");
    }
    if !nodata && dcount == 0 {
        println!("[INFO] Specified \"-type\" option is \"wo\" or \"rw\", and \"-dcount\" is \"0\", so start with no data as same as \"-start_nodata\" option specified.");
        nodata = true;
    }
    let positive = |o: &str, v: i64| -> usize {
        if v < 1 {
            bad(&format!("\"{o}\" option must be over 0."));
        }
        v as usize
    };
    Some(Opts {
        file,
        temp,
        readonly,
        fullmap: !nofull,
        layout: Layout {
            mask_bits: number(&m, "-mask", 8) as i32,
            cmask_bits: number(&m, "-cmask", 4) as i32,
            max_elements: number(&m, "-elementcnt", 32) as i32,
            page_size: number(&m, "-pagesize", 128).max(0) as usize,
        },
        kind,
        procs: positive("-proc", procs),
        threads: positive("-thread", number(&m, "-thread", 1)),
        loops: positive("-loop", number(&m, "-loop", 1)),
        dcount: dcount.max(0) as usize,
        dlength: dlength as usize,
        nodata,
    })
}

fn gettid() -> u64 {
    // SAFETY: gettid has no arguments and cannot fail.
    (unsafe { libc::syscall(libc::SYS_gettid) }) as u64
}

/// The test value of the original: `dlength - 1` copies of a character picked by thread id,
/// then a NUL (stored as a string, so `dlength` bytes).
fn test_value(len: usize) -> Vec<u8> {
    let c = (gettid() % (b'}' - b' ') as u64) as u8 + b' ';
    let mut v = vec![c; len.saturating_sub(1)];
    v.push(0);
    v
}

fn attach(o: &Opts, create: bool) -> K2h {
    let r = if o.file.is_empty() {
        K2h::open_mem(o.layout)
    } else {
        if create && !o.temp {
            let _ = std::fs::remove_file(&o.file);
        }
        let ro = o.readonly && !create;
        K2h::open_file(Path::new(&o.file), ro, o.temp, o.fullmap, o.layout)
    };
    r.unwrap_or_else(|e| bad(&format!("Could not attach k2hash: {e}")))
}

/// `%016X`.
fn push_hex16(out: &mut Vec<u8>, v: u64) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for i in (0..16).rev() {
        out.push(HEX[((v >> (i * 4)) & 0xF) as usize]);
    }
}

/// One thread's run: (elapsed, errors).
fn run_thread(k: &K2h, o: &Opts, start: &Barrier, seed: u64) -> (Duration, u64) {
    let value = test_value(o.dlength);
    let uniq = o.dcount == 0;
    let tid = gettid();
    let mut keynum = if uniq { 0 } else { (seed as usize) % o.dcount };
    let mut errors = 0u64;
    start.wait();
    let t0 = Instant::now();
    let mut key: Vec<u8> = Vec::with_capacity(48);
    for _ in 0..o.loops {
        // formatted into one reused buffer, as the original sprintf()s into a stack buffer
        key.clear();
        key.extend_from_slice(b"KEY-");
        if uniq {
            push_hex16(&mut key, tid);
            key.push(b'-');
            push_hex16(&mut key, keynum as u64);
            keynum += 1;
        } else {
            push_hex16(&mut key, keynum as u64);
            keynum += 1;
            if keynum >= o.dcount {
                keynum = 0;
            }
        }
        key.push(0);
        if o.kind & WO != 0 && k.set_value(&key, &value, None, None).is_err() {
            errors += 1;
        }
        if o.kind & RO != 0 && !matches!(k.get(&key, Protect::Yes(None)), Ok(Some(_))) {
            errors += 1;
        }
    }
    (t0.elapsed(), errors)
}

fn seed() -> u64 {
    let mut b = [0u8; 8];
    match getrandom::getrandom(&mut b) {
        Ok(()) => u64::from_le_bytes(b),
        Err(_) => std::process::id() as u64,
    }
}

/// Run the threads of one process on `k`; `ready` is called when all wait at the start line,
/// and must return when they may go. Returns per-thread results.
fn run_threads(k: &K2h, o: &Opts, ready: impl FnOnce()) -> Vec<(Duration, u64)> {
    let start = Arc::new(Barrier::new(o.threads + 1));
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..o.threads)
            .map(|_| {
                let st = start.clone();
                let sd = seed();
                s.spawn(move || run_thread(k, o, &st, sd))
            })
            .collect();
        ready();
        start.wait();
        hs.into_iter()
            .map(|h| h.join().unwrap_or((Duration::ZERO, o.loops as u64)))
            .collect()
    })
}

fn fmt_time(ns: u128) -> String {
    format!(
        "{:03}s {:03}ms {:03}us {:03}ns ({}ns)",
        ns / 1_000_000_000,
        (ns / 1_000_000) % 1000,
        (ns / 1000) % 1000,
        ns % 1000,
        ns
    )
}

fn report(o: &Opts, results: &[(Duration, u64)], real: Duration) {
    let total: u128 = results.iter().map(|r| r.0.as_nanos()).sum();
    let errors: u64 = results.iter().map(|r| r.1).sum();
    let per = if o.kind == RW { 2 } else { 1 };
    let accesses = (o.procs * o.threads * o.loops * per) as u128;
    let real = real.as_nanos();
    let kind = if o.temp {
        "Temporary file"
    } else if o.file.is_empty() {
        "Memory(no file)"
    } else {
        "Permanent file"
    };
    let path = if o.temp {
        "tmpfile on system"
    } else if o.file.is_empty() {
        "no file"
    } else {
        o.file.as_str()
    };
    let lines = [
        "===========================================================".to_string(),
        "K2Hash bench mark".into(),
        "-----------------------------------------------------------".into(),
        format!("K2Hash type                   {kind}"),
        format!("File path                     {path}"),
        format!(
            "Attach type                   {}",
            if o.readonly {
                "Read only"
            } else {
                "Read/Write"
            }
        ),
        format!(
            "Mapping type                  {}",
            if o.fullmap {
                "Full mapping"
            } else {
                "Partial mapping"
            }
        ),
        "Data structure".into(),
        format!("  Mask bit count              {} bit", o.layout.mask_bits),
        format!("  Collision Mask bit count    {} bit", o.layout.cmask_bits),
        format!("  Element count               {}", o.layout.max_elements),
        format!("  Page size                   {} byte", o.layout.page_size),
        "-----------------------------------------------------------".into(),
        format!(
            "Access type for test          {}",
            match o.kind {
                RO => "Read only",
                WO => "Write only",
                _ => "Read/Write",
            }
        ),
        format!(
            "Key length                    {}",
            if o.dcount == 0 {
                "38 byte(\"KEY-000000000000000-000000000000000\")"
            } else {
                "21 byte(\"KEY-000000000000000\")"
            }
        ),
        format!("Value length                  {}", o.dlength),
        format!(
            "Initial data count            {}",
            if o.nodata { 0 } else { o.dcount }
        ),
        format!("Total process(thread) count   {}", o.procs * o.threads),
        format!("  Process count               {}", o.procs),
        format!("  Thread count                {}", o.threads),
        format!("Total access count            {accesses}"),
        format!("  Loop count(each proc)       {}", o.loops),
        format!(
            "  Count of each loop          {}{}",
            o.loops * per,
            if o.kind == RW {
                " (read and write access by each loop)"
            } else {
                " (one read/write access by each loop)"
            }
        ),
        "-----------------------------------------------------------".into(),
        format!("Total error count             {errors}"),
        format!("Total time(addition thread)   {}", fmt_time(total)),
        format!(
            "Average time(addition thread) {}",
            fmt_time(total / accesses.max(1))
        ),
        format!("Total time(real)              {}", fmt_time(real)),
        format!(
            "Average time(real)            {}",
            fmt_time(real / accesses.max(1))
        ),
        "-----------------------------------------------------------".into(),
    ];
    for l in lines {
        println!("{l}");
    }
}

/// A child process of `-proc N`: attach, report ready, wait for the go byte, run, print results.
fn child(args: &[String]) {
    let Some(o) = parse(args) else { exit(1) };
    let k = attach(&o, false);
    let res = run_threads(&k, &o, || {
        println!("ready");
        let _ = std::io::stdout().flush();
        let mut l = String::new();
        let _ = std::io::stdin().lock().read_line(&mut l);
    });
    for (d, e) in res {
        println!("result {} {}", d.as_nanos(), e);
    }
}

fn main() {
    let all: Vec<String> = std::env::args().collect();
    if all.get(1).map(String::as_str) == Some(CHILD_FLAG) {
        return child(&all[2..]);
    }
    let args = &all[1..];
    let Some(o) = parse(args) else {
        help();
        return;
    };
    // create and fill
    let k = attach(&o, true);
    if !o.nodata {
        let v = test_value(o.dlength);
        let mut p = Progress::new("k2hbench: initial data", o.dcount as u64);
        for i in 0..o.dcount {
            if let Err(e) =
                k.set_value(&k2htools::with_nul(format!("KEY-{i:016X}")), &v, None, None)
            {
                p.finish();
                bad(&format!("Could not make initial data: {e}"));
            }
            p.tick(i as u64 + 1);
        }
        p.finish();
    }
    let (results, real) = if o.procs > 1 {
        drop(k);
        let exe = std::env::current_exe().unwrap_or_else(|e| bad(&format!("{e}")));
        let mut kids = Vec::new();
        for _ in 0..o.procs {
            let c = Command::new(&exe)
                .arg(CHILD_FLAG)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| bad(&format!("Could not start a child process: {e}")));
            kids.push(c);
        }
        let mut outs: Vec<_> = kids
            .iter_mut()
            .map(|c| BufReader::new(c.stdout.take().expect("piped stdout")))
            .collect();
        for r in outs.iter_mut() {
            let mut l = String::new();
            if r.read_line(&mut l).unwrap_or(0) == 0 || l.trim() != "ready" {
                bad("A child process could not start the benchmark.");
            }
        }
        let t0 = Instant::now();
        for c in kids.iter_mut() {
            if let Some(mut i) = c.stdin.take() {
                let _ = i.write_all(b"go\n");
            }
        }
        let mut res = Vec::new();
        for (c, r) in kids.iter_mut().zip(outs.iter_mut()) {
            for l in r.lines().map_while(|l| l.ok()) {
                let w: Vec<&str> = l.split_whitespace().collect();
                if let ["result", ns, e] = w.as_slice() {
                    res.push((
                        Duration::from_nanos(ns.parse().unwrap_or(0)),
                        e.parse().unwrap_or(0),
                    ));
                }
            }
            let _ = c.wait();
        }
        (res, t0.elapsed())
    } else {
        let mut t0 = Instant::now();
        let res = run_threads(&k, &o, || t0 = Instant::now());
        let real = t0.elapsed();
        drop(k);
        (res, real)
    };
    report(&o, &results, real);
    if !o.file.is_empty() && !o.temp {
        let _ = std::fs::remove_file(&o.file);
    }
}
