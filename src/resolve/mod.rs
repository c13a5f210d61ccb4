//! The resolve stage: a checked `Stack` with the facts every later stage
//! needs worked out once: Grafana's datasources, the log index, where each
//! secret's file is, and the addresses components reach each other on.
//!
//! `Resolved` can only be made here, from a spec that loaded and checked
//! without errors, so the planner, the renderers and `verify` cannot be
//! handed an unchecked stack. It dereferences to the `Stack` it wraps (the
//! positions of the spec stay with the `Loaded` it came from).
//!
//! The rules (`datasources::effective_datasources`, `secret_file`, …) are
//! plain functions over a `Stack` as well, because `check` must apply the
//! same defaults to a spec that still has errors.

pub mod datasources;

use crate::diag::Diagnostic;
use crate::load::Loaded;
use crate::model::stack::{Datasource, DatasourceKind};
use crate::model::{Kind, Stack};
use std::collections::BTreeMap;

/// A checked stack with its defaults applied.
#[derive(Debug, Clone)]
pub struct Resolved {
    stack: Stack,
    datasources: Vec<Datasource>,
    log_index: String,
    secret_files: BTreeMap<String, String>,
}

impl Resolved {
    /// The resolved stack of a load without errors; `None` otherwise.
    pub fn from_loaded(loaded: &Loaded) -> Option<Resolved> {
        if loaded.has_errors() {
            return None;
        }
        loaded.stack.clone().map(Resolved::new)
    }

    /// Checks a stack built in code (tests, generators) and resolves it, or
    /// returns the errors that stop it.
    pub fn check(stack: Stack) -> Result<Resolved, Vec<Diagnostic>> {
        let errors: Vec<Diagnostic> = crate::check::stack(&stack)
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect();
        if errors.is_empty() {
            Ok(Resolved::new(stack))
        } else {
            Err(errors)
        }
    }

    /// `check`'s look at the services a spec would get, before the spec is
    /// known to be valid (which privileges they need); never rendered.
    pub(crate) fn preview(stack: Stack) -> Resolved {
        Resolved::new(stack)
    }

    /// A stack derived in code from one that resolved (a remote host's
    /// bundle): its parts were checked with the parent spec.
    pub(crate) fn derived(stack: Stack) -> Resolved {
        Resolved::new(stack)
    }

    fn new(stack: Stack) -> Resolved {
        Resolved {
            datasources: datasources::effective_datasources(&stack),
            log_index: datasources::default_log_index(&stack),
            secret_files: stack
                .secrets
                .keys()
                .map(|name| (name.clone(), secret_file(&stack, name)))
                .collect(),
            stack,
        }
    }

    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    /// The datasources Grafana gets, in provisioning order.
    pub fn datasources(&self) -> &[Datasource] {
        &self.datasources
    }

    /// The first datasource of a kind.
    pub fn datasource(&self, kind: DatasourceKind) -> Option<&Datasource> {
        self.datasources.iter().find(|d| d.kind == kind)
    }

    /// The index pattern the logs land in (Elasticsearch).
    pub fn log_index(&self) -> &str {
        &self.log_index
    }

    /// Every declared secret with its file, relative to the stack directory.
    pub fn secret_files(&self) -> &BTreeMap<String, String> {
        &self.secret_files
    }

    /// The file of a declared secret (the default place for an undeclared one).
    pub fn secret_file(&self, name: &str) -> String {
        self.secret_files
            .get(name)
            .cloned()
            .unwrap_or_else(|| secret_file(&self.stack, name))
    }
}

impl Resolved {
    /// Where Prometheus and Loki's ruler send alerts (`host:port`), when the
    /// stack has an Alertmanager.
    pub fn alertmanager_address(&self) -> Option<String> {
        self.stack
            .has(Kind::Alertmanager)
            .then(crate::components::alertmanager::address)
    }
}

impl std::ops::Deref for Resolved {
    type Target = Stack;

    fn deref(&self) -> &Stack {
        &self.stack
    }
}

/// Where a secret's value lives, relative to the stack directory.
pub fn secret_file(stack: &Stack, name: &str) -> String {
    stack
        .secrets
        .get(name)
        .and_then(|s| s.file.clone())
        .unwrap_or_else(|| format!("secrets/{name}"))
}

/// `host:port` of a component's port inside the stack's network: its
/// service name and container port, from the catalog.
pub fn address(kind: Kind, port: &str) -> String {
    match kind.port(port) {
        Some(p) => format!("{}:{}", kind.service(), p.container),
        None => kind.service().to_string(),
    }
}

/// `http://host:port` of a component's port inside the stack's network.
pub fn url(kind: Kind, port: &str) -> String {
    format!("http://{}", address(kind, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_from_the_catalog() {
        assert_eq!(url(Kind::Loki, "http"), "http://loki:3100");
        assert_eq!(address(Kind::Alertmanager, "web"), "alertmanager:9093");
        assert_eq!(
            datasources::default_url(Kind::Jaeger),
            "http://jaeger:16686"
        );
    }

    #[test]
    fn only_a_checked_stack_resolves() {
        let bad = crate::load::load_text(
            "stack.yaml",
            "stackctl: 1\nname: x\ncomponents:\n  grafana: {}\ndatasources:\n  - {name: A, uid: a, type: prometheus}\n  - {name: A, uid: a, type: prometheus}\n".into(),
        );
        assert!(Resolved::from_loaded(&bad).is_none());
        let stack = bad.stack.expect("parses");
        let errors = Resolved::check(stack).expect_err("duplicate uid");
        assert!(
            errors
                .iter()
                .any(|d| d.message.contains("duplicate datasource uid"))
        );
    }

    #[test]
    fn resolved_facts_match_the_rules() {
        let loaded = crate::load::load_text(
            "stack.yaml",
            "stackctl: 1\nname: x\ncomponents:\n  prometheus: {}\n  loki: {}\n  grafana: {}\nsecrets:\n  grafana_admin_password: {}\n  grafana_secret_key: {}\n  a: {file: elsewhere/a}\n  b: {}\n".into(),
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let r = Resolved::from_loaded(&loaded).expect("valid");
        let kinds: Vec<_> = r.datasources().iter().map(|d| d.kind).collect();
        assert_eq!(kinds, [DatasourceKind::Prometheus, DatasourceKind::Loki]);
        assert_eq!(r.secret_file("a"), "elsewhere/a");
        assert_eq!(r.secret_file("b"), "secrets/b");
        assert_eq!(r.log_index(), "logs-*");
    }
}
