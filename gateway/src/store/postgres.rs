//! The PostgreSQL store, for several gateway replicas sharing one database.
//!
//! Each replica has one writer thread that groups its concurrent changes into one
//! transaction, as the SQLite store does, and a small pool of reader connections.
//! Across replicas:
//!
//! - **One message log, one order.** A batch that appends to the message log, a
//!   feed or the outbox first takes a transaction-level advisory lock
//!   ([`WRITE_LOCK`]), so batches from all replicas commit one after another: the
//!   log is one gap-free chain, feed positions are gap-free and in commit order,
//!   and "the same dossier again" is decided against every replica's dossiers.
//! - **Claims** take due deliveries with `FOR UPDATE SKIP LOCKED` and mark them
//!   leased until a deadline, so each delivery is with one replica at a time; a
//!   killed replica's claims are taken over once their lease ends.
//! - **Feeds** wake long-polls on every replica: a transaction that adds to a feed
//!   sends `NOTIFY lienthong_feed, '<member>'`, and each replica's listener wakes
//!   its own waiting long-polls ([`PostgresStore::listen`]).
//!
//! No change is acknowledged before the commit that holds it has returned.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, ToSql};
use postgres::{Client, GenericClient, Row, Statement};
use rustls_pki_types::pem::PemObject;
use schemas::{AgencyId, MaHoSo};

use super::batch::{self, Op, Reply};
use super::status::to_ns;
use super::{
    AuditHead, AuditPage, DeadLetter, DeliveryCount, DossierParties, FeedPage, Gauges, NewDossier, NewStatus, Pending,
    StatsRow, StatsWindow, StatusOutcome, Store, StoreError, StoredDossier, SubmitOutcome,
};
use crate::config::StoreConfig;
use crate::feed::FeedHub;

mod read;
mod schema;
mod write;

pub use schema::{check, migrate};

/// The advisory lock every ordered batch holds until it commits.
pub const WRITE_LOCK: i64 = 0x6c69_656e_7468_6f01;
/// The advisory lock held while migrations run, so replicas starting together
/// apply each migration once.
pub const MIGRATION_LOCK: i64 = 0x6c69_656e_7468_6f02;
/// The channel feed wake-ups are sent on.
pub const FEED_CHANNEL: &str = "lienthong_feed";

/// Prepared statements of one connection, by their text.
type Cache = HashMap<&'static str, Statement>;

/// The server's own message when it sent one (its text and SQLSTATE), else the
/// client's error with its causes.
fn db(e: postgres::Error) -> StoreError {
    if let Some(d) = e.as_db_error() {
        return StoreError::Database(format!("{} (SQLSTATE {})", d.message(), d.code().code()));
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    StoreError::Database(msg)
}

/// A column of a row, or a corrupt-data error naming it.
fn get<'a, T: FromSql<'a>>(r: &'a Row, i: usize) -> Result<T, StoreError> {
    r.try_get(i).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

fn ms(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.and_then(|v| Utc.timestamp_millis_opt(v).single())
}

/// Queries through one connection (or transaction), each statement prepared
/// once per connection.
struct Db<'a, C: GenericClient> {
    c: &'a mut C,
    cache: &'a mut Cache,
}

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl<C: GenericClient> Db<'_, C> {
    fn stmt(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let s = self.c.prepare(sql).map_err(db)?;
        self.cache.insert(sql, s.clone());
        Ok(s)
    }

    fn exec(&mut self, sql: &'static str, p: Params<'_>) -> Result<u64, StoreError> {
        let s = self.stmt(sql)?;
        self.c.execute(&s, p).map_err(db)
    }

    fn opt(&mut self, sql: &'static str, p: Params<'_>) -> Result<Option<Row>, StoreError> {
        let s = self.stmt(sql)?;
        self.c.query_opt(&s, p).map_err(db)
    }

    fn one(&mut self, sql: &'static str, p: Params<'_>) -> Result<Row, StoreError> {
        let s = self.stmt(sql)?;
        self.c.query_one(&s, p).map_err(db)
    }

    fn all(&mut self, sql: &'static str, p: Params<'_>) -> Result<Vec<Row>, StoreError> {
        let s = self.stmt(sql)?;
        self.c.query(&s, p).map_err(db)
    }
}

/// Why a database URL would let the store's traffic go unencrypted to another
/// machine: `sslmode` other than `require` (`prefer` falls back to plain text when
/// the server, or someone between, says it has no TLS) to a host not on this
/// machine, without `store.allow_plaintext`.
pub fn plaintext_problem(config: &postgres::Config, allowed: bool) -> Option<String> {
    use postgres::config::{Host, SslMode};
    if allowed || matches!(config.get_ssl_mode(), SslMode::Require) {
        return None;
    }
    let remote = config.get_hosts().iter().find(|h| match h {
        Host::Tcp(name) => !matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1"),
        _ => false,
    });
    remote.map(|h| {
        format!(
            "store: the connection to {h:?} may be unencrypted: add sslmode=require to the URL, \
             or set store.allow_plaintext = true for a network of its own"
        )
    })
}

