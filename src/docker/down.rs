//! `down` on any `Engine`: remove the project's containers (found by label,
//! so containers of services since removed from the spec go too) and its
//! network; named volumes only when asked.

use super::engine::{Engine, EngineError};
use super::progress::Progress;
use super::spec;
use futures_util::future::join_all;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Removed {
    pub containers: Vec<String>,
    pub network: bool,
    pub volumes: Vec<String>,
    /// Volumes left in place (without `--volumes`).
    pub kept_volumes: Vec<String>,
}

/// `planned_volumes` are the spec's volume names (short), removed with
/// `volumes` together with any other volume labelled with the project.
pub async fn down<E: Engine>(
    engine: &E,
    project: &str,
    planned_volumes: &[String],
    volumes: bool,
    progress: &mut dyn Progress,
) -> Result<Removed, EngineError> {
    engine.ping().await?;
    let mut removed = Removed::default();
    let containers = engine.containers(project).await?;
    // Stopping waits for each process to exit: do them all at once.
    let results = join_all(containers.iter().map(|c| engine.remove(&c.id))).await;
    for (c, result) in containers.iter().zip(results) {
        result?;
        progress.line(&c.service, &format!("removed container `{}`", c.name));
        removed.containers.push(c.name.clone());
    }
    // By ID: two concurrent creates can leave several networks of the name.
    let network = spec::network_name(project);
    for id in engine.networks_named(&network).await? {
        engine.remove_network(&id).await?;
        progress.line(&network, "network removed");
        removed.network = true;
    }
    let mut names = engine.volumes(project).await?;
    for v in planned_volumes {
        let name = spec::volume_name(project, v);
        if !names.contains(&name) && engine.volume_exists(&name).await? {
            names.push(name);
        }
    }
    names.sort();
    for name in names {
        if volumes {
            engine.remove_volume(&name).await?;
            progress.line(&name, "volume removed");
            removed.volumes.push(name);
        } else {
            removed.kept_volumes.push(name);
        }
    }
    Ok(removed)
}
