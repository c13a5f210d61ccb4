//! SLO rules under Prometheus' own rule engine: the rule files `render`
//! writes for a ratio, a latency and a gauge SLO are run by `promtool test
//! rules` of both generations (2.42 and 3.5) against series that burn the
//! error budget fast, slowly, or not at all. When each alert must fire comes
//! from an independent model of the SRE workbook's conditions (the error
//! ratio over each pair of windows against factor × budget), computed here
//! minute by minute from the same input, not from stackctl's code.

use crate::common;

use common::Generation;
use std::collections::BTreeMap;
use std::fmt::Write as _;

const SPEC: &str = r#"stackctl: 1
name: slo-rules
components:
  prometheus:
    version: v3.14.0
    retention_time: 30d
scrape_jobs:
  - name: api
    targets: [localhost:8000]
slos:
  - name: availability
    service: api
    objective: 99.9
    sli:
      ratio:
        errors: sum(rate(http_requests_total{job="api",code=~"5.."}[$window]))
        total: http_requests_total{job="api"}
  - name: latency
    service: api
    objective: 95
    sli:
      latency:
        histogram: http_request_duration_seconds
        matchers: ['job="api"']
        threshold: 0.5
        buckets: [0.1, 0.5, 1]
  - name: accuracy
    service: model
    objective: 99
    sli:
      threshold:
        query: avg(model_accuracy_score)
        min: 0.9
"#;

/// The workbook's conditions for 30 days: severity, factor, long, short (minutes).
const WORKBOOK: [(&str, f64, u64, u64); 4] = [
    ("page", 14.4, 60, 5),
    ("page", 6.0, 360, 30),
    ("ticket", 3.0, 1440, 120),
    ("ticket", 1.0, 4320, 360),
];

/// A constant stretch of traffic: minutes, bad events per minute, events per minute.
type Phase = (u64, f64, f64);

enum Sli {
    Ratio,
    Latency,
    Gauge,
}

struct Scenario {
    name: &'static str,
    sli: Sli,
    alert: &'static str,
    budget: f64,
    phases: Vec<Phase>,
}

impl Scenario {
    fn onset(&self) -> u64 {
        self.phases[0].0
    }

    fn horizon(&self) -> u64 {
        self.phases.iter().map(|p| p.0).sum()
    }

    /// Bad and all events in minute `m` (1-based: the increase from m-1 to m).
    fn minute(&self, m: u64) -> (f64, f64) {
        let mut end = 0;
        for &(len, bad, total) in &self.phases {
            end += len;
            if m <= end {
                return (bad, total);
            }
        }
        (0.0, 0.0)
    }

    fn ratio(&self, t: u64, window: u64) -> f64 {
        let from = t.saturating_sub(window) + 1;
        let (mut bad, mut total) = (0.0, 0.0);
        for m in from.max(1)..=t {
            let (b, all) = self.minute(m);
            bad += b;
            total += all;
        }
        if total == 0.0 { 0.0 } else { bad / total }
    }

    /// The first minute a severity's condition holds, and the longest
    /// window of the condition that fired (derived windows are smoother).
    fn first_firing(&self, severity: &str) -> Option<(u64, u64)> {
        (2..=self.horizon()).find_map(|t| {
            WORKBOOK
                .iter()
                .filter(|w| w.0 == severity)
                .find(|&&(_, factor, long, short)| {
                    let threshold = factor * self.budget;
                    self.ratio(t, short) > threshold && self.ratio(t, long) > threshold
                })
                .map(|w| (t, w.2))
        })
    }

