//! Dashboards as ConfigMaps for the Grafana sidecar: labelled
//! `grafana_dashboard: "1"` (the sidecar's default label in kube-prometheus-stack)
//! and annotated `grafana_folder` with the spec's folder. The JSON is the very
//! file the compose target provisions, taken from the plan.

use super::{Ctx, Resource};
use crate::path;
use crate::plan::Deployment;
use serde_json::{Map, Value, json};

pub const LABEL: &str = "grafana_dashboard";
pub const LABEL_VALUE: &str = "1";
pub const FOLDER_ANNOTATION: &str = "grafana_folder";
/// etcd's limit on one object; a larger ConfigMap is rejected.
pub const MAX_CONFIGMAP_BYTES: usize = 1024 * 1024;

pub fn dashboards(ctx: &mut Ctx<'_>, deployment: &Deployment, out: &mut Vec<Resource>) {
    let stack = ctx.stack;
    for (i, dash) in stack.dashboards.iter().enumerate() {
        let suffix = format!("/{}.json", dash.uid);
        let Some(json_text) = deployment
            .files
            .iter()
            .find(|(path, _)| path.starts_with("grafana/dashboards/") && path.ends_with(&suffix))
            .map(|(_, text)| text.clone())
        else {
            // The compose plan renders dashboards only for an enabled Grafana
            // (and skips a JSON file it could not read, which validation reports).
            continue;
        };
        let at = path!["dashboards", i];
        let name = ctx.name("ConfigMap", &format!("dashboard-{}", dash.uid), at.clone());
        if json_text.len() > MAX_CONFIGMAP_BYTES {
            ctx.warn(
                at.clone(),
                format!(
                    "dashboard `{}` is {} bytes; a ConfigMap holds at most {MAX_CONFIGMAP_BYTES}, so Kubernetes will reject it",
                    dash.uid,
                    json_text.len()
                ),
                "split the dashboard",
            );
        }
        let mut metadata = ctx.metadata(&name);
        if let Some(Value::Object(labels)) = metadata.get_mut("labels") {
            labels.insert(LABEL.into(), json!(LABEL_VALUE));
        }
        if let Some(folder) = &dash.folder {
            metadata.insert("annotations".into(), json!({FOLDER_ANNOTATION: folder}));
        }
        let mut data = Map::new();
        data.insert(format!("{}.json", dash.uid), json!(json_text));
        let mut o = Map::new();
        o.insert("apiVersion".into(), json!("v1"));
        o.insert("kind".into(), json!("ConfigMap"));
        o.insert("metadata".into(), Value::Object(metadata));
        o.insert("data".into(), Value::Object(data));
        out.push(Resource {
            kind: "ConfigMap",
            name,
            value: Value::Object(o),
        });
    }
}
