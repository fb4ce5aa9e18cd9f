//! Rate limits: the `[limits]` defaults and each member's `limits`, per class
//! of request; and what validation checks of them.

use serde::Deserialize;

use super::Config;

/// A sustained rate with a burst.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Requests per second, sustained (may be fractional: `0.5` is one every 2 s).
    pub per_second: f64,
    /// Requests that may come at once after a quiet period; at least 1.
    pub burst: u32,
}

impl Rate {
    /// This replica's share of a rate that `replicas` gateways enforce together:
    /// the rate divided among them, the burst too (at least 1), so that all of
    /// them together never exceed it.
    pub fn shared_by(self, replicas: u32) -> Rate {
        let n = replicas.max(1);
        Rate { per_second: self.per_second / f64::from(n), burst: self.burst.div_ceil(n).max(1) }
    }
}

/// Limits per class of request; a class without one is not limited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Submissions: dossiers and status events.
    pub submit: Option<Rate>,
    /// Synchronous look-ups at agencies.
    pub lookup: Option<Rate>,
    /// Reads: feeds, dossiers and figures.
    pub read: Option<Rate>,
}

impl RateLimits {
    /// `self`, with `defaults` where `self` sets nothing.
    pub fn or(self, defaults: &RateLimits) -> RateLimits {
        RateLimits {
            submit: self.submit.or(defaults.submit),
            lookup: self.lookup.or(defaults.lookup),
            read: self.read.or(defaults.read),
        }
    }

    /// This replica's share of each limit (see [`Rate::shared_by`]).
    pub fn shared_by(self, replicas: u32) -> RateLimits {
        let share = |r: Option<Rate>| r.map(|r| r.shared_by(replicas));
        RateLimits { submit: share(self.submit), lookup: share(self.lookup), read: share(self.read) }
    }

    fn each(&self) -> [(&'static str, Option<Rate>); 3] {
        [("submit", self.submit), ("lookup", self.lookup), ("read", self.read)]
    }
}

/// Checks `[limits]` and every member's `limits`.
pub(super) fn validate(config: &Config, push: &mut impl FnMut(String, String)) {
    let mut check = |at: String, limits: &RateLimits| {
        for (class, rate) in limits.each() {
            let Some(r) = rate else { continue };
            if !(r.per_second.is_finite() && r.per_second > 0.0 && r.per_second <= 1e6) {
                push(format!("{at}.{class}.per_second"), "must be greater than 0 and at most 1000000".into());
            }
            if r.burst == 0 {
                push(format!("{at}.{class}.burst"), "must be at least 1".into());
            }
        }
    };
    check("limits".into(), &config.limits);
    for (i, m) in config.members.iter().enumerate() {
        check(format!("members[{i}].limits"), &m.limits);
    }
}
