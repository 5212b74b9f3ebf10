//! A k2hash handle: one attached storage plus per-handle attribute settings, with the semantics
//! of the original's public operations (values, subkeys, attributes, history, encryption).
use crate::attrs::{self, AttrConf, AttrKind};
use crate::engine::{Change, Db, Element, Layout, Parts, ReadKey};
use crate::error::{K2hError, Result};
use crate::lists::{self, Attr};
use crate::rcache::{self, Found, ValueOut};
use crate::record::{Kind, Record};
use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;

pub struct K2h {
    /// The current storage: one atomic load per operation. It points into an `Arc` held by
    /// `dbs`, which keeps every storage this handle ever used (the current one and any it left
    /// when its file was replaced) until the handle is dropped.
    db: std::sync::atomic::AtomicPtr<Db>,
    dbs: Mutex<Vec<Arc<Db>>>,
    /// Path and full-map flag to reattach with when the file is replaced (None in memory).
    reopen: Option<(std::path::PathBuf, bool)>,
    readonly: bool,
    /// Attribute settings: read lock-free on every operation, replaced whole under `conf_w`.
    conf: arc_swap::ArcSwapOption<AttrConf>,
    conf_w: Mutex<()>,
    /// Transaction logging of this handle (see `trans`).
    pub trans: crate::trans::TransSlot,
    /// Attribute plugins of this handle, run before the built-in attributes on every write.
    pub hooks: Mutex<Vec<Arc<AttrHook>>>,
}

/// Computes an attribute value from key and value (`None`: no attribute).
pub type AttrFn = Box<dyn Fn(&[u8], &[u8]) -> Option<Vec<u8>> + Send + Sync>;

/// An attribute plugin: on each write it computes attribute `name` from key and (plain) value;
/// `None` removes the attribute.
pub struct AttrHook {
    pub name: Vec<u8>,
    pub version: String,
    pub update: AttrFn,
}

/// How a getter treats attributes.
#[derive(Clone, Copy)]
pub enum Protect<'a> {
    /// Hide expired and history keys, decrypt with this pass (or the handle's pass list).
    Yes(Option<&'a str>),
    /// Raw stored bytes.
    No,
}

/// What a getter shows of a stored value (see `K2h::reveal`).
enum Revealed {
    Hidden,
    Stored,
    Decrypted(Vec<u8>),
}

impl Protect<'_> {
    /// What a getter reads: the value, and the attributes when they are checked.
    fn parts(&self) -> Parts {
        match self {
            Protect::Yes(_) => Parts::VALUE,
            Protect::No => Parts {
                value: true,
                subkeys: false,
                attrs: false,
            },
        }
    }
}

/// What `K2h::look_up` found: a cached value (its length), or the key to read from the store
/// and, when the value is to be cached, its cache hash.
enum Lookup<'k> {
    Hit(usize),
    Read(ReadKey<'k>, Option<u64>),
}

impl K2h {
    fn from_db(db: Arc<Db>, readonly: bool, fullmap: bool) -> K2h {
        let reopen = db.path().map(|p| (p.to_path_buf(), fullmap));
        K2h {
            db: std::sync::atomic::AtomicPtr::new(Arc::as_ptr(&db) as *mut Db),
            dbs: Mutex::new(vec![db]),
            reopen,
            readonly,
            conf: arc_swap::ArcSwapOption::empty(),
            conf_w: Mutex::new(()),
            trans: Default::default(),
            hooks: Mutex::new(Vec::new()),
        }
    }

    pub fn open_mem(layout: Layout) -> Result<K2h> {
        Ok(Self::from_db(Db::memory(layout)?, false, true))
    }

    pub fn open_file(
        path: &Path,
        readonly: bool,
        temp: bool,
        fullmap: bool,
        layout: Layout,
    ) -> Result<K2h> {
        Ok(Self::from_db(
            Db::open_file(path, readonly, temp, fullmap, layout)?,
            readonly,
            fullmap,
        ))
    }

    /// The attached storage. When another file was moved in at this file's path (k2hreplace),
    /// the handle first reattaches to it, as the original's handles do.
    #[inline]
    pub fn db(&self) -> &Db {
        let d = self.current();
        if !d.replaced() {
            return d;
        }
        self.reattach_replaced();
        self.current()
    }

