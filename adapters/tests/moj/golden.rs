//! Golden files: canonical dossiers in, exact wire bodies out; agency answers in,
//! outcomes out; status answers in, canonical events out.

use std::collections::BTreeMap;

use adapters::moj::encode::{encode_civil_status_poll, encode_judicial_record_poll};
use adapters::{Adapter, Outcome};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use schemas::{MaHoSo, PayloadKind};
use serde_json::{json, Value};

use crate::support::*;

/// Each golden dossier with its push path.
pub const PUSHES: [(&str, &str); 4] =
    [(BIRTH, HOTICH_PUSH), (BIRTH_MINIMAL, HOTICH_PUSH), (DEATH, HOTICH_PUSH), (JUDICIAL, LLTP_PUSH)];

/// `khai-sinh.json` to `khai-sinh.expected.json`.
pub fn expected_name(input: &str) -> String {
    input.replace(".json", ".expected.json")
}

/// The idempotency key a golden dossier is encoded under: `lt-khai-sinh`, ...
pub fn golden_key(input: &str) -> String {
    format!("lt-{}", input.trim_end_matches(".json"))
}

#[test]
fn push_bodies_match_the_golden_files() {
    let adapter = adapter("http://127.0.0.1:1");
    for (name, path) in PUSHES {
        let d = dossier(name);
        let key = golden_key(name);
        let request = adapter.encode(&delivery(&d, &key, "corr-1")).unwrap();
        assert_eq!(request.path, path, "{name}");
        assert_eq!(request.content_type, "application/json");
        assert_eq!(request.headers, vec![("Idempotency-Key", key.clone()), ("X-Request-Id", "corr-1".to_owned())]);
        check_golden(&expected_name(name), &request.body);
    }
}

#[test]
fn the_pushes_carry_the_idempotency_key_the_dossier_code_and_no_secret() {
    let civil = golden_body(&expected_name(BIRTH));
    assert_eq!(civil["maHoSoLT"], "lt-khai-sinh", "maHoSoLT is the delivery's idempotency key");
    assert_eq!(civil["maHoSoMCDT"], "000.00.31.H29-261122-0001");
    assert_eq!(civil["module"], "KS");
    assert_eq!(golden_body(&expected_name(DEATH))["module"], "KT");
    let judicial = golden_body(&expected_name(JUDICIAL));
    assert_eq!(judicial["authKey"], "", "the key is added only when sending");
    assert_eq!(judicial["maTinh"], PROVINCE);
}

#[test]
fn data_is_a_json_string_of_the_record() {
    let body = golden_body(&expected_name(BIRTH));
    let record: Value = serde_json::from_str(body["data"].as_str().unwrap()).unwrap();
    assert_eq!(record["hoTen"], "Trần Minh Khôi");
    assert_eq!(record["ngaySinh"], "2026-11-15");
    assert_eq!(record["gioiTinh"], 1);
    assert_eq!(record["nycHoTen"], "Nguyễn Thị Hồng");
    let body = golden_body(&expected_name(DEATH));
    let record: Value = serde_json::from_str(body["data"].as_str().unwrap()).unwrap();
    assert_eq!(record["ngayChet"], "2026-12-01 23:10:00");
    let minimal = golden_body(&expected_name(BIRTH_MINIMAL));
    let record: Value = serde_json::from_str(minimal["data"].as_str().unwrap()).unwrap();
    assert_eq!((record["danToc"].as_str(), record["hoTenCha"].as_str()), (Some(""), Some("")));
    assert_eq!(minimal["fileDinhKem"], json!([]));
}

#[test]
fn files_travel_inline_and_decode_to_the_canonical_bytes() {
    for (name, files, content_key) in [
        (BIRTH, "/fileDinhKem", "duLieuTepDinhKem"),
        (DEATH, "/fileDinhKem", "duLieuTepDinhKem"),
        (JUDICIAL, "/toKhai/fileHoSo", "noiDungFile"),
    ] {
        let d = dossier(name);
        let body = golden_body(&expected_name(name));
        let sent = body.pointer(files).unwrap().as_array().unwrap();
        assert_eq!(sent.len(), d.files.len(), "{name}");
        for (file, original) in sent.iter().zip(&d.files) {
            let bytes = STANDARD.decode(file[content_key].as_str().unwrap()).unwrap();
            assert_eq!(bytes, STANDARD.decode(original.content_base64.as_deref().unwrap()).unwrap(), "{name}");
        }
    }
    let body = golden_body(&expected_name(BIRTH));
    assert_eq!(body["fileDinhKem"][1]["id"], "2", "a file without an id gets its position");
    assert_eq!(body["fileDinhKem"][1]["tenGiayTo"], "Giấy chứng sinh");
}

