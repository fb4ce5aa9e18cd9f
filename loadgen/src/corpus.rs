//! The dossiers a run sends: each one unique (its own dossier code), about 10 KB,
//! and signed before the timed run starts, on every core, so that signing does
//! not load the machine while the gateway is measured.
//!
//! Signed corpora are kept in a cache directory, keyed by kind, count and the
//! signer's certificate chain, because signing 100,000 RSA-2048 documents takes
//! minutes; a changed chain or count signs afresh.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use schemas::dsig::{sign_xml, XmlSignOptions};
use schemas::jws::sign_detached;
use schemas::pki::SigningIdentity;

/// The size dossiers are grown to before signing, in bytes.
pub const TARGET_SIZE: usize = 10 * 1024;

/// The XML example dossier (a death registration, routed to Justice).
const KHAI_TU_XML: &str = include_str!("../../schemas/examples/khai-tu.xml");
/// Its dossier code, replaced by each dossier's own.
const KHAI_TU_CODE: &str = "000.00.21.H41-261120-0312";
/// The JSON example dossier (a birth registration, routed to Justice).
const KHAI_SINH_JSON: &str = include_str!("../../schemas/examples/khai-sinh.json");

/// One dossier to send: its body and, for a signed JSON dossier, its detached
/// JWS (the `X-Signature`-style header the gateway reads).
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// The request body.
    pub body: Vec<u8>,
    /// The detached JWS of a signed JSON body.
    pub jws: Option<String>,
}

/// What a corpus holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// XML with an enveloped XML signature.
    SignedXml,
    /// JSON with a detached JWS.
    SignedJson,
    /// JSON, unsigned (backlog and soak runs, where the store is measured).
    Json,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::SignedXml => "xml",
            Kind::SignedJson => "jws",
            Kind::Json => "json",
        }
    }
}

/// A unique, valid dossier code: `<unit>-20261201-<n>` (an eight-digit date and
/// a seven-digit sequence, as newer one-stop-shop systems number dossiers); the
/// unit tells corpora apart, so two corpora never share a code.
pub fn code(unit: &str, n: u64) -> String {
    format!("{unit}-20261201-{:07}", n % 10_000_000)
}

/// A one-page PDF, base64: the content of every file the corpus adds. Justice
/// takes files only inline, so every file of a corpus dossier is carried inline.
const PAGE_PDF_BASE64: &str = "JVBERi0xLjQKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCjIg\
MCBvYmoKPDwgL1R5cGUgL1BhZ2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUgL1BhZ2Ug\
L1BhcmVudCAyIDAgUiAvTWVkaWFCb3ggWzAgMCA1OTUgODQyXSA+PgplbmRvYmoKdHJhaWxlcgo8PCAvUm9vdCAxIDAgUiA+PgolJUVPRgo=";

/// The URL-only file of `khai-tu.xml`.
const KHAI_TU_URL_FILE: &str =
    "<DuongDanTaiTepTin>https://dichvucong.ninhbinh.gov.vn/files/KT312-1</DuongDanTaiTepTin>";

/// `khai-tu.xml` grown to about [`TARGET_SIZE`] bytes by more submitted files,
/// each inline, with `code` as its dossier code (and in its `Id`).
pub fn xml_dossier(code: &str) -> String {
    let text = KHAI_TU_XML
        .replace(KHAI_TU_CODE, code)
        .replace(KHAI_TU_URL_FILE, &format!("{KHAI_TU_URL_FILE}\n      <DuLieuTep>{PAGE_PDF_BASE64}</DuLieuTep>"));
    let end = text.find("</TaiLieuNop>").expect("khai-tu.xml has TaiLieuNop");
    let (head, tail) = text.split_at(end);
    let mut body = head.to_owned();
    let mut n = 0;
    while body.len() + tail.len() < TARGET_SIZE {
        n += 1;
        body.push_str(&format!(
            "  <TepDinhKem>\n      <TepDinhKemId>KT312-B{n:03}</TepDinhKemId>\n      \
             <TenTepDinhKem>Giấy tờ chứng minh nhân thân và quan hệ số {n}.pdf</TenTepDinhKem>\n      \
             <MaThanhPhanHoSo>GTK</MaThanhPhanHoSo>\n      \
             <DuLieuTep>{PAGE_PDF_BASE64}</DuLieuTep>\n    \
             </TepDinhKem>\n  "
        ));
    }
    body.push_str(tail);
    body
}

