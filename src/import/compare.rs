//! The safety net of an import: the candidate spec is rendered in memory and
//! compared with what was read. Compose flags, environment variables and
//! mounts the render does not produce are kept verbatim (`extra_args`,
//! `environment`, `volumes`); config values it does not reproduce are
//! reported with their source position. Lists the render derives by itself
//! (datasources, blackbox modules) are dropped when they change nothing.

use super::Ctx;
use super::compose::{ComposeService, Services};
use super::report::Outcome;
use super::source;
use crate::model::{Kind, Stack};
use crate::plan::{Deployment, MountSource};
use crate::yaml::node::{Content, Node};
use serde_json::{Value, json};

/// The candidate as a typed stack, or why it is not one.
pub fn stack_of(ctx: &Ctx) -> Result<Stack, String> {
    let mut v = Value::Object(ctx.spec.clone());
    v["stackctl"] = json!(1);
    if v.get("components").is_none() {
        v["components"] = json!({});
    }
    serde_json::from_value(v).map_err(|e| e.to_string())
}

pub fn render(ctx: &Ctx, stack: &Stack) -> Deployment {
    let inputs = crate::plan::Inputs {
        files: ctx.files.clone(),
        ..Default::default()
    };
    // The candidate is compared in memory, never written: it need not be valid yet.
    crate::plan::plan(&crate::resolve::Resolved::preview(stack.clone()), &inputs)
}

pub fn run(ctx: &mut Ctx, services: &Services) {
    component_env(ctx, services);
    default_secrets(ctx);
    let stack = match stack_of(ctx) {
        Ok(s) => s,
        Err(e) => {
            ctx.note(
                Outcome::NotExpressed,
                "stack.yaml",
                0,
                format!(
                    "the imported spec does not load ({e}); nothing was compared with a render"
                ),
            );
            return;
        }
    };
    let d = render(ctx, &stack);
    for s in &services.known {
        service_leftovers(ctx, s, &d);
    }
    drop_derived(ctx);
    allow_exposures(ctx);
    let Ok(stack) = stack_of(ctx) else { return };
    let d = render(ctx, &stack);
    let tree = crate::render::compose_tree(&d);
    for (rendered, name, text) in std::mem::take(&mut ctx.compared_text) {
        if tree.get(&rendered) != Some(&text) {
            ctx.note(Outcome::NotExpressed, &name, 1, format!("stackctl renders `{rendered}` differently from this file: only its inputs and index are in the spec"));
        }
    }
    for (rendered, name, node) in std::mem::take(&mut ctx.compared) {
        match tree.get(&rendered) {
            Some(text) => {
                if let Ok(out) = source::parse(&rendered, text) {
                    diff(ctx, &name, &node, &source::to_value(&out.root), "");
                }
            }
            None => ctx.note(Outcome::NotExpressed, &name, 1, format!("stackctl renders no `{rendered}` for this stack: the file's settings are not carried over")),
        }
    }
}

/// A folder that publishes Prometheus & co. beyond loopback without
/// authentication keeps doing so, but on purpose: `validate` refuses it
/// otherwise, and the report says how to protect it instead.
fn allow_exposures(ctx: &mut Ctx) {
    let Ok(stack) = stack_of(ctx) else { return };
    for kind in crate::check::deployment::exposed_without_auth(&stack) {
        let key = kind.key();
        ctx.push(&["security", "allow_unauthenticated"], json!(key));
        ctx.note(
            Outcome::Modernised,
            "stack.yaml",
            0,
            format!("`{key}` is published beyond loopback without authentication, as in the folder: kept, and allowed explicitly in `security.allow_unauthenticated`; add `security.users` to protect it (docs/security.md)"),
        );
    }
}

static DSN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^postgres(?:ql)?://(?:([^:@/]+)(?::([^@/]*))?@)?([^:/?]+)(?::(\d+))?/([^?]*)(?:\?sslmode=(\w+))?").expect("valid")
});
static URI: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^([^:/?]+)(?::(\d+))?/([^?]*)(?:\?sslmode=(\w+))?").expect("valid")
});

