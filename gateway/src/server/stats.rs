//! `GET /v1/stats?agency=&from=&to=`: how many dossiers each agency received,
//! finished on time and late, and holds open and overdue, per procedure.
//!
//! Received counts `NgayTiepNhan` in `[from, to)`; finished on time and late count
//! the finish of processing in the window against the effective due date (the
//! DVCQG rule, `schemas::timeliness`); open and overdue are judged at `to`, which
//! is never later than now. Both ends are optional (the start of time; now) and
//! take any date form of the dossier dialect. Any member may read the figures:
//! they are aggregates, with no dossier codes and no personal data.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::{Request, StatusCode};
use hyper::body::Incoming;
use schemas::{AgencyId, VnDateTime};
use serde::Serialize;

use super::{json, AppState, Handled};
use crate::error::ApiError;
use crate::store::{Figures, StatsWindow};

const ROUTE: &str = "/v1/stats";

#[derive(Serialize)]
struct ProcedureFigures {
    procedure: String,
    #[serde(flatten)]
    figures: Figures,
}

#[derive(Serialize)]
struct AgencyFigures {
    agency: String,
    #[serde(flatten)]
    figures: Figures,
    procedures: Vec<ProcedureFigures>,
}

#[derive(Serialize)]
struct Report {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    total: Figures,
    agencies: Vec<AgencyFigures>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message)
}

fn instant(name: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    VnDateTime::parse(v).map(|t| t.to_utc()).map_err(|_| bad(format!("{name} is not a date")))
}

fn window(query: &str) -> Result<(StatsWindow, Option<AgencyId>), ApiError> {
    let now = Utc::now();
    let (mut from, mut to, mut agency) = (DateTime::<Utc>::UNIX_EPOCH, now, None);
    for (k, v) in super::query_params(query)? {
        match k.as_str() {
            _ if v.is_empty() => {}
            "from" => from = instant("from", &v)?,
            "to" => to = instant("to", &v)?.min(now),
            "agency" => agency = Some(AgencyId::parse(&v).map_err(|_| bad("agency is not an agency id"))?),
            other => return Err(bad(format!("unknown parameter {other}; use agency, from or to"))),
        }
    }
    if from > to {
        return Err(bad("from is after to"));
    }
    Ok((StatsWindow { from, to }, agency))
}

/// Handles a statistics read.
pub(crate) async fn stats(st: &Arc<AppState>, req: Request<Incoming>, cid: &str) -> Handled {
    let Some(member) = st.members.get().authenticate(req.headers(), req.extensions().get()).cloned() else {
        return Handled { route: ROUTE, member: "anonymous".into(), result: Err(ApiError::unauthenticated()) };
    };
    let result = async {
        st.limits.get().check(member.id.as_str(), crate::limits::Class::Read)?;
        let (w, agency) = window(req.uri().query().unwrap_or_default())?;
        let timer = st.metrics.store_duration.with_label_values(&["stats"]).start_timer();
        let rows = st.store.stats(w, agency.as_ref()).await;
        timer.observe_duration();
        let rows = rows.map_err(|e| {
            tracing::error!(error = %e, "store read failed");
            ApiError::unavailable("the store is unavailable")
        })?;
        let mut total = Figures::default();
        let mut by_agency: BTreeMap<String, AgencyFigures> = BTreeMap::new();
        for r in rows {
            total.add(&r.figures);
            let a = by_agency.entry(r.agency.clone()).or_insert_with(|| AgencyFigures {
                agency: r.agency.clone(),
                figures: Figures::default(),
                procedures: Vec::new(),
            });
            a.figures.add(&r.figures);
            a.procedures.push(ProcedureFigures { procedure: r.procedure, figures: r.figures });
        }
        let report = Report { from: w.from, to: w.to, total, agencies: by_agency.into_values().collect() };
        Ok(json(StatusCode::OK, &report, cid))
    }
    .await;
    Handled { route: ROUTE, member: member.id.to_string(), result }
}

/// Sets `lienthong_dossiers{agency,timeliness}` from the store: every dossier,
/// judged now.
pub(crate) async fn refresh_gauges(st: &AppState) {
    st.metrics.ready.set(i64::from(super::readiness_problems(st).await.is_empty()));
    if let Ok(g) = st.store.gauges().await {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        for agency in st.config.agencies.keys() {
            let count = g.dead_letters.iter().find(|(a, _)| a == agency).map_or(0, |(_, c)| *c);
            st.metrics.dead_letters.with_label_values(&[agency]).set(n(count));
        }
        for (member, lag) in &g.feed_lag {
            // Only configured members: the label set stays bounded.
            if st.members.get().contains(member) {
                st.metrics.feed_lag.with_label_values(&[member]).set(n(*lag));
            }
        }
    }
    let w = StatsWindow { from: DateTime::<Utc>::UNIX_EPOCH, to: Utc::now() };
    let Ok(rows) = st.store.stats(w, None).await else { return };
    let mut by_agency: BTreeMap<String, Figures> = BTreeMap::new();
    for r in rows {
        by_agency.entry(r.agency).or_default().add(&r.figures);
    }
    for (agency, f) in by_agency {
        let set = |label: &str, v: u64| {
            st.metrics.dossiers.with_label_values(&[&agency, label]).set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        set("on_time", f.finished_on_time);
        set("late", f.finished_late);
        set("within_time", f.open.saturating_sub(f.overdue));
        set("overdue", f.overdue);
    }
}
