//! The plan's services as Docker containers, named and labelled as Docker
//! Compose names and labels them (so `docker-compose ps/down` in the stack
//! directory sees the same stack). `com.docker.compose.config-hash` is
//! Compose v2's own hash of the service (`compose_hash.rs`), which covers the
//! mounted config files through a label render puts in the Compose file;
//! stackctl's `dev.stackctl.config-hash` adds the contents of the secrets a
//! service reads (which Compose does not look at).
//! Pure: the caller passes in the secret values it read.

use super::engine::{BindMount, ContainerSpec, Published};
use crate::plan::{Deployment, MountSource, Service};
use std::collections::BTreeMap;
use std::path::Path;

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
pub const NUMBER: &str = "com.docker.compose.container-number";
pub const COMPOSE_HASH: &str = "com.docker.compose.config-hash";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const COMPOSE_VERSION: &str = "com.docker.compose.version";
pub const NETWORK: &str = "com.docker.compose.network";
pub const VOLUME: &str = "com.docker.compose.volume";
/// stackctl's hash: Compose's hash plus the contents of the secrets the
/// service reads. A change recreates the container (or reloads it in place).
pub const STACKCTL_HASH: &str = "dev.stackctl.config-hash";

/// docker-compose v1 parses this label as a version and treats anything older
/// than 1.21 as a legacy project; stackctl names containers the Compose v2
/// way (`project-service-1`), so it claims the v2 format.
const COMPOSE_VERSION_VALUE: &str = "2.0.0";

/// Secret values by name, read from the stack directory by the caller.
pub type Secrets = BTreeMap<String, Vec<u8>>;

pub fn network_name(project: &str) -> String {
    format!("{project}_default")
}

pub fn volume_name(project: &str, volume: &str) -> String {
    format!("{project}_{volume}")
}

pub fn container_name(project: &str, service: &str) -> String {
    format!("{project}-{service}-1")
}

pub fn network_labels(project: &str) -> BTreeMap<String, String> {
    labels(&[
        (PROJECT, project),
        (NETWORK, "default"),
        (COMPOSE_VERSION, COMPOSE_VERSION_VALUE),
    ])
}

