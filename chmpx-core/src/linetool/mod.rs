//! chmpxlinetool: the operator console of a chmpx cluster (spec 8.1).
//!
//! It talks to the control ports of every chmpx it knows of. The nodes come from the
//! configuration (or from the local chmpx's DUMP), then from the server and slave lists in the
//! DUMP answer of each of them. Commands print the answers in the original tool's layout:
//!
//! * [`cmdline`]: the option tables of the command line and of the console commands, and the
//!   console's word splitting;
//! * [`nodes`]: the node list, host name aliases and the chmpxid rules that tell two entries
//!   for the same chmpx apart;
//! * [`report`]: reading DUMP and ALLSTATUS answers, the cross-check of what every node sees,
//!   and the coloured texts of `status` and `check`;
//! * [`tool`]: the console itself (commands, command files, loops, history).

pub mod cmdline;
pub mod color;
pub mod nodes;
pub mod report;
pub mod tool;

use std::fmt::Display;

/// What the tool prints about itself (`-d` / `dbglevel`): errors, warnings, messages, and
/// the internal tables of `check` (dump).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbosity {
    pub dmp: bool,
    pub msg: bool,
    pub wan: bool,
    pub err: bool,
}

impl Default for Verbosity {
    fn default() -> Self {
        Verbosity {
            dmp: false,
            msg: false,
            wan: false,
            err: true,
        }
    }
}

impl Verbosity {
    pub const SILENT: Verbosity = Verbosity {
        dmp: false,
        msg: false,
        wan: false,
        err: false,
    };
    pub const ERR: Verbosity = Verbosity {
        dmp: false,
        msg: false,
        wan: false,
        err: true,
    };
    pub const WAN: Verbosity = Verbosity {
        dmp: false,
        msg: false,
        wan: true,
        err: true,
    };
    pub const MSG: Verbosity = Verbosity {
        dmp: false,
        msg: true,
        wan: true,
        err: true,
    };
    pub const DMP: Verbosity = Verbosity {
        dmp: true,
        msg: true,
        wan: true,
        err: true,
    };

    /// The level words of `-d` and `dbglevel`.
    pub fn parse(word: &str) -> Option<Verbosity> {
        Some(match word.to_ascii_lowercase().as_str() {
            "silent" | "slt" => Self::SILENT,
            "error" | "err" => Self::ERR,
            "warning" | "wan" => Self::WAN,
            "info" | "msg" => Self::MSG,
            "dump" | "dmp" => Self::DMP,
            _ => return None,
        })
    }

    pub fn err(&self, m: impl Display) {
        if self.err {
            eprintln!("[CCT-ERR] {m}");
        }
    }
    pub fn wan(&self, m: impl Display) {
        if self.wan {
            eprintln!("[CCT-WAN] {m}");
        }
    }
    pub fn msg(&self, m: impl Display) {
        if self.msg {
            eprintln!("[CCT-MSG] {m}");
        }
    }
}

/// `atoi` as a `short`, the way the original reads ports.
pub fn atos(s: &str) -> i16 {
    crate::config::hosts::parse_atoi(s) as i16
}

/// Whitespace trim of the original (space, tab, CR, LF).
pub fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}
