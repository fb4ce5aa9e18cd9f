//! Detached JWS (RFC 7515 Appendix F, RFC 7797): round trips under every
//! accepted algorithm, a refusal with its own code for each attack and each
//! refused signer, and interop with PyJWT (an independent implementation over
//! pyca/cryptography) in both directions.
//!
//! PyJWT only takes a `detached_payload` for `b64: false`; a detached JWS with
//! the default `b64: true` (what [`sign_detached`] makes) is handed to it with
//! the payload put back in the middle part, which is exactly what RFC 7515
//! Appendix F says a verifier does.
//!
//! A missing `python3` or PyJWT fails the tests with an install hint. Temporary
//! files go into a fresh directory under the system's temporary directory,
//! removed when a test passes and kept (its path is in the failure message)
//! when it fails.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use schemas::dsig::{SigError, SignatureAlgorithm as A, VerifyOptions};
use schemas::jws::{parse_detached, sign_detached, verify_detached, HEADER};
use schemas::pki::{RevocationPolicy, SigningIdentity, TrustStore};
use serde_json::{json, Value};

use crate::attacks::{chain_b64, openssl_sign, Scratch};
use crate::support::{example, fixture, now, Fixture};

/// Every accepted algorithm with a signer whose key fits it.
const ALGORITHMS: &[(&str, A)] = &[
    ("portal-hanoi", A::RsaPkcs1Sha256),
    ("portal-hanoi", A::RsaPkcs1Sha384),
    ("portal-hanoi", A::RsaPkcs1Sha512),
    ("portal-hanoi", A::RsaPssSha256),
    ("portal-hanoi", A::RsaPssSha384),
    ("portal-hanoi", A::RsaPssSha512),
    ("portal-hcm", A::EcdsaSha256),
    ("portal-danang", A::EcdsaSha384),
];

fn payload() -> Vec<u8> {
    example("khai-tu.json")
}

fn unix_now() -> i64 {
    now().now
}

fn b64url(b: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// A detached compact JWS over `payload` with exactly this header text, signed by `sign`.
fn compact_raw(header: &str, payload: &[u8], b64: bool, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let h = b64url(header);
    let mut input = format!("{h}.").into_bytes();
    if b64 {
        input.extend_from_slice(b64url(payload).as_bytes());
    } else {
        input.extend_from_slice(payload);
    }
    format!("{h}..{}", b64url(sign(&input)))
}

/// A detached compact JWS with this header, signed by the identity's key.
fn compact(header: &Value, payload: &[u8], id: &SigningIdentity) -> String {
    let b64 = header.get("b64").and_then(Value::as_bool).unwrap_or(true);
    compact_raw(&header.to_string(), payload, b64, |i| id.sign(i).expect("sign"))
}

/// The header `sign_detached` would write, less the optional `kid` and `x5t#S256`.
fn header_of(id: &SigningIdentity) -> Value {
    let x5c: Vec<String> = id.chain().iter().map(|c| STANDARD.encode(c.as_ref())).collect();
    json!({ "alg": id.algorithm().jws_name(), "iat": unix_now(), "x5c": x5c })
}

/// `header_of(id)` with fields set (`Value::Null` removes one).
fn header_with(id: &SigningIdentity, fields: Value) -> Value {
    let mut h = header_of(id);
    for (k, v) in fields.as_object().expect("an object") {
        if v.is_null() {
            h.as_object_mut().expect("an object").remove(k);
        } else {
            h[k] = v.clone();
        }
    }
    h
}

// ---------------------------------------------------------------------------
// Cases and how they are run

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    Dev,
    NoCrls,
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    Code(&'static str),
    /// Verifies, signed by the certificate with this CN.
    Verifies(&'static str),
}

struct Case {
    name: String,
    jws: String,
    payload: Vec<u8>,
    store: Store,
    expect: Expect,
}

fn case(name: &str, jws: String, payload: &[u8], code: &'static str) -> Case {
    Case { name: name.to_owned(), jws, payload: payload.to_vec(), store: Store::Dev, expect: Expect::Code(code) }
}

fn verifies(name: &str, jws: String, payload: &[u8], cn: &'static str) -> Case {
    Case { name: name.to_owned(), jws, payload: payload.to_vec(), store: Store::Dev, expect: Expect::Verifies(cn) }
}

/// Runs the cases; panics listing every case with another outcome (an accepted
/// attack first of all). Returns the codes produced.
fn run(f: &Fixture, cases: Vec<Case>) -> BTreeSet<&'static str> {
    let no_crls = TrustStore::load(&[f.pki.roots()], RevocationPolicy::Require).expect("load the dev roots");
    let opts = now();
    let mut produced = BTreeSet::new();
    let mut wrong = Vec::new();
    let mut names = BTreeSet::new();
    for c in &cases {
        assert!(names.insert(c.name.clone()), "two cases named {:?}", c.name);
        let store = match c.store {
            Store::Dev => &f.store,
            Store::NoCrls => &no_crls,
        };
        match (verify_detached(&c.jws, &c.payload, store, &opts), c.expect) {
            (Err(e), Expect::Code(want)) if e.code() == want => {
                produced.insert(e.code());
            }
            (Ok(v), Expect::Verifies(cn)) if v.signer.cert.common_name.as_deref() == Some(cn) => {}
            (Err(e), _) => wrong.push(format!("{}: expected {:?}, refused with {} ({e})", c.name, c.expect, e.code())),
            (Ok(v), _) => wrong
                .push(format!("{}: expected {:?}, but ACCEPTED (signer {})", c.name, c.expect, v.signer.cert.subject)),
        }
    }
    println!("{} cases, codes {produced:?}", cases.len());
    assert!(wrong.is_empty(), "{} of {} cases went wrong:\n  {}", wrong.len(), cases.len(), wrong.join("\n  "));
    produced
}

// ---------------------------------------------------------------------------
// Round trips

#[test]
fn every_algorithm_round_trips() {
    let f = fixture();
    let body = payload();
    assert_eq!(HEADER, "x-jws-signature");
    for &(who, alg) in ALGORITHMS {
        let id = f.identity_with(who, alg);
        let iat = unix_now() - 5;
        let token = sign_detached(&body, &id, iat).expect("sign");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "{token}");
        assert!(parts[1].is_empty(), "the payload is detached");
        let (h, encoded, _) = parse_detached(&token).expect("parse");
        assert_eq!(encoded, parts[0]);
        assert_eq!(h.algorithm, alg);
        assert_eq!(h.iat, Some(iat));
        assert!(h.b64);
        assert_eq!(h.x5c.len(), 2, "leaf and intermediate");
        assert_eq!(h.x5c[0], id.certificate().der);
        assert_eq!(h.x5t_s256.as_deref().map(hex::encode), Some(id.certificate().cert_sha256.clone()));
        let v = verify_detached(&token, &body, &f.store, &now())
            .unwrap_or_else(|e| panic!("{who} {}: {} ({e})", alg.jws_name(), e.code()));
        assert_eq!(v.algorithm, alg);
        assert_eq!(v.signing_time, Some(iat));
        assert_eq!(v.signer.cert.common_name.as_deref(), Some(who));
        assert!(v.signer.anchor_subject.contains("Lienthong DEV PKI"));
        // Surrounding whitespace (as an HTTP header value may carry) is not part of it.
        assert!(verify_detached(&format!(" {token}\r\n"), &body, &f.store, &now()).is_ok());
    }
}

