//! The simulator on its own, spoken to with raw HTTP: its answers, faults and
//! control endpoints.

use std::time::{Duration, Instant};

use adapters::sim::Faults;
use serde_json::{json, Value};

use crate::support::*;

const SYNC: &str = "/api/hoso/DongBoHoSoMC";

fn http() -> reqwest::Client {
    client(Duration::from_secs(5))
}

/// The golden minimal body with a session.
fn body(session: &str) -> Value {
    let mut b: Value = serde_json::from_slice(&read("dossier-minimal.expected.json")).unwrap();
    b["session"] = json!(session);
    b
}

#[tokio::test]
async fn login_answers_a_session_or_error_code_one() {
    let sim = simulator().await;
    let http = http();
    let url = sim.url();
    let (status, answer) =
        post_raw(&http, &url, "/api/auth/login", json!({"username": USER, "password": "nope"}).to_string(), None).await;
    assert_eq!((status, answer["error_code"].as_str()), (200, Some("1")));
    assert!(answer.get("session").is_none());
    let (_, answer) =
        post_raw(&http, &url, "/api/auth/login", json!({"username": USER, "password": PASSWORD}).to_string(), None)
            .await;
    assert_eq!(answer["error_code"], "0");
    assert_eq!(answer["expires_in"], "3600");
    assert!(answer["session"].as_str().is_some_and(|s| !s.is_empty()));
    let stats = sim.stats();
    assert_eq!((stats.logins, stats.logins_refused), (1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_agency_answers_with_its_own_error_codes() {
    let sim = simulator().await;
    let http = http();
    let url = sim.url();
    let session = login(&http, &url).await;

    let (_, a) = post_raw(&http, &url, SYNC, body("not-a-session").to_string(), None).await;
    assert_eq!(a["error_code"], "-1");
    let (_, a) = post_raw(&http, &url, SYNC, "{not json", None).await;
    assert_eq!(a["error_code"], "2");
    let mut b = body(&session);
    b["data"][0]["NgayHenTra"] = json!(20261125170000u64);
    let (_, a) = post_raw(&http, &url, SYNC, b.to_string(), None).await;
    assert_eq!(a["error_code"], "2");
    assert!(a["message"].as_str().unwrap().contains("NgayHenTra"));
    let mut b = body(&session);
    b["data"][0]["NgayTiepNhan"] = json!("");
    let (_, a) = post_raw(&http, &url, SYNC, b.to_string(), None).await;
    assert_eq!(
        (a["error_code"].as_str(), a["message"].as_str()),
        (Some("3"), Some("Thiếu trường bắt buộc NgayTiepNhan"))
    );

    let (_, a) = post_raw(&http, &url, SYNC, body(&session).to_string(), Some("k1")).await;
    assert_eq!(a["error_code"], "0");
    let (_, again) = post_raw(&http, &url, SYNC, body(&session).to_string(), Some("k1")).await;
    assert_eq!(again, a, "a repeat under the same key gets the original answer");
    let (_, a) = post_raw(&http, &url, SYNC, body(&session).to_string(), Some("k2")).await;
    assert_eq!(a["error_code"], "4");
    let mut update = body(&session);
    update["isUpdating"] = json!("true");
    let (_, a) = post_raw(&http, &url, SYNC, update.to_string(), Some("k3")).await;
    assert_eq!(a["error_code"], "0");

    let received = sim.received();
    assert_eq!(received.len(), 2);
    assert!(received[1].is_update);
    assert_eq!(received[0].id, received[1].id, "an update keeps the dossier's id");
    let stats = sim.stats();
    assert_eq!((stats.accepted, stats.updated, stats.replayed), (1, 1, 1));
    let rejected: Vec<(&str, u64)> = stats.rejected.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(rejected, vec![("-1", 1), ("2", 2), ("3", 1), ("4", 1)]);
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let sim = simulator().await;
    let http = http();
    let r = http.get(format!("{}{SYNC}", sim.url())).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = http.post(format!("{}/api/hoso/Nope", sim.url())).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = http.delete(format!("{}/_sim/stats", sim.url())).send().await.unwrap();
    assert_eq!(r.status(), 405);
    sim.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_report_set_faults_and_reset_and_never_fail() {
    let sim = simulator().await;
    let http = http();
    let url = sim.url();
    let session = login(&http, &url).await;
    post_raw(&http, &url, SYNC, body(&session).to_string(), Some("k")).await;

    let faults = json!({"latency": "0s", "fail_next": 3, "fail_ratio": 0.0, "hang": false});
    let r = http.put(format!("{url}/_sim/faults")).body(faults.to_string()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sim.faults().fail_next, 3);
    let r = http.put(format!("{url}/_sim/faults")).body(r#"{"fail_ratio": 2}"#).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = http.put(format!("{url}/_sim/faults")).body(r#"{"explode": true}"#).send().await.unwrap();
    assert_eq!(r.status(), 400);

    let received: Value = http.get(format!("{url}/_sim/received")).send().await.unwrap().json().await.unwrap();
    assert_eq!(received.as_array().unwrap().len(), 1);
    assert_eq!(received[0]["ma_ho_so"], "G09.20-20261122-0000042");
    assert_eq!(received[0]["idempotency_key"], "k");
    let stats: Value = http.get(format!("{url}/_sim/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["accepted"], 1);
    assert_eq!(stats["requests"], 2, "control requests are not counted");
    assert_eq!(sim.faults().fail_next, 3, "control requests do not consume faults");
    let got: Value = http.get(format!("{url}/_sim/faults")).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["fail_next"], 3);

    let r = http.post(format!("{url}/_sim/reset")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(sim.received().is_empty());
    assert_eq!(sim.stats(), Default::default());
    assert_eq!(sim.faults(), Faults::default());
    let (_, a) = post_raw(&http, &url, SYNC, body(&session).to_string(), Some("k")).await;
    assert_eq!(a["error_code"], "-1", "reset closes sessions");
    sim.shutdown().await;
}

#[tokio::test]
async fn latency_delays_agency_requests() {
    let sim = simulator().await;
    sim.set_faults(Faults { latency: Duration::from_millis(200), ..Faults::default() });
    let started = Instant::now();
    login(&http(), &sim.url()).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_hung_request_is_answered_once_hang_is_cleared() {
    let sim = simulator().await;
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let url = sim.url();
    let pending = tokio::spawn(async move { login(&http(), &url).await });
    while sim.stats().hung == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!pending.is_finished());
    sim.set_faults(Faults::default());
    let session = tokio::time::timeout(Duration::from_secs(5), pending).await.unwrap().unwrap();
    assert!(!session.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_drops_hung_requests_and_closes_the_port() {
    let sim = simulator().await;
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let url = sim.url();
    let pending = tokio::spawn({
        let url = url.clone();
        async move { http().post(format!("{url}/api/auth/login")).body("{}").send().await }
    });
    while sim.stats().hung == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::timeout(Duration::from_secs(5), sim.shutdown())
        .await
        .expect("shutdown does not wait for hung requests");
    let result = tokio::time::timeout(Duration::from_secs(5), pending).await.unwrap().unwrap();
    assert!(result.is_err(), "a hung request gets no answer");
    let after = http().get(format!("{url}/_sim/stats")).send().await;
    assert!(after.is_err_and(|e| e.is_connect()));
}

#[tokio::test]
async fn going_down_refuses_connections_until_coming_up_on_the_same_port() {
    let sim = simulator().await;
    let url = sim.url();
    let http = http();
    assert!(http.get(format!("{url}/_sim/stats")).send().await.is_ok());
    sim.go_down().await;
    sim.go_down().await;
    let down = reqwest::Client::new().get(format!("{url}/_sim/stats")).send().await;
    assert!(down.is_err_and(|e| e.is_connect()));
    sim.come_up().await.unwrap();
    sim.come_up().await.unwrap();
    let up = http.get(format!("{url}/_sim/stats")).send().await.unwrap();
    assert_eq!(up.status(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_example_requests_are_accepted() {
    let sim = simulator().await;
    let http = http();
    let url = sim.url();
    let session = login(&http, &url).await;
    for (file, path) in [
        ("dongbohoso.request.json", SYNC),
        ("tracuuhoso.request.json", "/api/hoso/TraCuuHoSo"),
        ("capnhattiendo.request.json", "/api/hoso/CapNhatTienDoHoSoMC"),
    ] {
        let mut b = read_json(examples_dir().join(file));
        b["session"] = json!(session);
        let (_, a) = post_raw(&http, &url, path, b.to_string(), None).await;
        assert_eq!(a["error_code"], "0", "{file}: {a}");
    }
    assert_eq!(sim.progress().len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn it_keeps_the_most_recent_dossiers_and_counts_the_ones_it_let_go() {
    let sim = simulator().await;
    sim.set_keep(2);
    let http = http();
    let url = sim.url();
    let session = login(&http, &url).await;
    let sync = |code: &str| {
        let mut b = body(&session);
        b["data"][0]["MaHoSo"] = json!(code);
        b.to_string()
    };
    let codes = ["G09.20-20261122-0000101", "G09.20-20261122-0000102", "G09.20-20261122-0000103"];
    let mut ids = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let (_, a) = post_raw(&http, &url, SYNC, sync(code), Some(&format!("keep-{i}"))).await;
        assert_eq!(a["error_code"], "0", "{a}");
        ids.push(a["id"].clone());
    }

    let kept: Vec<String> = sim.received().into_iter().map(|r| r.ma_ho_so).collect();
    assert_eq!(kept, codes[1..]);
    let stats = sim.stats();
    assert_eq!((stats.accepted, stats.forgotten), (3, 1));
    let over_http: Value = http.get(format!("{url}/_sim/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(over_http["forgotten"], 1);

    let lookup = |code: &str| json!({"session": session, "madonvi": "000.00.00.G22", "MaHoSo": code}).to_string();
    let (_, gone) = post_raw(&http, &url, "/api/hoso/TraCuuHoSo", lookup(codes[0]), None).await;
    assert_ne!(gone["error_code"], "0", "the oldest dossier is no longer known: {gone}");
    let (_, known) = post_raw(&http, &url, "/api/hoso/TraCuuHoSo", lookup(codes[2]), None).await;
    assert_eq!(known["error_code"], "0", "{known}");

    let (_, again) = post_raw(&http, &url, SYNC, sync(codes[0]), Some("keep-0")).await;
    assert_eq!(
        again["error_code"], "4",
        "its answer was let go, so a repeat is checked again, and the dossier itself is still known: {again}"
    );
    let mut update: Value = serde_json::from_str(&sync(codes[0])).unwrap();
    update["isUpdating"] = json!("true");
    let (_, updated) = post_raw(&http, &url, SYNC, update.to_string(), Some("keep-update")).await;
    assert_eq!((updated["error_code"].as_str(), &updated["id"]), (Some("0"), &ids[0]), "{updated}");
    let stats = sim.stats();
    assert_eq!((stats.accepted, stats.updated, stats.replayed), (3, 1, 0));
    let mut progress = read_json(examples_dir().join("capnhattiendo.request.json"));
    progress["session"] = json!(session);
    progress["data"][0]["MaHoSo"] = json!(codes[0]);
    let (_, a) = post_raw(&http, &url, "/api/hoso/CapNhatTienDoHoSoMC", progress.to_string(), None).await;
    assert_eq!(a["error_code"], "0", "progress for a dossier whose body was let go is taken: {a}");

    assert_eq!(sim.stats().forgotten, 2, "the update is a received record too");
    sim.reset();
    let session = login(&http, &url).await;
    for code in &codes {
        let mut b = body(&session);
        b["data"][0]["MaHoSo"] = json!(code);
        let (_, a) = post_raw(&http, &url, SYNC, b.to_string(), None).await;
        assert_eq!(a["error_code"], "0", "{a}");
    }
    assert_eq!(
        (sim.received().len(), sim.stats().forgotten),
        (2, 1),
        "a reset forgets and zeroes, but keeps the limit"
    );
    sim.shutdown().await;
}
