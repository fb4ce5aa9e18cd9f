//! Every way a signature or its signer can be refused, each with its own stable
//! code. Messages name the rule that was broken, never document content.

use crate::c14n::C14nError;

/// Why a signed document, a JWS, or its signer's certificate is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigError {
    /// The XML itself cannot be read (not well-formed, DOCTYPE, not UTF-8).
    #[error(transparent)]
    Xml(#[from] C14nError),
    /// The signature does not have the structure XMLDSig or JWS requires.
    #[error("malformed signature: {0}")]
    Malformed(String),
    /// More than one `ds:Signature` element in the document.
    #[error("the document carries more than one ds:Signature")]
    Multiple,
    /// The `ds:Signature` is not a direct child of the document element.
    #[error("ds:Signature must be a direct child of the document element")]
    Misplaced,
    /// `SignedInfo` has more than one `Reference`.
    #[error("SignedInfo must hold exactly one Reference, it holds {0}")]
    MultipleReferences(usize),
    /// The `Reference` URI points outside the document.
    #[error("the Reference URI must be \"\" or \"#id\" of the document element")]
    ExternalReference,
    /// The `Reference` URI names an ID no element carries.
    #[error("the Reference URI names an ID that no element carries")]
    UnresolvedReference,
    /// The `Reference` URI names an element other than the document element.
    #[error("the Reference must cover the document element, not a descendant")]
    ReferenceNotRoot,
    /// An ID value is carried by more than one element.
    #[error("more than one element carries the referenced ID")]
    DuplicateId,
    /// An XPath or XPath Filter 2 transform.
    #[error("XPath transforms are not accepted")]
    TransformXpath,
    /// An XSLT transform.
    #[error("XSLT transforms are not accepted")]
    TransformXslt,
    /// A transform other than enveloped-signature and C14N, or transforms in an
    /// order or number the profile does not allow.
    #[error("transform not accepted: {0}")]
    TransformUnsupported(String),
    /// A `CanonicalizationMethod` that is not one of the four C14N 1.0 algorithms.
    #[error("canonicalisation method not accepted: {0}")]
    C14nUnsupported(String),
    /// An algorithm based on SHA-1.
    #[error("SHA-1 algorithms are not accepted: {0}")]
    AlgorithmSha1(String),
    /// An algorithm based on MD5.
    #[error("MD5 algorithms are not accepted: {0}")]
    AlgorithmMd5(String),
    /// An HMAC (a shared secret proves nothing about who signed).
    #[error("HMAC algorithms are not accepted: {0}")]
    AlgorithmHmac(String),
    /// DSA.
    #[error("DSA is not accepted: {0}")]
    AlgorithmDsa(String),
    /// The JWS `alg` `none`.
    #[error("unsigned JWS (alg none) is not accepted")]
    AlgorithmNone,
    /// Any other algorithm.
    #[error("algorithm not accepted: {0}")]
    AlgorithmUnknown(String),
    /// An RSA key below 2048 bits, or an elliptic curve other than P-256/P-384.
    #[error("the signer's key is too weak: {0}")]
    KeyTooWeak(String),
    /// The signature algorithm does not fit the signer's key.
    #[error("the signature algorithm does not fit the signer's key: {0}")]
    KeyMismatch(String),
    /// The key is to be fetched from elsewhere (`RetrievalMethod`, `jku`, `x5u`,
    /// `jwk`), not taken from the certificate carried with the signature.
    #[error("keys from outside the signature's certificate are not accepted: {0}")]
    KeySourceUnsupported(String),
    /// No signer certificate is carried with the signature.
    #[error("the signature carries no signer certificate")]
    NoCertificate,
    /// A carried certificate cannot be parsed.
    #[error("a carried certificate cannot be read: {0}")]
    CertificateMalformed(String),
    /// The signed content does not match its digest: the document was changed.
    #[error("the signed content does not match its digest")]
    DigestMismatch,
    /// The signature value does not verify with the signer's key.
    #[error("the signature value does not verify")]
    Invalid,
    /// A JWS header parameter listed in `crit` is not understood.
    #[error("critical JWS header parameter not understood: {0}")]
    CritUnsupported(String),
    /// The claimed signing time is in the future.
    #[error("the signing time is in the future")]
    TimeInFuture,
    /// The certificate chain does not lead to a trust anchor.
    #[error("the signer's certificate does not chain to a trusted root")]
    Untrusted,
    /// The signer's (or a CA's) certificate has expired.
    #[error("the signer's certificate chain has expired at {0}")]
    Expired(String),
    /// The signer's (or a CA's) certificate is not valid yet.
    #[error("the signer's certificate chain is not valid yet at {0}")]
    NotYetValid(String),
    /// A certificate of the chain is revoked.
    #[error("the signer's certificate chain includes a revoked certificate")]
    Revoked,
    /// No current CRL says whether a certificate of the chain is revoked.
    #[error("no current CRL covers the signer's certificate chain")]
    RevocationUnknown,
    /// The certificate may not be used for signing documents.
    #[error("the signer's certificate is not for document signing: {0}")]
    WrongUsage(String),
    /// A certificate of the chain is signed with a refused algorithm (such as SHA-1).
    #[error("a certificate of the chain is signed with a refused algorithm")]
    CertificateWeakAlgorithm,
    /// The chain is invalid for another reason.
    #[error("the signer's certificate chain is invalid: {0}")]
    CertificateInvalid(String),
    /// The signer is valid but not one the configuration binds to the sender.
    #[error("the signer is not bound to the sending member")]
    SignerNotBound,
    /// A signature is required and none was given.
    #[error("a signature is required: {0}")]
    Required(String),
}

