//! A minimal HTTP/1.0 GET for readiness probes from the host: enough to read
//! a status line, without pulling an HTTP client into the build.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TIMEOUT: Duration = Duration::from_secs(2);

/// `GET http://{addr}{path}` answers 2xx within two seconds.
pub async fn ok(addr: &str, path: &str) -> bool {
    tokio::time::timeout(TIMEOUT, get_status(addr, path))
        .await
        .ok()
        .and_then(Result::ok)
        .is_some_and(|code| (200..300).contains(&code))
}

async fn get_status(addr: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: stackctl\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    // The status line is all we need.
    while !head.contains(&b'\n') && head.len() < 4096 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    parse_status(&head).ok_or_else(|| std::io::Error::other("not an HTTP response"))
}

fn parse_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let mut parts = text.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(
            parse_status(b"HTTP/1.1 200 OK\r\nContent-Type: x\r\n"),
            Some(200)
        );
        assert_eq!(
            parse_status(b"HTTP/1.0 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status(b""), None);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn probes_a_local_server() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            for status in ["200 OK", "503 Service Unavailable"] {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let _ = sock.read(&mut buf).await.unwrap();
                let reply = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                sock.write_all(reply.as_bytes()).await.unwrap();
            }
        });
        assert!(ok(&addr, "/-/ready").await);
        assert!(!ok(&addr, "/-/ready").await);
        server.await.unwrap();
        // Nothing listens any more.
        assert!(!ok(&addr, "/-/ready").await);
    }
}
