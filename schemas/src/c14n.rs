//! XML canonicalisation for XML Signature: Canonical XML 1.0 and Exclusive XML
//! Canonicalization 1.0, each with and without comments.
//!
//! A [`Document`] is parsed once, strictly (no DOCTYPE, UTF-8 only, only the five
//! predefined entities and character references, namespace well-formedness), into a
//! small arena tree. A canonical form is then produced for one of the document
//! subsets that XMLDSig builds without an XPath transform:
//!
//! - a whole document: [`Document::document`] as the apex. This is what a
//!   same-document reference `URI=""` selects (processing instructions outside the
//!   document element included);
//! - the subtree of one element in the context of its ancestors: the element with a
//!   given ID for `URI="#id"` ([`Document::find_by_id`]), or `ds:SignedInfo`.
//!   Inclusive canonicalisation renders the namespaces and `xml:*` attributes the
//!   element inherits; exclusive canonicalisation only the namespaces it visibly
//!   utilises;
//! - either of these with one descendant element left out, which is what the
//!   enveloped-signature transform does to the `ds:Signature` being verified.
//!
//! XMLDSig dereferences `URI=""` and `URI="#id"` *without* comments; the caller
//! chooses [`Algorithm`] accordingly.
//!
//! Hostile input is bounded: at most [`MAX_DEPTH`] nested elements and
//! [`MAX_NODES`] nodes (elements, attributes, namespace declarations, text,
//! comments, processing instructions), and no recursion anywhere.

mod escape;
mod exclusive;
mod inclusive;
mod parse;
mod render;
mod tree;

#[cfg(test)]
mod tests;

pub use tree::{Document, NodeId, NodeKind};

/// The deepest element nesting a document may have.
pub const MAX_DEPTH: usize = 256;
/// The most nodes (elements, attributes, namespace declarations, text, comments,
/// processing instructions) a document may have.
pub const MAX_NODES: usize = 1 << 18;
/// The most entries an InclusiveNamespaces PrefixList may have.
pub const MAX_PREFIX_LIST: usize = 32;

/// URI of Canonical XML 1.0 without comments.
pub const C14N_URI: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// URI of Canonical XML 1.0 with comments.
pub const C14N_WITH_COMMENTS_URI: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
/// URI of Exclusive XML Canonicalization 1.0 without comments.
pub const EXC_C14N_URI: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// URI of Exclusive XML Canonicalization 1.0 with comments.
pub const EXC_C14N_WITH_COMMENTS_URI: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";

/// A canonicalisation algorithm and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Algorithm {
    /// Canonical XML 1.0.
    Inclusive {
        /// Whether comment nodes are rendered.
        comments: bool,
    },
    /// Exclusive XML Canonicalization 1.0.
    Exclusive {
        /// Whether comment nodes are rendered.
        comments: bool,
        /// The InclusiveNamespaces PrefixList: prefixes treated as in Canonical XML;
        /// `#default` stands for the default namespace.
        inclusive_prefixes: Vec<String>,
    },
}

impl Algorithm {
    /// The algorithm named by one of the four algorithm URIs (with an empty prefix
    /// list for the exclusive ones).
    pub fn from_uri(uri: &str) -> Result<Self, C14nError> {
        match uri {
            C14N_URI => Ok(Self::Inclusive { comments: false }),
            C14N_WITH_COMMENTS_URI => Ok(Self::Inclusive { comments: true }),
            EXC_C14N_URI => Ok(Self::Exclusive { comments: false, inclusive_prefixes: Vec::new() }),
            EXC_C14N_WITH_COMMENTS_URI => Ok(Self::Exclusive { comments: true, inclusive_prefixes: Vec::new() }),
            other => Err(C14nError::UnknownAlgorithm(other.to_owned())),
        }
    }

    /// Sets the InclusiveNamespaces PrefixList from its attribute value (prefixes
    /// separated by whitespace); ignored by Canonical XML 1.0.
    pub fn with_prefix_list(mut self, list: &str) -> Self {
        if let Self::Exclusive { inclusive_prefixes, .. } = &mut self {
            let mut prefixes: Vec<String> = Vec::new();
            for p in list.split_ascii_whitespace() {
                if !prefixes.iter().any(|q| q == p) {
                    prefixes.push(p.to_owned());
                }
            }
            *inclusive_prefixes = prefixes;
        }
        self
    }

    /// The URI that names this algorithm.
    pub fn uri(&self) -> &'static str {
        match self {
            Self::Inclusive { comments: false } => C14N_URI,
            Self::Inclusive { comments: true } => C14N_WITH_COMMENTS_URI,
            Self::Exclusive { comments: false, .. } => EXC_C14N_URI,
            Self::Exclusive { comments: true, .. } => EXC_C14N_WITH_COMMENTS_URI,
        }
    }

    /// Whether comment nodes are rendered.
    pub fn with_comments(&self) -> bool {
        match self {
            Self::Inclusive { comments } | Self::Exclusive { comments, .. } => *comments,
        }
    }
}

/// Why a document cannot be canonicalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum C14nError {
    /// The document has a DOCTYPE, which is refused (no DTD, no entities).
    #[error("document type declarations are not accepted")]
    Doctype,
    /// The document is not UTF-8.
    #[error("only UTF-8 documents are accepted")]
    Encoding,
    /// The document references an entity other than the five predefined ones.
    #[error("reference to an undeclared entity at byte {0}")]
    UndeclaredEntity(u64),
    /// The document is not well-formed XML or not namespace-well-formed.
    #[error("malformed XML at byte {offset}: {reason}")]
    Malformed {
        /// Byte offset near the problem.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A namespace declaration has a relative URI, on which C14N 1.0 must fail.
    #[error("relative namespace URI {0:?}")]
    RelativeNamespace(String),
    /// Elements are nested deeper than [`MAX_DEPTH`].
    #[error("elements nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// The document has more than [`MAX_NODES`] nodes.
    #[error("more than {MAX_NODES} nodes")]
    TooManyNodes,
    /// More than one element carries the ID being looked up.
    #[error("more than one element has the ID {0:?}")]
    DuplicateId(String),
    /// The canonical form would exceed the budget given to
    /// [`Document::canonicalize_bounded`] (exclusive canonicalisation repeats a
    /// namespace declaration on every element that uses it, so a small hostile
    /// document can have an enormous canonical form).
    #[error("the canonical form exceeds {0} bytes")]
    OutputTooLarge(usize),
    /// The algorithm URI is not one of the four supported ones.
    #[error("unsupported canonicalisation algorithm {0:?}")]
    UnknownAlgorithm(String),
}
