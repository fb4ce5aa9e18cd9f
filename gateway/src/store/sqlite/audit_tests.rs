//! The message log in SQLite: what is recorded for each change, nothing for a
//! refused one, and every way of editing the stored log found by the verifier.

use super::tests::{new_dossier, store};
use super::*;
use crate::audit::{self, head_payload, pinned_check, Report};
use schemas::pki::SigningIdentity;
use schemas::{StatusEvent, TrangThaiHoSo, VnDateTime};

const A: &str = "000.00.31.H29-261122-0001";
const B: &str = "000.00.31.H29-261122-0002";

fn identity(dir: &Path) -> SigningIdentity {
    crate::demo::pki::generate(dir).unwrap();
    SigningIdentity::load(&dir.join("gateway.key.pem"), &dir.join("gateway.chain.pem")).unwrap()
}

fn status(code: &str, state: u8, at: &str) -> NewStatus {
    NewStatus {
        event: StatusEvent::new(
            MaHoSo::parse(code).unwrap(),
            TrangThaiHoSo::from_code(state).unwrap(),
            VnDateTime::parse(at).unwrap(),
        ),
        reported_by: "portal-a".into(),
        polled: false,
        recipients: vec!["portal-a".into()],
        sync_to: None,
        correlation_id: "c".into(),
    }
}

/// Signs the current tip as the head signer does.
async fn sign_head(s: &SqliteStore, id: &SigningIdentity) {
    let (seq, chain) = s.audit_tip().await.unwrap().expect("records");
    let at = 1_700_000_000_000_000_000;
    let jws = schemas::jws::sign_detached(&head_payload(seq, &chain, at), id, 1_700_000_000).unwrap();
    s.add_audit_head(AuditHead { seq, chain, signed_at_ns: at, jws }).await.unwrap();
}

async fn verify(s: &SqliteStore, id: &SigningIdentity) -> Report {
    let check = pinned_check(vec![id.certificate().spki_sha256.clone()]);
    audit::verify(s, check.as_ref(), Vec::new(), i64::MIN).await.unwrap()
}

/// Two dossiers, a status event, a retry, a delivery, a refusal for good and
/// its replay; plus a duplicate, a conflict and a refused event, which add nothing.
async fn traffic(s: &SqliteStore) {
    assert!(matches!(s.submit(new_dossier(A, "portal-a", 1)).await.unwrap(), SubmitOutcome::Accepted(_)));
    assert!(matches!(s.submit(new_dossier(A, "portal-a", 1)).await.unwrap(), SubmitOutcome::Duplicate(_)));
    assert!(matches!(s.submit(new_dossier(A, "portal-b", 1)).await.unwrap(), SubmitOutcome::Conflict));
    assert!(matches!(s.submit(new_dossier(B, "portal-a", 2)).await.unwrap(), SubmitOutcome::Accepted(_)));
    let ok = s.record_status(status(A, 2, "2026-11-22T09:00:00+07:00")).await.unwrap();
    assert!(matches!(ok, StatusOutcome::Accepted(_)), "{ok:?}");
    let refused = s.record_status(status(A, 10, "2026-11-22T10:00:00+07:00")).await.unwrap();
    assert!(matches!(refused, StatusOutcome::Refused { .. }), "{refused:?}");
    let jobs = s.claim_due(Utc::now(), 10, Duration::from_secs(30), None).await.unwrap();
    assert_eq!(jobs.len(), 2);
    let retry = AttemptResult::Retry { error: "HTTP 503".into(), next_attempt_at: Utc::now() };
    s.record_attempt(jobs[0].id, retry).await.unwrap();
    s.record_attempt(jobs[1].id, AttemptResult::Failed { error: "refused: bad payload".into(), gave_up: false })
        .await
        .unwrap();
    let again = s.claim_due(Utc::now(), 10, Duration::from_secs(30), None).await.unwrap();
    s.record_attempt(again[0].id, AttemptResult::Delivered { agency_ref: Some("X1".into()) }).await.unwrap();
    assert!(s.replay(jobs[1].id).await.unwrap().is_some());
}

