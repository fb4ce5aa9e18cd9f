//! Golden files: canonical dossiers in, exact SOAP requests out; agency answers
//! and faults in, outcomes out; look-up answers in, events and JSON out.

use std::collections::BTreeMap;

use adapters::mpi::decode::{decode_enterprise, expect_payload};
use adapters::mpi::encode::{encode_lookup_dossier, encode_lookup_enterprise, encode_submit};
use adapters::mpi::wire::{Operation, TaxCode, CONTENT_TYPE, SERVICE_PATH};
use adapters::{Adapter, Outcome};
use schemas::{MaHoSo, PayloadKind};
use serde_json::{json, Value};

use crate::support::*;

const KEY: &str = "rcpt-20260609-0001:mpi";

#[test]
fn submit_requests_match_the_golden_files() {
    for name in ["dossier-full", "dossier-minimal"] {
        let d = dossier(&format!("{name}.json"));
        let body = encode_submit(&d, KEY, Some(&golden_token())).unwrap();
        check_golden(&format!("{name}.request.expected.xml"), &body);
    }
}

#[test]
fn the_example_request_is_the_full_golden_request() {
    assert_eq!(
        String::from_utf8(read_example("nophoso.request.xml")).unwrap(),
        String::from_utf8(read("dossier-full.request.expected.xml")).unwrap(),
        "schemas/agencies/mpi/examples/nophoso.request.xml is the full golden request"
    );
}

#[test]
fn lookup_requests_match_the_golden_files() {
    let token = golden_token();
    let tax = TaxCode::parse("0101234567").unwrap();
    let id = "urn:uuid:00000000-0000-4000-8000-000000000001";
    check_golden("tracuudoanhnghiep.request.expected.xml", &encode_lookup_enterprise(&tax, id, Some(&token)).unwrap());
    let code = MaHoSo::parse("G09.20-20260609-0092637").unwrap();
    check_golden("tracuuhoso.request.expected.xml", &encode_lookup_dossier(&code, id, Some(&token)).unwrap());
}

#[test]
fn adapter_encode_is_the_request_before_authentication() {
    let adapter = adapter("http://127.0.0.1:1");
    assert_eq!(adapter.payload_kinds(), &[PayloadKind::BusinessRegistration]);
    let d = dossier("dossier-full.json");
    let request = adapter.encode(&delivery(&d, KEY, "corr-1")).unwrap();
    assert_eq!(request.path, SERVICE_PATH);
    assert_eq!(request.content_type, CONTENT_TYPE);
    assert_eq!(
        request.headers,
        vec![
            ("SOAPAction", format!("\"{}\"", Operation::Submit.action())),
            ("Idempotency-Key", KEY.to_owned()),
            ("X-Request-Id", "corr-1".to_owned()),
        ]
    );
    let text = String::from_utf8(request.body.clone()).unwrap();
    assert!(!text.contains("wsse:Security") && !text.contains(PASSWORD));
    assert_eq!(body_payload(&request.body), body_payload(&read("dossier-full.request.expected.xml")));
}

#[test]
fn a_dossier_without_a_business_registration_is_refused() {
    let adapter = adapter("http://127.0.0.1:1");
    let mut d = dossier("dossier-minimal.json");
    d.payload = None;
    let e = adapter.encode(&delivery(&d, "k", "c")).unwrap_err();
    assert_eq!(e.to_string(), "cannot encode for mpi: the dossier carries no business_registration payload");
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
fn answers_and_faults_classify_as_the_golden_file_says() {
    let adapter = adapter("http://127.0.0.1:1");
    let cases: Vec<Value> = serde_json::from_slice(&read("answers.json")).unwrap();
    let mut out = BTreeMap::new();
    for case in &cases {
        let status = case["http_status"].as_u64().unwrap() as u16;
        let body = match (case.get("example"), case.get("body")) {
            (Some(file), _) => read_example(file.as_str().unwrap()),
            (None, Some(body)) => body.as_str().unwrap().as_bytes().to_vec(),
            _ => panic!("{case}: needs an example or a body"),
        };
        out.insert(case["name"].as_str().unwrap().to_owned(), outcome_json(&adapter.classify(status, &body)));
    }
    check_golden("answers.expected.json", &pretty(&out));
}

#[test]
fn a_tracuuhoso_answer_decodes_into_status_events() {
    let adapter = adapter("http://127.0.0.1:1");
    let events = adapter.decode_status(&read_example("tracuuhoso.response.xml")).unwrap();
    check_golden("tracuuhoso.events.expected.json", &pretty(&events));
    assert!(adapter.decode_status(&read_example("tracuuhoso.notfound.xml")).is_err());
}

#[test]
fn a_tracuudoanhnghiep_answer_normalises() {
    let body = read_example("tracuudoanhnghiep.response.xml");
    let payload = expect_payload(&body, Operation::LookupEnterprise).unwrap().unwrap();
    check_golden("tracuudoanhnghiep.expected.json", &pretty(&decode_enterprise(&payload).unwrap()));
}
