//! The JSON dialect: the DVCQG dossier object, every field a string.
//!
//! Numbers are accepted where DVCQG systems send them unquoted (`"Gia": 50000`).
//! Duplicate keys and unknown fields are recorded as problems rather than silently
//! resolved, so that what is validated is exactly what was sent.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::{FieldError, FieldErrorKind, ParseError};
use crate::fields::{self, FieldKind, FieldSpec, FIELDS, MAX_LIST_ITEMS};
use crate::raw::{RawDossier, RawObject, RawValue};

/// Parses a JSON dossier into its raw form.
pub fn parse_json(body: &[u8]) -> Result<RawDossier, ParseError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut problems = Vec::new();
    let mut raw = RawDossier::default();
    ObjectSeed { table: FIELDS, path: String::new(), problems: &mut problems, out: &mut raw.root }
        .deserialize(&mut de)
        .map_err(|e| ParseError::MalformedJson(e.to_string()))?;
    de.end().map_err(|e| ParseError::MalformedJson(e.to_string()))?;
    raw.problems = problems;
    Ok(raw)
}

/// Reads one object whose fields are given by `table` into `out`, recording
/// unknown and repeated keys in `problems` under paths prefixed with `path`.
pub(crate) struct ObjectSeed<'a> {
    pub(crate) table: &'static [FieldSpec],
    pub(crate) path: String,
    pub(crate) problems: &'a mut Vec<FieldError>,
    pub(crate) out: &'a mut RawObject,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            // Formatted only where it is used: for a problem, or as the prefix of
            // a nested object's paths (most fields are neither).
            let path = || format!("{}{}", self.path, key);
            let Some(spec) = fields::find(self.table, &key) else {
                self.problems.push(FieldError::new(path(), FieldErrorKind::Unknown, "not a field of this object"));
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if self.out.contains_key(spec.name) {
                self.problems.push(FieldError::new(path(), FieldErrorKind::Duplicate, "appears more than once"));
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = match spec.kind {
                FieldKind::List(item) => {
                    let items = map.next_value_seed(ListSeed {
                        table: fields::table(item),
                        path: path(),
                        problems: self.problems,
                    })?;
                    Some(RawValue::List(items))
                }
                FieldKind::Object(name) => {
                    let mut obj = RawObject::new();
                    let seed = ObjectSeed {
                        table: fields::table(name),
                        path: path() + ".",
                        problems: self.problems,
                        out: &mut obj,
                    };
                    map.next_value_seed(NullableObject(seed))?.map(|()| RawValue::Object(obj))
                }
                _ => map.next_value::<Scalar>()?.0.map(RawValue::Text),
            };
            if let Some(v) = value {
                self.out.insert(spec.name, v);
            }
        }
        Ok(())
    }
}

/// An object that may also be `null` (absent).
struct NullableObject<'a>(ObjectSeed<'a>);

impl<'de> DeserializeSeed<'de> for NullableObject<'_> {
    type Value = Option<()>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<()>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NullableObject<'_> {
    type Value = Option<()>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_unit<E>(self) -> Result<Option<()>, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<()>, A::Error> {
        self.0.visit_map(map).map(Some)
    }
}

struct ListSeed<'a> {
    table: &'static [FieldSpec],
    path: String,
    problems: &'a mut Vec<FieldError>,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = Vec<RawObject>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = Vec<RawObject>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let mut item = RawObject::new();
            let seed = ObjectSeed {
                table: self.table,
                path: format!("{}[{}].", self.path, items.len()),
                problems: self.problems,
                out: &mut item,
            };
            if seq.next_element_seed(seed)?.is_none() {
                break;
            }
            items.push(item);
            if items.len() > MAX_LIST_ITEMS {
                return Err(serde::de::Error::custom(format!("{} holds more than {MAX_LIST_ITEMS} items", self.path)));
            }
        }
        Ok(items)
    }
}

/// An object's key, borrowed from the input unless it holds an escape.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(v.to_owned().into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(v.into()))
    }
}

