//! Signed dossiers over HTTP: XML signed by the gateway's signer and by the
//! independent `xmlsec1`, JSON with a detached JWS; signed receipts checked with
//! an independent JWS library (PyJWT) and with `lienthong verify`; and every
//! refusal with its own code, a metric, and nothing stored.
//!
//! This file holds what those tests share: the signing configuration, the
//! gateway's signer, and a JSON submission with a detached JWS.

use schemas::c14n::Algorithm;
use schemas::dsig::{sign_xml, ReferenceStyle, XmlSignOptions};
use schemas::pki::SigningIdentity;

use crate::dev_pki::{dev_pki, DevPki};
use crate::support::*;

mod accepted;
mod cli_sign_verify;
mod crl_refresh;
mod deliveries;
mod refusals;

/// Options binding portal-h29 to the portal-hanoi certificate (by subject) and
/// portal-h49 to portal-hcm (by key), with the gateway's own signing key.
pub(crate) fn signing_options(pki: &DevPki, portal_policy: &str) -> Options {
    let hanoi_subject = pki.entry("portal-hanoi")["subject"].as_str().expect("subject").to_owned();
    let hcm_spki = pki.entry("portal-hcm")["spki_sha256"].as_str().expect("spki").to_owned();
    let (gw_key, _, gw_chain) = pki.files("lienthong-gateway");
    Options {
        portal_extra: format!(
            "signature = \"{portal_policy}\"\n[[members.signers]]\nsubject = \"{hanoi_subject}\"\n"
        ),
        portal_b_extra: format!("[[members.signers]]\nspki_sha256 = \"{hcm_spki}\"\n"),
        extra: format!(
            "[signatures]\ntrust_anchors = [\"{}\"]\ncrls = [\"{}\"]\nrequired_for_procedures = [\"2.000488\"]\nkey = \"{}\"\ncertificate_chain = \"{}\"\n",
            pki.roots().display(),
            pki.crls().display(),
            gw_key.display(),
            gw_chain.display()
        ),
        ..Options::default()
    }
}

/// A gateway started with [`signing_options`], with what it needs kept alive
/// (fields drop in order: the gateway first, its directory last).
pub(crate) struct SignedGateway {
    pub(crate) gw: GatewayProcess,
    pub(crate) api: Api,
    pub(crate) sim: adapters::dvcqg::DvcqgSimulator,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) pki: DevPki,
}

/// Starts a gateway that verifies signatures, with portal-h29's `signature`
/// policy `portal_policy`.
pub(crate) async fn signed_gateway(portal_policy: &str) -> SignedGateway {
    let pki = dev_pki();
    let sim = simulator().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &signing_options(&pki, portal_policy))).await;
    let api = Api::new(&gw.url);
    SignedGateway { gw, api, sim, dir, pki }
}

pub(crate) fn identity(pki: &DevPki, name: &str) -> SigningIdentity {
    let (key, _, chain) = pki.files(name);
    SigningIdentity::load(&key, &chain).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub(crate) fn sign(pki: &DevPki, name: &str, xml: &str, reference: ReferenceStyle) -> String {
    let opts = XmlSignOptions { c14n: Algorithm::Exclusive { comments: false, inclusive_prefixes: vec![] }, reference };
    String::from_utf8(sign_xml(xml.as_bytes(), &identity(pki, name), &opts).expect("sign")).expect("utf-8")
}

pub(crate) async fn submit_jws(api: &Api, token: &str, body: &str, jws: &str) -> (u16, serde_json::Value) {
    let r = api
        .http
        .post(format!("{}/v1/dossiers", api.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("x-jws-signature", jws)
        .body(body.to_owned())
        .send()
        .await
        .expect("request sent");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}
