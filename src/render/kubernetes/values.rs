//! `values.yaml` for kube-prometheus-stack: Prometheus, Alertmanager, Grafana
//! and node-exporter as the spec configures them, and the selector settings
//! that make the chart pick up the resources stackctl renders.
//!
//! Two chart details shape the output: several values are passed through
//! Helm's `tpl` (external labels, remote write, external URLs, additional
//! datasources), so a literal `{{` is written `{{ "{{" }}` there; and Grafana
//! expands `$VAR` in provisioned datasources, so a literal `$` is `$$`.

use super::{Ctx, dashboards};
use crate::model::components::Common;
use crate::model::stack::{Datasource, DatasourceKind};
use crate::model::{Kind, Stack};
use crate::path;
use crate::resolve::datasources::{DEFAULT_INDEX, DEFAULT_TIME_FIELD, component_for, is_own};
use serde_json::{Map, Value, json};

/// kube-prometheus-stack's own node-exporter filters, kept when the spec
/// changes other node-exporter flags (a values list replaces, never merges).
const CHART_MOUNT_POINTS_EXCLUDE: &str =
    "^/(dev|proc|sys|var/lib/docker/.+|var/lib/kubelet/.+)($|/)";
const CHART_FS_TYPES_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs|erofs)$";
/// Persistent volume for Prometheus when the spec caps nothing by size.
pub const DEFAULT_STORAGE: &str = "50Gi";
/// Key of the Grafana admin user in the Secret (the chart reads both from one Secret).
pub const GRAFANA_ADMIN_USER_KEY: &str = "grafana_admin_user";
const ELASTIC_PASSWORD_ENV: &str = "STACKCTL_ELASTICSEARCH_PASSWORD";

pub fn values(ctx: &mut Ctx<'_>) -> Value {
    let mut v = Map::new();
    v.insert("prometheus".into(), prometheus(ctx));
    v.insert("alertmanager".into(), alertmanager(ctx));
    v.insert("grafana".into(), grafana(ctx));
    let node = ctx.stack.has(Kind::NodeExporter);
    v.insert("nodeExporter".into(), json!({"enabled": node}));
    if node {
        v.insert("prometheus-node-exporter".into(), node_exporter(ctx));
    }
    Value::Object(v)
}

