//! The simulator's checks of request bodies: the rules of the JSON Schema, plus
//! the one a schema cannot state (a date must be a real instant).
//!
//! Shape problems (an unknown key, a value that is not a string, a list that is
//! not a list) answer "2"; content problems (a required field missing or blank, a
//! bad date or code) answer "3". Messages name the field, never the value.

use schemas::VnDateTime;
use serde_json::{Map, Value};

use crate::dvcqg::wire::{code, Answer, ProgressItem, WireField, WireKind, DOSSIER_FIELDS, PROGRESS_FIELDS};

/// Why a request is refused: its error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rejection {
    pub(super) code: &'static str,
    pub(super) message: String,
}

impl Rejection {
    pub(super) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    fn malformed(message: impl Into<String>) -> Self {
        Self::new(code::MALFORMED, message)
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_FIELD, message)
    }

    pub(super) fn answer(&self) -> Answer {
        Answer::new(self.code, self.message.clone())
    }
}

/// A `DongBoHoSoMC` body that passed every check.
#[derive(Debug, Clone)]
pub(super) struct SyncBody {
    pub(super) is_updating: bool,
    pub(super) ma_ho_so: String,
    pub(super) dossier: Value,
}

/// Parses a body that must be a JSON object.
pub(super) fn object(body: &[u8]) -> Result<Map<String, Value>, Rejection> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Rejection::malformed("Dữ liệu gửi lên phải là một đối tượng JSON")),
        Err(_) => Err(Rejection::malformed("Dữ liệu gửi lên không phải JSON hợp lệ")),
    }
}

/// The session of a body: `Ok(None)` when absent, "2" when not a string.
pub(super) fn session(body: &Map<String, Value>) -> Result<Option<&str>, Rejection> {
    match body.get("session") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Rejection::malformed("Trường session phải là chuỗi ký tự")),
    }
}

/// Checks a `DongBoHoSoMC` body (its session already checked).
pub(super) fn sync_body(body: &Map<String, Value>) -> Result<SyncBody, Rejection> {
    envelope(body, &["session", "madonvi", "isUpdating", "data"])?;
    let dossiers = list(body)?;
    for d in dossiers {
        shape(d, DOSSIER_FIELDS, "")?;
    }
    required_text(body, "madonvi")?;
    let is_updating = match body.get("isUpdating").and_then(Value::as_str) {
        Some("false") => false,
        Some("true") => true,
        None => return Err(Rejection::invalid("Thiếu trường bắt buộc isUpdating")),
        Some(_) => return Err(Rejection::invalid("Trường isUpdating phải là \"true\" hoặc \"false\"")),
    };
    let [dossier] = dossiers else {
        return Err(Rejection::invalid("Trường data phải chứa đúng một hồ sơ"));
    };
    content(dossier, DOSSIER_FIELDS, "")?;
    let ma_ho_so = dossier.get("MaHoSo").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    Ok(SyncBody { is_updating, ma_ho_so, dossier: dossier.clone() })
}

/// Checks a `TraCuuHoSo` body and returns the dossier code looked up.
pub(super) fn lookup_body(body: &Map<String, Value>) -> Result<String, Rejection> {
    envelope(body, &["session", "madonvi", "MaHoSo"])?;
    for key in ["madonvi", "MaHoSo"] {
        if body.get(key).is_some_and(|v| !v.is_string()) {
            return Err(Rejection::malformed(format!("Trường {key} phải là chuỗi ký tự")));
        }
    }
    required_text(body, "madonvi")?;
    Ok(required_text(body, "MaHoSo")?.to_owned())
}

