//! The DVCQG adapter: session, transport, and the [`Adapter`] trait.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use schemas::{AgencyId, MaHoSo, StatusEvent};
use tracing::Instrument;

use super::decode::{self, is_session_invalid, parse_answer, quote};
use super::encode::{encode_lookup, encode_progress, encode_sync};
use super::session::{endpoint, Sessions};
use super::transport::post;
use super::wire::{code, LOOKUP_PATH, PROGRESS_PATH, SYNC_PATH};
use super::{DvcqgConfig, DvcqgError};
use crate::AgencyClient;
use crate::{
    lookup_answer, Adapter, AgencyRequest, DecodeError, Delivery, EncodeError, LookupAnswer, LookupError,
    LookupRequest, LookupSpec, Outcome, PollError,
};

/// Speaks to DVCQG: logs in lazily, keeps the session, and synchronises dossiers
/// with `DongBoHoSoMC`.
pub struct DvcqgAdapter {
    agency: AgencyId,
    config: DvcqgConfig,
    http: AgencyClient,
    sessions: Sessions,
}

impl fmt::Debug for DvcqgAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DvcqgAdapter").field("agency", &self.agency).field("config", &self.config).finish()
    }
}

impl DvcqgAdapter {
    /// An adapter for `agency`, sending through `client` (whose timeouts apply to
    /// every call). Nothing is sent until the first call.
    pub fn new(agency: AgencyId, config: DvcqgConfig, client: AgencyClient) -> Self {
        Self { agency, config, http: client, sessions: Sessions::default() }
    }

    /// The configuration in use.
    pub fn config(&self) -> &DvcqgConfig {
        &self.config
    }

