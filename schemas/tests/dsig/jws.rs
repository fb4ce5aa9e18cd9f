//! Detached JWS (RFC 7515 Appendix F, RFC 7797): round trips under every
//! accepted algorithm, a refusal with its own code for each attack and each
//! refused signer, and interop with PyJWT (an independent implementation over
//! pyca/cryptography) in both directions.
//!
//! This file holds what the JWS tests share: the algorithms, detached compact
//! JWSs built by hand, and the case tables and how they are run.

use std::collections::BTreeSet;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use schemas::dsig::SignatureAlgorithm as A;
use schemas::jws::verify_detached;
use schemas::pki::{RevocationPolicy, SigningIdentity, TrustStore};
use serde_json::{json, Value};

use crate::support::{example, now, Fixture};

#[path = "jws/roundtrip.rs"]
mod roundtrip;

#[path = "jws/attacks.rs"]
mod attacks;

#[path = "jws/signers.rs"]
mod signers;

#[path = "jws/pyjwt.rs"]
mod pyjwt;

/// Every accepted algorithm with a signer whose key fits it.
pub(crate) const ALGORITHMS: &[(&str, A)] = &[
    ("portal-hanoi", A::RsaPkcs1Sha256),
    ("portal-hanoi", A::RsaPkcs1Sha384),
    ("portal-hanoi", A::RsaPkcs1Sha512),
    ("portal-hanoi", A::RsaPssSha256),
    ("portal-hanoi", A::RsaPssSha384),
    ("portal-hanoi", A::RsaPssSha512),
    ("portal-hcm", A::EcdsaSha256),
    ("portal-danang", A::EcdsaSha384),
];

pub(crate) fn payload() -> Vec<u8> {
    example("khai-tu.json")
}

pub(crate) fn unix_now() -> i64 {
    now().now
}

pub(crate) fn b64url(b: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// A detached compact JWS over `payload` with exactly this header text, signed by `sign`.
pub(crate) fn compact_raw(header: &str, payload: &[u8], b64: bool, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
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
pub(crate) fn compact(header: &Value, payload: &[u8], id: &SigningIdentity) -> String {
    let b64 = header.get("b64").and_then(Value::as_bool).unwrap_or(true);
    compact_raw(&header.to_string(), payload, b64, |i| id.sign(i).expect("sign"))
}

/// The header `sign_detached` would write, less the optional `kid` and `x5t#S256`.
pub(crate) fn header_of(id: &SigningIdentity) -> Value {
    let x5c: Vec<String> = id.chain().iter().map(|c| STANDARD.encode(c.as_ref())).collect();
    json!({ "alg": id.algorithm().jws_name(), "iat": unix_now(), "x5c": x5c })
}

/// `header_of(id)` with fields set (`Value::Null` removes one).
pub(crate) fn header_with(id: &SigningIdentity, fields: Value) -> Value {
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
pub(crate) enum Store {
    Dev,
    NoCrls,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect {
    Code(&'static str),
    /// Verifies, signed by the certificate with this CN.
    Verifies(&'static str),
}

pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) jws: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) store: Store,
    pub(crate) expect: Expect,
}

pub(crate) fn case(name: &str, jws: String, payload: &[u8], code: &'static str) -> Case {
    Case { name: name.to_owned(), jws, payload: payload.to_vec(), store: Store::Dev, expect: Expect::Code(code) }
}

pub(crate) fn verifies(name: &str, jws: String, payload: &[u8], cn: &'static str) -> Case {
    Case { name: name.to_owned(), jws, payload: payload.to_vec(), store: Store::Dev, expect: Expect::Verifies(cn) }
}

/// Runs the cases; panics listing every case with another outcome (an accepted
/// attack first of all). Returns the codes produced.
pub(crate) fn run(f: &Fixture, cases: Vec<Case>) -> BTreeSet<&'static str> {
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
