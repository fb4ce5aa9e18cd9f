//! Who is calling: the client certificate of a mutual-TLS connection, matched to
//! the members configured with `client_certificate`, or a bearer token matched by
//! its SHA-256 against the members configured with `token_sha256`. Tokens
//! themselves are never stored, and a member on mutual TLS has no token.

use std::collections::HashMap;
use std::sync::Arc;

use http::HeaderMap;
use schemas::{AgencyId, MemberId};
use sha2::{Digest, Sha256};

use schemas::pki::{CertInfo, SignerBinding};

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
    /// What it may do.
    pub grants: Arc<crate::access::Grants>,
    /// The look-ups it may call (`agency/name`, `agency/*` or `*`).
    pub lookups: Arc<Vec<String>>,
}

/// The verified client certificate of a mutual-TLS connection, put in each of
/// its requests' extensions.
#[derive(Debug, Clone)]
pub struct PeerCertificate(pub Arc<CertInfo>);

/// Token hash to member, and client-certificate bindings to member.
#[derive(Debug, Default)]
pub struct Members {
    by_hash: HashMap<[u8; 32], Member>,
    by_certificate: Vec<(SignerBinding, Member)>,
}

/// SHA-256 of a token, as configured in `token_sha256`.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Members {
    /// Builds the lookup from a validated configuration.
    pub fn from_config(config: &Config) -> Self {
        let (mut by_hash, mut by_certificate) = (HashMap::new(), Vec::new());
        for m in &config.members {
            let Ok(id) = MemberId::parse(&m.id) else { continue };
            let agency = m.agency.as_deref().and_then(|a| AgencyId::parse(a).ok());
            let signers = Arc::new(m.signers.clone());
            let grants = Arc::new(crate::access::Grants::of(m));
            let lookups = Arc::new(m.lookups.clone());
            let member = Member { id, role: m.role, agency, signature: m.signature, signers, grants, lookups };
            match (&m.token_sha256, &m.client_certificate) {
                (Some(token), None) => {
                    let Some(hash) = hex::decode(token).ok().and_then(|h| <[u8; 32]>::try_from(h).ok()) else {
                        continue;
                    };
                    by_hash.insert(hash, member);
                }
                (None, Some(binding)) => by_certificate.push((binding.clone(), member)),
                // Validation refuses both and neither.
                _ => {}
            }
        }
        Self { by_hash, by_certificate }
    }

    /// Whether `id` is a configured member.
    pub fn contains(&self, id: &str) -> bool {
        self.by_hash.values().chain(self.by_certificate.iter().map(|(_, m)| m)).any(|m| m.id.as_str() == id)
    }

    /// The caller: the member its client certificate identifies when the
    /// connection presented one that a member is bound to, else the member whose
    /// bearer token it carries.
    pub fn authenticate(&self, headers: &HeaderMap, peer: Option<&PeerCertificate>) -> Option<&Member> {
        if let Some(PeerCertificate(cert)) = peer {
            if let Some((_, m)) = self.by_certificate.iter().find(|(b, _)| b.matches(cert)) {
                return Some(m);
            }
        }
        self.by_token(headers)
    }

    /// The member whose bearer token the request carries, if any.
    fn by_token(&self, headers: &HeaderMap) -> Option<&Member> {
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
        assert_eq!(m.by_token(&headers("Bearer s3cret")).unwrap().id.as_str(), "portal-h29");
        assert_eq!(m.by_token(&headers("bearer s3cret")).unwrap().id.as_str(), "portal-h29");
    }

    #[test]
    fn wrong_missing_or_malformed_credentials_fail_closed() {
        let m = members();
        for bad in ["Bearer wrong", "Bearer ", "Basic s3cret", "s3cret", "Bearer s3cret2", "Bearers3cret"] {
            assert!(m.by_token(&headers(bad)).is_none(), "{bad:?}");
        }
        assert!(m.by_token(&HeaderMap::new()).is_none());
    }
}
