//! `verify --alerts` against a stack started by `stackctl up` on the real
//! Docker engine, with the sid test images (`scripts/build-test-images.sh sid`:
//! Prometheus 3.5, Alertmanager 0.33 from the Debian packages). What this adds
//! to tests/verify_alerts.rs: the Watchdog crosses the stack's own network, and
//! the error of a failed delivery is read from the Alertmanager container's
//! log through the engine (no `--alertmanager-log`).

use crate::common;

use common::{path_str, run, tools_required};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const IMAGES: [(&str, &str); 2] = [
    ("stackctl-test/prometheus", "v3.5.3"),
    ("stackctl-test/alertmanager", "v0.33.1"),
];

fn engine_and_images(test: &str) -> bool {
    let why = |what: String| {
        if tools_required() {
            panic!("{test}: {what}");
        }
        common::skipped(format!(
            "{what}; verify --alerts was not run on a real engine"
        ));
        false
    };
    if !Path::new("/var/run/docker.sock").exists() {
        return why("no Docker engine at /var/run/docker.sock".into());
    }
    for (repo, tag) in IMAGES {
        let ok = Command::new("docker")
            .args(["image", "inspect", &format!("{repo}:{tag}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return why(format!(
                "image `{repo}:{tag}` is not built (scripts/build-test-images.sh sid)"
            ));
        }
    }
    true
}

/// Removes the stack (containers, network, volumes) even when the test fails.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = run(&["down", "--dir", path_str(self.0), "--volumes"]);
    }
}

#[test]
fn watchdog_and_a_failed_delivery_through_a_stack_on_the_engine() {
    let test = "watchdog_and_a_failed_delivery_through_a_stack_on_the_engine";
    if !engine_and_images(test) {
        return;
    }
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (prom, am) = (free(), free());
    let name = format!("delivery-e2e-{}", std::process::id());
    let spec = format!(
        r#"stackctl: 1
name: {name}
components:
  prometheus:
    image: stackctl-test/prometheus
    version: v3.5.3
    ports: {{web: {prom}}}
    evaluation_interval: 1s
    extra_args: ["--rules.alert.resend-delay=1s"]
  alertmanager:
    image: stackctl-test/alertmanager
    version: v0.33.1
    ports: {{web: {am}}}
alerting:
  route:
    receiver: default
    group_wait: 1s
    group_interval: 1s
  receivers:
    - name: default
      webhook:
        # Inside the container 127.0.0.1 is Alertmanager itself: refused.
        - url: http://127.0.0.1:1/unreachable
"#
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), spec).unwrap();
    let _down = Down(dir.path());
    let (code, _, err) = run(&["up", "--dir", path_str(dir.path()), "--wait", "2m"]);
    assert_eq!(code, 0, "up: {err}");
    let (code, out, err) = run(&[
        "verify",
        "--dir",
        path_str(dir.path()),
        "--only",
        "alertmanager",
        "--alerts",
        "--live",
        "--wait",
        "1m",
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let check = |name: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["service"] == "delivery" && c["check"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no `{name}`: {report:#}"))
    };
    assert_eq!(code, 1, "{report:#}");
    let watchdog = check("watchdog arrives");
    assert_eq!(watchdog["status"], "pass", "{watchdog:#}");
    assert_eq!(check("routes to `default`")["status"], "pass");
    let delivers = check("delivers to `default`");
    let message = delivers["message"].as_str().unwrap();
    assert_eq!(delivers["status"], "fail", "{delivers:#}");
    assert!(
        message.starts_with("failed: webhook[0]: ")
            && message.contains("127.0.0.1:1")
            && message.contains("connection refused"),
        "the error from the container's log: {message}"
    );
}
