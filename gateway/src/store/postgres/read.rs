//! Reads of the PostgreSQL store, on the pool's connections outside any write
//! transaction: each statement sees what was committed when it started.

use postgres::{Client, Row};
use schemas::{MaHoSo, TrangThaiHoSo, VnDateTime};

use super::{get, ms, Db};
use crate::store::status::{from_ns, to_ns};
use crate::store::{
    AuditHead, AuditPage, AuditRecord, CurrentStatus, DeadLetter, DeliveryCount, DeliveryInfo, DeliveryState,
    DossierParties, FeedEntry, FeedPage, Figures, Gauges, HistoryEntry, Pending, StatsRow, StatsWindow, StoreError,
    StoredDossier,
};

type C<'a> = Db<'a, Client>;

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn hash32(v: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(v).map_err(|_| corrupt(format!("message log: {what} is not 32 bytes")))
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn state(s: &str) -> Result<DeliveryState, StoreError> {
    DeliveryState::parse(s).ok_or_else(|| corrupt(format!("delivery state {s}")))
}

/// A dead letter from `id, dossier_code, agency, event_id, attempts, last_error, next_attempt_ms`.
pub(super) fn letter(r: &Row) -> Result<DeadLetter, StoreError> {
    Ok(DeadLetter {
        id: get(r, 0)?,
        dossier: get(r, 1)?,
        agency: get(r, 2)?,
        event_id: get(r, 3)?,
        attempts: u32::try_from(get::<i32>(r, 4)?).unwrap_or(0),
        last_error: get(r, 5)?,
        failed_at: ms(Some(get(r, 6)?)),
    })
}

pub(super) fn dossier(c: &mut C<'_>, code: &str) -> Result<Option<StoredDossier>, StoreError> {
    let Some(r) = c.opt(
        "SELECT sender, agency, canonical, receipt, status, status_at_ns, due_at_ns, finished_at_ns
         FROM dossiers WHERE code = $1",
        &[&code],
    )?
    else {
        return Ok(None);
    };
    let receipt: String = get(&r, 3)?;
    let receipt = serde_json::from_str(&receipt).map_err(corrupt)?;
    let current = match (get::<Option<i32>>(&r, 4)?, get::<Option<i64>>(&r, 5)?) {
        (Some(s), Some(at)) => Some(CurrentStatus {
            status: u8::try_from(s)
                .ok()
                .and_then(TrangThaiHoSo::from_code)
                .ok_or_else(|| corrupt(format!("stored status {s}")))?,
            at: VnDateTime::from_utc(from_ns(at)),
        }),
        _ => None,
    };
    let deliveries = c
        .all(
            "SELECT agency, state, attempts, last_error, agency_ref, delivered_at_ms, next_attempt_ms, event_id
             FROM deliveries WHERE dossier_code = $1 ORDER BY id",
            &[&code],
        )?
        .iter()
        .map(|d| {
            let state = state(&get::<String>(d, 1)?)?;
            let pending = matches!(state, DeliveryState::Queued | DeliveryState::Retrying);
            Ok(DeliveryInfo {
                agency: get(d, 0)?,
                state,
                attempts: u32::try_from(get::<i32>(d, 2)?).unwrap_or(0),
                last_error: get(d, 3)?,
                agency_ref: get(d, 4)?,
                delivered_at: ms(get(d, 5)?),
                next_attempt_at: if pending { ms(Some(get(d, 6)?)) } else { None },
                event_id: get(d, 7)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let history = c
        .all(
            "SELECT id, event, reported_by, recorded_at_ms FROM status_events WHERE dossier_code = $1 ORDER BY id",
            &[&code],
        )?
        .iter()
        .map(|h| {
            let event: String = get(h, 1)?;
            Ok(HistoryEntry {
                event_id: get(h, 0)?,
                event: serde_json::from_str(&event).map_err(corrupt)?,
                reported_by: get(h, 2)?,
                recorded_at: ms(Some(get(h, 3)?)).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(StoredDossier {
        sender: get(&r, 0)?,
        agency: get(&r, 1)?,
        canonical_json: get(&r, 2)?,
        receipt,
        deliveries,
        history,
        current,
        due_at: get::<Option<i64>>(&r, 6)?.map(from_ns),
        finished_at: get::<Option<i64>>(&r, 7)?.map(from_ns),
    }))
}

pub(super) fn delivery_counts(c: &mut C<'_>) -> Result<Vec<DeliveryCount>, StoreError> {
    c.all("SELECT agency, state, COUNT(*) FROM deliveries GROUP BY agency, state ORDER BY agency, state", &[])?
        .iter()
        .map(|r| {
            Ok(DeliveryCount { agency: get(r, 0)?, state: state(&get::<String>(r, 1)?)?, count: count(get(r, 2)?) })
        })
        .collect()
}

pub(super) fn pending(c: &mut C<'_>) -> Result<Vec<Pending>, StoreError> {
    // Through the partial index of waiting deliveries; `created_at_ms`, not the
    // lowest id: a replay requeues an old id.
    c.all(
        "SELECT agency, COUNT(*), MIN(created_at_ms) FROM deliveries
         WHERE state IN ('queued', 'retrying') GROUP BY agency ORDER BY agency",
        &[],
    )?
    .iter()
    .map(|r| Ok(Pending { agency: get(r, 0)?, count: count(get(r, 1)?), oldest: ms(get(r, 2)?) }))
    .collect()
}

pub(super) fn dead_letters(c: &mut C<'_>, after: i64, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    c.all(
        "SELECT id, dossier_code, agency, event_id, attempts, last_error, next_attempt_ms
         FROM deliveries WHERE state = 'failed' AND id > $1 ORDER BY id LIMIT $2",
        &[&after, &limit],
    )?
    .iter()
    .map(letter)
    .collect()
}

pub(super) fn parties(c: &mut C<'_>, code: &str) -> Result<Option<DossierParties>, StoreError> {
    c.opt("SELECT sender, agency, procedure_code FROM dossiers WHERE code = $1", &[&code])?
        .map(|r| Ok(DossierParties { sender: get(&r, 0)?, agency: get(&r, 1)?, procedure: get(&r, 2)? }))
        .transpose()
}

pub(super) fn feed(c: &mut C<'_>, member: &str, after: Option<u64>, limit: usize) -> Result<FeedPage, StoreError> {
    let floor: Option<i64> =
        c.opt("SELECT floor_seq FROM feed_heads WHERE member = $1", &[&member])?.map(|r| get(&r, 0)).transpose()?;
    let floor = count(floor.unwrap_or(0));
    let after = after.unwrap_or(floor);
    if after < floor {
        return Ok(FeedPage::Expired { floor });
    }
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let entries = c
        .all(
            "SELECT f.seq, COALESCE(e.id, n.id), COALESCE(e.dossier_code, n.dossier_code), COALESCE(e.event, n.body),
                    COALESCE(e.reported_by, 'gateway'), f.recorded_at_ms, f.notice_id IS NOT NULL
             FROM feed_entries f
             LEFT JOIN status_events e ON e.id = f.event_id
             LEFT JOIN notices n ON n.id = f.notice_id
             WHERE f.member = $1 AND f.seq > $2 ORDER BY f.seq LIMIT $3",
            &[&member, &after, &limit],
        )?
        .iter()
        .map(|r| {
            Ok(FeedEntry {
                seq: count(get(r, 0)?),
                event_id: get(r, 1)?,
                dossier_code: get(r, 2)?,
                event_json: get(r, 3)?,
                reported_by: get(r, 4)?,
                recorded_at: ms(Some(get(r, 5)?)).unwrap_or_default(),
                notice: get(r, 6)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(FeedPage::Entries(entries))
}

/// Figures per agency and procedure, by the same rule as the SQLite store's.
pub(super) fn stats(c: &mut C<'_>, w: StatsWindow, agency: Option<&str>) -> Result<Vec<StatsRow>, StoreError> {
    let rows = c.all(
        "SELECT agency, procedure_code,
             COUNT(*) FILTER (WHERE received_at_ns >= $1 AND received_at_ns < $2),
             COUNT(*) FILTER (WHERE finished_at_ns >= $1 AND finished_at_ns < $2 AND finished_at_ns <= due_at_ns),
             COUNT(*) FILTER (WHERE finished_at_ns >= $1 AND finished_at_ns < $2 AND finished_at_ns > due_at_ns),
             COUNT(*) FILTER (WHERE received_at_ns < $2 AND (finished_at_ns IS NULL OR finished_at_ns >= $2)),
             COUNT(*) FILTER (WHERE received_at_ns < $2 AND (finished_at_ns IS NULL OR finished_at_ns >= $2)
                              AND due_at_ns < $2)
         FROM dossiers WHERE ($3::text IS NULL OR agency = $3)
         GROUP BY agency, procedure_code ORDER BY agency, procedure_code",
        &[&to_ns(&w.from), &to_ns(&w.to), &agency],
    )?;
    let rows = rows
        .iter()
        .map(|r| {
            Ok(StatsRow {
                agency: get(r, 0)?,
                procedure: get(r, 1)?,
                figures: Figures {
                    received: count(get(r, 2)?),
                    finished_on_time: count(get(r, 3)?),
                    finished_late: count(get(r, 4)?),
                    open: count(get(r, 5)?),
                    overdue: count(get(r, 6)?),
                },
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(rows.into_iter().filter(|r| r.figures != Figures::default()).collect())
}

pub(super) fn open_dossiers(
    c: &mut C<'_>,
    agency: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<MaHoSo>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // Codes are `COLLATE "C"`: code order is byte order, as in SQLite, whatever
    // the database's collation.
    c.all(
        "SELECT code FROM dossiers
         WHERE agency = $1 AND code > $2 AND (status IS NULL OR status NOT IN (3, 7, 8, 10))
         ORDER BY code LIMIT $3",
        &[&agency, &after.unwrap_or(""), &limit],
    )?
    .iter()
    .map(|r| MaHoSo::parse(&get::<String>(r, 0)?).map_err(|e| corrupt(format!("stored code: {e}"))))
    .collect()
}

pub(super) fn gauges(c: &mut C<'_>) -> Result<Gauges, StoreError> {
    let mut pairs = |sql: &'static str| -> Result<Vec<(String, u64)>, StoreError> {
        c.all(sql, &[])?.iter().map(|r| Ok((get(r, 0)?, count(get(r, 1)?)))).collect()
    };
    Ok(Gauges {
        dead_letters: pairs(
            "SELECT agency, COUNT(*) FROM deliveries WHERE state = 'failed' GROUP BY agency ORDER BY agency",
        )?,
        feed_lag: pairs(
            "SELECT member, GREATEST(last_seq - GREATEST(read_seq, floor_seq), 0) FROM feed_heads ORDER BY member",
        )?,
    })
}

pub(super) fn audit_tip(c: &mut C<'_>) -> Result<Option<(i64, [u8; 32])>, StoreError> {
    c.opt("SELECT seq, chain FROM audit_log ORDER BY seq DESC LIMIT 1", &[])?
        .map(|r| Ok((get(&r, 0)?, hash32(get(&r, 1)?, "a chain hash")?)))
        .transpose()
}

fn head(r: &Row) -> Result<AuditHead, StoreError> {
    Ok(AuditHead {
        seq: get(r, 0)?,
        chain: hash32(get(r, 1)?, "a head's chain hash")?,
        signed_at_ns: get(r, 2)?,
        jws: get(r, 3)?,
    })
}

pub(super) fn last_audit_head(c: &mut C<'_>) -> Result<Option<AuditHead>, StoreError> {
    c.opt("SELECT seq, chain, signed_at_ns, jws FROM audit_heads ORDER BY seq DESC LIMIT 1", &[])?
        .map(|r| head(&r))
        .transpose()
}

pub(super) fn audit_heads(c: &mut C<'_>, after: i64, limit: usize) -> Result<Vec<AuditHead>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    c.all(
        "SELECT seq, chain, signed_at_ns, jws FROM audit_heads WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&after, &limit],
    )?
    .iter()
    .map(head)
    .collect()
}

/// The query of [`audit_records`], its last column `$content`.
macro_rules! records_query {
    ($content:literal) => {
        concat!(
            "SELECT a.seq, a.at_ns, a.kind, a.dossier_code, a.digest, a.meta, a.meta_sha, a.chain, a.ref_id, ",
            $content,
            " FROM audit_log a WHERE a.seq > $1 ORDER BY a.seq LIMIT $2"
        )
    };
}

/// Each record with the stored content its digest is of.
const RECORDS_WITH_CONTENT: &str = records_query!(
    "CASE a.kind
        WHEN 'dossier' THEN (SELECT NULLIF(body, '\\x'::bytea) FROM dossiers WHERE code = a.dossier_code)
        WHEN 'receipt' THEN (SELECT convert_to(receipt, 'UTF8') FROM dossiers WHERE code = a.dossier_code)
        WHEN 'status' THEN (SELECT convert_to(event, 'UTF8') FROM status_events WHERE id = a.ref_id)
        WHEN 'attempt' THEN (SELECT convert_to(COALESCE(e.event, d.canonical), 'UTF8')
                             FROM deliveries v JOIN dossiers d ON d.code = v.dossier_code
                             LEFT JOIN status_events e ON e.id = v.event_id WHERE v.id = a.ref_id)
    END"
);

/// The records alone: what checking the chain needs.
const RECORDS_WITHOUT_CONTENT: &str = records_query!("NULL::bytea");

/// Records after `after`, in order, each with the stored content its digest is
/// of when `content` asks for it (`None` without: no body is read).
pub(super) fn audit_records(c: &mut C<'_>, after: i64, limit: usize, content: bool) -> Result<AuditPage, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    c.all(if content { RECORDS_WITH_CONTENT } else { RECORDS_WITHOUT_CONTENT }, &[&after, &limit])?
        .iter()
        .map(|r| {
            let record = AuditRecord {
                seq: get(r, 0)?,
                at_ns: get(r, 1)?,
                kind: get(r, 2)?,
                dossier: get(r, 3)?,
                digest: hash32(get(r, 4)?, "a digest")?,
                meta: get(r, 5)?,
                meta_sha: hash32(get(r, 6)?, "a metadata hash")?,
                chain: hash32(get(r, 7)?, "a chain hash")?,
                ref_id: get(r, 8)?,
            };
            Ok((record, get(r, 9)?))
        })
        .collect()
}
