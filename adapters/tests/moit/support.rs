//! Shared helpers: simulator, adapter, fixtures, raw HTTP and golden-file comparison.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::common::{client, delivery, read_json};
use adapters::moit::{MoitAdapter, MoitConfig, MoitSimulator, SimClient};
use schemas::{AgencyId, Dossier, MaHoSo};
use serde_json::{Map, Value};

pub const CLIENT_ID: &str = "lienthong-gateway";
pub const SECRET: &str = "sim-secret-moit";
pub const SCOPE: &str = "hoso.submit hoso.read giayphep.read";
pub const HO_SO: &str = "/api/v1/ho-so";

/// A simulator on an ephemeral loopback port.
pub async fn simulator() -> MoitSimulator {
    let client = SimClient { client_id: CLIENT_ID.into(), client_secret: SECRET.into() };
    MoitSimulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), client).await.expect("simulator starts")
}

pub fn config(url: &str) -> MoitConfig {
    MoitConfig {
        url: url.into(),
        token_url: None,
        client_id: CLIENT_ID.into(),
        client_secret: Some(SECRET.into()),
        client_secret_env: None,
        scope: SCOPE.into(),
        sign_requests: false,
    }
}

pub fn adapter_with(config: MoitConfig, timeout: Duration) -> MoitAdapter {
    MoitAdapter::new(AgencyId::parse("moit").unwrap(), config, crate::common::agency_client(timeout))
}

pub fn adapter(url: &str) -> MoitAdapter {
    adapter_with(config(url), Duration::from_secs(5))
}

pub fn golden_dir() -> PathBuf {
    crate::common::golden_dir("moit")
}

pub fn agency_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/agencies/moit")
}

pub fn read(name: &str) -> Vec<u8> {
    let path = golden_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn example(name: &str) -> Vec<u8> {
    let path = agency_dir().join("examples").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A canonical dossier: a golden JSON file deserialised into `schemas::Dossier`.
pub fn dossier(name: &str) -> Dossier {
    serde_json::from_slice(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The golden alcohol-retail dossier under another code.
pub fn dossier_coded(code: &str) -> Dossier {
    let mut d = dossier("dossier-alcohol.json");
    d.code = MaHoSo::parse(code).unwrap();
    d
}

/// Compares `actual` byte for byte with a committed golden file; with
/// `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn check_golden(name: &str, actual: &[u8]) {
    crate::common::check_golden_in(&golden_dir(), name, actual)
}

/// The same value with every object's keys sorted, so that a golden file's order
/// never depends on serde_json features.
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&o[k]))).collect::<Map<_, _>>())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Pretty JSON with sorted keys and a final newline, for golden files people read.
pub fn pretty(v: &impl serde::Serialize) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(&sorted(&serde_json::to_value(v).unwrap())).unwrap();
    out.push(b'\n');
    out
}

/// Fetches a token from the simulator directly.
pub async fn token(http: &reqwest::Client, url: &str, scope: &str) -> String {
    let answer: Value = http
        .post(format!("{url}/oauth2/token"))
        .basic_auth(CLIENT_ID, Some(SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type=client_credentials&scope={}", scope.replace(' ', "+")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap_or_else(|| panic!("no token: {answer}")).to_owned()
}

/// What a raw exchange gave: status, headers and JSON body (`Null` if not JSON).
pub struct Raw {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn raw(request: reqwest::RequestBuilder) -> Raw {
    let resp = request.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Raw { status, headers, body }
}

/// Posts a JSON body to `POST /api/v1/ho-so` with a token and an optional key.
pub async fn submit(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: impl Into<reqwest::Body>,
    key: Option<&str>,
) -> Raw {
    let mut req = http.post(format!("{url}{HO_SO}")).bearer_auth(token).header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    raw(req.body(body)).await
}

/// The golden alcohol-retail body under another dossier code.
pub fn body_coded(code: &str) -> Value {
    let mut b: Value = serde_json::from_slice(&read("dossier-alcohol.expected.json")).unwrap();
    b["maHoSo"] = Value::String(code.to_owned());
    b
}
