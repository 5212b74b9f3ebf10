//! Service in/out and merge (spec §6.2-6.3): the status transitions of a server, the rounds
//! that start, abort and complete a merge, and the data transfer between servers through the
//! merge callbacks of their clients.
//!
//! A merge, seen from one server:
//! 1. Someone asks (MERGE on a control port, or the automatic merge): the table goes around
//!    the ring in `N2_STATUS_CONFIRM`; if every server has the same table, `MERGE_START` goes
//!    around and every server moves its own status from PENDING to DOING.
//! 2. A DOING server that will own a slot of the new layout (MERGING, ADDING) asks its client
//!    for the time of its last update, then sends `REQ_UPDATEDATA` around the ring with the
//!    hash range it will own and an IDMAP of the servers that may hold data.
//! 3. Each listed server hands the range to its client's get callback; every datum travels as
//!    `RES_UPDATEDATA` straight to the requester, whose client's set callback stores it; the
//!    server ends with `RESULT_UPDATEDATA`.
//! 4. When every listed server answered and the client stored everything, the requester is
//!    DONE (MERGED, ADDED; a leaving server is DELETED without receiving anything).
//! 5. `MERGE_COMPLETE` around the ring: DONE servers take their new slots (NORMAL, or SERVICE
//!    OUT for a deleted one). `MERGE_ABORT` instead puts DOING/DONE back to PENDING.
//!
//! With AUTOMERGE the first UP, SERVICE IN, not suspended server of the ring order drives these
//! steps by itself (start when a server is PENDING, complete when no one is DOING any more, and
//! start again after an abort), so no merge waits for an operator.

use super::*;
use crate::ctl;
use crate::ipc::MergeGet;

/// How long a requester waits for its client's last update time before using 0 (everything).
/// (The client answers it between the get calls of a transfer it is serving.)
const LASTTS_WAIT_SEC: i64 = 10;

/// The merge as one server takes part in it.
#[derive(Debug, Default)]
pub(super) struct MergeState {
    /// The merge channel of our client-on-server (it has the callbacks).
    pub client: Option<ClientId>,
    /// Clients-on-server that said a merge channel follows (they count as attached when
    /// it is open).
    pub awaited: Vec<ClientId>,
    /// A CONFIRM round is out, to start or to complete a merge.
    confirm_for: Option<ConfirmFor>,
    /// Our own request for data, while we are MERGING/ADDING.
    req: Option<Requesting>,
    /// Requesters our client is sending data to now.
    serving: Vec<u64>,
    /// Messages for our clients held while we ask for the last update time.
    held: VecDeque<Frame>,
    /// When the automatic merge last acted (seconds).
    last_auto: i64,
    /// The automatic SERVICEIN of a starting server was done (it happens once per process:
    /// a server taken out by SERVICEOUT stays out).
    startup_servicein_done: bool,
    /// Since when our status says DOING while no request of ours is out (`merge_watch`).
    orphan_since: Option<i64>,
}

/// A step of our own merge that waits this long for others (the data and results of the
/// senders, the client storing it) without anything arriving is given up: the merge is
/// aborted and starts again. Data arriving counts as progress. A sender's client scans its
/// whole store for the range before it answers (about 100 ns a key: a second for ten million
/// keys), so this leaves room for stores far larger than that; what it catches is a result
/// lost on a connection that died after the data was sent (seen after partitions).
const MERGE_STALL_SEC: i64 = 15;
/// Our status says DOING while no request of ours is out (the request was dropped but the
/// status change that should have gone with it was not made, or was overwritten): after this
/// long the merge is aborted, so the ring does not wait for us for good.
const DOING_ORPHAN_SEC: i64 = 3;

/// What a N2_STATUS_CONFIRM round of ours is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConfirmFor {
    Start,
    /// The automatic completion: every server must see that nobody is DOING any more (a
    /// view of our own could still miss a server that has just begun).
    Complete,
}

#[derive(Debug)]
struct Requesting {
    phase: Phase,
    since: i64,
    /// When we started merging (what the catch-up round asks for again from).
    doing_since: Timespec,
    /// The catch-up round was sent.
    catchup: bool,
    /// Servers asked (from the IDMAP that came back) and what they answered.
    results: BTreeMap<u64, u64>,
    /// RESULT_UPDATEDATA that arrived before our round came back.
    early: BTreeMap<u64, u64>,
    round_back: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the client's last update time.
    LastTs,
    /// REQ_UPDATEDATA is out; data comes in.
    Transfer,
    /// The first transfer is over; the catch-up round goes out at this second.
    CatchupAt(i64),
    /// Everything arrived; waiting until the client stored it.
    SetEnd,
}

/// A status without its SUSPEND bit.
fn bare(s: u64) -> u64 {
    s & !CHMPXSTS_MASK_SUSPEND
}

fn operate(s: u64) -> u64 {
    s & CHMPXSTS_MASK_OPERATE
}

