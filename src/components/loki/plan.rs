//! Loki 3 as a single binary on the filesystem: tsdb index, schema v13,
//! compactor retention. None of the keys Loki 3 removed (`shared_store`,
//! `max_transfer_retries`, `max_look_back_period`, boltdb-shipper) appear.

use crate::plan::{Deployment, Service};
use crate::resolve::Resolved;

use crate::model::catalog::Component;
use serde_json::json;

pub const CONFIG: &str = "loki/loki.yml";

pub fn plan(stack: &Resolved, c: &Component<'_>, d: &mut Deployment) {
    let Some(spec) = &stack.components.loki else {
        return;
    };
    let mut service = Service::for_component(stack, c);
    service.command = vec!["-config.file=/etc/loki/loki.yml".into()];
    service.command.extend(c.common.extra_args.iter().cloned());
    service.mount_config("loki", "/etc/loki");
    let http = crate::components::loki::HTTP;
    let grpc = crate::components::loki::GRPC;
    if !c.version.at_least(3, 6, 0) {
        // Images before 3.6 carry busybox; from 3.6 on there is no shell or
        // wget, and readiness is probed from outside (`ready`).
        service.wget_healthcheck(http, "/ready");
        if let Some(h) = &mut service.healthcheck {
            // /ready answers 503 for the first ~15s by design.
            h.start_period_s = 30;
        }
    }

    let mut config = json!({
        "auth_enabled": false,
        "server": {"http_listen_port": http, "grpc_listen_port": grpc, "log_level": "info"},
        "common": {
            "instance_addr": "127.0.0.1",
            "path_prefix": "/loki",
            "storage": {"filesystem": {"chunks_directory": "/loki/chunks", "rules_directory": "/loki/rules"}},
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
        },
        "schema_config": {"configs": [{
            "from": spec.schema_from.clone().unwrap_or_else(|| "2024-01-01".into()),
            "store": "tsdb",
            "object_store": "filesystem",
            "schema": "v13",
            "index": {"prefix": "index_", "period": "24h"},
        }]},
        "limits_config": {
            "reject_old_samples": true,
            "reject_old_samples_max_age": spec.reject_old_samples_max_age.as_ref().map_or("168h", |d| d.as_str()),
        },
        "analytics": {"reporting_enabled": false},
    });
    if let Some(period) = &spec.retention_period {
        config["compactor"] = json!({
            "working_directory": "/loki/compactor",
            "compaction_interval": "10m",
            "retention_enabled": true,
            "retention_delete_delay": "2h",
            // Loki 3 refuses to start with retention on and no delete store.
            "delete_request_store": "filesystem",
        });
        config["limits_config"]["retention_period"] = json!(period.as_str());
    }
    if let Some(am) = stack.alertmanager_address() {
        config["ruler"] = json!({"alertmanager_url": format!("http://{am}")});
    }
    d.add_yaml(CONFIG, &config);
    d.services.push(service);
}
