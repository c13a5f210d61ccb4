//! Rule groups, as Prometheus loads them: unique group names per rule file,
//! each rule either recording or alerting with the fields of its kind, valid
//! recording-rule and label names, expressions that parse (with the position of
//! the problem inside the expression), alert labels and annotations that are
//! valid Go templates, and a `severity` on every alert.

use super::names::{is_file_stem, is_metric_name};
use super::promql::{Index, Site};
use super::{Findings, duplicates, templates};
use crate::diag::Diagnostic;
use crate::model::stack::Rule;
use crate::model::types::LabelName;
use crate::model::{Kind, Stack};
use crate::path;
use crate::yaml::node::{Path, Seg};

pub fn check(stack: &Stack, index: &Index<'_>, found: &mut Findings) {
    let prometheus = stack.version_of(Kind::Prometheus);
    // Prometheus requires group names to be unique within a rule file: an
    // error, at the later occurrence (lists keep document order). The same
    // name in two files is legal, though often a copy-paste slip: a warning.
    for (file, list) in &stack.rules {
        duplicates(
            found,
            "rule group",
            list.iter()
                .enumerate()
                .map(|(g, group)| (group.name.as_str(), path!["rules", file, g, "name"])),
        );
    }
    let mut first_file: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for (file, list) in &stack.rules {
        let mut here = std::collections::BTreeSet::new();
        for (g, group) in list.iter().enumerate() {
            if !here.insert(group.name.as_str()) {
                continue;
            }
            match first_file.get(group.name.as_str()) {
                Some(other) => found.warning(
                    path!["rules", file, g, "name"],
                    format!("rule group `{}` is also defined in rule file `{other}`", group.name),
                    "Prometheus accepts it, but its UI and alerts show the two groups alike; rename one if they differ",
                ),
                None => {
                    first_file.insert(group.name.as_str(), file.as_str());
                }
            }
        }
    }
    for (file, list) in &stack.rules {
        if !is_file_stem(file) {
            found.error_at_key(
                path!["rules", file],
                format!("invalid rule file name `{file}`"),
                "rule file names are letters, digits, `-`, `_` and `.`, at most 100 characters; it becomes `prometheus/rules/NAME.yml`",
            );
        }
        for (g, group) in list.iter().enumerate() {
            if group.name.is_empty() {
                found.error(
                    path!["rules", file, g, "name"],
                    "rule group name is empty",
                    "Prometheus requires a group name",
                );
            }
            if group.rules.is_empty() {
                found.warning(
                    path!["rules", file, g, "rules"],
                    format!("rule group `{}` has no rules", group.name),
                    "add rules or remove the group",
                );
            }
            let mut recorded: std::collections::BTreeMap<(String, Vec<(String, String)>), usize> =
                std::collections::BTreeMap::new();
            for (r, rule) in group.rules.iter().enumerate() {
                let at = path!["rules", file, g, "rules", r];
                check_rule(found, rule, &at, &prometheus);
                if let Some(record) = &rule.record {
                    let labels = rule
                        .labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.clone()))
                        .collect();
                    if let Some(first) = recorded.insert((record.clone(), labels), r) {
                        found.push(
                            Diagnostic::warning(format!(
                                "recording rule `{record}` with the same labels is already rule {} of this group",
                                first + 1
                            ))
                            .with_hint("both write the same series; remove one or give them different labels")
                            .with_code("rule-duplicate")
                            .at(with(&at, "record")),
                        );
                    }
                }
            }
        }
    }
    promql_errors(stack, index, found);
}

fn with(at: &Path, key: &str) -> Path {
    let mut p = at.clone();
    p.push(Seg::Key(key.to_string()));
    p
}

