//! The shell's commands. Output texts (stdout) follow the original tool; failures are reported
//! on stderr as `[ERR] ...` and the shell goes on.
use crate::Store;
use k2hash::archive;
use k2hash::capi::{daccess as da, trans as tr};
use k2hash::dump;
use k2hash::queue::{Queue, Trial};
use k2hash::replicate::{self, RawElement, ScanFilter};
use k2hash::{K2h, Protect};
use k2htools::shell::{self, Console, Lap};
use k2htools::{atoi, binary_dump, cbuf, cstr, err, opt, out, printable, prn, OptType};
use std::ffi::CString;

mod queue;
use queue::queue_cmd;

const LINE_OPTS: &[OptType] = &[
    opt("help", "help", 0, 0),
    opt("h", "help", 0, 0),
    opt("quit", "quit", 0, 0),
    opt("q", "quit", 0, 0),
    opt("exit", "quit", 0, 0),
    opt("info", "info", 0, 1),
    opt("i", "info", 0, 1),
    opt("dump", "dump", 0, 1),
    opt("d", "dump", 0, 1),
    opt("set", "set", 2, 4),
    opt("s", "set", 2, 4),
    opt("settrial", "settrial", 1, 2),
    opt("st", "settrial", 1, 2),
    opt("setsub", "setsub", 3, 3),
    opt("directset", "directset", 3, 3),
    opt("dset", "directset", 3, 3),
    opt("setf", "setf", 3, 3),
    opt("sf", "setf", 3, 3),
    opt("fill", "fill", 3, 3),
    opt("f", "fill", 3, 3),
    opt("fillsub", "fillsub", 4, 4),
    opt("rm", "rm", 1, 2),
    opt("rmsub", "rmsub", 2, 2),
    opt("rename", "rename", 2, 2),
    opt("ren", "rename", 2, 2),
    opt("print", "print", 1, 3),
    opt("p", "print", 1, 3),
    opt("printattr", "printattr", 1, 1),
    opt("pa", "printattr", 1, 1),
    opt("addattr", "addattr", 2, 3),
    opt("aa", "addattr", 2, 3),
    opt("directprint", "directprint", 3, 3),
    opt("dp", "directprint", 3, 3),
    opt("directsave", "directsave", 2, 2),
    opt("dsave", "directsave", 2, 2),
    opt("directload", "directload", 1, 2),
    opt("dload", "directload", 1, 2),
    opt("copyfile", "copyfile", 3, 3),
    opt("cf", "copyfile", 3, 3),
    opt("list", "list", 0, 1),
    opt("l", "list", 0, 1),
    opt("stream", "stream", 2, 2),
    opt("str", "stream", 2, 2),
    opt("history", "history", 0, 0),
    opt("his", "history", 0, 0),
    opt("save", "save", 1, 1),
    opt("load", "load", 1, 1),
    opt("trans", "trans", 1, 5),
    opt("tr", "trans", 1, 5),
    opt("threadpool", "threadpool", 0, 1),
    opt("pool", "threadpool", 0, 1),
    opt("archive", "archive", 2, 2),
    opt("ar", "archive", 2, 2),
    opt("shell", "shell", 0, 0),
    opt("queue", "queue", 1, 6),
    opt("que", "queue", 1, 6),
    opt("keyqueue", "keyqueue", 1, 7),
    opt("kque", "keyqueue", 1, 7),
    opt("builtinattr", "builtinattr", 0, 6),
    opt("ba", "builtinattr", 0, 6),
    opt("loadpluginattr", "loadpluginattr", 1, 1),
    opt("lpa", "loadpluginattr", 1, 1),
    opt("addpassphrase", "addpassphrase", 1, 2),
    opt("app", "addpassphrase", 1, 2),
    opt("cleanallattr", "cleanallattr", 0, 0),
    opt("caa", "cleanallattr", 0, 0),
    opt("sh", "shell", 0, 0),
    opt("echo", "echo", 1, 9999),
    opt("sleep", "sleep", 1, 1),
];

