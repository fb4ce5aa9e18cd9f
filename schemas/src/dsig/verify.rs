//! Verification of an enveloped XML signature under the strict profile, step by
//! step, so that `lienthong verify` can explain where a document fails.

use rustls_pki_types::CertificateDer;

use super::profile::{parse_signature, SignatureInfo};
use super::{SigError, SignatureAlgorithm};
use crate::c14n::{Document, NodeId};
use crate::pki::{CertInfo, TrustStore, VerifiedSigner};

/// When the signature is checked.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// Now, Unix seconds.
    pub now: i64,
    /// The time the signer claims to have signed, Unix seconds, if known; the
    /// certificate chain must be valid then as well as now.
    pub signing_time: Option<i64>,
    /// How far in the future a claimed signing time may be (clock skew), seconds.
    pub max_skew: i64,
}

impl VerifyOptions {
    /// Checks at the current time, with five minutes of tolerated clock skew.
    pub fn now() -> Self {
        Self { now: chrono::Utc::now().timestamp(), signing_time: None, max_skew: 300 }
    }

    /// The instants the chain must be valid at.
    pub(crate) fn times(&self) -> Result<Vec<i64>, SigError> {
        match self.signing_time {
            Some(t) if t > self.now + self.max_skew => Err(SigError::TimeInFuture),
            Some(t) if t != self.now => Ok(vec![t, self.now]),
            _ => Ok(vec![self.now]),
        }
    }
}

/// One step of a verification, for an explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What was checked.
    pub what: String,
    /// Whether it passed.
    pub ok: bool,
}

/// A document whose signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedXml {
    /// The exact octets that were digested: the canonical form of the document
    /// element without its signature. This, not the raw body, is what the
    /// gateway parses, so that what it reads is exactly what was signed.
    pub signed_octets: Vec<u8>,
    /// The signer, whose chain verified.
    pub signer: VerifiedSigner,
    /// The signature algorithm.
    pub algorithm: SignatureAlgorithm,
    /// The canonicalisation of the reference (its URI).
    pub c14n: &'static str,
    /// The Reference URI.
    pub reference_uri: String,
}

/// Verifies an XML document's enveloped signature; `Ok(None)` if the document
/// carries no signature at all.
pub fn verify_xml(bytes: &[u8], store: &TrustStore, opts: &VerifyOptions) -> Result<Option<VerifiedXml>, SigError> {
    Ok(verify_steps(bytes, store, opts, &mut Tracer(None))?.map(|s| s.verified))
}

/// As [`verify_xml`], then, once the signature has verified, `read` is given
/// the parsed document, the apex of what was signed and the signature (the
/// node the signed content excludes), so that what was signed is read from the
/// tree that was verified rather than parsed again.
pub fn verify_xml_and_read<T>(
    bytes: &[u8],
    store: &TrustStore,
    opts: &VerifyOptions,
    read: impl FnOnce(&Document<'_>, NodeId, NodeId) -> T,
) -> Result<Option<(VerifiedXml, T)>, SigError> {
    let Some(s) = verify_steps(bytes, store, opts, &mut Tracer(None))? else { return Ok(None) };
    let read = read(&s.doc, s.referenced, s.signature);
    Ok(Some((s.verified, read)))
}

/// As [`verify_xml`], recording every step in `trace`.
pub fn verify_xml_traced(
    bytes: &[u8],
    store: &TrustStore,
    opts: &VerifyOptions,
    trace: &mut Vec<Step>,
) -> Result<Option<VerifiedXml>, SigError> {
    Ok(verify_steps(bytes, store, opts, &mut Tracer(Some(trace)))?.map(|s| s.verified))
}

/// A verified document, with the nodes its signed content is read from.
struct Verification<'a> {
    doc: Document<'a>,
    verified: VerifiedXml,
    /// The apex of the signed content.
    referenced: NodeId,
    /// The signature, which the signed content excludes.
    signature: NodeId,
}

/// Every step of a verification, told to `t`.
fn verify_steps<'a>(
    bytes: &'a [u8],
    store: &TrustStore,
    opts: &VerifyOptions,
    t: &mut Tracer<'_>,
) -> Result<Option<Verification<'a>>, SigError> {
    let doc = t.step("the document is well-formed, UTF-8, without DOCTYPE", Document::parse(bytes))?;
    let Some(info) = t.step("the signature follows the strict profile", parse_signature(&doc))? else {
        t.note(|| "the document carries no signature".into());
        return Ok(None);
    };
    t.note(|| {
        format!(
            "reference {:?}, {} over {}, digest {}",
            info.reference_uri,
            info.method.name(),
            info.reference_c14n.uri(),
            info.digest.name()
        )
    });
    let signed_octets = t.step("the content matches its digest (nothing was changed)", digest(&doc, &info))?;
    let (leaf, intermediates) = t.step("the signer's certificate is carried", split_chain(&info.certificates))?;
    t.note(|| format!("signer {} (key {})", leaf.subject, key_name(&leaf)));
    let key = t.step("the signer's key is strong enough", leaf.key.clone())?;
    let signed_info =
        t.step("SignedInfo canonicalises within bounds", bounded(&doc, info.signed_info, None, &info.c14n))?;
    t.step(
        "the signature value verifies over SignedInfo",
        key.verify(info.method, &signed_info, &info.signature_value),
    )?;
    let times = t.step("the signing time is not in the future", opts.times())?;
    let signer = t.step(
        "the certificate chains to a trusted root, is valid, not revoked, and may sign",
        store.verify(&leaf, &intermediates, &times),
    )?;
    t.note(|| format!("trust anchor {}", signer.anchor_subject));
    let verified = VerifiedXml {
        signed_octets,
        signer,
        algorithm: info.method,
        c14n: info.reference_c14n.uri(),
        reference_uri: info.reference_uri,
    };
    Ok(Some(Verification { doc, verified, referenced: info.referenced, signature: info.signature }))
}

