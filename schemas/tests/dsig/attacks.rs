//! Every attack on an enveloped XML signature, and every refused signer, is
//! refused with its own stable code. Each family is a table of cases built from
//! a document signed by a trusted member; the last test runs every table again
//! and checks that every XML-relevant code of [`SigError::CODES`] was produced.
//!
//! Cases that change `SignedInfo` are re-signed with the member's key when the
//! point is that the profile, not the signature value, refuses them ("resealed"):
//! the refusal must hold even for a signature the signer really made. Keys the
//! library will not load (RSA-1024) sign through `openssl dgst`; CRL updates are
//! issued by `openssl ca` on a scratch copy of a dev CA's state.
//!
//! `openssl_sign`, `chain_b64` and `Scratch` are shared with `jws.rs`.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use schemas::c14n::{Algorithm, Document, NodeId};
use schemas::dsig::{sign_xml, verify_xml, DigestAlgorithm, ReferenceStyle, SigError, XmlSignOptions, DSIG_NS};
use schemas::pki::{RevocationPolicy, SignerBinding, SigningIdentity, TrustStore};

use crate::support::{example, fixture, now, Fixture};

/// The example every case starts from, and its document element's `Id`.
const EXAMPLE: &str = "khai-tu.xml";
const ROOT_ID: &str = "hs-000.00.21.H41-261120-0312";

// Pieces of a signature as `sign_xml` writes it with the default options.
const CM_EXC: &str = r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#;
const SM_RSA_SHA256: &str = r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>"#;
const SM_ECDSA_SHA256: &str =
    r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>"#;
const T_ENVELOPED: &str = r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#;
const T_EXC: &str = r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#;
const DM_SHA256: &str = r#"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>"#;

/// XML-relevant codes no XML input can produce: they belong to JWS or to the
/// gateway's own checks after verification.
const NOT_XML: &[&str] = &[
    "signature_algorithm_none",   // JWS alg "none"
    "signature_crit_unsupported", // JWS crit
    "signature_time_in_future",   // JWS iat (XML carries no signing time the verifier reads)
    "signer_not_bound",           // the gateway's member binding
    "signature_required",         // the gateway's policy
];

// ---------------------------------------------------------------------------
// Cases and how they are run

/// Which trust store a case is verified against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    /// Every dev root and every CRL, revocation required (the fixture's).
    Dev,
    /// Every dev root, no CRL loaded, revocation required.
    NoCrls,
    /// Every dev root, only the roots' CRLs (none for the intermediates), revocation required.
    RootCrlsOnly,
    /// Every dev root, no CRL loaded, best-effort revocation.
    BestEffortNoCrls,
    /// Every dev root and every CRL, best-effort revocation.
    BestEffort,
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Refused with exactly this code.
    Code(&'static str),
    /// Refused with one of these codes (where the library may legitimately pick either).
    OneOf(&'static [&'static str]),
    /// Verifies, signed by the certificate with this CN.
    Verifies(&'static str),
}

struct Case {
    name: String,
    xml: Vec<u8>,
    store: Store,
    expect: Expect,
}

fn case(name: &str, xml: impl Into<Vec<u8>>, expect: &'static str) -> Case {
    Case { name: name.to_owned(), xml: xml.into(), store: Store::Dev, expect: Expect::Code(expect) }
}

fn accepted(name: &str, xml: impl Into<Vec<u8>>, cn: &'static str) -> Case {
    Case { name: name.to_owned(), xml: xml.into(), store: Store::Dev, expect: Expect::Verifies(cn) }
}

impl Case {
    fn against(mut self, store: Store) -> Self {
        self.store = store;
        self
    }
}

struct Stores<'a> {
    f: &'a Fixture,
    no_crls: TrustStore,
    root_crls: TrustStore,
    best_effort_no_crls: TrustStore,
    best_effort: TrustStore,
}

impl<'a> Stores<'a> {
    fn new(f: &'a Fixture) -> Self {
        let load = |p| TrustStore::load(&[f.pki.roots()], p).expect("load the dev roots");
        let root_crls = load(RevocationPolicy::Require);
        let roots: Vec<PathBuf> = ["national-root-old", "national-root-2025", "government-ca"]
            .iter()
            .map(|r| f.pki.path(&format!("crl/{r}.crl.pem")))
            .collect();
        assert_eq!(root_crls.reload_crls(&roots).expect("load the roots' CRLs"), 3);
        let best_effort = load(RevocationPolicy::BestEffort);
        assert!(best_effort.reload_crls(&[f.pki.crls()]).expect("load the CRLs") >= 6);
        Self {
            f,
            no_crls: load(RevocationPolicy::Require),
            root_crls,
            best_effort_no_crls: load(RevocationPolicy::BestEffort),
            best_effort,
        }
    }

    fn get(&self, s: Store) -> &TrustStore {
        match s {
            Store::Dev => &self.f.store,
            Store::NoCrls => &self.no_crls,
            Store::RootCrlsOnly => &self.root_crls,
            Store::BestEffortNoCrls => &self.best_effort_no_crls,
            Store::BestEffort => &self.best_effort,
        }
    }
}

/// Runs the cases; panics listing every case whose outcome is not the expected
/// one (an accepted attack first of all). Returns the codes produced.
fn run(f: &Fixture, cases: Vec<Case>) -> BTreeSet<&'static str> {
    let stores = Stores::new(f);
    let opts = now();
    let mut produced = BTreeSet::new();
    let mut wrong = Vec::new();
    let mut names = BTreeSet::new();
    for c in &cases {
        assert!(names.insert(c.name.clone()), "two cases named {:?}", c.name);
        let outcome = verify_xml(&c.xml, stores.get(c.store), &opts);
        match (&outcome, c.expect) {
            (Err(e), Expect::Code(want)) if e.code() == want => {
                produced.insert(e.code());
            }
            (Err(e), Expect::OneOf(set)) if set.contains(&e.code()) => {
                println!("{}: refused with {}", c.name, e.code());
                produced.insert(e.code());
            }
            (Ok(Some(v)), Expect::Verifies(cn)) if v.signer.cert.common_name.as_deref() == Some(cn) => {}
            (Err(e), _) => wrong.push(format!("{}: expected {:?}, refused with {} ({e})", c.name, c.expect, e.code())),
            (Ok(Some(v)), _) => wrong
                .push(format!("{}: expected {:?}, but ACCEPTED (signer {})", c.name, c.expect, v.signer.cert.subject)),
            (Ok(None), _) => {
                wrong.push(format!("{}: expected {:?}, but read as an unsigned document", c.name, c.expect))
            }
        }
    }
    println!("{} cases, codes {produced:?}", cases.len());
    assert!(wrong.is_empty(), "{} of {} cases went wrong:\n  {}", wrong.len(), cases.len(), wrong.join("\n  "));
    produced
}

// ---------------------------------------------------------------------------
// Building signed documents and tampering with them

fn exc() -> Algorithm {
    Algorithm::Exclusive { comments: false, inclusive_prefixes: vec![] }
}

