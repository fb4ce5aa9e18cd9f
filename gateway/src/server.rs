//! The HTTP server: accepts connections, routes requests to handlers, maps every
//! refusal through [`ApiError`], and counts every request.

mod accept;
mod admin;
mod body;
mod feed;
mod lookup;
mod read;
pub mod receipt;
mod stats;
mod status;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tracing::{info, warn, Instrument};

use crate::auth::{Members, PeerCertificate};
use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::routing::RoutingTable;
use crate::store::Store;

/// Everything a request handler needs.
pub struct AppState {
    /// The configuration the gateway started with.
    pub config: Config,
    /// Token hash to member.
    pub members: crate::reload::Reloadable<Members>,
    /// Procedure to agency.
    pub routes: crate::reload::Reloadable<RoutingTable>,
    /// One adapter per configured agency.
    pub adapters: Arc<crate::delivery::Adapters>,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The metrics.
    pub metrics: Metrics,
    /// Wakes the delivery worker when a dossier is queued.
    pub wake: Arc<Notify>,
    /// Set once shutdown has begun; `/readyz` reports it.
    pub shutting_down: AtomicBool,
    /// Trust store, signature verification and the gateway's signing key.
    pub signatures: Arc<crate::signatures::Signatures>,
    /// Records status events and wakes the feeds.
    pub status: Arc<crate::status::StatusDesk>,
    /// Each member's rate limits.
    pub limits: crate::reload::Reloadable<crate::limits::MemberLimits>,
    /// Deliveries waiting per agency, for back-pressure.
    pub backlog: Arc<crate::limits::Backlog>,
    /// The TLS configuration, when serving HTTPS.
    pub tls: Option<Arc<crate::tls::TlsReloader>>,
    /// One permit per request being handled (`server.max_requests`).
    pub requests: Arc<tokio::sync::Semaphore>,
    /// Whether the message log can be signed; new work is refused when not.
    pub evidence: Arc<crate::audit::Evidence>,
}

/// The OpenAPI 3 description of the API, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../schemas/openapi.json");

/// A JSON response with the correlation id header.
pub fn json_response(status: StatusCode, body: Vec<u8>, correlation_id: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(correlation_id) {
        h.insert("x-request-id", v);
    }
    resp
}

/// Serialises `value` as a JSON response.
pub fn json<T: serde::Serialize>(status: StatusCode, value: &T, correlation_id: &str) -> Response<Full<Bytes>> {
    match serde_json::to_vec(value) {
        Ok(body) => json_response(status, body, correlation_id),
        Err(_) => ApiError::internal().into_response(correlation_id),
    }
}

/// The correlation id: the client's `X-Request-Id` when it is sane, else a new one.
fn correlation_id(req: &Request<Incoming>) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// What a handler produced, with the labels the request is counted under.
pub(crate) struct Handled {
    /// The route template, such as `/v1/dossiers/{code}`.
    pub route: &'static str,
    /// The member id, or `anonymous`.
    pub member: String,
    /// The response or the refusal.
    pub result: Result<Response<Full<Bytes>>, ApiError>,
}

async fn handle(st: Arc<AppState>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let cid = correlation_id(&req);
    let method = req.method().clone();
    let span = tracing::info_span!("request", correlation_id = %cid, method = %method);
    // Health and metrics are answered even at the limit: an orchestrator must not
    // restart a gateway for being busy.
    let exempt = matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics");
    let permit = if exempt { None } else { Some(st.requests.clone().try_acquire_owned()) };
    let handled = match permit.transpose() {
        Err(_) => {
            st.metrics.overloaded.with_label_values(&["requests"]).inc();
            let e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "the gateway is at its request limit; retry shortly",
            )
            .with_header(header::RETRY_AFTER, "1");
            Handled { route: "other", member: "anonymous".into(), result: Err(e) }
        }
        Ok(permit) => {
            let deadline = st.config.server.request_deadline
                + if req.uri().path() == "/v1/feed" { st.config.status.feed_max_wait } else { Duration::ZERO };
            let handled = tokio::time::timeout(deadline, dispatch(&st, req, &cid).instrument(span.clone())).await;
            drop(permit);
            handled.unwrap_or_else(|_| {
                st.metrics.overloaded.with_label_values(&["deadline"]).inc();
                let e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "deadline_exceeded",
                    "the request took longer than the gateway allows; nothing more is done for it",
                )
                .with_header(header::RETRY_AFTER, "5");
                Handled { route: "other", member: "anonymous".into(), result: Err(e) }
            })
        }
    };
    let route = handled.route;
    let resp = match handled.result {
        Ok(r) => {
            span.in_scope(|| tracing::debug!(route, member = %handled.member, status = r.status().as_u16(), "granted"));
            r
        }
        Err(e) => {
            if route == "/v1/dossiers" && method == Method::POST {
                st.metrics.dossiers_refused.with_label_values(&[e.code]).inc();
            }
            if e.status == StatusCode::FORBIDDEN {
                st.metrics.access_denied.with_label_values(&[&handled.member, route, e.code]).inc();
            }
            span.in_scope(
                || info!(route, member = %handled.member, status = e.status.as_u16(), code = e.code, "refused"),
            );
            e.into_response(&cid)
        }
    };
    let status = resp.status().as_u16().to_string();
    st.metrics.http_requests.with_label_values(&[route, method.as_str(), &handled.member, &status]).inc();
    st.metrics.http_duration.with_label_values(&[route]).observe(started.elapsed().as_secs_f64());
    resp
}

