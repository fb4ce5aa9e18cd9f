//! Attacks on a detached JWS (other bytes, algorithm confusion, malformed
//! headers, `crit` and `b64`, key sources, signing times), each refused with its
//! own code; and a signing time claimed by the caller.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use schemas::dsig::VerifyOptions;
use schemas::jws::{sign_detached, verify_detached};
use serde_json::{json, Value};

use super::{b64url, case, compact, compact_raw, header_of, header_with, payload, run, unix_now, verifies, Case};
use crate::support::{fixture, now, Fixture};

fn attack_cases(f: &Fixture) -> Vec<Case> {
    let body = payload();
    let hanoi = f.identity("portal-hanoi");
    let hcm = f.identity("portal-hcm");
    let good = sign_detached(&body, &hanoi, unix_now()).expect("sign");
    let mut cases = vec![
        verifies("baseline", good.clone(), &body, "portal-hanoi"),
        verifies("baseline, minimal header", compact(&header_of(&hanoi), &body, &hanoi), &body, "portal-hanoi"),
    ];

    // Other bytes.
    let mut spaced = body.clone();
    spaced.push(b'\n');
    cases.push(case("over other bytes: a newline appended", good.clone(), &spaced, "signature_invalid"));
    cases.push(case("over other bytes: empty", good.clone(), b"", "signature_invalid"));
    let reformatted = serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&body).expect("JSON")).expect("JSON");
    assert_ne!(reformatted, body);
    cases.push(case("over other bytes: the same JSON reformatted", good.clone(), &reformatted, "signature_invalid"));
    let tampered = String::from_utf8(body.clone()).expect("UTF-8").replacen("0312", "0313", 1).into_bytes();
    assert_ne!(tampered, body);
    cases.push(case("over other bytes: a field changed", good.clone(), &tampered, "signature_invalid"));
    let ec = sign_detached(&body, &hcm, unix_now()).expect("sign");
    cases.push(case("ECDSA over other bytes", ec.clone(), &tampered, "signature_invalid"));
    let (h, _, s) = {
        let p: Vec<&str> = good.split('.').collect();
        (p[0].to_owned(), p[1].to_owned(), p[2].to_owned())
    };
    let mut sig = URL_SAFE_NO_PAD.decode(&s).expect("base64url");
    sig[0] ^= 1;
    cases.push(case("signature bit flipped", format!("{h}..{}", b64url(&sig)), &body, "signature_invalid"));
    let other_header = b64url(
        String::from_utf8(URL_SAFE_NO_PAD.decode(&h).expect("base64url"))
            .expect("UTF-8")
            .replace("\"iat\":", "\"iat\":1"),
    );
    cases.push(case("header changed after signing", format!("{other_header}..{s}"), &body, "signature_invalid"));
    // A key of another certificate with the same CN signs; portal-hanoi's chain is claimed.
    let client = f.identity("portal-hanoi-client");
    cases.push(case(
        "signed by another key, portal-hanoi's chain in x5c",
        compact(&header_of(&hanoi), &body, &client),
        &body,
        "signature_invalid",
    ));

    // Algorithms.
    let x5c = header_of(&hanoi)["x5c"].clone();
    let none = b64url(json!({ "alg": "none", "x5c": x5c }).to_string());
    cases.push(case("alg none, empty signature", format!("{none}.."), &body, "signature_algorithm_none"));
    cases.push(case("alg none, with a signature", format!("{none}..{s}"), &body, "signature_algorithm_none"));
    // Algorithm confusion: an HMAC keyed with the signer's public certificate.
    for alg in ["HS256", "HS384", "HS512"] {
        let hdr = json!({ "alg": alg, "x5c": x5c }).to_string();
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &hanoi.certificate().der);
        cases.push(case(
            &format!("{alg} keyed with the signer's certificate"),
            compact_raw(&hdr, &body, true, |i| ring::hmac::sign(&key, i).as_ref().to_vec()),
            &body,
            "signature_algorithm_hmac",
        ));
    }
    for (alg, code) in [
        ("RS1", "signature_algorithm_sha1"),
        ("ES512", "signature_algorithm_unknown"),
        ("EdDSA", "signature_algorithm_unknown"),
        ("rs256", "signature_algorithm_unknown"),
        ("PS256K", "signature_algorithm_unknown"),
        ("", "signature_algorithm_unknown"),
    ] {
        cases.push(case(
            &format!("alg {alg:?}"),
            compact(&header_with(&hanoi, json!({ "alg": alg })), &body, &hanoi),
            &body,
            code,
        ));
    }
    cases.push(case(
        "alg not a string",
        compact(&header_with(&hanoi, json!({ "alg": 256 })), &body, &hanoi),
        &body,
        "signature_malformed",
    ));
    cases.push(case(
        "alg missing",
        compact(&header_with(&hanoi, json!({ "alg": null })), &body, &hanoi),
        &body,
        "signature_malformed",
    ));
    cases.push(case(
        "RS256 claimed for an ECDSA key",
        compact(&header_with(&hcm, json!({ "alg": "RS256" })), &body, &hcm),
        &body,
        "signature_key_mismatch",
    ));
    cases.push(case(
        "ES384 claimed for a P-256 key",
        compact(&header_with(&hcm, json!({ "alg": "ES384" })), &body, &hcm),
        &body,
        "signature_key_mismatch",
    ));

    // Structure.
    let attached = format!("{h}.{}.{s}", b64url(&body));
    cases.push(case("payload attached", attached, &body, "signature_malformed"));
    cases.push(case("two parts", format!("{h}.{s}"), &body, "signature_malformed"));
    cases.push(case("four parts", format!("{h}...{s}"), &body, "signature_malformed"));
    cases.push(case("header not base64url", format!("{h}*..{s}"), &body, "signature_malformed"));
    cases.push(case("signature not base64url", format!("{h}..{s}="), &body, "signature_malformed"));
    let array = b64url(json!([{ "alg": "RS256" }]).to_string());
    cases.push(case("header a JSON array", format!("{array}..{s}"), &body, "signature_malformed"));
    let dup = |k: &str, v: &str| {
        let base = header_of(&hanoi).to_string();
        let raw = format!("{},\"{k}\":{v}}}", &base[..base.len() - 1]);
        compact_raw(&raw, &body, true, |i| hanoi.sign(i).expect("sign"))
    };
    cases.push(case("duplicate alg (the second none)", dup("alg", "\"none\""), &body, "signature_malformed"));
    cases.push(case("duplicate alg (both RS256)", dup("alg", "\"RS256\""), &body, "signature_malformed"));
    cases.push(case("duplicate x5c", dup("x5c", &x5c.to_string()), &body, "signature_malformed"));
    cases.push(case("duplicate iat", dup("iat", "0"), &body, "signature_malformed"));

    // crit and b64.
    let with = |fields: Value| compact(&header_with(&hanoi, fields), &body, &hanoi);
    cases.push(case(
        "crit with an unknown name",
        with(json!({ "crit": ["exp"], "exp": 1_900_000_000 })),
        &body,
        "signature_crit_unsupported",
    ));
    cases.push(case(
        "crit with b64 and an unknown name",
        with(json!({ "crit": ["b64", "urn:example:policy"], "b64": true, "urn:example:policy": 1 })),
        &body,
        "signature_crit_unsupported",
    ));
    cases.push(case("crit empty", with(json!({ "crit": [] })), &body, "signature_malformed"));
    cases.push(case("crit not an array", with(json!({ "crit": "b64", "b64": false })), &body, "signature_malformed"));
    cases.push(case("crit lists b64, which is absent", with(json!({ "crit": ["b64"] })), &body, "signature_malformed"));
    cases.push(case("b64 false without crit", with(json!({ "b64": false })), &body, "signature_malformed"));
    cases.push(case(
        "b64 not a boolean",
        with(json!({ "b64": "false", "crit": ["b64"] })),
        &body,
        "signature_malformed",
    ));
    let unencoded = with(json!({ "b64": false, "crit": ["b64"] }));
    cases.push(verifies("b64 false with crit, over the raw bytes", unencoded.clone(), &body, "portal-hanoi"));
    cases.push(case("b64 false with crit, over other bytes", unencoded, &tampered, "signature_invalid"));
    cases.push(verifies(
        "b64 true listed in crit",
        with(json!({ "b64": true, "crit": ["b64"] })),
        &body,
        "portal-hanoi",
    ));
    // A b64:false signing input presented as b64:true (and the reverse).
    let hdr_true = header_of(&hanoi).to_string();
    cases.push(case(
        "signed over the raw bytes, header says b64",
        compact_raw(&hdr_true, &body, false, |i| hanoi.sign(i).expect("sign")),
        &body,
        "signature_invalid",
    ));

    // Key sources and certificates.
    let jwk = json!({ "kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" });
    for (name, fields) in [
        ("jku", json!({ "jku": "https://evil.example/keys.json" })),
        ("jwk", json!({ "jwk": jwk })),
        ("x5u", json!({ "x5u": "https://evil.example/chain.pem" })),
        ("jwk without x5c", json!({ "jwk": jwk, "x5c": null })),
    ] {
        cases.push(case(&format!("key from {name}"), with(fields), &body, "signature_key_source_unsupported"));
    }
    cases.push(case("no x5c", with(json!({ "x5c": null })), &body, "signature_no_certificate"));
    cases.push(case("x5c empty", with(json!({ "x5c": [] })), &body, "signature_no_certificate"));
    cases.push(case("x5c not an array", with(json!({ "x5c": x5c[0] })), &body, "signature_no_certificate"));
    cases.push(case("x5c not base64", with(json!({ "x5c": ["%%%"] })), &body, "signature_malformed"));
    cases.push(case(
        "x5c holding something else than a certificate",
        with(json!({ "x5c": [STANDARD.encode(b"not a certificate")] })),
        &body,
        "certificate_malformed",
    ));
    cases.push(case(
        "x5c with the intermediate first",
        with(json!({ "x5c": [x5c[1], x5c[0]] })),
        &body,
        "signature_malformed",
    ));
    cases.push(case(
        "x5t#S256 of another certificate",
        with(json!({ "x5t#S256": b64url(hex::decode(&hcm.certificate().cert_sha256).expect("hex")) })),
        &body,
        "signature_malformed",
    ));
    cases.push(verifies(
        "x5t#S256 of the signer",
        with(json!({ "x5t#S256": b64url(hex::decode(&hanoi.certificate().cert_sha256).expect("hex")) })),
        &body,
        "portal-hanoi",
    ));

    // Signing time.
    let at = |t: i64| with(json!({ "iat": t }));
    cases.push(case("iat an hour in the future", at(unix_now() + 3600), &body, "signature_time_in_future"));
    cases.push(case("iat far in the future", at(4_102_444_800), &body, "signature_time_in_future"));
    cases.push(verifies("iat a minute ahead (clock skew)", at(unix_now() + 60), &body, "portal-hanoi"));
    cases.push(verifies("iat an hour ago", at(unix_now() - 3600), &body, "portal-hanoi"));
    cases.push(verifies("no iat", with(json!({ "iat": null })), &body, "portal-hanoi"));
    cases.push(case("iat before the certificate was issued", at(946_684_800), &body, "certificate_not_yet_valid"));
    cases.push(case("iat not a number", with(json!({ "iat": "1767225600" })), &body, "signature_malformed"));
    cases.push(case("iat fractional", with(json!({ "iat": 1_767_225_600.5 })), &body, "signature_malformed"));
    cases
}