/// Settings a component takes from its environment in Compose files.
fn component_env(ctx: &mut Ctx, services: &Services) {
    for s in &services.known {
        let key = s.kind.key();
        let env = |k: &str| s.environment.get(k).cloned();
        match s.kind {
            Kind::Grafana => {
                if let Some((v, _)) = env("GF_SECURITY_ADMIN_USER") {
                    if v != "admin" {
                        ctx.set(&["components", key, "admin_user"], json!(v));
                    }
                }
                if let Some((v, l)) = env("GF_SECURITY_ADMIN_PASSWORD") {
                    let n = ctx.secret(
                        "grafana_admin_password",
                        &v,
                        &s.file,
                        l,
                        "Grafana admin password",
                    );
                    ctx.set(&["components", key, "admin_password_secret"], json!(n));
                }
                for (var, field) in [
                    ("GF_SECURITY_ADMIN_PASSWORD__FILE", "admin_password_secret"),
                    ("GF_SECURITY_SECRET_KEY__FILE", "secret_key_secret"),
                ] {
                    if let Some((v, l)) = env(var) {
                        if let Some(n) = v.strip_prefix("/run/secrets/") {
                            let n = ctx.secret_from_file(n, None, &s.file, l);
                            let default = if field == "admin_password_secret" {
                                "grafana_admin_password"
                            } else {
                                "grafana_secret_key"
                            };
                            if n != default {
                                ctx.set(&["components", key, field], json!(n));
                            }
                        }
                    }
                }
                if let Some((v, l)) = env("GF_SECURITY_SECRET_KEY") {
                    let n = ctx.secret("grafana_secret_key", &v, &s.file, l, "Grafana secret key");
                    ctx.set(&["components", key, "secret_key_secret"], json!(n));
                }
                if let Some((v, _)) = env("GF_SERVER_ROOT_URL") {
                    ctx.set(&["components", key, "root_url"], json!(v));
                }
                for var in [
                    "GF_INSTALL_PLUGINS",
                    "GF_PLUGINS_PREINSTALL",
                    "GF_PLUGINS_PREINSTALL_SYNC",
                ] {
                    if let Some((v, l)) = env(var) {
                        let plugins: Vec<&str> = v
                            .split(',')
                            .map(str::trim)
                            .filter(|p| !p.is_empty())
                            .collect();
                        ctx.set(&["components", key, "plugins"], json!(plugins));
                        if var == "GF_INSTALL_PLUGINS" {
                            ctx.note(
                                Outcome::Modernised,
                                &s.file,
                                l,
                                "`GF_INSTALL_PLUGINS` (deprecated) imported as `plugins`",
                            );
                        }
                    }
                }
            }
            Kind::PostgresExporter => {
                if let Some((dsn, l)) = env("DATA_SOURCE_NAME") {
                    if let Some(c) = DSN.captures(&dsn) {
                        let g = |i: usize| c.get(i).map(|m| m.as_str().to_string());
                        if let Some(u) = g(1) {
                            ctx.set(&["components", key, "user"], json!(u));
                        }
                        if let Some(p) = g(2) {
                            let n = ctx.secret(
                                "postgres_password",
                                &p,
                                &s.file,
                                l,
                                "PostgreSQL password in DATA_SOURCE_NAME",
                            );
                            ctx.set(&["components", key, "password_secret"], json!(n));
                        }
                        if let Some(h) = g(3) {
                            ctx.set(&["components", key, "host"], json!(h));
                        }
                        if let Some(p) = g(4).and_then(|p| p.parse::<u16>().ok()) {
                            ctx.set(&["components", key, "port"], json!(p));
                        }
                        if let Some(d) = g(5).filter(|d| !d.is_empty()) {
                            ctx.set(&["components", key, "database"], json!(d));
                        }
                        if let Some(m) = g(6) {
                            ctx.set(&["components", key, "sslmode"], json!(m));
                        }
                        ctx.note(Outcome::Modernised, &s.file, l, "`DATA_SOURCE_NAME` split into host, port, database, user and a password secret");
                    }
                }
                if let Some((uri, _)) = env("DATA_SOURCE_URI") {
                    if let Some(c) = URI.captures(&uri) {
                        let g = |i: usize| c.get(i).map(|m| m.as_str().to_string());
                        if let Some(h) = g(1) {
                            ctx.set(&["components", key, "host"], json!(h));
                        }
                        if let Some(p) = g(2).and_then(|p| p.parse::<u16>().ok()) {
                            ctx.set(&["components", key, "port"], json!(p));
                        }
                        if let Some(d) = g(3).filter(|d| !d.is_empty()) {
                            ctx.set(&["components", key, "database"], json!(d));
                        }
                        if let Some(m) = g(4) {
                            ctx.set(&["components", key, "sslmode"], json!(m));
                        }
                    }
                }
                if let Some((u, _)) = env("DATA_SOURCE_USER") {
                    ctx.set(&["components", key, "user"], json!(u));
                }
                if let Some((p, l)) = env("DATA_SOURCE_PASS") {
                    let n = ctx.secret("postgres_password", &p, &s.file, l, "PostgreSQL password");
                    ctx.set(&["components", key, "password_secret"], json!(n));
                }
                if let Some((p, l)) = env("DATA_SOURCE_PASS_FILE") {
                    if let Some(n) = p.strip_prefix("/run/secrets/") {
                        let n = ctx.secret_from_file(n, None, &s.file, l);
                        ctx.set(&["components", key, "password_secret"], json!(n));
                    }
                }
            }
            Kind::Elasticsearch | Kind::Logstash => {
                let opts = if s.kind == Kind::Elasticsearch {
                    "ES_JAVA_OPTS"
                } else {
                    "LS_JAVA_OPTS"
                };
                // stackctl sets -Xms and -Xmx to the same `heap`.
                if let Some((v, _)) = env(opts) {
                    if let Some(heap) = v.split_whitespace().find_map(|o| o.strip_prefix("-Xmx")) {
                        ctx.set(&["components", key, "heap"], json!(heap));
                    }
                }
                if let Some((v, _)) = env("cluster.name") {
                    let default = ctx
                        .get(&["name"])
                        .and_then(Value::as_str)
                        .map(|n| format!("{n}-logs"));
                    if default.as_deref() != Some(v.as_str()) {
                        ctx.set(&["components", key, "cluster_name"], json!(v));
                    }
                }
            }
            Kind::RedisExporter => {
                if let Some((a, _)) = env("REDIS_ADDR") {
                    let a = if a.contains("://") {
                        a
                    } else {
                        format!("redis://{a}")
                    };
                    if a != "redis://redis:6379" {
                        ctx.set(&["components", key, "address"], json!(a));
                    }
                }
                if let Some((p, l)) = env("REDIS_PASSWORD") {
                    let addr = ctx
                        .get(&["components", key, "address"])
                        .and_then(Value::as_str)
                        .unwrap_or("redis://redis:6379")
                        .to_string();
                    let file = json!({addr: p}).to_string();
                    let n = ctx.secret(
                        "redis_password",
                        &file,
                        &s.file,
                        l,
                        "Redis password (as redis_exporter's password file)",
                    );
                    ctx.set(&["components", key, "password_secret"], json!(n));
                }
            }
            _ => {}
        }
        for (flag, line) in &s.command {
            let (name, value) = flag.split_once('=').unwrap_or((flag, ""));
            let set =
                |ctx: &mut Ctx, field: &str, v: Value| ctx.set(&["components", key, field], v);
            match (s.kind, name.trim_start_matches('-')) {
                (Kind::Prometheus, "storage.tsdb.retention.time" | "storage.tsdb.retention") => {
                    if name.ends_with("retention") {
                        ctx.note(
                            Outcome::Modernised,
                            &s.file,
                            *line,
                            "`--storage.tsdb.retention` (removed) imported as `retention_time`",
                        );
                    }
                    set(ctx, "retention_time", json!(value))
                }
                (Kind::Prometheus, "storage.tsdb.retention.size") => {
                    set(ctx, "retention_size", json!(value))
                }
                (Kind::Prometheus | Kind::Alertmanager, "web.external-url") => {
                    set(ctx, "external_url", json!(value))
                }
                (Kind::Prometheus, "web.enable-lifecycle") => {
                    set(ctx, "enable_lifecycle", json!(true))
                }
                (Kind::Prometheus, "web.enable-remote-write-receiver") => {
                    set(ctx, "remote_write_receiver", json!(true))
                }
                (Kind::Prometheus, "alertmanager.notification-queue-capacity") => {
                    if let Ok(n) = value.parse::<u32>() {
                        set(ctx, "notification_queue_capacity", json!(n))
                    }
                }
                (Kind::Alertmanager, "data.retention") => set(ctx, "retention", json!(value)),
                (Kind::Alertmanager, "cluster.peer") => {
                    ctx.push(&["components", key, "cluster_peers"], json!(value));
                }
                (
                    Kind::NodeExporter,
                    "collector.filesystem.mount-points-exclude"
                    | "collector.filesystem.ignored-mount-points",
                ) if value != "^/(sys|proc|dev|host|etc)($|/)" => {
                    set(ctx, "mount_points_exclude", json!(value))
                }
                (
                    Kind::NodeExporter,
                    "collector.filesystem.fs-types-exclude"
                    | "collector.filesystem.ignored-fs-types",
                ) => set(ctx, "fs_types_exclude", json!(value)),
                (Kind::Cadvisor, "housekeeping_interval") => {
                    set(ctx, "housekeeping_interval", json!(value))
                }
                (Kind::Cadvisor, "docker_only") if value == "false" => {
                    set(ctx, "docker_only", json!(false))
                }
                (Kind::NginxExporter, "nginx.scrape-uri")
                    if value != "http://nginx:8080/stub_status" =>
                {
                    set(ctx, "scrape_uri", json!(value))
                }
                (Kind::Pushgateway, "persistence.file") => {}
                _ => {}
            }
        }
        if s.kind == Kind::Pushgateway
            && !s
                .command
                .iter()
                .any(|(f, _)| f.contains("persistence.file"))
        {
            ctx.set(&["components", key, "persistence"], json!(false));
        }
        if s.kind == Kind::NodeExporter
            && !s
                .command
                .iter()
                .any(|(f, _)| f.starts_with("--path.rootfs"))
        {
            ctx.set(&["components", key, "host_root"], json!(false));
        }
    }
}

