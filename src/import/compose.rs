//! Compose files: each service whose image is a component stackctl deploys
//! becomes `components.KEY` (image, version, ports, data volume, retention and
//! other flags); every other service is reported. Command lines and
//! environments are kept here so `compare` can tell stackctl's defaults from
//! the user's own flags.

use super::Ctx;
use super::report::Outcome;
use super::source::{self, SourceFile};
use crate::model::Kind;
use crate::model::catalog::ALL;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A service of a known component, as the Compose file wrote it.
#[derive(Debug, Clone)]
pub struct ComposeService {
    pub kind: Kind,
    pub name: String,
    pub file: String,
    pub line: usize,
    pub command: Vec<(String, usize)>,
    pub environment: BTreeMap<String, (String, usize)>,
    pub volumes: Vec<Volume>,
}

#[derive(Debug, Clone)]
pub struct Volume {
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub line: usize,
}

#[derive(Debug, Default)]
pub struct Services {
    pub known: Vec<ComposeService>,
    pub restart: Vec<String>,
    pub bind: Vec<String>,
}

/// The component an image is, by repository (registry and tag stripped).
pub fn kind_of_image(image: &str) -> Option<(Kind, bool)> {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    };
    let last2: Vec<&str> = repo.rsplit('/').take(2).collect();
    let name = last2.first().copied().unwrap_or("");
    let org = last2.get(1).copied().unwrap_or("");
    let kind = match (org, name) {
        (_, "prometheus") => Kind::Prometheus,
        (_, "alertmanager") => Kind::Alertmanager,
        ("grafana", "grafana" | "grafana-oss" | "grafana-enterprise") => Kind::Grafana,
        (_, "loki") => Kind::Loki,
        (_, "promtail") => Kind::Promtail,
        (_, "alloy") => Kind::Alloy,
        ("jaegertracing", "jaeger") => Kind::Jaeger,
        ("jaegertracing", "all-in-one") => return Some((Kind::Jaeger, true)),
        (_, "node-exporter" | "node_exporter") => Kind::NodeExporter,
        (_, "cadvisor") => Kind::Cadvisor,
        (_, "blackbox-exporter" | "blackbox_exporter") => Kind::BlackboxExporter,
        (_, "postgres-exporter" | "postgres_exporter") => Kind::PostgresExporter,
        (_, "redis_exporter" | "redis-exporter") => Kind::RedisExporter,
        (_, "nginx-prometheus-exporter") => Kind::NginxExporter,
        (_, "pushgateway") => Kind::Pushgateway,
        (_, "elasticsearch") => Kind::Elasticsearch,
        (_, "logstash") => Kind::Logstash,
        (_, "kibana") => Kind::Kibana,
        _ => return None,
    };
    Some((kind, false))
}

fn split_image(image: &str) -> (String, Option<String>) {
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), Some(tag.to_string())),
        _ => (image.to_string(), None),
    }
}

/// Compose doubles a literal `$`; the spec holds the real text.
fn unescape(s: &str) -> String {
    s.replace("$$", "$")
}

fn list_or_string(n: &crate::yaml::node::Node) -> Vec<(String, usize)> {
    match source::str_of(n) {
        Some(s) => s
            .split_whitespace()
            .map(|w| (unescape(w), source::line(n)))
            .collect(),
        None => source::items(n)
            .iter()
            .filter_map(|i| source::text(i).map(|t| (unescape(&t), source::line(i))))
            .collect(),
    }
}

