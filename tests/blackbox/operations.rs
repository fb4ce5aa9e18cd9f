//! What operators and integrators rely on: the metrics exposition passes the
//! Prometheus toolchain's own checks and matches its catalogue, the alerting
//! rules and the dashboard name only real metrics, readiness names what is
//! wrong, and the OpenAPI description matches the routes the server has.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::status::item;
use crate::support::*;

fn repo_file(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// `promtool` from Debian's prometheus package.
fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .current_dir(repo_file("deploy/prometheus"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (apt-get install prometheus)");
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

/// The `lienthong_*` names a text mentions (histogram series reduced to their metric).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("lienthong_") {
        let tail = &rest[i..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        let name = &tail[..end];
        let name = ["_bucket", "_sum", "_count"].iter().fold(name, |n, s| n.strip_suffix(s).unwrap_or(n));
        if name.len() > "lienthong_".len() {
            out.insert(name.to_owned());
        }
        rest = &tail[end..];
    }
    out
}

/// The metric names of the README's catalogue.
fn catalogue() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let start = readme.find("\n## Metrics").expect("a Metrics section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|n| n.starts_with("lienthong_"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exposition_passes_promtool_and_matches_the_catalogue_the_alerts_and_the_dashboard() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut opts, _) = crate::audit::audit_options(dir.path(), "");
    opts.extra.push_str("\n[status.poll]\ndvcqg = \"1h\"\n");
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    // Traffic of every kind: accepted, refused, a status event, feed reads.
    for i in 0..3 {
        let code = format!("000.00.31.H29-261129-{i:04}");
        assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(&code).to_string()).await.0, 202);
        let (status, _) = api.post_status(PORTAL_TOKEN, &code, &item(&code, 2, "20261122090000", "Tiếp nhận")).await;
        assert_eq!(status, 201);
        api.wait_all_delivered(&code, 2, Duration::from_secs(10)).await;
    }
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", "{").await.0, 400);
    assert_eq!(api.get(PORTAL_TOKEN, "/v1/admin/dead-letters").await.0, 403);
    let (status, _) =
        api.get(PORTAL_B_TOKEN, "/v1/agencies/dvcqg/lookups/dossier?code=000.00.31.H29-261129-0000").await;
    assert_eq!(status, 200);
    // The portal reads one event of its three: two are still to read.
    let (status, page) = api.feed(PORTAL_TOKEN, "limit=1").await;
    assert_eq!(status, 200);
    let cursor = page["next"].as_str().unwrap().to_owned();
    assert_eq!(api.feed(PORTAL_TOKEN, &format!("after={cursor}&limit=1")).await.0, 200);
    let text = loop {
        let text = api.http.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
        let lag = samples(&text)
            .into_iter()
            .find(|s| s.name == "lienthong_feed_lag_events" && s.label("member") == Some("portal-h29"));
        if lag.is_some_and(|s| s.value == 2.0) {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // The Prometheus toolchain's own parser and linter.
    let (ok, out) = promtool(&["check", "metrics"], Some(&text));
    assert!(ok, "promtool check metrics:\n{out}");
    let ready = samples(&text).into_iter().find(|s| s.name == "lienthong_ready").expect("lienthong_ready");
    assert_eq!(ready.value, 1.0);
    let dead =
        samples(&text).into_iter().find(|s| s.name == "lienthong_dead_letters" && s.label("agency") == Some("dvcqg"));
    assert_eq!(dead.map(|s| s.value), Some(0.0));
    let tls_or_gateway_expiry = samples(&text)
        .into_iter()
        .find(|s| s.name == "lienthong_certificate_expiry_timestamp_seconds" && s.label("role") == Some("gateway"));
    assert!(tls_or_gateway_expiry.is_some_and(|s| s.value > 1.7e9), "the gateway's certificate expiry is exported");

    // Catalogue and exposition agree, both ways.
    let exposed: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with("lienthong_"))
        .map(str::to_owned)
        .collect();
    let documented = catalogue();
    assert_eq!(
        documented.symmetric_difference(&exposed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "README's catalogue and /metrics differ"
    );
    // The alerts and the dashboard name only real metrics.
    for file in ["deploy/prometheus/alerts.yml", "deploy/grafana/lienthong.json"] {
        let used = metric_names(&std::fs::read_to_string(repo_file(file)).unwrap());
        assert!(used.len() >= 5, "{file} names {used:?}");
        let unknown: Vec<_> = used.difference(&exposed).collect();
        assert!(unknown.is_empty(), "{file} names metrics the gateway does not have: {unknown:?}");
    }
}

#[test]
fn the_alerting_rules_pass_promtool_and_their_unit_tests() {
    let (ok, out) = promtool(&["check", "rules", "alerts.yml"], None);
    assert!(ok, "{out}");
    let (ok, out) = promtool(&["test", "rules", "alerts.test.yml"], None);
    assert!(ok, "{out}");
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn the_dashboard_is_a_grafana_dashboard_with_the_panels_operators_need() {
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_file("deploy/grafana/lienthong.json")).unwrap()).unwrap();
    assert_eq!(dash["uid"], "lienthong");
    let exprs: String = dash["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_owned() + "\n")
        .collect();
    for needed in [
        "lienthong_http_requests_total",
        "lienthong_http_request_duration_seconds",
        "lienthong_queue_depth",
        "lienthong_circuit_state",
        "lienthong_dead_letters",
        "lienthong_dossiers",
        "lienthong_certificate_expiry_timestamp_seconds",
    ] {
        assert!(metric_names(&exprs).contains(needed), "no panel shows {needed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer_and_a_store_that_cannot_open_stops_the_start() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let mut gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &Options::default())).await;
    let api = Api::new(&gw.url);
    let (status, body) = api.get(OPERATOR_TOKEN, "/readyz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")), "{body}");
    let (status, body) = api.get(OPERATOR_TOKEN, "/healthz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    // The store is destroyed (its file replaced by a directory; its database dropped).
    let db = gw.database();
    gw.kill9();
    db.destroy();
    let out = Command::new(bin()).args(["serve", "--config"]).arg(&gw.config).output().unwrap();
    assert!(!out.status.success(), "a gateway whose store cannot open does not start");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&db.name()), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The route templates the server's source names.
fn routes_in_source() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut files = vec![repo_file("gateway/src/server.rs")];
    for e in std::fs::read_dir(repo_file("gateway/src/server")).unwrap() {
        files.push(e.unwrap().path());
    }
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            let is_route =
                piece.starts_with("/v1/") || ["/healthz", "/readyz", "/metrics", "/openapi.json"].contains(&piece);
            if is_route && !piece.contains(' ') && !piece.contains('?') && !piece.contains("{}") {
                out.insert(piece.to_owned());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_description_is_served_and_matches_the_routes_both_ways() {
    let spec_text = std::fs::read_to_string(repo_file("schemas/openapi.json")).unwrap();
    let spec: serde_json::Value = serde_json::from_str(&spec_text).unwrap();
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &Options::default())).await;
    let api = Api::new(&gw.url);
    let served = api.http.get(format!("{}/openapi.json", api.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(served, spec_text, "/openapi.json serves the description kept in the repository");

    // Every path the description documents is one the source routes, and back.
    let documented: BTreeSet<String> = spec["paths"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(documented, routes_in_source(), "schemas/openapi.json and the server's routes differ");
    // Each documented operation reaches its route (its requests are counted
    // under the template, not as `other`), answers a status it documents, and
    // another method gets 405 with `Allow`.
    let client = reqwest::Client::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{code}", "000.00.31.H29-261130-0001")
            .replace("{id}", "1")
            .replace("{agency}", "dvcqg")
            .replace("{name}", "dossier");
        for (method, op) in ops.as_object().unwrap() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = client.request(m.clone(), format!("{}{concrete}", api.base)).send().await.unwrap();
            let status = r.status().as_u16().to_string();
            assert!(
                op["responses"].get(&status).is_some(),
                "{method} {path} answered {status}, which it does not document"
            );
            assert!(r.headers().contains_key("x-request-id"), "{method} {path}: no X-Request-Id");
            let other = if m == reqwest::Method::GET { reqwest::Method::DELETE } else { reqwest::Method::GET };
            let r = client.request(other.clone(), format!("{}{concrete}", api.base)).send().await.unwrap();
            assert_eq!(r.status(), 405, "{other} {path}");
            assert_eq!(r.headers()["allow"].to_str().unwrap(), method.to_uppercase(), "{path}");
        }
    }
    let text = api.http.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    let routes: BTreeSet<String> = samples(&text)
        .into_iter()
        .filter(|s| s.name == "lienthong_http_requests_total")
        .filter_map(|s| s.label("route").map(str::to_owned))
        .collect();
    for path in &documented {
        assert!(routes.contains(path), "{path} was not routed to its template: {routes:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    // Long-polls are cut to a second, so that a generated `wait` costs little.
    let opts = Options { extra: "[status]\nfeed_max_wait = \"1s\"\n".into(), ..Options::default() };
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let url = gw.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("schemathesis")
            .args(["run", &format!("{url}/openapi.json"), "--url", &url])
            .args(["--checks", "not_a_server_error", "--max-examples", "15", "--seed", "1"])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args(["--header", &format!("Authorization: Bearer {PORTAL_TOKEN}")])
            .args(["--request-timeout", "10", "--max-time", "60", "--warnings", "off"])
            .output()
            .expect("schemathesis runs (pip install schemathesis)")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis found a server error:\n{text}");
    println!("{}", text.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"));
}

/// Sends SIGHUP and waits until the gateway counts one more reload with `result`.
async fn sighup(gw: &GatewayProcess, api: &Api, result: &str) {
    let labels = [("result", result)];
    let before = crate::status::metric(api, "lienthong_config_reloads_total", &labels).await.unwrap_or(0.0);
    let pid = gw.child.id().to_string();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while crate::status::metric(api, "lienthong_config_reloads_total", &labels).await.unwrap_or(0.0) <= before {
        assert!(std::time::Instant::now() < deadline, "no {result} reload counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_swaps_members_routes_and_limits_and_an_invalid_file_changes_nothing() {
    const NEW_TOKEN: &str = "portal-token-h30";
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url(), &Options::default());
    let gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    let code = |i: u32| format!("000.00.31.H29-261201-{i:04}");
    assert_eq!(api.submit(PORTAL_B_TOKEN, "application/json", json_dossier(&code(0)).to_string()).await.0, 202);
    assert_eq!(api.submit(NEW_TOKEN, "application/json", json_dossier(&code(1)).to_string()).await.0, 401);
    let unrouted = json_dossier_of(&code(2), "9.000001");
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", unrouted.clone()).await.1["error"]["code"], "no_route");

    // A new member, portal-h49 removed, a new route, portal-h29 limited to one
    // submission, and a server setting that needs a restart.
    let original = std::fs::read_to_string(&config).unwrap();
    let h49 = original.find("[[members]]\nid = \"portal-h49\"").expect("portal-h49's table");
    let next = h49 + original[h49 + 1..].find("[[members]]").unwrap() + 1;
    let mut text = format!("{}{}", &original[..h49], &original[next..]);
    text = text.replacen(
        "[[members]]\nid = \"portal-h29\"\nrole = \"portal\"\n",
        "[[members]]\nid = \"portal-h29\"\nrole = \"portal\"\nlimits = { submit = { per_second = 0.01, burst = 1 } }\n",
        1,
    );
    text.push_str(&format!(
        "\n[[members]]\nid = \"portal-h30\"\nrole = \"portal\"\ntoken_sha256 = \"{}\"\nsend_to = [\"*\"]\n\n\
         [[routes]]\nprocedure = \"9.000001\"\nagency = \"dvcqg\"\n",
        gateway::auth::hash_token(NEW_TOKEN)
    ));
    // With a server setting changed too, the reload is refused whole.
    std::fs::write(&config, text.replace("max_body_bytes = 65536", "max_body_bytes = 1024")).unwrap();
    sighup(&gw, &api, "error").await;
    assert_eq!(api.submit(NEW_TOKEN, "application/json", json_dossier(&code(1)).to_string()).await.0, 401);
    std::fs::write(&config, &text).unwrap();
    sighup(&gw, &api, "ok").await;
    assert_eq!(api.submit(NEW_TOKEN, "application/json", json_dossier(&code(1)).to_string()).await.0, 202);
    assert_eq!(api.submit(PORTAL_B_TOKEN, "application/json", json_dossier(&code(3)).to_string()).await.0, 401);
    let (status, body) = api.submit(PORTAL_TOKEN, "application/json", unrouted).await;
    assert_eq!(status, 202, "the new route: {body}");
    let (status, body) = api.submit(PORTAL_TOKEN, "application/json", json_dossier(&code(4)).to_string()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("rate_limited")), "the new limit: {body}");
    // The body limit never changed: the refused reload applied nothing.
    let mut big = json_dossier(&code(5));
    big["TaiLieuNop"] = (0..30)
        .map(|i| serde_json::json!({"TenTepDinhKem": format!("tep-{i}.pdf"), "DuongDanTaiTepTin": format!("https://dvc.example.vn/f/{i}")}))
        .collect();
    let big = big.to_string();
    assert!(big.len() > 1024);
    let (status, body) = api.submit(NEW_TOKEN, "application/json", big).await;
    assert_eq!(status, 202, "{body}");

    // An invalid file is refused as a whole: the members of the last good one stay.
    std::fs::write(&config, text.replace("role = \"portal\"", "role = \"nobody\"")).unwrap();
    sighup(&gw, &api, "error").await;
    assert_eq!(api.submit(NEW_TOKEN, "application/json", json_dossier(&code(6)).to_string()).await.0, 202);
}

/// Whether process `pid` catches `signal` (its bit in `SigCgt` of /proc/PID/status).
fn catches(pid: u32, signal: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return false };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sighup_during_the_start_is_held_and_reloads_once_the_gateway_serves() {
    const SIGHUP: u32 = 1;
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url(), &Options::default());
    // A first run creates the store; the second start is held by a lock on it,
    // as a start waits on a database that is slow to answer or being migrated.
    GatewayProcess::start(&config).await.terminate();
    let hold = Database::of(dir.path()).hold_start();
    let mut child = GatewayProcess::spawn(&config);
    let pid = child.id();
    // The store's busy wait is 10 s: the signal must be caught well before.
    let deadline = std::time::Instant::now() + Duration::from_secs(6);
    while !catches(pid, SIGHUP) {
        assert!(child.try_wait().unwrap().is_none(), "the gateway exited before catching SIGHUP");
        assert!(std::time::Instant::now() < deadline, "the gateway does not catch SIGHUP while it starts");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(Command::new("kill").args(["-HUP", &pid.to_string()]).status().unwrap().success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(child.try_wait().unwrap().is_none(), "SIGHUP during the start ended the gateway");
    drop(hold);
    let gw = GatewayProcess::attach(child, &config).await;
    let api = Api::new(&gw.url);
    let ok = [("result", "ok")];
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while crate::status::metric(&api, "lienthong_config_reloads_total", &ok).await.unwrap_or(0.0) < 1.0 {
        assert!(std::time::Instant::now() < deadline, "the early SIGHUP was never applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reloads = "lienthong_config_reloads_total";
    assert_eq!(crate::status::metric(&api, reloads, &ok).await, Some(1.0), "one signal, one reload");
    assert_eq!(crate::status::metric(&api, reloads, &[("result", "error")]).await, Some(0.0));
    let code = "000.00.31.H29-261201-0001";
    assert_eq!(api.submit(PORTAL_TOKEN, "application/json", json_dossier(code).to_string()).await.0, 202);
}

/// What the collector received: each request's head (lower case) and body.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// A minimal OTLP/HTTP collector: every request's head and body.
async fn collector() -> (String, Received) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    let got: Received = Default::default();
    let seen = got.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < end + 4 + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = buf[end + 4..end + 4 + len].to_vec();
                    buf.drain(..end + 4 + len);
                    seen.lock().unwrap().push((head, body));
                    if sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_with_the_requests_correlation_id() {
    let (endpoint, got) = collector().await;
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url(), &Options::default());
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[log]\nfilter = \"info\"",
        &format!("[log]\nfilter = \"info\"\notlp_endpoint = \"{endpoint}\"\nservice_name = \"lienthong-test\""),
    );
    std::fs::write(&config, text).unwrap();
    let mut gw = GatewayProcess::start(&config).await;
    let api = Api::new(&gw.url);
    let r = api
        .http
        .get(format!("{}/v1/dossiers/000.00.31.H29-261201-0009", api.base))
        .bearer_auth(PORTAL_TOKEN)
        .header("x-request-id", "trace-me-5f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-request-id"], "trace-me-5f3a");
    // SIGTERM flushes the spans not yet exported.
    gw.terminate();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = got.lock().unwrap().iter().any(|(head, body)| {
            let has = |s: &str| body.windows(s.len()).any(|w| w == s.as_bytes());
            head.starts_with("post /v1/traces")
                && head.contains("content-type: application/x-protobuf")
                && has("trace-me-5f3a")
                && has("lienthong-test")
        });
        if found {
            eprintln!("{} OTLP export(s) received", got.lock().unwrap().len());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no span with the correlation id reached the collector");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
