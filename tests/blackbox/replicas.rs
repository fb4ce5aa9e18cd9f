//! Three gateway replicas on one PostgreSQL database (in the PostgreSQL column
//! only): a load spread over all three, one replica killed with SIGKILL mid-way,
//! and afterwards every accepted dossier delivered exactly once, every feed
//! complete and in order whichever replica serves it, and one message log that
//! verifies.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::crash::{advance, STEPS};
use crate::support::*;

/// The portal's (or ministry's) whole feed, each page from the next replica in turn.
async fn drain_across(apis: &[&Api], token: &str) -> Vec<serde_json::Value> {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    for turn in 0.. {
        let api = apis[turn % apis.len()];
        let query = match &cursor {
            Some(c) => format!("after={c}&limit=97"),
            None => "limit=97".to_owned(),
        };
        let (status, page) = api.feed(token, &query).await;
        assert_eq!(status, 200, "{page}");
        events.extend(page["events"].as_array().cloned().unwrap_or_default());
        if let Some(next) = page["next"].as_str() {
            cursor = Some(next.to_owned());
        }
        if !page["more"].as_bool().unwrap() {
            break;
        }
    }
    events
}

/// A counter of a replica's exposition, summed over its series.
async fn counter(api: &Api, name: &str) -> f64 {
    let text = api.http.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    samples(&text).iter().filter(|s| s.name == name).map(|s| s.value).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_the_work_and_one_killed_mid_way_loses_nothing() {
    let sim = simulator().await;
    sim.set_faults(adapters::sim::Faults { latency: Duration::from_millis(3), ..Default::default() });
    let root = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (0..3).map(|i| root.path().join(format!("replica-{i}"))).collect();
    for d in &dirs {
        std::fs::create_dir_all(d).unwrap();
    }
    // One database: the first replica's configuration creates it, the others name it.
    crate::stores::store_section(&dirs[0]);
    for d in &dirs[1..] {
        std::fs::copy(dirs[0].join("postgres-database"), d.join("postgres-database")).unwrap();
    }
    let mut heads = Vec::new();
    let configs: Vec<PathBuf> = dirs
        .iter()
        .map(|d| {
            // Room for a signing round on a loaded machine: the 503 policy is tested in audit.rs.
            let (mut opts, h) = crate::audit::audit_options(d, "max_unsigned_age = \"10s\"");
            opts.store_extra = "replicas = 3".into();
            heads.push(h);
            write_config(d, &sim.url(), &opts)
        })
        .collect();
    let mut gws = Vec::new();
    for c in &configs {
        gws.push(GatewayProcess::start(c).await);
    }
    let apis: Arc<Vec<Api>> = Arc::new(gws.iter().map(|g| Api::new(&g.url)).collect());

    // Nine clients, three per replica; a client whose replica dies resumes its
    // dossier on the next one.
    const KILLED: usize = 1;
    let dead = Arc::new(AtomicBool::new(false));
    let started: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let accepted_by: Arc<[AtomicU32; 3]> = Arc::default();
    let unfinished: Arc<Mutex<Vec<(String, usize)>>> = Arc::default();
    let seq = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for i in 0..9 {
        let (apis, dead, started, accepted_by, unfinished, seq, stop) = (
            apis.clone(),
            dead.clone(),
            started.clone(),
            accepted_by.clone(),
            unfinished.clone(),
            seq.clone(),
            stop.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut at = i % 3;
            while !stop.load(Ordering::Relaxed) {
                if at == KILLED && dead.load(Ordering::Relaxed) {
                    at = (at + 1) % 3;
                }
                let code = format!("000.00.31.H29-261202-{:05}", seq.fetch_add(1, Ordering::Relaxed));
                started.lock().unwrap().insert(code.clone());
                let mut step = 0;
                loop {
                    match advance(&apis[at], &code, step).await {
                        Ok(()) => break,
                        Err(s) => {
                            // No answer: this replica is gone; the next one resumes.
                            step = s;
                            at = (at + 1) % 3;
                            if stop.load(Ordering::Relaxed) {
                                unfinished.lock().unwrap().push((code.clone(), step));
                                return;
                            }
                        }
                    }
                }
                accepted_by[at].fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    gws[KILLED].kill9();
    dead.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let live: Vec<&Api> = [0, 2].iter().map(|&i| &apis[i]).collect();
    let rest = std::mem::take(&mut *unfinished.lock().unwrap());
    for (code, step) in rest {
        advance(live[0], &code, step).await.expect("the live replicas stay up");
    }
    let codes: Vec<String> = started.lock().unwrap().iter().cloned().collect();
    assert!(codes.len() >= 30, "the load was real: {} dossiers", codes.len());
    for (i, n) in accepted_by.iter().enumerate() {
        assert!(n.load(Ordering::Relaxed) > 0, "replica {i} finished dossiers too");
    }

    // Every delivery ends delivered, the killed replica's claims taken over once
    // their lease ended; each replica alive delivered some.
    let deadline = Instant::now() + Duration::from_secs(60);
    for (n, code) in codes.iter().enumerate() {
        loop {
            let (status, d) = live[n % 2].dossier(OPERATOR_TOKEN, code).await;
            assert_eq!(status, 200, "{code}: {d}");
            if d["history"].as_array().unwrap().len() == STEPS.len()
                && d["deliveries"].as_array().unwrap().iter().all(|v| v["state"] == "delivered")
            {
                break;
            }
            assert!(Instant::now() < deadline, "{code} not delivered in time: {d}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    for api in &live {
        assert!(counter(api, "lienthong_delivery_attempts_total").await > 0.0, "{} delivered too", api.base);
    }

    // The agency got each dossier once, and each dossier's progress in order.
    // The agency got each dossier once, and each dossier's progress in order.
    let want = crate::crash::assert_delivered_once_in_order(&sim, &codes);

    // Each party's feed, read a page from one replica and the next from the
    // other, holds every event once, each dossier's in order.
    for token in [PORTAL_TOKEN, MINISTRY_TOKEN] {
        let events = drain_across(&live, token).await;
        let mut by_dossier: HashMap<String, Vec<u64>> = HashMap::new();
        for e in &events {
            by_dossier
                .entry(e["dossier"].as_str().unwrap().to_owned())
                .or_default()
                .push(e["event"]["status"].as_u64().unwrap());
        }
        assert_eq!(events.len(), codes.len() * STEPS.len(), "{token}'s feed holds every event once");
        for code in &codes {
            assert_eq!(by_dossier.get(code), Some(&want), "{code} in {token}'s feed");
        }
    }

    // A long-poll waiting on one replica wakes for an event posted on the other.
    let (_, cursor) = live[1].drain_feed(MINISTRY_TOKEN, None, 500).await;
    let cursor = cursor.expect("a cursor after the last event");
    let code = "000.00.31.H29-261202-99999";
    assert_eq!(live[0].submit(PORTAL_TOKEN, "application/json", json_dossier(code).to_string()).await.0, 202);
    let waiting = {
        let api = live[1].clone();
        tokio::spawn(async move { api.feed(MINISTRY_TOKEN, &format!("after={cursor}&wait=20")).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posted = Instant::now();
    let (status, _) =
        live[0].post_status(PORTAL_TOKEN, code, &crate::status::item(code, 2, "20261122090000", "x")).await;
    assert_eq!(status, 201);
    let (status, page) = waiting.await.unwrap();
    assert_eq!(status, 200);
    let woke = posted.elapsed();
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "the long-poll on the other replica returned the event: {page}");
    assert_eq!(events[0]["dossier"], code);
    eprintln!(
        "{} dossiers over 3 replicas ({:?} finished per replica); cross-replica wake-up in {woke:?}",
        codes.len(),
        accepted_by
    );

    // One message log, whichever replica wrote each record.
    gws[0].terminate();
    gws[2].terminate();
    let (ok, out) = crate::audit::audit_verify(&configs[0], Some(&heads[0]));
    assert!(ok, "{out}");
    assert!(out.contains("(0 records not signed yet)"), "{out}");
    eprintln!("{}", out.trim());
}
