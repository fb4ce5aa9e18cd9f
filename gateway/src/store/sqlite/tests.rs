use super::*;
use schemas::MemberId;

pub(in crate::store) fn new_dossier(code: &str, sender: &str, hash: u8) -> NewDossier {
    NewDossier {
        code: MaHoSo::parse(code).unwrap(),
        sender: MemberId::parse(sender).unwrap(),
        agency: AgencyId::parse("dvcqg").unwrap(),
        also_to: Vec::new(),
        procedure_code: "1.001193".into(),
        received_at: "2026-11-22T01:30:00Z".parse().unwrap(),
        due_at: "2026-11-25T10:00:00Z".parse().unwrap(),
        content_hash: [hash; 32],
        media_type: "application/json".into(),
        body: b"{}".to_vec(),
        canonical_json: "{}".into(),
        receipt: Receipt {
            receipt_id: format!("r-{code}-{hash}"),
            dossier_code: code.into(),
            sender: sender.into(),
            agency: "dvcqg".into(),
            accepted_at: "2026-11-22T08:00:00+07:00".into(),
            body_sha256: hex::encode(crate::audit::sha256(b"{}")),
            signed_by: None,
        },
        correlation_id: "c".into(),
    }
}

/// A batch submitting `dossiers`, and where each one's answer arrives.
pub(in crate::store) fn submissions(
    dossiers: impl IntoIterator<Item = NewDossier>,
) -> (Vec<Op>, Vec<tokio::sync::oneshot::Receiver<Result<SubmitOutcome, StoreError>>>) {
    dossiers
        .into_iter()
        .map(|d| {
            let (tx, rx) = tokio::sync::oneshot::channel();
            (Op::Submit(Box::new(d), tx), rx)
        })
        .unzip()
}

pub(super) fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    (dir, s)
}

#[tokio::test]
async fn submit_is_idempotent_and_conflicts_are_detected() {
    let (_d, s) = store();
    let code = "000.00.31.H29-261122-0001";
    let first = s.submit(new_dossier(code, "portal-a", 1)).await.unwrap();
    let SubmitOutcome::Accepted(receipt) = first else { panic!("{first:?}") };
    assert_eq!(s.submit(new_dossier(code, "portal-a", 1)).await.unwrap(), SubmitOutcome::Duplicate(receipt));
    assert_eq!(s.submit(new_dossier(code, "portal-a", 2)).await.unwrap(), SubmitOutcome::Conflict);
    assert_eq!(s.submit(new_dossier(code, "portal-b", 1)).await.unwrap(), SubmitOutcome::Conflict);
    let counts = s.delivery_counts().await.unwrap();
    assert_eq!(counts, vec![DeliveryCount { agency: "dvcqg".into(), state: DeliveryState::Queued, count: 1 }]);
}

#[tokio::test]
async fn concurrent_submissions_are_grouped_and_all_stored() {
    let (_d, s) = store();
    let s = Arc::new(s);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.submit(new_dossier(&format!("000.00.31.H29-261122-{i:04}"), "portal-a", 1)).await
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap().unwrap(), SubmitOutcome::Accepted(_)));
    }
    let counts = s.delivery_counts().await.unwrap();
    assert_eq!(counts[0].count, 200);
}

