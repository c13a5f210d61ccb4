//! Dashboards brought as JSON files (`dashboards[].file`), checked like the
//! spec's own panels, with every finding placed in the JSON file itself
//! (`dashboards/node.json:LINE:COL`):
//!
//! - the PromQL of every target of a Prometheus datasource, of every query
//!   variable (`label_values(…)`, `query_result(…)`) and of every annotation
//!   query (`annotations.list[].expr`), with Grafana's variables substituted
//!   (`promql::grafana`, shared with spec panels), parsed as the pinned
//!   Prometheus release reads it, and variables the dashboard does not define;
//! - what spec panels get from the same facts: metrics that no scrape job of
//!   the stack produces (`metrics_catalog::Judge`), and functions the pinned
//!   Prometheus lacks or gates behind a flag (`version::expression_findings`);
//! - panel types the pinned Grafana no longer has (`graph`, `singlestat`,
//!   `table-old`, the Angular plugins), with the type Grafana migrates each to;
//! - import placeholders (`__inputs`, `${DS_PROMETHEUS}`) that file
//!   provisioning leaves unresolved, unless the spec binds them (`inputs.rs`);
//! - datasource UIDs and names that the stack does not provision.
//!
//! Panels are found wherever Grafana finds them: `panels`, the panels inside
//! rows (a collapsed row holds its panels in its own `panels`), the legacy
//! `rows[].panels` of schema < 16, and library panels exported in `__elements`.
//! A panel without a datasource uses the dashboard default (the stack's default
//! datasource); a target without one uses its panel's (under `-- Mixed --`, the default).

pub mod inputs;
mod json;

use crate::check::metrics_catalog::{self, Judge};
use crate::check::promql::{self, Dialect};
use crate::diag::{Diagnostic, Source};
use crate::model::stack::{Dashboard, Datasource};
use crate::model::types::Version;
use crate::model::{Kind, Stack};
use crate::yaml::node::Region;
use json::{Lines, Object, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Checks dashboard `d` of the stack, whose file (named `shown` in messages)
/// holds `text`, already known to be valid JSON.
pub fn check(stack: &Stack, d: usize, shown: &str, text: &str) -> Vec<Diagnostic> {
    let Some(dash) = stack.dashboards.get(d) else {
        return Vec::new();
    };
    let Some(tree) = json::parse(text) else {
        return Vec::new();
    };
    let source = Arc::new(Source {
        name: shown.to_string(),
        text: text.to_string(),
    });
    let sources = super::dashboards::effective_datasources(stack);
    let mut c = Checker {
        dash,
        d,
        source,
        lines: Lines::new(text),
        default: default_kind(&sources),
        sources,
        grafana: stack.version_of(Kind::Grafana),
        prometheus: stack.version_of(Kind::Prometheus),
        dialect: Dialect::of(stack),
        experimental: super::version::experimental_enabled(stack),
        judge: Judge::new(stack),
        variables: BTreeMap::new(),
        inputs: BTreeMap::new(),
        found: Vec::new(),
        unknown: BTreeMap::new(),
    };
    let Value::Object(root) = &tree else {
        return Vec::new();
    };
    // An API export wraps the dashboard: `{"dashboard": {…}, "meta": {…}}`.
    let root = json::get_object(root, "dashboard").unwrap_or(root);
    c.read_inputs(root, text);
    c.read_variables(root);
    c.variable_queries(root);
    c.annotation_queries(root);
    if let Some(panels) = json::get_array(root, "panels") {
        c.panels(panels);
    }
    if let Some(rows) = json::get_array(root, "rows") {
        for row in &rows.elements {
            if let Value::Object(row) = row {
                if let Some(panels) = json::get_array(row, "panels") {
                    c.panels(panels);
                }
            }
        }
    }
    if let Some(elements) = json::get_object(root, "__elements") {
        for element in &elements.properties {
            if let Value::Object(e) = &element.value {
                if let Some(model) = json::get_object(e, "model") {
                    c.panel(model);
                }
            }
        }
    }
    c.finish();
    c.found
}

/// What a datasource reference comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ds {
    /// PromQL: a Prometheus datasource.
    Prometheus,
    /// `-- Mixed --`: each target names its own.
    Mixed,
    /// Another kind (Loki, Grafana's built-in, a plugin): not PromQL.
    Other,
    /// Not known (a reference the stack cannot resolve, already reported).
    Unknown,
}

