//! The syntax layer: INI text or YAML/JSON text to [`Raw`] (sections of key/value strings),
//! before any value is interpreted.
//!
//! The two syntaxes differ in order: the INI loader reads the whole file into maps first (the
//! last duplicate key wins, GLOBAL sections are merged) and then interprets GLOBAL keys in one
//! fixed order, while the YAML loader interprets keys in document order. Some checks depend on
//! that order (REPLICA is capped by the MAXCHMPX and DELIVERMODE seen so far, SSL_VERIFY_PEER
//! needs SSL before it), so [`Raw`] keeps the order each syntax implies.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, Parser};

/// Key/value pairs of one section, in the order they are to be interpreted.
pub type Pairs = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    Global(Pairs),
    Servers(Vec<Pairs>),
    Slaves(Vec<Pairs>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Ini,
    Yaml,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    pub syntax: Syntax,
    pub sections: Vec<Section>,
}

/// The order in which the INI loader interprets GLOBAL keys.
pub const INI_GLOBAL_ORDER: &[&str] = &[
    "GROUP",
    "FILEVERSION",
    "MODE",
    "CHMPXIDTYPE",
    "DELIVERMODE",
    "MAXCHMPX",
    "REPLICA",
    "MAXMQSERVER",
    "MAXMQCLIENT",
    "MQPERATTACH",
    "MAXQPERSERVERMQ",
    "MAXQPERCLIENTMQ",
    "MAXMQPERCLIENT",
    "MAXHISTLOG",
    "DATE",
    "PORT",
    "CTLPORT",
    "SELFCTLPORT",
    "SELFCUK",
    "RETRYCNT",
    "MQRETRYCNT",
    "MQACK",
    "RWTIMEOUT",
    "CONTIMEOUT",
    "MQRWTIMEOUT",
    "AUTOMERGE",
    "DOMERGE",
    "MERGETIMEOUT",
    "SOCKTHREADCNT",
    "MQTHREADCNT",
    "MAXSOCKPOOL",
    "SOCKPOOLTIMEOUT",
    "SSL",
    "SSL_VERIFY_PEER",
    "CAPATH",
    "SERVER_CERT",
    "SERVER_PRIKEY",
    "SLAVE_CERT",
    "SLAVE_PRIKEY",
    "SSL_MIN_VER",
    "NSSDB_DIR",
    "K2HFULLMAP",
    "K2HMASKBIT",
    "K2HCMASKBIT",
    "K2HMAXELE",
];

/// Removes quotes, backslash escapes and a trailing ` # comment` from an INI key or value;
/// `None` for an unterminated quote or a dangling backslash (the line is then skipped).
pub fn extract_conf_value(value: &str) -> Option<String> {
    let mut out = String::new();
    let (mut single, mut double, mut escape, mut before_space) = (false, false, false, false);
    for c in value.trim().chars() {
        if single {
            if c == '\'' {
                single = false;
            } else {
                out.push(c);
            }
        } else if double {
            match c {
                '"' if escape => {
                    out.push(c);
                    escape = false
                }
                '"' => double = false,
                '\\' if escape => {
                    out.push(c);
                    escape = false
                }
                '\\' => escape = true,
                _ => {
                    if escape {
                        out.push('\\');
                        escape = false;
                    }
                    out.push(c);
                }
            }
        } else {
            match c {
                '"' | '\'' | '\\' if escape => {
                    out.push(c);
                    escape = false
                }
                '"' => double = true,
                '\'' => single = true,
                '\\' => escape = true,
                '#' if before_space => break,
                '#' => out.push(c),
                c if c.is_ascii_whitespace() => {
                    out.push(c);
                    before_space = true;
                    escape = false
                }
                _ => {
                    out.push(c);
                    before_space = false;
                    escape = false
                }
            }
        }
    }
    if single || double || escape {
        return None;
    }
    Some(out.trim().to_string())
}

#[derive(PartialEq, Clone, Copy)]
enum IniSec {
    None,
    Global,
    Server,
    Slave,
    Unknown,
}

