//! Where `init` and `import` write a new `stack.yaml`: the stack directory
//! created (the one thing made with `create_dir_all`; everything inside goes
//! through the confined writer), locked, and an existing spec kept as
//! `stack.yaml.bak` with `--force` or refused without it.

use crate::lock::StackLock;
use crate::render::write::atomic::{self, OnDisk, StackDir};
use std::path::Path;

/// The locked stack directory, ready for a new spec; `None` (reason printed)
/// when a spec exists and `force` is off. `refusal_help` says what to do then.
pub fn prepare(
    dir: &Path,
    command: &str,
    force: bool,
    refusal_help: &str,
) -> anyhow::Result<Option<(StackLock, StackDir)>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create directory `{}`: {e}", dir.display()))?;
    let lock = crate::lock::acquire(dir, command)?;
    let root = StackDir::open(dir)?;
    let spec = dir.join("stack.yaml");
    match atomic::read_no_follow(&spec)? {
        OnDisk::Missing => {}
        _ if !force => {
            eprintln!("error: `{}` already exists", spec.display());
            eprintln!("  = help: {refusal_help}");
            return Ok(None);
        }
        OnDisk::File(old) => {
            // Never replaces an earlier backup, never follows a planted link.
            let backup = atomic::keep_copy(&dir.join("stack.yaml.bak"), &old, 0o644)?;
            eprintln!("kept the previous spec as {}", backup.display());
        }
        OnDisk::NotAFile => anyhow::bail!(
            "`{}` is not a regular file (a link, a directory?); stackctl never replaces it\n  = help: move it away and run `stackctl {command}` again",
            spec.display()
        ),
    }
    Ok(Some((lock, root)))
}
