//! XML Signature (XMLDSig 1.0) under a strict enveloped profile that defeats
//! signature wrapping: verification against a [`crate::pki::TrustStore`] and
//! signing with a [`crate::pki::SigningIdentity`]. See [`profile`] for the rules.

mod alg;
mod error;
pub mod profile;
mod sign;
mod verify;

pub use alg::{DigestAlgorithm, KeyFamily, SignatureAlgorithm, SIGNATURE_ALGORITHMS};
pub use error::SigError;
pub use profile::{parse_signature, SignatureInfo};
pub use sign::{sign_xml, ReferenceStyle, SignError, XmlSignOptions};
pub use verify::{
    verify_xml, verify_xml_and_read, verify_xml_traced, Step, VerifiedXml, VerifyOptions, MAX_CERTIFICATES,
    MAX_CERTIFICATE_BYTES,
};

pub(crate) use verify::split_chain;

/// The XML Signature namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