/// Reads INI text. `INCLUDE` lines are ignored (the original's include never matches, see the
/// spec); lines outside a section are ignored with a warning.
pub fn parse_ini(text: &str) -> Raw {
    let mut global: BTreeMap<String, String> = BTreeMap::new();
    let mut servers: Vec<BTreeMap<String, String>> = Vec::new();
    let mut slaves: Vec<BTreeMap<String, String>> = Vec::new();
    let mut section = IniSec::None;
    let mut cur: BTreeMap<String, String> = BTreeMap::new();

    let mut close = |section: IniSec, cur: &mut BTreeMap<String, String>| {
        let map = std::mem::take(cur);
        match section {
            IniSec::Global => global.extend(map),
            IniSec::Server | IniSec::Slave => {
                if !map.contains_key("NAME") {
                    log::warn!("a node section without NAME is ignored");
                } else if section == IniSec::Server {
                    servers.push(map)
                } else {
                    slaves.push(map)
                }
            }
            _ => {}
        }
    };

    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let next = match line {
            "[GLOBAL]" => IniSec::Global,
            "[SVRNODE]" => IniSec::Server,
            "[SLVNODE]" => IniSec::Slave,
            l if l.starts_with('[') && l.ends_with(']') => IniSec::Unknown,
            _ => IniSec::None,
        };
        if next != IniSec::None {
            close(section, &mut cur);
            section = next;
            continue;
        }
        if section == IniSec::None {
            log::warn!("configuration line outside any section ignored: {line}");
            continue;
        }
        if section == IniSec::Unknown {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (line, ""),
        };
        match (extract_conf_value(key), extract_conf_value(value)) {
            (Some(k), Some(v)) if !k.is_empty() => {
                if cur.contains_key(&k) {
                    log::warn!("configuration key {k} given twice, the last one is used");
                }
                cur.insert(k, v);
            }
            (Some(_), Some(_)) => log::warn!("configuration line without a key ignored: {line}"),
            _ => log::warn!(
                "configuration line with an unterminated quote or escape ignored: {line}"
            ),
        }
    }
    close(section, &mut cur);

    // Nodes are kept sorted by NAME, then CTLPORT (as text), like the original's raw list.
    let sort = |v: &mut Vec<BTreeMap<String, String>>| {
        v.sort_by(|a, b| {
            (
                a.get("NAME"),
                a.get("CTLPORT").map(String::as_str).unwrap_or(""),
            )
                .cmp(&(
                    b.get("NAME"),
                    b.get("CTLPORT").map(String::as_str).unwrap_or(""),
                ))
        })
    };
    sort(&mut servers);
    sort(&mut slaves);

    let mut ordered: Pairs = Vec::new();
    for key in INI_GLOBAL_ORDER {
        if let Some(v) = global.get(*key) {
            ordered.push((key.to_string(), v.clone()));
        }
    }
    let pairs = |maps: Vec<BTreeMap<String, String>>| -> Vec<Pairs> {
        maps.into_iter().map(|m| m.into_iter().collect()).collect()
    };
    let mut sections = vec![Section::Global(ordered)];
    if !servers.is_empty() {
        sections.push(Section::Servers(pairs(servers)));
    }
    if !slaves.is_empty() {
        sections.push(Section::Slaves(pairs(slaves)));
    }
    Raw {
        syntax: Syntax::Ini,
        sections,
    }
}

/// A YAML node reduced to what a configuration may hold.
enum Node {
    Scalar(String),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
}

/// Reads YAML (or JSON, which is YAML flow syntax). Keys are matched case-insensitively, so
/// they are upper-cased here; values stay as written (scalars keep their source text).
/// Unknown top-level keys (e.g. `K2HDKC`) are skipped; aliases are refused.
pub fn parse_yaml(text: &str) -> Result<Raw, String> {
    let root = yaml_tree(text)?;
    let Some(Node::Map(top)) = root else {
        return Err("the configuration is not a YAML/JSON mapping".into());
    };
    let mut sections = Vec::new();
    for (key, value) in top {
        match key.to_ascii_uppercase().as_str() {
            "GLOBAL" => sections.push(Section::Global(scalar_map(value, "GLOBAL")?)),
            "SVRNODE" => sections.push(Section::Servers(node_list(value, "SVRNODE")?)),
            "SLVNODE" => sections.push(Section::Slaves(node_list(value, "SLVNODE")?)),
            _ => log::debug!("skipping top-level key {key}"),
        }
    }
    Ok(Raw {
        syntax: Syntax::Yaml,
        sections,
    })
}

fn scalar_map(node: Node, what: &str) -> Result<Pairs, String> {
    let Node::Map(entries) = node else {
        return Err(format!("{what} must be a mapping"));
    };
    entries
        .into_iter()
        .map(|(k, v)| match v {
            Node::Scalar(s) => Ok((k.to_ascii_uppercase(), s)),
            _ => Err(format!("{what}: the value of {k} must be a scalar")),
        })
        .collect()
}

