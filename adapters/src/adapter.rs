//! The adapter trait every agency implements.

use async_trait::async_trait;
use schemas::{AgencyId, Dossier, MaHoSo, PayloadKind, StatusEvent};

/// Signs outgoing request bodies on the gateway's behalf.
pub trait BodySigner: Send + Sync {
    /// A detached JWS over `body`, or `None` when the gateway cannot sign.
    fn sign_body(&self, body: &[u8]) -> Option<String>;
}

/// One delivery of one dossier to one agency.
#[derive(Clone, Copy)]
pub struct Delivery<'a> {
    /// The canonical dossier.
    pub dossier: &'a Dossier,
    /// Stable across every attempt of this delivery, so the agency can drop repeats.
    pub idempotency_key: &'a str,
    /// The correlation id of the request that accepted the dossier, passed on.
    pub correlation_id: &'a str,
    /// The gateway's signer, for agencies that take signed messages.
    pub signer: Option<&'a dyn BodySigner>,
}

impl std::fmt::Debug for Delivery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("dossier", &self.dossier.code)
            .field("idempotency_key", &self.idempotency_key)
            .field("correlation_id", &self.correlation_id)
            .field("signed", &self.signer.is_some())
            .finish()
    }
}

/// An HTTP request in the agency's wire format, before authentication is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRequest {
    /// Path and query, relative to the agency's base URL (starts with `/`).
    pub path: String,
    /// The media type of `body`.
    pub content_type: &'static str,
    /// Extra headers the format needs (such as a SOAPAction).
    pub headers: Vec<(&'static str, String)>,
    /// The body, exactly as sent.
    pub body: Vec<u8>,
}

/// What an agency's answer means for a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The agency has the dossier; it may have given its own reference.
    Delivered {
        /// The agency's id for the dossier, when it returns one.
        agency_ref: Option<String>,
    },
    /// Try again later: the agency is down, busy, timed out, or the session expired.
    Retryable {
        /// Why, for operators (never personal data).
        reason: String,
    },
    /// Trying again cannot help: the agency refused the content.
    Permanent {
        /// Why, for operators (never personal data).
        reason: String,
    },
}

impl Outcome {
    /// A short label for metrics: `delivered`, `retryable` or `permanent`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Delivered { .. } => "delivered",
            Self::Retryable { .. } => "retryable",
            Self::Permanent { .. } => "permanent",
        }
    }
}

/// A canonical dossier that cannot be expressed in the agency's format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode for {agency}: {reason}")]
pub struct EncodeError {
    /// The agency.
    pub agency: String,
    /// Why.
    pub reason: String,
}

/// An agency message that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode agency message: {0}")]
pub struct DecodeError(pub String);

/// A synchronous question a member asks an agency through the gateway.
#[derive(Debug, Clone, Copy)]
pub struct LookupRequest<'a> {
    /// The look-up's name, such as `enterprise` or `dossier`.
    pub name: &'a str,
    /// The query parameters, as sent.
    pub params: &'a [(String, String)],
    /// The correlation id of the request, passed on.
    pub correlation_id: &'a str,
}

/// A look-up's answer: normalised JSON, already serialised, which the gateway
/// places in its own answer as it is.
pub type LookupAnswer = Box<serde_json::value::RawValue>;

/// Serialises a look-up's normalised view as its [`LookupAnswer`].
pub fn lookup_answer(view: &impl serde::Serialize) -> Result<LookupAnswer, LookupError> {
    serde_json::value::to_raw_value(view).map_err(|_| LookupError::Upstream("cannot serialise the answer".into()))
}

/// A look-up an adapter offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupSpec {
    /// Its name in `/v1/agencies/{agency}/lookups/{name}`.
    pub name: &'static str,
    /// The query parameters it requires.
    pub required: &'static [&'static str],
    /// What it answers.
    pub description: &'static str,
}

