//! The message log in SQLite: records appended on the writer thread inside the
//! transaction of the change they prove, so a change and its evidence commit
//! together or not at all.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;

use super::db;
use crate::audit::{self, sha256};
use crate::store::status::to_ns;
use crate::store::{AuditHead, AuditPage, AuditRecord, StoreError};

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn hash32(v: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(v).map_err(|_| corrupt(format!("message log: {what} is not 32 bytes")))
}

/// The last record: its position and chain hash.
pub(super) fn tip(c: &Connection) -> Result<Option<(i64, [u8; 32])>, StoreError> {
    let row: Option<(i64, Vec<u8>)> = c
        .prepare_cached("SELECT seq, chain FROM audit_log ORDER BY seq DESC LIMIT 1")
        .map_err(db)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    row.map(|(seq, chain)| Ok((seq, hash32(chain, "a chain hash")?))).transpose()
}

/// Appends one record after the current tip.
pub(super) fn append(
    c: &Connection,
    kind: &str,
    dossier: &str,
    ref_id: Option<i64>,
    digest: &[u8; 32],
    meta: &Value,
) -> Result<i64, StoreError> {
    let (prev_seq, prev) = tip(c)?.unwrap_or((0, [0; 32]));
    let seq = prev_seq + 1;
    let at_ns = to_ns(&chrono::Utc::now());
    let meta = meta.to_string();
    let meta_sha = sha256(meta.as_bytes());
    let entry = audit::Entry { seq, at_ns, kind, dossier, ref_id, digest, meta_sha: &meta_sha };
    let chain = audit::link(&prev, &entry);
    c.prepare_cached(
        "INSERT INTO audit_log (seq, at_ns, kind, dossier_code, ref_id, digest, meta, meta_sha, chain)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .map_err(db)?
    .execute(params![seq, at_ns, kind, dossier, ref_id, &digest[..], meta, &meta_sha[..], &chain[..]])
    .map_err(db)?;
    Ok(seq)
}

/// Records an attempt: its digest is of the content delivered (the event for a
/// status delivery, else the canonical dossier).
pub(super) fn attempt(c: &Connection, delivery: i64, outcome: &str, detail: &Value) -> Result<(), StoreError> {
    let (code, agency, attempts, event_id, content): (String, String, i64, Option<i64>, String) = c
        .prepare_cached(
            "SELECT v.dossier_code, v.agency, v.attempts, v.event_id, COALESCE(e.event, d.canonical)
             FROM deliveries v JOIN dossiers d ON d.code = v.dossier_code
             LEFT JOIN status_events e ON e.id = v.event_id WHERE v.id = ?1",
        )
        .map_err(db)?
        .query_row([delivery], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .map_err(db)?;
    let meta = serde_json::json!({
        "delivery": delivery, "agency": agency, "attempt": attempts, "event_id": event_id,
        "outcome": outcome, "detail": detail,
    });
    append(c, audit::kind::ATTEMPT, &code, Some(delivery), &sha256(content.as_bytes()), &meta).map(drop)
}

/// Stores a signed head if it names a record with its chain hash.
pub(super) fn add_head(c: &Connection, h: &AuditHead) -> Result<(), StoreError> {
    let chain: Option<Vec<u8>> = c
        .prepare_cached("SELECT chain FROM audit_log WHERE seq = ?1")
        .map_err(db)?
        .query_row([h.seq], |r| r.get(0))
        .optional()
        .map_err(db)?;
    if chain.as_deref() != Some(&h.chain[..]) {
        return Err(corrupt(format!("head {} does not match the message log", h.seq)));
    }
    c.prepare_cached("INSERT OR IGNORE INTO audit_heads (seq, chain, signed_at_ns, jws) VALUES (?1, ?2, ?3, ?4)")
        .map_err(db)?
        .execute(params![h.seq, &h.chain[..], h.signed_at_ns, h.jws])
        .map_err(db)?;
    Ok(())
}

fn head(r: &Row<'_>) -> rusqlite::Result<(i64, Vec<u8>, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_head((seq, chain, signed_at_ns, jws): (i64, Vec<u8>, i64, String)) -> Result<AuditHead, StoreError> {
    Ok(AuditHead { seq, chain: hash32(chain, "a head's chain hash")?, signed_at_ns, jws })
}

/// The newest signed head.
pub(super) fn last_head(c: &Connection) -> Result<Option<AuditHead>, StoreError> {
    let row = c
        .prepare_cached("SELECT seq, chain, signed_at_ns, jws FROM audit_heads ORDER BY seq DESC LIMIT 1")
        .map_err(db)?
        .query_row([], head)
        .optional()
        .map_err(db)?;
    row.map(to_head).transpose()
}

/// Signed heads after `after`, in order.
pub(super) fn heads(c: &Connection, after: i64, limit: usize) -> Result<Vec<AuditHead>, StoreError> {
    let mut stmt = c
        .prepare_cached("SELECT seq, chain, signed_at_ns, jws FROM audit_heads WHERE seq > ?1 ORDER BY seq LIMIT CAST(?2 AS INTEGER)")
        .map_err(db)?;
    let rows = stmt.query_map(params![after, limit as i64], head).map_err(db)?;
    rows.map(|r| to_head(r.map_err(db)?)).collect()
}

/// The query of [`records`], its last column `$content`.
macro_rules! records_query {
    ($content:literal) => {
        concat!(
            "SELECT a.seq, a.at_ns, a.kind, a.dossier_code, a.digest, a.meta, a.meta_sha, a.chain, a.ref_id, ",
            $content,
            " FROM audit_log a WHERE a.seq > ?1 ORDER BY a.seq LIMIT CAST(?2 AS INTEGER)"
        )
    };
}

/// Each record with the stored content its digest is of.
const RECORDS_WITH_CONTENT: &str = records_query!(
    "CASE a.kind
        WHEN 'dossier' THEN (SELECT NULLIF(body, x'') FROM dossiers WHERE code = a.dossier_code)
        WHEN 'receipt' THEN (SELECT CAST(receipt AS BLOB) FROM dossiers WHERE code = a.dossier_code)
        WHEN 'status' THEN (SELECT CAST(event AS BLOB) FROM status_events WHERE id = a.ref_id)
        WHEN 'attempt' THEN (SELECT CAST(COALESCE(e.event, d.canonical) AS BLOB)
                             FROM deliveries v JOIN dossiers d ON d.code = v.dossier_code
                             LEFT JOIN status_events e ON e.id = v.event_id WHERE v.id = a.ref_id)
    END"
);

/// The records alone: what checking the chain needs.
const RECORDS_WITHOUT_CONTENT: &str = records_query!("NULL");

/// Records after `after`, in order, each with the stored content its digest is
/// of when `content` asks for it (`None` without: no body is read).
pub(super) fn records(c: &Connection, after: i64, limit: usize, content: bool) -> Result<AuditPage, StoreError> {
    let mut stmt =
        c.prepare_cached(if content { RECORDS_WITH_CONTENT } else { RECORDS_WITHOUT_CONTENT }).map_err(db)?;
    type Raw = (i64, i64, String, String, Vec<u8>, Option<String>, Vec<u8>, Vec<u8>, Option<i64>, Option<Vec<u8>>);
    let rows = stmt
        .query_map(params![after, limit as i64], |r| -> rusqlite::Result<Raw> {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            ))
        })
        .map_err(db)?;
    rows.map(|row| {
        let (seq, at_ns, kind, dossier, digest, meta, meta_sha, chain, ref_id, content) = row.map_err(db)?;
        let record = AuditRecord {
            seq,
            at_ns,
            kind,
            dossier,
            ref_id,
            digest: hash32(digest, "a digest")?,
            meta,
            meta_sha: hash32(meta_sha, "a metadata hash")?,
            chain: hash32(chain, "a chain hash")?,
        };
        Ok((record, content))
    })
    .collect()
}

