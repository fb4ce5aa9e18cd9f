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

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use schemas::c14n::{Algorithm, Document};
use schemas::dsig::{
    parse_signature, sign_xml, verify_xml, DigestAlgorithm, ReferenceStyle, SignatureAlgorithm as A, VerifiedXml,
    XmlSignOptions, DSIG_NS,
};

use crate::support::{example, fixture, now, Fixture};

/// The namespace and local name of the dossier's document element, as
/// `--id-attr:Id` wants them, so that xmlsec1 resolves `#id` to it.
const ROOT_ID_ATTR: &str = "urn:lienthong:hoso:1:HoSo";
/// The `Id` of the document element of khai-tu.xml.
const ROOT_ID: &str = "hs-000.00.21.H41-261120-0312";
/// A field value of khai-tu.xml that occurs once; tampering changes its last digit.
const FIELD: &str = "<SoGiayToChuHoSo>036185002468</SoGiayToChuHoSo>";
const FIELD_TAMPERED: &str = "<SoGiayToChuHoSo>036185002469</SoGiayToChuHoSo>";

/// Every signer and signature method xmlsec1 and the profile share.
const SIGNERS: &[(&str, A)] = &[
    ("portal-hanoi", A::RsaPkcs1Sha256),
    ("portal-hanoi", A::RsaPkcs1Sha384),
    ("portal-hanoi", A::RsaPkcs1Sha512),
    ("mpi", A::RsaPkcs1Sha384),
    ("portal-hcm", A::EcdsaSha256),
    ("portal-danang", A::EcdsaSha384),
];

const REFERENCES: [ReferenceStyle; 2] = [ReferenceStyle::WholeDocument, ReferenceStyle::RootId];

fn exc(comments: bool) -> Algorithm {
    Algorithm::Exclusive { comments, inclusive_prefixes: vec![] }
}

fn exc_default_ns() -> Algorithm {
    Algorithm::Exclusive { comments: false, inclusive_prefixes: vec!["#default".into()] }
}

fn inc(comments: bool) -> Algorithm {
    Algorithm::Inclusive { comments }
}

/// The canonicalisation of `SignedInfo` and the C14N transform after
/// enveloped-signature (`None`: enveloped-signature alone, which leaves the
/// default, Canonical XML 1.0, to turn the node set into octets).
fn c14n_cases() -> Vec<(Algorithm, Option<Algorithm>)> {
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
fn reference_c14n_uri(transform: &Option<Algorithm>) -> &'static str {
    match transform {
        None | Some(Algorithm::Inclusive { .. }) => inc(false).uri(),
        Some(Algorithm::Exclusive { .. }) => exc(false).uri(),
    }
}

fn uri_of(reference: ReferenceStyle) -> String {
    match reference {
        ReferenceStyle::WholeDocument => String::new(),
        ReferenceStyle::RootId => format!("#{ROOT_ID}"),
    }
}

// ---------------------------------------------------------------------------
// Scratch directory and xmlsec1

/// A fresh directory under the system's temporary directory.
struct Scratch {
    dir: PathBuf,
    files: AtomicUsize,
}

