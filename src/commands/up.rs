//! `stackctl up`: render if needed, then bring the stack up through the Docker Engine API.

use super::Exit;
use std::path::Path;

pub fn run(dir: &Path, wait: &str, remove_orphans: bool) -> anyhow::Result<Exit> {
    let _ = (dir, wait, remove_orphans);
    anyhow::bail!("`stackctl up` is not implemented yet")
}
