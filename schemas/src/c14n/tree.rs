//! The arena tree a [`Document`] is parsed into, and the look-ups a signature
//! verifier needs on it.
//!
//! The tree borrows from the input: names, and every text, attribute value and
//! namespace URI that needs no normalisation, are slices of the parsed bytes;
//! only values with references or line ends to normalise are owned. Namespace
//! URIs are stored once per declaration and referred to by index, and children
//! are linked, so that a node costs no allocation of its own.

use std::borrow::Cow;
use std::ops::Range;

use super::C14nError;

/// Handle of a node in a [`Document`]; only meaningful for the document it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(super) u32);

impl NodeId {
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

/// Index of a namespace URI in [`Document::uris`].
pub(super) type UriId = u32;

/// The URI of no namespace: index 0 of every document's URI table.
pub(super) const NO_NS: UriId = 0;
/// The namespace bound to the `xml` prefix: index 1 of every document's URI table.
pub(super) const XML_NS_ID: UriId = 1;

/// A namespace declaration as written on an element (`prefix` empty for `xmlns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NsDecl<'a> {
    pub prefix: &'a str,
    pub uri: UriId,
}

/// An attribute other than a namespace declaration, with its value normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Attr<'a> {
    /// The name as written (`p:local` or `local`).
    pub qname: &'a str,
    /// Length of the prefix in `qname` (0 when unprefixed).
    pub prefix_len: usize,
    /// The namespace URI ([`NO_NS`] for unprefixed attributes).
    pub ns: UriId,
    pub value: Cow<'a, str>,
}

impl<'a> Attr<'a> {
    pub fn prefix(&self) -> &'a str {
        &self.qname[..self.prefix_len]
    }

    pub fn local(&self) -> &'a str {
        local_of(self.qname, self.prefix_len)
    }
}

/// An element: its name, resolved namespace, declarations and attributes in
/// document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Element<'a> {
    pub qname: &'a str,
    pub prefix_len: usize,
    pub ns: UriId,
    pub decls: Vec<NsDecl<'a>>,
    pub attrs: Vec<Attr<'a>>,
}

impl<'a> Element<'a> {
    pub fn prefix(&self) -> &'a str {
        &self.qname[..self.prefix_len]
    }

    pub fn local(&self) -> &'a str {
        local_of(self.qname, self.prefix_len)
    }
}

fn local_of(qname: &str, prefix_len: usize) -> &str {
    if prefix_len == 0 {
        qname
    } else {
        &qname[prefix_len + 1..]
    }
}

