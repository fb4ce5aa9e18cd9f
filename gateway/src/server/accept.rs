//! `POST /v1/dossiers`: the accept pipeline.
//!
//! Stages, in order: authenticate, (rate limit), check media type and declared
//! length, read the body, (verify the signature), parse and normalise, validate,
//! route, store, answer. Each stage is a function that either passes its output on
//! or refuses with an [`ApiError`]; nothing is stored unless every stage passed.

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use hyper::body::Incoming;
use schemas::{AgencyId, Dossier, VnDateTime};
use sha2::{Digest, Sha256};
use tracing::info;

use super::{body, AppState, Handled};
use crate::auth::Member;
use crate::config::Role;
use crate::error::ApiError;
use crate::limits::Class;
use crate::store::{NewDossier, Receipt, SubmitOutcome};

const ROUTE: &str = "/v1/dossiers";

/// The wire dialect of a dossier body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The DVCQG JSON object.
    Json,
    /// The `HoSo` XML element.
    Xml,
}

impl Dialect {
    fn label(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Xml => "xml",
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Xml => "application/xml",
        }
    }
}

/// Handles a submission.
pub(crate) async fn submit(st: &Arc<AppState>, req: Request<Incoming>, cid: &str) -> Handled {
    let Some(member) = st.members.get().authenticate(req.headers(), req.extensions().get()).cloned() else {
        return Handled { route: ROUTE, member: "anonymous".into(), result: Err(ApiError::unauthenticated()) };
    };
    let result = pipeline(st, &member, req, cid).await;
    Handled { route: ROUTE, member: member.id.to_string(), result }
}

async fn pipeline(
    st: &Arc<AppState>,
    member: &Member,
    req: Request<Incoming>,
    cid: &str,
) -> Result<http::Response<http_body_util::Full<Bytes>>, ApiError> {
    if member.role != Role::Portal {
        return Err(ApiError::forbidden("only portal members submit dossiers"));
    }
    st.limits.get().check(member.id.as_str(), Class::Submit)?;
    st.evidence.admit()?;
    let dialect = dialect(req.headers())?;
    let xml_receipt = super::receipt::wants_xml(req.headers());
    let limits = &st.config.server;
    body::check_declared_length(req.headers(), limits.max_body_bytes)?;
    let jws = jws_header(req.headers())?;
    let bytes = body::read(req.into_body(), limits.max_body_bytes, limits.body_read_timeout).await?;
    let mut verified = verify_signature(st, member, dialect, jws, &bytes).await?;
    // For an XML signature, the dossier was read from exactly what was signed.
    let dossier = match verified.as_mut().and_then(|v| v.dossier.take()) {
        Some(read) => read?,
        None => parse(dialect, &bytes)?,
    };
    if verified.is_none() {
        let required = st.signatures.required(member, dossier.procedure_code.as_str());
        let outcome = if required.is_some() { "signature_required" } else { "absent" };
        st.metrics.signature_verifications.with_label_values(&["none", outcome]).inc();
        if let Some(why) = required {
            return Err(schemas::dsig::SigError::Required(why).into());
        }
    }
    let agency = route(st, &dossier)?;
    member.grants.may_send(agency.as_str(), dossier.procedure_code.as_str())?;
    st.backlog.admit(agency.as_str())?;
    let also_to: Vec<AgencyId> = st.config.status_sync_agency().filter(|sync| *sync != agency).into_iter().collect();
    let receipt = Receipt {
        receipt_id: uuid::Uuid::now_v7().to_string(),
        dossier_code: dossier.code.to_string(),
        sender: member.id.to_string(),
        agency: agency.to_string(),
        accepted_at: VnDateTime::now().to_rfc3339(),
        body_sha256: hex::encode(Sha256::digest(&bytes)),
        signed_by: verified.map(|v| v.signed_by),
    };
    let (canonical_json, content_hash) = dossier.canonical().map_err(|_| ApiError::internal())?;
    let new = NewDossier {
        code: dossier.code.clone(),
        sender: member.id.clone(),
        agency: agency.clone(),
        also_to: also_to.clone(),
        procedure_code: dossier.procedure_code.to_string(),
        received_at: dossier.received_at.to_utc(),
        due_at: dossier.due_at.to_utc(),
        content_hash,
        media_type: dialect.media_type().to_owned(),
        // Without bodies in the log, only their digest (in the receipt) is kept.
        body: if st.config.audit.bodies { bytes.to_vec() } else { Vec::new() },
        canonical_json,
        receipt,
        correlation_id: cid.to_owned(),
    };
    let timer = st.metrics.store_duration.with_label_values(&["submit"]).start_timer();
    let outcome = st.store.submit(new).await;
    timer.observe_duration();
    let outcome = outcome.map_err(|e| {
        tracing::error!(error = %e, "store refused a submission; nothing was accepted");
        ApiError::unavailable("the store is unavailable; nothing was accepted, retry later")
    })?;
    match outcome {
        SubmitOutcome::Accepted(receipt) => {
            st.backlog.queued(std::iter::once(agency.as_str()).chain(also_to.iter().map(AgencyId::as_str)));
            st.wake.notify_waiters();
            st.metrics.dossiers_accepted.with_label_values(&[agency.as_str(), dialect.label()]).inc();
            info!(dossier = %dossier.code, agency = %agency, receipt = %receipt.receipt_id, "dossier accepted");
            Ok(with_location(super::receipt::response(st, StatusCode::ACCEPTED, &receipt, xml_receipt, cid)?, &dossier))
        }
        SubmitOutcome::Duplicate(receipt) => {
            info!(dossier = %dossier.code, receipt = %receipt.receipt_id, "same dossier sent again; original receipt returned");
            Ok(with_location(super::receipt::response(st, StatusCode::OK, &receipt, xml_receipt, cid)?, &dossier))
        }
        SubmitOutcome::Conflict => Err(ApiError::new(
            StatusCode::CONFLICT,
            "dossier_conflict",
            "a different dossier with this code was already accepted",
        )),
    }
}

