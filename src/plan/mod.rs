//! The deployment plan: what runs (services with images, commands, mounts,
//! ports, healthchecks) and which config files they read, derived from a
//! valid `Stack`. The Compose file, the Kubernetes values and `stackctl up` all
//! come from this one plan, so they cannot drift apart.
//!
//! Pure: no filesystem, no network. Files referenced by the spec (dashboard
//! JSON) are passed in through `Inputs` by the command layer.

pub mod auth_proxy;
pub mod dashboard;
pub(crate) mod elastic;
pub mod exporters;
pub mod hosts;
pub(crate) mod receivers;
pub mod route_prefix;
pub mod secrets;
pub mod watchdog;
pub mod web_auth;

// Components planned by their own modules, under their old paths.
pub use crate::components::{
    alertmanager::plan as alertmanager, alloy::plan as alloy, grafana::plan as grafana,
    jaeger::plan as jaeger, loki::plan as loki, prometheus::plan as prometheus,
    promtail::plan as promtail,
};

use crate::model::Kind;
use crate::model::catalog::Component;
use crate::resolve::Resolved;
use std::collections::BTreeMap;

/// Where secrets appear inside containers (a read-only volume that the
/// `secrets-init` job fills; see `secrets.rs`), as with Compose file secrets.
pub const SECRETS_DIR: &str = "/run/secrets";

