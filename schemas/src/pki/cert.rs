//! What the gateway reads from a signer's certificate: names, validity, the key
//! usage, and the public key that verifies signatures.

use std::collections::HashMap;
use std::sync::Mutex;

use ring::signature::{self as rs, UnparsedPublicKey};
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey as X509Key;

use super::name::{self, Dn};
use crate::dsig::{KeyFamily, SigError, SignatureAlgorithm};

const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";

/// An elliptic curve the policy accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
}

/// A signer's public key, checked against the key policy when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// RSA: the DER `RSAPublicKey` and its modulus length in bits (>= 2048).
    Rsa {
        /// DER `RSAPublicKey`.
        der: Vec<u8>,
        /// Modulus length.
        bits: usize,
    },
    /// ECDSA: the uncompressed point on its curve.
    Ec {
        /// The curve.
        curve: Curve,
        /// The uncompressed point.
        point: Vec<u8>,
    },
}

impl PublicKey {
    /// A short description (`rsa-2048`, `ecdsa-p256`).
    pub fn describe(&self) -> String {
        match self {
            Self::Rsa { bits, .. } => format!("rsa-{bits}"),
            Self::Ec { curve: Curve::P256, .. } => "ecdsa-p256".into(),
            Self::Ec { curve: Curve::P384, .. } => "ecdsa-p384".into(),
        }
    }

    /// Verifies `signature` over `message` with `alg`. ECDSA signatures are the
    /// fixed-length `r || s` of XMLDSig and JWS.
    pub fn verify(&self, alg: SignatureAlgorithm, message: &[u8], signature: &[u8]) -> Result<(), SigError> {
        use SignatureAlgorithm as A;
        let (params, key): (&'static dyn rs::VerificationAlgorithm, &[u8]) = match (self, alg) {
            (Self::Rsa { der, .. }, A::RsaPkcs1Sha256) => (&rs::RSA_PKCS1_2048_8192_SHA256, der),
            (Self::Rsa { der, .. }, A::RsaPkcs1Sha384) => (&rs::RSA_PKCS1_2048_8192_SHA384, der),
            (Self::Rsa { der, .. }, A::RsaPkcs1Sha512) => (&rs::RSA_PKCS1_2048_8192_SHA512, der),
            (Self::Rsa { der, .. }, A::RsaPssSha256) => (&rs::RSA_PSS_2048_8192_SHA256, der),
            (Self::Rsa { der, .. }, A::RsaPssSha384) => (&rs::RSA_PSS_2048_8192_SHA384, der),
            (Self::Rsa { der, .. }, A::RsaPssSha512) => (&rs::RSA_PSS_2048_8192_SHA512, der),
            (Self::Ec { curve: Curve::P256, point }, A::EcdsaSha256) => (&rs::ECDSA_P256_SHA256_FIXED, point),
            (Self::Ec { curve: Curve::P384, point }, A::EcdsaSha384) => (&rs::ECDSA_P384_SHA384_FIXED, point),
            (key, alg) => {
                return Err(SigError::KeyMismatch(format!("{} with a {} key", alg.name(), key.describe())));
            }
        };
        UnparsedPublicKey::new(params, key).verify(message, signature).map_err(|_| SigError::Invalid)
    }

    /// The key family.
    pub fn family(&self) -> KeyFamily {
        match self {
            Self::Rsa { .. } => KeyFamily::Rsa,
            Self::Ec { .. } => KeyFamily::Ec,
        }
    }
}

/// The facts of one certificate the verifier and the member binding use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Subject, RFC 4514, most specific RDN first: for display (the binding
    /// compares [`CertInfo::subject_dn`]).
    pub subject: String,
    /// Subject as read from the DER name: RDNs most specific first, types by OID,
    /// values exactly as encoded. What a member's binding by subject compares.
    pub subject_dn: Dn,
    /// Issuer, RFC 4514.
    pub issuer: String,
    /// The subject's organisation (the first `O`), if any, for display (a binding
    /// by organisation requires the subject to have exactly one `O`).
    pub organisation: Option<String>,
    /// The subject's common name (`CN`), if any.
    pub common_name: Option<String>,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex (what pinning uses).
    pub spki_sha256: String,
    /// SHA-256 of the DER certificate, lowercase hex.
    pub cert_sha256: String,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// Whether the certificate is a CA (basicConstraints CA:TRUE).
    pub is_ca: bool,
    /// The key usage extension allows digitalSignature or nonRepudiation (or is absent).
    pub signing_usage: bool,
    /// The public key, if it passes the key policy; why not otherwise.
    pub key: Result<PublicKey, SigError>,
}

