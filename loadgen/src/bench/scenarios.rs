//! The scenarios of the report, each driving real processes over real sockets
//! and returning what it measured.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::setup::{self, GatewayOptions, Pki};
use super::Env;
use crate::client::{bearer, header, Conn, Req};
use crate::corpus::{self, Doc, JsonTemplate};
use crate::drive::{self, Mode, Outcome, Source};
use crate::procs::{self, Gateway};

/// A gateway's resident memory sampled while a run goes on: the largest seen.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    /// Samples `pids` (summed) every 100 ms.
    pub fn start(pids: Vec<u32>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let rss: u64 = pids.iter().map(|&pid| procs::memory_kib(pid).0).sum();
                p.fetch_max(rss, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self { stop, peak, handle: Some(handle) }
    }

    /// Stops sampling; the peak in KiB.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

/// The sum of a metric's samples whose labels contain `filter` (such as
/// `outcome="delivered"`), read from the gateway's `/metrics`.
pub fn metric_sum(addr: SocketAddr, name: &str, filter: &str) -> anyhow::Result<f64> {
    let (status, text) = procs::http_get(addr, "/metrics")?;
    anyhow::ensure!(status == 200, "/metrics answered {status}");
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| l.contains(filter))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Deliveries the gateways made (`lienthong_delivery_attempts_total`, delivered).
pub fn delivered(addrs: &[SocketAddr]) -> anyhow::Result<u64> {
    let mut n = 0.0;
    for &a in addrs {
        n += metric_sum(a, "lienthong_delivery_attempts_total", "outcome=\"delivered\"")?;
    }
    Ok(n as u64)
}

/// Waits until the gateways have made `count` deliveries; the time it took from
/// `since`, or an error after `within`.
pub fn wait_delivered(addrs: &[SocketAddr], count: u64, since: Instant, within: Duration) -> anyhow::Result<Duration> {
    let deadline = Instant::now() + within;
    loop {
        let n = delivered(addrs)?;
        if n >= count {
            return Ok(since.elapsed());
        }
        anyhow::ensure!(Instant::now() < deadline, "only {n} of {count} deliveries after {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The requests that submit `docs` as `token`.
pub fn submissions(docs: &[Doc], xml: bool, token: &str) -> Vec<Req> {
    let content_type = if xml { "application/xml" } else { "application/json" };
    docs.iter()
        .map(|d| {
            let mut headers = vec![bearer(token), header("content-type", content_type)];
            if let Some(jws) = &d.jws {
                headers.push(header(schemas::jws::HEADER, jws));
            }
            Req::post("/v1/dossiers", headers, d.body.clone())
        })
        .collect()
}

/// A source handing out `reqs[offset..]` once.
pub fn slice(reqs: &Arc<Vec<Req>>, offset: usize) -> Source {
    let reqs = reqs.clone();
    Arc::new(move |i| usize::try_from(i).ok().and_then(|i| reqs.get(offset + i).cloned()))
}

/// The accept figures of one kind of dossier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AcceptResult {
    /// Which corpus (`xml_rsa2048`, `xml_ecdsa_p256`, `jws_rsa2048`).
    pub name: String,
    /// Closed loop: the sustained rate.
    pub closed: Outcome,
    /// Open loop at 50 % of it.
    pub at_50: Outcome,
    /// Open loop at 90 % of it.
    pub at_90: Outcome,
    /// Open loop at the target's fixed rate (2,500/s), for the primary corpus.
    pub at_target: Option<Outcome>,
    /// Deliveries per second over the whole scenario (accepting and delivering
    /// together), from its first request to its last delivery.
    pub delivered_per_s: f64,
    /// The gateway's peak resident memory during the scenario, KiB.
    pub peak_rss_kib: u64,
    /// Gateway CPU seconds used during the closed-loop run, per dossier accepted
    /// (delivery included while it overlaps).
    pub gateway_cpu_ms_per_dossier: f64,
}

/// Runs closed loop, then open loop at 50 % and 90 % of the closed rate (and at
/// `target` when given), each on fresh dossiers from `reqs`, waiting between
/// runs for every dossier to be delivered `per_dossier` times.
#[allow(clippy::too_many_arguments)]
pub fn accept(
    env: &Env,
    name: &str,
    gw: &Gateway,
    reqs: Vec<Req>,
    per_dossier: u64,
    target: Option<f64>,
    closed_limit: usize,
) -> anyhow::Result<AcceptResult> {
    let reqs = Arc::new(reqs);
    let addrs = [gw.addr];
    let base = delivered(&addrs)?;
    let started = Instant::now();
    let sampler = RssSampler::start(vec![gw.proc.pid()]);
    let mut used = 0usize;
    let mut accepted = 0u64;
    let cpu_before = procs::cpu_seconds(gw.proc.pid());
    let closed_reqs: Vec<Req> = reqs.iter().take(closed_limit).cloned().collect();
    let closed =
        drive::run(&env.plan(Mode::Closed { concurrency: env.concurrency }, &addrs), drive::corpus(closed_reqs))?;
    let cpu_ms = (procs::cpu_seconds(gw.proc.pid()) - cpu_before) * 1000.0 / closed.ok.max(1) as f64;
    used += closed.sent as usize;
    accepted += closed.ok;
    env.say(&format!("  {name}: closed loop {:.0}/s", closed.throughput));
    wait_delivered(&addrs, base + accepted * per_dossier, started, env.drain_timeout)?;
    let rate = closed.throughput.max(10.0);
    let mut open = |r: f64| -> anyhow::Result<Outcome> {
        let needed = (r * env.duration.as_secs_f64()).ceil() as usize;
        anyhow::ensure!(used + needed <= reqs.len(), "the {name} corpus is too small: {} needed", used + needed);
        std::thread::sleep(env.settle);
        let out = drive::run(&env.plan(Mode::Open { rate: r }, &addrs), slice(&reqs, used))?;
        used += out.sent as usize;
        accepted += out.ok;
        env.say(&format!("  {name}: open loop {r:.0}/s: p99 {} µs, {} of {} ok", out.latency.p99, out.ok, out.sent));
        wait_delivered(&addrs, base + accepted * per_dossier, started, env.drain_timeout)?;
        Ok(out)
    };
    let at_50 = open(rate * 0.5)?;
    let at_90 = open(rate * 0.9)?;
    let at_target = target.map(&mut open).transpose()?;
    let delivered_per_s = accepted as f64 * per_dossier as f64 / started.elapsed().as_secs_f64();
    Ok(AcceptResult {
        name: name.to_owned(),
        closed,
        at_50,
        at_90,
        at_target,
        delivered_per_s,
        peak_rss_kib: sampler.finish(),
        gateway_cpu_ms_per_dossier: cpu_ms,
    })
}

/// One target of the look-up comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupTarget {
    /// `direct`, `nginx`, `haproxy` or `lienthong`.
    pub name: String,
    /// Closed loop: requests per second.
    pub closed: Outcome,
    /// Open loop at the common rate: latency.
    pub open: Outcome,
}

/// The look-up comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupResult {
    /// The common open-loop rate (half the slowest proxy's closed-loop rate).
    pub rate: f64,
    /// Direct, nginx, HAProxy and the gateway.
    pub targets: Vec<LookupTarget>,
}

/// The look-up target of the gateway with one runtime thread per core.
pub const PER_CORE: &str = "lienthong, a thread per core";

/// A MOIT licence look-up (`GET /api/v1/giay-phep/{number}`) directly at the
/// simulator, through nginx and HAProxy, and through the gateway
/// (`GET /v1/agencies/moit/lookups/licence`, which also checks the member,
/// calls the agency through its adapter and normalises the answer): a fresh
/// gateway with the run's runtime threads, and, when that is not already one
/// per core, another with one per core.
pub fn lookup(env: &mut Env, moit: SocketAddr) -> anyhow::Result<LookupResult> {
    let gw = env.gateway("lookup", &GatewayOptions::default())?;
    let per_core = match env.gateway_workers {
        Some(_) => {
            Some(env.gateway("lookup-per-core", &GatewayOptions { per_core_workers: true, ..Default::default() })?)
        }
        None => None,
    };
    let token = moit_token(moit)?;
    let number = "15%2F2025%2FGPBLR-SCT";
    let direct = Req::get(format!("/api/v1/giay-phep/{number}"), vec![bearer(&token)]);
    let via_gateway =
        Req::get(format!("/v1/agencies/moit/lookups/licence?number={number}"), vec![bearer(setup::HANOI_TOKEN)]);
    let nginx_port = procs::free_ports(1)?;
    let nginx = procs::nginx(&env.work, nginx_port, moit)?;
    let haproxy_port = procs::free_ports(1)?;
    let haproxy = procs::haproxy(&env.work, haproxy_port, moit)?;
    let local = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    let targets = [
        ("direct", moit, direct.clone()),
        ("nginx", local(nginx_port), direct.clone()),
        ("haproxy", local(haproxy_port), direct),
        ("lienthong", gw.addr, via_gateway.clone()),
    ]
    .into_iter()
    .chain(per_core.as_ref().map(|g| (PER_CORE, g.addr, via_gateway)))
    .collect::<Vec<_>>();
    let mut closed = Vec::new();
    for (name, addr, req) in &targets {
        let plan = env.plan(Mode::Closed { concurrency: env.lookup_concurrency }, &[*addr]);
        let out = drive::run(&plan, drive::repeat(req.clone()))?;
        anyhow::ensure!(out.ok > 0, "{name}: no look-up answered 2xx: {:?}", out.statuses);
        env.say(&format!("  lookup {name}: {:.0}/s", out.throughput));
        closed.push(out);
    }
    let slowest = closed[1..].iter().map(|o| o.throughput).fold(f64::INFINITY, f64::min);
    let rate = (slowest * 0.5).max(10.0);
    let mut result = LookupResult { rate, targets: Vec::new() };
    for ((name, addr, req), closed) in targets.iter().zip(closed) {
        let plan = env.plan(Mode::Open { rate }, &[*addr]);
        let open = drive::run(&plan, drive::repeat(req.clone()))?;
        env.say(&format!("  lookup {name} at {rate:.0}/s: p50 {} µs, p99 {} µs", open.latency.p50, open.latency.p99));
        result.targets.push(LookupTarget { name: (*name).to_owned(), closed, open });
    }
    nginx.stop();
    haproxy.stop();
    gw.stop();
    if let Some(g) = per_core {
        g.stop();
    }
    Ok(result)
}

/// An OAuth token of the MOIT simulator for licence look-ups.
fn moit_token(moit: SocketAddr) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("http://{moit}/oauth2/token"))
            .basic_auth("lienthong", Some(setup::SIM_PASSWORD))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&scope=giayphep.read")
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        answer["access_token"].as_str().map(str::to_owned).context("no access_token in the token answer")
    })
}

