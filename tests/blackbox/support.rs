//! Harness of the black-box tests: the real `lienthong` binary on an ephemeral
//! port, a real store (see [`crate::stores`]), and the DVCQG simulator over HTTP.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use adapters::dvcqg::{DvcqgSimulator, SimCredentials};
use gateway::auth::hash_token;

pub const PORTAL_TOKEN: &str = "portal-token-h29";
pub const PORTAL_B_TOKEN: &str = "portal-token-h49";
pub const MINISTRY_TOKEN: &str = "ministry-token-dvcqg";
pub const OTHER_MINISTRY_TOKEN: &str = "ministry-token-other";
pub const OPERATOR_TOKEN: &str = "operator-token";
pub const SIM_USER: &str = "lienthong";
pub const SIM_PASSWORD: &str = "sim-secret";

/// Starts a DVCQG simulator on an ephemeral port.
pub async fn simulator() -> DvcqgSimulator {
    DvcqgSimulator::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        SimCredentials { username: SIM_USER.into(), password: SIM_PASSWORD.into() },
    )
    .await
    .expect("simulator starts")
}

/// Extra configuration for a test.
#[derive(Clone)]
pub struct Options {
    pub max_body_bytes: u64,
    pub backoff_initial: &'static str,
    pub lookup_timeout: &'static str,
    /// Where agency `other` lives; the DVCQG simulator's URL when `None`.
    pub other_url: Option<String>,
    /// Extra settings of member `portal-h29` (TOML lines such as `signature = "required"`).
    pub portal_extra: String,
    /// Extra settings of member `portal-h49`.
    pub portal_b_extra: String,
    /// Extra top-level TOML, appended (such as a `[signatures]` table).
    pub extra: String,
    /// Extra settings of the `[delivery]` table (such as `status_sync_agency = ""`).
    pub delivery_extra: String,
    /// Serve plain HTTP (else `extra` must configure `[server.tls]`).
    pub plaintext: bool,
    /// Extra settings of the `[server]` table (such as `max_requests = 1`).
    pub server_extra: String,
    /// Extra settings of the `[store]` table (such as `replicas = 3`).
    pub store_extra: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            backoff_initial: "100ms",
            lookup_timeout: "1s",
            other_url: None,
            portal_extra: String::new(),
            portal_b_extra: String::new(),
            extra: String::new(),
            delivery_extra: String::new(),
            plaintext: true,
            server_extra: String::new(),
            store_extra: String::new(),
        }
    }
}

