//! The canonical status event: one DVCQG processing-history item (`QuaTrinhXuLy`).
//!
//! # The DVCQG JSON item
//!
//! ```json
//! {"MaHoSo": "000.00.31.H29-261122-0001", "TrangThai": "4", "ThoiDiemXuLy": "20261123090000",
//!  "NguoiXuLy": "...", "ChucDanh": "...", "PhongBanXuLy": "...", "NoiDungXuLy": "...",
//!  "NgayBatDau": "", "NgayKetThucTheoQuyDinh": "", "NgayHenTraMoi": ""}
//! ```
//!
//! The fields are [`EVENT_FIELDS`]. As in the dossier dialect ([`crate::parse_json`]),
//! every value is a string (a number is taken as its text, `null` and `""` mean
//! absent), dates are in any form [`VnDateTime::parse`] accepts, and unknown or
//! repeated keys are refused rather than silently resolved. `MaHoSo`, `TrangThai`
//! ("1" to "10") and `ThoiDiemXuLy` are required. `NgayHenTraMoi`, the dossier's
//! new due date when a supplement request moves it, is not part of DVCQG's own
//! item; it carries [`StatusEvent::new_due_at`] between Lienthong members.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{FieldError, FieldErrorKind, ParseError, ValidationErrors};
use crate::fields::{FieldKind, FieldSpec, MAX_LIST_ITEMS};
use crate::json::ObjectSeed;
use crate::normalize::{check_object, opt};
use crate::raw::{self, RawObject};
use crate::{MaHoSo, TrangThaiHoSo, VnDateTime};

/// A step in a dossier's processing, whoever reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// The dossier (`MaHoSo`).
    pub dossier: MaHoSo,
    /// The state it entered (`TrangThai`).
    pub status: TrangThaiHoSo,
    /// When (`ThoiDiemXuLy`).
    pub at: VnDateTime,
    /// Who handled it (`NguoiXuLy`).
    pub handler: Option<String>,
    /// The handler's title (`ChucDanh`).
    pub handler_title: Option<String>,
    /// The handling department (`PhongBanXuLy`).
    pub department: Option<String>,
    /// What was done (`NoiDungXuLy`).
    pub content: Option<String>,
    /// When this step started (`NgayBatDau`).
    pub started_at: Option<VnDateTime>,
    /// When this step is due by regulation (`NgayKetThucTheoQuyDinh`).
    pub step_due_at: Option<VnDateTime>,
    /// The dossier's new due date, when a supplement request moves it.
    pub new_due_at: Option<VnDateTime>,
}

const fn f(name: &'static str, required: bool, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, required, kind }
}

/// Fields of the DVCQG processing-history item, in wire order (`NgayHenTraMoi` last).
pub const EVENT_FIELDS: &[FieldSpec] = &[
    f("MaHoSo", true, FieldKind::DossierCode),
    f("NguoiXuLy", false, FieldKind::Text(255)),
    f("ChucDanh", false, FieldKind::Text(255)),
    f("ThoiDiemXuLy", true, FieldKind::Date),
    f("PhongBanXuLy", false, FieldKind::Text(255)),
    f("NoiDungXuLy", false, FieldKind::Text(2000)),
    f("TrangThai", true, FieldKind::Code(1, 10)),
    f("NgayBatDau", false, FieldKind::Date),
    f("NgayKetThucTheoQuyDinh", false, FieldKind::Date),
    f("NgayHenTraMoi", false, FieldKind::Date),
];

/// Why a processing-history item could not become a [`StatusEvent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The body is not well-formed JSON of the expected shape.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The body is well-formed but some fields are missing, unknown, repeated or invalid.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
}

impl EventError {
    /// The stable error code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Parse(e) => e.code(),
            Self::Invalid(e) => e.code(),
        }
    }
}

impl StatusEvent {
    /// An event with only its dossier, state and time; every other field empty.
    pub fn new(dossier: MaHoSo, status: TrangThaiHoSo, at: VnDateTime) -> Self {
        Self {
            dossier,
            status,
            at,
            handler: None,
            handler_title: None,
            department: None,
            content: None,
            started_at: None,
            step_due_at: None,
            new_due_at: None,
        }
    }

