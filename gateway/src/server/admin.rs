//! Operators' endpoints: `GET /v1/admin/dead-letters` lists the deliveries that
//! failed for good, with their last error; `POST /v1/admin/dead-letters/{id}/replay`
//! queues one again once its cause is fixed.

use std::sync::Arc;

use http::{Request, StatusCode};
use hyper::body::Incoming;
use serde_json::json;

use super::{json, query_params, AppState, Handled};
use crate::auth::Member;
use crate::config::Role;
use crate::error::ApiError;

const LIST: &str = "/v1/admin/dead-letters";
const REPLAY: &str = "/v1/admin/dead-letters/{id}/replay";

/// The calling operator, or who was refused and why.
fn operator(st: &AppState, req: &Request<Incoming>) -> Result<Member, Box<(String, ApiError)>> {
    let Some(member) = st.members.get().authenticate(req.headers(), req.extensions().get()).cloned() else {
        return Err(Box::new(("anonymous".into(), ApiError::unauthenticated())));
    };
    if member.role != Role::Operator {
        let e = ApiError::new(StatusCode::FORBIDDEN, "operator_only", "only operators may do this");
        return Err(Box::new((member.id.to_string(), e)));
    }
    Ok(member)
}

fn store_down(e: crate::store::StoreError) -> ApiError {
    tracing::error!(error = %e, "store failed on an operator request");
    ApiError::unavailable("the store is unavailable")
}

/// Lists dead letters, `limit` (default 100, at most 1000) after id `after`.
pub(crate) async fn list(st: &Arc<AppState>, req: Request<Incoming>, cid: &str) -> Handled {
    let member = match operator(st, &req) {
        Ok(m) => m,
        Err(refused) => {
            let (member, e) = *refused;
            return Handled { route: LIST, member, result: Err(e) };
        }
    };
    let result = async {
        let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", m.to_owned());
        let (mut after, mut limit) = (0i64, 100usize);
        for (k, v) in query_params(req.uri().query().unwrap_or_default())? {
            match k.as_str() {
                "after" => after = v.parse().map_err(|_| bad("after must be a delivery id"))?,
                "limit" => {
                    limit = v
                        .parse()
                        .ok()
                        .filter(|l| (1..=1000).contains(l))
                        .ok_or_else(|| bad("limit must be from 1 to 1000"))?
                }
                other => return Err(bad(&format!("unknown parameter {other}; use after or limit"))),
            }
        }
        let letters = st.store.dead_letters(after, limit).await.map_err(store_down)?;
        let next = letters.last().map(|l| l.id);
        Ok(json(StatusCode::OK, &json!({"dead_letters": letters, "next": next}), cid))
    }
    .await;
    Handled { route: LIST, member: member.id.to_string(), result }
}

/// Queues dead letter `id` again.
pub(crate) async fn replay(st: &Arc<AppState>, req: Request<Incoming>, id: &str, cid: &str) -> Handled {
    let member = match operator(st, &req) {
        Ok(m) => m,
        Err(refused) => {
            let (member, e) = *refused;
            return Handled { route: REPLAY, member, result: Err(e) };
        }
    };
    let result = async {
        let missing = || ApiError::new(StatusCode::NOT_FOUND, "not_a_dead_letter", "no dead letter with this id");
        let id: i64 = id.parse().map_err(|_| missing())?;
        let letter = st.store.replay(id).await.map_err(store_down)?.ok_or_else(missing)?;
        tracing::info!(operator = %member.id, delivery = id, agency = %letter.agency, "dead letter replayed");
        st.metrics.dead_letter_replays.with_label_values(&[&letter.agency]).inc();
        st.backlog.queued(std::iter::once(letter.agency.as_str()));
        st.wake.notify_waiters();
        Ok(json(StatusCode::OK, &json!({"replayed": letter}), cid))
    }
    .await;
    Handled { route: REPLAY, member: member.id.to_string(), result }
}
