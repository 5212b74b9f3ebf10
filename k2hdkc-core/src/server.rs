//! The `k2hdkc` server process: its k2hash (spec §4.2), its attachment to the local chmpx
//! server as a client-on-server with the merge callbacks (§4.5), and the loop that answers
//! requests and sends the copies (§3.3, §3.6).
//!
//! One thread answers requests: a request costs microseconds on the k2hash, far below what
//! crosses chmpx, so worker threads (MINTHREAD/MAXTHREAD, read and checked) would only add
//! hand-offs; the merge callbacks run on the merge channel's own thread.

use std::ffi::CString;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chmpx_core::client::{Client, ClientError};
use chmpx_core::config::{ChmConfig, SelfIdentity};
use chmpx_core::copies::COPY_C2CTYPE;
use chmpx_core::ipc::MergeGet;
use chmpx_core::merge_client::{MergeChannel, MergeHandler};
use chmpx_core::wire::{Timespec, COM_C2C_ROUTING};
use k2hash::capi::{attrconf, trans};
use k2hash::replicate::{self, RawElement, ScanFilter};
use k2hash::{K2h, Layout};

use crate::composite::{Action, Composites};
use crate::config::{DkcConfig, K2hType};
use crate::handler::Handler;
use crate::wire::{Message, Ts};

/// Opens (or creates) the database the configuration describes, with the attributes the
/// server needs (mtime always on: the copies' newer-wins rule depends on it). With
/// REPLCLUSTERINI, as the original: the transaction plugin (DTORCTP) is loaded and its thread
/// pool sized (DTORTHREADCNT) before the database opens, and afterwards transactions are
/// enabled on it with the REPLCLUSTERINI text (and its NUL) as the plugin's parameter. This
/// goes through libk2hash's own C functions on a handle of the database, so the plugin gets
/// the records and handle it would get from the original. ATTRPLUGIN libraries are added to
/// the database the same way.
pub fn open_db(c: &DkcConfig) -> Result<Arc<K2h>, String> {
    let repl = !c.repl_cluster_ini.is_empty();
    if repl {
        let lib = CString::new(c.dtor_ctp.as_str()).map_err(|_| "DTORCTP has a NUL".to_string())?;
        if !bool::from(trans::k2h_load_transaction_library(lib.as_ptr())) {
            return Err(format!(
                "Failed to set k2hash transaction plugin({}).",
                c.dtor_ctp
            ));
        }
        if !bool::from(trans::k2h_set_transaction_thread_pool(
            c.dtor_thread_cnt as i32,
        )) {
            return Err(format!(
                "Failed to set k2hash transaction thread count({}).",
                c.dtor_thread_cnt
            ));
        }
    }
    let layout = Layout {
        mask_bits: c.mask_bits,
        cmask_bits: c.cmask_bits,
        max_elements: c.max_elements,
        page_size: c.page_size,
    };
    let db = match (c.storage(), &c.k2h_file) {
        (K2hType::Memory, _) | (_, None) => K2h::open_mem(layout),
        (t, Some(f)) => K2h::open_file(
            Path::new(f),
            false,
            t == K2hType::Temporary,
            c.fullmap,
            layout,
        ),
    }
    .map_err(|e| format!("could not open the k2hash: {e}"))?;
    let expire = (c.expire > 0).then_some(c.expire);
    db.set_common_attr(
        Some(true),
        Some(c.pass_file.is_some()),
        c.pass_file.as_deref(),
        Some(c.history),
        expire,
    )
    .map_err(|e| format!("could not set the k2hash attributes: {e}"))?;
    // a libk2hash handle of the database, for the plugins
    let (handle, db) = k2hash::capi::ffi::register(db);
    for p in &c.attr_plugins {
        let lib = CString::new(p.as_str()).map_err(|_| "ATTRPLUGIN has a NUL".to_string())?;
        if !bool::from(attrconf::k2h_add_attr_plugin_library(handle, lib.as_ptr())) {
            return Err(format!("Failed to load the attribute plugin({p})."));
        }
    }
    for (i, p) in c.pass_phrases.iter().enumerate() {
        db.add_crypt_pass(p, i == 0)
            .map_err(|e| format!("could not add a pass phrase: {e}"))?;
    }
    if !repl {
        return Ok(db);
    }
    let mut param = c.repl_cluster_ini.clone().into_bytes();
    param.push(0);
    let exp: Option<libc::time_t> = expire;
    let pexp = exp
        .as_ref()
        .map_or(std::ptr::null(), |e| e as *const libc::time_t);
    if !bool::from(trans::k2h_enable_transaction_param_we(
        handle,
        std::ptr::null(),
        std::ptr::null(),
        0,
        param.as_ptr(),
        param.len(),
        pexp,
    )) {
        return Err("Failed to enable k2hash transaction(replication).".into());
    }
    Ok(db)
}

