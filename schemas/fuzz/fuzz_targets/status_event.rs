//! Untrusted bytes into the processing-history item parser (a status post's body
//! and a list of items): never a panic; an accepted event re-serialises and
//! re-reads to itself and survives the DVCQG form; a list replays through the
//! lifecycle without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schemas::StatusEvent;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = StatusEvent::from_dvcqg_json(data) {
        let canonical = serde_json::to_vec(&e).expect("a canonical event serialises");
        let back: StatusEvent = serde_json::from_slice(&canonical).expect("and reads back");
        assert_eq!(back, e);
        let wire = StatusEvent::from_dvcqg_value(&e.to_dvcqg_json()).expect("its DVCQG form reads back");
        assert_eq!((wire.dossier, wire.status), (e.dossier, e.status));
    }
    if let Ok(list) = StatusEvent::list_from_dvcqg_json(data) {
        let _ = schemas::lifecycle::replay(&list);
        let due = schemas::VnDateTime::now();
        let _ = schemas::timeliness::schedule(&due, &list).classify(&due);
    }
});
