//! The gateway signs, xmlsec1 verifies (the second direction): every signature
//! method and canonicalisation, only under the signer's own root, and with CRLs
//! that revoke a signer.

use std::path::{Path, PathBuf};

use schemas::c14n::Algorithm;
use schemas::dsig::{sign_xml, verify_xml, ReferenceStyle, SignatureAlgorithm as A, XmlSignOptions};

use super::documents::{dossier_with_comments, replace_once};
use super::{
    assert_xmlsec_ok, exc, exc_default_ns, inc, roots, stderr, verified_ok, xmlsec_verify_with, Scratch, REFERENCES,
    SIGNERS,
};
use crate::support::{example, fixture, now, Fixture};

fn sign_c14n_variants() -> Vec<Algorithm> {
    vec![exc(false), exc(true), exc_default_ns(), inc(false), inc(true)]
}

#[test]
fn gateway_signatures_verify_with_xmlsec1() {
    let f = fixture();
    let s = Scratch::new("verify");
    let docs = [("khai-tu.xml", example("khai-tu.xml")), ("khai-tu.xml with comments", dossier_with_comments())];
    let mut n = 0;
    for (name, doc) in &docs {
        for &(who, alg) in SIGNERS {
            let id = f.identity_with(who, alg);
            for c14n in sign_c14n_variants() {
                for reference in REFERENCES {
                    let label = format!("sign_xml {name} {who} {} {c14n:?} {reference:?}", alg.name());
                    let opts = XmlSignOptions { c14n: c14n.clone(), reference };
                    let signed = sign_xml(doc, &id, &opts).unwrap_or_else(|e| panic!("{label}: {e}"));
                    assert_xmlsec_ok(&s, &f, &signed, reference, &label);
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, docs.len() * SIGNERS.len() * sign_c14n_variants().len() * 2);
}

/// xmlsec1 builds the chain from the certificates of `X509Data` up to a root it
/// trusts: with only another root trusted, or none, it refuses what it accepts
/// with the right one.
#[test]
fn xmlsec1_refuses_a_gateway_signature_without_its_root() {
    let f = fixture();
    let s = Scratch::new("anchor");
    let doc = example("khai-tu.xml");
    for (who, alg, root) in [
        ("portal-hanoi", A::RsaPkcs1Sha256, "roots/national-root-old.pem"),
        ("portal-hcm", A::EcdsaSha256, "roots/national-root-2025.pem"),
        ("mpi", A::RsaPkcs1Sha512, "roots/government-ca.pem"),
    ] {
        let signed = sign_xml(&doc, &f.identity_with(who, alg), &XmlSignOptions::default()).expect("sign");
        let reference = ReferenceStyle::WholeDocument;
        let (out, cmd) = xmlsec_verify_with(&s, &signed, reference, &[f.pki.path(root)]);
        assert!(verified_ok(&out), "{who} under {root} alone ({cmd}): {}", stderr(&out));
        let others: Vec<PathBuf> = roots(&f).into_iter().filter(|p| !p.ends_with(root)).collect();
        assert_eq!(others.len(), 2);
        for trusted in [others, vec![]] {
            let (out, cmd) = xmlsec_verify_with(&s, &signed, reference, &trusted);
            let err = stderr(&out);
            assert!(!out.status.success(), "{who} without {root}: xmlsec1 accepts it ({cmd}): {err}");
            assert!(err.contains("certificate verification failed"), "{who} without {root} ({cmd}): {err}");
        }
    }
}

/// The PEM of a CRL file as the base64 of an `X509CRL` element.
fn crl_base64(path: &Path) -> String {
    let pem = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// Adds every dev CRL to the signature's `X509Data` (not covered by the signature).
fn with_crls(f: &Fixture, signed: &[u8]) -> Vec<u8> {
    let mut crls: Vec<PathBuf> =
        std::fs::read_dir(f.pki.crls()).expect("read the CRL directory").map(|e| e.expect("a CRL").path()).collect();
    crls.sort();
    assert_eq!(crls.len(), 6, "a CRL for every root and intermediate: {crls:?}");
    let elements: String = crls.iter().map(|c| format!("<ds:X509CRL>{}</ds:X509CRL>", crl_base64(c))).collect();
    replace_once(signed, "</ds:X509Data>", &format!("{elements}</ds:X509Data>"))
}

/// xmlsec1 1.2.37 has no `--crl-pem`; it takes CRLs from `X509Data` and checks
/// each one's signature against its trusted certificates only, so here the
/// intermediates are trusted too. It then refuses the revoked member, as the
/// gateway does, and accepts a valid one.
#[test]
fn xmlsec1_honours_a_crl_and_agrees_on_a_revoked_signer() {
    let f = fixture();
    let s = Scratch::new("crl");
    let doc = example("khai-tu.xml");
    let mut trusted = roots(&f);
    for i in ["national-old-signing", "national-2025-signing", "government-signing"] {
        trusted.push(f.pki.path(&format!("intermediates/{i}.pem")));
    }
    for reference in REFERENCES {
        let opts = XmlSignOptions { reference, ..XmlSignOptions::default() };

        let valid = sign_xml(&doc, &f.identity("portal-hanoi"), &opts).expect("sign");
        let valid = with_crls(&f, &valid);
        verify_xml(&valid, &f.store, &now()).expect("the gateway ignores X509CRL").expect("signed");
        let (out, cmd) = xmlsec_verify_with(&s, &valid, reference, &trusted);
        assert!(verified_ok(&out), "portal-hanoi with the CRLs ({cmd}): {}", stderr(&out));

        let revoked = sign_xml(&doc, &f.identity("portal-revoked"), &opts).expect("a revoked key still signs");
        let e = verify_xml(&revoked, &f.store, &now()).expect_err("the gateway accepts a revoked signer");
        assert_eq!(e.code(), "certificate_revoked", "{e}");
        // Without the CRL xmlsec1 has no way to know ...
        let (out, cmd) = xmlsec_verify_with(&s, &revoked, reference, &trusted);
        assert!(verified_ok(&out), "portal-revoked without CRLs ({cmd}): {}", stderr(&out));
        // ... with it, it refuses the signer.
        let (out, cmd) = xmlsec_verify_with(&s, &with_crls(&f, &revoked), reference, &trusted);
        let err = stderr(&out);
        assert!(!out.status.success(), "portal-revoked with the CRLs: xmlsec1 accepts it ({cmd}): {err}");
        assert!(err.contains("certificate is revoked"), "portal-revoked with the CRLs ({cmd}): {err}");
    }
}