/// Secrets stackctl components need (Grafana's admin password and key, the
/// Elastic stack's users): declared with `generate: true` when the folder
/// had none; a stackctl-rendered folder has their files in `secrets/`.
fn default_secrets(ctx: &mut Ctx) {
    let elastic = [
        ("elasticsearch", "elastic_password"),
        ("elasticsearch", "kibana_system_password"),
        ("logstash", "elasticsearch_logstash_password"),
        ("kibana", "kibana_encryption_key"),
        ("grafana_es", "elasticsearch_grafana_password"),
    ];
    let grafana_es = ctx
        .get(&["datasources"])
        .and_then(Value::as_array)
        .is_some_and(|l| {
            l.iter()
                .any(|d| d.get("type") == Some(&json!("elasticsearch")))
        });
    for (component, name) in elastic {
        let present = match component {
            "grafana_es" => grafana_es && ctx.get(&["components", "elasticsearch"]).is_some(),
            c => ctx.get(&["components", c]).is_some(),
        };
        if present && ctx.get(&["secrets", name]).is_none() {
            if ctx.root.join("secrets").join(name).is_file() {
                ctx.secret_from_file(name, None, "secrets", 0);
            } else {
                ctx.set(&["secrets", name], json!({"generate": true}));
            }
        }
    }
    if ctx.get(&["components", "grafana"]).is_some() {
        for (field, name) in [
            ("admin_password_secret", "grafana_admin_password"),
            ("secret_key_secret", "grafana_secret_key"),
        ] {
            if ctx.get(&["components", "grafana", field]).is_none()
                && ctx.get(&["secrets", name]).is_none()
            {
                ctx.set(&["secrets", name], json!({"generate": true}));
            }
        }
    }
}