#[test]
fn poll_bodies_match_the_golden_files() {
    let codes =
        [MaHoSo::parse("000.00.31.H29-261122-0001").unwrap(), MaHoSo::parse("000.00.12.H79-260302-004518").unwrap()];
    check_golden("hotich-trangthai.expected.json", &encode_civil_status_poll(&codes, UNIT).unwrap());
    check_golden("lltp-trangthai.expected.json", &encode_judicial_record_poll(&codes, PROVINCE, "").unwrap());
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
            for personal in ["Nguyễn", "001190012345", "Trần", "Khôi"] {
                assert!(!reason.contains(personal), "{}: {reason}", case["name"]);
            }
        }
        out.insert(case["name"].as_str().unwrap().to_owned(), outcome_json(&outcome));
    }
    check_golden("answers.expected.json", &pretty(&out));
}

#[test]
fn status_answers_decode_as_the_golden_files_say() {
    let adapter = adapter("http://127.0.0.1:1");
    for name in ["hotich-trangthai.answer", "lltp-trangthai.answer"] {
        let events = adapter.decode_status(&read(&format!("{name}.json"))).unwrap();
        check_golden(&format!("{name}.expected.json"), &pretty(&events));
    }
}

#[test]
fn the_adapter_takes_both_justice_payloads_and_nothing_else() {
    let adapter = adapter("http://127.0.0.1:1");
    assert_eq!(adapter.payload_kinds(), &[PayloadKind::CivilStatus, PayloadKind::JudicialRecord]);
    let mut none = dossier(BIRTH);
    none.payload = None;
    let e = adapter.encode(&delivery(&none, "k", "c")).unwrap_err();
    assert_eq!(e.agency, "moj");
    assert!(e.reason.contains("no payload"), "{e}");
    let mut url_only = dossier(JUDICIAL);
    url_only.files[1].content_base64 = None;
    let e = adapter.encode(&delivery(&url_only, "k", "c")).unwrap_err();
    assert!(e.reason.starts_with("attachment 2 has no inline content"), "{e}");
    assert!(!e.reason.contains("Căn cước"), "the reason never names the file");
}

/// The acceptance check answers as the encoding does, reason for reason, for
/// every golden dossier and every way the format can fail to carry one.
#[test]
fn the_check_fails_exactly_when_the_encoding_does_and_with_its_reason() {
    let adapter = adapter("http://127.0.0.1:1");
    let variants = |name: &str| -> Vec<(String, schemas::Dossier)> {
        let base = dossier(name);
        let mut out = vec![("as is".to_owned(), base.clone())];
        let mut none = base.clone();
        none.payload = None;
        out.push(("no payload".into(), none));
        let mut other = base.clone();
        other.payload = dossier(if name == JUDICIAL { BIRTH } else { JUDICIAL }).payload;
        out.push(("the other service's payload".into(), other));
        for (i, content) in [
            None,
            Some(""),
            Some(" \n\t"),
            Some("JVBERi0"),
            Some("JVBER*i0x"),
            Some("JVBE\nRi0x"),
            Some("JVBE\u{c}Ri0x"),
            Some("QQ==QUJD"),
            Some("QR=="),
            Some("JVBERi0x"),
        ]
        .into_iter()
        .enumerate()
        {
            for at in 0..base.files.len() {
                let mut d = base.clone();
                d.files[at].content_base64 = content.map(str::to_owned);
                out.push((format!("attachment {at} content {i}"), d));
            }
        }
        let mut no_files = base.clone();
        no_files.files.clear();
        out.push(("no attachments".into(), no_files));
        out
    };
    let (mut passed, mut failed) = (0, 0);
    for name in [BIRTH, BIRTH_MINIMAL, DEATH, JUDICIAL] {
        for (case, d) in variants(name) {
            let encoded = adapter.encode(&delivery(&d, "k", "c")).map(drop);
            assert_eq!(adapter.check(&d), encoded, "{name}, {case}");
            if encoded.is_ok() {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
    // Both answers were exercised, many times each.
    assert!(passed >= 10 && failed >= 20, "{passed} passed, {failed} failed");
}
