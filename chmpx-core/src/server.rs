//! The chmpx process's event loop: one thread, one `mio` poll over the data and control
//! listeners, peer connections, local clients (abstract Unix socket), signals (signalfd) and
//! the configuration file (inotify). It moves bytes and calls [`Node::handle`]; every decision
//! is made in [`Node`].

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::config::{hosts, watch::ConfWatch, ChmConfig, ConfSource, SelfIdentity};
use crate::ctl;
use crate::ipc::{self, MsgReader, Request, Response};
use crate::node::{Input, Node, Output};
use crate::wire::{FrameReader, Timespec, WireError};

const T_DATA: usize = 0;
const T_CTL: usize = 1;
const T_IPC: usize = 2;
const T_SIGNAL: usize = 3;
const T_CONF: usize = 4;
/// Listeners occupy tokens below this (several bind addresses each).
const FIRST_DYNAMIC: usize = 64;

/// Most bytes we buffer for one peer or client before dropping it as stuck.
const MAX_OUTBUF: usize = 256 * 1024 * 1024;

/// Keepalive of peer connections: probes after 5 s of silence, every second, 3 of them.
const KEEPALIVE_IDLE_SEC: u32 = 5;
const KEEPALIVE_INTERVAL_SEC: u32 = 1;
const KEEPALIVE_COUNT: u32 = 3;
/// Data unacknowledged this long means the peer is gone (`TCP_USER_TIMEOUT`).
const USER_TIMEOUT_MS: u32 = 8000;
/// A connection of ours still not made after this long is given up (and tried again on a
/// later tick). The kernel would go on resending its SYN with backoff for about two minutes,
/// so a server that comes back after a partition would be reached only at the next resend,
/// up to 32 s later; a fresh attempt reaches it within this bound plus a tick.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A peer whose traffic is dropped (no FIN, no RST: a partition, a dead host) is noticed by
/// the kernel within about 8 s, idle or not: keepalive for quiet connections, the user
/// timeout for connections with data in flight. (The original waits 60 s + 3 x 10 s, and
/// retransmissions for minutes.) Nothing of this is visible on the wire to the peer.
fn tune_peer_socket(s: &TcpStream) {
    use nix::sys::socket::{setsockopt, sockopt};
    let ok = setsockopt(s, sockopt::KeepAlive, &true).is_ok()
        && setsockopt(s, sockopt::TcpKeepIdle, &KEEPALIVE_IDLE_SEC).is_ok()
        && setsockopt(s, sockopt::TcpKeepInterval, &KEEPALIVE_INTERVAL_SEC).is_ok()
        && setsockopt(s, sockopt::TcpKeepCount, &KEEPALIVE_COUNT).is_ok()
        && setsockopt(s, sockopt::TcpUserTimeout, &USER_TIMEOUT_MS).is_ok();
    if !ok {
        log::warn!("could not set keepalive on a peer connection");
    }
}

/// The wall clock as the wire carries it.
pub fn now() -> Timespec {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timespec {
        sec: d.as_secs() as i64,
        nsec: d.subsec_nanos() as i64,
    }
}

struct OutBuf {
    data: Vec<u8>,
    pos: usize,
}

impl OutBuf {
    fn new() -> Self {
        OutBuf {
            data: Vec::new(),
            pos: 0,
        }
    }
    fn pending(&self) -> usize {
        self.data.len() - self.pos
    }
    fn push(&mut self, bytes: &[u8]) {
        if self.pos == self.data.len() {
            self.data.clear();
            self.pos = 0;
        }
        self.data.extend_from_slice(bytes);
    }
    /// Writes as much as the socket takes; Ok(true) when everything went out.
    fn flush<W: Write>(&mut self, w: &mut W) -> io::Result<bool> {
        while self.pos < self.data.len() {
            match w.write(&self.data[self.pos..]) {
                Ok(0) => return Err(io::Error::new(ErrorKind::WriteZero, "peer closed")),
                Ok(n) => self.pos += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        self.data.clear();
        self.pos = 0;
        Ok(true)
    }
}

/// Sockets not yet sent to one local client at most (a client that does not read is not
/// handed more links).
const MAX_HANDOVER_FDS: usize = 16;

/// Writes the first part of what `out` holds with every socket of `fds` attached
/// (SCM_RIGHTS), so they arrive no later than the messages that announce them.
fn send_fds(s: &UnixStream, out: &mut OutBuf, fds: &mut Vec<OwnedFd>) -> io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let pending = out.data.get(out.pos..).unwrap_or_default();
    if pending.is_empty() {
        // nothing to carry them: keep them for the next message
        return Ok(());
    }
    let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let iov = [io::IoSlice::new(pending)];
    let cmsg = [ControlMessage::ScmRights(&raw)];
    match sendmsg::<()>(
        s.as_raw_fd(),
        &iov,
        &cmsg,
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL,
        None,
    ) {
        Ok(n) => {
            out.pos += n;
            // the receiver has its own copies now
            fds.clear();
            Ok(())
        }
        Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EINTR) => Ok(()),
        Err(e) => Err(io::Error::from(e)),
    }
}

