//! Hostile input (issue 9, items 11–16): alias bombs by bytes, files that are
//! not regular files, path and secret contents the consumers cannot take,
//! saturating numbers, oversized specs and closed or full stdout. Each test
//! drives the real binary and bounds its time (and, where a regression would
//! eat memory, its address space) so a regression fails instead of hanging.

use crate::common;

use common::{init_profile, path_str, require_tool, run, stackctl};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` to completion or kills it after `limit`: (exit code, stderr, elapsed).
fn run_bounded(mut cmd: Command, limit: Duration) -> (Option<i32>, String, Duration) {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stackctl runs");
    let mut stderr = child.stderr.take().expect("stderr piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let text = reader.join().unwrap_or_default();
            return (status.code(), text, start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return (None, reader.join().unwrap_or_default(), start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// stackctl under `ulimit -v` (1 GiB): a regression that grows memory fails
/// with an allocation error instead of taking the machine down.
fn bounded_stackctl(args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 1048576; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_stackctl"))
        .args(args)
        .stdout(Stdio::null());
    cmd
}

/// The minimal profile's spec in a fresh directory, edited by `edit`.
fn minimal_with(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = init_profile("minimal");
    let spec = dir.path().join("stack.yaml");
    let text = std::fs::read_to_string(&spec).expect("spec");
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changed nothing");
    std::fs::write(&spec, edited).expect("write spec");
    dir
}

/// Adds one extra volume to node-exporter.
fn with_volume(source: &str, target: &str) -> impl Fn(&str) -> String {
    let insert = format!(
        "  node_exporter:\n    version: v1.12.1\n    volumes:\n      - source: {}\n        target: {}\n        read_only: true\n",
        serde_json::to_string(source).unwrap(),
        serde_json::to_string(target).unwrap()
    );
    move |text: &str| text.replace("  node_exporter:\n    version: v1.12.1\n", &insert)
}

/// The first `FILE:LINE:COL: error:` line of `stderr`, as (line, col, text).
fn first_error(stderr: &str) -> Option<(usize, usize, String)> {
    stderr.lines().find_map(|l| {
        let (head, rest) = l.split_once(": error: ")?;
        let mut parts = head.rsplitn(3, ':');
        let col = parts.next()?.parse().ok()?;
        let line = parts.next()?.parse().ok()?;
        Some((line, col, rest.to_string()))
    })
}

fn rendered(dir: &Path) -> bool {
    dir.join("docker-compose.monitoring.yml").exists() || dir.join(".stackctl").exists()
}

// Item 11.
#[test]
fn alias_bomb_by_bytes_fails_fast_with_a_position() {
    let _gate = common::serial::gate(module_path!());
    let big = "x".repeat(10 * 1024);
    let mut spec = format!("stackctl: 1\nname: bomb\ndescription: &big \"{big}\"\ntags: [");
    for _ in 0..100_000 {
        spec.push_str("*big, ");
    }
    spec.push_str("*big]\n");
    assert!(spec.len() < 1024 * 1024 + 20 * 1024, "a 1 MiB spec");
    let dir = common::spec_dir(&spec);
    let (code, stderr, took) = run_bounded(
        bounded_stackctl(&["validate", "--dir", path_str(dir.path())]),
        Duration::from_secs(20),
    );
    println!("alias bomb by bytes: exit {code:?} after {took:?}");
    assert_eq!(code, Some(1), "{stderr}");
    let (line, col, message) = first_error(&stderr).expect(&stderr);
    assert!(line >= 4 && col >= 1, "{stderr}");
    assert!(message.contains("alias"), "{message}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

// Item 12.
#[test]
fn a_fifo_spec_is_refused_at_once() {
    let _gate = common::serial::gate(module_path!());
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("stack.yaml");
    mkfifo(&fifo);
    for cmd in ["validate", "render"] {
        let mut c = stackctl();
        c.args([cmd, "--dir", path_str(dir.path())]);
        let (code, stderr, took) = run_bounded(c, Duration::from_secs(10));
        println!("fifo stack.yaml, {cmd}: exit {code:?} after {took:?}");
        assert_eq!(code, Some(2), "{cmd}: {stderr}");
        assert!(stderr.contains("named pipe"), "{stderr}");
        assert!(stderr.contains(path_str(&fifo)), "{stderr}");
    }
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

fn with_dashboard_file(text: &str) -> String {
    text.replace(
        "dashboards:\n",
        "dashboards:\n  - uid: brought\n    file: brought.json\n",
    )
}

#[test]
fn a_fifo_or_device_dashboard_is_refused_without_reading_it() {
    let _gate = common::serial::gate(module_path!());
    for (what, make) in [
        ("named pipe", (|p: &Path| mkfifo(p)) as fn(&Path)),
        ("character device", |p: &Path| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
    ] {
        let dir = minimal_with(with_dashboard_file);
        make(&dir.path().join("brought.json"));
        for cmd in ["validate", "render"] {
            let (code, stderr, took) = run_bounded(
                bounded_stackctl(&[cmd, "--dir", path_str(dir.path())]),
                Duration::from_secs(10),
            );
            println!("dashboard as {what}, {cmd}: exit {code:?} after {took:?}");
            assert_eq!(code, Some(1), "{what} {cmd}: {stderr}");
            let (line, _, message) = first_error(&stderr).expect(&stderr);
            assert!(line > 1, "{stderr}");
            assert!(message.contains(what), "{message}");
            assert!(!rendered(dir.path()), "{what}: nothing may be written");
        }
    }
}

#[test]
fn a_fifo_secret_is_refused_by_validate_and_does_not_hang_verify() {
    let _gate = common::serial::gate(module_path!());
    let dir = init_profile("minimal");
    let secret = dir.path().join("secrets/smtp_password");
    std::fs::remove_file(&secret).unwrap();
    mkfifo(&secret);
    let (code, stderr, took) = run_bounded(
        {
            let mut c = stackctl();
            c.args(["validate", "--dir", path_str(dir.path())]);
            c
        },
        Duration::from_secs(10),
    );
    println!("fifo secret, validate: exit {code:?} after {took:?}");
    assert_eq!(code, Some(1), "{stderr}");
    let (_, _, message) = first_error(&stderr).expect(&stderr);
    assert!(message.contains("smtp_password") && message.contains("named pipe"));
    // verify with a short timeout must end well within it, not block on the pipe.
    let mut c = stackctl();
    c.args(["verify", "--dir", path_str(dir.path()), "--timeout", "1s"]);
    let (code, stderr, took) = run_bounded(c, Duration::from_secs(15));
    println!("fifo secret, verify --timeout 1s: exit {code:?} after {took:?}");
    assert!(code.is_some(), "verify hung on a FIFO secret");
    assert_ne!(code, Some(0), "{stderr}");
}

#[test]
fn a_huge_secret_is_refused_without_reading_it_whole() {
    let _gate = common::serial::gate(module_path!());
    let dir = init_profile("minimal");
    let secret = dir.path().join("secrets/smtp_password");
    std::fs::remove_file(&secret).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &secret).unwrap();
    let (code, stderr, took) = run_bounded(
        bounded_stackctl(&["validate", "--dir", path_str(dir.path())]),
        Duration::from_secs(10),
    );
    println!("secret -> /dev/zero: exit {code:?} after {took:?}");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("character device"), "{stderr}");
}

// Item 13.
#[test]
fn a_secret_with_nul_is_caught_by_validate_and_render_writes_nothing() {
    let _gate = common::serial::gate(module_path!());
    let dir = init_profile("minimal");
    std::fs::write(dir.path().join("secrets/smtp_password"), b"pass\0word").unwrap();
    let (code, _, stderr) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{stderr}");
    let (line, _, message) = first_error(&stderr).expect(&stderr);
    assert!(line > 1 && message.contains("NUL"), "{stderr}");
    let (code, _, stderr) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        !rendered(dir.path()),
        "render wrote a tree for a spec validate refuses"
    );
}

#[test]
fn mount_sources_and_log_paths_that_compose_would_split_are_positioned_errors() {
    let _gate = common::serial::gate(module_path!());
    let cases = [
        ("/srv/data:rw", "/data", "contains `:`"),
        ("/srv/da\nta", "/data", "line break"),
        ("./../../etc", "/data", "leaves the stack directory"),
        ("my:volume", "/data", "contains `:`"),
        ("/srv/data", "/data:ro", "contains `:`"),
        ("/srv/data", "/x/../etc", "contains `..`"),
    ];
    for (source, target, want) in cases {
        let dir = minimal_with(with_volume(source, target));
        let (code, _, stderr) = run(&["validate", "--dir", path_str(dir.path())]);
        assert_eq!(code, 1, "{source:?} -> {target:?}: {stderr}");
        let (line, col, message) = first_error(&stderr).expect(&stderr);
        assert!(line > 40 && col > 1, "{stderr}");
        assert!(message.contains(want), "{source:?}: {message}");
        let (code, _, _) = run(&["render", "--dir", path_str(dir.path())]);
        assert_eq!(code, 1);
        assert!(!rendered(dir.path()));
    }
    let pynomaly = init_profile("pynomaly");
    let spec = pynomaly.path().join("stack.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    for (glob, want) in [
        ("/var/log/a:b/*.log", "contains `:`"),
        ("/var/log/../../*.log", "contains `..`"),
        ("/var/log/a\\nb.log", "line break"),
    ] {
        let edited = text.replace(
            "paths: [/var/log/pynomaly/*.log]",
            &format!("paths: [\"{glob}\"]"),
        );
        assert_ne!(edited, text);
        std::fs::write(&spec, &edited).unwrap();
        let (code, _, stderr) = run(&["validate", "--dir", path_str(pynomaly.path())]);
        assert_eq!(code, 1, "{glob}: {stderr}");
        let (line, _, message) = first_error(&stderr).expect(&stderr);
        assert!(line > 1000, "{stderr}");
        assert!(message.contains(want), "{glob}: {message}");
    }
}

#[test]
fn a_dotdot_host_root_mount_gets_the_host_root_note() {
    let _gate = common::serial::gate(module_path!());
    // `/var/log/../..` is `/` to Docker: the note must name grafana too, not
    // only node-exporter's own mount of `/`.
    let dir = minimal_with(|text| {
        text.replace(
            "  grafana:\n    version: 13.2.0\n",
            "  grafana:\n    version: 13.2.0\n    volumes:\n      - source: /var/log/../..\n        target: /host\n        read_only: true\n",
        )
    });
    let (code, _, stderr) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("`grafana` mounts the host's root filesystem"),
        "{stderr}"
    );
}

#[test]
fn every_mount_source_validate_accepts_is_accepted_by_compose() {
    let _gate = common::serial::gate(module_path!());
    let composes: Vec<std::path::PathBuf> = [
        require_tool("docker-compose", "Compose v1 reading extra mounts"),
        {
            let v2 = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/consumers/sid/bin/docker-compose");
            if v2.is_file() {
                Some(v2)
            } else if common::tools_required() {
                panic!("Compose v2 missing: run scripts/fetch-consumers.sh");
            } else {
                common::skipped("Compose v2 (scripts/fetch-consumers.sh) not unpacked");
                None
            }
        },
    ]
    .into_iter()
    .flatten()
    .collect();
    if composes.is_empty() {
        return;
    }
    let mut checked = 0;
    for source in [
        "/srv/data dir",
        "/srv/./data/",
        "./data",
        "my-volume.1",
        "/var/..",
    ] {
        let dir = minimal_with(with_volume(source, "/data"));
        let (code, _, stderr) = run(&["render", "--dir", path_str(dir.path())]);
        assert_eq!(code, 0, "{source:?}: {stderr}");
        for compose in &composes {
            let out = Command::new(compose)
                .args(["-f", "docker-compose.monitoring.yml", "config"])
                .current_dir(dir.path())
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{} rejects {source:?}: {}",
                compose.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            // The mount stays read-only: no `:` moved the split.
            assert!(stdout.contains("/data"), "{stdout}");
            checked += 1;
        }
    }
    println!("compose accepted {checked} (source, compose) pairs");
}

// Item 14.
#[test]
fn memory_is_range_checked_with_a_position() {
    let _gate = common::serial::gate(module_path!());
    for (memory, want) in [
        ("1", "below Docker's minimum"),
        ("99999999999999999999g", "larger than"),
        ("5m", "below Docker's minimum"),
    ] {
        let dir = minimal_with(|text| {
            text.replace(
                "  grafana:\n    version: 13.2.0\n",
                &format!(
                    "  grafana:\n    version: 13.2.0\n    resources:\n      memory: \"{memory}\"\n"
                ),
            )
        });
        let (code, _, stderr) = run(&["validate", "--dir", path_str(dir.path())]);
        assert_eq!(code, 1, "{memory}: {stderr}");
        let (line, col, message) = first_error(&stderr).expect(&stderr);
        assert!(line > 40 && col > 1, "{stderr}");
        assert!(message.contains(want), "{memory}: {message}");
        assert!(stderr.contains("help:"), "{stderr}");
    }
}

#[test]
fn a_duration_beyond_go_time_duration_is_refused() {
    let _gate = common::serial::gate(module_path!());
    let dir = minimal_with(|text| text.replace("retention_time: 15d", "retention_time: 300y"));
    let (code, _, stderr) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{stderr}");
    let (line, _, message) = first_error(&stderr).expect(&stderr);
    assert!(line > 30 && message.contains("too large"), "{stderr}");
}

// Item 15.
#[test]
fn an_oversized_spec_is_reported_at_the_file_without_a_bogus_position() {
    let _gate = common::serial::gate(module_path!());
    let mut spec = String::from("stackctl: 1\nname: big\n");
    let line = format!("# {}\n", "x".repeat(1000));
    while spec.len() <= 129 * 1024 * 1024 {
        spec.push_str(&line);
    }
    let dir = common::spec_dir(&spec);
    let (code, _, stderr) = run(&["validate", "--dir", path_str(dir.path())]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains(":0:"), "{stderr}");
    assert!(
        stderr.contains("error: the spec is larger than"),
        "{stderr}"
    );
    let (code, stdout, _) = run(&[
        "validate",
        "--dir",
        path_str(dir.path()),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let line = &json.as_array().map(|a| a[0]["line"].clone());
    assert!(
        line.as_ref()
            .is_some_and(|l| l.is_null() || l.as_u64() >= Some(1)),
        "{stdout}"
    );
}

// Item 16.
/// A pipe whose read end is already closed: every write gets EPIPE.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `pipe` fills two fresh descriptors; each is owned exactly once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    use std::os::fd::FromRawFd;
    // SAFETY: the descriptors were just created and are not owned elsewhere.
    let (read, write) = unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    };
    drop(read);
    Stdio::from(write)
}

fn stdout_cases() -> (tempfile::TempDir, tempfile::TempDir, Vec<Vec<String>>) {
    // A spec with many findings (long JSON), and one with a pending diff.
    let bad = minimal_with(|text| text.replace("for: 2m", "for: 2 minutes"));
    let diff = init_profile("minimal");
    let b = path_str(bad.path()).to_string();
    let d = path_str(diff.path()).to_string();
    let cases = vec![
        vec!["profiles".to_string()],
        vec![
            "validate".into(),
            "--dir".into(),
            b.clone(),
            "--format".into(),
            "json".into(),
        ],
        vec![
            "validate".into(),
            "--dir".into(),
            d.clone(),
            "--format".into(),
            "json".into(),
        ],
        vec!["render".into(), "--dir".into(), d.clone(), "--diff".into()],
        vec![
            "render".into(),
            "--dir".into(),
            d.clone(),
            "--target".into(),
            "kubernetes".into(),
            "--diff".into(),
        ],
        vec![
            "verify".into(),
            "--dir".into(),
            d.clone(),
            "--timeout".into(),
            "1s".into(),
            "--url".into(),
            "prometheus=http://127.0.0.1:9".into(),
            "--only".into(),
            "prometheus".into(),
        ],
    ];
    (bad, diff, cases)
}

#[test]
fn a_closed_pipe_ends_output_quietly_in_every_command() {
    let _gate = common::serial::gate(module_path!());
    let (_bad, _diff, cases) = stdout_cases();
    for args in &cases {
        let out = stackctl()
            .args(args)
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {:?}\n{stderr}",
            out.status
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_full_stdout_is_exit_2_with_a_message_in_every_command() {
    let _gate = common::serial::gate(module_path!());
    let (_bad, _diff, cases) = stdout_cases();
    for args in &cases {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = stackctl()
            .args(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to standard output"),
            "{args:?}: {stderr}"
        );
    }
}
