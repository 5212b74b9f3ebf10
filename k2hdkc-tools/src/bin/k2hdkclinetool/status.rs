//! `status chmpx [self] [full]` (the chmpx slave's view, read from chmpx directly) and
//! `status node [full]` (the k2hash state of every server node, through k2hdkc).
use std::fmt::Write as _;

use chmpx_core::client::snapshot;
use chmpx_core::config::{ChmConfig, SelfIdentity};
use chmpx_core::node::Snapshot;
use chmpx_core::ring::{hostports_text, status_text};
use chmpx_core::wire::ChmpxSvr;
use k2hdkc_wire::{NODESTATE_NAME_SIZE, NODESTATE_SIZE};

use crate::cmds::Ctx;
use crate::out::{checked, err, prn};

pub fn command(ctx: &mut Ctx, p: &[String]) {
    let sub = &p[0];
    if sub.eq_ignore_ascii_case("chmpx") {
        chmpx(ctx, &p[1..]);
    } else if sub.eq_ignore_ascii_case("node") {
        node(ctx, &p[1..]);
    } else {
        err(&format!("Unknown parameter({sub}) for status command."));
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn mode_text(is_server: bool) -> &'static str {
    if is_server {
        "SERVER"
    } else {
        "SLAVE"
    }
}

fn hp(list: &[chmpx_core::wire::HostPort]) -> String {
    hostports_text(list.iter().map(|h| (h.name.as_str(), h.port)))
}

/// Seconds of a `(sec << 24) | usec` status time.
fn unix_time(t: i64) -> u64 {
    (t >> 24).max(0) as u64
}

/// The lines of one chmpx record; `ind` is the indent and `w` the label width; `full` adds
/// hashes, endpoints, TLS files and sockets (we have no sockets to show: -1 / none).
fn record(
    o: &mut String,
    r: &ChmpxSvr,
    is_server: bool,
    ind: &str,
    w: usize,
    full: bool,
    slave: bool,
) {
    let mut l = |name: &str, val: String| {
        let _ = writeln!(o, "{ind}{name:<w$}= {val}");
    };
    l("chmpxid", format!("0x{:016x}", r.chmpxid));
    l("hostname", r.name.clone());
    l("mode", mode_text(is_server).into());
    if full {
        l("base hash", format!("0x{:016x}", r.base_hash));
        l("pending hash", format!("0x{:016x}", r.pending_hash));
    }
    if !slave || full {
        l("port", r.port.to_string());
    }
    l("control port", r.ctlport.to_string());
    l("cuk", r.cuk.clone());
    l("custom id seed", r.custom_seed.clone());
    l("endpoints", hp(&r.endpoints));
    l("control endpoints", hp(&r.ctlendpoints));
    l("forward peers", hp(&r.forward_peers));
    l("reverse peers", hp(&r.reverse_peers));
    l("ssl", yes_no(r.ssl.is_ssl).into());
    if full {
        if r.ssl.is_ssl {
            l("verify client peer", yes_no(r.ssl.verify_peer).into());
            l(
                "CA path is",
                if r.ssl.is_ca_file {
                    "file"
                } else {
                    "directory"
                }
                .into(),
            );
            l("CA path", r.ssl.capath.clone());
            l("server cert path", r.ssl.server_cert.clone());
            l("server private key path", r.ssl.server_prikey.clone());
            l("slave cert path", r.ssl.slave_cert.clone());
            l("slave private key path", r.ssl.slave_prikey.clone());
        }
        l("sockets", String::new());
        l("listen socket", "-1".into());
        l("control socket", "-1".into());
        l("listen control socket", "-1".into());
    }
    l(
        "last status update time",
        format!("{} (unix time)", unix_time(r.last_status_time)),
    );
    l("status", status_text(r.status));
}

fn chmpx(ctx: &mut Ctx, p: &[String]) {
    let (mut is_self, mut full) = (false, false);
    for w in p {
        if w.eq_ignore_ascii_case("self") {
            is_self = true;
        } else if w.eq_ignore_ascii_case("full") {
            full = true;
        } else {
            err(&format!("Unknown parameter({w}) for status chmpx command."));
            return;
        }
    }
    let id = SelfIdentity {
        ctlport: (ctx.ctlport > 0).then_some(ctx.ctlport),
        cuk: None,
    };
    let snap = ChmConfig::load(&ctx.conf, &id, false)
        .ok()
        .and_then(|(cfg, _)| snapshot(&cfg.group, cfg.self_ctlport).ok());
    let Some(snap) = snap else {
        err("Could not initialize(attach) chmpx shared memory.");
        return;
    };
    let mut o = String::new();
    let title = if full { "FULL" } else { "SIMPLE" };
    if is_self {
        let _ = writeln!(o, "CHMPX SELF STATUS({title})\n");
        record(&mut o, &snap.self_rec, snap.is_server, "", 27, full, false);
        o.push('\n');
    } else {
        all(&mut o, &snap, title, full);
    }
    for l in o.lines() {
        prn(l);
    }
}

fn all(o: &mut String, s: &Snapshot, title: &str, full: bool) {
    let top = |o: &mut String, name: &str, val: String| {
        let _ = writeln!(o, "{name:<45}= {val}");
    };
    let _ = writeln!(o, "ALL CHMPX STATUS({title})\n");
    top(o, "chmpx process id", s.pid.to_string());
    if full {
        top(
            o,
            "process start time",
            format!("{} (unix time)", s.start_time.max(0)),
        );
        top(o, "base msgid", format!("0x{:016x}", s.base_msgid));
    } else {
        top(o, "random mode", "no".into());
    }
    top(o, "chmpx name", s.group.clone());
    let _ = writeln!(o, "self chmpx = {{");
    record(o, &s.self_rec, s.is_server, "  ", 43, full, false);
    let _ = writeln!(o, "}}");
    let _ = writeln!(o, "server chmpxs [ {} ] = {{", s.servers.len());
    for (i, r) in s.servers.iter().enumerate() {
        let _ = writeln!(o, "  [{i}] = {{");
        record(o, r, true, "    ", 41, full, false);
        let _ = writeln!(o, "  }}");
    }
    let _ = writeln!(o, "}}");
    let _ = writeln!(o, "slave chmpxs [ {} ] = {{", s.slaves.len());
    for (i, r) in s.slaves.iter().enumerate() {
        let _ = writeln!(o, "  [{i}] = {{");
        record(o, r, false, "    ", 41, full, true);
        let _ = writeln!(o, "  }}");
    }
    let _ = writeln!(o, "}}");
    if full {
        let _ = writeln!(o, "joining client process = {{");
        for (i, pid) in s.client_pids.iter().enumerate() {
            let _ = writeln!(o, "  [{i}] pid                                   = {pid}");
        }
        let _ = writeln!(o, "}}");
    } else {
        top(o, "chmpx using MQ", "0".into());
        top(o, "client process using MQ", s.msgids.len().to_string());
        top(o, "assigned MQ", s.msgids.len().to_string());
    }
    o.push('\n');
}

/// Little-endian fields of a packed record.
struct Rd<'a>(&'a [u8]);