fn kinds(c: &Connection) -> Vec<String> {
    c.prepare("SELECT kind FROM audit_log ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A connection as an intruder's: no foreign keys in the way.
fn rw(dir: &tempfile::TempDir) -> Connection {
    let c = Connection::open(dir.path().join("t.db")).unwrap();
    c.pragma_update(None, "foreign_keys", "OFF").unwrap();
    c
}

#[tokio::test]
async fn every_change_is_one_record_in_its_own_transaction_and_the_log_verifies() {
    let (d, s) = store();
    let pki = tempfile::tempdir().unwrap();
    let id = identity(pki.path());
    traffic(&s).await;
    assert_eq!(
        kinds(&rw(&d)),
        ["dossier", "receipt", "dossier", "receipt", "status", "attempt", "attempt", "attempt", "replay"],
        "the duplicate, the conflict and the refused event add nothing"
    );
    sign_head(&s, &id).await;
    let r = verify(&s, &id).await;
    assert_eq!(r.broken, None);
    assert_eq!((r.records, r.heads, r.signed_up_to, r.unsigned()), (9, 1, 9, 0));
    // Both bodies, both receipts, the event and the three attempts' contents.
    assert_eq!(r.contents, 8);

    // A head naming a record with another chain hash is refused by the store.
    let (seq, _) = s.audit_tip().await.unwrap().unwrap();
    let forged = AuditHead { seq, chain: [7; 32], signed_at_ns: 0, jws: "x".into() };
    assert!(s.add_audit_head(forged).await.is_err());
}

#[tokio::test]
async fn the_chain_is_read_without_contents_page_by_page() {
    let (_d, s) = store();
    traffic(&s).await;
    let full = s.audit_records(0, 100).await.unwrap();
    assert_eq!(full.iter().filter(|(_, content)| content.is_some()).count(), 8, "the contents exist");
    let records: Vec<crate::store::AuditRecord> = full.into_iter().map(|(r, _)| r).collect();
    assert_eq!(s.audit_chain(0, 100).await.unwrap(), records);
    // Paged as the signer reads it: after a position, at most `limit`.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = s.audit_chain(after, 4).await.unwrap();
        assert!(page.len() <= 4);
        let Some(last) = page.last() else { break };
        after = last.seq;
        paged.extend(page);
    }
    assert_eq!(paged, records);
    assert_eq!(s.audit_chain(9, 10).await.unwrap(), Vec::new());
}

#[tokio::test]
async fn retention_removes_bodies_and_metadata_and_the_chain_still_verifies() {
    let (d, s) = store();
    let pki = tempfile::tempdir().unwrap();
    let id = identity(pki.path());
    traffic(&s).await;
    sign_head(&s, &id).await;
    let later = Utc::now() + chrono::Duration::seconds(5);
    // One call removes at most its limit of each, oldest first; the prune calls
    // again until a call finds less than its limit.
    assert_eq!(s.prune_audit(Some(later), Some(later), 1).await.unwrap(), (1, 1));
    let kept: Vec<String> = rw(&d)
        .prepare("SELECT code FROM dossiers WHERE length(body) > 0")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kept, [B], "the older body went first");
    let retention = audit::AuditConfig {
        body_retention: std::time::Duration::ZERO,
        metadata_retention: Some(std::time::Duration::ZERO),
        ..Default::default()
    };
    assert_eq!(audit::prune_once(&s, &retention, later, 2).await.unwrap(), (1, 8));
    assert_eq!(s.prune_audit(Some(later), Some(later), 100).await.unwrap(), (0, 0), "nothing left past it");
    // Without the retention, bodies that are gone are a break...
    let b = verify(&s, &id).await.broken.expect("a missing body is found");
    assert!(b.reason.contains("missing"), "{}", b.reason);
    // ... and with it, the chain still verifies.
    let check = pinned_check(vec![id.certificate().spki_sha256.clone()]);
    let r = audit::verify(&s, check.as_ref(), Vec::new(), crate::store::status::to_ns(&later)).await.unwrap();
    assert_eq!(r.broken, None, "{r:?}");
    assert_eq!((r.records, r.pruned_metadata, r.heads), (9, 9, 1));
    assert_eq!(r.contents, 6, "the bodies are gone; receipts, the event and attempts remain");
    let empty: i64 =
        rw(&d).query_row("SELECT COUNT(*) FROM dossiers WHERE length(body) = 0", [], |r| r.get(0)).unwrap();
    assert_eq!(empty, 2);
}

