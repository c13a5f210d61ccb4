//! `stackctl down`: remove the stack's containers and network; volumes stay unless asked.

use super::Exit;
use crate::docker::bollard_engine::BollardEngine;
use crate::docker::progress::Stderr;
use std::path::Path;

pub fn run(dir: &Path, volumes: bool) -> anyhow::Result<Exit> {
    // Held until the stack is up (down), so no render or other run interleaves.
    let _lock = crate::lock::acquire(dir, "down")?;
    let (d, _) = super::docker::existing_plan(dir)?;
    let removed = super::docker::runtime()?
        .block_on(async {
            let engine = BollardEngine::connect().await?;
            crate::docker::down::down(&engine, &d.project, &d.volumes, volumes, &mut Stderr::new())
                .await
        })
        .map_err(super::docker::engine_error)?;
    let mut parts = vec![format!("{} container(s)", removed.containers.len())];
    if removed.network {
        parts.push("the network".into());
    }
    if !removed.volumes.is_empty() {
        parts.push(format!("{} volume(s)", removed.volumes.len()));
    }
    if removed.containers.is_empty() && !removed.network && removed.volumes.is_empty() {
        eprintln!("`{}`: nothing to remove", d.project);
    } else {
        eprintln!("`{}` is down: {} removed", d.project, parts.join(", "));
    }
    if !removed.kept_volumes.is_empty() {
        eprintln!(
            "kept {} volume(s) with the stack's data ({}); `stackctl down --volumes` removes them",
            removed.kept_volumes.len(),
            removed.kept_volumes.join(", ")
        );
    }
    Ok(Exit::Ok)
}
