//! Rule unit tests (issue 14 item 1), proven against promtool itself:
//! every shipped spec's `tests:` pass with `stackctl test` on promtool 2.42
//! and 3.5, and the verdict per test equals promtool's own run on the
//! rendered `prometheus/tests/*.yml`; putting back each rule the pynomaly
//! guide got wrong fails the test that covers it, with promtool's
//! explanation; `validate` finds test mistakes with positions; the pinned
//! image's promtool runs through the Docker API; and every shipped spec's
//! tests cover every rule (`stackctl::ruletest::coverage`).

use crate::common;

use common::{Generation, path_str, require_consumer, run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A stack directory holding `text` as stack.yaml, with the files of `from`
/// (an example's dashboards) copied beside it.
fn stack_dir(text: &str, from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if from != Path::new(".") {
        copy_tree(from, dir.path());
    }
    std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn promtools() -> Vec<(Generation, PathBuf)> {
    [Generation::Current, Generation::Bookworm]
        .into_iter()
        .filter_map(|g| {
            require_consumer(g, "promtool", "rule unit tests (`promtool test rules`)")
                .map(|p| (g, p))
        })
        .collect()
}

/// `stackctl test --format json`: (exit code, name → passed, name → promtool's text).
fn stackctl_test(dir: &Path, promtool: &Path) -> (i32, Vec<(String, bool, String)>) {
    let (code, out, err) = run(&[
        "test",
        "--dir",
        path_str(dir),
        "--promtool",
        path_str(promtool),
        "--format",
        "json",
    ]);
    let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let tests = json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["file"].as_str().unwrap().to_string(),
                t["passed"].as_bool().unwrap(),
                t["promtool"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (code, tests)
}

/// promtool's own verdict on one rendered test file (run in `prometheus/`).
fn promtool_verdict(promtool: &Path, prometheus: &Path, file: &str) -> bool {
    Command::new(promtool)
        .args(["test", "rules", file])
        .current_dir(prometheus)
        .output()
        .unwrap()
        .status
        .success()
}

/// Renders `dir` and checks that promtool, run by hand per rendered test
/// file, gives the verdict `stackctl test` gave for it.
fn agrees_with_promtool(dir: &Path, promtool: &Path, verdicts: &[(String, bool, String)]) {
    let (code, _, err) = run(&["render", "--dir", path_str(dir)]);
    assert_eq!(code, 0, "render: {err}");
    let prometheus = dir.join("prometheus");
    let mut rendered: Vec<String> = std::fs::read_dir(prometheus.join("tests"))
        .unwrap()
        .flatten()
        .map(|e| format!("prometheus/tests/{}", e.file_name().to_string_lossy()))
        .collect();
    rendered.sort();
    let mut reported: Vec<String> = verdicts.iter().map(|v| v.0.clone()).collect();
    reported.sort();
    assert_eq!(rendered, reported, "render writes one file per test");
    for (file, passed, _) in verdicts {
        let own = promtool_verdict(
            promtool,
            &prometheus,
            file.trim_start_matches("prometheus/"),
        );
        assert_eq!(
            own, *passed,
            "{file}: promtool says {own}, stackctl test says {passed}"
        );
    }
}

#[test]
fn shipped_tests_pass_on_both_promtool_generations() {
    let tools = promtools();
    // One thread per spec and generation: the suites are independent, and
    // mlops-platform's week-long series take minutes per promtool alone.
    let checked = std::sync::atomic::AtomicUsize::new(0);
    let specs = common::shipped_specs();
    std::thread::scope(|scope| {
        for (label, text, from) in &specs {
            for (generation, promtool) in &tools {
                let checked = &checked;
                scope.spawn(move || {
                    let dir = stack_dir(text, from);
                    let (code, verdicts) = stackctl_test(dir.path(), promtool);
                    let failed: Vec<_> = verdicts.iter().filter(|v| !v.1).collect();
                    assert!(
                        failed.is_empty() && code == 0,
                        "{label} ({}): {failed:#?}",
                        generation.label()
                    );
                    if !verdicts.is_empty() {
                        agrees_with_promtool(dir.path(), promtool, &verdicts);
                        checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        }
    });
    if !tools.is_empty() {
        assert!(
            checked.into_inner() >= tools.len(),
            "pynomaly ships tests at least"
        );
    }
}

/// The rules as the pynomaly guide wrote them (profiles/README.md,
/// "Corrected rules"), and the test that must fail on each.
const GUIDE_RULES: &[(&str, &str, &str)] = &[
    (
        "expr: redis_memory_used_bytes / (redis_memory_max_bytes > 0) * 100 > 85",
        "expr: redis_memory_used_bytes / redis_memory_max_bytes * 100 > 85",
        "prometheus/tests/redis-maxmemory-unset.yml",
    ),
    (
        "expr: pg_up == 0 or up{job=\"postgres-exporter\"} == 0",
        "expr: up{job=\"postgres-exporter\"} == 0",
        "prometheus/tests/postgres-down-exporter-up.yml",
    ),
    (
        "expr: sum by (job, instance) (pg_stat_activity_count) / on (job, instance) max by (job, instance) (pg_settings_max_connections) * 100 > 80",
        "expr: pg_stat_database_numbackends / pg_settings_max_connections * 100 > 80",
        "prometheus/tests/db-connections-90-of-100.yml",
    ),
    (
        "expr: max by (job, instance, datname) (rate(pg_stat_statements_seconds_total[5m]) / rate(pg_stat_statements_calls_total[5m])) > 1",
        "expr: histogram_quantile(0.95, rate(pg_stat_statements_total_time_bucket[5m])) > 1",
        "prometheus/tests/slow-statement.yml",
    ),
];

#[test]
fn the_guides_broken_rules_fail_their_tests_with_promtools_verdict() {
    let tools = promtools();
    let profile = stackctl::profiles::find("pynomaly").unwrap().text;
    for (fixed, guide, test) in GUIDE_RULES {
        assert!(profile.contains(fixed), "the profile has `{fixed}`");
        let dir = stack_dir(&profile.replacen(fixed, guide, 1), Path::new("."));
        for (generation, promtool) in &tools {
            let (code, verdicts) = stackctl_test(dir.path(), promtool);
            assert_eq!(code, 1, "{guide} ({})", generation.label());
            let (_, passed, details) = verdicts.iter().find(|v| v.0 == *test).unwrap();
            assert!(
                !passed,
                "{test} must fail on `{guide}` ({})",
                generation.label()
            );
            assert!(
                details.contains("exp:") && details.contains("got:"),
                "promtool's explanation is shown: {details}"
            );
            agrees_with_promtool(dir.path(), promtool, &verdicts);
        }
    }
}

#[test]
fn text_and_junit_reports_name_each_test_with_its_position() {
    let Some((_, promtool)) = promtools().into_iter().next() else {
        return;
    };
    let profile = stackctl::profiles::find("pynomaly").unwrap().text;
    let (fixed, guide, _) = GUIDE_RULES[0];
    let dir = stack_dir(&profile.replacen(fixed, guide, 1), Path::new("."));
    let args = |format: &str| {
        run(&[
            "test",
            "--dir",
            path_str(dir.path()),
            "--promtool",
            path_str(&promtool),
            "--format",
            format,
        ])
    };
    let (code, text, _) = args("text");
    assert_eq!(code, 1);
    let line = text
        .lines()
        .find(|l| l.starts_with("FAILED") && l.contains("redis maxmemory unset"))
        .unwrap_or_else(|| panic!("{text}"));
    let position = format!("{}:", dir.path().join("stack.yaml").display());
    assert!(line.contains(&position), "{line}");
    // Both Redis cases fail on the guide's rule: +Inf where maxmemory is unset.
    assert!(text.contains("19 passed, 2 failed"), "{text}");
    let (code, junit, _) = args("junit");
    assert_eq!(code, 1);
    assert!(
        junit.contains("<testcase name=\"redis maxmemory unset\""),
        "{junit}"
    );
    assert_eq!(junit.matches("<testcase ").count(), 21);
    assert_eq!(junit.matches("<failure ").count(), 2);
}

#[test]
fn validate_finds_test_mistakes_with_positions() {
    let spec = r#"stackctl: 1
name: ruletests-validate
components:
  prometheus: {}
rules:
  alerts:
    - name: demo
      rules:
        - alert: TargetDown
          expr: sum by (job) (up) == 0
          labels:
            severity: critical
tests:
  - name: down
    input_series:
      - series: 'up{job="api",instance="a"}'
        values: '0x10 zero'
      - series: 'up{job=~"api"}'
        values: '1'
    alert_rule_test:
      - eval_time: 5m
        alertname: TargetDwn
      - eval_time: 5m
        alertname: TargetDown
        exp_alerts:
          - exp_labels: {severity: warning, job: api}
      - eval_time: 5m
        alertname: TargetDown
        exp_alerts:
          - exp_labels: {severity: critical, job: api, instance: a}
    promql_expr_test:
      - expr: 'sum(rate(up[5m])'
        eval_time: 1m
  - name: Down
    promql_expr_test:
      - expr: up
        eval_time: 1m
"#;
    let dir = common::spec_dir(spec);
    let (code, _, err) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{err}");
    for (line_col, message) in [
        ("17:17", "invalid values: `zero`"),
        ("18:17", "`=` only"),
        ("22:20", "no alerting rule is named `TargetDwn`"),
        ("26:25", "the rule sets `severity: critical`, not `warning`"),
        ("30:25", "the expression's result has no label `instance`"),
        ("32:15", "invalid PromQL"),
        ("34:11", "same file as `down`"),
    ] {
        let found = err
            .lines()
            .any(|l| l.contains(&format!("stack.yaml:{line_col}:")) && l.contains(message));
        assert!(found, "expected `{message}` at {line_col}:\n{err}");
    }
    assert!(err.contains("did you mean `TargetDown`?"), "{err}");
}

#[test]
fn every_shipped_spec_tests_every_rule() {
    for (label, text, _) in common::shipped_specs() {
        let loaded = stackctl::load::load_text("stack.yaml", text);
        let stack = loaded.stack.expect("shipped spec loads");
        let gaps = stackctl::ruletest::coverage::gaps(&stack);
        assert!(
            gaps.is_empty(),
            "{label} leaves rules untested:\n{}",
            gaps.join("\n")
        );
    }
}

#[test]
fn coverage_names_each_gap() {
    let profile = stackctl::profiles::find("pynomaly").unwrap().text;
    // Dropping the only silent case of RedisDown and the only read of one
    // recorded series leaves exactly those two gaps.
    let text = profile
        .replacen(
            "      - eval_time: 1m\n        alertname: RedisDown\n        exp_alerts: []\n",
            "",
            1,
        )
        .replacen(
            "      - expr: pynomaly:db_cache_hit_ratio_5m\n",
            "      - expr: pynomaly:db_cache_hit_ratio_5m + 0 * up\n",
            1,
        );
    let stack = stackctl::load::load_text("stack.yaml", text).stack.unwrap();
    let gaps = stackctl::ruletest::coverage::gaps(&stack);
    assert_eq!(
        gaps,
        vec![
            "alert RedisDown (severity=critical): no test where it stays silent (`exp_alerts: []`)"
                .to_string(),
        ],
        "a read inside a larger expression still counts"
    );
    let text = profile.replacen(
        "      - expr: pynomaly:db_cache_hit_ratio_5m\n        eval_time: 10m\n        exp_samples:\n          - labels: 'pynomaly:db_cache_hit_ratio_5m'\n            value: 90\n",
        "",
        1,
    );
    let stack = stackctl::load::load_text("stack.yaml", text).stack.unwrap();
    assert_eq!(
        stackctl::ruletest::coverage::gaps(&stack),
        vec![
            "recording rule pynomaly:db_cache_hit_ratio_5m: no promql_expr_test reads it"
                .to_string()
        ]
    );
}

/// The pinned image's promtool through the Docker API. Nothing can be pulled
/// here and the locally built `stackctl-test/prometheus:v3.5.3` carries only
/// `prometheus`, so the test adds the same release's promtool (Debian sid's
/// 3.5.3) to it as `/bin/promtool`, where the upstream image has it, in an
/// image of its own that it removes afterwards.
#[test]
fn the_pinned_images_promtool_runs_through_docker() {
    const BASE: &str = "stackctl-test/prometheus:v3.5.3";
    const IMAGE: &str = "stackctl-ruletests/prometheus";
    let present = Command::new("docker")
        .args(["image", "inspect", BASE])
        .output()
        .is_ok_and(|o| o.status.success());
    let promtool = require_consumer(Generation::Current, "promtool", "the Docker promtool path");
    let (true, Some(promtool)) = (present, promtool) else {
        if common::tools_required() {
            panic!("the image {BASE} is required (scripts/build-test-images.sh sid)");
        }
        eprintln!(
            "SKIPPED: no Docker engine or image {BASE}; the Docker promtool path was not checked"
        );
        return;
    };
    let context = tempfile::tempdir().unwrap();
    std::fs::copy(
        std::fs::canonicalize(&promtool).unwrap(),
        context.path().join("promtool"),
    )
    .unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!("FROM {BASE}\nCOPY promtool /bin/promtool\n"),
    )
    .unwrap();
    let built = Command::new("docker")
        .args([
            "build",
            "-q",
            "-t",
            &format!("{IMAGE}:v3.5.3"),
            path_str(context.path()),
        ])
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let profile = stackctl::profiles::find("pynomaly").unwrap().text;
    let pinned = profile.replacen(
        "  prometheus:\n    version: v3.14.0\n",
        &format!("  prometheus:\n    image: {IMAGE}\n    version: v3.5.3\n"),
        1,
    );
    assert_ne!(pinned, profile);
    let (fixed, guide, _) = GUIDE_RULES[1];
    let mut results = Vec::new();
    for text in [pinned.clone(), pinned.replacen(fixed, guide, 1)] {
        let dir = stack_dir(&text, Path::new("."));
        let (code, out, err) = run(&[
            "test",
            "--dir",
            path_str(dir.path()),
            "--docker",
            "--format",
            "json",
        ]);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".stackctl-test")
            })
            .collect();
        results.push((code, out, err, left.len()));
    }
    let _ = Command::new("docker")
        .args(["rmi", &format!("{IMAGE}:v3.5.3")])
        .output();
    for (i, (code, out, err, left)) in results.iter().enumerate() {
        let json: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
        assert_eq!(
            json["runner"],
            format!("promtool 3.5.3 (image {IMAGE}:v3.5.3)")
        );
        let failed: Vec<&str> = json["tests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["passed"] == false)
            .map(|t| t["file"].as_str().unwrap())
            .collect();
        if i == 0 {
            assert_eq!((*code, failed), (0, vec![]), "{out}");
        } else {
            assert_eq!((*code, failed), (1, vec![GUIDE_RULES[1].2]), "{out}");
        }
        assert_eq!(*left, 0, "the scratch directory is removed");
    }
}
