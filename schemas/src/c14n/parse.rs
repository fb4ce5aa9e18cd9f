//! Builds a [`Document`] from bytes with quick-xml, as strictly as the dossier
//! reader: no DOCTYPE, UTF-8 only, only predefined entities and character
//! references, namespace well-formedness, relative namespace URIs refused.

use std::collections::{HashMap, HashSet};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::escape::{check_chars, check_name, normalize_attr, normalize_eol, resolve_ref};
use super::tree::{Attr, Data, Document, Element, Node, NodeId, NsDecl};
use super::{C14nError, MAX_DEPTH, MAX_NODES};

/// The namespace bound to the `xml` prefix.
pub(super) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

pub(super) fn parse(bytes: &[u8]) -> Result<Document, C14nError> {
    if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(C14nError::Encoding);
    }
    let (base, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (3, rest),
        None => (0, bytes),
    };
    std::str::from_utf8(body).map_err(|_| C14nError::Encoding)?;
    // About one element and one text node per `<`: reserved once, not grown.
    let nodes = Vec::with_capacity(body.iter().filter(|&&c| c == b'<').count().saturating_mul(2).saturating_add(2));
    let mut b = Builder {
        doc: Document { nodes, root: NodeId(0), input_len: body.len() },
        open: vec![NodeId(0)],
        scope: HashMap::new(),
        declared: Vec::new(),
        text: None,
        budget: 0,
    };
    b.push(Data::Document, None, 0..bytes.len())?;
    let mut r = Reader::from_reader(body);
    let cfg = r.config_mut();
    cfg.check_end_names = true;
    cfg.check_comments = true;
    cfg.expand_empty_elements = true;
    let mut seen_root = false;
    let mut first = true;
    loop {
        let start = r.buffer_position();
        let ev = r.read_event().map_err(|e| malformed(r.error_position() + base as u64, e.to_string()))?;
        let end = r.buffer_position();
        let at = start as usize + base..end as usize + base;
        let inside = b.open.len() > 1;
        if !matches!(ev, Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)) {
            b.flush_text();
        }
        match ev {
            Event::Eof => break,
            Event::Decl(d) => {
                if !first || start != 0 {
                    return Err(malformed(at.start as u64, "XML declaration not at the start"));
                }
                let v = d.version().map_err(|e| malformed(at.start as u64, e.to_string()))?;
                if v.as_ref() != b"1.0" {
                    return Err(malformed(at.start as u64, "only XML 1.0 is accepted"));
                }
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|e| malformed(at.start as u64, e.to_string()))?;
                    if !enc.eq_ignore_ascii_case(b"utf-8") && !enc.eq_ignore_ascii_case(b"utf8") {
                        return Err(C14nError::Encoding);
                    }
                }
            }
            Event::DocType(_) => return Err(C14nError::Doctype),
            Event::PI(pi) => {
                let target = utf8(pi.target(), at.start)?;
                check_name(target).map_err(|m| malformed(at.start as u64, m))?;
                if target.eq_ignore_ascii_case("xml") {
                    return Err(malformed(at.start as u64, "reserved processing instruction target"));
                }
                let content = utf8(pi.content(), at.start)?;
                let data = normalize_eol(content.trim_start_matches([' ', '\t', '\r', '\n']));
                check_chars(&data).map_err(|m| malformed(at.start as u64, m))?;
                b.push(Data::Pi { target: target.to_owned(), data }, b.current(), at)?;
            }
            Event::Comment(c) => {
                let text = normalize_eol(utf8(&c, at.start)?);
                check_chars(&text).map_err(|m| malformed(at.start as u64, m))?;
                b.push(Data::Comment(text), b.current(), at)?;
            }
            Event::Text(t) if !inside => {
                if !t.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
                    return Err(malformed(at.start as u64, "text outside the document element"));
                }
            }
            Event::Text(t) => {
                let s = utf8(&t, at.start)?;
                if s.contains("]]>") {
                    return Err(malformed(at.start as u64, "']]>' in character data"));
                }
                b.add_text(&normalize_eol(s), at)?;
            }
            Event::CData(c) if inside => b.add_text(&normalize_eol(utf8(&c, at.start)?), at)?,
            Event::GeneralRef(g) if inside => {
                let name = utf8(&g, at.start)?;
                let mut s = String::new();
                resolve_ref(name, &mut s).map_err(|e| e.at(at.start as u64))?;
                b.add_text(&s, at)?;
            }
            Event::Start(e) => {
                if !inside && seen_root {
                    return Err(malformed(at.start as u64, "more than one document element"));
                }
                seen_root = true;
                b.start(&e, at)?;
            }
            Event::End(_) => b.end(at.end),
            _ => return Err(malformed(at.start as u64, "content outside the document element")),
        }
        first = false;
    }
    if b.open.len() > 1 {
        return Err(malformed(bytes.len() as u64, "unclosed element"));
    }
    if !seen_root {
        return Err(malformed(0, "no document element"));
    }
    Ok(b.doc)
}

