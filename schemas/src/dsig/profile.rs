//! The strict XMLDSig profile: reads the one enveloped `ds:Signature` of a
//! document into a [`SignatureInfo`], refusing every construct that lets a
//! signature cover something other than the document element the gateway reads.
//!
//! The profile: exactly one `ds:Signature`, a direct child of the document
//! element; `SignedInfo` with one of the four C14N 1.0 methods, an accepted
//! signature method and exactly one `Reference`, whose URI is `""` or `#id` of
//! the document element itself (IDs are the attributes `Id`, `ID` and `id`, and
//! the referenced value must be carried once); transforms exactly
//! enveloped-signature then optionally one C14N 1.0; the signer's certificate in
//! `KeyInfo/X509Data`.

use base64::Engine;

use super::alg::{DigestAlgorithm, SignatureAlgorithm};
use super::{SigError, DSIG_NS};
use crate::c14n::{Algorithm, Document, NodeId, NodeKind, MAX_PREFIX_LIST};

/// URI of the enveloped-signature transform.
pub const ENVELOPED_URI: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const XPATH_URIS: &[&str] =
    &["http://www.w3.org/TR/1999/REC-xpath-19991116", "http://www.w3.org/2002/06/xmldsig-filter2"];
const XSLT_URI: &str = "http://www.w3.org/TR/1999/REC-xslt-19991116";
/// The attributes that carry an element's ID.
pub const ID_ATTRIBUTES: &[&str] = &["Id", "ID", "id"];

/// What the one signature of a document says, read under the strict profile.
#[derive(Debug, Clone)]
pub struct SignatureInfo {
    /// The `ds:Signature` element.
    pub signature: NodeId,
    /// The `ds:SignedInfo` element.
    pub signed_info: NodeId,
    /// How `SignedInfo` is canonicalised.
    pub c14n: Algorithm,
    /// The signature algorithm.
    pub method: SignatureAlgorithm,
    /// The Reference URI (`""` or `#id`).
    pub reference_uri: String,
    /// The apex of the referenced node set: the document node or the document element.
    pub referenced: NodeId,
    /// How the referenced node set is canonicalised (comments are never included:
    /// `""` and `#id` references remove them).
    pub reference_c14n: Algorithm,
    /// The digest algorithm.
    pub digest: DigestAlgorithm,
    /// The decoded `DigestValue`.
    pub digest_value: Vec<u8>,
    /// The decoded `SignatureValue`.
    pub signature_value: Vec<u8>,
    /// The DER certificates of `KeyInfo/X509Data`, in document order.
    pub certificates: Vec<Vec<u8>>,
}

/// Reads the document's signature; `Ok(None)` when it has none.
pub fn parse_signature(doc: &Document) -> Result<Option<SignatureInfo>, SigError> {
    let mut signatures = doc.descendants(doc.document()).filter(|n| doc.name(*n) == Some((DSIG_NS, "Signature")));
    let Some(signature) = signatures.next() else { return Ok(None) };
    if signatures.next().is_some() {
        return Err(SigError::Multiple);
    }
    if doc.parent(signature) != Some(doc.root()) {
        return Err(SigError::Misplaced);
    }
    let children = elements(doc, signature)?;
    let mut it = children.iter();
    let signed_info = expect(doc, it.next(), "SignedInfo", "Signature")?;
    let signature_value_el = expect(doc, it.next(), "SignatureValue", "Signature")?;
    let mut certificates = Vec::new();
    let (mut key_info_seen, mut objects) = (false, false);
    for &c in it {
        match doc.name(c) {
            Some((DSIG_NS, "KeyInfo")) if !key_info_seen && !objects => {
                key_info_seen = true;
                certificates = key_info(doc, c)?;
            }
            // Objects are never covered by the one Reference, so never used.
            Some((DSIG_NS, "Object")) => objects = true,
            _ => return Err(SigError::Malformed(format!("unexpected element {} in Signature", local(doc, c)))),
        }
    }

    let si = elements(doc, signed_info)?;
    let mut it = si.iter();
    let cm = expect(doc, it.next(), "CanonicalizationMethod", "SignedInfo")?;
    let c14n = c14n_method(doc, cm, false)?
        .ok_or_else(|| SigError::C14nUnsupported(doc.attribute(cm, "", "Algorithm").unwrap_or_default().to_owned()))?;
    let sm = expect(doc, it.next(), "SignatureMethod", "SignedInfo")?;
    let method = SignatureAlgorithm::from_uri(algorithm_attr(doc, sm)?)?;
    if !elements(doc, sm)?.is_empty() {
        return Err(SigError::Malformed("SignatureMethod takes no parameters".into()));
    }
    let references: Vec<NodeId> = it.copied().collect();
    for r in &references {
        if doc.name(*r) != Some((DSIG_NS, "Reference")) {
            return Err(SigError::Malformed(format!("unexpected element {} in SignedInfo", local(doc, *r))));
        }
    }
    let reference = match references.as_slice() {
        [] => return Err(SigError::Malformed("SignedInfo holds no Reference".into())),
        [one] => *one,
        more => return Err(SigError::MultipleReferences(more.len())),
    };

    let reference_uri = doc.attribute(reference, "", "URI").ok_or(SigError::ExternalReference)?.to_owned();
    let referenced = resolve(doc, &reference_uri)?;
    let parts = elements(doc, reference)?;
    let mut it = parts.iter().peekable();
    let reference_c14n = match it.peek().map(|n| doc.name(**n)) {
        Some(Some((DSIG_NS, "Transforms"))) => transforms_of(doc, *it.next().unwrap_or(&reference))?,
        _ => return Err(SigError::TransformUnsupported("the enveloped-signature transform is required".into())),
    };
    let dm = expect(doc, it.next(), "DigestMethod", "Reference")?;
    let digest = DigestAlgorithm::from_uri(algorithm_attr(doc, dm)?)?;
    let dv = expect(doc, it.next(), "DigestValue", "Reference")?;
    if let Some(extra) = it.next() {
        return Err(SigError::Malformed(format!("unexpected element {} in Reference", local(doc, *extra))));
    }
    let digest_value = base64_content(doc, dv, "DigestValue")?;
    let signature_value = base64_content(doc, signature_value_el, "SignatureValue")?;
    if certificates.is_empty() {
        return Err(SigError::NoCertificate);
    }
    Ok(Some(SignatureInfo {
        signature,
        signed_info,
        c14n,
        method,
        reference_uri,
        referenced,
        reference_c14n,
        digest,
        digest_value,
        signature_value,
        certificates,
    }))
}

