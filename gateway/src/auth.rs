//! Who is calling: bearer tokens matched by their SHA-256 against the members of
//! the configuration. Tokens themselves are never stored.

use std::collections::HashMap;
use std::sync::Arc;

use http::HeaderMap;
use schemas::{AgencyId, MemberId};
use sha2::{Digest, Sha256};

use schemas::pki::SignerBinding;

use crate::config::{Config, Role, SignaturePolicy};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its id.
    pub id: MemberId,
    /// What it is.
    pub role: Role,
    /// For a ministry, the agency it speaks for.
    pub agency: Option<AgencyId>,
    /// Whether its dossiers must be signed.
    pub signature: SignaturePolicy,
    /// The signers that speak for it.
    pub signers: Arc<Vec<SignerBinding>>,
}

/// Token hash to member.
#[derive(Debug, Default)]
pub struct Members {
    by_hash: HashMap<[u8; 32], Member>,
}

/// SHA-256 of a token, as configured in `token_sha256`.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Members {
    /// Builds the lookup from a validated configuration.
    pub fn from_config(config: &Config) -> Self {
        let mut by_hash = HashMap::new();
        for m in &config.members {
            let (Ok(id), Ok(hash)) = (MemberId::parse(&m.id), hex::decode(&m.token_sha256)) else { continue };
            let Ok(hash) = <[u8; 32]>::try_from(hash) else { continue };
            let agency = m.agency.as_deref().and_then(|a| AgencyId::parse(a).ok());
            let signers = Arc::new(m.signers.clone());
            by_hash.insert(hash, Member { id, role: m.role, agency, signature: m.signature, signers });
        }
        Self { by_hash }
    }

    /// The member whose bearer token the request carries, if any.
    pub fn authenticate(&self, headers: &HeaderMap) -> Option<&Member> {
        let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let token = token.trim();
        if token.is_empty() {
            return None;
        }
        // The lookup key is a hash of the token, so the map's comparison does not
        // leak the token's bytes through timing.
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.by_hash.get(&hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> Members {
        let cfg = Config::from_toml(&format!(
            "[[members]]\nid = \"portal-h29\"\nrole = \"portal\"\ntoken_sha256 = \"{}\"\n",
            hash_token("s3cret")
        ))
        .unwrap();
        Members::from_config(&cfg)
    }

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn bearer_token_identifies_the_member() {
        let m = members();
        assert_eq!(m.authenticate(&headers("Bearer s3cret")).unwrap().id.as_str(), "portal-h29");
        assert_eq!(m.authenticate(&headers("bearer s3cret")).unwrap().id.as_str(), "portal-h29");
    }

    #[test]
    fn wrong_missing_or_malformed_credentials_fail_closed() {
        let m = members();
        for bad in ["Bearer wrong", "Bearer ", "Basic s3cret", "s3cret", "Bearer s3cret2", "Bearers3cret"] {
            assert!(m.authenticate(&headers(bad)).is_none(), "{bad:?}");
        }
        assert!(m.authenticate(&HeaderMap::new()).is_none());
    }
}
