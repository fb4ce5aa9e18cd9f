//! The adapter against the running simulator, over real sockets.

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::dvcqg::DvcqgConfig;
use adapters::sim::Faults;
use adapters::{Adapter, Outcome};
use schemas::{MaHoSo, StatusEvent};
use serde_json::Value;

use crate::support::*;

fn delivered(o: &Outcome) -> String {
    match o {
        Outcome::Delivered { agency_ref: Some(id) } => id.clone(),
        other => panic!("expected delivered with a reference, got {other:?}"),
    }
}

fn retryable(o: &Outcome) -> &str {
    match o {
        Outcome::Retryable { reason } => reason,
        other => panic!("expected retryable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_delivery_is_accepted_and_recorded_as_sent() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-full.json");
    let id = delivered(&adapter.deliver(&delivery(&d, "key-1", "corr-1")).await);

    let received = sim.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(
        (r.id.as_str(), r.idempotency_key.as_str(), r.correlation_id.as_str()),
        (id.as_str(), "key-1", "corr-1")
    );
    assert_eq!(r.ma_ho_so, "000.00.31.H29-261122-0001");
    assert!(!r.is_update);
    let golden: Value = serde_json::from_slice(&read("dossier-full.expected.json")).unwrap();
    assert_eq!(r.dossier, golden["data"][0], "the simulator holds exactly the golden dossier object");
    let stats = sim.stats();
    assert_eq!((stats.logins, stats.accepted, stats.requests), (1, 1, 2));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_repeat_under_the_same_key_is_recorded_once() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-minimal.json");
    let first = delivered(&adapter.deliver(&delivery(&d, "key-1", "corr-1")).await);
    let again = delivered(&adapter.deliver(&delivery(&d, "key-1", "corr-2")).await);
    assert_eq!(first, again, "the repeat gets the original answer");
    assert_eq!(sim.received().len(), 1);
    assert_eq!(sim.stats().replayed, 1);

    // The same dossier under another key is a second synchronisation: refused.
    match adapter.deliver(&delivery(&d, "key-2", "corr-3")).await {
        Outcome::Permanent { reason } => assert!(reason.contains("error_code 4"), "{reason}"),
        other => panic!("expected permanent, got {other:?}"),
    }
    assert_eq!(sim.received().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_expired_session_is_renewed_within_the_same_delivery() {
    let sim = simulator().await;
    sim.set_session_ttl(Duration::from_millis(300));
    let adapter = adapter(&sim.url());
    let (a, b, c) = (
        dossier_coded("000.00.31.H29-261122-0201"),
        dossier_coded("000.00.31.H29-261122-0202"),
        dossier_coded("000.00.31.H29-261122-0203"),
    );
    delivered(&adapter.deliver(&delivery(&a, "k-a", "c-a")).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    delivered(&adapter.deliver(&delivery(&b, "k-b", "c-b")).await);
    let stats = sim.stats();
    assert_eq!(stats.logins, 2);
    assert_eq!(stats.rejected.get("-1"), Some(&1));

    sim.set_session_ttl(Duration::from_secs(3600));
    sim.expire_sessions();
    delivered(&adapter.deliver(&delivery(&c, "k-c", "c-c")).await);
    assert_eq!(sim.stats().logins, 3);
    assert_eq!(sim.received().len(), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn concurrent_deliveries_share_one_login() {
    let sim = simulator().await;
    let adapter = Arc::new(adapter(&sim.url()));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let adapter = adapter.clone();
        tasks.push(tokio::spawn(async move {
            let d = dossier_coded(&format!("000.00.31.H29-261122-{:04}", 300 + i));
            let key = format!("k-{i}");
            adapter.deliver(&delivery(&d, &key, "corr")).await
        }));
    }
    for t in tasks {
        delivered(&t.await.unwrap());
    }
    assert_eq!(sim.stats().logins, 1);
    assert_eq!(sim.received().len(), 20);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_login_is_retryable_so_nothing_is_lost() {
    let sim = simulator().await;
    let wrong = DvcqgConfig { password: Some("wrong".into()), ..config(&sim.url()) };
    let adapter = adapter_with(wrong, Duration::from_secs(5));
    let d = dossier("dossier-minimal.json");
    let outcome = adapter.deliver(&delivery(&d, "k", "c")).await;
    let reason = retryable(&outcome);
    assert!(reason.contains("login refused"), "{reason}");
    assert!(!reason.contains("wrong"), "the reason never shows the password");
    assert_eq!(sim.stats().logins_refused, 1);
    assert!(sim.received().is_empty());

    let unset = DvcqgConfig {
        password: None,
        password_env: Some("LIENTHONG_TEST_UNSET_PASSWORD_VARIABLE".into()),
        ..config(&sim.url())
    };
    let outcome = adapter_with(unset, Duration::from_secs(5)).deliver(&delivery(&d, "k", "c")).await;
    assert!(retryable(&outcome).contains("LIENTHONG_TEST_UNSET_PASSWORD_VARIABLE"));
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_failures_are_retryable_then_the_delivery_succeeds() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-minimal.json");
    delivered(&adapter.deliver(&delivery(&dossier("dossier-full.json"), "warm", "c")).await);
    sim.set_faults(Faults { fail_next: 2, ..Faults::default() });
    for _ in 0..2 {
        let outcome = adapter.deliver(&delivery(&d, "k", "c")).await;
        assert!(retryable(&outcome).contains("503"), "{outcome:?}");
    }
    delivered(&adapter.deliver(&delivery(&d, "k", "c")).await);
    let stats = sim.stats();
    assert_eq!(stats.injected_failures, 2);
    assert_eq!(sim.received().len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_busy_agency_is_retryable() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-minimal.json");
    sim.set_busy_next(1);
    assert!(retryable(&adapter.deliver(&delivery(&d, "k", "c")).await).contains("busy"));
    delivered(&adapter.deliver(&delivery(&d, "k", "c")).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_hanging_agency_times_out_quickly_and_is_retryable() {
    let sim = simulator().await;
    let adapter = adapter_with(config(&sim.url()), Duration::from_millis(300));
    let d = dossier("dossier-minimal.json");
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let started = Instant::now();
    let outcome = adapter.deliver(&delivery(&d, "k", "c")).await;
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(retryable(&outcome).starts_with("timeout"), "{outcome:?}");
    assert!(sim.received().is_empty());

    sim.set_faults(Faults::default());
    delivered(&adapter.deliver(&delivery(&d, "k", "c")).await);
    assert_eq!(sim.received().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_agency_that_goes_down_is_retryable_and_comes_back_on_the_same_port() {
    let sim = simulator().await;
    let url = sim.url();
    let adapter = adapter(&url);
    delivered(&adapter.deliver(&delivery(&dossier("dossier-full.json"), "k1", "c")).await);

    sim.go_down().await;
    let d = dossier("dossier-minimal.json");
    let outcome = adapter.deliver(&delivery(&d, "k2", "c")).await;
    assert!(retryable(&outcome).starts_with("connect"), "{outcome:?}");

    sim.come_up().await.unwrap();
    assert_eq!(sim.url(), url);
    delivered(&adapter.deliver(&delivery(&d, "k2", "c")).await);
    assert_eq!(sim.received().len(), 2, "what was received before going down is kept");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_dossier_the_agency_finds_invalid_is_permanent() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let mut d = dossier("dossier-minimal.json");
    d.procedure_name = "  ".into();
    match adapter.deliver(&delivery(&d, "k", "c")).await {
        Outcome::Permanent { reason } => {
            assert!(reason.contains("error_code 3") && reason.contains("TenTTHC"), "{reason}")
        }
        other => panic!("expected permanent, got {other:?}"),
    }
    assert_eq!(sim.stats().rejected.get("3"), Some(&1));
    assert!(sim.received().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn lookup_and_progress_round_trip() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-full.json");
    let code = d.code.clone();
    let unknown = MaHoSo::parse("000.00.31.H29-261122-0999").unwrap();
    assert!(adapter.lookup_dossier(&unknown).await.unwrap().is_none());

    let events: Vec<StatusEvent> = serde_json::from_slice(&read("progress-events.json")).unwrap();
    assert!(retryable(&adapter.push_progress(&events).await).contains("error_code 5"), "unknown dossier");

    delivered(&adapter.deliver(&delivery(&d, "k", "c")).await);
    let (held, history) = adapter.lookup_dossier(&code).await.unwrap().unwrap();
    assert!(history.is_empty());
    assert_eq!(held["ChuHoSo"], "Phạm Thị Mẫu");

    assert_eq!(adapter.push_progress(&events).await, Outcome::Delivered { agency_ref: None });
    assert_eq!(adapter.push_progress(&events).await, Outcome::Delivered { agency_ref: None });
    assert_eq!(sim.progress().len(), 2, "a repeated push adds nothing");
    let (_, history) = adapter.lookup_dossier(&code).await.unwrap().unwrap();
    let expected: Vec<StatusEvent> = events.into_iter().map(|e| StatusEvent { new_due_at: None, ..e }).collect();
    assert_eq!(history, expected);
    assert_eq!(adapter.push_progress(&[]).await, Outcome::Delivered { agency_ref: None });
    sim.shutdown().await;
}
