//! Untrusted bytes into the XML dialect parser and the normaliser: never a
//! panic. And where the bytes are a document the signature layer parses, the
//! dossier read from its tree (as a verified signature's content is read) is
//! exactly the one read from its canonical form, with and without the first
//! `ds:Signature`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schemas::c14n::{Algorithm, Document};
use schemas::dsig::DSIG_NS;

fuzz_target!(|data: &[u8]| {
    let _ = schemas::dossier_from_xml(data);
    let Ok(doc) = Document::parse(data) else { return };
    let signature = doc.descendants(doc.document()).find(|n| doc.name(*n) == Some((DSIG_NS, "Signature")));
    let alg = Algorithm::Exclusive { comments: false, inclusive_prefixes: Vec::new() };
    for (apex, exclude) in [(doc.document(), signature), (doc.root(), None)] {
        let from_tree = schemas::raw_from_tree(&doc, apex, exclude);
        let from_bytes = schemas::parse_xml(&doc.canonicalize(apex, exclude, &alg));
        assert_eq!(from_tree, from_bytes, "the tree and the canonical form read differently");
    }
});
