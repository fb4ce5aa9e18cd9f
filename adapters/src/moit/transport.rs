//! One HTTP exchange with MOIT: a prepared request and its raw answer.

use bytes::Bytes;

use super::MoitError;

/// Sends `request` and returns the status and body of the answer, whatever the
/// status; only the absence of an answer is an error.
pub(crate) async fn send(request: reqwest::RequestBuilder, call: &'static str) -> Result<(u16, Bytes), MoitError> {
    let response = request.send().await.map_err(|e| MoitError::transport(call, &e))?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| MoitError::transport(call, &e))?;
    Ok((status, bytes))
}
