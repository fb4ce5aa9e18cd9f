//! `POST /v1/dossiers/{code}/status`: a member reports a step of a dossier's
//! processing as one DVCQG processing-history item (JSON).
//!
//! The dossier's sender reports its own steps (1, 2, 3, 7, 10) and a ministry
//! member of the target agency the decision's (4, 5, 6, 8, 9). The event must
//! follow from the dossier's current state ([`schemas::lifecycle`]); a refusal is
//! 409 naming both states. The exact same event again is accepted (200) and
//! changes nothing.

use std::sync::Arc;

use http::{Request, StatusCode};
use hyper::body::Incoming;
use schemas::lifecycle::{self, Named, Reporter};
use schemas::{MaHoSo, StatusEvent};
use serde_json::json;

use super::accept::{dialect, Dialect};
use super::{body, json, AppState, Handled};
use crate::auth::Member;
use crate::config::Role;
use crate::error::ApiError;
use crate::status::Source;
use crate::store::{CurrentStatus, RecordedStatus, StatusOutcome};

const ROUTE: &str = "/v1/dossiers/{code}/status";

/// Handles a status post.
pub(crate) async fn post(st: &Arc<AppState>, req: Request<Incoming>, code: &str, cid: &str) -> Handled {
    let Some(member) = st.members.get().authenticate(req.headers(), req.extensions().get()).cloned() else {
        return Handled { route: ROUTE, member: "anonymous".into(), result: Err(ApiError::unauthenticated()) };
    };
    let result = run(st, &member, req, code, cid).await;
    Handled { route: ROUTE, member: member.id.to_string(), result }
}

fn store_down(e: crate::store::StoreError) -> ApiError {
    tracing::error!(error = %e, "store failed on a status event; nothing was recorded");
    ApiError::unavailable("the store is unavailable; nothing was recorded, retry later")
}

/// What the member is to the dossier, if anything.
fn role_towards(member: &Member, sender: &str, agency: &str) -> Option<Reporter> {
    match member.role {
        Role::Portal if member.id.as_str() == sender => Some(Reporter::Sender),
        Role::Ministry if member.agency.as_ref().is_some_and(|a| a.as_str() == agency) => Some(Reporter::TargetAgency),
        _ => None,
    }
}

async fn run(
    st: &Arc<AppState>,
    member: &Member,
    req: Request<Incoming>,
    code: &str,
    cid: &str,
) -> Result<http::Response<http_body_util::Full<bytes::Bytes>>, ApiError> {
    st.limits.get().check(member.id.as_str(), crate::limits::Class::Submit)?;
    st.evidence.admit()?;
    let unknown = || ApiError::not_found("no dossier with this code");
    let code = MaHoSo::parse(code).map_err(|_| unknown())?;
    if dialect(req.headers())? != Dialect::Json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send one processing-history item as application/json (UTF-8)",
        ));
    }
    let limits = &st.config.server;
    body::check_declared_length(req.headers(), limits.max_body_bytes)?;
    let bytes = body::read(req.into_body(), limits.max_body_bytes, limits.body_read_timeout).await?;
    let event = StatusEvent::from_dvcqg_json(&bytes)?;
    if event.dossier != code {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "status_dossier_mismatch",
            "MaHoSo in the body is not the dossier of the URL",
        ));
    }
    if st.config.status.too_far_ahead(&event.at) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "status_time_in_future",
            "ThoiDiemXuLy is later than the gateway's clock allows",
        ));
    }
    let parties = st.store.parties(&code).await.map_err(store_down)?.ok_or_else(unknown)?;
    let Some(role) = role_towards(member, &parties.sender, &parties.agency) else {
        return Err(ApiError::forbidden("only the dossier's sender and its target agency may report its status"));
    };
    member.grants.may_post_status(&parties.procedure)?;
    if !lifecycle::may_post(role, event.status) {
        let by = match Reporter::of(event.status) {
            Reporter::Sender => "the dossier's sender",
            Reporter::TargetAgency => "the dossier's target agency",
        };
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "status_not_permitted",
            format!("status {} is reported by {by}", Named(event.status)),
        ));
    }
    let attempted = json!({"status": event.status.code(), "at": event.at});
    let source = Source::Member { id: member.id.to_string(), role };
    match st.status.record(event, &parties, source, cid).await.map_err(store_down)? {
        StatusOutcome::Accepted(r) => Ok(json(StatusCode::CREATED, &view(&code, &r, false), cid)),
        StatusOutcome::Duplicate(r) => Ok(json(StatusCode::OK, &view(&code, &r, true), cid)),
        StatusOutcome::UnknownDossier => Err(unknown()),
        StatusOutcome::Refused { error, current } => {
            Err(ApiError::new(StatusCode::CONFLICT, error.code(), error.to_string())
                .with_extra("current", current.map_or(serde_json::Value::Null, state))
                .with_extra("attempted", attempted))
        }
    }
}

fn state(c: CurrentStatus) -> serde_json::Value {
    json!({"status": c.status.code(), "at": c.at})
}

fn view(code: &MaHoSo, r: &RecordedStatus, duplicate: bool) -> serde_json::Value {
    json!({
        "dossier": code,
        "event_id": r.event_id,
        "recorded_at": r.recorded_at,
        "duplicate": duplicate,
    })
}