/// `khai-sinh.json` grown to about [`TARGET_SIZE`] bytes by more submitted
/// files, with `code` as its dossier code.
pub fn json_dossier(code: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(KHAI_SINH_JSON).expect("khai-sinh.json is JSON");
    value["MaHoSo"] = serde_json::Value::String(code.to_owned());
    for file in value["TaiLieuNop"].as_array_mut().expect("khai-sinh.json has TaiLieuNop") {
        file["DuLieuTep"] = serde_json::Value::String(PAGE_PDF_BASE64.to_owned());
    }
    let mut n = 0;
    loop {
        let json = serde_json::to_string_pretty(&value).expect("serialise the dossier");
        if json.len() >= TARGET_SIZE {
            return json;
        }
        n += 1;
        value["TaiLieuNop"].as_array_mut().expect("khai-sinh.json has TaiLieuNop").push(serde_json::json!({
            "TepDinhKemId": format!("f-7d1c9b{n:02}"),
            "TenTepDinhKem": format!("Giấy tờ chứng minh quan hệ số {n}.pdf"),
            "MaThanhPhanHoSo": "GTK",
            "DuLieuTep": PAGE_PDF_BASE64,
        }));
    }
}

/// The unsigned JSON dossier template with a placeholder code, and a cheap way
/// to make dossier `n` of it (a soak of millions of dossiers cannot be kept in
/// memory; substituting the code costs a copy).
pub struct JsonTemplate {
    head: String,
    tail: String,
    unit: String,
}

impl JsonTemplate {
    /// The template for codes of `unit`.
    pub fn new(unit: &str) -> Self {
        let marker = code(unit, 0);
        let text = json_dossier(&marker);
        let at = text.find(&marker).expect("the code is in the dossier");
        Self { head: text[..at].to_owned(), tail: text[at + marker.len()..].to_owned(), unit: unit.to_owned() }
    }

    /// Dossier `n`.
    pub fn dossier(&self, n: u64) -> Vec<u8> {
        let code = code(&self.unit, n);
        let mut out = Vec::with_capacity(self.head.len() + code.len() + self.tail.len());
        out.extend_from_slice(self.head.as_bytes());
        out.extend_from_slice(code.as_bytes());
        out.extend_from_slice(self.tail.as_bytes());
        out
    }
}

