//! Routing answers (issue 14 item 2) equal amtool's: for every shipped spec,
//! `stackctl::routes` and `amtool config routes test` (0.33 and 0.25) give the
//! same receivers, in the same order, for label sets generated from every
//! matcher of the rendered tree (each value matched, a value matched by no
//! route, the label absent; all combinations); the `routes` command prints
//! that answer with the route, time intervals and inhibit rules; `validate`
//! fails at the expectation when the tree changes where an alert goes; and
//! every shipped spec expects something for each severity and team it routes.

use crate::common;

use common::{Generation, path_str, require_consumer, run};
use stackctl::model::types::MatchOp;
use stackctl::routes::{self, config::Config};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn rendered(text: &str, from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if from != Path::new(".") {
        for entry in walk(from) {
            let rel = entry.strip_prefix(from).unwrap();
            let target = dir.path().join(rel);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&entry, target).unwrap();
        }
    }
    std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render: {err}");
    dir
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

/// Label names → candidate values from every matcher of the config's
/// routes and inhibit rules.
fn candidates(config: &Config) -> BTreeMap<String, BTreeSet<String>> {
    let mut matchers = Vec::new();
    let mut stack = vec![&config.route];
    while let Some(r) = stack.pop() {
        matchers.extend(r.all_matchers().unwrap());
        stack.extend(r.routes.iter());
    }
    for rule in &config.inhibit_rules {
        matchers.extend(rule.source());
        matchers.extend(rule.target());
    }
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in matchers {
        let values = out.entry(m.name.clone()).or_default();
        if matches!(m.op, MatchOp::Re | MatchOp::NotRe) {
            // Alternatives of a regex like `critical|warning`.
            for alt in m.value.split('|') {
                if alt
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
                {
                    values.insert(alt.to_string());
                }
            }
        } else {
            values.insert(m.value.clone());
        }
    }
    for values in out.values_mut() {
        values.insert("unrouted-value".to_string());
        values.insert(String::new()); // absent
    }
    out
}

/// Every combination of the candidates (at most `limit`).
fn label_sets(
    candidates: &BTreeMap<String, BTreeSet<String>>,
    limit: usize,
) -> Vec<BTreeMap<String, String>> {
    let mut sets = vec![BTreeMap::new()];
    for (name, values) in candidates {
        let mut next = Vec::new();
        for set in &sets {
            for v in values {
                let mut s: BTreeMap<String, String> = set.clone();
                if !v.is_empty() {
                    s.insert(name.clone(), v.clone());
                }
                next.push(s);
            }
        }
        sets = next;
        if sets.len() > limit {
            sets.truncate(limit);
        }
    }
    sets
}

fn amtool_answer(amtool: &Path, config: &Path, labels: &BTreeMap<String, String>) -> String {
    let mut args = vec![
        "config".to_string(),
        "routes".to_string(),
        "test".to_string(),
        format!("--config.file={}", config.display()),
    ];
    // amtool needs at least one label; `alertname` is on every real alert.
    let mut labels = labels.clone();
    labels
        .entry("alertname".into())
        .or_insert_with(|| "Probe".into());
    args.extend(labels.iter().map(|(k, v)| format!("{k}={v}")));
    let out = Command::new(amtool).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "amtool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn receivers_equal_amtools_on_every_shipped_spec() {
    let tools: Vec<_> = [Generation::Current, Generation::Bookworm]
        .into_iter()
        .filter_map(|g| {
            require_consumer(g, "amtool", "routing answers (`amtool config routes test`)")
                .map(|p| (g, p))
        })
        .collect();
    if tools.is_empty() {
        return;
    }
    let mut compared = 0;
    for (label, text, from) in common::shipped_specs() {
        let dir = rendered(&text, &from);
        let file = dir.path().join("alertmanager/alertmanager.yml");
        let Ok(yml) = std::fs::read_to_string(&file) else {
            continue;
        };
        let config = Config::parse(&yml).unwrap();
        let sets = label_sets(&candidates(&config), 400);
        assert!(sets.len() >= 4, "{label}: {} label sets", sets.len());
        for labels in &sets {
            let mut with_name = labels.clone();
            with_name
                .entry("alertname".into())
                .or_insert_with(|| "Probe".into());
            let ours = routes::evaluate(&config, &with_name, jiff::Timestamp::now())
                .unwrap()
                .receivers()
                .join(",");
            for (generation, amtool) in &tools {
                let theirs = amtool_answer(amtool, &file, labels);
                assert_eq!(ours, theirs, "{label} {labels:?} ({})", generation.label());
                compared += 1;
            }
        }
    }
    eprintln!("{compared} routing answers compared with amtool");
    assert!(compared > 100, "{compared} answers compared");
}

