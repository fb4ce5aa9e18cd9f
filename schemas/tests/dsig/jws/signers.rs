//! Refused signers of a detached JWS: the same certificates as for XML, refused
//! with the same codes.

use schemas::dsig::SigError;
use schemas::jws::sign_detached;
use serde_json::json;

use super::{case, compact_raw, payload, run, unix_now, Case, Store};
use crate::attacks::helpers::{chain_b64, openssl_sign};
use crate::support::{fixture, Fixture};

fn signer_cases(f: &Fixture) -> Vec<Case> {
    let body = payload();
    let mut cases = Vec::new();
    for (who, code) in [
        ("untrusted-leaf", "certificate_untrusted"),
        ("expired", "certificate_expired"),
        ("not-yet-valid", "certificate_not_yet_valid"),
        ("portal-revoked", "certificate_revoked"),
        ("sha1-signed", "certificate_weak_algorithm"),
        ("no-digital-signature", "certificate_wrong_usage"),
        ("localhost", "certificate_wrong_usage"),
    ] {
        let token = sign_detached(&body, &f.identity(who), unix_now()).expect("sign");
        cases.push(case(&format!("signer {who}"), token, &body, code));
    }
    // A signing time inside the expired certificate's validity does not rescue it:
    // the chain must be valid now as well.
    let expired = f.identity("expired");
    let in_validity = expired.certificate().not_before + 86_400;
    cases.push(case(
        "signer expired, iat inside its validity",
        sign_detached(&body, &expired, in_validity).expect("sign"),
        &body,
        "certificate_expired",
    ));
    // RSA-1024: the library will not load the key, so OpenSSL signs.
    let (key, _, chain) = f.pki.files("weak-rsa-1024");
    let hdr = json!({ "alg": "RS256", "iat": unix_now(), "x5c": chain_b64(&chain) }).to_string();
    cases.push(case(
        "signer weak-rsa-1024 (signed by OpenSSL)",
        compact_raw(&hdr, &body, true, |i| openssl_sign(&key, "sha256", i)),
        &body,
        "signature_key_too_weak",
    ));
    let mut unknown = case(
        "valid signer, no CRL loaded, revocation required",
        sign_detached(&body, &f.identity("portal-hcm"), unix_now()).expect("sign"),
        &body,
        "certificate_revocation_unknown",
    );
    unknown.store = Store::NoCrls;
    cases.push(unknown);
    cases
}

#[test]
fn refused_signers_of_a_jws_have_the_codes_of_xml() {
    let f = fixture();
    let codes = run(&f, signer_cases(&f));
    for c in [
        "certificate_untrusted",
        "certificate_expired",
        "certificate_not_yet_valid",
        "certificate_revoked",
        "certificate_weak_algorithm",
        "certificate_wrong_usage",
        "signature_key_too_weak",
        "certificate_revocation_unknown",
    ] {
        assert!(codes.contains(c), "{c} not produced");
    }
    for c in &codes {
        assert!(SigError::CODES.contains(c));
    }
}
