//! Whole-stack checks on the typed model: names, references, ports, versions.
//!
//! Each check module adds findings to one `Findings` list against model paths;
//! `load` turns the paths into positions. Checks never stop at the first
//! problem and never touch the filesystem (see `files.rs` for that).

mod alerting;
mod components;
pub mod dashboards;
mod logs;
mod names;
mod ports;
mod rules;
mod scrape;
mod secrets;

use crate::diag::Diagnostic;
use crate::model::Stack;
use crate::yaml::node::Path;

pub mod files;

/// Collected findings of one run.
#[derive(Default)]
pub struct Findings {
    pub items: Vec<Diagnostic>,
}

impl Findings {
    pub fn error(&mut self, path: Path, message: impl Into<String>, hint: impl Into<String>) {
        let hint = hint.into();
        let mut d = Diagnostic::error(message).at(path);
        if !hint.is_empty() {
            d = d.with_hint(hint);
        }
        self.items.push(d);
    }

    pub fn warning(&mut self, path: Path, message: impl Into<String>, hint: impl Into<String>) {
        let hint = hint.into();
        let mut d = Diagnostic::warning(message).at(path);
        if !hint.is_empty() {
            d = d.with_hint(hint);
        }
        self.items.push(d);
    }

    /// An error that points at the key of `path` (e.g. a duplicate name's key).
    pub fn error_at_key(
        &mut self,
        path: Path,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let hint = hint.into();
        let mut d = Diagnostic::error(message).at_key(path);
        if !hint.is_empty() {
            d = d.with_hint(hint);
        }
        self.items.push(d);
    }
}

/// Runs every model check.
pub fn stack(stack: &Stack) -> Vec<Diagnostic> {
    let mut found = Findings::default();
    names::check(stack, &mut found);
    components::check(stack, &mut found);
    ports::check(stack, &mut found);
    secrets::check(stack, &mut found);
    scrape::check(stack, &mut found);
    rules::check(stack, &mut found);
    alerting::check(stack, &mut found);
    dashboards::check(stack, &mut found);
    logs::check(stack, &mut found);
    found.items
}

/// Reports every name that occurs more than once in `names` (name, path).
pub(crate) fn duplicates<'a>(
    found: &mut Findings,
    what: &str,
    names: impl IntoIterator<Item = (&'a str, Path)>,
) {
    let mut seen: std::collections::BTreeMap<&str, Path> = std::collections::BTreeMap::new();
    for (name, path) in names {
        if let Some(first) = seen.get(name) {
            found.error(
                path,
                format!("duplicate {what} `{name}`"),
                format!(
                    "`{name}` is already defined at `{}`; names must be unique",
                    crate::yaml::node::path_to_string(first)
                ),
            );
        } else {
            seen.insert(name, path);
        }
    }
}

pub use names::is_project_name;
