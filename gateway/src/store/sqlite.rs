//! The embedded SQLite store: one writer thread that groups concurrent changes into
//! one durable commit (WAL, `synchronous=FULL`), and a few reader connections for
//! queries, so that one slow read does not hold up the others.
//!
//! No change is acknowledged before the commit that holds it has returned, so a
//! 202 survives `kill -9` and a power cut.
//!
//! Checkpoints (copying the WAL back into the database file and syncing it) run
//! on a thread of their own, every [`CHECKPOINT_EVERY`], without blocking the
//! writer (`PASSIVE`). SQLite's automatic checkpoint would run them inside the
//! commit that crosses its threshold, so every change waiting behind that commit
//! would wait for the copy and the sync too.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::batch::{self, Op, Reply, Savepoints};
use super::status::to_ns;
use super::{
    migrations, AttemptResult, AuditHead, AuditPage, DeadLetter, DeliveryCount, DeliveryJob, DeliveryState,
    DossierParties, FeedPage, Gauges, NewDossier, NewStatus, Pending, Receipt, StatsRow, StatsWindow, StatusOutcome,
    Store, StoreError, StoredDossier, SubmitOutcome,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use schemas::{AgencyId, MaHoSo};

mod audit;
mod dead;
mod read;
mod status;

/// The embedded store.
pub struct SqliteStore {
    writer: mpsc::Sender<Op>,
    readers: Arc<Readers>,
    /// Dropped with the store, which ends the checkpoint thread.
    _checkpoints: Option<mpsc::Sender<()>>,
}

/// How often the WAL is checkpointed.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// WAL frames (pages) past which a checkpoint starts the WAL over: 64 MiB of 4 KiB
/// pages.
const WAL_RESTART_FRAMES: i64 = 16_384;

/// The size the WAL file is cut back to when it is started over, if it has grown
/// past it: twice the restart threshold. Below it the file is kept and written
/// again from its start; cutting it at every restart (a `TRUNCATE` checkpoint)
/// paused the writer for 130 to 280 ms, against 40 to 70 ms.
const WAL_SIZE_LIMIT_BYTES: i64 = 2 * WAL_RESTART_FRAMES * 4096;
// The file must not be cut at every restart.
const _: () = assert!(WAL_SIZE_LIMIT_BYTES > WAL_RESTART_FRAMES * 4096);

/// Reader connections. WAL lets each read from its own snapshot while the writer
/// commits, so a long read (the statistics, a page of the message log) holds up
/// only the reads that find every connection taken.
const READERS: usize = 4;

/// Prepared statements each connection keeps.
const STATEMENT_CACHE: usize = 128;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Changing the journal mode does not wait on the busy handler: a process
    // opening the file while another migrates it retries for the busy timeout.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            r => break r?,
        }
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT_BYTES)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Room for every statement the writer runs (rusqlite keeps 16), so that none
    // is evicted and compiled again under load.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, CHECKPOINT_EVERY, WAL_RESTART_FRAMES)
    }

    /// [`Self::open`], checkpointing every `tick`, with the WAL started over past
    /// `restart_frames` frames.
    fn open_with(path: &Path, tick: Duration, restart_frames: i64) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Database(format!("creating {}: {e}", dir.display())))?;
        }
        let mut conn = open(path).map_err(db)?;
        migrations::apply(&mut conn).map_err(db)?;
        // The database file belongs to this one process: claims held by a previous
        // run (which crashed or was killed mid-delivery) are released now rather
        // than when their lease would have ended: they are due now.
        conn.execute(
            "UPDATE deliveries SET lease_until_ms = NULL, next_attempt_ms = MIN(next_attempt_ms, ?1)
             WHERE lease_until_ms IS NOT NULL",
            [Utc::now().timestamp_millis()],
        )
        .map_err(db)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(db)?;
        let readers = (0..READERS).map(|_| open(path)).collect::<rusqlite::Result<Vec<_>>>().map_err(db)?;
        let checkpointer = open(path).map_err(db)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let restart = Arc::new(AtomicBool::new(false));
        let wanted = restart.clone();
        std::thread::Builder::new()
            .name("lienthong-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpointer, &stopped, tick, restart_frames, &wanted))
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("lienthong-store".into())
            .spawn(move || writer_loop(conn, rx, &restart))
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(Self { writer: tx, readers: Arc::new(Readers::new(readers)), _checkpoints: Some(stop) })
    }

    /// Opens an existing database for reading only, as `lienthong audit verify`
    /// does beside a running gateway: no migration, no change; every write
    /// fails with [`StoreError::Closed`].
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let reader = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(db)?;
        reader.busy_timeout(Duration::from_secs(10)).map_err(db)?;
        let (tx, _) = mpsc::channel();
        Ok(Self { writer: tx, readers: Arc::new(Readers::new(vec![reader])), _checkpoints: None })
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Op) -> Result<T, StoreError> {
        batch::call(&self.writer, make).await
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.readers.clone();
        // Waiting for a connection happens here, on the async side: a blocking
        // thread is taken only once one is free.
        let permit = readers.free.clone().acquire_owned().await.map_err(|_| StoreError::Closed)?;
        tokio::task::spawn_blocking(move || {
            let conn = Borrowed::take(&readers, permit)?;
            f(&conn)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}

/// The reader connections not in use, and a permit for each.
struct Readers {
    idle: Mutex<Vec<Connection>>,
    free: Arc<tokio::sync::Semaphore>,
}

impl Readers {
    fn new(conns: Vec<Connection>) -> Self {
        Self { free: Arc::new(tokio::sync::Semaphore::new(conns.len())), idle: Mutex::new(conns) }
    }
}

/// A reader connection in use; given back (and its permit released) when
/// dropped, a read that panicked included.
struct Borrowed<'a> {
    readers: &'a Readers,
    conn: Option<Connection>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl<'a> Borrowed<'a> {
    /// One of the idle connections; `permit` guarantees there is one.
    fn take(readers: &'a Readers, permit: tokio::sync::OwnedSemaphorePermit) -> Result<Self, StoreError> {
        let conn = readers.idle.lock().map_err(|_| StoreError::Closed)?.pop().ok_or(StoreError::Closed)?;
        Ok(Self { readers, conn: Some(conn), _permit: permit })
    }
}

impl std::ops::Deref for Borrowed<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("held until dropped")
    }
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        // Given back before the permit is released (fields drop after this).
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.readers.idle.lock()) {
            idle.push(conn);
        }
    }
}

