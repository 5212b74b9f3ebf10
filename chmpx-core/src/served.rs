//! Served links: a client of a server chmpx (the k2hdkc server) takes a client's direct link
//! over from its chmpx and answers on it itself, so a request crosses two processes (the
//! application and the k2hdkc server) instead of four (docs/architecture.md, "Served
//! links").
//!
//! The client asks chmpx for links ([`crate::ipc::Request::ServeLinks`]); chmpx hands one
//! over when the link's client asks for it with a [`COM_LINK`] frame: the socket comes with a
//! [`crate::ipc::Response::LinkHandover`] message (SCM_RIGHTS), together with what chmpx had
//! read from it and not handled yet and what it had not written yet. The client says
//! [`LINK_SERVED`] on the link, reads C2C requests from it as if chmpx had delivered them
//! (the terminal msgid becomes its own), and answers a request that came on a link on that
//! link, with the head chmpx would have made (`wire::reply_head`, our chmpxid and msgid).
//! Everything else (copies, sub-requests, answers to requests that came through chmpx) goes
//! through chmpx as before.
//!
//! While a merge asks for the last update time, chmpx holds what arrives for its client, so
//! nothing changes the data between the question and the answer. Served links honour that
//! with a [`LinkPause`]: the merge channel pauses them before it asks the data, and frames
//! read meanwhile are handed back to chmpx ([`crate::ipc::Request::LinkFrame`]), which holds
//! them with the others; their answers go the slave's way.
use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::direct::Recv;
use crate::wire::*;

/// A link whose answers are not taken at this rate is closed (its client then goes the
/// slave's way).
const MAX_OUT: usize = 8 << 20;
/// Answers to remember at most (requests never answered must not pile up).
const MAX_ROUTES: usize = 1 << 16;
/// A pause ends by itself after this long (the merge channel ends it sooner).
pub const PAUSE_LIMIT: Duration = Duration::from_secs(3);

/// Served links may be paused by another thread (the merge channel's).
#[derive(Debug)]
pub struct LinkPause {
    origin: Instant,
    /// Milliseconds after `origin` until which links are paused (0: not paused).
    until: AtomicU64,
}

impl Default for LinkPause {
    fn default() -> Self {
        LinkPause {
            origin: Instant::now(),
            until: AtomicU64::new(0),
        }
    }
}

impl LinkPause {
    fn ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64 + 1
    }
    /// Pause until `resume`, at most [`PAUSE_LIMIT`].
    pub fn pause(&self) {
        let until = self.ms() + PAUSE_LIMIT.as_millis() as u64;
        self.until.store(until, Ordering::SeqCst);
    }
    pub fn resume(&self) {
        self.until.store(0, Ordering::SeqCst);
    }
    pub fn is_paused(&self) -> bool {
        let until = self.until.load(Ordering::SeqCst);
        until != 0 && self.ms() < until
    }
}

struct Link {
    sock: TcpStream,
    reader: FrameReader,
    /// Another server's client sends its copies on it: nothing on it is answered on it (its
    /// sender never reads it, and uses its msgid for requests that go through chmpx too).
    copies: bool,
    /// Answers not written yet (the socket was full).
    out: Vec<u8>,
}

/// What a served link brought.
pub enum Got {
    /// A request to handle here (its terminal msgid is ours already).
    Request(Frame),
    /// A frame to hand back to chmpx (links paused, or not a request for us).
    Back(Frame),
}

/// The links a client serves.
pub struct Served {
    links: HashMap<u64, Link>,
    next: u64,
    /// Where the answer to a request goes: (departure chmpxid, msgid) -> link.
    route: HashMap<(u64, u64), u64>,
    pause: Arc<LinkPause>,
}

impl Served {
    pub fn new(pause: Arc<LinkPause>) -> Served {
        Served {
            links: HashMap::new(),
            next: 1,
            route: HashMap::new(),
            pause,
        }
    }

    pub fn pause(&self) -> Arc<LinkPause> {
        self.pause.clone()
    }

    /// How many links are served.
    pub fn count(&self) -> usize {
        self.links.len()
    }

