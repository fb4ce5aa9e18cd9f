//! The status side of the SQLite store: lifecycle in the transaction, feeds,
//! the status outbox, retention, and the on-time figures against
//! `schemas::timeliness`.

use super::tests::{new_dossier, store};
use super::*;
use crate::store::{FeedEntry, Figures, RecordedStatus};
use schemas::timeliness::{self, Timeliness};
use schemas::{StatusEvent, TrangThaiHoSo, VnDateTime};

const CODE: &str = "000.00.31.H29-261122-0001";

fn t(s: &str) -> VnDateTime {
    VnDateTime::parse(s).unwrap()
}

fn ev(code: &str, status: u8, at: &str) -> StatusEvent {
    StatusEvent::new(MaHoSo::parse(code).unwrap(), TrangThaiHoSo::from_code(status).unwrap(), t(at))
}

fn post(event: StatusEvent) -> NewStatus {
    NewStatus {
        event,
        reported_by: "portal-a".into(),
        polled: false,
        recipients: vec!["portal-a".into(), "moj-bo".into(), "portal-a".into()],
        sync_to: Some(AgencyId::parse("dvcqg").unwrap()),
        correlation_id: "c".into(),
    }
}

async fn accepted(s: &SqliteStore, event: StatusEvent) -> RecordedStatus {
    match s.record_status(post(event)).await.unwrap() {
        StatusOutcome::Accepted(r) => r,
        other => panic!("not accepted: {other:?}"),
    }
}

async fn entries(s: &SqliteStore, member: &str, after: u64, limit: usize) -> Vec<FeedEntry> {
    match s.feed(member, Some(after), limit).await.unwrap() {
        FeedPage::Entries(e) => e,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_lifecycle_is_enforced_in_the_transaction() {
    let (_d, s) = store();
    s.submit(new_dossier(CODE, "portal-a", 1)).await.unwrap();
    let refused = s.record_status(post(ev(CODE, 10, "20261122090000"))).await.unwrap();
    assert!(
        matches!(&refused, StatusOutcome::Refused { error, current: None } if error.code() == "status_first_invalid"),
        "{refused:?}"
    );
    let first = accepted(&s, ev(CODE, 2, "20261122090000")).await;
    let second = accepted(&s, ev(CODE, 4, "20261122100000")).await;
    assert!(second.event_id > first.event_id);
    assert_eq!(first.recipients, ["portal-a", "moj-bo"], "recipients once each");

    // The exact same event again, even when it is no longer the last one.
    for (event, id) in
        [(ev(CODE, 4, "20261122100000"), second.event_id), (ev(CODE, 2, "20261122090000"), first.event_id)]
    {
        match s.record_status(post(event)).await.unwrap() {
            StatusOutcome::Duplicate(r) => assert_eq!(r.event_id, id),
            other => panic!("{other:?}"),
        }
    }
    let before = s.record_status(post(ev(CODE, 5, "20261122095959"))).await.unwrap();
    let StatusOutcome::Refused { error, current: Some(current) } = before else { panic!("{before:?}") };
    assert_eq!(error.code(), "status_time_before_previous");
    assert_eq!((current.status, current.at), (TrangThaiHoSo::DangXuLy, t("20261122100000")));
    let missing = s.record_status(post(ev("000.00.31.H29-261122-0002", 2, "20261122090000"))).await.unwrap();
    assert_eq!(missing, StatusOutcome::UnknownDossier);

    let d = s.dossier(&MaHoSo::parse(CODE).unwrap()).await.unwrap().unwrap();
    assert_eq!(d.history.len(), 2, "refusals and duplicates leave no trace");
    assert_eq!(d.current.unwrap().status, TrangThaiHoSo::DangXuLy);
    for m in ["portal-a", "moj-bo"] {
        let seqs: Vec<u64> = entries(&s, m, 0, 100).await.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2], "{m}");
    }
    assert!(entries(&s, "someone-else", 0, 100).await.is_empty());
}

#[tokio::test]
async fn a_polled_event_with_the_same_state_and_time_is_the_same_event() {
    let (_d, s) = store();
    s.submit(new_dossier(CODE, "portal-a", 1)).await.unwrap();
    accepted(&s, ev(CODE, 2, "20261122090000")).await;
    let mut posted = ev(CODE, 4, "20261122100000");
    posted.content = Some("Thụ lý".into());
    accepted(&s, posted).await;
    // The agency's wire dropped the content: a post would conflict, a poll is a repeat.
    let mut polled = post(ev(CODE, 4, "20261122100000"));
    polled.polled = true;
    assert!(matches!(s.record_status(polled).await.unwrap(), StatusOutcome::Duplicate(_)));
}

