//! The accept path: both dialects accepted and delivered, every refusal with its
//! status and code and nothing stored, idempotent resends, read authorization.

use std::time::Duration;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_xml_dossiers_are_accepted_and_delivered_in_dvcqg_format() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &Options::default())).await;
    let api = Api::new(&gw.url);

    let (status, receipt) =
        api.submit(PORTAL_TOKEN, "application/json", json_dossier("000.00.31.H29-261122-0001").to_string()).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(receipt["dossier_code"], "000.00.31.H29-261122-0001");
    assert_eq!(receipt["agency"], "dvcqg");
    assert_eq!(receipt["sender"], "portal-h29");
    assert_eq!(receipt["receipt_id"].as_str().unwrap().len(), 36);
    assert!(receipt["accepted_at"].as_str().unwrap().ends_with("+07:00"));

    let xml = xml_dossier("G09.20-20261122-0000042");
    let (status, xml_receipt) = api.submit(PORTAL_TOKEN, "application/xml; charset=utf-8", xml.clone()).await;
    assert_eq!(status, 202, "{xml_receipt}");
    let want_sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(xml.as_bytes()))
    };
    assert_eq!(xml_receipt["body_sha256"], want_sha, "the receipt commits to the exact bytes received");

    api.wait_delivery("000.00.31.H29-261122-0001", "delivered", Duration::from_secs(10)).await;
    let view = api.wait_delivery("G09.20-20261122-0000042", "delivered", Duration::from_secs(10)).await;
    assert_eq!(view["dossier"]["owner"]["name"], "Trần Văn Bình");
    assert_eq!(view["dossier"]["received_at"], "2026-11-22T09:15:00+07:00");
    assert_eq!(view["deliveries"][0]["attempts"], 1);

    let received = sim.received();
    assert_eq!(received.len(), 2);
    let by_code = |c: &str| received.iter().find(|r| r.ma_ho_so == c).unwrap_or_else(|| panic!("{c} not at simulator"));
    let json_at_sim = &by_code("000.00.31.H29-261122-0001").dossier;
    assert_eq!(json_at_sim["NgayHenTra"], "20261125170000", "DVCQG dates are yyyyMMddHHmmss");
    assert_eq!(json_at_sim["KenhThucHien"], "2");
    assert_eq!(json_at_sim["DanhSachLePhi"][0]["Gia"], "8000", "every DVCQG field is a string");
    let xml_at_sim = &by_code("G09.20-20261122-0000042").dossier;
    assert_eq!(xml_at_sim["NgayTiepNhan"], "20261122091500");
    assert_eq!(xml_at_sim["ChuHoSo"], "Trần Văn Bình");
    assert_eq!(xml_at_sim["Email"], "", "absent values are empty strings");
    for r in &received {
        assert!(!r.idempotency_key.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_its_status_and_code_and_stores_nothing() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(
        dir.path(),
        &sim.url(),
        &Options { max_body_bytes: 4096, ..Options::default() },
    ))
    .await;
    let api = Api::new(&gw.url);
    let code = "000.00.31.H29-261122-0100";
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut d = json_dossier(code);
        f(&mut d);
        d.to_string()
    };
    let padding = "x".repeat(2000);
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("malformed JSON", "application/json", "{\"MaHoSo\": ".into(), 400, "malformed_json"),
        ("JSON array", "application/json", "[]".into(), 400, "malformed_json"),
        (
            "malformed XML",
            "application/xml",
            "<HoSo xmlns='urn:lienthong:hoso:1'><MaHoSo>".into(),
            400,
            "malformed_xml",
        ),
        (
            "DOCTYPE",
            "application/xml",
            format!(
                "<!DOCTYPE HoSo [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>{}",
                xml_dossier(code).split_once("?>").unwrap().1
            ),
            400,
            "xml_doctype_forbidden",
        ),
        ("wrong XML root", "application/xml", "<Dossier/>".into(), 422, "xml_wrong_root"),
        ("text/plain", "text/plain", "hồ sơ".into(), 415, "unsupported_media_type"),
        ("latin-1 charset", "application/json; charset=iso-8859-1", with(&|_| {}), 415, "unsupported_media_type"),
        (
            "missing owner",
            "application/json",
            with(&|d| {
                d.as_object_mut().unwrap().remove("ChuHoSo");
            }),
            422,
            "missing_field",
        ),
        ("bad dossier code", "application/json", with(&|d| d["MaHoSo"] = "HS-2026-1".into()), 422, "invalid_field"),
        ("bad procedure code", "application/json", with(&|d| d["MaTTHC"] = "TTHC-1".into()), 422, "invalid_field"),
        ("bad channel", "application/json", with(&|d| d["KenhThucHien"] = "9".into()), 422, "invalid_field"),
        (
            "30 February",
            "application/json",
            with(&|d| d["NgayTiepNhan"] = "20260230080000".into()),
            422,
            "invalid_date",
        ),
        (
            "due before received",
            "application/json",
            with(&|d| d["NgayHenTra"] = "20261121080000".into()),
            422,
            "impossible_dates",
        ),
        (
            "unknown field",
            "application/json",
            with(&|d| d["NgayHentra"] = "20261125170000".into()),
            422,
            "unknown_field",
        ),
        (
            "duplicate key",
            "application/json",
            with(&|_| {}).replacen('{', "{\"MaHoSo\":\"000.00.31.H29-261122-0101\",", 1),
            422,
            "duplicate_field",
        ),
        ("no route", "application/json", with(&|d| d["MaTTHC"] = "3.000999".into()), 422, "no_route"),
        ("unknown target agency", "application/json", with(&|d| d["CoQuanDich"] = "mpi".into()), 422, "unknown_agency"),
        (
            "too large",
            "application/json",
            with(&|d| d["GhiChu"] = format!("{padding}{padding}{padding}").into()),
            413,
            "payload_too_large",
        ),
    ];
    for (name, content_type, body, status, code_want) in &cases {
        let (got, body) = api.submit(PORTAL_TOKEN, content_type, body.clone()).await;
        assert_eq!(got, *status, "{name}: {body}");
        assert_eq!(body["error"]["code"], *code_want, "{name}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}");
        assert!(body["error"]["correlation_id"].as_str().is_some_and(|m| !m.is_empty()), "{name}");
        assert!(!body.to_string().contains("079190001234"), "{name}: error bodies never echo personal data");
    }
    // Field-level details name the field.
    let (_, body) =
        api.submit(PORTAL_TOKEN, "application/json", with(&|d| d["NgayHenTra"] = "20261121080000".into())).await;
    assert_eq!(body["error"]["details"][0]["field"], "NgayHenTra");

    // Authentication and role.
    let (status, body) = api.submit("wrong-token", "application/json", with(&|_| {})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthenticated")));
    let r = api
        .http
        .post(format!("{}/v1/dossiers", gw.url))
        .header("content-type", "application/json")
        .body(with(&|_| {}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"lienthong\"");
    let (status, body) = api.submit(MINISTRY_TOKEN, "application/json", with(&|_| {})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));

    // A declared length over the limit is refused before the body is read: the
    // gateway answers although the client never sends the body it announced.
    let answer = tokio::task::spawn_blocking({
        let addr = gw.url.trim_start_matches("http://").to_owned();
        move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            write!(s, "POST /v1/dossiers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PORTAL_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{{").unwrap();
            let mut buf = [0u8; 512];
            let n = s.read(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        }
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Nothing of any of this was stored or delivered.
    assert_eq!(count_rows(&gw.database(), "dossiers"), 0);
    assert_eq!(count_rows(&gw.database(), "deliveries"), 0);
    assert_eq!(api.dossier(OPERATOR_TOKEN, code).await.0, 404);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sim.received().is_empty());

    // Each refusal was counted under its code.
    let metrics = api.http.get(format!("{}/metrics", gw.url)).send().await.unwrap().text().await.unwrap();
    for code in [
        "malformed_json",
        "xml_doctype_forbidden",
        "impossible_dates",
        "payload_too_large",
        "no_route",
        "unauthenticated",
    ] {
        assert!(
            metrics.lines().any(|l| l.starts_with("lienthong_dossiers_refused_total") && l.contains(&format!("reason=\"{code}\""))),
            "no refusal metric for {code}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_returns_the_original_receipt_and_a_changed_dossier_conflicts() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &Options::default())).await;
    let api = Api::new(&gw.url);
    let code = "000.00.31.H29-261122-0200";
    let body = json_dossier(code);

    let (s1, first) = api.submit(PORTAL_TOKEN, "application/json", body.to_string()).await;
    assert_eq!(s1, 202);
    let (s2, second) = api.submit(PORTAL_TOKEN, "application/json", serde_json::to_string_pretty(&body).unwrap()).await;
    assert_eq!(s2, 200, "same content, other formatting: {second}");
    assert_eq!(first, second, "the original receipt, unchanged");

    let mut changed = body.clone();
    changed["ChuHoSo"] = "Lê Văn Khác".into();
    let (s3, conflict) = api.submit(PORTAL_TOKEN, "application/json", changed.to_string()).await;
    assert_eq!((s3, conflict["error"]["code"].as_str()), (409, Some("dossier_conflict")));
    let (s4, other_sender) = api.submit(PORTAL_B_TOKEN, "application/json", body.to_string()).await;
    assert_eq!((s4, other_sender["error"]["code"].as_str()), (409, Some("dossier_conflict")));

    api.wait_delivery(code, "delivered", Duration::from_secs(10)).await;
    assert_eq!(count_rows(&gw.database(), "dossiers"), 1);
    assert_eq!(count_rows(&gw.database(), "deliveries"), 1);
    assert_eq!(sim.received().len(), 1);
    let (_, view) = api.dossier(OPERATOR_TOKEN, code).await;
    assert_eq!(view["dossier"]["owner"]["name"], "Nguyễn Thị Hồng Nhung", "the conflicting content changed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_sender_the_target_agency_and_operators_read_a_dossier() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &Options::default())).await;
    let api = Api::new(&gw.url);
    let code = "000.00.31.H29-261122-0300";
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(code).to_string()).await.0, 202);

    for token in [PORTAL_TOKEN, MINISTRY_TOKEN, OPERATOR_TOKEN] {
        let (status, body) = api.dossier(token, code).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["dossier"]["code"], code);
        assert!(body["history"].is_array());
    }
    for token in [PORTAL_B_TOKEN, OTHER_MINISTRY_TOKEN] {
        let (status, body) = api.dossier(token, code).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    }
    assert_eq!(api.dossier("nobody", code).await.0, 401);
    assert_eq!(api.dossier(OPERATOR_TOKEN, "000.00.31.H29-261122-0399").await.0, 404);
    assert_eq!(api.dossier(OPERATOR_TOKEN, "not-a-code").await.0, 404);
}
