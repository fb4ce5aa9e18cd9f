//! The gateway's configuration file (TOML): every field documented, defaults in one
//! place, durations in human form (`"30s"`). [`Config::load`] parses, then
//! [`Config::validate`] checks what serde cannot and reports every problem with
//! its location.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod limits;
mod signatures;
mod status;
mod tls;

#[cfg(test)]
mod store_tests;

use adapters::dvcqg::DvcqgConfig;
pub use limits::{Rate, RateLimits};
use schemas::{AgencyId, MemberId};
use serde::Deserialize;
pub use signatures::{RevocationMode, SignaturePolicy, SignaturesConfig};
pub use status::StatusConfig;
pub use tls::TlsConfig;

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The HTTP server.
    #[serde(default)]
    pub server: ServerConfig,
    /// Where dossiers and the delivery queue are kept.
    #[serde(default)]
    pub store: StoreConfig,
    /// How dossiers are delivered to agencies.
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Synchronous look-ups proxied to agencies.
    #[serde(default)]
    pub lookup: LookupConfig,
    /// Members allowed to call the gateway.
    #[serde(default)]
    pub members: Vec<MemberConfig>,
    /// Procedure code (exact or prefix) to agency.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Agencies the gateway delivers to, by agency id.
    #[serde(default)]
    pub agencies: BTreeMap<String, AgencyConfig>,
    /// Digital signatures: trust store, CRLs, and the gateway's own signing key.
    #[serde(default)]
    pub signatures: SignaturesConfig,
    /// Status updates: feeds and status polls.
    #[serde(default)]
    pub status: StatusConfig,
    /// Rate limits every member gets unless its own `limits` say otherwise.
    #[serde(default)]
    pub limits: RateLimits,
    /// The tamper-evident message log: signing its head, retention, bodies.
    #[serde(default)]
    pub audit: crate::audit::AuditConfig,
}

/// The HTTP server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; larger ones get 413 unread.
    pub max_body_bytes: u64,
    /// Time a client has to send the request headers.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Time a client has to send the whole body.
    #[serde(with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// How long in-flight requests get to finish at shutdown.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// HTTPS: the certificate, the key and the client CAs of mutual TLS.
    pub tls: Option<TlsConfig>,
    /// Serve plain HTTP. Only for development: without `[server.tls]`, the
    /// gateway does not start unless this says so explicitly.
    pub plaintext: bool,
    /// Largest request head (request line and headers), in bytes; at least
    /// 8192. A larger one gets 431 and the connection is closed.
    pub max_header_bytes: usize,
    /// Most client connections open at once; a connection over it is closed at once.
    pub max_connections: usize,
    /// Most requests being handled at once; over it, 503 `overloaded` with
    /// `Retry-After` and no work done.
    pub max_requests: usize,
    /// The longest a request may take to handle (a feed's long-poll adds its
    /// wait); past it, 503 `deadline_exceeded`, and what it was doing is dropped.
    #[serde(with = "humantime_serde")]
    pub request_deadline: Duration,
    /// Threads of the async runtime (HTTP, routing, delivery); unset, one per
    /// core. Signature verification and the store have threads of their own, so
    /// a machine shared with other services, or with two cores, does better with
    /// fewer: each extra thread adds hand-offs between threads to every request.
    pub worker_threads: Option<usize>,
}

/// The most runtime threads `server.worker_threads` may ask for.
pub const MAX_WORKER_THREADS: usize = 1024;

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 2 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(20),
            tls: None,
            plaintext: false,
            max_header_bytes: 64 * 1024,
            max_connections: 10_000,
            max_requests: 4_096,
            request_deadline: Duration::from_secs(60),
            worker_threads: None,
        }
    }
}

