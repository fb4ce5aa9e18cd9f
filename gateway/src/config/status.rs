//! The `[status]` section: feeds (retention, long-poll and page limits) and the
//! agencies polled for status changes; and what validation checks of them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::{AgencyConfig, Config};

/// Status updates and the feeds members pull them from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusConfig {
    /// How long an event stays in the feeds; a cursor older than that gets 410.
    /// The dossier's own history keeps every event regardless.
    #[serde(with = "humantime_serde")]
    pub feed_retention: Duration,
    /// How often events older than `feed_retention` are removed from the feeds.
    #[serde(with = "humantime_serde")]
    pub feed_prune_interval: Duration,
    /// The longest long-poll (`wait`) a member may ask for; longer asks are cut to it.
    #[serde(with = "humantime_serde")]
    pub feed_max_wait: Duration,
    /// The most events one feed page may hold (`limit`).
    pub feed_max_limit: usize,
    /// Agencies polled for status changes, by agency id, and how often: each round
    /// asks for the next `poll_batch` dossiers the agency decides that are not
    /// closed. Only agencies whose adapter can be polled (DVCQG's dossier look-up,
    /// Justice's status polls) may be listed.
    pub poll: BTreeMap<String, humantime_serde::Serde<Duration>>,
    /// Dossier codes asked for in one poll round.
    pub poll_batch: usize,
    /// How far in the future an event's time (`ThoiDiemXuLy`) may be: a later one
    /// would block every true event after it, so it is refused.
    #[serde(with = "humantime_serde")]
    pub max_clock_skew: Duration,
}

impl Default for StatusConfig {
    fn default() -> Self {
        Self {
            feed_retention: Duration::from_secs(30 * 24 * 3600),
            feed_prune_interval: Duration::from_secs(3600),
            feed_max_wait: Duration::from_secs(60),
            feed_max_limit: 1000,
            poll: BTreeMap::new(),
            poll_batch: 100,
            max_clock_skew: Duration::from_secs(300),
        }
    }
}

impl StatusConfig {
    /// Whether an event dated `at` is further in the future than the clock skew allows.
    pub fn too_far_ahead(&self, at: &schemas::VnDateTime) -> bool {
        let limit = chrono::Duration::from_std(self.max_clock_skew).unwrap_or(chrono::Duration::MAX);
        at.to_utc() > chrono::Utc::now() + limit
    }

    /// The agencies to poll and their intervals.
    pub fn poll_intervals(&self) -> impl Iterator<Item = (&str, Duration)> {
        self.poll.iter().map(|(a, d)| (a.as_str(), **d))
    }
}

/// Checks the `[status]` section.
pub(super) fn validate(config: &Config, push: &mut impl FnMut(String, String)) {
    let s = &config.status;
    for (name, d) in [
        ("feed_retention", s.feed_retention),
        ("feed_prune_interval", s.feed_prune_interval),
        ("feed_max_wait", s.feed_max_wait),
    ] {
        if d.is_zero() {
            push(format!("status.{name}"), "must be greater than 0".into());
        }
    }
    if s.feed_max_limit == 0 {
        push("status.feed_max_limit".into(), "must be greater than 0".into());
    }
    if s.poll_batch == 0 {
        push("status.poll_batch".into(), "must be greater than 0".into());
    }
    for (agency, every) in s.poll_intervals() {
        let at = format!("status.poll.{agency}");
        match config.agencies.get(agency) {
            None => push(at, format!("agency {agency} is not configured under [agencies]")),
            Some(AgencyConfig::Mpi(_) | AgencyConfig::Moit(_)) => {
                push(at, format!("the adapter of {agency} cannot be polled for status"))
            }
            Some(_) if every.is_zero() => push(at, "must be greater than 0".into()),
            Some(_) => {}
        }
    }
}
