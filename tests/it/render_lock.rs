//! The stack lock: while one process holds `DIR/.stackctl/lock`, `render`,
//! `init`, `up` and `down` wait briefly, then exit 2 naming the holder and
//! having written nothing; once it is released they proceed.

use crate::common;

use common::{init_profile, list_files, path_str, stackctl};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn run_with_wait(args: &[&str], wait: &str) -> (i32, String, String, Duration) {
    let started = Instant::now();
    let out = stackctl()
        .args(args)
        .env("STACKCTL_LOCK_WAIT", wait)
        // `up`/`down` must stop at the lock, long before any engine is asked.
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let (code, stdout, stderr) = common::decode(out);
    (code, stdout, stderr, started.elapsed())
}

#[test]
fn a_locked_stack_makes_every_writer_wait_then_name_the_holder() {
    let dir = init_profile("minimal");
    let d = path_str(dir.path());
    // Rendered once, so `.stackctl/` exists for the holder to say who it is.
    assert_eq!(run_with_wait(&["render", "--dir", d], "0s").0, 0);
    let spec = std::fs::read_to_string(dir.path().join("stack.yaml")).unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        spec.replace("retention_time: 15d", "retention_time: 20d"),
    )
    .unwrap();
    let before = list_files(dir.path());
    let lock = stackctl::lock::acquire_with(dir.path(), "test-holder", Duration::ZERO).unwrap();
    let holder = format!("pid {}, `stackctl test-holder`", std::process::id());
    let commands: [&[&str]; 4] = [
        &["render", "--dir", d],
        &["init", "--profile", "minimal", "--dir", d, "--force"],
        &["up", "--dir", d],
        &["down", "--dir", d],
    ];
    for args in commands {
        let (code, _, stderr, took) = run_with_wait(args, "400ms");
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("is locked by another stackctl"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains(&holder), "{args:?}: {stderr}");
        assert!(
            took >= Duration::from_millis(400),
            "{args:?} did not wait: {took:?}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let mut after = list_files(dir.path());
    after.retain(|f| f != ".stackctl/lock");
    let mut before = before;
    before.retain(|f| f != ".stackctl/lock");
    assert_eq!(after, before, "a locked-out run wrote");
    assert!(
        !std::fs::read_to_string(dir.path().join("docker-compose.monitoring.yml"))
            .unwrap()
            .contains("retention.time=20d")
    );
    // Read-only runs need no lock.
    let (code, _, stderr, _) = run_with_wait(&["render", "--dir", d, "--check"], "0s");
    assert_eq!(code, 1, "{stderr}");
    drop(lock);
    let (code, _, stderr, _) = run_with_wait(&["render", "--dir", d], "0s");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !dir.path().join(".stackctl/lock").exists(),
        "the holder file stayed"
    );
}

#[test]
fn a_waiting_render_proceeds_once_the_holder_is_done() {
    let dir = init_profile("minimal");
    let lock = stackctl::lock::acquire_with(dir.path(), "test-holder", Duration::ZERO).unwrap();
    let child = stackctl()
        .args(["render", "--dir", path_str(dir.path())])
        .env("STACKCTL_LOCK_WAIT", "20s")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !dir.path().join("docker-compose.monitoring.yml").exists(),
        "render wrote while the lock was held"
    );
    drop(lock);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(dir.path().join("docker-compose.monitoring.yml").exists());
}
