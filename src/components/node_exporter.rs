//! Prometheus node exporter: host metrics.
//!
//! Its settings under `components.node_exporter` and its catalog entry.

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;

component!(
    /// Prometheus node exporter: host metrics.
    NodeExporter {
        /// Mount the host's `/proc`, `/sys` and `/` read-only (default true).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host_root: Option<bool>,
        /// Regex of mount points to ignore.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mount_points_exclude: Option<String>,
        /// Regex of filesystem types to ignore.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fs_types_exclude: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        collectors_enabled: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        collectors_disabled: Vec<String>,
    }
);

pub static INFO: Info = Info {
    kind: Kind::NodeExporter,
    key: "node_exporter",
    service: "node-exporter",
    image: "prom/node-exporter",
    version: "v1.12.1",
    ports: &[tcp("metrics", 9100)],
    metrics: Some(("metrics", "/metrics")),
    ready: Some(("metrics", "/metrics")),
    data_dir: None,
    uid: 65534,
    datasource_port: None,
    exporter: true,
    reload_metric: None,
    up_gauge: None,
};
