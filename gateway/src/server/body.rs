//! Reading a request body within the configured size and time limits.

use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;

use crate::error::ApiError;

fn too_large(limit: u64) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("the body exceeds {limit} bytes"))
        .with_header(header::CONNECTION, "close")
}

/// Refuses a declared `Content-Length` over `limit` before reading anything.
pub fn check_declared_length(headers: &HeaderMap, limit: u64) -> Result<(), ApiError> {
    let Some(v) = headers.get(header::CONTENT_LENGTH) else { return Ok(()) };
    let len: u64 = v.to_str().ok().and_then(|s| s.parse().ok()).ok_or_else(|| {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_content_length", "Content-Length is not a number")
    })?;
    if len > limit {
        return Err(too_large(limit));
    }
    Ok(())
}

/// Reads the whole body, stopping at `limit` bytes (413) or after `timeout` (408).
pub async fn read(body: Incoming, limit: u64, timeout: Duration) -> Result<Bytes, ApiError> {
    let limited = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, "body_timeout", "the body did not arrive in time")
            .with_header(header::CONNECTION, "close")),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(limit)),
        Ok(Err(_)) => {
            Err(ApiError::new(StatusCode::BAD_REQUEST, "body_unreadable", "the request body could not be read"))
        }
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}
