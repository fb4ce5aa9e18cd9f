//! The simulator's checks of a licence application: the published JSON Schema
//! (compiled once, enforced as is), then the rules a schema cannot state.
//!
//! Messages and `field` name the field, never its value.

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use schemas::{MaHoSo, VnDateTime};
use serde_json::Value;

use crate::moit::wire::{code, HO_SO_SCHEMA};

/// Why a request is refused: MOIT's code, a message, and the field it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rejection {
    pub(super) code: &'static str,
    pub(super) detail: String,
    pub(super) field: Option<String>,
}

impl Rejection {
    pub(super) fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), field: None }
    }

    fn at(code: &'static str, field: &str, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), field: Some(field.to_owned()) }
    }
}

/// An application that passed every check: what the simulator keeps of it.
#[derive(Debug, Clone)]
pub(super) struct Checked {
    pub(super) ma_ho_so: String,
    pub(super) loai_thu_tuc: String,
    pub(super) ngay_tiep_nhan: VnDateTime,
    pub(super) ngay_hen_tra: VnDateTime,
    pub(super) thoi_gian_bat_dau: Option<VnDateTime>,
    pub(super) thoi_gian_ket_thuc: Option<VnDateTime>,
    pub(super) body: Value,
}

/// Compiles the published schema.
pub(super) fn compile() -> Result<Validator, String> {
    let schema: Value = serde_json::from_str(HO_SO_SCHEMA).map_err(|e| format!("schema is not JSON: {e}"))?;
    jsonschema::validator_for(&schema).map_err(|e| format!("schema does not compile: {}", e.masked()))
}

/// Parses a body that must be a JSON object.
pub(super) fn object(body: &[u8]) -> Result<Value, Rejection> {
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(Rejection::new(code::MALFORMED, "Nội dung yêu cầu phải là một đối tượng JSON")),
        Err(_) => Err(Rejection::new(code::MALFORMED, "Nội dung yêu cầu không phải JSON hợp lệ")),
    }
}

/// Checks an application: the schema first, then real instants, then the business rules.
pub(super) fn application(validator: &Validator, body: Value) -> Result<Checked, Rejection> {
    if let Some(e) = validator.iter_errors(&body).next() {
        return Err(schema_rejection(&e));
    }
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
    let instant = |pointer: &str, field: &str| -> Result<Option<VnDateTime>, Rejection> {
        text(pointer)
            .map(|t| {
                VnDateTime::parse(t).map_err(|_| {
                    Rejection::at(code::INVALID, field, format!("Trường {field} phải là thời điểm có thật"))
                })
            })
            .transpose()
    };
    let ma_ho_so = text("/maHoSo").unwrap_or_default().to_owned();
    if MaHoSo::parse(&ma_ho_so).is_err() {
        return Err(Rejection::at(code::INVALID, "maHoSo", "Trường maHoSo phải chứa ngày có thật"));
    }
    instant("/ngayNop", "ngayNop")?;
    let missing = || Rejection::new(code::INVALID, "Thiếu trường bắt buộc");
    let ngay_tiep_nhan = instant("/ngayTiepNhan", "ngayTiepNhan")?.ok_or_else(missing)?;
    let ngay_hen_tra = instant("/ngayHenTra", "ngayHenTra")?.ok_or_else(missing)?;
    let thoi_gian_bat_dau = instant("/giayPhep/thoiGianBatDau", "giayPhep.thoiGianBatDau")?;
    let thoi_gian_ket_thuc = instant("/giayPhep/thoiGianKetThuc", "giayPhep.thoiGianKetThuc")?;
    if ngay_hen_tra < ngay_tiep_nhan {
        return Err(Rejection::at(code::DUE_BEFORE_RECEIPT, "ngayHenTra", "Ngày hẹn trả trước ngày tiếp nhận"));
    }
    if let (Some(start), Some(end)) = (thoi_gian_bat_dau, thoi_gian_ket_thuc) {
        if end < start {
            let detail = "Thời gian kết thúc trước thời gian bắt đầu";
            return Err(Rejection::at(code::END_BEFORE_START, "giayPhep.thoiGianKetThuc", detail));
        }
    }
    Ok(Checked {
        ma_ho_so,
        loai_thu_tuc: text("/giayPhep/loaiThuTuc").unwrap_or_default().to_owned(),
        ngay_tiep_nhan,
        ngay_hen_tra,
        thoi_gian_bat_dau,
        thoi_gian_ket_thuc,
        body,
    })
}

/// A field name from the request fit to be echoed: a JSON key of letters and
/// digits; anything else is not repeated.
fn key(name: &str) -> &str {
    let ok = !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        name
    } else {
        "?"
    }
}

/// The field a schema error is about, as `a.b[0].c`.
fn field_of(e: &ValidationError<'_>) -> String {
    let mut segments: Vec<String> =
        e.instance_path.as_str().split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
    match &e.kind {
        ValidationErrorKind::Required { property } => segments.push(property.as_str().unwrap_or("?").to_owned()),
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            segments.push(unexpected.first().map_or("?", |k| key(k)).to_owned());
        }
        _ => {}
    }
    let mut out = String::new();
    for s in segments {
        if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
            out.push_str(&format!("[{s}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(key(&s));
        }
    }
    out
}

