//! The dialect-neutral form of a parsed dossier: field name to text, as DVCQG sends it.

use std::collections::BTreeMap;

/// One list item (a file or a fee): field name to text.
pub type RawItem = BTreeMap<&'static str, String>;

/// A dossier as parsed from either dialect, before normalisation.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawDossier {
    /// Scalar fields that were present, keyed by their catalogue name.
    pub fields: BTreeMap<&'static str, String>,
    /// List fields that were present, keyed by their catalogue name.
    pub lists: BTreeMap<&'static str, Vec<RawItem>>,
    /// The XML root's `Id` attribute, when the XML dialect carried one.
    pub xml_id: Option<String>,
    /// Structural problems found while parsing (unknown or repeated fields),
    /// reported together with the validation errors.
    pub problems: Vec<crate::FieldError>,
}

impl RawDossier {
    /// The text of a scalar field, trimmed; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

impl std::fmt::Debug for RawDossier {
    // Field values may be personal data: show which fields are present, not their text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawDossier")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("lists", &self.lists.iter().map(|(k, v)| (k, v.len())).collect::<Vec<_>>())
            .field("problems", &self.problems)
            .finish()
    }
}
