//! `lienthong-load bench`: every scenario of the report, run against the
//! release build of the gateway on the embedded store, with the agency
//! simulators and the peers, on 127.0.0.1; the results as JSON and the report
//! as Markdown.

pub mod report;
pub mod scenarios;
pub mod setup;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::drive::{Mode, Plan};
use crate::procs::{self, Gateway, Simulators};
use scenarios::{AcceptResult, DrainResult, FeedResult, LookupResult, PostgresResult, SoakResult};
use setup::{GatewayOptions, Pki};

/// Options of `lienthong-load bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// The gateway binary (a release build).
    #[arg(long, default_value = "target/release/lienthong")]
    pub lienthong: PathBuf,
    /// The repository (for the PKI script and the peer's script).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Working directory: stores, logs, the PKI, cached corpora.
    #[arg(long, default_value = "target/bench")]
    pub work: PathBuf,
    /// Where the Markdown report is written.
    #[arg(long, default_value = "deploy/BENCHMARKS.md")]
    pub report: PathBuf,
    /// Where the machine-readable results are written.
    #[arg(long, default_value = "deploy/BENCHMARKS.json")]
    pub json: PathBuf,
    /// Length of each timed run.
    #[arg(long, default_value = "10s", value_parser = humantime_parse)]
    pub duration: Duration,
    /// Requests in flight in closed-loop runs (and most in flight in open-loop runs).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Signed dossiers of the primary corpus (XML, RSA-2048).
    #[arg(long, default_value_t = 120_000)]
    pub corpus: usize,
    /// Signed dossiers of each other corpus (XML ECDSA P-256, JWS).
    #[arg(long, default_value_t = 80_000)]
    pub corpus_other: usize,
    /// Most dossiers a closed-loop accept run may send.
    #[arg(long, default_value_t = 40_000)]
    pub closed_limit: usize,
    /// Dossiers queued for the backlog drain.
    #[arg(long, default_value_t = 100_000)]
    pub backlog: u64,
    /// The configured Justice delivery rate of the first drain (per second).
    #[arg(long, default_value_t = 1000)]
    pub backlog_rate: u32,
    /// Length of the memory soak.
    #[arg(long, default_value = "60s", value_parser = humantime_parse)]
    pub soak: Duration,
    /// Rate of the soak (unsigned dossiers per second).
    #[arg(long, default_value_t = 500.0)]
    pub soak_rate: f64,
    /// Pause before each open-loop accept run once the previous run's deliveries
    /// are made (0s: start at once, as the committed report does).
    #[arg(long, default_value = "0s", value_parser = humantime_parse)]
    pub settle: Duration,
    /// Status events posted, then read back, in the feed scenario.
    #[arg(long, default_value_t = 20_000)]
    pub feed_events: u64,
    /// PostgreSQL for the store column (a role that may create databases);
    /// the column is left out when it cannot be reached.
    #[arg(long, default_value = "postgres://postgres@localhost:5432/postgres?sslmode=disable")]
    pub postgres: String,
    /// Directory of the criterion benchmark's results (`target/criterion`).
    #[arg(long, default_value = "target/criterion")]
    pub criterion: PathBuf,
    /// `server.worker_threads` of the gateways (0: the gateway's default, one per
    /// core). The gateway shares the cores with the simulators and the load
    /// generator here, as the peers do, which run one worker (nginx) or thread
    /// (HAProxy).
    #[arg(long, default_value_t = 1)]
    pub gateway_workers: usize,
    /// Run only these scenarios (comma-separated: accept, feed, lookup, verify,
    /// soak, postgres, backlog); all without. Feed needs accept.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// The exact command that produced the report, quoted in it.
    #[arg(long, default_value = "./bench")]
    pub command: String,
    /// Keep each gateway's embedded store after its scenario (they are removed
    /// by default: a ten-minute soak writes several gigabytes).
    #[arg(long)]
    pub keep_stores: bool,
}

fn humantime_parse(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{s}: {e} (such as 10s, 2m)"))
}

