//! The changes of the PostgreSQL store, in its batch's transaction (each in a
//! savepoint of its own when a batch is applied again after a failure). Ordered batches hold [`super::WRITE_LOCK`], so the message log's
//! tip, feed positions and the duplicate check see every replica's commits.

use std::time::Duration;

use chrono::{DateTime, Utc};
use postgres::Transaction;
use schemas::lifecycle::{self, Progress, Transition};
use schemas::{AgencyId, TrangThaiHoSo, VnDateTime};
use serde_json::Value;

use super::{get, ms, Cache, Db, FEED_CHANNEL};
use crate::audit::{self, sha256};
use crate::store::batch;
use crate::store::status::{from_ns, to_ns};
use crate::store::{
    AttemptResult, AuditHead, CurrentStatus, DeadLetter, DeliveryJob, NewDossier, NewStatus, Receipt, RecordedStatus,
    StatusOutcome, StoreError, SubmitOutcome,
};

type Tx<'a, 'b> = Db<'a, Transaction<'b>>;

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn hash32(v: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(v).map_err(|_| corrupt(format!("{what} is not 32 bytes")))
}

/// The changes of one batch.
pub(super) struct Changes<'a, 'b> {
    pub(super) tx: &'a mut Transaction<'b>,
    pub(super) cache: &'a mut Cache,
    pub(super) savepoints: batch::Savepoints,
}

impl Changes<'_, '_> {
    /// Runs one change, in its own savepoint if the pass asks for them.
    fn run<T>(
        &mut self,
        f: impl FnOnce(&mut Db<'_, Transaction<'_>>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.savepoints == batch::Savepoints::No {
            return f(&mut Db { c: &mut *self.tx, cache: self.cache });
        }
        let mut sp = self.tx.savepoint("op").map_err(super::db)?;
        let r = f(&mut Db { c: &mut sp, cache: self.cache });
        match r {
            Ok(v) => {
                sp.commit().map_err(super::db)?;
                Ok(v)
            }
            Err(e) => {
                sp.rollback().map_err(super::db)?;
                Err(e)
            }
        }
    }
}

impl batch::Changes for Changes<'_, '_> {
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
        self.run(|c| record_status(c, s))
    }
    fn prune_feeds(&mut self, before_ms: i64, limit: u64) -> Result<u64, StoreError> {
        self.run(|c| prune_feeds(c, before_ms, limit))
    }
    fn replay(&mut self, id: i64) -> Result<Option<DeadLetter>, StoreError> {
        self.run(|c| replay(c, id))
    }
    fn add_head(&mut self, head: &AuditHead) -> Result<(), StoreError> {
        self.run(|c| add_head(c, head))
    }
    fn notify_agency(&mut self, agency: &str, notice: &Value) -> Result<Vec<String>, StoreError> {
        self.run(|c| notify_agency(c, agency, notice))
    }
    fn ack_feed(&mut self, member: &str, seq: i64) -> Result<(), StoreError> {
        self.run(|c| {
            c.exec(
                "INSERT INTO feed_heads (member, last_seq, read_seq) VALUES ($1, 0, 0)
                 ON CONFLICT (member) DO UPDATE
                 SET read_seq = GREATEST(feed_heads.read_seq, LEAST($2, feed_heads.last_seq))",
                &[&member, &seq],
            )
            .map(drop)
        })
    }
    fn prune_audit(
        &mut self,
        bodies_before_ms: Option<i64>,
        meta_before_ns: Option<i64>,
        limit: u64,
    ) -> Result<(u64, u64), StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(|c| {
            let bodies = match bodies_before_ms {
                Some(ms) => c.exec(
                    "UPDATE dossiers SET body = '\\x'::bytea WHERE code IN \
                     (SELECT code FROM dossiers WHERE accepted_at_ms < $1 AND length(body) > 0 \
                      ORDER BY accepted_at_ms LIMIT $2)",
                    &[&ms, &limit],
                )?,
                None => 0,
            };
            let meta = match meta_before_ns {
                Some(ns) => c.exec(
                    "UPDATE audit_log SET meta = NULL WHERE seq IN \
                     (SELECT seq FROM audit_log WHERE at_ns < $1 AND meta IS NOT NULL ORDER BY seq LIMIT $2)",
                    &[&ns, &limit],
                )?,
                None => 0,
            };
            Ok((bodies, meta))
        })
    }
}