const HELP: &[&str] = &[
    "",
    "Command: [command] [parameters...]",
    "",
    "help(h)                                                      print help",
    "quit(q)/exit                                                 quit",
    "info(i) [state]                                              print k2hash file/memory information and with state",
    "dump(d) <parameter>                                          dump k2hash, parameter: head(default) / kindex / ckindex / element / full",
    "set(s) <key> <value> [rmsub] [pass=....] [expire=sec]        set key-value, if rmsub is specified, remove all subkey under key. if value is \"null\", it means no value.",
    "settrial(st) <key> [pass=....]                               set key-value if key is not existed.",
    "setsub <parent key> <key> <value>                            set key-value under parent key. if value is \"null\", it means no value.",
    "directset(dset) <key> <value> <offset>                       set value from offset directly.",
    "setf(sf) <key> <offset> <file>                               set directly key-value from file.",
    "fill(f) <prefix> <value> <count>                             set key-value by prefix repeating by count",
    "fillsub <parent> <prefix> <val> <cnt>                        set key-value under parent key by prefix repeating by count",
    "rm <key> [all]                                               remove key, if all parameter is specified, remove all sub key under key",
    "rmsub <parent key> <key>                                     remove key under parent key",
    "rename(ren) <key> <new key>                                  rename key to new key name",
    "print(p) <key> [all] [noattrcheck] [pass=....]               print value/subkeys by key, if all parameter is specified, print nesting sub keys",
    "printattr(pa) <key>                                          print attribute by key.",
    "addattr(aa) <key> <attr name> <attr value>                   add attribute to key.",
    "directprint(dp) <key> <length> <offset>                      print value from offset and length directly.",
    "directsave(dsave) <start hash> <file path>                   save element binary data to file by hash value",
    "directload(dload) <file path> [unixtime]                     load element by binary data from file",
    "copyfile(cf) <key> <offset> <file>                           output directly key-value to file.",
    "list(l) <key>                                                dump existed key list",
    "stream(str) <key> < input | output>                          stream test by interactive.",
    "history(his)                                                 display all history, you can use a command line in history by \"!<number>\".",
    "save <file path>                                             save history to file.",
    "load <file path>                                             load and run command file.",
    "trans(tr) <on [filename [prefix [param]]] | off> [expire=sec]",
    "                                                             disable/enable transaction.",
    "threadpool(pool) [number]                                    set/display thread pool count for transaction, 0 means no thread pool.",
    "archive(ar) <put | load> <filename>                          put/load archive(transaction) file.",
    "queue(que) [prefix] empty                                    check queue is empty",
    "queue(que) [prefix] count                                    get data count in queue",
    "queue(que) [prefix] read <fifo | lifo> <pos> [pass=...]      read the value from queue at position",
    "queue(que) [prefix] push <fifo | lifo> <value> [pass=....] [expire=sec]",
    "                                                             push the value to queue(fifo/lifo)",
    "queue(que) [prefix] pop <fifo | lifo> [pass=...]             pop the value from queue",
    "queue(que) [prefix] dump <fifo | lifo>                       dump queue",
    "queue(que) [prefix] remove(rm) <fifo | lifo> <count> [c] [pass=...]",
    "                                                             remove count of values in queue",
    "keyqueue(kque) [prefix] empty                                check keyqueue is empty",
    "keyqueue(kque) [prefix] count                                get data count in keyqueue",
    "keyqueue(kque) [prefix] read <fifo | lifo> <pos> [pass=...]  read the value from keyqueue at position",
    "keyqueue(kque) [prefix] push <fifo | lifo> <key> <value> [pass=....] [expire=sec]",
    "                                                             push the key name to queue(fifo/lifo) and key-value into k2hash",
    "keyqueue(kque) [prefix] pop <fifo | lifo> [pass=...]         pop the key-value from queue and remove key-value from k2hash",
    "keyqueue(kque) [prefix] dump <fifo | lifo>                   dump queue(as same as queue command)",
    "keyqueue(kque) [prefix] remove(rm) <fifo | lifo> <count> [c] [pass=...]",
    "                                                             remove count of key-name in queue and remove those from k2hash",
    "builtinattr(ba) [mtime] [history] [expire=second] [enc] [pass=file path]",
    "                                                             set builtin attribute.",
    "loadpluginattr(lpa) filepath                                 load plugin attribute library.",
    "addpassphrase(app) <pass phrase> [default]                   add pass phrase for crypt into builtin attribute.",
    "cleanallattr(caa)                                            clear all attribute setting.",
    "shell                                                        exit shell(same as \"!\" command).",
    "echo <string>...                                             echo string",
    "sleep <second>                                               sleep seconds",
    "",
];

type P = [String];

use k2htools::{out_raw, with_nul};

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `name=value` parameter (case-insensitive name); the value.
fn kv<'a>(p: &'a str, name: &str) -> Option<&'a str> {
    (p.len() >= name.len() && p[..name.len()].eq_ignore_ascii_case(name)).then(|| &p[name.len()..])
}

