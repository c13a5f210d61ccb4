//! Grafana provisioning: datasources onto `datasources:` (dropped again by
//! `compare` when they are exactly what stackctl derives), dashboard
//! providers and their JSON files onto `dashboards: - file:` (copied into the
//! new stack directory; panel types Grafana removed are migrated).

use super::Ctx;
use super::report::Outcome;
use super::source::{self, Keys, SourceFile};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

pub fn datasources(ctx: &mut Ctx, file: &SourceFile) {
    let f = file.name.as_str();
    ctx.compared.push((
        crate::plan::grafana::DATASOURCES.into(),
        file.name.clone(),
        file.root.clone(),
    ));
    let root = Keys::new(&file.root);
    root.take("apiVersion");
    root.take("prune");
    if let Some(d) = root.take("deleteDatasources") {
        ctx.note(Outcome::NotExpressed, f, source::line(d), "`deleteDatasources`: stackctl provisions with `prune: true`, which removes datasources not in the spec");
    }
    let mut list = Vec::new();
    for (i, d) in root
        .take("datasources")
        .map(source::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let keys = Keys::new(d);
        let name = keys.take_str("name").unwrap_or_default();
        let kind = keys.take_str("type").unwrap_or_default();
        if !matches!(
            kind.as_str(),
            "prometheus" | "loki" | "jaeger" | "elasticsearch" | "alertmanager"
        ) {
            ctx.note(Outcome::NotExpressed, f, source::line(d), format!("datasource `{name}` of type `{kind}`: stackctl provisions Prometheus, Loki, Jaeger, Elasticsearch and Alertmanager datasources"));
            continue;
        }
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        let uid = keys.take_str("uid").unwrap_or_else(|| {
            ctx.note(
                Outcome::Modernised,
                f,
                source::line(d),
                format!(
                    "datasource `{name}` has no uid: given `{}` so dashboards can refer to it",
                    super::prometheus::slug(&name)
                ),
            );
            super::prometheus::slug(&name)
        });
        m.insert("uid".into(), json!(uid));
        m.insert("type".into(), json!(kind));
        // The stack's own Elasticsearch, queried as stackctl's read-only
        // user, is what a datasource without `url` gets.
        let own_es = kind == "elasticsearch"
            && keys.take_str("basicAuthUser").as_deref()
                == Some(crate::plan::elastic::GRAFANA_USER);
        if let Some(url) = keys.take_str("url") {
            let es_default = format!(
                "http://elasticsearch:{}",
                crate::model::Kind::Elasticsearch
                    .port("http")
                    .map_or(9200, |p| p.container)
            );
            if !(own_es && url == es_default) {
                m.insert("url".into(), json!(url));
            }
        }
        if let Some(v) = keys.take("isDefault") {
            m.insert("default".into(), source::to_value(v));
        }
        if let Some(v) = keys.take("editable") {
            m.insert("editable".into(), source::to_value(v));
        }
        keys.take("access");
        keys.take("orgId");
        keys.take("version");
        if let Some(jd) = keys.take("jsonData") {
            let jk = Keys::new(jd);
            if let Some(v) = jk.take_str("index") {
                m.insert("index".into(), json!(v));
            }
            if let Some(v) = keys.take_str("database") {
                m.insert("index".into(), json!(v));
            }
            if let Some(v) = jk.take_str("timeField") {
                m.insert("time_field".into(), json!(v));
            }
            // What stackctl writes into jsonData itself.
            for k in [
                "httpMethod",
                "timeInterval",
                "alertmanagerUid",
                "implementation",
                "handleGrafanaManagedAlerts",
                "maxLines",
                "derivedFields",
                "tracesToLogsV2",
                "esVersion",
                "logMessageField",
                "logLevelField",
                "nodeGraph",
                "tracesToMetrics",
                "serviceMap",
            ] {
                jk.take(k);
            }
            for (k, l) in jk.rest() {
                ctx.note(
                    Outcome::NotExpressed,
                    f,
                    l,
                    format!(
                        "`jsonData.{k}` of datasource `{name}`: stackctl has no setting for it"
                    ),
                );
            }
        }
        for k in ["basicAuth", "basicAuthUser", "user", "withCredentials"] {
            keys.take(k);
        }
        if let Some(s) = keys.take("secureJsonData") {
            let generated = source::entries(s)
                .iter()
                .all(|(_, v)| source::text(v).is_some_and(|t| t.starts_with("$__file{")));
            if !generated {
                ctx.note(Outcome::NotExpressed, f, source::line(s), format!("`secureJsonData` of datasource `{name}`: credentials of datasources are not part of the spec; the value is not copied anywhere"));
            }
        }
        for (k, l) in keys.rest() {
            ctx.note(
                Outcome::NotExpressed,
                f,
                l,
                format!("`{k}` of datasource `{name}`: stackctl has no setting for it"),
            );
        }
        let _ = i;
        list.push(Value::Object(m));
    }
    for (k, l) in root.rest() {
        ctx.note(Outcome::NotExpressed, f, l, format!("`{k}`: not read"));
    }
    ctx.set(&["datasources"], Value::Array(list));
    ctx.from("/datasources".into(), f, 1);
}

struct Provider {
    folder: Option<String>,
    dir: Option<PathBuf>,
}

