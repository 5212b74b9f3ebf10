//! TLS between chmpx processes with rustls, configured by the original's keys: a server with
//! `SSL = yes` takes TLS on its data port with SERVER_CERT/SERVER_PRIKEY and, with
//! `SSL_VERIFY_PEER = yes`, requires a client certificate signed by a CA of CAPATH; whoever
//! connects to such a server speaks TLS, presents SLAVE_CERT/SLAVE_PRIKEY when it has them and
//! checks the server's chain against its CAPATH. As with the original, the server's host name
//! is not matched against its certificate (chmpx authenticates peers by the configuration and
//! chmpxid instead); `-allowselfcert` accepts any server certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring as provider, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

use crate::config::NodeConfig;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(provider::default_provider())
}

fn certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let v: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("certificate {path}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("certificate {path}: {e}"))?;
    if v.is_empty() {
        return Err(format!("certificate {path}: no PEM certificate in it"));
    }
    Ok(v)
}

fn key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| format!("private key {path}: {e}"))
}

/// The CAs of CAPATH: a PEM bundle file, or every PEM file of a directory.
fn roots(capath: &str) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let p = Path::new(capath);
    let files: Vec<String> = if p.is_dir() {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .map_err(|e| format!("CAPATH {capath}: {e}"))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .filter_map(|p| p.to_str().map(str::to_string))
            .collect();
        v.sort();
        v
    } else {
        vec![capath.to_string()]
    };
    for f in files {
        if let Ok(list) = certs(&f) {
            for c in list {
                let _ = store.add(c);
            }
        }
    }
    if store.is_empty() {
        return Err(format!("CAPATH {capath}: no CA certificate found"));
    }
    Ok(store)
}

/// Server side of the data port, when this server has SSL on.
pub fn server_config(node: &NodeConfig) -> Result<Option<Arc<ServerConfig>>, String> {
    if !node.is_ssl {
        return Ok(None);
    }
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = if node.verify_peer {
        let roots = Arc::new(roots(&node.capath)?);
        let v = rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider())
            .build()
            .map_err(|e| format!("client verifier: {e}"))?;
        builder.with_client_cert_verifier(v)
    } else {
        builder.with_no_client_auth()
    };
    let cfg = builder
        .with_single_cert(certs(&node.server_cert)?, key(&node.server_prikey)?)
        .map_err(|e| format!("server certificate: {e}"))?;
    Ok(Some(Arc::new(cfg)))
}

/// Checks the server's chain against our CAs (or nothing, with `allow_any`), not its name.
#[derive(Debug)]
struct ChainOnly {
    roots: Option<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Client side, for connecting to SSL servers: our CAs and our client certificate.
pub fn client_config(
    node: &NodeConfig,
    allow_any_server: bool,
) -> Result<Arc<ClientConfig>, String> {
    let provider = provider();
    let roots = if allow_any_server || node.capath.is_empty() {
        if !allow_any_server {
            log::warn!("no CAPATH: the certificates of SSL servers are not checked");
        }
        None
    } else {
        Some(roots(&node.capath)?)
    };
    let verifier = Arc::new(ChainOnly {
        roots,
        provider: provider.clone(),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let cfg = if !node.slave_cert.is_empty() && !node.slave_prikey.is_empty() {
        builder
            .with_client_auth_cert(certs(&node.slave_cert)?, key(&node.slave_prikey)?)
            .map_err(|e| format!("client certificate: {e}"))?
    } else {
        builder.with_no_client_auth()
    };
    Ok(Arc::new(cfg))
}

/// The name given to rustls for a connection (unused for verification, needed by the API).
pub fn server_name(host: &str) -> ServerName<'static> {
    ServerName::try_from(host.to_string())
        .unwrap_or_else(|_| ServerName::try_from("chmpx").expect("static name"))
}
