//! The real consumers read strings the way they were meant: a spec whose
//! environment values look like YAML 1.1/1.2 numbers, dates, booleans, null,
//! `=` and `<<`, and whose external label, rule annotation, receiver and
//! datasource texts hold U+2028, U+2029 and NEL, is rendered, then read back
//! by Compose v1 (1.29, PyYAML) and v2 (2.40), promtool (2.42 and 3.5,
//! including `promtool test rules` comparing the annotation), a real
//! Prometheus (its `/api/v1/status/config` shows the external labels it
//! loaded, and no injected `remote_write`) and amtool (0.25 and 0.33).

use crate::common;
use crate::yaml_readers;

use common::{path_str, require_tool, run, tools_required};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const BREAKS: &str = "x\u{2028}remote_write:\u{2028}- url: http://127.0.0.1:1/evil\u{2029}y\u{85}z";

fn env_values() -> Vec<(&'static str, &'static str)> {
    vec![
        ("V_HEX", "0x1F"),
        ("V_OCT", "0o17"),
        ("V_OCT_OLD", "017"),
        ("V_UNDERSCORE", "1_000"),
        ("V_SIGN", "+1"),
        ("V_SEXAGESIMAL", "1:20"),
        ("V_EXP", "1e3"),
        ("V_DOT", ".5"),
        ("V_INF", ".inf"),
        ("V_BOOL", "on"),
        ("V_Y", "y"),
        ("V_NO", "NO"),
        ("V_NULL", "~"),
        ("V_TIMESTAMP", "2026-01-01T10:00:00Z"),
        ("V_DATE", "2026-01-01"),
        ("V_EQ", "="),
        ("V_MERGE", "<<"),
        ("V_BREAKS", BREAKS),
        ("V_SPACES", " lead and trail "),
    ]
}

fn spec() -> String {
    let env: serde_json::Map<String, Value> = env_values()
        .into_iter()
        .map(|(k, v)| (k.into(), json!(v)))
        .collect();
    let stack = json!({
        "stackctl": 1,
        "name": "consumers",
        "secrets": {"grafana_admin_password": {"generate": true}, "grafana_secret_key": {"generate": true}},
        "components": {
            "prometheus": {"version": "v2.42.0", "external_labels": {"team": BREAKS}, "environment": env},
            "alertmanager": {"version": "v0.25.0"},
            "grafana": {},
        },
        "scrape_jobs": [{"name": "api", "targets": ["api:8000"]}],
        "rules": {"alerts": [{"name": "api.alerts", "rules": [{
            "alert": "ApiDown", "expr": "up{job=\"api\"} == 0", "for": "1m",
            "labels": {"severity": "critical"},
            "annotations": {"summary": BREAKS, "value": "0x1F"},
        }]}]},
        "alerting": {
            "smtp": {"smarthost": "mail.example.com:587", "from": "alerts@example.com"},
            "route": {"receiver": "team"},
            "receivers": [{"name": "team", "email": [{"to": "team@example.com", "subject": BREAKS}]}],
        },
        "datasources": [{"name": "Prometheus", "uid": "prom", "type": "prometheus", "default": true}],
        "network": {"external_hosts": {"api": null}},
    });
    stackctl::yaml::emit::to_yaml(&stack)
}

fn rendered() -> tempfile::TempDir {
    let dir = common::spec_dir(&spec());
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    dir
}

/// Today's consumers unpacked by scripts/fetch-consumers.sh.
fn sid(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/consumers/sid/bin")
        .join(name);
    if path.exists() {
        return Some(path);
    }
    assert!(
        !tools_required(),
        "{name} 3.x/v2 is required: run scripts/fetch-consumers.sh"
    );
    common::skipped(format_args!(
        "target/consumers/sid/bin/{name} is missing (scripts/fetch-consumers.sh)"
    ));
    None
}

