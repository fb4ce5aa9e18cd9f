//! What a simulator's agency logic sees and answers, free of hyper types.

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;

use super::SimStats;

/// One agency request, fully read.
#[derive(Debug, Clone)]
pub struct SimRequest {
    /// The HTTP method.
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The request headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl SimRequest {
    /// A header's value as text, when present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The simulator's answer to one agency request.
#[derive(Debug, Clone)]
pub struct SimResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// Headers besides `Content-Type`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The media type of `body`.
    pub content_type: &'static str,
    /// The body.
    pub body: Bytes,
}

impl SimResponse {
    /// A JSON answer; a value that cannot be serialised becomes an HTTP 500.
    pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self::bytes(status, "application/json; charset=utf-8", body),
            Err(_) => Self::text(StatusCode::INTERNAL_SERVER_ERROR, "cannot serialise the answer"),
        }
    }

    /// A plain-text answer.
    pub fn text(status: StatusCode, text: &str) -> Self {
        Self::bytes(status, "text/plain; charset=utf-8", text.as_bytes().to_vec())
    }

    /// An answer with the given media type and body.
    pub fn bytes(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self { status, headers: Vec::new(), content_type, body: body.into() }
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// An agency's behaviour inside a simulator: everything but transport and faults.
#[async_trait]
pub trait SimHandler: Send + Sync + 'static {
    /// Answers one agency request (faults have already been applied).
    async fn handle(&self, request: SimRequest) -> SimResponse;

    /// What the agency has received, for `GET /_sim/received`.
    fn received_json(&self) -> serde_json::Value;

    /// The agency's counters merged with the server's, for `GET /_sim/stats`.
    fn stats_json(&self, server: &SimStats) -> serde_json::Value;

    /// Forgets everything received and zeroes the agency's counters.
    fn reset(&self);
}