/// Checks a `CapNhatTienDoHoSoMC` body and returns its items.
pub(super) fn progress_body(body: &Map<String, Value>) -> Result<Vec<ProgressItem>, Rejection> {
    envelope(body, &["session", "madonvi", "data"])?;
    let items = list(body)?;
    for item in items {
        shape(item, PROGRESS_FIELDS, "")?;
    }
    required_text(body, "madonvi")?;
    if items.is_empty() {
        return Err(Rejection::invalid("Trường data phải chứa ít nhất một mục"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            content(item, PROGRESS_FIELDS, &format!("data[{i}]."))?;
            serde_json::from_value(item.clone()).map_err(|_| Rejection::malformed(format!("data[{i}] sai cấu trúc")))
        })
        .collect()
}

fn envelope(body: &Map<String, Value>, keys: &[&str]) -> Result<(), Rejection> {
    if let Some(k) = body.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(Rejection::malformed(format!("Trường {k} không có trong cấu trúc dữ liệu")));
    }
    for k in ["madonvi", "isUpdating"] {
        if body.get(k).is_some_and(|v| !v.is_string()) {
            return Err(Rejection::malformed(format!("Trường {k} phải là chuỗi ký tự")));
        }
    }
    Ok(())
}

fn list(body: &Map<String, Value>) -> Result<&[Value], Rejection> {
    match body.get("data") {
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(Rejection::malformed("Trường data phải là danh sách")),
        None => Err(Rejection::invalid("Thiếu trường bắt buộc data")),
    }
}

fn required_text<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a str, Rejection> {
    match body.get(key).and_then(Value::as_str).map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Rejection::invalid(format!("Thiếu trường bắt buộc {key}"))),
    }
}

/// Structure: known keys only, strings where strings belong, lists of objects.
fn shape(value: &Value, table: &[WireField], path: &str) -> Result<(), Rejection> {
    let Some(obj) = value.as_object() else {
        let what = if path.is_empty() { "Mỗi phần tử của data" } else { path.trim_end_matches('.') };
        return Err(Rejection::malformed(format!("{what} phải là một đối tượng")));
    };
    for (key, v) in obj {
        let Some(field) = table.iter().find(|f| f.name == key) else {
            return Err(Rejection::malformed(format!("Trường {path}{key} không có trong cấu trúc dữ liệu")));
        };
        match (field.kind, v) {
            (WireKind::List(items), Value::Array(arr)) => {
                for (i, item) in arr.iter().enumerate() {
                    shape(item, items, &format!("{path}{key}[{i}]."))?;
                }
            }
            (WireKind::List(_), _) => {
                return Err(Rejection::malformed(format!("Trường {path}{key} phải là danh sách")));
            }
            (_, Value::String(_)) => {}
            _ => return Err(Rejection::malformed(format!("Trường {path}{key} phải là chuỗi ký tự"))),
        }
    }
    Ok(())
}

/// Content, on a value whose shape is known to be right.
fn content(value: &Value, table: &[WireField], path: &str) -> Result<(), Rejection> {
    let empty = Map::new();
    let obj = value.as_object().unwrap_or(&empty);
    for field in table {
        let name = format!("{path}{}", field.name);
        if let WireKind::List(items) = field.kind {
            if let Some(Value::Array(arr)) = obj.get(field.name) {
                for (i, item) in arr.iter().enumerate() {
                    content(item, items, &format!("{name}[{i}]."))?;
                }
            }
            continue;
        }
        let v = obj.get(field.name).and_then(Value::as_str).unwrap_or_default();
        let blank = if field.kind == WireKind::Text { v.trim().is_empty() } else { v.is_empty() };
        if blank {
            if field.required {
                return Err(Rejection::invalid(format!("Thiếu trường bắt buộc {name}")));
            }
            continue;
        }
        let ok = match field.kind {
            WireKind::Date => is_dvcqg_date(v),
            WireKind::Code(lo, hi) => v.parse::<u8>().is_ok_and(|c| (lo..=hi).contains(&c) && c.to_string() == v),
            WireKind::Digits => v.bytes().all(|b| b.is_ascii_digit()),
            WireKind::Text | WireKind::List(_) => true,
        };
        if !ok {
            let why = match field.kind {
                WireKind::Date => "phải là ngày giờ có thật, dạng yyyyMMddHHmmss",
                WireKind::Code(..) => "có giá trị ngoài danh mục",
                _ => "phải là số nguyên không âm",
            };
            return Err(Rejection::invalid(format!("Trường {name} {why}")));
        }
    }
    Ok(())
}

