//! k2hdkclinetool: the interactive (or batch, `-run`) tool of a K2HDKC cluster, through the
//! chmpx slave of this host, with the original's options, commands and output texts
//! (spec §5). `-capi` sends every request through the C API of libk2hdkc, otherwise through
//! its Rust API; `-perm` keeps one session for the whole run, otherwise each request opens
//! its own.
mod api;
mod cmds;
mod cmem;
mod libdbg;
mod out;
mod status;

use std::ffi::CString;

use k2hdkc::capi::session::{self as sess, Session};
use k2htools::shell::Console;
use k2htools::{atoi, opt, OptType};

use api::{CApi, Direct, Dkc, Target};
use cmds::Ctx;
use libdbg::Level;
use out::{err, prn};

const EXEC_OPTS: &[OptType] = &[
    opt("-help", "-help", 0, 0),
    opt("-h", "-help", 0, 0),
    opt("-conf", "-conf", 1, 1),
    opt("-json", "-json", 1, 1),
    opt("-ctlport", "-ctlport", 1, 1),
    opt("-cntlport", "-ctlport", 1, 1),
    opt("-cntrlport", "-ctlport", 1, 1),
    opt("-cuk", "-cuk", 1, 1),
    opt("-lap", "-lap", 0, 0),
    opt("-capi", "-capi", 0, 0),
    opt("-perm", "-permanent", 0, 0),
    opt("-permanent", "-permanent", 0, 0),
    opt("-rejoin", "-rejoin", 0, 0),
    opt("-nogiveup", "-nogiveup", 0, 0),
    opt("-nocleanup", "-nocleanup", 0, 0),
    opt("-comlog", "-comlog", 1, 1),
    opt("-d", "-d", 1, 1),
    opt("-g", "-d", 1, 1),
    opt("-dfile", "-dfile", 1, 1),
    opt("-glog", "-dfile", 1, 1),
    opt("-history", "-history", 1, 1),
    opt("-his", "-history", 1, 1),
    opt("-libversion", "-libversion", 0, 0),
    opt("-run", "-run", 1, 1),
];

fn help(prog: &str) {
    let lines = [
        String::new(),
        format!("Usage: {prog} [-conf <file> | -json <string>] [-ctlport <port>] [-cuk <cuk string>] [options...]"),
        format!("       {prog} -help"),
        String::new(),
    ];
    let rest = [
        "Option -help(h)           help display",
        "       -conf <filename>   k2hdkc configuration file path(.ini .yaml .json)",
        "       -json <string>     k2hdkc configuration by json string",
        "       -ctlport <port>    slave node chmpx control port",
        "       -cuk <cuk string>  slave node chmpx cuk string",
        "       -lap               print lap time after line command",
        "       -capi              use C API for calling internal library",
        "       -perm              use permanent chmpx handle",
        "       -rejoin            chmpx auto rejoin if disconnect",
        "       -nogiveup          no give up auto rejoin",
        "       -nocleanup         not cleanup backup chmpx files",
        "       -comlog [on | off] enable/disable communication command for debug",
        "       -d <debug level>   print debugging message mode: SILENT(SLT)/ERROR(ERR)/WARNING(WAN)/INFO(MSG)/DUMP(DMP)",
        "       -dfile <file path> output file for debugging message(default stderr)",
        "       -his <count>       set history count(default 500)",
        "       -libversion        display k2hdkc library version",
        "       -run <file path>   run command(history) file.",
        "",
        "(*) You can specify \"K2HDKCCONFFILE\" or \"K2HDKCJSONCONF\" environment instead of",
        "    \"-conf\" or \"-json\" option for configuration.",
        "(*) You can set debug level by another way which is setting environment as \"DKCDBGMODE\".",
        "    \"DKCDBGMODE\" environment is took as \"SILENT(SLT)\", \"ERROR(ERR)\", \"WARNING(WAN)\",",
        "    \"INFO(MSG)\" or \"DUMP(DMP)\" value.",
        "    When this process gets SIGUSR1 signal, the debug level is bumpup.",
        "    (The debug level is changed as \"SLT\"->\"ERR\"->\"WAN\"->\"MSG\"->\"DMP\"->...)",
        "(*) You can set debugging message log file by the environment \"DKCDBGFILE\".",
        "",
    ];
    lines.iter().for_each(|l| prn(l));
    rest.iter().for_each(|l| prn(l));
}

fn fail(msg: &str) -> ! {
    k2htools::die(msg, 1)
}

/// The configuration from the environment when no option names one (file first).
fn env_config() -> Option<String> {
    ["K2HDKCCONFFILE", "K2HDKCJSONCONF"]
        .iter()
        .filter_map(|n| std::env::var(n).ok())
        .find(|v| !v.is_empty())
}

