//! Starting the tool: the command line read into the tool's settings (`setup`), then the
//! first nodes loaded, the welcome text, a command file or the startup command run, and the
//! interactive loop (`run`).
use super::*;

/// What to do once the options are read.
pub(super) struct Start {
    config: String,
    from_env: bool,
    run_file: Option<String>,
    startup: Option<(String, i64)>,
}

/// Reads the command line options into `t`; `Err(exit code)` to stop.
pub(super) fn setup(t: &mut Tool, prg: &str, opts: &OptMap) -> Result<Start, i32> {
    let mut st = Start {
        config: String::new(),
        from_env: false,
        run_file: None,
        startup: None,
    };
    let first = |k: &str| opts.get(k).and_then(|v| v.first().cloned());
    let fail = |t: &Tool, m: &str| -> Result<Start, i32> {
        t.v.err(m);
        Err(1)
    };
    dbg::init();
    t.chmpx_dbg = opts.contains_key("-dchmpx");
    if !t.chmpx_dbg {
        set_chm_dbg(dbg::Level::Silent);
    }
    if let Some(d) = first("-d") {
        match Verbosity::parse(&d) {
            Some(v) => {
                if t.chmpx_dbg {
                    set_chm_dbg(if v.dmp {
                        dbg::Level::Msg
                    } else {
                        Tool::chm_level_for(&v)
                    });
                }
                t.v = v;
            }
            None => {
                return fail(
                    t,
                    &format!("Unknown parameter({d}) value for \"-d\" option."),
                )
            }
        }
    }
    if opts.contains_key("-help") {
        help(prg);
        return Err(0);
    }
    if let Some(p) = first("-ctrlport") {
        t.init.port = atos(&p);
    }
    if let Some(c) = first("-cuk") {
        t.init.cuk = c;
    }
    if let Some(e) = first("-ctlendpoints") {
        t.init.ctlendpoints = e;
    }
    if let Some(s) = first("-custom_seed") {
        t.init.custom_seed = s;
    }
    if let Some(g) = first("-group") {
        if !g.is_empty() {
            t.reg.group = g;
        }
    }
    if let Some(h) = first("-host") {
        t.init.host = h;
    }
    if let Some(ty) = first("-type") {
        t.reg.id_type = match ty.to_ascii_lowercase().as_str() {
            "name" => ChmpxIdType::Name,
            "cuk" => ChmpxIdType::Cuk,
            "endpoint" => ChmpxIdType::CtlEndpoints,
            "seed" => ChmpxIdType::Custom,
            _ => {
                return fail(
                    t,
                    &format!("Unknown parameter({ty}) value for \"-type\" option."),
                )
            }
        };
    }
    let has_conf = opts.contains_key("-conf") || opts.contains_key("-json");
    if !t.init.host.is_empty() && has_conf {
        return fail(
            t,
            "\"-host\" and \"-conf\"(or \"-json\") option cannot be specified at the same time.",
        );
    } else if !t.init.host.is_empty() {
        if t.reg.group.is_empty() {
            return fail(
                t,
                "If you specify the \"-host\" option, also specify the \"-group\" option.",
            );
        }
        if t.init.port == CHM_INVALID_PORT {
            return fail(t, "No control port(-ctrlport option) is specified.");
        }
    } else if has_conf {
        if !t.reg.group.is_empty() {
            t.v.wan("The \"-group\" option was specified, but it is ignored.");
        }
        if let Some(c) = first("-conf") {
            st.config = c;
        }
        if let Some(j) = first("-json") {
            if !st.config.is_empty() {
                return fail(
                    t,
                    "both option \"-conf\" and \"-json\" could not be specified.",
                );
            }
            st.config = j;
        }
    } else {
        let env = std::env::var("CHMCONFFILE")
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| std::env::var("CHMJSONCONF").ok().filter(|s| !s.is_empty()));
        let Some(c) = env else {
            return fail(t, "configuration file or json is not specified.");
        };
        if ConfSource::detect(&c, false).is_err() {
            return fail(t, "unknown configuration type loaded from environment.");
        }
        st.config = c;
        if !t.reg.group.is_empty() {
            t.v.wan("The \"-group\" option was specified, but it is ignored.");
        }
        t.v.msg("option \"-host\" and \"-conf\" and \"-json\" are not specified, then using environments(CHMCONFFILE or CHMJSONCONF).");
        st.from_env = true;
    }
    let (svr, slv) = (opts.contains_key("-server"), opts.contains_key("-slave"));
    if svr && slv {
        return fail(
            t,
            "both option \"-server\" and \"-slave\" could not be specified.",
        );
    } else if svr || slv {
        if t.init.host.is_empty() {
            let m = format!(
                "option \"-{}\" must be specified with \"-host\" option.",
                if svr { "server" } else { "slave" }
            );
            return fail(t, &m);
        }
        t.init_server = svr;
    }
    if let Some(n) = first("-threadcnt") {
        t.threads = hosts::parse_atoi(&n);
    }
    if let Some(s) = first("-check") {
        st.startup = Some(("check".into(), atos(&s) as i64));
    }
    if let Some(s) = first("-status") {
        if st.startup.is_some() {
            return fail(
                t,
                "Option \"-run\" and \"-check\" and \"-status\" are exclusive specifications.",
            );
        }
        st.startup = Some(("status".into(), atos(&s) as i64));
    }
    if opts.contains_key("-nocolor") {
        t.paint.enabled = false;
    }
    if opts.contains_key("-lap") {
        t.lap = true;
    }
    if let Some(h) = first("-history") {
        let n = hosts::parse_atoi(&h);
        if n != 0 {
            t.history_max = n as usize;
        }
    }
    if let Some(f) = first("-run") {
        if let Err(e) = std::fs::metadata(&f) {
            let m = format!(
                "Parameter command file path({f}) for option \"-run\" does not exist(errno={}).",
                e.raw_os_error().unwrap_or(0)
            );
            return fail(t, &m);
        }
        st.run_file = Some(f);
    }
    if st.startup.is_some() && st.run_file.is_some() {
        return fail(
            t,
            "Option \"-run\" and \"-check\" and \"-status\" are exclusive specifications.",
        );
    }
    Ok(st)
}