/// Checkpoints the WAL every `tick` ([`CHECKPOINT_EVERY`]) until the store is dropped. A
/// failed checkpoint (the database busy) is retried at the next tick; the WAL
/// only grows meanwhile.
///
/// A passive checkpoint never waits for the writer, so under steady load it never
/// catches up with the WAL's last frame, and SQLite starts the WAL over only when
/// it has. The WAL then grew for as long as the load lasted (800 MB for a backlog
/// of 30,000 dossiers). Once it holds more than `restart_frames` frames, this
/// loop asks the writer, through `restart`, to start it over between two batches.
fn checkpoint_loop(
    conn: &Connection,
    stop: &mpsc::Receiver<()>,
    tick: Duration,
    restart_frames: i64,
    restart: &AtomicBool,
) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(tick) {
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
            Ok(frames) if frames > restart_frames => restart.store(true, Ordering::Relaxed),
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "WAL checkpoint failed; retried at the next tick"),
        }
    }
}

/// Applies batches until the store is dropped. When the checkpoint loop asks, the
/// writer copies what the passive checkpoints have not, and the next commit writes
/// the WAL again from its start (a `RESTART` checkpoint; the file is cut back only
/// past [`WAL_SIZE_LIMIT_BYTES`]): a pause of the writer for about one tick's
/// frames and a sync. Done by the checkpoint thread, the same checkpoint waited
/// for the writer to let go of the database and, under load, it hardly ever did.
fn writer_loop(mut conn: Connection, rx: mpsc::Receiver<Op>, restart: &AtomicBool) {
    while let Some(batch) = batch::next_batch(&rx) {
        run_batch(&mut conn, batch);
        if restart.swap(false, Ordering::Relaxed) {
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "the WAL could not be started over; it is tried again later");
            }
        }
    }
}

/// Applies a batch in one transaction, and replies only after the commit
/// ([`batch::run`]: without savepoints first, each change in its own only if
/// one failed). The writer is the database's only one, so a second pass
/// starts from the state the first did.
fn run_batch(conn: &mut Connection, batch: Vec<Op>) {
    batch::run(batch, |batch, savepoints| apply_batch(conn, batch, savepoints));
}