/// Flags, environment variables and mounts of a Compose service that the
/// render does not produce: kept verbatim, or reported.
fn service_leftovers(ctx: &mut Ctx, s: &ComposeService, d: &Deployment) {
    let key = s.kind.key();
    let Some(planned) = d.services.iter().find(|p| p.kind == Some(s.kind)) else {
        return;
    };
    let mut extra = Vec::new();
    for (flag, line) in &s.command {
        if planned.command.contains(flag) {
            continue;
        }
        let name = flag.split('=').next().unwrap_or(flag);
        if matches!(
            name,
            "--config.file"
                | "-config.file"
                | "--storage.tsdb.path"
                | "--storage.path"
                | "--path.procfs"
                | "--path.sysfs"
                | "--path.rootfs"
                | "--storage.tsdb.retention"
                | "--persistence.file"
                | "--persistence.interval"
        ) || planned
            .command
            .iter()
            .any(|c| c.split('=').next() == Some(name))
        {
            if !planned
                .command
                .iter()
                .any(|c| c.split('=').next() == Some(name))
                || name.contains("config")
                || name.contains("path")
            {
                ctx.note(
                    Outcome::AsIs,
                    &s.file,
                    *line,
                    format!(
                        "`{flag}` of `{}`: stackctl sets this itself (its own file layout)",
                        s.name
                    ),
                );
            }
            continue;
        }
        if matches!(name, "--web.console.libraries" | "--web.console.templates") {
            ctx.note(
                Outcome::Modernised,
                &s.file,
                *line,
                format!("`{name}`: consoles were removed in Prometheus 3; dropped"),
            );
            continue;
        }
        ctx.note(
            Outcome::AsIs,
            &s.file,
            *line,
            format!("`{flag}` of `{}` kept in `extra_args`", s.name),
        );
        extra.push(json!(flag));
    }
    if !extra.is_empty() {
        ctx.set(&["components", key, "extra_args"], Value::Array(extra));
    }
    let consumed = [
        "GF_SECURITY_ADMIN_PASSWORD",
        "GF_SECURITY_SECRET_KEY",
        "GF_INSTALL_PLUGINS",
        "GF_PLUGINS_PREINSTALL",
        "GF_PLUGINS_PREINSTALL_SYNC",
        "DATA_SOURCE_NAME",
        "DATA_SOURCE_PASS",
        "REDIS_PASSWORD",
        "DATA_SOURCE_URI",
        "DATA_SOURCE_USER",
        "REDIS_ADDR",
        "GF_SECURITY_ADMIN_PASSWORD__FILE",
        "GF_SECURITY_SECRET_KEY__FILE",
        "DATA_SOURCE_PASS_FILE",
        "GF_SERVER_ROOT_URL",
        "GF_SECURITY_ADMIN_USER",
    ];
    let mut env = serde_json::Map::new();
    for (k, (v, line)) in &s.environment {
        if planned.environment.get(k) == Some(v) || consumed.contains(&k.as_str()) {
            continue;
        }
        let upper = k.to_ascii_uppercase();
        if ["PASSWORD", "SECRET", "TOKEN", "API_KEY"]
            .iter()
            .any(|w| upper.contains(w))
            && !upper.ends_with("_FILE")
        {
            let n = ctx.secret(
                &super::prometheus::slug(k),
                v,
                &s.file,
                *line,
                &format!("`{k}`"),
            );
            ctx.note(Outcome::NotExpressed, &s.file, *line, format!("`{k}` of `{}`: stackctl passes no credential through the environment; its value is in secrets/{n}, wire it up by hand", s.name));
            continue;
        }
        ctx.note(
            Outcome::AsIs,
            &s.file,
            *line,
            format!("`{k}` of `{}` kept in `environment`", s.name),
        );
        env.insert(k.clone(), json!(v));
    }
    if !env.is_empty() {
        ctx.set(&["components", key, "environment"], Value::Object(env));
    }
    let config_targets: Vec<&str> = planned
        .mounts
        .iter()
        .filter(|m| matches!(m.source, MountSource::Generated(_)))
        .map(|m| m.target.as_str())
        .collect();
    let mut volumes = Vec::new();
    for v in &s.volumes {
        let planned_same = planned.mounts.iter().any(|m| {
            m.target == v.target
                && match &m.source {
                    MountSource::Volume(n) => *n == v.source,
                    MountSource::Host(h) => *h == v.source,
                    MountSource::Generated(g) => v.source.trim_start_matches("./") == g,
                }
        });
        if planned_same
            || v.source.starts_with("./secrets/")
            || v.target.starts_with("/run/secrets")
        {
            continue;
        }
        let is_config = config_targets
            .iter()
            .any(|t| v.target == *t || v.target.starts_with(&format!("{t}/")))
            || v.target.starts_with("/etc/grafana/provisioning")
            || v.target.starts_with("/etc/grafana/dashboards")
            || v.target.starts_with("/var/lib/grafana/dashboards");
        if is_config {
            ctx.note(
                Outcome::AsIs,
                &s.file,
                v.line,
                format!(
                    "`{}:{}` of `{}`: the config is imported; render mounts its own copy",
                    v.source, v.target, s.name
                ),
            );
            continue;
        }
        let data_dir = s.kind.info().data_dir;
        if data_dir == Some(v.target.as_str())
            && !v.source.starts_with('.')
            && !v.source.starts_with('/')
            && !v.source.is_empty()
        {
            ctx.set(&["components", key, "data_volume"], json!(v.source));
            continue;
        }
        if v.source.is_empty() {
            ctx.note(
                Outcome::NotExpressed,
                &s.file,
                v.line,
                format!(
                    "anonymous volume `{}` of `{}`: not imported",
                    v.target, s.name
                ),
            );
            continue;
        }
        if v.source.starts_with('.') {
            ctx.note(Outcome::NotExpressed, &s.file, v.line, format!("bind `{}:{}` of `{}`: a folder of the old layout; copy what it holds into the stack directory and add it under `volumes`", v.source, v.target, s.name));
            continue;
        }
        ctx.note(
            Outcome::AsIs,
            &s.file,
            v.line,
            format!(
                "volume `{}:{}` of `{}` kept in `volumes`",
                v.source, v.target, s.name
            ),
        );
        let mut m = serde_json::Map::new();
        m.insert("source".into(), json!(v.source));
        m.insert("target".into(), json!(v.target));
        if v.read_only {
            m.insert("read_only".into(), json!(true));
        }
        volumes.push(Value::Object(m));
    }
    if !volumes.is_empty() {
        ctx.set(&["components", key, "volumes"], Value::Array(volumes));
    }
}

