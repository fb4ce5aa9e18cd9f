//! Assembling and running a gateway: store, adapters, server and worker.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use adapters::dvcqg::DvcqgAdapter;
use adapters::{Adapter, AgencyClient, ClientSettings, ClientTls};
use schemas::AgencyId;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::auth::Members;
use crate::config::StatusConfig;
use crate::config::{AgencyConfig, Config, OutgoingTls};
use crate::delivery::{Adapters, DeliveryWorker};
use crate::metrics::Metrics;
use crate::poller::StatusPoller;
use crate::routing::RoutingTable;
use crate::server::{self, AppState};
use crate::status::StatusDesk;
use crate::store::{SqliteStore, Store, StoreError};

/// How often the per-agency backlog is read from the store.
const BACKLOG_REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Why a gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP client for agencies could not be built.
    #[error("http client: {0}")]
    Client(String),
    /// An agency id in the configuration is invalid.
    #[error("agency {0}: invalid id")]
    Agency(String),
    /// The trust store or the signing key could not be loaded.
    #[error(transparent)]
    Signatures(#[from] crate::signatures::SignaturesError),
    /// The TLS certificate, key or client CAs could not be loaded.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// Neither TLS nor plain HTTP is configured.
    #[error("{0}")]
    Insecure(String),
}

/// A running gateway.
pub struct Gateway {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its shared state (store, metrics, configuration).
    pub state: Arc<AppState>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<()>,
    worker: JoinHandle<()>,
    /// Signs the message log's head; stopped after the worker, so the last
    /// attempts are signed too.
    signer: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

/// The HTTP client settings every agency shares: timeouts, pool, user agent.
fn client_settings(config: &Config) -> ClientSettings {
    ClientSettings {
        timeout: config.delivery.request_timeout,
        connect_timeout: config.delivery.connect_timeout,
        pool_idle_timeout: std::time::Duration::from_secs(90),
        ..ClientSettings::default()
    }
}

/// A client for an agency with its own trust anchors and client certificate.
fn agency_client(config: &Config, agency: &str, tls: &OutgoingTls) -> Result<AgencyClient, StartError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::PrivateKeyDer;
    let fail = |what: String| StartError::Client(format!("delivery.agencies.{agency}.tls: {what}"));
    let certificates = |p: &std::path::Path| crate::tls::certificates(p).map_err(|e| fail(e.0));
    let mut roots = None;
    if !tls.ca.is_empty() {
        let mut all = Vec::new();
        for path in &tls.ca {
            all.extend(certificates(path)?);
        }
        roots = Some(all);
    }
    let identity = match (&tls.client_certificate, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| fail(format!("{}: {e}", key.display())))?;
            Some((certificates(cert)?, key))
        }
        _ => None,
    };
    AgencyClient::with_tls(client_settings(config), ClientTls { roots, identity }).map_err(|e| fail(e.to_string()))
}

/// Builds one adapter per configured agency, sharing one connection pool (an
/// agency with its own TLS settings gets its own).
pub fn build_adapters(config: &Config) -> Result<Adapters, StartError> {
    let shared = AgencyClient::new(client_settings(config)).map_err(|e| StartError::Client(e.to_string()))?;
    let mut adapters: Adapters = HashMap::new();
    for (id, agency) in &config.agencies {
        let agency_id = AgencyId::parse(id).map_err(|_| StartError::Agency(id.clone()))?;
        let client = match config.delivery.agencies.get(id).and_then(|d| d.tls.as_ref()) {
            Some(tls) => agency_client(config, id, tls)?,
            None => shared.clone(),
        };
        let adapter: Arc<dyn Adapter> = match agency {
            AgencyConfig::Dvcqg(c) => Arc::new(DvcqgAdapter::new(agency_id.clone(), c.clone(), client.clone())),
            AgencyConfig::Moj(c) => {
                Arc::new(adapters::moj::MojAdapter::new(agency_id.clone(), c.clone(), client.clone()))
            }
            AgencyConfig::Mpi(c) => {
                Arc::new(adapters::mpi::MpiAdapter::new(agency_id.clone(), c.clone(), client.clone()))
            }
            AgencyConfig::Moit(c) => {
                Arc::new(adapters::moit::MoitAdapter::new(agency_id.clone(), c.clone(), client.clone()))
            }
        };
        adapters.insert(agency_id, adapter);
    }
    Ok(adapters)
}

/// Opens the configured store: PostgreSQL when `store.url` (or `url_file`) is
/// set, else the embedded SQLite file; migrations are applied.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    if config.store.is_postgres() {
        Ok(Arc::new(crate::store::PostgresStore::open_async(&config.store).await?))
    } else {
        let path = config.database_path();
        let store =
            tokio::task::spawn_blocking(move || SqliteStore::open(&path)).await.map_err(|_| StoreError::Closed)?;
        Ok(Arc::new(store?))
    }
}

impl Gateway {
    /// Opens the store, binds the listener and starts serving and delivering.
    pub async fn start(config: Config) -> Result<Gateway, StartError> {
        let store = open_store(&config).await?;
        Self::start_with_store(config, store).await
    }