/// The detached JWS of a submission, from its [`schemas::jws::HEADER`] header.
fn jws_header(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all(schemas::jws::HEADER).iter();
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(schemas::dsig::SigError::Malformed("more than one X-JWS-Signature header".into()).into());
    }
    let s = first
        .to_str()
        .map_err(|_| ApiError::from(schemas::dsig::SigError::Malformed("X-JWS-Signature is not ASCII".into())))?;
    Ok(Some(s.to_owned()))
}

/// Verifies the submission's signature, counting the outcome.
async fn verify_signature(
    st: &AppState,
    member: &Member,
    dialect: Dialect,
    jws: Option<String>,
    body: &Bytes,
) -> Result<Option<crate::signatures::Verified>, ApiError> {
    if jws.is_none() && dialect != Dialect::Xml {
        return Ok(None);
    }
    let format = if jws.is_some() { "jws" } else { "xmldsig" };
    let result = st
        .signatures
        .clone()
        .verify_off_thread(member.clone(), dialect == Dialect::Xml, jws, body.clone())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "signature verification task failed; nothing was accepted");
            ApiError::internal()
        })?;
    // An absent signature is counted once the dossier shows whether one was required.
    let outcome = match &result {
        Ok(Some(_)) => Some("valid"),
        Ok(None) => None,
        Err(e) => Some(e.code()),
    };
    if let Some(outcome) = outcome {
        st.metrics.signature_verifications.with_label_values(&[format, outcome]).inc();
    }
    match result {
        Ok(v) => {
            if let Some(v) = &v {
                // The key fingerprint, not the subject: a subject may name a person.
                info!(signer_key = %v.signed_by.spki_sha256, algorithm = %v.signed_by.algorithm, format, "signature verified");
            }
            Ok(v)
        }
        Err(e) => {
            info!(code = e.code(), format, "signature refused");
            Err(e.into())
        }
    }
}

fn with_location(
    mut resp: http::Response<http_body_util::Full<Bytes>>,
    dossier: &Dossier,
) -> http::Response<http_body_util::Full<Bytes>> {
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/dossiers/{}", dossier.code)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// The dialect named by `Content-Type`: JSON or XML, UTF-8 only.
pub(super) fn dialect(headers: &HeaderMap) -> Result<Dialect, ApiError> {
    let unsupported = || {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json or application/xml (UTF-8)",
        )
    };
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).ok_or_else(unsupported)?;
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    for param in parts {
        if let Some((k, v)) = param.split_once('=') {
            if k.trim().eq_ignore_ascii_case("charset") && !v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8") {
                return Err(unsupported());
            }
        }
    }
    match essence.as_str() {
        "application/json" => Ok(Dialect::Json),
        "application/xml" | "text/xml" => Ok(Dialect::Xml),
        _ => Err(unsupported()),
    }
}

fn parse(dialect: Dialect, bytes: &[u8]) -> Result<Dossier, ApiError> {
    let parsed = match dialect {
        Dialect::Json => schemas::dossier_from_json(bytes),
        Dialect::Xml => schemas::dossier_from_xml(bytes),
    };
    Ok(parsed?)
}

/// The agency: the dossier's explicit target if it names one, else the routing
/// table; then the dossier's payload must be what the procedure and agency need.
fn route(st: &AppState, dossier: &Dossier) -> Result<AgencyId, ApiError> {
    let (agency, needed) = match &dossier.target_agency {
        Some(target) => {
            if !st.adapters.contains_key(target) {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_agency",
                    format!("CoQuanDich names agency {target}, which this gateway does not serve"),
                ));
            }
            (target.clone(), None)
        }
        None => {
            let routes = st.routes.get();
            let route = routes.route(&dossier.procedure_code).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "no_route",
                    format!("no agency is configured for procedure {}", dossier.procedure_code),
                )
            })?;
            (route.agency.clone(), route.payload)
        }
    };
    let has = dossier.payload.as_ref().map(|p| p.kind());
    let accepted = st.adapters.get(&agency).map_or(&[][..], |a| a.payload_kinds());
    let mismatch = |want: String| {
        let message = match has {
            Some(k) => format!("DuLieuNghiepVu: carries {}, but {want}", k.wire_name()),
            None => format!("DuLieuNghiepVu: is missing, but {want}"),
        };
        let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "payload_mismatch", message.clone());
        e.details = vec![schemas::FieldError::new("DuLieuNghiepVu", schemas::FieldErrorKind::Invalid, message)];
        e
    };
    if let Some(kind) = needed {
        if has != Some(kind) {
            return Err(mismatch(format!("procedure {} needs {}", dossier.procedure_code, kind.wire_name())));
        }
    }
    if !accepted.is_empty() && !has.is_some_and(|k| accepted.contains(&k)) {
        let names: Vec<&str> = accepted.iter().map(|k| k.wire_name()).collect();
        return Err(mismatch(format!("agency {agency} needs one of {}", names.join(", "))));
    }
    // The agency's format must be able to carry the dossier: refuse now what could
    // only fail permanently at delivery. Adapters' reasons never hold personal data.
    if let Some(adapter) = st.adapters.get(&agency) {
        if let Err(e) = adapter.check(dossier) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "agency_cannot_accept",
                format!("agency {agency} cannot take this dossier: {}", e.reason),
            ));
        }
    }
    Ok(agency)
}
