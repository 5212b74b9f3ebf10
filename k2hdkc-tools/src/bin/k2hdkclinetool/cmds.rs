//! The line commands of k2hdkclinetool (spec §5.2): parsing, the requests through [`Dkc`], and
//! the original's output texts.
use k2htools::shell::{self, Console};
use k2htools::{atoi, dump_lines, opt, printable, with_nul, OptType};

use crate::api::{Dkc, Wa, Width};
use crate::libdbg::{self, Level};
use crate::out::{checked, err, out, prn, wan};
use crate::status;

/// What the commands work with.
pub struct Ctx {
    pub api: Box<dyn Dkc>,
    pub con: Console,
    /// The configuration, control port and CUK of the chmpx slave (for `status chmpx`).
    pub conf: String,
    pub ctlport: i16,
}

const LINE_OPTS: &[OptType] = &[
    opt("help", "help", 0, 0),
    opt("h", "help", 0, 0),
    opt("quit", "quit", 0, 0),
    opt("q", "quit", 0, 0),
    opt("exit", "quit", 0, 0),
    opt("p", "print", 1, 5),
    opt("print", "print", 1, 5),
    opt("dp", "dp", 3, 4),
    opt("dprint", "dp", 3, 4),
    opt("directprint", "dp", 3, 4),
    opt("pa", "pa", 1, 3),
    opt("printattr", "pa", 1, 3),
    opt("cf", "cf", 4, 4),
    opt("copyf", "cf", 4, 4),
    opt("copyfile", "cf", 4, 4),
    opt("s", "set", 2, 6),
    opt("set", "set", 2, 6),
    opt("dset", "dset", 3, 3),
    opt("directset", "dset", 3, 3),
    opt("setdirect", "dset", 3, 3),
    opt("sf", "sf", 3, 3),
    opt("setf", "sf", 3, 3),
    opt("setfile", "sf", 3, 3),
    opt("fset", "sf", 3, 3),
    opt("fileset", "sf", 3, 3),
    opt("f", "f", 3, 7),
    opt("fill", "f", 3, 7),
    opt("fs", "fs", 4, 7),
    opt("fillsub", "fs", 4, 7),
    opt("rm", "rm", 1, 2),
    opt("del", "rm", 1, 2),
    opt("ss", "ss", 2, 6),
    opt("setsub", "ss", 2, 6),
    opt("rs", "rs", 2, 4),
    opt("rmsub", "rs", 2, 4),
    opt("delsub", "rs", 2, 4),
    opt("ren", "ren", 2, 6),
    opt("rename", "ren", 2, 6),
    opt("mv", "ren", 2, 6),
    // (sic) "q" is matched as quit above, so a queue is "que" or "queue"
    opt("q", "q", 3, 7),
    opt("que", "q", 3, 7),
    opt("queue", "q", 3, 7),
    opt("kq", "kq", 3, 8),
    opt("kque", "kq", 3, 8),
    opt("keyqueue", "kq", 3, 8),
    opt("cas", "cas8", 2, 6),
    opt("cas8", "cas8", 2, 6),
    opt("cas16", "cas16", 2, 6),
    opt("cas32", "cas32", 2, 6),
    opt("cas64", "cas64", 2, 6),
    opt("st", "st", 1, 3),
    opt("sts", "st", 1, 3),
    opt("stat", "st", 1, 3),
    opt("stats", "st", 1, 3),
    opt("status", "st", 1, 3),
    opt("comlog", "comlog", 0, 1),
    opt("dbglevel", "dbglevel", 0, 1),
    opt("history", "history", 0, 0),
    opt("his", "history", 0, 0),
    opt("save", "save", 1, 1),
    opt("load", "load", 1, 1),
    opt("shell", "shell", 0, 0),
    opt("sh", "shell", 0, 0),
    opt("echo", "echo", 1, 9999),
    opt("sleep", "sleep", 1, 1),
];

