//! Status events, feeds and statistics in SQLite. The functions that change state
//! run on the writer thread inside its transaction, so the lifecycle check and
//! the change it allows see the same state.

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension};
use schemas::lifecycle::{self, Progress, Transition};
use schemas::{MaHoSo, TrangThaiHoSo, VnDateTime};

use super::{db, ms};
use crate::store::status::{from_ns, to_ns};
use crate::store::{
    CurrentStatus, DossierParties, FeedEntry, FeedPage, Figures, NewStatus, RecordedStatus, StatsRow, StatsWindow,
    StatusOutcome, StoreError,
};

/// A page of a member's feed: entries after a sequence number, oldest first
/// (the limit bound as in `claim_sql`).
pub(super) const FEED_PAGE: &str =
    "SELECT f.seq, COALESCE(e.id, n.id), COALESCE(e.dossier_code, n.dossier_code), COALESCE(e.event, n.body),
            COALESCE(e.reported_by, 'gateway'), f.recorded_at_ms, f.notice_id IS NOT NULL
     FROM feed_entries f
     LEFT JOIN status_events e ON e.id = f.event_id
     LEFT JOIN notices n ON n.id = f.notice_id
     WHERE f.member = ?1 AND f.seq > ?2 ORDER BY f.seq LIMIT CAST(?3 AS INTEGER)";

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// The dossier's state as stored: its last accepted event's state, time and hash.
fn progress(status: Option<u8>, at_ns: Option<i64>, hash: Option<Vec<u8>>) -> Result<Option<Progress>, StoreError> {
    let (Some(status), Some(at_ns), Some(hash)) = (status, at_ns, hash) else { return Ok(None) };
    let status = TrangThaiHoSo::from_code(status).ok_or_else(|| corrupt(format!("stored status {status}")))?;
    let content_hash = <[u8; 32]>::try_from(hash).map_err(|_| corrupt("stored status hash"))?;
    Ok(Some(Progress { status, at: VnDateTime::from_utc(from_ns(at_ns)), content_hash }))
}

/// The dossier's current state, for reads.
pub(super) fn current(status: Option<u8>, at_ns: Option<i64>) -> Result<Option<CurrentStatus>, StoreError> {
    let (Some(status), Some(at_ns)) = (status, at_ns) else { return Ok(None) };
    let status = TrangThaiHoSo::from_code(status).ok_or_else(|| corrupt(format!("stored status {status}")))?;
    Ok(Some(CurrentStatus { status, at: VnDateTime::from_utc(from_ns(at_ns)) }))
}

