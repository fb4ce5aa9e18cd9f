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
    let dir = tempfile::tempdir().unwrap();
    let (gw_key, _, gw_chain) = pki.files("lienthong-gateway");
    // Every agency at its simulator; MOIT takes signed messages.
    let config = crate::ministries::config(dir.path(), &sims);
    let scope = "scope = \"hoso.submit hoso.read giayphep.read\"\n";
    let text = std::fs::read_to_string(&config).unwrap();
    assert_eq!(text.matches(scope).count(), 1, "one MOIT agency in {text}");
    let text = text.replace(scope, &format!("{scope}sign_requests = true\n"))
        + &format!("\n[signatures]\nkey = \"{}\"\ncertificate_chain = \"{}\"\n", gw_key.display(), gw_chain.display());
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
