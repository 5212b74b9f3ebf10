//! Messages that go around the ring (spec §7.4 "Ring messages").
//!
//! The originator sends a PX2PX message to the next UP server in ring order with
//! `dept = itself`; every receiver whose chmpxid is not `dept` acts on it (possibly setting the
//! result to an error or updating the payload) and passes a copy on to *its* next UP server,
//! keeping `dept` and `reqtime`; when the message reaches `dept` again the round is over and
//! the originator looks at the result. A receiver drops a message whose originator it believes
//! dead. When the next server cannot be reached the copy goes to the one after it (the dead one
//! is marked DOWN on the way).
//!
//! What each message does on a receiver and on the originator lives with its subject:
//! membership here, merge in `merge.rs`.

use super::*;

/// How long an originator waits for its round to come back before it gives up.
pub(super) const ROUND_TIMEOUT_SEC: i64 = 10;

/// Ring messages: the PXCOM types that travel around the ring.
pub(super) fn is_ring_message(body: &PxCom) -> bool {
    matches!(
        body,
        PxCom::N2JoinRing { .. }
            | PxCom::N2StatusUpdate { .. }
            | PxCom::N2StatusConfirm { .. }
            | PxCom::N2StatusChange { .. }
            | PxCom::ServerDown { .. }
            | PxCom::MergeStart
            | PxCom::MergeAbort
            | PxCom::MergeComplete
            | PxCom::MergeSuspend
            | PxCom::MergeNoSuspend
            | PxCom::ReqUpdateData { .. }
    )
}

impl Node {
    /// The next UP server after `after` in ring order (wrapping), never `skip`; None when no
    /// other server is up.
    pub(super) fn next_on_ring(&self, after: u64, skip: &[u64]) -> Option<u64> {
        let list = &self.ring.servers;
        let n = list.len();
        let start = list.iter().position(|s| s.chmpxid == after)?;
        (1..=n)
            .map(|i| &list[(start + i) % n])
            .filter(|s| s.chmpxid != self.chmpxid || after != self.chmpxid)
            .find(|s| {
                s.chmpxid != self.chmpxid && !ring::is_down(s.status) && !skip.contains(&s.chmpxid)
            })
            .map(|s| s.chmpxid)
    }

    /// Starts a round of `body`. False when no other server is up (nothing was sent; the
    /// caller treats the round as done).
    pub(super) fn ring_start(&mut self, body: PxCom) -> bool {
        let Some(next) = self.next_on_ring(self.chmpxid, &[]) else {
            return false;
        };
        let ty = PxMsg::new(body.clone()).body.pxcom_type();
        self.rounds.insert(ty, self.now.sec);
        let msg = PxMsg::new(body);
        let data = Frame::px2px(self.chmpxid, next, self.now, &msg).encode();
        if !self.send_to(next, data) {
            self.rounds.remove(&ty);
            return false;
        }
        true
    }

    /// Passes a ring message on to the server after us (or after `failed`, which could not
    /// be reached). The originator ends the chain.
    fn ring_pass(&mut self, dept: u64, reqtime: Timespec, msg: &PxMsg, failed: &[u64]) {
        let from = failed.last().copied().unwrap_or(self.chmpxid);
        let Some(next) = self.next_on_ring(from, failed) else {
            log::warn!(
                "{}: no server left on the ring to pass it to",
                msg.body.name()
            );
            return;
        };
        let data = Frame::px2px(dept, next, reqtime, msg).encode();
        if !self.send_to(next, data) {
            log::warn!("{}: could not pass it to 0x{next:016x}", msg.body.name());
        }
    }

