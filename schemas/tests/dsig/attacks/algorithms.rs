//! Refused algorithms, transforms, canonicalisations and key sources, and a
//! malformed signature structure: each refused with its own code.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use schemas::dsig::ReferenceStyle;

use super::helpers::{
    element, key_info, openssl_sign, replace_once, reseal, reseal_with, set_text, signed, signed_by, CM_EXC, DM_SHA256,
    SM_ECDSA_SHA256, SM_RSA_SHA256, T_ENVELOPED, T_EXC,
};
use super::{accepted, case, run, Case};
use crate::support::{fixture, Fixture};

pub(crate) fn algorithm_cases(f: &Fixture) -> Vec<Case> {
    let hanoi = f.identity("portal-hanoi");
    let whole = signed_by(&hanoi, ReferenceStyle::WholeDocument);
    let hcm = signed(f, "portal-hcm", ReferenceStyle::WholeDocument);
    let sm = |uri: &str| format!("<ds:SignatureMethod Algorithm=\"{uri}\"/>");
    let dm = |uri: &str| format!("<ds:DigestMethod Algorithm=\"{uri}\"/>");
    let t = |uri: &str, body: &str| format!("<ds:Transform Algorithm=\"{uri}\">{body}</ds:Transform>");
    // Edited and re-signed with the member's key.
    let edit = |from: &str, to: &str| reseal(&replace_once(&whole, from, to), &hanoi);
    let mut cases = vec![accepted("baseline", whole.clone(), "portal-hanoi")];

    for (name, uri, code) in [
        ("rsa-sha1", "http://www.w3.org/2000/09/xmldsig#rsa-sha1", "signature_algorithm_sha1"),
        ("ecdsa-sha1", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", "signature_algorithm_sha1"),
        ("rsa-md5", "http://www.w3.org/2001/04/xmldsig-more#rsa-md5", "signature_algorithm_md5"),
        ("hmac-sha256", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", "signature_algorithm_hmac"),
        ("hmac-sha1", "http://www.w3.org/2000/09/xmldsig#hmac-sha1", "signature_algorithm_hmac"),
        ("dsa-sha1", "http://www.w3.org/2000/09/xmldsig#dsa-sha1", "signature_algorithm_dsa"),
        ("dsa-sha256", "http://www.w3.org/2009/xmldsig11#dsa-sha256", "signature_algorithm_dsa"),
        ("an unknown URI", "urn:example:signature:rsa-sha256", "signature_algorithm_unknown"),
        ("rsa-sha224", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224", "signature_algorithm_unknown"),
        ("ecdsa-sha512", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", "signature_algorithm_unknown"),
        ("an empty URI", "", "signature_algorithm_unknown"),
    ] {
        cases.push(case(&format!("SignatureMethod {name}"), edit(SM_RSA_SHA256, &sm(uri)), code));
    }
    cases.push(case(
        "HMAC with an output length",
        edit(
            SM_RSA_SHA256,
            r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"><ds:HMACOutputLength>0</ds:HMACOutputLength></ds:SignatureMethod>"#,
        ),
        "signature_algorithm_hmac",
    ));
    // A genuine rsa-sha1 signature, made with the member's own key by OpenSSL.
    let (key, _, _) = f.pki.files("portal-hanoi");
    let sha1 = replace_once(&whole, SM_RSA_SHA256, &sm("http://www.w3.org/2000/09/xmldsig#rsa-sha1"));
    cases.push(case(
        "a genuine rsa-sha1 signature by a trusted member",
        reseal_with(&sha1, |b| openssl_sign(&key, "sha1", b)),
        "signature_algorithm_sha1",
    ));
    for (name, uri, code) in [
        ("sha1", "http://www.w3.org/2000/09/xmldsig#sha1", "signature_algorithm_sha1"),
        ("md5", "http://www.w3.org/2001/04/xmldsig-more#md5", "signature_algorithm_md5"),
        ("sha224", "http://www.w3.org/2001/04/xmldsig-more#sha224", "signature_algorithm_unknown"),
        ("sha3-256", "http://www.w3.org/2007/05/xmldsig-more#sha3-256", "signature_algorithm_unknown"),
    ] {
        cases.push(case(&format!("DigestMethod {name}"), edit(DM_SHA256, &dm(uri)), code));
    }
    cases.push(case(
        "key mismatch: an ECDSA key under rsa-sha256",
        replace_once(&hcm, SM_ECDSA_SHA256, SM_RSA_SHA256),
        "signature_key_mismatch",
    ));
    cases.push(case(
        "key mismatch: an RSA key under ecdsa-sha256",
        edit(SM_RSA_SHA256, SM_ECDSA_SHA256),
        "signature_key_mismatch",
    ));

    // Transforms.
    let xpath =
        t("http://www.w3.org/TR/1999/REC-xpath-19991116", "<ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath>");
    let filter2 = t(
        "http://www.w3.org/2002/06/xmldsig-filter2",
        r#"<dsig-xpath:XPath xmlns:dsig-xpath="http://www.w3.org/2002/06/xmldsig-filter2" Filter="intersect">/</dsig-xpath:XPath>"#,
    );
    let xslt = t(
        "http://www.w3.org/TR/1999/REC-xslt-19991116",
        r#"<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:template match="/"><HoSo/></xsl:template></xsl:stylesheet>"#,
    );
    cases.push(case("XPath transform instead of C14N", edit(T_EXC, &xpath), "signature_transform_xpath"));
    cases.push(case(
        "XPath transform before enveloped-signature",
        edit(T_ENVELOPED, &format!("{xpath}{T_ENVELOPED}")),
        "signature_transform_xpath",
    ));
    cases.push(case("XPath Filter 2.0 transform", edit(T_EXC, &filter2), "signature_transform_xpath"));
    cases.push(case("XSLT transform", edit(T_EXC, &xslt), "signature_transform_xslt"));
    cases.push(case(
        "base64 transform",
        edit(T_EXC, &t("http://www.w3.org/2000/09/xmldsig#base64", "")),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "unknown transform",
        edit(T_EXC, &t("urn:example:transform", "")),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "C14N 1.1 as a transform",
        edit(T_EXC, &t("http://www.w3.org/2006/12/xml-c14n11", "")),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "enveloped-signature transform missing (C14N only)",
        edit(T_ENVELOPED, ""),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "no Transforms at all",
        edit(&format!("<ds:Transforms>{T_ENVELOPED}{T_EXC}</ds:Transforms>"), ""),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "empty Transforms",
        edit(&format!("<ds:Transforms>{T_ENVELOPED}{T_EXC}</ds:Transforms>"), "<ds:Transforms/>"),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "enveloped-signature twice",
        edit(T_ENVELOPED, &format!("{T_ENVELOPED}{T_ENVELOPED}")),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "C14N before enveloped-signature",
        edit(&format!("{T_ENVELOPED}{T_EXC}"), &format!("{T_EXC}{T_ENVELOPED}")),
        "signature_transform_unsupported",
    ));
    cases.push(case("two C14N transforms", edit(T_EXC, &format!("{T_EXC}{T_EXC}")), "signature_transform_unsupported"));

    // Canonicalisation of SignedInfo.
    for (name, uri) in [
        ("C14N 1.1", "http://www.w3.org/2006/12/xml-c14n11"),
        ("C14N 1.1 with comments", "http://www.w3.org/2006/12/xml-c14n11#WithComments"),
        ("an unknown URI", "urn:example:c14n"),
    ] {
        cases.push(case(
            &format!("CanonicalizationMethod {name}"),
            edit(CM_EXC, &format!("<ds:CanonicalizationMethod Algorithm=\"{uri}\"/>")),
            "signature_c14n_unsupported",
        ));
    }

    // Key sources.
    let ki = element(&whole, "ds:KeyInfo").to_owned();
    let retrieval = r#"<ds:RetrievalMethod URI="http://evil.example/cert.der" Type="http://www.w3.org/2000/09/xmldsig#rawX509Certificate"/>"#;
    cases.push(case(
        "KeyInfo RetrievalMethod instead of the certificate",
        replace_once(&whole, &ki, &format!("<ds:KeyInfo>{retrieval}</ds:KeyInfo>")),
        "signature_key_source_unsupported",
    ));
    cases.push(case(
        "KeyInfo RetrievalMethod next to the certificate",
        replace_once(&whole, "</ds:X509Data></ds:KeyInfo>", &format!("</ds:X509Data>{retrieval}</ds:KeyInfo>")),
        "signature_key_source_unsupported",
    ));
    cases.push(case("no KeyInfo", replace_once(&whole, &ki, ""), "signature_no_certificate"));
    cases.push(case(
        "KeyInfo with a KeyName only",
        replace_once(&whole, &ki, "<ds:KeyInfo><ds:KeyName>portal-hanoi</ds:KeyName></ds:KeyInfo>"),
        "signature_no_certificate",
    ));
    cases.push(case(
        "empty X509Data",
        replace_once(&whole, &ki, "<ds:KeyInfo><ds:X509Data/></ds:KeyInfo>"),
        "signature_no_certificate",
    ));
    cases.push(case(
        "X509Data with a subject name only",
        replace_once(
            &whole,
            &ki,
            "<ds:KeyInfo><ds:X509Data><ds:X509SubjectName>CN=portal-hanoi</ds:X509SubjectName></ds:X509Data></ds:KeyInfo>",
        ),
        "signature_no_certificate",
    ));
    cases.push(case(
        "X509Certificate that is not a certificate",
        replace_once(&whole, &ki, &key_info(&[B64.encode(b"not a certificate at all")])),
        "certificate_malformed",
    ));

    // Structure.
    cases.push(case(
        "SignatureValue missing",
        replace_once(&whole, element(&whole, "ds:SignatureValue"), ""),
        "signature_malformed",
    ));
    cases.push(case(
        "SignatureValue not base64",
        set_text(&whole, "ds:SignatureValue", "!!not-base64!!"),
        "signature_malformed",
    ));
    cases.push(case("text inside SignedInfo", edit(CM_EXC, &format!("{CM_EXC}chen chu")), "signature_malformed"));
    cases.push(case(
        "two KeyInfo elements",
        replace_once(&whole, "</ds:KeyInfo>", &format!("</ds:KeyInfo>{ki}")),
        "signature_malformed",
    ));
    cases.push(case(
        "an Object before KeyInfo",
        replace_once(&whole, "<ds:KeyInfo>", "<ds:Object/><ds:KeyInfo>"),
        "signature_malformed",
    ));
    cases.push(case(
        "SignatureMethod without Algorithm",
        edit(SM_RSA_SHA256, "<ds:SignatureMethod/>"),
        "signature_malformed",
    ));
    cases
}

#[test]
fn refused_algorithms_transforms_and_key_sources_each_have_their_code() {
    let f = fixture();
    let codes = run(&f, algorithm_cases(&f));
    for c in [
        "signature_algorithm_sha1",
        "signature_algorithm_md5",
        "signature_algorithm_hmac",
        "signature_algorithm_dsa",
        "signature_algorithm_unknown",
        "signature_transform_xpath",
        "signature_transform_xslt",
        "signature_transform_unsupported",
        "signature_c14n_unsupported",
        "signature_key_source_unsupported",
        "signature_no_certificate",
        "signature_key_mismatch",
        "signature_malformed",
        "certificate_malformed",
    ] {
        assert!(codes.contains(c), "{c} not produced");
    }
}
