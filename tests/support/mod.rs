//! Test support for `stackctl verify`: reserved ports, processes killed on drop,
//! and a small threaded HTTP server whose answers (and misbehaviour: hang,
//! drip, delay) each test scripts.

#![allow(dead_code)]

pub mod fakes;
pub mod smtp;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// A port on 127.0.0.1 that the OS picked and that stays bound until it is
/// handed over: as the listener of an in-process server ([`Reserved::listener`]),
/// or released the moment before a child process binds it ([`Reserved::release`]).
/// A port that was looked up and closed at once (the old `free_port()`) could
/// be given by the OS to another test of this binary in between.
pub struct Reserved {
    listener: TcpListener,
    port: u16,
}

pub fn reserve_port() -> Reserved {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("bound address").port();
    Reserved { listener, port }
}

impl Reserved {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bound listener, for a server in this process: no gap at all.
    pub fn listener(self) -> TcpListener {
        self.listener
    }

    /// Frees the port for a child process to bind; call it right before
    /// starting the child (the gap is then the child's start-up alone).
    pub fn release(self) -> u16 {
        drop(self.listener);
        self.port
    }
}

/// A child process killed (and reaped) when dropped, so a failing test
/// leaves nothing running.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    log: std::path::PathBuf,
}

impl Proc {
    pub fn start(
        name: &str,
        program: &std::path::Path,
        args: &[String],
        log_dir: &std::path::Path,
    ) -> Proc {
        let log = log_dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        Proc {
            name: name.into(),
            child: Some(child),
            log,
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGHUP (config reload) by process id.
    pub fn reload(&self) {
        if let Some(child) = &self.child {
            let status = Command::new("kill")
                .args(["-HUP", &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success());
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until `127.0.0.1:port` answers `path` with 200, or panics with the log.
pub fn wait_ready(port: u16, path: &str, within: Duration, proc_: &Proc) {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if http_get(port, path).is_some_and(|(status, _)| status == 200) {
            return;
        }
        thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{} did not get ready on port {port} within {within:?}:\n{}",
        proc_.name,
        proc_.log()
    );
}

/// A minimal blocking GET: (status, body).
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(1),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, percent-decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| decode(v))
    }

    /// `Basic` credentials as `user:password`.
    pub fn basic_auth(&self) -> Option<String> {
        let value = self.header("authorization")?.strip_prefix("Basic ")?;
        String::from_utf8(base64_decode(value)?).ok()
    }
}

pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in text.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// What the fake server does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    Respond {
        status: u16,
        content_type: &'static str,
        body: String,
        delay: Duration,
    },
    /// Accepts the request and never answers.
    Hang,
    /// Sends headers, then one body byte every `every`, forever.
    Drip { every: Duration },
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Respond {
            status,
            content_type: "application/json",
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply::Respond {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn delayed(self, by: Duration) -> Reply {
        match self {
            Reply::Respond {
                status,
                content_type,
                body,
                ..
            } => Reply::Respond {
                status,
                content_type,
                body,
                delay: by,
            },
            other => other,
        }
    }

    pub fn not_found() -> Reply {
        Reply::text(404, "404 page not found\n")
    }
}

pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// A threaded HTTP/1.1 server on 127.0.0.1; every connection is answered by
/// `handler` and closed. Stops accepting when dropped.
pub struct FakeServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> FakeServer {
        FakeServer::on(
            TcpListener::bind("127.0.0.1:0").expect("bind"),
            Arc::new(handler),
        )
    }

    pub fn on(listener: TcpListener, handler: Handler) -> FakeServer {
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        listener.set_nonblocking(true).expect("nonblocking");
        let flag = stop.clone();
        thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (handler, flag) = (handler.clone(), flag.clone());
                        thread::spawn(move || serve(stream, &handler, &flag));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeServer { port, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, handler: &Handler, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    let request = Request {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let mut stream = stream;
    match handler(&request) {
        Reply::Respond {
            status,
            content_type,
            body,
            delay,
        } => {
            thread::sleep(delay);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                reason(status),
                body.len()
            );
        }
        Reply::Hang => {
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(50));
            }
        }
        Reply::Drip { every } => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"
            );
            while !stop.load(Ordering::Relaxed) {
                if stream.write_all(b"#").and_then(|_| stream.flush()).is_err() {
                    break;
                }
                thread::sleep(every);
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    // Paths spelled out: benches/verify.rs includes this file too, without
    // a test harness, where a `use` only the test needs would be unused.
    // Issue 10: `free_port()` closed the port it found, so the OS could hand
    // it to another test of the binary before the server it was for bound it.
    #[test]
    fn reserved_ports_stay_bound_until_handed_over() {
        use super::{FakeServer, Reply, Request, http_get, reserve_port};
        use std::net::TcpListener;
        use std::sync::Arc;
        let reserved = reserve_port();
        let port = reserved.port();
        assert!(
            TcpListener::bind(("127.0.0.1", port)).is_err(),
            "nobody else can bind a reserved port"
        );
        let listener = reserved.listener();
        assert_eq!(listener.local_addr().unwrap().port(), port);
        let server = FakeServer::on(listener, Arc::new(|_: &Request| Reply::text(200, "ok")));
        assert_eq!(http_get(server.port, "/").map(|(s, _)| s), Some(200));

        let reserved = reserve_port();
        let port = reserved.release();
        let child_side = TcpListener::bind(("127.0.0.1", port));
        assert!(
            child_side.is_ok(),
            "a released port is free for its process"
        );
    }
}