/// The event recorded before that `s` repeats: the same content, or for a polled
/// event the same state at the same time.
fn earlier_copy(c: &Connection, s: &NewStatus, hash: &[u8; 32]) -> Result<Option<RecordedStatus>, StoreError> {
    let code = s.event.dossier.as_str();
    let mut by_hash = c
        .prepare_cached("SELECT id, recorded_at_ms FROM status_events WHERE dossier_code = ?1 AND content_hash = ?2")
        .map_err(db)?;
    let mut found =
        by_hash.query_row(params![code, &hash[..]], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(db)?;
    if found.is_none() && s.polled {
        let mut by_time = c
            .prepare_cached(
                "SELECT id, recorded_at_ms FROM status_events WHERE dossier_code = ?1 AND status = ?2 AND at_ns = ?3",
            )
            .map_err(db)?;
        found = by_time
            .query_row(params![code, s.event.status.code(), to_ns(&s.event.at.to_utc())], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(db)?;
    }
    Ok(found.map(|(event_id, at): (i64, i64)| RecordedStatus {
        event_id,
        recorded_at: ms(Some(at)).unwrap_or_default(),
        recipients: Vec::new(),
        queued_sync: false,
    }))
}

/// Checks and records one status event (see [`crate::store::Store::record_status`]).
pub(super) fn record(c: &Connection, s: &NewStatus) -> Result<StatusOutcome, StoreError> {
    let code = s.event.dossier.as_str();
    type Row = (Option<u8>, Option<i64>, Option<Vec<u8>>, Option<i64>);
    let row: Option<Row> = c
        .prepare_cached("SELECT status, status_at_ns, status_hash, finished_at_ns FROM dossiers WHERE code = ?1")
        .map_err(db)?
        .query_row([code], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()
        .map_err(db)?;
    let Some((status, at_ns, hash, finished_at_ns)) = row else { return Ok(StatusOutcome::UnknownDossier) };
    let content_hash = s.event.content_hash();
    if let Some(copy) = earlier_copy(c, s, &content_hash)? {
        return Ok(StatusOutcome::Duplicate(copy));
    }
    let cur = progress(status, at_ns, hash)?;
    match lifecycle::check(cur.as_ref(), &s.event) {
        Err(error) => {
            let current = cur.map(|p| CurrentStatus { status: p.status, at: p.at });
            return Ok(StatusOutcome::Refused { error, current });
        }
        Ok(Transition::Duplicate) => {
            // Not found by hash above, so it cannot be: treat as the stored last event.
            return Err(corrupt(format!("dossier {code}: last event is not in the history")));
        }
        Ok(Transition::Applied) => {}
    }
    let now = Utc::now().timestamp_millis();
    let at = to_ns(&s.event.at.to_utc());
    let event_json = serde_json::to_string(&s.event).map_err(corrupt)?;
    let event_id: i64 = c
        .prepare_cached(
            "INSERT INTO status_events (dossier_code, event, reported_by, recorded_at_ms, status, at_ns, content_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )
        .map_err(db)?
        .query_row(params![code, event_json, s.reported_by, now, s.event.status.code(), at, &content_hash[..]], |r| {
            r.get(0)
        })
        .map_err(db)?;
    // The due date moves only while open; the first final state fixes the finish
    // (the rules of `schemas::timeliness::schedule`).
    let open = !s.event.status.is_final() && finished_at_ns.is_none();
    let new_due = s.event.new_due_at.filter(|_| open).map(|d| to_ns(&d.to_utc()));
    let finished = (s.event.status.is_final() && finished_at_ns.is_none()).then_some(at);
    c.prepare_cached(
        "UPDATE dossiers SET status = ?1, status_at_ns = ?2, status_hash = ?3,
             due_at_ns = COALESCE(?4, due_at_ns), finished_at_ns = COALESCE(finished_at_ns, ?5)
         WHERE code = ?6",
    )
    .map_err(db)?
    .execute(params![s.event.status.code(), at, &content_hash[..], new_due, finished, code])
    .map_err(db)?;

    let mut recipients: Vec<String> = Vec::with_capacity(s.recipients.len());
    for m in &s.recipients {
        if !recipients.contains(m) {
            recipients.push(m.clone());
        }
    }
    let mut head = c
        .prepare_cached(
            "INSERT INTO feed_heads (member, last_seq) VALUES (?1, 1)
             ON CONFLICT (member) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
        )
        .map_err(db)?;
    let mut entry = c
        .prepare_cached("INSERT INTO feed_entries (member, seq, event_id, recorded_at_ms) VALUES (?1, ?2, ?3, ?4)")
        .map_err(db)?;
    for m in &recipients {
        let seq: i64 = head.query_row([m], |r| r.get(0)).map_err(db)?;
        entry.execute(params![m, seq, event_id, now]).map_err(db)?;
    }
    if let Some(agency) = &s.sync_to {
        c.prepare_cached(
            "INSERT INTO deliveries (dossier_code, agency, idempotency_key, state, next_attempt_ms, created_at_ms, event_id)
             VALUES (?1, ?2, ?3, 'queued', ?4, ?4, ?5)",
        )
        .map_err(db)?
        .execute(params![code, agency.as_str(), format!("status-{event_id}:{agency}"), now, event_id])
        .map_err(db)?;
    }
    let meta = crate::store::status_meta(s, event_id, &recipients);
    super::audit::append(
        c,
        crate::audit::kind::STATUS,
        code,
        Some(event_id),
        &crate::audit::sha256(event_json.as_bytes()),
        &meta,
    )?;
    Ok(StatusOutcome::Accepted(RecordedStatus {
        event_id,
        recorded_at: ms(Some(now)).unwrap_or_default(),
        recipients,
        queued_sync: s.sync_to.is_some(),
    }))
}

/// Who sent a dossier and where it goes.
pub(super) fn parties(c: &Connection, code: &MaHoSo) -> Result<Option<DossierParties>, StoreError> {
    c.prepare_cached("SELECT sender, agency, procedure_code FROM dossiers WHERE code = ?1")
        .map_err(db)?
        .query_row([code.as_str()], |r| {
            Ok(DossierParties { sender: r.get(0)?, agency: r.get(1)?, procedure: r.get(2)? })
        })
        .optional()
        .map_err(db)
}

/// A page of a member's feed, by its primary key: no offset scan however long
/// the feed.
pub(super) fn feed(c: &Connection, member: &str, after: Option<u64>, limit: usize) -> Result<FeedPage, StoreError> {
    let floor: Option<i64> = c
        .prepare_cached("SELECT floor_seq FROM feed_heads WHERE member = ?1")
        .map_err(db)?
        .query_row([member], |r| r.get(0))
        .optional()
        .map_err(db)?;
    let floor = u64::try_from(floor.unwrap_or(0)).unwrap_or(0);
    let after = after.unwrap_or(floor);
    if after < floor {
        return Ok(FeedPage::Expired { floor });
    }
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let mut stmt = c.prepare_cached(FEED_PAGE).map_err(db)?;
    let entries = stmt
        .query_map(params![member, after, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(FeedEntry {
                seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                event_id: r.get(1)?,
                dossier_code: r.get(2)?,
                event_json: r.get(3)?,
                reported_by: r.get(4)?,
                recorded_at: ms(Some(r.get(5)?)).unwrap_or_default(),
                notice: r.get(6)?,
            })
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    Ok(FeedPage::Entries(entries))
}

/// The feed entries a prune call removes: the `?2` oldest stored before `?1`,
/// found through `feed_entries_by_age`, as each member's newest among them.
pub(super) const FEED_DUE: &str = "SELECT member, MAX(seq) FROM (SELECT member, seq FROM feed_entries
                                   WHERE recorded_at_ms < ?1 ORDER BY recorded_at_ms LIMIT CAST(?2 AS INTEGER))
                                   GROUP BY member";

/// Removes entries stored before `before_ms`, about `limit` of the oldest: for
/// each member among those, everything up to its newest one, so what is left
/// is always a contiguous tail. Entries are appended with the time, so that is
/// `limit` entries unless some share a millisecond, or a clock stepped back.
pub(super) fn prune(c: &Connection, before_ms: i64, limit: u64) -> Result<u64, StoreError> {
    let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
    let floors: Vec<(String, i64)> = c
        .prepare_cached(FEED_DUE)
        .map_err(db)?
        .query_map(params![before_ms, limit], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let mut removed = 0u64;
    for (member, floor) in floors {
        c.prepare_cached("UPDATE feed_heads SET floor_seq = MAX(floor_seq, ?2) WHERE member = ?1")
            .map_err(db)?
            .execute(params![member, floor])
            .map_err(db)?;
        let n = c
            .prepare_cached("DELETE FROM feed_entries WHERE member = ?1 AND seq <= ?2")
            .map_err(db)?
            .execute(params![member, floor])
            .map_err(db)?;
        removed += n as u64;
    }
    Ok(removed)
}

/// Figures per agency and procedure. Finished on time means `finished <= due`
/// and overdue means `due < end of window`, on exact instants: the rule of
/// `schemas::timeliness::classify`, which a test holds this query to.
/// The figures of each agency's procedures in a window (`?1`..`?2`, of `?3`'s
/// dossiers or all): read from the index `dossiers_stats` alone.
pub(super) const STATS: &str = "SELECT agency, procedure_code,
                 COUNT(*) FILTER (WHERE received_at_ns >= ?1 AND received_at_ns < ?2),
                 COUNT(*) FILTER (WHERE finished_at_ns >= ?1 AND finished_at_ns < ?2 AND finished_at_ns <= due_at_ns),
                 COUNT(*) FILTER (WHERE finished_at_ns >= ?1 AND finished_at_ns < ?2 AND finished_at_ns > due_at_ns),
                 COUNT(*) FILTER (WHERE received_at_ns < ?2 AND (finished_at_ns IS NULL OR finished_at_ns >= ?2)),
                 COUNT(*) FILTER (WHERE received_at_ns < ?2 AND (finished_at_ns IS NULL OR finished_at_ns >= ?2)
                                  AND due_at_ns < ?2)
             FROM dossiers WHERE (?3 IS NULL OR agency = ?3)
             GROUP BY agency, procedure_code ORDER BY agency, procedure_code";

pub(super) fn stats(c: &Connection, w: StatsWindow, agency: Option<&str>) -> Result<Vec<StatsRow>, StoreError> {
    let mut stmt = c.prepare_cached(STATS).map_err(db)?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    let rows = stmt
        .query_map(params![to_ns(&w.from), to_ns(&w.to), agency], |r| {
            Ok(StatsRow {
                agency: r.get(0)?,
                procedure: r.get(1)?,
                figures: Figures {
                    received: n(r.get(2)?),
                    finished_on_time: n(r.get(3)?),
                    finished_late: n(r.get(4)?),
                    open: n(r.get(5)?),
                    overdue: n(r.get(6)?),
                },
            })
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    // Dossiers that received nothing, finished nothing and hold nothing open in the
    // window say nothing about it.
    Ok(rows.into_iter().filter(|r| r.figures != Figures::default()).collect())
}

/// Codes of `agency`'s dossiers not yet closed, in code order after `after`.
pub(super) fn open_dossiers(
    c: &Connection,
    agency: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<MaHoSo>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT code FROM dossiers WHERE agency = ?1 AND code > ?2 AND (status IS NULL OR status NOT IN (3, 7, 8, 10))
             ORDER BY code LIMIT CAST(?3 AS INTEGER)",
        )
        .map_err(db)?;
    let codes = stmt
        .query_map(params![agency, after.unwrap_or(""), i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            r.get::<_, String>(0)
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    codes.iter().map(|c| MaHoSo::parse(c).map_err(|e| corrupt(format!("stored code: {e}")))).collect()
}

/// Appends notice `notice_id` to `member`'s feed.
fn append_notice(c: &Connection, member: &str, notice_id: i64, now: i64) -> Result<(), StoreError> {
    let seq: i64 = c
        .prepare_cached(
            "INSERT INTO feed_heads (member, last_seq) VALUES (?1, 1)
             ON CONFLICT (member) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
        )
        .map_err(db)?
        .query_row([member], |r| r.get(0))
        .map_err(db)?;
    c.prepare_cached("INSERT INTO feed_entries (member, seq, notice_id, recorded_at_ms) VALUES (?1, ?2, ?3, ?4)")
        .map_err(db)?
        .execute(params![member, seq, notice_id, now])
        .map_err(db)?;
    Ok(())
}

/// Tells each sender with deliveries waiting for `agency` about the agency (see
/// [`crate::store::Store::notify_agency`]).
pub(super) fn notify_agency(
    c: &Connection,
    agency: &str,
    notice: &serde_json::Value,
) -> Result<Vec<String>, StoreError> {
    let waiting: Vec<(String, i64)> = c
        .prepare_cached(
            "SELECT s.sender, COUNT(*) FROM deliveries d JOIN dossiers s ON s.code = d.dossier_code
             WHERE d.agency = ?1 AND d.state IN ('queued', 'retrying') GROUP BY s.sender ORDER BY s.sender",
        )
        .map_err(db)?
        .query_map([agency], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let now = Utc::now().timestamp_millis();
    let mut told = Vec::with_capacity(waiting.len());
    for (member, n) in waiting {
        let mut body = notice.clone();
        body["waiting"] = n.into();
        let id: i64 = c
            .prepare_cached(
                "INSERT INTO notices (dossier_code, body, recorded_at_ms) VALUES (NULL, ?1, ?2) RETURNING id",
            )
            .map_err(db)?
            .query_row(params![body.to_string(), now], |r| r.get(0))
            .map_err(db)?;
        append_notice(c, &member, id, now)?;
        told.push(member);
    }
    Ok(told)
}

/// Tells the sender of delivery `id`'s dossier, in its feed, that the delivery
/// failed for good; returns the sender.
pub(crate) fn notify_failure(c: &Connection, id: i64, error: &str, now: i64) -> Result<Option<String>, StoreError> {
    let row: Option<(String, String, String, Option<i64>)> = c
        .prepare_cached(
            "SELECT d.dossier_code, d.agency, s.sender, d.event_id FROM deliveries d
             JOIN dossiers s ON s.code = d.dossier_code WHERE d.id = ?1",
        )
        .map_err(db)?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()
        .map_err(db)?;
    let Some((code, agency, sender, event_id)) = row else { return Ok(None) };
    let body = crate::store::failure_notice(&code, &agency, id, event_id, error);
    let notice: i64 = c
        .prepare_cached("INSERT INTO notices (dossier_code, body, recorded_at_ms) VALUES (?1, ?2, ?3) RETURNING id")
        .map_err(db)?
        .query_row(params![code, body, now], |r| r.get(0))
        .map_err(db)?;
    append_notice(c, &sender, notice, now)?;
    Ok(Some(sender))
}
