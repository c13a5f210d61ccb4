//! The ports a stack publishes on the host, derived once from the spec so the
//! port-collision check, the Compose file and the Docker code agree.

use super::Kind;
use super::Stack;
use crate::path;
use crate::yaml::node::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPort {
    pub kind: Kind,
    /// The port's name in the catalog (`web`, `otlp_grpc`) or a Logstash input.
    pub name: String,
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    pub udp: bool,
    /// Where the port is set (or would be) in the spec.
    pub path: Path,
}

/// Every published port of every enabled component, in a stable order.
pub fn published(stack: &Stack) -> Vec<PublishedPort> {
    let mut out = Vec::new();
    for kind in stack.components.enabled_kinds() {
        let Some(component) = stack.component(kind) else {
            continue;
        };
        if component.common.publish == Some(false) {
            continue;
        }
        let host_ip = component
            .common
            .bind_address
            .unwrap_or_else(|| stack.bind_address())
            .to_string();
        for info in kind.info().ports {
            let explicit = component.common.ports.get(info.name);
            if !info.published && explicit.is_none() {
                continue;
            }
            out.push(PublishedPort {
                kind,
                name: info.name.to_string(),
                host_ip: host_ip.clone(),
                host_port: explicit.map_or(info.container, |p| p.0),
                container_port: info.container,
                udp: info.udp,
                path: match explicit {
                    Some(_) => path!["components", kind.key(), "ports", info.name],
                    None => path!["components", kind.key()],
                },
            });
        }
        if kind == Kind::Logstash {
            if let Some(logstash) = &stack.components.logstash {
                for (pipeline, spec) in &logstash.pipelines {
                    let inputs = [
                        ("beats", spec.inputs.beats, false),
                        ("http", spec.inputs.http, false),
                        ("tcp", spec.inputs.tcp, false),
                        ("udp", spec.inputs.udp, true),
                    ];
                    for (input, port, udp) in inputs {
                        if let Some(port) = port {
                            out.push(PublishedPort {
                                kind,
                                name: format!("{pipeline}.{input}"),
                                host_ip: host_ip.clone(),
                                host_port: port.0,
                                container_port: port.0,
                                udp,
                                path: path![
                                    "components",
                                    "logstash",
                                    "pipelines",
                                    pipeline,
                                    "inputs",
                                    input
                                ],
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

/// Two bindings collide when they share port and protocol and either binds
/// every address (`0.0.0.0`/`::`) or both bind the same one.
pub fn collide(a: &PublishedPort, b: &PublishedPort) -> bool {
    let wildcard = |ip: &str| ip == "0.0.0.0" || ip == "::" || ip.is_empty();
    a.host_port == b.host_port
        && a.udp == b.udp
        && (a.host_ip == b.host_ip || wildcard(&a.host_ip) || wildcard(&b.host_ip))
}
