//! The XML dialect: root `HoSo` in namespace [`XML_NAMESPACE`], one child element per
//! DVCQG field, lists as wrapper elements (`TaiLieuNop/TepDinhKem`,
//! `DanhSachLePhi/LePhi`), and an optional `Id` attribute on the root.
//!
//! The reader is strict: no DOCTYPE (so no entity expansion of any kind), UTF-8
//! only, no processing instructions, no mixed content, one root. An enveloped
//! `ds:Signature` directly under the root is skipped here; it is checked by the
//! signature layer, which sees the same bytes.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use crate::error::{FieldError, FieldErrorKind, ParseError};
use crate::fields::{self, FieldKind, FieldSpec, FIELDS, MAX_LIST_ITEMS};
use crate::raw::{RawDossier, RawObject, RawValue};

/// The namespace of the XML dialect.
pub const XML_NAMESPACE: &str = "urn:lienthong:hoso:1";
/// The XML Signature namespace, whose `Signature` element may sit under the root.
const DSIG_NAMESPACE: &str = crate::dsig::DSIG_NS;

mod tree;
pub use tree::raw_from_tree;

// What both readers (of bytes, and of a parsed tree) say.
const NO_PI: &str = "processing instructions are not accepted";
const OBJECT_TEXT: &str = "text directly inside an element that holds fields";
const LIST_TEXT: &str = "text directly inside a list element";
const NOT_AN_ATTRIBUTE: &str = "not an attribute of HoSo";
const NOT_A_FIELD: &str = "not a field of this element";
const NOT_AN_ITEM: &str = "not an item of this list";
const REPEATED: &str = "appears more than once";
const TEXT_ONLY: &str = "must hold text only";

/// Parses an XML dossier into its raw form.
pub fn parse_xml(body: &[u8]) -> Result<RawDossier, ParseError> {
    if body.starts_with(&[0xFE, 0xFF]) || body.starts_with(&[0xFF, 0xFE]) {
        return Err(ParseError::Encoding);
    }
    if std::str::from_utf8(body).is_err() {
        return Err(ParseError::Encoding);
    }
    let mut p = Parser { r: NsReader::from_reader(body), problems: Vec::new() };
    let cfg = p.r.config_mut();
    cfg.check_end_names = true;
    cfg.check_comments = true;
    cfg.expand_empty_elements = true;
    let mut raw = RawDossier::default();
    let mut seen_root = false;
    loop {
        let (ns, ev) = p.r.read_resolved_event().map_err(malformed)?;
        let in_dossier_ns = is_ns(&ns, XML_NAMESPACE);
        match ev {
            Event::Eof => break,
            Event::Decl(d) => {
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|e| ParseError::MalformedXml(e.to_string()))?;
                    if !enc.eq_ignore_ascii_case(b"utf-8") && !enc.eq_ignore_ascii_case(b"utf8") {
                        return Err(ParseError::Encoding);
                    }
                }
            }
            Event::DocType(_) => return Err(ParseError::Doctype),
            Event::PI(_) => return Err(bad(NO_PI)),
            Event::Comment(_) => {}
            Event::Text(t) if is_blank(&t) => {}
            Event::Start(e) if !seen_root => {
                if e.local_name().as_ref() != b"HoSo" || !in_dossier_ns {
                    return Err(ParseError::WrongRoot);
                }
                seen_root = true;
                raw.xml_id = p.root_attributes(&e)?;
                raw.root = p.object(FIELDS, "", true)?;
            }
            Event::Start(_) => return Err(bad("more than one root element")),
            _ => return Err(bad("content outside the root element")),
        }
    }
    if !seen_root {
        return Err(bad("no root element"));
    }
    raw.problems = p.problems;
    Ok(raw)
}

fn malformed(e: quick_xml::Error) -> ParseError {
    ParseError::MalformedXml(e.to_string())
}

fn bad(msg: &str) -> ParseError {
    ParseError::MalformedXml(msg.to_owned())
}

fn is_ns(ns: &ResolveResult<'_>, want: &str) -> bool {
    matches!(ns, ResolveResult::Bound(n) if n.as_ref() == want.as_bytes())
}

fn is_blank(t: &[u8]) -> bool {
    t.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The field `name` of `table` under `path`, when the element (in the
/// dialect's namespace when `in_ns`) is one and `out` does not hold it yet;
/// otherwise the problem is recorded and the element is skipped.
fn field(
    table: &'static [FieldSpec],
    out: &RawObject,
    in_ns: bool,
    path: &str,
    name: &str,
    problems: &mut Vec<FieldError>,
) -> Option<&'static FieldSpec> {
    let Some(spec) = fields::find(table, name).filter(|_| in_ns) else {
        problems.push(FieldError::new(format!("{path}{name}"), FieldErrorKind::Unknown, NOT_A_FIELD));
        return None;
    };
    if out.contains_key(spec.name) {
        problems.push(FieldError::new(format!("{path}{name}"), FieldErrorKind::Duplicate, REPEATED));
        return None;
    }
    Some(spec)
}

struct Parser<'a> {
    r: NsReader<&'a [u8]>,
    problems: Vec<FieldError>,
}

