//! Liveness and readiness of every component other than Prometheus and
//! Alertmanager (which have their own modules), and the exporters' `/metrics`
//! parsed as Prometheus exposition text. Endpoints come from the catalog.

use super::check::Finding;
use super::context::Context;
use super::endpoints::Unreachable;
use super::exposition;
use super::http::{BasicAuth, Http, join};
use super::probe::{Attempt, Probe, Work};
use super::shared::job_check;
use super::yamlvalue::str_at;
use crate::model::Kind;
use serde_json::Value;
use tokio::time::Instant;

/// What a good answer looks like, beyond a 2xx status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Success,
    /// Grafana `/api/health`: `"database": "ok"`.
    GrafanaHealth,
    /// Elasticsearch `/_cluster/health`: status green or yellow (a single
    /// node with replicas configured is yellow, and works).
    ClusterHealth,
    /// Kibana `/api/status`: overall level `available` (8.x+) or state `green` (7.x).
    KibanaStatus,
    /// Logstash `/`: node info whose status is not red.
    LogstashStatus,
    /// Jaeger query `/api/services`: `{"data": [...]}`.
    JaegerServices,
}

/// Components whose `/metrics` is their reason to exist.
pub fn is_exporter(kind: Kind) -> bool {
    kind.info().exporter
}

pub fn derive(cx: &Context<'_>, kind: Kind, out: &mut Vec<Probe>) {
    let info = kind.info();
    let auth = auth_for(cx, kind);
    let (check, expect) = match kind {
        Kind::Grafana => ("health", Expect::GrafanaHealth),
        Kind::Elasticsearch => ("cluster health", Expect::ClusterHealth),
        Kind::Kibana => ("status", Expect::KibanaStatus),
        Kind::Logstash => ("api", Expect::LogstashStatus),
        Kind::Prometheus
        | Kind::Alertmanager
        | Kind::Loki
        | Kind::Promtail
        | Kind::Alloy
        | Kind::Jaeger
        | Kind::Tempo
        | Kind::NodeExporter
        | Kind::Cadvisor
        | Kind::BlackboxExporter
        | Kind::PostgresExporter
        | Kind::RedisExporter
        | Kind::NginxExporter
        | Kind::Pushgateway => ("ready", Expect::Success),
    };
    if let Some((port, path)) = info.ready {
        // An exporter whose readiness endpoint is its metrics gets the stricter metrics check only.
        if !(is_exporter(kind) && info.metrics.map(|m| m.1) == Some(path)) {
            out.push(endpoint(cx, kind, check, port, path, expect, auth.clone()));
        }
    }
    if kind == Kind::Jaeger {
        out.push(endpoint(
            cx,
            kind,
            "query api",
            "ui",
            "/api/services",
            Expect::JaegerServices,
            None,
        ));
    }
    if is_exporter(kind) {
        if let Some((port, path)) = info.metrics {
            out.push(match cx.endpoints.base(kind, port) {
                Ok(base) => {
                    let url = join(base, path);
                    Probe::new(
                        kind,
                        vec!["metrics".into()],
                        Some(url.clone()),
                        Metrics {
                            url,
                            up: up_gauge(kind),
                        },
                    )
                }
                Err(reason) => unreachable(cx, kind, "metrics", reason),
            });
        }
    }
}

fn endpoint(
    cx: &Context<'_>,
    kind: Kind,
    check: &str,
    port: &str,
    path: &str,
    expect: Expect,
    auth: Option<BasicAuth>,
) -> Probe {
    match cx.endpoints.base(kind, port) {
        Ok(base) => get_probe(kind, check, join(base, path), expect, auth),
        Err(reason) => unreachable(cx, kind, check, reason),
    }
}

/// A check the host cannot run. When Prometheus scrapes the component, its
/// scrape job proves the process answers HTTP, so that is a skip, not a failure.
/// The `/-/healthy` and `/-/ready` probes Prometheus and Alertmanager share.
/// Returns the web base URL for the deep checks, or `None` after recording
/// that the web port cannot be reached.
pub fn web_health(cx: &Context<'_>, kind: Kind, out: &mut Vec<Probe>) -> Option<String> {
    match cx.endpoints.base(kind, "web") {
        Ok(base) => {
            let base = base.to_string();
            for (check, path) in [("healthy", "/-/healthy"), ("ready", "/-/ready")] {
                let url = join(&base, path);
                out.push(get_probe(kind, check, url, Expect::Success, None));
            }
            Some(base)
        }
        Err(reason) => {
            out.push(Probe::unreachable(
                kind,
                vec!["healthy".into(), "ready".into()],
                reason,
            ));
            None
        }
    }
}

