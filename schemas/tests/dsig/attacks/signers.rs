//! Refused signers: untrusted, expired, revoked, weak or misused certificates,
//! incomplete or padded chains, a forged certificate, and revocation under each
//! policy; each refused with its own code.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use schemas::dsig::ReferenceStyle;
use schemas::pki::SigningIdentity;

use super::helpers::{chain_b64, key_info, openssl_sign, reseal_with, signed, signed_by, with_key_info};
use super::{accepted, case, run, Case, Store};
use crate::support::{fixture, Fixture};

/// The document signed by a certificate of the dev PKI whose key the library
/// refuses to load: signed by portal-hanoi, then the certificates replaced and
/// SignedInfo re-signed (rsa-sha256) with the certificate's own key by OpenSSL.
fn signed_by_openssl(f: &Fixture, name: &str) -> String {
    let whole = signed(f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let (key, _, chain) = f.pki.files(name);
    let swapped = with_key_info(&whole, &key_info(&chain_b64(&chain)));
    reseal_with(&swapped, |b| openssl_sign(&key, "sha256", b))
}

/// The certificate of `victim` with its SubjectPublicKeyInfo replaced by that of
/// `attacker` (keys of the same size, so that every length stays the same).
fn forged_certificate(f: &Fixture, victim: &str, attacker: &str) -> Vec<u8> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let der = |n: &str| {
        let pem = std::fs::read(f.pki.files(n).1).expect("read the certificate");
        CertificateDer::from_pem_slice(&pem).expect("PEM").as_ref().to_vec()
    };
    let (v, a) = (der(victim), der(attacker));
    let spki = |d: &[u8]| X509Certificate::from_der(d).expect("a certificate").1.public_key().raw.to_vec();
    let (vs, as_) = (spki(&v), spki(&a));
    assert_eq!(vs.len(), as_.len(), "keys of the same encoded size");
    let at = v.windows(vs.len()).position(|w| w == vs.as_slice()).expect("the SPKI in the certificate");
    let mut forged = v.clone();
    forged[at..at + vs.len()].copy_from_slice(&as_);
    forged
}

