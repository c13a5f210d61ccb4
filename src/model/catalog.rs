//! What stackctl knows about each component: its image, the release it pins by
//! default, its ports, where it keeps data, how to tell it is alive, and the
//! user it runs as. Defaults of the spec are decided here and nowhere else.
//!
//! Default versions are the newest stable releases recorded in
//! `COMPONENT-VERSIONS.md` (August 2026). Promtail stays on the 3.6 line, the
//! last Loki release line that still ships it.

use super::components::{Common, Components};
use super::stack::Stack;
use super::types::Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Prometheus,
    Alertmanager,
    Grafana,
    Loki,
    Promtail,
    Alloy,
    Jaeger,
    NodeExporter,
    Cadvisor,
    BlackboxExporter,
    PostgresExporter,
    RedisExporter,
    NginxExporter,
    Pushgateway,
    Elasticsearch,
    Logstash,
    Kibana,
}

/// A port a component listens on inside its container.
#[derive(Debug, Clone, Copy)]
pub struct PortInfo {
    pub name: &'static str,
    pub container: u16,
    pub udp: bool,
    /// Published on the host unless the spec says otherwise.
    pub published: bool,
}

const fn tcp(name: &'static str, container: u16) -> PortInfo {
    PortInfo {
        name,
        container,
        udp: false,
        published: true,
    }
}

const fn internal(name: &'static str, container: u16) -> PortInfo {
    PortInfo {
        name,
        container,
        udp: false,
        published: false,
    }
}

pub struct Info {
    pub kind: Kind,
    /// The key under `components:`.
    pub key: &'static str,
    /// Compose service name, container DNS name and default scrape job name.
    pub service: &'static str,
    pub image: &'static str,
    pub version: &'static str,
    pub ports: &'static [PortInfo],
    /// Port name and path Prometheus scrapes, when the component has metrics.
    pub metrics: Option<(&'static str, &'static str)>,
    /// Port name and path that answer 200 once the component is ready.
    pub ready: Option<(&'static str, &'static str)>,
    /// Where the component keeps data, when it has any.
    pub data_dir: Option<&'static str>,
    /// The user the upstream image runs as, which must be able to read secrets.
    pub uid: u32,
}

pub const ALL: [Kind; 17] = [
    Kind::Prometheus,
    Kind::Alertmanager,
    Kind::Grafana,
    Kind::Loki,
    Kind::Promtail,
    Kind::Alloy,
    Kind::Jaeger,
    Kind::NodeExporter,
    Kind::Cadvisor,
    Kind::BlackboxExporter,
    Kind::PostgresExporter,
    Kind::RedisExporter,
    Kind::NginxExporter,
    Kind::Pushgateway,
    Kind::Elasticsearch,
    Kind::Logstash,
    Kind::Kibana,
];

impl Kind {
    pub fn info(self) -> &'static Info {
        match self {
            Kind::Prometheus => &PROMETHEUS,
            Kind::Alertmanager => &ALERTMANAGER,
            Kind::Grafana => &GRAFANA,
            Kind::Loki => &LOKI,
            Kind::Promtail => &PROMTAIL,
            Kind::Alloy => &ALLOY,
            Kind::Jaeger => &JAEGER,
            Kind::NodeExporter => &NODE_EXPORTER,
            Kind::Cadvisor => &CADVISOR,
            Kind::BlackboxExporter => &BLACKBOX,
            Kind::PostgresExporter => &POSTGRES,
            Kind::RedisExporter => &REDIS,
            Kind::NginxExporter => &NGINX,
            Kind::Pushgateway => &PUSHGATEWAY,
            Kind::Elasticsearch => &ELASTICSEARCH,
            Kind::Logstash => &LOGSTASH,
            Kind::Kibana => &KIBANA,
        }
    }

    pub fn key(self) -> &'static str {
        self.info().key
    }

    pub fn service(self) -> &'static str {
        self.info().service
    }

    pub fn port(self, name: &str) -> Option<&'static PortInfo> {
        self.info().ports.iter().find(|p| p.name == name)
    }

    pub fn from_service(service: &str) -> Option<Kind> {
        ALL.into_iter().find(|k| k.service() == service)
    }
}

