//! Remote hosts (`hosts:`): the central Prometheus' view of them, and the
//! stack each host's bundle is planned from.
//!
//! Every agent kind that runs on some host gets one scrape job,
//! `hosts-SERVICE`, that reads its targets from
//! `prometheus/targets/SERVICE.json` through `file_sd_configs`. Prometheus
//! watches those files, so adding or removing a host is a `render` away,
//! with no restart or reload (the files are replaced atomically, which the
//! file watch sees, inside the directory mount). Each target carries
//! `host: NAME` and the host's labels.
//!
//! A host's bundle is planned like a stack of its own (`PROJECT-NAME`, only
//! its agents, published on `0.0.0.0` by default), so it gets the same
//! images, healthchecks and secrets delivery as the central stack.

use super::{Deployment, obj};
use crate::model::hosts::Host;
use crate::model::stack::Defaults;
use crate::model::{Kind, Stack};
use serde_json::{Value, json};

/// Where the target files live in the stack directory, and in the container.
pub const TARGETS_DIR: &str = "prometheus/targets";
const TARGETS_IN_CONTAINER: &str = "/etc/prometheus/targets";

/// The agents a host may run: the catalog's exporters.
pub const AGENTS: [Kind; 6] = [
    Kind::NodeExporter,
    Kind::Cadvisor,
    Kind::BlackboxExporter,
    Kind::PostgresExporter,
    Kind::RedisExporter,
    Kind::NginxExporter,
];

/// The stack a host's bundle is planned from.
pub fn host_stack(stack: &Stack, name: &str, host: &Host) -> Stack {
    Stack {
        stackctl: stack.stackctl,
        name: format!("{}-{name}", stack.name),
        description: None,
        defaults: Defaults {
            bind_address: Some(
                host.bind_address
                    .clone()
                    .unwrap_or_else(|| "0.0.0.0".into()),
            ),
            ..stack.defaults.clone()
        },
        network: Default::default(),
        secrets: stack.secrets.clone(),
        components: host.components.clone(),
        scrape_jobs: Vec::new(),
        probes: Vec::new(),
        rules: Default::default(),
        remote_write: Vec::new(),
        alerting: None,
        datasources: None,
        dashboards: Vec::new(),
        logs: Default::default(),
        kubernetes: None,
        validate: None,
        security: None,
        hosts: Default::default(),
        slos: Default::default(),
        tests: Vec::new(),
    }
}

/// `address:port` where the central Prometheus scrapes `kind` on a host.
pub fn target(stack: &Stack, name: &str, host: &Host, kind: Kind) -> Option<String> {
    let (port_name, _) = kind.info().metrics?;
    let sub = host_stack(stack, name, host);
    let port = crate::model::ports::published(&sub)
        .into_iter()
        .find(|p| p.kind == kind && p.name == port_name)?;
    let address = if host.address.contains(':') && !host.address.starts_with('[') {
        format!("[{}]", host.address)
    } else {
        host.address.clone()
    };
    Some(format!("{address}:{}", port.host_port))
}

/// The scrape jobs for the hosts' agents; writes their target files.
pub fn scrape_jobs(stack: &Stack, d: &mut Deployment) -> Vec<Value> {
    let mut jobs = Vec::new();
    for kind in AGENTS {
        let mut groups = Vec::new();
        for (name, host) in &stack.hosts {
            if !host.components.enabled(kind) {
                continue;
            }
            let Some(address) = target(stack, name, host, kind) else {
                continue;
            };
            let mut labels = obj();
            labels.insert("host".into(), json!(name));
            for (k, v) in &host.labels {
                labels.insert(k.to_string(), json!(v));
            }
            groups.push(json!({"targets": [address], "labels": labels}));
        }
        if groups.is_empty() {
            continue;
        }
        let service = kind.service();
        let file = format!("{TARGETS_DIR}/{service}.json");
        d.files.insert(
            file,
            format!(
                "{}\n",
                serde_json::to_string_pretty(&Value::Array(groups)).unwrap_or_default()
            ),
        );
        let mut job = obj();
        job.insert("job_name".into(), json!(format!("hosts-{service}")));
        if let Some((_, path)) = kind.info().metrics {
            if path != "/metrics" {
                job.insert("metrics_path".into(), json!(path));
            }
        }
        job.insert(
            "file_sd_configs".into(),
            json!([{"files": [format!("{TARGETS_IN_CONTAINER}/{service}.json")]}]),
        );
        jobs.push(Value::Object(job));
    }
    jobs
}
