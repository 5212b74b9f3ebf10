//! chmpxconftest: load a chmpx configuration and print what was understood; then (unless
//! `-no_check_update`) watch the file and print it again whenever it changes.

use std::process::exit;

use chmpx_core::config::{print, watch::ConfWatch, ChmConfig, ConfSource, SelfIdentity};
use chmpx_core::dbg;
use chmpx_core::opts::Opts;

fn help(prog: &str) {
    println!("Usage: {prog} [options]");
    println!("Option  -conf [file name]       Configuration file( .ini / .json / .yaml ) path");
    println!("        -json [json string]     Configuration JSON string");
    println!("        -no_check_update        not check configration file updating");
    println!("        -print_default          print default datas");
    println!("        -d [debug level]        \"ERR\" / \"WAN\" / \"INF\"");
    println!("        -h                      display help");
}

/// Sizes of the original's shared-memory structures (x86-64), for `-print_default`.
fn print_defaults() {
    use chmpx_core::config::{
        DEFAULT_CHMPX_COUNT as DC, DEFAULT_CLIENT_MQ_CNT as DM, DEFAULT_HISTLOG_COUNT as DH,
    };
    use chmpx_core::config::{
        MAX_CHMPX_COUNT as MC, MAX_CLIENT_MQ_CNT as MM, MAX_HISTLOG_COUNT as MH,
    };
    let (chmpx, list, stat, man, mqh, mql, info, lograw, log, shm) = (
        26752i64, 26776i64, 88i64, 33344i64, 16i64, 32i64, 34704i64, 48i64, 48i64, 34792i64,
    );
    println!("================================================================");
    println!(" Default datas and size for SHM");
    println!("----------------------------------------------------------------");
    for (n, v) in [
        ("CHMPX", chmpx),
        ("CHMPXLIST", list),
        ("CHMSTAT", stat),
        ("CHMPXMAN", man),
        ("MQMSGHEAD", mqh),
        ("MQMSGHEADLIST", mql),
        ("CHMINFO", info),
        ("CHMLOGRAW", lograw),
        ("CHMLOG", log),
        ("CHMSHM", shm),
    ] {
        println!("{n:<21}{v} bytes");
    }
    println!();
    println!("CHMPXLIST[def]       {} bytes", list * DC);
    println!("MQMSGHEADLIST[def]   {} bytes", mql * DM);
    println!("CHMLOGRAW[def]       {} bytes", lograw * DH);
    println!();
    println!("CHMPXLIST[max]       {} bytes", list * MC);
    println!("MQMSGHEADLIST[max]   {} bytes", mql * MM);
    println!("CHMLOGRAW[max]       {} bytes", lograw * MH);
    println!();
    println!(
        "total[def]           {} bytes",
        shm + list * DC + mql * DM + lograw * DH
    );
    println!(
        "total[max]           {} bytes",
        shm + list * MC + mql * MM + lograw * MH
    );
    println!();
}

fn load_and_print(source: &ConfSource) -> bool {
    match ChmConfig::load_source(source, &SelfIdentity::default()) {
        Ok(cfg) => {
            print!("{}", print::conftest_text(&cfg));
            true
        }
        Err(e) => {
            eprintln!("[CHMPX-ERR] chmpxconftest : Failed load configuration: {e}");
            println!("\n[NOTICE]");
            println!("If \"MODE = SERVER\" is specified in the configuration file, could not print loading configuration if the host running this program does not exist in the server node list.");
            println!("In this case, the error can be avoided by setting \"MODE = SLAVE\".\n");
            false
        }
    }
}

fn main() {
    dbg::init();
    let mut args = std::env::args();
    let prog = args.next().unwrap_or_default();
    let prog = std::path::Path::new(&prog)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("chmpxconftest")
        .to_string();
    let opts = Opts::parse(args);

    if opts.find_any(&["h", "help"]) {
        help(&prog);
        exit(0);
    }
    if let Some(mode) = opts.get_any(&["g", "d"]) {
        match mode.to_ascii_uppercase().as_str() {
            "ERR" => dbg::set_level(dbg::Level::Err),
            "WAN" => dbg::set_level(dbg::Level::Warn),
            "INF" => dbg::set_level(dbg::Level::Msg),
            _ => {
                eprintln!(
                    "[CHMPX-ERR] chmpxconftest : Wrong parameter value \"-d\"(\"-g\") {mode}."
                );
                exit(1);
            }
        };
    }
    let check_update = !opts.find("no_check_update");
    if opts.find("print_default") {
        print_defaults();
        exit(0);
    }
    let config = opts
        .get_any(&["conf", "f"])
        .or_else(|| opts.get("json"))
        .unwrap_or_default();
    let source = match ConfSource::detect(&config, true) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("[CHMPX-ERR] chmpxconftest : Could not build configuration object: {e}");
            exit(1);
        }
    };
    let loaded = load_and_print(&source);
    if !check_update {
        exit(if loaded { 0 } else { 1 });
    }
    let Some(path) = source.file() else {
        // A JSON string cannot change: nothing to watch.
        exit(if loaded { 0 } else { 1 });
    };
    let mut watch = match ConfWatch::new(&path) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("[CHMPX-ERR] chmpxconftest : Failed to set eventfd for inotify: {e}");
            exit(1);
        }
    };
    println!();
    println!("->Start to watch configuratin file updating...");
    println!(" (Input \"^C\" to stop)");
    loop {
        let mut fds = [nix::poll::PollFd::new(
            watch.fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        match nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(1000u16)) {
            Ok(n) if n > 0 => {
                if watch.changed() {
                    load_and_print(&source);
                }
            }
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                eprintln!("[CHMPX-ERR] chmpxconftest : poll: {e}");
                exit(1);
            }
        }
    }
}
