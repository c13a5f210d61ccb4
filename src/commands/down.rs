//! `stackctl down`: remove the stack's containers and network; volumes stay unless asked.

use super::Exit;
use std::path::Path;

pub fn run(dir: &Path, volumes: bool) -> anyhow::Result<Exit> {
    let _ = (dir, volumes);
    anyhow::bail!("`stackctl down` is not implemented yet")
}
