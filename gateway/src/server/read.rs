//! `GET /v1/dossiers/{code}`: the canonical dossier, its deliveries and history,
//! for the sender, the target agency and operators only.

use std::sync::Arc;

use http::{Request, StatusCode};
use hyper::body::Incoming;
use schemas::MaHoSo;
use serde::Serialize;

use super::{json, AppState, Handled};
use crate::config::Role;
use crate::error::ApiError;
use crate::store::{CurrentStatus, DeliveryInfo, DeliveryState, HistoryEntry, Receipt, StoredDossier};

const ROUTE: &str = "/v1/dossiers/{code}";

#[derive(Serialize)]
struct DossierView<'a> {
    dossier: serde_json::Value,
    sender: &'a str,
    agency: &'a str,
    receipt: &'a Receipt,
    delivery_state: Option<DeliveryState>,
    deliveries: &'a [DeliveryInfo],
    history: &'a [HistoryEntry],
    status: Option<StatusView>,
    due_at: Option<chrono::DateTime<chrono::Utc>>,
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
    timeliness: Option<&'static str>,
}

/// Where the dossier's processing stands.
#[derive(Serialize)]
struct StatusView {
    code: u8,
    label: &'static str,
    at: schemas::VnDateTime,
}

impl From<CurrentStatus> for StatusView {
    fn from(c: CurrentStatus) -> Self {
        Self { code: c.status.code(), label: c.status.label(), at: c.at }
    }
}

/// On time, late, within time or overdue, judged now.
fn timeliness(stored: &StoredDossier) -> Option<&'static str> {
    let due = schemas::VnDateTime::from_utc(stored.due_at?);
    let finished = stored.finished_at.map(schemas::VnDateTime::from_utc);
    Some(schemas::timeliness::classify(&due, finished.as_ref(), &schemas::VnDateTime::now()).label())
}

/// Handles a dossier read.
pub(crate) async fn dossier(st: &Arc<AppState>, req: Request<Incoming>, code: &str, cid: &str) -> Handled {
    let Some(member) = st.members.get().authenticate(req.headers(), req.extensions().get()).cloned() else {
        return Handled { route: ROUTE, member: "anonymous".into(), result: Err(ApiError::unauthenticated()) };
    };
    let result = async {
        st.limits.get().check(member.id.as_str(), crate::limits::Class::Read)?;
        let code = MaHoSo::parse(code).map_err(|_| ApiError::not_found("no dossier with this code"))?;
        let timer = st.metrics.store_duration.with_label_values(&["read_dossier"]).start_timer();
        let found = st.store.dossier(&code).await;
        timer.observe_duration();
        let stored = found
            .map_err(|e| {
                tracing::error!(error = %e, "store read failed");
                ApiError::unavailable("the store is unavailable")
            })?
            .ok_or_else(|| ApiError::not_found("no dossier with this code"))?;
        let allowed = member.role == Role::Operator
            || stored.sender == member.id.as_str()
            || (member.role == Role::Ministry && member.agency.as_ref().is_some_and(|a| a.as_str() == stored.agency));
        if !allowed {
            return Err(ApiError::forbidden("only the sender, the target agency and operators may read this dossier"));
        }
        let dossier = serde_json::from_str(&stored.canonical_json).map_err(|_| ApiError::internal())?;
        let view = DossierView {
            dossier,
            sender: &stored.sender,
            agency: &stored.agency,
            receipt: &stored.receipt,
            delivery_state: stored.deliveries.first().map(|d| d.state),
            deliveries: &stored.deliveries,
            history: &stored.history,
            status: stored.current.map(StatusView::from),
            due_at: stored.due_at,
            finished_at: stored.finished_at,
            timeliness: timeliness(&stored),
        };
        Ok(json(StatusCode::OK, &view, cid))
    }
    .await;
    Handled { route: ROUTE, member: member.id.to_string(), result }
}
