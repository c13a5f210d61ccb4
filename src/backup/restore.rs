//! `restore` on any `Engine`, after the archive was verified: check the
//! archive's parts against the plan (each part's service exists with data
//! at the same place; a Prometheus TSDB is not from a newer major than the
//! pinned one), refuse to overwrite volumes holding data without `force`,
//! and only then stop and remove the containers that mount the volumes,
//! recreate the volumes, and fill them through never-started containers of
//! the services' own images. The caller then brings the stack up (which
//! recreates the removed containers) and runs `verify`. The archive has
//! been verified (`archive::verify`) before this runs.
//!
//! Everything that can refuse runs before anything is changed.

use super::archive;
use super::engine_io::{engine_error, first_data_file, holder_spec};
use super::manifest::{Manifest, PartKind};
use super::meter::{Meter, human};
use super::parts::{DataPart, data_parts};
use super::stream::{CHUNKS, ChannelWriter};
use crate::docker::Problem;
use crate::docker::engine::Engine;
use crate::docker::progress::Progress;
use crate::docker::spec;
use crate::model::Kind;
use crate::model::types::Version;
use crate::plan::{Deployment, MountSource};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

#[derive(Debug)]
pub enum Outcome {
    /// The volumes were replaced: the services whose containers were
    /// removed (to be recreated by `up`), and when they were stopped.
    Restored {
        removed: Vec<String>,
        stopped_at: Instant,
        bytes: u64,
    },
    /// Nothing was changed.
    Refused(Vec<Problem>),
}

/// The archive's volume parts matched to the plan's data parts.
pub fn matched(manifest: &Manifest, d: &Deployment) -> (Vec<DataPart>, Vec<Problem>) {
    let planned = data_parts(d);
    let mut parts = Vec::new();
    let mut problems = Vec::new();
    for p in manifest.parts.iter().filter(|p| p.kind == PartKind::Volume) {
        let service = p.service.clone().unwrap_or_default();
        match planned.iter().find(|dp| dp.service == service) {
            Some(dp) if p.path.as_deref() == Some(dp.path.as_str()) => parts.push(dp.clone()),
            Some(dp) => problems.push(Problem::new(
                format!(
                    "the archive holds `{service}`'s data from `{}`; the spec keeps it at `{}`",
                    p.path.as_deref().unwrap_or("?"),
                    dp.path
                ),
                None,
            )),
            None => problems.push(Problem::new(
                format!("the archive holds data of `{service}`, which the spec does not run"),
                Some("enable the component in stack.yaml (with the same version), then restore again"),
            )),
        }
    }
    (parts, problems)
}

/// Versions: a Prometheus TSDB from a newer major than the pinned one is
/// refused (an older Prometheus does not read it); any other component's
/// data from a newer release than the pinned one is only warned about.
pub fn check_versions(
    manifest: &Manifest,
    parts: &[DataPart],
    pinned: &BTreeMap<String, Version>,
) -> (Vec<Problem>, Vec<String>) {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for part in parts {
        let (Some(archived), Some(pin)) = (
            manifest.components.get(&part.service),
            pinned.get(&part.service),
        ) else {
            continue;
        };
        let Ok(archived) = Version::parse(archived) else {
            problems.push(Problem::new(
                format!(
                    "the archive's version of `{}` (`{archived}`) is not a version",
                    part.service
                ),
                None,
            ));
            continue;
        };
        if part.kind == Kind::Prometheus && archived.major() > pin.major() {
            problems.push(Problem::new(
                format!(
                    "the archive's Prometheus TSDB was written by Prometheus {archived}, a newer major release than the pinned {pin}; Prometheus {} cannot be trusted to read it",
                    pin.major()
                ),
                Some(&format!(
                    "pin `components.prometheus.version` to {archived} (or a later {}.x) in stack.yaml, then restore",
                    archived.major()
                )),
            ));
        } else if newer(&archived, pin) {
            warnings.push(format!(
                "`{}`'s data comes from {archived}, newer than the pinned {pin}; it may not read it",
                part.service
            ));
        }
    }
    (problems, warnings)
}

fn newer(a: &Version, b: &Version) -> bool {
    let key = |v: &Version| -> Vec<u64> {
        v.as_str()
            .trim_start_matches('v')
            .split(|c: char| !c.is_ascii_digit())
            .take(3)
            .map(|n| n.parse().unwrap_or(0))
            .collect()
    };
    key(a) > key(b)
}

/// Service names of the plan that mount `volume`.
fn users(d: &Deployment, volume: &str) -> Vec<String> {
    d.services
        .iter()
        .filter(|s| {
            s.mounts
                .iter()
                .any(|m| m.source == MountSource::Volume(volume.to_string()))
        })
        .map(|s| s.name.clone())
        .collect()
}