/// Why a look-up has no answer. Each maps to one HTTP status in the gateway.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The adapter offers no look-up by that name (404).
    #[error("no such look-up")]
    UnknownLookup,
    /// A parameter is missing or invalid (400); names the parameter, never its value.
    #[error("bad look-up parameter: {0}")]
    BadRequest(String),
    /// The agency knows nothing by that key (404).
    #[error("not found at the agency")]
    NotFound,
    /// The agency did not answer in time (504).
    #[error("the agency did not answer in time")]
    Timeout,
    /// The agency failed or answered something unreadable (502).
    #[error("the agency failed: {0}")]
    Upstream(String),
}

/// Why a status poll brought nothing back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status poll failed: {0}")]
pub struct PollError(pub String);

/// One agency's wire format, authentication and answer semantics.
///
/// `encode`, `classify` and `decode_status` are pure, so golden-file tests cover
/// them without a network; `deliver` adds authentication and transport.
#[async_trait]
pub trait Adapter: Send + Sync + 'static {
    /// The agency this adapter speaks to.
    fn agency(&self) -> &AgencyId;

    /// Encodes a canonical dossier into the agency's request.
    fn encode(&self, delivery: &Delivery<'_>) -> Result<AgencyRequest, EncodeError>;

    /// Whether [`Adapter::encode`] can carry `dossier`: `Err` exactly when the
    /// encoding would fail, with the same reason. The gateway asks at acceptance,
    /// to refuse at once what could only fail for good at delivery. The default
    /// encodes and drops the request; an adapter whose encoding costs much more
    /// than its checks answers without building it.
    fn check(&self, dossier: &Dossier) -> Result<(), EncodeError> {
        let probe = Delivery { dossier, idempotency_key: "preflight", correlation_id: "preflight", signer: None };
        self.encode(&probe).map(drop)
    }

    /// Classifies the agency's answer to a delivery.
    fn classify(&self, http_status: u16, body: &[u8]) -> Outcome;

    /// Decodes a status message of the agency into canonical events.
    fn decode_status(&self, body: &[u8]) -> Result<Vec<StatusEvent>, DecodeError>;

    /// Delivers a dossier: authenticates, encodes, sends, and classifies the answer.
    /// Transport failures and timeouts are [`Outcome::Retryable`]; an encoding
    /// failure is [`Outcome::Permanent`].
    async fn deliver(&self, delivery: &Delivery<'_>) -> Outcome;

    /// The payload kinds this agency decides; a dossier routed here must carry one
    /// of them. Empty means the agency takes any dossier and reads no payload.
    fn payload_kinds(&self) -> &'static [PayloadKind] {
        &[]
    }

    /// The look-ups this adapter offers.
    fn lookups(&self) -> &'static [LookupSpec] {
        &[]
    }

    /// Answers a look-up with normalised JSON.
    async fn lookup(&self, request: &LookupRequest<'_>) -> Result<LookupAnswer, LookupError> {
        let _ = request;
        Err(LookupError::UnknownLookup)
    }

    /// Whether the agency can be asked for the status of dossiers by their codes
    /// ([`Adapter::poll_changes`]).
    fn polls_status(&self) -> bool {
        false
    }

    /// The status events the agency holds for `codes`, oldest first per dossier;
    /// codes it does not know add nothing. The gateway keeps the ones it has not
    /// seen.
    async fn poll_changes(&self, codes: &[MaHoSo], correlation_id: &str) -> Result<Vec<StatusEvent>, PollError> {
        let _ = (codes, correlation_id);
        Err(PollError("this agency cannot be polled for status".into()))
    }

    /// Sends status events of one dossier to the agency, for agencies that keep
    /// every dossier's progress (DVCQG). Agencies that take no status updates
    /// refuse for good.
    async fn push_status(&self, events: &[StatusEvent], correlation_id: &str) -> Outcome {
        let _ = (events, correlation_id);
        Outcome::Permanent { reason: "this agency takes no status updates".into() }
    }
}
