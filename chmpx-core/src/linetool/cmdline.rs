//! Option tables and word splitting. Both the command line (`-conf file ...`) and a console
//! line (`nodes noupdate server`) are a list of words matched against a table: a known word
//! (any case) takes between `min` and `max` following words as its parameters; an unknown
//! word or a word starting with `#` ends the parse.

use std::collections::BTreeMap;

use super::Verbosity;

/// One option or command: its spellings map to one normalised name.
#[derive(Debug, Clone, Copy)]
pub struct OptType {
    pub option: &'static str,
    pub norm: &'static str,
    pub min: usize,
    pub max: usize,
}

const fn o(option: &'static str, norm: &'static str, min: usize, max: usize) -> OptType {
    OptType {
        option,
        norm,
        min,
        max,
    }
}

/// The command line options.
pub const EXEC_OPTIONS: &[OptType] = &[
    o("-help", "-help", 0, 0),
    o("-h", "-help", 0, 0),
    o("-conf", "-conf", 1, 1),
    o("-json", "-json", 1, 1),
    o("-group", "-group", 1, 1),
    o("-host", "-host", 1, 1),
    o("-type", "-type", 1, 1),
    o("-hostname", "-host", 1, 1),
    o("-port", "-ctrlport", 1, 1),
    o("-ctlport", "-ctrlport", 1, 1),
    o("-ctrlport", "-ctrlport", 1, 1),
    o("-cntlport", "-ctrlport", 1, 1),
    o("-cntrlport", "-ctrlport", 1, 1),
    o("-cuk", "-cuk", 1, 1),
    o("-ctlendpoints", "-ctlendpoints", 1, 1),
    o("-ctleps", "-ctlendpoints", 1, 1),
    o("-ceps", "-ctlendpoints", 1, 1),
    o("-custom_seed", "-custom_seed", 1, 1),
    o("-custom", "-custom_seed", 1, 1),
    o("-seed", "-custom_seed", 1, 1),
    o("-cs", "-custom_seed", 1, 1),
    o("-server", "-server", 0, 0),
    o("-svr", "-server", 0, 0),
    o("-slave", "-slave", 0, 0),
    o("-slv", "-slave", 0, 0),
    o("-threadcount", "-threadcnt", 1, 1),
    o("-threadcnt", "-threadcnt", 1, 1),
    o("-thread", "-threadcnt", 1, 1),
    o("-thcnt", "-threadcnt", 1, 1),
    o("-tcnt", "-threadcnt", 1, 1),
    o("-check", "-check", 1, 1),
    o("-status", "-status", 1, 1),
    o("-nocolor", "-nocolor", 0, 0),
    o("-noclr", "-nocolor", 0, 0),
    o("-lap", "-lap", 0, 0),
    o("-d", "-d", 1, 1),
    o("-dchmpx", "-dchmpx", 0, 0),
    o("-g", "-d", 1, 1),
    o("-history", "-history", 1, 1),
    o("-his", "-history", 1, 1),
    o("-run", "-run", 1, 1),
];

