//! The shape of `stackctl validate`'s output: every problem in one run, the
//! JSON list and its field names, and what makes the command fail.

use crate::common;

use serde_json::Value;

/// Four independent mistakes: a PromQL syntax error, an unclosed template, a
/// route to an undefined receiver and an alert without `severity`.
const MANY: &str = r#"stackctl: 1
name: many
components:
  prometheus:
    version: v3.14.0
  alertmanager:
    version: v0.34.0
alerting:
  route:
    receiver: pager
  receivers:
    - name: team
      webhook:
        - url: http://hooks.example.com/alerts
rules:
  app:
    - name: app.rules
      rules:
        - alert: TargetDown
          expr: sum(up) by job == 0
          labels:
            severity: critical
        - alert: TargetsFlapping
          expr: changes(up[10m]) > 3
          annotations:
            summary: "{{ $labels.instance flaps"
"#;

#[test]
fn every_problem_in_one_run_as_text() {
    let dir = common::spec_dir(MANY);
    let (code, stdout, stderr) = common::run_in(dir.path(), &["validate"]);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    let headlines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("stack.yaml:"))
        .collect();
    assert_eq!(
        headlines,
        vec![
            "stack.yaml:10:15: error: route to undefined receiver `pager`",
            "stack.yaml:20:28: error: invalid PromQL in alert `TargetDown`: unexpected identifier \"job\" in grouping opts, expected \"(\"",
            "stack.yaml:23:18: warning: alert `TargetsFlapping` has no `severity` label",
            "stack.yaml:26:23: error: invalid template in annotation `summary`: unclosed action",
            "stack.yaml: 3 errors, 1 warning",
        ]
    );
}

#[test]
fn json_is_a_list_with_stable_fields() {
    let dir = common::spec_dir(MANY);
    let (code, stdout, _) = common::run_in(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(code, 1);
    let json: Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    let items = json.as_array().expect("a list");
    assert_eq!(items.len(), 4);
    let promql = &items[1];
    let keys: Vec<&str> = promql
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        vec![
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "severity",
            "code",
            "message",
            "hint",
            "path",
            "count"
        ]
    );
    // `count` is 1 and `also` absent unless repeated findings were folded.
    assert_eq!(promql["count"], 1);
    assert_eq!(promql["file"], "stack.yaml");
    assert_eq!(
        (promql["line"].as_u64(), promql["column"].as_u64()),
        (Some(20), Some(28))
    );
    assert_eq!(promql["severity"], "error");
    assert_eq!(promql["code"], "promql");
    assert_eq!(promql["path"], "rules.app[0].rules[0].expr");
    assert_eq!(
        promql["hint"],
        "`by` and `without` take a list in parentheses: `sum by (job) (...)`"
    );
    let codes: Vec<&str> = items.iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        vec!["alerting", "promql", "alert-severity", "template"]
    );
    let severities: Vec<&str> = items
        .iter()
        .map(|i| i["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, vec!["error", "error", "warning", "error"]);
}

#[test]
fn json_of_a_clean_stack_is_an_empty_list() {
    let dir = common::spec_dir(
        "stackctl: 1\nname: clean\ncomponents:\n  prometheus:\n    version: v3.14.0\nrules:\n  r:\n    - name: g\n      rules:\n        - record: job:up:sum\n          expr: sum by (job) (up)\n",
    );
    let (code, stdout, _) = common::run_in(dir.path(), &["validate", "--format", "json"]);
    assert_eq!((code, stdout.trim()), (0, "[]"));
}

#[test]
fn warnings_fail_only_with_deny_warnings_and_notes_never() {
    let warning = "stackctl: 1\nname: w\ncomponents:\n  prometheus:\n    version: v3.14.0\nrules:\n  r:\n    - name: g\n      rules:\n        - record: job:x:sum\n          expr: sum by (job) (job:y:rate5m)\n";
    let dir = common::spec_dir(warning);
    assert_eq!(common::run_in(dir.path(), &["validate"]).0, 0);
    assert_eq!(
        common::run_in(dir.path(), &["validate", "--deny-warnings"]).0,
        1
    );

    let note = "stackctl: 1\nname: n\ncomponents:\n  prometheus:\n    version: v3.14.0\n  cadvisor:\n    version: v0.60.5\n";
    let dir = common::spec_dir(note);
    let (code, _, stderr) = common::run_in(dir.path(), &["validate", "--deny-warnings"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(": info: `cadvisor` runs privileged"),
        "{stderr}"
    );
    assert!(stderr.ends_with("stack.yaml: ok (1 note)\n"), "{stderr}");
}

#[test]
fn a_missing_spec_is_stackctls_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = common::run_in(dir.path(), &["validate"]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: no stack spec at"), "{stderr}");
}