    /// Takes link `fd` over (with what chmpx read from it and did not handle, `inbuf`, and
    /// what it had not written, `outbuf`) and tells the client; its id, or None when it is
    /// unusable. `me` is our chmpxid (the link's server).
    pub fn add(
        &mut self,
        fd: OwnedFd,
        inbuf: &[u8],
        outbuf: &[u8],
        me: u64,
        copies: bool,
    ) -> Option<u64> {
        let sock = TcpStream::from(fd);
        if sock.set_nonblocking(true).is_err() {
            return None;
        }
        let _ = sock.set_nodelay(true);
        let mut reader = FrameReader::new();
        reader.feed(inbuf);
        let mut out = outbuf.to_vec();
        out.extend_from_slice(
            &Frame::link(me, CHM_INVALID_CHMPXID, crate::server::now(), LINK_SERVED).encode(),
        );
        let id = self.next;
        self.next += 1;
        self.links.insert(
            id,
            Link {
                sock,
                reader,
                copies,
                out: Vec::new(),
            },
        );
        self.write(id, &out);
        self.links.contains_key(&id).then_some(id)
    }

    /// The descriptors to wait on: (link, fd, whether it waits to write).
    pub fn fds(&self) -> impl Iterator<Item = (u64, RawFd, bool)> + '_ {
        self.links
            .iter()
            .map(|(id, l)| (*id, l.sock.as_raw_fd(), !l.out.is_empty()))
    }

    /// Writes what link `id` has waiting (it became writable).
    pub fn flush(&mut self, id: u64) {
        let Some(l) = self.links.get_mut(&id) else {
            return;
        };
        let data = std::mem::take(&mut l.out);
        self.write(id, &data);
    }

    /// Writes `data` after what link `id` has waiting, as much as the socket takes now.
    fn write(&mut self, id: u64, data: &[u8]) {
        let Some(l) = self.links.get_mut(&id) else {
            return;
        };
        l.out.extend_from_slice(data);
        let ok = loop {
            if l.out.is_empty() {
                break true;
            }
            match l.sock.write(&l.out) {
                Ok(0) => break false,
                Ok(n) => {
                    l.out.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    break l.out.len() <= MAX_OUT
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break false,
            }
        };
        if !ok {
            self.close(id);
        }
    }

    fn close(&mut self, id: u64) {
        if self.links.remove(&id).is_some() {
            log::info!("a served link closed");
            self.route.retain(|_, l| *l != id);
        }
    }

    /// Reads what link `id` has (it was readable) and hands each frame to `got`; a link
    /// that closed or sent something malformed is closed. `me`/`msgid`: our chmpxid and the
    /// msgid requests are delivered to.
    pub fn read(&mut self, id: u64, buf: &mut [u8], me: u64, msgid: u64, got: &mut dyn FnMut(Got)) {
        let Some(l) = self.links.get_mut(&id) else {
            return;
        };
        match crate::direct::recv_nowait(&l.sock, buf) {
            Recv::Data(n) => l.reader.feed(&buf[..n]),
            Recv::Nothing => return,
            Recv::Closed => return self.close(id),
        }
        self.parse(id, me, msgid, got);
    }

    /// The complete frames link `id` holds (after a read, or what chmpx handed over with it).
    pub fn parse(&mut self, id: u64, me: u64, msgid: u64, got: &mut dyn FnMut(Got)) {
        let paused = self.pause.is_paused();
        loop {
            let Some(l) = self.links.get_mut(&id) else {
                return;
            };
            let mut f = match l.reader.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => return,
                Err(e) => {
                    log::error!("served link: {e}; closing it");
                    return self.close(id);
                }
            };
            if f.pkt.head.com_type != COM_C2C {
                log::warn!(
                    "served link: a frame of type {} ignored",
                    f.pkt.head.com_type
                );
                continue;
            }
            if paused || f.pkt.head.term_ids.chmpxid != me {
                got(Got::Back(f));
                continue;
            }
            let dept = f.pkt.head.dept_ids;
            if l.copies {
                f.pkt.head.term_ids.msgid = msgid;
                got(Got::Request(f));
                continue;
            }
            if self.route.len() >= MAX_ROUTES {
                // answers to requests never answered: theirs go the slave's way
                self.route.clear();
            }
            self.route.insert((dept.chmpxid, dept.msgid), id);
            f.pkt.head.term_ids.msgid = msgid;
            got(Got::Request(f));
        }
    }

    /// Whether `req` came on a served link (and is not answered yet).
    pub fn came_on_link(&self, req: &ComPkt) -> bool {
        let dept = req.head.dept_ids;
        self.route
            .get(&(dept.chmpxid, dept.msgid))
            .is_some_and(|id| self.links.contains_key(id))
    }

    /// `req` is answered another way (through chmpx).
    pub fn forget(&mut self, req: &ComPkt) {
        let dept = req.head.dept_ids;
        self.route.remove(&(dept.chmpxid, dept.msgid));
    }

    /// Answers `req` with `body` on the link it came on; false when it did not come on one
    /// (or the link is gone): the answer then goes through chmpx.
    pub fn reply(&mut self, req: &ComPkt, body: &[u8], me: u64, msgid: u64) -> bool {
        let dept = req.head.dept_ids;
        let Some(id) = self.route.remove(&(dept.chmpxid, dept.msgid)) else {
            return false;
        };
        if !self.links.contains_key(&id) {
            return false;
        }
        let mut head = reply_head(req);
        head.dept_ids = PckId { chmpxid: me, msgid };
        head.reqtime = crate::server::now();
        self.write(id, &Frame::encode_parts(head, body));
        self.links.contains_key(&id)
    }

    /// Closes every link (chmpx went away: their clients go the slave's way).
    pub fn clear(&mut self) {
        self.links.clear();
        self.route.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    const ME: u64 = 0xA;
    const SLAVE: u64 = 0xB;
    const MSGID: u64 = 0x77;

    /// A served link (its id) and the client's end of it.
    fn pair(served: &mut Served, inbuf: &[u8], outbuf: &[u8]) -> (Option<u64>, TcpStream) {
        pair_of(served, inbuf, outbuf, false)
    }

    fn pair_of(
        served: &mut Served,
        inbuf: &[u8],
        outbuf: &[u8],
        copies: bool,
    ) -> (Option<u64>, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (server, _) = l.accept().unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        (served.add(server.into(), inbuf, outbuf, ME, copies), client)
    }

    fn request(term: u64, msgid: u64, body: &[u8]) -> Vec<u8> {
        let dept = PckId {
            chmpxid: SLAVE,
            msgid,
        };
        let term = PckId {
            chmpxid: term,
            msgid: CHM_INVALID_MSGID,
        };
        Frame::c2c(
            COM_C2C_ROUTING,
            dept,
            term,
            5,
            Timespec::default(),
            body.to_vec(),
        )
        .encode()
    }

    fn next(sock: &mut TcpStream, r: &mut FrameReader) -> Frame {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(f) = r.next_frame().unwrap() {
                return f;
            }
            let n = sock.read(&mut buf).unwrap();
            assert!(n > 0, "the link closed");
            r.feed(&buf[..n]);
        }
    }

    /// Reads link `id` until `want` frames came (the client's bytes may take a moment).
    fn got(served: &mut Served, id: u64, want: usize) -> Vec<Got> {
        let mut all = Vec::new();
        let mut buf = vec![0u8; 65536];
        for _ in 0..500 {
            served.read(id, &mut buf, ME, MSGID, &mut |g| all.push(g));
            if all.len() >= want || served.count() == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        all
    }

    #[test]
    fn a_served_link_takes_requests_and_answers_on_the_link() {
        let mut served = Served::new(Default::default());
        // what chmpx had not written comes first, then the served answer; what it had read
        // and not handled is handled here
        let pending = request(ME, 1, b"early");
        let (id, mut client) = pair(&mut served, &pending, b"unsent");
        let id = id.expect("the link is served");
        let mut head = [0u8; 6];
        client.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"unsent");
        let mut r = FrameReader::new();
        assert_eq!(next(&mut client, &mut r).link_what(), Some(LINK_SERVED));
        let mut early = Vec::new();
        served.parse(id, ME, MSGID, &mut |g| early.push(g));
        let [Got::Request(f)] = early.as_slice() else {
            panic!("the buffered request was not taken")
        };
        assert_eq!(f.payload, b"early");
        assert_eq!(f.pkt.head.term_ids.msgid, MSGID);
        // a request on the link, and its answer there, with the head chmpx would make
        client.write_all(&request(ME, 2, b"get")).unwrap();
        let g = got(&mut served, id, 1);
        let [Got::Request(f)] = g.as_slice() else {
            panic!("no request")
        };
        assert_eq!(
            f.pkt.head.term_ids,
            PckId {
                chmpxid: ME,
                msgid: MSGID
            }
        );
        assert!(served.reply(&f.pkt, b"value", ME, MSGID));
        let a = next(&mut client, &mut r);
        assert_eq!(a.payload, b"value");
        assert_eq!(
            a.pkt.head.dept_ids,
            PckId {
                chmpxid: ME,
                msgid: MSGID
            }
        );
        assert_eq!(
            a.pkt.head.term_ids,
            PckId {
                chmpxid: SLAVE,
                msgid: 2
            }
        );
        assert_eq!(a.pkt.head.com_type, COM_C2C);
        // answered once: a second answer (or one to a request that never came) goes through
        // chmpx
        assert!(!served.reply(&f.pkt, b"again", ME, MSGID));
        // the first request, answered late
        let [Got::Request(e)] = early.as_slice() else {
            unreachable!()
        };
        assert!(served.reply(&e.pkt, b"late", ME, MSGID));
        assert_eq!(next(&mut client, &mut r).payload, b"late");
        // paused, or for another chmpx: handed back; other types ignored
        served.pause().pause();
        client.write_all(&request(ME, 3, b"paused")).unwrap();
        let g = got(&mut served, id, 1);
        assert!(matches!(g.as_slice(), [Got::Back(f)] if f.payload == b"paused"));
        served.pause().resume();
        let px = Frame::link(SLAVE, ME, Timespec::default(), LINK_ASK).encode();
        client.write_all(&px).unwrap();
        client.write_all(&request(0xC, 4, b"elsewhere")).unwrap();
        let g = got(&mut served, id, 1);
        assert!(matches!(g.as_slice(), [Got::Back(f)] if f.payload == b"elsewhere"));
        assert_eq!(served.count(), 1);
    }

    #[test]
    fn a_link_that_sends_junk_or_closes_is_dropped_with_its_answers() {
        let mut served = Served::new(Default::default());
        let (id, mut client) = pair(&mut served, &[], &[]);
        let id = id.unwrap();
        client.write_all(&request(ME, 9, b"q")).unwrap();
        let g = got(&mut served, id, 1);
        let [Got::Request(f)] = g.as_slice() else {
            panic!()
        };
        // a header whose length lies
        let mut bad = request(ME, 10, b"x");
        bad[COMPKT_SIZE - 16..COMPKT_SIZE - 8].copy_from_slice(&3u64.to_be_bytes());
        client.write_all(&bad).unwrap();
        assert!(got(&mut served, id, 1).is_empty());
        assert_eq!(served.count(), 0);
        assert!(!served.reply(&f.pkt, b"too late", ME, MSGID));
        // a link whose client went away
        let (id, client) = pair(&mut served, &[], &[]);
        drop(client);
        assert!(got(&mut served, id.unwrap(), 1).is_empty());
        assert_eq!(served.count(), 0);
    }

    #[test]
    fn a_pause_ends_by_itself() {
        let p = LinkPause::default();
        assert!(!p.is_paused());
        p.pause();
        assert!(p.is_paused());
        p.resume();
        assert!(!p.is_paused());
        // what is stored is a deadline
        p.until.store(1, Ordering::SeqCst);
        assert!(!p.is_paused());
    }

    #[test]
    fn nothing_on_a_copies_link_is_answered_on_it() {
        let mut served = Served::new(Default::default());
        let (id, mut sender) = pair_of(&mut served, &[], &[], true);
        let id = id.unwrap();
        let mut r = FrameReader::new();
        assert_eq!(next(&mut sender, &mut r).link_what(), Some(LINK_SERVED));
        sender.write_all(&request(ME, 5, b"copy")).unwrap();
        let g = got(&mut served, id, 1);
        let [Got::Request(f)] = g.as_slice() else {
            panic!("no copy")
        };
        assert_eq!(f.pkt.head.term_ids.msgid, MSGID);
        // a request of the same sender and msgid that came through chmpx is answered there
        assert!(!served.came_on_link(&f.pkt));
        assert!(!served.reply(&f.pkt, b"answer", ME, MSGID));
    }
}
