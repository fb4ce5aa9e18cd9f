//! The adapter against the running simulator, over real sockets.

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters::moit::MoitConfig;
use adapters::sim::Faults;
use adapters::{Adapter, Outcome};
use schemas::{Payload, VnDateTime};
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

fn permanent(o: &Outcome) -> &str {
    match o {
        Outcome::Permanent { reason } => reason,
        other => panic!("expected permanent, got {other:?}"),
    }
}

#[tokio::test]
async fn a_delivery_is_accepted_and_recorded_as_sent() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-alcohol.json");
    let id = delivered(&adapter.deliver(&delivery(&d, "key-1", "corr-1")).await);

    let received = sim.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(
        (r.id.as_str(), r.idempotency_key.as_str(), r.correlation_id.as_str()),
        (id.as_str(), "key-1", "corr-1")
    );
    assert_eq!(r.ma_ho_so, "000.20.35.H56-260414-0137");
    let golden: Value = serde_json::from_slice(&read("dossier-alcohol.expected.json")).unwrap();
    assert_eq!(r.body, golden, "the simulator holds exactly the golden body");
    let stats = sim.stats();
    assert_eq!((stats.tokens_issued, stats.accepted, stats.requests), (1, 1, 2));
    sim.shutdown().await;
}

#[tokio::test]
async fn twenty_concurrent_deliveries_share_one_token() {
    let sim = simulator().await;
    let adapter = Arc::new(adapter(&sim.url()));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let adapter = adapter.clone();
        tasks.push(tokio::spawn(async move {
            let d = dossier_coded(&format!("000.20.35.H56-260414-{:04}", 300 + i));
            adapter.deliver(&delivery(&d, &format!("k-{i}"), "corr")).await
        }));
    }
    for t in tasks {
        delivered(&t.await.unwrap());
    }
    let stats = sim.stats();
    assert_eq!((stats.tokens_issued, stats.accepted, stats.requests), (1, 20, 21));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_gets_a_401_then_a_new_token_and_the_delivery_succeeds() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    delivered(&adapter.deliver(&delivery(&dossier_coded("000.20.35.H56-260414-0201"), "k-a", "c")).await);

    // MOIT revokes every token behind the client's back.
    sim.expire_tokens();
    delivered(&adapter.deliver(&delivery(&dossier_coded("000.20.35.H56-260414-0202"), "k-b", "c")).await);
    let stats = sim.stats();
    assert_eq!((stats.tokens_issued, stats.unauthorized_expired), (2, 1));

    // A token that lapses sooner than its whole-second expires_in says.
    sim.set_token_ttl(Duration::from_millis(300));
    sim.expire_tokens();
    delivered(&adapter.deliver(&delivery(&dossier_coded("000.20.35.H56-260414-0203"), "k-c", "c")).await);
    tokio::time::sleep(Duration::from_millis(450)).await;
    // The client still trusts its token (expires_in said 1 s); MOIT does not.
    sim.set_token_ttl(Duration::from_secs(3600));
    delivered(&adapter.deliver(&delivery(&dossier_coded("000.20.35.H56-260414-0204"), "k-d", "c")).await);
    let stats = sim.stats();
    assert_eq!((stats.tokens_issued, stats.unauthorized_expired), (4, 3));
    assert_eq!((stats.accepted, stats.replayed), (4, 0), "each dossier was processed once");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_it_is_used() {
    let sim = simulator().await;
    sim.set_token_ttl(Duration::from_secs(1));
    let adapter = adapter(&sim.url());
    delivered(&adapter.deliver(&delivery(&dossier_coded("000.20.35.H56-260414-0211"), "k-a", "c")).await);
    tokio::time::sleep(Duration::from_millis(950)).await;
    delivered(&adapter.deliver(&delivery(&dossier_coded("000.20.35.H56-260414-0212"), "k-b", "c")).await);
    let stats = sim.stats();
    assert_eq!((stats.tokens_issued, stats.unauthorized_expired), (2, 0), "renewed ahead, never refused");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_token_refused_twice_is_retryable() {
    let sim = simulator().await;
    sim.set_token_ttl(Duration::ZERO);
    let adapter = adapter(&sim.url());
    let outcome = adapter.deliver(&delivery(&dossier("dossier-alcohol.json"), "k", "c")).await;
    assert!(retryable(&outcome).contains("http 401 (MOIT-AUTH-001"), "{outcome:?}");
    let stats = sim.stats();
    assert_eq!((stats.tokens_issued, stats.unauthorized_expired, stats.accepted), (2, 2, 0));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_repeat_under_the_same_key_is_recorded_once() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-promotion.json");
    let first = delivered(&adapter.deliver(&delivery(&d, "key-1", "corr-1")).await);
    let again = delivered(&adapter.deliver(&delivery(&d, "key-1", "corr-2")).await);
    assert_eq!(first, again, "the repeat gets the original answer");
    assert_eq!(sim.received().len(), 1);
    assert_eq!(sim.stats().replayed, 1);

    // The same dossier under another key is a second application: refused.
    let outcome = adapter.deliver(&delivery(&d, "key-2", "corr-3")).await;
    assert!(permanent(&outcome).contains("MOIT-DUP-001"), "{outcome:?}");
    assert_eq!(sim.received().len(), 1);
    sim.shutdown().await;
}

fn with_licence(mut d: schemas::Dossier, change: impl FnOnce(&mut schemas::TradeLicence)) -> schemas::Dossier {
    if let Some(Payload::TradeLicence(t)) = &mut d.payload {
        change(t);
    }
    d
}

#[tokio::test]
async fn each_refusal_is_classified_by_its_code() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let base = || dossier_coded("000.20.35.H56-260414-0400");
    let date = |s: &str| VnDateTime::parse(s).unwrap();
    let bad_tax = with_licence(base(), |t| t.tax_code = "42018-76543".into());
    let no_end = with_licence(dossier("dossier-promotion.json"), |t| t.valid_to = None);
    let reversed =
        with_licence(dossier("dossier-promotion.json"), |t| t.valid_to = Some(date("2026-06-01T00:00:00+07:00")));
    let mut early_due = base();
    early_due.due_at = date("2026-04-01T17:00:00+07:00");
    let mut blank_name = base();
    blank_name.procedure_name = "  ".into();
    let cases = [
        (bad_tax, "MOIT-VAL-001", "field giayPhep.maSoThue"),
        (no_end, "MOIT-VAL-001", "field giayPhep.thoiGianKetThuc"),
        (reversed, "MOIT-BUS-002", "field giayPhep.thoiGianKetThuc"),
        (early_due, "MOIT-BUS-001", "field ngayHenTra"),
        (blank_name, "MOIT-VAL-001", "field tenTTHC"),
    ];
    for (i, (d, code, field)) in cases.iter().enumerate() {
        let outcome = adapter.deliver(&delivery(d, &format!("k-{i}"), "c")).await;
        let reason = permanent(&outcome);
        assert!(reason.contains(code) && reason.contains(field), "{reason}");
        assert!(!reason.contains("42018") && !reason.contains("Siêu thị"), "no values in reasons: {reason}");
    }
    assert!(sim.received().is_empty());

    sim.set_busy_next(1);
    let d = base();
    assert!(retryable(&adapter.deliver(&delivery(&d, "k-busy", "c")).await).contains("MOIT-SYS-503"));
    delivered(&adapter.deliver(&delivery(&d, "k-busy", "c")).await);

    let read_only = MoitConfig { scope: "hoso.read giayphep.read".into(), ..config(&sim.url()) };
    let outcome = adapter_with(read_only, Duration::from_secs(5)).deliver(&delivery(&d, "k-scope", "c")).await;
    assert!(retryable(&outcome).contains("check the configured scope"), "{outcome:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_client_is_retryable_so_nothing_is_lost() {
    let sim = simulator().await;
    let d = dossier("dossier-alcohol.json");
    let wrong = MoitConfig { client_secret: Some("wrong-secret-value".into()), ..config(&sim.url()) };
    let outcome = adapter_with(wrong, Duration::from_secs(5)).deliver(&delivery(&d, "k", "c")).await;
    let reason = retryable(&outcome);
    assert!(reason.starts_with("login refused by moit (invalid_client)"), "{reason}");
    assert!(!reason.contains("wrong-secret-value"), "the reason never shows the secret");
    let bad_scope = MoitConfig { scope: "hoso.submit admin".into(), ..config(&sim.url()) };
    let outcome = adapter_with(bad_scope, Duration::from_secs(5)).deliver(&delivery(&d, "k", "c")).await;
    assert!(retryable(&outcome).starts_with("login refused by moit (invalid_scope)"), "{outcome:?}");
    let stats = sim.stats();
    assert_eq!((stats.tokens_refused, stats.tokens_issued), (2, 0));
    assert!(sim.received().is_empty());

    let unset = MoitConfig {
        client_secret: None,
        client_secret_env: Some("LIENTHONG_TEST_UNSET_MOIT_SECRET_VARIABLE".into()),
        ..config(&sim.url())
    };
    let outcome = adapter_with(unset, Duration::from_secs(5)).deliver(&delivery(&d, "k", "c")).await;
    assert!(retryable(&outcome).contains("LIENTHONG_TEST_UNSET_MOIT_SECRET_VARIABLE"), "{outcome:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_failures_are_retryable_and_every_dossier_lands_once() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    delivered(&adapter.deliver(&delivery(&dossier_coded("000.20.35.H56-260414-0500"), "warm", "c")).await);
    sim.set_faults(Faults { fail_ratio: 1.0, ..Faults::default() });
    let d = dossier_coded("000.20.35.H56-260414-0501");
    assert!(retryable(&adapter.deliver(&delivery(&d, "k", "c")).await).contains("http 503"));

    sim.set_faults(Faults { fail_ratio: 0.5, ..Faults::default() });
    let mut retried = 0;
    for i in 0..10 {
        let d = dossier_coded(&format!("000.20.35.H56-260414-{:04}", 510 + i));
        let key = format!("k-{i}");
        let mut attempts = 0;
        loop {
            attempts += 1;
            assert!(attempts < 60, "never delivered");
            match adapter.deliver(&delivery(&d, &key, "c")).await {
                Outcome::Delivered { .. } => break,
                Outcome::Retryable { .. } => retried += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    let stats = sim.stats();
    assert_eq!(stats.injected_failures, retried + 1, "each injected 503 was one retryable outcome");
    assert_eq!(sim.received().len(), 11, "every dossier exactly once");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_hanging_agency_times_out_quickly_and_is_retryable() {
    let sim = simulator().await;
    let adapter = adapter_with(config(&sim.url()), Duration::from_millis(300));
    let d = dossier("dossier-alcohol.json");
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let started = Instant::now();
    let outcome = adapter.deliver(&delivery(&d, "k", "c")).await;
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(retryable(&outcome).starts_with("timeout error on token"), "{outcome:?}");

    sim.set_faults(Faults::default());
    delivered(&adapter.deliver(&delivery(&dossier_coded("000.20.35.H56-260414-0600"), "k0", "c")).await);
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let outcome = adapter.deliver(&delivery(&d, "k", "c")).await;
    assert!(retryable(&outcome).starts_with("timeout error on submit"), "{outcome:?}");
    sim.set_faults(Faults::default());
    delivered(&adapter.deliver(&delivery(&d, "k", "c")).await);
    assert_eq!(sim.received().len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_agency_that_goes_down_is_retryable_and_comes_back_on_the_same_port() {
    let sim = simulator().await;
    let url = sim.url();
    let adapter = adapter(&url);
    delivered(&adapter.deliver(&delivery(&dossier("dossier-alcohol.json"), "k1", "c")).await);

    sim.go_down().await;
    let d = dossier("dossier-promotion.json");
    let outcome = adapter.deliver(&delivery(&d, "k2", "c")).await;
    assert!(retryable(&outcome).starts_with("connect error on submit"), "{outcome:?}");

    sim.come_up().await.unwrap();
    assert_eq!(sim.url(), url);
    delivered(&adapter.deliver(&delivery(&d, "k2", "c")).await);
    assert_eq!(sim.received().len(), 2, "what was received before going down is kept");
    sim.shutdown().await;
}