/// The console commands.
pub const LINE_COMMANDS: &[OptType] = &[
    o("help", "help", 0, 0),
    o("h", "help", 0, 0),
    o("quit", "quit", 0, 0),
    o("q", "quit", 0, 0),
    o("exit", "quit", 0, 0),
    o("update", "update", 0, 0),
    o("up", "update", 0, 0),
    o("u", "update", 0, 0),
    o("nodes", "nodes", 0, 2),
    o("node", "nodes", 0, 2),
    o("n", "nodes", 0, 2),
    o("status", "status", 0, 2),
    o("check", "check", 0, 2),
    o("statusupdate", "statusupdate", 0, 2),
    o("statusup", "statusupdate", 0, 2),
    o("stsup", "statusupdate", 0, 2),
    o("updatestatus", "statusupdate", 0, 2),
    o("upstatus", "statusupdate", 0, 2),
    o("upsts", "statusupdate", 0, 2),
    o("servicein", "servicein", 0, 2),
    o("svcin", "servicein", 0, 2),
    o("sin", "servicein", 0, 2),
    o("serviceout", "serviceout", 0, 2),
    o("svcout", "serviceout", 0, 2),
    o("sout", "serviceout", 0, 2),
    o("merge", "merge", 1, 2),
    o("suspend", "suspend", 0, 1),
    o("sus", "suspend", 0, 1),
    o("nosuspend", "nosuspend", 0, 1),
    o("nosus", "nosuspend", 0, 1),
    o("dump", "dump", 0, 2),
    o("version", "version", 0, 1),
    o("ver", "version", 0, 1),
    o("v", "version", 0, 1),
    o("loop", "loop", 1, 2),
    o("loopcmd", "loopcmd", 1, 9999),
    o("lcmd", "loopcmd", 1, 9999),
    o("dbglevel", "dbglevel", 0, 1),
    o("dchmpx", "dchmpx", 0, 1),
    o("history", "history", 0, 0),
    o("his", "history", 0, 0),
    o("save", "save", 1, 1),
    o("load", "load", 1, 1),
    o("shell", "shell", 0, 0),
    o("sh", "shell", 0, 0),
    o("echo", "echo", 1, 9999),
    o("sleep", "sleep", 1, 1),
];

/// Commands a command file or a loop may hold (`loop`/`loopcmd` only in files).
pub const ALLOWED_SUB_COMMANDS: &[&str] = &[
    "help",
    "h",
    "quit",
    "q",
    "exit",
    "update",
    "up",
    "u",
    "nodes",
    "node",
    "n",
    "status",
    "check",
    "statusupdate",
    "statusup",
    "stsup",
    "servicein",
    "svcin",
    "sin",
    "serviceout",
    "svcout",
    "sout",
    "merge",
    "suspend",
    "sus",
    "nosuspend",
    "nosus",
    "dump",
    "version",
    "ver",
    "v",
    "dbglevel",
    "dchmpx",
    "history",
    "his",
    "save",
    "echo",
    "sleep",
];

/// Normalised name -> parameters (the original keeps them in a sorted map).
pub type OptMap = BTreeMap<String, Vec<String>>;

/// The first word of a line (up to a space, tab, CR or LF).
pub fn first_word(line: &str) -> &str {
    let end = line.find([' ', '\t', '\r', '\n']).unwrap_or(line.len());
    &line[..end]
}

/// May `line` be run from a command file (`allow_loop`) or a loop?
pub fn is_allowed_sub_command(line: &str, allow_loop: bool) -> bool {
    let w = first_word(line);
    if ALLOWED_SUB_COMMANDS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(w))
    {
        return true;
    }
    allow_loop && (w.eq_ignore_ascii_case("loop") || w.eq_ignore_ascii_case("loopcmd"))
}

/// Matches `args` against `types`; `None` (after saying why) on an unknown word, too few
/// parameters, or a comment.
pub fn parse_words(args: &[String], types: &[OptType], v: &Verbosity) -> Option<OptMap> {
    let mut opts = OptMap::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg.starts_with('#') {
            return None;
        }
        let Some(t) = types.iter().find(|t| t.option.eq_ignore_ascii_case(arg)) else {
            v.err(format!("Unknown option({arg})."));
            return None;
        };
        if args.len() < i + 1 + t.min {
            v.err(format!("Option({arg}) needs {} parameter.", t.min));
            return None;
        }
        let params: Vec<String> = args[i + 1..].iter().take(t.max).cloned().collect();
        i += 1 + params.len();
        opts.insert(t.norm.to_string(), params);
    }
    Some(opts)
}

/// Splits a console line into words (`linetool_words::split`: the originals' rules); an
/// unmatched quote is reported.
pub fn split_line(line: &str, v: &Verbosity) -> Option<Vec<String>> {
    match linetool_words::split(line) {
        Ok(words) => Some(words),
        Err(e) => {
            v.err(e);
            None
        }
    }
}

