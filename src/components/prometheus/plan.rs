//! Prometheus: the service, `prometheus/prometheus.yml` and one rule file per
//! entry of `rules:`. Output follows the pinned version: Prometheus 3 expands
//! `${VAR}` in external labels (so `$` is doubled) and needs no console flags.

use crate::model::Kind;
use crate::model::catalog::Component;
use crate::model::stack::{Relabel, RuleGroup, ScrapeJob};
use crate::plan::{Condition, Deployment, Service, obj};
use crate::resolve::Resolved;
use serde_json::{Map, Value, json};

pub const CONFIG: &str = "prometheus/prometheus.yml";

pub fn plan(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let Some(spec) = &stack.components.prometheus else {
        return;
    };
    let mut service = Service::for_component(stack, c);
    let v = &c.version;
    service.command = vec![
        "--config.file=/etc/prometheus/prometheus.yml".into(),
        "--storage.tsdb.path=/prometheus".into(),
    ];
    // Retention stays on the command line: the config-file form is new in 3.x,
    // was wrong by a factor of 1e6 until ~3.11, and fails on 2.x.
    if let Some(time) = &spec.retention_time {
        service
            .command
            .push(format!("--storage.tsdb.retention.time={time}"));
    }
    if let Some(size) = &spec.retention_size {
        service
            .command
            .push(format!("--storage.tsdb.retention.size={size}"));
    }
    if let Some(url) = &spec.external_url {
        service.command.push(format!("--web.external-url={url}"));
    }
    if spec.enable_lifecycle == Some(true) {
        service.command.push("--web.enable-lifecycle".into());
    }
    if let Some(capacity) = spec.notification_queue_capacity {
        service.command.push(format!(
            "--alertmanager.notification-queue-capacity={capacity}"
        ));
    }
    if spec.remote_write_receiver == Some(true) {
        service
            .command
            .push("--web.enable-remote-write-receiver".into());
    }
    service.command.extend(c.common.extra_args.iter().cloned());
    service.mount_config("prometheus", "/etc/prometheus");

    let web = crate::components::prometheus::WEB;
    // Every endpoint is served under the route prefix (external_url's path).
    let prefix = crate::plan::route_prefix::of(&service.command);
    crate::plan::route_prefix::apply_to_ready(&mut service);
    if v.suffix().is_some_and(|s| s.contains("distroless")) {
        // Distroless images have no wget; promtool can check readiness (2.44+).
        let mut test: Vec<String> = vec!["/bin/promtool".into(), "check".into(), "ready".into()];
        if !prefix.is_empty() {
            test.push(format!("--url=http://localhost:{web}{prefix}"));
        }
        service.healthcheck = Some(crate::plan::Healthcheck {
            test,
            shell: false,
            interval_s: 10,
            timeout_s: 5,
            retries: 5,
            start_period_s: 15,
        });
    } else {
        service.wget_healthcheck(web, &format!("{prefix}/-/ready"));
    }

    let mut config = obj();
    config.insert(
        "global".into(),
        Value::Object(global(stack, spec, v.at_least(3, 0, 0))),
    );
    let watchdog = crate::plan::watchdog::of(stack);
    if !stack.rules.is_empty() || watchdog.is_some() {
        config.insert("rule_files".into(), json!(["rules/*.yml"]));
    }
    if let Some(address) = stack.alertmanager_address() {
        let mut am =
            crate::plan::web_auth::client_settings(stack, Kind::Alertmanager, &mut service);
        let prefix = alertmanager_prefix(stack);
        if !prefix.is_empty() {
            // Its API is served under the route prefix too.
            am.insert("path_prefix".into(), json!(prefix));
        }
        am.insert("static_configs".into(), json!([{"targets": [address]}]));
        config.insert("alerting".into(), json!({"alertmanagers": [am]}));
        service.after("alertmanager", Condition::Started);
    }
    let mut jobs = component_jobs(stack, &mut service);
    jobs.extend(crate::plan::hosts::scrape_jobs(stack, d));
    for job in stack
        .scrape_jobs
        .iter()
        .filter(|j| j.enabled != Some(false))
    {
        jobs.push(Value::Object(scrape_job(job, &mut service)));
    }
    for probe in &stack.probes {
        let port = Kind::BlackboxExporter
            .port("http")
            .map_or(9115, |p| p.container);
        let mut job = obj();
        job.insert("job_name".into(), json!(probe.name));
        if let Some(interval) = &probe.interval {
            job.insert("scrape_interval".into(), json!(interval.as_str()));
        }
        if let Some(timeout) = &probe.timeout {
            job.insert("scrape_timeout".into(), json!(timeout.as_str()));
        }
        job.insert("metrics_path".into(), json!("/probe"));
        job.insert("params".into(), json!({"module": [probe.module]}));
        let mut target = obj();
        target.insert("targets".into(), json!(probe.targets));
        if !probe.labels.is_empty() {
            target.insert("labels".into(), labels_json(&probe.labels));
        }
        job.insert("static_configs".into(), json!([target]));
        job.insert(
            "relabel_configs".into(),
            json!([
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": format!("blackbox-exporter:{port}")},
            ]),
        );
        jobs.push(Value::Object(job));
    }
    config.insert("scrape_configs".into(), Value::Array(jobs));
    if !stack.remote_write.is_empty() {
        let writes: Vec<Value> = stack
            .remote_write
            .iter()
            .map(|rw| {
                let mut w = obj();
                w.insert("url".into(), json!(rw.url));
                if let Some(name) = &rw.name {
                    w.insert("name".into(), json!(name));
                }
                if let Some(t) = &rw.remote_timeout {
                    w.insert("remote_timeout".into(), json!(t.as_str()));
                }
                if let Some(auth) = &rw.basic_auth {
                    w.insert(
                        "basic_auth".into(),
                        json!({"username": auth.username, "password_file": service.use_secret(&auth.password_secret)}),
                    );
                }
                if let Some(token) = &rw.bearer_token_secret {
                    w.insert(
                        "authorization".into(),
                        json!({"type": "Bearer", "credentials_file": service.use_secret(token)}),
                    );
                }
                if !rw.write_relabel_configs.is_empty() {
                    w.insert("write_relabel_configs".into(), relabels(&rw.write_relabel_configs));
                }
                Value::Object(w)
            })
            .collect();
        config.insert("remote_write".into(), Value::Array(writes));
    }
    d.add_yaml(CONFIG, &Value::Object(config));
    for (file, groups) in &stack.rules {
        d.add_yaml(&format!("prometheus/rules/{file}.yml"), &rule_file(groups));
    }
    if watchdog.is_some() {
        let file = format!("prometheus/rules/{}.yml", crate::plan::watchdog::RULE_FILE);
        d.add_yaml(&file, &crate::plan::watchdog::rule_file());
    }
    d.services.push(service);
}

