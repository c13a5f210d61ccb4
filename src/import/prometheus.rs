//! prometheus.yml and its rule files: `global` onto `components.prometheus`,
//! each scrape config onto a scrape job, a probe job or the built-in job of a
//! component, `rule_files` globs onto `rules:`, plus `remote_write`.

use super::Ctx;
use super::report::Outcome;
use super::source::{self, Keys, SourceFile};
use crate::model::Kind;
use crate::model::catalog::ALL;
use crate::yaml::node::Node;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

pub fn read(ctx: &mut Ctx, file: &SourceFile, rule_files: &mut Vec<SourceFile>) {
    let f = file.name.as_str();
    ctx.compared.push((
        crate::plan::prometheus::CONFIG.into(),
        file.name.clone(),
        file.root.clone(),
    ));
    let root = Keys::new(&file.root);
    if ctx.get(&["components", "prometheus"]).is_none() {
        ctx.set(&["components", "prometheus"], json!({}));
        ctx.from("/components/prometheus".into(), f, 1);
    }
    if let Some(g) = root.take("global") {
        let keys = Keys::new(g);
        for (from, to) in [
            ("scrape_interval", "scrape_interval"),
            ("evaluation_interval", "evaluation_interval"),
            ("scrape_timeout", "scrape_timeout"),
        ] {
            if let Some(v) = keys.take_str(from) {
                ctx.set(&["components", "prometheus", to], json!(v));
            }
        }
        if let Some(labels) = keys.take("external_labels") {
            let mut m = Map::new();
            for (k, v) in source::entries(labels) {
                // Prometheus 3 expands `$$` to `$` in external labels.
                m.insert(
                    k.into(),
                    json!(source::text(v).unwrap_or_default().replace("$$", "$")),
                );
            }
            ctx.set(
                &["components", "prometheus", "external_labels"],
                Value::Object(m),
            );
        }
        rest(ctx, f, &keys, "global");
    }
    if let Some(globs) = root.take("rule_files") {
        for g in source::items(globs) {
            let Some(pattern) = source::text(g) else {
                continue;
            };
            let matched = resolve_rules(ctx, file, &pattern, rule_files);
            if matched.is_empty() {
                ctx.note(
                    Outcome::NotExpressed,
                    f,
                    source::line(g),
                    format!("rule_files `{pattern}` matches no file in the folder"),
                );
            }
            for rf in matched {
                rules(ctx, &rf);
            }
        }
    }
    if let Some(alerting) = root.take("alerting") {
        let keys = Keys::new(alerting);
        if let Some(ams) = keys.take("alertmanagers") {
            for am in source::items(ams) {
                let targets: Vec<String> = source::get(am, "static_configs")
                    .map(source::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|s| source::get(s, "targets"))
                    .flat_map(|t| source::items(t).iter().filter_map(source::text))
                    .collect();
                let ours = targets.len() == 1 && targets[0].ends_with(":9093");
                if ours {
                    ctx.note(Outcome::AsIs, f, source::line(am), format!("alertmanager target `{}`: stackctl points Prometheus at the stack's Alertmanager", targets[0]));
                } else {
                    ctx.note(Outcome::NotExpressed, f, source::line(am), format!("alertmanager targets {targets:?}: stackctl sends alerts to the stack's own Alertmanager only"));
                }
            }
        }
        rest(ctx, f, &keys, "alerting");
    }
    if let Some(jobs) = root.take("scrape_configs") {
        let mut seen_components = Vec::new();
        for job in source::items(jobs) {
            scrape_config(ctx, f, job, &mut seen_components);
        }
        for kind in ALL {
            let present = ctx.get(&["components", kind.key()]).is_some();
            if present && kind.info().metrics.is_some() && !seen_components.contains(&kind) {
                ctx.set(&["components", kind.key(), "scrape"], json!(false));
                ctx.note(
                    Outcome::AsIs,
                    f,
                    1,
                    format!(
                        "no scrape job reaches {}: imported with `scrape: false`",
                        kind.key()
                    ),
                );
            }
        }
    }
    if let Some(rws) = root.take("remote_write") {
        for rw in source::items(rws) {
            remote_write(ctx, f, rw);
        }
    }
    rest(ctx, f, &root, "prometheus.yml");
}

