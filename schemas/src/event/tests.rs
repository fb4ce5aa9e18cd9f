//! Tests of the DVCQG processing-history dialect: parsing, refusals, round trips.

use serde_json::{json, Value};

use super::*;

const CODE: &str = "000.00.31.H29-261122-0001";

fn item() -> Value {
    json!({
        "MaHoSo": CODE, "NguoiXuLy": "Trần Thị Cúc", "ChucDanh": "Chuyên viên",
        "ThoiDiemXuLy": "20261123090000", "PhongBanXuLy": "Phòng Hộ tịch",
        "NoiDungXuLy": "Yêu cầu bổ sung bản sao giấy chứng sinh", "TrangThai": "5",
        "NgayBatDau": "2026-11-23 08:00:00", "NgayKetThucTheoQuyDinh": "2026-11-24T10:00:00Z",
        "NgayHenTraMoi": "20261130170000"
    })
}

fn parse(v: &Value) -> Result<StatusEvent, EventError> {
    StatusEvent::from_dvcqg_json(&serde_json::to_vec(v).unwrap())
}

fn with(field: &str, value: Value) -> Value {
    let mut v = item();
    if value.is_null() {
        v.as_object_mut().unwrap().remove(field);
    } else {
        v[field] = value;
    }
    v
}

fn invalid(r: Result<StatusEvent, EventError>) -> ValidationErrors {
    match r {
        Err(EventError::Invalid(e)) => e,
        other => panic!("expected validation errors, got {other:?}"),
    }
}

fn kinds(e: &ValidationErrors) -> Vec<(&str, FieldErrorKind)> {
    e.errors().iter().map(|p| (p.field.as_str(), p.kind)).collect()
}

#[test]
fn a_full_item_parses() {
    let e = parse(&item()).unwrap();
    assert_eq!(e.dossier.as_str(), CODE);
    assert_eq!(e.status, TrangThaiHoSo::YeuCauBoSung);
    assert_eq!(e.at.to_dvcqg(), "20261123090000");
    assert_eq!(e.handler.as_deref(), Some("Trần Thị Cúc"));
    assert_eq!(e.handler_title.as_deref(), Some("Chuyên viên"));
    assert_eq!(e.department.as_deref(), Some("Phòng Hộ tịch"));
    assert_eq!(e.content.as_deref(), Some("Yêu cầu bổ sung bản sao giấy chứng sinh"));
    assert_eq!(e.started_at.unwrap().to_dvcqg(), "20261123080000");
    assert_eq!(e.step_due_at.unwrap().to_dvcqg(), "20261124170000");
    assert_eq!(e.new_due_at.unwrap().to_dvcqg(), "20261130170000");
}

#[test]
fn a_minimal_item_parses_and_empty_means_absent() {
    let v = json!({"MaHoSo": CODE, "TrangThai": "2", "ThoiDiemXuLy": "2026-11-22T01:30:00Z",
                   "NguoiXuLy": "", "ChucDanh": null, "NgayBatDau": "", "NgayHenTraMoi": "  "});
    let e = parse(&v).unwrap();
    assert_eq!(e.status, TrangThaiHoSo::DuocTiepNhan);
    assert_eq!(e.at.to_dvcqg(), "20261122083000");
    assert_eq!((e.handler, e.handler_title, e.started_at, e.new_due_at), (None, None, None, None));
}

#[test]
fn every_status_code_and_date_form_is_read() {
    for code in 1..=10u8 {
        let e = parse(&with("TrangThai", json!(code.to_string()))).unwrap();
        assert_eq!(e.status.code(), code);
    }
    // Unquoted numbers are taken as their text, as in the dossier dialect.
    assert_eq!(parse(&with("TrangThai", json!(9))).unwrap().status, TrangThaiHoSo::DaXuLyXong);
    for form in ["20261123090000", "2026-11-23 09:00:00", "2026-11-23T09:00:00+07:00", "2026-11-23T02:00:00Z"] {
        assert_eq!(parse(&with("ThoiDiemXuLy", json!(form))).unwrap().at.to_dvcqg(), "20261123090000", "{form}");
    }
}

#[test]
fn required_fields_are_named_when_missing() {
    for field in ["MaHoSo", "TrangThai", "ThoiDiemXuLy"] {
        for absent in [Value::Null, json!(""), json!(" ")] {
            let v = if absent.is_null() { with(field, Value::Null) } else { with(field, absent) };
            let e = invalid(parse(&v));
            assert_eq!(kinds(&e), vec![(field, FieldErrorKind::Missing)], "{field}");
            assert_eq!(e.code(), "missing_field");
        }
    }
    let e = invalid(parse(&json!({})));
    assert_eq!(
        kinds(&e),
        vec![
            ("MaHoSo", FieldErrorKind::Missing),
            ("ThoiDiemXuLy", FieldErrorKind::Missing),
            ("TrangThai", FieldErrorKind::Missing)
        ]
    );
}