const LINE_HELP: &[&str] = &[
    "",
    "Command: [command] [parameters...]",
    "",
    "help(h)                                                 print help",
    "quit(q)/exit                                            quit",
    "print(p) <key> [all] [noattrcheck] [pass=....] [dump]   print value by key(noattrcheck and pass parameter are mutually exclusive).",
    "directprint(dp) <key> <length> <offset> [dump]          print value from offset and length directly.",
    "printattr(pa) <key> [name=<attr name>] [dump]           print attributes.",
    "copyfile(cf) <key> <length> <offset> <file>             output directly key-value to file.",
    "set(s) <key> <value> [rmsublist | rmsub] [noattrcheck] [pass=....] [expire=sec]",
    "                                                        set value(if value is \"null\", it means no value).",
    "directset(dset) <key> <value> <offset>                  set value from offset directly.",
    "setfile(sf) <key> <offset> <file>                       set directly key-value from file.",
    "fill(f) <prefix> <value> <count> [rmsublist | rmsub] [noattrcheck] [pass=....] [expire=sec]",
    "                                                        set key-value by prefix repeating by count.",
    "fillsub(fs) <parent key> <prefix> <value> <count> [noattrcheck] [pass=....] [expire=sec]",
    "                                                        set key-value under parent key by prefix repeating by count",
    "rm(del) <key> [all]                                     delete(remove) key, if all parameter is specified, remove all sub key under key",
    "setsub(ss) <parent key> <key> [noattrcheck]             set only subkey name into parent key.",
    "setsub(ss) <parent key> <key> <value> [noattrcheck] [pass=....] [expire=sec]",
    "                                                        set subkey-value under parent key. if need to set null value, must specify \"null\".",
    "rmsub(delsub) <parent key> [<key> | all] [rmsub] [noattrcheck]",
    "                                                        remove key under parent key.",
    "rename(ren) <key> <new key> [parent=<key>] [noattrcheck] [pass=....] [expire=sec]",
    "                                                        rename key to new key name.",
    "queue(que) <name> push <fifo | lifo> <value> [noattrcheck] [pass=....] [expire=sec]",
    "                                                        push the value to queue(fifo/lifo)",
    "queue(que) <name> pop <fifo | lifo> [noattrcheck] [pass=...] [dump]",
    "                                                        pop the value from queue",
    "queue(que) <name> remove <fifo | lifo> <count> [pass=...]",
    "                                                        remove count of values in queue",
    "keyqueue(kque) <name> push <fifo | lifo> <key> <value> [noattrcheck] [pass=....] [expire=sec]",
    "                                                        push the key to queue(fifo/lifo)",
    "keyqueue(kque) <name> pop <fifo | lifo> [noattrcheck] [pass=...] [dump]",
    "                                                        pop the key from queue",
    "keyqueue(kque) <name> remove <fifo | lifo> <count> [pass=...]",
    "                                                        remove count of keys in queue",
    "cas[8 | 16 | 32 | 64] init <key> <value> [pass=....] [expire=sec]",
    "                                                        initialize compare and swap key(default value size is 8, and value is 0)",
    "cas[8 | 16 | 32 | 64] get <key> [pass=....]             get compare and swap key(default value size is 8)",
    "cas[8 | 16 | 32 | 64] set <key> <old value> <new value> [pass=....] [expire=sec]",
    "                                                        set compare and swap key(default value size is 8)",
    "cas [increment(inc) | decrement(dec)] <key> [pass=....] [expire=sec]",
    "                                                        increment/decrement compare and swap key",
    "status chmpx [self] [full]                              print chmpx status",
    "status node [full]                                      print k2hash states on all server nodes",
    "comlog [on | off]                                       toggle or enable/disable communication command log",
    "dbglevel [slt | err | wan | msg | dmp]                  bumpup debugging level or specify level",
    "history(his)                                            display all history, you can use a command line in history by \"!<number>\".",
    "save <file path>                                        save history to file.",
    "load <file path>                                        load and run command file.",
    "shell                                                   exit shell(same as \"!\" command).",
    "echo <string>...                                        echo string",
    "sleep <second>                                          sleep seconds",
    "",
];

/// The longest value `directprint` asks for at once.
const MAX_ONE_VALUE_LENGTH: usize = 10 * 1024 * 1024;

type P = [String];

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `NAME=value` (name case-insensitive): the value.
fn kv<'a>(p: &'a str, name: &str) -> Option<&'a str> {
    p.get(..name.len())
        .filter(|h| h.eq_ignore_ascii_case(name))
        .map(|_| &p[name.len()..])
}

/// C `atoi`'s int.
fn atoi32(s: &str) -> i32 {
    atoi(s) as i32
}

/// `expire=` as the original reads it (-1 is "none").
fn expire_param(s: &str) -> Option<i64> {
    let e = i64::from(atoi32(s));
    (e != -1).then_some(e)
}

/// The bytes of a text value as the original sends it: with its NUL, nothing for "".
fn value_bytes(s: &str) -> Vec<u8> {
    if s.is_empty() {
        Vec::new()
    } else {
        with_nul(s)
    }
}

/// `n` times two blanks, then `pref` (nothing at level 0).
fn nest(n: usize, pref: &str) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("{}{pref}", "  ".repeat(n))
    }
}

/// The original's binary dump of `value` labelled `"label" => ` (nested `+`).
fn binary_dump(label: &[u8], value: &[u8], n: usize) {
    let mut pref = nest(n, "+").into_bytes();
    if label.is_empty() {
        pref.extend_from_slice(b"VALUE(DUMP) => ");
    } else {
        pref.extend_from_slice(&[&b"\""[..], label, b"\" => "].concat());
    }
    if let Some(o) = dump_lines(&pref, value) {
        out(&o);
    }
}

/// `"a" => "b"` style output line from parts.
fn line(parts: &[&[u8]]) {
    out(&parts.concat());
}

/// One line typed at the prompt (`!`-history forms included). False ends the tool.
pub fn interactive(ctx: &mut Ctx, text: &str) -> bool {
    let mut exit = false;
    if let Some(rest) = text.strip_prefix('!') {
        return match ctx.con.recall(rest) {
            Some(cmd) => handle(ctx, &cmd, &mut exit) && !exit,
            None => true,
        };
    }
    handle(ctx, text, &mut exit) && !exit
}

