//! Builds a [`Document`] from bytes with quick-xml, as strictly as the dossier
//! reader: no DOCTYPE, UTF-8 only, only predefined entities and character
//! references, namespace well-formedness, relative namespace URIs refused.
//!
//! The input is checked once, as a whole, for UTF-8 and for characters XML does
//! not allow; the tree then borrows its names and values from it (see
//! [`super::tree`]).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::escape::{check_name, first_bad_char, normalize_attr, normalize_eol, resolve_ref};
use super::tree::{Attr, Data, Document, Element, Node, NodeId, NsDecl, UriId, NO_NS, XML_NS_ID};
use super::{C14nError, MAX_DEPTH, MAX_NODES};

/// The namespace bound to the `xml` prefix.
pub(super) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

pub(super) fn parse(bytes: &[u8]) -> Result<Document<'_>, C14nError> {
    if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(C14nError::Encoding);
    }
    let (base, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (3, rest),
        None => (0, bytes),
    };
    let src = std::str::from_utf8(body).map_err(|_| C14nError::Encoding)?;
    // Every character of the tree is either a character of the input or one a
    // reference produced (which `resolve_ref` checks), so one pass over the
    // input checks them all.
    if let Some((at, c)) = first_bad_char(src) {
        return Err(malformed((at + base) as u64, format!("character U+{:04X} is not allowed in XML", c as u32)));
    }
    // About one element and one text node per `<`: reserved once, not grown.
    let nodes = Vec::with_capacity(body.iter().filter(|&&c| c == b'<').count().saturating_mul(2).saturating_add(2));
    let uris = vec![Cow::Borrowed(""), Cow::Borrowed(XML_NS)];
    let mut b = Builder {
        src,
        base,
        doc: Document { nodes, uris, root: NodeId(0), input_len: body.len() },
        open: vec![NodeId(0)],
        scope: HashMap::new(),
        declared: Vec::new(),
        marks: Vec::new(),
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
                let target = b.str(pi.target(), at.start)?;
                check_name(target).map_err(|m| malformed(at.start as u64, m))?;
                if target.eq_ignore_ascii_case("xml") {
                    return Err(malformed(at.start as u64, "reserved processing instruction target"));
                }
                let content = b.str(pi.content(), at.start)?;
                let data = normalize_eol(content.trim_start_matches([' ', '\t', '\r', '\n']));
                b.push(Data::Pi { target, data }, b.current(), at)?;
            }
            Event::Comment(c) => {
                let text = normalize_eol(b.str(&c, at.start)?);
                b.push(Data::Comment(text), b.current(), at)?;
            }
            Event::Text(t) if !inside => {
                if !t.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
                    return Err(malformed(at.start as u64, "text outside the document element"));
                }
            }
            Event::Text(t) => {
                let s = b.str(&t, at.start)?;
                if s.contains("]]>") {
                    return Err(malformed(at.start as u64, "']]>' in character data"));
                }
                b.add_text(normalize_eol(s), at)?;
            }
            Event::CData(c) if inside => {
                let s = b.str(&c, at.start)?;
                b.add_text(normalize_eol(s), at)?;
            }
            Event::GeneralRef(g) if inside => {
                let name = b.str(&g, at.start)?;
                let mut s = String::new();
                resolve_ref(name, &mut s).map_err(|e| e.at(at.start as u64))?;
                b.add_text(Cow::Owned(s), at)?;
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

/// Whether a namespace URI has a scheme (C14N 1.0 fails on relative ones).
fn is_absolute(uri: &str) -> bool {
    let Some((scheme, _)) = uri.split_once(':') else { return false };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Up to this many attributes, duplicates are looked for pair by pair; above
/// it, through a hash set (a hostile element may have thousands).
const LINEAR_DUPLICATES: usize = 16;

/// The index of the first item equal to an earlier one, if any.
fn first_duplicate<T: Eq + Hash>(items: &[T]) -> Option<usize> {
    if items.len() <= LINEAR_DUPLICATES {
        (1..items.len()).find(|&i| items[..i].contains(&items[i]))
    } else {
        let mut seen = HashSet::with_capacity(items.len());
        items.iter().position(|a| !seen.insert(a))
    }
}

struct Builder<'a> {
    /// The input after any byte order mark, checked UTF-8.
    src: &'a str,
    /// Length of the byte order mark (offsets in errors and spans count it).
    base: usize,
    doc: Document<'a>,
    /// The document node, then the open elements.
    open: Vec<NodeId>,
    /// In-scope namespace bindings, innermost last (`""` for the default).
    scope: HashMap<&'a str, Vec<UriId>>,
    /// The prefixes the open elements declared, in order, to unbind at their end tags.
    declared: Vec<&'a str>,
    /// For each open element, the length of `declared` before its declarations.
    marks: Vec<usize>,
    /// The text node being accumulated, if any.
    text: Option<NodeId>,
    budget: usize,
}

impl<'a> Builder<'a> {
    /// The part of the input that `part`, a slice the reader borrowed from it,
    /// spans (see [`within`]); fails closed if `part` is not such a slice.
    fn str(&self, part: &[u8], at: usize) -> Result<&'a str, C14nError> {
        within(self.src, part)
            .ok_or_else(|| malformed((at + self.base) as u64, "text the reader did not take from the input"))
    }

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

    fn push(
        &mut self,
        data: Data<'a>,
        parent: Option<NodeId>,
        span: std::ops::Range<usize>,
    ) -> Result<NodeId, C14nError> {
        self.spend(1)?;
        let id = NodeId(u32::try_from(self.doc.nodes.len()).map_err(|_| C14nError::TooManyNodes)?);
        self.doc.nodes.push(Node { data, parent, first_child: None, last_child: None, next_sibling: None, span });
        if let Some(p) = parent {
            let prev = self.doc.nodes[p.index()].last_child.replace(id);
            match prev {
                Some(prev) => self.doc.nodes[prev.index()].next_sibling = Some(id),
                None => self.doc.nodes[p.index()].first_child = Some(id),
            }
        }
        Ok(id)
    }

    fn flush_text(&mut self) {
        self.text = None;
    }

    fn add_text(&mut self, s: Cow<'a, str>, at: std::ops::Range<usize>) -> Result<(), C14nError> {
        if let Some(id) = self.text {
            let node = &mut self.doc.nodes[id.index()];
            node.span.end = at.end;
            if let Data::Text(t) = &mut node.data {
                t.to_mut().push_str(&s);
            }
            return Ok(());
        }
        self.text = Some(self.push(Data::Text(s), self.current(), at)?);
        Ok(())
    }

    fn lookup(&self, prefix: &str) -> Option<UriId> {
        self.scope.get(prefix).and_then(|v| v.last()).copied()
    }

    fn start(&mut self, e: &BytesStart<'_>, at: std::ops::Range<usize>) -> Result<(), C14nError> {
        let off = at.start as u64;
        if self.open.len() > MAX_DEPTH {
            return Err(C14nError::TooDeep);
        }
        let qname = self.str(e.name().as_ref(), at.start)?;
        let prefix_len = split_qname(qname).map_err(|m| malformed(off, m))?;
        let mut decls: Vec<NsDecl<'a>> = Vec::new();
        let mut raw_attrs: Vec<(&'a str, Cow<'a, str>)> = Vec::new();
        let mut keys: Vec<&'a str> = Vec::new();
        for a in e.attributes().with_checks(false) {
            let a = a.map_err(|err| malformed(off, err.to_string()))?;
            let key = self.str(a.key.as_ref(), at.start)?;
            keys.push(key);
            let value = normalize_attr(self.str(&a.value, at.start)?).map_err(|err| err.at(off))?;
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
                None => raw_attrs.push((key, value)),
            }
        }
        if let Some(i) = first_duplicate(&keys) {
            return Err(malformed(off, format!("duplicate attribute {}", keys[i])));
        }
        self.spend(decls.len() + raw_attrs.len())?;
        self.marks.push(self.declared.len());
        for d in &decls {
            self.scope.entry(d.prefix).or_default().push(d.uri);
            self.declared.push(d.prefix);
        }
        let ns = self.resolve(&qname[..prefix_len], true).map_err(|m| malformed(off, m))?;
        let mut attrs = Vec::with_capacity(raw_attrs.len());
        for (qname, value) in raw_attrs {
            let prefix_len = split_qname(qname).map_err(|m| malformed(off, m))?;
            let ns = self.resolve(&qname[..prefix_len], false).map_err(|m| malformed(off, m))?;
            attrs.push(Attr { qname, prefix_len, ns, value });
        }
        let expanded: Vec<(&str, &str)> = attrs.iter().map(|a| (self.doc.uri(a.ns), a.local())).collect();
        if let Some(i) = first_duplicate(&expanded) {
            return Err(malformed(off, format!("attribute {} appears twice", attrs[i].qname)));
        }
        let el = Element { qname, prefix_len, ns, decls, attrs };
        let id = self.push(Data::Element(el), self.current(), at)?;
        if self.open.len() == 1 {
            self.doc.root = id;
        }
        self.open.push(id);
        Ok(())
    }

    /// Checks one namespace declaration and records its URI; `None` for a
    /// redundant `xmlns:xml`.
    fn check_decl(&mut self, prefix: &'a str, uri: Cow<'a, str>, off: u64) -> Result<Option<NsDecl<'a>>, C14nError> {
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
            return Err(C14nError::RelativeNamespace(uri.into_owned()));
        }
        let id = UriId::try_from(self.doc.uris.len()).map_err(|_| C14nError::TooManyNodes)?;
        self.doc.uris.push(uri);
        Ok(Some(NsDecl { prefix, uri: id }))
    }

    /// The namespace URI of a prefix; unprefixed attributes are in no namespace.
    fn resolve(&self, prefix: &str, element: bool) -> Result<UriId, String> {
        match prefix {
            "xml" => Ok(XML_NS_ID),
            "xmlns" => Err("the xmlns prefix is reserved".to_owned()),
            "" if !element => Ok(NO_NS),
            p => match self.lookup(p) {
                Some(uri) => Ok(uri),
                None if p.is_empty() => Ok(NO_NS),
                None => Err(format!("undeclared namespace prefix {p}")),
            },
        }
    }

    fn end(&mut self, end: usize) {
        if let Some(id) = self.open.pop() {
            self.doc.nodes[id.index()].span.end = end;
        }
        let mark = self.marks.pop().unwrap_or(0);
        for p in self.declared.drain(mark..) {
            if let Some(v) = self.scope.get_mut(p) {
                v.pop();
            }
        }
    }
}

