//! `stackctl verify` against real Prometheus 2.42, Alertmanager 0.25,
//! node-exporter, blackbox-exporter and pushgateway processes from the
//! Debian packages, started here on 127.0.0.1 ephemeral ports with the
//! configs stackctl renders.
//!
//! How the rendered configs run outside containers: the test spec publishes
//! every component on a free port and declares its scrape jobs with
//! `127.0.0.1:PORT` targets (`scrape: false` on the components), so the
//! rendered `prometheus.yml` is used as is. The one container address left,
//! the Alertmanager target `alertmanager:9093`, is rewritten to
//! `127.0.0.1:PORT` in a copy Prometheus runs from (verify does not compare
//! Alertmanager addresses; "alertmanager discovered" checks them live).
//! Grafana has no package here: a fake answers its API (tests/support/fakes.rs).

use crate::common;
use crate::support;

use common::{path_str, require_tool, run, spec_dir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::fakes::{self, Dashboard, Datasource};
use support::{FakeServer, Proc, reserve_port, wait_ready};

struct Ports {
    prometheus: u16,
    alertmanager: u16,
    node: u16,
    blackbox: u16,
    pushgateway: u16,
    grafana: u16,
}

fn spec(p: &Ports, extra_jobs: &str, extra_rules: &str, extra_dashboards: &str) -> String {
    format!(
        r#"stackctl: 1
name: verify-real
secrets:
  grafana_admin_password: {{generate: true}}
  grafana_secret_key: {{generate: true}}
components:
  prometheus:
    version: v2.42.0
    ports: {{web: {prom}}}
    scrape: false
    scrape_interval: 1s
    evaluation_interval: 1s
  alertmanager:
    version: v0.25.0
    ports: {{web: {am}}}
    scrape: false
  grafana:
    ports: {{web: {grafana}}}
    scrape: false
  node_exporter:
    ports: {{metrics: {node}}}
    scrape: false
  blackbox_exporter:
    ports: {{http: {bb}}}
    scrape: false
  pushgateway:
    ports: {{web: {pg}}}
    scrape: false
scrape_jobs:
  - name: prometheus
    targets: ["127.0.0.1:{prom}"]
  - name: alertmanager
    targets: ["127.0.0.1:{am}"]
  - name: node
    targets: ["127.0.0.1:{node}"]
  - name: blackbox
    targets: ["127.0.0.1:{bb}"]
  - name: pushgateway
    honor_labels: true
    targets: ["127.0.0.1:{pg}"]
{extra_jobs}
rules:
  test:
    - name: test.rules
      rules:
        - record: job:up:sum
          expr: sum by (job) (up)
        - alert: TargetDown
          expr: up == 0
          for: 1m
{extra_rules}
alerting:
  route:
    receiver: default
  receivers:
    - name: default
      webhook:
        - url: http://127.0.0.1:9/hook
dashboards:
  - uid: overview
    title: Overview
    variables:
      - name: job
        query: label_values(up, job)
    rows:
      - panels:
          - title: Targets up
            type: stat
            queries: [{{expr: 'sum(up{{job="$job"}})'}}]
          - title: HTTP requests
            type: timeseries
            queries: [{{expr: 'sum(rate(prometheus_http_requests_total[$__rate_interval]))'}}]
{extra_dashboards}"#,
        prom = p.prometheus,
        am = p.alertmanager,
        grafana = p.grafana,
        node = p.node,
        bb = p.blackbox,
        pg = p.pushgateway,
    )
}

fn rendered(text: &str) -> tempfile::TempDir {
    let dir = spec_dir(text);
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render failed: {err}");
    dir
}

fn verify(dir: &Path, args: &[&str]) -> (i32, Value, Duration) {
    let mut all = vec![
        "verify",
        "--dir",
        path_str(dir),
        "--format",
        "json",
        "--timeout",
        "5s",
    ];
    all.extend_from_slice(args);
    let started = Instant::now();
    let (code, out, err) = run(&all);
    let report =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (code, report, started.elapsed())
}

fn check<'a>(report: &'a Value, service: &str, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == service && c["check"] == name)
        .unwrap_or_else(|| panic!("no check `{name}` for {service}: {report:#}"))
}

fn failures(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| format!("{} {}: {}", c["service"], c["check"], c["message"]))
        .collect()
}

