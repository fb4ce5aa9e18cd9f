//! The table of canonicalisation cases shared by the golden-file test and the
//! libxml2 cross-check: an input under `tests/c14n/`, a subset, an algorithm and
//! the committed expected output.

#![allow(dead_code)]

use std::path::PathBuf;

use schemas::c14n::{Algorithm, Document, NodeId};

/// How a test picks a node.
#[derive(Debug, Clone, Copy)]
pub enum Sel {
    /// The document node (`URI=""`).
    Document,
    /// The element whose unqualified attribute `.0` is `.1` (`URI="#id"`).
    Id(&'static str, &'static str),
    /// The first element with this namespace URI and local name.
    First(&'static str, &'static str),
}

/// One golden case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub input: &'static str,
    pub apex: Sel,
    pub exclude: Option<Sel>,
    /// `c14n`, `c14n-comments`, `exc`, `exc-comments`, or `exc:PREFIXES` (`+` for a space).
    pub mode: &'static str,
    pub expected: &'static str,
}

const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const SIG: Option<Sel> = Some(Sel::First(DS, "Signature"));

const fn case(
    input: &'static str,
    apex: Sel,
    exclude: Option<Sel>,
    mode: &'static str,
    expected: &'static str,
) -> Case {
    Case { input, apex, exclude, mode, expected }
}

/// Every golden case.
pub const CASES: &[Case] = &[
    case("3.1-pis-comments.xml", Sel::Document, None, "c14n", "3.1-pis-comments.c14n.out"),
    case("3.1-pis-comments.xml", Sel::Document, None, "c14n-comments", "3.1-pis-comments.c14n-comments.out"),
    case("3.1-pis-comments.xml", Sel::Document, None, "exc", "3.1-pis-comments.c14n.out"),
    case("3.1-pis-comments.xml", Sel::Document, None, "exc-comments", "3.1-pis-comments.c14n-comments.out"),
    case("3.2-whitespace.xml", Sel::Document, None, "c14n", "3.2-whitespace.c14n.out"),
    case("3.3-start-end-tags.xml", Sel::Document, None, "c14n", "3.3-start-end-tags.c14n.out"),
    case("3.4-character-modifications.xml", Sel::Document, None, "c14n", "3.4-character-modifications.c14n.out"),
    case("3.6-utf8-encoding-adapted.xml", Sel::Document, None, "c14n", "3.6-utf8-encoding-adapted.c14n.out"),
    case("3.7-document-subsets.xml", Sel::Id("id", "E3"), None, "c14n", "3.7-document-subsets.e3.c14n.out"),
    case("3.7-document-subsets.xml", Sel::Id("id", "E3"), None, "exc", "3.7-document-subsets.e3.exc.out"),
    case(
        "3.7-document-subsets.xml",
        Sel::First("http://www.ietf.org", "e1"),
        Some(Sel::First("", "e2")),
        "c14n",
        "3.7-document-subsets.e1-without-e2.c14n.out",
    ),
    case(
        "3.7-document-subsets.xml",
        Sel::First("http://www.ietf.org", "e1"),
        Some(Sel::First("", "e2")),
        "exc",
        "3.7-document-subsets.e1-without-e2.exc.out",
    ),
    case("exc-2.2-first.xml", Sel::First("http://example.net", "elem2"), None, "c14n", "exc-2.2-first.elem2.c14n.out"),
    case("exc-2.2-first.xml", Sel::First("http://example.net", "elem2"), None, "exc", "exc-2.2-first.elem2.exc.out"),
    case(
        "exc-2.2-second.xml",
        Sel::First("http://example.net", "elem2"),
        None,
        "c14n",
        "exc-2.2-second.elem2.c14n.out",
    ),
    case("exc-2.2-second.xml", Sel::First("http://example.net", "elem2"), None, "exc", "exc-2.2-second.elem2.exc.out"),
    case("dossier-enveloped.xml", Sel::Document, SIG, "c14n", "dossier-enveloped.doc.c14n.out"),
    case("dossier-enveloped.xml", Sel::Document, SIG, "exc", "dossier-enveloped.doc.exc.out"),
    case("dossier-enveloped.xml", Sel::Document, SIG, "exc:xsi+#default", "dossier-enveloped.doc.exc-prefixes.out"),
    case("dossier-enveloped.xml", Sel::Document, SIG, "exc:xsi", "dossier-enveloped.doc.exc-xsi.out"),
    case(
        "dossier-enveloped.xml",
        Sel::First(DS, "SignedInfo"),
        None,
        "exc:xsi",
        "dossier-enveloped.signedinfo.exc-xsi.out",
    ),
    case("dossier-enveloped.xml", Sel::Document, None, "c14n-comments", "dossier-enveloped.all.c14n-comments.out"),
    case("dossier-enveloped.xml", Sel::Document, None, "exc-comments", "dossier-enveloped.all.exc-comments.out"),
    case("dossier-enveloped.xml", Sel::First(DS, "SignedInfo"), None, "c14n", "dossier-enveloped.signedinfo.c14n.out"),
    case("dossier-enveloped.xml", Sel::First(DS, "SignedInfo"), None, "exc", "dossier-enveloped.signedinfo.exc.out"),
    case(
        "dossier-enveloped.xml",
        Sel::First(DS, "SignedInfo"),
        None,
        "exc:xsi+#default",
        "dossier-enveloped.signedinfo.exc-prefixes.out",
    ),
    case("dossier-enveloped.xml", Sel::Id("Id", "tep-1"), None, "c14n", "dossier-enveloped.tep.c14n.out"),
    case("dossier-enveloped.xml", Sel::Id("Id", "tep-1"), None, "exc", "dossier-enveloped.tep.exc.out"),
    case("dossier-default-ds.xml", Sel::Document, SIG, "c14n", "dossier-default-ds.doc.c14n.out"),
    case("dossier-default-ds.xml", Sel::Document, SIG, "exc", "dossier-default-ds.doc.exc.out"),
    case(
        "dossier-default-ds.xml",
        Sel::First(DS, "SignedInfo"),
        None,
        "c14n",
        "dossier-default-ds.signedinfo.c14n.out",
    ),
    case("dossier-default-ds.xml", Sel::First(DS, "SignedInfo"), None, "exc", "dossier-default-ds.signedinfo.exc.out"),
    case("dossier-default-ds.xml", Sel::Id("Id", "payload"), None, "c14n", "dossier-default-ds.payload.c14n.out"),
    case("dossier-default-ds.xml", Sel::Id("Id", "payload"), None, "exc", "dossier-default-ds.payload.exc.out"),
    case("dossier-crlf.xml", Sel::Document, SIG, "c14n", "dossier-crlf.doc.c14n.out"),
    case("dossier-crlf.xml", Sel::Document, SIG, "exc", "dossier-crlf.doc.exc.out"),
    case("dossier-crlf.xml", Sel::First(DS, "SignedInfo"), None, "c14n", "dossier-crlf.signedinfo.c14n.out"),
    case("dossier-crlf.xml", Sel::First(DS, "SignedInfo"), None, "exc", "dossier-crlf.signedinfo.exc.out"),
];

