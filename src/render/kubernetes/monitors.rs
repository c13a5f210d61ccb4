//! Scrape jobs as `ServiceMonitor`s (or `PodMonitor`s, `monitor: pod`).
//!
//! The operator names a ServiceMonitor's job after the Service (a PodMonitor's
//! `namespace/name`); rules and dashboards written against `job="api"` would
//! stop matching, so every endpoint sets `job` back to the spec's job name.
//! Static `labels:` become relabelings too (`$` doubled, as a replacement
//! would otherwise read it as a group reference).

use super::{Ctx, Resource, replacement_literal};
use crate::model::stack::{MonitorKind, Relabel, ScrapeJob};
use crate::model::types::LabelName;
use crate::model::{Kind, Stack};
use crate::path;
use crate::yaml::node::{Path, Seg};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub const API_VERSION: &str = "monitoring.coreos.com/v1";
/// The port name stackctl looks for when a job does not say.
pub const DEFAULT_PORT: &str = "metrics";

/// Exporters that watch something outside the monitoring stack; they are
/// deployed beside what they watch, and stackctl scrapes them there.
pub const EXPORTERS: [Kind; 4] = [
    Kind::PostgresExporter,
    Kind::RedisExporter,
    Kind::NginxExporter,
    Kind::Pushgateway,
];

pub fn scrape_jobs(ctx: &mut Ctx<'_>, out: &mut Vec<Resource>) {
    let stack: &Stack = ctx.stack;
    for (i, job) in stack.scrape_jobs.iter().enumerate() {
        if job.enabled == Some(false) {
            continue;
        }
        let at = path!["scrape_jobs", i];
        report_unmapped(ctx, job, &at);
        let k8s = job.kubernetes.clone().unwrap_or_default();
        let default_selector = super::names::label_value(&job.name);
        if job.kubernetes.is_none() {
            let targets = if job.targets.is_empty() {
                String::new()
            } else {
                format!(
                    "; its static targets ({}) are not used",
                    job.targets.join(", ")
                )
            };
            ctx.warn(
                at.clone(),
                format!(
                    "scrape job `{}` has no `kubernetes:` block: its ServiceMonitor selects Services labelled `app.kubernetes.io/name: {default_selector}` with a port named `{DEFAULT_PORT}`{targets}",
                    job.name
                ),
                "add `kubernetes: {monitor: service|pod, selector: {…}, port: NAME, namespaces: […]}` to the job",
            );
        }
        let selector: BTreeMap<String, String> = if k8s.selector.is_empty() {
            [("app.kubernetes.io/name".to_string(), default_selector)]
                .into_iter()
                .collect()
        } else {
            k8s.selector.clone()
        };
        check_selector(ctx, &selector, &with(&at, &["kubernetes", "selector"]));
        for (n, ns) in k8s.namespaces.iter().enumerate() {
            if !super::is_dns_label(ns) {
                ctx.error(
                    path!["scrape_jobs", i, "kubernetes", "namespaces", n],
                    format!("`{ns}` is not a valid Kubernetes namespace"),
                    "namespaces are lowercase letters, digits and `-`",
                );
            }
        }
        let port = k8s.port.clone().unwrap_or_else(|| DEFAULT_PORT.to_string());
        if !super::is_dns_label(&port) {
            ctx.error(
                with(&at, &["kubernetes", "port"]),
                format!("`{port}` is not a valid port name"),
                "port names are lowercase letters, digits and `-` (a Service or container port's `name`)",
            );
        }
        let pod = k8s.monitor == Some(MonitorKind::Pod);
        let kind = if pod { "PodMonitor" } else { "ServiceMonitor" };
        let name = ctx.name(kind, &job.name, with(&at, &["name"]));
        let endpoint = endpoint(ctx, job, &port, &at);
        let mut spec = Map::new();
        spec.insert("selector".into(), json!({"matchLabels": selector}));
        if !k8s.namespaces.is_empty() {
            spec.insert(
                "namespaceSelector".into(),
                json!({"matchNames": k8s.namespaces}),
            );
        }
        let endpoints_key = if pod {
            "podMetricsEndpoints"
        } else {
            "endpoints"
        };
        spec.insert(endpoints_key.into(), json!([endpoint]));
        if let Some(limit) = job.sample_limit {
            spec.insert("sampleLimit".into(), json!(limit));
        }
        let value = ctx.object(API_VERSION, kind, ctx.metadata(&name), Value::Object(spec));
        out.push(Resource { kind, name, value });
    }
}