#[test]
fn bad_values_are_field_errors_that_do_not_echo_the_value() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("MaHoSo", json!("HS-SECRET-1"), "invalid_field"),
        ("TrangThai", json!("0"), "invalid_field"),
        ("TrangThai", json!("11"), "invalid_field"),
        ("TrangThai", json!("xử lý"), "invalid_field"),
        ("ThoiDiemXuLy", json!("20261131090000"), "invalid_date"),
        ("ThoiDiemXuLy", json!("23/11/2026"), "invalid_date"),
        ("NgayBatDau", json!("hôm qua"), "invalid_date"),
        ("NgayKetThucTheoQuyDinh", json!("2026-02-30"), "invalid_date"),
        ("NgayHenTraMoi", json!("2026-13-01 00:00:00"), "invalid_date"),
        ("NguoiXuLy", json!("x".repeat(256)), "invalid_field"),
        ("NoiDungXuLy", json!("a\u{0}b"), "invalid_field"),
        ("NgayKetThucTheoQuyDinh", json!("20261123075959"), "impossible_dates"),
    ];
    for (field, value, code) in cases {
        let e = invalid(parse(&with(field, value.clone())));
        assert_eq!(e.code(), code, "{field}: {e}");
        assert_eq!(e.errors()[0].field, field);
        // (Codes too short to be meaningful, such as "0", are not checked.)
        if let Some(s) = value.as_str().filter(|s| s.len() > 3) {
            assert!(!e.to_string().contains(s), "{field} echoes its value: {e}");
        }
    }
    // The 2000-character limit of NoiDungXuLy is inclusive.
    assert!(parse(&with("NoiDungXuLy", json!("x".repeat(2000)))).is_ok());
}