/// Runs verify until `done` accepts the report (Prometheus sees a change only
/// at its next scrape or evaluation), or panics after `within`.
fn verify_until(
    dir: &Path,
    args: &[&str],
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let end = Instant::now() + within;
    loop {
        let (_, report, _) = verify(dir, args);
        if done(&report) {
            return report;
        }
        assert!(
            Instant::now() < end,
            "condition not reached within {within:?}: {report:#}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

struct Tools {
    prometheus: PathBuf,
    alertmanager: PathBuf,
    node: PathBuf,
    blackbox: PathBuf,
    pushgateway: PathBuf,
}

fn tools() -> Option<Tools> {
    let why = "verify against real Prometheus, Alertmanager and exporters";
    Some(Tools {
        prometheus: require_tool("prometheus", why)?,
        alertmanager: require_tool("prometheus-alertmanager", why)?,
        node: require_tool("prometheus-node-exporter", why)?,
        blackbox: require_tool("prometheus-blackbox-exporter", why)?,
        pushgateway: require_tool("prometheus-pushgateway", why)?,
    })
}

fn start_alertmanager(t: &Tools, dir: &Path, run: &Path, port: u16) -> Proc {
    let p = Proc::start(
        "alertmanager",
        &t.alertmanager,
        &[
            format!(
                "--config.file={}",
                dir.join("alertmanager/alertmanager.yml").display()
            ),
            format!("--storage.path={}", run.join("am").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--cluster.listen-address=".into(),
        ],
        run,
    );
    wait_ready(port, "/-/ready", Duration::from_secs(20), &p);
    p
}

fn start_node(t: &Tools, run: &Path, port: u16) -> Proc {
    let p = Proc::start(
        "node-exporter",
        &t.node,
        &[format!("--web.listen-address=127.0.0.1:{port}")],
        run,
    );
    wait_ready(port, "/metrics", Duration::from_secs(20), &p);
    p
}

#[test]
fn verify_proves_a_real_stack_and_names_what_breaks() {
    let _gate = common::serial::gate(module_path!());
    let Some(t) = tools() else { return };
    // Each port stays bound until its server takes it over (see `Reserved`).
    let held = [(); 6].map(|_| reserve_port());
    let ports = Ports {
        prometheus: held[0].port(),
        alertmanager: held[1].port(),
        node: held[2].port(),
        blackbox: held[3].port(),
        pushgateway: held[4].port(),
        grafana: held[5].port(),
    };
    let [
        prometheus_port,
        alertmanager_port,
        node_port,
        blackbox_port,
        pushgateway_port,
        grafana_port,
    ] = held;
    let dir = rendered(&spec(&ports, "", "", ""));
    let run_dir = tempfile::tempdir().unwrap();
    let run = run_dir.path();

    // Prometheus runs from a copy of the rendered config with the one
    // container address (the Alertmanager) pointed at the host.
    let prom_dir = run.join("prometheus");
    std::fs::create_dir_all(prom_dir.join("rules")).unwrap();
    let config = std::fs::read_to_string(dir.path().join("prometheus/prometheus.yml")).unwrap();
    assert!(config.contains("- alertmanager:9093"), "{config}");
    std::fs::write(
        prom_dir.join("prometheus.yml"),
        config.replace(
            "alertmanager:9093",
            &format!("127.0.0.1:{}", ports.alertmanager),
        ),
    )
    .unwrap();
    for entry in std::fs::read_dir(dir.path().join("prometheus/rules")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), prom_dir.join("rules").join(entry.file_name())).unwrap();
    }
    let password =
        std::fs::read_to_string(dir.path().join("secrets/grafana_admin_password")).unwrap();
    let ds = |uid: &str, name: &str| Datasource {
        uid: uid.into(),
        name: name.into(),
        kind: uid.into(),
        healthy: true,
    };
    let _grafana = FakeServer::on(
        grafana_port.listener(),
        fakes::grafana(
            password.trim_end(),
            vec![
                ds("prometheus", "Prometheus"),
                ds("alertmanager", "Alertmanager"),
            ],
            vec![
                Dashboard {
                    uid: "overview".into(),
                    title: "Overview".into(),
                    provisioned: true,
                },
                Dashboard {
                    uid: "empty".into(),
                    title: "Empty".into(),
                    provisioned: true,
                },
            ],
        ),
    );

    prometheus_port.release();
    let prometheus = Proc::start(
        "prometheus",
        &t.prometheus,
        &[
            format!(
                "--config.file={}",
                prom_dir.join("prometheus.yml").display()
            ),
            format!("--storage.tsdb.path={}", run.join("data").display()),
            format!("--web.listen-address=127.0.0.1:{}", ports.prometheus),
        ],
        run,
    );
    let mut alertmanager = start_alertmanager(&t, dir.path(), run, alertmanager_port.release());
    let mut node = start_node(&t, run, node_port.release());
    blackbox_port.release();
    let _blackbox = Proc::start(
        "blackbox",
        &t.blackbox,
        &[
            format!(
                "--config.file={}",
                dir.path().join("blackbox/blackbox.yml").display()
            ),
            format!("--web.listen-address=127.0.0.1:{}", ports.blackbox),
        ],
        run,
    );
    pushgateway_port.release();
    let _pushgateway = Proc::start(
        "pushgateway",
        &t.pushgateway,
        &[format!(
            "--web.listen-address=127.0.0.1:{}",
            ports.pushgateway
        )],
        run,
    );

    // 1. All green: `--wait` replaces any sleep while Prometheus discovers
    //    its targets and evaluates its rules for the first time.
    let (code, report, took) = verify(dir.path(), &["--wait", "60s", "--deep"]);
    assert_eq!(
        failures(&report),
        Vec::<String>::new(),
        "prometheus log:\n{}",
        prometheus.log()
    );
    assert_eq!(code, 0);
    assert!(took < Duration::from_secs(60));
    for (service, name) in [
        ("prometheus", "healthy"),
        ("prometheus", "ready"),
        ("prometheus", "config loaded"),
        ("prometheus", "scrape job `prometheus`"),
        ("prometheus", "scrape job `alertmanager`"),
        ("prometheus", "scrape job `node`"),
        ("prometheus", "scrape job `blackbox`"),
        ("prometheus", "scrape job `pushgateway`"),
        ("prometheus", "rule group `test.rules`"),
        ("prometheus", "alertmanager discovered"),
        ("alertmanager", "healthy"),
        ("alertmanager", "config loaded"),
        ("alertmanager", "receivers"),
        ("grafana", "dashboard `overview`"),
        ("grafana", "panel `Targets up` (overview)"),
        ("grafana", "panel `HTTP requests` (overview)"),
        ("node-exporter", "metrics"),
        ("blackbox-exporter", "ready"),
        ("blackbox-exporter", "metrics"),
        ("pushgateway", "ready"),
        ("pushgateway", "metrics"),
    ] {
        assert_eq!(
            check(&report, service, name)["status"],
            "pass",
            "{service} {name}"
        );
    }
    assert_eq!(
        check(&report, "prometheus", "scrape job `node`")["message"],
        "1/1 targets up"
    );
    assert_eq!(
        check(&report, "prometheus", "alertmanager discovered")["message"],
        format!("http://127.0.0.1:{}/api/v2/alerts", ports.alertmanager)
    );

    // 2. `--url` reaches a Prometheus the spec publishes elsewhere.
    let moved = spec(&ports, "", "", "").replace(
        &format!("ports: {{web: {}}}", ports.prometheus),
        "ports: {web: 1}",
    );
    let moved_dir = rendered(&moved);
    let (code, report, _) = verify(moved_dir.path(), &["--only", "prometheus"]);
    assert_eq!(code, 1);
    assert!(
        check(&report, "prometheus", "ready")["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot connect to http://127.0.0.1:1/-/ready: ")
    );
    let url = format!("prometheus=http://127.0.0.1:{}", ports.prometheus);
    let (code, report, _) = verify(moved_dir.path(), &["--only", "prometheus", "--url", &url]);
    assert_eq!((code, failures(&report)), (0, Vec::<String>::new()));

    // 3. A target killed: verify names it and Prometheus's scrape error.
    node.stop();
    let report = verify_until(
        dir.path(),
        &["--only", "prometheus", "node-exporter"],
        Duration::from_secs(20),
        |r| check(r, "prometheus", "scrape job `node`")["status"] == "fail",
    );
    let down = check(&report, "prometheus", "scrape job `node`")["message"]
        .as_str()
        .unwrap()
        .to_string();
    let target = format!("127.0.0.1:{}", ports.node);
    assert!(
        down.starts_with(&format!("{target} (http://{target}/metrics) is down: ")),
        "{down}"
    );
    assert!(down.contains("connection refused"), "{down}");
    assert_eq!(
        check(&report, "node-exporter", "metrics")["message"],
        format!("cannot connect to http://{target}/metrics: connection refused")
    );
    assert_eq!(
        check(&report, "prometheus", "scrape job `prometheus`")["status"],
        "pass"
    );

    // 4. Alertmanager stopped.
    alertmanager.stop();
    let (code, report, _) = verify(dir.path(), &["--only", "alertmanager"]);
    assert_eq!(code, 1);
    for name in ["healthy", "ready", "config loaded", "receivers"] {
        let msg = check(&report, "alertmanager", name)["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            msg.starts_with(&format!(
                "cannot connect to http://127.0.0.1:{}/",
                ports.alertmanager
            )),
            "{msg}"
        );
        assert!(msg.ends_with(": connection refused"), "{msg}");
    }

    // 5. `--wait` succeeds when services come up late, with no sleep.
    let (t2, dir2, run2) = (
        tools().unwrap(),
        dir.path().to_path_buf(),
        run.to_path_buf(),
    );
    // Their old ports are not held while they are down (the checks above
    // need "connection refused"), so another process could take one in
    // between; the restart then fails loudly in `wait_ready`, never passes.
    let (am_port, node_port) = (ports.alertmanager, ports.node);
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        (
            start_alertmanager(&t2, &dir2, &run2, am_port),
            start_node(&t2, &run2, node_port),
        )
    });
    let (code, report, took) = verify(dir.path(), &["--wait", "60s"]);
    let (_alertmanager, _node) = late.join().unwrap();
    assert_eq!(failures(&report), Vec::<String>::new());
    assert_eq!(code, 0);
    assert!(
        took >= Duration::from_secs(3),
        "passed before the services were back: {took:?}"
    );
    assert!(
        check(&report, "alertmanager", "healthy")["attempts"]
            .as_u64()
            .unwrap()
            > 1
    );

    // 6. A spec that no longer matches what runs: a job Prometheus has not
    //    loaded, and a panel whose query returns nothing.
    let drifted = spec(
        &ports,
        "  - name: extra\n    targets: [\"127.0.0.1:1\"]\n",
        "",
        "  - uid: empty\n    title: Empty\n    rows:\n      - panels:\n          - title: Nothing\n            type: stat\n            queries: [{expr: 'absent_metric_for_verify_test'}]\n",
    );
    let drifted_dir = rendered(&drifted);
    let (code, report, _) = verify(
        drifted_dir.path(),
        &["--only", "prometheus", "grafana", "--deep"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        check(&report, "prometheus", "config loaded")["message"],
        "the running config differs from the rendered prometheus/prometheus.yml: scrape job `extra` is not loaded"
    );
    assert_eq!(
        check(&report, "prometheus", "config loaded")["hint"],
        "run `stackctl render`, then restart or reload Prometheus"
    );
    assert_eq!(
        check(&report, "prometheus", "scrape job `extra`")["message"],
        "127.0.0.1:1 is not among the job's targets"
    );
    assert_eq!(
        check(&report, "grafana", "panel `Nothing` (empty)")["message"],
        "`absent_metric_for_verify_test` returned no data"
    );
    assert_eq!(
        check(&report, "grafana", "panel `Targets up` (overview)")["status"],
        "pass"
    );

    // 7. A rule that fails at evaluation: valid PromQL (promtool accepts it)
    //    that matches two series on the "one" side of a group_left.
    let broken = spec(
        &ports,
        "",
        "  broken:\n    - name: broken.rules\n      rules:\n        - record: verify:duplicate\n          expr: vector(1) + on() group_left() (vector(1) or label_replace(vector(1), \"x\", \"y\", \"\", \"\"))\n",
        "",
    );
    let broken_dir = rendered(&broken);
    std::fs::copy(
        broken_dir.path().join("prometheus/rules/broken.yml"),
        prom_dir.join("rules/broken.yml"),
    )
    .unwrap();
    prometheus.reload();
    let report = verify_until(
        broken_dir.path(),
        &["--only", "prometheus"],
        Duration::from_secs(20),
        |r| {
            check(r, "prometheus", "rule group `broken.rules`")["message"]
                .as_str()
                .unwrap()
                .contains("failed")
        },
    );
    assert_eq!(
        check(&report, "prometheus", "rule group `broken.rules`")["message"],
        "rule `verify:duplicate` failed: found duplicate series for the match group {} on the right hand-side of the operation: [{x=\"y\"}, {}];many-to-many matching not allowed: matching labels must be unique on one side"
    );
    assert_eq!(
        check(&report, "prometheus", "rule group `test.rules`")["status"],
        "pass"
    );
    assert_eq!(
        check(&report, "prometheus", "config loaded")["status"],
        "pass"
    );
}
