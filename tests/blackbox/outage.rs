//! An agency that goes down: its circuit opens after a few failures, so it is
//! probed rather than hammered; the backlog is kept; when it comes back, one
//! probe closes the circuit and the backlog is delivered.

use std::time::{Duration, Instant};

use crate::status::metric;
use crate::support::*;

async fn attempts(api: &Api, outcome: &str) -> f64 {
    metric(api, "lienthong_delivery_attempts_total", &[("agency", "dvcqg"), ("outcome", outcome)]).await.unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_agency_is_probed_not_hammered_and_its_backlog_drains_when_it_recovers() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        delivery_extra: "status_sync_agency = \"\"".into(),
        extra: "[delivery.circuit]\nfailure_threshold = 3\nopen_for = \"1500ms\"\n".into(),
        ..Options::default()
    };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    sim.go_down().await;
    let codes: Vec<String> = (1..=6).map(|i| format!("000.00.31.H29-261122-{i:04}")).collect();
    for code in &codes {
        assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(code).to_string()).await.0, 202);
    }

    // Three failures in a row open the circuit.
    let state = |api: Api| async move { metric(&api, "lienthong_circuit_state", &[("agency", "dvcqg")]).await };
    let deadline = Instant::now() + Duration::from_secs(10);
    while state(api.clone()).await != Some(1.0) {
        assert!(Instant::now() < deadline, "the circuit did not open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // While it is open, nothing is sent: the failed attempts stop growing.
    let failed = attempts(&api, "retryable").await;
    assert!(failed >= 3.0, "{failed}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(attempts(&api, "retryable").await, failed, "an open circuit sends nothing");
    // Still down at the probe: one more failure, and open again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while attempts(&api, "retryable").await < failed + 1.0 {
        assert!(Instant::now() < deadline, "no probe was sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(attempts(&api, "retryable").await, failed + 1.0, "one probe, not a burst");
    assert_eq!(state(api.clone()).await, Some(1.0));

    // The agency comes back: the next probe closes the circuit and everything is
    // delivered, each dossier once.
    sim.come_up().await.unwrap();
    for code in &codes {
        api.wait_all_delivered(code, 1, Duration::from_secs(20)).await;
    }
    assert_eq!(state(api.clone()).await, Some(0.0));
    let mut at_sim: Vec<String> = sim.received().into_iter().map(|r| r.ma_ho_so).collect();
    at_sim.sort();
    assert_eq!(at_sim, codes);
    for s in ["open", "half_open", "closed"] {
        let n = metric(&api, "lienthong_circuit_transitions_total", &[("agency", "dvcqg"), ("state", s)]).await;
        assert!(n.unwrap_or(0.0) >= 1.0, "{s}: {n:?}");
    }
}