/// How to reach the database: the parsed URL and the TLS to use.
#[derive(Clone)]
pub struct Target {
    config: postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    read_only: bool,
}

impl Target {
    /// Reads `store.url` (or `store.url_file`) and the trust for the database's
    /// certificate (`store.ca_file`, else the system's roots).
    pub fn from_config(c: &StoreConfig) -> Result<Target, StoreError> {
        let url = c
            .postgres_url()
            .map_err(StoreError::Database)?
            .ok_or_else(|| StoreError::Database("store: no PostgreSQL URL (store.url or store.url_file)".into()))?;
        let mut config: postgres::Config = url.parse().map_err(|e| StoreError::Database(format!("store.url: {e}")))?;
        if let Some(problem) = plaintext_problem(&config, c.allow_plaintext) {
            return Err(StoreError::Database(problem));
        }
        if config.get_application_name().is_none() {
            config.application_name("lienthong");
        }
        config.connect_timeout(c.connect_timeout);
        let mut roots = rustls::RootCertStore::empty();
        match &c.ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| StoreError::Database(format!("store.ca_file {}: {e}", path.display())))?;
                for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|e| StoreError::Database(format!("store.ca_file: {e}")))?;
                    roots.add(cert).map_err(|e| StoreError::Database(format!("store.ca_file: {e}")))?;
                }
            }
            None => {
                for cert in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(cert);
                }
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Database(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Target { config, tls: tokio_postgres_rustls::MakeRustlsConnect::new(tls), read_only: false })
    }

    /// Opens one connection. Must not be called on an async runtime's thread.
    fn connect(&self) -> Result<Client, StoreError> {
        let mut client = self.config.connect(self.tls.clone()).map_err(db)?;
        if self.read_only {
            client.batch_execute("SET default_transaction_read_only = on").map_err(db)?;
        }
        Ok(client)
    }
}

/// One connection with its statements, reconnected when the server closed it.
struct Conn {
    target: Target,
    client: Option<Client>,
    cache: Cache,
}

impl Conn {
    fn new(target: Target) -> Conn {
        Conn { target, client: None, cache: Cache::new() }
    }

    fn client(&mut self) -> Result<(&mut Client, &mut Cache), StoreError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.cache.clear();
            self.client = Some(self.target.connect()?);
        }
        Ok((self.client.as_mut().expect("just connected"), &mut self.cache))
    }
}

/// The PostgreSQL store of one replica.
pub struct PostgresStore {
    writer: mpsc::Sender<Op>,
    readers: Arc<Vec<Mutex<Conn>>>,
    next_reader: AtomicUsize,
    target: Target,
}