#[test]
fn attacks_on_a_detached_jws_are_refused_each_with_its_code() {
    let f = fixture();
    let codes = run(&f, attack_cases(&f));
    for c in [
        "signature_invalid",
        "signature_algorithm_none",
        "signature_algorithm_hmac",
        "signature_algorithm_sha1",
        "signature_algorithm_unknown",
        "signature_key_mismatch",
        "signature_malformed",
        "signature_crit_unsupported",
        "signature_key_source_unsupported",
        "signature_no_certificate",
        "signature_time_in_future",
        "certificate_malformed",
        "certificate_not_yet_valid",
    ] {
        assert!(codes.contains(c), "{c} not produced");
    }
}

#[test]
fn a_claimed_signing_time_from_the_caller_is_checked_too() {
    let f = fixture();
    let body = payload();
    let id = f.identity("portal-hanoi");
    let mut header = header_of(&id);
    header.as_object_mut().expect("an object").remove("iat");
    let token = compact(&header, &body, &id);
    let future = VerifyOptions { signing_time: Some(unix_now() + 3600), ..now() };
    assert_eq!(verify_detached(&token, &body, &f.store, &future).unwrap_err().code(), "signature_time_in_future");
    // The JWS's own iat takes precedence over the caller's.
    let with_iat = sign_detached(&body, &id, unix_now()).expect("sign");
    assert!(verify_detached(&with_iat, &body, &f.store, &future).is_ok());
}

