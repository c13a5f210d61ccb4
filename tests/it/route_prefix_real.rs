//! `external_url` with a path: Prometheus and Alertmanager then serve every
//! endpoint under that path (the route prefix), so each readiness check must
//! ask `<prefix>/-/ready`. Rendered for Compose (the healthchecks `up` also
//! runs itself through the exec API) and for Kubernetes (`routePrefix`, which
//! the operator's probes follow), then checked against the real Prometheus
//! 2.42 and Alertmanager 0.25 of the Debian packages started with the very
//! `--web.external-url` the Compose file gives them, and with `verify`.

use crate::common;
use crate::support;

use common::{path_str, require_tool, run, spec_dir};
use serde_json::Value;
use std::time::Duration;
use support::{Proc, http_get, reserve_port, wait_ready};

fn spec(prom: u16, am: u16) -> String {
    format!(
        r#"stackctl: 1
name: prefixed
components:
  prometheus:
    version: v2.42.0
    ports: {{web: {prom}}}
    external_url: https://mon.example.com/prom/
  alertmanager:
    version: v0.25.0
    ports: {{web: {am}}}
    external_url: https://mon.example.com/team/am
alerting:
  route: {{receiver: default}}
  receivers:
    - name: default
      webhook: [{{url: "http://127.0.0.1:9/hook"}}]
"#
    )
}

fn compose(dir: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(dir.join("docker-compose.monitoring.yml")).unwrap();
    crate::kubernetes_support::doc(&text)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rendered_healthchecks_probe_ready_under_the_route_prefix() {
    let dir = spec_dir(&spec(19090, 19093));
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render failed: {err}");
    let c = compose(dir.path());
    let services = &c["services"];
    assert_eq!(
        strings(&services["prometheus"]["healthcheck"]["test"])
            .last()
            .unwrap(),
        "http://localhost:9090/prom/-/ready"
    );
    assert_eq!(
        strings(&services["alertmanager"]["healthcheck"]["test"])
            .last()
            .unwrap(),
        "http://localhost:9093/team/am/-/ready"
    );
    // Prometheus scrapes both under their prefixes and sends alerts to it.
    let prom: Value = crate::kubernetes_support::doc(
        &std::fs::read_to_string(dir.path().join("prometheus/prometheus.yml")).unwrap(),
    );
    let job = |name: &str| {
        prom["scrape_configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["job_name"] == name)
            .unwrap_or_else(|| panic!("no job {name}: {prom:#?}"))
            .clone()
    };
    assert_eq!(job("prometheus")["metrics_path"], "/prom/metrics");
    assert_eq!(job("alertmanager")["metrics_path"], "/team/am/metrics");
    assert_eq!(
        prom["alerting"]["alertmanagers"][0]["path_prefix"],
        "/team/am"
    );

    // Kubernetes: the operator probes `<routePrefix>/-/ready`.
    let k = spec_dir(&spec(19090, 19093));
    let (code, _, err) = run(&[
        "render",
        "--dir",
        path_str(k.path()),
        "--target",
        "kubernetes",
    ]);
    assert_eq!(code, 0, "kubernetes render failed: {err}");
    let values: Value = crate::kubernetes_support::doc(
        &std::fs::read_to_string(k.path().join("kubernetes/values.yaml")).unwrap(),
    );
    assert_eq!(
        values["prometheus"]["prometheusSpec"]["routePrefix"],
        "/prom"
    );
    assert_eq!(
        values["alertmanager"]["alertmanagerSpec"]["routePrefix"],
        "/team/am"
    );
}

#[test]
fn real_prometheus_and_alertmanager_answer_the_prefixed_checks() {
    let why = "probe real Prometheus and Alertmanager under a route prefix";
    let Some(prometheus) = require_tool("prometheus", why) else {
        return;
    };
    let Some(alertmanager) = require_tool("prometheus-alertmanager", why) else {
        return;
    };
    let (prom_port, am_port) = (reserve_port(), reserve_port());
    let dir = spec_dir(&spec(prom_port.port(), am_port.port()));
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render failed: {err}");
    let c = compose(dir.path());
    let run_dir = tempfile::tempdir().unwrap();
    let r = run_dir.path();
    // Each process gets the flags the Compose file gives it, paths and the
    // listen address adapted to the host.
    let flags = |service: &str, keep: &[&str]| -> Vec<String> {
        strings(&c["services"][service]["command"])
            .into_iter()
            .filter(|a| keep.iter().any(|k| a.starts_with(k)))
            .collect()
    };
    let mut prom_args = flags("prometheus", &["--web.external-url="]);
    assert_eq!(
        prom_args,
        ["--web.external-url=https://mon.example.com/prom/"]
    );
    prom_args.extend([
        format!(
            "--config.file={}",
            dir.path().join("prometheus/prometheus.yml").display()
        ),
        format!("--storage.tsdb.path={}", r.join("data").display()),
        format!("--web.listen-address=127.0.0.1:{}", prom_port.release()),
    ]);
    let p = Proc::start("prometheus", &prometheus, &prom_args, r);
    let mut am_args = flags("alertmanager", &["--web.external-url=", "--cluster."]);
    am_args.extend([
        format!(
            "--config.file={}",
            dir.path().join("alertmanager/alertmanager.yml").display()
        ),
        format!("--storage.path={}", r.join("am").display()),
        format!("--web.listen-address=127.0.0.1:{}", am_port.release()),
    ]);
    let a = Proc::start("alertmanager", &alertmanager, &am_args, r);

    for (service, proc_, port) in [
        ("prometheus", &p, prom_args_port(&prom_args)),
        ("alertmanager", &a, prom_args_port(&am_args)),
    ] {
        let url = strings(&c["services"][service]["healthcheck"]["test"])
            .last()
            .unwrap()
            .clone();
        let path = url.split_once(":90").unwrap().1;
        let path = &path[path.find('/').unwrap()..];
        wait_ready(port, path, Duration::from_secs(30), proc_);
        // The root path is not served: a check there could never pass.
        let root = http_get(port, "/-/ready").map(|(s, _)| s);
        assert_ne!(root, Some(200), "{service} answers /-/ready at the root");
    }

    // verify asks the same paths (and the APIs under them).
    let (_, out, err) = run(&[
        "verify",
        "--dir",
        path_str(dir.path()),
        "--format",
        "json",
        "--timeout",
        "5s",
    ]);
    let report: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    for service in ["prometheus", "alertmanager"] {
        for check in ["healthy", "ready"] {
            let found = report["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["service"] == service && c["check"] == check)
                .unwrap_or_else(|| panic!("no {service} {check}: {report:#}"));
            assert_eq!(found["status"], "pass", "{service} {check}: {found:#}");
        }
    }
}

/// The port of a `--web.listen-address=127.0.0.1:PORT` argument.
fn prom_args_port(args: &[String]) -> u16 {
    args.iter()
        .find_map(|a| a.strip_prefix("--web.listen-address=127.0.0.1:"))
        .and_then(|p| p.parse().ok())
        .expect("listen address")
}
