//! Look-ups and status polls against the running simulator.

use std::time::{Duration, Instant};

use adapters::sim::Faults;
use adapters::{Adapter, LookupError, LookupRequest};
use schemas::{MaHoSo, TrangThaiHoSo, VnDateTime};
use serde_json::Value;

use crate::support::*;

async fn look(adapter: &impl Adapter, name: &str, code: &str) -> Result<Value, LookupError> {
    let params = [("code".to_owned(), code.to_owned())];
    adapter
        .lookup(&LookupRequest { name, params: &params, correlation_id: "corr-lookup" })
        .await
        .map(|answer| serde_json::from_str(answer.get()).expect("a look-up answers JSON"))
}

const BIRTH_CODE: &str = "000.00.31.H29-261122-0001";
const JUDICIAL_CODE: &str = "000.00.12.H79-260302-004518";

#[tokio::test]
async fn the_lookups_are_offered_with_their_parameters() {
    let adapter = adapter("http://127.0.0.1:1");
    let names: Vec<(&str, &[&str])> = adapter.lookups().iter().map(|l| (l.name, l.required)).collect();
    assert_eq!(
        names,
        vec![("civil-status", &["code"][..]), ("judicial-record", &["code"][..]), ("dossier", &["code"][..])]
    );
    let unknown = LookupRequest { name: "enterprise", params: &[], correlation_id: "c" };
    assert_eq!(adapter.lookup(&unknown).await.err(), Some(LookupError::UnknownLookup));
    let none = LookupRequest { name: "dossier", params: &[], correlation_id: "c" };
    assert_eq!(adapter.lookup(&none).await.err(), Some(LookupError::BadRequest("code".into())));
    assert_eq!(look(&adapter, "civil-status", "0011900 12345").await, Err(LookupError::BadRequest("code".into())));
}

#[tokio::test]
async fn each_lookup_round_trips() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    for name in ["civil-status", "judicial-record", "dossier"] {
        assert_eq!(look(&adapter, name, BIRTH_CODE).await, Err(LookupError::NotFound), "{name} before delivery");
    }
    delivered(&adapter.deliver(&delivery(&dossier(BIRTH), "k1", "c")).await);
    delivered(&adapter.deliver(&delivery(&dossier(JUDICIAL), "k2", "c")).await);

    let v = look(&adapter, "civil-status", BIRTH_CODE).await.unwrap();
    assert_eq!(
        (v["agency"].as_str(), v["service"].as_str(), v["code"].as_str()),
        (Some("moj"), Some("civil_status"), Some(BIRTH_CODE))
    );
    assert_eq!(
        (v["status"].as_u64(), v["status_label"].as_str(), v["final"].as_bool()),
        (Some(2), Some("received"), Some(false))
    );
    assert_eq!(v["history"].as_array().unwrap().len(), 1);
    assert!(v["due_at"].is_null());

    let v = look(&adapter, "judicial-record", JUDICIAL_CODE).await.unwrap();
    assert_eq!(v["service"], "judicial_record");
    assert_eq!(look(&adapter, "judicial-record", BIRTH_CODE).await, Err(LookupError::NotFound), "wrong service");
    assert_eq!(look(&adapter, "civil-status", JUDICIAL_CODE).await, Err(LookupError::NotFound), "wrong service");

    assert_eq!(look(&adapter, "dossier", BIRTH_CODE).await.unwrap()["service"], "civil_status");
    assert_eq!(look(&adapter, "dossier", JUDICIAL_CODE).await.unwrap()["service"], "judicial_record");

    let due = VnDateTime::parse("2026-11-26 17:00:00").unwrap();
    assert!(sim.set_status(BIRTH_CODE, 5, "Đề nghị bổ sung giấy tờ", Some(due)));
    let v = look(&adapter, "dossier", BIRTH_CODE).await.unwrap();
    assert_eq!((v["status"].as_u64(), v["due_at"].as_str()), (Some(5), Some("2026-11-26T17:00:00+07:00")));
    sim.shutdown().await;
}

