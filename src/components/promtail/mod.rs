//! Promtail, the legacy log shipper (end of life since 2026-03-02).
//!
//! Its settings under `components.promtail`, its catalog entry and its plan
//! (`plan.rs`: services and config files).

pub mod plan;

use super::Kind;
use crate::model::catalog::{Info, internal};
use crate::model::components::component;

component!(
    /// Promtail, the legacy log shipper (end of life since 2026-03-02).
    Promtail {}
);

/// Container port of the HTTP API (push, query, readiness).
pub const HTTP: u16 = 9080;

pub static INFO: Info = Info {
    kind: Kind::Promtail,
    key: "promtail",
    service: "promtail",
    image: "grafana/promtail",
    version: "3.6.15",
    ports: &[internal("http", HTTP)],
    metrics: Some(("http", "/metrics")),
    ready: Some(("http", "/ready")),
    data_dir: Some("/var/lib/promtail"),
    uid: 0,
    datasource_port: None,
    exporter: false,
    reload_metric: None,
    up_gauge: None,
};
