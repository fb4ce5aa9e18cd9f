//! Look-ups through the adapter against the running simulator.

use std::time::{Duration, Instant};

use adapters::mpi::{HistoryStep, MpiConfig};
use adapters::sim::Faults;
use adapters::{Adapter, LookupError, LookupRequest, Outcome};
use schemas::{TrangThaiHoSo, VnDateTime};
use serde_json::{json, Value};

use crate::support::*;

async fn ask(adapter: &impl Adapter, name: &str, params: &[(&str, &str)]) -> Result<Value, LookupError> {
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    adapter
        .lookup(&LookupRequest { name, params: &params, correlation_id: "corr-l" })
        .await
        .map(|answer| serde_json::from_str(answer.get()).expect("a look-up answers JSON"))
}

#[tokio::test]
async fn enterprise_lookups_round_trip() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let names: Vec<&str> = adapter.lookups().iter().map(|l| l.name).collect();
    assert_eq!(names, ["enterprise", "dossier"]);
    assert_eq!(adapter.lookups()[0].required, ["tax_code"]);

    let found = ask(&adapter, "enterprise", &[("tax_code", "0101234567")]).await.unwrap();
    let golden: Value = serde_json::from_slice(&read("tracuudoanhnghiep.expected.json")).unwrap();
    assert_eq!(found, golden, "the simulator answers what the example shows");
    for (tax_code, status) in [("6001122334", "suspended"), ("4200998877", "dissolved")] {
        let e = ask(&adapter, "enterprise", &[("tax_code", tax_code)]).await.unwrap();
        assert_eq!((e["tax_code"].as_str(), e["status"].as_str()), (Some(tax_code), Some(status)));
        assert!(VnDateTime::parse(e["registered_at"].as_str().unwrap()).is_ok());
    }
    assert_eq!(ask(&adapter, "enterprise", &[("tax_code", "0000000000")]).await, Err(LookupError::NotFound));
    for bad in [&[][..], &[("tax_code", "010123456")], &[("tax_code", "01012345ab")], &[("code", "0101234567")]] {
        assert_eq!(ask(&adapter, "enterprise", bad).await, Err(LookupError::BadRequest("tax_code".into())));
    }
    assert_eq!(ask(&adapter, "nope", &[]).await, Err(LookupError::UnknownLookup));
    let stats = sim.stats();
    assert_eq!((stats.enterprise_lookups, stats.requests), (4, 4), "bad parameters never reach mpi");
    sim.shutdown().await;
}

#[tokio::test]
async fn dossier_lookups_return_the_history_as_status_events() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let d = dossier("dossier-full.json");
    let code = d.code.as_str();
    assert_eq!(ask(&adapter, "dossier", &[("code", code)]).await, Err(LookupError::NotFound));
    let Outcome::Delivered { agency_ref: Some(receipt) } = adapter.deliver(&delivery(&d, "k", "c")).await else {
        panic!("not delivered")
    };

    let v = ask(&adapter, "dossier", &[("code", code)]).await.unwrap();
    assert_eq!((v["code"].as_str(), v["status"].as_u64()), (Some(code), Some(2)));
    assert_eq!(v["receipt"], json!(receipt));
    assert_eq!(v["history"].as_array().unwrap().len(), 1);

    let due = VnDateTime::parse("2026-06-15T17:00:00+07:00").unwrap();
    let mut step = HistoryStep::new(TrangThaiHoSo::YeuCauBoSung, "Đề nghị bổ sung danh sách thành viên");
    step.handler = Some("Nguyễn Thị Lan".into());
    step.new_due_at = Some(due);
    assert!(sim.advance(code, step.clone()));
    assert!(!sim.advance("000.00.31.H29-260609-0999", step.clone()));

    let v = ask(&adapter, "dossier", &[("code", code)]).await.unwrap();
    assert_eq!(v["status"], 5);
    let last = &v["history"][1];
    assert_eq!(last["status"], 5);
    assert_eq!(last["handler"], "Nguyễn Thị Lan");
    assert_eq!(last["new_due_at"], "2026-06-15T17:00:00+07:00");
    assert_eq!(last["dossier"], code);
    assert_eq!(last["at"], step.at.inner().format("%Y-%m-%dT%H:%M:%S%:z").to_string());

    for bad in [&[][..], &[("code", "not a code")]] {
        assert_eq!(ask(&adapter, "dossier", bad).await, Err(LookupError::BadRequest("code".into())));
    }
    assert_eq!(sim.stats().dossier_lookups, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_lookup_against_a_hanging_agency_times_out() {
    let sim = simulator().await;
    let adapter = adapter_with(config(&sim.url()), Duration::from_millis(300));
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let started = Instant::now();
    assert_eq!(ask(&adapter, "enterprise", &[("tax_code", "0101234567")]).await, Err(LookupError::Timeout));
    assert_eq!(ask(&adapter, "dossier", &[("code", "000.00.31.H29-260609-0001")]).await, Err(LookupError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    sim.shutdown().await;
}

#[tokio::test]
async fn lookup_failures_are_upstream_errors() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let q = [("tax_code", "0101234567")];
    sim.set_faults(Faults { fail_next: 1, ..Faults::default() });
    let Err(LookupError::Upstream(m)) = ask(&adapter, "enterprise", &q).await else { panic!("expected upstream") };
    assert_eq!(m, "TraCuuDoanhNghiep: mpi answered http 503");

    let wrong = adapter_with(MpiConfig { password: Some("nope".into()), ..config(&sim.url()) }, Duration::from_secs(5));
    let Err(LookupError::Upstream(m)) = ask(&wrong, "enterprise", &q).await else { panic!("expected upstream") };
    assert!(m.contains("login refused by mpi (MPI-001)"), "{m}");

    sim.go_down().await;
    let Err(LookupError::Upstream(m)) = ask(&adapter, "enterprise", &q).await else { panic!("expected upstream") };
    assert!(m.starts_with("connect error on TraCuuDoanhNghiep"), "{m}");
    sim.come_up().await.unwrap();
    assert!(ask(&adapter, "enterprise", &q).await.is_ok());
    sim.shutdown().await;
}