/// What the scenarios share: settings, the PKI, the simulators.
pub struct Env {
    /// Working directory.
    pub work: PathBuf,
    /// The gateway binary.
    pub lienthong: PathBuf,
    /// The PKI.
    pub pki: Pki,
    /// The simulators while they run.
    pub sims: Option<Simulators>,
    /// Their first port.
    pub sim_port: u16,
    /// Length of each timed run.
    pub duration: Duration,
    /// Closed-loop concurrency.
    pub concurrency: usize,
    /// Closed-loop concurrency of look-ups.
    pub lookup_concurrency: usize,
    /// How long deliveries may take to catch up after a run.
    pub drain_timeout: Duration,
    /// Pause before each open-loop accept run, after the deliveries.
    pub settle: Duration,
    /// Most dossiers of a closed-loop accept run.
    pub closed_limit: usize,
    /// Primary corpus size.
    pub corpus: usize,
    /// Other corpora's size.
    pub corpus_other: usize,
    /// `server.worker_threads` of the gateways (`None`: one per core).
    pub gateway_workers: Option<usize>,
    /// Keep the embedded stores of stopped gateways.
    pub keep_stores: bool,
    gateways: u32,
}

impl Env {
    /// A plan of `mode` at `targets` for the run length.
    pub fn plan(&self, mode: Mode, targets: &[SocketAddr]) -> Plan {
        let connections = match mode {
            Mode::Closed { concurrency } => concurrency,
            // Enough connections that the generator never waits for one while
            // the server keeps up (a stalled server shows as latency).
            Mode::Open { .. } => 512,
        };
        Plan { mode, duration: self.duration, connections, targets: targets.to_vec(), drain: Duration::from_secs(30) }
    }

    /// Progress on standard error.
    pub fn say(&self, line: &str) {
        eprintln!("{line}");
    }

    /// Starts a fresh gateway (its own directory) with `opts`.
    pub fn gateway(&mut self, name: &str, opts: &GatewayOptions) -> anyhow::Result<Gateway> {
        self.gateways += 1;
        let dir = self.work.join("gateways").join(format!("{:02}-{name}", self.gateways));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        let workers = if opts.per_core_workers { None } else { self.gateway_workers };
        let config = setup::write_config(&dir, &self.pki, self.sim_port, opts, workers)?;
        let mut gw = Gateway::start(&self.lienthong, &config, &dir.join("gateway.log"))?;
        if !self.keep_stores && opts.postgres.is_none() {
            gw.data = Some(dir.join("data"));
        }
        Ok(gw)
    }

    /// Stops the simulators (an outage of every agency).
    pub fn stop_simulators(&mut self) {
        if let Some(s) = self.sims.take() {
            s.proc.stop();
        }
    }

    /// Starts the simulators (afresh: they remember nothing).
    pub fn start_simulators(&mut self) -> anyhow::Result<()> {
        self.stop_simulators();
        self.sims = Some(Simulators::start(&self.lienthong, self.sim_port, setup::SIM_PASSWORD, &self.work)?);
        Ok(())
    }
}

