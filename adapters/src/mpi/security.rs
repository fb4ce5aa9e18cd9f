//! WS-Security `UsernameToken` for MPI: username, password as text, a nonce and
//! the creation time, fresh for every request.
//!
//! The password travels as `PasswordText` rather than `PasswordDigest`: the digest
//! is Base64(SHA-1(nonce + created + password)), which rests on SHA-1 and forces
//! MPI to keep every password in clear to recompute it; the text form is protected
//! by TLS (required outside loopback, see [`MpiConfig`](super::MpiConfig)) and lets
//! MPI keep only a strong hash. Nonce and `wsu:Created` still let MPI refuse a
//! replayed or stale header. `schemas/agencies/mpi/README.md` gives the reasoning.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, SubsecRound, Utc};

use super::wire::{BASE64_BINARY, PASSWORD_TEXT, WSSE_NS, WSU_NS};
use super::xml::{WriteError, XmlWriter};

/// One `wsse:UsernameToken`. The nonce and time are injectable so that golden
/// files are deterministic; [`UsernameToken::fresh`] makes the ones sent.
#[derive(Clone, PartialEq, Eq)]
pub struct UsernameToken {
    /// The account name.
    pub username: String,
    password: String,
    /// Sixteen random bytes, sent in Base64.
    pub nonce: [u8; 16],
    /// When the token was made (`wsu:Created`), to the second.
    pub created: DateTime<Utc>,
}

impl fmt::Debug for UsernameToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsernameToken")
            .field("username", &self.username)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl UsernameToken {
    /// A token with the given nonce and creation time.
    pub fn new(username: &str, password: &str, nonce: [u8; 16], created: DateTime<Utc>) -> Self {
        Self { username: username.to_owned(), password: password.to_owned(), nonce, created: created.trunc_subsecs(0) }
    }

    /// A token with a random nonce, created now.
    pub fn fresh(username: &str, password: &str) -> Self {
        Self::new(username, password, rand::random(), Utc::now())
    }

    /// `wsu:Created` as sent: UTC, to the second, with `Z`.
    pub fn created_text(&self) -> String {
        self.created.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// `wsse:Nonce` as sent.
    pub fn nonce_text(&self) -> String {
        base64(&self.nonce)
    }

    /// Writes the `wsse:Security` header block (prefixes `soap`, `wsse` and `wsu`
    /// are declared on the envelope).
    pub(crate) fn write(&self, w: &mut XmlWriter) -> Result<(), WriteError> {
        w.open("wsse:Security", &[("soap:mustUnderstand", "1")]);
        w.open("wsse:UsernameToken", &[("wsu:Id", "UsernameToken-1")]);
        w.leaf("wsse:Username", &self.username)?;
        w.leaf_with("wsse:Password", &[("Type", PASSWORD_TEXT)], &self.password)?;
        w.leaf_with("wsse:Nonce", &[("EncodingType", BASE64_BINARY)], &self.nonce_text())?;
        w.leaf("wsu:Created", &self.created_text())?;
        w.close("wsse:UsernameToken");
        w.close("wsse:Security");
        Ok(())
    }
}

/// The namespaces a token needs declared on the envelope.
pub(crate) const TOKEN_NAMESPACES: [(&str, &str); 2] = [("xmlns:wsse", WSSE_NS), ("xmlns:wsu", WSU_NS)];

/// Standard Base64 with padding (RFC 4648 §4).
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard Base64 with padding; `None` when it is not.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (raw, enc) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy")]
        {
            assert_eq!(base64(raw.as_bytes()), enc);
            assert_eq!(base64_decode(enc).as_deref(), Some(raw.as_bytes()));
        }
        for bad in ["Zg=", "Z===", "Zg==Zg==", "Zm9*"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_password_and_times_are_whole_seconds() {
        let created = DateTime::parse_from_rfc3339("2026-06-09T01:05:00.789Z").unwrap().to_utc();
        let t = UsernameToken::new("u", "secret", [0; 16], created);
        assert!(!format!("{t:?}").contains("secret"));
        assert_eq!(t.created_text(), "2026-06-09T01:05:00Z");
        assert_eq!(t.nonce_text(), "AAAAAAAAAAAAAAAAAAAAAA==");
        assert_ne!(UsernameToken::fresh("u", "p").nonce, UsernameToken::fresh("u", "p").nonce);
    }
}