/// The apex a same-document reference selects: the document for `""`, the
/// document element for `#id` of it; everything else is refused.
fn resolve(doc: &Document, uri: &str) -> Result<NodeId, SigError> {
    if uri.is_empty() {
        return Ok(doc.document());
    }
    let Some(id) = uri.strip_prefix('#') else { return Err(SigError::ExternalReference) };
    if id.starts_with("xpointer(") {
        return Err(SigError::TransformXpath);
    }
    if id.is_empty() {
        return Err(SigError::ExternalReference);
    }
    let mut found = None;
    for n in doc.descendants(doc.document()) {
        for attr in ID_ATTRIBUTES {
            if doc.attribute(n, "", attr) == Some(id) {
                if found.is_some() {
                    return Err(SigError::DuplicateId);
                }
                found = Some(n);
            }
        }
    }
    match found {
        None => Err(SigError::UnresolvedReference),
        Some(n) if n == doc.root() => Ok(n),
        Some(_) => Err(SigError::ReferenceNotRoot),
    }
}

/// The reference's transforms: enveloped-signature, then at most one C14N 1.0;
/// the C14N used for the digest (without comments, which the reference removed).
fn transforms_of(doc: &Document, transforms: NodeId) -> Result<Algorithm, SigError> {
    let list = elements(doc, transforms)?;
    let mut enveloped = false;
    let mut c14n = None;
    for t in list {
        if doc.name(t) != Some((DSIG_NS, "Transform")) {
            return Err(SigError::Malformed(format!("unexpected element {} in Transforms", local(doc, t))));
        }
        let uri = algorithm_attr(doc, t)?;
        if uri == ENVELOPED_URI {
            if enveloped || c14n.is_some() {
                return Err(SigError::TransformUnsupported("enveloped-signature must come once, first".into()));
            }
            if !elements(doc, t)?.is_empty() {
                return Err(SigError::Malformed("the enveloped-signature transform takes no parameters".into()));
            }
            enveloped = true;
        } else if XPATH_URIS.contains(&uri) {
            return Err(SigError::TransformXpath);
        } else if uri == XSLT_URI {
            return Err(SigError::TransformXslt);
        } else if let Some(alg) = c14n_method(doc, t, true)? {
            if !enveloped || c14n.is_some() {
                return Err(SigError::TransformUnsupported(
                    "one canonicalisation may follow the enveloped-signature transform".into(),
                ));
            }
            c14n = Some(alg);
        } else {
            return Err(SigError::TransformUnsupported(uri.to_owned()));
        }
    }
    if !enveloped {
        return Err(SigError::TransformUnsupported("the enveloped-signature transform is required".into()));
    }
    let alg = c14n.unwrap_or(Algorithm::Inclusive { comments: false });
    Ok(match alg {
        Algorithm::Inclusive { .. } => Algorithm::Inclusive { comments: false },
        Algorithm::Exclusive { inclusive_prefixes, .. } => Algorithm::Exclusive { comments: false, inclusive_prefixes },
    })
}

