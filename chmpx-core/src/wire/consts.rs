//! Protocol constants: versions, COMPKT types, C2C delivery types, PXCOM type numbers, result
//! codes, REQ_UPDATEDATA flags, the server status word and fixed sizes.
//!
//! Values are those of chmpx 1.0.113 (`lib/chmcomstructure.h`, `lib/chmstructure.h`,
//! `lib/chmcommon.h`); sizes were checked with `sizeof`/`offsetof` on x86-64.

// ---------------------------------------------------------------------------------------------
// COMPKT.head.version
// ---------------------------------------------------------------------------------------------

/// Version not yet negotiated (treated as "current" by the original).
pub const COM_VERSION_UNINIT: u64 = 0;
/// Protocol of chmpx before 1.0.71. C2C frames always carry this value.
pub const COM_VERSION_1: u64 = 1;
/// Protocol of chmpx 1.0.71 and later; every PX2PX frame we build carries it.
pub const COM_VERSION_2: u64 = 2;

// ---------------------------------------------------------------------------------------------
// COMPKT.head.type
// ---------------------------------------------------------------------------------------------

/// Unknown / uninitialised.
pub const COM_UNKNOWN: u64 = 0;
/// Client to client data (payload = user body, not converted). Travels on TCP.
pub const COM_C2C: u64 = 1;
/// chmpx to chmpx control (payload = a PXCOM structure). Travels on TCP.
pub const COM_PX2PX: u64 = 2;
/// Signal to chmpx (process-internal).
pub const COM_S2PX: u64 = 3;
/// inotify to chmpx (process-internal).
pub const COM_F2PX: u64 = 4;
/// Client to chmpx notification (MQ only).
pub const COM_C2PX: u64 = 5;
/// chmpx to client notification (MQ only).
pub const COM_PX2C: u64 = 6;
/// Ours only, never sent to an original chmpx: on a direct link, the client asks the server
/// to hand the link to its own client (the k2hdkc server), and whoever serves the link
/// answers with the same type (`Frame::link`, `crate::served`). Sent only to a server that
/// answered CAPS with `SERVELINK`.
pub const COM_LINK: u64 = 0x4C49_4E4B;
/// [`COM_LINK`] payload: the client asks for the link to be served by the server's client.
pub const LINK_ASK: u8 = 1;
/// [`COM_LINK`] payload: the server's client serves the link from now on.
pub const LINK_SERVED: u8 = 2;
/// [`COM_LINK`] payload: chmpx keeps the link (no client of the server serves links).
pub const LINK_KEPT: u8 = 3;
/// [`COM_LINK`] payload, first frame of a new connection: the client of server `dept` (its
/// k2hdkc server) sends its copies on it to the client of server `term` (`crate::copies`).
pub const LINK_ASK_COPIES: u8 = 4;

// ---------------------------------------------------------------------------------------------
// COMPKT.head.c2ctype
// ---------------------------------------------------------------------------------------------

/// Not a C2C packet (PX2PX frames carry this).
pub const COM_C2C_IGNORE: u64 = 0x0;
/// Deliver to the primary server of the hash only.
pub const COM_C2C_NORMAL: u64 = 0x1;
/// Deliver to the first usable server among primary + replicas.
pub const COM_C2C_ROUTING: u64 = 0x2;
/// Deliver to every up, non-suspended server.
pub const COM_C2C_BROADCAST: u64 = 0x3;
/// Deliver to every primary + replica candidate.
pub const COM_C2C_RBROADCAST: u64 = 0x4;
/// Mask selecting the delivery mode out of `c2ctype`.
pub const COM_C2C_MODE_MASK: u64 = 0x7;
/// Flag: do not deliver to the sending chmpx itself.
pub const COM_C2C_NOT_SELF: u64 = 0x10;

// ---------------------------------------------------------------------------------------------
// PXCOM_HEAD.type
// ---------------------------------------------------------------------------------------------

