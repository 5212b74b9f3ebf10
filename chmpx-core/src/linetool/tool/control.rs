//! The commands that change the cluster or a node (`statusupdate`, `servicein`, `serviceout`,
//! `merge`, `suspend`/`nosuspend`), ask a node for its dump or version, and set debug levels
//! (`dbglevel`, `dchmpx`).
use super::*;

impl Tool {
    pub(super) fn cmd_statusupdate(&mut self, params: &[String]) {
        let (all, mut tg) = self.all_or_target(params);
        if !all {
            match self.find_in(true, &tg) {
                Some(n) => {
                    tg.host = n.hostname;
                    tg.port = n.ctrlport;
                }
                None => {
                    prn(&format!("Not found {}(:{}) in dynamic host list which is included from configuration file.", tg.host, tg.port));
                    return;
                }
            }
        }
        for n in self.targets.clone() {
            if !all && (tg.host != n.hostname || tg.port != n.ctrlport) {
                continue;
            }
            if !n.is_server {
                if !all {
                    prn(&format!(
                        "{}:{} host is slave node, thus could not send UPDATESTATUS.",
                        tg.host, tg.port
                    ));
                    return;
                }
                continue;
            }
            match self.send(&n.hostname, n.ctrlport, &n.ctlendpoints, "UPDATESTATUS") {
                None => self.v.wan(format!(
                    "Failed to send UPDATESTATUS command to {}:{}, but retry to send another node.",
                    n.hostname, n.ctrlport
                )),
                Some(r) if r.contains("SUCCEED") => prn(&format!(
                    "Succeed to send UPDATESTATUS to {}:{}",
                    n.hostname, n.ctrlport
                )),
                Some(r) => prn(&format!(
                    "Failed to send UPDATESTATUS to {}:{} by \"{r}\".",
                    n.hostname, n.ctrlport
                )),
            }
        }
    }

    pub(super) fn cmd_servicein(&mut self, params: &[String]) {
        let Some(n) = self.dynamic_target(params) else {
            return;
        };
        match self.send(&n.hostname, n.ctrlport, &n.ctlendpoints, "SERVICEIN") {
            None => self.v.err(format!(
                "Failed to send SERVICEIN command to {}:{}",
                n.hostname, n.ctrlport
            )),
            Some(r) if r.contains("SUCCEED") => prn(&format!(
                "Succeed to send SERVICEIN to {}:{}",
                n.hostname, n.ctrlport
            )),
            Some(r) => prn(&format!(
                "Failed to send SERVICEIN to {}:{}, error is {r}.",
                n.hostname, n.ctrlport
            )),
        }
    }

