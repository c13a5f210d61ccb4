//! The Grafana datasource on Tempo (type `tempo`): from a span to its logs
//! in Loki, and the service map from the metrics generator's series in
//! Prometheus.

use crate::model::Stack;
use crate::model::stack::{Datasource, DatasourceKind, Query};
use serde_json::{Map, Value, json};

/// Fills the `jsonData` of a Tempo datasource. `sources` are all of
/// Grafana's datasources, so the links use their UIDs.
pub fn json_data(stack: &Stack, sources: &[Datasource], json_data: &mut Map<String, Value>) {
    if let Some(loki) = sources.iter().find(|s| s.kind == DatasourceKind::Loki) {
        // Loki 3 fills `service_name` from the pushing service; the trace ID
        // is searched as text in the lines of the span's time range.
        json_data.insert(
            "tracesToLogsV2".into(),
            json!({
                "datasourceUid": loki.uid,
                "spanStartTimeShift": "-5m",
                "spanEndTimeShift": "5m",
                "filterByTraceID": true,
                "filterBySpanID": false,
                "tags": [{"key": "service.name", "value": "service_name"}],
            }),
        );
    }
    let generates = stack
        .components
        .tempo
        .as_ref()
        .is_some_and(|t| t.metrics_generator == Some(true));
    if generates {
        if let Some(prometheus) = sources
            .iter()
            .find(|s| s.kind == DatasourceKind::Prometheus)
        {
            json_data.insert(
                "serviceMap".into(),
                json!({"datasourceUid": prometheus.uid}),
            );
            json_data.insert("nodeGraph".into(), json!({"enabled": true}));
        }
    }
    json_data.insert("streamingEnabled".into(), json!({"search": true}));
}

/// A dashboard query on Tempo: `expr` is TraceQL (`{ resource.service.name = "api" && status = error }`),
/// searched as Grafana's `traceql` query type.
pub fn panel_target(t: &mut Map<String, Value>, q: &Query) {
    t.insert("queryType".into(), json!("traceql"));
    t.insert("query".into(), json!(q.expr));
    t.insert("limit".into(), json!(q.limit.unwrap_or(20)));
}
