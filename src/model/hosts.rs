//! `hosts:` — other machines whose agents (exporters of the catalog) the
//! central Prometheus scrapes. Each host gets its own Compose bundle
//! (`hosts/NAME/`), and its targets reach Prometheus through file-based
//! discovery, so hosts come and go without a Prometheus restart.

use super::components::Components;
use super::types::LabelName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Where the central Prometheus reaches the host: an IP address or DNS name.
    pub address: String,
    /// The agents that run there, with the settings of `components:`
    /// (version, ports, extra_args…). Only exporters are accepted.
    pub components: Components,
    /// Labels added to every target of the host, besides `host: NAME`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<LabelName, String>,
    /// Address the bundle publishes its ports on (default `0.0.0.0`: the
    /// central Prometheus scrapes them over the network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_address: Option<String>,
    /// The host's Docker engine, for `stackctl up/down/status --host NAME`:
    /// `ssh://[user@]host[:port]`, `tcp://host:port` or `unix:///path`.
    /// Without it, those commands use `DOCKER_HOST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<String>,
    /// With a `tcp://` engine: the directory of `ca.pem`, `cert.pem` and
    /// `key.pem` (as `DOCKER_CERT_PATH`), relative to the stack directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_cert_path: Option<String>,
}
