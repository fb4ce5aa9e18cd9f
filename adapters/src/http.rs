//! The HTTP exchange every adapter makes: send a request, keep the status and body
//! of whatever answer comes, and describe a missing answer by its kind and cause.
//!
//! Each adapter's `transport.rs` adds its own headers and wraps a
//! [`TransportFailure`] in its own error type, naming the call.

use bytes::Bytes;

/// Why no answer came: the kind of failure and its innermost cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TransportFailure {
    /// `connect`, `timeout`, `body`, `redirect`, `request` or `transport`.
    pub(crate) kind: &'static str,
    /// The innermost cause, such as "Connection refused (os error 111)".
    pub(crate) detail: String,
}

impl TransportFailure {
    /// Classifies a reqwest error and keeps its innermost cause.
    pub(crate) fn of(e: &reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            "timeout"
        } else if e.is_connect() {
            "connect"
        } else if e.is_redirect() {
            "redirect"
        } else if e.is_body() || e.is_decode() {
            "body"
        } else if e.is_request() || e.is_builder() {
            "request"
        } else {
            "transport"
        };
        let mut cause: &dyn std::error::Error = e;
        while let Some(next) = cause.source() {
            cause = next;
        }
        Self { kind, detail: cause.to_string() }
    }
}

/// Adds each `(name, value)` header to `request`.
pub(crate) fn with_headers(
    mut request: reqwest::RequestBuilder,
    headers: &[(&'static str, &str)],
) -> reqwest::RequestBuilder {
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

/// Sends `request` and returns the status and body of the answer, whatever the
/// status; only the absence of an answer is an error.
pub(crate) async fn send(request: reqwest::RequestBuilder) -> Result<(u16, Bytes), TransportFailure> {
    let response = request.send().await.map_err(|e| TransportFailure::of(&e))?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| TransportFailure::of(&e))?;
    Ok((status, bytes))
}
