//! How the stack is exposed and what it may do on the host: components whose
//! API lets anyone read or change state (Prometheus, Alertmanager,
//! Pushgateway, Loki, Jaeger, Alloy) published beyond loopback without
//! authentication are an error, unless `security:` protects them (see
//! `plan/web_auth.rs`) or `security.allow_unauthenticated` names them; and
//! the services that run with host privileges.
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
const UNAUTHENTICATED: [(Kind, &str); 6] = [
    (
        Kind::Prometheus,
        "query every metric and, with the lifecycle API, reload or shut it down",
    ),
    (Kind::Alertmanager, "silence every alert"),
    (Kind::Pushgateway, "push or delete metrics"),
    (Kind::Loki, "read every log line and push new ones"),
    (Kind::Jaeger, "read every trace and push new spans"),
    (
        Kind::Alloy,
        "read its pipelines and push telemetry through it",
    ),
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

/// The components `validate` refuses as published beyond loopback without
/// authentication (what `import` allows explicitly, to keep a folder's behaviour).
pub fn exposed_without_auth(stack: &Stack) -> Vec<Kind> {
    let mut found = Findings::default();
    exposure(stack, &mut found);
    let mut kinds: Vec<Kind> = Vec::new();
    for port in published(stack) {
        if found.items.iter().any(|d| {
            d.is_error()
                && d.message
                    .starts_with(&format!("{} is published on", port.kind.key()))
        }) && !kinds.contains(&port.kind)
        {
            kinds.push(port.kind);
        }
    }
    kinds
}

fn exposure(stack: &Stack, found: &mut Findings) {
    let mut seen = std::collections::BTreeSet::new();
    for port in published(stack) {
        let Some((_, what)) = UNAUTHENTICATED.iter().find(|(k, _)| *k == port.kind) else {
            continue;
        };
        if is_loopback(&port.host_ip) {
            continue;
        }
        let covered = plan::web_auth::protects(stack, port.kind)
            || plan::auth_proxy::fronts(stack, port.kind, &port.name);
        if covered && has_users(stack) {
            continue;
        }
        if !seen.insert(port.kind) {
            continue;
        }
        let allowed = stack.security.as_ref().and_then(|s| {
            s.allow_unauthenticated
                .iter()
                .position(|k| k == port.kind.key())
        });
        if let Some(i) = allowed {
            found.push(
                Diagnostic::info(format!(
                    "{} is published on {}:{} without authentication, as `security.allow_unauthenticated` allows",
                    port.kind.key(),
                    port.host_ip,
                    port.host_port
                ))
                .with_code("exposed-without-auth")
                .at(crate::path!["security", "allow_unauthenticated", i]),
            );
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
        let protectable = plan::web_auth::since(port.kind).is_some();
        let proxiable = plan::auth_proxy::PROXIED
            .iter()
            .find(|(k, _, _)| *k == port.kind)
            .map(|(_, p, _)| *p);
        let proxy_off = stack
            .security
            .as_ref()
            .and_then(|s| s.proxy.as_ref())
            .and_then(|p| p.enabled)
            == Some(false);
        let how = match proxiable {
            _ if protectable => {
                "add `security.users` (basic auth from a generated password; see docs/security.md)".to_string()
            }
            Some(fronted) if fronted != port.name => format!(
                "accept that `{}` has no login (the auth proxy fronts only the `{fronted}` port; binding to loopback keeps that one local too)",
                port.name
            ),
            Some(_) if proxy_off => {
                "turn the auth proxy back on (remove `security.proxy.enabled: false`)".to_string()
            }
            Some(_) => "add `security.users`: the generated NGINX proxy then publishes it behind a login (see docs/security.md)".to_string(),
            None => "it has no authentication of its own: reach it through a reverse proxy with authentication".to_string(),
        };
        found.push(
            Diagnostic::error(format!(
                "{} is published on {}:{} without authentication; anyone who can reach it can {what}",
                port.kind.key(),
                port.host_ip,
                port.host_port
            ))
            .with_hint(format!(
                "bind it to `127.0.0.1` (`components.{key}.bind_address`), or {how}, or allow it on purpose with `security.allow_unauthenticated: [{key}]`",
                key = port.kind.key()
            ))
            .with_code("exposed-without-auth")
            .at(at),
        );
    }
}

/// Basic auth is what keeps strangers out; TLS alone only encrypts.
fn has_users(stack: &Stack) -> bool {
    stack.security.as_ref().is_some_and(|s| !s.users.is_empty())
}

fn privileges(stack: &Stack, found: &mut Findings) {
    // The plan without rules and dashboards: cheap, and the same services.
    let preview = crate::resolve::Resolved::preview(shallow(stack));
    let deployment = plan::plan(&preview, &plan::Inputs::default());
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
                    Kind::Prometheus
                    | Kind::Alertmanager
                    | Kind::Grafana
                    | Kind::Loki
                    | Kind::Promtail
                    | Kind::Alloy
                    | Kind::Jaeger
                    | Kind::Tempo
                    | Kind::PostgresExporter
                    | Kind::RedisExporter
                    | Kind::NginxExporter
                    | Kind::Pushgateway
                    | Kind::Elasticsearch
                    | Kind::Logstash
                    | Kind::Kibana => "this is how the component is meant to run",
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
        slos: Vec::new(),
        remote_write: stack.remote_write.clone(),
        alerting: stack.alerting.clone(),
        datasources: stack.datasources.clone(),
        dashboards: Vec::new(),
        logs: stack.logs.clone(),
        kubernetes: stack.kubernetes.clone(),
        validate: None,
        security: stack.security.clone(),
        hosts: Default::default(),
        tests: Vec::new(),
    }
}
