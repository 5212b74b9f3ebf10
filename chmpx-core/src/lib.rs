//! chmpx-core: the safe core of our chmpx replacement.
//!
//! * [`config`]: INI / YAML / JSON configuration loader with the original's defaults and quirks.
//! * [`wire`]: the byte-exact TCP frames exchanged between chmpx processes.

pub mod config;
pub mod dbg;
pub mod opts;
pub mod wire;
