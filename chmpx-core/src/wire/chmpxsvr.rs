//! `CHMPXSVR`, the fixed 26 720-byte server record of the status messages, and its parts
//! `CHMPXHP_RAWPAIR` (host + port, 1027 bytes) and `CHMPXSSL` (5123 bytes).
//!
//! `CHMPXSVR` layout (packed; offsets verified with `offsetof` against the original headers):
//!
//! | offset | size | field | encoding |
//! |---|---|---|---|
//! | 0 | 8 | `chmpxid` | BE u64 |
//! | 8 | 1025 | `name` | `char[NI_MAXHOST]` |
//! | 1033 | 8 | `base_hash` | BE u64 |
//! | 1041 | 8 | `pending_hash` | BE u64 |
//! | 1049 | 2 | `port` | BE i16 |
//! | 1051 | 2 | `ctlport` | BE i16 |
//! | 1053 | 5123 | `ssl` | 3 raw bools, then 5 × `char[1024]` (capath, server_cert, server_prikey, slave_cert, slave_prikey) |
//! | 6176 | 8 | `last_status_time` | BE i64, `(tv_sec << 24) \| tv_usec` |
//! | 6184 | 8 | `status` | BE u64 (`chmpxsts_t`) |
//! | 6192 | 2048 | `cuk` | `char[CUK_MAX]` |
//! | 8240 | 2048 | `custom_seed` | `char[CUSTOM_ID_SEED_MAX]` |
//! | 10288 | 4 × 1027 | `endpoints` | `{char name[1025]; BE i16 port}` each |
//! | 14396 | 4 × 1027 | `ctlendpoints` | same |
//! | 18504 | 4 × 1027 | `forward_peers` | same |
//! | 22612 | 4 × 1027 | `reverse_peers` | same |
//!
//! Text fields become `String`s: on encode they are cut to `size - 1` bytes (on a UTF-8
//! character boundary) and NUL-padded; on decode they stop at the first NUL, and invalid UTF-8
//! is replaced by U+FFFD.

use super::bytes::{put_bool, put_fixed_str, put_i16, put_i64, put_u64, Reader};
use super::consts::*;
use super::WireError;

/// `CHMPXHP_RAWPAIR`: a host name and a port (`char name[1025]; short port`, 1027 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct HostPort {
    /// Host name or address; empty for an unused slot.
    pub name: String,
    /// Port as the original's signed `short` (ports above 32767 are negative).
    pub port: i16,
}

impl HostPort {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        put_fixed_str(out, &self.name, NI_MAXHOST);
        put_i16(out, self.port);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<HostPort, WireError> {
        Ok(HostPort {
            name: r.fixed_str(NI_MAXHOST)?,
            port: r.i16()?,
        })
    }

    pub(crate) fn write_array(list: &[HostPort; 4], out: &mut Vec<u8>) {
        for hp in list {
            hp.write(out);
        }
    }

    pub(crate) fn read_array(r: &mut Reader<'_>) -> Result<[HostPort; 4], WireError> {
        Ok([
            HostPort::read(r)?,
            HostPort::read(r)?,
            HostPort::read(r)?,
            HostPort::read(r)?,
        ])
    }
}

/// What an original chmpx (on a little-endian host) makes of a pair port it receives in
/// `N2_CONINIT_REQ`.
///
/// The original receiver converts those four arrays' ports with `be64toh` on a 16-bit value
/// (`NTOH_PPXCOM_N2_CONINIT_REQ`, chmcomstructure.h): the short read in host order is widened
/// with sign extension, byte-swapped as 64 bits and cut back to 16 bits, which leaves 0 or -1.
/// Our decoder reads the ports correctly as BE16; this function only exists for code that wants
/// to reproduce what an original acceptor sees (e.g. when recomputing a chmpxid from the
/// control endpoints).
pub fn original_coninit_port(port: i16) -> i16 {
    // The wire holds `port` big-endian; a little-endian host reads it byte-swapped.
    if port.swap_bytes() < 0 {
        -1
    } else {
        0
    }
}

