//! Coverage of the codes: every attack table again, and every XML-relevant code
//! of [`SigError::CODES`] produced by some case.

use std::collections::BTreeSet;

use schemas::dsig::SigError;

use super::algorithms::algorithm_cases;
use super::input::input_cases;
use super::run;
use super::signers::signer_cases;
use super::tampering::tampering_cases;
use super::wrapping::wrapping_cases;
use crate::support::fixture;

/// XML-relevant codes no XML input can produce: they belong to JWS or to the
/// gateway's own checks after verification.
const NOT_XML: &[&str] = &[
    "signature_algorithm_none",   // JWS alg "none"
    "signature_crit_unsupported", // JWS crit
    "signature_time_in_future",   // JWS iat (XML carries no signing time the verifier reads)
    "signer_not_bound",           // the gateway's member binding
    "signature_required",         // the gateway's policy
];

#[test]
fn every_xml_relevant_code_is_produced_by_some_attack() {
    let f = fixture();
    let mut produced = BTreeSet::new();
    for cases in [tampering_cases(&f), wrapping_cases(&f), algorithm_cases(&f), signer_cases(&f), input_cases(&f)] {
        produced.extend(run(&f, cases));
    }
    for c in &produced {
        assert!(SigError::CODES.contains(c), "{c} is not in SigError::CODES");
    }
    for c in NOT_XML {
        assert!(SigError::CODES.contains(c), "the exclusion {c} is not a code");
        assert!(!produced.contains(c), "{c} was produced by XML input");
    }
    let missing: Vec<&str> =
        SigError::CODES.iter().copied().filter(|c| !NOT_XML.contains(c) && !produced.contains(c)).collect();
    assert!(missing.is_empty(), "codes no XML case produced: {missing:?}");
}
