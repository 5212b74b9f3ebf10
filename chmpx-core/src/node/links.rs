//! Direct links (`crate::direct`): a client of a slave may send its requests to the servers on
//! TCP connections of its own instead of through the slave, which takes two of the six hops
//! off a request's way. Both halves of what chmpx does for it are here.
//!
//! On a slave: a client that asks ([`Request::Links`]) gets how the slave routes and its
//! snapshot (identity and server table), and is told when the server table changes, so it
//! routes as the slave would.
//!
//! On a server: a link is one more connection of the slave (the client introduces itself with
//! the slave's N2_CONINIT_REQ). The slave's first connection keeps carrying the status news;
//! what comes on another connection is answered on that connection. Nothing of this shows on
//! the wire: a slave of the original with a pool of sockets looks the same, and its answers
//! going back on the socket of the request is what it expects as well.
//!
//! Served links: a server's own client (the k2hdkc server) may take a link over
//! ([`Request::ServeLinks`]) and answer on it itself, which takes the server chmpx off the
//! request's way too (`crate::served`). A client asks for that with a [`COM_LINK`] frame on
//! its link, only when the server said `SERVELINK` to CAPS, and waits for the answer before
//! it sends anything else on it: [`LINK_SERVED`] from the client that took the link over, or
//! [`LINK_KEPT`] from chmpx.
use super::*;
use std::hash::{Hash, Hasher};

impl Node {
    /// [`Request::Links`] from a client-on-slave.
    pub(super) fn links_request(&mut self, client: ClientId) {
        // a client of a slave for its direct links, a client of a server for its copies
        let allowed = self
            .clients
            .get(&client)
            .is_some_and(|c| c.on_server == self.is_server);
        if !allowed {
            return self.reply(
                client,
                Response::Refused {
                    reason: "no links for this client".into(),
                },
            );
        }
        if let Some(c) = self.clients.get_mut(&client) {
            if !c.links {
                c.links = true;
                self.linked_clients += 1;
            }
        }
        self.ring_print = self.ring_print();
        let resp = Response::Links {
            id_type: self.cfg.chmpxid_type.code(),
            replica: self.cfg.replica_count,
            random: self.cfg.is_random_mode,
            snapshot: Snapshot::of(self).encode(),
        };
        self.reply(client, resp);
        self.tell_tracing(client);
    }

    /// A client that just took up links hears that chmpx traces (when it does).
    fn tell_tracing(&mut self, client: ClientId) {
        if self.trace_on {
            self.reply(client, Response::Tracing { on: true });
        }
    }

    /// What routing depends on in the server table: who, status and slots.
    fn ring_print(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for s in &self.ring.servers {
            (s.chmpxid, s.status, s.base_hash, s.pending_hash).hash(&mut h);
        }
        h.finish()
    }

    /// After every input: clients with links hear of a change of the server table.
    pub(super) fn links_notify(&mut self) {
        if self.linked_clients == 0 {
            return;
        }
        let print = self.ring_print();
        if print == self.ring_print {
            return;
        }
        self.ring_print = print;
        let linked: Vec<ClientId> = self
            .clients
            .iter()
            .filter(|(_, c)| c.links)
            .map(|(id, _)| *id)
            .collect();
        for client in linked {
            self.reply(client, Response::RingChanged);
        }
    }

    /// A C2C frame on connection `conn`: when it came from a slave on a connection other than
    /// the one its status news go on (a client's link), answers to its msgid go back on that
    /// connection; on the slave's own connection, the way of the slave again.
    pub(super) fn note_reply_conn(&mut self, conn: ConnId, pkt: &ComPkt) {
        let dept = pkt.head.dept_ids;
        let main = self.slaves.get(&dept.chmpxid).map(|s| s.conn);
        if main == Some(conn) {
            if !self.reply_conn.is_empty() {
                self.reply_conn.remove(&(dept.chmpxid, dept.msgid));
            }
            return;
        }
        let from_slave = self
            .conns
            .get(&conn)
            .is_some_and(|c| !c.outgoing && c.peer == Some(dept.chmpxid));
        if from_slave && self.ring.get(dept.chmpxid).is_none() {
            self.reply_conn.insert((dept.chmpxid, dept.msgid), conn);
        }
    }

    /// N2_STATUS_REQ on connection `conn` from `chmpxid`: when that is a slave, the
    /// connection is one of its own (a link never asks), and the newest such carries the
    /// slave's status news (a slave that reconnected while its old connection is not yet
    /// known to be dead).
    pub(super) fn slave_asks_status(&mut self, conn: ConnId, chmpxid: u64) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.outgoing || c.peer != Some(chmpxid) {
            return;
        }
        c.asks_status = true;
        if let Some(s) = self.slaves.get_mut(&chmpxid) {
            s.conn = conn;
        }
    }
}

