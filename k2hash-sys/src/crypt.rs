//! Value encryption compatible with the original: AES-256-CBC with PKCS#7 padding, keys from
//! PBKDF2-HMAC-SHA512 (default) or OpenSSL's EVP_BytesToKey with MD5 (legacy "PBKDF1").
use crate::error::{K2hError, Result};
use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use md5::{Digest, Md5};

type Enc = cbc::Encryptor<aes::Aes256>;
type Dec = cbc::Decryptor<aes::Aes256>;

pub const ATTR_PBKDF2: &[u8] = b"aes256_cbc_pad.pbkdf2.sha256\0";
pub const ATTR_PBKDF1: &[u8] = b"aes256md5\0";
pub const DEFAULT_ITER: u32 = 1000;
/// Most PBKDF2 iterations accepted (about a second of work); a larger count in a stored value
/// is treated as damage instead of hanging the reader.
pub const MAX_ITER: u32 = 1_000_000;
const MAGIC: &[u8] = b"Salted__";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncType {
    Pbkdf1,
    Pbkdf2,
}

/// base64(MD5(pass)) as stored (without the trailing NUL).
pub fn pass_digest(pass: &str) -> String {
    let d = Md5::digest(pass.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(d)
}

fn random(buf: &mut [u8]) -> Result<()> {
    getrandom::getrandom(buf).map_err(|e| K2hError::Crypt(e.to_string()))
}

fn bytes_to_key(pass: &[u8], salt: &[u8]) -> ([u8; 32], [u8; 16]) {
    let mut out = Vec::with_capacity(48);
    let mut prev: Vec<u8> = Vec::new();
    while out.len() < 48 {
        let mut h = Md5::new();
        h.update(&prev);
        h.update(pass);
        h.update(salt);
        prev = h.finalize().to_vec();
        out.extend_from_slice(&prev);
    }
    let mut k = [0u8; 32];
    let mut iv = [0u8; 16];
    k.copy_from_slice(&out[..32]);
    iv.copy_from_slice(&out[32..48]);
    (k, iv)
}

fn pbkdf2_key(pass: &[u8], salt: &[u8], iter: u32) -> [u8; 32] {
    let mut k = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(pass, salt, iter.max(1), &mut k);
    k
}

pub fn encrypt(kind: EncType, pass: &str, iter: u32, plain: &[u8]) -> Result<Vec<u8>> {
    let mut salt = [0u8; 8];
    random(&mut salt)?;
    let mut out = Vec::with_capacity(64 + plain.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&salt);
    match kind {
        EncType::Pbkdf1 => {
            let (k, iv) = bytes_to_key(pass.as_bytes(), &salt);
            out.extend(Enc::new(&k.into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(plain));
        }
        EncType::Pbkdf2 => {
            let mut iv = [0u8; 16];
            random(&mut iv)?;
            let mut itf = [0u8; 16];
            random(&mut itf)?;
            itf[..4].copy_from_slice(&iter.to_le_bytes());
            out.extend_from_slice(&iv);
            out.extend_from_slice(&itf);
            let k = pbkdf2_key(pass.as_bytes(), &salt, iter);
            out.extend(Enc::new(&k.into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(plain));
        }
    }
    Ok(out)
}

pub fn decrypt(kind: EncType, pass: &str, data: &[u8]) -> Result<Vec<u8>> {
    let bad = || K2hError::Crypt("not an encrypted k2hash value".into());
    if data.len() < 16 || &data[..8] != MAGIC {
        return Err(bad());
    }
    let salt = &data[8..16];
    let r = match kind {
        EncType::Pbkdf1 => {
            let (k, iv) = bytes_to_key(pass.as_bytes(), salt);
            Dec::new(&k.into(), &iv.into()).decrypt_padded_vec_mut::<Pkcs7>(&data[16..])
        }
        EncType::Pbkdf2 => {
            if data.len() < 48 {
                return Err(bad());
            }
            let iv: [u8; 16] = data[16..32].try_into().map_err(|_| bad())?;
            let iter = u32::from_le_bytes(data[32..36].try_into().map_err(|_| bad())?);
            if iter == 0 || iter > MAX_ITER {
                return Err(K2hError::Crypt(format!(
                    "iteration count {iter} is out of range"
                )));
            }
            let k = pbkdf2_key(pass.as_bytes(), salt, iter);
            Dec::new(&k.into(), &iv.into()).decrypt_padded_vec_mut::<Pkcs7>(&data[48..])
        }
    };
    r.map_err(|_| K2hError::Crypt("decryption failed (wrong pass phrase?)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn roundtrip_both() {
        for k in [EncType::Pbkdf1, EncType::Pbkdf2] {
            let c = encrypt(k, "pw", 1000, b"plaintext\0").unwrap();
            assert_eq!(decrypt(k, "pw", &c).unwrap(), b"plaintext\0");
            assert!(decrypt(k, "other", &c)
                .map(|v| v != b"plaintext\0")
                .unwrap_or(true));
        }
        let c = encrypt(EncType::Pbkdf2, "pw", 1000, b"1234567").unwrap();
        assert_eq!(c.len(), 64);
        assert_eq!(&c[32..36], &[0xe8, 3, 0, 0]);
    }
    #[test]
    fn digest_matches_original() {
        assert_eq!(pass_digest("pw"), "j+TBFFEoHAlKZXjm3b9e7Q==");
    }
}
