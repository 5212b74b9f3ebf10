//! k2hdkc: the server process of a K2HDKC node, beside its chmpx server (same command line as
//! the original's; spec §4.1).

use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chmpx_core::opts::Opts;
use k2hdkc_core::{config, dbg, server};

fn usage(prg: &str) {
    // the original's text, word for word
    let lines = [
        "[Usage]".to_string(),
        format!("{prg} [-conf <file path> | -json <json string>] [-ctlport <port>] [-cuk <cuk>] [-comlog] [-no_giveup_rejoin] [-d [silent|err|wan|msg|dump]] [-dfile <file path>]"),
        format!("{prg} [ -h | -v ]"),
        "[option]".into(),
        "  -conf <path>         specify the configuration file(.ini .yaml .json) path".into(),
        "  -json <string>       specify the configuration json string".into(),
        "  -ctlport <port>      specify the self control port(*)".into(),
        "  -cuk <cuk string>    specify the self CUK(*)".into(),
        "  -no_giveup_rejoin    not give up rejoining chmpx".into(),
        "  -comlog              enable logging communication command".into(),
        "  -d <param>           specify the debugging output mode:".into(),
        "                        silent - no output".into(),
        "                        err    - output error level".into(),
        "                        wan    - output warning level".into(),
        "                        msg    - output debug(message) level".into(),
        "                        dump   - output communication debug level".into(),
        "  -dfile <path>        specify the file path which is put output".into(),
        "  -h(help)             display this usage.".into(),
        "  -v(version)          display version.".into(),
        String::new(),
        "[environment]".into(),
        "  K2HDKCCONFFILE       specify the configuration file(.ini .yaml .json) path".into(),
        "  K2HDKCJSONCONF       specify the configuration json string".into(),
        String::new(),
        "(*) you can use environment DKCDBGMODE and DKCDBGFILE instead of -d/-dfile options.".into(),
        "(*) if ctlport and cuk option is specified, chmpx searches same ctlport/cuk".into(),
        "    in configuration file and ignores \"CTLPORT\" or \"CUK\" directive in".into(),
        "    \"GLOBAL\" section. and chmpx will start in the mode indicated by the".into(),
        "    server entry that has been detected.".into(),
    ];
    for l in lines {
        println!("{l}");
    }
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
    let level = match o.get("d").filter(|w| !w.is_empty()) {
        Some(w) => match dbg::level_of(&w) {
            Some(l) => Some(l),
            None => {
                let w = w.to_ascii_uppercase();
                println!("ERROR: Unknown \"-d\" option parameter({w}) is specified.");
                usage(&prg);
                exit(1);
            }
        },
        None if o.find("d") => {
            println!("ERROR: \"-d\" option must be specified with parameter.");
            usage(&prg);
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
        println!("ERROR: not specify option \"-conf\" or \"-json\", thus checking environments.");
        usage(&prg);
        exit(1);
    }
    // (read as the original: atoi into a short; -1 and 0 are refused)
    let ctlport = o.get("ctlport").map(|p| {
        let n = chmpx_core::config::hosts::parse_atoi(&p) as i16;
        if n == -1 || n == 0 {
            println!("ERROR: option \"-ctlport\" is specified with invalid value.");
            exit(1);
        }
        n
    });
    let cuk = o.get("cuk");
    let cfg = match config::load(&conf) {
        Ok(c) => c,
        Err(e) => {
            // the original's line names what was given; what went wrong goes to stderr
            println!("ERROR: Failed to load configuration : \"{conf}\"");
            eprintln!("[K2HDKC-ERR] k2hdkc : {e}");
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
        println!("ERROR: Failed to initialize control main object.");
        eprintln!("[K2HDKC-ERR] k2hdkc : {e}");
        exit(1);
    }
}
