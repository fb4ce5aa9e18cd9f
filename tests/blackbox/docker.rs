//! The container image of `deploy/docker/Dockerfile`, built by a real Docker
//! engine and run the way `deploy/compose/compose.yaml` runs it: the gateway with
//! the stack's own configuration, the simulators in its network namespace, the
//! data on a named volume. Only the store differs: the stack's PostgreSQL is this
//! machine's, in a fresh database.
//!
//! The base images come from `deploy/docker/bases` (Debian's archive), since no
//! container registry can be assumed reachable; the Dockerfile is the one
//! operators build with `rust:1-slim-bookworm` and `debian:bookworm-slim`.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::deploy::{repo_file, run};
use crate::support::{json_dossier, Api};

const IMAGE: &str = "lienthong:blackbox";
/// The development tokens whose hashes deploy/compose/lienthong.toml holds.
const PORTAL: &str = "dev-portal-hanoi-token";
const OPERATOR: &str = "dev-operator-token";
/// The largest image that is still "small": Debian's slim base is about 75 MB.
const MAX_IMAGE_BYTES: u64 = 120_000_000;

fn docker(args: &[&str]) -> (bool, String) {
    run(Command::new("docker").args(args))
}

/// The last lines of a long output, for an assertion's message.
fn tail(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Containers and a volume of this test, removed however it ends.
struct Cleanup {
    containers: Vec<String>,
    volume: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = docker(&["rm", "-f", "-v", c]);
        }
        let _ = docker(&["volume", "rm", "-f", &self.volume]);
        // The build stage's intermediate images carry a label of their own; the
        // final image (tagged) and every other image on the machine are kept.
        // So do the gateway images an earlier run left untagged.
        for label in ["label=org.lienthong.stage=build", "label=org.opencontainers.image.title=lienthong"] {
            let _ = docker(&["image", "prune", "-f", "--filter", label]);
        }
    }
}

