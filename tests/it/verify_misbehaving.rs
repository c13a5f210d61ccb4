//! Endpoints that hang, drip bytes, fail or talk nonsense; ports the host
//! cannot reach; command-line mistakes. Verify must finish in bounded time
//! and say exactly what is wrong.

use crate::common;
use crate::support;

use common::{path_str, run, spec_dir};
use serde_json::Value;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{FakeServer, Reply, Request};

struct Bad {
    dir: tempfile::TempDir,
    _servers: Vec<FakeServer>,
    ports: [u16; 4],
}

/// Exporters on fake servers: node-exporter hangs, blackbox drips, the
/// pushgateway fails with 500, postgres-exporter answers HTML. redis-exporter
/// and Loki publish nothing and promtail's port is internal; there is no Prometheus.
fn bad_stack() -> Bad {
    let listeners: Vec<TcpListener> = (0..4)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let spec = format!(
        "stackctl: 1\nname: bad\ncomponents:\n  node_exporter:\n    ports: {{metrics: {}}}\n  blackbox_exporter:\n    ports: {{http: {}}}\n  pushgateway:\n    ports: {{web: {}}}\n  postgres_exporter:\n    host: postgres\n    ports: {{metrics: {}}}\n  redis_exporter:\n    publish: false\n  loki:\n    publish: false\n  promtail: {{}}\n",
        ports[0], ports[1], ports[2], ports[3]
    );
    let dir = spec_dir(&spec);
    let handlers: Vec<support::Handler> = vec![
        Arc::new(|_: &Request| Reply::Hang),
        Arc::new(|_: &Request| Reply::Drip {
            every: Duration::from_millis(200),
        }),
        Arc::new(|_: &Request| Reply::text(500, "boom")),
        Arc::new(|_: &Request| Reply::text(200, "<html><body>It works!</body></html>\n")),
    ];
    let servers = listeners
        .into_iter()
        .zip(handlers)
        .map(|(l, h)| FakeServer::on(l, h))
        .collect();
    Bad {
        dir,
        _servers: servers,
        ports: [ports[0], ports[1], ports[2], ports[3]],
    }
}

fn checks(out: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["checks"].as_array().unwrap().clone()
}

fn message(list: &[Value], service: &str, check: &str) -> String {
    field(list, service, check, "message")
}

/// A check's `hint` (what to do), apart from its message.
fn hint(list: &[Value], service: &str, check: &str) -> String {
    field(list, service, check, "hint")
}

fn field(list: &[Value], service: &str, check: &str, name: &str) -> String {
    list.iter()
        .find(|c| c["service"] == service && c["check"] == check)
        .unwrap_or_else(|| panic!("no {service} {check}"))[name]
        .as_str()
        .unwrap_or_else(|| panic!("{service} {check} has no {name}"))
        .to_string()
}

