//! Exclusive XML Canonicalization 1.0: an element renders only the namespaces it
//! visibly utilises (its own prefix, its attributes' prefixes) and those of the
//! InclusiveNamespaces PrefixList, each only where the output ancestors have not
//! already rendered the same binding. No `xml:*` attribute is inherited.

use super::render::Ctx;
use super::tree::{Document, Element};

/// Appends to `out` the namespace nodes an element renders under exclusive
/// canonicalisation, one per prefix, sorted by prefix.
pub(super) fn namespaces<'d>(
    doc: &'d Document<'_>,
    e: &'d Element<'_>,
    prefix_list: &'d [String],
    ctx: &Ctx<'_, 'd>,
    out: &mut Vec<(&'d str, &'d str)>,
) {
    let from = out.len();
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
    // Within one element a prefix has one binding, so the entries of one prefix
    // are equal: sorting and removing repeats keeps one of each.
    let mut kept = from;
    for i in from..out.len() {
        let (p, u) = out[i];
        if p != "xml" && ctx.rendered.uri(p) != u {
            out[kept] = (p, u);
            kept += 1;
        }
    }
    out.truncate(kept);
    out[from..].sort_unstable();
    dedup_tail(out, from);
}

/// Removes consecutive repeats from `out[from..]`.
fn dedup_tail<T: PartialEq + Copy>(out: &mut Vec<T>, from: usize) {
    let mut kept = from;
    for i in from..out.len() {
        if kept == from || out[kept - 1] != out[i] {
            out[kept] = out[i];
            kept += 1;
        }
    }
    out.truncate(kept);
}