fn kind_of(plugin: &str) -> Ds {
    match plugin {
        "prometheus" => Ds::Prometheus,
        "" => Ds::Unknown,
        _ => Ds::Other,
    }
}

fn default_kind(sources: &[Datasource]) -> Ds {
    sources
        .iter()
        .find(|s| s.default == Some(true))
        .or_else(|| sources.first())
        .map_or(Ds::Unknown, |s| kind_of(s.kind.as_str()))
}

/// A template variable of the dashboard.
struct Var {
    /// For a datasource variable, the plugin type it lists (`prometheus`).
    datasource_of: Option<String>,
}

/// An `__inputs` entry and whether the spec binds it.
struct Input {
    plugin: Option<String>,
    region: Region,
    binding: inputs::Binding,
    used: bool,
}

struct Checker<'s> {
    dash: &'s Dashboard,
    d: usize,
    source: Arc<Source>,
    lines: Lines<'s>,
    sources: Vec<Datasource>,
    default: Ds,
    grafana: Version,
    /// The pinned Prometheus, its PromQL dialect and whether experimental
    /// functions are enabled.
    prometheus: Version,
    dialect: Dialect,
    experimental: bool,
    /// What the stack's scrape jobs produce; `None` without Prometheus.
    judge: Option<Judge<'s>>,
    variables: BTreeMap<String, Var>,
    inputs: BTreeMap<String, Input>,
    found: Vec<Diagnostic>,
    /// Datasource references the stack does not provision: first place, count.
    unknown: BTreeMap<String, (Region, usize, &'static str)>,
}

impl<'s> Checker<'s> {
    fn push(&mut self, d: Diagnostic, region: Region) {
        self.found.push(d.in_source(&self.source, region));
    }

    fn read_inputs(&mut self, root: &Object<'_>, text: &str) {
        let Some(list) = json::get_array(root, "__inputs") else {
            return;
        };
        let parsed: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let parsed = parsed.get("dashboard").unwrap_or(&parsed);
        let declared = inputs::read(parsed);
        for (entry, value) in declared.iter().zip(list.elements.iter()) {
            let region = match value {
                Value::Object(o) => {
                    json::get(o, "name").map_or(self.lines.region(value), |v| self.lines.region(v))
                }
                _ => self.lines.region(value),
            };
            let used = text.contains(&format!("${{{}}}", entry.name));
            self.inputs.insert(
                entry.name.clone(),
                Input {
                    plugin: entry.plugin.clone(),
                    region,
                    binding: inputs::bind(self.dash, &self.sources, entry),
                    used,
                },
            );
        }
    }

    fn read_variables(&mut self, root: &Object<'_>) {
        for var in variable_list(root) {
            let Some(name) = json::get_str(var, "name") else {
                continue;
            };
            let datasource_of = (json::get_str(var, "type") == Some("datasource"))
                .then(|| json::get_str(var, "query").unwrap_or_default().to_string());
            self.variables
                .insert(name.to_string(), Var { datasource_of });
        }
    }

    /// `label_values(EXPR, label)` and `query_result(EXPR)` of query variables.
    fn variable_queries(&mut self, root: &Object<'_>) {
        for var in variable_list(root) {
            if json::get_str(var, "type") != Some("query") {
                continue;
            }
            let ds = self.resolve(json::get(var, "datasource"), self.default);
            if ds != Ds::Prometheus {
                continue;
            }
            // `query` is a string, or `{"query": "…", "refId": …}` since Grafana 9.
            let query = match json::get(var, "query") {
                Some(Value::Object(q)) => json::get(q, "query"),
                other => other,
            };
            let Some(query @ Value::StringLit(lit)) = query else {
                continue;
            };
            if let Some((base, inner)) = promql::variable_promql(&lit.value) {
                let name = json::get_str(var, "name").unwrap_or_default();
                self.promql(query, inner, base, &format!("variable `{name}`"));
            }
        }
    }