    /// Like [`Gateway::start`], with a store the caller opened.
    pub async fn start_with_store(config: Config, store: Arc<dyn Store>) -> Result<Gateway, StartError> {
        if let Some(problem) = config.serving_problem() {
            return Err(StartError::Insecure(problem));
        }
        let tls = match &config.server.tls {
            Some(t) => Some(Arc::new(crate::tls::TlsReloader::new(t.clone())?)),
            None => None,
        };
        let adapters = Arc::new(build_adapters(&config)?);
        let signatures = Arc::new(crate::signatures::Signatures::from_config(&config)?);
        let addr = config.server.listen;
        let listener = TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen { addr, source })?;
        let metrics = Metrics::new();
        if let Some(store) = signatures.trust() {
            for a in store.anchors() {
                let name = a.common_name.clone().unwrap_or_else(|| a.subject.clone());
                metrics.certificate_expiry.with_label_values(&["anchor", &name]).set(a.not_after);
            }
        }
        if let Some(id) = signatures.identity() {
            metrics.certificate_expiry.with_label_values(&["gateway", "gateway"]).set(id.certificate().not_after);
        }
        if let Some(t) = &tls {
            metrics.certificate_expiry.with_label_values(&["tls", "server"]).set(t.not_after());
        }
        initialise_series(&metrics, &config, &adapters);
        let wake = Arc::new(Notify::new());
        let hub = Arc::new(crate::feed::FeedHub::default());
        store.listen_feeds(hub.clone());
        let desk = Arc::new(StatusDesk::new(&config, store.clone(), hub, wake.clone(), metrics.clone()));
        let backlog = Arc::new(crate::limits::Backlog::new(&config));
        let state = Arc::new(AppState {
            members: crate::reload::Reloadable::new(Members::from_config(&config)),
            routes: crate::reload::Reloadable::new(RoutingTable::from_config(&config)),
            adapters: adapters.clone(),
            store: store.clone(),
            metrics: metrics.clone(),
            wake: wake.clone(),
            shutting_down: Default::default(),
            signatures: signatures.clone(),
            status: desk.clone(),
            limits: crate::reload::Reloadable::new(crate::limits::MemberLimits::new(&config, metrics.clone())),
            backlog: backlog.clone(),
            tls: tls.clone(),
            requests: Arc::new(tokio::sync::Semaphore::new(config.server.max_requests)),
            evidence: Arc::new(crate::audit::Evidence::default()),
            config: config.clone(),
        });
        let signer = signatures.identity().is_some().then(|| {
            let (stop, stopped) = watch::channel(false);
            let signer = crate::audit::HeadSigner {
                store: store.clone(),
                signatures: signatures.clone(),
                config: config.audit.clone(),
                evidence: state.evidence.clone(),
                metrics: metrics.clone(),
            };
            (stop, tokio::spawn(signer.run(stopped)))
        });
        let (tx, rx) = watch::channel(false);
        tokio::spawn(signatures.clone().refresh_crls(metrics.clone(), rx.clone()));
        for (agency, every) in config.status.poll_intervals() {
            let Some((agency, adapter)) = AgencyId::parse(agency)
                .ok()
                .and_then(|a| adapters.get(&a).map(|ad| (a, ad.clone())))
                .filter(|(_, ad)| ad.polls_status())
            else {
                continue;
            };
            let poller = StatusPoller {
                agency,
                adapter,
                every,
                config: config.status.clone(),
                store: store.clone(),
                desk: desk.clone(),
                metrics: metrics.clone(),
                evidence: state.evidence.clone(),
            };
            tokio::spawn(poller.run(rx.clone()));
        }
        if let Some(tls) = tls {
            tokio::spawn(tls.watch(metrics.clone(), rx.clone()));
        }
        tokio::spawn(backlog.refresh(store.clone(), metrics.clone(), BACKLOG_REFRESH, rx.clone()));
        tokio::spawn(prune_feeds(store.clone(), config.status.clone(), rx.clone()));
        tokio::spawn(crate::audit::prune(store.clone(), config.audit.clone(), rx.clone()));
        let server = tokio::spawn(server::serve(listener, state.clone(), rx.clone()));
        let worker = DeliveryWorker {
            store,
            adapters,
            config: config.delivery.shared_by(config.store.replicas),
            metrics,
            wake,
            signer: signatures,
            backlog: state.backlog.clone(),
            feeds: state.status.hub().clone(),
        };
        let worker = tokio::spawn(worker.run(rx));
        Ok(Gateway { addr, state, shutdown: tx, server, worker, signer })
    }

    /// Applies a new configuration's reloadable parts (members, tokens and
    /// grants, routes, rate limits) and re-reads the CRL files. A configuration
    /// that does not validate, or that changes a section which cannot change
    /// while serving, changes nothing.
    pub async fn reload(
        &self,
        new: Result<Config, crate::config::ConfigErrors>,
    ) -> Result<crate::reload::ReloadReport, String> {
        let metrics = &self.state.metrics;
        let new = match new {
            Ok(c) => c,
            Err(e) => {
                metrics.config_reloads.with_label_values(&["error"]).inc();
                tracing::error!(errors = %e, "the new configuration is invalid; nothing was changed");
                return Err(e.to_string());
            }
        };
        let st = &self.state;
        // A change that needs a restart is refused whole: applying only its
        // reloadable half (a route to an agency not yet built, a member bound to
        // trust anchors not yet loaded) would leave the gateway inconsistent.
        let need_restart = crate::reload::needs_restart(&st.config, &new);
        if !need_restart.is_empty() {
            metrics.config_reloads.with_label_values(&["error"]).inc();
            tracing::error!(sections = ?need_restart, "these sections changed and need a restart; nothing was reloaded");
            return Err(format!("{} changed and need a restart; nothing was reloaded", need_restart.join(", ")));
        }
        st.members.set(Members::from_config(&new));
        st.routes.set(RoutingTable::from_config(&new));
        let limits = st.limits.get().reloaded(&new);
        st.limits.set(limits);
        st.status.reload(&new);
        let mut applied = vec!["members", "routes", "limits"];
        if let (Some(trust), false) = (st.signatures.trust(), st.config.signatures.crls.is_empty()) {
            let (trust, paths) = (trust.clone(), st.config.signatures.crls.clone());
            match tokio::task::spawn_blocking(move || trust.reload_crls(&paths)).await {
                Ok(Ok(_)) => applied.push("crls"),
                Ok(Err(e)) => tracing::warn!(error = %e, "CRL reload failed; the previous CRLs stay in force"),
                Err(e) => tracing::warn!(error = %e, "CRL reload task failed"),
            }
        }
        metrics.config_reloads.with_label_values(&["ok"]).inc();
        tracing::info!(applied = ?applied, "configuration reloaded");
        Ok(crate::reload::ReloadReport { applied })
    }

    /// The base URL, such as `http://127.0.0.1:8080` (`https://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.state.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests and deliveries finish within their
    /// deadlines, and returns. Undelivered dossiers stay queued in the store.
    pub async fn shutdown(self) {
        self.state.shutting_down.store(true, Ordering::Relaxed);
        // Long-polls answer now rather than hold the shutdown for their wait.
        self.state.status.hub().close();
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
        let _ = self.worker.await;
        if let Some((stop, signer)) = self.signer {
            let _ = stop.send(true);
            let _ = signer.await;
        }
    }
}

