//! The deployment files: Kubernetes manifests against the Kubernetes schemas,
//! the systemd unit through systemd's own verifier and security analysis, and
//! the compose stack's Prometheus configuration through promtool. (Every
//! gateway configuration under deploy/ passes check-config: see cli.rs.)

use std::path::{Path, PathBuf};
use std::process::Command;

/// A file of the repository, by its path from the root.
pub(crate) fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Runs a command: whether it succeeded, and its output (stdout then stderr).
pub(crate) fn run(cmd: &mut Command) -> (bool, String) {
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

/// The overlay for several replicas on PostgreSQL, rendered by kustomize (in
/// kubectl) and checked as a whole against the Kubernetes schemas.
#[test]
fn the_postgres_overlay_renders_to_rolled_replicas_with_a_disruption_budget_and_an_autoscaler() {
    let (ok, rendered) = run(Command::new("kubectl").args(["kustomize"]).arg(repo_file("deploy/k8s-postgres")));
    assert!(ok, "kubectl kustomize deploy/k8s-postgres:\n{rendered}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, &rendered).unwrap();
    let (ok, out) = run(Command::new("kubernetes-validate").args(["-k", "1.30.0", "--strict"]).arg(&file));
    assert!(ok, "kubernetes-validate:\n{out}");
    for kind in ["deployment", "service", "poddisruptionbudget", "horizontalpodautoscaler", "secret/lienthong-store"] {
        assert!(out.contains(&format!("resource {kind}")), "no {kind} validated:\n{out}");
    }
    // Read with PyYAML (which kubernetes-validate brings).
    let script = "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let (ok, json) = run(Command::new("python3").args(["-c", script]).arg(&file));
    assert!(ok, "{json}");
    let docs: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let of = |kind: &str| docs.iter().find(|d| d["kind"] == kind).unwrap_or_else(|| panic!("no {kind}")).clone();
    assert!(docs.iter().all(|d| d["kind"] != "PersistentVolumeClaim"), "replicas keep nothing on a volume");
    let deployment = of("Deployment");
    assert!(deployment["spec"]["replicas"].as_u64().unwrap() >= 2);
    assert_eq!(deployment["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
    let pdb = of("PodDisruptionBudget");
    assert!(pdb["spec"]["minAvailable"].as_u64().unwrap() >= 1);
    let hpa = of("HorizontalPodAutoscaler");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], deployment["metadata"]["name"]);
    // Each replica enforces 1/store.replicas of every limit: the autoscaler's
    // maximum, so that together they never exceed one.
    let config = gateway::Config::load(&repo_file("deploy/k8s-postgres/lienthong.toml")).unwrap();
    assert!(config.store.is_postgres());
    assert_eq!(u64::from(config.store.replicas), hpa["spec"]["maxReplicas"].as_u64().unwrap());
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
    // The gateway's store is the stack's PostgreSQL, and waits for it.
    let config = gateway::Config::load(&dir.join("lienthong.toml")).unwrap();
    assert!(config.store.postgres_url().unwrap().is_some_and(|u| u.contains("@postgres:5432/")));
    assert!(compose.contains("condition: service_healthy"), "the gateway starts once PostgreSQL is ready");
    for service in ["postgres:", "lienthong:", "simulators:", "prometheus:", "grafana:"] {
        assert!(compose.contains(&format!("\n  {service}")), "no {service} service");
    }
}