/// The slot a requester asks for, moved back so the range covers the keys it holds as a
/// replica too: `slot + 1 - replica_count` modulo `count`.
pub fn range_start(slot: u64, count: u64, replica_count: u64) -> u64 {
    if slot == CHM_INVALID_HASHVAL || count == 0 {
        return CHM_INVALID_HASHVAL;
    }
    if replica_count <= slot + 1 {
        slot + 1 - replica_count
    } else {
        (slot + count + 1).saturating_sub(replica_count) % count
    }
}

/// The status a restarting server takes back from the ring's record of it (start-up
/// normalisation of the original; the SUSPEND bit is added by the caller).
pub(super) fn restored_status(remembered: u64) -> u64 {
    let s = bare(remembered);
    if !ring::is_srvin(s) {
        return CHMPXSTS_SRVOUT_UP_NORMAL;
    }
    if ring::is_add(s) {
        return CHMPXSTS_SRVIN_UP_ADDPENDING;
    }
    if ring::is_delete(s) {
        if !ring::is_down(s) {
            return s;
        }
        return if operate(s) == CHMPXSTS_VAL_PENDING {
            CHMPXSTS_SRVIN_UP_DELPENDING
        } else {
            CHMPXSTS_SRVIN_UP_DELETED
        };
    }
    CHMPXSTS_SRVIN_UP_NORMAL
}

impl Node {
    /// While we wait for our client's last update time, messages for it wait too: what it
    /// stores now must not move that time past the data it is missing (None: held).
    pub(super) fn hold_while_asking_lastts(&mut self, frame: Frame) -> Option<Frame> {
        let asking = self
            .merge
            .req
            .as_ref()
            .is_some_and(|r| r.phase == Phase::LastTs);
        if asking {
            self.merge.held.push_back(frame);
            return None;
        }
        Some(frame)
    }

    /// Delivers the messages held while asking for the last update time.
    fn release_held(&mut self) {
        for frame in std::mem::take(&mut self.merge.held) {
            if !self.deliver_now(frame) {
                log::warn!("no local client can take a held message, dropped");
            }
        }
    }

    /// The last client-on-server left (`DoSuspend`): the server cannot take data any more, so
    /// it is suspended and a running operation goes back to its pending state; a running
    /// merge is aborted.
    pub(super) fn do_suspend(&mut self) {
        let s = self.self_rec.status;
        let next = match bare(s) {
            x if ring::is_down(x) => x,
            x if ring::is_srvin(x) && ring::is_add(x) => {
                CHMPXSTS_SRVIN_UP_ADDPENDING | CHMPXSTS_VAL_SUSPEND
            }
            x if ring::is_srvin(x) && ring::is_delete(x) => {
                CHMPXSTS_SRVIN_UP_DELPENDING | CHMPXSTS_VAL_SUSPEND
            }
            x if ring::is_srvin(x) => CHMPXSTS_SRVIN_UP_NORMAL | CHMPXSTS_VAL_SUSPEND,
            x => x | CHMPXSTS_VAL_SUSPEND,
        };
        if next == s {
            return;
        }
        let was_operating = self.ring.operating;
        self.merge.req = None;
        self.release_held();
        self.set_self_status(next);
        if was_operating {
            self.merge_abort_request();
        }
    }

    /// The ring took us for dead (a partition, a stalled process) while we were serving: it
    /// stopped sending us writes, so we wait for a merge (PENDING) like a server that comes
    /// back, and say that we are alive.
    pub(super) fn taken_for_dead(&mut self) {
        let s = self.self_rec.status;
        if bare(s) == CHMPXSTS_SRVIN_UP_NORMAL && !ring::is_suspend(s) {
            log::warn!("the ring took this server for dead: it will merge what it missed");
            self.set_self_status(CHMPXSTS_SRVIN_UP_PENDING);
            self.auto_merge();
        } else {
            self.push_status();
        }
    }

    /// `ring.operating`: a merge is running somewhere (some server DOING or DONE).
    pub(super) fn recompute_operating(&mut self) {
        self.ring.operating = self
            .ring
            .servers
            .iter()
            .any(|s| matches!(operate(s.status), CHMPXSTS_VAL_DOING | CHMPXSTS_VAL_DONE));
    }

    fn any_server(&self, f: impl Fn(u64) -> bool) -> bool {
        self.ring.servers.iter().any(|s| f(s.status))
    }

    // ---- service in / out ------------------------------------------------------------------

