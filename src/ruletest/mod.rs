//! Rule unit tests (`tests:` in the spec, issue 14 item 1): rendered as
//! promtool test files, checked statically by `validate`, and run by
//! `stackctl test` with the pinned release's `promtool test rules`.
//!
//! Why promtool and not a native evaluator: promtool *is* the reference
//! (PromQL, staleness, `for`/`keep_firing_for`, template expansion with
//! every Go template function), so its verdict cannot disagree with itself;
//! a native evaluator would have to match it on every function the rules use.
//! The cost is one promtool process per run (measured by
//! `scripts/bench-test.sh`; see docs/alerting.md).
//!
//! Each spec test is its own file, `prometheus/tests/NAME.yml`, so that one
//! promtool run reports a verdict per test for every promtool generation
//! (promtool 2.x has no test-group names).

pub mod check;
pub mod coverage;
pub mod promtool;
pub mod series;

use crate::model::Stack;
use crate::model::ruletests::RuleTest;
use serde_json::{Map, Value, json};

/// Where the rendered test files live, relative to the stack directory.
pub const DIR: &str = "prometheus/tests";

/// The file name of a test: its name in lower case, every run of characters
/// other than letters, digits, `.` and `_` turned into one `-`.
pub fn file_name(test: &RuleTest) -> String {
    let mut out = String::new();
    for c in test.name.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(['-', '.']);
    format!("{}.yml", if trimmed.is_empty() { "test" } else { trimmed })
}

/// The rendered test files (path relative to the stack directory → YAML
/// value) for the rule files `rule_files` (paths relative to the stack
/// directory, e.g. `prometheus/rules/alerts.yml`).
pub fn render(stack: &Stack, rule_files: &[String]) -> Vec<(String, Value)> {
    let relative: Vec<String> = rule_files
        .iter()
        .filter_map(|f| f.strip_prefix("prometheus/"))
        .map(|f| format!("../{f}"))
        .collect();
    let prometheus = stack.components.prometheus.as_ref();
    let evaluation = prometheus
        .and_then(|p| p.evaluation_interval.as_ref())
        .map_or("15s", |d| d.as_str());
    let external: Map<String, Value> = prometheus
        .map(|p| {
            p.external_labels
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect()
        })
        .unwrap_or_default();
    stack
        .tests
        .iter()
        .map(|test| {
            let evaluation = test
                .evaluation_interval
                .as_ref()
                .map_or(evaluation, |d| d.as_str());
            let file = json!({
                "rule_files": relative,
                "evaluation_interval": evaluation,
                "tests": [group(test, &external)],
            });
            (format!("{DIR}/{}", file_name(test)), file)
        })
        .collect()
}

fn group(test: &RuleTest, external: &Map<String, Value>) -> Value {
    let mut g = Map::new();
    g.insert(
        "interval".into(),
        json!(test.interval.as_ref().map_or("1m", |d| d.as_str())),
    );
    let labels = match &test.external_labels {
        Some(own) => own.iter().map(|(k, v)| (k.clone(), json!(v))).collect(),
        None => external.clone(),
    };
    if !labels.is_empty() {
        g.insert("external_labels".into(), Value::Object(labels));
    }
    if let Some(url) = &test.external_url {
        g.insert("external_url".into(), json!(url));
    }
    g.insert(
        "input_series".into(),
        test.input_series
            .iter()
            .map(|s| json!({"series": s.series, "values": s.values}))
            .collect(),
    );
    if !test.alert_rule_test.is_empty() {
        g.insert(
            "alert_rule_test".into(),
            test.alert_rule_test
                .iter()
                .map(|a| {
                    json!({
                        "eval_time": a.eval_time.as_str(),
                        "alertname": a.alertname,
                        "exp_alerts": a.exp_alerts.iter().map(|e| {
                            let mut m = Map::new();
                            if !e.exp_labels.is_empty() {
                                m.insert("exp_labels".into(), json!(e.exp_labels));
                            }
                            if !e.exp_annotations.is_empty() {
                                m.insert("exp_annotations".into(), json!(e.exp_annotations));
                            }
                            Value::Object(m)
                        }).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        );
    }
    if !test.promql_expr_test.is_empty() {
        g.insert(
            "promql_expr_test".into(),
            test.promql_expr_test
                .iter()
                .map(|t| {
                    json!({
                        "expr": t.expr,
                        "eval_time": t.eval_time.as_str(),
                        "exp_samples": t.exp_samples.iter().map(|s| {
                            json!({"labels": s.labels, "value": number(s.value)})
                        }).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        );
    }
    Value::Object(g)
}

/// Whole numbers as integers (`90`, not `90.0`), as a person writes them.
fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_named(name: &str) -> RuleTest {
        RuleTest {
            name: name.into(),
            interval: None,
            evaluation_interval: None,
            external_labels: None,
            external_url: None,
            input_series: vec![],
            alert_rule_test: vec![],
            promql_expr_test: vec![],
        }
    }

    #[test]
    fn file_names_are_slugs() {
        assert_eq!(
            file_name(&test_named("High CPU fires")),
            "high-cpu-fires.yml"
        );
        assert_eq!(file_name(&test_named("api/5xx: 30%")), "api-5xx-30.yml");
        assert_eq!(file_name(&test_named("  ")), "test.yml");
        assert_eq!(
            file_name(&test_named("p95_latency.v2")),
            "p95_latency.v2.yml"
        );
    }

    #[test]
    fn whole_numbers_render_without_a_fraction() {
        assert_eq!(number(90.0), json!(90));
        assert_eq!(number(0.25), json!(0.25));
        assert_eq!(number(-3.0), json!(-3));
    }

    fn rendered_evaluation(spec: &str) -> Vec<Value> {
        let loaded = crate::load::load_text("stack.yaml", spec.to_string());
        let stack = loaded.stack.expect("spec loads");
        render(&stack, &["prometheus/rules/a.yml".into()])
            .into_iter()
            .map(|(_, file)| file["evaluation_interval"].clone())
            .collect()
    }

    #[test]
    fn a_test_may_evaluate_at_its_own_interval() {
        let spec = "stackctl: 1\nname: s\ncomponents:\n  prometheus:\n    evaluation_interval: 30s\ntests:\n  - name: fast\n  - name: slow\n    evaluation_interval: 5m\n";
        assert_eq!(rendered_evaluation(spec), vec![json!("30s"), json!("5m")]);
    }
}