/// What kind of node a [`NodeId`] designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeKind {
    /// The document node, parent of the document element.
    Document,
    /// An element.
    Element,
    /// Character data (CDATA sections are merged into it).
    Text,
    /// A comment.
    Comment,
    /// A processing instruction.
    ProcessingInstruction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Data<'a> {
    Document,
    Element(Element<'a>),
    Text(Cow<'a, str>),
    Comment(Cow<'a, str>),
    Pi { target: &'a str, data: Cow<'a, str> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node<'a> {
    pub data: Data<'a>,
    pub parent: Option<NodeId>,
    pub first_child: Option<NodeId>,
    pub last_child: Option<NodeId>,
    pub next_sibling: Option<NodeId>,
    pub span: Range<usize>,
}

/// A parsed XML document, ready to be canonicalised in whole or in part. It
/// borrows the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<'a> {
    pub(super) nodes: Vec<Node<'a>>,
    /// Namespace URIs: [`NO_NS`], [`XML_NS_ID`], then one per declaration.
    pub(super) uris: Vec<Cow<'a, str>>,
    pub(super) root: NodeId,
    /// Length of the parsed input, in bytes.
    pub(super) input_len: usize,
}

impl<'a> Document<'a> {
    /// Parses a document strictly: UTF-8, no DOCTYPE, only predefined entities.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, C14nError> {
        super::parse::parse(bytes)
    }

    pub(super) fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id.index()]
    }

    pub(super) fn element(&self, id: NodeId) -> Option<&Element<'a>> {
        match &self.nodes.get(id.index())?.data {
            Data::Element(e) => Some(e),
            _ => None,
        }
    }

    /// The namespace URI an index stands for.
    pub(super) fn uri(&self, id: UriId) -> &str {
        &self.uris[id as usize]
    }

    /// The length in bytes of the input the document was parsed from.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// The document node: the apex for a whole document, as `URI=""` selects it.
    pub fn document(&self) -> NodeId {
        NodeId(0)
    }

    /// The document element.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// The kind of a node.
    pub fn kind(&self, id: NodeId) -> NodeKind {
        match self.node(id).data {
            Data::Document => NodeKind::Document,
            Data::Element(_) => NodeKind::Element,
            Data::Text(_) => NodeKind::Text,
            Data::Comment(_) => NodeKind::Comment,
            Data::Pi { .. } => NodeKind::ProcessingInstruction,
        }
    }

    /// The children of a node, in document order.
    pub fn children(&self, id: NodeId) -> Children<'_, 'a> {
        Children { doc: self, next: self.node(id).first_child }
    }

    /// The child elements of a node, in document order.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(|c| self.element(*c).is_some())
    }

    /// The parent of a node (`None` for the document node).
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.node(id).parent
    }

    /// An element's expanded name as (namespace URI, local name); `None` for other
    /// nodes. The namespace URI is empty for an element in no namespace.
    pub fn name(&self, id: NodeId) -> Option<(&str, &str)> {
        self.element(id).map(|e| (self.uri(e.ns), e.local()))
    }

    /// The value of an element's attribute by expanded name (namespace URI empty for
    /// an unprefixed attribute), after attribute-value normalisation.
    pub fn attribute(&self, id: NodeId, ns: &str, local: &str) -> Option<&str> {
        let e = self.element(id)?;
        e.attrs.iter().find(|a| a.local() == local && self.uri(a.ns) == ns).map(|a| a.value.as_ref())
    }

    /// An element's attributes other than namespace declarations, in the order
    /// canonical XML writes them (by namespace URI, then local name), each as
    /// (name as written, value after attribute-value normalisation).
    pub(crate) fn sorted_attributes(&self, id: NodeId) -> Vec<(&str, &str)> {
        let Some(e) = self.element(id) else { return Vec::new() };
        let mut attrs: Vec<&Attr<'a>> = e.attrs.iter().collect();
        attrs.sort_by(|a, b| self.attribute_order(a, b));
        attrs.into_iter().map(|a| (a.qname, a.value.as_ref())).collect()
    }

    /// The order of attributes in canonical XML: by namespace URI, then local name.
    pub(super) fn attribute_order(&self, a: &Attr<'_>, b: &Attr<'_>) -> std::cmp::Ordering {
        (self.uri(a.ns), a.local()).cmp(&(self.uri(b.ns), b.local()))
    }

    /// The character data of a text node.
    pub fn text(&self, id: NodeId) -> Option<&str> {
        match &self.node(id).data {
            Data::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The byte range a node occupies in the parsed input (for an element, from
    /// its start tag to the end of its end tag).
    pub fn span(&self, id: NodeId) -> Range<usize> {
        self.node(id).span.clone()
    }

    /// All nodes of the document, in document order.
    pub fn descendants(&self, id: NodeId) -> Descendants<'_, 'a> {
        Descendants { doc: self, apex: id, next: Some(id) }
    }

    /// The node after `id` in document order within the subtree at `apex`,
    /// skipping `id`'s own descendants when `skip_children`.
    pub(super) fn following(&self, apex: NodeId, id: NodeId, skip_children: bool) -> Option<NodeId> {
        if !skip_children {
            if let Some(c) = self.node(id).first_child {
                return Some(c);
            }
        }
        let mut at = id;
        loop {
            if at == apex {
                return None;
            }
            let n = self.node(at);
            if let Some(s) = n.next_sibling {
                return Some(s);
            }
            at = n.parent?;
        }
    }

    /// The element whose attribute (`ns`, `local`) has the value `id`: `Ok(None)`
    /// if there is none, an error if there are several (an ID must be unique, or a
    /// signature could be made to cover a different element than the one used).
    pub fn find_by_id(&self, ns: &str, local: &str, id: &str) -> Result<Option<NodeId>, C14nError> {
        let mut found = None;
        for n in self.descendants(self.document()) {
            if self.attribute(n, ns, local) == Some(id) {
                if found.is_some() {
                    return Err(C14nError::DuplicateId(id.to_owned()));
                }
                found = Some(n);
            }
        }
        Ok(found)
    }
}

/// Iterator over the children of a node, in document order.
#[derive(Debug, Clone)]
pub struct Children<'d, 'a> {
    doc: &'d Document<'a>,
    next: Option<NodeId>,
}

impl Iterator for Children<'_, '_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        let id = self.next?;
        self.next = self.doc.node(id).next_sibling;
        Some(id)
    }
}

/// Iterator over a node and its descendants in document order.
#[derive(Debug, Clone)]
pub struct Descendants<'d, 'a> {
    doc: &'d Document<'a>,
    apex: NodeId,
    next: Option<NodeId>,
}

impl Iterator for Descendants<'_, '_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        let id = self.next?;
        self.next = self.doc.following(self.apex, id, false);
        Some(id)
    }
}
