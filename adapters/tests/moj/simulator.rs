//! The simulator on its own, spoken to with raw HTTP: its answers, codes and
//! control endpoints.

use std::time::Duration;

use adapters::sim::Faults;
use serde_json::{json, Value};

use crate::golden::expected_name;
use crate::support::*;

fn http() -> reqwest::Client {
    client(Duration::from_secs(5))
}

fn birth() -> Value {
    golden_body(&expected_name(BIRTH))
}

fn judicial() -> Value {
    let mut b = golden_body(&expected_name(JUDICIAL));
    b["authKey"] = json!(AUTH_KEY);
    b
}

#[tokio::test]
async fn the_token_service_answers_a_token_or_its_codes() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let ask = |body: Value| {
        let (http, url) = (http.clone(), url.clone());
        async move { post_raw(&http, &url, "/api/auth/token", body.to_string(), None, None).await }
    };
    let (status, a) = ask(json!({"username": USER, "password": "nope"})).await;
    assert_eq!((status, a["status"].as_i64(), a["errorCode"].as_str()), (200, Some(0), Some("AUTH-03")));
    let (_, a) = ask(json!({"username": USER})).await;
    assert_eq!((a["errorCode"].as_str(), a["errorField"].as_str()), (Some("SYS-01"), Some("password")));
    let (_, a) = post_raw(&http, &url, "/api/auth/token", "nope", None, None).await;
    assert_eq!(a["errorCode"], "SYS-01");
    let (_, a) = ask(json!({"username": USER, "password": PASSWORD})).await;
    assert_eq!((a["status"].as_i64(), a["value"]["expiresIn"].as_u64()), (Some(1), Some(3600)));
    assert!(a["value"]["token"].as_str().is_some_and(|t| !t.is_empty()));
    let stats = sim.stats();
    assert_eq!((stats.logins, stats.logins_refused), (1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_ministry_answers_with_its_own_codes() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let token = token(&http, &url).await;

    let (status, a) = post_raw(&http, &url, HOTICH_PUSH, birth().to_string(), None, None).await;
    assert_eq!((status, a["errorCode"].as_str()), (401, Some("AUTH-01")));
    let (status, _) = post_raw(&http, &url, LLTP_STATUS, "{}", Some("forged"), None).await;
    assert_eq!(status, 401);
    let (_, a) = post_raw(&http, &url, HOTICH_PUSH, "{not json", Some(&token), None).await;
    assert_eq!(a["errorCode"], "SYS-01");
    let mut b = birth();
    b["ngayTiepNhan"] = json!("");
    b["maHoSoLT"] = json!("bad");
    let (_, a) = post_raw(&http, &url, HOTICH_PUSH, b.to_string(), Some(&token), Some("bad")).await;
    assert_eq!((a["errorCode"].as_str(), a["errorField"].as_str()), (Some("HT-01"), Some("ngayTiepNhan")));
    assert!(a["statusDescription"].as_str().unwrap().contains("ngayTiepNhan"));

    let (_, first) = post_raw(&http, &url, HOTICH_PUSH, birth().to_string(), Some(&token), Some("k1")).await;
    assert_eq!(first["status"], 1);
    let (_, again) = post_raw(&http, &url, HOTICH_PUSH, birth().to_string(), Some(&token), Some("k1")).await;
    assert_eq!(again, first, "a repeat under the same Idempotency-Key gets the first answer");
    let (_, again) = post_raw(&http, &url, HOTICH_PUSH, birth().to_string(), Some(&token), None).await;
    assert_eq!(again, first, "a repeat under the same maHoSoLT gets the first answer");
    let mut other = birth();
    other["maHoSoLT"] = json!("another-reference");
    let (_, a) = post_raw(&http, &url, HOTICH_PUSH, other.to_string(), Some(&token), Some("k2")).await;
    assert_eq!((a["errorCode"].as_str(), a["errorField"].as_str()), (Some("HT-02"), Some("maHoSoMCDT")));

    let mut wrong = judicial();
    wrong["maTinh"] = json!("01");
    let (_, a) = post_raw(&http, &url, LLTP_PUSH, wrong.to_string(), Some(&token), Some("j1")).await;
    assert_eq!(a["errorCode"], "LLTP-02");
    assert!(a.get("description").is_some() && a.get("statusDescription").is_none(), "{a}");
    let (_, a) = post_raw(&http, &url, LLTP_PUSH, judicial().to_string(), Some(&token), Some("j1")).await;
    assert_eq!(
        (a["status"].as_i64(), a["id"].as_str()),
        (Some(1), Some("LLTP-79-0000002")),
        "LLTP-02 is not remembered"
    );
    let (_, a) = post_raw(&http, &url, LLTP_PUSH, judicial().to_string(), Some(&token), Some("j2")).await;
    assert_eq!(a["errorCode"], "LLTP-03");

    sim.expire_tokens();
    let (status, a) = post_raw(&http, &url, HOTICH_STATUS, "{}", Some(&token), None).await;
    assert_eq!((status, a["errorCode"].as_str()), (200, Some("AUTH-02")));

    assert_eq!(sim.received().len(), 2);
    let stats = sim.stats();
    assert_eq!((stats.civil_status_accepted, stats.judicial_record_accepted, stats.replayed), (1, 1, 2));
    let rejected: Vec<(&str, u64)> = stats.rejected.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        rejected,
        vec![("AUTH-01", 2), ("AUTH-02", 1), ("HT-01", 1), ("HT-02", 1), ("LLTP-02", 1), ("LLTP-03", 1), ("SYS-01", 1)]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn status_polls_answer_the_updates_of_the_codes_asked() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let token = token(&http, &url).await;
    post_raw(&http, &url, HOTICH_PUSH, birth().to_string(), Some(&token), None).await;
    assert!(sim.set_status("000.00.31.H29-261122-0001", 10, "Đã trả giấy khai sinh", None));
    let poll = json!({"maDonVi": UNIT, "dsMaHoSo": ["000.00.31.H29-261122-0001", "000.00.31.H29-261122-0002"]});
    let (_, a) = post_raw(&http, &url, HOTICH_STATUS, poll.to_string(), Some(&token), None).await;
    assert_eq!(a["status"], 1);
    let states: Vec<u64> = a["value"].as_array().unwrap().iter().map(|i| i["trangThai"].as_u64().unwrap()).collect();
    assert_eq!(states, vec![2, 10]);
    assert_eq!(sim.statuses("000.00.31.H29-261122-0001").len(), 2);
    let poll = json!({"authKey": AUTH_KEY, "maTinh": PROVINCE, "dsMaHoSo": ["000.00.31.H29-261122-0001"]});
    let (_, a) = post_raw(&http, &url, LLTP_STATUS, poll.to_string(), Some(&token), None).await;
    assert_eq!((a["status"].as_i64(), a["value"].as_array().map(Vec::len)), (Some(1), Some(0)), "another service");
    let codes: Vec<String> = (0..101).map(|i| format!("000.00.31.H29-261122-{i:04}")).collect();
    let poll = json!({"maDonVi": UNIT, "dsMaHoSo": codes});
    let (_, a) = post_raw(&http, &url, HOTICH_STATUS, poll.to_string(), Some(&token), None).await;
    assert_eq!((a["errorCode"].as_str(), a["errorField"].as_str()), (Some("HT-01"), Some("dsMaHoSo")));
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let sim = simulator().await;
    let http = http();
    let r = http.get(format!("{}{HOTICH_PUSH}", sim.url())).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = http.post(format!("{}/api/hotich/khaisinh", sim.url())).send().await.unwrap();
    assert_eq!(r.status(), 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_report_set_faults_and_reset() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let token = token(&http, &url).await;
    post_raw(&http, &url, LLTP_PUSH, judicial().to_string(), Some(&token), Some("k")).await;

    let r = http.put(format!("{url}/_sim/faults")).body(r#"{"fail_next": 3}"#).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sim.faults().fail_next, 3);
    let received: Value = http.get(format!("{url}/_sim/received")).send().await.unwrap().json().await.unwrap();
    assert_eq!(received[0]["service"], "judicial_record");
    assert_eq!(received[0]["ma_ho_so"], "000.00.12.H79-260302-004518");
    assert_eq!(received[0]["idempotency_key"], "k");
    assert_eq!(received[0]["request"]["authKey"], "***", "the key is never kept");
    let stats: Value = http.get(format!("{url}/_sim/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!((stats["judicial_record_accepted"].as_u64(), stats["requests"].as_u64()), (Some(1), Some(2)));

    let r = http.post(format!("{url}/_sim/reset")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(sim.received().is_empty());
    assert_eq!(sim.stats(), Default::default());
    assert_eq!(sim.faults(), Faults::default());
    let (status, _) = post_raw(&http, &url, LLTP_PUSH, judicial().to_string(), Some(&token), Some("k")).await;
    assert_eq!(status, 401, "reset forgets tokens");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_example_requests_are_accepted() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let (_, a) = post_raw(
        &http,
        &url,
        "/api/auth/token",
        read_json(agency_dir().join("examples/auth-token.request.json")).to_string(),
        None,
        None,
    )
    .await;
    assert_eq!(a["errorCode"], "AUTH-03", "the example account is not the simulator's");
    let token = token(&http, &url).await;
    for (file, path) in [
        ("hotich-tiepnhan.khaisinh.request.json", HOTICH_PUSH),
        ("hotich-tiepnhan.khaitu.request.json", HOTICH_PUSH),
        ("lltp-tiepnhan.request.json", LLTP_PUSH),
        ("hotich-trangthai.request.json", HOTICH_STATUS),
        ("lltp-trangthai.request.json", LLTP_STATUS),
    ] {
        let mut b = read_json(agency_dir().join("examples").join(file));
        if b.get("authKey").is_some() {
            b["authKey"] = json!(AUTH_KEY);
        }
        let (_, a) = post_raw(&http, &url, path, b.to_string(), Some(&token), None).await;
        assert_eq!(a["status"], 1, "{file}: {a}");
    }
    assert_eq!(sim.received().len(), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn it_keeps_the_most_recent_requests_but_still_knows_every_dossier() {
    let sim = simulator().await;
    sim.set_keep(1);
    let (http, url) = (http(), sim.url());
    let token = token(&http, &url).await;
    let (_, first) = post_raw(&http, &url, HOTICH_PUSH, birth().to_string(), Some(&token), Some("k1")).await;
    assert_eq!(first["status"], 1, "{first}");
    let (_, a) = post_raw(&http, &url, LLTP_PUSH, judicial().to_string(), Some(&token), Some("j1")).await;
    assert_eq!(a["status"], 1, "{a}");

    let kept: Vec<String> = sim.received().into_iter().map(|r| r.ma_ho_so).collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(sim.stats().forgotten, 1);
    let mut other = birth();
    other["maHoSoLT"] = json!("another-reference");
    let (_, a) = post_raw(&http, &url, HOTICH_PUSH, other.to_string(), Some(&token), Some("k2")).await;
    assert_eq!(
        (a["errorCode"].as_str(), a["errorField"].as_str()),
        (Some("HT-02"), Some("maHoSoMCDT")),
        "the first dossier's request was let go, and it is still a duplicate"
    );
    sim.shutdown().await;
}
