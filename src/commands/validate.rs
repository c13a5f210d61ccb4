//! `stackctl validate`: every problem in the spec, with positions and hints.

use super::{Exit, load_stack, print_diagnostics};
use crate::cli::Format;
use std::path::Path;

pub fn run(dir: &Path, format: Format, deny_warnings: bool) -> anyhow::Result<Exit> {
    let loaded = load_stack(dir, false)?;
    match format {
        Format::Text => {
            print_diagnostics(&loaded);
            if loaded.diagnostics.is_empty() {
                eprintln!("{}: ok", loaded.file);
            }
        }
        Format::Json => {
            let json = crate::diag::to_json(&loaded.diagnostics, &loaded.file);
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
    }
    let failed = loaded.has_errors() || (deny_warnings && loaded.warnings().next().is_some());
    Ok(if failed { Exit::Failed } else { Exit::Ok })
}
