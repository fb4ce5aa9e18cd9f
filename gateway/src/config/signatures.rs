//! The `[signatures]` section and members' signature settings: trust anchors,
//! CRLs and their refresh, the revocation policy, which dossiers must be signed,
//! and the gateway's own signing key; and what validation checks of them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{AgencyConfig, Config};

/// Digital signatures.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignaturesConfig {
    /// Trusted root certificates: PEM files, or directories whose `*.pem` and
    /// `*.crt` files are loaded. Several roots may be trusted at once (old and
    /// re-issued national roots, the Government CA). Empty: no signature can verify.
    pub trust_anchors: Vec<PathBuf>,
    /// CRLs (PEM or DER): files, or directories whose `*.pem`, `*.crl` and `*.der`
    /// files are loaded. Re-read every `crl_refresh`.
    pub crls: Vec<PathBuf>,
    /// How often the CRL files are re-read (an external job downloads them).
    #[serde(with = "humantime_serde")]
    pub crl_refresh: Duration,
    /// `require`: every certificate below a root must be covered by a current CRL
    /// of its issuer (fails closed); `best_effort`: check the CRLs there are.
    pub revocation: RevocationMode,
    /// How far in the future a signer's claimed signing time may be.
    #[serde(with = "humantime_serde")]
    pub max_clock_skew: Duration,
    /// Procedures whose dossiers must be signed whoever sends them: exact codes, or
    /// prefixes ending in `*` (`"2.*"`).
    pub required_for_procedures: Vec<String>,
    /// The gateway's own private key (PKCS#8 PEM), with which receipts are signed.
    pub key: Option<PathBuf>,
    /// The gateway's certificate chain (PEM, leaf first, no root).
    pub certificate_chain: Option<PathBuf>,
    /// The algorithm the gateway signs with (`ecdsa-sha256`, `rsa-pss-sha256`, ...);
    /// the key's default when unset.
    pub algorithm: Option<String>,
}

impl Default for SignaturesConfig {
    fn default() -> Self {
        Self {
            trust_anchors: Vec::new(),
            crls: Vec::new(),
            crl_refresh: Duration::from_secs(300),
            revocation: RevocationMode::Require,
            max_clock_skew: Duration::from_secs(300),
            required_for_procedures: Vec::new(),
            key: None,
            certificate_chain: None,
            algorithm: None,
        }
    }
}

/// How revocation status is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationMode {
    /// A current CRL must cover every certificate below the root.
    Require,
    /// The CRLs that are loaded are checked; missing or stale ones are tolerated.
    BestEffort,
}

impl RevocationMode {
    /// The trust store's policy for this mode.
    pub fn policy(self) -> schemas::pki::RevocationPolicy {
        match self {
            Self::Require => schemas::pki::RevocationPolicy::Require,
            Self::BestEffort => schemas::pki::RevocationPolicy::BestEffort,
        }
    }
}

/// Whether a member's dossiers must be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignaturePolicy {
    /// Unsigned dossiers are refused with 422 `signature_required`.
    Required,
    /// Unsigned dossiers are accepted (unless their procedure requires a
    /// signature); signed ones are verified all the same.
    #[default]
    Optional,
}

