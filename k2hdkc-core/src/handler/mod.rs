//! What a k2hdkc server does with one primitive request (spec §3.3, §3.6, §3.7), on its
//! k2hash: no chmpx, no threads, no clock inside (the time comes in), so it is tested
//! directly. The answer and the replication to send after it come back as an [`Outcome`];
//! the server sends the answer first and then the copy (REPL_KEY / REPL_DEL to every other
//! server the key's hash names), as the original does.
//!
//! Composite requests that need answers of other servers (REN, QPUSH, QPOP) are in
//! `composite`; K2HSTATE takes chmpx's view of this server as an argument.

use std::sync::{Arc, Mutex, MutexGuard};

use k2hash::lists;
use k2hash::replicate::{self, RawElement};
use k2hash::{Element, K2h, Parts, Protect};

use crate::wire::*;

/// What to do after handling a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The answer (None: the original sends none, e.g. GET_ATTR of a missing attribute).
    pub reply: Option<Message>,
    /// A copy for the other servers of the key: (routing hash, REPL_KEY or REPL_DEL).
    pub replicate: Option<(u64, Message)>,
}

/// Stripes of the per-key lock of read-compare-write requests (CAS, subkey list edits).
const LOCK_STRIPES: usize = 64;

/// The request handler of one server: its k2hash and the key locks.
pub struct Handler {
    db: Arc<K2h>,
    locks: Vec<Mutex<()>>,
}

fn ok() -> u64 {
    compose_res(DKC_RES_SUCCESS, DKC_RES_SUBCODE_NOTHING)
}
fn nodata() -> u64 {
    compose_res(DKC_RES_SUCCESS, DKC_RES_SUBCODE_NODATA)
}
fn err(sub: u64) -> u64 {
    compose_res(DKC_RES_ERROR, sub)
}

/// The pass phrase of a request (sent with its NUL; empty = none).
pub(crate) fn pass(p: &[u8]) -> Option<String> {
    let p = p.strip_suffix(b"\0").unwrap_or(p);
    (!p.is_empty()).then(|| String::from_utf8_lossy(p).into_owned())
}

fn expire(enable: bool, secs: i64) -> Option<i64> {
    enable.then_some(secs)
}

impl Handler {
    pub fn new(db: K2h) -> Handler {
        Handler::with_shared(Arc::new(db))
    }