/// A scalar field: a string, or a number taken as its text; `null` is absent.
struct Scalar(Option<String>);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar(Some(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar(Some(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar(Some(v.to_string())))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar(Some(v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar(Some(v.to_string())))
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_numbers_and_null() {
        let raw =
            parse_json(br#"{"MaHoSo":"X","KenhThucHien":2,"Email":null,"DanhSachLePhi":[{"Gia":50000}]}"#).unwrap();
        assert_eq!(raw.get("MaHoSo"), Some("X"));
        assert_eq!(raw.get("KenhThucHien"), Some("2"));
        assert_eq!(raw.get("Email"), None);
        assert_eq!(crate::raw::text(&raw.list("DanhSachLePhi")[0], "Gia"), Some("50000"));
        assert!(raw.problems.is_empty());
    }

    #[test]
    fn an_escaped_key_is_read_as_the_name_it_spells() {
        // `\u0048` is `H`: the same field as `MaHoSo`, so a repeat of it.
        let raw = parse_json(br#"{"Ma\u0048oSo":"A","MaHoSo":"B","B\u006fgus":1}"#).unwrap();
        assert_eq!(raw.get("MaHoSo"), Some("A"));
        let got: Vec<(&str, FieldErrorKind)> = raw.problems.iter().map(|p| (p.field.as_str(), p.kind)).collect();
        assert_eq!(got, vec![("MaHoSo", FieldErrorKind::Duplicate), ("Bogus", FieldErrorKind::Unknown)]);
    }

    #[test]
    fn duplicates_and_unknown_fields_are_problems() {
        let raw =
            parse_json(br#"{"MaHoSo":"A","MaHoSo":"B","Bogus":{"x":1},"TaiLieuNop":[{"TenTepDinhKem":"a","Nope":1}]}"#)
                .unwrap();
        let got: Vec<(&str, FieldErrorKind)> = raw.problems.iter().map(|p| (p.field.as_str(), p.kind)).collect();
        assert_eq!(
            got,
            vec![
                ("MaHoSo", FieldErrorKind::Duplicate),
                ("Bogus", FieldErrorKind::Unknown),
                ("TaiLieuNop[0].Nope", FieldErrorKind::Unknown)
            ]
        );
        assert_eq!(raw.get("MaHoSo"), Some("A"), "the first value is kept, the dossier is refused anyway");
    }

    #[test]
    fn nested_objects_and_lists() {
        let raw = parse_json(
            br#"{"DuLieuNghiepVu":{"DangKyDoanhNghiep":{"TenDoanhNghiep":"X","NganhNghe":[{"MaNganh":"4711"}],
                "DiaChiTruSo":{"TinhThanhPho":"Ha Noi","Bogus":1}}}}"#,
        )
        .unwrap();
        let p = crate::raw::object(&raw.root, "DuLieuNghiepVu").unwrap();
        let b = crate::raw::object(p, "DangKyDoanhNghiep").unwrap();
        assert_eq!(crate::raw::text(b, "TenDoanhNghiep"), Some("X"));
        assert_eq!(crate::raw::text(&crate::raw::list(b, "NganhNghe")[0], "MaNganh"), Some("4711"));
        assert_eq!(raw.problems[0].field, "DuLieuNghiepVu.DangKyDoanhNghiep.DiaChiTruSo.Bogus");
        assert!(parse_json(br#"{"DuLieuNghiepVu":null}"#).unwrap().root.is_empty());
        assert!(parse_json(br#"{"DuLieuNghiepVu":"x"}"#).is_err());
    }

    #[test]
    fn malformed_bodies() {
        for bad in [
            &b""[..],
            b"[]",
            b"{",
            b"{\"MaHoSo\":true}",
            b"{\"MaHoSo\":{}}",
            b"{} {}",
            b"\"x\"",
            b"{\"TaiLieuNop\":{}}",
        ] {
            assert!(matches!(parse_json(bad), Err(ParseError::MalformedJson(_))), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn list_length_is_bounded() {
        let list = |n: usize| format!("{{\"TaiLieuNop\":[{}]}}", vec!["{}"; n].join(","));
        assert_eq!(parse_json(list(MAX_LIST_ITEMS).as_bytes()).unwrap().list("TaiLieuNop").len(), MAX_LIST_ITEMS);
        assert!(parse_json(list(MAX_LIST_ITEMS + 1).as_bytes()).is_err());
    }
}
