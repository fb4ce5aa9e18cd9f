//! A signing identity: a private key and the certificate chain that vouches for
//! it, as the gateway (receipts, deliveries) and `lienthong sign` use them.

use std::path::Path;

use ring::rand::SystemRandom;
use ring::signature::{self as rs, EcdsaKeyPair, KeyPair, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};

use super::cert::{CertInfo, Curve, PublicKey};
use crate::dsig::{SigError, SignatureAlgorithm};

/// Why a signing identity could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A file could not be read.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The key is not an unencrypted PKCS#8 RSA (>= 2048) or P-256/P-384 key.
    #[error("private key: {0}")]
    Key(String),
    /// The chain is empty or unreadable.
    #[error("certificate chain: {0}")]
    Chain(String),
    /// The key does not belong to the chain's first certificate.
    #[error("the private key does not match the certificate")]
    Mismatch,
    /// The system's random number generator failed while signing.
    #[error("signing failed: the system random number generator failed")]
    Sign,
    /// The algorithm asked for does not fit the key.
    #[error(transparent)]
    Algorithm(#[from] SigError),
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, Curve),
}

/// A private key with its certificate chain (leaf first) and the algorithm it
/// signs with.
pub struct SigningIdentity {
    pair: Pair,
    chain: Vec<CertificateDer<'static>>,
    leaf: CertInfo,
    alg: SignatureAlgorithm,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningIdentity").field("subject", &self.leaf.subject).field("alg", &self.alg).finish()
    }
}

impl SigningIdentity {
    /// Loads a PKCS#8 PEM key and a PEM chain (leaf first) from files.
    pub fn load(key: &Path, chain: &Path) -> Result<Self, KeyError> {
        let k = std::fs::read(key).map_err(|e| KeyError::Io(key.display().to_string(), e))?;
        let c = std::fs::read(chain).map_err(|e| KeyError::Io(chain.display().to_string(), e))?;
        Self::from_pem(&k, &c)
    }

    /// A key and chain from PEM text; the algorithm is the key's default
    /// (`rsa-sha256`, `ecdsa-sha256` on P-256, `ecdsa-sha384` on P-384).
    pub fn from_pem(key_pem: &[u8], chain_pem: &[u8]) -> Result<Self, KeyError> {
        let key = PrivatePkcs8KeyDer::from_pem_slice(key_pem).map_err(|e| KeyError::Key(e.to_string()))?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| KeyError::Chain(e.to_string()))?;
        let first = chain.first().ok_or_else(|| KeyError::Chain("no certificate".into()))?;
        let leaf = CertInfo::parse(first).map_err(|e| KeyError::Chain(e.to_string()))?;
        let cert_key = leaf.key.clone().map_err(KeyError::Algorithm)?;
        let rng = SystemRandom::new();
        let der = key.secret_pkcs8_der();
        let (pair, alg) = match &cert_key {
            PublicKey::Rsa { der: pubkey, .. } => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| KeyError::Key(e.to_string()))?;
                if pair.public().as_ref() != pubkey.as_slice() {
                    return Err(KeyError::Mismatch);
                }
                (Pair::Rsa(pair), SignatureAlgorithm::RsaPkcs1Sha256)
            }
            PublicKey::Ec { curve, point } => {
                let (params, alg) = match curve {
                    Curve::P256 => (&rs::ECDSA_P256_SHA256_FIXED_SIGNING, SignatureAlgorithm::EcdsaSha256),
                    Curve::P384 => (&rs::ECDSA_P384_SHA384_FIXED_SIGNING, SignatureAlgorithm::EcdsaSha384),
                };
                let pair = EcdsaKeyPair::from_pkcs8(params, der, &rng).map_err(|e| KeyError::Key(e.to_string()))?;
                if pair.public_key().as_ref() != point.as_slice() {
                    return Err(KeyError::Mismatch);
                }
                (Pair::Ec(pair, *curve), alg)
            }
        };
        Ok(Self { pair, chain, leaf, alg, rng })
    }

    /// Chooses the signature algorithm; it must fit the key (RSA: PKCS#1 v1.5 or
    /// PSS with any SHA-2; ECDSA: the curve's own hash).
    pub fn with_algorithm(mut self, alg: SignatureAlgorithm) -> Result<Self, KeyError> {
        let fits = match (&self.pair, alg) {
            (Pair::Rsa(_), a) => a.key_family() == crate::dsig::KeyFamily::Rsa,
            (Pair::Ec(_, Curve::P256), SignatureAlgorithm::EcdsaSha256) => true,
            (Pair::Ec(_, Curve::P384), SignatureAlgorithm::EcdsaSha384) => true,
            _ => false,
        };
        if !fits {
            return Err(KeyError::Algorithm(SigError::KeyMismatch(format!(
                "{} with a {} key",
                alg.name(),
                self.leaf.key.as_ref().map(PublicKey::describe).unwrap_or_default()
            ))));
        }
        self.alg = alg;
        Ok(self)
    }

    /// The algorithm signatures are made with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.alg
    }

    /// The chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The signing certificate.
    pub fn certificate(&self) -> &CertInfo {
        &self.leaf
    }

    /// Signs `message` (ECDSA as the fixed-length `r || s`).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        use SignatureAlgorithm as A;
        match &self.pair {
            Pair::Rsa(pair) => {
                let padding: &'static dyn rs::RsaEncoding = match self.alg {
                    A::RsaPkcs1Sha384 => &rs::RSA_PKCS1_SHA384,
                    A::RsaPkcs1Sha512 => &rs::RSA_PKCS1_SHA512,
                    A::RsaPssSha256 => &rs::RSA_PSS_SHA256,
                    A::RsaPssSha384 => &rs::RSA_PSS_SHA384,
                    A::RsaPssSha512 => &rs::RSA_PSS_SHA512,
                    _ => &rs::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &self.rng, message, &mut sig).map_err(|_| KeyError::Sign)?;
                Ok(sig)
            }
            Pair::Ec(pair, _) => Ok(pair.sign(&self.rng, message).map_err(|_| KeyError::Sign)?.as_ref().to_vec()),
        }
    }
}
