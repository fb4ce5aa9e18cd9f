//! The HTTP client every adapter sends through, and the exchange it makes: send a
//! request, keep the status and body of whatever answer comes, and describe a
//! missing answer by its kind and cause.
//!
//! [`AgencyClient`] is hyper's pooled client over rustls (TLS 1.2 and 1.3, ALPN
//! `h2` and `http/1.1`), with one time limit for the whole exchange, a limit on
//! the answer's size, and no redirects followed: an agency's `3xx` is its answer,
//! which each adapter classifies like any other status. Each adapter's
//! `transport.rs` adds its own headers and wraps a [`TransportFailure`] in its own
//! error type, naming the call.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, USER_AGENT};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// How an [`AgencyClient`] behaves, whatever the agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// The longest a whole exchange may take: connecting, sending, and reading the
    /// answer to its end.
    pub timeout: Duration,
    /// The longest a TCP connection may take to open.
    pub connect_timeout: Duration,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
    /// The `User-Agent` of every request.
    pub user_agent: String,
    /// The largest answer body read; a longer one is a `body` failure.
    pub max_answer_bytes: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            pool_idle_timeout: Duration::from_secs(90),
            user_agent: concat!("lienthong/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_answer_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The TLS side of an [`AgencyClient`]: whom it trusts and how it identifies itself.
#[derive(Debug, Default)]
pub struct ClientTls {
    /// The CA certificates an agency's server certificate must chain to; `None`
    /// trusts the public web roots.
    pub roots: Option<Vec<CertificateDer<'static>>>,
    /// The gateway's client certificate chain and its private key, for agencies
    /// that ask for one.
    pub identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

/// Why an [`AgencyClient`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("agency client: {0}")]
pub struct ClientError(String);

/// A pooled HTTP/1.1 and HTTP/2 client for agencies; cheap to clone (clones share
/// the pool).
#[derive(Clone)]
pub struct AgencyClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    settings: Arc<ClientSettings>,
    user_agent: HeaderValue,
}

impl std::fmt::Debug for AgencyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgencyClient").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl AgencyClient {
    /// A client trusting the public web roots, without a client certificate.
    pub fn new(settings: ClientSettings) -> Result<Self, ClientError> {
        Self::with_tls(settings, ClientTls::default())
    }

    /// A client with its own trust anchors and client certificate.
    pub fn with_tls(settings: ClientSettings, tls: ClientTls) -> Result<Self, ClientError> {
        let fail = |e: &dyn std::fmt::Display| ClientError(e.to_string());
        let user_agent = HeaderValue::from_str(&settings.user_agent).map_err(|e| fail(&e))?;
        let mut roots = RootCertStore::empty();
        match tls.roots {
            Some(certs) => {
                if certs.is_empty() {
                    return Err(ClientError("no trust anchor".into()));
                }
                for cert in certs {
                    roots.add(cert).map_err(|e| fail(&e))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let builder = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| fail(&e))?
            .with_root_certificates(roots);
        let config = match tls.identity {
            Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| fail(&e))?,
            None => builder.with_no_client_auth(),
        };
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(settings.connect_timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(settings.pool_idle_timeout)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        Ok(Self { client, settings: Arc::new(settings), user_agent })
    }

    /// The settings in use.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// A `GET` of `url`.
    pub(crate) fn get(&self, url: &str) -> Call<'_> {
        self.call(Method::GET, url)
    }

    /// A `POST` to `url`.
    pub(crate) fn post(&self, url: &str) -> Call<'_> {
        self.call(Method::POST, url)
    }

    fn call(&self, method: Method, url: &str) -> Call<'_> {
        Call { client: self, method, url: url.to_owned(), headers: HeaderMap::new(), body: Bytes::new(), bad: None }
    }
}

/// A request being prepared; nothing is sent before [`Call::send`].
pub(crate) struct Call<'c> {
    client: &'c AgencyClient,
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Bytes,
    /// The first header that could not be used: the request fails when sent.
    bad: Option<String>,
}