fn main() {
    let (prog, opts) = k2htools::args_or_help("k2hdkclinetool", EXEC_OPTS, help);
    let first = |k: &str| opts.get(k).and_then(|v| v.first()).cloned();
    let capi = opts.contains_key("-capi");
    libdbg::use_capi(capi);
    let dfile = first("-dfile");
    if let Some(f) = &dfile {
        if !libdbg::set_file(f) {
            fail(&format!("Failed to set debug message log file({f})."));
        }
    }
    if let Some(d) = first("-d") {
        let Some(l) = Level::parse(&d) else {
            fail(&format!("Unknown parameter({d}) value for \"-d\" option."));
        };
        libdbg::set_level(l);
        out::set_levels(
            matches!(l, Level::Msg | Level::Dump),
            matches!(l, Level::Wan | Level::Msg | Level::Dump),
        );
    }
    if opts.contains_key("-help") {
        help(&prog);
        std::process::exit(0);
    }
    if opts.contains_key("-libversion") {
        k2hdkc::capi::debug::k2hdkc_print_version(std::ptr::null_mut());
        std::process::exit(0);
    }
    let mut conf = first("-conf")
        .or_else(|| first("-json"))
        .unwrap_or_default();
    let ctlport = first("-ctlport").map_or(-1, |p| atoi(&p) as i16);
    let cuk = first("-cuk").filter(|c| !c.is_empty());
    let perm = opts.contains_key("-permanent");
    let rejoin = opts.contains_key("-rejoin");
    let nogiveup = opts.contains_key("-nogiveup");
    let cleanup = !opts.contains_key("-nocleanup");
    let mut comlog = false;
    if let Some(c) = first("-comlog") {
        if ["on", "yes", "y"].iter().any(|w| c.eq_ignore_ascii_case(w)) {
            comlog = true;
        } else if !["off", "no", "n"].iter().any(|w| c.eq_ignore_ascii_case(w)) {
            fail(&format!(
                "Unknown parameter({c}) value for \"-comlog\" option."
            ));
        }
    }
    libdbg::set_comlog(comlog);
    let lap = opts.contains_key("-lap");
    let mut con = Console::new();
    if let Some(h) = first("-history") {
        let n = atoi(&h);
        if n != 0 {
            con.max = n as usize;
        }
    }
    let run = first("-run");
    if let Some(r) = &run {
        if let Err(e) = std::fs::metadata(r) {
            fail(&format!(
                "Parameter command file path({r}) for option \"-run\" does not exist(errno={}).",
                e.raw_os_error().unwrap_or(2)
            ));
        }
    }
    if conf.is_empty() {
        match env_config() {
            Some(c) => conf = c,
            None => fail("Must specify \"-conf\" or \"-json\" option."),
        }
    }

    let target = Target {
        conf: conf.clone(),
        ctlport,
        cuk: cuk.clone(),
        rejoin,
        nogiveup,
    };
    let api: Box<dyn Dkc> = if capi {
        let mut handle = 0;
        if perm {
            let c = CString::new(conf.as_str()).unwrap_or_default();
            let k = cuk.as_deref().and_then(|k| CString::new(k).ok());
            handle = sess::k2hdkc_open_chmpx_full(
                c.as_ptr(),
                ctlport,
                k.as_ref().map_or(std::ptr::null(), |k| k.as_ptr()),
                rejoin,
                nogiveup,
                cleanup,
            );
            if handle == 0 {
                fail("Could not open(join and open msgid) slave node chmpx.");
            }
        }
        Box::new(CApi::new(&target, handle))
    } else {
        let mut session = None;
        if perm {
            session = Session::connect(&conf, ctlport, cuk.as_deref(), rejoin);
            if session.is_none() {
                fail("Could not join slave node chmpx.");
            }
        }
        Box::new(Direct::new(target, session))
    };
    let mut ctx = Ctx {
        api,
        con,
        conf: conf.clone(),
        ctlport,
    };

    let mut go_on = true;
    if let Some(r) = run {
        // with a command file the banner is never printed
        let mut exit = false;
        go_on = cmds::handle(&mut ctx, &format!("load {r}"), &mut exit) && !exit;
    } else {
        banner(
            &ctx,
            capi,
            lap,
            dfile.as_deref(),
            perm,
            rejoin,
            nogiveup,
            cleanup,
            cuk.as_deref(),
        );
    }
    while go_on {
        let Some(line) = ctx.con.read("K2HDKC> ") else {
            break;
        };
        go_on = cmds::interactive(&mut ctx, &line);
    }
    if !ctx.api.close(cleanup) {
        err(if capi {
            "Could not close(leave and close msgid) slave node chmpx, but continue for cleanup..."
        } else {
            "Could not close msgid on slave node chmpx, but continue for cleanup..."
        });
    }
    std::process::exit(0);
}

#[allow(clippy::too_many_arguments)]
fn banner(
    ctx: &Ctx,
    capi: bool,
    lap: bool,
    dfile: Option<&str>,
    perm: bool,
    rejoin: bool,
    nogiveup: bool,
    cleanup: bool,
    cuk: Option<&str>,
) {
    let yn = |b: bool| if b { "yes" } else { "no" };
    let lines = [
        "-------------------------------------------------------".to_string(),
        " K2HDKC LINE TOOL".into(),
        "-------------------------------------------------------".into(),
        format!(
            "K2HDKC library version          : {}",
            env!("CARGO_PKG_VERSION")
        ),
        format!(
            "K2HDKC API                      : {}",
            if capi { "C" } else { "C++" }
        ),
        format!("Communication log mode          : {}", yn(libdbg::comlog())),
        format!(
            "Debug mode                      : {}",
            libdbg::level().full()
        ),
        format!("Debug log file                  : {}", libdbg::file(dfile)),
        format!("Print command lap time          : {}", yn(lap)),
        format!("Command line history count      : {}", ctx.con.max),
        "Chmpx parameters:".into(),
        format!("    Configuration               : {}", ctx.conf),
        format!("    Control port                : {}", ctx.ctlport.max(0)),
        format!(
            "    CUK                         : {}",
            cuk.unwrap_or_default()
        ),
        format!("    Permanent connect           : {}", yn(perm)),
        format!("    Auto rejoin                 : {}", yn(rejoin)),
        format!("    Join giveup                 : {}", yn(nogiveup)),
        format!("    Cleanup backup files        : {}", yn(cleanup)),
        "-------------------------------------------------------".into(),
    ];
    lines.iter().for_each(|l| prn(l));
}
