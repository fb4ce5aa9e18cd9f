//! The Markdown report of a run: every figure beside the peer or baseline
//! measured in the same run, as a ratio, and each target with whether it is met.
//! The analysis (why a target is missed, what would close it) is written by
//! hand in `deploy/bench/analysis.md` and appended as it is.

use std::fmt::Write;

use super::Results;
use crate::drive::Outcome;

/// Thousands with commas: `12,345`.
fn n(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Microseconds as milliseconds with two decimals.
fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

/// A ratio `a / b` as `1.23×`; `–` when `b` is 0.
fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "–".to_owned()
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "**met**"
    } else {
        "**missed**"
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The answers of an open loop over 10 ms, in its first second and in all:
/// whether its tail is a start-up transient or spread over the run.
fn slow(o: &Outcome) -> String {
    match o.timeline.first() {
        Some(first) => {
            format!("{} / {}", n(first.over_10ms as f64), n(o.timeline.iter().map(|t| t.over_10ms).sum::<u64>() as f64))
        }
        None => "–".to_owned(),
    }
}

fn refused(o: &Outcome) -> String {
    let bad: Vec<String> =
        o.statuses.iter().filter(|(s, _)| !(200..300).contains(*s)).map(|(s, c)| format!("{c}×{s}")).collect();
    let mut parts = bad;
    if o.errors > 0 {
        parts.push(format!("{} no answer", o.errors));
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Renders the report, `analysis` (the hand-written part) at its end.
pub fn render(r: &Results, analysis: &str) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "Written by the benchmark harness (`loadgen/`, the `lienthong-load` load generator) from one run of\n\n```sh\n{}\n```\n",
        r.command
    );
    let _ = writeln!(
        s,
        "The machines are shared and noisy: read each figure **as a ratio against the peer or baseline measured in \
         the same run**. Everything runs on this one machine, on 127.0.0.1: the gateway (release build, embedded \
         SQLite store, every dossier signed, receipts signed, the message log on), the four agency simulators as a \
         process of their own, the peers, and the load generator (one thread, so it takes at most one core). \
         Open-loop latencies are corrected for coordinated omission (measured from each request's scheduled time); \
         closed-loop latencies are service times. The machine-readable results are in `deploy/BENCHMARKS.json`.\n"
    );
    let _ = writeln!(s, "| machine | |\n|---|---|");
    let _ = writeln!(s, "| CPU | {} × {} |", m.cores, m.cpu);
    let _ = writeln!(s, "| memory | {} GiB |", m.memory_gib);
    let _ = writeln!(s, "| kernel | {} |", m.kernel);
    let _ = writeln!(s, "| load average before / after | {} / {} |", m.load_before, m.load_after);
    let _ = writeln!(s, "| toolchain | {} |", m.rustc);
    let _ = writeln!(s, "| peers | {} |", m.peers.join("; "));
    let _ = writeln!(s, "| commit, date | {}, {} |", m.commit, m.date);
    let _ = writeln!(
        s,
        "| run | {} s per timed run, closed loop at {} in flight, {:.0} s in all |",
        r.duration_s, r.concurrency, r.total_s
    );
    let workers = r.gateway_workers.map_or("one per core (the default)".to_owned(), |n| format!("{n}"));
    let _ = writeln!(s, "| gateway runtime threads (`server.worker_threads`) | {workers} |\n");
    targets(&mut s, r);
    accept(&mut s, r);
    verify(&mut s, r);
    lookup(&mut s, r);
    feed(&mut s, r);
    backlog(&mut s, r);
    footprint(&mut s, r);
    postgres(&mut s, r);
    if !r.failures.is_empty() {
        let _ = writeln!(s, "## Scenarios that failed in this run\n");
        for f in &r.failures {
            let _ = writeln!(s, "- {f}");
        }
        let _ = writeln!(s);
    }
    s.push_str(analysis);
    s
}

fn primary(r: &Results) -> Option<&super::AcceptResult> {
    r.accept.iter().find(|a| a.name == "xml_rsa2048")
}

fn targets(s: &mut String, r: &Results) {
    let _ = writeln!(s, "## Targets\n\n| target | measured | ratio to target | |\n|---|---|---|---|");
    if let Some(a) = primary(r) {
        let rate = a.closed.throughput;
        let _ = writeln!(
            s,
            "| accept ≥ 5,000 signed 10 KB XML dossiers/s, durable | {}/s | {} | {} |",
            n(rate),
            ratio(rate, 5000.0),
            met(rate >= 5000.0)
        );
        if let Some(t) = &a.at_target {
            let p99 = t.latency.p99;
            let ok = p99 < 20_000 && t.ok == t.sent && t.unsent == 0;
            let _ = writeln!(
                s,
                "| p99 < 20 ms at 2,500/s | p99 {} ({} of {} answered 2xx) | {} | {} |",
                ms(p99),
                n(t.ok as f64),
                n(t.sent as f64),
                ratio(p99 as f64, 20_000.0),
                met(ok)
            );
        }
    }
    if let Some(v) = &r.verify {
        for (signer, ours, peer) in &v.rows {
            let _ = writeln!(
                s,
                "| verification per core ≥ 5× libxmlsec1 ({signer}) | {} vs {}/s | {} | {} |",
                n(*ours),
                n(*peer),
                ratio(*ours, *peer),
                met(*ours >= 5.0 * peer)
            );
        }
    }
    if let Some(l) = &r.lookup {
        let get = |name: &str| l.targets.iter().find(|t| t.name == name);
        if let (Some(d), Some(ng), Some(us)) = (get("direct"), get("nginx"), get("lienthong")) {
            let _ = writeln!(
                s,
                "| look-up pass-through ≥ nginx's requests/s | {} vs {}/s | {} | {} |",
                n(us.closed.throughput),
                n(ng.closed.throughput),
                ratio(us.closed.throughput, ng.closed.throughput),
                met(us.closed.throughput >= ng.closed.throughput)
            );
            let _ = writeln!(s, "{}", added_p99_row(d.open.latency.p99, ng.open.latency.p99, us.open.latency.p99));
        }
    }
    if let Some(a) = primary(r) {
        let _ = writeln!(
            s,
            "| < 150 MB resident under the accept load | peak {} | {} | {} |",
            mib(a.peak_rss_kib),
            ratio(a.peak_rss_kib as f64 * 1024.0, 150e6),
            met((a.peak_rss_kib as f64 * 1024.0) < 150e6)
        );
    }
    if let Some(k) = &r.soak {
        if let Some(row) = soak_row(k.seconds, k.rate, &k.rss) {
            let _ = writeln!(s, "{row}");
        }
    }
    let _ = writeln!(s);
}

/// Seconds of a soak given to warming up: growth is measured from the first
/// sample at or after it.
const SOAK_WARMUP_S: f64 = 60.0;
/// The shortest span after the warm-up over which growth is judged: a shorter
/// soak cannot show it, so its row says so instead of a verdict.
const SOAK_MIN_SPAN_S: f64 = 240.0;
/// The most growth from the warm-up to the end that counts as none.
const SOAK_MAX_GROWTH: f64 = 1.10;

/// The target row of the look-up's added p99 (µs in, each the p99 of direct
/// calls, through nginx and through the gateway at the same rate). The added
/// latency is measured against the direct calls; when their own p99 is above a
/// proxied one, the run was disturbed (a proxy cannot take less than what it
/// proxies) and no verdict is given.
fn added_p99_row(direct: u64, nginx: u64, ours: u64) -> String {
    if direct > nginx.min(ours) {
        return format!(
            "| look-up added p99 ≤ nginx's | direct {}, nginx {}, lienthong {} | – | **not measured**: the direct \
             calls' p99 is above a proxied one's, so the run was disturbed |",
            ms(direct),
            ms(nginx),
            ms(ours)
        );
    }
    let (ours, theirs) = (ours - direct, nginx - direct);
    format!(
        "| look-up added p99 ≤ nginx's | +{} vs +{} | {} | {} |",
        ms(ours),
        ms(theirs),
        ratio(ours as f64, theirs as f64),
        met(ours <= theirs)
    )
}

/// The target row of the soak, from its (seconds, RSS KiB) samples.
fn soak_row(seconds: f64, rate: f64, rss: &[(f64, u64)]) -> Option<String> {
    let first = rss.iter().find(|(t, _)| *t >= SOAK_WARMUP_S).or(rss.first())?;
    let last = rss.last()?;
    let head = format!(
        "| no memory growth over the soak ({seconds:.0} s at {}/s) | {} at {:.0} s → {} at {:.0} s |",
        n(rate),
        mib(first.1),
        first.0,
        mib(last.1),
        last.0
    );
    if last.0 - first.0 < SOAK_MIN_SPAN_S {
        return Some(format!(
            "{head} – | **not measured**: less than {SOAK_MIN_SPAN_S:.0} s after the warm-up (run with `--soak 10m`) |"
        ));
    }
    let growth = last.1 as f64 / first.1.max(1) as f64;
    Some(format!("{head} {} | {} |", ratio(last.1 as f64, first.1 as f64), met(growth <= SOAK_MAX_GROWTH)))
}

fn accept(s: &mut String, r: &Results) {
    let _ = writeln!(s, "## 1. Accept: signed dossiers, accepted durably and delivered\n");
    let _ = writeln!(
        s,
        "Each dossier is unique (its own code), about 10 KB, signed before the run; the gateway verifies it \
         (chain and CRLs), checks the member's signer binding, normalises it, stores it with its message-log record \
         in one transaction, answers with a signed receipt, and delivers it to the Justice simulator and \
         synchronises it to the DVCQG simulator (two deliveries per dossier, running while it accepts). The peer \
         column is what libxmlsec1 alone could *verify* on all {} cores in the same run (no parse into a model, no \
         store, no receipt, no delivery).\n",
        r.machine.cores
    );
    let xmlsec_total = r
        .verify
        .as_ref()
        .and_then(|v| v.rows.iter().find(|(n, _, _)| n == "rsa2048"))
        .map(|(_, _, p)| p * r.machine.cores as f64);
    let _ = writeln!(
        s,
        "| corpus | sustained (closed loop) | × libxmlsec1 verify-only, all cores | delivered/s | gateway CPU per dossier | refused |\n|---|---|---|---|---|---|"
    );
    for a in &r.accept {
        let peer = r
            .verify
            .as_ref()
            .and_then(|v| {
                let signer = if a.name.contains("ecdsa") { "ecdsa_p256" } else { "rsa2048" };
                v.rows.iter().find(|(n, _, _)| n == signer)
            })
            .map(|(_, _, p)| p * r.machine.cores as f64);
        let peer = if a.name.starts_with("jws") { None } else { peer.or(xmlsec_total) };
        let _ = writeln!(
            s,
            "| `{}` | {}/s | {} | {} | {:.2} ms | {} |",
            a.name,
            n(a.closed.throughput),
            peer.map_or("–".to_owned(), |p| ratio(a.closed.throughput, p)),
            n(a.delivered_per_s),
            a.gateway_cpu_ms_per_dossier,
            refused(&a.closed)
        );
    }
    let _ = writeln!(
        s,
        "\nLatency at fixed rates (open loop, coordinated-omission corrected), against the closed loop's own service time:\n"
    );
    let _ = writeln!(s, "| corpus | offered | achieved | p50 | p99 | p99.9 | max | over 10 ms: first second / run | p99 × closed-loop p50 | refused |\n|---|---|---|---|---|---|---|---|---|---|");
    for a in &r.accept {
        let mut rows = vec![("50 %", &a.at_50), ("90 %", &a.at_90)];
        if let Some(t) = &a.at_target {
            rows.push(("2,500/s", t));
        }
        for (label, o) in rows {
            let offered = match o.mode {
                crate::drive::Mode::Open { rate } => rate,
                crate::drive::Mode::Closed { .. } => 0.0,
            };
            let _ = writeln!(
                s,
                "| `{}` | {label}: {}/s | {}/s | {} | {} | {} | {} | {} | {} | {} |",
                a.name,
                n(offered),
                n(o.throughput),
                ms(o.latency.p50),
                ms(o.latency.p99),
                ms(o.latency.p999),
                ms(o.latency.max),
                slow(o),
                ratio(o.latency.p99 as f64, a.closed.latency.p50 as f64),
                refused(o)
            );
        }
    }
    let _ = writeln!(s);
}

fn verify(s: &mut String, r: &Results) {
    let Some(v) = &r.verify else { return };
    let _ = writeln!(s, "## 2. Verify only: the gateway's verification against libxmlsec1, per core\n");
    let _ = writeln!(
        s,
        "The same signed 10 KB XML documents (exported by the criterion benchmark `schemas/benches/verify.rs`, which \
         measures the gateway's `verify_xml`: strict parse, exclusive C14N, digest, signature, chain and CRLs, the \
         chain's verdict remembered) verified on one thread by libxmlsec1 through Python's `xmlsec` \
         (`deploy/bench/xmlsec_verify.py`: lxml parse, chain built to the trusted roots; the binding cannot load \
         CRLs, so libxmlsec1 checks no revocation). Each document must verify and a tampered copy must fail before \
         timing.\n"
    );
    let _ = writeln!(
        s,
        "| signer | lienthong (criterion median) | libxmlsec1 | ratio | target 5× |\n|---|---|---|---|---|"
    );
    for (signer, ours, peer) in &v.rows {
        let _ = writeln!(
            s,
            "| {signer} | {}/s | {}/s | {} | {} |",
            n(*ours),
            n(*peer),
            ratio(*ours, *peer),
            met(*ours >= 5.0 * peer)
        );
    }
    let _ = writeln!(s);
    criterion(s, r);
}

/// Every benchmark of the criterion run, against parsing the same dossier into
/// the canonical model (the work the gateway does for any dossier, signed or not).
fn criterion(s: &mut String, r: &Results) {
    if r.criterion.is_empty() {
        return;
    }
    let base = |name: &str| r.criterion.iter().find(|(n, _)| n == name).map(|(_, ns)| *ns);
    let _ = writeln!(
        s,
        "Every benchmark of that criterion run (one thread; `_cold`: the signer's chain built and every certificate \
         and CRL signature on it checked, as for a certificate seen for the first time; without: the chain's verdict \
         remembered), against parsing the same dossier:\n"
    );
    let _ = writeln!(s, "| benchmark | median | per core | × parsing the dossier |\n|---|---|---|---|");
    for (name, ns) in &r.criterion {
        let json = name.starts_with("jws") || name.ends_with("json");
        let parse = if json { "parse/dossier_from_json" } else { "parse/dossier_from_xml" };
        let _ = writeln!(
            s,
            "| `{name}` | {:.0} µs | {}/s | {} |",
            ns / 1000.0,
            n(1e9 / ns),
            base(parse).map_or("–".to_owned(), |b| ratio(*ns, b))
        );
    }
    let _ = writeln!(s);
}

fn lookup(s: &mut String, r: &Results) {
    let Some(l) = &r.lookup else { return };
    let _ = writeln!(s, "## 3. Look-up pass-through\n");
    let _ = writeln!(
        s,
        "A MOIT licence look-up. `direct`: `GET /api/v1/giay-phep/{{number}}` at the MOIT simulator; `nginx` (one \
         worker, keep-alive upstream) and `haproxy` (one thread, keep-alive both ways) proxy that same request; \
         `lienthong` answers `GET /v1/agencies/moit/lookups/licence?number=…`: it authenticates the member, checks its \
         grant, calls MOIT through the adapter (OAuth token, MOIT's REST call) and normalises the answer. Closed loop \
         at 32 in flight for requests per second; then each at the same open-loop rate, {}/s (half the slowest \
         proxy's), for latency. Each gateway is fresh, started after the accept gateway stopped. {}\n",
        n(l.rate),
        workers_note(r.gateway_workers),
    );
    let nginx = l.targets.iter().find(|t| t.name == "nginx");
    let direct = l.targets.iter().find(|t| t.name == "direct");
    let _ = writeln!(s, "| target | requests/s | × nginx | p50 | p99 | added p50 over direct | added p99 over direct | over 10 ms: first second / run |\n|---|---|---|---|---|---|---|---|");
    for t in &l.targets {
        let (dp50, dp99) = direct.map_or((0, 0), |d| (d.open.latency.p50, d.open.latency.p99));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            t.name,
            n(t.closed.throughput),
            nginx.map_or("–".to_owned(), |ng| ratio(t.closed.throughput, ng.closed.throughput)),
            ms(t.open.latency.p50),
            ms(t.open.latency.p99),
            ms(t.open.latency.p50.saturating_sub(dp50)),
            ms(t.open.latency.p99.saturating_sub(dp99)),
            slow(&t.open),
        );
    }
    let _ = writeln!(s);
}