/// Runs one command line. False on a fatal error; `exit` set by quit.
pub fn handle(ctx: &mut Ctx, text: &str, exit: &mut bool) -> bool {
    *exit = false;
    let Some((name, p)) = shell::parse_line(text, LINE_OPTS) else {
        return true;
    };
    match name.as_str() {
        "help" => LINE_HELP.iter().for_each(|l| prn(l)),
        "quit" => {
            prn("Quit.");
            *exit = true;
        }
        "comlog" => comlog(&p),
        "dbglevel" => dbglevel(&p),
        "print" => print(ctx, &p),
        "dp" => directprint(ctx, &p),
        "pa" => printattr(ctx, &p),
        "cf" => copyfile(ctx, &p),
        "set" => set(ctx, &p),
        "dset" => directset(ctx, &p),
        "sf" => setfile(ctx, &p),
        "f" => fill(ctx, &p),
        "fs" => fillsub(ctx, &p),
        "rm" => rm(ctx, &p),
        "ss" => setsub(ctx, &p),
        "rs" => rmsub(ctx, &p),
        "ren" => rename(ctx, &p),
        "q" => queue(ctx, &p, false),
        "kq" => queue(ctx, &p, true),
        "cas8" => cas(ctx, Width::W8, &p),
        "cas16" => cas(ctx, Width::W16, &p),
        "cas32" => cas(ctx, Width::W32, &p),
        "cas64" => cas(ctx, Width::W64, &p),
        "st" => status::command(ctx, &p),
        "history" => ctx.con.print_history(),
        "save" => ctx.con.save(&p[0]),
        "load" => return load(ctx, &p[0], exit),
        "shell" => shell::run_shell(),
        "echo" => {
            let s = p.join(" ");
            if !s.is_empty() {
                prn(&s);
            }
        }
        "sleep" => {
            if p.len() != 1 {
                err(&format!("unknown parameter {}.", p[1]));
            } else {
                std::thread::sleep(std::time::Duration::from_secs(atoi32(&p[0]).max(0) as u64));
            }
        }
        _ => err("Unknown command. see \"help\"."),
    }
    true
}

/// `load <file>` (and `-run`): each command line of the file, echoed as `> line`.
fn load(ctx: &mut Ctx, path: &str, exit: &mut bool) -> bool {
    let b = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            err(&format!(
                "Could not open file({path}) for reading commands. errno({})",
                e.raw_os_error().unwrap_or(0)
            ));
            return true;
        }
    };
    for l in shell::command_lines(&b, true) {
        prn(&format!("> {l}"));
        if !handle(ctx, &l, exit) {
            err(&format!(
                "Something error occurred at loading command file({path}) - \"{l}\", so stop running."
            ));
            break;
        }
        if *exit {
            break;
        }
    }
    true
}

// ------------------------------------------------------------------ comlog, dbglevel

fn comlog(p: &P) {
    let now = libdbg::comlog();
    if p.is_empty() {
        libdbg::set_comlog(!now);
        prn(if now {
            "Disable communication log."
        } else {
            "Enable communication log."
        });
    } else if p.len() > 1 {
        err(&format!("Unknown parameter({}) for comlog command.", p[1]));
    } else if ["on", "yes", "y"].iter().any(|w| eq(&p[0], w)) {
        if now {
            err("Already comlog is enabled.");
        } else {
            libdbg::set_comlog(true);
            prn("Enable communication log.");
        }
    } else if ["off", "no", "n"].iter().any(|w| eq(&p[0], w)) {
        if !now {
            err("Already comlog is disabled.");
        } else {
            libdbg::set_comlog(false);
            prn("Disable communication log.");
        }
    } else {
        err(&format!("Unknown parameter({}) for comlog command.", p[0]));
    }
}

fn dbglevel(p: &P) {
    if p.is_empty() {
        libdbg::bump();
        prn(&format!(
            "Debug level is changed to {}.",
            libdbg::level().upper()
        ));
    } else if p.len() > 1 {
        err(&format!(
            "Unknown parameter({}) for dbglevel command.",
            p[1]
        ));
    } else if let Some(l) = Level::parse(&p[0]) {
        if libdbg::level() == l {
            err(&format!("Already debugging mode is {}.", l.upper()));
        } else {
            libdbg::set_level(l);
            prn(&format!("Debug level is changed to {}.", l.upper()));
        }
    } else {
        err(&format!(
            "Unknown parameter({}) for dbglevel command.",
            p[0]
        ));
    }
}

// ------------------------------------------------------------------ reading

/// The subkeys of `key`; None (reported) when the request failed. `quiet` leaves out the
/// `[MSG]` line of a sub code.
fn subkeys_of(ctx: &mut Ctx, key: &[u8], noattr: bool, quiet: bool) -> Option<Vec<Vec<u8>>> {
    if key.is_empty() {
        err("Parameter is wrong.");
        return None;
    }
    let r = ctx.api.get_subkeys(key, noattr);
    checked(r.ok, r.code, quiet).then_some(r.val)
}

struct PrintOpts<'a> {
    all: bool,
    noattr: bool,
    pass: Option<&'a str>,
    dump: bool,
}

/// The subkeys of `key` at nesting level `n`: printed whole with `all`, else listed.
fn print_subkeys(ctx: &mut Ctx, key: &[u8], o: &PrintOpts, n: usize) -> bool {
    let Some(list) = subkeys_of(ctx, key, o.noattr, true) else {
        err("Something error occurred during getting subkeys.");
        return false;
    };
    if o.all {
        for k in &list {
            if !print_key(ctx, k, o, n) {
                wan("Something wrong occurred during printing subkey, but continue...");
            }
        }
    } else if !list.is_empty() {
        let names: Vec<Vec<u8>> = list
            .iter()
            .map(|k| [&b"\""[..], &printable(k), b"\""].concat())
            .collect();
        line(&[
            b"  ",
            nest(n, "subkey: ").as_bytes(),
            &names.join(&b", "[..]),
        ]);
    }
    true
}