    /// Annotation queries of a Prometheus datasource (`annotations.list[]`
    /// with an `expr`); Grafana's built-in annotation queries no datasource.
    fn annotation_queries(&mut self, root: &Object<'_>) {
        let Some(list) =
            json::get_object(root, "annotations").and_then(|a| json::get_array(a, "list"))
        else {
            return;
        };
        for a in &list.elements {
            let Value::Object(a) = a else { continue };
            let ds = self.resolve(json::get(a, "datasource"), self.default);
            if ds != Ds::Prometheus {
                continue;
            }
            if let Some(expr @ Value::StringLit(lit)) = json::get(a, "expr") {
                if !lit.value.trim().is_empty() {
                    let name = json::get_str(a, "name").unwrap_or_default().to_string();
                    self.promql(expr, &lit.value, 0, &format!("annotation `{name}`"));
                }
            }
        }
    }

    fn panels(&mut self, panels: &json::Array<'_>) {
        for p in &panels.elements {
            if let Value::Object(p) = p {
                self.panel(p);
            }
        }
    }

    fn panel(&mut self, p: &Object<'_>) {
        let title = json::get_str(p, "title").unwrap_or_default().to_string();
        if let Some(ty @ Value::StringLit(lit)) = json::get(p, "type") {
            self.panel_type(p, ty, &lit.value, &title);
        }
        if json::get_str(p, "type") == Some("row") {
            // A row runs no queries: its `datasource` and `targets` (left over
            // in some exports) are never used. Its panels are.
            if let Some(nested) = json::get_array(p, "panels") {
                self.panels(nested);
            }
            return;
        }
        let ds = self.resolve(json::get(p, "datasource"), self.default);
        let inherited = if ds == Ds::Mixed { self.default } else { ds };
        if let Some(targets) = json::get_array(p, "targets") {
            for t in &targets.elements {
                let Value::Object(t) = t else { continue };
                let target_ds = self.resolve(json::get(t, "datasource"), inherited);
                if target_ds != Ds::Prometheus {
                    continue;
                }
                if let Some(expr @ Value::StringLit(lit)) = json::get(t, "expr") {
                    if !lit.value.trim().is_empty() {
                        self.promql(expr, &lit.value, 0, &format!("panel `{title}`"));
                    }
                }
            }
        }
        // A row's panels (collapsed rows keep them here).
        if let Some(nested) = json::get_array(p, "panels") {
            self.panels(nested);
        }
    }

    fn panel_type(&mut self, p: &Object<'_>, node: &Value<'_>, ty: &str, title: &str) {
        let Some(removed) = REMOVED.iter().find(|r| r.kind == ty) else {
            return;
        };
        let replacement = if ty == "graph" {
            graph_replacement(p)
        } else {
            removed.replacement
        };
        let v = &self.grafana;
        let (major, what) = if removed.angular {
            (12, "removed with Angular in Grafana 12")
        } else {
            (8, "removed in Grafana 8")
        };
        let hint = format!(
            "Grafana migrates it to `{replacement}` when the dashboard loads, dropping options that have no equivalent; change the panel to `\"type\": \"{replacement}\"` and review it"
        );
        let region = self.lines.region(node);
        if v.at_least(major, 0, 0) {
            let d = Diagnostic::error(format!(
                "panel `{title}` has type `{ty}`, which was {what} (this stack pins Grafana {v})"
            ));
            self.push(d.with_hint(hint).with_code("dashboards"), region);
        } else if removed.angular && v.at_least(11, 0, 0) {
            let d = Diagnostic::warning(format!(
                "panel `{title}` has type `{ty}`, an Angular panel, off by default since Grafana 11"
            ));
            self.push(d.with_hint(hint).with_code("dashboards"), region);
        }
    }

