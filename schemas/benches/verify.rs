//! What verifying a signed dossier costs, per core: an enveloped XML signature
//! (`verify_xml`) and a detached JWS (`verify_detached`) over a dossier of about
//! 10 KB, under RSA-2048 (`portal-hanoi`) and ECDSA P-256 (`portal-hcm`) of the
//! development PKI, against a trust store of the dev roots and CRLs with
//! revocation required and the signer's chain carried in the signature.
//!
//! The trust store remembers chains that verified, so each verification is
//! measured twice: `<signer>` in the steady state of a member signing many
//! dossiers with one certificate (the chain's verdict is remembered), and
//! `<signer>_cold` as for a certificate seen for the first time or just after a
//! CRL reload (the chain is built and every certificate and CRL signature on it
//! checked; the reload that forgets the verdicts is not timed).
//!
//! Baselines show where the time goes: `xml_c14n_digest` is the XML work
//! without any cryptography (parse, read the signature, canonicalise the
//! referenced content and `SignedInfo`, digest), `chain_verify` is the trust
//! store's cold part alone, and `parse` reads the unsigned dossier into the
//! canonical model (what the gateway does after verification).
//!
//! Each benchmark counts one verification (or parse) as one element, so criterion
//! reports per-second figures; everything runs on one thread, so they are per
//! core. Run with `cargo bench -p schemas --bench verify` (under a minute), or
//! add `-- --quick` for a rougher figure in a few seconds.

#[path = "../../tests/common/dev_pki.rs"]
mod dev_pki;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use schemas::c14n::Document;
use schemas::dsig::{parse_signature, sign_xml, verify_xml, verify_xml_and_read, VerifyOptions, XmlSignOptions};
use schemas::jws::{sign_detached, verify_detached};
use schemas::pki::{CertInfo, RevocationPolicy, SigningIdentity, TrustStore};

use crate::dev_pki::{dev_pki, repo_root, DevPki};

/// The size the benchmark dossiers are grown to, in bytes (before signing).
const TARGET_SIZE: usize = 10 * 1024;

/// The signers: benchmark name and dev PKI certificate.
const SIGNERS: [(&str, &str); 2] = [("rsa2048", "portal-hanoi"), ("ecdsa_p256", "portal-hcm")];

/// The dev PKI, its trust store (every root and CRL, revocation required) and
/// the two documents every benchmark works on.
struct Fixture {
    /// The generated development PKI.
    pki: DevPki,
    /// The dev roots with their CRLs.
    store: TrustStore,
    /// An XML dossier of about [`TARGET_SIZE`] bytes, unsigned.
    xml: Vec<u8>,
    /// A JSON dossier of about [`TARGET_SIZE`] bytes.
    json: Vec<u8>,
}

impl Fixture {
    /// Loads the PKI (generating it on first use) and builds the dossiers.
    fn new() -> Self {
        let pki = dev_pki();
        let store = TrustStore::load(&[pki.roots()], RevocationPolicy::Require).expect("load the dev roots");
        store.reload_crls(&[pki.crls()]).expect("load the dev CRLs");
        Self { pki, store, xml: xml_dossier(), json: json_dossier() }
    }

    /// Reloads the CRLs, which voids every chain verdict the trust store
    /// remembers: the next verification builds and checks the chain afresh.
    fn forget_chains(&self) {
        self.store.reload_crls(&[self.pki.crls()]).expect("reload the dev CRLs");
    }

    /// The signing identity of a dev PKI certificate, with its chain.
    fn identity(&self, name: &str) -> SigningIdentity {
        let (key, _, chain) = self.pki.files(name);
        SigningIdentity::load(&key, &chain).unwrap_or_else(|e| panic!("load {name}: {e}"))
    }
}

/// An example dossier of the repository.
fn example(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("schemas/examples").join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// `examples/khai-tu.xml` grown to about [`TARGET_SIZE`] bytes by more submitted
/// files (`TaiLieuNop/TepDinhKem` by URL); still a valid dossier.
fn xml_dossier() -> Vec<u8> {
    let text = String::from_utf8(example("khai-tu.xml")).expect("khai-tu.xml is UTF-8");
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
             <DuongDanTaiTepTin>https://dichvucong.ninhbinh.gov.vn/files/KT312-B{n:03}</DuongDanTaiTepTin>\n    \
             </TepDinhKem>\n  "
        ));
    }
    body.push_str(tail);
    let xml = body.into_bytes();
    let dossier = schemas::dossier_from_xml(&xml).expect("the grown XML dossier is valid");
    assert_eq!(dossier.files.len(), 2 + n, "every added file is read");
    xml
}

