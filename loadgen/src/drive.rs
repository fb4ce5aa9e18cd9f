//! Driving a server: open loop at a target rate, closed loop at a concurrency.
//!
//! **Open loop** schedules request `i` at `start + i / rate` whatever the server
//! does, and measures its latency from that *intended* time: a request that
//! waited for a free connection because the server fell behind is charged the
//! wait. This is the coordinated-omission correction; a generator that measured
//! from the actual send would hide exactly the stalls that matter.
//!
//! **Closed loop** keeps `concurrency` requests in flight, each sent when the
//! previous one on its connection is answered: it finds the sustained rate, and
//! its latency is the service time under that load (not corrected: a closed loop
//! has no schedule to fall behind of).
//!
//! The generator runs on one thread (a current-thread runtime), so it takes at
//! most one core from the server it measures, and reports the CPU it used.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::client::{Conn, Req};

/// The requests of a run, by index; `None` once there are no more (a corpus of
/// unique dossiers is finite).
pub type Source = Arc<dyn Fn(u64) -> Option<Req> + Send + Sync>;

/// A source that hands out a pre-built corpus once, in order.
pub fn corpus(requests: Vec<Req>) -> Source {
    let requests = Arc::new(requests);
    Arc::new(move |i| usize::try_from(i).ok().and_then(|i| requests.get(i).cloned()))
}

/// A source that repeats one request (look-ups, health checks).
pub fn repeat(req: Req) -> Source {
    Arc::new(move |_| Some(req.clone()))
}

/// How the load is offered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Requests at a fixed rate (per second), whatever the answers.
    Open {
        /// Requests per second.
        rate: f64,
    },
    /// This many requests in flight at all times.
    Closed {
        /// Requests in flight.
        concurrency: usize,
    },
}

/// A run: how, for how long, over how many connections, to which servers.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Open or closed loop.
    pub mode: Mode,
    /// How long requests are started for.
    pub duration: Duration,
    /// Connections (open loop: the most requests in flight; closed loop: the
    /// concurrency). Spread round-robin over `targets`.
    pub connections: usize,
    /// The servers (several replicas behind no balancer: the load is spread).
    pub targets: Vec<SocketAddr>,
    /// How long to wait for the requests still in flight after `duration`.
    pub drain: Duration,
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// The slowest.
    pub max: u64,
    /// The mean.
    pub mean: f64,
}

impl Latency {
    /// The percentiles of a histogram of microseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

/// What a run measured (the machine-readable result).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// How the load was offered.
    pub mode: Mode,
    /// Connections used.
    pub connections: usize,
    /// Seconds from the first scheduled request to the last answer.
    pub elapsed_s: f64,
    /// Requests sent.
    pub sent: u64,
    /// Answers with a 2xx status.
    pub ok: u64,
    /// Answers by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer (connection refused or reset).
    pub errors: u64,
    /// Requests scheduled but never sent: the source ran out, or the run ended
    /// (open loop: the generator could not keep up, which the report shows).
    pub unsent: u64,
    /// 2xx answers per second over `elapsed_s`.
    pub throughput: f64,
    /// Latency of the 2xx answers (open loop: from the intended send time).
    pub latency: Latency,
    /// Whether `latency` is corrected for coordinated omission (open loop).
    pub corrected: bool,
    /// CPU seconds the generator itself used during the run.
    pub generator_cpu_s: f64,
    /// The run second by second (by the time each request was due): when in a
    /// run its slow answers came.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<Second>,
}

/// One second of a run: the 2xx answers to the requests due in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Second {
    /// Answers.
    pub answered: u64,
    /// Of them, those that took more than 10 ms.
    pub over_10ms: u64,
    /// Of them, those that took more than 50 ms.
    pub over_50ms: u64,
    /// The slowest, µs.
    pub max_us: u64,
}

impl Second {
    fn record(&mut self, micros: u64) {
        self.answered += 1;
        self.over_10ms += u64::from(micros > 10_000);
        self.over_50ms += u64::from(micros > 50_000);
        self.max_us = self.max_us.max(micros);
    }
}

