//! stackctl's SLO rules against sloth's, for sloth's own reference SLO
//! (`examples/getting-started.yml`: 99.9% of myservice's requests are not
//! 5xx or 429, over 30 days). Sloth's generated rules are read from a sloth
//! checkout, never committed here: `STACKCTL_SLOTH_REPO` (a git directory or a
//! work tree of github.com/slok/sloth), else the mirror at
//! `/work/.mirror/slok+sloth/repo`; without one the test prints SKIPPED.
//!
//! Compared: the windows recorded, every recording rule sloth evaluates on
//! raw series (same expression once sloth's `sloth_*` labels are written as
//! stackctl's `slo_*`), the meta values, both alerts' expressions, and — with
//! both rule files loaded into promtool of both generations — that through a
//! fast and a slow burn stackctl's page and ticket alerts fire when sloth's
//! do (at most 5 minutes later, for its derived long windows) and never when
//! sloth's do not. docs/slos.md lists the deliberate differences.

use crate::common;
use crate::kubernetes_support;

use common::Generation;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

const SPEC: &str = r#"stackctl: 1
name: sloth-compare
components:
  prometheus:
    version: v3.14.0
    retention_time: 30d
scrape_jobs:
  - name: myservice
    targets: [localhost:8080]
slos:
  - name: requests-availability
    service: myservice
    objective: 99.9
    sli:
      ratio:
        errors: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[$window]))
        total: sum(rate(http_request_duration_seconds_count{job="myservice"}[$window]))
    alerting:
      name: MyServiceHighErrorRate
"#;

const SLOTH_FILE: &str = "examples/_gen/getting-started.yml";

fn sloth_rules() -> Option<String> {
    let repo = std::env::var_os("STACKCTL_SLOTH_REPO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/.mirror/slok+sloth/repo"));
    let in_tree = repo.join(SLOTH_FILE);
    if in_tree.is_file() {
        return std::fs::read_to_string(in_tree).ok();
    }
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&repo)
        .args(["show", &format!("HEAD:{SLOTH_FILE}")])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ours() -> String {
    let loaded = stackctl::load::load_text("stack.yaml", SPEC.to_string());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let deployment = stackctl::plan::plan(
        &stackctl::resolve::Resolved::from_loaded(&loaded).unwrap(),
        &Default::default(),
    );
    deployment.files["prometheus/rules/slo-myservice-requests-availability.yml"].clone()
}

/// (record or alert name, severity label, expr, labels) of every rule.
fn rules(text: &str) -> Vec<(String, Value)> {
    let doc = kubernetes_support::yaml_docs(text).expect("yaml").remove(0);
    doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().clone())
        .map(|r| {
            let name = r["record"]
                .as_str()
                .or(r["alert"].as_str())
                .unwrap()
                .to_string();
            (name, r)
        })
        .collect()
}

