//! `stackctl validate`: every problem in the spec, with positions and hints,
//! in one run. Text for people (stderr), JSON for editors and CI, JUnit XML
//! for CI test reports (stdout).
//! Exit 1 on any error, or on any warning with `--deny-warnings`.

use super::{Exit, load_stack, print_diagnostics};
use crate::cli::Format;
use crate::diag::Severity;
use std::path::Path;

pub fn run(dir: &Path, format: Format, deny_warnings: bool) -> anyhow::Result<Exit> {
    let mut loaded = load_stack(dir, false)?;
    routing_expectations(dir, &mut loaded)?;
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
                    0 => say!("{}: ok", loaded.file),
                    n => say!(
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

/// `alerting.tests`, evaluated on the Alertmanager configuration the plan
/// writes (only for a spec without errors: the plan needs a valid one).
fn routing_expectations(dir: &Path, loaded: &mut crate::load::Loaded) -> anyhow::Result<()> {
    let Some(resolved) = crate::resolve::Resolved::from_loaded(loaded) else {
        return Ok(());
    };
    let stack = &resolved;
    if loaded.diagnostics.iter().any(|d| d.is_error())
        || stack.alerting.as_ref().is_none_or(|a| a.tests.is_empty())
    {
        return Ok(());
    }
    let inputs = super::render::read_inputs(stack, dir)?;
    let plan = crate::plan::plan(stack, &inputs);
    let mut found = crate::routes::expect::check(
        stack,
        plan.files
            .get(crate::plan::alertmanager_config_path())
            .map(String::as_str),
    );
    if let Some(tree) = &loaded.tree {
        for d in &mut found {
            d.resolve(tree);
        }
    }
    loaded.diagnostics.extend(found);
    crate::diag::sort(&mut loaded.diagnostics);
    Ok(())
}
