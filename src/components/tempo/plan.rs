//! Tempo 3 as one process (`-target=all`, no Kafka): OTLP receivers on every
//! interface, blocks and WAL on the data volume, no usage reporting. None of
//! the sections Tempo 3 removed (`ingester`, `compactor`, …) appear;
//! retention is the backend worker's (`backend_worker.compaction`).

use super::{DATA_DIR, HTTP, OTLP_GRPC, OTLP_HTTP};
use crate::model::Kind;
use crate::model::catalog::Component;
use crate::plan::{Condition, Deployment, Healthcheck, Service};
use crate::resolve::Resolved;
use serde_json::json;

pub const CONFIG: &str = "tempo/tempo.yaml";

pub fn plan(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let Some(spec) = &stack.components.tempo else {
        return;
    };
    let mut service = Service::for_component(stack, c);
    service.command = vec!["-config.file=/etc/tempo/tempo.yaml".into()];
    service.command.extend(c.common.extra_args.iter().cloned());
    service.mount_config("tempo", "/etc/tempo");
    // The image is distroless (no shell, no wget); Tempo 3's own `-health`
    // flag GETs /ready and exits 0 or 1.
    service.healthcheck = Some(Healthcheck {
        test: vec![
            "/tempo".into(),
            "-health".into(),
            format!("-health.url=http://localhost:{HTTP}/ready"),
        ],
        shell: false,
        interval_s: 10,
        timeout_s: 5,
        retries: 5,
        // /ready answers 503 until the live store has joined its ring.
        start_period_s: 30,
    });

    let listen = |p: u16| format!("0.0.0.0:{p}");
    let mut config = json!({
        "stream_over_http_enabled": true,
        "server": {"http_listen_port": HTTP, "grpc_listen_port": super::GRPC, "log_level": "info"},
        "distributor": {"receivers": {"otlp": {"protocols": {
            "grpc": {"endpoint": listen(OTLP_GRPC)},
            "http": {"endpoint": listen(OTLP_HTTP)},
        }}}},
        "storage": {"trace": {
            "backend": "local",
            "wal": {"path": format!("{DATA_DIR}/wal")},
            "local": {"path": format!("{DATA_DIR}/blocks")},
        }},
        "usage_report": {"reporting_enabled": false},
    });
    if let Some(retention) = &spec.retention {
        config["backend_worker"] =
            json!({"compaction": {"block_retention": super::go_hours(retention)}});
    }
    if spec.metrics_generator == Some(true) && stack.has(Kind::Prometheus) {
        let prometheus = crate::resolve::datasources::default_url(Kind::Prometheus);
        config["metrics_generator"] = json!({
            "registry": {"external_labels": {"source": "tempo"}},
            "storage": {
                "path": format!("{DATA_DIR}/generator/wal"),
                "remote_write": [{"url": format!("{prometheus}/api/v1/write"), "send_exemplars": true}],
            },
        });
        config["overrides"] = json!({"defaults": {"metrics_generator": {
            "processors": ["service-graphs", "span-metrics"],
        }}});
        service.after(Kind::Prometheus.service(), Condition::Started);
    }
    d.add_yaml(CONFIG, &config);
    d.services.push(service);
}
