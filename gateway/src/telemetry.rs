//! OpenTelemetry export of the gateway's spans over OTLP/HTTP (protobuf), when
//! `log.otlp_endpoint` is set. Spans are batched and sent from the exporter's
//! own thread, never on the request path; an unreachable collector loses
//! spans, not requests.

use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;

/// A tracer provider exporting to `endpoint` under `service` as `service.name`.
pub fn provider(endpoint: &str, service: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .build()?;
    let resource = Resource::builder().with_service_name(service.to_owned()).build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}
