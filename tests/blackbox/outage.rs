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
    // Attempts claimed before it opened still finish; once they have, nothing is
    // sent while it is open: the failed attempts stop growing.
    let in_flight = |api: Api| async move { metric(&api, "lienthong_deliveries_in_flight", &[("agency", "dvcqg")]).await };
    let failed = loop {
        let before = attempts(&api, "retryable").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        if in_flight(api.clone()).await == Some(0.0) && attempts(&api, "retryable").await == before {
            break before;
        }
        assert!(Instant::now() < deadline, "the attempts in flight did not finish");
    };
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

/// The notices of `token`'s feed, in order.
async fn notices(api: &Api, token: &str) -> Vec<serde_json::Value> {
    let (events, _) = api.drain_feed(token, None, 100).await;
    events.into_iter().filter_map(|e| e.get("notice").cloned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_under_load_loses_nothing_shows_in_the_portals_feed_and_drains_at_the_agencys_pace() {
    const PER_SECOND: f64 = 20.0;
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        delivery_extra: "status_sync_agency = \"\"".into(),
        extra: format!(
            "[delivery.circuit]\nfailure_threshold = 3\nopen_for = \"500ms\"\n\n\
             [delivery.agencies.dvcqg]\nrate = {{ per_second = {PER_SECOND}, burst = 1 }}\n"
        ),
        ..Options::default()
    };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    let code = |i: usize| format!("000.00.31.H29-261127-{i:04}");
    let (status, _) = api.submit(PORTAL_TOKEN, "application/json", json_dossier(&code(0)).to_string()).await;
    assert_eq!(status, 202);
    api.wait_all_delivered(&code(0), 1, Duration::from_secs(10)).await;

    // The agency goes down while the portal keeps submitting: every dossier is
    // accepted and kept.
    sim.go_down().await;
    let mut codes = Vec::new();
    let load_until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < load_until {
        let c = code(codes.len() + 1);
        let (status, body) = api.submit(PORTAL_TOKEN, "application/json", json_dossier(&c).to_string()).await;
        assert_eq!(status, 202, "{body}");
        codes.push(c);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metric(&api, "lienthong_circuit_state", &[("agency", "dvcqg")]).await, Some(1.0), "the circuit is open");
    let told = notices(&api, PORTAL_TOKEN).await;
    assert_eq!(told.len(), 1, "one notice for the outage, not one per attempt: {told:?}");
    assert_eq!((told[0]["kind"].as_str(), told[0]["agency"].as_str()), (Some("agency_unreachable"), Some("dvcqg")));
    assert!(told[0]["waiting"].as_u64().unwrap() >= 1, "{}", told[0]);
    assert!(notices(&api, PORTAL_B_TOKEN).await.is_empty(), "a portal with nothing waiting is not told");
    let (status, d) = api.dossier(PORTAL_TOKEN, codes.last().unwrap()).await;
    assert_eq!((status, d["deliveries"][0]["state"].as_str()), (200, Some("queued")), "{d}");

    // Back up: the circuit closes, the portal is told, and the backlog drains at
    // the configured pace, each dossier once.
    sim.come_up().await.unwrap();
    let up = chrono::Utc::now();
    for c in &codes {
        api.wait_all_delivered(c, 1, Duration::from_secs(30)).await;
    }
    assert_eq!(metric(&api, "lienthong_circuit_state", &[("agency", "dvcqg")]).await, Some(0.0));
    let told = notices(&api, PORTAL_TOKEN).await;
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(told[1]["kind"], "agency_recovered", "{}", told[1]);
    assert!(told[1]["down_for_seconds"].as_f64().unwrap() > 0.0, "{}", told[1]);
    assert!(told[1]["waiting"].as_u64().unwrap() >= 1, "the backlog the portal waits for: {}", told[1]);

    let mut at_sim: Vec<String> = sim.received().into_iter().map(|r| r.ma_ho_so).collect();
    at_sim.sort();
    let mut want = codes.clone();
    want.push(code(0));
    want.sort();
    assert_eq!(at_sim, want, "every dossier once");
    let mut arrivals: Vec<chrono::DateTime<chrono::Utc>> =
        sim.received().into_iter().map(|r| r.received_at.to_utc()).filter(|t| *t >= up).collect();
    arrivals.sort();
    let n = arrivals.len();
    assert!(n >= 20, "a real backlog drained: {n}");
    let span = (arrivals[n - 1] - arrivals[0]).to_std().unwrap().as_secs_f64();
    println!("backlog of {n} drained in {span:.2} s: {:.1}/s against a pace of {PER_SECOND}/s", (n - 1) as f64 / span);
    // Never faster than the pace (one at once, then one per 1/rate), with 10 %
    // for the agency's clock: a slower machine only lengthens the span.
    assert!(span >= (n - 2) as f64 / PER_SECOND * 0.9, "{n} deliveries in {span:.2} s exceed {PER_SECOND}/s");
}
