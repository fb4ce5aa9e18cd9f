//! The development PKI (certs/): the committed generator produces certificates
//! that behave exactly as its index.json says, checked with `openssl verify`.

use std::path::Path;
use std::process::Command;

#[test]
fn dev_pki_certificates_behave_as_their_index_says() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(repo.join("certs/check-dev-pki.sh"))
        .arg(out_dir.path())
        .current_dir(&repo)
        .output()
        .expect("run bash certs/check-dev-pki.sh (needs bash and openssl 3.x)");
    assert!(
        out.status.success(),
        "certs/check-dev-pki.sh failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}
