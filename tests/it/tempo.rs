//! Grafana Tempo: its rendered config and datasource, its checks, and
//! `verify --deep` against a fake that answers with Tempo 3's documented HTTP
//! API (`/ready`, OTLP/HTTP `POST /v1/traces`, `GET /api/v2/traces/<id>`
//! with protobuf-JSON base64 IDs). Tempo itself has no package here and
//! cannot be pulled: it is NOT RUN, and each test says so.

use crate::common;
use crate::support;

use common::{path_str, run, spec_dir};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{FakeServer, Reply, Request};

const NOT_RUN: &str = "NOT RUN: Grafana Tempo (no package, no registry on this machine); \
    checked against its documented config format and HTTP API only";

const SPEC: &str = "stackctl: 1\nname: traces\nsecrets:\n  grafana_admin_password: {generate: true}\n  grafana_secret_key: {generate: true}\ncomponents:\n  prometheus: {remote_write_receiver: true}\n  grafana: {}\n  loki: {}\n  tempo:\n    retention: 3d\n    metrics_generator: true\n";

fn yaml(dir: &std::path::Path, file: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    stackctl::verify::parse_yaml(&text).unwrap()
}

#[test]
fn renders_a_tempo_3_config_and_a_linked_datasource() {
    eprintln!("{NOT_RUN}");
    let dir = spec_dir(SPEC);
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    let config = yaml(dir.path(), "tempo/tempo.yaml");
    let otlp = &config["distributor"]["receivers"]["otlp"]["protocols"];
    assert_eq!(otlp["grpc"]["endpoint"], "0.0.0.0:4317");
    assert_eq!(otlp["http"]["endpoint"], "0.0.0.0:4318");
    assert_eq!(config["server"]["http_listen_port"], "3200");
    assert_eq!(config["storage"]["trace"]["backend"], "local");
    assert_eq!(config["storage"]["trace"]["wal"]["path"], "/var/tempo/wal");
    assert_eq!(
        config["backend_worker"]["compaction"]["block_retention"],
        "72h"
    );
    assert_eq!(
        config["metrics_generator"]["storage"]["remote_write"][0]["url"],
        "http://prometheus:9090/api/v1/write"
    );
    // Sections Tempo 3 removed make it refuse to start.
    for removed in [
        "ingester",
        "compactor",
        "ingester_client",
        "metrics_generator_client",
    ] {
        assert!(config.get(removed).is_none(), "{removed} in {config:?}");
    }
    let sources = yaml(
        dir.path(),
        "grafana/provisioning/datasources/datasources.yaml",
    );
    let list = sources["datasources"].as_array().unwrap();
    let tempo = list
        .iter()
        .find(|d| d["type"] == "tempo")
        .expect("tempo datasource");
    assert_eq!(tempo["url"], "http://tempo:3200");
    assert_eq!(tempo["jsonData"]["tracesToLogsV2"]["datasourceUid"], "loki");
    assert_eq!(
        tempo["jsonData"]["serviceMap"]["datasourceUid"],
        "prometheus"
    );
    assert_eq!(tempo["jsonData"]["nodeGraph"]["enabled"], "true");
    // And back: a trace ID in a log line opens the trace in Tempo.
    let loki = list.iter().find(|d| d["type"] == "loki").unwrap();
    assert_eq!(
        loki["jsonData"]["derivedFields"][0]["datasourceUid"],
        "tempo"
    );
    let compose = yaml(dir.path(), "docker-compose.monitoring.yml");
    let service = &compose["services"]["tempo"];
    assert_eq!(service["image"], "grafana/tempo:3.0.3");
    // Distroless image: the check is Tempo's own `-health`, not wget.
    assert_eq!(service["healthcheck"]["test"][1], "/tempo");
    let prometheus = std::fs::read_to_string(dir.path().join("prometheus/prometheus.yml")).unwrap();
    assert!(prometheus.contains("job_name: tempo"), "{prometheus}");
}

