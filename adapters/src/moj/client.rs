//! The Justice adapter: token, transport, status polls and the [`Adapter`] trait.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use schemas::{AgencyId, Dossier, MaHoSo, PayloadKind, StatusEvent};
use tracing::Instrument;

use super::decode::{self, failure_reason, is_token_refused, parse_answer};
use super::encode::{
    encode_civil_status, encode_civil_status_poll, encode_judicial_record, encode_judicial_record_poll,
    judicial_record_request, service_of, Service,
};
use super::lookup;
use super::token::{endpoint, Tokens};
use super::transport::post;
use super::wire::{MAX_CODES_PER_POLL, STATUS_OK};
use super::{MojConfig, MojError};
use crate::AgencyClient;
use crate::{
    lookup_answer, Adapter, AgencyRequest, DecodeError, Delivery, EncodeError, LookupAnswer, LookupError,
    LookupRequest, LookupSpec, Outcome, PollError,
};

/// The payload kinds the ministry decides.
const PAYLOAD_KINDS: &[PayloadKind] = &[PayloadKind::CivilStatus, PayloadKind::JudicialRecord];

/// Speaks to the Ministry of Justice: asks for a token lazily, keeps it, pushes
/// civil-status and judicial-record dossiers, and polls their status.
pub struct MojAdapter {
    agency: AgencyId,
    config: MojConfig,
    http: AgencyClient,
    tokens: Tokens,
}

impl fmt::Debug for MojAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MojAdapter").field("agency", &self.agency).field("config", &self.config).finish()
    }
}

