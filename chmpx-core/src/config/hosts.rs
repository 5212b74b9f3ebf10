//! Host names in configurations: the "simple pattern" expansion of server NAMEs
//! (`srv[1-3].dom`, `srv[a,b].dom`), `host[:port]` lists (ENDPOINTS, CTLENDPOINTS, peers), and
//! the local host identity used to decide which server entry is "this process".
//!
//! Self identification never depends on DNS for the loopback keywords: `localhost`,
//! `127.0.0.1` and `::1` always stand for this host (the original crashes when the host's own
//! name does not resolve). Lookups of the host's own names happen once per process.

use std::collections::BTreeSet;
use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// One `host[:port]` entry of an endpoint or peer list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub host: String,
    /// -1 when the list has no default port (peers).
    pub port: i16,
}

/// The words that always mean "this host" (`IsLocalhostKeyword`).
pub fn is_localhost_keyword(host: &str) -> bool {
    host == "localhost" || host == "127.0.0.1" || host == "::1" || host.starts_with("::1%")
}

/// Expands the simple host patterns of a server NAME. A comma outside brackets separates host
/// names; inside brackets a comma separates alternatives and `a-b` is a numeric or letter range.
pub fn expand_simple_pattern(pattern: &str) -> Result<Vec<String>, String> {
    let mut result = Vec::new();
    for part in split_top_level(pattern) {
        expand_one(&part, &mut result)?;
    }
    if result.is_empty() {
        return Err(format!("host pattern \"{pattern}\" expands to nothing"));
    }
    Ok(result)
}

/// Splits at commas that are not inside `[...]`.
fn split_top_level(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c)
            }
            ']' => {
                depth = depth.saturating_sub(1);
                cur.push(c)
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() || parts.is_empty() {
        parts.push(cur);
    }
    parts
}

fn expand_one(pattern: &str, out: &mut Vec<String>) -> Result<(), String> {
    let mut work = vec![pattern.trim().to_string()];
    while let Some(one) = work.pop() {
        let open = one.find('[');
        let close = one.find(']');
        match open {
            None => {
                if close.is_some() {
                    return Err(format!("\"{pattern}\": ']' without '['"));
                }
                out.push(one);
            }
            Some(open) => {
                if matches!(close, Some(c) if c < open) {
                    return Err(format!("\"{pattern}\": ']' without '['"));
                }
                let prefix = &one[..open];
                let rest = &one[open + 1..];
                let end = rest
                    .find(']')
                    .ok_or_else(|| format!("\"{pattern}\": '[' without ']'"))?;
                let inner = rest[..end].trim();
                let suffix = &rest[end + 1..];
                if inner.is_empty() {
                    return Err(format!("\"{pattern}\": nothing between '[' and ']'"));
                }
                if inner.contains('[') {
                    return Err(format!("\"{pattern}\": nested '['"));
                }
                // Alternatives are pushed in reverse so the stack pops them in order.
                let alts = expand_alternatives(inner).map_err(|e| format!("\"{pattern}\": {e}"))?;
                for alt in alts.iter().rev() {
                    work.push(format!("{prefix}{alt}{suffix}"));
                }
            }
        }
    }
    Ok(())
}

fn expand_alternatives(inner: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for item in inner.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((a, b)) = item.split_once('-') else {
            out.push(item.to_string());
            continue;
        };
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() || b.is_empty() {
            return Err("empty side of a range".into());
        }
        if b.contains('-') {
            return Err("more than one '-' in a range".into());
        }
        let numeric = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
        if numeric(a) && numeric(b) {
            let (x, y) = (parse_atoi(a) as i64, parse_atoi(b) as i64);
            if y < x {
                return Err("descending number range".into());
            }
            if y - x > 100_000 {
                return Err("number range too large".into());
            }
            out.extend((x..=y).map(|n| n.to_string()));
        } else {
            let (ca, cb) = (a.as_bytes(), b.as_bytes());
            if ca.len() != 1 || cb.len() != 1 {
                return Err("a letter range takes one character on each side".into());
            }
            let (x, y) = (ca[0], cb[0]);
            if !x.is_ascii_alphabetic() || !y.is_ascii_alphabetic() {
                return Err("a letter range takes a-z or A-Z".into());
            }
            if y < x || x.is_ascii_lowercase() != y.is_ascii_lowercase() {
                return Err("letter range ends are not in the same case or descend".into());
            }
            out.extend((x..=y).map(|c| (c as char).to_string()));
        }
    }
    Ok(out)
}