/// The feed figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedResult {
    /// Status events posted (closed loop): the rate at which they are accepted.
    pub post: Outcome,
    /// Events read by one member paging through its feed (limit 100), per second.
    pub read_events_per_s: f64,
    /// Events read.
    pub read_events: u64,
    /// Pages read per second.
    pub read_pages_per_s: f64,
    /// Long-poll wake-up latency, µs: from sending an event to the waiting
    /// reader's answer (p50, p99, max over `wakeups` rounds).
    pub wake_p50_us: u64,
    /// 99th percentile of the wake-up latency.
    pub wake_p99_us: u64,
    /// The slowest wake-up.
    pub wake_max_us: u64,
    /// The same rounds' status-post round trips (the baseline), p50 µs.
    pub post_p50_us: u64,
    /// Rounds measured.
    pub wakeups: u64,
}

/// A status-update body: `TrangThai` 2 (received) now, Vietnam time.
fn received_event(code: &str) -> String {
    let now = (chrono::Utc::now() + chrono::Duration::hours(7) - chrono::Duration::seconds(5)).format("%Y%m%d%H%M%S");
    format!(r#"{{"MaHoSo":"{code}","TrangThai":"2","ThoiDiemXuLy":"{now}","NoiDungXuLy":"Đã tiếp nhận hồ sơ"}}"#)
}

fn status_req(code: &str) -> Req {
    Req::post(
        format!("/v1/dossiers/{code}/status"),
        vec![bearer(setup::HANOI_TOKEN), header("content-type", "application/json")],
        received_event(code),
    )
}

/// Posts "received" for the first `events` dossiers of `unit` that
/// `portal-hanoi` sent, reads its feed from the start, then measures long-poll
/// wake-ups with `wakeups` more dossiers.
pub fn feed(env: &Env, gw: &Gateway, unit: &str, events: u64, wakeups: u64) -> anyhow::Result<FeedResult> {
    let reqs: Vec<Req> = (0..events).map(|n| status_req(&corpus::code(unit, n))).collect();
    let mut plan = env.plan(Mode::Closed { concurrency: env.concurrency }, &[gw.addr]);
    plan.duration = Duration::from_secs(120);
    let post = drive::run(&plan, drive::corpus(reqs))?;
    anyhow::ensure!(post.all_ok(), "status posts failed: {:?}", post.statuses);
    env.say(&format!("  feed: {:.0} status events/s posted", post.throughput));
    let addr = gw.addr;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        let mut conn = Conn::open(addr).await?;
        let started = Instant::now();
        let (mut read, mut pages, mut after) = (0u64, 0u64, String::new());
        loop {
            let path = if after.is_empty() {
                "/v1/feed?limit=100".to_owned()
            } else {
                format!("/v1/feed?limit=100&after={after}")
            };
            let (status, body) = conn.send(&Req::get(path, vec![bearer(setup::HANOI_TOKEN)])).await?;
            anyhow::ensure!(status == 200, "feed answered {status}");
            let page: serde_json::Value = serde_json::from_slice(&body)?;
            pages += 1;
            read += page["events"].as_array().map_or(0, |a| a.len() as u64);
            after = page["next"].as_str().unwrap_or_default().to_owned();
            if page["more"] != serde_json::Value::Bool(true) {
                break;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        anyhow::ensure!(read >= events, "the feed held {read} events, {events} were posted");
        let mut wakes = Vec::new();
        let mut posts = Vec::new();
        let mut poster = Conn::open(addr).await?;
        for n in events..events + wakeups {
            let mut waiter = Conn::open(addr).await?;
            let wait = Req::get(format!("/v1/feed?limit=100&wait=10&after={after}"), vec![bearer(setup::HANOI_TOKEN)]);
            let pending = tokio::spawn(async move {
                let answer = waiter.send(&wait).await;
                (answer, Instant::now())
            });
            // Let the long-poll reach the gateway and start waiting.
            tokio::time::sleep(Duration::from_millis(30)).await;
            let sent = Instant::now();
            let (status, _) = poster.send(&status_req(&corpus::code(unit, n))).await?;
            posts.push(sent.elapsed());
            anyhow::ensure!(status.is_success(), "a wake-up event was refused: {status}");
            let (answer, woke) = pending.await?;
            let (status, body) = answer?;
            anyhow::ensure!(status == 200, "the long-poll answered {status}");
            let page: serde_json::Value = serde_json::from_slice(&body)?;
            anyhow::ensure!(page["events"].as_array().is_some_and(|a| !a.is_empty()), "the long-poll woke empty");
            after = page["next"].as_str().unwrap_or_default().to_owned();
            wakes.push(woke.saturating_duration_since(sent));
        }
        wakes.sort();
        posts.sort();
        let pct = |v: &[Duration], p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize].as_micros() as u64;
        Ok(FeedResult {
            post,
            read_events_per_s: read as f64 / secs,
            read_events: read,
            read_pages_per_s: pages as f64 / secs,
            wake_p50_us: pct(&wakes, 0.5),
            wake_p99_us: pct(&wakes, 0.99),
            wake_max_us: pct(&wakes, 1.0),
            post_p50_us: pct(&posts, 0.5),
            wakeups,
        })
    })
}

