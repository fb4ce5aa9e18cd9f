//! CRL updates, issued by `openssl ca` on a scratch copy of a dev CA's state,
//! take effect in a live trust store; a stale CRL counts as none, a broken one
//! leaves the CRLs in force.

use std::path::{Path, PathBuf};
use std::process::Command;

use schemas::dsig::{verify_xml, ReferenceStyle};
use schemas::pki::{RevocationPolicy, TrustStore};

use super::helpers::{replace_once, signed, Scratch};
use crate::support::{fixture, now, Fixture};

/// A scratch copy of a CA's `openssl ca` state (to revoke and issue CRLs
/// without touching the shared dev PKI); its configuration file.
fn scratch_ca(f: &Fixture, tmp: &Scratch, ca: &str) -> PathBuf {
    let src = f.pki.path(&format!("ca/{ca}"));
    let dst = tmp.0.join(ca);
    let out = Command::new("cp").arg("-r").arg(&src).arg(&dst).output().expect("run cp");
    assert!(out.status.success(), "cp -r {}: {}", src.display(), String::from_utf8_lossy(&out.stderr));
    let cnf = std::fs::read_to_string(dst.join("openssl.cnf")).expect("read openssl.cnf");
    let line = cnf.lines().find(|l| l.trim_start().starts_with("dir ")).expect("a dir line").to_owned();
    let cnf = replace_once(&cnf, &line, &format!("dir = {}", dst.display()));
    tmp.write(&format!("{ca}.cnf"), cnf.as_bytes())
}

fn openssl_ca(cfg: &Path, args: &[&str]) {
    let out =
        Command::new("openssl").args(["ca", "-batch", "-config"]).arg(cfg).args(args).output().expect("run openssl");
    assert!(out.status.success(), "openssl ca {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The dev CRLs, with the one of `ca` replaced by `replacement`.
fn crls_with(f: &Fixture, ca: &str, replacement: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(f.pki.crls())
        .expect("the CRL directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()) != Some(&format!("{ca}.crl.pem")))
        .collect();
    assert_eq!(files.len(), 5);
    files.push(replacement.to_owned());
    files
}

#[test]
fn crl_updates_take_effect_and_stale_crls_count_as_none() {
    let f = fixture();
    let tmp = Scratch::new("crl");
    let ca = "national-old-signing";
    let cfg = scratch_ca(&f, &tmp, ca);
    let hanoi = signed(&f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let code = |store: &TrustStore| verify_xml(hanoi.as_bytes(), store, &now()).err().map(|e| e.code());
    let store = TrustStore::load(&[f.pki.roots()], RevocationPolicy::Require).expect("load the dev roots");
    let best_effort = TrustStore::load(&[f.pki.roots()], RevocationPolicy::BestEffort).expect("load the dev roots");

    // A CRL whose nextUpdate has passed counts as none.
    let stale = tmp.0.join("stale.crl.pem");
    let stale_s = stale.to_str().expect("UTF-8 path");
    openssl_ca(
        &cfg,
        &["-gencrl", "-crl_lastupdate", "20250101000000Z", "-crl_nextupdate", "20250601000000Z", "-out", stale_s],
    );
    store.reload_crls(&crls_with(&f, ca, &stale)).expect("load the CRLs");
    assert_eq!(code(&store), Some("certificate_revocation_unknown"), "a stale CRL under RevocationPolicy::Require");
    best_effort.reload_crls(&crls_with(&f, ca, &stale)).expect("load the CRLs");
    assert_eq!(code(&best_effort), None, "a stale CRL under RevocationPolicy::BestEffort");

    // A current CRL: valid; then portal-hanoi is revoked and the new CRL loaded into the live store.
    let fresh = tmp.0.join("fresh.crl.pem");
    openssl_ca(&cfg, &["-gencrl", "-crldays", "30", "-out", fresh.to_str().expect("UTF-8 path")]);
    store.reload_crls(&crls_with(&f, ca, &fresh)).expect("load the CRLs");
    assert_eq!(code(&store), None);
    let cert = f.pki.files("portal-hanoi").1;
    openssl_ca(&cfg, &["-revoke", cert.to_str().expect("UTF-8 path"), "-crl_reason", "keyCompromise"]);
    let revoked = tmp.0.join("revoked.crl.pem");
    openssl_ca(&cfg, &["-gencrl", "-crldays", "30", "-out", revoked.to_str().expect("UTF-8 path")]);
    assert_eq!(store.reload_crls(&crls_with(&f, ca, &revoked)).expect("load the CRLs"), 6);
    assert_eq!(code(&store), Some("certificate_revoked"));
    best_effort.reload_crls(&crls_with(&f, ca, &revoked)).expect("load the CRLs");
    assert_eq!(code(&best_effort), Some("certificate_revoked"));
    // A broken reload leaves the CRLs in force.
    let broken = tmp.write("broken.crl.pem", b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
    assert!(store.reload_crls(&crls_with(&f, ca, &broken)).is_err());
    assert_eq!(store.crl_count(), 6);
    assert_eq!(code(&store), Some("certificate_revoked"));
    // Members of the other CAs are unaffected.
    let hcm = signed(&f, "portal-hcm", ReferenceStyle::WholeDocument);
    assert!(verify_xml(hcm.as_bytes(), &store, &now()).is_ok());
}