/// One pass over a batch in a transaction; `Err` when it did not start.
fn apply_batch(conn: &mut Connection, batch: &[Op], savepoints: Savepoints) -> Result<batch::Pass, String> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| e.to_string())?;
    let mut changes = Changes { tx: &tx, savepoints };
    // Dropping the transaction of a pass that stopped rolls it back.
    let Some(done) = batch::apply_pass(&mut changes, batch, savepoints) else { return Ok(None) };
    let committed = tx.commit().map_err(|e| e.to_string());
    Ok(Some((done, committed)))
}

/// The changes of a batch's transaction.
struct Changes<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    savepoints: Savepoints,
}

impl Changes<'_> {
    /// Runs one change, in its own savepoint if the pass asks for them.
    fn run<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        match self.savepoints {
            Savepoints::No => f(self.tx),
            Savepoints::EachChange => in_savepoint(self.tx, f),
        }
    }
}

impl batch::Changes for Changes<'_> {
    fn submit(&mut self, d: &NewDossier) -> Result<SubmitOutcome, StoreError> {
        self.run(|c| submit(c, d))
    }
    fn claim(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
        agency: Option<&str>,
    ) -> Result<Vec<DeliveryJob>, StoreError> {
        self.run(|c| claim(c, now, limit, lease, agency))
    }
    fn record(&mut self, id: i64, result: &AttemptResult) -> Result<Option<String>, StoreError> {
        self.run(|c| record(c, id, result))
    }
    fn status(&mut self, s: &NewStatus) -> Result<StatusOutcome, StoreError> {
        self.run(|c| status::record(c, s))
    }
    fn prune_feeds(&mut self, before_ms: i64, limit: u64) -> Result<u64, StoreError> {
        self.run(|c| status::prune(c, before_ms, limit))
    }
    fn replay(&mut self, id: i64) -> Result<Option<DeadLetter>, StoreError> {
        self.run(|c| dead::replay(c, id))
    }
    fn add_head(&mut self, head: &AuditHead) -> Result<(), StoreError> {
        self.run(|c| audit::add_head(c, head))
    }
    fn notify_agency(&mut self, agency: &str, notice: &serde_json::Value) -> Result<Vec<String>, StoreError> {
        self.run(|c| status::notify_agency(c, agency, notice))
    }
    fn ack_feed(&mut self, member: &str, seq: i64) -> Result<(), StoreError> {
        self.run(|c| {
            c.prepare_cached(
                "INSERT INTO feed_heads (member, last_seq, read_seq) VALUES (?1, 0, 0)
                 ON CONFLICT (member) DO UPDATE SET read_seq = MAX(read_seq, MIN(?2, last_seq))",
            )
            .map_err(db)?
            .execute(params![member, seq])
            .map_err(db)
            .map(drop)
        })
    }
    fn prune_audit(
        &mut self,
        bodies_before_ms: Option<i64>,
        meta_before_ns: Option<i64>,
        limit: u64,
    ) -> Result<(u64, u64), StoreError> {
        self.run(|c| audit::prune(c, bodies_before_ms, meta_before_ns, limit))
    }
}

fn in_savepoint<T>(
    tx: &rusqlite::Transaction<'_>,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    // A nested savepoint on the open transaction; dropping it unapplied rolls it back.
    tx.prepare_cached("SAVEPOINT op").and_then(|mut s| s.execute([])).map_err(db)?;
    let r = f(tx);
    if r.is_ok() {
        tx.prepare_cached("RELEASE op").and_then(|mut s| s.execute([])).map_err(db)?;
    } else {
        tx.execute_batch("ROLLBACK TO op; RELEASE op").map_err(db)?;
    }
    r
}