    /// SERVICEIN on this server (`RequestServiceIn`): SERVICE OUT, UP, not suspended ->
    /// ADD PENDING; DELETE PENDING -> back in. With AUTOMERGE the merge starts.
    pub fn service_in(&mut self) -> Result<String, String> {
        if !self.is_server {
            return Err(ctl::RES_ERROR_COMMAND_ON_SERVER.into());
        }
        if self.ring.operating {
            return Err(ctl::RES_ERROR_OPERATING.into());
        }
        let s = self.self_rec.status;
        let next = match s {
            CHMPXSTS_SRVOUT_UP_NORMAL => CHMPXSTS_SRVIN_UP_ADDPENDING,
            CHMPXSTS_SRVIN_UP_DELPENDING => CHMPXSTS_SRVIN_UP_PENDING,
            x if x == CHMPXSTS_SRVIN_UP_DELPENDING | CHMPXSTS_VAL_SUSPEND => {
                CHMPXSTS_SRVIN_UP_NORMAL | CHMPXSTS_VAL_SUSPEND
            }
            _ => return Err(ctl::RES_ERROR_STATUS_NOT_ALLOWED.into()),
        };
        self.set_self_status(next);
        self.after_service_change()
    }

    /// SERVICEOUT of this server (`RequestServiceOut`): NOACT -> DELETE PENDING, ADD PENDING
    /// -> SERVICE OUT.
    pub fn service_out(&mut self) -> Result<String, String> {
        if self.ring.operating {
            return Err(ctl::RES_ERROR_OPERATING.into());
        }
        let s = self.self_rec.status;
        let sus = s & CHMPXSTS_MASK_SUSPEND;
        let next = match bare(s) {
            CHMPXSTS_SRVIN_UP_NORMAL | CHMPXSTS_SRVIN_UP_PENDING => CHMPXSTS_SRVIN_UP_DELPENDING,
            CHMPXSTS_SRVIN_UP_ADDPENDING => CHMPXSTS_SRVOUT_UP_NORMAL,
            _ => return Err(ctl::RES_ERROR_STATUS_NOT_ALLOWED.into()),
        };
        self.set_self_status(next | sus);
        self.after_service_change()
    }

    /// SERVICEOUT of a server that is down: we change its record on its behalf.
    pub fn service_out_down(&mut self, chmpxid: u64) -> Result<String, String> {
        if self.ring.operating {
            return Err(ctl::RES_ERROR_OPERATING.into());
        }
        let Some(rec) = self.ring.get(chmpxid).cloned() else {
            return Err(ctl::RES_ERROR_NOT_FOUND_SVR.into());
        };
        let next = match bare(rec.status) {
            CHMPXSTS_SRVIN_DOWN_NORMAL => CHMPXSTS_SRVIN_DOWN_DELPENDING,
            _ => return Ok(ctl::RES_SUCCESS_ALREADY_SRVOUT.into()),
        };
        self.set_other_status(chmpxid, next);
        self.after_service_change()
    }

    /// After SERVICEIN/SERVICEOUT: with AUTOMERGE the merge starts at once (its answer is
    /// the command's); otherwise plain success.
    fn after_service_change(&mut self) -> Result<String, String> {
        if self.cfg.is_auto_merge && !self.auto_merge_suspend {
            return match self.merge_request() {
                Ok(t) => Ok(t),
                Err(e) => Err(format!("{e}\n{}", ctl::RES_ERROR_AUTO_MERGE)),
            };
        }
        Ok(ctl::RES_SUCCESS.into())
    }

    /// Changes another server's record (a DOWN one, on its behalf) and tells the ring.
    fn set_other_status(&mut self, chmpxid: u64, status: u64) {
        let t = now_packed(self.now);
        self.ring.set_status(chmpxid, status, t);
        self.recompute_operating();
        if let Some(rec) = self.ring.get(chmpxid).cloned() {
            // our slaves hear it too (the others' from the servers it passes)
            self.tell_slaves(&rec);
            self.ring_start(PxCom::N2StatusChange {
                server: Box::new(rec),
            });
        }
    }

    // ---- start -----------------------------------------------------------------------------

    /// Whether a merge may start (`CheckAllStatusForMergeStart`): nothing operating, and no
    /// SERVICE IN server that is up but suspended (it could not take its data).
    fn can_start_merge(&self) -> bool {
        !self.ring.operating
            && !self.any_server(|s| ring::is_srvin(s) && !ring::is_down(s) && ring::is_suspend(s))
    }

    /// MERGE: confirm the table around the ring, then start (`RequestMergeStart`).
    pub fn merge_request(&mut self) -> Result<String, String> {
        if !self.is_server {
            return Err(ctl::RES_ERROR_COMMAND_ON_SERVER.into());
        }
        if !self.can_start_merge() || self.merge.confirm_for.is_some() {
            return Err(ctl::RES_ERROR_SOME_SERVERS.into());
        }
        if self.confirm_round(ConfirmFor::Start) {
            Ok(ctl::RES_SUCCESS.into())
        } else {
            Ok(ctl::RES_SUCCESS_NOSERVER.into())
        }
    }

    /// Sends our table around in N2_STATUS_CONFIRM for `what`; false when there is nobody to
    /// ask (then it is done at once).
    fn confirm_round(&mut self, what: ConfirmFor) -> bool {
        self.merge.confirm_for = Some(what);
        self.stamp_self();
        let servers = self.ring.servers.clone();
        if self.ring_start(PxCom::N2StatusConfirm { servers }) {
            return true;
        }
        self.confirm_done(true);
        false
    }