/// Fourteen digits naming a real instant in Vietnam's time.
pub(super) fn is_dvcqg_date(v: &str) -> bool {
    v.len() == 14 && v.bytes().all(|b| b.is_ascii_digit()) && VnDateTime::parse(v).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(dossier: Value) -> Map<String, Value> {
        let v = json!({"session": "s", "madonvi": "X", "isUpdating": "false", "data": [dossier]});
        v.as_object().cloned().unwrap()
    }

    fn minimal() -> Value {
        json!({"MaHoSo": "A-261122-0001", "MaTTHC": "1.001193", "TenTTHC": "T", "KenhThucHien": "2",
               "ChuHoSo": "C", "LoaiDoiTuong": "1", "NgayTiepNhan": "20261122083000", "NgayHenTra": "20261125170000"})
    }

    fn with(key: &str, v: Value) -> Value {
        let mut d = minimal();
        d[key] = v;
        d
    }

    fn verdict(d: Value) -> Result<(), (&'static str, String)> {
        sync_body(&body(d)).map(|_| ()).map_err(|r| (r.code, r.message))
    }

    #[test]
    fn minimal_dossier_passes() {
        let ok = sync_body(&body(minimal())).unwrap();
        assert!(!ok.is_updating);
        assert_eq!(ok.ma_ho_so, "A-261122-0001");
    }

    #[test]
    fn shape_problems_are_two_and_content_problems_three() {
        assert_eq!(verdict(with("Email", json!(1))).unwrap_err().0, "2");
        assert_eq!(verdict(with("Bogus", json!("x"))).unwrap_err().0, "2");
        assert_eq!(verdict(with("TaiLieuNop", json!({}))).unwrap_err().0, "2");
        assert_eq!(verdict(with("TaiLieuNop", json!([{"TenTepDinhKem": 5}]))).unwrap_err().0, "2");
        assert_eq!(verdict(with("ChuHoSo", json!("  "))).unwrap_err(), ("3", "Thiếu trường bắt buộc ChuHoSo".into()));
        assert_eq!(verdict(with("NgayHenTra", json!("20260230000000"))).unwrap_err().0, "3");
        assert_eq!(verdict(with("NgayTra", json!("2026-11-25"))).unwrap_err().0, "3");
        assert_eq!(verdict(with("KenhThucHien", json!("02"))).unwrap_err().0, "3");
        assert_eq!(verdict(with("TrangThaiHoSo", json!("11"))).unwrap_err().0, "3");
        assert_eq!(verdict(with("DanhSachLePhi", json!([{"TenPhiLePhi": "x", "Gia": "1.5"}]))).unwrap_err().0, "3");
        assert!(verdict(with("TrangThaiHoSo", json!(""))).is_ok());
    }

    #[test]
    fn messages_name_the_field_but_not_the_value() {
        let (_, m) = verdict(with("NgayHenTra", json!("20269999999999"))).unwrap_err();
        assert!(m.contains("NgayHenTra") && !m.contains("2026"), "{m}");
        let (_, m) = verdict(with("DanhSachLePhi", json!([{"TenPhiLePhi": "x"}]))).unwrap_err();
        assert_eq!(m, "Thiếu trường bắt buộc DanhSachLePhi[0].Gia");
    }

    #[test]
    fn envelope_rules() {
        let mut b = body(minimal());
        b.insert("isUpdating".into(), json!("maybe"));
        assert_eq!(sync_body(&b).unwrap_err().code, "3");
        b.insert("isUpdating".into(), json!(false));
        assert_eq!(sync_body(&b).unwrap_err().code, "2");
        let mut b = body(minimal());
        b.insert("data".into(), json!([minimal(), minimal()]));
        assert_eq!(sync_body(&b).unwrap_err().code, "3");
        b.insert("extra".into(), json!("x"));
        assert_eq!(sync_body(&b).unwrap_err().code, "2");
        assert_eq!(object(b"[1]").unwrap_err().code, "2");
        assert_eq!(object(b"{").unwrap_err().code, "2");
    }
}
