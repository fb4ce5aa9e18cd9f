//! Deliveries to an agency that takes signed messages carry the gateway's
//! detached JWS over the exact delivered body.

use std::time::Duration;

use crate::dev_pki::dev_pki;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_to_an_agency_that_takes_signed_messages_carry_the_gateways_signature() {
    let pki = dev_pki();
    let sims = gateway::demo::Simulators::start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), "u", "s")
        .await
        .expect("simulators start");
    let url = |a: &str| sims.received().into_iter().find(|(n, _, _)| *n == a).map(|(_, u, _)| u).unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    let (gw_key, _, gw_chain) = pki.files("lienthong-gateway");
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
[store]
data_dir = "{data}"
[delivery]
poll_interval = "100ms"
backoff_initial = "100ms"
backoff_max = "500ms"
[[members]]
id = "portal-h29"
role = "portal"
token_sha256 = "{portal}"
[[members]]
id = "ops"
role = "operator"
token_sha256 = "{operator}"
[agencies.dvcqg]
kind = "dvcqg"
url = "{dvcqg}"
username = "u"
password = "s"
unit_code = "000.00.00.G22"
[agencies.moit]
kind = "moit"
url = "{moit}"
client_id = "u"
client_secret = "s"
scope = "hoso.submit hoso.read giayphep.read"
sign_requests = true
[signatures]
key = "{key}"
certificate_chain = "{chain}"
"#,
        data = dir.path().join("data").display(),
        portal = gateway::auth::hash_token(PORTAL_TOKEN),
        operator = gateway::auth::hash_token(OPERATOR_TOKEN),
        dvcqg = url("dvcqg"),
        moit = url("moit"),
        key = gw_key.display(),
        chain = gw_chain.display(),
    );
    let config = dir.path().join("lienthong.toml");
    std::fs::write(&config, text).unwrap();
    let gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    let body = std::fs::read(crate::dev_pki::repo_root().join("schemas/examples/ban-le-ruou.json")).unwrap();
    let code = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["MaHoSo"].as_str().unwrap().to_owned();
    let (status, receipt) = api.submit(PORTAL_TOKEN, "application/json", body).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(receipt["agency"], "moit");
    api.wait_all_delivered(&code, 2, Duration::from_secs(15)).await;

    let received = sims.moit.received();
    assert_eq!(received.len(), 1);
    let jws = received[0].signature.as_deref().expect("the delivery carries X-JWS-Signature");
    let store = schemas::pki::TrustStore::load(&[pki.roots()], schemas::pki::RevocationPolicy::Require).unwrap();
    store.reload_crls(&[pki.crls()]).unwrap();
    let opts = schemas::dsig::VerifyOptions::now();
    let v = schemas::jws::verify_detached(jws, received[0].raw_body.as_bytes(), &store, &opts)
        .expect("the gateway's signature over the exact delivered body verifies");
    assert_eq!(v.signer.cert.common_name.as_deref(), Some("lienthong-gateway"));
    let mut tampered = received[0].raw_body.clone().into_bytes();
    tampered[5] ^= 1;
    assert_eq!(schemas::jws::verify_detached(jws, &tampered, &store, &opts).unwrap_err().code(), "signature_invalid");
}
