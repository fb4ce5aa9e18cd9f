//! Rate limits per member and class, with `Retry-After` and no work done on a
//! refused request; and the per-agency backlog that turns new dossiers away.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::status::metric;
use crate::support::*;

fn code(i: u32) -> String {
    format!("000.00.31.H49-261122-{i:04}")
}

/// Sends only the headers of a submission, announcing a body that never comes,
/// and returns the raw response head.
async fn headers_only(base: &str, token: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/dossiers HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await.expect("answered").unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_class_is_limited_per_member_with_retry_after_and_no_work_done() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        portal_b_extra:
            "limits = { submit = { per_second = 0.2, burst = 2 }, lookup = { per_second = 0.1, burst = 1 }, \
                         read = { per_second = 0.1, burst = 3 } }"
                .into(),
        ..Options::default()
    };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);

    // Submissions: the burst, then 429 with the wait, and nothing stored.
    for i in 1..=2 {
        assert_eq!(api.submit(PORTAL_B_TOKEN, "application/json", json_dossier(&code(i)).to_string()).await.0, 202);
    }
    let r = api
        .try_post(PORTAL_B_TOKEN, "/v1/dossiers", "application/json", json_dossier(&code(3)).to_string())
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    // One submission every 5 s: the wait is what is left of it, in whole seconds.
    let retry_after: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=5).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(count_rows(&gw.database(), "dossiers"), 2, "the refused dossier was not stored");
    // A refusal does not wait for the body: the headers alone are answered.
    let started = Instant::now();
    let answer = headers_only(&api.base, PORTAL_B_TOKEN).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(2), "answered without reading the body");
    // Status posts share the submission bucket; another member has its own.
    let (status, _) =
        api.post_status(PORTAL_B_TOKEN, &code(1), &crate::status::item(&code(1), 2, "20261122083000", "x")).await;
    assert_eq!(status, 429);
    let other = "000.00.31.H29-261122-0001";
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(other).to_string()).await.0, 202);
    // After the wait, the member may submit again.
    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(100)).await;
    assert_eq!(api.submit(PORTAL_B_TOKEN, "application/json", json_dossier(&code(3)).to_string()).await.0, 202);

    // Look-ups: one, then 429 with a wait of up to 10 s, and the agency was not asked.
    let lookup = format!("/v1/agencies/dvcqg/lookups/dossier?code={}", code(1));
    assert_eq!(api.get(PORTAL_B_TOKEN, &lookup).await.0, 200);
    // The simulator is quiet once every dossier is delivered.
    for c in [code(1), code(2), code(3), other.to_owned()] {
        api.wait_all_delivered(&c, 1, Duration::from_secs(10)).await;
    }
    let asked = sim.stats().requests;
    let r = api.http.get(format!("{}{lookup}", api.base)).bearer_auth(PORTAL_B_TOKEN).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&wait), "{wait}");
    assert_eq!(sim.stats().requests, asked, "a refused look-up never reaches the agency");

    // Reads: feeds, dossiers and figures share one bucket.
    let mut refused = 0;
    for path in ["/v1/feed", "/v1/stats", "/v1/feed", "/v1/feed"] {
        let (status, _) = api.get(PORTAL_B_TOKEN, path).await;
        refused += u32::from(status == 429);
    }
    assert_eq!(refused, 1, "a burst of 3 reads, then one every 10 s");

    let submit = metric(&api, "lienthong_rate_limited_total", &[("member", "portal-h49"), ("class", "submit")]).await;
    assert_eq!(submit, Some(3.0));
    let lookups = metric(&api, "lienthong_rate_limited_total", &[("member", "portal-h49"), ("class", "lookup")]).await;
    assert_eq!(lookups, Some(1.0));
    // Every member's series exist from the start, at zero until it is limited.
    for class in ["submit", "lookup", "read"] {
        let labels = [("member", "portal-h29"), ("class", class)];
        let unlimited = metric(&api, "lienthong_rate_limited_total", &labels).await;
        assert_eq!(unlimited, Some(0.0), "the other member was never limited ({class})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_with_a_full_backlog_turns_new_dossiers_away_and_the_others_flow() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    // Agency `other` is down (nothing listens there): its deliveries wait.
    let opts = Options {
        other_url: Some("http://127.0.0.1:9".into()),
        // No status sync: every dossier waits for its own agency only.
        delivery_extra: "max_queue_per_agency = 3\nstatus_sync_agency = \"\"".into(),
        ..Options::default()
    };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    let for_other = |i: u32| json_dossier_of(&code(i), "3.000181");
    for i in 1..=3 {
        assert_eq!(api.submit(PORTAL_B_TOKEN, "application/json", for_other(i)).await.0, 202);
    }
    let r = api.try_post(PORTAL_B_TOKEN, "/v1/dossiers", "application/json", for_other(4)).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "agency_backlog_full", "{body}");
    assert_eq!(count_rows(&gw.database(), "dossiers"), 3);

    // Dossiers for DVCQG, which keeps up, are accepted; the backlog stays full
    // after the gateway reads it back from the store.
    for i in 10..13 {
        assert_eq!(api.submit(PORTAL_B_TOKEN, "application/json", json_dossier(&code(i)).to_string()).await.0, 202);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(api.submit(PORTAL_B_TOKEN, "application/json", for_other(5)).await.0, 503);
    let depth = metric(&api, "lienthong_queue_depth", &[("agency", "other")]).await;
    assert_eq!(depth, Some(3.0));
    let refused = metric(&api, "lienthong_dossiers_refused_total", &[("reason", "agency_backlog_full")]).await;
    assert_eq!(refused, Some(2.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_keep_to_each_agencys_rate_and_concurrency_and_wait_instead_of_failing() {
    let sim = simulator().await;
    // Agency `other` answers slowly, on its own simulator.
    let slow = simulator().await;
    // Slow enough that the eight are queued while the first two are still in
    // flight, even when submissions are slow on a busy machine.
    slow.set_faults(adapters::sim::Faults { latency: Duration::from_millis(1000), ..Default::default() });
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        other_url: Some(slow.url()),
        delivery_extra: "status_sync_agency = \"\"".into(),
        extra: "[delivery.agencies.other]\nmax_concurrent = 2\n\n\
                [delivery.agencies.dvcqg]\nrate = { per_second = 5, burst = 1 }\n"
            .into(),
        ..Options::default()
    };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    let for_other = |i: u32| json_dossier_of(&code(i), "3.000181");
    let mut submitted = tokio::task::JoinSet::new();
    for i in 1..=8 {
        let (api, body) = (api.clone(), for_other(i));
        submitted.spawn(async move { api.submit(PORTAL_B_TOKEN, "application/json", body).await });
    }
    while let Some(answer) = submitted.join_next().await {
        let (status, body) = answer.unwrap();
        assert_eq!(status, 202, "{body}");
    }
    for i in 11..=16 {
        assert_eq!(api.submit(PORTAL_B_TOKEN, "application/json", json_dossier(&code(i)).to_string()).await.0, 202);
    }
    let mut delivered_at = Vec::new();
    for i in (1..=8).chain(11..=16) {
        let view = api.wait_all_delivered(&code(i), 1, Duration::from_secs(30)).await;
        let d = &view["deliveries"][0];
        assert_eq!(d["attempts"], 1, "waited for capacity, never failed for lack of it: {view}");
        if i > 10 {
            let at = chrono::DateTime::parse_from_rfc3339(d["delivered_at"].as_str().unwrap()).unwrap();
            delivered_at.push(at);
        }
    }
    // Eight queued at once for a slow agency, never more than two in flight.
    assert_eq!(slow.server_stats().max_in_flight, 2, "{:?}", slow.server_stats());
    // Six for DVCQG at five a second, one at a time: at least a second apart
    // end to end (a little less for the clock's resolution).
    delivered_at.sort();
    let spread = (*delivered_at.last().unwrap() - delivered_at[0]).to_std().unwrap();
    assert!(spread >= Duration::from_millis(900), "delivered within {spread:?}");
    assert!(sim.server_stats().max_in_flight <= 2, "{:?}", sim.server_stats());
}

/// Reads until the server closes the connection or `within` passes: whether it
/// closed, and what it sent.
async fn read_until_closed(tcp: &mut tokio::net::TcpStream, within: Duration) -> (bool, String) {
    let mut got = Vec::new();
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, tcp.read(&mut buf)).await {
            Err(_) => return (false, String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(0)) | Ok(Err(_)) => return (true, String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_dropped_and_connection_request_and_time_limits_hold() {
    let sim = simulator().await;
    let slow = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        other_url: Some(slow.url()),
        lookup_timeout: "10s",
        server_extra:
            "header_read_timeout = \"1s\"\nbody_read_timeout = \"1s\"\nmax_connections = 4\nmax_header_bytes = 16384\n\
                       max_requests = 1\nrequest_deadline = \"1500ms\""
                .into(),
        ..Options::default()
    };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    let addr = gw.url.trim_start_matches("http://").to_owned();

    // Slow-loris: headers trickling in a byte at a time are cut off at the
    // header timeout, while the client is still sending.
    let mut loris = tokio::net::TcpStream::connect(&addr).await.unwrap();
    loris.write_all(b"POST /v1/dossiers HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    let trickle = async {
        for b in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if loris.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(4), trickle).await;
    let (closed, _) = read_until_closed(&mut loris, Duration::from_secs(2)).await;
    assert!(closed, "the slow client was not dropped");
    assert!(started.elapsed() < Duration::from_secs(6));
    // A body that stops coming gets 408 at the body timeout.
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/dossiers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PORTAL_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"MaHoSo\":"
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let (_, answer) = read_until_closed(&mut stalled, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A head over the header limit gets 431, and is not read to its end.
    let mut big = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(100_000));
    let _ = big.write_all(head.as_bytes()).await;
    let (_, answer) = read_until_closed(&mut big, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");

    // One request at a time: while a slow look-up is being answered, the next
    // request is refused with 503 and Retry-After; health is still answered.
    slow.set_faults(adapters::sim::Faults { latency: Duration::from_millis(400), ..Default::default() });
    let lookup = {
        let api = api.clone();
        tokio::spawn(async move {
            api.get(OPERATOR_TOKEN, "/v1/agencies/other/lookups/dossier?code=000.00.31.H29-261122-0001").await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = api.http.get(format!("{}/v1/stats", api.base)).bearer_auth(PORTAL_TOKEN).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (503, "1"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    assert_eq!(api.http.get(format!("{}/healthz", api.base)).send().await.unwrap().status(), 200);
    // (A login and the look-up, each slowed, within the 1.5 s deadline.)
    assert_ne!(lookup.await.unwrap().0, 503, "the slow look-up itself was answered");

    // A request over the deadline is cut off with 503 (before the 2 s agency timeout).
    slow.set_faults(adapters::sim::Faults { latency: Duration::from_secs(5), ..Default::default() });
    let started = Instant::now();
    let (status, body) =
        api.get(OPERATOR_TOKEN, "/v1/agencies/other/lookups/dossier?code=000.00.31.H29-261122-0001").await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("deadline_exceeded")), "{body}");
    assert!(started.elapsed() < Duration::from_secs(4), "cut off at the 1.5 s deadline: {:?}", started.elapsed());
    slow.set_faults(adapters::sim::Faults::default());

    // At most four connections: a fifth is closed before anything is read.
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fifth = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _ = fifth.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (closed, answer) = read_until_closed(&mut fifth, Duration::from_millis(800)).await;
    assert!(closed && answer.is_empty(), "{answer:?}");
    drop(open);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(api.http.get(format!("{}/healthz", api.base)).send().await.unwrap().status(), 200);
    for limit in ["requests", "deadline", "connections"] {
        let n = metric(&api, "lienthong_overloaded_total", &[("limit", limit)]).await;
        assert!(n.unwrap_or(0.0) >= 1.0, "{limit}: {n:?}");
    }
}

/// The 95th percentile of `d`.
fn p95(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[(d.len() * 95 / 100).min(d.len() - 1)]
}

/// `n` submissions of portal-h29, one after another: each one's latency.
async fn well_behaved(api: &Api, first: u32, n: u32) -> Vec<Duration> {
    let mut out = Vec::new();
    for i in first..first + n {
        let body = json_dossier(&format!("000.00.31.H29-261122-{i:04}")).to_string();
        let started = Instant::now();
        assert_eq!(api.submit(PORTAL_TOKEN, "application/json", body).await.0, 202);
        out.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fairness_a_member_flooding_far_over_its_limit_does_not_slow_another() {
    const LIMIT: f64 = 10.0;
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        portal_b_extra: format!("limits = {{ submit = {{ per_second = {LIMIT}, burst = 10 }} }}"),
        delivery_extra: "status_sync_agency = \"\"".into(),
        ..Options::default()
    };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    // Warm up, then the well-behaved member alone: the baseline of this run.
    well_behaved(&api, 9000, 10).await;
    let baseline = p95(well_behaved(&api, 1, 50).await);

    // Now portal-h49 floods from 4 connections at about 40 times its limit.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flood = Vec::new();
    for t in 0..4u32 {
        let (api, stop) = (api.clone(), stop.clone());
        flood.push(tokio::spawn(async move {
            let (mut sent, mut refused) = (0u32, 0u32);
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let code = format!("000.00.31.H49-2611{:02}-{:04}", 10 + t, i);
                let (status, _) = api.submit(PORTAL_B_TOKEN, "application/json", json_dossier(&code).to_string()).await;
                sent += 1;
                refused += u32::from(status == 429);
                i += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (sent, refused)
        }));
    }
    let started = Instant::now();
    let flooded = p95(well_behaved(&api, 100, 50).await);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut sent, mut refused) = (0, 0);
    for f in flood {
        let (s, r) = f.await.unwrap();
        sent += s;
        refused += r;
    }
    let rate = f64::from(sent) / elapsed;
    println!(
        "flood: {sent} requests ({rate:.0}/s, {:.0}x the limit), {refused} refused; \
         well-behaved p95 {baseline:?} alone, {flooded:?} under the flood",
        rate / LIMIT
    );
    assert!(rate >= 10.0 * LIMIT, "the flood ran at {rate:.0}/s, not many times its limit");
    assert!(f64::from(refused) >= 0.8 * f64::from(sent), "most of the flood was refused");
    // Not noticeably slower: within three times its own baseline plus 25 ms.
    assert!(flooded <= baseline * 3 + Duration::from_millis(25), "{flooded:?} against {baseline:?}");
}
