//! Grafana's datasources: the spec's list, or one per enabled backend, and
//! where each points by default. Decided here once; `check`, the plan, the
//! Kubernetes target and `verify` read the result.

use crate::model::stack::{Datasource, DatasourceKind};
use crate::model::{Kind, Stack};

/// The index an Elasticsearch datasource reads when neither it nor a
/// Logstash pipeline names one.
pub const DEFAULT_INDEX: &str = "logs-*";
/// The time field of an Elasticsearch datasource that names none.
pub const DEFAULT_TIME_FIELD: &str = "@timestamp";

/// The datasources Grafana gets: the spec's list, or one per enabled component.
pub fn effective_datasources(stack: &Stack) -> Vec<Datasource> {
    if let Some(list) = &stack.datasources {
        return list.clone();
    }
    let mut out = Vec::new();
    let derive = |kind: DatasourceKind, name: &str, default: bool| Datasource {
        name: name.to_string(),
        uid: kind.as_str().to_string(),
        kind,
        url: None,
        default: Some(default),
        editable: None,
        index: None,
        time_field: None,
    };
    if stack.has(Kind::Prometheus) {
        out.push(derive(DatasourceKind::Prometheus, "Prometheus", true));
    }
    if stack.has(Kind::Loki) {
        out.push(derive(DatasourceKind::Loki, "Loki", false));
    }
    if stack.has(Kind::Jaeger) {
        out.push(derive(DatasourceKind::Jaeger, "Jaeger", false));
    }
    if stack.has(Kind::Tempo) {
        out.push(derive(DatasourceKind::Tempo, "Tempo", false));
    }
    if stack.has(Kind::Alertmanager) {
        out.push(derive(DatasourceKind::Alertmanager, "Alertmanager", false));
    }
    if stack.has(Kind::Elasticsearch) {
        let mut es = derive(DatasourceKind::Elasticsearch, "Elasticsearch", false);
        es.index = Some(default_log_index(stack));
        out.push(es);
    }
    out
}

/// The index pattern the logs land in: the first Logstash pipeline's index as a wildcard.
pub fn default_log_index(stack: &Stack) -> String {
    stack
        .components
        .logstash
        .as_ref()
        .and_then(|l| l.pipelines.values().next())
        .map(|p| {
            let base = p.index.split("%{").next().unwrap_or(&p.index);
            format!("{}*", base.trim_end_matches(['-', '.']).to_string() + "-")
        })
        .unwrap_or_else(|| DEFAULT_INDEX.to_string())
}

/// The datasource a trace ID in a log line opens: Jaeger's, else Tempo's.
pub fn trace_datasource(sources: &[Datasource]) -> Option<&Datasource> {
    [DatasourceKind::Jaeger, DatasourceKind::Tempo]
        .into_iter()
        .find_map(|kind| sources.iter().find(|s| s.kind == kind))
}

pub fn component_for(kind: DatasourceKind) -> Kind {
    match kind {
        DatasourceKind::Prometheus => Kind::Prometheus,
        DatasourceKind::Loki => Kind::Loki,
        DatasourceKind::Jaeger => Kind::Jaeger,
        DatasourceKind::Tempo => Kind::Tempo,
        DatasourceKind::Elasticsearch => Kind::Elasticsearch,
        DatasourceKind::Alertmanager => Kind::Alertmanager,
    }
}

/// The URL Grafana uses to reach a component of the stack (inside the
/// stack's network).
pub fn default_url(kind: Kind) -> String {
    let port = kind
        .info()
        .datasource_port
        .and_then(|name| kind.port(name))
        .map_or(80, |p| p.container);
    format!("http://{}:{port}", kind.service())
}

/// Whether a datasource points at the stack's own component (no `url` of
/// its own, and the component is deployed).
pub fn is_own(stack: &Stack, ds: &Datasource) -> bool {
    ds.url.is_none() && stack.has(component_for(ds.kind))
}
