//! Status events end to end: a dossier's whole lifecycle across a portal, the
//! Justice simulator (polled for its decisions) and a ministry member posting,
//! every event in the right feeds, at DVCQG and in the history; refusals of
//! impossible steps; DVCQG's own look-up polled; the on-time figures.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use adapters::dvcqg::{DvcqgAdapter, DvcqgConfig};
use gateway::auth::hash_token;
use gateway::demo::Simulators;
use schemas::{AgencyId, MaHoSo, StatusEvent, TrangThaiHoSo, VnDateTime};
use serde_json::{json, Value};

use crate::support::*;

const MOJ_TOKEN: &str = "ministry-token-moj";

/// A processing-history item as a member posts it.
pub(crate) fn item(code: &str, status: u8, at: &str, content: &str) -> Value {
    json!({
        "MaHoSo": code,
        "TrangThai": status.to_string(),
        "ThoiDiemXuLy": at,
        "NguoiXuLy": "Cán bộ một cửa",
        "PhongBanXuLy": "Bộ phận tiếp nhận và trả kết quả",
        "NoiDungXuLy": content,
    })
}

/// Long-polls `token`'s feed after `cursor` until an event arrives (at most 10 s):
/// the events and the next cursor.
async fn next_events(api: &Api, token: &str, cursor: &Option<String>) -> (Vec<Value>, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let query = match cursor {
            Some(c) => format!("after={c}&wait=5"),
            None => "wait=5".to_owned(),
        };
        let (status, page) = api.feed(token, &query).await;
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().cloned().unwrap_or_default();
        if !events.is_empty() {
            return (events, page["next"].as_str().map(str::to_owned));
        }
        assert!(Instant::now() < deadline, "no event arrived");
    }
}

