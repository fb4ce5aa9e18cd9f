//! Shared helpers: simulator, adapter, fixtures and golden-file comparison.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::common::{client, delivery, pretty, read_json};
use adapters::moj::{MojAdapter, MojConfig, MojSimulator, SimCredentials};
use adapters::Outcome;
use schemas::{AgencyId, Dossier, MaHoSo};
use serde_json::Value;

pub const USER: &str = "lienthong";
pub const PASSWORD: &str = "sim-secret";
pub const UNIT: &str = "000.00.31.H29";
pub const PROVINCE: &str = "79";
pub const AUTH_KEY: &str = "lltp-key-79";
pub const STATIC_TOKEN: &str = "static-token-for-tests";

pub const HOTICH_PUSH: &str = "/api/hotich/tiepnhan";
pub const HOTICH_STATUS: &str = "/api/hotich/trangthai";
pub const LLTP_PUSH: &str = "/api/lltp/tiepnhan";
pub const LLTP_STATUS: &str = "/api/lltp/trangthai";

/// The golden dossiers of each service.
pub const BIRTH: &str = "khai-sinh.json";
pub const BIRTH_MINIMAL: &str = "khai-sinh-toi-thieu.json";
pub const DEATH: &str = "khai-tu.json";
pub const JUDICIAL: &str = "ly-lich-tu-phap.json";

pub fn credentials() -> SimCredentials {
    SimCredentials {
        username: USER.into(),
        password: PASSWORD.into(),
        static_token: Some(STATIC_TOKEN.into()),
        auth_key: AUTH_KEY.into(),
        province_code: PROVINCE.into(),
    }
}

/// A simulator on an ephemeral loopback port.
pub async fn simulator() -> MojSimulator {
    MojSimulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), credentials()).await.expect("simulator starts")
}

pub fn config(url: &str) -> MojConfig {
    MojConfig {
        url: url.into(),
        username: Some(USER.into()),
        password: Some(PASSWORD.into()),
        password_env: None,
        token: None,
        token_env: None,
        unit_code: UNIT.into(),
        province_code: PROVINCE.into(),
        auth_key: Some(AUTH_KEY.into()),
        auth_key_env: None,
    }
}

pub fn adapter_with(config: MojConfig, timeout: Duration) -> MojAdapter {
    assert_eq!(config.validate(), vec![], "test configs are valid");
    MojAdapter::new(AgencyId::parse("moj").unwrap(), config, crate::common::agency_client(timeout))
}

pub fn adapter(url: &str) -> MojAdapter {
    adapter_with(config(url), Duration::from_secs(5))
}

pub fn golden_dir() -> PathBuf {
    crate::common::golden_dir("moj")
}

pub fn agency_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/agencies/moj")
}

pub fn read(name: &str) -> Vec<u8> {
    let path = golden_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A canonical dossier: a golden file in the canonical JSON form, read with serde.
pub fn dossier(name: &str) -> Dossier {
    serde_json::from_slice(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A golden dossier under another code.
pub fn dossier_coded(name: &str, code: &str) -> Dossier {
    let mut d = dossier(name);
    d.code = MaHoSo::parse(code).unwrap();
    d
}

/// A golden request body as JSON (`data` left as the string it is on the wire).
pub fn golden_body(name: &str) -> Value {
    serde_json::from_slice(&read(name)).unwrap()
}

/// Compares `actual` byte for byte with a committed golden file; with
/// `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn check_golden(name: &str, actual: &[u8]) {
    crate::common::check_golden_in(&golden_dir(), name, actual)
}

pub fn delivered(o: &Outcome) -> String {
    match o {
        Outcome::Delivered { agency_ref: Some(id) } => id.clone(),
        other => panic!("expected delivered with a reference, got {other:?}"),
    }
}

pub fn retryable(o: &Outcome) -> &str {
    match o {
        Outcome::Retryable { reason } => reason,
        other => panic!("expected retryable, got {other:?}"),
    }
}

pub fn permanent(o: &Outcome) -> &str {
    match o {
        Outcome::Permanent { reason } => reason,
        other => panic!("expected permanent, got {other:?}"),
    }
}

/// Asks the simulator for a token directly.
pub async fn token(http: &reqwest::Client, url: &str) -> String {
    let answer: Value = http
        .post(format!("{url}/api/auth/token"))
        .json(&serde_json::json!({"username": USER, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["status"], 1, "{answer}");
    answer["value"]["token"].as_str().unwrap().to_owned()
}

/// Posts a raw body to a simulator path with an optional bearer token and
/// idempotency key; returns the HTTP status and the JSON answer.
pub async fn post_raw(
    http: &reqwest::Client,
    url: &str,
    path: &str,
    body: impl Into<reqwest::Body>,
    token: Option<&str>,
    key: Option<&str>,
) -> (u16, Value) {
    let mut req = http.post(format!("{url}{path}")).header("content-type", "application/json").body(body);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}