/// C `atoi`: optional blanks and sign, then digits; stops at the first other character. Values
/// out of range wrap the way glibc's `(int)strtol()` does (saturate to 64 bits, keep 32).
pub fn parse_atoi(s: &str) -> i32 {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i] == b' ' || (b'\t'..=b'\r').contains(&b[i])) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut v: i128 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = (v * 10 + (b[i] - b'0') as i128).min(i64::MAX as i128 + 1);
        i += 1;
    }
    if neg {
        v = -v;
    }
    let clamped = v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    clamped as i32
}

/// Parses a comma-separated `host[:port]` list. Entries that cannot be parsed are skipped
/// (with a log line), as the original does.
pub fn parse_hostport_list(text: &str, default_port: i16) -> Vec<HostPort> {
    let mut out = Vec::new();
    if text.trim().is_empty() {
        return out;
    }
    for item in text.split(',') {
        match parse_hostport(item, default_port) {
            Some(hp) => out.push(hp),
            None => log::error!(
                "could not parse host/port from \"{}\", skipped",
                item.trim()
            ),
        }
    }
    out
}

/// One `host[:port]`: IPv4/host name with `:port`, IPv6 bare, `[v6]:port`, or v6 followed by
/// `p<port>`, `#<port>`, ` <port>` or ` port <port>`. IPv4-mapped IPv6 becomes IPv4.
pub fn parse_hostport(item: &str, default_port: i16) -> Option<HostPort> {
    let mut s = item.trim().to_string();
    if let Some(pct) = s.find('%') {
        // zone index: cut up to the next separator
        let end = s[pct..]
            .find([']', ' ', '#'])
            .map(|e| pct + e)
            .unwrap_or(s.len());
        s.replace_range(pct..end, "");
    }
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(v6) = s.parse::<Ipv6Addr>() {
        return Some(HostPort {
            host: v6_text(v6),
            port: default_port,
        });
    }
    let s = s.replacen(" port ", " ", 1);
    let s = s.trim();
    // [v6]:port
    if let Some(rest) = s.strip_prefix('[') {
        let (addr, tail) = rest.split_once(']')?;
        let v6 = addr.trim().parse::<Ipv6Addr>().ok()?;
        let port = tail
            .trim()
            .strip_prefix(':')
            .map(|p| parse_atoi(p.trim()) as i16)?;
        return Some(HostPort {
            host: v6_text(v6),
            port,
        });
    }
    // v6 followed by p/#/space + port
    for sep in ['p', '#', ' '] {
        if let Some(pos) = s.rfind(sep) {
            let (addr, port) = (s[..pos].trim(), s[pos + 1..].trim());
            if !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()) {
                if let Ok(v6) = addr.parse::<Ipv6Addr>() {
                    return Some(HostPort {
                        host: v6_text(v6),
                        port: parse_atoi(port) as i16,
                    });
                }
            }
        }
    }
    // host or v4 with :port
    if let Some((host, port)) = s.rsplit_once(':') {
        let (host, port) = (host.trim(), port.trim());
        if !port.is_empty()
            && port.bytes().all(|c| c.is_ascii_digit())
            && (host.parse::<Ipv4Addr>().is_ok() || is_hostname(host))
        {
            return Some(HostPort {
                host: host.to_string(),
                port: parse_atoi(port) as i16,
            });
        }
        return None;
    }
    if s.parse::<Ipv4Addr>().is_ok() || is_hostname(s) {
        return Some(HostPort {
            host: s.to_string(),
            port: default_port,
        });
    }
    None
}

fn v6_text(v6: Ipv6Addr) -> String {
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

/// RFC 1123 host name (letters, digits, '-', '_' and dots).
pub fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 1025
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        })
}

/// What this host calls itself, computed once like the original's `ChmNetDb`:
/// * `addrs`: the interface addresses in `getifaddrs` order (numeric, zone index cut);
/// * `names`: the node name if DNS (not /etc/hosts) knows it (`full`), and the reverse names
///   of the node name's addresses other than the node name itself.
struct LocalInfo {
    full: Option<String>,
    names: Vec<String>,
    addrs: Vec<String>,
    inet6: bool,
}

