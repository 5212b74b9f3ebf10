//! Direct links: a client of a slave sends its requests to the servers on TCP connections of
//! its own, and the servers answer on them, so a request and its answer no longer pass
//! through the slave chmpx: two of the six process hops of a K2HDKC request are gone (see
//! docs/architecture.md, "Direct links").
//!
//! A link is one more connection of the slave as far as the server can tell: the client
//! introduces itself with the slave's own N2_CONINIT_REQ (the slave hands over its identity
//! and server table, [`crate::ipc::Request::Links`]) and sends the same C2C frames the slave
//! would, routed by the same rule over the same table. Only servers of ours are linked to:
//! they say so on their control port (`CAPS`, [`crate::ctl::CAPS_DIRECT_LINK`]) and send the
//! answer to a request back on the connection it came on (`node/links.rs`). An original
//! server, a server with SSL, one that cannot be reached or a message for several servers
//! goes the slave's way as before; so does everything after a link fails.
//!
//! Blocking and small on purpose: a link is opened in the caller's thread (a few
//! milliseconds, once per server and client), written with a timeout, and read by the
//! client's own wait (`Client::pump` polls its links beside its local socket).
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use crate::config::ChmpxIdType;
use crate::ring::{reach_points, Ring};
use crate::server::now;
use crate::wire::*;

/// How long opening a link may take at each step (connect, control answer, handshake): a
/// post waits for it, so a server that is listed UP but cannot be reached (cut off and not
/// yet noticed) costs a post at most a few of these before the slave's way is taken.
const OPEN_TIMEOUT: Duration = Duration::from_millis(500);
/// A write to a link that does not go through in this time fails (the request then goes the
/// slave's way and the link is dropped).
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// A server we could not link to is not tried again for this long.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// A server without the capability (an original one) is asked again after this long (it may
/// have been replaced by one of ours meanwhile).
const ASK_AGAIN_AFTER: Duration = Duration::from_secs(600);

/// What a slave hands a client for its links (`Response::Links`).
pub struct LinkInfo {
    pub id_type: u8,
    pub replica: i64,
    pub random: bool,
    pub snapshot: crate::node::Snapshot,
}

impl LinkInfo {
    /// The routing table this describes; of `links` (by server), those to servers that are
    /// gone or down are dropped.
    pub(crate) fn ring_keeping<L>(self, links: &mut HashMap<u64, L>) -> Ring {
        let mut ring = Ring::new(
            ChmpxIdType::from_code(self.id_type),
            self.replica,
            self.random,
        );
        ring.servers = self.snapshot.servers;
        links.retain(|id, _| {
            ring.get(*id)
                .is_some_and(|s| !crate::ring::is_down(s.status))
        });
        ring
    }
}

struct Link {
    sock: TcpStream,
    reader: FrameReader,
    /// The server's own client serves it (`crate::served`).
    served: bool,
    /// Requests sent on it and not answered yet.
    pending: u32,
    /// When it was opened, or last asked whether it could be served now (`Links::recheck`).
    checked: Instant,
}

/// The links of one client.
pub struct Links {
    slave: u64,
    coninit: ConinitReq,
    ring: Ring,
    /// The slave said the server table changed: ask for it before the next send.
    pub stale: bool,
    links: HashMap<u64, Link>,
    avoid: Avoid,
    /// How often a link chmpx kept is asked about again (`RECHECK_KEPT`).
    recheck: Duration,
}

/// A link that chmpx kept (the server's k2hdkc did not serve links when it was opened: it was
/// restarting, say) is asked about again this often, while nothing is pending on it: when the
/// server's k2hdkc serves links by then, the link is opened again, to be served.
const RECHECK_KEPT: Duration = Duration::from_secs(30);

/// Servers not linked to now (no capability, refused, failed), and until when; and how a link
/// is opened, the same for direct links and copy links (`crate::copies`).
#[derive(Default)]
pub(crate) struct Avoid(HashMap<u64, Instant>);

