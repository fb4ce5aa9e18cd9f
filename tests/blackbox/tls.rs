//! HTTPS over real TLS connections: mutual TLS identifies members by their
//! client certificate and refuses unknown, expired and foreign ones; token
//! members keep working; TLS 1.1 is refused; a changed certificate is served
//! without a restart.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::status::metric;
use crate::support::*;

const MTLS_SUBJECT: &str = "CN=portal-mtls,O=So Thong tin va Truyen thong Test,C=VN";

fn name(o: &str, cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "VN");
    dn.push(DnType::OrganizationName, o);
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca(cn: &str) -> (KeyPair, String, CertificateParams) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name = name("Lienthong TLS tests", cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let pem = p.self_signed(&key).unwrap().pem();
    (key, pem, p)
}

/// A leaf signed by `issuer`: its certificate and key, PEM.
fn leaf(issuer: &Issuer<'_, &KeyPair>, o: &str, cn: &str, server: bool, expired: bool) -> (String, String) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name = name(o, cn);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.use_authority_key_identifier_extension = true;
    if server {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.subject_alt_names =
            vec![SanType::DnsName("localhost".try_into().unwrap()), SanType::IpAddress([127, 0, 0, 1].into())];
    } else {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    }
    if expired {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    (p.signed_by(&key, issuer).unwrap().pem(), key.serialize_pem())
}

/// Every certificate the tests use, written under `dir`.
struct Pki {
    server_ca: String,
    client_ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    /// A second server certificate, for the reload.
    next_server: (String, String),
    good: String,
    /// The good client certificate and its key, as files.
    good_files: (PathBuf, PathBuf),
    stranger: String,
    expired: String,
    foreign: String,
}

fn pki(dir: &Path) -> Pki {
    let (server_ca_key, server_ca, server_ca_params) = ca("Server CA");
    let server_issuer = Issuer::new(server_ca_params, &server_ca_key);
    let (client_ca_key, client_ca, client_ca_params) = ca("Client CA");
    let client_issuer = Issuer::new(client_ca_params, &client_ca_key);
    let (rogue_key, _, rogue_params) = ca("Client CA");
    let rogue = Issuer::new(rogue_params, &rogue_key);

    let write = |file: &str, text: &str| {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        path
    };
    let (cert, key) = leaf(&server_issuer, "Lienthong TLS tests", "gateway-a", true, false);
    let identity = |(cert, key): (String, String)| format!("{cert}{key}");
    let good = leaf(&client_issuer, "So Thong tin va Truyen thong Test", "portal-mtls", false, false);
    let good_files = (write("good.pem", &good.0), write("good.key.pem", &good.1));
    Pki {
        server_ca,
        client_ca: write("client-ca.pem", &client_ca),
        server_cert: write("server.pem", &cert),
        server_key: write("server.key.pem", &key),
        next_server: leaf(&server_issuer, "Lienthong TLS tests", "gateway-b", true, false),
        good: identity(good),
        good_files,
        stranger: identity(leaf(&client_issuer, "Someone Else", "stranger", false, false)),
        expired: identity(leaf(&client_issuer, "So Thong tin va Truyen thong Test", "portal-mtls", false, true)),
        // Same subject as the good one, from a CA of the same name that is not trusted.
        foreign: identity(leaf(&rogue, "So Thong tin va Truyen thong Test", "portal-mtls", false, false)),
    }
}

fn options(p: &Pki, reload: &str) -> Options {
    Options {
        plaintext: false,
        extra: format!(
            "[server.tls]\ncertificate = \"{}\"\nkey = \"{}\"\nclient_ca = [\"{}\"]\nreload_interval = \"{reload}\"\n\n\
             [[members]]\nid = \"portal-mtls\"\nrole = \"portal\"\nsend_to = [\"*\"]\nclient_certificate = {{ subject = \"{MTLS_SUBJECT}\" }}\n",
            p.server_cert.display(),
            p.server_key.display(),
            p.client_ca.display()
        ),
        ..Options::default()
    }
}

/// A client that trusts the test server CA, with a client certificate if given.
fn client(p: &Pki, identity: Option<&str>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(p.server_ca.as_bytes()).unwrap());
    if let Some(id) = identity {
        b = b.identity(reqwest::Identity::from_pem(id.as_bytes()).unwrap());
    }
    b.build().unwrap()
}

