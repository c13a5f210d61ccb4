//! Dashboards described in the spec, as Grafana dashboard JSON (the classic
//! v1 schema, which Grafana 11–13 provision and migrate on load).
//!
//! Panels are laid out left to right on Grafana's 24-column grid, wrapping to
//! a new line when a panel does not fit; each titled row becomes a row panel.

use super::obj;
use crate::model::stack::{
    Dashboard, Datasource, DatasourceKind, EsMetric, Panel, PanelKind, Query, Reduce,
};
use serde_json::{Value, json};

/// Schema 39 is understood by Grafana 11.0 and every later release; newer
/// releases migrate it on load. A higher number would break older Grafanas.
pub const SCHEMA_VERSION: u32 = 39;

const GRID_WIDTH: u32 = 24;

/// The datasource a panel queries: its own, else the default one.
pub fn panel_datasource<'a>(
    panel: &Panel,
    datasources: &'a [Datasource],
) -> Option<&'a Datasource> {
    panel
        .datasource
        .as_ref()
        .and_then(|uid| datasources.iter().find(|d| &d.uid == uid))
        .or_else(|| default_datasource(datasources))
}

/// The default datasource: the one marked default, else Prometheus, else the first.
fn default_datasource(datasources: &[Datasource]) -> Option<&Datasource> {
    datasources
        .iter()
        .find(|d| d.default == Some(true))
        .or_else(|| {
            datasources
                .iter()
                .find(|d| d.kind == DatasourceKind::Prometheus)
        })
        .or_else(|| datasources.first())
}

pub fn to_json(dash: &Dashboard, datasources: &[Datasource]) -> Value {
    let default_ds = default_datasource(datasources);
    let mut panels: Vec<Value> = Vec::new();
    let mut id = 0u32;
    let mut y = 0u32;
    for row in &dash.rows {
        let mut children: Vec<Value> = Vec::new();
        let collapsed = row.collapsed == Some(true);
        let row_y = y;
        let row_id = id + 1;
        if row.title.is_some() {
            y += 1;
            id += 1;
        }
        let (mut x, mut line_height) = (0u32, 0u32);
        for panel in &row.panels {
            let w = u32::from(panel.width.unwrap_or(12)).clamp(1, GRID_WIDTH);
            let h = u32::from(panel.height.unwrap_or(8)).max(1);
            if x + w > GRID_WIDTH {
                y += line_height;
                x = 0;
                line_height = 0;
            }
            let ds = panel_datasource(panel, datasources);
            id += 1;
            children.push(panel_json(panel, id, ds, (x, y, w, h)));
            x += w;
            line_height = line_height.max(h);
        }
        y += line_height;
        if let Some(title) = &row.title {
            let mut r = obj();
            r.insert("type".into(), json!("row"));
            r.insert("id".into(), json!(row_id));
            r.insert("title".into(), json!(title));
            r.insert("collapsed".into(), json!(collapsed));
            r.insert(
                "gridPos".into(),
                json!({"h": 1, "w": GRID_WIDTH, "x": 0, "y": row_y}),
            );
            // A collapsed row holds its panels; an open row is followed by them.
            r.insert(
                "panels".into(),
                Value::Array(if collapsed {
                    std::mem::take(&mut children)
                } else {
                    Vec::new()
                }),
            );
            panels.push(Value::Object(r));
        }
        panels.extend(children);
    }

    let mut d = obj();
    d.insert("uid".into(), json!(dash.uid));
    d.insert(
        "title".into(),
        json!(dash.title.clone().unwrap_or_else(|| dash.uid.clone())),
    );
    d.insert("tags".into(), json!(dash.tags));
    d.insert(
        "timezone".into(),
        json!(dash.timezone.clone().unwrap_or_else(|| "browser".into())),
    );
    d.insert("editable".into(), json!(true));
    d.insert("graphTooltip".into(), json!(1));
    d.insert("schemaVersion".into(), json!(SCHEMA_VERSION));
    d.insert("version".into(), json!(1));
    if let Some(refresh) = &dash.refresh {
        d.insert("refresh".into(), json!(refresh.as_str()));
    }
    d.insert(
        "time".into(),
        json!({"from": dash.time_from.clone().unwrap_or_else(|| "now-6h".into()), "to": "now"}),
    );
    let variables: Vec<Value> = dash
        .variables
        .iter()
        .map(|v| {
            let ds = v
                .datasource
                .as_ref()
                .and_then(|uid| datasources.iter().find(|d| &d.uid == uid))
                .or(default_ds);
            json!({
                "name": v.name,
                "label": v.label.clone().unwrap_or_else(|| v.name.clone()),
                "type": "query",
                "datasource": ds.map(ds_ref),
                "query": {"query": v.query, "refId": "StandardVariableQuery"},
                "definition": v.query,
                "refresh": 2,
                "multi": v.multi.unwrap_or(false),
                "includeAll": v.include_all.unwrap_or(false),
                "sort": 1,
                "current": {},
                "options": [],
            })
        })
        .collect();
    d.insert("templating".into(), json!({"list": variables}));
    d.insert("annotations".into(), json!({"list": []}));
    d.insert("links".into(), json!([]));
    d.insert("panels".into(), Value::Array(panels));
    Value::Object(d)
}

