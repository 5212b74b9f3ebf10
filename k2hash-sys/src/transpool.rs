//! Transaction worker threads: with a pool size set (`k2h_set_transaction_thread_pool`), the
//! records of a handle's changes go onto its transaction queue (keys under the transaction
//! prefix) and worker threads hand them to the transaction function, a refused record going
//! back to the head of the queue. Apart from `trans` (the log) because it needs the handle and
//! its queues, which themselves log through `trans`.
use crate::k2h::K2h;
use crate::queue::Queue;
use crate::trans::{Pool, POOL_SIZE, RUNNING_POOLS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Start the worker threads (pool size > 0) for the handle `k`.
pub fn start_pool(k: &Arc<K2h>) {
    let slot = &k.trans;
    let n = POOL_SIZE.load(Ordering::Acquire);
    let mut g = slot.pool.lock();
    if n <= 0 || g.is_some() {
        return;
    }
    let Some(opt) = slot.options() else { return };
    let stop = Arc::new(AtomicBool::new(false));
    let threads = (0..n)
        .map(|_| {
            let (w, stop, prefix) = (Arc::downgrade(k), stop.clone(), opt.prefix.clone());
            std::thread::spawn(move || worker(w, stop, prefix))
        })
        .collect();
    let (w, prefix, expire) = (Arc::downgrade(k), opt.prefix.clone(), opt.expire);
    let push = Arc::new(move |rec: &[u8]| {
        let k = w
            .upgrade()
            .ok_or_else(|| crate::error::K2hError::Invalid("the handle is closed".into()))?;
        Queue::transactions(&prefix, true).push(&k, rec, &[], None, expire)
    });
    *g = Some(Pool {
        stop,
        threads,
        push,
    });
    RUNNING_POOLS.fetch_add(1, Ordering::AcqRel);
    slot.pooled.store(true, Ordering::Release);
}

/// Wait for the transaction queue to drain (`waitms`: -1 forever, 0 not at all, else up to
/// that many milliseconds), then stop the workers.
pub fn stop_pool(k: &K2h, waitms: i64) {
    let slot = &k.trans;
    slot.pooled.store(false, Ordering::Release);
    let Some(pool) = slot.pool.lock().take() else {
        return;
    };
    if let Some(opt) = slot.options() {
        let q = Queue::transactions(&opt.prefix, true);
        let start = Instant::now();
        while waitms != 0 && !q.is_empty(k).unwrap_or(true) {
            if waitms > 0 && start.elapsed() > Duration::from_millis(waitms as u64) {
                log::warn!("transaction queue not drained within {waitms} ms");
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    pool.stop.store(true, Ordering::Release);
    for t in pool.threads {
        let _ = t.join();
    }
    RUNNING_POOLS.fetch_sub(1, Ordering::AcqRel);
}

/// A worker: pop records from the transaction queue and hand them on; a refused record goes
/// back to the head of the queue.
fn worker(k: Weak<K2h>, stop: Arc<AtomicBool>, prefix: Vec<u8>) {
    let q = Queue::transactions(&prefix, true);
    let head = Queue::transactions(&prefix, false);
    while !stop.load(Ordering::Acquire) {
        let Some(k) = k.upgrade() else { return };
        match q.pop(&k, None) {
            Ok(Some(Some(rec))) => {
                if !k.trans.dispatch(&rec) {
                    let _ = head.push(&k, &rec, &[], None, None);
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            Ok(_) => {
                drop(k);
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                log::error!("transaction queue: {e}");
                drop(k);
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
