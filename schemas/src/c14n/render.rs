//! The walk over a document subset that writes its canonical form. The subset is
//! an apex node's subtree less one optional excluded subtree; the walk uses an
//! explicit stack, so a deep document cannot overflow the call stack.

use std::collections::HashMap;

use super::tree::{Attr, Data, Document, Element, NodeId};
use super::{escape, exclusive, inclusive, Algorithm, C14nError};

/// Namespace bindings with undo: prefix (`""` for the default) to URI, both
/// borrowed from the document.
#[derive(Debug, Default)]
pub(super) struct Scope<'d> {
    map: HashMap<&'d str, Vec<&'d str>>,
    log: Vec<&'d str>,
}

impl<'d> Scope<'d> {
    pub fn get(&self, prefix: &str) -> Option<&'d str> {
        self.map.get(prefix).and_then(|v| v.last()).copied()
    }

    /// The URI a prefix is bound to, the default namespace being `""` when unset.
    pub fn uri(&self, prefix: &str) -> &'d str {
        self.get(prefix).unwrap_or("")
    }

    pub fn bind(&mut self, prefix: &'d str, uri: &'d str) {
        self.map.entry(prefix).or_default().push(uri);
        self.log.push(prefix);
    }

    pub fn mark(&self) -> usize {
        self.log.len()
    }

    pub fn undo_to(&mut self, mark: usize) {
        while self.log.len() > mark {
            if let Some(p) = self.log.pop() {
                if let Some(v) = self.map.get_mut(p) {
                    v.pop();
                }
            }
        }
    }

    /// Every binding in effect, the default namespace included even when empty.
    pub fn all(&self) -> impl Iterator<Item = (&'d str, &'d str)> + '_ {
        self.map.iter().filter_map(|(p, v)| v.last().map(|u| (*p, *u)))
    }
}

/// What the algorithms need to choose an element's namespaces and attributes.
pub(super) struct Ctx<'s, 'd> {
    /// Bindings in scope at the element (its own declarations included).
    pub in_scope: &'s Scope<'d>,
    /// Bindings already rendered by output ancestors.
    pub rendered: &'s Scope<'d>,
    /// Whether the element is the apex of the subset (no output ancestor).
    pub is_apex: bool,
}

enum Step {
    Open(NodeId),
    Close { id: NodeId, in_scope: usize, rendered: usize },
}

