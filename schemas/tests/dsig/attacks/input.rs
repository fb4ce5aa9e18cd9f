//! XML input hardening: DOCTYPEs and entities, malformed input and unsupported
//! encodings are refused before the signature is read.

use schemas::dsig::ReferenceStyle;

use super::helpers::{replace_once, signed};
use super::{accepted, case, run, Case, Expect, Store};
use crate::support::{fixture, Fixture};

pub(crate) fn input_cases(f: &Fixture) -> Vec<Case> {
    let whole = signed(f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let decl = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
    let with_decl = |d: &str| replace_once(&whole, decl, d);
    let after_decl = |extra: &str| replace_once(&whole, decl, &format!("{decl}\n{extra}"));
    const ENC: &[&str] = &["xml_encoding_unsupported", "malformed_xml"];
    let mut invalid_utf8 = whole.clone().into_bytes();
    let at = invalid_utf8.windows(7).position(|w| w == b"<MaHoSo").expect("a field") + 8;
    invalid_utf8.insert(at, 0xff);
    let latin1: Vec<u8> = with_decl(r#"<?xml version="1.0" encoding="ISO-8859-1"?>"#)
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(whole.encode_utf16().flat_map(u16::to_le_bytes));
    let mut utf8_bom = vec![0xef, 0xbb, 0xbf];
    utf8_bom.extend_from_slice(whole.as_bytes());
    vec![
        case("DOCTYPE", after_decl("<!DOCTYPE HoSo>"), "xml_doctype_forbidden"),
        case(
            "DOCTYPE after the leading comment",
            replace_once(&whole, "<HoSo ", "<!DOCTYPE HoSo><HoSo "),
            "xml_doctype_forbidden",
        ),
        case(
            "DOCTYPE with an external entity (XXE)",
            replace_once(
                &after_decl(r#"<!DOCTYPE HoSo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"#),
                "<ChuHoSo>Phạm Thị Lan</ChuHoSo>",
                "<ChuHoSo>&xxe;</ChuHoSo>",
            ),
            "xml_doctype_forbidden",
        ),
        case(
            "DOCTYPE with entity expansion (billion laughs)",
            after_decl(r#"<!DOCTYPE HoSo [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>"#),
            "xml_doctype_forbidden",
        ),
        case(
            "an undeclared entity",
            replace_once(&whole, "<ChuHoSo>Phạm Thị Lan</ChuHoSo>", "<ChuHoSo>&xxe;</ChuHoSo>"),
            "malformed_xml",
        ),
        case("truncated", whole[..whole.len() - 20].to_owned(), "malformed_xml"),
        case("not XML", "ho so".to_owned(), "malformed_xml"),
        Case { name: "invalid UTF-8".into(), xml: invalid_utf8, store: Store::Dev, expect: Expect::OneOf(ENC) },
        Case { name: "declared ISO-8859-1".into(), xml: latin1, store: Store::Dev, expect: Expect::OneOf(ENC) },
        Case { name: "UTF-16 with a BOM".into(), xml: utf16, store: Store::Dev, expect: Expect::OneOf(ENC) },
        case("declared UTF-16", with_decl(r#"<?xml version="1.0" encoding="UTF-16"?>"#), "xml_encoding_unsupported"),
        accepted("a UTF-8 byte order mark is fine", utf8_bom, "portal-hanoi"),
    ]
}

#[test]
fn hostile_xml_input_is_refused_before_the_signature_is_read() {
    let f = fixture();
    let codes = run(&f, input_cases(&f));
    assert!(codes.contains("xml_doctype_forbidden"));
    assert!(codes.contains("malformed_xml"));
    assert!(codes.contains("xml_encoding_unsupported"), "no encoding refusal produced its own code: {codes:?}");
}
