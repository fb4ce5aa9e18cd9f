//! Golden files: canonical dossiers and events in, exact wire bodies out; agency
//! answers in, outcomes out; status messages in, canonical events out.

use std::collections::BTreeMap;

use adapters::dvcqg::decode::decode_status;
use adapters::dvcqg::encode::encode_progress;
use adapters::{Adapter, Outcome};
use schemas::StatusEvent;
use serde_json::{json, Value};

use crate::support::*;

#[test]
fn sync_bodies_match_the_golden_files() {
    let adapter = adapter("http://127.0.0.1:1");
    for name in ["dossier-full", "dossier-minimal"] {
        let d = dossier(&format!("{name}.json"));
        let request = adapter.encode(&delivery(&d, "key-1", "corr-1")).unwrap();
        assert_eq!(request.path, "/api/hoso/DongBoHoSoMC");
        assert_eq!(request.content_type, "application/json");
        assert_eq!(
            request.headers,
            vec![("Idempotency-Key", "key-1".to_owned()), ("X-Request-Id", "corr-1".to_owned())]
        );
        check_golden(&format!("{name}.expected.json"), &request.body);
    }
}

#[test]
fn progress_body_matches_the_golden_file() {
    let events: Vec<StatusEvent> = serde_json::from_slice(&read("progress-events.json")).unwrap();
    let body = encode_progress(&events, UNIT, "").unwrap();
    check_golden("progress-events.expected.json", &body);
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
        out.insert(case["name"].as_str().unwrap().to_owned(), outcome_json(&adapter.classify(status, body.as_bytes())));
    }
    check_golden("answers.expected.json", &pretty(&out));
}

#[test]
fn status_messages_decode_as_the_golden_files_say() {
    let adapter = adapter("http://127.0.0.1:1");
    for name in ["tracuu-answer", "capnhattiendo-body"] {
        let events = adapter.decode_status(&read(&format!("{name}.json"))).unwrap();
        check_golden(&format!("{name}.expected.json"), &pretty(&events));
    }
}

#[test]
fn progress_events_survive_a_round_trip_except_the_moved_due_date() {
    let events: Vec<StatusEvent> = serde_json::from_slice(&read("progress-events.json")).unwrap();
    let back = decode_status(&encode_progress(&events, UNIT, "s").unwrap()).unwrap();
    let expected: Vec<StatusEvent> = events.into_iter().map(|e| StatusEvent { new_due_at: None, ..e }).collect();
    assert_eq!(back, expected);
}

#[test]
fn bodies_are_utf8_json_with_every_value_a_string() {
    fn all_strings(v: &Value) -> bool {
        match v {
            Value::String(_) => true,
            Value::Array(a) => a.iter().all(all_strings),
            Value::Object(o) => o.values().all(all_strings),
            _ => false,
        }
    }
    for name in ["dossier-full.expected.json", "dossier-minimal.expected.json", "progress-events.expected.json"] {
        let v: Value = serde_json::from_slice(&read(name)).unwrap();
        assert!(all_strings(&v), "{name}");
    }
}