/// `examples/khai-sinh.json` grown to about [`TARGET_SIZE`] bytes by more
/// submitted files; still a valid dossier.
fn json_dossier() -> Vec<u8> {
    let mut value: serde_json::Value =
        serde_json::from_slice(&example("khai-sinh.json")).expect("khai-sinh.json is JSON");
    let mut n = 0;
    loop {
        let json = serde_json::to_vec_pretty(&value).expect("serialise the dossier");
        if json.len() >= TARGET_SIZE {
            let dossier = schemas::dossier_from_json(&json).expect("the grown JSON dossier is valid");
            assert_eq!(dossier.files.len(), 2 + n, "every added file is read");
            return json;
        }
        n += 1;
        value["TaiLieuNop"].as_array_mut().expect("khai-sinh.json has TaiLieuNop").push(serde_json::json!({
            "TepDinhKemId": format!("f-7d1c9b{n:02}"),
            "TenTepDinhKem": format!("Giấy tờ chứng minh quan hệ số {n}.pdf"),
            "MaThanhPhanHoSo": "GTK",
            "DuongDanTaiTepTin": format!("https://dichvucong.hanoi.gov.vn/files/7d1c9b{n:02}/giay-to.pdf"),
        }));
    }
}

/// `verify_xml` of the dossier signed (once, before timing) by each signer with
/// exclusive C14N over the whole document: `<signer>` with the chain's verdict
/// remembered by the trust store (a member's steady state), `<signer>_cold` with
/// the chain built and checked afresh each time.
fn xml_verify(c: &mut Criterion, f: &Fixture, opts: &VerifyOptions) {
    let mut group = c.benchmark_group("xml_verify");
    group.throughput(Throughput::Elements(1));
    // Flat: a cold ECDSA verification takes milliseconds.
    group.sampling_mode(SamplingMode::Flat);
    for (bench, signer) in SIGNERS {
        let signed = sign_xml(&f.xml, &f.identity(signer), &XmlSignOptions::default()).expect("sign the dossier");
        let v = verify_xml(&signed, &f.store, opts).expect("the signed dossier verifies").expect("it is signed");
        assert_eq!(v.signer.cert.common_name.as_deref(), Some(signer), "signed by {signer}");
        export(f, bench, &signed);
        let verify = || verify_xml(black_box(&signed), &f.store, opts).expect("verifies");
        group.bench_function(bench, |b| b.iter(verify));
        group.bench_function(format!("{bench}_cold"), |b| {
            b.iter_batched(|| f.forget_chains(), |()| verify(), BatchSize::PerIteration);
        });
    }
    group.finish();
}

/// With `LIENTHONG_VERIFY_EXPORT` set to a directory, writes the signed document
/// there as `<bench>.xml`, and the dev roots as `roots.txt` (one file per line),
/// so that a peer (libxmlsec1, in the benchmark report) verifies exactly these.
fn export(f: &Fixture, bench: &str, signed: &[u8]) {
    let Some(dir) = std::env::var_os("LIENTHONG_VERIFY_EXPORT").map(std::path::PathBuf::from) else { return };
    std::fs::create_dir_all(&dir).expect("create the export directory");
    std::fs::write(dir.join(format!("{bench}.xml")), signed).expect("export the signed document");
    let mut roots: Vec<String> = std::fs::read_dir(f.pki.roots())
        .expect("read the dev roots")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pem"))
        .map(|p| p.display().to_string())
        .collect();
    roots.sort();
    std::fs::write(dir.join("roots.txt"), roots.join("\n") + "\n").expect("export the roots");
}

/// `verify_detached` of a JWS made (once, before timing) by each signer over the
/// JSON dossier, with the chain's verdict remembered and (`_cold`) without.
fn jws_verify(c: &mut Criterion, f: &Fixture, opts: &VerifyOptions) {
    let mut group = c.benchmark_group("jws_verify");
    group.throughput(Throughput::Elements(1));
    // Flat: a cold ECDSA verification takes milliseconds.
    group.sampling_mode(SamplingMode::Flat);
    for (bench, signer) in SIGNERS {
        let jws = sign_detached(&f.json, &f.identity(signer), opts.now).expect("sign the dossier");
        let v = verify_detached(&jws, &f.json, &f.store, opts).expect("the JWS verifies");
        assert_eq!(v.signer.cert.common_name.as_deref(), Some(signer), "signed by {signer}");
        let verify = || verify_detached(black_box(&jws), black_box(&f.json), &f.store, opts).expect("verifies");
        group.bench_function(bench, |b| b.iter(verify));
        group.bench_function(format!("{bench}_cold"), |b| {
            b.iter_batched(|| f.forget_chains(), |()| verify(), BatchSize::PerIteration);
        });
    }
    group.finish();
}