pub fn unreachable(cx: &Context<'_>, kind: Kind, check: &str, reason: Unreachable) -> Probe {
    let scraped = cx.stack.has(Kind::Prometheus)
        && cx.stack.component(kind).is_some_and(|c| c.scrape_enabled());
    if scraped {
        let first = reason.message;
        Probe::fixed(
            kind,
            vec![check.into()],
            super::check::Status::Skip,
            format!(
                "{first}; covered by Prometheus {}",
                job_check(kind.service())
            ),
        )
    } else {
        Probe::unreachable(kind, vec![check.into()], reason)
    }
}

/// Basic auth for the components that need it: Elasticsearch and Kibana
/// (security is on) as `elastic` with the password from its secret file.
fn auth_for(cx: &Context<'_>, kind: Kind) -> Option<BasicAuth> {
    match kind {
        Kind::Elasticsearch | Kind::Kibana => Some(cx.elastic_auth()),
        // Logstash's API on 9600 has no authentication in this stack.
        Kind::Prometheus
        | Kind::Alertmanager
        | Kind::Grafana
        | Kind::Loki
        | Kind::Promtail
        | Kind::Alloy
        | Kind::Jaeger
        | Kind::Tempo
        | Kind::NodeExporter
        | Kind::Cadvisor
        | Kind::BlackboxExporter
        | Kind::PostgresExporter
        | Kind::RedisExporter
        | Kind::NginxExporter
        | Kind::Pushgateway
        | Kind::Logstash => None,
    }
}

pub async fn get(
    http: &Http,
    url: &str,
    expect: Expect,
    auth: Option<&BasicAuth>,
    check: &str,
) -> Finding {
    let reply = match http.get(url, auth).await {
        Ok(r) => r,
        Err(e) => return Finding::fail(check, e),
    };
    if !reply.ok() {
        let failed = Finding::fail(check, format!("{url} answered {}", reply.describe()));
        return if reply.status == 401 && auth.is_some() {
            failed.with_hint("the password in the secret file is not the one the service uses")
        } else {
            failed
        };
    }
    if expect == Expect::Success {
        return Finding::pass(check, format!("HTTP {}", reply.status));
    }
    let body = match reply.json() {
        Ok(b) => b,
        Err(e) => return Finding::fail(check, format!("{url}: {e}")),
    };
    match judge(expect, &body) {
        Ok(seen) => Finding::pass(check, seen),
        Err(problem) => Finding::fail(check, format!("{url}: {problem}")),
    }
}

/// One check: GET `url` answers 2xx (and what `expect` asks of its body).
fn get_probe(
    kind: Kind,
    check: &str,
    url: String,
    expect: Expect,
    auth: Option<BasicAuth>,
) -> Probe {
    Probe::new(
        kind,
        vec![check.into()],
        Some(url.clone()),
        Get { url, expect, auth },
    )
}

#[derive(Debug)]
struct Get {
    url: String,
    expect: Expect,
    auth: Option<BasicAuth>,
}

impl Work for Get {
    fn run<'a>(&'a self, http: &'a Http, checks: &'a [String], _: Instant) -> Attempt<'a> {
        let auth = self.auth.as_ref();
        Box::pin(async move { vec![get(http, &self.url, self.expect, auth, &checks[0]).await] })
    }
}

/// Reads a JSON health answer: `Ok(what was seen)` or `Err(what is wrong)`.
pub fn judge(expect: Expect, body: &Value) -> Result<String, String> {
    match expect {
        Expect::Success => Ok(String::new()),
        Expect::GrafanaHealth => match str_at(body, "database") {
            "ok" => Ok(format!("database ok, version {}", str_at(body, "version"))),
            other => Err(format!("database is `{other}`")),
        },
        Expect::ClusterHealth => match str_at(body, "status") {
            s @ ("green" | "yellow") => {
                Ok(format!("cluster `{}` is {s}", str_at(body, "cluster_name")))
            }
            other => Err(format!(
                "cluster `{}` is `{other}`",
                str_at(body, "cluster_name")
            )),
        },
        Expect::KibanaStatus => {
            let overall = body.get("status").and_then(|s| s.get("overall"));
            let level = overall.map(|o| str_at(o, "level")).unwrap_or_default();
            let state = overall.map(|o| str_at(o, "state")).unwrap_or_default();
            if level == "available" || state == "green" {
                Ok(format!(
                    "overall {}",
                    if level.is_empty() { state } else { level }
                ))
            } else {
                let summary = overall.map(|o| str_at(o, "summary")).unwrap_or_default();
                Err(format!(
                    "overall status is `{}` {summary}",
                    if level.is_empty() { state } else { level }
                )
                .trim_end()
                .to_string())
            }
        }
        Expect::LogstashStatus => match str_at(body, "status") {
            "red" => Err("status is red".into()),
            s => Ok(format!(
                "status {}",
                if s.is_empty() { "unknown" } else { s }
            )),
        },
        Expect::JaegerServices => match body.get("data") {
            Some(Value::Array(list)) => Ok(format!("{} services", list.len())),
            Some(Value::Null) => Ok("0 services".into()),
            _ => Err("answer has no `data` list".into()),
        },
    }
}