    /// Parses one DVCQG processing-history item (a JSON object).
    pub fn from_dvcqg_json(body: &[u8]) -> Result<Self, EventError> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let mut problems = Vec::new();
        let mut obj = RawObject::new();
        item_seed(&mut problems, &mut obj).deserialize(&mut de).map_err(malformed)?;
        de.end().map_err(malformed)?;
        build(&obj, "", problems).map_err(|e| ValidationErrors(e).into())
    }

    /// Parses a JSON list of processing-history items (the `data` of
    /// `CapNhatTienDoHoSoMC`, or `QuaTrinhXuLy`); every problem of every item is
    /// reported, with paths such as `[2].ThoiDiemXuLy`.
    pub fn list_from_dvcqg_json(body: &[u8]) -> Result<Vec<Self>, EventError> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let mut problems = Vec::new();
        let items = ListSeed { problems: &mut problems }.deserialize(&mut de).map_err(malformed)?;
        de.end().map_err(malformed)?;
        let mut errors = Vec::new();
        let mut events = Vec::with_capacity(items.len());
        // Structural problems carry their item's path; hand each item its own.
        for (i, obj) in items.iter().enumerate() {
            let path = format!("[{i}].");
            let (mine, rest): (Vec<FieldError>, Vec<FieldError>) =
                problems.into_iter().partition(|p| p.field.starts_with(&path));
            problems = rest;
            match build(obj, &path, mine) {
                Ok(e) => events.push(e),
                Err(e) => errors.extend(e),
            }
        }
        errors.extend(problems);
        if errors.is_empty() {
            Ok(events)
        } else {
            Err(ValidationErrors(errors).into())
        }
    }

    /// Reads an item already parsed as a JSON value. A [`serde_json::Value`] has
    /// already merged repeated keys, so prefer [`Self::from_dvcqg_json`] on the
    /// received bytes; every other rule is the same.
    pub fn from_dvcqg_value(value: &serde_json::Value) -> Result<Self, EventError> {
        let mut problems = Vec::new();
        let mut obj = RawObject::new();
        item_seed(&mut problems, &mut obj).deserialize(value).map_err(malformed)?;
        build(&obj, "", problems).map_err(|e| ValidationErrors(e).into())
    }

    /// The DVCQG processing-history item: every field a string, dates as
    /// `yyyyMMddHHmmss` (Vietnam time), "" when absent; `NgayHenTraMoi` only when
    /// the event moves the due date.
    pub fn to_dvcqg_json(&self) -> serde_json::Value {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let date = |v: &Option<VnDateTime>| v.as_ref().map(VnDateTime::to_dvcqg).unwrap_or_default();
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: String| {
            m.insert(k.to_owned(), serde_json::Value::String(v));
        };
        put("MaHoSo", self.dossier.to_string());
        put("NguoiXuLy", text(&self.handler));
        put("ChucDanh", text(&self.handler_title));
        put("ThoiDiemXuLy", self.at.to_dvcqg());
        put("PhongBanXuLy", text(&self.department));
        put("NoiDungXuLy", text(&self.content));
        put("TrangThai", self.status.code().to_string());
        put("NgayBatDau", date(&self.started_at));
        put("NgayKetThucTheoQuyDinh", date(&self.step_due_at));
        if self.new_due_at.is_some() {
            put("NgayHenTraMoi", date(&self.new_due_at));
        }
        serde_json::Value::Object(m)
    }

    /// SHA-256 of the event's canonical serialisation: equal events, equal hashes.
    pub fn content_hash(&self) -> [u8; 32] {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(bytes).into()
    }
}

fn malformed(e: serde_json::Error) -> EventError {
    ParseError::MalformedJson(e.to_string()).into()
}

/// Validates a raw item (its fields under `path`) and builds the event, or
/// returns every problem, starting with the structural ones given.
fn build(obj: &RawObject, path: &str, mut errors: Vec<FieldError>) -> Result<StatusEvent, Vec<FieldError>> {
    check_object(&mut errors, EVENT_FIELDS, path, obj);
    let text = |name: &str| raw::text(obj, name);
    let date = |name: &str| text(name).and_then(|s| VnDateTime::parse(s).ok());
    if let (Some(start), Some(due)) = (date("NgayBatDau"), date("NgayKetThucTheoQuyDinh")) {
        if due < start {
            errors.push(FieldError::new(
                format!("{path}NgayKetThucTheoQuyDinh"),
                FieldErrorKind::DateOrder,
                "the step cannot be due before it started",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Every field was checked above; the conversions below cannot fail.
    let invariant = || vec![FieldError::new(path, FieldErrorKind::Invalid, "internal validation mismatch")];
    Ok(StatusEvent {
        dossier: MaHoSo::parse(text("MaHoSo").unwrap_or_default()).map_err(|_| invariant())?,
        status: text("TrangThai")
            .and_then(|s| s.parse::<u8>().ok())
            .and_then(TrangThaiHoSo::from_code)
            .ok_or_else(invariant)?,
        at: date("ThoiDiemXuLy").ok_or_else(invariant)?,
        handler: opt(obj, "NguoiXuLy"),
        handler_title: opt(obj, "ChucDanh"),
        department: opt(obj, "PhongBanXuLy"),
        content: opt(obj, "NoiDungXuLy"),
        started_at: date("NgayBatDau"),
        step_due_at: date("NgayKetThucTheoQuyDinh"),
        new_due_at: date("NgayHenTraMoi"),
    })
}

/// Reads one processing-history object, as the dossier dialect reads its objects.
fn item_seed<'a>(problems: &'a mut Vec<FieldError>, out: &'a mut RawObject) -> ObjectSeed<'a> {
    ObjectSeed { table: EVENT_FIELDS, path: String::new(), problems, out }
}

/// Reads a list of items, each with its index as path prefix.
struct ListSeed<'a> {
    problems: &'a mut Vec<FieldError>,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = Vec<RawObject>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = Vec<RawObject>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of processing-history objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let path = format!("[{}].", items.len());
            let mut item = RawObject::new();
            let seed = ObjectSeed { table: EVENT_FIELDS, path, problems: self.problems, out: &mut item };
            if seq.next_element_seed(seed)?.is_none() {
                break;
            }
            items.push(item);
            if items.len() > MAX_LIST_ITEMS {
                return Err(serde::de::Error::custom(format!("the list holds more than {MAX_LIST_ITEMS} items")));
            }
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests;
