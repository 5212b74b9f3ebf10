//! Copies on links of their own: the k2hdkc server of one node sends the copies of its writes
//! (REPL_KEY, REPL_DEL) straight to the k2hdkc servers of the other nodes the key's hash
//! names, on TCP connections that their chmpx hands over to them (`crate::served`), instead
//! of posting them to its own chmpx (docs/architecture.md, "Copies on links").
//!
//! Why: an answer on a served link must not leave before the copy of the write it
//! acknowledges, or a chmpx that dies with copies still unread in its socket takes
//! acknowledged writes with it. Through chmpx that means waiting for chmpx to read the copy
//! (`Client::reply`); on a link of its own the copy is in the kernel's hands when the write
//! returns (a process that dies after still has it delivered), so the answer goes at once, and
//! neither chmpx wakes up for it.
//!
//! Only servers of ours whose k2hdkc serves links get copy links (CAPS `SERVELINK`); the
//! receivers are those chmpx would pick (`Ring::receivers` over the table chmpx hands out,
//! asked for again when chmpx says it changed), and only while the ring is at rest (no server
//! joining, leaving or merging: chmpx's routing then counts a pending layout the table does
//! not carry). A copy that cannot go on links to every
//! receiver goes through chmpx as before (a copy received twice changes nothing: the newer
//! mtime wins). The receiving chmpx checks that the connection comes from the host of the
//! server it names.
use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::direct::{c2c_bytes, dial, next_frame, Avoid, LinkInfo};
use crate::ring::Ring;
use crate::server::now;
use crate::wire::*;

/// The C2C type of a copy (a k2hdkc server's REPL_KEY / REPL_DEL: every receiver of the
/// hash but the sender): what `Client::post` sends on copy links.
pub const COPY_C2CTYPE: u64 = COM_C2C_RBROADCAST | COM_C2C_NOT_SELF;

/// A copy that cannot be written in this time drops its link (the copy goes through chmpx).
const WRITE_TIMEOUT: Duration = Duration::from_millis(200);

/// The copy links of a server's client.
pub struct Copies {
    me: u64,
    ring: Ring,
    /// chmpx said the server table changed: ask for it before the next copy.
    pub stale: bool,
    links: HashMap<u64, TcpStream>,
    avoid: Avoid,
}

impl Copies {
    pub fn new(info: LinkInfo) -> Copies {
        let mut c = Copies {
            me: 0,
            ring: Ring::default(),
            stale: false,
            links: HashMap::new(),
            avoid: Avoid::default(),
        };
        c.update(info);
        c
    }

    /// Takes a new server table from chmpx.
    pub fn update(&mut self, info: LinkInfo) {
        self.me = info.snapshot.chmpxid;
        self.ring = info.ring_keeping(&mut self.links);
        self.stale = false;
    }

    /// Whether the ring is at rest: every server in service and up, or out of it or down,
    /// with nothing pending and no merge. While servers join, leave or come back, chmpx's
    /// routing also counts the pending layout (which the table handed out does not carry),
    /// so copies go through chmpx then.
    fn settled(&self) -> bool {
        self.ring.servers.iter().all(|s| {
            matches!(
                s.status & !CHMPXSTS_MASK_SUSPEND,
                CHMPXSTS_SRVIN_UP_NORMAL
                    | CHMPXSTS_SRVIN_DOWN_NORMAL
                    | CHMPXSTS_SRVOUT_UP_NORMAL
                    | CHMPXSTS_SRVOUT_DOWN_NORMAL
            )
        })
    }

    /// Sends a copy (`body`, from our `msgid`) to every receiver of `hash` on links: how many
    /// received it; 0 when it must go through chmpx (some receiver cannot be linked to, or a
    /// write failed).
    pub fn send(&mut self, msgid: u64, c2ctype: u64, hash: u64, body: &[u8]) -> usize {
        if !self.settled() {
            return 0;
        }
        let to = match self.ring.receivers(self.me, hash, c2ctype) {
            Ok(r) if !r.is_empty() => r,
            _ => return 0,
        };
        for r in &to {
            if !self.links.contains_key(r) && !self.open(*r) {
                return 0;
            }
        }
        let n = to.len();
        for r in to {
            let data = c2c_bytes(c2ctype, (self.me, msgid), r, hash, body);
            // a link whose other end closed would still take a write (and lose it): looked at
            // first
            let ok = self
                .links
                .get_mut(&r)
                .is_some_and(|l| !peer_closed(l) && l.write_all(&data).is_ok());
            if !ok {
                log::warn!("copy link to 0x{r:016x} failed; copies go through chmpx");
                self.links.remove(&r);
                self.avoid.failed(r);
                return 0;
            }
        }
        n
    }

    /// Opens a copy link to server `to`: its k2hdkc must serve links (CAPS), and its chmpx
    /// hand the connection over.
    fn open(&mut self, to: u64) -> bool {
        let me = self.me;
        let link = self.avoid.open(
            &self.ring,
            to,
            |(_, serve)| serve,
            |s, _| Self::handshake(me, s),
        );
        let Some(sock) = link else {
            return false;
        };
        self.links.insert(to, sock);
        true
    }

    /// Connects to `s` and asks for a copy link from server `me`.
    fn handshake(me: u64, s: &ChmpxSvr) -> Option<TcpStream> {
        let mut sock = dial(s, WRITE_TIMEOUT)?;
        let ask = Frame::link(me, s.chmpxid, now(), LINK_ASK_COPIES).encode();
        sock.write_all(&ask).ok()?;
        let mut reader = FrameReader::new();
        if next_frame(&mut sock, &mut reader)?.link_what() != Some(LINK_SERVED) {
            log::info!("server 0x{:016x} takes no copy link", s.chmpxid);
            return None;
        }
        Some(sock)
    }
}

/// Whether the other end of `sock` closed (or it failed); a copy link never receives
/// anything after its handshake.
fn peer_closed(sock: &TcpStream) -> bool {
    let mut fd = libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(sock),
        events: libc::POLLIN | libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no waiting.
    let n = unsafe { libc::poll(&mut fd, 1, 0) };
    n != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    #[test]
    fn a_link_whose_other_end_closed_is_noticed_before_a_write() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (theirs, _) = l.accept().unwrap();
        assert!(!peer_closed(&ours));
        drop(theirs);
        let t0 = Instant::now();
        while !peer_closed(&ours) {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "the close was not seen"
            );
            std::thread::yield_now();
        }
    }
}
