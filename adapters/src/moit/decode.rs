//! Wire to canonical: what an answer means, a dossier's history as events, and the
//! normalised answers of the look-ups.
//!
//! Pure functions, golden-tested. Reading is liberal (any accepted date form,
//! numbers where text is expected); reasons and errors name fields, never values.

use schemas::{MaHoSo, StatusEvent, TradeLicenceKind, VnDateTime};
use serde::Serialize;
use serde_json::{Map, Value};

use super::wire::{code, Created, LicenceState, MoitState, Problem};
use crate::{DecodeError, Outcome};

/// The longest agency title quoted in a reason.
const MAX_TITLE_CHARS: usize = 120;

/// Reads a problem document; `None` when the body is not one with a `code`.
pub fn parse_problem(body: &[u8]) -> Option<Problem> {
    serde_json::from_slice(body).ok()
}

/// MOIT's title, cut short and stripped of control characters. Titles are fixed
/// per problem type (RFC 9457 §3.1.4), never about one request, so safe to log.
pub fn quote(title: &str) -> String {
    let clean: String = title.chars().filter(|c| !c.is_control()).take(MAX_TITLE_CHARS).collect();
    clean.trim().to_owned()
}

/// A code or field name fit for a reason: `None` unless made only of letters,
/// digits and `._-[]`, and short.
fn token(s: &str) -> Option<&str> {
    let ok = !s.is_empty()
        && s.len() <= 80
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '[' | ']'));
    ok.then_some(s)
}

/// " (MOIT-VAL-001 \"title\", field x)" for a problem, "" without one.
fn describe(problem: Option<&Problem>) -> String {
    let Some(p) = problem else { return String::new() };
    let mut out = format!(" ({}", token(&p.code).unwrap_or("unreadable code"));
    let title = quote(&p.title);
    if !title.is_empty() {
        out.push_str(&format!(" \"{title}\""));
    }
    if let Some(field) = p.field.as_deref().and_then(token) {
        out.push_str(&format!(", field {field}"));
    }
    out.push(')');
    out
}

/// What an answer to `POST /api/v1/ho-so` means.
///
/// 2xx with `id` or `soTiepNhan` is delivered; a 2xx without them is retryable so
/// that nothing is lost while an operator looks. A `MOIT-SYS-*` code is retryable
/// whatever the status. 401 (the client renews the token first), 403 (the scope),
/// 404 and 405 (the URL: the path is fixed), 408, 429 and 5xx are retryable; other
/// 4xx (validation, business rules, duplicates) permanent.
pub fn classify(http_status: u16, body: &[u8]) -> Outcome {
    let retry = |reason: String| Outcome::Retryable { reason };
    if (200..300).contains(&http_status) {
        let created: Option<Created> = serde_json::from_slice(body).ok();
        let reference = created
            .and_then(|c| c.id.filter(|s| !s.trim().is_empty()).or(c.so_tiep_nhan.filter(|s| !s.trim().is_empty())));
        return match reference {
            Some(r) => Outcome::Delivered { agency_ref: Some(r) },
            None => retry(format!("moit answered http {http_status} without the expected JSON")),
        };
    }
    let problem = parse_problem(body);
    let about = describe(problem.as_ref());
    if problem.as_ref().is_some_and(|p| p.code.starts_with(code::SYSTEM_PREFIX)) {
        return retry(format!("moit busy or failing: http {http_status}{about}"));
    }
    match http_status {
        401 => retry(format!("moit refused the access token: http 401{about}")),
        403 => retry(format!("moit refused access: http 403{about}; check the configured scope")),
        // The path is fixed, so a missing resource or method means a wrong base URL.
        404 | 405 => retry(format!("moit answered http {http_status}{about}; check the configured url")),
        408 | 429 | 500..=599 => retry(format!("moit answered http {http_status}{about}")),
        400..=499 => Outcome::Permanent { reason: format!("moit refused the dossier: http {http_status}{about}") },
        _ => retry(format!("moit answered unexpected http {http_status}{about}")),
    }
}

fn root(body: &[u8]) -> Result<Map<String, Value>, DecodeError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(DecodeError("not a JSON object".into())),
        Err(_) => Err(DecodeError("not a JSON document".into())),
    }
}

/// A text value: a string, or a number taken as its text; `None` for absent,
/// null or blank.
fn text(obj: &Map<String, Value>, name: &str, at: &str) -> Result<Option<String>, DecodeError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(DecodeError(format!("{at}{name}: must be a string"))),
    }
}