/// Each edit an intruder with write access to the database could make, and
/// where the verifier must report the break.
#[tokio::test]
async fn every_edit_of_the_stored_log_is_found_at_its_record() {
    let cases: &[(&str, &str, i64, &str)] = &[
        ("metadata", "UPDATE audit_log SET meta = replace(meta, 'portal-a', 'portal-x') WHERE seq = 3", 3, "metadata"),
        ("digest", "UPDATE audit_log SET digest = zeroblob(32) WHERE seq = 9", 9, "digest"),
        ("receipt digest", "UPDATE audit_log SET digest = zeroblob(32) WHERE seq = 2", 2, "does not match its digest"),
        ("time", "UPDATE audit_log SET at_ns = at_ns + 1 WHERE seq = 2", 2, "chain hash"),
        (
            "body",
            "UPDATE dossiers SET body = CAST('{\"x\":1}' AS BLOB) WHERE code = '000.00.31.H29-261122-0002'",
            3,
            "stored dossier",
        ),
        (
            "receipt",
            "UPDATE dossiers SET receipt = receipt || ' ' WHERE code = '000.00.31.H29-261122-0001'",
            2,
            "stored receipt",
        ),
        ("event", "UPDATE status_events SET event = replace(event, '2026', '2025')", 5, "stored status"),
        (
            "canonical",
            "UPDATE dossiers SET canonical = '{\"x\":2}' WHERE code = '000.00.31.H29-261122-0001'",
            6,
            "stored attempt",
        ),
        ("deleted", "DELETE FROM audit_log WHERE seq = 4", 4, "missing"),
        ("body emptied", "UPDATE dossiers SET body = x'' WHERE code = '000.00.31.H29-261122-0002'", 3, "missing"),
        ("event gone", "UPDATE audit_log SET ref_id = NULL WHERE kind = 'status'", 5, "missing"),
        ("event repointed", "UPDATE audit_log SET ref_id = ref_id + 1 WHERE kind = 'status'", 5, "missing"),
        ("event deleted", "DELETE FROM status_events", 5, "missing"),
        ("truncated", "DELETE FROM audit_log WHERE seq = 9", 9, "removed"),
        ("head", "UPDATE audit_heads SET jws = replace(jws, substr(jws, -8, 4), 'AAAA')", 9, "signature"),
    ];
    let pki = tempfile::tempdir().unwrap();
    let id = identity(pki.path());
    for (what, sql, at, says) in cases {
        let (d, s) = store();
        traffic(&s).await;
        sign_head(&s, &id).await;
        assert_eq!(verify(&s, &id).await.broken, None);
        rw(&d).execute_batch(sql).unwrap();
        let b = verify(&s, &id).await.broken.unwrap_or_else(|| panic!("{what}: the edit went unnoticed"));
        assert_eq!(b.seq, *at, "{what}: {}", b.reason);
        assert!(b.reason.contains(says), "{what}: {}", b.reason);
    }
}

/// Rewriting a record and every chain hash after it, as an intruder who knows
/// the formula but not the gateway's key would: the signed head gives it away.
#[tokio::test]
async fn a_rewritten_chain_does_not_match_its_signed_head() {
    let (d, s) = store();
    let pki = tempfile::tempdir().unwrap();
    let id = identity(pki.path());
    traffic(&s).await;
    sign_head(&s, &id).await;
    let c = rw(&d);
    c.execute("UPDATE audit_log SET meta = replace(meta, 'portal-a', 'portal-x') WHERE seq = 3", []).unwrap();
    type Row = (i64, i64, String, String, Option<i64>, Vec<u8>, String);
    let rows: Vec<Row> = c
        .prepare("SELECT seq, at_ns, kind, dossier_code, ref_id, digest, meta FROM audit_log ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = [0; 32];
    for (seq, at, kind, code, ref_id, digest, meta) in rows {
        let meta_sha = audit::sha256(meta.as_bytes());
        let entry =
            audit::Entry { seq, at_ns: at, kind: &kind, dossier: &code, ref_id, digest: &digest, meta_sha: &meta_sha };
        prev = audit::link(&prev, &entry);
        c.execute(
            "UPDATE audit_log SET meta_sha = ?1, chain = ?2 WHERE seq = ?3",
            params![&meta_sha[..], &prev[..], seq],
        )
        .unwrap();
    }
    let b = verify(&s, &id).await.broken.expect("the rewrite is found");
    assert_eq!(b.seq, 9, "{}", b.reason);
    assert!(b.reason.contains("signed head 9"), "{}", b.reason);

    // A head signed by another key (the intruder's) does not verify either.
    let other_dir = tempfile::tempdir().unwrap();
    let other = identity(other_dir.path());
    c.execute("DELETE FROM audit_heads", []).unwrap();
    sign_head(&s, &other).await;
    let b = verify(&s, &id).await.broken.expect("a foreign key is refused");
    assert!(b.reason.contains("pinned"), "{}", b.reason);
}

#[tokio::test]
async fn a_change_whose_record_cannot_be_written_is_not_made() {
    let (d, s) = store();
    // The log refuses writes: the change it would prove must not happen either.
    rw(&d)
        .execute_batch("CREATE TRIGGER no_log BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'log full'); END;")
        .unwrap();
    assert!(s.submit(new_dossier(A, "portal-a", 1)).await.is_err());
    assert!(s.dossier(&MaHoSo::parse(A).unwrap()).await.unwrap().is_none());
    assert!(s.delivery_counts().await.unwrap().is_empty());
    rw(&d).execute_batch("DROP TRIGGER no_log").unwrap();
    assert!(matches!(s.submit(new_dossier(A, "portal-a", 1)).await.unwrap(), SubmitOutcome::Accepted(_)));
}