fn check_rule(
    found: &mut Findings,
    rule: &Rule,
    at: &Path,
    prometheus: &crate::model::types::Version,
) {
    match (&rule.record, &rule.alert) {
        (Some(_), Some(_)) => found.error(
            with(at, "alert"),
            "a rule has both `record` and `alert`",
            "split it into a recording rule and an alerting rule",
        ),
        (None, None) => found.error(
            at.clone(),
            "a rule needs `record` (recording rule) or `alert` (alerting rule)",
            "",
        ),
        (Some(record), None) => {
            // Prometheus 3 takes any UTF-8 name; 3.2 refuses braces in it
            // (a selector pasted into `record`, rulefmt says).
            if !prometheus.at_least(3, 0, 0) && !is_metric_name(record) {
                found.error(
                    with(at, "record"),
                    format!("`{record}` is not a valid metric name"),
                    format!(
                        "recording rule names are letters, digits, `_` and `:`, e.g. `job:http_requests:rate5m` \
                         (Prometheus 3 takes any UTF-8 name; this stack pins {prometheus})"
                    ),
                );
            } else if prometheus.at_least(3, 2, 0) && record.contains(['{', '}']) {
                found.error(
                    with(at, "record"),
                    format!("braces in the recording rule name `{record}`"),
                    "a recording rule's name is the metric it writes; the selector belongs in `expr`",
                );
            }
            if rule.for_.as_ref().is_some_and(|d| d.millis() > 0) {
                found.error(
                    with(at, "for"),
                    "`for` applies to alerting rules only",
                    "remove it from this recording rule",
                );
            }
            if rule
                .keep_firing_for
                .as_ref()
                .is_some_and(|d| d.millis() > 0)
            {
                found.error(
                    with(at, "keep_firing_for"),
                    "`keep_firing_for` applies to alerting rules only",
                    "",
                );
            }
            if !rule.annotations.is_empty() {
                found.error(
                    with(at, "annotations"),
                    "annotations apply to alerting rules only",
                    "",
                );
            }
        }
        (None, Some(alert)) => {
            if alert.trim().is_empty() {
                found.error(with(at, "alert"), "alert name is empty", "");
            }
            if !rule.labels.keys().any(|k| k.as_str() == "severity") {
                found.push(
                    Diagnostic::warning(format!("alert `{alert}` has no `severity` label"))
                        .with_hint("add `labels: {severity: warning}` (or `critical`); routes and inhibit rules match on it")
                        .with_code("alert-severity")
                        .at(if rule.labels.is_empty() { with(at, "alert") } else { with(at, "labels") }),
                );
            }
            // Prometheus parses alert labels and annotations as Go templates.
            for (section, map) in [("labels", &rule.labels), ("annotations", &rule.annotations)] {
                for (key, text) in map {
                    if let Some(e) = templates::prometheus(text, prometheus) {
                        let what = if section == "labels" {
                            "label"
                        } else {
                            "annotation"
                        };
                        found.push(
                            Diagnostic::error(format!(
                                "invalid template in {what} `{key}`: {}",
                                e.message
                            ))
                            .with_hint(template_hint(&e.message))
                            .with_code("template")
                            .at(path_with(at, section, key.as_str()))
                            .at_offset(e.offset),
                        );
                    }
                }
            }
        }
    }
    // Prometheus 3 takes any UTF-8 label and annotation name.
    if !prometheus.at_least(3, 0, 0) {
        for (section, what, map) in [
            ("labels", "label", &rule.labels),
            ("annotations", "annotation", &rule.annotations),
        ] {
            for key in map.keys().filter(|k| !LabelName::is_valid(k.as_str())) {
                found.error_at_key(
                    path_with(at, section, key.as_str()),
                    format!("invalid {what} name `{key}`"),
                    format!(
                        "{what} names are letters, digits and `_`, not starting with a digit (e.g. `{}`); \
                         Prometheus 3 takes any UTF-8 name, this stack pins {prometheus}",
                        LabelName::suggestion(key.as_str())
                    ),
                );
            }
        }
    }
    if rule.labels.keys().any(|k| k.as_str() == "__name__") {
        found.error(
            path_with(at, "labels", "__name__"),
            "`__name__` cannot be set as a rule label",
            "the metric name of a recording rule is its `record`",
        );
    }
    if rule.expr.trim().is_empty() {
        found.error(
            with(at, "expr"),
            "`expr` is empty",
            "write the PromQL expression",
        );
    }
}

fn path_with(at: &Path, section: &str, key: &str) -> Path {
    let mut p = with(at, section);
    p.push(Seg::Key(key.to_string()));
    p
}

fn template_hint(message: &str) -> String {
    if message.contains("undefined variable") {
        "alert templates know `$labels`, `$value`, `$externalLabels` and `$externalURL`, e.g. `{{ $labels.instance }}`".into()
    } else if message.contains("not defined") {
        "see the template functions of Prometheus, e.g. `humanize`, `humanizeDuration`, `printf`"
            .into()
    } else if message.contains("unclosed action") {
        "close it with `}}`; write a literal `{{` as `{{ \"{{\" }}`".into()
    } else if message.contains("EOF") {
        "close every `{{ if }}`, `{{ range }}` and `{{ with }}` with `{{ end }}`".into()
    } else {
        "alert labels and annotations are Go templates (text/template)".into()
    }
}

/// Parse errors of rule expressions (in the pinned release's dialect).
fn promql_errors(stack: &Stack, index: &Index<'_>, found: &mut Findings) {
    for entry in index.rules() {
        let Site::Rule { file, group, rule } = entry.site else {
            continue;
        };
        let r = &stack.rules[file][group].rules[rule];
        let what = match (&r.alert, &r.record) {
            (Some(a), _) => format!("alert `{a}`"),
            (None, Some(rec)) => format!("recording rule `{rec}`"),
            _ => "rule".to_string(),
        };
        if let Err(e) = &entry.result {
            found.push(
                Diagnostic::error(format!("invalid PromQL in {what}: {}", e.message))
                    .with_hint(promql_hint(&e.message))
                    .with_code("promql")
                    .at(entry.site.path())
                    .at_offset(e.offset),
            );
        }
    }
}

pub fn promql_hint(message: &str) -> String {
    if message.contains("experimental duration expression") {
        "add `--enable-feature=promql-duration-expr` to `components.prometheus.extra_args` \
         (Prometheus 3.4 or later; on by default from 3.14), or write the duration out: `[1h5m]`"
            .into()
    } else if message.contains("quoted names need Prometheus 3") {
        "write the name unquoted (`{__name__=\"my_metric\"}`, letters, digits and `_`), or pin Prometheus 3".into()
    } else if message.contains("Prometheus 2.54 and later") {
        "write durations with a unit where a range or offset is expected (`300` → `5m`) and numbers elsewhere \
         (`1h` → `3600`), or pin Prometheus 2.54 or later"
            .into()
    } else if message.contains("grouping opts") {
        "`by` and `without` take a list in parentheses: `sum by (job) (...)`".into()
    } else if message.contains("unclosed left parenthesis") || message.contains("right parenthesis")
    {
        "every `(` needs a matching `)`".into()
    } else if message.contains("expected type matrix") {
        "this function takes a range vector: add a range, e.g. `rate(x[5m])`".into()
    } else if message.contains("unknown function") {
        "see the PromQL function list; names are lowercase with underscores".into()
    } else if message.contains("duration") || message.contains("brackets") {
        "durations are a number with a unit: `30s`, `5m`, `1h30m`".into()
    } else if message.contains("label matching") {
        "matchers are `label=\"value\"`, with the value in double quotes".into()
    } else {
        "see https://prometheus.io/docs/prometheus/latest/querying/basics/".into()
    }
}