#[test]
fn without_loki_or_the_generator_the_datasource_has_no_dangling_links() {
    eprintln!("{NOT_RUN}");
    let dir = spec_dir(
        "stackctl: 1\nname: t\nsecrets:\n  grafana_admin_password: {generate: true}\n  grafana_secret_key: {generate: true}\ncomponents:\n  grafana: {}\n  tempo: {}\n",
    );
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    let sources = yaml(
        dir.path(),
        "grafana/provisioning/datasources/datasources.yaml",
    );
    let tempo = &sources["datasources"][0];
    assert_eq!(tempo["type"], "tempo");
    assert!(
        tempo["jsonData"].get("tracesToLogsV2").is_none(),
        "{tempo:?}"
    );
    assert!(tempo["jsonData"].get("serviceMap").is_none(), "{tempo:?}");
    let config = yaml(dir.path(), "tempo/tempo.yaml");
    assert!(config.get("metrics_generator").is_none());
    assert!(config.get("backend_worker").is_none());
}

fn validate(text: &str) -> String {
    let dir = spec_dir(text);
    let (_, out, err) = run(&["validate", "--dir", path_str(dir.path())]);
    format!("{out}{err}")
}

#[test]
fn tempo_2_and_a_generator_without_its_receiver_are_errors_with_positions() {
    let out = validate(
        "stackctl: 1\nname: t\ncomponents:\n  prometheus: {}\n  tempo:\n    version: 2.10.8\n    metrics_generator: true\n",
    );
    assert!(
        out.contains("stack.yaml:6:14: error: Tempo 2.10.8 is not supported"),
        "{out}"
    );
    assert!(
        out.contains("pin a Tempo 3 release such as `3.0.3`"),
        "{out}"
    );
    assert!(
        out.contains("stack.yaml:7:24: error: Tempo's metrics generator remote-writes to Prometheus, whose remote-write receiver is off"),
        "{out}"
    );
    assert!(out.contains("set `remote_write_receiver: true`"), "{out}");
    let alone = validate("stackctl: 1\nname: t\ncomponents:\n  tempo: {metrics_generator: true}\n");
    assert!(
        alone.contains("needs the `prometheus` component"),
        "{alone}"
    );
}

#[test]
fn tempo_beside_jaeger_clashes_on_the_otlp_ports_unless_moved() {
    let out = validate("stackctl: 1\nname: t\ncomponents:\n  jaeger: {}\n  tempo: {}\n");
    assert!(
        out.contains("host port 4317 (127.0.0.1) of `tempo` is already published by `jaeger`"),
        "{out}"
    );
    assert!(
        out.contains("both `tempo` and `jaeger` are enabled"),
        "{out}"
    );
    let moved = validate(
        "stackctl: 1\nname: t\ncomponents:\n  jaeger: {}\n  tempo:\n    ports: {otlp_grpc: 4327, otlp_http: 4328}\n",
    );
    assert!(moved.contains("0 errors"), "{moved}");
    assert!(
        moved.contains("both `tempo` and `jaeger` are enabled"),
        "{moved}"
    );
}

/// Tempo 3's HTTP API as documented: `/ready`, `POST /v1/traces` (OTLP/HTTP
/// JSON) and `GET /api/v2/traces/<hex id>` answering
/// `{"trace": {"resourceSpans": …}}` with base64 IDs (protobuf's JSON
/// mapping), 404 while the trace is not queryable. `store` false: spans are
/// accepted and never become queryable.
fn fake_tempo(store: bool) -> support::Handler {
    let spans: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    Arc::new(move |r: &Request| {
        let path = r.path();
        if path == "/ready" {
            return Reply::text(200, "ready");
        }
        if path == "/v1/traces" && r.method == "POST" {
            let Ok(body) = serde_json::from_str::<Value>(&r.body) else {
                return Reply::text(400, "invalid JSON");
            };
            let span = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
            if store {
                spans.lock().unwrap().push((
                    span["traceId"].as_str().unwrap_or("").to_string(),
                    span["spanId"].as_str().unwrap_or("").to_string(),
                ));
            }
            return Reply::json(200, json!({}));
        }
        if let Some(id) = path.strip_prefix("/api/v2/traces/") {
            let found = spans.lock().unwrap().iter().find(|(t, _)| t == id).cloned();
            return match found {
                Some((_, span)) => Reply::json(
                    200,
                    json!({"trace": {"resourceSpans": [{
                        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "stackctl-verify"}}]},
                        "scopeSpans": [{"spans": [{"traceId": base64(id), "spanId": base64(&span), "name": "verify"}]}]
                    }]}}),
                ),
                None => Reply::text(404, "trace not found"),
            };
        }
        Reply::not_found()
    })
}