/// Where dossiers and the delivery queue are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Directory of the embedded SQLite store (`lienthong.db` inside it), relative
    /// to the working directory. Created if missing.
    pub data_dir: PathBuf,
    /// A PostgreSQL URL (`postgres://user@host:5432/db?sslmode=require`): the
    /// store of several replicas. Unset: the embedded SQLite store in `data_dir`.
    pub url: Option<String>,
    /// A file holding the PostgreSQL URL instead (a mounted secret, since the URL
    /// may carry a password).
    pub url_file: Option<PathBuf>,
    /// PEM certificates trusted for the database server's certificate; unset: the
    /// system's roots. TLS is used as the URL's `sslmode` says (`require`: always).
    pub ca_file: Option<PathBuf>,
    /// Allow a connection to a database on another machine that may not be
    /// encrypted (`sslmode` other than `require`): only for a network of its own.
    pub allow_plaintext: bool,
    /// Reader connections per replica (the writer has one more).
    pub pool_size: usize,
    /// How long connecting to PostgreSQL may take.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// How many gateway replicas share this store, at most. Rate limits are kept
    /// in each replica's memory, so each enforces its share: every member's limits
    /// and every agency's delivery rate and concurrency are divided by this. All
    /// replicas together then never exceed a configured limit; while fewer run,
    /// or a balancer sends a member to fewer, the member gets less than its limit.
    pub replicas: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            url: None,
            url_file: None,
            ca_file: None,
            allow_plaintext: false,
            pool_size: 4,
            connect_timeout: Duration::from_secs(10),
            replicas: 1,
        }
    }
}

impl StoreConfig {
    /// The PostgreSQL URL, from `url` or the file `url_file`; `None` for the
    /// embedded store.
    pub fn postgres_url(&self) -> Result<Option<String>, String> {
        match (&self.url, &self.url_file) {
            (Some(url), None) => Ok(Some(url.clone())),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|s| Some(s.trim().to_owned()))
                .map_err(|e| format!("store.url_file {}: {e}", path.display())),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err("store: give url or url_file, not both".into()),
        }
    }

    /// Whether the store is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.url.is_some() || self.url_file.is_some()
    }
}

/// How dossiers are delivered to agencies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Most deliveries in flight at once, over all agencies.
    pub concurrency: usize,
    /// How often the worker looks for deliveries that became due (new dossiers wake
    /// it at once).
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Time limit of one request to an agency.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Time limit to open a connection to an agency.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Wait before the first retry; doubles on each further retry.
    #[serde(with = "humantime_serde")]
    pub backoff_initial: Duration,
    /// The longest wait between retries.
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// The agency that every dossier's status is also synchronised to (one more
    /// delivery per dossier). Defaults to the agency `dvcqg` when one is configured;
    /// `""` turns synchronisation off.
    pub status_sync_agency: Option<String>,
    /// Most deliveries waiting for one agency: past it, new dossiers for that
    /// agency get 503 with `Retry-After` until the backlog drains. Unset: no limit.
    pub max_queue_per_agency: Option<u64>,
    /// Per agency: how fast and how many at once the gateway sends to it, so a
    /// backlog reaches a ministry no faster than it can take. Deliveries wait for
    /// capacity; they do not fail for lack of it.
    pub agencies: BTreeMap<String, AgencyDelivery>,
    /// The circuit breaker every agency has.
    pub circuit: CircuitConfig,
    /// How long a delivery is retried before it is given up as a dead letter
    /// (operators can replay it).
    #[serde(with = "humantime_serde")]
    pub give_up_after: Duration,
    /// How long a claimed delivery stays with the replica that claimed it: another
    /// replica takes it over only after this (a killed replica's claims wait out
    /// their lease). Must exceed `request_timeout`. Unset: four request timeouts
    /// and 30 s.
    #[serde(default, with = "humantime_serde")]
    pub lease: Option<Duration>,
}

impl DeliveryConfig {
    /// This replica's share of every agency's delivery rate and concurrency, when
    /// `replicas` gateways deliver from one store.
    pub fn shared_by(&self, replicas: u32) -> DeliveryConfig {
        let n = replicas.max(1);
        let mut shared = self.clone();
        for a in shared.agencies.values_mut() {
            a.rate = a.rate.map(|r| r.shared_by(n));
            a.max_concurrent = a.max_concurrent.map(|c| c.div_ceil(n as usize).max(1));
        }
        shared
    }

