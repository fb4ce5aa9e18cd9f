//! XML for the MPI adapter and simulator: a strict reader into a small tree, and a
//! writer that escapes text and refuses what XML 1.0 cannot carry.
//!
//! The reader accepts only what a SOAP 1.1 service must: UTF-8, no DOCTYPE (so no
//! entity expansion of any kind), no processing instructions, declared namespace
//! prefixes, characters XML 1.0 allows, and a bounded depth. Comments are dropped;
//! adjacent text, CDATA and references are merged into one text node.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer};

/// The deepest nesting the reader accepts.
const MAX_DEPTH: usize = 32;

/// An element: its namespace, local name, attributes and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The namespace URI, if the name is in one.
    pub ns: Option<String>,
    /// The local name.
    pub name: String,
    /// The attributes, namespace declarations excluded.
    pub attrs: Vec<Attr>,
    /// Child elements and text, in document order.
    pub children: Vec<Node>,
}

/// An attribute, namespace declarations excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// The namespace URI, for a prefixed attribute.
    pub ns: Option<String>,
    /// The local name.
    pub name: String,
    /// The value, unescaped.
    pub value: String,
}

/// A child of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An element.
    Element(Element),
    /// Character data (text, CDATA and references merged), line ends normalised.
    Text(String),
}

/// Why bytes are not a document the reader accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// Not UTF-8, or an XML declaration naming another encoding.
    #[error("the document is not utf-8")]
    Encoding,
    /// A DOCTYPE, which the service never accepts.
    #[error("a doctype is not accepted")]
    Doctype,
    /// Not a well-formed, namespace-well-formed XML 1.0 document.
    #[error("not well-formed xml: {0}")]
    Malformed(&'static str),
}

impl Element {
    /// Whether this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.name == name
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, name))
    }

    /// Every child element `{ns}name`.
    pub fn all<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.is(ns, name))
    }

    /// The concatenated text children (child elements ignored).
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    /// The trimmed text of the first child element `{ns}name`, `None` when absent or blank.
    pub fn child_text(&self, ns: &str, name: &str) -> Option<String> {
        let t = self.child(ns, name)?.text();
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }

    /// Whether any text child holds something besides XML whitespace.
    pub fn has_text(&self) -> bool {
        self.children.iter().any(|n| matches!(n, Node::Text(t) if !is_xml_blank(t)))
    }

    /// The value of the attribute `{ns}name` (`ns` `None` for an unprefixed one).
    pub fn attr(&self, ns: Option<&str>, name: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.ns.as_deref() == ns && a.name == name).map(|a| a.value.as_str())
    }
}