    /// Resolves a datasource reference (a legacy name string, `{type, uid}`,
    /// a variable, an import placeholder); `inherited` when there is none.
    fn resolve(&mut self, reference: Option<&Value<'_>>, inherited: Ds) -> Ds {
        match reference {
            None | Some(Value::NullKeyword(_)) => inherited,
            Some(node @ Value::StringLit(s)) => self.resolve_ref(&s.value, None, node, "name"),
            Some(Value::Object(o)) => {
                let ty = json::get_str(o, "type");
                match json::get(o, "uid") {
                    Some(node @ Value::StringLit(uid)) => {
                        self.resolve_ref(&uid.value, ty, node, "uid")
                    }
                    _ => ty.map_or(inherited, kind_of),
                }
            }
            Some(_) => inherited,
        }
    }

    fn resolve_ref(
        &mut self,
        text: &str,
        ty: Option<&str>,
        node: &Value<'_>,
        what: &'static str,
    ) -> Ds {
        let typed = ty.map_or(Ds::Unknown, kind_of);
        match text {
            "-- Mixed --" => return Ds::Mixed,
            "-- Grafana --" | "grafana" | "-- Dashboard --" => return Ds::Other,
            "" => return typed,
            _ => {}
        }
        if let Some(name) = whole_variable(text) {
            if let Some(input) = self.inputs.get(name) {
                return input.plugin.as_deref().map_or(typed, kind_of);
            }
            if let Some(var) = self.variables.get(name) {
                return match &var.datasource_of {
                    Some(plugin) => kind_of(plugin),
                    // A constant or custom variable holding a UID.
                    None => typed,
                };
            }
            let region = self.lines.region(node);
            let entry = self
                .unknown
                .entry(text.to_string())
                .or_insert((region, 0, "variable"));
            entry.1 += 1;
            return typed;
        }
        let found = self
            .sources
            .iter()
            .find(|s| s.uid == text)
            .or_else(|| self.sources.iter().find(|s| s.name == text));
        match found {
            Some(s) => kind_of(s.kind.as_str()),
            None => {
                let region = self.lines.region(node);
                let entry = self
                    .unknown
                    .entry(text.to_string())
                    .or_insert((region, 0, what));
                entry.1 += 1;
                typed
            }
        }
    }

    /// Checks one PromQL text: `node` is the JSON string holding it, `base`
    /// where the PromQL starts inside that string.
    fn promql(&mut self, node: &Value<'_>, expr: &str, base: usize, what: &str) {
        let start = json::range(node).start;
        let substituted = promql::grafana::substitute(expr);
        match promql::analyse_in(&substituted.text, &self.dialect) {
            Err(e) => {
                let offset = base + substituted.original_offset(e.offset);
                let d = Diagnostic::error(format!(
                    "invalid PromQL in {what} of dashboard `{}`: {}",
                    self.dash.uid, e.message
                ))
                .with_hint(super::rules::promql_hint(&e.message))
                .with_code("promql");
                let region = self.lines.char_in_string(start, offset);
                self.push(d, region);
            }
            Ok(facts) => self.facts(&facts, expr, base, start),
        }
        let defined: Vec<&str> = self.variables.keys().map(String::as_str).collect();
        let mut undefined = Vec::new();
        for (offset, name) in super::dashboards::variable_refs(expr) {
            if super::dashboards::is_builtin_variable(&name)
                || defined.contains(&name.as_str())
                || self.inputs.contains_key(&name)
            {
                continue;
            }
            let hint = match crate::yaml::de::did_you_mean(&name, &defined) {
                Some(best) => format!("did you mean `${best}`?"),
                None => "define it under `templating.list`, or write the value".to_string(),
            };
            undefined.push((base + offset, name, hint));
        }
        for (offset, name, hint) in undefined {
            let d = Diagnostic::warning(format!(
                "{what} uses `${name}`, which dashboard `{}` does not define",
                self.dash.uid
            ))
            .with_hint(hint)
            .with_code("dashboard-variable");
            let region = self.lines.char_in_string(start, offset);
            self.push(d, region);
        }
    }

