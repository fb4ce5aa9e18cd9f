//! Certificates and trust: reading a signer's certificate, building its chain to
//! a configured root with CRL checking, binding signers to members, and the
//! gateway's own signing identity.

mod cert;
mod key;
mod name;
mod trust;

pub use cert::{CertInfo, Curve, PublicKey};
pub use key::{KeyError, SigningIdentity};
pub use trust::{RevocationPolicy, TrustStore, TrustStoreError, VerifiedSigner};

use serde::Deserialize;

/// Which signers speak for a member: a signer matches when it matches every
/// field the binding sets (a binding with no field matches nobody).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerBinding {
    /// The signer certificate's subject, RFC 4514 (`CN=portal-hanoi,O=...,C=VN`);
    /// compared attribute by attribute, types case-insensitively.
    #[serde(default)]
    pub subject: Option<String>,
    /// The subject's organisation (`O`), exactly.
    #[serde(default)]
    pub organisation: Option<String>,
    /// SHA-256 of the signer's SubjectPublicKeyInfo, hex (key pinning).
    #[serde(default)]
    pub spki_sha256: Option<String>,
}

impl SignerBinding {
    /// Whether `cert` is a signer this binding names.
    pub fn matches(&self, cert: &CertInfo) -> bool {
        if self.subject.is_none() && self.organisation.is_none() && self.spki_sha256.is_none() {
            return false;
        }
        let subject_ok = self.subject.as_ref().is_none_or(|s| name::normalize(s) == name::normalize(&cert.subject));
        let org_ok = self.organisation.as_ref().is_none_or(|o| cert.organisation.as_deref() == Some(o.as_str()));
        let spki_ok =
            self.spki_sha256.as_ref().is_none_or(|k| k.trim().replace(':', "").eq_ignore_ascii_case(&cert.spki_sha256));
        subject_ok && org_ok && spki_ok
    }
}
