//! The simulator's checks of request bodies: the published JSON Schemas (compiled
//! from the very files under `schemas/agencies/moj/`), the JSON inside `data`, and
//! the one rule a schema cannot state (a date must be a real calendar date).
//!
//! Messages and `errorField` name the field, never the value.

use std::io;

use http::StatusCode;
use jsonschema::error::ValidationErrorKind;
use jsonschema::Validator;
use schemas::{MaHoSo, VnDateTime};
use serde_json::{Map, Value};

use crate::moj::wire::{code, MODULE_BIRTH};

const TOKEN_SCHEMA: &str = include_str!("../../../../schemas/agencies/moj/auth-token.schema.json");
const HOTICH_SCHEMA: &str = include_str!("../../../../schemas/agencies/moj/hotich-tiepnhan.schema.json");
const KHAI_SINH_SCHEMA: &str = include_str!("../../../../schemas/agencies/moj/hotich-khaisinh.schema.json");
const KHAI_TU_SCHEMA: &str = include_str!("../../../../schemas/agencies/moj/hotich-khaitu.schema.json");
const HOTICH_STATUS_SCHEMA: &str = include_str!("../../../../schemas/agencies/moj/hotich-trangthai.schema.json");
const LLTP_SCHEMA: &str = include_str!("../../../../schemas/agencies/moj/lltp-tiepnhan.schema.json");
const LLTP_STATUS_SCHEMA: &str = include_str!("../../../../schemas/agencies/moj/lltp-trangthai.schema.json");

/// Why a request is refused: the HTTP status, error code, message and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rejection {
    pub(super) http: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
    pub(super) field: Option<String>,
}

impl Rejection {
    /// A refusal answered with HTTP 200.
    pub(super) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { http: StatusCode::OK, code, message: message.into(), field: None }
    }

    fn at(code: &'static str, field: String, message: String) -> Self {
        Self { field: Some(field), ..Self::new(code, message) }
    }
}

/// The compiled schemas.
pub(super) struct Validators {
    token: Validator,
    hotich: Validator,
    khai_sinh: Validator,
    khai_tu: Validator,
    hotich_status: Validator,
    lltp: Validator,
    lltp_status: Validator,
}

fn compile(text: &str) -> io::Result<Validator> {
    let schema: Value = serde_json::from_str(text).map_err(io::Error::other)?;
    jsonschema::validator_for(&schema).map_err(|e| io::Error::other(e.to_string()))
}

impl Validators {
    /// Compiles every schema; fails only if a committed schema file is broken.
    pub(super) fn new() -> io::Result<Self> {
        Ok(Self {
            token: compile(TOKEN_SCHEMA)?,
            hotich: compile(HOTICH_SCHEMA)?,
            khai_sinh: compile(KHAI_SINH_SCHEMA)?,
            khai_tu: compile(KHAI_TU_SCHEMA)?,
            hotich_status: compile(HOTICH_STATUS_SCHEMA)?,
            lltp: compile(LLTP_SCHEMA)?,
            lltp_status: compile(LLTP_STATUS_SCHEMA)?,
        })
    }

    /// Checks a token request.
    pub(super) fn token(&self, body: &Value) -> Result<(), Rejection> {
        check(&self.token, body, code::MALFORMED, "")
    }

    /// Checks a civil-status push, including the record inside `data`, and returns
    /// the record parsed.
    pub(super) fn hotich(&self, body: &Value) -> Result<Value, Rejection> {
        check(&self.hotich, body, code::HT_INVALID, "")?;
        let data = body.get("data").and_then(Value::as_str).unwrap_or_default();
        let record = match serde_json::from_str::<Value>(data) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                let message = "Trường data phải là chuỗi JSON của một đối tượng".to_owned();
                return Err(Rejection::at(code::HT_INVALID, "data".into(), message));
            }
        };
        let birth = body.get("module").and_then(Value::as_str) == Some(MODULE_BIRTH);
        let (schema, date) = if birth { (&self.khai_sinh, "ngaySinh") } else { (&self.khai_tu, "ngayChet") };
        check(schema, &record, code::HT_INVALID, "data.")?;
        real_dossier_code(body, "maHoSoMCDT", code::HT_INVALID)?;
        real_date(body, "ngayTiepNhan", "ngayTiepNhan", code::HT_INVALID)?;
        real_date(&record, date, &format!("data.{date}"), code::HT_INVALID)?;
        Ok(record)
    }

    /// Checks a judicial-record push.
    pub(super) fn lltp(&self, body: &Value) -> Result<(), Rejection> {
        check(&self.lltp, body, code::LLTP_INVALID, "")?;
        real_dossier_code(body, "maHoSoMCDT", code::LLTP_INVALID)?;
        real_date(body, "ngayTiepNhan", "ngayTiepNhan", code::LLTP_INVALID)?;
        let to_khai = body.get("toKhai").cloned().unwrap_or_default();
        real_date(&to_khai, "ngaySinh", "toKhai.ngaySinh", code::LLTP_INVALID)?;
        let periods = to_khai.get("quaTrinhCuTru").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, p) in periods.iter().enumerate() {
            for name in ["tuNgay", "denNgay"] {
                real_date(p, name, &format!("toKhai.quaTrinhCuTru[{i}].{name}"), code::LLTP_INVALID)?;
            }
        }
        Ok(())
    }

    /// Checks a status poll of either service and returns its dossier codes.
    pub(super) fn status(&self, body: &Value, judicial: bool) -> Result<Vec<String>, Rejection> {
        let (schema, code) =
            if judicial { (&self.lltp_status, code::LLTP_INVALID) } else { (&self.hotich_status, code::HT_INVALID) };
        check(schema, body, code, "")?;
        let codes = body.get("dsMaHoSo").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut out = Vec::new();
        for (i, c) in codes.iter().enumerate() {
            let text = c.as_str().unwrap_or_default();
            if MaHoSo::parse(text).is_err() {
                return Err(Rejection::at(
                    code,
                    format!("dsMaHoSo[{i}]"),
                    format!("Trường dsMaHoSo[{i}] không hợp lệ"),
                ));
            }
            out.push(text.to_owned());
        }
        Ok(out)
    }
}