/// The exporters of the spec: not deployed here (see `findings.rs`), but
/// scraped where they run, by the same convention as a job without a
/// `kubernetes:` block, keeping the job name the rules use.
pub fn exporters(ctx: &mut Ctx<'_>, out: &mut Vec<Resource>) {
    let stack: &Stack = ctx.stack;
    for kind in EXPORTERS {
        let Some(c) = stack.component(kind) else {
            continue;
        };
        if !c.scrape_enabled() {
            continue;
        }
        let Some((_, path)) = kind.info().metrics else {
            continue;
        };
        let at = path!["components", kind.key()];
        let job = kind.service();
        let name = ctx.name("ServiceMonitor", job, at.clone());
        let mut e = Map::new();
        e.insert("port".into(), json!(DEFAULT_PORT));
        e.insert("path".into(), json!(path));
        if let Some(interval) = c.common.scrape_interval {
            e.insert("interval".into(), json!(interval.as_str()));
        }
        if kind == Kind::Pushgateway {
            // Pushed series carry their own job/instance labels.
            e.insert("honorLabels".into(), json!(true));
        }
        e.insert("relabelings".into(), json!([job_relabeling(job)]));
        let spec = json!({
            "selector": {"matchLabels": {"app.kubernetes.io/name": job}},
            "endpoints": [e],
        });
        let value = ctx.object(API_VERSION, "ServiceMonitor", ctx.metadata(&name), spec);
        out.push(Resource {
            kind: "ServiceMonitor",
            name,
            value,
        });
    }
}

fn endpoint(ctx: &mut Ctx<'_>, job: &ScrapeJob, port: &str, at: &Path) -> Value {
    let mut e = Map::new();
    e.insert("port".into(), json!(port));
    if let Some(p) = &job.metrics_path {
        e.insert("path".into(), json!(p));
    }
    if let Some(s) = job.scheme {
        e.insert("scheme".into(), json!(s.as_str()));
    }
    if let Some(i) = &job.interval {
        e.insert("interval".into(), json!(i.as_str()));
    }
    if let Some(t) = &job.timeout {
        e.insert("scrapeTimeout".into(), json!(t.as_str()));
    }
    if !job.params.is_empty() {
        e.insert("params".into(), json!(job.params));
    }
    if let Some(h) = job.honor_labels {
        e.insert("honorLabels".into(), json!(h));
    }
    if let Some(h) = job.honor_timestamps {
        e.insert("honorTimestamps".into(), json!(h));
    }
    let user = format!("scrape job `{}`", job.name);
    if let Some(auth) = &job.basic_auth {
        let username = ctx.username(
            &auth.password_secret,
            &auth.username,
            &user,
            with(at, &["basic_auth", "username"]),
        );
        let password = ctx.secret(&auth.password_secret, &user);
        e.insert(
            "basicAuth".into(),
            json!({"username": username, "password": password}),
        );
    }
    if let Some(token) = &job.bearer_token_secret {
        e.insert(
            "authorization".into(),
            json!({"type": "Bearer", "credentials": ctx.secret(token, &user)}),
        );
    }
    if let Some(tls) = &job.tls {
        let mut t = Map::new();
        if let Some(name) = &tls.server_name {
            t.insert("serverName".into(), json!(name));
        }
        if let Some(skip) = tls.insecure_skip_verify {
            t.insert("insecureSkipVerify".into(), json!(skip));
        }
        if !t.is_empty() {
            e.insert("tlsConfig".into(), Value::Object(t));
        }
    }
    let mut relabelings = vec![job_relabeling(&job.name)];
    relabelings.extend(static_labels(&job.labels));
    relabelings.extend(job.relabel_configs.iter().map(relabeling));
    e.insert("relabelings".into(), Value::Array(relabelings));
    if !job.metric_relabel_configs.is_empty() {
        e.insert(
            "metricRelabelings".into(),
            Value::Array(job.metric_relabel_configs.iter().map(relabeling).collect()),
        );
    }
    Value::Object(e)
}

