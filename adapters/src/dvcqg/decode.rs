//! Wire to canonical: what an answer means, and status messages as events.
//!
//! Pure functions, golden-tested. Reading is liberal (numbers where strings are
//! expected, any accepted date form); writing, in `encode`, is strict.

use schemas::{MaHoSo, StatusEvent, TrangThaiHoSo, VnDateTime};
use serde_json::{Map, Value};

use super::wire::{code, Answer};
use crate::{DecodeError, Outcome};

/// The longest agency message quoted in an outcome's reason.
const MAX_MESSAGE_CHARS: usize = 200;

/// Reads an answer body; `None` when it is not a JSON object with an `error_code`.
pub fn parse_answer(body: &[u8]) -> Option<Answer> {
    serde_json::from_slice(body).ok()
}

/// Whether the body is an answer saying the session is invalid or expired.
pub fn is_session_invalid(body: &[u8]) -> bool {
    parse_answer(body).is_some_and(|a| a.error_code == code::SESSION_INVALID)
}

/// The agency's message, cut short and stripped of control characters. DVCQG
/// messages name fields and never repeat values, so they are safe to log.
pub fn quote(message: &str) -> String {
    let clean: String = message.chars().filter(|c| !c.is_control()).take(MAX_MESSAGE_CHARS).collect();
    clean.trim().to_owned()
}

/// What an answer to `DongBoHoSoMC` (or `CapNhatTienDoHoSoMC`) means.
///
/// HTTP 5xx, 408 and 429 are retryable, 401 too (the session: the client logs in
/// again), other 4xx permanent. A 2xx body is read for its `error_code`: "0"
/// delivered; "-1" (session) and "99" (busy) retryable; "2", "3", "4" permanent;
/// an unknown code, or a body that is not the expected JSON, retryable so that
/// nothing is lost while an operator looks.
pub fn classify(http_status: u16, body: &[u8]) -> Outcome {
    let retry = |reason: String| Outcome::Retryable { reason };
    match http_status {
        200..=299 => {}
        401 => return retry("dvcqg answered http 401 (session refused)".into()),
        408 | 429 | 500..=599 => return retry(format!("dvcqg answered http {http_status}")),
        400..=499 => return Outcome::Permanent { reason: format!("dvcqg answered http {http_status}") },
        _ => return retry(format!("dvcqg answered unexpected http {http_status}")),
    }
    let Some(answer) = parse_answer(body) else {
        return retry(format!("dvcqg answered http {http_status} without the expected JSON"));
    };
    let with_message = |what: &str| {
        let m = quote(&answer.message);
        if m.is_empty() {
            format!("{what} (error_code {})", answer.error_code)
        } else {
            format!("{what} (error_code {}): {m}", answer.error_code)
        }
    };
    match answer.error_code.as_str() {
        code::OK => Outcome::Delivered { agency_ref: answer.id.filter(|id| !id.trim().is_empty()) },
        code::SESSION_INVALID => retry(with_message("session invalid or expired")),
        code::BUSY => retry(with_message("dvcqg busy")),
        code::NOT_FOUND => retry(with_message("dossier not known to dvcqg yet")),
        code::MALFORMED => Outcome::Permanent { reason: with_message("malformed request") },
        code::INVALID_FIELD => Outcome::Permanent { reason: with_message("invalid field") },
        code::ALREADY_SYNCED => Outcome::Permanent { reason: with_message("already synchronised under another key") },
        _ => retry(with_message("unknown dvcqg answer")),
    }
}

/// Decodes a status message into events: a `TraCuuHoSo` answer (its
/// `QuaTrinhXuLy`) or a `CapNhatTienDoHoSoMC` body (its `data` items).
pub fn decode_status(body: &[u8]) -> Result<Vec<StatusEvent>, DecodeError> {
    let root: Value = serde_json::from_slice(body).map_err(|_| DecodeError("not a JSON document".into()))?;
    let obj = root.as_object().ok_or_else(|| DecodeError("not a JSON object".into()))?;
    match obj.get("data") {
        Some(Value::Array(items)) => events(items, None, "data"),
        Some(Value::Object(dossier)) => {
            check_ok(obj)?;
            lookup_events(dossier)
        }
        _ => Err(DecodeError("neither a TraCuuHoSo answer nor a CapNhatTienDoHoSoMC body".into())),
    }
}

/// Decodes a successful `TraCuuHoSo` answer into the dossier object (without its
/// history) and its history as events.
pub fn decode_lookup(body: &[u8]) -> Result<(Value, Vec<StatusEvent>), DecodeError> {
    let root: Value = serde_json::from_slice(body).map_err(|_| DecodeError("not a JSON document".into()))?;
    let obj = root.as_object().ok_or_else(|| DecodeError("not a JSON object".into()))?;
    check_ok(obj)?;
    let Some(Value::Object(dossier)) = obj.get("data") else {
        return Err(DecodeError("data: must be the dossier object".into()));
    };
    let events = lookup_events(dossier)?;
    let mut dossier = dossier.clone();
    dossier.remove("QuaTrinhXuLy");
    Ok((Value::Object(dossier), events))
}

fn check_ok(obj: &Map<String, Value>) -> Result<(), DecodeError> {
    let code = obj.get("error_code").map(scalar).unwrap_or(Ok(None))?;
    match code.as_deref() {
        Some(code::OK) => Ok(()),
        Some(other) => Err(DecodeError(format!("the answer carries error_code {other}"))),
        None => Err(DecodeError("error_code: missing".into())),
    }
}

