//! `stackctl verify`: prove the running stack works, end to end.
//!
//! The checks are derived from the spec and its plan, never listed per
//! profile: each enabled component's liveness and readiness, the exporters'
//! metrics, and the deep checks a person would otherwise click through
//! (Prometheus runs the rendered config with every target up and every rule
//! evaluating; Alertmanager has the declared receivers; Grafana has every
//! datasource and dashboard; with `--deep`, panel queries return data and a
//! log line and a span make it through Loki and Jaeger).
//!
//! Probes run concurrently on one tokio runtime, each bounded by its own
//! timeout; `--wait` retries failing probes with backoff until a deadline.
//! tokio and reqwest stay inside this module.
//!
//! The files form layers (a test below keeps it so): `check`, `http`,
//! `yamlvalue`, `exposition` and `endpoints` at the bottom; `context` (what
//! checks are derived from), `probe` (a probe and the `Work` trait its work
//! implements) and `shared` (helpers several check modules use) above them;
//! the check modules (`basic`, `prometheus`, `alertmanager`, `grafana`,
//! `panels`, `roundtrip`, `credentials`), each deriving its probes and
//! implementing their work; `runner` and `report`; and this file, which
//! picks the modules per component.

mod alertmanager;
mod basic;
pub mod check;
mod context;
mod credentials;
pub mod endpoints;
pub mod exposition;
mod grafana;
pub mod http;
mod panels;
mod probe;
mod prometheus;
pub mod report;
mod roundtrip;
mod runner;
mod shared;
mod yamlvalue;

pub use check::{CheckResult, Report, Status};
pub use context::{Context, Secrets};
pub use endpoints::{Endpoints, Override};
pub use http::BasicAuth;
pub use probe::Probe;
pub use runner::Options;
pub use yamlvalue::parse_yaml;

use crate::model::Kind;

/// The probes for the enabled components (all of them, or only those named).
pub fn derive(cx: &Context<'_>, only: &[Kind]) -> Vec<Probe> {
    let mut out = Vec::new();
    for kind in cx.stack.components.enabled_kinds() {
        if !only.is_empty() && !only.contains(&kind) {
            continue;
        }
        match kind {
            Kind::Prometheus => prometheus::derive(cx, &mut out),
            Kind::Alertmanager => {
                alertmanager::derive(cx, &mut out);
                credentials::derive(cx, &mut out);
            }
            Kind::Grafana => {
                basic::derive(cx, kind, &mut out);
                grafana::derive(cx, &mut out);
                if cx.deep {
                    panels::derive(cx, &mut out);
                }
            }
            Kind::Loki | Kind::Jaeger => {
                basic::derive(cx, kind, &mut out);
                if cx.deep {
                    roundtrip::derive(cx, kind, &mut out);
                }
            }
            _ => basic::derive(cx, kind, &mut out),
        }
    }
    out
}

/// How long a plain verify waits for first scrapes and rule evaluations
/// (zero without Prometheus).
pub fn first_round_bound(cx: &Context<'_>) -> std::time::Duration {
    prometheus::first_round_bound(cx).unwrap_or_default()
}

/// Runs the probes and gathers the report.
pub fn run(probes: Vec<Probe>, opts: &Options) -> anyhow::Result<Report> {
    runner::run(probes, opts)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Which sibling modules (or `mod` itself, for items of this file) each
    /// file of `verify/` uses through `super::`, outside its unit tests.
    fn module_uses() -> BTreeMap<String, BTreeSet<String>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/verify");
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("src/verify") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(&path).expect("source");
                files.insert(name, text);
            }
        }
        let siblings: BTreeSet<String> = files.keys().cloned().collect();
        let path = regex::Regex::new(r"\bsuper::(?:\{([^}]*)\}|(\w+))").unwrap();
        let mut uses = BTreeMap::new();
        for (name, text) in &files {
            if name == "mod" {
                continue;
            }
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let mut used = BTreeSet::new();
            for c in path.captures_iter(code) {
                let idents: Vec<&str> = match (c.get(1), c.get(2)) {
                    (Some(list), _) => list
                        .as_str()
                        .split(',')
                        .map(|i| i.trim().split("::").next().unwrap_or_default())
                        .collect(),
                    (_, Some(one)) => vec![one.as_str()],
                    _ => Vec::new(),
                };
                for ident in idents.into_iter().filter(|i| !i.is_empty()) {
                    used.insert(if siblings.contains(ident) {
                        ident.to_string()
                    } else {
                        "mod".to_string()
                    });
                }
            }
            uses.insert(name.clone(), used);
        }
        // `mod.rs` declares and dispatches to every module.
        uses.insert(
            "mod".into(),
            siblings.into_iter().filter(|s| s != "mod").collect(),
        );
        uses
    }

    /// A cycle through `from`, if there is one (depth-first).
    fn cycle(
        uses: &BTreeMap<String, BTreeSet<String>>,
        from: &str,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == from) {
            let mut found = path[start..].to_vec();
            found.push(from.to_string());
            return Some(found);
        }
        path.push(from.to_string());
        for next in uses.get(from).into_iter().flatten() {
            if let Some(found) = cycle(uses, next, path) {
                return Some(found);
            }
        }
        path.pop();
        None
    }

    // Issue 10: `probe.rs` named every module's check type while every module
    // built probes, and the modules reached into each other and into
    // `mod.rs`. Now each module uses only modules below it.
    #[test]
    fn verify_modules_form_layers_without_a_cycle() {
        let uses = module_uses();
        for name in uses.keys() {
            if let Some(found) = cycle(&uses, name, &mut Vec::new()) {
                panic!("verify/ has a cycle: {}", found.join(" -> "));
            }
        }
        // The probe and the shared helpers name no check module.
        for leaf in ["probe", "shared", "context", "check", "http"] {
            let used = &uses[leaf];
            assert!(
                used.iter().all(
                    |u| ["check", "http", "yamlvalue", "endpoints", "exposition"]
                        .contains(&u.as_str())
                ),
                "{leaf} uses {used:?}"
            );
        }
    }
}
