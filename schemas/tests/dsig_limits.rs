//! Hostile documents that cost the verifier instead of fooling it: each is
//! refused without the work it asks for (an enormous canonical form, a long
//! prefix list, a stuffed certificate list), and a CRL directory holding an old
//! and a new CRL of one CA is judged by the new one.

#[path = "../../tests/common/dev_pki.rs"]
mod dev_pki;

use std::path::Path;
use std::process::Command;

use schemas::dsig::{sign_xml, verify_xml, VerifyOptions, XmlSignOptions, MAX_CERTIFICATES};
use schemas::pki::{RevocationPolicy, SigningIdentity, TrustStore};

fn store(pki: &dev_pki::DevPki) -> TrustStore {
    let s = TrustStore::load(&[pki.roots()], RevocationPolicy::Require).expect("roots");
    s.reload_crls(&[pki.crls()]).expect("crls");
    s
}

/// An enveloped signature skeleton with dummy values and the given transforms.
fn with_signature(root_open: &str, children: &str, transforms: &str, key_info: &str) -> String {
    format!(
        r#"{root_open}{children}<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>{transforms}</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue>{key_info}</ds:Signature></HoSo>"#
    )
}

const KEY_INFO: &str =
    "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo>";

#[test]
fn an_exclusive_canonical_form_many_times_the_input_is_refused() {
    let pki = dev_pki::dev_pki();
    // The root declares a long prefix it does not use; each child uses it, so
    // exclusive C14N repeats the declaration on every child: 100 KB in, 200 MB out.
    let root = format!(r#"<HoSo xmlns="urn:lienthong:hoso:1" xmlns:p="urn:{}">"#, "x".repeat(100_000));
    let doc = with_signature(
        &root,
        &"<p:b/>".repeat(2_000),
        r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
        KEY_INFO,
    );
    let err = verify_xml(doc.as_bytes(), &store(&pki), &VerifyOptions::now()).unwrap_err();
    assert_eq!(err.code(), "signature_malformed", "{err}");
    assert!(err.to_string().contains("canonical form exceeds"), "{err}");
    // The same document with the inclusive transform has a small canonical form:
    // it gets as far as the digest.
    let doc = with_signature(
        &root,
        &"<p:b/>".repeat(2_000),
        r#"<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>"#,
        KEY_INFO,
    );
    let err = verify_xml(doc.as_bytes(), &store(&pki), &VerifyOptions::now()).unwrap_err();
    assert_eq!(err.code(), "signature_digest_mismatch", "{err}");
}

#[test]
fn a_prefix_list_longer_than_the_limit_is_refused_before_any_work() {
    let pki = dev_pki::dev_pki();
    let prefixes = |n: usize| (0..n).map(|i| format!("p{i}")).collect::<Vec<_>>().join(" ");
    let transform = |list: &str| {
        format!(
            r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="{list}"/></ds:Transform>"#
        )
    };
    let root = r#"<HoSo xmlns="urn:lienthong:hoso:1"><MaHoSo>X</MaHoSo>"#;
    for list in [prefixes(schemas::c14n::MAX_PREFIX_LIST + 1), vec!["a"; 100_000].join(" ")] {
        let doc = with_signature(root, "", &transform(&list), KEY_INFO);
        let err = verify_xml(doc.as_bytes(), &store(&pki), &VerifyOptions::now()).unwrap_err();
        assert_eq!(err.code(), "signature_malformed", "{err}");
    }
    // At the limit it is read, and the document fails on its (dummy) digest.
    let doc = with_signature(root, "", &transform(&prefixes(schemas::c14n::MAX_PREFIX_LIST)), KEY_INFO);
    let err = verify_xml(doc.as_bytes(), &store(&pki), &VerifyOptions::now()).unwrap_err();
    assert_eq!(err.code(), "signature_digest_mismatch", "{err}");
}

#[test]
fn a_stuffed_certificate_list_is_refused_in_xml_and_in_jws() {
    let pki = dev_pki::dev_pki();
    let (key, _, chain) = pki.files("portal-hanoi");
    let id = SigningIdentity::load(&key, &chain).expect("identity");
    let doc = std::fs::read(dev_pki::repo_root().join("schemas/examples/khai-tu.xml")).unwrap();
    let signed = String::from_utf8(sign_xml(&doc, &id, &XmlSignOptions::default()).unwrap()).unwrap();
    let store = store(&pki);
    assert!(verify_xml(signed.as_bytes(), &store, &VerifyOptions::now()).unwrap().is_some());
    let one = {
        let a = signed.find("<ds:X509Certificate>").unwrap();
        let b = signed.find("</ds:X509Certificate>").unwrap() + "</ds:X509Certificate>".len();
        signed[a..b].to_owned()
    };
    let stuffed = signed.replacen(&one, &one.repeat(MAX_CERTIFICATES + 1), 1);
    let err = verify_xml(stuffed.as_bytes(), &store, &VerifyOptions::now()).unwrap_err();
    assert_eq!(err.code(), "certificate_malformed", "{err}");

    // The same in a JWS x5c.
    let body = b"{}";
    let jws = schemas::jws::sign_detached(body, &id, chrono::Utc::now().timestamp()).unwrap();
    let (h, _) = jws.split_once("..").unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut header: serde_json::Value = serde_json::from_slice(&b64.decode(h).unwrap()).unwrap();
    let first = header["x5c"][0].clone();
    header["x5c"] = serde_json::Value::Array(vec![first; MAX_CERTIFICATES + 1]);
    header.as_object_mut().unwrap().remove("x5t#S256");
    let forged = format!("{}..AAAA", b64.encode(header.to_string()));
    let err = schemas::jws::verify_detached(&forged, body, &store, &VerifyOptions::now()).unwrap_err();
    assert_eq!(err.code(), "certificate_malformed", "{err}");
}

fn openssl_ca(cfg: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(["ca", "-batch", "-config"]).arg(cfg).args(args).output().expect("openssl");
    assert!(out.status.success(), "openssl ca {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn of_two_crls_of_one_ca_the_newer_decides() {
    let pki = dev_pki::dev_pki();
    let tmp = std::env::temp_dir().join(format!("lienthong-crl-newest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let ca = tmp.join("ca");
    let out = Command::new("cp").arg("-r").arg(pki.path("ca/national-old-signing")).arg(&ca).output().unwrap();
    assert!(out.status.success());
    let cnf = std::fs::read_to_string(ca.join("openssl.cnf")).unwrap();
    let line = cnf.lines().find(|l| l.trim_start().starts_with("dir ")).unwrap().to_owned();
    let cfg = tmp.join("ca.cnf");
    std::fs::write(&cfg, cnf.replacen(&line, &format!("dir = {}", ca.display()), 1)).unwrap();

    // A CRL directory as a download job leaves it: every CA's current CRL, plus
    // an old and a new one of national-old-signing (the old one sorts first).
    let dir = tmp.join("crl");
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(pki.crls()).unwrap() {
        let p = e.unwrap().path();
        if !p.to_string_lossy().contains("national-old-signing") {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    let old = dir.join("national-old-signing-2026-11.crl.pem");
    openssl_ca(&cfg, &["-gencrl", "-crldays", "30", "-out", old.to_str().unwrap()]);
    let cert = pki.path("members/portal-hanoi.cert.pem");
    openssl_ca(&cfg, &["-revoke", cert.to_str().unwrap(), "-crl_reason", "keyCompromise"]);
    let new = dir.join("national-old-signing-2026-12.crl.pem");
    openssl_ca(&cfg, &["-gencrl", "-crldays", "30", "-out", new.to_str().unwrap()]);

    let (key, _, chain) = pki.files("portal-hanoi");
    let id = SigningIdentity::load(&key, &chain).unwrap();
    let doc = std::fs::read(dev_pki::repo_root().join("schemas/examples/khai-tu.xml")).unwrap();
    let signed = sign_xml(&doc, &id, &XmlSignOptions::default()).unwrap();
    for policy in [RevocationPolicy::Require, RevocationPolicy::BestEffort] {
        let store = TrustStore::load(&[pki.roots()], policy).unwrap();
        assert_eq!(store.reload_crls(std::slice::from_ref(&dir)).unwrap(), 6, "one CRL per CA is kept");
        let err = verify_xml(&signed, &store, &VerifyOptions::now()).unwrap_err();
        assert_eq!(err.code(), "certificate_revoked", "{policy:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
