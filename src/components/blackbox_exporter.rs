//! Blackbox exporter: probes endpoints from outside.
//!
//! Its settings under `components.blackbox_exporter` and its catalog entry.

use super::Kind;
use crate::model::catalog::{Info, tcp};
use crate::model::components::component;
use crate::model::types::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

component!(
    /// Blackbox exporter: probes endpoints from outside.
    BlackboxExporter {
        /// Probe modules by name; `http_2xx`, `tcp_connect` and `icmp` by default.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        modules: BTreeMap<String, BlackboxModule>,
    }
);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BlackboxModule {
    pub prober: Prober,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpProbe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpProbe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp: Option<IcmpProbe>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Prober {
    Http,
    Tcp,
    Icmp,
    Dns,
    Grpc,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpProbe {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub valid_status_codes: Vec<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub valid_http_versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_ip_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_if_not_ssl: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TcpProbe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_ip_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IcmpProbe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_ip_protocol: Option<String>,
}

pub static INFO: Info = Info {
    kind: Kind::BlackboxExporter,
    key: "blackbox_exporter",
    service: "blackbox-exporter",
    image: "prom/blackbox-exporter",
    version: "v0.28.0",
    ports: &[tcp("http", 9115)],
    metrics: Some(("http", "/metrics")),
    ready: Some(("http", "/-/healthy")),
    data_dir: None,
    uid: 65534,
    datasource_port: None,
    exporter: true,
    reload_metric: Some("blackbox_exporter"),
    up_gauge: None,
};
