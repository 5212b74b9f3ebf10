//! Queues stored as ordinary keys, in the original's layout: a marker key `<prefix>MARKER\0`
//! whose value names the first and last entry, and one key per entry whose value is the data and
//! whose subkey list names the next entry. Key queues use the same chain with key names as data.
//! Every queue operation holds the k2hash's queue lock (process-shared) from start to end.
use crate::attrs::AttrKind;
use crate::engine::{Change, Element, Parts};
use crate::error::Result;
use crate::k2h::{K2h, Protect};
use crate::lists::{self, Attr};
use parking_lot::Mutex;

/// Default prefix shared by queues and key queues (17 bytes, no NUL).
pub const DEFAULT_PREFIX: &[u8] = b"\0K2HQUEUE_PREFIX_";
const MARKER_SUFFIX: &[u8] = b"MARKER\0";
const MARKER_HEAD: usize = 32;

/// What a remove callback decides for one entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Trial {
    Remove,
    Keep,
    Stop,
}

/// A queue (or key queue) over a k2hash: prefix and push direction.
#[derive(Clone, Debug)]
pub struct Queue {
    pub prefix: Vec<u8>,
    pub fifo: bool,
    /// The transaction queue (own lock, entries get the transaction attribute mask).
    pub trans: bool,
}

/// Process-wide counter for entry names: starts at the realtime clock, +1 ns per entry.
static COUNTER: Mutex<Option<(u64, u64)>> = parking_lot::const_mutex(None);

fn next_stamp() -> (u64, u64) {
    let mut g = COUNTER.lock();
    let (s, ns) = g.unwrap_or_else(|| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into our timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
        (ts.tv_sec as u64, ts.tv_nsec as u64)
    });
    let (s, ns) = if ns + 1 >= 1_000_000_000 {
        (s + 1, 0)
    } else {
        (s, ns + 1)
    };
    *g = Some((s, ns));
    (s, ns)
}

/// A queue's marker: the names of its first and last entry (empty: the queue is empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marker {
    pub start: Vec<u8>,
    pub end: Vec<u8>,
}

impl Marker {
    fn parse(v: &[u8]) -> Option<Marker> {
        let rd = |o: usize| {
            v.get(o..o + 8)
                .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()) as usize)
        };
        let (sl, so, el, eo) = (rd(0)?, rd(8)?, rd(16)?, rd(24)?);
        if MARKER_HEAD.checked_add(sl)?.checked_add(el)? != v.len() {
            return None;
        }
        Some(Marker {
            start: v.get(so..so.checked_add(sl)?)?.to_vec(),
            end: v.get(eo..eo.checked_add(el)?)?.to_vec(),
        })
    }

    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(MARKER_HEAD + self.start.len() + self.end.len());
        for n in [
            self.start.len(),
            MARKER_HEAD,
            self.end.len(),
            MARKER_HEAD + self.start.len(),
        ] {
            v.extend_from_slice(&(n as u64).to_le_bytes());
        }
        v.extend_from_slice(&self.start);
        v.extend_from_slice(&self.end);
        v
    }
}

impl Queue {
    pub fn new(prefix: Option<&[u8]>, fifo: bool) -> Queue {
        Queue {
            prefix: prefix
                .filter(|p| !p.is_empty())
                .unwrap_or(DEFAULT_PREFIX)
                .to_vec(),
            fifo,
            trans: false,
        }
    }

    /// The queue of pending transaction records under `prefix`.
    pub fn transactions(prefix: &[u8], fifo: bool) -> Queue {
        Queue {
            prefix: prefix.to_vec(),
            fifo,
            trans: true,
        }
    }

    /// `<prefix>MARKER\0`.
    pub fn marker_key(&self) -> Vec<u8> {
        [self.prefix.as_slice(), MARKER_SUFFIX].concat()
    }

    /// A new entry name: `<prefix><tid>_<sec>_<nsec>\0`, unique in the process.
    pub fn new_entry_key(&self) -> Vec<u8> {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u64;
        let (s, ns) = next_stamp();
        let mut k = self.prefix.clone();
        k.extend_from_slice(format!("{tid:016X}_{s:016X}_{ns:016X}").as_bytes());
        k.push(0);
        k
    }