#[tokio::test]
async fn poll_status_round_trips_after_set_status() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    let birth = dossier(BIRTH);
    let judicial = dossier(JUDICIAL);
    delivered(&adapter.deliver(&delivery(&birth, "k1", "c")).await);
    delivered(&adapter.deliver(&delivery(&judicial, "k2", "c")).await);
    let due = VnDateTime::parse("2026-11-30 17:00:00").unwrap();
    assert!(sim.set_status(BIRTH_CODE, 4, "Đang kiểm tra hồ sơ", None));
    assert!(sim.set_status(BIRTH_CODE, 5, "Đề nghị bổ sung giấy tờ", Some(due)));
    assert!(sim.set_status(JUDICIAL_CODE, 9, "Đã cấp Phiếu lý lịch tư pháp số 1", None));
    assert!(!sim.set_status("000.00.31.H29-261122-0999", 4, "x", None), "unknown dossier");
    assert!(!sim.set_status(BIRTH_CODE, 11, "x", None), "no such status");

    let unknown = MaHoSo::parse("000.00.31.H29-261122-0999").unwrap();
    let events = adapter.poll_status(&[birth.code.clone(), judicial.code.clone(), unknown]).await.unwrap();
    let got: Vec<(&str, TrangThaiHoSo)> = events.iter().map(|e| (e.dossier.as_str(), e.status)).collect();
    assert_eq!(
        got,
        vec![
            (BIRTH_CODE, TrangThaiHoSo::DuocTiepNhan),
            (BIRTH_CODE, TrangThaiHoSo::DangXuLy),
            (BIRTH_CODE, TrangThaiHoSo::YeuCauBoSung),
            (JUDICIAL_CODE, TrangThaiHoSo::DuocTiepNhan),
            (JUDICIAL_CODE, TrangThaiHoSo::DaXuLyXong),
        ]
    );
    assert_eq!(events[2].new_due_at, Some(due));
    assert_eq!(events[2].content.as_deref(), Some("Đề nghị bổ sung giấy tờ"));
    assert!(events[2].handler.is_some());
    assert_eq!(adapter.poll_status(&[]).await.unwrap(), vec![]);
    sim.shutdown().await;
}

#[tokio::test]
async fn long_polls_are_split_into_chunks_of_one_hundred() {
    let sim = simulator().await;
    let adapter = adapter(&sim.url());
    delivered(&adapter.deliver(&delivery(&dossier(DEATH), "k", "c")).await);
    let mut codes: Vec<MaHoSo> =
        (1..150).map(|i| MaHoSo::parse(&format!("000.00.31.H29-261122-{i:04}")).unwrap()).collect();
    codes.push(dossier(DEATH).code);
    let events = adapter.poll_status(&codes).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(sim.stats().polls, 4, "two chunks for each service");
    sim.shutdown().await;
}

#[tokio::test]
async fn lookup_failures_map_to_timeout_and_upstream() {
    let sim = simulator().await;
    let adapter = adapter_with(config(&sim.url()), Duration::from_millis(300));
    delivered(&adapter.deliver(&delivery(&dossier(BIRTH), "k", "c")).await);

    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let started = Instant::now();
    assert_eq!(look(&adapter, "civil-status", BIRTH_CODE).await, Err(LookupError::Timeout));
    assert_eq!(look(&adapter, "dossier", BIRTH_CODE).await, Err(LookupError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    // A failing share rather than `fail_next`, which the released polls could consume.
    sim.set_faults(Faults { fail_ratio: 1.0, ..Faults::default() });
    let e = look(&adapter, "civil-status", BIRTH_CODE).await.unwrap_err();
    assert_eq!(e, LookupError::Upstream("hotich/trangthai: moj answered http 503".into()));
    sim.set_faults(Faults::default());

    sim.go_down().await;
    assert!(
        matches!(look(&adapter, "judicial-record", BIRTH_CODE).await, Err(LookupError::Upstream(m)) if m.starts_with("connect error"))
    );
    sim.come_up().await.unwrap();
    assert_eq!(look(&adapter, "civil-status", BIRTH_CODE).await.unwrap()["status"], 2);
    sim.shutdown().await;
}
