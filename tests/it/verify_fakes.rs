//! `stackctl verify` against stand-ins for Grafana, Loki, Jaeger,
//! Elasticsearch and Kibana (none has a package on this machine). The fakes
//! answer with the shapes these services document; see tests/support/fakes.rs.

use crate::common;
use crate::support;

use common::{path_str, run, spec_dir};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::fakes::{self, Dashboard, Datasource, FakeStack};
use support::{FakeServer, Reply};

const SPEC: &str = r#"stackctl: 1
name: fakes
secrets:
  grafana_admin_password: {generate: true}
  grafana_secret_key: {generate: true}
  elastic_password: {generate: true}
  kibana_system_password: {generate: true}
  elasticsearch_grafana_password: {generate: true}
  kibana_encryption_key: {generate: true}
components:
  prometheus: {}
  alertmanager: {}
  grafana: {}
  loki: {}
  alloy: {}
  jaeger: {}
  elasticsearch: {}
  kibana: {}
  node_exporter: {}
alerting:
  route: {receiver: default}
  receivers: [{name: default}]
rules:
  app:
    - name: app.rules
      rules:
        - record: job:up:sum
          expr: sum by (job) (up)
dashboards:
  - uid: overview
    title: Overview
    variables:
      - name: job
        query: label_values(up, job)
    rows:
      - panels:
          - title: Up
            type: stat
            queries: [{expr: 'sum(up{job="$job"})'}]
          - title: Request rate
            type: timeseries
            queries: [{expr: 'rate(prometheus_http_requests_total[$__rate_interval])'}]
"#;

/// A rendered spec directory (so the secret files exist).
fn stack_dir() -> tempfile::TempDir {
    let dir = spec_dir(SPEC);
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    dir
}

fn secret(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("secrets").join(name))
        .unwrap()
        .trim_end()
        .to_string()
}

fn verify_json(dir: &std::path::Path, extra: &[String]) -> (i32, Value, String) {
    let mut args: Vec<String> = ["verify", "--dir", path_str(dir), "--format", "json"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !extra.iter().any(|a| a == "--timeout") {
        args.extend(["--timeout".to_string(), "3s".to_string()]);
    }
    args.extend(extra.iter().cloned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run(&refs);
    let json: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (code, json, err)
}

fn find<'a>(report: &'a Value, service: &str, check: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == service && c["check"] == check)
        .unwrap_or_else(|| panic!("no check `{check}` for {service} in {report:#}"))
}

#[test]
fn every_service_passes_against_documented_apis_with_deep_checks() {
    let _gate = common::serial::gate(module_path!());
    let dir = stack_dir();
    let stack = FakeStack::start(dir.path(), &|_| Duration::ZERO);
    // Leave Jaeger's health port to what the spec publishes (nothing).
    let mut args: Vec<String> = stack
        .urls
        .iter()
        .filter(|u| !u.starts_with("jaeger.health="))
        .flat_map(|u| ["--url".to_string(), u.clone()])
        .collect();
    args.push("--deep".into());
    let (code, report, err) = verify_json(dir.path(), &args);
    let failed: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert_eq!(failed, Vec::<&Value>::new(), "{err}");
    assert_eq!(code, 0);
    for (service, check) in [
        ("grafana", "health"),
        ("grafana", "datasource `prometheus`"),
        ("grafana", "datasource `prometheus` health"),
        ("grafana", "datasource `loki` health"),
        ("grafana", "datasource `jaeger` health"),
        ("grafana", "datasource `alertmanager` health"),
        ("grafana", "datasource `elasticsearch` health"),
        ("grafana", "dashboard `overview`"),
        ("grafana", "panel `Up` (overview)"),
        ("grafana", "panel `Request rate` (overview)"),
        ("loki", "ready"),
        ("loki", "log line pushed and queried"),
        ("alloy", "ready"),
        ("jaeger", "query api"),
        ("jaeger", "OTLP span stored and queried"),
        ("elasticsearch", "cluster health"),
        ("kibana", "status"),
        ("node-exporter", "metrics"),
        ("prometheus", "rule group `app.rules`"),
    ] {
        assert_eq!(
            find(&report, service, check)["status"],
            "pass",
            "{service} {check}"
        );
    }
    // Jaeger's health port (13133) is not published by default: verify says
    // so, and that Prometheus's scrape of Jaeger covers it.
    let health = find(&report, "jaeger", "ready");
    assert_eq!(health["status"], "skip");
    assert_eq!(
        health["message"],
        "not reachable from the host: port `health` (13133) of `jaeger` is not published; covered by Prometheus scrape job `jaeger`"
    );
}

