//! The adapter delivering to the running simulator, over real sockets.

use std::time::{Duration, Instant};

use adapters::mpi::wire::message_id;
use adapters::mpi::MpiConfig;
use adapters::sim::Faults;
use adapters::{Adapter, Outcome};
use schemas::Payload;

use crate::support::*;

fn delivered(o: &Outcome) -> String {
    match o {
        Outcome::Delivered { agency_ref: Some(id) } => id.clone(),
        other => panic!("expected delivered with a receipt, got {other:?}"),
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
async fn a_delivery_is_accepted_and_recorded_in_mpi_format() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-full.json");
    let receipt = delivered(&adapter.deliver(&delivery(&d, "key-1", "corr-1")).await);
    assert!(receipt.starts_with("DKKD-"), "{receipt}");

    let received = sim.received();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(
        (r.receipt.as_str(), r.idempotency_key.as_str(), r.correlation_id.as_str(), r.ma_ho_so.as_str()),
        (receipt.as_str(), "key-1", "corr-1", "G09.20-20260609-0092637")
    );
    assert_eq!(r.message_id, message_id("key-1"));
    assert_eq!(r.request["DangKyDoanhNghiep"]["TenDoanhNghiep"], "CÔNG TY TNHH NÔNG SẢN SẠCH TÂY NGUYÊN");
    check_golden("dossier-full.received.expected.json", &pretty(&r.request));
    let stats = sim.stats();
    assert_eq!((stats.accepted, stats.requests), (1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_repeat_under_the_same_key_is_recorded_once() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-minimal.json");
    let first = delivered(&adapter.deliver(&delivery(&d, "key-1", "corr-1")).await);
    let again = delivered(&adapter.deliver(&delivery(&d, "key-1", "corr-2")).await);
    assert_eq!(first, again, "the repeat gets the original receipt");
    assert_eq!(sim.received().len(), 1);
    assert_eq!(sim.stats().replayed, 1);

    // The same dossier under another key is a second submission: refused.
    let reason = permanent(&adapter.deliver(&delivery(&d, "key-2", "corr-3")).await).to_owned();
    assert!(reason.contains("MPI-201") && reason.contains("another idempotency key"), "{reason}");
    assert_eq!(sim.received().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn each_fault_is_classified_as_retryable_or_permanent() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let cases = [
        ("MPI-001", "retryable"),
        ("MPI-002", "retryable"),
        ("MPI-500", "retryable"),
        ("MPI-503", "retryable"),
        ("MPI-100", "permanent"),
        ("MPI-101", "permanent"),
        ("MPI-102", "permanent"),
        ("MPI-103", "permanent"),
        ("MPI-104", "permanent"),
        ("MPI-201", "permanent"),
    ];
    for (i, (code, label)) in cases.iter().enumerate() {
        let d = dossier_coded(&format!("000.00.31.H29-260609-{:04}", 10 + i));
        let key = format!("k-{i}");
        sim.set_reject_next(code);
        let outcome = adapter.deliver(&delivery(&d, &key, "c")).await;
        assert_eq!(outcome.label(), *label, "{code}: {outcome:?}");
        let again = adapter.deliver(&delivery(&d, &key, "c")).await;
        if *label == "retryable" {
            // MPI's own failures are not remembered: the retry goes through.
            delivered(&again);
        } else {
            assert_eq!(again, outcome, "{code}: a refusal is remembered under the key");
        }
    }
    sim.set_reject_next("MPI-001");
    let outcome = adapter.deliver(&delivery(&dossier_coded("000.00.31.H29-260609-0099"), "k-x", "c")).await;
    let reason = retryable(&outcome);
    assert!(reason.starts_with("login refused by mpi (MPI-001)"), "{reason}");
    assert_eq!(sim.received().len(), 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn mpi_business_rules_refuse_permanently() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let with = |code: &str, change: fn(&mut schemas::BusinessRegistration)| {
        let mut d = dossier_coded(code);
        if let Some(Payload::BusinessRegistration(r)) = &mut d.payload {
            change(r);
        }
        d
    };
    let taken = with("000.00.31.H29-260609-0201", |r| r.enterprise_name = "Công ty TNHH Thương mại Hồng Hà".into());
    let vsic = with("000.00.31.H29-260609-0202", |r| r.business_lines[0].vsic_code = "9999".into());
    let two_main = with("000.00.31.H29-260609-0203", |r| {
        let mut second = r.business_lines[0].clone();
        second.vsic_code = "5630".into();
        r.business_lines.push(second);
    });
    let mut blank = dossier_coded("000.00.31.H29-260609-0204");
    blank.procedure_name = "  ".into();
    for (d, expect) in [
        (&taken, "MPI-102 at NopHoSoDangKyDoanhNghiep/DangKyDoanhNghiep/TenDoanhNghiep"),
        (&vsic, "MPI-103 at NopHoSoDangKyDoanhNghiep/DangKyDoanhNghiep/NganhNghe/Nganh[1]/MaNganh"),
        (&two_main, "MPI-104"),
        (&blank, "MPI-101 at NopHoSoDangKyDoanhNghiep/HoSo/TenTTHC"),
    ] {
        let reason = permanent(&adapter.deliver(&delivery(d, d.code.as_str(), "c")).await).to_owned();
        assert!(reason.contains(expect), "{reason}");
        assert!(!reason.contains("Hồng Hà") && !reason.contains("9999"), "reasons never repeat values: {reason}");
    }
    assert!(sim.received().is_empty());

    let mut none = dossier_coded("000.00.31.H29-260609-0205");
    none.payload = None;
    let reason = permanent(&adapter.deliver(&delivery(&none, "k", "c")).await).to_owned();
    assert!(reason.contains("no business_registration payload"), "{reason}");
    assert_eq!(sim.stats().requests, 4, "a dossier without the payload is never sent");
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_are_retryable_so_nothing_is_lost() {
    let sim = simulator().await;
    let wrong = MpiConfig { password: Some("wrong-password".into()), ..config(&sim.url()) };
    let d = dossier("dossier-minimal.json");
    let outcome = adapter_with(wrong, Duration::from_secs(5)).deliver(&delivery(&d, "k", "c")).await;
    let reason = retryable(&outcome);
    assert!(reason.starts_with("login refused by mpi"), "{reason}");
    assert!(!reason.contains("wrong-password"), "the reason never shows the password");
    assert_eq!(sim.stats().rejected.get("MPI-001"), Some(&1));
    assert!(sim.received().is_empty());

    let unset = MpiConfig {
        password: None,
        password_env: Some("LIENTHONG_TEST_UNSET_MPI_PASSWORD".into()),
        ..config(&sim.url())
    };
    let outcome = adapter_with(unset, Duration::from_secs(5)).deliver(&delivery(&d, "k", "c")).await;
    assert!(retryable(&outcome).contains("LIENTHONG_TEST_UNSET_MPI_PASSWORD"), "{outcome:?}");
    delivered(&adapter(&sim.url()).deliver(&delivery(&d, "k", "c")).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn injected_http_failures_are_retryable_then_the_delivery_succeeds() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-minimal.json");
    sim.set_faults(Faults { fail_ratio: 1.0, ..Faults::default() });
    for _ in 0..3 {
        assert_eq!(retryable(&adapter.deliver(&delivery(&d, "k", "c")).await), "mpi answered http 503");
    }
    sim.set_faults(Faults { fail_next: 2, ..Faults::default() });
    for _ in 0..2 {
        assert!(retryable(&adapter.deliver(&delivery(&d, "k", "c")).await).contains("503"));
    }
    delivered(&adapter.deliver(&delivery(&d, "k", "c")).await);
    assert_eq!(sim.stats().injected_failures, 5);
    assert_eq!(sim.received().len(), 1);
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
    assert!(retryable(&outcome).starts_with("timeout error on NopHoSoDangKyDoanhNghiep"), "{outcome:?}");
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
    assert!(retryable(&outcome).starts_with("connect error"), "{outcome:?}");

    sim.come_up().await.unwrap();
    assert_eq!(sim.url(), url);
    delivered(&adapter.deliver(&delivery(&d, "k2", "c")).await);
    assert_eq!(sim.received().len(), 2, "what was received before going down is kept");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_catalogue_example_of_a_business_registration_is_delivered() {
    let sim = simulator().await;
    let path = agency_dir().join("../../examples/dang-ky-doanh-nghiep.xml");
    let d = schemas::dossier_from_xml(&std::fs::read(&path).unwrap()).unwrap();
    delivered(&adapter(&sim.url()).deliver(&delivery(&d, "k", "c")).await);
    assert_eq!(sim.received()[0].ma_ho_so, d.code.as_str());
    sim.shutdown().await;
}
