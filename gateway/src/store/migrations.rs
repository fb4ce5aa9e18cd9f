//! Schema migrations of the SQLite store, applied in order at start-up.

use rusqlite::Connection;

/// Fills what a migration's new columns cannot compute in SQL.
type Backfill = fn(&Connection) -> rusqlite::Result<()>;

/// Each migration: its version, the SQL that brings the schema to it, and the
/// backfill of existing rows, if any.
const MIGRATIONS: &[(i64, &str, Option<Backfill>)] =
    &[(1, V1, None), (2, V2, Some(backfill_dossier_dates)), (3, V3, None), (4, V4, None), (5, V5, None)];

/// The tamper-evident message log and its signed heads (see [`crate::audit`]).
/// `ref_id` names the status event of a `status` record and the delivery of an
/// `attempt` or `replay` record.
const V5: &str = r#"
CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at_ns         INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    dossier_code  TEXT NOT NULL,
    ref_id        INTEGER,
    digest        BLOB NOT NULL,
    meta          TEXT,
    meta_sha      BLOB NOT NULL,
    chain         BLOB NOT NULL
);
CREATE TABLE audit_heads (
    seq           INTEGER PRIMARY KEY REFERENCES audit_log(seq),
    chain         BLOB NOT NULL,
    signed_at_ns  INTEGER NOT NULL,
    jws           TEXT NOT NULL
);
"#;

/// Notices in the feeds besides status events: a delivery that failed for good
/// is told to the dossier's sender. A feed entry is an event or a notice.
const V4: &str = r#"
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_code    TEXT NOT NULL REFERENCES dossiers(code),
    body            TEXT NOT NULL,
    recorded_at_ms  INTEGER NOT NULL
);
CREATE TABLE feed_entries_v4 (
    member          TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    event_id        INTEGER REFERENCES status_events(id),
    notice_id       INTEGER REFERENCES notices(id),
    recorded_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (member, seq),
    CHECK ((event_id IS NULL) <> (notice_id IS NULL))
) WITHOUT ROWID;
INSERT INTO feed_entries_v4 (member, seq, event_id, recorded_at_ms)
    SELECT member, seq, event_id, recorded_at_ms FROM feed_entries;
DROP TABLE feed_entries;
ALTER TABLE feed_entries_v4 RENAME TO feed_entries;
CREATE INDEX feed_entries_by_age ON feed_entries (recorded_at_ms);
"#;

/// Each agency's delivery loop claims only that agency's due deliveries.
const V3: &str = "CREATE INDEX deliveries_due_by_agency ON deliveries (agency, next_attempt_ms, id) \
                  WHERE state IN ('queued', 'retrying');";

/// Dossiers, their deliveries and their status history.
pub(super) const V1: &str = r#"
CREATE TABLE dossiers (
    code            TEXT PRIMARY KEY,
    sender          TEXT NOT NULL,
    agency          TEXT NOT NULL,
    procedure_code  TEXT NOT NULL,
    content_hash    BLOB NOT NULL,
    media_type      TEXT NOT NULL,
    body            BLOB NOT NULL,
    canonical       TEXT NOT NULL,
    receipt         TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    accepted_at_ms  INTEGER NOT NULL
);
CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_code     TEXT NOT NULL REFERENCES dossiers(code),
    agency           TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL,
    lease_until_ms   INTEGER,
    last_error       TEXT,
    agency_ref       TEXT,
    delivered_at_ms  INTEGER,
    created_at_ms    INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_ms, id) WHERE state IN ('queued', 'retrying');
CREATE INDEX deliveries_by_dossier ON deliveries (dossier_code);
CREATE TABLE status_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_code    TEXT NOT NULL REFERENCES dossiers(code),
    event           TEXT NOT NULL,
    reported_by     TEXT NOT NULL,
    recorded_at_ms  INTEGER NOT NULL
);
CREATE INDEX status_events_by_dossier ON status_events (dossier_code, id);
"#;

/// The status lifecycle, the feeds, and on-time tracking: each dossier's current
/// state and dates (nanoseconds since the epoch, so that on time and late compare
/// exact instants), status deliveries in the outbox, and one gap-free sequence per
/// member's feed.
const V2: &str = r#"
ALTER TABLE dossiers ADD COLUMN received_at_ns INTEGER;
ALTER TABLE dossiers ADD COLUMN due_at_ns INTEGER;
ALTER TABLE dossiers ADD COLUMN finished_at_ns INTEGER;
ALTER TABLE dossiers ADD COLUMN status INTEGER;
ALTER TABLE dossiers ADD COLUMN status_at_ns INTEGER;
ALTER TABLE dossiers ADD COLUMN status_hash BLOB;
CREATE INDEX dossiers_by_agency ON dossiers (agency, code);
ALTER TABLE status_events ADD COLUMN status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE status_events ADD COLUMN at_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE status_events ADD COLUMN content_hash BLOB;
CREATE INDEX status_events_by_hash ON status_events (dossier_code, content_hash);
ALTER TABLE deliveries ADD COLUMN event_id INTEGER REFERENCES status_events(id);
CREATE INDEX deliveries_fifo ON deliveries (dossier_code, agency, id) WHERE state IN ('queued', 'retrying');
CREATE TABLE feed_heads (
    member     TEXT PRIMARY KEY,
    last_seq   INTEGER NOT NULL,
    floor_seq  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE feed_entries (
    member          TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    event_id        INTEGER NOT NULL REFERENCES status_events(id),
    recorded_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (member, seq)
) WITHOUT ROWID;
CREATE INDEX feed_entries_by_age ON feed_entries (recorded_at_ms);
"#;

/// Dossiers stored before version 2 get their received and due instants from
/// their canonical form.
fn backfill_dossier_dates(conn: &Connection) -> rusqlite::Result<()> {
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT code, canonical FROM dossiers WHERE received_at_ns IS NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare("UPDATE dossiers SET received_at_ns = ?1, due_at_ns = ?2 WHERE code = ?3")?;
    for (code, canonical) in rows {
        let Ok(d) = serde_json::from_str::<schemas::Dossier>(&canonical) else { continue };
        let ns = |t: &schemas::VnDateTime| super::status::to_ns(&t.to_utc());
        update.execute(rusqlite::params![ns(&d.received_at), ns(&d.due_at), code])?;
    }
    Ok(())
}

/// Brings the database schema up to date; each migration is one transaction.
pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)",
    )?;
    for (version, sql, backfill) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: bool =
            tx.query_row("SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| r.get(0))?;
        if !done {
            tx.execute_batch(sql)?;
            if let Some(fill) = backfill {
                fill(&tx)?;
            }
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)",
                rusqlite::params![version, chrono::Utc::now().timestamp_millis()],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}
