//! Interop with the independent `xmlsec1` command-line tool (libxmlsec1 over
//! libxml2 and OpenSSL), in both directions:
//!
//! - dossiers signed by `xmlsec1 --sign` from a template built here verify with
//!   [`verify_xml`] under every signature method, canonicalisation and reference
//!   style the profile accepts (RSA-PSS is left out: xmlsec1 1.2 has none), and
//!   what the verifier hands on is the dossier that was signed;
//! - documents signed by [`sign_xml`] verify with `xmlsec1 --verify` against the
//!   dev roots;
//! - both sides really check: each refuses a tampered dossier and a tampered
//!   signature value, xmlsec1 refuses a chain without its root, and both refuse
//!   a revoked signer.
//!
//! xmlsec1 1.2.37 has no `--crl-pem`: the only way to give it CRLs is an
//! `X509CRL` in the signature's `X509Data`, and it checks a CRL's signature
//! against its *trusted* certificates only, so the revocation test trusts the
//! intermediates as well (see `xmlsec1_honours_a_crl_and_agrees_on_a_revoked_signer`).
//!
//! A missing `xmlsec1` fails the tests with an install hint. Temporary files go
//! into a fresh directory under the system's temporary directory, removed when a
//! test passes and kept (its path is in the failure message) when it fails.
//!
//! This file holds what the interop tests share: the signers, canonicalisations
//! and reference styles both sides use, the scratch directory, and running
//! xmlsec1; `xmlsec/documents.rs` holds the templates and documents.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use schemas::c14n::Algorithm;
use schemas::dsig::{ReferenceStyle, SignatureAlgorithm as A};

use crate::support::Fixture;

#[path = "xmlsec/documents.rs"]
mod documents;

#[path = "xmlsec/xmlsec1_signs.rs"]
mod xmlsec1_signs;

#[path = "xmlsec/gateway_signs.rs"]
mod gateway_signs;

#[path = "xmlsec/tampering.rs"]
mod tampering;

/// The namespace and local name of the dossier's document element, as
/// `--id-attr:Id` wants them, so that xmlsec1 resolves `#id` to it.
const ROOT_ID_ATTR: &str = "urn:lienthong:hoso:1:HoSo";
/// The `Id` of the document element of khai-tu.xml.
pub(crate) const ROOT_ID: &str = "hs-000.00.21.H41-261120-0312";
/// A field value of khai-tu.xml that occurs once; tampering changes its last digit.
pub(crate) const FIELD: &str = "<SoGiayToChuHoSo>036185002468</SoGiayToChuHoSo>";
pub(crate) const FIELD_TAMPERED: &str = "<SoGiayToChuHoSo>036185002469</SoGiayToChuHoSo>";

/// Every signer and signature method xmlsec1 and the profile share.
pub(crate) const SIGNERS: &[(&str, A)] = &[
    ("portal-hanoi", A::RsaPkcs1Sha256),
    ("portal-hanoi", A::RsaPkcs1Sha384),
    ("portal-hanoi", A::RsaPkcs1Sha512),
    ("mpi", A::RsaPkcs1Sha384),
    ("portal-hcm", A::EcdsaSha256),
    ("portal-danang", A::EcdsaSha384),
];

pub(crate) const REFERENCES: [ReferenceStyle; 2] = [ReferenceStyle::WholeDocument, ReferenceStyle::RootId];

pub(crate) fn exc(comments: bool) -> Algorithm {
    Algorithm::Exclusive { comments, inclusive_prefixes: vec![] }
}

pub(crate) fn exc_default_ns() -> Algorithm {
    Algorithm::Exclusive { comments: false, inclusive_prefixes: vec!["#default".into()] }
}

pub(crate) fn inc(comments: bool) -> Algorithm {
    Algorithm::Inclusive { comments }
}

/// The canonicalisation of `SignedInfo` and the C14N transform after
/// enveloped-signature (`None`: enveloped-signature alone, which leaves the
/// default, Canonical XML 1.0, to turn the node set into octets).
pub(crate) fn c14n_cases() -> Vec<(Algorithm, Option<Algorithm>)> {
    vec![
        (exc(false), Some(exc(false))),
        (exc(true), Some(exc(true))),
        (inc(false), Some(inc(false))),
        (inc(true), Some(inc(true))),
        (exc_default_ns(), Some(exc_default_ns())),
        (inc(false), None),
        (exc(true), Some(inc(false))),
    ]
}

/// What the verifier reports as the reference's canonicalisation: the
/// transform's, without comments (a same-document reference removes them).
pub(crate) fn reference_c14n_uri(transform: &Option<Algorithm>) -> &'static str {
    match transform {
        None | Some(Algorithm::Inclusive { .. }) => inc(false).uri(),
        Some(Algorithm::Exclusive { .. }) => exc(false).uri(),
    }
}

pub(crate) fn uri_of(reference: ReferenceStyle) -> String {
    match reference {
        ReferenceStyle::WholeDocument => String::new(),
        ReferenceStyle::RootId => format!("#{ROOT_ID}"),
    }
}

// ---------------------------------------------------------------------------
// Scratch directory and xmlsec1

