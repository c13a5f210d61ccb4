//! Grafana Alloy, the log shipper that replaces Promtail.
//!
//! Its settings under `components.alloy`, its catalog entry and its plan
//! (`plan.rs`: services and config files).

pub mod plan;

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;

component!(
    /// Grafana Alloy, the log shipper that replaces Promtail.
    Alloy {}
);

pub static INFO: Info = Info {
    kind: Kind::Alloy,
    key: "alloy",
    service: "alloy",
    image: "grafana/alloy",
    version: "v1.18.1",
    ports: &[tcp("http", 12345)],
    metrics: Some(("http", "/metrics")),
    ready: Some(("http", "/-/ready")),
    data_dir: Some("/var/lib/alloy/data"),
    uid: 0,
    datasource_port: None,
    exporter: false,
    reload_metric: None,
    up_gauge: None,
};
