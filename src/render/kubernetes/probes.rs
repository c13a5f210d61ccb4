//! Blackbox probe jobs as `Probe` resources, and values for the
//! prometheus-blackbox-exporter chart that runs the prober they point at
//! (kube-prometheus-stack does not include one).
//!
//! The chart is installed with `fullnameOverride: blackbox-exporter`, so its
//! Service — the prober URL of every Probe — is `blackbox-exporter.NS.svc:9115`.

use super::monitors::API_VERSION;
use super::{Ctx, Resource};
use crate::model::components::Prober;
use crate::model::{Kind, Stack};
use crate::path;
use serde_json::{Map, Value, json};

pub const BLACKBOX_SERVICE: &str = "blackbox-exporter";

pub fn probes(ctx: &mut Ctx<'_>, out: &mut Vec<Resource>) {
    let stack: &Stack = ctx.stack;
    let port = Kind::BlackboxExporter
        .port("http")
        .map_or(9115, |p| p.container);
    for (i, probe) in stack.probes.iter().enumerate() {
        let name = ctx.name("Probe", &probe.name, path!["probes", i, "name"]);
        let mut spec = Map::new();
        spec.insert("jobName".into(), json!(probe.name));
        if let Some(interval) = &probe.interval {
            spec.insert("interval".into(), json!(interval.as_str()));
        }
        if let Some(timeout) = &probe.timeout {
            spec.insert("scrapeTimeout".into(), json!(timeout.as_str()));
        }
        spec.insert("module".into(), json!(probe.module));
        spec.insert(
            "prober".into(),
            json!({"url": ctx.service_address(BLACKBOX_SERVICE, port)}),
        );
        let mut static_config = Map::new();
        static_config.insert("static".into(), json!(probe.targets));
        if !probe.labels.is_empty() {
            let labels: Map<String, Value> = probe
                .labels
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            static_config.insert("labels".into(), Value::Object(labels));
        }
        spec.insert("targets".into(), json!({"staticConfig": static_config}));
        let value = ctx.object(
            API_VERSION,
            "Probe",
            ctx.metadata(&name),
            Value::Object(spec),
        );
        out.push(Resource {
            kind: "Probe",
            name,
            value,
        });
    }
}

/// Values for prometheus-blackbox-exporter: the spec's image and modules (the
/// same modules the compose target writes to `blackbox/blackbox.yml`).
pub fn blackbox_values(ctx: &mut Ctx<'_>) -> Option<Value> {
    let stack: &Stack = ctx.stack;
    let Some(c) = stack.component(Kind::BlackboxExporter) else {
        if !stack.probes.is_empty() {
            ctx.warn(
                path!["probes"],
                "the probes need a blackbox exporter, and `components.blackbox_exporter` is not enabled",
                format!(
                    "enable it to get `{}`, or run one whose Service is `{BLACKBOX_SERVICE}` in namespace `{}`",
                    super::BLACKBOX_VALUES,
                    ctx.namespace
                ),
            );
        }
        return None;
    };
    let spec = stack
        .components
        .blackbox_exporter
        .clone()
        .unwrap_or_default();
    let modules = if spec.modules.is_empty() {
        crate::plan::exporters::default_modules()
    } else {
        spec.modules.clone()
    };
    let mut v = Map::new();
    v.insert("fullnameOverride".into(), json!(BLACKBOX_SERVICE));
    v.insert("releaseLabel".into(), json!(true));
    v.insert(
        "image".into(),
        super::values::image(&c.image(stack.defaults.image_registry.as_deref())),
    );
    if modules.values().any(|m| m.prober == Prober::Icmp) {
        // ICMP needs raw sockets; the chart drops every capability otherwise.
        v.insert(
            "securityContext".into(),
            json!({"capabilities": {"add": ["NET_RAW"]}}),
        );
    }
    if let Some(r) = super::values::resources(&c.common) {
        v.insert("resources".into(), r);
    }
    if !c.common.extra_args.is_empty() {
        v.insert("extraArgs".into(), json!(c.common.extra_args));
    }
    v.insert(
        "config".into(),
        crate::plan::exporters::blackbox_config(&modules),
    );
    if c.scrape_enabled() {
        v.insert(
            "serviceMonitor".into(),
            json!({"selfMonitor": {"enabled": true}}),
        );
    }
    Some(Value::Object(v))
}
