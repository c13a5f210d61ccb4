//! Stand-ins for the services that have no Debian package here (Grafana,
//! Loki, Jaeger, Elasticsearch, Kibana, Logstash, Alloy, Promtail), answering
//! with the response shapes those services document (research notes
//! formats.md §6.4 and §8, the Loki HTTP API, Jaeger's query and OTLP/HTTP
//! APIs). `FakeStack` also stands in for Prometheus, Alertmanager and the
//! exporters, consistently with a rendered spec: the benchmark uses it.

use super::{FakeServer, Handler, Reply, Request};
use serde_json::{Value, json};
use stackctl::model::{Kind, Stack};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const METRICS: &str = "# HELP fake_up A fake exporter's only metric.\n# TYPE fake_up gauge\nfake_up{exporter=\"fake\"} 1\n";

fn unauthorized() -> Reply {
    Reply::json(401, json!({"message": "Invalid username or password"}))
}

#[derive(Debug, Clone)]
pub struct Datasource {
    pub uid: String,
    pub name: String,
    pub kind: String,
    pub healthy: bool,
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub provisioned: bool,
}

/// Grafana's HTTP API (`/api/health`, datasources by UID and their health,
/// dashboards by UID), with basic auth as `admin`.
pub fn grafana(
    password: &str,
    datasources: Vec<Datasource>,
    dashboards: Vec<Dashboard>,
) -> Handler {
    let password = password.to_string();
    Arc::new(move |r: &Request| {
        let path = r.path();
        if path == "/api/health" {
            return Reply::json(
                200,
                json!({"commit": "03f502a94d", "database": "ok", "version": "12.1.0"}),
            );
        }
        if r.basic_auth().as_deref() != Some(&format!("admin:{password}")) {
            return unauthorized();
        }
        if let Some(rest) = path.strip_prefix("/api/datasources/uid/") {
            let (uid, health) = match rest.strip_suffix("/health") {
                Some(uid) => (uid, true),
                None => (rest, false),
            };
            let Some(ds) = datasources.iter().find(|d| d.uid == uid) else {
                return Reply::json(404, json!({"message": "Data source not found"}));
            };
            if health {
                return if ds.healthy {
                    Reply::json(
                        200,
                        json!({"status": "OK", "message": "Successfully queried the Prometheus API."}),
                    )
                } else {
                    Reply::json(
                        400,
                        json!({"status": "ERROR", "message": "Post \"http://prometheus:9090/api/v1/query\": dial tcp: lookup prometheus: no such host"}),
                    )
                };
            }
            return Reply::json(
                200,
                json!({
                    "id": 1, "uid": ds.uid, "orgId": 1, "name": ds.name, "type": ds.kind, "access": "proxy",
                    "url": format!("http://{}:9090", ds.kind), "isDefault": false, "jsonData": {}, "secureJsonFields": {},
                    "version": 1, "readOnly": true
                }),
            );
        }
        if let Some(uid) = path.strip_prefix("/api/dashboards/uid/") {
            let Some(d) = dashboards.iter().find(|d| d.uid == uid) else {
                return Reply::json(404, json!({"message": "Dashboard not found"}));
            };
            return Reply::json(
                200,
                json!({
                    "dashboard": {"id": 3, "uid": d.uid, "title": d.title, "version": 1, "panels": []},
                    "meta": {"type": "db", "slug": d.uid, "url": format!("/d/{}/{}", d.uid, d.uid),
                             "provisioned": d.provisioned, "provisionedExternalId": format!("{}.json", d.uid),
                             "folderUid": "", "folderTitle": "General"}
                }),
            );
        }
        Reply::json(404, json!({"message": "Not found"}))
    })
}