impl Avoid {
    /// Opens a link to server `to` of `ring` with `handshake` (given the server and its CAPS
    /// answer) when one may be tried now: the server is known, without SSL, not down, not
    /// avoided, and `able` by its CAPS answer. A server without the capability is asked again
    /// after `ASK_AGAIN_AFTER`, one whose handshake failed tried again after `RETRY_AFTER`.
    pub(crate) fn open<T>(
        &mut self,
        ring: &Ring,
        to: u64,
        able: impl FnOnce((bool, bool)) -> bool,
        handshake: impl FnOnce(&ChmpxSvr, (bool, bool)) -> Option<T>,
    ) -> Option<T> {
        if self.0.get(&to).is_some_and(|t| Instant::now() < *t) {
            return None;
        }
        let s = ring.get(to)?;
        if s.ssl.is_ssl || crate::ring::is_down(s.status) {
            return None;
        }
        let caps = capable(s);
        if !able(caps) {
            self.0.insert(to, Instant::now() + ASK_AGAIN_AFTER);
            return None;
        }
        let link = handshake(s, caps);
        match link {
            Some(_) => self.0.remove(&to),
            None => self.0.insert(to, Instant::now() + RETRY_AFTER),
        };
        link
    }

    /// The link to `to` failed: it is not tried again for `RETRY_AFTER`.
    pub(crate) fn failed(&mut self, to: u64) {
        self.0.insert(to, Instant::now() + RETRY_AFTER);
    }
}

/// A connection to server `s` for a link (no delay; reads time out after `OPEN_TIMEOUT` until
/// the handshake is done, writes after `write_timeout`).
pub(crate) fn dial(s: &ChmpxSvr, write_timeout: Duration) -> Option<TcpStream> {
    let sock = connect(&addrs(&s.endpoints, &s.name, s.port)).ok()?;
    let _ = sock.set_nodelay(true);
    sock.set_read_timeout(Some(OPEN_TIMEOUT)).ok()?;
    sock.set_write_timeout(Some(write_timeout)).ok()?;
    Some(sock)
}

/// `ring::reach_points` with a usable port.
fn places(eps: &[HostPort], name: &str, port: i16) -> impl Iterator<Item = (String, u16)> {
    reach_points(eps, name, port)
        .into_iter()
        .filter(|(_, p)| *p != CHM_INVALID_PORT && *p != 0)
        .map(|(h, p)| (h, p as u16))
}

/// The addresses of `places`, resolved.
fn addrs(eps: &[HostPort], name: &str, port: i16) -> Vec<SocketAddr> {
    places(eps, name, port)
        .filter_map(|hp| hp.to_socket_addrs().ok())
        .flatten()
        .collect()
}