/// The machine and software a report was made on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Cores the processes may use.
    pub cores: usize,
    /// Memory, GiB.
    pub memory_gib: f64,
    /// Kernel.
    pub kernel: String,
    /// Load average when the run started.
    pub load_before: String,
    /// Load average when it ended.
    pub load_after: String,
    /// rustc.
    pub rustc: String,
    /// nginx, HAProxy, libxmlsec1, Python, PostgreSQL.
    pub peers: Vec<String>,
    /// The commit measured.
    pub commit: String,
    /// When (UTC).
    pub date: String,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn machine() -> Machine {
    let cpuinfo = read("/proc/cpuinfo");
    let cpu =
        cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|l| l.trim_start_matches([' ', '\t', ':']));
    let mem_kib: f64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    let out = |cmd: &str, args: &[&str]| procs::version_of(cmd, args);
    Machine {
        cpu: cpu.unwrap_or("unknown").to_owned(),
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        memory_gib: (mem_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        kernel: out("uname", &["-sr"]),
        load_before: read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        load_after: String::new(),
        rustc: out("rustc", &["--version"]),
        peers: vec![
            out("nginx", &["-v"]),
            out("haproxy", &["-v"]),
            out("python3", &["-c", "import xmlsec; print('python-xmlsec', xmlsec.__version__, 'libxmlsec1', '.'.join(map(str, xmlsec.get_libxmlsec_version())))"]),
            out("psql", &["--version"]),
        ],
        commit: out("git", &["rev-parse", "--short", "HEAD"]),
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// The verify-only comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyResult {
    /// (signer, the gateway's verifications per second per core from criterion,
    /// libxmlsec1's on the same document).
    pub rows: Vec<(String, f64, f64)>,
}

/// Reads the criterion medians of `xml_verify/<signer>` and runs the libxmlsec1
/// peer on the documents that benchmark exported.
fn verify(args: &BenchArgs, env: &Env) -> anyhow::Result<VerifyResult> {
    let docs = args.criterion.join("verify-docs");
    anyhow::ensure!(
        docs.join("roots.txt").exists(),
        "no exported documents in {}: run the criterion benchmark with LIENTHONG_VERIFY_EXPORT first",
        docs.display()
    );
    let script = args.repo.join("deploy/bench/xmlsec_verify.py");
    let out = Command::new("python3").arg(&script).arg(&docs).arg("5").output().context("run the libxmlsec1 peer")?;
    anyhow::ensure!(out.status.success(), "the libxmlsec1 peer failed: {}", String::from_utf8_lossy(&out.stderr));
    let peer: std::collections::BTreeMap<String, f64> = serde_json::from_slice(&out.stdout)?;
    let mut rows = Vec::new();
    for (signer, rate) in peer {
        let estimates = args.criterion.join("xml_verify").join(&signer).join("new/estimates.json");
        let e: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&estimates).with_context(|| format!("read {}", estimates.display()))?,
        )?;
        let ns = e["median"]["point_estimate"].as_f64().context("no median in the estimates")?;
        env.say(&format!("  verify {signer}: lienthong {:.0}/s, libxmlsec1 {rate:.0}/s", 1e9 / ns));
        rows.push((signer, 1e9 / ns, rate));
    }
    Ok(VerifyResult { rows })
}

