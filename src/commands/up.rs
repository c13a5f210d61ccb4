//! `stackctl up`: render (refusing on errors, respecting edited files), warn
//! once per receiver whose notifier credential is still empty (an error with
//! `--strict-credentials`, as is every empty secret in use), then bring
//! the stack up through the Docker Engine API from the same plan the Compose
//! file was rendered from.

use super::Exit;
use crate::docker::bollard_engine::BollardEngine;
use crate::docker::progress::Stderr;
use crate::docker::up::{Options, Outcome, up};
use crate::model::types::Duration;
use std::path::Path;
use std::time::Instant;

pub fn run(
    dir: &Path,
    wait: &str,
    remove_orphans: bool,
    strict_credentials: bool,
) -> anyhow::Result<Exit> {
    let wait = Duration::parse(wait).map_err(|e| {
        anyhow::anyhow!("--wait: {e}\n  = help: a duration such as `90s`, `3m` or `1m30s`")
    })?;
    // Held until the stack is up (down), so no render or other run interleaves.
    let _lock = crate::lock::acquire(dir, "up")?;
    let started = Instant::now();
    let Some((d, spec_errors)) = super::docker::prepare(dir, strict_credentials)? else {
        return Ok(Exit::Failed);
    };
    let abs = super::docker::absolute(dir)?;
    let opts = Options {
        dir: abs,
        wait: wait.as_std(),
        remove_orphans,
        poll: std::time::Duration::from_millis(100),
        preflight_only: spec_errors > 0,
    };
    if spec_errors == 0 {
        eprintln!("starting `{}` ({} services)", d.project, d.services.len());
    }
    let outcome = super::docker::runtime()?.block_on(async {
        let engine = BollardEngine::connect().await?;
        up(&engine, &d, &opts, &mut Stderr::new()).await
    });
    let secs = started.elapsed().as_secs_f64();
    // The spec is wrong whatever the engine says (exit 1); an engine that
    // does not answer only means the rest could not be checked.
    if spec_errors > 0 {
        if let Err(crate::docker::EngineError::Unreachable { host, .. }) = &outcome {
            eprintln!(
                "note: the engine at `{host}` did not answer, so images, ports and networks were not checked"
            );
            return Ok(Exit::Failed);
        }
    }
    match outcome.map_err(super::docker::engine_error)? {
        Outcome::Up(s) => {
            let mut parts = Vec::new();
            for (n, what) in [
                (s.created.len(), "created"),
                (s.recreated.len(), "recreated"),
                (s.reloaded.len(), "reloaded"),
                (s.unchanged.len(), "unchanged"),
            ] {
                if n > 0 {
                    parts.push(format!("{n} {what}"));
                }
            }
            eprintln!(
                "`{}` is up: {} services healthy ({}) in {secs:.1}s",
                d.project,
                d.services.len(),
                parts.join(", ")
            );
            if !s.orphans.is_empty() {
                eprintln!(
                    "note: {} orphan container(s) left running ({}); `stackctl up --remove-orphans` removes them",
                    s.orphans.len(),
                    s.orphans.join(", ")
                );
            }
            Ok(Exit::Ok)
        }
        Outcome::Failed(problems) => {
            for p in &problems {
                eprint!("{}", p.render());
            }
            if spec_errors > 0 {
                eprintln!(
                    "nothing was created: {spec_errors} spec error(s) and {} other problem(s) above",
                    problems.len()
                );
            }
            eprintln!(
                "`stackctl up` failed after {secs:.1}s; fix the above and run it again (it picks up where it stopped)"
            );
            Ok(Exit::Failed)
        }
    }
}
