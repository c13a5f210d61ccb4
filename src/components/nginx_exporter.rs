//! nginx-prometheus-exporter: NGINX stub_status metrics.
//!
//! Its settings under `components.nginx_exporter` and its catalog entry.

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;

component!(
    /// nginx-prometheus-exporter: NGINX stub_status metrics.
    NginxExporter {
        /// stub_status URL, e.g. `http://nginx:8080/stub_status`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scrape_uri: Option<String>,
    }
);

pub static INFO: Info = Info {
    kind: Kind::NginxExporter,
    key: "nginx_exporter",
    service: "nginx-exporter",
    image: "nginx/nginx-prometheus-exporter",
    version: "1.5.3",
    ports: &[tcp("metrics", 9113)],
    metrics: Some(("metrics", "/metrics")),
    ready: Some(("metrics", "/metrics")),
    data_dir: None,
    // build/Dockerfile: `USER 1001:1001` (not nobody).
    uid: 1001,
    datasource_port: None,
    exporter: true,
    reload_metric: None,
    up_gauge: Some("nginx_up"),
};
