//! Import inputs of a dashboard exported "for sharing" (`__inputs`, used as
//! `${DS_PROMETHEUS}` in the JSON): Grafana's import dialog fills them in, but
//! file provisioning does not, so the panels would look for a datasource
//! literally called `${DS_PROMETHEUS}`. A file dashboard can ask stackctl to
//! bind them when rendering (`bind_inputs: true`, or `inputs:` by name); this
//! module decides each binding, for `validate` and `render` alike.
//!
//! Binding follows Grafana's importer (`pkg/services/dashboardimport`): every
//! `${NAME}` of a bound input inside any string value is replaced by the bound
//! value, and `__inputs` is dropped once every input is bound.

use crate::model::stack::{Dashboard, Datasource};
use serde_json::Value;
use std::collections::BTreeMap;

/// One entry of `__inputs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInput {
    pub name: String,
    /// `datasource` or `constant` (Grafana's two kinds).
    pub kind: String,
    /// The datasource plugin a datasource input wants, e.g. `prometheus`.
    pub plugin: Option<String>,
    /// A constant's default value.
    pub value: Option<String>,
}

/// What becomes of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// Replaced by this text (a datasource UID, a constant's value).
    To(String),
    /// Left as it is: the spec does not ask for binding.
    Unbound,
    /// The spec asks for it, but it cannot be bound: why, and a hint.
    Invalid(String, String),
}

/// The `__inputs` of a dashboard file (or of an API export's `dashboard`).
pub fn read(root: &Value) -> Vec<FileInput> {
    let Some(list) = root.get("__inputs").and_then(Value::as_array) else {
        return Vec::new();
    };
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    list.iter()
        .filter_map(|i| {
            Some(FileInput {
                name: text(i, "name")?,
                kind: text(i, "type").unwrap_or_default(),
                plugin: text(i, "pluginId"),
                value: text(i, "value"),
            })
        })
        .collect()
}

/// The datasource Grafana would pick for a plugin type: the default one if it
/// is of that type, else the first of that type.
pub fn datasource_for<'a>(sources: &'a [Datasource], plugin: &str) -> Option<&'a Datasource> {
    let of_type = |d: &&Datasource| d.kind.as_str() == plugin;
    sources
        .iter()
        .filter(of_type)
        .find(|d| d.default == Some(true))
        .or_else(|| sources.iter().find(of_type))
}