impl Call<'_> {
    /// Adds a header; a name or value HTTP does not allow fails the request when sent.
    pub(crate) fn header(mut self, name: impl TryInto<HeaderName>, value: impl AsRef<str>) -> Self {
        match (name.try_into(), HeaderValue::from_str(value.as_ref())) {
            (Ok(n), Ok(v)) => {
                self.headers.append(n, v);
            }
            _ => {
                self.bad.get_or_insert_with(|| "a header name or value HTTP does not allow".to_owned());
            }
        }
        self
    }

    /// `Authorization: Bearer <token>`.
    pub(crate) fn bearer_auth(self, token: &str) -> Self {
        self.header(AUTHORIZATION, format!("Bearer {token}"))
    }

    /// `Authorization: Basic`, of `user:password`.
    pub(crate) fn basic_auth(self, user: &str, password: &str) -> Self {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.header(AUTHORIZATION, format!("Basic {encoded}"))
    }

    /// The request body.
    pub(crate) fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends the request and returns the status and body of the answer, whatever
    /// the status; only the absence of a whole answer is an error.
    pub(crate) async fn send(self) -> Result<(u16, Bytes), TransportFailure> {
        let client = self.client;
        if let Some(detail) = self.bad {
            return Err(TransportFailure { kind: "request", detail });
        }
        let uri = parse_uri(&self.url)?;
        let mut request = Request::new(Full::new(self.body));
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = self.headers;
        request.headers_mut().entry(USER_AGENT).or_insert_with(|| client.user_agent.clone());
        let max = client.settings.max_answer_bytes;
        let exchange = async {
            let response = client.client.request(request).await.map_err(|e| TransportFailure::of(&e))?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), max).collect().await.map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    TransportFailure { kind: "body", detail: format!("the answer is longer than {max} bytes") }
                } else {
                    TransportFailure { kind: "body", detail: innermost(e.as_ref()) }
                }
            })?;
            Ok((status, body.to_bytes()))
        };
        match tokio::time::timeout(client.settings.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(TransportFailure {
                kind: "timeout",
                detail: format!("no whole answer within {:?}", client.settings.timeout),
            }),
        }
    }
}

/// An absolute `http` or `https` URL as a request target. A URL hyper does not
/// take as it is (an internationalised host name, say) is normalised first.
fn parse_uri(url: &str) -> Result<Uri, TransportFailure> {
    let refused = |why: &str| TransportFailure { kind: "request", detail: format!("{why}: {url}") };
    let uri = match url.parse::<Uri>() {
        Ok(u) => u,
        Err(_) => {
            let normal = url::Url::parse(url).map_err(|_| refused("not a URL"))?;
            normal.as_str().parse::<Uri>().map_err(|_| refused("not a URL"))?
        }
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none_or(str::is_empty) {
        return Err(refused("not an absolute http(s) URL"));
    }
    Ok(uri)
}

/// Why no answer came: the kind of failure and its innermost cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TransportFailure {
    /// `connect`, `timeout`, `body`, `request` or `transport`.
    pub(crate) kind: &'static str,
    /// The innermost cause, such as "Connection refused (os error 111)".
    pub(crate) detail: String,
}

impl TransportFailure {
    /// Classifies a client error and keeps its innermost cause: a time-out
    /// anywhere in its causes is `timeout`, a failure to connect `connect`.
    fn of(e: &hyper_util::client::legacy::Error) -> Self {
        let timed_out = causes(e)
            .any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut));
        let kind = if timed_out {
            "timeout"
        } else if e.is_connect() {
            "connect"
        } else {
            "transport"
        };
        Self { kind, detail: innermost(e) }
    }
}

/// `e` and each of its sources in turn.
fn causes<'a>(e: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(e);
    std::iter::from_fn(move || {
        let current = next?;
        next = current.source();
        Some(current)
    })
}

