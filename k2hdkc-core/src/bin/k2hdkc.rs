//! k2hdkc: the server process of a K2HDKC node, beside its chmpx server (same command line as
//! the original's; spec §4.1).

use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chmpx_core::opts::Opts;
use k2hdkc_core::{config, dbg, server};

fn usage(prg: &str) {
    println!("Usage: {prg} [-conf <file> | -json <json>] [-ctlport <port>] [-cuk <cuk>] [-comlog] [-no_giveup_rejoin] [-d [silent|err|wan|msg|dump]] [-dfile <debug file path>]");
    println!("       {prg} [ -h | -v ]");
    println!();
    println!("Option:");
    println!("  -conf <file>        configuration file path(.ini .yaml .json)");
    println!("  -json <json>        configuration json string");
    println!("  -ctlport <port>     self control port of the chmpx server node");
    println!("  -cuk <cuk>          self cuk of the chmpx server node");
    println!("  -comlog             enable communication log");
    println!("  -no_giveup_rejoin   retry joining chmpx without giving up");
    println!("  -d <param>          debugging level: silent, err, wan, msg, dump");
    println!("  -dfile <path>       file for debugging output");
    println!("  -h(help)            display this usage");
    println!("  -v(version)         display version");
    println!();
    println!("Environment:");
    println!("  K2HDKCCONFFILE      configuration file path like \"-conf\"");
    println!("  K2HDKCJSONCONF      configuration json string like \"-json\"");
    println!("  DKCDBGMODE          debugging level like \"-d\"");
    println!("  DKCDBGFILE          debugging output file like \"-dfile\"");
}

/// `-v`: the k2hdkc, k2hash and chmpx banners, as libk2hdkc's `k2hdkc_print_version`.
fn print_version() {
    print!(
        "{}{}{}",
        k2hdkc_core::wire::version_banner(),
        k2hash_hash::version_banner(),
        chmpx_core::ctl::version_banner()
    );
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

fn main() {
    let mut args = std::env::args();
    let prg = args
        .next()
        .map(|p| {
            let b = p.rsplit('/').next().unwrap_or(&p).to_string();
            b.strip_prefix("lt-").map(str::to_string).unwrap_or(b)
        })
        .unwrap_or_else(|| "k2hdkc".into());
    let o = Opts::parse(args);
    if o.find_any(&["h", "help"]) {
        usage(&prg);
        exit(0);
    }
    if o.find_any(&["v", "ver", "version"]) {
        print_version();
        exit(0);
    }
    let level = match o.get("d") {
        Some(w) => match dbg::level_of(&w) {
            Some(l) => Some(l),
            None => {
                eprintln!("ERROR: unknown debug level ({w})");
                exit(1);
            }
        },
        None if o.find("d") => {
            eprintln!("ERROR: -d option needs a parameter");
            exit(1);
        }
        None => None,
    };
    dbg::init(level, o.get("dfile").as_deref());
    let conf = o.get("conf").or_else(|| o.get("json")).unwrap_or_default();
    if conf.is_empty()
        && std::env::var(config::ENV_CONFFILE).is_err()
        && std::env::var(config::ENV_JSONCONF).is_err()
    {
        println!("ERROR: not specify option for configuration(-conf or -json)");
        usage(&prg);
        exit(1);
    }
    let ctlport = match o.get("ctlport") {
        Some(p) => match p.parse::<i16>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                println!("ERROR: -ctlport option parameter({p}) is wrong");
                exit(1);
            }
        },
        None => None,
    };
    let cuk = o.get("cuk");
    let cfg = match config::load(&conf) {
        Ok(c) => c,
        Err(e) => {
            println!("ERROR: Failed to load configuration : \"{e}\"");
            exit(1);
        }
    };
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        for sig in [libc::SIGHUP, libc::SIGTERM, libc::SIGINT] {
            libc::signal(
                sig,
                on_stop as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let watch = stop.clone();
    std::thread::spawn(move || loop {
        if STOP.load(Ordering::Relaxed) {
            watch.store(true, Ordering::Relaxed);
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    });
    if let Err(e) = server::run(&cfg, ctlport, cuk.as_deref(), stop) {
        println!("ERROR: Failed to initialize control main object. ({e})");
        exit(1);
    }
}
