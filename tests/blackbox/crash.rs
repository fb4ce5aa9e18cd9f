//! `kill -9` while clients submit dossiers and post their status events: every
//! acknowledged dossier and event is stored and delivered exactly once, every feed
//! is complete and in order, and the message log verifies.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_dossier_survives_sigkill_and_is_delivered_once() {
    let sim = simulator().await;
    // Slow the agency a little so deliveries are in flight when the kill lands.
    sim.set_faults(adapters::sim::Faults { latency: Duration::from_millis(5), ..Default::default() });
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url(), &Options::default());
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let seq = Arc::new(AtomicU32::new(0));

    for round in 0..3 {
        let mut gw = GatewayProcess::start(&config).await;
        let api = Api::new(&gw.url);
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for _ in 0..6 {
            let (api, stop, acked, seq) = (api.clone(), stop.clone(), acked.clone(), seq.clone());
            clients.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let n = seq.fetch_add(1, Ordering::Relaxed);
                    let code = format!("000.00.31.H29-261122-{n:04}");
                    let sent = api
                        .try_post(PORTAL_TOKEN, "/v1/dossiers", "application/json", json_dossier(&code).to_string())
                        .await;
                    match sent {
                        Ok(r) if r.status() == 202 => {
                            acked.lock().unwrap().insert(code);
                        }
                        Ok(r) => panic!("unexpected status {} in round {round}", r.status()),
                        Err(_) => break, // the gateway died mid-request: outcome unknown
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(700 + 300 * round)).await;
        gw.kill9();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.await.unwrap();
        }
    }

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 50, "the load was real: {} acknowledged", acked.len());
    let gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    for code in &acked {
        api.wait_delivery(code, "delivered", Duration::from_secs(30)).await;
    }
    // Exactly once at the agency: no dossier recorded twice, every 202 present.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in sim.received() {
        *seen.entry(r.ma_ho_so).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    for code in &acked {
        assert!(seen.contains_key(code), "{code} got a 202 but never reached the agency");
    }
    assert_eq!(count_rows(&gw.database(), "deliveries"), count_rows(&gw.database(), "dossiers"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_answers_what_it_accepted_without_5xx_and_loses_nothing() {
    let sim = simulator().await;
    sim.set_faults(adapters::sim::Faults { latency: Duration::from_millis(5), ..Default::default() });
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url(), &Options::default());
    let mut gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let server_errors = Arc::new(AtomicU32::new(0));
    let seq = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..6 {
        let (api, stop, acked, seq, errors) =
            (api.clone(), stop.clone(), acked.clone(), seq.clone(), server_errors.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let code = format!("000.00.31.H29-261123-{:04}", seq.fetch_add(1, Ordering::Relaxed));
                let sent = api
                    .try_post(PORTAL_TOKEN, "/v1/dossiers", "application/json", json_dossier(&code).to_string())
                    .await;
                // Once the gateway has stopped listening, a request gets no answer
                // at all: that is not a 5xx, and the client retries elsewhere.
                let Ok(r) = sent else { continue };
                match r.status().as_u16() {
                    202 => drop(acked.lock().unwrap().insert(code)),
                    s if s >= 500 => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("{s}: {}", r.text().await.unwrap_or_default());
                    }
                    _ => {}
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    gw.terminate();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.await;
    }
    assert_eq!(server_errors.load(Ordering::Relaxed), 0, "no 5xx during the shutdown");
    let acked: Vec<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(!acked.is_empty());

    // Everything acknowledged is stored and, after a restart, delivered once.
    let gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    for code in &acked {
        api.wait_all_delivered(code, 1, Duration::from_secs(30)).await;
    }
    let mut at_sim: HashMap<String, u32> = HashMap::new();
    for r in sim.received() {
        *at_sim.entry(r.ma_ho_so).or_default() += 1;
    }
    for code in &acked {
        assert_eq!(at_sim.get(code), Some(&1), "{code} delivered exactly once");
    }
}

/// How many times larger than in CI the lifecycle crash test runs:
/// `LIENTHONG_CRASH_SCALE=10` for a manual run of thousands of dossiers.
fn crash_scale() -> u32 {
    std::env::var("LIENTHONG_CRASH_SCALE").ok().and_then(|v| v.parse().ok()).filter(|n| *n >= 1).unwrap_or(1)
}

/// The lifecycle each dossier goes through after its submission: who posts
/// which state at which time.
pub(crate) const STEPS: [(&str, u8, &str); 4] = [
    (PORTAL_TOKEN, 2, "20261122090000"),
    (MINISTRY_TOKEN, 4, "20261122100000"),
    (MINISTRY_TOKEN, 9, "20261122110000"),
    (PORTAL_TOKEN, 10, "20261122120000"),
];

/// Takes a dossier from `step` (0: submit; 1 to 4: [`STEPS`]) to the end; on a
/// request with no answer (the gateway died) returns the step to resume at.
pub(crate) async fn advance(api: &Api, code: &str, mut step: usize) -> Result<(), usize> {
    while step <= STEPS.len() {
        let sent = if step == 0 {
            api.try_post(PORTAL_TOKEN, "/v1/dossiers", "application/json", json_dossier(code).to_string()).await
        } else {
            let (token, state, at) = STEPS[step - 1];
            let body = crate::status::item(code, state, at, "Bước xử lý").to_string();
            api.try_post(token, &format!("/v1/dossiers/{code}/status"), "application/json", body).await
        };
        let Ok(r) = sent else { return Err(step) };
        let status = r.status().as_u16();
        // A step resent after an unknown outcome may be the stored one: 200.
        let want: &[u16] = if step == 0 { &[202, 200] } else { &[201, 200] };
        assert!(want.contains(&status), "{code} step {step}: {status} {}", r.text().await.unwrap_or_default());
        step += 1;
    }
    Ok(())
}

/// Asserts the DVCQG simulator got each dossier once and each dossier's
/// progress as [`STEPS`], in order; returns those states.
pub(crate) fn assert_delivered_once_in_order(sim: &adapters::dvcqg::DvcqgSimulator, codes: &[String]) -> Vec<u64> {
    let want: Vec<u64> = STEPS.iter().map(|(_, s, _)| u64::from(*s)).collect();
    let mut dossiers: HashMap<String, usize> = HashMap::new();
    for r in sim.received() {
        *dossiers.entry(r.ma_ho_so).or_default() += 1;
    }
    let mut progress: HashMap<String, Vec<u64>> = HashMap::new();
    for p in sim.progress() {
        progress.entry(p.ma_ho_so).or_default().push(p.trang_thai.parse().unwrap());
    }
    for code in codes {
        assert_eq!(dossiers.get(code), Some(&1), "{code} delivered exactly once");
        assert_eq!(progress.get(code), Some(&want), "{code}'s progress at DVCQG");
    }
    want
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dossiers_and_their_lifecycles_survive_repeated_sigkill_with_feeds_complete_and_the_log_intact() {
    let scale = crash_scale();
    let sim = simulator().await;
    sim.set_faults(adapters::sim::Faults { latency: Duration::from_millis(3), ..Default::default() });
    let dir = tempfile::tempdir().unwrap();
    // Room for a signing round on a loaded machine: the 503 policy is tested in audit.rs.
    let (opts, heads) = crate::audit::audit_options(dir.path(), "max_unsigned_age = \"10s\"");
    let config = write_config(dir.path(), &sim.url(), &opts);
    // Dossiers cut short by a kill, with the step to resume at.
    let unfinished: Arc<Mutex<Vec<(String, usize)>>> = Arc::default();
    let started: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let seq = Arc::new(AtomicU32::new(0));
    let mut rng_state = 0x2545_f491_u64;
    for round in 0..(3 * scale) {
        let mut gw = GatewayProcess::start(&config).await;
        let api = Api::new(&gw.url);
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for _ in 0..6 {
            let (api, stop, unfinished, started, seq) =
                (api.clone(), stop.clone(), unfinished.clone(), started.clone(), seq.clone());
            clients.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let resumed = unfinished.lock().unwrap().pop();
                    let (code, step) = resumed.unwrap_or_else(|| {
                        let code = format!("000.00.31.H29-261126-{:05}", seq.fetch_add(1, Ordering::Relaxed));
                        started.lock().unwrap().insert(code.clone());
                        (code, 0)
                    });
                    if let Err(step) = advance(&api, &code, step).await {
                        unfinished.lock().unwrap().push((code, step));
                        return;
                    }
                }
            }));
        }
        // A kill at a pseudo-random moment between 0.4 s and 1.2 s into the round.
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        tokio::time::sleep(Duration::from_millis(400 + rng_state % 800)).await;
        gw.kill9();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.await.unwrap();
        }
        eprintln!("round {round}: {} dossiers started", started.lock().unwrap().len());
    }

    let mut gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    let rest: Vec<(String, usize)> = std::mem::take(&mut *unfinished.lock().unwrap());
    for (code, step) in rest {
        advance(&api, &code, step).await.expect("the gateway stays up");
    }
    let codes: Vec<String> = started.lock().unwrap().iter().cloned().collect();
    assert!(codes.len() >= 50, "the load was real: {} dossiers", codes.len());
    // Every delivery (the dossier and each event's progress sync) ends delivered.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    for code in &codes {
        loop {
            let (status, d) = api.dossier(OPERATOR_TOKEN, code).await;
            assert_eq!(status, 200, "{code}: {d}");
            let deliveries = d["deliveries"].as_array().unwrap();
            if d["history"].as_array().unwrap().len() == STEPS.len()
                && deliveries.iter().all(|v| v["state"] == "delivered")
            {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{code} not delivered in time: {d}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let want = assert_delivered_once_in_order(&sim, &codes);
    // Both parties' feeds hold every event once, each dossier's in order.
    for token in [PORTAL_TOKEN, MINISTRY_TOKEN] {
        let (events, _) = api.drain_feed(token, None, 500).await;
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
    gw.terminate();
    let (ok, out) = crate::audit::audit_verify(&config, Some(&heads));
    assert!(ok, "{out}");
    assert!(out.contains("(0 records not signed yet)"), "the last head is signed at shutdown: {out}");
    eprintln!("{} dossiers, {} events; {}", codes.len(), codes.len() * STEPS.len(), out.trim());
}
