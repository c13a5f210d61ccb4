//! Jaeger v2: one binary configured by `jaeger/config.yaml`, receiving OTLP
//! (and, when asked, the legacy Jaeger and Zipkin protocols). Every listener is
//! bound to 0.0.0.0 explicitly: the collector's defaults are localhost.

use crate::model::Kind;
use crate::model::catalog::Component;
use crate::model::components::JaegerStorage;
use crate::plan::{Condition, Deployment, Service};
use crate::resolve::Resolved;
use serde_json::json;

pub const CONFIG: &str = "jaeger/config.yaml";
/// Where the badger volume is mounted; its owner is set by the
/// `secrets-init` job (see `plan::secrets`), because Docker creates a named
/// volume root-owned and the image runs as uid 10001.
pub const BADGER_DIR: &str = "/badger";

/// Span retention as a Go duration in whole hours (default 7 days).
fn retention_hours(spec: &crate::model::components::Jaeger) -> String {
    let hours = spec
        .span_retention
        .as_ref()
        .map_or(168, |d| d.millis().div_ceil(3_600_000).max(1));
    format!("{hours}h")
}

pub fn plan(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let Some(spec) = &stack.components.jaeger else {
        return;
    };
    let mut service = Service::for_component(stack, c);
    service.command = vec!["--config".into(), "/etc/jaeger/config.yaml".into()];
    service.command.extend(c.common.extra_args.iter().cloned());
    service.mount_config("jaeger", "/etc/jaeger");
    let port = |name: &str, fallback: u16| c.kind.port(name).map_or(fallback, |p| p.container);
    let listen = |p: u16| format!("0.0.0.0:{p}");
    service.wget_healthcheck(port("health", 13133), "/status");

    let storage = spec.storage.unwrap_or(JaegerStorage::Memory);
    let backend = match storage {
        JaegerStorage::Memory => {
            json!({"memory": {"max_traces": spec.max_traces.unwrap_or(100_000)}})
        }
        JaegerStorage::Badger => {
            service.mounts.push(crate::plan::Mount {
                source: crate::plan::MountSource::Volume(
                    c.common
                        .data_volume
                        .map_or_else(|| "jaeger_data".to_string(), str::to_string),
                ),
                target: BADGER_DIR.into(),
                read_only: false,
            });
            json!({"badger": {
                "directories": {"keys": "/badger/keys", "values": "/badger/values"},
                "ephemeral": false,
                "ttl": {"spans": retention_hours(spec)},
            }})
        }
        JaegerStorage::Elasticsearch => {
            let url = spec.elasticsearch_url.clone().unwrap_or_else(|| {
                format!(
                    "http://elasticsearch:{}",
                    Kind::Elasticsearch
                        .port("http")
                        .map_or(9200, |p| p.container)
                )
            });
            // One node holds no replica: with the default of 1 every index
            // stays yellow forever. Each kind of index gets the setting.
            let single = json!({"replicas": 0});
            let mut es = json!({"server_urls": [url], "indices": {
                "index_prefix": crate::plan::elastic::JAEGER_INDEX_PREFIX,
                "spans": single, "services": single, "dependencies": single, "sampling": single,
            }});
            if stack.jaeger_uses_stack_es() {
                // Its own user, limited to its indices; it exists once the
                // setup job has run.
                let secret = stack.es_jaeger_secret();
                es["auth"] = json!({"basic": {"username": crate::plan::elastic::JAEGER_USER, "password_file": service.use_secret(&secret)}});
                service.after(
                    crate::plan::elastic::SETUP_SERVICE,
                    Condition::CompletedSuccessfully,
                );
            }
            json!({"elasticsearch": es})
        }
    };
    let legacy = spec.legacy_receivers == Some(true);
    let mut receivers = json!({"otlp": {"protocols": {
        "grpc": {"endpoint": listen(port("otlp_grpc", 4317))},
        "http": {"endpoint": listen(port("otlp_http", 4318))},
    }}});
    let mut receiver_names = vec!["otlp"];
    if legacy {
        receivers["jaeger"] = json!({"protocols": {
            "grpc": {"endpoint": listen(port("jaeger_grpc", 14250))},
            "thrift_http": {"endpoint": listen(port("jaeger_thrift_http", 14268))},
            // The UDP agent port old Jaeger client SDKs send to.
            "thrift_compact": {"endpoint": listen(port("jaeger_compact", 6831))},
        }});
        receivers["zipkin"] = json!({"endpoint": listen(port("zipkin", 9411))});
        receiver_names.extend(["jaeger", "zipkin"]);
    }
    let config = json!({
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {"traces": {
                "receivers": receiver_names,
                "processors": ["batch"],
                "exporters": ["jaeger_storage_exporter"],
            }},
            "telemetry": {
                "resource": {"service.name": "jaeger"},
                // `metrics.address` is rejected by current collectors; readers work on every 2.x.
                "metrics": {"level": "detailed", "readers": [{"pull": {"exporter": {"prometheus": {
                    "host": "0.0.0.0",
                    "port": port("metrics", 8888),
                }}}}]},
                "logs": {"level": "info"},
            },
        },
        "extensions": {
            "healthcheckv2": {"use_v2": true, "http": {"endpoint": listen(port("health", 13133))}},
            "jaeger_query": {
                "storage": {"traces": "main_store"},
                "http": {"endpoint": listen(port("ui", 16686))},
                "grpc": {"endpoint": listen(16685)},
            },
            "jaeger_storage": {"backends": {"main_store": backend}},
        },
        "receivers": receivers,
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "main_store"}},
    });
    d.add_yaml(CONFIG, &config);
    d.services.push(service);
    if storage == JaegerStorage::Elasticsearch && stack.jaeger_uses_stack_es() {
        cleaner(stack, spec, d);
    }
}