/// The oldest bodies still kept, through the index `dossiers_bodies_by_age`
/// (a scan of `dossiers` would walk every row's body to its `accepted_at_ms`).
pub(super) const BODIES_PAST: &str = "SELECT rowid FROM dossiers WHERE accepted_at_ms < ?1 AND length(body) > 0 \
                                      ORDER BY accepted_at_ms LIMIT CAST(?2 AS INTEGER)";

/// Removes up to `limit` bodies and up to `limit` records' metadata past their
/// retention, oldest first.
pub(super) fn prune(
    c: &Connection,
    bodies_before_ms: Option<i64>,
    meta_before_ns: Option<i64>,
    limit: u64,
) -> Result<(u64, u64), StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let bodies = match bodies_before_ms {
        Some(ms) => c
            .prepare_cached(&format!("UPDATE dossiers SET body = x'' WHERE rowid IN ({BODIES_PAST})"))
            .map_err(db)?
            .execute(params![ms, limit])
            .map_err(db)?,
        None => 0,
    };
    let meta = match meta_before_ns {
        Some(ns) => c
            .prepare_cached(
                "UPDATE audit_log SET meta = NULL WHERE seq IN \
                 (SELECT seq FROM audit_log WHERE at_ns < ?1 AND meta IS NOT NULL ORDER BY seq LIMIT CAST(?2 AS INTEGER))",
            )
            .map_err(db)?
            .execute(params![ns, limit])
            .map_err(db)?,
        None => 0,
    };
    Ok((bodies as u64, meta as u64))
}
