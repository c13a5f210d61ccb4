//! Pushgateway: metrics pushed by batch jobs.
//!
//! Its settings under `components.pushgateway` and its catalog entry.

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;

component!(
    /// Pushgateway: metrics pushed by batch jobs.
    Pushgateway {
        /// Keep pushed metrics across restarts (default true).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        persistence: Option<bool>,
    }
);

pub static INFO: Info = Info {
    kind: Kind::Pushgateway,
    key: "pushgateway",
    service: "pushgateway",
    image: "prom/pushgateway",
    version: "v1.11.0",
    ports: &[tcp("web", 9091)],
    metrics: Some(("web", "/metrics")),
    ready: Some(("web", "/-/ready")),
    data_dir: Some("/data"),
    uid: 65534,
    datasource_port: None,
    exporter: true,
    reload_metric: None,
    up_gauge: None,
};
