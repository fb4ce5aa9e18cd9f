//! What the acceptance check of the Justice adapter costs on the benchmark
//! corpus's dossier (a death registration of about 10 KB whose files are all
//! inline): `encode` is the whole civil-status push built and serialised, as
//! the check once was; `check` is [`Adapter::check`], the service and each
//! attachment's content checked without building the push.
//!
//! Run with `cargo bench -p adapters --bench preflight` (a few seconds).

use std::hint::black_box;
use std::path::PathBuf;

use adapters::moj::{MojAdapter, MojConfig};
use adapters::{Adapter, Delivery};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use schemas::{AgencyId, Dossier};

/// The size the dossier is grown to, in bytes, as the load generator's corpus.
const TARGET_SIZE: usize = 10 * 1024;

/// `examples/khai-tu.xml` with every file inline, grown by more inline files to
/// about [`TARGET_SIZE`] bytes, read into the canonical model.
fn dossier() -> Dossier {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/examples/khai-tu.xml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let example = schemas::dossier_from_xml(text.as_bytes()).expect("khai-tu.xml is a valid dossier");
    let content: String = example
        .files
        .iter()
        .find_map(|f| f.content_base64.clone())
        .expect("khai-tu.xml has an inline file")
        .split_ascii_whitespace()
        .collect();
    let url_only = "</DuongDanTaiTepTin>";
    let text = text.replacen(url_only, &format!("{url_only}\n      <DuLieuTep>{content}</DuLieuTep>"), 1);
    let end = text.find("</TaiLieuNop>").expect("khai-tu.xml has TaiLieuNop");
    let (head, tail) = text.split_at(end);
    let mut body = head.to_owned();
    let mut n = 0;
    while body.len() + tail.len() < TARGET_SIZE {
        n += 1;
        body.push_str(&format!(
            "  <TepDinhKem>\n      <TepDinhKemId>KT312-B{n:03}</TepDinhKemId>\n      \
             <TenTepDinhKem>Giấy tờ số {n}.pdf</TenTepDinhKem>\n      \
             <MaThanhPhanHoSo>GTK</MaThanhPhanHoSo>\n      \
             <DuLieuTep>{content}</DuLieuTep>\n    </TepDinhKem>\n  "
        ));
    }
    body.push_str(tail);
    let d = schemas::dossier_from_xml(body.as_bytes()).expect("the grown dossier is valid");
    assert!(d.files.iter().all(|f| f.content_base64.is_some()), "every file is inline");
    d
}

fn adapter() -> MojAdapter {
    let config = MojConfig {
        url: "http://127.0.0.1:1".into(),
        username: Some("lienthong".into()),
        password: Some("bench".into()),
        password_env: None,
        token: None,
        token_env: None,
        unit_code: "000.00.31.H29".into(),
        province_code: "79".into(),
        auth_key: Some("bench".into()),
        auth_key_env: None,
    };
    let client = adapters::AgencyClient::new(adapters::ClientSettings::default()).expect("client builds");
    MojAdapter::new(AgencyId::parse("moj").expect("agency id"), config, client)
}

fn preflight(c: &mut Criterion) {
    let (d, adapter) = (dossier(), adapter());
    let delivery = Delivery { dossier: &d, idempotency_key: "preflight", correlation_id: "preflight", signer: None };
    assert!(adapter.encode(&delivery).is_ok() && adapter.check(&d).is_ok(), "the dossier can be carried");
    let mut group = c.benchmark_group("moj_preflight");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode", |b| b.iter(|| adapter.encode(black_box(&delivery)).map(drop)));
    group.bench_function("check", |b| b.iter(|| adapter.check(black_box(&d))));
    group.finish();
}

criterion_group!(benches, preflight);
criterion_main!(benches);
