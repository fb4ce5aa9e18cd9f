//! Documents signed by the gateway's signer verify, under every accepted
//! signature algorithm, canonicalisation and reference style, and what the
//! verifier hands on is exactly the dossier that was signed.

use schemas::c14n::Algorithm;
use schemas::dsig::{sign_xml, verify_xml, ReferenceStyle, SignatureAlgorithm as A, XmlSignOptions};

use crate::support::{example, fixture, now};

fn c14n_variants() -> Vec<Algorithm> {
    vec![
        Algorithm::Exclusive { comments: false, inclusive_prefixes: vec![] },
        Algorithm::Exclusive { comments: true, inclusive_prefixes: vec![] },
        Algorithm::Exclusive { comments: false, inclusive_prefixes: vec!["#default".into()] },
        Algorithm::Inclusive { comments: false },
        Algorithm::Inclusive { comments: true },
    ]
}

#[test]
fn every_algorithm_canonicalisation_and_reference_round_trips() {
    let f = fixture();
    let doc = example("khai-tu.xml");
    let unsigned = schemas::dossier_from_xml(&doc).expect("the example is a valid dossier");
    let cases = [
        ("portal-hanoi", A::RsaPkcs1Sha256),
        ("portal-hanoi", A::RsaPkcs1Sha384),
        ("portal-hanoi", A::RsaPkcs1Sha512),
        ("portal-hanoi", A::RsaPssSha256),
        ("portal-hanoi", A::RsaPssSha384),
        ("mpi", A::RsaPssSha512),
        ("portal-hcm", A::EcdsaSha256),
        ("portal-danang", A::EcdsaSha384),
    ];
    let mut n = 0;
    for (who, alg) in cases {
        let id = f.identity_with(who, alg);
        for c14n in c14n_variants() {
            for reference in [ReferenceStyle::WholeDocument, ReferenceStyle::RootId] {
                let opts = XmlSignOptions { c14n: c14n.clone(), reference };
                let signed = sign_xml(&doc, &id, &opts).expect("sign");
                let v = verify_xml(&signed, &f.store, &now())
                    .unwrap_or_else(|e| panic!("{who} {} {:?} {reference:?}: {e}", alg.name(), c14n))
                    .expect("the document is signed");
                assert_eq!(v.algorithm, alg);
                assert_eq!(v.signer.cert.common_name.as_deref(), Some(who));
                let from_signed =
                    schemas::dossier_from_xml(&v.signed_octets).expect("the signed octets are the dossier");
                assert_eq!(from_signed, unsigned, "what was signed is what is read");
                // The body with its signature still parses as the same dossier.
                assert_eq!(schemas::dossier_from_xml(&signed).expect("signed body parses"), unsigned);
                n += 1;
            }
        }
    }
    assert_eq!(n, 8 * 5 * 2);
}

#[test]
fn an_unsigned_document_is_reported_as_such() {
    let f = fixture();
    assert!(verify_xml(&example("khai-tu.xml"), &f.store, &now()).expect("readable").is_none());
}

#[test]
fn a_key_cannot_sign_with_an_algorithm_of_another_family() {
    let f = fixture();
    assert!(f.identity("portal-hcm").with_algorithm(A::RsaPkcs1Sha256).is_err());
    assert!(f.identity("portal-hcm").with_algorithm(A::EcdsaSha384).is_err());
    assert!(f.identity("portal-hanoi").with_algorithm(A::EcdsaSha256).is_err());
}
