//! `lienthong-load`: drive a server with a load (`load`), or run the whole
//! benchmark report (`bench`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use loadgen::client::{bearer, Req};
use loadgen::corpus::{self, Kind};
use loadgen::drive::{self, Mode, Plan};

/// The Lienthong load generator.
#[derive(Debug, Parser)]
#[command(name = "lienthong-load", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Offer one load to a running server and print the result as JSON.
    Load(LoadArgs),
    /// Run every benchmark scenario and write the report (see the README).
    Bench(loadgen::bench::BenchArgs),
    /// Write the report again from a run's results (after editing its analysis).
    Report {
        /// The results of a run.
        #[arg(long, default_value = "deploy/BENCHMARKS.json")]
        json: PathBuf,
        /// The hand-written analysis appended to the report.
        #[arg(long, default_value = "deploy/bench/analysis.md")]
        analysis: PathBuf,
        /// Where the report is written.
        #[arg(long, default_value = "deploy/BENCHMARKS.md")]
        out: PathBuf,
    },
}

/// What to send, where, and how.
#[derive(Debug, clap::Args)]
struct LoadArgs {
    /// The server (several: the connections are spread over them).
    #[arg(long, required = true)]
    target: Vec<SocketAddr>,
    /// Open loop at this many requests per second.
    #[arg(long, conflicts_with = "closed")]
    rate: Option<f64>,
    /// Closed loop with this many requests in flight.
    #[arg(long)]
    closed: Option<usize>,
    /// How long requests are started for.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Connections of an open-loop run.
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// `GET` this path (and query) every time.
    #[arg(long, conflicts_with = "dossiers")]
    get: Option<String>,
    /// Submit this many unique dossiers to `/v1/dossiers`.
    #[arg(long)]
    dossiers: Option<usize>,
    /// Their form: `xml` (signed), `jws` (JSON, signed) or `json` (unsigned).
    #[arg(long, default_value = "json")]
    kind: String,
    /// The signer's PKCS#8 key and certificate chain (PEM), for `xml` and `jws`.
    #[arg(long, num_args = 2, value_names = ["KEY", "CHAIN"])]
    signer: Vec<PathBuf>,
    /// The dossier-code unit of the corpus (codes are `<unit>-20261201-<n>`).
    #[arg(long, default_value = "000.00.31.H29")]
    unit: String,
    /// Bearer token (read from this environment variable).
    #[arg(long, default_value = "LIENTHONG_TOKEN")]
    token_env: String,
    /// Where to write the JSON result (standard output without).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{s}: {e}"))
}

fn load(args: LoadArgs) -> anyhow::Result<()> {
    let mode = match (args.rate, args.closed) {
        (Some(rate), None) => Mode::Open { rate },
        (None, Some(concurrency)) => Mode::Closed { concurrency },
        _ => anyhow::bail!("give exactly one of --rate (open loop) and --closed (closed loop)"),
    };
    let mut headers = Vec::new();
    if let Ok(token) = std::env::var(&args.token_env) {
        headers.push(bearer(&token));
    }
    let source = match (&args.get, args.dossiers) {
        (Some(path), None) => drive::repeat(Req::get(path.clone(), headers)),
        (None, Some(count)) => {
            let kind = match args.kind.as_str() {
                "xml" => Kind::SignedXml,
                "jws" => Kind::SignedJson,
                "json" => Kind::Json,
                other => anyhow::bail!("unknown --kind {other}: xml, jws or json"),
            };
            let signer = match args.signer.as_slice() {
                [key, chain] => Some(schemas::pki::SigningIdentity::load(key, chain).context("load the signer")?),
                _ => None,
            };
            eprintln!("signing {count} dossiers before the run...");
            let docs = corpus::build(kind, &args.unit, count, signer.as_ref(), None)?;
            let token = std::env::var(&args.token_env).unwrap_or_default();
            let reqs = loadgen::bench::scenarios::submissions(&docs, kind == Kind::SignedXml, &token);
            drive::corpus(reqs)
        }
        _ => anyhow::bail!("give exactly one of --get and --dossiers"),
    };
    let connections = match mode {
        Mode::Closed { concurrency } => concurrency,
        Mode::Open { .. } => args.connections,
    };
    let plan =
        Plan { mode, duration: args.duration, connections, targets: args.target, drain: Duration::from_secs(30) };
    let outcome = drive::run(&plan, source)?;
    let json = serde_json::to_string_pretty(&outcome)? + "\n";
    match args.out {
        Some(path) => std::fs::write(&path, json).with_context(|| format!("write {}", path.display()))?,
        None => print!("{json}"),
    }
    Ok(())
}

fn report(json: &std::path::Path, analysis: &std::path::Path, out: &std::path::Path) -> anyhow::Result<()> {
    let results: loadgen::bench::Results =
        serde_json::from_slice(&std::fs::read(json).with_context(|| format!("read {}", json.display()))?)?;
    let analysis = std::fs::read_to_string(analysis).unwrap_or_default();
    std::fs::write(out, loadgen::bench::report::render(&results, &analysis))?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Load(args) => load(args),
        Command::Bench(args) => loadgen::bench::run(&args),
        Command::Report { json, analysis, out } => report(&json, &analysis, &out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lienthong-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}
