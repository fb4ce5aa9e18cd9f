//! Untrusted bytes as a detached JWS and its payload (the first line is the
//! compact serialisation, the rest the payload) into the header reader and the
//! verifiers. Never a panic; with no trust anchor nothing verifies, and with no
//! pinned key (or a key no test certificate has) the pinned verifier accepts nothing.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use schemas::dsig::VerifyOptions;
use schemas::jws::{parse_detached, verify_detached, verify_detached_pinned};
use schemas::pki::{RevocationPolicy, TrustStore};

/// A trust store without a single root: no chain can end in a trusted anchor.
fn empty_store() -> &'static TrustStore {
    static STORE: OnceLock<TrustStore> = OnceLock::new();
    STORE.get_or_init(|| TrustStore::new(vec![], RevocationPolicy::BestEffort).expect("an empty trust store"))
}

fuzz_target!(|data: &[u8]| {
    let (line, payload) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    // The header value reaches the verifier as text.
    let Ok(compact) = std::str::from_utf8(line) else { return };
    let _ = parse_detached(compact);
    // A fixed instant (2030-03-17, inside the dev certificates' validity), so that
    // a run is reproducible.
    let opts = VerifyOptions { now: 1_900_000_000, signing_time: None, max_skew: 300 };
    if let Ok(v) = verify_detached(compact, payload, empty_store(), &opts) {
        panic!("verified against an empty trust store: signer {}", v.signer.cert.subject);
    }
    assert!(verify_detached_pinned(compact, payload, &[]).is_err(), "verified with no pinned key");
    let unheld = ["00".repeat(32)];
    assert!(verify_detached_pinned(compact, payload, &unheld).is_err(), "verified by a key nobody holds");
});
