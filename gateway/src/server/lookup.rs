//! `GET /v1/agencies/{agency}/lookups/{name}`: a synchronous question to an agency,
//! translated by its adapter, bounded by the configured time limit.

use std::sync::Arc;
use std::time::Instant;

use adapters::{LookupError, LookupRequest};
use http::{Request, StatusCode};
use hyper::body::Incoming;
use schemas::AgencyId;
use serde_json::value::RawValue;

use super::{json, AppState, Handled};
use crate::auth::Member;
use crate::config::Role;
use crate::error::ApiError;

const ROUTE: &str = "/v1/agencies/{agency}/lookups/{name}";

/// Whether the member may call `agency/name`.
pub fn may_call(member: &Member, agency: &str, name: &str) -> bool {
    if member.role == Role::Operator {
        return true;
    }
    member.lookups.iter().any(|l| l == "*" || *l == format!("{agency}/*") || *l == format!("{agency}/{name}"))
}

/// Handles a look-up.
pub(crate) async fn lookup(st: &Arc<AppState>, req: Request<Incoming>, agency: &str, name: &str, cid: &str) -> Handled {
    let Some(member) = st.members.get().authenticate(req.headers(), req.extensions().get()).cloned() else {
        return Handled { route: ROUTE, member: "anonymous".into(), result: Err(ApiError::unauthenticated()) };
    };
    let started = Instant::now();
    let (label_agency, result) = run(st, &member, &req, agency, name, cid).await;
    if let Some(a) = label_agency {
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.code,
        };
        st.metrics.lookups.with_label_values(&[a.as_str(), name_label(st, &a, name), outcome]).inc();
        st.metrics.lookup_duration.with_label_values(&[a.as_str()]).observe(started.elapsed().as_secs_f64());
    }
    Handled { route: ROUTE, member: member.id.to_string(), result }
}

/// The look-up name as a metric label: only names the adapter offers, else `unknown`.
fn name_label(st: &AppState, agency: &AgencyId, name: &str) -> &'static str {
    st.adapters.get(agency).and_then(|a| a.lookups().iter().find(|l| l.name == name)).map_or("unknown", |l| l.name)
}

async fn run(
    st: &Arc<AppState>,
    member: &Member,
    req: &Request<Incoming>,
    agency: &str,
    name: &str,
    cid: &str,
) -> (Option<AgencyId>, Result<http::Response<http_body_util::Full<bytes::Bytes>>, ApiError>) {
    let unknown_agency =
        || ApiError::new(StatusCode::NOT_FOUND, "unknown_agency", "this gateway serves no such agency");
    let Some((agency_id, adapter)) =
        AgencyId::parse(agency).ok().and_then(|a| st.adapters.get(&a).map(|ad| (a, ad.clone())))
    else {
        return (None, Err(unknown_agency()));
    };
    if !may_call(member, agency, name) {
        return (Some(agency_id), Err(ApiError::forbidden("this member may not call this look-up")));
    }
    if let Err(e) = st.limits.get().check(member.id.as_str(), crate::limits::Class::Lookup) {
        return (Some(agency_id), Err(e));
    }
    let Some(spec) = adapter.lookups().iter().find(|l| l.name == name) else {
        let offered: Vec<&str> = adapter.lookups().iter().map(|l| l.name).collect();
        let msg = format!("agency {agency} offers the look-ups: {}", offered.join(", "));
        return (Some(agency_id), Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_lookup", msg)));
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    for required in spec.required {
        if !params.iter().any(|(k, v)| k == required && !v.is_empty()) {
            let e = ApiError::new(
                StatusCode::BAD_REQUEST,
                "missing_parameter",
                format!("query parameter {required} is required"),
            );
            return (Some(agency_id), Err(e));
        }
    }
    let request = LookupRequest { name, params: &params, correlation_id: cid };
    let answer = tokio::time::timeout(st.config.lookup.timeout, adapter.lookup(&request)).await;
    let result = match answer {
        Err(_) | Ok(Err(LookupError::Timeout)) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "agency_timeout",
            format!("agency {agency} did not answer within {:?}", st.config.lookup.timeout),
        )),
        Ok(Err(LookupError::BadRequest(p))) => {
            Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_parameter", format!("query parameter {p} is invalid")))
        }
        Ok(Err(LookupError::NotFound)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found_at_agency",
            format!("agency {agency} knows no such record"),
        )),
        Ok(Err(LookupError::UnknownLookup)) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_lookup", "the agency does not offer this look-up"))
        }
        Ok(Err(e)) => {
            tracing::warn!(agency, lookup = name, error = %e, "look-up failed at the agency");
            Err(ApiError::new(StatusCode::BAD_GATEWAY, "agency_error", format!("agency {agency} failed to answer")))
        }
        Ok(Ok(answer)) => Ok(json(StatusCode::OK, &Answer { agency, lookup: name, result: &answer }, cid)),
    };
    (Some(agency_id), result)
}

/// A look-up's answer: the adapter's normalised JSON placed as it is, without
/// being parsed again.
#[derive(serde::Serialize)]
struct Answer<'a> {
    agency: &'a str,
    lookup: &'a str,
    result: &'a RawValue,
}