/// Makes `count` documents of `kind` with codes of `unit`, signed by `signer`
/// (ignored for [`Kind::Json`]), on every core; from `cache` when a previous
/// run made the same.
pub fn build(
    kind: Kind,
    unit: &str,
    count: usize,
    signer: Option<&SigningIdentity>,
    cache: Option<&Path>,
) -> anyhow::Result<Vec<Doc>> {
    let key = cache_key(kind, unit, count, signer);
    if let Some(path) = cache.map(|dir| dir.join(&key)) {
        if let Ok(docs) = read_cache(&path) {
            if docs.len() == count {
                return Ok(docs);
            }
        }
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let per = count.div_ceil(threads).max(1);
    let docs: anyhow::Result<Vec<Vec<Doc>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..count)
            .step_by(per)
            .map(|from| {
                let to = (from + per).min(count);
                s.spawn(move || {
                    (from..to).map(|n| make(kind, unit, n as u64, signer)).collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().map_err(|_| anyhow::anyhow!("a signing thread panicked"))?).collect()
    });
    let docs: Vec<Doc> = docs?.into_iter().flatten().collect();
    if let Some(dir) = cache {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        write_cache(&dir.join(&key), &docs)?;
    }
    Ok(docs)
}

/// Dossier `n` of `kind`.
fn make(kind: Kind, unit: &str, n: u64, signer: Option<&SigningIdentity>) -> anyhow::Result<Doc> {
    let code = code(unit, n);
    match kind {
        Kind::SignedXml => {
            let signer = signer.context("a signed corpus needs a signer")?;
            let body = sign_xml(xml_dossier(&code).as_bytes(), signer, &XmlSignOptions::default())?;
            Ok(Doc { body, jws: None })
        }
        Kind::SignedJson => {
            let signer = signer.context("a signed corpus needs a signer")?;
            let body = json_dossier(&code).into_bytes();
            let jws = sign_detached(&body, signer, chrono::Utc::now().timestamp())?;
            Ok(Doc { body, jws: Some(jws) })
        }
        Kind::Json => Ok(Doc { body: json_dossier(&code).into_bytes(), jws: None }),
    }
}

fn cache_key(kind: Kind, unit: &str, count: usize, signer: Option<&SigningIdentity>) -> String {
    let mut h = 0xcbf29ce484222325u64;
    for c in signer.map(|s| s.chain()).unwrap_or_default() {
        for b in c.as_ref() {
            h = (h ^ u64::from(*b)).wrapping_mul(0x100000001b3);
        }
    }
    for b in KHAI_TU_XML.bytes().chain(KHAI_SINH_JSON.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    format!("corpus-{}-{unit}-{count}-{h:016x}.bin", kind.tag())
}

/// The cache format: per document, the body's length (u32 LE), the body, the
/// JWS's length (u32 LE, 0 for none) and the JWS.
fn write_cache(path: &PathBuf, docs: &[Doc]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    for d in docs {
        let jws = d.jws.as_deref().unwrap_or_default().as_bytes();
        out.write_all(&u32::try_from(d.body.len())?.to_le_bytes())?;
        out.write_all(&d.body)?;
        out.write_all(&u32::try_from(jws.len())?.to_le_bytes())?;
        out.write_all(jws)?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn read_cache(path: &Path) -> anyhow::Result<Vec<Doc>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    let mut docs = Vec::new();
    let mut rest = bytes.as_slice();
    let take = |rest: &mut &[u8]| -> anyhow::Result<Vec<u8>> {
        anyhow::ensure!(rest.len() >= 4, "truncated cache");
        let n = u32::from_le_bytes(rest[..4].try_into()?) as usize;
        anyhow::ensure!(rest.len() >= 4 + n, "truncated cache");
        let v = rest[4..4 + n].to_vec();
        *rest = &rest[4 + n..];
        Ok(v)
    };
    while !rest.is_empty() {
        let body = take(&mut rest)?;
        let jws = take(&mut rest)?;
        docs.push(Doc { body, jws: (!jws.is_empty()).then(|| String::from_utf8_lossy(&jws).into_owned()) });
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dossiers_are_valid_about_ten_kilobytes_and_carry_their_own_code() {
        let xml = xml_dossier(&code("000.00.21.H41", 7));
        let d = schemas::dossier_from_xml(xml.as_bytes()).expect("a valid XML dossier");
        assert_eq!(d.code.as_str(), "000.00.21.H41-20261201-0000007");
        assert!((TARGET_SIZE..TARGET_SIZE + 1024).contains(&xml.len()), "{} bytes", xml.len());
        let json = json_dossier(&code("000.00.31.H29", 8));
        let d = schemas::dossier_from_json(json.as_bytes()).expect("a valid JSON dossier");
        assert_eq!(d.code.as_str(), "000.00.31.H29-20261201-0000008");
        assert!(json.len() >= TARGET_SIZE);
    }

    #[test]
    fn the_template_makes_the_same_dossier_as_the_builder() {
        let t = JsonTemplate::new("000.00.12.H49");
        assert_eq!(t.dossier(42), json_dossier(&code("000.00.12.H49", 42)).into_bytes());
        assert_ne!(t.dossier(1), t.dossier(2));
    }

    #[test]
    fn a_corpus_is_unique_and_survives_its_cache() {
        let dir = tempfile::tempdir().unwrap();
        let docs = build(Kind::Json, "000.00.31.H29", 50, None, Some(dir.path())).unwrap();
        let codes: std::collections::BTreeSet<_> =
            docs.iter().map(|d| schemas::dossier_from_json(&d.body).unwrap().code.as_str().to_owned()).collect();
        assert_eq!(codes.len(), 50, "every dossier has its own code");
        let again = build(Kind::Json, "000.00.31.H29", 50, None, Some(dir.path())).unwrap();
        assert_eq!(again, docs);
        assert!(build(Kind::SignedXml, "000.00.31.H29", 1, None, None).is_err(), "signing needs a signer");
    }
}
