//! Shared helpers: simulator, adapter, fixtures, raw SOAP and golden-file comparison.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::common::{client, delivery, pretty};
use adapters::mpi::wire::{Operation, CONTENT_TYPE, PASSWORD_TEXT, SERVICE_PATH, SOAP_NS, WSA_NS, WSSE_NS, WSU_NS};
use adapters::mpi::{MpiAdapter, MpiConfig, MpiSimulator, SimCredentials, UsernameToken};
use chrono::{DateTime, Utc};
use schemas::{AgencyId, Dossier, MaHoSo};

pub const USER: &str = "lienthong";
pub const PASSWORD: &str = "sim-secret";

/// A simulator on an ephemeral loopback port.
pub async fn simulator() -> MpiSimulator {
    let creds = SimCredentials { username: USER.into(), password: PASSWORD.into() };
    MpiSimulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), creds).await.expect("simulator starts")
}

pub fn config(url: &str) -> MpiConfig {
    MpiConfig { url: url.into(), username: USER.into(), password: Some(PASSWORD.into()), password_env: None }
}

pub fn adapter_with(config: MpiConfig, timeout: Duration) -> MpiAdapter {
    MpiAdapter::new(AgencyId::parse("mpi").unwrap(), config, crate::common::agency_client(timeout))
}

pub fn adapter(url: &str) -> MpiAdapter {
    adapter_with(config(url), Duration::from_secs(5))
}

pub fn golden_dir() -> PathBuf {
    crate::common::golden_dir("mpi")
}

pub fn agency_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/agencies/mpi")
}

pub fn read(name: &str) -> Vec<u8> {
    let path = golden_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn read_example(name: &str) -> Vec<u8> {
    let path = agency_dir().join("examples").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A canonical dossier from its canonical JSON form under the golden directory.
pub fn dossier(name: &str) -> Dossier {
    serde_json::from_slice(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The minimal golden dossier under another code.
pub fn dossier_coded(code: &str) -> Dossier {
    let mut d = dossier("dossier-minimal.json");
    d.code = MaHoSo::parse(code).unwrap();
    d
}

/// The fixed token of the golden files.
pub fn golden_token() -> UsernameToken {
    let created: DateTime<Utc> = "2026-06-09T01:05:00Z".parse().unwrap();
    UsernameToken::new(USER, PASSWORD, *b"lienthong-nonce!", created)
}

/// A token the simulator accepts now.
pub fn fresh_token() -> UsernameToken {
    UsernameToken::fresh(USER, PASSWORD)
}

/// The payload element of a SOAP request or answer, cut out as its own document
/// (it declares its namespace itself).
pub fn body_payload(envelope: &[u8]) -> String {
    let text = std::str::from_utf8(envelope).unwrap();
    let start = text.find("<soap:Body>").expect("a soap:Body") + "<soap:Body>".len();
    let end = text.rfind("</soap:Body>").expect("a closing soap:Body");
    text[start..end].trim().to_owned()
}

/// A SOAP request written by hand around a payload document (the payload
/// element with its namespace), with a token the simulator accepts now.
pub fn soap(message_id: &str, payload: &str) -> Vec<u8> {
    soap_with(message_id, &fresh_token(), PASSWORD, payload)
}

/// [`soap`] with a given token (for its username, nonce and time) and password.
pub fn soap_with(message_id: &str, token: &UsernameToken, password: &str, payload: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:wsa="{WSA_NS}"><soap:Header>
<wsa:MessageID>{message_id}</wsa:MessageID>
<wsse:Security xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}"><wsse:UsernameToken>
<wsse:Username>{user}</wsse:Username><wsse:Password Type="{PASSWORD_TEXT}">{password}</wsse:Password>
<wsse:Nonce>{nonce}</wsse:Nonce><wsu:Created>{created}</wsu:Created>
</wsse:UsernameToken></wsse:Security></soap:Header>
<soap:Body>{payload}</soap:Body></soap:Envelope>"#,
        user = token.username,
        nonce = token.nonce_text(),
        created = token.created_text(),
    )
    .into_bytes()
}

/// Posts a raw SOAP body to the simulator; returns the status and body text.
pub async fn post_soap(
    http: &reqwest::Client,
    url: &str,
    op: Operation,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let mut req = http
        .post(format!("{url}{SERVICE_PATH}"))
        .header("content-type", CONTENT_TYPE)
        .header("SOAPAction", format!("\"{}\"", op.action()))
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// The MPI code of a fault answer, if it is one.
pub fn fault_code(body: &str) -> Option<String> {
    match adapters::mpi::decode::read_reply(body.as_bytes()) {
        Ok(adapters::mpi::decode::Reply::Fault(f)) => f.code,
        _ => None,
    }
}

/// Compares `actual` byte for byte with a committed golden file; with
/// `UPDATE_GOLDEN=1` rewrites the file instead.
pub fn check_golden(name: &str, actual: &[u8]) {
    crate::common::check_golden_in(&golden_dir(), name, actual)
}
