//! Grafana datasources and dashboards: stable, unique UIDs; panels that point at
//! a datasource that exists; panel types the pinned Grafana still has.

use super::{Findings, duplicates};
use crate::model::stack::{DatasourceKind, PanelKind};
use crate::model::{Kind, Stack};
use crate::path;
pub use crate::resolve::datasources::{component_for, default_log_index, effective_datasources};

pub fn check(stack: &Stack, index: &super::promql::Index<'_>, found: &mut Findings) {
    queries(stack, index, found);
    let sources = effective_datasources(stack);
    if let Some(list) = &stack.datasources {
        duplicates(
            found,
            "datasource uid",
            list.iter()
                .enumerate()
                .map(|(i, d)| (d.uid.as_str(), path!["datasources", i, "uid"])),
        );
        duplicates(
            found,
            "datasource name",
            list.iter()
                .enumerate()
                .map(|(i, d)| (d.name.as_str(), path!["datasources", i, "name"])),
        );
        let defaults: Vec<usize> = list
            .iter()
            .enumerate()
            .filter(|(_, d)| d.default == Some(true))
            .map(|(i, _)| i)
            .collect();
        if defaults.len() > 1 {
            found.error(
                path!["datasources", defaults[1], "default"],
                "more than one datasource is the default",
                "mark exactly one with `default: true`",
            );
        }
        for (i, ds) in list.iter().enumerate() {
            if !is_uid(&ds.uid) {
                found.error(
                    path!["datasources", i, "uid"],
                    format!("invalid datasource uid `{}`", ds.uid),
                    "UIDs are up to 40 letters, digits, `-` and `_`",
                );
            }
            if ds.url.is_none() && !stack.has(component_for(ds.kind)) {
                found.error(
                    path!["datasources", i],
                    format!(
                        "datasource `{}` has no `url` and the stack has no `{}`",
                        ds.name,
                        component_for(ds.kind).key()
                    ),
                    "set `url:` to where it runs, or enable the component",
                );
            }
            if ds.kind != DatasourceKind::Elasticsearch
                && (ds.index.is_some() || ds.time_field.is_some())
            {
                found.error(
                    path!["datasources", i],
                    "`index` and `time_field` apply to Elasticsearch datasources only",
                    "",
                );
            }
        }
    }

    let grafana = stack.version_of(Kind::Grafana);
    duplicates(
        found,
        "dashboard uid",
        stack
            .dashboards
            .iter()
            .enumerate()
            .map(|(i, d)| (d.uid.as_str(), path!["dashboards", i, "uid"])),
    );
    for (d, dash) in stack.dashboards.iter().enumerate() {
        if !is_uid(&dash.uid) {
            found.error(
                path!["dashboards", d, "uid"],
                format!("invalid dashboard uid `{}`", dash.uid),
                "UIDs are up to 40 letters, digits, `-` and `_`; they also name the JSON file",
            );
        }
        match (&dash.file, dash.rows.is_empty()) {
            (Some(_), false) => found.error(
                path!["dashboards", d, "file"],
                "a dashboard is either a JSON `file` or `rows` of panels, not both",
                "",
            ),
            (None, true) => found.error(
                path!["dashboards", d],
                format!("dashboard `{}` has no rows", dash.uid),
                "add `rows:` with panels, or `file:`",
            ),
            (None, false) if dash.title.is_none() => found.error(
                path!["dashboards", d],
                format!("dashboard `{}` has no `title`", dash.uid),
                "",
            ),
            _ => {}
        }
        if dash.file.is_none() && (dash.bind_inputs.is_some() || !dash.inputs.is_empty()) {
            let key = if dash.bind_inputs.is_some() {
                "bind_inputs"
            } else {
                "inputs"
            };
            found.error_at_key(
                path!["dashboards", d, key],
                format!("`{key}` binds the `__inputs` of a dashboard `file`, and this dashboard has none"),
                "remove it, or set `file:`",
            );
        }
        if let Some(file) = &dash.file {
            let p = std::path::Path::new(file);
            if p.is_absolute()
                || p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                found.error(
                    path!["dashboards", d, "file"],
                    format!("dashboard file `{file}` is outside the stack directory"),
                    "use a path relative to the stack directory",
                );
            }
        }
        let mut panel_count = 0;
        for (r, row) in dash.rows.iter().enumerate() {
            for (p, panel) in row.panels.iter().enumerate() {
                panel_count += 1;
                let at = path!["dashboards", d, "rows", r, "panels", p];
                let sub = |key: &str| {
                    let mut x = at.clone();
                    x.push(crate::yaml::node::Seg::Key(key.to_string()));
                    x
                };
                match panel.kind {
                    PanelKind::Singlestat if grafana.at_least(8, 0, 0) => found.error(
                        sub("type"),
                        format!("panel type `singlestat` was removed in Grafana 8 (this stack pins Grafana {grafana})"),
                        "use `stat`",
                    ),
                    PanelKind::Graph if grafana.at_least(12, 0, 0) => found.error(
                        sub("type"),
                        format!("panel type `graph` was removed with Angular in Grafana 12 (this stack pins Grafana {grafana})"),
                        "use `timeseries`",
                    ),
                    PanelKind::Graph if grafana.at_least(11, 0, 0) => found.warning(
                        sub("type"),
                        "panel type `graph` is an Angular panel, off by default since Grafana 11",
                        "use `timeseries`",
                    ),
                    _ => {}
                }
                if let Some(w) = panel.width {
                    if !(1..=24).contains(&w) {
                        found.error(
                            sub("width"),
                            format!("panel width {w} is outside 1-24"),
                            "Grafana's grid is 24 columns wide",
                        );
                    }
                }
                if panel.height == Some(0) {
                    found.error(sub("height"), "panel height is 0", "");
                }
                if panel.queries.is_empty() {
                    found.error(
                        sub("queries"),
                        format!("panel `{}` has no queries", panel.title),
                        "",
                    );
                }
                if let (Some(min), Some(max)) = (panel.min, panel.max) {
                    if min >= max {
                        found.error(sub("max"), "`max` must be greater than `min`", "");
                    }
                }
                let uids: Vec<&str> = sources.iter().map(|s| s.uid.as_str()).collect();
                match &panel.datasource {
                    Some(uid) if !uids.contains(&uid.as_str()) => {
                        let hint = match crate::yaml::de::did_you_mean(uid, &uids) {
                            Some(best) => format!("did you mean `{best}`?"),
                            None => format!(
                                "datasources are {}",
                                uids.iter()
                                    .map(|u| format!("`{u}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        };
                        found.error(
                            sub("datasource"),
                            format!("panel refers to undefined datasource `{uid}`"),
                            hint,
                        );
                    }
                    None if !sources.iter().any(|s| s.kind == DatasourceKind::Prometheus) => found
                        .error(
                            sub("datasource"),
                            "panel has no datasource and the stack has no Prometheus datasource",
                            "set `datasource:` to a datasource uid",
                        ),
                    _ => {}
                }
                for (t, threshold) in panel.thresholds.iter().enumerate() {
                    if t == 0 && threshold.value.is_some() {
                        found.warning(
                            path![
                                "dashboards",
                                d,
                                "rows",
                                r,
                                "panels",
                                p,
                                "thresholds",
                                0,
                                "value"
                            ],
                            "the first threshold is the base colour and takes no value",
                            "remove `value` from the first step",
                        );
                    }
                    if t > 0 && threshold.value.is_none() {
                        found.error(
                            path!["dashboards", d, "rows", r, "panels", p, "thresholds", t],
                            "every threshold after the first needs a `value`",
                            "",
                        );
                    }
                }
            }
        }
        let _ = panel_count;
        for (v, var) in dash.variables.iter().enumerate() {
            if !crate::model::types::LabelName::is_valid(&var.name) {
                found.error(
                    path!["dashboards", d, "variables", v, "name"],
                    format!("invalid variable name `{}`", var.name),
                    "use letters, digits and `_`",
                );
            }
        }
    }
}

/// Dashboard queries and variable queries: PromQL that parses once Grafana's
/// variables are filled in, and variables that the dashboard defines.
fn queries(stack: &Stack, index: &super::promql::Index<'_>, found: &mut Findings) {
    use super::promql::Site;
    for entry in &index.entries {
        let (dashboard, what) = match entry.site {
            Site::Query {
                dashboard,
                row,
                panel,
                ..
            } => {
                let title = &stack.dashboards[dashboard].rows[row].panels[panel].title;
                (dashboard, format!("panel `{title}`"))
            }
            Site::Variable {
                dashboard,
                variable,
            } => (
                dashboard,
                format!(
                    "variable `{}`",
                    stack.dashboards[dashboard].variables[variable].name
                ),
            ),
            Site::Rule { .. } => continue,
        };
        if let Err(e) = &entry.result {
            found.push(
                crate::diag::Diagnostic::error(format!(
                    "invalid PromQL in {what} of dashboard `{}`: {}",
                    stack.dashboards[dashboard].uid, e.message
                ))
                .with_hint(super::rules::promql_hint(&e.message))
                .with_code("promql")
                .at(entry.site.path())
                .at_offset(entry.base + e.offset),
            );
        }
    }
    for (d, dash) in stack.dashboards.iter().enumerate() {
        let defined: Vec<&str> = dash.variables.iter().map(|v| v.name.as_str()).collect();
        for (r, row) in dash.rows.iter().enumerate() {
            for (p, panel) in row.panels.iter().enumerate() {
                for (q, query) in panel.queries.iter().enumerate() {
                    for (offset, name) in variable_refs(&query.expr) {
                        if is_builtin_variable(&name) || defined.contains(&name.as_str()) {
                            continue;
                        }
                        let hint = match crate::yaml::de::did_you_mean(&name, &defined) {
                            Some(best) => format!("did you mean `${best}`?"),
                            None => format!(
                                "define it under `dashboards[{d}].variables`, or write the value"
                            ),
                        };
                        found.push(
                            crate::diag::Diagnostic::warning(format!(
                                "panel `{}` uses `${name}`, which dashboard `{}` does not define",
                                panel.title, dash.uid
                            ))
                            .with_hint(hint)
                            .with_code("dashboard-variable")
                            .at(path![
                                "dashboards",
                                d,
                                "rows",
                                r,
                                "panels",
                                p,
                                "queries",
                                q,
                                "expr"
                            ])
                            .at_offset(offset),
                        );
                    }
                }
            }
        }
    }
}

/// Grafana's global variables (`$__interval`, `$__range`, `$__rate_interval`,
/// `$__from`, …), and `$1`, which is a capture group of `label_replace`, not a
/// variable: Grafana variable names never start with a digit.
pub(crate) fn is_builtin_variable(name: &str) -> bool {
    name.starts_with("__") || name.starts_with(|c: char| c.is_ascii_digit())
}

/// `$name`, `${name}`, `${name:fmt}` and `[[name]]` references: (offset, name).
/// A `#` comment (outside a string) runs to the end of its line and refers to nothing.
pub(crate) fn variable_refs(query: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let word = |from: usize| -> String {
        chars[from.min(chars.len())..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
            .collect()
    };
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        match (quote, chars[i]) {
            (Some(q), '\\') if q != '`' => {
                i += 2;
                continue;
            }
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'' | '`') => quote = Some(chars[i]),
            (None, '#') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        let name = match (chars[i], chars.get(i + 1)) {
            ('$', Some('{')) => word(i + 2),
            ('$', _) => word(i + 1),
            ('[', Some('[')) => word(i + 2),
            _ => String::new(),
        };
        if !name.is_empty() {
            out.push((i, name.clone()));
            i += name.chars().count() + 1;
        } else {
            i += 1;
        }
    }
    out
}

pub fn is_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 40
        && uid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
