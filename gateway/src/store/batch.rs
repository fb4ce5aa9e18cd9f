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

/// One change to apply.
pub(super) enum Op {
    Submit(Box<NewDossier>, Reply<SubmitOutcome>),
    Claim { now: DateTime<Utc>, limit: usize, lease: Duration, agency: Option<String>, reply: Reply<Vec<DeliveryJob>> },
    Record { id: i64, result: AttemptResult, reply: Reply<Option<String>> },
    Status(Box<NewStatus>, Reply<StatusOutcome>),
    Prune { before_ms: i64, limit: u64, reply: Reply<u64> },
    Replay { id: i64, reply: Reply<Option<DeadLetter>> },
    AddHead(AuditHead, Reply<()>),
    NotifyAgency { agency: String, notice: serde_json::Value, reply: Reply<Vec<String>> },
    AckFeed { member: String, seq: i64, reply: Reply<()> },
    PruneAudit { bodies_before_ms: Option<i64>, meta_before_ns: Option<i64>, limit: u64, reply: Reply<(u64, u64)> },
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
    fn prune_feeds(&mut self, before_ms: i64, limit: u64) -> Result<u64, StoreError>;
    fn replay(&mut self, id: i64) -> Result<Option<DeadLetter>, StoreError>;
    fn add_head(&mut self, head: &AuditHead) -> Result<(), StoreError>;
    fn notify_agency(&mut self, agency: &str, notice: &serde_json::Value) -> Result<Vec<String>, StoreError>;
    fn ack_feed(&mut self, member: &str, seq: i64) -> Result<(), StoreError>;
    fn prune_audit(
        &mut self,
        bodies_before_ms: Option<i64>,
        meta_before_ns: Option<i64>,
        limit: u64,
    ) -> Result<(u64, u64), StoreError>;
}

/// One change's result, which stands only if the batch's commit succeeds.
pub(super) enum Done {
    Submit(Result<SubmitOutcome, StoreError>),
    Claim(Result<Vec<DeliveryJob>, StoreError>),
    Record(Result<Option<String>, StoreError>),
    Status(Result<StatusOutcome, StoreError>),
    Prune(Result<u64, StoreError>),
    Replay(Result<Option<DeadLetter>, StoreError>),
    AddHead(Result<(), StoreError>),
    NotifyAgency(Result<Vec<String>, StoreError>),
    AckFeed(Result<(), StoreError>),
    PruneAudit(Result<(u64, u64), StoreError>),
}

impl Done {
    /// Whether the change failed (and may have left part of itself behind when
    /// it ran without a savepoint).
    pub(super) fn failed(&self) -> bool {
        match self {
            Done::Submit(r) => r.is_err(),
            Done::Claim(r) => r.is_err(),
            Done::Record(r) => r.is_err(),
            Done::Status(r) => r.is_err(),
            Done::Prune(r) => r.is_err(),
            Done::Replay(r) => r.is_err(),
            Done::AddHead(r) | Done::AckFeed(r) => r.is_err(),
            Done::NotifyAgency(r) => r.is_err(),
            Done::PruneAudit(r) => r.is_err(),
        }
    }
}

/// Applies one change; its answer waits for the commit ([`answer`]).
pub(super) fn apply(c: &mut impl Changes, op: &Op) -> Done {
    match op {
        Op::Submit(d, _) => Done::Submit(c.submit(d)),
        Op::Claim { now, limit, lease, agency, .. } => Done::Claim(c.claim(*now, *limit, *lease, agency.as_deref())),
        Op::Record { id, result, .. } => Done::Record(c.record(*id, result)),
        Op::Status(s, _) => Done::Status(c.status(s)),
        Op::Prune { before_ms, limit, .. } => Done::Prune(c.prune_feeds(*before_ms, *limit)),
        Op::Replay { id, .. } => Done::Replay(c.replay(*id)),
        Op::AddHead(head, _) => Done::AddHead(c.add_head(head)),
        Op::NotifyAgency { agency, notice, .. } => Done::NotifyAgency(c.notify_agency(agency, notice)),
        Op::AckFeed { member, seq, .. } => Done::AckFeed(c.ack_feed(member, *seq)),
        Op::PruneAudit { bodies_before_ms, meta_before_ns, limit, .. } => {
            Done::PruneAudit(c.prune_audit(*bodies_before_ms, *meta_before_ns, *limit))
        }
    }
}