    /// Our N2_STATUS_CONFIRM came back (or timed out).
    pub(super) fn confirm_done(&mut self, ok: bool) {
        let Some(what) = self.merge.confirm_for.take() else {
            return;
        };
        if !ok {
            log::warn!("the servers do not agree on the status table; the merge step waits");
            // every server tells us its own record again (a direct request, not a round: the
            // rounds are what gets lost while connections come and go), so a view of ours
            // that missed a status change is right by the next try
            let others: Vec<u64> = self.others_up().map(|s| s.chmpxid).collect();
            for id in others {
                self.ask_record(id);
            }
            return;
        }
        if what == ConfirmFor::Complete {
            let _ = self.merge_complete_request();
            return;
        }
        if !self.can_start_merge() {
            return;
        }
        // servers that are down and being deleted are done on their behalf
        let gone: Vec<u64> = self
            .ring
            .servers
            .iter()
            .filter(|s| bare(s.status) == CHMPXSTS_SRVIN_DOWN_DELPENDING)
            .map(|s| s.chmpxid)
            .collect();
        for id in gone {
            self.set_other_status(id, CHMPXSTS_SRVIN_DOWN_DELETED);
        }
        // the originator starts when its MERGE_START has been round (or at once, alone)
        if !self.ring_start(PxCom::MergeStart) {
            self.merge_start_local(true);
        }
    }

    /// MERGE_START on this server: PENDING (and NORMAL) become DOING; a server that will own a
    /// slot asks for its data.
    pub(super) fn merge_start_local(&mut self, _originator: bool) -> bool {
        if !self.is_server {
            return true;
        }
        let s = self.self_rec.status;
        let sus = s & CHMPXSTS_MASK_SUSPEND;
        let next = match bare(s) {
            CHMPXSTS_SRVIN_UP_NORMAL | CHMPXSTS_SRVIN_UP_PENDING => CHMPXSTS_SRVIN_UP_MERGING,
            CHMPXSTS_SRVIN_UP_ADDPENDING => CHMPXSTS_SRVIN_UP_ADDING,
            CHMPXSTS_SRVIN_UP_DELPENDING => CHMPXSTS_SRVIN_UP_DELETING,
            _ => {
                self.recompute_operating();
                return true;
            }
        };
        log::info!("merge: started here ({s:#x} -> {:#x})", next | sus);
        self.set_self_status(next | sus);
        self.recompute_operating();
        let receives = next != CHMPXSTS_SRVIN_UP_DELETING;
        if !receives || !self.cfg.is_do_merge || self.merge.client.is_none() || sus != 0 {
            if receives && self.cfg.is_do_merge {
                log::warn!("no client with merge callbacks: this server takes no data");
            }
            self.merge_self_done();
            return true;
        }
        self.merge.req = Some(Requesting {
            phase: Phase::LastTs,
            since: self.now.sec,
            doing_since: self.now,
            catchup: false,
            results: BTreeMap::new(),
            early: BTreeMap::new(),
            round_back: false,
        });
        if let Some(c) = self.merge.client {
            self.reply(c, Response::MergeGetLastTs);
        }
        true
    }

    /// The client told its last update time: send our request around the ring.
    fn merge_lastts(&mut self, ts: Timespec) {
        let Some(req) = self.merge.req.as_mut() else {
            return;
        };
        if req.phase != Phase::LastTs {
            return;
        }
        req.phase = Phase::Transfer;
        req.since = self.now.sec;
        log::info!(
            "merge: the client's last update time is {}.{:09}; asking for data",
            ts.sec,
            ts.nsec
        );
        self.release_held();
        self.send_update_request(ts, false);
    }

    /// Sends REQ_UPDATEDATA around the ring for the range we will own. The catch-up round
    /// asks for everything of that range written since we started merging: until every
    /// sender knew that we take writes (our status reaches slaves a little later), a write
    /// could reach only the others, after they had sent us their data.
    fn send_update_request(&mut self, startts: Timespec, catchup: bool) {
        if let Some(req) = self.merge.req.as_mut() {
            req.round_back = false;
            req.results.clear();
        }
        let me = self.own_record();
        let rc = (self.cfg.replica_count.max(0) + 1) as u64;
        let (bcount, pcount) = (self.ring.base_count(), self.ring.pending_count());
        let mut param = MergeParam {
            chmpxid: self.chmpxid,
            startts,
            max_pending_hash: pcount,
            pending_hash: range_start(me.pending_hash, pcount, rc),
            max_base_hash: bcount,
            base_hash: range_start(me.base_hash, bcount, rc),
            replica_count: rc as i64,
            is_expire_check: false,
        };
        if catchup {
            // the whole range counts as "old": only what changed since startts is sent
            param.max_base_hash = param.max_pending_hash;
            param.base_hash = param.pending_hash;
        }
        let idmap: Vec<(u64, u64)> = self
            .others_up()
            .filter(|s| ring::is_srvin(s.status))
            .map(|s| (s.chmpxid, CHMPX_COM_REQ_UPDATE_INIVAL))
            .collect();
        log::info!(
            "merge: REQ_UPDATEDATA{} to {} server(s)",
            if catchup { " (catch-up)" } else { "" },
            idmap.len()
        );
        if idmap.is_empty()
            || !self.ring_start(PxCom::ReqUpdateData {
                merge_param: param,
                idmap: idmap.clone(),
            })
        {
            // nobody to ask
            self.update_request_back(&[]);
        }
    }

