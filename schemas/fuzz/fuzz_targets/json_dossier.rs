//! Untrusted bytes into the JSON dialect parser and the normaliser: never a panic,
//! and an accepted dossier always re-serialises and re-reads to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = schemas::dossier_from_json(data) {
        let canonical = serde_json::to_vec(&d).expect("a canonical dossier serialises");
        let back: schemas::Dossier = serde_json::from_slice(&canonical).expect("and reads back");
        assert_eq!(back, d);
    }
});
