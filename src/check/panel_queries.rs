//! Dashboard queries against the kind of datasource their panel queries:
//! each kind has its own query shape in Grafana (PromQL/LogQL `expr`,
//! Elasticsearch `query` + `metrics` + `bucketAggs`, Jaeger search fields or
//! a trace ID). A query written for another kind cannot be expressed, and is
//! reported here instead of being dropped from the rendered dashboard.

use super::Findings;
use crate::model::Stack;
use crate::model::stack::{DatasourceKind, PanelKind, Query};
use crate::path;
use crate::yaml::node::Path;

/// The fields of a query that only some datasource kinds have.
fn set_fields(q: &Query) -> Vec<(&'static str, &'static [DatasourceKind])> {
    use DatasourceKind::{Elasticsearch as Es, Jaeger, Loki, Prometheus, Tempo};
    let mut out: Vec<(&'static str, &'static [DatasourceKind])> = Vec::new();
    let promql: &'static [DatasourceKind] = &[Prometheus, Loki];
    let es: &'static [DatasourceKind] = &[Es];
    let jaeger: &'static [DatasourceKind] = &[Jaeger];
    let traces: &'static [DatasourceKind] = &[Jaeger, Tempo];
    let legend: &'static [DatasourceKind] = &[Prometheus, Loki, Es];
    let checks: [(&'static str, bool, &'static [DatasourceKind]); 11] = [
        ("instant", q.instant.is_some(), promql),
        ("legend", q.legend.is_some(), legend),
        ("metric", q.metric.is_some(), es),
        ("field", q.field.is_some(), es),
        ("group_by", q.group_by.is_some(), es),
        ("service", q.service.is_some(), jaeger),
        ("operation", q.operation.is_some(), jaeger),
        ("tags", q.tags.is_some(), jaeger),
        ("min_duration", q.min_duration.is_some(), jaeger),
        ("max_duration", q.max_duration.is_some(), jaeger),
        ("limit", q.limit.is_some(), traces),
    ];
    for (name, set, kinds) in checks {
        if set {
            out.push((name, kinds));
        }
    }
    out
}

fn kinds_text(kinds: &[DatasourceKind]) -> String {
    let names: Vec<String> = kinds.iter().map(|k| format!("`{}`", k.as_str())).collect();
    names.join(" and ")
}

/// A Jaeger trace ID: 1 to 32 hexadecimal digits.
fn is_trace_id(text: &str) -> bool {
    (1..=32).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit())
}

pub fn check(stack: &Stack, found: &mut Findings) {
    let datasources = super::dashboards::effective_datasources(stack);
    for (d, dash) in stack.dashboards.iter().enumerate() {
        for (r, row) in dash.rows.iter().enumerate() {
            for (p, panel) in row.panels.iter().enumerate() {
                let Some(ds) = crate::plan::dashboard::panel_datasource(panel, &datasources) else {
                    continue;
                };
                let kind = ds.kind;
                for (i, q) in panel.queries.iter().enumerate() {
                    let at = |field: &str| -> Path {
                        path!["dashboards", d, "rows", r, "panels", p, "queries", i, field]
                    };
                    let whose = format!(
                        "panel `{}` queries {} datasource `{}`",
                        panel.title,
                        kind.as_str(),
                        ds.uid
                    );
                    for (field, kinds) in set_fields(q) {
                        if !kinds.contains(&kind) {
                            found.error(
                                at(field),
                                format!(
                                    "`{field}` cannot be expressed in this query: {whose}, and `{field}` applies to {} datasources only",
                                    kinds_text(kinds)
                                ),
                                "point the panel's `datasource` at the right kind, or remove the field",
                            );
                        }
                    }
                    match kind {
                        DatasourceKind::Prometheus
                        | DatasourceKind::Loki
                        | DatasourceKind::Tempo => {
                            if q.expr.trim().is_empty() {
                                found.error(
                                    at("expr"),
                                    format!("empty `expr`: {whose}"),
                                    "write the query in `expr`",
                                );
                            }
                        }
                        DatasourceKind::Elasticsearch => {
                            es_query(q, panel.kind, &whose, &at, found)
                        }
                        DatasourceKind::Jaeger => jaeger_query(q, &whose, &at, found),
                        DatasourceKind::Alertmanager => {}
                    }
                }
            }
        }
    }
}

fn es_query(
    q: &Query,
    panel: PanelKind,
    whose: &str,
    at: &dyn Fn(&str) -> Path,
    found: &mut Findings,
) {
    let Some(metric) = q.metric else {
        if q.field.is_some() {
            found.error(
                at("field"),
                format!("`field` without a `metric`: {whose}, and `count` reads no field"),
                "set `metric` to `avg`, `sum`, `min`, `max` or `cardinality`",
            );
        }
        return;
    };
    if metric.needs_field() && q.field.is_none() {
        found.error(
            at("metric"),
            format!("`metric: {}` needs a `field`: {whose}", metric.as_str()),
            "name the numeric field, e.g. `field: duration_ms`",
        );
    }
    if !metric.needs_field() && q.field.is_some() {
        found.error(
            at("field"),
            format!("`metric: {}` reads no field: {whose}", metric.as_str()),
            "remove `field`, or use `avg`, `sum`, `min`, `max` or `cardinality`",
        );
    }
    if metric.is_documents() && q.group_by.is_some() {
        found.error(
            at("group_by"),
            format!(
                "`metric: {}` returns documents, which cannot be grouped: {whose}",
                metric.as_str()
            ),
            "remove `group_by`, or use a numeric metric such as `count`",
        );
    }
    if panel == PanelKind::Logs && metric != crate::model::stack::EsMetric::Logs {
        found.error(
            at("metric"),
            format!(
                "a logs panel shows log lines, not `metric: {}`: {whose}",
                metric.as_str()
            ),
            "remove `metric` (a logs panel gets `logs`), or change the panel type",
        );
    }
}

