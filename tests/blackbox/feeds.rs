//! Feeds end to end: long-polls woken by a post and ended by their wait, cursors
//! that survive a restart, each member confined to its own feed, retention, and
//! 10,000 events across many dossiers and members read back page by page.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Semaphore;

use adapters::dvcqg::DvcqgSimulator;

use crate::status::item;
use crate::support::*;

/// A dossier for agency `other` (procedure 3.000181) or DVCQG (1.001193).
fn dossier_for(code: &str, other: bool) -> String {
    json_dossier_of(code, if other { "3.000181" } else { "1.001193" })
}

fn event_ids(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["event_id"].as_i64().unwrap()).collect()
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// No status sync to DVCQG: these tests are about feeds, not the outbox.
fn feed_options(extra: &str) -> Options {
    Options { delivery_extra: "status_sync_agency = \"\"".into(), extra: extra.into(), ..Options::default() }
}

const CODE: &str = "000.00.31.H29-261122-0001";

/// A gateway with `extra` configuration, where portal-h29 has submitted [`CODE`].
async fn gateway_with_a_dossier(extra: &str) -> (DvcqgSimulator, tempfile::TempDir, GatewayProcess, Api) {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &feed_options(extra))).await;
    let api = Api::new(&gw.url);
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", dossier_for(CODE, false)).await.0, 202);
    (sim, dir, gw, api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_wakes_on_a_post_and_ends_empty_at_its_wait() {
    let (_sim, _dir, _gw, api) = gateway_with_a_dossier("").await;
    let code = CODE;

    // An empty feed from its start: no events, and no cursor yet.
    let (status, page) = api.feed(MINISTRY_TOKEN, "").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!((page["events"].as_array().unwrap().len(), &page["next"]), (0, &Value::Null));

    // The ministry waits; the portal posts; the wait ends with the event.
    let waiting = {
        let api = api.clone();
        tokio::spawn(async move {
            let (status, page) = api.feed(MINISTRY_TOKEN, "wait=20").await;
            (status, page, Instant::now())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = api.post_status(PORTAL_TOKEN, code, &item(code, 2, "20261122083000", "Tiếp nhận")).await;
    let posted = Instant::now();
    assert_eq!(status, 201);
    let (status, page, answered) = waiting.await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["events"][0]["event"]["status"], 2, "{page}");
    // Within the same process tree the wake-up takes about a millisecond; a
    // bound far below the 20 s wait keeps the check meaningful on a loaded machine.
    let latency = answered.saturating_duration_since(posted);
    println!("long-poll answered {latency:?} after the post returned");
    assert!(latency < Duration::from_secs(2), "the long-poll was not woken by the post: {latency:?}");

    // With nothing more to read, a wait of 1 s ends empty with the same cursor.
    let cursor = page["next"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let (status, empty) = api.feed(MINISTRY_TOKEN, &format!("after={cursor}&wait=1")).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_secs(1), "answered before its wait ended");
    assert!(empty["events"].as_array().unwrap().is_empty(), "{empty}");
    assert_eq!(empty["next"].as_str(), Some(cursor.as_str()));
    // Without a wait, an empty read answers at once.
    let started = Instant::now();
    assert_eq!(api.feed(MINISTRY_TOKEN, &format!("after={cursor}")).await.0, 200);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_reads_only_its_own_feed() {
    let (_sim, _dir, _gw, api) = gateway_with_a_dossier("").await;
    let code = CODE;
    assert_eq!(api.post_status(PORTAL_TOKEN, code, &item(code, 2, "20261122083000", "x")).await.0, 201);
    let (_, own) = api.feed(PORTAL_TOKEN, "").await;
    let cursor = own["next"].as_str().unwrap().to_owned();

    // Another member's feed, by name or by its cursor, is refused.
    let (status, err) = api.feed(PORTAL_B_TOKEN, "member=portal-h29").await;
    assert_eq!((status, error_code(&err)), (403, "forbidden"), "{err}");
    let (status, err) = api.feed(PORTAL_B_TOKEN, &format!("after={cursor}")).await;
    assert_eq!((status, error_code(&err)), (403, "forbidden"), "{err}");
    // The other portal's own feed is empty: the dossier is not its.
    let (status, theirs) = api.feed(PORTAL_B_TOKEN, "").await;
    assert_eq!((status, theirs["events"].as_array().unwrap().len()), (200, 0));
    // Operators may read any member's feed.
    let (status, ops) = api.feed(OPERATOR_TOKEN, "member=portal-h29").await;
    assert_eq!(status, 200, "{ops}");
    assert_eq!(event_ids(ops["events"].as_array().unwrap()), event_ids(own["events"].as_array().unwrap()));

    for (query, code) in [
        ("after=nonsense", "feed_cursor_invalid"),
        ("limit=0", "bad_query"),
        ("limit=100000", "bad_query"),
        ("wait=-1", "bad_query"),
        ("wait=soon", "bad_query"),
        ("from=0", "bad_query"),
        ("limit=1&limit=2", "bad_query"),
    ] {
        let (status, err) = api.feed(PORTAL_TOKEN, query).await;
        assert_eq!((status, error_code(&err)), (400, code), "{query}: {err}");
    }
    let r = api.http.get(format!("{}/v1/feed", api.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_survive_a_restart_with_no_event_lost_or_repeated() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url(), &feed_options(""));
    let mut gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    let codes: Vec<String> = (1..=4).map(|i| format!("000.00.31.H29-261122-{i:04}")).collect();
    let mut posted = Vec::new();
    for code in &codes {
        assert_eq!(api.submit(PORTAL_TOKEN, "application/json", dossier_for(code, false)).await.0, 202);
        let (_, r) = api.post_status(PORTAL_TOKEN, code, &item(code, 2, "20261122083000", "x")).await;
        posted.push(r["event_id"].as_i64().unwrap());
    }
    // Read part of the feed, then the gateway dies.
    let (status, page) = api.feed(MINISTRY_TOKEN, "limit=3").await;
    assert_eq!(status, 200);
    let mut seen = event_ids(page["events"].as_array().unwrap());
    let cursor = page["next"].as_str().unwrap().to_owned();
    gw.kill9();

    let gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    for code in &codes {
        let (_, r) = api.post_status(MINISTRY_TOKEN, code, &item(code, 4, "20261122090000", "Thụ lý")).await;
        posted.push(r["event_id"].as_i64().expect("posted after the restart"));
    }
    let (rest, _) = api.drain_feed(MINISTRY_TOKEN, Some(cursor), 2).await;
    seen.extend(event_ids(&rest));
    assert_eq!(seen, posted, "every event exactly once, in order, across the restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_past_retention_leave_the_feed_and_an_old_cursor_says_so() {
    let (_sim, _dir, _gw, api) =
        gateway_with_a_dossier("[status]\nfeed_retention = \"1s\"\nfeed_prune_interval = \"100ms\"\n").await;
    let code = CODE;
    assert_eq!(api.post_status(PORTAL_TOKEN, code, &item(code, 2, "20261122083000", "x")).await.0, 201);
    let (_, page) = api.feed(PORTAL_TOKEN, "").await;
    let old = page["next"].as_str().unwrap().to_owned();
    let (_, page) = api.feed(PORTAL_TOKEN, &format!("after={old}")).await;
    assert!(page["events"].as_array().unwrap().is_empty());
    // Before the old cursor's position: the start (a cursor made before any event).
    let start = old.replacen("c1.1.", "c1.0.", 1);
    assert_ne!(start, old);

    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(api.post_status(MINISTRY_TOKEN, code, &item(code, 4, "20261122090000", "x")).await.0, 201);
    let (status, err) = api.feed(PORTAL_TOKEN, &format!("after={start}")).await;
    assert_eq!((status, error_code(&err)), (410, "feed_cursor_expired"), "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("retention"), "{err}");
    // Read from the start, the feed begins at the oldest event kept; the cursor
    // that had read the removed event goes on where it was.
    let (from_start, _) = api.drain_feed(PORTAL_TOKEN, None, 10).await;
    let (after_old, _) = api.drain_feed(PORTAL_TOKEN, Some(old), 10).await;
    assert_eq!(from_start.len(), 1);
    assert_eq!(from_start[0]["event"]["status"], 4);
    assert_eq!(event_ids(&from_start), event_ids(&after_old));
    // The dossier's history keeps both.
    let (_, view) = api.dossier(PORTAL_TOKEN, code).await;
    assert_eq!(view["history"].as_array().unwrap().len(), 2);
}

/// The steps of one dossier: received, then processing and supplement requests
/// alternating, finished and returned: 20 events, each with who posts it.
fn steps(code: &str, ministry: &'static str) -> Vec<(&'static str, Value)> {
    let mut out = vec![(PORTAL_TOKEN, item(code, 2, "20261122080000", "Tiếp nhận"))];
    let at = |minute: usize| format!("202611221{}{:02}00", 1 + minute / 60, minute % 60);
    for i in 0..8 {
        out.push((ministry, item(code, 4, &at(2 * i), "Xử lý")));
        out.push((ministry, item(code, 5, &at(2 * i + 1), "Bổ sung")));
    }
    out.push((ministry, item(code, 4, &at(16), "Xử lý")));
    out.push((ministry, item(code, 9, &at(17), "Xong")));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_reach_exactly_the_feeds_entitled_to_them_in_order() {
    const DOSSIERS: usize = 500;
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &feed_options(""))).await;
    let api = Api::new(&gw.url);

    // Dossiers from two portals to two agencies, each with its ministry member.
    let mut plan = Vec::new();
    for i in 0..DOSSIERS {
        let (portal, portal_id) =
            if i % 2 == 0 { (PORTAL_TOKEN, "portal-h29") } else { (PORTAL_B_TOKEN, "portal-h49") };
        let other = i % 3 == 0;
        let (ministry, ministry_id) =
            if other { (OTHER_MINISTRY_TOKEN, "other-ministry") } else { (MINISTRY_TOKEN, "dvcqg-bo") };
        let province = if i % 2 == 0 { "H29" } else { "H49" };
        let code = format!("000.00.31.{province}-261122-{i:04}");
        plan.push((code, portal, portal_id, other, ministry, ministry_id));
    }
    let permits = Arc::new(Semaphore::new(16));
    let mut tasks = Vec::new();
    for (code, portal, portal_id, other, ministry, ministry_id) in plan {
        let (api, permits) = (api.clone(), permits.clone());
        tasks.push(tokio::spawn(async move {
            let _p = permits.acquire_owned().await.unwrap();
            let (status, receipt) = api.submit(portal, "application/json", dossier_for(&code, other)).await;
            assert_eq!(status, 202, "{receipt}");
            let mut ids = Vec::new();
            let mut all = steps(&code, ministry);
            all.push((portal, item(&code, 10, "20261122130000", "Trả kết quả")));
            for (token, body) in all {
                let token = if token == PORTAL_TOKEN { portal } else { token };
                let (status, r) = api.post_status(token, &code, &body).await;
                assert_eq!(status, 201, "{code}: {r}");
                ids.push(r["event_id"].as_i64().unwrap());
            }
            (portal_id, ministry_id, ids)
        }));
    }
    let mut entitled: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut total = 0;
    for t in tasks {
        let (portal, ministry, ids) = t.await.unwrap();
        total += ids.len();
        entitled.entry(portal).or_default().extend(&ids);
        entitled.entry(ministry).or_default().extend(&ids);
    }
    assert_eq!(total, 10_000);

    for (member, token) in [
        ("portal-h29", PORTAL_TOKEN),
        ("portal-h49", PORTAL_B_TOKEN),
        ("dvcqg-bo", MINISTRY_TOKEN),
        ("other-ministry", OTHER_MINISTRY_TOKEN),
    ] {
        let mut want = entitled.remove(member).unwrap();
        want.sort_unstable();
        let (events, _) = api.drain_feed(token, None, 997).await;
        assert_eq!(event_ids(&events), want, "{member}'s feed");
        let cursors: std::collections::HashSet<&str> = events.iter().map(|e| e["cursor"].as_str().unwrap()).collect();
        assert_eq!(cursors.len(), events.len(), "{member}: one cursor per event");
    }
    let (ops, _) = api.drain_feed(OPERATOR_TOKEN, None, 1000).await;
    assert!(ops.is_empty(), "operators are addressed no events");
}