    pub(super) fn cmd_serviceout(&mut self, params: &[String]) {
        let mut update = true;
        let mut tg = no_host();
        let mut so = tg.clone();
        for p in params {
            if p.eq_ignore_ascii_case("noupdate") {
                update = false;
            } else if tg.host.is_empty() {
                tg = parse_host_parameter(p);
            } else if so.host.is_empty() {
                so = parse_host_parameter(p);
            }
        }
        if so.host.is_empty() {
            so = tg.clone();
        }
        if update {
            self.update_or_warn();
        }
        if tg.host.is_empty() {
            self.v
                .err("Target hostname is not specified, you need to specify this.");
            return;
        }
        match self.find_in(true, &tg) {
            None => self.v.msg(format!(
                "Not found {}(:{}) in dynamic host list which is included from configuration file.",
                tg.host, tg.port
            )),
            Some(n) => {
                tg.host = n.hostname;
                tg.port = n.ctrlport;
                tg.ctlendpoints = n.ctlendpoints;
            }
        }
        if tg.port == CHM_INVALID_PORT {
            prn("Target control port is not specified, you need to specify this.");
            return;
        }
        let mut param = format!("{}:{}", so.host, so.port);
        if !so.custom_seed.is_empty() {
            if !so.cuk.is_empty() || !so.ctlendpoints.is_empty() {
                self.v.wan(format!("Custom ID Seed is specified. However, CUK({}) and Controle Endpoints({}) are also specified at the same time. They are ignored.", so.cuk, so.ctlendpoints));
            }
            param += &format!(":{}", so.custom_seed);
        } else if !so.cuk.is_empty() {
            if !so.ctlendpoints.is_empty() {
                self.v.wan(format!("CUK is specified. However, Controle Endpoints({}) is also specified at the same time. It is ignored.", so.ctlendpoints));
            }
            param += &format!(":{}", so.cuk);
        } else if !so.ctlendpoints.is_empty() {
            param += &format!(":{}", so.ctlendpoints);
        }
        let cmd = format!("SERVICEOUT {param}");
        match self.send(&tg.host, tg.port, &tg.ctlendpoints, &cmd) {
            None => self.v.wan(format!(
                "Failed to send SERVICEOUT command to {}:{}, probably the host is down. thus send another node.",
                tg.host, tg.port
            )),
            Some(r) if r.contains("SUCCEED") => {
                prn(&format!(
                    "Succeed to send SERVICEOUT to {}:{}",
                    tg.host, tg.port
                ));
                return;
            }
            Some(r) => self.v.wan(format!(
                "Failed to send SERVICEOUT to {}:{}, error is \"{r}\", but retry to send another node.",
                tg.host, tg.port
            )),
        }
        for n in self.targets.clone() {
            match self.send(&n.hostname, n.ctrlport, &n.ctlendpoints, &cmd) {
                None => self.v.wan(format!(
                    "Failed to send SERVICEOUT command to {}:{}, but retry to send another node.",
                    n.hostname, n.ctrlport
                )),
                Some(r) if r.contains("SUCCEED") => {
                    prn(&format!(
                        "Succeed to send SERVICEOUT to {}:{}",
                        n.hostname, n.ctrlport
                    ));
                    return;
                }
                Some(r) => self.v.wan(format!(
                    "Failed to send SERVICEOUT to {}:{} by \"{r}\", but retry to send another node.",
                    n.hostname, n.ctrlport
                )),
            }
        }
        prn("Failed to send SERVICEOUT to all node, but no node is succeed.");
    }

    pub(super) fn cmd_merge(&mut self, params: &[String]) {
        let mut update = true;
        let mut cmd = String::new();
        for p in params {
            let l = p.to_ascii_lowercase();
            if l == "noupdate" {
                update = false;
            } else if cmd.is_empty() && l == "start" {
                cmd = "MERGE".into();
            } else if cmd.is_empty() && (l == "abort" || l == "stop") {
                cmd = "ABORTMERGE".into();
            } else if cmd.is_empty() && ["complete", "comp", "finish", "fin"].contains(&l.as_str())
            {
                cmd = "COMPMERGE".into();
            } else {
                self.v
                    .err(format!("Unknown parameter({p}) for MERGE command."));
                return;
            }
        }
        if update {
            self.update_or_warn();
        }
        self.send_until_succeed(&cmd, |r| {
            r.contains("SUCCEED") && r.contains("There no server on RING")
        });
    }

    pub(super) fn cmd_suspend(&mut self, params: &[String], suspend: bool) {
        let mut update = true;
        for p in params {
            if p.eq_ignore_ascii_case("noupdate") {
                update = false;
            } else {
                self.v.err(format!(
                    "Unknown parameter({p}) for {} command.",
                    if suspend { "suspend" } else { "nosuspend" }
                ));
                return;
            }
        }
        if update {
            self.update_or_warn();
        }
        let cmd = if suspend {
            "SUSPENDMERGE"
        } else {
            "NOSUSPENDMERGE"
        };
        self.send_until_succeed(cmd, |r| {
            r.contains("ERROR") && r.contains("executed on the slave node")
        });
    }

    pub(super) fn cmd_dump(&mut self, params: &[String]) {
        let Some(n) = self.dynamic_target(params) else {
            return;
        };
        match self.send(&n.hostname, n.ctrlport, &n.ctlendpoints, "DUMP") {
            None => self.v.err(format!(
                "Failed to send DUMP command to {}:{}",
                n.hostname, n.ctrlport
            )),
            Some(r) => prn(&r),
        }
    }