#[tokio::test]
async fn claims_are_leased_in_order_and_results_recorded() {
    let (_d, s) = store();
    for i in 1..=3 {
        s.submit(new_dossier(&format!("000.00.31.H29-261122-{i:04}"), "portal-a", 1)).await.unwrap();
    }
    let now = Utc::now() + chrono::Duration::seconds(1);
    let jobs = s.claim_due(now, 10, Duration::from_secs(60), None).await.unwrap();
    let codes: Vec<_> = jobs.iter().map(|j| j.dossier_code.as_str()).collect();
    assert_eq!(codes, ["000.00.31.H29-261122-0001", "000.00.31.H29-261122-0002", "000.00.31.H29-261122-0003"]);
    assert!(
        s.claim_due(now, 10, Duration::from_secs(60), None).await.unwrap().is_empty(),
        "leased jobs are not claimed twice"
    );

    s.record_attempt(jobs[0].id, AttemptResult::Delivered { agency_ref: Some("X1".into()) }).await.unwrap();
    let later = now + chrono::Duration::seconds(30);
    s.record_attempt(jobs[1].id, AttemptResult::Retry { error: "timeout".into(), next_attempt_at: later })
        .await
        .unwrap();
    s.record_attempt(jobs[2].id, AttemptResult::Failed { error: "refused".into(), gave_up: false }).await.unwrap();
    assert!(
        s.record_attempt(jobs[0].id, AttemptResult::Failed { error: "x".into(), gave_up: false }).await.is_err(),
        "a finished delivery stays finished"
    );

    assert!(s.claim_due(now, 10, Duration::from_secs(60), None).await.unwrap().is_empty(), "the retry is not due yet");
    let again = s.claim_due(later, 10, Duration::from_secs(60), None).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);

    let d = s.dossier(&MaHoSo::parse("000.00.31.H29-261122-0001").unwrap()).await.unwrap().unwrap();
    assert_eq!(d.deliveries[0].state, DeliveryState::Delivered);
    assert_eq!(d.deliveries[0].agency_ref.as_deref(), Some("X1"));
    let d = s.dossier(&MaHoSo::parse("000.00.31.H29-261122-0003").unwrap()).await.unwrap().unwrap();
    assert_eq!(d.deliveries[0].state, DeliveryState::Failed);
    assert_eq!(d.deliveries[0].last_error.as_deref(), Some("refused"));
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again() {
    let (_d, s) = store();
    s.submit(new_dossier("000.00.31.H29-261122-0001", "portal-a", 1)).await.unwrap();
    let now = Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(s.claim_due(now, 10, Duration::from_secs(5), None).await.unwrap().len(), 1);
    let after = now + chrono::Duration::seconds(6);
    assert_eq!(s.claim_due(after, 10, Duration::from_secs(5), None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn data_and_leases_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let s = SqliteStore::open(&path).unwrap();
        s.submit(new_dossier("000.00.31.H29-261122-0001", "portal-a", 1)).await.unwrap();
        let now = Utc::now() + chrono::Duration::seconds(1);
        assert_eq!(s.claim_due(now, 10, Duration::from_secs(600), None).await.unwrap().len(), 1);
    }
    let s = SqliteStore::open(&path).unwrap();
    let now = Utc::now() + chrono::Duration::seconds(1);
    let jobs = s.claim_due(now, 10, Duration::from_secs(600), None).await.unwrap();
    assert_eq!(jobs.len(), 1, "a claim held by a process that is gone is released at start-up");
}

#[tokio::test]
async fn a_dossier_for_a_ministry_gets_one_delivery_per_agency() {
    let (_d, s) = store();
    let mut d = new_dossier("000.00.31.H29-261122-0001", "portal-a", 1);
    d.agency = AgencyId::parse("moj").unwrap();
    d.also_to = vec![AgencyId::parse("dvcqg").unwrap()];
    s.submit(d).await.unwrap();
    let jobs = s.claim_due(Utc::now() + chrono::Duration::seconds(1), 10, Duration::from_secs(60), None).await.unwrap();
    let agencies: Vec<_> = jobs.iter().map(|j| j.agency.as_str()).collect();
    assert_eq!(agencies, ["moj", "dvcqg"]);
    assert_ne!(jobs[0].idempotency_key, jobs[1].idempotency_key);
    assert_eq!(s.delivery_counts().await.unwrap().len(), 2);
}

#[tokio::test]
async fn pending_counts_what_waits_per_agency_from_the_index_alone() {
    let (d, s) = store();
    for i in 0..3 {
        s.submit(new_dossier(&format!("000.00.31.H29-261122-{i:04}"), "portal-a", 1)).await.unwrap();
    }
    let jobs = s.claim_due(Utc::now(), 1, Duration::from_secs(30), None).await.unwrap();
    s.record_attempt(jobs[0].id, AttemptResult::Delivered { agency_ref: None }).await.unwrap();
    let p = s.pending().await.unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].agency.as_str(), p[0].count), ("dvcqg", 2));
    assert!(p[0].oldest.is_some_and(|t| t <= Utc::now()));
    // The plan walks the partial index of pending deliveries: its cost is the
    // backlog's size, not the history's.
    let c = Connection::open(d.path().join("t.db")).unwrap();
    let plan: Vec<String> = c
        .prepare(
            "EXPLAIN QUERY PLAN SELECT agency, COUNT(*), MIN(created_at_ms) FROM deliveries
             WHERE state IN ('queued', 'retrying') GROUP BY agency ORDER BY agency",
        )
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        plan.iter()
            .any(|l| l.contains("INDEX deliveries_waiting_since") || l.contains("INDEX deliveries_due_by_agency")),
        "{plan:?}"
    );
}

