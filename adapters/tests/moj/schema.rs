//! The published JSON Schemas, the golden bodies, the examples and the simulator agree.

use std::time::Duration;

use adapters::moj::decode::{classify, decode_status};
use serde_json::{json, Value};

use crate::golden::{expected_name, PUSHES};
use crate::support::*;

fn validator(file: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&read_json(agency_dir().join(file))).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn example(file: &str) -> Value {
    read_json(agency_dir().join("examples").join(file))
}

/// What the published schemas say of a civil-status push: the envelope, then the
/// record inside `data` against the schema of its module.
fn hotich_valid(body: &Value) -> bool {
    if !validator("hotich-tiepnhan.schema.json").is_valid(body) {
        return false;
    }
    let Some(Ok(record @ Value::Object(_))) = body["data"].as_str().map(serde_json::from_str::<Value>) else {
        return false;
    };
    let schema = if body["module"] == "KS" { "hotich-khaisinh.schema.json" } else { "hotich-khaitu.schema.json" };
    validator(schema).is_valid(&record)
}

/// A golden push as sent: judicial records carry the configured key.
fn as_sent(name: &str) -> Value {
    let mut body = golden_body(&expected_name(name));
    if body.get("authKey").is_some() {
        body["authKey"] = json!(AUTH_KEY);
    }
    body
}

#[test]
fn every_schema_file_compiles() {
    for entry in std::fs::read_dir(agency_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            validator(path.file_name().unwrap().to_str().unwrap());
        }
    }
}

#[test]
fn what_the_adapter_sends_conforms_to_the_schemas() {
    for (name, path) in PUSHES {
        let body = as_sent(name);
        let ok = if path == HOTICH_PUSH {
            hotich_valid(&body)
        } else {
            validator("lltp-tiepnhan.schema.json").is_valid(&body)
        };
        assert!(ok, "{name}");
    }
    let poll = golden_body("hotich-trangthai.expected.json");
    assert!(validator("hotich-trangthai.schema.json").is_valid(&poll));
    let mut poll = golden_body("lltp-trangthai.expected.json");
    poll["authKey"] = json!(AUTH_KEY);
    assert!(validator("lltp-trangthai.schema.json").is_valid(&poll));
}

#[test]
fn the_example_requests_are_what_the_adapter_sends() {
    for (file, golden) in [
        ("hotich-tiepnhan.khaisinh.request.json", BIRTH),
        ("hotich-tiepnhan.khaitu.request.json", DEATH),
        ("lltp-tiepnhan.request.json", JUDICIAL),
    ] {
        let mut sent = golden_body(&expected_name(golden));
        let ex = example(file);
        if sent.get("authKey").is_some() {
            sent["authKey"] = ex["authKey"].clone();
        }
        assert_eq!(ex, sent, "examples/{file} is the golden body of {golden}");
    }
    for (file, golden) in [("hotich-khaisinh.data.json", BIRTH), ("hotich-khaitu.data.json", DEATH)] {
        let data: Value = serde_json::from_str(golden_body(&expected_name(golden))["data"].as_str().unwrap()).unwrap();
        assert_eq!(example(file), data, "examples/{file} is the decoded data of {golden}");
    }
    let mut poll = golden_body("lltp-trangthai.expected.json");
    poll["authKey"] = example("lltp-trangthai.request.json")["authKey"].clone();
    assert_eq!(example("lltp-trangthai.request.json"), poll);
    assert_eq!(example("hotich-trangthai.request.json"), golden_body("hotich-trangthai.expected.json"));
    assert!(validator("auth-token.schema.json").is_valid(&example("auth-token.request.json")));
}

#[test]
fn the_example_answers_mean_what_their_names_say() {
    for (file, http, label) in [
        ("hotich-tiepnhan.answer.json", 200, "delivered"),
        ("hotich-tiepnhan.invalid.answer.json", 200, "permanent"),
        ("hotich-tiepnhan.duplicate.answer.json", 200, "permanent"),
        ("lltp-tiepnhan.answer.json", 200, "delivered"),
        ("lltp-tiepnhan.invalid.answer.json", 200, "permanent"),
        ("lltp-tiepnhan.duplicate.answer.json", 200, "permanent"),
        ("lltp-tiepnhan.key-refused.answer.json", 200, "retryable"),
        ("malformed.answer.json", 200, "permanent"),
        ("busy.answer.json", 200, "retryable"),
        ("token-expired.answer.json", 200, "retryable"),
        ("token-invalid.answer.json", 401, "retryable"),
        ("auth-token.refused.answer.json", 200, "retryable"),
    ] {
        let body = example(file).to_string();
        assert_eq!(classify(http, body.as_bytes()).label(), label, "{file}");
    }
    assert_eq!(example("auth-token.answer.json")["value"]["expiresIn"], 3600);
    for (file, n) in [("hotich-trangthai.answer.json", 2), ("lltp-trangthai.answer.json", 2)] {
        assert_eq!(decode_status(example(file).to_string().as_bytes()).unwrap().len(), n, "{file}");
    }
}

