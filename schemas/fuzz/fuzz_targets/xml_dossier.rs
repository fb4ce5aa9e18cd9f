//! Untrusted bytes into the XML dialect parser and the normaliser: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = schemas::dossier_from_xml(data);
});