/// Parses a body that must be a JSON object.
pub(super) fn object(body: &[u8]) -> Result<Map<String, Value>, Rejection> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Rejection::new(code::MALFORMED, "Dữ liệu gửi lên phải là một đối tượng JSON")),
        Err(_) => Err(Rejection::new(code::MALFORMED, "Dữ liệu gửi lên không phải JSON hợp lệ")),
    }
}

/// The first schema violation, as a refusal naming the field under `prefix`.
fn check(validator: &Validator, value: &Value, code: &'static str, prefix: &str) -> Result<(), Rejection> {
    let Err(error) = validator.validate(value) else {
        return Ok(());
    };
    let mut path = prefix.trim_end_matches('.').to_owned();
    for segment in error.instance_path.as_str().split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        push(&mut path, &segment);
    }
    let message = match &error.kind {
        ValidationErrorKind::Required { property } => {
            push(&mut path, property.as_str().unwrap_or_default());
            format!("Thiếu trường bắt buộc {path}")
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            push(&mut path, unexpected.first().map(String::as_str).unwrap_or_default());
            format!("Trường {path} không có trong cấu trúc dữ liệu")
        }
        ValidationErrorKind::Type { .. } => format!("Trường {path} sai kiểu dữ liệu"),
        _ => format!("Trường {path} không hợp lệ"),
    };
    if path.is_empty() {
        return Err(Rejection::new(code, "Dữ liệu gửi lên sai cấu trúc"));
    }
    Err(Rejection::at(code, path, message))
}

/// Appends a JSON-pointer segment to a dotted path: `[i]` for an index.
fn push(path: &mut String, segment: &str) {
    if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
        path.push_str(&format!("[{segment}]"));
    } else if !segment.is_empty() {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(segment);
    }
}

/// A date the schema let through must also be a real calendar date ("" passes:
/// the schema decides where blanks are allowed).
fn real_date(obj: &Value, key: &str, field: &str, code: &'static str) -> Result<(), Rejection> {
    let text = obj.get(key).and_then(Value::as_str).unwrap_or_default();
    if text.is_empty() || VnDateTime::parse(text).is_ok() {
        return Ok(());
    }
    Err(Rejection::at(code, field.to_owned(), format!("Trường {field} phải là ngày có thật")))
}

fn real_dossier_code(obj: &Value, key: &str, code: &'static str) -> Result<(), Rejection> {
    let text = obj.get(key).and_then(Value::as_str).unwrap_or_default();
    if MaHoSo::parse(text).is_ok() {
        return Ok(());
    }
    Err(Rejection::at(code, key.to_owned(), format!("Trường {key} không phải mã hồ sơ hợp lệ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hotich(data: Value) -> Value {
        json!({"maDonVi": "X", "module": "KT", "maHoSoLT": "k", "maHoSoMCDT": "000.00.31.H29-261122-0001",
               "ngayTiepNhan": "2026-11-22 08:30:00", "data": data.to_string(), "fileDinhKem": []})
    }

    fn death() -> Value {
        json!({"hoTen": "A", "ngayChet": "2026-11-20 23:10:00", "noiChet": "B", "nycHoTen": "C"})
    }

    #[test]
    fn a_minimal_record_passes_and_problems_name_the_field() {
        let v = Validators::new().unwrap();
        assert_eq!(v.hotich(&hotich(death())).unwrap()["hoTen"], "A");
        let mut d = death();
        d.as_object_mut().unwrap().remove("noiChet");
        let r = v.hotich(&hotich(d)).unwrap_err();
        assert_eq!((r.code, r.field.as_deref()), ("HT-01", Some("data.noiChet")));
        assert_eq!(r.message, "Thiếu trường bắt buộc data.noiChet");
        let mut d = death();
        d["ngayChet"] = json!("2026-02-30 10:00:00");
        let r = v.hotich(&hotich(d)).unwrap_err();
        assert_eq!(r.field.as_deref(), Some("data.ngayChet"));
        assert!(!r.message.contains("2026"));
        let mut b = hotich(death());
        b["fileDinhKem"] = json!([{"id": "1", "loaiGiayTo": "", "tenGiayTo": "T", "tenTepDinhKem": "t.pdf",
                                   "duLieuTepDinhKem": "not base64"}]);
        assert_eq!(v.hotich(&b).unwrap_err().field.as_deref(), Some("fileDinhKem[0].duLieuTepDinhKem"));
        let mut b = hotich(death());
        b["data"] = json!("[1]");
        assert_eq!(v.hotich(&b).unwrap_err().field.as_deref(), Some("data"));
    }

    #[test]
    fn polls_take_real_dossier_codes() {
        let v = Validators::new().unwrap();
        let body = json!({"maDonVi": "X", "dsMaHoSo": ["000.00.31.H29-261122-0001"]});
        assert_eq!(v.status(&body, false).unwrap().len(), 1);
        let body = json!({"maDonVi": "X", "dsMaHoSo": ["000.00.31.H29-261399-0001"]});
        assert_eq!(v.status(&body, false).unwrap_err().field.as_deref(), Some("dsMaHoSo[0]"));
        let body = json!({"maDonVi": "X", "dsMaHoSo": []});
        assert_eq!(v.status(&body, false).unwrap_err().field.as_deref(), Some("dsMaHoSo"));
    }
}