pub async fn restore<E: Engine>(
    engine: &E,
    d: &Deployment,
    archive_path: &Path,
    parts: &[DataPart],
    force: bool,
    progress: &mut dyn Progress,
) -> anyhow::Result<Outcome> {
    engine
        .ping()
        .await
        .map_err(|e| engine_error(e, "restore"))?;
    let existing = engine
        .containers(&d.project)
        .await
        .map_err(|e| engine_error(e, "listing the stack's containers"))?;
    let mut problems = Vec::new();
    // Volumes holding data, and the images holders are made of.
    for part in parts {
        let s = d
            .service(&part.service)
            .expect("matched parts are in the plan");
        if engine
            .image_id(&s.image)
            .await
            .map_err(|e| engine_error(e, "looking for images"))?
            .is_none()
        {
            problems.push(Problem::new(
                format!(
                    "the image of `{}` (`{}`) is not on this engine",
                    part.service, s.image
                ),
                Some("`stackctl up` pulls it; then restore again"),
            ));
            continue;
        }
        let volume = spec::volume_name(&d.project, &part.volume);
        if !engine
            .volume_exists(&volume)
            .await
            .map_err(|e| engine_error(e, "looking for volumes"))?
        {
            continue;
        }
        let found = match existing.iter().find(|c| c.service == part.service) {
            Some(c) => first_data_file(engine, &c.id, part).await,
            None => {
                let holder = holder_spec(d, s, &part.volume, &part.path, "restore-check");
                let id = engine
                    .create(&holder)
                    .await
                    .map_err(|e| engine_error(e, &format!("creating `{}`", holder.name)))?;
                let found = first_data_file(engine, &id, part).await;
                engine
                    .remove(&id)
                    .await
                    .map_err(|e| engine_error(e, &format!("removing `{}`", holder.name)))?;
                found
            }
        }
        .map_err(|e| engine_error(e, &format!("reading volume `{volume}`")))?;
        if let (Some(file), false) = (found, force) {
            problems.push(Problem::new(
                format!("volume `{volume}` of `{}` holds data (`{file}` and maybe more); restoring would replace it", part.service),
                Some("`stackctl backup` keeps a copy of it first; `stackctl restore --force` replaces it"),
            ));
        }
    }
    if !problems.is_empty() {
        return Ok(Outcome::Refused(problems));
    }

    // From here on the stack changes.
    let stopped_at = Instant::now();
    let mut removed: Vec<String> = Vec::new();
    for part in parts {
        for user in users(d, &part.volume) {
            if removed.contains(&user) {
                continue;
            }
            for c in existing.iter().filter(|c| c.service == user) {
                engine
                    .remove(&c.id)
                    .await
                    .map_err(|e| engine_error(e, &format!("removing `{}`", c.name)))?;
                progress.line(&user, "stopped and removed for the restore");
            }
            removed.push(user);
        }
    }
    let mut holders: BTreeMap<String, (String, String)> = BTreeMap::new();
    for part in parts {
        let s = d
            .service(&part.service)
            .expect("matched parts are in the plan");
        let volume = spec::volume_name(&d.project, &part.volume);
        if engine
            .volume_exists(&volume)
            .await
            .map_err(|e| engine_error(e, "looking for volumes"))?
        {
            engine
                .remove_volume(&volume)
                .await
                .map_err(|e| engine_error(e, &format!("removing volume `{volume}`")))?;
        }
        engine
            .create_volume(&volume, &spec::volume_labels(&d.project, &part.volume))
            .await
            .map_err(|e| engine_error(e, &format!("creating volume `{volume}`")))?;
        let holder = holder_spec(d, s, &part.volume, &part.path, "restore");
        let id = engine
            .create(&holder)
            .await
            .map_err(|e| engine_error(e, &format!("creating `{}`", holder.name)))?;
        holders.insert(part.service.clone(), (id, part.path.clone()));
    }
    let filled = fill(engine, archive_path, &holders, progress).await;
    for (id, _) in holders.values() {
        engine
            .remove(id)
            .await
            .map_err(|e| engine_error(e, "removing a restore container"))?;
    }
    let bytes = filled?;
    Ok(Outcome::Restored {
        removed,
        stopped_at,
        bytes,
    })
}

/// Streams each volume part of the archive into its holder container.
async fn fill<E: Engine>(
    engine: &E,
    archive_path: &Path,
    holders: &BTreeMap<String, (String, String)>,
    progress: &mut dyn Progress,
) -> anyhow::Result<u64> {
    let (parts_tx, mut parts_rx) =
        tokio::sync::mpsc::channel::<(String, tokio::sync::mpsc::Receiver<Vec<u8>>)>(1);
    let wanted: Vec<String> = holders.keys().cloned().collect();
    let path = archive_path.to_path_buf();
    let reader = std::thread::spawn(move || -> std::io::Result<u64> {
        let mut meter = Meter::stderr("restore");
        let mut start = |service: &str| {
            if !wanted.iter().any(|w| w == service) {
                return None;
            }
            let (tx, rx) = tokio::sync::mpsc::channel(CHUNKS);
            parts_tx.blocking_send((service.to_string(), rx)).ok()?;
            Some(ChannelWriter::new(tx))
        };
        archive::replay(&path, &mut meter, &mut start)?;
        Ok(meter.bytes())
    });
    let mut failure = None;
    while let Some((service, rx)) = parts_rx.recv().await {
        let Some((id, target)) = holders.get(&service) else {
            continue;
        };
        let started = Instant::now();
        if let Err(e) = engine.upload(id, target, rx).await {
            failure.get_or_insert(engine_error(
                e,
                &format!("filling the volume of `{service}`"),
            ));
            continue;
        }
        progress.line(
            &service,
            &format!(
                "volume filled from the archive ({:.1}s)",
                started.elapsed().as_secs_f64()
            ),
        );
    }
    let read = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the archive reader stopped unexpectedly"))?;
    if let Some(e) = failure {
        return Err(e);
    }
    let bytes = read.map_err(|e| anyhow::anyhow!("reading `{}`: {e}", archive_path.display()))?;
    progress.line(
        "restore",
        &format!("{} written into {} volume(s)", human(bytes), holders.len()),
    );
    Ok(bytes)
}
