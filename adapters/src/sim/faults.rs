//! Faults a simulator injects into agency requests, settable while it runs.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Misbehaviour to inject into agency requests (never into control endpoints).
///
/// As JSON (for `PUT /_sim/faults`) every field is optional:
/// `{"latency": "50ms", "fail_next": 2, "fail_ratio": 0.1, "hang": false}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay added before each agency request is answered.
    #[serde(with = "humantime_serde")]
    pub latency: Duration,
    /// Answer HTTP 503 to this many next agency requests.
    pub fail_next: u32,
    /// Answer HTTP 503 to this share (0.0 to 1.0) of agency requests, at random.
    pub fail_ratio: f64,
    /// Accept agency requests but answer none until this is cleared or the server
    /// stops; a request released by clearing it is then handled normally.
    pub hang: bool,
}

/// The faults in force, shared by the handle and every connection; a watch channel
/// so that hung requests wake up when `hang` is cleared.
#[derive(Debug)]
pub(crate) struct FaultState {
    tx: watch::Sender<Faults>,
}

impl FaultState {
    pub(crate) fn new() -> Self {
        Self { tx: watch::Sender::new(Faults::default()) }
    }

    pub(crate) fn get(&self) -> Faults {
        self.tx.borrow().clone()
    }

    pub(crate) fn set(&self, faults: Faults) {
        self.tx.send_replace(faults);
    }

    /// Decides whether this request fails: consumes one of `fail_next` first, then
    /// draws against `fail_ratio`.
    pub(crate) fn take_failure(&self) -> bool {
        let mut consumed = false;
        self.tx.send_if_modified(|f| {
            if f.fail_next > 0 {
                f.fail_next -= 1;
                consumed = true;
            }
            consumed
        });
        if consumed {
            return true;
        }
        let ratio = self.tx.borrow().fail_ratio;
        ratio > 0.0 && rand::random::<f64>() < ratio
    }

    /// Resolves once `hang` is off (at once if it already is).
    pub(crate) async fn hang_cleared(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives as long as `self`, so this cannot fail while awaited.
        let _ = rx.wait_for(|f| !f.hang).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_next_is_consumed_one_by_one() {
        let s = FaultState::new();
        s.set(Faults { fail_next: 2, ..Faults::default() });
        assert!(s.take_failure());
        assert!(s.take_failure());
        assert!(!s.take_failure());
        assert_eq!(s.get().fail_next, 0);
    }

    #[test]
    fn ratio_one_always_fails_and_zero_never() {
        let s = FaultState::new();
        s.set(Faults { fail_ratio: 1.0, ..Faults::default() });
        assert!((0..50).all(|_| s.take_failure()));
        s.set(Faults::default());
        assert!((0..50).all(|_| !s.take_failure()));
    }

    #[test]
    fn json_form_uses_human_durations_and_refuses_unknown_fields() {
        let f: Faults = serde_json::from_str(r#"{"latency":"50ms","hang":true}"#).unwrap();
        assert_eq!(f, Faults { latency: Duration::from_millis(50), hang: true, ..Faults::default() });
        assert!(serde_json::from_str::<Faults>(r#"{"fail":1}"#).is_err());
        let back = serde_json::to_value(&f).unwrap();
        assert_eq!(back["latency"], "50ms");
    }

    #[tokio::test]
    async fn hang_cleared_wakes_when_hang_is_turned_off() {
        let s = std::sync::Arc::new(FaultState::new());
        s.set(Faults { hang: true, ..Faults::default() });
        let waiter = tokio::spawn({
            let s = s.clone();
            async move { s.hang_cleared().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        s.set(Faults::default());
        tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
    }
}