/// `CHMPXSSL`: the TLS settings of a server (5123 bytes; bools raw, paths `char[1024]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ChmpxSsl {
    /// The server speaks TLS.
    pub is_ssl: bool,
    /// The server verifies client certificates.
    pub verify_peer: bool,
    /// `capath` is a file rather than a directory.
    pub is_ca_file: bool,
    /// CA file or directory.
    pub capath: String,
    /// Server certificate path.
    pub server_cert: String,
    /// Server private key path.
    pub server_prikey: String,
    /// Client (slave) certificate path.
    pub slave_cert: String,
    /// Client (slave) private key path.
    pub slave_prikey: String,
}

impl ChmpxSsl {
    fn write(&self, out: &mut Vec<u8>) {
        put_bool(out, self.is_ssl);
        put_bool(out, self.verify_peer);
        put_bool(out, self.is_ca_file);
        for s in [
            &self.capath,
            &self.server_cert,
            &self.server_prikey,
            &self.slave_cert,
            &self.slave_prikey,
        ] {
            put_fixed_str(out, s, CHM_MAX_PATH_LEN);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<ChmpxSsl, WireError> {
        Ok(ChmpxSsl {
            is_ssl: r.bool()?,
            verify_peer: r.bool()?,
            is_ca_file: r.bool()?,
            capath: r.fixed_str(CHM_MAX_PATH_LEN)?,
            server_cert: r.fixed_str(CHM_MAX_PATH_LEN)?,
            server_prikey: r.fixed_str(CHM_MAX_PATH_LEN)?,
            slave_cert: r.fixed_str(CHM_MAX_PATH_LEN)?,
            slave_prikey: r.fixed_str(CHM_MAX_PATH_LEN)?,
        })
    }
}

/// `CHMPXSVR`: one server's entry in the status tables (26 720 bytes on the wire; layout in the
/// module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ChmpxSvr {
    /// The server's chmpxid.
    pub chmpxid: u64,
    /// Host name.
    pub name: String,
    /// Base hash slot (all ones = none).
    pub base_hash: u64,
    /// Pending hash slot (all ones = none).
    pub pending_hash: u64,
    /// Data port.
    pub port: i16,
    /// Control port.
    pub ctlport: i16,
    /// TLS settings.
    pub ssl: ChmpxSsl,
    /// Last status change, `(tv_sec << 24) | tv_usec`.
    pub last_status_time: i64,
    /// Status word (`CHMPXSTS_*`).
    pub status: u64,
    /// CUK.
    pub cuk: String,
    /// Custom chmpxid seed.
    pub custom_seed: String,
    /// External data endpoints.
    pub endpoints: [HostPort; EXTERNAL_EP_MAX],
    /// External control endpoints.
    pub ctlendpoints: [HostPort; EXTERNAL_EP_MAX],
    /// Forward (NAT) gateway peers.
    pub forward_peers: [HostPort; FORWARD_PEER_MAX],
    /// Reverse (NAT) gateway peers.
    pub reverse_peers: [HostPort; REVERSE_PEER_MAX],
}

impl ChmpxSvr {
    /// Encoded size: [`CHMPXSVR_SIZE`].
    pub const SIZE: usize = CHMPXSVR_SIZE;

    /// Append the 26 720 wire bytes to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        put_u64(out, self.chmpxid);
        put_fixed_str(out, &self.name, NI_MAXHOST);
        put_u64(out, self.base_hash);
        put_u64(out, self.pending_hash);
        put_i16(out, self.port);
        put_i16(out, self.ctlport);
        self.ssl.write(out);
        put_i64(out, self.last_status_time);
        put_u64(out, self.status);
        put_fixed_str(out, &self.cuk, CUK_MAX);
        put_fixed_str(out, &self.custom_seed, CUSTOM_ID_SEED_MAX);
        HostPort::write_array(&self.endpoints, out);
        HostPort::write_array(&self.ctlendpoints, out);
        HostPort::write_array(&self.forward_peers, out);
        HostPort::write_array(&self.reverse_peers, out);
    }

