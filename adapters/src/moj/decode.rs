//! Wire to canonical: what an answer means, and status answers as events.
//!
//! Pure functions, golden-tested. Reading is liberal (numbers as numeric strings,
//! any accepted date form). Outcome reasons are built only from the error code and
//! the field path, never from the ministry's free text: Justice data is all
//! personal, and a description is text the gateway cannot vet.

use schemas::{MaHoSo, StatusEvent, TrangThaiHoSo, VnDateTime};
use serde_json::{Map, Value};

use super::wire::{code, Answer, STATUS_FAILED, STATUS_OK};
use crate::{DecodeError, Outcome};

/// The longest field path quoted in a reason.
const MAX_QUOTED: usize = 80;

/// Reads an answer body; `None` when it is not a JSON object with a `status`.
pub fn parse_answer(body: &[u8]) -> Option<Answer> {
    serde_json::from_slice(body).ok()
}

/// Whether the body says the token is unknown or expired (`AUTH-01`, `AUTH-02`).
pub fn is_token_refused(body: &[u8]) -> bool {
    parse_answer(body).is_some_and(|a| {
        a.status == STATUS_FAILED && matches!(a.error_code.as_deref(), Some(code::TOKEN_INVALID | code::TOKEN_EXPIRED))
    })
}

/// `text` if it looks like an error code: a letter, then letters, digits and
/// `-`, at most 20 characters (so an ID number or a name never passes).
fn code_like(text: &str) -> Option<&str> {
    let t = text.trim();
    let ok = t.len() <= 20
        && t.starts_with(|c: char| c.is_ascii_alphabetic())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then_some(t)
}

/// `text` if it looks like a field path such as `toKhai.quaTrinhCuTru[0].tuNgay`:
/// dotted segments that each start with a letter, with optional indexes.
fn path_like(text: &str) -> Option<&str> {
    let t = text.trim();
    let segment_ok = |seg: &str| {
        let name = seg.split('[').next().unwrap_or_default();
        let indexes = &seg[name.len()..];
        name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && indexes
                .split_terminator(']')
                .all(|i| i.strip_prefix('[').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())))
            && (indexes.is_empty() || indexes.ends_with(']'))
    };
    let ok = t.chars().count() <= MAX_QUOTED && t.split('.').all(segment_ok);
    ok.then_some(t)
}

/// The error code of a failed answer, fit to quote ("no errorCode" or "unreadable errorCode" otherwise).
pub fn error_code(answer: &Answer) -> String {
    match answer.error_code.as_deref() {
        None => "no errorCode".into(),
        Some(c) => code_like(c).map_or_else(|| "unreadable errorCode".into(), str::to_owned),
    }
}

/// The field path of a failed answer, when there is one fit to quote.
pub fn error_field(answer: &Answer) -> Option<&str> {
    answer.error_field.as_deref().and_then(path_like)
}