pub(crate) fn signer_cases(f: &Fixture) -> Vec<Case> {
    let mut cases =
        vec![accepted("baseline", signed(f, "portal-hanoi", ReferenceStyle::WholeDocument), "portal-hanoi")];
    for (who, code) in [
        ("untrusted-leaf", "certificate_untrusted"),
        ("expired", "certificate_expired"),
        ("not-yet-valid", "certificate_not_yet_valid"),
        ("portal-revoked", "certificate_revoked"),
        ("sha1-signed", "certificate_weak_algorithm"),
        ("no-digital-signature", "certificate_wrong_usage"),
        ("localhost", "certificate_wrong_usage"),
        ("portal-hanoi-client", "certificate_wrong_usage"),
    ] {
        cases.push(case(&format!("signer {who}"), signed(f, who, ReferenceStyle::WholeDocument), code));
    }
    cases.push(case(
        "signer weak-rsa-1024 (signed by OpenSSL)",
        signed_by_openssl(f, "weak-rsa-1024"),
        "signature_key_too_weak",
    ));
    // A CA certificate signing a document itself.
    let ca = SigningIdentity::load(
        &f.pki.path("ca/national-2025-signing/key.pem"),
        &f.pki.path("intermediates/national-2025-signing.pem"),
    )
    .expect("load the intermediate CA's key");
    cases.push(case(
        "signer is a CA certificate",
        signed_by(&ca, ReferenceStyle::WholeDocument),
        "certificate_wrong_usage",
    ));
    // The untrusted leaf presented without its own root.
    let untrusted = signed(f, "untrusted-leaf", ReferenceStyle::WholeDocument);
    let leaf_only = chain_b64(&f.pki.files("untrusted-leaf").2)[..1].to_vec();
    cases.push(case(
        "signer untrusted-leaf without its root",
        with_key_info(&untrusted, &key_info(&leaf_only)),
        "certificate_untrusted",
    ));
    // Which carried certificate is the signer's follows from the chain, not the order.
    let chain = chain_b64(&f.pki.files("portal-hanoi").2);
    let hanoi_doc = signed(f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let with_certs = |certs: &[&String]| {
        with_key_info(&hanoi_doc, &key_info(&certs.iter().map(|c| (*c).clone()).collect::<Vec<_>>()))
    };
    let root = chain_b64(&f.pki.path("roots/national-root-old.pem")).remove(0);
    let hcm_leaf = chain_b64(&f.pki.files("portal-hcm").1).remove(0);
    cases.push(accepted("chain in reverse order", with_certs(&[&chain[1], &chain[0]]), "portal-hanoi"));
    cases.push(accepted("chain with its root", with_certs(&[&chain[0], &chain[1], &root]), "portal-hanoi"));
    cases.push(case(
        "an unrelated certificate next to the chain",
        with_certs(&[&chain[0], &chain[1], &hcm_leaf]),
        "certificate_malformed",
    ));
    cases.push(case("the leaf twice", with_certs(&[&chain[0], &chain[0], &chain[1]]), "certificate_malformed"));
    // A member's certificate without its intermediate: no path to a root.
    let hanoi = signed(f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let hanoi_leaf = chain_b64(&f.pki.files("portal-hanoi").2)[..1].to_vec();
    cases.push(case(
        "member certificate without its intermediate",
        with_key_info(&hanoi, &key_info(&hanoi_leaf)),
        "certificate_untrusted",
    ));
    // portal-hanoi's certificate with the key swapped for the attacker's (the
    // signature value verifies with the swapped key; the CA's signature does not).
    let forged = forged_certificate(f, "portal-hanoi", "portal-hanoi-client");
    let intermediate = chain_b64(&f.pki.files("portal-hanoi").2)[1].clone();
    let attacker = f.identity("portal-hanoi-client");
    let forged_doc = with_key_info(
        &signed_by(&attacker, ReferenceStyle::WholeDocument),
        &key_info(&[B64.encode(&forged), intermediate]),
    );
    cases.push(case("portal-hanoi's certificate with a swapped key", forged_doc, "certificate_invalid"));

    // Revocation.
    cases.push(
        case("valid signer, no CRL loaded, revocation required", hanoi.clone(), "certificate_revocation_unknown")
            .against(Store::NoCrls),
    );
    cases.push(
        case(
            "valid signer, no CRL for its intermediate, revocation required",
            hanoi.clone(),
            "certificate_revocation_unknown",
        )
        .against(Store::RootCrlsOnly),
    );
    cases.push(
        accepted("valid signer, no CRL loaded, best effort", hanoi.clone(), "portal-hanoi")
            .against(Store::BestEffortNoCrls),
    );
    cases.push(
        accepted(
            "valid ECDSA signer, no CRL loaded, best effort",
            signed(f, "portal-hcm", ReferenceStyle::RootId),
            "portal-hcm",
        )
        .against(Store::BestEffortNoCrls),
    );
    cases.push(
        case(
            "signer portal-revoked, CRLs loaded, best effort",
            signed(f, "portal-revoked", ReferenceStyle::WholeDocument),
            "certificate_revoked",
        )
        .against(Store::BestEffort),
    );
    cases
}

#[test]
fn refused_signers_each_have_their_code() {
    let f = fixture();
    let codes = run(&f, signer_cases(&f));
    for c in [
        "certificate_untrusted",
        "certificate_expired",
        "certificate_not_yet_valid",
        "certificate_revoked",
        "certificate_revocation_unknown",
        "certificate_weak_algorithm",
        "certificate_wrong_usage",
        "certificate_invalid",
        "signature_key_too_weak",
    ] {
        assert!(codes.contains(c), "{c} not produced");
    }
}
