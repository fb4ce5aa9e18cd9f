//! Exclusive XML Canonicalization 1.0: an element renders only the namespaces it
//! visibly utilises (its own prefix, its attributes' prefixes) and those of the
//! InclusiveNamespaces PrefixList, each only where the output ancestors have not
//! already rendered the same binding. No `xml:*` attribute is inherited.

use std::collections::HashSet;

use super::render::Ctx;
use super::tree::Element;

/// The namespace nodes an element renders under exclusive canonicalisation.
pub(super) fn namespaces(e: &Element, prefix_list: &[String], ctx: &Ctx<'_>) -> Vec<(String, String)> {
    let mut wanted: Vec<(&str, &str)> = vec![(e.prefix(), e.ns.as_str())];
    for a in &e.attrs {
        if !a.prefix().is_empty() {
            wanted.push((a.prefix(), a.ns.as_str()));
        }
    }
    for p in prefix_list {
        let p = if p == "#default" { "" } else { p.as_str() };
        match ctx.in_scope.get(p) {
            Some(u) => wanted.push((p, u)),
            None if p.is_empty() => wanted.push(("", "")),
            None => {}
        }
    }
    let mut seen = HashSet::new();
    wanted
        .into_iter()
        .filter(|(p, u)| *p != "xml" && ctx.rendered.uri(p) != *u && seen.insert(*p))
        .map(|(p, u)| (p.to_owned(), u.to_owned()))
        .collect()
}
