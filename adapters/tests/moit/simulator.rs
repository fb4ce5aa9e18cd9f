//! The simulator on its own, spoken to with raw HTTP: the token endpoint, MOIT's
//! answers and codes, the GETs, faults and control endpoints.

use std::time::Duration;

use adapters::moit::wire::MoitState;
use adapters::sim::Faults;
use serde_json::{json, Value};

use crate::support::*;

/// HTTP Basic credentials, if any.
type Auth<'a> = Option<(&'a str, &'a str)>;

fn http() -> reqwest::Client {
    client(Duration::from_secs(5))
}

async fn token_request(url: &str, auth: Auth<'_>, content_type: &str, body: &str) -> Raw {
    let mut req = http().post(format!("{url}/oauth2/token")).header("content-type", content_type).body(body.to_owned());
    if let Some((id, secret)) = auth {
        req = req.basic_auth(id, Some(secret));
    }
    raw(req).await
}

#[tokio::test]
async fn the_token_endpoint_speaks_rfc_6749() {
    let sim = simulator().await;
    let url = sim.url();
    let form = "application/x-www-form-urlencoded";
    let good = "grant_type=client_credentials&scope=hoso.submit+hoso.read";
    let r = token_request(&url, Some((CLIENT_ID, SECRET)), form, good).await;
    assert_eq!(r.status, 200);
    assert_eq!((r.body["token_type"].as_str(), r.body["expires_in"].as_u64()), (Some("Bearer"), Some(3600)));
    assert_eq!(r.body["scope"], "hoso.submit hoso.read");
    assert!(r.body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(r.header("cache-control"), Some("no-store"));

    let cases: [(Auth, &str, &str, u16, &str); 6] = [
        (Some((CLIENT_ID, "wrong")), form, good, 401, "invalid_client"),
        (None, form, good, 401, "invalid_client"),
        (Some((CLIENT_ID, SECRET)), form, "grant_type=password&username=a", 400, "unsupported_grant_type"),
        (Some((CLIENT_ID, SECRET)), form, "scope=hoso.submit", 400, "invalid_request"),
        (Some((CLIENT_ID, SECRET)), form, "grant_type=client_credentials&scope=admin", 400, "invalid_scope"),
        (
            Some((CLIENT_ID, SECRET)),
            "application/json",
            r#"{"grant_type":"client_credentials"}"#,
            400,
            "invalid_request",
        ),
    ];
    for (auth, content_type, body, status, error) in cases {
        let r = token_request(&url, auth, content_type, body).await;
        assert_eq!((r.status, r.body["error"].as_str()), (status, Some(error)), "{body}");
        if status == 401 {
            assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"moit\""));
        }
    }
    // Without a scope the client gets every scope it may have.
    let r = token_request(&url, Some((CLIENT_ID, SECRET)), form, "grant_type=client_credentials").await;
    assert_eq!(r.body["scope"], SCOPE);
    let stats = sim.stats();
    assert_eq!((stats.tokens_issued, stats.tokens_refused), (2, 6));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_agency_answers_with_its_own_codes() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let token = token(&http, &url, SCOPE).await;
    let body = body_coded("000.20.35.H56-260414-0001").to_string();

    let r = raw(http.post(format!("{url}{HO_SO}")).header("content-type", "application/json").body(body.clone())).await;
    assert_eq!((r.status, r.body["code"].as_str()), (401, Some("MOIT-AUTH-001")));
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"moit\""));
    let r = submit(&http, &url, "not-a-token", body.clone(), Some("k")).await;
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"moit\", error=\"invalid_token\""));
    let read_only = self::token(&http, &url, "hoso.read").await;
    let r = submit(&http, &url, &read_only, body.clone(), Some("k")).await;
    assert_eq!((r.status, r.body["code"].as_str()), (403, Some("MOIT-AUTH-003")));
    assert!(r.header("www-authenticate").unwrap().contains("insufficient_scope"));
    let r = submit(&http, &url, &token, body.clone(), None).await;
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("MOIT-REQ-002")));
    let r = raw(http
        .post(format!("{url}{HO_SO}"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "k-text")
        .body(body.clone()))
    .await;
    assert_eq!((r.status, r.body["code"].as_str()), (415, Some("MOIT-REQ-415")));
    let r = submit(&http, &url, &token, "{not json", Some("k-bad")).await;
    assert_eq!((r.status, r.body["code"].as_str()), (400, Some("MOIT-REQ-001")));
    let mut invalid = body_coded("000.20.35.H56-260414-0002");
    invalid["giayPhep"]["maSoThue"] = json!("42018");
    let r = raw(http
        .post(format!("{url}{HO_SO}"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("Idempotency-Key", "k-invalid")
        .header("X-Request-Id", "corr-9")
        .body(invalid.to_string()))
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["type"], "urn:moit:problem:validation");
    assert_eq!((r.body["field"].as_str(), r.body["requestId"].as_str()), (Some("giayPhep.maSoThue"), Some("corr-9")));
    assert!(!r.body.to_string().contains("42018"), "the answer never repeats the value");

    let created = submit(&http, &url, &token, body.clone(), Some("k1")).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.header("location"), Some("/api/v1/ho-so/000.20.35.H56-260414-0001"));
    assert_eq!(created.body["trangThai"], "DA_TIEP_NHAN");
    let again = submit(&http, &url, &token, body.clone(), Some("k1")).await;
    assert_eq!((again.status, &again.body), (201, &created.body), "a repeat gets the original answer");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let dup = submit(&http, &url, &token, body.clone(), Some("k2")).await;
    assert_eq!((dup.status, dup.body["code"].as_str()), (409, Some("MOIT-DUP-001")));
    sim.set_busy_next(1);
    let busy = submit(&http, &url, &token, body.clone(), Some("k3")).await;
    assert_eq!(
        (busy.status, busy.body["code"].as_str(), busy.header("retry-after")),
        (503, Some("MOIT-SYS-503"), Some("1"))
    );
    let dup_again = submit(&http, &url, &token, body, Some("k2")).await;
    assert_eq!(dup_again.body, dup.body, "refusals are remembered under their key too");

    assert_eq!(sim.received().len(), 1);
    let stats = sim.stats();
    assert_eq!((stats.accepted, stats.replayed, stats.unauthorized_unknown, stats.forbidden), (1, 2, 2, 1));
    let rejected: Vec<(&str, u64)> = stats.rejected.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        rejected,
        vec![
            ("MOIT-AUTH-001", 2),
            ("MOIT-AUTH-003", 1),
            ("MOIT-DUP-001", 1),
            ("MOIT-REQ-001", 1),
            ("MOIT-REQ-002", 1),
            ("MOIT-REQ-415", 1),
            ("MOIT-SYS-503", 1),
            ("MOIT-VAL-001", 1),
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn dossiers_and_licences_can_be_read_back() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let token = token(&http, &url, SCOPE).await;
    let get = |path: String| raw(http.get(format!("{url}{path}")).bearer_auth(&token));

    let r = get("/api/v1/giay-phep/15%2F2025%2FGPBLR-SCT".into()).await;
    assert_eq!((r.status, r.body["trangThai"].as_str()), (200, Some("CON_HIEU_LUC")));
    let r = get("/api/v1/giay-phep/99%2F2026%2FGPBLR-SCT".into()).await;
    assert_eq!((r.status, r.body["code"].as_str()), (404, Some("MOIT-NF-002")));
    let r = get("/api/v1/giay-phep/15/2025/GPBLR-SCT".into()).await;
    assert_eq!((r.status, r.body["code"].as_str()), (404, Some("MOIT-REQ-404")), "a licence number is one segment");
    let code = "000.20.35.H56-260414-0001";
    let r = get(format!("/api/v1/ho-so/{code}")).await;
    assert_eq!((r.status, r.body["code"].as_str()), (404, Some("MOIT-NF-001")));

    assert_eq!(submit(&http, &url, &token, body_coded(code).to_string(), Some("k")).await.status, 201);
    assert!(!sim.advance("000.20.35.H56-260414-0999", MoitState::DangThamDinh));
    for state in [MoitState::DangThamDinh, MoitState::YeuCauBoSung, MoitState::DaCapPhep] {
        assert!(sim.advance(code, state));
    }
    let r = get(format!("/api/v1/ho-so/{code}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.body["trangThai"].as_str(), r.body["loaiThuTuc"].as_str()),
        (Some("DA_CAP_PHEP"), Some("BAN_LE_RUOU"))
    );
    let states: Vec<&str> =
        r.body["lichSuXuLy"].as_array().unwrap().iter().map(|i| i["trangThai"].as_str().unwrap()).collect();
    assert_eq!(states, vec!["DA_TIEP_NHAN", "DANG_THAM_DINH", "YEU_CAU_BO_SUNG", "DA_CAP_PHEP"]);
    assert_eq!(r.body["ngayHenTra"], "2026-05-08T17:00:00+07:00", "a supplement request moves the due date");
    assert_eq!(r.body["lichSuXuLy"][2]["ngayHenTraMoi"], "2026-05-08T17:00:00+07:00");
    let number = sim.licence_of(code).expect("a licence was issued");
    assert_eq!(r.body["soGiayPhep"], number.as_str());
    let r = get(format!("/api/v1/giay-phep/{}", number.replace('/', "%2F"))).await;
    assert_eq!(
        (r.body["maHoSo"].as_str(), r.body["hieuLucTu"].as_str()),
        (Some(code), Some("2026-05-01T00:00:00+07:00"))
    );
    assert_eq!(r.body["tenThuongNhan"], "Công ty TNHH Thương mại Dịch vụ Hải Đăng Khánh Hòa");

    let no_licence_scope = self::token(&http, &url, "hoso.submit").await;
    let r = raw(http.get(format!("{url}/api/v1/giay-phep/x")).bearer_auth(&no_licence_scope)).await;
    assert_eq!(r.status, 403);
    let stats = sim.stats();
    assert_eq!((stats.dossier_lookups, stats.licence_lookups), (2, 3));
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let sim = simulator().await;
    let http = http();
    let r = raw(http.get(format!("{}{HO_SO}", sim.url()))).await;
    assert_eq!((r.status, r.body["code"].as_str()), (405, Some("MOIT-REQ-405")));
    let r = raw(http.delete(format!("{}/api/v1/giay-phep/x", sim.url()))).await;
    assert_eq!(r.status, 405);
    let r = raw(http.get(format!("{}/oauth2/token", sim.url()))).await;
    assert_eq!(r.status, 405);
    let r = raw(http.post(format!("{}/api/v2/ho-so", sim.url()))).await;
    assert_eq!((r.status, r.body["code"].as_str()), (404, Some("MOIT-REQ-404")));
    sim.shutdown().await;
}

#[tokio::test]
async fn expired_tokens_are_told_apart_from_unknown_ones() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    sim.set_token_ttl(Duration::from_millis(200));
    let r = token_request(
        &url,
        Some((CLIENT_ID, SECRET)),
        "application/x-www-form-urlencoded",
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(r.body["expires_in"], 1, "whole seconds, rounded up");
    let short = r.body["access_token"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = raw(http.get(format!("{url}/api/v1/giay-phep/x")).bearer_auth(&short)).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().contains("expired"));

    sim.set_token_ttl(Duration::from_secs(3600));
    let long = token(&http, &url, SCOPE).await;
    sim.expire_tokens();
    let r = raw(http.get(format!("{url}/api/v1/giay-phep/x")).bearer_auth(&long)).await;
    assert_eq!(r.status, 401);
    let stats = sim.stats();
    assert_eq!((stats.unauthorized_expired, stats.unauthorized_unknown), (2, 0));
    assert_eq!(sim.token_ttl(), Duration::from_secs(3600));
    sim.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_report_and_reset_and_faults_apply_to_token_requests_too() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let token = token(&http, &url, SCOPE).await;
    submit(&http, &url, &token, body_coded("000.20.35.H56-260414-0001").to_string(), Some("k")).await;

    let received: Value = http.get(format!("{url}/_sim/received")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (received[0]["ma_ho_so"].as_str(), received[0]["idempotency_key"].as_str()),
        (Some("000.20.35.H56-260414-0001"), Some("k"))
    );
    let stats: Value = http.get(format!("{url}/_sim/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (stats["accepted"].as_u64(), stats["tokens_issued"].as_u64(), stats["requests"].as_u64()),
        (Some(1), Some(1), Some(2))
    );

    sim.set_faults(Faults { fail_next: 1, ..Faults::default() });
    let r = token_request(
        &url,
        Some((CLIENT_ID, SECRET)),
        "application/x-www-form-urlencoded",
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(r.status, 503, "the token endpoint is part of the agency");

    let r = http.post(format!("{url}/_sim/reset")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(sim.received().is_empty());
    assert_eq!(sim.stats(), Default::default());
    let r = submit(&http, &url, &token, body_coded("000.20.35.H56-260414-0001").to_string(), Some("k")).await;
    assert_eq!(r.status, 401, "reset forgets tokens");
    let fresh = self::token(&http, &url, SCOPE).await;
    let r = raw(http.get(format!("{url}/api/v1/giay-phep/15%2F2025%2FGPBLR-SCT")).bearer_auth(&fresh)).await;
    assert_eq!(r.status, 200, "the seeded licences come back");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_hung_request_is_answered_once_hang_is_cleared() {
    let sim = simulator().await;
    sim.set_faults(Faults { hang: true, ..Faults::default() });
    let url = sim.url();
    let pending = tokio::spawn(async move { token(&http(), &url, SCOPE).await });
    while sim.stats().hung == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!pending.is_finished());
    sim.set_faults(Faults::default());
    let token = tokio::time::timeout(Duration::from_secs(5), pending).await.unwrap().unwrap();
    assert!(!token.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_example_request_is_accepted() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let token = token(&http, &url, SCOPE).await;
    let r = submit(&http, &url, &token, example("ho-so.request.json"), Some("k")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    sim.shutdown().await;
}