/// The service that deletes Jaeger's daily indices past the retention.
pub const CLEANER_SERVICE: &str = "jaeger-index-cleaner";
const CLEANER_SCRIPT: &str = "jaeger/cleaner/clean.sh";

/// Jaeger 2 keeps Elasticsearch indices forever (upstream's answer is the
/// `es-index-cleaner` cron job): a small loop on the Elasticsearch image
/// (bash, curl, GNU date) deletes the old daily indices instead, as
/// Jaeger's own user.
fn cleaner(stack: &Resolved, spec: &crate::model::components::Jaeger, d: &mut Deployment) {
    let Some(image) = stack
        .component(Kind::Elasticsearch)
        .map(|es| es.image(stack.defaults.image_registry.as_deref()))
    else {
        return;
    };
    let days = spec
        .span_retention
        .as_ref()
        .map_or(7, |r| r.millis().div_ceil(86_400_000).max(1));
    let secret = stack.es_jaeger_secret();
    let script = crate::plan::elastic::render(
        include_str!("../../../templates/jaeger-index-cleaner.sh.j2"),
        minijinja::context! {
            es_url => crate::plan::elastic::es_url(),
            days => days,
            user => crate::plan::elastic::JAEGER_USER,
            secret => crate::plan::secret_path(&secret),
            pattern => format!("{}-jaeger-*", crate::plan::elastic::JAEGER_INDEX_PREFIX),
        },
    );
    d.files.insert(CLEANER_SCRIPT.into(), script);
    let mut job = crate::plan::elastic::one_shot(stack, CLEANER_SERVICE, image, CLEANER_SCRIPT);
    job.one_shot = false;
    job.restart = stack
        .defaults
        .restart
        .map_or("unless-stopped", |r| r.as_str())
        .to_string();
    job.use_secret(&secret);
    job.after(
        crate::plan::elastic::SETUP_SERVICE,
        Condition::CompletedSuccessfully,
    );
    let mut check = crate::plan::elastic::shell_check("test -f /tmp/stackctl-cleaned".into());
    check.start_period_s = 60;
    job.healthcheck = Some(check);
    d.services.push(job);
}
