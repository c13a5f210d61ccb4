use super::*;

const SPEC: &str = "stackctl: 1
name: t
components:
  prometheus: {}
  grafana: {}
  loki: {}
dashboards:
  - uid: node
    file: node.json
";

fn stack(spec: &str) -> Stack {
    crate::load::load_text("stack.yaml", spec.to_string())
        .stack
        .expect("spec loads")
}

/// (line, column, code, message) of each finding of `json` under `spec`.
fn findings_with(spec: &str, json: &str) -> Vec<(usize, usize, &'static str, String)> {
    let mut out: Vec<_> = check(&stack(spec), 0, "node.json", json)
        .into_iter()
        .map(|d| {
            let start = d
                .region
                .map(|r| (r.start.line, r.start.col))
                .unwrap_or((0, 0));
            assert_eq!(
                d.file("stack.yaml"),
                if d.source.is_some() {
                    "node.json"
                } else {
                    "stack.yaml"
                }
            );
            (start.0, start.1, d.code.unwrap_or(""), d.message)
        })
        .collect();
    out.sort();
    out
}

fn findings(json: &str) -> Vec<(usize, usize, &'static str, String)> {
    findings_with(SPEC, json)
}

fn panel(datasource: &str, expr: &str) -> String {
    format!(
        "{{\"panels\": [{{\"type\": \"timeseries\", \"title\": \"P\", \"datasource\": {datasource},\n \"targets\": [{{\"expr\": {}}}]}}],\n \"templating\": {{\"list\": [{{\"name\": \"job\", \"type\": \"query\"}}, {{\"name\": \"ds\", \"type\": \"datasource\", \"query\": \"prometheus\"}}, {{\"name\": \"logs\", \"type\": \"datasource\", \"query\": \"loki\"}}]}}}}",
        serde_json::to_string(expr).unwrap()
    )
}

#[test]
fn the_issue_example_fails_with_positions_in_the_file() {
    let json = "{\n  \"panels\": [\n    {\n      \"type\": \"singlestat\",\n      \"title\": \"CPU\",\n      \"targets\": [\n        { \"expr\": \"sum(rate(node_cpu_seconds_total[5m]) by mode\" }\n      ]\n    }\n  ]\n}\n";
    let found = findings(json);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!((found[0].0, found[0].1, found[0].2), (4, 15, "dashboards"));
    assert_eq!(
        found[0].3,
        "panel `CPU` has type `singlestat`, which was removed in Grafana 8 (this stack pins Grafana 13.2.0)"
    );
    assert_eq!(found[1].2, "promql");
    assert_eq!(found[1].0, 7);
    assert!(
        found[1]
            .3
            .starts_with("invalid PromQL in panel `CPU` of dashboard `node`: "),
        "{}",
        found[1].3
    );
}

#[test]
fn grafana_variables_keep_their_types() {
    let ok = [
        "sum(rate(x{job=~\"$job\"}[$__rate_interval]))",
        "rate(x[$__interval]) * $__range_s",
        "increase(x[$__range])",
        "rate(x{job=\"${job}\"}[${__rate_interval}])",
        "rate(x{job=~\"${job:regex}\", i=~\"${job:pipe}\"}[5m])",
        "rate(x{job=~\"[[job]]\"}[5m])",
        "rate(x[[[job]]])",
        "topk by (job) ($job, rate(x[$__rate_interval]))",
        "label_replace(up{job=\"$job\"}, \"host\", \"$1\", \"instance\", \"(.*):.*\")",
        "# requests per second, by $job\nsum by (job) (rate(x[5m]))",
        "sum by (job) (rate(x[5m])) # don't count $retries",
        "x offset $job",
        "up{$job=\"a\"}",
    ];
    for expr in ok {
        // `x` is produced by nothing in SPEC: that warning is not the point here.
        let found: Vec<_> = findings(&panel("null", expr))
            .into_iter()
            .filter(|f| f.2 != "metric-unknown")
            .collect();
        assert_eq!(found, vec![], "{expr}");
    }
}

