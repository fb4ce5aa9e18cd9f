//! Why a call to the Ministry of Justice did not give an answer the caller can use.

use crate::http::TransportFailure;
use crate::{DecodeError, EncodeError, LookupError, Outcome};

use super::MojConfigError;

/// A failed call to the ministry. Messages name the call and the kind of failure,
/// never personal data or the ministry's free text, so operators can see them as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MojError {
    /// No answer: the connection failed, timed out or broke.
    #[error("{kind} error on {call}: {detail}")]
    Transport {
        /// The call (`auth/token`, `hotich/tiepnhan`, ...).
        call: &'static str,
        /// `connect`, `timeout`, `body`, `redirect`, `request` or `transport`.
        kind: &'static str,
        /// The innermost cause, such as "Connection refused (os error 111)".
        detail: String,
    },
    /// An HTTP status that is not an answer.
    #[error("{call}: moj answered http {status}")]
    Http {
        /// The call.
        call: &'static str,
        /// The HTTP status.
        status: u16,
    },
    /// The token service refused the username or password.
    #[error("login refused by moj ({code}): check the configured username and password")]
    LoginRefused {
        /// `AUTH-03`, or the HTTP status of the refusal.
        code: String,
    },
    /// The ministry answered `status` 0 with a code the call cannot handle.
    #[error("{call}: {reason}")]
    Answer {
        /// The call.
        call: &'static str,
        /// The code's meaning, the code and the field (see [`decode::failure_reason`](super::decode::failure_reason)).
        reason: String,
    },
    /// A 2xx answer that is not the expected JSON.
    #[error("{call}: moj answered without the expected JSON")]
    UnexpectedAnswer {
        /// The call.
        call: &'static str,
    },
    /// A credential or key cannot be found.
    #[error("cannot authenticate: {0}")]
    Config(#[from] MojConfigError),
    /// The request cannot be expressed in the ministry's format.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The answer cannot be read.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl MojError {
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
    fn outcomes_and_lookup_errors() {
        let timeout = MojError::Transport { call: "hotich/trangthai", kind: "timeout", detail: "x".into() };
        assert_eq!(timeout.lookup_error(), LookupError::Timeout);
        assert_eq!(timeout.outcome().label(), "retryable");
        let http = MojError::Http { call: "hotich/trangthai", status: 502 };
        assert_eq!(http.lookup_error(), LookupError::Upstream("hotich/trangthai: moj answered http 502".into()));
        let refused = MojError::LoginRefused { code: "AUTH-03".into() };
        assert!(refused.to_string().starts_with("login refused"));
        let encode = MojError::Encode(EncodeError { agency: "moj".into(), reason: "r".into() });
        assert_eq!(encode.outcome().label(), "permanent");
    }
}
