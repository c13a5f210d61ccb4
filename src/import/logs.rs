//! Log and probe configs: Loki (retention, sample age, schema — boltdb-shipper
//! periods become tsdb v13), Promtail scrape configs onto `logs.sources` with
//! their pipelines, blackbox modules, Logstash pipelines; anything else in
//! the folder is listed in the report.

use super::Ctx;
use super::report::Outcome;
use super::source::{self, Keys, SourceFile};
use serde_json::{Map, Value, json};
use std::path::Path;

pub fn loki(ctx: &mut Ctx, file: &SourceFile) {
    let f = file.name.as_str();
    if ctx.get(&["components", "loki"]).is_none() {
        ctx.set(&["components", "loki"], json!({}));
    }
    ctx.from("/components/loki".into(), f, 1);
    ctx.compared
        .push(("loki/loki.yml".into(), file.name.clone(), file.root.clone()));
    let root = &file.root;
    if let Some(limits) = source::get(root, "limits_config") {
        if let Some(v) = source::get(limits, "retention_period").and_then(source::text) {
            ctx.set(&["components", "loki", "retention_period"], json!(v));
        }
        if let Some(v) = source::get(limits, "reject_old_samples_max_age").and_then(source::text) {
            if v != "168h" {
                ctx.set(
                    &["components", "loki", "reject_old_samples_max_age"],
                    json!(v),
                );
            }
        }
    }
    if let Some(configs) =
        source::get(root, "schema_config").and_then(|s| source::get(s, "configs"))
    {
        let periods = source::items(configs);
        if let Some(last) = periods.last() {
            let store = source::get(last, "store")
                .and_then(source::text)
                .unwrap_or_default();
            let schema = source::get(last, "schema")
                .and_then(source::text)
                .unwrap_or_default();
            let from = source::get(last, "from")
                .and_then(source::text)
                .unwrap_or_default();
            if store == "tsdb" && schema == "v13" {
                if from != "2024-01-01" {
                    ctx.set(&["components", "loki", "schema_from"], json!(from));
                }
            } else {
                ctx.note(Outcome::Modernised, f, source::line(last), format!("schema period from {from} uses `{store}` / `{schema}` (removed in Loki 3): imported as tsdb / v13 from 2024-01-01; logs already stored under the old index are not read by the new config"));
            }
            if periods.len() > 1 {
                ctx.note(
                    Outcome::NotExpressed,
                    f,
                    source::line(&periods[0]),
                    format!(
                        "{} earlier schema periods: stackctl writes one tsdb/v13 period",
                        periods.len() - 1
                    ),
                );
            }
        }
    }
    for (path, what) in [
        ("storage_config", "boltdb_shipper"),
        ("compactor", "shared_store"),
    ] {
        if let Some(n) = source::get(root, path).and_then(|s| source::get(s, what)) {
            ctx.note(
                Outcome::Modernised,
                f,
                source::line(n),
                format!("`{path}.{what}` (removed in Loki 3): dropped"),
            );
        }
    }
}

