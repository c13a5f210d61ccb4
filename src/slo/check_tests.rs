//! `validate` on `slos:`: one mistake per spec, with the exact message and
//! the line and column it is reported at.

use crate::diag::Severity;
use crate::load::load_text;

const HEAD: &str = "stackctl: 1
name: t
components:
  prometheus:
    version: v3.14.0
    retention_time: 30d
scrape_jobs:
  - name: api
    targets: [localhost:8000]
";

/// The findings of the `slo`/`promql`/metrics checks: (severity, line, col, message).
fn findings(spec: &str) -> Vec<(Severity, usize, usize, String)> {
    let loaded = load_text("stack.yaml", spec.to_string());
    loaded
        .diagnostics
        .iter()
        .filter(|d| matches!(d.code, Some("slo" | "promql" | "metric-unknown")))
        .map(|d| {
            let start = d.region.expect("positioned").start;
            (d.severity, start.line, start.col, d.message.clone())
        })
        .collect()
}

fn one(spec: &str) -> (Severity, usize, usize, String) {
    let found = findings(spec);
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}

fn ratio(extra: &str, objective: &str, errors: &str) -> String {
    format!(
        "{HEAD}slos:
  - name: availability
    service: api
    objective: {objective}
    sli:
      ratio:
        errors: {errors}
        total: http_requests_total{{job=\"api\"}}
{extra}"
    )
}

const ERRORS: &str = "http_requests_total{job=\"api\",code=~\"5..\"}";

#[test]
fn a_valid_slo_has_no_findings_and_expands() {
    let spec = ratio("", "99.9", ERRORS);
    assert_eq!(findings(&spec), vec![]);
    let loaded = load_text("stack.yaml", spec);
    let stack = loaded.stack.unwrap();
    assert!(stack.rules.contains_key("slo-api-availability"));
}

#[test]
fn objectives_must_be_percentages_in_range() {
    assert_eq!(
        one(&ratio("", "100", ERRORS)),
        (
            Severity::Error,
            13,
            16,
            "objective 100 is out of range".into()
        )
    );
    assert_eq!(
        one(&ratio("", "0.999", ERRORS)),
        (
            Severity::Error,
            13,
            16,
            "objective 0.999 is a percentage, not a ratio".into()
        )
    );
}

#[test]
fn queries_need_their_window_and_valid_promql() {
    assert_eq!(
        one(&ratio("", "99", "sum(rate(x[5m]))")),
        (
            Severity::Error,
            16,
            17,
            "this SLI query has no `$window`".into()
        )
    );
    // The position is inside the query, past the `$window` substitution.
    let (severity, line, col, message) = one(&ratio("", "99", "sum(rate(x[$window])) +"));
    assert_eq!((severity, line), (Severity::Error, 16));
    assert!(col > 17, "{col}");
    assert!(
        message.starts_with("invalid PromQL in the SLI"),
        "{message}"
    );
}

#[test]
fn metrics_nothing_produces_are_warned_at_the_query() {
    let spec = ratio("", "99", ERRORS).replace(
        "scrape_jobs:\n  - name: api\n    targets: [localhost:8000]\n",
        "",
    );
    let found = findings(&spec);
    assert_eq!(
        found,
        vec![
            (
                Severity::Warning,
                13,
                17,
                "no scrape job in this stack produces `http_requests_total`".into()
            ),
            (
                Severity::Warning,
                14,
                16,
                "no scrape job in this stack produces `http_requests_total`".into()
            ),
        ]
    );
}

#[test]
fn latency_thresholds_must_be_a_bucket_boundary() {
    let spec = format!(
        "{HEAD}slos:
  - name: latency
    service: api
    objective: 95
    sli:
      latency:
        histogram: http_request_duration_seconds
        threshold: 0.4
        buckets: [0.1, 0.5, 1]
"
    );
    assert_eq!(
        one(&spec),
        (
            Severity::Error,
            17,
            20,
            "`http_request_duration_seconds` has no bucket `le=\"0.4\"`: the listed buckets are 0.1, 0.5, 1".into()
        )
    );
    // Prometheus' own HTTP histogram: its buckets are known without a list.
    let spec = spec
        .replace(
            "http_request_duration_seconds",
            "prometheus_http_request_duration_seconds",
        )
        .replace("threshold: 0.4", "threshold: 0.5")
        .replace("        buckets: [0.1, 0.5, 1]\n", "");
    assert_eq!(
        one(&spec).3,
        "`prometheus_http_request_duration_seconds` has no bucket `le=\"0.5\"`: its exporter's buckets are 0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120"
    );
}

#[test]
fn windows_and_retention_are_consistent() {
    let spec = ratio("    window: 1h\n", "99", ERRORS);
    assert_eq!(
        one(&spec),
        (
            Severity::Error,
            18,
            13,
            "an SLO window of 1h is shorter than a day".into()
        )
    );
    let spec = ratio("", "99", ERRORS).replace("    retention_time: 30d\n", "");
    assert_eq!(
        one(&spec),
        (
            Severity::Warning,
            10,
            5,
            "Prometheus keeps 15d (the default) of samples, less than this SLO's 30d window".into()
        )
    );
}

#[test]
fn one_sli_kind_and_no_reserved_labels() {
    let spec = format!(
        "{HEAD}slos:
  - name: accuracy
    service: model
    objective: 99
    sli:
      threshold:
        query: avg(model_accuracy_score)
        min: 0.9
      ratio:
        errors: x
        total: y
"
    );
    assert_eq!(
        one(&spec),
        (
            Severity::Error,
            15,
            7,
            "the SLI has more than one kind".into()
        )
    );
    let spec = ratio("    labels:\n      slo_id: mine\n", "99", ERRORS);
    assert_eq!(
        one(&spec),
        (
            Severity::Error,
            19,
            7,
            "label `slo_id` is set by stackctl on SLO series".into()
        )
    );
}

#[test]
fn names_clash_with_nothing() {
    let two = ratio("", "99", ERRORS)
        + "  - name: availability
    service: api
    objective: 99.5
    sli:
      ratio:
        errors: x
        total: y
";
    let found = findings(&two);
    assert!(
        found.contains(&(
            Severity::Error,
            18,
            11,
            "duplicate SLO `availability` of service `api`".into()
        )),
        "{found:?}"
    );
    let clash = ratio("", "99", ERRORS)
        + "rules:
  slo-api-availability:
    - name: mine
      rules:
        - record: a:b:c
          expr: vector(1)
";
    assert_eq!(
        one(&clash),
        (
            Severity::Error,
            11,
            11,
            "the rule file `slo-api-availability` of this SLO is also defined under `rules:`"
                .into()
        )
    );
}

#[test]
fn slos_need_prometheus() {
    let spec = "stackctl: 1
name: t
components:
  node_exporter: {}
slos:
  - name: up
    service: host
    objective: 99
    sli:
      threshold:
        query: min(up)
        min: 1
";
    let found = findings(spec);
    assert_eq!(
        found.first().map(|f| (f.1, f.3.as_str())),
        Some((
            5,
            "`slos:` need Prometheus, and `components.prometheus` is not enabled"
        ))
    );
}
