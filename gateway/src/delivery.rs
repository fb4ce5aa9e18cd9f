//! The delivery worker: claims due deliveries from the store (the queue lives
//! there, not in memory), sends each through its agency's adapter, and records the
//! outcome; retryable failures come back after an exponential backoff with jitter.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::{Adapter, Delivery, Outcome};
use chrono::Utc;
use governor::RateLimiter;
use rand::Rng;
use schemas::{AgencyId, Dossier, StatusEvent};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tracing::{debug, error, info, warn, Instrument};

use crate::circuit::Allowance;
use crate::config::DeliveryConfig;
use crate::metrics::Metrics;
use crate::store::{AttemptResult, DeliveryJob, Store};

/// Adapters by agency.
pub type Adapters = HashMap<AgencyId, Arc<dyn Adapter>>;

/// The worker and what it needs.
pub struct DeliveryWorker {
    /// The store holding the queue.
    pub store: Arc<dyn Store>,
    /// One adapter per configured agency.
    pub adapters: Arc<Adapters>,
    /// Timing and concurrency.
    pub config: DeliveryConfig,
    /// The metrics.
    pub metrics: Metrics,
    /// Notified when a dossier is queued.
    pub wake: Arc<Notify>,
    /// Signs requests to agencies that take signed messages.
    pub signer: Arc<crate::signatures::Signatures>,
    /// Deliveries waiting per agency, told when one ends.
    pub backlog: Arc<crate::limits::Backlog>,
    /// The feeds, woken when a failure is told to a sender.
    pub feeds: Arc<crate::feed::FeedHub>,
}

/// The wait before retry number `attempt` (1-based): `initial * 2^(attempt-1)`,
/// capped at `max`, then scaled by a random factor in [0.5, 1.0] so that many
/// deliveries failing together do not retry together.
pub fn backoff(initial: Duration, max: Duration, attempt: u32, jitter: f64) -> Duration {
    let exp = initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(30));
    exp.min(max).mul_f64(jitter.clamp(0.5, 1.0))
}

/// Most deliveries one agency loop claims at once.
const CLAIM_MAX: usize = 64;

/// What one agency loop holds for each delivery it sends: a slot of the agency
/// and a slot of the whole worker.
type Slots = (OwnedSemaphorePermit, OwnedSemaphorePermit);