fn rest(ctx: &mut Ctx, f: &str, keys: &Keys<'_>, what: &str) {
    for (k, l) in keys.rest() {
        ctx.note(
            Outcome::NotExpressed,
            f,
            l,
            format!("`{k}` in {what}: stackctl has no setting for it"),
        );
    }
}

/// The rule files a `rule_files` pattern names: relative to prometheus.yml, or
/// a container path bound from the folder.
fn resolve_rules(
    ctx: &Ctx,
    prom: &SourceFile,
    pattern: &str,
    pool: &mut Vec<SourceFile>,
) -> Vec<SourceFile> {
    let base = ctx.root.join(&prom.name);
    let base_dir = base.parent().unwrap_or(Path::new("."));
    let mut candidates: Vec<PathBuf> = Vec::new();
    if pattern.starts_with('/') {
        if let Some(host) = ctx.host_path(pattern) {
            candidates.push(host);
        }
        // Fall back to the same layout as the config: `/etc/prometheus/rules/*.yml`
        // next to `prometheus.yml` (a folder mounted as /etc/prometheus).
        if let Some(rest) = pattern.strip_prefix("/etc/prometheus/") {
            candidates.push(base_dir.join(rest));
        }
    } else {
        candidates.push(base_dir.join(pattern));
    }
    let regexes: Vec<regex::Regex> = candidates
        .iter()
        .filter_map(|c| {
            let text = c.to_string_lossy();
            let re = format!(
                "^{}$",
                regex::escape(&text)
                    .replace(r"\*", "[^/]*")
                    .replace(r"\?", "[^/]")
            );
            regex::Regex::new(&re).ok()
        })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < pool.len() {
        let path = ctx.root.join(&pool[i].name).to_string_lossy().into_owned();
        if regexes.iter().any(|r| r.is_match(&path)) {
            out.push(pool.remove(i));
        } else {
            i += 1;
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A `promtool test rules` file (what `render` writes to `prometheus/tests/`)
/// becomes `tests:` entries named after the file.
pub fn rule_tests(ctx: &mut Ctx, file: &SourceFile) {
    let f = file.name.as_str();
    let stem = Path::new(f)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tests".into());
    let groups = source::get(&file.root, "tests")
        .map(source::items)
        .unwrap_or_default();
    // The file's evaluation interval is the test's own when it is not
    // Prometheus's (render writes Prometheus's unless the test sets one).
    let evaluation = source::get(&file.root, "evaluation_interval")
        .map(source::to_value)
        .filter(|v| {
            let global = ctx
                .get(&["components", "prometheus", "evaluation_interval"])
                .cloned()
                .unwrap_or_else(|| json!("15s"));
            *v != global
        });
    for (gi, g) in groups.iter().enumerate() {
        let Value::Object(mut test) = source::to_value(g) else {
            ctx.note(
                Outcome::NotExpressed,
                f,
                source::line(g),
                "a test group that is not a map: not imported",
            );
            continue;
        };
        let name = if groups.len() == 1 {
            stem.clone()
        } else {
            format!("{stem}-{}", gi + 1)
        };
        test.shift_insert(0, "name".into(), json!(name));
        if let Some(every) = &evaluation {
            test.insert("evaluation_interval".into(), every.clone());
        }
        let i = ctx.push(&["tests"], Value::Object(test));
        ctx.from(format!("/tests/{i}"), f, source::line(g));
    }
    ctx.note(
        Outcome::AsIs,
        f,
        1,
        format!(
            "{} rule test group(s) → `tests:` (the rule files they load are the spec's)",
            groups.len()
        ),
    );
}

/// Whether a rule file is the always-firing `Watchdog` stackctl generates
/// beside an Alertmanager (render writes it again; importing it would turn it
/// into a user rule).
fn is_generated_watchdog(file: &SourceFile) -> bool {
    Path::new(&file.name)
        .file_stem()
        .is_some_and(|s| s == crate::plan::watchdog::RULE_FILE)
        && source::to_value(&file.root) == crate::plan::watchdog::rule_file()
}

fn rules(ctx: &mut Ctx, file: &SourceFile) {
    let f = file.name.as_str();
    if is_generated_watchdog(file) {
        ctx.note(
            Outcome::AsIs,
            f,
            1,
            "stackctl's generated `Watchdog` rule: render writes it again",
        );
        return;
    }
    let stem = Path::new(f)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rules".into());
    let mut key: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while ctx.get(&["rules", &key]).is_some() {
        key.push('_');
    }
    ctx.compared.push((
        format!("prometheus/rules/{key}.yml"),
        file.name.clone(),
        file.root.clone(),
    ));
    let root = Keys::new(&file.root);
    let mut groups = Vec::new();
    for (gi, g) in root
        .take("groups")
        .map(source::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let keys = Keys::new(g);
        let mut group = Map::new();
        group.insert(
            "name".into(),
            json!(keys.take_str("name").unwrap_or_default()),
        );
        for k in ["interval", "limit"] {
            if let Some(v) = keys.take(k) {
                group.insert(k.into(), source::to_value(v));
            }
        }
        let mut list = Vec::new();
        for (ri, r) in keys
            .take("rules")
            .map(source::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let rk = Keys::new(r);
            let mut rule = Map::new();
            for k in ["record", "alert", "expr", "for", "keep_firing_for"] {
                if let Some(v) = rk.take(k) {
                    rule.insert(k.into(), json!(source::text(v).unwrap_or_default()));
                }
            }
            for k in ["labels", "annotations"] {
                if let Some(v) = rk.take(k) {
                    let m: Map<String, Value> = source::entries(v)
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), json!(source::text(v).unwrap_or_default())))
                        .collect();
                    if !m.is_empty() {
                        rule.insert(k.into(), Value::Object(m));
                    }
                }
            }
            rest(ctx, f, &rk, "a rule");
            ctx.from(format!("/rules/{key}/{gi}/rules/{ri}"), f, source::line(r));
            list.push(Value::Object(rule));
        }
        group.insert("rules".into(), Value::Array(list));
        rest(ctx, f, &keys, "a rule group");
        ctx.from(format!("/rules/{key}/{gi}"), f, source::line(g));
        groups.push(Value::Object(group));
    }
    rest(ctx, f, &root, "a rule file");
    ctx.note(
        Outcome::AsIs,
        f,
        1,
        format!("{} rule group(s) → `rules.{key}`", groups.len()),
    );
    ctx.set(&["rules", &key], Value::Array(groups));
}