    /// The marker as stored (k2hdkc keeps only the marker on the server of the prefix and
    /// the entries wherever their names hash to).
    pub fn marker(&self, k: &K2h) -> Result<Marker> {
        let v = k.db().get(
            &self.marker_key(),
            Parts {
                value: true,
                subkeys: false,
                attrs: false,
            },
        )?;
        Ok(v.and_then(|e| Marker::parse(&e.value)).unwrap_or_default())
    }

    pub fn set_marker(&self, k: &K2h, m: &Marker) -> Result<()> {
        k.put(
            &self.marker_key(),
            Element {
                value: m.encode(),
                ..Default::default()
            },
        )?;
        Ok(())
    }

    /// The entry after `entry` (its first subkey).
    fn next_of(k: &K2h, entry: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(k.db()
            .get(entry, Parts::SUBKEYS)?
            .and_then(|e| lists::parse_subkeys(&e.subkeys).into_iter().next()))
    }

    fn set_next(k: &K2h, entry: &[u8], next: Option<&[u8]>) -> Result<()> {
        let sk = next
            .map(|n| lists::serialize_subkeys(&[n]))
            .unwrap_or_default();
        k.modify(entry, |old| {
            Ok(match old {
                Some(_) => Change::Replace {
                    value: None,
                    subkeys: Some(sk),
                    attrs: None,
                },
                None => Change::Keep,
            })
        })?;
        Ok(())
    }

