//! The simulator's HTTP/1.1 server: bind, serve, go down, come back on the same port.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, Mutex};
use tokio::task::{JoinHandle, JoinSet};

use super::faults::FaultState;
use super::service::{respond, stopping, Shared, Stop};
use super::stats::Counters;
use super::{Faults, SimHandler, SimStats};

/// How long a graceful shutdown waits for requests in progress.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running simulator server: a real listener on a fixed port serving one
/// [`SimHandler`], with faults and control endpoints. Dropping it stops it.
pub struct SimServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    running: Mutex<Option<Running>>,
}

/// One period during which the server is up.
struct Running {
    stop: watch::Sender<Stop>,
    task: JoinHandle<()>,
}

impl Running {
    fn spawn(listener: TcpListener, shared: Arc<Shared>) -> Self {
        let (stop, rx) = watch::channel(Stop::Run);
        let task = tokio::spawn(accept_loop(listener, shared, rx));
        Self { stop, task }
    }

    async fn end(self, how: Stop) {
        self.stop.send_replace(how);
        let _ = self.task.await;
    }
}

impl SimServer {
    /// Binds `addr` (port 0 picks a free port) and starts serving `handler`.
    pub async fn start(addr: SocketAddr, handler: Arc<dyn SimHandler>) -> io::Result<Self> {
        let listener = bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared { handler, faults: FaultState::new(), counters: Counters::default() });
        let running = Running::spawn(listener, shared.clone());
        Ok(Self { shared, addr, running: Mutex::new(Some(running)) })
    }

    /// The address the server is bound to (kept across [`go_down`](Self::go_down)).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, such as `http://127.0.0.1:41234` (loopback when bound to any address).
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults.get()
    }

    /// Replaces the faults; clearing `hang` releases held requests.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.set(faults);
    }

    /// The server's counters.
    pub fn stats(&self) -> SimStats {
        self.shared.counters.snapshot()
    }

    /// Zeroes the server's counters and clears the faults (the agency's state is
    /// the handler's business).
    pub fn reset(&self) {
        self.shared.counters.reset();
        self.shared.faults.set(Faults::default());
    }

    /// Whether the server is listening.
    pub async fn is_up(&self) -> bool {
        self.running.lock().await.is_some()
    }

    /// Closes the listener and drops every connection, as a crashed host would:
    /// clients then get "connection refused". Nothing received is forgotten.
    pub async fn go_down(&self) {
        let running = self.running.lock().await.take();
        if let Some(r) = running {
            r.end(Stop::Abort).await;
        }
    }

    /// Listens again on the same address after [`go_down`](Self::go_down); does
    /// nothing if the server is up.
    pub async fn come_up(&self) -> io::Result<()> {
        let mut running = self.running.lock().await;
        if running.is_none() {
            *running = Some(Running::spawn(bind(self.addr)?, self.shared.clone()));
        }
        Ok(())
    }

    /// Stops accepting, lets requests in progress finish (up to a few seconds),
    /// drops held ones, and closes every connection.
    pub async fn shutdown(&self) {
        let running = self.running.lock().await.take();
        if let Some(r) = running {
            r.end(Stop::Graceful).await;
        }
    }
}

/// Binds with `SO_REUSEADDR`, so the same port can be taken again right after
/// [`SimServer::go_down`] even while old connections linger in TIME_WAIT.
fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop_rx: watch::Receiver<Stop>) {
    let mut conns = JoinSet::new();
    let mut stop = stop_rx.clone();
    loop {
        tokio::select! {
            _ = stopping(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(connection(stream, shared.clone(), stop_rx.clone()));
                }
                // Out of descriptors and the like: pause rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    // A dropped handle leaves `Run` in the channel: treat it as an abort.
    if *stop.borrow() == Stop::Graceful {
        let drain = async { while conns.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, drain).await;
    }
    conns.shutdown().await;
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, stop: watch::Receiver<Stop>) {
    let _ = stream.set_nodelay(true);
    let mut watch_stop = stop.clone();
    let service = service_fn(move |req| respond(shared.clone(), stop.clone(), req));
    let conn = http1::Builder::new().timer(TokioTimer::new()).serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopping(&mut watch_stop) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