// ---------------------------------------------------------------------------
// Attacks and refused signers

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

// ---------------------------------------------------------------------------
// Interop with PyJWT

/// Runs a Python script (from stdin) with arguments; its stdout as JSON.
fn python(script: &str, args: &[&Path]) -> Value {
    let mut child = Command::new("python3")
        .arg("-")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the PyJWT interop tests (apt-get install python3 python3-jwt python3-cryptography, or pip install 'pyjwt[crypto]>=2')");
    child.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("write the script");
    let out = child.wait_with_output().expect("python3 output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'jwt'"),
        "PyJWT is needed for the interop tests: pip install 'pyjwt[crypto]>=2' (or apt-get install python3-jwt)"
    );
    assert!(out.status.success(), "python3 failed:\n{stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("python3 printed no JSON ({e}):\n{stderr}"))
}

/// Verifies each case with PyJWT; prints per case whether it verified, and
/// whether PyJWT refused the same JWS over other bytes.
const PYJWT_VERIFY: &str = r#"
import base64, json, sys
import jwt
from jwt.api_jws import PyJWS
from cryptography import x509

assert jwt.__version__.split(".")[0] == "2", jwt.__version__

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def decode(token, key, alg, payload):
    h, middle, s = token.split(".")
    assert middle == "", "the payload must be detached"
    header = json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))
    if header.get("b64", True) is False:
        return PyJWS().decode_complete(token, key=key, algorithms=[alg], detached_payload=payload)
    # RFC 7515 Appendix F: put the payload back, then verify as usual.
    return PyJWS().decode_complete(h + "." + b64url(payload) + "." + s, key=key, algorithms=[alg])

out = []
for c in json.load(open(sys.argv[1])):
    key = x509.load_pem_x509_certificate(open(c["cert"], "rb").read()).public_key()
    payload = open(c["payload"], "rb").read()
    r = {"name": c["name"]}
    try:
        d = decode(c["token"], key, c["alg"], payload)
        r["ok"] = d["payload"] == payload and d["header"]["alg"] == c["alg"]
        r["header"] = d["header"]
    except Exception as e:
        r["ok"] = False
        r["error"] = repr(e)
    try:
        decode(c["token"], key, c["alg"], payload + b" ")
        r["other_bytes_refused"] = False
    except jwt.exceptions.InvalidSignatureError:
        r["other_bytes_refused"] = True
    out.append(r)
