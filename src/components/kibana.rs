//! Kibana.
//!
//! Its settings under `components.kibana` and its catalog entry.

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;

component!(
    /// Kibana.
    Kibana {
        /// Data view created for the logs, e.g. `app-logs-*`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index_pattern: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_base_url: Option<String>,
        /// Secret with `xpack.encryptedSavedObjects.encryptionKey`, at least
        /// 32 characters (default `kibana_encryption_key`); without it Kibana
        /// disables alerting and connectors.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encryption_key_secret: Option<String>,
    }
);

pub static INFO: Info = Info {
    kind: Kind::Kibana,
    key: "kibana",
    service: "kibana",
    image: "docker.elastic.co/kibana/kibana",
    version: "9.5.1",
    ports: &[tcp("web", 5601)],
    metrics: None,
    ready: Some(("web", "/api/status")),
    data_dir: None,
    uid: 1000,
    datasource_port: None,
    exporter: false,
    reload_metric: None,
    up_gauge: None,
};
