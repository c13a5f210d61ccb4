//! Whole-stack checks on the typed model: names, references, ports, versions.
//!
//! Each check module adds findings to one `Findings` list against model paths;
//! `load` turns the paths into positions. Checks never stop at the first
//! problem and never touch the filesystem (see `files.rs` for that).

mod alerting;
mod components;
mod credentials;
pub mod dashboard_file;
pub mod dashboards;
pub(crate) mod deployment;
mod hosts;
pub mod inputs;
mod keys;
mod logs;
pub mod metrics_catalog;
mod names;
mod panel_queries;
mod ports;
pub mod prefetch;
pub mod promql;
pub mod receiver_credentials;
mod receivers;
mod routing;
mod rules;
mod scrape;
mod secrets;
mod security;
pub mod templates;
pub mod tls_files;
mod version;

use crate::diag::Diagnostic;
use crate::model::Stack;
use crate::yaml::node::Path;

pub mod files;

/// Collected findings of one run.
#[derive(Default)]
pub struct Findings {
    pub items: Vec<Diagnostic>,
    /// The code given to findings that do not name their own (the check module).
    code: &'static str,
}

impl Findings {
    /// Adds a finding; one without a code gets the running check's.
    pub fn push(&mut self, mut d: Diagnostic) {
        if d.code.is_none() {
            d.code = Some(self.code);
        }
        self.items.push(d);
    }

    pub fn info(&mut self, path: Path, message: impl Into<String>, hint: impl Into<String>) {
        let hint = hint.into();
        let mut d = Diagnostic::info(message).at(path);
        if !hint.is_empty() {
            d = d.with_hint(hint);
        }
        self.push(d);
    }

    pub fn error(&mut self, path: Path, message: impl Into<String>, hint: impl Into<String>) {
        let hint = hint.into();
        let mut d = Diagnostic::error(message).at(path);
        if !hint.is_empty() {
            d = d.with_hint(hint);
        }
        self.push(d);
    }

    pub fn warning(&mut self, path: Path, message: impl Into<String>, hint: impl Into<String>) {
        let hint = hint.into();
        let mut d = Diagnostic::warning(message).at(path);
        if !hint.is_empty() {
            d = d.with_hint(hint);
        }
        self.push(d);
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
        self.push(d);
    }
}

/// Runs every model check. Every PromQL expression is parsed once, up front,
/// and the checks that need to know what an expression reads share the result.
pub fn stack(stack: &Stack) -> Vec<Diagnostic> {
    stack_with(stack, &mut prefetch::Prefetched::default())
}

/// `stack`, with the rule expressions the load pipeline already analysed.
pub fn stack_with(stack: &Stack, prefetched: &mut prefetch::Prefetched) -> Vec<Diagnostic> {
    let mut found = Findings::default();
    let index = promql::Index::build_with(stack, prefetched);
    let mut run = |code: &'static str, check: &dyn Fn(&mut Findings)| {
        found.code = code;
        check(&mut found);
    };
    run("spec", &|f| names::check(stack, f));
    // The two checks that walk every string of the spec share one serialised
    // copy, dropped as soon as both ran; credentials' findings still come last,
    // where they always were. The rule groups are serialised one at a time:
    // a copy of all of them was the largest allocation of a large spec, and
    // faulting in its pages cost more than the YAML scanner (issue 13).
    let serialised =
        crate::model::stack::serialising_without_rules(|| serde_json::to_value(stack)).ok();
    run("keys", &|f| keys::check(stack, serialised.as_ref(), f));
    let mut credentials_found = Findings {
        items: Vec::new(),
        code: "credentials",
    };
    credentials::check(serialised.as_ref(), &mut credentials_found);
    drop(serialised);
    let credentials_in_rules = std::cell::RefCell::new(Findings {
        items: Vec::new(),
        code: "credentials",
    });
    run("keys", &|f| {
        strings_of_rules(stack, f, &mut credentials_in_rules.borrow_mut())
    });
    credentials_found
        .items
        .extend(credentials_in_rules.into_inner().items);
    run("components", &|f| components::check(stack, f));
    run("ports", &|f| ports::check(stack, f));
    run("secrets", &|f| secrets::check(stack, f));
    run("scrape", &|f| scrape::check(stack, f));
    run("rules", &|f| rules::check(stack, &index, f));
    run("alerting", &|f| alerting::check(stack, f));
    run("routing", &|f| routing::check(stack, &index, f));
    run("tests", &|f| {
        crate::ruletest::check::check(stack, &index, f)
    });
    run("dashboards", &|f| dashboards::check(stack, &index, f));
    run("dashboards", &|f| panel_queries::check(stack, f));
    run("metrics", &|f| metrics_catalog::check(stack, &index, f));
    run("version", &|f| version::check(stack, &index, f));
    run("security", &|f| security::check(stack, f));
    run("hosts", &|f| hosts::check(stack, f));
    run("deployment", &|f| deployment::check(stack, f));
    run("logs", &|f| logs::check(stack, f));
    run("mount-path", &|f| inputs::check(stack, f));
    found.items.extend(credentials_found.items);
    found.items
}

