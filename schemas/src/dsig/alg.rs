//! The algorithm policy: which digest and signature algorithms are accepted, and
//! a distinct refusal for each family that is not.

use super::SigError;

/// A digest algorithm of a `Reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// XMLDSig URI of SHA-256.
pub const SHA256_URI: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// XMLDSig URI of SHA-384.
pub const SHA384_URI: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";
/// XMLDSig URI of SHA-512.
pub const SHA512_URI: &str = "http://www.w3.org/2001/04/xmlenc#sha512";

impl DigestAlgorithm {
    /// The digest named by an XMLDSig `DigestMethod` URI.
    pub fn from_uri(uri: &str) -> Result<Self, SigError> {
        match uri {
            SHA256_URI => Ok(Self::Sha256),
            SHA384_URI => Ok(Self::Sha384),
            SHA512_URI => Ok(Self::Sha512),
            other => Err(refused(other)),
        }
    }

    /// The XMLDSig URI of this digest.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Sha256 => SHA256_URI,
            Self::Sha384 => SHA384_URI,
            Self::Sha512 => SHA512_URI,
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// A short name (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }
}

/// The family of key a signature algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyFamily {
    /// RSA, at least 2048 bits.
    Rsa,
    /// ECDSA on P-256 or P-384.
    Ec,
}

/// A signature algorithm (of `SignatureMethod`, or a JWS `alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`rsa-sha256`, JWS `RS256`).
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, salt of 32 bytes (`sha256-rsa-MGF1`, JWS `PS256`).
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384.
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512.
    RsaPssSha512,
    /// ECDSA with SHA-256 (`ecdsa-sha256`, JWS `ES256`), signature as r || s.
    EcdsaSha256,
    /// ECDSA with SHA-384 (`ecdsa-sha384`, JWS `ES384`), signature as r || s.
    EcdsaSha384,
}

const XMLDSIG_MORE: &str = "http://www.w3.org/2001/04/xmldsig-more#";
const XMLDSIG_MORE_2007: &str = "http://www.w3.org/2007/05/xmldsig-more#";

/// Every accepted signature algorithm.
pub const SIGNATURE_ALGORITHMS: [SignatureAlgorithm; 8] = [
    SignatureAlgorithm::RsaPkcs1Sha256,
    SignatureAlgorithm::RsaPkcs1Sha384,
    SignatureAlgorithm::RsaPkcs1Sha512,
    SignatureAlgorithm::RsaPssSha256,
    SignatureAlgorithm::RsaPssSha384,
    SignatureAlgorithm::RsaPssSha512,
    SignatureAlgorithm::EcdsaSha256,
    SignatureAlgorithm::EcdsaSha384,
];

impl SignatureAlgorithm {
    /// The XMLDSig `SignatureMethod` URI (RFC 6931 for RSA-PSS and ECDSA).
    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaPkcs1Sha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            Self::RsaPkcs1Sha384 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
            Self::RsaPkcs1Sha512 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
            Self::RsaPssSha256 => "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
            Self::RsaPssSha384 => "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
            Self::RsaPssSha512 => "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
            Self::EcdsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
            Self::EcdsaSha384 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        }
    }

    /// The JWS `alg` value (RFC 7518).
    pub fn jws_name(self) -> &'static str {
        match self {
            Self::RsaPkcs1Sha256 => "RS256",
            Self::RsaPkcs1Sha384 => "RS384",
            Self::RsaPkcs1Sha512 => "RS512",
            Self::RsaPssSha256 => "PS256",
            Self::RsaPssSha384 => "PS384",
            Self::RsaPssSha512 => "PS512",
            Self::EcdsaSha256 => "ES256",
            Self::EcdsaSha384 => "ES384",
        }
    }

    /// The algorithm named by an XMLDSig `SignatureMethod` URI.
    pub fn from_uri(uri: &str) -> Result<Self, SigError> {
        SIGNATURE_ALGORITHMS.into_iter().find(|a| a.uri() == uri).ok_or_else(|| refused(uri))
    }

    /// The algorithm named by a JWS `alg`.
    pub fn from_jws(name: &str) -> Result<Self, SigError> {
        if let Some(a) = SIGNATURE_ALGORITHMS.into_iter().find(|a| a.jws_name() == name) {
            return Ok(a);
        }
        Err(match name {
            "none" => SigError::AlgorithmNone,
            "HS256" | "HS384" | "HS512" => SigError::AlgorithmHmac(name.to_owned()),
            "ES512" => SigError::AlgorithmUnknown(name.to_owned()),
            _ if name.contains("SHA1") || name.ends_with("1") => SigError::AlgorithmSha1(name.to_owned()),
            _ => SigError::AlgorithmUnknown(name.to_owned()),
        })
    }

    /// The key family this algorithm needs.
    pub fn key_family(self) -> KeyFamily {
        match self {
            Self::EcdsaSha256 | Self::EcdsaSha384 => KeyFamily::Ec,
            _ => KeyFamily::Rsa,
        }
    }

    /// The digest the algorithm hashes with.
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            Self::RsaPkcs1Sha256 | Self::RsaPssSha256 | Self::EcdsaSha256 => DigestAlgorithm::Sha256,
            Self::RsaPkcs1Sha384 | Self::RsaPssSha384 | Self::EcdsaSha384 => DigestAlgorithm::Sha384,
            Self::RsaPkcs1Sha512 | Self::RsaPssSha512 => DigestAlgorithm::Sha512,
        }
    }

    /// A short name (`rsa-sha256`, `rsa-pss-sha256`, `ecdsa-sha256`), as the
    /// command line names them.
    pub fn name(self) -> &'static str {
        match self {
            Self::RsaPkcs1Sha256 => "rsa-sha256",
            Self::RsaPkcs1Sha384 => "rsa-sha384",
            Self::RsaPkcs1Sha512 => "rsa-sha512",
            Self::RsaPssSha256 => "rsa-pss-sha256",
            Self::RsaPssSha384 => "rsa-pss-sha384",
            Self::RsaPssSha512 => "rsa-pss-sha512",
            Self::EcdsaSha256 => "ecdsa-sha256",
            Self::EcdsaSha384 => "ecdsa-sha384",
        }
    }

    /// The algorithm with a short name.
    pub fn from_name(name: &str) -> Option<Self> {
        SIGNATURE_ALGORITHMS.into_iter().find(|a| a.name() == name)
    }
}

