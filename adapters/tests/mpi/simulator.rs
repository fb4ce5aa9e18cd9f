//! The simulator on its own, spoken to with raw SOAP: security, envelope checks,
//! replays and control endpoints.

use std::time::Duration;

use adapters::mpi::encode::encode_submit;
use adapters::mpi::wire::{Operation, SERVICE_PATH};
use adapters::mpi::UsernameToken;
use chrono::Utc;
use serde_json::Value;

use crate::support::*;

fn http() -> reqwest::Client {
    client(Duration::from_secs(5))
}

/// The golden minimal request's payload.
fn minimal_payload() -> String {
    body_payload(&read("dossier-minimal.request.expected.xml"))
}

#[tokio::test]
async fn ws_security_is_checked_on_every_request() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let p = minimal_payload();
    let op = Operation::Submit;
    let mid = "urn:lienthong:idempotency:sec";
    let stale = UsernameToken::new(USER, PASSWORD, [7; 16], Utc::now() - chrono::Duration::minutes(6));
    let future = UsernameToken::new(USER, PASSWORD, [8; 16], Utc::now() + chrono::Duration::minutes(6));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("wrong password", soap_with(mid, &fresh_token(), "nope", &p), "MPI-001"),
        ("stale created", soap_with(mid, &stale, PASSWORD, &p), "MPI-002"),
        ("created in the future", soap_with(mid, &future, PASSWORD, &p), "MPI-002"),
        ("no security header", soap(mid, &p).replace_security(""), "MPI-001"),
        ("password digest", soap(mid, &p).replace_bytes("#PasswordText", "#PasswordDigest"), "MPI-001"),
    ];
    for (what, body, code) in cases {
        let (status, answer) = post_soap(&http, &url, op, body, &[]).await;
        assert_eq!((status, fault_code(&answer).as_deref()), (500, Some(code)), "{what}: {answer}");
        assert!(answer.contains("<faultcode>soap:Client</faultcode>"), "{what}");
    }
    let token = fresh_token();
    let body = soap_with(mid, &token, PASSWORD, &p);
    assert_eq!(post_soap(&http, &url, op, body.clone(), &[]).await.0, 200);
    let (_, answer) = post_soap(&http, &url, op, body, &[]).await;
    assert_eq!(fault_code(&answer).as_deref(), Some("MPI-002"), "a nonce is used once: {answer}");
    let stats = sim.stats();
    assert_eq!((stats.rejected.get("MPI-001"), stats.rejected.get("MPI-002")), (Some(&3), Some(&3)));
    assert_eq!(sim.received().len(), 1);
    sim.shutdown().await;
}

/// Byte-level edits of a request, for the cases above.
trait Edit {
    fn replace_bytes(self, from: &str, to: &str) -> Vec<u8>;
    fn replace_security(self, to: &str) -> Vec<u8>;
}

impl Edit for Vec<u8> {
    fn replace_bytes(self, from: &str, to: &str) -> Vec<u8> {
        let text = String::from_utf8(self).unwrap();
        assert!(text.contains(from), "{from}");
        text.replacen(from, to, 1).into_bytes()
    }

    fn replace_security(self, to: &str) -> Vec<u8> {
        let text = String::from_utf8(self).unwrap();
        let (a, b) = (text.find("<wsse:Security").unwrap(), text.find("</wsse:Security>").unwrap());
        format!("{}{to}{}", &text[..a], &text[b + "</wsse:Security>".len()..]).into_bytes()
    }
}

