//! Dashboards brought as JSON files, checked with positions in the file:
//! every dashboard of the real-world corpus gives exactly the findings that
//! are really there, and each finding class has a fixture
//! (`tests/fixtures/dashboards/`, written for these tests) whose full text
//! diagnostic is asserted, the issue's example first.
//!
//! The real dashboards are trimmed public files committed in
//! `tests/fixtures/corpus/dashboards/` (source, commit and licence of each in
//! `tests/fixtures/corpus/README.md`); a larger checkout can be checked too
//! (`STACKCTL_DASHBOARD_CORPUS`), for false findings only.

use crate::common;

use common::{path_str, run};
use std::collections::BTreeMap;
use std::path::Path;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dashboards");

/// Panel types Grafana 13 no longer has (its `autoMigrateAngular` table, and
/// `singlestat`), for an independent count of what the check must report.
const REMOVED: [&str; 7] = [
    "graph",
    "table-old",
    "singlestat",
    "grafana-singlestat-panel",
    "grafana-piechart-panel",
    "grafana-worldmap-panel",
    "natel-discrete-panel",
];

fn spec(dashboards: &[(&str, &str)]) -> String {
    let mut s = String::from(
        "stackctl: 1
name: corpus
secrets:
  grafana_admin_password: {generate: true}
  grafana_secret_key: {generate: true}
components:
  prometheus: {}
  grafana: {}
  node_exporter: {}
dashboards:
",
    );
    for (i, (file, extra)) in dashboards.iter().enumerate() {
        s.push_str(&format!(
            "  - uid: d{i}\n    file: dashboards/{file}\n{extra}"
        ));
    }
    s
}

/// A stack directory holding `files` (copied from `from`) as dashboards.
fn stack_dir(from: &str, dashboards: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("dashboards")).unwrap();
    for (file, _) in dashboards {
        std::fs::copy(
            Path::new(from).join(file),
            dir.path().join("dashboards").join(file),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("stack.yaml"), spec(dashboards)).unwrap();
    dir
}

fn validate_json(dir: &Path) -> (i32, Vec<serde_json::Value>) {
    let (code, out, err) = run(&["validate", "--dir", path_str(dir), "--format", "json"]);
    let list: Vec<serde_json::Value> =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, list)
}

/// The real dashboards, trimmed into fixtures and committed (sources,
/// commits and licences in `tests/fixtures/corpus/README.md`).
const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/corpus/dashboards"
);

fn corpus_files(corpus: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(corpus)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    assert!(!files.is_empty(), "no dashboards in the corpus at {corpus}");
    files.sort();
    files
}