pub(super) fn malformed(offset: u64, reason: impl Into<String>) -> C14nError {
    C14nError::Malformed { offset, reason: reason.into() }
}

fn utf8(b: &[u8], at: usize) -> Result<&str, C14nError> {
    std::str::from_utf8(b).map_err(|_| malformed(at as u64, "invalid UTF-8"))
}

/// Whether a namespace URI has a scheme (C14N 1.0 fails on relative ones).
fn is_absolute(uri: &str) -> bool {
    let Some((scheme, _)) = uri.split_once(':') else { return false };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

struct Builder {
    doc: Document,
    /// The document node, then the open elements.
    open: Vec<NodeId>,
    /// In-scope namespace bindings, innermost last (`""` for the default).
    scope: HashMap<String, Vec<String>>,
    /// Prefixes each open element declared, to unbind at its end tag.
    declared: Vec<Vec<String>>,
    /// The text node being accumulated, if any.
    text: Option<NodeId>,
    budget: usize,
}

impl Builder {
    fn current(&self) -> Option<NodeId> {
        self.open.last().copied()
    }

    fn spend(&mut self, n: usize) -> Result<(), C14nError> {
        self.budget += n;
        if self.budget > MAX_NODES {
            return Err(C14nError::TooManyNodes);
        }
        Ok(())
    }

    fn push(&mut self, data: Data, parent: Option<NodeId>, span: std::ops::Range<usize>) -> Result<NodeId, C14nError> {
        self.spend(1)?;
        let id = NodeId(u32::try_from(self.doc.nodes.len()).map_err(|_| C14nError::TooManyNodes)?);
        self.doc.nodes.push(Node { data, parent, children: Vec::new(), span });
        if let Some(p) = parent {
            self.doc.nodes[p.index()].children.push(id);
        }
        Ok(id)
    }

    fn flush_text(&mut self) {
        self.text = None;
    }

    fn add_text(&mut self, s: &str, at: std::ops::Range<usize>) -> Result<(), C14nError> {
        check_chars(s).map_err(|m| malformed(at.start as u64, m))?;
        if let Some(id) = self.text {
            let node = &mut self.doc.nodes[id.index()];
            node.span.end = at.end;
            if let Data::Text(t) = &mut node.data {
                t.push_str(s);
            }
            return Ok(());
        }
        self.text = Some(self.push(Data::Text(s.to_owned()), self.current(), at)?);
        Ok(())
    }

    fn lookup(&self, prefix: &str) -> Option<&str> {
        self.scope.get(prefix).and_then(|v| v.last()).map(String::as_str)
    }

    fn start(&mut self, e: &BytesStart<'_>, at: std::ops::Range<usize>) -> Result<(), C14nError> {
        let off = at.start as u64;
        if self.open.len() > MAX_DEPTH {
            return Err(C14nError::TooDeep);
        }
        let qname = utf8(e.name().as_ref(), at.start)?.to_owned();
        let prefix_len = split_qname(&qname).map_err(|m| malformed(off, m))?;
        let mut decls: Vec<NsDecl> = Vec::new();
        let mut raw_attrs: Vec<(String, String)> = Vec::new();
        let mut seen = HashSet::new();
        for a in e.attributes().with_checks(false) {
            let a = a.map_err(|err| malformed(off, err.to_string()))?;
            let key = utf8(a.key.as_ref(), at.start)?;
            if !seen.insert(key.to_owned()) {
                return Err(malformed(off, format!("duplicate attribute {key}")));
            }
            let value = normalize_attr(utf8(&a.value, at.start)?).map_err(|err| err.at(off))?;
            check_chars(&value).map_err(|m| malformed(off, m))?;
            let decl_prefix = if key == "xmlns" { Some("") } else { key.strip_prefix("xmlns:") };
            if decl_prefix == Some("") && key != "xmlns" {
                // `xmlns:` with no prefix is not a QName; taking it as a default
                // declaration would let two default declarations through.
                return Err(malformed(off, "a namespace declaration needs a prefix after xmlns:"));
            }
            match decl_prefix {
                Some(p) => {
                    if let Some(d) = self.check_decl(p, value, off)? {
                        decls.push(d);
                    }
                }
                None => raw_attrs.push((key.to_owned(), value)),
            }
        }
        self.spend(decls.len() + raw_attrs.len())?;
        let mut declared = Vec::with_capacity(decls.len());
        for d in &decls {
            self.scope.entry(d.prefix.clone()).or_default().push(d.uri.clone());
            declared.push(d.prefix.clone());
        }
        self.declared.push(declared);
        let ns = self.resolve(&qname[..prefix_len], true).map_err(|m| malformed(off, m))?;
        let mut attrs = Vec::with_capacity(raw_attrs.len());
        let mut expanded = HashSet::new();
        for (qname, value) in raw_attrs {
            let prefix_len = split_qname(&qname).map_err(|m| malformed(off, m))?;
            let ns = self.resolve(&qname[..prefix_len], false).map_err(|m| malformed(off, m))?;
            let a = Attr { qname, prefix_len, ns, value };
            if !expanded.insert((a.ns.clone(), a.local().to_owned())) {
                return Err(malformed(off, format!("attribute {} appears twice", a.qname)));
            }
            attrs.push(a);
        }
        let el = Element { qname, prefix_len, ns, decls, attrs };
        let id = self.push(Data::Element(Box::new(el)), self.current(), at)?;
        if self.open.len() == 1 {
            self.doc.root = id;
        }
        self.open.push(id);
        Ok(())
    }

    /// Checks one namespace declaration; `None` for a redundant `xmlns:xml`.
    fn check_decl(&self, prefix: &str, uri: String, off: u64) -> Result<Option<NsDecl>, C14nError> {
        if prefix == "xml" {
            return if uri == XML_NS { Ok(None) } else { Err(malformed(off, "the xml prefix cannot be rebound")) };
        }
        if prefix == "xmlns" || uri == XML_NS || uri == XMLNS_NS {
            return Err(malformed(off, "reserved namespace prefix or name"));
        }
        if !prefix.is_empty() {
            check_name(prefix).map_err(|m| malformed(off, m))?;
            if prefix.contains(':') || uri.is_empty() {
                return Err(malformed(off, format!("invalid declaration of prefix {prefix}")));
            }
        }
        if !uri.is_empty() && !is_absolute(&uri) {
            return Err(C14nError::RelativeNamespace(uri));
        }
        Ok(Some(NsDecl { prefix: prefix.to_owned(), uri }))
    }

    /// The namespace URI of a prefix; unprefixed attributes are in no namespace.
    fn resolve(&self, prefix: &str, element: bool) -> Result<String, String> {
        match prefix {
            "xml" => Ok(XML_NS.to_owned()),
            "xmlns" => Err("the xmlns prefix is reserved".to_owned()),
            "" if !element => Ok(String::new()),
            p => match self.lookup(p) {
                Some(uri) => Ok(uri.to_owned()),
                None if p.is_empty() => Ok(String::new()),
                None => Err(format!("undeclared namespace prefix {p}")),
            },
        }
    }

    fn end(&mut self, end: usize) {
        if let Some(id) = self.open.pop() {
            self.doc.nodes[id.index()].span.end = end;
        }
        for p in self.declared.pop().unwrap_or_default() {
            if let Some(v) = self.scope.get_mut(&p) {
                v.pop();
            }
        }
    }
}

/// Checks a qualified name and returns the length of its prefix (0 if none).
fn split_qname(qname: &str) -> Result<usize, String> {
    check_name(qname)?;
    match qname.split_once(':') {
        None => Ok(0),
        Some((p, l)) if !p.is_empty() && !l.is_empty() && !l.contains(':') => Ok(p.len()),
        Some(_) => Err(format!("invalid qualified name {qname}")),
    }
}
