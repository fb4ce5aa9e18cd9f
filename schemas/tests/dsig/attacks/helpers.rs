//! Building signed documents and tampering with them, for the attack tables;
//! and the external tools they need. `openssl_sign`, `chain_b64` and `Scratch`
//! are shared with `jws.rs`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use schemas::c14n::{Algorithm, Document, NodeId};
use schemas::dsig::{sign_xml, DigestAlgorithm, ReferenceStyle, XmlSignOptions, DSIG_NS};
use schemas::pki::SigningIdentity;

use crate::support::{example, Fixture};

/// The example every case starts from, and its document element's `Id`.
pub(crate) const EXAMPLE: &str = "khai-tu.xml";
pub(crate) const ROOT_ID: &str = "hs-000.00.21.H41-261120-0312";

// Pieces of a signature as `sign_xml` writes it with the default options.
pub(crate) const CM_EXC: &str = r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#;
pub(crate) const SM_RSA_SHA256: &str =
    r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>"#;
pub(crate) const SM_ECDSA_SHA256: &str =
    r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>"#;
pub(crate) const T_ENVELOPED: &str =
    r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#;
pub(crate) const T_EXC: &str = r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#;
pub(crate) const DM_SHA256: &str = r#"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>"#;

fn exc() -> Algorithm {
    Algorithm::Exclusive { comments: false, inclusive_prefixes: vec![] }
}

/// The example signed by `who` with the default options and a reference style.
pub(crate) fn signed_by(id: &SigningIdentity, style: ReferenceStyle) -> String {
    let opts = XmlSignOptions { reference: style, ..XmlSignOptions::default() };
    String::from_utf8(sign_xml(&example(EXAMPLE), id, &opts).expect("sign")).expect("UTF-8")
}

pub(crate) fn signed(f: &Fixture, who: &str, style: ReferenceStyle) -> String {
    signed_by(&f.identity(who), style)
}

/// `s` with the one occurrence of `from` replaced (panics unless there is exactly one,
/// so that a case can never silently test the untampered document).
pub(crate) fn replace_once(s: &str, from: &str, to: &str) -> String {
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

pub(crate) fn element<'a>(s: &'a str, tag: &str) -> &'a str {
    &s[element_range(s, tag)]
}

/// `s` without its first `<tag>` element; and that element.
pub(crate) fn cut(s: &str, tag: &str) -> (String, String) {
    let r = element_range(s, tag);
    (format!("{}{}", &s[..r.start], &s[r.end..]), s[r].to_owned())
}

/// Sets the text content of the first `<tag>` element.
pub(crate) fn set_text(s: &str, tag: &str, value: &str) -> String {
    let r = element_range(s, tag);
    let inner_start = r.start + s[r.clone()].find('>').expect("start tag") + 1;
    let inner_end = r.end - tag.len() - 3;
    format!("{}{value}{}", &s[..inner_start], &s[inner_end..])
}

pub(crate) fn text_of<'a>(s: &'a str, tag: &str) -> &'a str {
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
pub(crate) fn reseal_with(xml: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
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
pub(crate) fn reseal(xml: &str, id: &SigningIdentity) -> String {
    reseal_with(xml, |b| id.sign(b).expect("sign SignedInfo"))
}

/// The digest the current Reference would need over the current content
/// (exclusive C14N, without the signature).
pub(crate) fn digest_for(xml: &str) -> String {
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
pub(crate) fn redigest(xml: &str) -> String {
    set_text(xml, "ds:DigestValue", &digest_for(xml))
}

/// The base64 DER certificates of a PEM chain file of the dev PKI.
pub(crate) fn chain_b64(path: &Path) -> Vec<String> {
    let pem = std::fs::read(path).expect("read the chain");
    CertificateDer::pem_slice_iter(&pem).map(|c| B64.encode(c.expect("a PEM certificate").as_ref())).collect()
}

pub(crate) fn key_info(certs: &[String]) -> String {
    let mut s = String::from("<ds:KeyInfo><ds:X509Data>");
    for c in certs {
        s.push_str(&format!("<ds:X509Certificate>{c}</ds:X509Certificate>"));
    }
    s.push_str("</ds:X509Data></ds:KeyInfo>");
    s
}

/// `xml` with its KeyInfo replaced.
pub(crate) fn with_key_info(xml: &str, new: &str) -> String {
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
pub(crate) struct Scratch(pub(crate) PathBuf);

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
