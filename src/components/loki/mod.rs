//! Loki, single binary with filesystem storage.
//!
//! Its settings under `components.loki`, its catalog entry and its plan
//! (`plan.rs`: services and config files).

pub mod plan;

use super::Kind;
use crate::model::catalog::{Info, internal, tcp};
use crate::model::components::component;
use crate::model::types::Duration;

component!(
    /// Loki, single binary with filesystem storage.
    Loki {
        /// How long logs are kept; compactor retention is on when set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention_period: Option<Duration>,
        /// Samples older than this are rejected (default 168h).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reject_old_samples_max_age: Option<Duration>,
        /// First day of the tsdb/v13 schema period, `YYYY-MM-DD`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema_from: Option<String>,
    }
);

/// Container port of the HTTP API (push, query, readiness).
pub const HTTP: u16 = 3100;

/// Container port of the gRPC.
pub const GRPC: u16 = 9096;

/// Where log shippers push (Loki's push API).
pub fn push_url() -> String {
    format!("http://{}:{HTTP}/loki/api/v1/push", INFO.service)
}

pub static INFO: Info = Info {
    kind: Kind::Loki,
    key: "loki",
    service: "loki",
    image: "grafana/loki",
    version: "3.7.6",
    ports: &[tcp("http", HTTP), internal("grpc", GRPC)],
    metrics: Some(("http", "/metrics")),
    ready: Some(("http", "/ready")),
    data_dir: Some("/loki"),
    uid: 10001,
    datasource_port: Some("http"),
    exporter: false,
    reload_metric: None,
    up_gauge: None,
};