fn statuses(events: &[Value]) -> Vec<u64> {
    events.iter().map(|e| e["event"]["status"].as_u64().unwrap()).collect()
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn example(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/examples").join(name);
    std::fs::read(path).unwrap()
}

/// Scrapes `/metrics` and returns the value of the one sample matching `labels`.
pub(crate) async fn metric(api: &Api, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let text = api.http.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    samples(&text)
        .into_iter()
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
        .map(|s| s.value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dossier_goes_through_its_lifecycle_across_the_portal_and_justice() {
    let sims = Simulators::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), "u", "s").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[[members]]\nid = \"moj-hotich\"\nrole = \"ministry\"\nagency = \"moj\"\npost_status = true\ntoken_sha256 = \"{}\"\n\n\
         [[members]]\nid = \"portal-h49\"\nrole = \"portal\"\ntoken_sha256 = \"{}\"\n\n\
         [status.poll]\nmoj = \"100ms\"\n",
        hash_token(MOJ_TOKEN),
        hash_token(PORTAL_B_TOKEN)
    );
    let gw = GatewayProcess::start(&crate::ministries::config_with(dir.path(), &sims, &extra)).await;
    let api = Api::new(&gw.url);

    // A death registration, files inline as Justice takes them.
    let mut body: Value = serde_json::from_slice(&example("khai-tu.json")).unwrap();
    body["TaiLieuNop"].as_array_mut().unwrap().retain(|f| f.get("DuLieuTep").is_some());
    let code = body["MaHoSo"].as_str().unwrap().to_owned();
    let received_at = body["NgayTiepNhan"].as_str().unwrap().to_owned();
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", body.to_string()).await.0, 202);
    api.wait_all_delivered(&code, 2, Duration::from_secs(15)).await;

    // Nothing can come before "received".
    let (status, err) = api.post_status(PORTAL_TOKEN, &code, &item(&code, 10, &received_at, "Trả kết quả")).await;
    assert_eq!((status, error_code(&err)), (409, "status_first_invalid"), "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("10 (đã trả kết quả)"), "{err}");
    assert_eq!(err["error"]["current"], Value::Null);

    // 1. Received, by the portal; the same post again changes nothing.
    let received = item(&code, 2, &received_at, "Tiếp nhận hồ sơ");
    let (status, first) = api.post_status(PORTAL_TOKEN, &code, &received).await;
    assert_eq!((status, first["duplicate"].as_bool()), (201, Some(false)), "{first}");
    let (status, again) = api.post_status(PORTAL_TOKEN, &code, &received).await;
    assert_eq!((status, again["duplicate"].as_bool()), (200, Some(true)), "{again}");
    assert_eq!(again["event_id"], first["event_id"]);

    // Who may post what follows the dossier's sender and target agency.
    let (status, err) = api.post_status(PORTAL_TOKEN, &code, &item(&code, 9, &received_at, "x")).await;
    assert_eq!((status, error_code(&err)), (403, "status_not_permitted"), "{err}");
    for token in [PORTAL_B_TOKEN, OPERATOR_TOKEN] {
        let (status, err) = api.post_status(token, &code, &item(&code, 4, &received_at, "x")).await;
        assert_eq!((status, error_code(&err)), (403, "forbidden"), "{err}");
    }

    let mut portal_cursor = None;
    let (events, next) = next_events(&api, PORTAL_TOKEN, &portal_cursor).await;
    assert_eq!(statuses(&events), [2]);
    portal_cursor = next;

    // 2. Processing, and 3. a supplement request with a new due date: decided at
    // Justice and learned by polling it.
    sims.moj.set_status(&code, 4, "Thụ lý hồ sơ", None);
    let (events, next) = next_events(&api, PORTAL_TOKEN, &portal_cursor).await;
    assert_eq!(statuses(&events), [4]);
    assert_eq!(events[0]["reported_by"], "poll:moj");
    portal_cursor = next;
    let new_due = VnDateTime::from_utc(chrono::Utc::now() + chrono::Duration::days(10));
    sims.moj.set_status(&code, 5, "Đề nghị bổ sung giấy báo tử", Some(new_due));
    let (events, next) = next_events(&api, PORTAL_TOKEN, &portal_cursor).await;
    assert_eq!(statuses(&events), [5]);
    portal_cursor = next;
    let (_, view) = api.dossier(PORTAL_TOKEN, &code).await;
    let due = chrono::DateTime::parse_from_rfc3339(view["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(due.timestamp(), new_due.to_utc().timestamp(), "the supplement request moved the due date: {view}");

    // 4. Back to processing, posted by Justice's own member; then finished at
    // Justice. Justice and DVCQG date steps to the second: each step here is
    // taken in a later second than the one before.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resumed = item(&code, 4, &VnDateTime::now().to_dvcqg(), "Công dân đã bổ sung; tiếp tục xử lý");
    let (status, body) = api.post_status(MOJ_TOKEN, &code, &resumed).await;
    assert_eq!(status, 201, "{body}");
    let (events, next) = next_events(&api, PORTAL_TOKEN, &portal_cursor).await;
    assert_eq!(statuses(&events), [4]);
    portal_cursor = next;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sims.moj.set_status(&code, 9, "Đã cấp trích lục khai tử", None);
    let (events, next) = next_events(&api, PORTAL_TOKEN, &portal_cursor).await;
    assert_eq!(statuses(&events), [9]);
    portal_cursor = next;
    let finished_at = events[0]["event"]["at"].as_str().unwrap().to_owned();

    // 5. Result returned, by the portal.
    let returned_at = VnDateTime::now().to_rfc3339();
    let (status, body) = api.post_status(PORTAL_TOKEN, &code, &item(&code, 10, &returned_at, "Đã trả kết quả")).await;
    assert_eq!(status, 201, "{body}");
    let (events, _) = next_events(&api, PORTAL_TOKEN, &portal_cursor).await;
    assert_eq!(statuses(&events), [10]);

    // Impossible steps are refused with both states named.
    let (status, err) = api.post_status(PORTAL_TOKEN, &code, &item(&code, 7, &returned_at, "Rút hồ sơ")).await;
    assert_eq!((status, error_code(&err)), (409, "status_after_final"), "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("10 (đã trả kết quả)") && message.contains("7 (công dân yêu cầu rút hồ sơ)"), "{err}");
    assert_eq!(
        (err["error"]["current"]["status"].as_u64(), err["error"]["attempted"]["status"].as_u64()),
        (Some(10), Some(7))
    );
    let (status, err) = api.post_status(MOJ_TOKEN, &code, &item(&code, 8, &received_at, "Dừng")).await;
    assert_eq!((status, error_code(&err)), (409, "status_time_before_previous"), "{err}");

    // Every event is in both feeds, in order, and in the history.
    let want = [2, 4, 5, 4, 9, 10];
    let reporters = ["portal-h29", "poll:moj", "poll:moj", "moj-hotich", "poll:moj", "portal-h29"];
    let (portal, _) = api.drain_feed(PORTAL_TOKEN, None, 4).await;
    let (ministry, _) = api.drain_feed(MOJ_TOKEN, None, 100).await;
    assert_eq!(statuses(&portal), want);
    let ids = |e: &[Value]| e.iter().map(|x| x["event_id"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(ids(&portal), ids(&ministry));
    let by: Vec<&str> = portal.iter().map(|e| e["reported_by"].as_str().unwrap()).collect();
    assert_eq!(by, reporters);
    let (_, view) = api.dossier(MOJ_TOKEN, &code).await;
    let history: Vec<u64> =
        view["history"].as_array().unwrap().iter().map(|h| h["event"]["status"].as_u64().unwrap()).collect();
    assert_eq!(history, want, "{view}");
    assert_eq!(view["status"]["code"], 10);
    assert_eq!(view["timeliness"], "on_time", "finished before the moved due date: {view}");
    let finished = chrono::DateTime::parse_from_rfc3339(view["finished_at"].as_str().unwrap()).unwrap();
    assert_eq!(finished, chrono::DateTime::parse_from_rfc3339(&finished_at).unwrap());

    // DVCQG got every step through its adapter, in order.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let at_dvcqg: Vec<String> =
            sims.dvcqg.progress().into_iter().filter(|p| p.ma_ho_so == code).map(|p| p.trang_thai).collect();
        if at_dvcqg.len() >= want.len() {
            assert_eq!(at_dvcqg, want.map(|s| s.to_string()));
            break;
        }
        assert!(Instant::now() < deadline, "dvcqg has {at_dvcqg:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The figures: received and finished on time at Justice, in the API and the metrics.
    let (status, stats) = api.get(PORTAL_B_TOKEN, "/v1/stats?agency=moj").await;
    assert_eq!(status, 200, "{stats}");
    let moj = &stats["agencies"][0];
    assert_eq!((moj["agency"].as_str(), moj["received"].as_u64()), (Some("moj"), Some(1)), "{stats}");
    assert_eq!((moj["finished_on_time"].as_u64(), moj["finished_late"].as_u64()), (Some(1), Some(0)), "{stats}");
    assert_eq!((moj["open"].as_u64(), moj["overdue"].as_u64()), (Some(0), Some(0)), "{stats}");
    assert_eq!(moj["procedures"][0]["procedure"], body_procedure(&example("khai-tu.json")));
    let gauge = metric(&api, "lienthong_dossiers", &[("agency", "moj"), ("timeliness", "on_time")]).await;
    assert_eq!(gauge, Some(1.0));
    let polled =
        metric(&api, "lienthong_status_events_total", &[("status", "9"), ("source", "poll"), ("outcome", "accepted")])
            .await;
    assert_eq!(polled, Some(1.0));
    let refused =
        metric(&api, "lienthong_status_events_total", &[("status", "7"), ("outcome", "status_after_final")]).await;
    assert_eq!(refused, Some(1.0));
}

fn body_procedure(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["MaTTHC"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dvcqg_is_polled_for_the_dossiers_it_decides_and_not_sent_back_what_it_reported() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options { extra: "[status.poll]\ndvcqg = \"100ms\"\n".into(), ..Options::default() };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    let code = "000.00.31.H29-261122-0001";
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(code).to_string()).await.0, 202);
    api.wait_all_delivered(code, 1, Duration::from_secs(10)).await;

    // The portal reports the dossier received; the gateway passes it on to DVCQG.
    let (status, body) = api.post_status(PORTAL_TOKEN, code, &item(code, 2, "20261122083000", "Tiếp nhận")).await;
    assert_eq!(status, 201, "{body}");
    api.wait_all_delivered(code, 2, Duration::from_secs(10)).await;

    // DVCQG's own officer records the next step there (another system pushes it).
    let config: DvcqgConfig = toml::from_str(&format!(
        "url = \"{}\"\nusername = \"{SIM_USER}\"\npassword = \"{SIM_PASSWORD}\"\nunit_code = \"000.00.00.G22\"\n",
        sim.url()
    ))
    .unwrap();
    let officer = DvcqgAdapter::new(
        AgencyId::parse("dvcqg").unwrap(),
        config,
        adapters::AgencyClient::new(adapters::ClientSettings::default()).unwrap(),
    );
    let dossier = MaHoSo::parse(code).unwrap();
    let steps = [StatusEvent::new(dossier, TrangThaiHoSo::DangXuLy, VnDateTime::parse("20261122100000").unwrap())];
    assert!(matches!(officer.push_progress(&steps).await, adapters::Outcome::Delivered { .. }));

    // The poll brings it to the portal's feed and to the ministry's; the 2 that
    // DVCQG's history holds is the portal's, not DVCQG's to report.
    let deadline = Instant::now() + Duration::from_secs(10);
    let events = loop {
        let (events, _) = api.drain_feed(PORTAL_TOKEN, None, 10).await;
        if events.len() >= 2 {
            break events;
        }
        assert!(Instant::now() < deadline, "{events:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(statuses(&events), [2, 4]);
    assert_eq!(events[0]["reported_by"], "portal-h29");
    assert_eq!(events[1]["reported_by"], "poll:dvcqg");
    let (ministry, _) = api.drain_feed(MINISTRY_TOKEN, None, 10).await;
    assert_eq!(statuses(&ministry), [2, 4]);
    // Further polls find nothing new, and nothing was pushed back to DVCQG.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(api.drain_feed(PORTAL_TOKEN, None, 10).await.0.len(), 2);
    assert_eq!(sim.progress().len(), 2, "{:?}", sim.progress());
    let (_, view) = api.dossier(PORTAL_TOKEN, code).await;
    assert_eq!(view["deliveries"].as_array().unwrap().len(), 2, "the dossier and the portal's 2: {view}");

    // A portal step still goes to DVCQG.
    let (status, body) = api.post_status(PORTAL_TOKEN, code, &item(code, 7, "20261122110000", "Rút hồ sơ")).await;
    assert_eq!(status, 201, "{body}");
    api.wait_all_delivered(code, 3, Duration::from_secs(10)).await;
    let at_dvcqg: Vec<String> = sim.progress().into_iter().map(|p| p.trang_thai).collect();
    assert_eq!(at_dvcqg, ["2", "4", "7"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_or_misdirected_status_posts_are_refused_and_store_nothing() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &Options::default())).await;
    let api = Api::new(&gw.url);
    let code = "000.00.31.H29-261122-0001";
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(code).to_string()).await.0, 202);

    let far = VnDateTime::from_utc(chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (code, json!({"MaHoSo": code, "TrangThai": "2"}), 422, "missing_field"),
        (code, json!({"MaHoSo": code, "TrangThai": "11", "ThoiDiemXuLy": "20261122083000"}), 422, "invalid_field"),
        (
            code,
            json!({"MaHoSo": code, "TrangThai": "2", "ThoiDiemXuLy": "20261122083000", "Extra": "x"}),
            422,
            "unknown_field",
        ),
        (code, item("000.00.31.H29-261122-0002", 2, "20261122083000", "x"), 422, "status_dossier_mismatch"),
        (code, item(code, 2, &far, "x"), 422, "status_time_in_future"),
        ("000.00.31.H29-261122-0009", item("000.00.31.H29-261122-0009", 2, "20261122083000", "x"), 404, "not_found"),
        ("not-a-code", item(code, 2, "20261122083000", "x"), 404, "not_found"),
    ];
    for (path_code, body, status, want) in cases {
        let (got, err) = api.post_status(PORTAL_TOKEN, path_code, &body).await;
        assert_eq!((got, error_code(&err)), (status, want), "{body}: {err}");
        assert!(err["error"]["correlation_id"].is_string());
    }
    let path = format!("/v1/dossiers/{code}/status");
    let raw = |body: &'static str, content_type: &'static str| api.post(PORTAL_TOKEN, &path, content_type, body);
    let (status, err) = raw("{\"MaHoSo\":", "application/json").await;
    assert_eq!((status, error_code(&err)), (400, "malformed_json"), "{err}");
    let (status, err) = raw("<x/>", "application/xml").await;
    assert_eq!((status, error_code(&err)), (415, "unsupported_media_type"), "{err}");
    let r = api
        .http
        .post(format!("{}/v1/dossiers/{code}/status", api.base))
        .json(&item(code, 2, "20261122083000", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = api.http.get(format!("{}/v1/dossiers/{code}/status", api.base)).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(count_rows(&gw.database(), "status_events"), 0);
    assert_eq!(count_rows(&gw.database(), "feed_entries"), 0);
}
