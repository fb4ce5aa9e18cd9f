//! The `lienthong` command line.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{Config, LogFormat};
use crate::{demo, Gateway};

/// Lienthong: the interoperability gateway for online public services.
#[derive(Debug, Parser)]
#[command(name = "lienthong", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway.
    Serve {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// List or replay the dead letters of a running gateway (operators; the token
    /// is read from `LIENTHONG_TOKEN`, or the variable `--token-env` names).
    DeadLetters(crate::deadletters::DeadLetterArgs),
    /// The tamper-evident message log.
    Audit {
        #[command(subcommand)]
        command: crate::audit::AuditCommand,
    },
    /// Apply the store's pending schema migrations and report the schema (safe
    /// while replicas run: migrations take the store's migration lock).
    Migrate {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Operate on the configured store.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Check a configuration file and report every error with its location.
    CheckConfig {
        /// The configuration file.
        file: PathBuf,
    },
    /// Run a self-contained demonstration: gateway, agency simulator and a synthetic
    /// provincial portal, on the embedded store; no configuration needed.
    Demo(demo::DemoArgs),
    /// Print the routing table (procedure to agency and payload) of a configuration,
    /// or the built-in default table.
    Routes {
        /// The configuration file; without it, the default table.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Print the SHA-256 of a bearer token read from standard input, for `token_sha256`.
    HashToken,
    /// Verify a signed dossier or receipt offline, and explain step by step why it
    /// passes or fails (exit code 0 only when it verifies).
    Verify(crate::sigtool::VerifyArgs),
    /// Sign a dossier: an enveloped XML signature, or a detached JWS for JSON.
    Sign(crate::sigtool::SignArgs),
    /// Run the four agency simulators on consecutive ports: DVCQG, MPI, MOIT, MOJ.
    Simulate {
        /// Address of the first (DVCQG); the others take the next ports.
        #[arg(long, default_value = "127.0.0.1:9001")]
        listen: SocketAddr,
        /// The login (or OAuth client id) every simulator accepts.
        #[arg(long, default_value = "lienthong")]
        username: String,
        /// The password (or client secret, or judicial-records key) every simulator accepts.
        #[arg(long, env = "LIENTHONG_SIM_PASSWORD", default_value = "lienthong-dev")]
        password: String,
        /// How many of the most recent dossiers (their contents, answers and
        /// status updates) each simulator keeps; older ones are let go and
        /// counted in `forgotten`, so that long load runs stay within memory.
        #[arg(long, default_value_t = adapters::sim::DEFAULT_KEEP)]
        keep: usize,
    },
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Connect to the store and report its schema without changing anything (exit
    /// code 1 when this build cannot serve it as it is).
    Check {
        /// The configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
}

fn print_schema(r: &crate::store::SchemaReport) {
    let list = |v: &[i64]| if v.is_empty() { "none".to_owned() } else { format!("{v:?}") };
    println!("database: {}", r.database);
    println!("encrypted connection: {}", if r.tls { "yes" } else { "no" });
    println!(
        "migrations applied: {}; pending: {}; unknown to this build: {}",
        list(&r.applied),
        list(&r.pending),
        list(&r.unknown)
    );
    if !r.unknown.is_empty() {
        println!("NOT SERVABLE: a newer build migrated this database; upgrade the gateway");
    } else if !r.pending.is_empty() {
        println!("pending migrations: run `lienthong migrate` (gateways apply them at start too)");
    } else {
        println!("ok: the schema is current");
    }
}

fn store_command(config: &std::path::Path, migrate: bool) -> anyhow::Result<ExitCode> {
    let config = Config::load(config).map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}"))?;
    let report = if config.store.is_postgres() {
        if migrate {
            let (done, report) = crate::store::postgres::migrate(&config.store)?;
            println!("applied now: {}", if done.is_empty() { "nothing".to_owned() } else { format!("{done:?}") });
            report
        } else {
            crate::store::postgres::check(&config.store)?
        }
    } else {
        let path = config.database_path();
        if migrate {
            drop(crate::store::SqliteStore::open(&path)?);
        }
        crate::store::sqlite_check(&path)?
    };
    print_schema(&report);
    Ok(if report.is_current() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Sets up logging to standard error.
pub fn init_tracing(format: LogFormat, filter: &str) {
    let _ = init_tracing_with(format, filter, None);
}

/// Sets up logging to standard error and, with `log.otlp_endpoint`, the export
/// of spans over OTLP/HTTP: the tracer provider, to shut down (which flushes
/// the last spans) before exiting.
pub fn init_tracing_with(
    format: LogFormat,
    filter: &str,
    otlp: Option<&crate::config::LogConfig>,
) -> anyhow::Result<Option<opentelemetry_sdk::trace::SdkTracerProvider>> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let provider = match otlp.and_then(|l| l.otlp_endpoint.as_ref().map(|e| (e, &l.service_name))) {
        Some((endpoint, service)) => Some(crate::telemetry::provider(endpoint, service)?),
        None => None,
    };
    let otel = provider.as_ref().map(|p| {
        use opentelemetry::trace::TracerProvider as _;
        tracing_opentelemetry::layer().with_tracer(p.tracer("lienthong"))
    });
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let _ = match format {
        LogFormat::Json => {
            registry.with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr)).try_init()
        }
        LogFormat::Human => registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)).try_init(),
    };
    Ok(provider)
}

/// Runs the command line; the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    runtime_with(None)
}

