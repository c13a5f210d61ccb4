//! The one HTTP client verify uses: every request bounded by a connect
//! timeout and a total deadline (headers and body), bodies capped in size,
//! and errors turned into one plain sentence.

use serde_json::Value;
use std::time::Duration;
use tokio::time::{Instant, timeout_at};

/// Larger answers are cut off: no health endpoint is this big, and a runaway
/// one must not eat memory.
const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct BasicAuth {
    pub user: String,
    /// `Err` holds why the password could not be read (a missing secret file).
    pub password: Result<String, String>,
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The status and the start of the body, for a failure message.
    pub fn describe(&self) -> String {
        let body = self.body.trim();
        if body.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            format!("HTTP {}: {}", self.status, super::exposition::excerpt(body))
        }
    }

    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_str(&self.body).map_err(|e| {
            format!(
                "answer is not JSON ({e}): {}",
                super::exposition::excerpt(self.body.trim())
            )
        })
    }
}

/// How verify reaches the endpoints `security:` protects: the login it
/// sends to each base URL when a probe brings none of its own, and the CA
/// it trusts besides the system's.
#[derive(Debug, Clone, Default)]
pub struct WebClient {
    /// (base URL without a trailing `/`, login).
    pub logins: Vec<(String, BasicAuth)>,
    /// PEM of the CA that signed the stack's certificates.
    pub ca_pem: Option<Vec<u8>>,
    /// The login for every other URL (`up`'s probes of its own services,
    /// whose addresses are known only once the containers run).
    pub any: Option<BasicAuth>,
}

impl WebClient {
    fn login_for(&self, url: &str) -> Option<&BasicAuth> {
        self.logins
            .iter()
            .find(|(base, _)| {
                url.strip_prefix(base.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
            })
            .map(|(_, auth)| auth)
            .or(self.any.as_ref())
    }
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
    web: std::sync::Arc<WebClient>,
}

impl Http {
    pub fn new(timeout: Duration) -> anyhow::Result<Http> {
        Http::with_web(timeout, WebClient::default())
    }

    pub fn with_web(timeout: Duration, web: WebClient) -> anyhow::Result<Http> {
        // reqwest is built without a default TLS provider so that no C
        // toolchain beyond the Rust one is needed; ring provides it. A second
        // install (tests run several clients) is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder();
        if let Some(pem) = &web.ca_pem {
            let ca = reqwest::Certificate::from_pem(pem)
                .map_err(|e| anyhow::anyhow!("cannot read the stack's CA certificate: {e}"))?;
            builder = builder.add_root_certificate(ca);
        }
        let client = builder
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .user_agent(concat!("stackctl-verify/", env!("CARGO_PKG_VERSION")))
            // A health endpoint that redirects is misconfigured, not healthy.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {e}"))?;
        Ok(Http {
            client,
            timeout,
            web: std::sync::Arc::new(web),
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub async fn get(&self, url: &str, auth: Option<&BasicAuth>) -> Result<Reply, String> {
        self.send(self.client.get(url), url, auth).await
    }

    pub async fn post_json(
        &self,
        url: &str,
        body: &Value,
        auth: Option<&BasicAuth>,
    ) -> Result<Reply, String> {
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(request, url, auth).await
    }

    pub async fn delete(&self, url: &str) -> Result<Reply, String> {
        self.send(self.client.delete(url), url, None).await
    }

    /// POST of an HTML form (how Grafana sends PromQL, so long queries fit).
    pub async fn post_form(&self, url: &str, fields: &[(&str, &str)]) -> Result<Reply, String> {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let request = self
            .client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"));
        self.send(request, url, None).await
    }

    /// GET that must answer 2xx with JSON.
    pub async fn get_json(&self, url: &str, auth: Option<&BasicAuth>) -> Result<Value, String> {
        let reply = self.get(url, auth).await?;
        if !reply.ok() {
            return Err(format!("{url} answered {}", reply.describe()));
        }
        reply.json().map_err(|e| format!("{url}: {e}"))
    }

    async fn send(
        &self,
        mut request: reqwest::RequestBuilder,
        url: &str,
        auth: Option<&BasicAuth>,
    ) -> Result<Reply, String> {
        if let Some(auth) = auth.or_else(|| self.web.login_for(url)) {
            let password = auth.password.as_ref().map_err(Clone::clone)?;
            request = request.basic_auth(&auth.user, Some(password));
        }
        let deadline = Instant::now() + self.timeout;
        let secs = self.timeout.as_secs_f64();
        let mut response = match timeout_at(deadline, request.send()).await {
            Err(_) => return Err(format!("no answer from {url} within {secs}s")),
            Ok(Err(e)) if e.is_connect() => {
                return Err(format!("cannot connect to {url}: {}", cause(&e)));
            }
            Ok(Err(e)) => return Err(format!("{url}: {}", cause(&e))),
            Ok(Ok(r)) => r,
        };
        let status = response.status().as_u16();
        let mut body = Vec::new();
        loop {
            match timeout_at(deadline, response.chunk()).await {
                Err(_) => {
                    return Err(format!(
                        "{url} answered HTTP {status} but the body did not complete within {secs}s ({} bytes received)",
                        body.len()
                    ));
                }
                Ok(Err(e)) => {
                    return Err(format!("{url}: reading the answer failed: {}", cause(&e)));
                }
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    if body.len() + chunk.len() > MAX_BODY {
                        return Err(format!(
                            "{url} answered more than {} MiB",
                            MAX_BODY / 1024 / 1024
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
            }
        }
        Ok(Reply {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// The innermost cause of an error ("connection refused"), which is the part
/// a person can act on; reqwest's own message only repeats the URL.
fn cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    // "Connection refused (os error 111)" → "connection refused"
    let trimmed = match last.find(" (os error") {
        Some(i) => &last[..i],
        None => &last,
    };
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => trimmed.to_string(),
    }
}

/// `base` + `path` with exactly one `/` between them.
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Percent-encodes a query parameter value.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_encode() {
        assert_eq!(join("http://h:1/", "/-/ready"), "http://h:1/-/ready");
        assert_eq!(
            join("http://h/prom", "api/v1/rules"),
            "http://h/prom/api/v1/rules"
        );
        assert_eq!(
            encode("sum(up{job=\"a b\"})"),
            "sum%28up%7Bjob%3D%22a%20b%22%7D%29"
        );
    }
}
