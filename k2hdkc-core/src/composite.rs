//! Requests a server completes with the help of other servers (spec §3.5): it sends
//! sub-requests through chmpx (ROUTING by the sub-request's key, possibly to itself) and
//! answers its client when their answers are in. Sans I/O: the server loop feeds requests,
//! answers and time in, and carries out the [`Action`]s that come back; sub-requests carry
//! numbers of their own, so answers are matched exactly (the original keyed its waits by
//! command type and a number that is 0 without comlog, so two at once collided).
//!
//! REN: read the old key whole, SET_ALL it under the new name (wherever that lives), then
//! remove the old key here and copy the removal to its replicas (REPL_DEL; the original sent
//! an empty REPL_KEY that the replicas refused, so the old key survived there).
//!
//! QPUSH / QPOP (spec §3.8): the queue's marker lives on this server (the owner of the
//! prefix), each entry on the owner of its own name. A push stores the user key (key
//! queues), then the entry, links it (ADD_SUBKEYS on the previous last entry, or on the new
//! one for LIFO) and moves the marker; a pop reads the head's successor, moves the marker,
//! reads and removes the head (and for key queues the key it names). Operations on one queue
//! run one after the other; the marker is copied to the replicas after each.

use std::collections::{HashMap, VecDeque};

use chmpx_core::wire::ComPkt;
use k2hash::queue::{Marker, Queue};

use crate::handler::Handler;
use crate::wire::*;

/// What the server loop does for a composite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a sub-request (ROUTING by `hash`).
    Send { hash: u64, msg: Message },
    /// Answer the client's request `to`.
    Reply { to: ComPkt, msg: Message },
    /// Copy to the other servers of `hash` (replicate without self).
    Replicate { hash: u64, msg: Message },
}

/// A client's request being completed.
struct Job {
    client: ComPkt,
    req: Head,
    work: Work,
}