fn innermost(e: &(dyn StdError + 'static)) -> String {
    causes(e).last().map(ToString::to_string).unwrap_or_default()
}

/// Adds each `(name, value)` header to `call`.
pub(crate) fn with_headers<'c>(mut call: Call<'c>, headers: &[(&'static str, &str)]) -> Call<'c> {
    for (name, value) in headers {
        call = call.header(*name, *value);
    }
    call
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> AgencyClient {
        AgencyClient::new(ClientSettings { timeout: Duration::from_secs(5), ..ClientSettings::default() })
            .expect("client builds")
    }

    #[test]
    fn only_absolute_http_urls_are_sent() {
        assert!(parse_uri("http://127.0.0.1:9/x").is_ok());
        assert!(parse_uri("https://moit.example.vn/api/v1/ho-so").is_ok());
        assert_eq!(parse_uri("https://bộ.example.vn/x").unwrap().host(), Some("xn--b-8xm.example.vn"));
        for bad in ["/relative", "ftp://h/x", "not a url/x", "http://", "https://:443/x", ""] {
            assert_eq!(parse_uri(bad).unwrap_err().kind, "request", "{bad}");
        }
    }

    #[test]
    fn an_empty_set_of_trust_anchors_is_refused() {
        let tls = ClientTls { roots: Some(Vec::new()), identity: None };
        assert!(AgencyClient::with_tls(ClientSettings::default(), tls).is_err());
        let settings = ClientSettings { user_agent: "bad\nagent".into(), ..ClientSettings::default() };
        assert!(AgencyClient::new(settings).is_err());
    }

    #[tokio::test]
    async fn a_header_http_does_not_allow_fails_before_anything_is_sent() {
        let c = client();
        let failure = c.get("http://127.0.0.1:9/x").header("x-ok", "line\nbreak").send().await.unwrap_err();
        assert_eq!(failure.kind, "request");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_failure_naming_its_cause() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let failure = client().get(&format!("http://127.0.0.1:{port}/x")).send().await.unwrap_err();
        assert_eq!(failure.kind, "connect");
        assert!(failure.detail.contains("refused"), "{}", failure.detail);
    }

    /// A server on a real socket that reads one request, hands its head to the
    /// test and answers with `answer` (or never, when `None`).
    async fn server(answer: Option<Vec<u8>>) -> (String, tokio::sync::oneshot::Receiver<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
            match answer {
                Some(a) => {
                    let _ = stream.write_all(&a).await;
                    let _ = stream.shutdown().await;
                }
                None => tokio::time::sleep(Duration::from_secs(30)).await,
            }
        });
        (url, rx)
    }

    #[tokio::test]
    async fn the_request_carries_its_headers_and_the_answer_comes_back_whatever_its_status() {
        let (url, head) = server(Some(b"HTTP/1.1 422 Unprocessable\r\ncontent-length: 5\r\n\r\nnope!".to_vec())).await;
        let answer = client()
            .post(&format!("{url}/api/x"))
            .basic_auth("lienthong", "s3cret")
            .header("x-request-id", "r-1")
            .body(b"{}".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(answer, (422, Bytes::from_static(b"nope!")));
        let head = head.await.unwrap().to_ascii_lowercase();
        assert!(head.starts_with("post /api/x http/1.1\r\n"), "{head}");
        assert!(head.contains("authorization: basic bgllbnrob25nonmzy3jlda==\r\n"), "{head}");
        assert!(head.contains("x-request-id: r-1\r\n"), "{head}");
        assert!(head.contains(concat!("user-agent: lienthong/", env!("CARGO_PKG_VERSION"))), "{head}");
        assert!(head.contains("content-length: 2\r\n"), "{head}");
    }

    #[tokio::test]
    async fn a_redirect_is_the_answer_and_is_not_followed() {
        let (url, _head) = server(Some(
            b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/elsewhere\r\ncontent-length: 0\r\n\r\n".to_vec(),
        ))
        .await;
        let (status, body) = client().get(&format!("{url}/x")).bearer_auth("t").send().await.unwrap();
        assert_eq!((status, body.len()), (302, 0));
    }

    #[tokio::test]
    async fn an_agency_that_does_not_answer_in_time_is_a_timeout() {
        let (url, _head) = server(None).await;
        let quick =
            AgencyClient::new(ClientSettings { timeout: Duration::from_millis(200), ..ClientSettings::default() })
                .unwrap();
        let started = std::time::Instant::now();
        let failure = quick.get(&format!("{url}/x")).send().await.unwrap_err();
        assert_eq!(failure.kind, "timeout");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn an_answer_longer_than_the_limit_is_a_body_failure() {
        let mut answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2048\r\n\r\n".to_vec();
        answer.extend(std::iter::repeat_n(b'a', 2048));
        let (url, _head) = server(Some(answer)).await;
        let small = AgencyClient::new(ClientSettings { max_answer_bytes: 1024, ..ClientSettings::default() }).unwrap();
        let failure = small.get(&format!("{url}/x")).send().await.unwrap_err();
        assert_eq!(failure.kind, "body");
        assert!(failure.detail.contains("1024"), "{}", failure.detail);
    }

    #[tokio::test]
    async fn an_answer_cut_short_is_a_failure_not_a_short_body() {
        let (url, _head) = server(Some(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this".to_vec())).await;
        let failure = client().get(&format!("{url}/x")).send().await.unwrap_err();
        assert_eq!(failure.kind, "body");
    }
}
