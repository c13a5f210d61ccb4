//! `backup` on any `Engine`: each data part copied through the archive
//! endpoint (Prometheus live, with its compaction counters read around the
//! copy; the others stopped for the copy and started again, the time each
//! was unavailable printed), then the spec, the rendered tree's manifest
//! and (when asked) the secrets, and the manifest last. The archive is
//! written to `FILE.partial` and renamed when complete, so a file at the
//! final name is always a whole backup.

use super::archive::{Stats, Writer};
use super::engine_io::{copy_part, engine_error, holder_spec, wait_serving};
use super::manifest::{Manifest, Part, PartKind, rfc3339};
use super::meter::human;
use super::parts::{DataPart, How, data_parts};
use crate::docker::engine::{Engine, Existing};
use crate::docker::progress::Progress;
use crate::docker::spec;
use crate::plan::Deployment;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A live Prometheus copy is taken again at most this often before giving up.
pub const LIVE_ATTEMPTS: u32 = 3;
/// How long a restarted service has to serve again.
const SERVE_LIMIT: Duration = Duration::from_secs(120);

pub struct Request<'a> {
    pub d: &'a Deployment,
    /// The final archive path (must not exist).
    pub out: &'a Path,
    /// Small parts: archive name, kind, contents, mode.
    pub files: Vec<(String, PartKind, Vec<u8>, u32)>,
    /// Service → pinned version.
    pub components: BTreeMap<String, String>,
    pub stackctl: String,
}

/// What one data part's copy did to its service.
struct Copied {
    stats: Stats,
    copy: &'static str,
    unavailable: Option<Duration>,
    took: Duration,
}

pub fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

pub async fn backup<E: Engine>(
    engine: &E,
    req: Request<'_>,
    progress: &mut dyn Progress,
) -> anyhow::Result<Manifest> {
    let d = req.d;
    engine.ping().await.map_err(|e| engine_error(e, "backup"))?;
    if req.out.exists() {
        anyhow::bail!(
            "`{}` exists already; a backup never overwrites a file\n  = help: name another file with `--out`",
            req.out.display()
        );
    }
    let partial = partial_path(req.out);
    let existing = engine
        .containers(&d.project)
        .await
        .map_err(|e| engine_error(e, "listing the stack's containers"))?;
    let parts = data_parts(d);
    let mut attempt = 0;
    let (mut writer, mut records) = loop {
        attempt += 1;
        // A `.partial` is this command's own leftover (a run killed midway).
        let _ = std::fs::remove_file(&partial);
        let mut writer = Writer::create(&partial)
            .map_err(|e| anyhow::anyhow!("cannot create `{}`: {e}", partial.display()))?;
        let mut records = Vec::new();
        let mut again = false;
        for part in parts.iter().filter(|p| p.how == How::Live) {
            let (w, copied) = match copy_live(engine, d, writer, part, &existing, progress).await {
                Ok(done) => done,
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e);
                }
            };
            writer = w;
            match copied {
                Some(c) => records.push(record(part, c, progress)),
                None => again = true,
            }
        }
        if !again {
            break (writer, records);
        }
        drop(writer);
        let _ = std::fs::remove_file(&partial);
        if attempt >= LIVE_ATTEMPTS {
            anyhow::bail!(
                "Prometheus compacted its TSDB during each of {LIVE_ATTEMPTS} copies, so none of them is consistent; nothing was written\n  = help: run `stackctl backup` again in a few minutes"
            );
        }
        progress.line(
            "prometheus",
            &format!(
                "compacted during the copy: copying again ({}/{LIVE_ATTEMPTS})",
                attempt + 1
            ),
        );
    };
    for part in parts.iter().filter(|p| p.how == How::Stopped) {
        let result = copy_stopped(engine, d, writer, part, &existing, progress).await;
        match result {
            Ok((w, copied)) => {
                writer = w;
                if let Some(c) = copied {
                    records.push(record(part, c, progress));
                }
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        }
    }
    for (name, kind, bytes, mode) in &req.files {
        let stats = match writer.add_file(name, bytes, *mode) {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                anyhow::bail!("writing `{name}` into `{}`: {e}", partial.display());
            }
        };
        records.push(Part {
            name: name.clone(),
            kind: *kind,
            service: None,
            volume: None,
            path: None,
            entries: stats.entries,
            bytes: stats.bytes,
            sha256: stats.sha256,
            copy: None,
            unavailable_ms: None,
        });
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let manifest = Manifest {
        format: super::manifest::FORMAT.to_string(),
        stack: d.project.clone(),
        created: rfc3339(now),
        stackctl: req.stackctl.clone(),
        components: req.components.clone(),
        parts: records,
    };
    let finished = writer
        .finish(&manifest)
        .and_then(|()| std::fs::rename(&partial, req.out));
    if let Err(e) = finished {
        let _ = std::fs::remove_file(&partial);
        anyhow::bail!("cannot finish `{}`: {e}", req.out.display());
    }
    Ok(manifest)
}