fn schema_rejection(e: &ValidationError<'_>) -> Rejection {
    let field = field_of(e);
    let detail = match &e.kind {
        ValidationErrorKind::Required { .. } => format!("Thiếu trường bắt buộc {field}"),
        ValidationErrorKind::AdditionalProperties { .. } => format!("Trường {field} không có trong cấu trúc dữ liệu"),
        ValidationErrorKind::Type { .. } => format!("Trường {field} sai kiểu dữ liệu"),
        _ => format!("Trường {field} có giá trị không hợp lệ"),
    };
    Rejection::at(code::INVALID, &field, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "maHoSo": "000.20.35.H56-260414-0137", "maTTHC": "2.001610", "tenTTHC": "T", "kenhNop": "TRUC_TUYEN",
            "ngayTiepNhan": "2026-04-14T09:30:00+07:00", "ngayHenTra": "2026-04-28T17:00:00+07:00",
            "nguoiNop": {"hoTen": "Công ty A", "loaiDoiTuong": "TO_CHUC"},
            "giayPhep": {"loaiThuTuc": "BAN_LE_RUOU", "tenThuongNhan": "Công ty A", "maSoThue": "4201876543",
                "diaDiemKinhDoanh": {"soNhaDuong": "12 Trần Phú", "phuongXa": "Nha Trang", "tinhThanhPho": "Khánh Hòa"},
                "noiDungDeNghi": "Rượu vang"},
            "tepDinhKem": [], "lePhi": []
        })
    }

    fn verdict(mutate: impl FnOnce(&mut Value)) -> Result<(), (&'static str, Option<String>, String)> {
        let mut body = minimal();
        mutate(&mut body);
        application(&compile().unwrap(), body).map(|_| ()).map_err(|r| (r.code, r.field, r.detail))
    }

    #[test]
    fn the_minimal_application_passes() {
        assert_eq!(verdict(|_| {}), Ok(()));
    }

    #[test]
    fn schema_errors_name_the_field_and_never_the_value() {
        let (code, field, detail) = verdict(|b| b["giayPhep"]["maSoThue"] = json!("Nguyễn 123")).unwrap_err();
        assert_eq!((code, field.as_deref()), ("MOIT-VAL-001", Some("giayPhep.maSoThue")));
        assert!(!detail.contains("Nguyễn"), "{detail}");
        let (_, field, detail) = verdict(|b| drop(b["nguoiNop"].as_object_mut().unwrap().remove("hoTen"))).unwrap_err();
        assert_eq!(
            (field.as_deref(), detail.as_str()),
            (Some("nguoiNop.hoTen"), "Thiếu trường bắt buộc nguoiNop.hoTen")
        );
        let (_, field, _) =
            verdict(|b| b["tepDinhKem"] = json!([{"tenTep": "a.pdf", "duongDan": "ftp://x"}])).unwrap_err();
        assert_eq!(field.as_deref(), Some("tepDinhKem[0].duongDan"));
        let (_, field, _) = verdict(|b| b["Số CCCD 0123"] = json!("x")).unwrap_err();
        assert_eq!(field.as_deref(), Some("?"));
        let (_, field, _) = verdict(|b| b["giayPhep"]["loaiThuTuc"] = json!("KHUYEN_MAI")).unwrap_err();
        assert_eq!(field.as_deref(), Some("giayPhep.thoiGianBatDau"));
    }

    #[test]
    fn rules_beyond_the_schema() {
        let (code, field, _) = verdict(|b| b["ngayHenTra"] = json!("2026-02-30T17:00:00+07:00")).unwrap_err();
        assert_eq!((code, field.as_deref()), ("MOIT-VAL-001", Some("ngayHenTra")));
        let (code, _, _) = verdict(|b| b["maHoSo"] = json!("000.20.35.H56-261399-0137")).unwrap_err();
        assert_eq!(code, "MOIT-VAL-001");
        let (code, _, _) = verdict(|b| b["ngayHenTra"] = json!("2026-04-14T09:29:59+07:00")).unwrap_err();
        assert_eq!(code, "MOIT-BUS-001");
        let (code, field, _) = verdict(|b| {
            b["giayPhep"]["thoiGianBatDau"] = json!("2026-05-10T00:00:00+07:00");
            b["giayPhep"]["thoiGianKetThuc"] = json!("2026-05-01T00:00:00+07:00");
        })
        .unwrap_err();
        assert_eq!((code, field.as_deref()), ("MOIT-BUS-002", Some("giayPhep.thoiGianKetThuc")));
        assert_eq!(object(b"[1]").unwrap_err().code, "MOIT-REQ-001");
        assert_eq!(object(b"{").unwrap_err().code, "MOIT-REQ-001");
    }
}
