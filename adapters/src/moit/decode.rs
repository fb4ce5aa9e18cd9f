//! Wire to canonical: what an answer means, a dossier's history as events, and the
//! normalised answers of the look-ups.
//!
//! Pure functions, golden-tested. Reading is liberal (any accepted date form,
//! numbers where text is expected); reasons and errors name fields, never values.

use schemas::{MaHoSo, StatusEvent, TradeLicenceKind, VnDateTime};
use std::borrow::Cow;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
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

/// One value of MOIT's answer as read, without building a tree: text as it came
/// (borrowed from the body when it has no escapes), a number as its text, or
/// something else (a list, an object, `true` or `false`), which a text field
/// refuses. `null` and absent are `None` around it.
#[derive(Debug, PartialEq, Eq)]
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Text(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                // As serde_json writes the number, like a `Value` read it.
                Ok(serde_json::Number::from_f64(v).map_or(Scalar::Other, |n| Scalar::Text(Cow::Owned(n.to_string()))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The fields of a `GET /api/v1/giay-phep/{soGiayPhep}` answer the look-up reads;
/// others are skipped unread.
#[derive(Deserialize)]
struct LicenceWire<'a> {
    #[serde(rename = "soGiayPhep", borrow, default)]
    so_giay_phep: Option<Scalar<'a>>,
    #[serde(rename = "loaiGiayPhep", borrow, default)]
    loai_giay_phep: Option<Scalar<'a>>,
    #[serde(rename = "trangThai", borrow, default)]
    trang_thai: Option<Scalar<'a>>,
    #[serde(rename = "tenThuongNhan", borrow, default)]
    ten_thuong_nhan: Option<Scalar<'a>>,
    #[serde(rename = "maSoThue", borrow, default)]
    ma_so_thue: Option<Scalar<'a>>,
    #[serde(rename = "ngayCap", borrow, default)]
    ngay_cap: Option<Scalar<'a>>,
    #[serde(rename = "hieuLucTu", borrow, default)]
    hieu_luc_tu: Option<Scalar<'a>>,
    #[serde(rename = "hieuLucDen", borrow, default)]
    hieu_luc_den: Option<Scalar<'a>>,
    #[serde(rename = "maHoSo", borrow, default)]
    ma_ho_so: Option<Scalar<'a>>,
}

/// [`text`] of a value read as a [`Scalar`]: trimmed, `None` for absent, null or
/// blank.
fn scalar_text<'a>(v: &'a Option<Scalar<'_>>, name: &str) -> Result<Option<&'a str>, DecodeError> {
    match v {
        None => Ok(None),
        Some(Scalar::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Scalar::Text(s)) => Ok(Some(s.trim())),
        Some(Scalar::Other) => Err(DecodeError(format!("{name}: must be a string"))),
    }
}

fn scalar_required<'a>(v: &'a Option<Scalar<'_>>, name: &str) -> Result<&'a str, DecodeError> {
    scalar_text(v, name)?.ok_or_else(|| DecodeError(format!("{name}: missing")))
}

fn scalar_date(v: &Option<Scalar<'_>>, name: &str) -> Result<Option<VnDateTime>, DecodeError> {
    scalar_text(v, name)?.map(|s| VnDateTime::parse(s).map_err(|e| DecodeError(format!("{name}: {e}")))).transpose()
}

/// Decodes a `GET /api/v1/giay-phep/{soGiayPhep}` answer into the `licence` look-up's
/// answer. The answer is read straight into its fields, not into a tree: this is
/// the look-up every portal calls most. A field given twice is refused.
pub fn decode_licence(body: &[u8]) -> Result<LicenceView, DecodeError> {
    let refused = || DecodeError("not a JSON object with one value per field".into());
    let wire: LicenceWire<'_> = serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => refused(),
        _ => DecodeError("not a JSON document".into()),
    })?;
    // A struct also reads from a list, field by field in order; MOIT answers an object.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(refused());
    }
    let agency_kind = scalar_required(&wire.loai_giay_phep, "loaiGiayPhep")?;
    let status = LicenceState::from_code(scalar_required(&wire.trang_thai, "trangThai")?)
        .ok_or_else(|| DecodeError("trangThai: not a MOIT licence state".into()))?;
    Ok(LicenceView {
        number: scalar_required(&wire.so_giay_phep, "soGiayPhep")?.to_owned(),
        kind: TradeLicenceKind::from_code(agency_kind),
        agency_kind: agency_kind.to_owned(),
        trader_name: scalar_text(&wire.ten_thuong_nhan, "tenThuongNhan")?.map(str::to_owned),
        tax_code: scalar_text(&wire.ma_so_thue, "maSoThue")?.map(str::to_owned),
        issued_at: scalar_date(&wire.ngay_cap, "ngayCap")?,
        valid_from: scalar_date(&wire.hieu_luc_tu, "hieuLucTu")?,
        valid_to: scalar_date(&wire.hieu_luc_den, "hieuLucDen")?,
        status: status.label(),
        valid: status == LicenceState::ConHieuLuc,
        dossier: scalar_text(&wire.ma_ho_so, "maHoSo")?.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The licence decoded through a `Value` tree with the shared field readers,
    /// as the decoder did before it read the fields directly: the reference the
    /// direct reading must agree with.
    fn licence_by_tree(body: &[u8]) -> Result<LicenceView, DecodeError> {
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

    #[test]
    fn licences_read_directly_decode_as_through_a_tree() {
        let golden = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/moit/giay-phep.json")).unwrap();
        let base: Map<String, Value> = serde_json::from_slice(&golden).unwrap();
        let with = |name: &str, v: Value| {
            let mut m = base.clone();
            m.insert(name.into(), v);
            serde_json::to_vec(&m).unwrap()
        };
        let without = |name: &str| {
            let mut m = base.clone();
            m.remove(name);
            serde_json::to_vec(&m).unwrap()
        };
        let mut bodies = vec![golden.clone()];
        for name in ["soGiayPhep", "loaiGiayPhep", "trangThai", "tenThuongNhan", "maSoThue", "ngayCap", "maHoSo"] {
            bodies.push(without(name));
            for v in [
                json!(null),
                json!(""),
                json!("   "),
                json!(42),
                json!(-7),
                json!(1.5),
                json!(true),
                json!([1, [2]]),
                json!({"a": {"b": 1}}),
                json!(" Hải \"Đăng\"\n "),
                json!("2025-03-01"),
                json!("CON_HIEU_LUC"),
                json!("DA_THU_HOI"),
                json!("KHUYEN_MAI"),
            ] {
                bodies.push(with(name, v));
            }
        }
        for (i, body) in bodies.iter().enumerate() {
            let (direct, tree) = (decode_licence(body), licence_by_tree(body));
            assert_eq!(direct, tree, "body {i}: {}", String::from_utf8_lossy(body));
        }
        assert!(bodies.iter().filter(|b| decode_licence(b).is_ok()).count() > 20);
        assert!(bodies.iter().filter(|b| decode_licence(b).is_err()).count() > 20);
        // The text is borrowed from the body unless it has escapes.
        let number = "15/2025/GPBLR-SCT";
        let wire: LicenceWire<'_> = serde_json::from_slice(&golden).unwrap();
        assert!(matches!(wire.so_giay_phep, Some(Scalar::Text(Cow::Borrowed(n))) if n == number));
    }

    #[test]
    fn a_licence_answer_that_is_not_an_object_with_one_value_per_field_is_refused() {
        for (body, reason) in [
            (&b"[1, 2]"[..], "not a JSON object with one value per field"),
            (b"\"CON_HIEU_LUC\"", "not a JSON object with one value per field"),
            (br#"{"soGiayPhep": "a", "soGiayPhep": "b"}"#, "not a JSON object with one value per field"),
            (b"{\"soGiayPhep\": ", "not a JSON document"),
            (b"", "not a JSON document"),
            (b"<html/>", "not a JSON document"),
        ] {
            assert_eq!(decode_licence(body), Err(DecodeError(reason.into())), "{}", String::from_utf8_lossy(body));
        }
    }

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
