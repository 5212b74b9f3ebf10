//! TLS between chmpx processes, configured with the original's SSL keys: a server with
//! SSL = yes and SSL_VERIFY_PEER = yes, a slave presenting a client certificate of the same CA.
//! A slave whose certificate comes from another CA is refused.

mod common;

use chmpx_core::client::Client;
use chmpx_core::wire::COM_C2C_ROUTING;
use common::*;
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};

struct Pki {
    ca: String,
    cert: String,
    key: String,
}

fn make_pki(dir: &std::path::Path, tag: &str) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let w = |name: &str, text: String| {
        let p = dir.join(format!("{tag}-{name}"));
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    Pki {
        ca: w("ca.pem", ca.pem()),
        cert: w("cert.pem", cert.pem()),
        key: w("key.pem", key.serialize_pem()),
    }
}

#[test]
fn tls_ring_with_client_certificates() {
    let base = ports(10);
    let layout = Layout {
        servers: vec![(base, base + 1)],
        slave_ctl: base + 2,
        replica: 0,
        mode: "hash",
    };
    let mut cl = Cluster::new(&format!("TLS{base}"));
    let good = make_pki(cl.dir.path(), "good");
    let other = make_pki(cl.dir.path(), "other");
    let ssl = format!(
        "SSL = yes\nSSL_VERIFY_PEER = yes\nCAPATH = {}\nSERVER_CERT = {}\nSERVER_PRIKEY = {}\nSLAVE_CERT = {}\nSLAVE_PRIKEY = {}\n",
        good.ca, good.cert, good.key, good.cert, good.key
    );
    let sconf = cl.conf(&layout, base + 1, &ssl);
    let lconf = cl.conf(&layout, base + 2, &ssl);
    cl.start("server", &sconf);
    cl.start("slave", &lconf);
    wait_for("control ports", || {
        ctl(base + 1, "VERSION").is_some() && ctl(base + 2, "VERSION").is_some()
    });
    let mut srv = Client::attach(sconf.to_str().unwrap(), true, false).unwrap();
    wait_for("slave sees the server in service over TLS", || {
        ctl(base + 2, "DUMP")
            .is_some_and(|d| d.contains("[SERVICE IN][UP][n/a][Nothing][NoSuspend]"))
    });
    wait_for("SSL in the server's SELFSTATUS", || {
        ctl(base + 1, "SELFSTATUS").is_some_and(|s| s.contains("SSL Connection        = yes"))
    });
    let mut sl = Client::attach(lconf.to_str().unwrap(), false, false).unwrap();
    let msgid = sl.open().unwrap();
    for i in 0..20u64 {
        assert_eq!(
            sl.send(msgid, format!("tls {i}").as_bytes(), i, COM_C2C_ROUTING)
                .unwrap(),
            1
        );
        let (pkt, body) = srv
            .receive(None, 5000)
            .unwrap()
            .expect("delivered over TLS");
        assert_eq!(body, format!("tls {i}").as_bytes());
        srv.reply(&pkt, b"back").unwrap();
        assert_eq!(
            sl.receive(Some(msgid), 5000).unwrap().expect("reply").1,
            b"back"
        );
    }

    // A second slave (own ctlport) with a certificate of another CA: the server refuses it,
    // so it never sees the server in service and its sends find no receiver.
    let layout2 = Layout {
        servers: layout.servers.clone(),
        slave_ctl: base + 3,
        replica: 0,
        mode: "hash",
    };
    let bad = format!(
        "SSL = yes\nSSL_VERIFY_PEER = yes\nCAPATH = {}\nSERVER_CERT = {}\nSERVER_PRIKEY = {}\nSLAVE_CERT = {}\nSLAVE_PRIKEY = {}\n",
        good.ca, good.cert, good.key, other.cert, other.key
    );
    let bconf = cl.conf(&layout2, base + 3, &bad);
    cl.start("bad", &bconf);
    wait_for("bad slave control port", || {
        ctl(base + 3, "VERSION").is_some()
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        !ctl(base + 3, "DUMP").unwrap().contains("[SERVICE IN][UP]"),
        "refused slave must not get the status"
    );
    let mut b = Client::attach(bconf.to_str().unwrap(), false, false).unwrap();
    let m = b.open().unwrap();
    assert_eq!(b.send(m, b"x", 0, COM_C2C_ROUTING).unwrap(), -1);
    // The good slave still works.
    assert_eq!(sl.send(msgid, b"still", 1, COM_C2C_ROUTING).unwrap(), 1);
    assert_eq!(
        srv.receive(None, 5000).unwrap().expect("still delivered").1,
        b"still"
    );
}
