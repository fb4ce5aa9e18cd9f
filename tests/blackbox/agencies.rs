//! Routing to agencies, the DVCQG status synchronisation, payload checks and
//! synchronous look-ups through the gateway.

use std::time::{Duration, Instant};

use adapters::sim::Faults;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dossier_for_another_agency_is_also_synchronised_to_dvcqg() {
    let sim = simulator().await;
    let other = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { other_url: Some(other.url()), ..Options::default() };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    let code = "000.00.31.H29-261122-0600";
    let mut d = json_dossier(code);
    d["MaTTHC"] = "3.000181".into();
    let (status, receipt) = api.submit(PORTAL_TOKEN, "application/json", d.to_string()).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(receipt["agency"], "other");

    let view = api.wait_all_delivered(code, 2, Duration::from_secs(10)).await;
    let agencies: Vec<&str> =
        view["deliveries"].as_array().unwrap().iter().map(|d| d["agency"].as_str().unwrap()).collect();
    assert_eq!(agencies, ["other", "dvcqg"], "one more delivery, not another dossier");
    assert_eq!(count_rows(&gw.database(), "dossiers"), 1);
    // One DongBoHoSoMC at each, under distinct keys.
    let (at_dvcqg, at_other) = (sim.received(), other.received());
    assert_eq!((at_dvcqg.len(), at_other.len()), (1, 1));
    assert_eq!(at_dvcqg[0].ma_ho_so, code);
    assert_ne!(at_dvcqg[0].idempotency_key, at_other[0].idempotency_key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_that_does_not_fit_the_procedure_is_refused() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &Options::default())).await;
    let api = Api::new(&gw.url);
    let mut d = json_dossier("000.00.31.H29-261122-0601");
    d["MaTTHC"] = "3.000182".into();
    let (status, body) = api.submit(PORTAL_TOKEN, "application/json", d.to_string()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("payload_mismatch")), "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "DuLieuNghiepVu");
    assert!(body["error"]["message"].as_str().unwrap().contains("LyLichTuPhap"), "{body}");

    d["DuLieuNghiepVu"] = serde_json::json!({"HoTich": {"KhaiTu": {
        "HoTen": "Phạm Văn Cường", "NgayChet": "2026-11-20 06:00:00", "NoiChet": "Bệnh viện Bạch Mai, Hà Nội"}}});
    let (status, body) = api.submit(PORTAL_TOKEN, "application/json", d.to_string()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("payload_mismatch")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("carries HoTich"), "{body}");
    assert_eq!(count_rows(&gw.database(), "dossiers"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_round_trip_and_are_refused_cleanly() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &Options::default())).await;
    let api = Api::new(&gw.url);
    let code = "000.00.31.H29-261122-0700";
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(code).to_string()).await.0, 202);
    api.wait_delivery(code, "delivered", Duration::from_secs(10)).await;

    let get = |token: &'static str, path: String| {
        let api = api.clone();
        async move { api.get(token, &path).await }
    };
    let (status, body) = get(PORTAL_B_TOKEN, format!("/v1/agencies/dvcqg/lookups/dossier?code={code}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["code"], code);
    assert_eq!(body["result"]["dossier"]["MaHoSo"], code, "DVCQG's own view of the dossier");

    let cases = [
        (PORTAL_TOKEN, format!("/v1/agencies/dvcqg/lookups/dossier?code={code}"), 403, "forbidden"),
        (OPERATOR_TOKEN, "/v1/agencies/nowhere/lookups/dossier?code=x".to_owned(), 404, "unknown_agency"),
        (OPERATOR_TOKEN, "/v1/agencies/dvcqg/lookups/weather".to_owned(), 404, "unknown_lookup"),
        (OPERATOR_TOKEN, "/v1/agencies/dvcqg/lookups/dossier".to_owned(), 400, "missing_parameter"),
        (OPERATOR_TOKEN, "/v1/agencies/dvcqg/lookups/dossier?code=bad".to_owned(), 400, "bad_parameter"),
        (
            OPERATOR_TOKEN,
            "/v1/agencies/dvcqg/lookups/dossier?code=000.00.31.H29-261122-0799".to_owned(),
            404,
            "not_found_at_agency",
        ),
    ];
    for (token, path, want, code) in cases {
        let (status, body) = get(token, path.clone()).await;
        assert_eq!((status, body["error"]["code"].as_str()), (want, Some(code)), "{path}: {body}");
    }
    let r = api.http.get(format!("{}/v1/agencies/dvcqg/lookups/dossier?code={code}", gw.url)).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // An agency that hangs yields 504 within the configured time limit (1s), never a hung connection.
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let started = Instant::now();
    let (status, body) = get(OPERATOR_TOKEN, format!("/v1/agencies/dvcqg/lookups/dossier?code={code}")).await;
    let took = started.elapsed();
    assert_eq!((status, body["error"]["code"].as_str()), (504, Some("agency_timeout")), "{body}");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "answered after {took:?}");
    sim.set_faults(Faults::default());

    // A failing agency yields 502.
    sim.set_faults(Faults { fail_next: 10, ..Faults::default() });
    let (status, body) = get(OPERATOR_TOKEN, format!("/v1/agencies/dvcqg/lookups/dossier?code={code}")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (502, Some("agency_error")), "{body}");

    let metrics = api.http.get(format!("{}/metrics", gw.url)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"lienthong_lookups_total{agency="dvcqg",lookup="dossier",outcome="agency_timeout"} 1"#),
        "{metrics}"
    );
}
