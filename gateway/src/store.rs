//! Durable storage of dossiers, receipts and the delivery queue, behind a trait so
//! that the handlers and the worker do not know which database holds them.
//!
//! The embedded default is SQLite ([`SqliteStore`]). Every method that changes
//! state is durable when it returns.

mod batch;
mod migrations;
pub mod postgres;
mod sqlite;
pub mod status;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use schemas::{AgencyId, MaHoSo, MemberId};
use serde::{Deserialize, Serialize};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// What a database holds of the schema (`lienthong store check`, `lienthong migrate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaReport {
    /// The database: a file path, or the server's version.
    pub database: String,
    /// Whether the connection is encrypted (always true of a local file).
    pub tls: bool,
    /// Migrations applied.
    pub applied: Vec<i64>,
    /// Migrations this build knows and the database lacks.
    pub pending: Vec<i64>,
    /// Migrations the database has that this build does not know (a newer build
    /// migrated it): this build must not serve it.
    pub unknown: Vec<i64>,
}

impl SchemaReport {
    /// Compares what a database applied with what this build knows.
    pub fn new(database: String, tls: bool, applied: Vec<i64>, known: &[i64]) -> SchemaReport {
        let pending = known.iter().copied().filter(|v| !applied.contains(v)).collect();
        let unknown = applied.iter().copied().filter(|v| !known.contains(v)).collect();
        SchemaReport { database, tls, applied, pending, unknown }
    }

    /// Whether this build can serve the database as it is.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }
}

/// Reports the embedded store's schema without changing it.
pub fn sqlite_check(path: &std::path::Path) -> Result<SchemaReport, StoreError> {
    if !path.exists() {
        return Err(StoreError::Database(format!("{}: no such database", path.display())));
    }
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| StoreError::Database(e.to_string()))?;
    let ok: String =
        conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| StoreError::Database(e.to_string()))?;
    if ok != "ok" {
        return Err(StoreError::Corrupt(format!("{}: {ok}", path.display())));
    }
    let applied = migrations::applied_versions(&conn).map_err(|e| StoreError::Database(e.to_string()))?;
    Ok(SchemaReport::new(path.display().to_string(), true, applied, &migrations::known_versions()))
}

/// How the error of a delivery given up after retries begins.
pub const GAVE_UP: &str = "gave up after";
pub use status::{
    CurrentStatus, DossierParties, FeedEntry, FeedPage, Figures, NewStatus, RecordedStatus, StatsRow, StatsWindow,
    StatusOutcome,
};

/// What the gateway hands back when it accepts a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The gateway's id for this acceptance.
    pub receipt_id: String,
    /// The dossier code.
    pub dossier_code: String,
    /// The member that sent it.
    pub sender: String,
    /// The agency it will be delivered to.
    pub agency: String,
    /// When it was stored, RFC 3339 in Vietnam's zone.
    pub accepted_at: String,
    /// SHA-256 (hex) of the exact bytes received.
    pub body_sha256: String,
    /// Who signed the dossier, when it was signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<crate::signatures::SignedBy>,
}

/// A dossier to store together with its first delivery.
#[derive(Debug, Clone)]
pub struct NewDossier {
    /// The dossier code (unique across the gateway).
    pub code: MaHoSo,
    /// Who sent it.
    pub sender: MemberId,
    /// The agency that decides it.
    pub agency: AgencyId,
    /// Further agencies that get the dossier too (DVCQG's status synchronisation):
    /// one more delivery each, not another dossier.
    pub also_to: Vec<AgencyId>,
    /// The procedure code, for statistics.
    pub procedure_code: String,
    /// When it was received (`NgayTiepNhan`), for statistics.
    pub received_at: DateTime<Utc>,
    /// When it is due (`NgayHenTra`), for on-time tracking.
    pub due_at: DateTime<Utc>,
    /// Hash of the canonical content, which decides "the same dossier again".
    pub content_hash: [u8; 32],
    /// The media type it arrived in.
    pub media_type: String,
    /// The exact bytes received.
    pub body: Vec<u8>,
    /// The canonical dossier as JSON.
    pub canonical_json: String,
    /// The receipt to return.
    pub receipt: Receipt,
    /// The request's correlation id.
    pub correlation_id: String,
}

/// What storing a dossier did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// Stored now, with this receipt.
    Accepted(Receipt),
    /// The same sender sent the same content before: the original receipt.
    Duplicate(Receipt),
    /// The code is taken by different content or another sender.
    Conflict,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its first attempt.
    Queued,
    /// Failed in a way that may pass; waiting for the next attempt.
    Retrying,
    /// The agency has it.
    Delivered,
    /// The agency refused it for good.
    Failed,
}

