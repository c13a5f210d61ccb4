//! cAdvisor: container metrics.
//!
//! Its settings under `components.cadvisor` and its catalog entry.

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;
use crate::model::types::Duration;

component!(
    /// cAdvisor: container metrics.
    Cadvisor {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        housekeeping_interval: Option<Duration>,
        /// Report only Docker containers (default true).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        docker_only: Option<bool>,
    }
);

pub static INFO: Info = Info {
    kind: Kind::Cadvisor,
    key: "cadvisor",
    service: "cadvisor",
    image: "ghcr.io/google/cadvisor",
    version: "v0.60.5",
    ports: &[tcp("http", 8080)],
    metrics: Some(("http", "/metrics")),
    ready: Some(("http", "/healthz")),
    data_dir: None,
    uid: 0,
    datasource_port: None,
    exporter: true,
    reload_metric: None,
    up_gauge: None,
};
