//! One HTTP exchange with the Ministry of Justice: a JSON POST and its raw answer.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};

use super::MojError;

/// Posts `body` to `url` and returns the status and body of the answer, whatever
/// the status; only the absence of an answer is an error.
pub(crate) async fn post(
    http: &reqwest::Client,
    url: &str,
    call: &'static str,
    headers: &[(&'static str, &str)],
    body: Vec<u8>,
) -> Result<(u16, Bytes), MojError> {
    let mut request = http.post(url).header(CONTENT_TYPE, "application/json").header(ACCEPT, "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body).send().await.map_err(|e| MojError::transport(call, &e))?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| MojError::transport(call, &e))?;
    Ok((status, bytes))
}
