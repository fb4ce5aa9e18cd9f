//! Schema migrations of the SQLite store, applied in order at start-up.

use rusqlite::{Connection, OptionalExtension};

/// Fills what a migration's new columns cannot compute in SQL.
type Backfill = fn(&Connection) -> rusqlite::Result<()>;

/// Each migration: its version, the SQL that brings the schema to it, and the
/// backfill of existing rows, if any.
const MIGRATIONS: &[(i64, &str, Option<Backfill>)] = &[
    (1, V1, None),
    (2, V2, Some(backfill_dossier_dates)),
    (3, V3, None),
    (4, V4, None),
    (5, V5, None),
    (6, V6, None),
    (7, V7, None),
    (8, V8, None),
    (9, V9, None),
    (10, V10, None),
    (11, V11, None),
];

/// The retention prune finds the bodies past `audit.body_retention` through this
/// index. Without it each hourly prune scanned `dossiers`, whose
/// `accepted_at_ms` sits after the body, the canonical form and the receipt:
/// every row read walked their overflow pages, in the writer. At 1.8 million
/// dossiers (an hour at 500/s) that held every submission for over 30 s. Rows
/// whose body is already gone (or never kept) are not in it.
const V11: &str = "CREATE INDEX dossiers_bodies_by_age ON dossiers (accepted_at_ms) WHERE length(body) > 0;";

/// The statistics (`/v1/stats`, and the gauges of every `/metrics` scrape) read
/// only this index. Without it they scanned `dossiers`, whose on-time columns,
/// added by version 2, sit after the body and the canonical form: every row read
/// walked the overflow pages of both (0.43 s warm, 3.3 s cold, for 74,404
/// dossiers, against 0.015 s with the index), holding the one reader connection
/// the other reads wait for.
const V10: &str = "CREATE INDEX dossiers_stats ON dossiers \
                   (agency, procedure_code, received_at_ns, due_at_ns, finished_at_ns);";

/// The oldest waiting delivery per agency, by when it was queued (a replay
/// requeues an old id), for its age.
const V9: &str = "CREATE INDEX deliveries_waiting_since ON deliveries (agency, created_at_ms) \
                  WHERE state IN ('queued', 'retrying');";

/// Each member's read position, for its feed lag; and an index of dead letters,
/// for their gauge.
const V8: &str = "ALTER TABLE feed_heads ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_failed ON deliveries (agency) WHERE state = 'failed';";

/// How a delivery failed for good is a column, not a prefix of its error text:
/// given up after retries (a replay keeps its idempotency key), or refused.
const V7: &str = "ALTER TABLE deliveries ADD COLUMN gave_up INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET gave_up = 1 WHERE state = 'failed' AND last_error LIKE 'gave up after%';";

/// Notices about an agency rather than one dossier (it is unreachable, it is
/// back): `dossier_code` may be NULL. The table is rebuilt, the way SQLite
/// changes a column's constraint.
const V6: &str = r#"
CREATE TABLE notices_v6 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_code    TEXT REFERENCES dossiers(code),
    body            TEXT NOT NULL,
    recorded_at_ms  INTEGER NOT NULL
);
INSERT INTO notices_v6 (id, dossier_code, body, recorded_at_ms) SELECT id, dossier_code, body, recorded_at_ms FROM notices;
DROP TABLE notices;
ALTER TABLE notices_v6 RENAME TO notices;
"#;

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

/// The versions this build knows, in order.
pub(crate) fn known_versions() -> Vec<i64> {
    MIGRATIONS.iter().map(|(v, _, _)| *v).collect()
}

/// The versions a database has applied (none for a new file).
pub(crate) fn applied_versions(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

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
///
/// Foreign keys are off while migrations run, so a table can be rebuilt under
/// the rows that refer to it; each migration's transaction commits only after
/// `foreign_key_check` finds every reference intact.
pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    apply_until(conn, i64::MAX)
}

