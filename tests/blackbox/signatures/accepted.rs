//! Signed dossiers accepted over HTTP (XML signed by the gateway's signer and by
//! the independent `xmlsec1`, JSON with a detached JWS), and signed receipts,
//! in JSON and in XML, checked with PyJWT, `xmlsec1` and `lienthong verify`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use schemas::dsig::ReferenceStyle;

use super::{identity, sign, signed_gateway, submit_jws, SignedGateway};
use crate::dev_pki::DevPki;
use crate::support::*;

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

/// `lienthong verify FILE` against the dev roots and CRLs: whether it passed, and
/// its explanation.
fn verify_offline(pki: &DevPki, file: &Path) -> (bool, String) {
    let out = Command::new(bin())
        .arg("verify")
        .arg(file)
        .arg("--trust")
        .arg(pki.roots())
        .arg("--crls")
        .arg(pki.crls())
        .output()
        .expect("lienthong verify runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_dossiers_are_accepted_and_receipts_are_signed() {
    let SignedGateway { gw: _gw, api, sim: _sim, dir, pki } = signed_gateway("required").await;

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
    let (ok, text) = verify_offline(&pki, &receipt_file);
    assert!(ok, "{text}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xml_receipt_carries_the_gateways_xml_signature_that_xmlsec1_verifies() {
    let SignedGateway { gw: _gw, api, sim: _sim, dir, pki } = signed_gateway("optional").await;
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
    let xmlsec1 = |f: &Path| {
        let out = Command::new("xmlsec1")
            .arg("--verify")
            .arg("--trusted-pem")
            .arg(pki.path("roots/government-ca.pem"))
            .arg(f)
            .output()
            .expect("run xmlsec1");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, stderr) = xmlsec1(&file);
    assert!(ok, "xmlsec1: {stderr}");
    // ... and refuses it once altered.
    let altered = dir.path().join("altered.xml");
    std::fs::write(
        &altered,
        receipt.replace("000.00.31.H29-261122-0301</DossierCode>", "000.00.31.H29-261122-0302</DossierCode>"),
    )
    .unwrap();
    assert!(!xmlsec1(&altered).0, "xmlsec1 must refuse an altered receipt");

    // `lienthong verify` agrees, step by step.
    let (ok, text) = verify_offline(&pki, &file);
    assert!(ok && text.contains("result: VALID"), "{text}");
    let (ok, text) = verify_offline(&pki, &altered);
    assert!(!ok, "{text}");
    assert!(text.contains("FAIL the content matches its digest"), "{text}");
    assert!(text.contains("result: INVALID (signature_digest_mismatch)"), "{text}");
}
