//! chmpx configuration: INI, YAML, JSON file or JSON string, with the original's defaults,
//! caps, coercions and quirks (spec section 3).
//!
//! Loading has three layers: [`source`] decides what the configuration string is (a file of
//! some type or a JSON document, with the `CHMCONFFILE`/`CHMJSONCONF` fallbacks), [`raw`] turns
//! text into ordered key/value sections, and [`build`] interprets those values into a
//! [`ChmConfig`] exactly once, for every syntax. [`print`] renders what `chmpxconftest` prints.

pub mod build;
pub mod hosts;
pub mod print;
pub mod raw;
pub mod source;
pub mod watch;

pub use hosts::HostPort;
pub use source::{ConfSource, ConfType};

use thiserror::Error;

/// A configuration that could not be loaded; the text says what and where.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl From<String> for ConfigError {
    fn from(s: String) -> Self {
        ConfigError(s)
    }
}

pub type Result<T> = std::result::Result<T, ConfigError>;

/// Port value meaning "not set" (`CHM_INVALID_PORT`).
pub const INVALID_PORT: i16 = -1;

// Limits and defaults (chmstructure.h, chmeventsock.h, chmeventmq.h, k2hash).
pub const DEFAULT_CHMPX_COUNT: i64 = 1024;
pub const MAX_CHMPX_COUNT: i64 = 1024 * 32;
pub const DEFAULT_REPLICA_COUNT: i64 = 0;
pub const DEFAULT_SERVER_MQ_CNT: i64 = 1;
pub const MAX_SERVER_MQ_CNT: i64 = 128;
pub const DEFAULT_CLIENT_MQ_CNT: i64 = 8192;
pub const MAX_MQUEUE_COUNT: i64 = 32768;
pub const MAX_CLIENT_MQ_CNT: i64 = MAX_MQUEUE_COUNT - MAX_SERVER_MQ_CNT;
pub const DEFAULT_MQ_PER_ATTACH: i64 = 1;
pub const MAX_MQ_PER_ATTACH: i64 = MAX_SERVER_MQ_CNT;
pub const DEFAULT_QUEUE_PER_SERVERMQ: i64 = 8;
pub const MAX_QUEUE_PER_SERVERMQ: i64 = 128;
pub const DEFAULT_QUEUE_PER_CLIENTMQ: i64 = 1;
pub const MAX_QUEUE_PER_CLIENTMQ: i64 = 128;
pub const DEFAULT_MQ_PER_CLIENT: i64 = 1;
pub const MAX_MQ_PER_CLIENT: i64 = MAX_SERVER_MQ_CNT;
pub const DEFAULT_HISTLOG_COUNT: i64 = 8192;
pub const MAX_HISTLOG_COUNT: i64 = 32768;
pub const DEFAULT_SOCK_RETRY: i32 = -1;
pub const DEFAULT_MQ_RETRY: i32 = 3;
pub const DEFAULT_SOCK_POOL_TIMEOUT: i64 = 60;
pub const DEFAULT_K2H_MASK_BITS: i32 = 8;
pub const DEFAULT_K2H_CMASK_BITS: i32 = 4;
pub const DEFAULT_K2H_MAX_ELEMENT: i32 = 32;
/// Longest certificate/key/CA path (exclusive).
pub const CHM_MAX_PATH_LEN: usize = 1024;

/// What a chmpxid is computed from (`CHMPXIDTYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChmpxIdType {
    #[default]
    Name,
    Cuk,
    CtlEndpoints,
    Custom,
}

impl ChmpxIdType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "NAME" => Self::Name,
            "CUK" => Self::Cuk,
            "CTLENDPOINTS" | "CTLEPS" => Self::CtlEndpoints,
            "CUSTOM" => Self::Custom,
            _ => return None,
        })
    }
    /// A number for the local protocol (`ipc::Response::Links`), and back.
    pub fn code(self) -> u8 {
        match self {
            Self::Name => 0,
            Self::Cuk => 1,
            Self::CtlEndpoints => 2,
            Self::Custom => 3,
        }
    }
    pub fn from_code(v: u8) -> Self {
        match v {
            1 => Self::Cuk,
            2 => Self::CtlEndpoints,
            3 => Self::Custom,
            _ => Self::Name,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "NAME",
            Self::Cuk => "CUK",
            Self::CtlEndpoints => "CTLENDPOINTS",
            Self::Custom => "CUSTOM",
        }
    }
}

