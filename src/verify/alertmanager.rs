//! Alertmanager: alive and ready; has loaded a config with the receivers the
//! spec declares; serves those receivers; and, when clustered, has peers.

use super::check::Finding;
use super::context::Context;
use super::http::{Http, join};
use super::probe::{Attempt, Probe, Work};
use super::shared::all;
use super::yamlvalue::{parse_yaml, str_at};
use crate::model::Kind;
use serde_json::Value;
use std::collections::BTreeSet;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub enum Check {
    /// `/api/v2/status`: the loaded config (and the cluster, when clustered).
    Status {
        base: String,
        receivers: Vec<String>,
        clustered: bool,
    },
    /// `/api/v2/receivers`.
    Receivers {
        base: String,
        receivers: Vec<String>,
    },
}

pub fn derive(cx: &Context<'_>, out: &mut Vec<Probe>) {
    let kind = Kind::Alertmanager;
    let Some(base) = super::basic::web_health(cx, kind, out) else {
        return;
    };
    let receivers: Vec<String> = cx
        .stack
        .alerting
        .as_ref()
        .map(|a| a.receivers.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    let clustered = cx
        .stack
        .components
        .alertmanager
        .as_ref()
        .is_some_and(|a| !a.cluster_peers.is_empty());
    let mut checks = vec!["config loaded".to_string()];
    if clustered {
        checks.push("cluster".into());
    }
    out.push(Probe::new(
        kind,
        checks,
        Some(join(&base, "/api/v2/status")),
        Check::Status {
            base: base.clone(),
            receivers: receivers.clone(),
            clustered,
        },
    ));
    if !receivers.is_empty() {
        out.push(Probe::new(
            kind,
            vec!["receivers".into()],
            Some(join(&base, "/api/v2/receivers")),
            Check::Receivers { base, receivers },
        ));
    }
}

impl Work for Check {
    fn run<'a>(&'a self, http: &'a Http, checks: &'a [String], _: Instant) -> Attempt<'a> {
        Box::pin(run(self, http, checks))
    }
}

async fn run(check: &Check, http: &Http, checks: &[String]) -> Vec<Finding> {
    match check {
        Check::Status {
            base,
            receivers,
            clustered,
        } => match http.get_json(&join(base, "/api/v2/status"), None).await {
            Ok(status) => {
                let mut out = vec![config_finding(&checks[0], &status, receivers)];
                if *clustered {
                    out.push(cluster_finding(&checks[1], &status));
                }
                out
            }
            Err(e) => all(checks, e),
        },
        Check::Receivers { base, receivers } => {
            match http.get_json(&join(base, "/api/v2/receivers"), None).await {
                Ok(list) => {
                    let served: BTreeSet<String> = list
                        .as_array()
                        .map(|l| l.iter().map(|r| str_at(r, "name").to_string()).collect())
                        .unwrap_or_default();
                    vec![missing_finding(&checks[0], receivers, &served, "served")]
                }
                Err(e) => all(checks, e),
            }
        }
    }
}

fn config_finding(check: &str, status: &Value, receivers: &[String]) -> Finding {
    let original = status
        .get("config")
        .map(|c| str_at(c, "original"))
        .unwrap_or_default();
    if original.trim().is_empty() {
        return Finding::fail(
            check,
            "the status answer carries no loaded config (`config.original`)",
        );
    }
    let loaded = match parse_yaml(original) {
        Ok(v) => v,
        Err(e) => return Finding::fail(check, format!("the loaded config does not parse: {e}")),
    };
    let names: BTreeSet<String> = loaded
        .get("receivers")
        .and_then(Value::as_array)
        .map(|l| l.iter().map(|r| str_at(r, "name").to_string()).collect())
        .unwrap_or_default();
    missing_finding(check, receivers, &names, "in the loaded config")
}

fn missing_finding(
    check: &str,
    expected: &[String],
    found: &BTreeSet<String>,
    place: &str,
) -> Finding {
    let missing: Vec<String> = expected
        .iter()
        .filter(|r| !found.contains(*r))
        .map(|r| format!("`{r}`"))
        .collect();
    if missing.is_empty() {
        Finding::pass(check, format!("{} receivers {place}", expected.len()))
    } else {
        Finding::fail(
            check,
            format!(
                "receiver{} {} not {place}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        )
        .with_hint("run `stackctl render`, then restart or reload Alertmanager")
    }
}

fn cluster_finding(check: &str, status: &Value) -> Finding {
    let cluster = status.get("cluster").cloned().unwrap_or(Value::Null);
    let state = str_at(&cluster, "status");
    let peers = cluster
        .get("peers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    // The peer list includes this instance itself.
    if state == "ready" && peers > 1 {
        Finding::pass(check, format!("ready with {peers} peers"))
    } else {
        Finding::fail(
            check,
            format!(
                "cluster is `{state}` with {peers} peer(s) including itself; the spec lists cluster peers"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_must_carry_every_declared_receiver() {
        let status = json!({"config": {"original": "route:\n  receiver: a\nreceivers:\n- name: a\n"}, "cluster": {"status": "disabled", "peers": []}});
        let f = config_finding("config loaded", &status, &["a".into(), "b".into()]);
        assert_eq!(f.message, "receiver `b` not in the loaded config");
        assert_eq!(
            f.hint.as_deref(),
            Some("run `stackctl render`, then restart or reload Alertmanager")
        );
        assert_eq!(
            config_finding("c", &status, &["a".into()]).message,
            "1 receivers in the loaded config"
        );
        assert_eq!(
            cluster_finding("cluster", &status).message,
            "cluster is `disabled` with 0 peer(s) including itself; the spec lists cluster peers"
        );
    }
}