impl Rd<'_> {
    fn u64(&self, off: usize) -> u64 {
        let mut a = [0u8; 8];
        if let Some(b) = self.0.get(off..off + 8) {
            a.copy_from_slice(b);
        }
        u64::from_le_bytes(a)
    }
    fn i64(&self, off: usize) -> i64 {
        self.u64(off) as i64
    }
    fn i32(&self, off: usize) -> i32 {
        let mut a = [0u8; 4];
        if let Some(b) = self.0.get(off..off + 4) {
            a.copy_from_slice(b);
        }
        i32::from_le_bytes(a)
    }
    /// A C string in a field of `len` bytes.
    fn text(&self, off: usize, len: usize) -> String {
        let b = self.0.get(off..off + len).unwrap_or_default();
        let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    }
}

/// `part * 100 / whole` as the original computes it (0 for an empty whole).
fn pct(part: i64, whole: i64) -> i64 {
    if whole == 0 {
        0
    } else {
        part * 100 / whole
    }
}

/// A percentage right-aligned in 4 columns (`  5%`, ` 50%`, `100%`), as the original's buffers.
fn ratio(v: i64) -> String {
    format!("{:>4}", format!("{v}%"))
}

fn node(ctx: &mut Ctx, p: &[String]) {
    let mut full = false;
    for w in p {
        if w.eq_ignore_ascii_case("full") {
            full = true;
        } else {
            err(&format!("Unknown parameter({w}) for status node command."));
            return;
        }
    }
    let r = ctx.api.get_state();
    if !checked(r.ok, r.code, false) {
        return;
    }
    let states: Vec<&[u8]> = r.val.chunks_exact(NODESTATE_SIZE).collect();
    prn(&format!(
        "K2HDKC server node count                       = {}",
        states.len()
    ));
    let k = 8 + NODESTATE_NAME_SIZE + 16; // the K2HSTATE inside
    for (i, st) in states.iter().enumerate() {
        let d = Rd(st);
        let name = d.text(8, NODESTATE_NAME_SIZE);
        let (chmpxid, base, pending) = (
            d.u64(0),
            d.u64(8 + NODESTATE_NAME_SIZE),
            d.u64(16 + NODESTATE_NAME_SIZE),
        );
        let (areas, elems, pages) = (d.i64(k + 172), d.i64(k + 180), d.i64(k + 188));
        let (a_area, a_elem, a_page) = (d.i64(k + 196), d.i64(k + 220), d.i64(k + 228));
        let (f_elem, f_page) = (d.i64(k + 236), d.i64(k + 244));
        let (total, fsize) = (d.u64(k + 116), d.u64(k + 132));
        if !full {
            if i == 0 {
                prn("<    chmpxid   >[<  base hash   >](      server name      ) : area element page (k2hash size/ file size )");
                prn("----------------+-----------------+-------------------------:-----+-------+----+-------------------------");
            }
            let name: String = name
                .chars()
                .chain(std::iter::repeat(' '))
                .take(255)
                .collect();
            prn(&format!(
                "{chmpxid:016x}[{base:016x}]({name}) : {}    {} {} ({total} / {fsize})",
                ratio(pct(a_area, areas)),
                ratio(pct(a_elem, elems)),
                ratio(pct(a_page, pages))
            ));
            continue;
        }
        let mut o = String::new();
        let l = |o: &mut String, ind: &str, label: &str, v: String| {
            let w = 47 - ind.len();
            let _ = writeln!(o, "{ind}{label:<w$}= {v}");
        };
        let _ = writeln!(o, "server node [{i}] = {{");
        l(&mut o, "  ", "chmpxid", format!("0x{chmpxid:016x}"));
        l(&mut o, "  ", "server name", name);
        l(&mut o, "  ", "base hash value", format!("0x{base:016x}"));
        l(
            &mut o,
            "  ",
            "pending hash value",
            format!("0x{pending:016x}"),
        );
        let _ = writeln!(o, "  k2hash state = {{");
        let s = "    ";
        l(&mut o, s, "version", d.text(k, 8));
        l(&mut o, s, "hash function", d.text(k + 8, 32));
        l(&mut o, s, "transaction function", d.text(k + 40, 32));
        l(
            &mut o,
            s,
            "transaction pool count",
            d.i32(k + 72).to_string(),
        );
        l(
            &mut o,
            s,
            "maximum mask bit count",
            format!("0x{:016x}", d.u64(k + 76)),
        );
        l(
            &mut o,
            s,
            "minimum mask bit count",
            format!("0x{:016x}", d.u64(k + 84)),
        );
        l(
            &mut o,
            s,
            "current mask bit count",
            format!("0x{:016x}", d.u64(k + 92)),
        );
        l(
            &mut o,
            s,
            "collision mask bit count",
            format!("0x{:016x}", d.u64(k + 100)),
        );
        l(
            &mut o,
            s,
            "maximum element count",
            d.i64(k + 108).to_string(),
        );
        l(&mut o, s, "total k2hash size", format!("{total} (byte)"));
        l(&mut o, s, "k2hash file size", format!("{fsize} (byte)"));
        l(
            &mut o,
            s,
            "paging size",
            format!("{} (byte)", d.u64(k + 124)),
        );
        l(
            &mut o,
            s,
            "total used size",
            format!("{} (byte)", d.u64(k + 140)),
        );
        l(
            &mut o,
            s,
            "total mapping size",
            format!("{} (byte)", d.u64(k + 148)),
        );
        l(
            &mut o,
            s,
            "total element area size",
            format!("{} (byte)", d.u64(k + 156)),
        );
        l(
            &mut o,
            s,
            "total page area size",
            format!("{} (byte)", d.u64(k + 164)),
        );
        l(&mut o, s, "total area count", areas.to_string());
        l(&mut o, s, "total element count", elems.to_string());
        l(&mut o, s, "total page count", pages.to_string());
        l(
            &mut o,
            s,
            "assigned area count (%)",
            format!("{a_area} ({}%)", pct(a_area, areas)),
        );
        l(&mut o, s, "assigned key count", d.i64(k + 204).to_string());
        l(
            &mut o,
            s,
            "assigned collision key count",
            d.i64(k + 212).to_string(),
        );
        l(
            &mut o,
            s,
            "assigned element count (%)",
            format!("{a_elem} ({}%)", pct(a_elem, elems)),
        );
        l(
            &mut o,
            s,
            "assigned page count (%)",
            format!("{a_page} ({}%)", pct(a_page, pages)),
        );
        l(
            &mut o,
            s,
            "free element count (%)",
            format!("{f_elem} ({}%)", pct(f_elem, elems)),
        );
        // (sic: no blank before the parenthesis, as the original)
        l(
            &mut o,
            s,
            "free page count(%)",
            format!("{f_page} ({}%)", pct(f_page, pages)),
        );
        l(
            &mut o,
            s,
            "last update",
            format!("{}s {}usec", d.i64(k + 252), d.i64(k + 260)),
        );
        l(
            &mut o,
            s,
            "last area update",
            format!("{}s {}usec", d.i64(k + 268), d.i64(k + 276)),
        );
        let _ = writeln!(o, "  }}");
        let _ = writeln!(o, "}}");
        for line in o.lines() {
            prn(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_fill_four_columns() {
        assert_eq!(ratio(5), "  5%");
        assert_eq!(ratio(50), " 50%");
        assert_eq!(ratio(100), "100%");
        assert_eq!(pct(1, 0), 0);
        assert_eq!(pct(1, 3), 33);
    }
}
