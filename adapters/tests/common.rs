//! Harness pieces every adapter's tests share: the HTTP client, delivery values,
//! fixture reading and golden-file comparison. Each agency's `support.rs` adds
//! what is specific to it (simulator, configuration, raw wire helpers).

use std::path::{Path, PathBuf};
use std::time::Duration;

use adapters::Delivery;
use schemas::Dossier;

/// A raw HTTP client for calling a simulator directly, with a request time limit.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).connect_timeout(Duration::from_secs(2)).build().expect("client builds")
}

/// The adapters' HTTP client with a request time limit, as the gateway builds one.
pub fn agency_client(timeout: Duration) -> adapters::AgencyClient {
    let settings = adapters::ClientSettings {
        timeout,
        connect_timeout: Duration::from_secs(2),
        ..adapters::ClientSettings::default()
    };
    adapters::AgencyClient::new(settings).expect("client builds")
}

/// A delivery of `d` under the given idempotency key and correlation id.
pub fn delivery<'a>(d: &'a Dossier, key: &'a str, correlation_id: &'a str) -> Delivery<'a> {
    Delivery { dossier: d, idempotency_key: key, correlation_id, signer: None }
}

/// The golden-file folder of an agency.
pub fn golden_dir(agency: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(agency)
}

/// A file's bytes, or a panic naming it.
pub fn read_file(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A JSON file, or a panic naming it.
pub fn read_json(path: PathBuf) -> serde_json::Value {
    let bytes = read_file(&path);
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Compares `actual` byte for byte with the golden file `dir/name`; with
/// `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn check_golden_in(dir: &Path, name: &str, actual: &[u8]) {
    let path = dir.join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display()));
    if expected != actual {
        panic!(
            "{name} differs from the golden file (review, then run with UPDATE_GOLDEN=1 to accept)\n--- expected\n{}\n--- actual\n{}",
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual)
        );
    }
}

/// Pretty JSON with a final newline, for golden files people read.
pub fn pretty(v: &impl serde::Serialize) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap();
    out.push(b'\n');
    out
}