fn required(obj: &Map<String, Value>, name: &str, at: &str) -> Result<String, DecodeError> {
    text(obj, name, at)?.ok_or_else(|| DecodeError(format!("{at}{name}: missing")))
}

fn date(obj: &Map<String, Value>, name: &str, at: &str) -> Result<Option<VnDateTime>, DecodeError> {
    text(obj, name, at)?.map(|s| VnDateTime::parse(&s).map_err(|e| DecodeError(format!("{at}{name}: {e}")))).transpose()
}

fn required_date(obj: &Map<String, Value>, name: &str, at: &str) -> Result<VnDateTime, DecodeError> {
    date(obj, name, at)?.ok_or_else(|| DecodeError(format!("{at}{name}: missing")))
}

fn state(obj: &Map<String, Value>, at: &str) -> Result<MoitState, DecodeError> {
    MoitState::from_code(&required(obj, "trangThai", at)?)
        .ok_or_else(|| DecodeError(format!("{at}trangThai: not a MOIT dossier state")))
}

/// Decodes a `GET /api/v1/ho-so/{maHoSo}` answer into canonical events, one per
/// `lichSuXuLy` item, oldest first.
pub fn decode_status(body: &[u8]) -> Result<Vec<StatusEvent>, DecodeError> {
    let obj = root(body)?;
    let code = required(&obj, "maHoSo", "")?;
    let dossier = MaHoSo::parse(&code).map_err(|e| DecodeError(format!("maHoSo: {e}")))?;
    let items = match obj.get("lichSuXuLy") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(DecodeError("lichSuXuLy: must be a list".into())),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("lichSuXuLy[{i}].");
            let item = item.as_object().ok_or_else(|| DecodeError(format!("lichSuXuLy[{i}]: must be an object")))?;
            Ok(StatusEvent {
                dossier: dossier.clone(),
                status: state(item, &at)?.trang_thai(),
                at: required_date(item, "thoiDiem", &at)?,
                handler: text(item, "canBoXuLy", &at)?,
                handler_title: text(item, "chucDanh", &at)?,
                department: text(item, "donViXuLy", &at)?,
                content: text(item, "noiDung", &at)?,
                started_at: date(item, "batDau", &at)?,
                step_due_at: date(item, "hanXuLy", &at)?,
                new_due_at: date(item, "ngayHenTraMoi", &at)?,
            })
        })
        .collect()
}

/// The `dossier` look-up's answer: MOIT's state as a DVCQG status, with history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DossierView {
    /// The dossier code.
    pub code: String,
    /// MOIT's id.
    pub agency_ref: Option<String>,
    /// MOIT's receipt number.
    pub receipt_number: Option<String>,
    /// The DVCQG status code (1 to 10).
    pub status: u8,
    /// The status's label, such as `processing`.
    pub status_label: &'static str,
    /// MOIT's own state, such as `DANG_THAM_DINH`.
    pub agency_status: &'static str,
    /// Received at.
    pub received_at: Option<VnDateTime>,
    /// Due at.
    pub due_at: Option<VnDateTime>,
    /// The licence issued, once there is one.
    pub licence_number: Option<String>,
    /// Every step, oldest first.
    pub history: Vec<StatusEvent>,
}

/// Decodes a `GET /api/v1/ho-so/{maHoSo}` answer into the `dossier` look-up's answer.
pub fn decode_dossier(body: &[u8]) -> Result<DossierView, DecodeError> {
    let obj = root(body)?;
    let state = state(&obj, "")?;
    let status = state.trang_thai();
    Ok(DossierView {
        code: required(&obj, "maHoSo", "")?,
        agency_ref: text(&obj, "id", "")?,
        receipt_number: text(&obj, "soTiepNhan", "")?,
        status: status.code(),
        status_label: status.label(),
        agency_status: state.code(),
        received_at: date(&obj, "ngayTiepNhan", "")?,
        due_at: date(&obj, "ngayHenTra", "")?,
        licence_number: text(&obj, "soGiayPhep", "")?,
        history: decode_status(body)?,
    })
}

/// The `licence` look-up's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenceView {
    /// The licence number.
    pub number: String,
    /// `alcohol_retail` or `promotion_notice`; `None` for a kind the gateway does not model.
    pub kind: Option<TradeLicenceKind>,
    /// MOIT's code of the kind, such as `BAN_LE_RUOU`.
    pub agency_kind: String,
    /// The trader's name.
    pub trader_name: Option<String>,
    /// The trader's tax code.
    pub tax_code: Option<String>,
    /// Issued at.
    pub issued_at: Option<VnDateTime>,
    /// In force from.
    pub valid_from: Option<VnDateTime>,
    /// In force until.
    pub valid_to: Option<VnDateTime>,
    /// `valid`, `expired`, `suspended` or `revoked`, as MOIT says.
    pub status: &'static str,
    /// Whether MOIT says the licence is in force.
    pub valid: bool,
    /// The dossier it was issued for, when known.
    pub dossier: Option<String>,
}