/// The example signed by `who` with the default options and a reference style.
fn signed_by(id: &SigningIdentity, style: ReferenceStyle) -> String {
    let opts = XmlSignOptions { reference: style, ..XmlSignOptions::default() };
    String::from_utf8(sign_xml(&example(EXAMPLE), id, &opts).expect("sign")).expect("UTF-8")
}

fn signed(f: &Fixture, who: &str, style: ReferenceStyle) -> String {
    signed_by(&f.identity(who), style)
}

/// `s` with the one occurrence of `from` replaced (panics unless there is exactly one,
/// so that a case can never silently test the untampered document).
fn replace_once(s: &str, from: &str, to: &str) -> String {
    assert_eq!(s.matches(from).count(), 1, "expected exactly one {from:?}");
    s.replacen(from, to, 1)
}

/// The byte range of the first `<tag ...>...</tag>` (or `<tag .../>`) in `s`.
fn element_range(s: &str, tag: &str) -> std::ops::Range<usize> {
    let open = format!("<{tag}");
    let start = s
        .match_indices(&open)
        .map(|(i, _)| i)
        .find(|&i| matches!(s.as_bytes().get(i + open.len()), Some(b' ' | b'>' | b'/')))
        .unwrap_or_else(|| panic!("no <{tag}> in the document"));
    let start_tag_end = start + s[start..].find('>').expect("the end of the start tag") + 1;
    if s[..start_tag_end].ends_with("/>") {
        return start..start_tag_end;
    }
    let close = format!("</{tag}>");
    let end = start_tag_end + s[start_tag_end..].find(&close).unwrap_or_else(|| panic!("no </{tag}>")) + close.len();
    start..end
}

fn element<'a>(s: &'a str, tag: &str) -> &'a str {
    &s[element_range(s, tag)]
}

/// `s` without its first `<tag>` element; and that element.
fn cut(s: &str, tag: &str) -> (String, String) {
    let r = element_range(s, tag);
    (format!("{}{}", &s[..r.start], &s[r.end..]), s[r].to_owned())
}

/// Sets the text content of the first `<tag>` element.
fn set_text(s: &str, tag: &str, value: &str) -> String {
    let r = element_range(s, tag);
    let inner_start = r.start + s[r.clone()].find('>').expect("start tag") + 1;
    let inner_end = r.end - tag.len() - 3;
    format!("{}{value}{}", &s[..inner_start], &s[inner_end..])
}

fn text_of<'a>(s: &'a str, tag: &str) -> &'a str {
    let e = element(s, tag);
    &e[e.find('>').expect("start tag") + 1..e.len() - tag.len() - 3]
}

fn find(doc: &Document, local: &str) -> NodeId {
    doc.descendants(doc.document())
        .find(|n| doc.name(*n) == Some((DSIG_NS, local)))
        .unwrap_or_else(|| panic!("no ds:{local}"))
}

fn find_id(doc: &Document, id: &str) -> NodeId {
    doc.descendants(doc.document())
        .find(|n| ["Id", "ID", "id"].iter().any(|a| doc.attribute(*n, "", a) == Some(id)))
        .unwrap_or_else(|| panic!("no element with ID {id}"))
}

/// The signature value recomputed over the current SignedInfo with `sign`.
fn reseal_with(xml: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let doc = Document::parse(xml.as_bytes()).expect("the edited document parses");
    let si = find(&doc, "SignedInfo");
    let alg = doc
        .child_elements(si)
        .next()
        .and_then(|cm| doc.attribute(cm, "", "Algorithm"))
        .and_then(|uri| Algorithm::from_uri(uri).ok())
        .unwrap_or_else(exc);
    let value = sign(&doc.canonicalize(si, None, &alg));
    set_text(xml, "ds:SignatureValue", &B64.encode(value))
}

/// Re-signed with a member's key: the signature value is genuine for the edited SignedInfo.
fn reseal(xml: &str, id: &SigningIdentity) -> String {
    reseal_with(xml, |b| id.sign(b).expect("sign SignedInfo"))
}

/// The digest the current Reference would need over the current content
/// (exclusive C14N, without the signature).
fn digest_for(xml: &str) -> String {
    let doc = Document::parse(xml.as_bytes()).expect("the edited document parses");
    let sig = find(&doc, "Signature");
    let uri = doc.attribute(find(&doc, "Reference"), "", "URI").expect("a URI").to_owned();
    let apex = match uri.strip_prefix('#') {
        None => doc.document(),
        Some(id) => find_id(&doc, id),
    };
    let dm = doc.attribute(find(&doc, "DigestMethod"), "", "Algorithm").expect("a DigestMethod");
    let alg = DigestAlgorithm::from_uri(dm).expect("an accepted digest");
    B64.encode(alg.digest(&doc.canonicalize(apex, Some(sig), &exc())))
}

/// The DigestValue fixed to match the current content (the signature value is not).
fn redigest(xml: &str) -> String {
    set_text(xml, "ds:DigestValue", &digest_for(xml))
}

/// The base64 DER certificates of a PEM chain file of the dev PKI.
pub(crate) fn chain_b64(path: &Path) -> Vec<String> {
    let pem = std::fs::read(path).expect("read the chain");
    CertificateDer::pem_slice_iter(&pem).map(|c| B64.encode(c.expect("a PEM certificate").as_ref())).collect()
}

fn key_info(certs: &[String]) -> String {
    let mut s = String::from("<ds:KeyInfo><ds:X509Data>");
    for c in certs {
        s.push_str(&format!("<ds:X509Certificate>{c}</ds:X509Certificate>"));
    }
    s.push_str("</ds:X509Data></ds:KeyInfo>");
    s
}

/// `xml` with its KeyInfo replaced.
fn with_key_info(xml: &str, new: &str) -> String {
    let r = element_range(xml, "ds:KeyInfo");
    format!("{}{new}{}", &xml[..r.start], &xml[r.end..])
}