/// `SSL_MIN_VER` values (`CHM_SSLTLS_VER_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMinVer {
    #[default]
    Default = 0,
    SslV2 = 1,
    SslV3 = 2,
    TlsV1_0 = 3,
    TlsV1_1 = 4,
    TlsV1_2 = 5,
    TlsV1_3 = 6,
}

impl SslMinVer {
    const TABLE: [(&'static str, SslMinVer); 7] = [
        ("DEFAULT", SslMinVer::Default),
        ("SSLV2", SslMinVer::SslV2),
        ("SSLV3", SslMinVer::SslV3),
        ("TLSV1.0", SslMinVer::TlsV1_0),
        ("TLSV1.1", SslMinVer::TlsV1_1),
        ("TLSV1.2", SslMinVer::TlsV1_2),
        ("TLSV1.3", SslMinVer::TlsV1_3),
    ];
    /// Empty text means DEFAULT; unknown text is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        if s.is_empty() {
            return Some(Self::Default);
        }
        Self::TABLE
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, v)| *v)
    }
    pub fn as_str(self) -> &'static str {
        Self::TABLE
            .iter()
            .find(|(_, v)| *v == self)
            .map(|(n, _)| *n)
            .unwrap_or("Unknown")
    }
}

/// One SVRNODE or SLVNODE entry after expansion and defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeConfig {
    /// Server: the resolved host name. Slave: a POSIX extended regex.
    pub name: String,
    /// Data port; -1 for slaves.
    pub port: i16,
    pub ctlport: i16,
    pub is_ssl: bool,
    pub verify_peer: bool,
    pub is_ca_file: bool,
    pub capath: String,
    pub server_cert: String,
    pub server_prikey: String,
    pub slave_cert: String,
    pub slave_prikey: String,
    pub cuk: String,
    pub endpoints: Vec<HostPort>,
    pub ctlendpoints: Vec<HostPort>,
    pub forward_peers: Vec<HostPort>,
    pub reverse_peers: Vec<HostPort>,
    pub custom_seed: String,
}

impl NodeConfig {
    /// Ring order: name, port, ctlport, cuk (the original's `chm_node_cfg_info_sort`).
    pub fn sort_key(&self) -> (&str, i16, i16, &str) {
        (&self.name, self.port, self.ctlport, &self.cuk)
    }
    /// Same node for de-duplication: name, ctlport and cuk.
    pub fn same_node(&self, other: &NodeConfig) -> bool {
        self.name == other.name && self.ctlport == other.ctlport && self.cuk == other.cuk
    }
}

/// A loaded configuration (`CHMCFGINFO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChmConfig {
    pub group: String,
    pub revision: i64,
    pub is_server_mode: bool,
    pub is_random_mode: bool,
    pub self_ctlport: i16,
    pub self_cuk: String,
    pub chmpxid_type: ChmpxIdType,
    pub max_chmpx_count: i64,
    pub replica_count: i64,
    pub max_server_mq_cnt: i64,
    pub max_client_mq_cnt: i64,
    pub mqcnt_per_attach: i64,
    pub max_q_per_servermq: i64,
    pub max_q_per_clientmq: i64,
    pub max_mq_per_client: i64,
    pub max_histlog_count: i64,
    pub retrycnt: i32,
    pub mq_retrycnt: i32,
    pub mq_ack: bool,
    /// RWTIMEOUT in microseconds (0 = the event layer's default).
    pub timeout_wait_socket: i32,
    /// CONTIMEOUT in microseconds (0 = default).
    pub timeout_wait_connect: i32,
    /// MQRWTIMEOUT in microseconds (0 = default).
    pub timeout_wait_mq: i32,
    pub is_auto_merge: bool,
    pub is_do_merge: bool,
    pub timeout_merge: i64,
    pub sock_thread_cnt: i32,
    pub mq_thread_cnt: i32,
    pub max_sock_pool: i32,
    pub sock_pool_timeout: i64,
    pub k2h_fullmap: bool,
    pub k2h_mask_bitcnt: i32,
    pub k2h_cmask_bitcnt: i32,
    pub k2h_max_element: i32,
    /// DATE as seconds since the epoch (0 when absent).
    pub date: i64,
    pub ssl_min_ver: SslMinVer,
    pub nssdb_dir: String,
    pub servers: Vec<NodeConfig>,
    pub slaves: Vec<NodeConfig>,
}

