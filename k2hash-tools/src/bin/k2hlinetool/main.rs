//! k2hlinetool: the interactive shell over a k2hash file or memory, with the original's command
//! line, commands and output texts.
mod cmds;

use k2hash::capi::ffi;
use k2hash::capi::types::k2h_h;
use k2hash::K2h;
use k2htools::shell::Console;
use k2htools::{atoi, opt, prn, OptType};
use std::ffi::CString;
use std::io::Write;
use std::sync::Arc;

const EXEC_OPTS: &[OptType] = &[
    opt("-h", "-h", 0, 0),
    opt("-f", "-f", 1, 1),
    opt("-t", "-t", 1, 1),
    opt("-m", "-m", 0, 0),
    opt("-mask", "-mask", 1, 1),
    opt("-cmask", "-cmask", 1, 1),
    opt("-elementcnt", "-elementcnt", 1, 1),
    opt("-pagesize", "-pagesize", 1, 1),
    opt("-fullmap", "-fullmap", 0, 0),
    opt("-ext", "-ext", 1, 1),
    opt("-trlib", "-trlib", 1, 1),
    opt("-ro", "-ro", 0, 0),
    opt("-init", "-init", 0, 0),
    opt("-lap", "-lap", 0, 0),
    opt("-capi", "-capi", 0, 0),
    opt("-g", "-g", 0, 1),
    opt("-glog", "-glog", 1, 1),
    opt("-his", "-his", 1, 1),
    opt("-libversion", "-libversion", 0, 0),
    opt("-run", "-run", 1, 1),
];

/// The store the commands work on: a C API handle and its object, or nothing (the original
/// runs a `-capi -run` file against an object it never attached; every command then fails).
pub struct Store {
    pub h: k2h_h,
    pub k: Option<Arc<K2h>>,
}

impl Store {
    pub fn detached() -> Store {
        Store { h: 0, k: None }
    }
}

fn help(prog: &str) {
    let lines = [
        "",
        &format!("Usage: {prog} [options] [ -f filename | -t filename | -m | -h ]"),
        "",
        "Option -h                   help display",
        "       -f <filename>        mode by filename for permanent hash file",
        "       -t <filename>        mode by filename for temporary hash file",
        "       -m                   mode for only memory",
        "       -mask <bit count>    bit mask count for hash(*1)",
        "       -cmask <bit count>   collision bit mask count(*1)",
        "       -elementcnt <count>  element count for each hash table(*1)",
        "       -pagesize <number>   pagesize for each data",
        "       -fullmap             full mapping",
        "       -ext <library path>  extension library for hash function",
        "       -trlib <lib path>    extension transaction library",
        "       -ro                  read only mode(only permanent hash file)",
        "       -init                only initialize permanent hash file",
        "       -lap                 print lap time after line command",
        "       -capi                use C API for calling internal library",
        "       -g <debug level>     debugging mode: ERR(default) / WAN / INFO(*2)",
        "       -glog <file path>    output file for debugging message(default stderr)(*3)",
        "       -his <count>         set history count(default 500)",
        "       -libversion          display k2hash library version",
        "       -run <file path>     run command(history) file.",
        "",
        "(*1)These option(value) is for debugging about extending hash area.",
        "    Usually, you don't need to specify these.",
        "(*2)You can set debug level by another way which is setting environment as \"K2HDBGMODE\".",
        "    \"K2HDBGMODE\" environment is took as \"SILENT\", \"ERR\", \"WAN\" or \"INFO\" value.",
        "    When this process gets SIGUSR1 signal, the debug level is bumpup.",
        "    The debug level is changed as \"SILENT\"->\"ERR\"->\"WAN\"->\"INFO\"->...",
        "(*3)You can set debugging message log file by the environment. \"K2HDBGFILE\".",
        "(*4)For setting builtin attribute, you can specify following environments.",
        "    \"K2HATTR_MTIME\", \"K2HATTR_HISTORY\", \"K2HATTR_EXPIRE_SEC\", \"K2HATTR_DEFENC\", \"K2HATTR_ENCFILE\"",
        "",
    ];
    for l in lines {
        prn(l);
    }
}