/// Drops explicit lists that render exactly like stackctl's own derivation.
fn drop_derived(ctx: &mut Ctx) {
    for (path, file) in [
        (&["datasources"][..], crate::plan::grafana::DATASOURCES),
        (
            &["components", "blackbox_exporter", "modules"][..],
            crate::plan::exporters::BLACKBOX_CONFIG,
        ),
    ] {
        let Some(saved) = ctx.get(path).cloned() else {
            continue;
        };
        let Ok(with) = stack_of(ctx) else { continue };
        let a = crate::render::compose_tree(&render(ctx, &with));
        remove(ctx, path);
        let same = stack_of(ctx).is_ok_and(|without| {
            crate::render::compose_tree(&render(ctx, &without)).get(file) == a.get(file)
        });
        if same {
            if path == ["datasources"] {
                ctx.comments.retain(|k, _| !k.starts_with("/datasources"));
            }
        } else {
            ctx.set(path, saved);
        }
    }
}

fn remove(ctx: &mut Ctx, path: &[&str]) {
    let mut map = &mut ctx.spec;
    for key in &path[..path.len() - 1] {
        match map.get_mut(*key).and_then(Value::as_object_mut) {
            Some(m) => map = m,
            None => return,
        }
    }
    map.remove(path[path.len() - 1]);
}