impl Node {
    /// [`Request::ServeLinks`] from a client of a server.
    pub(super) fn serve_links(&mut self, client: ClientId) {
        let server = self.is_server;
        match self.clients.get_mut(&client) {
            Some(c) if server && c.on_server => {
                c.serves_links = true;
                self.tell_tracing(client);
            }
            _ => self.reply(
                client,
                Response::Refused {
                    reason: "links are served by clients of a server".into(),
                },
            ),
        }
    }

    /// The client links are handed to: the first that serves links.
    fn link_taker(&self) -> Option<ClientId> {
        self.clients
            .iter()
            .filter(|(_, c)| c.on_server && c.serves_links)
            .map(|(id, _)| *id)
            .min()
    }

    /// Whether a client of this server serves links (CAPS says `SERVELINK` then).
    pub fn serves_links(&self) -> bool {
        self.is_server && self.clients.values().any(|c| c.serves_links)
    }

    /// A [`COM_LINK`] frame on `conn`: a client's link asks to be served by the server's
    /// client. Handed over when it is a link of a slave (not the connection the slave's news
    /// go on) and a client serves links; otherwise chmpx keeps it and says so.
    pub(super) fn link_frame(&mut self, conn: ConnId, what: u8, pkt: &ComPkt) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if what == LINK_ASK_COPIES {
            return self.copies_link(conn, pkt);
        }
        let peer = c.peer.unwrap_or(CHM_INVALID_CHMPXID);
        let is_link = c.state == ConnState::Ready
            && !c.outgoing
            && !c.asks_status
            && self.slaves.get(&peer).is_some_and(|s| s.conn != conn);
        if what != LINK_ASK || !is_link {
            log::warn!("a link request on a connection that is not a client's link, ignored");
            return;
        }
        let taker = self.link_taker();
        match taker {
            Some(client) => {
                self.conns.remove(&conn);
                if !self.reply_conn.is_empty() {
                    self.reply_conn.retain(|_, c| *c != conn);
                }
                self.out.push(Output::HandOver {
                    conn,
                    client,
                    copies: false,
                });
            }
            None => {
                let data = Frame::link(self.chmpxid, peer, self.now, LINK_KEPT).encode();
                self.out.push(Output::Send { conn, data });
            }
        }
    }

    /// [`LINK_ASK_COPIES`] as the first frame of an accepted connection: the client of server
    /// `dept` (a k2hdkc server) sends its copies to ours on it (`crate::copies`). Handed to our
    /// serving client when the connection comes from that server's host; otherwise refused
    /// ([`LINK_KEPT`], closed: the copies go through chmpx).
    fn copies_link(&mut self, conn: ConnId, pkt: &ComPkt) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let from = pkt.head.dept_ids.chmpxid;
        let server = self.ring.get(from).filter(|_| from != self.chmpxid);
        let ok = c.state == ConnState::AcceptedFresh
            && pkt.head.term_ids.chmpxid == self.chmpxid
            && server.is_some_and(|s| Self::comes_from(c.addr, s));
        let taker = self.link_taker();
        match taker.filter(|_| ok) {
            Some(client) => {
                self.conns.remove(&conn);
                self.out.push(Output::HandOver {
                    conn,
                    client,
                    copies: true,
                });
            }
            None => {
                if !ok {
                    log::warn!("a copies link from 0x{from:016x} refused");
                }
                let data = Frame::link(self.chmpxid, from, self.now, LINK_KEPT).encode();
                self.out.push(Output::Send { conn, data });
                self.out.push(Output::Close { conn });
                self.conns.remove(&conn);
            }
        }
    }

    /// [`Request::LinkFrame`]: a frame a served link brought, delivered as if it came from
    /// the slave (answers go the slave's way).
    pub(super) fn link_frame_back(&mut self, data: &[u8]) {
        match Frame::decode(data) {
            Ok(f)
                if f.pkt.head.com_type == COM_C2C
                    && f.pkt.head.term_ids.chmpxid == self.chmpxid =>
            {
                self.c2c_in(f)
            }
            Ok(_) => log::warn!(
                "a frame handed back from a served link is not a C2C message for us, dropped"
            ),
            Err(e) => {
                log::warn!("a frame handed back from a served link is malformed ({e}), dropped")
            }
        }
    }
}