enum Work {
    /// REN waiting for the SET_ALL of the new key.
    Rename { oldkey: Vec<u8> },
    /// QPUSH: the user key (key queues), then the entry, then the link.
    Push {
        r: QpushReq,
        q: Queue,
        marker: Marker,
        item: Vec<u8>,
        stage: PushStage,
    },
    /// QPOP: the head's successor, the head's value, its removal, then for key queues the
    /// key it names.
    Pop {
        r: QpopReq,
        q: Queue,
        head: Vec<u8>,
        value: Vec<u8>,
        stage: PopStage,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PushStage {
    UserKey,
    Item,
    Link,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PopStage {
    Next,
    Get,
    Del,
    KeyGet,
    KeyDel,
}

struct Waiting {
    job: Job,
    since: i64,
}

/// Sub-request numbers start here (clients send 0, or their own comlog numbers).
const FIRST_NUMBER: u64 = 0xD4C0_0000_0000_0001;

pub struct Composites {
    next: u64,
    waiting: HashMap<u64, Waiting>,
    /// Queues with an operation under way (their marker key), and the requests that wait
    /// for it: operations on one queue run one after the other, as under the original's lock.
    busy: HashMap<Vec<u8>, VecDeque<(ComPkt, Message)>>,
    /// Seconds a sub-request may take.
    timeout_sec: i64,
}

fn code(result: u64, sub: u64) -> u64 {
    compose_res(result, sub)
}

fn cstr_or(v: &[u8]) -> Vec<u8> {
    v.to_vec()
}

fn queue_of(prefix: &[u8], fifo: bool) -> Queue {
    Queue::new(Some(prefix), fifo)
}

impl Composites {
    pub fn new(timeout_ms: i64) -> Composites {
        Composites {
            next: FIRST_NUMBER,
            waiting: HashMap::new(),
            busy: HashMap::new(),
            timeout_sec: (timeout_ms.max(1000) + 999) / 1000 * 3,
        }
    }

    fn number(&mut self) -> u64 {
        let n = self.next;
        self.next = self.next.wrapping_add(1).max(FIRST_NUMBER);
        n
    }

    /// Whether `head` answers one of our sub-requests.
    pub fn is_ours(&self, head: &Head) -> bool {
        head.is_response() && self.waiting.contains_key(&head.comnumber)
    }

    /// Whether a request is one of ours to complete (REN, QPUSH, QPOP).
    pub fn handles(msg: &Message) -> bool {
        matches!(msg.body, Body::Ren(_) | Body::Qpush(_) | Body::Qpop(_))
    }

    /// Registers `job` as waiting for a sub-request `t` with `body`, routed by `key`.
    fn sub(&mut self, job: Job, t: u64, body: Body, key: &[u8], now: Ts) -> Vec<Action> {
        let n = self.number();
        self.waiting.insert(
            n,
            Waiting {
                job,
                since: now.sec,
            },
        );
        vec![Action::Send {
            hash: k2hash::hash::hash(key),
            msg: Message {
                head: Head::request(t, n),
                body,
            },
        }]
    }

    fn reply(job: &Job, code: u64) -> Action {
        Action::Reply {
            to: job.client,
            msg: empty_response(&job.req, code),
        }
    }

    /// A composite request from a client (`pkt` is its packet, to answer on).
    pub fn start(&mut self, h: &Handler, pkt: ComPkt, msg: &Message, now: Ts) -> Vec<Action> {
        let job = |work| Job {
            client: pkt,
            req: msg.head,
            work,
        };
        let fail = |c| {
            vec![Action::Reply {
                to: pkt,
                msg: empty_response(&msg.head, c),
            }]
        };
        match &msg.body {
            Body::Ren(r) => {
                let pass = crate::handler::pass(&r.encpass);
                // a missing (or unreadable) old key: ERROR|NODATA, as the original answers
                if (r.check_attr || pass.is_some())
                    && h.read(&r.oldkey, r.check_attr, pass.as_deref()).is_none()
                {
                    return fail(code(DKC_RES_ERROR, DKC_RES_SUBCODE_NODATA));
                }
                let Some(el) = h.raw(&r.oldkey) else {
                    return fail(code(DKC_RES_ERROR, DKC_RES_SUBCODE_NODATA));
                };
                if r.oldkey == r.newkey {
                    return fail(code(DKC_RES_SUCCESS, 0));
                }
                let body = Body::SetAll(SetAllReq {
                    key: r.newkey.clone(),
                    val: el.value,
                    subkeys: el.subkeys,
                    attrs: el.attrs,
                });
                let w = Work::Rename {
                    oldkey: r.oldkey.clone(),
                };
                self.sub(job(w), DKC_COM_SET_ALL, body, &r.newkey, now)
            }
            Body::Qpush(r) => {
                let q = queue_of(&r.prefix, r.fifo);
                let mk = q.marker_key();
                if let Some(waiters) = self.busy.get_mut(&mk) {
                    waiters.push_back((pkt, msg.clone()));
                    return Vec::new();
                }
                let Ok(marker) = q.marker(h.db()) else {
                    return fail(code(DKC_RES_ERROR, DKC_RES_SUBCODE_GETMARKER));
                };
                self.busy.insert(mk, VecDeque::new());
                let item = q.new_entry_key();
                let keyqueue = !r.key.is_empty();
                let w = Work::Push {
                    r: r.clone(),
                    q,
                    marker,
                    item,
                    stage: PushStage::UserKey,
                };
                if keyqueue {
                    let body = Body::Set(SetReq {
                        key: r.key.clone(),
                        val: r.val.clone(),
                        encpass: r.encpass.clone(),
                        expire: r.expire,
                        enable_expire: r.enable_expire,
                        ..SetReq::default()
                    });
                    self.sub(job(w), DKC_COM_SET, body, &r.key, now)
                } else {
                    self.push_item(job(w), now)
                }
            }
            Body::Qpop(r) => {
                let q = queue_of(&r.prefix, r.fifo);
                let mk = q.marker_key();
                if let Some(waiters) = self.busy.get_mut(&mk) {
                    waiters.push_back((pkt, msg.clone()));
                    return Vec::new();
                }
                self.busy.insert(mk, VecDeque::new());
                let w = Work::Pop {
                    r: r.clone(),
                    q,
                    head: Vec::new(),
                    value: Vec::new(),
                    stage: PopStage::Next,
                };
                self.pop_head(h, job(w), now)
            }
            _ => fail(code(DKC_RES_ERROR, DKC_RES_SUBCODE_INVAL)),
        }
    }

    /// QPUSH: store the entry (its value, or the user key for a key queue).
    fn push_item(&mut self, mut j: Job, now: Ts) -> Vec<Action> {
        let Work::Push { r, item, stage, .. } = &mut j.work else {
            return Vec::new();
        };
        *stage = PushStage::Item;
        let keyqueue = !r.key.is_empty();
        let body = Body::Set(SetReq {
            key: item.clone(),
            val: if keyqueue {
                r.key.clone()
            } else {
                r.val.clone()
            },
            attrs: r.attrs.clone(),
            encpass: r.encpass.clone(),
            expire: r.expire,
            enable_expire: r.enable_expire,
            rm_subkeylist: true,
            queue_type: if keyqueue {
                DKC_QUEUE_TYPE_KEYQUEUE
            } else {
                DKC_QUEUE_TYPE_QUEUE
            },
        });
        let key = item.clone();
        self.sub(j, DKC_COM_SET, body, &key, now)
    }

    /// QPOP: the next head of the queue (None: empty).
    fn pop_head(&mut self, h: &Handler, mut j: Job, now: Ts) -> Vec<Action> {
        let Work::Pop {
            q, head, stage, r, ..
        } = &mut j.work
        else {
            return Vec::new();
        };
        let marker = q.marker(h.db()).unwrap_or_default();
        if marker.start.is_empty() {
            let mk = q.marker_key();
            let mut out = vec![Self::reply(
                &j,
                code(DKC_RES_ERROR, DKC_RES_SUBCODE_GETPOPQUEUENAME),
            )];
            out.extend(self.finish_queue(h, &mk, now));
            return out;
        }
        *head = marker.start.clone();
        *stage = PopStage::Next;
        let body = Body::GetSubkeys(GetSubkeysReq {
            key: head.clone(),
            check_attr: r.check_attr,
        });
        let key = head.clone();
        self.sub(j, DKC_COM_GET_SUBKEYS, body, &key, now)
    }

    /// A queue's operation is over: copy its marker, start the next waiting request.
    fn finish_queue(&mut self, h: &Handler, mk: &[u8], now: Ts) -> Vec<Action> {
        let mut out = Vec::new();
        if let Some((hash, copy)) = h.copy_of(mk, now) {
            out.push(Action::Replicate { hash, msg: copy });
        }
        let next = self.busy.get_mut(mk).and_then(|w| w.pop_front());
        let rest = self.busy.remove(mk).unwrap_or_default();
        if let Some((pkt, msg)) = next {
            out.extend(self.start(h, pkt, &msg, now));
            if let Some(w) = self.busy.get_mut(mk) {
                w.extend(rest);
            } else {
                for (p, m) in rest {
                    out.extend(self.start(h, p, &m, now));
                }
            }
        }
        out
    }

    /// The answer to one of our sub-requests.
    pub fn answer(&mut self, h: &Handler, msg: &Message, now: Ts) -> Vec<Action> {
        let Some(w) = self.waiting.remove(&msg.head.comnumber) else {
            return Vec::new();
        };
        let mut j = w.job;
        let ok = res_is_success(msg.head.restype);
        match &mut j.work {
            Work::Rename { oldkey } => {
                if !ok {
                    return vec![Self::reply(&j, code(DKC_RES_ERROR, DKC_RES_SUBCODE_SETALL))];
                }
                if h.db().remove(oldkey).is_err() {
                    return vec![Self::reply(&j, code(DKC_RES_ERROR, DKC_RES_SUBCODE_DELKEY))];
                }
                let (hash, copy) = h.repl_del(oldkey, now);
                vec![
                    Self::reply(&j, code(DKC_RES_SUCCESS, 0)),
                    Action::Replicate { hash, msg: copy },
                ]
            }
            Work::Push {
                q,
                marker,
                item,
                stage,
                r,
            } => {
                let mk = q.marker_key();
                if !ok {
                    let mut out = vec![Self::reply(
                        &j,
                        code(DKC_RES_ERROR, DKC_RES_SUBCODE_PUSHQUEUE),
                    )];
                    out.extend(self.finish_queue(h, &mk, now));
                    return out;
                }
                match *stage {
                    PushStage::UserKey => self.push_item(j, now),
                    PushStage::Item if !marker.start.is_empty() => {
                        // chain it: FIFO after the last entry, LIFO before the first
                        *stage = PushStage::Link;
                        let (parent, child) = if r.fifo {
                            (marker.end.clone(), item.clone())
                        } else {
                            (item.clone(), marker.start.clone())
                        };
                        let body = Body::AddSubkeys(AddSubkeysReq {
                            key: parent.clone(),
                            subkey: child,
                            check_attr: false,
                        });
                        self.sub(j, DKC_COM_ADD_SUBKEYS, body, &parent, now)
                    }
                    _ => {
                        let mut m = marker.clone();
                        if m.start.is_empty() {
                            m.start = item.clone();
                            m.end = item.clone();
                        } else if r.fifo {
                            m.end = item.clone();
                        } else {
                            m.start = item.clone();
                        }
                        let c = if q.set_marker(h.db(), &m).is_ok() {
                            code(DKC_RES_SUCCESS, 0)
                        } else {
                            code(DKC_RES_ERROR, DKC_RES_SUBCODE_SETMARKER)
                        };
                        let mut out = vec![Self::reply(&j, c)];
                        out.extend(self.finish_queue(h, &mk, now));
                        out
                    }
                }
            }
            Work::Pop {
                q,
                head,
                value,
                stage,
                r,
            } => {
                let mk = q.marker_key();
                match *stage {
                    PopStage::Next => {
                        // take the head off the marker
                        let next = match &msg.body {
                            Body::Subkeys(s) if ok => k2hash::lists::parse_subkeys(&s.subkeys)
                                .into_iter()
                                .next()
                                .unwrap_or_default(),
                            _ => Vec::new(),
                        };
                        let mut m = q.marker(h.db()).unwrap_or_default();
                        m.start = next;
                        if m.start.is_empty() {
                            m.end.clear();
                        }
                        if q.set_marker(h.db(), &m).is_err() {
                            let mut out = vec![Self::reply(
                                &j,
                                code(DKC_RES_ERROR, DKC_RES_SUBCODE_SETMARKER),
                            )];
                            out.extend(self.finish_queue(h, &mk, now));
                            return out;
                        }
                        *stage = PopStage::Get;
                        let body = Body::Get(GetReq {
                            key: head.clone(),
                            encpass: r.encpass.clone(),
                            check_attr: true,
                        });
                        let key = head.clone();
                        self.sub(j, DKC_COM_GET, body, &key, now)
                    }
                    PopStage::Get => {
                        *value = match &msg.body {
                            Body::Val(v) if ok => v.val.clone(),
                            _ => Vec::new(),
                        };
                        *stage = PopStage::Del;
                        let body = Body::Del(DelReq { key: head.clone() });
                        let key = head.clone();
                        self.sub(j, DKC_COM_DEL, body, &key, now)
                    }
                    PopStage::Del if value.is_empty() => {
                        // expired or unreadable entry: on to the next one
                        self.pop_head(h, j, now)
                    }
                    PopStage::Del if r.keyqueue => {
                        *stage = PopStage::KeyGet;
                        let body = Body::Get(GetReq {
                            key: value.clone(),
                            encpass: r.encpass.clone(),
                            check_attr: true,
                        });
                        let key = value.clone();
                        self.sub(j, DKC_COM_GET, body, &key, now)
                    }
                    PopStage::KeyGet => {
                        let v = match &msg.body {
                            Body::Val(v) if ok => v.val.clone(),
                            _ => Vec::new(),
                        };
                        let userkey = std::mem::replace(value, v);
                        *head = userkey.clone();
                        *stage = PopStage::KeyDel;
                        let body = Body::Del(DelReq {
                            key: userkey.clone(),
                        });
                        self.sub(j, DKC_COM_DEL, body, &userkey, now)
                    }
                    PopStage::Del | PopStage::KeyDel => {
                        let key = if *stage == PopStage::KeyDel {
                            cstr_or(head)
                        } else {
                            Vec::new()
                        };
                        let answer = Action::Reply {
                            to: j.client,
                            msg: Message {
                                head: Head::response(&j.req, code(DKC_RES_SUCCESS, 0), 0),
                                body: Body::QpopAnswer(QpopRes {
                                    key,
                                    val: value.clone(),
                                }),
                            },
                        };
                        let mut out = vec![answer];
                        out.extend(self.finish_queue(h, &mk, now));
                        out
                    }
                }
            }
        }
    }

    /// Composites whose sub-request got no answer in time fail (a queue is released).
    pub fn expire(&mut self, h: &Handler, now: Ts) -> Vec<Action> {
        let late: Vec<u64> = self
            .waiting
            .iter()
            .filter(|(_, w)| now.sec - w.since > self.timeout_sec)
            .map(|(n, _)| *n)
            .collect();
        let mut out = Vec::new();
        for n in late {
            let Some(w) = self.waiting.remove(&n) else {
                continue;
            };
            let j = w.job;
            let (sub, mk) = match &j.work {
                Work::Rename { .. } => (DKC_RES_SUBCODE_SETALL, None),
                Work::Push { q, .. } => (DKC_RES_SUBCODE_PUSHQUEUE, Some(q.marker_key())),
                Work::Pop { q, .. } => (DKC_RES_SUBCODE_POPQUEUE, Some(q.marker_key())),
            };
            out.push(Self::reply(&j, code(DKC_RES_ERROR, sub)));
            if let Some(mk) = mk {
                out.extend(self.finish_queue(h, &mk, now));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k2hash::{K2h, Layout};

    fn handler() -> Handler {
        let db = K2h::open_mem(Layout::default()).unwrap();
        db.set_common_attr(Some(true), None, None, None, None)
            .unwrap();
        Handler::new(db)
    }

    fn pkt() -> ComPkt {
        let head = chmpx_core::wire::ComHead::c2c(
            chmpx_core::wire::COM_C2C_ROUTING,
            chmpx_core::wire::PckId {
                chmpxid: 1,
                msgid: 2,
            },
            chmpx_core::wire::PckId::INVALID,
            0,
            chmpx_core::wire::Timespec::default(),
        );
        let f = chmpx_core::wire::Frame::new(head, b"x".to_vec()).encode();
        ComPkt::decode(&f).unwrap()
    }

    const NOW: Ts = Ts {
        sec: 1_800_000_000,
        nsec: 0,
    };

    fn ren(old: &[u8], new: &[u8]) -> Message {
        Message {
            head: Head::request(DKC_COM_REN, 0),
            body: Body::Ren(RenReq {
                oldkey: old.to_vec(),
                newkey: new.to_vec(),
                encpass: vec![],
                check_attr: true,
            }),
        }
    }

    #[test]
    fn rename_through_another_server() {
        let here = handler();
        let there = handler();
        let set = Message {
            head: Head::request(DKC_COM_SET, 0),
            body: Body::Set(SetReq {
                key: b"old\0".to_vec(),
                val: b"v\0".to_vec(),
                ..SetReq::default()
            }),
        };
        here.handle(&set, NOW);
        let mut c = Composites::new(1000);
        let acts = c.start(&here, pkt(), &ren(b"old\0", b"new\0"), NOW);
        let [Action::Send { hash, msg }] = acts.as_slice() else {
            panic!("{acts:?}")
        };
        assert_eq!(*hash, k2hash::hash::hash(b"new\0"));
        // the owner of the new key stores it and answers
        let out = there.handle(msg, NOW);
        let answer = out.reply.unwrap();
        assert!(c.is_ours(&answer.head));
        let acts = c.answer(&here, &answer, NOW);
        assert!(matches!(&acts[0], Action::Reply { msg, .. } if msg.head.restype == 0));
        assert!(matches!(
            &acts[1],
            Action::Replicate {
                msg: Message {
                    body: Body::ReplDel(_),
                    ..
                },
                ..
            }
        ));
        assert_eq!(here.read(b"old\0", true, None), None);
        assert_eq!(there.read(b"new\0", true, None), Some(b"v\0".to_vec()));
        // a missing key, and a sub-request that never gets an answer
        let acts = c.start(&here, pkt(), &ren(b"none\0", b"x\0"), NOW);
        assert!(
            matches!(&acts[0], Action::Reply { msg, .. } if msg.head.restype == compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_NODATA))
        );
        here.handle(&set, NOW);
        c.start(&here, pkt(), &ren(b"old\0", b"lost\0"), NOW);
        assert!(c.expire(&here, NOW).is_empty());
        let later = Ts {
            sec: NOW.sec + 60,
            nsec: 0,
        };
        let acts = c.expire(&here, later);
        assert!(
            matches!(&acts[0], Action::Reply { msg, .. } if msg.head.restype == compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_SETALL))
        );
        assert_eq!(
            here.read(b"old\0", true, None),
            Some(b"v\0".to_vec()),
            "nothing lost"
        );
    }

    /// Runs a composite on a one-server cluster: every sub-request is answered by `h` itself;
    /// returns what the client got.
    fn run_local(c: &mut Composites, h: &Handler, msg: &Message) -> Vec<Message> {
        let mut todo = c.start(h, pkt(), msg, NOW);
        let mut got = Vec::new();
        while let Some(a) = todo.pop() {
            match a {
                Action::Send { msg, .. } => {
                    let out = h.handle(&msg, NOW);
                    if let Some(answer) = out.reply {
                        todo.extend(c.answer(h, &answer, NOW));
                    }
                }
                Action::Reply { msg, .. } => got.push(msg),
                Action::Replicate { .. } => {}
            }
        }
        got
    }

    fn push(prefix: &[u8], val: &[u8], key: &[u8], fifo: bool) -> Message {
        Message {
            head: Head::request(DKC_COM_QPUSH, 0),
            body: Body::Qpush(QpushReq {
                is_fifo: fifo,
                prefix: prefix.to_vec(),
                key: key.to_vec(),
                val: val.to_vec(),
                fifo,
                check_attr: true,
                ..QpushReq::default()
            }),
        }
    }

    fn pop(prefix: &[u8], fifo: bool, keyqueue: bool) -> Message {
        Message {
            head: Head::request(DKC_COM_QPOP, 0),
            body: Body::Qpop(QpopReq {
                prefix: prefix.to_vec(),
                encpass: vec![],
                check_attr: true,
                fifo,
                keyqueue,
            }),
        }
    }

    fn popped(m: &[Message]) -> (u64, Vec<u8>, Vec<u8>) {
        let [m] = m else { panic!("{m:?}") };
        match &m.body {
            Body::QpopAnswer(r) => (m.head.restype, r.key.clone(), r.val.clone()),
            _ => (m.head.restype, vec![], vec![]),
        }
    }

    #[test]
    fn queues_fifo_lifo_and_key_queues() {
        let h = handler();
        let mut c = Composites::new(1000);
        for v in [&b"one"[..], b"two", b"three"] {
            let r = run_local(&mut c, &h, &push(b"fq", v, b"", true));
            assert_eq!(r[0].head.restype, 0);
        }
        for v in [&b"one"[..], b"two", b"three"] {
            assert_eq!(
                popped(&run_local(&mut c, &h, &pop(b"fq", true, false))),
                (0, vec![], v.to_vec())
            );
        }
        let empty = popped(&run_local(&mut c, &h, &pop(b"fq", true, false)));
        assert_eq!(
            empty.0,
            compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_GETPOPQUEUENAME)
        );
        for v in [&b"a"[..], b"b", b"c"] {
            run_local(&mut c, &h, &push(b"lq", v, b"", false));
        }
        for v in [&b"c"[..], b"b", b"a"] {
            assert_eq!(
                popped(&run_local(&mut c, &h, &pop(b"lq", false, false))).2,
                v.to_vec()
            );
        }
        // a key queue stores the key and its value; a pop returns both and removes the key
        run_local(&mut c, &h, &push(b"kq", b"val\0", b"user\0", true));
        assert_eq!(h.read(b"user\0", true, None), Some(b"val\0".to_vec()));
        let (code, key, val) = popped(&run_local(&mut c, &h, &pop(b"kq", true, true)));
        assert_eq!(
            (code, key.as_slice(), val.as_slice()),
            (0, &b"user\0"[..], &b"val\0"[..])
        );
        assert_eq!(h.read(b"user\0", true, None), None);
        // two requests for one queue at once: the second waits for the first
        let first = c.start(&h, pkt(), &push(b"cq", b"x", b"", true), NOW);
        assert!(c
            .start(&h, pkt(), &push(b"cq", b"y", b"", true), NOW)
            .is_empty());
        assert_eq!(first.len(), 1);
    }
}
