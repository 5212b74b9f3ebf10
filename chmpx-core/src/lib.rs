//! chmpx-core: the safe core of our chmpx replacement.
//!
//! * [`config`]: INI / YAML / JSON configuration loader with the original's defaults and quirks.
//! * [`wire`]: the byte-exact TCP frames exchanged between chmpx processes.

pub mod client;
pub mod config;
pub mod ctl;
pub mod dbg;
pub mod ipc;
pub mod node;
pub mod opts;
pub mod ring;
pub mod server;
pub mod tls;
pub mod wire;
pub mod linetool;
