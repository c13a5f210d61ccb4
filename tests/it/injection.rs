//! User text is data, never syntax: issue 9, items 6, 8, 9 and 17.
//!
//! - U+2028, U+2029, NEL and CR-LF appended to EVERY string field of the
//!   shipped specs (one field at a time): whatever validate accepts renders
//!   YAML (compose and Kubernetes trees) in which no key was injected and that
//!   saphyr (YAML 1.2) and PyYAML (YAML 1.1) read identically.
//! - Line breaks and control characters in keys and names are errors with a
//!   position, and render writes nothing.
//! - The Alloy comment injection of the issue is refused.
//! - Inline credentials are warned about at each of their placements.

use crate::common;
use crate::yaml_readers;

use common::{path_str, run, spec_dir};
use serde_json::Value;
use stackctl::yaml::emit::to_yaml;
use std::collections::{BTreeMap, BTreeSet};

const PAYLOAD: &str =
    "\u{2028}injected_a: 1\u{2029}injected_b: 2\u{85}injected_c: 3\r\ninjected_d: 4\ninjected_e: 5";

/// Every string leaf of `value` with its path (list indexes as numbers).
fn string_leaves(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                path.push(k.clone());
                string_leaves(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(i.to_string());
                string_leaves(v, path, out);
                path.pop();
            }
        }
        Value::String(_) => out.push(path.clone()),
        _ => {}
    }
}

fn leaf_mut<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, seg| match v {
        Value::Array(items) => &mut items[seg.parse::<usize>().unwrap()],
        Value::Object(map) => map.get_mut(seg).unwrap(),
        _ => unreachable!(),
    })
}

/// `rules.alerts.0.rules.3.annotations.summary` → `rules.*.*.rules.*.annotations.summary`,
/// so one field is mutated once, not once per list item.
fn shape(path: &[String]) -> String {
    path.iter()
        .enumerate()
        .map(|(i, s)| {
            // Map keys chosen by the user (rule files, env names) also collapse.
            let user_key = i > 0
                && matches!(
                    path[i - 1].as_str(),
                    "rules"
                        | "secrets"
                        | "environment"
                        | "labels"
                        | "annotations"
                        | "external_labels"
                        | "pipelines"
                        | "params"
                        | "modules"
                        | "selector"
                        | "external_hosts"
                        | "expressions"
                        | "ports"
                );
            if s.parse::<usize>().is_ok()
                || (user_key && i + 1 < path.len() && path[i - 1] == "rules")
            {
                "*".to_string()
            } else {
                s.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn any_injected_key(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| {
            k.contains("injected_") && !k.contains('\u{2028}') || any_injected_key(v)
        }),
        Value::Array(items) => items.iter().any(any_injected_key),
        _ => false,
    }
}

fn holds_payload(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains(PAYLOAD),
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| k.contains(PAYLOAD) || holds_payload(v)),
        Value::Array(items) => items.iter().any(holds_payload),
        _ => false,
    }
}

fn trees(stack: &stackctl::model::Stack, dir: &std::path::Path) -> BTreeMap<String, String> {
    let stack = &stackctl::resolve::Resolved::check(stack.clone()).expect("spec resolves");
    let inputs = stackctl::commands::render::read_inputs(stack, dir).expect("inputs");
    let deployment = stackctl::plan::plan(stack, &inputs);
    let mut all: BTreeMap<String, String> = stackctl::render::compose_tree(&deployment)
        .into_iter()
        .map(|(k, v)| (format!("compose/{k}"), v))
        .collect();
    if let Ok((k8s, _)) = stackctl::render::kubernetes::tree(
        stack,
        &deployment,
        &stackctl::render::kubernetes::Options {
            namespace: None,
            release: None,
        },
    ) {
        all.extend(k8s.into_iter().map(|(k, v)| (format!("kubernetes/{k}"), v)));
    }
    all.retain(|k, _| k.ends_with(".yml") || k.ends_with(".yaml"));
    all
}