impl Document<'_> {
    /// The canonical form of the subtree at `node` (the whole document for
    /// [`Document::document`]) without the subtree at `exclude`.
    pub fn canonicalize(&self, node: NodeId, exclude: Option<NodeId>, alg: &Algorithm) -> Vec<u8> {
        let mut out = Vec::new();
        self.canonicalize_into(node, exclude, alg, &mut out);
        out
    }

    /// As [`Document::canonicalize`], appending to `out`.
    pub fn canonicalize_into(&self, node: NodeId, exclude: Option<NodeId>, alg: &Algorithm, out: &mut Vec<u8>) {
        // Without a budget the walk cannot fail.
        let _ = self.render(node, exclude, alg, out, usize::MAX);
    }

    /// As [`Document::canonicalize`], but refused with
    /// [`C14nError::OutputTooLarge`] as soon as the output passes `limit` bytes:
    /// for documents from untrusted senders.
    pub fn canonicalize_bounded(
        &self,
        node: NodeId,
        exclude: Option<NodeId>,
        alg: &Algorithm,
        limit: usize,
    ) -> Result<Vec<u8>, C14nError> {
        let mut out = Vec::new();
        self.render(node, exclude, alg, &mut out, limit)?;
        Ok(out)
    }

    fn render(
        &self,
        node: NodeId,
        exclude: Option<NodeId>,
        alg: &Algorithm,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), C14nError> {
        if node.index() >= self.nodes.len() {
            return Ok(());
        }
        let mut in_scope = Scope::default();
        let mut rendered = Scope::default();
        let mut ancestors: Vec<NodeId> = Vec::new();
        let mut up = self.parent(node);
        while let Some(a) = up {
            ancestors.push(a);
            up = self.parent(a);
        }
        for a in ancestors.iter().rev() {
            for d in self.element(*a).map(|e| e.decls.as_slice()).unwrap_or_default() {
                in_scope.bind(d.prefix, self.uri(d.uri));
            }
        }
        let whole = node == self.document();
        let mut stack = vec![Step::Open(node)];
        // Reused from element to element: what each start tag renders.
        let mut ns: Vec<(&str, &str)> = Vec::new();
        let mut attrs: Vec<&Attr<'_>> = Vec::new();
        while let Some(step) = stack.pop() {
            if out.len() > limit {
                return Err(C14nError::OutputTooLarge(limit));
            }
            let id = match step {
                Step::Close { id, in_scope: s, rendered: r } => {
                    if let Some(e) = self.element(id) {
                        out.extend_from_slice(b"</");
                        out.extend_from_slice(e.qname.as_bytes());
                        out.push(b'>');
                    }
                    in_scope.undo_to(s);
                    rendered.undo_to(r);
                    continue;
                }
                Step::Open(id) if Some(id) == exclude => continue,
                Step::Open(id) => id,
            };
            let n = self.node(id);
            let top = whole && n.parent == Some(self.document());
            let after_root = id > self.root;
            match &n.data {
                Data::Document => self.push_children(id, &mut stack),
                Data::Text(t) => escape::text(t, out),
                Data::Comment(c) if alg.with_comments() => {
                    outside(top, after_root, out, |out| {
                        out.extend_from_slice(b"<!--");
                        out.extend_from_slice(c.as_bytes());
                        out.extend_from_slice(b"-->");
                    });
                }
                Data::Comment(_) => {}
                Data::Pi { target, data } => outside(top, after_root, out, |out| {
                    out.extend_from_slice(b"<?");
                    out.extend_from_slice(target.as_bytes());
                    if !data.is_empty() {
                        out.push(b' ');
                        out.extend_from_slice(data.as_bytes());
                    }
                    out.extend_from_slice(b"?>");
                }),
                Data::Element(e) => {
                    let marks = (in_scope.mark(), rendered.mark());
                    for d in &e.decls {
                        in_scope.bind(d.prefix, self.uri(d.uri));
                    }
                    let ctx = Ctx { in_scope: &in_scope, rendered: &rendered, is_apex: id == node };
                    ns.clear();
                    attrs.clear();
                    match alg {
                        Algorithm::Inclusive { .. } => {
                            inclusive::namespaces(self, e, &ctx, &mut ns);
                            inclusive::attributes(self, id, id == node, &mut attrs);
                        }
                        Algorithm::Exclusive { inclusive_prefixes, .. } => {
                            exclusive::namespaces(self, e, inclusive_prefixes, &ctx, &mut ns);
                            attrs.extend(e.attrs.iter());
                        }
                    }
                    for (p, u) in &ns {
                        rendered.bind(p, u);
                    }
                    attrs.sort_by(|a, b| self.attribute_order(a, b));
                    start_tag(e, &ns, &attrs, out);
                    stack.push(Step::Close { id, in_scope: marks.0, rendered: marks.1 });
                    self.push_children(id, &mut stack);
                }
            }
        }
        if out.len() > limit {
            return Err(C14nError::OutputTooLarge(limit));
        }
        Ok(())
    }
}

impl Document<'_> {
    /// Pushes the children of `id` to be opened in document order.
    fn push_children(&self, id: NodeId, stack: &mut Vec<Step>) {
        let from = stack.len();
        stack.extend(self.children(id).map(Step::Open));
        stack[from..].reverse();
    }
}

/// Renders a comment or PI, separated from the document element by a line feed
/// when it is outside it.
fn outside(top: bool, after_root: bool, out: &mut Vec<u8>, render: impl FnOnce(&mut Vec<u8>)) {
    if top && after_root {
        out.push(b'\n');
    }
    render(out);
    if top && !after_root {
        out.push(b'\n');
    }
}

fn start_tag(e: &Element<'_>, ns: &[(&str, &str)], attrs: &[&Attr<'_>], out: &mut Vec<u8>) {
    out.push(b'<');
    out.extend_from_slice(e.qname.as_bytes());
    for (p, u) in ns {
        out.extend_from_slice(b" xmlns");
        if !p.is_empty() {
            out.push(b':');
            out.extend_from_slice(p.as_bytes());
        }
        out.extend_from_slice(b"=\"");
        escape::attr(u, out);
        out.push(b'"');
    }
    for a in attrs {
        out.push(b' ');
        out.extend_from_slice(a.qname.as_bytes());
        out.extend_from_slice(b"=\"");
        escape::attr(&a.value, out);
        out.push(b'"');
    }
    out.push(b'>');
}
