//! postgres_exporter: PostgreSQL metrics.
//!
//! Its settings under `components.postgres_exporter` and its catalog entry.

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;
use crate::model::types::Port;

component!(
    /// postgres_exporter: PostgreSQL metrics.
    PostgresExporter {
        /// Database host as reachable from the stack, e.g. `postgres`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        port: Option<Port>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        database: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        /// Secret holding the database password.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_secret: Option<String>,
        /// `disable`, `require`, `verify-full`, … (default `disable`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sslmode: Option<String>,
    }
);

pub static INFO: Info = Info {
    kind: Kind::PostgresExporter,
    key: "postgres_exporter",
    service: "postgres-exporter",
    image: "quay.io/prometheuscommunity/postgres-exporter",
    version: "v0.20.1",
    ports: &[tcp("metrics", 9187)],
    metrics: Some(("metrics", "/metrics")),
    ready: Some(("metrics", "/metrics")),
    data_dir: None,
    uid: 65534,
    datasource_port: None,
    exporter: true,
    reload_metric: None,
    up_gauge: Some("pg_up"),
};