/// One key and its subkeys at nesting level `n`.
fn print_key(ctx: &mut Ctx, key: &[u8], o: &PrintOpts, n: usize) -> bool {
    if key.is_empty() {
        err("Parameter is wrong.");
        return false;
    }
    if o.noattr && o.pass.is_some() {
        err("Parameter noattrcheck and passphrase are mutually exclusive.");
        return false;
    }
    let r = ctx.api.get_value(key, o.noattr, o.pass);
    if !checked(r.ok, r.code, false) {
        return false;
    }
    let pk = printable(key);
    let head = nest(n, "+");
    if r.val.is_empty() {
        line(&[head.as_bytes(), b"\"", &pk, b"\" => value is not found"]);
    } else if o.dump {
        binary_dump(&pk, &r.val, n);
    } else {
        line(&[
            head.as_bytes(),
            b"\"",
            &pk,
            b"\" => \"",
            &printable(&r.val),
            b"\"",
        ]);
    }
    if !print_subkeys(ctx, key, o, n + 1) {
        wan("Something wrong occurred during printing subkey.");
    }
    true
}

fn print(ctx: &mut Ctx, p: &P) {
    let mut o = PrintOpts {
        all: false,
        noattr: false,
        pass: None,
        dump: false,
    };
    let mut pass = String::new();
    for w in &p[1..] {
        if eq(w, "all") {
            o.all = true;
        } else if eq(w, "noattrcheck") {
            o.noattr = true;
        } else if let Some(v) = kv(w, "PASS=") {
            pass = v.to_string();
        } else if eq(w, "dump") {
            o.dump = true;
        } else {
            err(&format!("Unknown parameter({w}) for print command."));
            return;
        }
    }
    if o.noattr && !pass.is_empty() {
        err("Parameter noattrcheck and pass are mutually exclusive.");
        return;
    }
    o.pass = (!pass.is_empty()).then_some(pass.as_str());
    if !print_key(ctx, &with_nul(&p[0]), &o, 0) {
        err("Something error occurred.");
    }
}

/// GET_DIRECT of `len` bytes at `off`; None (reported) on failure.
fn direct_get(ctx: &mut Ctx, key: &[u8], off: i64, len: usize) -> Option<Vec<u8>> {
    if key.is_empty() || off < 0 || len == 0 {
        err("Parameters are wrong.");
        return None;
    }
    let r = ctx.api.get_direct(key, off, len);
    checked(r.ok, r.code, false).then_some(r.val)
}

fn directprint(ctx: &mut Ctx, p: &P) {
    let key = &p[0];
    // (the original converts atoi's int to size_t: a negative length is huge)
    let len = atoi32(&p[1]) as i64 as u64 as usize;
    let off = i64::from(atoi32(&p[2]));
    let mut dump = false;
    for w in &p[3..] {
        if eq(w, "dump") {
            dump = true;
        } else {
            err(&format!(
                "Unknown parameter({w}) for directprint(dp) command."
            ));
            return;
        }
    }
    if len > MAX_ONE_VALUE_LENGTH {
        err(&format!(
            "length parameter({}) for directprint(dp) command is over maximum length({MAX_ONE_VALUE_LENGTH}).",
            p[1]
        ));
        return;
    }
    if off < 0 {
        err(&format!(
            "offset parameter({}) for directprint(dp) command must be positive number.",
            p[2]
        ));
        return;
    }
    let Some(v) = direct_get(ctx, &with_nul(key), off, len) else {
        return;
    };
    if v.is_empty() {
        prn(&format!("\"{key}\" => value is not found"));
    } else if dump {
        let label = format!("{key} (offset:{off} byte, request {len} byte)");
        binary_dump(label.as_bytes(), &v, 0);
    } else {
        line(&[
            format!("\"{key} (offset:{off} byte, request {len} byte)\" => \"").as_bytes(),
            &printable(&v),
            b"\"",
        ]);
    }
}

fn printattr(ctx: &mut Ctx, p: &P) {
    let key = &p[0];
    let mut dump = false;
    let mut name = String::new();
    for w in &p[1..] {
        if eq(w, "dump") {
            dump = true;
        } else if let Some(v) = kv(w, "NAME=") {
            name = v.to_string();
        } else {
            err(&format!(
                "Unknown parameter({w}) for print attributes command."
            ));
            return;
        }
    }
    let r = ctx.api.get_attrs(&with_nul(key));
    if !checked(r.ok, r.code, false) {
        return;
    }
    if r.val.is_empty() {
        prn(&format!("KEY => \"{key}\" (attribute is not found)"));
        return;
    }
    prn(&format!("KEY => \"{key}\""));
    let want = with_nul(&name);
    let mut printed = false;
    for (n, v) in &r.val {
        if !name.is_empty() && *n != want {
            continue;
        }
        if dump {
            binary_dump(b"+ NAME =", n, 1);
            binary_dump(b"  VALUE=", v, 1);
        } else {
            line(&[b"  +\"", &printable(n), b"\" => \"", &printable(v), b"\""]);
        }
        printed = true;
    }
    if !printed {
        prn("  + attribute is not found");
    }
}