/// Unknown.
pub const CHMPX_COM_UNKNOWN: u64 = 0;
/// v1 (deprecated 1.0.71): status request.
pub const CHMPX_COM_STATUS_REQ: u64 = 1;
/// v1: status response.
pub const CHMPX_COM_STATUS_RES: u64 = 2;
/// v1: connection init request.
pub const CHMPX_COM_CONINIT_REQ: u64 = 3;
/// v1: connection init response.
pub const CHMPX_COM_CONINIT_RES: u64 = 4;
/// v1: join ring.
pub const CHMPX_COM_JOIN_RING: u64 = 5;
/// v1: status update.
pub const CHMPX_COM_STATUS_UPDATE: u64 = 6;
/// v1: status confirm.
pub const CHMPX_COM_STATUS_CONFIRM: u64 = 7;
/// v1: status change.
pub const CHMPX_COM_STATUS_CHANGE: u64 = 8;
/// Ring: start merging.
pub const CHMPX_COM_MERGE_START: u64 = 9;
/// Ring: abort merging.
pub const CHMPX_COM_MERGE_ABORT: u64 = 10;
/// Ring: complete merging.
pub const CHMPX_COM_MERGE_COMPLETE: u64 = 11;
/// Ring: a server went down.
pub const CHMPX_COM_SERVER_DOWN: u64 = 12;
/// Ring: request merge data.
pub const CHMPX_COM_REQ_UPDATEDATA: u64 = 13;
/// Direct: merge data blob.
pub const CHMPX_COM_RES_UPDATEDATA: u64 = 14;
/// Direct: result of applying merge data.
pub const CHMPX_COM_RESULT_UPDATEDATA: u64 = 15;
/// Ring: suspend auto merge (1.0.54).
pub const CHMPX_COM_MERGE_SUSPEND: u64 = 16;
/// Ring: resume auto merge (1.0.54).
pub const CHMPX_COM_MERGE_NOSUSPEND: u64 = 17;
/// Request the auto-merge suspend flag (1.0.57).
pub const CHMPX_COM_MERGE_SUSPEND_GET: u64 = 18;
/// Response with the auto-merge suspend flag (1.0.57).
pub const CHMPX_COM_MERGE_SUSPEND_RES: u64 = 19;
/// Protocol/binary version request (1.0.71).
pub const CHMPX_COM_VERSION_REQ: u64 = 20;
/// Protocol/binary version response (1.0.71).
pub const CHMPX_COM_VERSION_RES: u64 = 21;
/// Status table request.
pub const CHMPX_COM_N2_STATUS_REQ: u64 = 22;
/// Status table response.
pub const CHMPX_COM_N2_STATUS_RES: u64 = 23;
/// Connection init request (first message on a new connection after VERSION_REQ).
pub const CHMPX_COM_N2_CONINIT_REQ: u64 = 24;
/// Connection init response.
pub const CHMPX_COM_N2_CONINIT_RES: u64 = 25;
/// Ring: a server joins.
pub const CHMPX_COM_N2_JOIN_RING: u64 = 26;
/// Ring: push the whole status table.
pub const CHMPX_COM_N2_STATUS_UPDATE: u64 = 27;
/// Ring: compare status tables before a merge.
pub const CHMPX_COM_N2_STATUS_CONFIRM: u64 = 28;
/// Ring (and to slaves): one server's status changed.
pub const CHMPX_COM_N2_STATUS_CHANGE: u64 = 29;

/// `PXCOM_HEAD.result`: success.
pub const CHMPX_COM_RES_SUCCESS: u64 = 0;
/// `PXCOM_HEAD.result`: error.
pub const CHMPX_COM_RES_ERROR: u64 = 1;

// ---------------------------------------------------------------------------------------------
// REQ_UPDATEDATA per-chmpxid status (reqidmapflag_t)
// ---------------------------------------------------------------------------------------------

