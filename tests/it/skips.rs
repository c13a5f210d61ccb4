//! A test that could check nothing says so: it prints `SKIPPED: …` where the
//! person running the tests sees it (past the harness's output capture), the
//! run ends with a count of the skips, and under `STACKCTL_REQUIRE_TOOLS=1`
//! the same test fails instead. Issue 10: `verify_real` reported "1 passed"
//! after checking nothing, its SKIPPED line swallowed by the capture.

use std::process::Command;

const TEST: &str = "verify_real::verify_proves_a_real_stack_and_names_what_breaks";

/// This test binary, running only `TEST`, with no tool on `PATH`.
fn run_without_tools(require: bool) -> (i32, String, String) {
    let empty = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args([TEST, "--exact"])
        .env("PATH", empty.path())
        .env_remove("STACKCTL_REQUIRE_TOOLS");
    if require {
        cmd.env("STACKCTL_REQUIRE_TOOLS", "1");
    }
    let out = cmd.output().expect("the test binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_test_without_its_tools_says_skipped_and_fails_when_tools_are_required() {
    let (code, out, err) = run_without_tools(false);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("1 passed"), "{out}");
    assert!(
        err.contains(&format!(
            "SKIPPED: {TEST}: `prometheus` is not installed; verify against real Prometheus, Alertmanager and exporters was not checked\n"
        )),
        "the skip is shown without --nocapture:\n{err}"
    );
    assert!(
        err.contains("SKIPPED: 1 part(s) of this run checked nothing"),
        "the run ends with the count of skips:\n{err}"
    );

    let (code, out, err) = run_without_tools(true);
    assert_ne!(
        code, 0,
        "with STACKCTL_REQUIRE_TOOLS=1 a missing tool fails:\n{out}\n{err}"
    );
    assert!(out.contains("1 failed"), "{out}");
    // The harness prints a failing test's panic with the failures, on stdout.
    assert!(out.contains("`prometheus` is required"), "{out}");
}
