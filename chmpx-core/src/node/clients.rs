//! Local clients of a chmpx (`Input::Client`, `Input::ClientGone`): their attach (hello,
//! msgids), sends and replies, the links they ask for, the merge channel's answers, reports,
//! and what their departure releases.
use super::*;

impl Node {
    pub(super) fn reply(&mut self, client: ClientId, resp: Response) {
        self.out.push(Output::ToClient { client, resp });
    }

    fn alloc_msgid(&mut self, client: ClientId) -> Option<u64> {
        let c = self.clients.get(&client)?;
        if !c.on_server && c.msgids.len() as i64 >= self.cfg.max_mq_per_client.max(1) * 64 {
            return None;
        }
        let id = self.free_msgids.pop_front()?;
        self.msgid_owner.insert(id, client);
        self.clients.get_mut(&client)?.msgids.push(id);
        Some(id)
    }

    pub(super) fn client(&mut self, client: ClientId, req: Request) {
        if matches!(
            req,
            Request::MergeLastTs { .. }
                | Request::MergeData { .. }
                | Request::MergeResult { .. }
                | Request::MergeSetDone { .. }
        ) {
            return self.merge_client_request(client, req);
        }
        if let Request::MergeHello { version, .. } = req {
            if version != crate::ipc::IPC_VERSION || !self.is_server {
                self.reply(
                    client,
                    Response::Refused {
                        reason: "no merge channel here".into(),
                    },
                );
                return self.out.push(Output::CloseClient { client });
            }
            return self.merge_client_joined(client);
        }
        if !self.clients.contains_key(&client)
            && !matches!(req, Request::Hello { .. } | Request::Dump | Request::Status)
        {
            self.reply(
                client,
                Response::Refused {
                    reason: "Hello first".into(),
                },
            );
            self.out.push(Output::CloseClient { client });
            return;
        }
        match req {
            Request::Hello {
                version,
                pid,
                on_server,
                merge,
            } => {
                if version != crate::ipc::IPC_VERSION {
                    self.reply(
                        client,
                        Response::Refused {
                            reason: format!("local protocol version {version} not supported"),
                        },
                    );
                    return self.out.push(Output::CloseClient { client });
                }
                if on_server != self.is_server {
                    let why = if on_server {
                        "this chmpx is a slave"
                    } else {
                        "this chmpx is a server"
                    };
                    self.reply(client, Response::Refused { reason: why.into() });
                    return self.out.push(Output::CloseClient { client });
                }
                self.clients.insert(
                    client,
                    Client {
                        pid,
                        on_server,
                        msgids: Vec::new(),
                        links: false,
                        serves_links: false,
                    },
                );
                let msgid = if on_server {
                    self.alloc_msgid(client)
                } else {
                    Some(CHM_INVALID_MSGID)
                };
                let Some(msgid) = msgid else {
                    self.clients.remove(&client);
                    self.reply(
                        client,
                        Response::Refused {
                            reason: "no free msgid (MAXMQCLIENT)".into(),
                        },
                    );
                    return self.out.push(Output::CloseClient { client });
                };
                self.reply(
                    client,
                    Response::Welcome {
                        chmpxid: self.chmpxid,
                        msgid,
                        is_server: self.is_server,
                        pid: self.pid,
                        group: self.cfg.group.clone(),
                    },
                );
                if on_server && merge {
                    // the first client counts once its merge channel is open
                    self.merge.awaited.push(client);
                } else if on_server {
                    self.client_joined();
                }
            }
            Request::Open => {
                let msgid = self.alloc_msgid(client).unwrap_or(CHM_INVALID_MSGID);
                self.reply(client, Response::Opened { msgid });
            }
            Request::Close { msgid } => {
                let ok = self.msgid_owner.get(&msgid) == Some(&client);
                if ok {
                    self.release_msgid(msgid);
                }
                self.reply(client, Response::Done { ok });
            }
            Request::Send {
                msgid,
                c2ctype,
                hash,
                body,
            } => {
                let n = self.client_send(client, msgid, c2ctype, hash, body);
                self.reply(client, Response::Sent { receivers: n });
            }
            Request::Post {
                msgid,
                c2ctype,
                hash,
                body,
            } => {
                if self.client_send(client, msgid, c2ctype, hash, body) <= 0 {
                    self.reply(client, Response::NotSent { msgid });
                }
            }
            Request::Reply { pkt, body } => {
                let ok = self.client_reply(client, &pkt, body);
                if !ok {
                    log::error!(
                        "could not route a reply to 0x{:016x}",
                        pkt.head.dept_ids.chmpxid
                    );
                }
            }
            Request::Dump => {
                let text = crate::ctl::dump_text(self);
                self.reply(client, Response::DumpText { text });
            }
            Request::Status => {
                let data = Snapshot::of(self).encode();
                self.reply(client, Response::StatusData { data });
            }
            Request::Links => self.links_request(client),
            Request::ServeLinks => self.serve_links(client),
            Request::LinkFrame { data } => self.link_frame_back(&data),
            Request::LinkCounts {
                servers,
                slaves,
                trace,
            } => {
                self.stats.servers.merge(&servers);
                self.stats.slaves.merge(&slaves);
                self.trace_links(trace);
            }
            // merge-channel requests were dispatched above
            Request::MergeHello { .. }
            | Request::MergeLastTs { .. }
            | Request::MergeData { .. }
            | Request::MergeResult { .. }
            | Request::MergeSetDone { .. } => {}
        }
    }