enum Kind {
    /// A peer chmpx (accepted or ours, `connecting` until the TCP handshake is done).
    Peer {
        reader: FrameReader,
        connecting: Option<Connecting>,
    },
    Client {
        reader: MsgReader,
    },
    Control {
        input: Vec<u8>,
        answered: bool,
    },
}

/// A connection of ours being made: to whom, the addresses left to try, and since when.
struct Connecting {
    chmpxid: u64,
    rest: Vec<SocketAddr>,
    since: Instant,
}

enum Sock {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Sock {
    fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Sock::Tcp(s) => s,
            Sock::Unix(s) => s,
        }
    }
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.read(buf),
            Sock::Unix(s) => s.read(buf),
        }
    }
}

struct Conn {
    sock: Sock,
    kind: Kind,
    out: OutBuf,
    writable: bool,
    close_after_flush: bool,
    /// TLS session of a peer connection to or from an SSL server.
    tls: Option<rustls::Connection>,
    /// Sockets handed over to this local client (`Output::HandOver`), sent with the next write
    /// (which starts no later than the message that announces them).
    fds: Vec<OwnedFd>,
}

impl Conn {
    fn new(sock: Sock, kind: Kind, writable: bool, tls: Option<rustls::Connection>) -> Conn {
        Conn {
            sock,
            kind,
            out: OutBuf::new(),
            writable,
            close_after_flush: false,
            tls,
            fds: Vec::new(),
        }
    }
}

