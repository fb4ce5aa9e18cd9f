//! One HTTP exchange with MOIT: a prepared request and its raw answer.

use bytes::Bytes;

use super::MoitError;
use crate::http::Call;

/// Sends `request` and returns the status and body of the answer, whatever the
/// status; only the absence of an answer is an error.
pub(crate) async fn send(request: Call<'_>, call: &'static str) -> Result<(u16, Bytes), MoitError> {
    request.send().await.map_err(|f| MoitError::transport(call, f))
}