/// Signs `data` with `openssl dgst` (RSA: PKCS#1 v1.5), for keys the library refuses to load.
pub(crate) fn openssl_sign(key: &Path, digest: &str, data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(["dgst", &format!("-{digest}"), "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl");
    child.stdin.take().expect("stdin").write_all(data).expect("write to openssl");
    let out = child.wait_with_output().expect("openssl output");
    assert!(out.status.success(), "openssl dgst failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A fresh temporary directory: removed when the test passes, kept when it fails.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(what: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "lienthong-dsig-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        Self(dir)
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write a temporary file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("temporary files kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

// ---------------------------------------------------------------------------
// Tampered content and tampered SignedInfo

fn tampering_cases(f: &Fixture) -> Vec<Case> {
    let whole = signed(f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let by_id = signed(f, "portal-hanoi", ReferenceStyle::RootId);
    let ec = signed(f, "portal-hcm", ReferenceStyle::WholeDocument);
    let field = "<ChuHoSo>Phạm Thị Lan</ChuHoSo>";
    let forged = "<ChuHoSo>Nguyễn Văn Gian</ChuHoSo>";
    let mut cases = vec![
        accepted("baseline URI=\"\"", whole.clone(), "portal-hanoi"),
        accepted("baseline URI=#id", by_id.clone(), "portal-hanoi"),
        accepted("baseline ECDSA", ec.clone(), "portal-hcm"),
        // Content changed after signing.
        case("field value changed (URI=\"\")", replace_once(&whole, field, forged), "signature_digest_mismatch"),
        case("field value changed (URI=#id)", replace_once(&by_id, field, forged), "signature_digest_mismatch"),
        case("field value changed (ECDSA)", replace_once(&ec, field, forged), "signature_digest_mismatch"),
        case("fee changed", replace_once(&whole, "<Gia>0</Gia>", "<Gia>1500000</Gia>"), "signature_digest_mismatch"),
        case(
            "element added",
            replace_once(&whole, "<TaiLieuNop>", "<TaiLieuNop><TepDinhKem><TepDinhKemId>X</TepDinhKemId></TepDinhKem>"),
            "signature_digest_mismatch",
        ),
        case(
            "element removed",
            replace_once(&whole, "<Email>phamthilan.hh@example.vn</Email>", ""),
            "signature_digest_mismatch",
        ),
        case(
            "attribute added to the root",
            replace_once(&whole, &format!("Id=\"{ROOT_ID}\""), &format!("Id=\"{ROOT_ID}\" Uu_Tien=\"1\"")),
            "signature_digest_mismatch",
        ),
        case(
            "whitespace in a value changed",
            replace_once(&whole, "<SoDienThoai>0915 246 810</SoDienThoai>", "<SoDienThoai>0915  246 810</SoDienThoai>"),
            "signature_digest_mismatch",
        ),
        case(
            "processing instruction after the root (URI=\"\" covers it)",
            format!("{whole}<?lienthong route=evil?>"),
            "signature_digest_mismatch",
        ),
        // SignedInfo changed: the signature value no longer covers it.
        case(
            "content changed and DigestValue fixed to match",
            redigest(&replace_once(&whole, field, forged)),
            "signature_invalid",
        ),
        case(
            "content changed and DigestValue fixed to match (URI=#id)",
            redigest(&replace_once(&by_id, field, forged)),
            "signature_invalid",
        ),
        case(
            "content changed and DigestValue fixed to match (ECDSA)",
            redigest(&replace_once(&ec, field, forged)),
            "signature_invalid",
        ),
        case(
            "SignatureMethod changed within the key's family",
            replace_once(&whole, SM_RSA_SHA256, &SM_RSA_SHA256.replace("rsa-sha256", "rsa-sha512")),
            "signature_invalid",
        ),
        case(
            "SignatureMethod changed from PKCS#1 to PSS",
            replace_once(
                &whole,
                SM_RSA_SHA256,
                r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"/>"#,
            ),
            "signature_invalid",
        ),
        case(
            "CanonicalizationMethod changed to another accepted one",
            replace_once(
                &whole,
                CM_EXC,
                r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>"#,
            ),
            "signature_invalid",
        ),
        case(
            "reference transform changed to another accepted one",
            replace_once(
                &whole,
                T_EXC,
                r#"<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>"#,
            ),
            "signature_invalid",
        ),
    ];
    // A flipped bit in the signature value.
    let sv = text_of(&whole, "ds:SignatureValue");
    let mut raw = B64.decode(sv).expect("base64");
    raw[10] ^= 1;
    cases.push(case(
        "signature value bit flipped",
        set_text(&whole, "ds:SignatureValue", &B64.encode(&raw)),
        "signature_invalid",
    ));
    let sv = text_of(&ec, "ds:SignatureValue");
    let mut raw = B64.decode(sv).expect("base64");
    raw[40] ^= 0x80;
    cases.push(case(
        "ECDSA signature value bit flipped",
        set_text(&ec, "ds:SignatureValue", &B64.encode(&raw)),
        "signature_invalid",
    ));
    // The signature value of another document by the same key.
    let other = String::from_utf8(
        sign_xml(&example("ly-lich-tu-phap.xml"), &f.identity("portal-hanoi"), &XmlSignOptions::default())
            .expect("sign"),
    )
    .expect("UTF-8");
    cases.push(case(
        "signature value taken from another document of the same signer",
        set_text(&whole, "ds:SignatureValue", text_of(&other, "ds:SignatureValue")),
        "signature_invalid",
    ));
    // Key substitution: the certificate of another RSA-2048 key with the same CN.
    let client = chain_b64(&f.pki.files("portal-hanoi-client").2);
    cases.push(case(
        "certificate replaced by another key's certificate (same CN)",
        with_key_info(&whole, &key_info(&client)),
        "signature_invalid",
    ));
    cases
}

#[test]
fn tampering_is_refused() {
    let f = fixture();
    let codes = run(&f, tampering_cases(&f));
    assert_eq!(codes, BTreeSet::from(["signature_digest_mismatch", "signature_invalid"]));
}

// ---------------------------------------------------------------------------
// Signature wrapping

fn wrapping_cases(f: &Fixture) -> Vec<Case> {
    let hanoi = f.identity("portal-hanoi");
    let whole = signed_by(&hanoi, ReferenceStyle::WholeDocument);
    let by_id = signed_by(&hanoi, ReferenceStyle::RootId);
    let uri = format!("URI=\"#{ROOT_ID}\"");
    let (whole_bare, whole_sig) = cut(&whole, "ds:Signature");
    let (id_bare, id_sig) = cut(&by_id, "ds:Signature");
    let mut cases = Vec::new();

    // Signature placement.
    let nested = replace_once(&whole_bare, "<TaiLieuNop>", &format!("<TaiLieuNop>{whole_sig}"));
    cases.push(case("signature moved into a nested element", nested, "signature_misplaced"));
    let deep = replace_once(&id_bare, "<KhaiTu>", &format!("<KhaiTu>{id_sig}"));
    cases.push(case("signature moved deep into the business data (URI=#id)", deep, "signature_misplaced"));
    cases.push(case(
        "two signatures, both children of the root",
        replace_once(&whole, "</HoSo>", &format!("{whole_sig}</HoSo>")),
        "signature_multiple",
    ));
    cases.push(case(
        "a second signature hidden in the content",
        replace_once(&whole, "<DanhSachLePhi>", &format!("<DanhSachLePhi>{id_sig}")),
        "signature_multiple",
    ));

    // IDs.
    let decoy = format!("<DanhSachLePhi Id=\"{ROOT_ID}\">");
    cases.push(case(
        "the root's Id also on a decoy element",
        replace_once(&by_id, "<DanhSachLePhi>", &decoy),
        "signature_duplicate_id",
    ));
    cases.push(case(
        "the root's Id on a decoy as ID",
        replace_once(&by_id, "<DanhSachLePhi>", &format!("<DanhSachLePhi ID=\"{ROOT_ID}\">")),
        "signature_duplicate_id",
    ));
    cases.push(case(
        "the root's Id on a decoy as id",
        replace_once(&by_id, "<DanhSachLePhi>", &format!("<DanhSachLePhi id=\"{ROOT_ID}\">")),
        "signature_duplicate_id",
    ));
    cases.push(case(
        "the root's Id on a decoy inside a ds:Object",
        replace_once(
            &by_id,
            "</ds:Signature>",
            &format!("<ds:Object><HoSo Id=\"{ROOT_ID}\"><ChuHoSo>Kẻ Gian</ChuHoSo></HoSo></ds:Object></ds:Signature>"),
        ),
        "signature_duplicate_id",
    ));
    cases.push(case(
        "the root carries its ID twice (Id and ID)",
        replace_once(&by_id, &format!("Id=\"{ROOT_ID}\""), &format!("Id=\"{ROOT_ID}\" ID=\"{ROOT_ID}\"")),
        "signature_duplicate_id",
    ));

    // References.
    let reference = element(&by_id, "ds:Reference").to_owned();
    cases.push(case(
        "a second Reference in SignedInfo",
        reseal(&replace_once(&by_id, "</ds:Reference>", &format!("</ds:Reference>{reference}")), &hanoi),
        "signature_multiple_references",
    ));
    cases.push(case(
        "a second Reference to an external document",
        reseal(
            &replace_once(
                &by_id,
                "</ds:Reference>",
                &format!("</ds:Reference>{}", reference.replace(&uri, "URI=\"http://evil.example/x.xml\"")),
            ),
            &hanoi,
        ),
        "signature_multiple_references",
    ));
    cases.push(case(
        "no Reference in SignedInfo",
        reseal(&replace_once(&by_id, &reference, ""), &hanoi),
        "signature_malformed",
    ));
    // A genuine signature by the member over a descendant only (it has its own Id).
    let part = replace_once(&by_id, "<DuLieuNghiepVu>", "<DuLieuNghiepVu Id=\"nghiep-vu\">");
    let part = reseal(&redigest(&replace_once(&part, &uri, "URI=\"#nghiep-vu\"")), &hanoi);
    cases.push(case("a Reference to a signed descendant with its own Id", part, "signature_reference_not_root"));
    cases.push(case(
        "a Reference to an unresolved #id",
        reseal(&replace_once(&by_id, &uri, "URI=\"#hs-khong-co\""), &hanoi),
        "signature_reference_unresolved",
    ));
    cases.push(case(
        "the root's Id removed",
        replace_once(&by_id, &format!(" Id=\"{ROOT_ID}\""), ""),
        "signature_reference_unresolved",
    ));
    for (name, to) in [
        ("an external http URI", "URI=\"http://evil.example/hoso.xml\""),
        ("a relative URI", "URI=\"doc.xml\""),
        ("a file URI", "URI=\"file:///etc/passwd\""),
        ("an empty fragment", "URI=\"#\""),
        ("no URI at all", ""),
    ] {
        cases.push(case(
            &format!("Reference with {name}"),
            reseal(&replace_once(&by_id, &uri, to), &hanoi),
            "signature_reference_external",
        ));
    }
    for (name, to) in [("#xpointer(/)", "URI=\"#xpointer(/)\""), ("#xpointer(id(...))", "URI=\"#xpointer(id('x'))\"")] {
        cases.push(case(
            &format!("Reference {name}"),
            reseal(&replace_once(&by_id, &uri, to), &hanoi),
            "signature_transform_xpath",
        ));
    }

    // The classic wrapping: the genuinely signed original moves inside a new
    // document element with other content; the one signature stays a child of
    // the new root, so that only the Reference's target betrays the attack.
    let prolog_end = id_bare.find("<HoSo").expect("the root");
    let (prolog, original) = id_bare.split_at(prolog_end);
    let original = original.trim_end();
    let start_tag_end = original.find('>').expect("start tag") + 1;
    let evil_inner = original[start_tag_end..original.len() - "</HoSo>".len()]
        .replace("Phạm Thị Lan", "Kẻ Gian")
        .replace("<CoQuanDich>moj</CoQuanDich>", "<CoQuanDich>mpi</CoQuanDich>");
    let wrap = |root_id: &str, sig: &str, wrapped: &str| {
        format!(
            "{prolog}<HoSo xmlns=\"urn:lienthong:hoso:1\" Id=\"{root_id}\">{evil_inner}{sig}<Wrapper>{wrapped}</Wrapper></HoSo>"
        )
    };
    let classic = wrap("hs-evil", &id_sig, original);
    // The moved original still matches the signed digest: only the profile stands
    // between this document and acceptance.
    assert_eq!(
        digest_for(&classic),
        text_of(&classic, "ds:DigestValue"),
        "the wrapped original is still the signed content"
    );
    cases.push(case("classic wrapping: signed original inside a new root", classic, "signature_reference_not_root"));
    cases.push(case(
        "classic wrapping: the new root claims the signed Id too",
        wrap(ROOT_ID, &id_sig, original),
        "signature_duplicate_id",
    ));
    cases.push(case(
        "classic wrapping: the signed original, signature and all, inside a new root",
        wrap("hs-evil", "", original.replace("</HoSo>", &format!("{id_sig}</HoSo>")).as_str()),
        "signature_misplaced",
    ));
    cases.push(case(
        "wrapping: the signed original in a ds:Object of the signature",
        format!(
            "{prolog}<HoSo xmlns=\"urn:lienthong:hoso:1\" Id=\"hs-evil\">{evil_inner}{}</HoSo>",
            id_sig.replace("</ds:Signature>", &format!("<ds:Object>{original}</ds:Object></ds:Signature>"))
        ),
        "signature_reference_not_root",
    ));
    cases.push(case(
        "wrapping a URI=\"\" signature: original inside a new root",
        wrap("hs-evil", &whole_sig, whole_bare[whole_bare.find("<HoSo").expect("root")..].trim_end()),
        "signature_digest_mismatch",
    ));
    cases
}

#[test]
fn signature_wrapping_is_refused() {
    let f = fixture();
    let codes = run(&f, wrapping_cases(&f));
    for c in [
        "signature_misplaced",
        "signature_multiple",
        "signature_duplicate_id",
        "signature_multiple_references",
        "signature_reference_not_root",
        "signature_reference_unresolved",
        "signature_reference_external",
        "signature_transform_xpath",
    ] {
        assert!(codes.contains(c), "{c} not produced");
    }
}

// ---------------------------------------------------------------------------
// Refused algorithms, transforms, canonicalisations and key sources

fn algorithm_cases(f: &Fixture) -> Vec<Case> {
    let hanoi = f.identity("portal-hanoi");
    let whole = signed_by(&hanoi, ReferenceStyle::WholeDocument);
    let hcm = signed(f, "portal-hcm", ReferenceStyle::WholeDocument);
    let sm = |uri: &str| format!("<ds:SignatureMethod Algorithm=\"{uri}\"/>");
    let dm = |uri: &str| format!("<ds:DigestMethod Algorithm=\"{uri}\"/>");
    let t = |uri: &str, body: &str| format!("<ds:Transform Algorithm=\"{uri}\">{body}</ds:Transform>");
    // Edited and re-signed with the member's key.
    let edit = |from: &str, to: &str| reseal(&replace_once(&whole, from, to), &hanoi);
    let mut cases = vec![accepted("baseline", whole.clone(), "portal-hanoi")];

    for (name, uri, code) in [
        ("rsa-sha1", "http://www.w3.org/2000/09/xmldsig#rsa-sha1", "signature_algorithm_sha1"),
        ("ecdsa-sha1", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", "signature_algorithm_sha1"),
        ("rsa-md5", "http://www.w3.org/2001/04/xmldsig-more#rsa-md5", "signature_algorithm_md5"),
        ("hmac-sha256", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", "signature_algorithm_hmac"),
        ("hmac-sha1", "http://www.w3.org/2000/09/xmldsig#hmac-sha1", "signature_algorithm_hmac"),
        ("dsa-sha1", "http://www.w3.org/2000/09/xmldsig#dsa-sha1", "signature_algorithm_dsa"),
        ("dsa-sha256", "http://www.w3.org/2009/xmldsig11#dsa-sha256", "signature_algorithm_dsa"),
        ("an unknown URI", "urn:example:signature:rsa-sha256", "signature_algorithm_unknown"),
        ("rsa-sha224", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224", "signature_algorithm_unknown"),
        ("ecdsa-sha512", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", "signature_algorithm_unknown"),
        ("an empty URI", "", "signature_algorithm_unknown"),
    ] {
        cases.push(case(&format!("SignatureMethod {name}"), edit(SM_RSA_SHA256, &sm(uri)), code));
    }
    cases.push(case(
        "HMAC with an output length",
        edit(
            SM_RSA_SHA256,
            r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"><ds:HMACOutputLength>0</ds:HMACOutputLength></ds:SignatureMethod>"#,
        ),
        "signature_algorithm_hmac",
    ));
    // A genuine rsa-sha1 signature, made with the member's own key by OpenSSL.
    let (key, _, _) = f.pki.files("portal-hanoi");
    let sha1 = replace_once(&whole, SM_RSA_SHA256, &sm("http://www.w3.org/2000/09/xmldsig#rsa-sha1"));
    cases.push(case(
        "a genuine rsa-sha1 signature by a trusted member",
        reseal_with(&sha1, |b| openssl_sign(&key, "sha1", b)),
        "signature_algorithm_sha1",
    ));
    for (name, uri, code) in [
        ("sha1", "http://www.w3.org/2000/09/xmldsig#sha1", "signature_algorithm_sha1"),
        ("md5", "http://www.w3.org/2001/04/xmldsig-more#md5", "signature_algorithm_md5"),
        ("sha224", "http://www.w3.org/2001/04/xmldsig-more#sha224", "signature_algorithm_unknown"),
        ("sha3-256", "http://www.w3.org/2007/05/xmldsig-more#sha3-256", "signature_algorithm_unknown"),
    ] {
        cases.push(case(&format!("DigestMethod {name}"), edit(DM_SHA256, &dm(uri)), code));
    }
    cases.push(case(
        "key mismatch: an ECDSA key under rsa-sha256",
        replace_once(&hcm, SM_ECDSA_SHA256, SM_RSA_SHA256),
        "signature_key_mismatch",
    ));
    cases.push(case(
        "key mismatch: an RSA key under ecdsa-sha256",
        edit(SM_RSA_SHA256, SM_ECDSA_SHA256),
        "signature_key_mismatch",
    ));

    // Transforms.
    let xpath =
        t("http://www.w3.org/TR/1999/REC-xpath-19991116", "<ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath>");
    let filter2 = t(
        "http://www.w3.org/2002/06/xmldsig-filter2",
        r#"<dsig-xpath:XPath xmlns:dsig-xpath="http://www.w3.org/2002/06/xmldsig-filter2" Filter="intersect">/</dsig-xpath:XPath>"#,
    );
    let xslt = t(
        "http://www.w3.org/TR/1999/REC-xslt-19991116",
        r#"<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:template match="/"><HoSo/></xsl:template></xsl:stylesheet>"#,
    );
    cases.push(case("XPath transform instead of C14N", edit(T_EXC, &xpath), "signature_transform_xpath"));
    cases.push(case(
        "XPath transform before enveloped-signature",
        edit(T_ENVELOPED, &format!("{xpath}{T_ENVELOPED}")),
        "signature_transform_xpath",
    ));
    cases.push(case("XPath Filter 2.0 transform", edit(T_EXC, &filter2), "signature_transform_xpath"));
    cases.push(case("XSLT transform", edit(T_EXC, &xslt), "signature_transform_xslt"));
    cases.push(case(
        "base64 transform",
        edit(T_EXC, &t("http://www.w3.org/2000/09/xmldsig#base64", "")),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "unknown transform",
        edit(T_EXC, &t("urn:example:transform", "")),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "C14N 1.1 as a transform",
        edit(T_EXC, &t("http://www.w3.org/2006/12/xml-c14n11", "")),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "enveloped-signature transform missing (C14N only)",
        edit(T_ENVELOPED, ""),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "no Transforms at all",
        edit(&format!("<ds:Transforms>{T_ENVELOPED}{T_EXC}</ds:Transforms>"), ""),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "empty Transforms",
        edit(&format!("<ds:Transforms>{T_ENVELOPED}{T_EXC}</ds:Transforms>"), "<ds:Transforms/>"),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "enveloped-signature twice",
        edit(T_ENVELOPED, &format!("{T_ENVELOPED}{T_ENVELOPED}")),
        "signature_transform_unsupported",
    ));
    cases.push(case(
        "C14N before enveloped-signature",
        edit(&format!("{T_ENVELOPED}{T_EXC}"), &format!("{T_EXC}{T_ENVELOPED}")),
        "signature_transform_unsupported",
    ));
    cases.push(case("two C14N transforms", edit(T_EXC, &format!("{T_EXC}{T_EXC}")), "signature_transform_unsupported"));

    // Canonicalisation of SignedInfo.
    for (name, uri) in [
        ("C14N 1.1", "http://www.w3.org/2006/12/xml-c14n11"),
        ("C14N 1.1 with comments", "http://www.w3.org/2006/12/xml-c14n11#WithComments"),
        ("an unknown URI", "urn:example:c14n"),
    ] {
        cases.push(case(
            &format!("CanonicalizationMethod {name}"),
            edit(CM_EXC, &format!("<ds:CanonicalizationMethod Algorithm=\"{uri}\"/>")),
            "signature_c14n_unsupported",
        ));
    }

    // Key sources.
    let ki = element(&whole, "ds:KeyInfo").to_owned();
    let retrieval = r#"<ds:RetrievalMethod URI="http://evil.example/cert.der" Type="http://www.w3.org/2000/09/xmldsig#rawX509Certificate"/>"#;
    cases.push(case(
        "KeyInfo RetrievalMethod instead of the certificate",
        replace_once(&whole, &ki, &format!("<ds:KeyInfo>{retrieval}</ds:KeyInfo>")),
        "signature_key_source_unsupported",
    ));
    cases.push(case(
        "KeyInfo RetrievalMethod next to the certificate",
        replace_once(&whole, "</ds:X509Data></ds:KeyInfo>", &format!("</ds:X509Data>{retrieval}</ds:KeyInfo>")),
        "signature_key_source_unsupported",
    ));
    cases.push(case("no KeyInfo", replace_once(&whole, &ki, ""), "signature_no_certificate"));
    cases.push(case(
        "KeyInfo with a KeyName only",
        replace_once(&whole, &ki, "<ds:KeyInfo><ds:KeyName>portal-hanoi</ds:KeyName></ds:KeyInfo>"),
        "signature_no_certificate",
    ));
    cases.push(case(
        "empty X509Data",
        replace_once(&whole, &ki, "<ds:KeyInfo><ds:X509Data/></ds:KeyInfo>"),
        "signature_no_certificate",
    ));
    cases.push(case(
        "X509Data with a subject name only",
        replace_once(
            &whole,
            &ki,
            "<ds:KeyInfo><ds:X509Data><ds:X509SubjectName>CN=portal-hanoi</ds:X509SubjectName></ds:X509Data></ds:KeyInfo>",
        ),
        "signature_no_certificate",
    ));
    cases.push(case(
        "X509Certificate that is not a certificate",
        replace_once(&whole, &ki, &key_info(&[B64.encode(b"not a certificate at all")])),
        "certificate_malformed",
    ));

    // Structure.
    cases.push(case(
        "SignatureValue missing",
        replace_once(&whole, element(&whole, "ds:SignatureValue"), ""),
        "signature_malformed",
    ));
    cases.push(case(
        "SignatureValue not base64",
        set_text(&whole, "ds:SignatureValue", "!!not-base64!!"),
        "signature_malformed",
    ));
    cases.push(case("text inside SignedInfo", edit(CM_EXC, &format!("{CM_EXC}chen chu")), "signature_malformed"));
    cases.push(case(
        "two KeyInfo elements",
        replace_once(&whole, "</ds:KeyInfo>", &format!("</ds:KeyInfo>{ki}")),
        "signature_malformed",
    ));
    cases.push(case(
        "an Object before KeyInfo",
        replace_once(&whole, "<ds:KeyInfo>", "<ds:Object/><ds:KeyInfo>"),
        "signature_malformed",
    ));
    cases.push(case(
        "SignatureMethod without Algorithm",
        edit(SM_RSA_SHA256, "<ds:SignatureMethod/>"),
        "signature_malformed",
    ));
    cases
}

#[test]
fn refused_algorithms_transforms_and_key_sources_each_have_their_code() {
    let f = fixture();
    let codes = run(&f, algorithm_cases(&f));
    for c in [
        "signature_algorithm_sha1",
        "signature_algorithm_md5",
        "signature_algorithm_hmac",
        "signature_algorithm_dsa",
        "signature_algorithm_unknown",
        "signature_transform_xpath",
        "signature_transform_xslt",
        "signature_transform_unsupported",
        "signature_c14n_unsupported",
        "signature_key_source_unsupported",
        "signature_no_certificate",
        "signature_key_mismatch",
        "signature_malformed",
        "certificate_malformed",
    ] {
        assert!(codes.contains(c), "{c} not produced");
    }
}

// ---------------------------------------------------------------------------
// Signers

/// The document signed by a certificate of the dev PKI whose key the library
/// refuses to load: signed by portal-hanoi, then the certificates replaced and
/// SignedInfo re-signed (rsa-sha256) with the certificate's own key by OpenSSL.
fn signed_by_openssl(f: &Fixture, name: &str) -> String {
    let whole = signed(f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let (key, _, chain) = f.pki.files(name);
    let swapped = with_key_info(&whole, &key_info(&chain_b64(&chain)));
    reseal_with(&swapped, |b| openssl_sign(&key, "sha256", b))
}

/// The certificate of `victim` with its SubjectPublicKeyInfo replaced by that of
/// `attacker` (keys of the same size, so that every length stays the same).
fn forged_certificate(f: &Fixture, victim: &str, attacker: &str) -> Vec<u8> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let der = |n: &str| {
        let pem = std::fs::read(f.pki.files(n).1).expect("read the certificate");
        CertificateDer::from_pem_slice(&pem).expect("PEM").as_ref().to_vec()
    };
    let (v, a) = (der(victim), der(attacker));
    let spki = |d: &[u8]| X509Certificate::from_der(d).expect("a certificate").1.public_key().raw.to_vec();
    let (vs, as_) = (spki(&v), spki(&a));
    assert_eq!(vs.len(), as_.len(), "keys of the same encoded size");
    let at = v.windows(vs.len()).position(|w| w == vs.as_slice()).expect("the SPKI in the certificate");
    let mut forged = v.clone();
    forged[at..at + vs.len()].copy_from_slice(&as_);
    forged
}

fn signer_cases(f: &Fixture) -> Vec<Case> {
    let mut cases =
        vec![accepted("baseline", signed(f, "portal-hanoi", ReferenceStyle::WholeDocument), "portal-hanoi")];
    for (who, code) in [
        ("untrusted-leaf", "certificate_untrusted"),
        ("expired", "certificate_expired"),
        ("not-yet-valid", "certificate_not_yet_valid"),
        ("portal-revoked", "certificate_revoked"),
        ("sha1-signed", "certificate_weak_algorithm"),
        ("no-digital-signature", "certificate_wrong_usage"),
        ("localhost", "certificate_wrong_usage"),
        ("portal-hanoi-client", "certificate_wrong_usage"),
    ] {
        cases.push(case(&format!("signer {who}"), signed(f, who, ReferenceStyle::WholeDocument), code));
    }
    cases.push(case(
        "signer weak-rsa-1024 (signed by OpenSSL)",
        signed_by_openssl(f, "weak-rsa-1024"),
        "signature_key_too_weak",
    ));
    // A CA certificate signing a document itself.
    let ca = SigningIdentity::load(
        &f.pki.path("ca/national-2025-signing/key.pem"),
        &f.pki.path("intermediates/national-2025-signing.pem"),
    )
    .expect("load the intermediate CA's key");
    cases.push(case(
        "signer is a CA certificate",
        signed_by(&ca, ReferenceStyle::WholeDocument),
        "certificate_wrong_usage",
    ));
    // The untrusted leaf presented without its own root.
    let untrusted = signed(f, "untrusted-leaf", ReferenceStyle::WholeDocument);
    let leaf_only = chain_b64(&f.pki.files("untrusted-leaf").2)[..1].to_vec();
    cases.push(case(
        "signer untrusted-leaf without its root",
        with_key_info(&untrusted, &key_info(&leaf_only)),
        "certificate_untrusted",
    ));
    // Which carried certificate is the signer's follows from the chain, not the order.
    let chain = chain_b64(&f.pki.files("portal-hanoi").2);
    let hanoi_doc = signed(f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let with_certs = |certs: &[&String]| {
        with_key_info(&hanoi_doc, &key_info(&certs.iter().map(|c| (*c).clone()).collect::<Vec<_>>()))
    };
    let root = chain_b64(&f.pki.path("roots/national-root-old.pem")).remove(0);
    let hcm_leaf = chain_b64(&f.pki.files("portal-hcm").1).remove(0);
    cases.push(accepted("chain in reverse order", with_certs(&[&chain[1], &chain[0]]), "portal-hanoi"));
    cases.push(accepted("chain with its root", with_certs(&[&chain[0], &chain[1], &root]), "portal-hanoi"));
    cases.push(case(
        "an unrelated certificate next to the chain",
        with_certs(&[&chain[0], &chain[1], &hcm_leaf]),
        "certificate_malformed",
    ));
    cases.push(case("the leaf twice", with_certs(&[&chain[0], &chain[0], &chain[1]]), "certificate_malformed"));
    // A member's certificate without its intermediate: no path to a root.
    let hanoi = signed(f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let hanoi_leaf = chain_b64(&f.pki.files("portal-hanoi").2)[..1].to_vec();
    cases.push(case(
        "member certificate without its intermediate",
        with_key_info(&hanoi, &key_info(&hanoi_leaf)),
        "certificate_untrusted",
    ));
    // portal-hanoi's certificate with the key swapped for the attacker's (the
    // signature value verifies with the swapped key; the CA's signature does not).
    let forged = forged_certificate(f, "portal-hanoi", "portal-hanoi-client");
    let intermediate = chain_b64(&f.pki.files("portal-hanoi").2)[1].clone();
    let attacker = f.identity("portal-hanoi-client");
    let forged_doc = with_key_info(
        &signed_by(&attacker, ReferenceStyle::WholeDocument),
        &key_info(&[B64.encode(&forged), intermediate]),
    );
    cases.push(case("portal-hanoi's certificate with a swapped key", forged_doc, "certificate_invalid"));

    // Revocation.
    cases.push(
        case("valid signer, no CRL loaded, revocation required", hanoi.clone(), "certificate_revocation_unknown")
            .against(Store::NoCrls),
    );
    cases.push(
        case(
            "valid signer, no CRL for its intermediate, revocation required",
            hanoi.clone(),
            "certificate_revocation_unknown",
        )
        .against(Store::RootCrlsOnly),
    );
    cases.push(
        accepted("valid signer, no CRL loaded, best effort", hanoi.clone(), "portal-hanoi")
            .against(Store::BestEffortNoCrls),
    );
    cases.push(
        accepted(
            "valid ECDSA signer, no CRL loaded, best effort",
            signed(f, "portal-hcm", ReferenceStyle::RootId),
            "portal-hcm",
        )
        .against(Store::BestEffortNoCrls),
    );
    cases.push(
        case(
            "signer portal-revoked, CRLs loaded, best effort",
            signed(f, "portal-revoked", ReferenceStyle::WholeDocument),
            "certificate_revoked",
        )
        .against(Store::BestEffort),
    );
    cases
}

#[test]
fn refused_signers_each_have_their_code() {
    let f = fixture();
    let codes = run(&f, signer_cases(&f));
    for c in [
        "certificate_untrusted",
        "certificate_expired",
        "certificate_not_yet_valid",
        "certificate_revoked",
        "certificate_revocation_unknown",
        "certificate_weak_algorithm",
        "certificate_wrong_usage",
        "certificate_invalid",
        "signature_key_too_weak",
    ] {
        assert!(codes.contains(c), "{c} not produced");
    }
}

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

// ---------------------------------------------------------------------------
// XML input hardening

fn input_cases(f: &Fixture) -> Vec<Case> {
    let whole = signed(f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let decl = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
    let with_decl = |d: &str| replace_once(&whole, decl, d);
    let after_decl = |extra: &str| replace_once(&whole, decl, &format!("{decl}\n{extra}"));
    const ENC: &[&str] = &["xml_encoding_unsupported", "malformed_xml"];
    let mut invalid_utf8 = whole.clone().into_bytes();
    let at = invalid_utf8.windows(7).position(|w| w == b"<MaHoSo").expect("a field") + 8;
    invalid_utf8.insert(at, 0xff);
    let latin1: Vec<u8> = with_decl(r#"<?xml version="1.0" encoding="ISO-8859-1"?>"#)
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(whole.encode_utf16().flat_map(u16::to_le_bytes));
    let mut utf8_bom = vec![0xef, 0xbb, 0xbf];
    utf8_bom.extend_from_slice(whole.as_bytes());
    vec![
        case("DOCTYPE", after_decl("<!DOCTYPE HoSo>"), "xml_doctype_forbidden"),
        case(
            "DOCTYPE after the leading comment",
            replace_once(&whole, "<HoSo ", "<!DOCTYPE HoSo><HoSo "),
            "xml_doctype_forbidden",
        ),
        case(
            "DOCTYPE with an external entity (XXE)",
            replace_once(
                &after_decl(r#"<!DOCTYPE HoSo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"#),
                "<ChuHoSo>Phạm Thị Lan</ChuHoSo>",
                "<ChuHoSo>&xxe;</ChuHoSo>",
            ),
            "xml_doctype_forbidden",
        ),
        case(
            "DOCTYPE with entity expansion (billion laughs)",
            after_decl(r#"<!DOCTYPE HoSo [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>"#),
            "xml_doctype_forbidden",
        ),
        case(
            "an undeclared entity",
            replace_once(&whole, "<ChuHoSo>Phạm Thị Lan</ChuHoSo>", "<ChuHoSo>&xxe;</ChuHoSo>"),
            "malformed_xml",
        ),
        case("truncated", whole[..whole.len() - 20].to_owned(), "malformed_xml"),
        case("not XML", "ho so".to_owned(), "malformed_xml"),
        Case { name: "invalid UTF-8".into(), xml: invalid_utf8, store: Store::Dev, expect: Expect::OneOf(ENC) },
        Case { name: "declared ISO-8859-1".into(), xml: latin1, store: Store::Dev, expect: Expect::OneOf(ENC) },
        Case { name: "UTF-16 with a BOM".into(), xml: utf16, store: Store::Dev, expect: Expect::OneOf(ENC) },
        case("declared UTF-16", with_decl(r#"<?xml version="1.0" encoding="UTF-16"?>"#), "xml_encoding_unsupported"),
        accepted("a UTF-8 byte order mark is fine", utf8_bom, "portal-hanoi"),
    ]
}

#[test]
fn hostile_xml_input_is_refused_before_the_signature_is_read() {
    let f = fixture();
    let codes = run(&f, input_cases(&f));
    assert!(codes.contains("xml_doctype_forbidden"));
    assert!(codes.contains("malformed_xml"));
    assert!(codes.contains("xml_encoding_unsupported"), "no encoding refusal produced its own code: {codes:?}");
}

// ---------------------------------------------------------------------------
// Signer bindings

#[test]
fn signer_bindings_match_exactly_the_named_signer() {
    let f = fixture();
    let hanoi = f.identity("portal-hanoi").certificate().clone();
    let hcm = f.identity("portal-hcm").certificate().clone();
    let untrusted = f.identity("untrusted-leaf").certificate().clone();
    let entry = f.pki.entry("portal-hanoi");
    let subject = entry["subject"].as_str().expect("a subject").to_owned();
    let spki = entry["spki_sha256"].as_str().expect("an SPKI hash").to_owned();
    assert_eq!(hanoi.subject, subject, "the library reads the subject as the PKI wrote it");
    assert_eq!(hanoi.spki_sha256, spki);

    let by_subject = SignerBinding { subject: Some(subject.clone()), ..Default::default() };
    let by_org = SignerBinding { organisation: hanoi.organisation.clone(), ..Default::default() };
    assert_eq!(by_org.organisation.as_deref(), Some("UBND Thành phố Hà Nội"));
    let by_spki = SignerBinding { spki_sha256: Some(spki.clone()), ..Default::default() };
    for (name, b) in [("subject", &by_subject), ("organisation", &by_org), ("spki_sha256", &by_spki)] {
        assert!(b.matches(&hanoi), "portal-hanoi by {name}");
        assert!(!b.matches(&hcm), "portal-hcm matched a binding of portal-hanoi by {name}");
    }
    // Same CN, other organisation and key: not portal-hanoi.
    assert!(!by_subject.matches(&untrusted));
    assert!(!by_org.matches(&untrusted));
    assert!(!by_spki.matches(&untrusted));
    // A binding that names nothing matches nobody.
    let empty = SignerBinding::default();
    for c in [&hanoi, &hcm, &untrusted] {
        assert!(!empty.matches(c), "the empty binding matched {}", c.subject);
    }
    // Every field must match.
    let mixed = SignerBinding {
        subject: Some(subject.clone()),
        spki_sha256: Some(hcm.spki_sha256.clone()),
        ..Default::default()
    };
    assert!(!mixed.matches(&hanoi) && !mixed.matches(&hcm));
    let full = SignerBinding {
        subject: Some(subject.clone()),
        organisation: hanoi.organisation.clone(),
        spki_sha256: Some(spki.clone()),
    };
    assert!(full.matches(&hanoi) && !full.matches(&hcm));
    // Spelling of the subject: spaces after commas and the case of attribute types do not matter.
    let spaced = subject.replace(',', ", ");
    let lower_types = subject
        .split(',')
        .map(|rdn| {
            let (t, v) = rdn.split_once('=').expect("type=value");
            format!("{}={v}", t.to_ascii_lowercase())
        })
        .collect::<Vec<_>>()
        .join(" , ");
    assert!(lower_types.starts_with("cn=portal-hanoi , ou="), "{lower_types}");
    for s in [spaced, lower_types] {
        let b = SignerBinding { subject: Some(s.clone()), ..Default::default() };
        assert!(b.matches(&hanoi), "{s:?} names portal-hanoi");
        assert!(!b.matches(&hcm));
    }
    // ... but values do, and so does every attribute.
    for s in [
        subject.replace("CN=portal-hanoi", "CN=Portal-Hanoi"),
        subject.replace(",C=VN", ""),
        format!("{subject},L=Hà Nội"),
    ] {
        let b = SignerBinding { subject: Some(s.clone()), ..Default::default() };
        assert!(!b.matches(&hanoi), "{s:?} must not name portal-hanoi");
    }
    // The key pin tolerates the usual spellings of a hex fingerprint.
    let colons = spki.as_bytes().chunks(2).map(|p| std::str::from_utf8(p).expect("hex")).collect::<Vec<_>>().join(":");
    for s in [spki.to_ascii_uppercase(), colons, format!(" {spki} ")] {
        assert!(SignerBinding { spki_sha256: Some(s.clone()), ..Default::default() }.matches(&hanoi), "{s:?}");
    }
    let mut other = spki.clone().into_bytes();
    other[0] = if other[0] == b'0' { b'1' } else { b'0' };
    let other = String::from_utf8(other).expect("hex");
    assert!(!SignerBinding { spki_sha256: Some(other), ..Default::default() }.matches(&hanoi));
    // Bindings as configuration: unknown fields are refused.
    let parsed: SignerBinding =
        serde_json::from_value(serde_json::json!({ "spki_sha256": spki })).expect("a binding from configuration");
    assert!(parsed.matches(&hanoi));
    assert!(serde_json::from_value::<SignerBinding>(serde_json::json!({ "cn": "portal-hanoi" })).is_err());
}

// ---------------------------------------------------------------------------
// What XMLDSig leaves unsigned is accepted, but never handed on

#[test]
fn unsigned_additions_verify_but_are_not_in_the_signed_octets() {
    let f = fixture();
    let unsigned = schemas::dossier_from_xml(&example(EXAMPLE)).expect("the example is a dossier");
    let whole = signed(&f, "portal-hanoi", ReferenceStyle::WholeDocument);
    let by_id = signed(&f, "portal-hanoi", ReferenceStyle::RootId);
    let evil = "<MaHoSo>000.00.21.H41-999999-0001</MaHoSo>";
    let cases = [
        // Everything inside the enveloped signature is removed before digesting.
        (
            "content inside a ds:Object",
            replace_once(&whole, "</ds:Signature>", &format!("<ds:Object>{evil}</ds:Object></ds:Signature>")),
        ),
        (
            "a KeyName next to the certificate",
            replace_once(&whole, "<ds:KeyInfo>", "<ds:KeyInfo><ds:KeyName>portal-hcm</ds:KeyName>"),
        ),
        // References dereference without comments.
        ("a comment in the content", replace_once(&whole, "<ChuHoSo>", "<ChuHoSo><!-- Kẻ Gian -->")),
        // URI=#id covers the document element only.
        ("a processing instruction after the root (URI=#id)", format!("{by_id}<?lienthong route=evil?>")),
        ("a comment before the root (URI=#id)", replace_once(&by_id, "<HoSo ", &format!("<!-- {evil} --><HoSo "))),
    ];
    for (name, xml) in cases {
        let v = verify_xml(xml.as_bytes(), &f.store, &now())
            .unwrap_or_else(|e| panic!("{name}: refused with {}", e.code()))
            .unwrap_or_else(|| panic!("{name}: read as unsigned"));
        let octets = String::from_utf8(v.signed_octets).expect("UTF-8");
        assert!(!octets.contains("999999") && !octets.contains("Kẻ Gian") && !octets.contains("evil"), "{name}");
        assert!(!octets.contains("portal-hcm") && !octets.contains("ds:Signature"), "{name}");
        assert_eq!(schemas::dossier_from_xml(octets.as_bytes()).expect("the signed octets parse"), unsigned, "{name}");
    }
}

// ---------------------------------------------------------------------------
// Coverage of the codes

#[test]
fn every_xml_relevant_code_is_produced_by_some_attack() {
    let f = fixture();
    let mut produced = BTreeSet::new();
    for cases in [tampering_cases(&f), wrapping_cases(&f), algorithm_cases(&f), signer_cases(&f), input_cases(&f)] {
        produced.extend(run(&f, cases));
    }
    for c in &produced {
        assert!(SigError::CODES.contains(c), "{c} is not in SigError::CODES");
    }
    for c in NOT_XML {
        assert!(SigError::CODES.contains(c), "the exclusion {c} is not a code");
        assert!(!produced.contains(c), "{c} was produced by XML input");
    }
    let missing: Vec<&str> =
        SigError::CODES.iter().copied().filter(|c| !NOT_XML.contains(c) && !produced.contains(c)).collect();
    assert!(missing.is_empty(), "codes no XML case produced: {missing:?}");
}