/// Whether each change of a batch runs in a savepoint of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Savepoints {
    /// None: a failed change leaves the transaction to be rolled back.
    No,
    /// One per change: a failed change undoes only itself.
    EachChange,
}

/// The results of one pass over a batch and its commit's outcome; `None` when a
/// change failed without a savepoint (the pass rolled its transaction back).
pub(super) type Pass = Option<(Vec<Done>, Result<(), String>)>;

/// Applies a batch through `pass`, a store's transaction around
/// [`apply_pass`], and answers every change after the commit.
///
/// The changes run without savepoints first: a savepoint per change costs
/// pages copied into a statement journal (SQLite) or two round trips
/// (PostgreSQL), to undo a change that hardly ever fails. If one does fail,
/// the batch is applied again with each change in its own savepoint, so that
/// the failure undoes only its own change. `Err` from `pass`: no transaction.
pub(super) fn run(batch: Vec<Op>, mut pass: impl FnMut(&[Op], Savepoints) -> Result<Pass, String>) {
    let outcome = match pass(&batch, Savepoints::No) {
        Ok(None) => pass(&batch, Savepoints::EachChange),
        other => other,
    };
    match outcome {
        Ok(Some((done, committed))) => answer(batch, done, &committed),
        // Not reached: with savepoints a failed change does not stop the batch.
        Ok(None) => fail_all(batch, "the batch stopped at a failed change"),
        Err(e) => fail_all(batch, &e),
    }
}

/// Applies a batch's changes in one transaction: with [`Savepoints::No`],
/// until one fails (`None`: the transaction holds part of the batch and must
/// be rolled back); with [`Savepoints::EachChange`], all of them.
pub(super) fn apply_pass(c: &mut impl Changes, batch: &[Op], savepoints: Savepoints) -> Option<Vec<Done>> {
    match savepoints {
        Savepoints::No => apply_until_failure(c, batch),
        Savepoints::EachChange => Some(batch.iter().map(|op| apply(c, op)).collect()),
    }
}

/// Applies every change of a batch until one fails: `None` then, and the
/// transaction holds part of the batch, to be rolled back.
fn apply_until_failure(c: &mut impl Changes, batch: &[Op]) -> Option<Vec<Done>> {
    let mut done = Vec::with_capacity(batch.len());
    for op in batch {
        let d = apply(c, op);
        if d.failed() {
            return None;
        }
        done.push(d);
    }
    Some(done)
}

/// Answers each change of a batch with its result, once the commit's outcome
/// is known: a failed commit fails every change.
pub(super) fn answer(batch: Vec<Op>, done: Vec<Done>, committed: &Result<(), String>) {
    debug_assert_eq!(batch.len(), done.len());
    for (op, d) in batch.into_iter().zip(done) {
        answer_one(op, d, committed);
    }
}

fn answer_one(op: Op, done: Done, committed: &Result<(), String>) {
    fn send<T>(reply: Reply<T>, r: Result<T, StoreError>, committed: &Result<(), String>) {
        let out = match committed {
            Ok(()) => r,
            Err(e) => Err(StoreError::Database(format!("commit failed: {e}"))),
        };
        let _ = reply.send(out);
    }
    match (op, done) {
        (Op::Submit(_, reply), Done::Submit(r)) => send(reply, r, committed),
        (Op::Claim { reply, .. }, Done::Claim(r)) => send(reply, r, committed),
        (Op::Record { reply, .. }, Done::Record(r)) => send(reply, r, committed),
        (Op::Status(_, reply), Done::Status(r)) => send(reply, r, committed),
        (Op::Prune { reply, .. }, Done::Prune(r)) => send(reply, r, committed),
        (Op::Replay { reply, .. }, Done::Replay(r)) => send(reply, r, committed),
        (Op::AddHead(_, reply), Done::AddHead(r)) => send(reply, r, committed),
        (Op::NotifyAgency { reply, .. }, Done::NotifyAgency(r)) => send(reply, r, committed),
        (Op::AckFeed { reply, .. }, Done::AckFeed(r)) => send(reply, r, committed),
        (Op::PruneAudit { reply, .. }, Done::PruneAudit(r)) => send(reply, r, committed),
        // `apply` makes each result from its own change, so this is not reached;
        // if it were, the change is answered with an error, never another's result.
        (op, _) => fail_all(vec![op], "a change's result did not match the change"),
    }
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
