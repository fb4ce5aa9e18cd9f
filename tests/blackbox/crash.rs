//! `kill -9` while clients submit: every 202 is stored and delivered exactly once.

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
