//! Canonical XML 1.0: which namespace declarations and attributes an element
//! renders.

use std::collections::HashSet;

use super::render::Ctx;
use super::tree::{Attr, Document, Element, NodeId, XML_NS_ID};

/// Appends to `out` the namespace nodes to render, sorted by prefix: at the apex
/// every binding in scope (there is no output ancestor), below it only those
/// that differ from what the output ancestors rendered. `xmlns=""` comes out
/// only where a non-empty default is in effect above.
pub(super) fn namespaces<'d>(
    doc: &'d Document<'_>,
    e: &'d Element<'_>,
    ctx: &Ctx<'_, 'd>,
    out: &mut Vec<(&'d str, &'d str)>,
) {
    let differs = |p: &str, u: &str| ctx.rendered.uri(p) != u;
    if ctx.is_apex {
        out.extend(ctx.in_scope.all().filter(|(p, u)| differs(p, u)));
    } else {
        out.extend(e.decls.iter().map(|d| (d.prefix, doc.uri(d.uri))).filter(|(p, u)| differs(p, u)));
    }
    out.sort_unstable();
}

/// Appends to `out` the attributes to render: the element's own and, at an apex
/// whose parent is an element, the `xml:*` attributes it inherits (C14N 1.0
/// §2.4), nearest first.
pub(super) fn attributes<'d>(doc: &'d Document<'_>, id: NodeId, is_apex: bool, out: &mut Vec<&'d Attr<'d>>) {
    let Some(e) = doc.element(id) else { return };
    out.extend(e.attrs.iter());
    if !is_apex {
        return;
    }
    // The names of `xml:*` attributes already taken, built at the first
    // ancestor that has one (most documents have none).
    let mut have: Option<HashSet<&str>> = None;
    let mut up = doc.parent(id);
    while let Some(a) = up {
        for attr in doc.element(a).map(|e| e.attrs.as_slice()).unwrap_or_default() {
            if attr.ns != XML_NS_ID {
                continue;
            }
            let have =
                have.get_or_insert_with(|| out.iter().filter(|o| o.ns == XML_NS_ID).map(|o| o.local()).collect());
            if have.insert(attr.local()) {
                out.push(attr);
            }
        }
        up = doc.parent(a);
    }
}
