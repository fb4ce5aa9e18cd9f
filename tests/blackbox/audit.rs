//! The tamper-evident message log through the real binary: traffic is logged
//! and signed, `lienthong audit verify` proves it (against the database and the
//! heads file), an edit of the database is reported at its record, and a
//! gateway that cannot sign its log refuses new work with 503 and stores nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::dev_pki::dev_pki;
use crate::status::item;
use crate::support::*;

/// The gateway's signing key, a fast signing cadence, and a heads file.
pub(crate) fn audit_options(dir: &Path, audit_extra: &str) -> (Options, PathBuf) {
    let pki = dev_pki();
    let (key, _, chain) = pki.files("lienthong-gateway");
    let heads = dir.join("heads.jsonl");
    // Half a second unless the test sets its own: the tests of the 503 policy wait
    // that long; the load tests give a loaded machine more room.
    let max_age = if audit_extra.contains("max_unsigned_age") { "" } else { "max_unsigned_age = \"500ms\"\n" };
    let extra = format!(
        "[signatures]\nkey = \"{}\"\ncertificate_chain = \"{}\"\n\n[audit]\nsign_every = \"100ms\"\n\
         {max_age}heads_file = \"{}\"\n{audit_extra}\n",
        key.display(),
        chain.display(),
        heads.display()
    );
    (Options { extra, ..Options::default() }, heads)
}