    /// Entry names from the head, at most `limit`.
    fn entries(&self, k: &K2h, limit: usize) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        // a damaged chain may loop back: stop at the first entry seen twice
        let mut seen = std::collections::HashSet::new();
        let mut cur = Some(self.marker(k)?.start).filter(|s| !s.is_empty());
        while let Some(e) = cur {
            if out.len() >= limit || !seen.insert(e.clone()) {
                break;
            }
            cur = Self::next_of(k, &e)?;
            out.push(e);
        }
        Ok(out)
    }

    pub fn is_empty(&self, k: &K2h) -> Result<bool> {
        Ok(self.marker(k)?.start.is_empty())
    }

    /// Number of entries, expired ones included.
    pub fn count(&self, k: &K2h) -> Result<usize> {
        let db = k.db();
        let _q = db.queue_guard(self.trans);
        Ok(self.entries(k, usize::MAX)?.len())
    }

    /// Push `data` with extra attributes, pass and expire (seconds) on the entry.
    pub fn push(
        &self,
        k: &K2h,
        data: &[u8],
        extra: &[Attr],
        pass: Option<&str>,
        expire: Option<i64>,
    ) -> Result<()> {
        k.check_writable()?;
        let db = k.db();
        let _q = db.queue_guard(self.trans);
        let mut attrs: Vec<Attr> = Vec::new();
        for (n, v) in extra {
            lists::set_attr(&mut attrs, n, v);
        }
        let key = self.new_entry_key();
        k.run_hooks(&key, data, &mut attrs);
        let kind = if self.trans {
            AttrKind::TransQueue
        } else {
            AttrKind::Queue
        };
        let value = k
            .conf()
            .update(&mut attrs, data.to_vec(), pass, expire, kind)?;
        let mut m = self.marker(k)?;
        let attrs = lists::serialize_attrs(&attrs);
        if self.fifo || m.start.is_empty() {
            k.put(
                &key,
                Element {
                    value,
                    subkeys: Vec::new(),
                    attrs,
                },
            )?;
            if !m.start.is_empty() && !m.end.is_empty() {
                Self::set_next(k, &m.end, Some(&key))?;
            }
            if m.start.is_empty() {
                m.start = key.clone();
            }
            m.end = key;
        } else {
            let subkeys = lists::serialize_subkeys(&[m.start.as_slice()]);
            k.put(
                &key,
                Element {
                    value,
                    subkeys,
                    attrs,
                },
            )?;
            m.start = key;
        }
        self.set_marker(k, &m)
    }

    /// The raw element of the entry at `pos` (0 = head, -1 = tail).
    fn entry_at(&self, k: &K2h, pos: i32) -> Result<Option<Vec<u8>>> {
        if pos < -1 {
            return Ok(None);
        }
        if pos == -1 {
            let m = self.marker(k)?;
            return Ok((!m.start.is_empty() && !m.end.is_empty()).then_some(m.end));
        }
        Ok(self
            .entries(k, pos as usize + 1)?
            .into_iter()
            .nth(pos as usize))
    }

    /// Data of the entry at `pos`, decrypted; None when missing, expired or unreadable.
    pub fn read(&self, k: &K2h, pos: i32, pass: Option<&str>) -> Result<Option<Vec<u8>>> {
        let db = k.db();
        let _q = db.queue_guard(self.trans);
        match self.entry_at(k, pos)? {
            Some(e) => k.get_uncached(&e, Protect::Yes(pass)),
            None => Ok(None),
        }
    }

    /// Take the head entry off, skipping expired ones. `None`: the queue is empty;
    /// `Some(None)`: an entry was consumed but its data could not be read.
    pub fn pop(&self, k: &K2h, pass: Option<&str>) -> Result<Option<Option<Vec<u8>>>> {
        k.check_writable()?;
        let db = k.db();
        let _q = db.queue_guard(self.trans);
        loop {
            let mut m = self.marker(k)?;
            if m.start.is_empty() {
                return Ok(None);
            }
            let head = std::mem::take(&mut m.start);
            let el = k.db().get(&head, Parts::ALL)?;
            m.start = el
                .as_ref()
                .and_then(|e| lists::parse_subkeys(&e.subkeys).into_iter().next())
                .unwrap_or_default();
            self.set_marker(k, &m)?;
            k.delete(&head)?;
            let Some(el) = el else { return Ok(Some(None)) };
            let a = lists::parse_attrs(&el.attrs);
            if crate::attrs::is_expired(&a) {
                continue;
            }
            let v = if el.value.is_empty() {
                None
            } else {
                k.conf().decrypt(&a, el.value, pass)
            };
            return Ok(Some(v.filter(|v| !v.is_empty())));
        }
    }

    /// Remove up to `count` entries from the head; `trial` sees each readable entry's data and
    /// decides. Like the original, the key named by a removed entry's data is removed as well.
    /// Returns the number removed (an error answer of the callback ends the loop early).
    pub fn remove(
        &self,
        k: &K2h,
        count: usize,
        pass: Option<&str>,
        mut trial: impl FnMut(&[u8], &[Attr]) -> Trial,
    ) -> Result<usize> {
        k.check_writable()?;
        let db = k.db();
        let _q = db.queue_guard(self.trans);
        let entries = self.entries(k, count)?;
        let mut m = self.marker(k)?;
        // Entries are only ever removed from the head: once one is kept, the loop ends at the
        // next one to remove (the original's quirk, below).
        let mut kept = false;
        let mut removed = 0;
        for e in entries {
            let el = k.db().get(&e, Parts::ALL)?;
            let next = el
                .as_ref()
                .and_then(|x| lists::parse_subkeys(&x.subkeys).into_iter().next());
            let attrs = el
                .as_ref()
                .map(|x| lists::parse_attrs(&x.attrs))
                .unwrap_or_default();
            let data = k.get_uncached(&e, Protect::Yes(pass))?;
            let decision = match &data {
                Some(d) => trial(d, &attrs),
                None => Trial::Remove,
            };
            match decision {
                // The original ends the loop on an error answer and still reports what it
                // removed so far.
                Trial::Stop => break,
                Trial::Keep => {
                    kept = true;
                    continue;
                }
                // Quirk kept from the original: once an entry was kept, the next entry to be
                // removed (answered RM, or unreadable) ends the loop without being removed (its
                // middle-of-queue branch compares the re-read link the wrong way round).
                Trial::Remove if kept => break,
                // the head goes; the marker's end stays, as the original leaves it
                Trial::Remove => m.start = next.unwrap_or_default(),
            }
            k.delete(&e)?;
            if let Some(d) = data {
                k.remove_all(&d)?;
            }
            removed += 1;
        }
        self.set_marker(k, &m)?;
        Ok(removed)
    }

    /// Text listing of the queue for debugging.
    pub fn dump(&self, k: &K2h) -> Result<String> {
        let db = k.db();
        let _q = db.queue_guard(self.trans);
        let m = self.marker(k)?;
        let mut s = format!(
            "K2HQueue(prefix {:?}, {}) = {{\n  marker start = {:?}\n  marker end   = {:?}\n",
            String::from_utf8_lossy(&self.prefix),
            if self.fifo { "FIFO" } else { "LIFO" },
            String::from_utf8_lossy(&m.start),
            String::from_utf8_lossy(&m.end)
        );
        for (i, e) in self.entries(k, usize::MAX)?.iter().enumerate() {
            let v = k.get_uncached(e, Protect::No)?.unwrap_or_default();
            s.push_str(&format!(
                "  [{i}] {:?} => {} bytes\n",
                String::from_utf8_lossy(e),
                v.len()
            ));
        }
        s.push_str("}\n");
        Ok(s)
    }
}

