//! Why a call to MOIT did not give an answer the caller can use.

use crate::http::TransportFailure;
use crate::{DecodeError, EncodeError, LookupError, Outcome};

use super::MoitConfigError;

/// A failed call to MOIT. Messages name the call and the kind of failure, never
/// personal data or secrets, so they can be shown to operators as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoitError {
    /// No answer: the connection failed, timed out or broke.
    #[error("{kind} error on {call}: {detail}")]
    Transport {
        /// The call (`token`, `submit`, `dossier`, `licence`).
        call: &'static str,
        /// `connect`, `timeout`, `body`, `redirect`, `request` or `transport`.
        kind: &'static str,
        /// The innermost cause, such as "Connection refused (os error 111)".
        detail: String,
    },
    /// An HTTP status the call cannot use.
    #[error("{call}: moit answered http {status}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Http {
        /// The call.
        call: &'static str,
        /// The HTTP status.
        status: u16,
        /// MOIT's code from the problem document, when there is one.
        code: Option<String>,
    },
    /// The token endpoint refused the gateway (RFC 6749 §5.2).
    #[error("login refused by moit ({error}): check the configured client_id, client_secret and scope")]
    LoginRefused {
        /// The OAuth2 `error`, such as `invalid_client`, or `http <status>`.
        error: String,
    },
    /// A 2xx answer that is not the expected JSON.
    #[error("{call}: moit answered without the expected JSON")]
    UnexpectedAnswer {
        /// The call.
        call: &'static str,
    },
    /// The client secret cannot be found.
    #[error("cannot request a token: {0}")]
    Secret(#[from] MoitConfigError),
    /// The request cannot be expressed in MOIT's format.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The answer cannot be read.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl MoitError {
    /// What this failure means for a delivery: only an encoding failure is
    /// permanent; everything else (including a refused login, which an operator
    /// fixes in the configuration) keeps the dossier queued.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Encode(e) => Outcome::Permanent { reason: e.to_string() },
            other => Outcome::Retryable { reason: other.to_string() },
        }
    }

    /// What this failure means for a look-up: a timeout is [`LookupError::Timeout`],
    /// anything else [`LookupError::Upstream`].
    pub fn lookup_error(&self) -> LookupError {
        match self {
            Self::Transport { kind: "timeout", .. } => LookupError::Timeout,
            other => LookupError::Upstream(other.to_string()),
        }
    }

    /// The error for `call` when no answer came.
    pub(crate) fn transport(call: &'static str, failure: TransportFailure) -> Self {
        Self::Transport { call, kind: failure.kind, detail: failure.detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_encoding_failures_are_permanent_and_only_timeouts_time_out() {
        let refused = MoitError::LoginRefused { error: "invalid_client".into() };
        assert_eq!(
            refused.outcome(),
            Outcome::Retryable {
                reason:
                    "login refused by moit (invalid_client): check the configured client_id, client_secret and scope"
                        .into()
            }
        );
        let e = MoitError::Encode(EncodeError { agency: "moit".into(), reason: "r".into() });
        assert_eq!(e.outcome().label(), "permanent");
        let t = MoitError::Transport { call: "licence", kind: "timeout", detail: "d".into() };
        assert_eq!(t.lookup_error(), LookupError::Timeout);
        let h = MoitError::Http { call: "licence", status: 503, code: Some("MOIT-SYS-503".into()) };
        assert_eq!(h.lookup_error(), LookupError::Upstream("licence: moit answered http 503 (MOIT-SYS-503)".into()));
    }
}