/// Initial value.
pub const CHMPX_COM_REQ_UPDATE_INIVAL: u64 = 0;
/// The target can run the update.
pub const CHMPX_COM_REQ_UPDATE_DO: u64 = 1;
/// The target cannot run the update.
pub const CHMPX_COM_REQ_UPDATE_NOACT: u64 = 2;
/// The update succeeded.
pub const CHMPX_COM_REQ_UPDATE_SUCCESS: u64 = 3;
/// The update failed.
pub const CHMPX_COM_REQ_UPDATE_FAIL: u64 = 4;

// ---------------------------------------------------------------------------------------------
// Server status word (chmpxsts_t)
// ---------------------------------------------------------------------------------------------

/// LIVE field mask.
pub const CHMPXSTS_MASK_LIVE: u64 = 0x1;
/// RING field mask.
pub const CHMPXSTS_MASK_RING: u64 = 0x30;
/// ACTION field mask.
pub const CHMPXSTS_MASK_ACTION: u64 = 0x300;
/// OPERATE field mask.
pub const CHMPXSTS_MASK_OPERATE: u64 = 0x3000;
/// SUSPEND field mask.
pub const CHMPXSTS_MASK_SUSPEND: u64 = 0x10000;
/// Every defined bit.
pub const CHMPXSTS_MASK_ALL: u64 = CHMPXSTS_MASK_LIVE
    | CHMPXSTS_MASK_RING
    | CHMPXSTS_MASK_ACTION
    | CHMPXSTS_MASK_OPERATE
    | CHMPXSTS_MASK_SUSPEND;

/// LIVE: down.
pub const CHMPXSTS_VAL_DOWN: u64 = 0x0;
/// LIVE: up.
pub const CHMPXSTS_VAL_UP: u64 = 0x1;
/// RING: slave (not on the ring).
pub const CHMPXSTS_VAL_SLAVE: u64 = 0x00;
/// RING: server, service out.
pub const CHMPXSTS_VAL_SRVOUT: u64 = 0x10;
/// RING: server, service in.
pub const CHMPXSTS_VAL_SRVIN: u64 = 0x20;
/// ACTION: none.
pub const CHMPXSTS_VAL_NOACT: u64 = 0x000;
/// ACTION: being added.
pub const CHMPXSTS_VAL_ADD: u64 = 0x100;
/// ACTION: being deleted.
pub const CHMPXSTS_VAL_DELETE: u64 = 0x200;
/// OPERATE: nothing.
pub const CHMPXSTS_VAL_NOTHING: u64 = 0x0000;
/// OPERATE: pending.
pub const CHMPXSTS_VAL_PENDING: u64 = 0x1000;
/// OPERATE: doing.
pub const CHMPXSTS_VAL_DOING: u64 = 0x2000;
/// OPERATE: done.
pub const CHMPXSTS_VAL_DONE: u64 = 0x3000;
/// SUSPEND: not suspended.
pub const CHMPXSTS_VAL_NOSUP: u64 = 0x00000;
/// SUSPEND: suspended (no client attached).
pub const CHMPXSTS_VAL_SUSPEND: u64 = 0x10000;