/// Dashboard JSON files, with their folder from the provider that loads them.
pub fn dashboards(ctx: &mut Ctx, providers: &[SourceFile], json_files: &[PathBuf]) {
    let mut list: Vec<Provider> = Vec::new();
    for file in providers {
        let f = file.name.as_str();
        for p in source::get(&file.root, "providers")
            .map(source::items)
            .unwrap_or_default()
        {
            let keys = Keys::new(p);
            let folder = keys.take_str("folder").filter(|s| !s.is_empty());
            let path = keys
                .take("options")
                .and_then(|o| source::get(o, "path"))
                .and_then(source::text);
            for k in [
                "name",
                "orgId",
                "type",
                "disableDeletion",
                "updateIntervalSeconds",
                "allowUiUpdates",
                "folderUid",
                "editable",
            ] {
                keys.take(k);
            }
            for (k, l) in keys.rest() {
                ctx.note(
                    Outcome::NotExpressed,
                    f,
                    l,
                    format!("`{k}` of a dashboard provider: stackctl has no setting for it"),
                );
            }
            let dir = path.as_deref().and_then(|p| {
                ctx.host_path(p).or_else(|| {
                    // No Compose bind: a folder laid out like the container (`…/dashboards/NAME`).
                    let last = Path::new(p).file_name()?.to_string_lossy().into_owned();
                    let guess = ctx
                        .root
                        .join(Path::new(f).parent()?.parent()?.parent()?)
                        .join("dashboards")
                        .join(last);
                    guess.is_dir().then_some(guess)
                })
            });
            list.push(Provider { folder, dir });
        }
    }
    for path in json_files {
        let name = ctx.display(path);
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(Value::Object(json)) = serde_json::from_str::<Value>(&text) else {
            ctx.note(
                Outcome::NotExpressed,
                &name,
                1,
                "JSON file that is not a dashboard: not imported",
            );
            continue;
        };
        let inner = json.get("dashboard").and_then(Value::as_object).cloned();
        let dash = inner.as_ref().unwrap_or(&json);
        if !dash.contains_key("panels") && !dash.contains_key("rows") {
            ctx.note(
                Outcome::NotExpressed,
                &name,
                1,
                "JSON file that is not a dashboard: not imported",
            );
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let uid = dash
            .get("uid")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| {
                ctx.note(
                    Outcome::Modernised,
                    &name,
                    1,
                    format!(
                        "dashboard has no uid: given `{}`",
                        super::prometheus::slug(&stem).replace('_', "-")
                    ),
                );
                super::prometheus::slug(&stem).replace('_', "-")
            });
        let provider = list
            .iter()
            .find(|p| p.dir.as_ref().is_some_and(|d| path.starts_with(d)));
        if provider.is_none() && !list.is_empty() {
            ctx.note(
                Outcome::AsIs,
                &name,
                1,
                "dashboard not under any provider's path: imported into the General folder",
            );
        }
        let folder = provider.and_then(|p| p.folder.clone());
        // Panel types Grafana removed: the same migration Grafana applies on load.
        let mut migrated = Vec::new();
        let mut root = Value::Object(json.clone());
        {
            let target = match root.get_mut("dashboard") {
                Some(d) if inner.is_some() => d,
                _ => &mut root,
            };
            migrate_panels(target, &mut migrated);
        }
        let contents = if migrated.is_empty() {
            text.clone()
        } else {
            for (old, new, title) in &migrated {
                let line = line_of(&text, &format!("\"{old}\""));
                ctx.note(
                    Outcome::Modernised,
                    &name,
                    line,
                    format!(
                        "panel `{title}` of type `{old}` (removed from Grafana) migrated to `{new}`"
                    ),
                );
            }
            let mut s = serde_json::to_string_pretty(&root).unwrap_or_default();
            s.push('\n');
            s
        };
        let slug = crate::plan::grafana::folder_slug(folder.as_deref());
        let dest = format!("dashboards/{slug}/{uid}.json");
        ctx.files.insert(dest.clone(), contents);
        let mut m = Map::new();
        m.insert("uid".into(), json!(uid));
        if let Some(folder) = folder {
            m.insert("folder".into(), json!(folder));
        }
        m.insert("file".into(), json!(dest));
        if dash.get("__inputs").is_some() {
            m.insert("bind_inputs".into(), json!(true));
            ctx.note(
                Outcome::AsIs,
                &name,
                1,
                "dashboard exported for sharing (`__inputs`): imported with `bind_inputs: true`",
            );
        }
        let i = ctx.push(&["dashboards"], Value::Object(m));
        ctx.from(format!("/dashboards/{i}"), &name, 1);
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map_or(1, |at| text[..at].lines().count().max(1))
}

fn migrate_panels(v: &mut Value, out: &mut Vec<(String, String, String)>) {
    match v {
        Value::Object(m) => {
            let title = m
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if m.contains_key("gridPos") || m.contains_key("targets") {
                if let Some(Value::String(t)) = m.get_mut("type") {
                    let new = match t.as_str() {
                        "graph" => Some("timeseries"),
                        "singlestat" | "grafana-singlestat-panel" => Some("stat"),
                        "grafana-piechart-panel" => Some("piechart"),
                        "table-old" => Some("table"),
                        _ => None,
                    };
                    if let Some(new) = new {
                        out.push((t.clone(), new.to_string(), title));
                        *t = new.to_string();
                    }
                }
            }
            for child in m.values_mut() {
                migrate_panels(child, out);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| migrate_panels(i, out)),
        _ => {}
    }
}
