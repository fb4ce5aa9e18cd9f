//! `lienthong dead-letters list|replay`: operators' view of the dead letters of
//! a running gateway, through its admin API, with a progress bar for replaying
//! many at once. The operator's token is read from an environment variable, never
//! from the command line.

use std::path::PathBuf;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// Options of `lienthong dead-letters`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeadLetterArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
    /// The gateway's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    pub url: String,
    /// The environment variable that holds an operator's bearer token.
    #[arg(long, default_value = "LIENTHONG_TOKEN", global = true)]
    pub token_env: String,
    /// A CA certificate (PEM) to trust for the gateway's HTTPS certificate.
    #[arg(long, global = true)]
    pub cacert: Option<PathBuf>,
}

/// `list` or `replay`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Action {
    /// Print every dead letter: id, agency, dossier, attempts, last error.
    List,
    /// Queue dead letters again: the ids given, or every one with `--all`.
    Replay {
        /// The dead letters' ids.
        ids: Vec<i64>,
        /// Replay every dead letter.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

struct Admin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Admin {
    async fn page(&self, after: i64) -> anyhow::Result<(Vec<Value>, Option<i64>)> {
        let url = format!("{}/v1/admin/dead-letters?after={after}&limit=1000", self.base);
        let r = self.http.get(url).bearer_auth(&self.token).send().await.context("asking the gateway")?;
        let status = r.status();
        let body: Value = r.json().await.context("reading the gateway's answer")?;
        if !status.is_success() {
            bail!("the gateway answered {status}: {}", body["error"]["message"]);
        }
        let letters = body["dead_letters"].as_array().cloned().unwrap_or_default();
        Ok((letters, body["next"].as_i64()))
    }

    async fn all(&self) -> anyhow::Result<Vec<Value>> {
        let (mut out, mut after) = (Vec::new(), 0);
        loop {
            let (page, next) = self.page(after).await?;
            let full = page.len() == 1000;
            out.extend(page);
            match next {
                Some(n) if full => after = n,
                _ => return Ok(out),
            }
        }
    }

    async fn replay(&self, id: i64) -> anyhow::Result<()> {
        let url = format!("{}/v1/admin/dead-letters/{id}/replay", self.base);
        let r = self.http.post(url).bearer_auth(&self.token).send().await.context("asking the gateway")?;
        if !r.status().is_success() {
            let status = r.status();
            let body: Value = r.json().await.unwrap_or_default();
            bail!("dead letter {id}: {status} {}", body["error"]["message"]);
        }
        Ok(())
    }
}

/// Runs `lienthong dead-letters`.
pub async fn run(args: DeadLetterArgs) -> anyhow::Result<()> {
    let token = std::env::var(&args.token_env)
        .with_context(|| format!("set {} to an operator's bearer token", args.token_env))?;
    let mut http = reqwest::Client::builder();
    if let Some(ca) = &args.cacert {
        let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
        http = http.add_root_certificate(reqwest::Certificate::from_pem(&pem).context("reading the CA certificate")?);
    }
    let admin = Admin { http: http.build()?, base: args.url.trim_end_matches('/').to_owned(), token };
    match args.action {
        Action::List => {
            let letters = admin.all().await?;
            println!("{:>8}  {:<8} {:<28} {:>8}  last error", "id", "agency", "dossier", "attempts");
            for l in &letters {
                let error: String = l["last_error"].as_str().unwrap_or_default().chars().take(80).collect();
                println!(
                    "{:>8}  {:<8} {:<28} {:>8}  {error}",
                    l["id"],
                    l["agency"].as_str().unwrap_or_default(),
                    l["dossier"].as_str().unwrap_or_default(),
                    l["attempts"]
                );
            }
            println!("{} dead letters", letters.len());
        }
        Action::Replay { ids, all } => {
            let ids: Vec<i64> = if all {
                admin.all().await?.iter().filter_map(|l| l["id"].as_i64()).collect()
            } else if ids.is_empty() {
                bail!("give the ids to replay, or --all");
            } else {
                ids
            };
            let bar = ProgressBar::new(ids.len() as u64).with_style(
                ProgressStyle::with_template("  replaying  [{bar:40}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            let mut failed = 0;
            for id in &ids {
                if let Err(e) = admin.replay(*id).await {
                    bar.println(format!("  {e:#}"));
                    failed += 1;
                }
                bar.inc(1);
            }
            bar.finish_with_message("done");
            println!("{} replayed, {failed} could not be", ids.len() - failed);
            if failed > 0 {
                bail!("{failed} dead letters were not replayed");
            }
        }
    }
    Ok(())
}
