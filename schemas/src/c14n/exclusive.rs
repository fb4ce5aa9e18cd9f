//! Exclusive XML Canonicalization 1.0: an element renders only the namespaces it
//! visibly utilises (its own prefix, its attributes' prefixes) and those of the
//! InclusiveNamespaces PrefixList, each only where the output ancestors have not
//! already rendered the same binding. No `xml:*` attribute is inherited.

use super::render::Ctx;
use super::tree::{Document, Element};

/// Fills `out` (empty on entry) with the namespace nodes an element renders
/// under exclusive canonicalisation, one per prefix, sorted by prefix.
pub(super) fn namespaces<'d>(
    doc: &'d Document<'_>,
    e: &'d Element<'_>,
    prefix_list: &'d [String],
    ctx: &Ctx<'_, 'd>,
    out: &mut Vec<(&'d str, &'d str)>,
) {
    debug_assert!(out.is_empty());
    out.push((e.prefix(), doc.uri(e.ns)));
    for a in &e.attrs {
        if !a.prefix().is_empty() {
            out.push((a.prefix(), doc.uri(a.ns)));
        }
    }
    for p in prefix_list {
        let p = if p == "#default" { "" } else { p.as_str() };
        match ctx.in_scope.get(p) {
            Some(u) => out.push((p, u)),
            None if p.is_empty() => out.push(("", "")),
            None => {}
        }
    }
    out.retain(|&(p, u)| p != "xml" && ctx.rendered.uri(p) != u);
    // Within one element a prefix has one binding, so the entries of one prefix
    // are equal: sorting and removing repeats keeps one of each.
    out.sort_unstable();
    out.dedup();
}