/// One backlog drain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DrainResult {
    /// The Justice delivery rate limit (per second); `None`: unlimited.
    pub rate_limit: Option<u32>,
    /// Dossiers queued while Justice was down.
    pub queued: u64,
    /// Accepting them with the agency down (closed loop).
    pub accept: Outcome,
    /// Seconds from the agency coming back to the last delivery.
    pub drain_s: f64,
    /// Deliveries per second over the drain.
    pub per_s: f64,
    /// The gateway's peak resident memory during the drain, KiB.
    pub peak_rss_kib: u64,
}

/// Stops the simulators, queues `count` unsigned dossiers for Justice on a fresh
/// gateway, starts the simulators again and times the drain.
pub fn backlog(env: &mut Env, name: &str, count: u64, rate_limit: Option<u32>) -> anyhow::Result<DrainResult> {
    let opts = GatewayOptions { moj_rate: rate_limit, ..Default::default() };
    let gw = env.gateway(name, &opts)?;
    env.stop_simulators();
    let template = Arc::new(JsonTemplate::new(setup::unit::BACKLOG));
    let headers = vec![bearer(setup::LOAD_TOKEN), header("content-type", "application/json")];
    let source: Source =
        Arc::new(move |n| (n < count).then(|| Req::post("/v1/dossiers", headers.clone(), template.dossier(n))));
    let mut plan = env.plan(Mode::Closed { concurrency: env.concurrency }, &[gw.addr]);
    plan.duration = Duration::from_secs(1800);
    let accept = drive::run(&plan, source)?;
    anyhow::ensure!(accept.all_ok() && accept.ok == count, "queueing the backlog failed: {:?}", accept.statuses);
    env.say(&format!("  backlog {name}: {count} queued at {:.0}/s with Justice down", accept.throughput));
    anyhow::ensure!(delivered(&[gw.addr])? == 0, "deliveries were made while Justice was down");
    let sampler = RssSampler::start(vec![gw.proc.pid()]);
    let back = Instant::now();
    env.start_simulators()?;
    let within = Duration::from_secs_f64(count as f64 / f64::from(rate_limit.unwrap_or(200)) * 2.0 + 120.0);
    let drain = wait_delivered(&[gw.addr], count, back, within)?;
    let peak_rss_kib = sampler.finish();
    gw.stop();
    let drain_s = drain.as_secs_f64();
    env.say(&format!("  backlog {name}: drained in {drain_s:.1} s ({:.0}/s)", count as f64 / drain_s));
    Ok(DrainResult { rate_limit, queued: count, accept, drain_s, per_s: count as f64 / drain_s, peak_rss_kib })
}