fn key_name(c: &CertInfo) -> String {
    c.key.as_ref().map(|k| k.describe()).unwrap_or_else(|e| e.code().to_owned())
}

/// The most certificates a signature may carry (leaf and intermediates): each
/// one more is work for the path builder.
pub const MAX_CERTIFICATES: usize = 8;
/// The largest carried certificate, in bytes of DER.
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

/// The canonical form may be at most this many times the input, plus
/// [`C14N_SLACK`] bytes: escaping grows text at most six-fold, and exclusive
/// canonicalisation can repeat a namespace declaration on every element, which
/// a hostile document uses to turn kilobytes into gigabytes.
const C14N_FACTOR: usize = 8;
/// See [`C14N_FACTOR`].
const C14N_SLACK: usize = 64 * 1024;

/// Canonicalises within the budget of [`C14N_FACTOR`].
fn bounded(
    doc: &Document,
    node: crate::c14n::NodeId,
    exclude: Option<crate::c14n::NodeId>,
    alg: &crate::c14n::Algorithm,
) -> Result<Vec<u8>, SigError> {
    let limit = doc.input_len().saturating_mul(C14N_FACTOR).saturating_add(C14N_SLACK);
    doc.canonicalize_bounded(node, exclude, alg, limit)
        .map_err(|_| SigError::Malformed(format!("the canonical form exceeds {limit} bytes")))
}

/// The canonical referenced content, checked against its digest.
fn digest(doc: &Document, info: &SignatureInfo) -> Result<Vec<u8>, SigError> {
    let octets = bounded(doc, info.referenced, Some(info.signature), &info.reference_c14n)?;
    let computed = info.digest.digest(&octets);
    // The digest is public (it is in the document); no constant-time comparison needed.
    if computed != info.digest_value {
        return Err(SigError::DigestMismatch);
    }
    Ok(octets)
}

/// The signer's certificate and the others: the signer is the one certificate
/// that issued none of the others.
pub(crate) fn split_chain(ders: &[Vec<u8>]) -> Result<(CertInfo, Vec<CertificateDer<'static>>), SigError> {
    if ders.is_empty() {
        return Err(SigError::NoCertificate);
    }
    if ders.len() > MAX_CERTIFICATES {
        return Err(SigError::CertificateMalformed(format!("more than {MAX_CERTIFICATES} certificates are carried")));
    }
    if ders.iter().any(|d| d.len() > MAX_CERTIFICATE_BYTES) {
        return Err(SigError::CertificateMalformed(format!(
            "a carried certificate is larger than {MAX_CERTIFICATE_BYTES} bytes"
        )));
    }
    let infos = ders.iter().map(|d| CertInfo::parse_remembered(d)).collect::<Result<Vec<_>, _>>()?;
    let leaves: Vec<usize> = (0..infos.len())
        .filter(|&i| {
            !infos
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && o.issuer == infos[i].subject && o.subject != infos[i].subject)
        })
        .collect();
    let leaf = match leaves.as_slice() {
        [one] => *one,
        _ => {
            return Err(SigError::CertificateMalformed("cannot tell which carried certificate is the signer's".into()))
        }
    };
    let others =
        ders.iter().enumerate().filter(|(i, _)| *i != leaf).map(|(_, d)| CertificateDer::from(d.clone())).collect();
    Ok((infos[leaf].clone(), others))
}

/// The steps of a verification, written only when someone reads them (the
/// gateway's own verifications keep none).
struct Tracer<'a>(Option<&'a mut Vec<Step>>);

impl Tracer<'_> {
    fn step<T>(&mut self, what: &str, r: Result<T, impl Into<SigError>>) -> Result<T, SigError> {
        let r = r.map_err(Into::into);
        if let Some(trace) = &mut self.0 {
            let what = match &r {
                Ok(_) => what.to_owned(),
                Err(e) => format!("{what}: {} ({})", e, e.code()),
            };
            trace.push(Step { what, ok: r.is_ok() });
        }
        r
    }

    fn note(&mut self, what: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.0 {
            trace.push(Step { what: format!("  {}", what()), ok: true });
        }
    }
}
