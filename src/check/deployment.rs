//! How the stack is exposed and what it may do on the host: Prometheus,
//! Alertmanager and Pushgateway published beyond loopback (none of them has
//! authentication in this stack, so anyone who reaches the port can query,
//! silence or push), and the services that run with host privileges.
//!
//! Privileges are read from the deployment plan itself, so this list cannot
//! drift from what `render` and `up` create.

use super::Findings;
use crate::diag::Diagnostic;
use crate::model::ports::published;
use crate::model::{Kind, Stack};
use crate::plan::{self, MountSource};
use crate::yaml::node::Path;

/// Components whose HTTP API lets anyone who reaches it read or change state.
const UNAUTHENTICATED: [(Kind, &str); 3] = [
    (
        Kind::Prometheus,
        "query every metric and, with the lifecycle API, reload or shut it down",
    ),
    (Kind::Alertmanager, "silence every alert"),
    (Kind::Pushgateway, "push or delete metrics"),
];

pub fn check(stack: &Stack, found: &mut Findings) {
    exposure(stack, found);
    if !found.items.iter().any(Diagnostic::is_error) {
        privileges(stack, found);
    }
}

fn is_loopback(ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>()
        .is_ok_and(|a| a.is_loopback())
        || ip == "localhost"
}

fn exposure(stack: &Stack, found: &mut Findings) {
    let mut seen = std::collections::BTreeSet::new();
    for port in published(stack) {
        let Some((_, what)) = UNAUTHENTICATED.iter().find(|(k, _)| *k == port.kind) else {
            continue;
        };
        if is_loopback(&port.host_ip) || !seen.insert(port.kind) {
            continue;
        }
        let mut at: Path = crate::path!["components", port.kind.key(), "bind_address"];
        if stack
            .components
            .common(port.kind)
            .is_some_and(|c| c.bind_address.is_none())
        {
            at = crate::path!["defaults", "bind_address"];
        }
        found.push(
            Diagnostic::warning(format!(
                "{} is published on {}:{} without authentication; anyone who can reach it can {what}",
                port.kind.key(),
                port.host_ip,
                port.host_port
            ))
            .with_hint(format!(
                "bind it to `127.0.0.1` (`components.{}.bind_address`) and reach it through a reverse proxy with authentication",
                port.kind.key()
            ))
            .with_code("exposed-without-auth")
            .at(at),
        );
    }
}

fn privileges(stack: &Stack, found: &mut Findings) {
    // The plan without rules and dashboards: cheap, and the same services.
    let deployment = plan::plan(&shallow(stack), &plan::Inputs::default());
    for service in &deployment.services {
        let Some(kind) = service.kind else { continue };
        let mut what = Vec::new();
        if service.privileged {
            what.push("runs privileged".to_string());
        }
        if !service.devices.is_empty() {
            what.push(format!("gets host devices {}", service.devices.join(", ")));
        }
        if !service.cap_add.is_empty() {
            what.push(format!("adds capabilities {}", service.cap_add.join(", ")));
        }
        if service
            .mounts
            .iter()
            .any(|m| m.source == MountSource::Host("/".to_string()))
        {
            what.push("mounts the host's root filesystem".to_string());
        }
        if what.is_empty() {
            continue;
        }
        found.push(
            Diagnostic::info(format!("`{}` {}", service.name, what.join(", ")))
                .with_hint(match kind {
                    Kind::Cadvisor => "cAdvisor needs this to read every container's cgroups; remove `cadvisor` if you do not need container metrics",
                    Kind::NodeExporter => "node-exporter reads host metrics through it (read-only)",
                    Kind::BlackboxExporter => "ICMP probes need raw sockets; drop the `icmp` module if you do not use it",
                    _ => "this is how the component is meant to run",
                })
                .with_code("privileged-service")
                .at_key(crate::path!["components", kind.key()]),
        );
    }
}

/// A copy of the stack without its largest parts (rules, dashboards).
fn shallow(stack: &Stack) -> Stack {
    Stack {
        stackctl: stack.stackctl,
        name: stack.name.clone(),
        description: None,
        defaults: stack.defaults.clone(),
        network: stack.network.clone(),
        secrets: stack.secrets.clone(),
        components: stack.components.clone(),
        scrape_jobs: stack.scrape_jobs.clone(),
        probes: stack.probes.clone(),
        rules: Default::default(),
        remote_write: stack.remote_write.clone(),
        alerting: stack.alerting.clone(),
        datasources: stack.datasources.clone(),
        dashboards: Vec::new(),
        logs: stack.logs.clone(),
        kubernetes: stack.kubernetes.clone(),
        validate: None,
        tests: Vec::new(),
    }
}