/// Decodes a `GET /api/v1/giay-phep/{soGiayPhep}` answer into the `licence` look-up's answer.
pub fn decode_licence(body: &[u8]) -> Result<LicenceView, DecodeError> {
    let obj = root(body)?;
    let agency_kind = required(&obj, "loaiGiayPhep", "")?;
    let status = LicenceState::from_code(&required(&obj, "trangThai", "")?)
        .ok_or_else(|| DecodeError("trangThai: not a MOIT licence state".into()))?;
    Ok(LicenceView {
        number: required(&obj, "soGiayPhep", "")?,
        kind: TradeLicenceKind::from_code(&agency_kind),
        agency_kind,
        trader_name: text(&obj, "tenThuongNhan", "")?,
        tax_code: text(&obj, "maSoThue", "")?,
        issued_at: date(&obj, "ngayCap", "")?,
        valid_from: date(&obj, "hieuLucTu", "")?,
        valid_to: date(&obj, "hieuLucDen", "")?,
        status: status.label(),
        valid: status == LicenceState::ConHieuLuc,
        dossier: text(&obj, "maHoSo", "")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_without_a_problem_document() {
        for status in [503, 500, 429, 408, 401, 403, 404, 405, 302] {
            assert_eq!(classify(status, b"<html/>").label(), "retryable", "{status}");
        }
        for status in [400, 409, 410, 415, 422] {
            assert_eq!(classify(status, b"").label(), "permanent", "{status}");
        }
    }

    #[test]
    fn created_answers_and_system_codes() {
        let c = |status, body: &str| classify(status, body.as_bytes());
        assert_eq!(
            c(201, r#"{"id":"HS-1","soTiepNhan":"TN-1"}"#),
            Outcome::Delivered { agency_ref: Some("HS-1".into()) }
        );
        assert_eq!(c(200, r#"{"id":" ","soTiepNhan":"TN-1"}"#), Outcome::Delivered { agency_ref: Some("TN-1".into()) });
        assert_eq!(c(201, r#"{"trangThai":"DA_TIEP_NHAN"}"#).label(), "retryable");
        assert_eq!(c(201, "created").label(), "retryable");
        assert_eq!(c(422, r#"{"code":"MOIT-SYS-001","title":"Lỗi hệ thống"}"#).label(), "retryable");
    }

    #[test]
    fn reasons_name_code_title_and_field_but_nothing_unsafe() {
        let body = r#"{"code":"MOIT-VAL-001","title":"Dữ liệu\u0007 không hợp lệ","field":"giayPhep.maSoThue",
                       "detail":"Giá trị 0101234567 sai"}"#;
        assert_eq!(
            classify(422, body.as_bytes()),
            Outcome::Permanent {
                reason: "moit refused the dossier: http 422 (MOIT-VAL-001 \"Dữ liệu không hợp lệ\", field giayPhep.maSoThue)"
                    .into()
            }
        );
        let odd = r#"{"code":"MOIT VAL <b>","field":"Nguyễn Văn A"}"#;
        let Outcome::Permanent { reason } = classify(422, odd.as_bytes()) else { panic!() };
        assert_eq!(reason, "moit refused the dossier: http 422 (unreadable code)");
    }

    #[test]
    fn history_errors_name_the_field_and_not_the_value() {
        let body = br#"{"maHoSo":"000.20.35.H56-260414-0137","lichSuXuLy":[{"trangThai":"DA_TIEP_NHAN","thoiDiem":"2026-13-99T00:00:00+07:00"}]}"#;
        let e = decode_status(body).unwrap_err().to_string();
        assert!(e.contains("lichSuXuLy[0].thoiDiem") && !e.contains("2026-13"), "{e}");
        let body = br#"{"maHoSo":"000.20.35.H56-260414-0137","lichSuXuLy":[{"trangThai":"XONG","thoiDiem":"20260414093000"}]}"#;
        assert_eq!(decode_status(body).unwrap_err().0, "lichSuXuLy[0].trangThai: not a MOIT dossier state");
        assert!(decode_status(br#"{"maHoSo":"nope"}"#).is_err());
        assert_eq!(decode_status(br#"{"maHoSo":"000.20.35.H56-260414-0137"}"#).unwrap(), vec![]);
    }
}
