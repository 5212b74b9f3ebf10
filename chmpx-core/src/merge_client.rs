//! The client side of a merge: a second local connection of a client-on-server (the one that
//! registered merge callbacks), on which its chmpx asks and the client answers:
//! * `MergeGetLastTs` -> the time of the client's last update ([`MergeHandler::last_update`]);
//! * `MergeGet` -> every datum of a hash range, one `MergeData` each, then `MergeResult`
//!   ([`MergeHandler::get`], called until it says there is no more);
//! * `MergeSet` -> store a datum another server sent ([`MergeHandler::set`]);
//! * `MergeSetEnd` -> `MergeSetDone` once everything before it is stored;
//! * `MergeAbort` -> stop sending.
//!
//! One thread serves the channel ([`MergeChannel::serve`]); it ends when the channel closes
//! (chmpx stopped, or [`MergeChannel::stopper`] was used).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

use crate::client::{ClientError, Result};
use crate::ipc::{MergeGet, MsgReader, Request, Response, IPC_VERSION};
use crate::wire::Timespec;

/// What a client-on-server does for a merge (libchmpx calls the C callbacks from here).
pub trait MergeHandler {
    /// The time of the last update of the client's data (None: unknown, everything is asked).
    fn last_update(&mut self) -> Option<Timespec>;
    /// The data of `param` from hash `start` on: some datums and the hash to go on from
    /// (0 = nothing more), or None when it failed.
    fn get(&mut self, param: &MergeGet, start: u64) -> Option<(Vec<Vec<u8>>, u64)>;
    /// Stores one datum from another server (`ts` = when it was sent).
    fn set(&mut self, data: &[u8], ts: Timespec) -> bool;
}

pub struct MergeChannel {
    sock: UnixStream,
    reader: MsgReader,
    /// Messages read while a get was running.
    queued: VecDeque<Response>,
    /// The links the client serves, paused while the last update time is read
    /// (`crate::served`).
    pause: Option<std::sync::Arc<crate::served::LinkPause>>,
}

/// Most get calls for one request (a handler that never ends is stopped here).
const MAX_GET_CALLS: u64 = 1 << 40;

impl MergeChannel {
    /// Opens the merge channel to the chmpx of `group` / `ctlport`.
    pub fn open(group: &str, ctlport: i16) -> Result<MergeChannel> {
        let sock = crate::client::connect_socket(group, ctlport)?;
        let mut ch = MergeChannel {
            sock,
            reader: MsgReader::default(),
            queued: VecDeque::new(),
            pause: None,
        };
        ch.write(&Request::MergeHello {
            version: IPC_VERSION,
            pid: std::process::id(),
        })?;
        match ch.next(true)? {
            Some(Response::Done { ok: true }) => Ok(ch),
            Some(Response::Refused { reason }) => Err(ClientError::Refused(reason)),
            other => Err(ClientError::Protocol(format!(
                "unexpected answer to the merge hello: {other:?}"
            ))),
        }
    }

    /// Served links to pause while the last update time is read: what chmpx holds for the
    /// client meanwhile is then held on those links as well.
    pub fn set_link_pause(&mut self, pause: Option<std::sync::Arc<crate::served::LinkPause>>) {
        self.pause = pause;
    }

    /// A handle that stops [`serve`](Self::serve) from another thread (shut it down).
    pub fn stopper(&self) -> Option<UnixStream> {
        self.sock.try_clone().ok()
    }

    /// Stops a channel through its stopper.
    pub fn stop(stopper: &UnixStream) {
        let _ = stopper.shutdown(Shutdown::Both);
    }

    fn write(&mut self, req: &Request) -> Result<()> {
        self.sock
            .write_all(&req.encode())
            .map_err(|_| ClientError::Gone)
    }

    /// The next message; with `block` false only what is already readable.
    fn next(&mut self, block: bool) -> Result<Option<Response>> {
        loop {
            match self.reader.next_msg() {
                Ok(Some(m)) => {
                    return Response::decode(&m)
                        .map(Some)
                        .map_err(|e| ClientError::Protocol(e.to_string()))
                }
                Ok(None) => {}
                Err(e) => return Err(ClientError::Protocol(e.to_string())),
            }
            let _ = self.sock.set_nonblocking(!block);
            let mut buf = [0u8; 65536];
            let r = self.sock.read(&mut buf);
            let _ = self.sock.set_nonblocking(false);
            match r {
                Ok(0) => return Err(ClientError::Gone),
                Ok(n) => self.reader.feed(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err(ClientError::Gone),
            }
        }
    }

    /// Whether a message is waiting (complete in the buffer, or bytes on the socket).
    fn readable(&mut self) -> bool {
        if matches!(self.reader.next_msg_ready(), Ok(true)) {
            return true;
        }
        let mut fds = [libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&self.sock),
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: one valid pollfd for the duration of the call; no wait.
        unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) > 0 }
    }

    /// Serves chmpx's requests until the channel closes (then Err(Gone)).
    pub fn serve(&mut self, h: &mut dyn MergeHandler) -> Result<()> {
        let mut set_ok = true;
        loop {
            let msg = match self.queued.pop_front() {
                Some(m) => m,
                None => match self.next(true)? {
                    Some(m) => m,
                    None => continue,
                },
            };
            match msg {
                Response::MergeGetLastTs => self.answer_lastts(h)?,
                Response::MergeGet { requester, param } => {
                    let ok = self.send_range(h, requester, &param)?;
                    if let Some(ok) = ok {
                        self.write(&Request::MergeResult { requester, ok })?;
                    }
                }
                Response::MergeSet { ts, data } => set_ok &= h.set(&data, ts),
                Response::MergeSetEnd => {
                    self.write(&Request::MergeSetDone { ok: set_ok })?;
                    set_ok = true;
                }
                Response::MergeAbort => {}
                other => log::warn!("unexpected message on the merge channel: {other:?}"),
            }
        }
    }

    fn answer_lastts(&mut self, h: &mut dyn MergeHandler) -> Result<()> {
        if let Some(p) = &self.pause {
            p.pause();
        }
        let ts = h.last_update();
        if let Some(p) = &self.pause {
            p.resume();
        }
        self.write(&Request::MergeLastTs {
            ok: ts.is_some(),
            ts: ts.unwrap_or_default(),
        })
    }

    /// Sends the range `param` names; Some(result) at the end, None when aborted.
    fn send_range(
        &mut self,
        h: &mut dyn MergeHandler,
        requester: u64,
        param: &MergeGet,
    ) -> Result<Option<bool>> {
        let mut start = 0u64;
        for call in 0..MAX_GET_CALLS {
            // an abort that came meanwhile ends the transfer; other messages wait (looked at
            // every 256 calls: a get call is often a few microseconds)
            while call % 256 == 0 && self.readable() {
                let Some(m) = self.next(false)? else { break };
                match m {
                    Response::MergeAbort => return Ok(None),
                    // our own merge waits for this answer: give it now
                    Response::MergeGetLastTs => self.answer_lastts(h)?,
                    m => self.queued.push_back(m),
                }
            }
            let Some((datums, next)) = h.get(param, start) else {
                return Ok(Some(false));
            };
            for data in datums {
                self.write(&Request::MergeData {
                    requester,
                    ts: param.endts,
                    data,
                })?;
            }
            if next == 0 {
                return Ok(Some(true));
            }
            start = next;
        }
        Ok(Some(false))
    }
}