fn node_list(node: Node, what: &str) -> Result<Vec<Pairs>, String> {
    match node {
        Node::Seq(items) => items.into_iter().map(|n| scalar_map(n, what)).collect(),
        // A single mapping is accepted as a one-entry list.
        m @ Node::Map(_) => Ok(vec![scalar_map(m, what)?]),
        Node::Scalar(_) => Err(format!("{what} must be a sequence of mappings")),
    }
}

fn yaml_tree(text: &str) -> Result<Option<Node>, String> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<(Node, Option<String>)> = Vec::new();
    let mut root: Option<Node> = None;
    const MAX_DEPTH: usize = 64;
    loop {
        let (ev, mark) = parser
            .next_token()
            .map_err(|e| format!("YAML/JSON syntax error: {e}"))?;
        let finished: Option<Node> = match ev {
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentStart | Event::DocumentEnd => None,
            Event::Alias(_) => {
                return Err(format!(
                    "YAML aliases are not supported (line {})",
                    mark.line()
                ))
            }
            Event::Scalar(s, ..) => Some(Node::Scalar(s)),
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("YAML/JSON nesting too deep".into());
                }
                let n = if matches!(ev, Event::SequenceStart(..)) {
                    Node::Seq(Vec::new())
                } else {
                    Node::Map(Vec::new())
                };
                stack.push((n, None));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some((n, None)) => Some(n),
                Some((_, Some(k))) => return Err(format!("YAML/JSON key {k} has no value")),
                None => return Err("unbalanced YAML/JSON structure".into()),
            },
        };
        let Some(node) = finished else { continue };
        match stack.last_mut() {
            None => {
                if root.is_none() {
                    root = Some(node);
                }
            }
            Some((Node::Seq(items), _)) => items.push(node),
            Some((Node::Map(entries), pending)) => match pending.take() {
                None => match node {
                    Node::Scalar(k) => *pending = Some(k),
                    _ => return Err("YAML/JSON mapping keys must be scalars".into()),
                },
                Some(k) => entries.push((k, node)),
            },
            Some((Node::Scalar(_), _)) => unreachable!("scalars are never pushed on the stack"),
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_values() {
        assert_eq!(extract_conf_value("abc # comment").unwrap(), "abc");
        assert_eq!(extract_conf_value("a#b").unwrap(), "a#b");
        assert_eq!(extract_conf_value("'a # b'").unwrap(), "a # b");
        assert_eq!(extract_conf_value("\"x\\\"y\"").unwrap(), "x\"y");
        assert_eq!(extract_conf_value("a\\ b").unwrap(), "a b");
        assert!(extract_conf_value("'open").is_none());
        assert!(extract_conf_value("end\\").is_none());
    }

    #[test]
    fn ini_sections() {
        let raw = parse_ini(
            "x=1\n[GLOBAL]\nGROUP = G # c\n[K2HDKC]\nGROUP=no\n[GLOBAL]\nFILEVERSION=2\n[SVRNODE]\nNAME=b\n[SVRNODE]\nNAME=a\nPORT=1\n[SLVNODE]\nNAME=[.]*\n",
        );
        assert_eq!(
            raw.sections[0],
            Section::Global(vec![
                ("GROUP".into(), "G".into()),
                ("FILEVERSION".into(), "2".into())
            ])
        );
        let Section::Servers(s) = &raw.sections[1] else {
            panic!()
        };
        assert_eq!(s[0][0].1, "a");
        assert_eq!(s[1][0].1, "b");
    }

    #[test]
    fn yaml_shapes() {
        let raw = parse_yaml("{ 'global': { 'group': 'G', 'PORT': 8020 }, 'SVRNODE': [ { 'NAME': 'h' } ], 'K2HDKC': {a: [1]} }").unwrap();
        assert_eq!(
            raw.sections[0],
            Section::Global(vec![
                ("GROUP".into(), "G".into()),
                ("PORT".into(), "8020".into())
            ])
        );
        assert!(parse_yaml("a: &x 1\nb: *x\n").is_err());
        assert!(parse_yaml("GLOBAL: [1, 2]").is_err());
        assert!(parse_yaml("{ unclosed").is_err());
        assert!(parse_yaml("just a scalar").is_err());
    }
}