pub(super) fn run(t: &mut Tool, st: Start) -> i32 {
    let Start {
        config,
        from_env,
        run_file,
        startup,
    } = st;
    if !config.is_empty() {
        let (port, cuk) = (t.init.port, t.init.cuk.clone());
        if !t.load_initial_nodes(&config, port, &cuk) {
            t.v.err("Could not load nodes information by configuration/local SHM.");
            return 1;
        }
        t.one_host = false;
    } else if !t.init.host.is_empty() {
        let i = t.init.clone();
        let server = t.init_server;
        let mut list = Vec::new();
        t.reg.add_node(
            &mut list,
            CHM_INVALID_CHMPXID,
            &i.host,
            i.port,
            &i.cuk,
            &i.ctlendpoints,
            &i.custom_seed,
            server,
        );
        t.initial = list;
        t.one_host = true;
    } else {
        t.v.err("both \"-host\" and \"-conf(or -json)\" option(environment) are not specified.");
        return 1;
    }
    if !install_sigint() {
        t.v.err("Could not set SIGINT handler.");
        return 1;
    }
    t.tty = nix::unistd::isatty(0).unwrap_or(false);
    BREAK.store(false, Ordering::SeqCst);
    let mut go_on = true;
    if let Some(f) = run_file {
        let mut exit = false;
        if !t.handle_string(&format!("load {f}"), &mut exit) || exit {
            go_on = false;
        }
    } else if let Some((cmd, sec)) = startup {
        let mut exit = false;
        if !t.consecutive(&[cmd], "CLT> ", sec, 0, false, &mut exit) || exit {
            go_on = false;
        }
    } else {
        t.welcome(&config, from_env);
    }
    if go_on {
        BREAK.store(false, Ordering::SeqCst);
        while t.command_handle() && !broken() {}
    }
    if broken() {
        prn("");
    }
    0
}
