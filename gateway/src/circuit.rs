//! A circuit breaker per agency: after `failure_threshold` failed attempts in a
//! row the circuit opens and nothing is sent for `open_for`; then one probe goes
//! (half-open): its success closes the circuit, its failure opens it again. A
//! ministry that is down is probed, not hammered, and deliveries resume by
//! themselves when it recovers.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus::{IntCounterVec, IntGauge};

use crate::config::CircuitConfig;

/// Where a circuit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Requests flow.
    Closed,
    /// Nothing is sent until the instant.
    Open(Instant),
    /// One probe is allowed; `true` while it is out.
    HalfOpen(bool),
}

impl State {
    /// The value of `lienthong_circuit_state`: 0 closed, 1 open, 2 half-open.
    pub fn gauge(self) -> i64 {
        match self {
            Self::Closed => 0,
            Self::Open(_) => 1,
            Self::HalfOpen(_) => 2,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open(_) => "open",
            Self::HalfOpen(_) => "half_open",
        }
    }
}

struct Inner {
    state: State,
    failures: u32,
    /// When the circuit first opened in the current outage.
    down_since: Option<Instant>,
}

/// A change worth telling the senders whose deliveries wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The circuit opened: an outage began.
    Opened,
    /// The circuit closed after an outage that lasted this long.
    Recovered(Duration),
}

/// One agency's circuit.
pub struct Breaker {
    config: CircuitConfig,
    inner: Mutex<Inner>,
    gauge: IntGauge,
    transitions: IntCounterVec,
    agency: String,
}

/// What the circuit allows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    /// Send as many as capacity allows.
    Any,
    /// Send exactly one: the probe.
    Probe,
    /// Send nothing for this long.
    Wait(Duration),
}

impl Breaker {
    /// A closed circuit for `agency`.
    pub fn new(agency: &str, config: CircuitConfig, gauge: IntGauge, transitions: IntCounterVec) -> Self {
        gauge.set(0);
        Self {
            config,
            inner: Mutex::new(Inner { state: State::Closed, failures: 0, down_since: None }),
            gauge,
            transitions,
            agency: agency.to_owned(),
        }
    }

    fn set(&self, inner: &mut Inner, state: State) {
        if std::mem::discriminant(&inner.state) != std::mem::discriminant(&state) {
            self.transitions.with_label_values(&[&self.agency, state.label()]).inc();
            tracing::info!(agency = %self.agency, state = state.label(), "circuit changed state");
        }
        inner.state = state;
        self.gauge.set(state.gauge());
    }

    /// What may be sent now. A probe allowance marks the probe as out until
    /// [`Breaker::record`] is told its outcome.
    pub fn allowance(&self, now: Instant) -> Allowance {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match inner.state {
            State::Closed => Allowance::Any,
            State::Open(until) if now < until => Allowance::Wait(until - now),
            State::Open(_) | State::HalfOpen(false) => {
                self.set(&mut inner, State::HalfOpen(true));
                Allowance::Probe
            }
            // The probe is out: wait for its outcome.
            State::HalfOpen(true) => Allowance::Wait(Duration::from_millis(50)),
        }
    }

    /// A probe that was allowed but not sent (nothing was due).
    pub fn probe_unused(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.state == State::HalfOpen(true) {
            self.set(&mut inner, State::HalfOpen(false));
        }
    }

    /// The outcome of an attempt: `true` when the agency answered (delivered, or
    /// refused for good), `false` when it failed in a way that may pass. Returns
    /// the start or the end of an outage, once each.
    pub fn record(&self, answered: bool, now: Instant) -> Option<Change> {
        self.record_then(answered, now, |_| {})
    }

    /// [`Breaker::record`], calling `tell` with the change while the circuit is
    /// still locked, so that changes reach `tell` in the order they happened.
    pub fn record_then(&self, answered: bool, now: Instant, tell: impl FnOnce(Change)) -> Option<Change> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let change = if answered {
            inner.failures = 0;
            self.set(&mut inner, State::Closed);
            inner.down_since.take().map(|since| Change::Recovered(now.saturating_duration_since(since)))
        } else {
            inner.failures = inner.failures.saturating_add(1);
            let reopen = matches!(inner.state, State::HalfOpen(_));
            if reopen || inner.failures >= self.config.failure_threshold {
                self.set(&mut inner, State::Open(now + self.config.open_for));
                if inner.down_since.is_none() {
                    inner.down_since = Some(now);
                    Some(Change::Opened)
                } else {
                    None
                }
            } else {
                None
            }
        };
        if let Some(c) = change {
            tell(c);
        }
        change
    }

    /// The state now.
    pub fn state(&self) -> State {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        let m = crate::metrics::Metrics::new();
        let config = CircuitConfig { failure_threshold: 3, open_for: Duration::from_secs(10) };
        Breaker::new("moj", config, m.circuit_state.with_label_values(&["moj"]), m.circuit_transitions.clone())
    }

    #[test]
    fn opens_after_the_threshold_probes_once_and_closes_on_success() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(b.record(false, t0), None);
            assert_eq!(b.allowance(t0), Allowance::Any, "below the threshold");
        }
        assert_eq!(b.record(false, t0), Some(Change::Opened), "the outage begins");
        assert_eq!(b.allowance(t0 + Duration::from_secs(1)), Allowance::Wait(Duration::from_secs(9)));
        assert_eq!(b.allowance(t0 + Duration::from_secs(10)), Allowance::Probe);
        assert!(matches!(b.allowance(t0 + Duration::from_secs(10)), Allowance::Wait(_)), "one probe at a time");
        assert_eq!(b.record(true, t0 + Duration::from_secs(11)), Some(Change::Recovered(Duration::from_secs(11))));
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.allowance(t0 + Duration::from_secs(11)), Allowance::Any);
        assert_eq!(b.record(true, t0 + Duration::from_secs(12)), None, "told once");
    }

    #[test]
    fn changes_are_told_in_order_across_threads() {
        let b = std::sync::Arc::new(breaker());
        let told = std::sync::Arc::new(Mutex::new(Vec::new()));
        let t0 = Instant::now();
        std::thread::scope(|s| {
            for i in 0..8 {
                let (b, told) = (b.clone(), told.clone());
                s.spawn(move || {
                    let answered = i % 2 == 0;
                    for _ in 0..200 {
                        b.record_then(answered, t0, |c| told.lock().unwrap().push(c));
                    }
                });
            }
        });
        let told = told.lock().unwrap();
        assert!(!told.is_empty());
        // Told under the circuit's lock: outages open and recover alternately.
        for (i, c) in told.iter().enumerate() {
            let want_open = i % 2 == 0;
            assert_eq!(matches!(c, Change::Opened), want_open, "change {i} of {told:?}");
        }
    }

    #[test]
    fn a_failed_probe_opens_again_and_an_unused_probe_is_given_back() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.record(false, t0);
        }
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(b.allowance(t1), Allowance::Probe);
        b.probe_unused();
        assert_eq!(b.allowance(t1), Allowance::Probe, "the probe is offered again");
        assert_eq!(b.record(false, t1), None, "the same outage goes on");
        assert_eq!(b.state(), State::Open(t1 + Duration::from_secs(10)));
        assert_eq!(b.state().gauge(), 1);
    }
}