/// A C14N 1.0 method (with its InclusiveNamespaces for the exclusive ones), or
/// `None` if the URI is not one. `as_transform` only changes the error wording.
fn c14n_method(doc: &Document, el: NodeId, as_transform: bool) -> Result<Option<Algorithm>, SigError> {
    let uri = algorithm_attr(doc, el)?;
    let Ok(alg) = Algorithm::from_uri(uri) else { return Ok(None) };
    let params = elements(doc, el)?;
    match (&alg, params.as_slice()) {
        (_, []) => Ok(Some(alg)),
        (Algorithm::Exclusive { .. }, [p]) if doc.name(*p) == Some((EXC_C14N_NS, "InclusiveNamespaces")) => {
            let list = doc.attribute(*p, "", "PrefixList").unwrap_or_default();
            // Each entry is looked at for every element: a long list is a denial of service.
            if list.split_ascii_whitespace().count() > MAX_PREFIX_LIST {
                return Err(SigError::Malformed(format!("a PrefixList may name at most {MAX_PREFIX_LIST} prefixes")));
            }
            Ok(Some(alg.with_prefix_list(list)))
        }
        _ => Err(SigError::Malformed(format!(
            "unexpected parameters of the canonicalisation {}",
            if as_transform { "transform" } else { "method" }
        ))),
    }
}

fn key_info(doc: &Document, key_info: NodeId) -> Result<Vec<Vec<u8>>, SigError> {
    let mut certs = Vec::new();
    for c in elements(doc, key_info)? {
        match doc.name(c) {
            Some((DSIG_NS, "X509Data")) => {
                for x in elements(doc, c)? {
                    if doc.name(x) == Some((DSIG_NS, "X509Certificate")) {
                        certs.push(base64_content(doc, x, "X509Certificate")?);
                    }
                }
            }
            Some((DSIG_NS, "RetrievalMethod")) => {
                return Err(SigError::KeySourceUnsupported("KeyInfo/RetrievalMethod".into()));
            }
            // KeyName, KeyValue and the rest are never used: the key is the
            // certificate's, and the certificate must chain to a trusted root.
            _ => {}
        }
    }
    Ok(certs)
}

/// The child elements of `id`; any non-whitespace text between them is refused.
fn elements(doc: &Document, id: NodeId) -> Result<Vec<NodeId>, SigError> {
    let mut out = Vec::new();
    for c in doc.children(id) {
        match doc.kind(c) {
            NodeKind::Element => out.push(c),
            NodeKind::Text if !doc.text(c).unwrap_or_default().trim_ascii().is_empty() => {
                return Err(SigError::Malformed(format!("unexpected text in {}", local(doc, id))));
            }
            _ => {}
        }
    }
    Ok(out)
}

fn expect(doc: &Document, node: Option<&NodeId>, want: &str, parent: &str) -> Result<NodeId, SigError> {
    match node {
        Some(&n) if doc.name(n) == Some((DSIG_NS, want)) => Ok(n),
        Some(&n) => Err(SigError::Malformed(format!("{parent}: expected {want}, found {}", local(doc, n)))),
        None => Err(SigError::Malformed(format!("{parent}: {want} is missing"))),
    }
}

fn local(doc: &Document, n: NodeId) -> String {
    doc.name(n).map(|(_, l)| l.to_owned()).unwrap_or_default()
}

fn algorithm_attr<'d>(doc: &'d Document<'_>, el: NodeId) -> Result<&'d str, SigError> {
    doc.attribute(el, "", "Algorithm")
        .ok_or_else(|| SigError::Malformed(format!("{} has no Algorithm", local(doc, el))))
}

/// The base64 text content of an element (whitespace ignored, strict otherwise).
fn base64_content(doc: &Document, el: NodeId, what: &str) -> Result<Vec<u8>, SigError> {
    let mut texts = Vec::new();
    for c in doc.children(el) {
        match doc.kind(c) {
            NodeKind::Text => texts.push(doc.text(c).unwrap_or_default()),
            NodeKind::Comment => {}
            _ => return Err(SigError::Malformed(format!("{what} must hold only base64 text"))),
        }
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let decoded = match texts.as_slice() {
        // The usual case, one text without line breaks, is decoded as it is.
        [one] if !one.bytes().any(|b| b.is_ascii_whitespace()) => engine.decode(one),
        _ => {
            let text: Vec<u8> = texts.iter().flat_map(|t| t.bytes()).filter(|b| !b.is_ascii_whitespace()).collect();
            engine.decode(&text)
        }
    };
    decoded.map_err(|_| SigError::Malformed(format!("{what} is not valid base64")))
}