/// The soak: resident memory over a long open-loop run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SoakResult {
    /// Offered rate (unsigned JSON dossiers per second).
    pub rate: f64,
    /// Seconds.
    pub seconds: f64,
    /// The run.
    pub run: Outcome,
    /// (seconds since start, RSS KiB), every 5 s.
    pub rss: Vec<(f64, u64)>,
}

/// Runs `rate` unsigned dossiers per second at `gw` for `seconds`, sampling its
/// resident memory every 5 s.
pub fn soak(env: &Env, gw: &Gateway, rate: f64, seconds: u64) -> anyhow::Result<SoakResult> {
    let template = Arc::new(JsonTemplate::new(setup::unit::SOAK));
    let headers = vec![bearer(setup::LOAD_TOKEN), header("content-type", "application/json")];
    let source: Source = Arc::new(move |n| Some(Req::post("/v1/dossiers", headers.clone(), template.dossier(n))));
    let stop = Arc::new(AtomicBool::new(false));
    let (s, pid) = (stop.clone(), gw.proc.pid());
    let sampler = std::thread::spawn(move || {
        let start = Instant::now();
        let mut samples = Vec::new();
        while !s.load(Ordering::Relaxed) {
            samples.push((start.elapsed().as_secs_f64(), procs::memory_kib(pid).0));
            let next = Instant::now() + Duration::from_secs(5);
            while Instant::now() < next && !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        samples
    });
    let mut plan = env.plan(Mode::Open { rate }, &[gw.addr]);
    plan.duration = Duration::from_secs(seconds);
    let run = drive::run(&plan, source)?;
    stop.store(true, Ordering::Relaxed);
    let rss = sampler.join().map_err(|_| anyhow::anyhow!("the sampler panicked"))?;
    env.say(&format!("  soak: {} of {} ok, p99 {} µs", run.ok, run.sent, run.latency.p99));
    Ok(SoakResult { rate, seconds: seconds as f64, run, rss })
}

/// The PostgreSQL column: closed-loop accepts of the primary corpus with 1 and 3
/// replicas on one database.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostgresResult {
    /// The server's version.
    pub server: String,
    /// One replica.
    pub one: Outcome,
    /// Three replicas, the load spread over them.
    pub three: Outcome,
}

