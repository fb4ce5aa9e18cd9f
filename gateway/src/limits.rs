//! Rate limits per member and class of request (governor's GCRA, in memory), and
//! the per-agency backlog that turns new dossiers away with 503 when an agency
//! cannot keep up.
//!
//! A refused request does no work: the check comes right after authentication,
//! before the body is read.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http::{header, HeaderValue, StatusCode};

use crate::config::{Config, Rate, RateLimits};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::store::Store;

/// A class of request, limited separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Dossiers and status events.
    Submit,
    /// Look-ups at agencies.
    Lookup,
    /// Feeds, dossiers and figures.
    Read,
}

impl Class {
    /// The label in metrics and configuration.
    pub fn label(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Lookup => "lookup",
            Self::Read => "read",
        }
    }
}

/// The quota of a configured rate.
pub fn quota(rate: &Rate) -> Option<Quota> {
    let period = Duration::from_secs_f64(1.0 / rate.per_second);
    Some(Quota::with_period(period)?.allow_burst(NonZeroU32::new(rate.burst)?))
}

/// One class's bucket, with the rate it was made for; shared so that a reload
/// which leaves the rate alone keeps the bucket, and what it has counted.
type Bucket = Option<(Rate, Arc<DefaultDirectRateLimiter>)>;

#[derive(Default)]
struct Buckets {
    submit: Bucket,
    lookup: Bucket,
    read: Bucket,
}

impl Buckets {
    /// The buckets of `limits`, taking over those of `old` whose rate is the same.
    fn of(limits: &RateLimits, old: Option<&Buckets>) -> Self {
        let make = |r: &Option<Rate>, prev: Option<&Bucket>| -> Bucket {
            let rate = (*r)?;
            if let Some(Some((was, bucket))) = prev {
                if *was == rate {
                    return Some((rate, bucket.clone()));
                }
            }
            quota(&rate).map(|q| (rate, Arc::new(RateLimiter::direct(q))))
        };
        Self {
            submit: make(&limits.submit, old.map(|b| &b.submit)),
            lookup: make(&limits.lookup, old.map(|b| &b.lookup)),
            read: make(&limits.read, old.map(|b| &b.read)),
        }
    }

    fn get(&self, class: Class) -> Option<&DefaultDirectRateLimiter> {
        let bucket = match class {
            Class::Submit => &self.submit,
            Class::Lookup => &self.lookup,
            Class::Read => &self.read,
        };
        bucket.as_ref().map(|(_, b)| b.as_ref())
    }
}

/// Every member's buckets.
pub struct MemberLimits {
    by_member: HashMap<String, Buckets>,
    clock: DefaultClock,
    metrics: Metrics,
}

impl MemberLimits {
    /// The buckets of every configured member: its own limits, else `[limits]`;
    /// this replica's share of them when `store.replicas` gateways share the store.
    pub fn new(config: &Config, metrics: Metrics) -> Self {
        Self::build(config, metrics, None)
    }

    /// The buckets of a reloaded `config`. A member's bucket whose rate did not
    /// change is the same bucket, so a reload neither refills nor empties it; a
    /// changed rate starts a full bucket of the new quota, as a restart would.
    pub fn reloaded(&self, config: &Config) -> Self {
        Self::build(config, self.metrics.clone(), Some(self))
    }

    fn build(config: &Config, metrics: Metrics, old: Option<&MemberLimits>) -> Self {
        let replicas = config.store.replicas;
        let by_member = config
            .members
            .iter()
            .map(|m| {
                let limits = m.limits.or(&config.limits).shared_by(replicas);
                let prev = old.and_then(|o| o.by_member.get(&m.id));
                (m.id.clone(), Buckets::of(&limits, prev))
            })
            .collect();
        Self { by_member, clock: DefaultClock::default(), metrics }
    }

    /// Takes one request of `class` from `member`'s bucket, or refuses it with 429
    /// and the time until one would be allowed in `Retry-After` (whole seconds,
    /// rounded up).
    pub fn check(&self, member: &str, class: Class) -> Result<(), ApiError> {
        let Some(bucket) = self.by_member.get(member).and_then(|b| b.get(class)) else { return Ok(()) };
        let Err(not_until) = bucket.check() else { return Ok(()) };
        let wait = not_until.wait_time_from(self.clock.now());
        self.metrics.rate_limited.with_label_values(&[member, class.label()]).inc();
        Err(too_many(class, wait))
    }
}

/// Whole seconds of `wait`, rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

fn too_many(class: Class, wait: Duration) -> ApiError {
    let secs = retry_after_secs(wait);
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("over this member's {} rate; retry in {secs} s", class.label()),
    );
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        e.headers.push((header::RETRY_AFTER, v));
    }
    e
}

/// Deliveries waiting per agency: read from the store every `refresh`, and kept
/// current between reads as dossiers are accepted and deliveries end.
pub struct Backlog {
    limit: Option<u64>,
    depth: HashMap<String, AtomicU64>,
}

impl Backlog {
    /// A backlog for the agencies of `config`.
    pub fn new(config: &Config) -> Self {
        let depth = config.agencies.keys().map(|a| (a.clone(), AtomicU64::new(0))).collect();
        Self { limit: config.delivery.max_queue_per_agency, depth }
    }

