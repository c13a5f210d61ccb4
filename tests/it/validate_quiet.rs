//! `validate` quiet enough to gate CI (issue 13, item 5): repeated findings
//! folded into one with the count and the places, findings silenced on
//! purpose (`validate.ignore`, `# stackctl: ignore[CODE]`), unknown codes
//! refused, errors never silenced; text, JSON and JUnit output.

use crate::common;

use serde_json::Value;

/// A Prometheus-only stack whose rules read exporter metrics it does not run.
const STACK: &str = "stackctl: 1
name: quiet
components:
  prometheus: {}
rules:
  host:
    - name: host.rules
      rules:
        - record: instance:node_load1:avg
          expr: avg by (instance) (node_load1)
        - record: instance:node_load5:avg
          expr: avg by (instance) (node_load5)
        - record: instance:node_load1:max
          expr: max by (instance) (node_load1)
    - name: app.rules
      rules:
        - record: job:app_requests:rate5m
          expr: sum by (job) (rate(app_requests_total[5m]))
        - record: job:app_requests:rate1h
          expr: sum by (job) (rate(app_requests_total[1h]))
";

fn json(spec: &str) -> (i32, Vec<Value>) {
    let dir = common::spec_dir(spec);
    let (code, stdout, stderr) = common::run_in(
        dir.path(),
        &["validate", "--format", "json", "--deny-warnings"],
    );
    assert!(code == 0 || code == 1, "{stderr}");
    (code, serde_json::from_str(&stdout).expect("JSON"))
}

#[test]
fn repeated_findings_fold_into_one_per_metric_and_per_exporter() {
    let (code, diags) = json(STACK);
    assert_eq!(code, 1);
    let summary: Vec<(String, u64, Vec<u64>)> = diags
        .iter()
        .map(|d| {
            (
                d["message"].as_str().unwrap().to_string(),
                d["count"].as_u64().unwrap(),
                d["also"]
                    .as_array()
                    .map(|a| a.iter().map(|p| p["line"].as_u64().unwrap()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "`node_load1` comes from node_exporter, which this stack does not run (and 1 other metric from the same exporter: `node_load5`)".to_string(),
                3,
                vec![12, 14]
            ),
            (
                "no scrape job in this stack produces `app_requests_total`".to_string(),
                2,
                vec![20]
            ),
        ]
    );
    let dir = common::spec_dir(STACK);
    let (_, _, stderr) = common::run_in(dir.path(), &["validate"]);
    assert!(
        stderr.contains("   = note: 3 places in all; also at stack.yaml:12:36, stack.yaml:14:36\n"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("stack.yaml: 0 errors, 2 warnings\n"),
        "{stderr}"
    );
}

#[test]
fn findings_are_silenced_globally_per_rule_group_and_on_the_line() {
    let global = format!(
        "{STACK}validate:\n  ignore:\n    - code: metric-exporter-missing\n    - code: metric-unknown\n"
    );
    assert_eq!(json(&global), (0, vec![]));

    let per_group = format!(
        "{STACK}validate:\n  ignore:\n    - code: metric-unknown\n      rule_group: app.rules\n"
    );
    let (code, diags) = json(&per_group);
    assert_eq!(code, 1);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0]["code"], "metric-exporter-missing");

    let other_group = format!(
        "{STACK}validate:\n  ignore:\n    - code: metric-unknown\n      rule_group: host.rules\n"
    );
    assert_eq!(
        json(&other_group).1.len(),
        2,
        "an ignore scoped to another group silences nothing"
    );

    let inline = STACK
        .replace(
            "(node_load1)\n",
            "(node_load1) # stackctl: ignore[metric-exporter-missing]\n",
        )
        .replace(
            "(node_load5)\n",
            "(node_load5) # stackctl: ignore[metric-exporter-missing]\n",
        )
        .replace(
            "[5m]))\n",
            "[5m])) # stackctl: ignore[metric-unknown, version]\n",
        )
        .replace("[1h]))\n", "[1h])) # stackctl: ignore[metric-unknown]\n");
    assert_eq!(json(&inline), (0, vec![]));
}

#[test]
fn unknown_codes_are_errors_and_errors_are_never_silenced() {
    let spec =
        format!("{STACK}validate:\n  ignore:\n    - code: metric-unkown\n    - code: promql\n")
            .replace(
                "(node_load5)\n",
                "(node_load5 # stackctl: ignore[promql, no-such-code]\n",
            );
    let (code, diags) = json(&spec);
    assert_eq!(code, 1);
    let errors: Vec<(u64, &str, &str)> = diags
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            (
                d["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap(),
                d["hint"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_eq!(errors[0].0, 12);
    assert!(errors[0].1.starts_with("invalid PromQL"), "{errors:#?}");
    assert_eq!(
        (errors[1].1, errors[1].0),
        ("unknown finding code `no-such-code`", 12)
    );
    assert_eq!(
        (errors[2].1, errors[2].2),
        (
            "unknown finding code `metric-unkown`",
            "did you mean `metric-unknown`?"
        )
    );
    assert_eq!(errors[2].0, 23);
}

#[test]
fn junit_output_has_a_case_per_finding() {
    let dir = common::spec_dir(STACK);
    let (code, stdout, stderr) = common::run_in(dir.path(), &["validate", "--format", "junit"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"stackctl validate\" tests=\"2\" failures=\"0\" errors=\"0\">"), "{stdout}");
    assert_eq!(stdout.matches("<testcase ").count(), 2, "{stdout}");
    assert!(
        stdout.contains("note: 3 places in all; also at stack.yaml:12:36, stack.yaml:14:36"),
        "{stdout}"
    );
    let (code, stdout, _) = common::run_in(
        dir.path(),
        &["validate", "--format", "junit", "--deny-warnings"],
    );
    assert_eq!(code, 1);
    assert_eq!(stdout.matches("<failure ").count(), 2, "{stdout}");
}