impl<'a> Parser<'a> {
    fn root_attributes(&mut self, e: &BytesStart<'_>) -> Result<Option<String>, ParseError> {
        let mut id = None;
        for a in e.attributes() {
            let a = a.map_err(|e| ParseError::MalformedXml(e.to_string()))?;
            let key = a.key.as_ref();
            if key == b"xmlns" || key.starts_with(b"xmlns:") {
                continue;
            }
            if key == b"Id" {
                let v = a.decode_and_unescape_value(self.r.decoder()).map_err(malformed)?;
                id = Some(v.into_owned());
            } else {
                let name = String::from_utf8_lossy(key);
                self.problems.push(FieldError::new(format!("@{name}"), FieldErrorKind::Unknown, NOT_AN_ATTRIBUTE));
            }
        }
        Ok(id)
    }

    /// Reads the children of an element whose fields are given by `table`, up to its
    /// end tag. Only at the root may an enveloped `ds:Signature` appear.
    fn object(&mut self, table: &'static [FieldSpec], path: &str, at_root: bool) -> Result<RawObject, ParseError> {
        let mut out = RawObject::new();
        loop {
            let (ns, ev) = self.r.read_resolved_event().map_err(malformed)?;
            let in_ns = is_ns(&ns, XML_NAMESPACE);
            let is_sig = is_ns(&ns, DSIG_NAMESPACE);
            match ev {
                Event::End(_) => return Ok(out),
                Event::Start(e) => {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    if at_root && is_sig && name == "Signature" {
                        self.r.read_to_end(e.name()).map_err(malformed)?;
                        continue;
                    }
                    let Some(spec) = field(table, &out, in_ns, path, &name, &mut self.problems) else {
                        self.r.read_to_end(e.name()).map_err(malformed)?;
                        continue;
                    };
                    let value = match spec.kind {
                        FieldKind::List(item) => Some(RawValue::List(self.list(&format!("{path}{name}"), item)?)),
                        FieldKind::Object(t) => {
                            Some(RawValue::Object(self.object(fields::table(t), &format!("{path}{name}."), false)?))
                        }
                        // The path is formatted only for a problem.
                        _ => self.text(path, &name)?.map(RawValue::Text),
                    };
                    if let Some(v) = value {
                        out.insert(spec.name, v);
                    }
                }
                Event::Text(t) if is_blank(&t) => {}
                Event::Comment(_) => {}
                Event::Eof => return Err(bad("unexpected end of document")),
                Event::PI(_) => return Err(bad(NO_PI)),
                _ => return Err(bad(OBJECT_TEXT)),
            }
        }
    }

    fn list(&mut self, path: &str, item: &'static str) -> Result<Vec<RawObject>, ParseError> {
        let table = fields::table(item);
        let mut items = Vec::new();
        loop {
            let (ns, ev) = self.r.read_resolved_event().map_err(malformed)?;
            let in_ns = is_ns(&ns, XML_NAMESPACE);
            match ev {
                Event::End(_) => return Ok(items),
                Event::Start(e) if in_ns && e.local_name().as_ref() == item.as_bytes() => {
                    if items.len() >= MAX_LIST_ITEMS {
                        return Err(ParseError::MalformedXml(format!("{path} holds more than {MAX_LIST_ITEMS} items")));
                    }
                    let item_path = format!("{path}[{}].", items.len());
                    items.push(self.object(table, &item_path, false)?);
                }
                Event::Start(e) => {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    self.unknown(format!("{path}.{name}"), NOT_AN_ITEM);
                    self.r.read_to_end(e.name()).map_err(malformed)?;
                }
                Event::Text(t) if is_blank(&t) => {}
                Event::Comment(_) => {}
                Event::Eof => return Err(bad("unexpected end of document")),
                _ => return Err(bad(LIST_TEXT)),
            }
        }
    }