/// How the look-up section's gateways were run.
fn workers_note(workers: Option<usize>) -> String {
    match workers {
        Some(n) => format!(
            "`lienthong` runs {n} runtime thread{} (`server.worker_threads = {n}`; nginx runs one worker and HAProxy \
             one thread); `{}` is the same gateway with the default, one runtime thread per core.",
            if n == 1 { "" } else { "s" },
            super::scenarios::PER_CORE
        ),
        None => "`lienthong` runs the default, one runtime thread per core.".to_owned(),
    }
}

fn feed(s: &mut String, r: &Results) {
    let Some(f) = &r.feed else { return };
    let _ = writeln!(s, "## 4. Feed\n");
    let _ = writeln!(
        s,
        "`portal-hanoi` posts \"received\" (status 2) for {} of its dossiers (closed loop: each event checked against \
         the lifecycle, stored, added to two feeds and queued for DVCQG in one transaction), then reads its feed from \
         the start in pages of 100 on one connection. Then {} rounds of: a long-poll waits (`wait=10`), a status is \
         posted on another connection, and the time from sending the post to the long-poll's answer is the wake-up \
         latency, against the post's own round trip.\n",
        n(f.post.ok as f64),
        f.wakeups
    );
    let _ = writeln!(s, "| figure | value | baseline | ratio |\n|---|---|---|---|");
    let _ = writeln!(s, "| status events posted | {}/s | | |", n(f.post.throughput));
    let _ = writeln!(
        s,
        "| events read by one member | {}/s ({} pages/s) | events posted/s | {} |",
        n(f.read_events_per_s),
        n(f.read_pages_per_s),
        ratio(f.read_events_per_s, f.post.throughput)
    );
    let _ = writeln!(
        s,
        "| long-poll wake-up, p50 / p99 / max | {} / {} / {} | the post's round trip, p50 {} | {} |\n",
        ms(f.wake_p50_us),
        ms(f.wake_p99_us),
        ms(f.wake_max_us),
        ms(f.post_p50_us),
        ratio(f.wake_p50_us as f64, f.post_p50_us as f64)
    );
}