fn submit(c: &mut Tx<'_, '_>, d: &NewDossier) -> Result<SubmitOutcome, StoreError> {
    let code = d.code.as_str();
    if let Some(row) = c.opt("SELECT sender, content_hash, receipt FROM dossiers WHERE code = $1", &[&code])? {
        let (sender, hash, receipt): (String, Vec<u8>, String) = (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
        if sender == d.sender.as_str() && hash == d.content_hash {
            let receipt: Receipt = serde_json::from_str(&receipt).map_err(corrupt)?;
            return Ok(SubmitOutcome::Duplicate(receipt));
        }
        return Ok(SubmitOutcome::Conflict);
    }
    let now = Utc::now().timestamp_millis();
    let receipt = serde_json::to_string(&d.receipt).map_err(corrupt)?;
    c.exec(
        "INSERT INTO dossiers (code, sender, agency, procedure_code, content_hash, media_type, body, canonical, receipt,
                               correlation_id, accepted_at_ms, received_at_ns, due_at_ns)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &[
            &code,
            &d.sender.as_str(),
            &d.agency.as_str(),
            &d.procedure_code,
            &&d.content_hash[..],
            &d.media_type,
            &d.body,
            &d.canonical_json,
            &receipt,
            &d.correlation_id,
            &now,
            &to_ns(&d.received_at),
            &to_ns(&d.due_at),
        ],
    )?;
    for agency in std::iter::once(&d.agency).chain(&d.also_to) {
        let key = format!("{}:{}", d.receipt.receipt_id, agency);
        c.exec(
            "INSERT INTO deliveries (dossier_code, agency, idempotency_key, state, next_attempt_ms, created_at_ms)
             VALUES ($1, $2, $3, 'queued', $4, $4)",
            &[&code, &agency.as_str(), &key, &now],
        )?;
    }
    let body_sha = hex::decode(&d.receipt.body_sha256)
        .ok()
        .and_then(|v| <[u8; 32]>::try_from(v).ok())
        .ok_or_else(|| corrupt("the receipt's body_sha256 is not a SHA-256"))?;
    let meta = crate::store::acceptance_meta(d);
    append(c, audit::kind::DOSSIER, code, None, &body_sha, &meta)?;
    let meta = serde_json::json!({"receipt_id": d.receipt.receipt_id, "accepted_at": d.receipt.accepted_at});
    append(c, audit::kind::RECEIPT, code, None, &sha256(receipt.as_bytes()), &meta)?;
    Ok(SubmitOutcome::Accepted(d.receipt.clone()))
}

/// The claim of due deliveries, with `$agency` the agency's condition. As in the
/// SQLite store, a claim moves `next_attempt_ms` to the end of its lease, so the
/// deliveries in flight are past the range of the index a claim reads, and one
/// agency's loop reads that agency's part of the index only.
macro_rules! claim_sql {
    ($agency:literal) => {
        concat!(
            "UPDATE deliveries v SET lease_until_ms = $1, next_attempt_ms = $1
         FROM dossiers s
         WHERE v.id IN (SELECT id FROM deliveries d
                        WHERE state IN ('queued', 'retrying') AND next_attempt_ms <= $2",
            $agency,
            "
                          AND (lease_until_ms IS NULL OR lease_until_ms < $2)
                          AND (event_id IS NULL OR NOT EXISTS (
                              SELECT 1 FROM deliveries p
                              WHERE p.dossier_code = d.dossier_code AND p.agency = d.agency AND p.id < d.id
                                AND p.state IN ('queued', 'retrying')))
                        ORDER BY next_attempt_ms, id LIMIT $3
                        FOR UPDATE SKIP LOCKED)
           AND s.code = v.dossier_code
         RETURNING v.id, v.agency, v.dossier_code, v.idempotency_key, v.attempts, v.event_id, v.created_at_ms,
                   s.canonical, s.correlation_id,
                   (SELECT e.event FROM status_events e WHERE e.id = v.event_id)"
        )
    };
}