/// The gauge an exporter sets to 1 only when it reached the server it
/// exports: an exporter answers `/metrics` just the same when its database
/// is down or refuses the login, so a parsed exposition alone proves little.
pub fn up_gauge(kind: Kind) -> Option<&'static str> {
    kind.info().up_gauge
}

/// The value of the unlabelled sample `name` in an exposition, if present.
pub fn sample_value(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let value = rest.strip_prefix(' ')?.split_whitespace().next()?;
        value.parse().ok()
    })
}

/// An exporter's `/metrics`: valid exposition text, and its `up` gauge 1.
#[derive(Debug)]
struct Metrics {
    url: String,
    /// The exporter's gauge of whether it reached what it exports
    /// (`pg_up`, `redis_up`, `nginx_up`), which must be 1.
    up: Option<&'static str>,
}

impl Work for Metrics {
    fn run<'a>(&'a self, http: &'a Http, checks: &'a [String], _: Instant) -> Attempt<'a> {
        Box::pin(async move { vec![metrics(http, &self.url, self.up, &checks[0]).await] })
    }
}

pub async fn metrics(http: &Http, url: &str, up: Option<&str>, check: &str) -> Finding {
    let reply = match http.get(url, None).await {
        Ok(r) => r,
        Err(e) => return Finding::fail(check, e),
    };
    if !reply.ok() {
        return Finding::fail(check, format!("{url} answered {}", reply.describe()));
    }
    match exposition::parse(&reply.body) {
        Ok(s) => match up.and_then(|name| Some((name, sample_value(&reply.body, name)?))) {
            Some((name, value)) if value != 1.0 => Finding::fail(
                check,
                format!(
                    "`{name}` is {value}: the exporter answers but cannot reach the server it exports (its address, user or password)"
                ),
            ),
            _ => Finding::pass(
                check,
                format!("{} samples in {} metric families", s.samples, s.families),
            ),
        },
        Err(e) => Finding::fail(
            check,
            format!("{url} is not valid Prometheus exposition text: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_an_exporters_up_gauge() {
        let text = "# TYPE pg_up gauge\npg_up 0\npg_up_total 1\npg_upx{a=\"b\"} 1\n";
        assert_eq!(sample_value(text, "pg_up"), Some(0.0));
        assert_eq!(
            sample_value("redis_up 1 1700000000000\n", "redis_up"),
            Some(1.0)
        );
        assert_eq!(sample_value("nginx_upstream 1\n", "nginx_up"), None);
        assert_eq!(up_gauge(Kind::PostgresExporter), Some("pg_up"));
        assert_eq!(up_gauge(Kind::NodeExporter), None);
    }

    #[test]
    fn judges_documented_health_answers() {
        assert_eq!(
            judge(
                Expect::GrafanaHealth,
                &json!({"commit": "x", "database": "ok", "version": "12.1.0"})
            ),
            Ok("database ok, version 12.1.0".into())
        );
        assert_eq!(
            judge(Expect::GrafanaHealth, &json!({"database": "failing"})),
            Err("database is `failing`".into())
        );
        assert_eq!(
            judge(
                Expect::ClusterHealth,
                &json!({"cluster_name": "c", "status": "red"})
            ),
            Err("cluster `c` is `red`".into())
        );
        assert!(
            judge(
                Expect::ClusterHealth,
                &json!({"cluster_name": "c", "status": "yellow"})
            )
            .is_ok()
        );
        assert!(
            judge(
                Expect::KibanaStatus,
                &json!({"status": {"overall": {"level": "available"}}})
            )
            .is_ok()
        );
        assert!(
            judge(
                Expect::KibanaStatus,
                &json!({"status": {"overall": {"state": "green"}}})
            )
            .is_ok()
        );
        assert_eq!(
            judge(
                Expect::KibanaStatus,
                &json!({"status": {"overall": {"level": "degraded", "summary": "1 service is degraded"}}})
            ),
            Err("overall status is `degraded` 1 service is degraded".into())
        );
        assert_eq!(
            judge(Expect::JaegerServices, &json!({"data": ["a"], "total": 1})),
            Ok("1 services".into())
        );
        assert_eq!(
            judge(Expect::JaegerServices, &json!({"x": 1})),
            Err("answer has no `data` list".into())
        );
    }
}