impl DeliveryState {
    /// Whether the delivery is over (delivered or failed for good).
    pub fn is_done(self) -> bool {
        matches!(self, Self::Delivered | Self::Failed)
    }

    /// The state's name, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Retrying => "retrying",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored state name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "retrying" => Self::Retrying,
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A delivery as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryInfo {
    /// The agency.
    pub agency: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// The agency's reference once delivered.
    pub agency_ref: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the next attempt is due, while queued or retrying; while an attempt
    /// is in flight, when its claim lapses (it is sent again then if the attempt
    /// never reports).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// For a status update rather than the dossier itself: the event's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<i64>,
}

/// A stored status event, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// The event's id, as in the feeds.
    pub event_id: i64,
    /// The event in canonical form.
    pub event: serde_json::Value,
    /// Who reported it.
    pub reported_by: String,
    /// When the gateway stored it.
    pub recorded_at: DateTime<Utc>,
}

/// A stored dossier with its deliveries and history.
#[derive(Debug, Clone)]
pub struct StoredDossier {
    /// Who sent it.
    pub sender: String,
    /// Where it goes.
    pub agency: String,
    /// The canonical dossier as JSON.
    pub canonical_json: String,
    /// The receipt given.
    pub receipt: Receipt,
    /// Its deliveries.
    pub deliveries: Vec<DeliveryInfo>,
    /// Its status history, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Where its status stands, once an event was accepted.
    pub current: Option<CurrentStatus>,
    /// Its due date: `NgayHenTra`, or the last new due date an event announced.
    pub due_at: Option<DateTime<Utc>>,
    /// When its processing finished, if it has.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A delivery claimed by a worker, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct DeliveryJob {
    /// The delivery's id.
    pub id: i64,
    /// The agency.
    pub agency: AgencyId,
    /// The dossier code.
    pub dossier_code: String,
    /// The key the agency uses to drop repeats.
    pub idempotency_key: String,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When the delivery was queued.
    pub created_at: DateTime<Utc>,
    /// The canonical dossier as JSON.
    pub canonical_json: String,
    /// The correlation id of the accepting request.
    pub correlation_id: String,
    /// For a status update: the event in canonical form, as JSON text; the
    /// dossier is then only context.
    pub event_json: Option<String>,
}

/// The result of one attempt, to record.
#[derive(Debug, Clone)]
pub enum AttemptResult {
    /// Delivered.
    Delivered {
        /// The agency's reference, if it gave one.
        agency_ref: Option<String>,
    },
    /// Try again at the given time.
    Retry {
        /// Why it failed.
        error: String,
        /// When to try again.
        next_attempt_at: DateTime<Utc>,
    },
    /// Never try again.
    Failed {
        /// Why.
        error: String,
        /// Whether it was given up after retries (the agency may hold it: a
        /// replay keeps its idempotency key) rather than refused by the agency
        /// (a replay gets a new key).
        gave_up: bool,
    },
}

/// Counts of deliveries by agency and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryCount {
    /// The agency.
    pub agency: String,
    /// The state.
    pub state: DeliveryState,
    /// How many.
    pub count: u64,
}

/// What the gauges read from the store at each scrape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Dead letters per agency.
    pub dead_letters: Vec<(String, u64)>,
    /// Per member: entries after the last position it read from.
    pub feed_lag: Vec<(String, u64)>,
}

/// The deliveries waiting for one agency (queued or retrying).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The agency.
    pub agency: String,
    /// How many wait.
    pub count: u64,
    /// When the oldest of them was queued.
    pub oldest: Option<DateTime<Utc>>,
}

/// A delivery that failed for good (refused by the agency, or retried past
/// `delivery.give_up_after`), kept for operators to inspect and replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    /// The delivery's id.
    pub id: i64,
    /// The dossier code.
    pub dossier: String,
    /// The agency.
    pub agency: String,
    /// For a status update, the event's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<i64>,
    /// Attempts made.
    pub attempts: u32,
    /// Why the last one failed.
    pub last_error: Option<String>,
    /// When it was given up.
    pub failed_at: Option<DateTime<Utc>>,
}

/// One record of the tamper-evident message log ([`crate::audit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Its position: 1, 2, 3, ... with no gap.
    pub seq: i64,
    /// When it was written, nanoseconds since the epoch.
    pub at_ns: i64,
    /// What it is about ([`crate::audit::kind`]).
    pub kind: String,
    /// The dossier it concerns.
    pub dossier: String,
    /// The status event (`status`) or delivery (`attempt`, `replay`) it names.
    pub ref_id: Option<i64>,
    /// SHA-256 of the exact bytes it is about.
    pub digest: [u8; 32],
    /// Its metadata (JSON, never personal data); `None` once past its retention.
    pub meta: Option<String>,
    /// SHA-256 of the metadata, kept after the metadata is removed.
    pub meta_sha: [u8; 32],
    /// Its chain hash, committing to every record before it.
    pub chain: [u8; 32],
}