async fn dispatch(st: &Arc<AppState>, req: Request<Incoming>, cid: &str) -> Handled {
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let anonymous = |route, result| Handled { route, member: "anonymous".into(), result };
    match (req.method(), segments.as_slice()) {
        (&Method::POST, ["v1", "dossiers"]) => accept::submit(st, req, cid).await,
        (&Method::GET, ["v1", "dossiers", code]) => {
            let code = (*code).to_owned();
            read::dossier(st, req, &code, cid).await
        }
        (&Method::POST, ["v1", "dossiers", code, "status"]) => {
            let code = (*code).to_owned();
            status::post(st, req, &code, cid).await
        }
        (_, ["v1", "dossiers", _, "status"]) => {
            anonymous("/v1/dossiers/{code}/status", Err(method_not_allowed("POST")))
        }
        (&Method::GET, ["v1", "admin", "dead-letters"]) => admin::list(st, req, cid).await,
        (&Method::POST, ["v1", "admin", "dead-letters", id, "replay"]) => {
            let id = (*id).to_owned();
            admin::replay(st, req, &id, cid).await
        }
        (_, ["v1", "admin", "dead-letters"]) => anonymous("/v1/admin/dead-letters", Err(method_not_allowed("GET"))),
        (_, ["v1", "admin", "dead-letters", _, "replay"]) => {
            anonymous("/v1/admin/dead-letters/{id}/replay", Err(method_not_allowed("POST")))
        }
        (&Method::GET, ["v1", "feed"]) => feed::read(st, req, cid).await,
        (_, ["v1", "feed"]) => anonymous("/v1/feed", Err(method_not_allowed("GET"))),
        (&Method::GET, ["v1", "stats"]) => stats::stats(st, req, cid).await,
        (_, ["v1", "stats"]) => anonymous("/v1/stats", Err(method_not_allowed("GET"))),
        (&Method::GET, ["v1", "agencies", agency, "lookups", name]) => {
            let (agency, name) = ((*agency).to_owned(), (*name).to_owned());
            lookup::lookup(st, req, &agency, &name, cid).await
        }
        (_, ["v1", "agencies", _, "lookups", _]) => {
            anonymous("/v1/agencies/{agency}/lookups/{name}", Err(method_not_allowed("GET")))
        }
        (&Method::GET, ["healthz"]) => {
            anonymous("/healthz", Ok(json(StatusCode::OK, &serde_json::json!({"status": "ok"}), cid)))
        }
        (&Method::GET, ["readyz"]) => anonymous("/readyz", Ok(readiness(st, cid).await)),
        (&Method::GET, ["openapi.json"]) => {
            anonymous("/openapi.json", Ok(json_response(StatusCode::OK, OPENAPI.as_bytes().to_vec(), cid)))
        }
        (&Method::GET, ["metrics"]) => {
            stats::refresh_gauges(st).await;
            let mut resp = Response::new(Full::new(Bytes::from(st.metrics.render())));
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
            if let Ok(v) = HeaderValue::from_str(cid) {
                resp.headers_mut().insert("x-request-id", v);
            }
            anonymous("/metrics", Ok(resp))
        }
        (_, ["v1", "dossiers"]) => anonymous("/v1/dossiers", Err(method_not_allowed("POST"))),
        (_, ["v1", "dossiers", _]) => anonymous("/v1/dossiers/{code}", Err(method_not_allowed("GET"))),
        (_, ["healthz" | "readyz" | "metrics" | "openapi.json"]) => anonymous("other", Err(method_not_allowed("GET"))),
        _ => anonymous("other", Err(ApiError::not_found("no such endpoint"))),
    }
}