/// The async runtime, with `workers` threads (one per core without).
fn runtime_with(workers: Option<usize>) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        builder.worker_threads(n);
    }
    builder.enable_all().build().context("starting the async runtime")
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::CheckConfig { file } => match Config::load(&file) {
            Ok(config) if config.serving_problem().is_some() => {
                eprintln!("{}: {}", file.display(), config.serving_problem().unwrap_or_default());
                Ok(ExitCode::FAILURE)
            }
            Ok(config) => {
                println!(
                    "{}: ok ({} members, {} routes, {} agencies)",
                    file.display(),
                    config.members.len(),
                    config.routes.len(),
                    config.agencies.len()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(errors) => {
                for e in &errors.0 {
                    eprintln!("{}: {e}", file.display());
                }
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Routes { config } => {
            let table = match config {
                Some(path) => {
                    let config = Config::load(&path).map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}"))?;
                    crate::routing::RoutingTable::from_config(&config)
                }
                None => crate::routing::RoutingTable::defaults(),
            };
            print!("{}", table.render());
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify(args) => crate::sigtool::verify(args),
        Command::Migrate { config } => store_command(&config, true),
        Command::Store { command: StoreCommand::Check { config } } => store_command(&config, false),
        Command::DeadLetters(args) => {
            runtime()?.block_on(crate::deadletters::run(args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign(args) => crate::sigtool::sign(args),
        Command::Audit { command } => {
            let ok = runtime()?.block_on(crate::audit::run(command))?;
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::HashToken => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the token")?;
            let token = line.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!token.is_empty(), "no token on standard input");
            println!("{}", crate::auth::hash_token(token));
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { config: path } => {
            let config = Config::load(&path).map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}"))?;
            let rt = runtime_with(config.server.worker_threads)?;
            // SIGHUP's default action ends the process, and `systemctl reload` may
            // send it while the gateway is still starting (opening the store,
            // migrating, signing). Listening comes right after reading the
            // configuration, which sizes the runtime; a SIGHUP during the start is
            // held and reloads once the gateway serves.
            #[cfg(unix)]
            let hup = {
                let _entered = rt.enter();
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                    .context("listening for SIGHUP")?
            };
            #[cfg(not(unix))]
            let hup = ();
            let telemetry = init_tracing_with(config.log.format, &config.log.filter, Some(&config.log))?;
            rt.block_on(serve(config, path, hup))?;
            if let Some(provider) = telemetry {
                // Flushes the spans not yet exported.
                let _ = provider.shutdown();
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            init_tracing(LogFormat::Human, "error");
            runtime()?.block_on(demo::run(args))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate { listen, username, password, keep } => {
            init_tracing(LogFormat::Human, "info");
            runtime()?.block_on(async move {
                let sims = crate::demo::Simulators::start_at(listen, &username, &password)
                    .await
                    .with_context(|| format!("starting the agency simulators from {listen}"))?;
                sims.set_keep(keep);
                for (agency, url) in [
                    ("dvcqg", sims.dvcqg.url()),
                    ("mpi", sims.mpi.url()),
                    ("moit", sims.moit.url()),
                    ("moj", sims.moj.url()),
                ] {
                    println!("{agency} simulator listening on {url}");
                }
                shutdown_signal().await;
                sims.shutdown().await;
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What `serve` listens on for reloads: SIGHUP on Unix.
#[cfg(unix)]
type Hangup = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type Hangup = ();

/// Serves until SIGTERM or Ctrl-C; SIGHUP (`hup`) reloads `path`.
async fn serve(config: Config, path: PathBuf, hup: Hangup) -> anyhow::Result<()> {
    let gateway = Gateway::start(config).await?;
    println!("lienthong listening on {}", gateway.url());
    let _ = std::io::stdout().flush();
    tracing::info!(addr = %gateway.addr, "gateway started");
    #[cfg(unix)]
    {
        let mut hup = hup;
        let stop = shutdown_signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = hup.recv() => {
                    tracing::info!(config = %path.display(), "SIGHUP: reloading the configuration");
                    let _ = gateway.reload(Config::load(&path)).await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let () = hup;
        shutdown_signal().await;
    }
    tracing::info!("shutting down");
    gateway.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_has_the_configured_workers() {
        for n in [1, 3] {
            assert_eq!(runtime_with(Some(n)).unwrap().metrics().num_workers(), n);
        }
        if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            assert_eq!(runtime_with(None).unwrap().metrics().num_workers(), cores);
        }
    }

    #[test]
    fn simulate_takes_how_many_records_to_keep() {
        let keep = |args: &[&str]| match Cli::try_parse_from(args).map(|c| c.command) {
            Ok(Command::Simulate { keep, .. }) => Ok(keep),
            Ok(other) => panic!("not simulate: {other:?}"),
            Err(e) => Err(e.kind()),
        };
        assert_eq!(keep(&["lienthong", "simulate"]), Ok(adapters::sim::DEFAULT_KEEP));
        assert_eq!(keep(&["lienthong", "simulate", "--keep", "25"]), Ok(25));
        for bad in ["-1", "many", "", "1.5"] {
            assert!(keep(&["lienthong", "simulate", "--keep", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn worker_threads_are_checked() {
        let read = |text: &str| Config::from_toml(text).map(|c| c.server.worker_threads).map_err(|e| e.to_string());
        assert_eq!(read(""), Ok(None));
        assert_eq!(read("[server]\nworker_threads = 1\n"), Ok(Some(1)));
        assert_eq!(read("[server]\nworker_threads = 1024\n"), Ok(Some(1024)));
        for bad in ["0", "1025"] {
            let e = read(&format!("[server]\nworker_threads = {bad}\n")).unwrap_err();
            assert!(e.contains("server.worker_threads") && e.contains("from 1 to 1024"), "{bad}: {e}");
        }
        assert!(read("[server]\nworker_threads = -1\n").is_err());
    }
}
