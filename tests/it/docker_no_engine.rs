//! `stackctl up` where no working engine is needed: a Docker daemon that does
//! not answer is reported within seconds with exit 2 (stackctl cannot do its
//! job); a spec that is wrong stops `up` with exit 1 before Docker is asked.

use crate::common;

use common::{path_str, stackctl};
use std::time::{Duration, Instant};

const SPEC: &str =
    "stackctl: 1\nname: unreachable\ncomponents:\n  node_exporter:\n    version: v1.5.0\n";

fn up_with_docker_host(host: &str) -> (i32, String, Duration) {
    let dir = common::spec_dir(SPEC);
    let started = Instant::now();
    let out = stackctl()
        .args(["up", "--dir", path_str(dir.path())])
        .env("DOCKER_HOST", host)
        .output()
        .expect("stackctl runs");
    let (code, _, err) = common::decode(out);
    (code, err, started.elapsed())
}

#[test]
fn a_dead_socket_exits_2_at_once() {
    let _gate = common::serial::gate(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("docker.sock");
    // A socket file nobody listens on: what a stopped daemon leaves behind.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let host = format!("unix://{}", path.display());
    let (code, err, took) = up_with_docker_host(&host);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "error: cannot reach the Docker daemon at `{host}`: Connection refused"
        )),
        "{err}"
    );
    assert!(
        err.contains("= help: is the Docker daemon running (`docker info`)?"),
        "{err}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_daemon_that_never_answers_is_given_up_on_within_seconds() {
    let _gate = common::serial::gate(module_path!());
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("docker.sock");
    // Accepts connections (the kernel does, from the backlog) but never replies.
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let host = format!("unix://{}", path.display());
    let (code, err, took) = up_with_docker_host(&host);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no answer within 5s"), "{err}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn a_missing_socket_exits_2() {
    let _gate = common::serial::gate(module_path!());
    let (code, err, _) = up_with_docker_host("unix:///nonexistent/stackctl-test/docker.sock");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "cannot reach the Docker daemon at `unix:///nonexistent/stackctl-test/docker.sock`"
        ),
        "{err}"
    );
}

#[test]
fn an_invalid_spec_stops_up_before_docker_is_asked() {
    let _gate = common::serial::gate(module_path!());
    let dir = common::spec_dir(
        "stackctl: 1\nname: bad\ncomponents:\n  node_exporter:\n    versoin: v1.5.0\n",
    );
    let out = stackctl()
        .args(["up", "--dir", path_str(dir.path())])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let (code, _, err) = common::decode(out);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unknown field `versoin`"), "{err}");
    assert!(!err.contains("Docker daemon"), "{err}");
    assert!(!dir.path().join("docker-compose.monitoring.yml").exists());
}

const EMPTY_SLACK: &str = "stackctl: 1\nname: strict\nsecrets:\n  slack_webhook_url: {}\ncomponents:\n  alertmanager:\n    version: v0.25.0\n\
                alerting:\n  slack_api_url_secret: slack_webhook_url\n  route:\n    receiver: chat\n  receivers:\n    - name: chat\n      slack:\n        - channel: '#alerts'\n        - channel: '#more'\n    - name: oncall\n      slack:\n        - channel: '#oncall'\n";

fn up_without_engine(dir: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["up", "--dir", path_str(dir)];
    args.extend(extra);
    let out = stackctl()
        .args(&args)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let (code, _, err) = common::decode(out);
    (code, err)
}

#[test]
fn an_empty_notifier_secret_warns_once_per_receiver_and_up_goes_on() {
    let _gate = common::serial::gate(module_path!());
    let dir = common::spec_dir(EMPTY_SLACK);
    let (code, _, err) = common::run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    // Render creates the placeholder and only notes it.
    assert_eq!(
        std::fs::read(dir.path().join("secrets/slack_webhook_url")).unwrap(),
        b""
    );
    let (code, err) = up_without_engine(dir.path(), &[]);
    // Past the credentials: it is the missing engine that stops it (exit 2).
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Docker daemon"), "{err}");
    for receiver in ["chat", "oncall"] {
        let line = format!(
            "warning: receiver `{receiver}` cannot deliver until `secrets/slack_webhook_url` is filled in"
        );
        assert_eq!(err.matches(&line).count(), 1, "{receiver} once: {err}");
    }
    assert!(!err.contains("error: secret"), "{err}");
}

/// A credential that is not a notifier's: validate and render only note it
/// (so `--deny-warnings` passes on a fresh init), `up` warns about it once.
#[test]
fn an_empty_exporter_password_is_a_note_for_validate_and_a_warning_for_up() {
    let _gate = common::serial::gate(module_path!());
    let dir = common::spec_dir(
        "stackctl: 1\nname: pg\nsecrets:\n  pg_password: {}\ncomponents:\n  prometheus:\n    version: v3.14.0\n  postgres_exporter:\n    version: v0.20.1\n    host: db\n    database: app\n    user: app\n    password_secret: pg_password\n",
    );
    let (code, _, err) =
        common::run(&["validate", "--deny-warnings", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("info: secret `pg_password`: file `secrets/pg_password` does not exist"),
        "{err}"
    );
    let (code, err) = up_without_engine(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    let line = "warning: secret `pg_password` is not filled in (`secrets/pg_password`)";
    assert_eq!(err.matches(line).count(), 1, "{err}");
    let (code, err) = up_without_engine(dir.path(), &["--strict-credentials"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: secret `pg_password` is empty"),
        "{err}"
    );
    assert!(
        !err.contains(line),
        "strict: the error replaces the warning: {err}"
    );
}

#[test]
fn strict_credentials_make_an_empty_notifier_secret_an_error_for_up() {
    let _gate = common::serial::gate(module_path!());
    let dir = common::spec_dir(EMPTY_SLACK);
    let (code, err) = up_without_engine(dir.path(), &["--strict-credentials"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: secret `slack_webhook_url` is empty"),
        "{err}"
    );
    assert!(!err.contains("Docker daemon"), "{err}");
}

#[test]
fn verify_fails_a_check_per_receiver_that_cannot_deliver() {
    let _gate = common::serial::gate(module_path!());
    // Only the credential checks are asserted on; nothing needs to answer
    // (or stay silent) on Alertmanager's port, so it is not held.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = EMPTY_SLACK.replace(
        "    version: v0.25.0\n",
        &format!("    version: v0.25.0\n    ports: {{web: {port}}}\n"),
    );
    let dir = common::spec_dir(&spec);
    let (code, _, err) = common::run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    let name = "cannot deliver: `secrets/slack_webhook_url` is empty";
    let (code, out, err) = common::run(&[
        "verify",
        "--dir",
        path_str(dir.path()),
        "--format",
        "json",
        "--timeout",
        "1s",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json report");
    let text = report.to_string();
    let failing: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .map(|checks| checks.iter().filter(|c| c["check"] == name).collect())
        .unwrap_or_default();
    assert_eq!(failing.len(), 2, "one per receiver: {text}");
    for check in &failing {
        assert_eq!(check["status"], "fail", "{check}");
    }

    // Filled in, the check is gone.
    std::fs::write(
        dir.path().join("secrets/slack_webhook_url"),
        "https://hooks.slack.example/T0/B0/x",
    )
    .unwrap();
    let (_, out, _) = common::run(&[
        "verify",
        "--dir",
        path_str(dir.path()),
        "--format",
        "json",
        "--timeout",
        "1s",
    ]);
    assert!(!out.contains("cannot deliver"), "{out}");
}