    #[inline]
    fn current(&self) -> &Db {
        // SAFETY: the pointer was taken from an Arc<Db> that `dbs` owns until `self` is dropped,
        // and the pointee is never mutated through it (Db is shared and internally
        // synchronised), so the reference is valid for the lifetime of `&self`.
        unsafe { &*self.db.load(std::sync::atomic::Ordering::Acquire) }
    }

    #[cold]
    fn reattach_replaced(&self) {
        // `dbs` also serialises reattaching: one thread reopens, the others then see the new one
        let mut dbs = self.dbs.lock();
        let cur = self.current();
        if !cur.replaced() {
            return;
        }
        let Some((path, fullmap)) = &self.reopen else {
            return;
        };
        let ro = cur.is_readonly();
        match Db::open_file(path, ro, false, *fullmap, Layout::default()) {
            Ok(db) => {
                log::info!("{} was replaced; reattached", path.display());
                let p = Arc::as_ptr(&db) as *mut Db;
                dbs.push(db);
                self.db.store(p, std::sync::atomic::Ordering::Release);
            }
            Err(e) => log::error!(
                "{} was replaced but cannot be reattached: {e}",
                path.display()
            ),
        }
    }

    /// Whether a change of `key` goes to the transaction log.
    fn logged(&self, key: &[u8]) -> bool {
        self.trans.active() && !self.trans.exempt(key)
    }

    pub fn is_readonly(&self) -> bool {
        self.readonly || self.db().is_readonly()
    }

    /// Fail with ReadOnly when writes are not allowed.
    pub fn check_writable(&self) -> Result<()> {
        if self.is_readonly() {
            Err(K2hError::ReadOnly)
        } else {
            Ok(())
        }
    }

    // ------------------------------------------------------------------ attribute settings

    /// Current settings (initialised from the environment on first use).
    pub fn conf(&self) -> Arc<AttrConf> {
        if let Some(c) = self.conf.load_full() {
            return c;
        }
        let _w = self.conf_w.lock();
        if let Some(c) = self.conf.load_full() {
            return c;
        }
        match AttrConf::from_env() {
            Ok(c) => {
                let c = Arc::new(c);
                self.conf.store(Some(c.clone()));
                c
            }
            Err(e) => {
                log::error!("K2HATTR_* environment: {e}");
                Arc::new(AttrConf::default())
            }
        }
    }

    /// k2h_set_common_attr: re-apply the environment, then the given settings; on failure the
    /// handle's settings are dropped.
    pub fn set_common_attr(
        &self,
        mtime: Option<bool>,
        defenc: Option<bool>,
        passfile: Option<&str>,
        history: Option<bool>,
        expire: Option<i64>,
    ) -> Result<()> {
        let _w = self.conf_w.lock();
        let r = (|| {
            let mut c = self
                .conf
                .load_full()
                .map(|c| (*c).clone())
                .unwrap_or_default();
            c.apply_env()?;
            if let Some(m) = mtime {
                c.mtime = m;
            }
            if let Some(h) = history {
                c.history = h;
            }
            if let Some(e) = expire {
                if e <= 0 {
                    return crate::error::invalid("expire must be positive");
                }
                c.expire = Some(e);
            }
            if let Some(f) = passfile.filter(|f| !f.is_empty()) {
                c.load_pass_file(f)?;
            }
            if let Some(d) = defenc {
                c.defenc = d;
            }
            c.check_default_pass()?;
            Ok(c)
        })();
        match r {
            Ok(c) => {
                self.conf.store(Some(Arc::new(c)));
                Ok(())
            }
            Err(e) => {
                self.conf.store(None);
                Err(e)
            }
        }
    }

    pub fn clean_common_attr(&self) {
        let _w = self.conf_w.lock();
        self.conf.store(Some(Arc::new(AttrConf::default())));
        self.hooks.lock().clear();
    }

