//! A revocation takes effect at the next scheduled CRL refresh, without a
//! restart.

use std::process::Command;
use std::time::Duration;

use schemas::dsig::ReferenceStyle;

use super::{sign, signing_options};
use crate::dev_pki::dev_pki;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_takes_effect_at_the_next_crl_refresh_without_a_restart() {
    let shared = dev_pki();
    let dir = tempfile::tempdir().unwrap();
    // A private copy of the PKI, so that revoking does not touch the shared one.
    let copy = dir.path().join("pki");
    let out = Command::new("cp").arg("-r").arg(&shared.dir).arg(&copy).output().expect("cp");
    assert!(out.status.success());
    let ca_dir = copy.join("ca/national-old-signing");
    let cnf = std::fs::read_to_string(ca_dir.join("openssl.cnf")).unwrap();
    let dir_line = cnf.lines().find(|l| l.trim_start().starts_with("dir ")).expect("dir line").to_owned();
    let cnf_path = dir.path().join("ca.cnf");
    std::fs::write(&cnf_path, cnf.replacen(&dir_line, &format!("dir = {}", ca_dir.display()), 1)).unwrap();

    let sim = simulator().await;
    let mut opts = signing_options(&shared, "required");
    opts.extra = opts.extra.replace(&shared.dir.display().to_string(), &copy.display().to_string())
        + "crl_refresh = \"200ms\"\n";
    let gw = GatewayProcess::start(&write_config(dir.path(), &sim.url(), &opts)).await;
    let api = Api::new(&gw.url);
    let xml = sign(&shared, "portal-hanoi", &xml_dossier("000.00.31.H29-261122-0401"), ReferenceStyle::WholeDocument);
    let (status, body) = api.submit(PORTAL_TOKEN, "application/xml", xml).await;
    assert_eq!(status, 202, "{body}");

    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(["ca", "-batch", "-config"]).arg(&cnf_path).args(args).output().unwrap();
        assert!(out.status.success(), "openssl ca {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let cert = copy.join("members/portal-hanoi.cert.pem");
    openssl(&["-revoke", cert.to_str().unwrap(), "-crl_reason", "keyCompromise"]);
    let fresh = dir.path().join("fresh.crl.pem");
    openssl(&["-gencrl", "-crldays", "30", "-out", fresh.to_str().unwrap()]);
    // Replaced atomically, as a CRL download job would.
    std::fs::rename(&fresh, copy.join("crl/national-old-signing.crl.pem")).unwrap();

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut n = 402;
    loop {
        let code = format!("000.00.31.H29-261122-0{n}");
        let xml = sign(&shared, "portal-hanoi", &xml_dossier(&code), ReferenceStyle::WholeDocument);
        let (status, body) = api.submit(PORTAL_TOKEN, "application/xml", xml).await;
        if status == 422 {
            assert_eq!(body["error"]["code"], "certificate_revoked", "{body}");
            break;
        }
        assert_eq!(status, 202, "{body}");
        assert!(std::time::Instant::now() < deadline, "the revocation was not picked up");
        tokio::time::sleep(Duration::from_millis(100)).await;
        n += 1;
    }
    let metrics = api.http.get(format!("{}/metrics", api.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("lienthong_crl_reloads_total{result=\"ok\"}")),
        "scheduled reloads are counted: {metrics}"
    );
    // Refused signed dossiers stored nothing: only those accepted before are there.
    let stored = count_rows(&gw.database(), "dossiers");
    assert_eq!(stored, i64::from(n - 401), "one dossier per 202");
}