    /// REQ_UPDATEDATA passing through: if we are listed, our client sends the range.
    pub(super) fn update_request(&mut self, p: &MergeParam, idmap: &mut [(u64, u64)]) {
        let Some(entry) = idmap.iter_mut().find(|(id, _)| *id == self.chmpxid) else {
            return;
        };
        let s = self.self_rec.status;
        let can = (ring::is_noact(s) || ring::is_delete(s) || ring::is_srvin(s))
            && !ring::is_suspend(s)
            && !ring::is_add(s);
        let Some(client) = self.merge.client.filter(|_| can) else {
            entry.1 = CHMPX_COM_REQ_UPDATE_NOACT;
            return;
        };
        entry.1 = CHMPX_COM_REQ_UPDATE_DO;
        let param = MergeGet {
            startts: p.startts,
            endts: self.now,
            target_hash: p.pending_hash,
            target_max_hash: p.max_pending_hash,
            old_hash: p.base_hash,
            old_max_hash: p.max_base_hash,
            target_hash_range: p.replica_count,
            is_expire_check: p.is_expire_check,
        };
        if !self.merge.serving.contains(&p.chmpxid) {
            self.merge.serving.push(p.chmpxid);
        }
        self.reply(
            client,
            Response::MergeGet {
                requester: p.chmpxid,
                param,
            },
        );
    }

    /// Our REQ_UPDATEDATA came back: the IDMAP says who sends.
    pub(super) fn update_request_back(&mut self, idmap: &[(u64, u64)]) {
        let Some(req) = self.merge.req.as_mut() else {
            return;
        };
        req.round_back = true;
        log::info!("merge: REQ_UPDATEDATA came back: {idmap:x?}");
        for (id, st) in idmap {
            let st = match *st {
                CHMPX_COM_REQ_UPDATE_INIVAL => CHMPX_COM_REQ_UPDATE_NOACT,
                x => x,
            };
            req.results.insert(*id, st);
        }
        let early = std::mem::take(&mut req.early);
        for (id, r) in early {
            req.results.insert(id, r);
        }
        self.merge_check_received();
    }

    /// Our REQ_UPDATEDATA was lost on the way: give up this merge (it is started again).
    pub(super) fn update_request_lost(&mut self) {
        if self.merge.req.is_some() {
            log::error!("the merge request did not come back; aborting the merge");
            self.merge_abort_request();
        }
    }

    /// RESULT_UPDATEDATA from a server that sent us its data.
    fn update_result(&mut self, from: u64, result: u64) {
        let Some(req) = self.merge.req.as_mut() else {
            log::info!(
                "merge: RESULT_UPDATEDATA {result} from {from:#x} while not merging: ignored"
            );
            return;
        };
        log::info!("merge: RESULT_UPDATEDATA {result} from {from:#x}");
        if req.round_back {
            req.results.insert(from, result);
        } else {
            req.early.insert(from, result);
        }
        self.merge_check_received();
    }

    fn merge_check_received(&mut self) {
        let Some(req) = self.merge.req.as_mut() else {
            return;
        };
        if req.phase != Phase::Transfer || !req.round_back {
            return;
        }
        if req
            .results
            .values()
            .any(|r| *r == CHMPX_COM_REQ_UPDATE_DO || *r == CHMPX_COM_REQ_UPDATE_INIVAL)
        {
            return;
        }
        if req
            .results
            .values()
            .any(|r| *r == CHMPX_COM_REQ_UPDATE_FAIL)
        {
            log::error!("a server could not send its merge data; aborting the merge");
            self.merge_abort_request();
            return;
        }
        if !req.catchup {
            req.catchup = true;
            req.phase = Phase::CatchupAt(req.doing_since.sec + 1);
            return self.merge_catchup_due();
        }
        req.phase = Phase::SetEnd;
        req.since = self.now.sec;
        log::info!("merge: every server sent its data; waiting for the client to store it");
        match self.merge.client {
            Some(c) => self.reply(c, Response::MergeSetEnd),
            None => self.merge_self_done(),
        }
    }

    /// Sends the catch-up round once its second has come (called on ticks too).
    pub(super) fn merge_catchup_due(&mut self) {
        let Some(req) = self.merge.req.as_mut() else {
            return;
        };
        let Phase::CatchupAt(at) = req.phase else {
            return;
        };
        if self.now.sec < at {
            return;
        }
        req.phase = Phase::Transfer;
        req.since = self.now.sec;
        // two seconds of slack for the clocks of the other servers
        let from = Timespec {
            sec: req.doing_since.sec - 2,
            nsec: 0,
        };
        self.send_update_request(from, true);
    }

