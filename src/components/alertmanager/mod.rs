//! Alertmanager.
//!
//! Its settings under `components.alertmanager`, its catalog entry and its plan
//! (`plan.rs`: services and config files).

pub mod plan;

use super::Kind;
use crate::model::catalog::{Info, internal, tcp};
use crate::model::components::component;
use crate::model::types::Duration;

component!(
    /// Alertmanager.
    Alertmanager {
        /// `--web.external-url`, used in notification links.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_url: Option<String>,
        /// How long silences and notification state are kept (`--data.retention`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention: Option<Duration>,
        /// Gossip peers for a clustered Alertmanager; clustering is off when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        cluster_peers: Vec<String>,
    }
);

/// Container port of the web UI and API.
pub const WEB: u16 = 9093;

/// `host:port` of the API Prometheus and Loki's ruler send alerts to.
pub fn address() -> String {
    format!("{}:{WEB}", INFO.service)
}

pub static INFO: Info = Info {
    kind: Kind::Alertmanager,
    key: "alertmanager",
    service: "alertmanager",
    image: "prom/alertmanager",
    version: "v0.34.0",
    ports: &[tcp("web", WEB), internal("cluster", 9094)],
    metrics: Some(("web", "/metrics")),
    ready: Some(("web", "/-/ready")),
    data_dir: Some("/alertmanager"),
    uid: 65534,
    datasource_port: Some("web"),
    exporter: false,
    reload_metric: Some("alertmanager"),
    up_gauge: None,
};
