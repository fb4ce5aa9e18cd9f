//! One HTTP exchange with DVCQG: a JSON POST and its raw answer.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};

use super::DvcqgError;
use crate::http::with_headers;
use crate::AgencyClient;

/// Posts `body` to `url` and returns the status and body of the answer, whatever
/// the status; only the absence of an answer is an error.
pub(crate) async fn post(
    http: &AgencyClient,
    url: &str,
    call: &'static str,
    headers: &[(&'static str, &str)],
    body: Vec<u8>,
) -> Result<(u16, Bytes), DvcqgError> {
    let request = http.post(url).header(CONTENT_TYPE, "application/json").header(ACCEPT, "application/json");
    with_headers(request, headers).body(body).send().await.map_err(|f| DvcqgError::transport(call, f))
}