pub fn volume_labels(project: &str, volume: &str) -> BTreeMap<String, String> {
    labels(&[
        (PROJECT, project),
        (VOLUME, volume),
        (COMPOSE_VERSION, COMPOSE_VERSION_VALUE),
    ])
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Label: the Compose hash of the service without its config files' hash,
/// to tell "only the mounted config files changed" (reload in place) apart.
pub const SETTINGS_HASH: &str = "dev.stackctl.settings-hash";

/// The container for one service. `dir` is the absolute stack directory.
pub fn container(d: &Deployment, s: &Service, dir: &Path, secrets: &Secrets) -> ContainerSpec {
    let mut binds = Vec::new();
    let mut bind_mounts = Vec::new();
    for m in &s.mounts {
        let source = match &m.source {
            MountSource::Volume(v) => {
                let ro = if m.read_only { ":ro" } else { "" };
                binds.push(format!("{}:{}{ro}", volume_name(&d.project, v), m.target));
                continue;
            }
            MountSource::Generated(rel) => dir.join(rel).display().to_string(),
            MountSource::Host(path) => path.clone(),
        };
        bind_mounts.push(BindMount {
            source,
            target: m.target.clone(),
            read_only: m.read_only,
        });
    }
    let service_labels = crate::render::compose::service_labels(d, s);
    let mut spec = ContainerSpec {
        name: container_name(&d.project, &s.name),
        image: s.image.clone(),
        user: s.user.clone(),
        entrypoint: s.entrypoint.clone(),
        cmd: s.command.clone(),
        env: s
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        labels: labels(&[
            (PROJECT, &d.project),
            (SERVICE, &s.name),
            (ONEOFF, "False"),
            (NUMBER, "1"),
            (WORKING_DIR, &dir.display().to_string()),
            (
                CONFIG_FILES,
                &dir.join(crate::render::COMPOSE_FILE).display().to_string(),
            ),
            (COMPOSE_VERSION, COMPOSE_VERSION_VALUE),
        ]),
        binds,
        bind_mounts,
        ports: s
            .ports
            .iter()
            .map(|p| Published {
                host_ip: p.host_ip.clone(),
                host_port: p.host_port,
                container_port: p.container_port,
                udp: p.udp,
            })
            .collect(),
        healthcheck: s.healthcheck.clone(),
        start_interval_s: None,
        restart: s.restart.clone(),
        nano_cpus: s.cpus.map(|c| (c * 1e9) as i64),
        memory: s.memory_bytes.map(|b| b as i64),
        privileged: s.privileged,
        devices: s.devices.clone(),
        cap_add: s.cap_add.clone(),
        extra_hosts: s
            .extra_hosts
            .iter()
            .map(|(h, a)| format!("{h}:{a}"))
            .collect(),
        network: network_name(&d.project),
        aliases: vec![s.name.clone()],
        extra_networks: d.external_networks.clone(),
    };
    // Compose's own hash of the service as the rendered file describes it
    // (config files included, through their label): equal whichever tool
    // created the container.
    let compose_hash = super::compose_hash::service_hash(d, s, dir, &service_labels);
    let mut without_files = service_labels.clone();
    without_files.remove(crate::render::compose::CONFIG_FILES_LABEL);
    let settings = super::compose_hash::service_hash(d, s, dir, &without_files);
    // What Compose does not see: the secrets' contents (SHA-256, never the value).
    let mut secret_part = String::new();
    for name in &s.secrets {
        let value = secrets
            .get(name)
            .map(|v| crate::render::sha256(v))
            .unwrap_or_default();
        secret_part.push_str(&format!("secret {name} {value}\n"));
    }
    spec.labels.extend(service_labels);
    // Lets `up` tell "only config files changed" (reload in place) apart.
    spec.labels.insert(
        super::reload::SECRETS_HASH.into(),
        crate::render::sha256(secret_part.as_bytes()),
    );
    spec.labels.insert(SETTINGS_HASH.into(), settings);
    spec.labels.insert(
        STACKCTL_HASH.into(),
        crate::render::sha256(format!("{compose_hash}\n{secret_part}").as_bytes()),
    );
    spec.labels.insert(COMPOSE_HASH.into(), compose_hash);
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Mount, PortBinding};

    fn deployment() -> Deployment {
        let service = Service {
            name: "prometheus".into(),
            kind: Some(crate::model::Kind::Prometheus),
            image: "mirror.local/prom/prometheus:v3.14.0".into(),
            entrypoint: None,
            command: vec!["--config.file=/etc/prometheus/prometheus.yml".into()],
            environment: [("TZ".to_string(), "UTC".to_string())].into(),
            ports: vec![PortBinding {
                host_ip: "127.0.0.1".into(),
                host_port: 19090,
                container_port: 9090,
                udp: false,
            }],
            mounts: vec![
                Mount {
                    source: MountSource::Volume("prometheus_data".into()),
                    target: "/prometheus".into(),
                    read_only: false,
                },
                Mount {
                    source: MountSource::Generated("prometheus".into()),
                    target: "/etc/prometheus".into(),
                    read_only: true,
                },
            ],
            secrets: vec!["remote_password".into()],
            healthcheck: None,
            ready: None,
            depends_on: Vec::new(),
            restart: "unless-stopped".into(),
            cpus: Some(0.5),
            memory_bytes: Some(1 << 30),
            privileged: false,
            devices: Vec::new(),
            cap_add: Vec::new(),
            extra_hosts: vec![("api".into(), "10.0.0.5".into())],
            config_files: vec!["prometheus/prometheus.yml".into()],
            uid: 65534,
            user: None,
            one_shot: false,
        };
        Deployment {
            project: "mon".into(),
            external_networks: vec!["shared".into()],
            volumes: vec!["prometheus_data".into()],
            secrets: [(
                "remote_password".to_string(),
                "secrets/remote_password".to_string(),
            )]
            .into(),
            services: vec![service],
            files: [(
                "prometheus/prometheus.yml".to_string(),
                "global: {}\n".to_string(),
            )]
            .into(),
        }
    }

    fn secrets(value: &str) -> Secrets {
        [("remote_password".to_string(), value.as_bytes().to_vec())].into()
    }

    #[test]
    fn names_and_labels_follow_compose() {
        let d = deployment();
        let spec = container(&d, &d.services[0], Path::new("/srv/mon"), &secrets("pw"));
        assert_eq!(spec.name, "mon-prometheus-1");
        assert_eq!(spec.image, "mirror.local/prom/prometheus:v3.14.0");
        assert_eq!(spec.network, "mon_default");
        assert_eq!(spec.aliases, ["prometheus"]);
        assert_eq!(spec.extra_networks, ["shared"]);
        assert_eq!(spec.binds, ["mon_prometheus_data:/prometheus"]);
        assert_eq!(
            spec.bind_mounts,
            [BindMount {
                source: "/srv/mon/prometheus".into(),
                target: "/etc/prometheus".into(),
                read_only: true
            }]
        );
        assert_eq!(spec.env, ["TZ=UTC"]);
        assert_eq!(spec.extra_hosts, ["api:10.0.0.5"]);
        assert_eq!(spec.nano_cpus, Some(500_000_000));
        assert_eq!(spec.memory, Some(1 << 30));
        let l = &spec.labels;
        assert_eq!(l[PROJECT], "mon");
        assert_eq!(l[SERVICE], "prometheus");
        assert_eq!(l[ONEOFF], "False");
        assert_eq!(l[NUMBER], "1");
        assert_eq!(l[WORKING_DIR], "/srv/mon");
        assert_eq!(l[CONFIG_FILES], "/srv/mon/docker-compose.monitoring.yml");
        assert_eq!(l[COMPOSE_HASH].len(), 64);
        assert_eq!(l[STACKCTL_HASH].len(), 64);
    }

    #[test]
    fn hash_covers_file_and_secret_contents() {
        let d = deployment();
        let dir = Path::new("/srv/mon");
        let hash =
            |d: &Deployment, pw: &str| container(d, &d.services[0], dir, &secrets(pw)).labels;
        let base = hash(&d, "pw");
        assert_eq!(base, hash(&d, "pw"), "deterministic");

        let changed_secret = hash(&d, "other");
        assert_ne!(base[STACKCTL_HASH], changed_secret[STACKCTL_HASH]);
        assert_eq!(
            base[COMPOSE_HASH], changed_secret[COMPOSE_HASH],
            "settings unchanged"
        );

        let mut edited = d.clone();
        edited.files.insert(
            "prometheus/prometheus.yml".into(),
            "global: {scrape_interval: 5s}\n".into(),
        );
        assert_ne!(base[STACKCTL_HASH], hash(&edited, "pw")[STACKCTL_HASH]);

        // A file the service does not mount does not matter to it.
        let mut unrelated = d.clone();
        unrelated
            .files
            .insert("alertmanager/alertmanager.yml".into(), "route: {}\n".into());
        assert_eq!(base[STACKCTL_HASH], hash(&unrelated, "pw")[STACKCTL_HASH]);

        let mut flags = d.clone();
        flags.services[0]
            .command
            .push("--web.enable-lifecycle".into());
        let changed = hash(&flags, "pw");
        assert_ne!(base[COMPOSE_HASH], changed[COMPOSE_HASH]);
        assert_ne!(base[STACKCTL_HASH], changed[STACKCTL_HASH]);
    }
}
