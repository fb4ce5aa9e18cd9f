//! One request through a simulator: control endpoints, then faults, then the agency.

use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use serde_json::json;
use tokio::sync::watch;

use super::faults::FaultState;
use super::stats::Counters;
use super::{Faults, SimHandler, SimRequest, SimResponse};

/// The largest request body a simulator reads.
const MAX_BODY_BYTES: usize = 16 << 20;

/// Paths under this prefix are control endpoints, exempt from faults.
const CONTROL_PREFIX: &str = "/_sim/";

/// What the accept loop and every connection of one run of the server are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Keep serving.
    Run,
    /// Stop accepting; let answered requests finish; drop held ones.
    Graceful,
    /// Drop every connection now, as a crashed host would.
    Abort,
}

/// Resolves once the server is told to stop (or its handle is gone).
pub(crate) async fn stopping(rx: &mut watch::Receiver<Stop>) {
    let _ = rx.wait_for(|s| *s != Stop::Run).await;
}

/// State shared by the handle and every connection.
pub(crate) struct Shared {
    pub(crate) handler: Arc<dyn SimHandler>,
    pub(crate) faults: FaultState,
    pub(crate) counters: Counters,
}

/// A request left unanswered because the server is stopping; hyper then closes
/// the connection without an answer.
#[derive(Debug, thiserror::Error)]
#[error("simulator stopping")]
pub(crate) struct Dropped;

/// Serves one request.
pub(crate) async fn respond(
    shared: Arc<Shared>,
    mut stop: watch::Receiver<Stop>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Ok(to_hyper(SimResponse::text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")));
        }
        Err(_) => return Err(Dropped),
    };
    let path = parts.uri.path().to_owned();
    if path.starts_with(CONTROL_PREFIX) {
        return Ok(to_hyper(control(&shared, &parts.method, &path, &body)));
    }

    Counters::bump(&shared.counters.requests);
    let _in_flight = shared.counters.enter();
    let faults = shared.faults.get();
    if !faults.latency.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(faults.latency) => {}
            _ = stopping(&mut stop) => return Err(Dropped),
        }
    }
    if faults.hang {
        Counters::bump(&shared.counters.hung);
        tokio::select! {
            _ = shared.faults.hang_cleared() => {}
            _ = stopping(&mut stop) => return Err(Dropped),
        }
    }
    if shared.faults.take_failure() {
        Counters::bump(&shared.counters.injected_failures);
        let page = "<html><body><h1>503 Service Unavailable</h1></body></html>";
        return Ok(to_hyper(SimResponse::bytes(StatusCode::SERVICE_UNAVAILABLE, "text/html", page)));
    }
    let request = SimRequest {
        method: parts.method,
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    };
    Ok(to_hyper(shared.handler.handle(request).await))
}

fn control(shared: &Shared, method: &Method, path: &str, body: &[u8]) -> SimResponse {
    match (method, path) {
        (&Method::GET, "/_sim/received") => SimResponse::json(StatusCode::OK, &shared.handler.received_json()),
        (&Method::GET, "/_sim/stats") => {
            SimResponse::json(StatusCode::OK, &shared.handler.stats_json(&shared.counters.snapshot()))
        }
        (&Method::GET, "/_sim/faults") => SimResponse::json(StatusCode::OK, &shared.faults.get()),
        (&Method::PUT, "/_sim/faults") => match serde_json::from_slice::<Faults>(body) {
            Ok(f) if !(0.0..=1.0).contains(&f.fail_ratio) => {
                SimResponse::json(StatusCode::BAD_REQUEST, &json!({"error": "fail_ratio must be from 0 to 1"}))
            }
            Ok(f) => {
                shared.faults.set(f.clone());
                SimResponse::json(StatusCode::OK, &f)
            }
            Err(e) => SimResponse::json(StatusCode::BAD_REQUEST, &json!({"error": e.to_string()})),
        },
        (&Method::POST, "/_sim/reset") => {
            shared.handler.reset();
            shared.counters.reset();
            shared.faults.set(Faults::default());
            SimResponse::bytes(StatusCode::NO_CONTENT, "text/plain", Bytes::new())
        }
        (_, "/_sim/received" | "/_sim/stats" | "/_sim/faults" | "/_sim/reset") => {
            SimResponse::json(StatusCode::METHOD_NOT_ALLOWED, &json!({"error": "method not allowed"}))
        }
        _ => SimResponse::json(StatusCode::NOT_FOUND, &json!({"error": "no such control endpoint"})),
    }
}

fn to_hyper(r: SimResponse) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(r.body));
    *response.status_mut() = r.status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(r.content_type));
    for (name, value) in r.headers {
        headers.append(name, value);
    }
    response
}