/// The XML part of verification without cryptography: parse, read the
/// signature under the strict profile, canonicalise and digest the referenced
/// content (checking the digest), canonicalise `SignedInfo`.
fn xml_c14n_digest(c: &mut Criterion, f: &Fixture) {
    let signed = sign_xml(&f.xml, &f.identity("portal-hanoi"), &XmlSignOptions::default()).expect("sign the dossier");
    let mut group = c.benchmark_group("xml_c14n_digest");
    group.throughput(Throughput::Elements(1));
    group.bench_function("exc_c14n_sha256", |b| {
        b.iter(|| {
            let doc = Document::parse(black_box(&signed)).expect("well-formed");
            let info = parse_signature(&doc).expect("the profile accepts it").expect("it is signed");
            let octets = doc.canonicalize(info.referenced, Some(info.signature), &info.reference_c14n);
            assert!(info.digest.digest(&octets) == info.digest_value, "the digest matches");
            doc.canonicalize(info.signed_info, None, &info.c14n)
        });
    });
    group.finish();
}

/// `TrustStore::verify` alone, with no remembered verdict: each signer's
/// carried chain (leaf and intermediate, parsed before timing) built to a dev
/// root, every certificate and CRL signature checked, CRLs required.
fn chain_verify(c: &mut Criterion, f: &Fixture, opts: &VerifyOptions) {
    let mut group = c.benchmark_group("chain_verify");
    group.throughput(Throughput::Elements(1));
    // Flat: a cold ECDSA verification takes milliseconds.
    group.sampling_mode(SamplingMode::Flat);
    for (bench, signer) in SIGNERS {
        let id = f.identity(signer);
        let (leaf, intermediates) = id.chain().split_first().expect("the chain holds the leaf");
        let leaf = CertInfo::parse(leaf).expect("the leaf parses");
        let times = [opts.now];
        f.store.verify(&leaf, intermediates, &times).expect("the chain verifies");
        group.bench_function(format!("{bench}_cold"), |b| {
            b.iter_batched(
                || f.forget_chains(),
                |()| f.store.verify(black_box(&leaf), intermediates, &times).expect("verifies"),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

/// Reading the unsigned dossiers into the canonical model, the work left after
/// verification.
fn parse(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    group.bench_function("dossier_from_xml", |b| {
        b.iter(|| schemas::dossier_from_xml(black_box(&f.xml)).expect("valid"));
    });
    group.bench_function("dossier_from_json", |b| {
        b.iter(|| schemas::dossier_from_json(black_box(&f.json)).expect("valid"));
    });
    group.finish();
}

/// A signed dossier verified and read into the model, as the gateway accepts
/// one: `verify_then_parse` reads the canonical octets the verification
/// returns with a second parse (as the gateway once did), `verify_and_read`
/// reads the tree the verification parsed (`verify_xml_and_read` and
/// `dossier_from_tree`, as it does now).
fn xml_read(c: &mut Criterion, f: &Fixture, opts: &VerifyOptions) {
    let mut group = c.benchmark_group("xml_read");
    group.throughput(Throughput::Elements(1));
    let (bench, signer) = SIGNERS[0];
    let signed = sign_xml(&f.xml, &f.identity(signer), &XmlSignOptions::default()).expect("sign the dossier");
    let then_parse = || {
        let v = verify_xml(black_box(&signed), &f.store, opts).expect("verifies").expect("signed");
        schemas::dossier_from_xml(&v.signed_octets).expect("valid")
    };
    let and_read = || {
        let read = |doc: &Document<'_>, apex, signature| schemas::dossier_from_tree(doc, apex, Some(signature));
        let (_, d) = verify_xml_and_read(black_box(&signed), &f.store, opts, read).expect("verifies").expect("signed");
        d.expect("valid")
    };
    assert_eq!(then_parse(), and_read(), "both read the same dossier");
    group.bench_function(format!("{bench}_verify_then_parse"), |b| b.iter(then_parse));
    group.bench_function(format!("{bench}_verify_and_read"), |b| b.iter(and_read));
    group.finish();
}

/// Every benchmark, sharing one fixture.
fn benches_all(c: &mut Criterion) {
    let f = Fixture::new();
    eprintln!("dossiers: XML {} bytes unsigned, JSON {} bytes", f.xml.len(), f.json.len());
    let opts = VerifyOptions::now();
    xml_verify(c, &f, &opts);
    jws_verify(c, &f, &opts);
    xml_c14n_digest(c, &f);
    chain_verify(c, &f, &opts);
    parse(c, &f);
    xml_read(c, &f, &opts);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches_all
}
criterion_main!(benches);