static PROMETHEUS: Info = Info {
    kind: Kind::Prometheus,
    key: "prometheus",
    service: "prometheus",
    image: "prom/prometheus",
    version: "v3.14.0",
    ports: &[tcp("web", 9090)],
    metrics: Some(("web", "/metrics")),
    ready: Some(("web", "/-/ready")),
    data_dir: Some("/prometheus"),
    uid: 65534,
};

static ALERTMANAGER: Info = Info {
    kind: Kind::Alertmanager,
    key: "alertmanager",
    service: "alertmanager",
    image: "prom/alertmanager",
    version: "v0.34.0",
    ports: &[tcp("web", 9093), internal("cluster", 9094)],
    metrics: Some(("web", "/metrics")),
    ready: Some(("web", "/-/ready")),
    data_dir: Some("/alertmanager"),
    uid: 65534,
};

static GRAFANA: Info = Info {
    kind: Kind::Grafana,
    key: "grafana",
    service: "grafana",
    image: "grafana/grafana",
    version: "13.2.0",
    ports: &[tcp("web", 3000)],
    metrics: Some(("web", "/metrics")),
    ready: Some(("web", "/api/health")),
    data_dir: Some("/var/lib/grafana"),
    uid: 472,
};

static LOKI: Info = Info {
    kind: Kind::Loki,
    key: "loki",
    service: "loki",
    image: "grafana/loki",
    version: "3.7.6",
    ports: &[tcp("http", 3100), internal("grpc", 9096)],
    metrics: Some(("http", "/metrics")),
    ready: Some(("http", "/ready")),
    data_dir: Some("/loki"),
    uid: 10001,
};

static PROMTAIL: Info = Info {
    kind: Kind::Promtail,
    key: "promtail",
    service: "promtail",
    image: "grafana/promtail",
    version: "3.6.15",
    ports: &[internal("http", 9080)],
    metrics: Some(("http", "/metrics")),
    ready: Some(("http", "/ready")),
    data_dir: Some("/var/lib/promtail"),
    uid: 0,
};

static ALLOY: Info = Info {
    kind: Kind::Alloy,
    key: "alloy",
    service: "alloy",
    image: "grafana/alloy",
    version: "v1.18.1",
    ports: &[tcp("http", 12345)],
    metrics: Some(("http", "/metrics")),
    ready: Some(("http", "/-/ready")),
    data_dir: Some("/var/lib/alloy/data"),
    uid: 0,
};

static JAEGER: Info = Info {
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
};

static NODE_EXPORTER: Info = Info {
    kind: Kind::NodeExporter,
    key: "node_exporter",
    service: "node-exporter",
    image: "prom/node-exporter",
    version: "v1.12.1",
    ports: &[tcp("metrics", 9100)],
    metrics: Some(("metrics", "/metrics")),
    ready: Some(("metrics", "/metrics")),
    data_dir: None,
    uid: 65534,
};

static CADVISOR: Info = Info {
    kind: Kind::Cadvisor,
    key: "cadvisor",
    service: "cadvisor",
    image: "ghcr.io/google/cadvisor",
    version: "v0.60.5",
    ports: &[tcp("http", 8080)],
    metrics: Some(("http", "/metrics")),
    ready: Some(("http", "/healthz")),
    data_dir: None,
    uid: 0,
};

static BLACKBOX: Info = Info {
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
};

static POSTGRES: Info = Info {
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
};

static REDIS: Info = Info {
    kind: Kind::RedisExporter,
    key: "redis_exporter",
    service: "redis-exporter",
    image: "oliver006/redis_exporter",
    version: "v1.88.0",
    ports: &[tcp("metrics", 9121)],
    metrics: Some(("metrics", "/metrics")),
    ready: Some(("metrics", "/health")),
    data_dir: None,
    uid: 59000,
};

static NGINX: Info = Info {
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
};

static PUSHGATEWAY: Info = Info {
    kind: Kind::Pushgateway,
    key: "pushgateway",
    service: "pushgateway",
    image: "prom/pushgateway",
    version: "v1.11.0",
    ports: &[tcp("web", 9091)],
    metrics: Some(("web", "/metrics")),
    ready: Some(("web", "/-/ready")),
    data_dir: Some("/data"),
    uid: 65534,
};

static ELASTICSEARCH: Info = Info {
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
};

static LOGSTASH: Info = Info {
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
};

static KIBANA: Info = Info {
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
};