/// The refusal for an algorithm URI that is not accepted: its family's own
/// error when it is a known weak family, [`SigError::AlgorithmUnknown`] otherwise.
pub(crate) fn refused(uri: &str) -> SigError {
    let frag = uri.rsplit('#').next().unwrap_or(uri).to_ascii_lowercase();
    let known_base = uri.starts_with("http://www.w3.org/2000/09/xmldsig#")
        || uri.starts_with(XMLDSIG_MORE)
        || uri.starts_with(XMLDSIG_MORE_2007)
        || uri.starts_with("http://www.w3.org/2001/04/xmlenc#")
        || uri.starts_with("http://www.w3.org/2009/xmldsig11#");
    if !known_base {
        return SigError::AlgorithmUnknown(uri.to_owned());
    }
    if frag.starts_with("hmac-") {
        SigError::AlgorithmHmac(uri.to_owned())
    } else if frag.starts_with("dsa-") {
        SigError::AlgorithmDsa(uri.to_owned())
    } else if frag.contains("md5") {
        SigError::AlgorithmMd5(uri.to_owned())
    } else if frag == "sha1" || frag.ends_with("-sha1") || frag.starts_with("sha1-") {
        SigError::AlgorithmSha1(uri.to_owned())
    } else {
        SigError::AlgorithmUnknown(uri.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_families_each_have_their_refusal() {
        let code = |uri: &str| SignatureAlgorithm::from_uri(uri).unwrap_err().code();
        assert_eq!(code("http://www.w3.org/2000/09/xmldsig#rsa-sha1"), "signature_algorithm_sha1");
        assert_eq!(code("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"), "signature_algorithm_sha1");
        assert_eq!(code("http://www.w3.org/2000/09/xmldsig#dsa-sha1"), "signature_algorithm_dsa");
        assert_eq!(code("http://www.w3.org/2009/xmldsig11#dsa-sha256"), "signature_algorithm_dsa");
        assert_eq!(code("http://www.w3.org/2000/09/xmldsig#hmac-sha1"), "signature_algorithm_hmac");
        assert_eq!(code("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"), "signature_algorithm_hmac");
        assert_eq!(code("http://www.w3.org/2001/04/xmldsig-more#rsa-md5"), "signature_algorithm_md5");
        assert_eq!(code("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"), "signature_algorithm_unknown");
        assert_eq!(code("urn:example:rsa-sha1"), "signature_algorithm_unknown");
        let digest = |uri: &str| DigestAlgorithm::from_uri(uri).unwrap_err().code();
        assert_eq!(digest("http://www.w3.org/2000/09/xmldsig#sha1"), "signature_algorithm_sha1");
        assert_eq!(digest("http://www.w3.org/2001/04/xmldsig-more#md5"), "signature_algorithm_md5");
        assert_eq!(digest("http://www.w3.org/2001/04/xmldsig-more#sha224"), "signature_algorithm_unknown");
    }

    #[test]
    fn names_round_trip() {
        for a in SIGNATURE_ALGORITHMS {
            assert_eq!(SignatureAlgorithm::from_uri(a.uri()).unwrap(), a);
            assert_eq!(SignatureAlgorithm::from_jws(a.jws_name()).unwrap(), a);
            assert_eq!(SignatureAlgorithm::from_name(a.name()), Some(a));
        }
        assert_eq!(SignatureAlgorithm::from_jws("none").unwrap_err().code(), "signature_algorithm_none");
        assert_eq!(SignatureAlgorithm::from_jws("HS256").unwrap_err().code(), "signature_algorithm_hmac");
        assert_eq!(SignatureAlgorithm::from_jws("EdDSA").unwrap_err().code(), "signature_algorithm_unknown");
    }
}
