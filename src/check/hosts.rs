//! `hosts:`: names usable as a Compose project suffix and a directory, an
//! address Prometheus can dial, only exporters as agents, and a central
//! Prometheus to scrape them.

use super::Findings;
use crate::model::Stack;
use crate::path;
use crate::plan::hosts::AGENTS;

pub fn check(stack: &Stack, found: &mut Findings) {
    if stack.hosts.is_empty() {
        return;
    }
    if !stack.has(crate::model::Kind::Prometheus) {
        found.warning(
            path!["hosts"],
            "no `prometheus` is enabled, so nothing scrapes the hosts' agents",
            "enable `components.prometheus`",
        );
    }
    if stack.security.as_ref().is_some_and(|s| !s.users.is_empty()) {
        found.warning(
            path!["hosts"],
            "the hosts' agents run without the `security:` web configs (not supported for host bundles yet); anyone who reaches their ports can read their metrics",
            "keep the hosts' ports on a private network, or set each host's `bind_address` to the interface the central Prometheus reaches",
        );
    }
    for (name, host) in &stack.hosts {
        let combined = format!("{}-{name}", stack.name);
        if !super::is_project_name(name) || !super::is_project_name(&combined) {
            found.error_at_key(
                path!["hosts", name],
                format!("host name `{name}` cannot name a Compose project and a directory"),
                "use lower-case letters, digits, `-` and `_`, starting with a letter or digit (the project is `STACK-HOST`, at most 63 characters)",
            );
        }
        let address = host.address.trim();
        let plausible = !address.is_empty()
            && !address.contains(['/', ' ', '@'])
            && (address.parse::<std::net::IpAddr>().is_ok()
                || (!address.contains(':')
                    && address
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))));
        if !plausible {
            found.error(
                path!["hosts", name, "address"],
                format!("`{}` is not an IP address or host name", host.address),
                "write the address only (e.g. `10.0.0.5` or `web-1.internal`); ports come from the agents",
            );
        }
        if let Some(bind) = &host.bind_address {
            if bind.parse::<std::net::IpAddr>().is_err() {
                found.error(
                    path!["hosts", name, "bind_address"],
                    format!("`{bind}` is not an IP address"),
                    "use `0.0.0.0` (every interface, the default) or the address Prometheus reaches",
                );
            }
        }
        if let Some(url) = &host.docker {
            let certs = host.docker_cert_path.as_deref().map(std::path::Path::new);
            if let Err(e) = crate::docker::endpoint::Endpoint::parse(url, certs) {
                found.error(
                    path!["hosts", name, "docker"],
                    e,
                    "e.g. `ssh://ops@10.0.0.5`, or `tcp://10.0.0.5:2376` with `docker_cert_path`",
                );
            }
        } else if host.docker_cert_path.is_some() {
            found.error(
                path!["hosts", name, "docker_cert_path"],
                "`docker_cert_path` without `docker:`: there is no engine to use the certificates for",
                "add `docker: tcp://ADDRESS:2376`",
            );
        }
        let kinds = host.components.enabled_kinds();
        for kind in &kinds {
            if !AGENTS.contains(kind) {
                found.error_at_key(
                    path!["hosts", name, "components", kind.key()],
                    format!("`{}` cannot run on a host; hosts run exporters", kind.key()),
                    format!(
                        "a host may run {}",
                        AGENTS
                            .iter()
                            .map(|k| format!("`{}`", k.key()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        if kinds.is_empty() {
            found.warning(
                path!["hosts", name, "components"],
                format!("host `{name}` runs no agent"),
                "add e.g. `node_exporter: {}`",
            );
        }
    }
}
