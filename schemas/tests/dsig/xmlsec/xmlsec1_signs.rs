//! xmlsec1 signs, the gateway verifies (the first direction): every signature
//! method, canonicalisation and reference style, digests other than the
//! method's, and dossiers full of comments and whitespace.

use schemas::dsig::{verify_xml, DigestAlgorithm, SignatureAlgorithm as A};

use super::documents::{
    check_gateway_accepts, dossier_with_comments, find, replace_once, Template, SIGNED_INFO_COMMENT,
};
use super::{
    assert_xmlsec_ok, c14n_cases, exc, inc, stderr, verified_ok, xmlsec_sign, xmlsec_verify, Scratch, REFERENCES,
    SIGNERS,
};
use crate::support::{example, fixture, now};

#[test]
fn xmlsec1_signatures_verify_under_every_method_canonicalisation_and_reference() {
    let f = fixture();
    let s = Scratch::new("sign");
    let doc = example("khai-tu.xml");
    let mut n = 0;
    for &(who, method) in SIGNERS {
        for (si, transform) in c14n_cases() {
            for reference in REFERENCES {
                let t = Template::new(method, si.clone(), transform.clone(), reference);
                let label = format!("xmlsec1 {who} {} {t:?}", method.name());
                let signed = xmlsec_sign(&s, &f, who, &t.apply(&doc), reference);
                check_gateway_accepts(&f, &signed, &doc, who, &t, &label);
                n += 1;
            }
        }
    }
    assert_eq!(n, SIGNERS.len() * c14n_cases().len() * 2);
}

#[test]
fn xmlsec1_signatures_with_a_digest_other_than_the_methods_verify() {
    let f = fixture();
    let s = Scratch::new("digest");
    let doc = example("khai-tu.xml");
    let cases = [
        ("portal-hanoi", A::RsaPkcs1Sha256, DigestAlgorithm::Sha512),
        ("portal-hanoi", A::RsaPkcs1Sha512, DigestAlgorithm::Sha256),
        ("portal-hcm", A::EcdsaSha256, DigestAlgorithm::Sha384),
        ("portal-danang", A::EcdsaSha384, DigestAlgorithm::Sha256),
    ];
    for (who, method, digest) in cases {
        for reference in REFERENCES {
            let t = Template { digest, ..Template::new(method, exc(false), Some(exc(false)), reference) };
            let label = format!("xmlsec1 {who} {t:?}");
            let signed = xmlsec_sign(&s, &f, who, &t.apply(&doc), reference);
            check_gateway_accepts(&f, &signed, &doc, who, &t, &label);
        }
    }
}

/// A dossier full of comments and odd whitespace, signed from an indented
/// template with a comment in `SignedInfo`: the reference never covers comments
/// (a same-document reference removes them before the C14N transform, with or
/// without comments), `SignedInfo` canonicalised with comments covers its
/// comment. Both implementations must agree on every one of these.
#[test]
fn xmlsec1_signatures_over_comments_and_whitespace_agree_on_what_is_covered() {
    let f = fixture();
    let s = Scratch::new("comments");
    let doc = dossier_with_comments();
    assert_eq!(
        schemas::dossier_from_xml(&doc).expect("the commented dossier is valid"),
        schemas::dossier_from_xml(&example("khai-tu.xml")).expect("khai-tu.xml is valid"),
        "comments and whitespace change nothing in the dossier"
    );
    let signers = [("portal-hanoi", A::RsaPkcs1Sha256), ("portal-danang", A::EcdsaSha384)];
    let cases = [
        (exc(true), Some(exc(true))),
        (inc(true), Some(inc(true))),
        (inc(true), None),
        (exc(false), Some(exc(true))),
        (exc(false), Some(exc(false))),
        (inc(false), Some(inc(false))),
    ];
    for (who, method) in signers {
        for (si, transform) in &cases {
            for reference in REFERENCES {
                let t = Template { decorated: true, ..Template::new(method, si.clone(), transform.clone(), reference) };
                let label = format!("xmlsec1 {who} {} {t:?} over comments", method.name());
                let signed = xmlsec_sign(&s, &f, who, &t.apply(&doc), reference);
                assert_eq!(find(&signed, SIGNED_INFO_COMMENT.as_bytes()).len(), 1, "{label}: xmlsec1 kept the comment");
                let v = check_gateway_accepts(&f, &signed, &doc, who, &t, &label);
                assert!(find(&v.signed_octets, b"<!--").is_empty(), "{label}: the reference covers no comment");
                // Canonical: line ends normalised, no whitespace left inside tags.
                assert!(!v.signed_octets.contains(&b'\r'), "{label}: a CR in the signed octets");
                assert!(find(&v.signed_octets, b" >").is_empty(), "{label}: whitespace in a tag of the signed octets");
                assert_eq!(find(&v.signed_octets, b"<MaHoSo>").len(), 1, "{label}");
                assert_xmlsec_ok(&s, &f, &signed, reference, &label);

                // A comment in the dossier is not covered: changing it breaks neither side.
                let changed = replace_once(&signed, "<!-- người nộp -->", "<!-- người nộp: đã sửa -->");
                verify_xml(&changed, &f.store, &now())
                    .unwrap_or_else(|e| panic!("{label}: a changed comment in the dossier: {e} ({})", e.code()))
                    .expect("signed");
                assert_xmlsec_ok(&s, &f, &changed, reference, &format!("{label}, a changed comment in the dossier"));

                // The comment in SignedInfo is covered exactly when SignedInfo is
                // canonicalised with comments.
                let changed = replace_once(&signed, SIGNED_INFO_COMMENT, "<!-- ký bởi ai khác -->");
                let ours = verify_xml(&changed, &f.store, &now());
                let (theirs, cmd) = xmlsec_verify(&s, &f, &changed, reference);
                if si.with_comments() {
                    let e = ours.expect_err(&format!("{label}: a changed comment in SignedInfo is accepted"));
                    assert_eq!(e.code(), "signature_invalid", "{label}: {e}");
                    assert!(!theirs.status.success(), "{label}: xmlsec1 accepts a changed SignedInfo ({cmd})");
                } else {
                    ours.unwrap_or_else(|e| panic!("{label}: a changed comment in SignedInfo: {e} ({})", e.code()))
                        .expect("signed");
                    assert!(verified_ok(&theirs), "{label}: {cmd}: {}", stderr(&theirs));
                }
            }
        }
    }
}