fn prometheus(ctx: &mut Ctx<'_>) -> Value {
    let stack: &Stack = ctx.stack;
    let Some(c) = stack.component(Kind::Prometheus) else {
        return json!({"enabled": false});
    };
    let spec = stack.components.prometheus.clone().unwrap_or_default();
    let at = path!["components", "prometheus"];
    let mut p = Map::new();
    p.insert(
        "image".into(),
        image(&c.image(stack.defaults.image_registry.as_deref())),
    );
    // The compose target's defaults, not the chart's (30s and 10d).
    p.insert(
        "scrapeInterval".into(),
        json!(spec.scrape_interval.as_ref().map_or("15s", |d| d.as_str())),
    );
    if let Some(t) = &spec.scrape_timeout {
        p.insert("scrapeTimeout".into(), json!(t.as_str()));
    }
    p.insert(
        "evaluationInterval".into(),
        json!(
            spec.evaluation_interval
                .as_ref()
                .map_or("15s", |d| d.as_str())
        ),
    );
    p.insert(
        "retention".into(),
        json!(spec.retention_time.as_ref().map_or("15d", |d| d.as_str())),
    );
    if let Some(size) = &spec.retention_size {
        if parse_byte_size(size).is_some() {
            p.insert("retentionSize".into(), json!(size));
        } else {
            ctx.warn(
                super::join(&at, path!["retention_size"]),
                format!("`retention_size: {size}` is not a size the operator accepts; left out"),
                "write a number and a unit ending in `B`, e.g. `50GB` or `512MiB`",
            );
        }
    }
    if !spec.external_labels.is_empty() {
        let v3 = c.version.at_least(3, 0, 0);
        let labels: Map<String, Value> = spec
            .external_labels
            .iter()
            .map(|(k, v)| {
                // Prometheus 3 expands ${VAR} in external labels (as in the compose target).
                let v = if v3 { v.replace('$', "$$") } else { v.clone() };
                (k.to_string(), json!(tpl_literal(&v)))
            })
            .collect();
        p.insert("externalLabels".into(), Value::Object(labels));
    }
    if let Some(url) = &spec.external_url {
        p.insert("externalUrl".into(), json!(tpl_literal(url)));
        route_prefix(&mut p, url);
    }
    if spec.remote_write_receiver == Some(true) {
        p.insert("enableRemoteWriteReceiver".into(), json!(true));
    }
    if !stack.remote_write.is_empty() {
        let writes: Vec<Value> = stack
            .remote_write
            .iter()
            .enumerate()
            .map(|(i, rw)| remote_write(ctx, rw, i))
            .collect();
        p.insert("remoteWrite".into(), escape_tpl(Value::Array(writes)));
    }
    let mut args = Vec::new();
    if let Some(capacity) = spec.notification_queue_capacity {
        args.push(json!({"name": "alertmanager.notification-queue-capacity", "value": capacity.to_string()}));
    }
    args.extend(additional_args(ctx, c.common.extra_args, &at));
    if !args.is_empty() {
        p.insert("additionalArgs".into(), Value::Array(args));
    }
    if spec.enable_lifecycle == Some(false) {
        ctx.warn(
            super::join(&at, path!["enable_lifecycle"]),
            "`enable_lifecycle: false` cannot be kept: the operator's config reloader needs Prometheus's lifecycle API",
            "",
        );
    }
    if let Some(r) = resources(&c.common) {
        p.insert("resources".into(), r);
    }
    let storage = spec
        .retention_size
        .as_deref()
        .and_then(parse_byte_size)
        // Room for the WAL and compaction beyond the size cap.
        .map(|bytes| format!("{}Gi", (bytes as f64 * 1.2 / GIB).ceil().max(1.0)))
        .unwrap_or_else(|| DEFAULT_STORAGE.to_string());
    p.insert(
        "storageSpec".into(),
        json!({"volumeClaimTemplate": {"spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": storage}},
        }}}),
    );
    // Select every monitor, rule, probe and scrape config, not only those
    // labelled with this release (the `release` label is set as well).
    for key in [
        "serviceMonitorSelectorNilUsesHelmValues",
        "podMonitorSelectorNilUsesHelmValues",
        "ruleSelectorNilUsesHelmValues",
        "probeSelectorNilUsesHelmValues",
        "scrapeConfigSelectorNilUsesHelmValues",
    ] {
        p.insert(key.into(), json!(false));
    }
    let mut out = json!({"enabled": true, "prometheusSpec": p});
    // Prometheus's `scrape_interval` is the global one; only `scrape: false`
    // concerns its own ServiceMonitor.
    if c.common.scrape == Some(false) {
        out["serviceMonitor"] = json!({"selfMonitor": false});
    }
    out
}

fn remote_write(ctx: &mut Ctx<'_>, rw: &crate::model::stack::RemoteWrite, i: usize) -> Value {
    let user = format!("remote_write[{i}]");
    let mut w = Map::new();
    w.insert("url".into(), json!(rw.url));
    if let Some(name) = &rw.name {
        w.insert("name".into(), json!(name));
    }
    if let Some(t) = &rw.remote_timeout {
        w.insert("remoteTimeout".into(), json!(t.as_str()));
    }
    if let Some(auth) = &rw.basic_auth {
        let username = ctx.username(
            &auth.password_secret,
            &auth.username,
            &user,
            path!["remote_write", i, "basic_auth", "username"],
        );
        let password = ctx.secret(&auth.password_secret, &user);
        w.insert(
            "basicAuth".into(),
            json!({"username": username, "password": password}),
        );
    }
    if let Some(token) = &rw.bearer_token_secret {
        w.insert(
            "authorization".into(),
            json!({"type": "Bearer", "credentials": ctx.secret(token, &user)}),
        );
    }
    if !rw.write_relabel_configs.is_empty() {
        w.insert(
            "writeRelabelConfigs".into(),
            Value::Array(
                rw.write_relabel_configs
                    .iter()
                    .map(super::monitors::relabeling)
                    .collect(),
            ),
        );
    }
    Value::Object(w)
}

/// Serves under external_url's path, as in the compose target: the operator
/// passes `--web.route-prefix` (default `/`) and probes
/// `<routePrefix>/-/ready`; the chart follows it in its self-monitors, its
/// Grafana datasource and Prometheus's Alertmanager endpoint.
fn route_prefix(spec: &mut Map<String, Value>, external_url: &str) {
    let prefix = crate::plan::route_prefix::of_spec(Some(external_url), &[]);
    if !prefix.is_empty() {
        spec.insert("routePrefix".into(), json!(prefix));
    }
}