#[tokio::test]
async fn the_wal_is_checkpointed_beside_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s = SqliteStore::open(&path).unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    for i in 0..300 {
        let mut d = new_dossier(&format!("000.00.31.H29-261122-{i:04}"), "portal-a", 1);
        d.body = vec![b' '; 8 * 1024];
        s.submit(d).await.unwrap();
    }
    // The writer never checkpoints (its automatic checkpoint is off): only the
    // checkpoint thread copies the WAL's pages into the database file.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&path).unwrap().len() < before + 300 * 8 * 1024 {
        assert!(std::time::Instant::now() < deadline, "the database file did not grow: no checkpoint ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_steady_writes_the_wal_is_started_over_and_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let wal = dir.path().join("t.db-wal");
    // Checkpointed every 100 ms, and started over past 256 frames (1 MiB).
    let s = Arc::new(SqliteStore::open_with(&path, Duration::from_millis(100), 256).unwrap());
    let mut largest = 0;
    let mut tasks = tokio::task::JoinSet::new();
    // 32 writers keep the store's writer busy for three seconds (30 checkpoint
    // ticks), as under load.
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    for w in 0..32 {
        let s = s.clone();
        tasks.spawn(async move {
            let mut i = 0;
            while tokio::time::Instant::now() < until {
                let mut d = new_dossier(&format!("000.00.31.H29-261122-{:04}", i * 32 + w), "portal-a", 1);
                d.body = vec![b' '; 4 * 1024];
                s.submit(d).await.unwrap();
                i += 1;
            }
        });
    }
    while !tasks.is_empty() {
        tokio::select! {
            done = tasks.join_next() => { done.unwrap().unwrap(); }
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    }
    let written = std::fs::metadata(&path).unwrap().len() + std::fs::metadata(&wal).unwrap().len();
    assert!(written > 8 << 20, "only {written} bytes written: the test measures nothing");
    // Without the restart the WAL holds about everything written (the first run
    // of this test: 144 of 165 MB); with it, a few ticks' writes.
    assert!(largest < written / 4, "the WAL grew to {largest} bytes of {written} written");
}

#[test]
fn every_connection_cuts_the_wal_back_past_its_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(SqliteStore::open(&path).unwrap());
    let c = open(&path).unwrap();
    let limit: i64 = c.query_row("PRAGMA journal_size_limit", [], |r| r.get(0)).unwrap();
    assert_eq!(limit, WAL_SIZE_LIMIT_BYTES);
}

/// A plain connection to a store file with every migration applied.
fn migrated_connection() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    drop(SqliteStore::open(&path).unwrap());
    let c = Connection::open(&path).unwrap();
    (dir, c)
}

