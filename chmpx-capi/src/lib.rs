//! libchmpx.so.1: a memory-safe replacement of chmpx's client library.
//!
//! The exported C ABI (`capi`) is that of the original chmpx.h plus the other C symbols the
//! original exports (chmdbg.h, chmhash.h, chmutil.h, chmconfutil.h): 65 functions and the
//! variables `chm_debug_mode`, `chm_dbg_fp` and `chmpx_commit_hash`, nothing else. Clients talk
//! to the local chmpx process through `chmpx_core::client` (one Unix socket per handle) instead
//! of the original's shared memory, k2hash file and POSIX message queues; both ends are ours.
//!
//! Deliberate differences from the original:
//! * chmpx handles are ids in a table and packet handles are checked against the packets this
//!   library handed out: a stale, foreign, destroyed or made-up value makes a function return
//!   false / an invalid value instead of crashing (a packet released with `free()` instead of
//!   `chmpx_pkth_destroy` is simply never looked at again);
//! * NULL pointers, NULL buffers with a length, and serialised pairs whose lengths run past the
//!   data (`cvt_bin_kvp`) are refused instead of dereferenced;
//! * a receive waits for the socket without holding the handle, so other threads can send or
//!   reply on the same handle meanwhile;
//! * `SetChmDbgMode` refuses values that are not a level; `CHMDBGMODE`/`CHMDBGFILE` are read
//!   at the first call of any function (the original read them at the first debug call);
//! * a send that reaches no chmpx (e.g. `chmpx_svr_replicate` with REPLICA 0, which leaves this
//!   server out) returns false, since our chmpx answers every send with its receiver count.
pub mod capi;
