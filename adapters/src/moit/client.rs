//! The MOIT adapter: token, transport, look-ups and the [`Adapter`] trait.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use schemas::{AgencyId, MaHoSo, PayloadKind, StatusEvent};
use tracing::Instrument;

use super::decode::{self, parse_problem, DossierView, LicenceView};
use super::encode::{encode_ho_so, path_segment};
use super::token::Tokens;
use super::transport::send;
use super::wire::{code, GIAY_PHEP_PREFIX, HO_SO_PATH, HO_SO_PREFIX};
use super::{MoitConfig, MoitError};
use crate::http::Call;
use crate::AgencyClient;
use crate::{
    lookup_answer, Adapter, AgencyRequest, DecodeError, Delivery, EncodeError, LookupAnswer, LookupError,
    LookupRequest, LookupSpec, Outcome,
};

/// What the API answers to, for `Accept`.
const ACCEPT_JSON: &str = "application/json, application/problem+json";

/// The look-ups MOIT answers.
const LOOKUPS: &[LookupSpec] = &[
    LookupSpec {
        name: "licence",
        required: &["number"],
        description: "a licence's validity by its number (soGiayPhep), such as 15/2025/GPBLR-SCT",
    },
    LookupSpec {
        name: "dossier",
        required: &["code"],
        description: "a dossier's state at MOIT and its processing history, by dossier code (MaHoSo)",
    },
];

/// The longest licence number asked for.
const MAX_LICENCE_NUMBER: usize = 64;

/// Speaks to the Industry & Trade licensing system: fetches an OAuth2 token
/// lazily, keeps it, and submits licence applications.
pub struct MoitAdapter {
    agency: AgencyId,
    config: MoitConfig,
    http: AgencyClient,
    tokens: Tokens,
}

impl fmt::Debug for MoitAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MoitAdapter").field("agency", &self.agency).field("config", &self.config).finish()
    }
}

impl MoitAdapter {
    /// An adapter for `agency`, sending through `client` (whose timeouts apply to
    /// every call). Nothing is sent until the first call.
    pub fn new(agency: AgencyId, config: MoitConfig, client: AgencyClient) -> Self {
        Self { agency, config, http: client, tokens: Tokens::default() }
    }

    /// The configuration in use.
    pub fn config(&self) -> &MoitConfig {
        &self.config
    }

    /// Sends a request built around the current token; on HTTP 401 drops the
    /// token, fetches a new one and repeats the request once.
    async fn call<'a>(
        &'a self,
        call: &'static str,
        build: impl for<'t> Fn(&'t str) -> Call<'a>,
    ) -> Result<(u16, Bytes), MoitError> {
        let mut renewed = false;
        loop {
            let token = self.tokens.get(&self.http, &self.config).await?;
            let (status, body) = send(build(&token).header(ACCEPT, ACCEPT_JSON), call).await?;
            if status == 401 && !renewed {
                tracing::info!(agency = %self.agency, call, "moit refused the access token; fetching a new one");
                self.tokens.invalidate(&token).await;
                renewed = true;
                continue;
            }
            return Ok((status, body));
        }
    }

    /// A `GET` of a resource: its body, `None` when MOIT says it has no such thing.
    async fn get(&self, call: &'static str, path: String) -> Result<Option<Bytes>, MoitError> {
        let url = self.config.endpoint(&path);
        let request_id = uuid::Uuid::new_v4().to_string();
        let (status, body) =
            self.call(call, |t| self.http.get(&url).bearer_auth(t).header("X-Request-Id", &request_id)).await?;
        if (200..300).contains(&status) {
            return Ok(Some(body));
        }
        let problem = parse_problem(&body);
        if status == 404 && problem.as_ref().is_some_and(|p| p.code.starts_with(code::NOT_FOUND_PREFIX)) {
            return Ok(None);
        }
        Err(MoitError::Http { call, status, code: problem.map(|p| p.code) })
    }

    /// A dossier's state and processing history at MOIT; `None` when MOIT does not
    /// have it.
    pub async fn dossier(&self, code: &MaHoSo) -> Result<Option<DossierView>, MoitError> {
        let path = format!("{HO_SO_PREFIX}{}", path_segment(code.as_str()));
        match self.get("dossier", path).await? {
            Some(body) => Ok(Some(decode::decode_dossier(&body)?)),
            None => Ok(None),
        }
    }

    /// A licence's validity; `None` when MOIT knows no such licence.
    pub async fn licence(&self, number: &str) -> Result<Option<LicenceView>, MoitError> {
        let path = format!("{GIAY_PHEP_PREFIX}{}", path_segment(number));
        match self.get("licence", path).await? {
            Some(body) => Ok(Some(decode::decode_licence(&body)?)),
            None => Ok(None),
        }
    }

    fn own(&self, mut e: EncodeError) -> EncodeError {
        e.agency = self.agency.to_string();
        e
    }
}

