//! `stackctl status`: one row per service with state, health and ports.

use super::Exit;
use std::path::Path;

pub fn run(dir: &Path) -> anyhow::Result<Exit> {
    let _ = dir;
    anyhow::bail!("`stackctl status` is not implemented yet")
}