/// Named state.
pub const CHMPXSTS_SLAVE_UP_NORMAL: u64 = 0x1;
/// Named state.
pub const CHMPXSTS_SLAVE_DOWN_NORMAL: u64 = 0x0;
/// Named state.
pub const CHMPXSTS_SRVOUT_UP_NORMAL: u64 = 0x11;
/// Named state.
pub const CHMPXSTS_SRVOUT_DOWN_NORMAL: u64 = 0x10;
/// Named state.
pub const CHMPXSTS_SRVIN_UP_NORMAL: u64 = 0x21;
/// Named state.
pub const CHMPXSTS_SRVIN_UP_PENDING: u64 = 0x1021;
/// Named state.
pub const CHMPXSTS_SRVIN_UP_MERGING: u64 = 0x2021;
/// Named state.
pub const CHMPXSTS_SRVIN_UP_MERGED: u64 = 0x3021;
/// Named state.
pub const CHMPXSTS_SRVIN_UP_ADDPENDING: u64 = 0x1121;
/// Named state.
pub const CHMPXSTS_SRVIN_UP_ADDING: u64 = 0x2121;
/// Named state.
pub const CHMPXSTS_SRVIN_UP_ADDED: u64 = 0x3121;
/// Named state.
pub const CHMPXSTS_SRVIN_UP_DELPENDING: u64 = 0x1221;
/// Named state.
pub const CHMPXSTS_SRVIN_UP_DELETING: u64 = 0x2221;
/// Named state.
pub const CHMPXSTS_SRVIN_UP_DELETED: u64 = 0x3221;
/// Named state.
pub const CHMPXSTS_SRVIN_DOWN_NORMAL: u64 = 0x20;
/// Named state.
pub const CHMPXSTS_SRVIN_DOWN_DELPENDING: u64 = 0x1220;
/// Named state.
pub const CHMPXSTS_SRVIN_DOWN_DELETED: u64 = 0x3220;

/// The named states considered "SAFE" (ignoring the SUSPEND bit).
pub const CHMPXSTS_SAFE_STATES: [u64; 17] = [
    CHMPXSTS_SLAVE_UP_NORMAL,
    CHMPXSTS_SLAVE_DOWN_NORMAL,
    CHMPXSTS_SRVIN_UP_NORMAL,
    CHMPXSTS_SRVIN_UP_PENDING,
    CHMPXSTS_SRVIN_UP_MERGING,
    CHMPXSTS_SRVIN_UP_MERGED,
    CHMPXSTS_SRVIN_UP_ADDPENDING,
    CHMPXSTS_SRVIN_UP_ADDING,
    CHMPXSTS_SRVIN_UP_ADDED,
    CHMPXSTS_SRVIN_UP_DELPENDING,
    CHMPXSTS_SRVIN_UP_DELETING,
    CHMPXSTS_SRVIN_UP_DELETED,
    CHMPXSTS_SRVIN_DOWN_NORMAL,
    CHMPXSTS_SRVIN_DOWN_DELPENDING,
    CHMPXSTS_SRVIN_DOWN_DELETED,
    CHMPXSTS_SRVOUT_UP_NORMAL,
    CHMPXSTS_SRVOUT_DOWN_NORMAL,
];

/// `IS_SAFE_CHMPXSTS`: only defined bits set, and one of the named states apart from SUSPEND.
pub fn chmpxsts_is_safe(status: u64) -> bool {
    status & !CHMPXSTS_MASK_ALL == 0
        && CHMPXSTS_SAFE_STATES.contains(&(status & !CHMPXSTS_MASK_SUSPEND))
}

// ---------------------------------------------------------------------------------------------
// Invalid values
// ---------------------------------------------------------------------------------------------

/// `CHM_INVALID_ID` (-1).
pub const CHM_INVALID_ID: i64 = -1;
/// `CHM_INVALID_PORT` (-1, stored in a `short`).
pub const CHM_INVALID_PORT: i16 = -1;
/// `CHM_INVALID_CHMPXID`: all ones.
pub const CHM_INVALID_CHMPXID: u64 = u64::MAX;
/// `CHM_INVALID_MSGID`: all ones.
pub const CHM_INVALID_MSGID: u64 = u64::MAX;
/// `CHM_INVALID_HASHVAL`: all ones (also the `hash` of every PX2PX frame).
pub const CHM_INVALID_HASHVAL: u64 = u64::MAX;
/// `MIN_MQ_SERIAL_NUMBER`: the `mq_serial_num` of frames on TCP.
pub const MIN_MQ_SERIAL_NUMBER: u64 = 0;
/// `MAX_MQ_SERIAL_NUMBER`.
pub const MAX_MQ_SERIAL_NUMBER: u64 = 0x3FFF_FFFF;