fn now() -> Ts {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Ts {
        sec: d.as_secs() as i64,
        nsec: d.subsec_nanos() as i64,
    }
}

/// The merge callbacks on the server's k2hash (what the original's `MergeGetCallback`,
/// `MergeSetCallback` and `MergeLastTsCallback` do).
struct DbMerge(Arc<Handler>);

impl MergeHandler for DbMerge {
    fn last_update(&mut self) -> Option<Timespec> {
        let st = k2hash::dump::state(self.0.db().db()).ok()?;
        Some(Timespec {
            sec: st.last_update.0 as i64,
            nsec: st.last_update.1 as i64 * 1000,
        })
    }

    fn get(&mut self, p: &MergeGet, start: u64) -> Option<(Vec<Vec<u8>>, u64)> {
        let f = ScanFilter {
            start: (p.startts.sec, p.startts.nsec),
            end: (p.endts.sec, p.endts.nsec),
            target_hash: p.target_hash,
            target_max_hash: p.target_max_hash,
            old_hash: p.old_hash,
            old_max_hash: p.old_max_hash,
            range: p.target_hash_range,
            expire_check: p.is_expire_check,
        };
        let (els, next) = replicate::elements_by_hash(self.0.db(), start, &f).ok()?;
        Some((els.iter().map(RawElement::encode).collect(), next))
    }

    fn set(&mut self, data: &[u8], ts: Timespec) -> bool {
        if data.is_empty() {
            return true;
        }
        RawElement::decode(data)
            .and_then(|e| replicate::set_element(self.0.db(), &e, (ts.sec, ts.nsec)))
            .is_ok()
    }
}

/// Where this server's chmpx is.
struct Target {
    group: String,
    ctlport: i16,
}

fn target(c: &DkcConfig, ctlport: Option<i16>, cuk: Option<&str>) -> Result<Target, String> {
    let who = SelfIdentity {
        ctlport,
        cuk: cuk.map(str::to_string),
    };
    let (cfg, _) = ChmConfig::load(&c.svrnode_ini, &who, false)
        .map_err(|e| format!("could not load the chmpx configuration: {e}"))?;
    Ok(Target {
        group: cfg.group.clone(),
        ctlport: ctlport.unwrap_or(cfg.self_ctlport),
    })
}

fn open_merge(t: &Target, h: &Arc<Handler>, client: &Client) -> Option<UnixStream> {
    let mut ch = match MergeChannel::open(&t.group, t.ctlport) {
        Ok(c) => c,
        Err(e) => {
            log::error!("could not open the merge channel: {e}");
            return None;
        }
    };
    ch.set_link_pause(client.link_pause());
    let stopper = ch.stopper();
    let mut cb = DbMerge(h.clone());
    let spawned = std::thread::Builder::new()
        .name("k2hdkc-merge".into())
        .spawn(move || {
            let _ = ch.serve(&mut cb);
        });
    spawned.ok().and(stopper)
}

/// Posts a copy (REPL_KEY, REPL_DEL) to the other servers of `hash`.
fn send_copy(client: &mut Client, hash: u64, msg: &Message) -> Result<(), ClientError> {
    client.post(u64::MAX, &msg.encode(), hash, COPY_C2CTYPE)
}

/// Sends what a composite asks for: copies first (an answer never leaves before the copy of
/// what it acknowledges, see the request loop), then the rest in order.
fn carry_out(client: &mut Client, mut acts: Vec<Action>) {
    acts.sort_by_key(|a| !matches!(a, Action::Replicate { .. }));
    for a in acts {
        let r = match a {
            Action::Send { hash, msg } => {
                client.post(u64::MAX, &msg.encode(), hash, COM_C2C_ROUTING)
            }
            Action::Reply { to, msg } => client.reply(&to, &msg.encode()),
            Action::Replicate { hash, msg } => send_copy(client, hash, &msg),
        };
        if let Err(e) = r {
            log::warn!("could not send for a composite request: {e}");
        }
    }
}

