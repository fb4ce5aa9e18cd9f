//! Delivery: retries after agency failures, and a queue that survives restarts.

use std::time::Duration;

use adapters::sim::Faults;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_is_retried_until_the_agency_accepts_it() {
    let sim = simulator().await;
    sim.set_faults(Faults { fail_next: 2, ..Faults::default() });
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &Options::default())).await;
    let api = Api::new(&gw.url);
    let code = "000.00.31.H29-261122-0400";
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(code).to_string()).await.0, 202);

    let view = api.wait_delivery(code, "delivered", Duration::from_secs(15)).await;
    assert_eq!(view["deliveries"][0]["attempts"], 3, "two failures, then success: {view}");
    assert!(view["deliveries"][0]["last_error"].as_str().is_some_and(|e| e.contains("503")), "{view}");
    assert_eq!(sim.received().len(), 1, "delivered once");
    assert_eq!(sim.stats().injected_failures, 2);

    let metrics = api.http.get(format!("{}/metrics", gw.url)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("lienthong_delivery_attempts_total{agency=\"dvcqg\",outcome=\"retryable\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("lienthong_delivery_attempts_total{agency=\"dvcqg\",outcome=\"delivered\"} 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_dossiers_are_delivered_after_a_restart() {
    let sim = simulator().await;
    sim.go_down().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url(), &Options::default());
    let mut gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    let codes: Vec<String> = (1..=5).map(|i| format!("000.00.31.H29-261122-05{i:02}")).collect();
    for code in &codes {
        assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(code).to_string()).await.0, 202);
    }
    // The agency is down: every delivery is waiting to be retried.
    for code in &codes {
        api.wait_delivery(code, "retrying", Duration::from_secs(10)).await;
    }
    gw.terminate();

    sim.come_up().await.expect("simulator back on its port");
    let gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    for code in &codes {
        api.wait_delivery(code, "delivered", Duration::from_secs(15)).await;
    }
    let mut at_sim: Vec<String> = sim.received().into_iter().map(|r| r.ma_ho_so).collect();
    at_sim.sort();
    assert_eq!(at_sim, codes, "each dossier delivered exactly once");
}