fn copyfile(ctx: &mut Ctx, p: &P) {
    let key = with_nul(&p[0]);
    let len = atoi32(&p[1]) as i64 as u64 as usize;
    let off = i64::from(atoi32(&p[2]));
    let file = &p[3];
    if off < 0 {
        err(&format!(
            "offset parameter({}) for copyfile(cf) command must be positive number.",
            p[2]
        ));
        return;
    }
    let mut total = 0usize;
    while total < len {
        let want = MAX_ONE_VALUE_LENGTH.min(len - total);
        let Some(v) = direct_get(ctx, &key, off + total as i64, want) else {
            return;
        };
        if v.is_empty() {
            err("Parameter is wrong.");
            err(&format!(
                "Something error occurred to write to file({file})."
            ));
            return;
        }
        if let Err(e) = append(file, &v) {
            err(&e);
            err(&format!(
                "Something error occurred to write to file({file})."
            ));
            return;
        }
        total += v.len();
        if v.len() < want {
            break;
        }
    }
}

fn append(file: &str, v: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o666)
        .open(file)
        .map_err(|_| format!("Could not open file({file})."))?;
    f.write_all(v).map_err(|e| {
        format!(
            "Failed to write to file({file}), errno = {}",
            e.raw_os_error().unwrap_or(0)
        )
    })
}

// ------------------------------------------------------------------ writing

/// `rm`: DEL of the key (and of all its subkeys). False (reported) on failure.
fn remove_key(ctx: &mut Ctx, key: &[u8], all: bool) -> bool {
    if key.is_empty() {
        err("parameters are wrong.");
        return false;
    }
    let r = ctx.api.remove(key, all);
    checked(r.ok, r.code, false)
}

/// Options of set and fill: rmsub / rmsublist / noattrcheck / pass= / expire=.
struct SetOpts {
    noattr: bool,
    rmsub: bool,
    rmsublist: bool,
    pass: String,
    expire: Option<i64>,
}

impl SetOpts {
    fn parse(p: &P, what: &str, with_rmsub: bool) -> Option<SetOpts> {
        let mut o = SetOpts {
            noattr: false,
            rmsub: false,
            rmsublist: false,
            pass: String::new(),
            expire: None,
        };
        let mut rmsubs = 0;
        for w in p {
            if eq(w, "noattrcheck") {
                o.noattr = true;
            } else if with_rmsub && eq(w, "rmsub") {
                o.rmsub = true;
                o.rmsublist = true;
                rmsubs += 1;
            } else if with_rmsub && eq(w, "rmsublist") {
                o.rmsub = false;
                o.rmsublist = true;
                rmsubs += 1;
            } else if let Some(v) = kv(w, "PASS=") {
                o.pass = v.to_string();
            } else if let Some(v) = kv(w, "EXPIRE=") {
                o.expire = expire_param(v);
            } else {
                err(&format!("Unknown parameter({w}) for {what} command."));
                return None;
            }
        }
        if rmsubs > 1 {
            err("Parameter \"rmsub\" and \"rmsublist\" not be specified together.");
            return None;
        }
        Some(o)
    }

    fn pass(&self) -> Option<&str> {
        (!self.pass.is_empty()).then_some(self.pass.as_str())
    }
}

/// SET of a key; with `rmsub` its former subkeys are removed afterwards.
fn raw_set(ctx: &mut Ctx, key: &[u8], val: &[u8], o: &SetOpts) -> bool {
    let old = if o.rmsub {
        let Some(l) = subkeys_of(ctx, key, o.noattr, false) else {
            err("Something error occurred during getting subkeys.");
            return false;
        };
        l
    } else {
        Vec::new()
    };
    let wa = Wa {
        checkattr: true,
        pass: o.pass(),
        expire: o.expire,
    };
    let r = ctx.api.set_value(key, val, o.rmsublist, wa);
    if !checked(r.ok, r.code, false) {
        return false;
    }
    for k in &old {
        if !remove_key(ctx, k, true) {
            wan("Something wrong occurred during removing subkey, but continue...");
        }
    }
    true
}

/// A value parameter: "null" is no value.
fn null_value(s: &str) -> Vec<u8> {
    if s == "null" {
        Vec::new()
    } else {
        value_bytes(s)
    }
}

fn set(ctx: &mut Ctx, p: &P) {
    let Some(o) = SetOpts::parse(&p[2..], "set", true) else {
        return;
    };
    if !raw_set(ctx, &with_nul(&p[0]), &null_value(&p[1]), &o) {
        err("Something internal error occurred during setting key and value.");
    }
}

fn fill(ctx: &mut Ctx, p: &P) {
    let count = atoi32(&p[2]);
    let Some(o) = SetOpts::parse(&p[3..], "fill", true) else {
        return;
    };
    if count <= 0 {
        err("Parameter \"count\" must be positive value.");
        return;
    }
    let val = null_value(&p[1]);
    for i in 0..count {
        if !raw_set(ctx, &with_nul(format!("{}-{i}", p[0])), &val, &o) {
            err("Something internal error occurred during setting key and value.");
            return;
        }
    }
}

/// set_subkey: the subkey's value, and its name into the parent.
fn raw_setsub(ctx: &mut Ctx, parent: &[u8], sub: &[u8], val: &[u8], wa: Wa) -> bool {
    if parent.is_empty() || sub.is_empty() {
        err("Parameters are wrong.");
        return false;
    }
    let r = ctx.api.set_subkey(parent, sub, val, wa);
    checked(r.ok, r.code, false)
}

