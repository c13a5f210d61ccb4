//! Where verify finds each service: the host port the plan publishes (bind
//! address + host port), unless `--url` says otherwise. A port that is not
//! published has no URL, and the reason says how to give it one.

use crate::model::{Kind, Stack};
use crate::plan::Deployment;
use std::collections::BTreeMap;

/// `--url SERVICE=URL` (the service's main port) or `--url SERVICE.PORT=URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub kind: Kind,
    pub port: &'static str,
    pub url: String,
}

/// The port a bare `--url SERVICE=…` means: the first one in the catalog
/// (Prometheus `web`, Loki `http`, Jaeger `ui`).
pub fn main_port(kind: Kind) -> &'static str {
    kind.info().ports.first().map_or("http", |p| p.name)
}

/// A service named as the user may write it: `node-exporter` or `node_exporter`.
pub fn kind_named(name: &str) -> Option<Kind> {
    crate::model::catalog::ALL
        .into_iter()
        .find(|k| k.service() == name || k.key() == name)
}

/// Parses `--url` arguments against the stack; the message names the mistake.
pub fn parse_overrides(args: &[String], stack: &Stack) -> Result<Vec<Override>, String> {
    let mut out = Vec::new();
    for arg in args {
        let Some((name, url)) = arg.split_once('=') else {
            return Err(format!(
                "`--url {arg}` is not `SERVICE=URL`\n  = help: e.g. `--url prometheus=http://127.0.0.1:9090`"
            ));
        };
        let (service, port) = match name.split_once('.') {
            Some((s, p)) => (s, Some(p)),
            None => (name, None),
        };
        let kind = enabled_kind(service, stack)?;
        let port = match port {
            None => main_port(kind),
            Some(p) => match kind.port(p) {
                Some(info) => info.name,
                None => {
                    let names: Vec<&str> = kind.info().ports.iter().map(|p| p.name).collect();
                    return Err(format!(
                        "`{}` has no port named `{p}`\n  = help: its ports are {}",
                        kind.service(),
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            },
        };
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://"))
            || url.len() <= "http://".len()
        {
            return Err(format!(
                "`--url {arg}`: `{url}` is not an http:// or https:// URL\n  = help: e.g. `--url {service}=http://127.0.0.1:{}`",
                kind.port(port).map_or(80, |p| p.container)
            ));
        }
        out.push(Override {
            kind,
            port,
            url: url.trim_end_matches('/').to_string(),
        });
    }
    Ok(out)
}

/// A service the spec enables, by name; the message suggests the nearest one.
pub fn enabled_kind(name: &str, stack: &Stack) -> Result<Kind, String> {
    let enabled: Vec<Kind> = stack.components.enabled_kinds();
    match kind_named(name) {
        Some(kind) if enabled.contains(&kind) => Ok(kind),
        Some(kind) => Err(format!(
            "`{}` is not enabled in the spec, so there is nothing to verify",
            kind.service()
        )),
        None => {
            let names: Vec<&str> = enabled.iter().map(|k| k.service()).collect();
            let nearest = names
                .iter()
                .map(|n| (strsim::levenshtein(n, name), *n))
                .min()
                .filter(|(d, _)| *d <= 3)
                .map(|(_, n)| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            Err(format!(
                "unknown service `{name}`\n  = help: {nearest}the stack's services are {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }
}

/// Why the host cannot reach a port, and how to make it reachable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    pub message: String,
    pub hint: String,
}

/// Base URLs (no trailing `/`) by service and port name.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    bases: BTreeMap<(Kind, &'static str), String>,
    unpublished: BTreeMap<Kind, bool>,
}

impl Endpoints {
    pub fn resolve(stack: &Stack, deployment: &Deployment, overrides: &[Override]) -> Endpoints {
        let mut e = Endpoints::default();
        for kind in stack.components.enabled_kinds() {
            let publish = stack.components.common(kind).and_then(|c| c.publish) != Some(false);
            e.unpublished.insert(kind, !publish);
            let Some(service) = deployment.service(kind.service()) else {
                continue;
            };
            for info in kind.info().ports.iter().filter(|p| !p.udp) {
                // A port the auth proxy fronts is published by the proxy.
                let fronted = crate::plan::auth_proxy::fronts(stack, kind, info.name);
                let publisher = if fronted {
                    deployment.service(crate::plan::auth_proxy::SERVICE)
                } else {
                    Some(service)
                };
                let scheme = if fronted {
                    crate::plan::auth_proxy::scheme(stack)
                } else {
                    crate::plan::web_auth::scheme(stack, kind)
                };
                if let Some(binding) = publisher
                    .into_iter()
                    .flat_map(|s| s.ports.iter())
                    .find(|b| b.container_port == info.container && !b.udp)
                {
                    // Prometheus and Alertmanager serve everything on their
                    // web port under the route prefix (external_url's path).
                    let prefix = match (kind, info.name) {
                        (Kind::Prometheus | Kind::Alertmanager, "web") => {
                            crate::plan::route_prefix::of(&service.command)
                        }
                        _ => String::new(),
                    };
                    e.bases.insert(
                        (kind, info.name),
                        format!(
                            "{}://{}:{}{prefix}",
                            scheme,
                            connect_host(&binding.host_ip),
                            binding.host_port
                        ),
                    );
                }
            }
        }
        for o in overrides {
            e.bases.insert((o.kind, o.port), o.url.clone());
        }
        e
    }

    /// Every base URL of a service's ports.
    pub fn bases_of(&self, kind: Kind) -> Vec<&str> {
        self.bases
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, url)| url.as_str())
            .collect()
    }

    /// The base URL of a port, or why the host cannot reach it.
    pub fn base(&self, kind: Kind, port: &str) -> Result<&str, Unreachable> {
        if let Some((_, url)) = self
            .bases
            .iter()
            .find(|((k, p), _)| *k == kind && *p == port)
        {
            return Ok(url);
        }
        let container = kind.port(port).map_or(0, |p| p.container);
        let flag = if port == main_port(kind) {
            format!("--url {}=http://HOST:PORT", kind.service())
        } else {
            format!("--url {}.{port}=http://HOST:PORT", kind.service())
        };
        if self.unpublished.get(&kind) == Some(&true) {
            Err(Unreachable {
                message: format!(
                    "not reachable from the host: `{}` publishes no ports (`components.{}.publish: false`)",
                    kind.service(),
                    kind.key()
                ),
                hint: format!("pass `{flag}`"),
            })
        } else {
            Err(Unreachable {
                message: format!(
                    "not reachable from the host: port `{port}` ({container}) of `{}` is not published",
                    kind.service()
                ),
                hint: format!(
                    "publish it (`components.{}.ports.{port}: {container}`) or pass `{flag}`",
                    kind.key()
                ),
            })
        }
    }
}

/// The address to connect to for a binding: a wildcard bind is reached on loopback.
fn connect_host(host_ip: &str) -> String {
    match host_ip {
        "" | "0.0.0.0" => "127.0.0.1".into(),
        "::" => "[::1]".into(),
        ip if ip.contains(':') && !ip.starts_with('[') => format!("[{ip}]"),
        ip => ip.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_binds_are_reached_on_loopback() {
        assert_eq!(connect_host("0.0.0.0"), "127.0.0.1");
        assert_eq!(connect_host("::"), "[::1]");
        assert_eq!(connect_host("fd00::1"), "[fd00::1]");
        assert_eq!(connect_host("10.0.0.5"), "10.0.0.5");
    }

    #[test]
    fn main_port_is_the_first_catalog_port() {
        assert_eq!(main_port(Kind::Jaeger), "ui");
        assert_eq!(main_port(Kind::Prometheus), "web");
        assert_eq!(kind_named("node_exporter"), Some(Kind::NodeExporter));
        assert_eq!(kind_named("node-exporter"), Some(Kind::NodeExporter));
    }
}
