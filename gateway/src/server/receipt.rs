//! The receipt as the response body: JSON with the gateway's detached JWS over
//! its exact bytes in `X-JWS-Signature`, or, for a client that asks for XML
//! (`Accept: application/xml`), a `Receipt` element in namespace
//! [`RECEIPT_NAMESPACE`] carrying the gateway's enveloped XML signature. Either
//! way a portal can prove later what the gateway accepted and when.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use http_body_util::Full;
use schemas::c14n::Algorithm;
use schemas::dsig::{ReferenceStyle, XmlSignOptions};

use super::AppState;
use crate::error::ApiError;
use crate::store::Receipt;

/// The namespace of XML receipts.
pub const RECEIPT_NAMESPACE: &str = "urn:lienthong:receipt:1";

/// Whether the client prefers an XML receipt: `Accept` names an XML media type
/// before (or without) JSON.
pub(crate) fn wants_xml(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return false };
    for range in accept.split(',') {
        let essence = range.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/xml" | "text/xml" => return true,
            "application/json" | "*/*" | "application/*" => return false,
            _ => {}
        }
    }
    false
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The XML form of a receipt, unsigned.
pub(crate) fn to_xml(r: &Receipt) -> String {
    let mut x = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Receipt xmlns=\"{RECEIPT_NAMESPACE}\">");
    for (name, value) in [
        ("ReceiptId", &r.receipt_id),
        ("DossierCode", &r.dossier_code),
        ("Sender", &r.sender),
        ("Agency", &r.agency),
        ("AcceptedAt", &r.accepted_at),
        ("BodySha256", &r.body_sha256),
    ] {
        x.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
    if let Some(s) = &r.signed_by {
        x.push_str("<SignedBy>");
        for (name, value) in [
            ("Subject", &s.subject),
            ("SpkiSha256", &s.spki_sha256),
            ("CertSha256", &s.cert_sha256),
            ("Algorithm", &s.algorithm),
            ("Format", &s.format),
        ] {
            x.push_str(&format!("<{name}>{}</{name}>", escape(value)));
        }
        x.push_str("</SignedBy>");
    }
    x.push_str("</Receipt>\n");
    x
}

/// The receipt response: XML (enveloped-signed) when the client asks for it,
/// JSON with a detached JWS otherwise. Unsigned when the gateway has no key.
pub(crate) fn response(
    st: &AppState,
    status: StatusCode,
    receipt: &Receipt,
    xml: bool,
    cid: &str,
) -> Result<http::Response<Full<Bytes>>, ApiError> {
    if xml {
        let unsigned = to_xml(receipt).into_bytes();
        let body = match st.signatures.identity() {
            Some(id) => {
                let opts = XmlSignOptions {
                    c14n: Algorithm::Exclusive { comments: false, inclusive_prefixes: Vec::new() },
                    reference: ReferenceStyle::WholeDocument,
                };
                schemas::dsig::sign_xml(&unsigned, id, &opts).map_err(|e| {
                    tracing::error!(error = %e, "the gateway could not sign an XML receipt");
                    ApiError::internal()
                })?
            }
            None => unsigned,
        };
        let mut resp = super::json_response(status, body, cid);
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"));
        return Ok(resp);
    }
    let body = serde_json::to_vec(receipt).map_err(|_| ApiError::internal())?;
    let signature = st.signatures.sign(&body);
    let mut resp = super::json_response(status, body, cid);
    if let Some(v) = signature.and_then(|s| HeaderValue::from_str(&s).ok()) {
        resp.headers_mut().insert(schemas::jws::HEADER, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, accept.parse().unwrap());
        h
    }

    #[test]
    fn xml_only_when_asked_for_first() {
        assert!(wants_xml(&headers("application/xml")));
        assert!(wants_xml(&headers("text/xml;q=0.9, application/json;q=0.5")));
        assert!(!wants_xml(&headers("application/json, application/xml")));
        assert!(!wants_xml(&headers("*/*")));
        assert!(!wants_xml(&HeaderMap::new()));
    }

    #[test]
    fn xml_receipts_escape_what_they_carry() {
        let r = Receipt {
            receipt_id: "r1".into(),
            dossier_code: "X".into(),
            sender: "p".into(),
            agency: "a".into(),
            accepted_at: "t".into(),
            body_sha256: "00".into(),
            signed_by: Some(crate::signatures::SignedBy {
                subject: "CN=a&b<c>,O=x".into(),
                spki_sha256: "k".into(),
                cert_sha256: "c".into(),
                algorithm: "rsa-sha256".into(),
                format: "xmldsig".into(),
            }),
        };
        let x = to_xml(&r);
        assert!(x.contains("<Subject>CN=a&amp;b&lt;c&gt;,O=x</Subject>"), "{x}");
        assert!(schemas::c14n::Document::parse(x.as_bytes()).is_ok());
    }
}