/// A popped key-queue entry: the key name and its value, if readable.
pub type Popped = (Vec<u8>, Option<Vec<u8>>);

/// Key queue operations: entries hold key names.
impl Queue {
    /// Set `key` to `value` (keeping its subkeys and attributes) and queue its name.
    pub fn push_keyval(
        &self,
        k: &K2h,
        key: &[u8],
        value: &[u8],
        pass: Option<&str>,
        expire: Option<i64>,
    ) -> Result<()> {
        k.set_value(key, value, pass, expire)?;
        self.push(k, key, &[], None, None)
    }

    /// Read the key named at `pos` and its value.
    pub fn read_keyval(
        &self,
        k: &K2h,
        pos: i32,
        pass: Option<&str>,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let name = {
            let db = k.db();
            let _q = db.queue_guard(self.trans);
            match self.entry_at(k, pos)? {
                Some(e) => k.get_uncached(&e, Protect::No)?,
                None => None,
            }
        };
        let Some(name) = name else { return Ok(None) };
        Ok(k.get_uncached(&name, Protect::Yes(pass))?
            .map(|v| (name, v)))
    }

    /// Pop the head entry; returns the key name and its value, and removes the key. `Some((name,
    /// None))` when the key had no readable value (the entry is consumed anyway).
    pub fn pop_keyval(&self, k: &K2h, pass: Option<&str>) -> Result<Option<Popped>> {
        let Some(name) = self.pop(k, None)? else {
            return Ok(None);
        };
        let Some(name) = name else {
            return Ok(Some((Vec::new(), None)));
        };
        let v = k.get_uncached(&name, Protect::Yes(pass))?;
        k.remove_all(&name)?;
        Ok(Some((name, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layout;

    fn marker_bytes(k: &K2h, q: &Queue) -> Vec<u8> {
        k.get(&q.marker_key(), Protect::No).unwrap().unwrap()
    }

    #[test]
    fn marker_layout_as_the_original() {
        let k = K2h::open_mem(Layout::default()).unwrap();
        let q = Queue::new(None, true);
        assert_eq!(q.marker_key(), b"\0K2HQUEUE_PREFIX_MARKER\0");
        q.push(&k, b"a\0", &[], None, None).unwrap();
        q.push(&k, b"b\0", &[], None, None).unwrap();
        let m = marker_bytes(&k, &q);
        assert_eq!(m.len(), 32 + 68 + 68);
        let f = |o: usize| u64::from_le_bytes(m[o..o + 8].try_into().unwrap());
        assert_eq!((f(0), f(8), f(16), f(24)), (68, 32, 68, 100));
        assert_eq!(&m[32..49], DEFAULT_PREFIX);
        assert!(m[32..100] < m[100..168], "entry names increase");
        // the first entry lists the second as its only subkey
        let first = m[32..100].to_vec();
        assert_eq!(
            k.get_subkeys(&first, false).unwrap().unwrap(),
            vec![m[100..168].to_vec()]
        );
        assert_eq!(q.pop(&k, None).unwrap(), Some(Some(b"a\0".to_vec())));
        assert_eq!(q.pop(&k, None).unwrap(), Some(Some(b"b\0".to_vec())));
        assert_eq!(q.pop(&k, None).unwrap(), None);
        // empty: the marker keeps the old end entry's name
        let m2 = marker_bytes(&k, &q);
        let g = |o: usize| u64::from_le_bytes(m2[o..o + 8].try_into().unwrap());
        assert_eq!((g(0), g(8), g(16), g(24)), (0, 32, 68, 32));
        assert_eq!(&m2[32..], &m[100..168]);
        assert_eq!(k.db().keys().unwrap().len(), 1);
    }

    #[test]
    fn broken_marker_reads_as_empty() {
        let k = K2h::open_mem(Layout::default()).unwrap();
        let q = Queue::new(Some(b"BQ"), true);
        k.set_value(b"BQMARKER\0", b"garbage", None, None).unwrap();
        assert!(q.is_empty(&k).unwrap());
        assert_eq!(q.count(&k).unwrap(), 0);
        assert_eq!(q.pop(&k, None).unwrap(), None);
        q.push(&k, b"x", &[], None, None).unwrap();
        assert_eq!(q.pop(&k, None).unwrap(), Some(Some(b"x".to_vec())));
    }
}