/// The query plan of `sql`, with `values` bound.
fn plan(c: &Connection, sql: &str, values: &[&dyn rusqlite::ToSql]) -> Vec<String> {
    let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    stmt.query_map(values, |r| r.get::<_, String>(3)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn a_claim_reads_only_waiting_deliveries_through_their_index() {
    let (_dir, c) = migrated_connection();
    // A scan of `deliveries` would read every delivery ever made on each claim.
    let any = plan(&c, CLAIM_ANY, params![0i64, 0i64, 10i64]);
    assert!(any.iter().any(|p| p.contains("USING INDEX deliveries_due ")), "{any:?}");
    assert!(!any.iter().any(|p| p.starts_with("SCAN")), "{any:?}");
    // One agency's claim ranges over that agency's waiting deliveries only.
    let one = plan(&c, CLAIM_AGENCY, params![0i64, 0i64, 10i64, "moj"]);
    assert!(one.iter().any(|p| p.contains("USING INDEX deliveries_due_by_agency (agency=?")), "{one:?}");
    assert!(!one.iter().any(|p| p.starts_with("SCAN")), "{one:?}");
}

#[test]
fn statistics_read_their_covering_index_not_the_dossiers() {
    let (_dir, c) = migrated_connection();
    // Scanning `dossiers` walks every row's body and canonical form (the on-time
    // columns come after them), on every `/metrics` scrape.
    for agency in [None, Some("moj")] {
        let p = plan(&c, status::STATS, params![0i64, 1i64, agency]);
        assert!(p.iter().any(|l| l.contains("USING COVERING INDEX dossiers_stats")), "{agency:?}: {p:?}");
    }
}

#[test]
fn the_retention_prune_reads_only_kept_bodies_through_their_index() {
    let (_dir, c) = migrated_connection();
    // A scan of `dossiers` walks every row's body to reach `accepted_at_ms`, in
    // the writer, once per prune interval.
    let p = plan(&c, audit::BODIES_PAST, params![0i64, 500i64]);
    assert!(p.iter().any(|l| l.contains("USING INDEX dossiers_bodies_by_age (accepted_at_ms<?)")), "{p:?}");
    assert!(!p.iter().any(|l| l.starts_with("SCAN")), "{p:?}");
    // Emptied bodies leave the index.
    let indexed: String =
        c.query_row("SELECT sql FROM sqlite_master WHERE name = 'dossiers_bodies_by_age'", [], |r| r.get(0)).unwrap();
    assert!(indexed.ends_with("WHERE length(body) > 0"), "{indexed}");
}

#[test]
fn the_feed_prune_reads_its_oldest_entries_through_their_index() {
    let (_dir, c) = migrated_connection();
    // Without the index, each batch would read every member's whole feed.
    let p = plan(&c, status::FEED_DUE, params![0i64, 100i64]);
    assert!(
        p.iter().any(|l| l.contains("SEARCH feed_entries USING COVERING INDEX feed_entries_by_age (recorded_at_ms<?)")),
        "{p:?}"
    );
    assert!(!p.iter().any(|l| l.starts_with("SCAN feed_entries")), "{p:?}");
}

/// Virtual-machine steps SQLite has run for `sql` on `c` so far.
fn vm_steps(c: &Connection, sql: &str) -> i32 {
    c.prepare_cached(sql).unwrap().get_status(rusqlite::StatementStatus::VmStep)
}

#[tokio::test]
async fn a_claim_does_not_read_deliveries_in_flight_or_another_agencys_queue() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s = SqliteStore::open(&path).unwrap();
    let agency_of = |i: usize| {
        let mut d = new_dossier(&format!("000.00.31.H29-261122-{i:04}"), "portal-a", 1);
        d.agency = AgencyId::parse(if i < 400 { "dvcqg" } else { "moj" }).unwrap();
        d
    };
    // 400 deliveries wait for DVCQG first, then 220 for Justice.
    for i in 0..620 {
        s.submit(agency_of(i)).await.unwrap();
    }
    drop(s);
    let c = open(&path).unwrap();
    let now = Utc::now() + chrono::Duration::seconds(1);
    let lease = Duration::from_secs(60);
    let cost_of_one = || {
        let before = vm_steps(&c, CLAIM_AGENCY);
        let jobs = claim(&c, now, 1, lease, Some("moj")).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].agency.as_str(), "moj");
        vm_steps(&c, CLAIM_AGENCY) - before
    };
    let first = cost_of_one();
    // The first control: with the agency outside the index range, a claim walks
    // the other agency's 400 waiting deliveries before Justice's.
    let either = "SELECT id FROM deliveries WHERE state IN ('queued', 'retrying') AND next_attempt_ms <= ?1
                  AND (?2 IS NULL OR agency = ?2) ORDER BY next_attempt_ms, id LIMIT 1";
    let walked = steps_of(&c, either, params![now.timestamp_millis(), "moj"]);
    assert!(walked > 10 * first, "the control walked only {walked} steps, against {first}: the test measures nothing");
    // 200 of Justice's deliveries are now in flight.
    assert_eq!(claim(&c, now, 200, lease, Some("moj")).unwrap().len(), 200);
    let later = cost_of_one();
    assert!(later <= first + first / 10, "a claim of one ran {first} steps with one in flight, {later} with 201");
    // The claimed deliveries are due again when their lease ends, not before.
    assert_eq!(claim(&c, now + chrono::Duration::seconds(59), 300, lease, Some("moj")).unwrap().len(), 18);
    let lapsed = claim(&c, now + chrono::Duration::seconds(61), 300, lease, Some("moj")).unwrap();
    assert_eq!(lapsed.len(), 202, "the lapsed claims are taken again");
    // The second control: had the claims kept their due time, with the lease
    // checked row by row, a claim would walk every delivery in flight.
    c.execute("UPDATE deliveries SET next_attempt_ms = 0 WHERE lease_until_ms IS NOT NULL", []).unwrap();
    let leased = "SELECT id FROM deliveries WHERE state IN ('queued', 'retrying') AND next_attempt_ms <= ?1
                  AND agency = 'moj' AND (lease_until_ms IS NULL OR lease_until_ms < ?1)
                  ORDER BY next_attempt_ms, id LIMIT 1";
    let walked = steps_of(&c, leased, params![now.timestamp_millis() + 61_000]);
    assert!(walked > 10 * first, "the control walked only {walked} steps, against {first}: the test measures nothing");
}

