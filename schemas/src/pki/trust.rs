//! The trust store: the roots a signer's chain must lead to, and the CRLs that
//! say which certificates were revoked. Chains are built and checked by
//! rustls-webpki (path building, validity, basic constraints, name constraints,
//! CRL signatures and scope); the document-signing policy (key usage, extended
//! key usage, key strength) is added here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, TrustAnchor, UnixTime};
use webpki::{
    CertRevocationList, EndEntityCert, ExpirationPolicy, ExtendedKeyUsageValidator, KeyPurposeIdIter,
    OwnedCertRevocationList, RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};

use super::cert::CertInfo;
use crate::dsig::SigError;

/// Algorithms a CA may have signed a certificate or a CRL with (no SHA-1, RSA of
/// at least 2048 bits).
static CHAIN_ALGORITHMS: &[&dyn rustls_pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
];

/// How a chain whose revocation status no CRL establishes is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RevocationPolicy {
    /// Every certificate below the root must be covered by a current CRL of its
    /// issuer (a stale CRL counts as none). Fails closed.
    #[default]
    Require,
    /// Check the CRLs that are loaded; a certificate no CRL covers, or a CRL past
    /// its nextUpdate, is accepted.
    BestEffort,
}

/// Why the trust store could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustStoreError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file holds no certificate, or one that cannot be used as an anchor.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Extended key usages that allow signing documents. A certificate without the
/// extension is accepted (RFC 5280: any purpose).
const SIGNING_EKUS: &[&[usize]] = &[
    &[1, 3, 6, 1, 5, 5, 7, 3, 4],        // emailProtection (S/MIME, what national CAs issue)
    &[1, 3, 6, 1, 5, 5, 7, 3, 36],       // documentSigning (RFC 9336)
    &[1, 3, 6, 1, 4, 1, 311, 10, 3, 12], // Microsoft document signing
    &[1, 2, 840, 113583, 1, 1, 5],       // Adobe PDF signing
    &[2, 5, 29, 37, 0],                  // anyExtendedKeyUsage
];

struct DocumentSigning;

impl ExtendedKeyUsageValidator for DocumentSigning {
    #[allow(deprecated)] // the context variant has no public constructor
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        let mut any = false;
        for id in iter {
            any = true;
            let oid = id?.to_decoded_oid();
            if SIGNING_EKUS.contains(&oid.as_slice()) {
                return Ok(());
            }
        }
        if any {
            Err(webpki::Error::RequiredEkuNotFound)
        } else {
            Ok(())
        }
    }
}

/// A signer whose chain was verified.
#[derive(Debug, Clone)]
pub struct VerifiedSigner {
    /// The signer's certificate.
    pub cert: CertInfo,
    /// Subject of the trust anchor the chain ends in.
    pub anchor_subject: String,
}

/// The CRLs in force, with what the chain cache needs to know about them.
struct Crls {
    list: Vec<CertRevocationList<'static>>,
    /// Bumped on every replacement: cached verdicts of an older generation are void.
    generation: u64,
    /// The earliest nextUpdate among them (Unix seconds): past it, a CRL is stale
    /// and every cached verdict is void.
    earliest_next_update: i64,
}

/// A chain that verified, and the window in which that verdict still holds.
#[derive(Clone)]
struct Verdict {
    signer: VerifiedSigner,
    generation: u64,
    /// The latest notBefore and earliest notAfter of the carried certificates and
    /// the anchor: the verdict holds for instants in `[not_before, not_after)`.
    not_before: i64,
    not_after: i64,
}

/// The most verdicts kept; the cache is emptied when it is full.
const CACHE_ENTRIES: usize = 4096;

/// Roots and CRLs. CRLs can be replaced while the store is in use.
///
/// Chains that verified are remembered (by the SHA-256 of every certificate
/// carried) so that a member signing thousands of dossiers with one certificate
/// does not have its chain rebuilt each time. A remembered verdict is used only
/// while the CRLs it was checked against are the ones in force and none is past
/// its nextUpdate, and only for instants inside every certificate's validity;
/// anything else is verified afresh.
pub struct TrustStore {
    anchors: Vec<TrustAnchor<'static>>,
    anchor_certs: Vec<CertInfo>,
    crls: RwLock<Arc<Crls>>,
    policy: RevocationPolicy,
    cache: Mutex<HashMap<[u8; 32], Verdict>>,
}

