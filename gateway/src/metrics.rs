//! The gateway's Prometheus metrics: one registry, registered once at start-up.
//! Labels come from bounded sets only (route template, member, agency, outcome,
//! error code); never a dossier code or personal data.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Every metric of the gateway.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `lienthong_http_requests_total{route,method,member,status}`.
    pub http_requests: IntCounterVec,
    /// `lienthong_http_request_duration_seconds{route}`.
    pub http_duration: HistogramVec,
    /// `lienthong_dossiers_accepted_total{agency,dialect}`.
    pub dossiers_accepted: IntCounterVec,
    /// `lienthong_dossiers_refused_total{reason}`: reason is the error code.
    pub dossiers_refused: IntCounterVec,
    /// `lienthong_delivery_attempts_total{agency,outcome}`.
    pub delivery_attempts: IntCounterVec,
    /// `lienthong_delivery_duration_seconds{agency}`.
    pub delivery_duration: HistogramVec,
    /// `lienthong_lookups_total{agency,lookup,outcome}`.
    pub lookups: IntCounterVec,
    /// `lienthong_lookup_duration_seconds{agency}`.
    pub lookup_duration: HistogramVec,
    /// `lienthong_store_operation_duration_seconds{operation}`.
    pub store_duration: HistogramVec,
    /// `lienthong_signature_verifications_total{format,result}`: format `xmldsig`,
    /// `jws` or `none`; result `valid`, `absent` or the error code.
    pub signature_verifications: IntCounterVec,
    /// `lienthong_certificate_expiry_timestamp_seconds{role,name}`: when each
    /// trusted root and the gateway's own certificate expire.
    pub certificate_expiry: IntGaugeVec,
    /// `lienthong_crl_reloads_total{result}`: scheduled CRL reloads, `ok` or `error`.
    pub crl_reloads: IntCounterVec,
    /// `lienthong_status_events_total{status,source,outcome}`: status 1 to 10;
    /// source `sender`, `target_agency` or `poll`; outcome `accepted`,
    /// `duplicate` or the refusal's error code.
    pub status_events: IntCounterVec,
    /// `lienthong_status_polls_total{agency,outcome}`: poll rounds, `ok` or `error`.
    pub status_polls: IntCounterVec,
    /// `lienthong_dossiers{agency,timeliness}`: every dossier by where it stands
    /// against its due date now (`on_time`, `late`, `within_time`, `overdue`); their
    /// sum is every dossier received.
    pub dossiers: IntGaugeVec,
    /// `lienthong_rate_limited_total{member,class}`: requests refused with 429.
    pub rate_limited: IntCounterVec,
    /// `lienthong_queue_depth{agency}`: deliveries waiting per agency.
    pub queue_depth: IntGaugeVec,
    /// `lienthong_tls_reloads_total{result}`: TLS files reloaded, `ok` or `error`.
    pub tls_reloads: IntCounterVec,
    /// `lienthong_tls_handshake_failures_total{reason}`: `refused` or `timeout`.
    pub tls_handshake_failures: IntCounterVec,
    /// `lienthong_access_denied_total{member,route,rule}`: 403s by the rule's code.
    pub access_denied: IntCounterVec,
    /// `lienthong_deliveries_in_flight{agency}`: requests to each agency now.
    pub deliveries_in_flight: IntGaugeVec,
    /// `lienthong_overloaded_total{limit}`: connections closed and requests refused
    /// by `connections`, `requests` or `deadline`.
    pub overloaded: IntCounterVec,
    /// `lienthong_circuit_state{agency}`: 0 closed, 1 open, 2 half-open.
    pub circuit_state: IntGaugeVec,
    /// `lienthong_circuit_transitions_total{agency,state}`: changes into each state.
    pub circuit_transitions: IntCounterVec,
    /// `lienthong_dead_letter_replays_total{agency}`: dead letters queued again.
    pub dead_letter_replays: IntCounterVec,
    /// `lienthong_queue_oldest_age_seconds{agency}`: how long the oldest waiting
    /// delivery has waited (0 when none waits).
    pub queue_oldest_age: IntGaugeVec,
    /// `lienthong_dead_letters{agency}`: deliveries failed for good, waiting for
    /// an operator (read from the store at each scrape).
    pub dead_letters: IntGaugeVec,
    /// `lienthong_feed_lag_events{member}`: entries in a member's feed after the
    /// last position it read from.
    pub feed_lag: IntGaugeVec,
    /// `lienthong_ready`: 1 when `/readyz` would answer 200.
    pub ready: IntGauge,
    /// `lienthong_config_reloads_total{result}`: SIGHUP reloads, `ok` or `error`.
    pub config_reloads: IntCounterVec,
    /// `lienthong_audit_heads_total{outcome}`: rounds of signing the message log's
    /// head: `signed`, `idle` (nothing new) or `error`.
    pub audit_heads: IntCounterVec,
    /// `lienthong_audit_unsigned_records`: records written since the last signed head.
    pub audit_unsigned: IntGauge,
    /// `lienthong_build_info{version}` = 1.
    pub build_info: IntGaugeVec,
}

