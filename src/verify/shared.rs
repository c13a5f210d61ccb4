//! Helpers the check modules share, in a leaf module so that none of them
//! needs another check module for them: the names of checks one module makes
//! and another refers to, the "every check fails alike" answer, and reading
//! the Prometheus HTTP API (its own checks and the dashboard panels' queries).

use super::check::Finding;
use super::http::{Http, join};
use super::yamlvalue::str_at;
use serde_json::Value;

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