pub fn ds_ref(ds: &Datasource) -> Value {
    json!({"type": ds.kind.as_str(), "uid": ds.uid})
}

fn panel_json(
    panel: &Panel,
    id: u32,
    ds: Option<&Datasource>,
    (x, y, w, h): (u32, u32, u32, u32),
) -> Value {
    let mut p = obj();
    p.insert("type".into(), json!(panel.kind.as_str()));
    p.insert("id".into(), json!(id));
    p.insert("title".into(), json!(panel.title));
    if let Some(desc) = &panel.description {
        p.insert("description".into(), json!(desc));
    }
    if let Some(ds) = ds {
        p.insert("datasource".into(), ds_ref(ds));
    }
    p.insert("gridPos".into(), json!({"h": h, "w": w, "x": x, "y": y}));
    let table = panel.kind == PanelKind::Table;
    let is_loki = ds.is_some_and(|d| d.kind == DatasourceKind::Loki);
    let targets: Vec<Value> = panel
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let mut t = obj();
            t.insert("refId".into(), json!(ref_id(i)));
            if let Some(ds) = ds {
                t.insert("datasource".into(), ds_ref(ds));
            }
            match ds.map(|d| d.kind) {
                Some(DatasourceKind::Elasticsearch) => {
                    elasticsearch_target(&mut t, panel, q, ds);
                    return Value::Object(t);
                }
                Some(DatasourceKind::Jaeger) => {
                    jaeger_target(&mut t, q);
                    return Value::Object(t);
                }
                Some(DatasourceKind::Tempo) => {
                    crate::components::tempo::datasource::panel_target(&mut t, q);
                    return Value::Object(t);
                }
                _ => {}
            }
            t.insert("expr".into(), json!(q.expr));
            t.insert(
                "legendFormat".into(),
                json!(q.legend.clone().unwrap_or_default()),
            );
            if is_loki {
                t.insert("queryType".into(), json!("range"));
            } else {
                let instant = q.instant.unwrap_or(table);
                t.insert("instant".into(), json!(instant));
                t.insert("range".into(), json!(!instant));
                if table {
                    t.insert("format".into(), json!("table"));
                }
            }
            Value::Object(t)
        })
        .collect();
    p.insert("targets".into(), Value::Array(targets));

    let mut defaults = obj();
    if let Some(unit) = &panel.unit {
        defaults.insert("unit".into(), json!(unit));
    }
    if let Some(min) = panel.min {
        defaults.insert("min".into(), json!(min));
    }
    if let Some(max) = panel.max {
        defaults.insert("max".into(), json!(max));
    }
    if let Some(decimals) = panel.decimals {
        defaults.insert("decimals".into(), json!(decimals));
    }
    let steps: Vec<Value> = if panel.thresholds.is_empty() {
        vec![json!({"color": "green", "value": null})]
    } else {
        panel
            .thresholds
            .iter()
            .enumerate()
            .map(|(i, t)| json!({"color": t.color, "value": if i == 0 { None } else { t.value }}))
            .collect()
    };
    defaults.insert(
        "thresholds".into(),
        json!({"mode": "absolute", "steps": steps}),
    );
    match panel.kind {
        PanelKind::Timeseries | PanelKind::Graph => {
            defaults.insert("color".into(), json!({"mode": "palette-classic"}));
            let mut custom = json!({
                "drawStyle": "line",
                "lineWidth": 1,
                "fillOpacity": 10,
                "showPoints": "never",
                "spanNulls": false,
            });
            if panel.stacked == Some(true) {
                custom["stacking"] = json!({"mode": "normal", "group": "A"});
            }
            if !panel.thresholds.is_empty() {
                custom["thresholdsStyle"] = json!({"mode": "line"});
            }
            if let Some(label) = &panel.axis_label {
                custom["axisLabel"] = json!(label);
            }
            defaults.insert("custom".into(), custom);
        }
        PanelKind::Stat | PanelKind::Gauge | PanelKind::Bargauge | PanelKind::Singlestat => {
            defaults.insert("color".into(), json!({"mode": "thresholds"}));
        }
        _ => {}
    }
    p.insert(
        "fieldConfig".into(),
        json!({"defaults": defaults, "overrides": []}),
    );
    let calc = panel.reduce.unwrap_or(Reduce::Last).grafana_calc();
    let options = match panel.kind {
        PanelKind::Timeseries | PanelKind::Graph => json!({
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true, "calcs": []},
            "tooltip": {"mode": "multi", "sort": "none"},
        }),
        PanelKind::Stat | PanelKind::Singlestat => json!({
            "reduceOptions": {"values": false, "calcs": [calc], "fields": ""},
            "orientation": "auto",
            "textMode": "auto",
            "colorMode": "value",
            "graphMode": "area",
            "justifyMode": "auto",
        }),
        PanelKind::Gauge => json!({
            "reduceOptions": {"values": false, "calcs": [calc], "fields": ""},
            "orientation": "auto",
            "showThresholdLabels": false,
            "showThresholdMarkers": true,
        }),
        PanelKind::Bargauge => json!({
            "reduceOptions": {"values": false, "calcs": [calc], "fields": ""},
            "orientation": "horizontal",
            "displayMode": "gradient",
        }),
        PanelKind::Piechart => json!({
            "reduceOptions": {"values": false, "calcs": [calc], "fields": ""},
            "pieType": "pie",
            "legend": {"displayMode": "list", "placement": "right", "showLegend": true},
        }),
        PanelKind::Table => json!({"showHeader": true, "cellHeight": "sm"}),
        PanelKind::Logs => {
            json!({"showTime": true, "wrapLogMessage": true, "sortOrder": "Descending"})
        }
    };
    p.insert("options".into(), options);
    if table {
        p.insert(
            "transformations".into(),
            json!([{"id": "organize", "options": {"excludeByName": {"Time": true}}}]),
        );
    }
    Value::Object(p)
}