/// A portal's extra settings, with every grant it does not set itself: it may
/// send to every agency and post status events.
fn with_grants(extra: &str) -> String {
    // Before `extra`, which may open sub-tables such as `[[members.signers]]`.
    let mut out = String::new();
    for (key, line) in [("send_to", "send_to = [\"*\"]"), ("post_status", "post_status = true")] {
        if !extra.lines().any(|l| l.trim_start().starts_with(key)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(extra);
    out
}

/// Writes a configuration for a gateway whose agencies all point at `dvcqg_url`.
pub fn write_config(dir: &Path, dvcqg_url: &str, opts: &Options) -> PathBuf {
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
plaintext = {plaintext}
{server_extra}
max_body_bytes = {max_body}
shutdown_grace = "5s"

[store]
{store}
{store_extra}

[delivery]
{lease}
concurrency = 8
poll_interval = "100ms"
request_timeout = "2s"
connect_timeout = "500ms"
backoff_initial = "{backoff}"
backoff_max = "1s"
{delivery_extra}

[log]
filter = "info"

[[members]]
id = "portal-h29"
role = "portal"
token_sha256 = "{portal}"
{portal_extra}

[[members]]
id = "portal-h49"
role = "portal"
token_sha256 = "{portal_b}"
lookups = ["dvcqg/dossier"]
{portal_b_extra}

[[members]]
id = "dvcqg-bo"
role = "ministry"
agency = "dvcqg"
token_sha256 = "{ministry}"
post_status = true

[[members]]
id = "other-ministry"
role = "ministry"
agency = "other"
token_sha256 = "{other}"
post_status = true

[[members]]
id = "ops"
role = "operator"
token_sha256 = "{operator}"

[[routes]]
prefix = "1."
agency = "dvcqg"

[[routes]]
prefix = "2."
agency = "dvcqg"

[[routes]]
procedure = "3.000181"
agency = "other"

[[routes]]
procedure = "3.000182"
agency = "other"
payload = "judicial_record"

[lookup]
timeout = "{lookup_timeout}"

[agencies.dvcqg]
kind = "dvcqg"
url = "{url}"
username = "{user}"
password = "{password}"
unit_code = "000.00.00.G22"

[agencies.other]
kind = "dvcqg"
url = "{other_url}"
username = "{user}"
password = "{password}"
unit_code = "000.00.00.G22"

{extra}
"#,
        portal_extra = with_grants(&opts.portal_extra),
        portal_b_extra = with_grants(&opts.portal_b_extra),
        extra = opts.extra,
        delivery_extra = opts.delivery_extra,
        plaintext = opts.plaintext,
        server_extra = opts.server_extra,
        max_body = opts.max_body_bytes,
        lookup_timeout = opts.lookup_timeout,
        backoff = opts.backoff_initial,
        store = crate::stores::store_section(dir),
        lease = crate::stores::delivery_lines(),
        store_extra = opts.store_extra,
        portal = hash_token(PORTAL_TOKEN),
        portal_b = hash_token(PORTAL_B_TOKEN),
        ministry = hash_token(MINISTRY_TOKEN),
        other = hash_token(OTHER_MINISTRY_TOKEN),
        operator = hash_token(OPERATOR_TOKEN),
        url = dvcqg_url,
        other_url = opts.other_url.as_deref().unwrap_or(dvcqg_url),
        user = SIM_USER,
        password = SIM_PASSWORD,
    );
    let path = dir.join("lienthong.toml");
    std::fs::write(&path, text).expect("config written");
    path
}

/// The `lienthong` binary built for these tests.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lienthong")
}

/// A gateway process.
pub struct GatewayProcess {
    pub child: Child,
    pub url: String,
    pub config: PathBuf,
}

impl GatewayProcess {
    /// Starts `lienthong serve` and waits until it is ready.
    pub async fn start(config: &Path) -> GatewayProcess {
        Self::attach(Self::spawn(config), config).await
    }

    /// Starts `lienthong serve` without waiting for it.
    pub fn spawn(config: &Path) -> Child {
        Command::new(bin())
            .args(["serve", "--config"])
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("gateway starts")
    }

