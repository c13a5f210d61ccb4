//! Elasticsearch, single node.
//!
//! Its settings under `components.elasticsearch` and its catalog entry.

use super::Kind;
use crate::model::catalog::{Info, internal, tcp};
use crate::model::components::component;
use crate::model::types::{Duration, MemSize};

component!(
    /// Elasticsearch, single node.
    Elasticsearch {
        /// JVM heap, e.g. `512m` (sets -Xms and -Xmx).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heap: Option<MemSize>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cluster_name: Option<String>,
        /// Secret with the `elastic` superuser password (default `elastic_password`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_secret: Option<String>,
        /// Secret with the `kibana_system` password (default `kibana_system_password`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kibana_password_secret: Option<String>,
        /// Delete log indices older than this (an ILM policy); kept forever when unset.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        log_retention: Option<Duration>,
        /// Secret with the password of `stackctl_grafana`, the read-only user
        /// Grafana queries the log indices as (default `elasticsearch_grafana_password`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grafana_password_secret: Option<String>,
        /// Secret with the password of `stackctl_logstash`, the user Logstash
        /// writes its indices as (default `elasticsearch_logstash_password`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        logstash_password_secret: Option<String>,
        /// Secret with the password of `stackctl_jaeger`, the user Jaeger
        /// stores spans as (default `elasticsearch_jaeger_password`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jaeger_password_secret: Option<String>,
    }
);

pub static INFO: Info = Info {
    kind: Kind::Elasticsearch,
    key: "elasticsearch",
    service: "elasticsearch",
    image: "docker.elastic.co/elasticsearch/elasticsearch",
    version: "9.5.1",
    ports: &[tcp("http", 9200), internal("transport", 9300)],
    metrics: None,
    ready: Some(("http", "/_cluster/health")),
    data_dir: Some("/usr/share/elasticsearch/data"),
    uid: 1000,
    datasource_port: Some("http"),
    exporter: false,
    reload_metric: None,
    up_gauge: None,
};
