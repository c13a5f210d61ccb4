//! A Docker daemon that does not answer is reported within seconds, with exit
//! 2 (stackctl cannot do its job), whatever the stack. Needs no engine.

mod common;

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
    let (code, err, _) = up_with_docker_host("unix:///nonexistent/stackctl-test/docker.sock");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(
            "cannot reach the Docker daemon at `unix:///nonexistent/stackctl-test/docker.sock`"
        ),
        "{err}"
    );
}
