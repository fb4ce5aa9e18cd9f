//! Documents signed by the gateway's signer verify, under every accepted
//! signature algorithm, canonicalisation and reference style, and what the
//! verifier hands on is exactly the dossier that was signed.

use schemas::c14n::Algorithm;
use schemas::dsig::{
    sign_xml, verify_xml, verify_xml_and_read, ReferenceStyle, SignatureAlgorithm as A, XmlSignOptions,
};

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
                // Read from the verified tree, it is the same dossier.
                let (_, from_tree) = verify_xml_and_read(&signed, &f.store, &now(), |doc, apex, signature| {
                    schemas::dossier_from_tree(doc, apex, Some(signature))
                })
                .expect("verifies")
                .expect("the document is signed");
                assert_eq!(from_tree.expect("the tree is the dossier"), unsigned, "{:?} {reference:?}", c14n);
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

#[test]
fn a_remembered_chain_is_not_trusted_outside_its_validity_or_after_a_crl_change() {
    use schemas::dsig::VerifyOptions;
    let f = fixture();
    let doc = example("khai-tu.xml");
    let signed = sign_xml(&doc, &f.identity("expired"), &XmlSignOptions::default()).expect("sign");
    // The `expired` certificate is valid 2020-01-01 .. 2021-01-01.
    let mid_2020 = VerifyOptions { now: 1_593_561_600, signing_time: None, max_skew: 300 };
    let best_effort = schemas::pki::TrustStore::load(&[f.pki.roots()], schemas::pki::RevocationPolicy::BestEffort)
        .expect("load the roots");
    assert!(verify_xml(&signed, &best_effort, &mid_2020).expect("valid in 2020").is_some());
    assert!(verify_xml(&signed, &best_effort, &mid_2020).expect("still valid in 2020 (remembered)").is_some());
    let err = verify_xml(&signed, &best_effort, &now()).expect_err("expired now, remembered or not");
    assert_eq!(err.code(), "certificate_expired");

    // A chain remembered as good is checked again once the CRLs change.
    let good = sign_xml(&doc, &f.identity("portal-hanoi"), &XmlSignOptions::default()).expect("sign");
    assert!(verify_xml(&good, &f.store, &now()).expect("valid").is_some());
    f.store.set_crls(Vec::new());
    assert_eq!(verify_xml(&good, &f.store, &now()).unwrap_err().code(), "certificate_revocation_unknown");
}

#[test]
fn a_remembered_certificate_reads_as_its_own_bytes_say() {
    use schemas::pki::{CertInfo, PARSED_ENTRIES};
    let f = fixture();
    let id = f.identity("portal-hanoi");
    let der = id.chain()[0].as_ref().to_vec();
    let parsed = CertInfo::parse(&der).expect("the dev certificate parses");
    assert_eq!(CertInfo::parse_remembered(&der).expect("parses"), parsed);
    assert_eq!(CertInfo::parse_remembered(&der).expect("remembered"), parsed, "the remembered reading is the reading");

    // The same certificate with its subject's common name changed, byte for byte
    // otherwise equal: read as what it says, never as the one remembered.
    let at = der.windows(12).position(|w| w == b"portal-hanoi").expect("the CN is in the DER") + 7;
    let variant = |a: u8, b: u8| {
        let mut d = der.clone();
        d[at] = a;
        d[at + 1] = b;
        d
    };
    let mut distinct = 0;
    for a in b'a'..=b'z' {
        for b in b'a'..=b'z' {
            let d = variant(a, b);
            let cn = format!("portal-{}{}noi", a as char, b as char);
            for _ in 0..2 {
                let info = CertInfo::parse_remembered(&d).expect("the variant parses");
                assert_eq!(info.common_name.as_deref(), Some(cn.as_str()));
                assert_eq!(info.der, d);
            }
            distinct += 1;
        }
    }
    assert!(distinct > PARSED_ENTRIES, "the memo was filled and emptied on the way");
    assert_eq!(CertInfo::parse_remembered(&der).expect("parses"), parsed);

    // What does not parse is refused every time, not remembered.
    let truncated = &der[..der.len() - 1];
    for _ in 0..2 {
        assert!(CertInfo::parse_remembered(truncated).is_err(), "a truncated certificate is refused");
    }
}
