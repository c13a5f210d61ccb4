//! Scrape jobs and probes: unique job names, well-formed targets, intervals
//! that make sense, targets the stack can reach.

use super::{Findings, duplicates};
use crate::model::{Kind, Stack};
use crate::path;

/// Default blackbox modules when the spec defines none.
pub const DEFAULT_MODULES: [&str; 3] = ["http_2xx", "tcp_connect", "icmp"];

pub fn check(stack: &Stack, found: &mut Findings) {
    let mut names: Vec<(&str, crate::yaml::node::Path)> = Vec::new();
    for kind in stack.components.enabled_kinds() {
        if stack.component(kind).is_some_and(|c| c.scrape_enabled()) {
            names.push((kind.service(), path!["components", kind.key()]));
        }
    }
    for (i, job) in stack.scrape_jobs.iter().enumerate() {
        names.push((&job.name, path!["scrape_jobs", i, "name"]));
    }
    for (i, probe) in stack.probes.iter().enumerate() {
        names.push((&probe.name, path!["probes", i, "name"]));
    }
    duplicates(found, "scrape job", names);

    for (i, job) in stack.scrape_jobs.iter().enumerate() {
        if job.name.trim().is_empty() {
            found.error(
                path!["scrape_jobs", i, "name"],
                "scrape job name is empty",
                "",
            );
        }
        if job.targets.is_empty() && job.kubernetes_sd.is_empty() {
            found.error(
                path!["scrape_jobs", i],
                format!("scrape job `{}` has no targets", job.name),
                "add `targets: [host:port]` or `kubernetes_sd`",
            );
        }
        for (t, target) in job.targets.iter().enumerate() {
            check_target(stack, found, target, path!["scrape_jobs", i, "targets", t]);
        }
        if let Some(mp) = &job.metrics_path {
            if !mp.starts_with('/') {
                found.error(
                    path!["scrape_jobs", i, "metrics_path"],
                    format!("metrics path `{mp}` does not start with `/`"),
                    format!("write `/{mp}`"),
                );
            }
        }
        let interval = job.interval.as_ref().or(stack
            .components
            .prometheus
            .as_ref()
            .and_then(|p| p.scrape_interval.as_ref()));
        if let (Some(timeout), Some(interval)) = (&job.timeout, interval) {
            if timeout.millis() > interval.millis() {
                found.error(
                    path!["scrape_jobs", i, "timeout"],
                    format!("scrape timeout `{timeout}` is longer than the interval `{interval}`"),
                    "Prometheus rejects a timeout longer than the scrape interval",
                );
            }
        }
        if job.basic_auth.is_some() && job.bearer_token_secret.is_some() {
            found.error(
                path!["scrape_jobs", i, "bearer_token_secret"],
                "a scrape job takes `basic_auth` or a bearer token, not both",
                "",
            );
        }
    }

    let modules: Vec<String> = match &stack.components.blackbox_exporter {
        Some(bb) if !bb.modules.is_empty() => bb.modules.keys().cloned().collect(),
        _ => DEFAULT_MODULES.iter().map(|s| s.to_string()).collect(),
    };
    for (i, probe) in stack.probes.iter().enumerate() {
        if !modules.contains(&probe.module) {
            let names: Vec<&str> = modules.iter().map(String::as_str).collect();
            let hint = match crate::yaml::de::did_you_mean(&probe.module, &names) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!(
                    "define it under `components.blackbox_exporter.modules`, or use one of {}",
                    names.join(", ")
                ),
            };
            found.error(
                path!["probes", i, "module"],
                format!("probe module `{}` is not defined", probe.module),
                hint,
            );
        }
        if probe.targets.is_empty() {
            found.error(
                path!["probes", i, "targets"],
                format!("probe `{}` has no targets", probe.name),
                "",
            );
        }
    }
}

fn check_target(stack: &Stack, found: &mut Findings, target: &str, at: crate::yaml::node::Path) {
    if target.contains("://") {
        found.error(
            at,
            format!("target `{target}` has a scheme"),
            "targets are `host:port`; set `scheme: https` on the job instead",
        );
        return;
    }
    let Some((host, port)) = target.rsplit_once(':') else {
        found.error(
            at,
            format!("target `{target}` has no port"),
            "write `host:port`; Prometheus 3 adds no default port",
        );
        return;
    };
    if port.parse::<u16>().map_or(true, |p| p == 0) {
        found.error(
            at,
            format!("target `{target}` has an invalid port `{port}`"),
            "a port is 1-65535",
        );
        return;
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port: u16 = port.parse().unwrap_or_default();
    if matches!(host, "localhost" | "127.0.0.1" | "::1") {
        let own = crate::components::prometheus::WEB;
        if port != own {
            found.warning(
                at,
                format!("inside the Prometheus container `{host}` is Prometheus itself; `{target}` reaches nothing"),
                format!(
                    "scrape the service by its name on an attached network (`network.attach`), or declare this machine as \
                     `network.external_hosts: {{host: host-gateway}}` and target `host:{port}`"
                ),
            );
        }
        return;
    }
    if let Some(kind) = Kind::from_service(host) {
        if !stack.has(kind) {
            found.warning(
                at,
                format!(
                    "target `{target}` is the `{}` component, which this stack does not enable",
                    kind.key()
                ),
                format!(
                    "add `{}: {{}}` under `components:`, or remove the target",
                    kind.key()
                ),
            );
        } else if !kind.info().ports.iter().any(|p| p.container == port) {
            let ports: Vec<String> = kind
                .info()
                .ports
                .iter()
                .map(|p| format!("{} ({})", p.container, p.name))
                .collect();
            found.warning(
                at,
                format!("`{host}` does not listen on port {port}"),
                format!(
                    "`{host}` listens on {}; targets use container ports, not published host ports",
                    ports.join(", ")
                ),
            );
        }
        return;
    }
    let known = stack.network.external_hosts.contains_key(host)
        || host.parse::<std::net::IpAddr>().is_ok()
        || host.contains('.');
    if !known {
        found.warning(
            at,
            format!("target host `{host}` is neither a service of this stack nor a declared external host"),
            format!(
                "declare it under `network.external_hosts` (`{host}:` to resolve it on an attached network, `{host}: host-gateway` for this machine)"
            ),
        );
    }
}
