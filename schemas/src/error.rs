//! Errors of parsing and validation, with stable codes and messages that never
//! repeat the offending value (it may be a citizen's personal data).

use std::fmt;

/// A body that is not well-formed in its dialect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The JSON is not well-formed, or not an object of the expected shape.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// The XML is not well-formed.
    #[error("malformed XML: {0}")]
    MalformedXml(String),
    /// The XML carries a document type declaration, which is never accepted.
    #[error("XML with a DOCTYPE declaration is not accepted")]
    Doctype,
    /// The XML is in an encoding other than UTF-8.
    #[error("XML must be encoded in UTF-8")]
    Encoding,
    /// The XML root is not `HoSo` in the dossier namespace.
    #[error("the root element must be HoSo in namespace urn:lienthong:hoso:1")]
    WrongRoot,
}

impl ParseError {
    /// The stable error code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::MalformedXml(_) => "malformed_xml",
            Self::Doctype => "xml_doctype_forbidden",
            Self::Encoding => "xml_encoding_unsupported",
            Self::WrongRoot => "xml_wrong_root",
        }
    }
}

/// What is wrong with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldErrorKind {
    /// A required field is absent or empty.
    Missing,
    /// The value does not fit the field.
    Invalid,
    /// The field is not part of the dialect.
    Unknown,
    /// The field appears twice.
    Duplicate,
    /// The value is not a readable or real date.
    InvalidDate,
    /// Two dates are in an impossible order (such as due before received).
    DateOrder,
}

impl FieldErrorKind {
    /// The stable error code clients see.
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "missing_field",
            Self::Invalid => "invalid_field",
            Self::Unknown => "unknown_field",
            Self::Duplicate => "duplicate_field",
            Self::InvalidDate => "invalid_date",
            Self::DateOrder => "impossible_dates",
        }
    }
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field, such as `NgayHenTra` or `TaiLieuNop[1].TenTepDinhKem`.
    pub field: String,
    /// What is wrong.
    pub kind: FieldErrorKind,
    /// A human explanation that does not repeat the value.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, kind: FieldErrorKind, message: impl Into<String>) -> Self {
        Self { field: field.into(), kind, message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in a well-formed dossier (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// The code of the first problem, which names the whole refusal.
    pub fn code(&self) -> &'static str {
        self.0.first().map_or("invalid_field", |e| e.kind.code())
    }

    /// The problems, in the order they were found.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}
