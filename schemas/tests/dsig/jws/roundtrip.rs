//! Round trips of a detached JWS under every accepted algorithm, and what
//! `parse_detached` and `verify_detached` read of it.

use schemas::jws::{parse_detached, sign_detached, verify_detached, HEADER};

use super::{payload, unix_now, ALGORITHMS};
use crate::support::{fixture, now};

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
