//! The deployment files: Kubernetes manifests against the Kubernetes schemas,
//! the systemd unit through systemd's own verifier and security analysis, and
//! the compose stack's Prometheus configuration through promtool. (Every
//! gateway configuration under deploy/ passes check-config: see cli.rs.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_kubernetes_manifests_pass_the_kubernetes_schemas() {
    let dir = repo_file("deploy/k8s");
    let kustomization = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    let mut manifests = Vec::new();
    for line in kustomization.lines() {
        if let Some(file) = line.trim().strip_prefix("- ").filter(|f| f.ends_with(".yaml")) {
            assert!(dir.join(file).exists(), "kustomization.yaml lists {file}, which is missing");
            manifests.push(dir.join(file));
        }
    }
    assert!(manifests.len() >= 5, "{manifests:?}");
    let (ok, out) = run(Command::new("kubernetes-validate").args(["-k", "1.30.0", "--strict"]).args(&manifests));
    assert!(ok, "kubernetes-validate (pip install kubernetes-validate):\n{out}");
    for kind in ["Deployment", "Service", "Secret", "PersistentVolumeClaim"] {
        assert!(out.contains(&format!("{}/", kind.to_lowercase())), "no {kind} validated:\n{out}");
    }
    // The probes are the gateway's health endpoints, and limits are set.
    let deployment = std::fs::read_to_string(dir.join("deployment.yaml")).unwrap();
    for needed in ["path: /healthz", "path: /readyz", "limits:", "runAsNonRoot: true", "readOnlyRootFilesystem: true"] {
        assert!(deployment.contains(needed), "deployment.yaml lacks {needed}");
    }
}

#[test]
fn the_systemd_unit_verifies_and_is_hardened() {
    let unit = std::fs::read_to_string(repo_file("deploy/systemd/lienthong.service")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The unit names the installed binary; verify it against the one built here.
    let path = dir.path().join("lienthong.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/lienthong", crate::support::bin())).unwrap();
    let (ok, out) = run(Command::new("systemd-analyze").arg("verify").arg(&path));
    assert!(ok && out.trim().is_empty(), "systemd-analyze verify:\n{out}");
    let (_, out) = run(Command::new("systemd-analyze").args(["security", "--offline=yes"]).arg(&path));
    let level: f64 = out
        .lines()
        .find_map(|l| l.split("Overall exposure level for lienthong.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{out}"));
    assert!(level <= 2.0, "exposure level {level} (systemd rates up to 2.0 as well hardened):\n{out}");
}

#[test]
fn the_compose_stack_scrapes_the_gateway_with_the_alerting_rules() {
    let dir = repo_file("deploy/compose");
    let prometheus = std::fs::read_to_string(dir.join("prometheus.yml")).unwrap();
    // Checked where the rule file lies in the repository, not in the container.
    let tmp = tempfile::tempdir().unwrap();
    let rules = repo_file("deploy/prometheus/alerts.yml");
    let config = tmp.path().join("prometheus.yml");
    std::fs::write(&config, prometheus.replace("/etc/prometheus/alerts.yml", rules.to_str().unwrap())).unwrap();
    let (ok, out) = run(Command::new("promtool").args(["check", "config"]).arg(&config));
    assert!(ok, "promtool check config:\n{out}");
    assert!(prometheus.contains("lienthong:8080"), "Prometheus scrapes the gateway service");
    // Every file the stack mounts is in the repository.
    let compose = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    let mut mounts = 0;
    for line in compose.lines() {
        if let Some(spec) = line.trim().strip_prefix("- ./").or_else(|| line.trim().strip_prefix("- ../")) {
            let prefix = if line.trim().starts_with("- ../") { "../" } else { "./" };
            let source = spec.split(':').next().unwrap();
            assert!(
                dir.join(format!("{prefix}{source}")).exists(),
                "compose.yaml mounts {prefix}{source}, which is missing"
            );
            mounts += 1;
        }
    }
    assert!(mounts >= 5, "{mounts} mounts");
    for service in ["lienthong:", "simulators:", "prometheus:", "grafana:"] {
        assert!(compose.contains(&format!("\n  {service}")), "no {service} service");
    }
}
