//! The text of `chmpxlinetool -h` (the original's, line for line).
use super::*;

pub(super) fn help(prg: &str) {
    let lines = [
        "Usage:".to_string(),
        format!("       {prg} -help"),
        "Usage: set environment(CHMCONFFILE or CHMJSONCONF)".into(),
        format!("       {prg}"),
        "Usage: specify configuration file path".into(),
        format!("       {prg} -conf <file> [-ctrlport <port>] [-cuk <cuk>] [-ctlendpoints <host:port,...>] [-custom_seed <seed>] [options...]"),
        "Usage: specify json configuration string".into(),
        format!("       {prg} -json <string> [-ctrlport <port>] [-cuk <cuk>] [-ctlendpoints <host:port,...>] [-custom_seed <seed>] [options...]"),
        "Usage: specify hostname and port".into(),
        format!("       {prg} -group <groupname> -host <hostname> [-type <...>] [-ctrlport <port>] [-cuk <cuk>] [-ctlendpoints <host:port,...>] [-custom_seed <seed>] {{-server | -slave}} [options...]"),
        String::new(),
        "Options:".into(),
        "  -help(h)                      help display".into(),
        "  -conf <filename>              chmpx configuration file path(.ini .yaml .json) when run on chmpx node host".into(),
        "  -json <string>                chmpx configuration by json string when run on chmpx node host".into(),
        "  -group <groupname>            group name for chmpx cluster, a required option if you do not specify a conf file.".into(),
        "  -host <hostname>              hostname for chmpx node, if not specified, using localhost".into(),
        "  -type <...>                   specify CHMPXIDTYPE: name(default), cuk, endpoint, seed".into(),
        "  -ctrlport <port>              chmpx node control port, if host option is specified, this option can be be specified.".into(),
        "  -cuk <cuk>                    chmpx node cuk, if host option is specified, this option can be specified.".into(),
        "  -ctlendpoints <host:port,...> chmpx node ctlendpoints, if host option is specified, this option can be specified.".into(),
        "  -custom_seed <seed>           chmpx node custom_seed, if host option is specified, this option can be specified.".into(),
        "  -server                       chmpx node server type for hostname specified".into(),
        "  -slave                        chmpx node server type for hostname specified(default)".into(),
        "  -threadcnt <count>            thread count for DUMP command(default is 0)".into(),
        "  -check <second>               check and print all nodes status/hash/socket connection count after startup.".into(),
        "  -status <second>              print all nodes status by SELFSTATUS or ALLSTATUS after startup.".into(),
        "  -nocolor                      common option, print without no escape sequence(no color)".into(),
        "  -lap                          common option, print lap time after line command".into(),
        "  -d <debug level>              common option, print debugging message mode: SILENT(SLT)/ERROR(ERR)/WARNING(WAN)/INFO(MSG)/DUMP(DMP)".into(),
        "  -dchmpx                       common option, print debugging message from chmpx library when valid -d option is specified.".into(),
        "  -his <count>                  common option, set history count(default 500)".into(),
        "  -run <file path>              common option, run command(history) file.".into(),
        "Environments:".into(),
        "  CHMCONFFILE        can use configuration file path if -conf/-json/-host is not specified.".into(),
        "  CHMJSONCONF        can use json configuration string  if -conf/-json/-host is not specified..".into(),
        String::new(),
    ];
    for l in lines {
        prn(&l);
    }
}