    /// The lease of a claim (see [`DeliveryConfig::lease`]).
    pub fn lease(&self) -> Duration {
        self.lease.unwrap_or(self.request_timeout * 4 + Duration::from_secs(30))
    }
}

/// When an agency's circuit opens, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CircuitConfig {
    /// Failed attempts in a row (transport errors, timeouts, 5xx, busy) that open it.
    pub failure_threshold: u32,
    /// How long it stays open before one probe is sent.
    #[serde(with = "humantime_serde")]
    pub open_for: Duration,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        Self { failure_threshold: 5, open_for: Duration::from_secs(30) }
    }
}

/// How the gateway sends to one agency.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgencyDelivery {
    /// Requests per second with a burst; unset: no rate limit.
    pub rate: Option<Rate>,
    /// Most requests in flight to the agency at once; unset: `delivery.concurrency`.
    pub max_concurrent: Option<usize>,
    /// TLS to the agency (deliveries and look-ups): its trust anchors and the
    /// gateway's client certificate. Unset: the public web roots, no client
    /// certificate.
    pub tls: Option<OutgoingTls>,
}

/// TLS towards one agency (always TLS 1.2 or 1.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutgoingTls {
    /// CA certificates (PEM files) the agency's server certificate must chain to;
    /// they replace the public web roots.
    #[serde(default)]
    pub ca: Vec<PathBuf>,
    /// The gateway's client certificate chain for this agency (PEM), with `client_key`.
    #[serde(default)]
    pub client_certificate: Option<PathBuf>,
    /// The private key of `client_certificate` (PKCS#8 PEM).
    #[serde(default)]
    pub client_key: Option<PathBuf>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            concurrency: 32,
            poll_interval: Duration::from_millis(500),
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(3),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            status_sync_agency: None,
            max_queue_per_agency: None,
            agencies: BTreeMap::new(),
            circuit: CircuitConfig::default(),
            give_up_after: Duration::from_secs(72 * 3600),
            lease: None,
        }
    }
}

/// Synchronous look-ups.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LookupConfig {
    /// Time an agency has to answer a look-up before the caller gets 504.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for LookupConfig {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(10) }
    }
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `human` or `json`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `lienthong=debug,info`.
    pub filter: String,
    /// OpenTelemetry: export spans (requests with their correlation id,
    /// deliveries, polls) over OTLP/HTTP (protobuf) to this URL, such as
    /// `http://collector:4318/v1/traces`. Unset: no export.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` of exported spans.
    pub service_name: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Human, filter: "info".into(), otlp_endpoint: None, service_name: "lienthong".into() }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line for log collectors.
    Json,
}

/// What a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A provincial public-service portal: submits dossiers.
    Portal,
    /// A ministry system: receives dossiers for its agency.
    Ministry,
    /// An operator of the gateway: may read everything.
    Operator,
}

/// A member allowed to call the gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberConfig {
    /// The member's id, used in metrics and logs.
    pub id: String,
    /// A readable name.
    #[serde(default)]
    pub name: String,
    /// What the member is.
    pub role: Role,
    /// For a ministry: the agency it speaks for.
    #[serde(default)]
    pub agency: Option<String>,
    /// SHA-256 (hex) of the member's bearer token; the token itself is never stored.
    /// `lienthong hash-token` computes it.
    #[serde(default)]
    pub token_sha256: Option<String>,
    /// For a member on mutual TLS instead of a token: the client certificate
    /// that identifies it (by `subject`, `organisation` or `spki_sha256`), which
    /// must chain to `server.tls.client_ca`.
    #[serde(default)]
    pub client_certificate: Option<schemas::pki::SignerBinding>,
    /// Look-ups the member may call: `agency/name`, `agency/*` or `*`. Operators may
    /// call every look-up; anyone else only those listed.
    #[serde(default)]
    pub lookups: Vec<String>,
    /// Whether the member's dossiers must be signed.
    #[serde(default)]
    pub signature: SignaturePolicy,
    /// The signers that speak for this member: a signed dossier is accepted only
    /// from a signer one of these names (by subject, organisation or key).
    #[serde(default)]
    pub signers: Vec<schemas::pki::SignerBinding>,
    /// The member's rate limits, per class; unset classes take `[limits]`.
    #[serde(default)]
    pub limits: RateLimits,
    /// Agencies a portal may send dossiers to (`"*"`: any). None by default.
    #[serde(default)]
    pub send_to: Vec<String>,
    /// Procedures the member may send and report on: exact codes, prefixes
    /// ending in `*` (`"2.*"`), or `"*"` (the default).
    #[serde(default = "all_procedures")]
    pub procedures: Vec<String>,
    /// Whether the member may post status events of the dossiers it is a party
    /// to (a portal: those it sent; a ministry: those its agency decides).
    #[serde(default)]
    pub post_status: bool,
}

