//! What a spec's rule tests leave untested: every alerting rule needs a
//! case where it fires (an expected alert carrying that rule's own labels;
//! promtool then checks every label and rendered annotation) and a case where
//! it stays silent (`exp_alerts: []`); every recording rule's series needs a
//! `promql_expr_test` that reads it. Shipped profiles and examples are held
//! to this (tests/it/rule_tests.rs). Rules generated from `slos:` are not:
//! their own tests are in tests/it/slo_rules.rs.

use crate::model::Stack;
use crate::model::ruletests::ExpAlert;
use crate::model::stack::Rule;

/// One line per gap, e.g. `alert HighCPUUsage (severity=warning): never fires in a test`.
pub fn gaps(stack: &Stack) -> Vec<String> {
    let mut out = Vec::new();
    let cases: Vec<_> = stack
        .tests
        .iter()
        .flat_map(|t| t.alert_rule_test.iter())
        .collect();
    let exprs: Vec<Vec<String>> = stack
        .tests
        .iter()
        .flat_map(|t| t.promql_expr_test.iter())
        .map(|t| {
            crate::check::promql::analyse(&t.expr)
                .map(|f| f.metrics)
                .unwrap_or_default()
        })
        .collect();
    // Rule files expanded from `slos:` are tested where they are generated
    // (src/slo, tests/it/slo_rules.rs), not by the spec's own tests.
    let generated: Vec<String> = stack
        .slos
        .iter()
        .map(|slo| crate::slo::Ids::of(slo).file)
        .collect();
    for (file, groups) in &stack.rules {
        if generated.contains(file) {
            continue;
        }
        for rule in groups.iter().flat_map(|g| g.rules.iter()) {
            if let Some(name) = &rule.alert {
                let mine: Vec<_> = cases.iter().filter(|c| &c.alertname == name).collect();
                let fires = mine
                    .iter()
                    .any(|c| c.exp_alerts.iter().any(|e| carries(e, rule)));
                let silent = mine.iter().any(|c| c.exp_alerts.is_empty());
                let which = describe(rule);
                if !fires {
                    out.push(format!("alert {name}{which}: never fires in a test"));
                }
                if !silent {
                    out.push(format!(
                        "alert {name}{which}: no test where it stays silent (`exp_alerts: []`)"
                    ));
                }
            }
            if let Some(record) = rule
                .record
                .as_ref()
                .filter(|r| !exprs.iter().any(|m| m.iter().any(|n| n == *r)))
            {
                out.push(format!(
                    "recording rule {record}: no promql_expr_test reads it"
                ));
            }
        }
    }
    out
}

/// Whether an expected alert has this rule's static labels (so it is one of
/// this rule's alerts, not a same-named rule's).
fn carries(exp: &ExpAlert, rule: &Rule) -> bool {
    rule.labels
        .iter()
        .filter(|(_, v)| !v.contains("{{"))
        .all(|(k, v)| exp.exp_labels.get(k.as_str()) == Some(v))
}

fn describe(rule: &Rule) -> String {
    match rule.labels.iter().find(|(k, _)| k.as_str() == "severity") {
        Some((_, v)) => format!(" (severity={v})"),
        None => String::new(),
    }
}