/// An Elasticsearch target (Grafana's `ElasticsearchDataQuery`): a Lucene
/// query, one metric aggregation and its bucket aggregations. A logs panel
/// gets the `logs` metric and no buckets; a time series is bucketed by a
/// date histogram on the time field, after the `terms` split if any.
fn elasticsearch_target(
    t: &mut serde_json::Map<String, Value>,
    panel: &Panel,
    q: &Query,
    ds: Option<&Datasource>,
) {
    let time_field = ds
        .and_then(|d| d.time_field.clone())
        .unwrap_or_else(|| crate::resolve::datasources::DEFAULT_TIME_FIELD.into());
    let metric = q.metric.unwrap_or(if panel.kind == PanelKind::Logs {
        EsMetric::Logs
    } else {
        EsMetric::Count
    });
    t.insert("queryType".into(), json!("lucene"));
    t.insert("query".into(), json!(q.expr));
    if let Some(legend) = &q.legend {
        t.insert("alias".into(), json!(legend));
    }
    let mut m = obj();
    m.insert("id".into(), json!("1"));
    m.insert("type".into(), json!(metric.as_str()));
    if let Some(field) = q.field.as_ref().filter(|_| metric.needs_field()) {
        m.insert("field".into(), json!(field));
    }
    if metric == EsMetric::RawData {
        m.insert("settings".into(), json!({"size": "500"}));
    }
    t.insert("metrics".into(), json!([Value::Object(m)]));
    let mut buckets = Vec::new();
    if !metric.is_documents() {
        if let Some(field) = &q.group_by {
            buckets.push(json!({
                "id": "2",
                "type": "terms",
                "field": field,
                "settings": {"size": "10", "order": "desc", "orderBy": "_count", "min_doc_count": "1"},
            }));
        }
        // A table of a terms split shows one row per value, not per interval.
        if !(panel.kind == PanelKind::Table && q.group_by.is_some()) {
            buckets.push(json!({
                "id": (buckets.len() + 2).to_string(),
                "type": "date_histogram",
                "field": time_field,
                "settings": {"interval": "auto"},
            }));
        }
    }
    t.insert("bucketAggs".into(), Value::Array(buckets));
    t.insert("timeField".into(), json!(time_field));
}

/// A Jaeger target (Grafana's `JaegerQuery`): a trace search by service
/// (`queryType: search`), or one trace by its ID (`query`, no query type).
fn jaeger_target(t: &mut serde_json::Map<String, Value>, q: &Query) {
    match &q.service {
        Some(service) => {
            t.insert("queryType".into(), json!("search"));
            t.insert("service".into(), json!(service));
            for (key, value) in [
                ("operation", &q.operation),
                ("tags", &q.tags),
                ("minDuration", &q.min_duration),
                ("maxDuration", &q.max_duration),
            ] {
                if let Some(v) = value {
                    t.insert(key.into(), json!(v));
                }
            }
            if let Some(limit) = q.limit {
                t.insert("limit".into(), json!(limit));
            }
        }
        None => {
            t.insert("query".into(), json!(q.expr));
        }
    }
}

fn ref_id(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < 26 {
        (letters[i] as char).to_string()
    } else {
        format!("Q{i}")
    }
}