impl std::fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustStore")
            .field("anchors", &self.anchor_certs.iter().map(|c| &c.subject).collect::<Vec<_>>())
            .field("crls", &self.crl_count())
            .field("policy", &self.policy)
            .finish()
    }
}

impl TrustStore {
    /// A trust store of DER root certificates.
    pub fn new(roots: Vec<CertificateDer<'static>>, policy: RevocationPolicy) -> Result<Self, SigError> {
        let mut anchors = Vec::new();
        let mut anchor_certs = Vec::new();
        for der in roots {
            let info = CertInfo::parse(&der)?;
            let anchor = webpki::anchor_from_trusted_cert(&der)
                .map_err(|e| SigError::CertificateMalformed(format!("trust anchor: {e}")))?
                .to_owned();
            anchors.push(anchor);
            anchor_certs.push(info);
        }
        let crls = Crls { list: Vec::new(), generation: 0, earliest_next_update: i64::MAX };
        Ok(Self { anchors, anchor_certs, crls: RwLock::new(Arc::new(crls)), policy, cache: Mutex::new(HashMap::new()) })
    }

    /// Loads roots from PEM files or directories of `*.pem` files.
    pub fn load(paths: &[PathBuf], policy: RevocationPolicy) -> Result<Self, TrustStoreError> {
        let mut roots = Vec::new();
        for file in expand(paths, &["pem", "crt"])? {
            let certs = read_pem::<CertificateDer<'static>>(&file)?;
            if certs.is_empty() {
                return Err(TrustStoreError::Invalid { path: file, reason: "no certificate in the file".into() });
            }
            roots.extend(certs);
        }
        Self::new(roots, policy).map_err(|e| TrustStoreError::Invalid {
            path: paths.first().cloned().unwrap_or_default(),
            reason: e.to_string(),
        })
    }

    /// Loads roots as [`TrustStore::load`] does, then the CRLs named by `crls`
    /// (none when empty).
    pub fn open(anchors: &[PathBuf], crls: &[PathBuf], policy: RevocationPolicy) -> Result<Self, TrustStoreError> {
        let store = Self::load(anchors, policy)?;
        if !crls.is_empty() {
            store.reload_crls(crls)?;
        }
        Ok(store)
    }

