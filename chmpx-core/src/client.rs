//! The client side of the local protocol ([`crate::ipc`]): what libchmpx and the tools use to
//! talk to the chmpx process on their own host. Blocking, one socket per handle.

use std::collections::{HashMap, VecDeque};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::config::{ChmConfig, SelfIdentity};
use crate::ipc::{self, MsgReader, Request, Response, IPC_VERSION};
use crate::node::{CHMLOG_TYPE_INPUT, CHMLOG_TYPE_MQ, CHMLOG_TYPE_OUTPUT, CHMLOG_TYPE_SOCKET};
use crate::wire::{ComPkt, CHM_INVALID_MSGID, COMPKT_SIZE};

/// A received message: its packet head and body.
pub type Packet = (ComPkt, Vec<u8>);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("chmpx of group {group} (control port {ctlport}) is not running on this host")]
    NotRunning { group: String, ctlport: i16 },
    #[error("chmpx refused: {0}")]
    Refused(String),
    #[error("chmpx is gone")]
    Gone,
    #[error("local protocol error: {0}")]
    Protocol(String),
    #[error("the message reached no server")]
    NotSent,
}

pub type Result<T> = std::result::Result<T, ClientError>;

pub(crate) fn connect_socket(group: &str, ctlport: i16) -> Result<UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let name = ipc::socket_name(group, ctlport);
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
    UnixStream::connect_addr(&addr).map_err(|_| ClientError::NotRunning {
        group: group.into(),
        ctlport,
    })
}

/// One attachment to the local chmpx.
pub struct Client {
    sock: UnixStream,
    reader: MsgReader,
    group: String,
    ctlport: i16,
    pub on_server: bool,
    pub auto_rejoin: bool,
    /// A merge channel follows each hello (see [`Request::Hello`]).
    pub merge_channel: bool,
    pub chmpxid: u64,
    /// The msgid chmpx gave at attach (client-on-server), all-ones otherwise.
    pub msgid: u64,
    pub chmpx_pid: u32,
    /// msgids opened by this client-on-slave.
    opened: Vec<u64>,
    /// Delivered packets not yet taken, per msgid.
    queues: HashMap<u64, VecDeque<Packet>>,
    /// Delivery order for client-on-server receives (any msgid).
    order: VecDeque<u64>,
    /// Answers read while waiting for something else.
    responses: VecDeque<Response>,
    /// msgids of posts that reached nobody, not yet reported.
    not_sent: Vec<u64>,
    /// The read buffer, allocated once.
    rbuf: Vec<u8>,
    /// Polling before a blocking receive (CHMPX_SPIN_US; off by default).
    spin: crate::spin::Spinner,
    dead: bool,
    /// Posts go on links of this client's own to the servers (`crate::direct`), once it has
    /// posted `LINK_AFTER_POSTS` times; `CHMPX_DIRECT_LINKS=0` keeps them off.
    direct: Option<crate::direct::Links>,
    direct_ok: bool,
    posts: u32,
    /// Links this client-on-server serves (`crate::served`), after [`Client::serve_links`].
    served: Option<crate::served::Served>,
    /// Its copies go on links of their own (`crate::copies`), once it serves links;
    /// `CHMPX_COPY_LINKS=0` keeps them on chmpx's way.
    copies: Option<crate::copies::Copies>,
    copies_ok: bool,
    /// Sockets received with messages (SCM_RIGHTS), taken by the messages that announce them.
    fds: VecDeque<std::os::fd::OwnedFd>,
    /// Something was written to chmpx since it was last seen to have read everything
    /// (`chmpx_caught_up`).
    posted: bool,
    /// Length of the last message written to chmpx.
    last_write: usize,
    /// What a wait polls (kept between waits).
    pollfds: Vec<libc::pollfd>,
    pollids: Vec<Waited>,
    /// Messages on links of our own not yet reported to chmpx.
    tally: Tally,
}

/// Messages this client sent and received on links of its own (direct, served, copy links),
/// which chmpx did not see: reported to it (`Request::LinkCounts`) at most every `TALLY_EVERY`,
/// while waiting, and when the client goes, so that SELFSTATUS and DUMP count them as the
/// original's chmpx counts every message that passes it.
#[derive(Default)]
struct Tally {
    /// To and from servers (direct links, copies), to and from slaves (served links).
    servers: ipc::Stat,
    slaves: ipc::Stat,
    /// When the first message not yet reported was counted.
    since: Option<Instant>,
    /// chmpx keeps a trace log (`Response::Tracing`): the records it would have made of these
    /// messages, had they passed it.
    tracing: bool,
    trace: Vec<ipc::TraceEntry>,
}

/// Most trace records a client keeps between two reports (the oldest half goes beyond).
const TRACE_KEEP: usize = 8192;

/// Whom a message on a link went to or came from: chmpx counts servers and slaves apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Server,
    Slave,
}

impl Tally {
    fn stat(&mut self, peer: Peer) -> &mut ipc::Stat {
        match peer {
            Peer::Server => &mut self.servers,
            Peer::Slave => &mut self.slaves,
        }
    }

