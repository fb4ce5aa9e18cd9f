//! Untrusted bytes into the canonicaliser's parser, then every algorithm over the
//! whole document, the document element without its first child element, and an
//! element subtree in context: never a panic, and every output re-parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schemas::c14n::{Algorithm, Document};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = Document::parse(data) else { return };
    let algorithms = [
        Algorithm::Inclusive { comments: false },
        Algorithm::Inclusive { comments: true },
        Algorithm::Exclusive { comments: false, inclusive_prefixes: Vec::new() },
        Algorithm::Exclusive { comments: true, inclusive_prefixes: vec!["#default".into(), "p".into()] },
    ];
    let root = doc.root();
    let first = doc.child_elements(root).next();
    let inner = doc.descendants(root).filter(|n| doc.name(*n).is_some()).last();
    for alg in &algorithms {
        for (apex, exclude) in [(doc.document(), None), (root, first), (inner.unwrap_or(root), None)] {
            let out = doc.canonicalize(apex, exclude, alg);
            if apex == doc.document() || apex == root {
                assert!(Document::parse(&out).is_ok(), "output does not re-parse");
            }
        }
    }
});
