//! `lienthong demo`: the gateway on the embedded store, the agency simulator, and a
//! synthetic provincial portal submitting a few hundred dossiers, with a summary.

mod agencies;
pub(crate) mod pki;
mod portal;
mod status;

pub use agencies::Simulators;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::Semaphore;

use crate::auth::hash_token;
use crate::config::{Config, MemberConfig, Role};
use crate::store::DeliveryState;
use crate::Gateway;

/// Options of the demo.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// How many dossiers the synthetic portal submits.
    #[arg(long, default_value_t = 300)]
    pub dossiers: u32,
    /// Where the gateway listens (a free port is taken if this one is busy).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory of the embedded store (default: a new temporary directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Share of agency requests the simulator fails, to show retries.
    #[arg(long, default_value_t = 0.05)]
    pub fail_ratio: f64,
    /// Print the summary and exit instead of serving until Ctrl-C.
    #[arg(long)]
    pub exit: bool,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

const PORTAL_TOKEN_BYTES: usize = 24;

fn random_token() -> String {
    use rand::Rng;
    let bytes: Vec<u8> = (0..PORTAL_TOKEN_BYTES).map(|_| rand::rng().random()).collect();
    hex::encode(bytes)
}

fn demo_config(
    listen: SocketAddr,
    data_dir: PathBuf,
    sims: &Simulators,
    pki: &pki::DemoPki,
    portal: &str,
    operator: &str,
) -> Config {
    let mut cfg = Config::default();
    // Every dossier of the demo portal must be signed by its own certificate;
    // receipts are signed by the gateway.
    cfg.signatures.trust_anchors = vec![pki.dir.join("root.pem")];
    cfg.signatures.crls = vec![pki.dir.join("crl.pem")];
    cfg.signatures.key = Some(pki.dir.join("gateway.key.pem"));
    cfg.signatures.certificate_chain = Some(pki.dir.join("gateway.chain.pem"));
    cfg.audit.sign_every = Duration::from_secs(1);
    cfg.server.listen = listen;
    // Everything runs on this machine, on 127.0.0.1.
    cfg.server.plaintext = true;
    cfg.store.data_dir = data_dir;
    cfg.delivery.backoff_initial = Duration::from_millis(200);
    cfg.delivery.backoff_max = Duration::from_secs(2);
    cfg.delivery.poll_interval = Duration::from_millis(100);
    // Justice cannot post status updates: the gateway polls it.
    cfg.status.poll.insert("moj".into(), Duration::from_millis(500).into());
    cfg.members = vec![
        MemberConfig {
            id: "portal-hanoi".into(),
            name: "Cổng Dịch vụ công thành phố Hà Nội".into(),
            role: Role::Portal,
            agency: None,
            token_sha256: Some(hash_token(portal)),
            client_certificate: None,
            lookups: vec!["*".into()],
            signature: crate::config::SignaturePolicy::Required,
            signers: vec![schemas::pki::SignerBinding {
                spki_sha256: Some(pki.portal.certificate().spki_sha256.clone()),
                ..Default::default()
            }],
            limits: Default::default(),
            send_to: vec!["*".into()],
            procedures: vec!["*".into()],
            post_status: true,
        },
        MemberConfig {
            id: "operator".into(),
            name: "Vận hành Liên thông".into(),
            role: Role::Operator,
            agency: None,
            token_sha256: Some(hash_token(operator)),
            client_certificate: None,
            lookups: Vec::new(),
            signature: Default::default(),
            signers: Vec::new(),
            limits: Default::default(),
            send_to: Vec::new(),
            procedures: vec!["*".into()],
            post_status: false,
        },
    ];
    // No routes: the default table routes each ministry procedure to its ministry
    // and everything else to DVCQG.
    cfg.agencies = sims.agencies();
    cfg
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let data_dir = match args.data_dir.clone() {
        Some(d) => d,
        None => std::env::temp_dir().join(format!("lienthong-demo-{}", uuid::Uuid::new_v4().simple())),
    };
    let sims = Simulators::start(args.fail_ratio).await.context("starting the agency simulators")?;
    let pki = pki::generate(&data_dir.join("pki")).context("making the demo PKI")?;

    let portal_token = random_token();
    let operator_token = random_token();
    let mut config = demo_config(args.listen, data_dir.clone(), &sims, &pki, &portal_token, &operator_token);
    let gateway = match Gateway::start(config.clone()).await {
        Ok(g) => g,
        Err(crate::app::StartError::Listen { .. }) => {
            config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
            Gateway::start(config).await?
        }
        Err(e) => return Err(e.into()),
    };
    let base = gateway.url();
    println!("Lienthong demo");
    println!("  gateway         {base}  (store: {})", data_dir.join("lienthong.db").display());
    for (agency, url, _) in sims.received() {
        println!("  {agency:<6} simulator {url}");
    }
    println!("  portal          portal-hanoi submitting {} dossiers, each signed", args.dossiers);
    println!("  demo PKI        {}\n", pki.dir.display());

    let mut rng = StdRng::seed_from_u64(args.seed);
    let submissions = portal::submissions(&mut rng, args.dossiers);
    // The portal signs what it sends: XML enveloped, JSON with a detached JWS.
    let submissions: Vec<(portal::Submission, Option<String>)> =
        submissions.into_iter().map(|s| portal::sign(s, &pki.portal)).collect();
    let trust = Arc::new(pki.trust);
    let client = reqwest::Client::new();
    let bar = ProgressBar::new(submissions.len() as u64).with_style(
        ProgressStyle::with_template("  submitting  [{bar:40}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let limit = Arc::new(Semaphore::new(16));
    let mut tasks = Vec::new();
    for (s, jws) in submissions {
        let permit = limit.clone().acquire_owned().await?;
        let trust = trust.clone();
        let client = client.clone();
        let url = format!("{base}/v1/dossiers");
        let token = portal_token.clone();
        let bar = bar.clone();
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let mut req = client.post(url).bearer_auth(token).header("content-type", s.content_type);
            if let Some(jws) = &jws {
                req = req.header(schemas::jws::HEADER, jws);
            }
            let resp = req.body(s.body).send().await;
            let elapsed = started.elapsed();
            drop(permit);
            bar.inc(1);
            let outcome = match resp {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let receipt_jws =
                        r.headers().get(schemas::jws::HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
                    let bytes = r.bytes().await.unwrap_or_default();
                    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
                    let code = body["error"]["code"].as_str().unwrap_or_default().to_owned();
                    // The portal keeps the receipt only if the gateway's signature checks out.
                    let receipt_ok = receipt_jws.is_some_and(|j| {
                        schemas::jws::verify_detached(&j, &bytes, &trust, &schemas::dsig::VerifyOptions::now()).is_ok()
                    });
                    let accepted = (status == 202).then(|| {
                        let field = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
                        (field("dossier_code"), field("agency"))
                    });
                    (status, code, receipt_ok, !body["signed_by"].is_null(), accepted)
                }
                Err(e) => (0, format!("transport: {e}"), false, false, None),
            };
            (s.label, outcome, elapsed)
        }));
    }
    let mut accepted = 0u64;
    let mut resent = 0u64;
    let mut refused: BTreeMap<String, u64> = BTreeMap::new();
    let mut latencies = Vec::new();
    let mut dossiers = Vec::new();
    let (mut signed_receipts, mut verified_signers) = (0u64, 0u64);
    for t in tasks {
        let (_label, (status, code, receipt_ok, signer, stored), elapsed) = t.await?;
        dossiers.extend(stored);
        latencies.push(elapsed);
        signed_receipts += u64::from(receipt_ok);
        verified_signers += u64::from(signer);
        match status {
            202 => accepted += 1,
            200 => resent += 1,
            _ => *refused.entry(format!("{status} {code}")).or_default() += 1,
        }
    }
    bar.finish_with_message("done");

    let total = |counts: &[crate::store::DeliveryCount]| counts.iter().map(|c| c.count).sum::<u64>();
    let wait = ProgressBar::new(accepted).with_style(
        ProgressStyle::with_template("  delivering  [{bar:40}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut counts = Vec::new();
    loop {
        counts = gateway.state.store.delivery_counts().await.unwrap_or(counts);
        let done: u64 = counts
            .iter()
            .filter(|c| matches!(c.state, DeliveryState::Delivered | DeliveryState::Failed))
            .map(|c| c.count)
            .sum();
        wait.set_length(total(&counts));
        wait.set_position(done);
        if (done >= total(&counts) && done >= accepted) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait.finish_with_message("done");
    println!(
        "  status      the portal reports each dossier received; Justice decides its own; the portal reads its feed"
    );
    let statuses = status::run(&base, &portal_token, &dossiers, &sims).await?;

    latencies.sort();
    println!("\nSummary");
    println!("  accepted (202)            {accepted}");
    println!("  resent, receipt returned  {resent}");
    println!("  signature verified        {verified_signers} (the receipt names the signer)");
    println!("  receipts signed, checked  {signed_receipts}");
    println!("  refused                   {}", refused.values().sum::<u64>());
    for (why, n) in &refused {
        println!("    {why:<30} {n}");
    }
    println!("  delivered per agency");
    for c in &counts {
        println!("    {:<8} {:<10} {}", c.agency, c.state.as_str(), c.count);
    }
    println!("  received at the simulators");
    for (agency, _, n) in sims.received() {
        println!("    {agency:<8} {n}");
    }
    println!(
        "  submit latency            p50 {:.1} ms, p99 {:.1} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );
    println!("  status events posted      {} (received, by the portal)", statuses.posted);
    println!("  decided at Justice        {} (processing, finished; learned by polling)", statuses.decided_at_moj);
    println!("  read from the feed        {} events in {} pages", statuses.read.0, statuses.read.1);
    let t = &statuses.stats["total"];
    println!(
        "  on time / late / open     {} / {} / {} (overdue {})",
        t["finished_on_time"], t["finished_late"], t["open"], t["overdue"]
    );
    // The message log, checked as `lienthong audit verify` does.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let pins = gateway.state.signatures.identity().map(|id| id.certificate().spki_sha256.clone()).into_iter().collect();
    let check = crate::audit::pinned_check(pins);
    let log = crate::audit::verify(gateway.state.store.as_ref(), check.as_ref(), Vec::new(), i64::MIN).await?;
    println!(
        "  message log               {} records, {} signed heads (up to record {}): {}",
        log.records,
        log.heads,
        log.signed_up_to,
        log.broken
            .as_ref()
            .map_or_else(|| "every link holds".to_owned(), |b| format!("BROKEN at {}: {}", b.seq, b.reason))
    );

    if args.exit {
        gateway.shutdown().await;
        sims.shutdown().await;
        return Ok(());
    }
    println!("\nThe gateway keeps serving; press Ctrl-C to stop.");
    println!("  readiness   {base}/readyz");
    println!("  metrics     {base}/metrics");
    println!("  a dossier   curl -H 'Authorization: Bearer {operator_token}' {base}/v1/dossiers/<MaHoSo>");
    println!("  submit      curl -H 'Authorization: Bearer {portal_token}' -H 'Content-Type: application/json' --data @schemas/examples/khai-sinh.json {base}/v1/dossiers");
    println!("  feed        curl -H 'Authorization: Bearer {portal_token}' '{base}/v1/feed?limit=10&wait=30'");
    println!("  figures     curl -H 'Authorization: Bearer {portal_token}' {base}/v1/stats");
    println!("  look-up     curl -H 'Authorization: Bearer {portal_token}' '{base}/v1/agencies/mpi/lookups/enterprise?tax_code=0101234567'");
    println!("  simulators  <simulator URL>/_sim/received");
    crate::cli::shutdown_signal().await;
    gateway.shutdown().await;
    sims.shutdown().await;
    Ok(())
}