fn cs(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// One line typed at the prompt, `!`-history forms included. False ends the shell.
pub fn interactive(st: &Store, con: &mut Console, line: &str) -> bool {
    let mut exit = false;
    if let Some(rest) = line.strip_prefix('!') {
        return match con.recall(rest) {
            Some(cmd) => handle(st, con, &cmd, &mut exit) && !exit,
            None => true,
        };
    }
    handle(st, con, line, &mut exit) && !exit
}

/// Run one command line. False on a fatal error; `exit` set by quit.
pub fn handle(st: &Store, con: &mut Console, line: &str, exit: &mut bool) -> bool {
    *exit = false;
    let Some((name, params)) = shell::parse_line(line, LINE_OPTS) else {
        return true;
    };
    let mut params = params;
    let k = st.k.as_deref();
    let _lap = match name.as_str() {
        "help" | "quit" | "history" | "save" | "load" | "trans" | "threadpool" | "archive"
        | "queue" | "keyqueue" | "builtinattr" | "loadpluginattr" | "addpassphrase"
        | "cleanallattr" | "shell" | "echo" | "sleep" => None,
        _ => Some(Lap::new(con)),
    };
    match name.as_str() {
        "help" => HELP.iter().for_each(|l| prn(l)),
        "quit" => {
            prn("Quit & Detach.");
            *exit = true;
        }
        "info" => info(st, &params),
        "dump" => dump_cmd(k, &params),
        "set" => set(k, &params),
        "settrial" => settrial(k, &params),
        "setsub" => setsub(k, &params),
        "directset" => dset(st, &params),
        "setf" => setf(st, &params),
        "fill" => fill(k, &params),
        "fillsub" => fillsub(k, &params),
        "rm" => rm(k, &params),
        "rmsub" => rmsub(k, &params),
        "rename" => rename(k, &params),
        "print" => print(k, &params),
        "printattr" => printattr(k, &params),
        "addattr" => addattr(k, &params),
        "directprint" => dprint(st, &params),
        "directsave" => dsave(k, &params),
        "directload" => dload(k, &params),
        "copyfile" => copyfile(st, &params),
        "list" => list(k, &params, ""),
        "stream" => return stream(st, con, &params),
        "history" => con.print_history(),
        "save" => con.save(&params[0]),
        "load" => return load(st, con, &params, exit),
        "trans" => trans(st, &mut params),
        "threadpool" => threadpool(&params),
        "archive" => archive_cmd(k, &params),
        "queue" => queue_cmd(k, &mut params, false),
        "keyqueue" => queue_cmd(k, &mut params, true),
        "builtinattr" => builtinattr(k, &params),
        "loadpluginattr" => {
            let c = cs(&params[0]);
            if !k2hash::capi::attrconf::k2h_add_attr_plugin_library(st.h, c.as_ptr()) {
                err("Something error occurred during loading attribute library.");
            }
        }
        "addpassphrase" => addpass(k, &params),
        "cleanallattr" => {
            if !params.is_empty() {
                err(&format!("unknown parameter {}.", params[0]));
            } else if let Some(k) = k {
                k.clean_common_attr();
            } else {
                err("Something error occurred during cleaning all attribute.");
            }
        }
        "shell" => shell::run_shell(),
        "echo" => prn(&params.join(" ")),
        "sleep" => {
            if params.len() != 1 {
                err(&format!("unknown parameter {}.", params[1]));
            } else {
                std::thread::sleep(std::time::Duration::from_secs(
                    atoi(&params[0]).max(0) as u64
                ));
            }
        }
        _ => err("Unknown command. see \"help\"."),
    }
    true
}

fn info(st: &Store, p: &P) {
    if p.len() > 1 {
        return err(&format!(
            "Unknown parameters({}...) for \"info\" command.",
            p[1]
        ));
    }
    let state = match p.first() {
        None => false,
        Some(s) if eq(s, "state") => true,
        Some(s) => return err(&format!("Unknown parameter({s}) for \"info\" command.")),
    };
    prn("-------------------------------------------------------");
    prn("K2HASH HEAD INFORMATION");
    prn("-------------------------------------------------------");
    let Some(k) = st.k.as_deref() else {
        return err("Something error occurred while dumping head of k2hash.");
    };
    match dump::dump(k.db(), dump::DUMP_HEAD) {
        Ok(t) => out_raw(&t),
        Err(_) => return err("Something error occurred while dumping head of k2hash."),
    }
    prn("");
    prn("-------------------------------------------------------");
    prn("K2HASH HASH FUNCTION");
    prn("-------------------------------------------------------");
    prn(&format!(
        "Hash functions version:                 {}",
        k2hash::hash::active_version()
    ));
    let hp = k2hash::capi::hashfn::k2h_hash as *const () as usize;
    let sp = k2hash::capi::hashfn::k2h_second_hash as *const () as usize;
    let vp = k2hash::capi::hashfn::k2h_hash_version as *const () as usize;
    prn(&format!("Coded function addr(k2h_hash):          {hp:#x}"));
    prn(&format!("Coded function addr(k2h_second_hash):   {sp:#x}"));
    prn(&format!("Coded function addr(k2h_hash_version):  {vp:#x}"));
    let loaded = k2hash::hash::active_version() != k2hash::hash::header_version();
    let l = |a: usize| {
        if loaded {
            format!("{a:#x}")
        } else {
            "(nil)".to_string()
        }
    };
    prn(&format!(
        "Loaded function addr(k2h_hash):         {}",
        l(hp)
    ));
    prn(&format!(
        "Loaded function addr(k2h_second_hash):  {}",
        l(sp)
    ));
    prn(&format!(
        "Loaded function addr(k2h_hash_version): {}",
        l(vp)
    ));
    prn("");
    prn("-------------------------------------------------------");
    prn("K2HASH TRANSACTION FUNCTION");
    prn("-------------------------------------------------------");
    prn(&format!(
        "Transaction functions version:          {}",
        trans_version()
    ));
    let tp = k2hash::capi::transfunc::k2h_trans as *const () as usize;
    let tv = k2hash::capi::transfunc::k2h_trans_version as *const () as usize;
    let tc = k2hash::capi::transfunc::k2h_trans_cntl as *const () as usize;
    prn(&format!("Coded function addr(k2h_trans):         {tp:#x}"));
    prn(&format!("Coded function addr(k2h_trans_version): {tv:#x}"));
    prn(&format!("Coded function addr(k2h_trans_cntl):    {tc:#x}"));
    prn("Loaded function addr(k2h_trans):        (nil)");
    prn("Loaded function addr(k2h_trans_version):(nil)");
    prn("Loaded function addr(k2h_trans_cntl):   (nil)");
    prn(&format!(
        "Transaction thread pool count:          {}",
        tr::k2h_get_transaction_thread_pool()
    ));
    prn("");
    prn("-------------------------------------------------------");
    prn("K2HASH ATTRIBUTE LIBRARIES");
    prn("-------------------------------------------------------");
    prn(&k2hash::capi::attrconf::attr_information_text(k));
    if state {
        prn("-------------------------------------------------------");
        prn("K2HASH STATE");
        prn("-------------------------------------------------------");
        match dump::state(k.db()) {
            Ok(s) => out_raw(dump::state_text(&s).as_bytes()),
            Err(_) => err("Something error occurred while printing state of k2hash."),
        }
    }
    prn("-------------------------------------------------------");
}

fn trans_version() -> String {
    let p = k2hash::capi::transfunc::k2h_trans_version();
    // SAFETY: the library returns a static NUL-terminated version string.
    unsafe { cbuf::cstring(p) }
}

fn dump_cmd(k: Option<&K2h>, p: &P) {
    let (mode, label) = match p.first().map(|s| s.to_ascii_uppercase()).as_deref() {
        None | Some("HEAD") => (dump::DUMP_HEAD, "HEAD"),
        Some("KINDEX") => (dump::DUMP_KINDEX, "KEY INDEX"),
        Some("CKINDEX") => (dump::DUMP_CKINDEX, "COLLISION KEY INDEX"),
        Some("ELEMENT") => (dump::DUMP_ELEMENT, "ELEMENT"),
        Some("FULL") => (dump::DUMP_PAGE, "FULL"),
        Some(_) => {
            return err(&format!(
                "Unknown parameter({}) for \"dump\" command.",
                p[0]
            ))
        }
    };
    prn("-------------------------------------------------------");
    prn(&format!("K2HASH {label} DUMP"));
    prn("-------------------------------------------------------");
    match k.map(|k| dump::dump(k.db(), mode)) {
        Some(Ok(t)) => out_raw(&t),
        _ => err("Something error occurred while dumping head of k2hash."),
    }
}

/// `"null"` (any case) or an empty word means no value.
fn value_param(s: &str) -> Vec<u8> {
    if s.is_empty() || eq(s, "null") {
        Vec::new()
    } else {
        with_nul(s)
    }
}

fn set(k: Option<&K2h>, p: &P) {
    let mut rmsub = false;
    let mut expire = -1i64;
    let mut pass = String::new();
    for a in &p[2..] {
        if eq(a, "RMSUB") {
            rmsub = true;
        } else if let Some(v) = kv(a, "PASS=") {
            pass = v.to_string();
        } else if let Some(v) = kv(a, "EXPIRE=") {
            expire = atoi(v);
        } else {
            return err(&format!("Unknown parameter({}) for set command.", p[2]));
        }
    }
    if expire == 0 {
        prn("[MSG] The expire value is 0. This means that this key is specifically allowed as a placeholder.");
    }
    let value = value_param(&p[1]);
    let pass = (!pass.is_empty()).then_some(pass.as_str());
    let expire = (expire > 0).then_some(expire);
    let key = with_nul(&p[0]);
    let r = k.map(|k| {
        if rmsub {
            k.set_all(&key, &value, &[], pass, expire)
        } else {
            k.set_value(&key, &value, pass, expire)
        }
    });
    if !matches!(r, Some(Ok(()))) {
        err("Something error occurred while writing key-value into k2hash.");
    }
}

fn ask(prompt: &str) -> Option<String> {
    loop {
        let l = k2htools::ask_line(prompt)?;
        if !l.is_empty() {
            return Some(l);
        }
    }
}

/// Print a labelled binary dump (nothing for no data).
fn dump_out(label: &[u8], v: &[u8]) {
    if let Some(d) = binary_dump(label, v) {
        out(&d);
    }
}

fn dump_attrs(attrs: &[(Vec<u8>, Vec<u8>)]) {
    for (n, v) in attrs {
        if let Some(d) = binary_dump(&printable(n), v) {
            out(&d);
        }
    }
}

fn settrial(k: Option<&K2h>, p: &P) {
    let pass = p.get(1).and_then(|a| kv(a, "pass=")).map(str::to_string);
    let Some(k) = k else {
        return err("Something error occurred while writing key-value into k2hash.");
    };
    let key = with_nul(&p[0]);
    let now = k.get(&key, Protect::Yes(pass.as_deref())).ok().flatten();
    let attrs = k.get_attrs(&key).ok().flatten().unwrap_or_default();
    prn("\n");
    if let Some(d) = binary_dump(b"KEY        ", &key) {
        out(&d);
    }
    if let Some(d) = now.as_deref().and_then(|v| binary_dump(b"VALUE(NOW) ", v)) {
        out(&d);
    }
    prn(" ATTRIBUTE = {");
    dump_attrs(&attrs);
    prn(" }");
    let q = if now.is_some() {
        "Do you replace value? [n/\"value\"] (n) -> "
    } else {
        "Do you make new key-value? [n/\"value\"] (n) -> "
    };
    let Some(a) = ask(q) else {
        return err("Something error occurred during callback.");
    };
    if ["n", "no", "false"].iter().any(|x| eq(&a, x)) {
        return;
    }
    if k.set_value(&key, &with_nul(&a), pass.as_deref(), None)
        .is_err()
    {
        err("Something error occurred while writing key-value into k2hash.");
    }
}

fn setsub(k: Option<&K2h>, p: &P) {
    let v = value_param(&p[2]);
    if !matches!(
        k.map(|k| k.add_subkey(&with_nul(&p[0]), &with_nul(&p[1]), &v, None, None)),
        Some(Ok(()))
    ) {
        err(&format!(
            "Something error occurred while set subkey({}) into key({}).",
            p[1], p[0]
        ));
    }
}

/// A direct-access write handle on `key` positioned at `offset`; 0 when it cannot be had.
fn da_handle(st: &Store, key: &str, write: bool, offset: i64) -> u64 {
    let c = cs(key);
    let h = if write {
        da::k2h_da_str_handle_write(st.h, c.as_ptr())
    } else {
        da::k2h_da_str_handle_read(st.h, c.as_ptr())
    };
    if h == 0 {
        err("Could not get k2h_da_h handle.");
        return 0;
    }
    let ok = if write {
        da::k2h_da_set_write_offset(h, offset)
    } else {
        da::k2h_da_set_read_offset(h, offset)
    };
    if !ok {
        err(&format!(
            "Could not set {} offset.",
            if write { "write" } else { "read" }
        ));
        da::k2h_da_free(h);
        return 0;
    }
    h
}

fn dset(st: &Store, p: &P) {
    let h = da_handle(st, &p[0], true, atoi(&p[2]));
    if h == 0 {
        return;
    }
    let v = cs(&p[1]);
    if !da::k2h_da_set_value_str(h, v.as_ptr()) {
        err("Failed writing value.");
    }
    da::k2h_da_free(h);
}

fn setf(st: &Store, p: &P) {
    let f = match std::fs::File::open(&p[2]) {
        Ok(f) => f,
        Err(_) => return err(&format!("Could not open file({}).", p[2])),
    };
    let mut len = f.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let h = da_handle(st, &p[0], true, atoi(&p[1]));
    if h == 0 {
        return;
    }
    use std::os::fd::AsRawFd;
    if !da::k2h_da_set_value_from_file(h, f.as_raw_fd(), &mut len) {
        err("Failed writing value.");
    }
    da::k2h_da_free(h);
}

fn fill(k: Option<&K2h>, p: &P) {
    let n = atoi(&p[2]);
    if n <= 0 {
        return err(&format!("Count parameter({}) is wrong.", p[2]));
    }
    let v = if p[1].is_empty() {
        Vec::new()
    } else {
        with_nul(&p[1])
    };
    for i in 0..n {
        let key = format!("{}-{}", p[0], i);
        if !matches!(
            k.map(|k| k.set_value(&with_nul(&key), &v, None, None)),
            Some(Ok(()))
        ) {
            return err(&format!(
                "Something error occurred while key({key})-value into k2hash."
            ));
        }
    }
}

fn fillsub(k: Option<&K2h>, p: &P) {
    let n = atoi(&p[3]);
    if n <= 0 {
        return err(&format!("Count parameter({}) is wrong.", p[3]));
    }
    let v = if p[2].is_empty() {
        Vec::new()
    } else {
        with_nul(&p[2])
    };
    for i in 0..n {
        let key = format!("{}-{}", p[1], i);
        if !matches!(
            k.map(|k| k.add_subkey(&with_nul(&p[0]), &with_nul(&key), &v, None, None)),
            Some(Ok(()))
        ) {
            return err(&format!(
                "Something error occurred while key({key})-value under key({}) into k2hash.",
                p[0]
            ));
        }
    }
}

fn rm(k: Option<&K2h>, p: &P) {
    let all = match p.get(1) {
        None => false,
        Some(a) if eq(a, "ALL") => true,
        Some(a) => return err(&format!("Unknown parameter({a}) for rm command.")),
    };
    let key = with_nul(&p[0]);
    let ok = match k {
        Some(k) if all => k.remove_all(&key).is_ok(),
        Some(k) => k.remove(&key).is_ok(),
        None => false,
    };
    if !ok {
        err(&format!(
            "Something error occurred while remove key({}) with({}) subkeys.",
            p[0],
            if all { "out" } else { "" }
        ));
    }
}

fn rmsub(k: Option<&K2h>, p: &P) {
    if !matches!(
        k.map(|k| k.remove_subkey(&with_nul(&p[0]), &with_nul(&p[1]))),
        Some(Ok(()))
    ) {
        err(&format!(
            "Something error occurred while remove subkey({}) under key({}).",
            p[1], p[0]
        ));
    }
}

fn rename(k: Option<&K2h>, p: &P) {
    if !matches!(
        k.map(|k| k.rename(&with_nul(&p[0]), &with_nul(&p[1]))),
        Some(Ok(true))
    ) {
        err("Something error occurred while renaming key.");
    }
}

/// Subkey names as the original's string arrays show them.
fn subkey_strings(list: &[Vec<u8>]) -> Vec<Vec<u8>> {
    list.iter()
        .map(|s| {
            if s.last() == Some(&0) {
                cstr(s).to_vec()
            } else {
                s.clone()
            }
        })
        .collect()
}

fn print_keys(
    k: Option<&K2h>,
    key: &[u8],
    spacer: &str,
    nest: bool,
    check: bool,
    pass: Option<&str>,
) {
    let my = format!("{spacer}  ");
    let zk = [key, b"\0"].concat();
    let v = k.and_then(|k| {
        let p = if check {
            Protect::Yes(pass)
        } else {
            Protect::No
        };
        k.get(&zk, p).ok().flatten()
    });
    let mut line = format!("{my}+\"").into_bytes();
    line.extend_from_slice(key);
    match v {
        Some(v) => {
            line.extend_from_slice(b"\" => \"");
            line.extend_from_slice(cstr(&v));
            line.push(b'"');
        }
        None => line.extend_from_slice(b"\" => value is not found"),
    }
    out(&line);
    let subs = k
        .and_then(|k| k.get_subkeys(&zk, false).ok().flatten())
        .unwrap_or_default();
    for s in subkey_strings(&subs) {
        if nest {
            print_keys(k, &s, &my, nest, check, pass);
        } else {
            let mut l = format!("{my}     subkey: \"").into_bytes();
            l.extend_from_slice(&s);
            l.push(b'"');
            out(&l);
        }
    }
}

fn print(k: Option<&K2h>, p: &P) {
    let (mut nest, mut check, mut pass) = (false, true, String::new());
    for a in &p[1..] {
        if eq(a, "ALL") {
            nest = true;
        } else if eq(a, "noattrcheck") {
            check = false;
        } else if let Some(v) = kv(a, "PASS=") {
            pass = v.to_string();
        } else {
            return err(&format!("Unknown parameter({a}) for print command."));
        }
    }
    let pass = (!pass.is_empty()).then_some(pass.as_str());
    print_keys(k, p[0].as_bytes(), "", nest, check, pass);
}

fn printattr(k: Option<&K2h>, p: &P) {
    let attrs = k.and_then(|k| k.get_attrs(&with_nul(&p[0])).ok().flatten());
    match attrs {
        Some(a) if !a.is_empty() => {
            prn(&format!("\"{}\" attribute = {{", p[0]));
            for (n, v) in a {
                let mut l = b"    \"".to_vec();
                l.extend_from_slice(&printable(&n));
                l.extend_from_slice(b"\"\t=> \"");
                l.extend_from_slice(&printable(&v));
                l.push(b'"');
                out(&l);
            }
            prn("}");
        }
        _ => prn(&format!("\"{}\" => attribute is not found", p[0])),
    }
}

fn addattr(k: Option<&K2h>, p: &P) {
    let v = p.get(2).map(with_nul).unwrap_or_default();
    if !matches!(
        k.map(|k| k.add_attr(&with_nul(&p[0]), &with_nul(&p[1]), &v)),
        Some(Ok(()))
    ) {
        err("Something error occurred while adding attribute into key.");
    }
}

fn dprint(st: &Store, p: &P) {
    let h = da_handle(st, &p[0], false, atoi(&p[2]));
    if h == 0 {
        return;
    }
    let mut ptr: *mut u8 = std::ptr::null_mut();
    let mut len = atoi(&p[1]).max(0) as usize;
    let ok = da::k2h_da_get_value(h, &mut ptr, &mut len).get();
    da::k2h_da_free(h);
    // SAFETY: k2h_da_get_value hands over a malloc'd buffer of `len` bytes (or NULL).
    let Some(v) = unsafe { cbuf::take(ptr, len) }.filter(|_| ok) else {
        return err("Failed reading value.");
    };
    for chunk in v.chunks(8) {
        let mut bin = [b' '; 28];
        let mut chr = [b' '; 9];
        for (w, &b) in chunk.iter().enumerate() {
            let hx = format!("{b:02X}");
            let at = if w > 3 { w * 3 + 1 } else { w * 3 };
            bin[at..at + 2].copy_from_slice(hx.as_bytes());
            let c = if k2htools::isprint(b) {
                b
            } else if b == 0 {
                b' '
            } else {
                0xFF
            };
            chr[if w > 3 { w + 1 } else { w }] = c;
        }
        let mut l = vec![b' '];
        l.extend_from_slice(&bin);
        l.extend_from_slice(b" - ");
        l.extend_from_slice(&chr);
        out(&l);
    }
}

fn copyfile(st: &Store, p: &P) {
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&p[2])
    {
        Ok(f) => f,
        Err(_) => return err(&format!("Could not open file({}).", p[2])),
    };
    let h = da_handle(st, &p[0], false, atoi(&p[1]));
    if h == 0 {
        return;
    }
    use std::os::fd::AsRawFd;
    let mut len: usize = 1 << 40;
    let ok = da::k2h_da_get_value_to_file(h, f.as_raw_fd(), &mut len);
    da::k2h_da_free(h);
    if !ok {
        return err("Failed reading.");
    }
    prn(&format!(
        "+\"{}\" => {} byte read and write into file({}).",
        p[0], len, p[2]
    ));
}