#[test]
fn line_breaks_in_every_string_field_never_inject_a_key() {
    let start = std::time::Instant::now();
    let (mut fields, mut accepted, mut reached) = (0, 0, BTreeSet::new());
    let mut failures = Vec::new();
    let mut for_pyyaml: Vec<(String, String, Value)> = Vec::new();
    // A field shape is mutated once, in the first spec that has it.
    let mut shapes = BTreeSet::new();
    for (label, text, dir) in common::shipped_specs() {
        if !matches!(
            label.as_str(),
            "example-team-api-elk"
                | "example-team-api"
                | "profile-pynomaly"
                | "profile-mlops-platform"
        ) {
            continue;
        }
        let base = stackctl::load::load_text("stack.yaml", text)
            .stack
            .expect("loads");
        let base_trees = trees(&base, &dir);
        let value = serde_json::to_value(&base).unwrap();
        let mut leaves = Vec::new();
        string_leaves(&value, &mut Vec::new(), &mut leaves);
        for leaf in leaves {
            if !shapes.insert(shape(&leaf)) {
                continue;
            }
            fields += 1;
            let mut mutated = value.clone();
            let v = leaf_mut(&mut mutated, &leaf);
            *v = Value::String(format!("{}{PAYLOAD}", v.as_str().unwrap()));
            let loaded = stackctl::load::load_text("stack.yaml", to_yaml(&mutated));
            if loaded.has_errors() {
                continue;
            }
            accepted += 1;
            let stack = loaded.stack.unwrap();
            for (file, text) in trees(&stack, &dir) {
                if base_trees.get(&file) == Some(&text) {
                    continue;
                }
                let at = format!("{label}: `{}` → {file}", leaf.join("."));
                match yaml_readers::saphyr_docs(&text) {
                    Ok(docs) => {
                        if docs.iter().any(any_injected_key) {
                            failures.push(format!("{at}: saphyr reads an injected key"));
                        }
                        if docs.iter().any(holds_payload) {
                            reached.insert(leaf.join("."));
                        }
                        for_pyyaml.push((at, text, Value::Array(docs)));
                    }
                    Err(e) => failures.push(format!("{at}: saphyr cannot read it: {e}")),
                }
            }
        }
    }
    let mut pyyaml = "not checked";
    if yaml_readers::pyyaml_available() {
        pyyaml = "checked";
        let texts: Vec<String> = for_pyyaml.iter().map(|(_, t, _)| t.clone()).collect();
        for ((at, _, saphyr), read) in for_pyyaml
            .iter()
            .zip(yaml_readers::pyyaml_docs_fast(&texts))
        {
            match read {
                Ok(docs) if Value::Array(docs.clone()) == *saphyr => {}
                Ok(_) => failures.push(format!("{at}: PyYAML and saphyr read different values")),
                Err(e) => failures.push(format!("{at}: PyYAML cannot read it: {e}")),
            }
        }
    }
    println!(
        "{fields} string fields mutated, {accepted} accepted by validate, {} reached a YAML file verbatim, {} files read (PyYAML {pyyaml}), {:.1}s",
        reached.len(),
        for_pyyaml.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        reached.len() >= 20,
        "too few fields reached the output: {reached:?}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(15)].join("\n")
    );
}

const BASE: &str = include_str!("../fixtures/good-base.yaml");

/// Validates `spec` (JSON findings) and renders it: (exit of validate, findings, files after render).
fn validate_and_render(spec: &str) -> (i32, Vec<Value>, Vec<String>) {
    let dir = spec_dir(spec);
    let (code, out, err) = run(&[
        "validate",
        "--dir",
        path_str(dir.path()),
        "--format",
        "json",
    ]);
    let findings: Vec<Value> =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let (render_code, _, _) = run(&["render", "--dir", path_str(dir.path())]);
    assert_ne!(
        render_code, 0,
        "render accepted a spec that validate rejects"
    );
    (code, findings, common::list_files(dir.path()))
}

/// (line, column) of the first occurrence of `marker` in `text`, 1-based.
fn position(text: &str, marker: &str) -> (u64, u64) {
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker}"));
    ((n + 1) as u64, (line.find(marker).unwrap() + 1) as u64)
}

fn has_error_at(findings: &[Value], line: u64, col: u64, needle: &str) -> bool {
    findings.iter().any(|f| {
        f["severity"] == "error"
            && f["line"] == line
            && f["column"] == col
            && f["message"].as_str().unwrap_or("").contains(needle)
    })
}