fn connect(list: &[SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for a in list {
        match TcpStream::connect_timeout(a, OPEN_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// What the server answers CAPS with on its control port: (direct links, served links).
fn capable(s: &ChmpxSvr) -> (bool, bool) {
    let text = places(&s.ctlendpoints, &s.name, s.ctlport)
        .find_map(|(h, p)| crate::server::control_request(&h, p, "CAPS", OPEN_TIMEOUT).ok())
        .unwrap_or_default();
    let has = |cap: &str| text.lines().any(|l| l.trim() == cap);
    (
        has(crate::ctl::CAPS_DIRECT_LINK),
        has(crate::ctl::CAPS_SERVE_LINK),
    )
}

impl Links {
    /// Links for a client of the slave described by `info` (none is opened yet).
    pub fn new(info: LinkInfo) -> Links {
        let mut l = Links {
            slave: 0,
            coninit: ConinitReq::default(),
            ring: Ring::default(),
            stale: false,
            links: HashMap::new(),
            avoid: Avoid::default(),
            recheck: RECHECK_KEPT,
        };
        l.update(info);
        l
    }

    /// Takes a new server table (and identity) from the slave.
    pub fn update(&mut self, info: LinkInfo) {
        self.slave = info.snapshot.chmpxid;
        self.coninit = ConinitReq::of(info.snapshot.chmpxid, &info.snapshot.self_rec);
        // links to servers that are gone or down are closed; their answers come no more
        self.ring = info.ring_keeping(&mut self.links);
        self.stale = false;
    }

    /// Sends a C2C message from `msgid` on a link when it goes to exactly one server and that
    /// server can be linked to; false when it must go the slave's way.
    pub fn send(&mut self, msgid: u64, c2ctype: u64, hash: u64, body: &[u8]) -> bool {
        // broadcasts never: during a merge chmpx also counts the pending layout for them,
        // which the table handed out does not carry
        let mode = c2ctype & COM_C2C_MODE_MASK;
        if mode == COM_C2C_BROADCAST || mode == COM_C2C_RBROADCAST {
            return false;
        }
        let to = match self.ring.receivers(self.slave, hash, c2ctype) {
            Ok(r) if r.len() == 1 => r[0],
            _ => return false,
        };
        let due = |l: &Link| !l.served && l.pending == 0 && l.checked.elapsed() >= self.recheck;
        if self.links.get(&to).is_some_and(due) {
            self.recheck(to);
        }
        if !self.links.contains_key(&to) && !self.open(to) {
            return false;
        }
        let data = c2c_bytes(c2ctype, (self.slave, msgid), to, hash, body);
        let ok = self.links.get_mut(&to).is_some_and(|l| {
            let ok = l.sock.write_all(&data).is_ok();
            l.pending += ok as u32;
            ok
        });
        if !ok {
            log::warn!("direct link to 0x{to:016x} failed; going through the slave");
            self.drop_link(to);
        }
        ok
    }

    /// Link `to`, kept by chmpx and with nothing pending, is asked about again: when the
    /// server's k2hdkc serves links now, the link is closed (the next send opens it again).
    fn recheck(&mut self, to: u64) {
        if let Some(l) = self.links.get_mut(&to) {
            l.checked = Instant::now();
        }
        if self.ring.get(to).is_some_and(|s| capable(s).1) {
            log::info!("server 0x{to:016x} serves links now: its link is opened again");
            self.links.remove(&to);
        }
    }

    /// Opens a link to `to` (capability asked, connected, introduced as the slave).
    fn open(&mut self, to: u64) -> bool {
        let (slave, coninit) = (self.slave, &self.coninit);
        let link = self.avoid.open(
            &self.ring,
            to,
            |(direct, _)| direct,
            |s, (_, serve)| Self::handshake(slave, coninit, s, serve),
        );
        let Some((sock, served)) = link else {
            return false;
        };
        let reader = FrameReader::new();
        self.links.insert(
            to,
            Link {
                sock,
                reader,
                served,
                pending: 0,
                checked: Instant::now(),
            },
        );
        true
    }

    /// Connects to `s` and introduces the link as the slave (`slave`, `coninit`); with
    /// `serve`, asks for the link to be served by the server's own client and waits for the
    /// answer (nothing else is sent on the link before it, so nothing is left with chmpx when
    /// it hands the link over).
    fn handshake(
        slave: u64,
        coninit: &ConinitReq,
        s: &ChmpxSvr,
        serve: bool,
    ) -> Option<(TcpStream, bool)> {
        let mut sock = dial(s, WRITE_TIMEOUT)?;
        let req = Frame::px2px(
            slave,
            s.chmpxid,
            now(),
            &PxMsg::new(PxCom::N2ConinitReq(Box::new(coninit.clone()))),
        )
        .encode();
        sock.write_all(&req).ok()?;
        let mut reader = FrameReader::new();
        let res = next_frame(&mut sock, &mut reader)?;
        let msg = res.px_msg().ok()?;
        if !matches!(msg.body, PxCom::N2ConinitRes) || msg.result != CHMPX_COM_RES_SUCCESS {
            log::warn!("server 0x{:016x} refused a direct link", s.chmpxid);
            return None;
        }
        let mut served = false;
        if serve {
            let ask = Frame::link(slave, s.chmpxid, now(), LINK_ASK).encode();
            sock.write_all(&ask).ok()?;
            match next_frame(&mut sock, &mut reader)?.link_what() {
                Some(LINK_SERVED) => served = true,
                Some(LINK_KEPT) => {}
                _ => {
                    log::warn!("server 0x{:016x}: no answer to a link request", s.chmpxid);
                    return None;
                }
            }
        }
        if reader.buffered() > 0 {
            // nothing may come before our first request
            return None;
        }
        sock.set_read_timeout(None).ok()?;
        Some((sock, served))
    }

    fn drop_link(&mut self, to: u64) {
        self.links.remove(&to);
        self.avoid.failed(to);
    }

    /// The descriptors to wait on, with their servers.
    pub fn fds(&self) -> impl Iterator<Item = (u64, RawFd)> + '_ {
        self.links.iter().map(|(id, l)| (*id, l.sock.as_raw_fd()))
    }

    /// Reads what link `to` has (it was readable); every C2C frame goes to `deliver`. A link
    /// that closed or sent something malformed is dropped.
    pub fn read(&mut self, to: u64, buf: &mut [u8], deliver: &mut impl FnMut(Frame)) {
        let Some(l) = self.links.get_mut(&to) else {
            return;
        };
        let n = match recv_nowait(&l.sock, buf) {
            Recv::Data(n) => n,
            Recv::Nothing => return,
            Recv::Closed => 0,
        };
        let ok = n > 0 && {
            l.reader.feed(&buf[..n]);
            loop {
                match l.reader.next_frame() {
                    Ok(Some(f)) if f.pkt.head.com_type == COM_C2C => {
                        l.pending = l.pending.saturating_sub(1);
                        deliver(f)
                    }
                    // status news of the slave are not for us (its own connection has them)
                    Ok(Some(_)) => {}
                    Ok(None) => break true,
                    Err(e) => {
                        log::error!("direct link to 0x{to:016x}: {e}");
                        break false;
                    }
                }
            }
        };
        if !ok {
            log::info!("direct link to 0x{to:016x} closed");
            self.drop_link(to);
        }
    }

    /// How many links are open.
    pub fn count(&self) -> usize {
        self.links.len()
    }

    /// How many of them the servers' own clients serve.
    pub fn served(&self) -> usize {
        self.links.values().filter(|l| l.served).count()
    }
}

/// The bytes of a C2C request from (`from` chmpxid, msgid) to server `to`, as chmpx sends it.
pub(crate) fn c2c_bytes(
    c2ctype: u64,
    from: (u64, u64),
    to: u64,
    hash: u64,
    body: &[u8],
) -> Vec<u8> {
    let dept = PckId {
        chmpxid: from.0,
        msgid: from.1,
    };
    let term = PckId {
        chmpxid: to,
        msgid: CHM_INVALID_MSGID,
    };
    Frame::encode_parts(ComHead::c2c(c2ctype, dept, term, hash, now()), body)
}

/// The next frame from a link being opened (its read timeout set); None when it closed, failed
/// or sent something malformed.
pub(crate) fn next_frame(sock: &mut TcpStream, reader: &mut FrameReader) -> Option<Frame> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(f) = reader.next_frame().ok()? {
            return Some(f);
        }
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => reader.feed(&buf[..n]),
        }
    }
}

