//! The engine operations backup and restore share: copying a volume part
//! through the archive endpoint into the archive, telling whether a volume
//! holds data, temporary (never started) containers from a service's own
//! image to reach a volume no container mounts, and waiting until a
//! restarted service serves again.

use super::archive::{Stats, Writer};
use super::meter::Meter;
use super::parts::{DataPart, skip};
use super::stream::{CHUNKS, ChannelReader};
use crate::docker::engine::{ContainerSpec, Engine, EngineError};
use crate::docker::spec;
use crate::plan::{Deployment, Service};
use std::time::{Duration, Instant};

/// Copies the part's directory of container `id` into the archive on a
/// thread of its own (tar parsing and zstd), while this task pumps the
/// engine's stream to it. Returns the writer for the next part.
pub async fn copy_part<E: Engine>(
    engine: &E,
    mut writer: Writer,
    id: &str,
    part: &DataPart,
) -> anyhow::Result<(Writer, Stats, Duration)> {
    let (tx, rx) = tokio::sync::mpsc::channel(CHUNKS);
    let (name, kind, label) = (part.name(), part.kind, part.service.clone());
    let started = Instant::now();
    let thread = std::thread::spawn(move || {
        let mut meter = Meter::stderr(&label);
        let stats = writer.add_volume(
            &name,
            ChannelReader::new(rx),
            &|rel| skip(kind, rel),
            &mut meter,
        );
        (writer, stats)
    });
    let downloaded = engine.download(id, &part.path, tx).await;
    let (writer, stats) = thread
        .join()
        .map_err(|_| anyhow::anyhow!("the archive writer stopped unexpectedly"))?;
    downloaded
        .map_err(|e| engine_error(e, &format!("copying `{}` of `{}`", part.path, part.service)))?;
    let stats =
        stats.map_err(|e| anyhow::anyhow!("writing `{}` into the archive: {e}", part.service))?;
    Ok((writer, stats, started.elapsed()))
}

/// The first non-empty file in `path` of container `id`, if any: the copy
/// stops as soon as one is seen.
/// What a backup leaves out (a lock file, Prometheus's query log) does not count.
pub async fn first_data_file<E: Engine>(
    engine: &E,
    id: &str,
    part: &DataPart,
) -> Result<Option<String>, EngineError> {
    let kind = part.kind;
    let (tx, rx) = tokio::sync::mpsc::channel(CHUNKS);
    let thread = std::thread::spawn(move || -> Option<String> {
        let mut archive = tar::Archive::new(ChannelReader::new(rx));
        for entry in archive.entries().ok()? {
            let entry = entry.ok()?;
            if entry.header().entry_type().is_file() && entry.size() > 0 {
                let path = entry.path().ok()?.to_string_lossy().into_owned();
                let rel = path
                    .split_once('/')
                    .map_or(path.clone(), |(_, r)| r.to_string());
                if !skip(kind, &rel) {
                    return Some(rel);
                }
            }
        }
        None
    });
    let downloaded = engine.download(id, &part.path, tx).await;
    let found = thread.join().unwrap_or(None);
    downloaded?;
    Ok(found)
}

/// A container of `s`'s own image with only `volume` mounted at `path`,
/// created and never started: the archive endpoints work on it, and no
/// image has to be pulled.
pub fn holder_spec(
    d: &Deployment,
    s: &Service,
    volume: &str,
    path: &str,
    purpose: &str,
) -> ContainerSpec {
    let service = format!("{}-{purpose}", s.name);
    let labels = [
        (spec::PROJECT, d.project.as_str()),
        (spec::SERVICE, service.as_str()),
        (spec::ONEOFF, "True"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    ContainerSpec {
        name: format!("{}-{}-{purpose}", d.project, s.name),
        image: s.image.clone(),
        labels,
        binds: vec![format!("{}:{path}", spec::volume_name(&d.project, volume))],
        restart: "no".into(),
        network: "none".into(),
        ..ContainerSpec::default()
    }
}

/// Waits until a service started again serves: its ready endpoint answers,
/// or its healthcheck command passes (run through exec, as `up` does), or
/// it simply runs when it has neither. Gives up after `limit`.
pub async fn wait_serving<E: Engine>(
    engine: &E,
    s: &Service,
    id: &str,
    published: &[crate::docker::engine::Published],
    limit: Duration,
) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if let Ok(state) = engine.inspect(id).await {
            if state.status == "running" {
                let ok = if let Some(ready) = &s.ready {
                    match address(published, ready.container_port, state.ip.as_deref()) {
                        Some(addr) => engine.http_ok(&addr, &ready.path).await,
                        None => true,
                    }
                } else if let Some(h) = &s.healthcheck {
                    let cmd = crate::docker::up::healthcheck_command(h);
                    matches!(engine.exec(id, &cmd, Duration::from_secs(5)).await, Ok(e) if e.exit_code == Some(0))
                } else {
                    true
                };
                if ok {
                    return true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Where a container port is reachable from here: its published port,
/// else the container's address on the project network.
pub fn address(
    published: &[crate::docker::engine::Published],
    port: u16,
    ip: Option<&str>,
) -> Option<String> {
    if let Some(p) = published
        .iter()
        .find(|p| p.container_port == port && !p.udp)
    {
        let host = match p.host_ip.as_str() {
            "0.0.0.0" | "" => "127.0.0.1".to_string(),
            "::" => "[::1]".to_string(),
            ip if ip.contains(':') => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        return Some(format!("{host}:{}", p.host_port));
    }
    ip.map(|ip| format!("{ip}:{port}"))
}

/// An engine error with what was being done.
pub fn engine_error(e: EngineError, doing: &str) -> anyhow::Error {
    match e {
        EngineError::Unreachable { .. } => anyhow::anyhow!(
            "{doing}: {e}\n  = help: is the Docker daemon running (`docker info`)? Set `DOCKER_HOST` if it listens elsewhere"
        ),
        other => anyhow::anyhow!("{doing}: the Docker engine refused: {other}"),
    }
}
