//! The exporters: node, cAdvisor, blackbox, postgres, redis, nginx and the
//! Pushgateway. Flags follow the pinned version (node-exporter's
//! `mount-points-exclude` since 1.2, nginx-exporter's `--` flags since 1.0).

use super::{Deployment, Service};
use crate::model::Kind;
use crate::model::catalog::Component;
use crate::model::components::{BlackboxModule, Prober};
use crate::resolve::Resolved;
use serde_json::{Value, json};

pub const BLACKBOX_CONFIG: &str = "blackbox/blackbox.yml";

/// The reference setups' filter: pseudo and container filesystems are not disks.
const MOUNT_POINTS_EXCLUDE: &str = "^/(sys|proc|dev|host|etc)($|/)";

pub fn plan(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let mut service = Service::for_component(stack, c);
    let v = &c.version;
    let primary = c.kind.info().ports.first().map_or(80, |p| p.container);
    match c.kind {
        Kind::NodeExporter => {
            let spec = stack.components.node_exporter.clone().unwrap_or_default();
            if spec.host_root != Some(false) {
                service.host_mount("/proc", "/host/proc");
                service.host_mount("/sys", "/host/sys");
                service.host_mount("/", "/host/root");
                service.command.extend([
                    "--path.procfs=/host/proc".to_string(),
                    "--path.sysfs=/host/sys".to_string(),
                    "--path.rootfs=/host/root".to_string(),
                ]);
            }
            let exclude = spec
                .mount_points_exclude
                .as_deref()
                .unwrap_or(MOUNT_POINTS_EXCLUDE);
            // Renamed in 1.2.0; the old names are dropped in 2.x.
            let (mounts_flag, fs_flag) = if v.at_least(1, 2, 0) {
                ("mount-points-exclude", "fs-types-exclude")
            } else {
                ("ignored-mount-points", "ignored-fs-types")
            };
            service
                .command
                .push(format!("--collector.filesystem.{mounts_flag}={exclude}"));
            if let Some(fs) = &spec.fs_types_exclude {
                service
                    .command
                    .push(format!("--collector.filesystem.{fs_flag}={fs}"));
            }
            for collector in &spec.collectors_enabled {
                service.command.push(format!("--collector.{collector}"));
            }
            for collector in &spec.collectors_disabled {
                service.command.push(format!("--no-collector.{collector}"));
            }
            service.wget_healthcheck(primary, "/metrics");
        }
        Kind::Cadvisor => {
            let spec = stack.components.cadvisor.clone().unwrap_or_default();
            // cAdvisor reads cgroups and the kernel log; this is its documented setup.
            service.privileged = true;
            service.devices.push("/dev/kmsg".into());
            for (src, dst) in [
                ("/", "/rootfs"),
                ("/var/run", "/var/run"),
                ("/sys", "/sys"),
                ("/var/lib/docker", "/var/lib/docker"),
                ("/dev/disk", "/dev/disk"),
            ] {
                service.host_mount(src, dst);
            }
            service
                .command
                .push(format!("--docker_only={}", spec.docker_only != Some(false)));
            service
                .command
                .push("--store_container_labels=false".into());
            if let Some(interval) = &spec.housekeeping_interval {
                service
                    .command
                    .push(format!("--housekeeping_interval={interval}"));
            }
            service.wget_healthcheck(primary, "/healthz");
        }
        Kind::BlackboxExporter => {
            let spec = stack
                .components
                .blackbox_exporter
                .clone()
                .unwrap_or_default();
            let modules = if spec.modules.is_empty() {
                default_modules()
            } else {
                spec.modules.clone()
            };
            if modules.values().any(|m| m.prober == Prober::Icmp) {
                // ICMP needs raw sockets; the image runs as nobody.
                service.cap_add.push("NET_RAW".into());
            }
            service
                .command
                .push("--config.file=/etc/blackbox_exporter/blackbox.yml".into());
            service.mount_config("blackbox", "/etc/blackbox_exporter");
            service.wget_healthcheck(primary, "/-/healthy");
            d.add_yaml(BLACKBOX_CONFIG, &blackbox_config(&modules));
        }
        Kind::PostgresExporter => {
            let spec = stack
                .components
                .postgres_exporter
                .clone()
                .unwrap_or_default();
            let host = spec.host.clone().unwrap_or_else(|| "postgres".into());
            let port = spec.port.map_or(5432, |p| p.0);
            let db = spec.database.clone().unwrap_or_else(|| "postgres".into());
            let sslmode = spec.sslmode.clone().unwrap_or_else(|| "disable".into());
            let env = &mut service.environment;
            // The split form keeps the password out of the DSN (and this file).
            env.insert(
                "DATA_SOURCE_URI".into(),
                format!("{host}:{port}/{db}?sslmode={sslmode}"),
            );
            env.insert(
                "DATA_SOURCE_USER".into(),
                spec.user.clone().unwrap_or_else(|| "postgres".into()),
            );
            if let Some(secret) = &spec.password_secret {
                let path = service.use_secret(secret);
                service
                    .environment
                    .insert("DATA_SOURCE_PASS_FILE".into(), path);
            }
            // Not `/metrics`: that runs every collector's queries against
            // the database on each check. The landing page does not.
            service.wget_healthcheck(primary, "/");
        }
        Kind::RedisExporter => {
            let spec = stack.components.redis_exporter.clone().unwrap_or_default();
            service.environment.insert(
                "REDIS_ADDR".into(),
                spec.address
                    .clone()
                    .unwrap_or_else(|| "redis://redis:6379".into()),
            );
            // redis_exporter reads passwords only from the command line, the
            // environment or this file (JSON: address → password); the file
            // keeps the value out of the rendered tree and out of `ps`.
            if let Some(secret) = &spec.password_secret {
                let path = service.use_secret(secret);
                service
                    .command
                    .push(format!("--redis.password-file={path}"));
            }
            // The default image is FROM scratch: no in-container healthcheck.
        }
        Kind::NginxExporter => {
            let spec = stack.components.nginx_exporter.clone().unwrap_or_default();
            let uri = spec
                .scrape_uri
                .clone()
                .unwrap_or_else(|| "http://nginx:8080/stub_status".into());
            let dash = if v.at_least(1, 0, 0) { "--" } else { "-" };
            service
                .command
                .push(format!("{dash}nginx.scrape-uri={uri}"));
            // FROM scratch as well: checked from outside.
        }
        Kind::Pushgateway => {
            let spec = stack.components.pushgateway.clone().unwrap_or_default();
            if spec.persistence != Some(false) {
                service
                    .command
                    .push("--persistence.file=/data/pushgateway.bin".into());
                service.command.push("--persistence.interval=5m".into());
            }
            service.wget_healthcheck(primary, "/-/ready");
        }
        // Planned by their own modules (see `plan::plan`).
        Kind::Prometheus
        | Kind::Alertmanager
        | Kind::Grafana
        | Kind::Loki
        | Kind::Promtail
        | Kind::Alloy
        | Kind::Jaeger
        | Kind::Tempo
        | Kind::Elasticsearch
        | Kind::Logstash
        | Kind::Kibana => {}
    }
    service.command.extend(c.common.extra_args.iter().cloned());
    d.services.push(service);
}