fn fillsub(ctx: &mut Ctx, p: &P) {
    let count = atoi32(&p[3]);
    let Some(o) = SetOpts::parse(&p[4..], "fill subkey", false) else {
        return;
    };
    if count <= 0 {
        err("Parameter \"count\" must be positive value.");
        return;
    }
    let parent = with_nul(&p[0]);
    let val = null_value(&p[2]);
    let wa = Wa {
        checkattr: !o.noattr,
        pass: o.pass(),
        expire: o.expire,
    };
    for i in 0..count {
        if !raw_setsub(ctx, &parent, &with_nul(format!("{}-{i}", p[1])), &val, wa) {
            err("Something internal error occurred during setting subkey and value into parent key.");
            return;
        }
    }
}

fn directset(ctx: &mut Ctx, p: &P) {
    let off = i64::from(atoi32(&p[2]));
    if off < 0 {
        err(&format!(
            "offset parameter({}) for directset(dset) command must be positive number.",
            p[2]
        ));
        return;
    }
    if !direct_set(ctx, &with_nul(&p[0]), &value_bytes(&p[1]), off) {
        err("Failed to set direct value.");
    }
}

/// SET_DIRECT; false only for bad parameters (a failed request is reported and passes).
fn direct_set(ctx: &mut Ctx, key: &[u8], val: &[u8], off: i64) -> bool {
    if key.is_empty() || val.is_empty() || off < 0 {
        err("parameters are wrong.");
        return false;
    }
    let r = ctx.api.set_direct(key, val, off);
    checked(r.ok, r.code, false);
    true
}

fn setfile(ctx: &mut Ctx, p: &P) {
    let key = with_nul(&p[0]);
    let off = i64::from(atoi32(&p[1]));
    let file = &p[2];
    if off < 0 {
        err(&format!(
            "offset parameter({}) for directset(dset) command must be positive number.",
            p[1]
        ));
        return;
    }
    let data = match std::fs::read(file) {
        Ok(d) => d,
        Err(e) => {
            err(&format!(
                "Could not get stat for file({file}) by errno({})",
                e.raw_os_error().unwrap_or(0)
            ));
            err(&format!(
                "Could not file({file}) size for set file command."
            ));
            return;
        }
    };
    if data.is_empty() {
        return;
    }
    // (the original writes the file in pieces of 10 bytes)
    for (i, chunk) in data.chunks(10).enumerate() {
        if !direct_set(ctx, &key, chunk, off + (i * 10) as i64) {
            err("Failed to set value from file.");
            return;
        }
    }
}

fn rm(ctx: &mut Ctx, p: &P) {
    let mut all = false;
    for w in &p[1..] {
        if eq(w, "all") {
            all = true;
        } else {
            err(&format!("Unknown parameter({w}) for del(rm) command."));
            return;
        }
    }
    if !remove_key(ctx, &with_nul(&p[0]), all) {
        err("Something internal error occurred during removing key.");
    }
}

fn setsub(ctx: &mut Ctx, p: &P) {
    let parent = with_nul(&p[0]);
    let sub = with_nul(&p[1]);
    let mut noattr = false;
    let mut expire = None;
    let mut pass = String::new();
    let mut value = String::new();
    for w in &p[2..] {
        if let Some(v) = kv(w, "PASS=") {
            pass = v.to_string();
        } else if let Some(v) = kv(w, "EXPIRE=") {
            expire = expire_param(v);
        } else if eq(w, "noattrcheck") {
            noattr = true;
        } else if value.is_empty() {
            value = w.clone();
        } else {
            err(&format!("Unknown parameter({w}) for set subkey command."));
            return;
        }
    }
    let only_key = value.is_empty();
    if only_key && (!pass.is_empty() || expire.is_some()) {
        err("Passphrase or expire parameter is specified without value parameter.");
        return;
    }
    if !only_key {
        // (sic) the original inverts noattrcheck twice on this path
        let wa = Wa {
            checkattr: noattr,
            pass: (!pass.is_empty()).then_some(pass.as_str()),
            expire,
        };
        if !raw_setsub(ctx, &parent, &sub, &null_value(&value), wa) {
            err("Something error occurred during set subkey and value into parent key.");
        }
        return;
    }
    let Some(mut list) = subkeys_of(ctx, &parent, noattr, false) else {
        err("Something error occurred during getting subkeys.");
        return;
    };
    list.push(sub);
    let r = ctx.api.set_subkeys(&parent, Some(&list));
    checked(r.ok, r.code, false);
}

fn rmsub(ctx: &mut Ctx, p: &P) {
    let parent = with_nul(&p[0]);
    let (mut noattr, mut rmsub, mut all) = (false, false, false);
    let mut name = String::new();
    for (i, w) in p.iter().enumerate().skip(1) {
        if eq(w, "noattrcheck") {
            noattr = true;
        } else if eq(w, "rmsub") {
            rmsub = true;
        } else if eq(w, "all") {
            all = true;
        } else if i == 1 {
            name = w.clone();
        } else {
            err(&format!(
                "Unknown parameter({w}) for remove subkey command."
            ));
            return;
        }
    }
    if all && !name.is_empty() {
        err("Parameter subkey name and \"all\" not be specified together.");
        return;
    }
    if !all && name.is_empty() {
        err("Parameter subkey name or \"all\" must be specified.");
        return;
    }
    let Some(list) = subkeys_of(ctx, &parent, noattr, false) else {
        err("Something error occurred during getting subkeys.");
        return;
    };
    let target = with_nul(&name);
    let r = if all {
        ctx.api.set_subkeys(&parent, None)
    } else {
        if !list.contains(&target) {
            wan("The subkey is not in subkey list.");
            err("Something error occurred during removing subkey.");
            return;
        }
        let rest: Vec<Vec<u8>> = list.iter().filter(|k| **k != target).cloned().collect();
        ctx.api.set_subkeys(&parent, Some(&rest))
    };
    if !checked(r.ok, r.code, false) || !rmsub {
        return;
    }
    if all {
        for k in &list {
            if !remove_key(ctx, k, true) {
                wan("Something internal error occurred during removing subkeys. but continue...");
            }
        }
    } else if !remove_key(ctx, &target, true) {
        wan("Something internal error occurred during removing target subkey.");
    }
}