    /// `n` messages of `bytes` each sent (one to each receiver).
    fn sent(&mut self, to: Peer, n: u64, bytes: usize) {
        if n > 0 {
            self.start();
            let st = self.stat(to);
            for _ in 0..n {
                st.add(true, (COMPKT_SIZE + bytes) as u64);
            }
            // chmpx would have taken it from the client, then sent it to each receiver
            self.record(CHMLOG_TYPE_INPUT | CHMLOG_TYPE_MQ, bytes, 1);
            self.record(
                CHMLOG_TYPE_OUTPUT | CHMLOG_TYPE_SOCKET,
                COMPKT_SIZE + bytes,
                n,
            );
        }
    }

    /// A message of `bytes` received.
    fn received(&mut self, from: Peer, bytes: usize) {
        self.start();
        self.stat(from).add(false, (COMPKT_SIZE + bytes) as u64);
        // chmpx would have read it from its peer, then handed it to the client
        self.record(
            CHMLOG_TYPE_INPUT | CHMLOG_TYPE_SOCKET,
            COMPKT_SIZE + bytes,
            1,
        );
        self.record(CHMLOG_TYPE_OUTPUT | CHMLOG_TYPE_MQ, bytes, 1);
    }

    /// `n` trace records of one message (while chmpx traces).
    fn record(&mut self, log_type: u64, bytes: usize, n: u64) {
        if !self.tracing {
            return;
        }
        let now = crate::server::now();
        for _ in 0..n {
            if self.trace.len() >= TRACE_KEEP {
                self.trace.drain(..TRACE_KEEP / 2);
            }
            self.trace.push(ipc::TraceEntry {
                log_type,
                length: bytes as u64,
                start: now,
                finish: now,
            });
        }
    }

    fn start(&mut self) {
        if self.since.is_none() {
            self.since = Some(Instant::now());
        }
    }

    /// How long until a report is due (None: nothing to report).
    fn due_in(&self) -> Option<Duration> {
        self.since.map(|t| TALLY_EVERY.saturating_sub(t.elapsed()))
    }

    /// The report, when one is due (or `now`); the counts start again.
    fn take(&mut self, now: bool) -> Option<Request> {
        if !now && self.due_in()? > Duration::ZERO {
            return None;
        }
        self.since?;
        let t = std::mem::replace(
            self,
            Tally {
                tracing: self.tracing,
                ..Tally::default()
            },
        );
        Some(Request::LinkCounts {
            servers: t.servers,
            slaves: t.slaves,
            trace: t.trace,
        })
    }
}

/// Queues a packet delivered to `msgid` (from chmpx, a direct link or a served link).
fn enqueue(
    queues: &mut HashMap<u64, VecDeque<Packet>>,
    order: &mut VecDeque<u64>,
    msgid: u64,
    p: Packet,
) {
    queues.entry(msgid).or_default().push_back(p);
    order.push_back(msgid);
}

/// How often at most the counts of messages on links are reported to chmpx.
const TALLY_EVERY: Duration = Duration::from_millis(100);

