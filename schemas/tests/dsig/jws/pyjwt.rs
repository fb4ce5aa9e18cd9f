//! Interop with PyJWT (an independent implementation over pyca/cryptography)
//! in both directions.
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

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use schemas::dsig::SignatureAlgorithm as A;
use schemas::jws::{parse_detached, sign_detached, verify_detached};
use serde_json::{json, Value};

use super::{compact, header_with, payload, unix_now, ALGORITHMS};
use crate::attacks::helpers::Scratch;
use crate::support::{fixture, now};

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