/// Records of the message log, each with the stored content its digest is of,
/// when the store still holds it.
pub type AuditPage = Vec<(AuditRecord, Option<Vec<u8>>)>;

/// A head of the message log signed by the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// The last record it covers.
    pub seq: i64,
    /// That record's chain hash.
    pub chain: [u8; 32],
    /// When it was signed, nanoseconds since the epoch.
    pub signed_at_ns: i64,
    /// The gateway's detached JWS over [`crate::audit::head_payload`].
    pub jws: String,
}

/// The message log's metadata of an accepted dossier (no personal data).
pub(crate) fn acceptance_meta(d: &NewDossier) -> serde_json::Value {
    let signer = d.receipt.signed_by.as_ref().map(|s| {
        serde_json::json!({"subject": s.subject, "cert_sha256": s.cert_sha256, "algorithm": s.algorithm, "format": s.format})
    });
    let also_to: Vec<&str> = d.also_to.iter().map(|a| a.as_str()).collect();
    serde_json::json!({
        "sender": d.sender.as_str(), "agency": d.agency.as_str(), "also_to": also_to,
        "procedure": d.procedure_code, "media_type": d.media_type, "receipt_id": d.receipt.receipt_id,
        "correlation_id": d.correlation_id, "content_sha256": hex::encode(d.content_hash),
        "body_kept": !d.body.is_empty(), "signed_by": signer,
    })
}

/// The message log's detail of an attempt's result.
pub(crate) fn attempt_detail(result: &AttemptResult) -> serde_json::Value {
    match result {
        AttemptResult::Delivered { agency_ref } => serde_json::json!({"agency_ref": agency_ref}),
        AttemptResult::Retry { error, next_attempt_at } => {
            serde_json::json!({"error": error, "next_attempt_at": next_attempt_at.to_rfc3339()})
        }
        AttemptResult::Failed { error, gave_up } => serde_json::json!({"error": error, "gave_up": gave_up}),
    }
}

/// The message log's metadata of an accepted status event.
pub(crate) fn status_meta(s: &NewStatus, event_id: i64, recipients: &[String]) -> serde_json::Value {
    serde_json::json!({
        "event_id": event_id, "status": s.event.status.code(), "at": s.event.at.to_rfc3339(),
        "reported_by": s.reported_by, "recipients": recipients, "sync_to": s.sync_to.as_ref().map(|a| a.as_str()),
        "correlation_id": s.correlation_id,
    })
}

/// The feed notice telling a sender that a delivery failed for good.
pub(crate) fn failure_notice(code: &str, agency: &str, delivery: i64, event_id: Option<i64>, error: &str) -> String {
    serde_json::json!({
        "kind": "delivery_failed",
        "dossier": code,
        "agency": agency,
        "delivery_id": delivery,
        "event_id": event_id,
        "error": error,
    })
    .to_string()
}

/// A store failure; the request that met it stored nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// The store's worker thread is gone.
    #[error("the store is shut down")]
    Closed,
    /// Stored data could not be read back.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

/// Rows a retention prune changes in one call of [`Store::prune_audit`] or
/// [`Store::prune_feeds`]. The writer is one, and every submission waits for
/// what it is doing: emptying 500 bodies took it 212 ms on a cold cache, and
/// an hour's bodies at 500/s are 1.8 million. So a prune is done in batches
/// that submissions are grouped between.
pub const PRUNE_BATCH: u64 = 100;

