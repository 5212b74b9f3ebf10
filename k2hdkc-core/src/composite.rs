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

use std::collections::HashMap;

use chmpx_core::wire::ComPkt;

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

enum Pending {
    /// REN waiting for the SET_ALL of the new key.
    Rename {
        client: ComPkt,
        req: Head,
        oldkey: Vec<u8>,
    },
}

struct Waiting {
    what: Pending,
    since: i64,
}

/// Sub-request numbers start here (clients send 0, or their own comlog numbers).
const FIRST_NUMBER: u64 = 0xD4C0_0000_0000_0001;

pub struct Composites {
    next: u64,
    waiting: HashMap<u64, Waiting>,
    /// Seconds a sub-request may take.
    timeout_sec: i64,
}

impl Composites {
    pub fn new(timeout_ms: i64) -> Composites {
        Composites {
            next: FIRST_NUMBER,
            waiting: HashMap::new(),
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

    /// A composite request from a client (`pkt` is its packet, to answer on).
    pub fn start(&mut self, h: &Handler, pkt: ComPkt, msg: &Message, now: Ts) -> Vec<Action> {
        let fail = |code| {
            vec![Action::Reply {
                to: pkt,
                msg: empty_response(&msg.head, code),
            }]
        };
        match &msg.body {
            Body::Ren(r) => {
                let pass = crate::handler::pass(&r.encpass);
                if r.check_attr || pass.is_some() {
                    // the value must be readable as the client asks
                    if h.read(&r.oldkey, r.check_attr, pass.as_deref()).is_none() {
                        return fail(compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_GETVAL));
                    }
                }
                let Some(el) = h.raw(&r.oldkey) else {
                    return fail(compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_GETVAL));
                };
                let n = self.number();
                self.waiting.insert(
                    n,
                    Waiting {
                        what: Pending::Rename {
                            client: pkt,
                            req: msg.head,
                            oldkey: r.oldkey.clone(),
                        },
                        since: now.sec,
                    },
                );
                vec![Action::Send {
                    hash: k2hash::hash::hash(&r.newkey),
                    msg: Message {
                        head: Head::request(DKC_COM_SET_ALL, n),
                        body: Body::SetAll(SetAllReq {
                            key: r.newkey.clone(),
                            val: el.value,
                            subkeys: el.subkeys,
                            attrs: el.attrs,
                        }),
                    },
                }]
            }
            _ => fail(compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_INVAL)),
        }
    }

    /// The answer to one of our sub-requests.
    pub fn answer(&mut self, h: &Handler, msg: &Message, now: Ts) -> Vec<Action> {
        let Some(w) = self.waiting.remove(&msg.head.comnumber) else {
            return Vec::new();
        };
        match w.what {
            Pending::Rename {
                client,
                req,
                oldkey,
            } => {
                if !res_is_success(msg.head.restype) {
                    return vec![Action::Reply {
                        to: client,
                        msg: empty_response(
                            &req,
                            compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_SETALL),
                        ),
                    }];
                }
                if h.db().remove(&oldkey).is_err() {
                    return vec![Action::Reply {
                        to: client,
                        msg: empty_response(
                            &req,
                            compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_DELKEY),
                        ),
                    }];
                }
                let (hash, copy) = h.repl_del(&oldkey, now);
                vec![
                    Action::Reply {
                        to: client,
                        msg: empty_response(&req, compose_res(DKC_RES_SUCCESS, 0)),
                    },
                    Action::Replicate { hash, msg: copy },
                ]
            }
        }
    }

    /// Composites whose sub-request got no answer in time fail.
    pub fn expire(&mut self, now: Ts) -> Vec<Action> {
        let late: Vec<u64> = self
            .waiting
            .iter()
            .filter(|(_, w)| now.sec - w.since > self.timeout_sec)
            .map(|(n, _)| *n)
            .collect();
        let mut out = Vec::new();
        for n in late {
            if let Some(w) = self.waiting.remove(&n) {
                let Pending::Rename { client, req, .. } = w.what;
                out.push(Action::Reply {
                    to: client,
                    msg: empty_response(&req, compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_SETALL)),
                });
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
            matches!(&acts[0], Action::Reply { msg, .. } if msg.head.restype == compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_GETVAL))
        );
        here.handle(&set, NOW);
        c.start(&here, pkt(), &ren(b"old\0", b"lost\0"), NOW);
        assert!(c.expire(NOW).is_empty());
        let later = Ts {
            sec: NOW.sec + 60,
            nsec: 0,
        };
        let acts = c.expire(later);
        assert!(
            matches!(&acts[0], Action::Reply { msg, .. } if msg.head.restype == compose_res(DKC_RES_ERROR, DKC_RES_SUBCODE_SETALL))
        );
        assert_eq!(
            here.read(b"old\0", true, None),
            Some(b"v\0".to_vec()),
            "nothing lost"
        );
    }
}