/// The most certificates [`CertInfo::parse_remembered`] keeps; the memo is
/// emptied when it is full.
pub const PARSED_ENTRIES: usize = 512;

/// Certificates read before, by their exact DER: what a certificate says is a
/// function of its bytes alone, so a remembered reading is the reading.
static PARSED: Mutex<Option<HashMap<Box<[u8]>, CertInfo>>> = Mutex::new(None);

impl CertInfo {
    /// As [`CertInfo::parse`], but a certificate read before (byte for byte the
    /// same DER) is not parsed again. Signers carry the same certificates in
    /// every signature, and reading one costs more than the rest of a warm
    /// verification. Certificates that fail to parse are not remembered.
    pub fn parse_remembered(der: &[u8]) -> Result<Self, SigError> {
        let lock = || PARSED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(info) = lock().as_ref().and_then(|m| m.get(der)) {
            return Ok(info.clone());
        }
        let info = Self::parse(der)?;
        let mut memo = lock();
        let memo = memo.get_or_insert_with(HashMap::new);
        if memo.len() >= PARSED_ENTRIES {
            memo.clear();
        }
        memo.insert(der.into(), info.clone());
        Ok(info)
    }

    /// Reads a DER certificate.
    pub fn parse(der: &[u8]) -> Result<Self, SigError> {
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| SigError::CertificateMalformed(format!("{e}")))?;
        if !rest.is_empty() {
            return Err(SigError::CertificateMalformed("trailing bytes after the certificate".into()));
        }
        let signing_usage = match cert.key_usage() {
            Ok(None) => true,
            Ok(Some(ku)) => ku.value.digital_signature() || ku.value.non_repudiation(),
            Err(e) => return Err(SigError::CertificateMalformed(format!("key usage: {e}"))),
        };
        let is_ca = cert.is_ca();
        let spki = cert.public_key();
        let subject_dn = Dn::from_x509(cert.subject());
        Ok(Self {
            der: der.to_vec(),
            subject: subject_dn.to_string(),
            subject_dn,
            issuer: name::rfc4514(cert.issuer()),
            organisation: name::first(cert.subject(), "2.5.4.10"),
            common_name: name::first(cert.subject(), "2.5.4.3"),
            serial: hex::encode(cert.raw_serial()),
            spki_sha256: hex::encode(Sha256::digest(spki.raw)),
            cert_sha256: hex::encode(Sha256::digest(der)),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            is_ca,
            signing_usage,
            key: public_key(&cert),
        })
    }

    /// The certificate as rustls-pki-types holds it.
    pub fn der(&self) -> CertificateDer<'_> {
        CertificateDer::from(self.der.as_slice())
    }
}

fn public_key(cert: &X509Certificate<'_>) -> Result<PublicKey, SigError> {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(X509Key::RSA(rsa)) => {
            let bits = rsa.key_size();
            if bits < 2048 {
                return Err(SigError::KeyTooWeak(format!("RSA key of {bits} bits; at least 2048 are required")));
            }
            Ok(PublicKey::Rsa { der: spki.subject_public_key.data.to_vec(), bits })
        }
        Ok(X509Key::EC(_)) => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
            let curve = match curve.as_deref() {
                Some(OID_P256) => Curve::P256,
                Some(OID_P384) => Curve::P384,
                other => {
                    return Err(SigError::KeyTooWeak(format!(
                        "elliptic curve {} is not accepted; P-256 or P-384 are",
                        other.unwrap_or("(unnamed)")
                    )))
                }
            };
            Ok(PublicKey::Ec { curve, point: spki.subject_public_key.data.to_vec() })
        }
        Ok(X509Key::DSA(_)) => Err(SigError::AlgorithmDsa("DSA key".into())),
        Ok(_) => Err(SigError::AlgorithmUnknown(format!("key type {}", spki.algorithm.algorithm.to_id_string()))),
        Err(e) => Err(SigError::CertificateMalformed(format!("public key: {e}"))),
    }
}
