//! The gateway's signature layer: the trust store (roots and CRLs, refreshed on
//! a schedule), verification of signed dossiers with the signer bound to the
//! sending member, the signature requirement per member and per procedure, and
//! the gateway's own signing identity for receipts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use schemas::dsig::{SigError, SignatureAlgorithm, VerifyOptions};
use schemas::pki::{SigningIdentity, TrustStore, VerifiedSigner};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::auth::Member;
use crate::config::{Config, SignaturePolicy};

/// Why the signature layer could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignaturesError {
    /// The trust store could not be loaded.
    #[error("signatures.trust_anchors: {0}")]
    Trust(#[from] schemas::pki::TrustStoreError),
    /// The gateway's signing identity could not be loaded.
    #[error("signatures.key: {0}")]
    Key(#[from] schemas::pki::KeyError),
}

/// Who signed what the gateway accepted; part of the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBy {
    /// The signer certificate's subject (an organisation's certificate, never a citizen's).
    pub subject: String,
    /// SHA-256 of the signer's public key (hex).
    pub spki_sha256: String,
    /// SHA-256 of the signer's certificate (hex).
    pub cert_sha256: String,
    /// The signature algorithm (`rsa-sha256`, `ecdsa-sha256`, ...).
    pub algorithm: String,
    /// `xmldsig` (enveloped in the XML body) or `jws` (detached, in the header).
    pub format: String,
}

/// The verified signature of a submission, and for an XML signature the dossier
/// read from what it covers.
#[derive(Debug)]
pub struct Verified {
    /// The signer.
    pub signed_by: SignedBy,
    /// For an XML signature, the dossier read from exactly what was signed (the
    /// document element without its signature), from the tree that was verified;
    /// `None` for a JWS, which covers the body as is.
    pub dossier: Option<Result<schemas::Dossier, schemas::DossierError>>,
}

/// The signature layer.
pub struct Signatures {
    trust: Option<Arc<TrustStore>>,
    crl_paths: Vec<PathBuf>,
    crl_refresh: Duration,
    skew: i64,
    required_procedures: Vec<String>,
    identity: Option<Arc<SigningIdentity>>,
    /// Verifications in progress at once: parsing and canonicalising a hostile
    /// document costs memory and CPU, so it runs off the async workers, a few
    /// at a time.
    permits: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Signatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signatures").field("trust", &self.trust).field("identity", &self.identity).finish()
    }
}