/// Durable storage of the gateway.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a dossier and queues its delivery in one transaction, or finds that it
    /// was stored before.
    async fn submit(&self, dossier: NewDossier) -> Result<SubmitOutcome, StoreError>;

    /// Reads one dossier with its deliveries and history.
    async fn dossier(&self, code: &MaHoSo) -> Result<Option<StoredDossier>, StoreError>;

    /// Claims up to `limit` due deliveries (to `agency` only, when given), oldest
    /// first, for `lease`: no other claim returns them until the lease ends or
    /// their result is recorded.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
        agency: Option<&AgencyId>,
    ) -> Result<Vec<DeliveryJob>, StoreError>;

    /// Records the result of an attempt and releases the claim. A delivery that
    /// failed for good is also told, in the same transaction, to the dossier's
    /// sender in its feed: the member returned, to wake.
    async fn record_attempt(&self, delivery_id: i64, result: AttemptResult) -> Result<Option<String>, StoreError>;

    /// Counts deliveries by agency and state (a full count: for reports).
    async fn delivery_counts(&self) -> Result<Vec<DeliveryCount>, StoreError>;

    /// The deliveries waiting per agency, through the index of pending
    /// deliveries: its cost is the backlog's size, not the history's, so it can
    /// be read every second.
    async fn pending(&self) -> Result<Vec<Pending>, StoreError>;

    /// Checks the store answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Up to `limit` dead letters with an id above `after`, oldest first.
    async fn dead_letters(&self, after: i64, limit: usize) -> Result<Vec<DeadLetter>, StoreError>;

    /// Queues a dead letter again, due now, with its attempts reset; `None` when
    /// `id` is not a dead letter.
    async fn replay(&self, id: i64) -> Result<Option<DeadLetter>, StoreError>;

    /// Who sent a dossier and which agency decides it.
    async fn parties(&self, code: &MaHoSo) -> Result<Option<DossierParties>, StoreError>;

    /// Checks a status event against the dossier's lifecycle and, when it may
    /// follow, stores it, moves the dossier's state and dates, appends it to every
    /// recipient's feed and queues its delivery to the sync agency, in one
    /// transaction.
    async fn record_status(&self, status: NewStatus) -> Result<StatusOutcome, StoreError>;

    /// Up to `limit` entries of `member`'s feed after position `after`, oldest
    /// first; from the oldest entry kept when `after` is `None`.
    async fn feed(&self, member: &str, after: Option<u64>, limit: usize) -> Result<FeedPage, StoreError>;

    /// Removes feed entries stored before `before`, about `limit` of the oldest
    /// per call (each member's oldest first, so a feed never has a hole);
    /// returns how many were removed. A caller removes the rest by calling
    /// again until fewer than `limit` are removed, so that the writer is never
    /// held for long (see [`PRUNE_BATCH`]).
    async fn prune_feeds(&self, before: DateTime<Utc>, limit: u64) -> Result<u64, StoreError>;

    /// Figures per agency and procedure over a window, optionally for one agency.
    async fn stats(&self, window: StatsWindow, agency: Option<&AgencyId>) -> Result<Vec<StatsRow>, StoreError>;

    /// Up to `limit` codes, in code order after `after`, of dossiers decided by
    /// `agency` whose processing is not closed: the ones worth polling it for.
    async fn open_dossiers(
        &self,
        agency: &AgencyId,
        after: Option<&MaHoSo>,
        limit: usize,
    ) -> Result<Vec<MaHoSo>, StoreError>;

    /// Tells every member with deliveries waiting for `agency`, in its feed, a
    /// notice about the agency (unreachable, back), with `waiting` set to how
    /// many of that member's deliveries wait; returns the members told.
    async fn notify_agency(&self, agency: &AgencyId, notice: serde_json::Value) -> Result<Vec<String>, StoreError>;

    /// Records that `member` has read its feed up to position `seq` (never
    /// moving back), for its lag.
    async fn ack_feed(&self, member: &str, seq: u64) -> Result<(), StoreError>;

    /// Dead letters per agency and each member's feed lag, through indexes.
    async fn gauges(&self) -> Result<Gauges, StoreError>;

    /// The message log's last record: its position and chain hash.
    async fn audit_tip(&self) -> Result<Option<(i64, [u8; 32])>, StoreError>;

    /// Stores a signed head, after checking it names a record with its chain hash.
    async fn add_audit_head(&self, head: AuditHead) -> Result<(), StoreError>;

    /// The newest signed head.
    async fn last_audit_head(&self) -> Result<Option<AuditHead>, StoreError>;

    /// Up to `limit` records after position `after`, in order, each with the
    /// stored content its digest is of, when the store still holds it.
    async fn audit_records(&self, after: i64, limit: usize) -> Result<AuditPage, StoreError>;

    /// Up to `limit` records after position `after`, in order, without their
    /// content: what checking the chain's links needs, without reading a body.
    async fn audit_chain(&self, after: i64, limit: usize) -> Result<Vec<AuditRecord>, StoreError>;

    /// Up to `limit` signed heads after position `after`, in order.
    async fn audit_heads(&self, after: i64, limit: usize) -> Result<Vec<AuditHead>, StoreError>;

    /// Removes up to `limit` message bodies accepted before `bodies_before` and
    /// up to `limit` records' metadata written before `meta_before`; returns how
    /// many of each. A caller with more to remove calls again, so that one
    /// prune never holds the writer for long (see [`PRUNE_BATCH`]).
    async fn prune_audit(
        &self,
        bodies_before: Option<DateTime<Utc>>,
        meta_before: Option<DateTime<Utc>>,
        limit: u64,
    ) -> Result<(u64, u64), StoreError>;

    /// Wakes `hub`'s long-polls when another process sharing the store adds to a
    /// feed. A store only one process opens has nothing to listen to.
    fn listen_feeds(&self, hub: std::sync::Arc<crate::feed::FeedHub>) {
        let _ = hub;
    }
}