/// Virtual-machine steps of one run of `sql`.
fn steps_of(c: &Connection, sql: &str, values: &[&dyn rusqlite::ToSql]) -> i32 {
    let mut stmt = c.prepare(sql).unwrap();
    let mut rows = stmt.query(values).unwrap();
    while rows.next().unwrap().is_some() {}
    drop(rows);
    stmt.get_status(rusqlite::StatementStatus::VmStep)
}

/// How often SQLite compiled `sql` again while it ran it four times, with other
/// values each time.
fn reprepares(c: &Connection, sql: &str) -> i32 {
    let mut stmt = c.prepare(sql).unwrap();
    for i in 0..4i64 {
        let agency = (i % 2 == 1).then_some("moj");
        let n = stmt.parameter_count();
        let values: Vec<Box<dyn rusqlite::ToSql>> = (1..=n)
            .map(|k| -> Box<dyn rusqlite::ToSql> {
                if k == 4 {
                    Box::new(agency)
                } else {
                    Box::new(i * 10 + k as i64)
                }
            })
            .collect();
        let mut rows = stmt.query(rusqlite::params_from_iter(values.iter())).unwrap();
        while rows.next().unwrap().is_some() {}
    }
    stmt.get_status(rusqlite::StatementStatus::RePrepare)
}

#[test]
fn claims_and_feed_pages_are_not_compiled_again_on_each_run() {
    let (_dir, c) = migrated_connection();
    // The premise: with a bound LIMIT after an ORDER BY, this SQLite build (STAT4)
    // compiles the statement again whenever the bound values change.
    let bound = "SELECT id FROM deliveries WHERE next_attempt_ms <= ?1 ORDER BY next_attempt_ms, id LIMIT ?2";
    assert_eq!(reprepares(&c, bound), 4, "SQLite no longer re-prepares a bound LIMIT: the CAST can go");
    assert_eq!(reprepares(&c, CLAIM_AGENCY), 0, "the claim is compiled on every claim");
    assert_eq!(reprepares(&c, CLAIM_ANY), 0, "the claim is compiled on every claim");
    assert_eq!(reprepares(&c, status::FEED_PAGE), 0, "a feed page is compiled on every read");
}

#[test]
fn no_query_of_the_store_binds_its_limit_bare() {
    for (file, text) in [
        ("sqlite.rs", include_str!("../sqlite.rs")),
        ("audit.rs", include_str!("audit.rs")),
        ("dead.rs", include_str!("dead.rs")),
        ("read.rs", include_str!("read.rs")),
        ("status.rs", include_str!("status.rs")),
    ] {
        assert!(!text.contains("LIMIT ?"), "{file}: write LIMIT CAST(?n AS INTEGER), see claim_sql");
    }
}