async fn submit(http: &reqwest::Client, base: &str, token: Option<&str>, code: &str) -> reqwest::Result<u16> {
    let mut req = http
        .post(format!("{base}/v1/dossiers"))
        .header("content-type", "application/json")
        .body(json_dossier(code).to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Ok(req.send().await?.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_identifies_members_and_refuses_bad_certificates() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let p = pki(dir.path());
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &options(&p, "10s"))).await;
    assert!(gw.url.starts_with("https://"), "{}", gw.url);
    let base = gw.url.clone();

    // The member bound to the good certificate is identified by it alone.
    let good = client(&p, Some(&p.good));
    assert_eq!(submit(&good, &base, None, "000.00.31.H29-261122-0001").await.unwrap(), 202);
    let r = good.get(format!("{base}/v1/dossiers/000.00.31.H29-261122-0001")).send().await.unwrap();
    let view: serde_json::Value = r.json().await.unwrap();
    assert_eq!(view["sender"], "portal-mtls", "{view}");

    // Token members keep their tokens over TLS, with or without a certificate.
    let plain = client(&p, None);
    assert_eq!(submit(&plain, &base, Some(PORTAL_TOKEN), "000.00.31.H29-261122-0002").await.unwrap(), 202);
    // A valid certificate no member is bound to identifies no one.
    let stranger = client(&p, Some(&p.stranger));
    assert_eq!(submit(&stranger, &base, None, "000.00.31.H29-261122-0003").await.unwrap(), 401);
    // Without its certificate, no token speaks for the mutual-TLS member.
    assert_eq!(submit(&plain, &base, Some("portal-mtls"), "000.00.31.H29-261122-0004").await.unwrap(), 401);

    // Expired, or from a CA that is not the client CA: the handshake fails.
    for (what, id) in [("expired", &p.expired), ("foreign CA", &p.foreign)] {
        let c = client(&p, Some(id));
        let r = submit(&c, &base, None, "000.00.31.H29-261122-0005").await;
        assert!(r.is_err(), "{what}: {r:?}");
    }
    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let http_url = base.replacen("https://", "http://", 1);
    assert!(reqwest::Client::new().get(format!("{http_url}/healthz")).send().await.is_err());

    let api = Api { base: base.clone(), http: plain };
    let refused = metric(&api, "lienthong_tls_handshake_failures_total", &[("reason", "refused")]).await;
    assert!(refused.unwrap_or(0.0) >= 2.0, "{refused:?}");
    assert_eq!(count_rows(&gw.database(), "dossiers"), 2);
}

/// A ClientHello announcing `version` (0x0302 for TLS 1.1, 0x0303 for 1.2) with
/// suites and extensions the server supports, so that only the version differs.
fn client_hello(version: u16) -> Vec<u8> {
    let mut hello = version.to_be_bytes().to_vec();
    hello.extend([7u8; 32]);
    hello.push(0);
    // ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256
    hello.extend([0x00, 0x04, 0xc0, 0x2b, 0xc0, 0x2f]);
    hello.extend([0x01, 0x00]);
    let extensions: &[u8] = &[
        0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, // supported_groups: x25519, P-256
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, // ec_point_formats: uncompressed
        0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x04, 0x03, 0x08, 0x04, // signature_algorithms
        0x00, 0x17, 0x00, 0x00, // extended_master_secret
    ];
    hello.extend((extensions.len() as u16).to_be_bytes());
    hello.extend(extensions);
    let mut hs = vec![0x01, 0, (hello.len() >> 8) as u8, hello.len() as u8];
    hs.extend(hello);
    let mut record = vec![0x16, 0x03, 0x01, (hs.len() >> 8) as u8, hs.len() as u8];
    record.extend(hs);
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_tls_1_2_and_1_3_are_spoken() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let p = pki(dir.path());
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &options(&p, "10s"))).await;
    for version in [reqwest::tls::Version::TLS_1_2, reqwest::tls::Version::TLS_1_3] {
        let c = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(p.server_ca.as_bytes()).unwrap())
            .min_tls_version(version)
            .max_tls_version(version)
            .build()
            .unwrap();
        let r = c.get(format!("{}/healthz", gw.url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{version:?}");
    }
    // The same hello, as TLS 1.2 and as TLS 1.1.
    let addr = gw.url.trim_start_matches("https://").to_owned();
    let first_record = |version: u16| {
        let addr = addr.clone();
        async move {
            let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
            tcp.write_all(&client_hello(version)).await.unwrap();
            let mut answer = vec![0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut answer)).await.unwrap().unwrap();
            answer.truncate(n);
            answer
        }
    };
    let tls12 = first_record(0x0303).await;
    assert_eq!((tls12[0], tls12[5]), (0x16, 0x02), "a ServerHello for TLS 1.2: {tls12:?}");
    let tls11 = first_record(0x0302).await;
    assert!(tls11.len() >= 7, "{tls11:?}");
    assert_eq!((tls11[0], tls11[5]), (0x15, 2), "a fatal alert for TLS 1.1, not a ServerHello: {tls11:?}");
    assert!([70, 40].contains(&tls11[6]), "protocol_version or handshake_failure: {tls11:?}");
}