    /// The 26 720 wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CHMPXSVR_SIZE);
        self.encode_into(&mut out);
        out
    }

    /// Decode a record occupying exactly all of `buf`.
    pub fn decode(buf: &[u8]) -> Result<ChmpxSvr, WireError> {
        if buf.len() != CHMPXSVR_SIZE {
            return Err(WireError::LengthMismatch {
                what: "CHMPXSVR",
                declared: CHMPXSVR_SIZE as u64,
                actual: buf.len() as u64,
            });
        }
        ChmpxSvr::read(&mut Reader::new(buf))
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<ChmpxSvr, WireError> {
        Ok(ChmpxSvr {
            chmpxid: r.u64()?,
            name: r.fixed_str(NI_MAXHOST)?,
            base_hash: r.u64()?,
            pending_hash: r.u64()?,
            port: r.i16()?,
            ctlport: r.i16()?,
            ssl: ChmpxSsl::read(r)?,
            last_status_time: r.i64()?,
            status: r.u64()?,
            cuk: r.fixed_str(CUK_MAX)?,
            custom_seed: r.fixed_str(CUSTOM_ID_SEED_MAX)?,
            endpoints: HostPort::read_array(r)?,
            ctlendpoints: HostPort::read_array(r)?,
            forward_peers: HostPort::read_array(r)?,
            reverse_peers: HostPort::read_array(r)?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn hp(prefix: &str, i: usize, port: i16) -> HostPort {
        HostPort {
            name: format!("{prefix}{i}.example"),
            port,
        }
    }

    /// A record with every field distinct (same values as the C++ probe used for the goldens).
    pub(crate) fn sample_svr(k: u64) -> ChmpxSvr {
        ChmpxSvr {
            chmpxid: 0x232e_14b7_ba0c_76d8 + k,
            name: format!("server{k}.example.com"),
            base_hash: k,
            pending_hash: u64::MAX,
            port: 8020 + 2 * k as i16,
            ctlport: (40000 + k as i32) as i16,
            ssl: ChmpxSsl {
                is_ssl: true,
                verify_peer: false,
                is_ca_file: true,
                capath: "/etc/ca".into(),
                server_cert: "/s.crt".into(),
                server_prikey: "/s.key".into(),
                slave_cert: "/c.crt".into(),
                slave_prikey: "/c.key".into(),
            },
            last_status_time: 30_129_394_945_726_103 + k as i64,
            status: 0x10011,
            cuk: format!("cuk-{k}"),
            custom_seed: format!("seed-{k}"),
            endpoints: std::array::from_fn(|i| hp("ep", i, 1000 + i as i16)),
            ctlendpoints: std::array::from_fn(|i| hp("cep", i, (50000 + i as i32) as i16)),
            forward_peers: std::array::from_fn(|i| hp("fw", i, 2000 + i as i16)),
            reverse_peers: std::array::from_fn(|i| hp("rv", i, 3000 + i as i16)),
        }
    }

    fn be64(b: &[u8], off: usize) -> u64 {
        u64::from_be_bytes(b[off..off + 8].try_into().unwrap())
    }

    fn be16(b: &[u8], off: usize) -> i16 {
        i16::from_be_bytes(b[off..off + 2].try_into().unwrap())
    }

    fn cstr(b: &[u8], off: usize) -> &str {
        let end = b[off..].iter().position(|&c| c == 0).unwrap() + off;
        std::str::from_utf8(&b[off..end]).unwrap()
    }

    #[test]
    fn sizes() {
        let mut v = Vec::new();
        HostPort::default().write(&mut v);
        assert_eq!(v.len(), CHMPXHP_RAWPAIR_SIZE);
        v.clear();
        ChmpxSsl::default().write(&mut v);
        assert_eq!(v.len(), CHMPXSSL_SIZE);
        assert_eq!(ChmpxSvr::default().encode().len(), CHMPXSVR_SIZE);
        assert_eq!(sample_svr(3).encode().len(), CHMPXSVR_SIZE);
    }

    #[test]
    fn field_offsets_match_the_c_layout() {
        let s = sample_svr(1);
        let b = s.encode();
        assert_eq!(be64(&b, 0), s.chmpxid);
        assert_eq!(cstr(&b, 8), "server1.example.com");
        assert_eq!(be64(&b, 1033), 1);
        assert_eq!(be64(&b, 1041), u64::MAX);
        assert_eq!(be16(&b, 1049), 8022);
        assert_eq!(be16(&b, 1051), 40001u16 as i16);
        assert_eq!(&b[1053..1056], &[1, 0, 1]);
        assert_eq!(cstr(&b, 1056), "/etc/ca");
        assert_eq!(cstr(&b, 1056 + 1024), "/s.crt");
        assert_eq!(cstr(&b, 1056 + 2048), "/s.key");
        assert_eq!(cstr(&b, 1056 + 3072), "/c.crt");
        assert_eq!(cstr(&b, 1056 + 4096), "/c.key");
        assert_eq!(be64(&b, 6176), 30_129_394_945_726_104);
        assert_eq!(be64(&b, 6184), 0x10011);
        assert_eq!(cstr(&b, 6192), "cuk-1");
        assert_eq!(cstr(&b, 8240), "seed-1");
        for (base, prefix, port0) in [
            (10288, "ep", 1000i32),
            (14396, "cep", 50000),
            (18504, "fw", 2000),
            (22612, "rv", 3000),
        ] {
            for i in 0..4 {
                let off = base + i * CHMPXHP_RAWPAIR_SIZE;
                assert_eq!(cstr(&b, off), format!("{prefix}{i}.example"));
                assert_eq!(be16(&b, off + NI_MAXHOST), (port0 + i as i32) as i16);
            }
        }
        assert_eq!(22612 + 4 * CHMPXHP_RAWPAIR_SIZE, CHMPXSVR_SIZE);
    }

    #[test]
    fn round_trip() {
        for s in [ChmpxSvr::default(), sample_svr(0), sample_svr(9)] {
            assert_eq!(ChmpxSvr::decode(&s.encode()).unwrap(), s);
        }
    }

    #[test]
    fn decode_requires_exact_size() {
        let b = sample_svr(0).encode();
        assert!(ChmpxSvr::decode(&b[..CHMPXSVR_SIZE - 1]).is_err());
        let mut longer = b.clone();
        longer.push(0);
        assert!(ChmpxSvr::decode(&longer).is_err());
    }

    #[test]
    fn long_text_is_truncated_and_terminated() {
        let mut s = ChmpxSvr {
            name: "n".repeat(5000),
            cuk: "c".repeat(CUK_MAX),
            ..Default::default()
        };
        s.endpoints[3].name = "e".repeat(NI_MAXHOST);
        let b = s.encode();
        assert_eq!(b.len(), CHMPXSVR_SIZE);
        assert_eq!(b[8 + NI_MAXHOST - 1], 0);
        let d = ChmpxSvr::decode(&b).unwrap();
        assert_eq!(d.name.len(), NI_MAXHOST - 1);
        assert_eq!(d.cuk.len(), CUK_MAX - 1);
        assert_eq!(d.endpoints[3].name.len(), NI_MAXHOST - 1);
    }

    #[test]
    fn unterminated_and_non_utf8_text_decodes() {
        let mut b = ChmpxSvr::default().encode();
        b[8..8 + NI_MAXHOST].fill(b'a'); // no NUL at all inside name[1025]
        b[6192] = 0xff;
        let d = ChmpxSvr::decode(&b).unwrap();
        assert_eq!(d.name.len(), NI_MAXHOST);
        assert_eq!(d.base_hash, 0);
        assert_eq!(d.cuk, "\u{fffd}");
    }

    #[test]
    fn original_port_quirk() {
        // 8031 = 0x1f5f: read byte-swapped on little-endian = 0x5f1f > 0, becomes 0.
        assert_eq!(original_coninit_port(8031), 0);
        // 1000 = 0x03e8: byte-swapped 0xe803 < 0, becomes -1.
        assert_eq!(original_coninit_port(1000), -1);
        assert_eq!(original_coninit_port(50000u16 as i16), 0);
        assert_eq!(original_coninit_port(0), 0);
    }
}