    /// Run the attribute plugins for a write of `value` to `key`.
    pub fn run_hooks(&self, key: &[u8], value: &[u8], attrs: &mut Vec<Attr>) {
        let hooks: Vec<Arc<AttrHook>> = {
            let g = self.hooks.lock();
            if g.is_empty() {
                return;
            }
            g.clone()
        };
        for h in hooks {
            match (h.update)(key, value) {
                Some(v) => lists::set_attr(attrs, &h.name, &v),
                None => lists::del_attr(attrs, &h.name),
            }
        }
    }

    pub fn add_crypt_pass(&self, pass: &str, default: bool) -> Result<()> {
        if pass.is_empty() {
            return crate::error::invalid("empty pass phrase");
        }
        let mut c = (*self.conf()).clone();
        let _w = self.conf_w.lock();
        c.add_pass(pass, default);
        self.conf.store(Some(Arc::new(c)));
        Ok(())
    }

    // ------------------------------------------------------------------ reads

    fn visible(attrs: &[Attr]) -> bool {
        !attrs::is_history(attrs) && !attrs::is_expired(attrs)
    }

    /// What a getter shows of a stored value with its attributes (`attrs` is only read when
    /// protected): hidden when empty, a history version, expired or not decryptable.
    fn reveal(&self, value: &[u8], attrs: &[u8], p: Protect) -> Revealed {
        if value.is_empty() {
            return Revealed::Hidden;
        }
        let Protect::Yes(pass) = p else {
            return Revealed::Stored;
        };
        if attrs.is_empty() && pass.is_none() {
            // no attributes: nothing hides or encrypts the value
            return Revealed::Stored;
        }
        let a = lists::parse_attrs(attrs);
        if !Self::visible(&a) {
            return Revealed::Hidden;
        }
        match self.conf().decrypt(&a, value.to_vec(), pass) {
            Some(v) if !v.is_empty() => Revealed::Decrypted(v),
            _ => Revealed::Hidden,
        }
    }

    /// The value of `key` handed to `f` without an intermediate copy in the common case
    /// (read into a per-thread buffer); empty values read as missing.
    pub fn get_with<R>(
        &self,
        key: &[u8],
        p: Protect,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        let db = self.db();
        self.read_revealed(db, &db.read_key(key)?, p, None, f)
    }

    /// Whether reads with `p` may use the read cache of `db`: no pass phrase (a cached value
    /// is one stored without attributes, which every getter without a pass shows as stored).
    #[inline]
    fn cacheable(db: &Db, p: &Protect) -> bool {
        db.caches() && !matches!(p, Protect::Yes(Some(_)))
    }

