//! The plumbing with a trivial agency, to show it owes nothing to any one agency.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use http::StatusCode;
use serde_json::{json, Value};

use super::*;

#[derive(Default)]
struct Echo {
    seen: AtomicU64,
}

#[async_trait]
impl SimHandler for Echo {
    async fn handle(&self, request: SimRequest) -> SimResponse {
        self.seen.fetch_add(1, Ordering::Relaxed);
        SimResponse::bytes(StatusCode::OK, "text/xml", request.body)
            .with_header(http::header::HeaderName::from_static("x-path"), request.path.parse().unwrap())
    }

    fn received_json(&self) -> Value {
        json!([self.seen.load(Ordering::Relaxed)])
    }

    fn stats_json(&self, server: &SimStats) -> Value {
        json!({"server": server, "seen": self.seen.load(Ordering::Relaxed)})
    }

    fn reset(&self) {
        self.seen.store(0, Ordering::Relaxed);
    }
}

#[tokio::test]
async fn any_handler_gets_faults_control_endpoints_and_restarts() {
    let echo = Arc::new(Echo::default());
    let server = SimServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), echo.clone()).await.unwrap();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    let http = reqwest::Client::new();
    let url = server.url();

    let r = http.post(format!("{url}/soap")).body("<a/>").send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/xml");
    assert_eq!(r.headers()["x-path"], "/soap");
    assert_eq!(r.text().await.unwrap(), "<a/>");

    server.set_faults(Faults { fail_next: 1, ..Faults::default() });
    assert_eq!(http.post(format!("{url}/soap")).send().await.unwrap().status(), 503);
    assert_eq!(http.post(format!("{url}/soap")).send().await.unwrap().status(), 200);

    let stats: Value = http.get(format!("{url}/_sim/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        stats,
        json!({"server": {"requests": 3, "injected_failures": 1, "hung": 0, "max_in_flight": 1}, "seen": 2})
    );
    assert_eq!(server.stats().requests, 3);

    server.go_down().await;
    assert!(!server.is_up().await);
    assert!(http.post(format!("{url}/soap")).send().await.is_err());
    server.come_up().await.unwrap();
    assert_eq!(http.post(format!("{url}/soap")).send().await.unwrap().status(), 200);

    let r = http.post(format!("{url}/_sim/reset")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(echo.seen.load(Ordering::Relaxed), 0);
    assert_eq!(server.stats(), SimStats::default());
    server.shutdown().await;
    assert!(!server.is_up().await);
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let server = SimServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), Arc::new(Echo::default())).await.unwrap();
    let url = server.url();
    drop(server);
    let mut refused = false;
    for _ in 0..100 {
        if reqwest::Client::new().get(format!("{url}/_sim/stats")).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused);
}