/// The name of the call at `path`, for errors and logs: the path without `/api/`.
fn call_name(path: &'static str) -> &'static str {
    path.strip_prefix("/api/").unwrap_or(path)
}

impl MojAdapter {
    /// An adapter for `agency`, sending through `client` (whose timeouts apply to
    /// every call). Nothing is sent until the first call.
    pub fn new(agency: AgencyId, config: MojConfig, client: AgencyClient) -> Self {
        Self { agency, config, http: client, tokens: Tokens::default() }
    }

    /// The configuration in use.
    pub fn config(&self) -> &MojConfig {
        &self.config
    }

    /// Posts `body` with the current bearer token; when the ministry refuses the
    /// token (HTTP 401, `AUTH-01` or `AUTH-02`), asks for a new one and repeats once.
    async fn call(
        &self,
        path: &'static str,
        headers: &[(&'static str, &str)],
        body: Vec<u8>,
    ) -> Result<(u16, Bytes), MojError> {
        let call = call_name(path);
        let url = endpoint(&self.config, path);
        let mut renewed = false;
        loop {
            let token = self.tokens.get(&self.http, &self.config).await?;
            let bearer = format!("Bearer {token}");
            let mut all = headers.to_vec();
            all.push(("Authorization", bearer.as_str()));
            let (status, answer) = post(&self.http, &url, call, &all, body.clone()).await?;
            if !renewed
                && (status == 401 || is_token_refused(&answer))
                && self.tokens.invalidate(&self.config, &token).await
            {
                tracing::info!(agency = %self.agency, call, "moj token refused; asking for a new one");
                renewed = true;
                continue;
            }
            return Ok((status, answer));
        }
    }

    fn own(&self, mut e: EncodeError) -> EncodeError {
        e.agency = self.agency.to_string();
        e
    }

    /// The push body exactly as sent, with the judicial-records key filled in.
    /// Encoding comes first, so a dossier the ministry cannot take fails permanently
    /// before any secret is read or any login is tried.
    fn push_body(&self, d: &Dossier, reference: &str) -> Result<(Service, Vec<u8>), MojError> {
        let service = service_of(d).map_err(|e| self.own(e))?;
        let body = match service {
            Service::CivilStatus => {
                encode_civil_status(d, &self.config.unit_code, reference).map_err(|e| self.own(e))?
            }
            Service::JudicialRecord => {
                let mut request =
                    judicial_record_request(d, &self.config.province_code, "").map_err(|e| self.own(e))?;
                request.auth_key = self.config.auth_key()?;
                serde_json::to_vec(&request)
                    .map_err(|e| self.own(EncodeError { agency: String::new(), reason: e.to_string() }))?
            }
        };
        Ok((service, body))
    }

    /// The status updates the ministry holds for `codes`, from both services, in
    /// the order given (civil status first). Codes it does not know add nothing.
    pub async fn poll_status(&self, codes: &[MaHoSo]) -> Result<Vec<StatusEvent>, MojError> {
        let mut events = Vec::new();
        for service in Service::ALL {
            events.extend(self.poll_service(service, codes, &uuid::Uuid::new_v4().to_string()).await?);
        }
        Ok(events)
    }

    /// The status updates one service holds for `codes`, asked in chunks of
    /// [`MAX_CODES_PER_POLL`].
    pub async fn poll_service(
        &self,
        service: Service,
        codes: &[MaHoSo],
        correlation_id: &str,
    ) -> Result<Vec<StatusEvent>, MojError> {
        let path = service.status_path();
        let call = call_name(path);
        let mut events = Vec::new();
        for chunk in codes.chunks(MAX_CODES_PER_POLL) {
            let body = match service {
                Service::CivilStatus => encode_civil_status_poll(chunk, &self.config.unit_code),
                Service::JudicialRecord => {
                    encode_judicial_record_poll(chunk, &self.config.province_code, &self.config.auth_key()?)
                }
            }
            .map_err(|e| self.own(e))?;
            let headers = [("X-Request-Id", correlation_id)];
            let (status, answer) = self.call(path, &headers, body).await?;
            if !(200..300).contains(&status) {
                return Err(MojError::Http { call, status });
            }
            let parsed = parse_answer(&answer).ok_or(MojError::UnexpectedAnswer { call })?;
            if parsed.status != STATUS_OK {
                return Err(MojError::Answer { call, reason: failure_reason(&parsed).1 });
            }
            events.extend(decode::decode_status(&answer)?);
        }
        Ok(events)
    }
}

#[async_trait]
impl Adapter for MojAdapter {
    fn agency(&self) -> &AgencyId {
        &self.agency
    }

    /// The push of the dossier's service: civil status with `maHoSoLT` set to the
    /// idempotency key; judicial records with `"authKey":""` (the key is added at send time).
    fn encode(&self, delivery: &Delivery<'_>) -> Result<AgencyRequest, EncodeError> {
        let d = delivery.dossier;
        let service = service_of(d).map_err(|e| self.own(e))?;
        let body = match service {
            Service::CivilStatus => encode_civil_status(d, &self.config.unit_code, delivery.idempotency_key),
            Service::JudicialRecord => encode_judicial_record(d, &self.config.province_code, ""),
        }
        .map_err(|e| self.own(e))?;
        Ok(AgencyRequest {
            path: service.push_path().to_owned(),
            content_type: "application/json",
            headers: vec![
                ("Idempotency-Key", delivery.idempotency_key.to_owned()),
                ("X-Request-Id", delivery.correlation_id.to_owned()),
            ],
            body,
        })
    }

    /// The service and the attachments, without encoding the body.
    fn check(&self, dossier: &Dossier) -> Result<(), EncodeError> {
        super::encode::check(dossier).map(drop).map_err(|e| self.own(e))
    }

    fn classify(&self, http_status: u16, body: &[u8]) -> Outcome {
        decode::classify(http_status, body)
    }

    fn decode_status(&self, body: &[u8]) -> Result<Vec<StatusEvent>, DecodeError> {
        decode::decode_status(body)
    }

    async fn deliver(&self, delivery: &Delivery<'_>) -> Outcome {
        let span = tracing::debug_span!(
            "moj_deliver",
            agency = %self.agency,
            correlation_id = delivery.correlation_id,
            dossier = %delivery.dossier.code,
        );
        async {
            let (service, body) = match self.push_body(delivery.dossier, delivery.idempotency_key) {
                Ok(b) => b,
                Err(e) => return e.outcome(),
            };
            let headers = [("Idempotency-Key", delivery.idempotency_key), ("X-Request-Id", delivery.correlation_id)];
            let outcome = match self.call(service.push_path(), &headers, body).await {
                Ok((status, answer)) => decode::classify(status, &answer),
                Err(e) => e.outcome(),
            };
            let service = service.label();
            match &outcome {
                Outcome::Delivered { .. } => tracing::debug!(service, "delivered to moj"),
                Outcome::Retryable { reason } => tracing::debug!(service, reason, "moj delivery to be retried"),
                Outcome::Permanent { reason } => tracing::warn!(service, reason, "moj refused the dossier"),
            }
            outcome
        }
        .instrument(span)
        .await
    }

    fn payload_kinds(&self) -> &'static [PayloadKind] {
        PAYLOAD_KINDS
    }

    fn polls_status(&self) -> bool {
        true
    }

    /// The civil-status and judicial-record polls by dossier code.
    async fn poll_changes(&self, codes: &[MaHoSo], correlation_id: &str) -> Result<Vec<StatusEvent>, PollError> {
        let mut events = Vec::new();
        for service in Service::ALL {
            let found =
                self.poll_service(service, codes, correlation_id).await.map_err(|e| PollError(e.to_string()))?;
            events.extend(found);
        }
        Ok(events)
    }

    fn lookups(&self) -> &'static [LookupSpec] {
        lookup::LOOKUPS
    }

    async fn lookup(&self, request: &LookupRequest<'_>) -> Result<LookupAnswer, LookupError> {
        lookup_answer(&lookup::answer(self, request).await?)
    }
}