impl Scratch {
    fn new(tag: &str) -> Self {
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
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whether `xmlsec1 --verify` said the signature verifies.
fn verified_ok(out: &Output) -> bool {
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
fn roots(f: &Fixture) -> Vec<PathBuf> {
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
fn xmlsec_sign(s: &Scratch, f: &Fixture, who: &str, template: &[u8], reference: ReferenceStyle) -> Vec<u8> {
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
fn xmlsec_verify_with(s: &Scratch, doc: &[u8], reference: ReferenceStyle, trusted: &[PathBuf]) -> (Output, String) {
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
fn xmlsec_verify(s: &Scratch, f: &Fixture, doc: &[u8], reference: ReferenceStyle) -> (Output, String) {
    xmlsec_verify_with(s, doc, reference, &roots(f))
}

fn assert_xmlsec_ok(s: &Scratch, f: &Fixture, doc: &[u8], reference: ReferenceStyle, what: &str) {
    let (out, cmd) = xmlsec_verify(s, f, doc, reference);
    assert!(verified_ok(&out), "{what}: xmlsec1 does not verify it ({cmd}, exit {}): {}", out.status, stderr(&out));
}

fn assert_xmlsec_refuses(s: &Scratch, f: &Fixture, doc: &[u8], reference: ReferenceStyle, what: &str) -> String {
    let (out, cmd) = xmlsec_verify(s, f, doc, reference);
    let err = stderr(&out);
    assert!(!out.status.success(), "{what}: xmlsec1 accepts it ({cmd}): {err}");
    assert!(!err.lines().any(|l| l.trim() == "OK"), "{what}: xmlsec1 exits {} yet says OK: {err}", out.status);
    err
}

// ---------------------------------------------------------------------------
// Templates and documents

/// A signature template for xmlsec1: a `ds:Signature` with empty `DigestValue`
/// and `SignatureValue`, and an empty `X509Data` for xmlsec1 to fill with the
/// certificates it was given.
#[derive(Debug, Clone)]
struct Template {
    method: A,
    digest: DigestAlgorithm,
    signed_info_c14n: Algorithm,
    transform: Option<Algorithm>,
    reference: ReferenceStyle,
    /// Indented over several lines, with a comment in `SignedInfo` (which
    /// `SignedInfo` canonicalisation with comments must keep).
    decorated: bool,
}

const SIGNED_INFO_COMMENT: &str = "<!-- ký bởi xmlsec1 -->";

impl Template {
    fn new(method: A, signed_info_c14n: Algorithm, transform: Option<Algorithm>, reference: ReferenceStyle) -> Self {
        Self { method, digest: method.digest(), signed_info_c14n, transform, reference, decorated: false }
    }

    fn xml(&self) -> String {
        let (nl, i1, i2, i3, i4) =
            if self.decorated { ("\n", "  ", "    ", "      ", "        ") } else { ("", "", "", "", "") };
        let mut x = String::new();
        x.push_str(&format!("{i1}<ds:Signature xmlns:ds=\"{DSIG_NS}\">{nl}"));
        x.push_str(&format!("{i2}<ds:SignedInfo>{nl}"));
        if self.decorated {
            x.push_str(&format!("{i3}{SIGNED_INFO_COMMENT}{nl}"));
        }
        x.push_str(&format!("{i3}{}{nl}", c14n_element("CanonicalizationMethod", &self.signed_info_c14n)));
        x.push_str(&format!("{i3}<ds:SignatureMethod Algorithm=\"{}\"/>{nl}", self.method.uri()));
        x.push_str(&format!("{i3}<ds:Reference URI=\"{}\">{nl}", uri_of(self.reference)));
        x.push_str(&format!("{i4}<ds:Transforms>{nl}"));
        x.push_str(&format!(
            "{i4}  <ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>{nl}"
        ));
        if let Some(t) = &self.transform {
            x.push_str(&format!("{i4}  {}{nl}", c14n_element("Transform", t)));
        }
        x.push_str(&format!("{i4}</ds:Transforms>{nl}"));
        x.push_str(&format!("{i4}<ds:DigestMethod Algorithm=\"{}\"/>{nl}", self.digest.uri()));
        x.push_str(&format!("{i4}<ds:DigestValue></ds:DigestValue>{nl}"));
        x.push_str(&format!("{i3}</ds:Reference>{nl}"));
        x.push_str(&format!("{i2}</ds:SignedInfo>{nl}"));
        x.push_str(&format!("{i2}<ds:SignatureValue></ds:SignatureValue>{nl}"));
        x.push_str(&format!("{i2}<ds:KeyInfo>{nl}{i3}<ds:X509Data/>{nl}{i2}</ds:KeyInfo>{nl}"));
        x.push_str(&format!("{i1}</ds:Signature>{nl}"));
        x
    }

    /// The dossier with this template appended as the last child of its root.
    fn apply(&self, doc: &[u8]) -> Vec<u8> {
        insert_before_root_end(doc, &self.xml())
    }
}

fn c14n_element(name: &str, alg: &Algorithm) -> String {
    match alg {
        Algorithm::Exclusive { inclusive_prefixes, .. } if !inclusive_prefixes.is_empty() => format!(
            "<ds:{name} Algorithm=\"{}\"><ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"{}\"/></ds:{name}>",
            alg.uri(),
            inclusive_prefixes.join(" ")
        ),
        _ => format!("<ds:{name} Algorithm=\"{}\"/>", alg.uri()),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    (0..hay.len().saturating_sub(needle.len() - 1)).filter(|&i| hay[i..].starts_with(needle)).collect()
}

fn insert_before_root_end(doc: &[u8], what: &str) -> Vec<u8> {
    let at = *find(doc, b"</HoSo>").last().expect("the dossier ends with </HoSo>");
    [&doc[..at], what.as_bytes(), &doc[at..]].concat()
}

/// Replaces the one occurrence of `from`.
fn replace_once(doc: &[u8], from: &str, to: &str) -> Vec<u8> {
    let hits = find(doc, from.as_bytes());
    assert_eq!(hits.len(), 1, "{from:?} must occur exactly once, found {}", hits.len());
    [&doc[..hits[0]], to.as_bytes(), &doc[hits[0] + from.len()..]].concat()
}

/// Changes one character inside the `SignatureValue` (keeping it valid base64).
fn tamper_signature_value(doc: &[u8]) -> Vec<u8> {
    let start = find(doc, b"SignatureValue>")[0] + "SignatureValue>".len();
    let mut out = doc.to_vec();
    let i = (start + 10..start + 40).find(|&i| out[i].is_ascii_alphanumeric()).expect("base64 in SignatureValue");
    out[i] = if out[i] == b'A' { b'B' } else { b'A' };
    out
}

/// khai-tu.xml with comments and unusual but insignificant whitespace through it:
/// comments between fields (one holding markup that must not be read), blank
/// lines and tabs between elements, spaces inside tags and around `=`, a comment
/// after the document element, CRLF line ends.
fn dossier_with_comments() -> Vec<u8> {
    let mut d = String::from_utf8(example("khai-tu.xml")).expect("UTF-8");
    let edits = [
        (
            format!("<HoSo xmlns=\"urn:lienthong:hoso:1\" Id=\"{ROOT_ID}\">"),
            format!("<HoSo\n    xmlns=\"urn:lienthong:hoso:1\"\n    Id = '{ROOT_ID}' >\n  <!-- hồ sơ khai tử, bản có chú thích -->"),
        ),
        ("<MaHoSo>".into(), "<!---->\n\n\t<MaHoSo >".into()),
        ("</MaTTHC>".into(), "</MaTTHC >\n  <!-- <TenTTHC>Thủ tục giả mạo</TenTTHC> -->".into()),
        ("<ChuHoSo>".into(), "<!-- người nộp --><ChuHoSo\t>".into()),
        ("<TaiLieuNop>".into(), "<TaiLieuNop>\n    <!-- hai tệp đính kèm -->\n\n".into()),
        ("    </TepDinhKem>\n  </TaiLieuNop>".into(), "    </TepDinhKem>   \t\n  <!-- hết tệp -->\n  </TaiLieuNop>".into()),
        ("</HoSo>".into(), "<!-- cuối hồ sơ -->\n</HoSo>\n<!-- sau phần tử gốc -->".into()),
    ];
    for (from, to) in edits {
        assert_eq!(d.matches(&from).count(), 1, "{from:?} occurs once in khai-tu.xml");
        d = d.replacen(&from, &to, 1);
    }
    d.replace('\n', "\r\n").into_bytes()
}

/// Checks what `verify_xml` says of a document xmlsec1 signed.
fn check_gateway_accepts(
    f: &Fixture,
    signed: &[u8],
    original: &[u8],
    who: &str,
    t: &Template,
    label: &str,
) -> VerifiedXml {
    // xmlsec1 kept the template and filled in both certificates.
    let parsed = Document::parse(signed).unwrap_or_else(|e| panic!("{label}: xmlsec1's output does not parse: {e}"));
    let info = parse_signature(&parsed)
        .unwrap_or_else(|e| panic!("{label}: xmlsec1's signature is outside the profile: {e}"))
        .expect("the document is signed");
    assert_eq!(info.certificates.len(), 2, "{label}: X509Data holds the leaf and the intermediate");
    assert_eq!(info.c14n, t.signed_info_c14n, "{label}");
    assert_eq!(info.digest, t.digest, "{label}");
    assert_eq!(info.reference_uri, uri_of(t.reference), "{label}");

    let v = verify_xml(signed, &f.store, &now())
        .unwrap_or_else(|e| panic!("{label}: the gateway refuses xmlsec1's signature: {e} ({})", e.code()))
        .expect("the document is signed");
    assert_eq!(v.algorithm, t.method, "{label}");
    assert_eq!(v.signer.cert.common_name.as_deref(), Some(who), "{label}");
    assert_eq!(v.reference_uri, uri_of(t.reference), "{label}");
    assert_eq!(v.c14n, reference_c14n_uri(&t.transform), "{label}");
    let expected = schemas::dossier_from_xml(original).expect("the original is a valid dossier");
    let read = schemas::dossier_from_xml(&v.signed_octets)
        .unwrap_or_else(|e| panic!("{label}: the signed octets are not a dossier: {e}"));
    assert_eq!(read, expected, "{label}: the dossier read from the signed octets differs from the original");
    v
}

// ---------------------------------------------------------------------------
// 1. xmlsec1 signs, the gateway verifies

#[test]
fn xmlsec1_signatures_verify_under_every_method_canonicalisation_and_reference() {
    let f = fixture();
    let s = Scratch::new("sign");
    let doc = example("khai-tu.xml");
    let mut n = 0;
    for &(who, method) in SIGNERS {
        for (si, transform) in c14n_cases() {
            for reference in REFERENCES {
                let t = Template::new(method, si.clone(), transform.clone(), reference);
                let label = format!("xmlsec1 {who} {} {t:?}", method.name());
                let signed = xmlsec_sign(&s, &f, who, &t.apply(&doc), reference);
                check_gateway_accepts(&f, &signed, &doc, who, &t, &label);
                n += 1;
            }
        }
    }
    assert_eq!(n, SIGNERS.len() * c14n_cases().len() * 2);
}

#[test]
fn xmlsec1_signatures_with_a_digest_other_than_the_methods_verify() {
    let f = fixture();
    let s = Scratch::new("digest");
    let doc = example("khai-tu.xml");
    let cases = [
        ("portal-hanoi", A::RsaPkcs1Sha256, DigestAlgorithm::Sha512),
        ("portal-hanoi", A::RsaPkcs1Sha512, DigestAlgorithm::Sha256),
        ("portal-hcm", A::EcdsaSha256, DigestAlgorithm::Sha384),
        ("portal-danang", A::EcdsaSha384, DigestAlgorithm::Sha256),
    ];
    for (who, method, digest) in cases {
        for reference in REFERENCES {
            let t = Template { digest, ..Template::new(method, exc(false), Some(exc(false)), reference) };
            let label = format!("xmlsec1 {who} {t:?}");
            let signed = xmlsec_sign(&s, &f, who, &t.apply(&doc), reference);
            check_gateway_accepts(&f, &signed, &doc, who, &t, &label);
        }
    }
}

/// A dossier full of comments and odd whitespace, signed from an indented
/// template with a comment in `SignedInfo`: the reference never covers comments
/// (a same-document reference removes them before the C14N transform, with or
/// without comments), `SignedInfo` canonicalised with comments covers its
/// comment. Both implementations must agree on every one of these.
#[test]
fn xmlsec1_signatures_over_comments_and_whitespace_agree_on_what_is_covered() {
    let f = fixture();
    let s = Scratch::new("comments");
    let doc = dossier_with_comments();
    assert_eq!(
        schemas::dossier_from_xml(&doc).expect("the commented dossier is valid"),
        schemas::dossier_from_xml(&example("khai-tu.xml")).expect("khai-tu.xml is valid"),
        "comments and whitespace change nothing in the dossier"
    );
    let signers = [("portal-hanoi", A::RsaPkcs1Sha256), ("portal-danang", A::EcdsaSha384)];
    let cases = [
        (exc(true), Some(exc(true))),
        (inc(true), Some(inc(true))),
        (inc(true), None),
        (exc(false), Some(exc(true))),
        (exc(false), Some(exc(false))),
        (inc(false), Some(inc(false))),
    ];
    for (who, method) in signers {
        for (si, transform) in &cases {
            for reference in REFERENCES {
                let t = Template { decorated: true, ..Template::new(method, si.clone(), transform.clone(), reference) };
                let label = format!("xmlsec1 {who} {} {t:?} over comments", method.name());
                let signed = xmlsec_sign(&s, &f, who, &t.apply(&doc), reference);
                assert_eq!(find(&signed, SIGNED_INFO_COMMENT.as_bytes()).len(), 1, "{label}: xmlsec1 kept the comment");
                let v = check_gateway_accepts(&f, &signed, &doc, who, &t, &label);
                assert!(find(&v.signed_octets, b"<!--").is_empty(), "{label}: the reference covers no comment");
                // Canonical: line ends normalised, no whitespace left inside tags.
                assert!(!v.signed_octets.contains(&b'\r'), "{label}: a CR in the signed octets");
                assert!(find(&v.signed_octets, b" >").is_empty(), "{label}: whitespace in a tag of the signed octets");
                assert_eq!(find(&v.signed_octets, b"<MaHoSo>").len(), 1, "{label}");
                assert_xmlsec_ok(&s, &f, &signed, reference, &label);

                // A comment in the dossier is not covered: changing it breaks neither side.
                let changed = replace_once(&signed, "<!-- người nộp -->", "<!-- người nộp: đã sửa -->");
                verify_xml(&changed, &f.store, &now())
                    .unwrap_or_else(|e| panic!("{label}: a changed comment in the dossier: {e} ({})", e.code()))
                    .expect("signed");
                assert_xmlsec_ok(&s, &f, &changed, reference, &format!("{label}, a changed comment in the dossier"));

                // The comment in SignedInfo is covered exactly when SignedInfo is
                // canonicalised with comments.
                let changed = replace_once(&signed, SIGNED_INFO_COMMENT, "<!-- ký bởi ai khác -->");
                let ours = verify_xml(&changed, &f.store, &now());
                let (theirs, cmd) = xmlsec_verify(&s, &f, &changed, reference);
                if si.with_comments() {
                    let e = ours.expect_err(&format!("{label}: a changed comment in SignedInfo is accepted"));
                    assert_eq!(e.code(), "signature_invalid", "{label}: {e}");
                    assert!(!theirs.status.success(), "{label}: xmlsec1 accepts a changed SignedInfo ({cmd})");
                } else {
                    ours.unwrap_or_else(|e| panic!("{label}: a changed comment in SignedInfo: {e} ({})", e.code()))
                        .expect("signed");
                    assert!(verified_ok(&theirs), "{label}: {cmd}: {}", stderr(&theirs));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 2. The gateway signs, xmlsec1 verifies

fn sign_c14n_variants() -> Vec<Algorithm> {
    vec![exc(false), exc(true), exc_default_ns(), inc(false), inc(true)]
}

#[test]
fn gateway_signatures_verify_with_xmlsec1() {
    let f = fixture();
    let s = Scratch::new("verify");
    let docs = [("khai-tu.xml", example("khai-tu.xml")), ("khai-tu.xml with comments", dossier_with_comments())];
    let mut n = 0;
    for (name, doc) in &docs {
        for &(who, alg) in SIGNERS {
            let id = f.identity_with(who, alg);
            for c14n in sign_c14n_variants() {
                for reference in REFERENCES {
                    let label = format!("sign_xml {name} {who} {} {c14n:?} {reference:?}", alg.name());
                    let opts = XmlSignOptions { c14n: c14n.clone(), reference };
                    let signed = sign_xml(doc, &id, &opts).unwrap_or_else(|e| panic!("{label}: {e}"));
                    assert_xmlsec_ok(&s, &f, &signed, reference, &label);
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, docs.len() * SIGNERS.len() * sign_c14n_variants().len() * 2);
}

/// xmlsec1 builds the chain from the certificates of `X509Data` up to a root it
/// trusts: with only another root trusted, or none, it refuses what it accepts
/// with the right one.
#[test]
fn xmlsec1_refuses_a_gateway_signature_without_its_root() {
    let f = fixture();
    let s = Scratch::new("anchor");
    let doc = example("khai-tu.xml");
    for (who, alg, root) in [
        ("portal-hanoi", A::RsaPkcs1Sha256, "roots/national-root-old.pem"),
        ("portal-hcm", A::EcdsaSha256, "roots/national-root-2025.pem"),
        ("mpi", A::RsaPkcs1Sha512, "roots/government-ca.pem"),
    ] {
        let signed = sign_xml(&doc, &f.identity_with(who, alg), &XmlSignOptions::default()).expect("sign");
        let reference = ReferenceStyle::WholeDocument;
        let (out, cmd) = xmlsec_verify_with(&s, &signed, reference, &[f.pki.path(root)]);
        assert!(verified_ok(&out), "{who} under {root} alone ({cmd}): {}", stderr(&out));
        let others: Vec<PathBuf> = roots(&f).into_iter().filter(|p| !p.ends_with(root)).collect();
        assert_eq!(others.len(), 2);
        for trusted in [others, vec![]] {
            let (out, cmd) = xmlsec_verify_with(&s, &signed, reference, &trusted);
            let err = stderr(&out);
            assert!(!out.status.success(), "{who} without {root}: xmlsec1 accepts it ({cmd}): {err}");
            assert!(err.contains("certificate verification failed"), "{who} without {root} ({cmd}): {err}");
        }
    }
}

/// The PEM of a CRL file as the base64 of an `X509CRL` element.
fn crl_base64(path: &Path) -> String {
    let pem = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// Adds every dev CRL to the signature's `X509Data` (not covered by the signature).
fn with_crls(f: &Fixture, signed: &[u8]) -> Vec<u8> {
    let mut crls: Vec<PathBuf> =
        std::fs::read_dir(f.pki.crls()).expect("read the CRL directory").map(|e| e.expect("a CRL").path()).collect();
    crls.sort();
    assert_eq!(crls.len(), 6, "a CRL for every root and intermediate: {crls:?}");
    let elements: String = crls.iter().map(|c| format!("<ds:X509CRL>{}</ds:X509CRL>", crl_base64(c))).collect();
    replace_once(signed, "</ds:X509Data>", &format!("{elements}</ds:X509Data>"))
}

/// xmlsec1 1.2.37 has no `--crl-pem`; it takes CRLs from `X509Data` and checks
/// each one's signature against its trusted certificates only, so here the
/// intermediates are trusted too. It then refuses the revoked member, as the
/// gateway does, and accepts a valid one.
#[test]
fn xmlsec1_honours_a_crl_and_agrees_on_a_revoked_signer() {
    let f = fixture();
    let s = Scratch::new("crl");
    let doc = example("khai-tu.xml");
    let mut trusted = roots(&f);
    for i in ["national-old-signing", "national-2025-signing", "government-signing"] {
        trusted.push(f.pki.path(&format!("intermediates/{i}.pem")));
    }
    for reference in REFERENCES {
        let opts = XmlSignOptions { reference, ..XmlSignOptions::default() };

        let valid = sign_xml(&doc, &f.identity("portal-hanoi"), &opts).expect("sign");
        let valid = with_crls(&f, &valid);
        verify_xml(&valid, &f.store, &now()).expect("the gateway ignores X509CRL").expect("signed");
        let (out, cmd) = xmlsec_verify_with(&s, &valid, reference, &trusted);
        assert!(verified_ok(&out), "portal-hanoi with the CRLs ({cmd}): {}", stderr(&out));

        let revoked = sign_xml(&doc, &f.identity("portal-revoked"), &opts).expect("a revoked key still signs");
        let e = verify_xml(&revoked, &f.store, &now()).expect_err("the gateway accepts a revoked signer");
        assert_eq!(e.code(), "certificate_revoked", "{e}");
        // Without the CRL xmlsec1 has no way to know ...
        let (out, cmd) = xmlsec_verify_with(&s, &revoked, reference, &trusted);
        assert!(verified_ok(&out), "portal-revoked without CRLs ({cmd}): {}", stderr(&out));
        // ... with it, it refuses the signer.
        let (out, cmd) = xmlsec_verify_with(&s, &with_crls(&f, &revoked), reference, &trusted);
        let err = stderr(&out);
        assert!(!out.status.success(), "portal-revoked with the CRLs: xmlsec1 accepts it ({cmd}): {err}");
        assert!(err.contains("certificate is revoked"), "portal-revoked with the CRLs ({cmd}): {err}");
    }
}

// ---------------------------------------------------------------------------
// 3. Both sides really check

#[test]
fn a_dossier_tampered_after_xmlsec1_signed_it_is_refused_by_the_gateway() {
    let f = fixture();
    let s = Scratch::new("tamper-in");
    let doc = example("khai-tu.xml");
    for &(who, method) in SIGNERS {
        for (si, transform) in [(exc(false), Some(exc(false))), (inc(true), Some(inc(true)))] {
            for reference in REFERENCES {
                let t = Template::new(method, si.clone(), transform.clone(), reference);
                let label = format!("xmlsec1 {who} {} {t:?}", method.name());
                let signed = xmlsec_sign(&s, &f, who, &t.apply(&doc), reference);
                check_gateway_accepts(&f, &signed, &doc, who, &t, &label);

                let tampered = replace_once(&signed, FIELD, FIELD_TAMPERED);
                let e = verify_xml(&tampered, &f.store, &now())
                    .expect_err(&format!("{label}: the gateway accepts a tampered dossier"));
                assert_eq!(e.code(), "signature_digest_mismatch", "{label}: {e}");
                // It is a real change: xmlsec1 refuses it too.
                assert_xmlsec_refuses(&s, &f, &tampered, reference, &format!("{label}, tampered"));

                let tampered = tamper_signature_value(&signed);
                let e = verify_xml(&tampered, &f.store, &now())
                    .expect_err(&format!("{label}: the gateway accepts a tampered signature value"));
                assert_eq!(e.code(), "signature_invalid", "{label}: {e}");
            }
        }
    }
}

#[test]
fn a_dossier_tampered_after_the_gateway_signed_it_is_refused_by_xmlsec1() {
    let f = fixture();
    let s = Scratch::new("tamper-out");
    let doc = example("khai-tu.xml");
    for &(who, alg) in SIGNERS {
        let id = f.identity_with(who, alg);
        for c14n in [exc(false), inc(true)] {
            for reference in REFERENCES {
                let label = format!("sign_xml {who} {} {c14n:?} {reference:?}", alg.name());
                let signed = sign_xml(&doc, &id, &XmlSignOptions { c14n: c14n.clone(), reference }).expect("sign");
                assert_xmlsec_ok(&s, &f, &signed, reference, &label);

                let tampered = replace_once(&signed, FIELD, FIELD_TAMPERED);
                let err = assert_xmlsec_refuses(&s, &f, &tampered, reference, &format!("{label}, tampered dossier"));
                assert!(
                    err.contains("SignedInfo References (ok/all): 0/1"),
                    "{label}: xmlsec1 refuses the tampered dossier for its digest: {err}"
                );
                let e = verify_xml(&tampered, &f.store, &now()).expect_err("the gateway accepts it");
                assert_eq!(e.code(), "signature_digest_mismatch", "{label}: {e}");

                let tampered = tamper_signature_value(&signed);
                assert_xmlsec_refuses(&s, &f, &tampered, reference, &format!("{label}, tampered signature value"));
            }
        }
    }
}