/// A console line as one command and its parameters; `None` when it is not one (the reason
/// was printed), an empty map for an empty line.
pub fn parse_line(line: &str, v: &Verbosity) -> Option<OptMap> {
    let args = split_line(line, v)?;
    let opts = parse_words(&args, LINE_COMMANDS, v)?;
    if opts.len() > 1 {
        v.err("Too many option parameter.");
        return None;
    }
    Some(opts)
}

/// A target host: `host[:ctlport[:cuk[:custom_seed[:ctlendpoints...]]]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostParam {
    pub host: String,
    pub port: i16,
    pub cuk: String,
    pub ctlendpoints: String,
    pub custom_seed: String,
}

pub fn parse_host_parameter(param: &str) -> HostParam {
    let mut hp = HostParam {
        host: param.to_string(),
        port: crate::wire::CHM_INVALID_PORT,
        ..HostParam::default()
    };
    let Some((host, rest)) = param.split_once(':') else {
        return hp;
    };
    hp.host = host.to_string();
    let Some((port, rest)) = rest.split_once(':') else {
        hp.port = super::atos(rest);
        return hp;
    };
    hp.port = super::atos(port);
    let Some((cuk, rest)) = rest.split_once(':') else {
        hp.cuk = rest.to_string();
        return hp;
    };
    hp.cuk = cuk.to_string();
    match rest.split_once(':') {
        Some((seed, eps)) => {
            hp.custom_seed = seed.to_string();
            hp.ctlendpoints = eps.to_string();
        }
        None => hp.custom_seed = rest.to_string(),
    }
    hp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        split_line(s, &Verbosity::SILENT).unwrap()
    }

    #[test]
    fn splitting() {
        assert_eq!(
            words("  nodes   noupdate\tserver "),
            ["nodes", "noupdate", "server"]
        );
        assert_eq!(words("echo \"a b\" c"), ["echo", "a b", "c"]);
        assert_eq!(words("echo \"say \\\"hi\\\"\""), ["echo", "say \"hi\""]);
        assert_eq!(words("echo a\\ b"), ["echo", "a", "b"]);
        assert_eq!(words("echo \\#x"), ["echo", "#x"]);
        assert_eq!(words("dump\nignored"), ["dump"]);
        assert!(split_line("echo \"open", &Verbosity::SILENT).is_none());
        assert!(split_line("echo \"a\"b", &Verbosity::SILENT).is_none());
        assert!(words("").is_empty());
    }

    #[test]
    fn commands() {
        let v = Verbosity::SILENT;
        let m = parse_line("N noupdate server", &v).unwrap();
        assert_eq!(m["nodes"], ["noupdate", "server"]);
        assert!(parse_line("nodes a b c", &v).is_none());
        assert!(parse_line("merge", &v).is_none());
        assert!(parse_line("bogus", &v).is_none());
        assert!(parse_line("# comment", &v).is_none());
        assert!(parse_line("", &v).unwrap().is_empty());
        assert_eq!(parse_line("echo a b c d", &v).unwrap()["echo"].len(), 4);
        assert!(is_allowed_sub_command("check all", false));
        assert!(!is_allowed_sub_command("loop 1", false));
        assert!(is_allowed_sub_command("LOOP 1", true));
        assert!(!is_allowed_sub_command("load x", true));
        assert!(!is_allowed_sub_command(" nodes", true));
    }

    #[test]
    fn host_parameter() {
        let h = parse_host_parameter("host.dom:8021:cuk1:seed:h1:1,h2:2");
        assert_eq!(h.host, "host.dom");
        assert_eq!(h.port, 8021);
        assert_eq!(h.cuk, "cuk1");
        assert_eq!(h.custom_seed, "seed");
        assert_eq!(h.ctlendpoints, "h1:1,h2:2");
        let h = parse_host_parameter("host");
        assert_eq!(h.port, -1);
        assert_eq!(parse_host_parameter("h:80").port, 80);
        assert_eq!(parse_host_parameter("h:80:c").cuk, "c");
    }
}