/// `host:port` targets of every static config, and the labels of the first.
fn static_targets(job: &Node) -> (Vec<String>, Map<String, Value>, usize) {
    let mut targets = Vec::new();
    let mut labels = Map::new();
    let mut groups = 0;
    for sc in source::get(job, "static_configs")
        .map(source::items)
        .unwrap_or_default()
    {
        groups += 1;
        for t in source::get(sc, "targets")
            .map(source::items)
            .unwrap_or_default()
        {
            if let Some(t) = source::text(t) {
                targets.push(t);
            }
        }
        if labels.is_empty() {
            if let Some(l) = source::get(sc, "labels") {
                labels = source::entries(l)
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), json!(source::text(v).unwrap_or_default())))
                    .collect();
            }
        }
    }
    (targets, labels, groups)
}

fn component_for(ctx: &Ctx, job_name: &str, targets: &[String]) -> Option<Kind> {
    if targets.len() != 1 {
        return None;
    }
    let (host, port) = targets[0].rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    ALL.into_iter().find(|k| {
        let info = k.info();
        let Some((port_name, _)) = info.metrics else {
            return false;
        };
        let Some(p) = k.port(port_name) else {
            return false;
        };
        let host_matches = host == info.service
            || host.replace(['-', '_'], "") == info.service.replace(['-', '_'], "")
            || job_name == info.service;
        p.container == port && host_matches && ctx.get(&["components", k.key()]).is_some()
    })
}