#[test]
fn the_statement_cache_holds_every_cached_statement_of_the_store() {
    // An evicted statement is compiled again on its next run: the cache must hold
    // all of them at once.
    let cached: usize = [
        include_str!("../sqlite.rs"),
        include_str!("audit.rs"),
        include_str!("dead.rs"),
        include_str!("read.rs"),
        include_str!("status.rs"),
    ]
    .iter()
    .map(|text| text.matches("prepare_cached(").count())
    .sum();
    assert!(cached > 16, "only {cached} cached statements: rusqlite's default cache would do");
    assert!(cached <= STATEMENT_CACHE, "{cached} cached statements, room for {STATEMENT_CACHE}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_read_does_not_hold_up_the_others() {
    let (_d, s) = store();
    s.submit(new_dossier("000.00.31.H29-261122-0001", "portal-a", 1)).await.unwrap();
    let s = Arc::new(s);
    // Every reader connection but one is held by a read that waits to be let go.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let held = Arc::new(Mutex::new(held));
    let (started, mut running) = tokio::sync::mpsc::unbounded_channel();
    let mut long = Vec::new();
    for _ in 0..READERS - 1 {
        let (s, held, started) = (s.clone(), held.clone(), started.clone());
        long.push(tokio::spawn(async move {
            s.read(move |c| {
                let n: i64 = c.query_row("SELECT COUNT(*) FROM dossiers", [], |r| r.get(0)).map_err(db)?;
                started.send(()).unwrap();
                held.lock().unwrap().recv().unwrap();
                Ok(n)
            })
            .await
        }));
    }
    for _ in 0..READERS - 1 {
        running.recv().await.unwrap();
    }
    // The last connection still serves reads, one after another.
    for _ in 0..3 {
        let found = tokio::time::timeout(
            Duration::from_secs(10),
            s.dossier(&MaHoSo::parse("000.00.31.H29-261122-0001").unwrap()),
        )
        .await
        .expect("a read waited for the long ones")
        .unwrap();
        assert!(found.is_some());
    }
    // With that one held too, the next read waits until a connection is given back.
    let (release_last, held_last) = std::sync::mpsc::channel::<()>();
    let last = {
        let (s, started) = (s.clone(), started.clone());
        tokio::spawn(async move {
            s.read(move |_| {
                started.send(()).unwrap();
                held_last.recv().unwrap();
                Ok(())
            })
            .await
        })
    };
    running.recv().await.unwrap();
    let waiting = tokio::spawn({
        let s = s.clone();
        async move { s.ping().await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "a read ran with every connection taken");
    release_last.send(()).unwrap();
    last.await.unwrap().unwrap();
    tokio::time::timeout(Duration::from_secs(10), waiting).await.unwrap().unwrap().unwrap();
    for _ in 0..READERS - 1 {
        release.send(()).unwrap();
    }
    for l in long {
        assert_eq!(l.await.unwrap().unwrap(), 1);
    }
}

#[tokio::test]
async fn a_read_that_panics_gives_its_connection_back() {
    let (_d, s) = store();
    for _ in 0..READERS + 1 {
        let failed = s.read(|_| -> Result<(), StoreError> { panic!("a read failed") }).await;
        assert!(matches!(failed, Err(StoreError::Closed)), "{failed:?}");
    }
    // Had any connection been lost, READERS + 1 panics would have used them all up.
    tokio::time::timeout(Duration::from_secs(10), s.ping()).await.expect("no reader connection left").unwrap();
    assert_eq!(s.readers.idle.lock().unwrap().len(), READERS);
}

#[test]
fn a_change_that_fails_partway_undoes_only_itself_and_the_batch_commits_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir.path().join("t.db")).unwrap();
    migrations::apply(&mut conn).unwrap();
    let first = new_dossier("000.00.31.H29-261122-0001", "portal-a", 1);
    // Another dossier with the first one's receipt id: its dossier row is
    // written, then its delivery's idempotency key collides with the first's.
    let mut clash = new_dossier("000.00.31.H29-261122-0002", "portal-a", 2);
    clash.receipt.receipt_id = first.receipt.receipt_id.clone();
    let third = new_dossier("000.00.31.H29-261122-0003", "portal-a", 3);
    let (batch, replies) = submissions([first, clash, third]);
    run_batch(&mut conn, batch);
    let answers: Vec<_> = replies.into_iter().map(|mut r| r.try_recv().expect("answered")).collect();
    assert!(matches!(answers[0], Ok(SubmitOutcome::Accepted(_))), "{:?}", answers[0]);
    assert!(matches!(answers[1], Err(StoreError::Database(_))), "{:?}", answers[1]);
    assert!(matches!(answers[2], Ok(SubmitOutcome::Accepted(_))), "{:?}", answers[2]);
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let codes: Vec<String> = conn
        .prepare("SELECT code FROM dossiers ORDER BY code")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(codes, ["000.00.31.H29-261122-0001", "000.00.31.H29-261122-0003"]);
    assert_eq!(count("SELECT COUNT(*) FROM deliveries"), 2);
    assert_eq!(count("SELECT COUNT(*) FROM deliveries WHERE dossier_code = '000.00.31.H29-261122-0002'"), 0);
    // Two message-log records per accepted dossier, numbered without a gap.
    assert_eq!(count("SELECT COUNT(*) FROM audit_log WHERE dossier_code = '000.00.31.H29-261122-0002'"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM audit_log"), 4);
    assert_eq!(count("SELECT MAX(seq) FROM audit_log"), 4);
}

#[test]
fn a_batch_without_a_failure_commits_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open(&dir.path().join("t.db")).unwrap();
    migrations::apply(&mut conn).unwrap();
    let (batch, replies) =
        submissions((1..=20).map(|i| new_dossier(&format!("000.00.31.H29-261122-{i:04}"), "portal-a", 1)));
    run_batch(&mut conn, batch);
    for mut r in replies {
        assert!(matches!(r.try_recv().expect("answered"), Ok(SubmitOutcome::Accepted(_))));
    }
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM dossiers", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 20);
    let seq: i64 = conn.query_row("SELECT MAX(seq) FROM audit_log", [], |r| r.get(0)).unwrap();
    assert_eq!(seq, 40);
}