fn dsave(k: Option<&K2h>, p: &P) {
    let hash = atoi(&p[0]) as u64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let f = ScanFilter {
        start: (0, 0),
        end: (now, 0),
        target_hash: 0,
        target_max_hash: 1,
        old_hash: u64::MAX,
        old_max_hash: u64::MAX,
        range: 1,
        expire_check: true,
    };
    let Some(Ok((els, _))) = k.map(|k| replicate::elements_by_hash(k, hash, &f)) else {
        return err(&format!(
            "Failed reading elements data by hashvalue({hash:#x})."
        ));
    };
    if els.is_empty() {
        return err(&format!("There is no element for hashvalue({hash:#x})."));
    }
    let mut data = format!("COUNT={}\n", els.len()).into_bytes();
    for e in &els {
        let b = e.encode();
        data.extend_from_slice(format!("LENGTH={}\n", b.len()).as_bytes());
        data.extend_from_slice(&b);
    }
    if let Err(e) = std::fs::write(&p[1], data) {
        err(&format!(
            "Could not open file({}) for writing binary elements data. {e}",
            p[1]
        ));
    }
}

/// `NAME=<digits><one separator byte>` at `pos`; the number and the position after it.
fn read_field(b: &[u8], pos: usize, name: &str) -> Option<(usize, usize)> {
    let rest = b.get(pos..)?.strip_prefix(name.as_bytes())?;
    let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    rest.get(n)?;
    let v = std::str::from_utf8(&rest[..n]).ok()?.parse().unwrap_or(0);
    Some((v, pos + name.len() + n + 1))
}