pub fn promtail(ctx: &mut Ctx, file: &SourceFile, alloy: bool) {
    let f = file.name.as_str();
    let shipper = if alloy { "alloy" } else { "promtail" };
    if ctx.get(&["components", "promtail"]).is_none() && ctx.get(&["components", "alloy"]).is_none()
    {
        ctx.set(&["components", shipper], json!({}));
    }
    if !alloy {
        ctx.compared.push((
            "promtail/promtail.yml".into(),
            file.name.clone(),
            file.root.clone(),
        ));
    }
    let root = Keys::new(&file.root);
    for k in ["server", "positions", "clients"] {
        root.take(k);
    }
    for job in root
        .take("scrape_configs")
        .map(source::items)
        .unwrap_or_default()
    {
        let keys = Keys::new(job);
        let name = keys.take_str("job_name").unwrap_or_default();
        let mut src = Map::new();
        src.insert("name".into(), json!(name));
        let mut paths = Vec::new();
        let mut labels = Map::new();
        let mut docker = false;
        if let Some(scs) = keys.take("static_configs") {
            for sc in source::items(scs) {
                for (k, v) in source::get(sc, "labels")
                    .map(source::entries)
                    .unwrap_or_default()
                {
                    let v = source::text(v).unwrap_or_default();
                    match k {
                        "__path__"
                            if v == format!("{}/*/*-json.log", "/var/lib/docker/containers") =>
                        {
                            docker = true
                        }
                        "__path__" => paths.push(json!(v)),
                        "job" if v == name => {}
                        _ => {
                            labels.insert(k.into(), json!(v));
                        }
                    }
                }
            }
        }
        if let Some(sd) = keys.take("docker_sd_configs") {
            docker = true;
            ctx.note(Outcome::Modernised, f, source::line(sd), format!("job `{name}`: Docker discovery imported as `docker: true` (all containers of the host)"));
        }
        let mut stages = Vec::new();
        for st in keys
            .take("pipeline_stages")
            .map(source::items)
            .unwrap_or_default()
        {
            for (kind, body) in source::entries(st) {
                let v = source::to_value(body);
                let stage = match kind {
                    "docker" if docker => None,
                    "json" | "regex" | "timestamp" | "output" => {
                        let mut m = Map::new();
                        for key in ["expressions", "expression", "source", "format"] {
                            if let Some(x) = v.get(key) {
                                m.insert(key.into(), x.clone());
                            }
                        }
                        for (k, _) in v.as_object().cloned().unwrap_or_default() {
                            if !m.contains_key(&k) {
                                ctx.note(Outcome::NotExpressed, f, source::line(body), format!("`{k}` of a {kind} stage in job `{name}`: stackctl has no setting for it"));
                            }
                        }
                        Some(json!({kind: m}))
                    }
                    "labels" => Some(json!({"labels": v})),
                    other => {
                        ctx.note(Outcome::NotExpressed, f, source::line(body), format!("`{other}` stage in job `{name}`: stackctl's pipelines have json, regex, timestamp, labels and output stages"));
                        None
                    }
                };
                stages.extend(stage);
            }
        }
        if docker {
            src.insert("docker".into(), json!(true));
        }
        if !paths.is_empty() {
            src.insert("paths".into(), Value::Array(paths));
        }
        if !labels.is_empty() {
            src.insert("labels".into(), Value::Object(labels));
        }
        if !stages.is_empty() {
            src.insert("pipeline".into(), Value::Array(stages));
        }
        for (k, l) in keys.rest() {
            ctx.note(
                Outcome::NotExpressed,
                f,
                l,
                format!("`{k}` of Promtail job `{name}`: stackctl has no setting for it"),
            );
        }
        let i = ctx.push(&["logs", "sources"], Value::Object(src));
        ctx.from(format!("/logs/sources/{i}"), f, source::line(job));
    }
    for (k, l) in root.rest() {
        ctx.note(
            Outcome::NotExpressed,
            f,
            l,
            format!("`{k}` in promtail config: stackctl has no setting for it"),
        );
    }
}

pub fn blackbox(ctx: &mut Ctx, file: &SourceFile) {
    let f = file.name.as_str();
    if ctx.get(&["components", "blackbox_exporter"]).is_none() {
        ctx.set(&["components", "blackbox_exporter"], json!({}));
    }
    let mut modules = Map::new();
    for (name, m) in source::get(&file.root, "modules")
        .map(source::entries)
        .unwrap_or_default()
    {
        let keys = Keys::new(m);
        let mut out = Map::new();
        let prober = keys.take_str("prober").unwrap_or_default();
        out.insert("prober".into(), json!(prober));
        if let Some(t) = keys.take_str("timeout") {
            out.insert("timeout".into(), json!(t));
        }
        for (section, known) in [
            (
                "http",
                &[
                    "valid_status_codes",
                    "method",
                    "valid_http_versions",
                    "preferred_ip_protocol",
                    "fail_if_not_ssl",
                    "follow_redirects",
                ][..],
            ),
            ("tcp", &["preferred_ip_protocol"][..]),
            ("icmp", &["preferred_ip_protocol"][..]),
        ] {
            let Some(node) = keys.take(section) else {
                continue;
            };
            let sk = Keys::new(node);
            let mut s = Map::new();
            for k in known {
                if let Some(v) = sk.take(k) {
                    s.insert((*k).into(), source::to_value(v));
                }
            }
            if let Some(tls) = sk.take("tls_config") {
                if let Some(v) = source::get(tls, "insecure_skip_verify") {
                    s.insert("insecure_skip_verify".into(), source::to_value(v));
                }
            }
            if section == "tcp" {
                if let Some(v) = sk.take("tls") {
                    s.insert("tls".into(), source::to_value(v));
                }
            }
            for (k, l) in sk.rest() {
                ctx.note(Outcome::NotExpressed, f, l, format!("`{section}.{k}` of blackbox module `{name}`: stackctl has no setting for it"));
            }
            out.insert(section.into(), Value::Object(s));
        }
        for (k, l) in keys.rest() {
            ctx.note(
                Outcome::NotExpressed,
                f,
                l,
                format!("`{k}` of blackbox module `{name}`: stackctl has no setting for it"),
            );
        }
        modules.insert(name.into(), Value::Object(out));
    }
    ctx.set(
        &["components", "blackbox_exporter", "modules"],
        Value::Object(modules),
    );
    ctx.from("/components/blackbox_exporter".into(), f, 1);
    ctx.compared.push((
        crate::plan::exporters::BLACKBOX_CONFIG.into(),
        file.name.clone(),
        file.root.clone(),
    ));
}