pub fn default_modules() -> std::collections::BTreeMap<String, BlackboxModule> {
    let module = |prober| BlackboxModule {
        prober,
        timeout: None,
        http: None,
        tcp: None,
        icmp: None,
    };
    let mut http = module(Prober::Http);
    http.http = Some(crate::model::components::HttpProbe {
        preferred_ip_protocol: Some("ip4".into()),
        follow_redirects: Some(true),
        ..Default::default()
    });
    let mut icmp = module(Prober::Icmp);
    icmp.icmp = Some(crate::model::components::IcmpProbe {
        preferred_ip_protocol: Some("ip4".into()),
    });
    [
        ("http_2xx".to_string(), http),
        ("tcp_connect".to_string(), module(Prober::Tcp)),
        ("icmp".to_string(), icmp),
    ]
    .into_iter()
    .collect()
}

pub fn blackbox_config(modules: &std::collections::BTreeMap<String, BlackboxModule>) -> Value {
    let mut out = serde_json::Map::new();
    for (name, m) in modules {
        let mut module = serde_json::Map::new();
        module.insert(
            "prober".into(),
            serde_json::to_value(m.prober).unwrap_or_default(),
        );
        if let Some(t) = &m.timeout {
            module.insert("timeout".into(), json!(t.as_str()));
        }
        if let Some(h) = &m.http {
            let mut http = serde_json::Map::new();
            if !h.valid_status_codes.is_empty() {
                http.insert("valid_status_codes".into(), json!(h.valid_status_codes));
            }
            if let Some(method) = &h.method {
                http.insert("method".into(), json!(method));
            }
            if !h.valid_http_versions.is_empty() {
                http.insert("valid_http_versions".into(), json!(h.valid_http_versions));
            }
            if let Some(p) = &h.preferred_ip_protocol {
                http.insert("preferred_ip_protocol".into(), json!(p));
            }
            if let Some(f) = h.fail_if_not_ssl {
                http.insert("fail_if_not_ssl".into(), json!(f));
            }
            if let Some(f) = h.follow_redirects {
                http.insert("follow_redirects".into(), json!(f));
            }
            if let Some(skip) = h.insecure_skip_verify {
                http.insert("tls_config".into(), json!({"insecure_skip_verify": skip}));
            }
            module.insert("http".into(), Value::Object(http));
        }
        if let Some(t) = &m.tcp {
            let mut tcp = serde_json::Map::new();
            if let Some(p) = &t.preferred_ip_protocol {
                tcp.insert("preferred_ip_protocol".into(), json!(p));
            }
            if let Some(tls) = t.tls {
                tcp.insert("tls".into(), json!(tls));
            }
            module.insert("tcp".into(), Value::Object(tcp));
        }
        if let Some(i) = &m.icmp {
            let mut icmp = serde_json::Map::new();
            if let Some(p) = &i.preferred_ip_protocol {
                icmp.insert("preferred_ip_protocol".into(), json!(p));
            }
            module.insert("icmp".into(), Value::Object(icmp));
        }
        out.insert(name.clone(), Value::Object(module));
    }
    json!({"modules": out})
}