    /// Ask the read cache for `key` (a current copy is written into `out`: `Hit` with its
    /// length), else the key prepared for the store (`Db::read_key`) and, when the value read
    /// is to be cached, its cache hash. While this thread's lookups mostly miss, the lines of
    /// the admission windows and of the key's location hint are asked for before anything
    /// waits, so they load together while the key is hashed and the cache asked; while they
    /// mostly hit, the key is hashed for the store only after a miss (a hit does not pay for
    /// it). While the windows seldom answer yes, most reads skip them (`rcache::window_due`).
    #[inline]
    fn look_up<'k>(
        db: &Db,
        key: &'k [u8],
        ch: u64,
        p: &Protect,
        out: &mut impl ValueOut,
    ) -> Result<Lookup<'k>> {
        if !Self::cacheable(db, p) {
            return Ok(Lookup::Read(db.read_key_hashed(key, ch)?, None));
        }
        let direct = rcache::lookups_pay();
        let early = if direct {
            None
        } else {
            if !rcache::window_due() {
                // as if the windows had not seen the key (and not noting it)
                return Ok(Lookup::Read(db.read_key_hashed(key, ch)?, None));
            }
            rcache::prefetch_window(ch);
            Some(db.read_key_hashed(key, ch)?)
        };
        let fill = match Self::probe(db, key, ch, direct, out) {
            Ok(n) => return Ok(Lookup::Hit(n)),
            Err(fill) => fill,
        };
        let k = match early {
            Some(k) => k,
            None => db.read_key_hashed(key, ch)?,
        };
        Ok(Lookup::Read(k, fill))
    }

    /// Look for a current cached value of `key` (cache hash `ch`; copied into `out`: its
    /// length), else say whether what is read now is to be cached (with the cache hash).
    /// `direct`: this thread's lookups mostly hit, so the cache is asked before the windows.
    #[inline]
    fn probe(
        db: &Db,
        key: &[u8],
        ch: u64,
        direct: bool,
        out: &mut impl ValueOut,
    ) -> std::result::Result<usize, Option<u64>> {
        if !direct && !rcache::seen_recently(ch) {
            return Err(None);
        }
        let found = db.cached_value(key, ch, out);
        rcache::count_lookup(matches!(found, Found::Hit(_)));
        match found {
            Found::Hit(n) => Ok(n),
            Found::Stale(state, age) => Err(rcache::admit_stale(ch, state, age).then_some(ch)),
            // looked up without asking first: ask now whether to cache it
            Found::Miss => Err((!direct || rcache::seen_recently(ch)).then_some(ch)),
            Found::Bypassed => Err(None),
        }
    }

    /// The value of `key` written into `out` (its length; empty values read as missing),
    /// served from the read cache when it holds a current copy, else read and cached. `ch`:
    /// the key's `rcache::key_hash`.
    #[inline]
    pub fn get_out(
        &self,
        key: &[u8],
        ch: u64,
        p: Protect,
        out: &mut impl ValueOut,
    ) -> Result<Option<usize>> {
        let db = self.db();
        let (k, ch) = match Self::look_up(db, key, ch, &p, out)? {
            Lookup::Hit(n) => return Ok(Some(n)),
            Lookup::Read(k, ch) => (k, ch),
        };
        self.read_revealed(db, &k, p, ch, |v| {
            let dst = out.room(v.len());
            if dst.is_null() {
                return None;
            }
            // SAFETY: `room` gave `v.len()` writable bytes, not overlapping the scratch buffer.
            unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), dst, v.len()) };
            out.done(v.len());
            Some(v.len())
        })
        .map(Option::flatten)
    }

    /// Read `key` through the per-thread buffer and hand what a getter shows to `f`; with a
    /// cache hash (`ch`), a value stored without attributes is also cached.
    fn read_revealed<R>(
        &self,
        db: &Db,
        k: &ReadKey,
        p: Protect,
        ch: Option<u64>,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        thread_local! {
            static SCRATCH: std::cell::RefCell<Element> = std::cell::RefCell::new(Element::default());
        }
        SCRATCH.with(|cell| {
            let Ok(mut el) = cell.try_borrow_mut() else {
                // re-entered from a callback: read into a buffer of its own
                return Ok(self.get_uncached(k.key, p)?.map(|v| f(&v)));
            };
            let mut tag = None;
            // only a read of the attributes can tell that there are none
            let fill = ch.filter(|_| p.parts().attrs);
            let found = if fill.is_some() {
                db.get_into_tagged(k, p.parts(), &mut el, &mut tag)?
            } else {
                db.get_into(k, p.parts(), &mut el)?
            };
            if !found {
                return Ok(None);
            }
            Ok(match self.reveal(&el.value, &el.attrs, p) {
                Revealed::Hidden => None,
                Revealed::Stored => {
                    if let (Some(ch), Some(t)) = (fill, tag) {
                        if el.attrs.is_empty() {
                            db.cache_value(k.key, ch, t, &el.value);
                        }
                    }
                    Some(f(&el.value))
                }
                Revealed::Decrypted(v) => Some(f(&v)),
            })
        })
    }

    /// The value of `key`; empty values read as missing.
    pub fn get(&self, key: &[u8], p: Protect) -> Result<Option<Vec<u8>>> {
        let db = self.db();
        let mut v = Vec::new();
        let (k, ch) = match Self::look_up(db, key, rcache::key_hash(key), &p, &mut v)? {
            Lookup::Hit(_) => return Ok(Some(v)),
            Lookup::Read(k, ch) => (k, ch.filter(|_| p.parts().attrs)),
        };
        // read into an element of its own, whose value is handed out without a copy
        let mut el = Element::default();
        let mut tag = None;
        let found = if ch.is_some() {
            db.get_into_tagged(&k, p.parts(), &mut el, &mut tag)?
        } else {
            db.get_into(&k, p.parts(), &mut el)?
        };
        if !found {
            return Ok(None);
        }
        Ok(match self.reveal(&el.value, &el.attrs, p) {
            Revealed::Hidden => None,
            Revealed::Stored => {
                if let (Some(ch), Some(t)) = (ch, tag) {
                    if el.attrs.is_empty() {
                        db.cache_value(key, ch, t, &el.value);
                    }
                }
                Some(el.value)
            }
            Revealed::Decrypted(v) => Some(v),
        })
    }

    /// `get` without the read cache (reads that would only fill it with values about to go,
    /// such as queue entries being popped).
    pub fn get_uncached(&self, key: &[u8], p: Protect) -> Result<Option<Vec<u8>>> {
        let Some(el) = self.db().get(key, p.parts())? else {
            return Ok(None);
        };
        Ok(match self.reveal(&el.value, &el.attrs, p) {
            Revealed::Hidden => None,
            Revealed::Stored => Some(el.value),
            Revealed::Decrypted(v) => Some(v),
        })
    }

    /// The subkey list of `key` (None when missing or empty).
    pub fn get_subkeys(&self, key: &[u8], protect: bool) -> Result<Option<Vec<Vec<u8>>>> {
        let Some(el) = self.db().get(key, Parts::SUBKEYS)? else {
            return Ok(None);
        };
        if protect && !Self::visible(&lists::parse_attrs(&el.attrs)) {
            return Ok(None);
        }
        let v = lists::parse_subkeys(&el.subkeys);
        Ok(if v.is_empty() { None } else { Some(v) })
    }

    pub fn get_attrs(&self, key: &[u8]) -> Result<Option<Vec<Attr>>> {
        let Some(el) = self.db().get(key, Parts::ATTRS)? else {
            return Ok(None);
        };
        let v = lists::parse_attrs(&el.attrs);
        Ok(if v.is_empty() { None } else { Some(v) })
    }

    // ------------------------------------------------------------------ writes

    /// With history on: move the current version of `key` to its history key (marked with
    /// the hismark attribute), as the original does, and return the uniqid that becomes the new
    /// version's parent id together with the element that was moved away. The move is logged as
    /// one RENAME record carrying the history key's attributes, like the original's log.
    fn save_history(
        &self,
        key: &[u8],
        conf: &AttrConf,
    ) -> Result<(Option<Vec<u8>>, Option<Element>)> {
        if !conf.history {
            return Ok((None, None));
        }
        let Some(old) = self.db().get(key, Parts::ALL)? else {
            return Ok((None, None));
        };
        let mut a = lists::parse_attrs(&old.attrs);
        if attrs::is_history(&a) {
            return Ok((None, None));
        }
        let uniq = lists::get_attr(&a, attrs::ATTR_UNIQID)
            .map(<[u8]>::to_vec)
            .unwrap_or_else(attrs::new_uniqid);
        lists::set_attr(&mut a, attrs::ATTR_UNIQID, &uniq);
        lists::set_attr(&mut a, attrs::ATTR_HISMARK, &[1]);
        let mut hkey = key.to_vec();
        hkey.push(0);
        hkey.extend_from_slice(uniq.strip_suffix(b"\0").unwrap_or(&uniq));
        hkey.push(0);
        if !self.rename_with_attrs(key, &hkey, Some(lists::serialize_attrs(&a)))? {
            return Ok((None, None));
        }
        Ok((Some(uniq), Some(old)))
    }

    fn history_attrs(a: &mut Vec<Attr>, parent: &Option<Vec<u8>>) {
        if let Some(p) = parent {
            lists::del_attr(a, attrs::ATTR_UNIQID);
            lists::set_attr(a, attrs::ATTR_PUNIQID, p);
        }
    }

    /// Overwrite the value; existing subkeys and attributes are kept, built-ins refreshed.
    pub fn set_value(
        &self,
        key: &[u8],
        value: &[u8],
        pass: Option<&str>,
        expire: Option<i64>,
    ) -> Result<()> {
        self.check_writable()?;
        let conf = self.conf();
        let (parent, moved) = self.save_history(key, &conf)?;
        let attrs_of = |old: Option<&Element>| -> Result<(Vec<u8>, Vec<u8>)> {
            let mut a = old
                .or(moved.as_ref())
                .map(|o| lists::parse_attrs(&o.attrs))
                .unwrap_or_default();
            Self::history_attrs(&mut a, &parent);
            self.run_hooks(key, value, &mut a);
            let v = conf.update(&mut a, value.to_vec(), pass, expire, AttrKind::Normal)?;
            Ok((v, lists::serialize_attrs(&a)))
        };
        if self.logged(key) || moved.is_some() {
            // logged as the original logs a set: DEL_KEY of the old version (or the RENAME of
            // its history copy above), then SET_ALL
            self.modify(key, |old| {
                let (v, a) = attrs_of(old)?;
                let subkeys = old
                    .or(moved.as_ref())
                    .map(|o| o.subkeys.clone())
                    .unwrap_or_default();
                Ok(Change::Set(Element {
                    value: v,
                    subkeys,
                    attrs: a,
                }))
            })?;
            return Ok(());
        }
        // Only the value and attributes change: rewrite those parts (in place when they fit
        // their pages), leave key and subkeys alone.
        self.db().modify_parts(key, Parts::ATTRS, |old| {
            let (v, a) = attrs_of(old)?;
            let same_attrs = old.is_some_and(|o| o.attrs == a);
            Ok(Change::Replace {
                value: Some(v),
                subkeys: None,
                attrs: (!same_attrs).then_some(a),
            })
        })?;
        Ok(())
    }

    /// Replace the key completely; children dropped from the subkey list are removed.
    pub fn set_all(
        &self,
        key: &[u8],
        value: &[u8],
        subkeys: &[Vec<u8>],
        pass: Option<&str>,
        expire: Option<i64>,
    ) -> Result<()> {
        let old = self.write_fresh(key, value, subkeys, pass, expire)?;
        if let Some(old) = old {
            let keep: std::collections::HashSet<&[u8]> =
                subkeys.iter().map(|k| k.as_slice()).collect();
            for k in lists::parse_subkeys(&old.subkeys) {
                if !keep.contains(k.as_slice()) {
                    self.remove_all(&k)?;
                }
            }
        }
        Ok(())
    }

    /// Write a brand-new element (attributes rebuilt from scratch); returns the old one.
    fn write_fresh(
        &self,
        key: &[u8],
        value: &[u8],
        subkeys: &[Vec<u8>],
        pass: Option<&str>,
        expire: Option<i64>,
    ) -> Result<Option<Element>> {
        self.check_writable()?;
        let conf = self.conf();
        let (parent, moved) = self.save_history(key, &conf)?;
        let old = self.modify(key, |_| {
            let mut a = Vec::new();
            Self::history_attrs(&mut a, &parent);
            self.run_hooks(key, value, &mut a);
            let v = conf.update(&mut a, value.to_vec(), pass, expire, AttrKind::Normal)?;
            Ok(Change::Set(Element {
                value: v,
                subkeys: lists::serialize_subkeys(subkeys),
                attrs: lists::serialize_attrs(&a),
            }))
        })?;
        Ok(old.or(moved))
    }

    /// A new element with an empty value, the given subkeys/attributes and the built-ins.
    fn create_empty(
        &self,
        key: &[u8],
        conf: &AttrConf,
        subkeys: Vec<u8>,
        mut a: Vec<Attr>,
    ) -> Result<Change> {
        self.run_hooks(key, &[], &mut a);
        let v = conf.update(&mut a, Vec::new(), None, None, AttrKind::Normal)?;
        Ok(Change::Set(Element {
            value: v,
            subkeys,
            attrs: lists::serialize_attrs(&a),
        }))
    }

    /// Replace only the subkey list (no built-in processing on an existing key).
    pub fn set_subkeys(&self, key: &[u8], subkeys: &[Vec<u8>]) -> Result<()> {
        self.check_writable()?;
        let conf = self.conf();
        let sk = lists::serialize_subkeys(subkeys);
        self.db()
            .modify(key, |old| self.subkeys_change(key, &conf, old, sk))?;
        Ok(())
    }

    /// Replace the subkey list of an existing element, or create one with an empty value.
    fn subkeys_change(
        &self,
        key: &[u8],
        conf: &AttrConf,
        old: Option<&Element>,
        sk: Vec<u8>,
    ) -> Result<Change> {
        match old {
            Some(_) => Ok(Change::Replace {
                value: None,
                subkeys: Some(sk),
                attrs: None,
            }),
            None => self.create_empty(key, conf, sk, Vec::new()),
        }
    }

    /// Set `child` as a fresh key with `value`, then list it under `parent`.
    pub fn add_subkey(
        &self,
        parent: &[u8],
        child: &[u8],
        value: &[u8],
        pass: Option<&str>,
        expire: Option<i64>,
    ) -> Result<()> {
        if child.is_empty() {
            return crate::error::invalid("empty subkey");
        }
        self.write_fresh(child, value, &[], pass, expire)?;
        let conf = self.conf();
        self.modify(parent, |old| {
            let mut list = old
                .map(|o| lists::parse_subkeys(&o.subkeys))
                .unwrap_or_default();
            // As the original, the parent's list is replaced even when the child was already
            // listed (one REP_SKEY record in the transaction log).
            if !list.iter().any(|k| k == child) {
                list.push(child.to_vec());
            }
            self.subkeys_change(parent, &conf, old, lists::serialize_subkeys(&list))
        })?;
        Ok(())
    }

    /// Add or replace one raw attribute.
    pub fn add_attr(&self, key: &[u8], name: &[u8], value: &[u8]) -> Result<()> {
        self.check_writable()?;
        if name.is_empty() {
            return crate::error::invalid("empty attribute name");
        }
        let conf = self.conf();
        self.modify(key, |old| match old {
            Some(o) => {
                let mut a = lists::parse_attrs(&o.attrs);
                lists::set_attr(&mut a, name, value);
                Ok(Change::Replace {
                    value: None,
                    subkeys: None,
                    attrs: Some(lists::serialize_attrs(&a)),
                })
            }
            None => {
                let mut a = Vec::new();
                lists::set_attr(&mut a, name, value);
                self.create_empty(key, &conf, Vec::new(), a)
            }
        })?;
        Ok(())
    }

    /// Remove one key (children survive). Removing a missing key succeeds.
    pub fn remove(&self, key: &[u8]) -> Result<Option<Element>> {
        self.check_writable()?;
        let conf = self.conf();
        self.save_history(key, &conf)?;
        self.delete(key)
    }

    /// Remove a key and, recursively, every key in its subkey list.
    pub fn remove_all(&self, key: &[u8]) -> Result<()> {
        let mut work = vec![key.to_vec()];
        let mut done = 0usize;
        while let Some(k) = work.pop() {
            done += 1;
            if done > 10_000_000 {
                return Err(K2hError::Corrupt("subkey graph too large".into()));
            }
            if let Some(old) = self.remove(&k)? {
                work.extend(lists::parse_subkeys(&old.subkeys).into_iter().rev());
            }
        }
        Ok(())
    }

    /// Unlist `child` from `parent` and remove it recursively, if `parent` lists it.
    pub fn remove_subkey(&self, parent: &[u8], child: &[u8]) -> Result<()> {
        self.check_writable()?;
        let mut listed = false;
        self.modify(parent, |old| {
            let Some(o) = old else {
                return Ok(Change::Keep);
            };
            let mut list = lists::parse_subkeys(&o.subkeys);
            let before = list.len();
            list.retain(|k| k != child);
            if list.len() == before {
                return Ok(Change::Keep);
            }
            listed = true;
            Ok(Change::Replace {
                value: None,
                subkeys: Some(lists::serialize_subkeys(&list)),
                attrs: None,
            })
        })?;
        if listed {
            self.remove_all(child)?;
        }
        Ok(())
    }

    pub fn rename(&self, old: &[u8], new: &[u8]) -> Result<bool> {
        self.rename_with_attrs(old, new, None)
    }

    /// Rename, and when `attrs` is given replace the renamed key's attributes with it (what a
    /// RENAME record with attributes means: the original writes one when it moves a key to its
    /// history copy). Logged as one RENAME record.
    pub fn rename_with_attrs(
        &self,
        old: &[u8],
        new: &[u8],
        attrs: Option<Vec<u8>>,
    ) -> Result<bool> {
        self.check_writable()?;
        let done = self.db().rename(old, new)?;
        if done {
            if let Some(a) = &attrs {
                self.db().modify(new, |_| {
                    Ok(Change::Replace {
                        value: None,
                        subkeys: None,
                        attrs: Some(a.clone()),
                    })
                })?;
            }
        }
        if done && self.logged(old) {
            let mut r = Record::new(Kind::Rename, old);
            r.exdata = new.to_vec();
            r.attrs = attrs.unwrap_or_default();
            self.trans.emit(&r);
        }
        Ok(done)
    }

    // ------------------------------------------------------------------ logged mutations
    //
    // Every write of this handle goes through these, so that an enabled transaction log gets
    // one record per change, as the original writes them.

    /// `Db::modify`, with the change recorded in the transaction log.
    pub fn modify(
        &self,
        key: &[u8],
        f: impl FnOnce(Option<&Element>) -> Result<Change>,
    ) -> Result<Option<Element>> {
        if !self.logged(key) {
            return self.db().modify(key, f);
        }
        let mut recs: Vec<Record> = Vec::new();
        let old = self.db().modify(key, |old| {
            let c = f(old)?;
            match (&c, old) {
                (Change::Keep, _) | (Change::Delete, None) => {}
                (Change::Delete, Some(_)) => recs.push(Record::new(Kind::DelKey, key)),
                // The original sets a key by removing the old one first: DEL_KEY, SET_ALL.
                (Change::Set(el), Some(_)) => {
                    recs.push(Record::new(Kind::DelKey, key));
                    recs.push(Record::set_all(key, el));
                }
                (Change::Set(el), None) => recs.push(Record::set_all(key, el)),
                (
                    Change::Replace {
                        value,
                        subkeys,
                        attrs,
                    },
                    None,
                ) => recs.push(Record::set_all(
                    key,
                    &Element {
                        value: value.clone().unwrap_or_default(),
                        subkeys: subkeys.clone().unwrap_or_default(),
                        attrs: attrs.clone().unwrap_or_default(),
                    },
                )),
                (
                    Change::Replace {
                        value,
                        subkeys,
                        attrs,
                    },
                    Some(_),
                ) => {
                    // one record per replaced part
                    if let Some(x) = value {
                        recs.push(Record {
                            value: x.clone(),
                            ..Record::new(Kind::ReplaceVal, key)
                        });
                    }
                    if let Some(x) = subkeys {
                        recs.push(Record {
                            subkeys: x.clone(),
                            ..Record::new(Kind::ReplaceSkey, key)
                        });
                    }
                    if let Some(x) = attrs {
                        recs.push(Record {
                            attrs: x.clone(),
                            ..Record::new(Kind::ReplaceAttrs, key)
                        });
                    }
                }
            }
            Ok(c)
        })?;
        for r in &recs {
            self.trans.emit(r);
        }
        Ok(old)
    }

    /// Store a whole element as given (no attribute processing).
    pub fn put(&self, key: &[u8], el: Element) -> Result<Option<Element>> {
        self.modify(key, |_| Ok(Change::Set(el)))
    }

    /// Remove one element (no history, children untouched).
    pub fn delete(&self, key: &[u8]) -> Result<Option<Element>> {
        self.modify(key, |old| Ok(Change::delete_existing(old)))
    }

    /// Overwrite part of a value at `offset` (extending it as needed; a gap reads as zeros).
    pub fn overwrite_value(&self, key: &[u8], offset: usize, data: &[u8]) -> Result<()> {
        self.check_writable()?;
        let end = offset
            .checked_add(data.len())
            .ok_or_else(|| K2hError::Invalid("offset too large".into()))?;
        self.db().modify(key, |old| {
            let mut v = old.map(|o| o.value.clone()).unwrap_or_default();
            if v.len() < end {
                v.resize(end, 0);
            }
            v[offset..end].copy_from_slice(data);
            Ok(Change::Replace {
                value: Some(v),
                subkeys: None,
                attrs: None,
            })
        })?;
        if self.logged(key) {
            let mut r = Record {
                value: data.to_vec(),
                ..Record::new(Kind::OwVal, key)
            };
            r.exdata = (offset as i64).to_le_bytes().to_vec();
            self.trans.emit(&r);
        }
        Ok(())
    }
}