impl Components {
    /// The settings of one component, if it is present in the spec.
    pub fn common(&self, kind: Kind) -> Option<Common<'_>> {
        match kind {
            Kind::Prometheus => self.prometheus.as_ref().map(|c| c.common()),
            Kind::Alertmanager => self.alertmanager.as_ref().map(|c| c.common()),
            Kind::Grafana => self.grafana.as_ref().map(|c| c.common()),
            Kind::Loki => self.loki.as_ref().map(|c| c.common()),
            Kind::Promtail => self.promtail.as_ref().map(|c| c.common()),
            Kind::Alloy => self.alloy.as_ref().map(|c| c.common()),
            Kind::Jaeger => self.jaeger.as_ref().map(|c| c.common()),
            Kind::NodeExporter => self.node_exporter.as_ref().map(|c| c.common()),
            Kind::Cadvisor => self.cadvisor.as_ref().map(|c| c.common()),
            Kind::BlackboxExporter => self.blackbox_exporter.as_ref().map(|c| c.common()),
            Kind::PostgresExporter => self.postgres_exporter.as_ref().map(|c| c.common()),
            Kind::RedisExporter => self.redis_exporter.as_ref().map(|c| c.common()),
            Kind::NginxExporter => self.nginx_exporter.as_ref().map(|c| c.common()),
            Kind::Pushgateway => self.pushgateway.as_ref().map(|c| c.common()),
            Kind::Elasticsearch => self.elasticsearch.as_ref().map(|c| c.common()),
            Kind::Logstash => self.logstash.as_ref().map(|c| c.common()),
            Kind::Kibana => self.kibana.as_ref().map(|c| c.common()),
        }
    }

    pub fn enabled(&self, kind: Kind) -> bool {
        self.common(kind).is_some_and(|c| c.enabled != Some(false))
    }

    /// Enabled components in a fixed order (the order of `ALL`).
    pub fn enabled_kinds(&self) -> Vec<Kind> {
        ALL.into_iter().filter(|k| self.enabled(*k)).collect()
    }
}

/// One enabled component with its defaults applied.
pub struct Resolved<'a> {
    pub kind: Kind,
    pub common: Common<'a>,
    pub version: Version,
}

impl Stack {
    /// The resolved view of a component, when it is enabled.
    pub fn component(&self, kind: Kind) -> Option<Resolved<'_>> {
        if !self.components.enabled(kind) {
            return None;
        }
        let common = self.components.common(kind)?;
        let version = common
            .version
            .cloned()
            .unwrap_or_else(|| default_version(kind));
        Some(Resolved {
            kind,
            common,
            version,
        })
    }

    pub fn has(&self, kind: Kind) -> bool {
        self.components.enabled(kind)
    }

    /// The version a component runs (its pinned one or the default).
    pub fn version_of(&self, kind: Kind) -> Version {
        self.components
            .common(kind)
            .and_then(|c| c.version.cloned())
            .unwrap_or_else(|| default_version(kind))
    }

    pub fn bind_address(&self) -> &str {
        self.defaults.bind_address.as_deref().unwrap_or("127.0.0.1")
    }

    /// Secret with Grafana's admin password.
    pub fn grafana_admin_secret(&self) -> String {
        let spec = self.components.grafana.as_ref();
        spec.and_then(|g| g.admin_password_secret.clone())
            .unwrap_or_else(|| "grafana_admin_password".into())
    }

    /// Secret with Grafana's `secret_key`.
    pub fn grafana_key_secret(&self) -> String {
        let spec = self.components.grafana.as_ref();
        spec.and_then(|g| g.secret_key_secret.clone())
            .unwrap_or_else(|| "grafana_secret_key".into())
    }

    /// Secret with the Elasticsearch `elastic` password.
    pub fn elastic_secret(&self) -> String {
        let spec = self.components.elasticsearch.as_ref();
        spec.and_then(|e| e.password_secret.clone())
            .unwrap_or_else(|| "elastic_password".into())
    }

    /// Secret with the Elasticsearch `kibana_system` password.
    pub fn kibana_secret(&self) -> String {
        let spec = self.components.elasticsearch.as_ref();
        spec.and_then(|e| e.kibana_password_secret.clone())
            .unwrap_or_else(|| "kibana_system_password".into())
    }

    /// Secret with the password of the read-only Elasticsearch user Grafana uses.
    pub fn es_grafana_secret(&self) -> String {
        let spec = self.components.elasticsearch.as_ref();
        spec.and_then(|e| e.grafana_password_secret.clone())
            .unwrap_or_else(|| "elasticsearch_grafana_password".into())
    }

    /// Secret with the password of the Elasticsearch user Logstash writes as.
    pub fn es_logstash_secret(&self) -> String {
        let spec = self.components.elasticsearch.as_ref();
        spec.and_then(|e| e.logstash_password_secret.clone())
            .unwrap_or_else(|| "elasticsearch_logstash_password".into())
    }

    /// Secret with the password of the Elasticsearch user Jaeger stores spans as.
    pub fn es_jaeger_secret(&self) -> String {
        let spec = self.components.elasticsearch.as_ref();
        spec.and_then(|e| e.jaeger_password_secret.clone())
            .unwrap_or_else(|| "elasticsearch_jaeger_password".into())
    }

    /// Secret with Kibana's saved-objects encryption key.
    pub fn kibana_key_secret(&self) -> String {
        let spec = self.components.kibana.as_ref();
        spec.and_then(|k| k.encryption_key_secret.clone())
            .unwrap_or_else(|| "kibana_encryption_key".into())
    }

    /// Whether Jaeger stores spans in this stack's Elasticsearch (and so logs
    /// in as its own user, with the retention job).
    pub fn jaeger_uses_stack_es(&self) -> bool {
        self.components.jaeger.as_ref().is_some_and(|j| {
            self.has(Kind::Jaeger)
                && j.storage == Some(crate::model::components::JaegerStorage::Elasticsearch)
                && j.elasticsearch_url.is_none()
                && self.has(Kind::Elasticsearch)
        })
    }

    /// Whether Grafana has a datasource on this stack's Elasticsearch.
    pub fn grafana_uses_stack_es(&self) -> bool {
        self.has(Kind::Grafana)
            && self.has(Kind::Elasticsearch)
            && crate::check::dashboards::effective_datasources(self)
                .iter()
                .any(|d| {
                    d.kind == crate::model::stack::DatasourceKind::Elasticsearch && d.url.is_none()
                })
    }
}

