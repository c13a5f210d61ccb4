//! The profiles do what their references meant (issue 11, item 6), proven by
//! the consumers: the pynomaly rules corrected in profiles/README.md
//! ("Corrected rules") fire and stay silent on series named and labelled as
//! the pinned exporters export them (`promtool test rules`, both
//! generations); the guide's inhibit rule mutes the warning of a critical
//! alert in a real Alertmanager, 0.33 and 0.25 (alerts posted and read back
//! with amtool);
//! remote write keeps the recording rules; Jaeger's thrift-HTTP port is
//! published on loopback (Compose v2 reads the ports back); and on
//! Kubernetes the anomaly-detection monitors look in the application's
//! namespace.
//!
//! Each check fails on the profile as it was before the correction (the
//! promtool fixture was run against the old rules: every corrected rule's
//! test fails there).

use crate::common;
use crate::support;

use common::{Generation, init_profile, path_str, require_consumer, run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{Proc, reserve_port, wait_ready};

const FIXTURE: &str = include_str!("../fixtures/profile_rules/pynomaly.test.yml");

/// `init --profile NAME` then `render`, returning the stack directory.
fn rendered(profile: &str) -> tempfile::TempDir {
    let dir = init_profile(profile);
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render {profile}: {err}");
    dir
}

fn output(program: &Path, args: &[&str], cwd: &Path) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn corrected_pynomaly_rules_fire_on_real_exporter_series() {
    let dir = rendered("pynomaly");
    let prometheus = dir.path().join("prometheus");
    std::fs::write(prometheus.join("pynomaly.test.yml"), FIXTURE).unwrap();
    let mut ran = 0;
    for generation in [Generation::Current, Generation::Bookworm] {
        let Some(promtool) = require_consumer(
            generation,
            "promtool",
            "the pynomaly profile's corrected rules (`promtool test rules`)",
        ) else {
            continue;
        };
        let (ok, text) = output(
            &promtool,
            &["test", "rules", "pynomaly.test.yml"],
            &prometheus,
        );
        assert!(
            ok,
            "promtool ({}) test rules failed:\n{text}",
            generation.label()
        );
        assert!(text.contains("SUCCESS"), "{text}");
        ran += 1;
    }
    if ran == 0 {
        common::skipped("no promtool, the corrected rules were not tested");
    }
}

/// The alerts the rules produce, as Prometheus sends them (the external
/// label `cluster` added), posted with amtool; returns each alert's state.
fn states_after_posting(amtool: &Path, url: &str, alerts: &[&[&str]]) -> Vec<(String, String)> {
    for labels in alerts {
        let mut args = vec![url, "alert", "add"];
        args.extend_from_slice(labels);
        let (ok, text) = output(amtool, &args, Path::new("."));
        assert!(ok, "amtool alert add {labels:?}: {text}");
    }
    let (ok, text) = output(
        amtool,
        &[
            url,
            "alert",
            "query",
            "--active",
            "--inhibited",
            "-o",
            "json",
        ],
        Path::new("."),
    );
    assert!(ok, "amtool alert query: {text}");
    let json = text.lines().find(|l| l.starts_with('[')).unwrap_or("[]");
    let found: Vec<Value> = serde_json::from_str(json).expect("amtool prints JSON");
    let mut states: Vec<(String, String)> = found
        .iter()
        .map(|a| {
            (
                format!(
                    "{}/{}",
                    a["labels"]["alertname"].as_str().unwrap_or_default(),
                    a["labels"]["severity"].as_str().unwrap_or_default()
                ),
                a["status"]["state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    states.sort();
    states
}

/// The pynomaly profile rendered with Alertmanager pinned to `version`
/// (edited through the model, as tests/it/render_conformance.rs does).
fn rendered_with_alertmanager(version: &str) -> tempfile::TempDir {
    let profile = stackctl::profiles::find("pynomaly").expect("pynomaly profile");
    let loaded = stackctl::load::load_text("stack.yaml", profile.text.to_string());
    let mut stack = loaded.stack.expect("profile loads");
    stack
        .components
        .alertmanager
        .as_mut()
        .expect("alertmanager")
        .version = Some(stackctl::model::types::Version::parse(version).expect("version"));
    let dir = common::spec_dir(&stackctl::yaml::emit::to_yaml(
        &serde_json::to_value(&stack).expect("model serialises"),
    ));
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "render pynomaly (Alertmanager {version}): {err}");
    dir
}

#[test]
fn pynomaly_inhibit_rule_mutes_the_warning_of_a_critical_alert() {
    let why = "the pynomaly inhibit rule in a real Alertmanager";
    // Today's Alertmanager (0.33) at the profile's version; Debian stable's
    // (0.25, with its amtool) on a spec pinned to 0.25.
    let generations = [
        (Generation::Current, "alertmanager", None),
        (
            Generation::Bookworm,
            "prometheus-alertmanager",
            Some("v0.25.0"),
        ),
    ];
    for (generation, binary, pin) in generations {
        let Some(alertmanager) = require_consumer(generation, binary, why) else {
            continue;
        };
        let Some(amtool) = require_consumer(generation, "amtool", why) else {
            continue;
        };
        let dir = match pin {
            Some(version) => rendered_with_alertmanager(version),
            None => rendered("pynomaly"),
        };
        inhibit_case(&alertmanager, &amtool, dir.path(), generation);
    }
}

fn inhibit_case(alertmanager: &Path, amtool: &Path, dir: &Path, generation: Generation) {
    let run_dir = tempfile::tempdir().unwrap();
    // Bound until the moment Alertmanager starts (see `Reserved`).
    let reserved = reserve_port();
    let port = reserved.port();
    let args = [
        format!(
            "--config.file={}",
            dir.join("alertmanager/alertmanager.yml").display()
        ),
        format!("--storage.path={}", run_dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--cluster.listen-address=".into(),
    ];
    reserved.release();
    let am = Proc::start("alertmanager", alertmanager, &args, run_dir.path());
    wait_ready(port, "/-/ready", Duration::from_secs(20), &am);
    let url = format!("--alertmanager.url=http://127.0.0.1:{port}");
    // The guide's rule compares `alertname`: it can only mute an alert whose
    // name also exists at critical. Take those names from the rendered rules.
    let rules = yaml(
        &std::fs::read_to_string(dir.join("prometheus/rules/alert_rules.yml"))
            .expect("alert rules"),
    );
    let mut by_name: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for group in rules["groups"].as_array().expect("groups") {
        for rule in group["rules"].as_array().expect("rules") {
            by_name
                .entry(rule["alert"].as_str().expect("alert").to_string())
                .or_default()
                .push(
                    rule["labels"]["severity"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
        }
    }
    let tiered: Vec<&String> = by_name
        .iter()
        .filter(|(_, s)| s.iter().any(|s| s == "critical") && s.iter().any(|s| s == "warning"))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        tiered,
        ["APIHighErrorRatio"],
        "alerts at both severities (without one the inhibit rule never mutes anything)"
    );
    // APIHighErrorRatio's labels: `sum by (job)` keeps `job`, Prometheus adds
    // the external label `cluster`; HighCPUUsage (`avg` over everything) has
    // no `job`, and another name: it stays active.
    let states = states_after_posting(
        amtool,
        &url,
        &[
            &[
                "APIHighErrorRatio",
                "severity=critical",
                "job=pynomaly-api",
                "cluster=pynomaly-production",
            ],
            &[
                "APIHighErrorRatio",
                "severity=warning",
                "job=pynomaly-api",
                "cluster=pynomaly-production",
            ],
            &[
                "HighCPUUsage",
                "severity=warning",
                "cluster=pynomaly-production",
            ],
        ],
    );
    let expected: Vec<(String, String)> = [
        ("APIHighErrorRatio/critical", "active"),
        ("APIHighErrorRatio/warning", "suppressed"),
        ("HighCPUUsage/warning", "active"),
    ]
    .iter()
    .map(|(a, s)| (a.to_string(), s.to_string()))
    .collect();
    assert_eq!(
        states,
        expected,
        "{}: alertmanager log:\n{}",
        generation.label(),
        am.log()
    );
}

/// A YAML document read by an independent YAML 1.2 parser (saphyr), as
/// JSON with every scalar a string (enough for names and patterns).
fn yaml(text: &str) -> Value {
    use saphyr::{LoadableYamlNode, Yaml};
    fn conv(y: &Yaml) -> Value {
        match y {
            Yaml::Value(saphyr::Scalar::String(s)) => Value::String(s.to_string()),
            Yaml::Value(other) => Value::String(format!("{other:?}")),
            Yaml::Representation(t, _, _) => Value::String(t.to_string()),
            Yaml::Sequence(items) => items.iter().map(conv).collect(),
            Yaml::Mapping(m) => m
                .iter()
                .map(|(k, v)| (conv(k).as_str().unwrap_or_default().to_string(), conv(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            _ => Value::Null,
        }
    }
    conv(&Yaml::load_from_str(text).expect("YAML parses")[0])
}

/// Go's RE2 and Rust's `regex` agree on these patterns; Prometheus anchors
/// relabel regexes at both ends.
fn anchored(pattern: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?:{pattern})$")).expect("relabel regex compiles")
}

#[test]
fn pynomaly_remote_write_keeps_the_recording_rules_and_app_series() {
    let dir = rendered("pynomaly");
    let config =
        std::fs::read_to_string(dir.path().join("prometheus/prometheus.yml")).expect("config");
    let config = yaml(&config);
    let keep = config["remote_write"][0]["write_relabel_configs"][0]["regex"]
        .as_str()
        .expect("a keep regex");
    let keep = anchored(keep);
    let recording =
        std::fs::read_to_string(dir.path().join("prometheus/rules/recording_rules.yml"))
            .expect("recording rules");
    let recording = yaml(&recording);
    let mut names = Vec::new();
    for group in recording["groups"].as_array().expect("groups") {
        for rule in group["rules"].as_array().expect("rules") {
            names.push(rule["record"].as_str().expect("record").to_string());
        }
    }
    assert_eq!(names.len(), 13, "{names:?}");
    for name in names
        .iter()
        .map(String::as_str)
        .chain(["pynomaly_detections_total", "pynomaly_model_accuracy"])
    {
        assert!(keep.is_match(name), "remote write drops `{name}`");
    }
    for other in ["node_cpu_seconds_total", "http_requests_total", "up"] {
        assert!(!keep.is_match(other), "remote write sends `{other}`");
    }
}

#[test]
fn pynomaly_publishes_jaeger_thrift_http_on_loopback() {
    let Some(compose) = common::compose_v2("the published Jaeger thrift-HTTP port") else {
        return;
    };
    let dir = rendered("pynomaly");
    let (ok, text) = output(
        &compose,
        &[
            "-f",
            "docker-compose.monitoring.yml",
            "config",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(ok, "docker compose config: {text}");
    let start = text.find('{').expect("JSON output");
    let config: Value = serde_json::from_str(&text[start..]).expect("compose prints JSON");
    let ports = config["services"]["jaeger"]["ports"]
        .as_array()
        .expect("jaeger publishes ports");
    let thrift: Vec<&Value> = ports.iter().filter(|p| p["target"] == 14268).collect();
    assert_eq!(thrift.len(), 1, "{ports:?}");
    assert_eq!(thrift[0]["published"], "14268", "{ports:?}");
    assert_eq!(thrift[0]["host_ip"], "127.0.0.1", "{ports:?}");
    // Inside the container the receiver listens on every interface, so the
    // published port reaches it.
    let jaeger =
        std::fs::read_to_string(dir.path().join("jaeger/config.yaml")).expect("jaeger config");
    assert!(jaeger.contains("0.0.0.0:14268"), "{jaeger}");
}

#[test]
fn anomaly_detection_monitors_look_in_the_application_namespace() {
    let dir = init_profile("anomaly-detection");
    let (code, _, err) = run(&[
        "render",
        "--dir",
        path_str(dir.path()),
        "--target",
        "kubernetes",
    ]);
    assert_eq!(code, 0, "{err}");
    let manifests: PathBuf = dir.path().join("kubernetes/manifests");
    let mut monitors = 0;
    for entry in std::fs::read_dir(&manifests).expect("manifests") {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = yaml(&text);
        let kind = doc["kind"].as_str().unwrap_or_default();
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        // The app's two jobs (the exporters' monitors are named after them).
        if !matches!(kind, "ServiceMonitor" | "PodMonitor")
            || !matches!(name, "anomaly-detection" | "anomaly-detection-business")
        {
            continue;
        }
        assert_eq!(
            doc["metadata"]["namespace"].as_str(),
            Some("monitoring"),
            "{text}"
        );
        let names: Vec<&str> = doc["spec"]["namespaceSelector"]["matchNames"]
            .as_array()
            .unwrap_or_else(|| panic!("{} has no namespaceSelector:\n{text}", path.display()))
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(names, ["anomaly-detection"], "{text}");
        monitors += 1;
    }
    assert_eq!(monitors, 2, "a ServiceMonitor and a PodMonitor for the app");
}