fn fail(msg: &str) -> ! {
    k2htools::die(msg, 1)
}

fn cpath(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|_| fail(&format!("Path({s}) contains a NUL byte.")))
}

fn main() {
    let (prog, opts) = k2htools::args_or_help("k2hlinetool", EXEC_OPTS, help);
    if opts.contains_key("-h") {
        help(&prog);
        std::process::exit(0);
    }
    if opts.contains_key("-libversion") {
        print!("{}", k2hash::capi::dumpfn::version_text());
        let _ = std::io::stdout().flush();
        std::process::exit(0);
    }
    let capi = opts.contains_key("-capi");
    let (path, temp, memory, mut fullmap) = if let Some(f) = opts.get("-f") {
        if opts.contains_key("-m") || opts.contains_key("-t") {
            fail("Option \"-f\" can not be specified with \"-t\" and \"-m\" option.");
        }
        (f[0].clone(), false, false, false)
    } else if let Some(t) = opts.get("-t") {
        if opts.contains_key("-m") {
            fail("Option \"-t\" can not be specified with \"-f\" and \"-m\" option.");
        }
        (t[0].clone(), true, false, true)
    } else if opts.contains_key("-m") {
        (String::new(), false, true, true)
    } else {
        fail("Must specify \"-f\" or \"-t\", \"-m\" option.");
    };
    if opts.contains_key("-fullmap") {
        fullmap = true;
    }
    let readonly = opts.contains_key("-ro");
    if readonly && memory {
        fail("Option \"-ro\" can not be specified with \"-m\", must use only with \"-f\" or \"-t\" option.");
    }
    let init = opts.contains_key("-init");
    if init && (temp || memory) {
        fail("Option \"-init\" can not be specified with \"-t\" and \"-m\", must use only with \"-f\" option.");
    }
    if init && readonly {
        fail("Option \"-init\" can not be specified with \"-ro\" option.");
    }
    let mut con = Console::new();
    con.lap = opts.contains_key("-lap");
    if let Some(h) = opts.get("-his") {
        con.max = atoi(&h[0]).max(0) as usize;
    }
    let num = |o: &str, d: i32| opts.get(o).map(|v| atoi(&v[0]) as i32).unwrap_or(d);
    let mask = num("-mask", 8);
    let cmask = num("-cmask", 4);
    let maxel = num("-elementcnt", 32);
    let pagesize = num("-pagesize", 128);
    if pagesize < 128 {
        fail(&format!(
            "Option \"-pagesize\" parameter({pagesize}) is under minimum pagesize(128)."
        ));
    }
    if let Some(e) = opts.get("-ext") {
        if !k2hash::capi::trans::k2h_load_hash_library(cpath(&e[0]).as_ptr()) {
            fail(&format!("Failed to load library({}).", e[0]));
        }
    }
    if let Some(e) = opts.get("-trlib") {
        if !k2hash::capi::trans::k2h_load_transaction_library(cpath(&e[0]).as_ptr()) {
            fail(&format!("Failed to load transaction library({}).", e[0]));
        }
    }
    if let Some(g) = opts.get("-g") {
        match g.first().map(|s| s.to_ascii_uppercase()).as_deref() {
            None => {}
            Some("ERR") => k2hash::capi::debug::k2h_set_debug_level_error(),
            Some("WAN") => k2hash::capi::debug::k2h_set_debug_level_warning(),
            Some("INFO") => k2hash::capi::debug::k2h_set_debug_level_message(),
            Some(_) => fail(&format!(
                "Unknown parameter({}) value for \"-g\" option.",
                g[0]
            )),
        }
    }
    if !k2hash::capi::debug::k2h_set_bumpup_debug_signal_user1() {
        fail("Failed to set SIGUSR1 handler for bumpup debug level.");
    }
    if let Some(g) = opts.get("-glog") {
        if !k2hash::capi::debug::k2h_set_debug_file(cpath(&g[0]).as_ptr()) {
            fail(&format!("Failed to set debug message log file({}).", g[0]));
        }
    }
    let run = opts.get("-run").map(|r| r[0].clone());
    if let Some(r) = &run {
        if std::fs::metadata(r).is_err() {
            fail(&format!(
                "Parameter command file path({r}) for option \"-run\" does not exist(errno={}).",
                std::io::Error::last_os_error().raw_os_error().unwrap_or(2)
            ));
        }
    }

    prn("-------------------------------------------------------");
    prn(" K2HASH TOOL");
    prn("-------------------------------------------------------");
    if !temp && !memory {
        if readonly {
            prn(&format!("Permanent file(read only attached):     {path}"));
        } else {
            prn(&format!("Permanent file:                         {path}"));
        }
    } else if temp {
        prn(&format!("Temporary file:                         {path}"));
    } else {
        prn("On memory mode");
    }
    prn("Attached parameters:");
    prn(&format!(
        "    Full are mapping:                   {fullmap}"
    ));
    prn(&format!("    Key Index mask count:               {mask}"));
    prn(&format!("    Collision Key Index mask count:     {cmask}"));
    prn(&format!("    Max element count:                  {maxel}"));
    if let Some(e) = opts.get("-ext") {
        prn(&format!("Extra hash function library:            {}", e[0]));
    }
    if let Some(e) = opts.get("-trlib") {
        prn(&format!("Extra Transaction  function library:    {}", e[0]));
    }
    prn("-------------------------------------------------------");
    prn("");

    if init {
        let p = cpath(&path);
        if !k2hash::capi::open::k2h_create(p.as_ptr(), mask, cmask, maxel, pagesize as usize) {
            fail(&format!("Could not initialize permanent file({path})."));
        }
        prn(&format!(
            "Permanent file({path}) is completely initialized."
        ));
        prn("");
        return;
    }

    if !memory && !temp && !readonly && std::fs::metadata(&path).is_err() {
        let p = cpath(&path);
        if !k2hash::capi::open::k2h_create(p.as_ptr(), mask, cmask, maxel, pagesize as usize) {
            fail(&format!(
                "File({path}) does not exist, so create it, but could not initialize permanent file."
            ));
        }
    }
    let p = if memory { None } else { Some(cpath(&path)) };
    let h = k2hash::capi::open::k2h_open(
        p.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
        readonly,
        temp,
        fullmap,
        mask,
        cmask,
        maxel,
        pagesize as usize,
    );
    let Some(k) = (h != 0).then(|| ffi::handle("k2hlinetool", h)).flatten() else {
        fail(&format!(
            "Failed to attach {}.",
            if memory { "memory" } else { "file" }
        ));
    };
    let store = Store { h, k: Some(k) };

    let mut go_on = true;
    if let Some(r) = run {
        // The original runs the start-up file of `-capi` against an object it never attached
        // (its handle is only used by the interactive loop); kept so transcripts compare.
        let detached = Store::detached();
        let target = if capi { &detached } else { &store };
        let mut exit = false;
        go_on = cmds::handle(target, &mut con, &format!("load {r}"), &mut exit) && !exit;
    }
    while go_on {
        let Some(line) = con.read("K2HTOOL> ") else {
            break;
        };
        go_on = cmds::interactive(&store, &mut con, &line);
    }
    drop(store);
    k2hash::capi::trans::k2h_unload_hash_library();
    if !k2hash::capi::open::k2h_close(h) {
        fail(&format!(
            "Failed to detach {}.",
            if memory { "memory" } else { "file" }
        ));
    }
}
