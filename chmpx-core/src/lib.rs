//! chmpx-core: the safe core of our chmpx replacement (see docs/architecture.md, "chmpx").
//!
//! * [`config`]: INI / YAML / JSON configuration loader with the original's defaults and quirks.
//! * [`wire`]: the byte-exact TCP frames exchanged between chmpx processes.
//! * [`ring`]: chmpxids, status words, the server table and the hash -> receivers rules.
//! * [`node`]: the chmpx process as a state machine (inputs in, outputs out, no I/O).
//! * [`server`]: the one-thread event loop around a [`node::Node`]; [`tls`] its TLS setup.
//! * [`ctl`]: control-port commands and texts; [`linetool`]: chmpxlinetool.
//! * [`ipc`], [`client`]: the local protocol between a client process and its chmpx;
//!   [`merge_client`]: the merge channel of a client-on-server (its merge callbacks);
//!   [`direct`]: a client's links to the servers; [`served`]: links a server's client serves;
//!   [`copies`]: a server's client sends its copies on links of its own.
//! * [`dbg`], [`opts`]: the original's debug output and option syntax.
//! * [`toolcommon`]: what the command line tools share (start, error lines, C numbers).

pub mod client;
pub mod config;
pub mod copies;
pub mod ctl;
pub mod dbg;
pub mod direct;
pub mod ipc;
pub mod linetool;
pub mod merge_client;
pub mod node;
pub mod opts;
pub mod ring;
pub mod served;
pub mod server;
pub mod spin;
pub mod tls;
pub mod toolcommon;
pub mod wire;
