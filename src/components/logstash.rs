//! Logstash with one pipeline into Elasticsearch.
//!
//! Its settings under `components.logstash` and its catalog entry.

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;
use crate::model::types::{MemSize, Port};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

component!(
    /// Logstash with one pipeline into Elasticsearch.
    Logstash {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heap: Option<MemSize>,
        /// Pipelines by name; each becomes `logstash/pipeline/NAME.conf`.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pipelines: BTreeMap<String, LogstashPipeline>,
    }
);

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogstashPipeline {
    /// Inputs to open, by kind.
    #[serde(default)]
    pub inputs: LogstashInputs,
    /// Index to write to; Logstash date syntax allowed, e.g. `app-logs-%{+YYYY.MM.dd}`.
    pub index: String,
    /// Parse the `message` field as JSON (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_json: Option<bool>,
    /// Tag events by level (`error`, `warning`) and extract `duration_ms`
    /// into a number for performance dashboards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categorize: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogstashInputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beats: Option<Port>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Port>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Port>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp: Option<Port>,
}

pub static INFO: Info = Info {
    kind: Kind::Logstash,
    key: "logstash",
    service: "logstash",
    image: "docker.elastic.co/logstash/logstash",
    version: "9.5.1",
    ports: &[tcp("api", 9600)],
    metrics: None,
    ready: Some(("api", "/")),
    data_dir: None,
    uid: 1000,
    datasource_port: None,
    exporter: false,
    reload_metric: None,
    up_gauge: None,
};
