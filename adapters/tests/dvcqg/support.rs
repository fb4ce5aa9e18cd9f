//! Shared helpers: simulator, adapter, fixtures and golden-file comparison.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::common::{client, delivery, pretty, read_json};
use adapters::dvcqg::{DvcqgAdapter, DvcqgConfig, DvcqgSimulator, SimCredentials};
use schemas::{AgencyId, Dossier, MaHoSo};

pub const USER: &str = "lienthong";
pub const PASSWORD: &str = "sim-secret";
pub const UNIT: &str = "000.00.00.G22";

/// A simulator on an ephemeral loopback port.
pub async fn simulator() -> DvcqgSimulator {
    let creds = SimCredentials { username: USER.into(), password: PASSWORD.into() };
    DvcqgSimulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), creds).await.expect("simulator starts")
}

pub fn config(url: &str) -> DvcqgConfig {
    DvcqgConfig {
        url: url.into(),
        username: USER.into(),
        password: Some(PASSWORD.into()),
        password_env: None,
        unit_code: UNIT.into(),
    }
}

pub fn adapter_with(config: DvcqgConfig, timeout: Duration) -> DvcqgAdapter {
    DvcqgAdapter::new(AgencyId::parse("dvcqg").unwrap(), config, crate::common::agency_client(timeout))
}

pub fn adapter(url: &str) -> DvcqgAdapter {
    adapter_with(config(url), Duration::from_secs(5))
}

pub fn golden_dir() -> PathBuf {
    crate::common::golden_dir("dvcqg")
}

pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/agencies/dvcqg/examples")
}

pub fn read(name: &str) -> Vec<u8> {
    let path = golden_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A canonical dossier built from a JSON dossier under the golden directory.
pub fn dossier(name: &str) -> Dossier {
    schemas::dossier_from_json(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The minimal golden dossier under another code.
pub fn dossier_coded(code: &str) -> Dossier {
    let mut d = dossier("dossier-minimal.json");
    d.code = MaHoSo::parse(code).unwrap();
    d
}

/// Compares `actual` byte for byte with a committed golden file; with
/// `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn check_golden(name: &str, actual: &[u8]) {
    crate::common::check_golden_in(&golden_dir(), name, actual)
}

/// Logs in to the simulator directly and returns the session.
pub async fn login(http: &reqwest::Client, url: &str) -> String {
    let answer: serde_json::Value = http
        .post(format!("{url}/api/auth/login"))
        .json(&serde_json::json!({"username": USER, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["error_code"], "0", "{answer}");
    answer["session"].as_str().unwrap().to_owned()
}

/// Posts a raw body to a simulator path and returns the HTTP status and JSON answer.
pub async fn post_raw(
    http: &reqwest::Client,
    url: &str,
    path: &str,
    body: impl Into<reqwest::Body>,
    key: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut req = http.post(format!("{url}{path}")).header("content-type", "application/json").body(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}