/// Creates a fresh database, runs 1 then 3 replicas (a fresh database each)
/// against `reqs`, and drops the databases.
pub fn postgres(env: &mut Env, admin_url: &str, reqs: &[Req], per_dossier: u64) -> anyhow::Result<PostgresResult> {
    let server = psql(admin_url, "SHOW server_version")?;
    let mut run = |replicas: u32| -> anyhow::Result<Outcome> {
        // Fresh simulators: they refuse a dossier code they already hold.
        env.start_simulators()?;
        let db = format!("lienthong_bench_{}_{replicas}", std::process::id());
        psql(admin_url, &format!("DROP DATABASE IF EXISTS {db}"))?;
        psql(admin_url, &format!("CREATE DATABASE {db}"))?;
        let url = with_database(admin_url, &db);
        let opts = GatewayOptions { postgres: Some(url), replicas, status_sync: true, ..Default::default() };
        let mut gws = Vec::new();
        for i in 0..replicas {
            gws.push(env.gateway(&format!("postgres-{replicas}-{i}"), &opts)?);
        }
        let addrs: Vec<SocketAddr> = gws.iter().map(|g| g.addr).collect();
        let plan = env.plan(Mode::Closed { concurrency: env.concurrency }, &addrs);
        let limit = reqs.len().min(env.closed_limit);
        let out = drive::run(&plan, drive::corpus(reqs[..limit].to_vec()))?;
        env.say(&format!("  postgres {replicas} replica(s): {:.0}/s", out.throughput));
        wait_delivered(&addrs, out.ok * per_dossier, Instant::now(), env.drain_timeout)?;
        for g in gws {
            g.stop();
        }
        psql(admin_url, &format!("DROP DATABASE IF EXISTS {db}"))?;
        Ok(out)
    };
    let one = run(1)?;
    let three = run(3)?;
    Ok(PostgresResult { server, one, three })
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let root = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

/// Runs one statement with `psql`; its output.
pub fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = std::process::Command::new("psql").args([url, "-XAtqc", sql]).output().context("run psql")?;
    anyhow::ensure!(out.status.success(), "psql {sql:?}: {}", String::from_utf8_lossy(&out.stderr).trim());
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A corpus of the accept scenario.
pub struct Corpus {
    /// Its name in the report.
    pub name: String,
    /// XML (else JSON).
    pub xml: bool,
    /// The token of the member that sends it.
    pub token: String,
    /// The dossiers.
    pub docs: Vec<Doc>,
}

/// The signing identities and corpora of the accept scenario.
pub fn corpora(env: &Env, pki: &Pki) -> anyhow::Result<Vec<Corpus>> {
    let hanoi = pki.identity("portal-hanoi")?;
    let hcm = pki.identity("portal-hcm")?;
    let cache = env.work.join("corpus");
    let mut out = Vec::new();
    let specs = [
        ("xml_rsa2048", corpus::Kind::SignedXml, setup::unit::XML_RSA, &hanoi, setup::HANOI_TOKEN, env.corpus),
        ("xml_ecdsa_p256", corpus::Kind::SignedXml, setup::unit::XML_ECDSA, &hcm, setup::HCM_TOKEN, env.corpus_other),
        ("jws_rsa2048", corpus::Kind::SignedJson, setup::unit::JWS_RSA, &hanoi, setup::HANOI_TOKEN, env.corpus_other),
    ];
    for (name, kind, unit, signer, token, count) in specs {
        let started = Instant::now();
        let docs = corpus::build(kind, unit, count, Some(signer), Some(&cache))?;
        env.say(&format!("  corpus {name}: {count} dossiers ready in {:.1} s", started.elapsed().as_secs_f64()));
        out.push(Corpus { name: name.to_owned(), xml: kind == corpus::Kind::SignedXml, token: token.to_owned(), docs });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_put_in_a_url_keeping_its_options() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/postgres?sslmode=require", "x"), "postgres://u@h/x?sslmode=require");
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }

    #[test]
    fn status_events_are_received_steps_of_their_dossier() {
        let r = status_req("000.00.21.H41-20261201-0000001");
        assert_eq!(r.path, "/v1/dossiers/000.00.21.H41-20261201-0000001/status");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["TrangThai"], "2");
        assert_eq!(v["ThoiDiemXuLy"].as_str().unwrap().len(), 14);
    }
}