/// The agency's reference in a successful push answer: `value` (civil status) or
/// `id` (judicial records), as text; `None` when absent or blank.
pub fn agency_ref(answer: &Answer) -> Option<String> {
    [&answer.value, &answer.id].into_iter().flatten().find_map(|v| match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Whether a failure with this code can succeed later, what it means, and what
/// an operator should check.
fn meaning(error_code: &str) -> (bool, &'static str, Option<&'static str>) {
    const ACCOUNT: Option<&str> = Some("check the configured username and password");
    const KEY: Option<&str> = Some("check the configured auth_key and province_code");
    match error_code {
        code::TOKEN_INVALID => (true, "token refused", None),
        code::TOKEN_EXPIRED => (true, "token expired", None),
        code::LOGIN_REFUSED => (true, "login refused by moj", ACCOUNT),
        code::BUSY => (true, "moj busy", None),
        code::LLTP_KEY_REFUSED => (true, "auth key refused by moj", KEY),
        code::MALFORMED => (false, "malformed request", None),
        code::HT_INVALID => (false, "civil-status record refused", None),
        code::HT_DUPLICATE => (false, "dossier already received under another maHoSoLT", None),
        code::LLTP_INVALID => (false, "judicial-record request refused", None),
        code::LLTP_DUPLICATE => (false, "dossier already received under another key", None),
        _ => (true, "unknown moj answer", None),
    }
}

/// The reason for a failed answer: its meaning, code, field and hint; and whether
/// it is worth retrying.
pub fn failure_reason(answer: &Answer) -> (bool, String) {
    let code = error_code(answer);
    let (retry, what, hint) = meaning(&code);
    let mut reason = format!("{what} ({code})");
    if let Some(field) = error_field(answer) {
        reason.push_str(&format!(" at {field}"));
    }
    if let Some(hint) = hint {
        reason.push_str(&format!(": {hint}"));
    }
    (retry, reason)
}

/// What an answer to a push (either service) means.
///
/// HTTP 5xx, 408 and 429 are retryable, 401 too (the token: the client asks for a
/// new one first), other 4xx permanent. A 2xx body is read for its `status`: 1
/// delivered; 0 by `errorCode` (token, login, auth key and busy retryable; invalid,
/// malformed and duplicate permanent; unknown retryable); any other status, or a
/// body that is not the expected JSON, retryable so nothing is lost while an operator looks.
pub fn classify(http_status: u16, body: &[u8]) -> Outcome {
    let retry = |reason: String| Outcome::Retryable { reason };
    match http_status {
        200..=299 => {}
        401 => return retry("moj answered http 401 (token refused)".into()),
        408 | 429 | 500..=599 => return retry(format!("moj answered http {http_status}")),
        400..=499 => return Outcome::Permanent { reason: format!("moj answered http {http_status}") },
        _ => return retry(format!("moj answered unexpected http {http_status}")),
    }
    let Some(answer) = parse_answer(body) else {
        return retry(format!("moj answered http {http_status} without the expected JSON"));
    };
    match answer.status {
        STATUS_OK => Outcome::Delivered { agency_ref: agency_ref(&answer) },
        STATUS_FAILED => match failure_reason(&answer) {
            (true, reason) => retry(reason),
            (false, reason) => Outcome::Permanent { reason },
        },
        other => retry(format!("moj answered unknown status {other}")),
    }
}

/// Decodes a status answer of either service (`{status, value: [updates]}`) into
/// events, in the order given. A failed answer is an error naming its code.
pub fn decode_status(body: &[u8]) -> Result<Vec<StatusEvent>, DecodeError> {
    let root: Value = serde_json::from_slice(body).map_err(|_| DecodeError("not a JSON document".into()))?;
    let answer: Answer =
        serde_json::from_value(root.clone()).map_err(|_| DecodeError("not a moj answer with a status".into()))?;
    if answer.status != STATUS_OK {
        return Err(DecodeError(format!("the answer carries status {} ({})", answer.status, error_code(&answer))));
    }
    match root.get("value") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(i, item)| event(item, &format!("value[{i}]"))).collect()
        }
        Some(_) => Err(DecodeError("value: must be a list of status updates".into())),
    }
}

/// A string, or a number taken as its text; `None` for null or blank.
fn scalar(v: &Value) -> Result<Option<String>, ()> {
    match v {
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Null => Ok(None),
        _ => Err(()),
    }
}

