//! One user mistake per fixture: `validate` and `render` exit 1 with the exact
//! `stack.yaml:LINE:COL` diagnostic and a hint, and nothing is written.

use crate::common;

use common::{list_files, run_in};
use std::path::Path;

/// Copies a fixture into a fresh directory as `stack.yaml`.
fn fixture_dir(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::copy(&src, dir.path().join("stack.yaml")).unwrap();
    dir
}

/// The `error:` lines of a run, plus the `help` line that follows each.
fn errors(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.contains(": error: ") {
            let help = lines[i + 1..]
                .iter()
                .take_while(|l| !l.contains(": error: ") && !l.contains(": warning: "))
                .find_map(|l| l.trim_start().strip_prefix("= help: "))
                .unwrap_or("");
            out.push(format!("{line} | {help}"));
        }
    }
    out
}

fn assert_rejected(fixture: &str, expected: &[&str]) {
    let dir = fixture_dir(&format!("bad/{fixture}"));
    let (code, _, stderr) = run_in(dir.path(), &["validate"]);
    assert_eq!(code, 1, "{fixture}: validate should fail\n{stderr}");
    assert_eq!(errors(&stderr), expected, "{fixture}\n{stderr}");
    // The snippet with a caret is shown under each error.
    assert!(stderr.contains(" | ") && stderr.contains('^'), "{stderr}");

    let (code, _, stderr) = run_in(dir.path(), &["render"]);
    assert_eq!(code, 1, "{fixture}: render should fail\n{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(
        list_files(dir.path()),
        vec!["stack.yaml"],
        "{fixture}: render wrote files"
    );
}