fn record(part: &DataPart, c: Copied, progress: &mut dyn Progress) -> Part {
    let rate = human((c.stats.bytes as f64 / c.took.as_secs_f64().max(1e-3)) as u64);
    let how = match c.unavailable {
        Some(t) => format!(
            "stopped for the copy: unavailable for {:.1}s",
            t.as_secs_f64()
        ),
        None if c.copy == "live" => "copied live: not paused".to_string(),
        None => format!("{}: not paused", c.copy),
    };
    progress.line(
        &part.service,
        &format!(
            "{} in {} entries, {:.1}s ({rate}/s); {how}",
            human(c.stats.bytes),
            c.stats.entries,
            c.took.as_secs_f64()
        ),
    );
    Part {
        name: part.name(),
        kind: PartKind::Volume,
        service: Some(part.service.clone()),
        volume: Some(part.volume.clone()),
        path: Some(part.path.clone()),
        entries: c.stats.entries,
        bytes: c.stats.bytes,
        sha256: c.stats.sha256,
        copy: Some(c.copy.to_string()),
        unavailable_ms: c.unavailable.map(|t| t.as_millis() as u64),
    }
}

fn container_of<'a>(existing: &'a [Existing], service: &str) -> Option<&'a Existing> {
    existing.iter().find(|c| c.service == service)
}

/// Prometheus, copied while it runs; `None` when a compaction or WAL
/// truncation happened during the copy (take it again). Without its
/// metrics there is no telling: it is stopped for the copy instead.
async fn copy_live<E: Engine>(
    engine: &E,
    d: &Deployment,
    writer: Writer,
    part: &DataPart,
    existing: &[Existing],
    progress: &mut dyn Progress,
) -> anyhow::Result<(Writer, Option<Copied>)> {
    let Some(c) = container_of(existing, &part.service).filter(|c| c.state == "running") else {
        let (w, copied) = copy_stopped(engine, d, writer, part, existing, progress).await?;
        return Ok((w, copied));
    };
    let Some(s) = d.service(&part.service) else {
        return Ok((writer, None));
    };
    let before = tsdb_counters(engine, s, c).await;
    if before.is_none() {
        progress.line(&part.service, "cannot read its TSDB metrics to prove a live copy consistent: stopping it for the copy");
        return copy_stopped(engine, d, writer, part, existing, progress).await;
    }
    let (writer, stats, took) = copy_part(engine, writer, &c.id, part).await?;
    let after = tsdb_counters(engine, s, c).await;
    if after != before {
        return Ok((writer, None));
    }
    Ok((
        writer,
        Some(Copied {
            stats,
            copy: "live",
            unavailable: None,
            took,
        }),
    ))
}