pub fn read(ctx: &mut Ctx, file: &SourceFile, services: &mut Services) {
    let Some(list) = source::get(&file.root, "services") else {
        return;
    };
    for (name, node) in source::entries(list) {
        let keys = source::Keys::new(node);
        let line = source::line(node);
        let Some(image) = keys.take_str("image") else {
            ctx.note(Outcome::NotExpressed, &file.name, line, format!("service `{name}` has no image (built locally?): not a component stackctl deploys"));
            continue;
        };
        if name == crate::plan::secrets::INIT_SERVICE {
            ctx.note(
                Outcome::AsIs,
                &file.name,
                line,
                format!(
                    "service `{name}` is stackctl's own secret delivery; render writes it again"
                ),
            );
            continue;
        }
        if matches!(
            name,
            "elasticsearch-setup" | "kibana-setup" | "jaeger-index-cleaner"
        ) {
            ctx.note(
                Outcome::AsIs,
                &file.name,
                line,
                format!("service `{name}` is a stackctl helper; render writes it again"),
            );
            continue;
        }
        let Some((kind, legacy)) = kind_of_image(&image) else {
            ctx.note(Outcome::NotExpressed, &file.name, line, format!("service `{name}` (image `{image}`) is not a monitoring component stackctl deploys: not imported"));
            continue;
        };
        if services.known.iter().any(|s| s.kind == kind) {
            ctx.note(
                Outcome::NotExpressed,
                &file.name,
                line,
                format!(
                    "service `{name}`: a second {} — stackctl deploys one of each component",
                    kind.key()
                ),
            );
            continue;
        }
        let key = kind.key();
        let pointer = format!("/components/{key}");
        ctx.from(pointer, &file.name, line);
        let mut component = serde_json::Map::new();
        let info = kind.info();
        let (repo, tag) = split_image(&image);
        let default_repo = info.image;
        if legacy {
            ctx.note(Outcome::Modernised, &file.name, line, format!("`{image}` is Jaeger v1 (all-in-one, end of life): imported as Jaeger v2 `{}:{}`", default_repo, info.version));
        } else if repo != default_repo && repo != format!("docker.io/{default_repo}") {
            component.insert("image".into(), json!(repo));
        }
        match tag.as_deref() {
            _ if legacy => {
                component.insert("version".into(), json!(info.version));
            }
            None | Some("latest") => {
                ctx.note(
                    Outcome::Modernised,
                    &file.name,
                    line,
                    format!(
                        "`{image}` is not pinned: pinned to {} {}",
                        key, info.version
                    ),
                );
                component.insert("version".into(), json!(info.version));
            }
            Some(t) if crate::model::types::Version::parse(t).is_err() => {
                ctx.note(
                    Outcome::Modernised,
                    &file.name,
                    line,
                    format!(
                        "tag `{t}` of `{image}` is not a release: pinned to {}",
                        info.version
                    ),
                );
                component.insert("version".into(), json!(info.version));
            }
            Some(t) => {
                component.insert("version".into(), json!(t));
            }
        }
        if name != info.service {
            ctx.note(
                Outcome::Modernised,
                &file.name,
                line,
                format!(
                    "service `{name}` is named `{}` in a stackctl stack",
                    info.service
                ),
            );
        }
        if let Some(r) = keys.take_str("restart") {
            services.restart.push(r);
        }
        // Ports: container port → the component's port name.
        let mut published = false;
        if let Some(ports) = keys.take("ports") {
            for p in source::items(ports) {
                let Some(text) = source::text(p) else {
                    continue;
                };
                let Some((ip, host, container, udp)) = parse_port(&text) else {
                    ctx.note(
                        Outcome::NotExpressed,
                        &file.name,
                        source::line(p),
                        format!("port `{text}` of `{name}`: not a form stackctl can read"),
                    );
                    continue;
                };
                let _ = udp;
                match info.ports.iter().find(|pi| pi.container == container) {
                    Some(pi) => {
                        published = true;
                        services.bind.push(ip.clone());
                        component.insert("bind_address".into(), json!(ip));
                        if host != pi.container || !pi.published {
                            component
                                .entry("ports")
                                .or_insert_with(|| json!({}))
                                .as_object_mut()
                                .expect("object")
                                .insert(pi.name.into(), json!(host));
                        }
                    }
                    None if kind == Kind::Logstash => {
                        // Logstash input ports come from its pipelines.
                    }
                    None => ctx.note(
                        Outcome::NotExpressed,
                        &file.name,
                        source::line(p),
                        format!(
                            "port `{text}` of `{name}`: {key} has no port {container} in stackctl"
                        ),
                    ),
                }
            }
        }
        if !published && info.ports.iter().any(|p| p.published) {
            component.insert("publish".into(), json!(false));
        }
        let command = keys.take("command").map(list_or_string).unwrap_or_default();
        let mut environment = BTreeMap::new();
        if let Some(env) = keys.take("environment") {
            match &env.content {
                crate::yaml::node::Content::Seq(items) => {
                    for i in items {
                        if let Some(t) = source::text(i) {
                            let (k, v) = t.split_once('=').unwrap_or((&t, ""));
                            environment.insert(k.to_string(), (unescape(v), source::line(i)));
                        }
                    }
                }
                _ => {
                    for (k, v) in source::entries(env) {
                        environment.insert(
                            k.to_string(),
                            (
                                unescape(&source::text(v).unwrap_or_default()),
                                source::line(v),
                            ),
                        );
                    }
                }
            }
        }
        let mut volumes = Vec::new();
        if let Some(vols) = keys.take("volumes") {
            for v in source::items(vols) {
                let parsed = match source::str_of(v) {
                    Some(s) => {
                        let parts: Vec<&str> = s.split(':').collect();
                        match parts.as_slice() {
                            [src, dst] => Some((src.to_string(), dst.to_string(), false)),
                            [src, dst, mode] => Some((
                                src.to_string(),
                                dst.to_string(),
                                mode.split(',').any(|m| m == "ro"),
                            )),
                            [dst] => Some((String::new(), dst.to_string(), false)),
                            _ => None,
                        }
                    }
                    None => {
                        let src = source::get(v, "source")
                            .and_then(source::text)
                            .unwrap_or_default();
                        let dst = source::get(v, "target")
                            .and_then(source::text)
                            .unwrap_or_default();
                        let ro = source::get(v, "read_only")
                            .and_then(source::text)
                            .as_deref()
                            == Some("true");
                        Some((src, dst, ro))
                    }
                };
                if let Some((src, dst, ro)) = parsed {
                    if src.starts_with('.') || src.starts_with('/') {
                        let host = src.trim_start_matches("./").to_string();
                        ctx.mounts.push((dst.clone(), host));
                    }
                    volumes.push(Volume {
                        source: src,
                        target: dst,
                        read_only: ro,
                        line: source::line(v),
                    });
                }
            }
        }
        if let Some(hosts) = keys.take("extra_hosts") {
            let list: Vec<(String, String)> = match &hosts.content {
                crate::yaml::node::Content::Map(_) => source::entries(hosts)
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), source::text(v).unwrap_or_default()))
                    .collect(),
                _ => source::items(hosts)
                    .iter()
                    .filter_map(source::text)
                    .filter_map(|t| {
                        t.split_once(['=', ':'])
                            .map(|(h, ip)| (h.to_string(), ip.to_string()))
                    })
                    .collect(),
            };
            for (host, ip) in list {
                ctx.set(&["network", "external_hosts", &host], json!(ip));
            }
        }
        // Stackctl writes these itself; a stackctl-rendered tree has nothing else in them.
        for k in ["healthcheck", "depends_on", "networks"] {
            if let Some(n) = keys.take(k) {
                ctx.note(
                    Outcome::AsIs,
                    &file.name,
                    source::line(n),
                    format!("`{k}` of service `{name}`: render writes stackctl's own"),
                );
            }
        }
        if let Some(n) = keys.take("labels") {
            let labels = source::entries(n);
            let ours =
                !labels.is_empty() && labels.iter().all(|(k, _)| k.starts_with("dev.stackctl."));
            if !ours {
                ctx.note(
                    Outcome::NotExpressed,
                    &file.name,
                    source::line(n),
                    format!(
                        "`labels` of service `{name}`: stackctl has no setting for container labels"
                    ),
                );
            }
        }
        for k in [
            "container_name",
            "user",
            "privileged",
            "devices",
            "cap_add",
            "expose",
            "pid",
            "logging",
            "hostname",
            "security_opt",
            "entrypoint",
        ] {
            if let Some(n) = keys.take(k) {
                let what = match k {
                    "user" | "privileged" | "devices" | "cap_add" | "entrypoint" => {
                        "stackctl sets its own"
                    }
                    "container_name" | "hostname" => {
                        "stackctl names containers `PROJECT-SERVICE-1`"
                    }
                    _ => "stackctl has no place for it",
                };
                ctx.note(
                    Outcome::NotExpressed,
                    &file.name,
                    source::line(n),
                    format!("`{k}` of service `{name}`: {what}"),
                );
            }
        }
        if let Some(deploy) = keys.take("deploy") {
            let limits = source::get(deploy, "resources").and_then(|r| source::get(r, "limits"));
            if let Some(limits) = limits {
                let mut res = serde_json::Map::new();
                if let Some(c) = source::get(limits, "cpus")
                    .and_then(source::text)
                    .and_then(|c| c.parse::<f64>().ok())
                {
                    res.insert("cpus".into(), json!(c));
                }
                if let Some(m) = source::get(limits, "memory").and_then(source::text) {
                    res.insert("memory".into(), json!(m));
                }
                component.insert("resources".into(), Value::Object(res));
            }
        }
        for (k, l) in keys.rest() {
            ctx.note(
                Outcome::NotExpressed,
                &file.name,
                l,
                format!("`{k}` of service `{name}`: not read"),
            );
        }
        ctx.set(&["components", key], Value::Object(component));
        services.known.push(ComposeService {
            kind,
            name: name.to_string(),
            file: file.name.clone(),
            line,
            command,
            environment,
            volumes,
        });
    }
    if let Some(nets) = source::get(&file.root, "networks") {
        for (key, n) in source::entries(nets) {
            let external =
                source::get(n, "external").and_then(source::text).as_deref() == Some("true");
            if external {
                let name = source::get(n, "name")
                    .and_then(source::text)
                    .unwrap_or_else(|| key.to_string());
                let already = ctx
                    .get(&["network", "attach"])
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.contains(&json!(name)));
                if !already {
                    let i = ctx.push(&["network", "attach"], json!(name));
                    ctx.from(format!("/network/attach/{i}"), &file.name, source::line(n));
                }
            } else if key != "default" {
                ctx.note(Outcome::NotExpressed, &file.name, source::line(n), format!("network `{key}`: stackctl puts the stack on its own default network; existing networks are joined with `network.attach`"));
            }
        }
    }
    for (k, l) in source::Keys::new(&file.root).rest() {
        if !matches!(
            k.as_str(),
            "services" | "volumes" | "networks" | "version" | "secrets" | "name" | "configs"
        ) {
            ctx.note(
                Outcome::NotExpressed,
                &file.name,
                l,
                format!("top-level `{k}`: not read"),
            );
        } else if k == "version" {
            ctx.note(
                Outcome::Modernised,
                &file.name,
                l,
                "top-level `version` is obsolete in the Compose specification: dropped",
            );
        }
    }
}