type Mutation = (&'static str, fn(&mut Value));

/// Rewrites the record inside `data` (kept as a string, as on the wire).
fn record(b: &mut Value, f: impl FnOnce(&mut Value)) {
    let mut r: Value = serde_json::from_str(b["data"].as_str().unwrap()).unwrap();
    f(&mut r);
    b["data"] = json!(r.to_string());
}

fn remove(v: &mut Value, key: &str) {
    v.as_object_mut().unwrap().remove(key);
}

const HOTICH_MUTATIONS: &[Mutation] = &[
    ("unchanged", |_| {}),
    ("unknown envelope field", |b| b["coQuanDich"] = json!("moj")),
    ("unknown module", |b| b["module"] = json!("KH")),
    ("module of another record", |b| b["module"] = json!("KT")),
    ("maHoSoLT blank", |b| b["maHoSoLT"] = json!("  ")),
    ("maHoSoMCDT not a dossier code", |b| b["maHoSoMCDT"] = json!("HS-1")),
    ("ngayTiepNhan in another form", |b| b["ngayTiepNhan"] = json!("20261122083000")),
    ("maDonVi blank", |b| b["maDonVi"] = json!("")),
    ("fileDinhKem absent", |b| remove(b, "fileDinhKem")),
    ("fileDinhKem not a list", |b| b["fileDinhKem"] = json!({})),
    ("file content not base64", |b| b["fileDinhKem"][0]["duLieuTepDinhKem"] = json!("@@@@")),
    ("file content empty", |b| b["fileDinhKem"][0]["duLieuTepDinhKem"] = json!("")),
    ("file content unpadded", |b| b["fileDinhKem"][0]["duLieuTepDinhKem"] = json!("JVBERi0")),
    ("file without a name", |b| b["fileDinhKem"][1]["tenTepDinhKem"] = json!(" ")),
    ("file with an unknown key", |b| b["fileDinhKem"][0]["duongDan"] = json!("https://x")),
    ("file without a component code", |b| b["fileDinhKem"][0]["loaiGiayTo"] = json!("")),
    ("data an object, not a string", |b| b["data"] = json!({"hoTen": "x"})),
    ("data not JSON", |b| b["data"] = json!("{hoTen: x}")),
    ("data a JSON list", |b| b["data"] = json!("[]")),
    ("record: name blank", |b| record(b, |r| r["hoTen"] = json!(""))),
    ("record: birth date with a time", |b| record(b, |r| r["ngaySinh"] = json!("2026-11-15 00:00:00"))),
    ("record: sex out of range", |b| record(b, |r| r["gioiTinh"] = json!(3))),
    ("record: sex as text", |b| record(b, |r| r["gioiTinh"] = json!("1"))),
    ("record: unknown key", |b| record(b, |r| r["soDinhDanh"] = json!("x"))),
    ("record: optional key absent", |b| record(b, |r| remove(r, "danToc"))),
    ("record: optional key blank", |b| record(b, |r| r["hoTenCha"] = json!(""))),
    ("record: required key absent", |b| record(b, |r| remove(r, "quocTich"))),
    ("record: number for text", |b| record(b, |r| r["nycEmail"] = json!(1))),
    ("record: null for text", |b| record(b, |r| r["nycSoDienThoai"] = Value::Null)),
];

const LLTP_MUTATIONS: &[Mutation] = &[
    ("unchanged", |_| {}),
    ("authKey blank", |b| b["authKey"] = json!("")),
    ("maTinh not two digits", |b| b["maTinh"] = json!("7")),
    ("unknown envelope field", |b| b["module"] = json!("LLTP")),
    ("toKhai absent", |b| remove(b, "toKhai")),
    ("toKhai unknown key", |b| b["toKhai"]["soDienThoai"] = json!("0900000000")),
    ("form out of range", |b| b["toKhai"]["loaiPhieu"] = json!(3)),
    ("sex out of range", |b| b["toKhai"]["gioiTinh"] = json!(0)),
    ("id number blank", |b| b["toKhai"]["soGiayTo"] = json!(" ")),
    ("purpose absent", |b| remove(&mut b["toKhai"], "mucDichSuDung")),
    ("no residence history", |b| b["toKhai"]["quaTrinhCuTru"] = json!([])),
    ("residence date in another form", |b| b["toKhai"]["quaTrinhCuTru"][0]["tuNgay"] = json!("19/07/2009")),
    ("residence end blank", |b| b["toKhai"]["quaTrinhCuTru"][0]["denNgay"] = json!("")),
    ("residence place absent", |b| remove(&mut b["toKhai"]["quaTrinhCuTru"][0], "noiCuTru")),
    ("no files", |b| b["toKhai"]["fileHoSo"] = json!([])),
    ("file content unpadded", |b| b["toKhai"]["fileHoSo"][0]["noiDungFile"] = json!("abc")),
    ("file without a name", |b| b["toKhai"]["fileHoSo"][0]["tenFile"] = json!("")),
    ("ngayTiepNhan date only", |b| b["ngayTiepNhan"] = json!("2026-03-03")),
];

/// A valid body, then the same body with one thing wrong in each way the schemas
/// can see (including inside `data`): the simulator must refuse exactly those the
/// schemas refuse, with its own codes.
#[tokio::test]
async fn the_simulator_refuses_exactly_what_the_schemas_refuse() {
    let sim = simulator().await;
    let http = client(Duration::from_secs(5));
    let token = token(&http, &sim.url()).await;
    let lltp = validator("lltp-tiepnhan.schema.json");

    let services: [(&str, &str, &[Mutation], &[&str]); 3] = [
        (BIRTH, HOTICH_PUSH, HOTICH_MUTATIONS, &["HT-01"]),
        (DEATH, HOTICH_PUSH, &HOTICH_MUTATIONS[..1], &["HT-01"]),
        (JUDICIAL, LLTP_PUSH, LLTP_MUTATIONS, &["LLTP-01", "LLTP-02"]),
    ];
    let mut n = 0;
    for (golden, path, mutations, codes) in services {
        for (what, mutate) in mutations {
            n += 1;
            let mut body = as_sent(golden);
            body["maHoSoMCDT"] = json!(format!("000.00.31.H29-261122-{n:04}"));
            if path == HOTICH_PUSH {
                body["maHoSoLT"] = json!(format!("lt-{n}"));
            }
            mutate(&mut body);
            let schema_ok = if path == HOTICH_PUSH { hotich_valid(&body) } else { lltp.is_valid(&body) };
            let (status, answer) = post_raw(&http, &sim.url(), path, body.to_string(), Some(&token), None).await;
            assert_eq!(status, 200, "{golden} {what}");
            let sim_ok = answer["status"] == 1;
            assert_eq!(schema_ok, sim_ok, "{golden} {what}: schema {schema_ok}, simulator {answer}");
            if !sim_ok {
                let code = answer["errorCode"].as_str().unwrap();
                assert!(codes.contains(&code), "{golden} {what}: {answer}");
            }
        }
    }

    // The rule beyond the schemas: dates must be real calendar dates.
    let mut body = as_sent(BIRTH);
    record(&mut body, |r| r["ngaySinh"] = json!("2026-02-30"));
    assert!(hotich_valid(&body));
    let (_, answer) = post_raw(&http, &sim.url(), HOTICH_PUSH, body.to_string(), Some(&token), None).await;
    assert_eq!((answer["errorCode"].as_str(), answer["errorField"].as_str()), (Some("HT-01"), Some("data.ngaySinh")));
    let mut body = as_sent(JUDICIAL);
    body["toKhai"]["quaTrinhCuTru"][0]["tuNgay"] = json!("2017-02-29");
    assert!(lltp.is_valid(&body));
    let (_, answer) = post_raw(&http, &sim.url(), LLTP_PUSH, body.to_string(), Some(&token), None).await;
    assert_eq!(answer["errorField"], "toKhai.quaTrinhCuTru[0].tuNgay", "{answer}");
    assert!(!answer["description"].as_str().unwrap().contains("2017"), "messages never repeat values");
    sim.shutdown().await;
}