/// The one value of a required parameter; a missing, blank or repeated one is a
/// bad request naming the parameter.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, LookupError> {
    let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim());
    match (values.next(), values.next()) {
        (Some(v), None) if !v.is_empty() => Ok(v),
        _ => Err(LookupError::BadRequest(name.to_owned())),
    }
}

/// A licence number as MOIT writes them: letters, digits and `/-._`, at most 64.
fn licence_number(v: &str) -> Result<&str, LookupError> {
    let ok = v.len() <= MAX_LICENCE_NUMBER
        && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.' | '_'));
    if ok {
        Ok(v)
    } else {
        Err(LookupError::BadRequest("number".into()))
    }
}

#[async_trait]
impl Adapter for MoitAdapter {
    fn agency(&self) -> &AgencyId {
        &self.agency
    }

    /// The `POST /api/v1/ho-so` request; the bearer token is added at send time.
    fn encode(&self, delivery: &Delivery<'_>) -> Result<AgencyRequest, EncodeError> {
        Ok(AgencyRequest {
            path: HO_SO_PATH.to_owned(),
            content_type: "application/json",
            headers: vec![
                ("Idempotency-Key", delivery.idempotency_key.to_owned()),
                ("X-Request-Id", delivery.correlation_id.to_owned()),
            ],
            body: encode_ho_so(delivery.dossier).map_err(|e| self.own(e))?,
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
            "moit_deliver",
            agency = %self.agency,
            correlation_id = delivery.correlation_id,
            dossier = %delivery.dossier.code,
        );
        async {
            // Encode before any token request, so that a dossier MOIT cannot take
            // fails permanently without a round-trip.
            let request = match self.encode(delivery) {
                Ok(r) => r,
                Err(e) => return Outcome::Permanent { reason: e.to_string() },
            };
            let signature = if self.config.sign_requests {
                match delivery.signer.and_then(|s| s.sign_body(&request.body)) {
                    Some(jws) => Some(jws),
                    None => return Outcome::Retryable { reason: "the gateway could not sign the request".into() },
                }
            } else {
                None
            };
            let url = self.config.endpoint(&request.path);
            let build = |token: &str| {
                let mut r = self.http.post(&url).bearer_auth(token).header(CONTENT_TYPE, request.content_type);
                for (name, value) in &request.headers {
                    r = r.header(*name, value);
                }
                if let Some(jws) = &signature {
                    r = r.header("x-jws-signature", jws);
                }
                r.body(Bytes::from(request.body.clone()))
            };
            let outcome = match self.call("submit", build).await {
                Ok((status, body)) => decode::classify(status, &body),
                Err(e) => e.outcome(),
            };
            match &outcome {
                Outcome::Delivered { .. } => tracing::debug!("delivered to moit"),
                Outcome::Retryable { reason } => tracing::debug!(reason, "moit delivery to be retried"),
                Outcome::Permanent { reason } => tracing::warn!(reason, "moit refused the dossier"),
            }
            outcome
        }
        .instrument(span)
        .await
    }

    fn payload_kinds(&self) -> &'static [PayloadKind] {
        &[PayloadKind::TradeLicence]
    }

    fn lookups(&self) -> &'static [LookupSpec] {
        LOOKUPS
    }

    async fn lookup(&self, request: &LookupRequest<'_>) -> Result<LookupAnswer, LookupError> {
        let span = tracing::debug_span!(
            "moit_lookup",
            agency = %self.agency,
            lookup = request.name,
            correlation_id = request.correlation_id,
        );
        async {
            match request.name {
                "licence" => {
                    let number = licence_number(param(request.params, "number")?)?;
                    match self.licence(number).await.map_err(|e| e.lookup_error())? {
                        Some(view) => lookup_answer(&view),
                        None => Err(LookupError::NotFound),
                    }
                }
                "dossier" => {
                    let code = MaHoSo::parse(param(request.params, "code")?)
                        .map_err(|_| LookupError::BadRequest("code".into()))?;
                    match self.dossier(&code).await.map_err(|e| e.lookup_error())? {
                        Some(view) => lookup_answer(&view),
                        None => Err(LookupError::NotFound),
                    }
                }
                _ => Err(LookupError::UnknownLookup),
            }
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn parameters_are_required_once_and_named_when_bad() {
        let p = params(&[("number", " 15/2025/GPBLR-SCT "), ("x", "y")]);
        assert_eq!(param(&p, "number"), Ok("15/2025/GPBLR-SCT"));
        assert_eq!(param(&p, "code"), Err(LookupError::BadRequest("code".into())));
        let twice = params(&[("code", "a"), ("code", "b")]);
        assert_eq!(param(&twice, "code"), Err(LookupError::BadRequest("code".into())));
        assert_eq!(param(&params(&[("code", " ")]), "code"), Err(LookupError::BadRequest("code".into())));
        assert!(licence_number("15/2025/GPBLR-SCT").is_ok());
        for bad in ["a b", "số-1", "../x?y", &"1".repeat(65)] {
            assert_eq!(licence_number(bad), Err(LookupError::BadRequest("number".into())), "{bad}");
        }
    }
}
