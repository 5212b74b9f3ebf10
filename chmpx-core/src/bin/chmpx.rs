//! chmpx: the cluster fabric process, server or slave mode, same command line as the original.

use std::process::exit;

use chmpx_core::config::{source::have_env_conf, ConfSource, SelfIdentity};
use chmpx_core::opts::Opts;
use chmpx_core::server::Server;
use chmpx_core::{ctl, dbg};

fn usage(prg: &str) {
    println!("[Usage]");
    println!("{prg} [-conf <file> | -json <json>] [-ctlport <port>] [-cuk <cuk>] [-d [silent|err|wan|msg|dump]] [-dfile <debug file path>]");
    println!("{prg} [ -h | -v ]");
    println!();
    println!("[option]");
    println!("  -conf <path>         specify the configuration file(.ini .yaml .json) path");
    println!("  -json <json string>  specify the configuration json string");
    println!("  -ctlport <port>      specify the self control port(*)");
    println!("  -cuk <cuk>           specify the self CUK string");
    println!("  -d <param>           specify the debugging output mode:");
    println!("                        silent - no output");
    println!("                        err    - output error level");
    println!("                        wan    - output warning level");
    println!("                        msg    - output debug(message) level");
    println!("                        dump   - output communication debug level");
    println!("  -dfile <path>        specify the file path which is put debug output");
    println!("  -h(help)             display this usage.");
    println!("  -v(version)          display version.");
    println!();
    println!("[environments]");
    println!("  CHMDBGMODE           debugging mode like \"-d\" option.");
    println!("  CHMDBGFILE           the file path for debugging output like \"-dfile\" option.");
    println!("  CHMCONFFILE          configuration file path like \"-conf\" option");
    println!("  CHMJSONCONF          configuration json string like \"-json\" option");
    println!();
    println!("(*) if ctlport option is specified, chmpx searches same ctlport in configuration");
    println!("    file and ignores \"CTLPORT\" directive in \"GLOBAL\" section. and chmpx will");
    println!("    start in the mode indicated by the server entry that has been detected.");
    println!();
}

fn raise_nofile() {
    if let Ok((soft, hard)) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
    {
        if soft < hard
            && nix::sys::resource::setrlimit(
                nix::sys::resource::Resource::RLIMIT_NOFILE,
                hard,
                hard,
            )
            .is_err()
        {
            println!("ERROR: Could not set RLIMIT_NOFILE from {soft} to {hard}, but continue...");
        }
    }
}

fn main() {
    let mut args = std::env::args();
    let prg = args.next().unwrap_or_default();
    let prg = std::path::Path::new(&prg)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("chmpx")
        .to_string();
    raise_nofile();
    let opts = Opts::parse(args);
    if opts.find_any(&["h", "help"]) {
        usage(&prg);
        exit(0);
    }
    if opts.find_any(&["v", "ver", "version"]) {
        print!("{}", ctl::version_banner());
        exit(0);
    }
    let config = opts.get_any(&["conf", "f", "json"]);
    if config.is_none() && !have_env_conf() {
        println!("ERROR: Must specify option \"-conf\" or \"-json\"");
        usage(&prg);
        exit(1);
    }
    let mut who = SelfIdentity::default();
    if let Some(p) = opts.get_any(&["ctlport", "cntlport", "cntrlport"]) {
        let port = chmpx_core::config::hosts::parse_atoi(&p) as i16;
        if port == -1 || port == 0 {
            println!("ERROR: option \"-ctlport\" is specified with invalid value.");
            exit(1);
        }
        who.ctlport = Some(port);
    }
    who.cuk = opts.get("cuk");
    dbg::init();
    if let Some(mode) = opts.get_any(&["d", "g"]) {
        if mode.is_empty() {
            println!("ERROR: \"-d\" option must be specified with parameter.");
            usage(&prg);
            exit(1);
        }
        match dbg::Level::parse_option(&mode) {
            Some(l) if !mode.eq_ignore_ascii_case("INF") && !mode.eq_ignore_ascii_case("DMP") => {
                dbg::set_level(l);
            }
            _ => {
                println!(
                    "ERROR: Unknown \"-d\" option parameter({}) is specified.",
                    mode.to_ascii_uppercase()
                );
                usage(&prg);
                exit(1);
            }
        }
    }
    if let Some(f) = opts.get_any(&["dfile", "gfile"]) {
        if !f.is_empty() && !dbg::set_file(&f) {
            println!("WARNING: Something error occured while dispatching debugging file({f}).");
        }
    }
    let source = ConfSource::detect(&config.unwrap_or_default(), true);
    let mut server = match source
        .map_err(|e| e.to_string())
        .and_then(|src| Server::new(src, who))
    {
        Ok(s) => s,
        Err(e) => not_initialized(&e),
    };
    if opts.find("allowselfcert") {
        server.allow_self_cert();
    }
    println!("{}", ctl::startup_text(server.node()));
    if let Err(e) = server.run() {
        println!("ERROR: Something error occured in main event loop.");
        eprintln!("[CHMPX-ERR] chmpx : {e}");
        exit(1);
    }
}

/// The original's answer to a process that cannot start (its two lines on standard output),
/// and what went wrong on standard error.
fn not_initialized(e: &dyn std::fmt::Display) -> ! {
    println!("ERROR: Could not initialize process.");
    println!("You can see detail about error, execute with \"-d\" option.");
    eprintln!("[CHMPX-ERR] chmpx : {e}");
    exit(1);
}
