//! `GET /v1/feed?after=CURSOR&limit=N&wait=SECONDS`: the status events addressed
//! to the calling member, in the order they were accepted, one page at a time.
//!
//! With `wait`, an empty read waits (long-polls) until an event arrives for the
//! member or the wait ends; the answer then is an empty page with the same
//! cursor. Operators may read any member's feed with `member=`; anyone else only
//! their own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Request, StatusCode};
use hyper::body::Incoming;
use serde::Serialize;
use serde_json::value::RawValue;

use super::{json, AppState, Handled};
use crate::auth::Member;
use crate::config::Role;
use crate::error::ApiError;
use crate::feed::{decode_cursor, encode_cursor, CursorError};
use crate::store::{FeedEntry, FeedPage};

const ROUTE: &str = "/v1/feed";

/// A page size when the request names none.
const DEFAULT_LIMIT: usize = 100;

/// One event in a page.
#[derive(Serialize)]
struct Item<'a> {
    cursor: String,
    event_id: i64,
    /// `null` for a notice about an agency rather than one dossier.
    dossier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a RawValue>,
    /// A delivery that failed for good (`kind`, `agency`, `error`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    notice: Option<&'a RawValue>,
    reported_by: &'a str,
    recorded_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize)]
struct Page<'a> {
    member: &'a str,
    events: Vec<Item<'a>>,
    /// The cursor to read on from; `null` while an empty feed is read from its start.
    next: Option<String>,
    more: bool,
}

struct Query {
    after: Option<String>,
    limit: usize,
    wait: Duration,
    member: Option<String>,
}

fn bad_query(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message)
}

fn parse_query(st: &AppState, query: &str) -> Result<Query, ApiError> {
    let max_limit = st.config.status.feed_max_limit;
    let mut q = Query { after: None, limit: DEFAULT_LIMIT.min(max_limit), wait: Duration::ZERO, member: None };
    for (k, v) in super::query_params(query)? {
        match k.as_str() {
            "after" if !v.is_empty() => q.after = Some(v),
            "after" => {}
            "limit" => {
                q.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=max_limit).contains(l))
                    .ok_or_else(|| bad_query(format!("limit must be a whole number from 1 to {max_limit}")))?;
            }
            "wait" => {
                let secs = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| bad_query("wait must be a number of seconds, 0 or more"))?;
                q.wait = Duration::from_secs_f64(secs.min(st.config.status.feed_max_wait.as_secs_f64()));
            }
            "member" => q.member = Some(v),
            other => return Err(bad_query(format!("unknown parameter {other}; use after, limit, wait or member"))),
        }
    }
    Ok(q)
}

/// Handles a feed read.
pub(crate) async fn read(st: &Arc<AppState>, req: Request<Incoming>, cid: &str) -> Handled {
    let Some(member) = st.members.get().authenticate(req.headers(), req.extensions().get()).cloned() else {
        return Handled { route: ROUTE, member: "anonymous".into(), result: Err(ApiError::unauthenticated()) };
    };
    let result = run(st, &member, req.uri().query().unwrap_or_default(), cid).await;
    Handled { route: ROUTE, member: member.id.to_string(), result }
}

async fn run(
    st: &Arc<AppState>,
    member: &Member,
    query: &str,
    cid: &str,
) -> Result<http::Response<http_body_util::Full<bytes::Bytes>>, ApiError> {
    st.limits.get().check(member.id.as_str(), crate::limits::Class::Read)?;
    let q = parse_query(st, query)?;
    let feed_of = match &q.member {
        Some(m) if m != member.id.as_str() && member.role != Role::Operator => {
            return Err(ApiError::forbidden("a member may only read its own feed"));
        }
        Some(m) => m.clone(),
        None => member.id.to_string(),
    };
    let after = match &q.after {
        None => None,
        Some(c) => Some(decode_cursor(&feed_of, c).map_err(|e| match e {
            CursorError::Invalid => ApiError::new(StatusCode::BAD_REQUEST, "feed_cursor_invalid", e.to_string()),
            CursorError::OtherMember => ApiError::forbidden("the cursor belongs to another member's feed"),
        })?),
    };
    let deadline = Instant::now() + q.wait;
    let hub = st.status.hub().clone();
    // Reading after a position acknowledges everything up to it (the member's
    // own reads only), for its lag; stored off the request path.
    if let Some(seq) = after.filter(|_| feed_of == member.id.as_str()) {
        if hub.read_up_to(&feed_of, seq) {
            let (store, who) = (st.store.clone(), feed_of.clone());
            tokio::spawn(async move {
                if let Err(e) = store.ack_feed(&who, seq).await {
                    tracing::debug!(error = %e, "cannot store a feed's read position");
                }
            });
        }
    }
    // Subscribed before the first read, so an event added between a read and the
    // wait still wakes it.
    let mut changes = hub.subscribe(&feed_of);
    let entries = loop {
        changes.borrow_and_update();
        let timer = st.metrics.store_duration.with_label_values(&["read_feed"]).start_timer();
        let page = st.store.feed(&feed_of, after, q.limit + 1).await;
        timer.observe_duration();
        let page = page.map_err(|e| {
            tracing::error!(error = %e, "store read failed");
            ApiError::unavailable("the store is unavailable")
        })?;
        let entries = match page {
            FeedPage::Expired { floor } => return Err(expired(st, &feed_of, floor)),
            FeedPage::Entries(e) => e,
        };
        let now = Instant::now();
        if !entries.is_empty() || now >= deadline || hub.is_closed() {
            break entries;
        }
        // Woken by a post, by shutdown, or by the end of the wait.
        let _ = tokio::time::timeout(deadline - now, changes.changed()).await;
    };
    page(&feed_of, after, q.limit, &entries, cid)
}

fn expired(st: &AppState, member: &str, floor: u64) -> ApiError {
    let days = st.config.status.feed_retention.as_secs_f64() / 86_400.0;
    ApiError::new(
        StatusCode::GONE,
        "feed_cursor_expired",
        format!(
            "events after this cursor are older than the feed's retention ({days:.1} days) and were removed; \
             read from the start (no after) to resume at the oldest event kept"
        ),
    )
    .with_extra("oldest_cursor", serde_json::Value::String(encode_cursor(member, floor)))
}

fn page(
    member: &str,
    after: Option<u64>,
    limit: usize,
    entries: &[FeedEntry],
    cid: &str,
) -> Result<http::Response<http_body_util::Full<bytes::Bytes>>, ApiError> {
    let more = entries.len() > limit;
    let shown = &entries[..entries.len().min(limit)];
    let mut events = Vec::with_capacity(shown.len());
    for e in shown {
        let body: &RawValue = serde_json::from_str(&e.event_json).map_err(|_| ApiError::internal())?;
        let (event, notice) = if e.notice { (None, Some(body)) } else { (Some(body), None) };
        events.push(Item {
            cursor: encode_cursor(member, e.seq),
            event_id: e.event_id,
            dossier: e.dossier_code.as_deref(),
            event,
            notice,
            reported_by: &e.reported_by,
            recorded_at: e.recorded_at,
        });
    }
    // From the start of an empty feed, the next read starts from the start too.
    let next = match (shown.last(), after) {
        (Some(e), _) => Some(encode_cursor(member, e.seq)),
        (None, Some(a)) => Some(encode_cursor(member, a)),
        (None, None) => None,
    };
    Ok(json(StatusCode::OK, &Page { member, events, next, more }, cid))
}