fn alertmanager(ctx: &mut Ctx<'_>) -> Value {
    let stack: &Stack = ctx.stack;
    let Some(c) = stack.component(Kind::Alertmanager) else {
        return json!({"enabled": false});
    };
    let spec = stack.components.alertmanager.clone().unwrap_or_default();
    let at = path!["components", "alertmanager"];
    let mut a = Map::new();
    a.insert(
        "image".into(),
        image(&c.image(stack.defaults.image_registry.as_deref())),
    );
    if let Some(url) = &spec.external_url {
        a.insert("externalUrl".into(), json!(tpl_literal(url)));
        route_prefix(&mut a, url);
    }
    if let Some(retention) = &spec.retention {
        // The Alertmanager CRD only takes ms, s, m and h.
        a.insert("retention".into(), json!(hours_form(retention.millis())));
    }
    a.insert(
        "alertmanagerConfigSelector".into(),
        json!({"matchLabels": {"release": ctx.release}}),
    );
    a.insert(
        "alertmanagerConfigMatcherStrategy".into(),
        json!({"type": "OnNamespaceExceptForAlertmanagerNamespace"}),
    );
    let args = additional_args(ctx, c.common.extra_args, &at);
    if !args.is_empty() {
        a.insert("additionalArgs".into(), Value::Array(args));
    }
    if let Some(r) = resources(&c.common) {
        a.insert("resources".into(), r);
    }
    if !spec.cluster_peers.is_empty() {
        ctx.warn(
            super::join(&at, path!["cluster_peers"]),
            "`cluster_peers` is not mapped: the operator forms the cluster from `alertmanager.alertmanagerSpec.replicas`",
            "set `replicas` in the values (or `additionalPeers` for peers outside the cluster)",
        );
    }
    let mut out = Map::new();
    out.insert("enabled".into(), json!(true));
    if let Some(t) = stack
        .alerting
        .as_ref()
        .and_then(|al| al.resolve_timeout.as_ref())
    {
        // Merged by Helm into the chart's base configuration.
        out.insert(
            "config".into(),
            json!({"global": {"resolve_timeout": t.as_str()}}),
        );
    }
    out.insert("alertmanagerSpec".into(), Value::Object(a));
    if let Some(monitor) = self_monitor(&c.common, "selfMonitor") {
        out.insert("serviceMonitor".into(), monitor);
    }
    Value::Object(out)
}

fn grafana(ctx: &mut Ctx<'_>) -> Value {
    let stack: &Stack = ctx.stack;
    let Some(c) = stack.component(Kind::Grafana) else {
        return json!({"enabled": false});
    };
    let spec = stack.components.grafana.clone().unwrap_or_default();
    let mut g = Map::new();
    g.insert("enabled".into(), json!(true));
    g.insert(
        "image".into(),
        image(&c.image(stack.defaults.image_registry.as_deref())),
    );
    let admin_user = stack.grafana_admin_user();
    let admin_secret = stack.grafana_admin_secret();
    let key_secret = stack.grafana_key_secret();
    // The chart reads user and password from one existing Secret; its default
    // password (`prom-operator`) is never used.
    let _ = ctx
        .secrets
        .literal(GRAFANA_ADMIN_USER_KEY, &admin_user, "Grafana admin user");
    ctx.secret(&admin_secret, "Grafana admin password");
    g.insert(
        "admin".into(),
        json!({"existingSecret": ctx.secrets.name, "userKey": GRAFANA_ADMIN_USER_KEY, "passwordKey": admin_secret}),
    );
    let mut env_from = Map::new();
    env_from.insert(
        "GF_SECURITY_SECRET_KEY".into(),
        json!({"secretKeyRef": ctx.secret(&key_secret, "Grafana secret_key")}),
    );
    let mut env: Map<String, Value> = c
        .common
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut ini = json!({
        "analytics": {"check_for_plugin_updates": false, "check_for_updates": false, "reporting_enabled": false},
        "auth.anonymous": {"enabled": false},
        "users": {"allow_sign_up": false},
    });
    if let Some(url) = &spec.root_url {
        ini["server"] = json!({"root_url": url});
    }
    g.insert("grafana.ini".into(), ini);
    if !spec.plugins.is_empty() {
        if c.version.at_least(12, 1, 0) {
            // The chart's `plugins` sets GF_INSTALL_PLUGINS, deprecated since
            // 12.1 and ignored by the distroless images (as in the compose target).
            env.insert(
                "GF_PLUGINS_PREINSTALL_SYNC".into(),
                json!(spec.plugins.join(",")),
            );
        } else {
            g.insert("plugins".into(), json!(spec.plugins));
        }
    }
    let (sidecar_ds, additional) = datasources(ctx, &mut env_from);
    g.insert(
        "sidecar".into(),
        json!({
            "dashboards": {
                "enabled": true,
                "label": dashboards::LABEL,
                "labelValue": dashboards::LABEL_VALUE,
                "folderAnnotation": dashboards::FOLDER_ANNOTATION,
                "provider": {"foldersFromFilesStructure": true},
            },
            "datasources": sidecar_ds,
        }),
    );
    if !additional.is_empty() {
        g.insert(
            "additionalDataSources".into(),
            escape_tpl(Value::Array(additional)),
        );
    }
    if !env.is_empty() {
        g.insert("env".into(), Value::Object(env));
    }
    g.insert("envValueFrom".into(), Value::Object(env_from));
    if let Some(r) = resources(&c.common) {
        g.insert("resources".into(), r);
    }
    if !c.common.extra_args.is_empty() {
        ctx.warn(
            path!["components", "grafana", "extra_args"],
            "Grafana's `extra_args` are not mapped: the chart does not pass extra command-line flags",
            "use `environment` (`GF_<SECTION>_<KEY>`) instead",
        );
    }
    if let Some(monitor) = self_monitor(&c.common, "enabled") {
        g.insert("serviceMonitor".into(), monitor);
    }
    Value::Object(g)
}