/// Titles of the panels of a dashboard whose type Grafana 13 removed, found
/// wherever panels live (panels, rows' panels, legacy rows).
fn removed_panels(json: &serde_json::Value) -> Vec<String> {
    fn walk(panels: &serde_json::Value, out: &mut Vec<String>) {
        for p in panels.as_array().into_iter().flatten() {
            let ty = p["type"].as_str().unwrap_or_default();
            if REMOVED.contains(&ty) {
                out.push(format!(
                    "panel `{}` has type `{ty}`",
                    p["title"].as_str().unwrap_or_default()
                ));
            }
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&json["panels"], &mut out);
    for row in json["rows"].as_array().into_iter().flatten() {
        walk(&row["panels"], &mut out);
    }
    out.sort();
    out
}

#[test]
fn every_corpus_dashboard_gives_exactly_its_real_findings() {
    let corpus = CORPUS;
    // code → count of the findings each file must give, beyond its removed
    // panel types (counted independently below). The stack runs Prometheus
    // and node_exporter only, so these are true: bind9's `bind_*` family
    // (one folded finding), cadvisor's `container_*`, the pre-0.16
    // node_exporter names of the old dashboard (`node_cpu`, …) and the
    // kube-prometheus recording rules and kube-state-metrics series.
    let expected: BTreeMap<&str, &[(&str, usize)]> = BTreeMap::from([
        (
            "bind9-full.json",
            &[("dashboard-input", 1), ("metric-unknown", 1)][..],
        ),
        ("dockprom-docker-host.json", &[][..]),
        (
            "dockprom-monitor-services.json",
            &[("metric-exporter-missing", 1), ("metric-unknown", 1)][..],
        ),
        ("grafana-overview.json", &[][..]),
        (
            "k8s-resources-cluster.json",
            &[
                ("metric-exporter-missing", 1),
                ("metric-unknown", 1),
                ("recording-rule-missing", 5),
            ][..],
        ),
        (
            "node-exporter-full-old.json",
            &[("dashboard-input", 1), ("metric-unknown", 9)][..],
        ),
        ("node-exporter-full.json", &[][..]),
        ("nodes.json", &[][..]),
    ]);
    let files = corpus_files(corpus);
    assert_eq!(
        files,
        expected.keys().map(|k| k.to_string()).collect::<Vec<_>>()
    );
    let dashboards: Vec<(&str, &str)> = files.iter().map(|f| (f.as_str(), "")).collect();
    let dir = stack_dir(corpus, &dashboards);
    let (code, findings) = validate_json(dir.path());
    assert_eq!(code, 1, "removed panel types are errors: {findings:#?}");
    let spec_errors: Vec<_> = findings
        .iter()
        .filter(|f| f["file"] == "stack.yaml" && f["severity"] == "error")
        .collect();
    assert!(spec_errors.is_empty(), "{spec_errors:#?}");
    let mut removed_total = 0;
    for file in &files {
        let shown = format!("{}/dashboards/{file}", path_str(dir.path()));
        let mine: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|f| f["file"] == shown.as_str())
            .collect();
        // Every finding has a position in the file.
        for f in &mine {
            assert!(
                f["line"].as_u64().unwrap() > 0 && f["column"].as_u64().unwrap() > 0,
                "{f}"
            );
        }
        let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
        for f in &mine {
            *by_code
                .entry(f["code"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(Path::new(&corpus).join(file)).unwrap())
                .unwrap();
        let want_removed = removed_panels(&json);
        removed_total += want_removed.len();
        let mut got_removed: Vec<String> = mine
            .iter()
            .filter(|f| f["code"] == "dashboards")
            .map(|f| {
                f["message"]
                    .as_str()
                    .unwrap()
                    .split(", which")
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        got_removed.sort();
        assert_eq!(got_removed, want_removed, "{file}");
        let mut want: BTreeMap<String, usize> = expected[file.as_str()]
            .iter()
            .map(|(c, n)| (c.to_string(), *n))
            .collect();
        if !want_removed.is_empty() {
            want.insert("dashboards".into(), want_removed.len());
        }
        assert_eq!(by_code, want, "{file}: {mine:#?}");
    }
    // The corpus does exercise the removed-type check.
    assert!(removed_total >= 8, "{removed_total}");
    eprintln!(
        "{} corpus dashboards validated: {removed_total} removed panel types, 2 unresolved inputs and the metric findings listed, nothing else",
        files.len()
    );
}

#[test]
fn bound_inputs_validate_and_render_with_the_stacks_uids() {
    // Bound by type (`bind_inputs`) and by name (`inputs:`), each validates clean.
    for binding in [
        "    bind_inputs: true\n",
        "    inputs: {DS_PROM: prometheus}\n",
    ] {
        let dashboards = [("unresolved-input.json", binding)];
        let dir = stack_dir(FIXTURES, &dashboards);
        let (code, findings) = validate_json(dir.path());
        assert_eq!(code, 0, "{binding}: {findings:#?}");
        let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
        assert_eq!(code, 0, "{err}");
        let rendered =
            std::fs::read_to_string(dir.path().join("grafana/dashboards/general/d0.json")).unwrap();
        assert!(!rendered.contains("${DS_PROM}"), "placeholder left");
        let json: serde_json::Value = serde_json::from_str(&rendered).unwrap();
        assert!(json.get("__inputs").is_none());
        assert_eq!(json["panels"][0]["datasource"]["uid"], "prometheus");
    }
    // Without binding, render refuses and writes nothing.
    let dir = stack_dir(FIXTURES, &[("unresolved-input.json", "")]);
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("import placeholder `${DS_PROM}`"), "{err}");
    assert!(!dir.path().join("grafana").exists());
}

/// Runs `validate` (text) on one fixture and returns (exit code, stderr).
fn validate_fixture(file: &str, extra: &[&str]) -> (i32, String) {
    let dir = stack_dir(FIXTURES, &[(file, "")]);
    let mut args = vec!["validate", "--dir", path_str(dir.path())];
    args.extend_from_slice(extra);
    let (code, _, err) = run(&args);
    let prefix = format!("{}/", path_str(dir.path()));
    (code, err.replace(&prefix, ""))
}

#[test]
fn the_issue_example_fails_with_positions_in_the_json_file() {
    let (code, err) = validate_fixture("issue-13-node.json", &[]);
    assert_eq!(code, 1, "{err}");
    let want_type = "dashboards/issue-13-node.json:18:15: error: panel `CPU busy` has type `singlestat`, which was removed in Grafana 8 (this stack pins Grafana 13.2.0)
   |
18 |       \"type\": \"singlestat\",
   |               ^^^^^^^^^^^^
   = help: Grafana migrates it to `stat` when the dashboard loads, dropping options that have no equivalent; change the panel to `\"type\": \"stat\"` and review it
";
    let want_promql = "dashboards/issue-13-node.json:24:57: error: invalid PromQL in panel `CPU busy` of dashboard `d0`: unclosed left parenthesis
   |
24 |           \"expr\": \"sum(rate(node_cpu_seconds_total[5m]) by mode\",
   |                                                         ^
   = help: every `(` needs a matching `)`
";
    assert!(err.contains(want_type), "{err}");
    assert!(err.contains(want_promql), "{err}");
}

#[test]
fn each_finding_class_has_a_fixture() {
    let cases: [(&str, i32, &str); 4] = [
        (
            "unresolved-input.json",
            1,
            "dashboards/unresolved-input.json:4:15: error: dashboard file uses import placeholder `${DS_PROM}` (declared in `__inputs`), which file provisioning leaves unresolved",
        ),
        (
            "unprovisioned-datasource.json",
            1,
            "dashboards/unprovisioned-datasource.json:9:16: error: datasource uid `P4169E866C3094E38` is not provisioned by this stack (2 places; this is the first)",
        ),
        (
            "undefined-variable.json",
            0,
            "dashboards/undefined-variable.json:14:61: warning: panel `Requests` uses `$intance`, which dashboard `d0` does not define",
        ),
        (
            "angular-plugin.json",
            1,
            "dashboards/angular-plugin.json:5:15: error: panel `Share` has type `grafana-piechart-panel`, which was removed with Angular in Grafana 12 (this stack pins Grafana 13.2.0)",
        ),
    ];
    for (file, want_code, want) in cases {
        let (code, err) = validate_fixture(file, &[]);
        assert_eq!(code, want_code, "{file}: {err}");
        assert!(err.contains(want), "{file}:\n{err}");
    }
    let (code, err) = validate_fixture("undefined-variable.json", &["--deny-warnings"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn json_output_names_the_dashboard_file() {
    let dir = stack_dir(FIXTURES, &[("issue-13-node.json", "")]);
    let (_, findings) = validate_json(dir.path());
    let file = format!("{}/dashboards/issue-13-node.json", path_str(dir.path()));
    let promql = findings
        .iter()
        .find(|f| f["code"] == "promql")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(promql["file"], file.as_str());
    assert_eq!(
        (promql["line"].as_u64(), promql["column"].as_u64()),
        (Some(24), Some(57))
    );
    assert_eq!(promql["severity"], "error");
    assert_eq!(promql["hint"], "every `(` needs a matching `)`");
}

#[test]
fn bindings_need_a_file_dashboard() {
    let spec = "stackctl: 1
name: t
components:
  prometheus: {}
  grafana: {}
dashboards:
  - uid: spec-made
    title: Spec made
    bind_inputs: true
    rows:
      - panels:
          - title: Up
            type: stat
            queries:
              - expr: up
";
    let dir = common::spec_dir(spec);
    let (code, _, err) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("stack.yaml:9:5: error: `bind_inputs` binds the `__inputs` of a dashboard `file`, and this dashboard has none"),
        "{err}"
    );
}
