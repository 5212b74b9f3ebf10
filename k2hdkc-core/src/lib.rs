//! k2hdkc-core: the safe core of our k2hdkc replacement (issue 12, in progress).
//!
//! * [`wire`]: the messages between libk2hdkc and the k2hdkc server (and between servers),
//!   carried as chmpx message bodies, byte for byte as the original 1.0.19 builds them.
//! * [`config`]: the `K2HDKC` section of the configuration.
//! * [`server`]: the `k2hdkc` process (database, chmpx attachment, merge callbacks, loop);
//!   [`dbg`]: its debug output.
//! * [`composite`]: requests a server completes with sub-requests to others (REN).
//! * [`handler`]: what a server does with a primitive request on its k2hash (answer, copy).

pub mod composite;
pub mod config;
pub mod dbg;
pub mod handler;
pub mod server;
pub use k2hdkc_wire as wire;