fn all_procedures() -> Vec<String> {
    vec!["*".into()]
}

/// One routing rule: `procedure` (exact) or `prefix`, never both.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// An exact procedure code.
    #[serde(default)]
    pub procedure: Option<String>,
    /// A procedure-code prefix; the longest matching prefix wins.
    #[serde(default)]
    pub prefix: Option<String>,
    /// The agency that decides these procedures.
    pub agency: String,
    /// The business payload (`DuLieuNghiepVu`) these procedures need:
    /// `business_registration`, `trade_licence`, `civil_status` or `judicial_record`.
    #[serde(default)]
    pub payload: Option<String>,
}

/// An agency and the adapter that speaks to it.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgencyConfig {
    /// The National Public Service Portal.
    Dvcqg(DvcqgConfig),
    /// Justice: civil status and judicial records.
    Moj(adapters::moj::MojConfig),
    /// Planning & Investment: national business registration.
    Mpi(adapters::mpi::MpiConfig),
    /// Industry & Trade: licences and notifications.
    Moit(adapters::moit::MoitConfig),
}

/// One problem in a configuration, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where: a TOML path such as `routes[2].agency`, or `line 4, column 1`.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl Config {
    /// Reads, parses and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError { location: path.display().to_string(), message: e.to_string() }])
        })?;
        Self::from_toml(&text)
    }

    /// Parses and validates configuration text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigErrors> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let location = match e.span() {
                Some(span) => {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!("line {line}, column {col}")
                }
                None => "config".into(),
            };
            ConfigErrors(vec![ConfigError { location, message: e.message().to_owned() }])
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks everything serde cannot: ids, references between sections, duplicates.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut errs = Vec::new();
        let mut push = |location: String, message: String| errs.push(ConfigError { location, message });

        let s = &self.server;
        if s.max_body_bytes == 0 {
            push("server.max_body_bytes".into(), "must be greater than 0".into());
        }
        for (name, v) in [("max_connections", s.max_connections), ("max_requests", s.max_requests)] {
            if v == 0 {
                push(format!("server.{name}"), "must be greater than 0".into());
            }
        }
        if s.max_header_bytes < 8192 {
            push("server.max_header_bytes".into(), "must be at least 8192".into());
        }
        if s.request_deadline.is_zero() {
            push("server.request_deadline".into(), "must be greater than 0".into());
        }
        if s.worker_threads.is_some_and(|n| n == 0 || n > MAX_WORKER_THREADS) {
            push("server.worker_threads".into(), format!("must be from 1 to {MAX_WORKER_THREADS}, or unset"));
        }
        if let Some(url) = &self.store.url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                push("store.url".into(), "must be a postgres:// or postgresql:// URL".into());
            } else {
                match url.parse::<postgres::Config>() {
                    Err(e) => push("store.url".into(), e.to_string()),
                    Ok(pg) => {
                        if let Some(problem) =
                            crate::store::postgres::plaintext_problem(&pg, self.store.allow_plaintext)
                        {
                            push("store.url".into(), problem);
                        }
                    }
                }
            }
            if self.store.url_file.is_some() {
                push("store.url_file".into(), "give store.url or store.url_file, not both".into());
            }
        }
        if self.store.replicas == 0 {
            push("store.replicas".into(), "must be at least 1".into());
        }
        if self.store.replicas > 1 && !self.store.is_postgres() {
            push("store.replicas".into(), "several replicas need a shared store: set store.url (PostgreSQL)".into());
        }
        if self.store.pool_size == 0 {
            push("store.pool_size".into(), "must be greater than 0".into());
        }
        if let Some(lease) = self.delivery.lease {
            if lease <= self.delivery.request_timeout {
                push("delivery.lease".into(), "must be longer than delivery.request_timeout".into());
            }
        }
        if self.delivery.concurrency == 0 {
            push("delivery.concurrency".into(), "must be greater than 0".into());
        }
        if self.delivery.backoff_initial > self.delivery.backoff_max {
            push("delivery.backoff_initial".into(), "must not exceed delivery.backoff_max".into());
        }
        for (name, d) in
            [("poll_interval", self.delivery.poll_interval), ("request_timeout", self.delivery.request_timeout)]
        {
            if d.is_zero() {
                push(format!("delivery.{name}"), "must be greater than 0".into());
            }
        }

        for (id, agency) in &self.agencies {
            if let Err(e) = AgencyId::parse(id) {
                push(format!("agencies.{id}"), e.to_string());
            }
            let problems: Vec<String> = match agency {
                AgencyConfig::Dvcqg(c) => c.validate().iter().map(ToString::to_string).collect(),
                AgencyConfig::Moj(c) => c.validate().iter().map(ToString::to_string).collect(),
                AgencyConfig::Mpi(c) => c.validate().iter().map(ToString::to_string).collect(),
                AgencyConfig::Moit(c) => c.validate().iter().map(ToString::to_string).collect(),
            };
            for e in problems {
                push(format!("agencies.{id}"), e);
            }
        }

        let mut seen_ids = Vec::new();
        let mut seen_tokens = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            let at = format!("members[{i}]");
            if let Err(e) = MemberId::parse(&m.id) {
                push(format!("{at}.id"), e.to_string());
            }
            if seen_ids.contains(&m.id) {
                push(format!("{at}.id"), format!("member {} is defined twice", m.id));
            }
            seen_ids.push(m.id.clone());
            if let Some(hash) = m.token_sha256.as_deref().map(str::to_ascii_lowercase) {
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    push(format!("{at}.token_sha256"), "must be 64 hexadecimal digits (lienthong hash-token)".into());
                } else if seen_tokens.contains(&hash) {
                    push(format!("{at}.token_sha256"), "the same token is given to two members".into());
                }
                seen_tokens.push(hash);
            }
            match (m.role, &m.agency) {
                (Role::Ministry, None) => push(format!("{at}.agency"), "a ministry member must name its agency".into()),
                (Role::Ministry, Some(a)) if !self.agencies.contains_key(a) => {
                    push(format!("{at}.agency"), format!("agency {a} is not configured under [agencies]"))
                }
                (Role::Portal | Role::Operator, Some(_)) => {
                    push(format!("{at}.agency"), "only a ministry member speaks for an agency".into())
                }
                _ => {}
            }
        }

        let mut seen_routes: Vec<(bool, String)> = Vec::new();
        for (i, r) in self.routes.iter().enumerate() {
            let at = format!("routes[{i}]");
            let key = match (&r.procedure, &r.prefix) {
                (Some(p), None) => {
                    if let Err(e) = schemas::MaTTHC::parse(p) {
                        push(format!("{at}.procedure"), e.to_string());
                    }
                    (true, p.clone())
                }
                (None, Some(p)) => {
                    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
                        push(format!("{at}.prefix"), "must be a non-empty start of a procedure code".into());
                    }
                    (false, p.clone())
                }
                _ => {
                    push(at.clone(), "give exactly one of procedure or prefix".into());
                    continue;
                }
            };
            if seen_routes.contains(&key) {
                push(at.clone(), format!("{} is routed twice", key.1));
            }
            seen_routes.push(key);
            if !self.agencies.contains_key(&r.agency) {
                push(format!("{at}.agency"), format!("agency {} is not configured under [agencies]", r.agency));
            }
            if let Some(p) = &r.payload {
                if schemas::PayloadKind::parse(p).is_none() {
                    push(format!("{at}.payload"), format!("unknown payload kind {p}"));
                }
            }
        }

        for (i, m) in self.members.iter().enumerate() {
            for (j, a) in m.send_to.iter().enumerate() {
                if a != "*" && !self.agencies.contains_key(a) {
                    push(
                        format!("members[{i}].send_to[{j}]"),
                        format!("agency {a} is not configured under [agencies]"),
                    );
                }
            }
            if !m.send_to.is_empty() && m.role != Role::Portal {
                push(format!("members[{i}].send_to"), "only portals send dossiers".into());
            }
            for (j, p) in m.procedures.iter().enumerate() {
                let code = p.strip_suffix('*').unwrap_or(p);
                if !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') || (code.is_empty() && p != "*") {
                    push(
                        format!("members[{i}].procedures[{j}]"),
                        "must be a procedure code, a prefix ending in *, or *".into(),
                    );
                }
            }
            for (j, l) in m.lookups.iter().enumerate() {
                let ok = l == "*"
                    || l.split_once('/')
                        .is_some_and(|(a, n)| self.agencies.contains_key(a) && !n.is_empty() && !n.contains('/'));
                if !ok {
                    push(
                        format!("members[{i}].lookups[{j}]"),
                        "must be agency/name, agency/* or * with a configured agency".into(),
                    );
                }
            }
        }

        signatures::validate(self, &mut push);
        status::validate(self, &mut push);
        limits::validate(self, &mut push);
        tls::validate(self, &mut push);
        crate::audit::validate(&self.audit, &mut push);
        if let Some(url) = &self.log.otlp_endpoint {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                push("log.otlp_endpoint".into(), "must be an http:// or https:// URL".into());
            }
        }
        for (agency, d) in &self.delivery.agencies {
            let at = format!("delivery.agencies.{agency}");
            if !self.agencies.contains_key(agency) {
                push(at.clone(), format!("agency {agency} is not configured under [agencies]"));
            }
            if let Some(t) = &d.tls {
                if t.client_certificate.is_some() != t.client_key.is_some() {
                    push(format!("{at}.tls"), "give client_certificate and client_key together".into());
                }
            }
            if d.max_concurrent == Some(0) {
                push(format!("{at}.max_concurrent"), "must be greater than 0".into());
            }
            if let Some(r) = d.rate {
                if !(r.per_second.is_finite() && r.per_second > 0.0) || r.burst == 0 {
                    push(format!("{at}.rate"), "per_second must be greater than 0 and burst at least 1".into());
                }
            }
        }
        if self.delivery.circuit.failure_threshold == 0 || self.delivery.circuit.open_for.is_zero() {
            push("delivery.circuit".into(), "failure_threshold and open_for must be greater than 0".into());
        }
        if self.delivery.max_queue_per_agency == Some(0) {
            push("delivery.max_queue_per_agency".into(), "must be greater than 0".into());
        }

        if let Some(a) = &self.delivery.status_sync_agency {
            if !a.is_empty() && !self.agencies.contains_key(a) {
                push("delivery.status_sync_agency".into(), format!("agency {a} is not configured under [agencies]"));
            }
        }

        if errs.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errs))
        }
    }

    /// The agency every dossier's status is synchronised to, if any.
    pub fn status_sync_agency(&self) -> Option<AgencyId> {
        let name = match &self.delivery.status_sync_agency {
            Some(a) if a.is_empty() => return None,
            Some(a) => a.as_str(),
            None => "dvcqg",
        };
        self.agencies.contains_key(name).then(|| AgencyId::parse(name).ok()).flatten()
    }

    /// Why this configuration cannot serve: neither TLS nor an explicit
    /// `plaintext = true`.
    pub fn serving_problem(&self) -> Option<String> {
        (self.server.tls.is_none() && !self.server.plaintext).then(|| {
            "server: configure [server.tls] (HTTPS), or set server.plaintext = true for development".to_owned()
        })
    }

    /// The path of the SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.store.data_dir.join("lienthong.db")
    }
}