/// Creates, at zero, every series whose labels are known at start-up, so that
/// dashboards and `rate()` see them before the first event (Prometheus'
/// advice against missing series).
fn initialise_series(m: &Metrics, config: &Config, adapters: &Adapters) {
    for member in &config.members {
        for class in ["submit", "lookup", "read"] {
            m.rate_limited.with_label_values(&[member.id.as_str(), class]);
        }
    }
    for (agency, adapter) in adapters {
        let a = agency.as_str();
        for state in ["closed", "open", "half_open"] {
            m.circuit_transitions.with_label_values(&[a, state]);
        }
        m.dead_letter_replays.with_label_values(&[a]);
        m.dead_letters.with_label_values(&[a]);
        m.queue_depth.with_label_values(&[a]);
        m.queue_oldest_age.with_label_values(&[a]);
        m.circuit_state.with_label_values(&[a]);
        m.deliveries_in_flight.with_label_values(&[a]);
        m.delivery_duration.with_label_values(&[a]);
        for outcome in ["delivered", "retryable", "permanent"] {
            m.delivery_attempts.with_label_values(&[a, outcome]);
        }
        if !adapter.lookups().is_empty() {
            m.lookup_duration.with_label_values(&[a]);
        }
        for l in adapter.lookups() {
            m.lookups.with_label_values(&[a, l.name, "ok"]);
        }
        if adapter.polls_status() && config.status.poll.contains_key(a) {
            for outcome in ["ok", "error"] {
                m.status_polls.with_label_values(&[a, outcome]);
            }
        }
    }
    for result in ["ok", "error"] {
        m.crl_reloads.with_label_values(&[result]);
        m.tls_reloads.with_label_values(&[result]);
    }
    for reason in ["refused", "timeout"] {
        m.tls_handshake_failures.with_label_values(&[reason]);
    }
    for limit in ["connections", "requests", "deadline"] {
        m.overloaded.with_label_values(&[limit]);
    }
    for outcome in ["signed", "idle", "error"] {
        m.audit_heads.with_label_values(&[outcome]);
    }
    for result in ["ok", "error"] {
        m.config_reloads.with_label_values(&[result]);
    }
}

/// Removes feed entries older than the retention, every prune interval.
async fn prune_feeds(store: Arc<dyn Store>, config: StatusConfig, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(config.feed_prune_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let Ok(retention) = chrono::Duration::from_std(config.feed_retention) else { return };
        match crate::feed::prune_once(store.as_ref(), chrono::Utc::now() - retention, crate::store::PRUNE_BATCH).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "removed feed entries past their retention"),
            Err(e) => tracing::warn!(error = %e, "cannot prune the feeds; will try again"),
        }
    }
}