/// Loki: `/ready`, `POST /loki/api/v1/push` (JSON) and `query_range` over
/// what was pushed. A `|= "text"` line filter is honoured.
pub fn loki() -> Handler {
    let lines: Arc<Mutex<Vec<(Value, String, String)>>> = Arc::default();
    Arc::new(move |r: &Request| match r.path() {
        "/ready" => Reply::text(200, "ready\n"),
        "/loki/api/v1/push" if r.method == "POST" => {
            let Ok(body) = serde_json::from_str::<Value>(&r.body) else {
                return Reply::text(400, "loghttp.PushRequest: invalid JSON\n");
            };
            let mut store = lines.lock().unwrap();
            for stream in body["streams"].as_array().into_iter().flatten() {
                for v in stream["values"].as_array().into_iter().flatten() {
                    store.push((
                        stream["stream"].clone(),
                        v[0].as_str().unwrap_or("").into(),
                        v[1].as_str().unwrap_or("").into(),
                    ));
                }
            }
            Reply::Respond {
                status: 204,
                content_type: "text/plain",
                body: String::new(),
                delay: Duration::ZERO,
            }
        }
        "/loki/api/v1/query_range" => {
            let query = r.param("query").unwrap_or_default();
            let needle = query
                .split("|= \"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or("")
                .to_string();
            let store = lines.lock().unwrap();
            let result: Vec<Value> = store
                .iter()
                .filter(|(_, _, line)| line.contains(&needle))
                .map(|(labels, ts, line)| json!({"stream": labels, "values": [[ts, line]]}))
                .collect();
            Reply::json(
                200,
                json!({"status": "success", "data": {"resultType": "streams", "result": result,
                "stats": {"summary": {"bytesProcessedPerSecond": 0, "totalEntriesReturned": result.len()}}}}),
            )
        }
        _ => Reply::not_found(),
    })
}

/// Jaeger v2: health `/status`, query `/api/services` and `/api/traces/{id}`,
/// and the OTLP/HTTP receiver `POST /v1/traces` (JSON). One handler serves
/// every port; spans are visible after `store_delay`, as with batching.
pub fn jaeger(store_delay: Duration) -> Handler {
    let spans: Arc<Mutex<Vec<(String, String, std::time::Instant)>>> = Arc::default();
    Arc::new(move |r: &Request| {
        let path = r.path();
        if path == "/status" {
            return Reply::json(200, json!({"status": "StatusOK", "healthy": true}));
        }
        if path == "/api/services" {
            return Reply::json(
                200,
                json!({"data": ["jaeger"], "total": 1, "limit": 0, "offset": 0, "errors": null}),
            );
        }
        if path == "/v1/traces" && r.method == "POST" {
            let Ok(body) = serde_json::from_str::<Value>(&r.body) else {
                return Reply::text(400, "invalid JSON");
            };
            let mut store = spans.lock().unwrap();
            for rs in body["resourceSpans"].as_array().into_iter().flatten() {
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    for s in ss["spans"].as_array().into_iter().flatten() {
                        store.push((
                            s["traceId"].as_str().unwrap_or("").into(),
                            s["spanId"].as_str().unwrap_or("").into(),
                            std::time::Instant::now(),
                        ));
                    }
                }
            }
            return Reply::json(200, json!({"partialSuccess": {}}));
        }
        if let Some(id) = path.strip_prefix("/api/traces/") {
            let store = spans.lock().unwrap();
            let found: Vec<Value> = store
                .iter()
                .filter(|(t, _, at)| t == id && at.elapsed() >= store_delay)
                .map(|(t, s, _)| json!({"traceID": t, "spanID": s, "operationName": "verify", "references": [],
                    "startTime": 0, "duration": 1000, "tags": [], "logs": [], "processID": "p1", "warnings": null}))
                .collect();
            if found.is_empty() {
                return Reply::json(
                    404,
                    json!({"data": null, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": 404, "msg": "trace not found"}]}),
                );
            }
            return Reply::json(
                200,
                json!({"data": [{"traceID": id, "spans": found,
                "processes": {"p1": {"serviceName": "stackctl-verify", "tags": []}}, "warnings": null}],
                "total": 0, "limit": 0, "offset": 0, "errors": null}),
            );
        }
        Reply::not_found()
    })
}

/// Elasticsearch `/_cluster/health` behind basic auth as `elastic`.
pub fn elasticsearch(password: &str, status: &'static str) -> Handler {
    let password = password.to_string();
    Arc::new(move |r: &Request| {
        if r.basic_auth().as_deref() != Some(&format!("elastic:{password}")) {
            return Reply::json(
                401,
                json!({"error": {"root_cause": [{"type": "security_exception",
                "reason": "unable to authenticate user [elastic] for REST request [/_cluster/health]"}],
                "type": "security_exception", "reason": "unable to authenticate user [elastic] for REST request [/_cluster/health]"}, "status": 401}),
            );
        }
        match r.path() {
            "/_cluster/health" => Reply::json(
                200,
                json!({"cluster_name": "docker-cluster", "status": status, "timed_out": false,
                "number_of_nodes": 1, "number_of_data_nodes": 1, "active_primary_shards": 3, "active_shards": 3,
                "relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 0, "active_shards_percent_as_number": 100.0}),
            ),
            _ => Reply::not_found(),
        }
    })
}

/// Kibana `/api/status` (security on: basic auth required).
pub fn kibana(password: &str, level: &'static str) -> Handler {
    let password = password.to_string();
    Arc::new(move |r: &Request| {
        if r.basic_auth().as_deref() != Some(&format!("elastic:{password}")) {
            return Reply::json(
                401,
                json!({"statusCode": 401, "error": "Unauthorized", "message": "Unauthorized"}),
            );
        }
        match r.path() {
            "/api/status" => Reply::json(
                200,
                json!({"name": "kibana", "version": {"number": "9.1.0"},
                "status": {"overall": {"level": level, "summary": if level == "available" { "All services and plugins are available" } else { "1 service is degraded: elasticsearch" }},
                           "core": {}, "plugins": {}}}),
            ),
            _ => Reply::not_found(),
        }
    })
}

/// Logstash's node info API on `/`.
pub fn logstash() -> Handler {
    Arc::new(|r: &Request| match r.path() {
        "/" => Reply::json(
            200,
            json!({"host": "logstash", "version": "9.1.0", "http_address": "0.0.0.0:9600", "status": "green"}),
        ),
        _ => Reply::not_found(),
    })
}

/// Answers 200 on every path: readiness of Alloy/Promtail/cAdvisor and the
/// exporters' own health paths; `/metrics` is valid exposition text.
pub fn plain() -> Handler {
    Arc::new(|r: &Request| match r.path() {
        "/metrics" => Reply::text(200, METRICS),
        _ => Reply::text(200, "ok\n"),
    })
}

/// Prometheus's HTTP API, consistent with a rendered config: it reports that
/// config as loaded, every static target up, every rule group of the spec
/// evaluated, one Alertmanager, and one series for any query.
pub fn prometheus(config: String, groups: Vec<(String, Vec<String>)>) -> Handler {
    let parsed = stackctl::verify::parse_yaml(&config).unwrap_or(Value::Null);
    let mut active = Vec::new();
    for job in parsed["scrape_configs"].as_array().into_iter().flatten() {
        let name = job["job_name"].as_str().unwrap_or("");
        for sc in job["static_configs"].as_array().into_iter().flatten() {
            for t in sc["targets"].as_array().into_iter().flatten() {
                let t = t.as_str().unwrap_or("");
                active.push(json!({"discoveredLabels": {"__address__": t, "job": name}, "labels": {"instance": t, "job": name},
                    "scrapePool": name, "scrapeUrl": format!("http://{t}/metrics"), "lastError": "", "health": "up"}));
            }
        }
    }
    let groups: Vec<Value> = groups
        .iter()
        .map(|(g, rules)| json!({"name": g, "file": "/etc/prometheus/rules/x.yml",
            "rules": rules.iter().map(|r| json!({"name": r, "health": "ok", "type": "recording"})).collect::<Vec<_>>()}))
        .collect();
    let ok = |data: Value| Reply::json(200, json!({"status": "success", "data": data}));
    Arc::new(move |r: &Request| match r.path() {
        "/-/healthy" => Reply::text(200, "Prometheus Server is Healthy.\n"),
        "/-/ready" => Reply::text(200, "Prometheus Server is Ready.\n"),
        "/metrics" => Reply::text(200, METRICS),
        "/api/v1/status/config" => ok(json!({"yaml": config})),
        "/api/v1/status/runtimeinfo" => ok(json!({"reloadConfigSuccess": true})),
        "/api/v1/targets" => ok(json!({"activeTargets": active, "droppedTargets": []})),
        "/api/v1/rules" => ok(json!({"groups": groups})),
        "/api/v1/alertmanagers" => ok(
            json!({"activeAlertmanagers": [{"url": "http://alertmanager:9093/api/v2/alerts"}], "droppedAlertmanagers": []}),
        ),
        "/api/v1/query" => ok(
            json!({"resultType": "vector", "result": [{"metric": {"job": "x"}, "value": [0, "1"]}]}),
        ),
        p if p.starts_with("/api/v1/label/") => ok(json!(["x"])),
        _ => Reply::not_found(),
    })
}

/// Alertmanager's v2 API reporting `config` as loaded.
pub fn alertmanager(config: String, receivers: Vec<String>) -> Handler {
    Arc::new(move |r: &Request| match r.path() {
        "/-/healthy" | "/-/ready" => Reply::text(200, "OK"),
        "/metrics" => Reply::text(200, METRICS),
        "/api/v2/status" => Reply::json(
            200,
            json!({"cluster": {"name": "01H", "peers": [], "status": "disabled"},
            "config": {"original": config}, "uptime": "2026-01-01T00:00:00Z", "versionInfo": {"version": "0.25.0"}}),
        ),
        "/api/v2/receivers" => Reply::json(
            200,
            Value::Array(receivers.iter().map(|n| json!({"name": n})).collect()),
        ),
        _ => Reply::not_found(),
    })
}

/// Wraps a handler so every answer comes after `delay` (a realistic latency).
pub fn slow(handler: Handler, delay: Duration) -> Handler {
    Arc::new(move |r: &Request| handler(r).delayed(delay))
}

/// Fake servers for every enabled component of a spec, on free ports, and
/// the `--url SERVICE.PORT=URL` arguments that point verify at them.
pub struct FakeStack {
    pub servers: Vec<FakeServer>,
    pub urls: Vec<String>,
}

impl FakeStack {
    pub fn start(dir: &std::path::Path, delay: &dyn Fn(Kind) -> Duration) -> FakeStack {
        let (stack, deployment) = load(dir);
        let secret = |name: &str| -> String {
            let file = stackctl::check::files::secret_file(&stack, name);
            std::fs::read_to_string(dir.join(file))
                .unwrap_or_default()
                .trim_end()
                .to_string()
        };
        let mut servers = Vec::new();
        let mut urls = Vec::new();
        for kind in stack.components.enabled_kinds() {
            let handler: Handler = match kind {
                Kind::Prometheus => prometheus(
                    deployment
                        .files
                        .get("prometheus/prometheus.yml")
                        .cloned()
                        .unwrap_or_default(),
                    stack
                        .rules
                        .values()
                        .flatten()
                        .map(|g| {
                            (
                                g.name.clone(),
                                g.rules.iter().map(|r| r.name().to_string()).collect(),
                            )
                        })
                        .collect(),
                ),
                Kind::Alertmanager => alertmanager(
                    deployment
                        .files
                        .get("alertmanager/alertmanager.yml")
                        .cloned()
                        .unwrap_or_default(),
                    stack
                        .alerting
                        .iter()
                        .flat_map(|a| a.receivers.iter().map(|r| r.name.clone()))
                        .collect(),
                ),
                Kind::Grafana => grafana(
                    &secret(
                        stack
                            .components
                            .grafana
                            .as_ref()
                            .and_then(|g| g.admin_password_secret.as_deref())
                            .unwrap_or("grafana_admin_password"),
                    ),
                    stackctl::check::dashboards::effective_datasources(&stack)
                        .into_iter()
                        .map(|d| Datasource {
                            uid: d.uid,
                            name: d.name,
                            kind: d.kind.as_str().into(),
                            healthy: true,
                        })
                        .collect(),
                    stack
                        .dashboards
                        .iter()
                        .map(|d| Dashboard {
                            uid: d.uid.clone(),
                            title: dashboard_title(&deployment, &d.uid),
                            provisioned: true,
                        })
                        .collect(),
                ),
                Kind::Loki => loki(),
                Kind::Jaeger => jaeger(Duration::ZERO),
                Kind::Elasticsearch => elasticsearch(
                    &secret(
                        stack
                            .components
                            .elasticsearch
                            .as_ref()
                            .and_then(|e| e.password_secret.as_deref())
                            .unwrap_or("elastic_password"),
                    ),
                    "green",
                ),
                Kind::Kibana => kibana(
                    &secret(
                        stack
                            .components
                            .elasticsearch
                            .as_ref()
                            .and_then(|e| e.password_secret.as_deref())
                            .unwrap_or("elastic_password"),
                    ),
                    "available",
                ),
                Kind::Logstash => logstash(),
                _ => plain(),
            };
            let handler = slow(handler, delay(kind));
            for port in kind.info().ports.iter().filter(|p| !p.udp) {
                let server = FakeServer::on(
                    std::net::TcpListener::bind("127.0.0.1:0").expect("bind"),
                    handler.clone(),
                );
                urls.push(format!("{}.{}={}", kind.service(), port.name, server.url()));
                servers.push(server);
            }
        }
        FakeStack { servers, urls }
    }

    /// `--url` arguments for the command line.
    pub fn args(&self) -> Vec<String> {
        self.urls
            .iter()
            .flat_map(|u| ["--url".to_string(), u.clone()])
            .collect()
    }
}

fn dashboard_title(deployment: &stackctl::plan::Deployment, uid: &str) -> String {
    deployment
        .files
        .iter()
        .find(|(p, _)| p.ends_with(&format!("/{uid}.json")))
        .and_then(|(_, t)| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| v["title"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The spec and its plan, as verify sees them.
pub fn load(dir: &std::path::Path) -> (Stack, stackctl::plan::Deployment) {
    let loaded =
        stackctl::load::load_file(&dir.join("stack.yaml"), "stack.yaml").expect("spec loads");
    let stack = stackctl::resolve::Resolved::from_loaded(&loaded).expect("spec is valid");
    let inputs = stackctl::commands::render::read_inputs(&stack, dir).expect("inputs");
    let deployment = stackctl::plan::plan(&stack, &inputs);
    (stack.stack().clone(), deployment)
}