    /// What spec panels get from an expression's facts: metrics nothing in
    /// the stack produces, functions the pinned Prometheus lacks. `expr` is
    /// the text as written (metric and function names survive substitution).
    fn facts(&mut self, facts: &promql::Facts, expr: &str, base: usize, start: usize) {
        let mut found: Vec<(usize, Diagnostic)> = Vec::new();
        if let Some(judge) = &self.judge {
            for metric in &facts.metrics {
                if let Some(d) = judge.judge(metric) {
                    let offset = metrics_catalog::find_word(expr, metric).unwrap_or(0);
                    found.push((offset, d));
                }
            }
            for (needle, d) in
                super::version::expression_findings(facts, &self.prometheus, self.experimental)
            {
                found.push((char_offset(expr, &needle), d));
            }
        }
        for (offset, d) in found {
            let region = self.lines.char_in_string(start, base + offset);
            self.push(d, region);
        }
    }

    /// Findings that are known only once the whole file is read.
    fn finish(&mut self) {
        let inputs: Vec<(String, Option<String>, Region, inputs::Binding, bool)> = self
            .inputs
            .iter()
            .map(|(n, i)| {
                (
                    n.clone(),
                    i.plugin.clone(),
                    i.region,
                    i.binding.clone(),
                    i.used,
                )
            })
            .collect();
        for (name, plugin, region, binding, used) in inputs {
            match binding {
                inputs::Binding::Unbound if used => {
                    let target = match plugin.as_deref() {
                        Some(p) => match inputs::datasource_for(&self.sources, p) {
                            Some(ds) => format!("the stack's `{}` datasource", ds.uid),
                            None => format!("a `{p}` datasource"),
                        },
                        None => "its value".into(),
                    };
                    let d = Diagnostic::error(format!(
                        "dashboard file uses import placeholder `${{{name}}}` (declared in `__inputs`), which file provisioning leaves unresolved"
                    ))
                    .with_hint(format!(
                        "set `bind_inputs: true` on dashboard `{}` in the spec to bind it to {target} when rendering, or name the binding: `inputs: {{{name}: UID}}`",
                        self.dash.uid
                    ))
                    .with_code("dashboard-input");
                    self.push(d, region);
                }
                inputs::Binding::Invalid(message, hint) => {
                    let d = Diagnostic::error(message)
                        .with_hint(hint)
                        .with_code("dashboard-input");
                    self.push(d, region);
                }
                _ => {}
            }
        }
        // Bindings the spec names for inputs the file does not declare.
        for name in self.dash.inputs.keys() {
            if !self.inputs.contains_key(name) {
                let declared: Vec<&str> = self.inputs.keys().map(String::as_str).collect();
                let hint = match crate::yaml::de::did_you_mean(name, &declared) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None if declared.is_empty() => {
                        format!("`{}` has no `__inputs`", self.source.name)
                    }
                    None => format!(
                        "its inputs are {}",
                        declared
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.found.push(
                    Diagnostic::error(format!("`{}` declares no input `{name}`", self.source.name))
                        .with_hint(hint)
                        .with_code("dashboard-input")
                        .at_key(crate::path!["dashboards", self.d, "inputs", name]),
                );
            }
        }
        let uids: Vec<String> = self.sources.iter().map(|s| s.uid.clone()).collect();
        let uids: Vec<&str> = uids.iter().map(String::as_str).collect();
        let unknown = std::mem::take(&mut self.unknown);
        for (reference, (region, count, what)) in unknown {
            let more = match count {
                1 => String::new(),
                n => format!(" ({n} places; this is the first)"),
            };
            let (message, hint) = if what == "variable" {
                (
                    format!("datasource `{reference}` is neither a variable of this dashboard nor one of its `__inputs`{more}"),
                    "define a datasource variable (`\"type\": \"datasource\"`), or use a datasource uid of the stack".to_string(),
                )
            } else {
                let hint = match crate::yaml::de::did_you_mean(&reference, &uids) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "the stack provisions {}; set `uid:` on a datasource under `datasources:` to match, or change the dashboard",
                        if uids.is_empty() {
                            "no datasource".to_string()
                        } else {
                            uids.iter()
                                .map(|u| format!("`{u}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ),
                };
                (
                    format!(
                        "datasource {what} `{reference}` is not provisioned by this stack{more}"
                    ),
                    hint,
                )
            };
            let d = Diagnostic::error(message)
                .with_hint(hint)
                .with_code("dashboard-datasource");
            self.push(d, region);
        }
    }
}

/// Character offset of the first occurrence of `needle` in `text` (0 when absent).
fn char_offset(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map_or(0, |byte| text[..byte].chars().count())
}

/// `templating.list`.
fn variable_list<'b, 'a>(root: &'b Object<'a>) -> Vec<&'b Object<'a>> {
    json::get_object(root, "templating")
        .and_then(|t| json::get_array(t, "list"))
        .map(|l| {
            l.elements
                .iter()
                .filter_map(|v| match v {
                    Value::Object(o) => Some(o),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The variable name when `text` is one variable reference and nothing else:
/// `$ds`, `${ds}`, `${ds:raw}`, `[[ds]]`.
fn whole_variable(text: &str) -> Option<&str> {
    let name = if let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
        inner.split(':').next().unwrap_or("")
    } else if let Some(inner) = text.strip_prefix("[[").and_then(|t| t.strip_suffix("]]")) {
        inner.split(':').next().unwrap_or("")
    } else {
        text.strip_prefix('$')?
    };
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

/// A panel type the pinned Grafana no longer has, and what Grafana migrates it to.
struct RemovedPanel {
    kind: &'static str,
    replacement: &'static str,
    /// An Angular panel (gone in Grafana 12, off by default in 11) rather
    /// than `singlestat` (gone in 8).
    angular: bool,
}

/// Grafana's own migration table (`autoMigrateAngular` in
/// `public/app/features/dashboard/state/PanelModel.ts` and
/// `applyPanelAutoMigration` in `apps/dashboard/pkg/migration/frontend_defaults.go`).
const REMOVED: [RemovedPanel; 7] = [
    RemovedPanel {
        kind: "graph",
        replacement: "timeseries",
        angular: true,
    },
    RemovedPanel {
        kind: "table-old",
        replacement: "table",
        angular: true,
    },
    RemovedPanel {
        kind: "singlestat",
        replacement: "stat",
        angular: false,
    },
    RemovedPanel {
        kind: "grafana-singlestat-panel",
        replacement: "stat",
        angular: true,
    },
    RemovedPanel {
        kind: "grafana-piechart-panel",
        replacement: "piechart",
        angular: true,
    },
    RemovedPanel {
        kind: "grafana-worldmap-panel",
        replacement: "geomap",
        angular: true,
    },
    RemovedPanel {
        kind: "natel-discrete-panel",
        replacement: "state-timeline",
        angular: true,
    },
];

/// What Grafana turns a `graph` panel into: by its x-axis mode.
fn graph_replacement(p: &Object<'_>) -> &'static str {
    let mode = json::get_object(p, "xaxis").and_then(|x| json::get_str(x, "mode"));
    match mode {
        Some("series") => {
            let values = json::get_object(p, "legend").is_some_and(|l| json::is_true(l, "values"));
            if values { "bargauge" } else { "barchart" }
        }
        Some("histogram") => "histogram",
        _ => "timeseries",
    }
}

#[cfg(test)]
mod tests;
