//! A full or closed stderr never makes stackctl panic (std's `eprintln!`
//! does, exit 101): the message is lost and the command ends with its own
//! exit code. Each command is run with stderr on `/dev/full` (every write
//! fails with ENOSPC) and on a pipe whose reader is gone (EPIPE).

use crate::common;

use std::process::Stdio;

fn with_stderr(args: &[&str], stderr: Stdio) -> (i32, String) {
    let out = common::stackctl()
        .args(args)
        // A dead socket: the Docker commands fail fast, with messages.
        .env("DOCKER_HOST", "unix:///nonexistent/stackctl-test.sock")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .output()
        .expect("stackctl runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn closed_pipe() -> Stdio {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: `pipe` fills the two descriptors, each then owned exactly once.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    Stdio::from(writer)
}

#[test]
fn a_full_or_closed_stderr_loses_messages_not_the_exit_code() {
    if !std::path::Path::new("/dev/full").exists() {
        common::skipped("no /dev/full on this system; a full stderr was not tested");
        return;
    }
    let good = common::init_profile("minimal");
    let good = common::path_str(good.path()).to_string();
    let bad = common::spec_dir(
        "stackctl: 1\nname: x\ncomponents:\n  prometheus: {scrape_intervall: 5s}\n",
    );
    let bad = common::path_str(bad.path()).to_string();
    // (arguments, exit code with a working stderr)
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["validate", "--dir", &bad], 1),
        (vec!["up", "--dir", &bad], 1),
        (vec!["up", "--dir", &good], 2),
        (vec!["status", "--dir", &good], 2),
        (vec!["down", "--dir", &good], 2),
        (vec!["verify", "--dir", &bad], 1),
    ];
    for (args, code) in &cases {
        let (normal, _) = with_stderr(args, Stdio::piped());
        assert_eq!(normal, *code, "{args:?} with a working stderr");
        let (full, _) = with_stderr(
            args,
            Stdio::from(std::fs::File::create("/dev/full").unwrap()),
        );
        assert_eq!(full, *code, "{args:?} with stderr on /dev/full");
        let (closed, _) = with_stderr(args, closed_pipe());
        assert_eq!(closed, *code, "{args:?} with stderr a closed pipe");
    }
}
