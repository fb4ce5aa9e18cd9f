//! The XML dialect read from a parsed [`Document`] instead of from bytes: what
//! the signature layer verified is read into the model from the tree it already
//! built, rather than rendered to its canonical form and parsed a second time.
//!
//! The reading must be exactly that of [`parse_xml`](super::parse_xml) over the
//! canonical form (without comments) of the same node set: the same fields, the
//! same problems in the same order, the same refusals. A test and the
//! `xml_dossier` fuzz target hold the two to each other. The canonical form is
//! what shapes the rules below: attributes come sorted, comments are gone, a
//! carriage return is written as `&#xD;` (so it is never blank), and the
//! excluded node (the enveloped signature) is not there at all.

use super::{
    bad, field, DSIG_NAMESPACE, LIST_TEXT, NOT_AN_ATTRIBUTE, NOT_AN_ITEM, NO_PI, OBJECT_TEXT, TEXT_ONLY, XML_NAMESPACE,
};
use crate::c14n::{Document, NodeId, NodeKind};
use crate::error::{FieldError, FieldErrorKind, ParseError};
use crate::fields::{self, FieldKind, FieldSpec, FIELDS, MAX_LIST_ITEMS};
use crate::raw::{RawDossier, RawObject, RawValue};

/// Reads the dossier at `apex` (the document node or the document element) of
/// `doc`, without `exclude` and its descendants, as [`parse_xml`](super::parse_xml)
/// reads the canonical form of that node set.
pub fn raw_from_tree(doc: &Document<'_>, apex: NodeId, exclude: Option<NodeId>) -> Result<RawDossier, ParseError> {
    let mut w = Walker { doc, exclude, problems: Vec::new() };
    let mut raw = RawDossier::default();
    let mut seen_root = false;
    let mut read_root = |w: &mut Walker<'_, '_>, root: NodeId| -> Result<(), ParseError> {
        if seen_root {
            return Err(bad("more than one root element"));
        }
        seen_root = true;
        if doc.name(root) != Some((XML_NAMESPACE, "HoSo")) {
            return Err(ParseError::WrongRoot);
        }
        raw.xml_id = w.root_attributes(root);
        raw.root = w.object(root, FIELDS, "", true)?;
        Ok(())
    };
    match doc.kind(apex) {
        NodeKind::Element if Some(apex) != exclude => read_root(&mut w, apex)?,
        NodeKind::Document => {
            for c in w.children(apex) {
                match doc.kind(c) {
                    NodeKind::Element => read_root(&mut w, c)?,
                    NodeKind::ProcessingInstruction => return Err(bad(NO_PI)),
                    // Comments are not in the canonical form, nor is text
                    // outside the document element.
                    _ => {}
                }
            }
        }
        _ => {}
    }
    if !seen_root {
        return Err(bad("no root element"));
    }
    raw.problems = w.problems;
    Ok(raw)
}

/// Blank as the canonical form's text is blank: a carriage return there is
/// the reference `&#xD;`, which is not.
fn is_blank(t: &str) -> bool {
    t.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n'))
}

struct Walker<'d, 'a> {
    doc: &'d Document<'a>,
    exclude: Option<NodeId>,
    problems: Vec<FieldError>,
}