impl Outcome {
    /// Whether every request sent was answered 2xx.
    pub fn all_ok(&self) -> bool {
        self.sent > 0 && self.ok == self.sent && self.errors == 0
    }
}

/// What the run saw.
struct Tally {
    hist: Histogram<u64>,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
    sent: u64,
    last: Option<Instant>,
    timeline: Vec<Second>,
}

impl Tally {
    fn new() -> Self {
        Self {
            hist: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds"),
            statuses: BTreeMap::new(),
            errors: 0,
            sent: 0,
            last: None,
            timeline: Vec::new(),
        }
    }

    /// Records a 2xx answer to a request due `due` after the start.
    fn record(&mut self, due: Duration, micros: u64) {
        let _ = self.hist.record(micros);
        let second = usize::try_from(due.as_secs()).unwrap_or(usize::MAX);
        if second >= self.timeline.len() {
            // Bounded by the run's length: requests are due before its end.
            self.timeline.resize(second.saturating_add(1).min(MAX_TIMELINE), Second::default());
        }
        if let Some(s) = self.timeline.get_mut(second) {
            s.record(micros);
        }
    }
}

/// The longest timeline kept, in seconds (a day; runs are far shorter).
const MAX_TIMELINE: usize = 86_400;

/// The CPU seconds this process has used (user and system); 0 where that
/// cannot be read.
pub fn process_cpu_seconds() -> f64 {
    crate::procs::cpu_seconds(std::process::id())
}

/// Runs `plan` with requests from `source`, on a thread of its own with a
/// current-thread runtime (so the generator uses at most one core).
pub fn run(plan: &Plan, source: Source) -> anyhow::Result<Outcome> {
    let plan = plan.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(run_async(&plan, source))
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the generator thread panicked"))?
}

async fn run_async(plan: &Plan, source: Source) -> anyhow::Result<Outcome> {
    anyhow::ensure!(!plan.targets.is_empty() && plan.connections > 0, "no target or no connection");
    let mut conns = Vec::with_capacity(plan.connections);
    for i in 0..plan.connections {
        conns.push(Conn::open(plan.targets[i % plan.targets.len()]).await?);
    }
    let cpu_before = process_cpu_seconds();
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(20);
    let end = start + plan.duration;
    let hard_end = end + plan.drain;
    // One tally for all connections: the runtime has one thread, so its lock is
    // never contended, and a connection's first answer touches no memory of its
    // own (a histogram per connection was about 150 KB, faulted in during the run).
    let tally = Arc::new(Mutex::new(Tally::new()));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, conn) in conns.into_iter().enumerate() {
        let (next, source, target) = (next.clone(), source.clone(), plan.targets[i % plan.targets.len()]);
        let (mode, tally) = (plan.mode, tally.clone());
        tasks.spawn(async move { worker(conn, target, mode, next, source, start, end, hard_end, &tally).await });
    }
    while let Some(t) = tasks.join_next().await {
        t?;
    }
    let total = std::mem::replace(&mut *lock(&tally), Tally::new());
    let generator_cpu_s = process_cpu_seconds() - cpu_before;
    let scheduled = match plan.mode {
        Mode::Open { rate } => (plan.duration.as_secs_f64() * rate).floor() as u64,
        Mode::Closed { .. } => total.sent,
    };
    let elapsed_s = total.last.map(|l| l.saturating_duration_since(start).as_secs_f64()).unwrap_or(0.0);
    let ok: u64 = total.statuses.iter().filter(|(s, _)| (200..300).contains(*s)).map(|(_, n)| n).sum();
    Ok(Outcome {
        mode: plan.mode,
        connections: plan.connections,
        elapsed_s,
        sent: total.sent,
        ok,
        statuses: total.statuses,
        errors: total.errors,
        unsent: scheduled.saturating_sub(total.sent),
        throughput: if elapsed_s > 0.0 { ok as f64 / elapsed_s } else { 0.0 },
        latency: Latency::of(&total.hist),
        corrected: matches!(plan.mode, Mode::Open { .. }),
        generator_cpu_s,
        timeline: total.timeline,
    })
}