#[test]
fn control_characters_in_keys_and_names_are_errors_with_a_position() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            BASE.replace(
                "    scrape_interval: 15s\n",
                "    scrape_interval: 15s\n    environment:\n      \"API\\nKEY\": x\n",
            ),
            "\"API\\nKEY\"",
            "U+000A (line feed)",
        ),
        (
            BASE.replace(
                "    scrape_interval: 15s\n",
                "    scrape_interval: 15s\n    environment:\n      \"A\\u2028B\": x\n",
            ),
            "\"A\\u2028B\"",
            "U+2028",
        ),
        (
            BASE.replace(
                "    scrape_interval: 15s\n",
                "    scrape_interval: 15s\n    environment:\n      \"A=B\": x\n",
            ),
            "\"A=B\"",
            "invalid environment variable name",
        ),
        (
            format!("{BASE}  attach: [\"backend\\nnetworks:\"]\n"),
            "\"backend\\nnetworks:\"",
            "U+000A",
        ),
        (
            BASE.replace("  - name: api\n", "  - name: \"api\\u0085x\"\n"),
            "\"api\\u0085x\"",
            "U+0085",
        ),
        (
            BASE.replace(
                "    targets: [\"api:8000\"]\n",
                "    targets: [\"api:8000\"]\n    labels:\n      \"team\\r\": x\n",
            ),
            "\"team\\r\"",
            "",
        ),
        (
            BASE.replace(
                "        - alert: ApiDown\n",
                "        - alert: \"ApiDown\\u2029\"\n",
            ),
            "\"ApiDown\\u2029\"",
            "",
        ),
    ];
    for (spec, marker, needle) in &cases {
        let (code, findings, files) = validate_and_render(spec);
        let (line, col) = position(spec, marker);
        assert_eq!(code, 1, "{marker}: {findings:?}");
        assert!(
            has_error_at(&findings, line, col, needle),
            "{marker}: no error at {line}:{col} with `{needle}`: {findings:#?}"
        );
        assert_eq!(files, vec!["stack.yaml"], "render wrote files for {marker}");
    }
}

#[test]
fn a_log_source_name_cannot_inject_alloy_components() {
    let spec = format!(
        "{}logs:\n  sources:\n    - name: \"app\\nlocal.file \\\"x\\\" {{ filename = \\\"/etc/shadow\\\" }}\"\n      docker: true\n",
        BASE.replace(
            "  node_exporter: {}\n",
            "  node_exporter: {}\n  loki: {}\n  alloy: {}\n"
        )
    );
    let (code, findings, files) = validate_and_render(&spec);
    let (line, _) = position(&spec, "- name: \"app");
    let col = 7;
    assert_eq!(code, 1);
    assert!(
        has_error_at(&findings, line, col + 6, "U+000A"),
        "{findings:#?}"
    );
    assert_eq!(files, vec!["stack.yaml"]);
}