/// A fresh directory under the system's temporary directory.
pub(crate) struct Scratch {
    dir: PathBuf,
    files: AtomicUsize,
}

impl Scratch {
    pub(crate) fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "lienthong-xmlsec-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        // create_dir (not create_dir_all) fails if the name is taken.
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        Self { dir, files: AtomicUsize::new(0) }
    }

    /// Writes a new file, numbered so that no two calls share one.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("{n:03}-{name}"));
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Keep the files of a failing test for a look.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `xmlsec1`, after checking once that it runs.
fn xmlsec1() -> Command {
    static VERSION: OnceLock<String> = OnceLock::new();
    let version = VERSION.get_or_init(|| {
        let out = Command::new("xmlsec1").arg("--version").output();
        match out {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            _ => panic!("xmlsec1 is missing: install it with `apt-get install xmlsec1` (xmlsec1 with OpenSSL)"),
        }
    });
    assert!(version.contains("openssl"), "xmlsec1 must use its OpenSSL backend, found {version:?}");
    Command::new("xmlsec1")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whether `xmlsec1 --verify` said the signature verifies.
pub(crate) fn verified_ok(out: &Output) -> bool {
    let err = stderr(out);
    out.status.success() && err.lines().any(|l| l.trim() == "OK") && err.contains("SignedInfo References (ok/all): 1/1")
}

/// The certificate files of a member: key, certificate, and its issuing intermediate.
fn signer_files(f: &Fixture, who: &str) -> (PathBuf, PathBuf, PathBuf) {
    let (key, cert, _) = f.pki.files(who);
    let issuer = f.pki.entry(who)["issuer_file"].as_str().unwrap_or_else(|| panic!("{who} has no issuer_file"));
    (key, cert, f.pki.path(issuer))
}

/// Every root of the dev trust store.
pub(crate) fn roots(f: &Fixture) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = std::fs::read_dir(f.pki.roots())
        .expect("read the roots directory")
        .map(|e| e.expect("a roots entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "pem"))
        .collect();
    roots.sort();
    assert_eq!(roots.len(), 3, "the dev trust store has three roots: {roots:?}");
    roots
}

/// Signs a template with xmlsec1 as `who` (leaf and intermediate certificate
/// into `X509Data`).
pub(crate) fn xmlsec_sign(s: &Scratch, f: &Fixture, who: &str, template: &[u8], reference: ReferenceStyle) -> Vec<u8> {
    let (key, cert, issuer) = signer_files(f, who);
    let tpl = s.write("template.xml", template);
    let out_file = tpl.with_extension("signed.xml");
    let mut cmd = xmlsec1();
    cmd.arg("--sign").arg("--privkey-pem").arg(format!("{},{},{}", key.display(), cert.display(), issuer.display()));
    if reference == ReferenceStyle::RootId {
        cmd.arg("--id-attr:Id").arg(ROOT_ID_ATTR);
    }
    cmd.arg("--output").arg(&out_file).arg(&tpl);
    let out = run(&mut cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}", stderr(&out));
    std::fs::read(&out_file).unwrap_or_else(|e| panic!("read {}: {e}", out_file.display()))
}

/// `xmlsec1 --verify` of a document, trusting `trusted` only.
pub(crate) fn xmlsec_verify_with(
    s: &Scratch,
    doc: &[u8],
    reference: ReferenceStyle,
    trusted: &[PathBuf],
) -> (Output, String) {
    let file = s.write("verify.xml", doc);
    let mut cmd = xmlsec1();
    cmd.arg("--verify");
    for t in trusted {
        cmd.arg("--trusted-pem").arg(t);
    }
    if reference == ReferenceStyle::RootId {
        cmd.arg("--id-attr:Id").arg(ROOT_ID_ATTR);
    }
    cmd.arg(&file);
    let out = run(&mut cmd);
    (out, format!("{cmd:?}"))
}

/// `xmlsec1 --verify` against the dev roots.
pub(crate) fn xmlsec_verify(s: &Scratch, f: &Fixture, doc: &[u8], reference: ReferenceStyle) -> (Output, String) {
    xmlsec_verify_with(s, doc, reference, &roots(f))
}

pub(crate) fn assert_xmlsec_ok(s: &Scratch, f: &Fixture, doc: &[u8], reference: ReferenceStyle, what: &str) {
    let (out, cmd) = xmlsec_verify(s, f, doc, reference);
    assert!(verified_ok(&out), "{what}: xmlsec1 does not verify it ({cmd}, exit {}): {}", out.status, stderr(&out));
}

pub(crate) fn assert_xmlsec_refuses(
    s: &Scratch,
    f: &Fixture,
    doc: &[u8],
    reference: ReferenceStyle,
    what: &str,
) -> String {
    let (out, cmd) = xmlsec_verify(s, f, doc, reference);
    let err = stderr(&out);
    assert!(!out.status.success(), "{what}: xmlsec1 accepts it ({cmd}): {err}");
    assert!(!err.lines().any(|l| l.trim() == "OK"), "{what}: xmlsec1 exits {} yet says OK: {err}", out.status);
    err
}