/// The query's parameters, each named at most once (400 `bad_query` otherwise).
pub(crate) fn query_params(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_query", format!("{k} is given twice")));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

fn method_not_allowed(allow: &'static str) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("this endpoint accepts {allow}"))
        .with_header(header::ALLOW, allow)
}

/// What stops the gateway from taking work, each named: empty when ready.
pub(crate) async fn readiness_problems(st: &AppState) -> Vec<String> {
    let mut problems = Vec::new();
    if st.shutting_down.load(Ordering::Relaxed) {
        problems.push("shutting down".to_owned());
    }
    if let Err(e) = st.store.ping().await {
        problems.push(format!("store unreachable: {e}"));
    }
    if let Some(p) = st.evidence.problem() {
        problems.push(p);
    }
    let now = chrono::Utc::now().timestamp();
    if let Some(id) = st.signatures.identity() {
        let c = id.certificate();
        if c.not_after < now || c.not_before > now {
            problems.push("the gateway's signing certificate is not valid now (signatures.certificate_chain)".into());
        }
    }
    if let Some(t) = &st.tls {
        if t.not_after() < now {
            problems.push("the TLS server certificate has expired (server.tls.certificate)".into());
        }
    }
    problems
}

async fn readiness(st: &AppState, cid: &str) -> Response<Full<Bytes>> {
    let problems = readiness_problems(st).await;
    if problems.is_empty() {
        json(StatusCode::OK, &serde_json::json!({"status": "ready"}), cid)
    } else {
        json(StatusCode::SERVICE_UNAVAILABLE, &serde_json::json!({"status": "not_ready", "problems": problems}), cid)
    }
}

/// The service of one connection: every request carries the connection's client
/// certificate, if any.
fn service(
    st: &Arc<AppState>,
    peer: Option<PeerCertificate>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl std::future::Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send,
> + Clone {
    let st = st.clone();
    service_fn(move |mut req: Request<Incoming>| {
        let st = st.clone();
        if let Some(p) = &peer {
            req.extensions_mut().insert(p.clone());
        }
        async move { Ok::<_, Infallible>(handle(st, req).await) }
    })
}

/// Serves HTTP on `listener` until `shutdown` turns true, then gives in-flight
/// requests the configured grace period.
pub async fn serve(listener: TcpListener, st: Arc<AppState>, mut shutdown: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(st.config.server.max_connections));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(st.config.server.header_read_timeout)
        .max_buf_size(st.config.server.max_header_bytes);
    builder.http2().max_header_list_size(u32::try_from(st.config.server.max_header_bytes).unwrap_or(u32::MAX));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer): (_, SocketAddr) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(connection) = connections.clone().try_acquire_owned() else {
                    // Over the limit: closed at once, before a byte is read.
                    st.metrics.overloaded.with_label_values(&["connections"]).inc();
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                match st.tls.clone() {
                    None => {
                        let conn = builder.serve_connection(TokioIo::new(stream), service(&st, None)).into_owned();
                        let conn = graceful.watch(conn);
                        tokio::spawn(async move {
                            let _ = conn.await;
                            drop(connection);
                        });
                    }
                    Some(tls) => {
                        // The handshake runs in the connection's own task, bounded in
                        // time, so a slow or silent client holds up no one else.
                        let (st, builder, watcher) = (st.clone(), builder.clone(), graceful.watcher());
                        tokio::spawn(async move {
                            let timeout = st.config.server.tls.as_ref().map(|t| t.handshake_timeout).unwrap_or_default();
                            let stream = match tokio::time::timeout(timeout, tls.acceptor().accept(stream)).await {
                                Ok(Ok(s)) => s,
                                Ok(Err(e)) => {
                                    st.metrics.tls_handshake_failures.with_label_values(&["refused"]).inc();
                                    tracing::debug!(error = %e, "TLS handshake refused");
                                    return;
                                }
                                Err(_) => {
                                    st.metrics.tls_handshake_failures.with_label_values(&["timeout"]).inc();
                                    return;
                                }
                            };
                            let peer = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|c| c.first())
                                .and_then(|der| schemas::pki::CertInfo::parse(der).ok())
                                .map(|c| PeerCertificate(Arc::new(c)));
                            let conn = builder.serve_connection(TokioIo::new(stream), service(&st, peer)).into_owned();
                            let _ = watcher.watch(conn).await;
                            drop(connection);
                        });
                    }
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let grace = st.config.server.shutdown_grace;
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        warn!(grace = ?grace, "in-flight requests did not finish within the shutdown grace period");
    }
}