/// What one read of a socket that does not wait found.
pub(crate) enum Recv {
    /// This many bytes (more than none).
    Data(usize),
    /// Nothing there now (or interrupted).
    Nothing,
    /// The other end closed, or the socket failed.
    Closed,
}

/// One `recv` on `sock` that does not wait (the socket may be blocking: the links of a client
/// are, for their writes).
pub(crate) fn recv_nowait(sock: &impl AsRawFd, buf: &mut [u8]) -> Recv {
    // SAFETY: buf is a valid writable buffer of its length for the duration of the call.
    let n = unsafe {
        libc::recv(
            sock.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    match n {
        n if n > 0 => Recv::Data(n as usize),
        0 => Recv::Closed,
        _ => match std::io::Error::last_os_error().kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted => Recv::Nothing,
            _ => Recv::Closed,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ChmConfig, NodeConfig};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    const SERVER: u64 = 77;
    const SLAVE: u64 = 5;

    /// A server of ours in miniature: a control port that answers CAPS (with SERVELINK while
    /// `serving`), and a data port that takes links (N2_CONINIT answered; a link that asks to
    /// be served is served while `serving`, else kept) and answers every request.
    struct Fake {
        ctl: u16,
        data: u16,
        serving: Arc<AtomicBool>,
        accepted: Arc<AtomicUsize>,
    }

    fn answer_link(mut sock: TcpStream, serving: &AtomicBool) {
        let mut reader = FrameReader::new();
        while let Some(f) = next_frame(&mut sock, &mut reader) {
            let out = match f.pkt.head.com_type {
                COM_PX2PX => {
                    let res = PxMsg::new(PxCom::N2ConinitRes);
                    Frame::px2px(SERVER, SLAVE, now(), &res).encode()
                }
                COM_LINK if serving.load(Ordering::SeqCst) => {
                    Frame::link(SERVER, SLAVE, now(), LINK_SERVED).encode()
                }
                COM_LINK => Frame::link(SERVER, SLAVE, now(), LINK_KEPT).encode(),
                _ => c2c_bytes(COM_C2C_NORMAL, (SERVER, 1), SLAVE, 0, b"answer"),
            };
            if sock.write_all(&out).is_err() {
                return;
            }
        }
    }

    fn fake() -> Fake {
        let ctl = TcpListener::bind("127.0.0.1:0").unwrap();
        let data = TcpListener::bind("127.0.0.1:0").unwrap();
        let f = Fake {
            ctl: ctl.local_addr().unwrap().port(),
            data: data.local_addr().unwrap().port(),
            serving: Arc::new(AtomicBool::new(false)),
            accepted: Arc::new(AtomicUsize::new(0)),
        };
        let serving = f.serving.clone();
        std::thread::spawn(move || {
            for mut s in ctl.incoming().flatten() {
                let mut b = [0u8; 64];
                let _ = s.read(&mut b);
                let mut caps = "CAPS DIRECTLINK\n".to_string();
                if serving.load(Ordering::SeqCst) {
                    caps.push_str("CAPS SERVELINK\n");
                }
                let _ = s.write_all(caps.as_bytes());
            }
        });
        let (serving, accepted) = (f.serving.clone(), f.accepted.clone());
        std::thread::spawn(move || {
            for s in data.incoming().flatten() {
                accepted.fetch_add(1, Ordering::SeqCst);
                let serving = serving.clone();
                std::thread::spawn(move || answer_link(s, &serving));
            }
        });
        f
    }

    fn links_to(f: &Fake) -> Links {
        let node = NodeConfig {
            name: "127.0.0.1".into(),
            port: f.data as i16,
            ctlport: f.ctl as i16,
            ..NodeConfig::default()
        };
        let mut ring = Ring::new(ChmpxIdType::Name, 0, false);
        let rec =
            crate::ring::server_record(&ChmConfig::default(), &node, CHMPXSTS_SRVIN_UP_NORMAL);
        ring.upsert(ChmpxSvr {
            chmpxid: SERVER,
            ..rec
        });
        let snapshot = crate::node::Snapshot {
            pid: 1,
            start_time: 0,
            is_server: false,
            group: "G".into(),
            chmpxid: SLAVE,
            base_msgid: 0,
            self_rec: ChmpxSvr::default(),
            servers: ring.servers,
            slaves: Vec::new(),
            client_pids: Vec::new(),
            msgids: Vec::new(),
            stats: Default::default(),
        };
        Links::new(LinkInfo {
            id_type: ChmpxIdType::Name.code(),
            replica: 0,
            random: false,
            snapshot,
        })
    }

    /// Reads the link to the server until `n` answers came.
    fn answers(l: &mut Links, n: usize) {
        let mut got = 0;
        let mut buf = vec![0u8; 4096];
        let t0 = Instant::now();
        while got < n {
            assert!(t0.elapsed() < Duration::from_secs(5), "no answer");
            l.read(SERVER, &mut buf, &mut |_| got += 1);
            std::thread::yield_now();
        }
    }

    /// A link chmpx kept because the server's k2hdkc did not serve links then is asked about
    /// again (here every 50 ms instead of `RECHECK_KEPT`) while nothing is pending on it, and
    /// opened again to be served once the k2hdkc serves links; never while an answer is due.
    #[test]
    fn a_kept_link_is_served_once_the_server_serves_links() {
        let f = fake();
        let mut l = links_to(&f);
        l.recheck = Duration::from_millis(50);
        let send = |l: &mut Links| l.send(1, COM_C2C_NORMAL, 0, b"request");
        assert!(send(&mut l));
        assert_eq!((l.count(), l.served()), (1, 0), "kept: nobody serves links");
        // the k2hdkc serves links now, but an answer is due on the link: it stays as it is
        f.serving.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(60));
        assert!(send(&mut l));
        assert_eq!(l.served(), 0);
        assert_eq!(f.accepted.load(Ordering::SeqCst), 1);
        // both answered: the next send asks again and gets a served link
        answers(&mut l, 2);
        std::thread::sleep(Duration::from_millis(60));
        assert!(send(&mut l));
        assert_eq!((l.count(), l.served()), (1, 1));
        assert_eq!(f.accepted.load(Ordering::SeqCst), 2);
        answers(&mut l, 1);
    }
}