#[allow(clippy::too_many_arguments)]
async fn worker(
    mut conn: Conn,
    target: SocketAddr,
    mode: Mode,
    next: Arc<AtomicU64>,
    source: Source,
    start: Instant,
    end: Instant,
    hard_end: Instant,
    tally: &Mutex<Tally>,
) {
    tokio::time::sleep_until(start.into()).await;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let intended = match mode {
            Mode::Open { rate } => start + Duration::from_secs_f64(i as f64 / rate),
            Mode::Closed { .. } => Instant::now(),
        };
        if intended >= end {
            break;
        }
        let Some(req) = source(i) else { break };
        tokio::time::sleep_until(intended.into()).await;
        let sent_at = match mode {
            Mode::Open { .. } => intended,
            Mode::Closed { .. } => Instant::now(),
        };
        let answer = tokio::time::timeout_at(hard_end.into(), conn.send(&req)).await;
        let done = Instant::now();
        let reconnect = {
            let mut tally = lock(tally);
            tally.sent += 1;
            match answer {
                Ok(Ok((status, _))) => {
                    *tally.statuses.entry(status.as_u16()).or_default() += 1;
                    if status.is_success() {
                        let micros = u64::try_from(done.saturating_duration_since(sent_at).as_micros());
                        tally.record(sent_at.saturating_duration_since(start), micros.unwrap_or(u64::MAX).max(1));
                    }
                    tally.last = Some(done);
                    false
                }
                Ok(Err(_)) => {
                    tally.errors += 1;
                    true
                }
                Err(_) => {
                    tally.errors += 1;
                    break;
                }
            }
        };
        if reconnect {
            match Conn::open(target).await {
                Ok(c) => conn = c,
                Err(_) => break,
            }
        }
    }
}

/// The run's tally, whatever a panicking worker left it as (its counts stand).
fn lock(tally: &Mutex<Tally>) -> std::sync::MutexGuard<'_, Tally> {
    tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles_come_from_the_histogram() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).unwrap();
        for v in 1..=1000u64 {
            h.record(v).unwrap();
        }
        let l = Latency::of(&h);
        assert!((499..=501).contains(&l.p50), "{l:?}");
        assert!((989..=991).contains(&l.p99), "{l:?}");
        assert_eq!(l.max, 1000);
        assert!(Latency::of(&Histogram::<u64>::new(3).unwrap()).p99 == 0);
    }

    #[test]
    fn the_timeline_counts_slow_answers_by_the_second_they_were_due() {
        let mut a = Tally::new();
        a.record(Duration::from_millis(200), 900);
        a.record(Duration::from_millis(900), 12_000);
        a.record(Duration::from_millis(2_500), 60_000);
        a.record(Duration::from_millis(1_100), 51_000);
        a.record(Duration::from_millis(2_000), 3_000);
        let t = &a.timeline;
        assert_eq!(t.len(), 3);
        assert_eq!(t[0], Second { answered: 2, over_10ms: 1, over_50ms: 0, max_us: 12_000 });
        assert_eq!(t[1], Second { answered: 1, over_10ms: 1, over_50ms: 1, max_us: 51_000 });
        assert_eq!(t[2], Second { answered: 2, over_10ms: 1, over_50ms: 1, max_us: 60_000 });
        assert_eq!(a.hist.len(), 5);
        let mut far = Tally::new();
        far.record(Duration::from_secs(10 * 86_400), 1);
        assert_eq!(far.timeline.len(), MAX_TIMELINE, "a due time past a day is not kept in the timeline");
        assert_eq!(far.hist.len(), 1, "but it is in the histogram");
    }

    #[test]
    fn a_corpus_is_handed_out_once_and_then_runs_out() {
        let source = corpus(vec![Req::get("/a", vec![]), Req::get("/b", vec![])]);
        assert_eq!(source(0).unwrap().path, "/a");
        assert_eq!(source(1).unwrap().path, "/b");
        assert!(source(2).is_none());
        assert_eq!(repeat(Req::get("/x", vec![]))(99).unwrap().path, "/x");
    }

    #[test]
    fn the_generator_reads_its_own_cpu_time() {
        let before = process_cpu_seconds();
        let mut x = 0u64;
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(300) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        assert!(process_cpu_seconds() > before, "CPU time advances while spinning");
    }
}
