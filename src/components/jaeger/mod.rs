//! Jaeger v2 (OpenTelemetry Collector based), receiving OTLP.
//!
//! Its settings under `components.jaeger`, its catalog entry and its plan
//! (`plan.rs`: services and config files).

pub mod plan;

use super::Kind;
use crate::model::catalog::{Info, PortInfo, internal, tcp};
use crate::model::components::component;
use crate::model::types::Duration;
use serde::{Deserialize, Serialize};

component!(
    /// Jaeger v2 (OpenTelemetry Collector based), receiving OTLP.
    Jaeger {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        storage: Option<JaegerStorage>,
        /// Traces kept in memory storage (default 100000).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_traces: Option<u32>,
        /// Elasticsearch URL for `storage: elasticsearch` (default the stack's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        elasticsearch_url: Option<String>,
        /// Also accept legacy Jaeger (thrift/gRPC) and Zipkin protocols.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        legacy_receivers: Option<bool>,
        /// How long spans are kept with `badger` (its TTL) or
        /// `elasticsearch` (older daily indices are deleted); default 7d.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        span_retention: Option<Duration>,
    }
);

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JaegerStorage {
    Memory,
    Badger,
    Elasticsearch,
}

pub static INFO: Info = Info {
    kind: Kind::Jaeger,
    key: "jaeger",
    service: "jaeger",
    image: "jaegertracing/jaeger",
    version: "2.20.0",
    ports: &[
        tcp("ui", 16686),
        tcp("otlp_grpc", 4317),
        tcp("otlp_http", 4318),
        internal("health", 13133),
        internal("metrics", 8888),
        internal("jaeger_grpc", 14250),
        internal("jaeger_thrift_http", 14268),
        internal("zipkin", 9411),
        PortInfo {
            name: "jaeger_compact",
            container: 6831,
            udp: true,
            published: false,
        },
    ],
    metrics: Some(("metrics", "/metrics")),
    ready: Some(("health", "/status")),
    data_dir: None,
    uid: 10001,
    datasource_port: Some("ui"),
    exporter: false,
    reload_metric: None,
    up_gauge: None,
};
