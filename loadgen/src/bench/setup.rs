//! What a benchmark gateway is made of: the development PKI, the members and
//! their tokens, and the configuration file of each gateway the runs start.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use schemas::pki::SigningIdentity;
use sha2::{Digest, Sha256};

/// The password (and client secret, and judicial-records key) of the simulators.
pub const SIM_PASSWORD: &str = "bench-sim-secret";
/// The token of `portal-hanoi` (signs with RSA-2048).
pub const HANOI_TOKEN: &str = "bench-portal-hanoi";
/// The token of `portal-hcm` (signs with ECDSA P-256).
pub const HCM_TOKEN: &str = "bench-portal-hcm";
/// The token of `portal-load`, which sends unsigned dossiers (backlog, soak).
pub const LOAD_TOKEN: &str = "bench-portal-load";
/// The token of the Justice ministry member.
pub const MOJ_TOKEN: &str = "bench-moj";

/// Dossier-code units of the corpora: one per corpus, so codes never collide.
pub mod unit {
    /// XML signed by `portal-hanoi` (RSA-2048).
    pub const XML_RSA: &str = "000.00.21.H41";
    /// XML signed by `portal-hcm` (ECDSA P-256).
    pub const XML_ECDSA: &str = "000.00.31.H29";
    /// JSON with a JWS by `portal-hanoi`.
    pub const JWS_RSA: &str = "000.00.12.H49";
    /// Unsigned JSON of `portal-load`, for the backlog.
    pub const BACKLOG: &str = "000.20.16.H56";
    /// Unsigned JSON of `portal-load`, for the soak.
    pub const SOAK: &str = "000.00.01.H22";
}

/// The development PKI (`certs/gen-dev-pki.sh`), generated once into `dir`.
pub struct Pki {
    /// Its directory.
    pub dir: PathBuf,
    index: serde_json::Value,
}

impl Pki {
    /// Generates the PKI into `dir` unless a complete one is there.
    pub fn ensure(repo: &Path, dir: &Path) -> anyhow::Result<Self> {
        if !dir.join(".complete").exists() {
            std::fs::create_dir_all(dir)?;
            let out = Command::new("bash").arg(repo.join("certs/gen-dev-pki.sh")).arg(dir).output()?;
            anyhow::ensure!(
                out.status.success(),
                "certs/gen-dev-pki.sh failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::write(dir.join(".complete"), b"")?;
        }
        let index = serde_json::from_slice(&std::fs::read(dir.join("index.json"))?).context("index.json")?;
        Ok(Self { dir: dir.to_owned(), index })
    }

    /// The key and chain files of a certificate by name.
    pub fn files(&self, name: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
        let entry = self.index["certificates"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["name"] == name))
            .with_context(|| format!("no certificate {name} in the dev PKI"))?;
        let get = |k: &str| entry[k].as_str().map(|f| self.dir.join(f)).with_context(|| format!("{name}: no {k}"));
        Ok((get("key")?, get("chain")?))
    }

    /// The signing identity of a certificate by name.
    pub fn identity(&self, name: &str) -> anyhow::Result<SigningIdentity> {
        let (key, chain) = self.files(name)?;
        Ok(SigningIdentity::load(&key, &chain)?)
    }
}

/// The SHA-256 of a token, as `token_sha256` wants it.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// How one benchmark gateway differs from the others.
#[derive(Debug, Clone, Default)]
pub struct GatewayOptions {
    /// A PostgreSQL URL; the embedded SQLite store in the data directory without.
    pub postgres: Option<String>,
    /// `store.replicas`.
    pub replicas: u32,
    /// A delivery rate limit for Justice (per second), as an operator would set
    /// one to protect it.
    pub moj_rate: Option<u32>,
    /// Synchronise every dossier to DVCQG too (the default of a real deployment).
    pub status_sync: bool,
    /// One runtime thread per core whatever the run's `--gateway-workers` says.
    pub per_core_workers: bool,
}