/// Files the spec refers to, read by the caller: path (as written in the spec) → contents.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    pub files: BTreeMap<String, String>,
    /// Values of the secrets hashed into web configs (`security.users`), by
    /// secret name; a secret whose file does not exist yet is absent.
    pub secrets: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Compose project name; prefixes containers, network and volumes.
    pub project: String,
    /// Existing networks every service joins, besides the project's own.
    pub external_networks: Vec<String>,
    /// Named volumes (short names; Compose prefixes them with the project).
    pub volumes: Vec<String>,
    /// Secrets: name → file relative to the stack directory.
    pub secrets: BTreeMap<String, String>,
    pub services: Vec<Service>,
    /// Generated config files, relative to the stack directory.
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: String,
    /// The component this service runs; `None` for helper jobs (setup).
    pub kind: Option<Kind>,
    pub image: String,
    pub entrypoint: Option<Vec<String>>,
    pub command: Vec<String>,
    pub environment: BTreeMap<String, String>,
    pub ports: Vec<PortBinding>,
    pub mounts: Vec<Mount>,
    /// Secrets the service reads at `/run/secrets/NAME` (installed by the
    /// `secrets-init` job into the service's own volume).
    pub secrets: Vec<String>,
    pub healthcheck: Option<Healthcheck>,
    /// An HTTP endpoint that answers 200 when the service is ready, probed from
    /// outside when the image has no tool for an in-container healthcheck.
    pub ready: Option<HttpCheck>,
    pub depends_on: Vec<Dependency>,
    pub restart: String,
    pub cpus: Option<f64>,
    pub memory_bytes: Option<u64>,
    pub privileged: bool,
    pub devices: Vec<String>,
    pub cap_add: Vec<String>,
    pub extra_hosts: Vec<(String, String)>,
    /// Generated files this service reads (for change detection).
    pub config_files: Vec<String>,
    /// The user the image runs as, which must be able to read its secrets.
    pub uid: u32,
    /// Overrides the image's user (`user:` in Compose); only for jobs that
    /// must run as root.
    pub user: Option<String>,
    /// Runs once and exits (a setup job), rather than staying up.
    pub one_shot: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub udp: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSource {
    /// A named volume of the project.
    Volume(String),
    /// A path relative to the stack directory (generated config).
    Generated(String),
    /// An absolute host path (host metrics, log files).
    Host(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub source: MountSource,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck {
    /// Exec form (`CMD`) unless `shell` is set (`CMD-SHELL`).
    pub test: Vec<String>,
    pub shell: bool,
    pub interval_s: u32,
    pub timeout_s: u32,
    pub retries: u32,
    pub start_period_s: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    pub container_port: u16,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Started,
    Healthy,
    CompletedSuccessfully,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub service: String,
    pub condition: Condition,
}

impl Service {
    /// A service for a component with the settings every component shares:
    /// image, published ports, data volume, resources, restart policy.
    pub(crate) fn for_component(stack: &Resolved, c: &Component<'_>) -> Service {
        let info = c.kind.info();
        let mut service = Service {
            name: info.service.to_string(),
            kind: Some(c.kind),
            image: c.image(stack.defaults.image_registry.as_deref()),
            entrypoint: None,
            command: Vec::new(),
            environment: c.common.environment.clone(),
            ports: Vec::new(),
            mounts: Vec::new(),
            secrets: Vec::new(),
            healthcheck: None,
            ready: info.ready.and_then(|(port, path)| {
                c.kind.port(port).map(|p| HttpCheck {
                    container_port: p.container,
                    path: path.to_string(),
                })
            }),
            depends_on: Vec::new(),
            restart: stack
                .defaults
                .restart
                .map_or("unless-stopped", |r| r.as_str())
                .to_string(),
            cpus: c.common.resources.and_then(|r| r.cpus),
            memory_bytes: c
                .common
                .resources
                .and_then(|r| r.memory.as_ref())
                .map(|m| m.bytes()),
            privileged: false,
            devices: Vec::new(),
            cap_add: Vec::new(),
            extra_hosts: stack
                .network
                .external_hosts
                .iter()
                .filter_map(|(host, addr)| addr.as_ref().map(|a| (host.clone(), a.clone())))
                .collect(),
            config_files: Vec::new(),
            uid: info.uid,
            user: None,
            one_shot: false,
        };
        for port in crate::model::ports::published(stack) {
            if port.kind == c.kind {
                service.ports.push(PortBinding {
                    host_ip: port.host_ip,
                    host_port: port.host_port,
                    container_port: port.container_port,
                    udp: port.udp,
                });
            }
        }
        if let Some(dir) = info.data_dir {
            service.mounts.push(Mount {
                source: MountSource::Volume(data_volume(c)),
                target: dir.to_string(),
                read_only: false,
            });
        }
        for v in c.common.volumes {
            let source = if v.source.starts_with('/') {
                // Cleaned as Docker does, so `/var/..` is seen as `/`.
                MountSource::Host(crate::check::inputs::clean_host_path(&v.source))
            } else if v.source.starts_with('.') {
                MountSource::Generated(v.source.trim_start_matches("./").to_string())
            } else {
                MountSource::Volume(v.source.clone())
            };
            service.mounts.push(Mount {
                source,
                target: v.target.clone(),
                read_only: v.read_only.unwrap_or(false),
            });
        }
        service
    }

    /// Mounts a generated config directory read-only. Directories, not single
    /// files: an atomic rename on the host would not reach a file bind mount.
    pub(crate) fn mount_config(&mut self, dir: &str, target: &str) {
        self.mounts.push(Mount {
            source: MountSource::Generated(dir.to_string()),
            target: target.to_string(),
            read_only: true,
        });
    }

    pub(crate) fn host_mount(&mut self, source: &str, target: &str) {
        self.mounts.push(Mount {
            source: MountSource::Host(source.to_string()),
            target: target.to_string(),
            read_only: true,
        });
    }

    pub(crate) fn use_secret(&mut self, name: &str) -> String {
        if !self.secrets.iter().any(|s| s == name) {
            self.secrets.push(name.to_string());
        }
        secret_path(name)
    }

    pub(crate) fn after(&mut self, service: &str, condition: Condition) {
        if !self.depends_on.iter().any(|d| d.service == service) {
            self.depends_on.push(Dependency {
                service: service.to_string(),
                condition,
            });
        }
    }

    /// An in-container check with busybox/alpine `wget`, which the upstream
    /// images of this service ship.
    pub(crate) fn wget_healthcheck(&mut self, port: u16, path: &str) {
        self.healthcheck = Some(Healthcheck {
            test: vec![
                "wget".into(),
                "-q".into(),
                "-O".into(),
                "/dev/null".into(),
                format!("http://localhost:{port}{path}"),
            ],
            shell: false,
            interval_s: 10,
            timeout_s: 5,
            retries: 5,
            start_period_s: 10,
        });
    }
}

pub fn secret_path(name: &str) -> String {
    format!("{SECRETS_DIR}/{name}")
}

fn data_volume(c: &Component<'_>) -> String {
    c.common
        .data_volume
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}_data", c.kind.service().replace('-', "_")))
}

/// Names of the secrets the stack declares, with their files.
fn secret_files(stack: &Resolved) -> BTreeMap<String, String> {
    stack.secret_files().clone()
}

/// Where the plan writes Alertmanager's configuration (read by `routes`).
pub fn alertmanager_config_path() -> &'static str {
    alertmanager::CONFIG
}

