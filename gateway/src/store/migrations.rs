//! Schema migrations of the SQLite store, applied in order at start-up.

use rusqlite::Connection;

/// Each migration: its version and the SQL that brings the schema to it.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    r#"
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
"#,
)];

/// Brings the database schema up to date; each migration is one transaction.
pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)",
    )?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: bool =
            tx.query_row("SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| r.get(0))?;
        if !done {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)",
                rusqlite::params![version, chrono::Utc::now().timestamp_millis()],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}
