//! Canonical XML 1.0: which namespace declarations and attributes an element
//! renders.

use std::collections::HashSet;

use super::parse::XML_NS;
use super::render::Ctx;
use super::tree::{Attr, Document, Element, NodeId};

/// The namespace nodes to render: at the apex every binding in scope (there is no
/// output ancestor), below it only those that differ from what the output
/// ancestors rendered. `xmlns=""` comes out only where a non-empty default is in
/// effect above.
pub(super) fn namespaces(e: &Element, ctx: &Ctx<'_>) -> Vec<(String, String)> {
    let differs = |p: &str, u: &str| ctx.rendered.uri(p) != u;
    if ctx.is_apex {
        ctx.in_scope.all().filter(|(p, u)| differs(p, u)).map(|(p, u)| (p.to_owned(), u.to_owned())).collect()
    } else {
        e.decls.iter().filter(|d| differs(&d.prefix, &d.uri)).map(|d| (d.prefix.clone(), d.uri.clone())).collect()
    }
}

/// The attributes to render: the element's own and, at an apex whose parent is an
/// element, the `xml:*` attributes it inherits (C14N 1.0 §2.4), nearest first.
pub(super) fn attributes(doc: &Document, id: NodeId, is_apex: bool) -> Vec<&Attr> {
    let Some(e) = doc.element(id) else { return Vec::new() };
    let mut attrs: Vec<&Attr> = e.attrs.iter().collect();
    if !is_apex {
        return attrs;
    }
    let mut have: HashSet<&str> = attrs.iter().filter(|a| a.ns == XML_NS).map(|a| a.local()).collect();
    let mut up = doc.parent(id);
    while let Some(a) = up {
        for attr in doc.element(a).map(|e| e.attrs.as_slice()).unwrap_or_default() {
            if attr.ns == XML_NS && have.insert(attr.local()) {
                attrs.push(attr);
            }
        }
        up = doc.parent(a);
    }
    attrs
}