fn dload(k: Option<&K2h>, p: &P) {
    let ts = match p.get(1) {
        Some(t) => atoi(t),
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    };
    let b = match std::fs::read(&p[0]) {
        Ok(b) => b,
        Err(e) => {
            return err(&format!(
                "Could not open file({}) for reading binary elements data. {e}",
                p[0]
            ))
        }
    };
    let Some((count, mut pos)) = read_field(&b, 0, "COUNT=") else {
        return err(&format!(
            "Wrong format file({}), the data does not start \"COUNT=\"",
            p[0]
        ));
    };
    let mut els = Vec::new();
    for i in 0..count {
        let Some((len, at)) = read_field(&b, pos, "LENGTH=") else {
            return err(&format!(
                "Wrong format file({}), the {i} binary data length is broken",
                p[0]
            ));
        };
        let Some(raw) = b.get(at..at.saturating_add(len)) else {
            return err(&format!(
                "Could not read {i} binary data from file({})",
                p[0]
            ));
        };
        match RawElement::decode(raw) {
            Ok(e) => els.push(e),
            Err(_) => return err(&format!("Failed writing {i} binary data")),
        }
        pos = at + len;
    }
    for (i, e) in els.iter().enumerate() {
        if !matches!(
            k.map(|k| replicate::set_element(k, e, (ts, 0))),
            Some(Ok(()))
        ) {
            return err(&format!("Failed writing {i} binary data"));
        }
    }
}

