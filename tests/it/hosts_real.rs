//! `hosts:` against a real Prometheus of both Debian generations (2.42 on
//! PATH, 3.5 in target/consumers/sid/bin) and real node-exporters standing
//! in for two remote hosts on 127.0.0.1 ports.
//!
//! Prometheus runs a copy of the rendered `prometheus.yml` in which only the
//! container paths (`/etc/prometheus/` → the stack's `prometheus/`) and its
//! own address are pointed at this host: the `file_sd_configs` read the very
//! target files `render` writes. Adding a host is a second `render`; the test
//! proves the config file did not change and that the running Prometheus (no
//! restart, no reload signal) scrapes the new host with its `host` label.
//! Then one host's exporter is stopped and `verify` must name that host.

use crate::common;
use crate::support;

use common::{Generation, path_str, require_consumer, run, spec_dir};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{Proc, http_get, reserve_port};

fn spec(version: &str, prom: u16, hosts: &[(&str, u16)]) -> String {
    let mut text = format!(
        "stackctl: 1\nname: hosts-real\ncomponents:\n  prometheus:\n    version: {version}\n    ports: {{web: {prom}}}\n    scrape_interval: 1s\nhosts:\n"
    );
    for (name, port) in hosts {
        text.push_str(&format!(
            "  {name}:\n    address: 127.0.0.1\n    labels: {{site: lab}}\n    components:\n      node_exporter:\n        ports: {{metrics: {port}}}\n"
        ));
    }
    text
}

fn render(dir: &Path) {
    let (code, _, err) = run(&["render", "--dir", path_str(dir)]);
    assert_eq!(code, 0, "render failed: {err}");
}

fn node(bin: &Path, port: u16, run_dir: &Path, name: &str) -> Proc {
    Proc::start(
        name,
        bin,
        &[
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--collector.disable-defaults".into(),
            "--collector.loadavg".into(),
        ],
        run_dir,
    )
}

/// Host label → health of the `hosts-node-exporter` job's active targets.
fn hosts_health(prom: u16) -> Vec<(String, String)> {
    let Some((200, body)) = http_get(prom, "/api/v1/targets") else {
        return Vec::new();
    };
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut out: Vec<(String, String)> = v["data"]["activeTargets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["labels"]["job"] == "hosts-node-exporter")
        .map(|t| {
            assert_eq!(
                t["labels"]["site"], "lab",
                "host labels reach the target: {t}"
            );
            (
                t["labels"]["host"].as_str().unwrap_or("").to_string(),
                t["health"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn wait_for(what: &str, procs: &[&Proc], mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(40);
    while Instant::now() < end {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let logs: Vec<String> = procs
        .iter()
        .map(|p| format!("--- {}:\n{}", p.name, p.log()))
        .collect();
    panic!("{what} not reached\n{}", logs.join("\n"));
}

fn check(g: Generation) {
    let why = "file-based discovery of remote hosts by a real Prometheus";
    let (prom_bin, node_bin, version) = match g {
        Generation::Bookworm => (
            require_consumer(g, "prometheus", why),
            require_consumer(g, "prometheus-node-exporter", why),
            "v2.42.0",
        ),
        Generation::Current => (
            require_consumer(g, "prometheus", why),
            require_consumer(g, "node-exporter", why),
            "v3.5.0",
        ),
    };
    let (Some(prom_bin), Some(node_bin)) = (prom_bin, node_bin) else {
        return;
    };
    let (prom, p1, p2) = (
        reserve_port().release(),
        reserve_port().release(),
        reserve_port().release(),
    );
    let dir = spec_dir(&spec(version, prom, &[("alpha", p1)]));
    render(dir.path());
    let config_before =
        std::fs::read_to_string(dir.path().join("prometheus/prometheus.yml")).unwrap();
    assert!(config_before.contains("file_sd_configs"), "{config_before}");
    assert!(dir.path().join("hosts/alpha/docker-compose.yml").is_file());
    let run_dir = dir.path().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    let local = config_before
        .replace(
            "/etc/prometheus/",
            &format!("{}/", dir.path().join("prometheus").display()),
        )
        .replace("prometheus:9090", &format!("127.0.0.1:{prom}"));
    std::fs::write(run_dir.join("prometheus.yml"), local).unwrap();
    let n1 = node(&node_bin, p1, &run_dir, "node-alpha");
    let mut n2 = node(&node_bin, p2, &run_dir, "node-beta");
    let prometheus = Proc::start(
        "prometheus",
        &prom_bin,
        &[
            format!("--config.file={}", run_dir.join("prometheus.yml").display()),
            format!("--storage.tsdb.path={}", run_dir.join("tsdb").display()),
            format!("--web.listen-address=127.0.0.1:{prom}"),
        ],
        &run_dir,
    );
    wait_for("host alpha up", &[&prometheus, &n1], || {
        hosts_health(prom) == vec![("alpha".to_string(), "up".to_string())]
    });
    // A second host: render again, nothing else.
    std::fs::write(
        dir.path().join("stack.yaml"),
        spec(version, prom, &[("alpha", p1), ("beta", p2)]),
    )
    .unwrap();
    render(dir.path());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("prometheus/prometheus.yml")).unwrap(),
        config_before,
        "adding a host does not change prometheus.yml"
    );
    assert!(dir.path().join("hosts/beta/docker-compose.yml").is_file());
    wait_for(
        "host beta discovered and up without a restart",
        &[&prometheus, &n2],
        || {
            hosts_health(prom)
                == vec![
                    ("alpha".to_string(), "up".to_string()),
                    ("beta".to_string(), "up".to_string()),
                ]
        },
    );
    // Cut one host off: verify names it.
    n2.stop();
    wait_for("host beta seen down", &[&prometheus], || {
        hosts_health(prom).contains(&("beta".to_string(), "down".to_string()))
    });
    let (code, out, err) = run(&[
        "verify",
        "--dir",
        path_str(dir.path()),
        "--format",
        "json",
        "--timeout",
        "5s",
        "--only",
        "prometheus",
    ]);
    assert_ne!(code, 0, "verify passes with a host down:\n{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let job = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "scrape job `hosts-node-exporter`")
        .unwrap_or_else(|| panic!("no hosts job check: {report:#}"));
    assert_eq!(job["status"], "fail", "{job}");
    let message = job["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("host `beta`: 127.0.0.1:{p2}")),
        "{message}"
    );
    assert!(!message.contains("host `alpha`"), "{message}");
    drop(n1);
}

#[test]
fn prometheus_discovers_added_hosts_and_verify_names_a_cut_one_bookworm() {
    check(Generation::Bookworm);
}

#[test]
fn prometheus_discovers_added_hosts_and_verify_names_a_cut_one_current() {
    check(Generation::Current);
}
