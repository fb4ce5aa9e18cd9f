//! Why a call to DVCQG did not give an answer the caller can use.

use crate::http::TransportFailure;
use crate::{DecodeError, EncodeError, Outcome};

use super::DvcqgConfigError;

/// A failed call to DVCQG. Messages name the call and the kind of failure, never
/// personal data, so they can be shown to operators as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DvcqgError {
    /// No answer: the connection failed, timed out or broke.
    #[error("{kind} error on {call}: {detail}")]
    Transport {
        /// The call (`login`, `DongBoHoSoMC`, ...).
        call: &'static str,
        /// `connect`, `timeout`, `body`, `redirect`, `request` or `transport`.
        kind: &'static str,
        /// The innermost cause, such as "Connection refused (os error 111)".
        detail: String,
    },
    /// An HTTP status that is not an answer.
    #[error("{call}: dvcqg answered http {status}")]
    Http {
        /// The call.
        call: &'static str,
        /// The HTTP status.
        status: u16,
    },
    /// DVCQG refused the username or password.
    #[error("login refused by dvcqg (error_code {code}): check the configured username and password")]
    LoginRefused {
        /// The `error_code` of the refusal.
        code: String,
    },
    /// DVCQG answered with an error code the call cannot handle.
    #[error("{call}: dvcqg answered error_code {code}: {message}")]
    Answer {
        /// The call.
        call: &'static str,
        /// The `error_code`.
        code: String,
        /// The agency's message (names fields, never values).
        message: String,
    },
    /// A 2xx answer that is not the expected JSON.
    #[error("{call}: dvcqg answered without the expected JSON")]
    UnexpectedAnswer {
        /// The call.
        call: &'static str,
    },
    /// The password cannot be found.
    #[error("cannot log in: {0}")]
    Password(#[from] DvcqgConfigError),
    /// The request cannot be expressed in the DVCQG format.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The answer cannot be read.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl DvcqgError {
    /// What this failure means for a delivery: only an encoding failure is
    /// permanent; everything else (including a refused login, which an operator
    /// fixes in the configuration) keeps the dossier queued.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Encode(e) => Outcome::Permanent { reason: e.to_string() },
            other => Outcome::Retryable { reason: other.to_string() },
        }
    }

    /// The error for `call` when no answer came.
    pub(crate) fn transport(call: &'static str, failure: TransportFailure) -> Self {
        Self::Transport { call, kind: failure.kind, detail: failure.detail }
    }
}
