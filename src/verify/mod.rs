//! `stackctl verify`: prove the running stack works, end to end.
//!
//! The checks are derived from the spec and its plan, never listed per
//! profile: each enabled component's liveness and readiness, the exporters'
//! metrics, and the deep checks a person would otherwise click through
//! (Prometheus runs the rendered config with every target up and every rule
//! evaluating; Alertmanager has the declared receivers; Grafana has every
//! datasource and dashboard; with `--deep`, panel queries return data and a
//! log line and a span make it through Loki and Jaeger).
//!
//! Probes run concurrently on one tokio runtime, each bounded by its own
//! timeout; `--wait` retries failing probes with backoff until a deadline.
//! tokio and reqwest stay inside this module.

mod alertmanager;
mod basic;
pub mod check;
mod credentials;
pub mod endpoints;
pub mod exposition;
mod grafana;
pub mod http;
mod panels;
mod probe;
mod prometheus;
pub mod report;
mod roundtrip;
mod runner;
mod yamlvalue;

pub use check::{CheckResult, Report, Status};
pub use endpoints::{Endpoints, Override};
pub use http::BasicAuth;
pub use probe::Probe;
pub use runner::Options;
pub use yamlvalue::parse_yaml;

use crate::model::{Kind, Stack};
use crate::plan::Deployment;
use serde_json::Value;
use std::collections::BTreeMap;

/// Secret values by name, read by the caller; `Err` says why one is missing.
pub type Secrets = BTreeMap<String, Result<String, String>>;

/// Everything the checks are derived from.
pub struct Context<'a> {
    pub stack: &'a Stack,
    pub deployment: &'a Deployment,
    pub endpoints: &'a Endpoints,
    pub secrets: &'a Secrets,
    pub deep: bool,
}

impl Context<'_> {
    fn secret(&self, name: &str) -> Result<String, String> {
        self.secrets
            .get(name)
            .cloned()
            .unwrap_or_else(|| Err(format!("secret `{name}` is not declared under `secrets:`")))
    }

    fn grafana_auth(&self) -> BasicAuth {
        let spec = self.stack.components.grafana.as_ref();
        BasicAuth {
            user: spec
                .and_then(|g| g.admin_user.clone())
                .unwrap_or_else(|| "admin".into()),
            password: self.secret(
                spec.and_then(|g| g.admin_password_secret.as_deref())
                    .unwrap_or("grafana_admin_password"),
            ),
        }
    }

    fn elastic_auth(&self) -> BasicAuth {
        let secret = self
            .stack
            .components
            .elasticsearch
            .as_ref()
            .and_then(|e| e.password_secret.as_deref())
            .unwrap_or("elastic_password");
        BasicAuth {
            user: "elastic".into(),
            password: self.secret(secret),
        }
    }

    /// The dashboard JSON the plan renders for a UID.
    fn dashboard_json(&self, uid: &str) -> Option<Value> {
        let suffix = format!("/{uid}.json");
        self.deployment
            .files
            .iter()
            .find(|(path, _)| path.starts_with("grafana/dashboards/") && path.ends_with(&suffix))
            .and_then(|(_, text)| serde_json::from_str(text).ok())
    }
}

/// The probes for the enabled components (all of them, or only those named).
pub fn derive(cx: &Context<'_>, only: &[Kind]) -> Vec<Probe> {
    let mut out = Vec::new();
    for kind in cx.stack.components.enabled_kinds() {
        if !only.is_empty() && !only.contains(&kind) {
            continue;
        }
        match kind {
            Kind::Prometheus => prometheus::derive(cx, &mut out),
            Kind::Alertmanager => {
                alertmanager::derive(cx, &mut out);
                credentials::derive(cx, &mut out);
            }
            Kind::Grafana => {
                basic::derive(cx, kind, &mut out);
                grafana::derive(cx, &mut out);
                if cx.deep {
                    panels::derive(cx, &mut out);
                }
            }
            Kind::Loki | Kind::Jaeger => {
                basic::derive(cx, kind, &mut out);
                if cx.deep {
                    roundtrip::derive(cx, kind, &mut out);
                }
            }
            _ => basic::derive(cx, kind, &mut out),
        }
    }
    out
}

/// How long a plain verify waits for first scrapes and rule evaluations
/// (zero without Prometheus).
pub fn first_round_bound(cx: &Context<'_>) -> std::time::Duration {
    prometheus::first_round_bound(cx).unwrap_or_default()
}

/// Runs the probes and gathers the report.
pub fn run(probes: Vec<Probe>, opts: &Options) -> anyhow::Result<Report> {
    runner::run(probes, opts)
}

/// `run` against endpoints that `security:` protects.
pub fn run_with(
    probes: Vec<Probe>,
    opts: &Options,
    web: http::WebClient,
) -> anyhow::Result<Report> {
    runner::run_with(probes, opts, web)
}
