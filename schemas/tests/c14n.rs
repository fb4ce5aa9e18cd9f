//! Golden files: the examples of Canonical XML 1.0 §3 and Exclusive XML
//! Canonicalization 1.0 §2.2, adapted where they need a DTD (see
//! `tests/c14n/README.md`), and signed-dossier-shaped documents, compared byte for
//! byte. `C14N_BLESS=1` rewrites the expected files of the dossier cases.

#[path = "c14n/cases.rs"]
mod cases;

use cases::{read, run, CASES};
use schemas::c14n::Document;
use schemas::C14nError;

#[test]
fn golden_outputs_are_byte_identical() {
    let bless = std::env::var_os("C14N_BLESS").is_some();
    let mut failures = Vec::new();
    for case in CASES {
        let got = run(case);
        if bless && case.input.starts_with("dossier-") {
            std::fs::write(cases::dir().join(case.expected), &got).unwrap();
            continue;
        }
        if got != read(case.expected) {
            failures.push(format!("{} ({}):\n{}", case.expected, case.mode, String::from_utf8_lossy(&got)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn dtd_dependent_examples_are_refused() {
    // §3.5 needs entity declarations, which live in a DTD; DOCTYPE is refused.
    assert_eq!(Document::parse(&read("3.5-entity-references.xml")), Err(C14nError::Doctype));
    // Without the DTD the same references are to undeclared entities.
    let err = Document::parse(&read("3.5-entity-references-without-dtd.xml")).unwrap_err();
    assert!(matches!(err, C14nError::UndeclaredEntity(_)), "{err}");
    // §3.6 declares ISO-8859-1; only UTF-8 is accepted.
    assert_eq!(Document::parse(&read("3.6-utf8-encoding.xml")), Err(C14nError::Encoding));
}
