//! Deliveries of both services against the running simulator, over real sockets:
//! what is recorded, idempotent repeats, and tokens.

use std::sync::Arc;
use std::time::Duration;

use adapters::moj::{MojConfig, Service};
use adapters::Adapter;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::golden::expected_name;
use crate::support::*;

/// The golden body as the simulator records it: `data` decoded, `authKey` masked,
/// `maHoSoLT` the key it was delivered under.
fn recorded_form(golden: &str, key: &str) -> Value {
    let mut body = golden_body(&expected_name(golden));
    if let Some(data) = body.get("data").and_then(Value::as_str) {
        body["data"] = serde_json::from_str(data).unwrap();
        body["maHoSoLT"] = json!(key);
    } else {
        body["authKey"] = json!("***");
    }
    body
}

#[tokio::test]
async fn birth_death_and_judicial_record_deliveries_are_accepted_and_recorded_as_sent() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let mut refs = Vec::new();
    for (i, name) in [BIRTH, DEATH, JUDICIAL].into_iter().enumerate() {
        let key = format!("key-{i}");
        let d = dossier(name);
        refs.push(delivered(&adapter.deliver(&delivery(&d, &key, &format!("corr-{i}"))).await));
    }
    assert!(refs[0].starts_with("HT") && refs[1].starts_with("HT"), "{refs:?}");
    assert!(refs[2].starts_with("LLTP-79-"), "{refs:?}");

    let received = sim.received();
    assert_eq!(received.len(), 3);
    let expect = [
        (Service::CivilStatus, Some("KS"), "000.00.31.H29-261122-0001", BIRTH),
        (Service::CivilStatus, Some("KT"), "000.00.31.H29-261202-0017", DEATH),
        (Service::JudicialRecord, None, "000.00.12.H79-260302-004518", JUDICIAL),
    ];
    for (i, (r, (service, module, code, golden))) in received.iter().zip(expect).enumerate() {
        assert_eq!((r.service, r.module.as_deref(), r.ma_ho_so.as_str()), (service, module, code));
        assert_eq!((r.idempotency_key.clone(), r.correlation_id.clone()), (format!("key-{i}"), format!("corr-{i}")));
        assert_eq!(r.agency_ref, refs[i]);
        assert_eq!(r.request, recorded_form(golden, &format!("key-{i}")), "{golden} is recorded exactly as sent");
    }
    // The files arrived inline, byte for byte.
    let sent = STANDARD.decode(received[2].request["toKhai"]["fileHoSo"][1]["noiDungFile"].as_str().unwrap()).unwrap();
    let original = dossier(JUDICIAL).files[1].content_base64.clone().unwrap();
    assert_eq!(sent, STANDARD.decode(original).unwrap());
    let stats = sim.stats();
    assert_eq!((stats.logins, stats.civil_status_accepted, stats.judicial_record_accepted), (1, 2, 1));
    assert_eq!(stats.requests, 4, "one token request and three pushes");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_repeat_under_the_same_key_is_recorded_once_in_both_services() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    for (name, duplicate) in [(BIRTH, "HT-02"), (JUDICIAL, "LLTP-03")] {
        let d = dossier(name);
        let first = delivered(&adapter.deliver(&delivery(&d, &format!("{name}-k1"), "c1")).await);
        let again = delivered(&adapter.deliver(&delivery(&d, &format!("{name}-k1"), "c2")).await);
        assert_eq!(first, again, "{name}: the repeat gets the original answer");
        // The same dossier under another key is a second delivery: refused.
        let reason = permanent(&adapter.deliver(&delivery(&d, &format!("{name}-k2"), "c3")).await).to_owned();
        assert!(reason.contains(duplicate) && reason.contains("maHoSoMCDT"), "{reason}");
    }
    assert_eq!(sim.received().len(), 2);
    let stats = sim.stats();
    assert_eq!(stats.replayed, 2);
    assert_eq!((stats.rejected.get("HT-02"), stats.rejected.get("LLTP-03")), (Some(&1), Some(&1)));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_is_renewed_within_the_same_delivery() {
    let sim = simulator().await;
    sim.set_token_ttl(Duration::from_millis(300));
    let adapter = adapter(&sim.url());
    let codes = ["000.00.31.H29-261122-0201", "000.00.31.H29-261122-0202", "000.00.31.H29-261122-0203"];
    let ds: Vec<_> = codes.iter().map(|c| dossier_coded(BIRTH, c)).collect();
    delivered(&adapter.deliver(&delivery(&ds[0], "k-a", "c-a")).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    delivered(&adapter.deliver(&delivery(&ds[1], "k-b", "c-b")).await);
    let stats = sim.stats();
    assert_eq!(stats.logins, 2);
    assert_eq!(stats.rejected.get("AUTH-02"), Some(&1), "the expired token was answered AUTH-02");

    sim.set_token_ttl(Duration::from_secs(3600));
    sim.revoke_tokens();
    delivered(&adapter.deliver(&delivery(&ds[2], "k-c", "c-c")).await);
    let stats = sim.stats();
    assert_eq!(stats.logins, 3);
    assert_eq!(stats.rejected.get("AUTH-01"), Some(&1), "the forgotten token was answered HTTP 401");
    assert_eq!(sim.received().len(), 3);

    sim.expire_tokens();
    delivered(&adapter.deliver(&delivery(&dossier(JUDICIAL), "k-d", "c-d")).await);
    assert_eq!(sim.stats().logins, 4, "judicial records share the token and its renewal");
    sim.shutdown().await;
}

#[tokio::test]
async fn concurrent_deliveries_of_both_services_share_one_login() {
    let sim = simulator().await;
    let adapter = Arc::new(adapter(&sim.url()));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let adapter = adapter.clone();
        tasks.push(tokio::spawn(async move {
            let name = if i % 2 == 0 { DEATH } else { JUDICIAL };
            let d = dossier_coded(name, &format!("000.00.31.H29-261122-{:04}", 300 + i));
            let key = format!("k-{i}");
            adapter.deliver(&delivery(&d, &key, "corr")).await
        }));
    }
    for t in tasks {
        delivered(&t.await.unwrap());
    }
    let stats = sim.stats();
    assert_eq!((stats.logins, stats.civil_status_accepted, stats.judicial_record_accepted), (1, 10, 10));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_static_token_is_sent_without_logging_in() {
    let sim = simulator().await;
    let fixed = MojConfig { username: None, password: None, token: Some(STATIC_TOKEN.into()), ..config(&sim.url()) };
    let adapter = adapter_with(fixed, Duration::from_secs(5));
    delivered(&adapter.deliver(&delivery(&dossier(BIRTH), "k", "c")).await);
    assert_eq!(adapter.poll_status(&[dossier(BIRTH).code]).await.unwrap().len(), 1);
    assert_eq!(sim.stats().logins, 0);

    // A refused static token cannot be renewed: retryable, asked once.
    let wrong = MojConfig { username: None, password: None, token: Some("revoked".into()), ..config(&sim.url()) };
    let outcome = adapter_with(wrong, Duration::from_secs(5)).deliver(&delivery(&dossier(DEATH), "k2", "c")).await;
    assert_eq!(retryable(&outcome), "moj answered http 401 (token refused)");
    assert_eq!(sim.stats().rejected.get("AUTH-01"), Some(&1));
    sim.shutdown().await;
}
