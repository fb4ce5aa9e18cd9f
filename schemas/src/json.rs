//! The JSON dialect: the DVCQG dossier object, every field a string.
//!
//! Numbers are accepted where DVCQG systems send them unquoted (`"Gia": 50000`).
//! Duplicate keys and unknown fields are recorded as problems rather than silently
//! resolved, so that what is validated is exactly what was sent.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::{FieldError, FieldErrorKind, ParseError};
use crate::fields::{self, FieldKind, FieldSpec, FIELDS, MAX_LIST_ITEMS};
use crate::raw::{RawDossier, RawItem};

/// Parses a JSON dossier into its raw form.
pub fn parse_json(body: &[u8]) -> Result<RawDossier, ParseError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut problems = Vec::new();
    let mut raw = RawDossier::default();
    ObjectSeed { table: FIELDS, path: String::new(), problems: &mut problems, out: Out::Top(&mut raw) }
        .deserialize(&mut de)
        .map_err(|e| ParseError::MalformedJson(e.to_string()))?;
    de.end().map_err(|e| ParseError::MalformedJson(e.to_string()))?;
    raw.problems = problems;
    Ok(raw)
}

enum Out<'a> {
    Top(&'a mut RawDossier),
    Item(&'a mut RawItem),
}

struct ObjectSeed<'a> {
    table: &'static [FieldSpec],
    path: String,
    problems: &'a mut Vec<FieldError>,
    out: Out<'a>,
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
        f.write_str("a dossier object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen: Vec<&'static str> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = format!("{}{}", self.path, key);
            let Some(spec) = fields::find(self.table, &key) else {
                self.problems.push(FieldError::new(path, FieldErrorKind::Unknown, "not a field of this object"));
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if seen.contains(&spec.name) {
                self.problems.push(FieldError::new(path, FieldErrorKind::Duplicate, "appears more than once"));
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            seen.push(spec.name);
            match (spec.kind, &mut self.out) {
                (FieldKind::List(item), Out::Top(raw)) => {
                    let items = map.next_value_seed(ListSeed {
                        table: fields::item_fields(item),
                        path,
                        problems: self.problems,
                    })?;
                    raw.lists.insert(spec.name, items);
                }
                (_, out) => {
                    if let Some(text) = map.next_value::<Scalar>()?.0 {
                        match out {
                            Out::Top(raw) => raw.fields.insert(spec.name, text),
                            Out::Item(item) => item.insert(spec.name, text),
                        };
                    }
                }
            }
        }
        Ok(())
    }
}

struct ListSeed<'a> {
    table: &'static [FieldSpec],
    path: String,
    problems: &'a mut Vec<FieldError>,
}

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = Vec<RawItem>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = Vec<RawItem>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let mut item = RawItem::new();
            let seed = ObjectSeed {
                table: self.table,
                path: format!("{}[{}].", self.path, items.len()),
                problems: self.problems,
                out: Out::Item(&mut item),
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
        assert_eq!(raw.lists["DanhSachLePhi"][0]["Gia"], "50000");
        assert!(raw.problems.is_empty());
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
        assert_eq!(parse_json(list(MAX_LIST_ITEMS).as_bytes()).unwrap().lists["TaiLieuNop"].len(), MAX_LIST_ITEMS);
        assert!(parse_json(list(MAX_LIST_ITEMS + 1).as_bytes()).is_err());
    }
}
