//! Prometheus server.
//!
//! Its settings under `components.prometheus`, its catalog entry and its plan
//! (`plan.rs`: services and config files).

pub mod plan;

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;
use crate::model::types::Duration;
use std::collections::BTreeMap;

component!(
    /// Prometheus server.
    Prometheus {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evaluation_interval: Option<Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scrape_timeout: Option<Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention_time: Option<Duration>,
        /// e.g. `50GB`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention_size: Option<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        external_labels: BTreeMap<crate::model::types::LabelName, String>,
        /// `--web.external-url`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_url: Option<String>,
        /// `--web.enable-lifecycle` (reload over HTTP); off unless asked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enable_lifecycle: Option<bool>,
        /// `--alertmanager.notification-queue-capacity`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notification_queue_capacity: Option<u32>,
        /// `--web.enable-remote-write-receiver`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remote_write_receiver: Option<bool>,
    }
);

/// Container port of the web UI and API.
pub const WEB: u16 = 9090;

pub static INFO: Info = Info {
    kind: Kind::Prometheus,
    key: "prometheus",
    service: "prometheus",
    image: "prom/prometheus",
    version: "v3.14.0",
    ports: &[tcp("web", WEB)],
    metrics: Some(("web", "/metrics")),
    ready: Some(("web", "/-/ready")),
    data_dir: Some("/prometheus"),
    uid: 65534,
    datasource_port: Some("web"),
    exporter: false,
    reload_metric: Some("prometheus"),
    up_gauge: None,
};
