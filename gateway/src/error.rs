//! Every refusal the API makes, mapped to an HTTP status and a stable JSON body in
//! exactly one place.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use schemas::{DossierError, FieldError};
use serde::Serialize;

/// A refusal: status, stable code, message for the client, and field details.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable, machine-readable code (`missing_field`, `payload_too_large`, ...).
    pub code: &'static str,
    /// A human explanation; never internal detail or personal data.
    pub message: String,
    /// Per-field problems, for validation refusals.
    pub details: Vec<FieldError>,
    /// Extra headers such as `WWW-Authenticate` or `Allow`.
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    /// Further members of the error object, such as the states of a refused
    /// status transition.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    /// A refusal with no field details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            headers: Vec::new(),
            extra: serde_json::Map::new(),
        }
    }

    /// Adds a member to the error object.
    pub fn with_extra(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: header::HeaderName, value: &'static str) -> Self {
        self.headers.push((name, HeaderValue::from_static(value)));
        self
    }

    /// 401: no or unknown credentials.
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "a valid bearer token is required")
            .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"lienthong\"")
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500: something on our side failed; details go to the log, not the client.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "the gateway could not complete the request")
    }

    /// 503: the store is unavailable; nothing was accepted.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message).with_header(header::RETRY_AFTER, "5")
    }

    /// The JSON response, carrying the correlation id.
    pub fn into_response(self, correlation_id: &str) -> Response<Full<Bytes>> {
        #[derive(Serialize)]
        struct Detail<'a> {
            field: &'a str,
            code: &'static str,
            message: &'a str,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'static str,
            message: &'a str,
            correlation_id: &'a str,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            details: Vec<Detail<'a>>,
            #[serde(flatten)]
            extra: &'a serde_json::Map<String, serde_json::Value>,
        }
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        let details =
            self.details.iter().map(|d| Detail { field: &d.field, code: d.kind.code(), message: &d.message }).collect();
        let body = Body {
            error: Inner { code: self.code, message: &self.message, correlation_id, details, extra: &self.extra },
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = crate::server::json_response(self.status, bytes, correlation_id);
        for (k, v) in self.headers {
            resp.headers_mut().insert(k, v);
        }
        resp
    }
}

/// The longest signature refusal message sent back, in characters.
const MAX_QUOTED_MESSAGE: usize = 200;

impl From<schemas::dsig::SigError> for ApiError {
    fn from(e: schemas::dsig::SigError) -> Self {
        let status = if e.is_malformed_input() { StatusCode::BAD_REQUEST } else { StatusCode::UNPROCESSABLE_ENTITY };
        // Messages may quote an algorithm URI from the request: keep them short.
        let mut message = e.to_string();
        if let Some((cut, _)) = message.char_indices().nth(MAX_QUOTED_MESSAGE) {
            message.truncate(cut);
            message.push('…');
        }
        ApiError::new(status, e.code(), message)
    }
}

impl From<DossierError> for ApiError {
    fn from(e: DossierError) -> Self {
        match e {
            DossierError::Parse(p) => {
                let status = match p {
                    schemas::ParseError::WrongRoot => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::BAD_REQUEST,
                };
                ApiError::new(status, p.code(), p.to_string())
            }
            DossierError::Invalid(v) => {
                let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, v.code(), v.to_string());
                err.details = v.0;
                err
            }
            _ => ApiError::new(StatusCode::BAD_REQUEST, "invalid_dossier", "the dossier cannot be read"),
        }
    }
}

impl From<schemas::EventError> for ApiError {
    fn from(e: schemas::EventError) -> Self {
        match e {
            schemas::EventError::Parse(p) => ApiError::new(StatusCode::BAD_REQUEST, p.code(), p.to_string()),
            schemas::EventError::Invalid(v) => {
                let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, v.code(), v.to_string());
                err.details = v.0;
                err
            }
            _ => ApiError::new(StatusCode::BAD_REQUEST, "invalid_status_event", "the status event cannot be read"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_refusal_quoting_a_long_uri_is_cut_short() {
        let long = format!("urn:x:{}", "a".repeat(10_000));
        let e = ApiError::from(schemas::dsig::SigError::AlgorithmUnknown(long));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code, "signature_algorithm_unknown");
        assert!(e.message.chars().count() <= MAX_QUOTED_MESSAGE + 1, "{}", e.message.len());
        let xml = ApiError::from(schemas::dsig::SigError::Xml(schemas::C14nError::Doctype));
        assert_eq!((xml.status, xml.code), (StatusCode::BAD_REQUEST, "xml_doctype_forbidden"));
    }
}