/// The folder of inputs and expected outputs.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/c14n")
}

/// Reads a file under `tests/c14n/`.
pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The algorithm a mode names.
pub fn algorithm(mode: &str) -> Algorithm {
    match mode {
        "c14n" => Algorithm::Inclusive { comments: false },
        "c14n-comments" => Algorithm::Inclusive { comments: true },
        "exc" => Algorithm::Exclusive { comments: false, inclusive_prefixes: Vec::new() },
        "exc-comments" => Algorithm::Exclusive { comments: true, inclusive_prefixes: Vec::new() },
        m => match m.strip_prefix("exc:") {
            Some(list) => algorithm("exc").with_prefix_list(&list.replace('+', " ")),
            None => panic!("unknown mode {m}"),
        },
    }
}

/// The node a selector picks.
pub fn select(doc: &Document, sel: Sel) -> NodeId {
    match sel {
        Sel::Document => doc.document(),
        Sel::Id(attr, id) => doc.find_by_id("", attr, id).unwrap().expect("no element with that ID"),
        Sel::First(ns, local) => {
            doc.descendants(doc.document()).find(|n| doc.name(*n) == Some((ns, local))).expect("no such element")
        }
    }
}

/// Runs a case through this crate's canonicaliser.
pub fn run(case: &Case) -> Vec<u8> {
    let input = read(case.input);
    let doc = Document::parse(&input).unwrap_or_else(|e| panic!("{}: {e}", case.input));
    let apex = select(&doc, case.apex);
    let exclude = case.exclude.map(|s| select(&doc, s));
    doc.canonicalize(apex, exclude, &algorithm(case.mode))
}