#[tokio::test]
async fn feeds_page_by_position_and_status_deliveries_wait_their_turn() {
    let (_d, s) = store();
    s.submit(new_dossier(CODE, "portal-a", 1)).await.unwrap();
    let mut ids = Vec::new();
    for (i, (status, at)) in [(2, "20261122090000"), (4, "20261122100000"), (5, "20261122110000")].iter().enumerate() {
        ids.push(accepted(&s, ev(CODE, *status, at)).await.event_id);
        assert_eq!(entries(&s, "portal-a", 0, 100).await.len(), i + 1);
    }
    let page = entries(&s, "portal-a", 1, 1).await;
    assert_eq!((page.len(), page[0].seq, page[0].event_id), (1, 2, ids[1]));
    assert_eq!(entries(&s, "portal-a", 3, 10).await, Vec::new());

    // The dossier's own delivery to dvcqg comes first; its status updates follow
    // one at a time, in order.
    let now = Utc::now() + chrono::Duration::seconds(1);
    let lease = Duration::from_secs(60);
    let jobs = s.claim_due(now, 10, lease, None).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].event_json.is_none());
    s.record_attempt(jobs[0].id, AttemptResult::Delivered { agency_ref: None }).await.unwrap();
    for id in &ids {
        let jobs = s.claim_due(now, 10, lease, None).await.unwrap();
        assert_eq!(jobs.len(), 1, "one status update at a time");
        let event: StatusEvent = serde_json::from_str(jobs[0].event_json.as_deref().unwrap()).unwrap();
        let d = s.dossier(&MaHoSo::parse(CODE).unwrap()).await.unwrap().unwrap();
        assert_eq!(d.deliveries.iter().find(|x| x.event_id == Some(*id)).unwrap().state, DeliveryState::Queued);
        assert_eq!(event.dossier.as_str(), CODE);
        let retry = AttemptResult::Retry { error: "busy".into(), next_attempt_at: now };
        s.record_attempt(jobs[0].id, retry).await.unwrap();
        let again = s.claim_due(now, 10, lease, None).await.unwrap();
        assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), [jobs[0].id], "a retry keeps its place");
        s.record_attempt(jobs[0].id, AttemptResult::Delivered { agency_ref: None }).await.unwrap();
    }
    assert!(s.claim_due(now, 10, lease, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn pruning_keeps_a_contiguous_tail_and_old_cursors_expire() {
    let (_d, s) = store();
    s.submit(new_dossier(CODE, "portal-a", 1)).await.unwrap();
    accepted(&s, ev(CODE, 2, "20261122090000")).await;
    accepted(&s, ev(CODE, 4, "20261122100000")).await;
    let cut = Utc::now() + chrono::Duration::milliseconds(5);
    tokio::time::sleep(Duration::from_millis(10)).await;
    accepted(&s, ev(CODE, 5, "20261122110000")).await;
    assert_eq!(s.prune_feeds(cut, 100).await.unwrap(), 4, "two entries of each of two members");
    assert_eq!(s.feed("portal-a", Some(0), 10).await.unwrap(), FeedPage::Expired { floor: 2 });
    let FeedPage::Entries(from_start) = s.feed("portal-a", None, 10).await.unwrap() else { panic!() };
    assert_eq!(from_start.iter().map(|e| e.seq).collect::<Vec<_>>(), [3], "the start is the oldest entry kept");
    assert_eq!(s.feed("portal-a", Some(1), 10).await.unwrap(), FeedPage::Expired { floor: 2 });
    let rest = entries(&s, "portal-a", 2, 10).await;
    assert_eq!(rest.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);
    assert_eq!(s.prune_feeds(cut, 100).await.unwrap(), 0, "pruning again removes nothing");
    let d = s.dossier(&MaHoSo::parse(CODE).unwrap()).await.unwrap().unwrap();
    assert_eq!(d.history.len(), 3, "the history keeps every event");
}

#[tokio::test]
async fn a_feed_prune_removes_about_its_limit_oldest_first_and_the_task_removes_the_rest() {
    let (_d, s) = store();
    s.submit(new_dossier(CODE, "portal-a", 1)).await.unwrap();
    // Each event adds one entry to each of two feeds, in its own millisecond.
    for (status, at) in [(2, "20261122090000"), (4, "20261122100000"), (5, "20261122110000")] {
        accepted(&s, ev(CODE, status, at)).await;
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let cut = Utc::now();
    tokio::time::sleep(Duration::from_millis(3)).await;
    accepted(&s, ev(CODE, 6, "20261122120000")).await;
    assert_eq!(s.prune_feeds(cut, 1).await.unwrap(), 1, "one call removes its limit");
    assert_eq!(s.prune_feeds(cut, 2).await.unwrap(), 2, "the oldest first");
    let floor = |m: &'static str| {
        let s = &s;
        async move {
            match s.feed(m, Some(0), 10).await.unwrap() {
                FeedPage::Expired { floor } => floor,
                other => panic!("{m}: {other:?}"),
            }
        }
    };
    // Both feeds' first entries, then one of the second event's two, which
    // share a millisecond: each feed keeps a contiguous tail.
    let mut floors = [floor("portal-a").await, floor("moj-bo").await];
    floors.sort_unstable();
    assert_eq!(floors, [1, 2]);
    // The prune task calls again until a call removes fewer than its batch.
    assert_eq!(crate::feed::prune_once(&s, cut, 1).await.unwrap(), 3);
    assert_eq!(crate::feed::prune_once(&s, cut, 1).await.unwrap(), 0);
    for m in ["portal-a", "moj-bo"] {
        assert_eq!(floor(m).await, 3, "{m}");
        assert_eq!(entries(&s, m, 3, 10).await.iter().map(|e| e.seq).collect::<Vec<_>>(), [4], "{m}");
    }
}

/// One dossier per case, each with its own procedure code, so that each row of
/// the figures is one case.
struct Case {
    due: &'static str,
    /// Events after the dossier's receipt (2 at the receipt time is added).
    events: Vec<StatusEvent>,
}

fn finished(code: &str, due: &'static str, at: &'static str) -> Case {
    Case { due, events: vec![ev(code, 9, at)] }
}

#[tokio::test]
async fn figures_follow_the_timeliness_rule_across_zones_and_day_boundaries() {
    let (_d, s) = store();
    let now = VnDateTime::now();
    let code = |i: usize| format!("000.00.31.H29-261122-{i:04}");
    let mut moved = ev(&code(6), 5, "2026-11-23T09:00:00+07:00");
    moved.new_due_at = Some(t("2026-11-28 17:00:00"));
    let mut moved_by_finish = ev(&code(7), 9, "2026-11-26T09:00:00+07:00");
    moved_by_finish.new_due_at = Some(t("2026-11-30 17:00:00"));
    let cases = [
        // Due 17:00 Vietnam time; the finish written in UTC.
        finished(&code(0), "2026-11-25 17:00:00", "2026-11-25T10:00:00Z"),
        finished(&code(1), "2026-11-25 17:00:00", "2026-11-25T10:00:01Z"),
        // A bare due date is local midnight at the start of that day.
        finished(&code(2), "2026-11-25", "2026-11-24T23:59:59+07:00"),
        finished(&code(3), "2026-11-25", "2026-11-24T17:00:00Z"),
        finished(&code(4), "2026-11-25", "2026-11-24T17:00:00.000000001Z"),
        // 22:30 on the 25th in UTC-5 is 10:30 on the 26th in Vietnam.
        finished(&code(5), "2026-11-26 11:00:00", "2026-11-25T22:30:00-05:00"),
        Case { due: "2026-11-25 17:00:00", events: vec![moved, ev(&code(6), 9, "2026-11-27T08:00:00+07:00")] },
        Case { due: "2026-11-25 17:00:00", events: vec![moved_by_finish] },
        Case { due: "2000-01-01", events: vec![] },
        Case { due: "2199-01-01", events: vec![] },
    ];
    for (i, case) in cases.iter().enumerate() {
        let mut d = new_dossier(&code(i), "portal-a", 1);
        d.procedure_code = format!("1.{i:06}");
        d.received_at = t("2026-11-22 08:00:00").to_utc();
        d.due_at = t(case.due).to_utc();
        s.submit(d).await.unwrap();
        accepted(&s, ev(&code(i), 2, "2026-11-22 08:00:00")).await;
        for e in &case.events {
            accepted(&s, e.clone()).await;
        }
    }
    let window = StatsWindow { from: DateTime::<Utc>::UNIX_EPOCH, to: now.to_utc() };
    let rows = s.stats(window, None).await.unwrap();
    assert_eq!(rows.len(), cases.len());
    let mut verdicts = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let mut history = vec![ev(&code(i), 2, "2026-11-22 08:00:00")];
        history.extend(case.events.iter().cloned());
        let expected = timeliness::schedule(&t(case.due), &history).classify(&now);
        let f = rows.iter().find(|r| r.procedure == format!("1.{i:06}")).unwrap().figures;
        let got = match (f.finished_on_time, f.finished_late, f.open, f.overdue) {
            (1, 0, 0, 0) => Timeliness::OnTime,
            (0, 1, 0, 0) => Timeliness::Late,
            (0, 0, 1, 0) => Timeliness::WithinTime,
            (0, 0, 1, 1) => Timeliness::Overdue,
            other => panic!("case {i}: {other:?}"),
        };
        assert_eq!(got, expected, "case {i}");
        assert_eq!(f.received, 1);
        verdicts.push(got);
    }
    use Timeliness::*;
    assert_eq!(verdicts, [OnTime, Late, OnTime, OnTime, Late, OnTime, OnTime, Late, Overdue, WithinTime]);

    // The window: nothing received or finished before it; open judged at its end.
    let early = StatsWindow { from: DateTime::<Utc>::UNIX_EPOCH, to: t("2026-11-22 08:00:00").to_utc() };
    assert!(s.stats(early, None).await.unwrap().is_empty(), "received at the end of the window is outside it");
    let mid = StatsWindow { from: t("2026-11-25 00:00:00").to_utc(), to: t("2026-11-26 00:00:00").to_utc() };
    let total = s.stats(mid, None).await.unwrap().iter().fold(Figures::default(), |mut acc, r| {
        acc.add(&r.figures);
        acc
    });
    assert_eq!(total.received, 0);
    assert_eq!(
        (total.finished_on_time, total.finished_late),
        (2, 2),
        "cases 0, 1, 3 and 4 finished on the 25th in Vietnam; 2 just before it, 5 just after"
    );
    let only = s.stats(window, Some(&AgencyId::parse("moj").unwrap())).await.unwrap();
    assert!(only.is_empty(), "every case is decided by dvcqg");
}

#[tokio::test]
async fn dossiers_stored_before_the_status_columns_get_their_dates_from_their_canonical_form() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let body = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/examples/khai-sinh.json")).unwrap();
    let dossier = schemas::dossier_from_json(&body).unwrap();
    {
        // A database as version 1 of the schema left it, with one dossier.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(crate::store::migrations::V1).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL);
             INSERT INTO schema_migrations VALUES (1, 0);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO dossiers (code, sender, agency, procedure_code, content_hash, media_type, body, canonical,
                                   receipt, correlation_id, accepted_at_ms)
             VALUES (?1, 'portal-a', 'moj', ?2, x'00', 'application/json', x'00', ?3, ?4, 'c', 0)",
            params![
                dossier.code.as_str(),
                dossier.procedure_code.as_str(),
                serde_json::to_string(&dossier).unwrap(),
                serde_json::to_string(&new_dossier(dossier.code.as_str(), "portal-a", 1).receipt).unwrap()
            ],
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    let window = StatsWindow { from: DateTime::<Utc>::UNIX_EPOCH, to: Utc::now() };
    let rows = s.stats(window, None).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].figures.received, 1, "the received date was filled in");
    let expected_overdue = u64::from(dossier.due_at.to_utc() < window.to);
    assert_eq!((rows[0].figures.open, rows[0].figures.overdue), (1, expected_overdue), "and the due date");
    let d = s.dossier(&dossier.code).await.unwrap().unwrap();
    assert_eq!(d.due_at, Some(dossier.due_at.to_utc()));
}