#[test]
fn file_queries_get_metric_and_version_checks_like_spec_panels() {
    let spec = "stackctl: 1
name: t
components:
  prometheus:
    version: v2.42.0
  grafana: {}
dashboards:
  - uid: node
    file: node.json
";
    let json = "{\"panels\": [{\"type\": \"timeseries\", \"title\": \"P\",\n \"targets\": [{\"expr\": \"histogram_avg(rate(node_load1[5m]))\"}]}],\n \"annotations\": {\"list\": [{\"name\": \"Restarts\", \"datasource\": {\"type\": \"prometheus\"},\n \"expr\": \"changes(process_start_time_seconds[5m]) > 0 and sum(\"}]}}";
    let found = findings_with(spec, json);
    let codes: Vec<(usize, &str)> = found.iter().map(|f| (f.0, f.2)).collect();
    assert_eq!(
        codes,
        vec![
            (2, "version"),
            (2, "metric-exporter-missing"),
            (4, "promql")
        ],
        "{found:#?}"
    );
    assert_eq!(
        (found[0].1, found[0].3.as_str()),
        (
            24,
            "`histogram_avg` needs Prometheus 2.53 or later (this stack pins v2.42.0)"
        )
    );
    assert_eq!(
        (found[1].1, found[1].3.as_str()),
        (
            43,
            "`node_load1` comes from node_exporter, which this stack does not run"
        )
    );
    assert!(found[2].3.contains("annotation `Restarts`"), "{found:#?}");
}

#[test]
fn promql_errors_point_into_the_json_string() {
    // `\"` escapes in the file: the caret is under `by` in the file.
    let json = panel("null", "sum(x{a=\"b\"}) by job");
    let found = findings(&json);
    assert_eq!(found.len(), 1, "{found:#?}");
    let line = json.lines().nth(found[0].0 - 1).unwrap();
    let col = found[0].1 - 1;
    assert_eq!(&line.chars().skip(col).take(3).collect::<String>(), "job");
}

#[test]
fn only_prometheus_targets_are_promql() {
    // LogQL on a Loki datasource (by uid, by variable) is not PromQL.
    for ds in [
        "{\"type\": \"loki\", \"uid\": \"loki\"}",
        "\"$logs\"",
        "\"Loki\"",
    ] {
        assert_eq!(
            findings(&panel(ds, "{job=\"x\"} |= \"error\" |")),
            vec![],
            "{ds}"
        );
    }
    // Prometheus by uid, by name, by variable, by type only, by default: PromQL.
    for ds in [
        "{\"type\": \"prometheus\", \"uid\": \"prometheus\"}",
        "\"Prometheus\"",
        "\"${ds}\"",
        "{\"type\": \"prometheus\"}",
        "null",
    ] {
        let found = findings(&panel(ds, "sum(x"));
        assert_eq!(
            found.iter().map(|f| f.2).collect::<Vec<_>>(),
            vec!["promql"],
            "{ds}"
        );
    }
}

#[test]
fn mixed_panels_use_each_targets_datasource() {
    let json = r#"{"panels": [{"type": "timeseries", "title": "M",
      "datasource": {"type": "datasource", "uid": "-- Mixed --"},
      "targets": [
        {"datasource": {"type": "loki", "uid": "loki"}, "expr": "{a=\"b\"} |= \"x\" |"},
        {"expr": "sum(y"}
      ]}]}"#;
    let found = findings(json);
    assert_eq!(
        found.iter().map(|f| (f.0, f.2)).collect::<Vec<_>>(),
        vec![(5, "promql")]
    );
}

#[test]
fn rows_nested_legacy_and_library_panels_count() {
    let json = r#"{
 "panels": [
  {"type": "row", "title": "R", "collapsed": true, "datasource": {"uid": "gone"}, "targets": [{"datasource": {"uid": "gone"}}],
   "panels": [{"type": "graph", "title": "Inside", "targets": [{"expr": "sum(a"}]}]}
 ],
 "rows": [{"panels": [{"type": "table-old", "title": "Legacy"}]}],
 "__elements": {"abc": {"model": {"type": "grafana-piechart-panel", "title": "Lib"}}}
}"#;
    let found = findings(json);
    let got: Vec<_> = found
        .iter()
        .map(|f| (f.0, f.2, f.3.split(',').next().unwrap().to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                4,
                "dashboards",
                "panel `Inside` has type `graph`".to_string()
            ),
            (
                4,
                "promql",
                "invalid PromQL in panel `Inside` of dashboard `node`: unclosed left parenthesis"
                    .to_string()
            ),
            (
                6,
                "dashboards",
                "panel `Legacy` has type `table-old`".to_string()
            ),
            (
                7,
                "dashboards",
                "panel `Lib` has type `grafana-piechart-panel`".to_string()
            ),
        ]
    );
}