/// Whether `s` holds only XML whitespace (space, tab, CR, LF).
pub fn is_xml_blank(s: &str) -> bool {
    s.chars().all(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// Whether XML 1.0 can carry `c`.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, XmlError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if std::str::from_utf8(body).is_err() {
        return Err(XmlError::Encoding);
    }
    let mut r = NsReader::from_reader(body);
    let cfg = r.config_mut();
    cfg.check_end_names = true;
    cfg.check_comments = true;
    cfg.expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let (ns, ev) = r.read_resolved_event().map_err(|_| XmlError::Malformed("syntax error"))?;
        match ev {
            Event::Eof => break,
            Event::Decl(d) => check_decl(&d)?,
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::PI(_) => return Err(XmlError::Malformed("processing instructions are not accepted")),
            Event::Comment(_) => {}
            // `expand_empty_elements` turns `<a/>` into a start and an end.
            Event::Empty(_) => return Err(XmlError::Malformed("unexpected empty element event")),
            Event::Start(e) => {
                if root.is_some() {
                    return Err(XmlError::Malformed("content after the root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::Malformed("nested too deep"));
                }
                let ns = namespace(ns)?;
                let attrs = attributes(&r, &e)?;
                let name = utf8(e.local_name().as_ref())?;
                stack.push(Element { ns, name, attrs, children: Vec::new() });
            }
            Event::End(_) => {
                let done = stack.pop().ok_or(XmlError::Malformed("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let text = t.xml10_content().map_err(|_| XmlError::Encoding)?;
                push_text(&mut stack, &text)?;
            }
            Event::CData(c) => {
                let text = c.xml10_content().map_err(|_| XmlError::Encoding)?;
                if stack.is_empty() {
                    return Err(XmlError::Malformed("text outside the root element"));
                }
                push_text(&mut stack, &text)?;
            }
            Event::GeneralRef(g) => {
                let resolved = match g.resolve_char_ref().map_err(|_| XmlError::Malformed("bad character reference"))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = g.decode().map_err(|_| XmlError::Encoding)?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or(XmlError::Malformed("reference to an undeclared entity"))?
                            .to_owned()
                    }
                };
                if stack.is_empty() {
                    return Err(XmlError::Malformed("text outside the root element"));
                }
                push_text(&mut stack, &resolved)?;
            }
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed("unexpected end of document"));
    }
    root.ok_or(XmlError::Malformed("no root element"))
}

fn check_decl(d: &BytesDecl<'_>) -> Result<(), XmlError> {
    if let Some(enc) = d.encoding() {
        let enc = enc.map_err(|_| XmlError::Malformed("bad xml declaration"))?;
        if !enc.eq_ignore_ascii_case(b"utf-8") {
            return Err(XmlError::Encoding);
        }
    }
    Ok(())
}

fn namespace(ns: ResolveResult<'_>) -> Result<Option<String>, XmlError> {
    match ns {
        ResolveResult::Bound(n) => Ok(Some(utf8(n.as_ref())?)),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(_) => Err(XmlError::Malformed("undeclared namespace prefix")),
    }
}

fn utf8(b: &[u8]) -> Result<String, XmlError> {
    std::str::from_utf8(b).map(str::to_owned).map_err(|_| XmlError::Encoding)
}

fn checked(text: &str) -> Result<(), XmlError> {
    if text.chars().all(is_xml_char) {
        Ok(())
    } else {
        Err(XmlError::Malformed("a character xml 1.0 does not allow"))
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    checked(text)?;
    let Some(top) = stack.last_mut() else {
        return if is_xml_blank(text) { Ok(()) } else { Err(XmlError::Malformed("text outside the root element")) };
    };
    match top.children.last_mut() {
        Some(Node::Text(t)) => t.push_str(text),
        _ => top.children.push(Node::Text(text.to_owned())),
    }
    Ok(())
}

fn attributes(r: &NsReader<&[u8]>, e: &BytesStart<'_>) -> Result<Vec<Attr>, XmlError> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|_| XmlError::Malformed("bad attribute"))?;
        let key = a.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let (ns, local) = r.resolve_attribute(a.key);
        let ns = namespace(ns)?;
        let value = a.decode_and_unescape_value(r.decoder()).map_err(|_| XmlError::Malformed("bad attribute value"))?;
        checked(&value)?;
        out.push(Attr { ns, name: utf8(local.as_ref())?, value: value.into_owned() });
    }
    Ok(out)
}

/// A text value XML 1.0 cannot carry, named by its element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{element}: holds a character xml 1.0 cannot carry")]
pub struct WriteError {
    /// The element whose text was refused.
    pub element: String,
}

/// Writes an indented UTF-8 document; text is escaped, and a carriage return is
/// written as `&#13;` so that it survives the reader's line-end normalisation.
pub struct XmlWriter {
    w: Writer<Vec<u8>>,
}

impl XmlWriter {
    /// A document that starts with `<?xml version="1.0" encoding="UTF-8"?>`.
    pub fn new() -> Self {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        // Writing into a Vec cannot fail.
        let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        Self { w }
    }

    /// Opens `name` with attributes (values escaped).
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let mut start = BytesStart::new(name);
        for a in attrs {
            start.push_attribute(*a);
        }
        let _ = self.w.write_event(Event::Start(start));
    }

    /// Closes `name`.
    pub fn close(&mut self, name: &str) {
        let _ = self.w.write_event(Event::End(BytesEnd::new(name)));
    }

    /// `<name>text</name>`, refusing characters XML 1.0 cannot carry.
    pub fn leaf(&mut self, name: &str, text: &str) -> Result<(), WriteError> {
        self.leaf_with(name, &[], text)
    }

    /// `<name attrs...>text</name>`, refusing characters XML 1.0 cannot carry.
    pub fn leaf_with(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> Result<(), WriteError> {
        if !text.chars().all(is_xml_char) {
            return Err(WriteError { element: name.to_owned() });
        }
        let escaped = quick_xml::escape::partial_escape(text).replace('\r', "&#13;");
        let element = self.w.create_element(name).with_attributes(attrs.iter().copied());
        let _ = element.write_text_content(BytesText::from_escaped(escaped));
        Ok(())
    }

    /// [`leaf`](Self::leaf) when there is a value; nothing when there is none.
    pub fn leaf_opt(&mut self, name: &str, text: Option<&str>) -> Result<(), WriteError> {
        match text {
            Some(t) => self.leaf(name, t),
            None => Ok(()),
        }
    }

    /// The document, with a final newline.
    pub fn finish(self) -> Vec<u8> {
        let mut out = self.w.into_inner();
        out.push(b'\n');
        out
    }
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_namespaces_text_cdata_and_references() {
        let doc = "<?xml version='1.0' encoding='utf-8'?><!-- c --><a:R xmlns:a='urn:a' xmlns='urn:d' a:k='v&amp;w'>\
                   <X>1 &lt; 2 &#7877;<![CDATA[<b>]]></X><Y/>\r\n</a:R>";
        let root = parse(doc.as_bytes()).unwrap();
        assert!(root.is("urn:a", "R"));
        assert_eq!(root.attr(Some("urn:a"), "k"), Some("v&w"));
        assert_eq!(root.child("urn:d", "X").unwrap().text(), "1 < 2 ễ<b>");
        assert_eq!(root.child_text("urn:d", "Y"), None);
        assert!(!root.has_text());
        assert_eq!(root.elements().count(), 2);
    }

    #[test]
    fn refuses_what_a_strict_reader_must() {
        let cases: &[(&[u8], XmlError)] = &[
            (b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>", XmlError::Doctype),
            (b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>", XmlError::Encoding),
            (b"<a>\xff</a>", XmlError::Encoding),
            (b"<a>&bogus;</a>", XmlError::Malformed("reference to an undeclared entity")),
            (b"<a>&#1;</a>", XmlError::Malformed("a character xml 1.0 does not allow")),
            (b"<a>\x01</a>", XmlError::Malformed("a character xml 1.0 does not allow")),
            (b"<p:a/>", XmlError::Malformed("undeclared namespace prefix")),
            (b"<a/><b/>", XmlError::Malformed("content after the root element")),
            (b"<?pi x?><a/>", XmlError::Malformed("processing instructions are not accepted")),
            (b"", XmlError::Malformed("no root element")),
            (b"text<a/>", XmlError::Malformed("text outside the root element")),
        ];
        for (body, want) in cases {
            assert_eq!(parse(body).as_ref().err(), Some(want), "{}", String::from_utf8_lossy(body));
        }
        assert!(parse(b"<a><b></a></b>").is_err());
        assert!(parse(b"<a>").is_err());
        let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn the_writer_escapes_and_round_trips() {
        let mut w = XmlWriter::new();
        w.open("R", &[("xmlns", "urn:d"), ("q", "\"<&")]);
        w.leaf("T", "a < b & \"c\" 'd' > e\r\nf").unwrap();
        w.leaf_opt("U", None).unwrap();
        assert_eq!(w.leaf("V", "bell\u{7}"), Err(WriteError { element: "V".into() }));
        w.close("R");
        let out = w.finish();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R xmlns=\"urn:d\""), "{text}");
        let root = parse(&out).unwrap();
        assert_eq!(root.attr(None, "q"), Some("\"<&"));
        assert_eq!(root.child("urn:d", "T").unwrap().text(), "a < b & \"c\" 'd' > e\r\nf");
    }
}