#[tokio::test]
async fn a_read_position_never_passes_the_feeds_end_nor_moves_back() {
    let (_d, s) = store();
    s.submit(new_dossier(CODE, "portal-a", 1)).await.unwrap();
    for (state, at) in [(2, "2026-11-22T09:00:00+07:00"), (4, "2026-11-22T10:00:00+07:00")] {
        accepted(&s, ev(CODE, state, at)).await;
    }
    let lag = |g: crate::store::Gauges| g.feed_lag.into_iter().find(|(m, _)| m == "portal-a").map(|(_, l)| l);
    assert_eq!(lag(s.gauges().await.unwrap()), Some(2));
    s.ack_feed("portal-a", 1).await.unwrap();
    assert_eq!(lag(s.gauges().await.unwrap()), Some(1));
    // A cursor beyond the end (it is the client's) counts as the end, not further.
    s.ack_feed("portal-a", 1_000).await.unwrap();
    assert_eq!(lag(s.gauges().await.unwrap()), Some(0));
    accepted(&s, ev(CODE, 9, "2026-11-22T11:00:00+07:00")).await;
    assert_eq!(lag(s.gauges().await.unwrap()), Some(1), "a new event is still to read");
    s.ack_feed("portal-a", 1).await.unwrap();
    assert_eq!(lag(s.gauges().await.unwrap()), Some(1), "never moves back");
}