fn claim(
    c: &mut Tx<'_, '_>,
    now: DateTime<Utc>,
    limit: usize,
    lease: Duration,
    agency: Option<&str>,
) -> Result<Vec<DeliveryJob>, StoreError> {
    let now_ms = now.timestamp_millis();
    let until = now_ms + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // Rows another replica is claiming or recording right now are skipped, not
    // waited for; a status delivery waits while an earlier one of its dossier to
    // the same agency is pending, whoever holds that one.
    let rows = match agency {
        Some(agency) => c.all(claim_sql!(" AND agency = $4"), &[&until, &now_ms, &limit, &agency])?,
        None => c.all(claim_sql!(""), &[&until, &now_ms, &limit])?,
    };
    let mut jobs = rows
        .iter()
        .map(|r| {
            let agency: String = get(r, 1)?;
            Ok(DeliveryJob {
                id: get(r, 0)?,
                agency: AgencyId::parse(&agency).map_err(corrupt)?,
                dossier_code: get(r, 2)?,
                idempotency_key: get(r, 3)?,
                attempts: u32::try_from(get::<i32>(r, 4)?).unwrap_or(0),
                created_at: ms(Some(get(r, 6)?)).unwrap_or_default(),
                canonical_json: get(r, 7)?,
                correlation_id: get(r, 8)?,
                event_json: get(r, 9)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

fn record(c: &mut Tx<'_, '_>, id: i64, result: &AttemptResult) -> Result<Option<String>, StoreError> {
    let now = Utc::now().timestamp_millis();
    let (state, error, agency_ref, delivered, next) = match result {
        AttemptResult::Delivered { agency_ref } => ("delivered", None, agency_ref.as_deref(), Some(now), now),
        AttemptResult::Retry { error, next_attempt_at } => {
            ("retrying", Some(error.as_str()), None, None, next_attempt_at.timestamp_millis())
        }
        AttemptResult::Failed { error, .. } => ("failed", Some(error.as_str()), None, None, now),
    };
    let gave_up = matches!(result, AttemptResult::Failed { gave_up: true, .. });
    let n = c.exec(
        "UPDATE deliveries SET state = $1, attempts = attempts + 1, last_error = COALESCE($2, last_error),
             agency_ref = COALESCE($3, agency_ref), delivered_at_ms = $4, next_attempt_ms = $5, lease_until_ms = NULL,
             gave_up = $7
         WHERE id = $6 AND state IN ('queued', 'retrying')",
        &[&state, &error, &agency_ref, &delivered, &next, &id, &gave_up],
    )?;
    if n == 0 {
        return Err(corrupt(format!("delivery {id} is not pending")));
    }
    let detail = crate::store::attempt_detail(result);
    let row = c.one(
        "SELECT v.dossier_code, v.agency, v.attempts, v.event_id, COALESCE(e.event, d.canonical)
         FROM deliveries v JOIN dossiers d ON d.code = v.dossier_code
         LEFT JOIN status_events e ON e.id = v.event_id WHERE v.id = $1",
        &[&id],
    )?;
    let (code, agency, attempts, event_id, content): (String, String, i32, Option<i64>, String) =
        (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?, get(&row, 3)?, get(&row, 4)?);
    let meta = serde_json::json!({
        "delivery": id, "agency": agency, "attempt": attempts, "event_id": event_id,
        "outcome": state, "detail": detail,
    });
    append(c, audit::kind::ATTEMPT, &code, Some(id), &sha256(content.as_bytes()), &meta)?;
    match result {
        AttemptResult::Failed { error, .. } => notify_failure(c, id, error, now),
        _ => Ok(None),
    }
}

/// Appends one record after the log's tip: the caller holds the write lock.
fn append(
    c: &mut Tx<'_, '_>,
    kind: &str,
    dossier: &str,
    ref_id: Option<i64>,
    digest: &[u8; 32],
    meta: &Value,
) -> Result<i64, StoreError> {
    let (prev_seq, prev) = match c.opt("SELECT seq, chain FROM audit_log ORDER BY seq DESC LIMIT 1", &[])? {
        Some(r) => (get::<i64>(&r, 0)?, hash32(get(&r, 1)?, "a chain hash")?),
        None => (0, [0; 32]),
    };
    let seq = prev_seq + 1;
    let at_ns = to_ns(&Utc::now());
    let meta = meta.to_string();
    let meta_sha = sha256(meta.as_bytes());
    let entry = audit::Entry { seq, at_ns, kind, dossier, ref_id, digest, meta_sha: &meta_sha };
    let chain = audit::link(&prev, &entry);
    c.exec(
        "INSERT INTO audit_log (seq, at_ns, kind, dossier_code, ref_id, digest, meta, meta_sha, chain)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[&seq, &at_ns, &kind, &dossier, &ref_id, &&digest[..], &meta, &&meta_sha[..], &&chain[..]],
    )?;
    Ok(seq)
}

fn add_head(c: &mut Tx<'_, '_>, h: &AuditHead) -> Result<(), StoreError> {
    let chain: Option<Vec<u8>> =
        c.opt("SELECT chain FROM audit_log WHERE seq = $1", &[&h.seq])?.map(|r| get(&r, 0)).transpose()?;
    if chain.as_deref() != Some(&h.chain[..]) {
        return Err(corrupt(format!("head {} does not match the message log", h.seq)));
    }
    c.exec(
        "INSERT INTO audit_heads (seq, chain, signed_at_ns, jws) VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING",
        &[&h.seq, &&h.chain[..], &h.signed_at_ns, &h.jws],
    )
    .map(drop)
}

/// The dossier's state as stored: its last accepted event's state, time and hash.
fn progress(status: Option<i32>, at_ns: Option<i64>, hash: Option<Vec<u8>>) -> Result<Option<Progress>, StoreError> {
    let (Some(status), Some(at_ns), Some(hash)) = (status, at_ns, hash) else { return Ok(None) };
    let status = u8::try_from(status)
        .ok()
        .and_then(TrangThaiHoSo::from_code)
        .ok_or_else(|| corrupt(format!("stored status {status}")))?;
    let content_hash = hash32(hash, "a status hash")?;
    Ok(Some(Progress { status, at: VnDateTime::from_utc(from_ns(at_ns)), content_hash }))
}

/// The event recorded before that `s` repeats: the same content, or for a polled
/// event the same state at the same time.
fn earlier_copy(c: &mut Tx<'_, '_>, s: &NewStatus, hash: &[u8; 32]) -> Result<Option<RecordedStatus>, StoreError> {
    let code = s.event.dossier.as_str();
    let mut found = c.opt(
        "SELECT id, recorded_at_ms FROM status_events WHERE dossier_code = $1 AND content_hash = $2",
        &[&code, &&hash[..]],
    )?;
    if found.is_none() && s.polled {
        let status = i32::from(s.event.status.code());
        found = c.opt(
            "SELECT id, recorded_at_ms FROM status_events WHERE dossier_code = $1 AND status = $2 AND at_ns = $3
             ORDER BY id LIMIT 1",
            &[&code, &status, &to_ns(&s.event.at.to_utc())],
        )?;
    }
    found
        .map(|r| {
            Ok(RecordedStatus {
                event_id: get(&r, 0)?,
                recorded_at: ms(Some(get(&r, 1)?)).unwrap_or_default(),
                recipients: Vec::new(),
                queued_sync: false,
            })
        })
        .transpose()
}

/// Appends an entry to `member`'s feed and wakes its long-polls on every replica
/// once the batch commits.
fn append_feed(
    c: &mut Tx<'_, '_>,
    member: &str,
    event_id: Option<i64>,
    notice_id: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    let seq: i64 = get(
        &c.one(
            "INSERT INTO feed_heads (member, last_seq) VALUES ($1, 1)
             ON CONFLICT (member) DO UPDATE SET last_seq = feed_heads.last_seq + 1 RETURNING last_seq",
            &[&member],
        )?,
        0,
    )?;
    c.exec(
        "INSERT INTO feed_entries (member, seq, event_id, notice_id, recorded_at_ms) VALUES ($1, $2, $3, $4, $5)",
        &[&member, &seq, &event_id, &notice_id, &now],
    )?;
    c.exec("SELECT pg_notify($1, $2)", &[&FEED_CHANNEL, &member]).map(drop)
}

fn record_status(c: &mut Tx<'_, '_>, s: &NewStatus) -> Result<StatusOutcome, StoreError> {
    let code = s.event.dossier.as_str();
    let Some(row) =
        c.opt("SELECT status, status_at_ns, status_hash, finished_at_ns FROM dossiers WHERE code = $1", &[&code])?
    else {
        return Ok(StatusOutcome::UnknownDossier);
    };
    let finished_at_ns: Option<i64> = get(&row, 3)?;
    let content_hash = s.event.content_hash();
    if let Some(copy) = earlier_copy(c, s, &content_hash)? {
        return Ok(StatusOutcome::Duplicate(copy));
    }
    let cur = progress(get(&row, 0)?, get(&row, 1)?, get(&row, 2)?)?;
    match lifecycle::check(cur.as_ref(), &s.event) {
        Err(error) => {
            let current = cur.map(|p| CurrentStatus { status: p.status, at: p.at });
            return Ok(StatusOutcome::Refused { error, current });
        }
        Ok(Transition::Duplicate) => {
            return Err(corrupt(format!("dossier {code}: last event is not in the history")));
        }
        Ok(Transition::Applied) => {}
    }
    let now = Utc::now().timestamp_millis();
    let at = to_ns(&s.event.at.to_utc());
    let status = i32::from(s.event.status.code());
    let event_json = serde_json::to_string(&s.event).map_err(corrupt)?;
    let event_id: i64 = get(
        &c.one(
            "INSERT INTO status_events (dossier_code, event, reported_by, recorded_at_ms, status, at_ns, content_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[&code, &event_json, &s.reported_by, &now, &status, &at, &&content_hash[..]],
        )?,
        0,
    )?;
    // The due date moves only while open; the first final state fixes the finish.
    let open = !s.event.status.is_final() && finished_at_ns.is_none();
    let new_due = s.event.new_due_at.filter(|_| open).map(|d| to_ns(&d.to_utc()));
    let finished = (s.event.status.is_final() && finished_at_ns.is_none()).then_some(at);
    c.exec(
        "UPDATE dossiers SET status = $1, status_at_ns = $2, status_hash = $3,
             due_at_ns = COALESCE($4, due_at_ns), finished_at_ns = COALESCE(finished_at_ns, $5)
         WHERE code = $6",
        &[&status, &at, &&content_hash[..], &new_due, &finished, &code],
    )?;
    let mut recipients: Vec<String> = Vec::with_capacity(s.recipients.len());
    for m in &s.recipients {
        if !recipients.contains(m) {
            recipients.push(m.clone());
        }
    }
    for m in &recipients {
        append_feed(c, m, Some(event_id), None, now)?;
    }
    if let Some(agency) = &s.sync_to {
        c.exec(
            "INSERT INTO deliveries (dossier_code, agency, idempotency_key, state, next_attempt_ms, created_at_ms, event_id)
             VALUES ($1, $2, $3, 'queued', $4, $4, $5)",
            &[&code, &agency.as_str(), &format!("status-{event_id}:{agency}"), &now, &event_id],
        )?;
    }
    let meta = crate::store::status_meta(s, event_id, &recipients);
    append(c, audit::kind::STATUS, code, Some(event_id), &sha256(event_json.as_bytes()), &meta)?;
    Ok(StatusOutcome::Accepted(RecordedStatus {
        event_id,
        recorded_at: ms(Some(now)).unwrap_or_default(),
        recipients,
        queued_sync: s.sync_to.is_some(),
    }))
}

/// Removes entries stored before `before_ms`, about `limit` of the oldest: for
/// each member among those, everything up to its newest one, so what is left
/// is always a contiguous tail. See the SQLite store's `status::prune`.
fn prune_feeds(c: &mut Tx<'_, '_>, before_ms: i64, limit: u64) -> Result<u64, StoreError> {
    let limit = i64::try_from(limit.max(1)).unwrap_or(i64::MAX);
    let floors = c.all(
        "SELECT member, MAX(seq) FROM (SELECT member, seq FROM feed_entries WHERE recorded_at_ms < $1
                                       ORDER BY recorded_at_ms LIMIT $2) AS due GROUP BY member",
        &[&before_ms, &limit],
    )?;
    let mut removed = 0u64;
    for r in floors {
        let (member, floor): (String, i64) = (get(&r, 0)?, get(&r, 1)?);
        c.exec("UPDATE feed_heads SET floor_seq = GREATEST(floor_seq, $2) WHERE member = $1", &[&member, &floor])?;
        removed += c.exec("DELETE FROM feed_entries WHERE member = $1 AND seq <= $2", &[&member, &floor])?;
    }
    Ok(removed)
}

fn notify_agency(c: &mut Tx<'_, '_>, agency: &str, notice: &Value) -> Result<Vec<String>, StoreError> {
    let waiting = c.all(
        "SELECT s.sender, COUNT(*) FROM deliveries d JOIN dossiers s ON s.code = d.dossier_code
         WHERE d.agency = $1 AND d.state IN ('queued', 'retrying') GROUP BY s.sender ORDER BY s.sender",
        &[&agency],
    )?;
    let now = Utc::now().timestamp_millis();
    let mut told = Vec::with_capacity(waiting.len());
    for r in waiting {
        let (member, n): (String, i64) = (get(&r, 0)?, get(&r, 1)?);
        let mut body = notice.clone();
        body["waiting"] = n.into();
        let id: i64 = get(
            &c.one(
                "INSERT INTO notices (dossier_code, body, recorded_at_ms) VALUES (NULL, $1, $2) RETURNING id",
                &[&body.to_string(), &now],
            )?,
            0,
        )?;
        append_feed(c, &member, None, Some(id), now)?;
        told.push(member);
    }
    Ok(told)
}

fn notify_failure(c: &mut Tx<'_, '_>, id: i64, error: &str, now: i64) -> Result<Option<String>, StoreError> {
    let Some(r) = c.opt(
        "SELECT d.dossier_code, d.agency, s.sender, d.event_id FROM deliveries d
         JOIN dossiers s ON s.code = d.dossier_code WHERE d.id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let (code, agency, sender, event_id): (String, String, String, Option<i64>) =
        (get(&r, 0)?, get(&r, 1)?, get(&r, 2)?, get(&r, 3)?);
    let body = crate::store::failure_notice(&code, &agency, id, event_id, error);
    let notice: i64 = get(
        &c.one(
            "INSERT INTO notices (dossier_code, body, recorded_at_ms) VALUES ($1, $2, $3) RETURNING id",
            &[&code, &body, &now],
        )?,
        0,
    )?;
    append_feed(c, &sender, None, Some(notice), now)?;
    Ok(Some(sender))
}

/// Queues dead letter `id` again (the rules of the SQLite store's replay).
fn replay(c: &mut Tx<'_, '_>, id: i64) -> Result<Option<DeadLetter>, StoreError> {
    let now = Utc::now().timestamp_millis();
    let Some(r) = c.opt(
        "UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_ms = $2, lease_until_ms = NULL,
             created_at_ms = $2, gave_up = false,
             idempotency_key = CASE WHEN gave_up THEN idempotency_key ELSE idempotency_key || ':replay-' || ($2::bigint)::text END
         WHERE id = $1 AND state = 'failed'
         RETURNING id, dossier_code, agency, event_id, attempts, last_error, next_attempt_ms, idempotency_key",
        &[&id, &now],
    )?
    else {
        return Ok(None);
    };
    let letter = super::read::letter(&r)?;
    let key: String = get(&r, 7)?;
    let meta = serde_json::json!({
        "delivery": id, "agency": letter.agency, "event_id": letter.event_id, "last_error": letter.last_error,
        "idempotency_key": key,
    });
    let digest = sha256(meta.to_string().as_bytes());
    append(c, audit::kind::REPLAY, &letter.dossier, Some(id), &digest, &meta)?;
    Ok(Some(letter))
}