// ---------------------------------------------------------------------------------------------
// Array limits and structure sizes
// ---------------------------------------------------------------------------------------------

/// `NI_MAXHOST`: size of every host name field.
pub const NI_MAXHOST: usize = 1025;
/// `CHM_MAX_PATH_LEN`: size of each SSL path field.
pub const CHM_MAX_PATH_LEN: usize = 1024;
/// `CUK_MAX`.
pub const CUK_MAX: usize = 2048;
/// `CUSTOM_ID_SEED_MAX`.
pub const CUSTOM_ID_SEED_MAX: usize = 2048;
/// `EXTERNAL_EP_MAX`: entries in `endpoints` / `ctlendpoints`.
pub const EXTERNAL_EP_MAX: usize = 4;
/// `FORWARD_PEER_MAX`.
pub const FORWARD_PEER_MAX: usize = 4;
/// `REVERSE_PEER_MAX`.
pub const REVERSE_PEER_MAX: usize = 4;
/// `CHMPX_VERSION_MAX`: size of VERSION_RES `chmpx_str_version`.
pub const CHMPX_VERSION_MAX: usize = 32;
/// `COMMIT_HASH_MAX`: size of VERSION_RES `commit_hash`.
pub const COMMIT_HASH_MAX: usize = 32;

/// `sizeof(PCKID)`.
pub const PCKID_SIZE: usize = 16;
/// `sizeof(COMHEAD)`.
pub const COMHEAD_SIZE: usize = 104;
/// `sizeof(COMPKT)`: the frame header.
pub const COMPKT_SIZE: usize = 120;
/// `sizeof(PXCOM_HEAD)`.
pub const PXCOM_HEAD_SIZE: usize = 24;
/// `sizeof(CHMPXHP_RAWPAIR)`: `char name[1025]; short port`.
pub const CHMPXHP_RAWPAIR_SIZE: usize = 1027;
/// `sizeof(CHMPXSSL)`.
pub const CHMPXSSL_SIZE: usize = 5123;
/// `sizeof(CHMPXSVR)`.
pub const CHMPXSVR_SIZE: usize = 26720;
/// `sizeof(CHMPXSVRV1)` (protocol v1 server record; not handled here).
pub const CHMPXSVRV1_SIZE: usize = 6192;
/// `sizeof(PXCOMMON_MERGE_PARAM)`.
pub const PXCOMMON_MERGE_PARAM_SIZE: usize = 65;
/// `sizeof(PXCOM_REQ_IDMAP)`.
pub const PXCOM_REQ_IDMAP_SIZE: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_states_are_built_from_fields() {
        assert_eq!(
            CHMPXSTS_SRVIN_UP_ADDPENDING,
            CHMPXSTS_VAL_UP | CHMPXSTS_VAL_SRVIN | CHMPXSTS_VAL_ADD | CHMPXSTS_VAL_PENDING
        );
        assert_eq!(
            CHMPXSTS_SRVIN_DOWN_DELETED,
            CHMPXSTS_VAL_DOWN | CHMPXSTS_VAL_SRVIN | CHMPXSTS_VAL_DELETE | CHMPXSTS_VAL_DONE
        );
        assert_eq!(CHMPXSTS_MASK_ALL, 0x13331);
    }

    #[test]
    fn safe_status() {
        assert!(chmpxsts_is_safe(0x10011)); // SRVOUT_UP_NORMAL | SUSPEND
        assert!(chmpxsts_is_safe(CHMPXSTS_SRVIN_UP_MERGING));
        assert!(!chmpxsts_is_safe(0x31)); // RING field 0x30 is not a defined value
        assert!(!chmpxsts_is_safe(0x10_0000 | CHMPXSTS_SRVIN_UP_NORMAL));
        assert!(!chmpxsts_is_safe(
            CHMPXSTS_VAL_UP | CHMPXSTS_VAL_SLAVE | CHMPXSTS_VAL_ADD
        ));
    }
}