    /// Posts a body built around the current session; when DVCQG says the session
    /// is invalid (`error_code` "-1" or HTTP 401), logs in again and retries once.
    async fn call(
        &self,
        call: &'static str,
        path: &str,
        headers: &[(&'static str, &str)],
        build: impl Fn(&str) -> Result<Vec<u8>, EncodeError>,
    ) -> Result<(u16, Bytes), DvcqgError> {
        let url = endpoint(&self.config, path);
        let mut renewed = false;
        loop {
            let session = self.sessions.get(&self.http, &self.config).await?;
            let body = build(&session).map_err(|e| self.own(e))?;
            let (status, answer) = post(&self.http, &url, call, headers, body).await?;
            if !renewed && (status == 401 || is_session_invalid(&answer)) {
                tracing::info!(agency = %self.agency, call, "dvcqg session expired; logging in again");
                self.sessions.invalidate(&session).await;
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

    /// Looks a dossier up (`TraCuuHoSo`): the dossier object as DVCQG holds it
    /// (without its history) and its history as events; `None` when DVCQG does
    /// not know the dossier.
    pub async fn lookup_dossier(
        &self,
        code: &MaHoSo,
    ) -> Result<Option<(serde_json::Value, Vec<StatusEvent>)>, DvcqgError> {
        const CALL: &str = "TraCuuHoSo";
        let request_id = uuid::Uuid::new_v4().to_string();
        let headers = [("X-Request-Id", request_id.as_str())];
        let unit = &self.config.unit_code;
        let (status, body) = self.call(CALL, LOOKUP_PATH, &headers, |s| encode_lookup(code, unit, s)).await?;
        if !(200..300).contains(&status) {
            return Err(DvcqgError::Http { call: CALL, status });
        }
        let answer = parse_answer(&body).ok_or(DvcqgError::UnexpectedAnswer { call: CALL })?;
        match answer.error_code.as_str() {
            code::OK => Ok(Some(decode::decode_lookup(&body)?)),
            code::NOT_FOUND => Ok(None),
            _ => Err(DvcqgError::Answer { call: CALL, code: answer.error_code, message: quote(&answer.message) }),
        }
    }

    /// Sends processing-history items (`CapNhatTienDoHoSoMC`). Nothing to send is
    /// delivered at once; DVCQG not knowing a dossier yet ("5") is retryable.
    pub async fn push_progress(&self, events: &[StatusEvent]) -> Outcome {
        if events.is_empty() {
            return Outcome::Delivered { agency_ref: None };
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        let headers = [("X-Request-Id", request_id.as_str())];
        let unit = &self.config.unit_code;
        let span = tracing::debug_span!("dvcqg_progress", agency = %self.agency, request_id, items = events.len());
        async {
            match self.call("CapNhatTienDoHoSoMC", PROGRESS_PATH, &headers, |s| encode_progress(events, unit, s)).await
            {
                Ok((status, body)) => decode::classify(status, &body),
                Err(e) => e.outcome(),
            }
        }
        .instrument(span)
        .await
    }
}

#[async_trait]
impl Adapter for DvcqgAdapter {
    fn agency(&self) -> &AgencyId {
        &self.agency
    }

    /// The `DongBoHoSoMC` request, with `"session":""`: the session is added at
    /// send time.
    fn encode(&self, delivery: &Delivery<'_>) -> Result<AgencyRequest, EncodeError> {
        Ok(AgencyRequest {
            path: SYNC_PATH.to_owned(),
            content_type: "application/json",
            headers: vec![
                ("Idempotency-Key", delivery.idempotency_key.to_owned()),
                ("X-Request-Id", delivery.correlation_id.to_owned()),
            ],
            body: encode_sync(delivery.dossier, &self.config.unit_code, "").map_err(|e| self.own(e))?,
        })
    }

    fn classify(&self, http_status: u16, body: &[u8]) -> Outcome {
        decode::classify(http_status, body)
    }

    fn decode_status(&self, body: &[u8]) -> Result<Vec<StatusEvent>, DecodeError> {
        decode::decode_status(body)
    }

    fn lookups(&self) -> &'static [LookupSpec] {
        &[LookupSpec {
            name: "dossier",
            required: &["code"],
            description: "the dossier as DVCQG holds it (TraCuuHoSo), with its processing history",
        }]
    }

    async fn lookup(&self, request: &LookupRequest<'_>) -> Result<LookupAnswer, LookupError> {
        if request.name != "dossier" {
            return Err(LookupError::UnknownLookup);
        }
        let code = request
            .params
            .iter()
            .find(|(k, _)| k == "code")
            .and_then(|(_, v)| MaHoSo::parse(v).ok())
            .ok_or_else(|| LookupError::BadRequest("code".into()))?;
        match self.lookup_dossier(&code).await {
            Ok(Some((dossier, history))) => {
                lookup_answer(&serde_json::json!({"code": code, "dossier": dossier, "history": history}))
            }
            Ok(None) => Err(LookupError::NotFound),
            Err(DvcqgError::Transport { kind: "timeout", .. }) => Err(LookupError::Timeout),
            Err(e) => Err(LookupError::Upstream(e.to_string())),
        }
    }

    fn polls_status(&self) -> bool {
        true
    }

    /// `TraCuuHoSo` for each code: the processing history DVCQG holds.
    async fn poll_changes(&self, codes: &[MaHoSo], correlation_id: &str) -> Result<Vec<StatusEvent>, PollError> {
        let mut events = Vec::new();
        for code in codes {
            match self.lookup_dossier(code).await {
                Ok(Some((_, history))) => events.extend(history),
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(agency = %self.agency, correlation_id, error = %e, "dvcqg status poll failed");
                    return Err(PollError(e.to_string()));
                }
            }
        }
        Ok(events)
    }

    async fn push_status(&self, events: &[StatusEvent], correlation_id: &str) -> Outcome {
        let span = tracing::debug_span!("dvcqg_push_status", agency = %self.agency, correlation_id);
        self.push_progress(events).instrument(span).await
    }

    async fn deliver(&self, delivery: &Delivery<'_>) -> Outcome {
        let span = tracing::debug_span!(
            "dvcqg_deliver",
            agency = %self.agency,
            correlation_id = delivery.correlation_id,
            dossier = %delivery.dossier.code,
        );
        async {
            // Encode once up front so that a dossier DVCQG cannot express fails
            // permanently before any login.
            if let Err(e) = self.encode(delivery) {
                return Outcome::Permanent { reason: e.to_string() };
            }
            let headers = [("Idempotency-Key", delivery.idempotency_key), ("X-Request-Id", delivery.correlation_id)];
            let unit = &self.config.unit_code;
            let outcome = match self
                .call("DongBoHoSoMC", SYNC_PATH, &headers, |s| encode_sync(delivery.dossier, unit, s))
                .await
            {
                Ok((status, body)) => decode::classify(status, &body),
                Err(e) => e.outcome(),
            };
            match &outcome {
                Outcome::Delivered { .. } => tracing::debug!("delivered to dvcqg"),
                Outcome::Retryable { reason } => tracing::debug!(reason, "dvcqg delivery to be retried"),
                Outcome::Permanent { reason } => tracing::warn!(reason, "dvcqg refused the dossier"),
            }
            outcome
        }
        .instrument(span)
        .await
    }
}