fn global(
    stack: &Resolved,
    spec: &crate::model::components::Prometheus,
    v3: bool,
) -> Map<String, Value> {
    let mut g = obj();
    let interval = spec.scrape_interval.as_ref().map_or("15s", |d| d.as_str());
    g.insert("scrape_interval".into(), json!(interval));
    if let Some(t) = &spec.scrape_timeout {
        g.insert("scrape_timeout".into(), json!(t.as_str()));
    }
    let eval = spec
        .evaluation_interval
        .as_ref()
        .map_or("15s", |d| d.as_str());
    g.insert("evaluation_interval".into(), json!(eval));
    if !spec.external_labels.is_empty() {
        let mut labels = obj();
        for (k, v) in &spec.external_labels {
            // Prometheus 3 expands ${VAR} in external label values; a literal
            // `$` has to be written `$$` to survive.
            let value = if v3 { v.replace('$', "$$") } else { v.clone() };
            labels.insert(k.to_string(), json!(value));
        }
        g.insert("external_labels".into(), Value::Object(labels));
    }
    let _ = stack;
    g
}

/// One scrape job per enabled component that has metrics.
/// Alertmanager's route prefix (`""` at the root), from its spec.
fn alertmanager_prefix(stack: &Resolved) -> String {
    let url = stack
        .components
        .alertmanager
        .as_ref()
        .and_then(|a| a.external_url.as_deref());
    let args = stack
        .component(Kind::Alertmanager)
        .map(|c| c.common.extra_args.to_vec())
        .unwrap_or_default();
    crate::plan::route_prefix::of_spec(url, &args)
}