/// Parts of a scrape job that only make sense for a Prometheus outside the
/// cluster or on a file system the operator does not let monitors read.
fn report_unmapped(ctx: &mut Ctx<'_>, job: &ScrapeJob, at: &Path) {
    if !job.kubernetes_sd.is_empty() {
        ctx.warn(
            with(at, &["kubernetes_sd"]),
            format!(
                "scrape job `{}`: `kubernetes_sd` is not used; the operator discovers targets itself through the ServiceMonitor/PodMonitor selector",
                job.name
            ),
            "describe the targets with the job's `kubernetes:` block",
        );
    }
    if job.bearer_token_file.is_some() {
        ctx.warn(
            with(at, &["bearer_token_file"]),
            format!(
                "scrape job `{}`: `bearer_token_file` is not mapped; the operator forbids file paths in monitors (`arbitraryFSAccessThroughSMs`)",
                job.name
            ),
            "put the token in a secret and use `bearer_token_secret`",
        );
    }
    if let Some(tls) = &job.tls {
        for (key, value) in [
            ("ca_file", &tls.ca_file),
            ("cert_file", &tls.cert_file),
            ("key_file", &tls.key_file),
        ] {
            if value.is_some() {
                ctx.warn(
                    with(at, &["tls", key]),
                    format!(
                        "scrape job `{}`: `tls.{key}` is a path inside the Prometheus container; monitors cannot read files there",
                        job.name
                    ),
                    "add the certificate to a Secret or ConfigMap and set the monitor's `tlsConfig.ca`/`cert`/`keySecret` by hand",
                );
            }
        }
    }
}

fn check_selector(ctx: &mut Ctx<'_>, selector: &BTreeMap<String, String>, at: &Path) {
    for (k, v) in selector {
        if !super::is_label_key(k) {
            ctx.error_key(
                with(at, &[k]),
                format!("`{k}` is not a valid Kubernetes label key"),
                "label keys are an optional DNS prefix and `/`, then letters, digits, `-`, `_` and `.` (at most 63)",
            );
        }
        if !super::is_label_value(v) {
            ctx.error(
                with(at, &[k]),
                format!("`{v}` is not a valid Kubernetes label value"),
                "label values are letters, digits, `-`, `_` and `.` (at most 63), starting and ending with a letter or digit",
            );
        }
    }
}

/// Sets `job` to the spec's job name.
pub fn job_relabeling(job: &str) -> Value {
    json!({"action": "replace", "targetLabel": "job", "replacement": replacement_literal(job)})
}

fn static_labels(labels: &BTreeMap<LabelName, String>) -> Vec<Value> {
    labels
        .iter()
        .map(|(k, v)| json!({"action": "replace", "targetLabel": k.as_str(), "replacement": replacement_literal(v)}))
        .collect()
}

/// A Prometheus relabel config in the operator's camelCase.
pub fn relabeling(r: &Relabel) -> Value {
    crate::plan::prometheus::relabel(r, true)
}

pub(crate) fn with(at: &Path, segs: &[&str]) -> Path {
    let mut p = at.clone();
    p.extend(segs.iter().map(|s| Seg::Key((*s).to_string())));
    p
}
