//! `--deep` round trips through the log and trace pipelines: push a log line
//! to Loki and read it back; send an OTLP/HTTP span to Jaeger and find its
//! trace through the query API. Each carries a fresh random ID, so an old
//! line or trace can never make the check pass.

use super::check::Finding;
use super::context::Context;
use super::http::{Http, join};
use super::probe::{Attempt, Probe, Work};
use super::shared::{all, now_nanos, poll, random_hex, send_test_span};
use super::yamlvalue::str_at;
use crate::model::Kind;
use serde_json::{Value, json};

use tokio::time::Instant;

pub const LOKI_CHECK: &str = "log line pushed and queried";
pub const JAEGER_CHECK: &str = "OTLP span stored and queried";
pub use super::shared::SOURCE;

#[derive(Debug, Clone)]
pub enum Check {
    Loki { base: String },
    Jaeger { otlp: String, query: String },
}

pub fn derive(cx: &Context<'_>, kind: Kind, out: &mut Vec<Probe>) {
    if kind == Kind::Loki {
        out.push(match cx.endpoints.base(Kind::Loki, "http") {
            Ok(base) => Probe::new(
                Kind::Loki,
                vec![LOKI_CHECK.into()],
                Some(join(base, "/loki/api/v1/push")),
                Check::Loki {
                    base: base.to_string(),
                },
            ),
            Err(reason) => Probe::unreachable(Kind::Loki, vec![LOKI_CHECK.into()], reason),
        });
    }
    if kind == Kind::Jaeger {
        let bases = (
            cx.endpoints.base(Kind::Jaeger, "otlp_http"),
            cx.endpoints.base(Kind::Jaeger, "ui"),
        );
        out.push(match bases {
            (Ok(otlp), Ok(query)) => Probe::new(
                Kind::Jaeger,
                vec![JAEGER_CHECK.into()],
                Some(join(otlp, "/v1/traces")),
                Check::Jaeger {
                    otlp: otlp.to_string(),
                    query: query.to_string(),
                },
            ),
            (Err(reason), _) | (_, Err(reason)) => {
                Probe::unreachable(Kind::Jaeger, vec![JAEGER_CHECK.into()], reason)
            }
        });
    }
}

impl Work for Check {
    fn run<'a>(&'a self, http: &'a Http, checks: &'a [String], deadline: Instant) -> Attempt<'a> {
        Box::pin(run(self, http, checks, deadline))
    }
}

async fn run(check: &Check, http: &Http, checks: &[String], deadline: Instant) -> Vec<Finding> {
    let result = match check {
        Check::Loki { base } => loki(http, base, deadline).await,
        Check::Jaeger { otlp, query } => jaeger(http, otlp, query, deadline).await,
    };
    match result {
        Ok(seen) => vec![Finding::pass(&checks[0], seen)],
        Err(e) => all(checks, e),
    }
}

async fn loki(http: &Http, base: &str, deadline: Instant) -> Result<String, String> {
    let id = random_hex(8)?;
    let ts = now_nanos();
    let line = format!("stackctl verify test line {id}");
    let push = join(base, "/loki/api/v1/push");
    let body =
        json!({"streams": [{"stream": {"source": SOURCE}, "values": [[ts.to_string(), line]]}]});
    let reply = http.post_json(&push, &body, None).await?;
    if !reply.ok() {
        return Err(format!(
            "pushing a test line to {push}: {}",
            reply.describe()
        ));
    }
    let query = format!("{{source=\"{SOURCE}\"}} |= \"{id}\"");
    let url = join(
        base,
        &format!(
            "/loki/api/v1/query_range?query={}&start={}&end={}&limit=10&direction=backward",
            super::http::encode(&query),
            ts - 60_000_000_000,
            ts + 60_000_000_000
        ),
    );
    let found = poll(deadline, || async {
        let body = http.get_json(&url, None).await?;
        let hit = body
            .get("data")
            .and_then(|d| d.get("result"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|s| {
                s.get("values")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .any(|v| {
                v.get(1)
                    .and_then(Value::as_str)
                    .is_some_and(|l| l.contains(&id))
            });
        Ok(hit.then(|| format!("line {id} read back")))
    })
    .await?;
    found.ok_or_else(|| {
        format!("Loki accepted the test line {id} but a query did not return it (`{query}`)")
    })
}

async fn jaeger(http: &Http, otlp: &str, query: &str, deadline: Instant) -> Result<String, String> {
    let (trace, span) = send_test_span(http, otlp).await?;
    let get = join(query, &format!("/api/traces/{trace}"));
    let found = poll(deadline, || async {
        let reply = http.get(&get, None).await?;
        match reply.status {
            // Not stored yet (the collector batches spans).
            404 => Ok(None),
            s if (200..300).contains(&s) => {
                let body = reply.json().map_err(|e| format!("{get}: {e}"))?;
                let spans = body
                    .get("data")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|t| str_at(t, "traceID").eq_ignore_ascii_case(&trace))
                    .flat_map(|t| {
                        t.get("spans")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                    })
                    .filter(|s| str_at(s, "spanID").eq_ignore_ascii_case(&span))
                    .count();
                Ok((spans > 0).then(|| format!("trace {trace} found")))
            }
            _ => Err(format!("{get} answered {}", reply.describe())),
        }
    })
    .await?;
    found.ok_or_else(|| {
        format!("Jaeger accepted the test span but trace {trace} was not found at {get}")
    })
}
