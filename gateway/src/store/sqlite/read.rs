//! Reading one dossier back with its deliveries, history and current state.

use rusqlite::{Connection, OptionalExtension};

use super::{db, ms, status};
use crate::store::status::from_ns;
use crate::store::{DeliveryInfo, DeliveryState, HistoryEntry, StoreError, StoredDossier};

type DossierRow = (String, String, String, String, Option<u8>, Option<i64>, Option<i64>, Option<i64>);

/// The dossier `code` as the API shows it, if stored.
pub(super) fn dossier(c: &Connection, code: &str) -> Result<Option<StoredDossier>, StoreError> {
    let row: Option<DossierRow> = c
        .query_row(
            "SELECT sender, agency, canonical, receipt, status, status_at_ns, due_at_ns, finished_at_ns
             FROM dossiers WHERE code = ?1",
            [code],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
        )
        .optional()
        .map_err(db)?;
    let Some((sender, agency, canonical_json, receipt, status, status_at, due, finished)) = row else {
        return Ok(None);
    };
    let receipt = serde_json::from_str(&receipt).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut stmt = c
        .prepare_cached(
            "SELECT agency, state, attempts, last_error, agency_ref, delivered_at_ms, next_attempt_ms, event_id
             FROM deliveries WHERE dossier_code = ?1 ORDER BY id",
        )
        .map_err(db)?;
    let deliveries = stmt
        .query_map([code], |r| {
            let state: String = r.get(1)?;
            Ok((
                r.get::<_, String>(0)?,
                state,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ))
        })
        .map_err(db)?
        .map(|row| {
            let (agency, state, attempts, last_error, agency_ref, delivered, next, event_id) = row.map_err(db)?;
            let state =
                DeliveryState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("delivery state {state}")))?;
            let pending = matches!(state, DeliveryState::Queued | DeliveryState::Retrying);
            Ok(DeliveryInfo {
                agency,
                state,
                attempts,
                last_error,
                agency_ref,
                delivered_at: ms(delivered),
                next_attempt_at: if pending { ms(Some(next)) } else { None },
                event_id,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut stmt = c
        .prepare_cached(
            "SELECT id, event, reported_by, recorded_at_ms FROM status_events WHERE dossier_code = ?1 ORDER BY id",
        )
        .map_err(db)?;
    let history = stmt
        .query_map([code], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
        })
        .map_err(db)?
        .map(|row| {
            let (event_id, event, reported_by, at) = row.map_err(db)?;
            Ok(HistoryEntry {
                event_id,
                event: serde_json::from_str(&event).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                reported_by,
                recorded_at: ms(Some(at)).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(StoredDossier {
        sender,
        agency,
        canonical_json,
        receipt,
        deliveries,
        history,
        current: status::current(status, status_at)?,
        due_at: due.map(from_ns),
        finished_at: finished.map(from_ns),
    }))
}
