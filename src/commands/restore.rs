//! `stackctl restore FILE`: check the archive (every part's SHA-256, the
//! versions against the spec), refuse to overwrite volumes holding data
//! without `--force`, replace the volumes' contents, bring the stack up and
//! run `verify`. A refused restore changes nothing.

use super::{Exit, load_stack, print_diagnostics};
use crate::backup::archive;
use crate::backup::manifest::{self, PartKind};
use crate::backup::meter::Meter;
use crate::backup::restore::{Outcome, check_versions, matched, restore};
use crate::cli::VerifyFormat;
use crate::docker::bollard_engine::BollardEngine;
use crate::docker::progress::Stderr;
use std::collections::BTreeMap;
use std::path::Path;

pub fn run(file: &Path, dir: &Path, force: bool, wait: &str) -> anyhow::Result<Exit> {
    let wait = crate::model::types::Duration::parse(wait).map_err(|e| {
        anyhow::anyhow!("--wait: {e}\n  = help: a duration such as `90s`, `3m` or `1m30s`")
    })?;
    let lock = crate::lock::acquire(dir, "restore")?;
    let loaded = load_stack(dir, false)?;
    let Some(resolved) = crate::resolve::Resolved::from_loaded(&loaded) else {
        print_diagnostics(&loaded);
        eprintln!("restore needs a valid spec to know where the data goes; nothing was changed");
        return Ok(Exit::Failed);
    };
    let stack = &resolved;
    let inputs = super::render::read_inputs(stack, dir)?;
    let d = crate::plan::plan(stack, &inputs);
    let verified = {
        let mut meter = Meter::stderr("checking");
        archive::verify(file, &mut meter)
    };
    let verified = match verified {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "error: {e}\n  = help: restore only a complete archive written by `stackctl backup`\nnothing was changed"
            );
            return Ok(Exit::Failed);
        }
    };
    let m = &verified.manifest;
    eprintln!(
        "`{}`: backup of `{}` from {}, {} part(s), every SHA-256 matches",
        file.display(),
        m.stack,
        m.created,
        m.parts.len()
    );
    let (parts, mut problems) = matched(m, &d);
    let pinned: BTreeMap<String, crate::model::types::Version> = parts
        .iter()
        .map(|p| (p.service.clone(), stack.version_of(p.kind)))
        .collect();
    let (version_problems, warnings) = check_versions(m, &parts, &pinned);
    problems.extend(version_problems);
    if !problems.is_empty() {
        for p in &problems {
            eprint!("{}", p.render());
        }
        eprintln!("nothing was changed");
        return Ok(Exit::Failed);
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if m.stack != d.project {
        eprintln!(
            "note: the archive is of `{}`; restoring into `{}`",
            m.stack, d.project
        );
    }
    let runtime = super::docker::runtime()?;
    let outcome = runtime.block_on(async {
        let engine = BollardEngine::connect()
            .await
            .map_err(super::docker::engine_error)?;
        restore(&engine, &d, file, &parts, force, &mut Stderr::new()).await
    });
    let (removed, stopped_at) = match outcome {
        Ok(Outcome::Refused(problems)) => {
            for p in &problems {
                eprint!("{}", p.render());
            }
            eprintln!("nothing was changed");
            return Ok(Exit::Failed);
        }
        Ok(Outcome::Restored {
            removed,
            stopped_at,
            ..
        }) => (removed, stopped_at),
        Err(e) => {
            return Err(e.context(format!(
                "the restore stopped midway; `stackctl restore {} --force` runs it again",
                file.display()
            )));
        }
    };
    restore_secrets(&verified, &d, dir, force)?;
    // Up as `stackctl up` does (under the lock already held): recreates
    // the removed containers on the restored volumes.
    let Some((d, spec_errors)) = super::docker::prepare(dir, false, &lock)? else {
        return Ok(Exit::Failed);
    };
    if spec_errors > 0 {
        return Ok(Exit::Failed);
    }
    let opts = crate::docker::up::Options {
        dir: super::docker::absolute(dir)?,
        wait: wait.as_std(),
        remove_orphans: false,
        poll: std::time::Duration::from_millis(100),
        preflight_only: false,
    };
    let up = runtime.block_on(async {
        let engine = BollardEngine::connect().await?;
        crate::docker::up::up(&engine, &d, &opts, &mut Stderr::new()).await
    });
    match up.map_err(super::docker::engine_error)? {
        crate::docker::up::Outcome::Up(_) => eprintln!(
            "`{}` restored: {} back after {:.1}s",
            d.project,
            removed.join(", "),
            stopped_at.elapsed().as_secs_f64()
        ),
        crate::docker::up::Outcome::Failed(problems) => {
            for p in &problems {
                eprint!("{}", p.render());
            }
            eprintln!("the volumes are restored, but the stack did not come up");
            return Ok(Exit::Failed);
        }
    }
    drop(lock);
    super::verify::run(
        dir,
        super::verify::Options {
            wait: Some("1m"),
            timeout: "10s",
            format: VerifyFormat::Text,
            only: &[],
            urls: &[],
            deep: false,
            alerts: None,
        },
    )
}

/// Secrets in the archive are written where the spec keeps them when that
/// file is missing; a different one is kept unless `--force`.
fn restore_secrets(
    v: &archive::Verified,
    d: &crate::plan::Deployment,
    dir: &Path,
    force: bool,
) -> anyhow::Result<()> {
    for part in v
        .manifest
        .parts
        .iter()
        .filter(|p| p.kind == PartKind::Secret)
    {
        let Some(name) = part.name.strip_prefix(manifest::SECRETS) else {
            continue;
        };
        let (Some(rel), Some(bytes)) = (d.secrets.get(name), v.files.get(&part.name)) else {
            continue;
        };
        let path = dir.join(rel);
        match crate::fsutil::read_regular(&path, crate::fsutil::MAX_SECRET_BYTES) {
            Ok(current) if current == *bytes => {}
            Ok(_) if !force => eprintln!(
                "note: secret `{name}` differs from the archive's; kept (`--force` puts the archive's back)"
            ),
            Ok(_) => {
                crate::fsutil::write_atomic(&path, bytes, 0o600)?;
                eprintln!("secret `{name}` replaced with the archive's");
            }
            Err(e) if e.is_not_found() => {
                crate::fsutil::write_atomic(&path, bytes, 0o600)?;
                eprintln!("secret `{name}` written from the archive (`{rel}`)");
            }
            Err(e) => return Err(anyhow::anyhow!("{e}")),
        }
    }
    Ok(())
}