#[test]
fn misbehaving_endpoints_fail_in_bounded_time_with_clear_findings() {
    let _gate = common::serial::gate(module_path!());
    let bad = bad_stack();
    let started = Instant::now();
    let (code, out, err) = run(&[
        "verify",
        "--dir",
        path_str(bad.dir.path()),
        "--format",
        "json",
        "--timeout",
        "2s",
    ]);
    let took = started.elapsed();
    assert_eq!(code, 1, "{err}");
    // Every probe runs at once: the whole run takes about one timeout.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let list = checks(&out);
    let [hang, drip, fail, garbage] = bad.ports;
    assert_eq!(
        message(&list, "node-exporter", "metrics"),
        format!("no answer from http://127.0.0.1:{hang}/metrics within 2s")
    );
    let dripped = message(&list, "blackbox-exporter", "metrics");
    assert!(
        dripped.starts_with(&format!("http://127.0.0.1:{drip}/metrics answered HTTP 200 but the body did not complete within 2s (")),
        "{dripped}"
    );
    assert_eq!(
        message(&list, "pushgateway", "ready"),
        format!("http://127.0.0.1:{fail}/-/ready answered HTTP 500: boom")
    );
    assert_eq!(
        message(&list, "postgres-exporter", "metrics"),
        format!(
            "http://127.0.0.1:{garbage}/metrics is not valid Prometheus exposition text: line 1: expected a metric name at the start of `<html><body>It works!</body></html>`"
        )
    );
    assert_eq!(
        message(&list, "redis-exporter", "metrics"),
        "not reachable from the host: `redis-exporter` publishes no ports (`components.redis_exporter.publish: false`)"
    );
    assert_eq!(
        hint(&list, "redis-exporter", "metrics"),
        "pass `--url redis-exporter=http://HOST:PORT`"
    );
    assert_eq!(
        message(&list, "promtail", "ready"),
        "not reachable from the host: port `http` (9080) of `promtail` is not published"
    );
    assert_eq!(
        hint(&list, "promtail", "ready"),
        "publish it (`components.promtail.ports.http: 9080`) or pass `--url promtail=http://HOST:PORT`"
    );
    assert_eq!(
        message(&list, "loki", "ready"),
        "not reachable from the host: `loki` publishes no ports (`components.loki.publish: false`)"
    );
    assert_eq!(
        hint(&list, "loki", "ready"),
        "pass `--url loki=http://HOST:PORT`"
    );
    // A finding without a hint has `"hint": null`.
    assert!(
        list.iter()
            .find(|c| c["service"] == "pushgateway" && c["check"] == "ready")
            .is_some_and(|c| c["hint"].is_null())
    );
    assert!(
        err.contains("verify: 10 checks, 10 failed, 0 skipped"),
        "{err}"
    );
}

#[test]
fn wait_never_outlives_its_deadline_by_more_than_a_timeout() {
    let _gate = common::serial::gate(module_path!());
    let bad = bad_stack();
    let started = Instant::now();
    let (code, out, _) = run(&[
        "verify",
        "--dir",
        path_str(bad.dir.path()),
        "--format",
        "json",
        "--timeout",
        "1s",
        "--wait",
        "3s",
        "--only",
        "node-exporter",
        "pushgateway",
    ]);
    let took = started.elapsed();
    assert_eq!(code, 1);
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(5),
        "took {took:?}"
    );
    let list = checks(&out);
    let retried = list
        .iter()
        .find(|c| c["service"] == "pushgateway" && c["check"] == "ready")
        .unwrap();
    assert!(retried["attempts"].as_u64().unwrap() > 2, "{retried}");
    // The last full attempt's reason is kept, not a cut-short one.
    let hung = message(&list, "node-exporter", "metrics");
    assert_eq!(
        hung,
        format!(
            "no answer from http://127.0.0.1:{}/metrics within 1s",
            bad.ports[0]
        )
    );
}