/// The plan for a stack that passed validation.
pub fn plan(stack: &Resolved, inputs: &Inputs) -> Deployment {
    let mut d = Deployment {
        project: stack.name.clone(),
        external_networks: stack.network.attach.clone(),
        volumes: Vec::new(),
        secrets: BTreeMap::new(),
        services: Vec::new(),
        files: BTreeMap::new(),
    };
    for kind in stack.components.enabled_kinds() {
        let Some(c) = stack.component(kind) else {
            continue;
        };
        match kind {
            Kind::Prometheus => prometheus::plan(stack, &c, &mut d),
            Kind::Alertmanager => alertmanager::plan(stack, &c, &mut d),
            Kind::Grafana => grafana::plan(stack, &c, inputs, &mut d),
            Kind::Loki => loki::plan(stack, &c, &mut d),
            Kind::Promtail => promtail::plan(stack, &c, &mut d),
            Kind::Alloy => alloy::plan(stack, &c, &mut d),
            Kind::Jaeger => jaeger::plan(stack, &c, &mut d),
            Kind::Tempo => crate::components::tempo::plan::plan(stack, &c, &mut d),
            Kind::NodeExporter
            | Kind::Cadvisor
            | Kind::BlackboxExporter
            | Kind::PostgresExporter
            | Kind::RedisExporter
            | Kind::NginxExporter
            | Kind::Pushgateway => exporters::plan(stack, &c, &mut d),
            Kind::Elasticsearch => elastic::elasticsearch(stack, &c, &mut d),
            Kind::Logstash => elastic::logstash(stack, &c, &mut d),
            Kind::Kibana => elastic::kibana(stack, &c, &mut d),
        }
    }
    // Rule unit tests read the rule files planned above (generated ones too).
    if stack.has(Kind::Prometheus) {
        let rule_files: Vec<String> = d
            .files
            .keys()
            .filter(|f| f.starts_with("prometheus/rules/"))
            .cloned()
            .collect();
        for (path, test) in crate::ruletest::render(stack, &rule_files) {
            d.add_yaml(&path, &test);
        }
    }
    // Secrets in use, then their delivery, then volumes, in a stable order.
    let declared = secret_files(stack);
    for service in &d.services {
        for name in &service.secrets {
            if let Some(file) = declared.get(name) {
                d.secrets.insert(name.clone(), file.clone());
            }
        }
    }
    web_auth::apply(stack, &inputs.secrets, &mut d);
    secrets::deliver(stack, &mut d);
    let mut volumes: Vec<String> = d
        .services
        .iter()
        .flat_map(|s| s.mounts.iter())
        .filter_map(|m| match &m.source {
            MountSource::Volume(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    volumes.sort();
    volumes.dedup();
    d.volumes = volumes;
    for service in &mut d.services {
        let mut files: Vec<String> = d
            .files
            .keys()
            // Rule test files sit beside the rules for promtool but are not
            // read by Prometheus: editing a test must not restart it.
            .filter(|f| !f.starts_with(&format!("{}/", crate::ruletest::DIR)))
            .filter(|f| {
                service.mounts.iter().any(|m| match &m.source {
                    MountSource::Generated(dir) => f.starts_with(&format!("{dir}/")),
                    _ => false,
                })
            })
            .cloned()
            .collect();
        files.sort();
        service.config_files = files;
    }
    d
}

impl Deployment {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// Adds a generated YAML file, headed by a line that says where it comes from.
    pub(crate) fn add_yaml(&mut self, path: &str, value: &serde_json::Value) {
        self.files.insert(
            path.to_string(),
            format!(
                "# Generated by stackctl from stack.yaml; edit the spec, not this file.\n{}",
                crate::yaml::emit::to_yaml(value)
            ),
        );
    }
}

/// `serde_json::json!` shorthand that keeps key order.
pub(crate) fn obj() -> serde_json::Map<String, serde_json::Value> {
    serde_json::Map::new()
}

#[cfg(test)]
mod tests;