impl PostgresStore {
    /// Connects, applies the migrations (under [`MIGRATION_LOCK`]) and starts the
    /// writer. Blocking: call it off the async runtime (see [`PostgresStore::open_async`]).
    pub fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        let target = Target::from_config(config)?;
        let mut first = Conn::new(target.clone());
        {
            let (client, _) = first.client()?;
            schema::apply(client)?;
        }
        let writer = first;
        let readers = (0..config.pool_size.max(1)).map(|_| Mutex::new(Conn::new(target.clone()))).collect();
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("lienthong-store".into())
            .spawn(move || writer_loop(writer, rx))
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(Self { writer: tx, readers: Arc::new(readers), next_reader: AtomicUsize::new(0), target })
    }

    /// [`PostgresStore::open`] from async code.
    pub async fn open_async(config: &StoreConfig) -> Result<Self, StoreError> {
        let config = config.clone();
        tokio::task::spawn_blocking(move || Self::open(&config)).await.map_err(|_| StoreError::Closed)?
    }

    /// Opens the store for reading only, as `lienthong audit verify` does beside
    /// running gateways: no migration, every transaction read-only, and every
    /// change fails with [`StoreError::Closed`].
    pub async fn open_read_only(config: &StoreConfig) -> Result<Self, StoreError> {
        let mut target = Target::from_config(config)?;
        target.read_only = true;
        let readers = vec![Mutex::new(Conn::new(target.clone()))];
        let store =
            Self { writer: mpsc::channel().0, readers: Arc::new(readers), next_reader: AtomicUsize::new(0), target };
        store.ping().await?;
        Ok(store)
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Op) -> Result<T, StoreError> {
        batch::call(&self.writer, make).await
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Db<'_, Client>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.readers.clone();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            // A free connection if there is one, else wait for this turn's.
            let n = readers.len();
            let mut conn = (0..n)
                .find_map(|i| readers[(start + i) % n].try_lock().ok())
                .map_or_else(|| readers[start % n].lock().map_err(|_| StoreError::Closed), Ok)?;
            let (client, cache) = conn.client()?;
            f(&mut Db { c: client, cache })
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Wakes `hub`'s long-polls when another replica adds to a feed: a thread
    /// with its own connection listens on [`FEED_CHANNEL`] until the hub closes.
    /// After a lost connection it listens again and wakes every long-poll, since
    /// what was sent meanwhile is lost.
    pub fn listen(&self, hub: Arc<FeedHub>) {
        let target = self.target.clone();
        let spawned = std::thread::Builder::new().name("lienthong-listen".into()).spawn(move || {
            let mut first = true;
            while !hub.is_closed() {
                match listen_once(&target, &hub, !first) {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "feed wake-ups from other replicas are interrupted; listening again");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
                first = false;
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the feed listener");
        }
    }
}

impl Drop for PostgresStore {
    /// Closing a connection blocks on its own runtime, which must not happen on
    /// an async runtime's thread: the pool is closed on a thread of its own.
    fn drop(&mut self) {
        let readers = std::mem::replace(&mut self.readers, Arc::new(Vec::new()));
        let _ = std::thread::spawn(move || drop(readers)).join();
    }
}

fn listen_once(target: &Target, hub: &FeedHub, wake_all: bool) -> Result<(), StoreError> {
    let mut client = target.connect()?;
    client.batch_execute(&format!("LISTEN {FEED_CHANNEL}")).map_err(db)?;
    if wake_all {
        hub.wake_all();
    }
    let mut notifications = client.notifications();
    let mut iter = notifications.timeout_iter(Duration::from_millis(250));
    loop {
        match iter.next() {
            Ok(Some(n)) => hub.notify([&n.payload().to_owned()]),
            Err(e) => return Err(db(e)),
            Ok(None) if hub.is_closed() => return Ok(()),
            Ok(None) => {
                // The iterator ends at each timeout; a dead connection shows here.
                drop(iter);
                drop(notifications);
                if client.is_closed() {
                    return Err(StoreError::Database("the listening connection closed".into()));
                }
                notifications = client.notifications();
                iter = notifications.timeout_iter(Duration::from_millis(250));
            }
        }
    }
}

fn writer_loop(mut conn: Conn, rx: mpsc::Receiver<Op>) {
    while let Some(batch) = batch::next_batch(&rx) {
        run_batch(&mut conn, batch);
    }
}

/// Applies a batch in one transaction; an ordered batch first takes
/// [`WRITE_LOCK`]. Replies only after the commit ([`batch::run`]: without
/// savepoints first, which spares two round trips per change, and each change
/// in its own only if one failed).
fn run_batch(conn: &mut Conn, batch: Vec<Op>) {
    batch::run(batch, |batch, savepoints| apply_batch(conn, batch, savepoints));
}

/// One pass over a batch in a transaction; `Err` when it did not start.
fn apply_batch(conn: &mut Conn, batch: &[Op], savepoints: batch::Savepoints) -> Result<batch::Pass, String> {
    let (client, cache) = conn.client().map_err(|e| e.to_string())?;
    let mut tx = client.transaction().map_err(|e| e.to_string())?;
    if batch.iter().any(Op::is_ordered) {
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK]).map_err(|e| e.to_string())?;
    }
    let mut changes = write::Changes { tx: &mut tx, cache, savepoints };
    let Some(done) = batch::apply_pass(&mut changes, batch, savepoints) else {
        // A failed statement aborts the transaction; it is rolled back
        // (dropping it does too, should the rollback itself fail).
        let _ = tx.rollback();
        return Ok(None);
    };
    let committed = tx.commit().map_err(|e| e.to_string());
    Ok(Some((done, committed)))
}

#[async_trait]
impl Store for PostgresStore {
    async fn submit(&self, dossier: NewDossier) -> Result<SubmitOutcome, StoreError> {
        self.call(|reply| Op::Submit(Box::new(dossier), reply)).await
    }

    async fn dossier(&self, code: &MaHoSo) -> Result<Option<StoredDossier>, StoreError> {
        let code = code.as_str().to_owned();
        self.read(move |c| read::dossier(c, &code)).await
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
        agency: Option<&AgencyId>,
    ) -> Result<Vec<super::DeliveryJob>, StoreError> {
        let agency = agency.map(|a| a.as_str().to_owned());
        self.call(|reply| Op::Claim { now, limit, lease, agency, reply }).await
    }

