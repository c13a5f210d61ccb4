//! `stackctl backup`: a consistent copy of the stack's data, its spec, the
//! rendered tree's manifest and (with `--include-secrets`) its secrets in
//! one archive (`src/backup`).

use super::{Exit, load_stack, print_diagnostics};
use crate::backup::manifest::{self, PartKind};
use crate::backup::meter::human;
use crate::backup::save::{Request, backup};
use crate::docker::bollard_engine::BollardEngine;
use crate::docker::progress::Stderr;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where backups go without `--out`: inside the stack directory.
pub const BACKUP_DIR: &str = "backups";

pub fn run(dir: &Path, out: Option<&Path>, include_secrets: bool) -> anyhow::Result<Exit> {
    // Held throughout, so no `up`, `down` or `restore` interleaves.
    let _lock = crate::lock::acquire(dir, "backup")?;
    let loaded = load_stack(dir, false)?;
    let Some(resolved) = crate::resolve::Resolved::from_loaded(&loaded) else {
        print_diagnostics(&loaded);
        eprintln!("backup needs a valid spec to know which services hold data; nothing was copied");
        return Ok(Exit::Failed);
    };
    let stack = &resolved;
    let inputs = super::render::read_inputs(stack, dir)?;
    let d = crate::plan::plan(stack, &inputs);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let out: PathBuf = match out {
        Some(out) => out.to_path_buf(),
        None => {
            let backups = dir.join(BACKUP_DIR);
            crate::fsutil::create_dir_with_mode(&backups, 0o700)?;
            let stamp: String = manifest::rfc3339(now)
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect();
            backups.join(format!("{}-{stamp}.tar.zst", d.project))
        }
    };
    let mut files = Vec::new();
    let (spec_path, _) = super::spec_path(dir);
    let spec =
        crate::fsutil::read_regular(&spec_path, 1 << 30).map_err(|e| anyhow::anyhow!("{e}"))?;
    files.push((manifest::SPEC.to_string(), PartKind::File, spec, 0o644));
    match crate::fsutil::read_regular(&dir.join(crate::render::MANIFEST), 64 << 20) {
        Ok(bytes) => files.push((
            manifest::RENDER_MANIFEST.to_string(),
            PartKind::File,
            bytes,
            0o644,
        )),
        Err(e) if e.is_not_found() => eprintln!(
            "note: `{}` is not rendered yet: no tree manifest to keep",
            dir.display()
        ),
        Err(e) => return Err(anyhow::anyhow!("{e}")),
    }
    if include_secrets {
        for (name, rel) in &d.secrets {
            match crate::fsutil::read_regular(&dir.join(rel), crate::fsutil::MAX_SECRET_BYTES) {
                Ok(bytes) => files.push((
                    format!("{}{name}", manifest::SECRETS),
                    PartKind::Secret,
                    bytes,
                    0o600,
                )),
                Err(e) if e.is_not_found() => {
                    eprintln!("note: secret `{name}` has no file (`{rel}`): not in the archive")
                }
                Err(e) => return Err(anyhow::anyhow!("{e}")),
            }
        }
    }
    let components = stack
        .components
        .enabled_kinds()
        .into_iter()
        .map(|k| (k.service().to_string(), stack.version_of(k).to_string()))
        .collect();
    let started = Instant::now();
    eprintln!("backing up `{}` into `{}`", d.project, out.display());
    let req = Request {
        d: &d,
        out: &out,
        files,
        components,
        stackctl: env!("CARGO_PKG_VERSION").to_string(),
    };
    let manifest = super::docker::runtime()?.block_on(async {
        let engine = BollardEngine::connect()
            .await
            .map_err(super::docker::engine_error)?;
        backup(&engine, req, &mut Stderr::new()).await
    })?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or_default();
    let data: u64 = manifest.parts.iter().map(|p| p.bytes).sum();
    eprintln!(
        "`{}` backed up: {} part(s), {} of data in {} ({:.1}s){}",
        d.project,
        manifest.parts.len(),
        human(data),
        human(size),
        started.elapsed().as_secs_f64(),
        if include_secrets {
            "; it holds the secrets: keep it as safe as they are"
        } else {
            ""
        }
    );
    super::emit(&format!("{}\n", out.display()))?;
    Ok(Exit::Ok)
}