    /// A ring message arrived on a ready connection.
    pub(super) fn ring_in(&mut self, pkt: &ComPkt, mut msg: PxMsg) {
        let dept = pkt.head.dept_ids.chmpxid;
        if dept == self.chmpxid {
            let ty = msg.body.pxcom_type();
            self.rounds.remove(&ty);
            return self.round_done(msg);
        }
        if self.ring.get(dept).is_none_or(|s| ring::is_down(s.status)) {
            // the originator is not a live server in our view: take its news (it talks to us,
            // so it is up) but do not pass the message on
            if !matches!(
                msg.body,
                PxCom::N2JoinRing { .. } | PxCom::N2StatusChange { .. }
            ) {
                log::warn!(
                    "{} from 0x{dept:016x}, which is not up here: dropped",
                    msg.body.name()
                );
                return;
            }
        }
        // act first where the action changes what travels on (results, IDMAP); the merge
        // commands are passed on first and acted on after, as the original does
        let act_after = matches!(
            msg.body,
            PxCom::MergeStart | PxCom::MergeAbort | PxCom::MergeComplete
        );
        if !act_after {
            self.ring_act(dept, &mut msg);
        }
        if self
            .ring
            .get(dept)
            .is_some_and(|s| !ring::is_down(s.status))
        {
            self.ring_pass(dept, pkt.head.reqtime, &msg, &[]);
        }
        if act_after {
            self.ring_act(dept, &mut msg);
        }
    }

    /// What a receiver (not the originator) does with a ring message.
    fn ring_act(&mut self, dept: u64, msg: &mut PxMsg) {
        let ok = match &mut msg.body {
            PxCom::N2JoinRing { server } => {
                let rec = (**server).clone();
                self.joined_peer(rec, dept);
                true
            }
            PxCom::N2StatusChange { server } => {
                let rec = (**server).clone();
                // every server passes the news on to its slaves, as the original's
                // (PxComReceiveStatusChange): a slave hears of each change from every server it
                // is connected to, not only from the server that changed, so a change made
                // while the slave was not (yet) connected to that server still reaches it
                self.tell_slaves(&rec);
                self.learn(rec, dept);
                true
            }
            PxCom::N2StatusUpdate { servers } => {
                for s in servers.clone() {
                    self.learn(s, dept);
                }
                true
            }
            PxCom::N2StatusConfirm { servers } => self.confirm_table(servers),
            PxCom::ServerDown { chmpxid } => {
                let id = *chmpxid;
                if id == self.chmpxid {
                    // someone lost us: we are alive, and we missed what was written meanwhile
                    self.taken_for_dead();
                } else if self.mark_down(id) {
                    self.probe_if_linked(id);
                }
                true
            }
            PxCom::MergeSuspend | PxCom::MergeNoSuspend => {
                self.auto_merge_suspend = matches!(msg.body, PxCom::MergeSuspend);
                true
            }
            PxCom::MergeStart => self.merge_start_local(false),
            PxCom::MergeAbort => {
                self.merge_abort_local();
                true
            }
            PxCom::MergeComplete => self.merge_complete_local(),
            PxCom::ReqUpdateData { merge_param, idmap } => {
                let p = *merge_param;
                self.update_request(&p, idmap);
                true
            }
            _ => true,
        };
        if !ok {
            msg.result = CHMPX_COM_RES_ERROR;
        }
    }

    /// The round we started came back.
    fn round_done(&mut self, msg: PxMsg) {
        let ok = msg.result == CHMPX_COM_RES_SUCCESS;
        match msg.body {
            PxCom::N2JoinRing { .. } => {
                if ok {
                    self.on_ring = true;
                } else {
                    log::error!("joining the ring failed; trying again later");
                }
            }
            PxCom::N2StatusConfirm { .. } => self.confirm_done(ok),
            PxCom::MergeComplete if !ok => {
                log::warn!("some server could not complete the merge yet; trying again later")
            }
            PxCom::MergeStart => {
                if !ok {
                    log::warn!("some server could not start the merge");
                }
                self.merge_start_local(true);
            }
            PxCom::ReqUpdateData { idmap, .. } => self.update_request_back(&idmap),
            _ => {}
        }
    }

