//! `stackctl validate`: every problem in the spec, with positions and hints,
//! in one run. Text for people (stderr), JSON for editors and CI, JUnit XML
//! for CI test reports (stdout).
//! Exit 1 on any error, or on any warning with `--deny-warnings`.

use super::{Exit, load_stack, print_diagnostics};
use crate::cli::Format;
use crate::diag::Severity;
use std::path::Path;

pub fn run(dir: &Path, format: Format, deny_warnings: bool) -> anyhow::Result<Exit> {
    let loaded = load_stack(dir, false)?;
    let count = |s: Severity| {
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == s)
            .count()
    };
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    match format {
        Format::Text => {
            print_diagnostics(&loaded);
            if errors == 0 && warnings == 0 {
                match infos {
                    0 => eprintln!("{}: ok", loaded.file),
                    n => eprintln!(
                        "{}: ok ({n} note{})",
                        loaded.file,
                        if n == 1 { "" } else { "s" }
                    ),
                }
            }
        }
        Format::Json => {
            let json = crate::diag::to_json(&loaded.diagnostics, &loaded.file);
            super::emit(&format!("{}\n", serde_json::to_string_pretty(&json)?))?;
        }
        Format::Junit => {
            super::emit(&crate::diag::to_junit(
                &loaded.diagnostics,
                &loaded.file,
                deny_warnings,
            ))?;
        }
    }
    let failed = loaded.has_errors() || (deny_warnings && warnings > 0);
    // The process ends here: freeing a large stack's tree node by node would
    // cost a noticeable part of the run for nothing.
    std::mem::forget(loaded);
    Ok(if failed { Exit::Failed } else { Exit::Ok })
}