/// Writes the configuration of a gateway working in `dir`, its agencies the
/// simulators from port `sim_port`, with `worker_threads` runtime threads (the
/// gateway's default, one per core, without).
pub fn write_config(
    dir: &Path,
    pki: &Pki,
    sim_port: u16,
    opts: &GatewayOptions,
    worker_threads: Option<usize>,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let (gw_key, gw_chain) = pki.files("lienthong-gateway")?;
    let hanoi = pki.identity("portal-hanoi")?.certificate().spki_sha256.clone();
    let hcm = pki.identity("portal-hcm")?.certificate().spki_sha256.clone();
    let store = match &opts.postgres {
        Some(url) => format!("url = \"{url}\"\nreplicas = {}\npool_size = 8", opts.replicas.max(1)),
        None => format!("data_dir = \"{}\"", dir.join("data").display()),
    };
    let moj_rate = match opts.moj_rate {
        Some(r) => format!("[delivery.agencies.moj]\nrate = {{ per_second = {r}, burst = {} }}\n", (r / 10).max(1)),
        None => String::new(),
    };
    let sync = if opts.status_sync { "" } else { "status_sync_agency = \"\"" };
    let workers = worker_threads.map_or(String::new(), |n| format!("worker_threads = {n}\n"));
    let text = format!(
        r#"# A benchmark gateway: written by lienthong-load bench.
[server]
listen = "127.0.0.1:0"
plaintext = true
max_body_bytes = 2097152
max_connections = 10000
max_requests = 8192
shutdown_grace = "5s"
{workers}
[store]
{store}

[delivery]
concurrency = 64
poll_interval = "100ms"
request_timeout = "10s"
connect_timeout = "1s"
backoff_initial = "200ms"
backoff_max = "2s"
{sync}

[delivery.circuit]
failure_threshold = 5
open_for = "1s"

{moj_rate}
[log]
format = "json"
filter = "warn"

[signatures]
trust_anchors = ["{pki}/roots"]
crls = ["{pki}/crl"]
revocation = "require"
key = "{gw_key}"
certificate_chain = "{gw_chain}"

[audit]
sign_every = "1s"
heads_file = "{heads}"

[[members]]
id = "portal-hanoi"
role = "portal"
send_to = ["*"]
post_status = true
lookups = ["*"]
token_sha256 = "{hanoi_token}"
signature = "required"
[[members.signers]]
spki_sha256 = "{hanoi}"

[[members]]
id = "portal-hcm"
role = "portal"
send_to = ["*"]
post_status = true
token_sha256 = "{hcm_token}"
signature = "required"
[[members.signers]]
spki_sha256 = "{hcm}"

[[members]]
id = "portal-load"
role = "portal"
send_to = ["*"]
post_status = true
token_sha256 = "{load_token}"

[[members]]
id = "moj"
role = "ministry"
agency = "moj"
post_status = true
token_sha256 = "{moj_token}"

[agencies.dvcqg]
kind = "dvcqg"
url = "http://127.0.0.1:{dvcqg}"
username = "lienthong"
password = "{pw}"
unit_code = "000.00.00.G22"

[agencies.mpi]
kind = "mpi"
url = "http://127.0.0.1:{mpi}"
username = "lienthong"
password = "{pw}"

[agencies.moit]
kind = "moit"
url = "http://127.0.0.1:{moit}"
client_id = "lienthong"
client_secret = "{pw}"
scope = "hoso.submit hoso.read giayphep.read"

[agencies.moj]
kind = "moj"
url = "http://127.0.0.1:{moj}"
username = "lienthong"
password = "{pw}"
unit_code = "000.00.00.G22"
province_code = "01"
auth_key = "{pw}"
"#,
        pki = pki.dir.display(),
        gw_key = gw_key.display(),
        gw_chain = gw_chain.display(),
        heads = dir.join("audit-heads.jsonl").display(),
        hanoi_token = token_sha256(HANOI_TOKEN),
        hcm_token = token_sha256(HCM_TOKEN),
        load_token = token_sha256(LOAD_TOKEN),
        moj_token = token_sha256(MOJ_TOKEN),
        pw = SIM_PASSWORD,
        dvcqg = sim_port,
        mpi = sim_port + 1,
        moit = sim_port + 2,
        moj = sim_port + 3,
    );
    let path = dir.join("lienthong.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}