/// The part of `src` that `part` spans, when `part` is a slice of `src` that
/// starts and ends on character boundaries: found by its address, so that it
/// is neither copied nor checked for UTF-8 again. `None` for any other slice.
fn within<'a>(src: &'a str, part: &[u8]) -> Option<&'a str> {
    if part.is_empty() {
        return Some("");
    }
    let start = (part.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
    let s = src.get(start..start.checked_add(part.len())?)?;
    (s.as_ptr() == part.as_ptr()).then_some(s)
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

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn only_a_slice_of_the_input_on_character_boundaries_is_taken_from_it() {
        let src = "<a>Nguyễn</a>";
        let bytes = src.as_bytes();
        assert_eq!(within(src, &bytes[3..11]), Some("Nguyễn"));
        assert_eq!(within(src, &bytes[..0]), Some(""));
        // A copy holds the same bytes at another address.
        let copy = bytes[3..11].to_vec();
        assert_eq!(within(src, &copy), None);
        // Cutting through "ễ" (three bytes) is not a character boundary.
        assert_eq!(within(src, &bytes[3..9]), None);
        assert_eq!(within(src, &bytes[8..11]), None);
        // A slice running past the end of the input, or before its start.
        let longer = format!("{src}more");
        let inner = &longer[..src.len()];
        assert_eq!(within(inner, &longer.as_bytes()[3..src.len() + 2]), None);
        assert_eq!(within(&longer[3..], &longer.as_bytes()[..5]), None);
    }
}