impl<'d> Walker<'d, '_> {
    /// The children of `id` that are in the node set.
    fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + 'd {
        let exclude = self.exclude;
        self.doc.children(id).filter(move |c| Some(*c) != exclude)
    }

    fn root_attributes(&mut self, root: NodeId) -> Option<String> {
        let mut id = None;
        for (qname, value) in self.doc.sorted_attributes(root) {
            if qname == "Id" {
                id = Some(value.to_owned());
            } else {
                self.problems.push(FieldError::new(format!("@{qname}"), FieldErrorKind::Unknown, NOT_AN_ATTRIBUTE));
            }
        }
        id
    }

    fn object(
        &mut self,
        node: NodeId,
        table: &'static [FieldSpec],
        path: &str,
        at_root: bool,
    ) -> Result<RawObject, ParseError> {
        let mut out = RawObject::new();
        for c in self.children(node) {
            match self.doc.kind(c) {
                NodeKind::Element => {
                    let (ns, name) = self.doc.name(c).unwrap_or_default();
                    if at_root && ns == DSIG_NAMESPACE && name == "Signature" {
                        continue;
                    }
                    let in_ns = ns == XML_NAMESPACE;
                    let Some(spec) = field(table, &out, in_ns, path, name, &mut self.problems) else { continue };
                    let value = match spec.kind {
                        FieldKind::List(item) => RawValue::List(self.list(c, &format!("{path}{name}"), item)?),
                        FieldKind::Object(t) => {
                            RawValue::Object(self.object(c, fields::table(t), &format!("{path}{name}."), false)?)
                        }
                        _ => RawValue::Text(self.text(c, path, name)?),
                    };
                    out.insert(spec.name, value);
                }
                NodeKind::Text if self.doc.text(c).is_some_and(is_blank) => {}
                NodeKind::Text => return Err(bad(OBJECT_TEXT)),
                NodeKind::ProcessingInstruction => return Err(bad(NO_PI)),
                _ => {}
            }
        }
        Ok(out)
    }

    fn list(&mut self, node: NodeId, path: &str, item: &'static str) -> Result<Vec<RawObject>, ParseError> {
        let table = fields::table(item);
        let mut items = Vec::new();
        for c in self.children(node) {
            match self.doc.kind(c) {
                NodeKind::Element => match self.doc.name(c).unwrap_or_default() {
                    (XML_NAMESPACE, name) if name == item => {
                        if items.len() >= MAX_LIST_ITEMS {
                            return Err(ParseError::MalformedXml(format!(
                                "{path} holds more than {MAX_LIST_ITEMS} items"
                            )));
                        }
                        let item_path = format!("{path}[{}].", items.len());
                        items.push(self.object(c, table, &item_path, false)?);
                    }
                    (_, name) => self.unknown(format!("{path}.{name}"), NOT_AN_ITEM),
                },
                NodeKind::Text if self.doc.text(c).is_some_and(is_blank) => {}
                NodeKind::Text | NodeKind::ProcessingInstruction => return Err(bad(LIST_TEXT)),
                _ => {}
            }
        }
        Ok(items)
    }

    /// A text-only element's content; the field is `name` under `path`.
    fn text(&mut self, node: NodeId, path: &str, name: &str) -> Result<String, ParseError> {
        let mut out = String::new();
        for c in self.children(node) {
            match self.doc.kind(c) {
                NodeKind::Text => out.push_str(self.doc.text(c).unwrap_or_default()),
                NodeKind::Element => {
                    self.problems.push(FieldError::new(format!("{path}{name}"), FieldErrorKind::Invalid, TEXT_ONLY))
                }
                NodeKind::ProcessingInstruction => return Err(bad("unexpected markup inside a field")),
                _ => {}
            }
        }
        Ok(out)
    }

    fn unknown(&mut self, path: String, msg: &str) {
        self.problems.push(FieldError::new(path, FieldErrorKind::Unknown, msg));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::c14n::Algorithm;

    /// The reading of the tree against the reading of the canonical form, under
    /// every canonicalisation a reference may use (comments are never in it).
    fn assert_same(xml: &str) {
        let doc = Document::parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{xml}: {e}"));
        let signature = doc.descendants(doc.document()).find(|n| doc.name(*n) == Some((DSIG_NAMESPACE, "Signature")));
        for (apex, exclude) in [(doc.document(), signature), (doc.root(), signature), (doc.document(), None)] {
            let from_tree = raw_from_tree(&doc, apex, exclude);
            for alg in [
                Algorithm::Exclusive { comments: false, inclusive_prefixes: vec![] },
                Algorithm::Inclusive { comments: false },
            ] {
                let octets = doc.canonicalize(apex, exclude, &alg);
                assert_eq!(from_tree, super::super::parse_xml(&octets), "{xml}\n{}", String::from_utf8_lossy(&octets));
            }
        }
    }

    fn doc(inner: &str) -> String {
        format!(r#"<HoSo xmlns="urn:lienthong:hoso:1" Id="hs1">{inner}</HoSo>"#)
    }

    #[test]
    fn the_examples_read_alike() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut n = 0;
        for dir in [dir.clone(), dir.join("invalid")] {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "xml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    if Document::parse(text.as_bytes()).is_ok() {
                        assert_same(&text);
                        n += 1;
                    }
                }
            }
        }
        assert!(n >= 10, "{n} examples");
    }

    #[test]
    fn fields_problems_and_refusals_read_alike() {
        let sig = r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature>"#;
        let cases = [
            doc("<MaHoSo>A&amp;B</MaHoSo><ChuHoSo>Nguy&#7877;n <![CDATA[V<n>]]></ChuHoSo><GhiChu/>"),
            doc(&format!("<MaHoSo>X</MaHoSo>{sig}<MaTTHC>1.0</MaTTHC>")),
            doc(&format!("<ChuHoSo>a{sig}b</ChuHoSo>")),
            doc(&format!("<TaiLieuNop>{sig}<TepDinhKem><TenTepDinhKem>a</TenTepDinhKem></TepDinhKem></TaiLieuNop>")),
            doc("<MaHoSo>a</MaHoSo><MaHoSo>b</MaHoSo><Bogus><x/></Bogus><ChuHoSo>a<b>x</b>c<d/></ChuHoSo>"),
            doc("<DanhSachLePhi><LePhi><Gia>1</Gia><X/></LePhi><Other/><LePhi/></DanhSachLePhi>"),
            doc("<MaHoSo xmlns=\"urn:other\">x</MaHoSo><o:ChuHoSo xmlns:o=\"urn:lienthong:hoso:1\">y</o:ChuHoSo>"),
            doc("<!-- c --><MaHoSo><!-- c -->x<!-- c -->y</MaHoSo>\n\t <ChuHoSo>\r\nz\r</ChuHoSo>"),
            doc("<MaHoSo>x</MaHoSo>&#13;<ChuHoSo>y</ChuHoSo>"),
            doc("<MaHoSo>x</MaHoSo>&#32;<ChuHoSo>y</ChuHoSo>"),
            doc("<MaHoSo>x</MaHoSo>&amp;"),
            doc("<MaHoSo>x</MaHoSo>text"),
            doc("<MaHoSo>x<?pi data?></MaHoSo>"),
            doc("<MaHoSo>x</MaHoSo><?pi data?>"),
            doc("<TaiLieuNop><?pi?></TaiLieuNop>"),
            doc("<TaiLieuNop>text</TaiLieuNop>"),
            doc("<TaiLieuNop>&#13;</TaiLieuNop>"),
            doc("<Bogus><?pi?>text</Bogus><ChuHoSo><b><?pi?></b>y</ChuHoSo>"),
            doc("<TaiLieuNop><TepDinhKem><TenTepDinhKem>a<?pi?></TenTepDinhKem></TepDinhKem></TaiLieuNop>"),
            doc("<MaHoSo>\u{a0}</MaHoSo>\u{a0}"),
            r#"<HoSo xmlns="urn:lienthong:hoso:1" z="1" Id="i" xml:lang="vi" xmlns:p="urn:p" p:a="2" b="&#9;&#10;&#13;&amp;&lt;&quot;"><MaHoSo>x</MaHoSo></HoSo>"#.into(),
            r#"<HoSo xmlns="urn:lienthong:hoso:1" Id=" a&#10;b "/>"#.into(),
            r#"<?pi before?><HoSo xmlns="urn:lienthong:hoso:1"><MaHoSo>x</MaHoSo></HoSo>"#.into(),
            r#"<HoSo xmlns="urn:lienthong:hoso:1"><MaHoSo>x</MaHoSo><Bad>text</Bad>text</HoSo><?pi after?>"#.into(),
            r#"<!-- before --><HoSo xmlns="urn:lienthong:hoso:1"/><!-- after -->"#.into(),
            r#"<HoSo><MaHoSo>x</MaHoSo></HoSo>"#.into(),
            r#"<h:HoSo xmlns:h="urn:lienthong:hoso:1"><h:MaHoSo>x</h:MaHoSo></h:HoSo>"#.into(),
            r#"<Other xmlns="urn:lienthong:hoso:1"/>"#.into(),
            format!(r#"<HoSo xmlns="urn:lienthong:hoso:1">{sig}</HoSo>"#),
            doc(&format!("<TaiLieuNop>{}</TaiLieuNop>", "<TepDinhKem/>".repeat(MAX_LIST_ITEMS + 1))),
            doc(&format!("<TaiLieuNop>{}</TaiLieuNop>", "<TepDinhKem/>".repeat(MAX_LIST_ITEMS))),
        ];
        for case in &cases {
            assert_same(case);
        }
        // Both readers refuse and accept, and report problems: the cases are not
        // all alike.
        let results: Vec<_> = cases
            .iter()
            .map(|c| {
                let d = Document::parse(c.as_bytes()).unwrap();
                raw_from_tree(&d, d.document(), None)
            })
            .collect();
        assert!(results.iter().filter(|r| r.is_err()).count() >= 8);
        assert!(results.iter().filter(|r| r.as_ref().is_ok_and(|r| !r.problems.is_empty())).count() >= 4);
        assert!(results.iter().filter(|r| r.as_ref().is_ok_and(|r| r.problems.is_empty())).count() >= 4);
    }

    #[test]
    fn an_excluded_root_or_field_is_not_read() {
        let xml = doc("<MaHoSo>x</MaHoSo><ChuHoSo>y</ChuHoSo>");
        let d = Document::parse(xml.as_bytes()).unwrap();
        assert_eq!(raw_from_tree(&d, d.document(), Some(d.root())), Err(bad("no root element")));
        let field = d.child_elements(d.root()).next().unwrap();
        let raw = raw_from_tree(&d, d.root(), Some(field)).unwrap();
        assert_eq!((raw.get("MaHoSo"), raw.get("ChuHoSo")), (None, Some("y")));
        let octets = d.canonicalize(d.root(), Some(field), &Algorithm::Inclusive { comments: false });
        assert_eq!(Ok(raw), super::super::parse_xml(&octets));
    }
}