impl Signatures {
    /// Loads the trust store, the CRLs and the signing identity the configuration names.
    pub fn from_config(config: &Config) -> Result<Self, SignaturesError> {
        let c = &config.signatures;
        let trust = if c.trust_anchors.is_empty() {
            None
        } else {
            let store = TrustStore::open(&c.trust_anchors, &c.crls, c.revocation.policy())?;
            for a in store.anchors() {
                if a.subject.contains("Lienthong DEV PKI") {
                    warn!(anchor = %a.subject, "the trust store holds a DEVELOPMENT root; never run so in production");
                }
            }
            info!(anchors = store.anchors().len(), crls = store.crl_count(), "trust store loaded");
            Some(Arc::new(store))
        };
        let identity = match (&c.key, &c.certificate_chain) {
            (Some(k), Some(chain)) => {
                let mut id = SigningIdentity::load(k, chain)?;
                if let Some(alg) = c.algorithm.as_deref().and_then(SignatureAlgorithm::from_name) {
                    id = id.with_algorithm(alg)?;
                }
                Some(Arc::new(id))
            }
            _ => None,
        };
        Ok(Self {
            trust,
            crl_paths: c.crls.clone(),
            crl_refresh: c.crl_refresh,
            skew: i64::try_from(c.max_clock_skew.as_secs()).unwrap_or(300),
            required_procedures: c.required_for_procedures.clone(),
            identity,
            permits: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get).max(2),
            )),
        })
    }

    /// The trust store, if one is configured.
    pub fn trust(&self) -> Option<&Arc<TrustStore>> {
        self.trust.as_ref()
    }

    /// The gateway's signing identity, if one is configured.
    pub fn identity(&self) -> Option<&Arc<SigningIdentity>> {
        self.identity.as_ref()
    }

    fn options(&self) -> VerifyOptions {
        VerifyOptions { max_skew: self.skew, ..VerifyOptions::now() }
    }

    fn store(&self) -> Result<&TrustStore, SigError> {
        // A signature the gateway cannot check is never taken on trust.
        self.trust.as_deref().ok_or(SigError::Untrusted)
    }

    /// Verifies the signature of a submission, if it carries one: a detached JWS
    /// in `jws` (over the exact body, either dialect), or an enveloped XML
    /// signature in an XML body. The signer must be bound to `member`.
    pub fn verify(
        &self,
        member: &Member,
        is_xml: bool,
        jws: Option<&str>,
        body: &[u8],
    ) -> Result<Option<Verified>, SigError> {
        if let Some(compact) = jws {
            let v = schemas::jws::verify_detached(compact, body, self.store()?, &self.options())?;
            bound(member, &v.signer)?;
            return Ok(Some(Verified { signed_by: signed_by(&v.signer, v.algorithm, "jws"), dossier: None }));
        }
        if !is_xml {
            return Ok(None);
        }
        // Unsigned XML needs no trust store; signed XML does.
        let verified = match &self.trust {
            Some(store) => schemas::dsig::verify_xml_and_read(body, store, &self.options(), |doc, apex, signature| {
                schemas::dossier_from_tree(doc, apex, Some(signature))
            })?,
            None => match schemas::c14n::Document::parse(body).map(|d| schemas::dsig::parse_signature(&d)) {
                Ok(Ok(None)) | Err(_) => return Ok(None),
                Ok(Err(e)) => return Err(e),
                Ok(Ok(Some(_))) => return Err(SigError::Untrusted),
            },
        };
        let Some((v, dossier)) = verified else { return Ok(None) };
        bound(member, &v.signer)?;
        Ok(Some(Verified { signed_by: signed_by(&v.signer, v.algorithm, "xmldsig"), dossier: Some(dossier) }))
    }

    /// [`Signatures::verify`] on a blocking thread, at most as many at once as the
    /// machine has cores; the async workers stay free for other requests.
    pub async fn verify_off_thread(
        self: Arc<Self>,
        member: Member,
        is_xml: bool,
        jws: Option<String>,
        body: bytes::Bytes,
    ) -> Result<Result<Option<Verified>, SigError>, tokio::task::JoinError> {
        // The semaphore is never closed, so acquiring only waits.
        let permit = self.permits.clone().acquire_owned().await;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            self.verify(&member, is_xml, jws.as_deref(), &body)
        })
        .await
    }

    /// Whether a dossier of `procedure` from `member` must be signed.
    pub fn required(&self, member: &Member, procedure: &str) -> Option<String> {
        if member.signature == SignaturePolicy::Required {
            return Some(format!("member {} must sign its dossiers", member.id));
        }
        self.required_procedures
            .iter()
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => procedure.starts_with(prefix),
                None => p == procedure,
            })
            .then(|| format!("dossiers of procedure {procedure} must be signed"))
    }

    /// A detached JWS over `bytes` by the gateway, if it has a signing identity.
    pub fn sign(&self, bytes: &[u8]) -> Option<String> {
        let id = self.identity.as_ref()?;
        match schemas::jws::sign_detached(bytes, id, chrono::Utc::now().timestamp()) {
            Ok(s) => Some(s),
            Err(e) => {
                warn!(error = %e, "the gateway could not sign a receipt");
                None
            }
        }
    }

    /// Re-reads the CRL files every `crl_refresh` until shutdown. A failed
    /// reload keeps the previous CRLs in force and is logged.
    pub async fn refresh_crls(self: Arc<Self>, metrics: crate::metrics::Metrics, mut shutdown: watch::Receiver<bool>) {
        let Some(store) = self.trust.clone() else { return };
        if self.crl_paths.is_empty() {
            return;
        }
        let mut tick = tokio::time::interval(self.crl_refresh);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            let (store, paths) = (store.clone(), self.crl_paths.clone());
            match tokio::task::spawn_blocking(move || store.reload_crls(&paths)).await {
                Ok(Ok(n)) => {
                    metrics.crl_reloads.with_label_values(&["ok"]).inc();
                    tracing::debug!(crls = n, "CRLs reloaded");
                }
                Ok(Err(e)) => {
                    metrics.crl_reloads.with_label_values(&["error"]).inc();
                    warn!(error = %e, "CRL reload failed; the previous CRLs stay in force");
                }
                Err(e) => {
                    metrics.crl_reloads.with_label_values(&["error"]).inc();
                    warn!(error = %e, "CRL reload task failed");
                }
            }
        }
    }
}

impl adapters::BodySigner for Signatures {
    fn sign_body(&self, body: &[u8]) -> Option<String> {
        self.sign(body)
    }
}

fn bound(member: &Member, signer: &VerifiedSigner) -> Result<(), SigError> {
    if member.signers.iter().any(|b| b.matches(&signer.cert)) {
        Ok(())
    } else {
        Err(SigError::SignerNotBound)
    }
}

fn signed_by(signer: &VerifiedSigner, alg: SignatureAlgorithm, format: &str) -> SignedBy {
    SignedBy {
        subject: signer.cert.subject.clone(),
        spki_sha256: signer.cert.spki_sha256.clone(),
        cert_sha256: signer.cert.cert_sha256.clone(),
        algorithm: alg.name().to_owned(),
        format: format.to_owned(),
    }
}