/// The chart's sidecar datasources (its own Prometheus and Alertmanager,
/// renamed to the spec's names and UIDs) and the rest as `additionalDataSources`.
fn datasources(ctx: &mut Ctx<'_>, env_from: &mut Map<String, Value>) -> (Value, Vec<Value>) {
    let stack: &Stack = ctx.stack;
    let sources = ctx.stack.datasources();
    let own = |ds: &Datasource| is_own(stack, ds);
    let prometheus = sources
        .iter()
        .find(|ds| ds.kind == DatasourceKind::Prometheus && own(ds));
    let alertmanager = sources
        .iter()
        .find(|ds| ds.kind == DatasourceKind::Alertmanager && own(ds));
    let mut sidecar = Map::new();
    sidecar.insert("enabled".into(), json!(true));
    sidecar.insert(
        "defaultDatasourceEnabled".into(),
        json!(prometheus.is_some()),
    );
    if let Some(p) = prometheus {
        sidecar.insert("name".into(), json!(p.name.replace('$', "$$")));
        sidecar.insert("uid".into(), json!(p.uid));
        sidecar.insert("isDefaultDatasource".into(), json!(p.default == Some(true)));
    }
    sidecar.insert(
        "alertmanager".into(),
        match alertmanager {
            Some(a) => json!({"enabled": true, "name": a.name.replace('$', "$$"), "uid": a.uid}),
            None => json!({"enabled": false}),
        },
    );
    let jaeger_uid = crate::resolve::datasources::trace_datasource(sources).map(|s| s.uid.clone());
    let mut additional = Vec::new();
    for ds in sources {
        if prometheus.is_some_and(|p| p.uid == ds.uid)
            || alertmanager.is_some_and(|a| a.uid == ds.uid)
        {
            continue;
        }
        let component = component_for(ds.kind);
        let url = match &ds.url {
            Some(url) => url.replace('$', "$$"),
            None => in_cluster_url(ctx, component),
        };
        let mut m = Map::new();
        m.insert("name".into(), json!(ds.name.replace('$', "$$")));
        m.insert("type".into(), json!(ds.kind.as_str()));
        m.insert("uid".into(), json!(ds.uid));
        m.insert("access".into(), json!("proxy"));
        m.insert("url".into(), json!(url));
        m.insert("isDefault".into(), json!(ds.default == Some(true)));
        m.insert("editable".into(), json!(ds.editable.unwrap_or(false)));
        let mut json_data = Map::new();
        match ds.kind {
            DatasourceKind::Prometheus => {
                json_data.insert("httpMethod".into(), json!("POST"));
            }
            DatasourceKind::Loki => {
                json_data.insert("maxLines".into(), json!(1000));
                if let Some(uid) = &jaeger_uid {
                    json_data.insert(
                        "derivedFields".into(),
                        json!([{
                            "datasourceUid": uid,
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
                let index = ds.index.clone().unwrap_or_else(|| DEFAULT_INDEX.into());
                json_data.insert("index".into(), json!(index.replace('$', "$$")));
                json_data.insert(
                    "timeField".into(),
                    json!(
                        ds.time_field
                            .clone()
                            .unwrap_or_else(|| DEFAULT_TIME_FIELD.into())
                    ),
                );
                json_data.insert("logMessageField".into(), json!("message"));
                json_data.insert("logLevelField".into(), json!("level"));
                if ds.url.is_none() && stack.has(Kind::Elasticsearch) {
                    let secret = stack.elastic_secret();
                    // Grafana expands the variable when it provisions the datasource.
                    env_from.insert(
                        ELASTIC_PASSWORD_ENV.into(),
                        json!({"secretKeyRef": ctx.secret(&secret, "Grafana Elasticsearch datasource")}),
                    );
                    m.insert("basicAuth".into(), json!(true));
                    m.insert("basicAuthUser".into(), json!("elastic"));
                    m.insert(
                        "secureJsonData".into(),
                        json!({"basicAuthPassword": format!("${{{ELASTIC_PASSWORD_ENV}}}")}),
                    );
                }
            }
            DatasourceKind::Jaeger => {}
            DatasourceKind::Tempo => {
                crate::components::tempo::datasource::json_data(stack, sources, &mut json_data)
            }
        }
        if !json_data.is_empty() {
            m.insert("jsonData".into(), Value::Object(json_data));
        }
        additional.push(Value::Object(m));
    }
    (Value::Object(sidecar), additional)
}

/// Where a component of the spec is reached in the cluster when it is
/// deployed beside the stack under its usual name (see the README).
fn in_cluster_url(ctx: &Ctx<'_>, kind: Kind) -> String {
    match kind {
        // The operator's governing Services for the StatefulSets it runs.
        Kind::Prometheus => format!(
            "http://{}",
            ctx.service_address("prometheus-operated", crate::components::prometheus::WEB)
        ),
        Kind::Alertmanager => format!(
            "http://{}",
            ctx.service_address(
                "alertmanager-operated",
                crate::components::alertmanager::WEB
            )
        ),
        Kind::Grafana
        | Kind::Loki
        | Kind::Promtail
        | Kind::Alloy
        | Kind::Jaeger
        | Kind::Tempo
        | Kind::NodeExporter
        | Kind::Cadvisor
        | Kind::BlackboxExporter
        | Kind::PostgresExporter
        | Kind::RedisExporter
        | Kind::NginxExporter
        | Kind::Pushgateway
        | Kind::Elasticsearch
        | Kind::Logstash
        | Kind::Kibana => {
            let port = kind
                .info()
                .datasource_port
                .and_then(|name| kind.port(name))
                .map_or(80, |p| p.container);
            format!("http://{}", ctx.service_address(kind.service(), port))
        }
    }
}

fn node_exporter(ctx: &Ctx<'_>) -> Value {
    let stack: &Stack = ctx.stack;
    let Some(c) = stack.component(Kind::NodeExporter) else {
        return json!({});
    };
    let spec = stack.components.node_exporter.clone().unwrap_or_default();
    let mut n = Map::new();
    n.insert(
        "image".into(),
        image(&c.image(stack.defaults.image_registry.as_deref())),
    );
    let customised = spec.mount_points_exclude.is_some()
        || spec.fs_types_exclude.is_some()
        || !spec.collectors_enabled.is_empty()
        || !spec.collectors_disabled.is_empty()
        || !c.common.extra_args.is_empty();
    if customised {
        let mut args = vec![
            format!(
                "--collector.filesystem.mount-points-exclude={}",
                spec.mount_points_exclude
                    .as_deref()
                    .unwrap_or(CHART_MOUNT_POINTS_EXCLUDE)
            ),
            format!(
                "--collector.filesystem.fs-types-exclude={}",
                spec.fs_types_exclude
                    .as_deref()
                    .unwrap_or(CHART_FS_TYPES_EXCLUDE)
            ),
        ];
        args.extend(
            spec.collectors_enabled
                .iter()
                .map(|c| format!("--collector.{c}")),
        );
        args.extend(
            spec.collectors_disabled
                .iter()
                .map(|c| format!("--no-collector.{c}")),
        );
        args.extend(c.common.extra_args.iter().cloned());
        n.insert("extraArgs".into(), json!(args));
    }
    if spec.host_root == Some(false) {
        n.insert("hostRootFsMount".into(), json!({"enabled": false}));
    }
    if let Some(r) = resources(&c.common) {
        n.insert("resources".into(), r);
    }
    if let Some(monitor) = self_monitor(&c.common, "enabled") {
        n.insert("prometheus".into(), json!({"monitor": monitor}));
    }
    Value::Object(n)
}

/// The chart scrapes its own components; the spec's `scrape: false` and
/// `scrape_interval` go to that ServiceMonitor (`switch` is the chart's key
/// for turning it on or off).
fn self_monitor(common: &Common<'_>, switch: &str) -> Option<Value> {
    let mut m = Map::new();
    if common.scrape == Some(false) {
        m.insert(switch.into(), json!(false));
    } else if let Some(interval) = common.scrape_interval {
        m.insert("interval".into(), json!(interval.as_str()));
    }
    if m.is_empty() {
        None
    } else {
        Some(Value::Object(m))
    }
}

/// `registry/repo/sitory:tag` → the chart's `{registry, repository, tag}`.
/// A reference without a registry host is on Docker Hub.
pub fn image(reference: &str) -> Value {
    let (name, tag) = match reference.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (reference, ""),
    };
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest)
        }
        _ => ("docker.io", name),
    };
    json!({"registry": registry, "repository": repository, "tag": tag})
}

/// Limits as the compose target sets them (CPU in millicores, memory in bytes
/// or binary units: Kubernetes reads a bare `512m` as millibytes).
pub fn resources(common: &Common<'_>) -> Option<Value> {
    let r = common.resources?;
    let mut limits = Map::new();
    if let Some(cpus) = r.cpus {
        limits.insert(
            "cpu".into(),
            json!(format!("{}m", (cpus * 1000.0).round() as u64)),
        );
    }
    if let Some(mem) = &r.memory {
        limits.insert("memory".into(), json!(memory_quantity(mem.bytes())));
    }
    if limits.is_empty() {
        None
    } else {
        Some(json!({"limits": limits}))
    }
}

pub fn memory_quantity(bytes: u64) -> String {
    for (unit, size) in [
        ("Ti", 1u64 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ] {
        if bytes >= size && bytes % size == 0 {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

/// `--flag=value` → `{name: flag, value}` (the operator's `additionalArgs`).
fn additional_args(ctx: &mut Ctx<'_>, args: &[String], at: &crate::yaml::node::Path) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            ctx.warn(
                super::join(at, path!["extra_args", i]),
                format!("`{arg}` is not a flag; the operator only passes `--name=value` arguments"),
                "",
            );
            continue;
        };
        out.push(match flag.split_once('=') {
            Some((name, value)) => json!({"name": name, "value": value}),
            None => json!({"name": flag}),
        });
    }
    out
}

const GIB: f64 = (1u64 << 30) as f64;

/// A Prometheus size (`50GB`, `512MiB`, `1.5TB`) in bytes, or `None` when the
/// operator's pattern would reject it.
pub fn parse_byte_size(text: &str) -> Option<u64> {
    let body = text.strip_suffix('B')?;
    let split = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, unit) = body.split_at(split);
    let number: f64 = number.parse().ok()?;
    let power = match unit.trim_end_matches('i') {
        "" => 0,
        "K" => 1,
        "M" => 2,
        "G" => 3,
        "T" => 4,
        "P" => 5,
        "E" => 6,
        _ => return None,
    };
    if unit.len() > 2 || (unit.len() == 2 && !unit.ends_with('i')) {
        return None;
    }
    // Prometheus reads both `GB` and `GiB` as powers of 1024.
    Some((number * 1024f64.powi(power)) as u64)
}

/// A duration in the units the Alertmanager CRD accepts: `5d` → `120h`.
pub fn hours_form(millis: u64) -> String {
    let mut out = String::new();
    let mut rest = millis;
    for (unit, size) in [("h", 3_600_000u64), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

/// A string Helm's `tpl` turns back into itself.
pub fn tpl_literal(s: &str) -> String {
    s.replace("{{", "{{ \"{{\" }}")
}

fn escape_tpl(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(tpl_literal(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(escape_tpl).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, escape_tpl(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_image_references() {
        assert_eq!(
            image("prom/prometheus:v3.14.0"),
            json!({"registry": "docker.io", "repository": "prom/prometheus", "tag": "v3.14.0"})
        );
        assert_eq!(
            image("registry.local:5000/prom/prometheus:v3.14.0"),
            json!({"registry": "registry.local:5000", "repository": "prom/prometheus", "tag": "v3.14.0"})
        );
        assert_eq!(
            image("ghcr.io/google/cadvisor:v0.60.5"),
            json!({"registry": "ghcr.io", "repository": "google/cadvisor", "tag": "v0.60.5"})
        );
    }

    #[test]
    fn quantities_and_durations() {
        assert_eq!(memory_quantity(512 * 1024 * 1024), "512Mi");
        assert_eq!(memory_quantity(3 * (1 << 30)), "3Gi");
        assert_eq!(memory_quantity(1000), "1000");
        assert_eq!(hours_form(5 * 86_400_000), "120h");
        assert_eq!(hours_form(90_061_001), "25h1m1s1ms");
        assert_eq!(parse_byte_size("50GB"), Some(50 * (1 << 30)));
        assert_eq!(parse_byte_size("512MiB"), Some(512 * (1 << 20)));
        assert_eq!(parse_byte_size("50G"), None);
        assert_eq!(parse_byte_size("5XB"), None);
    }

    #[test]
    fn prometheus_and_alertmanager_settings() {
        let spec = r#"stackctl: 1
name: shop
secrets:
  rw_pw: {}
components:
  prometheus:
    version: v3.14.0
    retention_time: 30d
    retention_size: 10GB
    external_labels:
      cluster: "{{ prod }} $HOME"
    extra_args: ["--query.timeout=1m", "--web.enable-admin-api", "oops"]
    resources:
      cpus: 1.5
      memory: 2g
  alertmanager:
    retention: 5d
remote_write:
  - url: https://rw.test/api/v1/write
    basic_auth:
      username: shop
      password_secret: rw_pw
alerting:
  route:
    receiver: none
  receivers:
    - name: none
"#;
        let loaded = crate::load::load_text("stack.yaml", spec.to_string());
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let stack = crate::resolve::Resolved::from_loaded(&loaded).expect("valid spec");
        let mut ctx = Ctx::new(
            &stack,
            &super::super::Options {
                namespace: None,
                release: Some("prom"),
            },
        );
        let v = values(&mut ctx);
        let p = &v["prometheus"]["prometheusSpec"];
        assert_eq!(p["retention"], json!("30d"));
        assert_eq!(p["retentionSize"], json!("10GB"));
        // `$` doubled for Prometheus 3, `{{` kept through Helm's tpl.
        assert_eq!(
            p["externalLabels"],
            json!({"cluster": "{{ \"{{\" }} prod }} $$HOME"})
        );
        assert_eq!(
            p["additionalArgs"],
            json!([{"name": "query.timeout", "value": "1m"}, {"name": "web.enable-admin-api"}])
        );
        assert_eq!(
            p["resources"],
            json!({"limits": {"cpu": "1500m", "memory": "2Gi"}})
        );
        assert_eq!(
            p["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"],
            json!("12Gi")
        );
        assert_eq!(
            p["remoteWrite"],
            json!([{
                "url": "https://rw.test/api/v1/write",
                "basicAuth": {
                    "username": {"name": "shop-secrets", "key": "rw_pw.username"},
                    "password": {"name": "shop-secrets", "key": "rw_pw"},
                },
            }])
        );
        assert_eq!(
            v["alertmanager"]["alertmanagerSpec"]["retention"],
            json!("120h")
        );
        assert_eq!(
            v["alertmanager"]["alertmanagerSpec"]["alertmanagerConfigSelector"],
            json!({"matchLabels": {"release": "prom"}})
        );
        assert_eq!(
            ctx.secrets
                .literals
                .get("rw_pw.username")
                .map(String::as_str),
            Some("shop")
        );
        let messages: Vec<&str> = ctx.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            ["`oops` is not a flag; the operator only passes `--name=value` arguments"]
        );
    }

    #[test]
    fn tpl_braces_survive() {
        assert_eq!(tpl_literal("a {{ b }}"), "a {{ \"{{\" }} b }}");
        assert_eq!(tpl_literal("plain"), "plain");
    }
}
