//! One HTTP exchange with MPI: a SOAP 1.1 POST and its raw answer.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};

use super::wire::{Operation, CONTENT_TYPE as SOAP_CONTENT_TYPE};
use super::MpiError;
use crate::http::with_headers;
use crate::AgencyClient;

/// Posts a SOAP request for `op` to `url` with its `SOAPAction` and the extra
/// headers, and returns the status and body of the answer, whatever the status;
/// only the absence of an answer is an error.
pub(crate) async fn post(
    http: &AgencyClient,
    url: &str,
    op: Operation,
    headers: &[(&'static str, &str)],
    body: Vec<u8>,
) -> Result<(u16, Bytes), MpiError> {
    let request = http
        .post(url)
        .header(CONTENT_TYPE, SOAP_CONTENT_TYPE)
        .header(ACCEPT, "text/xml")
        .header("SOAPAction", format!("\"{}\"", op.action()));
    with_headers(request, headers).body(body).send().await.map_err(|f| MpiError::transport(op.element(), f))
}
