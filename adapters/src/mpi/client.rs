//! The MPI adapter: WS-Security, transport, look-ups and the [`Adapter`] trait.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use schemas::{AgencyId, MaHoSo, PayloadKind, StatusEvent};
use tracing::Instrument;

use super::decode::{self, expect_payload, DossierState};
use super::encode::{encode_lookup_dossier, encode_lookup_enterprise, encode_submit};
use super::security::UsernameToken;
use super::transport::post;
use super::wire::{code, Operation, TaxCode, CONTENT_TYPE, SERVICE_PATH};
use super::xml::Element;
use super::{MpiConfig, MpiError};
use crate::AgencyClient;
use crate::{
    Adapter, AgencyRequest, DecodeError, Delivery, EncodeError, LookupAnswer, LookupError, LookupRequest, LookupSpec,
    Outcome,
};

/// The look-ups MPI answers.
const LOOKUPS: &[LookupSpec] = &[
    LookupSpec {
        name: "enterprise",
        required: &["tax_code"],
        description: "an enterprise by its 10-digit tax code: name, status, registration date, head office",
    },
    LookupSpec {
        name: "dossier",
        required: &["code"],
        description: "a business-registration dossier at MPI by its code: status and processing history",
    },
];

/// Speaks to MPI's business-registration service: submits dossiers with
/// `NopHoSoDangKyDoanhNghiep` and answers look-ups, each request carrying a fresh
/// WS-Security `UsernameToken`.
pub struct MpiAdapter {
    agency: AgencyId,
    config: MpiConfig,
    http: AgencyClient,
}

impl fmt::Debug for MpiAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpiAdapter").field("agency", &self.agency).field("config", &self.config).finish()
    }
}

impl MpiAdapter {
    /// An adapter for `agency`, sending through `client` (whose timeouts apply to
    /// every call). Nothing is sent until the first call.
    pub fn new(agency: AgencyId, config: MpiConfig, client: AgencyClient) -> Self {
        Self { agency, config, http: client }
    }

    /// The configuration in use.
    pub fn config(&self) -> &MpiConfig {
        &self.config
    }

    fn own(&self, mut e: EncodeError) -> EncodeError {
        e.agency = self.agency.to_string();
        e
    }