fn jaeger_query(q: &Query, whose: &str, at: &dyn Fn(&str) -> Path, found: &mut Findings) {
    let expr = q.expr.trim();
    match (&q.service, expr.is_empty()) {
        (None, true) => found.error(
            at("expr"),
            format!("the query cannot be expressed: {whose}, which needs `service` (a trace search) or a trace ID in `expr`"),
            "add `service: NAME` (optionally `operation`, `tags`, `min_duration`, `max_duration`, `limit`)",
        ),
        (Some(_), false) => found.error(
            at("expr"),
            format!("`expr` and `service` together cannot be expressed: {whose}; a Jaeger query is a search or one trace"),
            "remove `expr` to search by service, or `service` to show one trace",
        ),
        (None, false) if !is_trace_id(expr) => found.error(
            at("expr"),
            format!("`{expr}` is not a trace ID: {whose}, whose `expr` is a trace ID (hexadecimal)"),
            "to search traces, remove `expr` and set `service` (and `tags`, `min_duration` …)",
        ),
        _ => {}
    }
    if q.service.is_none() {
        for (field, set) in [
            ("operation", q.operation.is_some()),
            ("tags", q.tags.is_some()),
            ("min_duration", q.min_duration.is_some()),
            ("max_duration", q.max_duration.is_some()),
            ("limit", q.limit.is_some()),
        ] {
            if set {
                found.error(
                    at(field),
                    format!("`{field}` narrows a trace search, which needs `service`: {whose}"),
                    "add `service: NAME`",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(yaml: &str) -> Vec<String> {
        let loaded = crate::load::load_text("stack.yaml", yaml.to_string());
        let mut found = Findings::default();
        check(loaded.stack.as_ref().expect("the spec loads"), &mut found);
        found.items.iter().map(|d| d.message.clone()).collect()
    }

    fn spec(query: &str) -> String {
        format!(
            "stackctl: 1\nname: t\ncomponents:\n  prometheus: {{}}\n  grafana: {{}}\n  jaeger: {{}}\n  elasticsearch: {{}}\ndashboards:\n  - uid: d\n    title: D\n    rows:\n      - panels:\n          - title: P\n            type: timeseries\n            datasource: DS\n            queries:\n              - {query}\n"
        )
    }

    #[test]
    fn queries_that_fit_their_datasource_pass() {
        for (ds, q) in [
            ("prometheus", "{expr: up, instant: true, legend: x}"),
            (
                "elasticsearch",
                "{expr: 'level:error', metric: avg, field: duration_ms, group_by: service}",
            ),
            ("elasticsearch", "{expr: ''}"),
            ("jaeger", "{service: api, tags: 'error=true', limit: 5}"),
            ("jaeger", "{expr: 4bf92f3577b34da6a3ce929d0e0e4736}"),
        ] {
            let got = messages(&spec(q).replace("DS", ds));
            assert!(got.is_empty(), "{ds} {q}: {got:?}");
        }
    }

    #[test]
    fn queries_that_cannot_be_expressed_are_reported() {
        let cases = [
            (
                "jaeger",
                "{expr: 'rate(traces[5m])'}",
                "`rate(traces[5m])` is not a trace ID: panel `P` queries jaeger datasource `jaeger`, whose `expr` is a trace ID (hexadecimal)",
            ),
            (
                "jaeger",
                "{expr: ''}",
                "the query cannot be expressed: panel `P` queries jaeger datasource `jaeger`, which needs `service` (a trace search) or a trace ID in `expr`",
            ),
            (
                "elasticsearch",
                "{expr: x, instant: true}",
                "`instant` cannot be expressed in this query: panel `P` queries elasticsearch datasource `elasticsearch`, and `instant` applies to `prometheus` and `loki` datasources only",
            ),
            (
                "elasticsearch",
                "{expr: x, metric: avg}",
                "`metric: avg` needs a `field`: panel `P` queries elasticsearch datasource `elasticsearch`",
            ),
            (
                "prometheus",
                "{expr: up, service: api}",
                "`service` cannot be expressed in this query: panel `P` queries prometheus datasource `prometheus`, and `service` applies to `jaeger` datasources only",
            ),
            (
                "jaeger",
                "{expr: abc, tags: 'a=b'}",
                "`tags` narrows a trace search, which needs `service`: panel `P` queries jaeger datasource `jaeger`",
            ),
        ];
        for (ds, q, want) in cases {
            let got = messages(&spec(q).replace("DS", ds));
            assert_eq!(got, [want.to_string()], "{ds} {q}");
        }
    }
}
