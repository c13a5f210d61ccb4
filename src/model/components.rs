//! The deployable components of a stack and their own settings.
//!
//! Every component has the same deployment knobs (image, version, ports,
//! bind address, resources, volumes); the `component!` macro writes them into each
//! struct instead of `#[serde(flatten)]`, which would lose unknown-key checks.
//! Every field is optional: an absent field means "the default", and defaults are
//! decided in one place (`catalog.rs`), not scattered through serde attributes.

use super::types::{Duration, MemSize, Port, Version};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// CPU limit in cores, e.g. `1.5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemSize>,
}

/// An extra mount: a named volume or a host path, into the container.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExtraVolume {
    pub source: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

/// The deployment settings every component shares, borrowed from its struct.
pub struct Common<'a> {
    pub enabled: Option<bool>,
    pub image: Option<&'a str>,
    pub version: Option<&'a Version>,
    pub ports: &'a BTreeMap<String, Port>,
    pub bind_address: Option<&'a str>,
    pub publish: Option<bool>,
    pub resources: Option<&'a Resources>,
    pub data_volume: Option<&'a str>,
    pub volumes: &'a [ExtraVolume],
    pub environment: &'a BTreeMap<String, String>,
    pub extra_args: &'a [String],
    pub scrape: Option<bool>,
    pub scrape_interval: Option<&'a Duration>,
}

macro_rules! component {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, ::serde::Serialize, ::serde::Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Set to false to keep the settings but not deploy the component.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub enabled: Option<bool>,
            /// Image repository without the tag; the upstream image by default.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub image: Option<String>,
            /// The pinned release, which is also the image tag.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub version: Option<$crate::model::types::Version>,
            /// Host ports by port name; defaults per component.
            #[serde(default, skip_serializing_if = "::std::collections::BTreeMap::is_empty")]
            pub ports: ::std::collections::BTreeMap<String, $crate::model::types::Port>,
            /// Host address the ports are published on; `127.0.0.1` by default.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub bind_address: Option<String>,
            /// Publish ports on the host at all (default true).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub publish: Option<bool>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub resources: Option<$crate::model::components::Resources>,
            /// Name of the named volume that holds the data, for components with data.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub data_volume: Option<String>,
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub volumes: Vec<$crate::model::components::ExtraVolume>,
            #[serde(default, skip_serializing_if = "::std::collections::BTreeMap::is_empty")]
            pub environment: ::std::collections::BTreeMap<String, String>,
            /// Extra command-line flags, appended verbatim.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub extra_args: Vec<String>,
            /// Let Prometheus scrape this component (default true where it has metrics).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scrape: Option<bool>,
            /// How often Prometheus scrapes this component; for `prometheus`
            /// itself, the global default of every job.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scrape_interval: Option<$crate::model::types::Duration>,
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            pub fn common(&self) -> $crate::model::components::Common<'_> {
                $crate::model::components::Common {
                    enabled: self.enabled,
                    image: self.image.as_deref(),
                    version: self.version.as_ref(),
                    ports: &self.ports,
                    bind_address: self.bind_address.as_deref(),
                    publish: self.publish,
                    resources: self.resources.as_ref(),
                    data_volume: self.data_volume.as_deref(),
                    volumes: &self.volumes,
                    environment: &self.environment,
                    extra_args: &self.extra_args,
                    scrape: self.scrape,
                    scrape_interval: self.scrape_interval.as_ref(),
                }
            }
        }
    };
}

pub(crate) use component;

/// Null (`node_exporter:` with nothing after it) enables a component with its
/// defaults, which is what a person writing that line means.
pub(crate) fn enable<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(Option::<T>::deserialize(d)?.unwrap_or_default()))
}

// The settings types live with their components (`src/components/`); the
// `components:` struct is generated by the registry there.
pub use crate::components::Components;
pub use crate::components::alertmanager::Alertmanager;
pub use crate::components::alloy::Alloy;
pub use crate::components::blackbox_exporter::{
    BlackboxExporter, BlackboxModule, HttpProbe, IcmpProbe, Prober, TcpProbe,
};
pub use crate::components::cadvisor::Cadvisor;
pub use crate::components::elasticsearch::Elasticsearch;
pub use crate::components::grafana::Grafana;
pub use crate::components::jaeger::{Jaeger, JaegerStorage};
pub use crate::components::kibana::Kibana;
pub use crate::components::logstash::{Logstash, LogstashInputs, LogstashPipeline};
pub use crate::components::loki::Loki;
pub use crate::components::nginx_exporter::NginxExporter;
pub use crate::components::node_exporter::NodeExporter;
pub use crate::components::postgres_exporter::PostgresExporter;
pub use crate::components::prometheus::Prometheus;
pub use crate::components::promtail::Promtail;
pub use crate::components::pushgateway::Pushgateway;
pub use crate::components::redis_exporter::RedisExporter;