    /// Reads CRLs (PEM or DER) from files or directories and replaces the loaded
    /// ones; on any error the previous CRLs stay in force. Of several CRLs of one
    /// issuer (a download job keeping old files beside new ones), only the newest
    /// (highest CRL number, then latest thisUpdate) is kept: the path builder
    /// would otherwise use whichever it met first, perhaps one from before a
    /// revocation. Returns how many are in force.
    pub fn reload_crls(&self, paths: &[PathBuf]) -> Result<usize, TrustStoreError> {
        type Newest = (CertRevocationList<'static>, i64, (Option<x509_parser::num_bigint::BigUint>, i64));
        let mut by_issuer: HashMap<Vec<u8>, Newest> = HashMap::new();
        for file in expand(paths, &["pem", "crl", "der"])? {
            let bytes = std::fs::read(&file).map_err(|source| TrustStoreError::Io { path: file.clone(), source })?;
            let ders: Vec<Vec<u8>> = if bytes.starts_with(b"-----") {
                CertificateRevocationListDer::pem_slice_iter(&bytes)
                    .map(|r| r.map(|d| d.as_ref().to_vec()))
                    .collect::<Result<_, _>>()
                    .map_err(|e| TrustStoreError::Invalid { path: file.clone(), reason: e.to_string() })?
            } else {
                vec![bytes]
            };
            for der in ders {
                let crl = OwnedCertRevocationList::from_der(&der)
                    .map_err(|e| TrustStoreError::Invalid { path: file.clone(), reason: format!("{e:?}") })?;
                let (_, parsed) = x509_parser::parse_x509_crl(&der)
                    .map_err(|e| TrustStoreError::Invalid { path: file.clone(), reason: e.to_string() })?;
                let next = parsed.next_update().map_or(i64::MAX, |t| t.timestamp());
                let age = (parsed.crl_number().cloned(), parsed.last_update().timestamp());
                let issuer = parsed.issuer().as_raw().to_vec();
                let newer = by_issuer.get(&issuer).is_none_or(|(_, _, kept)| age > *kept);
                if newer {
                    by_issuer.insert(issuer, (CertRevocationList::from(crl), next, age));
                }
            }
        }
        let crls: Vec<(CertRevocationList<'static>, i64)> =
            by_issuer.into_values().map(|(crl, next, _)| (crl, next)).collect();
        let n = crls.len();
        self.set_crls(crls);
        Ok(n)
    }

    /// Replaces the CRLs, each with its nextUpdate (Unix seconds; `i64::MAX` if none).
    pub fn set_crls(&self, crls: Vec<(CertRevocationList<'static>, i64)>) {
        let earliest_next_update = crls.iter().map(|(_, n)| *n).min().unwrap_or(i64::MAX);
        let list = crls.into_iter().map(|(c, _)| c).collect();
        let mut guard = self.crls.write().unwrap_or_else(|p| p.into_inner());
        let generation = guard.generation + 1;
        *guard = Arc::new(Crls { list, generation, earliest_next_update });
        drop(guard);
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// How many CRLs are loaded.
    pub fn crl_count(&self) -> usize {
        self.crls.read().unwrap_or_else(|p| p.into_inner()).list.len()
    }

    /// The trust anchors' certificates (for expiry metrics and reports).
    pub fn anchors(&self) -> &[CertInfo] {
        &self.anchor_certs
    }

    /// Verifies that `leaf` may sign documents and chains, through
    /// `intermediates`, to a trust anchor, at every one of `times` (Unix seconds:
    /// the signing time and now). The leaf's key must pass the key policy.
    pub fn verify(
        &self,
        leaf: &CertInfo,
        intermediates: &[CertificateDer<'_>],
        times: &[i64],
    ) -> Result<VerifiedSigner, SigError> {
        leaf.key.clone()?;
        if leaf.is_ca {
            return Err(SigError::WrongUsage("the certificate is a CA certificate".into()));
        }
        if !leaf.signing_usage {
            return Err(SigError::WrongUsage("key usage allows neither digitalSignature nor nonRepudiation".into()));
        }
        let crls = self.crls.read().unwrap_or_else(|p| p.into_inner()).clone();
        let key = cache_key(leaf, intermediates);
        if let Some(v) = self.remembered(&key, &crls, times) {
            return Ok(v);
        }
        let leaf_der = leaf.der();
        let ee = EndEntityCert::try_from(&leaf_der).map_err(|e| SigError::CertificateMalformed(format!("{e:?}")))?;
        let crl_refs: Vec<&CertRevocationList<'static>> = crls.list.iter().collect();
        let (status, expiration) = match self.policy {
            RevocationPolicy::Require => (UnknownStatusPolicy::Deny, ExpirationPolicy::Enforce),
            RevocationPolicy::BestEffort => (UnknownStatusPolicy::Allow, ExpirationPolicy::Ignore),
        };
        let mut anchor_subject = String::new();
        let mut anchor_window = (i64::MIN, i64::MAX);
        for &t in times {
            let revocation = match RevocationOptionsBuilder::new(&crl_refs) {
                Ok(b) => Some(
                    b.with_depth(RevocationCheckDepth::Chain)
                        .with_status_policy(status)
                        .with_expiration_policy(expiration)
                        .build(),
                ),
                Err(_) if self.policy == RevocationPolicy::Require => return Err(SigError::RevocationUnknown),
                Err(_) => None,
            };
            let time = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(t).unwrap_or(0)));
            let path = ee
                .verify_for_usage(
                    CHAIN_ALGORITHMS,
                    &self.anchors,
                    intermediates,
                    time,
                    DocumentSigning,
                    revocation,
                    None,
                )
                .map_err(|e| map_error(e, t))?;
            let anchor = path.anchor();
            if let Some((_, c)) = self
                .anchors
                .iter()
                .zip(&self.anchor_certs)
                .find(|(a, _)| a.subject_public_key_info == anchor.subject_public_key_info)
            {
                anchor_subject = c.subject.clone();
                anchor_window = (c.not_before, c.not_after);
            }
        }
        let signer = VerifiedSigner { cert: leaf.clone(), anchor_subject };
        self.remember(key, &signer, &crls, leaf, intermediates, anchor_window);
        Ok(signer)
    }

    fn remembered(&self, key: &[u8; 32], crls: &Crls, times: &[i64]) -> Option<VerifiedSigner> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let v = cache.get(key)?;
        let fresh = v.generation == crls.generation
            && times.iter().all(|&t| t >= v.not_before && t < v.not_after && t < crls.earliest_next_update);
        fresh.then(|| v.signer.clone())
    }

    fn remember(
        &self,
        key: [u8; 32],
        signer: &VerifiedSigner,
        crls: &Crls,
        leaf: &CertInfo,
        intermediates: &[CertificateDer<'_>],
        anchor: (i64, i64),
    ) {
        let (mut not_before, mut not_after) = (leaf.not_before.max(anchor.0), leaf.not_after.min(anchor.1));
        for der in intermediates {
            match CertInfo::parse(der) {
                Ok(c) => {
                    not_before = not_before.max(c.not_before);
                    not_after = not_after.min(c.not_after);
                }
                // Unreadable extras were not used by the path; but be safe: no verdict.
                Err(_) => return,
            }
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, Verdict { signer: signer.clone(), generation: crls.generation, not_before, not_after });
    }
}

/// The identity of a presented chain: SHA-256 over every certificate carried, in order.
fn cache_key(leaf: &CertInfo, intermediates: &[CertificateDer<'_>]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for der in std::iter::once(leaf.der.as_slice()).chain(intermediates.iter().map(|d| d.as_ref())) {
        h.update((der.len() as u64).to_be_bytes());
        h.update(der);
    }
    h.finalize().into()
}

// webpki still returns the older, context-free variants from some paths.
#[allow(deprecated)]
fn map_error(e: webpki::Error, at: i64) -> SigError {
    use webpki::Error as E;
    let when = chrono::DateTime::from_timestamp(at, 0).map(|t| t.to_rfc3339()).unwrap_or_default();
    match e {
        E::UnknownIssuer => SigError::Untrusted,
        E::CertExpired { .. } => SigError::Expired(when),
        E::CertNotValidYet { .. } => SigError::NotYetValid(when),
        E::CertRevoked => SigError::Revoked,
        E::UnknownRevocationStatus | E::CrlExpired { .. } => SigError::RevocationUnknown,
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
            SigError::WrongUsage("extended key usage does not allow document signing".into())
        }
        E::CaUsedAsEndEntity => SigError::WrongUsage("the certificate is a CA certificate".into()),
        E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => SigError::CertificateWeakAlgorithm,
        other => SigError::CertificateInvalid(format!("{other:?}")),
    }
}

/// Files named by `paths`: each file itself, and each directory's files whose
/// extension is one of `exts`, sorted.
fn expand(paths: &[PathBuf], exts: &[&str]) -> Result<Vec<PathBuf>, TrustStoreError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|source| TrustStoreError::Io { path: p.clone(), source })?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().and_then(|x| x.to_str()).is_some_and(|x| exts.contains(&x)))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Every PEM object of type `T` in a file.
pub(crate) fn read_pem<T: PemObject>(path: &Path) -> Result<Vec<T>, TrustStoreError> {
    let bytes = std::fs::read(path).map_err(|source| TrustStoreError::Io { path: path.to_owned(), source })?;
    T::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TrustStoreError::Invalid { path: path.to_owned(), reason: e.to_string() })
}
