//! k2hash: a memory-safe, file-compatible reimplementation of Yahoo! JAPAN's k2hash library.
//!
//! The safe core (`engine`, `k2h`, `attrs`, `lists`, `crypt`, `hash`) is usable from Rust; the
//! `capi` module exports the original C ABI of `libk2hash.so.1`.
pub mod archive;
pub mod attrs;
pub mod capi;
pub mod crypt;
pub mod dump;
pub mod engine;
pub mod error;
pub mod format;
pub mod hints;
pub use k2hash_hash as hash;
pub mod k2h;
pub mod lists;
pub mod lock;
pub mod queue;
pub mod rcache;
pub mod record;
pub mod replicate;
pub mod store;
pub mod trans;
pub mod transpool;

pub use engine::{Db, Element, Layout, Parts};
pub use error::{K2hError, Result};
pub use k2h::{K2h, Protect};