/// The median (ns) of every benchmark criterion measured under `dir`, by
/// `group/name`, sorted.
pub fn criterion_medians(dir: &Path) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for group in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for bench in std::fs::read_dir(group.path()).into_iter().flatten().flatten() {
            let Ok(bytes) = std::fs::read(bench.path().join("new/estimates.json")) else { continue };
            let Ok(e) = serde_json::from_slice::<serde_json::Value>(&bytes) else { continue };
            if let Some(ns) = e["median"]["point_estimate"].as_f64() {
                let name = format!("{}/{}", group.file_name().to_string_lossy(), bench.file_name().to_string_lossy());
                out.push((name, ns));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The footprint figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Footprint {
    /// The release binary, bytes.
    pub binary_bytes: u64,
    /// Start-up to ready (the first 200 of `/readyz`) on an empty store, ms:
    /// each of several starts.
    pub startup_ms: Vec<f64>,
    /// Resident memory at idle after start-up, KiB.
    pub idle_rss_kib: u64,
    /// nginx's and HAProxy's resident memory at idle, KiB (peers).
    pub peer_idle_rss_kib: Vec<(String, u64)>,
}

/// Everything one run of the report measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// The machine.
    pub machine: Machine,
    /// The command.
    pub command: String,
    /// Settings: run length, concurrency.
    pub duration_s: f64,
    /// Closed-loop concurrency.
    pub concurrency: usize,
    /// `server.worker_threads` of the gateways (`None`: one per core; reports
    /// from before the setting had that).
    #[serde(default)]
    pub gateway_workers: Option<usize>,
    /// Accept, per corpus.
    pub accept: Vec<AcceptResult>,
    /// Verify-only.
    pub verify: Option<VerifyResult>,
    /// Every criterion median of the verification benchmark: (group/name, ns).
    #[serde(default)]
    pub criterion: Vec<(String, f64)>,
    /// Look-up pass-through.
    pub lookup: Option<LookupResult>,
    /// Feed.
    pub feed: Option<FeedResult>,
    /// Backlog drains.
    pub backlog: Vec<DrainResult>,
    /// Footprint.
    pub footprint: Footprint,
    /// Soak.
    pub soak: Option<SoakResult>,
    /// PostgreSQL column.
    pub postgres: Option<PostgresResult>,
    /// Scenarios that failed, with why.
    pub failures: Vec<String>,
    /// Total wall-clock seconds.
    pub total_s: f64,
}

/// Runs everything and writes the report.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let lienthong = std::fs::canonicalize(&args.lienthong)
        .with_context(|| format!("{} (build it with cargo build --release)", args.lienthong.display()))?;
    std::fs::create_dir_all(&args.work)?;
    let work = std::fs::canonicalize(&args.work)?;
    let mut machine = machine();
    eprintln!("lienthong bench on {} ({} cores), load {}", machine.cpu, machine.cores, machine.load_before);
    let pki = Pki::ensure(&args.repo, &work.join("pki"))?;
    let sim_port = procs::free_ports(4)?;
    let mut env = Env {
        work: work.clone(),
        lienthong: lienthong.clone(),
        pki,
        sims: None,
        sim_port,
        duration: args.duration,
        concurrency: args.concurrency,
        lookup_concurrency: 32,
        drain_timeout: Duration::from_secs(300),
        settle: args.settle,
        closed_limit: args.closed_limit,
        corpus: args.corpus,
        corpus_other: args.corpus_other,
        gateway_workers: (args.gateway_workers > 0).then_some(args.gateway_workers),
        keep_stores: args.keep_stores,
        gateways: 0,
    };
    env.start_simulators()?;
    let mut failures = Vec::new();
    let mut note = |what: &str, e: anyhow::Error| {
        eprintln!("  {what} FAILED: {e:#}");
        failures.push(format!("{what}: {e:#}"));
    };

    // Footprint: start-ups on an empty store, idle memory, the peers' idle memory.
    let mut footprint =
        Footprint { binary_bytes: std::fs::metadata(&lienthong).map(|m| m.len()).unwrap_or(0), ..Default::default() };
    for i in 0..5 {
        let gw = env.gateway(&format!("startup-{i}"), &GatewayOptions::default())?;
        footprint.startup_ms.push(gw.ready_after.as_secs_f64() * 1000.0);
        gw.stop();
    }
    let wanted = |s: &str| args.only.is_empty() || args.only.iter().any(|o| o == s);
    let corpora = if wanted("accept") || wanted("postgres") {
        eprintln!("corpora (signed before any timed run, on every core):");
        scenarios::corpora(&env, &env.pki)?
    } else {
        Vec::new()
    };

    eprintln!("accept:");
    let gw = env.gateway("accept", &GatewayOptions { status_sync: true, ..Default::default() })?;
    std::thread::sleep(Duration::from_secs(1));
    footprint.idle_rss_kib = gw.proc.memory_kib().0;
    let mut accept = Vec::new();
    let mut primary_reqs = Vec::new();
    for (i, c) in corpora.iter().enumerate().filter(|_| wanted("accept") || wanted("postgres")) {
        let (name, reqs) = (&c.name, scenarios::submissions(&c.docs, c.xml, &c.token));
        if i == 0 {
            primary_reqs = reqs.clone();
        }
        // Each dossier goes to Justice and is synchronised to DVCQG: two deliveries.
        let target = (i == 0).then_some(2500.0);
        if !wanted("accept") {
            continue;
        }
        match scenarios::accept(&env, name, &gw, reqs, 2, target, env.closed_limit) {
            Ok(r) => accept.push(r),
            Err(e) => note(&format!("accept {name}"), e),
        }
    }

    eprintln!("feed:");
    let feed = (wanted("feed") && !accept.is_empty())
        .then(|| {
            scenarios::feed(
                &env,
                &gw,
                setup::unit::XML_RSA,
                args.feed_events.min(accepted(&accept).saturating_sub(200)),
                200,
            )
            .map_err(|e| note("feed", e))
            .ok()
        })
        .flatten();

    // The accept gateway stops here: it could otherwise still be delivering the
    // feed's status events to DVCQG while the look-ups are measured.
    gw.stop();
    // Fresh simulators for each later scenario, so that each starts from an
    // empty agency, the same for every peer it compares. (They keep only their
    // most recent deliveries' contents, so memory is no longer the reason.)
    if let Err(e) = env.start_simulators() {
        note("restarting the simulators", e);
    }
    eprintln!("lookup:");
    let moit = env.sims.as_ref().map(|s| s.addr(2)).context("simulators")?;
    let lookup =
        wanted("lookup").then(|| scenarios::lookup(&mut env, moit).map_err(|e| note("lookup", e)).ok()).flatten();

    eprintln!("verify (libxmlsec1 peer on the criterion benchmark's documents):");
    let verify = wanted("verify").then(|| verify(args, &env).map_err(|e| note("verify", e)).ok()).flatten();

    eprintln!("soak:");
    let soak = wanted("soak")
        .then(|| {
            (|| -> anyhow::Result<SoakResult> {
                env.start_simulators()?;
                let gw = env.gateway("soak", &GatewayOptions { status_sync: true, ..Default::default() })?;
                let r = scenarios::soak(&env, &gw, args.soak_rate, args.soak.as_secs())?;
                gw.stop();
                Ok(r)
            })()
            .map_err(|e| note("soak", e))
            .ok()
        })
        .flatten();

    eprintln!("postgres:");
    let postgres = match scenarios::psql(&args.postgres, "SELECT 1").map(|_| wanted("postgres")) {
        Ok(false) => None,
        Ok(true) => {
            scenarios::postgres(&mut env, &args.postgres, &primary_reqs, 2).map_err(|e| note("postgres", e)).ok()
        }
        Err(e) => {
            note("postgres (not reachable)", e);
            None
        }
    };

    eprintln!("backlog:");
    let mut backlog = Vec::new();
    let drains = [("backlog-limited", Some(args.backlog_rate)), ("backlog-unlimited", None)];
    for (name, rate) in drains.into_iter().filter(|_| wanted("backlog")) {
        match scenarios::backlog(&mut env, name, args.backlog, rate) {
            Ok(r) => backlog.push(r),
            Err(e) => note(name, e),
        }
        if env.sims.is_none() {
            env.start_simulators()?;
        }
    }
    // The peers' idle memory, measured alone.
    if let Some(sims) = &env.sims {
        let upstream = sims.addr(2);
        for (name, start) in [
            ("nginx", procs::nginx as fn(&Path, u16, SocketAddr) -> anyhow::Result<procs::Proc>),
            ("haproxy", procs::haproxy),
        ] {
            if let Ok(port) = procs::free_ports(1) {
                if let Ok(p) = start(&work, port, upstream) {
                    std::thread::sleep(Duration::from_millis(500));
                    footprint.peer_idle_rss_kib.push((name.to_owned(), p.memory_kib().0));
                    p.stop();
                }
            }
        }
    }
    env.stop_simulators();
    machine.load_after = read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let results = Results {
        machine,
        command: args.command.clone(),
        duration_s: args.duration.as_secs_f64(),
        concurrency: args.concurrency,
        gateway_workers: env.gateway_workers,
        accept,
        verify,
        criterion: criterion_medians(&args.criterion),
        lookup,
        feed,
        backlog,
        footprint,
        soak,
        postgres,
        failures,
        total_s: started.elapsed().as_secs_f64(),
    };
    std::fs::write(&args.json, serde_json::to_string_pretty(&results)? + "\n")?;
    let analysis = std::fs::read_to_string(args.repo.join("deploy/bench/analysis.md")).unwrap_or_default();
    std::fs::write(&args.report, report::render(&results, &analysis))?;
    eprintln!("report written to {} ({:.0} s)", args.report.display(), results.total_s);
    anyhow::ensure!(results.failures.is_empty(), "{} scenario(s) failed", results.failures.len());
    Ok(())
}

/// Dossiers of the primary corpus accepted (those the feed scenario may use).
fn accepted(accept: &[AcceptResult]) -> u64 {
    accept.first().map_or(0, |a| a.closed.ok)
}
