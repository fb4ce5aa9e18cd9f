//! Signed dossiers over HTTP: XML signed by the gateway's signer and by the
//! independent `xmlsec1`, JSON with a detached JWS; signed receipts checked with
//! an independent JWS library (PyJWT) and with `lienthong verify`; and every
//! refusal with its own code, a metric, and nothing stored.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use schemas::c14n::Algorithm;
use schemas::dsig::{sign_xml, ReferenceStyle, XmlSignOptions};
use schemas::pki::SigningIdentity;

use crate::dev_pki::{dev_pki, DevPki};
use crate::support::*;

/// Options binding portal-h29 to the portal-hanoi certificate (by subject) and
/// portal-h49 to portal-hcm (by key), with the gateway's own signing key.
fn signing_options(pki: &DevPki, portal_policy: &str) -> Options {
    let hanoi_subject = pki.entry("portal-hanoi")["subject"].as_str().expect("subject").to_owned();
    let hcm_spki = pki.entry("portal-hcm")["spki_sha256"].as_str().expect("spki").to_owned();
    let (gw_key, _, gw_chain) = pki.files("lienthong-gateway");
    Options {
        portal_extra: format!(
            "signature = \"{portal_policy}\"\n[[members.signers]]\nsubject = \"{hanoi_subject}\"\n"
        ),
        portal_b_extra: format!("[[members.signers]]\nspki_sha256 = \"{hcm_spki}\"\n"),
        extra: format!(
            "[signatures]\ntrust_anchors = [\"{}\"]\ncrls = [\"{}\"]\nrequired_for_procedures = [\"2.000488\"]\nkey = \"{}\"\ncertificate_chain = \"{}\"\n",
            pki.roots().display(),
            pki.crls().display(),
            gw_key.display(),
            gw_chain.display()
        ),
        ..Options::default()
    }
}

