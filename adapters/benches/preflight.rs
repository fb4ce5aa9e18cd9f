//! What the acceptance check of the Justice adapter costs on the benchmark
//! corpus's dossier: `encode` is the whole civil-status push built and serialised, as
//! the check once was; `check` is [`Adapter::check`], the service and each
//! attachment's content checked without building the push.
//!
//! Run with `cargo bench -p adapters --bench preflight` (a few seconds).

use std::hint::black_box;

use adapters::moj::{MojAdapter, MojConfig};
use adapters::{Adapter, Delivery};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use schemas::{AgencyId, Dossier};

/// The load generator's XML dossier (a death registration of about 10 KB,
/// every file inline), read into the canonical model.
fn dossier() -> Dossier {
    let xml = loadgen::corpus::xml_dossier(&loadgen::corpus::code("000.00.31.H29", 1));
    let d = schemas::dossier_from_xml(xml.as_bytes()).expect("the corpus dossier is valid");
    assert!(d.files.len() > 10 && d.files.iter().all(|f| f.content_base64.is_some()), "every file is inline");
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
