//! Helpers the check modules share, in a leaf module so that none of them
//! needs another check module for them: the names of checks one module makes
//! and another refers to, the "every check fails alike" answer, and reading
//! the Prometheus HTTP API (its own checks and the dashboard panels' queries).

use super::check::Finding;
use super::http::{Http, join};
use super::yamlvalue::str_at;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

const POLL: Duration = Duration::from_millis(250);

/// Every check of a probe fails with the same message (the one call failed).
pub fn all(checks: &[String], message: String) -> Vec<Finding> {
    checks
        .iter()
        .map(|c| Finding::fail(c.clone(), message.clone()))
        .collect()
}

/// The check of one Prometheus scrape job (other components' checks point
/// at it when Prometheus covers them).
pub fn job_check(name: &str) -> String {
    format!("scrape job `{name}`")
}

/// The check of one Prometheus rule group.
pub fn group_check(name: &str) -> String {
    format!("rule group `{name}`")
}

/// `data` of a Prometheus API answer (`{"status":"success","data":…}`).
pub async fn prometheus_api(http: &Http, base: &str, path: &str) -> Result<Value, String> {
    let url = join(base, path);
    let reply = http.get(&url, None).await?;
    let body = reply.json().map_err(|e| format!("{url}: {e}"));
    match body {
        Ok(v) if reply.ok() && str_at(&v, "status") == "success" => {
            Ok(v.get("data").cloned().unwrap_or(Value::Null))
        }
        Ok(v) if !str_at(&v, "error").is_empty() => Err(format!(
            "{url} answered HTTP {}: {}",
            reply.status,
            str_at(&v, "error")
        )),
        _ => Err(format!("{url} answered {}", reply.describe())),
    }
}

/// A fresh random ID of `bytes` bytes, as lower-case hex.
pub fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness for a test ID: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Now, in nanoseconds since the Unix epoch.
pub fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Polls `found` until it says yes or the attempt's deadline is near.
pub async fn poll<F, Fut>(deadline: Instant, mut found: F) -> Result<Option<String>, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>, String>>,
{
    loop {
        if let Some(seen) = found().await? {
            return Ok(Some(seen));
        }
        if Instant::now() + POLL * 2 >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Service name on verify's test log lines and spans, so they are easy to
/// find and ignore.
pub const SOURCE: &str = "stackctl-verify";

/// One OTLP/HTTP JSON span (IDs are hex strings, 64-bit integers strings)
/// from service `stackctl-verify`, 1 ms long from `start` (ns).
pub fn otlp_test_span(trace: &str, span: &str, start: u128) -> Value {
    serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": SOURCE}}]},
        "scopeSpans": [{
            "scope": {"name": "stackctl"},
            "spans": [{
                "traceId": trace, "spanId": span, "name": "verify", "kind": 1,
                "startTimeUnixNano": start.to_string(),
                "endTimeUnixNano": (start + 1_000_000).to_string()
            }]
        }]
    }]})
}

/// Sends one fresh test span to the OTLP/HTTP endpoint `otlp`; returns its
/// (trace, span) IDs in hex, for the backend's read-back.
pub async fn send_test_span(http: &Http, otlp: &str) -> Result<(String, String), String> {
    let (trace, span) = (random_hex(16)?, random_hex(8)?);
    let url = join(otlp, "/v1/traces");
    let reply = http
        .post_json(&url, &otlp_test_span(&trace, &span, now_nanos()), None)
        .await?;
    if !reply.ok() {
        return Err(format!(
            "sending a test span to {url}: {}",
            reply.describe()
        ));
    }
    Ok((trace, span))
}