    /// Builds the request around a fresh token and posts it.
    async fn send(
        &self,
        op: Operation,
        headers: &[(&'static str, &str)],
        build: impl FnOnce(&UsernameToken) -> Result<Vec<u8>, EncodeError>,
    ) -> Result<(u16, Bytes), MpiError> {
        let token = UsernameToken::fresh(&self.config.username, &self.config.password()?);
        let body = build(&token).map_err(|e| self.own(e))?;
        post(&self.http, &self.config.endpoint(), op, headers, body).await
    }

    /// Looks an enterprise up (`TraCuuDoanhNghiep`) and answers its normalised
    /// JSON; `None` when MPI knows no enterprise by that code.
    pub async fn lookup_enterprise(
        &self,
        tax_code: &TaxCode,
        correlation_id: &str,
    ) -> Result<Option<serde_json::Value>, MpiError> {
        let op = Operation::LookupEnterprise;
        let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let headers = [("X-Request-Id", correlation_id)];
        let (status, body) = self.send(op, &headers, |t| encode_lookup_enterprise(tax_code, &id, Some(t))).await?;
        match lookup_answer(op, status, &body)? {
            Some(p) => Ok(Some(decode::decode_enterprise(&p)?)),
            None => Ok(None),
        }
    }

    /// Looks a dossier up (`TraCuuHoSo`): its state and history; `None` when MPI
    /// does not have it.
    pub async fn lookup_dossier(&self, code: &MaHoSo, correlation_id: &str) -> Result<Option<DossierState>, MpiError> {
        let op = Operation::LookupDossier;
        let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let headers = [("X-Request-Id", correlation_id)];
        let (status, body) = self.send(op, &headers, |t| encode_lookup_dossier(code, &id, Some(t))).await?;
        match lookup_answer(op, status, &body)? {
            Some(_) => Ok(Some(decode::decode_dossier(&body)?)),
            None => Ok(None),
        }
    }
}

/// The payload of a look-up answer; `None` for MPI's "not found" fault.
fn lookup_answer(op: Operation, status: u16, body: &[u8]) -> Result<Option<Element>, MpiError> {
    let call = op.element();
    match expect_payload(body, op) {
        Ok(Err(f)) if f.code.as_deref() == Some(code::NOT_FOUND) => Ok(None),
        Ok(Err(fault)) => Err(MpiError::Fault { call, fault }),
        _ if !(200..300).contains(&status) => Err(MpiError::Http { call, status }),
        Ok(Ok(p)) => Ok(Some(p)),
        Err(e) => Err(MpiError::UnexpectedAnswer { call, reason: e.0 }),
    }
}

fn param<'a>(request: &'a LookupRequest<'_>, name: &str) -> Option<&'a str> {
    request.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[async_trait]
impl Adapter for MpiAdapter {
    fn agency(&self) -> &AgencyId {
        &self.agency
    }

    /// The `NopHoSoDangKyDoanhNghiep` request without its `wsse:Security` header,
    /// which is added, fresh, at send time.
    fn encode(&self, delivery: &Delivery<'_>) -> Result<AgencyRequest, EncodeError> {
        Ok(AgencyRequest {
            path: SERVICE_PATH.to_owned(),
            content_type: CONTENT_TYPE,
            headers: vec![
                ("SOAPAction", format!("\"{}\"", Operation::Submit.action())),
                ("Idempotency-Key", delivery.idempotency_key.to_owned()),
                ("X-Request-Id", delivery.correlation_id.to_owned()),
            ],
            body: encode_submit(delivery.dossier, delivery.idempotency_key, None).map_err(|e| self.own(e))?,
        })
    }

    fn classify(&self, http_status: u16, body: &[u8]) -> Outcome {
        decode::classify(http_status, body)
    }

    fn decode_status(&self, body: &[u8]) -> Result<Vec<StatusEvent>, DecodeError> {
        decode::decode_status(body)
    }

    async fn deliver(&self, delivery: &Delivery<'_>) -> Outcome {
        let span = tracing::debug_span!(
            "mpi_deliver",
            agency = %self.agency,
            correlation_id = delivery.correlation_id,
            dossier = %delivery.dossier.code,
        );
        async {
            // Encode once up front so that a dossier MPI cannot express fails
            // permanently before any credentials are looked for.
            if let Err(e) = self.encode(delivery) {
                return Outcome::Permanent { reason: e.to_string() };
            }
            let headers = [("Idempotency-Key", delivery.idempotency_key), ("X-Request-Id", delivery.correlation_id)];
            let key = delivery.idempotency_key;
            let outcome =
                match self.send(Operation::Submit, &headers, |t| encode_submit(delivery.dossier, key, Some(t))).await {
                    Ok((status, body)) => decode::classify(status, &body),
                    Err(e) => e.outcome(),
                };
            match &outcome {
                Outcome::Delivered { .. } => tracing::debug!("delivered to mpi"),
                Outcome::Retryable { reason } if reason.starts_with("login refused") => {
                    tracing::error!(reason, "mpi refused the credentials; check the configuration")
                }
                Outcome::Retryable { reason } => tracing::debug!(reason, "mpi delivery to be retried"),
                Outcome::Permanent { reason } => tracing::warn!(reason, "mpi refused the dossier"),
            }
            outcome
        }
        .instrument(span)
        .await
    }

    fn payload_kinds(&self) -> &'static [PayloadKind] {
        &[PayloadKind::BusinessRegistration]
    }

    fn lookups(&self) -> &'static [LookupSpec] {
        LOOKUPS
    }

    async fn lookup(&self, request: &LookupRequest<'_>) -> Result<LookupAnswer, LookupError> {
        let cid = request.correlation_id;
        match request.name {
            "enterprise" => {
                let tax = param(request, "tax_code")
                    .and_then(TaxCode::parse)
                    .ok_or_else(|| LookupError::BadRequest("tax_code".into()))?;
                let found = self.lookup_enterprise(&tax, cid).await.map_err(|e| e.lookup_error())?;
                crate::lookup_answer(&found.ok_or(LookupError::NotFound)?)
            }
            "dossier" => {
                let code = param(request, "code")
                    .and_then(|c| MaHoSo::parse(c).ok())
                    .ok_or_else(|| LookupError::BadRequest("code".into()))?;
                let state = self.lookup_dossier(&code, cid).await.map_err(|e| e.lookup_error())?;
                crate::lookup_answer(&state.ok_or(LookupError::NotFound)?.to_json())
            }
            _ => Err(LookupError::UnknownLookup),
        }
    }
}