fn backlog(s: &mut String, r: &Results) {
    if r.backlog.is_empty() {
        return;
    }
    let _ = writeln!(s, "## 5. Backlog drain\n");
    let _ = writeln!(
        s,
        "With every simulator stopped, `portal-load` sends unsigned dossiers for Justice (closed loop) to a fresh \
         gateway, which queues them (nothing is delivered; the circuit opens). The simulators start again, and the \
         drain is timed from then to the last delivery (read from `lienthong_delivery_attempts_total`). Synchronising \
         to DVCQG is off here, so each dossier is one delivery.\n"
    );
    let _ = writeln!(s, "| Justice rate limit | queued | queued at (agency down) | drained in | deliveries/s | × the limit | peak RSS while draining |\n|---|---|---|---|---|---|---|");
    for b in &r.backlog {
        let _ = writeln!(
            s,
            "| {} | {} | {}/s | {:.1} s | {} | {} | {} |",
            b.rate_limit.map_or("none".to_owned(), |l| format!("{}/s", n(f64::from(l)))),
            n(b.queued as f64),
            n(b.accept.throughput),
            b.drain_s,
            n(b.per_s),
            b.rate_limit.map_or("–".to_owned(), |l| ratio(b.per_s, f64::from(l))),
            mib(b.peak_rss_kib)
        );
    }
    if let [limited, unlimited] = r.backlog.as_slice() {
        let _ = writeln!(s, "\nUnlimited against limited: {}.", ratio(unlimited.per_s, limited.per_s));
    }
    let _ = writeln!(s);
}