/// `prometheus_tsdb_reloads_total` and `prometheus_tsdb_wal_truncations_total`.
async fn tsdb_counters<E: Engine>(
    engine: &E,
    s: &crate::plan::Service,
    c: &Existing,
) -> Option<(String, String)> {
    let port = s.ready.as_ref().map(|r| r.container_port)?;
    let ip = engine.inspect(&c.id).await.ok().and_then(|st| st.ip);
    let addr = super::engine_io::address(&c.ports, port, ip.as_deref())?;
    let body = engine
        .http_body(&addr, &crate::docker::reload::metrics_path(s))
        .await?;
    let value = |name: &str| {
        body.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .map(|v| v.trim().to_string())
    };
    Some((
        value("prometheus_tsdb_reloads_total")?,
        value("prometheus_tsdb_wal_truncations_total")?,
    ))
}

/// A part whose service is stopped for the copy (when it runs), or read
/// through a holder container when the stack has no container for it.
/// `None` when there is nothing to copy (no volume yet).
async fn copy_stopped<E: Engine>(
    engine: &E,
    d: &Deployment,
    writer: Writer,
    part: &DataPart,
    existing: &[Existing],
    progress: &mut dyn Progress,
) -> anyhow::Result<(Writer, Option<Copied>)> {
    let s = d
        .service(&part.service)
        .ok_or_else(|| anyhow::anyhow!("`{}` is not in the plan", part.service))?;
    match container_of(existing, &part.service) {
        Some(c) if matches!(c.state.as_str(), "running" | "restarting") => {
            let stopped = Instant::now();
            engine
                .stop(&c.id)
                .await
                .map_err(|e| engine_error(e, &format!("stopping `{}`", part.service)))?;
            let copied = copy_part(engine, writer, &c.id, part).await;
            // Started again whatever the copy did.
            let started = engine.start(&c.id).await;
            let serving =
                started.is_ok() && wait_serving(engine, s, &c.id, &c.ports, SERVE_LIMIT).await;
            let unavailable = stopped.elapsed();
            started.map_err(|e| {
                engine_error(
                    e,
                    &format!("starting `{}` again after its copy", part.service),
                )
            })?;
            if !serving {
                progress.line(
                    &part.service,
                    &format!(
                        "started again, but not serving within {}s",
                        SERVE_LIMIT.as_secs()
                    ),
                );
            }
            let (writer, stats, took) = copied?;
            Ok((
                writer,
                Some(Copied {
                    stats,
                    copy: "stopped",
                    unavailable: Some(unavailable),
                    took,
                }),
            ))
        }
        Some(c) => {
            let (writer, stats, took) = copy_part(engine, writer, &c.id, part).await?;
            Ok((
                writer,
                Some(Copied {
                    stats,
                    copy: "not running",
                    unavailable: None,
                    took,
                }),
            ))
        }
        None => {
            let volume = spec::volume_name(&d.project, &part.volume);
            if !engine
                .volume_exists(&volume)
                .await
                .map_err(|e| engine_error(e, "looking for volumes"))?
            {
                progress.line(
                    &part.service,
                    &format!("no volume `{volume}` yet: nothing to back up"),
                );
                return Ok((writer, None));
            }
            if engine
                .image_id(&s.image)
                .await
                .map_err(|e| engine_error(e, "looking for images"))?
                .is_none()
            {
                anyhow::bail!(
                    "`{}` has no container and its image `{}` is not here to read volume `{volume}` with\n  = help: `stackctl up` brings the stack (and its images) back",
                    part.service,
                    s.image
                );
            }
            let holder = holder_spec(d, s, &part.volume, &part.path, "backup");
            let id = engine
                .create(&holder)
                .await
                .map_err(|e| engine_error(e, &format!("creating `{}`", holder.name)))?;
            let copied = copy_part(engine, writer, &id, part).await;
            engine
                .remove(&id)
                .await
                .map_err(|e| engine_error(e, &format!("removing `{}`", holder.name)))?;
            let (writer, stats, took) = copied?;
            Ok((
                writer,
                Some(Copied {
                    stats,
                    copy: "volume only",
                    unavailable: None,
                    took,
                }),
            ))
        }
    }
}