    fn input_series(&self) -> Vec<(String, String)> {
        // Counters: `start+step x n` per phase, continuing where the last ended.
        let counter = |per_minute: &dyn Fn(&Phase) -> f64| {
            let mut text = String::new();
            let mut value = 0.0;
            for (i, phase) in self.phases.iter().enumerate() {
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
        match self.sli {
            Sli::Ratio => vec![
                (
                    r#"http_requests_total{job="api",code="500"}"#.into(),
                    counter(&|p| p.1),
                ),
                (
                    r#"http_requests_total{job="api",code="200"}"#.into(),
                    counter(&|p| p.2 - p.1),
                ),
            ],
            Sli::Latency => vec![
                (
                    r#"http_request_duration_seconds_bucket{job="api",le="0.5"}"#.into(),
                    counter(&|p| p.2 - p.1),
                ),
                (
                    r#"http_request_duration_seconds_count{job="api"}"#.into(),
                    counter(&|p| p.2),
                ),
            ],
            Sli::Gauge => {
                let mut text = String::new();
                for (i, &(len, bad, _)) in self.phases.iter().enumerate() {
                    let value = if bad > 0.0 { 0.85 } else { 0.95 };
                    let n = if i == 0 { len } else { len - 1 };
                    let _ = write!(text, "{value}+0x{n} ");
                }
                vec![(
                    r#"model_accuracy_score{instance="model:9100"}"#.into(),
                    text.trim_end().to_string(),
                )]
            }
        }
    }

    /// The promtool test group, and what it asserts (for the failure message).
    fn test_group(&self) -> (String, Vec<String>) {
        let mut checks: Vec<(u64, &str, bool)> = Vec::new();
        for severity in ["page", "ticket"] {
            // Before the burn starts, nothing fires.
            checks.push((self.onset(), severity, false));
            match self.first_firing(severity) {
                Some((t, long)) => {
                    // Windows of a day or more are derived from 5m rates:
                    // they lag the raw ratio by a few minutes.
                    let margin = if long >= 1440 { 15 } else { 3 };
                    if t > self.onset() + margin {
                        checks.push((t - margin, severity, false));
                    }
                    if t + margin <= self.horizon() {
                        checks.push((t + margin, severity, true));
                    }
                }
                None => checks.push((self.horizon(), severity, false)),
            }
        }
        let mut text = String::from("  - interval: 1m\n    input_series:\n");
        for (series, values) in self.input_series() {
            let _ = writeln!(
                text,
                "      - series: '{series}'\n        values: '{values}'"
            );
        }
        text.push_str("    promql_expr_test:\n");
        let mut described = Vec::new();
        for (t, severity, firing) in checks {
            let _ = writeln!(
                text,
                "      - expr: count(ALERTS{{alertname=\"{}\", alertstate=\"firing\", slo_severity=\"{severity}\"}})\n        eval_time: {t}m",
                self.alert
            );
            if firing {
                text.push_str(
                    "        exp_samples:\n          - labels: '{}'\n            value: 1\n",
                );
            } else {
                text.push_str("        exp_samples: []\n");
            }
            described.push(format!(
                "{}: {severity} {} at {}m after the burn started",
                self.name,
                if firing { "fires" } else { "is silent" },
                t as i64 - self.onset() as i64
            ));
        }
        (text, described)
    }
}

fn scenarios() -> Vec<Scenario> {
    let day = 1440;
    vec![
        // 0.05% errors: half the sustainable rate; nothing ever fires.
        Scenario {
            name: "ratio, healthy",
            sli: Sli::Ratio,
            alert: "ApiAvailabilityBudgetBurn",
            budget: 0.001,
            phases: vec![(day, 0.05, 100.0), (360, 0.05, 100.0)],
        },
        // 2% errors: 20× the budget; the workbook pages within the hour.
        Scenario {
            name: "ratio, fast burn",
            sli: Sli::Ratio,
            alert: "ApiAvailabilityBudgetBurn",
            budget: 0.001,
            phases: vec![(day, 0.05, 100.0), (60, 2.0, 100.0)],
        },
        // 0.4% errors: 4×, above the ticket factors and below the page ones.
        Scenario {
            name: "ratio, slow burn",
            sli: Sli::Ratio,
            alert: "ApiAvailabilityBudgetBurn",
            budget: 0.001,
            phases: vec![(day, 0.05, 100.0), (300, 0.4, 100.0)],
        },
        // Every request slower than 500ms, after 1% were.
        Scenario {
            name: "latency, fast burn",
            sli: Sli::Latency,
            alert: "ApiLatencyBudgetBurn",
            budget: 0.05,
            phases: vec![(day, 1.0, 100.0), (60, 100.0, 100.0)],
        },
        // Model accuracy drops below 0.9 and stays there.
        Scenario {
            name: "gauge, fast burn",
            sli: Sli::Gauge,
            alert: "ModelAccuracyBudgetBurn",
            budget: 0.01,
            phases: vec![(day, 0.0, 1.0), (60, 1.0, 1.0)],
        },
    ]
}

fn rendered_rules() -> BTreeMap<String, String> {
    let loaded = stackctl::load::load_text("stack.yaml", SPEC.to_string());
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let stack = stackctl::resolve::Resolved::from_loaded(&loaded).expect("loads");
    let deployment = stackctl::plan::plan(&stack, &Default::default());
    deployment
        .files
        .into_iter()
        .filter(|(path, _)| path.starts_with("prometheus/rules/slo-"))
        .collect()
}

#[test]
fn the_workbook_model_expects_what_the_scenarios_claim() {
    // The oracle itself: a fast burn pages within the long window, a slow
    // burn tickets and never pages, a healthy series never alerts.
    let all = scenarios();
    assert_eq!(all[0].first_firing("page"), None);
    assert_eq!(all[0].first_firing("ticket"), None);
    let (page, _) = all[1].first_firing("page").expect("fast burn pages");
    assert!(page - all[1].onset() <= 60, "{page}");
    assert_eq!(all[2].first_firing("page"), None);
    assert!(all[2].first_firing("ticket").is_some());
    for s in &all[3..] {
        let (page, _) = s.first_firing("page").expect("pages");
        assert!(page - s.onset() <= 60, "{}: {page}", s.name);
    }
}

#[test]
fn burn_rate_alerts_fire_when_the_workbook_says_under_promtool_of_both_generations() {
    let rules = rendered_rules();
    assert_eq!(rules.len(), 3, "{:?}", rules.keys());
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    let mut file = String::from("rule_files:\n");
    for (path, text) in &rules {
        let name = path.rsplit('/').next().unwrap();
        std::fs::write(rules_dir.join(name), text).unwrap();
        let _ = writeln!(file, "  - rules/{name}");
    }
    file.push_str("evaluation_interval: 1m\ntests:\n");
    let mut claims = Vec::new();
    for scenario in scenarios() {
        let (group, described) = scenario.test_group();
        file.push_str(&group);
        claims.extend(described);
    }
    let test_file = dir.path().join("slo_test.yml");
    std::fs::write(&test_file, &file).unwrap();
    let mut ran = 0;
    for generation in [Generation::Bookworm, Generation::Current] {
        let Some(promtool) =
            common::require_consumer(generation, "promtool", "SLO rule evaluation")
        else {
            continue;
        };
        let out = std::process::Command::new(&promtool)
            .args(["test", "rules", "slo_test.yml"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool ({}) failed:\n{}{}\nclaims:\n{}\ntest file:\n{file}",
            generation.label(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            claims.join("\n")
        );
        ran += 1;
    }
    if ran > 0 {
        eprintln!("checked under promtool: {}", claims.join("; "));
    }
}