    async fn record_attempt(
        &self,
        delivery_id: i64,
        result: super::AttemptResult,
    ) -> Result<Option<String>, StoreError> {
        self.call(|reply| Op::Record { id: delivery_id, result, reply }).await
    }

    async fn delivery_counts(&self) -> Result<Vec<DeliveryCount>, StoreError> {
        self.read(read::delivery_counts).await
    }

    async fn pending(&self) -> Result<Vec<Pending>, StoreError> {
        self.read(read::pending).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.one("SELECT 1", &[]).map(drop)).await
    }

    async fn dead_letters(&self, after: i64, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        self.read(move |c| read::dead_letters(c, after, limit)).await
    }

    async fn replay(&self, id: i64) -> Result<Option<DeadLetter>, StoreError> {
        self.call(|reply| Op::Replay { id, reply }).await
    }

    async fn parties(&self, code: &MaHoSo) -> Result<Option<DossierParties>, StoreError> {
        let code = code.as_str().to_owned();
        self.read(move |c| read::parties(c, &code)).await
    }

    async fn record_status(&self, new: NewStatus) -> Result<StatusOutcome, StoreError> {
        self.call(|reply| Op::Status(Box::new(new), reply)).await
    }

    async fn feed(&self, member: &str, after: Option<u64>, limit: usize) -> Result<FeedPage, StoreError> {
        let member = member.to_owned();
        self.read(move |c| read::feed(c, &member, after, limit)).await
    }

    async fn prune_feeds(&self, before: DateTime<Utc>, limit: u64) -> Result<u64, StoreError> {
        let before_ms = before.timestamp_millis();
        self.call(|reply| Op::Prune { before_ms, limit, reply }).await
    }

    async fn stats(&self, window: StatsWindow, agency: Option<&AgencyId>) -> Result<Vec<StatsRow>, StoreError> {
        let agency = agency.map(|a| a.as_str().to_owned());
        self.read(move |c| read::stats(c, window, agency.as_deref())).await
    }

    async fn open_dossiers(
        &self,
        agency: &AgencyId,
        after: Option<&MaHoSo>,
        limit: usize,
    ) -> Result<Vec<MaHoSo>, StoreError> {
        let (agency, after) = (agency.as_str().to_owned(), after.map(|a| a.as_str().to_owned()));
        self.read(move |c| read::open_dossiers(c, &agency, after.as_deref(), limit)).await
    }

    async fn notify_agency(&self, agency: &AgencyId, notice: serde_json::Value) -> Result<Vec<String>, StoreError> {
        let agency = agency.as_str().to_owned();
        self.call(|reply| Op::NotifyAgency { agency, notice, reply }).await
    }

    async fn ack_feed(&self, member: &str, seq: u64) -> Result<(), StoreError> {
        let (member, seq) = (member.to_owned(), i64::try_from(seq).unwrap_or(i64::MAX));
        self.call(|reply| Op::AckFeed { member, seq, reply }).await
    }

    async fn gauges(&self) -> Result<Gauges, StoreError> {
        self.read(read::gauges).await
    }

    async fn audit_tip(&self) -> Result<Option<(i64, [u8; 32])>, StoreError> {
        self.read(read::audit_tip).await
    }

    async fn add_audit_head(&self, head: AuditHead) -> Result<(), StoreError> {
        self.call(|reply| Op::AddHead(head, reply)).await
    }

    async fn last_audit_head(&self) -> Result<Option<AuditHead>, StoreError> {
        self.read(read::last_audit_head).await
    }

    async fn audit_records(&self, after: i64, limit: usize) -> Result<AuditPage, StoreError> {
        self.read(move |c| read::audit_records(c, after, limit, true)).await
    }

    async fn audit_chain(&self, after: i64, limit: usize) -> Result<Vec<crate::store::AuditRecord>, StoreError> {
        let page = self.read(move |c| read::audit_records(c, after, limit, false)).await?;
        Ok(page.into_iter().map(|(record, _)| record).collect())
    }

    async fn audit_heads(&self, after: i64, limit: usize) -> Result<Vec<AuditHead>, StoreError> {
        self.read(move |c| read::audit_heads(c, after, limit)).await
    }

    async fn prune_audit(
        &self,
        bodies_before: Option<DateTime<Utc>>,
        meta_before: Option<DateTime<Utc>>,
        limit: u64,
    ) -> Result<(u64, u64), StoreError> {
        let bodies_before_ms = bodies_before.map(|t| t.timestamp_millis());
        let meta_before_ns = meta_before.map(|t| to_ns(&t));
        self.call(|reply| Op::PruneAudit { bodies_before_ms, meta_before_ns, limit, reply }).await
    }

    fn listen_feeds(&self, hub: Arc<FeedHub>) {
        self.listen(hub);
    }
}

#[cfg(test)]
mod tests;