    /// Rounds we started that did not come back in time are given up.
    pub(super) fn ring_timeouts(&mut self) {
        let now = self.now.sec;
        let late: Vec<u64> = self
            .rounds
            .iter()
            .filter(|(_, t)| now - **t > ROUND_TIMEOUT_SEC)
            .map(|(k, _)| *k)
            .collect();
        for ty in late {
            self.rounds.remove(&ty);
            log::warn!(
                "{} did not come back around the ring in {ROUND_TIMEOUT_SEC} s",
                crate::wire::pxcom_type_name(ty)
            );
            match ty {
                CHMPX_COM_N2_STATUS_CONFIRM => self.confirm_done(false),
                CHMPX_COM_REQ_UPDATEDATA => self.update_request_lost(),
                _ => {}
            }
        }
    }

    /// A server that could not be reached got ring messages queued for it: they go to the
    /// server after it instead.
    pub(super) fn reroute_ring(&mut self, failed: u64, frames: VecDeque<Vec<u8>>) {
        for data in frames {
            let Ok(frame) = Frame::decode(&data) else {
                continue;
            };
            if frame.pkt.head.com_type != COM_PX2PX {
                continue;
            }
            let Ok(msg) = frame.px_msg() else { continue };
            if !is_ring_message(&msg.body) {
                continue;
            }
            let dept = frame.pkt.head.dept_ids.chmpxid;
            if dept == failed {
                continue;
            }
            if dept == self.chmpxid && self.next_on_ring(self.chmpxid, &[failed]).is_none() {
                // we were the only one left: the round is over
                self.rounds.remove(&msg.body.pxcom_type());
                self.round_done(msg);
                continue;
            }
            self.ring_pass(dept, frame.pkt.head.reqtime, &msg, &[failed]);
        }
    }

    // ---- membership ------------------------------------------------------------------------

    /// Joins the ring: our record goes around so every server knows we are up (the original's
    /// `ConnectRing`). Done once the first server answered our status request.
    pub(super) fn join_ring(&mut self) {
        if !self.is_server || self.rounds.contains_key(&CHMPX_COM_N2_JOIN_RING) {
            return;
        }
        self.stamp_self();
        let rec = self.own_record();
        if !self.ring_start(PxCom::N2JoinRing {
            server: Box::new(rec),
        }) {
            // nobody else is up: we are the ring
            self.on_ring = true;
        }
    }

    /// A server's own record, as it travels in JOIN_RING: it is up, whatever we knew.
    fn joined_peer(&mut self, rec: ChmpxSvr, from: u64) {
        if rec.chmpxid != from {
            return self.learn(rec, from);
        }
        if self.ring.get(rec.chmpxid).is_none() && !self.cfg_has_server(&rec) {
            log::warn!(
                "{} (0x{:016x}) is not in our configuration",
                rec.name,
                rec.chmpxid
            );
            return;
        }
        self.ring.upsert(rec);
        self.recompute_operating();
    }

    /// Our record as the ring has it (slots filled in).
    pub(super) fn own_record(&self) -> ChmpxSvr {
        self.ring
            .get(self.chmpxid)
            .cloned()
            .unwrap_or_else(|| self.self_rec.clone())
    }