fn node_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

fn local_info() -> &'static LocalInfo {
    static LOCAL: OnceLock<LocalInfo> = OnceLock::new();
    LOCAL.get_or_init(|| {
        let mut addrs = Vec::new();
        let mut inet6 = false;
        if let Ok(list) = nix::ifaddrs::getifaddrs() {
            for ifa in list {
                let Some(addr) = ifa.address else { continue };
                if let Some(v4) = addr.as_sockaddr_in() {
                    push_unique(&mut addrs, v4.ip().to_string());
                } else if let Some(v6) = addr.as_sockaddr_in6() {
                    inet6 = true;
                    push_unique(&mut addrs, v6.ip().to_string());
                    if let Some(v4) = v6.ip().to_ipv4_mapped() {
                        push_unique(&mut addrs, v4.to_string());
                    }
                }
            }
        }
        let node = node_name();
        let mut names = Vec::new();
        let full = (!node.is_empty() && in_dns(&node)).then(|| node.clone());
        if let Some(f) = &full {
            names.push(f.clone());
        }
        if !node.is_empty() {
            for (_, rev) in resolve(&node, inet6) {
                let Some(rev) = rev else { continue };
                if rev != node || full.is_some() {
                    push_unique(&mut names, rev);
                }
            }
        }
        LocalInfo {
            full,
            names,
            addrs,
            inet6,
        }
    })
}

/// `res_query` for an A record: does DNS itself (not /etc/hosts) know `name`? Asked once per
/// process, in a thread given at most two seconds, so an unreachable name server cannot stall
/// start-up (no answer in time counts as "not in DNS").
fn in_dns(name: &str) -> bool {
    let name = name.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("chmpx-dns".into())
        .spawn(move || {
            let _ = tx.send(res_query_a(&name));
        });
    spawned.is_ok()
        && rx
            .recv_timeout(std::time::Duration::from_secs(2))
            .unwrap_or(false)
}

fn res_query_a(name: &str) -> bool {
    extern "C" {
        fn res_query(
            dname: *const libc::c_char,
            class: libc::c_int,
            rtype: libc::c_int,
            answer: *mut u8,
            anslen: libc::c_int,
        ) -> libc::c_int;
    }
    let Ok(c) = CString::new(name) else {
        return false;
    };
    let mut answer = [0u8; 512];
    // SAFETY: a NUL-terminated name and a buffer of the length we pass (class ANY, type A).
    let n = unsafe {
        res_query(
            c.as_ptr(),
            255,
            1,
            answer.as_mut_ptr(),
            answer.len() as libc::c_int,
        )
    };
    n >= 0
}

/// How long a `resolve` answer is kept (the original's ChmNetDb keeps its lookups 60 s too):
/// a chmpx identifies itself and its peers again and again (every configuration load, every
/// connecting peer), and a resolver that drops one query costs its 5 s timeout each time.
const RESOLVE_CACHE: std::time::Duration = std::time::Duration::from_secs(60);

type Resolved = Vec<(String, Option<String>)>;
/// `resolve` answers by (host, with IPv6), with when they were found.
type ResolveCache = std::collections::HashMap<(String, bool), (std::time::Instant, Resolved)>;

static RESOLVED: OnceLock<std::sync::Mutex<ResolveCache>> = OnceLock::new();

/// `resolve_uncached`, answers that found something kept for [`RESOLVE_CACHE`].
fn resolve(host: &str, inet6: bool) -> Resolved {
    use std::time::Instant;
    let cache = RESOLVED.get_or_init(Default::default);
    let key = (host.to_string(), inet6);
    if let Some((at, r)) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        if at.elapsed() < RESOLVE_CACHE {
            return r.clone();
        }
    }
    let r = resolve_uncached(host, inet6);
    if !r.is_empty() {
        let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
        if c.len() >= 1024 {
            c.clear();
        }
        c.insert(key, (Instant::now(), r.clone()));
    }
    r
}