impl Default for ChmConfig {
    fn default() -> Self {
        ChmConfig {
            group: String::new(),
            revision: -1,
            is_server_mode: false,
            is_random_mode: false,
            self_ctlport: INVALID_PORT,
            self_cuk: String::new(),
            chmpxid_type: ChmpxIdType::Name,
            max_chmpx_count: DEFAULT_CHMPX_COUNT,
            replica_count: DEFAULT_REPLICA_COUNT,
            max_server_mq_cnt: DEFAULT_SERVER_MQ_CNT,
            max_client_mq_cnt: DEFAULT_CLIENT_MQ_CNT,
            mqcnt_per_attach: DEFAULT_MQ_PER_ATTACH,
            max_q_per_servermq: DEFAULT_QUEUE_PER_SERVERMQ,
            max_q_per_clientmq: DEFAULT_QUEUE_PER_CLIENTMQ,
            max_mq_per_client: DEFAULT_MQ_PER_CLIENT,
            max_histlog_count: DEFAULT_HISTLOG_COUNT,
            retrycnt: DEFAULT_SOCK_RETRY,
            mq_retrycnt: DEFAULT_MQ_RETRY,
            mq_ack: true,
            timeout_wait_socket: 0,
            timeout_wait_connect: 0,
            timeout_wait_mq: 0,
            is_auto_merge: false,
            is_do_merge: false,
            timeout_merge: 0,
            sock_thread_cnt: 0,
            mq_thread_cnt: 0,
            max_sock_pool: 1,
            sock_pool_timeout: DEFAULT_SOCK_POOL_TIMEOUT,
            k2h_fullmap: true,
            k2h_mask_bitcnt: DEFAULT_K2H_MASK_BITS,
            k2h_cmask_bitcnt: DEFAULT_K2H_CMASK_BITS,
            k2h_max_element: DEFAULT_K2H_MAX_ELEMENT,
            date: 0,
            ssl_min_ver: SslMinVer::Default,
            nssdb_dir: String::new(),
            servers: Vec::new(),
            slaves: Vec::new(),
        }
    }
}

/// Who is loading: the self control port and CUK given on the command line or through the
/// API override `SELFCTLPORT` / `SELFCUK`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelfIdentity {
    pub ctlport: Option<i16>,
    pub cuk: Option<String>,
}

impl ChmConfig {
    /// Loads from a configuration string (file path or JSON text). With `check_env`, an empty
    /// string falls back to `CHMCONFFILE`, then `CHMJSONCONF`.
    pub fn load(
        config: &str,
        who: &SelfIdentity,
        check_env: bool,
    ) -> Result<(ChmConfig, ConfSource)> {
        let source = ConfSource::detect(config, check_env)?;
        let cfg = Self::load_source(&source, who)?;
        Ok((cfg, source))
    }

    /// Loads (or reloads) from an already detected source.
    pub fn load_source(source: &ConfSource, who: &SelfIdentity) -> Result<ChmConfig> {
        let raw = source.read_raw()?;
        build::build(&raw, who)
    }

    /// The entry of this process in the server list, if it is a server.
    pub fn self_server(&self) -> Option<&NodeConfig> {
        if !self.is_server_mode {
            return None;
        }
        self.servers.iter().find(|n| {
            n.ctlport == self.self_ctlport
                && (self.self_cuk.is_empty() || n.cuk == self.self_cuk)
                && hosts::is_local(&hosts::host_names(&n.name))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ChmpxIdType;

    #[test]
    fn id_type_codes_round_trip() {
        for t in [
            ChmpxIdType::Name,
            ChmpxIdType::Cuk,
            ChmpxIdType::CtlEndpoints,
            ChmpxIdType::Custom,
        ] {
            assert_eq!(ChmpxIdType::from_code(t.code()), t);
        }
        assert_eq!(ChmpxIdType::from_code(200), ChmpxIdType::Name);
    }
}
