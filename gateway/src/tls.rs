//! HTTPS: the rustls server configuration built from `[server.tls]` (TLS 1.2 and
//! 1.3 only, ALPN h2 and http/1.1, client certificates verified against the
//! client CAs when sent), and its reload when the files change.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

use crate::config::TlsConfig;
use crate::metrics::Metrics;

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[error("tls: {0}")]
pub struct TlsError(pub(crate) String);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The PEM certificates of `path`; none at all is an error.
pub(crate) fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsError(format!("{}: {e}", path.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TlsError(format!("{}: no certificate", path.display())));
    }
    Ok(certs)
}

/// Builds the server configuration from the files `config` names.
pub fn server_config(config: &TlsConfig) -> Result<ServerConfig, TlsError> {
    let chain = certificates(&config.certificate)?;
    let key =
        PrivateKeyDer::from_pem_file(&config.key).map_err(|e| TlsError(format!("{}: {e}", config.key.display())))?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError(e.to_string()))?;
    let builder = if config.client_ca.is_empty() {
        builder.with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        for path in &config.client_ca {
            for cert in certificates(path)? {
                roots.add(cert).map_err(|e| TlsError(format!("{}: {e}", path.display())))?;
            }
        }
        // Token members connect without a certificate; any certificate that is
        // sent must chain to a client CA, or the handshake fails.
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .allow_unauthenticated()
            .build()
            .map_err(|e| TlsError(e.to_string()))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut server = builder.with_single_cert(chain, key).map_err(|e| TlsError(e.to_string()))?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(server)
}

/// The current TLS configuration, replaced when its files change.
pub struct TlsReloader {
    config: TlsConfig,
    current: RwLock<Arc<ServerConfig>>,
    /// The files' modification times when last loaded, and the times seen at
    /// the last check when they differed (a change is loaded once it has held
    /// for a whole interval, so a certificate and key written one after the
    /// other are loaded together).
    stamps: RwLock<(Stamps, Option<Stamps>)>,
    /// When the certificate in use expires (seconds since the epoch).
    not_after: std::sync::atomic::AtomicI64,
}

/// When the first certificate of `config.certificate` expires.
fn leaf_not_after(config: &TlsConfig) -> i64 {
    certificates(&config.certificate)
        .ok()
        .and_then(|c| c.first().and_then(|der| schemas::pki::CertInfo::parse(der.as_ref()).ok()))
        .map_or(0, |c| c.not_after)
}

type Stamps = Vec<Option<SystemTime>>;

fn files(config: &TlsConfig) -> Vec<PathBuf> {
    let mut out = vec![config.certificate.clone(), config.key.clone()];
    out.extend(config.client_ca.iter().cloned());
    out
}

fn stamps(config: &TlsConfig) -> Stamps {
    files(config).iter().map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok()).collect()
}

impl TlsReloader {
    /// Loads the configuration once; fails when the files cannot be used.
    pub fn new(config: TlsConfig) -> Result<Self, TlsError> {
        let server = server_config(&config)?;
        let stamps = stamps(&config);
        let not_after = leaf_not_after(&config).into();
        Ok(Self { config, current: RwLock::new(Arc::new(server)), stamps: RwLock::new((stamps, None)), not_after })
    }

    /// When the server certificate in use expires, seconds since the epoch.
    pub fn not_after(&self) -> i64 {
        self.not_after.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// An acceptor with the current configuration.
    pub fn acceptor(&self) -> TlsAcceptor {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner()).clone();
        TlsAcceptor::from(current)
    }

    /// Reloads when the files changed since the last load and have not changed
    /// since the previous check. Files that cannot be used keep the previous
    /// configuration.
    pub fn reload_if_changed(&self, metrics: &Metrics) {
        let now = stamps(&self.config);
        {
            let mut guard = self.stamps.write().unwrap_or_else(|p| p.into_inner());
            let (loaded, seen) = &mut *guard;
            if *loaded == now {
                *seen = None;
                return;
            }
            if seen.as_ref() != Some(&now) {
                *seen = Some(now);
                return;
            }
            *loaded = now;
            *seen = None;
        }
        match server_config(&self.config) {
            Ok(server) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(server);
                let not_after = leaf_not_after(&self.config);
                self.not_after.store(not_after, std::sync::atomic::Ordering::Relaxed);
                metrics.certificate_expiry.with_label_values(&["tls", "server"]).set(not_after);
                metrics.tls_reloads.with_label_values(&["ok"]).inc();
                info!("TLS certificate and client CAs reloaded");
            }
            Err(e) => {
                metrics.tls_reloads.with_label_values(&["error"]).inc();
                warn!(error = %e, "TLS files changed but cannot be used; the previous configuration stays");
            }
        }
    }

    /// Checks the files every `reload_interval` until `shutdown`.
    pub async fn watch(self: Arc<Self>, metrics: Metrics, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.config.reload_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => self.reload_if_changed(&metrics),
                _ = shutdown.changed() => return,
            }
        }
    }
}