/// `getaddrinfo(AI_CANONNAME)` of `host`: each address (numeric) with its reverse name
/// (`getnameinfo(NI_NAMEREQD)`), in resolver order.
fn resolve_uncached(host: &str, inet6: bool) -> Resolved {
    let Ok(c) = CString::new(host) else {
        return Vec::new();
    };
    // SAFETY: a zeroed addrinfo is a valid hints value; fields set below.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    hints.ai_family = if inet6 {
        libc::AF_UNSPEC
    } else {
        libc::AF_INET
    };
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid C string, hints and out pointer; the list is freed below.
    if unsafe { libc::getaddrinfo(c.as_ptr(), std::ptr::null(), &hints, &mut res) } != 0
        || res.is_null()
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut cur = res;
    while !cur.is_null() {
        // SAFETY: cur walks the list getaddrinfo returned; the buffers are ours and sized.
        unsafe {
            let ai = &*cur;
            let mut num = [0 as libc::c_char; 1025];
            let mut name = [0 as libc::c_char; 1025];
            let ok_num = libc::getnameinfo(
                ai.ai_addr,
                ai.ai_addrlen,
                num.as_mut_ptr(),
                num.len() as u32,
                std::ptr::null_mut(),
                0,
                libc::NI_NUMERICHOST | libc::NI_NUMERICSERV,
            ) == 0;
            let ok_name = libc::getnameinfo(
                ai.ai_addr,
                ai.ai_addrlen,
                name.as_mut_ptr(),
                name.len() as u32,
                std::ptr::null_mut(),
                0,
                libc::NI_NAMEREQD | libc::NI_NUMERICSERV,
            ) == 0;
            if ok_num {
                let n = CStr::from_ptr(num.as_ptr()).to_string_lossy().into_owned();
                let r = ok_name
                    .then(|| CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned())
                    .filter(|r| !r.is_empty());
                out.push((cut_zone(&n), r));
            }
            cur = ai.ai_next;
        }
    }
    // SAFETY: freeing the list getaddrinfo gave us, once.
    unsafe { libc::freeaddrinfo(res) };
    out
}

fn cut_zone(s: &str) -> String {
    s.split('%').next().unwrap_or(s).to_string()
}

fn push_unique(list: &mut Vec<String>, s: String) {
    if !list.contains(&s) {
        list.push(s);
    }
}

/// This host's names and addresses without the loopback keywords (`GetLocalHostList`): the
/// first is what a `localhost` server entry is called. Never empty: with nothing else left,
/// the node name stands for the host (where the original crashes).
pub fn local_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let li = local_info();
        let mut v: Vec<String> = Vec::new();
        for n in li.names.iter().chain(li.addrs.iter()) {
            push_unique(&mut v, cut_zone(n));
        }
        v.retain(|n| !is_localhost_keyword(n));
        if v.is_empty() {
            let node = node_name();
            v.push(if node.is_empty() {
                "localhost".into()
            } else {
                node
            });
        }
        v
    })
}

/// Every address `host` resolves to (empty when it does not resolve).
pub fn resolve_addrs(host: &str) -> Vec<IpAddr> {
    use std::net::ToSocketAddrs;
    match (host, 0u16).to_socket_addrs() {
        Ok(it) => {
            let set: BTreeSet<IpAddr> = it.map(|a| a.ip()).collect();
            set.into_iter().collect()
        }
        Err(_) => Vec::new(),
    }
}

/// `GetAllHostList(host, .., true)`: for a loopback keyword this host's names and addresses;
/// otherwise the reverse names of its addresses (loopback dropped, this host's DNS name first
/// when it is one of ours), then its addresses, then the name itself.
pub fn host_names(host: &str) -> Vec<String> {
    if is_localhost_keyword(host) {
        return local_names().to_vec();
    }
    let li = local_info();
    let mut names: Vec<String> = Vec::new();
    let mut addrs: Vec<String> = Vec::new();
    for (a, r) in resolve(host, li.inet6) {
        if let Some(r) = r {
            push_unique(&mut names, r);
        }
        if let Ok(v6) = a.parse::<Ipv6Addr>() {
            if let Some(v4) = v6.to_ipv4_mapped() {
                push_unique(&mut addrs, a.clone());
                push_unique(&mut addrs, v4.to_string());
                continue;
            }
        }
        push_unique(&mut addrs, a);
    }
    let had_loopback =
        names.iter().any(|n| n == "localhost") || addrs.iter().any(|a| is_localhost_keyword(a));
    names.retain(|n| n != "localhost");
    addrs.retain(|a| !is_localhost_keyword(a));
    if had_loopback {
        if let Some(full) = &li.full {
            for (a, r) in resolve(full, li.inet6) {
                if let Some(r) = r.filter(|r| r != "localhost") {
                    push_unique(&mut names, r);
                }
                if !is_localhost_keyword(&a) {
                    push_unique(&mut addrs, a);
                }
            }
        }
    }
    if let Some(full) = &li.full {
        if names.iter().any(|n| n == full || li.names.contains(n)) {
            names.retain(|n| n != full);
            names.insert(0, full.clone());
        }
    }
    let mut out = names;
    for a in addrs {
        push_unique(&mut out, a);
    }
    push_unique(&mut out, host.to_string());
    out
}

