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

pub use crate::components::{ALL, Kind};

/// A port a component listens on inside its container.
#[derive(Debug, Clone, Copy)]
pub struct PortInfo {
    pub name: &'static str,
    pub container: u16,
    pub udp: bool,
    /// Published on the host unless the spec says otherwise.
    pub published: bool,
}

pub(crate) const fn tcp(name: &'static str, container: u16) -> PortInfo {
    PortInfo {
        name,
        container,
        udp: false,
        published: true,
    }
}

pub(crate) const fn internal(name: &'static str, container: u16) -> PortInfo {
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
    /// The port a Grafana datasource on this component points at, when
    /// Grafana can query it.
    pub datasource_port: Option<&'static str>,
    /// An exporter: its `/metrics` is its reason to exist.
    pub exporter: bool,
    /// The metric prefix of `..._config_last_reload_successful`, for a
    /// component that reloads its config on SIGHUP.
    pub reload_metric: Option<&'static str>,
    /// The gauge an exporter sets to 1 only when it reached what it exports.
    pub up_gauge: Option<&'static str>,
}

impl Kind {
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

impl Components {
    pub fn enabled(&self, kind: Kind) -> bool {
        self.common(kind).is_some_and(|c| c.enabled != Some(false))
    }

    /// Enabled components in a fixed order (the order of `ALL`).
    pub fn enabled_kinds(&self) -> Vec<Kind> {
        ALL.into_iter().filter(|k| self.enabled(*k)).collect()
    }
}

/// The former name of `Component`.
pub type Resolved<'a> = Component<'a>;

/// One enabled component with its defaults applied.
pub struct Component<'a> {
    pub kind: Kind,
    pub common: Common<'a>,
    pub version: Version,
}

impl Stack {
    /// The resolved view of a component, when it is enabled.
    pub fn component(&self, kind: Kind) -> Option<Component<'_>> {
        if !self.components.enabled(kind) {
            return None;
        }
        let common = self.components.common(kind)?;
        let version = common
            .version
            .cloned()
            .unwrap_or_else(|| default_version(kind));
        Some(Component {
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

    /// Grafana's admin user.
    pub fn grafana_admin_user(&self) -> String {
        let spec = self.components.grafana.as_ref();
        spec.and_then(|g| g.admin_user.clone())
            .unwrap_or_else(|| "admin".into())
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
            && crate::resolve::datasources::effective_datasources(self)
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

impl Component<'_> {
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