/// Sloth's text written as stackctl names things: labels, selectors, and
/// the budget `1 - 0.999` that sloth prints with float noise.
fn as_stackctl(expr: &str) -> String {
    let normal = expr
        .replace(
            r#"{sloth_id="myservice-requests-availability", sloth_service="myservice", sloth_slo="requests-availability"}"#,
            r#"{slo_id="myservice-requests-availability"}"#,
        )
        .replace("sloth_window", "slo_window")
        .replace("0.0009999999999999432", "0.001");
    squeeze(&normal)
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn records(all: &[(String, Value)], prefix: &str) -> BTreeMap<String, String> {
    all.iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .map(|(n, r)| (n.clone(), r["expr"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn rules_match_sloths_for_its_getting_started_slo() {
    let Some(sloth) = sloth_rules() else {
        common::skipped(
            "no sloth checkout (set STACKCTL_SLOTH_REPO to a clone of github.com/slok/sloth); the comparison with sloth's rules was not made",
        );
        return;
    };
    let sloth = rules(&sloth);
    let ours = rules(&ours());

    // The same windows are recorded.
    let theirs_ratio = records(&sloth, "slo:sli_error:ratio_rate");
    let ours_ratio = records(&ours, "slo:sli_error:ratio_rate");
    assert_eq!(
        theirs_ratio.keys().collect::<Vec<_>>(),
        ours_ratio.keys().collect::<Vec<_>>()
    );
    // Windows both read from raw series: the same expression. (stackctl
    // derives 5m from its recorded event rates and 1d, 3d, 30d from 5m.)
    let mut same = 0;
    for window in ["30m", "1h", "2h", "6h"] {
        let name = format!("slo:sli_error:ratio_rate{window}");
        assert_eq!(
            squeeze(&ours_ratio[&name]),
            as_stackctl(&theirs_ratio[&name]),
            "{name}"
        );
        same += 1;
    }
    assert_eq!(same, 4);

    // Meta series: the same values.
    for name in [
        "slo:objective:ratio",
        "slo:error_budget:ratio",
        "slo:time_period:days",
    ] {
        let value = |all: &[(String, Value)]| {
            let expr = records(all, name)[name].clone();
            let inner = expr
                .trim()
                .trim_start_matches("vector(")
                .trim_end_matches(')')
                .to_string();
            // Sloth writes the budget as `1-0.999…`.
            match inner.split_once('-') {
                Some((a, b)) => a.parse::<f64>().unwrap() - b.parse::<f64>().unwrap(),
                None => inner.parse::<f64>().unwrap(),
            }
        };
        assert!(
            (value(&sloth) - value(&ours)).abs() < 1e-12,
            "{name}: sloth {} stackctl {}",
            value(&sloth),
            value(&ours)
        );
    }
    for name in [
        "slo:current_burn_rate:ratio",
        "slo:period_burn_rate:ratio",
        "slo:period_error_budget_remaining:ratio",
    ] {
        assert!(records(&ours, name).contains_key(name), "{name}");
    }

    // Alerts: page and ticket, the same expression after renaming.
    let alerts = |all: &[(String, Value)], severity_label: &str| -> BTreeMap<String, String> {
        all.iter()
            .filter(|(n, _)| n == "MyServiceHighErrorRate")
            .map(|(_, r)| {
                (
                    r["labels"][severity_label].as_str().unwrap().to_string(),
                    r["expr"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let theirs = alerts(&sloth, "sloth_severity");
    let mine = alerts(&ours, "slo_severity");
    assert_eq!(theirs.keys().collect::<Vec<_>>(), ["page", "ticket"]);
    for (severity, expr) in &theirs {
        assert_eq!(squeeze(&mine[severity]), as_stackctl(expr), "{severity}");
    }
}

/// A constant stretch: minutes, 5xx per minute, requests per minute.
type Phase = (u64, f64, f64);

fn series(phases: &[Phase]) -> String {
    let counter = |per_minute: &dyn Fn(&Phase) -> f64| {
        let mut text = String::new();
        let mut value = 0.0;
        for (i, phase) in phases.iter().enumerate() {
            let step = per_minute(phase);
            let (start, n) = if i == 0 {
                (0.0, phase.0)
            } else {
                (value + step, phase.0 - 1)
            };
            let _ = write!(text, "{start}+{step}x{n} ");
            value = start + step * n as f64;
        }
        text.trim_end().to_string()
    };
    format!(
        "      - series: 'http_request_duration_seconds_count{{job=\"myservice\",code=\"500\"}}'\n        values: '{}'\n      - series: 'http_request_duration_seconds_count{{job=\"myservice\",code=\"200\"}}'\n        values: '{}'\n",
        counter(&|p| p.1),
        counter(&|p| p.2 - p.1)
    )
}

#[test]
fn sloths_alerts_and_stackctls_fire_together_under_promtool() {
    let Some(sloth) = sloth_rules() else {
        common::skipped(
            "no sloth checkout (set STACKCTL_SLOTH_REPO); sloth's and stackctl's alerts were not run side by side",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sloth.yml"), sloth).unwrap();
    std::fs::write(dir.path().join("stackctl.yml"), ours()).unwrap();
    let day = 1440;
    let scenarios: [(&str, Vec<Phase>); 2] = [
        ("fast burn", vec![(day, 0.05, 100.0), (60, 2.0, 100.0)]),
        ("slow burn", vec![(day, 0.05, 100.0), (300, 0.4, 100.0)]),
    ];
    let mut file =
        String::from("rule_files: [sloth.yml, stackctl.yml]\nevaluation_interval: 1m\ntests:\n");
    let mut compared = 0;
    for (_, phases) in &scenarios {
        let end: u64 = phases.iter().map(|p| p.0).sum();
        file.push_str("  - interval: 1m\n    input_series:\n");
        file.push_str(&series(phases));
        file.push_str("    promql_expr_test:\n");
        // Every 10 minutes from an hour before the burn: stackctl's alert of a
        // severity fires when sloth's does, at most 5 minutes later (its
        // windows of a day or more are derived from 5m rates, which take 5
        // minutes to take in a step), and never before sloth's.
        let mut t = phases[0].0 - 60;
        while t <= end {
            for severity in ["page", "ticket"] {
                let count = |label: &str, offset: &str| {
                    format!(
                        "(count(ALERTS{{alertname=\"MyServiceHighErrorRate\", alertstate=\"firing\", {label}=\"{severity}\"}}{offset}) or vector(0))"
                    )
                };
                for (expr, what) in [
                    (
                        format!(
                            "clamp_min({} - {}, 0)",
                            count("sloth_severity", " offset 5m"),
                            count("slo_severity", "")
                        ),
                        "sloth fired 5m ago and stackctl does not",
                    ),
                    (
                        format!(
                            "clamp_min({} - {}, 0)",
                            count("slo_severity", ""),
                            count("sloth_severity", "")
                        ),
                        "stackctl fires and sloth does not",
                    ),
                ] {
                    let _ = writeln!(
                        file,
                        "      # {what}\n      - expr: '{expr}'\n        eval_time: {t}m\n        exp_samples:\n          - labels: '{{}}'\n            value: 0"
                    );
                    compared += 1;
                }
            }
            t += 10;
        }
        // And they do fire: the comparison is not between two silent rule sets.
        for (severity, at) in [("page", phases[0].0 + 60), ("ticket", end)] {
            if phases[1].1 < 1.0 && severity == "page" {
                continue;
            }
            let _ = writeln!(
                file,
                "      - expr: count(ALERTS{{alertname=\"MyServiceHighErrorRate\", alertstate=\"firing\", slo_severity=\"{severity}\"}})\n        eval_time: {at}m\n        exp_samples:\n          - labels: '{{}}'\n            value: 1"
            );
        }
    }
    std::fs::write(dir.path().join("test.yml"), &file).unwrap();
    for generation in [Generation::Bookworm, Generation::Current] {
        let Some(promtool) = common::require_consumer(
            generation,
            "promtool",
            "sloth and stackctl rules side by side",
        ) else {
            continue;
        };
        let out = std::process::Command::new(&promtool)
            .args(["test", "rules", "test.yml"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool ({}):\n{}{}",
            generation.label(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprintln!("{compared} evaluations compared");
}