    fn release_msgid(&mut self, msgid: u64) {
        if let Some(owner) = self.msgid_owner.remove(&msgid) {
            if let Some(c) = self.clients.get_mut(&owner) {
                c.msgids.retain(|m| *m != msgid);
            }
            self.free_msgids.push_back(msgid);
        }
    }

    pub(super) fn client_gone(&mut self, client: ClientId) {
        self.merge_client_gone(client);
        let Some(c) = self.clients.remove(&client) else {
            return;
        };
        if c.links {
            self.linked_clients = self.linked_clients.saturating_sub(1);
        }
        for m in c.msgids {
            self.msgid_owner.remove(&m);
            self.free_msgids.push_back(m);
        }
        if c.on_server && !self.clients.values().any(|c| c.on_server) {
            self.do_suspend();
        }
    }

    /// The first client of a server attached: no longer suspended, and with AUTOMERGE
    /// (not suspended ring-wide) the server enters the ring.
    /// The first client-on-server clears SUSPEND; a SERVICE IN server that was suspended
    /// (restarted) becomes PENDING so a merge brings it what it missed.
    pub(super) fn client_joined(&mut self) {
        let s = self.self_rec.status;
        if ring::is_suspend(s) {
            let bare = s & !CHMPXSTS_MASK_SUSPEND;
            let next = if bare == CHMPXSTS_SRVIN_UP_NORMAL {
                CHMPXSTS_SRVIN_UP_PENDING
            } else {
                bare
            };
            self.set_self_status(next);
        }
        self.auto_merge();
    }

    fn client_send(
        &mut self,
        client: ClientId,
        msgid: u64,
        c2ctype: u64,
        hash: u64,
        body: Vec<u8>,
    ) -> i64 {
        let Some(c) = self.clients.get(&client) else {
            return -1;
        };
        let msgid = if c.on_server {
            c.msgids.first().copied().unwrap_or(CHM_INVALID_MSGID)
        } else if c.msgids.contains(&msgid) {
            msgid
        } else {
            log::error!("client sends from msgid 0x{msgid:016x}, which is not its own");
            return -1;
        };
        if body.is_empty() {
            return -1;
        }
        self.trace(CHMLOG_TYPE_INPUT | CHMLOG_TYPE_MQ, body.len());
        let receivers = match self.ring.receivers(self.chmpxid, hash, c2ctype) {
            Ok(r) if !r.is_empty() => r,
            Ok(_) => {
                // a broadcast or replication that no other server takes (NOT_SELF while the
                // others that hold the hash are down or waiting for their merge): sent to
                // nobody, which the original counts as a success (`GetReceiverChmpxids`
                // gives 0, the send returns true with a warning)
                log::warn!(
                    "There are no target chmpxids for hash 0x{hash:016x}, but the send succeeds."
                );
                return 0;
            }
            Err(e) => {
                log::error!("{e}");
                return -1;
            }
        };
        let dept = PckId {
            chmpxid: self.chmpxid,
            msgid,
        };
        let mut n = 0i64;
        for id in &receivers {
            let head = ComHead::c2c(
                c2ctype,
                dept,
                PckId {
                    chmpxid: *id,
                    msgid: CHM_INVALID_MSGID,
                },
                hash,
                self.now,
            );
            if *id == self.chmpxid {
                if self.deliver_local(Frame::new(head, body.clone())) {
                    n += 1;
                }
            } else if self.send_to(*id, Frame::encode_parts(head, &body)) {
                self.c2c_sent(*id, body.len());
                n += 1;
            }
        }
        if n == 0 {
            -1
        } else {
            receivers.len() as i64
        }
    }

    fn client_reply(&mut self, client: ClientId, req: &ComPkt, body: Vec<u8>) -> bool {
        let Some(c) = self.clients.get(&client) else {
            return false;
        };
        let mut head = reply_head(req);
        // Our side of the conversation: the msgid that received the request.
        if head.dept_ids.msgid == CHM_INVALID_MSGID || !c.msgids.contains(&head.dept_ids.msgid) {
            head.dept_ids.msgid = c.msgids.first().copied().unwrap_or(CHM_INVALID_MSGID);
        }
        head.dept_ids.chmpxid = self.chmpxid;
        head.reqtime = self.now;
        self.trace(CHMLOG_TYPE_INPUT | CHMLOG_TYPE_MQ, body.len());
        let target = head.term_ids.chmpxid;
        if target == self.chmpxid {
            return self.deliver_local(Frame::new(head, body));
        }
        if let Some(&conn) = self.reply_conn.get(&(target, head.term_ids.msgid)) {
            self.out.push(Output::Send {
                conn,
                data: Frame::encode_parts(head, &body),
            });
            self.c2c_sent(target, body.len());
            return true;
        }
        let ok = self.send_to(target, Frame::encode_parts(head, &body));
        if ok {
            self.c2c_sent(target, body.len());
        }
        ok
    }
}
