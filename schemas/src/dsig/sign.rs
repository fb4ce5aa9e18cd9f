//! Enveloped XML signatures as the strict profile accepts them: a `ds:Signature`
//! appended as the last child of the document element, one Reference to the
//! whole document (`URI=""`) or to the document element's `Id`, the
//! enveloped-signature transform and one C14N 1.0, and the signer's chain in
//! `KeyInfo/X509Data`.

use std::fmt::Write as _;

use base64::Engine;

use super::profile::ENVELOPED_URI;
use super::{SigError, DSIG_NS};
use crate::c14n::{Algorithm, Document};
use crate::pki::{KeyError, SigningIdentity};

/// What the Reference covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReferenceStyle {
    /// `URI=""`: the whole document.
    #[default]
    WholeDocument,
    /// `URI="#id"` of the document element's `Id` attribute.
    RootId,
}

/// How to sign.
#[derive(Debug, Clone)]
pub struct XmlSignOptions {
    /// The canonicalisation of both the reference and `SignedInfo`.
    pub c14n: Algorithm,
    /// What the Reference covers.
    pub reference: ReferenceStyle,
}

impl Default for XmlSignOptions {
    fn default() -> Self {
        Self {
            c14n: Algorithm::Exclusive { comments: false, inclusive_prefixes: Vec::new() },
            reference: ReferenceStyle::default(),
        }
    }
}

/// Why a document could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The document cannot be read, or already carries a signature.
    #[error(transparent)]
    Document(#[from] SigError),
    /// The key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The document element has no `Id` to reference.
    #[error("the document element has no Id attribute to reference")]
    NoId,
    /// The document element is empty (`<HoSo/>`): there is nothing to sign.
    #[error("the document element is empty")]
    EmptyRoot,
}

/// Signs a document; returns it with the `ds:Signature` inserted just before the
/// document element's end tag. Everything else is left byte for byte.
pub fn sign_xml(bytes: &[u8], id: &SigningIdentity, opts: &XmlSignOptions) -> Result<Vec<u8>, SignError> {
    let doc = Document::parse(bytes).map_err(SigError::from)?;
    if doc.descendants(doc.document()).any(|n| doc.name(n) == Some((DSIG_NS, "Signature"))) {
        return Err(SigError::Multiple.into());
    }
    let root = doc.root();
    let (uri, apex) = match opts.reference {
        ReferenceStyle::WholeDocument => (String::new(), doc.document()),
        ReferenceStyle::RootId => {
            let v = doc.attribute(root, "", "Id").ok_or(SignError::NoId)?;
            (format!("#{v}"), root)
        }
    };
    let reference_c14n = match &opts.c14n {
        Algorithm::Inclusive { .. } => Algorithm::Inclusive { comments: false },
        Algorithm::Exclusive { inclusive_prefixes, .. } => {
            Algorithm::Exclusive { comments: false, inclusive_prefixes: inclusive_prefixes.clone() }
        }
    };
    let alg = id.algorithm();
    let digest = alg.digest().digest(&doc.canonicalize(apex, None, &reference_c14n));
    let b64 = base64::engine::general_purpose::STANDARD;

    let mut sig = String::new();
    let _ = write!(sig, "<ds:Signature xmlns:ds=\"{DSIG_NS}\"><ds:SignedInfo>");
    sig.push_str(&c14n_element("CanonicalizationMethod", &opts.c14n));
    let _ = write!(sig, "<ds:SignatureMethod Algorithm=\"{}\"/>", alg.uri());
    let _ = write!(sig, "<ds:Reference URI=\"{}\"><ds:Transforms>", escape_attr(&uri));
    let _ = write!(sig, "<ds:Transform Algorithm=\"{ENVELOPED_URI}\"/>");
    sig.push_str(&c14n_element("Transform", &reference_c14n));
    let _ = write!(
        sig,
        "</ds:Transforms><ds:DigestMethod Algorithm=\"{}\"/><ds:DigestValue>{}</ds:DigestValue></ds:Reference>",
        alg.digest().uri(),
        b64.encode(&digest)
    );
    sig.push_str("</ds:SignedInfo><ds:SignatureValue>");
    // The signature value goes here, once SignedInfo is in place to canonicalise.
    let value_at = sig.len();
    sig.push_str("</ds:SignatureValue><ds:KeyInfo><ds:X509Data>");
    for cert in id.chain() {
        let _ = write!(sig, "<ds:X509Certificate>{}</ds:X509Certificate>", b64.encode(cert.as_ref()));
    }
    sig.push_str("</ds:X509Data></ds:KeyInfo></ds:Signature>");

    let span = doc.span(root);
    let end_tag = bytes[span.clone()].iter().rposition(|&b| b == b'<').map(|p| span.start + p);
    let insert_at = match end_tag {
        Some(p) if bytes.get(p + 1) == Some(&b'/') => p,
        _ => return Err(SignError::EmptyRoot),
    };
    let mut draft = Vec::with_capacity(bytes.len() + sig.len() + 512);
    draft.extend_from_slice(&bytes[..insert_at]);
    draft.extend_from_slice(sig.as_bytes());
    draft.extend_from_slice(&bytes[insert_at..]);

    let placed = Document::parse(&draft).map_err(SigError::from)?;
    let signed_info = placed
        .descendants(placed.document())
        .find(|n| placed.name(*n) == Some((DSIG_NS, "SignedInfo")))
        .ok_or_else(|| SigError::Malformed("SignedInfo not found after insertion".into()))?;
    let value = id.sign(&placed.canonicalize(signed_info, None, &opts.c14n))?;
    let at = insert_at + value_at;
    let mut out = Vec::with_capacity(draft.len() + 700);
    out.extend_from_slice(&draft[..at]);
    out.extend_from_slice(b64.encode(value).as_bytes());
    out.extend_from_slice(&draft[at..]);
    Ok(out)
}

fn c14n_element(name: &str, alg: &Algorithm) -> String {
    match alg {
        Algorithm::Exclusive { inclusive_prefixes, .. } if !inclusive_prefixes.is_empty() => format!(
            "<ds:{name} Algorithm=\"{}\"><ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"{}\"/></ds:{name}>",
            alg.uri(),
            escape_attr(&inclusive_prefixes.join(" "))
        ),
        _ => format!("<ds:{name} Algorithm=\"{}\"/>", alg.uri()),
    }
}

fn escape_attr(v: &str) -> String {
    v.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;")
}