fn event(item: &Value, at: &str) -> Result<StatusEvent, DecodeError> {
    let obj: &Map<String, Value> = item.as_object().ok_or_else(|| DecodeError(format!("{at}: must be an object")))?;
    let bad = |name: &str, why: &str| DecodeError(format!("{at}.{name}: {why}"));
    let field = |name: &str| -> Result<Option<String>, DecodeError> {
        obj.get(name).map(scalar).unwrap_or(Ok(None)).map_err(|_| bad(name, "must be a string or a number"))
    };
    let date = |name: &str| -> Result<Option<VnDateTime>, DecodeError> {
        field(name)?.map(|s| VnDateTime::parse(&s).map_err(|e| bad(name, &e.to_string()))).transpose()
    };
    let code = field("maHoSo")?.ok_or_else(|| bad("maHoSo", "missing"))?;
    let dossier = MaHoSo::parse(&code).map_err(|e| bad("maHoSo", &e.to_string()))?;
    let status = field("trangThai")?
        .ok_or_else(|| bad("trangThai", "missing"))?
        .parse::<u8>()
        .ok()
        .and_then(TrangThaiHoSo::from_code)
        .ok_or_else(|| bad("trangThai", "must be a status code from 1 to 10"))?;
    Ok(StatusEvent {
        dossier,
        status,
        at: date("thoiGianThucHien")?.ok_or_else(|| bad("thoiGianThucHien", "missing"))?,
        handler: field("nguoiXuLy")?,
        handler_title: None,
        department: None,
        content: field("noiDungXuLy")?,
        started_at: None,
        step_due_at: None,
        new_due_at: date("ngayHenTraMoi")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(body: &str) -> Outcome {
        classify(200, body.as_bytes())
    }

    #[test]
    fn http_statuses() {
        for (status, label) in [(503, "retryable"), (429, "retryable"), (408, "retryable"), (401, "retryable")] {
            assert_eq!(classify(status, b"").label(), label, "{status}");
        }
        assert_eq!(classify(404, b"").label(), "permanent");
        assert_eq!(classify(302, b"").label(), "retryable");
    }

    #[test]
    fn statuses_and_codes() {
        assert_eq!(c(r#"{"status":1,"value":"HT-1"}"#), Outcome::Delivered { agency_ref: Some("HT-1".into()) });
        assert_eq!(
            c(r#"{"status":1,"description":"ok","id":77}"#),
            Outcome::Delivered { agency_ref: Some("77".into()) }
        );
        assert_eq!(c(r#"{"status":"1","value":" "}"#), Outcome::Delivered { agency_ref: None });
        for code in ["AUTH-01", "AUTH-02", "AUTH-03", "SYS-99", "LLTP-02", "X-1"] {
            assert_eq!(c(&format!(r#"{{"status":0,"errorCode":"{code}"}}"#)).label(), "retryable", "{code}");
        }
        for code in ["SYS-01", "HT-01", "HT-02", "LLTP-01", "LLTP-03"] {
            assert_eq!(c(&format!(r#"{{"status":0,"errorCode":"{code}"}}"#)).label(), "permanent", "{code}");
        }
        assert_eq!(c(r#"{"status":2}"#).label(), "retryable");
        assert_eq!(c("<html/>").label(), "retryable");
    }

    #[test]
    fn reasons_never_quote_free_text() {
        let body = r#"{"status":0,"statusDescription":"Ông Nguyễn Văn A, số 001190012345","errorCode":"HT-01",
                       "errorField":"data.ngaySinh"}"#;
        assert_eq!(
            c(body),
            Outcome::Permanent { reason: "civil-status record refused (HT-01) at data.ngaySinh".into() }
        );
        let body = r#"{"status":0,"errorCode":"HT-01 Nguyễn","errorField":"Nguyễn Văn A"}"#;
        assert_eq!(c(body), Outcome::Retryable { reason: "unknown moj answer (unreadable errorCode)".into() });
        let body = r#"{"status":0,"errorCode":"001190012345","errorField":"data.001190012345"}"#;
        assert_eq!(c(body), Outcome::Retryable { reason: "unknown moj answer (unreadable errorCode)".into() });
        for path in ["toKhai.quaTrinhCuTru[0].tuNgay", "dsMaHoSo[12]", "data"] {
            assert_eq!(path_like(path), Some(path));
        }
        for bad in ["0912 345 678", "a..b", "a[x]", "a[1", "a]", "", "a b"] {
            assert_eq!(path_like(bad), None, "{bad}");
        }
    }

    #[test]
    fn status_items_decode_with_errors_naming_the_field_only() {
        let body = br#"{"status":1,"value":[{"maHoSo":"000.00.31.H29-261122-0001","trangThai":"5",
            "thoiGianThucHien":"2026-11-23 09:00:00","ngayHenTraMoi":"20261130170000"}]}"#;
        let events = decode_status(body).unwrap();
        assert_eq!(events[0].status, TrangThaiHoSo::YeuCauBoSung);
        assert_eq!(events[0].new_due_at.unwrap().to_dvcqg(), "20261130170000");
        let body = br#"{"status":1,"value":[{"maHoSo":"000.00.31.H29-261122-0001","trangThai":4,
            "thoiGianThucHien":"2026-13-40 09:00:00"}]}"#;
        let e = decode_status(body).unwrap_err().to_string();
        assert!(e.contains("value[0].thoiGianThucHien") && !e.contains("2026-13"), "{e}");
        assert!(decode_status(br#"{"status":0,"errorCode":"SYS-99"}"#).unwrap_err().to_string().contains("SYS-99"));
        assert_eq!(decode_status(br#"{"status":1,"value":null}"#).unwrap(), vec![]);
        assert!(decode_status(br#"{"status":1,"value":[{"maHoSo":"x","trangThai":11}]}"#).is_err());
    }
}
