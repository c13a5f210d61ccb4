//! Grafana Tempo 3, monolithic (`-target=all`), local block storage.
//!
//! Everything stackctl knows about Tempo lives in this folder: its settings
//! under `components.tempo`, its catalog entry, its checks (`check.rs`), its
//! plan (`plan.rs`: the service and `tempo/tempo.yaml`) and the Grafana
//! datasource it contributes (`datasource.rs`).

pub mod check;
pub mod datasource;
pub mod plan;
pub mod verify;

use super::Kind;
use crate::model::catalog::{Info, internal, tcp};
use crate::model::components::component;
use crate::model::types::Duration;

component!(
    /// Grafana Tempo 3 (monolithic), receiving OTLP.
    Tempo {
        /// How long trace blocks are kept (Tempo's default 14d).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention: Option<Duration>,
        /// Generate span metrics and the service graph and remote-write them
        /// to the stack's Prometheus (needs `remote_write_receiver: true`
        /// there); Grafana's service map reads them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metrics_generator: Option<bool>,
    }
);

/// Container port of the HTTP API (query, readiness, metrics).
pub const HTTP: u16 = 3200;
/// Container port of Tempo's own gRPC server (query frontend ↔ querier).
pub const GRPC: u16 = 9095;
/// OTLP receivers, the ports every OpenTelemetry SDK sends to by default.
pub const OTLP_GRPC: u16 = 4317;
pub const OTLP_HTTP: u16 = 4318;
/// Where the image keeps its data (owned by uid 10001 in the image, so a
/// fresh named volume inherits that owner).
pub const DATA_DIR: &str = "/var/tempo";

pub static INFO: Info = Info {
    kind: Kind::Tempo,
    key: "tempo",
    service: "tempo",
    image: "grafana/tempo",
    version: "3.0.3",
    ports: &[
        tcp("http", HTTP),
        tcp("otlp_grpc", OTLP_GRPC),
        tcp("otlp_http", OTLP_HTTP),
        internal("grpc", GRPC),
    ],
    metrics: Some(("http", "/metrics")),
    ready: Some(("http", "/ready")),
    data_dir: Some(DATA_DIR),
    uid: 10001,
    datasource_port: Some("http"),
    exporter: false,
    reload_metric: None,
    up_gauge: None,
};

/// Retention as a Go duration in whole hours: Tempo parses Go durations,
/// which have no `d`.
pub fn go_hours(d: &Duration) -> String {
    format!("{}h", d.millis().div_ceil(3_600_000).max(1))
}