fn footprint(s: &mut String, r: &Results) {
    let f = &r.footprint;
    let _ = writeln!(s, "## 6. Footprint\n\n| figure | lienthong | peers |\n|---|---|---|");
    let _ = writeln!(s, "| release binary | {:.1} MiB | |", f.binary_bytes as f64 / 1024.0 / 1024.0);
    let mut starts = f.startup_ms.clone();
    starts.sort_by(f64::total_cmp);
    if let Some(median) = starts.get(starts.len() / 2) {
        let _ = writeln!(
            s,
            "| start-up to ready, empty store (median of {}) | {median:.0} ms (from {:.0} to {:.0}) | |",
            starts.len(),
            starts.first().copied().unwrap_or_default(),
            starts.last().copied().unwrap_or_default()
        );
    }
    let peers: Vec<String> = f.peer_idle_rss_kib.iter().map(|(p, k)| format!("{p} {}", mib(*k))).collect();
    let _ = writeln!(s, "| resident at idle | {} | {} |", mib(f.idle_rss_kib), peers.join(", "));
    for a in &r.accept {
        let _ = writeln!(s, "| resident, peak under `{}` load | {} | |", a.name, mib(a.peak_rss_kib));
    }
    if let Some(k) = &r.soak {
        let samples: Vec<String> =
            k.rss.iter().step_by((k.rss.len() / 8).max(1)).map(|(t, kib)| format!("{t:.0} s: {}", mib(*kib))).collect();
        let _ = writeln!(
            s,
            "| soak, {} unsigned dossiers/s for {:.0} s ({} of {} accepted, p99 {}) | {} | |",
            n(k.rate),
            k.seconds,
            n(k.run.ok as f64),
            n(k.run.sent as f64),
            ms(k.run.latency.p99),
            samples.join("; ")
        );
    }
    let _ = writeln!(s);
}