pub fn bind(dash: &Dashboard, sources: &[Datasource], input: &FileInput) -> Binding {
    let explicit = dash.inputs.get(&input.name);
    let auto = dash.bind_inputs == Some(true);
    if input.kind != "datasource" {
        return match (explicit, &input.value) {
            (Some(v), _) => Binding::To(v.clone()),
            (None, Some(v)) if auto => Binding::To(v.clone()),
            (None, None) if auto => Binding::Invalid(
                format!("input `{}` has no default value", input.name),
                format!("give it one: `inputs: {{{}: VALUE}}`", input.name),
            ),
            _ => Binding::Unbound,
        };
    }
    let plugin = input.plugin.as_deref();
    match explicit {
        Some(uid) => match sources.iter().find(|d| d.uid == *uid) {
            Some(ds) if plugin.is_none_or(|p| p == ds.kind.as_str()) => Binding::To(uid.clone()),
            Some(ds) => Binding::Invalid(
                format!(
                    "input `{}` wants a `{}` datasource, and `{uid}` is a `{}` one",
                    input.name,
                    plugin.unwrap_or_default(),
                    ds.kind.as_str()
                ),
                "bind it to a datasource of the type it wants".into(),
            ),
            None => {
                let uids: Vec<&str> = sources.iter().map(|d| d.uid.as_str()).collect();
                Binding::Invalid(
                    format!(
                        "input `{}` is bound to `{uid}`, which this stack does not provision",
                        input.name
                    ),
                    match crate::yaml::de::did_you_mean(uid, &uids) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => format!("datasources are {}", list(&uids)),
                    },
                )
            }
        },
        None if auto => match plugin.and_then(|p| datasource_for(sources, p)) {
            Some(ds) => Binding::To(ds.uid.clone()),
            None => Binding::Invalid(
                format!(
                    "input `{}` wants a `{}` datasource, and this stack provisions none",
                    input.name,
                    plugin.unwrap_or("?")
                ),
                "add one under `datasources:`, or bind the input by name under `inputs:`".into(),
            ),
        },
        None => Binding::Unbound,
    }
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|u| format!("`{u}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds the inputs of a dashboard file's JSON in place, as Grafana's
/// importer does; `__inputs` goes once every input is bound.
pub fn apply(dash: &Dashboard, sources: &[Datasource], root: &mut Value) {
    let inputs = read(root);
    let bound: BTreeMap<String, String> = inputs
        .iter()
        .filter_map(|i| match bind(dash, sources, i) {
            Binding::To(v) => Some((i.name.clone(), v)),
            _ => None,
        })
        .collect();
    if bound.is_empty() {
        return;
    }
    replace(root, &bound);
    if bound.len() == inputs.len() {
        if let Some(m) = root.as_object_mut() {
            m.remove("__inputs");
        }
    }
}

/// `${NAME}` of every bound input, in every string value (not in keys).
fn replace(value: &mut Value, bound: &BTreeMap<String, String>) {
    match value {
        Value::String(s) if s.contains("${") => {
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            while let Some(at) = rest.find("${") {
                out.push_str(&rest[..at]);
                let after = &rest[at + 2..];
                match after.find('}').map(|end| (&after[..end], end)) {
                    Some((name, end)) if bound.contains_key(name) => {
                        out.push_str(&bound[name]);
                        rest = &after[end + 1..];
                    }
                    _ => {
                        out.push_str("${");
                        rest = after;
                    }
                }
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| replace(v, bound)),
        Value::Object(m) => m.values_mut().for_each(|v| replace(v, bound)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stack::DatasourceKind;
    use serde_json::json;

    fn ds(uid: &str, kind: DatasourceKind, default: bool) -> Datasource {
        Datasource {
            name: uid.into(),
            uid: uid.into(),
            kind,
            url: None,
            default: Some(default),
            editable: None,
            index: None,
            time_field: None,
        }
    }

    fn dash(auto: Option<bool>, inputs: &[(&str, &str)]) -> Dashboard {
        let mut d: Dashboard =
            serde_json::from_value(json!({"uid": "node", "file": "n.json"})).unwrap();
        d.bind_inputs = auto;
        d.inputs = inputs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        d
    }

    fn exported() -> Value {
        json!({
            "__inputs": [
                {"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus"},
                {"name": "VAR_JOB", "type": "constant", "value": "node"}
            ],
            "panels": [{"datasource": "${DS_PROMETHEUS}",
                        "targets": [{"expr": "up{job=\"${VAR_JOB}\"} and ${other}"}]}]
        })
    }

    #[test]
    fn binding_replaces_placeholders_and_drops_inputs() {
        let sources = [
            ds("loki", DatasourceKind::Loki, false),
            ds("metrics", DatasourceKind::Prometheus, false),
            ds("prom", DatasourceKind::Prometheus, true),
        ];
        let mut root = exported();
        apply(&dash(Some(true), &[]), &sources, &mut root);
        assert_eq!(
            root,
            json!({"panels": [{"datasource": "prom",
                               "targets": [{"expr": "up{job=\"node\"} and ${other}"}]}]})
        );
        let mut root = exported();
        apply(
            &dash(None, &[("DS_PROMETHEUS", "metrics")]),
            &sources,
            &mut root,
        );
        assert_eq!(root["panels"][0]["datasource"], "metrics");
        // VAR_JOB is not bound, so `__inputs` stays.
        assert!(root.get("__inputs").is_some());
        let mut root = exported();
        apply(&dash(None, &[]), &sources, &mut root);
        assert_eq!(root, exported());
    }

    #[test]
    fn bindings_that_cannot_be_made_say_why() {
        let input = &read(&exported())[0];
        let loki_only = [ds("loki", DatasourceKind::Loki, true)];
        assert!(matches!(
            bind(&dash(Some(true), &[]), &loki_only, input),
            Binding::Invalid(m, _) if m == "input `DS_PROMETHEUS` wants a `prometheus` datasource, and this stack provisions none"
        ));
        assert!(matches!(
            bind(&dash(None, &[("DS_PROMETHEUS", "loki")]), &loki_only, input),
            Binding::Invalid(m, _) if m == "input `DS_PROMETHEUS` wants a `prometheus` datasource, and `loki` is a `loki` one"
        ));
        assert!(matches!(
            bind(&dash(None, &[("DS_PROMETHEUS", "lokki")]), &loki_only, input),
            Binding::Invalid(_, h) if h == "did you mean `loki`?"
        ));
    }
}