#[test]
fn routes_prints_the_path_intervals_and_inhibit_rules() {
    let dir = common::init_profile("pynomaly");
    let args = |extra: &[&str]| {
        let mut a = vec!["routes", "--dir", path_str(dir.path())];
        a.extend_from_slice(extra);
        run(&a)
    };
    // Sunday 03:00 UTC: inside pynomaly's maintenance window.
    let (code, out, err) = args(&[
        "alertname=HighCPUUsage",
        "severity=warning",
        "--at",
        "2026-12-06T03:00:00Z",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("receivers: warning-alerts\n"), "{out}");
    // routes[0] is the generated Watchdog route (to `stackctl-null`).
    assert!(
        out.contains("warning-alerts via route.routes[2]: severity=\"warning\""),
        "{out}"
    );
    assert!(
        out.contains("mute_time_intervals maintenance-window: muting now"),
        "{out}"
    );
    assert!(out.contains("notified now: nobody"), "{out}");
    assert!(
        out.contains("inhibited (inhibit_rules[0]) while an alert matching {severity=\"critical\"} fires with the same alertname, cluster, service"),
        "{out}"
    );
    let (_, out, _) = args(&[
        "alertname=HighCPUUsage",
        "severity=warning",
        "--at",
        "2026-12-06T04:00:00Z",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["notified"], serde_json::json!(["warning-alerts"]));
    assert_eq!(json["routes"][0]["muted_by"], serde_json::json!([]));
    let (code, _, err) = args(&["severity"]);
    assert_eq!(code, 2);
    assert!(err.contains("`severity` is not `name=value`"), "{err}");
    let (code, _, err) = args(&["severity=critical", "--at", "next sunday"]);
    assert_eq!(code, 2);
    assert!(err.contains("RFC 3339"), "{err}");
}

#[test]
fn validate_fails_at_the_expectation_when_the_tree_changes() {
    let profile = stackctl::profiles::find("pynomaly").unwrap().text;
    // Critical alerts sent to the warning receiver by mistake.
    let changed = profile.replacen(
        "      - matchers: ['severity=\"critical\"']\n        receiver: critical-alerts\n",
        "      - matchers: ['severity=\"critical\"']\n        receiver: warning-alerts\n",
        1,
    );
    assert_ne!(changed, profile);
    let dir = common::spec_dir(&changed);
    let (code, _, err) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{err}");
    let line = changed
        .lines()
        .position(|l| l.contains("labels: {alertname: APIDown, severity: critical, cluster"))
        .unwrap()
        + 2;
    assert!(
        err.contains(&format!("stack.yaml:{line}:18: error: an alert {{alertname=\"APIDown\", cluster=\"pynomaly-production\", severity=\"critical\"}} reaches [warning-alerts], not [critical-alerts]")),
        "{err}"
    );
    // A receiver name that does not exist is named, with a suggestion.
    let typo = profile.replacen(
        "      receivers: [web.hook]\n",
        "      receivers: [webhook]\n",
        1,
    );
    let dir = common::spec_dir(&typo);
    let (code, _, err) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no receiver is named `webhook`") && err.contains("did you mean `web.hook`?"),
        "{err}"
    );
}

#[test]
fn every_shipped_spec_expects_each_severity_and_team_it_routes() {
    for (label, text, _) in common::shipped_specs() {
        let stack = stackctl::load::load_text("stack.yaml", text).stack.unwrap();
        let Some(alerting) = &stack.alerting else {
            continue;
        };
        let mut routed = BTreeSet::new();
        let mut stack_routes = vec![&alerting.route];
        while let Some(r) = stack_routes.pop() {
            for m in &r.matchers {
                if (m.name == "severity" || m.name == "team")
                    && m.op == stackctl::model::types::MatchOp::Eq
                {
                    routed.insert((m.name.clone(), m.value.clone()));
                }
            }
            stack_routes.extend(r.routes.iter());
        }
        assert!(!routed.is_empty(), "{label} routes by severity or team");
        for (name, value) in routed {
            let expected = alerting
                .tests
                .iter()
                .any(|t| t.labels.get(&name) == Some(&value));
            assert!(
                expected,
                "{label}: no alerting.tests entry with {name}={value}"
            );
        }
    }
}
