//! `stackctl verify`: probe the running stack end to end.

use super::Exit;
use crate::cli::VerifyFormat;
use std::path::Path;

pub struct Options<'a> {
    pub wait: Option<&'a str>,
    pub timeout: &'a str,
    pub format: VerifyFormat,
    pub only: &'a [String],
    pub urls: &'a [String],
    pub deep: bool,
}

pub fn run(dir: &Path, opts: Options<'_>) -> anyhow::Result<Exit> {
    let _ = (
        dir,
        opts.wait,
        opts.timeout,
        opts.format,
        opts.only,
        opts.urls,
        opts.deep,
    );
    anyhow::bail!("`stackctl verify` is not implemented yet")
}
