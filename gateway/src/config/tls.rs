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