impl Drop for Client {
    /// What is left of the counts of messages on links goes to chmpx, if it takes it at once.
    fn drop(&mut self) {
        if self.dead {
            return;
        }
        if let Some(req) = self.tally.take(true) {
            let data = req.encode();
            let fd = std::os::fd::AsRawFd::as_raw_fd(&self.sock);
            // SAFETY: a send of our own buffer on our own socket, never waiting or raising
            // SIGPIPE; its result does not matter (the counts are statistics).
            unsafe {
                libc::send(
                    fd,
                    data.as_ptr() as *const libc::c_void,
                    data.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
        }
    }
}

/// What one entry of a wait's poll list is.
#[derive(Clone, Copy)]
enum Waited {
    Local,
    Link(u64),
    Served(u64),
}

/// How long an answer on a served link waits for chmpx to read what was written before it
/// (`Client::reply`).
const CATCH_UP: Duration = Duration::from_micros(500);

/// Links are opened from this many posts on: a client that sends a message or two (a
/// one-time session) does not pay for opening them.
const LINK_AFTER_POSTS: u32 = 4;

impl Client {
    /// Attaches to the chmpx the configuration names (group + self control port).
    pub fn attach(config: &str, on_server: bool, auto_rejoin: bool) -> Result<Client> {
        Self::attach_ex(config, on_server, auto_rejoin, false)
    }

    /// [`attach`](Self::attach); with `merge_channel` the caller opens a merge channel
    /// ([`crate::merge_client::MergeChannel`]) right after, and after each rejoin.
    pub fn attach_ex(
        config: &str,
        on_server: bool,
        auto_rejoin: bool,
        merge_channel: bool,
    ) -> Result<Client> {
        if config.is_empty() {
            return Err(ClientError::Config("empty configuration".into()));
        }
        let (cfg, _) = ChmConfig::load(config, &SelfIdentity::default(), false)
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let mut c = Self::connect(&cfg.group, cfg.self_ctlport, on_server, auto_rejoin)?;
        c.merge_channel = merge_channel && on_server;
        c.hello()?;
        Ok(c)
    }

    /// Attaches to the chmpx of `group` with control port `ctlport` (-1 when it has none).
    pub fn attach_to(
        group: &str,
        ctlport: i16,
        on_server: bool,
        auto_rejoin: bool,
    ) -> Result<Client> {
        Self::attach_to_ex(group, ctlport, on_server, auto_rejoin, false)
    }

    /// [`attach_to`](Self::attach_to), with a merge channel to follow (see
    /// [`attach_ex`](Self::attach_ex)).
    pub fn attach_to_ex(
        group: &str,
        ctlport: i16,
        on_server: bool,
        auto_rejoin: bool,
        merge_channel: bool,
    ) -> Result<Client> {
        let mut c = Self::connect(group, ctlport, on_server, auto_rejoin)?;
        c.merge_channel = merge_channel && on_server;
        c.hello()?;
        Ok(c)
    }

    fn connect(group: &str, ctlport: i16, on_server: bool, auto_rejoin: bool) -> Result<Client> {
        let sock = connect_socket(group, ctlport)?;
        let c = Client {
            sock,
            reader: MsgReader::default(),
            group: group.into(),
            ctlport,
            on_server,
            auto_rejoin,
            merge_channel: false,
            chmpxid: 0,
            msgid: CHM_INVALID_MSGID,
            chmpx_pid: 0,
            opened: Vec::new(),
            queues: HashMap::new(),
            order: VecDeque::new(),
            responses: VecDeque::new(),
            not_sent: Vec::new(),
            rbuf: vec![0u8; 65536],
            spin: crate::spin::Spinner::from_env("CHMPX_SPIN_US"),
            dead: false,
            direct: None,
            direct_ok: !on_server
                && std::env::var("CHMPX_DIRECT_LINKS").map_or(true, |v| v.trim() != "0"),
            posts: 0,
            served: None,
            copies: None,
            copies_ok: false,
            fds: VecDeque::new(),
            posted: false,
            last_write: 0,
            pollfds: Vec::new(),
            pollids: Vec::new(),
            tally: Tally::default(),
        };
        Ok(c)
    }

    fn hello(&mut self) -> Result<()> {
        let pid = std::process::id();
        match self.call(&Request::Hello {
            version: IPC_VERSION,
            pid,
            on_server: self.on_server,
            merge: self.merge_channel,
        })? {
            Response::Welcome {
                chmpxid,
                msgid,
                pid,
                ..
            } => {
                self.chmpxid = chmpxid;
                self.msgid = msgid;
                self.chmpx_pid = pid;
                Ok(())
            }
            Response::Refused { reason } => Err(ClientError::Refused(reason)),
            other => Err(ClientError::Protocol(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// The group and control port this client attached with.
    pub fn target(&self) -> (&str, i16) {
        (&self.group, self.ctlport)
    }

    /// Reconnects after chmpx restarted (auto-rejoin). The msgids of a client-on-slave are new.
    pub fn rejoin(&mut self) -> Result<()> {
        let sock = connect_socket(&self.group, self.ctlport)?;
        self.sock = sock;
        self.reader = MsgReader::default();
        self.dead = false;
        self.opened.clear();
        self.queues.clear();
        self.order.clear();
        self.responses.clear();
        self.direct = None;
        self.copies = None;
        self.posts = 0;
        self.fds.clear();
        self.hello()?;
        if let Some(s) = self.served.as_mut() {
            s.clear();
            self.write(&Request::ServeLinks)?;
        }
        Ok(())
    }

    /// Serve links chmpx hands over (a client-on-server; `crate::served`): requests that come
    /// on them are received like the others and answered on them. Off with
    /// `CHMPX_SERVE_LINKS=0`; Ok(false) then.
    pub fn serve_links(&mut self) -> Result<bool> {
        let off = std::env::var("CHMPX_SERVE_LINKS").is_ok_and(|v| v.trim() == "0");
        if !self.on_server || off {
            return Ok(false);
        }
        self.write(&Request::ServeLinks)?;
        self.served = Some(crate::served::Served::new(Default::default()));
        self.copies_ok = std::env::var("CHMPX_COPY_LINKS").map_or(true, |v| v.trim() != "0");
        Ok(true)
    }

    /// A copy on links of its own (`crate::copies`); false when it must go through chmpx.
    fn post_copy(&mut self, msgid: u64, body: &[u8], hash: u64, c2ctype: u64) -> bool {
        // what chmpx said meanwhile (the server table may have changed) is read first
        let fd = std::os::fd::AsRawFd::as_raw_fd(&self.sock);
        if self.recv_now(fd).is_err() || self.drain().is_err() {
            return false;
        }
        if self.copies.as_ref().is_none_or(|c| c.stale) {
            match self.link_info() {
                Some(info) => match self.copies.as_mut() {
                    Some(c) => c.update(info),
                    None => self.copies = Some(crate::copies::Copies::new(info)),
                },
                None => {
                    self.copies_ok = false;
                    self.copies = None;
                    return false;
                }
            }
        }
        let msgid = if msgid == CHM_INVALID_MSGID {
            self.msgid
        } else {
            msgid
        };
        let n = self
            .copies
            .as_mut()
            .map_or(0, |c| c.send(msgid, c2ctype, hash, body));
        self.tally.sent(Peer::Server, n as u64, body.len());
        n > 0
    }

    /// What pauses the served links (for the merge channel; see `crate::served`).
    pub fn link_pause(&self) -> Option<std::sync::Arc<crate::served::LinkPause>> {
        self.served.as_ref().map(|s| s.pause())
    }

    /// chmpx is gone: served links are closed at once (their clients go the slave's way
    /// rather than wait for answers that would need chmpx for the copies).
    fn lost(&mut self) {
        self.dead = true;
        self.copies = None;
        if let Some(s) = self.served.as_mut() {
            s.clear();
        }
    }

    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// The socket's descriptor, for waiting until it is readable without holding the client
    /// (libchmpx polls it between non-blocking receives so other threads can send meanwhile).
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.sock)
    }

    /// True while the chmpx process is there (the socket is open and not hung up).
    pub fn is_chmpx_alive(&mut self) -> bool {
        if self.dead {
            return false;
        }
        let mut fds = [libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&self.sock),
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: one valid pollfd, zero timeout.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) };
        if n > 0 && fds[0].revents & (libc::POLLHUP | libc::POLLERR | libc::POLLIN) != 0 {
            // Readable: pull what is there (deliveries) and see whether it was EOF.
            if self.pump(Some(Duration::ZERO)).is_ok() {
                let _ = self.drain();
            }
        }
        !self.dead
    }

    /// Whether chmpx has read everything this client wrote but its last message (waits up
    /// to `CATCH_UP`, giving the core away meanwhile: chmpx may need it).
    fn chmpx_caught_up(&mut self) -> bool {
        let fd = std::os::fd::AsRawFd::as_raw_fd(&self.sock);
        let t0 = Instant::now();
        loop {
            let mut unread: libc::c_int = 0;
            // SAFETY: SIOCOUTQ (= TIOCOUTQ) on our own socket writes one int.
            if unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut unread) } != 0 {
                return false;
            }
            if unread == 0 {
                self.posted = false;
                return true;
            }
            if unread as usize <= self.last_write {
                return true;
            }
            if t0.elapsed() >= CATCH_UP {
                return false;
            }
            std::thread::yield_now();
        }
    }