/// Runs the server until `stop` is set (SIGHUP, SIGTERM, SIGINT).
pub fn run(
    c: &DkcConfig,
    ctlport: Option<i16>,
    cuk: Option<&str>,
    stop: Arc<AtomicBool>,
) -> Result<(), String> {
    let handler = Arc::new(Handler::with_shared(open_db(c)?));
    let t = target(c, ctlport, cuk)?;
    // chmpx may still be starting (both are started together by service scripts): wait for
    // it a while
    let mut tries = 0;
    let mut client = loop {
        match Client::attach_to_ex(&t.group, t.ctlport, true, true, true) {
            Ok(c) => break c,
            Err(ClientError::NotRunning { .. }) if tries < 150 && !stop.load(Ordering::Relaxed) => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => return Err(format!("could not attach to chmpx: {e}")),
        }
    };
    // clients' links handed over by chmpx are served here (chmpx-core `served`)
    if let Err(e) = client.serve_links() {
        return Err(format!("could not attach to chmpx: {e}"));
    }
    let mut merge = open_merge(&t, &handler, &client);
    let mut composites = Composites::new(c.rcv_timeout_ms);
    let mut last_expiry = 0i64;
    log::info!(
        "k2hdkc attached to chmpx of group {} (control port {})",
        t.group,
        t.ctlport
    );
    while !stop.load(Ordering::Relaxed) {
        let t_now = now();
        if t_now.sec != last_expiry {
            last_expiry = t_now.sec;
            let acts = composites.expire(&handler, t_now);
            carry_out(&mut client, acts);
        }
        match client.receive(None, 1000) {
            Ok(Some((pkt, body))) => {
                let msg = match Message::decode(&body) {
                    Ok(m) => m,
                    Err(e) => {
                        log::error!("dropped a malformed k2hdkc message: {e}");
                        continue;
                    }
                };
                if composites.is_ours(&msg.head) {
                    let acts = composites.answer(&handler, &msg, now());
                    carry_out(&mut client, acts);
                    continue;
                }
                if !msg.head.is_response() && Composites::handles(&msg) {
                    let acts = composites.start(&handler, pkt, &msg, now());
                    carry_out(&mut client, acts);
                    continue;
                }
                if msg.head.is_response() {
                    // answers to our copies (from original servers): only their codes matter,
                    // and only to the log
                    if !crate::wire::res_is_success(msg.head.restype) {
                        log::warn!(
                            "a copy was refused: {} 0x{:016x}",
                            crate::wire::dkccom_type_name(msg.head.comtype),
                            msg.head.restype
                        );
                    }
                    continue;
                }
                let out = if matches!(msg.body, crate::wire::Body::K2hState(_)) {
                    let snap = chmpx_core::client::snapshot(&t.group, t.ctlport).ok();
                    let me = snap.as_ref().map(|s| {
                        let r = &s.self_rec;
                        (r.chmpxid, r.name.as_str(), r.base_hash, r.pending_hash)
                    });
                    handler.k2hstate(&msg, me)
                } else {
                    handler.handle(&msg, now())
                };
                // Copies (REPL_KEY, REPL_DEL) are not answered: no sender waits for those
                // answers (the original's neither), and each would cost three more hops per
                // write; a refused copy is logged here instead.
                let copy = matches!(
                    msg.body,
                    crate::wire::Body::ReplKey(_) | crate::wire::Body::ReplDel(_)
                );
                // The copy leaves before the answer: chmpx passes it on first, and an answer
                // on a served link waits until chmpx has read it (`Client::reply`), so no write
                // is acknowledged while its copy could still be lost with this node.
                if let Some((hash, copy)) = out.replicate {
                    if let Err(e) = send_copy(&mut client, hash, &copy) {
                        log::warn!("could not send a copy: {e}");
                    }
                }
                match out.reply {
                    Some(reply) if !copy => {
                        if let Err(e) = client.reply(&pkt, &reply.encode()) {
                            log::error!("could not answer: {e}");
                        }
                    }
                    Some(reply) if !crate::wire::res_is_success(reply.head.restype) => {
                        log::info!(
                            "refused a copy: {} 0x{:016x}",
                            crate::wire::dkccom_type_name(msg.head.comtype),
                            reply.head.restype
                        );
                    }
                    _ => {}
                }
            }
            Ok(None) => {}
            Err(ClientError::Gone) => {
                // chmpx went away: attach again when it is back (the merge channel too)
                drop(merge.take());
                std::thread::sleep(Duration::from_millis(500));
                if client.rejoin().is_ok() {
                    log::info!("rejoined chmpx");
                    merge = open_merge(&t, &handler, &client);
                }
            }
            Err(e) => {
                log::error!("chmpx: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    if let Some(m) = merge {
        MergeChannel::stop(&m);
    }
    Ok(())
}