fn output(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("tool runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const V1_LOADER: &str = r#"
import json, sys
from compose.config import config
from compose.config.environment import Environment
d = sys.argv[1]
cfg = config.load(config.find(d, ["docker-compose.monitoring.yml"], Environment.from_env_file(d)))
print(json.dumps([s for s in cfg.services if s["name"] == "prometheus"][0]["environment"]))
"#;

fn check_environment(env: &Value, who: &str) {
    for (k, v) in env_values() {
        assert_eq!(env[k], json!(v), "{who} read {k} as {}", env[k]);
    }
}

#[test]
fn compose_v1_and_v2_read_every_value_back_as_the_same_string() {
    let dir = rendered();
    let file = dir.path().join("docker-compose.monitoring.yml");
    let mut checked = 0;
    if let Some(v1) = require_tool("docker-compose", "Compose v1 reading the environment") {
        let (ok, _, err) = output(
            Command::new(&v1)
                .arg("-f")
                .arg(&file)
                .args(["config", "-q"])
                .current_dir(dir.path()),
        );
        assert!(ok, "docker-compose 1.29 config failed:\n{err}");
        // What v1 itself loaded, from its own loader in its own interpreter:
        // `config` would print it through PyYAML's dumper, which folds NEL
        // into a space on the way out (a dumper bug, not a reading).
        let script = std::fs::read_to_string(&v1).unwrap_or_default();
        let python = script
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("#!"))
            .unwrap_or("python3")
            .trim()
            .to_string();
        let (ok, out, err) = output(Command::new(python).args(["-c", V1_LOADER]).arg(dir.path()));
        assert!(ok, "Compose v1's loader failed:\n{err}");
        let env: Value = serde_json::from_str(&out).expect("the loader prints JSON");
        check_environment(&env, "Compose v1");
        checked += 1;
    }
    if let Some(v2) = sid("docker-compose") {
        let (ok, out, err) = output(
            Command::new(v2)
                .arg("-f")
                .arg(&file)
                .args(["config", "--format", "json"])
                .current_dir(dir.path()),
        );
        assert!(ok, "docker-compose 2.40 config failed:\n{err}");
        let doc: Value = serde_json::from_str(&out).expect("v2 prints JSON");
        check_environment(&doc["services"]["prometheus"]["environment"], "Compose v2");
        checked += 1;
    }
    println!(
        "{} values read back identically by {checked} Compose generation(s)",
        env_values().len()
    );
}

#[test]
fn promtool_and_amtool_accept_and_promtool_test_reads_the_same_annotation() {
    let dir = rendered();
    // A rule unit test: the alert must fire with exactly the annotation text.
    let test = json!({
        "rule_files": ["rules/alerts.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": "up{job=\"api\", instance=\"api:8000\"}", "values": "0x5"}],
            "alert_rule_test": [{"eval_time": "3m", "alertname": "ApiDown", "exp_alerts": [{
                "exp_labels": {"severity": "critical", "job": "api", "instance": "api:8000"},
                "exp_annotations": {"summary": BREAKS, "value": "0x1F"},
            }]}],
        }],
    });
    // Written as JSON (which YAML readers read), not through the emitter under
    // test: the expected text must not share the emitter's mistakes.
    // JSON leaves NEL and U+2028 raw, and YAML readers fold a raw NEL in a
    // quoted string; every non-ASCII character is therefore escaped.
    let ascii: String = test
        .to_string()
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                c.encode_utf16(&mut [0; 2])
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            }
        })
        .collect();
    std::fs::write(dir.path().join("prometheus/test.yml"), ascii).unwrap();
    let mut tools = Vec::new();
    tools.extend(require_tool("promtool", "rule files").map(|p| ("promtool 2.42", p)));
    tools.extend(sid("promtool").map(|p| ("promtool 3.5", p)));
    for (name, promtool) in &tools {
        let prom = dir.path().join("prometheus");
        let (ok, out, err) = output(
            Command::new(promtool)
                .args(["check", "config", "prometheus.yml"])
                .current_dir(&prom),
        );
        assert!(ok, "{name} check config:\n{out}{err}");
        let (ok, out, err) = output(
            Command::new(promtool)
                .args(["test", "rules", "test.yml"])
                .current_dir(&prom),
        );
        assert!(
            ok,
            "{name} test rules (the annotation read back differs):\n{out}{err}"
        );
    }
    let mut amtools = Vec::new();
    amtools.extend(require_tool("amtool", "Alertmanager config").map(|p| ("amtool 0.25", p)));
    amtools.extend(sid("amtool").map(|p| ("amtool 0.33", p)));
    for (name, amtool) in &amtools {
        let (ok, out, err) = output(
            Command::new(amtool)
                .args(["check-config", "alertmanager/alertmanager.yml"])
                .current_dir(dir.path()),
        );
        assert!(ok, "{name}:\n{out}{err}");
    }
    println!(
        "{} promtool and {} amtool generations accepted the files",
        tools.len(),
        amtools.len()
    );
}

#[test]
fn prometheus_loads_the_external_label_and_no_injected_remote_write() {
    let Some(prometheus) = sid("prometheus") else {
        return;
    };
    let dir = rendered();
    // Bound until the moment the process starts (see `Reserved`).
    let reserved = crate::support::reserve_port();
    let port = reserved.port();
    let data = tempfile::tempdir().unwrap();
    reserved.release();
    let mut child = Command::new(prometheus)
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus/prometheus.yml").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--storage.tsdb.path={}", data.path().display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut config = None;
    for _ in 0..100 {
        if let Ok(out) = Command::new("curl")
            .args([
                "-fsS",
                &format!("http://127.0.0.1:{port}/api/v1/status/config"),
            ])
            .output()
        {
            if out.status.success() {
                config = Some(String::from_utf8_lossy(&out.stdout).into_owned());
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let body: Value = serde_json::from_str(&config.expect("prometheus answered")).unwrap();
    let yaml = body["data"]["yaml"].as_str().unwrap();
    let loaded = &yaml_readers::saphyr_docs(yaml).unwrap()[0];
    assert_eq!(
        loaded["global"]["external_labels"]["team"],
        json!(BREAKS),
        "{yaml}"
    );
    assert!(
        loaded.get("remote_write").is_none(),
        "an injected remote_write was loaded:\n{yaml}"
    );
}
