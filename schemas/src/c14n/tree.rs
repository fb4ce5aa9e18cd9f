//! The arena tree a [`Document`] is parsed into, and the look-ups a signature
//! verifier needs on it.

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

/// A namespace declaration as written on an element (`prefix` empty for `xmlns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NsDecl {
    pub prefix: String,
    pub uri: String,
}

/// An attribute other than a namespace declaration, with its value normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Attr {
    /// The name as written (`p:local` or `local`).
    pub qname: String,
    /// Length of the prefix in `qname` (0 when unprefixed).
    pub prefix_len: usize,
    /// The namespace URI (empty for unprefixed attributes).
    pub ns: String,
    pub value: String,
}

impl Attr {
    pub fn prefix(&self) -> &str {
        &self.qname[..self.prefix_len]
    }

    pub fn local(&self) -> &str {
        if self.prefix_len == 0 {
            &self.qname
        } else {
            &self.qname[self.prefix_len + 1..]
        }
    }
}

/// An element: its name, resolved namespace, declarations and attributes in
/// document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Element {
    pub qname: String,
    pub prefix_len: usize,
    pub ns: String,
    pub decls: Vec<NsDecl>,
    pub attrs: Vec<Attr>,
}

impl Element {
    pub fn prefix(&self) -> &str {
        &self.qname[..self.prefix_len]
    }

    pub fn local(&self) -> &str {
        if self.prefix_len == 0 {
            &self.qname
        } else {
            &self.qname[self.prefix_len + 1..]
        }
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
pub(super) enum Data {
    Document,
    Element(Box<Element>),
    Text(String),
    Comment(String),
    Pi { target: String, data: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    pub data: Data,
    pub parent: Option<NodeId>,
    pub children: Vec<NodeId>,
    pub span: Range<usize>,
}

/// A parsed XML document, ready to be canonicalised in whole or in part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub(super) nodes: Vec<Node>,
    pub(super) root: NodeId,
    /// Length of the parsed input, in bytes.
    pub(super) input_len: usize,
}

impl Document {
    /// Parses a document strictly: UTF-8, no DOCTYPE, only predefined entities.
    pub fn parse(bytes: &[u8]) -> Result<Self, C14nError> {
        super::parse::parse(bytes)
    }

    pub(super) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    pub(super) fn element(&self, id: NodeId) -> Option<&Element> {
        match &self.nodes.get(id.index())?.data {
            Data::Element(e) => Some(e),
            _ => None,
        }
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
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        &self.node(id).children
    }

    /// The child elements of a node, in document order.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).iter().copied().filter(|c| self.element(*c).is_some())
    }

    /// The parent of a node (`None` for the document node).
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.node(id).parent
    }

    /// An element's expanded name as (namespace URI, local name); `None` for other
    /// nodes. The namespace URI is empty for an element in no namespace.
    pub fn name(&self, id: NodeId) -> Option<(&str, &str)> {
        self.element(id).map(|e| (e.ns.as_str(), e.local()))
    }

    /// The value of an element's attribute by expanded name (namespace URI empty for
    /// an unprefixed attribute), after attribute-value normalisation.
    pub fn attribute(&self, id: NodeId, ns: &str, local: &str) -> Option<&str> {
        let e = self.element(id)?;
        e.attrs.iter().find(|a| a.ns == ns && a.local() == local).map(|a| a.value.as_str())
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
    pub fn descendants(&self, id: NodeId) -> Descendants<'_> {
        Descendants { doc: self, stack: vec![id] }
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

/// Iterator over a node and its descendants in document order.
#[derive(Debug)]
pub struct Descendants<'a> {
    doc: &'a Document,
    stack: Vec<NodeId>,
}

impl Iterator for Descendants<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        let id = self.stack.pop()?;
        self.stack.extend(self.doc.children(id).iter().rev().copied());
        Some(id)
    }
}