    /// Reads a text-only element's content up to its end tag; the field is `name`
    /// under `path`.
    fn text(&mut self, path: &str, name: &str) -> Result<Option<String>, ParseError> {
        let mut out = String::new();
        loop {
            match self.r.read_event().map_err(malformed)? {
                Event::End(_) => return Ok(Some(out)),
                Event::Text(t) => {
                    out.push_str(&t.xml10_content().map_err(|e| ParseError::MalformedXml(e.to_string()))?)
                }
                Event::CData(c) => out.push_str(&c.decode().map_err(|e| ParseError::MalformedXml(e.to_string()))?),
                Event::GeneralRef(r) => {
                    if let Some(ch) = r.resolve_char_ref().map_err(malformed)? {
                        out.push(ch);
                    } else {
                        let name = r.decode().map_err(|e| ParseError::MalformedXml(e.to_string()))?;
                        let v = quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| bad("reference to an undeclared entity"))?;
                        out.push_str(v);
                    }
                }
                Event::Comment(_) => {}
                Event::Start(e) => {
                    self.problems.push(FieldError::new(format!("{path}{name}"), FieldErrorKind::Invalid, TEXT_ONLY));
                    self.r.read_to_end(e.name()).map_err(malformed)?;
                }
                Event::Eof => return Err(bad("unexpected end of document")),
                _ => return Err(bad("unexpected markup inside a field")),
            }
        }
    }

    fn unknown(&mut self, path: String, msg: &str) {
        self.problems.push(FieldError::new(path, FieldErrorKind::Unknown, msg));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(inner: &str) -> String {
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><HoSo xmlns="urn:lienthong:hoso:1" Id="hs1">{inner}</HoSo>"#)
    }

    #[test]
    fn fields_lists_entities_and_cdata() {
        let raw = parse_xml(
            doc("<MaHoSo>A&amp;B</MaHoSo><ChuHoSo>Nguy&#7877;n <![CDATA[V<n>]]></ChuHoSo>\
                 <TaiLieuNop><TepDinhKem><TenTepDinhKem>don.pdf</TenTepDinhKem></TepDinhKem></TaiLieuNop><GhiChu/>")
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(raw.get("MaHoSo"), Some("A&B"));
        assert_eq!(raw.get("ChuHoSo"), Some("Nguyễn V<n>"));
        assert_eq!(crate::raw::text(&raw.list("TaiLieuNop")[0], "TenTepDinhKem"), Some("don.pdf"));
        assert_eq!(raw.get("GhiChu"), None);
        assert_eq!(raw.xml_id.as_deref(), Some("hs1"));
        assert!(raw.problems.is_empty(), "{:?}", raw.problems);
    }

    #[test]
    fn prefixed_namespace_and_signature_are_fine() {
        let raw = parse_xml(
            br#"<h:HoSo xmlns:h="urn:lienthong:hoso:1"><h:MaHoSo>X</h:MaHoSo><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature></h:HoSo>"#,
        )
        .unwrap();
        assert_eq!(raw.get("MaHoSo"), Some("X"));
        assert!(raw.problems.is_empty());
    }

    #[test]
    fn doctype_is_refused_outright() {
        let body = br#"<?xml version="1.0"?><!DOCTYPE HoSo [<!ENTITY x "boom">]><HoSo xmlns="urn:lienthong:hoso:1"><ChuHoSo>&x;</ChuHoSo></HoSo>"#;
        assert_eq!(parse_xml(body), Err(ParseError::Doctype));
    }

    #[test]
    fn structural_refusals() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "malformed_xml"),
            (b"<HoSo xmlns='urn:lienthong:hoso:1'>", "malformed_xml"),
            (b"<HoSo xmlns='urn:lienthong:hoso:1'><MaHoSo>x</MaHoS></HoSo>", "malformed_xml"),
            (b"<HoSo xmlns='urn:lienthong:hoso:1'/><HoSo xmlns='urn:lienthong:hoso:1'/>", "malformed_xml"),
            (b"<HoSo xmlns='urn:lienthong:hoso:1'>text</HoSo>", "malformed_xml"),
            (b"<HoSo xmlns='urn:lienthong:hoso:1'><MaHoSo>&bogus;</MaHoSo></HoSo>", "malformed_xml"),
            (b"<?pi x?><HoSo xmlns='urn:lienthong:hoso:1'/>", "malformed_xml"),
            (b"<HoSo/>", "xml_wrong_root"),
            (b"<Other xmlns='urn:lienthong:hoso:1'/>", "xml_wrong_root"),
            (
                b"<?xml version='1.0' encoding='ISO-8859-1'?><HoSo xmlns='urn:lienthong:hoso:1'/>",
                "xml_encoding_unsupported",
            ),
            (b"\xff\xfe<\x00", "xml_encoding_unsupported"),
        ];
        for (body, code) in cases {
            let got = parse_xml(body).unwrap_err();
            assert_eq!(got.code(), *code, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn unknown_duplicate_and_nested_fields_are_problems() {
        let raw = parse_xml(
            doc("<MaHoSo>a</MaHoSo><MaHoSo>b</MaHoSo><Bogus/><ChuHoSo><b>x</b></ChuHoSo>\
                 <DanhSachLePhi><LePhi><Gia>1</Gia><X/></LePhi><Other/></DanhSachLePhi>")
            .as_bytes(),
        )
        .unwrap();
        let got: Vec<(&str, FieldErrorKind)> = raw.problems.iter().map(|p| (p.field.as_str(), p.kind)).collect();
        assert_eq!(
            got,
            vec![
                ("MaHoSo", FieldErrorKind::Duplicate),
                ("Bogus", FieldErrorKind::Unknown),
                ("ChuHoSo", FieldErrorKind::Invalid),
                ("DanhSachLePhi[0].X", FieldErrorKind::Unknown),
                ("DanhSachLePhi.Other", FieldErrorKind::Unknown),
            ]
        );
    }

    #[test]
    fn fields_outside_the_namespace_are_unknown() {
        let raw =
            parse_xml(br#"<HoSo xmlns="urn:lienthong:hoso:1"><MaHoSo xmlns="urn:other">x</MaHoSo></HoSo>"#).unwrap();
        assert_eq!(raw.problems[0].kind, FieldErrorKind::Unknown);
        assert_eq!(raw.get("MaHoSo"), None);
    }
}
