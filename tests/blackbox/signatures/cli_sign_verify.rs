//! `lienthong sign` and `lienthong verify` on the command line: what it signs
//! verifies with `xmlsec1`, and `verify` explains the time it verifies at.

use std::process::Command;

use crate::dev_pki::dev_pki;
use crate::support::*;

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