    fn write(&mut self, req: &Request) -> Result<()> {
        let data = req.encode();
        self.posted = true;
        self.last_write = data.len();
        if self.sock.write_all(&data).is_err() {
            self.lost();
            return Err(ClientError::Gone);
        }
        Ok(())
    }

    /// Reads from the socket until one non-delivery response arrives (deliveries are queued).
    fn call(&mut self, req: &Request) -> Result<Response> {
        self.write(req)?;
        loop {
            if let Some(r) = self.responses.pop_front() {
                return Ok(r);
            }
            self.pump(None)?;
            self.drain()?;
        }
    }

    /// Moves every complete message out of the reader: deliveries to their queues, other
    /// responses to `responses`.
    fn drain(&mut self) -> Result<()> {
        loop {
            match self.reader.next_msg() {
                Ok(Some(m)) => {
                    match Response::decode(&m).map_err(|e| ClientError::Protocol(e.to_string()))? {
                        Response::Deliver { msgid, pkt, body } => {
                            enqueue(&mut self.queues, &mut self.order, msgid, (pkt, body));
                        }
                        Response::NotSent { msgid } => {
                            if self.not_sent.len() < 1024 {
                                self.not_sent.push(msgid);
                            }
                        }
                        Response::Tracing { on } => {
                            log::info!(
                                "chmpx {} its trace log: messages on links {}",
                                if on { "keeps" } else { "stopped" },
                                if on { "are traced" } else { "no longer" }
                            );
                            self.tally.tracing = on;
                            if !on {
                                self.tally.trace.clear();
                            }
                        }
                        Response::RingChanged => {
                            if let Some(l) = self.direct.as_mut() {
                                l.stale = true;
                            }
                            if let Some(c) = self.copies.as_mut() {
                                c.stale = true;
                            }
                        }
                        Response::LinkHandover {
                            inbuf,
                            outbuf,
                            copies,
                        } => self.take_link(&inbuf, &outbuf, copies),
                        r => self.responses.push_back(r),
                    }
                }
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.lost();
                    return Err(ClientError::Protocol(e.to_string()));
                }
            }
        }
    }

    /// One read; Ok(false) on timeout.
    ///
    /// The wait is `poll(POLLIN)`, not a blocking `recv`: the kernel wakes every task asleep on
    /// a Unix socket when the peer consumes what it sent (send space freed), so a client
    /// blocked in `recv` right after sending a request woke once for nothing each time chmpx
    /// read it, and then again for the answer: an extra wake-up of a sleeping process per
    /// request (docs/performance.md). `poll` is only woken for readable data.
    fn pump(&mut self, timeout: Option<Duration>) -> Result<bool> {
        if self.dead {
            return Err(ClientError::Gone);
        }
        // poll a while before sleeping when configured (crate::spin; the clock is read only
        // then); waits shorter than a millisecond never sleep anyway
        let sleeps = timeout.is_none_or(|d| d >= Duration::from_millis(1));
        let t0 = (sleeps && self.spin.enabled()).then(Instant::now);
        if let Some(t0) = t0 {
            // the spinner is taken out while it polls this client's own wait
            let mut spin =
                std::mem::replace(&mut self.spin, crate::spin::Spinner::new(Duration::ZERO));
            let got = spin.poll_window(t0, || self.wait_once(0));
            if matches!(got, Ok(true)) {
                spin.waited(t0.elapsed());
            }
            self.spin = spin;
            if got? {
                return Ok(true);
            }
        }
        let ms = match timeout {
            None => -1,
            Some(d) if d < Duration::from_millis(1) => 0,
            // rounded up: never return before the caller's deadline
            Some(d) => d.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32,
        };
        let got = self.wait_once(ms);
        if let Some(t0) = t0 {
            self.spin.waited(t0.elapsed());
        }
        got
    }

    /// One `poll` of the local socket and the links (up to `ms`; -1 forever), then what is
    /// readable read: Ok(false) when nothing was. A link that fails is dropped; the local
    /// socket failing means chmpx is gone.
    fn wait_once(&mut self, ms: i32) -> Result<bool> {
        let fd = std::os::fd::AsRawFd::as_raw_fd(&self.sock);
        let pfd = |fd, events| libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // the lists are kept between waits (no allocation a request)
        let (fds, ids) = (&mut self.pollfds, &mut self.pollids);
        fds.clear();
        ids.clear();
        fds.push(pfd(fd, libc::POLLIN));
        ids.push(Waited::Local);
        if let Some(l) = &self.direct {
            for (id, lfd) in l.fds() {
                fds.push(pfd(lfd, libc::POLLIN));
                ids.push(Waited::Link(id));
            }
        }
        if let Some(s) = &self.served {
            for (id, sfd, out) in s.fds() {
                let ev = if out {
                    libc::POLLIN | libc::POLLOUT
                } else {
                    libc::POLLIN
                };
                fds.push(pfd(sfd, ev));
                ids.push(Waited::Served(id));
            }
        }
        // SAFETY: valid pollfds for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n == 0 {
            return Ok(false);
        }
        if n < 0 {
            if std::io::Error::last_os_error().kind() == ErrorKind::Interrupted {
                return Ok(true);
            }
            self.lost();
            return Err(ClientError::Gone);
        }
        for i in 1..self.pollfds.len() {
            let ev = self.pollfds[i].revents;
            if ev == 0 {
                continue;
            }
            match self.pollids[i] {
                Waited::Link(id) => self.read_link(id),
                Waited::Served(id) => self.serve(id, ev & libc::POLLOUT != 0)?,
                Waited::Local => {}
            }
        }
        if self.pollfds[0].revents == 0 {
            return Ok(true);
        }
        match self.recv_now(fd) {
            Ok(Some(_)) => Ok(true),
            Ok(None) | Err(_) => {
                self.lost();
                Err(ClientError::Gone)
            }
        }
    }

    /// Reads what direct link `id` has (it was readable): answers to our msgids are queued.
    fn read_link(&mut self, id: u64) {
        let Some(l) = self.direct.as_mut() else {
            return;
        };
        let (queues, order, opened) = (&mut self.queues, &mut self.order, &self.opened);
        let tally = &mut self.tally;
        l.read(id, &mut self.rbuf, &mut |f| {
            // only answers to our own msgids are kept (a server could send anything)
            let msgid = f.pkt.head.term_ids.msgid;
            if !opened.contains(&msgid) {
                log::warn!("direct link: a message for msgid {msgid:#x}, not ours: dropped");
                return;
            }
            tally.received(Peer::Server, f.payload.len());
            enqueue(queues, order, msgid, (f.pkt, f.payload));
        });
    }

    /// Served link `id` is ready: what it can take written, what it brought read.
    fn serve(&mut self, id: u64, writable: bool) -> Result<()> {
        self.with_served(|s, buf, me, msgid, got| {
            if writable {
                s.flush(id);
            }
            s.read(id, buf, me, msgid, got)
        })
    }

    /// [`Response::LinkHandover`]: the socket that came with it is served from now on, and
    /// what chmpx read from it and did not handle is taken.
    fn take_link(&mut self, inbuf: &[u8], outbuf: &[u8], copies: bool) {
        let Some(fd) = self.fds.pop_front() else {
            log::error!("a link was handed over without its socket");
            return;
        };
        let _ = self.with_served(|s, _, me, msgid, got| {
            if let Some(id) = s.add(fd, inbuf, outbuf, me, copies) {
                log::info!("serving a client's link ({} in all)", s.count());
                s.parse(id, me, msgid, got);
            }
        });
    }

    /// Runs `f` on the served links (with the read buffer, our chmpxid and msgid) and a sink
    /// for what they bring: requests are queued like deliveries, frames to hand back are
    /// written to chmpx after.
    fn with_served(
        &mut self,
        f: impl FnOnce(
            &mut crate::served::Served,
            &mut [u8],
            u64,
            u64,
            &mut dyn FnMut(crate::served::Got),
        ),
    ) -> Result<()> {
        let Some(s) = self.served.as_mut() else {
            return Ok(());
        };
        let (me, msgid) = (self.chmpxid, self.msgid);
        let mut back = Vec::new();
        let (queues, order, tally) = (&mut self.queues, &mut self.order, &mut self.tally);
        f(s, &mut self.rbuf, me, msgid, &mut |g| match g {
            crate::served::Got::Request(f) => {
                // a copy comes from another server, a request from a slave's client
                let from = if f.pkt.head.c2ctype == crate::copies::COPY_C2CTYPE {
                    Peer::Server
                } else {
                    Peer::Slave
                };
                tally.received(from, f.payload.len());
                enqueue(queues, order, msgid, (f.pkt, f.payload));
            }
            crate::served::Got::Back(f) => back.push(f.encode()),
        });
        for data in back {
            self.write(&Request::LinkFrame { data })?;
        }
        Ok(())
    }

    /// One `recv` that does not wait: Some(true) data fed to the reader, Some(false) nothing
    /// there (or interrupted), None the other end closed; Err on a socket error.
    fn recv_now(&mut self, fd: std::os::fd::RawFd) -> std::io::Result<Option<bool>> {
        if self.served.is_some() {
            return self.recv_with_fds(fd);
        }
        // SAFETY: rbuf is a valid writable buffer of its length for the duration of the call.
        let n = unsafe {
            libc::recv(
                fd,
                self.rbuf.as_mut_ptr().cast(),
                self.rbuf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n > 0 {
            self.reader.feed(&self.rbuf[..n as usize]);
            return Ok(Some(true));
        }
        if n == 0 {
            return Ok(None);
        }
        let e = std::io::Error::last_os_error();
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::Interrupted => Ok(Some(false)),
            _ => Err(e),
        }
    }

    /// `recv_now` of a client that serves links: sockets chmpx sends along are kept for the
    /// messages that announce them.
    fn recv_with_fds(&mut self, fd: std::os::fd::RawFd) -> std::io::Result<Option<bool>> {
        use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
        use std::os::fd::FromRawFd;
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 32]);
        let (n, got) = {
            let mut iov = [std::io::IoSliceMut::new(&mut self.rbuf)];
            let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC;
            match recvmsg::<()>(fd, &mut iov, Some(&mut cmsg), flags) {
                Ok(m) => {
                    let mut got = Vec::new();
                    if let Ok(cmsgs) = m.cmsgs() {
                        for c in cmsgs {
                            if let ControlMessageOwned::ScmRights(fds) = c {
                                got.extend(fds);
                            }
                        }
                    }
                    (m.bytes, got)
                }
                Err(nix::errno::Errno::EAGAIN) | Err(nix::errno::Errno::EINTR) => {
                    return Ok(Some(false))
                }
                Err(e) => return Err(e.into()),
            }
        };
        for f in got {
            // SAFETY: SCM_RIGHTS gave us this descriptor; nobody else owns it.
            self.fds
                .push_back(unsafe { std::os::fd::OwnedFd::from_raw_fd(f) });
        }
        if n == 0 {
            return Ok(None);
        }
        self.reader.feed(&self.rbuf[..n]);
        Ok(Some(true))
    }

    /// `chmpx_open`: one more msgid for a client-on-slave.
    pub fn open(&mut self) -> Result<u64> {
        match self.call(&Request::Open)? {
            Response::Opened { msgid } if msgid != CHM_INVALID_MSGID => {
                self.opened.push(msgid);
                Ok(msgid)
            }
            Response::Opened { .. } => Err(ClientError::Refused("no free msgid".into())),
            other => Err(ClientError::Protocol(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// `chmpx_close`.
    pub fn close(&mut self, msgid: u64) -> Result<bool> {
        match self.call(&Request::Close { msgid })? {
            Response::Done { ok } => {
                self.opened.retain(|m| *m != msgid);
                self.queues.remove(&msgid);
                Ok(ok)
            }
            other => Err(ClientError::Protocol(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// Sends `body` of `c2ctype` for `hash` from `msgid` (ignored for a client-on-server);
    /// returns how many chmpx processes it went to (-1: no server for it; 0: a broadcast or
    /// replication that no other server takes, a success as the original's).
    pub fn send(&mut self, msgid: u64, body: &[u8], hash: u64, c2ctype: u64) -> Result<i64> {
        let req = Request::Send {
            msgid,
            c2ctype,
            hash,
            body: body.to_vec(),
        };
        match self.call(&req)? {
            Response::Sent { receivers } => Ok(receivers),
            other => Err(ClientError::Protocol(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    /// Sends like [`Client::send`] without waiting for chmpx's count: a post that reaches
    /// nobody is reported by the next [`Client::receive`] for `msgid` (as [`ClientError::NotSent`]).
    pub fn post(&mut self, msgid: u64, body: &[u8], hash: u64, c2ctype: u64) -> Result<()> {
        self.report_links(false)?;
        if self.direct_ok && self.post_direct(msgid, body, hash, c2ctype) {
            return Ok(());
        }
        if self.copies_ok
            && c2ctype == crate::copies::COPY_C2CTYPE
            && self.post_copy(msgid, body, hash, c2ctype)
        {
            return Ok(());
        }
        self.write(&Request::Post {
            msgid,
            c2ctype,
            hash,
            body: body.to_vec(),
        })
    }

    /// A post on a link of ours (`crate::direct`); false when it must go through chmpx. The
    /// links are set up once enough posts were made, and the server table is asked for again
    /// when chmpx said it changed.
    fn post_direct(&mut self, msgid: u64, body: &[u8], hash: u64, c2ctype: u64) -> bool {
        self.posts = self.posts.saturating_add(1);
        if self.posts < LINK_AFTER_POSTS {
            return false;
        }
        if self.direct.as_ref().is_none_or(|l| l.stale) {
            match self.link_info() {
                Some(info) => match self.direct.as_mut() {
                    Some(l) => l.update(info),
                    None => {
                        self.direct = Some(crate::direct::Links::new(info));
                        // the slave no longer polls for this client's answers: it polls
                        // itself (CHMPX_SPIN_US, default here `LINK_SPIN_US`)
                        self.spin = crate::spin::Spinner::from_env_or(
                            "CHMPX_SPIN_US",
                            crate::spin::LINK_SPIN_US,
                        );
                    }
                },
                None => {
                    self.direct_ok = false;
                    self.direct = None;
                    return false;
                }
            }
        }
        let sent = self
            .direct
            .as_mut()
            .is_some_and(|l| l.send(msgid, c2ctype, hash, body));
        if sent {
            self.tally.sent(Peer::Server, 1, body.len());
        }
        sent
    }

    /// What the slave hands out for links (None: it does not, or chmpx is gone).
    fn link_info(&mut self) -> Option<crate::direct::LinkInfo> {
        match self.call(&Request::Links).ok()? {
            Response::Links {
                id_type,
                replica,
                random,
                snapshot,
            } => Some(crate::direct::LinkInfo {
                id_type,
                replica,
                random,
                snapshot: crate::node::Snapshot::decode(&snapshot)?,
            }),
            _ => None,
        }
    }

    /// How many direct links this client has open.
    pub fn direct_links(&self) -> usize {
        self.direct.as_ref().map_or(0, |l| l.count())
    }

    /// How many of its direct links the servers' own clients serve (`crate::served`).
    pub fn served_direct_links(&self) -> usize {
        self.direct.as_ref().map_or(0, |l| l.served())
    }

    /// Replies to a received packet (no answer is awaited): on the served link it came on, or
    /// through chmpx.
    ///
    /// An answer on a served link overtakes little: it waits until chmpx has read everything
    /// this client wrote before but the last message (the copy of the write it answers, for a
    /// write), so a chmpx that dies can take at most the copy of the write being answered
    /// with it, as on chmpx's own way (the original, too, answers and then copies), never a
    /// backlog of copies of acknowledged writes. When chmpx does not catch up in time
    /// (`CATCH_UP`), the answer goes through chmpx, after what it has not read yet.
    pub fn reply(&mut self, pkt: &ComPkt, body: &[u8]) -> Result<()> {
        let (me, msgid) = (self.chmpxid, self.msgid);
        if self.served.as_ref().is_some_and(|s| s.came_on_link(pkt)) {
            let caught_up = !self.posted || self.chmpx_caught_up();
            if let Some(s) = self.served.as_mut() {
                if caught_up && s.reply(pkt, body, me, msgid) {
                    // (answers on a served link go to the slave whose client asked)
                    self.tally.sent(Peer::Slave, 1, body.len());
                    return Ok(());
                }
                s.forget(pkt);
            }
        }
        self.write(&Request::Reply {
            pkt: *pkt,
            body: body.to_vec(),
        })
    }

    /// Reports a post of `msgid` that reached nobody (any msgid's reports are dropped when
    /// receiving for any msgid: a server client's posts are replications and sub-requests that
    /// wait for answers of their own).
    fn check_not_sent(&mut self, msgid: Option<u64>) -> Result<()> {
        match msgid {
            Some(m) => match self.not_sent.iter().position(|x| *x == m) {
                Some(i) => {
                    self.not_sent.swap_remove(i);
                    Err(ClientError::NotSent)
                }
                None => Ok(()),
            },
            None => {
                self.not_sent.clear();
                Ok(())
            }
        }
    }

    fn pop(&mut self, msgid: Option<u64>) -> Option<Packet> {
        match msgid {
            Some(m) => {
                let p = self.queues.get_mut(&m)?.pop_front();
                if p.is_some() {
                    if let Some(pos) = self.order.iter().position(|x| *x == m) {
                        self.order.remove(pos);
                    }
                }
                p
            }
            None => {
                while let Some(m) = self.order.pop_front() {
                    if let Some(p) = self.queues.get_mut(&m).and_then(|q| q.pop_front()) {
                        return Some(p);
                    }
                }
                None
            }
        }
    }

    /// Waits for a packet for `msgid` (None: any of ours) up to `timeout_ms` (0: just look,
    /// negative: forever). Ok(None) on timeout; Err(Gone) when chmpx went away.
    pub fn receive(&mut self, msgid: Option<u64>, timeout_ms: i32) -> Result<Option<Packet>> {
        if let Some(p) = self.pop(msgid) {
            return Ok(Some(p));
        }
        self.check_not_sent(msgid)?;
        let deadline =
            (timeout_ms >= 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
        loop {
            let mut wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            // counts of messages on links are reported while waiting, when due
            if let Some(due) = self.tally.due_in() {
                wait = Some(wait.map_or(due, |w| w.min(due)));
            }
            let got = self.pump(wait)?;
            self.report_links(false)?;
            self.drain()?;
            if let Some(p) = self.pop(msgid) {
                return Ok(Some(p));
            }
            self.check_not_sent(msgid)?;
            if !got && deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// Reports the messages on links of our own to chmpx when due (or `now`).
    fn report_links(&mut self, now: bool) -> Result<()> {
        match self.tally.take(now) {
            Some(req) => self.write(&req),
            None => Ok(()),
        }
    }

    /// The DUMP text of the chmpx.
    pub fn dump(&mut self) -> Result<String> {
        match self.call(&Request::Dump)? {
            Response::DumpText { text } => Ok(text),
            other => Err(ClientError::Protocol(format!(
                "unexpected answer {other:?}"
            ))),
        }
    }

    pub fn opened(&self) -> &[u64] {
        &self.opened
    }
}

/// A status snapshot without attaching as a client (chmpxstatus): connects, asks, leaves.
pub fn snapshot(group: &str, ctlport: i16) -> Result<crate::node::Snapshot> {
    let mut sock = connect_socket(group, ctlport)?;
    sock.write_all(&Request::Status.encode())
        .map_err(|_| ClientError::Gone)?;
    let mut reader = MsgReader::default();
    let mut buf = [0u8; 65536];
    loop {
        if let Some(m) = reader
            .next_msg()
            .map_err(|e| ClientError::Protocol(e.to_string()))?
        {
            return match Response::decode(&m) {
                Ok(Response::StatusData { data }) => crate::node::Snapshot::decode(&data)
                    .ok_or_else(|| ClientError::Protocol("bad status snapshot".into())),
                Ok(other) => Err(ClientError::Protocol(format!(
                    "unexpected answer {other:?}"
                ))),
                Err(e) => Err(ClientError::Protocol(e.to_string())),
            };
        }
        match sock.read(&mut buf) {
            Ok(0) => return Err(ClientError::Gone),
            Ok(n) => reader.feed(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(ClientError::Gone),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report is due `TALLY_EVERY` after the first message counted (or at once when asked
    /// for: a client that goes), carries what was counted since the last, and nothing is
    /// reported when nothing was counted.
    #[test]
    fn counts_on_links_are_reported_when_due() {
        let mut t = Tally::default();
        t.sent(Peer::Server, 0, 10);
        assert_eq!(t.due_in(), None, "nothing counted");
        assert!(t.take(true).is_none());
        t.sent(Peer::Server, 2, 10);
        t.received(Peer::Server, 7);
        t.received(Peer::Slave, 50);
        assert!(t.due_in().is_some_and(|d| d <= TALLY_EVERY));
        assert!(t.take(false).is_none(), "not due yet");
        t.since = Some(Instant::now() - TALLY_EVERY);
        assert_eq!(t.due_in(), Some(Duration::ZERO));
        // servers and slaves apart; bytes are the packets' (head and body)
        let h = COMPKT_SIZE as u64;
        assert_eq!(
            t.take(false),
            Some(Request::LinkCounts {
                servers: ipc::Stat {
                    sent: 2,
                    received: 1,
                    bytes: 2 * (h + 10) + h + 7,
                    min_bytes: h + 7,
                    max_bytes: h + 10,
                },
                slaves: ipc::Stat {
                    sent: 0,
                    received: 1,
                    bytes: h + 50,
                    min_bytes: h + 50,
                    max_bytes: h + 50,
                },
                trace: vec![],
            })
        );
        assert_eq!(t.due_in(), None, "counting starts again");
        t.sent(Peer::Slave, 1, 3);
        assert!(matches!(
            t.take(true),
            Some(Request::LinkCounts {
                slaves: ipc::Stat { sent: 1, .. },
                ..
            })
        ));
    }

    /// While chmpx traces, each message on a link leaves the records chmpx would have made of
    /// it: taken from the client then sent to each receiver, read from a peer then handed to
    /// the client. Tracing outlives a report; the records kept between two are bounded.
    #[test]
    fn messages_on_links_leave_trace_records_while_chmpx_traces() {
        let kinds = |r: Option<Request>| match r {
            Some(Request::LinkCounts { trace, .. }) => trace
                .iter()
                .map(|e| (e.log_type, e.length))
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let mut t = Tally::default();
        t.sent(Peer::Server, 1, 5);
        assert_eq!(kinds(t.take(true)), [], "not tracing");
        t.tracing = true;
        t.sent(Peer::Server, 2, 10);
        t.received(Peer::Server, 7);
        let (i, o) = (CHMLOG_TYPE_INPUT, CHMLOG_TYPE_OUTPUT);
        let (mq, sock) = (CHMLOG_TYPE_MQ, CHMLOG_TYPE_SOCKET);
        // on a socket, the length of the packet (head and body), as chmpx traces it
        let (s10, s7) = (COMPKT_SIZE as u64 + 10, COMPKT_SIZE as u64 + 7);
        assert_eq!(
            kinds(t.take(true)),
            [
                (i | mq, 10),
                (o | sock, s10),
                (o | sock, s10),
                (i | sock, s7),
                (o | mq, 7)
            ]
        );
        assert!(t.tracing, "still tracing after a report");
        for _ in 0..TRACE_KEEP {
            t.received(Peer::Slave, 1);
        }
        let kept = kinds(t.take(true)).len();
        assert!((TRACE_KEEP / 2..=TRACE_KEEP).contains(&kept), "{kept}");
    }
}
