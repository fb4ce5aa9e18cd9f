//! What XMLDSig leaves unsigned is accepted, but never handed on: it is not in
//! the signed octets.

use schemas::dsig::{verify_xml, ReferenceStyle};

use super::helpers::{replace_once, signed, EXAMPLE};
use crate::support::{example, fixture, now};

#[test]
fn unsigned_additions_verify_but_are_not_in_the_signed_octets() {
    let f = fixture();
    let unsigned = schemas::dossier_from_xml(&example(EXAMPLE)).expect("the example is a dossier");
    let whole = signed(&f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let by_id = signed(&f, "portal-hanoi", ReferenceStyle::RootId);
    let evil = "<MaHoSo>000.00.21.H41-999999-0001</MaHoSo>";
    let cases = [
        // Everything inside the enveloped signature is removed before digesting.
        (
            "content inside a ds:Object",
            replace_once(&whole, "</ds:Signature>", &format!("<ds:Object>{evil}</ds:Object></ds:Signature>")),
        ),
        (
            "a KeyName next to the certificate",
            replace_once(&whole, "<ds:KeyInfo>", "<ds:KeyInfo><ds:KeyName>portal-hcm</ds:KeyName>"),
        ),
        // References dereference without comments.
        ("a comment in the content", replace_once(&whole, "<ChuHoSo>", "<ChuHoSo><!-- Kẻ Gian -->")),
        // URI=#id covers the document element only.
        ("a processing instruction after the root (URI=#id)", format!("{by_id}<?lienthong route=evil?>")),
        ("a comment before the root (URI=#id)", replace_once(&by_id, "<HoSo ", &format!("<!-- {evil} --><HoSo "))),
    ];
    for (name, xml) in cases {
        let v = verify_xml(xml.as_bytes(), &f.store, &now())
            .unwrap_or_else(|e| panic!("{name}: refused with {}", e.code()))
            .unwrap_or_else(|| panic!("{name}: read as unsigned"));
        let octets = String::from_utf8(v.signed_octets).expect("UTF-8");
        assert!(!octets.contains("999999") && !octets.contains("Kẻ Gian") && !octets.contains("evil"), "{name}");
        assert!(!octets.contains("portal-hcm") && !octets.contains("ds:Signature"), "{name}");
        assert_eq!(schemas::dossier_from_xml(octets.as_bytes()).expect("the signed octets parse"), unsigned, "{name}");
    }
}