#[test]
fn grafana_problems_are_named() {
    let _gate = common::serial::gate(module_path!());
    let dir = stack_dir();
    let password = secret(dir.path(), "grafana_admin_password");
    let ds = |uid: &str, kind: &str, healthy| Datasource {
        uid: uid.into(),
        name: format!("{}{}", kind[..1].to_uppercase(), &kind[1..]),
        kind: kind.into(),
        healthy,
    };
    let grafana = FakeServer::on(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        fakes::grafana(
            &password,
            vec![
                ds("prometheus", "prometheus", false),
                // Provisioned under the right UID but the wrong type.
                Datasource {
                    uid: "jaeger".into(),
                    name: "Jaeger".into(),
                    kind: "zipkin".into(),
                    healthy: true,
                },
                ds("alertmanager", "alertmanager", true),
                ds("elasticsearch", "elasticsearch", true),
            ],
            vec![Dashboard {
                uid: "overview".into(),
                title: "Overview".into(),
                provisioned: false,
            }],
        ),
    );
    let args = vec![
        "--only".into(),
        "grafana".into(),
        "--url".into(),
        format!("grafana={}", grafana.url()),
    ];
    let (code, report, _) = verify_json(dir.path(), &args);
    assert_eq!(code, 1);
    assert_eq!(
        find(&report, "grafana", "datasource `prometheus` health")["message"],
        "health check says ERROR: Post \"http://prometheus:9090/api/v1/query\": dial tcp: lookup prometheus: no such host"
    );
    assert_eq!(
        find(&report, "grafana", "datasource `loki`")["message"],
        "Grafana has no datasource with UID `loki`"
    );
    assert_eq!(
        find(&report, "grafana", "datasource `loki`")["hint"],
        "check grafana/provisioning/datasources and Grafana's log"
    );
    assert_eq!(
        find(&report, "grafana", "datasource `loki` health")["message"],
        "the datasource is missing"
    );
    assert_eq!(
        find(&report, "grafana", "datasource `jaeger`")["message"],
        "UID `jaeger` is a `zipkin` datasource, the spec declares `jaeger`"
    );
    assert_eq!(
        find(&report, "grafana", "dashboard `overview`")["message"],
        "`Overview` exists but was not provisioned from stackctl's files"
    );
    assert_eq!(find(&report, "grafana", "health")["status"], "pass");

    // A changed admin password: every authenticated call says why it fails.
    std::fs::write(
        dir.path().join("secrets/grafana_admin_password"),
        "not-the-password",
    )
    .unwrap();
    let (code, report, _) = verify_json(dir.path(), &args);
    assert_eq!(code, 1);
    let msg = find(&report, "grafana", "dashboard `overview`")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.ends_with("answered HTTP 401: {\"message\":\"Invalid username or password\"}"),
        "{msg}"
    );
    assert_eq!(
        find(&report, "grafana", "dashboard `overview`")["hint"],
        "verify logs in as the admin user with the password from its secret file; was it changed in Grafana?"
    );
    no_help_markup_in_messages(&report);
}

/// Hints are the `hint` field of a check, never `= help:` inside its message.
fn no_help_markup_in_messages(report: &Value) {
    for check in report["checks"].as_array().expect("checks") {
        let message = check["message"].as_str().unwrap_or_default();
        assert!(!message.contains("help:"), "{check}");
    }
}

