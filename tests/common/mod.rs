//! Shared helpers for the integration tests: the real `stackctl` binary,
//! stack directories made from profiles, and external tools that must exist
//! in CI (`STACKCTL_REQUIRE_TOOLS=1`) and are reported loudly as skipped elsewhere.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod serial;

pub fn stackctl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stackctl"))
}

/// Runs stackctl with `args`, returning (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = stackctl().args(args).output().expect("stackctl runs");
    decode(out)
}

pub fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = stackctl()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("stackctl runs");
    decode(out)
}

pub fn decode(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A temporary directory holding `stack.yaml` (and secrets) from a profile.
pub fn init_profile(profile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, _, err) = run(&["init", "--profile", profile, "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "init {profile} failed: {err}");
    dir
}

/// A temporary directory with `stack.yaml` written from `text`.
pub fn spec_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("stack.yaml"), text).expect("write spec");
    dir
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// Says that a test, or a part of it, checked nothing, and why:
/// `SKIPPED: TEST: WHY`. Written to stderr directly, past the test harness's
/// capture: a passing test's `eprintln!` is never shown, so a test that
/// checked nothing looked like any other pass ("1 passed"). Skips are counted,
/// and once the run is over one more line says how many there were.
pub fn skipped(why: impl std::fmt::Display) {
    use std::io::Write;
    let thread = std::thread::current();
    // The harness names each test's thread after the test.
    let test = thread
        .name()
        .filter(|n| *n != "main")
        .map(|n| format!("{n}: "))
        .unwrap_or_default();
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {test}{why}");
    count_skip();
}

static SKIPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn count_skip() {
    static AT_EXIT: std::sync::Once = std::sync::Once::new();
    SKIPS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    // After the harness's own summary: there is no hook at the end of a test
    // run, so the count is printed as the process exits.
    extern "C" fn report() {
        use std::io::Write;
        let n = SKIPS.load(std::sync::atomic::Ordering::SeqCst);
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED: {n} part(s) of this run checked nothing (see the SKIPPED lines above); with STACKCTL_REQUIRE_TOOLS=1 a missing tool fails instead"
        );
    }
    AT_EXIT.call_once(|| {
        // SAFETY: `report` is a plain function that only reads an atomic and
        // writes to stderr; registering it has no other effect.
        unsafe {
            libc::atexit(report);
        }
    });
}

/// True when CI demands every external tool (a missing one fails the test).
pub fn tools_required() -> bool {
    std::env::var("STACKCTL_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// The path of an external tool, or `None` after printing a loud SKIPPED line.
/// In CI (`STACKCTL_REQUIRE_TOOLS=1`) a missing tool is a failure, never a skip.
pub fn require_tool(name: &str, why: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    match found {
        Some(path) => Some(path),
        None if tools_required() => {
            panic!("`{name}` is required ({why}) but not installed; .ci/run installs it")
        }
        None => {
            skipped(format_args!(
                "`{name}` is not installed; {why} was not checked"
            ));
            None
        }
    }
}

/// The two generations of consumers the rendered output is checked against:
/// today's (Debian sid, unpacked by `scripts/fetch-consumers.sh` under
/// `target/consumers/sid/bin`) for the default versions, and Debian stable's
/// (on `PATH`) for the old-version pins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generation {
    /// promtool/prometheus 3.5, amtool/alertmanager 0.33, Compose v2 (2.40).
    Current,
    /// promtool 2.42, amtool 0.25, docker-compose 1.29.
    Bookworm,
}

impl Generation {
    pub fn label(self) -> &'static str {
        match self {
            Generation::Current => "today's consumers (Debian sid)",
            Generation::Bookworm => "bookworm consumers",
        }
    }
}

/// Where today's consumers are: `STACKCTL_SID_BIN`, else the directory
/// `scripts/fetch-consumers.sh` fills.
pub fn sid_bin() -> PathBuf {
    std::env::var_os("STACKCTL_SID_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/consumers/sid/bin"))
}

/// A consumer of one generation (`promtool`, `amtool`, `docker-compose`, …),
/// or `None` after a loud SKIPPED line; a failure under `STACKCTL_REQUIRE_TOOLS=1`.
pub fn require_consumer(generation: Generation, name: &str, why: &str) -> Option<PathBuf> {
    match generation {
        Generation::Bookworm => require_tool(name, why),
        Generation::Current => {
            let path = sid_bin().join(name);
            if path.is_file() {
                return Some(path);
            }
            if tools_required() {
                panic!(
                    "`{}` (today's {name}) is required ({why}) but missing; run scripts/fetch-consumers.sh",
                    path.display()
                );
            }
            skipped(format_args!(
                "today's `{name}` is not at `{}` (run scripts/fetch-consumers.sh); {why} was not checked",
                path.display()
            ));
            None
        }
    }
}

/// The Compose command users run today: Compose v2 from `target/consumers`
/// (the primary compose consumer of every test), or `None` after SKIPPED.
pub fn compose_v2(why: &str) -> Option<PathBuf> {
    require_consumer(Generation::Current, "docker-compose", why)
}

/// Every regular file under `dir`, as sorted relative paths.
pub fn list_files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else if let Ok(rel) = path.strip_prefix(root) {
                    out.push(rel.to_string_lossy().into_owned());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The example specs under `examples/`: (directory name, directory).
pub fn example_dirs() -> Vec<(String, PathBuf)> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&examples)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join("stack.yaml").exists())
                .collect()
        })
        .unwrap_or_default();
    // Every golden, conformance and engine test of the examples loops over
    // this list: an empty one would check nothing and pass.
    assert!(
        !dirs.is_empty(),
        "no example specs under {}",
        examples.display()
    );
    dirs.sort();
    dirs.into_iter()
        .map(|dir| (dir.file_name().unwrap().to_string_lossy().into_owned(), dir))
        .collect()
}

/// Every spec we ship — the embedded profiles, the examples, and pynomaly with
/// its ELK backend switched on: (label, spec text, directory its files are in).
pub fn shipped_specs() -> Vec<(String, String, PathBuf)> {
    let mut specs: Vec<(String, String, PathBuf)> = stackctl::profiles::PROFILES
        .iter()
        .map(|p| {
            (
                format!("profile-{}", p.name),
                p.text.to_string(),
                PathBuf::from("."),
            )
        })
        .collect();
    for (name, dir) in example_dirs() {
        let text = std::fs::read_to_string(dir.join("stack.yaml")).expect("example spec");
        specs.push((format!("example-{name}"), text, dir));
    }
    let pynomaly = stackctl::profiles::find("pynomaly").expect("pynomaly profile");
    specs.push((
        "profile-pynomaly-elk".into(),
        with_elk(pynomaly.text),
        PathBuf::from("."),
    ));
    specs
}

/// pynomaly's switch to Elasticsearch + Logstash + Kibana, done on the model
/// as the profile's comment tells a user to: flip `enabled`, drop `logs:`.
pub fn with_elk(text: &str) -> String {
    let loaded = stackctl::load::load_text("stack.yaml", text.to_string());
    let mut stack = loaded.stack.expect("profile loads");
    let c = &mut stack.components;
    c.loki.as_mut().unwrap().enabled = Some(false);
    c.alloy.as_mut().unwrap().enabled = Some(false);
    c.elasticsearch.as_mut().unwrap().enabled = Some(true);
    c.logstash.as_mut().unwrap().enabled = Some(true);
    c.kibana.as_mut().unwrap().enabled = Some(true);
    stack.logs = Default::default();
    stackctl::yaml::emit::to_yaml(&serde_json::to_value(&stack).unwrap())
}
