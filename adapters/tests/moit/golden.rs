//! Golden files: canonical dossiers in, exact request bodies out; MOIT answers and
//! problem documents in, outcomes out; the dossier and licence answers in,
//! canonical events and look-up answers out.

use std::collections::BTreeMap;

use adapters::moit::decode::{decode_dossier, decode_licence};
use adapters::{Adapter, Outcome};
use schemas::{PayloadKind, TrangThaiHoSo};
use serde_json::{json, Value};

use crate::support::*;

#[test]
fn request_bodies_match_the_golden_files() {
    let adapter = adapter("http://127.0.0.1:1");
    for name in ["dossier-alcohol", "dossier-promotion"] {
        let d = dossier(&format!("{name}.json"));
        let request = adapter.encode(&delivery(&d, "key-1", "corr-1")).unwrap();
        assert_eq!(request.path, "/api/v1/ho-so");
        assert_eq!(request.content_type, "application/json");
        assert_eq!(
            request.headers,
            vec![("Idempotency-Key", "key-1".to_owned()), ("X-Request-Id", "corr-1".to_owned())]
        );
        check_golden(&format!("{name}.expected.json"), &request.body);
    }
}

#[tokio::test]
async fn a_dossier_without_a_trade_licence_is_permanent_before_any_request() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    assert_eq!(adapter.payload_kinds(), &[PayloadKind::TradeLicence]);
    let mut d = dossier("dossier-promotion.json");
    d.payload = None;
    let e = adapter.encode(&delivery(&d, "k", "c")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot encode for moit: the dossier carries no trade_licence payload (GiayPhepCongThuong)"
    );
    match adapter.deliver(&delivery(&d, "k", "c")).await {
        Outcome::Permanent { reason } => assert!(reason.contains("no trade_licence payload"), "{reason}"),
        other => panic!("expected permanent, got {other:?}"),
    }
    assert_eq!(sim.stats().requests, 0, "not even a token was asked for");
    sim.shutdown().await;
}

/// Sorted maps, so the golden file's order never depends on serde_json features.
fn outcome_json(o: &Outcome) -> BTreeMap<&'static str, Value> {
    let (label, key, value) = match o {
        Outcome::Delivered { agency_ref } => ("delivered", "agency_ref", json!(agency_ref)),
        Outcome::Retryable { reason } => ("retryable", "reason", json!(reason)),
        Outcome::Permanent { reason } => ("permanent", "reason", json!(reason)),
    };
    BTreeMap::from([("outcome", json!(label)), (key, value)])
}

#[test]
fn answers_classify_as_the_golden_file_says() {
    let adapter = adapter("http://127.0.0.1:1");
    let cases: Vec<Value> = serde_json::from_slice(&read("answers.json")).unwrap();
    let mut out = BTreeMap::new();
    for case in &cases {
        let status = case["http_status"].as_u64().unwrap() as u16;
        let body = case["body"].as_str().unwrap();
        let outcome = adapter.classify(status, body.as_bytes());
        if let Outcome::Retryable { reason } | Outcome::Permanent { reason } = &outcome {
            assert!(!reason.contains("0901234567") && !reason.contains("Nguyễn"), "{reason}");
        }
        out.insert(case["name"].as_str().unwrap().to_owned(), outcome_json(&outcome));
    }
    check_golden("answers.expected.json", &pretty(&out));
}

#[test]
fn the_status_answer_decodes_into_events_as_the_golden_file_says() {
    let adapter = adapter("http://127.0.0.1:1");
    let events = adapter.decode_status(&read("ho-so-status.json")).unwrap();
    let statuses: Vec<u8> = events.iter().map(|e| e.status.code()).collect();
    assert_eq!(statuses, vec![2, 4, 5, 6, 9, 10]);
    assert_eq!(events[2].status, TrangThaiHoSo::YeuCauBoSung);
    assert_eq!(events[2].new_due_at.map(|d| d.to_rfc3339()).as_deref(), Some("2026-05-08T17:00:00+07:00"));
    check_golden("ho-so-status.expected.json", &pretty(&events));
}

#[test]
fn look_up_answers_normalise_as_the_golden_files_say() {
    let view = decode_dossier(&read("ho-so-status.json")).unwrap();
    assert_eq!((view.status, view.status_label, view.agency_status), (10, "result_returned", "DA_TRA_KET_QUA"));
    check_golden("ho-so-lookup.expected.json", &pretty(&view));
    let licence = decode_licence(&read("giay-phep.json")).unwrap();
    assert!(licence.valid);
    check_golden("giay-phep.expected.json", &pretty(&licence));
}