#[tokio::test]
async fn the_image_is_small_runs_as_a_non_root_user_and_serves_the_compose_stack() {
    let (ok, out) = docker(&["info", "--format", "{{.ServerVersion}}"]);
    assert!(ok, "no Docker engine answers (.ci/run starts one): {out}");
    let (ok, out) = run(&mut Command::new(repo_file("deploy/docker/bases")));
    assert!(ok, "deploy/docker/bases:\n{}", tail(&out));

    let started = Instant::now();
    let (ok, out) = run(Command::new("docker").current_dir(repo_file("")).args([
        "build",
        "--network",
        "host",
        "-f",
        "deploy/docker/Dockerfile",
        "--build-arg",
        "BUILD_IMAGE=lienthong-base/rust-bookworm",
        "--build-arg",
        "RUNTIME_IMAGE=lienthong-base/bookworm-slim",
        "-t",
        IMAGE,
        ".",
    ]));
    assert!(ok, "docker build:\n{}", tail(&out));
    eprintln!("image built in {:.0} s", started.elapsed().as_secs_f64());

    // Small, and its process is not root's.
    let (ok, out) = docker(&["image", "inspect", "-f", "{{.Config.User}}|{{.Size}}", IMAGE]);
    assert!(ok, "{out}");
    let (user, size) = out.trim().split_once('|').unwrap();
    assert_eq!(user, "10001:10001", "the image runs as the unprivileged user");
    let size: u64 = size.parse().unwrap();
    eprintln!("image size {:.1} MB", size as f64 / 1e6);
    assert!(size < MAX_IMAGE_BYTES, "the image is {size} bytes: the build stage leaked into it");
    let (has_toolchain, _) = docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "sh",
        IMAGE,
        "-c",
        "command -v cargo || command -v gcc",
    ]);
    assert!(!has_toolchain, "the runtime image holds a compiler");

    // The compose stack's configuration, with its store on this machine.
    let database = crate::stores::create_database();
    let compose = std::fs::read_to_string(repo_file("deploy/compose/lienthong.toml")).unwrap();
    let stack_url = "postgres://lienthong:lienthong-dev@postgres:5432/lienthong?sslmode=disable";
    assert!(compose.contains(stack_url), "the stack's store URL changed: update this test");
    let config = compose.replace(stack_url, &crate::stores::plain_url(&database));
    let tmp = tempfile::tempdir().unwrap();
    let config_file = tmp.path().join("lienthong.toml");
    std::fs::write(&config_file, config).unwrap();
    // Read inside the container by uid 10001.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config_file, std::fs::Permissions::from_mode(0o644)).unwrap();

    let id = std::process::id();
    let gateway = format!("lienthong-blackbox-gateway-{id}");
    let simulators = format!("lienthong-blackbox-simulators-{id}");
    let volume = format!("lienthong-blackbox-data-{id}");
    let _cleanup = Cleanup { containers: vec![simulators.clone(), gateway.clone()], volume: volume.clone() };
    let mount_config = format!("{}:/etc/lienthong/lienthong.toml:ro", config_file.display());
    let mount_data = format!("{volume}:/var/lib/lienthong");
    let compose_file = std::fs::read_to_string(repo_file("deploy/compose/compose.yaml")).unwrap();
    let mut env = Vec::new();
    for var in [
        "LIENTHONG_DVCQG_PASSWORD",
        "LIENTHONG_MPI_PASSWORD",
        "LIENTHONG_MOIT_SECRET",
        "LIENTHONG_MOJ_PASSWORD",
        "LIENTHONG_MOJ_AUTH_KEY",
    ] {
        assert!(compose_file.contains(&format!("{var}: lienthong-dev")), "compose.yaml sets {var}");
        env.push(format!("{var}=lienthong-dev"));
    }
    let mut args = vec!["run", "-d", "--name", &gateway, "--network", "host", "-v", &mount_config, "-v", &mount_data];
    for e in &env {
        args.extend(["-e", e.as_str()]);
    }
    args.extend([IMAGE, "serve", "--config", "/etc/lienthong/lienthong.toml"]);
    let (ok, out) = docker(&args);
    assert!(ok, "docker run (gateway): {out}");
    let network = format!("container:{gateway}");
    let (ok, out) = docker(&[
        "run",
        "-d",
        "--name",
        &simulators,
        "--network",
        &network,
        IMAGE,
        "simulate",
        "--listen",
        "127.0.0.1:9001",
        "--password",
        "lienthong-dev",
    ]);
    assert!(ok, "docker run (simulators): {out}");

    let logs = || docker(&["logs", &gateway]).1;
    let base = "http://127.0.0.1:8080";
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let api = Api { base: base.to_owned(), http: http.clone() };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the gateway in its container is not ready:\n{}", tail(&logs()));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The process itself, seen from this machine, runs with uid and gid 10001.
    let (ok, pid) = docker(&["inspect", "-f", "{{.State.Pid}}", &gateway]);
    assert!(ok, "{pid}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap();
    for field in ["Uid:", "Gid:"] {
        let ids: Vec<&str> =
            status.lines().find(|l| l.starts_with(field)).unwrap().split_whitespace().skip(1).collect();
        assert_eq!(ids, ["10001"; 4], "{field} of the gateway's process");
    }

    // A birth registration is accepted and delivered to both agencies it goes to
    // by the default routes: Justice's civil-status system, and DVCQG.
    let code = "000.00.31.H29-261203-0001";
    let mut dossier = json_dossier(code);
    dossier["DuLieuNghiepVu"] = serde_json::json!({"HoTich": {"KhaiSinh": {
        "HoTen": "Trần Minh Khôi", "NgaySinh": "2026-11-20", "GioiTinh": "1", "NoiSinh": "Bệnh viện Phụ sản Hà Nội",
        "DanToc": "Kinh", "QuocTich": "Việt Nam", "HoTenMe": "Nguyễn Thị Hồng Nhung"}}});
    // Justice takes files only inline.
    dossier["TaiLieuNop"] = serde_json::json!([{"TenTepDinhKem": "to-khai.pdf", "DuLieuTep": "JVBERi0xLjQKJSVFT0YK"}]);
    let (status, receipt) = api.submit(PORTAL, "application/json", dossier.to_string()).await;
    assert_eq!(status, 202, "{receipt}");
    api.wait_all_delivered_as(OPERATOR, code, 2, Duration::from_secs(60)).await;

    // `docker stop` (SIGTERM, the image's STOPSIGNAL) ends it cleanly.
    let (ok, out) = docker(&["stop", "-t", "30", &gateway]);
    assert!(ok, "{out}");
    let (_, code) = docker(&["inspect", "-f", "{{.State.ExitCode}}", &gateway]);
    assert_eq!(code.trim(), "0", "exit status after docker stop:\n{}", tail(&logs()));
    // Its data is on the volume, owned by the gateway's user.
    let (ok, out) = docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        &mount_data,
        "--entrypoint",
        "stat",
        IMAGE,
        "-c",
        "%u:%g %a",
        "/var/lib/lienthong",
    ]);
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "10001:10001 700");
}