/// The certificate a TLS handshake with `addr` is answered with, PEM-decoded DER.
async fn served_certificate(addr: &str, ca_pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

fn der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_certificate_is_served_without_a_restart_and_a_broken_one_is_not() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let p = pki(dir.path());
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &options(&p, "100ms"))).await;
    let addr = gw.url.trim_start_matches("https://").to_owned();
    let first = std::fs::read_to_string(&p.server_cert).unwrap();
    assert_eq!(served_certificate(&addr, &p.server_ca).await, der(&first));

    // Renewed: key first, then the certificate (as a renewal job writes them).
    std::fs::write(&p.server_key, &p.next_server.1).unwrap();
    std::fs::write(&p.server_cert, &p.next_server.0).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while served_certificate(&addr, &p.server_ca).await != der(&p.next_server.0) {
        assert!(Instant::now() < deadline, "the new certificate was not picked up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A broken certificate file keeps the last good configuration.
    std::fs::write(&p.server_cert, "not a certificate").unwrap();
    let api = Api { base: gw.url.clone(), http: client(&p, None) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&api, "lienthong_tls_reloads_total", &[("result", "error")]).await.is_none() {
        assert!(Instant::now() < deadline, "the broken file was not noticed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(served_certificate(&addr, &p.server_ca).await, der(&p.next_server.0));
    assert_eq!(metric(&api, "lienthong_tls_reloads_total", &[("result", "ok")]).await, Some(1.0));
}

/// A TLS front for `target` (a plain-HTTP simulator) that requires a client
/// certificate from the test client CA, as a ministry's endpoint would.
async fn tls_front(target: std::net::SocketAddr, p: &Pki) -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(&p.client_ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
    let chain: Vec<_> =
        rustls::pki_types::CertificateDer::pem_file_iter(&p.server_cert).unwrap().map(|c| c.unwrap()).collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&p.server_key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut up) = tokio::net::TcpStream::connect(target).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agencies_are_reached_over_tls_with_their_own_trust_anchors_and_client_certificate() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let p = pki(dir.path());
    let front = tls_front(sim.addr(), &p).await;
    let url = format!("https://localhost:{}", front.port());
    let ca = dir.path().join("server-ca.pem");
    std::fs::write(&ca, &p.server_ca).unwrap();
    // DVCQG with its CA and the gateway's client certificate; `other`, at the same
    // endpoint, with neither.
    let opts = Options {
        delivery_extra: "status_sync_agency = \"\"".into(),
        extra: format!(
            "[delivery.agencies.dvcqg.tls]\nca = [\"{}\"]\nclient_certificate = \"{}\"\nclient_key = \"{}\"\n",
            ca.display(),
            p.good_files.0.display(),
            p.good_files.1.display()
        ),
        ..Options::default()
    };
    let gw = GatewayProcess::start(&write_config(dir.path(), &url, &opts)).await;
    let api = Api::new(&gw.url);
    let to_dvcqg = "000.00.31.H29-261122-0001";
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(to_dvcqg).to_string()).await.0, 202);
    api.wait_all_delivered(to_dvcqg, 1, Duration::from_secs(15)).await;
    assert_eq!(sim.received().iter().filter(|r| r.ma_ho_so == to_dvcqg).count(), 1);

    let mut other = json_dossier("000.00.31.H29-261122-0002");
    other["MaTTHC"] = "3.000181".into();
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", other.to_string()).await.0, 202);
    let view = api.wait_delivery("000.00.31.H29-261122-0002", "retrying", Duration::from_secs(15)).await;
    assert!(!view["deliveries"][0]["last_error"].as_str().unwrap_or_default().is_empty(), "{view}");
    assert_eq!(sim.received().len(), 1, "nothing reached the agency without its trust anchor and certificate");
}