/// Moves plaintext into the TLS session and as many TLS records as the socket takes;
/// Ok(true) when nothing is left to write.
fn tls_flush(
    tls: &mut rustls::Connection,
    out: &mut OutBuf,
    sock: &mut TcpStream,
) -> io::Result<bool> {
    if out.pending() > 0 {
        tls.writer().write_all(&out.data[out.pos..])?;
        out.data.clear();
        out.pos = 0;
    }
    while tls.wants_write() {
        match tls.write_tls(sock) {
            Ok(0) => return Err(io::Error::new(ErrorKind::WriteZero, "peer closed")),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Reads TLS records from the socket and returns the plaintext; `eof` when the peer is done.
/// Plaintext is drained after every batch of records (rustls bounds what it buffers).
fn tls_read(
    tls: &mut rustls::Connection,
    sock: &mut TcpStream,
    plain: &mut Vec<u8>,
) -> io::Result<bool> {
    let mut buf = [0u8; 65536];
    let mut eof = false;
    loop {
        let got = match tls.read_tls(sock) {
            Ok(0) => {
                eof = true;
                false
            }
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        tls.process_new_packets()
            .map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
        loop {
            match tls.reader().read(&mut buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => plain.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                // The peer closed without close_notify: an ordinary end here.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    eof = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if !got || eof {
            return Ok(eof);
        }
    }
}

/// A running chmpx.
pub struct Server {
    poll: Poll,
    /// Polling before each sleep (CHMPX_LOOP_SPIN_US; on a slave 100 µs unless set, off on
    /// servers: crate::spin).
    spin: crate::spin::Spinner,
    node: Node,
    listeners: Vec<(usize, bool, TcpListener)>,
    ipc_listener: UnixListener,
    signals: SignalFd,
    watch: Option<ConfWatch>,
    source: ConfSource,
    who: SelfIdentity,
    conns: HashMap<usize, Conn>,
    next_token: usize,
    stop: bool,
    /// TLS for our data port (SSL = yes on our entry).
    tls_server: Option<Arc<rustls::ServerConfig>>,
    /// TLS towards SSL servers, made when first needed.
    tls_client: Option<Arc<rustls::ClientConfig>>,
    allow_self_cert: bool,
    /// The last reload failed: try again on the next tick.
    reload_retry: bool,
    /// Resolved peer addresses and when they were looked up.
    resolved: HashMap<(String, u16), (Instant, Vec<SocketAddr>)>,
    /// The read buffer, allocated once (zeroing 64 KiB on every readable event showed up in
    /// profiles).
    rbuf: Vec<u8>,
}

/// Addresses this node listens on: what its own name (and endpoints) resolve to, loopback
/// included when the name is a local one.
fn bind_addrs(node: &Node, port: u16) -> Vec<SocketAddr> {
    let mut ips: Vec<IpAddr> = Vec::new();
    let name = &node.self_node.name;
    ips.extend(hosts::resolve_addrs(name));
    for ep in &node.self_node.endpoints {
        if let Ok(ip) = ep.host.parse::<IpAddr>() {
            ips.push(ip);
        }
    }
    if hosts::local_names()
        .iter()
        .any(|l| l.eq_ignore_ascii_case(name))
    {
        ips.push(IpAddr::from([127, 0, 0, 1]));
    }
    // Only addresses of this host can be bound.
    let local: Vec<String> = hosts::local_names().to_vec();
    ips.retain(|ip| ip.is_loopback() || local.iter().any(|l| l == &ip.to_string()));
    ips.sort();
    ips.dedup();
    ips.into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect()
}

fn listen(addrs: &[SocketAddr], what: &str) -> Result<Vec<TcpListener>, String> {
    if addrs.is_empty() {
        return Err(format!("no local address to listen on for the {what}"));
    }
    let mut out = Vec::new();
    for a in addrs {
        match TcpListener::bind(*a) {
            Ok(l) => out.push(l),
            Err(e) if e.kind() == ErrorKind::AddrInUse => {
                return Err(format!(
                    "the {what} {a} is already in use by another process"
                ))
            }
            Err(e) => return Err(format!("could not listen on {a} for the {what}: {e}")),
        }
    }
    Ok(out)
}

impl Server {
    /// Binds everything; fails with a clear message (port taken, bad configuration).
    pub fn new(source: ConfSource, who: SelfIdentity) -> Result<Server, String> {
        let cfg = ChmConfig::load_source(&source, &who).map_err(|e| e.to_string())?;
        let node = Node::new(cfg, std::process::id(), now())?;
        let tls_server = if node.is_server {
            crate::tls::server_config(&node.self_node)?
        } else {
            None
        };
        let poll = Poll::new().map_err(|e| format!("epoll: {e}"))?;

        let mut listeners = Vec::new();
        let mut token = 8usize;
        let mut groups: Vec<(usize, &str, u16)> =
            vec![(T_CTL, "control port", node.self_node.ctlport as u16)];
        if node.is_server {
            groups.push((T_DATA, "data port", node.self_node.port as u16));
        }
        for (kind, what, port) in groups {
            let addrs = bind_addrs(&node, port);
            for mut l in listen(&addrs, what)? {
                poll.registry()
                    .register(&mut l, Token(token), Interest::READABLE)
                    .map_err(|e| format!("register: {e}"))?;
                listeners.push((token, kind == T_CTL, l));
                token += 1;
            }
        }
        // Local clients: abstract Unix socket named after the group and control port.
        let name = ipc::socket_name(&node.cfg.group, node.cfg.self_ctlport);
        let addr = {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                .map_err(|e| format!("local socket name: {e}"))?
        };
        let std_l = std::os::unix::net::UnixListener::bind_addr(&addr).map_err(|e| {
            if e.kind() == ErrorKind::AddrInUse {
                format!(
                    "another chmpx of group {} with control port {} runs on this host",
                    node.cfg.group, node.cfg.self_ctlport
                )
            } else {
                format!("local socket: {e}")
            }
        })?;
        std_l.set_nonblocking(true).map_err(|e| e.to_string())?;
        let mut ipc_listener = UnixListener::from_std(std_l);
        poll.registry()
            .register(&mut ipc_listener, Token(T_IPC), Interest::READABLE)
            .map_err(|e| e.to_string())?;

        let mut mask = SigSet::empty();
        for s in [
            Signal::SIGHUP,
            Signal::SIGINT,
            Signal::SIGTERM,
            Signal::SIGUSR1,
            Signal::SIGPIPE,
        ] {
            mask.add(s);
        }
        mask.thread_block()
            .map_err(|e| format!("sigprocmask: {e}"))?;
        let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(|e| format!("signalfd: {e}"))?;
        poll.registry()
            .register(
                &mut SourceFd(&signals.as_raw_fd()),
                Token(T_SIGNAL),
                Interest::READABLE,
            )
            .map_err(|e| e.to_string())?;

        let watch = source.file().and_then(|p| ConfWatch::new(&p).ok());
        if let Some(w) = &watch {
            poll.registry()
                .register(
                    &mut SourceFd(&w.raw_fd()),
                    Token(T_CONF),
                    Interest::READABLE,
                )
                .map_err(|e| e.to_string())?;
        }
        Ok(Server {
            spin: crate::spin::Spinner::from_env_or(
                "CHMPX_LOOP_SPIN_US",
                if node.is_server {
                    0
                } else {
                    crate::spin::SLAVE_DEFAULT_US
                },
            ),
            poll,
            node,
            listeners,
            ipc_listener,
            signals,
            watch,
            source,
            who,
            conns: HashMap::new(),
            next_token: FIRST_DYNAMIC,
            stop: false,
            tls_server,
            tls_client: None,
            allow_self_cert: false,
            reload_retry: false,
            resolved: HashMap::new(),
            rbuf: vec![0u8; 65536],
        })
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The addresses of `host`, looked up at most once a minute while it resolves (like the
    /// original's name cache): reconnecting to a server that is down must not ask the resolver every second
    /// from the event loop.
    fn resolve(&mut self, host: &str, port: u16) -> Vec<SocketAddr> {
        const KEEP: Duration = Duration::from_secs(60);
        let key = (host.to_string(), port);
        if let Some((at, addrs)) = self.resolved.get(&key) {
            if at.elapsed() < KEEP {
                return addrs.clone();
            }
        }
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map(|i| i.collect())
            .unwrap_or_default();
        if !addrs.is_empty() {
            self.resolved.insert(key, (Instant::now(), addrs.clone()));
        }
        addrs
    }

    /// `-allowselfcert`: accept any certificate from SSL servers.
    pub fn allow_self_cert(&mut self) {
        self.allow_self_cert = true;
        self.tls_client = None;
    }

    fn tls_client(&mut self) -> Result<Arc<rustls::ClientConfig>, String> {
        if let Some(c) = &self.tls_client {
            return Ok(c.clone());
        }
        let c = crate::tls::client_config(&self.node.self_node, self.allow_self_cert)?;
        self.tls_client = Some(c.clone());
        Ok(c)
    }

    /// A new token with `s` registered under it for `interest`; None when the poll refuses.
    fn register_new(
        &mut self,
        s: &mut impl mio::event::Source,
        interest: Interest,
    ) -> Option<usize> {
        let t = self.new_token();
        self.poll.registry().register(s, Token(t), interest).ok()?;
        Some(t)
    }

    fn new_token(&mut self) -> usize {
        loop {
            let t = self.next_token;
            self.next_token = if self.next_token >= usize::MAX / 2 {
                FIRST_DYNAMIC
            } else {
                self.next_token + 1
            };
            if !self.conns.contains_key(&t) {
                return t;
            }
        }
    }

    /// Runs until SIGHUP, SIGINT or SIGTERM.
    pub fn run(&mut self) -> Result<(), String> {
        let outs = self.node.start();
        self.apply(outs);
        let mut events = Events::with_capacity(256);
        let mut last_tick = Instant::now();
        while !self.stop {
            events.clear();
            // poll without sleeping for a while: a message that comes within the window costs
            // no wake-up (crate::spin; the clock is read only when polling is on)
            let t0 = self.spin.enabled().then(Instant::now);
            if let Some(t0) = t0 {
                let poll = &mut self.poll;
                let _ = self.spin.poll_window(t0, || {
                    poll.poll(&mut events, Some(Duration::ZERO))
                        .map(|()| !events.is_empty())
                });
            }
            let r = if events.is_empty() {
                self.poll
                    .poll(&mut events, Some(Duration::from_millis(500)))
            } else {
                Ok(())
            };
            if let Some(t0) = t0 {
                self.spin.waited(t0.elapsed());
            }
            match r {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("poll: {e}")),
            }
            self.node.set_now(now());
            for ev in events.iter() {
                let t = ev.token().0;
                match t {
                    T_IPC => self.accept_clients(),
                    T_SIGNAL => self.signals(),
                    T_CONF => self.config_changed(),
                    t if t < FIRST_DYNAMIC => self.accept_tcp(t),
                    t => self.conn_event(
                        t,
                        ev.is_readable(),
                        ev.is_writable(),
                        ev.is_error() || ev.is_read_closed(),
                    ),
                }
            }
            if last_tick.elapsed() >= Duration::from_millis(500) {
                last_tick = Instant::now();
                let outs = self.node.handle(Input::Tick { now: now() });
                self.apply(outs);
                self.expire_connects();
                if self.reload_retry {
                    self.reload_config();
                }
            }
        }
        Ok(())
    }

    fn signals(&mut self) {
        while let Ok(Some(sig)) = self.signals.read_signal() {
            match Signal::try_from(sig.ssi_signo as i32) {
                Ok(Signal::SIGUSR1) => {
                    let l = crate::dbg::bump_level();
                    eprintln!("chmpx: debug level is now {}", l.name());
                }
                Ok(Signal::SIGHUP | Signal::SIGINT | Signal::SIGTERM) => {
                    log::info!("stop signal received");
                    self.stop = true;
                }
                _ => {}
            }
        }
    }

    fn config_changed(&mut self) {
        let Some(w) = self.watch.as_mut() else { return };
        if !w.changed() {
            return;
        }
        self.reload_config();
    }

    /// Applies the configuration file again. A file that does not load (an editor may be half
    /// way through writing it) keeps the configuration in force and is tried again on the
    /// next tick; the original stops chmpx instead.
    fn reload_config(&mut self) {
        self.reload_retry = false;
        match ChmConfig::load_source(&self.source, &self.who) {
            Ok(cfg) => {
                log::info!("configuration reloaded");
                // Servers added to the file become known (DOWN until reached).
                for s in &cfg.servers {
                    let id = crate::ring::node_chmpxid(&cfg, s);
                    if self.node.ring.get(id).is_none() {
                        let rec = crate::ring::server_record(
                            &cfg,
                            s,
                            crate::wire::CHMPXSTS_SRVOUT_DOWN_NORMAL,
                        );
                        self.node.ring.upsert(rec);
                    }
                }
                self.node.cfg.slaves = cfg.slaves.clone();
            }
            Err(e) => {
                log::error!("the configuration file changed and does not load ({e}); keeping the current one");
                self.reload_retry = true;
            }
        }
    }

    fn accept_tcp(&mut self, token: usize) {
        let Some(idx) = self.listeners.iter().position(|(t, _, _)| *t == token) else {
            return;
        };
        let is_ctl = self.listeners[idx].1;
        loop {
            let res = self.listeners[idx].2.accept();
            let (mut s, addr) = match res {
                Ok(x) => x,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => {
                    log::warn!("accept: {e}");
                    return;
                }
            };
            let _ = s.set_nodelay(true);
            if !is_ctl {
                tune_peer_socket(&s);
            }
            let Some(t) = self.register_new(&mut s, Interest::READABLE) else {
                continue;
            };
            let kind = if is_ctl {
                Kind::Control {
                    input: Vec::new(),
                    answered: false,
                }
            } else {
                Kind::Peer {
                    reader: FrameReader::new(),
                    connecting: None,
                }
            };
            let tls = match (&self.tls_server, is_ctl) {
                (Some(cfg), false) => match rustls::ServerConnection::new(cfg.clone()) {
                    Ok(c) => Some(rustls::Connection::Server(c)),
                    Err(e) => {
                        log::error!("TLS: {e}");
                        let _ = self.poll.registry().deregister(&mut s);
                        continue;
                    }
                },
                _ => None,
            };
            self.conns
                .insert(t, Conn::new(Sock::Tcp(s), kind, false, tls));
            if !is_ctl {
                let outs = self.node.handle(Input::Accepted {
                    conn: t as u64,
                    addr: addr.ip(),
                });
                self.apply(outs);
            }
        }
    }

    fn accept_clients(&mut self) {
        loop {
            let mut s = match self.ipc_listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => {
                    log::warn!("accept (local): {e}");
                    return;
                }
            };
            let Some(t) = self.register_new(&mut s, Interest::READABLE) else {
                continue;
            };
            let kind = Kind::Client {
                reader: MsgReader::default(),
            };
            self.conns
                .insert(t, Conn::new(Sock::Unix(s), kind, false, None));
        }
    }

    fn conn_event(&mut self, t: usize, readable: bool, writable: bool, closed: bool) {
        if writable {
            let connecting = matches!(
                self.conns.get(&t).map(|c| &c.kind),
                Some(Kind::Peer {
                    connecting: Some(_),
                    ..
                })
            );
            if connecting {
                self.finish_connect(t);
            }
            if !self.flush(t) {
                return;
            }
        }
        if readable || closed {
            self.read(t);
        }
    }

    /// Connections of ours not made within `CONNECT_TIMEOUT`: dropped, the next address tried
    /// (or the node told that the server cannot be reached, so a later tick tries again).
    fn expire_connects(&mut self) {
        let late: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                matches!(&c.kind, Kind::Peer { connecting: Some(k), .. } if k.since.elapsed() >= CONNECT_TIMEOUT)
            })
            .map(|(t, _)| *t)
            .collect();
        for t in late {
            let Some(Connecting { chmpxid, rest, .. }) =
                self.conns.get_mut(&t).and_then(|c| match &mut c.kind {
                    Kind::Peer { connecting, .. } => connecting.take(),
                    _ => None,
                })
            else {
                continue;
            };
            log::debug!("connection to {chmpxid:#x} not made in {CONNECT_TIMEOUT:?}: given up");
            self.remove(t);
            self.connect(chmpxid, rest);
        }
    }

    fn finish_connect(&mut self, t: usize) {
        let Some(c) = self.conns.get_mut(&t) else {
            return;
        };
        let Sock::Tcp(s) = &mut c.sock else { return };
        let ok = matches!(s.take_error(), Ok(None)) && s.peer_addr().is_ok();
        let Kind::Peer { connecting, .. } = &mut c.kind else {
            return;
        };
        let Some(Connecting { chmpxid, rest, .. }) = connecting.take() else {
            return;
        };
        if ok {
            let _ = s.set_nodelay(true);
            tune_peer_socket(s);
            let _ = self
                .poll
                .registry()
                .reregister(s, Token(t), Interest::READABLE);
            c.writable = false;
            let outs = self.node.handle(Input::Connected {
                conn: t as u64,
                chmpxid,
            });
            self.apply(outs);
        } else {
            self.remove(t);
            self.connect(chmpxid, rest);
        }
    }

    /// Reads what the socket holds, until it says EAGAIN (edge-triggered readiness). Stopping
    /// at a read shorter than the buffer saves that last read, but lost wake-ups with the
    /// original's slave in tests/mixed/k2hdkc-mixed.sh, so it is not done.
    fn read(&mut self, t: usize) {
        let mut buf = std::mem::take(&mut self.rbuf);
        self.read_with(t, &mut buf);
        self.rbuf = buf;
    }

    fn read_with(&mut self, t: usize, buf: &mut [u8]) {
        let mut eof = false;
        if let Some(c) = self.conns.get_mut(&t) {
            if let (Some(tls), Sock::Tcp(sock)) = (c.tls.as_mut(), &mut c.sock) {
                let mut plain = Vec::new();
                let res = tls_read(tls, sock, &mut plain);
                if let Kind::Peer { reader, .. } = &mut c.kind {
                    reader.feed(&plain);
                }
                let eof = match res {
                    Ok(e) => e,
                    Err(e) => {
                        log::error!("TLS error on a peer connection: {e}");
                        true
                    }
                };
                // The handshake may have something to answer.
                self.flush(t);
                self.process_input(t);
                if eof {
                    self.gone(t);
                }
                return;
            }
        }
        loop {
            let Some(c) = self.conns.get_mut(&t) else {
                return;
            };
            match c.sock.read(buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => match &mut c.kind {
                    Kind::Peer { reader, .. } => reader.feed(&buf[..n]),
                    Kind::Client { reader } => reader.feed(&buf[..n]),
                    Kind::Control { input, .. } => {
                        input.extend_from_slice(&buf[..n]);
                        if input.len() > ctl::CTL_COMMAND_MAX_LENGTH * 2 {
                            input.truncate(ctl::CTL_COMMAND_MAX_LENGTH * 2);
                        }
                    }
                },
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    eof = true;
                    break;
                }
            }
        }
        self.process_input(t);
        if eof {
            self.gone(t);
        }
    }

    fn process_input(&mut self, t: usize) {
        let Some(c) = self.conns.get_mut(&t) else {
            return;
        };
        let id = t as u64;
        let (inputs, bad) = match &mut c.kind {
            Kind::Peer { reader, .. } => decoded(
                || {
                    let frame = reader.next_frame()?;
                    Ok(frame.map(|frame| Input::Frame { conn: id, frame }))
                },
                |e: WireError| log::error!("peer sent a bad frame ({e}); closing the connection"),
            ),
            Kind::Client { reader } => decoded(
                || match reader.next_msg()? {
                    Some(m) => Ok(Some(Input::Client {
                        client: id,
                        req: Request::decode(&m)?,
                    })),
                    None => Ok(None),
                },
                |e: ipc::IpcError| {
                    log::error!("local client sent a bad message ({e}); dropping it")
                },
            ),
            Kind::Control { input, answered } => {
                if *answered || input.is_empty() {
                    return;
                }
                *answered = true;
                let text = String::from_utf8_lossy(input).to_string();
                let resp = match ctl::command(&mut self.node, &text) {
                    Ok(r) => r,
                    Err(remote) => forward_control(&remote),
                };
                let outs = self.node.take_outputs();
                self.apply(outs);
                self.send(t, resp.as_bytes());
                if let Some(c) = self.conns.get_mut(&t) {
                    c.close_after_flush = true;
                }
                self.flush(t);
                return;
            }
        };
        for input in inputs {
            let outs = self.node.handle(input);
            self.apply(outs);
        }
        if bad {
            self.gone(t);
        }
    }

    /// A connection is finished (EOF, error, or bad data).
    fn gone(&mut self, t: usize) {
        let Some(c) = self.conns.get(&t) else { return };
        let input = match c.kind {
            Kind::Peer { .. } => Some(Input::Closed { conn: t as u64 }),
            Kind::Client { .. } => Some(Input::ClientGone { client: t as u64 }),
            Kind::Control { .. } => None,
        };
        self.remove(t);
        if let Some(i) = input {
            let outs = self.node.handle(i);
            self.apply(outs);
        }
    }

    fn remove(&mut self, t: usize) {
        if let Some(mut c) = self.conns.remove(&t) {
            let _ = self.poll.registry().deregister(c.sock.source());
        }
    }

    fn send(&mut self, t: usize, data: &[u8]) {
        let Some(c) = self.conns.get_mut(&t) else {
            return;
        };
        if c.out.pending() + data.len() > MAX_OUTBUF {
            log::error!("a connection does not read its data; closing it");
            self.gone(t);
            return;
        }
        c.out.push(data);
    }

    /// Writes what is buffered; false when the connection was closed.
    fn flush(&mut self, t: usize) -> bool {
        let Some(c) = self.conns.get_mut(&t) else {
            return false;
        };
        if matches!(
            c.kind,
            Kind::Peer {
                connecting: Some(_),
                ..
            }
        ) {
            return true;
        }
        let res = match (&mut c.sock, c.tls.as_mut()) {
            (Sock::Tcp(s), Some(tls)) => tls_flush(tls, &mut c.out, s),
            (Sock::Tcp(s), None) => c.out.flush(s),
            (Sock::Unix(s), _) if !c.fds.is_empty() => {
                match send_fds(s, &mut c.out, &mut c.fds) {
                    // the rest only once the sockets went (with bytes before their message)
                    Ok(()) if c.fds.is_empty() => c.out.flush(s),
                    Ok(()) => Ok(false),
                    Err(e) => Err(e),
                }
            }
            (Sock::Unix(s), _) => c.out.flush(s),
        };
        match res {
            Ok(true) => {
                if c.close_after_flush {
                    self.remove(t);
                    return false;
                }
                if c.writable {
                    c.writable = false;
                    let _ = self.poll.registry().reregister(
                        c.sock.source(),
                        Token(t),
                        Interest::READABLE,
                    );
                }
                true
            }
            Ok(false) => {
                if !c.writable {
                    c.writable = true;
                    let _ = self.poll.registry().reregister(
                        c.sock.source(),
                        Token(t),
                        Interest::READABLE | Interest::WRITABLE,
                    );
                }
                true
            }
            Err(_) => {
                self.gone(t);
                false
            }
        }
    }

    /// `Output::HandOver`: peer connection `t` (a client's link, forgotten by the node) goes
    /// to local client `client` with what was read from it and not handled and what was not
    /// written to it yet; the socket travels with the message (SCM_RIGHTS).
    fn hand_over(&mut self, t: usize, client: usize, copies: bool) {
        let Some(mut c) = self.conns.remove(&t) else {
            return;
        };
        let _ = self.poll.registry().deregister(c.sock.source());
        let inbuf = match &mut c.kind {
            Kind::Peer { reader, .. } => reader.take_buffered(),
            _ => Vec::new(),
        };
        let outbuf = c.out.data.get(c.out.pos..).unwrap_or_default().to_vec();
        let taker_ok = self.conns.get(&client).is_some_and(|k| {
            matches!(k.kind, Kind::Client { .. }) && k.fds.len() < MAX_HANDOVER_FDS
        });
        let sock = match c.sock {
            Sock::Tcp(s) if c.tls.is_none() && taker_ok => s,
            _ => {
                log::warn!(
                    "a link could not be handed over; closed (its client goes the slave's way)"
                );
                return;
            }
        };
        // SAFETY: the descriptor is owned by `sock`, which gives it up here.
        let fd = unsafe { OwnedFd::from_raw_fd(sock.into_raw_fd()) };
        let msg = Response::LinkHandover {
            inbuf,
            outbuf,
            copies,
        }
        .encode();
        self.send(client, &msg);
        if let Some(k) = self.conns.get_mut(&client) {
            k.fds.push(fd);
        }
    }

    fn connect(&mut self, chmpxid: u64, mut addrs: Vec<SocketAddr>) {
        let is_ssl = self.node.ring.get(chmpxid).is_some_and(|r| r.ssl.is_ssl);
        let host = self
            .node
            .ring
            .get(chmpxid)
            .map(|r| r.name.clone())
            .unwrap_or_default();
        while !addrs.is_empty() {
            let a = addrs.remove(0);
            match TcpStream::connect(a) {
                Ok(mut s) => {
                    let tls = if is_ssl {
                        match self.tls_client() {
                            Ok(cfg) => match rustls::ClientConnection::new(
                                cfg,
                                crate::tls::server_name(&host),
                            ) {
                                Ok(c) => Some(rustls::Connection::Client(c)),
                                Err(e) => {
                                    log::error!("TLS: {e}");
                                    continue;
                                }
                            },
                            Err(e) => {
                                log::error!("TLS: {e}");
                                break;
                            }
                        }
                    } else {
                        None
                    };
                    let interest = Interest::WRITABLE | Interest::READABLE;
                    let Some(t) = self.register_new(&mut s, interest) else {
                        continue;
                    };
                    let kind = Kind::Peer {
                        reader: FrameReader::new(),
                        connecting: Some(Connecting {
                            chmpxid,
                            rest: addrs,
                            since: Instant::now(),
                        }),
                    };
                    self.conns
                        .insert(t, Conn::new(Sock::Tcp(s), kind, true, tls));
                    return;
                }
                Err(e) => log::debug!("connect {a}: {e}"),
            }
        }
        let outs = self.node.handle(Input::ConnectFailed { chmpxid });
        self.apply(outs);
    }

    fn apply(&mut self, outs: Vec<Output>) {
        let mut touched: Vec<usize> = Vec::new();
        for o in outs {
            match o {
                Output::Send { conn, data } => {
                    let t = conn as usize;
                    self.send(t, &data);
                    touched.push(t);
                }
                Output::Close { conn } => {
                    let t = conn as usize;
                    self.flush(t);
                    self.remove(t);
                }
                Output::Connect { chmpxid, addrs } => {
                    let resolved: Vec<SocketAddr> = addrs
                        .iter()
                        .flat_map(|(h, p)| self.resolve(h, *p))
                        .collect();
                    self.connect(chmpxid, resolved);
                }
                Output::ToClient { client, resp } => {
                    let t = client as usize;
                    self.send(t, &resp.encode());
                    touched.push(t);
                }
                Output::HandOver {
                    conn,
                    client,
                    copies,
                } => {
                    self.hand_over(conn as usize, client as usize, copies);
                    touched.push(client as usize);
                }
                Output::CloseClient { client } => {
                    let t = client as usize;
                    if let Some(c) = self.conns.get_mut(&t) {
                        c.close_after_flush = true;
                    }
                    touched.push(t);
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for t in touched {
            self.flush(t);
        }
    }
}

/// What a connection's reader holds, as inputs for the node: `next` gives one after the other
/// until none is left or one is bad (`bad` says why; the second value is then true).
fn decoded<E>(
    mut next: impl FnMut() -> Result<Option<Input>, E>,
    bad: impl FnOnce(E),
) -> (Vec<Input>, bool) {
    let mut inputs = Vec::new();
    loop {
        match next() {
            Ok(Some(i)) => inputs.push(i),
            Ok(None) => return (inputs, false),
            Err(e) => {
                bad(e);
                return (inputs, true);
            }
        }
    }
}

/// Sends a control command to another chmpx and returns its answer (SERVICEOUT of a remote
/// server).
pub fn forward_control(r: &ctl::Remote) -> String {
    match control_request(&r.host, r.port, &r.command, Duration::from_secs(5)) {
        Ok(s) => s,
        Err(_) => ctl::RES_ERROR_TRANSFER.into(),
    }
}

/// One control-port exchange: connect, send the command (NUL-terminated like the original's
/// tools), read the answer until the peer closes.
pub fn control_request(
    host: &str,
    port: u16,
    command: &str,
    timeout: Duration,
) -> io::Result<String> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    let mut last = io::Error::new(ErrorKind::NotFound, "no address");
    for a in addrs {
        match std::net::TcpStream::connect_timeout(&a, timeout) {
            Ok(mut s) => {
                s.set_read_timeout(Some(timeout))?;
                s.set_write_timeout(Some(timeout))?;
                let mut data = command.as_bytes().to_vec();
                data.push(0);
                s.write_all(&data)?;
                let mut out = Vec::new();
                s.read_to_end(&mut out)?;
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}