#[test]
fn removed_types_name_what_grafana_migrates_them_to() {
    let json = r#"{"panels": [
      {"type": "graph", "title": "A", "xaxis": {"mode": "series"}, "legend": {"values": true}},
      {"type": "graph", "title": "B", "xaxis": {"mode": "histogram"}},
      {"type": "natel-discrete-panel", "title": "C"}
    ]}"#;
    let hints: Vec<String> = check(&stack(SPEC), 0, "node.json", json)
        .into_iter()
        .map(|d| d.hint.unwrap_or_default())
        .collect();
    assert!(hints[0].contains("`bargauge`"), "{hints:?}");
    assert!(hints[1].contains("`histogram`"), "{hints:?}");
    assert!(hints[2].contains("`state-timeline`"), "{hints:?}");
    // On Grafana 11 an Angular panel is a warning; `singlestat` stays an error.
    let old = SPEC.replace("grafana: {}", "grafana: {version: 11.6.0}");
    let severities: Vec<_> = check(
        &stack(&old),
        0,
        "node.json",
        r#"{"panels": [{"type": "graph", "title": "G"}, {"type": "singlestat", "title": "S"}]}"#,
    )
    .into_iter()
    .map(|d| d.severity)
    .collect();
    assert_eq!(
        severities,
        vec![crate::diag::Severity::Warning, crate::diag::Severity::Error]
    );
}

const EXPORTED: &str = r#"{
  "__inputs": [
    {"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus"}
  ],
  "panels": [
    {"type": "timeseries", "title": "P", "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
     "targets": [{"datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, "expr": "up"}]}
  ]
}"#;

#[test]
fn import_placeholders_are_reported_unless_bound() {
    let found = findings(EXPORTED);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].0, found[0].1, found[0].2),
        (3, 14, "dashboard-input")
    );
    assert_eq!(
        found[0].3,
        "dashboard file uses import placeholder `${DS_PROMETHEUS}` (declared in `__inputs`), which file provisioning leaves unresolved"
    );
    let bound = format!("{SPEC}    bind_inputs: true\n");
    assert_eq!(findings_with(&bound, EXPORTED), vec![]);
    let named = format!("{SPEC}    inputs: {{DS_PROMETHEUS: prometheus}}\n");
    assert_eq!(findings_with(&named, EXPORTED), vec![]);
    // A binding to a Loki datasource, and one for an input the file lacks.
    let wrong = format!("{SPEC}    inputs: {{DS_PROMETHEUS: loki, DS_PROM: prometheus}}\n");
    let found = findings_with(&wrong, EXPORTED);
    let messages: Vec<&str> = found.iter().map(|f| f.3.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "`node.json` declares no input `DS_PROM`",
            "input `DS_PROMETHEUS` wants a `prometheus` datasource, and `loki` is a `loki` one",
        ]
    );
}

#[test]
fn datasources_the_stack_does_not_provision() {
    let json = r#"{"panels": [
      {"type": "timeseries", "title": "A", "datasource": {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}, "targets": [{"expr": "up"}]},
      {"type": "timeseries", "title": "B", "datasource": {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}, "targets": [{"expr": "up"}]},
      {"type": "timeseries", "title": "C", "datasource": "prometheuss", "targets": [{"expr": "up"}]},
      {"type": "timeseries", "title": "D", "datasource": "${DS_NOWHERE}", "targets": [{"expr": "up"}]},
      {"type": "text", "title": "E", "datasource": {"type": "datasource", "uid": "grafana"}}
    ]}"#;
    let found = findings(json);
    let got: Vec<_> = found.iter().map(|f| (f.0, f.2, f.3.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (
                2,
                "dashboard-datasource",
                "datasource uid `P1809F7CD0C75ACF3` is not provisioned by this stack (2 places; this is the first)"
            ),
            (
                4,
                "dashboard-datasource",
                "datasource name `prometheuss` is not provisioned by this stack"
            ),
            (
                5,
                "dashboard-datasource",
                "datasource `${DS_NOWHERE}` is neither a variable of this dashboard nor one of its `__inputs`"
            ),
        ]
    );
    let hint = check(&stack(SPEC), 0, "node.json", json)
        .into_iter()
        .find(|d| d.message.contains("prometheuss"))
        .and_then(|d| d.hint);
    assert_eq!(hint.as_deref(), Some("did you mean `prometheus`?"));
}

#[test]
fn undefined_variables_and_variable_queries() {
    let json = r#"{"panels": [{"type": "timeseries", "title": "P", "targets": [{"expr": "up{job=\"$jbo\"}"}]}],
      "templating": {"list": [
        {"name": "job", "type": "query", "query": {"query": "label_values(sum(up{job=~\"$job\"}) by job, job)", "refId": "A"}},
        {"name": "instance", "type": "query", "query": "label_values(up{job=~\"$job\"}, instance)"}
      ]}}"#;
    let found = findings(json);
    let got: Vec<_> = found.iter().map(|f| (f.0, f.2, f.3.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (
                1,
                "dashboard-variable",
                "panel `P` uses `$jbo`, which dashboard `node` does not define"
            ),
            (
                3,
                "promql",
                "invalid PromQL in variable `job` of dashboard `node`: unexpected identifier \"job\" in grouping opts, expected \"(\""
            ),
        ]
    );
}
