//! `stackctl verify`: prove the running stack works, end to end.
//!
//! The checks are derived from the spec and its plan, never listed per
//! profile: each enabled component's liveness and readiness, the exporters'
//! metrics, and the deep checks a person would otherwise click through
//! (Prometheus runs the rendered config with every target up and every rule
//! evaluating; Alertmanager has the declared receivers; Grafana has every
//! datasource and dashboard; with `--deep`, panel queries return data and a
//! log line and a span make it through Loki, Jaeger and Tempo; a component
//! module can contribute its own probes through `kit`).
//!
//! Probes run concurrently on one tokio runtime, each bounded by its own
//! timeout; `--wait` retries failing probes with backoff until a deadline.
//! tokio and reqwest stay inside this module.
//!
//! The files form layers (the test in `layers.rs` keeps it so): `check`, `http`,
//! `yamlvalue`, `exposition` and `endpoints` at the bottom; `context` (what
//! checks are derived from), `probe` (a probe and the `Work` trait its work
//! implements) and `shared` (helpers several check modules use) above them;
//! the check modules (`basic`, `prometheus`, `alertmanager`, `grafana`,
//! `panels`, `roundtrip`, `credentials`), each deriving its probes and
//! implementing their work; `runner` and `report`; and this file, which
//! picks the modules per component.

mod alertmanager;
mod basic;
pub mod check;
mod context;
mod credentials;
pub mod delivery;
pub mod endpoints;
pub mod exposition;
mod grafana;
pub mod http;
pub(crate) mod kit;
mod panels;
mod probe;
pub mod progress;
mod prometheus;
pub mod report;
mod roundtrip;
mod runner;
mod shared;
mod yamlvalue;

#[cfg(test)]
mod layers;

pub use check::{CheckResult, Report, Status};
pub use context::{Context, Secrets};
pub use endpoints::{Endpoints, Override};
pub use http::BasicAuth;
pub use probe::Probe;
pub use runner::Options;
pub use yamlvalue::parse_yaml;

use crate::model::Kind;

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
            Kind::Tempo => {
                basic::derive(cx, kind, &mut out);
                if cx.deep {
                    crate::components::tempo::verify::derive(cx, &mut out);
                }
            }
            Kind::Loki | Kind::Jaeger => {
                basic::derive(cx, kind, &mut out);
                if cx.deep {
                    roundtrip::derive(cx, kind, &mut out);
                }
            }
            Kind::Promtail
            | Kind::Alloy
            | Kind::NodeExporter
            | Kind::Cadvisor
            | Kind::BlackboxExporter
            | Kind::PostgresExporter
            | Kind::RedisExporter
            | Kind::NginxExporter
            | Kind::Pushgateway
            | Kind::Elasticsearch
            | Kind::Logstash
            | Kind::Kibana => basic::derive(cx, kind, &mut out),
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
    runner::run_watched(probes, opts, web, None)
}

/// `run_with`, recording each attempt's failing checks in `watch` (the
/// live line of `verify --wait`).
pub fn run_watched(
    probes: Vec<Probe>,
    opts: &Options,
    web: http::WebClient,
    watch: Option<std::sync::Arc<progress::Watch>>,
) -> anyhow::Result<Report> {
    runner::run_watched(probes, opts, web, watch)
}