#[test]
fn elasticsearch_red_kibana_degraded_and_a_wrong_password_fail() {
    let _gate = common::serial::gate(module_path!());
    let dir = stack_dir();
    let password = secret(dir.path(), "elastic_password");
    let es = FakeServer::on(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        fakes::elasticsearch(&password, "red"),
    );
    let kibana = FakeServer::on(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        fakes::kibana(&password, "degraded"),
    );
    let args: Vec<String> = [
        "--only",
        "elasticsearch",
        "kibana",
        "--url",
        &format!("elasticsearch={}", es.url()),
        "--url",
        &format!("kibana={}", kibana.url()),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, report, _) = verify_json(dir.path(), &args);
    assert_eq!(code, 1);
    assert_eq!(
        find(&report, "elasticsearch", "cluster health")["message"],
        format!(
            "{}/_cluster/health: cluster `docker-cluster` is `red`",
            es.url()
        )
    );
    assert_eq!(
        find(&report, "kibana", "status")["message"],
        format!(
            "{}/api/status: overall status is `degraded` 1 service is degraded: elasticsearch",
            kibana.url()
        )
    );
    std::fs::write(dir.path().join("secrets/elastic_password"), "wrong").unwrap();
    let (_, report, _) = verify_json(dir.path(), &args);
    let msg = find(&report, "elasticsearch", "cluster health")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("answered HTTP 401: {\"error\":"), "{msg}");
    assert_eq!(
        find(&report, "elasticsearch", "cluster health")["hint"],
        "the password in the secret file is not the one the service uses"
    );
    no_help_markup_in_messages(&report);
}

#[test]
fn a_span_that_never_reaches_storage_fails_within_the_timeout() {
    let _gate = common::serial::gate(module_path!());
    let dir = stack_dir();
    // Accepts spans but never makes them queryable.
    let jaeger = fakes::jaeger(Duration::from_secs(3600));
    let query = FakeServer::on(
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        jaeger.clone(),
    );
    let otlp = FakeServer::on(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), jaeger);
    let args: Vec<String> = [
        "--only",
        "jaeger",
        "--deep",
        "--timeout",
        "2s",
        "--url",
        &format!("jaeger={}", query.url()),
        "--url",
        &format!("jaeger.otlp_http={}", otlp.url()),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let started = Instant::now();
    let (code, report, _) = verify_json(dir.path(), &args);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 1);
    let msg = find(&report, "jaeger", "OTLP span stored and queried")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.starts_with("Jaeger accepted the test span but trace "),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(" was not found at {}/api/traces/", query.url())),
        "{msg}"
    );
    assert_eq!(find(&report, "jaeger", "query api")["status"], "pass");
}

#[test]
fn wait_retries_loki_until_it_is_ready() {
    let _gate = common::serial::gate(module_path!());
    let dir = stack_dir();
    // Loki answers 503 for its first second, as it does after a start.
    let started = Instant::now();
    let inner = fakes::loki();
    let handler: support::Handler = Arc::new(move |r: &support::Request| {
        if started.elapsed() < Duration::from_secs(1) {
            Reply::text(
                503,
                "Ingester not ready: waiting for 15s after being ready\n",
            )
        } else {
            inner(r)
        }
    });
    let loki = FakeServer::on(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), handler);
    let url = format!("loki={}", loki.url());
    let (code, report, _) = verify_json(
        dir.path(),
        &["--only".into(), "loki".into(), "--url".into(), url.clone()],
    );
    assert_eq!(code, 1);
    assert_eq!(
        find(&report, "loki", "ready")["message"],
        format!(
            "{}/ready answered HTTP 503: Ingester not ready: waiting for 15s after being ready",
            loki.url()
        )
    );
    let (code, report, _) = verify_json(
        dir.path(),
        &[
            "--only".into(),
            "loki".into(),
            "--deep".into(),
            "--wait".into(),
            "20s".into(),
            "--url".into(),
            url,
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        find(&report, "loki", "log line pushed and queried")["status"],
        "pass"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}