    /// We have all our data: DOING becomes DONE.
    fn merge_self_done(&mut self) {
        log::info!("merge: done here");
        self.merge.req = None;
        let s = self.self_rec.status;
        let sus = s & CHMPXSTS_MASK_SUSPEND;
        let next = match bare(s) {
            CHMPXSTS_SRVIN_UP_MERGING => CHMPXSTS_SRVIN_UP_MERGED,
            CHMPXSTS_SRVIN_UP_ADDING => CHMPXSTS_SRVIN_UP_ADDED,
            CHMPXSTS_SRVIN_UP_DELETING => CHMPXSTS_SRVIN_UP_DELETED,
            _ => return,
        };
        self.set_self_status(next | sus);
        self.auto_merge();
    }

    // ---- data through our own client -------------------------------------------------------

    /// A request on the merge channel of our client.
    pub(super) fn merge_client_request(&mut self, client: ClientId, req: Request) {
        if self.merge.client != Some(client) {
            return;
        }
        match req {
            Request::MergeLastTs { ok, ts } => {
                self.merge_lastts(if ok { ts } else { Timespec::default() })
            }
            Request::MergeData {
                requester,
                ts,
                data,
            } => {
                if !self.merge.serving.contains(&requester) {
                    return;
                }
                // (a PX2PX message: not in the message counts, which are of C2C messages)
                let msg = PxMsg::new(PxCom::ResUpdateData { ts, data });
                let frame = Frame::px2px(self.chmpxid, requester, self.now, &msg).encode();
                self.send_to(requester, frame);
            }
            Request::MergeResult { requester, ok } => {
                if let Some(p) = self.merge.serving.iter().position(|r| *r == requester) {
                    self.merge.serving.remove(p);
                }
                let result = if ok {
                    CHMPX_COM_REQ_UPDATE_SUCCESS
                } else {
                    CHMPX_COM_REQ_UPDATE_FAIL
                };
                if requester == self.chmpxid {
                    self.update_result(self.chmpxid, result);
                } else {
                    self.send_result(requester, result);
                }
            }
            Request::MergeSetDone { ok }
                if self
                    .merge
                    .req
                    .as_ref()
                    .is_some_and(|r| r.phase == Phase::SetEnd) =>
            {
                if !ok {
                    log::warn!("the client could not store some merge data");
                }
                self.merge_self_done();
            }
            _ => {}
        }
    }

    /// RESULT_UPDATEDATA to `requester`: how our part of its merge ended.
    fn send_result(&mut self, requester: u64, result: u64) {
        let msg = PxMsg::new(PxCom::ResultUpdateData {
            chmpxid: self.chmpxid,
            result,
        });
        let frame = Frame::px2px(self.chmpxid, requester, self.now, &msg).encode();
        self.send_to(requester, frame);
    }

    /// Direct merge messages from other servers (RES_UPDATEDATA, RESULT_UPDATEDATA).
    pub(super) fn merge_direct(&mut self, from: u64, body: PxCom) {
        match body {
            PxCom::ResUpdateData { ts, data } => {
                if self.merge.req.is_none() {
                    log::warn!("merge data from 0x{from:016x} while we are not merging: dropped");
                    return;
                }
                if let Some(req) = self.merge.req.as_mut() {
                    req.since = self.now.sec;
                }
                if let Some(c) = self.merge.client {
                    self.reply(c, Response::MergeSet { ts, data });
                }
            }
            PxCom::ResultUpdateData { chmpxid, result } => self.update_result(chmpxid, result),
            _ => {}
        }
    }

    /// The merge channel of `client` opened.
    pub(super) fn merge_client_joined(&mut self, client: ClientId) {
        self.merge.client = Some(client);
        self.reply(client, Response::Done { ok: true });
        if !self.merge.awaited.is_empty() {
            self.merge.awaited.clear();
            self.client_joined();
        }
    }

    /// The merge channel closed: what it was doing fails.
    pub(super) fn merge_client_gone(&mut self, client: ClientId) {
        self.merge.awaited.retain(|c| *c != client);
        if self.merge.client != Some(client) {
            return;
        }
        self.merge.client = None;
        let serving = std::mem::take(&mut self.merge.serving);
        for requester in serving {
            let msg = PxMsg::new(PxCom::ResultUpdateData {
                chmpxid: self.chmpxid,
                result: CHMPX_COM_REQ_UPDATE_FAIL,
            });
            let frame = Frame::px2px(self.chmpxid, requester, self.now, &msg).encode();
            self.send_to(requester, frame);
        }
        if self.merge.req.is_some() {
            self.merge_abort_request();
        }
    }

    // ---- abort and complete ----------------------------------------------------------------