#[test]
fn the_base_fixture_is_valid() {
    let dir = fixture_dir("good-base.yaml");
    let (code, _, stderr) = run_in(dir.path(), &["validate"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(errors(&stderr).is_empty());
}

#[test]
fn unknown_key_suggests_the_right_one() {
    assert_rejected(
        "unknown-key.yaml",
        &[
            "stack.yaml:8:5: error: unknown field `scrape_intervall` in `prometheus` | did you mean `scrape_interval`?",
        ],
    );
}

#[test]
fn wrong_type_names_both_types() {
    assert_rejected(
        "wrong-type.yaml",
        &["stack.yaml:14:14: error: expected a list, found the string `api:8000` | "],
    );
}

#[test]
fn port_out_of_range() {
    assert_rejected(
        "port-out-of-range.yaml",
        &[
            "stack.yaml:12:22: error: port 70000 is out of range | a port is a number from 1 to 65535",
        ],
    );
}

#[test]
fn duplicate_yaml_key() {
    assert_rejected(
        "duplicate-yaml-key.yaml",
        &[
            "stack.yaml:11:3: error: duplicate key `grafana` | `grafana` is already set on line 10; remove one of them",
        ],
    );
}

#[test]
fn duplicate_scrape_job() {
    assert_rejected(
        "duplicate-scrape-job.yaml",
        &[
            "stack.yaml:15:11: error: duplicate scrape job `api` | `api` is already defined at `scrape_jobs[0].name`; names must be unique",
        ],
    );
}

#[test]
fn duplicate_rule_group() {
    assert_rejected(
        "duplicate-rule-group.yaml",
        &[
            "stack.yaml:24:13: error: duplicate rule group `api.alerts` | `api.alerts` is already defined at `rules.alerts[0].name`; names must be unique",
        ],
    );
}

#[test]
fn duplicate_receiver() {
    assert_rejected(
        "duplicate-receiver.yaml",
        &[
            "stack.yaml:31:13: error: duplicate receiver `team` | `team` is already defined at `alerting.receivers[0].name`; names must be unique",
        ],
    );
}

#[test]
fn route_to_undefined_receiver() {
    assert_rejected(
        "undefined-receiver.yaml",
        &["stack.yaml:26:15: error: route to undefined receiver `teem` | did you mean `team`?"],
    );
}

#[test]
fn two_services_on_one_host_port() {
    assert_rejected(
        "host-port-collision.yaml",
        &[
            "stack.yaml:12:22: error: host port 9090 (127.0.0.1) of `node-exporter` is already published by `prometheus` (127.0.0.1) | give one of them another port, e.g. `ports: {metrics: 9091}`",
        ],
    );
}

#[test]
fn wildcard_address_collides_with_loopback() {
    assert_rejected(
        "wildcard-port-collision.yaml",
        &[
            "stack.yaml:13:22: error: host port 9093 (0.0.0.0) of `node-exporter` is already published by `alertmanager` (127.0.0.1) | give one of them another port, e.g. `ports: {metrics: 9094}`",
        ],
    );
}

#[test]
fn invalid_duration() {
    assert_rejected(
        "invalid-duration.yaml",
        &[
            "stack.yaml:21:16: error: invalid duration `1 minute`: missing unit | use a number with a unit: ms, s, m, h, d, w, y (e.g. `30s`, `5m`, `1h30m`)",
        ],
    );
}

#[test]
fn invalid_label_name() {
    assert_rejected(
        "invalid-label-name.yaml",
        &[
            "stack.yaml:25:13: error: invalid label name `team-name` | label names are letters, digits and `_`, not starting with a digit (e.g. `team_name`); Prometheus 3 takes any UTF-8 name, this stack pins v2.42.0",
        ],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    assert_rejected(
        "many-mistakes.yaml",
        &[
            "stack.yaml:8:5: error: unknown field `scrape_intervall` in `prometheus` | did you mean `scrape_interval`?",
            "stack.yaml:21:16: error: invalid duration `soon` | use a number with a unit: ms, s, m, h, d, w, y (e.g. `30s`, `5m`, `1h30m`)",
            "stack.yaml:26:15: error: route to undefined receiver `nobody` | define it under `alerting.receivers`; defined are `team`",
        ],
    );
}

#[test]
fn alias_bomb_is_refused() {
    assert_rejected(
        "alias-bomb.yaml",
        &[
            "stack.yaml:6:29: error: YAML aliases expand to more than 1000000 nodes; refusing to load (alias bomb?) | use fewer nested aliases; a stack spec does not need them",
        ],
    );
}

#[test]
fn non_utf8_is_refused() {
    assert_rejected(
        "non-utf8.yaml",
        &["stack.yaml:2:8: error: the spec is not valid UTF-8 | save the file as UTF-8"],
    );
}

#[test]
fn oversized_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("stackctl: 1\nname: big\ncomponents: {}\n");
    while text.len() <= stackctl::load::MAX_SPEC_BYTES {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
    let (code, _, stderr) = run_in(dir.path(), &["render"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "error: the spec is larger than {} MiB",
            stackctl::load::MAX_SPEC_BYTES / (1024 * 1024)
        )),
        "{stderr}"
    );
    assert_eq!(list_files(dir.path()), vec!["stack.yaml"]);
}

#[test]
fn unknown_profile_suggests_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_in(dir.path(), &["init", "--profile", "minimla"]);
    // A usage error (exit 2), in clap's words, with its did-you-mean.
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: invalid value 'minimla' for '--profile <PROFILE>'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tip: a similar value exists: 'minimal'"),
        "{stderr}"
    );
    assert!(list_files(dir.path()).is_empty());
}

#[test]
fn missing_spec_is_an_io_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_in(dir.path(), &["validate"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: no stack spec at `./stack.yaml`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stackctl init --profile minimal"),
        "{stderr}"
    );
}

#[test]
fn json_format_lists_every_finding() {
    let dir = fixture_dir("bad/many-mistakes.yaml");
    let (code, stdout, _) = run_in(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(code, 1);
    let findings: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let errors: Vec<(u64, u64, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (
                8,
                5,
                "unknown field `scrape_intervall` in `prometheus`".to_string()
            ),
            (21, 16, "invalid duration `soon`".to_string()),
            (26, 15, "route to undefined receiver `nobody`".to_string()),
        ]
    );
}
