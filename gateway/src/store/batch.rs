//! The changes a store's writer applies, grouped into one transaction per batch:
//! shared by the SQLite and PostgreSQL stores, so that both group concurrent
//! changes the same way and answer each only after the commit that holds it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::{
    AttemptResult, AuditHead, DeadLetter, DeliveryJob, NewDossier, NewStatus, StatusOutcome, StoreError, SubmitOutcome,
};

/// Most changes grouped into one commit.
pub(super) const MAX_BATCH: usize = 256;

/// Where one change's answer goes.
pub(super) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// Sends one change's answer once the commit's outcome is known.
pub(super) type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;

/// One change to apply.
pub(super) enum Op {
    Submit(Box<NewDossier>, Reply<SubmitOutcome>),
    Claim { now: DateTime<Utc>, limit: usize, lease: Duration, agency: Option<String>, reply: Reply<Vec<DeliveryJob>> },
    Record { id: i64, result: AttemptResult, reply: Reply<Option<String>> },
    Status(Box<NewStatus>, Reply<StatusOutcome>),
    Prune { before_ms: i64, reply: Reply<u64> },
    Replay { id: i64, reply: Reply<Option<DeadLetter>> },
    AddHead(AuditHead, Reply<()>),
    NotifyAgency { agency: String, notice: serde_json::Value, reply: Reply<Vec<String>> },
    AckFeed { member: String, seq: i64, reply: Reply<()> },
    PruneAudit { bodies_before_ms: Option<i64>, meta_before_ns: Option<i64>, reply: Reply<(u64, u64)> },
}

impl Op {
    /// Whether the change appends to the message log, a feed or the outbox, whose
    /// order must be one order for every writer (claims and read positions change
    /// rows in place).
    pub(super) fn is_ordered(&self) -> bool {
        !matches!(self, Op::Claim { .. } | Op::AckFeed { .. })
    }
}

/// The changes as one database applies them, each inside its own savepoint of the
/// batch's transaction, so that one failure undoes only its own change.
pub(super) trait Changes {
    fn submit(&mut self, d: &NewDossier) -> Result<SubmitOutcome, StoreError>;
    fn claim(
        &mut self,
        now: DateTime<Utc>,
        limit: usize,
        lease: Duration,
        agency: Option<&str>,
    ) -> Result<Vec<DeliveryJob>, StoreError>;
    fn record(&mut self, id: i64, result: &AttemptResult) -> Result<Option<String>, StoreError>;
    fn status(&mut self, s: &NewStatus) -> Result<StatusOutcome, StoreError>;
    fn prune_feeds(&mut self, before_ms: i64) -> Result<u64, StoreError>;
    fn replay(&mut self, id: i64) -> Result<Option<DeadLetter>, StoreError>;
    fn add_head(&mut self, head: &AuditHead) -> Result<(), StoreError>;
    fn notify_agency(&mut self, agency: &str, notice: &serde_json::Value) -> Result<Vec<String>, StoreError>;
    fn ack_feed(&mut self, member: &str, seq: i64) -> Result<(), StoreError>;
    fn prune_audit(
        &mut self,
        bodies_before_ms: Option<i64>,
        meta_before_ns: Option<i64>,
    ) -> Result<(u64, u64), StoreError>;
}

/// Applies one change; its answer waits for the commit.
pub(super) fn apply(c: &mut impl Changes, op: Op) -> Finish {
    match op {
        Op::Submit(d, reply) => finish(c.submit(&d), reply),
        Op::Claim { now, limit, lease, agency, reply } => finish(c.claim(now, limit, lease, agency.as_deref()), reply),
        Op::Record { id, result, reply } => finish(c.record(id, &result), reply),
        Op::Status(s, reply) => finish(c.status(&s), reply),
        Op::Prune { before_ms, reply } => finish(c.prune_feeds(before_ms), reply),
        Op::Replay { id, reply } => finish(c.replay(id), reply),
        Op::AddHead(head, reply) => finish(c.add_head(&head), reply),
        Op::NotifyAgency { agency, notice, reply } => finish(c.notify_agency(&agency, &notice), reply),
        Op::AckFeed { member, seq, reply } => finish(c.ack_feed(&member, seq), reply),
        Op::PruneAudit { bodies_before_ms, meta_before_ns, reply } => {
            finish(c.prune_audit(bodies_before_ms, meta_before_ns), reply)
        }
    }
}

fn finish<T: Send + 'static>(r: Result<T, StoreError>, reply: Reply<T>) -> Finish {
    Box::new(move |committed| {
        let out = match committed {
            Ok(()) => r,
            Err(e) => Err(StoreError::Database(format!("commit failed: {e}"))),
        };
        let _ = reply.send(out);
    })
}

/// Answers every change of a batch that could not start with the same error.
pub(super) fn fail_all(batch: Vec<Op>, msg: &str) {
    let e = || StoreError::Database(msg.to_owned());
    for op in batch {
        match op {
            Op::Submit(_, r) => drop(r.send(Err(e()))),
            Op::Claim { reply, .. } => drop(reply.send(Err(e()))),
            Op::Record { reply, .. } => drop(reply.send(Err(e()))),
            Op::Status(_, r) => drop(r.send(Err(e()))),
            Op::Prune { reply, .. } => drop(reply.send(Err(e()))),
            Op::Replay { reply, .. } => drop(reply.send(Err(e()))),
            Op::AddHead(_, r) => drop(r.send(Err(e()))),
            Op::NotifyAgency { reply, .. } => drop(reply.send(Err(e()))),
            Op::AckFeed { reply, .. } => drop(reply.send(Err(e()))),
            Op::PruneAudit { reply, .. } => drop(reply.send(Err(e()))),
        }
    }
}

/// Takes the next batch: the first change waiting, and those queued behind it.
pub(super) fn next_batch(rx: &std::sync::mpsc::Receiver<Op>) -> Option<Vec<Op>> {
    let first = rx.recv().ok()?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(op) => batch.push(op),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Sends a change to a writer thread and waits for its answer.
pub(super) async fn call<T>(
    writer: &std::sync::mpsc::Sender<Op>,
    make: impl FnOnce(Reply<T>) -> Op,
) -> Result<T, StoreError> {
    let (tx, rx) = oneshot::channel();
    writer.send(make(tx)).map_err(|_| StoreError::Closed)?;
    rx.await.map_err(|_| StoreError::Closed)?
}
