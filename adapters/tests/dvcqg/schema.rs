//! The published JSON Schema, the wire tables, the examples and the simulator agree.

use adapters::dvcqg::decode::{classify, decode_status};
use adapters::dvcqg::wire::{WireField, DOSSIER_FIELDS, FEE_FIELDS, FILE_FIELDS};
use serde_json::{json, Value};

use crate::support::*;

fn schema() -> Value {
    read_json(examples_dir().join("../dongbohoso.schema.json"))
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).expect("the schema compiles")
}

fn check_table(def: &Value, table: &[WireField], what: &str) {
    let props: Vec<&str> = def["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut names: Vec<&str> = table.iter().map(|f| f.name).collect();
    let mut sorted_props = props.clone();
    sorted_props.sort_unstable();
    names.sort_unstable();
    assert_eq!(sorted_props, names, "{what}: properties");
    let mut required: Vec<&str> = def["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let mut want: Vec<&str> = table.iter().filter(|f| f.required).map(|f| f.name).collect();
    required.sort_unstable();
    want.sort_unstable();
    assert_eq!(required, want, "{what}: required");
    assert_eq!(def["additionalProperties"], false, "{what}");
}

#[test]
fn the_schema_describes_the_same_fields_as_the_wire_tables() {
    let s = schema();
    check_table(&s["$defs"]["HoSo"], DOSSIER_FIELDS, "HoSo");
    check_table(&s["$defs"]["TepDinhKem"], FILE_FIELDS, "TepDinhKem");
    check_table(&s["$defs"]["LePhi"], FEE_FIELDS, "LePhi");
}

#[test]
fn what_the_adapter_sends_conforms_to_the_schema() {
    let v = validator();
    for name in ["dossier-full.expected.json", "dossier-minimal.expected.json"] {
        let body: Value = serde_json::from_slice(&read(name)).unwrap();
        let errors: Vec<String> = v.iter_errors(&body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn the_example_request_is_what_the_adapter_sends() {
    let example = read_json(examples_dir().join("dongbohoso.request.json"));
    assert!(validator().is_valid(&example));
    let mut golden: Value = serde_json::from_slice(&read("dossier-full.expected.json")).unwrap();
    golden["session"] = example["session"].clone();
    assert_eq!(example, golden, "examples/dongbohoso.request.json is the full golden body with a session");
}

#[test]
fn the_example_answers_mean_what_their_names_say() {
    for (file, label) in [
        ("dongbohoso.answer.json", "delivered"),
        ("dongbohoso.invalid.answer.json", "permanent"),
        ("dongbohoso.duplicate.answer.json", "permanent"),
        ("session.invalid.answer.json", "retryable"),
        ("busy.answer.json", "retryable"),
    ] {
        let body = std::fs::read(examples_dir().join(file)).unwrap();
        assert_eq!(classify(200, &body).label(), label, "{file}");
    }
    let lookup = std::fs::read(examples_dir().join("tracuuhoso.answer.json")).unwrap();
    assert_eq!(decode_status(&lookup).unwrap().len(), 2);
    let progress = std::fs::read(examples_dir().join("capnhattiendo.request.json")).unwrap();
    assert_eq!(decode_status(&progress).unwrap().len(), 1);
}

/// A valid body, then the same body with one thing wrong in each way the schema
/// can see: the simulator must refuse exactly those the schema refuses.
#[tokio::test]
async fn the_simulator_refuses_exactly_what_the_schema_refuses() {
    let sim = simulator().await;
    let http = client(std::time::Duration::from_secs(5));
    let session = login(&http, &sim.url()).await;
    let v = validator();
    let base: Value = serde_json::from_slice(&read("dossier-full.expected.json")).unwrap();

    type Mutation = (&'static str, fn(&mut Value));
    let mutations: &[Mutation] = &[
        ("unchanged", |_| {}),
        ("number for a string", |b| b["data"][0]["Email"] = json!(1)),
        ("null for a string", |b| b["data"][0]["Fax"] = Value::Null),
        ("unknown field", |b| b["data"][0]["CoQuanDich"] = json!("dvcqg")),
        ("unknown envelope field", |b| b["extra"] = json!("x")),
        ("required field absent", |b| drop(b["data"][0].as_object_mut().unwrap().remove("TenTTHC"))),
        ("required field blank", |b| b["data"][0]["ChuHoSo"] = json!("   ")),
        ("optional field absent", |b| drop(b["data"][0].as_object_mut().unwrap().remove("GhiChu"))),
        ("date in another form", |b| b["data"][0]["NgayHenTra"] = json!("2026-11-25 17:00:00")),
        ("optional date blank", |b| b["data"][0]["NgayTra"] = json!("")),
        ("optional date spaces", |b| b["data"][0]["NgayTra"] = json!(" ")),
        ("channel out of range", |b| b["data"][0]["KenhThucHien"] = json!("4")),
        ("status padded", |b| b["data"][0]["TrangThaiHoSo"] = json!("04")),
        ("status blank", |b| b["data"][0]["TrangThaiHoSo"] = json!("")),
        ("fee amount not digits", |b| b["data"][0]["DanhSachLePhi"][0]["Gia"] = json!("8.000")),
        ("fee amount number", |b| b["data"][0]["DanhSachLePhi"][0]["Gia"] = json!(8000)),
        ("file without a name", |b| b["data"][0]["TaiLieuNop"][0]["TenTepDinhKem"] = json!("")),
        ("files not a list", |b| b["data"][0]["TaiLieuNop"] = json!({})),
        ("two dossiers", |b| {
            let d = b["data"][0].clone();
            b["data"].as_array_mut().unwrap().push(d);
        }),
        ("no dossier", |b| b["data"] = json!([])),
        ("isUpdating not a flag", |b| b["isUpdating"] = json!("no")),
        ("isUpdating boolean", |b| b["isUpdating"] = json!(false)),
        ("unit code blank", |b| b["madonvi"] = json!("")),
    ];
    for (i, (what, mutate)) in mutations.iter().enumerate() {
        let mut body = base.clone();
        body["session"] = json!(session);
        body["data"][0]["MaHoSo"] = json!(format!("000.00.31.H29-261122-{:04}", i + 100));
        mutate(&mut body);
        let schema_ok = v.is_valid(&body);
        let (status, answer) = post_raw(&http, &sim.url(), "/api/hoso/DongBoHoSoMC", body.to_string(), None).await;
        assert_eq!(status, 200);
        let sim_ok = answer["error_code"] == "0";
        assert_eq!(schema_ok, sim_ok, "{what}: schema {schema_ok}, simulator {answer}");
        if !sim_ok {
            let code = answer["error_code"].as_str().unwrap();
            assert!(code == "2" || code == "3", "{what}: {answer}");
        }
    }

    // The one rule beyond the schema: a date must name a real instant.
    let mut body = base.clone();
    body["session"] = json!(session);
    body["data"][0]["NgayHenTra"] = json!("20260230170000");
    assert!(v.is_valid(&body));
    let (_, answer) = post_raw(&http, &sim.url(), "/api/hoso/DongBoHoSoMC", body.to_string(), None).await;
    assert_eq!(answer["error_code"], "3");
    assert!(answer["message"].as_str().unwrap().contains("NgayHenTra"), "{answer}");
    sim.shutdown().await;
}