/// The name a list item is matched by across the two files.
fn item_key(v: &Value) -> Option<String> {
    ["job_name", "name", "alert", "record"]
        .iter()
        .find_map(|k| {
            v.get(*k)
                .and_then(Value::as_str)
                .map(|s| format!("{k}={s}"))
        })
}

/// Reports every value of `node` (the source) that `rendered` does not hold.
fn diff(ctx: &mut Ctx, file: &str, node: &Node, rendered: &Value, path: &str) {
    let explained = |ctx: &Ctx, line: usize| {
        ctx.report
            .notes
            .iter()
            .any(|n| n.file == file && (n.line == line || n.line == line + 1))
    };
    match &node.content {
        Content::Map(entries) => {
            let Some(r) = rendered.as_object() else {
                report(
                    ctx,
                    file,
                    node,
                    path,
                    rendered,
                    explained(ctx, source::line(node)),
                );
                return;
            };
            for e in entries {
                let Some(k) = e.key.scalar_str() else {
                    continue;
                };
                let child = if path.is_empty() {
                    k.to_string()
                } else {
                    format!("{path}.{k}")
                };
                match r.get(k) {
                    Some(rv) => diff(ctx, file, &e.value, rv, &child),
                    None => {
                        let line = source::line(&e.key);
                        if !explained(ctx, line) {
                            let shown = short(&source::to_value(&e.value));
                            ctx.note(
                                Outcome::NotExpressed,
                                file,
                                line,
                                format!("`{child}: {shown}` is not in the rendered config"),
                            );
                        }
                    }
                }
            }
        }
        Content::Seq(items) => {
            let Some(r) = rendered.as_array() else {
                report(
                    ctx,
                    file,
                    node,
                    path,
                    rendered,
                    explained(ctx, source::line(node)),
                );
                return;
            };
            for (i, item) in items.iter().enumerate() {
                let v = source::to_value(item);
                let matched = match item_key(&v) {
                    Some(key) => r
                        .iter()
                        .find(|x| item_key(x).as_deref() == Some(key.as_str())),
                    None => r.get(i),
                };
                let child = format!("{path}[{}]", item_key(&v).unwrap_or_else(|| i.to_string()));
                match matched {
                    Some(rv) => diff(ctx, file, item, rv, &child),
                    None => {
                        let line = source::line(item);
                        if !explained(ctx, line) {
                            ctx.note(
                                Outcome::NotExpressed,
                                file,
                                line,
                                format!("`{child}` ({}) is not in the rendered config", short(&v)),
                            );
                        }
                    }
                }
            }
        }
        Content::Scalar { .. } => {
            let v = source::to_value(node);
            if !same_scalar(&v, rendered) {
                report(
                    ctx,
                    file,
                    node,
                    path,
                    rendered,
                    explained(ctx, source::line(node)),
                );
            }
        }
    }
}

fn same_scalar(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text(a) == text(b) {
        return true;
    }
    // `1m` and `60s` are the same duration.
    match (
        crate::model::types::Duration::parse(&text(a)),
        crate::model::types::Duration::parse(&text(b)),
    ) {
        (Ok(x), Ok(y)) => x.millis() == y.millis(),
        _ => false,
    }
}

fn report(ctx: &mut Ctx, file: &str, node: &Node, path: &str, rendered: &Value, explained: bool) {
    if explained {
        return;
    }
    let v = source::to_value(node);
    ctx.note(
        Outcome::NotExpressed,
        file,
        source::line(node),
        format!(
            "`{path}` is {} here, stackctl renders {}",
            short(&v),
            short(rendered)
        ),
    );
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}
