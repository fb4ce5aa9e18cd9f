//! The processes a benchmark runs beside the generator: the gateway, the agency
//! simulators and the peers (nginx, HAProxy), each a real child process on
//! 127.0.0.1, killed when dropped; and what can be read of them from `/proc`.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// A child process, killed (and reaped) when dropped.
pub struct Proc {
    /// What it is, for messages.
    pub name: String,
    child: Child,
}

impl Proc {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it with SIGTERM and waits (SIGKILL after 10 s).
    pub fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self) -> (u64, u64) {
        memory_kib(self.pid())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of `pid` now and at its peak, in KiB; zeros when unreadable.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU seconds (user and system) `pid` has used; 0 when unreadable.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<f64>().ok()).sum::<f64>() / 100.0
}

/// A free port on 127.0.0.1 (`n` consecutive free ports, the first returned).
pub fn free_ports(n: u16) -> anyhow::Result<u16> {
    'search: for _ in 0..200 {
        let first = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if first > u16::MAX - n {
            continue;
        }
        let mut held = Vec::new();
        for p in first..first + n {
            match TcpListener::bind(("127.0.0.1", p)) {
                Ok(l) => held.push(l),
                Err(_) => continue 'search,
            }
        }
        return Ok(first);
    }
    anyhow::bail!("no {n} consecutive free ports on 127.0.0.1")
}

/// Waits until `addr` accepts connections.
pub fn wait_listening(addr: SocketAddr, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "nothing listens on {addr} after {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Spawns `cmd` with its standard error in `log` and its standard output piped.
fn spawn(name: &str, cmd: &mut Command, log: &Path) -> anyhow::Result<Proc> {
    let err = std::fs::File::create(log).with_context(|| format!("create {}", log.display()))?;
    let child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(err).spawn().with_context(|| format!("start {name}"))?;
    Ok(Proc { name: name.to_owned(), child })
}

/// The four agency simulators (`lienthong simulate`): DVCQG, MPI, MOIT and MOJ on
/// consecutive ports from `first`.
pub struct Simulators {
    /// The process.
    pub proc: Proc,
    /// The first port (DVCQG); MPI, MOIT and MOJ follow.
    pub first: u16,
}

impl Simulators {
    /// Starts them and waits until all four listen.
    pub fn start(lienthong: &Path, first: u16, password: &str, dir: &Path) -> anyhow::Result<Self> {
        let mut cmd = Command::new(lienthong);
        cmd.args(["simulate", "--listen", &format!("127.0.0.1:{first}"), "--password", password]);
        let proc = spawn("simulators", &mut cmd, &dir.join("simulators.log"))?;
        for p in first..first + 4 {
            wait_listening(SocketAddr::from(([127, 0, 0, 1], p)), Duration::from_secs(20))?;
        }
        Ok(Self { proc, first })
    }

    /// The base URL of simulator `i` (0 DVCQG, 1 MPI, 2 MOIT, 3 MOJ).
    pub fn url(&self, i: u16) -> String {
        format!("http://127.0.0.1:{}", self.first + i)
    }

    /// The address of simulator `i`.
    pub fn addr(&self, i: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.first + i))
    }
}

/// A gateway process (`lienthong serve`).
pub struct Gateway {
    /// The process.
    pub proc: Proc,
    /// Where it listens.
    pub addr: SocketAddr,
    /// From the spawn to the first 200 of `/readyz`.
    pub ready_after: Duration,
    /// Its embedded store's directory, removed when it is stopped (a ten-minute
    /// soak leaves gigabytes); `None` keeps it.
    pub data: Option<PathBuf>,
}

impl Gateway {
    /// Starts `lienthong serve --config <config>` and waits until it is ready.
    pub fn start(lienthong: &Path, config: &Path, log: &Path) -> anyhow::Result<Self> {
        let started = Instant::now();
        let mut cmd = Command::new(lienthong);
        cmd.arg("serve").arg("--config").arg(config);
        let mut proc = spawn("gateway", &mut cmd, log)?;
        let stdout = proc.child.stdout.take().context("the gateway's standard output")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let url = line
            .trim()
            .strip_prefix("lienthong listening on http://")
            .with_context(|| format!("the gateway did not start (see {}): {line:?}", log.display()))?;
        let addr: SocketAddr = url.trim_end_matches('/').parse()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if http_get(addr, "/readyz").map(|(s, _)| s == 200).unwrap_or(false) {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "the gateway was not ready in 60 s (see {})", log.display());
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(Self { proc, addr, ready_after: started.elapsed(), data: None })
    }

