//! The published JSON Schema, the wire structs, the examples and the simulator agree.

use std::collections::BTreeSet;
use std::time::Duration;

use adapters::moit::decode::{classify, decode_licence, decode_status};
use serde_json::{json, Value};

use crate::support::*;

fn schema() -> Value {
    read_json(agency_dir().join("ho-so.schema.json"))
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).expect("the schema compiles")
}

fn golden_bodies() -> Vec<Value> {
    ["dossier-alcohol.expected.json", "dossier-promotion.expected.json"]
        .iter()
        .map(|n| serde_json::from_slice(&read(n)).unwrap())
        .collect()
}

#[test]
fn what_the_adapter_sends_conforms_to_the_schema() {
    let v = validator();
    for body in golden_bodies() {
        let errors: Vec<String> = v.iter_errors(&body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", body["maHoSo"]);
    }
}

/// Between them the golden bodies carry every optional field, so the keys they
/// use must be exactly the properties the schema lists, object by object.
#[test]
fn the_schema_lists_exactly_the_fields_the_adapter_writes() {
    let s = schema();
    let objects: [(&str, &Value, &[&str]); 6] = [
        ("root", &s, &[]),
        ("NguoiNop", &s["$defs"]["NguoiNop"], &["nguoiNop"]),
        ("GiayPhep", &s["$defs"]["GiayPhep"], &["giayPhep"]),
        ("DiaDiem", &s["$defs"]["DiaDiem"], &["giayPhep", "diaDiemKinhDoanh"]),
        ("TepDinhKem", &s["$defs"]["TepDinhKem"], &["tepDinhKem", "*"]),
        ("LePhi", &s["$defs"]["LePhi"], &["lePhi", "*"]),
    ];
    let bodies = golden_bodies();
    for (what, def, path) in objects {
        let props: BTreeSet<&str> = def["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        let mut seen = BTreeSet::new();
        for body in &bodies {
            let mut values = vec![body];
            for step in path {
                values = values
                    .into_iter()
                    .flat_map(|v| match *step {
                        "*" => v.as_array().map(|a| a.iter().collect()).unwrap_or_default(),
                        key => vec![&v[key]],
                    })
                    .collect();
            }
            for v in values {
                seen.extend(v.as_object().unwrap().keys().map(String::as_str));
            }
        }
        assert_eq!(seen, props, "{what}");
        assert_eq!(def["additionalProperties"], false, "{what}");
    }
}

#[test]
fn the_example_request_is_what_the_adapter_sends() {
    let example: Value = serde_json::from_slice(&example("ho-so.request.json")).unwrap();
    assert!(validator().is_valid(&example));
    let golden: Value = serde_json::from_slice(&read("dossier-alcohol.expected.json")).unwrap();
    assert_eq!(example, golden, "examples/ho-so.request.json is the alcohol golden body, pretty-printed");
}

#[test]
fn the_example_answers_mean_what_their_names_say() {
    for (file, status, label) in [
        ("ho-so.created.answer.json", 201, "delivered"),
        ("ho-so.validation.problem.json", 422, "permanent"),
        ("ho-so.end-before-start.problem.json", 422, "permanent"),
        ("ho-so.duplicate.problem.json", 409, "permanent"),
        ("busy.problem.json", 503, "retryable"),
        ("unauthorized.problem.json", 401, "retryable"),
        ("forbidden.problem.json", 403, "retryable"),
    ] {
        assert_eq!(classify(status, &example(file)).label(), label, "{file}");
    }
    assert_eq!(decode_status(&example("ho-so.status.answer.json")).unwrap().len(), 6);
    assert!(decode_licence(&example("giay-phep.answer.json")).unwrap().valid);
    for file in ["token.answer.json", "token.invalid-client.answer.json", "token.invalid-scope.answer.json"] {
        let v: Value = serde_json::from_slice(&example(file)).unwrap();
        assert!(v.get("access_token").is_some() || v.get("error").is_some(), "{file}");
    }
}

type Mutation = (&'static str, fn(&mut Value));

/// One thing wrong (or harmlessly different) in each way the schema can see.
const MUTATIONS: &[Mutation] = &[
    ("unchanged", |_| {}),
    ("number for a string", |b| b["nguoiNop"]["email"] = json!(1)),
    ("null for an optional value", |b| b["trichYeu"] = Value::Null),
    ("unknown field", |b| b["coQuanDich"] = json!("moit")),
    ("unknown nested field", |b| b["giayPhep"]["ghiChu"] = json!("x")),
    ("required field absent", |b| drop(b.as_object_mut().unwrap().remove("tenTTHC"))),
    ("required nested field absent", |b| {
        drop(b["giayPhep"]["diaDiemKinhDoanh"].as_object_mut().unwrap().remove("phuongXa"))
    }),
    ("required field blank", |b| b["nguoiNop"]["hoTen"] = json!("   ")),
    ("optional field absent", |b| drop(b.as_object_mut().unwrap().remove("trichYeu"))),
    ("date in another form", |b| b["ngayHenTra"] = json!("2026-04-28 17:00:00")),
    ("date in UTC", |b| b["ngayTiepNhan"] = json!("2026-04-14T02:30:00Z")),
    ("date with a fraction", |b| b["ngayNop"] = json!("2026-04-14T09:12:40.5+07:00")),
    ("unknown channel", |b| b["kenhNop"] = json!("EMAIL")),
    ("kind in lower case", |b| b["giayPhep"]["loaiThuTuc"] = json!("ban_le_ruou")),
    ("tax code too short", |b| b["giayPhep"]["maSoThue"] = json!("420187654")),
    ("branch tax code", |b| b["giayPhep"]["maSoThue"] = json!("4201876543-001")),
    ("promotion without an end", |b| b["giayPhep"]["loaiThuTuc"] = json!("KHUYEN_MAI")),
    ("promotion with both dates", |b| {
        b["giayPhep"]["loaiThuTuc"] = json!("KHUYEN_MAI");
        b["giayPhep"]["thoiGianKetThuc"] = json!("2026-06-01T00:00:00+07:00");
    }),
    ("file without a name", |b| b["tepDinhKem"][0]["tenTep"] = json!("")),
    ("file URL not http", |b| b["tepDinhKem"][0]["duongDan"] = json!("ftp://files.example.vn/a.pdf")),
    ("files not a list", |b| b["tepDinhKem"] = json!({})),
    ("no files", |b| b["tepDinhKem"] = json!([])),
    ("fees absent", |b| drop(b.as_object_mut().unwrap().remove("lePhi"))),
    ("fee amount as text", |b| b["lePhi"][0]["soTien"] = json!("1200000")),
    ("fee amount negative", |b| b["lePhi"][0]["soTien"] = json!(-1)),
    ("fee amount fractional", |b| b["lePhi"][0]["soTien"] = json!(1.5)),
    ("dossier code malformed", |b| b["maHoSo"] = json!("000.20.35.H56_260414_0137")),
    ("procedure code malformed", |b| b["maTTHC"] = json!("2.1610")),
    ("unknown applicant kind", |b| b["nguoiNop"]["loaiDoiTuong"] = json!("HO_GIA_DINH")),
    ("e-mail without @", |b| b["nguoiNop"]["email"] = json!("haidang.example.com.vn")),
    ("phone with letters", |b| b["nguoiNop"]["soDienThoai"] = json!("gọi giờ hành chính")),
];

/// The mutations both must accept.
const ACCEPTABLE: &[&str] = &[
    "unchanged",
    "optional field absent",
    "date with a fraction",
    "branch tax code",
    "promotion with both dates",
    "no files",
];

/// The golden body with one mutation each: the simulator, over real sockets,
/// must refuse exactly those the schema refuses, and name the field.
#[tokio::test]
async fn the_simulator_refuses_exactly_what_the_schema_refuses() {
    let sim = simulator().await;
    let http = client(Duration::from_secs(5));
    let token = token(&http, &sim.url(), SCOPE).await;
    let v = validator();
    for (i, (what, mutate)) in MUTATIONS.iter().enumerate() {
        let mut body = body_coded(&format!("000.20.35.H56-260414-{:04}", 100 + i));
        mutate(&mut body);
        let schema_ok = v.is_valid(&body);
        let r = submit(&http, &sim.url(), &token, body.to_string(), Some(&format!("k-{i}"))).await;
        let sim_ok = r.status == 201;
        assert_eq!(schema_ok, ACCEPTABLE.contains(what), "{what}: the schema's verdict is the expected one");
        assert_eq!(schema_ok, sim_ok, "{what}: schema {schema_ok}, simulator {} {}", r.status, r.body);
        if !sim_ok {
            assert_eq!((r.status, r.body["code"].as_str()), (422, Some("MOIT-VAL-001")), "{what}: {}", r.body);
            assert_eq!(r.header("content-type"), Some("application/problem+json"), "{what}");
            let field = r.body["field"].as_str().unwrap_or_else(|| panic!("{what}: no field in {}", r.body));
            assert!(!field.is_empty(), "{what}");
        }
    }
    let accepted: Vec<&str> = MUTATIONS.iter().map(|(what, _)| *what).filter(|w| ACCEPTABLE.contains(w)).collect();
    assert_eq!(accepted.len(), ACCEPTABLE.len());
    assert_eq!(sim.received().len(), ACCEPTABLE.len(), "exactly the harmless mutations were accepted");

    // A body that is no object is refused by both, with MOIT's malformed code.
    assert!(!v.is_valid(&json!([1])));
    let r = submit(&http, &sim.url(), &token, "[1]", Some("k-array")).await;
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("MOIT-REQ-001")));
    sim.shutdown().await;
}

/// What the schema cannot state: real instants, date order, duplicates.
#[tokio::test]
async fn the_rules_beyond_the_schema_have_their_own_codes() {
    let sim = simulator().await;
    let http = client(Duration::from_secs(5));
    let token = token(&http, &sim.url(), SCOPE).await;
    let v = validator();
    type Rule = (&'static str, fn(&mut Value), u16, &'static str, &'static str);
    let rules: &[Rule] = &[
        (
            "impossible date",
            |b| b["ngayHenTra"] = json!("2026-02-30T17:00:00+07:00"),
            422,
            "MOIT-VAL-001",
            "ngayHenTra",
        ),
        ("impossible code date", |b| b["maHoSo"] = json!("000.20.35.H56-261399-0137"), 422, "MOIT-VAL-001", "maHoSo"),
        (
            "due before receipt",
            |b| b["ngayHenTra"] = json!("2026-04-01T17:00:00+07:00"),
            422,
            "MOIT-BUS-001",
            "ngayHenTra",
        ),
        (
            "end before start",
            |b| b["giayPhep"]["thoiGianKetThuc"] = json!("2026-04-30T00:00:00+07:00"),
            422,
            "MOIT-BUS-002",
            "giayPhep.thoiGianKetThuc",
        ),
        (
            "same dossier, another key",
            |b| b["maHoSo"] = json!("000.20.35.H56-260414-0001"),
            409,
            "MOIT-DUP-001",
            "maHoSo",
        ),
    ];
    let first =
        submit(&http, &sim.url(), &token, body_coded("000.20.35.H56-260414-0001").to_string(), Some("k0")).await;
    assert_eq!(first.status, 201);
    for (i, (what, mutate, status, code, field)) in rules.iter().enumerate() {
        let mut body = body_coded(&format!("000.20.35.H56-260414-{:04}", 200 + i));
        mutate(&mut body);
        assert!(v.is_valid(&body), "{what}: the schema cannot see this");
        let r = submit(&http, &sim.url(), &token, body.to_string(), Some(&format!("r-{i}"))).await;
        assert_eq!(
            (r.status, r.body["code"].as_str(), r.body["field"].as_str()),
            (*status, Some(*code), Some(*field)),
            "{what}"
        );
    }
    sim.shutdown().await;
}