pub fn default_version(kind: Kind) -> Version {
    // The table above is data we control; a bad entry is a bug caught by tests.
    Version::parse(kind.info().version).expect("catalog versions parse")
}

impl Resolved<'_> {
    /// The full image reference: registry mirror, repository, tag.
    pub fn image(&self, registry: Option<&str>) -> String {
        let repo = match self.common.image {
            Some(image) => image.to_string(),
            None => match registry {
                Some(mirror) => format!(
                    "{}/{}",
                    mirror.trim_end_matches('/'),
                    strip_registry(self.kind.info().image)
                ),
                None => self.kind.info().image.to_string(),
            },
        };
        format!("{repo}:{}", self.version)
    }

    pub fn scrape_enabled(&self) -> bool {
        self.kind.info().metrics.is_some() && self.common.scrape != Some(false)
    }

    /// Host port for a port name: the spec's override, else the container port.
    pub fn host_port(&self, name: &str) -> Option<u16> {
        self.common
            .ports
            .get(name)
            .map(|p| p.0)
            .or_else(|| self.kind.port(name).map(|p| p.container))
    }
}

/// `docker.elastic.co/elasticsearch/elasticsearch` → `elasticsearch/elasticsearch`;
/// a mirror keeps the path below the original registry host.
fn strip_registry(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') => rest,
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_version_parses_and_is_pinned() {
        for kind in ALL {
            let v = default_version(kind);
            assert!(v.major() > 0 || v.at_least(0, 1, 0), "{kind:?}");
        }
    }

    #[test]
    fn services_are_unique_and_dns_safe() {
        let mut seen = std::collections::BTreeSet::new();
        for kind in ALL {
            let s = kind.service();
            assert!(seen.insert(s), "{s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{s}");
            assert_eq!(Kind::from_service(s), Some(kind));
        }
    }

    #[test]
    fn mirror_replaces_registry_host() {
        assert_eq!(
            strip_registry("docker.elastic.co/kibana/kibana"),
            "kibana/kibana"
        );
        assert_eq!(strip_registry("prom/prometheus"), "prom/prometheus");
        assert_eq!(strip_registry("ghcr.io/google/cadvisor"), "google/cadvisor");
    }
}
