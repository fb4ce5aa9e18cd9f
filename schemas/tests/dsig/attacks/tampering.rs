//! Tampered content and tampered `SignedInfo`: refused as a digest mismatch or
//! an invalid signature.

use std::collections::BTreeSet;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use schemas::dsig::{sign_xml, ReferenceStyle, XmlSignOptions};

use super::helpers::{
    chain_b64, key_info, redigest, replace_once, set_text, signed, text_of, with_key_info, CM_EXC, ROOT_ID,
    SM_RSA_SHA256, T_EXC,
};
use super::{accepted, case, run, Case};
use crate::support::{example, fixture, Fixture};

pub(crate) fn tampering_cases(f: &Fixture) -> Vec<Case> {
    let whole = signed(f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let by_id = signed(f, "portal-hanoi", ReferenceStyle::RootId);
    let ec = signed(f, "portal-hcm", ReferenceStyle::WholeDocument);
    let field = "<ChuHoSo>Phạm Thị Lan</ChuHoSo>";
    let forged = "<ChuHoSo>Nguyễn Văn Gian</ChuHoSo>";
    let mut cases = vec![
        accepted("baseline URI=\"\"", whole.clone(), "portal-hanoi"),
        accepted("baseline URI=#id", by_id.clone(), "portal-hanoi"),
        accepted("baseline ECDSA", ec.clone(), "portal-hcm"),
        // Content changed after signing.
        case("field value changed (URI=\"\")", replace_once(&whole, field, forged), "signature_digest_mismatch"),
        case("field value changed (URI=#id)", replace_once(&by_id, field, forged), "signature_digest_mismatch"),
        case("field value changed (ECDSA)", replace_once(&ec, field, forged), "signature_digest_mismatch"),
        case("fee changed", replace_once(&whole, "<Gia>0</Gia>", "<Gia>1500000</Gia>"), "signature_digest_mismatch"),
        case(
            "element added",
            replace_once(&whole, "<TaiLieuNop>", "<TaiLieuNop><TepDinhKem><TepDinhKemId>X</TepDinhKemId></TepDinhKem>"),
            "signature_digest_mismatch",
        ),
        case(
            "element removed",
            replace_once(&whole, "<Email>phamthilan.hh@example.vn</Email>", ""),
            "signature_digest_mismatch",
        ),
        case(
            "attribute added to the root",
            replace_once(&whole, &format!("Id=\"{ROOT_ID}\""), &format!("Id=\"{ROOT_ID}\" Uu_Tien=\"1\"")),
            "signature_digest_mismatch",
        ),
        case(
            "whitespace in a value changed",
            replace_once(&whole, "<SoDienThoai>0915 246 810</SoDienThoai>", "<SoDienThoai>0915  246 810</SoDienThoai>"),
            "signature_digest_mismatch",
        ),
        case(
            "processing instruction after the root (URI=\"\" covers it)",
            format!("{whole}<?lienthong route=evil?>"),
            "signature_digest_mismatch",
        ),
        // SignedInfo changed: the signature value no longer covers it.
        case(
            "content changed and DigestValue fixed to match",
            redigest(&replace_once(&whole, field, forged)),
            "signature_invalid",
        ),
        case(
            "content changed and DigestValue fixed to match (URI=#id)",
            redigest(&replace_once(&by_id, field, forged)),
            "signature_invalid",
        ),
        case(
            "content changed and DigestValue fixed to match (ECDSA)",
            redigest(&replace_once(&ec, field, forged)),
            "signature_invalid",
        ),
        case(
            "SignatureMethod changed within the key's family",
            replace_once(&whole, SM_RSA_SHA256, &SM_RSA_SHA256.replace("rsa-sha256", "rsa-sha512")),
            "signature_invalid",
        ),
        case(
            "SignatureMethod changed from PKCS#1 to PSS",
            replace_once(
                &whole,
                SM_RSA_SHA256,
                r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"/>"#,
            ),
            "signature_invalid",
        ),
        case(
            "CanonicalizationMethod changed to another accepted one",
            replace_once(
                &whole,
                CM_EXC,
                r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>"#,
            ),
            "signature_invalid",
        ),
        case(
            "reference transform changed to another accepted one",
            replace_once(
                &whole,
                T_EXC,
                r#"<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>"#,
            ),
            "signature_invalid",
        ),
    ];
    // A flipped bit in the signature value.
    let sv = text_of(&whole, "ds:SignatureValue");
    let mut raw = B64.decode(sv).expect("base64");
    raw[10] ^= 1;
    cases.push(case(
        "signature value bit flipped",
        set_text(&whole, "ds:SignatureValue", &B64.encode(&raw)),
        "signature_invalid",
    ));
    let sv = text_of(&ec, "ds:SignatureValue");
    let mut raw = B64.decode(sv).expect("base64");
    raw[40] ^= 0x80;
    cases.push(case(
        "ECDSA signature value bit flipped",
        set_text(&ec, "ds:SignatureValue", &B64.encode(&raw)),
        "signature_invalid",
    ));
    // The signature value of another document by the same key.
    let other = String::from_utf8(
        sign_xml(&example("ly-lich-tu-phap.xml"), &f.identity("portal-hanoi"), &XmlSignOptions::default())
            .expect("sign"),
    )
    .expect("UTF-8");
    cases.push(case(
        "signature value taken from another document of the same signer",
        set_text(&whole, "ds:SignatureValue", text_of(&other, "ds:SignatureValue")),
        "signature_invalid",
    ));
    // Key substitution: the certificate of another RSA-2048 key with the same CN.
    let client = chain_b64(&f.pki.files("portal-hanoi-client").2);
    cases.push(case(
        "certificate replaced by another key's certificate (same CN)",
        with_key_info(&whole, &key_info(&client)),
        "signature_invalid",
    ));
    cases
}

#[test]
fn tampering_is_refused() {
    let f = fixture();
    let codes = run(&f, tampering_cases(&f));
    assert_eq!(codes, BTreeSet::from(["signature_digest_mismatch", "signature_invalid"]));
}