impl SigError {
    /// The stable error code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Xml(C14nError::Doctype) => "xml_doctype_forbidden",
            Self::Xml(C14nError::Encoding) => "xml_encoding_unsupported",
            Self::Xml(C14nError::DuplicateId(_)) => "signature_duplicate_id",
            Self::Xml(_) => "malformed_xml",
            Self::Malformed(_) => "signature_malformed",
            Self::Multiple => "signature_multiple",
            Self::Misplaced => "signature_misplaced",
            Self::MultipleReferences(_) => "signature_multiple_references",
            Self::ExternalReference => "signature_reference_external",
            Self::UnresolvedReference => "signature_reference_unresolved",
            Self::ReferenceNotRoot => "signature_reference_not_root",
            Self::DuplicateId => "signature_duplicate_id",
            Self::TransformXpath => "signature_transform_xpath",
            Self::TransformXslt => "signature_transform_xslt",
            Self::TransformUnsupported(_) => "signature_transform_unsupported",
            Self::C14nUnsupported(_) => "signature_c14n_unsupported",
            Self::AlgorithmSha1(_) => "signature_algorithm_sha1",
            Self::AlgorithmMd5(_) => "signature_algorithm_md5",
            Self::AlgorithmHmac(_) => "signature_algorithm_hmac",
            Self::AlgorithmDsa(_) => "signature_algorithm_dsa",
            Self::AlgorithmNone => "signature_algorithm_none",
            Self::AlgorithmUnknown(_) => "signature_algorithm_unknown",
            Self::KeyTooWeak(_) => "signature_key_too_weak",
            Self::KeyMismatch(_) => "signature_key_mismatch",
            Self::KeySourceUnsupported(_) => "signature_key_source_unsupported",
            Self::NoCertificate => "signature_no_certificate",
            Self::CertificateMalformed(_) => "certificate_malformed",
            Self::DigestMismatch => "signature_digest_mismatch",
            Self::Invalid => "signature_invalid",
            Self::CritUnsupported(_) => "signature_crit_unsupported",
            Self::TimeInFuture => "signature_time_in_future",
            Self::Untrusted => "certificate_untrusted",
            Self::Expired(_) => "certificate_expired",
            Self::NotYetValid(_) => "certificate_not_yet_valid",
            Self::Revoked => "certificate_revoked",
            Self::RevocationUnknown => "certificate_revocation_unknown",
            Self::WrongUsage(_) => "certificate_wrong_usage",
            Self::CertificateWeakAlgorithm => "certificate_weak_algorithm",
            Self::CertificateInvalid(_) => "certificate_invalid",
            Self::SignerNotBound => "signer_not_bound",
            Self::Required(_) => "signature_required",
        }
    }

    /// Whether the refusal is about reading the XML at all (HTTP 400) rather than
    /// about the signature (HTTP 422).
    pub fn is_malformed_input(&self) -> bool {
        matches!(self, Self::Xml(e) if !matches!(e, C14nError::DuplicateId(_)))
    }

    /// Every code [`SigError::code`] can return, for documentation and tests.
    pub const CODES: &'static [&'static str] = &[
        "xml_doctype_forbidden",
        "xml_encoding_unsupported",
        "malformed_xml",
        "signature_malformed",
        "signature_multiple",
        "signature_misplaced",
        "signature_multiple_references",
        "signature_reference_external",
        "signature_reference_unresolved",
        "signature_reference_not_root",
        "signature_duplicate_id",
        "signature_transform_xpath",
        "signature_transform_xslt",
        "signature_transform_unsupported",
        "signature_c14n_unsupported",
        "signature_algorithm_sha1",
        "signature_algorithm_md5",
        "signature_algorithm_hmac",
        "signature_algorithm_dsa",
        "signature_algorithm_none",
        "signature_algorithm_unknown",
        "signature_key_too_weak",
        "signature_key_mismatch",
        "signature_key_source_unsupported",
        "signature_no_certificate",
        "certificate_malformed",
        "signature_digest_mismatch",
        "signature_invalid",
        "signature_crit_unsupported",
        "signature_time_in_future",
        "certificate_untrusted",
        "certificate_expired",
        "certificate_not_yet_valid",
        "certificate_revoked",
        "certificate_revocation_unknown",
        "certificate_wrong_usage",
        "certificate_weak_algorithm",
        "certificate_invalid",
        "signer_not_bound",
        "signature_required",
    ];
}