fn scrape_config(ctx: &mut Ctx, f: &str, job: &Node, seen: &mut Vec<Kind>) {
    let keys = Keys::new(job);
    let line = source::line(job);
    let name = keys.take_str("job_name").unwrap_or_default();
    let (targets, labels, groups) = static_targets(job);
    keys.take("static_configs");
    // A probe job of the blackbox exporter.
    if keys.take_str("metrics_path").as_deref() == Some("/probe") {
        if let Some(module) = source::get(job, "params")
            .and_then(|p| source::get(p, "module"))
            .and_then(|m| source::items(m).first())
            .and_then(source::text)
        {
            keys.take("params");
            keys.take("relabel_configs");
            let mut probe = Map::new();
            probe.insert("name".into(), json!(name));
            probe.insert("module".into(), json!(module));
            probe.insert("targets".into(), json!(targets));
            for (from, to) in [
                ("scrape_interval", "interval"),
                ("scrape_timeout", "timeout"),
            ] {
                if let Some(v) = keys.take_str(from) {
                    probe.insert(to.into(), json!(v));
                }
            }
            if !labels.is_empty() {
                probe.insert("labels".into(), Value::Object(labels));
            }
            if ctx.get(&["components", "blackbox_exporter"]).is_none() {
                ctx.set(&["components", "blackbox_exporter"], json!({}));
                ctx.note(
                    Outcome::AsIs,
                    f,
                    line,
                    format!("probe job `{name}` needs the blackbox exporter: component added"),
                );
            }
            let i = ctx.push(&["probes"], Value::Object(probe));
            ctx.from(format!("/probes/{i}"), f, line);
            rest(ctx, f, &keys, &format!("probe job `{name}`"));
            return;
        }
    }
    if let Some(kind) = component_for(ctx, &name, &targets) {
        if !seen.contains(&kind) && labels.is_empty() {
            seen.push(kind);
            if let Some(i) = keys.take_str("scrape_interval") {
                if kind != Kind::Prometheus {
                    ctx.set(&["components", kind.key(), "scrape_interval"], json!(i));
                }
            }
            keys.take("honor_labels");
            if name != kind.service() {
                ctx.note(
                    Outcome::Modernised,
                    f,
                    line,
                    format!(
                        "job `{name}` scrapes {}: it is that component's built-in job `{}`",
                        kind.key(),
                        kind.service()
                    ),
                );
            }
            rest(ctx, f, &keys, &format!("job `{name}`"));
            return;
        }
    }
    let mut j = Map::new();
    j.insert("name".into(), json!(name));
    if groups > 1 {
        ctx.note(Outcome::Modernised, f, line, format!("job `{name}`: {groups} static_configs merged into one target list (labels of the first kept)"));
    }
    let mut all_targets = targets;
    if let Some(sds) = keys.take("file_sd_configs") {
        for sd in source::items(sds) {
            for pattern in source::get(sd, "files")
                .map(source::items)
                .unwrap_or_default()
            {
                let Some(p) = source::text(pattern) else {
                    continue;
                };
                let host = ctx.host_path(&p).unwrap_or_else(|| {
                    ctx.root
                        .join(Path::new(f).parent().unwrap_or(Path::new("")))
                        .join(&p)
                });
                match read_file_sd(&host) {
                    Some(t) => {
                        ctx.note(Outcome::Modernised, f, source::line(pattern), format!("job `{name}`: file_sd `{p}` read once, its {} target(s) written as static targets", t.len()));
                        all_targets.extend(t);
                    }
                    None => ctx.note(Outcome::NotExpressed, f, source::line(pattern), format!("job `{name}`: file_sd `{p}` not found in the folder; stackctl has no file discovery")),
                }
            }
        }
    }
    if !all_targets.is_empty() {
        j.insert("targets".into(), json!(all_targets));
    }
    if !labels.is_empty() {
        j.insert("labels".into(), Value::Object(labels));
    }
    for (from, to) in [
        ("metrics_path", "metrics_path"),
        ("scheme", "scheme"),
        ("scrape_interval", "interval"),
        ("scrape_timeout", "timeout"),
        ("honor_labels", "honor_labels"),
        ("honor_timestamps", "honor_timestamps"),
        ("sample_limit", "sample_limit"),
    ] {
        if let Some(v) = keys.take(from) {
            j.insert(to.into(), source::to_value(v));
        }
    }
    if let Some(mp) = source::get(job, "metrics_path").and_then(source::text) {
        j.insert("metrics_path".into(), json!(mp));
    }
    if let Some(p) = keys.take("params") {
        j.insert("params".into(), source::to_value(p));
    }
    if let Some(auth) = keys.take("basic_auth") {
        let user = source::get(auth, "username")
            .and_then(source::text)
            .unwrap_or_default();
        let secret = credential(
            ctx,
            f,
            auth,
            "password",
            &format!("{}_password", slug(&name)),
            "basic_auth password",
        );
        if let Some(s) = secret {
            j.insert(
                "basic_auth".into(),
                json!({"username": user, "password_secret": s}),
            );
        }
    }
    if let Some(t) = keys.take("bearer_token") {
        let value = source::text(t).unwrap_or_default();
        let s = ctx.secret(
            &format!("{}_token", slug(&name)),
            &value,
            f,
            source::line(t),
            "bearer token",
        );
        j.insert("bearer_token_secret".into(), json!(s));
    }
    if let Some(t) = keys.take_str("bearer_token_file") {
        ctx.note(Outcome::Modernised, f, line, format!("job `{name}`: `bearer_token_file` is deprecated; rendered as `authorization.credentials_file`"));
        j.insert("bearer_token_file".into(), json!(t));
    }
    if let Some(auth) = keys.take("authorization") {
        if let Some(file) = source::get(auth, "credentials_file").and_then(source::text) {
            match file.strip_prefix("/run/secrets/") {
                Some(secret) => {
                    let s = ctx.secret_from_file(secret, None, f, source::line(auth));
                    j.insert("bearer_token_secret".into(), json!(s));
                }
                None => {
                    j.insert("bearer_token_file".into(), json!(file));
                }
            }
        } else if let Some(s) = credential(
            ctx,
            f,
            auth,
            "credentials",
            &format!("{}_token", slug(&name)),
            "bearer token",
        ) {
            j.insert("bearer_token_secret".into(), json!(s));
        }
    }
    if let Some(tls) = keys.take("tls_config") {
        j.insert("tls".into(), source::to_value(tls));
    }
    if let Some(sds) = keys.take("kubernetes_sd_configs") {
        let list: Vec<Value> = source::items(sds)
            .iter()
            .map(|sd| {
                let mut m = Map::new();
                m.insert(
                    "role".into(),
                    json!(
                        source::get(sd, "role")
                            .and_then(source::text)
                            .unwrap_or_default()
                    ),
                );
                if let Some(ns) =
                    source::get(sd, "namespaces").and_then(|n| source::get(n, "names"))
                {
                    m.insert("namespaces".into(), source::to_value(ns));
                }
                for (k, l) in Keys::new(sd).rest() {
                    if !matches!(k.as_str(), "role" | "namespaces") {
                        ctx.note(
                            Outcome::NotExpressed,
                            f,
                            l,
                            format!(
                                "`{k}` of a kubernetes_sd_config: stackctl has no setting for it"
                            ),
                        );
                    }
                }
                Value::Object(m)
            })
            .collect();
        j.insert("kubernetes_sd".into(), Value::Array(list));
    }
    for k in ["relabel_configs", "metric_relabel_configs"] {
        if let Some(r) = keys.take(k) {
            j.insert(k.into(), relabels(ctx, f, r));
        }
    }
    rest(ctx, f, &keys, &format!("job `{name}`"));
    let i = ctx.push(&["scrape_jobs"], Value::Object(j));
    ctx.from(format!("/scrape_jobs/{i}"), f, line);
}