    /// `N2_STATUS_CONFIRM`: does the table that came around equal ours (`CompareChmpxSvrs`)?
    /// Every record of one side must be in the other (a missing one is only allowed when it
    /// is SERVICE OUT, DOWN, NOACT, NOTHING), with the same identity, ports, SSL switch and the
    /// same status word (suspend bit included) and slots; times are not compared.
    ///
    /// Where the tables differ, the servers concerned are asked for their own records (each
    /// server is the authority on its own), and when the table is wrong about this server we
    /// tell ours again: a status change lost on its way to one server (connections come and
    /// go after a partition) would otherwise keep the views apart, every confirm round would
    /// fail and merge steps would wait for good.
    fn confirm_table(&mut self, servers: &[ChmpxSvr]) -> bool {
        fn absent_ok(s: &ChmpxSvr) -> bool {
            s.status & !CHMPXSTS_MASK_SUSPEND == CHMPXSTS_SRVOUT_DOWN_NORMAL
        }
        fn same(a: &ChmpxSvr, b: &ChmpxSvr) -> bool {
            let set = |x: &[HostPort], y: &[HostPort]| x.iter().all(|h| y.contains(h));
            a.name == b.name
                && a.cuk == b.cuk
                && a.custom_seed == b.custom_seed
                && a.ssl.is_ssl == b.ssl.is_ssl
                && (!a.ssl.is_ssl || a.ssl.verify_peer == b.ssl.verify_peer)
                && a.port == b.port
                && a.ctlport == b.ctlport
                && set(&a.endpoints, &b.endpoints)
                && set(&a.ctlendpoints, &b.ctlendpoints)
                && set(&a.forward_peers, &b.forward_peers)
                && set(&a.reverse_peers, &b.reverse_peers)
                && a.status == b.status
                && a.base_hash == b.base_hash
                && a.pending_hash == b.pending_hash
        }
        // the servers whose records differ (or are missing where that is not allowed)
        let differ = |from: &[ChmpxSvr], to: &[ChmpxSvr]| -> Vec<u64> {
            from.iter()
                .filter(|s| match to.iter().find(|o| o.chmpxid == s.chmpxid) {
                    Some(o) => !same(s, o),
                    None => !absent_ok(s),
                })
                .map(|s| s.chmpxid)
                .collect()
        };
        let mut ids = differ(servers, &self.ring.servers);
        ids.extend(differ(&self.ring.servers, servers));
        if ids.is_empty() {
            return true;
        }
        ids.sort_unstable();
        ids.dedup();
        log::warn!("N2_STATUS_CONFIRM: the ring's status table differs from ours");
        for id in ids {
            if id == self.chmpxid {
                log::warn!("N2_STATUS_CONFIRM: the ring has an old record of this server; telling ours again");
                self.push_status();
            } else {
                self.ask_record(id);
            }
        }
        false
    }

    /// The other servers that are up in our view.
    pub(super) fn others_up(&self) -> impl Iterator<Item = &ChmpxSvr> {
        self.ring
            .servers
            .iter()
            .filter(|s| s.chmpxid != self.chmpxid && !ring::is_down(s.status))
    }

    /// Our record with a fresh time (`UpdateSelfLastStatusTime`), before we tell it.
    pub(super) fn stamp_self(&mut self) {
        let t = now_packed(self.now).max(self.self_rec.last_status_time);
        self.self_rec.last_status_time = t;
        if let Some(r) = self.ring.get_mut(self.chmpxid) {
            r.last_status_time = t;
        }
    }

    /// Tells the other servers (around the ring) and our slaves (directly) our new status.
    pub fn push_status(&mut self) -> usize {
        self.stamp_self();
        let rec = self.own_record();
        let mut n = self.tell_slaves(&rec);
        if self.is_server
            && self.ring_start(PxCom::N2StatusChange {
                server: Box::new(rec),
            })
        {
            n += self.others_up().count();
        }
        n
    }

    /// Tells every server (around the ring) that `chmpxid` went down.
    pub(super) fn announce_down(&mut self, chmpxid: u64) {
        if self.is_server {
            self.ring_start(PxCom::ServerDown { chmpxid });
        }
        if let Some(rec) = self.ring.get(chmpxid).cloned() {
            self.tell_slaves(&rec);
        }
    }

    /// Sends a server's record to each of our slaves (N2_STATUS_CHANGE); how many.
    pub(super) fn tell_slaves(&mut self, rec: &ChmpxSvr) -> usize {
        let slaves: Vec<(u64, ConnId)> = self.slaves.iter().map(|(id, s)| (*id, s.conn)).collect();
        for (id, conn) in &slaves {
            let data = self.px(
                *id,
                PxCom::N2StatusChange {
                    server: Box::new(rec.clone()),
                },
            );
            self.out.push(Output::Send { conn: *conn, data });
        }
        slaves.len()
    }
}
