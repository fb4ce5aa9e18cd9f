//! The look-ups against the running simulator: each round-trips, and each failure
//! maps to the right `LookupError`.

use std::time::{Duration, Instant};

use adapters::moit::wire::MoitState;
use adapters::moit::MoitConfig;
use adapters::sim::Faults;
use adapters::{Adapter, LookupError, LookupRequest, Outcome};
use serde_json::{json, Value};

use crate::support::*;

async fn lookup(adapter: &impl Adapter, name: &str, params: &[(&str, &str)]) -> Result<Value, LookupError> {
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    adapter
        .lookup(&LookupRequest { name, params: &params, correlation_id: "corr-lookup" })
        .await
        .map(|answer| serde_json::from_str(answer.get()).expect("a look-up answers JSON"))
}

#[tokio::test]
async fn the_licence_lookup_round_trips() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let names: Vec<(&str, &[&str])> = adapter.lookups().iter().map(|l| (l.name, l.required)).collect();
    assert_eq!(names, vec![("licence", &["number"][..]), ("dossier", &["code"][..])]);

    let valid = lookup(&adapter, "licence", &[("number", "15/2025/GPBLR-SCT")]).await.unwrap();
    assert_eq!(valid["number"], "15/2025/GPBLR-SCT");
    assert_eq!(
        (valid["kind"].as_str(), valid["status"].as_str(), valid["valid"].as_bool()),
        (Some("alcohol_retail"), Some("valid"), Some(true))
    );
    assert_eq!(valid["valid_to"], "2030-03-01T00:00:00+07:00");
    let expired = lookup(&adapter, "licence", &[("number", "08/2020/GPBLR-SCT")]).await.unwrap();
    assert_eq!((expired["status"].as_str(), expired["valid"].as_bool()), (Some("expired"), Some(false)));
    let revoked = lookup(&adapter, "licence", &[("number", "22/2024/GPBLR-SCT")]).await.unwrap();
    assert_eq!(revoked["status"], "revoked");

    assert_eq!(lookup(&adapter, "licence", &[("number", "99/2026/GPBLR-SCT")]).await, Err(LookupError::NotFound));
    assert_eq!(lookup(&adapter, "licence", &[]).await, Err(LookupError::BadRequest("number".into())));
    assert_eq!(
        lookup(&adapter, "licence", &[("number", "15/2025?x=1")]).await,
        Err(LookupError::BadRequest("number".into()))
    );
    assert_eq!(lookup(&adapter, "enterprise", &[("number", "1")]).await, Err(LookupError::UnknownLookup));
    let stats = sim.stats();
    assert_eq!((stats.tokens_issued, stats.licence_lookups), (1, 4), "bad parameters never reach MOIT");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_dossier_lookup_follows_processing_and_finds_the_issued_licence() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-alcohol.json");
    let code = d.code.as_str().to_owned();
    assert_eq!(lookup(&adapter, "dossier", &[("code", &code)]).await, Err(LookupError::NotFound));
    assert_eq!(
        lookup(&adapter, "dossier", &[("code", "not-a-dossier-code")]).await,
        Err(LookupError::BadRequest("code".into()))
    );

    let Outcome::Delivered { agency_ref } = adapter.deliver(&delivery(&d, "k", "c")).await else { panic!() };
    let view = lookup(&adapter, "dossier", &[("code", &code)]).await.unwrap();
    assert_eq!((view["status"].as_u64(), view["agency_status"].as_str()), (Some(2), Some("DA_TIEP_NHAN")));
    assert_eq!(view["agency_ref"].as_str(), agency_ref.as_deref());
    assert_eq!(view["history"].as_array().unwrap().len(), 1);
    assert_eq!(view["history"][0]["step_due_at"], "2026-04-28T17:00:00+07:00");

    for state in [MoitState::DangThamDinh, MoitState::YeuCauBoSung, MoitState::ChoNopPhi, MoitState::DaCapPhep] {
        assert!(sim.advance(&code, state));
    }
    let view = lookup(&adapter, "dossier", &[("code", &code)]).await.unwrap();
    assert_eq!((view["status"].as_u64(), view["status_label"].as_str()), (Some(9), Some("finished")));
    let statuses: Vec<u64> =
        view["history"].as_array().unwrap().iter().map(|e| e["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, vec![2, 4, 5, 6, 9]);
    assert_eq!(view["history"][2]["new_due_at"], "2026-05-08T17:00:00+07:00");
    assert_eq!(view["due_at"], "2026-05-08T17:00:00+07:00");

    let number = view["licence_number"].as_str().expect("a licence number").to_owned();
    let licence = lookup(&adapter, "licence", &[("number", &number)]).await.unwrap();
    assert_eq!((licence["dossier"].as_str(), licence["valid"].as_bool()), (Some(code.as_str()), Some(true)));
    assert_eq!(licence["valid_from"], "2026-05-01T00:00:00+07:00");
    assert_eq!(licence["valid_to"], json!(null));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_status_answer_from_the_wire_decodes_into_the_same_history() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-promotion.json");
    assert!(matches!(adapter.deliver(&delivery(&d, "k", "c")).await, Outcome::Delivered { .. }));
    sim.advance(d.code.as_str(), MoitState::DangThamDinh);
    let http = client(Duration::from_secs(5));
    let token = token(&http, &sim.url(), SCOPE).await;
    let body = http
        .get(format!("{}/api/v1/ho-so/{}", sim.url(), d.code))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let events = adapter.decode_status(&body).unwrap();
    let view = lookup(&adapter, "dossier", &[("code", d.code.as_str())]).await.unwrap();
    assert_eq!(serde_json::to_value(&events).unwrap(), view["history"]);
    assert_eq!(events.len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_hanging_agency_times_a_lookup_out() {
    let sim = simulator().await;
    let adapter = adapter_with(config(&sim.url()), Duration::from_millis(300));
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let started = Instant::now();
    assert_eq!(lookup(&adapter, "licence", &[("number", "15/2025/GPBLR-SCT")]).await, Err(LookupError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());

    // With a token already held, the look-up itself hangs.
    sim.set_faults(Faults::default());
    lookup(&adapter, "licence", &[("number", "15/2025/GPBLR-SCT")]).await.unwrap();
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    assert_eq!(lookup(&adapter, "dossier", &[("code", "000.20.35.H56-260414-0137")]).await, Err(LookupError::Timeout));
    sim.shutdown().await;
}

#[tokio::test]
async fn failing_agencies_and_refused_clients_are_upstream_errors() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    lookup(&adapter, "licence", &[("number", "15/2025/GPBLR-SCT")]).await.unwrap();
    sim.set_faults(Faults { fail_next: 1, ..Faults::default() });
    match lookup(&adapter, "licence", &[("number", "15/2025/GPBLR-SCT")]).await {
        Err(LookupError::Upstream(why)) => assert_eq!(why, "licence: moit answered http 503"),
        other => panic!("{other:?}"),
    }
    sim.go_down().await;
    match lookup(&adapter, "licence", &[("number", "15/2025/GPBLR-SCT")]).await {
        Err(LookupError::Upstream(why)) => assert!(why.starts_with("connect error on licence"), "{why}"),
        other => panic!("{other:?}"),
    }
    sim.come_up().await.unwrap();
    let wrong = MoitConfig { client_secret: Some("nope".into()), ..config(&sim.url()) };
    match lookup(&adapter_with(wrong, Duration::from_secs(5)), "dossier", &[("code", "000.20.35.H56-260414-0137")])
        .await
    {
        Err(LookupError::Upstream(why)) => assert!(why.starts_with("login refused by moit (invalid_client)"), "{why}"),
        other => panic!("{other:?}"),
    }
    sim.shutdown().await;
}