fn submit(c: &Connection, d: &NewDossier) -> Result<SubmitOutcome, StoreError> {
    let existing: Option<(String, Vec<u8>, String)> = c
        .prepare_cached("SELECT sender, content_hash, receipt FROM dossiers WHERE code = ?1")
        .and_then(|mut s| s.query_row([d.code.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional())
        .map_err(db)?;
    if let Some((sender, hash, receipt)) = existing {
        if sender == d.sender.as_str() && hash == d.content_hash {
            let receipt: Receipt = serde_json::from_str(&receipt).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            return Ok(SubmitOutcome::Duplicate(receipt));
        }
        return Ok(SubmitOutcome::Conflict);
    }
    let now = Utc::now().timestamp_millis();
    let receipt = serde_json::to_string(&d.receipt).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    c.prepare_cached(
        "INSERT INTO dossiers (code, sender, agency, procedure_code, content_hash, media_type, body, canonical, receipt,
                               correlation_id, accepted_at_ms, received_at_ns, due_at_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .and_then(|mut s| {
        s.execute(params![
            d.code.as_str(),
            d.sender.as_str(),
            d.agency.as_str(),
            d.procedure_code,
            &d.content_hash[..],
            d.media_type,
            d.body,
            d.canonical_json,
            receipt,
            d.correlation_id,
            now,
            to_ns(&d.received_at),
            to_ns(&d.due_at)
        ])
    })
    .map_err(db)?;
    let mut insert = c
        .prepare_cached(
            "INSERT INTO deliveries (dossier_code, agency, idempotency_key, state, next_attempt_ms, created_at_ms)
             VALUES (?1, ?2, ?3, 'queued', ?4, ?4)",
        )
        .map_err(db)?;
    for agency in std::iter::once(&d.agency).chain(&d.also_to) {
        let key = format!("{}:{}", d.receipt.receipt_id, agency);
        insert.execute(params![d.code.as_str(), agency.as_str(), key, now]).map_err(db)?;
    }
    log_acceptance(c, d, &receipt)?;
    Ok(SubmitOutcome::Accepted(d.receipt.clone()))
}

/// The message log's records of an accepted dossier: its exact bytes and its receipt.
fn log_acceptance(c: &Connection, d: &NewDossier, receipt: &str) -> Result<(), StoreError> {
    let body_sha = hex::decode(&d.receipt.body_sha256)
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| StoreError::Corrupt("the receipt's body_sha256 is not a SHA-256".into()))?;
    let meta = super::acceptance_meta(d);
    let code = d.code.as_str();
    audit::append(c, crate::audit::kind::DOSSIER, code, None, &body_sha, &meta)?;
    let meta = serde_json::json!({"receipt_id": d.receipt.receipt_id, "accepted_at": d.receipt.accepted_at});
    audit::append(c, crate::audit::kind::RECEIPT, code, None, &crate::audit::sha256(receipt.as_bytes()), &meta)?;
    Ok(())
}

/// Claims due deliveries, due first, through the partial index of waiting rows:
/// `deliveries_due_by_agency` for one agency's loop, `deliveries_due` for any.
/// Ordered by id alone, SQLite walked the whole table in rowid order, past every
/// delivery ever made, on each claim, so a claim cost grew with the history and a
/// large backlog drained ever slower.
///
/// A claim moves the delivery's `next_attempt_ms` to the end of its lease, which
/// is when it is due again if the attempt never reports. Deliveries in flight are
/// then past the index range a claim reads, so a claim reads only what it takes.
/// With the lease checked row by row instead, each claim walked every delivery in
/// flight (and, with the agency outside the index range, every other agency's
/// waiting deliveries too), and a drain slowed as its queue grew.
///
/// The limit is bound as `CAST(?3 AS INTEGER)`, not as `?3`: this SQLite build
/// (STAT4) plans an `ORDER BY` with a bound limit for the value bound, so it compiled the
/// statement again on every run, about 240 allocations a dossier under load.
/// Every other query of this store takes its limit the same way.
macro_rules! claim_sql {
    ($agency:literal) => {
        concat!(
            "UPDATE deliveries SET lease_until_ms = ?1, next_attempt_ms = ?1
     WHERE id IN (SELECT id FROM deliveries d
                  WHERE state IN ('queued', 'retrying') AND next_attempt_ms <= ?2",
            $agency,
            "
                    AND (lease_until_ms IS NULL OR lease_until_ms < ?2)
                    AND (event_id IS NULL OR NOT EXISTS (
                        SELECT 1 FROM deliveries p
                        WHERE p.dossier_code = d.dossier_code AND p.agency = d.agency AND p.id < d.id
                          AND p.state IN ('queued', 'retrying')))
                  ORDER BY next_attempt_ms, id LIMIT CAST(?3 AS INTEGER))
     RETURNING id, agency, dossier_code, idempotency_key, attempts, event_id, created_at_ms"
        )
    };
}

/// Claims one agency's due deliveries (`?4` is the agency).
const CLAIM_AGENCY: &str = claim_sql!(" AND agency = ?4");

/// Claims due deliveries of any agency.
const CLAIM_ANY: &str = claim_sql!("");

fn claim(
    c: &Connection,
    now: DateTime<Utc>,
    limit: usize,
    lease: Duration,
    agency: Option<&str>,
) -> Result<Vec<DeliveryJob>, StoreError> {
    let now_ms = now.timestamp_millis();
    let until = now_ms + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
    let limit = limit as i64;
    let (sql, values): (_, &[&dyn rusqlite::ToSql]) = match &agency {
        Some(a) => (CLAIM_AGENCY, &[&until, &now_ms, &limit, a]),
        None => (CLAIM_ANY, &[&until, &now_ms, &limit]),
    };
    let mut stmt = c.prepare_cached(sql).map_err(db)?;
    let rows = stmt
        .query_map(values, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, u32>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    let mut jobs = Vec::with_capacity(rows.len());
    let mut dossier = c.prepare_cached("SELECT canonical, correlation_id FROM dossiers WHERE code = ?1").map_err(db)?;
    let mut event = c.prepare_cached("SELECT event FROM status_events WHERE id = ?1").map_err(db)?;
    for (id, agency, code, key, attempts, event_id, created) in rows {
        let (canonical_json, correlation_id): (String, String) =
            dossier.query_row([&code], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db)?;
        let event_json = match event_id {
            Some(e) => Some(event.query_row([e], |r| r.get::<_, String>(0)).map_err(db)?),
            None => None,
        };
        let agency = AgencyId::parse(&agency).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        jobs.push(DeliveryJob {
            id,
            agency,
            dossier_code: code,
            idempotency_key: key,
            attempts,
            created_at: ms(Some(created)).unwrap_or_default(),
            canonical_json,
            correlation_id,
            event_json,
        });
    }
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// Records an attempt's result; for a delivery that failed for good, the member
/// whose feed was told.
fn record(c: &Connection, id: i64, result: &AttemptResult) -> Result<Option<String>, StoreError> {
    let now = Utc::now().timestamp_millis();
    let (state, error, agency_ref, delivered, next) = match result {
        AttemptResult::Delivered { agency_ref } => ("delivered", None, agency_ref.as_deref(), Some(now), now),
        AttemptResult::Retry { error, next_attempt_at } => {
            ("retrying", Some(error.as_str()), None, None, next_attempt_at.timestamp_millis())
        }
        AttemptResult::Failed { error, .. } => ("failed", Some(error.as_str()), None, None, now),
    };
    let gave_up = matches!(result, AttemptResult::Failed { gave_up: true, .. });
    let n = c
        .prepare_cached(
            "UPDATE deliveries SET state = ?1, attempts = attempts + 1, last_error = COALESCE(?2, last_error),
                 agency_ref = COALESCE(?3, agency_ref), delivered_at_ms = ?4, next_attempt_ms = ?5, lease_until_ms = NULL,
                 gave_up = ?7
             WHERE id = ?6 AND state IN ('queued', 'retrying')",
        )
        .and_then(|mut s| s.execute(params![state, error, agency_ref, delivered, next, id, gave_up]))
        .map_err(db)?;
    if n == 0 {
        return Err(StoreError::Corrupt(format!("delivery {id} is not pending")));
    }
    let detail = super::attempt_detail(result);
    audit::attempt(c, id, state, &detail)?;
    match result {
        AttemptResult::Failed { error, .. } => status::notify_failure(c, id, error, now),
        _ => Ok(None),
    }
}

fn ms(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.and_then(|v| Utc.timestamp_millis_opt(v).single())
}

#[async_trait]
impl Store for SqliteStore {
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
    ) -> Result<Vec<DeliveryJob>, StoreError> {
        let agency = agency.map(|a| a.as_str().to_owned());
        self.call(|reply| Op::Claim { now, limit, lease, agency, reply }).await
    }

    async fn record_attempt(&self, delivery_id: i64, result: AttemptResult) -> Result<Option<String>, StoreError> {
        self.call(|reply| Op::Record { id: delivery_id, result, reply }).await
    }

    async fn delivery_counts(&self) -> Result<Vec<DeliveryCount>, StoreError> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT agency, state, COUNT(*) FROM deliveries GROUP BY agency, state ORDER BY agency, state",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))
                .map_err(db)?;
            rows.map(|row| {
                let (agency, state, count) = row.map_err(db)?;
                let state = DeliveryState::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("delivery state {state}")))?;
                Ok(DeliveryCount { agency, state, count: count.max(0) as u64 })
            })
            .collect()
        })
        .await
    }

    async fn pending(&self) -> Result<Vec<Pending>, StoreError> {
        self.read(|c| {
            // Walks a partial index of pending deliveries only. `created_at_ms`, not the
            // lowest id: a replay requeues an old id.
            let mut stmt = c
                .prepare_cached(
                    "SELECT agency, COUNT(*), MIN(created_at_ms) FROM deliveries
                     WHERE state IN ('queued', 'retrying') GROUP BY agency ORDER BY agency",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(Pending { agency: r.get(0)?, count: r.get::<_, i64>(1)?.max(0) as u64, oldest: ms(r.get(2)?) })
                })
                .map_err(db)?;
            rows.collect::<Result<_, _>>().map_err(db)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(db)).await
    }

    async fn dead_letters(&self, after: i64, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        self.read(move |c| dead::list(c, after, limit)).await
    }

    async fn replay(&self, id: i64) -> Result<Option<DeadLetter>, StoreError> {
        self.call(|reply| Op::Replay { id, reply }).await
    }

    async fn parties(&self, code: &MaHoSo) -> Result<Option<DossierParties>, StoreError> {
        let code = code.clone();
        self.read(move |c| status::parties(c, &code)).await
    }

    async fn record_status(&self, new: NewStatus) -> Result<StatusOutcome, StoreError> {
        self.call(|reply| Op::Status(Box::new(new), reply)).await
    }

    async fn feed(&self, member: &str, after: Option<u64>, limit: usize) -> Result<FeedPage, StoreError> {
        let member = member.to_owned();
        self.read(move |c| status::feed(c, &member, after, limit)).await
    }

    async fn prune_feeds(&self, before: DateTime<Utc>, limit: u64) -> Result<u64, StoreError> {
        let before_ms = before.timestamp_millis();
        self.call(|reply| Op::Prune { before_ms, limit, reply }).await
    }

    async fn stats(&self, window: StatsWindow, agency: Option<&AgencyId>) -> Result<Vec<StatsRow>, StoreError> {
        let agency = agency.map(|a| a.as_str().to_owned());
        self.read(move |c| status::stats(c, window, agency.as_deref())).await
    }

    async fn open_dossiers(
        &self,
        agency: &AgencyId,
        after: Option<&MaHoSo>,
        limit: usize,
    ) -> Result<Vec<MaHoSo>, StoreError> {
        let (agency, after) = (agency.as_str().to_owned(), after.map(|a| a.as_str().to_owned()));
        self.read(move |c| status::open_dossiers(c, &agency, after.as_deref(), limit)).await
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
        self.read(|c| {
            let pairs = |sql: &str| -> Result<Vec<(String, u64)>, StoreError> {
                let mut stmt = c.prepare_cached(sql).map_err(db)?;
                let rows = stmt
                    .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))
                    .map_err(db)?;
                rows.collect::<Result<_, _>>().map_err(db)
            };
            Ok(Gauges {
                dead_letters: pairs(
                    "SELECT agency, COUNT(*) FROM deliveries WHERE state = 'failed' GROUP BY agency ORDER BY agency",
                )?,
                feed_lag: pairs(
                    "SELECT member, MAX(last_seq - MAX(read_seq, floor_seq), 0) FROM feed_heads ORDER BY member",
                )?,
            })
        })
        .await
    }

    async fn audit_tip(&self) -> Result<Option<(i64, [u8; 32])>, StoreError> {
        self.read(audit::tip).await
    }

    async fn add_audit_head(&self, head: AuditHead) -> Result<(), StoreError> {
        self.call(|reply| Op::AddHead(head, reply)).await
    }

    async fn last_audit_head(&self) -> Result<Option<AuditHead>, StoreError> {
        self.read(audit::last_head).await
    }

    async fn audit_records(&self, after: i64, limit: usize) -> Result<AuditPage, StoreError> {
        self.read(move |c| audit::records(c, after, limit, true)).await
    }

    async fn audit_chain(&self, after: i64, limit: usize) -> Result<Vec<crate::store::AuditRecord>, StoreError> {
        let page = self.read(move |c| audit::records(c, after, limit, false)).await?;
        Ok(page.into_iter().map(|(record, _)| record).collect())
    }

    async fn audit_heads(&self, after: i64, limit: usize) -> Result<Vec<AuditHead>, StoreError> {
        self.read(move |c| audit::heads(c, after, limit)).await
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
}

#[cfg(test)]
pub(super) mod tests;

#[cfg(test)]
mod status_tests;

#[cfg(test)]
mod audit_tests;
