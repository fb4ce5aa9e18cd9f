//! Untrusted bytes into the XML Signature profile reader, then everything the
//! verifier computes from what it read: the canonical referenced content (the
//! digest input), the canonical `SignedInfo` (the signature input) and every
//! carried certificate. Never a panic, and with no trust anchor nothing verifies.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use schemas::c14n::Document;
use schemas::dsig::{parse_signature, verify_xml, VerifyOptions};
use schemas::pki::{CertInfo, RevocationPolicy, TrustStore};

/// A trust store without a single root: no chain can end in a trusted anchor.
fn empty_store() -> &'static TrustStore {
    static STORE: OnceLock<TrustStore> = OnceLock::new();
    STORE.get_or_init(|| TrustStore::new(vec![], RevocationPolicy::BestEffort).expect("an empty trust store"))
}

fuzz_target!(|data: &[u8]| {
    // A fixed instant (2030-03-17, inside the dev certificates' validity), so that
    // a run is reproducible.
    let opts = VerifyOptions { now: 1_900_000_000, signing_time: None, max_skew: 300 };
    match verify_xml(data, empty_store(), &opts) {
        Ok(Some(v)) => panic!("verified against an empty trust store: signer {}", v.signer.cert.subject),
        Ok(None) | Err(_) => {}
    }

    let Ok(doc) = Document::parse(data) else { return };
    let Ok(Some(info)) = parse_signature(&doc) else { return };
    let digested = doc.canonicalize(info.referenced, Some(info.signature), &info.reference_c14n);
    let _ = info.digest.digest(&digested);
    let _ = doc.canonicalize(info.signed_info, None, &info.c14n);
    for der in &info.certificates {
        let _ = CertInfo::parse(der);
    }
});