/// `[IP:]HOST:CONTAINER[/udp]`, or a bare container port (published on a random host port).
fn parse_port(text: &str) -> Option<(String, u16, u16, bool)> {
    let (text, udp) = match text.strip_suffix("/udp") {
        Some(t) => (t, true),
        None => (text.strip_suffix("/tcp").unwrap_or(text), false),
    };
    let parts: Vec<&str> = text.rsplitn(3, ':').collect();
    match parts.as_slice() {
        [container, host, ip] => Some((
            ip.trim_matches(['[', ']']).to_string(),
            host.parse().ok()?,
            container.parse().ok()?,
            udp,
        )),
        [container, host] => Some((
            "0.0.0.0".into(),
            host.parse().ok()?,
            container.parse().ok()?,
            udp,
        )),
        _ => None,
    }
}

/// Stack-wide settings read from all services: restart policy and bind address.
pub fn finish(ctx: &mut Ctx, services: &Services, opts: &super::Options) {
    if let Some(first) = services.restart.first() {
        if services.restart.iter().all(|r| r == first) && first != "unless-stopped" {
            ctx.set(&["defaults", "restart"], json!(first));
        }
    }
    // The most common address becomes the default; components keep theirs only when different.
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &services.bind {
        *counts.entry(b).or_default() += 1;
    }
    let common = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(b, _)| b.to_string());
    if let Some(common) = &common {
        if common != "127.0.0.1" {
            ctx.set(&["defaults", "bind_address"], json!(common));
            if common == "0.0.0.0" {
                ctx.note(Outcome::AsIs, &services.known[0].file, 0, "ports were published on every interface (0.0.0.0): kept as `defaults.bind_address: 0.0.0.0`; use 127.0.0.1 to keep them local");
            }
        }
    }
    for kind in ALL {
        if let Some(Value::Object(c)) = ctx
            .spec
            .get_mut("components")
            .and_then(|c| c.get_mut(kind.key()))
        {
            if c.get("bind_address").and_then(Value::as_str) == common.as_deref() {
                c.remove("bind_address");
            }
        }
    }
    external_hosts(ctx);
    if opts.alloy {
        if let Some(Value::Object(components)) = ctx.spec.get_mut("components") {
            if components.remove("promtail").is_some() {
                components.insert(
                    "alloy".into(),
                    json!({"version": Kind::Alloy.info().version}),
                );
                let file = services
                    .known
                    .iter()
                    .find(|s| s.kind == Kind::Promtail)
                    .map(|s| (s.file.clone(), s.line));
                if let Some((f, l)) = file {
                    ctx.note(Outcome::Modernised, &f, l, "Promtail (end of life) replaced by Alloy, as asked (`--alloy`); same log sources");
                }
            }
        }
    }
}

/// Hosts that scrape jobs name but the stack does not run: the spec lists
/// them under `network.external_hosts` (resolved on an attached network when
/// no address is known).
fn external_hosts(ctx: &mut Ctx) {
    let mut hosts = Vec::new();
    for job in ctx
        .get(&["scrape_jobs"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        for t in job
            .get("targets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            if let Some((host, _)) = t.as_str().and_then(|t| t.rsplit_once(':')) {
                hosts.push(host.to_string());
            }
        }
    }
    for host in hosts {
        let ours = ALL.iter().any(|k| k.service() == host)
            || host == "localhost"
            || host.parse::<std::net::IpAddr>().is_ok()
            || host.contains('.');
        if !ours && ctx.get(&["network", "external_hosts", &host]).is_none() {
            ctx.set(&["network", "external_hosts", &host], Value::Null);
        }
    }
}
