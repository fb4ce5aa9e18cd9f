//! Recording status events, whoever brings them (a member's post or an agency's
//! poll): who gets them, the store's one transaction, waking the feeds and the
//! delivery worker, and the counts.

use std::collections::HashMap;
use std::sync::Arc;

use schemas::lifecycle::Reporter;
use schemas::{AgencyId, StatusEvent};
use tokio::sync::Notify;

use crate::config::{Config, Role};
use crate::feed::FeedHub;
use crate::metrics::Metrics;
use crate::store::{DossierParties, NewStatus, StatusOutcome, Store, StoreError};

/// Where an event comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A member posted it in this role towards the dossier.
    Member {
        /// The member id.
        id: String,
        /// Whether it is the dossier's sender or its target agency.
        role: Reporter,
    },
    /// Polling this agency found it.
    Poll(AgencyId),
}

impl Source {
    fn label(&self) -> &'static str {
        match self {
            Self::Member { role, .. } => role.label(),
            Self::Poll(_) => "poll",
        }
    }
}

/// Records status events and fans them out.
pub struct StatusDesk {
    store: Arc<dyn Store>,
    hub: Arc<FeedHub>,
    /// Ministry members by the agency they speak for.
    ministries: crate::reload::Reloadable<HashMap<String, Vec<String>>>,
    sync: Option<AgencyId>,
    wake: Arc<Notify>,
    metrics: Metrics,
}

/// Ministry members by the agency they speak for.
fn ministries(config: &Config) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for m in &config.members {
        if let (Role::Ministry, Some(agency)) = (m.role, &m.agency) {
            out.entry(agency.clone()).or_default().push(m.id.clone());
        }
    }
    out
}

impl StatusDesk {
    /// A desk for the members and sync agency of `config`.
    pub fn new(config: &Config, store: Arc<dyn Store>, hub: Arc<FeedHub>, wake: Arc<Notify>, metrics: Metrics) -> Self {
        let ministries = crate::reload::Reloadable::new(ministries(config));
        Self { store, hub, ministries, sync: config.status_sync_agency(), wake, metrics }
    }

    /// Takes the ministry members of a reloaded configuration.
    pub fn reload(&self, config: &Config) {
        self.ministries.set(ministries(config));
    }

    /// The feed hub.
    pub fn hub(&self) -> &Arc<FeedHub> {
        &self.hub
    }

    /// The members whose feeds get the events of a dossier: its sender and every
    /// ministry member of its target agency.
    pub fn recipients(&self, parties: &DossierParties) -> Vec<String> {
        let mut out = vec![parties.sender.clone()];
        out.extend(self.ministries.get().get(&parties.agency).into_iter().flatten().cloned());
        out
    }

    /// Records one event of the dossier `parties` describe. The caller has checked
    /// that its source may report it.
    pub async fn record(
        &self,
        event: StatusEvent,
        parties: &DossierParties,
        source: Source,
        correlation_id: &str,
    ) -> Result<StatusOutcome, StoreError> {
        let status = event.status.code().to_string();
        // The sync agency already knows what polling it found.
        let sync_to = self.sync.clone().filter(|s| !matches!(&source, Source::Poll(a) if a == s));
        let reported_by = match &source {
            Source::Member { id, .. } => id.clone(),
            Source::Poll(a) => format!("poll:{a}"),
        };
        let new = NewStatus {
            event,
            reported_by,
            polled: matches!(source, Source::Poll(_)),
            recipients: self.recipients(parties),
            sync_to,
            correlation_id: correlation_id.to_owned(),
        };
        let timer = self.metrics.store_duration.with_label_values(&["record_status"]).start_timer();
        let outcome = self.store.record_status(new).await;
        timer.observe_duration();
        let outcome = outcome?;
        let label = match &outcome {
            StatusOutcome::Accepted(r) => {
                self.hub.notify(&r.recipients);
                if r.queued_sync {
                    self.wake.notify_waiters();
                }
                "accepted"
            }
            StatusOutcome::Duplicate(_) => "duplicate",
            StatusOutcome::Refused { error, .. } => error.code(),
            StatusOutcome::UnknownDossier => "unknown_dossier",
        };
        self.metrics.status_events.with_label_values(&[&status, source.label(), label]).inc();
        Ok(outcome)
    }
}