impl DeliveryWorker {
    /// Runs one loop per agency until `shutdown` turns true, then waits for
    /// in-flight deliveries.
    ///
    /// Each loop waits for capacity before it claims: a slot of the agency
    /// (`delivery.agencies.<id>.max_concurrent`), a slot of the worker
    /// (`delivery.concurrency`), and a token of the agency's rate; then it claims
    /// as many of that agency's due deliveries as it holds capacity for. A slow or
    /// rate-limited agency therefore never holds the worker's slots idle, and a
    /// backlog drains at the agency's configured pace.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let worker = Arc::new(self);
        let total = Arc::new(Semaphore::new(worker.config.concurrency));
        let mut loops = Vec::new();
        for agency in worker.adapters.keys() {
            let w = worker.clone();
            let (agency, total, shutdown) = (agency.clone(), total.clone(), shutdown.clone());
            loops.push(tokio::spawn(async move { w.agency_loop(agency, total, shutdown).await }));
        }
        for l in loops {
            let _ = l.await;
        }
        // Let in-flight attempts finish and record their outcome; anything cut off
        // stays claimed until its lease ends and is then sent again.
        let all = u32::try_from(worker.config.concurrency).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(worker.config.request_timeout * 2, total.acquire_many(all)).await;
    }

    async fn agency_loop(
        self: Arc<Self>,
        agency: AgencyId,
        total: Arc<Semaphore>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let limits = self.config.agencies.get(agency.as_str()).cloned().unwrap_or_default();
        let own = Arc::new(Semaphore::new(limits.max_concurrent.unwrap_or(self.config.concurrency)));
        let rate = limits.rate.as_ref().and_then(crate::limits::quota).map(RateLimiter::direct);
        // A claim must outlive the slowest attempt (a login plus a resend each
        // bounded by the request timeout), or another claim could send it again.
        let lease = self.config.lease();
        let in_flight = self.metrics.deliveries_in_flight.with_label_values(&[agency.as_str()]);
        let breaker = Arc::new(crate::circuit::Breaker::new(
            agency.as_str(),
            self.config.circuit,
            self.metrics.circuit_state.with_label_values(&[agency.as_str()]),
            self.metrics.circuit_transitions.clone(),
        ));
        // The outage's start and end are told to the waiting senders by one task,
        // in the order the circuit changed.
        let (outages, mut changes) = tokio::sync::mpsc::unbounded_channel();
        {
            let (w, agency) = (self.clone(), agency.clone());
            tokio::spawn(async move {
                while let Some(change) = changes.recv().await {
                    w.tell_outage(&agency, change).await;
                }
            });
        }
        loop {
            // An open circuit sends nothing until it is time for one probe.
            let claim_max = match breaker.allowance(Instant::now()) {
                Allowance::Any => CLAIM_MAX,
                Allowance::Probe => 1,
                Allowance::Wait(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = shutdown.changed() => {}
                    }
                    if *shutdown.borrow() {
                        break;
                    }
                    continue;
                }
            };
            // Registered before the claim, so a dossier queued meanwhile wakes it.
            let wake = self.wake.clone();
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let first = tokio::select! {
                slots = async {
                    let mine = own.clone().acquire_owned().await.ok()?;
                    let all = total.clone().acquire_owned().await.ok()?;
                    if let Some(r) = &rate {
                        r.until_ready().await;
                    }
                    Some((mine, all))
                } => slots,
                _ = shutdown.changed() => None,
            };
            let Some(first) = first else { break };
            if *shutdown.borrow() {
                break;
            }
            let mut slots: Vec<Slots> = vec![first];
            while slots.len() < claim_max && rate.as_ref().is_none_or(|r| r.check().is_ok()) {
                let (Ok(mine), Ok(all)) = (own.clone().try_acquire_owned(), total.clone().try_acquire_owned()) else {
                    break;
                };
                slots.push((mine, all));
            }
            let jobs = match self.store.claim_due(Utc::now(), slots.len(), lease, Some(&agency)).await {
                Ok(jobs) => jobs,
                Err(e) => {
                    error!(agency = %agency, error = %e, "cannot claim deliveries; will retry");
                    drop(slots);
                    tokio::time::sleep(self.config.poll_interval).await;
                    continue;
                }
            };
            if jobs.is_empty() {
                drop(slots);
                if claim_max == 1 {
                    breaker.probe_unused();
                }
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            for (job, held) in jobs.into_iter().zip(slots.drain(..)) {
                let w = self.clone();
                let (in_flight, breaker, outages) = (in_flight.clone(), breaker.clone(), outages.clone());
                let span = tracing::info_span!("delivery", dossier = %job.dossier_code, agency = %job.agency, correlation_id = %job.correlation_id);
                tokio::spawn(
                    async move {
                        in_flight.inc();
                        if let Some(answered) = w.deliver(job).await {
                            breaker.record_then(answered, Instant::now(), |c| {
                                let _ = outages.send(c);
                            });
                        }
                        in_flight.dec();
                        drop(held);
                    }
                    .instrument(span),
                );
            }
        }
    }

    /// Tells the senders whose deliveries wait for `agency` that it became
    /// unreachable or came back, in their feeds.
    async fn tell_outage(&self, agency: &AgencyId, change: crate::circuit::Change) {
        let now = schemas::VnDateTime::now().to_rfc3339();
        let notice = match change {
            crate::circuit::Change::Opened => serde_json::json!({
                "kind": "agency_unreachable", "agency": agency.as_str(), "since": now,
                "detail": "deliveries wait in the gateway's queue and are retried when the agency answers again",
            }),
            crate::circuit::Change::Recovered(down) => serde_json::json!({
                "kind": "agency_recovered", "agency": agency.as_str(), "at": now,
                "down_for_seconds": (down.as_secs_f64() * 10.0).round() / 10.0,
                "detail": "the waiting deliveries are being sent at the agency's configured pace",
            }),
        };
        match self.store.notify_agency(agency, notice).await {
            Ok(told) => self.feeds.notify(&told),
            Err(e) => warn!(agency = %agency, error = %e, "cannot tell the senders about the agency's outage"),
        }
    }

    /// Sends a status event through its adapter (DVCQG's progress update).
    async fn send_status(&self, adapter: &dyn Adapter, job: &DeliveryJob, event_json: &str) -> Outcome {
        match serde_json::from_str::<StatusEvent>(event_json) {
            Ok(event) => adapter.push_status(std::slice::from_ref(&event), &job.correlation_id).await,
            Err(e) => {
                error!(error = %e, "stored status event cannot be read");
                Outcome::Permanent { reason: "stored status event unreadable".into() }
            }
        }
    }

    /// Sends one delivery and records its outcome. Returns whether the agency
    /// answered (delivered or refused for good) or failed (retryable), when it was
    /// asked at all.
    async fn deliver(&self, job: DeliveryJob) -> Option<bool> {
        let mut answered = None;
        let agency = job.agency.as_str().to_owned();
        let result = match (self.adapters.get(&job.agency), serde_json::from_str::<Dossier>(&job.canonical_json)) {
            (None, _) => {
                warn!("no adapter is configured for this agency; the delivery waits");
                self.retry(&job, "no adapter configured for the agency".into())
            }
            (_, Err(e)) => {
                error!(error = %e, "stored dossier cannot be read; delivery failed");
                AttemptResult::Failed { error: "stored dossier unreadable".into(), gave_up: false }
            }
            (Some(adapter), Ok(dossier)) => {
                let started = Instant::now();
                let outcome = match &job.event_json {
                    Some(event) => self.send_status(adapter.as_ref(), &job, event).await,
                    None => {
                        adapter
                            .deliver(&Delivery {
                                dossier: &dossier,
                                idempotency_key: &job.idempotency_key,
                                correlation_id: &job.correlation_id,
                                signer: Some(self.signer.as_ref()),
                            })
                            .await
                    }
                };
                self.metrics.delivery_duration.with_label_values(&[&agency]).observe(started.elapsed().as_secs_f64());
                self.metrics.delivery_attempts.with_label_values(&[&agency, outcome.label()]).inc();
                answered = Some(!matches!(outcome, Outcome::Retryable { .. }));
                match outcome {
                    Outcome::Delivered { agency_ref } => {
                        info!(attempt = job.attempts + 1, "delivered");
                        AttemptResult::Delivered { agency_ref }
                    }
                    Outcome::Retryable { reason } => {
                        debug!(attempt = job.attempts + 1, reason = %reason, "delivery will be retried");
                        self.retry(&job, reason)
                    }
                    Outcome::Permanent { reason } => {
                        warn!(attempt = job.attempts + 1, reason = %reason, "agency refused the dossier for good");
                        AttemptResult::Failed { error: reason, gave_up: false }
                    }
                }
            }
        };
        let ended = matches!(result, AttemptResult::Delivered { .. } | AttemptResult::Failed { .. });
        let timer = self.metrics.store_duration.with_label_values(&["record_attempt"]).start_timer();
        let recorded = self.store.record_attempt(job.id, result).await;
        if recorded.is_ok() && ended {
            self.backlog.done(&agency);
        }
        if let Ok(Some(told)) = &recorded {
            self.feeds.notify([told]);
        }
        if let Err(e) = recorded {
            // The claim expires and the delivery is attempted again; the agency drops
            // the repeat by its idempotency key.
            error!(error = %e, "cannot record delivery outcome; it will be attempted again");
        }
        timer.observe_duration();
        answered
    }

    fn retry(&self, job: &DeliveryJob, error: String) -> AttemptResult {
        let age = (Utc::now() - job.created_at).to_std().unwrap_or_default();
        if age >= self.config.give_up_after {
            warn!(attempts = job.attempts + 1, "retried past delivery.give_up_after; now a dead letter");
            let after = humantime::format_duration(self.config.give_up_after);
            let error = format!("{} {after}: {error}", crate::store::GAVE_UP);
            return AttemptResult::Failed { error, gave_up: true };
        }
        let wait = backoff(
            self.config.backoff_initial,
            self.config.backoff_max,
            job.attempts + 1,
            rand::rng().random_range(0.5..=1.0),
        );
        let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::seconds(60));
        AttemptResult::Retry { error, next_attempt_at: next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let s = Duration::from_secs;
        assert_eq!(backoff(s(1), s(60), 1, 1.0), s(1));
        assert_eq!(backoff(s(1), s(60), 2, 1.0), s(2));
        assert_eq!(backoff(s(1), s(60), 4, 1.0), s(8));
        assert_eq!(backoff(s(1), s(60), 10, 1.0), s(60));
        assert_eq!(backoff(s(1), s(60), 1000, 1.0), s(60));
        assert_eq!(backoff(s(1), s(60), 4, 0.5), s(4));
        assert_eq!(backoff(s(1), s(60), 4, 0.0), s(4), "jitter never goes below half");
    }
}