fn rename(ctx: &mut Ctx, p: &P) {
    let mut noattr = false;
    let mut expire = None;
    let mut parent = String::new();
    let mut pass = String::new();
    for w in &p[2..] {
        if let Some(v) = kv(w, "PARENT=") {
            parent = v.to_string();
        } else if let Some(v) = kv(w, "PASS=") {
            pass = v.to_string();
        } else if let Some(v) = kv(w, "EXPIRE=") {
            expire = expire_param(v);
        } else if eq(w, "noattrcheck") {
            noattr = true;
        } else {
            err(&format!("Unknown parameter({w}) for rename command."));
            return;
        }
    }
    let parent = (!parent.is_empty()).then(|| with_nul(&parent));
    let wa = Wa {
        checkattr: !noattr,
        pass: (!pass.is_empty()).then_some(pass.as_str()),
        expire,
    };
    let r = ctx
        .api
        .rename(&with_nul(&p[0]), &with_nul(&p[1]), parent.as_deref(), wa);
    checked(r.ok, r.code, false);
}

// ------------------------------------------------------------------ queues

/// `queue` and `keyqueue`: `<name> push|pop|remove fifo|lifo ...`; the name is sent without
/// its NUL (as k2hlinetool names queues).
fn queue(ctx: &mut Ctx, p: &P, keyq: bool) {
    let what = if keyq { "key queue" } else { "queue" };
    let name = p[0].as_bytes();
    let sub = &p[1];
    let fifo = if eq(&p[2], "FIFO") {
        true
    } else if eq(&p[2], "LIFO") {
        false
    } else {
        err(&format!("Unknown parameter({}) for {what} command.", p[2]));
        return;
    };
    let rest = &p[3..];
    if eq(sub, "push") {
        queue_push(ctx, name, fifo, keyq, rest);
    } else if eq(sub, "pop") {
        queue_pop(ctx, name, fifo, keyq, rest);
    } else if eq(sub, "remove") || eq(sub, "rm") || eq(sub, "del") {
        queue_remove(ctx, name, fifo, keyq, rest);
    } else {
        err(&format!("Unknown sub command({sub}) for queue command."));
    }
}

fn queue_push(ctx: &mut Ctx, name: &[u8], fifo: bool, keyq: bool, p: &P) {
    let what = if keyq { "key queue" } else { "queue" };
    let need = if keyq { 2 } else { 1 };
    if p.len() < need {
        err(&format!("Too few parameter for {what} push command."));
        return;
    }
    let mut noattr = false;
    let mut expire = None;
    let mut pass = String::new();
    for w in &p[need..] {
        if let Some(v) = kv(w, "PASS=") {
            pass = v.to_string();
        } else if let Some(v) = kv(w, "EXPIRE=") {
            expire = expire_param(v);
        } else if eq(w, "noattrcheck") {
            noattr = true;
        } else {
            err(&format!("Unknown parameter({w}) for {what} push command."));
            return;
        }
    }
    let wa = Wa {
        checkattr: !noattr,
        pass: (!pass.is_empty()).then_some(pass.as_str()),
        expire,
    };
    let key = keyq.then(|| with_nul(&p[0]));
    let val = with_nul(&p[need - 1]);
    let r = ctx.api.q_push(name, key.as_deref(), &val, fifo, wa);
    checked(r.ok, r.code, false);
}

fn queue_pop(ctx: &mut Ctx, name: &[u8], fifo: bool, keyq: bool, p: &P) {
    let what = if keyq { "key queue" } else { "queue" };
    let (mut noattr, mut dump) = (false, false);
    let mut pass = String::new();
    for w in p {
        if let Some(v) = kv(w, "PASS=") {
            pass = v.to_string();
        } else if eq(w, "noattrcheck") {
            noattr = true;
        } else if eq(w, "dump") {
            dump = true;
        } else {
            // (sic) the original names the push command here
            err(&format!("Unknown parameter({w}) for {what} push command."));
            return;
        }
    }
    let pass = (!pass.is_empty()).then_some(pass.as_str());
    let r = ctx.api.q_pop(name, keyq, fifo, !noattr, pass);
    if !checked(r.ok, r.code, false) {
        return;
    }
    let (k, v) = r.val;
    let pn = printable(name);
    if v.is_empty() {
        line(&[b"popped \"", &pn, b"\" queue => could not pop"]);
    } else if dump {
        binary_dump(b"queue name  =", name, 0);
        if keyq {
            binary_dump(b"queue key   =", &k, 0);
        }
        binary_dump(b"popped value=", &v, 0);
    } else if keyq {
        line(&[
            b"popped \"",
            &pn,
            b"\" queue => \"",
            &printable(&k),
            b"\" : \"",
            &printable(&v),
            b"\"",
        ]);
    } else {
        line(&[b"popped \"", &pn, b"\" queue => \"", &printable(&v), b"\""]);
    }
}

