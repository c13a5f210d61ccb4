//! `stackctl down`: remove the stack's containers and network; volumes stay unless asked.

use super::Exit;
use crate::docker::bollard_engine::BollardEngine;
use crate::docker::progress::Stderr;
use std::path::Path;

pub fn run(dir: &Path, volumes: bool, host: Option<&str>) -> anyhow::Result<Exit> {
    // Held until the stack is up (down), so no render or other run interleaves.
    let _lock = crate::lock::acquire(dir, "down")?;
    let remote = host
        .map(|name| super::docker::existing_remote(dir, name))
        .transpose()?;
    let d = match &remote {
        Some(r) => r.deployment.clone(),
        None => super::docker::existing_plan(dir)?.0,
    };
    let removed = super::docker::runtime()?
        .block_on(async {
            let engine = match &remote {
                Some(r) => r.engine().await?,
                None => BollardEngine::connect().await?,
            };
            if volumes {
                suggest_backup(&engine, &d, dir).await;
            }
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
        say!("`{}`: nothing to remove", d.project);
    } else {
        say!("`{}` is down: {} removed", d.project, parts.join(", "));
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

/// Before `--volumes` removes data, says which volumes hold some and how to
/// keep a copy (`stackctl backup`). Only volumes a container of the stack
/// mounts are looked at (reading one needs a container); a look that fails
/// says nothing.
async fn suggest_backup<E: crate::docker::Engine>(
    engine: &E,
    d: &crate::plan::Deployment,
    dir: &Path,
) {
    let Ok(existing) = engine.containers(&d.project).await else {
        return;
    };
    let mut holding = Vec::new();
    for part in crate::backup::parts::data_parts(d) {
        let Some(c) = existing.iter().find(|c| c.service == part.service) else {
            continue;
        };
        if let Ok(Some(file)) =
            crate::backup::engine_io::first_data_file(engine, &c.id, &part).await
        {
            holding.push(format!(
                "`{}` ({file}, …)",
                crate::docker::spec::volume_name(&d.project, &part.volume)
            ));
        }
    }
    if !holding.is_empty() {
        eprintln!(
            "warning: removing {} volume(s) that hold data: {}\n  = help: `stackctl backup --dir {}` first keeps a copy that `stackctl restore` puts back",
            holding.len(),
            holding.join(", "),
            dir.display()
        );
    }
}