fn list(k: Option<&K2h>, p: &P, spacer: &str) {
    let Some(k) = k else { return };
    if let Some(key) = p.first() {
        let zk = with_nul(key);
        let v = k.get(&zk, Protect::Yes(None)).ok().flatten();
        let mut l = format!("{spacer}+\"{key}\" => \"").into_bytes();
        match v {
            Some(v) => l.extend_from_slice(cstr(&v)),
            None => l.extend_from_slice(b"(null)"),
        }
        l.push(b'"');
        out(&l);
        let subs = k.get_subkeys(&zk, false).ok().flatten().unwrap_or_default();
        for s in subs {
            if !k.db().exists(&s).unwrap_or(false) {
                continue;
            }
            let name = String::from_utf8_lossy(cstr(&s)).into_owned();
            list(Some(k), &[name], &format!("{spacer}  "));
        }
        return;
    }
    for (key, value) in k2htools::key_values(k) {
        let pk = printable(&key);
        let mut l = b"+\"".to_vec();
        l.extend_from_slice(if key.is_empty() { b"(null)" } else { &pk });
        l.extend_from_slice(b"\" => \"");
        if value.is_empty() {
            l.extend_from_slice(b"(null)");
        } else {
            l.extend_from_slice(&printable(&value));
        }
        l.push(b'"');
        out(&l);
        // The original looks the subkeys up by the printable key as a C string.
        let lookup = [cstr(&pk), b"\0"].concat();
        let subs = k
            .get_subkeys(&lookup, true)
            .ok()
            .flatten()
            .unwrap_or_default();
        if !subs.is_empty() {
            let names = subkey_strings(&subs).join(&b", "[..]);
            let mut l = b"         subkeys: \"".to_vec();
            l.extend_from_slice(&names);
            l.push(b'"');
            out(&l);
        }
    }
}

