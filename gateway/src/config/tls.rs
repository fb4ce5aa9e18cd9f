//! `[server.tls]`: the certificate the gateway serves HTTPS with, the client CAs
//! of mutual TLS, and how they are reloaded; and what validation checks of them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::Config;

/// HTTPS (TLS 1.2 and 1.3 only).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The server's certificate chain, PEM, leaf first.
    pub certificate: PathBuf,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificates (PEM files) that client certificates must chain to. Empty:
    /// no mutual TLS. With CAs, a client certificate is optional at the handshake
    /// (token members send none) but verified whenever one is sent.
    #[serde(default)]
    pub client_ca: Vec<PathBuf>,
    /// How often the files are checked for changes; changed files are loaded
    /// without a restart (a broken new file keeps the old configuration).
    #[serde(default = "default_reload", with = "humantime_serde")]
    pub reload_interval: Duration,
    /// Time a client has to complete the TLS handshake.
    #[serde(default = "default_handshake", with = "humantime_serde")]
    pub handshake_timeout: Duration,
}

fn default_reload() -> Duration {
    Duration::from_secs(10)
}

fn default_handshake() -> Duration {
    Duration::from_secs(10)
}

/// Checks `[server.tls]` and the members that depend on it.
pub(super) fn validate(config: &Config, push: &mut impl FnMut(String, String)) {
    let mtls = config.server.tls.as_ref().is_some_and(|t| !t.client_ca.is_empty());
    if let Some(t) = &config.server.tls {
        for (name, d) in [("reload_interval", t.reload_interval), ("handshake_timeout", t.handshake_timeout)] {
            if d.is_zero() {
                push(format!("server.tls.{name}"), "must be greater than 0".into());
            }
        }
        if config.server.plaintext {
            push("server.plaintext".into(), "cannot be set together with [server.tls]".into());
        }
    }
    for (i, m) in config.members.iter().enumerate() {
        let at = format!("members[{i}]");
        match (&m.token_sha256, &m.client_certificate) {
            (None, None) => push(at, "give token_sha256 or client_certificate".into()),
            (Some(_), Some(_)) => push(
                at,
                "give token_sha256 or client_certificate, not both: a member on mutual TLS has no token".into(),
            ),
            (None, Some(binding)) => {
                if !mtls {
                    push(format!("{at}.client_certificate"), "needs server.tls.client_ca".into());
                }
                if let Err(problems) = binding.validate() {
                    for p in problems {
                        let field = p.field.map(|f| format!(".{f}")).unwrap_or_default();
                        push(format!("{at}.client_certificate{field}"), p.message);
                    }
                }
            }
            (Some(_), None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const TOKEN: &str = "token_sha256 = \"00000000000000000000000000000000000000000000000000000000000000aa\"";
    const CERT: &str = "client_certificate = { subject = \"CN=portal-mtls,C=VN\" }";
    const TLS: &str = "[server.tls]\ncertificate = \"s.pem\"\nkey = \"k.pem\"\n";

    fn errors(text: &str) -> Vec<String> {
        match Config::from_toml(text) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn member(auth: &str) -> String {
        format!("[[members]]\nid = \"p\"\nrole = \"portal\"\n{auth}\n")
    }

    #[test]
    fn a_member_has_a_token_or_a_client_certificate_never_both() {
        let with_ca = format!("{TLS}client_ca = [\"ca.pem\"]\n");
        assert_eq!(errors(&format!("{with_ca}{}", member(CERT))), Vec::<String>::new());
        assert_eq!(errors(&format!("{with_ca}{}", member(TOKEN))), Vec::<String>::new());
        let both = errors(&format!("{with_ca}{}", member(&format!("{TOKEN}\n{CERT}"))));
        assert!(both.iter().any(|e| e.contains("not both")), "{both:?}");
        let neither = errors(&member(""));
        assert!(neither.iter().any(|e| e.contains("token_sha256 or client_certificate")), "{neither:?}");
        let no_ca = errors(&format!("{TLS}{}", member(CERT)));
        assert!(no_ca.iter().any(|e| e.contains("server.tls.client_ca")), "{no_ca:?}");
        let bad = errors(&format!("{with_ca}{}", member("client_certificate = { subject = \"not a name\" }")));
        assert!(bad.iter().any(|e| e.starts_with("members[0].client_certificate.subject")), "{bad:?}");
    }

    #[test]
    fn plain_http_is_served_only_when_asked_for_and_never_with_tls() {
        let none = Config::from_toml("").unwrap();
        assert!(none.serving_problem().unwrap().contains("plaintext = true"));
        let plain = Config::from_toml("[server]\nplaintext = true\n").unwrap();
        assert_eq!(plain.serving_problem(), None);
        let tls = Config::from_toml(TLS).unwrap();
        assert_eq!(tls.serving_problem(), None);
        let both = errors(&TLS.replace("[server.tls]", "[server]\nplaintext = true\n\n[server.tls]"));
        assert!(both.iter().any(|e| e.starts_with("server.plaintext")), "{both:?}");
    }
}