fn postgres(s: &mut String, r: &Results) {
    let Some(p) = &r.postgres else { return };
    let Some(a) = primary(r) else { return };
    let _ = writeln!(s, "## Store column: SQLite single node against PostgreSQL\n");
    let _ = writeln!(
        s,
        "The primary corpus (`xml_rsa2048`) in closed loop at {} in flight, on a fresh store each: the embedded SQLite \
         node of section 1, one gateway on PostgreSQL {} (local, same machine), and three replicas on one PostgreSQL \
         database with the connections spread over them (all on the same 2 cores).\n",
        r.concurrency, p.server
    );
    let _ = writeln!(s, "| store | dossiers/s | × SQLite | p50 | p99 | refused |\n|---|---|---|---|---|---|");
    let base = a.closed.throughput;
    for (name, o) in
        [("SQLite, 1 node", &a.closed), ("PostgreSQL, 1 replica", &p.one), ("PostgreSQL, 3 replicas", &p.three)]
    {
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} | {} |",
            n(o.throughput),
            ratio(o.throughput, base),
            ms(o.latency.p50),
            ms(o.latency.p99),
            refused(o)
        );
    }
    let _ = writeln!(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_written_for_people() {
        assert_eq!(n(1234567.4), "1,234,567");
        assert_eq!(n(999.0), "999");
        assert_eq!(ms(12_345), "12.35 ms");
        assert_eq!(ratio(3.0, 2.0), "1.50×");
        assert_eq!(ratio(3.0, 0.0), "–");
        assert_eq!(mib(2048), "2.0 MiB");
    }

    #[test]
    fn the_added_p99_has_a_verdict_only_over_an_undisturbed_baseline() {
        let row = added_p99_row(2_400, 2_600, 3_100);
        assert!(row.contains("+0.70 ms vs +0.20 ms") && row.ends_with("**missed** |"), "{row}");
        let row = added_p99_row(2_400, 2_900, 2_700);
        assert!(row.contains("+0.30 ms vs +0.50 ms") && row.ends_with("**met** |"), "{row}");
        // The direct calls' own tail above a proxied one: no verdict either way.
        for (nginx, ours) in [(3_500, 37_000), (90_000, 3_000), (3_500, 3_600)] {
            let row = added_p99_row(83_000, nginx, ours);
            assert!(row.contains("**not measured**") && !row.contains("**met**"), "{row}");
        }
    }

    #[test]
    fn slow_answers_are_counted_in_the_first_second_and_in_all() {
        let json = r#"{"mode":{"open":{"rate":100.0}},"connections":4,"elapsed_s":2.0,"sent":1600,"ok":1600,
            "statuses":{"200":1600},"errors":0,"unsent":0,"throughput":100.0,"latency":{"p50":1,"p90":1,"p99":1,
            "p999":1,"max":1,"mean":1.0},"corrected":true,"generator_cpu_s":0.1,
            "timeline":[{"answered":1500,"over_10ms":1200,"over_50ms":3,"max_us":60000},
                        {"answered":100,"over_10ms":5,"over_50ms":0,"max_us":12000}]}"#;
        let mut o: Outcome = serde_json::from_str(json).expect("an outcome");
        assert_eq!(slow(&o), "1,200 / 1,205");
        o.timeline.clear();
        assert_eq!(slow(&o), "–", "results written before the timeline have none");
    }

    #[test]
    fn a_soak_too_short_to_show_growth_gets_no_verdict() {
        let flat = |until: u32| (0..=until / 5).map(|i| (f64::from(i * 5), 100_000)).collect::<Vec<_>>();
        let short = soak_row(60.0, 500.0, &flat(60)).expect("a row");
        assert!(short.contains("**not measured**") && !short.contains("**met**"), "{short}");
        let long = soak_row(600.0, 500.0, &flat(600)).expect("a row");
        assert!(long.contains("**met**"), "{long}");
        let mut growing = flat(600);
        growing.last_mut().expect("samples").1 = 120_000;
        let grown = soak_row(600.0, 500.0, &growing).expect("a row");
        assert!(grown.contains("1.20×") && grown.contains("**missed**"), "{grown}");
        assert_eq!(soak_row(60.0, 500.0, &[]), None);
    }
}