    /// A handler on a database that is also registered elsewhere (a libk2hash handle for
    /// the transaction plugin).
    pub fn with_shared(db: Arc<K2h>) -> Handler {
        Handler {
            db,
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    pub fn db(&self) -> &K2h {
        &self.db
    }

    fn lock(&self, key: &[u8]) -> MutexGuard<'_, ()> {
        let i = (k2hash::hash::hash(key) as usize) % LOCK_STRIPES;
        self.locks[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Handles one request received at time `now` (the completion time of mutations, which
    /// the copies carry).
    pub fn handle(&self, msg: &Message, now: Ts) -> Outcome {
        let req = &msg.head;
        let reply = |restype: u64, body: Body| Message {
            head: Head::response(req, restype, 0),
            body,
        };
        let plain = |code: u64| Outcome {
            reply: Some(empty_response(req, code)),
            replicate: None,
        };
        match &msg.body {
            Body::Get(m) => self.get_value(req, &m.key, m.check_attr, &m.encpass),
            Body::CasGet(m) => self.get_value(req, &m.key, m.check_attr, &m.encpass),
            Body::GetDirect(m) => {
                if m.val_pos < 0 || m.val_length == 0 {
                    return plain(err(DKC_RES_SUBCODE_INVAL));
                }
                match self.db.db().get(&m.key, Parts::VALUE) {
                    Ok(Some(el)) => {
                        let start = (m.val_pos as u64).min(el.value.len() as u64) as usize;
                        let end = start
                            .saturating_add(m.val_length as usize)
                            .min(el.value.len());
                        let part = el.value[start..end].to_vec();
                        if part.is_empty() {
                            plain(nodata())
                        } else {
                            Outcome {
                                reply: Some(reply(ok(), Body::Val(ValRes { val: part }))),
                                replicate: None,
                            }
                        }
                    }
                    _ => plain(err(DKC_RES_SUBCODE_DIRECTOPEN)),
                }
            }
            Body::GetSubkeys(m) => match self.db.get_subkeys(&m.key, m.check_attr) {
                Ok(Some(list)) => Outcome {
                    reply: Some(reply(
                        ok(),
                        Body::Subkeys(SubkeysRes {
                            subkeys: lists::serialize_subkeys(&list),
                        }),
                    )),
                    replicate: None,
                },
                _ => plain(nodata()),
            },
            Body::GetAttrs(m) => match self.db.get_attrs(&m.key) {
                Ok(Some(list)) => Outcome {
                    reply: Some(reply(
                        ok(),
                        Body::Attrs(AttrsRes {
                            attrs: lists::serialize_attrs(&list),
                        }),
                    )),
                    replicate: None,
                },
                _ => plain(nodata()),
            },
            Body::GetAttr(m) => {
                let found = self
                    .db
                    .get_attrs(&m.key)
                    .ok()
                    .flatten()
                    .and_then(|list| lists::get_attr(&list, &m.attr).map(<[u8]>::to_vec));
                Outcome {
                    // the original answers nothing when the attribute is missing
                    reply: found.map(|v| reply(ok(), Body::AttrVal(AttrValRes { attrval: v }))),
                    replicate: None,
                }
            }
            Body::Set(m) => {
                let _g = self.lock(&m.key);
                // the value; with rm_subkeylist the list is emptied (its keys stay)
                let r = self
                    .db
                    .set_value(
                        &m.key,
                        &m.val,
                        pass(&m.encpass).as_deref(),
                        expire(m.enable_expire, m.expire),
                    )
                    .and_then(|()| {
                        if m.rm_subkeylist {
                            self.set_subkeys(&m.key, &[], now)
                        } else {
                            Ok(())
                        }
                    });
                self.mutated(req, &m.key, r.is_ok(), DKC_RES_SUBCODE_SETVAL, now)
            }
            Body::SetDirect(m) => {
                if m.val_pos < 0 {
                    return plain(err(DKC_RES_SUBCODE_DIRECTOPEN));
                }
                let _g = self.lock(&m.key);
                let r = self.db.overwrite_value(&m.key, m.val_pos as usize, &m.val);
                self.mutated(req, &m.key, r.is_ok(), DKC_RES_SUBCODE_SETVAL, now)
            }
            Body::SetSubkeys(m) => {
                let _g = self.lock(&m.key);
                let list = lists::parse_subkeys(&m.subkeys);
                let r = self.set_subkeys(&m.key, &list, now);
                self.mutated(req, &m.key, r.is_ok(), DKC_RES_SUBCODE_SETSKEYLIST, now)
            }
            Body::SetAll(m) => {
                let _g = self.lock(&m.key);
                let el = Element {
                    value: m.val.clone(),
                    subkeys: m.subkeys.clone(),
                    attrs: m.attrs.clone(),
                };
                let r = self.db.put(&m.key, el);
                self.mutated(req, &m.key, r.is_ok(), DKC_RES_SUBCODE_SETALL, now)
            }
            Body::AddSubkeys(m) => {
                let _g = self.lock(&m.key);
                let mut list = self
                    .db
                    .get_subkeys(&m.key, m.check_attr)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                if !list.contains(&m.subkey) {
                    list.push(m.subkey.clone());
                }
                let r = self.set_subkeys(&m.key, &list, now);
                self.mutated(req, &m.key, r.is_ok(), DKC_RES_SUBCODE_ADDSKEYLIST, now)
            }
            Body::DelSubkeys(m) => {
                let _g = self.lock(&m.key);
                let Some(mut list) = self.db.get_subkeys(&m.key, m.check_attr).ok().flatten()
                else {
                    // nothing listed: success, nothing to copy
                    return plain(ok());
                };
                let Some(at) = list.iter().position(|s| *s == m.subkey) else {
                    return plain(err(DKC_RES_SUBCODE_DELSKEYLIST));
                };
                list.remove(at);
                let r = self.set_subkeys(&m.key, &list, now);
                self.mutated(req, &m.key, r.is_ok(), DKC_RES_SUBCODE_DELSKEYLIST, now)
            }
            Body::Del(m) => {
                let _g = self.lock(&m.key);
                match self.db.remove(&m.key) {
                    Ok(_) => Outcome {
                        reply: Some(empty_response(req, ok())),
                        replicate: Some(self.repl_del(&m.key, now)),
                    },
                    Err(_) => plain(err(DKC_RES_SUBCODE_DELKEY)),
                }
            }
            Body::CasInit(m) => {
                let _g = self.lock(&m.key);
                let r = self.db.set_value(
                    &m.key,
                    &m.val,
                    pass(&m.encpass).as_deref(),
                    expire(m.enable_expire, m.expire),
                );
                self.mutated(req, &m.key, r.is_ok(), DKC_RES_SUBCODE_SETVAL, now)
            }
            Body::CasSet(m) => {
                let _g = self.lock(&m.key);
                let p = pass(&m.encpass);
                let cur = self.read(&m.key, m.check_attr, p.as_deref());
                let Some(cur) = cur else {
                    return plain(err(DKC_RES_SUBCODE_NODATA));
                };
                if cur != m.oldval {
                    return plain(err(DKC_RES_SUBCODE_NOTSAMEVAL));
                }
                let r = self.db.set_value(
                    &m.key,
                    &m.newval,
                    p.as_deref(),
                    expire(m.enable_expire, m.expire),
                );
                self.mutated(req, &m.key, r.is_ok(), DKC_RES_SUBCODE_SETVAL, now)
            }
            Body::CasIncDec(m) => {
                let _g = self.lock(&m.key);
                let p = pass(&m.encpass);
                let Some(cur) = self.read(&m.key, m.check_attr, p.as_deref()) else {
                    return plain(err(DKC_RES_SUBCODE_NODATA));
                };
                let Some(next) = inc_dec(&cur, m.increment) else {
                    return plain(err(DKC_RES_SUBCODE_NOTSAMEDATATYPE));
                };
                let r = self.db.set_value(
                    &m.key,
                    &next,
                    p.as_deref(),
                    expire(m.enable_expire, m.expire),
                );
                self.mutated(req, &m.key, r.is_ok(), DKC_RES_SUBCODE_SETVAL, now)
            }
            Body::ReplKey(m) => {
                let e = RawElement {
                    hash: m.hash,
                    subhash: m.subhash,
                    key: m.key.clone(),
                    el: Element {
                        value: m.val.clone(),
                        subkeys: m.subkeys.clone(),
                        attrs: m.attrs.clone(),
                    },
                };
                match replicate::set_element(&self.db, &e, (m.ts.sec, m.ts.nsec)) {
                    Ok(()) => plain(ok()),
                    Err(_) => plain(err(DKC_RES_SUBCODE_REPL)),
                }
            }
            Body::ReplDel(m) => {
                let _g = self.lock(&m.key);
                let newer = self
                    .db
                    .db()
                    .get(&m.key, Parts::ATTRS)
                    .ok()
                    .flatten()
                    .and_then(|el| replicate::mtime(&lists::parse_attrs(&el.attrs)))
                    .is_some_and(|t| t > (m.ts.sec, m.ts.nsec));
                if newer {
                    return plain(err(DKC_RES_SUBCODE_REPL));
                }
                match self.db.delete(&m.key) {
                    Ok(_) => plain(ok()),
                    Err(_) => plain(err(DKC_RES_SUBCODE_REPL)),
                }
            }
            // not primitives of this handler
            _ => Outcome::default(),
        }
    }

    /// K2HSTATE: this server's node state (chmpx's view of itself and the k2hash figures), if
    /// the request is for this chmpx (`me`: chmpxid, name, base and pending hash; None when
    /// chmpx could not tell).
    pub fn k2hstate(&self, req: &Message, me: Option<(u64, &str, u64, u64)>) -> Outcome {
        let plain = |code| Outcome {
            reply: Some(empty_response(&req.head, code)),
            replicate: None,
        };
        let Body::K2hState(r) = &req.body else {
            return Outcome::default();
        };
        let Some((chmpxid, name, base, pending)) = me else {
            return plain(err(DKC_RES_SUBCODE_GETSLEFSVRCHMPX));
        };
        if chmpxid != r.chmpxid {
            return plain(err(DKC_RES_SUBCODE_NOTSAMECHMPXID));
        }
        if base != r.base_hash {
            log::warn!(
                "K2HSTATE for base hash 0x{:x}, this server has 0x{base:x}",
                r.base_hash
            );
        }
        let Ok(st) = k2hash::dump::state(self.db.db()) else {
            return plain(err(DKC_RES_SUBCODE_GETK2HSTATE));
        };
        let mut rec = Vec::with_capacity(NODESTATE_SIZE);
        rec.extend_from_slice(&chmpxid.to_le_bytes());
        let mut n = name.as_bytes().to_vec();
        n.resize(NODESTATE_NAME_SIZE, 0);
        n[NODESTATE_NAME_SIZE - 1] = 0;
        rec.extend_from_slice(&n);
        rec.extend_from_slice(&base.to_le_bytes());
        rec.extend_from_slice(&pending.to_le_bytes());
        rec.extend_from_slice(&k2hash::dump::state_record(
            &st,
            &k2hash::hash::active_version(),
        ));
        Outcome {
            reply: Some(Message {
                head: Head::response(&req.head, ok(), 0),
                body: Body::K2hStateAnswer(K2hStateRes { nodestate: rec }),
            }),
            replicate: None,
        }
    }

    /// Replaces the subkey list and stamps the element's mtime with `now`: k2hash leaves the
    /// attributes of a subkey-only change alone, and a copy whose mtime is not newer than the
    /// replica's is refused (§3.6), so without the stamp a new link of a queue or a new child
    /// in a list would never reach the replicas.
    fn set_subkeys(&self, key: &[u8], list: &[Vec<u8>], now: Ts) -> k2hash::Result<()> {
        let sk = lists::serialize_subkeys(list);
        self.db.modify(key, |old| {
            let mut a = old
                .map(|o| lists::parse_attrs(&o.attrs))
                .unwrap_or_default();
            lists::set_attr(
                &mut a,
                k2hash::attrs::ATTR_MTIME,
                &k2hash::attrs::timespec(now.sec, now.nsec),
            );
            Ok(k2hash::engine::Change::Replace {
                value: None,
                subkeys: Some(sk),
                attrs: Some(lists::serialize_attrs(&a)),
            })
        })?;
        Ok(())
    }

    /// The value as a GET shows it (attribute checks and pass phrase, or the stored bytes).
    pub(crate) fn read(&self, key: &[u8], check_attr: bool, p: Option<&str>) -> Option<Vec<u8>> {
        let protect = if check_attr {
            Protect::Yes(p)
        } else {
            Protect::No
        };
        self.db.get(key, protect).ok().flatten()
    }

    fn get_value(&self, req: &Head, key: &[u8], check_attr: bool, encpass: &[u8]) -> Outcome {
        let p = pass(encpass);
        match self.read(key, check_attr, p.as_deref()) {
            Some(v) if !v.is_empty() => Outcome {
                reply: Some(Message {
                    head: Head::response(req, ok(), 0),
                    body: Body::Val(ValRes { val: v }),
                }),
                replicate: None,
            },
            _ => Outcome {
                reply: Some(empty_response(req, nodata())),
                replicate: None,
            },
        }
    }

    /// The answer of a mutation, and on success the copy of what is stored now.
    fn mutated(&self, req: &Head, key: &[u8], done: bool, fail: u64, now: Ts) -> Outcome {
        if !done {
            return Outcome {
                reply: Some(empty_response(req, err(fail))),
                replicate: None,
            };
        }
        Outcome {
            reply: Some(empty_response(req, ok())),
            replicate: self.repl_key(key, now),
        }
    }

    /// The copy of `key` as stored now (REPL_KEY), for the server's own changes.
    pub(crate) fn copy_of(&self, key: &[u8], now: Ts) -> Option<(u64, Message)> {
        self.repl_key(key, now)
    }

    /// REPL_KEY of the stored element of `key`, read raw (ciphertext, every attribute).
    fn repl_key(&self, key: &[u8], now: Ts) -> Option<(u64, Message)> {
        let el = self.db.db().get(key, Parts::ALL).ok().flatten()?;
        let (hash, subhash) = k2hash::hash::hashes(key);
        Some((
            hash,
            Message {
                head: Head::request(DKC_COM_REPL_KEY, 0),
                body: Body::ReplKey(ReplKeyReq {
                    hash,
                    subhash,
                    key: key.to_vec(),
                    val: el.value,
                    subkeys: el.subkeys,
                    attrs: el.attrs,
                    ts: now,
                }),
            },
        ))
    }

    /// The stored element of `key` as it is (no attribute processing).
    pub(crate) fn raw(&self, key: &[u8]) -> Option<Element> {
        self.db.db().get(key, Parts::ALL).ok().flatten()
    }

    pub(crate) fn repl_del(&self, key: &[u8], now: Ts) -> (u64, Message) {
        let (hash, subhash) = k2hash::hash::hashes(key);
        (
            hash,
            Message {
                head: Head::request(DKC_COM_REPL_DEL, 0),
                body: Body::ReplDel(ReplDelReq {
                    hash,
                    subhash,
                    key: key.to_vec(),
                    ts: now,
                }),
            },
        )
    }
}

/// CAS_INCDEC: +-1 on a native-endian unsigned integer of 1, 2, 4 or 8 bytes (wrapping as
/// the original's unsigned arithmetic); None for any other length.
pub fn inc_dec(v: &[u8], up: bool) -> Option<Vec<u8>> {
    macro_rules! step {
        ($t:ty) => {{
            let x = <$t>::from_ne_bytes(v.try_into().ok()?);
            let y = if up {
                x.wrapping_add(1)
            } else {
                x.wrapping_sub(1)
            };
            y.to_ne_bytes().to_vec()
        }};
    }
    Some(match v.len() {
        1 => step!(u8),
        2 => step!(u16),
        4 => step!(u32),
        8 => step!(u64),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