fn read_file_sd(path: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let file = source::parse("file_sd", &text).ok()?;
    let v = source::to_value(&file.root);
    Some(
        v.as_array()?
            .iter()
            .flat_map(|g| {
                g.get("targets")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
    )
}

pub fn slug(s: &str) -> String {
    let out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    out.trim_matches('_').to_string()
}

/// A credential written inline (`password:`) or in a file (`password_file:`)
/// as the name of a secret.
fn credential(
    ctx: &mut Ctx,
    f: &str,
    node: &Node,
    key: &str,
    hint: &str,
    what: &str,
) -> Option<String> {
    if let Some(v) = source::get(node, key) {
        let value = source::text(v).unwrap_or_default();
        return Some(ctx.secret(hint, &value, f, source::line(v), what));
    }
    let file_key = format!("{key}_file");
    let v = source::get(node, &file_key)?;
    let path = source::text(v)?;
    let name = match path.strip_prefix("/run/secrets/") {
        Some(n) => n.to_string(),
        None => Path::new(&path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| hint.into()),
    };
    let host = ctx.host_path(&path);
    Some(ctx.secret_from_file(&name, host.as_deref(), f, source::line(v)))
}

fn relabels(ctx: &mut Ctx, f: &str, list: &Node) -> Value {
    let known = [
        "source_labels",
        "separator",
        "regex",
        "modulus",
        "target_label",
        "replacement",
        "action",
    ];
    Value::Array(
        source::items(list)
            .iter()
            .map(|r| {
                let keys = Keys::new(r);
                let mut m = Map::new();
                for k in known {
                    if let Some(v) = keys.take(k) {
                        let value = match k {
                            "modulus" | "source_labels" => source::to_value(v),
                            _ => json!(source::text(v).unwrap_or_default()),
                        };
                        m.insert(k.into(), value);
                    }
                }
                rest(ctx, f, &keys, "a relabel config");
                Value::Object(m)
            })
            .collect(),
    )
}

fn remote_write(ctx: &mut Ctx, f: &str, rw: &Node) {
    let keys = Keys::new(rw);
    let line = source::line(rw);
    let mut m = Map::new();
    let url = keys.take_str("url").unwrap_or_default();
    if let Some(n) = keys.take_str("name") {
        m.insert("name".into(), json!(n));
    }
    m.insert("url".into(), json!(url));
    if let Some(t) = keys.take_str("remote_timeout") {
        m.insert("remote_timeout".into(), json!(t));
    }
    let hint = slug(
        m.get("name")
            .and_then(Value::as_str)
            .unwrap_or("remote_write"),
    );
    if let Some(auth) = keys.take("basic_auth") {
        let user = source::get(auth, "username")
            .and_then(source::text)
            .unwrap_or_default();
        if let Some(s) = credential(
            ctx,
            f,
            auth,
            "password",
            &format!("{hint}_password"),
            "remote_write password",
        ) {
            m.insert(
                "basic_auth".into(),
                json!({"username": user, "password_secret": s}),
            );
        }
    }
    if let Some(t) = keys.take("bearer_token") {
        let s = ctx.secret(
            &format!("{hint}_token"),
            &source::text(t).unwrap_or_default(),
            f,
            source::line(t),
            "remote_write bearer token",
        );
        m.insert("bearer_token_secret".into(), json!(s));
    }
    if let Some(auth) = keys.take("authorization") {
        if let Some(s) = credential(
            ctx,
            f,
            auth,
            "credentials",
            &format!("{hint}_token"),
            "remote_write token",
        ) {
            m.insert("bearer_token_secret".into(), json!(s));
        }
    }
    if let Some(r) = keys.take("write_relabel_configs") {
        m.insert("write_relabel_configs".into(), relabels(ctx, f, r));
    }
    rest(ctx, f, &keys, "remote_write");
    let i = ctx.push(&["remote_write"], Value::Object(m));
    ctx.from(format!("/remote_write/{i}"), f, line);
}