/// Checks the signature settings, reporting each problem through `push`.
pub(super) fn validate(config: &Config, push: &mut impl FnMut(String, String)) {
    let sig = &config.signatures;
    for (id, agency) in &config.agencies {
        if matches!(agency, AgencyConfig::Moit(c) if c.sign_requests) && sig.key.is_none() {
            push(format!("agencies.{id}.sign_requests"), "needs the gateway's signing key (signatures.key)".into());
        }
    }
    if sig.key.is_some() != sig.certificate_chain.is_some() {
        push("signatures".into(), "give both key and certificate_chain, or neither".into());
    }
    if let Some(a) = &sig.algorithm {
        if schemas::dsig::SignatureAlgorithm::from_name(a).is_none() {
            push("signatures.algorithm".into(), format!("unknown algorithm {a}"));
        }
    }
    if sig.crl_refresh.is_zero() {
        push("signatures.crl_refresh".into(), "must be greater than 0".into());
    }
    for (j, p) in sig.required_for_procedures.iter().enumerate() {
        let ok = match p.strip_suffix('*') {
            Some(prefix) => prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'),
            None => schemas::MaTTHC::parse(p).is_ok(),
        };
        if !ok {
            push(
                format!("signatures.required_for_procedures[{j}]"),
                "must be a procedure code or a prefix ending in *".into(),
            );
        }
    }
    let needs_trust = !sig.required_for_procedures.is_empty()
        || config.members.iter().any(|m| m.signature == SignaturePolicy::Required || !m.signers.is_empty());
    if needs_trust && sig.trust_anchors.is_empty() {
        push(
            "signatures.trust_anchors".into(),
            "signatures are required or signers are bound, so at least one trust anchor must be configured".into(),
        );
    }
    for (i, m) in config.members.iter().enumerate() {
        if m.signature == SignaturePolicy::Required && m.signers.is_empty() {
            push(
                format!("members[{i}].signers"),
                "a member whose dossiers must be signed needs at least one signer".into(),
            );
        }
        for (j, b) in m.signers.iter().enumerate() {
            // A field that does not validate would match nobody: say so here.
            for p in b.validate().err().unwrap_or_default() {
                let at = match p.field {
                    Some(field) => format!("members[{i}].signers[{j}].{field}"),
                    None => format!("members[{i}].signers[{j}]"),
                };
                push(at, p.message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn problems(toml: &str) -> Vec<String> {
        match Config::from_toml(toml) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(|e| format!("{}: {}", e.location, e.message)).collect(),
        }
    }

    const MEMBER: &str = "[[members]]\nid = \"p\"\nrole = \"portal\"\ntoken_sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n";

    #[test]
    fn a_required_signature_needs_signers_and_a_trust_store() {
        let got = problems(&format!("{MEMBER}signature = \"required\"\n"));
        assert!(got.iter().any(|p| p.starts_with("members[0].signers:")), "{got:?}");
        assert!(got.iter().any(|p| p.starts_with("signatures.trust_anchors:")), "{got:?}");
        let ok = format!(
            "{MEMBER}signature = \"required\"\n[[members.signers]]\norganisation = \"UBND\"\n[signatures]\ntrust_anchors = [\"roots\"]\n"
        );
        assert_eq!(problems(&ok), Vec::<String>::new());
    }

    #[test]
    fn bad_signature_settings_are_each_reported_with_their_place() {
        let got = problems(&format!(
            "{MEMBER}[[members.signers]]\nspki_sha256 = \"abc\"\n[[members.signers]]\n[signatures]\ntrust_anchors = [\"r\"]\nkey = \"k.pem\"\nalgorithm = \"rsa-sha1\"\nrequired_for_procedures = [\"not a code\", \"2.*\", \"1.001193\"]\ncrl_refresh = \"0s\"\n"
        ));
        for want in [
            "members[0].signers[0].spki_sha256:",
            "members[0].signers[1]:",
            "signatures:",
            "signatures.algorithm:",
            "signatures.required_for_procedures[0]:",
            "signatures.crl_refresh:",
        ] {
            assert!(got.iter().any(|p| p.starts_with(want)), "{want} not in {got:?}");
        }
        assert_eq!(got.len(), 6, "{got:?}");
    }

    #[test]
    fn a_signer_subject_must_be_an_rfc4514_name() {
        let trust = "[signatures]\ntrust_anchors = [\"r\"]\n";
        for bad in ["", "portal-hanoi", "CN", "XX=portal-hanoi", "CN=portal-hanoi\\\\", "CN=a;O=b"] {
            let got = problems(&format!("{MEMBER}[[members.signers]]\nsubject = \"{bad}\"\n{trust}"));
            assert_eq!(got.len(), 1, "{bad:?}: {got:?}");
            assert!(got[0].starts_with("members[0].signers[0].subject: not an RFC 4514"), "{bad:?}: {got:?}");
        }
        let got = problems(&format!(
            "{MEMBER}[[members.signers]]\norganisation = \"UBND\"\n[[members.signers]]\nsubject = \"CN\"\norganisation = \"\"\n{trust}"
        ));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("members[0].signers[1].subject:"), "{got:?}");
        assert!(got[1].starts_with("members[0].signers[1].organisation:"), "{got:?}");
        for good in ["CN=portal-hanoi,O=UBND Thành phố Hà Nội,C=VN", "cn=portal-hanoi, 2.5.4.10=UBND , C=VN"] {
            let ok = format!("{MEMBER}[[members.signers]]\nsubject = \"{good}\"\n{trust}");
            assert_eq!(problems(&ok), Vec::<String>::new(), "{good:?}");
        }
    }
}