    pub(super) fn version_of(&mut self, n: &NodeInfo) -> String {
        match self.send(&n.hostname, n.ctrlport, &n.ctlendpoints, "VERSION") {
            None => "Could not get VERSION".into(),
            Some(r) => {
                let r = report::cut_empty_line(&r);
                if r == "Unknown command(VERSION)" {
                    "This chmpx version is old version, VERSION command supports after 1.0.57"
                        .into()
                } else {
                    r.to_string()
                }
            }
        }
    }

    pub(super) fn cmd_version(&mut self, params: &[String]) {
        let (mut dyna, mut update) = (true, true);
        for p in params {
            if p.eq_ignore_ascii_case("nodyna") {
                dyna = false;
            } else if p.eq_ignore_ascii_case("noupdate") {
                update = false;
            } else {
                self.v
                    .err(format!("Unknown parameter({p}) for version command."));
                return;
            }
        }
        let Some(list) = self.node_list(dyna, update) else {
            return;
        };
        for (server, title) in [
            (true, " Chmpx server nodes             : "),
            (false, " Chmpx slave nodes              : "),
        ] {
            let nodes = nodes_of_kind(&mut self.reg, &list, server);
            prn(&format!("{title}{}", nodes.len()));
            if !nodes.is_empty() {
                prn(" {");
                for n in &nodes {
                    let ver = self.version_of(n);
                    prn(&format!("    {}:{}\t= {ver}", n.hostname, n.ctrlport));
                }
                prn(" }");
            }
        }
    }

    /// The chmpx library's level for the tool's own level.
    pub(super) fn chm_level_for(v: &Verbosity) -> dbg::Level {
        if v.msg {
            dbg::Level::Msg
        } else if v.wan {
            dbg::Level::Warn
        } else if v.err {
            dbg::Level::Err
        } else {
            dbg::Level::Silent
        }
    }

    pub(super) fn cmd_dbglevel(&mut self, params: &[String]) {
        let next = if params.is_empty() {
            // SILENT -> ERR -> WAN -> MSG -> DUMP -> SILENT
            let v = self.v;
            if v.dmp {
                Verbosity::SILENT
            } else if v.msg {
                Verbosity {
                    dmp: true,
                    msg: false,
                    wan: false,
                    err: false,
                }
            } else if v.wan {
                Verbosity::MSG
            } else if v.err {
                Verbosity::WAN
            } else {
                Verbosity::ERR
            }
        } else if params.len() > 1 {
            self.v.err(format!(
                "Unknown parameter({}) for dbglevel command.",
                params[1]
            ));
            return;
        } else {
            match Verbosity::parse(&params[0]) {
                Some(v) => v,
                None => {
                    self.v.err(format!(
                        "Unknown parameter({}) for dbglevel command.",
                        params[0]
                    ));
                    return;
                }
            }
        };
        if self.chmpx_dbg {
            let l = if next.dmp {
                dbg::Level::Msg
            } else {
                Self::chm_level_for(&next)
            };
            set_chm_dbg(l);
        }
        self.v = next;
    }

    pub(super) fn cmd_dchmpx(&mut self, params: &[String]) {
        if params.is_empty() {
            self.chmpx_dbg = !self.chmpx_dbg;
        } else if params.len() > 1 {
            self.v.err(format!(
                "Unknown parameter({}) for dchmpx command.",
                params[1]
            ));
            return;
        } else {
            let p = params[0].to_ascii_lowercase();
            if ["on", "yes", "y"].contains(&p.as_str()) {
                if self.chmpx_dbg {
                    self.v.err("Already dchmpx is enabled.");
                    return;
                }
                self.chmpx_dbg = true;
            } else if ["off", "no", "n"].contains(&p.as_str()) {
                if !self.chmpx_dbg {
                    self.v.err("Already comlog is disabled.");
                    return;
                }
                self.chmpx_dbg = false;
            } else {
                self.v.err(format!(
                    "Unknown parameter({}) for comlog command.",
                    params[0]
                ));
                return;
            }
        }
        if self.chmpx_dbg {
            set_chm_dbg(Self::chm_level_for(&self.v));
            prn("Enable chmpx debugging message.");
        } else {
            set_chm_dbg(dbg::Level::Silent);
            prn("Disable chmpx debugging message.");
        }
    }
}
