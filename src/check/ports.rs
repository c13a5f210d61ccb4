//! Published ports: known port names, valid bind addresses, no two services on
//! one host port (including `0.0.0.0` against `127.0.0.1`).

use super::Findings;
use crate::model::ports::{collide, published};
use crate::model::{Stack, catalog};
use crate::path;

pub fn check(stack: &Stack, found: &mut Findings) {
    if let Some(addr) = &stack.defaults.bind_address {
        if addr.parse::<std::net::IpAddr>().is_err() {
            found.error(
                path!["defaults", "bind_address"],
                format!("`{addr}` is not an IP address"),
                "use `127.0.0.1` (this host only) or `0.0.0.0` (every interface)",
            );
        }
    }
    for kind in catalog::ALL {
        let Some(common) = stack.components.common(kind) else {
            continue;
        };
        if let Some(addr) = common.bind_address {
            if addr.parse::<std::net::IpAddr>().is_err() {
                found.error(
                    path!["components", kind.key(), "bind_address"],
                    format!("`{addr}` is not an IP address"),
                    "use `127.0.0.1` (this host only) or `0.0.0.0` (every interface)",
                );
            }
        }
        let names: Vec<&str> = kind.info().ports.iter().map(|p| p.name).collect();
        for name in common.ports.keys() {
            if kind.port(name).is_none() {
                let hint = match crate::yaml::de::did_you_mean(name, &names) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "`{}` has the ports {}",
                        kind.key(),
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                found.error_at_key(
                    path!["components", kind.key(), "ports", name],
                    format!("unknown port `{name}` for `{}`", kind.key()),
                    hint,
                );
            }
        }
    }
    let ports = published(stack);
    for (i, a) in ports.iter().enumerate() {
        if let Some(b) = ports[..i].iter().find(|b| collide(a, b)) {
            found.error(
                a.path.clone(),
                format!(
                    "host port {} ({}) of `{}` is already published by `{}` ({})",
                    a.host_port,
                    a.host_ip,
                    a.kind.service(),
                    b.kind.service(),
                    b.host_ip
                ),
                format!(
                    "give one of them another port, e.g. `ports: {{{}: {}}}`",
                    a.name.rsplit('.').next().unwrap_or(&a.name),
                    a.host_port.saturating_add(1)
                ),
            );
        }
    }
}