fn component_jobs(stack: &Resolved, service: &mut Service) -> Vec<Value> {
    let mut jobs = Vec::new();
    for kind in stack.components.enabled_kinds() {
        let Some(c) = stack.component(kind) else {
            continue;
        };
        if !c.scrape_enabled() {
            continue;
        }
        let Some((port_name, path)) = kind.info().metrics else {
            continue;
        };
        let Some(port) = kind.port(port_name) else {
            continue;
        };
        let mut job = obj();
        job.insert("job_name".into(), json!(kind.service()));
        if kind != Kind::Prometheus {
            if let Some(interval) = c.common.scrape_interval {
                job.insert("scrape_interval".into(), json!(interval.as_str()));
            }
        }
        // Prometheus and Alertmanager serve `/metrics` under their route prefix.
        let path = match kind {
            Kind::Prometheus => crate::plan::route_prefix::join(&service.command, path),
            Kind::Alertmanager => format!("{}{path}", alertmanager_prefix(stack)),
            _ => path.to_string(),
        };
        if path != "/metrics" {
            job.insert("metrics_path".into(), json!(path));
        }
        if kind == Kind::Pushgateway {
            // Pushed series carry their own job/instance labels.
            job.insert("honor_labels".into(), json!(true));
        }
        job.extend(crate::plan::web_auth::client_settings(stack, kind, service));
        job.insert(
            "static_configs".into(),
            json!([{"targets": [format!("{}:{}", kind.service(), port.container)]}]),
        );
        jobs.push(Value::Object(job));
    }
    jobs
}

fn scrape_job(job: &ScrapeJob, service: &mut Service) -> Map<String, Value> {
    let mut j = obj();
    j.insert("job_name".into(), json!(job.name));
    if let Some(i) = &job.interval {
        j.insert("scrape_interval".into(), json!(i.as_str()));
    }
    if let Some(t) = &job.timeout {
        j.insert("scrape_timeout".into(), json!(t.as_str()));
    }
    if let Some(p) = &job.metrics_path {
        j.insert("metrics_path".into(), json!(p));
    }
    if let Some(s) = job.scheme {
        j.insert("scheme".into(), json!(s.as_str()));
    }
    if !job.params.is_empty() {
        j.insert("params".into(), json!(job.params));
    }
    if let Some(h) = job.honor_labels {
        j.insert("honor_labels".into(), json!(h));
    }
    if let Some(h) = job.honor_timestamps {
        j.insert("honor_timestamps".into(), json!(h));
    }
    if let Some(limit) = job.sample_limit {
        j.insert("sample_limit".into(), json!(limit));
    }
    if let Some(auth) = &job.basic_auth {
        j.insert(
            "basic_auth".into(),
            json!({"username": auth.username, "password_file": service.use_secret(&auth.password_secret)}),
        );
    }
    if let Some(token) = &job.bearer_token_secret {
        j.insert(
            "authorization".into(),
            json!({"type": "Bearer", "credentials_file": service.use_secret(token)}),
        );
    }
    if let Some(file) = &job.bearer_token_file {
        j.insert(
            "authorization".into(),
            json!({"type": "Bearer", "credentials_file": file}),
        );
    }
    if let Some(tls) = &job.tls {
        let mut t = obj();
        for (k, v) in [
            ("ca_file", &tls.ca_file),
            ("cert_file", &tls.cert_file),
            ("key_file", &tls.key_file),
            ("server_name", &tls.server_name),
        ] {
            if let Some(v) = v {
                t.insert(k.into(), json!(v));
            }
        }
        if let Some(skip) = tls.insecure_skip_verify {
            t.insert("insecure_skip_verify".into(), json!(skip));
        }
        j.insert("tls_config".into(), Value::Object(t));
    }
    if !job.kubernetes_sd.is_empty() {
        let sds: Vec<Value> = job
            .kubernetes_sd
            .iter()
            .map(|sd| {
                let mut s = obj();
                s.insert(
                    "role".into(),
                    serde_json::to_value(sd.role).unwrap_or_default(),
                );
                if !sd.namespaces.is_empty() {
                    s.insert("namespaces".into(), json!({"names": sd.namespaces}));
                }
                Value::Object(s)
            })
            .collect();
        j.insert("kubernetes_sd_configs".into(), Value::Array(sds));
    }
    if !job.targets.is_empty() {
        let mut target = obj();
        target.insert("targets".into(), json!(job.targets));
        if !job.labels.is_empty() {
            target.insert("labels".into(), labels_json(&job.labels));
        }
        j.insert("static_configs".into(), json!([target]));
    }
    if !job.relabel_configs.is_empty() {
        j.insert("relabel_configs".into(), relabels(&job.relabel_configs));
    }
    if !job.metric_relabel_configs.is_empty() {
        j.insert(
            "metric_relabel_configs".into(),
            relabels(&job.metric_relabel_configs),
        );
    }
    j
}

