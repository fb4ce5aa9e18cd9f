//! Dead letters: deliveries in state `failed`, listed and replayed.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{db, ms};
use crate::store::{DeadLetter, StoreError};

const COLUMNS: &str = "id, dossier_code, agency, event_id, attempts, last_error, next_attempt_ms";

fn letter(r: &Row<'_>) -> rusqlite::Result<DeadLetter> {
    Ok(DeadLetter {
        id: r.get(0)?,
        dossier: r.get(1)?,
        agency: r.get(2)?,
        event_id: r.get(3)?,
        attempts: r.get(4)?,
        last_error: r.get(5)?,
        failed_at: ms(Some(r.get(6)?)),
    })
}

/// Up to `limit` dead letters after id `after`, by id.
pub(super) fn list(c: &Connection, after: i64, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM deliveries WHERE state = 'failed' AND id > ?1 ORDER BY id LIMIT CAST(?2 AS INTEGER)"
    );
    let mut stmt = c.prepare_cached(&sql).map_err(db)?;
    let rows = stmt.query_map(params![after, i64::try_from(limit).unwrap_or(i64::MAX)], letter).map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}

/// Queues dead letter `id` again, due now; `None` if it is not one.
///
/// The replay starts a new `delivery.give_up_after` window.
///
/// An agency keeps its answer for an idempotency key, so a delivery it refused
/// is sent again under a new key (it created nothing the first time). One given
/// up after retries keeps its key: the agency may have it already, and must
/// drop the repeat.
pub(super) fn replay(c: &Connection, id: i64) -> Result<Option<DeadLetter>, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let sql = format!(
        "UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_ms = ?2, lease_until_ms = NULL,
             created_at_ms = ?2, gave_up = 0,
             idempotency_key = CASE WHEN gave_up THEN idempotency_key ELSE idempotency_key || ':replay-' || ?2 END
         WHERE id = ?1 AND state = 'failed' RETURNING {COLUMNS}"
    );
    let letter = c.prepare_cached(&sql).map_err(db)?.query_row(params![id, now], letter).optional().map_err(db)?;
    if let Some(l) = &letter {
        let key: String =
            c.query_row("SELECT idempotency_key FROM deliveries WHERE id = ?1", [id], |r| r.get(0)).map_err(db)?;
        let meta = serde_json::json!({
            "delivery": id, "agency": l.agency, "event_id": l.event_id, "last_error": l.last_error,
            "idempotency_key": key,
        });
        let digest = crate::audit::sha256(meta.to_string().as_bytes());
        super::audit::append(c, crate::audit::kind::REPLAY, &l.dossier, Some(id), &digest, &meta)?;
    }
    Ok(letter)
}