    /// Waits until a `spawn`ed gateway prints its address and is ready.
    pub async fn attach(mut child: Child, config: &Path) -> GatewayProcess {
        let stdout = child.stdout.take().expect("stdout piped");
        let line = tokio::task::spawn_blocking(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            reader.read_line(&mut line).map(|_| line)
        })
        .await
        .expect("reader joins")
        .expect("gateway prints its address");
        let url = line
            .trim()
            .strip_prefix("lienthong listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        let gw = GatewayProcess { child, url, config: config.to_owned() };
        gw.wait_ready().await;
        gw
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        // Readiness only: the TLS tests check the server's certificate themselves.
        let client = reqwest::Client::builder().danger_accept_invalid_certs(true).build().expect("client");
        loop {
            if let Ok(r) = client.get(format!("{}/readyz", self.url)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "gateway not ready in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reaped");
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(status.success());
        let status = self.child.wait().expect("reaped");
        assert!(status.success(), "gateway exited with {status}");
    }

    /// This gateway's database.
    pub fn database(&self) -> Database {
        Database::of(self.config.parent().expect("config dir"))
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub use crate::stores::{count_rows, Database};

/// A client of the gateway's API.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api { base: base.to_owned(), http: reqwest::Client::new() }
    }

    /// `POST path` with a bearer token, a content type and a body: the response,
    /// or the transport error (a gateway that is gone gives no answer at all).
    pub async fn try_post(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .timeout(Duration::from_secs(5))
            .send()
            .await
    }

    /// [`Api::try_post`] that must get an answer: the status and the JSON body.
    pub async fn post(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, serde_json::Value) {
        let r = self.try_post(token, path, content_type, body).await.expect("request sent");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn submit(
        &self,
        token: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, serde_json::Value) {
        self.post(token, "/v1/dossiers", content_type, body).await
    }

    pub async fn dossier(&self, token: &str, code: &str) -> (u16, serde_json::Value) {
        let r = self
            .http
            .get(format!("{}/v1/dossiers/{code}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// `GET path` with a bearer token: the status and the JSON body.
    pub async fn get(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let r = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.expect("request sent");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }

    /// Posts one status event (a DVCQG processing-history item) of a dossier.
    pub async fn post_status(&self, token: &str, code: &str, item: &serde_json::Value) -> (u16, serde_json::Value) {
        let r = self
            .http
            .post(format!("{}/v1/dossiers/{code}/status", self.base))
            .bearer_auth(token)
            .json(item)
            .send()
            .await
            .expect("request sent");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }

    /// Reads a page of the caller's feed: `query` such as `after=...&limit=10`.
    pub async fn feed(&self, token: &str, query: &str) -> (u16, serde_json::Value) {
        self.get(token, &format!("/v1/feed?{query}")).await
    }

    /// Reads the caller's whole feed after `after` (from the start when `None`),
    /// `limit` at a time: every event and the cursor after the last.
    pub async fn drain_feed(
        &self,
        token: &str,
        after: Option<String>,
        limit: usize,
    ) -> (Vec<serde_json::Value>, Option<String>) {
        let mut events = Vec::new();
        let mut cursor = after;
        loop {
            let query = match &cursor {
                Some(c) => format!("after={c}&limit={limit}"),
                None => format!("limit={limit}"),
            };
            let (status, page) = self.feed(token, &query).await;
            assert_eq!(status, 200, "{page}");
            let items = page["events"].as_array().cloned().unwrap_or_default();
            assert!(items.len() <= limit, "a page holds at most limit events");
            let more = page["more"].as_bool().unwrap();
            if let Some(next) = page["next"].as_str() {
                cursor = Some(next.to_owned());
            }
            let empty = items.is_empty();
            events.extend(items);
            if !more {
                assert!(empty || page["events"].as_array().unwrap().len() <= limit);
                return (events, cursor);
            }
        }
    }

    /// Polls until every delivery of the dossier (at least `count`) is delivered.
    pub async fn wait_all_delivered(&self, code: &str, count: usize, within: Duration) -> serde_json::Value {
        self.wait_all_delivered_as(OPERATOR_TOKEN, code, count, within).await
    }

    /// [`Api::wait_all_delivered`], reading the dossier with `token`.
    pub async fn wait_all_delivered_as(
        &self,
        token: &str,
        code: &str,
        count: usize,
        within: Duration,
    ) -> serde_json::Value {
        let deadline = Instant::now() + within;
        loop {
            let (_, view) = self.dossier(token, code).await;
            let deliveries = view["deliveries"].as_array().cloned().unwrap_or_default();
            if deliveries.len() >= count && deliveries.iter().all(|d| d["state"] == "delivered") {
                return view;
            }
            assert!(Instant::now() < deadline, "{code} not delivered everywhere: {view}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls until the dossier's delivery reaches `state`.
    pub async fn wait_delivery(&self, code: &str, state: &str, within: Duration) -> serde_json::Value {
        let deadline = Instant::now() + within;
        loop {
            let (status, body) = self.dossier(OPERATOR_TOKEN, code).await;
            if status == 200 && body["delivery_state"] == state {
                return body;
            }
            assert!(Instant::now() < deadline, "{code} did not reach {state}: {status} {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A valid JSON dossier with the given code.
pub fn json_dossier(code: &str) -> serde_json::Value {
    serde_json::json!({
        "MaHoSo": code,
        "MaTTHC": "1.001193",
        "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "G09-TP01",
        "KenhThucHien": "2",
        "ChuHoSo": "Nguyễn Thị Hồng Nhung",
        "SoGiayToChuHoSo": "079190001234",
        "LoaiDoiTuong": "1",
        "SoDienThoai": "0903123456",
        "NgayTiepNhan": "20261122083000",
        "NgayHenTra": "2026-11-25 17:00:00",
        "TaiLieuNop": [{"TenTepDinhKem": "to-khai.pdf", "DuongDanTaiTepTin": "https://dvc.example.vn/f/1"}],
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí đăng ký khai sinh", "Gia": "8000"}]
    })
}

/// [`json_dossier`] of another procedure (and so, by the routes, another agency:
/// `3.000181` goes to `other`).
pub fn json_dossier_of(code: &str, procedure: &str) -> String {
    let mut d = json_dossier(code);
    d["MaTTHC"] = procedure.into();
    d.to_string()
}

/// The same dossier in the XML dialect.
pub fn xml_dossier(code: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<HoSo xmlns="urn:lienthong:hoso:1" Id="hs-1">
  <MaHoSo>{code}</MaHoSo>
  <MaTTHC>2.000488</MaTTHC>
  <TenTTHC>Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam</TenTTHC>
  <KenhThucHien>2</KenhThucHien>
  <ChuHoSo>Trần Văn Bình</ChuHoSo>
  <SoGiayToChuHoSo>001089004321</SoGiayToChuHoSo>
  <LoaiDoiTuong>1</LoaiDoiTuong>
  <NgayTiepNhan>2026-11-22T09:15:00+07:00</NgayTiepNhan>
  <NgayHenTra>20261202170000</NgayHenTra>
  <DanhSachLePhi><LePhi><TenPhiLePhi>Phí cấp phiếu</TenPhiLePhi><Gia>200000</Gia></LePhi></DanhSachLePhi>
</HoSo>
"#
    )
}

/// One sample of the Prometheus text exposition format.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of label `key`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Every sample of an exposition. (Route templates such as `/v1/dossiers/{code}`
/// are label values with braces, which the `prometheus-parse` crate's sample
/// pattern does not accept, so samples are read here by the format's grammar.)
pub fn samples(text: &str) -> Vec<Sample> {
    text.lines().filter_map(sample).collect()
}

fn sample(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let b = line.as_bytes();
    let mut i = b.iter().position(|&c| c == b'{' || c == b' ')?;
    let name = line[..i].to_owned();
    let mut labels = Vec::new();
    if b[i] == b'{' {
        i += 1;
        loop {
            while matches!(b.get(i), Some(b',' | b' ')) {
                i += 1;
            }
            if b.get(i) == Some(&b'}') {
                i += 1;
                break;
            }
            let eq = i + line[i..].find('=')?;
            let key = line[i..eq].to_owned();
            if b.get(eq + 1) != Some(&b'"') {
                return None;
            }
            let (mut j, mut value) = (eq + 2, String::new());
            loop {
                match *b.get(j)? {
                    b'\\' => {
                        let c = *b.get(j + 1)?;
                        value.push(if c == b'n' { '\n' } else { c as char });
                        j += 2;
                    }
                    b'"' => {
                        j += 1;
                        break;
                    }
                    _ => {
                        let ch = line[j..].chars().next()?;
                        value.push(ch);
                        j += ch.len_utf8();
                    }
                }
            }
            labels.push((key, value));
            i = j;
        }
    }
    let value = line[i..].split_whitespace().next()?.parse().ok()?;
    Some(Sample { name, labels, value })
}

#[test]
fn exposition_samples_are_read_with_braces_and_escapes_in_label_values() {
    let text = "# HELP x y\nx_total{route=\"/v1/dossiers/{code}/status\",msg=\"a \\\"q\\\" \\\\ b\"} 3\nup 1\n";
    let s = samples(text);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].name, "x_total");
    assert_eq!(s[0].label("route"), Some("/v1/dossiers/{code}/status"));
    assert_eq!(s[0].label("msg"), Some("a \"q\" \\ b"));
    assert_eq!((s[0].value, s[1].name.as_str(), s[1].value), (3.0, "up", 1.0));
}