/// base64 of the bytes a hex string spells (what Tempo's JSON carries).
fn base64(hex: &str) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

fn verify_tempo(store: bool) -> (i32, Value) {
    let dir = spec_dir("stackctl: 1\nname: t\ncomponents:\n  tempo: {}\n");
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    let handler = fake_tempo(store);
    let http = FakeServer::on(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        handler.clone(),
    );
    let otlp = FakeServer::on(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), handler);
    let (code, out, err) = run(&[
        "verify",
        "--dir",
        path_str(dir.path()),
        "--format",
        "json",
        "--deep",
        "--timeout",
        "2s",
        "--url",
        &format!("tempo={}", http.url()),
        "--url",
        &format!("tempo.otlp_http={}", otlp.url()),
    ]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, report)
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == "tempo" && c["check"] == name)
        .unwrap_or_else(|| panic!("no tempo check `{name}` in {report:#}"))
}

#[test]
fn verify_deep_sends_a_span_and_reads_it_back_from_tempo() {
    let _gate = common::serial::gate(module_path!());
    eprintln!("{NOT_RUN}");
    let (code, report) = verify_tempo(true);
    assert_eq!(check(&report, "ready")["status"], "pass", "{report:#}");
    let trip = check(&report, "OTLP span stored and queried");
    assert_eq!(trip["status"], "pass", "{report:#}");
    assert!(
        trip["message"].as_str().unwrap().starts_with("trace "),
        "{trip}"
    );
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn verify_fails_when_tempo_accepts_a_span_it_never_stores() {
    let _gate = common::serial::gate(module_path!());
    eprintln!("{NOT_RUN}");
    let started = std::time::Instant::now();
    let (code, report) = verify_tempo(false);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(code, 1);
    let msg = check(&report, "OTLP span stored and queried")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.starts_with("Tempo accepted the test span but trace "),
        "{msg}"
    );
    assert!(msg.contains("/api/v2/traces/"), "{msg}");
}

#[test]
fn a_panel_on_tempo_is_a_traceql_search_and_needs_its_query() {
    eprintln!("{NOT_RUN}");
    let panels = |queries: &str| {
        format!(
            "stackctl: 1\nname: t\nsecrets:\n  grafana_admin_password: {{generate: true}}\n  grafana_secret_key: {{generate: true}}\ncomponents:\n  grafana: {{}}\n  tempo: {{}}\ndashboards:\n  - uid: traces\n    title: Traces\n    rows:\n      - panels:\n          - title: Errors\n            type: table\n            datasource: tempo\n            queries: [{queries}]\n"
        )
    };
    let dir = spec_dir(&panels("{expr: '{ status = error }', limit: 5}"));
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(dir.path().join("grafana/dashboards/general/traces.json"))
        .unwrap_or_else(|e| {
            panic!(
                "{e}: {:?}",
                std::fs::read_dir(dir.path().join("grafana/dashboards"))
                    .unwrap()
                    .collect::<Vec<_>>()
            )
        });
    let dash: Value = serde_json::from_str(&text).unwrap();
    let target = &dash["panels"][0]["targets"][0];
    assert_eq!(target["queryType"], "traceql", "{target}");
    assert_eq!(target["query"], "{ status = error }");
    assert_eq!(target["limit"], 5);
    let out = validate(&panels("{expr: ''}"));
    assert!(out.contains("error: empty `expr`"), "{out}");
}
