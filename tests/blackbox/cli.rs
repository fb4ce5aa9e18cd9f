//! The command line: configuration checking, and the demo running to its summary.

use std::process::Command;

use crate::support::bin;

fn repo_file(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Every file under `dir` (recursively) whose name ends with `ext`.
pub(crate) fn files_under(dir: &std::path::Path, ext: &str, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

#[test]
fn every_config_file_under_deploy_passes_check_config() {
    let mut files = Vec::new();
    files_under(&repo_file("deploy"), "toml", &mut files);
    for path in &files {
        let out = Command::new(bin()).arg("check-config").arg(path).output().unwrap();
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    }
    for needed in ["deploy/lienthong.toml", "deploy/k8s/lienthong.toml", "deploy/compose/lienthong.toml"] {
        assert!(files.contains(&repo_file(needed)), "{needed} was not checked: {files:?}");
    }
}

#[test]
fn check_config_reports_every_error_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        r#"
[[members]]
id = "Portal H29"
role = "portal"
token_sha256 = "abc"

[[members]]
id = "m"
role = "ministry"
token_sha256 = "0000000000000000000000000000000000000000000000000000000000000000"

[[routes]]
prefix = "1."
agency = "nowhere"

[[routes]]
prefix = "1."
procedure = "1.001193"
agency = "nowhere"
"#,
    )
    .unwrap();
    let out = Command::new(bin()).arg("check-config").arg(&path).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "members[0].id",
        "members[0].token_sha256",
        "members[1].agency",
        "routes[0].agency: agency nowhere is not configured",
        "routes[1]: give exactly one of procedure or prefix",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }

    std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:8080\"\nbogus = 1\n").unwrap();
    let out = Command::new(bin()).arg("check-config").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("line 3, column 1") && err.contains("bogus"), "{err}");
}

#[test]
fn hash_token_prints_the_configured_form() {
    use std::io::Write;
    let mut child = Command::new(bin())
        .arg("hash-token")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), gateway::auth::hash_token("s3cret"));
}

#[test]
fn the_demo_runs_to_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["demo", "--exit", "--dossiers", "120", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Summary"), "{stdout}");
    let accepted: u64 = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("accepted (202)"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no accepted line in {stdout}"));
    assert!(accepted > 80, "{stdout}");
    let delivered: u64 = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("dvcqg"))
        .filter_map(|l| l.trim().strip_prefix("delivered"))
        .filter_map(|v| v.trim().parse::<u64>().ok())
        .sum();
    assert_eq!(delivered, accepted, "every accepted dossier delivered to DVCQG: {stdout}");
    for agency in ["mpi", "moit", "moj"] {
        let n: u64 = stdout
            .lines()
            .filter_map(|l| l.trim().strip_prefix(agency))
            .filter_map(|l| l.trim().strip_prefix("delivered"))
            .filter_map(|v| v.trim().parse::<u64>().ok())
            .sum();
        assert!(n > 0, "nothing delivered to {agency}: {stdout}");
    }
    assert!(!stdout.contains("failed"), "no delivery failed: {stdout}");
    assert!(stdout.contains("refused") && stdout.contains("impossible_dates"), "{stdout}");
    assert!(stdout.contains("p99"), "{stdout}");
    // Every dossier the demo portal sent was signed and verified, and every
    // receipt (202 and 200) carried the gateway's signature, which the portal checked.
    let figure = |label: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {label} line in {stdout}"))
    };
    let resent = figure("resent, receipt returned");
    assert_eq!(figure("signature verified"), accepted + resent, "{stdout}");
    assert_eq!(figure("receipts signed, checked"), accepted + resent, "{stdout}");
}

#[test]
fn verify_with_a_configuration_checks_the_member_binding_too() {
    let pki = crate::dev_pki::dev_pki();
    let dir = tempfile::tempdir().unwrap();
    let subject = pki.entry("portal-hanoi")["subject"].as_str().unwrap().to_owned();
    let hcm = pki.entry("portal-hcm")["spki_sha256"].as_str().unwrap().to_owned();
    let config = dir.path().join("lienthong.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[members]]
id = "portal-hanoi"
role = "portal"
token_sha256 = "{t1}"
[[members.signers]]
subject = "{subject}"

[[members]]
id = "portal-hcm"
role = "portal"
token_sha256 = "{t2}"
[[members.signers]]
spki_sha256 = "{hcm}"

[signatures]
trust_anchors = ["{roots}"]
crls = ["{crls}"]
"#,
            t1 = gateway::auth::hash_token("a"),
            t2 = gateway::auth::hash_token("b"),
            roots = pki.roots().display(),
            crls = pki.crls().display(),
        ),
    )
    .unwrap();
    let (key, _, chain) = pki.files("portal-hanoi");
    let signed = dir.path().join("signed.xml");
    let out = Command::new(bin())
        .arg("sign")
        .arg(repo_file("schemas/examples/khai-tu.xml"))
        .arg("--key")
        .arg(&key)
        .arg("--chain")
        .arg(&chain)
        .arg("-o")
        .arg(&signed)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let verify = |member: &str| {
        let out = Command::new(bin())
            .arg("verify")
            .arg(&signed)
            .arg("--config")
            .arg(&config)
            .arg("--member")
            .arg(member)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (ok, text) = verify("portal-hanoi");
    assert!(ok, "{text}");
    assert!(text.contains("ok   the signer is bound to member portal-hanoi"), "{text}");
    let (ok, text) = verify("portal-hcm");
    assert!(!ok, "{text}");
    assert!(text.contains("FAIL the signer is bound to member portal-hcm"), "{text}");
    assert!(text.contains("result: INVALID (signer_not_bound)"), "{text}");
}