/// A JWS checked against pinned keys (the gateway's own heads): the right key
/// over the right bytes verifies; any other key, other bytes, a tampered
/// signature, a missing certificate or a malformed token does not.
#[test]
fn a_pinned_key_verifies_only_its_own_signature_over_the_same_bytes() {
    use schemas::jws::verify_detached_pinned;
    let f = fixture();
    let body = payload();
    let hanoi = f.identity("portal-hanoi");
    let hcm = f.identity("portal-hcm");
    let pin = vec![hanoi.certificate().spki_sha256.clone()];
    let good = sign_detached(&body, &hanoi, unix_now()).expect("sign");
    assert!(verify_detached_pinned(&good, &body, &pin).is_ok());
    assert!(verify_detached_pinned(&good, &body, &[pin[0].to_uppercase()]).is_ok(), "hex in either case");
    let code =
        |token: &str, bytes: &[u8], pins: &[String]| verify_detached_pinned(token, bytes, pins).unwrap_err().code();
    assert_eq!(code(&good, &body, &[]), "signature_malformed", "no pin: nothing verifies");
    let other = sign_detached(&body, &hcm, unix_now()).expect("sign");
    assert_eq!(code(&other, &body, &pin), "signature_malformed", "another signer's key is not pinned");
    let mut changed = body.clone();
    changed.push(b' ');
    assert_eq!(code(&good, &changed, &pin), "signature_invalid");
    let (head, sig) = good.split_once("..").expect("detached");
    let mut flipped = URL_SAFE_NO_PAD.decode(sig).expect("base64url");
    flipped[0] ^= 1;
    assert_eq!(code(&format!("{head}..{}", b64url(&flipped)), &body, &pin), "signature_invalid");
    // The pinned signer's signature carried under the other signer's certificate.
    let mut h = header_of(&hcm);
    h["alg"] = json!("RS256");
    let swapped = format!("{}..{sig}", b64url(h.to_string()));
    assert!(verify_detached_pinned(&swapped, &body, &pin).is_err());
    let mut bare = header_of(&hanoi);
    bare.as_object_mut().expect("an object").remove("x5c");
    assert_eq!(code(&compact(&bare, &body, &hanoi), &body, &pin), "signature_no_certificate");
    assert!(verify_detached_pinned("not a jws", &body, &pin).is_err());
}
