//! Every refusal of a signed (or unsigned) dossier has its own code, is counted
//! in the metrics, and stores nothing.

use schemas::dsig::ReferenceStyle;

use super::{identity, sign, signed_gateway, submit_jws, SignedGateway};
use crate::support::*;

/// A signed XML dossier with one edit applied to its text.
fn edited(xml: &str, from: &str, to: &str) -> String {
    assert!(xml.contains(from), "{from:?} not in the signed document");
    xml.replacen(from, to, 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signature_refusal_has_its_code_a_metric_and_stores_nothing() {
    let SignedGateway { gw, api, sim: _sim, dir: _dir, pki } = signed_gateway("required").await;

    let base = xml_dossier("000.00.31.H29-261122-0201");
    let good = sign(&pki, "portal-hanoi", &base, ReferenceStyle::WholeDocument);
    let by_id = sign(&pki, "portal-hanoi", &base, ReferenceStyle::RootId);
    let sig_start = good.find("<ds:Signature").expect("signature");
    let sig_end = good.find("</ds:Signature>").expect("end") + "</ds:Signature>".len();
    let signature = &good[sig_start..sig_end];
    let without_sig = format!("{}{}", &good[..sig_start], &good[sig_end..]);
    let reference = {
        let a = good.find("<ds:Reference").unwrap();
        let b = good.find("</ds:Reference>").unwrap() + "</ds:Reference>".len();
        good[a..b].to_owned()
    };
    let signed_by = |who: &str| sign(&pki, who, &base, ReferenceStyle::WholeDocument);
    let method = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    let digest = "http://www.w3.org/2001/04/xmlenc#sha256";
    let exc = r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#;

    let xml_cases: Vec<(&str, String)> = vec![
        ("signature_digest_mismatch", edited(&good, "Trần Văn Bình", "Trần Văn Bính")),
        // SignedInfo canonicalised another way than it was signed.
        (
            "signature_invalid",
            edited(
                &good,
                r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
                r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>"#,
            ),
        ),
        ("signature_invalid", {
            // SignedInfo altered to fit altered content: the digest matches, the signature does not.
            let altered = edited(&without_sig, "Trần Văn Bình", "Trần Văn Bính");
            let resigned = sign(&pki, "portal-hanoi", &altered, ReferenceStyle::WholeDocument);
            let new_digest = between(&resigned, "<ds:DigestValue>", "</ds:DigestValue>");
            let old_digest = between(&good, "<ds:DigestValue>", "</ds:DigestValue>");
            edited(&edited(&good, "Trần Văn Bình", "Trần Văn Bính"), &old_digest, &new_digest)
        }),
        ("signature_misplaced", edited(&without_sig, "</DanhSachLePhi>", &format!("{signature}</DanhSachLePhi>"))),
        ("signature_multiple", edited(&good, "</HoSo>", &format!("{signature}</HoSo>"))),
        ("signature_duplicate_id", edited(&by_id, "<MaHoSo>", r#"<MaHoSo Id="hs-1">"#)),
        ("signature_multiple_references", edited(&good, "</ds:Reference>", &format!("</ds:Reference>{reference}"))),
        ("signature_reference_not_root", {
            let decoy = edited(&by_id, "<MaHoSo>", r#"<MaHoSo Id="decoy">"#);
            edited(&decoy, r##"URI="#hs-1""##, r##"URI="#decoy""##)
        }),
        ("signature_misplaced", {
            // Classic wrapping: the signed original tucked under a new root.
            let inner = good.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
            format!(
                r#"<HoSo xmlns="urn:lienthong:hoso:1"><MaHoSo>000.00.31.H29-261122-0299</MaHoSo><Goc>{inner}</Goc></HoSo>"#
            )
        }),
        ("signature_reference_external", edited(&good, r#"URI="""#, r#"URI="http://attacker.example/hoso.xml""#)),
        ("signature_algorithm_sha1", edited(&good, method, "http://www.w3.org/2000/09/xmldsig#rsa-sha1")),
        ("signature_algorithm_sha1", edited(&good, digest, "http://www.w3.org/2000/09/xmldsig#sha1")),
        ("signature_algorithm_md5", edited(&good, method, "http://www.w3.org/2001/04/xmldsig-more#rsa-md5")),
        ("signature_algorithm_hmac", edited(&good, method, "http://www.w3.org/2000/09/xmldsig#hmac-sha1")),
        ("signature_algorithm_dsa", edited(&good, method, "http://www.w3.org/2009/xmldsig11#dsa-sha256")),
        ("signature_algorithm_unknown", edited(&good, method, "urn:example:quantum")),
        (
            "signature_transform_xpath",
            edited(
                &good,
                exc,
                r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>1</ds:XPath></ds:Transform>"#,
            ),
        ),
        (
            "signature_transform_xslt",
            edited(&good, exc, r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>"#),
        ),
        (
            "signature_transform_unsupported",
            edited(&good, exc, r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#base64"/>"#),
        ),
        ("certificate_untrusted", signed_by("untrusted-leaf")),
        ("certificate_expired", signed_by("expired")),
        ("certificate_not_yet_valid", signed_by("not-yet-valid")),
        ("certificate_revoked", signed_by("portal-revoked")),
        ("certificate_weak_algorithm", signed_by("sha1-signed")),
        ("certificate_wrong_usage", signed_by("no-digital-signature")),
        ("signer_not_bound", signed_by("portal-hcm")),
        ("signature_required", base.clone()),
        ("xml_doctype_forbidden", edited(&good, "<HoSo", "<!DOCTYPE HoSo [<!ENTITY x \"y\">]><HoSo")),
    ];
    let mut expected_refusals = 0;
    for (code, body) in &xml_cases {
        let (status, err) = api.submit(PORTAL_TOKEN, "application/xml", body.clone()).await;
        let want_status = if code.starts_with("xml_") { 400 } else { 422 };
        assert_eq!((status, err["error"]["code"].as_str().unwrap_or_default()), (want_status, *code), "{err}");
        assert!(err["error"]["correlation_id"].is_string());
        expected_refusals += 1;
    }

    // JWS: over different bytes, by an unbound signer, and unsigned for a
    // procedure that requires a signature.
    let body = json_dossier("000.00.31.H29-261122-0202").to_string();
    let hcm_jws =
        schemas::jws::sign_detached(body.as_bytes(), &identity(&pki, "portal-hcm"), chrono::Utc::now().timestamp())
            .expect("sign");
    let other = body.replace("Nguyễn Thị Hồng Nhung", "Nguyễn Thị Hồng Nhùng");
    let mut procedure_bound = json_dossier("000.00.31.H29-261122-0203");
    procedure_bound["MaTTHC"] = "2.000488".into();
    let jws_cases = [
        ("signature_invalid", PORTAL_B_TOKEN, other.clone(), Some(hcm_jws.clone())),
        ("signer_not_bound", PORTAL_TOKEN, body.clone(), Some(hcm_jws.clone())),
        ("signature_malformed", PORTAL_B_TOKEN, body.clone(), Some("not-a-jws".to_owned())),
        ("signature_required", PORTAL_B_TOKEN, procedure_bound.to_string(), None),
    ];
    for (code, token, body, jws) in &jws_cases {
        let (status, err) = match jws {
            Some(j) => submit_jws(&api, token, body, j).await,
            None => api.submit(token, "application/json", body.clone()).await,
        };
        assert_eq!((status, err["error"]["code"].as_str().unwrap_or_default()), (422, *code), "{err}");
        expected_refusals += 1;
    }

    // Nothing of it was stored; every refusal was counted.
    assert_eq!(count_rows(&gw.database(), "dossiers"), 0);
    let metrics = api.http.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    let lines = prometheus_parse::Scrape::parse(metrics.lines().map(|l| Ok(l.to_owned()))).expect("metrics parse");
    let refused: f64 = lines
        .samples
        .iter()
        .filter(|s| s.metric == "lienthong_signature_verifications_total" && s.labels.get("result") != Some("valid"))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) => v,
            _ => 0.0,
        })
        .sum();
    // The DOCTYPE case is refused while reading the XML, still as a verification outcome.
    assert_eq!(refused as usize, expected_refusals, "{metrics}");
    let revoked = lines.samples.iter().any(|s| {
        s.metric == "lienthong_signature_verifications_total" && s.labels.get("result") == Some("certificate_revoked")
    });
    assert!(revoked);

    // After all of that, the genuine document is still accepted.
    let (status, receipt) = api.submit(PORTAL_TOKEN, "application/xml", good).await;
    assert_eq!(status, 202, "{receipt}");
}

fn between(s: &str, a: &str, b: &str) -> String {
    let i = s.find(a).expect("start") + a.len();
    let j = s[i..].find(b).expect("end") + i;
    s[i..j].to_owned()
}
