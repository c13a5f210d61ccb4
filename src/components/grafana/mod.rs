//! Grafana.
//!
//! Its settings under `components.grafana`, its catalog entry and its plan
//! (`plan.rs`: services and config files).

pub mod plan;

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;

component!(
    /// Grafana.
    Grafana {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        admin_user: Option<String>,
        /// Secret that holds the admin password (default `grafana_admin_password`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        admin_password_secret: Option<String>,
        /// Secret that holds `security.secret_key` (default `grafana_secret_key`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_key_secret: Option<String>,
        /// Plugin IDs to preinstall, e.g. `grafana-clock-panel`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        plugins: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        root_url: Option<String>,
    }
);

/// Container port of the web UI and API.
pub const WEB: u16 = 3000;

pub static INFO: Info = Info {
    kind: Kind::Grafana,
    key: "grafana",
    service: "grafana",
    image: "grafana/grafana",
    version: "13.2.0",
    ports: &[tcp("web", WEB)],
    metrics: Some(("web", "/metrics")),
    ready: Some(("web", "/api/health")),
    data_dir: Some("/var/lib/grafana"),
    uid: 472,
    datasource_port: None,
    exporter: false,
    reload_metric: None,
    up_gauge: None,
};
