//! Status polls: for each agency configured under `[status.poll]`, ask it on a
//! schedule for the status of the dossiers it decides that are not closed, a
//! batch at a time in code order, and record what it reports as status events
//! (the ones already known are duplicates and change nothing).
//!
//! An agency reports what is the target agency's to report (4, 5, 6, 8, 9), as a
//! member of it would post: the steps of the dossier's sender that an agency's
//! history echoes (its own "received", the portal's steps it was sent) are not
//! taken from it.

use std::sync::Arc;
use std::time::Duration;

use adapters::Adapter;
use schemas::lifecycle::{self, Reporter};
use schemas::{AgencyId, MaHoSo};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::metrics::Metrics;
use crate::status::{Source, StatusDesk};
use crate::store::{DossierParties, StatusOutcome, Store};

/// One agency's poll loop.
pub struct StatusPoller {
    /// The agency.
    pub agency: AgencyId,
    /// Its adapter, which can be polled.
    pub adapter: Arc<dyn Adapter>,
    /// Time between rounds.
    pub every: Duration,
    /// Where the dossiers are.
    pub store: Arc<dyn Store>,
    /// Where the events go.
    pub desk: Arc<StatusDesk>,
    /// The `[status]` settings (batch size, clock skew).
    pub config: crate::config::StatusConfig,
    /// The metrics.
    pub metrics: Metrics,
    /// Whether the message log can be signed: no events are taken while not.
    pub evidence: Arc<crate::audit::Evidence>,
}

impl StatusPoller {
    /// Polls every `every` until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        info!(agency = %self.agency, every = ?self.every, "polling the agency for status changes");
        let mut after: Option<MaHoSo> = None;
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
            after = self.round(after).await;
        }
    }

    /// One round: the next batch after `after`; returns where the next round starts.
    async fn round(&self, after: Option<MaHoSo>) -> Option<MaHoSo> {
        // Like a post, a polled event is new work the log must be able to prove.
        if self.evidence.admit().is_err() {
            debug!(agency = %self.agency, "the message log cannot be signed; this poll round is skipped");
            return after;
        }
        let agency = self.agency.as_str();
        let codes = match self.store.open_dossiers(&self.agency, after.as_ref(), self.config.poll_batch).await {
            Ok(c) => c,
            Err(e) => {
                warn!(agency, error = %e, "cannot list dossiers to poll");
                return after;
            }
        };
        // Past the last open dossier: the next round starts again from the first.
        let last = codes.last().cloned()?;
        let cid = uuid::Uuid::new_v4().to_string();
        let events = match self.adapter.poll_changes(&codes, &cid).await {
            Ok(e) => e,
            Err(e) => {
                self.metrics.status_polls.with_label_values(&[agency, "error"]).inc();
                warn!(agency, correlation_id = %cid, error = %e, "status poll failed; the batch is asked again next round");
                return after;
            }
        };
        self.metrics.status_polls.with_label_values(&[agency, "ok"]).inc();
        let (mut accepted, mut refused) = (0u32, 0u32);
        // A dossier's parties are read once per round, however many events it has.
        let mut parties_of: std::collections::HashMap<MaHoSo, Option<DossierParties>> = Default::default();
        for event in events {
            if !codes.contains(&event.dossier) {
                continue;
            }
            if !lifecycle::may_post(Reporter::TargetAgency, event.status) {
                let status = event.status.code().to_string();
                self.metrics.status_events.with_label_values(&[&status, "poll", "status_not_permitted"]).inc();
                continue;
            }
            if self.config.too_far_ahead(&event.at) {
                refused += 1;
                debug!(agency, dossier = %event.dossier, "polled event is dated in the future; ignored");
                continue;
            }
            if !parties_of.contains_key(&event.dossier) {
                match self.store.parties(&event.dossier).await {
                    Ok(p) => parties_of.insert(event.dossier.clone(), p.filter(|p| p.agency == agency)),
                    Err(e) => {
                        warn!(agency, error = %e, "cannot read a polled dossier; the batch is asked again next round");
                        return after;
                    }
                };
            }
            let Some(Some(parties)) = parties_of.get(&event.dossier) else { continue };
            let code = event.dossier.clone();
            match self.desk.record(event, parties, Source::Poll(self.agency.clone()), &cid).await {
                Ok(StatusOutcome::Accepted(_)) => accepted += 1,
                Ok(StatusOutcome::Refused { error, .. }) => {
                    refused += 1;
                    debug!(agency, dossier = %code, code = error.code(), "polled event does not follow the lifecycle");
                }
                Ok(_) => {}
                Err(e) => {
                    warn!(agency, error = %e, "cannot record a polled event; the batch is asked again next round");
                    return after;
                }
            }
        }
        if accepted + refused > 0 {
            info!(agency, correlation_id = %cid, accepted, refused, "status poll recorded events");
        }
        Some(last)
    }
}