/// `keys` and `credentials` over `rules.FILE[i]`, one rule group at a time, as
/// they would walk them inside the whole serialised stack.
fn strings_of_rules(stack: &Stack, keys_found: &mut Findings, credentials_found: &mut Findings) {
    use crate::yaml::node::Seg;
    let mut path: Path = vec![Seg::Key("rules".to_string())];
    for (file, groups) in &stack.rules {
        path.push(Seg::Key(file.clone()));
        keys::key_problem(file, &path, keys_found);
        for (i, group) in groups.iter().enumerate() {
            path.push(Seg::Index(i));
            if let Ok(value) = serde_json::to_value(group) {
                keys::walk(&value, &mut path, keys_found);
                credentials::walk(&value, &mut path, credentials_found);
            }
            path.pop();
        }
        path.pop();
    }
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
pub use rules::promql_hint as rules_promql_hint;

#[cfg(test)]
mod tests {
    use super::*;

    /// What `keys` and `credentials` found when they walked one serialised
    /// copy of the whole stack, rules included.
    fn whole_stack_walk(stack: &Stack) -> Vec<(String, String)> {
        let value = serde_json::to_value(stack).expect("serialises");
        let mut keys_found = Findings {
            items: Vec::new(),
            code: "keys",
        };
        keys::check(stack, Some(&value), &mut keys_found);
        let mut credentials_found = Findings {
            items: Vec::new(),
            code: "credentials",
        };
        credentials::check(Some(&value), &mut credentials_found);
        keys_found
            .items
            .into_iter()
            .chain(credentials_found.items)
            .map(|d| (format!("{:?}", d.path), d.message))
            .collect()
    }

    #[test]
    fn rule_groups_walked_one_at_a_time_find_what_the_whole_copy_found() {
        let spec = "stackctl: 1\nname: t\ncomponents:\n  prometheus:\n    extra_args: [\"--web.config.password=hunter2\"]\nrules:\n  app:\n    - name: g\n      rules:\n        - alert: A\n          expr: up == 0\n          labels: {severity: page}\n          annotations:\n            runbook: \"https://ops:s3cret@wiki.example/a?token=abc\"\n        - record: \"x:y\"\n          expr: sum(up)\n  \"other\":\n    - name: h\n      rules:\n        - alert: B\n          expr: up == 1\n          annotations: {link: \"https://wiki.example/b?api_key=k\"}\n";
        let loaded = crate::load::load_text("stack.yaml", spec.to_string());
        let stack = loaded.stack.expect("loads");
        let expected = whole_stack_walk(&stack);
        // Findings in rules and outside them, so both halves are compared.
        assert!(
            expected.iter().any(|(p, _)| p.contains("\"rules\"")),
            "{expected:?}"
        );
        assert!(
            expected.iter().any(|(p, _)| p.contains("extra_args")),
            "{expected:?}"
        );
        let all = stack_with(&stack, &mut prefetch::Prefetched::default());
        let mut got: Vec<(String, String)> = all
            .into_iter()
            .filter(|d| matches!(d.code, Some("keys" | "credentials")))
            .map(|d| (format!("{:?}", d.path), d.message))
            .collect();
        let mut expected = expected;
        got.sort();
        expected.sort();
        assert_eq!(got, expected);
        // The switch is off again: a stack serialised afterwards has its rules.
        let value = serde_json::to_value(&stack).expect("serialises");
        assert!(value.get("rules").is_some());
    }
}
