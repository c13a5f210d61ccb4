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
        #[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
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
            pub version: Option<Version>,
            /// Host ports by port name; defaults per component.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub ports: BTreeMap<String, Port>,
            /// Host address the ports are published on; `127.0.0.1` by default.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub bind_address: Option<String>,
            /// Publish ports on the host at all (default true).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub publish: Option<bool>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub resources: Option<Resources>,
            /// Name of the named volume that holds the data, for components with data.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub data_volume: Option<String>,
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub volumes: Vec<ExtraVolume>,
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub environment: BTreeMap<String, String>,
            /// Extra command-line flags, appended verbatim.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub extra_args: Vec<String>,
            /// Let Prometheus scrape this component (default true where it has metrics).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scrape: Option<bool>,
            /// How often Prometheus scrapes this component; for `prometheus`
            /// itself, the global default of every job.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scrape_interval: Option<Duration>,
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            pub fn common(&self) -> Common<'_> {
                Common {
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

component!(
    /// Prometheus server.
    Prometheus {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evaluation_interval: Option<Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scrape_timeout: Option<Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention_time: Option<Duration>,
        /// e.g. `50GB`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention_size: Option<String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        external_labels: BTreeMap<super::types::LabelName, String>,
        /// `--web.external-url`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_url: Option<String>,
        /// `--web.enable-lifecycle` (reload over HTTP); off unless asked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        enable_lifecycle: Option<bool>,
        /// `--alertmanager.notification-queue-capacity`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notification_queue_capacity: Option<u32>,
        /// `--web.enable-remote-write-receiver`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remote_write_receiver: Option<bool>,
    }
);

component!(
    /// Alertmanager.
    Alertmanager {
        /// `--web.external-url`, used in notification links.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_url: Option<String>,
        /// How long silences and notification state are kept (`--data.retention`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention: Option<Duration>,
        /// Gossip peers for a clustered Alertmanager; clustering is off when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        cluster_peers: Vec<String>,
    }
);

component!(
    /// Grafana.
    Grafana {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        admin_user: Option<String>,
        /// Secret that holds the admin password (default `grafana_admin_password`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        admin_password_secret: Option<String>,
        /// Secret that holds `security.secret_key` (default `grafana_secret_key`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_key_secret: Option<String>,
        /// Plugin IDs to preinstall, e.g. `grafana-clock-panel`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        plugins: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        root_url: Option<String>,
    }
);

component!(
    /// Loki, single binary with filesystem storage.
    Loki {
        /// How long logs are kept; compactor retention is on when set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention_period: Option<Duration>,
        /// Samples older than this are rejected (default 168h).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reject_old_samples_max_age: Option<Duration>,
        /// First day of the tsdb/v13 schema period, `YYYY-MM-DD`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema_from: Option<String>,
    }
);

component!(
    /// Promtail, the legacy log shipper (end of life since 2026-03-02).
    Promtail {}
);

component!(
    /// Grafana Alloy, the log shipper that replaces Promtail.
    Alloy {}
);

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

component!(
    /// Prometheus node exporter: host metrics.
    NodeExporter {
        /// Mount the host's `/proc`, `/sys` and `/` read-only (default true).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host_root: Option<bool>,
        /// Regex of mount points to ignore.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mount_points_exclude: Option<String>,
        /// Regex of filesystem types to ignore.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fs_types_exclude: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        collectors_enabled: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        collectors_disabled: Vec<String>,
    }
);

component!(
    /// cAdvisor: container metrics.
    Cadvisor {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        housekeeping_interval: Option<Duration>,
        /// Report only Docker containers (default true).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        docker_only: Option<bool>,
    }
);

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

component!(
    /// redis_exporter: Redis metrics.
    RedisExporter {
        /// Redis address, e.g. `redis://redis:6379`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        /// Secret whose file is redis_exporter's password file
        /// (`--redis.password-file`): a JSON object from the Redis address to
        /// its password, e.g. `{"redis://redis:6379": "PASSWORD"}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_secret: Option<String>,
    }
);

component!(
    /// nginx-prometheus-exporter: NGINX stub_status metrics.
    NginxExporter {
        /// stub_status URL, e.g. `http://nginx:8080/stub_status`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scrape_uri: Option<String>,
    }
);

component!(
    /// Pushgateway: metrics pushed by batch jobs.
    Pushgateway {
        /// Keep pushed metrics across restarts (default true).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        persistence: Option<bool>,
    }
);

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

/// Null (`node_exporter:` with nothing after it) enables a component with its
/// defaults, which is what a person writing that line means.
fn enable<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(Option::<T>::deserialize(d)?.unwrap_or_default()))
}

/// The components of the stack, keyed by kind. A component is deployed when
/// its key is present and `enabled` is not false.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Components {
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub prometheus: Option<Prometheus>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub alertmanager: Option<Alertmanager>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub grafana: Option<Grafana>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub loki: Option<Loki>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub promtail: Option<Promtail>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub alloy: Option<Alloy>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub jaeger: Option<Jaeger>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_exporter: Option<NodeExporter>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub cadvisor: Option<Cadvisor>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub blackbox_exporter: Option<BlackboxExporter>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub postgres_exporter: Option<PostgresExporter>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub redis_exporter: Option<RedisExporter>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub nginx_exporter: Option<NginxExporter>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub pushgateway: Option<Pushgateway>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub elasticsearch: Option<Elasticsearch>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub logstash: Option<Logstash>,
    #[serde(
        default,
        deserialize_with = "enable",
        skip_serializing_if = "Option::is_none"
    )]
    pub kibana: Option<Kibana>,
}
