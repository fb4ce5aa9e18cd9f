//! Every kind of failure against the running simulator is classified right, and
//! reasons never carry personal data or secrets.

use std::time::{Duration, Instant};

use adapters::moj::MojConfig;
use adapters::sim::Faults;
use adapters::Adapter;

use crate::support::*;

/// Nothing personal from the golden dossiers, and no secret, appears in a reason.
fn assert_clean(reason: &str) {
    for leak in ["Nguyễn", "Trần", "Lê Hoàng", "001190012345", "079095006789", "example.vn", PASSWORD, AUTH_KEY] {
        assert!(!reason.contains(leak), "{reason}");
    }
}

#[tokio::test]
async fn a_refused_login_is_retryable_so_nothing_is_lost() {
    let sim = simulator().await;
    let wrong = MojConfig { password: Some("wrong-password".into()), ..config(&sim.url()) };
    let outcome = adapter_with(wrong, Duration::from_secs(5)).deliver(&delivery(&dossier(BIRTH), "k", "c")).await;
    let reason = retryable(&outcome);
    assert!(reason.starts_with("login refused"), "{reason}");
    assert!(!reason.contains("wrong-password"));
    assert_eq!(sim.stats().logins_refused, 1);

    let var = "LIENTHONG_TEST_UNSET_MOJ_PASSWORD_VARIABLE";
    let unset = MojConfig { password: None, password_env: Some(var.into()), ..config(&sim.url()) };
    let outcome = adapter_with(unset, Duration::from_secs(5)).deliver(&delivery(&dossier(BIRTH), "k", "c")).await;
    assert!(retryable(&outcome).contains(var));
    assert!(sim.received().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_auth_key_is_retryable_and_not_remembered() {
    let sim = simulator().await;
    let wrong = MojConfig { auth_key: Some("not-the-key".into()), ..config(&sim.url()) };
    let d = dossier(JUDICIAL);
    let outcome = adapter_with(wrong, Duration::from_secs(5)).deliver(&delivery(&d, "k", "c")).await;
    let reason = retryable(&outcome);
    assert!(reason.starts_with("auth key refused by moj") && reason.contains("LLTP-02"), "{reason}");
    assert!(!reason.contains("not-the-key"));
    // Once the operator fixes the key, the same delivery goes through.
    delivered(&adapter(&sim.url()).deliver(&delivery(&d, "k", "c")).await);
    assert_eq!(sim.received().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn records_the_ministry_finds_invalid_are_permanent_and_name_the_field() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let mut birth = dossier(BIRTH);
    if let Some(schemas::Payload::CivilStatus(schemas::CivilStatus::Birth(b))) = &mut birth.payload {
        b.nationality = " ".into();
    }
    let reason = permanent(&adapter.deliver(&delivery(&birth, "k1", "c")).await).to_owned();
    assert_eq!(reason, "civil-status record refused (HT-01) at data.quocTich");

    let mut judicial = dossier(JUDICIAL);
    if let Some(schemas::Payload::JudicialRecord(r)) = &mut judicial.payload {
        r.residence_history.clear();
    }
    let reason = permanent(&adapter.deliver(&delivery(&judicial, "k2", "c")).await).to_owned();
    assert_eq!(reason, "judicial-record request refused (LLTP-01) at toKhai.quaTrinhCuTru");
    let stats = sim.stats();
    assert_eq!((stats.rejected.get("HT-01"), stats.rejected.get("LLTP-01")), (Some(&1), Some(&1)));
    assert!(sim.received().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn dossiers_the_format_cannot_carry_fail_permanently_before_any_call() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let mut none = dossier(BIRTH);
    none.payload = None;
    let reason = permanent(&adapter.deliver(&delivery(&none, "k", "c")).await).to_owned();
    assert!(reason.contains("no payload"), "{reason}");
    let mut url_only = dossier(DEATH);
    url_only.files[0].content_base64 = None;
    let reason = permanent(&adapter.deliver(&delivery(&url_only, "k", "c")).await).to_owned();
    assert!(reason.contains("attachment 1 has no inline content"), "{reason}");
    assert_clean(&reason);
    assert_eq!(sim.stats().requests, 0, "nothing was sent, not even a login");
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_failures_and_a_failing_share_are_retryable() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    delivered(&adapter.deliver(&delivery(&dossier(DEATH), "warm", "c")).await);
    let d = dossier(BIRTH);
    sim.set_faults(Faults { fail_next: 2, ..Faults::default() });
    for _ in 0..2 {
        let outcome = adapter.deliver(&delivery(&d, "k", "c")).await;
        assert_eq!(retryable(&outcome), "moj answered http 503");
    }
    sim.set_faults(Faults { fail_ratio: 1.0, ..Faults::default() });
    for _ in 0..3 {
        assert!(retryable(&adapter.deliver(&delivery(&d, "k", "c")).await).contains("503"));
    }
    sim.set_faults(Faults::default());
    delivered(&adapter.deliver(&delivery(&d, "k", "c")).await);
    assert_eq!(sim.stats().injected_failures, 5);
    assert_eq!(sim.received().len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_busy_ministry_is_retryable() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    sim.set_busy_next(2);
    let d = dossier(JUDICIAL);
    assert_eq!(retryable(&adapter.deliver(&delivery(&d, "k", "c")).await), "moj busy (SYS-99)");
    assert_eq!(retryable(&adapter.deliver(&delivery(&dossier(BIRTH), "k2", "c")).await), "moj busy (SYS-99)");
    delivered(&adapter.deliver(&delivery(&d, "k", "c")).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_hanging_ministry_times_out_quickly_and_is_retryable() {
    let sim = simulator().await;
    let adapter = adapter_with(config(&sim.url()), Duration::from_millis(300));
    let d = dossier(BIRTH);
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let started = Instant::now();
    let outcome = adapter.deliver(&delivery(&d, "k", "c")).await;
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(retryable(&outcome).starts_with("timeout error on auth/token"), "{outcome:?}");

    sim.set_faults(Faults::default());
    delivered(&adapter.deliver(&delivery(&d, "k", "c")).await);
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let outcome = adapter.deliver(&delivery(&dossier(JUDICIAL), "k2", "c")).await;
    assert!(retryable(&outcome).starts_with("timeout error on lltp/tiepnhan"), "{outcome:?}");
    assert_eq!(sim.received().len(), 1, "the held push was not processed");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_ministry_that_goes_down_is_retryable_and_comes_back_on_the_same_port() {
    let sim = simulator().await;
    let url = sim.url();
    let adapter = adapter(&url);
    delivered(&adapter.deliver(&delivery(&dossier(DEATH), "k1", "c")).await);
    sim.go_down().await;
    let d = dossier(BIRTH);
    let outcome = adapter.deliver(&delivery(&d, "k2", "c")).await;
    assert!(retryable(&outcome).starts_with("connect error on hotich/tiepnhan"), "{outcome:?}");
    sim.come_up().await.unwrap();
    assert_eq!(sim.url(), url);
    delivered(&adapter.deliver(&delivery(&d, "k2", "c")).await);
    assert_eq!(sim.received().len(), 2, "what was received before going down is kept");
    sim.shutdown().await;
}