/// A whitespace-delimited word of `v` from `pos` (like `istream >> std::string`).
fn next_word(v: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    while *pos < v.len() && (v[*pos].is_ascii_whitespace() || v[*pos] == 0) {
        *pos += 1;
    }
    let s = *pos;
    while *pos < v.len() && !v[*pos].is_ascii_whitespace() && v[*pos] != 0 {
        *pos += 1;
    }
    (*pos > s).then(|| v[s..*pos].to_vec())
}

fn stream(st: &Store, con: &mut Console, p: &P) -> bool {
    let input = if eq(&p[1], "input") {
        true
    } else if eq(&p[1], "output") {
        false
    } else {
        err(&format!("Unknown parameter({}) for archive command.", p[1]));
        return true;
    };
    let Some(k) = st.k.as_deref() else {
        err(&format!("Could not open key({}) or empty value.", p[0]));
        return true;
    };
    let key = with_nul(&p[0]);
    if input {
        for l in [
            "",
            &format!(
                "*** Input stream test : \"{}\" key *********************",
                p[0]
            ),
            " You can specify below value types for reading value from stream.",
            "   - \"string\", \"char\", \"int\", \"long\"",
            " Specify \".\" only to exit this interactive mode.",
            "********************************************************",
            "",
        ] {
            prn(l);
        }
        let v = k
            .get(&key, Protect::Yes(None))
            .ok()
            .flatten()
            .unwrap_or_default();
        if v.is_empty() {
            err(&format!("Could not open key({}) or empty value.", p[0]));
            return true;
        }
        let mut pos = 0;
        loop {
            if pos >= v.len() {
                prn(&format!("\n*** Input key({}) is reached to eof.", p[0]));
                break;
            }
            let Some(l) = con.read(">> ") else {
                err("Something error occurred while reading stdin.");
                return false;
            };
            if l == "." {
                break;
            }
            let lc = l.to_ascii_lowercase();
            match lc.as_str() {
                "char" => {
                    while pos < v.len() && v[pos].is_ascii_whitespace() {
                        pos += 1;
                    }
                    let c = v.get(pos).copied().unwrap_or(0);
                    pos += 1;
                    out(&[b" char = \"".as_slice(), &[c], b"\""].concat());
                }
                "int" | "long" => {
                    let w = next_word(&v, &mut pos).unwrap_or_default();
                    let n = atoi(&String::from_utf8_lossy(&w));
                    if lc == "int" {
                        let n = n as i32;
                        prn(&format!(" int = \"{n}({n:x})\""));
                    } else {
                        prn(&format!(" long = \"{n}(0x{:x})\"", n as u64));
                    }
                }
                "string" => {
                    let w = next_word(&v, &mut pos).unwrap_or_default();
                    out(&[b" string = \"".as_slice(), &w, b"\""].concat());
                }
                _ => err(&format!("Unknown value type({l}).")),
            }
        }
    } else {
        for l in [
            "",
            &format!(
                "*** Output stream test : \"{}\" key *********************",
                p[0]
            ),
            " You can specify any string for writing value to stream.",
            " The string does not terminate null character.",
            " If you need to terminate it, specify \"ends\".",
            " If you specify \"endl\", puts 0x0a.",
            " Specify \".\" only to exit this interactive mode.",
            "********************************************************",
            "",
        ] {
            prn(l);
        }
        let mut data: Vec<u8> = Vec::new();
        loop {
            let Some(l) = con.read("<< ") else {
                err("Something error occurred while reading stdin.");
                return false;
            };
            match l.as_str() {
                "endl" => data.push(b'\n'),
                "ends" => data.push(0),
                "." => break,
                _ => data.extend_from_slice(l.as_bytes()),
            }
            if k.overwrite_value(&key, 0, &data).is_err() {
                err(&format!("Could not write key({}).", p[0]));
            }
        }
    }
    true
}

