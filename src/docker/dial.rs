//! The two engine transports bollard does not give us as we need them:
//! TCP with TLS client certificates (the `DOCKER_CERT_PATH` files, trusting
//! only their CA), and SSH, where — as the docker CLI does — each connection
//! is `ssh … -- HOST docker system dial-stdio`, the HTTP conversation
//! streamed over the child's stdin and stdout. Both are connectors for
//! hyper's pooled client, so an idle connection (one ssh process) is reused
//! instead of starting ssh for every request.

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How one connection to the engine is opened.
#[derive(Clone)]
pub enum Dialer {
    Tls {
        /// `host:port`.
        addr: String,
        server_name: rustls::pki_types::ServerName<'static>,
        config: Arc<rustls::ClientConfig>,
    },
    /// The program (`ssh`, found on `PATH`) and its arguments.
    Ssh { program: String, args: Vec<String> },
}

/// Something both reads and writes, boxed so one connection type serves both transports.
trait Duplex: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Duplex for T {}

pub struct Stream(Pin<Box<dyn Duplex>>);

impl Connection for Stream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.as_mut().poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_shutdown(cx)
    }
}

impl tower_service::Service<hyper::Uri> for Dialer {
    type Response = TokioIo<Stream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TokioIo<Stream>>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let dialer = self.clone();
        Box::pin(async move { dialer.open().await.map(|s| TokioIo::new(Stream(s))) })
    }
}

impl Dialer {
    async fn open(self) -> io::Result<Pin<Box<dyn Duplex>>> {
        match self {
            Dialer::Tls {
                addr,
                server_name,
                config,
            } => {
                let tcp = tokio::net::TcpStream::connect(&addr).await?;
                let tls = tokio_rustls::TlsConnector::from(config)
                    .connect(server_name, tcp)
                    .await?;
                Ok(Box::pin(tls))
            }
            Dialer::Ssh { program, args } => Ok(Box::pin(ChildStdio::spawn(&program, &args)?)),
        }
    }
}

/// A child process whose stdout is read and stdin written: one connection.
/// Dropping it kills the child (as closing a connection would end it).
struct ChildStdio {
    child: std::process::Child,
    out: tokio::net::unix::pipe::Receiver,
    inp: tokio::net::unix::pipe::Sender,
}

impl ChildStdio {
    fn spawn(program: &str, args: &[String]) -> io::Result<ChildStdio> {
        use std::process::Stdio;
        let mut child = std::process::Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // ssh's own messages (host key prompts refused, permission
            // denied) reach the user as they would with the docker CLI.
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run `{program}`: {e}")))?;
        let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other("the child has no stdio pipes"));
        };
        // tokio's pipe types set our ends non-blocking; the child keeps its own.
        let out = tokio::net::unix::pipe::Receiver::from_owned_fd(stdout.into())?;
        let inp = tokio::net::unix::pipe::Sender::from_owned_fd(stdin.into())?;
        Ok(ChildStdio { child, out, inp })
    }
}

impl Drop for ChildStdio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl AsyncRead for ChildStdio {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.out).poll_read(cx, buf)
    }
}

impl AsyncWrite for ChildStdio {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inp).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inp).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inp).poll_shutdown(cx)
    }
}

/// A bollard client whose connections `dialer` opens. `uri_base` is what
/// bollard writes in front of each path (`http://host:port`); the connector
/// ignores it, having its own address.
pub fn docker(dialer: Dialer, uri_base: &str) -> Result<bollard::Docker, bollard::errors::Error> {
    let client = Arc::new(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(std::time::Duration::from_secs(30))
            .build(dialer),
    );
    bollard::Docker::connect_with_custom_transport(
        move |req: bollard::BollardRequest| {
            let client = Arc::clone(&client);
            async move {
                client
                    .request(req)
                    .await
                    .map_err(|e| bollard::errors::Error::IOError {
                        err: io::Error::other(chain(&e)),
                    })
            }
        },
        Some(uri_base),
        120,
        bollard::API_DEFAULT_VERSION,
    )
}

/// The error and its causes on one line: hyper's outer error only says
/// "client error (Connect)", the cause says what happened.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