    /// Refuses a new dossier for `agency` with 503 while its backlog is full.
    pub fn admit(&self, agency: &str) -> Result<(), ApiError> {
        let (Some(limit), Some(depth)) = (self.limit, self.depth.get(agency)) else { return Ok(()) };
        if depth.load(Ordering::Relaxed) < limit {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "agency_backlog_full",
            format!("agency {agency} has {limit} or more dossiers waiting; nothing was accepted, retry later"),
        )
        .with_header(header::RETRY_AFTER, "30"))
    }

    /// Counts a dossier queued for each of `agencies`.
    pub fn queued<'a>(&self, agencies: impl IntoIterator<Item = &'a str>) {
        for a in agencies {
            if let Some(d) = self.depth.get(a) {
                d.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Counts a delivery to `agency` that ended (delivered or failed for good).
    pub fn done(&self, agency: &str) {
        if let Some(d) = self.depth.get(agency) {
            let _ = d.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| Some(v.saturating_sub(1)));
        }
    }

    /// Reads the depths from the store every `refresh` until `shutdown`.
    pub async fn refresh(
        self: Arc<Self>,
        store: Arc<dyn Store>,
        metrics: Metrics,
        refresh: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => return,
            }
            let Ok(waiting) = store.pending().await else { continue };
            let now = chrono::Utc::now();
            for (agency, depth) in &self.depth {
                let p = waiting.iter().find(|p| &p.agency == agency);
                let pending = p.map_or(0, |p| p.count);
                depth.store(pending, Ordering::Relaxed);
                metrics.queue_depth.with_label_values(&[agency]).set(i64::try_from(pending).unwrap_or(i64::MAX));
                let age = p.and_then(|p| p.oldest).map_or(0, |t| (now - t).num_seconds().max(0));
                metrics.queue_oldest_age.with_label_values(&[agency]).set(age);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(7)), 7);
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_with_the_wait() {
        let cfg = Config::from_toml(
            "[limits]\nsubmit = { per_second = 0.5, burst = 3 }\n\n\
             [[members]]\nid = \"p\"\nrole = \"portal\"\ntoken_sha256 = \"00000000000000000000000000000000000000000000000000000000000000aa\"\n\n\
             [[members]]\nid = \"q\"\nrole = \"portal\"\ntoken_sha256 = \"00000000000000000000000000000000000000000000000000000000000000bb\"\nlimits = { submit = { per_second = 100, burst = 1 } }\n",
        )
        .unwrap();
        let limits = MemberLimits::new(&cfg, Metrics::new());
        for _ in 0..3 {
            limits.check("p", Class::Submit).unwrap();
        }
        let e = limits.check("p", Class::Submit).unwrap_err();
        assert_eq!((e.status, e.code), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
        let retry = e.headers.iter().find(|(k, _)| k == header::RETRY_AFTER).unwrap().1.to_str().unwrap().to_owned();
        assert_eq!(retry, "2", "one request every 2 s");
        limits.check("p", Class::Lookup).unwrap();
        limits.check("q", Class::Submit).unwrap();
        assert!(limits.check("q", Class::Submit).is_err(), "the member's own limit replaces the default");
        limits.check("unknown", Class::Submit).unwrap();
    }

    fn two_members(p_submit: &str) -> Config {
        Config::from_toml(&format!(
            "[limits]\nsubmit = {{ per_second = 0.5, burst = 2 }}\n\n\
             [[members]]\nid = \"p\"\nrole = \"portal\"\ntoken_sha256 = \"00000000000000000000000000000000000000000000000000000000000000aa\"\nlimits = {{ submit = {p_submit} }}\n\n\
             [[members]]\nid = \"q\"\nrole = \"portal\"\ntoken_sha256 = \"00000000000000000000000000000000000000000000000000000000000000bb\"\n",
        ))
        .unwrap()
    }

    #[test]
    fn a_reload_keeps_the_buckets_whose_rate_is_unchanged() {
        let cfg = two_members("{ per_second = 0.5, burst = 1 }");
        let limits = MemberLimits::new(&cfg, Metrics::new());
        limits.check("p", Class::Submit).unwrap();
        assert!(limits.check("p", Class::Submit).is_err());
        limits.check("q", Class::Submit).unwrap();
        limits.check("q", Class::Submit).unwrap();
        assert!(limits.check("q", Class::Submit).is_err());

        // The same file again: both members' buckets are still empty.
        let same = limits.reloaded(&cfg);
        assert!(same.check("p", Class::Submit).is_err(), "an unchanged limit is not refilled by a reload");
        assert!(same.check("q", Class::Submit).is_err(), "an unchanged default is not refilled by a reload");

        // p's rate changes: p gets a new bucket of the new quota; q keeps its own.
        let changed = same.reloaded(&two_members("{ per_second = 0.5, burst = 3 }"));
        for _ in 0..3 {
            changed.check("p", Class::Submit).unwrap();
        }
        assert!(changed.check("p", Class::Submit).is_err(), "the new burst is 3");
        assert!(changed.check("q", Class::Submit).is_err(), "q's limit did not change, nor its bucket");
    }
}