#[tokio::test]
async fn envelope_problems_are_mpi_100_or_http_errors() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let p = minimal_payload();
    let op = Operation::Submit;
    let mid = "urn:lienthong:idempotency:env";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not xml", b"{\"MaHoSo\": 1}".to_vec()),
        ("doctype", soap(mid, &p).replace_bytes("<soap:Envelope", "<!DOCTYPE x [<!ENTITY e \"boom\">]><soap:Envelope")),
        ("latin-1", soap(mid, &p).replace_bytes("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"")),
        (
            "no body",
            soap(mid, &p).replace_bytes("<soap:Body>", "<soap:Bodi>").replace_bytes("</soap:Body>", "</soap:Bodi>"),
        ),
        ("unknown operation", soap(mid, "<XoaHoSo xmlns=\"http://dangkykinhdoanh.gov.vn/ws/dkdn/v1\"/>")),
        (
            "operation outside the namespace",
            soap(mid, &p.replacen("xmlns=\"http://dangkykinhdoanh", "xmlns=\"http://example", 1)),
        ),
        (
            "no message id",
            soap(mid, &p).replace_bytes("<wsa:MessageID>urn:lienthong:idempotency:env</wsa:MessageID>", ""),
        ),
    ];
    for (what, body) in cases {
        let (status, answer) = post_soap(&http, &url, op, body, &[]).await;
        assert_eq!((status, fault_code(&answer).as_deref()), (500, Some("MPI-100")), "{what}: {answer}");
    }
    let wrong_action = post_soap(&http, &url, Operation::LookupDossier, soap(mid, &p), &[]).await;
    assert_eq!(fault_code(&wrong_action.1).as_deref(), Some("MPI-100"), "SOAPAction must match");
    let key_mismatch = post_soap(&http, &url, op, soap(mid, &p), &[("Idempotency-Key", "other")]).await;
    assert_eq!(fault_code(&key_mismatch.1).as_deref(), Some("MPI-100"), "Idempotency-Key must match MessageID");

    let soap12 = soap(mid, &p)
        .replace_bytes("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope");
    let (status, answer) = post_soap(&http, &url, op, soap12, &[]).await;
    assert_eq!(status, 500);
    assert!(answer.contains("<faultcode>soap:VersionMismatch</faultcode>"), "{answer}");

    let path = format!("{url}{SERVICE_PATH}");
    assert_eq!(http.get(&path).send().await.unwrap().status(), 405);
    assert_eq!(http.post(format!("{url}/other")).send().await.unwrap().status(), 404);
    let json = http.post(&path).header("content-type", "application/json").body("{}").send().await.unwrap();
    assert_eq!(json.status(), 415);
    assert!(sim.received().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_repeat_gets_the_same_bytes_and_control_endpoints_report_and_reset() {
    let sim = simulator().await;
    let (http, url) = (http(), sim.url());
    let d = dossier("dossier-minimal.json");
    let send = |key: &'static str| {
        let body = encode_submit(&d, key, Some(&fresh_token())).unwrap();
        let (http, url) = (http.clone(), url.clone());
        async move {
            post_soap(&http, &url, Operation::Submit, body, &[("Idempotency-Key", key), ("X-Request-Id", "r-1")]).await
        }
    };
    let first = send("key-1").await;
    assert_eq!(first.0, 200);
    assert!(first.1.contains("<TrangThai>DA_TIEP_NHAN</TrangThai>"), "{}", first.1);
    assert_eq!(send("key-1").await, first, "a repeat gets the original answer, byte for byte");

    let received: Value = http.get(format!("{url}/_sim/received")).send().await.unwrap().json().await.unwrap();
    assert_eq!(received.as_array().unwrap().len(), 1);
    assert_eq!(received[0]["ma_ho_so"], "000.00.31.H29-260609-0001");
    assert_eq!(received[0]["idempotency_key"], "key-1");
    assert_eq!(received[0]["correlation_id"], "r-1");
    assert_eq!(received[0]["request"]["DangKyDoanhNghiep"]["LoaiHinhDoanhNghiep"], "DNTN");
    let stats: Value = http.get(format!("{url}/_sim/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (stats["accepted"].as_u64(), stats["replayed"].as_u64(), stats["requests"].as_u64()),
        (Some(1), Some(1), Some(2))
    );

    assert_eq!(http.post(format!("{url}/_sim/reset")).send().await.unwrap().status(), 204);
    assert!(sim.received().is_empty());
    assert_eq!(sim.stats(), Default::default());
    assert_eq!(send("key-1").await.0, 200, "after a reset the dossier is new again");
    sim.shutdown().await;
}