#[test]
fn text_table_groups_by_service_and_junit_has_a_testcase_per_check() {
    let _gate = common::serial::gate(module_path!());
    let bad = bad_stack();
    let dir = path_str(bad.dir.path());
    let (code, text, _) = run(&[
        "verify",
        "--dir",
        dir,
        "--timeout",
        "1s",
        "--only",
        "pushgateway",
        "promtail",
    ]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = text.lines().collect();
    // Services in the spec's component order, each followed by its checks.
    assert_eq!(lines[0], "promtail");
    assert!(lines[1].starts_with("  FAIL  ready "), "{text}");
    assert_eq!(
        lines[2],
        "          not reachable from the host: port `http` (9080) of `promtail` is not published"
    );
    // The hint, under the message as it always was in the table.
    assert_eq!(
        lines[3],
        "            = help: publish it (`components.promtail.ports.http: 9080`) or pass `--url promtail=http://HOST:PORT`"
    );
    let at = lines
        .iter()
        .position(|l| *l == "pushgateway")
        .expect("pushgateway section");
    assert!(lines[at + 1].starts_with("  FAIL  ready "), "{text}");
    assert_eq!(
        lines[at + 2],
        format!(
            "          http://127.0.0.1:{}/-/ready answered HTTP 500: boom",
            bad.ports[2]
        )
    );
    assert!(
        text.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("3 checks: 0 passed, 3 failed, 0 skipped in "),
        "{text}"
    );

    let (code, xml, _) = run(&[
        "verify",
        "--dir",
        dir,
        "--timeout",
        "1s",
        "--only",
        "pushgateway",
        "promtail",
        "--format",
        "junit",
    ]);
    assert_eq!(code, 1);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"stackctl verify\" tests=\"3\" failures=\"3\" skipped=\"0\""), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 3);
    assert_eq!(xml.matches("<failure ").count(), 3);
    assert!(
        xml.contains("<testsuite name=\"pushgateway\" tests=\"2\" failures=\"2\""),
        "{xml}"
    );
    assert!(xml.contains("answered HTTP 500: boom"), "{xml}");
    // The hint follows the message on a `help:` line (as in validate's
    // JUnit), never in the failure's message attribute.
    assert!(
        xml.contains("<failure message=\"not reachable from the host: port `http` (9080) of `promtail` is not published\" type=\"verify\">not reachable from the host: port `http` (9080) of `promtail` is not published&#10;help: publish it (`components.promtail.ports.http: 9080`) or pass `--url promtail=http://HOST:PORT`</failure>"),
        "{xml}"
    );
    assert!(!xml.contains("= help"), "{xml}");
}

#[test]
fn command_line_mistakes_exit_2_with_a_hint() {
    let _gate = common::serial::gate(module_path!());
    let bad = bad_stack();
    let dir = path_str(bad.dir.path());
    let cases: &[(&[&str], &str)] = &[
        (
            &["--only", "node-exportr"],
            "error: unknown service `node-exportr`\n  = help: did you mean `node-exporter`? the stack's services are `loki`, `promtail`, `node-exporter`, `blackbox-exporter`, `postgres-exporter`, `redis-exporter`, `pushgateway`\n",
        ),
        (
            &["--only", "grafana"],
            "error: `grafana` is not enabled in the spec, so there is nothing to verify\n",
        ),
        (
            &["--url", "pushgateway"],
            "error: `--url pushgateway` is not `SERVICE=URL`\n  = help: e.g. `--url prometheus=http://127.0.0.1:9090`\n",
        ),
        (
            &["--url", "pushgateway=localhost:9091"],
            "error: `--url pushgateway=localhost:9091`: `localhost:9091` is not an http:// or https:// URL\n  = help: e.g. `--url pushgateway=http://127.0.0.1:9091`\n",
        ),
        (
            &["--url", "pushgateway.admin=http://x"],
            "error: `pushgateway` has no port named `admin`\n  = help: its ports are `web`\n",
        ),
        (
            &["--timeout", "soon"],
            "error: `--timeout soon`: invalid duration `soon`\n  = help: write a duration such as `30s`, `2m` or `1m30s`\n",
        ),
        (
            &["--wait", "0s", "--timeout", "0s"],
            "error: `--timeout 0s`: the timeout must be longer than zero\n",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["verify", "--dir", dir];
        all.extend_from_slice(args);
        let (code, out, err) = run(&all);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (2, "", *expected),
            "{args:?}"
        );
    }
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["verify", "--dir", path_str(empty.path())]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error: no stack spec at "), "{err}");
}

#[test]
fn an_invalid_spec_is_reported_and_nothing_is_probed() {
    let _gate = common::serial::gate(module_path!());
    let dir =
        spec_dir("stackctl: 1\nname: x\ncomponents:\n  prometheus:\n    scrape_intervall: 15s\n");
    let (code, out, err) = run(&["verify", "--dir", path_str(dir.path())]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("unknown field `scrape_intervall`"), "{err}");
    assert!(
        err.ends_with("verify needs a valid spec to know what to check; nothing was probed\n"),
        "{err}"
    );
}