fn load(st: &Store, con: &mut Console, p: &P, exit: &mut bool) -> bool {
    let b = match std::fs::read(&p[0]) {
        Ok(b) => b,
        Err(e) => {
            err(&format!(
                "Could not open file({}) for reading commands. {e}",
                p[0]
            ));
            return true;
        }
    };
    for l in shell::command_lines(&b, false) {
        prn(&format!("> {l}"));
        if !handle(st, con, &l, exit) {
            err(&format!(
                "Something error occurred at loading command file({}) - \"{l}\", so stop running.",
                p[0]
            ));
            break;
        }
        if *exit {
            break;
        }
    }
    true
}

fn trans(st: &Store, p: &mut Vec<String>) {
    if eq(&p[0], "ON") {
        let mut expire: Option<i64> = None;
        if let Some(i) = p.iter().position(|a| kv(a, "expire=").is_some()) {
            let e = atoi(kv(&p[i], "expire=").unwrap_or(""));
            p.remove(i);
            if e <= 0 {
                err("expire parameter must be number over 0.");
            } else {
                expire = Some(e);
            }
        }
        match p.len() {
            1 => prn("[MSG] trans ON command without transaction file path."),
            2 => prn("[MSG] trans ON command with transaction file path and without prefix."),
            3 => prn("[MSG] trans ON command with transaction file path and prefix."),
            4 => prn("[MSG] trans ON command with transaction file path, prefix and param."),
            _ => {
                return err(&format!(
                    "Unknown parameter({}) for trans ON command.",
                    p[2]
                ))
            }
        }
        let file = p.get(1).map(|s| cs(s));
        let prefix = p.get(2).cloned().unwrap_or_default();
        let param = p.get(3).map(with_nul).unwrap_or_default();
        let ex = expire.unwrap_or(0);
        let ok = tr::k2h_enable_transaction_param_we(
            st.h,
            file.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            if prefix.is_empty() {
                std::ptr::null()
            } else {
                prefix.as_ptr()
            },
            prefix.len(),
            if param.is_empty() {
                std::ptr::null()
            } else {
                param.as_ptr()
            },
            param.len(),
            if expire.is_some() {
                &ex
            } else {
                std::ptr::null()
            },
        );
        if !ok {
            return err("Something error occurred by setting transaction.");
        }
    } else if eq(&p[0], "OFF") {
        if p.len() > 1 {
            return err(&format!(
                "Unknown parameter({}) for trans OFF command.",
                p[1]
            ));
        }
        if !tr::k2h_disable_transaction(st.h) {
            return err("Something error occurred by setting transaction.");
        }
    } else {
        return err(&format!("Unknown parameter({}) for trans command.", p[0]));
    }
    prn(&format!(
        " Transaction function version: {}",
        trans_version()
    ));
    prn("");
}

fn threadpool(p: &P) {
    match p.first() {
        None => {
            prn(&format!(
                " Transaction Thread Pool count: {}",
                tr::k2h_get_transaction_thread_pool()
            ));
            prn("");
        }
        Some(n) => {
            let n = atoi(n) as i32;
            if !tr::k2h_set_transaction_thread_pool(n) {
                return err("Something error occurred by setting transaction thread pool count.");
            }
            prn(&format!(
                " Success to set Transaction Thread Pool count: {n}"
            ));
            prn("");
        }
    }
}

fn archive_cmd(k: Option<&K2h>, p: &P) {
    let load = if eq(&p[0], "put") {
        false
    } else if eq(&p[0], "load") {
        true
    } else {
        return err(&format!("Unknown parameter({}) for archive command.", p[0]));
    };
    let path = std::path::Path::new(&p[1]);
    let r = k.map(|k| {
        if load {
            archive::load_archive(k, path, false)
        } else {
            archive::put_archive(k, path, false)
        }
    });
    if !matches!(r, Some(Ok(()))) {
        err(&format!(
            "Something error occurred during {} archive file({}).",
            if load { "loading" } else { "putting" },
            p[1]
        ));
    }
}

fn builtinattr(k: Option<&K2h>, p: &P) {
    let (mut mtime, mut history, mut enc) = (None, None, None);
    let (mut expire, mut passfile) = (None, None);
    for a in p {
        if eq(a, "mtime") {
            mtime = Some(true);
        } else if eq(a, "history") {
            history = Some(true);
        } else if eq(a, "enc") {
            enc = Some(true);
        } else if let Some(v) = kv(a, "expire=") {
            let e = atoi(v);
            if e <= 0 {
                return err("expire parameter must be number over 0.");
            }
            expire = Some(e);
        } else if let Some(v) = kv(a, "pass=") {
            passfile = Some(v.to_string());
        } else {
            return err(&format!("unknown parameter {a}."));
        }
    }
    if enc.is_some() && passfile.is_none() {
        return err("Must specify \"pass\" parameter when specifying \"enc\" parameter.");
    }
    let r = k.map(|k| k.set_common_attr(mtime, enc, passfile.as_deref(), history, expire));
    if !matches!(r, Some(Ok(()))) {
        err("Something error occurred during setting builtin attribute.");
    }
}

fn addpass(k: Option<&K2h>, p: &P) {
    let default = match p.get(1) {
        None => false,
        Some(d) if eq(d, "default") => true,
        Some(d) => return err(&format!("unknown parameter {d}.")),
    };
    if !matches!(k.map(|k| k.add_crypt_pass(&p[0], default)), Some(Ok(()))) {
        err("Something error occurred during adding pass phrase for crypt.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        assert_eq!(read_field(b"COUNT=12\nX", 0, "COUNT="), Some((12, 9)));
        assert_eq!(read_field(b"COUNT=12", 0, "COUNT="), None);
        assert_eq!(read_field(b"LEN", 0, "COUNT="), None);
    }
}