fn lookup_events(dossier: &Map<String, Value>) -> Result<Vec<StatusEvent>, DecodeError> {
    let code = dossier.get("MaHoSo").map(scalar).unwrap_or(Ok(None))?;
    match dossier.get("QuaTrinhXuLy") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => events(items, code.as_deref(), "QuaTrinhXuLy"),
        Some(_) => Err(DecodeError("QuaTrinhXuLy: must be a list".into())),
    }
}

/// A string, or a number taken as its text; `None` for null or blank.
fn scalar(v: &Value) -> Result<Option<String>, DecodeError> {
    match v {
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Null => Ok(None),
        _ => Err(DecodeError("a value is neither a string nor a number".into())),
    }
}

fn events(items: &[Value], dossier: Option<&str>, list: &str) -> Result<Vec<StatusEvent>, DecodeError> {
    items.iter().enumerate().map(|(i, item)| event(item, dossier, &format!("{list}[{i}]"))).collect()
}

fn event(item: &Value, dossier: Option<&str>, at: &str) -> Result<StatusEvent, DecodeError> {
    let obj = item.as_object().ok_or_else(|| DecodeError(format!("{at}: must be an object")))?;
    let field = |name: &str| -> Result<Option<String>, DecodeError> {
        obj.get(name).map(scalar).unwrap_or(Ok(None)).map_err(|_| DecodeError(format!("{at}.{name}: must be a string")))
    };
    let bad = |name: &str, why: &str| DecodeError(format!("{at}.{name}: {why}"));
    let date = |name: &str| -> Result<Option<VnDateTime>, DecodeError> {
        field(name)?.map(|s| VnDateTime::parse(&s).map_err(|e| bad(name, &e.to_string()))).transpose()
    };
    let code_text = field("MaHoSo")?.or(dossier.map(str::to_owned)).ok_or_else(|| bad("MaHoSo", "missing"))?;
    let dossier = MaHoSo::parse(&code_text).map_err(|e| bad("MaHoSo", &e.to_string()))?;
    let status = field("TrangThai")?
        .ok_or_else(|| bad("TrangThai", "missing"))?
        .parse::<u8>()
        .ok()
        .and_then(TrangThaiHoSo::from_code)
        .ok_or_else(|| bad("TrangThai", "must be a status code from 1 to 10"))?;
    Ok(StatusEvent {
        dossier,
        status,
        at: date("ThoiDiemXuLy")?.ok_or_else(|| bad("ThoiDiemXuLy", "missing"))?,
        handler: field("NguoiXuLy")?,
        handler_title: field("ChucDanh")?,
        department: field("PhongBanXuLy")?,
        content: field("NoiDungXuLy")?,
        started_at: date("NgayBatDau")?,
        step_due_at: date("NgayKetThucTheoQuyDinh")?,
        new_due_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses() {
        for (status, label) in [(503, "retryable"), (429, "retryable"), (408, "retryable"), (401, "retryable")] {
            assert_eq!(classify(status, b"").label(), label, "{status}");
        }
        assert_eq!(classify(404, b"").label(), "permanent");
        assert_eq!(classify(302, b"").label(), "retryable");
        assert!(matches!(classify(503, b"<html/>"), Outcome::Retryable { reason } if reason.contains("503")));
    }

    #[test]
    fn error_codes() {
        let c = |body: &str| classify(200, body.as_bytes());
        assert_eq!(c(r#"{"error_code":"0","id":"42"}"#), Outcome::Delivered { agency_ref: Some("42".into()) });
        assert_eq!(c(r#"{"error_code":"0","id":""}"#), Outcome::Delivered { agency_ref: None });
        assert_eq!(c(r#"{"error_code":"-1"}"#).label(), "retryable");
        assert_eq!(c(r#"{"error_code":"99"}"#).label(), "retryable");
        for code in ["2", "3", "4"] {
            assert_eq!(c(&format!(r#"{{"error_code":"{code}"}}"#)).label(), "permanent", "{code}");
        }
        assert_eq!(c(r#"{"error_code":"77"}"#).label(), "retryable");
        assert_eq!(c("<html>ok</html>").label(), "retryable");
        assert_eq!(c(r#"{"ok":true}"#).label(), "retryable");
    }

    #[test]
    fn quoted_messages_are_short_and_clean() {
        assert_eq!(quote(" a\u{7}b\n "), "ab");
        assert_eq!(quote(&"x".repeat(500)).len(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn item_errors_name_the_field_and_not_the_value() {
        let body =
            br#"{"data":[{"MaHoSo":"000.00.31.H29-261122-0001","TrangThai":"4","ThoiDiemXuLy":"20261399000000"}]}"#;
        let e = decode_status(body).unwrap_err().to_string();
        assert!(e.contains("data[0].ThoiDiemXuLy"), "{e}");
        assert!(!e.contains("20261399"), "{e}");
    }

    #[test]
    fn lookup_items_inherit_the_dossier_code() {
        let body = br#"{"error_code":"0","data":{"MaHoSo":"000.00.31.H29-261122-0001",
            "QuaTrinhXuLy":[{"TrangThai":4,"ThoiDiemXuLy":"2026-11-23 09:00:00"}]}}"#;
        let (dossier, events) = decode_lookup(body).unwrap();
        assert!(dossier.get("QuaTrinhXuLy").is_none());
        assert_eq!(events[0].dossier.as_str(), "000.00.31.H29-261122-0001");
        assert_eq!(events[0].status, TrangThaiHoSo::DangXuLy);
        assert!(decode_status(br#"{"error_code":"5","data":{}}"#).is_err());
    }
}
