//! One HTTP/1.1 keep-alive connection per worker, on hyper's connection API:
//! nothing between the load and the socket but the protocol.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, HOST};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A request to send, built before the timed run.
#[derive(Debug, Clone)]
pub struct Req {
    /// The method.
    pub method: Method,
    /// Path and query.
    pub path: String,
    /// Headers besides `Host` and `Content-Length`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body (empty for a `GET`).
    pub body: Bytes,
}

impl Req {
    /// A `GET` of `path` with `headers`.
    pub fn get(path: impl Into<String>, headers: Vec<(HeaderName, HeaderValue)>) -> Self {
        Self { method: Method::GET, path: path.into(), headers, body: Bytes::new() }
    }

    /// A `POST` of `body` to `path` with `headers`.
    pub fn post(path: impl Into<String>, headers: Vec<(HeaderName, HeaderValue)>, body: impl Into<Bytes>) -> Self {
        Self { method: Method::POST, path: path.into(), headers, body: body.into() }
    }
}

/// A header, for [`Req`]; panics on a value that is not a valid header value
/// (every caller passes values it made itself).
pub fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (HeaderName::from_static(name), HeaderValue::from_str(value).expect("a valid header value"))
}

/// `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> (HeaderName, HeaderValue) {
    header("authorization", &format!("Bearer {token}"))
}

/// An open connection to one server.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Conn {
    /// Connects to `addr` (with `TCP_NODELAY`, as every HTTP client does).
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Self { sender, host: HeaderValue::from_str(&addr.to_string())? })
    }

    /// Sends `req` and reads the whole answer: its status and body. An error
    /// leaves the connection unusable (open a new one).
    pub async fn send(&mut self, req: &Req) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut builder = Request::builder().method(req.method.clone()).uri(req.path.as_str());
        let headers = builder.headers_mut().expect("a fresh builder");
        headers.insert(HOST, self.host.clone());
        if !req.body.is_empty() || req.method == Method::POST {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(req.body.len()));
        }
        for (name, value) in &req.headers {
            headers.append(name.clone(), value.clone());
        }
        let request = builder.body(Full::new(req.body.clone()))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}
