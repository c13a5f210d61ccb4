//! Checks that run before `up` creates anything: images present (or
//! pullable), host ports free, bind sources and secret files present,
//! external networks existing. Every problem is collected, not just the first.

use super::Problem;
use super::engine::{Engine, EngineError};
use super::spec::Secrets;
use crate::plan::{Deployment, MountSource, Service};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Reads every secret a service uses; a missing file is a problem.
pub fn read_secrets(d: &Deployment, dir: &Path) -> (Secrets, Vec<Problem>) {
    let mut secrets = Secrets::new();
    let mut problems = Vec::new();
    for (name, rel) in &d.secrets {
        match crate::fsutil::read_regular(&dir.join(rel), crate::fsutil::MAX_SECRET_BYTES) {
            Ok(value) => {
                secrets.insert(name.clone(), value);
            }
            Err(e) => problems.push(Problem::new(
                format!(
                    "secret `{name}`: cannot read `{}`: {}",
                    dir.join(rel).display(),
                    e.reason()
                ),
                Some("`stackctl render` creates missing secret files; fill in the ones it leaves empty"),
            )),
        }
    }
    (secrets, problems)
}

/// Bind-mount sources must exist: Docker would otherwise create an empty
/// root-owned directory in their place and the service would start without
/// its config.
pub fn check_mounts(d: &Deployment, dir: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    for s in &d.services {
        for m in &s.mounts {
            let path = match &m.source {
                MountSource::Volume(_) => continue,
                // A secret file: `read_secrets` reports it, once.
                MountSource::Generated(rel) if d.secrets.values().any(|f| f == rel) => continue,
                MountSource::Generated(rel) => dir.join(rel),
                MountSource::Host(path) => Path::new(path).to_path_buf(),
            };
            if !path.exists() {
                problems.push(Problem::new(
                    format!(
                        "service `{}`: mount source `{}` (for `{}`) does not exist",
                        s.name,
                        path.display(),
                        m.target
                    ),
                    Some(&mount_hint(s, &m.source, &path)),
                ));
            }
        }
    }
    problems
}

/// A hint the user can follow: a generated directory comes back with
/// `stackctl render`; a host path the component mounts by itself (cAdvisor's
/// `/dev/disk`, `/var/lib/docker`, …) is not in the spec, so "remove it from
/// the spec" cannot be done: create it on the host or disable the component.
fn mount_hint(s: &Service, source: &MountSource, path: &Path) -> String {
    match (source, s.kind) {
        (MountSource::Generated(_), _) => {
            "`stackctl render` writes the config tree again (or `stackctl render --force` if you edited it)".to_string()
        }
        (MountSource::Host(_), Some(kind)) => format!(
            "`{}` is one of the paths `{}` always mounts (it is not in stack.yaml); create it on this host \
             (`sudo mkdir -p {}`; a host without udev has no `/dev/disk`), or disable the component \
             with `components.{}.enabled: false`",
            path.display(),
            s.name,
            path.display(),
            kind.key()
        ),
        _ => "create it, or change the path in the spec".to_string(),
    }
}

/// Missing images, each pulled once; the ones that cannot be had are problems
/// that say how to bring the image in without a registry.
pub async fn ensure_images<E: Engine>(
    engine: &E,
    wanted: &[&Service],
    ids: &mut BTreeMap<String, Option<String>>,
    progress: &mut dyn super::progress::Progress,
) -> Result<Vec<Problem>, EngineError> {
    let mut missing: Vec<(&Service, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for s in wanted {
        if !seen.insert(s.image.clone()) || matches!(ids.get(&s.image), Some(Some(_))) {
            continue;
        }
        progress.line(&s.name, &format!("pulling {}", s.image));
        let pulled = match engine.pull(&s.image).await {
            Ok(()) => engine.image_id(&s.image).await?,
            Err(e @ EngineError::Unreachable { .. }) => return Err(e),
            Err(e) => {
                missing.push((s, e.to_string()));
                None
            }
        };
        ids.insert(s.image.clone(), pulled);
    }
    Ok(missing_images(&missing))
}

/// One problem for one missing image; for several, one list (the help is
/// the same for each, and the reason usually is too: no registry).
fn missing_images(missing: &[(&Service, String)]) -> Vec<Problem> {
    const HOW: &str = "without a registry, bring {it} in from a machine that has it: `docker save {image} -o image.tar`, \
                       copy the file, `docker load -i image.tar`; or build it here with `docker build -t {image} .`; \
                       or point `defaults.image_registry` (or the component's `image:`) at a reachable mirror";
    match missing {
        [] => Vec::new(),
        [(s, why)] => vec![Problem::new(
            format!(
                "image `{}` (service `{}`) is not present and cannot be pulled: {why}",
                s.image, s.name
            ),
            Some(&HOW.replace("{it}", "it").replace("{image}", &s.image)),
        )],
        [(_, first), ..] => {
            let same = missing.iter().all(|(_, why)| why == first);
            let mut message = format!(
                "{} images are not present and cannot be pulled",
                missing.len()
            );
            if same {
                message.push_str(&format!(": {first}"));
            }
            for (s, why) in missing {
                message.push_str(&format!("\n    {} (service `{}`)", s.image, s.name));
                if !same {
                    message.push_str(&format!(": {why}"));
                }
            }
            vec![Problem::new(
                message,
                Some(&HOW.replace("{it}", "each").replace("{image}", "IMAGE")),
            )]
        }
    }
}

/// Host ports the new containers will publish must be free. Ports held by the
/// project's own containers are skipped: those containers are either kept
/// (and keep their ports) or removed before the new ones start.
pub fn check_ports<E: Engine>(
    engine: &E,
    wanted: &[&Service],
    held: &BTreeSet<(u16, bool)>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for s in wanted {
        for p in &s.ports {
            if held.contains(&(p.host_port, p.udp))
                || engine.port_free(&p.host_ip, p.host_port, p.udp)
            {
                continue;
            }
            let proto = if p.udp { "/udp" } else { "" };
            let setting = s
                .kind
                .and_then(|k| {
                    k.info()
                        .ports
                        .iter()
                        .find(|i| i.container == p.container_port)
                        .map(|i| format!("`components.{}.ports.{}`", k.key(), i.name))
                })
                .unwrap_or_else(|| "the port in the spec".to_string());
            problems.push(Problem::new(
                format!(
                    "port {}:{}{proto} for service `{}` is already in use on this host",
                    p.host_ip, p.host_port, s.name
                ),
                Some(&format!(
                    "stop what listens there, or set {setting} to a free port"
                )),
            ));
        }
    }
    problems
}

pub async fn check_networks<E: Engine>(
    engine: &E,
    d: &Deployment,
) -> Result<Vec<Problem>, EngineError> {
    let mut problems = Vec::new();
    for net in &d.external_networks {
        if !engine.network_exists(net).await? {
            problems.push(Problem::new(
                format!("network `{net}` (from `network.attach`) does not exist"),
                Some(&format!(
                    "create it with `docker network create {net}`, or remove it from the spec"
                )),
            ));
        }
    }
    Ok(problems)
}