    /// Stops it gracefully, then removes its store's directory, if it has one to
    /// remove.
    pub fn stop(self) {
        self.proc.stop();
        if let Some(dir) = self.data {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A minimal blocking `GET` (readiness and metrics between runs): status and body.
pub fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).context("no status line")?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// nginx 1.22 from Debian, one worker, keep-alive to the upstream: a reverse
/// proxy of `upstream` on `port`.
pub fn nginx(dir: &Path, port: u16, upstream: SocketAddr) -> anyhow::Result<Proc> {
    let root = dir.join("nginx");
    std::fs::create_dir_all(&root)?;
    let conf = format!(
        r#"worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  upstream simulator {{ server {upstream}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{port} reuseport;
    keepalive_requests 1000000;
    location / {{
      proxy_pass http://simulator;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
    }}
  }}
}}
"#,
        root = root.display()
    );
    let path = root.join("nginx.conf");
    std::fs::write(&path, conf)?;
    let mut cmd = Command::new(which("nginx")?);
    cmd.arg("-c").arg(&path).arg("-p").arg(&root);
    let proc = spawn("nginx", &mut cmd, &root.join("stderr.log"))?;
    wait_listening(SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(10))?;
    Ok(proc)
}

/// HAProxy 2.6 from Debian, one thread, keep-alive both ways: a reverse proxy of
/// `upstream` on `port`.
pub fn haproxy(dir: &Path, port: u16, upstream: SocketAddr) -> anyhow::Result<Proc> {
    let root = dir.join("haproxy");
    std::fs::create_dir_all(&root)?;
    let conf = format!(
        r#"global
  nbthread 1
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend lookups
  bind 127.0.0.1:{port}
  default_backend simulator
backend simulator
  server s1 {upstream} maxconn 512
"#
    );
    let path = root.join("haproxy.cfg");
    std::fs::write(&path, conf)?;
    let mut cmd = Command::new(which("haproxy")?);
    cmd.arg("-db").arg("-f").arg(&path);
    let proc = spawn("haproxy", &mut cmd, &root.join("stderr.log"))?;
    wait_listening(SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_secs(10))?;
    Ok(proc)
}

/// The path of a program on `PATH` (or in `/usr/sbin`, where Debian puts nginx
/// and HAProxy).
pub fn which(program: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .with_context(|| format!("{program} is not installed"))
}

/// The first line of a command's output (versions for the report).
pub fn version_of(program: &str, args: &[&str]) -> String {
    let Ok(path) = which(program) else { return format!("{program}: not installed") };
    match Command::new(path).args(args).output() {
        Ok(out) => {
            let text = if out.stdout.is_empty() { out.stderr } else { out.stdout };
            String::from_utf8_lossy(&text).lines().next().unwrap_or_default().trim().to_owned()
        }
        Err(e) => format!("{program}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in process for a gateway, with a store directory holding a file.
    fn stand_in(dir: &Path, data: Option<PathBuf>) -> Gateway {
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("data/lienthong.db"), b"x").unwrap();
        let proc = spawn("stand-in", Command::new("sleep").arg("30"), &dir.join("log")).unwrap();
        Gateway { proc, addr: SocketAddr::from(([127, 0, 0, 1], 9)), ready_after: Duration::ZERO, data }
    }

    #[test]
    fn a_stopped_gateway_leaves_its_store_only_when_asked_to() {
        let removed = tempfile::tempdir().unwrap();
        stand_in(removed.path(), Some(removed.path().join("data"))).stop();
        assert!(!removed.path().join("data").exists(), "the store is removed");
        assert!(removed.path().join("log").exists(), "the log stays");
        let kept = tempfile::tempdir().unwrap();
        stand_in(kept.path(), None).stop();
        assert!(kept.path().join("data/lienthong.db").exists(), "without a store to remove, nothing is removed");
    }

    #[test]
    fn free_ports_are_consecutive_and_bindable() {
        let first = free_ports(4).unwrap();
        for p in first..first + 4 {
            TcpListener::bind(("127.0.0.1", p)).expect("the port is free");
        }
    }

    #[test]
    fn this_process_has_memory_and_cpu_to_read() {
        let (rss, peak) = memory_kib(std::process::id());
        assert!(rss > 0 && peak >= rss, "{rss} {peak}");
        assert!(cpu_seconds(std::process::id()) >= 0.0);
        assert_eq!(memory_kib(u32::MAX), (0, 0), "no such process");
    }
}