/// Files that are not YAML or JSON: Logstash pipelines are read, the rest listed.
pub fn other_file(ctx: &mut Ctx, path: &Path, name: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    if name.ends_with(".conf") && text.contains("input") && text.contains("output") {
        logstash(ctx, name, &text);
        return;
    }
    if name.ends_with(".alloy") {
        super::alloy::read(ctx, name, &text);
        return;
    }
    if setup_script(ctx, name, &text) {
        return;
    }
    let what = if name.starts_with("kibana/setup/")
        || name.starts_with("jaeger/") && name.ends_with(".sh")
    {
        "a stackctl helper script; render writes it again"
    } else {
        "not a file stackctl reads: not imported"
    };
    ctx.note(Outcome::NotExpressed, name, 1, what);
}

fn logstash(ctx: &mut Ctx, name: &str, text: &str) {
    let stem = Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "main".into());
    let port = |input: &str| -> Option<u16> {
        let re =
            regex::Regex::new(&format!(r"(?s)\b{input}\s*\{{[^}}]*?port\s*=>\s*(\d+)")).ok()?;
        re.captures(text)?.get(1)?.as_str().parse().ok()
    };
    let mut inputs = Map::new();
    for i in ["beats", "http", "tcp", "udp"] {
        if let Some(p) = port(i) {
            inputs.insert(i.into(), json!(p));
        }
    }
    let index = regex::Regex::new(r#"index\s*=>\s*"([^"]+)""#)
        .ok()
        .and_then(|re| {
            re.captures(text)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_string())
        })
        .unwrap_or_else(|| "logs-%{+YYYY.MM.dd}".into());
    let mut p = Map::new();
    p.insert("inputs".into(), Value::Object(inputs));
    p.insert("index".into(), json!(index));
    if !text.contains("json {") && !text.contains("json{") {
        p.insert("parse_json".into(), json!(false));
    }
    // stackctl's level tagging (`categorize`) adds the `error` tag.
    if text.contains(r#"add_tag => ["error"]"#) {
        p.insert("categorize".into(), json!(true));
    }
    if ctx.get(&["components", "logstash"]).is_none() {
        ctx.set(&["components", "logstash"], json!({}));
    }
    ctx.set(
        &["components", "logstash", "pipelines", &stem],
        Value::Object(p),
    );
    ctx.compared_text.push((
        format!("logstash/pipeline/{stem}.conf"),
        name.to_string(),
        text.to_string(),
    ));
    ctx.note(Outcome::Modernised, name, 1, format!("Logstash pipeline `{stem}`: inputs and index imported; filters are stackctl's (JSON parsing, level tags) — custom filter code is not carried over"));
}

/// The setup scripts stackctl renders for Elasticsearch and Kibana: the
/// settings they carry (log retention, the Kibana data view) are read back;
/// the script itself is compared with the render, which reports a difference.
fn setup_script(ctx: &mut Ctx, name: &str, text: &str) -> bool {
    let (component, re, field) = match name {
        "elasticsearch/setup/setup.sh" => (
            "elasticsearch",
            r#""delete":\{"min_age":"([^"]+)""#,
            "log_retention",
        ),
        "kibana/setup/setup.sh" => (
            "kibana",
            r#""data_view":\{"title":"((?:[^"\\]|\\.)*)""#,
            "index_pattern",
        ),
        _ => return false,
    };
    if ctx.get(&["components", component]).is_none() {
        return false;
    }
    let found = regex::Regex::new(re)
        .ok()
        .and_then(|re| re.captures(text))
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string());
    if let Some(v) = found {
        let v = serde_json::from_str::<String>(&format!("\"{v}\"")).unwrap_or(v);
        ctx.set(&["components", component, field], json!(v));
    }
    ctx.compared_text
        .push((name.to_string(), name.to_string(), text.to_string()));
    true
}