/// True when one of `names` is one of this host's names.
pub fn is_local(names: &[String]) -> bool {
    let local = local_names();
    names
        .iter()
        .any(|n| local.iter().any(|l| l.eq_ignore_ascii_case(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_that_found_something_are_kept_a_while() {
        let r = resolve("127.0.0.1", false);
        assert_eq!(r, resolve_uncached("127.0.0.1", false));
        assert!(!r.is_empty());
        let kept = |h: &str| {
            RESOLVED
                .get()
                .is_some_and(|c| c.lock().unwrap().contains_key(&(h.to_string(), false)))
        };
        assert!(kept("127.0.0.1"));
        assert_eq!(resolve("127.0.0.1", false), r);
        // nothing found: asked again next time
        assert!(resolve("no-such-host.invalid", false).is_empty());
        assert!(!kept("no-such-host.invalid"));
    }

    #[test]
    fn patterns() {
        assert_eq!(
            expand_simple_pattern("srv[1-3].dom").unwrap(),
            ["srv1.dom", "srv2.dom", "srv3.dom"]
        );
        assert_eq!(
            expand_simple_pattern("a[x,y]b[1-2]").unwrap(),
            ["axb1", "axb2", "ayb1", "ayb2"]
        );
        assert_eq!(expand_simple_pattern("h1,h2").unwrap(), ["h1", "h2"]);
        assert_eq!(expand_simple_pattern("s[A-C]").unwrap(), ["sA", "sB", "sC"]);
        assert!(expand_simple_pattern("s[3-1]").is_err());
        assert!(expand_simple_pattern("s[a-C]").is_err());
        assert!(expand_simple_pattern("s[1-2-3]").is_err());
        assert!(expand_simple_pattern("s]x[").is_err());
        assert!(expand_simple_pattern("s[x").is_err());
        assert!(expand_simple_pattern("s[]").is_err());
        assert_eq!(expand_simple_pattern("localhost").unwrap(), ["localhost"]);
    }

    #[test]
    fn atoi() {
        assert_eq!(parse_atoi(" 42abc"), 42);
        assert_eq!(parse_atoi("-7"), -7);
        assert_eq!(parse_atoi("x"), 0);
        assert_eq!(parse_atoi("99999999999999999999999"), -1); // LONG_MAX as int
        assert_eq!(parse_atoi("4294967297"), 1);
    }

    #[test]
    fn hostports() {
        let l = parse_hostport_list(
            "127.0.0.1:18020, host.dom, [::1]:5, fe80::1 port 7, ::ffff:10.0.0.1",
            99,
        );
        assert_eq!(
            l,
            [
                HostPort {
                    host: "127.0.0.1".into(),
                    port: 18020
                },
                HostPort {
                    host: "host.dom".into(),
                    port: 99
                },
                HostPort {
                    host: "::1".into(),
                    port: 5
                },
                HostPort {
                    host: "fe80::1".into(),
                    port: 7
                },
                HostPort {
                    host: "10.0.0.1".into(),
                    port: 99
                },
            ]
        );
        assert!(parse_hostport("bad host!", 1).is_none());
        assert!(parse_hostport("", 1).is_none());
    }

    #[test]
    fn localhost_is_local_without_dns() {
        assert!(!local_names().is_empty());
        assert!(is_local(&host_names("localhost")));
        assert!(is_local(&host_names("127.0.0.1")));
    }
}
