//! Grafana: the service (secrets through `GF_…__FILE`, sign-up, anonymous
//! access, analytics and update checks off), provisioned datasources with
//! stable UIDs, and dashboard providers with stable folder UIDs.

use crate::model::Kind;
use crate::model::catalog::Component;
use crate::model::stack::DatasourceKind;
use crate::plan::{Condition, Deployment, Service, dashboard, obj};
use crate::resolve::Resolved;
use crate::resolve::datasources::{DEFAULT_INDEX, DEFAULT_TIME_FIELD, component_for, default_url};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const DATASOURCES: &str = "grafana/provisioning/datasources/datasources.yaml";
pub const PROVIDERS: &str = "grafana/provisioning/dashboards/dashboards.yaml";
/// Where dashboard JSON lives inside the container.
const DASHBOARDS_DIR: &str = "/etc/grafana/dashboards";

pub fn plan(stack: &Resolved, c: &Component<'_>, inputs: &crate::plan::Inputs, d: &mut Deployment) {
    let Some(spec) = &stack.components.grafana else {
        return;
    };
    let mut service = Service::for_component(stack, c);
    let v = &c.version;
    let admin = &stack.grafana_admin_secret();
    let key = &stack.grafana_key_secret();
    let env = &mut service.environment;
    env.insert("GF_SECURITY_ADMIN_USER".into(), stack.grafana_admin_user());
    env.insert(
        "GF_SECURITY_ADMIN_PASSWORD__FILE".into(),
        crate::plan::secret_path(admin),
    );
    env.insert(
        "GF_SECURITY_SECRET_KEY__FILE".into(),
        crate::plan::secret_path(key),
    );
    env.insert("GF_USERS_ALLOW_SIGN_UP".into(), "false".into());
    env.insert("GF_AUTH_ANONYMOUS_ENABLED".into(), "false".into());
    env.insert("GF_ANALYTICS_REPORTING_ENABLED".into(), "false".into());
    env.insert("GF_ANALYTICS_CHECK_FOR_UPDATES".into(), "false".into());
    env.insert(
        "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES".into(),
        "false".into(),
    );
    if v.at_least(12, 3, 0) {
        // Since 12.3 (grafana/grafana#113586) the preinstalled plugins, which
        // now include datasources split out of core, update themselves from
        // grafana.com on every start: that undoes the pinned version and
        // fails offline.
        env.insert("GF_PLUGINS_PREINSTALL_AUTO_UPDATE".into(), "false".into());
    }
    if let Some(url) = &spec.root_url {
        env.insert("GF_SERVER_ROOT_URL".into(), url.clone());
    }
    if !spec.plugins.is_empty() {
        // GF_INSTALL_PLUGINS is deprecated since 12.1 and unsupported by the
        // distroless images; the preinstall setting replaces it.
        let var = if v.at_least(12, 1, 0) {
            "GF_PLUGINS_PREINSTALL_SYNC"
        } else {
            "GF_INSTALL_PLUGINS"
        };
        env.insert(var.into(), spec.plugins.join(","));
    }
    service.use_secret(admin);
    service.use_secret(key);
    service.mount_config("grafana/provisioning", "/etc/grafana/provisioning");
    service.mount_config("grafana/dashboards", DASHBOARDS_DIR);
    service.wget_healthcheck(crate::components::grafana::WEB, "/api/health");

    let sources = stack.datasources();
    let list: Vec<Value> = sources
        .iter()
        .map(|ds| {
            let component = component_for(ds.kind);
            let mut m = obj();
            // Grafana expands `$VAR` in provisioning files; user text keeps a literal `$`.
            m.insert("name".into(), json!(ds.name.replace('$', "$$")));
            m.insert("type".into(), json!(ds.kind.as_str()));
            m.insert("uid".into(), json!(ds.uid));
            m.insert("access".into(), json!("proxy"));
            m.insert(
                "url".into(),
                json!(ds.url.clone().map_or_else(|| default_url(component), |u| u.replace('$', "$$"))),
            );
            m.insert("isDefault".into(), json!(ds.default == Some(true)));
            m.insert("editable".into(), json!(ds.editable.unwrap_or(false)));
            let mut json_data = obj();
            match ds.kind {
                DatasourceKind::Prometheus => {
                    json_data.insert("httpMethod".into(), json!("POST"));
                    if let Some(p) = &stack.components.prometheus {
                        json_data.insert(
                            "timeInterval".into(),
                            json!(p.scrape_interval.as_ref().map_or("15s", |d| d.as_str())),
                        );
                    }
                    if let Some(am) = sources.iter().find(|s| s.kind == DatasourceKind::Alertmanager) {
                        json_data.insert("alertmanagerUid".into(), json!(am.uid));
                    }
                }
                DatasourceKind::Loki => {
                    json_data.insert("maxLines".into(), json!(1000));
                    if let Some(jaeger) = crate::resolve::datasources::trace_datasource(sources) {
                        // Lets a `trace_id=…` in a log line open the trace.
                        json_data.insert(
                            "derivedFields".into(),
                            json!([{
                                "datasourceUid": jaeger.uid,
                                "matcherRegex": "trace_?id[\"=:\\s]+\"?(\\w+)",
                                "name": "TraceID",
                                "url": "$${__value.raw}",
                            }]),
                        );
                    }
                }
                DatasourceKind::Alertmanager => {
                    json_data.insert("implementation".into(), json!("prometheus"));
                    json_data.insert("handleGrafanaManagedAlerts".into(), json!(false));
                }
                DatasourceKind::Elasticsearch => {
                    json_data.insert(
                        "index".into(),
                        json!(ds.index.clone().unwrap_or_else(|| DEFAULT_INDEX.into()).replace('$', "$$")),
                    );
                    json_data.insert("timeField".into(), json!(ds.time_field.clone().unwrap_or_else(|| DEFAULT_TIME_FIELD.into())));
                    json_data.insert("logMessageField".into(), json!("message"));
                    json_data.insert("logLevelField".into(), json!("level"));
                    if ds.url.is_none() && stack.has(Kind::Elasticsearch) {
                        // Grafana reads the password from the secret file at
                        // provisioning time ($__file), never from this file.
                        // Its own read-only user (created by the setup job), not `elastic`.
                        let secret = stack.es_grafana_secret();
                        m.insert("basicAuth".into(), json!(true));
                        m.insert("basicAuthUser".into(), json!(crate::plan::elastic::GRAFANA_USER));
                        m.insert(
                            "secureJsonData".into(),
                            json!({"basicAuthPassword": format!("$__file{{{}}}", service.use_secret(&secret))}),
                        );
                    }
                }
                DatasourceKind::Jaeger => {}
                DatasourceKind::Tempo => crate::components::tempo::datasource::json_data(stack, sources, &mut json_data),
            }
            if ds.url.is_none() && stack.has(component) {
                crate::plan::web_auth::grafana_datasource(stack, component, &mut m, &mut json_data, &mut service);
            }
            if !json_data.is_empty() {
                m.insert("jsonData".into(), Value::Object(json_data));
            }
            if ds.url.is_none() && stack.has(component) && component != Kind::Grafana {
                service.after(component.service(), Condition::Started);
            }
            Value::Object(m)
        })
        .collect();
    let mut file = obj();
    file.insert("apiVersion".into(), json!(1));
    if v.at_least(11, 1, 0) {
        // Datasources removed from the spec are removed from Grafana.
        file.insert("prune".into(), json!(true));
    }
    file.insert("datasources".into(), Value::Array(list));
    d.add_yaml(DATASOURCES, &Value::Object(file));

    // One provider per folder, each with a stable folder UID.
    let mut folders: BTreeMap<String, Option<String>> = BTreeMap::new();
    for dash in &stack.dashboards {
        let slug = folder_slug(dash.folder.as_deref());
        folders.insert(slug.clone(), dash.folder.clone());
        let path = format!("grafana/dashboards/{slug}/{}.json", dash.uid);
        let json = match &dash.file {
            Some(file) => inputs
                .files
                .get(file)
                .cloned()
                .map(|text| normalise_dashboard_file(&text, dash, sources)),
            None => Some(pretty(&dashboard::to_json(dash, sources))),
        };
        if let Some(json) = json {
            d.files.insert(path, json);
        }
    }
    let providers: Vec<Value> = folders
        .iter()
        .map(|(slug, folder)| {
            let mut p = obj();
            p.insert("name".into(), json!(format!("stackctl-{slug}")));
            p.insert("orgId".into(), json!(1));
            p.insert("folder".into(), json!(folder.clone().unwrap_or_default()));
            if folder.is_some() {
                p.insert("folderUid".into(), json!(slug));
            }
            p.insert("type".into(), json!("file"));
            p.insert("disableDeletion".into(), json!(true));
            p.insert("updateIntervalSeconds".into(), json!(30));
            p.insert("allowUiUpdates".into(), json!(false));
            p.insert(
                "options".into(),
                json!({"path": format!("{DASHBOARDS_DIR}/{slug}")}),
            );
            Value::Object(p)
        })
        .collect();
    d.add_yaml(PROVIDERS, &json!({"apiVersion": 1, "providers": providers}));
    if folders.is_empty() {
        // Keep the mount source present so Docker does not create it as root.
        d.files
            .insert("grafana/dashboards/.keep".into(), String::new());
    }
    d.services.push(service);
}

/// Folder name → directory name and folder UID: lowercase, `-` for anything else.
pub fn folder_slug(folder: Option<&str>) -> String {
    match folder {
        None => "general".into(),
        Some(name) => {
            let slug: String = name
                .to_ascii_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let slug = slug.trim_matches('-').to_string();
            if slug.is_empty() {
                "folder".into()
            } else {
                slug
            }
        }
    }
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// A dashboard brought as JSON: unwrap an API export (`{"dashboard": …}`),
/// drop the instance-specific `id`, pin the spec's UID, and bind the import
/// inputs the spec asks to bind (`bind_inputs`, `inputs`).
fn normalise_dashboard_file(
    text: &str,
    dash: &crate::model::stack::Dashboard,
    sources: &[crate::model::stack::Datasource],
) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut m)) => {
            if let Some(Value::Object(inner)) = m.remove("dashboard") {
                m = inner;
            }
            m.remove("id");
            m.insert("uid".into(), json!(dash.uid));
            let mut root = Value::Object(m);
            crate::check::dashboard_file::inputs::apply(dash, sources, &mut root);
            pretty(&root)
        }
        _ => text.to_string(),
    }
}