    /// ABORTMERGE: every server goes back to PENDING.
    pub fn merge_abort_request(&mut self) -> &'static str {
        let sent = self.is_server && self.ring_start(PxCom::MergeAbort);
        self.merge_abort_local();
        if sent {
            ctl::RES_SUCCESS
        } else {
            ctl::RES_SUCCESS_NOSERVER
        }
    }

    /// MERGE_ABORT on this server.
    pub(super) fn merge_abort_local(&mut self) {
        log::info!("merge: aborted (status {:#x})", self.self_rec.status);
        self.merge.req = None;
        self.release_held();
        if !self.merge.serving.is_empty() {
            // the servers we were sending to hear at once that our part failed (the ring's
            // MERGE_ABORT may not reach them: it is lost or skips one we think is down), so
            // their merges end now instead of waiting for a result that never comes
            for requester in std::mem::take(&mut self.merge.serving) {
                if requester != self.chmpxid {
                    self.send_result(requester, CHMPX_COM_REQ_UPDATE_FAIL);
                }
            }
            if let Some(c) = self.merge.client {
                self.reply(c, Response::MergeAbort);
            }
        }
        let s = self.self_rec.status;
        let sus = s & CHMPXSTS_MASK_SUSPEND;
        let next = match bare(s) {
            CHMPXSTS_SRVIN_UP_MERGING | CHMPXSTS_SRVIN_UP_MERGED => Some(CHMPXSTS_SRVIN_UP_PENDING),
            CHMPXSTS_SRVIN_UP_ADDING | CHMPXSTS_SRVIN_UP_ADDED => {
                Some(CHMPXSTS_SRVIN_UP_ADDPENDING)
            }
            CHMPXSTS_SRVIN_UP_DELETING | CHMPXSTS_SRVIN_UP_DELETED => {
                Some(CHMPXSTS_SRVIN_UP_DELPENDING)
            }
            _ => None,
        };
        if let Some(next) = next {
            self.set_self_status(next | sus);
        }
        let gone: Vec<u64> = self
            .ring
            .servers
            .iter()
            .filter(|s| bare(s.status) == CHMPXSTS_SRVIN_DOWN_DELETED)
            .map(|s| s.chmpxid)
            .collect();
        let t = now_packed(self.now);
        for id in gone {
            self.ring.set_status(id, CHMPXSTS_SRVIN_DOWN_DELPENDING, t);
        }
        self.recompute_operating();
    }

    /// COMPMERGE (`RequestMergeComplete`): refused while a server still receives data or a
    /// down server being deleted is not done.
    pub fn merge_complete_request(&mut self) -> Result<String, String> {
        if !self.is_server {
            return Err(ctl::RES_ERROR_COMMAND_ON_SERVER.into());
        }
        let blocked = self.any_server(|s| {
            let up_doing = !ring::is_down(s) && operate(s) == CHMPXSTS_VAL_DOING;
            let down_deleting = ring::is_down(s)
                && ring::is_delete(s)
                && !matches!(operate(s), CHMPXSTS_VAL_PENDING | CHMPXSTS_VAL_DONE);
            ring::is_srvin(s) && (up_doing || down_deleting)
        });
        if blocked {
            return Err(ctl::RES_ERROR_SOME_SERVERS.into());
        }
        self.stamp_self();
        let sent = self.ring_start(PxCom::MergeComplete);
        self.merge_complete_local();
        Ok(if sent {
            ctl::RES_SUCCESS
        } else {
            ctl::RES_SUCCESS_NOSERVER
        }
        .into())
    }

    /// MERGE_COMPLETE on this server: DONE takes the new layout. False while we are DOING.
    pub(super) fn merge_complete_local(&mut self) -> bool {
        if !self.is_server {
            return true;
        }
        let s = self.self_rec.status;
        let sus = s & CHMPXSTS_MASK_SUSPEND;
        let next = match bare(s) {
            CHMPXSTS_SRVIN_UP_MERGED | CHMPXSTS_SRVIN_UP_ADDED => Some(CHMPXSTS_SRVIN_UP_NORMAL),
            CHMPXSTS_SRVIN_UP_DELETED => Some(CHMPXSTS_SRVOUT_UP_NORMAL),
            x if operate(x) == CHMPXSTS_VAL_DOING => return false,
            _ => None,
        };
        log::info!("merge: completed (status {s:#x})");
        let gone: Vec<u64> = self
            .ring
            .servers
            .iter()
            .filter(|s| bare(s.status) == CHMPXSTS_SRVIN_DOWN_DELETED)
            .map(|s| s.chmpxid)
            .collect();
        let t = now_packed(self.now);
        for id in gone {
            self.ring.set_status(id, CHMPXSTS_SRVOUT_DOWN_NORMAL, t);
        }
        if let Some(next) = next {
            self.set_self_status(next | sus);
        }
        self.recompute_operating();
        true
    }

    /// SUSPENDMERGE / NOSUSPENDMERGE: the ring-wide flag that holds automatic merges.
    pub fn set_merge_suspend(&mut self, suspend: bool) {
        self.auto_merge_suspend = suspend;
        self.ring_start(if suspend {
            PxCom::MergeSuspend
        } else {
            PxCom::MergeNoSuspend
        });
        if !suspend {
            self.auto_merge();
        }
    }

    // ---- automatic merge -------------------------------------------------------------------

    /// Timed steps of our own merge (every tick): a client that does not answer the last
    /// update time is not waited for longer, and the catch-up round goes out on time.
    pub(super) fn merge_tick(&mut self) {
        if let Some(req) = &self.merge.req {
            if req.phase == Phase::LastTs && self.now.sec - req.since >= LASTTS_WAIT_SEC {
                self.merge_lastts(Timespec::default());
            }
        }
        self.merge_catchup_due();
        self.merge_watch();
    }

    /// Every tick: a merge of ours that can no longer finish is given up (and started again
    /// by the automatic merge), whatever message was lost on the way. Each wait of the merge
    /// has a way out, so no lost message can hold the ring in merge states for good.
    fn merge_watch(&mut self) {
        if !self.is_server {
            return;
        }
        let now = self.now.sec;
        // what the ring has of us is what we say of ourselves
        let mine = (self.self_rec.status, self.self_rec.last_status_time);
        if self
            .ring
            .get(self.chmpxid)
            .is_some_and(|r| r.status != mine.0)
        {
            log::warn!("our record in the ring differs from our status: telling ours again");
            self.ring.set_status(self.chmpxid, mine.0, mine.1);
            self.recompute_operating();
            self.push_status();
        }
        let doing = operate(self.self_rec.status) == CHMPXSTS_VAL_DOING;
        if doing && self.merge.req.is_none() {
            let since = *self.merge.orphan_since.get_or_insert(now);
            if now - since >= DOING_ORPHAN_SEC {
                log::warn!("our status says we merge, but no request of ours is out: aborting");
                self.merge.orphan_since = None;
                self.merge_abort_request();
            }
            return;
        }
        self.merge.orphan_since = None;
        let stalled = self.merge.req.as_ref().is_some_and(|r| {
            matches!(r.phase, Phase::Transfer | Phase::SetEnd) && now - r.since >= MERGE_STALL_SEC
        });
        if stalled {
            log::warn!("our merge made no progress in {MERGE_STALL_SEC} s: aborting it");
            self.merge_abort_request();
        }
    }

    /// Whether we drive the automatic merge: the first UP, SERVICE IN, not suspended server,
    /// or a server whose own status waits for (PENDING) or finished (DONE) a merge, as the
    /// original's servers each start the merge they need and complete their own (so a server
    /// of ours in a ring of original servers does not wait for them to do it).
    fn merge_driver(&self) -> bool {
        let own = operate(self.self_rec.status);
        if ring::is_srvin(self.self_rec.status)
            && !ring::is_suspend(self.self_rec.status)
            && matches!(own, CHMPXSTS_VAL_PENDING | CHMPXSTS_VAL_DONE)
        {
            return true;
        }
        self.ring
            .servers
            .iter()
            .find(|s| {
                !ring::is_down(s.status) && ring::is_srvin(s.status) && !ring::is_suspend(s.status)
            })
            .is_some_and(|s| s.chmpxid == self.chmpxid)
    }

    /// AUTOMERGE: take the next step of a merge when one is due. Called after status changes
    /// and every tick.
    pub(super) fn auto_merge(&mut self) {
        if !self.is_server || !self.cfg.is_auto_merge || !self.on_ring {
            return;
        }
        // our own part: a starting server enters the ring by itself once it has a client
        if !self.merge.startup_servicein_done && !ring::is_suspend(self.self_rec.status) {
            self.merge.startup_servicein_done = true;
            if self.self_rec.status == CHMPXSTS_SRVOUT_UP_NORMAL && !self.auto_merge_suspend {
                self.set_self_status(CHMPXSTS_SRVIN_UP_ADDPENDING);
            }
        }

        if self.auto_merge_suspend
            || !self.merge_driver()
            || self.merge.confirm_for.is_some()
            || self.rounds.contains_key(&CHMPX_COM_N2_STATUS_CONFIRM)
        {
            return;
        }
        let up = |s: u64| !ring::is_down(s);
        let doing = self.any_server(|s| up(s) && operate(s) == CHMPXSTS_VAL_DOING);
        let done = self.any_server(|s| operate(s) == CHMPXSTS_VAL_DONE);
        let pending = self.any_server(|s| {
            (up(s) && operate(s) == CHMPXSTS_VAL_PENDING)
                || bare(s) == CHMPXSTS_SRVIN_DOWN_DELPENDING
        });
        if doing {
            return;
        }
        if done {
            self.merge.last_auto = self.now.sec;
            self.confirm_round(ConfirmFor::Complete);
        } else if pending && self.now.sec != self.merge.last_auto {
            self.merge.last_auto = self.now.sec;
            let _ = self.merge_request();
        }
    }
}