#[test]
fn unknown_and_repeated_keys_are_refused_with_the_other_problems() {
    let e = invalid(parse(&with("TrangThaiHoSo", json!("4"))));
    assert_eq!(kinds(&e), vec![("TrangThaiHoSo", FieldErrorKind::Unknown)]);
    assert_eq!(e.code(), "unknown_field");
    let body = format!(r#"{{"MaHoSo":"{CODE}","TrangThai":"4","TrangThai":"9","ThoiDiemXuLy":"20261123090000"}}"#);
    let e = invalid(StatusEvent::from_dvcqg_json(body.as_bytes()));
    assert_eq!(kinds(&e), vec![("TrangThai", FieldErrorKind::Duplicate)]);
    assert_eq!(e.code(), "duplicate_field");
    // A repeated key is refused even when both values are equal.
    let body = format!(r#"{{"MaHoSo":"{CODE}","MaHoSo":"{CODE}","TrangThai":"4","ThoiDiemXuLy":"20261123090000"}}"#);
    assert_eq!(invalid(StatusEvent::from_dvcqg_json(body.as_bytes())).code(), "duplicate_field");
    // Keys are case-sensitive.
    let e = invalid(parse(&with("mahoso", json!(CODE))));
    assert_eq!(kinds(&e), vec![("mahoso", FieldErrorKind::Unknown)]);
    // Structural problems come first, then every field problem.
    let body = r#"{"Bogus":{"x":[1]},"TrangThai":"12","ThoiDiemXuLy":"x"}"#;
    let e = invalid(StatusEvent::from_dvcqg_json(body.as_bytes()));
    assert_eq!(
        kinds(&e),
        vec![
            ("Bogus", FieldErrorKind::Unknown),
            ("MaHoSo", FieldErrorKind::Missing),
            ("ThoiDiemXuLy", FieldErrorKind::InvalidDate),
            ("TrangThai", FieldErrorKind::Invalid)
        ]
    );
}

#[test]
fn malformed_bodies_are_parse_errors() {
    for bad in [
        &b""[..],
        b"[]",
        b"{",
        b"null",
        b"\"x\"",
        b"{} {}",
        b"{\"TrangThai\":true}",
        b"{\"TrangThai\":{}}",
        b"{\"NoiDungXuLy\":[\"a\"]}",
    ] {
        let got = StatusEvent::from_dvcqg_json(bad);
        assert!(matches!(got, Err(EventError::Parse(ParseError::MalformedJson(_)))), "{got:?}");
        assert_eq!(got.unwrap_err().code(), "malformed_json");
    }
}

#[test]
fn round_trip_through_the_wire_form() {
    let e = parse(&item()).unwrap();
    let wire = e.to_dvcqg_json();
    assert_eq!(wire["ThoiDiemXuLy"], "20261123090000");
    assert_eq!(wire["NgayKetThucTheoQuyDinh"], "20261124170000");
    assert_eq!(wire["NgayBatDau"], "20261123080000");
    assert_eq!(wire["NgayHenTraMoi"], "20261130170000");
    assert_eq!(wire["TrangThai"], "5");
    assert!(wire.as_object().unwrap().values().all(Value::is_string));
    assert_eq!(parse(&wire).unwrap(), e);
    assert_eq!(StatusEvent::from_dvcqg_value(&wire).unwrap(), e);

    // A minimal event: empty strings for the absent standard fields, no NgayHenTraMoi.
    let min = StatusEvent::new(
        MaHoSo::parse("G09.20-20260609-0092637").unwrap(),
        TrangThaiHoSo::DaTraKetQua,
        VnDateTime::parse("2026-12-31T17:00:00Z").unwrap(),
    );
    let wire = min.to_dvcqg_json();
    let keys: Vec<&str> = wire.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want: Vec<&str> = EVENT_FIELDS.iter().map(|f| f.name).filter(|n| *n != "NgayHenTraMoi").collect();
    want.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, want);
    assert_eq!(wire["ThoiDiemXuLy"], "20270101000000");
    assert_eq!(wire["NguoiXuLy"], "");
    assert_eq!(parse(&wire).unwrap(), min);

    // Every status survives the round trip.
    for s in TrangThaiHoSo::ALL {
        let e = StatusEvent { status: s, ..min.clone() };
        assert_eq!(parse(&e.to_dvcqg_json()).unwrap(), e);
    }
}

#[test]
fn wire_dates_are_whole_seconds_in_vietnam_time() {
    let e = parse(&with("ThoiDiemXuLy", json!("2026-02-28T17:00:00.750Z"))).unwrap();
    assert_eq!(e.to_dvcqg_json()["ThoiDiemXuLy"], "20260301000000");
}

#[test]
fn value_form_follows_the_same_rules() {
    assert_eq!(StatusEvent::from_dvcqg_value(&item()).unwrap(), parse(&item()).unwrap());
    let e = StatusEvent::from_dvcqg_value(&with("Extra", json!("1"))).unwrap_err();
    assert_eq!(e.code(), "unknown_field");
    let e = StatusEvent::from_dvcqg_value(&with("TrangThai", Value::Null)).unwrap_err();
    assert_eq!(e.code(), "missing_field");
    assert_eq!(StatusEvent::from_dvcqg_value(&json!([1])).unwrap_err().code(), "malformed_json");
}

#[test]
fn lists_report_problems_with_item_paths() {
    let ok = json!([item(), with("TrangThai", json!("4"))]);
    let events = StatusEvent::list_from_dvcqg_json(&serde_json::to_vec(&ok).unwrap()).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].status, TrangThaiHoSo::DangXuLy);
    assert!(StatusEvent::list_from_dvcqg_json(b"[]").unwrap().is_empty());

    let bad = json!([item(), with("ThoiDiemXuLy", Value::Null), with("Bogus", json!(1))]);
    let e = match StatusEvent::list_from_dvcqg_json(&serde_json::to_vec(&bad).unwrap()) {
        Err(EventError::Invalid(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(kinds(&e), vec![("[1].ThoiDiemXuLy", FieldErrorKind::Missing), ("[2].Bogus", FieldErrorKind::Unknown)]);
    for bad in [&b"{}"[..], b"null", b"[1]", b"[{}] []"] {
        assert_eq!(StatusEvent::list_from_dvcqg_json(bad).unwrap_err().code(), "malformed_json");
    }
    let many = format!("[{}]", vec![item().to_string(); MAX_LIST_ITEMS + 1].join(","));
    assert_eq!(StatusEvent::list_from_dvcqg_json(many.as_bytes()).unwrap_err().code(), "malformed_json");
}

#[test]
fn content_hash_follows_equality() {
    let a = parse(&item()).unwrap();
    let b = parse(&item()).unwrap();
    assert_eq!(a.content_hash(), b.content_hash());
    // The same instant written another way is the same event.
    let c = parse(&with("ThoiDiemXuLy", json!("2026-11-23T02:00:00Z"))).unwrap();
    assert_eq!(a, c);
    assert_eq!(a.content_hash(), c.content_hash());
    let d = StatusEvent { content: None, ..a.clone() };
    assert_ne!(a.content_hash(), d.content_hash());
}