print(json.dumps(out))
"#;

/// Signs the payload with PyJWT as a detached JWS (`is_payload_detached`, so
/// `b64: false` with `crit: ["b64"]`), the chain in `x5c`.
const PYJWT_SIGN: &str = r#"
import base64, json, sys
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

assert jwt.__version__.split(".")[0] == "2", jwt.__version__
out = []
for c in json.load(open(sys.argv[1])):
    key = serialization.load_pem_private_key(open(c["key"], "rb").read(), password=None)
    chain = x509.load_pem_x509_certificates(open(c["chain"], "rb").read())
    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode() for cert in chain]
    payload = open(c["payload"], "rb").read()
    token = jwt.api_jws.encode(payload, key, algorithm=c["alg"], headers={"x5c": x5c}, is_payload_detached=True)
    out.append({"name": c["name"], "token": token})
print(json.dumps(out))
"#;

#[test]
fn pyjwt_verifies_what_sign_detached_makes() {
    let f = fixture();
    let tmp = Scratch::new("to-pyjwt");
    let body = payload();
    let payload_file = tmp.write("payload.json", &body);
    let mut cases = Vec::new();
    for &(who, alg) in ALGORITHMS {
        let id = f.identity_with(who, alg);
        let cert = f.pki.files(who).1;
        let token = sign_detached(&body, &id, unix_now()).expect("sign");
        cases.push(json!({ "name": format!("{who} {}", alg.jws_name()), "token": token, "alg": alg.jws_name(), "cert": cert, "payload": payload_file }));
    }
    // RFC 7797 unencoded payload, which PyJWT takes as a detached payload.
    let id = f.identity("portal-hcm");
    let token = compact(&header_with(&id, json!({ "b64": false, "crit": ["b64"] })), &body, &id);
    assert!(verify_detached(&token, &body, &f.store, &now()).is_ok());
    cases.push(json!({ "name": "portal-hcm ES256 b64:false", "token": token, "alg": "ES256", "cert": f.pki.files("portal-hcm").1, "payload": payload_file }));
    let n = cases.len();
    let input = tmp.write("cases.json", serde_json::to_string(&cases).expect("JSON").as_bytes());
    let results = python(PYJWT_VERIFY, &[&input]);
    let results = results.as_array().expect("a list");
    assert_eq!(results.len(), n);
    for r in results {
        assert_eq!(r["ok"], true, "PyJWT refused {}: {}", r["name"], r["error"]);
        assert_eq!(r["other_bytes_refused"], true, "PyJWT accepted {} over other bytes", r["name"]);
        assert!(r["header"]["x5c"].as_array().is_some_and(|a| a.len() == 2), "{}", r["name"]);
    }
}

#[test]
fn what_pyjwt_signs_detached_verifies() {
    let f = fixture();
    let tmp = Scratch::new("from-pyjwt");
    let body = payload();
    let payload_file = tmp.write("payload.json", &body);
    let signers: &[(&str, A)] = &[
        ("portal-hanoi", A::RsaPkcs1Sha256),
        ("portal-hanoi", A::RsaPssSha256),
        ("portal-hcm", A::EcdsaSha256),
        ("mpi", A::RsaPkcs1Sha512),
        ("mpi", A::RsaPssSha384),
        ("portal-danang", A::EcdsaSha384),
    ];
    let cases: Vec<Value> = signers
        .iter()
        .map(|&(who, alg)| {
            let (key, _, chain) = f.pki.files(who);
            json!({ "name": format!("{who} {}", alg.jws_name()), "alg": alg.jws_name(), "key": key, "chain": chain, "payload": payload_file })
        })
        .collect();
    let input = tmp.write("cases.json", serde_json::to_string(&cases).expect("JSON").as_bytes());
    let tokens = python(PYJWT_SIGN, &[&input]);
    let tokens = tokens.as_array().expect("a list");
    assert_eq!(tokens.len(), signers.len());
    for (&(who, alg), t) in signers.iter().zip(tokens) {
        let token = t["token"].as_str().expect("a token");
        let (h, _, _) = parse_detached(token).unwrap_or_else(|e| panic!("{who} {}: {}", alg.jws_name(), e.code()));
        assert!(!h.b64, "PyJWT's detached JWS is unencoded (b64: false)");
        assert_eq!(h.algorithm, alg);
        let v = verify_detached(token, &body, &f.store, &now())
            .unwrap_or_else(|e| panic!("PyJWT's {who} {} is refused: {} ({e})", alg.jws_name(), e.code()));
        assert_eq!(v.algorithm, alg);
        assert_eq!(v.signer.cert.common_name.as_deref(), Some(who));
        assert_eq!(v.signing_time, None);
        let mut other = body.clone();
        other.push(b' ');
        assert_eq!(verify_detached(token, &other, &f.store, &now()).unwrap_err().code(), "signature_invalid");
    }
}
