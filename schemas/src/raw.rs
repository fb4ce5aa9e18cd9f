//! The dialect-neutral form of a parsed dossier: field name to text, nested objects
//! and lists, as DVCQG-style systems send them.

use std::collections::BTreeMap;

/// One parsed value.
#[derive(Clone, PartialEq, Eq)]
pub enum RawValue {
    /// A scalar, as text.
    Text(String),
    /// A nested object.
    Object(RawObject),
    /// A list of objects.
    List(Vec<RawObject>),
}

/// An object: field name (from the catalogue) to value.
pub type RawObject = BTreeMap<&'static str, RawValue>;

/// One list item (a file, a fee, ...). Kept as a name for readability.
pub type RawItem = RawObject;

/// A dossier as parsed from either dialect, before normalisation.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawDossier {
    /// The root object's fields.
    pub root: RawObject,
    /// The XML root's `Id` attribute, when the XML dialect carried one.
    pub xml_id: Option<String>,
    /// Structural problems found while parsing (unknown or repeated fields),
    /// reported together with the validation errors.
    pub problems: Vec<crate::FieldError>,
}

/// The trimmed text of a scalar field of `obj`; `None` when absent, empty or not text.
pub fn text<'a>(obj: &'a RawObject, name: &str) -> Option<&'a str> {
    match obj.get(name) {
        Some(RawValue::Text(s)) => Some(s.trim()).filter(|s| !s.is_empty()),
        _ => None,
    }
}

/// The nested object `name` of `obj`.
pub fn object<'a>(obj: &'a RawObject, name: &str) -> Option<&'a RawObject> {
    match obj.get(name) {
        Some(RawValue::Object(o)) => Some(o),
        _ => None,
    }
}

/// The list `name` of `obj` (empty when absent).
pub fn list<'a>(obj: &'a RawObject, name: &str) -> &'a [RawObject] {
    match obj.get(name) {
        Some(RawValue::List(l)) => l,
        _ => &[],
    }
}

impl RawDossier {
    /// The text of a top-level scalar field, trimmed; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        text(&self.root, name)
    }

    /// A top-level list (empty when absent).
    pub fn list(&self, name: &str) -> &[RawObject] {
        list(&self.root, name)
    }
}

impl std::fmt::Debug for RawDossier {
    // Field values may be personal data: show which fields are present, not their text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawDossier")
            .field("fields", &self.root.keys().collect::<Vec<_>>())
            .field("problems", &self.problems)
            .finish()
    }
}

impl std::fmt::Debug for RawValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(_) => f.write_str("Text(..)"),
            Self::Object(o) => write!(f, "Object({:?})", o.keys().collect::<Vec<_>>()),
            Self::List(l) => write!(f, "List({} items)", l.len()),
        }
    }
}