/// A gateway with [`audit_options`] in `dir`: the process, its client, and its heads file.
async fn signing_gateway(dir: &Path, sim: &adapters::dvcqg::DvcqgSimulator) -> (GatewayProcess, Api, PathBuf) {
    let (opts, heads) = audit_options(dir, "");
    let gw = GatewayProcess::start(&write_config(dir, &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    (gw, api, heads)
}

/// `lienthong audit verify`: whether it passed, and what it printed.
pub(crate) fn audit_verify(config: &Path, heads: Option<&Path>) -> (bool, String) {
    let mut cmd = Command::new(bin());
    cmd.args(["audit", "verify", "--config"]).arg(config);
    if let Some(h) = heads {
        cmd.arg("--heads").arg(h);
    }
    let out = cmd.output().expect("lienthong audit verify runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The signing rounds done (signed or idle) and the records left unsigned.
async fn signing(api: &Api) -> (f64, f64) {
    let text = api.http.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    let all = samples(&text);
    let rounds = all
        .iter()
        .filter(|s| s.name == "lienthong_audit_heads_total" && s.label("outcome") != Some("error"))
        .map(|s| s.value)
        .sum();
    let unsigned = all.iter().find(|s| s.name == "lienthong_audit_unsigned_records").map_or(f64::NAN, |s| s.value);
    (rounds, unsigned)
}

/// Waits until a signing round that began after the call has ended with no
/// record left unsigned: everything written before the call is signed.
async fn wait_signed(api: &Api) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let (start, _) = signing(api).await;
    loop {
        let (rounds, unsigned) = signing(api).await;
        if rounds >= start + 2.0 && unsigned == 0.0 {
            return;
        }
        assert!(Instant::now() < deadline, "the log's head was not signed in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_proves_what_passed_and_an_edit_of_the_database_is_found_at_its_record() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (opts, heads) = audit_options(dir.path(), "");
    let config = write_config(dir.path(), &sim.url(), &opts);
    let mut gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    let codes: Vec<String> = (0..5).map(|i| format!("000.00.31.H29-261124-{i:04}")).collect();
    for code in &codes {
        let (status, body) = api.submit(PORTAL_TOKEN, "application/json", json_dossier(code).to_string()).await;
        assert_eq!(status, 202, "{body}");
        let (status, body) = api.post_status(PORTAL_TOKEN, code, &item(code, 2, "20261122090000", "Tiếp nhận")).await;
        assert_eq!(status, 201, "{body}");
    }
    for code in &codes {
        api.wait_all_delivered(code, 2, Duration::from_secs(15)).await;
    }
    wait_signed(&api).await;
    // While the gateway runs: the store is opened read-only beside it.
    let (ok, out) = audit_verify(&config, Some(&heads));
    assert!(ok, "{out}");
    gw.terminate();

    let (ok, out) = audit_verify(&config, Some(&heads));
    assert!(ok, "{out}");
    assert!(out.contains("ok: every link holds"), "{out}");
    // 5 dossiers, 5 receipts, 5 events, and one attempt per delivery (the dossier
    // and its event, each to the agency and to DVCQG's progress sync).
    let db = gw.database();
    let records = count_rows(&db, "audit_log");
    assert!(records >= 15 + count_rows(&db, "deliveries"), "{records} records");
    assert!(out.contains(&format!("message log: {records} records")), "{out}");
    assert!(out.contains("(0 records not signed yet)"), "{out}");
    assert!(std::fs::read_to_string(&heads).unwrap().lines().count() >= 1);

    // An intruder changes who sent a dossier in one record.
    let seq = db.i64("SELECT seq FROM audit_log WHERE kind = 'dossier' ORDER BY seq LIMIT 1 OFFSET 2");
    db.exec(&format!("UPDATE audit_log SET meta = replace(meta, 'portal-h29', 'portal-h49') WHERE seq = {seq}"));
    let (ok, out) = audit_verify(&config, None);
    assert!(!ok, "the edit must fail verification: {out}");
    assert!(out.contains(&format!("BROKEN at record {seq}:")), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_cannot_sign_its_log_refuses_new_work_and_resumes_when_it_can() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (gw, api, heads) = signing_gateway(dir.path(), &sim).await;
    let code = |i: u32| format!("000.00.31.H29-261125-{i:04}");
    let (status, body) = api.submit(PORTAL_TOKEN, "application/json", json_dossier(&code(0)).to_string()).await;
    assert_eq!(status, 202, "{body}");
    wait_signed(&api).await;

    // The heads file can no longer be written (a directory took its place).
    std::fs::remove_file(&heads).unwrap();
    std::fs::create_dir(&heads).unwrap();
    let (status, body) = api.submit(PORTAL_TOKEN, "application/json", json_dossier(&code(1)).to_string()).await;
    assert_eq!(status, 202, "work goes on while the unsigned tail is young: {body}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut next = 2;
    let refusal = loop {
        let (status, body) = api.submit(PORTAL_TOKEN, "application/json", json_dossier(&code(next)).to_string()).await;
        if status == 503 {
            break body;
        }
        assert_eq!(status, 202, "{body}");
        assert!(Instant::now() < deadline, "the gateway kept accepting what it cannot prove");
        next += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(refusal["error"]["code"], "evidence_unavailable", "{refusal}");
    let dossiers_then = count_rows(&gw.database(), "dossiers");
    let event = item(&code(0), 2, "20261122090000", "Tiếp nhận");
    let (status, body) = api.post_status(PORTAL_TOKEN, &code(0), &event).await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("evidence_unavailable")), "{body}");
    let (status, ready) = api.get(OPERATOR_TOKEN, "/readyz").await;
    assert_eq!(status, 503, "{ready}");
    assert!(ready["problems"].to_string().contains("message log"), "{ready}");
    // Reads still work, and the refused requests stored nothing.
    let (status, _) = api.dossier(PORTAL_TOKEN, &code(0)).await;
    assert_eq!(status, 200);
    assert_eq!(count_rows(&gw.database(), "dossiers"), dossiers_then);
    assert_eq!(count_rows(&gw.database(), "status_events"), 0);

    // The file is writable again: the next signing succeeds and work resumes.
    std::fs::remove_dir(&heads).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = api.submit(PORTAL_TOKEN, "application/json", json_dossier(&code(100)).to_string()).await;
        if status == 202 {
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(Instant::now() < deadline, "work did not resume");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = api.get(OPERATOR_TOKEN, "/readyz").await;
    assert_eq!(status, 200);
    wait_signed(&api).await;
    let (ok, out) = audit_verify(&gw.config, Some(&heads));
    assert!(ok, "{out}");
}

/// The body's SHA-256 the log holds for the dossier, and the body the store keeps.
fn logged_body(db: &Database, code: &str) -> (Vec<u8>, Vec<u8>) {
    let digest = db.bytes(&format!("SELECT digest FROM audit_log WHERE kind = 'dossier' AND dossier_code = '{code}'"));
    let body = db.bytes(&format!("SELECT body FROM dossiers WHERE code = '{code}'"));
    (digest, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_bodies_or_past_their_retention_the_log_keeps_digests_that_still_verify() {
    let sim = simulator().await;
    for (i, (extra, label)) in [
        ("bodies = false", "personal data left out"),
        ("body_retention = \"1s\"\nprune_interval = \"200ms\"", "bodies past their retention"),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = tempfile::tempdir().unwrap();
        let (opts, heads) = audit_options(dir.path(), extra);
        let config = write_config(dir.path(), &sim.url(), &opts);
        let mut gw = GatewayProcess::start(&config).await;
        let api = Api::new(&gw.url);
        let code = &format!("000.00.31.H29-261128-{i:04}");
        let body = json_dossier(code).to_string();
        let (status, receipt) = api.submit(PORTAL_TOKEN, "application/json", body.clone()).await;
        assert_eq!(status, 202, "{receipt}");
        api.wait_all_delivered(code, 1, Duration::from_secs(10)).await;
        // The dossier itself is still whole for the API and the deliveries.
        let (status, d) = api.dossier(PORTAL_TOKEN, code).await;
        assert_eq!(
            (status, d["dossier"]["owner"]["name"].as_str()),
            (200, Some("Nguyễn Thị Hồng Nhung")),
            "{label}: {d}"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let digest = loop {
            let (digest, kept) = logged_body(&gw.database(), code);
            if kept.is_empty() {
                break digest;
            }
            assert!(Instant::now() < deadline, "{label}: the body is still kept");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let sha = audit_sha(body.as_bytes());
        assert_eq!(hex::encode(&digest), sha, "{label}: the log proves the exact bytes");
        assert_eq!(receipt["body_sha256"], sha, "{label}");
        wait_signed(&api).await;
        gw.terminate();
        let (ok, out) = audit_verify(&config, Some(&heads));
        assert!(ok, "{label}: {out}");
    }
}

fn audit_sha(bytes: &[u8]) -> String {
    hex::encode(gateway::audit::sha256(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_changed_before_they_are_signed_are_never_signed_and_new_work_stops() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (gw, api, heads) = signing_gateway(dir.path(), &sim).await;
    let code = |i: u32| format!("000.00.31.H29-261202-{i:04}");
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(&code(0)).to_string()).await.0, 202);
    wait_signed(&api).await;
    // Signing is held off while an intruder edits a record not yet signed.
    std::fs::remove_file(&heads).unwrap();
    std::fs::create_dir(&heads).unwrap();
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(&code(1)).to_string()).await.0, 202);
    let n = gw.database().exec(&format!(
        "UPDATE audit_log SET meta = replace(meta, 'portal-h29', 'portal-h49'), meta_sha = digest
         WHERE dossier_code = '{}' AND kind = 'dossier'",
        code(1)
    ));
    assert_eq!(n, 1);
    std::fs::remove_dir(&heads).unwrap();
    // The signer will not vouch for the changed log: new work stops, and says why.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = api.submit(PORTAL_TOKEN, "application/json", json_dossier(&code(2)).to_string()).await;
        if status == 503 {
            assert_eq!(body["error"]["code"], "evidence_unavailable", "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "the changed log was accepted: {status} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, ready) = api.get(OPERATOR_TOKEN, "/readyz").await;
    assert_eq!(status, 503);
    assert!(ready["problems"].to_string().contains("changed after it was signed"), "{ready}");
    assert!(!heads.exists(), "no head was signed after the change");
}
