//! The PostgreSQL writer, on a fresh database of the test server
//! (`LIENTHONG_TEST_POSTGRES`, default `postgres://postgres@localhost:5432`, as
//! `.ci/run` starts it).

use super::*;
use crate::store::sqlite::tests::{new_dossier, submissions};

fn server() -> String {
    std::env::var("LIENTHONG_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@localhost:5432".into())
}

/// A writer's connection to a new, migrated database.
fn fresh() -> Conn {
    // Named as the black-box suite names its databases, which drops those of
    // test processes that are gone.
    let name = format!("lt_test_{}_u{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let mut admin = postgres::Client::connect(&format!("{}/postgres?sslmode=disable", server()), postgres::NoTls)
        .unwrap_or_else(|e| panic!("PostgreSQL at {}: {e} (is it running?)", server()));
    admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).unwrap();
    let config = StoreConfig { url: Some(format!("{}/{name}?sslmode=disable", server())), ..Default::default() };
    let mut conn = Conn::new(Target::from_config(&config).unwrap());
    schema::apply(conn.client().unwrap().0).unwrap();
    conn
}

/// Rows of (member, number) that `sql` selects.
fn member_numbers(conn: &mut Conn, sql: &str) -> Vec<(String, i64)> {
    conn.client().unwrap().0.query(sql, &[]).unwrap().iter().map(|r| (r.get(0), r.get(1))).collect()
}

fn count(conn: &mut Conn, sql: &str) -> i64 {
    conn.client().unwrap().0.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn a_change_that_fails_partway_undoes_only_itself_and_the_batch_commits_the_rest() {
    let mut conn = fresh();
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
    assert_eq!(count(&mut conn, "SELECT COUNT(*) FROM dossiers WHERE code <> '000.00.31.H29-261122-0002'"), 2);
    assert_eq!(count(&mut conn, "SELECT COUNT(*) FROM dossiers"), 2);
    assert_eq!(count(&mut conn, "SELECT COUNT(*) FROM deliveries"), 2);
    // Two message-log records per accepted dossier, numbered without a gap.
    assert_eq!(count(&mut conn, "SELECT COUNT(*) FROM audit_log WHERE dossier_code = '000.00.31.H29-261122-0002'"), 0);
    assert_eq!(count(&mut conn, "SELECT COUNT(*) FROM audit_log"), 4);
    assert_eq!(count(&mut conn, "SELECT MAX(seq) FROM audit_log"), 4);
}

#[test]
fn a_batch_without_a_failure_commits_every_change() {
    let mut conn = fresh();
    let (batch, replies) =
        submissions((1..=20).map(|i| new_dossier(&format!("000.00.31.H29-261122-{i:04}"), "portal-a", 1)));
    run_batch(&mut conn, batch);
    for mut r in replies {
        assert!(matches!(r.try_recv().expect("answered"), Ok(SubmitOutcome::Accepted(_))));
    }
    assert_eq!(count(&mut conn, "SELECT COUNT(*) FROM dossiers"), 20);
    assert_eq!(count(&mut conn, "SELECT MAX(seq) FROM audit_log"), 40);
}

#[test]
fn a_feed_prune_removes_about_its_limit_oldest_first_and_leaves_each_feed_a_tail() {
    let mut conn = fresh();
    conn.client()
        .unwrap()
        .0
        .batch_execute(
            "INSERT INTO notices (id, body, recorded_at_ms) VALUES (1, '{}', 0);
             INSERT INTO feed_heads (member, last_seq) VALUES ('portal-a', 3), ('moj-bo', 2);
             INSERT INTO feed_entries (member, seq, notice_id, recorded_at_ms) VALUES
                 ('portal-a', 1, 1, 10), ('moj-bo', 1, 1, 20), ('portal-a', 2, 1, 30),
                 ('moj-bo', 2, 1, 40), ('portal-a', 3, 1, 50);",
        )
        .unwrap();
    let mut prune = |limit| {
        let (reply, mut rx) = tokio::sync::oneshot::channel();
        run_batch(&mut conn, vec![Op::Prune { before_ms: 45, limit, reply }]);
        rx.try_recv().expect("answered").unwrap()
    };
    // The two oldest entries: one of each member.
    assert_eq!(prune(2), 2);
    // Then the next oldest, then the last one due; the entry of 50 ms stays.
    assert_eq!(prune(1), 1);
    assert_eq!(prune(5), 1);
    assert_eq!(prune(5), 0);
    let left = member_numbers(&mut conn, "SELECT member, seq FROM feed_entries ORDER BY member, seq");
    assert_eq!(left, [("portal-a".to_owned(), 3)]);
    let floors = member_numbers(&mut conn, "SELECT member, floor_seq FROM feed_heads ORDER BY member");
    assert_eq!(floors, [("moj-bo".to_owned(), 2), ("portal-a".to_owned(), 2)]);
}