/// Applies the migrations up to version `last`.
fn apply_until(conn: &mut Connection, last: i64) -> rusqlite::Result<()> {
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let applied = apply_each(conn, last);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    applied
}

fn apply_each(conn: &mut Connection, last: i64) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)",
    )?;
    let known = known_versions();
    if let Some(v) = applied_versions(conn)?.into_iter().find(|v| !known.contains(v)) {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
            Some(format!("the database is at schema version {v}, which this build does not know: upgrade the gateway")),
        ));
    }
    for (version, sql, backfill) in MIGRATIONS.iter().filter(|(v, _, _)| *v <= last) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: bool =
            tx.query_row("SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| r.get(0))?;
        if !done {
            tx.execute_batch(sql)?;
            if let Some(fill) = backfill {
                fill(&tx)?;
            }
            let broken: Option<String> = tx.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional()?;
            if let Some(table) = broken {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                    Some(format!("migration {version} leaves a broken reference in {table}")),
                ));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A database migrated up to `version` holding dossier `D1`.
    fn at_version_with_a_dossier(version: i64) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        apply_until(&mut conn, version).unwrap();
        conn.execute_batch(
            "INSERT INTO dossiers (code, sender, agency, procedure_code, content_hash, media_type, body, canonical,
                                   receipt, correlation_id, accepted_at_ms)
                 VALUES ('D1', 'portal-a', 'moj', 'p', x'00', 'application/json', x'7b7d', '{}', '{}', 'c', 1);",
        )
        .unwrap();
        conn
    }

    /// Version 6 rebuilds `notices` under the feed entries that refer to it: they
    /// still resolve afterwards, and a notice may then name no dossier.
    #[test]
    fn rebuilding_the_notices_keeps_the_feed_entries_that_refer_to_them() {
        let mut conn = at_version_with_a_dossier(5);
        conn.execute_batch(
            "INSERT INTO notices (id, dossier_code, body, recorded_at_ms) VALUES (7, 'D1', '{\"kind\":\"x\"}', 1);
             INSERT INTO feed_entries (member, seq, notice_id, recorded_at_ms) VALUES ('portal-a', 1, 7, 1);",
        )
        .unwrap();
        apply(&mut conn).unwrap();
        let body: String = conn
            .query_row(
                "SELECT n.body FROM feed_entries f JOIN notices n ON n.id = f.notice_id WHERE f.member = 'portal-a'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(body, r#"{"kind":"x"}"#);
        let fk: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert!(fk, "foreign keys are on again");
        let next: i64 = conn
            .query_row(
                "INSERT INTO notices (dossier_code, body, recorded_at_ms) VALUES (NULL, '{}', 2) RETURNING id",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(next, 8, "ids go on after the copied ones");
        assert!(conn
            .execute("INSERT INTO notices (dossier_code, body, recorded_at_ms) VALUES ('nope', '{}', 3)", [])
            .is_err());
    }

    /// Version 7 reads how each dead letter failed off its error text once; from
    /// then on it is a column.
    #[test]
    fn dead_letters_given_up_before_version_7_keep_their_kind() {
        let mut conn = at_version_with_a_dossier(6);
        conn.execute_batch(
            "INSERT INTO deliveries (id, dossier_code, agency, idempotency_key, state, next_attempt_ms, created_at_ms, last_error)
                 VALUES (1, 'D1', 'moj', 'k1', 'failed', 1, 1, 'gave up after 3days: HTTP 503'),
                        (2, 'D1', 'moj', 'k2', 'failed', 1, 1, 'refused: bad payload'),
                        (3, 'D1', 'moj', 'k3', 'retrying', 1, 1, 'gave up after nothing: a retry');",
        )
        .unwrap();
        apply(&mut conn).unwrap();
        let kinds: Vec<(i64, bool)> = conn
            .prepare("SELECT id, gave_up FROM deliveries ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(kinds, [(1, true), (2, false), (3, false)]);
    }
}