const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
            registry.register(Box::new(c.clone())).expect("metric registered once");
            c
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()), labels)
                .expect("valid metric definition");
            registry.register(Box::new(h.clone())).expect("metric registered once");
            h
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
            registry.register(Box::new(g.clone())).expect("metric registered once");
            g
        };
        let http_requests = counter(
            "lienthong_http_requests_total",
            "HTTP requests by route template, method, member and status",
            &["route", "method", "member", "status"],
        );
        let http_duration =
            histogram("lienthong_http_request_duration_seconds", "HTTP request latency by route template", &["route"]);
        let dossiers_accepted =
            counter("lienthong_dossiers_accepted_total", "Dossiers accepted and stored", &["agency", "dialect"]);
        let dossiers_refused =
            counter("lienthong_dossiers_refused_total", "Dossier submissions refused, by error code", &["reason"]);
        let delivery_attempts = counter(
            "lienthong_delivery_attempts_total",
            "Delivery attempts by agency and outcome",
            &["agency", "outcome"],
        );
        let delivery_duration =
            histogram("lienthong_delivery_duration_seconds", "Latency of delivery attempts by agency", &["agency"]);
        let lookups = counter(
            "lienthong_lookups_total",
            "Look-ups by agency, look-up name and outcome (ok or the error code)",
            &["agency", "lookup", "outcome"],
        );
        let lookup_duration =
            histogram("lienthong_lookup_duration_seconds", "Latency of look-ups by agency", &["agency"]);
        let store_duration =
            histogram("lienthong_store_operation_duration_seconds", "Latency of store operations", &["operation"]);
        let signature_verifications = counter(
            "lienthong_signature_verifications_total",
            "Signature verifications of submitted dossiers by format and result (valid, absent or the error code)",
            &["format", "result"],
        );
        let crl_reloads =
            counter("lienthong_crl_reloads_total", "Scheduled CRL reloads by result (ok or error)", &["result"]);
        let certificate_expiry = gauge(
            "lienthong_certificate_expiry_timestamp_seconds",
            "Expiry (Unix time) of each trusted root (role anchor) and of the gateway's own certificate (role gateway)",
            &["role", "name"],
        );
        let status_events = counter(
            "lienthong_status_events_total",
            "Status events by state (1-10), source (sender, target_agency, poll) and outcome",
            &["status", "source", "outcome"],
        );
        let status_polls =
            counter("lienthong_status_polls_total", "Status poll rounds by agency and outcome", &["agency", "outcome"]);
        let dossiers = gauge(
            "lienthong_dossiers",
            "Dossiers by deciding agency and timeliness now (on_time, late, within_time, overdue)",
            &["agency", "timeliness"],
        );
        let rate_limited = counter(
            "lienthong_rate_limited_total",
            "Requests refused with 429 by member and class (submit, lookup, read)",
            &["member", "class"],
        );
        let queue_depth = gauge("lienthong_queue_depth", "Deliveries waiting per agency", &["agency"]);
        let tls_reloads =
            counter("lienthong_tls_reloads_total", "Reloads of changed TLS files by result (ok, error)", &["result"]);
        let tls_handshake_failures = counter(
            "lienthong_tls_handshake_failures_total",
            "TLS handshakes that failed, by reason (refused, timeout)",
            &["reason"],
        );
        let access_denied = counter(
            "lienthong_access_denied_total",
            "Requests refused with 403 by member, route template and rule (the error code)",
            &["member", "route", "rule"],
        );
        let deliveries_in_flight =
            gauge("lienthong_deliveries_in_flight", "Delivery requests in flight per agency", &["agency"]);
        let overloaded = counter(
            "lienthong_overloaded_total",
            "Connections closed and requests refused by the gateway's limits (connections, requests, deadline)",
            &["limit"],
        );
        let circuit_state =
            gauge("lienthong_circuit_state", "Circuit of each agency: 0 closed, 1 open, 2 half-open", &["agency"]);
        let circuit_transitions = counter(
            "lienthong_circuit_transitions_total",
            "Circuit changes by agency and the state entered (closed, open, half_open)",
            &["agency", "state"],
        );
        let dead_letter_replays =
            counter("lienthong_dead_letter_replays_total", "Dead letters queued again by operators", &["agency"]);
        let queue_oldest_age = gauge(
            "lienthong_queue_oldest_age_seconds",
            "How long the oldest delivery waiting for each agency has waited",
            &["agency"],
        );
        let dead_letters =
            gauge("lienthong_dead_letters", "Deliveries failed for good, waiting for an operator", &["agency"]);
        let feed_lag = gauge(
            "lienthong_feed_lag_events",
            "Entries in each member's feed after the last position it read from",
            &["member"],
        );
        let single_gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric definition");
            registry.register(Box::new(g.clone())).expect("metric registered once");
            g
        };
        let ready = single_gauge("lienthong_ready", "1 when the gateway is ready (as /readyz)");
        let config_reloads = counter(
            "lienthong_config_reloads_total",
            "Configuration reloads (SIGHUP) by result (ok or error)",
            &["result"],
        );
        let audit_heads = counter(
            "lienthong_audit_heads_total",
            "Rounds of signing the message log's head, by outcome (signed, idle, error)",
            &["outcome"],
        );
        let audit_unsigned =
            single_gauge("lienthong_audit_unsigned_records", "Message-log records written since the last signed head");
        let build_info = gauge("lienthong_build_info", "Build information", &["version"]);
        build_info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        Self {
            registry,
            http_requests,
            http_duration,
            dossiers_accepted,
            dossiers_refused,
            delivery_attempts,
            delivery_duration,
            lookups,
            lookup_duration,
            store_duration,
            signature_verifications,
            certificate_expiry,
            crl_reloads,
            status_events,
            status_polls,
            dossiers,
            rate_limited,
            queue_depth,
            tls_reloads,
            tls_handshake_failures,
            access_denied,
            deliveries_in_flight,
            overloaded,
            circuit_state,
            circuit_transitions,
            dead_letter_replays,
            queue_oldest_age,
            dead_letters,
            feed_lag,
            config_reloads,
            ready,
            audit_heads,
            audit_unsigned,
            build_info,
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