fn identity(pki: &DevPki, name: &str) -> SigningIdentity {
    let (key, _, chain) = pki.files(name);
    SigningIdentity::load(&key, &chain).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn sign(pki: &DevPki, name: &str, xml: &str, reference: ReferenceStyle) -> String {
    let opts = XmlSignOptions { c14n: Algorithm::Exclusive { comments: false, inclusive_prefixes: vec![] }, reference };
    String::from_utf8(sign_xml(xml.as_bytes(), &identity(pki, name), &opts).expect("sign")).expect("utf-8")
}

async fn submit_jws(api: &Api, token: &str, body: &str, jws: &str) -> (u16, serde_json::Value) {
    let r = api
        .http
        .post(format!("{}/v1/dossiers", api.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("x-jws-signature", jws)
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

/// Signs with the independent xmlsec1 from a template appended to the root.
fn xmlsec1_sign(pki: &DevPki, name: &str, xml: &str, dir: &Path) -> String {
    let template = xml.replace(
        "</HoSo>",
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature></HoSo>"##,
    );
    let tpl = dir.join("template.xml");
    std::fs::write(&tpl, template).expect("template written");
    let (key, cert, _) = pki.files(name);
    let intermediate = pki.path(pki.entry(name)["issuer_file"].as_str().expect("issuer"));
    let out = Command::new("xmlsec1")
        .arg("--sign")
        .arg("--privkey-pem")
        .arg(format!("{},{},{}", key.display(), cert.display(), intermediate.display()))
        .arg(&tpl)
        .output()
        .expect("run xmlsec1 (Debian package xmlsec1)");
    assert!(out.status.success(), "xmlsec1 --sign failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Verifies a receipt's detached JWS with PyJWT: the payload re-attached as RFC
/// 7515 appendix F describes, the key taken from the x5c leaf.
fn pyjwt_verifies(body: &[u8], jws: &str, dir: &Path) -> Result<(), String> {
    std::fs::write(dir.join("receipt.json"), body).expect("receipt written");
    std::fs::write(dir.join("receipt.jws"), jws).expect("jws written");
    let script = r#"
import base64, json, sys, jwt
from cryptography import x509
d = sys.argv[1]
body = open(d + "/receipt.json", "rb").read()
h, p, s = open(d + "/receipt.jws").read().strip().split(".")
assert p == "", "the payload must be detached"
header = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))
leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
token = h + "." + base64.urlsafe_b64encode(body).rstrip(b"=").decode() + "." + s
out = jwt.api_jws.decode_complete(token, leaf.public_key(), algorithms=[header["alg"]])
assert out["payload"] == body
print("ok", header["alg"])
"#;
    let out = Command::new("python3").arg("-c").arg(script).arg(dir).output().expect("run python3");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_dossiers_are_accepted_and_receipts_are_signed() {
    let pki = dev_pki();
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &signing_options(&pki, "required"))).await;
    let api = Api::new(&gw.url);

    // XML signed by the gateway's own signer, with a reference to the root's Id.
    let xml = sign(&pki, "portal-hanoi", &xml_dossier("000.00.31.H29-261122-0101"), ReferenceStyle::RootId);
    let (status, receipt) = api.submit(PORTAL_TOKEN, "application/xml", xml).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(receipt["signed_by"]["format"], "xmldsig");
    assert_eq!(receipt["signed_by"]["algorithm"], "rsa-sha256");
    assert_eq!(receipt["signed_by"]["spki_sha256"], pki.entry("portal-hanoi")["spki_sha256"]);

    // XML signed by xmlsec1, an independent implementation.
    let xml = xmlsec1_sign(&pki, "portal-hanoi", &xml_dossier("000.00.31.H29-261122-0102"), dir.path());
    let (status, receipt) = api.submit(PORTAL_TOKEN, "application/xml", xml).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(receipt["signed_by"]["format"], "xmldsig");

    // JSON with a detached JWS by portal-hcm for portal-h49 (bound by key).
    let body = json_dossier("000.00.31.H29-261122-0103").to_string();
    let jws =
        schemas::jws::sign_detached(body.as_bytes(), &identity(&pki, "portal-hcm"), chrono::Utc::now().timestamp())
            .expect("sign");
    let r = api
        .http
        .post(format!("{}/v1/dossiers", api.base))
        .bearer_auth(PORTAL_B_TOKEN)
        .header("content-type", "application/json")
        .header("x-jws-signature", &jws)
        .body(body.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 202);
    let receipt_jws = r.headers().get("x-jws-signature").expect("the receipt is signed").to_str().unwrap().to_owned();
    let receipt_body = r.bytes().await.expect("body");
    let receipt: serde_json::Value = serde_json::from_slice(&receipt_body).expect("json");
    assert_eq!(receipt["signed_by"]["format"], "jws");
    assert_eq!(receipt["signed_by"]["algorithm"], "ecdsa-sha256");

    // The receipt's signature verifies with PyJWT, and fails over altered bytes.
    pyjwt_verifies(&receipt_body, &receipt_jws, dir.path()).expect("PyJWT verifies the gateway's receipt");
    let mut altered = receipt_body.to_vec();
    altered[10] ^= 1;
    assert!(pyjwt_verifies(&altered, &receipt_jws, dir.path()).is_err(), "PyJWT must refuse an altered receipt");

    // ... and with `lienthong verify`, offline.
    let receipt_file = dir.path().join("receipt.json");
    std::fs::write(&receipt_file, &receipt_body).unwrap();
    std::fs::write(dir.path().join("receipt.json.jws"), &receipt_jws).unwrap();
    let out = Command::new(bin())
        .arg("verify")
        .arg(&receipt_file)
        .arg("--trust")
        .arg(pki.roots())
        .arg("--crls")
        .arg(pki.crls())
        .output()
        .expect("lienthong verify runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("CN=lienthong-gateway"), "{text}");
    assert!(text.contains("result: VALID"), "{text}");

    // A resend of the same signed dossier gets the original receipt, signed again.
    let (status, again) = submit_jws(&api, PORTAL_B_TOKEN, &body, &jws).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["receipt_id"], receipt["receipt_id"]);

    for code in ["000.00.31.H29-261122-0101", "000.00.31.H29-261122-0102", "000.00.31.H29-261122-0103"] {
        api.wait_delivery(code, "delivered", Duration::from_secs(10)).await;
    }
    let (_, view) = api.dossier(OPERATOR_TOKEN, "000.00.31.H29-261122-0102").await;
    assert_eq!(view["dossier"]["owner"]["name"], "Trần Văn Bình", "the signed content is what was stored");
}

/// A signed XML dossier with one edit applied to its text.
fn edited(xml: &str, from: &str, to: &str) -> String {
    assert!(xml.contains(from), "{from:?} not in the signed document");
    xml.replacen(from, to, 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signature_refusal_has_its_code_a_metric_and_stores_nothing() {
    let pki = dev_pki();
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &signing_options(&pki, "required"))).await;
    let api = Api::new(&gw.url);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_to_an_agency_that_takes_signed_messages_carry_the_gateways_signature() {
    let pki = dev_pki();
    let sims = gateway::demo::Simulators::start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), "u", "s")
        .await
        .expect("simulators start");
    let url = |a: &str| sims.received().into_iter().find(|(n, _, _)| *n == a).map(|(_, u, _)| u).unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    let (gw_key, _, gw_chain) = pki.files("lienthong-gateway");
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
[store]
data_dir = "{data}"
[delivery]
poll_interval = "100ms"
backoff_initial = "100ms"
backoff_max = "500ms"
[[members]]
id = "portal-h29"
role = "portal"
token_sha256 = "{portal}"
[[members]]
id = "ops"
role = "operator"
token_sha256 = "{operator}"
[agencies.dvcqg]
kind = "dvcqg"
url = "{dvcqg}"
username = "u"
password = "s"
unit_code = "000.00.00.G22"
[agencies.moit]
kind = "moit"
url = "{moit}"
client_id = "u"
client_secret = "s"
scope = "hoso.submit hoso.read giayphep.read"
sign_requests = true
[signatures]
key = "{key}"
certificate_chain = "{chain}"
"#,
        data = dir.path().join("data").display(),
        portal = gateway::auth::hash_token(PORTAL_TOKEN),
        operator = gateway::auth::hash_token(OPERATOR_TOKEN),
        dvcqg = url("dvcqg"),
        moit = url("moit"),
        key = gw_key.display(),
        chain = gw_chain.display(),
    );
    let config = dir.path().join("lienthong.toml");
    std::fs::write(&config, text).unwrap();
    let gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    let body = std::fs::read(crate::dev_pki::repo_root().join("schemas/examples/ban-le-ruou.json")).unwrap();
    let code = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["MaHoSo"].as_str().unwrap().to_owned();
    let (status, receipt) = api.submit(PORTAL_TOKEN, "application/json", body).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(receipt["agency"], "moit");
    api.wait_all_delivered(&code, 2, Duration::from_secs(15)).await;

    let received = sims.moit.received();
    assert_eq!(received.len(), 1);
    let jws = received[0].signature.as_deref().expect("the delivery carries X-JWS-Signature");
    let store = schemas::pki::TrustStore::load(&[pki.roots()], schemas::pki::RevocationPolicy::Require).unwrap();
    store.reload_crls(&[pki.crls()]).unwrap();
    let opts = schemas::dsig::VerifyOptions::now();
    let v = schemas::jws::verify_detached(jws, received[0].raw_body.as_bytes(), &store, &opts)
        .expect("the gateway's signature over the exact delivered body verifies");
    assert_eq!(v.signer.cert.common_name.as_deref(), Some("lienthong-gateway"));
    let mut tampered = received[0].raw_body.clone().into_bytes();
    tampered[5] ^= 1;
    assert_eq!(schemas::jws::verify_detached(jws, &tampered, &store, &opts).unwrap_err().code(), "signature_invalid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xml_receipt_carries_the_gateways_xml_signature_that_xmlsec1_verifies() {
    let pki = dev_pki();
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &signing_options(&pki, "optional"))).await;
    let api = Api::new(&gw.url);
    let xml = sign(&pki, "portal-hanoi", &xml_dossier("000.00.31.H29-261122-0301"), ReferenceStyle::WholeDocument);
    let r = api
        .http
        .post(format!("{}/v1/dossiers", api.base))
        .bearer_auth(PORTAL_TOKEN)
        .header("content-type", "application/xml")
        .header("accept", "application/xml")
        .body(xml)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 202);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/xml"));
    let receipt = r.text().await.unwrap();
    assert!(receipt.contains("<DossierCode>000.00.31.H29-261122-0301</DossierCode>"), "{receipt}");
    assert!(receipt.contains("<Format>xmldsig</Format>"), "{receipt}");
    let file = dir.path().join("receipt.xml");
    std::fs::write(&file, &receipt).unwrap();

    // xmlsec1, trusting only the Government CA that issued the gateway's certificate.
    let out = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(pki.path("roots/government-ca.pem"))
        .arg(&file)
        .output()
        .expect("run xmlsec1");
    assert!(out.status.success(), "xmlsec1: {}", String::from_utf8_lossy(&out.stderr));
    // ... and refuses it once altered.
    let altered = dir.path().join("altered.xml");
    std::fs::write(
        &altered,
        receipt.replace("000.00.31.H29-261122-0301</DossierCode>", "000.00.31.H29-261122-0302</DossierCode>"),
    )
    .unwrap();
    let out = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--trusted-pem")
        .arg(pki.path("roots/government-ca.pem"))
        .arg(&altered)
        .output()
        .expect("run xmlsec1");
    assert!(!out.status.success(), "xmlsec1 must refuse an altered receipt");

    // `lienthong verify` agrees, step by step.
    let out = Command::new(bin())
        .arg("verify")
        .arg(&file)
        .arg("--trust")
        .arg(pki.roots())
        .arg("--crls")
        .arg(pki.crls())
        .output()
        .expect("lienthong verify runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("result: VALID"), "{text}");
    let out = Command::new(bin())
        .arg("verify")
        .arg(&altered)
        .arg("--trust")
        .arg(pki.roots())
        .arg("--crls")
        .arg(pki.crls())
        .output()
        .expect("lienthong verify runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("FAIL the content matches its digest"), "{text}");
    assert!(text.contains("result: INVALID (signature_digest_mismatch)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_takes_effect_at_the_next_crl_refresh_without_a_restart() {
    let shared = dev_pki();
    let dir = tempfile::tempdir().unwrap();
    // A private copy of the PKI, so that revoking does not touch the shared one.
    let copy = dir.path().join("pki");
    let out = Command::new("cp").arg("-r").arg(&shared.dir).arg(&copy).output().expect("cp");
    assert!(out.status.success());
    let ca_dir = copy.join("ca/national-old-signing");
    let cnf = std::fs::read_to_string(ca_dir.join("openssl.cnf")).unwrap();
    let dir_line = cnf.lines().find(|l| l.trim_start().starts_with("dir ")).expect("dir line").to_owned();
    let cnf_path = dir.path().join("ca.cnf");
    std::fs::write(&cnf_path, cnf.replacen(&dir_line, &format!("dir = {}", ca_dir.display()), 1)).unwrap();

    let sim = simulator().await;
    let mut opts = signing_options(&shared, "required");
    opts.extra = opts.extra.replace(&shared.dir.display().to_string(), &copy.display().to_string())
        + "crl_refresh = \"200ms\"\n";
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    let xml = sign(&shared, "portal-hanoi", &xml_dossier("000.00.31.H29-261122-0401"), ReferenceStyle::WholeDocument);
    let (status, body) = api.submit(PORTAL_TOKEN, "application/xml", xml).await;
    assert_eq!(status, 202, "{body}");

    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(["ca", "-batch", "-config"]).arg(&cnf_path).args(args).output().unwrap();
        assert!(out.status.success(), "openssl ca {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let cert = copy.join("members/portal-hanoi.cert.pem");
    openssl(&["-revoke", cert.to_str().unwrap(), "-crl_reason", "keyCompromise"]);
    let fresh = dir.path().join("fresh.crl.pem");
    openssl(&["-gencrl", "-crldays", "30", "-out", fresh.to_str().unwrap()]);
    // Replaced atomically, as a CRL download job would.
    std::fs::rename(&fresh, copy.join("crl/national-old-signing.crl.pem")).unwrap();

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut n = 402;
    loop {
        let code = format!("000.00.31.H29-261122-0{n}");
        let xml = sign(&shared, "portal-hanoi", &xml_dossier(&code), ReferenceStyle::WholeDocument);
        let (status, body) = api.submit(PORTAL_TOKEN, "application/xml", xml).await;
        if status == 422 {
            assert_eq!(body["error"]["code"], "certificate_revoked", "{body}");
            break;
        }
        assert_eq!(status, 202, "{body}");
        assert!(std::time::Instant::now() < deadline, "the revocation was not picked up");
        tokio::time::sleep(Duration::from_millis(100)).await;
        n += 1;
    }
    let metrics = api.http.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("lienthong_crl_reloads_total{result=\"ok\"}")),
        "scheduled reloads are counted: {metrics}"
    );
    // Refused signed dossiers stored nothing: only those accepted before are there.
    let stored = count_rows(&gw.database(), "dossiers");
    assert_eq!(stored, i64::from(n - 401), "one dossier per 202");
}

fn lienthong(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new(bin()).args(args).output().expect("lienthong runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn lienthong_sign_output_verifies_with_xmlsec1_and_lienthong_verify_explains_time() {
    let pki = dev_pki();
    let dir = tempfile::tempdir().unwrap();
    let example = crate::dev_pki::repo_root().join("schemas/examples/khai-tu.xml");
    let (key, _, chain) = pki.files("portal-hanoi");
    for (alg, c14n, reference) in
        [("rsa-sha256", "exc", "whole"), ("rsa-sha512", "inc", "id"), ("rsa-sha384", "inc-comments", "whole")]
    {
        let signed = dir.path().join(format!("{alg}-{c14n}.xml"));
        let (ok, text) = lienthong(&[
            "sign".as_ref(),
            example.as_os_str(),
            "--key".as_ref(),
            key.as_os_str(),
            "--chain".as_ref(),
            chain.as_os_str(),
            "--algorithm".as_ref(),
            alg.as_ref(),
            "--c14n".as_ref(),
            c14n.as_ref(),
            "--reference".as_ref(),
            reference.as_ref(),
            "-o".as_ref(),
            signed.as_os_str(),
        ]);
        assert!(ok, "{text}");
        let out = Command::new("xmlsec1")
            .args(["--verify", "--id-attr:Id", "urn:lienthong:hoso:1:HoSo", "--trusted-pem"])
            .arg(pki.path("roots/national-root-old.pem"))
            .arg(&signed)
            .output()
            .expect("run xmlsec1");
        assert!(out.status.success(), "{alg} {c14n} {reference}: {}", String::from_utf8_lossy(&out.stderr));
    }

    // A JWS made while the signer's certificate was valid (iat in 2020) by a key
    // whose certificate has since expired: refused now, valid as of then.
    let (key, _, chain) = pki.files("expired");
    let body = crate::dev_pki::repo_root().join("schemas/examples/khai-sinh.json");
    let copy = dir.path().join("khai-sinh.json");
    std::fs::copy(&body, &copy).unwrap();
    let id = schemas::pki::SigningIdentity::load(&key, &chain).unwrap();
    let iat = chrono::DateTime::parse_from_rfc3339("2020-06-01T00:00:00Z").unwrap().timestamp();
    let jws = schemas::jws::sign_detached(&std::fs::read(&copy).unwrap(), &id, iat).unwrap();
    std::fs::write(dir.path().join("khai-sinh.json.jws"), &jws).unwrap();
    let verify_at = |at: Option<&str>| {
        let mut c = Command::new(bin());
        c.arg("verify").arg(&copy).arg("--trust").arg(pki.roots()).arg("--best-effort-revocation");
        if let Some(at) = at {
            c.args(["--at", at]);
        }
        let out = c.output().expect("lienthong runs");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (ok, text) = verify_at(None);
    assert!(!ok, "{text}");
    assert!(text.contains("result: INVALID (certificate_expired)"), "{text}");
    let (ok, text) = verify_at(Some("2020-06-02T00:00:00Z"));
    assert!(ok, "{text}");
    assert!(text.contains("result: VALID"), "{text}");
    // A claimed signing time after the verification time is refused.
    let (ok, text) = verify_at(Some("2020-05-01T00:00:00Z"));
    assert!(!ok && text.contains("signature_time_in_future"), "{text}");
}