fn labels_json(
    labels: &std::collections::BTreeMap<crate::model::types::LabelName, String>,
) -> Value {
    let mut m = obj();
    for (k, v) in labels {
        m.insert(k.to_string(), json!(v));
    }
    Value::Object(m)
}

pub fn relabels(list: &[Relabel]) -> Value {
    Value::Array(list.iter().map(|r| relabel(r, false)).collect())
}

/// One relabel config; `camel_case` gives the Prometheus Operator's field
/// names (`sourceLabels`, `targetLabel`) instead of Prometheus's.
pub fn relabel(r: &Relabel, camel_case: bool) -> Value {
    let key = |snake: &str, camel: &str| {
        if camel_case {
            camel.to_string()
        } else {
            snake.to_string()
        }
    };
    let mut m = obj();
    if !r.source_labels.is_empty() {
        m.insert(key("source_labels", "sourceLabels"), json!(r.source_labels));
    }
    if let Some(s) = &r.separator {
        m.insert("separator".into(), json!(s));
    }
    if let Some(s) = &r.regex {
        m.insert("regex".into(), json!(s));
    }
    if let Some(s) = r.modulus {
        m.insert("modulus".into(), json!(s));
    }
    if let Some(s) = &r.target_label {
        m.insert(key("target_label", "targetLabel"), json!(s));
    }
    if let Some(s) = &r.replacement {
        m.insert("replacement".into(), json!(s));
    }
    if let Some(a) = r.action {
        m.insert("action".into(), json!(a.as_str()));
    }
    Value::Object(m)
}

/// A Prometheus rule file for a list of groups.
pub fn rule_file(groups: &[RuleGroup]) -> Value {
    json!({ "groups": groups.iter().map(rule_group).collect::<Vec<_>>() })
}

pub fn rule_group(group: &RuleGroup) -> Value {
    let mut g = obj();
    g.insert("name".into(), json!(group.name));
    if let Some(i) = &group.interval {
        g.insert("interval".into(), json!(i.as_str()));
    }
    if let Some(l) = group.limit {
        g.insert("limit".into(), json!(l));
    }
    let rules: Vec<Value> = group
        .rules
        .iter()
        .map(|rule| {
            let mut r = obj();
            if let Some(a) = &rule.alert {
                r.insert("alert".into(), json!(a));
            }
            if let Some(rec) = &rule.record {
                r.insert("record".into(), json!(rec));
            }
            r.insert("expr".into(), json!(rule.expr));
            if let Some(f) = &rule.for_ {
                r.insert("for".into(), json!(f.as_str()));
            }
            if let Some(k) = &rule.keep_firing_for {
                r.insert("keep_firing_for".into(), json!(k.as_str()));
            }
            if !rule.labels.is_empty() {
                r.insert("labels".into(), labels_json(&rule.labels));
            }
            if !rule.annotations.is_empty() {
                r.insert("annotations".into(), labels_json(&rule.annotations));
            }
            Value::Object(r)
        })
        .collect();
    g.insert("rules".into(), Value::Array(rules));
    Value::Object(g)
}
