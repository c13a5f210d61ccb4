//! `validate`'s static checks of `tests:` (finding code `tests`): what
//! promtool would only find when it runs, or would report without saying
//! where in the spec: duplicate test names, alerts tested under names no
//! rule has, series and value syntax, PromQL that does not parse, and
//! expected alerts whose labels the rule can never produce (a rule label
//! left out or contradicted, a label the expression drops).

use crate::check::Findings;
use crate::check::promql::{self, Facts, Index};
use crate::model::Stack;
use crate::model::ruletests::{ExpAlert, RuleTest};
use crate::model::stack::Rule;
use crate::path;
use std::collections::BTreeMap;

pub fn check(stack: &Stack, index: &Index<'_>, found: &mut Findings) {
    if stack.tests.is_empty() {
        return;
    }
    let facts = index.rule_facts();
    // Every alerting rule by name (one name may have several rules, e.g. one
    // per severity), with what its expression tells about its labels.
    let mut alerts: BTreeMap<&str, Vec<(&Rule, Option<&Facts>)>> = BTreeMap::new();
    for (file, groups) in &stack.rules {
        for (g, group) in groups.iter().enumerate() {
            for (r, rule) in group.rules.iter().enumerate() {
                if let Some(name) = &rule.alert {
                    alerts
                        .entry(name.as_str())
                        .or_default()
                        .push((rule, facts.get(&(file.as_str(), g, r)).copied()));
                }
            }
        }
    }
    if !stack.has(crate::model::Kind::Prometheus) {
        found.error(
            path!["tests"],
            "rule tests need Prometheus, which is not enabled",
            "enable `components.prometheus` or remove `tests`",
        );
    }
    let mut files: BTreeMap<String, &str> = BTreeMap::new();
    for (i, test) in stack.tests.iter().enumerate() {
        if test.name.trim().is_empty() {
            found.error(
                path!["tests", i, "name"],
                "a rule test needs a name",
                "it names the test in reports and its file under prometheus/tests/",
            );
        }
        let file = super::file_name(test);
        if let Some(first) = files.insert(file.clone(), &test.name) {
            found.error(
                path!["tests", i, "name"],
                format!(
                    "test `{}` would be written to the same file as `{first}` (`{file}`)",
                    test.name
                ),
                "give every test a distinct name",
            );
        }
        one(test, i, &alerts, found);
    }
}

fn one(
    test: &RuleTest,
    i: usize,
    alerts: &BTreeMap<&str, Vec<(&Rule, Option<&Facts>)>>,
    found: &mut Findings,
) {
    if test.input_series.is_empty() {
        found.warning(
            path!["tests", i],
            format!("test `{}` has no input series", test.name),
            "add `input_series` with the samples the rules read",
        );
    }
    if test.alert_rule_test.is_empty() && test.promql_expr_test.is_empty() {
        found.error(
            path!["tests", i],
            format!("test `{}` checks nothing", test.name),
            "add `alert_rule_test` (alerts expected at a time) or `promql_expr_test` (a query's result)",
        );
    }
    for (j, s) in test.input_series.iter().enumerate() {
        if let Err(e) = super::series::series(&s.series) {
            found.error(
                path!["tests", i, "input_series", j, "series"],
                format!("invalid series `{}`: {e}", s.series),
                "write `metric{label=\"value\", ...}`",
            );
        }
        if let Err(e) = super::series::values(&s.values) {
            found.error(
                path!["tests", i, "input_series", j, "values"],
                format!("invalid values: {e}"),
                "expanding notation: `0+10x20` (0, 10, …, 200), `5x3` (5 four times), `_` (no sample), `stale`",
            );
        }
    }
    let names: Vec<&str> = alerts.keys().copied().collect();
    for (j, a) in test.alert_rule_test.iter().enumerate() {
        let Some(rules) = alerts.get(a.alertname.as_str()) else {
            let hint = match crate::yaml::de::did_you_mean(&a.alertname, &names) {
                Some(near) => format!("did you mean `{near}`?"),
                None if names.is_empty() => "the stack has no alerting rules".to_string(),
                None => format!("alerting rules: {}", shorten(&names)),
            };
            found.error(
                path!["tests", i, "alert_rule_test", j, "alertname"],
                format!("no alerting rule is named `{}`", a.alertname),
                hint,
            );
            continue;
        };
        for (k, exp) in a.exp_alerts.iter().enumerate() {
            let at = path!["tests", i, "alert_rule_test", j, "exp_alerts", k];
            if exp.exp_labels.contains_key("alertname") {
                found.warning(
                    [at.clone(), path!["exp_labels", "alertname"]].concat(),
                    "`alertname` is added by promtool from the test's `alertname`",
                    "leave it out of `exp_labels`",
                );
            }
            let problems: Vec<String> = rules
                .iter()
                .map(|(rule, facts)| impossible(exp, rule, *facts))
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default();
            if let Some(first) = problems.first() {
                found.error(
                    [at, path!["exp_labels"]].concat(),
                    format!(
                        "no alert of `{}` can carry these labels: {first}",
                        a.alertname
                    ),
                    "promtool compares every label; list the rule's labels and those the expression keeps",
                );
            }
        }
    }
    for (j, t) in test.promql_expr_test.iter().enumerate() {
        if let Err(e) = promql::analyse(&t.expr) {
            found.error(
                path!["tests", i, "promql_expr_test", j, "expr"],
                format!(
                    "invalid PromQL at character {}: {}",
                    e.offset + 1,
                    e.message
                ),
                "",
            );
        }
        for (k, s) in t.exp_samples.iter().enumerate() {
            if s.labels.trim().is_empty() {
                continue;
            }
            if let Err(e) = super::series::series(&s.labels) {
                found.error(
                    path!["tests", i, "promql_expr_test", j, "exp_samples", k, "labels"],
                    format!("invalid series `{}`: {e}", s.labels),
                    "write `metric{label=\"value\", ...}` (or `{label=\"value\"}` for a result without a name)",
                );
            }
        }
    }
}

/// Why `exp` can never be an alert of `rule`, or `None` when it can.
fn impossible(exp: &ExpAlert, rule: &Rule, facts: Option<&Facts>) -> Option<String> {
    for (k, v) in &rule.labels {
        if v.contains("{{") {
            continue;
        }
        match exp.exp_labels.get(k.as_str()) {
            None => return Some(format!("the rule sets `{k}: {v}`, which is missing")),
            Some(e) if e != v => {
                return Some(format!("the rule sets `{k}: {v}`, not `{e}`"));
            }
            _ => {}
        }
    }
    let facts = facts?;
    for (k, v) in &exp.exp_labels {
        if k == "alertname" || rule.labels.keys().any(|l| l.as_str() == k) {
            continue;
        }
        if let Some(known) = facts.labels.known.get(k).filter(|known| *known != v) {
            return Some(format!(
                "the expression only yields `{k}=\"{known}\"`, not `{v}`"
            ));
        }
        if facts.labels.absent(k) {
            return Some(format!("the expression's result has no label `{k}`"));
        }
    }
    None
}

fn shorten(names: &[&str]) -> String {
    let mut s = names.iter().take(8).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 8 {
        s.push_str(", …");
    }
    s
}
