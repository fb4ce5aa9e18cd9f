//! The load generator against real servers: the gateway (in process, with the
//! benchmark's own configuration) and the agency simulators over HTTP, and a
//! server that stalls, to show the coordinated-omission correction at work.

#[path = "../../tests/common/dev_pki.rs"]
mod dev_pki;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use loadgen::bench::scenarios::{self, delivered, metric_sum};
use loadgen::bench::setup::{self, GatewayOptions, Pki};
use loadgen::client::{bearer, header, Req};
use loadgen::corpus::{self, Kind};
use loadgen::drive::{self, Mode, Plan};

/// A server that answers at once, except that request number `stall_at`
/// takes `stall` (as a server pausing for a collection or a disk flush).
async fn stalling_server(stall_at: u64, stall: Duration) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let count = count.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req| {
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n == stall_at {
                            tokio::time::sleep(stall).await;
                        }
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"ok"))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    addr
}

fn plan(mode: Mode, connections: usize, target: SocketAddr, secs: u64) -> Plan {
    Plan {
        mode,
        duration: Duration::from_secs(secs),
        connections,
        targets: vec![target],
        drain: Duration::from_secs(10),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_charges_a_stall_to_every_request_scheduled_behind_it() {
    let stall = Duration::from_millis(500);
    let addr = stalling_server(20, stall).await;
    let source = drive::repeat(Req::get("/", vec![]));
    // 200/s on one connection for 2 s: the stall holds up the ~100 requests
    // scheduled during it, and each is charged from its scheduled time.
    let open = tokio::task::spawn_blocking({
        let source = source.clone();
        move || drive::run(&plan(Mode::Open { rate: 200.0 }, 1, addr, 2), source)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(open.all_ok() && open.corrected, "{open:?}");
    assert!(open.sent >= 390, "the whole schedule is sent: {}", open.sent);
    // A quarter of the requests were scheduled during the stall: p90 shows it.
    assert!(open.latency.p90 >= 100_000, "corrected p90 {} µs", open.latency.p90);
    assert!(open.latency.max >= 400_000, "the stalled request itself: {} µs", open.latency.max);

    // Closed loop measures service time: one slow request among many fast ones.
    let addr = stalling_server(20, stall).await;
    let closed =
        tokio::task::spawn_blocking(move || drive::run(&plan(Mode::Closed { concurrency: 1 }, 1, addr, 2), source))
            .await
            .unwrap()
            .unwrap();
    assert!(closed.all_ok() && !closed.corrected, "{closed:?}");
    assert!(closed.latency.p90 < 100_000, "service-time p90 {} µs", closed.latency.p90);
    assert!(closed.latency.max >= 400_000, "the stall is still seen once: {} µs", closed.latency.max);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bench_gateway_accepts_signed_dossiers_and_delivers_each_to_the_simulators() {
    let pki = Pki::ensure(&dev_pki::repo_root(), &dev_pki::dev_pki().dir).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = loadgen::procs::free_ports(4).unwrap();
    let sims = gateway::demo::Simulators::start_at(
        SocketAddr::from(([127, 0, 0, 1], first)),
        "lienthong",
        setup::SIM_PASSWORD,
    )
    .await
    .unwrap();
    let path = setup::write_config(
        dir.path(),
        &pki,
        first,
        &GatewayOptions { status_sync: true, ..Default::default() },
        Some(1),
    )
    .unwrap();
    let config = gateway::Config::load(&path).unwrap_or_else(|e| panic!("the bench configuration is valid: {e:?}"));
    assert!(config.serving_problem().is_none(), "{:?}", config.serving_problem());
    let gw = gateway::Gateway::start(config).await.unwrap();
    let addr: SocketAddr = gw.url().trim_start_matches("http://").parse().unwrap();

    // 60 XML dossiers signed by portal-hanoi (RSA-2048), 40 JWS by it, each unique.
    let hanoi = pki.identity("portal-hanoi").unwrap();
    let xml = corpus::build(Kind::SignedXml, setup::unit::XML_RSA, 60, Some(&hanoi), None).unwrap();
    let jws = corpus::build(Kind::SignedJson, setup::unit::JWS_RSA, 40, Some(&hanoi), None).unwrap();
    let mut reqs = scenarios::submissions(&xml, true, setup::HANOI_TOKEN);
    reqs.extend(scenarios::submissions(&jws, false, setup::HANOI_TOKEN));
    let out = tokio::task::spawn_blocking(move || {
        drive::run(&plan(Mode::Closed { concurrency: 8 }, 8, addr, 30), drive::corpus(reqs))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(out.statuses.get(&202), Some(&100), "every dossier accepted once: {:?}", out.statuses);
    assert_eq!(out.sent, 100, "the corpus ran out, not the clock");

    // A dossier signed by portal-hcm sent as portal-hanoi is refused: the
    // harness really sends what the gateway checks.
    let hcm = pki.identity("portal-hcm").unwrap();
    let wrong = corpus::build(Kind::SignedXml, setup::unit::XML_ECDSA, 1, Some(&hcm), None).unwrap();
    let refused = tokio::task::spawn_blocking(move || {
        let reqs = scenarios::submissions(&wrong, true, setup::HANOI_TOKEN);
        drive::run(&plan(Mode::Closed { concurrency: 1 }, 1, addr, 10), drive::corpus(reqs))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(refused.ok, 0, "{:?}", refused.statuses);
    assert!(refused.statuses.keys().all(|s| (400..500).contains(s)), "{:?}", refused.statuses);

    // Every dossier reaches Justice and DVCQG: 200 deliveries, counted by the
    // gateway and by the simulators.
    tokio::task::spawn_blocking(move || {
        scenarios::wait_delivered(&[addr], 200, std::time::Instant::now(), Duration::from_secs(60))
    })
    .await
    .unwrap()
    .unwrap();
    let received: std::collections::BTreeMap<_, _> = sims.received().into_iter().map(|(a, _, n)| (a, n)).collect();
    assert_eq!(received["moj"], 100, "{received:?}");
    assert_eq!(received["dvcqg"], 100, "{received:?}");
    let accepted = tokio::task::spawn_blocking(move || {
        (metric_sum(addr, "lienthong_dossiers_accepted_total", "").unwrap(), delivered(&[addr]).unwrap())
    })
    .await
    .unwrap();
    assert_eq!(accepted, (100.0, 200));

    // Look-ups and status posts of the scenarios go through too.
    let token = bearer(setup::HANOI_TOKEN);
    let lookup = Req::get("/v1/agencies/moit/lookups/licence?number=15%2F2025%2FGPBLR-SCT", vec![token]);
    let status = Req::post(
        format!("/v1/dossiers/{}/status", corpus::code(setup::unit::XML_RSA, 0)),
        vec![bearer(setup::HANOI_TOKEN), header("content-type", "application/json")],
        format!(
            r#"{{"MaHoSo":"{}","TrangThai":"2","ThoiDiemXuLy":"{}"}}"#,
            corpus::code(setup::unit::XML_RSA, 0),
            (chrono::Utc::now() + chrono::Duration::hours(7) - chrono::Duration::minutes(1)).format("%Y%m%d%H%M%S")
        ),
    );
    let (l, s) = tokio::task::spawn_blocking(move || {
        let l = drive::run(&plan(Mode::Open { rate: 50.0 }, 4, addr, 1), drive::repeat(lookup)).unwrap();
        let s = drive::run(&plan(Mode::Closed { concurrency: 1 }, 1, addr, 5), drive::corpus(vec![status])).unwrap();
        (l, s)
    })
    .await
    .unwrap();
    assert!(l.all_ok() && l.sent >= 45, "look-ups: {l:?}");
    assert_eq!(s.statuses.get(&201), Some(&1), "status: {:?}", s.statuses);
    gw.shutdown().await;
    sims.shutdown().await;
}