fn queue_remove(ctx: &mut Ctx, name: &[u8], fifo: bool, keyq: bool, p: &P) {
    let what = if keyq { "key queue" } else { "queue" };
    let mut pass = String::new();
    if p.is_empty() {
        err(&format!("Too few parameter for {what} remove command."));
        return;
    } else if p.len() > 2 {
        err(&format!(
            "Unknown parameter({}) for {what} remove command.",
            p[2]
        ));
        return;
    } else if p.len() == 2 {
        match kv(&p[1], "PASS=") {
            Some(v) => pass = v.to_string(),
            None => {
                err(&format!(
                    "Unknown parameter({}) for {what} push command.",
                    p[1]
                ));
                return;
            }
        }
    }
    let count = atoi32(&p[0]);
    if count <= 0 {
        err("Parameter \"count\" must be positive number.");
        return;
    }
    let pass = (!pass.is_empty()).then_some(pass.as_str());
    let r = ctx.api.q_remove(name, keyq, count, fifo, pass);
    checked(r.ok, r.code, false);
}

// ------------------------------------------------------------------ cas

/// pass= and (when allowed) expire= of a cas sub command.
fn cas_opts(p: &P, sub: &str, with_expire: bool) -> Option<(String, Option<i64>)> {
    let mut pass = String::new();
    let mut expire = None;
    for w in p {
        if let Some(v) = kv(w, "PASS=") {
            pass = v.to_string();
        } else if let Some(v) = kv(w, "EXPIRE=").filter(|_| with_expire) {
            expire = expire_param(v);
        } else {
            err(&format!("Unknown parameter({w}) for cas {sub} command."));
            return None;
        }
    }
    Some((pass, expire))
}

/// A cas value parameter: C `atoi`, then cut to the width.
fn cas_value(s: &str) -> u64 {
    i64::from(atoi32(s)) as u64
}

fn cas(ctx: &mut Ctx, w: Width, p: &P) {
    let sub = p[0].as_str();
    let p = &p[1..];
    // (sic) the original reports every short cas command as "init"
    let need = if eq(sub, "init") {
        2
    } else if eq(sub, "set") {
        3
    } else {
        1
    };
    let known = ["init", "get", "set", "increment", "inc", "decrement", "dec"];
    if !known.iter().any(|k| eq(sub, k)) {
        err(&format!("Unknown parameter({sub}) for cas command."));
        return;
    }
    if p.len() < need {
        err("Too few parameter for cas init command.");
        return;
    }
    let key = with_nul(&p[0]);
    let incdec = !matches!(need, 2 | 3) && !eq(sub, "get");
    let what = if incdec { "increment/decrement" } else { sub };
    let Some((pass, expire)) = cas_opts(&p[need..], what, !eq(sub, "get")) else {
        return;
    };
    let wa = Wa {
        checkattr: true,
        pass: (!pass.is_empty()).then_some(pass.as_str()),
        expire,
    };
    let r = if eq(sub, "init") {
        ctx.api.cas_init(&key, w, cas_value(&p[1]), wa)
    } else if eq(sub, "set") {
        ctx.api
            .cas_set(&key, w, cas_value(&p[1]), cas_value(&p[2]), wa)
    } else if eq(sub, "get") {
        let r = ctx.api.cas_get(&key, w, wa.pass);
        if checked(r.ok, r.code, false) {
            let v = r.val;
            let k = &p[0];
            prn(&match w {
                Width::W8 => format!("\"{k}\" => {v} (0x{v:02X})"),
                Width::W16 => format!("\"{k}\" => {v} (0x{v:04X})"),
                Width::W32 => format!("\"{k}\" => {v} (0x{v:08X})"),
                Width::W64 => format!("\"{k}\" => {v} (0x{v:016x})"),
            });
        }
        return;
    } else {
        ctx.api
            .cas_incdec(&key, eq(sub, "increment") || eq(sub, "inc"), wa)
    };
    checked(r.ok, r.code, false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_values_as_the_original_reads_them() {
        assert_eq!(kv("pass=abc", "PASS="), Some("abc"));
        assert_eq!(kv("Expire=10", "EXPIRE="), Some("10"));
        assert_eq!(kv("pas", "PASS="), None);
        assert_eq!(expire_param("-1"), None);
        assert_eq!(expire_param("30"), Some(30));
        assert_eq!(null_value("null"), Vec::<u8>::new());
        assert_eq!(null_value("v"), b"v\0".to_vec());
        assert_eq!(nest(0, "+"), "");
        assert_eq!(nest(2, "subkey: "), "    subkey: ");
        assert_eq!(cas_value("-1"), u64::MAX);
        assert_eq!(cas_value("10x"), 10);
    }

    #[test]
    fn command_table_matches_quit_before_queue() {
        let (name, p) = shell::parse_line("q", LINE_OPTS).unwrap();
        assert_eq!((name.as_str(), p.len()), ("quit", 0));
        let (name, p) = shell::parse_line("que n push fifo v", LINE_OPTS).unwrap();
        assert_eq!((name.as_str(), p.len()), ("q", 4));
        assert!(shell::parse_line("echo ### x", LINE_OPTS).is_some());
        assert!(shell::parse_line("# comment", LINE_OPTS).is_none());
    }
}
