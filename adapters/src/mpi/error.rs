//! Why a call to MPI did not give an answer the caller can use.

use super::decode::Fault;
use super::wire::code;
use super::MpiConfigError;
use crate::http::TransportFailure;
use crate::{DecodeError, EncodeError, LookupError, Outcome};

/// A failed call to MPI. Messages name the call and the kind of failure, never
/// personal data, so they can be shown to operators as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MpiError {
    /// No answer: the connection failed, timed out or broke.
    #[error("{kind} error on {call}: {detail}")]
    Transport {
        /// The operation (`NopHoSoDangKyDoanhNghiep`, ...).
        call: &'static str,
        /// `connect`, `timeout`, `body`, `redirect`, `request` or `transport`.
        kind: &'static str,
        /// The innermost cause, such as "Connection refused (os error 111)".
        detail: String,
    },
    /// An HTTP status without a SOAP answer.
    #[error("{call}: mpi answered http {status}")]
    Http {
        /// The operation.
        call: &'static str,
        /// The HTTP status.
        status: u16,
    },
    /// A SOAP fault the call cannot handle.
    #[error("{call}: {}", .fault.error_text())]
    Fault {
        /// The operation.
        call: &'static str,
        /// The fault.
        fault: Fault,
    },
    /// A 2xx answer that is not the expected SOAP answer.
    #[error("{call}: mpi answered without the expected soap answer ({reason})")]
    UnexpectedAnswer {
        /// The operation.
        call: &'static str,
        /// What was wrong with it (names elements, never values).
        reason: String,
    },
    /// The password cannot be found.
    #[error("cannot authenticate to mpi: {0}")]
    Password(#[from] MpiConfigError),
    /// The request cannot be expressed in the MPI format.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The answer cannot be read.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl Fault {
    /// How a fault reads in an error: the operator's hint for credentials and
    /// clock problems, the code, field and message otherwise.
    fn error_text(&self) -> String {
        match (self.code.as_deref(), self.outcome()) {
            (Some(code::INVALID_CREDENTIALS | code::STALE_TOKEN), Outcome::Retryable { reason }) => reason,
            _ => format!("mpi answered a fault ({})", self.describe()),
        }
    }
}

impl MpiError {
    /// What this failure means for a delivery: an encoding failure and a
    /// permanent fault are permanent; everything else (including refused
    /// credentials, which an operator fixes in the configuration) keeps the dossier
    /// queued.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Encode(e) => Outcome::Permanent { reason: e.to_string() },
            Self::Fault { fault, .. } => fault.outcome(),
            other => Outcome::Retryable { reason: other.to_string() },
        }
    }

    /// What this failure means for a look-up: a timeout is [`LookupError::Timeout`],
    /// everything else [`LookupError::Upstream`].
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