#[test]
fn inline_credentials_are_warned_about_where_they_are_written() {
    let spec = r#"stackctl: 1
name: fixture
secrets:
  grafana_admin_password: {generate: true}
  grafana_secret_key: {generate: true}
components:
  prometheus:
    environment:
      API_TOKEN: tok-8
  alertmanager: {}
  grafana:
    environment:
      GF_DATABASE_PASSWORD: pass-7
  node_exporter:
    extra_args: ["--collector.textfile.password=pass-9", "--api-key", "key-10"]
  blackbox_exporter: {}
  postgres_exporter:
    environment:
      DATA_SOURCE_NAME: "postgresql://u:pass-11@db:5432/x"
      PG_OPTIONS: "host=db password=pass-17"
  redis_exporter:
    address: "redis://:pass-12@redis:6379"
  nginx_exporter:
    scrape_uri: "http://u:pass-13@nginx:8080/stub_status"
scrape_jobs:
  - name: api
    targets: ["api:8000"]
    metrics_path: "/metrics?apikey=tok-16"
    params:
      token: [tok-14]
probes:
  - name: health
    module: http_2xx
    targets: ["http://u:pass-15@api:8000/healthz"]
remote_write:
  - url: "https://user:pass-1@rw.example.com/api/v1/write"
  - url: "https://rw.example.com/api/v1/write?access_token=tok-2"
datasources:
  - name: Prometheus
    uid: prom
    type: prometheus
    url: "http://admin:pass-5@prometheus:9090"
    default: true
  - name: Other
    uid: other
    type: prometheus
    url: "http://prometheus:9090/?key=tok-6"
alerting:
  route:
    receiver: team
  receivers:
    - name: team
      webhook:
        - url: "http://u:pass-3@hooks.example.com/alert"
        - url: "http://hooks.example.com/alert?token=tok-4"
network:
  external_hosts:
    api:
    nginx:
    redis:
    db:
"#;
    let dir = spec_dir(spec);
    let (_, out, err) = run(&[
        "validate",
        "--dir",
        path_str(dir.path()),
        "--format",
        "json",
    ]);
    let findings: Vec<Value> =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let warned: Vec<&Value> = findings
        .iter()
        .filter(|f| f["code"] == "credentials")
        .collect();
    let mut missing = Vec::new();
    for n in 1..=17 {
        let marker = if spec.contains(&format!("pass-{n}")) {
            format!("pass-{n}")
        } else if spec.contains(&format!("tok-{n}")) {
            format!("tok-{n}")
        } else {
            format!("key-{n}")
        };
        let (line, _) = position(spec, &marker);
        if !warned.iter().any(|f| {
            f["severity"] == "warning"
                && f["line"] == line
                && !f["hint"].as_str().unwrap_or("").is_empty()
        }) {
            missing.push(format!("{marker} (line {line})"));
        }
    }
    println!("{} credential warnings for 17 placements", warned.len());
    assert!(
        missing.is_empty(),
        "no warning for {missing:?}\n{warned:#?}\n{err}"
    );
    // No warning names the secret itself.
    for f in &warned {
        assert!(!f["message"].as_str().unwrap().contains("pass-"), "{f}");
    }
}

#[test]
fn redis_exporter_reads_its_password_from_a_secret_file() {
    let spec = BASE
        .replace("  grafana_secret_key: {generate: true}\n", "  grafana_secret_key: {generate: true}\n  redis_password: {}\n")
        .replace("  node_exporter: {}\n", "  node_exporter: {}\n  redis_exporter:\n    address: redis://redis:6379\n    password_secret: redis_password\n")
        + "    redis:\n";
    let dir = spec_dir(&spec);
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(
        dir.path().join("secrets/redis_password"),
        r#"{"redis://redis:6379": "s3cret\"pw"}"#,
    )
    .unwrap();
    let (code, _, err) = run(&["render", "--dir", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    let compose =
        std::fs::read_to_string(dir.path().join("docker-compose.monitoring.yml")).unwrap();
    let doc = &yaml_readers::saphyr_docs(&compose).unwrap()[0];
    let service = &doc["services"]["redis-exporter"];
    let command: Vec<&str> = service["command"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        command.contains(&"--redis.password-file=/run/secrets/redis_password"),
        "{command:?}"
    );
    // The secret reaches the exporter through its secrets volume, filled by
    // the `secrets-init` job.
    assert!(
        service["volumes"]
            .to_string()
            .contains("redis_exporter_secrets:/run/secrets:ro"),
        "{service}"
    );
    let init = &doc["services"]["secrets-init"];
    assert!(
        init["command"].to_string().contains("redis_password"),
        "{init}"
    );
    assert!(!compose.contains("s3cret"));
    // The pinned exporter's flag and file format, checked on the real binary.
    let exporter = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/consumers/sid/bin/redis-exporter");
    if !exporter.exists() {
        assert!(
            !common::tools_required(),
            "redis-exporter is required: run scripts/fetch-consumers.sh"
        );
        common::skipped(
            "target/consumers/sid/bin/redis-exporter is missing; the password file was not read by the real exporter",
        );
        return;
    }
    // Bound until the moment the process starts (see `Reserved`).
    let reserved = crate::support::reserve_port();
    let port = reserved.port();
    reserved.release();
    let mut child = std::process::Command::new(&exporter)
        .arg(format!(
            "--redis.password-file={}",
            dir.path().join("secrets/redis_password").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("Loaded 1 entries"), "{log}");
}
